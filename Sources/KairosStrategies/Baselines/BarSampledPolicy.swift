import KairosCore

/// Runs an inner policy on bars instead of ticks: the inner policy is asked only on the first
/// tick of each new bar of `barIntervalNs` (by exchange time) per instrument, so a bar-based rule
/// such as SMA(10/30) means "10 and 30 bars", not "10 and 30 ticks". Between bar boundaries it
/// holds (returns nil).
///
/// Implementation Notes: one `Int64` per instrument (the current bar number), sized at init; O(1)
/// per tick, no allocation.
public struct BarSampledPolicy<Inner: DecisionPolicy>: DecisionPolicy {
    public var inner: Inner
    public let barIntervalNs: Int64
    private var currentBar: [Int64]

    public init(_ inner: Inner, barIntervalNs: Int64, instruments: Int) {
        precondition(barIntervalNs > 0 && instruments >= 1)
        self.inner = inner
        self.barIntervalNs = barIntervalNs
        currentBar = Array(repeating: .min, count: instruments)
    }

    public var name: String { "\(inner.name)@\(Self.format(barIntervalNs))" }

    public mutating func decide(_ context: DecisionContext) -> Double? {
        let i = context.instrument.index
        guard i < currentBar.count else { return nil }
        let bar = context.tick.ts_exchange_ns / barIntervalNs
        guard bar > currentBar[i] else { return nil }
        currentBar[i] = bar
        return inner.decide(context)
    }

    static func format(_ ns: Int64) -> String {
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        return "\(ns)ns"
    }
}

extension BarSampledPolicy: Sendable where Inner: Sendable {}
