import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// The oracle a regime detector will be compared with, written straight from
/// docs/synthetic-market.md: forward filter with the true parameters, reversion level recomputed
/// from the observed log prices only.
struct OracleFilter {
    let scenario: MarketScenario
    var alpha: [Double]
    var anchor: Double
    var logLikelihood = 0.0
    init(scenario: MarketScenario, startPrice: Double) {
        self.scenario = scenario
        alpha = scenario.stationaryDistribution()
        anchor = log(startPrice)
    }
    /// Observes x_t given x_{t-1}; returns the filtered posterior P(s_t | x_0..x_t).
    mutating func update(previousLogPrice x0: Double, logPrice x1: Double) -> [Double] {
        guard case .observedEMA(let lambda) = scenario.anchor else { fatalError("oracle needs observedEMA") }
        let r = x1 - x0
        var post = [Double](repeating: 0, count: 4)
        var total = 0.0
        for j in 0..<4 {
            var pred = 0.0
            for i in 0..<4 { pred += alpha[i] * scenario.transition[i][j] }
            let p = scenario.regimes[j]
            let z = (r - p.mu - p.kappa * (anchor - x0)) / p.sigma
            let lik = exp(-0.5 * z * z) / (p.sigma * (2 * Double.pi).squareRoot())
            post[j] = pred * lik
            total += post[j]
        }
        logLikelihood += log(total)
        for j in 0..<4 { post[j] /= total }
        alpha = post
        anchor += lambda * (x1 - anchor)
        return post
    }
}

@Suite struct SyntheticMarketTests {
    static func ticks(_ m: inout SyntheticMarket, _ n: Int) -> ([Tick], [Regime]) {
        var t = Tick()
        var out = [Tick](), regs = [Regime]()
        for _ in 0..<n {
            regs.append(m.nextTick(into: &t))
            out.append(t)
        }
        return (out, regs)
    }

    static func bytes(_ t: Tick) -> [UInt8] { withUnsafeBytes(of: t) { Array($0) } }

    @Test func presetsAreValid() throws {
        for s in MarketScenario.presets {
            try s.validate()
            let pi = s.stationaryDistribution()
            #expect(abs(pi.reduce(0, +) - 1) < 1e-12)
            for j in 0..<4 {
                let piP = (0..<4).reduce(0.0) { $0 + pi[$1] * s.transition[$1][j] }
                #expect(abs(piP - pi[j]) < 1e-12, "pi P = pi for \(s.name)")
                #expect(pi[j] > 0)
            }
        }
        #expect(abs(MarketScenario.persistent.expectedDuration(.bull) - 400) < 1e-9)
        #expect(abs(MarketScenario.fastSwitching.expectedDuration(.volatile) - 20) < 1e-9)
        #expect(MarketScenario.persistent[.sideways].kappa == 0.1)
        #expect(MarketScenario.fastSwitching.transitionProbability(from: .bull, to: .sideways) == (1.0 / 40) * 0.5)
        var bad = MarketScenario.persistent
        bad.transition[0][0] += 0.1
        #expect(throws: MarketScenario.ValidationError.self) { try bad.validate() }
    }

    @Test func scenarioRoundTripsThroughJSON() throws {
        for s in MarketScenario.presets {
            let data = try JSONEncoder().encode(s)
            #expect(try JSONDecoder().decode(MarketScenario.self, from: data) == s)
        }
    }

    @Test func sameSeedIdenticalTicksDifferentSeedDifferent() {
        var a = SyntheticMarket(scenario: .demo, instruments: 3, seed: 11)
        var b = SyntheticMarket(scenario: .demo, instruments: 3, seed: 11)
        var c = SyntheticMarket(scenario: .demo, instruments: 3, seed: 12)
        let (ta, ra) = Self.ticks(&a, 5000)
        let (tb, rb) = Self.ticks(&b, 5000)
        let (tc, _) = Self.ticks(&c, 5000)
        #expect(ra == rb)
        #expect(ta.map(Self.bytes) == tb.map(Self.bytes))
        #expect(ta.map(Self.bytes) != tc.map(Self.bytes))
    }

