// Ex-post bull/bear dating of a price series (Lunde & Timmermann 2004) and the comparison of a
// causal regime detector against it.
import KairosCore
import Foundation

/// Lunde-Timmermann bull/bear phases.
///
/// Rule (Lunde & Timmermann 2004, "Duration dependence in stock prices", JBES): a bull market
/// ends at a peak once the price has fallen `bullDrop` (20 %) below its highest level since the
/// last trough; a bear market ends at a trough once the price has risen `bearRise` (15 %) above its
/// lowest level since the last peak. The peak (trough) bar is the last bar of the bull (bear)
/// phase. The first phase is whichever threshold is crossed first from the start; the last phase
/// runs to the end of the data (not yet confirmed). Ex post: a bar's phase uses later prices.
///
/// Implementation Notes: one pass with running extremes, plus a rescan of the bars between a
/// turning point and its confirmation to seed the next extreme: O(n) plus O(phase length) per
/// turning point.
public enum BullBearDating {
    public struct TurningPoint: Sendable, Hashable {
        /// Index of the peak or trough bar.
        public var index: Int
        /// true = peak (bull -> bear after this bar), false = trough.
        public var isPeak: Bool
    }

    /// Per-bar phase (true = bull) and the turning points.
    public static func lundeTimmermann(closes: [Double], bullDrop: Double = 0.20, bearRise: Double = 0.15)
        -> (bull: [Bool], turningPoints: [TurningPoint])
    {
        let n = closes.count
        guard n > 0 else { return ([], []) }
        var points = [TurningPoint]()
        var hi = 0, lo = 0
        var state: Bool?  // nil until the first threshold crossing
        var i = 1
        while i < n {
            let c = closes[i]
            switch state {
            case nil:
                if c > closes[hi] { hi = i }
                if c < closes[lo] { lo = i }
                if c <= closes[hi] * (1 - bullDrop) {
                    points.append(TurningPoint(index: hi, isPeak: true))
                    state = false
                    lo = i
                    for j in hi...i where closes[j] < closes[lo] { lo = j }
                } else if c >= closes[lo] * (1 + bearRise) {
                    points.append(TurningPoint(index: lo, isPeak: false))
                    state = true
                    hi = i
                    for j in lo...i where closes[j] > closes[hi] { hi = j }
                }
            case true?:
                if c > closes[hi] { hi = i }
                if c <= closes[hi] * (1 - bullDrop) {
                    points.append(TurningPoint(index: hi, isPeak: true))
                    state = false
                    lo = hi
                    for j in hi...i where closes[j] < closes[lo] { lo = j }
                }
            case false?:
                if c < closes[lo] { lo = i }
                if c >= closes[lo] * (1 + bearRise) {
                    points.append(TurningPoint(index: lo, isPeak: false))
                    state = true
                    hi = lo
                    for j in lo...i where closes[j] > closes[hi] { hi = j }
                }
            }
            i += 1
        }
        // A first turning point on bar 0 would end an empty phase: the series simply starts there.
        if points.first?.index == 0 { points.removeFirst() }
        var bull = [Bool](repeating: true, count: n)
        // Before the first turning point: bull if it is a peak.
        var current = points.first?.isPeak ?? (state ?? true)
        var next = 0
        for t in 0..<n {
            bull[t] = current
            if next < points.count && points[next].index == t {
                current = !points[next].isPeak
                next += 1
            }
        }
        return (bull, points)
    }
}

/// A causal detector's labels against the Lunde-Timmermann phases. The detector's four regimes
/// collapse to two: bull and sideways count as "bull", bear and volatile as "bear".
/// O(n) time.
public struct BullBearComparison: Sendable {
    public var bars: Int
    /// Fraction of bars where the collapsed (hysteresis) label equals the phase.
    public var agreement: Double
    public var bullRecall: Double
    public var bearRecall: Double
    public struct Phase: Sendable {
        public var startIndex: Int
        public var endIndex: Int
        public var isBull: Bool
        /// Bars from the phase start to the first bar labelled with its side, nil = never.
        public var lag: Int?
        /// Fraction of the phase's bars labelled with its side.
        public var coverage: Double
    }
    public var phases: [Phase]

    public init(bull truth: [Bool], labels: [Regime]) {
        precondition(truth.count == labels.count)
        let side = labels.map { $0 == .bull || $0 == .sideways }
        let n = truth.count
        bars = n
        var agree = 0, bullN = 0, bullHit = 0, bearN = 0, bearHit = 0
        for i in 0..<n {
            if truth[i] == side[i] { agree += 1 }
            if truth[i] { bullN += 1; if side[i] { bullHit += 1 } } else { bearN += 1; if !side[i] { bearHit += 1 } }
        }
        agreement = n > 0 ? Double(agree) / Double(n) : 0
        bullRecall = bullN > 0 ? Double(bullHit) / Double(bullN) : .nan
        bearRecall = bearN > 0 ? Double(bearHit) / Double(bearN) : .nan
        var ph = [Phase]()
        var s = 0
        while s < n {
            var e = s
            while e + 1 < n && truth[e + 1] == truth[s] { e += 1 }
            let lag = (s...e).first { side[$0] == truth[s] }.map { $0 - s }
            let cov = Double((s...e).filter { side[$0] == truth[s] }.count) / Double(e - s + 1)
            ph.append(Phase(startIndex: s, endIndex: e, isBull: truth[s], lag: lag, coverage: cov))
            s = e + 1
        }
        phases = ph
    }
}
