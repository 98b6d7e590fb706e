/// A state change of the engine, in the order it happened. A later journal persists these so a
/// restart can rebuild state; today they feed the demo's event pane and the tests.
public enum EngineEvent: Sendable {
    case orderSent(Order)
    case orderRejected(OrderIntent, RiskRejection, at: Int64)
    case execution(ExecutionReport)
    case tickRejected(Tick, TickRejection)
    case circuitBreakerTripped(drawdown: Double, equity: Double, at: Int64)
    case outboundFull(OrderIntent, at: Int64)
}

/// Receives engine events on the engine thread. Implementations must be quick and must not block;
/// they are called only on order-level events (and rejected ticks), never once per good tick.
public protocol EngineEventSink: AnyObject {
    func record(_ event: EngineEvent)
}

/// Keeps the most recent events in a bounded buffer (allocated once) and counts them by kind.
///
/// Not thread-safe: read it from the engine thread, or after the engine has stopped.
public final class RecentEvents: EngineEventSink {
    public private(set) var events: [EngineEvent] = []
    public let capacity: Int
    private var next = 0
    public private(set) var total: UInt64 = 0

    public init(capacity: Int = 1024) {
        self.capacity = capacity
        events.reserveCapacity(capacity)
    }

    public func record(_ event: EngineEvent) {
        total &+= 1
        if events.count < capacity {
            events.append(event)
        } else {
            events[next] = event
            next = (next + 1) % capacity
        }
    }

    /// Oldest first.
    public var ordered: [EngineEvent] {
        events.count < capacity ? events : Array(events[next...] + events[..<next])
    }
}