    @Test func instrumentPathIndependentOfInstrumentCount() {
        var one = SyntheticMarket(scenario: .demo, instruments: 1, seed: 5)
        var three = SyntheticMarket(scenario: .demo, instruments: 3, seed: 5)
        let (t1, r1) = Self.ticks(&one, 1000)
        let (t3, r3) = Self.ticks(&three, 3000)
        let inst0 = t3.enumerated().filter { $0.element.instrument == 0 }
        #expect(inst0.count == 1000)
        for (k, e) in inst0.enumerated() {
            #expect(e.element.bid == t1[k].bid && e.element.ask == t1[k].ask && e.element.bid_size == t1[k].bid_size)
            #expect(r3[e.offset] == r1[k])
        }
    }

    @Test func tickFieldsAreWellFormed() {
        let s = MarketScenario.demo
        var m = SyntheticMarket(scenario: s, instruments: 4, seed: 1, startPrice: 50)
        var lastSeq = [UInt64](repeating: 0, count: 4)
        var t = Tick()
        var imbalance = [Double](repeating: 0, count: 4), counts = [Int](repeating: 0, count: 4)
        let n = 400_000
        for k in 0..<n {
            let r = m.nextTick(into: &t)
            let i = Int(t.instrument)
            #expect(i == k % 4)
            #expect(t.publisher == t.instrument)
            #expect(t.seq == lastSeq[i] + 1)
            lastSeq[i] = t.seq
            #expect(t.ts_exchange_ns == s.startTimeNs + Int64(k) * s.tickIntervalNs)
            #expect(t.ts_recv_ns == 0)
            let ok = t.bid.isFinite && t.ask.isFinite && t.bid > 0 && t.bid < t.ask
                && (t.last == t.bid || t.last == t.ask) && t.bid_size > 0 && t.ask_size > 0 && t.last_size > 0
            if !ok {
                Issue.record("bad tick \(k): \(t)")
                return
            }
            // Quoted spread is the scenario's, in bps of the mid.
            if k % 997 == 0 { #expect(abs((t.ask - t.bid) / t.mid * 1e4 - s.spreadBps) < 1e-9) }
            let b = Double(t.bid_size), a = Double(t.ask_size)
            imbalance[r.rawValue] += (b - a) / (b + a)
            counts[r.rawValue] += 1
        }
        // Volume imbalance leans with drift: E[(b - a) / (b + a)] has the sign of the lean.
        let mean = (0..<4).map { imbalance[$0] / Double(max(counts[$0], 1)) }
        #expect(counts.allSatisfy { $0 > 0 })
        #expect(mean[Regime.bull.rawValue] > 0.2)
        #expect(mean[Regime.bear.rawValue] < -0.2)
        #expect(abs(mean[Regime.sideways.rawValue]) < 0.02)
    }

    @Test func regimeFrequenciesMatchStationaryDistribution() {
        let s = MarketScenario.fastSwitching
        var m = SyntheticMarket(scenario: s, instruments: 4, seed: 2024)
        var counts = [Int](repeating: 0, count: 4)
        var transitions = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)
        let perInstrument = 250_000
        for i in 0..<4 {
            var prev = m.state(of: i).regime
            for _ in 0..<perInstrument {
                let r = m.step(instrument: i).regime
                counts[r.rawValue] += 1
                transitions[prev.rawValue][r.rawValue] += 1
                prev = r
            }
        }
        let pi = s.stationaryDistribution()
        let total = Double(4 * perInstrument)
        for j in 0..<4 {
            // Effective sample ~ total / (2 * duration) ~ 15k regime visits: SE < 0.005.
            #expect(abs(Double(counts[j]) / total - pi[j]) < 0.02, "regime \(j): \(Double(counts[j]) / total) vs \(pi[j])")
        }
        // Empirical transition matrix rows match too.
        for i in 0..<4 {
            let row = Double(transitions[i].reduce(0, +))
            for j in 0..<4 {
                let p = s.transition[i][j]
                let se = (p * (1 - p) / row).squareRoot()
                #expect(abs(Double(transitions[i][j]) / row - p) < 5 * se + 1e-4, "P[\(i)][\(j)]")
            }
        }
    }

