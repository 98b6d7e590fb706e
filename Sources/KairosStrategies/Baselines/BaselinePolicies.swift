// The two baselines every agent and the ensemble are measured against (BRIEF: "buy-and-hold,
// and an SMA(10/30) crossover, on the same data, with the same costs").
import KairosCore


/// Buy and hold: target exposure 1 from the first tick after warm-up until the engine reports a
/// position, then no opinion forever (hold the units bought; never rebalance).
///
/// Why "nil once invested" rather than "always 1": exposure is measured against the capital
/// allocation, so it drifts with the price; re-targeting 1 on every tick would buy dips and sell
/// rallies, which is a rebalancing strategy, not buy-and-hold.
///
/// Invariants: `invested[i]` only goes false -> true. Implementation Notes: per-instrument state is
/// one Bool sized at init; `decide` is O(1) and allocates nothing. Instruments outside
/// 0..<instruments get `nil`.
public struct BuyAndHoldPolicy: DecisionPolicy, Sendable {
    public let name: String
    public let instruments: Int
    /// Ticks of an instrument the features must have seen before buying (0 = buy on the first).
    public let warmup: UInt64
    private var invested: [Bool]

    public init(instruments: Int = 1, warmup: UInt64 = 0, name: String = "buy_and_hold") {
        precondition(instruments >= 1)
        self.instruments = instruments
        self.warmup = warmup
        self.name = name
        invested = [Bool](repeating: false, count: instruments)
    }

    public mutating func decide(_ context: DecisionContext) -> Double? {
        let i = context.instrument.index
        guard i < instruments, context.featureUpdates >= warmup else { return nil }
        if invested[i] { return nil }
        if context.position != 0 {
            invested[i] = true
            return nil
        }
        return 1
    }
}

/// SMA crossover: long (1) when the fast simple moving average of bar closes is above the slow
/// one; when below, -1 if `allowShort` else 0 (flat). Equal averages: nil (hold).
/// No opinion until `slow` prices of that instrument have been seen.
///
/// Default `allowShort = false`: the baselines are compared long-only against buy-and-hold;
/// pass `true` for the symmetric long/short variant.
///
/// Invariants: per instrument, `count` prices seen; the ring `window[i*slow ..< (i+1)*slow]`
/// holds the last min(count, slow) prices, `head` is the slot the next price goes to;
/// slowSum = sum of the last min(count, slow) prices, fastSum = sum of the last min(count, fast).
///
/// Implementation Notes: O(1) per update with exact rolling sums (add the new price, subtract
/// the one leaving each window); to stop floating-point drift accumulating, both sums are
/// recomputed from the ring each time the head wraps (O(slow) every `slow` updates, amortised
/// O(1)). All buffers are allocated at init; `decide` allocates nothing. Non-finite or
/// non-positive prices are ignored (nil, state untouched).
public struct SMACrossoverPolicy: DecisionPolicy, Sendable {
    public let name: String
    public let instruments: Int
    public let fast: Int
    public let slow: Int
    public let allowShort: Bool
    /// The bars the averages are of (the engine's data stage closes them): every tick by default,
    /// e.g. one per day of daily data; `.interval(ns:)` for time bars of a tick stream.
    public let bars: BarRule
    private var window: [Double]
    private var fastSum: [Double]
    private var slowSum: [Double]
    private var count: [Int]
    private var head: [Int]

    public init(
        instruments: Int = 1, fast: Int = 10, slow: Int = 30, allowShort: Bool = false, bars: BarRule = .ticks(1),
        name: String? = nil
    ) {
        precondition(instruments >= 1 && fast >= 1 && slow > fast, "need instruments >= 1 and 1 <= fast < slow")
        precondition(bars.isValid, "invalid bar rule")
        self.bars = bars
        self.instruments = instruments
        self.fast = fast
        self.slow = slow
        self.allowShort = allowShort
        let suffix: String
        switch bars {
        case .ticks(1): suffix = ""
        case .ticks(let n): suffix = "@\(n)ticks"
        case .interval(let ns): suffix = ns % 1_000_000_000 == 0 ? "@\(ns / 1_000_000_000)s" : (ns % 1_000_000 == 0 ? "@\(ns / 1_000_000)ms" : "@\(ns)ns")
        }
        self.name = name ?? "sma_\(fast)_\(slow)\(allowShort ? "_ls" : "")\(suffix)"
        window = [Double](repeating: 0, count: instruments * slow)
        fastSum = [Double](repeating: 0, count: instruments)
        slowSum = [Double](repeating: 0, count: instruments)
        count = [Int](repeating: 0, count: instruments)
        head = [Int](repeating: 0, count: instruments)
    }

    /// Feeds one price; returns the averages once the slow window is full.
    @discardableResult
    public mutating func update(instrument i: Int, price x: Double) -> (fast: Double, slow: Double)? {
        let base = i * slow
        let h = head[i]
        let n = count[i]
        // Read both leaving prices before overwriting the slot.
        let leavingSlow = n >= slow ? window[base + h] : 0
        let leavingFast = n >= fast ? window[base + (h - fast + slow) % slow] : 0
        window[base + h] = x
        slowSum[i] += x - leavingSlow
        fastSum[i] += x - leavingFast
        let nh = h + 1 == slow ? 0 : h + 1
        head[i] = nh
        count[i] = n + 1
        if nh == 0 {
            var s = 0.0
            for k in 0..<slow { s += window[base + k] }
            slowSum[i] = s
            var f = 0.0
            for k in 1...fast { f += window[base + (slow - k)] }
            fastSum[i] = f
        }
        return averages(instrument: i)
    }

    /// (fast SMA, slow SMA) of an instrument, or nil before `slow` prices.
    public func averages(instrument i: Int) -> (fast: Double, slow: Double)? {
        guard count[i] >= slow else { return nil }
        return (fastSum[i] / Double(fast), slowSum[i] / Double(slow))
    }

    public var dataRequirements: DataRequirements { DataRequirements(bars: bars) }

    /// Decides on the bars the engine's data stage closes (`EngineConfig.bars`): the averages are
    /// of bar closes, so SMA(10/30) means 10 and 30 bars; ticks that close no bar hold.
    public mutating func decide(_ context: DecisionContext) -> Double? {
        let i = context.instrument.index
        guard let bar = context.bar else { return nil }
        let p = bar.close
        guard i < instruments, p > 0, p.isFinite else { return nil }
        guard let (f, s) = update(instrument: i, price: p) else { return nil }
        if f > s { return 1 }
        if f < s { return allowShort ? -1 : 0 }
        return nil
    }
}
