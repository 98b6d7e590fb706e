import Metrics
import Synchronization

/// A copy of the engine's state for other threads (UI, metrics, tests).
public struct EngineSnapshot: Sendable {
    public var time: Int64
    public var policy: String
    public var counters: EngineCounters
    public var positions: [Position]
    public var symbols: [String]
    public var equity: Double
    public var initialCapital: Double
    public var cash: Double
    public var realizedPnL: Double
    public var unrealizedPnL: Double
    public var fees: Double
    public var drawdown: Double
    public var maxDrawdown: Double
    public var grossExposure: Double
    public var breakerTripped: Bool
    public var killSwitch: Bool
    public var decisionLatency: LatencySummary
    public var orderLatency: LatencySummary
    public var inboundDepth: Int
    public var inboundDrops: UInt64
    /// Sequence tracking over every publisher: ticks lost on the way (gaps, and those sent before
    /// this engine first heard from a publisher), duplicates, out-of-order.
    public var sequences: SequenceStats = SequenceStats()
    /// Per instrument, the regime estimate after its latest bar (nil without a detector or
    /// before its second bar).
    public var regimes: [RegimeEstimate?] = []

    /// Ticks the engine should have had and did not: sequence gaps plus what publishers sent
    /// before this engine first heard from them, plus ticks the inbound ring had no room for.
    public var ticksLost: UInt64 { sequences.lost &+ inboundDrops }

    public var pnl: Double { equity - initialCapital }
}

/// Where the engine thread publishes snapshots and other threads read them.
///
/// The engine publishes at most every `snapshotIntervalNs` (100 ms by default), so a `Mutex` is
/// fine here: it is never taken on the per-tick path. Publishing also forwards counter deltas and
/// gauges to swift-metrics (whatever backend `MetricsSystem` was bootstrapped with), which keeps
/// metric updates off the hot path too.
public final class EngineMonitor: Sendable {
    private let latest = Mutex<EngineSnapshot?>(nil)
    private let metrics: EngineMetrics

    public init(metricsPrefix: String = "kairos") {
        metrics = EngineMetrics(prefix: metricsPrefix)
    }

    public func publish(_ snapshot: EngineSnapshot) {
        let previous = latest.withLock { slot -> EngineSnapshot? in
            let p = slot
            slot = snapshot
            return p
        }
        metrics.record(snapshot, previous: previous)
    }

    public var snapshot: EngineSnapshot? { latest.withLock { $0 } }
}

/// swift-metrics handles, created once. Counters receive deltas between snapshots.
final class EngineMetrics: Sendable {
    let ticksAccepted: Counter
    let ticksRejected: [Counter]
    let ordersSent: Counter
    let ordersRejected: [Counter]
    let fills: Counter
    let outboundFull: Counter
    let breakerTrips: Counter
    let equity: Gauge
    let drawdown: Gauge
    let gross: Gauge
    let decisionP50: Gauge
    let decisionP99: Gauge
    let decisionP999: Gauge
    let inboundDepth: Gauge
    let inboundDrops: Gauge

    init(prefix p: String) {
        ticksAccepted = Counter(label: "\(p)_ticks_accepted_total")
        ticksRejected = TickRejection.allCases.map {
            Counter(label: "\(p)_ticks_rejected_total", dimensions: [("reason", $0.description)])
        }
        ordersSent = Counter(label: "\(p)_orders_sent_total")
        ordersRejected = RiskRejection.allCases.map {
            Counter(label: "\(p)_orders_rejected_total", dimensions: [("reason", $0.description)])
        }
        fills = Counter(label: "\(p)_fills_total")
        outboundFull = Counter(label: "\(p)_outbound_full_total")
        breakerTrips = Counter(label: "\(p)_circuit_breaker_trips_total")
        equity = Gauge(label: "\(p)_equity")
        drawdown = Gauge(label: "\(p)_drawdown_ratio")
        gross = Gauge(label: "\(p)_gross_exposure")
        decisionP50 = Gauge(label: "\(p)_decision_latency_ns", dimensions: [("quantile", "0.5")])
        decisionP99 = Gauge(label: "\(p)_decision_latency_ns", dimensions: [("quantile", "0.99")])
        decisionP999 = Gauge(label: "\(p)_decision_latency_ns", dimensions: [("quantile", "0.999")])
        inboundDepth = Gauge(label: "\(p)_inbound_ring_depth")
        inboundDrops = Gauge(label: "\(p)_inbound_ring_drops")
    }

    func record(_ s: EngineSnapshot, previous: EngineSnapshot?) {
        let c = s.counters
        let o = previous?.counters ?? EngineCounters()
        func delta(_ a: UInt64, _ b: UInt64) -> Int64 { Int64(a >= b ? a - b : 0) }
        ticksAccepted.increment(by: delta(c.ticksAccepted, o.ticksAccepted))
        for k in ticksRejected.indices { ticksRejected[k].increment(by: delta(c.ticksRejected[k], o.ticksRejected[k])) }
        ordersSent.increment(by: delta(c.ordersSent, o.ordersSent))
        for k in ordersRejected.indices {
            ordersRejected[k].increment(by: delta(c.ordersRejected[k], o.ordersRejected[k]))
        }
        fills.increment(by: delta(c.fills, o.fills))
        outboundFull.increment(by: delta(c.outboundFull, o.outboundFull))
        breakerTrips.increment(by: delta(c.breakerTrips, o.breakerTrips))
        equity.record(s.equity)
        drawdown.record(s.drawdown)
        gross.record(s.grossExposure)
        decisionP50.record(Double(s.decisionLatency.p50))
        decisionP99.record(Double(s.decisionLatency.p99))
        decisionP999.record(Double(s.decisionLatency.p999))
        inboundDepth.record(Double(s.inboundDepth))
        inboundDrops.record(Double(s.inboundDrops))
    }
}
