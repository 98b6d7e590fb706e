import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct RegimeTests {
    /// Bars and true regimes of the persistent scenario.
    static func bars(_ s: MarketScenario = .persistent, seed: UInt64, count: Int) -> (bars: [Bar], regimes: [Regime]) {
        var m = SyntheticMarket(scenario: s, instruments: 1, seed: seed)
        return m.bars(count: count)
    }

    static let smallModel: GaussianHMMModel = {
        var o = GaussianHMMFitOptions.standard
        o.restarts = 2
        return GaussianHMM.fit(bars: bars(seed: 21, count: 4_000).bars, options: o)
    }()

    @Test func streamingFeaturesEqualBatchAndMatchDefinitions() {
        let b = Self.bars(seed: 1, count: 500).bars
        let batch = RegimeFeatureState.observations(bars: b)
        var s = RegimeFeatureState()
        s.start(logPrice: log(b[0].open))
        var level = log(b[0].open), prevClose = log(b[0].open), vs = 0.0, prevTrend = 0.0
        let a = 2.0 / 11
        for (i, bar) in b.enumerated() {
            let o = s.update(logPrice: log(bar.close))
            #expect(o == batch[i])
            let x = log(bar.close)
            let r = x - prevClose
            vs = i == 0 ? max(r * r, 1e-12) : vs + a * (max(r * r, 1e-12) - vs)
            level += 0.05 * (x - level)
            #expect(abs(o.logReturn - r) < 1e-15)
            #expect(abs(o.volShort - vs.squareRoot()) < 1e-12)
            #expect(abs(o.trend - (x - level)) < 1e-12)
            #expect(o.previousTrend == prevTrend)
            prevTrend = o.trend
            prevClose = x
        }
    }

    @Test func outputsAtOrBeforeTDoNotDependOnLaterBars() {
        // Causality: change every bar after t (and delete them): features, filter, oracle and
        // the hysteresis labels at or before t stay bit-identical.
        let (b, _) = Self.bars(seed: 2, count: 1_200)
        let full = RegimeFeatureState.observations(bars: b)
        var f = GaussianHMMFilter(model: Self.smallModel)
        let estFull = f.run(bars: b)
        var o = OracleRegimeFilter(scenario: .persistent)!
        let oFull = o.run(bars: b)
        let (labFull, _) = HysteresisDetector.labels(estFull)
        for t in [0, 1, 57, 400, 999] {
            var changed = Array(b[0...t])
            var rng = Xoshiro256StarStar(seed: UInt64(t))
            for _ in (t + 1)..<b.count {
                let c = 100 * exp(rng.nextGaussian())
                changed.append(Bar(timestamp: 0, open: c, high: c * 1.1, low: c * 0.9, close: c))
            }
            for variant in [Array(b[0...t]), changed] {
                #expect(Array(RegimeFeatureState.observations(bars: variant)[0...t]) == Array(full[0...t]))
                var g = GaussianHMMFilter(model: Self.smallModel)
                let est = g.run(bars: variant)
                #expect(Array(est[0...t]) == Array(estFull[0...t]))
                var q = OracleRegimeFilter(scenario: .persistent)!
                #expect(Array(q.run(bars: variant)[0...t]) == Array(oFull[0...t]))
                #expect(Array(HysteresisDetector.labels(est).labels[0...t]) == Array(labFull[0...t]))
            }
        }
    }

    @Test func filterMatchesNaiveReference() {
        // A direct transcription of the forward recursion with [Double] arrays and the Gaussian
        // density written out (no log shift): same posteriors to 1e-10.
        let m = Self.smallModel
        let (b, _) = Self.bars(seed: 3, count: 800)
        let obs = RegimeFeatureState.observations(bars: b)
        var f = GaussianHMMFilter(model: m)
        let est = f.run(bars: b)
        var alpha = m.initial
        var ll = 0.0
        for (t, o) in obs.enumerated() {
            var post = [Double](repeating: 0, count: 4)
            for j in 0..<4 {
                var lik = 1.0
                for (e, inp) in m.inputs.enumerated() {
                    let mean = m.means[j][e] + (e == 0 ? m.trendSlopes[j] * o.previousTrend : 0)
                    let v = m.variances[j][e]
                    let y = inp.value(o)
                    lik *= exp(-(y - mean) * (y - mean) / (2 * v)) / (2 * Double.pi * v).squareRoot()
                }
                let pred = t == 0 ? alpha[j] : (0..<4).reduce(0.0) { $0 + alpha[$1] * m.transition[$1][j] }
                post[j] = pred * lik
            }
            let tot = post.reduce(0, +)
            ll += log(tot)
            alpha = post.map { $0 / tot }
            for j in 0..<4 { #expect(abs(alpha[j] - est[t].probabilities[index: j]) < 1e-10) }
        }
        #expect(abs(ll - f.logLikelihood) < 1e-6 * abs(ll))
    }

    @Test func oracleMatchesTheReferenceOracleOfTheMarketTests() {
        var m = SyntheticMarket(scenario: .fastSwitching, instruments: 1, seed: 4)
        var ref = OracleFilter(scenario: .fastSwitching, startPrice: 100)
        var oracle = OracleRegimeFilter(scenario: .fastSwitching)!
        var x = m.state(of: 0).logPrice
        oracle.reset(logPrice: x)
        for _ in 0..<2_000 {
            let st = m.step(instrument: 0)
            let p = ref.update(previousLogPrice: x, logPrice: st.logPrice)
            let e = oracle.update(logPrice: st.logPrice)
            x = st.logPrice
            for j in 0..<4 { #expect(abs(p[j] - e.probabilities[index: j]) < 1e-12) }
        }
        #expect(abs(ref.logLikelihood - oracle.logLikelihood) < 1e-8)
        #expect(OracleRegimeFilter(scenario: { var s = MarketScenario.persistent; s.anchor = .regimeEntry; return s }()) == nil)
    }

    @Test func statesAreNamedByTheirStatisticsNotByTrainingOrder() {
        // The naming rule on permuted statistics gives the permuted answer.
        let mean = [0.0008, -0.001, 0.0, 0.0001], vol = [0.008, 0.018, 0.006, 0.03]
        #expect(GaussianHMMModel.namingOrder(meanReturn: mean, volatility: vol) == [0, 1, 2, 3])
        let perm = [3, 0, 2, 1]  // state i of the permuted fit is state perm[i] of the original
        let order = GaussianHMMModel.namingOrder(meanReturn: perm.map { mean[$0] }, volatility: perm.map { vol[$0] })
        #expect(order.map { perm[$0] } == [0, 1, 2, 3])
        // Refits with other seeds (other k-means++ draws) find the same named regimes: each
        // named state's mean return and volatility agree with the generating ones.
        let (b, _) = Self.bars(seed: 5, count: 4_000)
        for seed: UInt64 in [1, 99] {
            var o = GaussianHMMFitOptions.standard
            o.restarts = 1
            o.seed = seed
            let m = GaussianHMM.fit(bars: b, options: o)
            for r in Regime.allCases {
                let p = MarketScenario.persistent[r]
                #expect(abs(m.stateVolatility[r.rawValue] - p.sigma) < 0.25 * p.sigma, "\(r) seed \(seed): \(m.stateVolatility)")
            }
            #expect(m.stateMeanReturn[Regime.bull.rawValue] > 0)
            #expect(m.stateMeanReturn[Regime.bear.rawValue] < 0)
        }
    }

    @Test func modelRoundTripsThroughJSONFile() throws {
        let m = Self.smallModel
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-regime-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try m.save(toPath: path)
        let back = try GaussianHMMModel.load(path: path)
        #expect(back == m)
        let (b, _) = Self.bars(seed: 6, count: 300)
        var f1 = GaussianHMMFilter(model: m), f2 = GaussianHMMFilter(model: back)
        #expect(f1.run(bars: b) == f2.run(bars: b))
        var broken = m
        broken.transition[0][0] += 0.5
        #expect(throws: GaussianHMMModel.InvalidModel.self) { try broken.validate() }
    }

    @Test func hysteresisNeedsThresholdForMinDwell() {
        func e(_ p: [Double]) -> RegimeEstimate {
            RegimeEstimate(probabilities: RegimeProbabilities(p), stayProbability: { _ in 0.99 })
        }
        let bull = e([0.9, 0.05, 0.03, 0.02]), bearWeak = e([0.3, 0.5, 0.1, 0.1]), bear = e([0.1, 0.8, 0.05, 0.05])
        let seq = [bull, bear, bear, bull, bearWeak, bear, bear, bear, bear]
        let (labels, tr) = HysteresisDetector.labels(seq, threshold: 0.6, minDwell: 3)
        #expect(labels == [.bull, .bull, .bull, .bull, .bull, .bull, .bull, .bear, .bear])
        #expect(tr == [RegimeTransition(index: 7, timestamp: 7, from: .bull, to: .bear, confidence: 0.8)])
        #expect(abs(bull.expectedRemainingDuration - 90) < 1e-9)
    }

    @Test func scoreCountsDelaysMissesAndFalseTransitions() {
        let truth: [Regime] = [.bull, .bull, .bear, .bear, .bear, .bear, .sideways, .sideways, .bull, .bull]
        let declared: [Regime] = [.bull, .bull, .bull, .bear, .bear, .volatile, .volatile, .volatile, .volatile, .bull]
        let tr = [
            RegimeTransition(index: 3, timestamp: 3, from: .bull, to: .bear, confidence: 0.9),
            RegimeTransition(index: 5, timestamp: 5, from: .bear, to: .volatile, confidence: 0.9),
            RegimeTransition(index: 9, timestamp: 9, from: .volatile, to: .bull, confidence: 0.9),
        ]
        let s = RegimeScore(truth: truth, argmax: declared, declared: declared, transitions: tr)
        #expect(s.trueSwitches == 3)
        #expect(s.missedSwitches == 1)  // sideways never declared
        #expect(s.meanDelay == 1)  // bear: 1 bar, bull: 1 bar
        #expect(s.medianDelay == 1)
        #expect(s.falseTransitions == 1)
        #expect(s.accuracy == 0.5)
        #expect(s.confusion[Regime.bear.rawValue] == [1, 2, 0, 1])
        #expect(abs(s.balancedAccuracy - (0.75 + 0.5 + 0) / 3) < 1e-12)  // volatile absent from the truth
    }

    @Test func persistentScenarioAccuracyFloor() {
        // The issue's goal on a small seeded scenario: fit on 6,000 bars, evaluate on the next
        // 6,000. Measured 0.998 x oracle on 20k/20k (docs/regimes.md); margin for the smaller run.
        let e = RegimeScenarioEvaluation.run(scenario: .persistent, seed: 11, trainBars: 6_000, testBars: 6_000)
        print(e.table)
        #expect(e.detector.accuracy >= 0.97 * e.oracle.accuracy)
        #expect(e.detector.accuracy > 0.80)
        #expect(e.oracle.accuracy > 0.88)
        // The detector should not whipsaw much more than the oracle.
        #expect(e.detector.falseTransitionsPer1000 <= 3 * e.oracle.falseTransitionsPer1000 + 1)
    }

    @Test func naiveFitIsWorseThanTheStandardFit() {
        let std = RegimeScenarioEvaluation.run(scenario: .persistent, seed: 12, trainBars: 5_000, testBars: 5_000)
        let naive = RegimeScenarioEvaluation.run(
            scenario: .persistent, seed: 12, trainBars: 5_000, testBars: 5_000, options: .naive)
        print("standard \(std.detector.accuracy) naive \(naive.detector.accuracy) oracle \(std.oracle.accuracy)")
        #expect(std.detector.accuracy > naive.detector.accuracy)
    }

    @Test func fitOnTenThousandBarsCompletes() {
        let (b, _) = Self.bars(seed: 13, count: 10_000)
        let m = GaussianHMM.fit(bars: b)
        #expect(m.trainingBars == 10_000)
        #expect(m.logLikelihood.isFinite)
        #expect(m.restartLogLikelihoods.count == GaussianHMMFitOptions.standard.restarts)
        #expect(m.logLikelihood == m.restartLogLikelihoods.max())
        #expect(throws: Never.self) { try m.validate() }
    }

    @Test func detectCSVHasOneRowPerBar() {
        let (b, _) = Self.bars(seed: 14, count: 50)
        var f = GaussianHMMFilter(model: Self.smallModel)
        let est = f.run(bars: b)
        let lines = RegimeCSV.format(bars: b, estimates: est).split(separator: "\n")
        #expect(lines.count == 51)
        #expect(lines[0] == "timestamp,regime,confidence,p_bull,p_bear,p_sideways,p_volatile")
        let cols = lines[1].split(separator: ",")
        #expect(cols.count == 7)
        #expect(Regime(name: String(cols[1])) == est[0].regime)
        let ps = cols[3...].map { Double($0)! }
        #expect(abs(ps.reduce(0, +) - 1) < 1e-12)
    }
}

@Suite struct RegimeJumpModelTests {
    static let model: JumpModel = {
        var o = JumpModelFitOptions()
        o.restarts = 2
        return JumpModel.fit(bars: RegimeTests.bars(seed: 31, count: 3_000).bars, options: o)
    }()

    @Test func forwardProgramEqualsLastStateOfBatchOptimum() {
        // The causal detector's regime at t is the last state of the exact (batch) optimum over
        // bars 0...t: checked against the dynamic program run separately on every prefix.
        let m = Self.model
        let (b, _) = RegimeTests.bars(seed: 32, count: 250)
        var det = JumpModelDetector(model: m)
        let est = det.run(bars: b)
        let x = RegimeFeatureState.observations(bars: b).map { o -> [Double] in
            let f = JumpModel.featureVector(o)
            return [(f.0 - m.featureMean[0]) / m.featureScale[0], (f.1 - m.featureMean[1]) / m.featureScale[1],
                    (f.2 - m.featureMean[2]) / m.featureScale[2]]
        }
        for t in stride(from: 1, to: b.count, by: 7) {
            let (s, _) = JumpModel.viterbi(Array(x[0...t]), centers: m.centers, lambda: m.jumpPenalty)
            #expect(est[t].regime.rawValue == s[t], "bar \(t)")
        }
    }

    @Test func causalNamedAndRoundTrips() throws {
        let m = Self.model
        let (b, _) = RegimeTests.bars(seed: 33, count: 600)
        var d = JumpModelDetector(model: m)
        let full = d.run(bars: b)
        var d2 = JumpModelDetector(model: m)
        #expect(Array(d2.run(bars: Array(b[0...300]))) == Array(full[0...300]))
        let data = try JSONEncoder().encode(m)
        #expect(try JSONDecoder().decode(JumpModel.self, from: data) == m)
        #expect(m.stateVolatility[Regime.volatile.rawValue] == m.stateVolatility.max())
        #expect(m.stateMeanReturn[Regime.bear.rawValue] < m.stateMeanReturn[Regime.bull.rawValue])
        for e in full { #expect(abs(e.probabilities.array.reduce(0, +) - 1) < 1e-12) }
    }

    @Test func modelFileDispatchesOnFormat() throws {
        let dir = FileManager.default.temporaryDirectory
        let jp = dir.appendingPathComponent("kairos-jump-\(getpid()).json").path
        let hp = dir.appendingPathComponent("kairos-hmm-\(getpid()).json").path
        let bp = dir.appendingPathComponent("kairos-bad-\(getpid()).json").path
        defer { for p in [jp, hp, bp] { try? FileManager.default.removeItem(atPath: p) } }
        try Self.model.save(toPath: jp)
        try RegimeTests.smallModel.save(toPath: hp)
        try Data(#"{"format":"other"}"#.utf8).write(to: URL(fileURLWithPath: bp))
        let (b, _) = RegimeTests.bars(seed: 35, count: 200)
        var j = try RegimeModelFile.loadDetector(path: jp)
        var jRef = JumpModelDetector(model: Self.model)
        #expect(j.run(bars: b) == jRef.run(bars: b))
        var h = try RegimeModelFile.loadDetector(path: hp)
        var hRef = GaussianHMMFilter(model: RegimeTests.smallModel)
        #expect(h.run(bars: b) == hRef.run(bars: b))
        #expect(throws: GaussianHMMModel.InvalidModel.self) { _ = try RegimeModelFile.loadDetector(path: bp) }
    }

    @Test func jumpModelOnPersistentScenarioBeatsChanceButNotTheHMM() {
        // Measured (docs/regimes.md, 20k/20k bars): jump model 0.68, HMM 0.94, oracle 0.94. The
        // jump model sees smoothed features only; this checks it is a working detector, and
        // that the default (the HMM) is the better one, which is why it is the default.
        let j = RegimeScenarioEvaluation.run(scenario: .persistent, seed: 34, trainBars: 5_000, testBars: 5_000, detector: .jump(.init()))
        let h = RegimeScenarioEvaluation.run(scenario: .persistent, seed: 34, trainBars: 5_000, testBars: 5_000)
        print("jump \(j.detector.accuracy) hmm \(h.detector.accuracy) oracle \(j.oracle.accuracy)")
        #expect(j.detector.accuracy > 0.45)
        #expect(h.detector.accuracy > j.detector.accuracy)
    }
}

@Suite struct RegimeHistoricalTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sp500 = root.deletingLastPathComponent().appendingPathComponent("shared/data/sp500.csv").path

    @Test func lundeTimmermannDatesAConstructedSeries() {
        // 100 -> 130 (bull), falls 25 % to 97.5 (peak at 130), rises 20 % to 117 (trough at 97.5),
        // then dips 10 % (not a bear: < 20 %).
        var c = [Double]()
        for i in 0...30 { c.append(100 + Double(i)) }  // 100..130, peak index 30
        for i in 1...25 { c.append(130 * (1 - 0.01 * Double(i))) }  // to 97.5 at index 55
        for i in 1...20 { c.append(97.5 * (1 + 0.01 * Double(i))) }  // to 117 at index 75
        for i in 1...10 { c.append(117 * (1 - 0.01 * Double(i))) }
        let (bull, tp) = BullBearDating.lundeTimmermann(closes: c)
        #expect(tp == [.init(index: 30, isPeak: true), .init(index: 55, isPeak: false)])
        #expect(bull[0...30].allSatisfy { $0 })
        #expect(bull[31...55].allSatisfy { !$0 })
        #expect(bull[56...].allSatisfy { $0 })
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: sp500), "needs ../shared/data/sp500.csv"))
    func sp500PhasesAndDetectorComparison() throws {
        let bars = try OHLCVCSV.load(path: Self.sp500)
        let (bull, tp) = BullBearDating.lundeTimmermann(closes: bars.map(\.close))
        let day = { (i: Int) in String(OHLCVCSV.formatTimestamp(bars[i].timestamp).prefix(10)) }
        let peaks = tp.filter(\.isPeak).map { day($0.index) }
        let troughs = tp.filter { !$0.isPeak }.map { day($0.index) }
        // The textbook turning points: dot-com peak, 2007 peak, March 2009 trough.
        #expect(peaks.contains("2000-03-24"))
        #expect(peaks.contains("2007-10-09"))
        #expect(troughs.contains("2009-03-09"))
        // Late 2018 fell 19.8 % close to close: not a bear market under the 20 % rule.
        #expect(bull.last == true)
        // The causal HMM detector agrees with the phases on most days (measured 0.71, see
        // docs/regimes.md) and flags most bear days.
        var f = GaussianHMMFilter(model: GaussianHMM.fit(bars: bars))
        let labels = HysteresisDetector.labels(f.run(bars: bars)).labels
        let c = BullBearComparison(bull: bull, labels: labels)
        print("S&P 500 HMM vs Lunde-Timmermann: agreement \(c.agreement) bull recall \(c.bullRecall) bear recall \(c.bearRecall)")
        #expect(c.agreement > 0.65)
        #expect(c.bearRecall > 0.6)
    }
}