    @Test func perRegimeReturnMomentsMatchParameters() {
        let s = MarketScenario.persistent
        var m = SyntheticMarket(scenario: s, instruments: 1, seed: 77)
        guard case .observedEMA(let lambda) = s.anchor else { Issue.record("preset anchor"); return }
        var sum = [Double](repeating: 0, count: 4), sum2 = [Double](repeating: 0, count: 4)
        var n = [Int](repeating: 0, count: 4)
        // Sideways: OLS of r on d = m_{t-1} - x_{t-1}, with m recomputed from observed prices.
        var sd = 0.0, sdd = 0.0, sr = 0.0, srd = 0.0, srr = 0.0, ns = 0.0
        var x = m.state(of: 0).logPrice
        var anchor = x
        var maxAnchorError = 0.0
        for _ in 0..<1_200_000 {
            let st = m.step(instrument: 0)
            maxAnchorError = max(maxAnchorError, abs(st.anchor - anchor))
            let r = st.logReturn
            #expect(abs(st.logPrice - x - r) <= 1e-9 * max(1, abs(x)))
            let k = st.regime.rawValue
            if st.regime == .sideways {
                let d = anchor - x
                sd += d; sdd += d * d; sr += r; srd += r * d; srr += r * r; ns += 1
            } else {
                sum[k] += r; sum2[k] += r * r; n[k] += 1
            }
            x = st.logPrice
            anchor += lambda * (x - anchor)
        }
        #expect(maxAnchorError < 1e-9, "the reversion level is a function of observed prices only")
        for reg in [Regime.bull, .bear, .volatile] {
            let k = reg.rawValue, c = Double(n[k])
            #expect(c > 100_000)
            let mean = sum[k] / c, v = sum2[k] / c - mean * mean
            let p = s.regimes[k]
            #expect(abs(mean - p.mu) < 5 * p.sigma / c.squareRoot(), "\(reg) mean \(mean) vs \(p.mu)")
            #expect(abs(v.squareRoot() / p.sigma - 1) < 0.01, "\(reg) std \(v.squareRoot()) vs \(p.sigma)")
        }
        #expect(ns > 100_000)
        let slope = (srd - sr * sd / ns) / (sdd - sd * sd / ns)
        let intercept = (sr - slope * sd) / ns
        let resid = srr / ns - 2 * intercept * sr / ns - 2 * slope * srd / ns + intercept * intercept
            + 2 * intercept * slope * sd / ns + slope * slope * sdd / ns
        let p = s[.sideways]
        #expect(abs(slope - p.kappa) < 0.01, "kappa estimate \(slope) vs \(p.kappa)")
        #expect(abs(intercept - p.mu) < 5 * p.sigma / ns.squareRoot())
        #expect(abs(resid.squareRoot() / p.sigma - 1) < 0.01)
    }

    @Test func sidewaysMeanReverts() {
        // Within sideways stretches, consecutive returns are negatively correlated (the pull
        // towards the level undoes part of each move) while bull returns are uncorrelated.
        var m = SyntheticMarket(scenario: .persistent, instruments: 1, seed: 3)
        var prev: MarketStep? = nil
        var acc = [Regime: (xy: Double, xx: Double, n: Double)]()
        for _ in 0..<1_000_000 {
            let st = m.step(instrument: 0)
            if let p = prev, p.regime == st.regime {
                var a = acc[st.regime] ?? (0, 0, 0)
                a.xy += p.logReturn * st.logReturn
                a.xx += p.logReturn * p.logReturn
                a.n += 1
                acc[st.regime] = a
            }
            prev = st
        }
        let side = acc[.sideways]!, bull = acc[.bull]!
        let rhoSide = side.xy / side.xx, rhoBull = bull.xy / bull.xx
        #expect(rhoSide < -0.03, "sideways lag-1 autocorrelation \(rhoSide)")
        #expect(abs(rhoBull - 0.01) < 0.02, "bull lag-1 autocorrelation \(rhoBull)")
    }

