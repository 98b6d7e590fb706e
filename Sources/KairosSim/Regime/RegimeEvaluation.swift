// Scoring a regime detector against true labels, and the synthetic-scenario evaluation
// (fit on one stretch, evaluate on a later unseen stretch, the oracle beside it).
import KairosCore
import KairosStrategies
import KairosIO
import Foundation

/// How well a label sequence matches the truth.
///
/// Implementation Notes: one pass over the labels plus one over the true segments, O(n) time;
/// invariant: the confusion matrix sums to n and `missedSwitches <= trueSwitches`.
public struct RegimeScore: Sendable, Hashable, Codable {
    /// Fraction of bars whose argmax regime equals the true one.
    public var accuracy: Double
    /// Mean over the regimes present in the truth of the per-regime recall.
    public var balancedAccuracy: Double
    /// confusion[true][predicted] counts (argmax labels), indexed by `Regime.rawValue`.
    public var confusion: [[Int]]
    /// Bars from a true switch to the first bar whose declared (hysteresis) label is the new
    /// regime, over switches detected before the next true switch.
    public var meanDelay: Double
    public var medianDelay: Double
    public var trueSwitches: Int
    /// True switches never declared before the regime ended again.
    public var missedSwitches: Int
    public var declaredTransitions: Int
    /// Declared transitions to a regime that is not the true regime at the declaring bar.
    public var falseTransitions: Int
    /// falseTransitions per 1,000 bars.
    public var falseTransitionsPer1000: Double

    public init(truth: [Regime], argmax: [Regime], declared: [Regime], transitions: [RegimeTransition]) {
        precondition(truth.count == argmax.count && truth.count == declared.count)
        let n = truth.count
        var conf = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)
        var hits = 0
        for i in 0..<n {
            conf[truth[i].rawValue][argmax[i].rawValue] += 1
            if truth[i] == argmax[i] { hits += 1 }
        }
        confusion = conf
        accuracy = n > 0 ? Double(hits) / Double(n) : 0
        var recalls = [Double]()
        for r in 0..<4 {
            let tot = conf[r].reduce(0, +)
            if tot > 0 { recalls.append(Double(conf[r][r]) / Double(tot)) }
        }
        balancedAccuracy = recalls.isEmpty ? 0 : recalls.reduce(0, +) / Double(recalls.count)
        var delays = [Int]()
        var switches = 0, missed = 0
        var i = 1
        while i < n {
            if truth[i] != truth[i - 1] {
                switches += 1
                var end = i + 1
                while end < n && truth[end] == truth[i] { end += 1 }
                if let hit = (i..<end).first(where: { declared[$0] == truth[i] }) {
                    delays.append(hit - i)
                } else {
                    missed += 1
                }
                i = end
            } else {
                i += 1
            }
        }
        trueSwitches = switches
        missedSwitches = missed
        meanDelay = delays.isEmpty ? .nan : Double(delays.reduce(0, +)) / Double(delays.count)
        let sorted = delays.sorted()
        medianDelay = sorted.isEmpty ? .nan
            : sorted.count % 2 == 1 ? Double(sorted[sorted.count / 2])
            : Double(sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        declaredTransitions = transitions.count
        falseTransitions = transitions.filter { truth[$0.index] != $0.to }.count
        falseTransitionsPer1000 = n > 0 ? Double(falseTransitions) * 1000 / Double(n) : 0
    }

    /// Scores a detector's estimates (argmax and hysteresis labels) against the truth.
    public init(truth: [Regime], estimates: [RegimeEstimate], threshold: Double = 0.6, minDwell: Int = 3) {
        let (declared, transitions) = HysteresisDetector.labels(estimates, threshold: threshold, minDwell: minDwell)
        self.init(truth: truth, argmax: estimates.map(\.regime), declared: declared, transitions: transitions)
    }
}

/// A fit-then-evaluate run on a synthetic scenario.
///
/// Implementation Notes: the training and test stretches are consecutive pieces of ONE market
/// path (same seed, instrument 0), so the test bars are later and unseen; both filters start fresh
/// at the first test bar's open. Cost: the fit (see `GaussianHMM`) plus O(n K^2) filtering.
public struct RegimeScenarioEvaluation: Sendable {
    public var scenario: MarketScenario
    public var seed: UInt64
    public var trainBars: Int
    public var testBars: Int
    /// The fitted HMM (nil when the jump model was evaluated).
    public var model: GaussianHMMModel?
    public var jumpModel: JumpModel?
    public var detector: RegimeScore
    public var oracle: RegimeScore
    /// Seconds the fit took (wall clock, for the report only).
    public var fitSeconds: Double

