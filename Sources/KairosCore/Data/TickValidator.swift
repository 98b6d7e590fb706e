/// Why a tick was refused before the features saw it.
public enum TickRejection: Int, CaseIterable, Sendable, CustomStringConvertible {
    case unknownInstrument = 0
    case nonFinitePrice
    case nonPositivePrice
    case crossedQuote
    case timestampBackwards

    public var description: String {
        switch self {
        case .unknownInstrument: "unknown_instrument"
        case .nonFinitePrice: "non_finite_price"
        case .nonPositivePrice: "non_positive_price"
        case .crossedQuote: "crossed_quote"
        case .timestampBackwards: "timestamp_backwards"
        }
    }
}

/// Screens every tick before it reaches the features: NaN or infinite prices, zero or negative
/// prices, crossed quotes (bid > ask; a locked quote bid == ask is accepted), exchange timestamps
/// going backwards for an instrument, and instrument ids outside the configured universe.
///
/// Implementation Notes
/// - O(1) per tick, no allocation: per-instrument last timestamps and the per-reason counters are
///   arrays sized at init.
/// - Rejected ticks do not advance the per-instrument timestamp, so one bad timestamp cannot lock
///   out the good ticks that follow it.
/// - A `last` of 0 means "no trade price" and is allowed; a non-zero `last` must be finite and > 0.
public struct TickValidator: Sendable {
    public let instrumentCount: Int
    @usableFromInline var lastExchangeTime: [Int64]
    @usableFromInline var rejections: [UInt64]
    public private(set) var accepted: UInt64 = 0

    public init(instrumentCount: Int) {
        self.instrumentCount = instrumentCount
        lastExchangeTime = [Int64](repeating: .min, count: instrumentCount)
        rejections = [UInt64](repeating: 0, count: TickRejection.allCases.count)
    }

    /// `nil` when the tick is good (and then records its timestamp), else the reason, counted.
    public mutating func validate(_ tick: Tick) -> TickRejection? {
        let reason = Self.check(tick, instrumentCount: instrumentCount, lastTime: lastExchangeTime)
        if let reason {
            rejections[reason.rawValue] &+= 1
            return reason
        }
        lastExchangeTime[Int(tick.instrument)] = tick.ts_exchange_ns
        accepted &+= 1
        return nil
    }

    static func check(_ t: Tick, instrumentCount: Int, lastTime: [Int64]) -> TickRejection? {
        let i = Int(t.instrument)
        guard i < instrumentCount else { return .unknownInstrument }
        guard t.bid.isFinite, t.ask.isFinite, t.last.isFinite else { return .nonFinitePrice }
        guard t.bid > 0, t.ask > 0, t.last >= 0 else { return .nonPositivePrice }
        guard t.bid <= t.ask else { return .crossedQuote }
        guard t.ts_exchange_ns >= lastTime[i] else { return .timestampBackwards }
        return nil
    }

    public func count(_ reason: TickRejection) -> UInt64 { rejections[reason.rawValue] }
    public var totalRejected: UInt64 { rejections.reduce(0, +) }
}