    @Test func oracleFilterWithTrueParametersTracksRegimes() {
        // The documented likelihood is the generating one: the forward filter with the true
        // parameters identifies the regime most of the time on the persistent preset, and scores a
        // higher likelihood than the same filter with bull/bear parameters swapped.
        func run(_ s: MarketScenario, filterScenario: MarketScenario, seed: UInt64, steps: Int) -> (Double, Double) {
            var m = SyntheticMarket(scenario: s, instruments: 1, seed: seed)
            var f = OracleFilter(scenario: filterScenario, startPrice: 100)
            var x = m.state(of: 0).logPrice
            var hits = 0
            for _ in 0..<steps {
                let st = m.step(instrument: 0)
                let post = f.update(previousLogPrice: x, logPrice: st.logPrice)
                x = st.logPrice
                if post.indices.max(by: { post[$0] < post[$1] }) == st.regime.rawValue { hits += 1 }
            }
            return (Double(hits) / Double(steps), f.logLikelihood / Double(steps))
        }
        let (accPersistent, llTrue) = run(.persistent, filterScenario: .persistent, seed: 8, steps: 100_000)
        let (accFast, _) = run(.fastSwitching, filterScenario: .fastSwitching, seed: 8, steps: 100_000)
        var swapped = MarketScenario.persistent
        swapped.regimes.swapAt(Regime.bull.rawValue, Regime.bear.rawValue)
        let (_, llSwapped) = run(.persistent, filterScenario: swapped, seed: 8, steps: 100_000)
        print("oracle accuracy persistent \(accPersistent) fastSwitching \(accFast); mean loglik \(llTrue) vs swapped \(llSwapped)")
        #expect(accPersistent > 0.9)
        #expect(accFast > 0.65)
        #expect(accPersistent > accFast)
        #expect(llTrue > llSwapped)
    }

    @Test func barsAreConsistentAndRoundTripThroughCSV() throws {
        let s = MarketScenario.persistent
        var m = SyntheticMarket(scenario: s, instruments: 2, seed: 9)
        let (bars, regimes) = m.bars(count: 3000, instrument: 1)
        #expect(bars.count == 3000 && regimes.count == 3000)
        #expect(abs(bars[0].open - 100) < 1e-9)
        for (k, b) in bars.enumerated() {
            #expect(b.low > 0 && b.high.isFinite && b.volume > 0)
            #expect(b.low <= min(b.open, b.close) && b.high >= max(b.open, b.close))
            #expect(b.timestamp == s.startTimeNs + Int64(k) * s.barIntervalNs)
            if k > 0 { #expect(b.open == bars[k - 1].close) }
        }
        // Intrabar extremes are real: most bars have a high above max(open, close).
        // (A bridge with 7 interior points pokes above both ends in ~60 % of bars.)
        #expect(bars.filter { $0.high > max($0.open, $0.close) }.count > 1500)
        #expect(bars.filter { $0.low < min($0.open, $0.close) }.count > 1500)
        // The chain advanced the same state the tick path uses.
        #expect(m.state(of: 1).regime == regimes.last!)
        #expect(abs(exp(m.state(of: 1).logPrice) - bars.last!.close) < 1e-9 * bars.last!.close)
        let text = OHLCVCSV.format(bars: bars, regimes: regimes)
        #expect(text.hasPrefix("timestamp,open,high,low,close,volume,regime\n"))
        let table = try OHLCVCSV.parseTable(text)
        #expect(table.bars == bars)
        #expect(table.regimes == regimes)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-bars-\(getpid()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try OHLCVCSV.write(bars: bars, regimes: regimes, toPath: path)
        #expect(try OHLCVCSV.loadTable(path: path) == table)
    }
}