    /// Generates `trainBars + testBars` bars of instrument 0 with `seed`; fits on the first
    /// `trainBars`, then runs the fitted filter and the oracle from a fresh start over the last
    /// `testBars` (never seen by the fit) and scores both.
    public static func run(
        scenario: MarketScenario, seed: UInt64, trainBars: Int = 20_000, testBars: Int = 20_000,
        options: GaussianHMMFitOptions = .standard, threshold: Double = 0.6, minDwell: Int = 3
    ) -> RegimeScenarioEvaluation {
        run(scenario: scenario, seed: seed, trainBars: trainBars, testBars: testBars, detector: .hmm(options),
            threshold: threshold, minDwell: minDwell)
    }

    /// Which detector to fit.
    public enum Choice: Sendable {
        case hmm(GaussianHMMFitOptions)
        case jump(JumpModelFitOptions)
    }

    public static func run(
        scenario: MarketScenario, seed: UInt64, trainBars: Int = 20_000, testBars: Int = 20_000,
        detector choice: Choice, threshold: Double = 0.6, minDwell: Int = 3
    ) -> RegimeScenarioEvaluation {
        var market = SyntheticMarket(scenario: scenario, instruments: 1, seed: seed)
        let train = market.bars(count: trainBars)
        let test = market.bars(count: testBars)
        let t0 = MonotonicClock.nanoseconds()
        var model: GaussianHMMModel?, jump: JumpModel?
        switch choice {
        case .hmm(let o): model = GaussianHMM.fit(bars: train.bars, options: o)
        case .jump(let o): jump = JumpModel.fit(bars: train.bars, options: o)
        }
        let fitSeconds = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        let est: [RegimeEstimate]
        if let model {
            var filter = GaussianHMMFilter(model: model)
            est = filter.run(bars: test.bars)
        } else {
            var filter = JumpModelDetector(model: jump!)
            est = filter.run(bars: test.bars)
        }
        var oracle = OracleRegimeFilter(scenario: scenario)!
        let oest = oracle.run(bars: test.bars)
        return RegimeScenarioEvaluation(
            scenario: scenario, seed: seed, trainBars: trainBars, testBars: testBars, model: model, jumpModel: jump,
            detector: RegimeScore(truth: test.regimes, estimates: est, threshold: threshold, minDwell: minDwell),
            oracle: RegimeScore(truth: test.regimes, estimates: oest, threshold: threshold, minDwell: minDwell),
            fitSeconds: fitSeconds)
    }

    /// The comparison table (plain text).
    public var table: String {
        func f(_ x: Double) -> String { x.isNaN ? "-" : String(format: "%.3f", x) }
        var s = "\(model != nil ? "Gaussian HMM" : "jump model (lambda \(jumpModel!.jumpPenalty))"): "
        s += "scenario \(scenario.name), seed \(seed): fit on \(trainBars) bars (\(String(format: "%.2f", fitSeconds)) s), evaluated on the next \(testBars)\n"
        s += "metric                      detector     oracle\n"
        s += "accuracy                    \(f(detector.accuracy).padding(toLength: 12, withPad: " ", startingAt: 0)) \(f(oracle.accuracy))\n"
        s += "balanced accuracy           \(f(detector.balancedAccuracy).padding(toLength: 12, withPad: " ", startingAt: 0)) \(f(oracle.balancedAccuracy))\n"
        s += "accuracy / oracle           \(f(detector.accuracy / oracle.accuracy))\n"
        s += "mean delay (bars)           \(f(detector.meanDelay).padding(toLength: 12, withPad: " ", startingAt: 0)) \(f(oracle.meanDelay))\n"
        s += "median delay (bars)         \(f(detector.medianDelay).padding(toLength: 12, withPad: " ", startingAt: 0)) \(f(oracle.medianDelay))\n"
        s += "true switches / missed      \("\(detector.trueSwitches) / \(detector.missedSwitches)".padding(toLength: 12, withPad: " ", startingAt: 0)) \(oracle.trueSwitches) / \(oracle.missedSwitches)\n"
        s += "declared transitions        \("\(detector.declaredTransitions)".padding(toLength: 12, withPad: " ", startingAt: 0)) \(oracle.declaredTransitions)\n"
        s += "false transitions / 1000    \(f(detector.falseTransitionsPer1000).padding(toLength: 12, withPad: " ", startingAt: 0)) \(f(oracle.falseTransitionsPer1000))\n"
        for (name, sc) in [("detector", detector), ("oracle", oracle)] {
            s += "confusion (\(name); rows true, columns predicted: bull bear sideways volatile)\n"
            for r in Regime.allCases {
                s += "  \(r.description.padding(toLength: 9, withPad: " ", startingAt: 0))" + sc.confusion[r.rawValue].map { String($0).leftPad(8) }.joined() + "\n"
            }
        }
        return s
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
