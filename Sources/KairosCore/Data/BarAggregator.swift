// The one bar aggregator: the engine's data stage builds each instrument's bars with it, and the
// offline paths (training datasets, synthetic bars) run the same code over a whole tick stream,
// so a model trained on bars sees in the engine exactly the inputs it was trained on.

/// When a bar closes.
public enum BarRule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Every `n` ticks of the instrument; the bar closes on its n-th tick (no bar of delay: the
    /// engine acts at that tick's price, the close). `.ticks(1)`: every tick is a bar (daily
    /// data replayed one tick per bar, the synthetic market the agents were trained on).
    case ticks(Int)
    /// Intervals of exchange time `[k·ns, (k+1)·ns)`; the bar of interval k closes on the first
    /// tick of a later interval (only then is it known to be over), and that tick opens the next
    /// bar. The closed bar is reported on that tick, so a decision on it is made at that tick.
    case interval(ns: Int64)

    public var description: String {
        switch self {
        case .ticks(let n): n == 1 ? "every tick" : "\(n) ticks"
        case .interval(let ns): ns % 1_000_000_000 == 0 ? "\(ns / 1_000_000_000) s" : "\(Double(ns) / 1e6) ms"
        }
    }

    /// Whether the rule can be used (positive count or interval).
    public var isValid: Bool {
        switch self {
        case .ticks(let n): n >= 1
        case .interval(let ns): ns > 0
        }
    }
}

/// Aggregates one instrument's ticks into OHLCV bars by mid price.
///
/// open = the previous bar's close (the first bar's first mid), high / low = the extremes of open
/// and every mid in the bar, close = the last mid, volume = Σ last_size, timestamp = the exchange
/// time of the bar's last tick.
///
/// Implementation Notes: O(1) per tick, no allocation; `bars(of:)` runs the same `add` over a
/// whole stream, so online and offline bars are equal bit for bit (tested).
public struct BarAggregator: Sendable {
    public let rule: BarRule
    private var count = 0
    private var open = 0.0, high = 0.0, low = 0.0, close = 0.0, volume = 0.0
    private var lastTimestamp: Int64 = 0
    private var interval: Int64 = 0
    private var previousClose: Double? = nil
    /// Bars closed so far.
    public private(set) var closed: UInt64 = 0

    public init(rule: BarRule) {
        precondition(rule.isValid, "a bar rule needs a positive tick count or interval")
        self.rule = rule
    }

    public init(ticksPerBar: Int) { self.init(rule: .ticks(ticksPerBar)) }

    /// Ticks per bar of a `.ticks` rule (1 for interval bars, which have no fixed count).
    public var ticksPerBar: Int { if case .ticks(let n) = rule { n } else { 1 } }

    /// Feeds one tick; returns the bar it closes, if any. Ticks without a positive finite mid are
    /// ignored (the engine validates ticks before they get here).
    public mutating func add(_ tick: Tick) -> Bar? {
        let mid = (tick.bid + tick.ask) * 0.5
        guard mid.isFinite, mid > 0 else { return nil }
        let size = tick.last_size.isFinite && tick.last_size > 0 ? Double(tick.last_size) : 0
        switch rule {
        case .ticks(let n):
            accumulate(mid: mid, size: size, timestamp: tick.ts_exchange_ns)
            guard count == n else { return nil }
            return finish()
        case .interval(let ns):
            let k = tick.ts_exchange_ns >= 0 ? tick.ts_exchange_ns / ns : (tick.ts_exchange_ns + 1) / ns - 1
            var done: Bar? = nil
            if count > 0 && k > interval { done = finish() }
            if count == 0 { interval = k }
            accumulate(mid: mid, size: size, timestamp: tick.ts_exchange_ns)
            return done
        }
    }

    private mutating func accumulate(mid: Double, size: Double, timestamp: Int64) {
        if count == 0 {
            open = previousClose ?? mid
            high = max(open, mid)
            low = min(open, mid)
            volume = 0
        } else {
            high = max(high, mid)
            low = min(low, mid)
        }
        close = mid
        volume += size
        lastTimestamp = timestamp
        count += 1
    }

    private mutating func finish() -> Bar {
        count = 0
        previousClose = close
        closed &+= 1
        return Bar(timestamp: lastTimestamp, open: open, high: high, low: low, close: close, volume: volume)
    }

    /// The bars of `instrument` in a tick stream (other instruments' ticks are skipped), with the
    /// value `label` returned for the closing tick of each bar (e.g. the synthetic market's true
    /// regime).
    public static func bars<S: TickSource, L>(
        of source: inout S, instrument: InstrumentID, ticksPerBar: Int, label: (S) -> L
    ) -> (bars: [Bar], labels: [L]) {
        var b = BarAggregator(ticksPerBar: ticksPerBar)
        var bars: [Bar] = [], labels: [L] = []
        var t = Tick()
        while source.nextTick(into: &t) {
            guard t.instrument == instrument.rawValue, let bar = b.add(t) else { continue }
            bars.append(bar)
            labels.append(label(source))
        }
        return (bars, labels)
    }
}
