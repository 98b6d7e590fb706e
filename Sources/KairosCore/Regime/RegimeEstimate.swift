// What a regime detector says about one bar, the protocol every detector implements, and the
// hysteresis rule that turns a flickering posterior into declared transitions.
import Foundation

/// A probability for each of the four regimes, stored inline (no heap), indexed by
/// `Regime.rawValue`.
public struct RegimeProbabilities: Sendable, Hashable {
    public var bull: Double, bear: Double, sideways: Double, volatile: Double
    public init(bull: Double, bear: Double, sideways: Double, volatile: Double) {
        self.bull = bull
        self.bear = bear
        self.sideways = sideways
        self.volatile = volatile
    }
    public init(_ values: [Double]) {
        precondition(values.count == 4)
        self.init(bull: values[0], bear: values[1], sideways: values[2], volatile: values[3])
    }
    @inlinable public subscript(index i: Int) -> Double {
        get {
            switch i {
            case 0: bull
            case 1: bear
            case 2: sideways
            default: volatile
            }
        }
        set {
            switch i {
            case 0: bull = newValue
            case 1: bear = newValue
            case 2: sideways = newValue
            default: volatile = newValue
            }
        }
    }
    @inlinable public subscript(_ r: Regime) -> Double {
        get { self[index: r.rawValue] }
        set { self[index: r.rawValue] = newValue }
    }
    /// The most likely regime (ties go to the lower raw value).
    @inlinable public var argmax: Regime {
        var best = 0
        for i in 1..<4 where self[index: i] > self[index: best] { best = i }
        return Regime(rawValue: best)!
    }
    public var array: [Double] { [bull, bear, sideways, volatile] }
}

/// A detector's filtered view of the current bar, using that bar and earlier ones only.
public struct RegimeEstimate: Sendable, Hashable {
    /// P(regime_t = j | bars_0..t) for each regime (sums to 1).
    public var probabilities: RegimeProbabilities
    /// argmax of `probabilities`.
    public var regime: Regime
    /// The posterior of `regime`.
    public var confidence: Double
    /// Expected number of bars, counting this one, that the market stays in `regime`:
    /// confidence / (1 - p_kk) with p_kk the (fitted) probability of staying. Regime durations are
    /// geometric, so this does not depend on how long the regime has lasted already.
    /// (For detectors without a transition matrix: the mean fitted duration of the regime.)
    public var expectedRemainingDuration: Double

    public init(probabilities: RegimeProbabilities, stayProbability: (Int) -> Double) {
        self.probabilities = probabilities
        regime = probabilities.argmax
        confidence = probabilities[regime]
        expectedRemainingDuration = confidence / max(1 - stayProbability(regime.rawValue), 1e-12)
    }
    public init(probabilities: RegimeProbabilities, regime: Regime, confidence: Double, expectedRemainingDuration: Double) {
        self.probabilities = probabilities
        self.regime = regime
        self.confidence = confidence
        self.expectedRemainingDuration = expectedRemainingDuration
    }
}

/// A causal regime detector: fed one log price per bar (or per tick), it returns its estimate
/// for that bar using that price and earlier ones only. Implementations allocate nothing per
/// update.
public protocol RegimeDetector {
    /// Forgets everything and starts a new series at log price `x0` (for bars: log of the first open).
    mutating func reset(logPrice x0: Double)
    /// Consumes the next log price and returns the estimate for it.
    mutating func update(logPrice x: Double) -> RegimeEstimate
}

extension RegimeDetector {
    /// Runs the detector over bars from a fresh start (log of the first open); element t uses
    /// bars 0...t only.
    public mutating func run(bars: [Bar]) -> [RegimeEstimate] {
        guard let first = bars.first else { return [] }
        reset(logPrice: log(first.open))
        return bars.map { update(logPrice: log($0.close)) }
    }
}


/// A declared regime change.
public struct RegimeTransition: Sendable, Hashable, Codable {
    /// Index of the bar at which the change was declared.
    public var index: Int
    /// That bar's timestamp (ns since the epoch).
    public var timestamp: Int64
    public var from: Regime
    public var to: Regime
    /// Posterior of `to` at the declaring bar.
    public var confidence: Double
}

/// Hysteresis over a detector's posteriors, so the declared label does not flicker.
///
/// Rule: the first estimate sets the label to its argmax. Afterwards a different regime k is
/// declared when its posterior is at least `threshold` on `minDwell` consecutive bars (k must be
/// the argmax on each of them); the transition is dated at the bar that completes the dwell.
/// A bar where the candidate's posterior drops below the threshold, or another regime takes
/// over, restarts the count.
///
/// Implementation Notes: a few scalars of state, O(1) per update, no allocation.
public struct HysteresisDetector: Sendable {
    public var threshold: Double
    public var minDwell: Int
    public private(set) var current: Regime?
    private var candidate: Regime?
    private var dwell = 0

    public init(threshold: Double = 0.6, minDwell: Int = 3) {
        precondition(minDwell >= 1 && threshold > 0 && threshold <= 1)
        self.threshold = threshold
        self.minDwell = minDwell
    }

    public mutating func reset() {
        current = nil
        candidate = nil
        dwell = 0
    }

    /// Feeds one estimate; returns the transition declared at this bar, if any.
    public mutating func update(_ e: RegimeEstimate, index: Int, timestamp: Int64) -> RegimeTransition? {
        guard let cur = current else {
            current = e.regime
            return nil
        }
        let k = e.regime
        guard k != cur, e.confidence >= threshold else {
            candidate = nil
            dwell = 0
            return nil
        }
        if candidate == k {
            dwell += 1
        } else {
            candidate = k
            dwell = 1
        }
        guard dwell >= minDwell else { return nil }
        current = k
        candidate = nil
        dwell = 0
        return RegimeTransition(index: index, timestamp: timestamp, from: cur, to: k, confidence: e.confidence)
    }

    /// The declared label of every bar and the transitions, from a fresh start.
    public static func labels(
        _ estimates: [RegimeEstimate], timestamps: [Int64]? = nil, threshold: Double = 0.6, minDwell: Int = 3
    ) -> (labels: [Regime], transitions: [RegimeTransition]) {
        var h = HysteresisDetector(threshold: threshold, minDwell: minDwell)
        var labels = [Regime]()
        labels.reserveCapacity(estimates.count)
        var transitions = [RegimeTransition]()
        for (i, e) in estimates.enumerated() {
            if let t = h.update(e, index: i, timestamp: timestamps?[i] ?? Int64(i)) { transitions.append(t) }
            labels.append(h.current!)
        }
        return (labels, transitions)
    }
}
