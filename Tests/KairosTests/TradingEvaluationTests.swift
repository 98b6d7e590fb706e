import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct TradingEvaluationTests {
    static let dataset: TradingDataset = try! TradingDataset.synthetic(count: 2_500, seed: 17)
    static let range = 1_500..<2_500

    static func constant(_ a: Int32) -> ClosureTradingPolicy { ClosureTradingPolicy { _ in a } }

    @Test func alwaysLongEqualsBuyAndHold() {
        let ds = Self.dataset, r = Self.range
        let costs = TradingCosts(costBps: 2, slippageBps: 3)
        let agent = TradingEvaluation.run(Self.constant(2), agent: .balanced, dataset: ds, range: r, costs: costs)
        let bh = TradingEvaluation.buyAndHold(dataset: ds, range: r, costs: costs)
        #expect(agent.netReturns == bh.netReturns)
        // Independent accounting: the baseline backtest's buy-and-hold (units bought once). It
        // pays the entry cost from cash next to a full-equity position (E_T = c_T/c_0 - rate)
        // where TradingAccount invests what is left after the cost ((1 - rate) c_T/c_0), so the
        // two agree exactly without costs and differ by rate * (c_T/c_0 - 1) with them.
        let bars = Array(ds.bars[r])
        let free = TradingEvaluation.run(Self.constant(2), agent: .balanced, dataset: ds, range: r, costs: .zero)
        let ref0 = BaselineBacktest.run(BuyAndHoldPolicy(), bars: bars, costBps: 0)
        #expect(abs(free.finalEquity - (1 + ref0.totalReturn)) < 1e-12)
        let ref = BaselineBacktest.run(BuyAndHoldPolicy(), bars: bars, costBps: costs.costBps + costs.slippageBps)
        let ratio = ds.closes[r.upperBound - 1] / ds.closes[r.lowerBound]
        #expect(abs(agent.finalEquity - (1 + ref.totalReturn) - costs.rate * (1 - ratio)) < 1e-12)
        // And the closed form: (1 - rate) c_end / c_start.
        let closed = (1 - costs.rate) * ds.closes[r.upperBound - 1] / ds.closes[r.lowerBound]
        #expect(abs(agent.finalEquity - closed) < 1e-12)
        #expect(agent.metrics().turnover == 1)  // bought once, never rebalanced
    }

    @Test func flatPolicyEarnsNothingAndShortMirrorsCosts() {
        let ds = Self.dataset, r = Self.range
        let flat = TradingEvaluation.run(Self.constant(1), agent: .aggressive, dataset: ds, range: r)
        let m = flat.metrics()
        #expect(m.totalReturn == 0 && m.turnover == 0 && m.maxDrawdown == 0 && m.winRate == 0)
        #expect(m.steps == r.count - 1)
        // Always short 2x pays turnover on every rebalancing of the drifting short.
        let short = TradingEvaluation.run(Self.constant(0), agent: .aggressive, dataset: ds, range: r)
        #expect(short.positions.allSatisfy { $0 == -2 })
        #expect(short.metrics().turnover > 2)
    }

    @Test func smaBaselineFollowsTheCrossoverRule() {
        let ds = Self.dataset, r = Self.range
        let run = TradingEvaluation.smaCrossover(dataset: ds, range: r, costs: .zero)
        var sma = SMACrossoverPolicy(instruments: 1, fast: 10, slow: 30)
        var pos = 0.0
        for t in (r.lowerBound - 30)..<r.upperBound - 1 {
            let avg = sma.update(instrument: 0, price: ds.closes[t])
            guard t >= r.lowerBound else { continue }
            if let (f, s) = avg { pos = f > s ? 1 : (f < s ? 0 : pos) }
            #expect(run.positions[t - r.lowerBound] == pos)
        }
        #expect(Set(run.positions) == [0, 1])
    }

    @Test func regimeSegmentsPartitionTheSteps() {
        let ds = Self.dataset, r = Self.range
        let run = TradingEvaluation.buyAndHold(dataset: ds, range: r)
        let labels = try! #require(run.labels)
        #expect(labels == Array(ds.regimes![(r.lowerBound + 1)..<r.upperBound]))
        let total = Regime.allCases.map { run.metrics($0).steps }.reduce(0, +)
        #expect(total == run.metrics().steps)
        // The per-regime compounded returns multiply to the whole (same steps, reordered).
        let product = Regime.allCases.map { 1 + run.metrics($0).totalReturn }.reduce(1, *)
        #expect(abs(product - run.finalEquity) < 1e-9)
        // Provided labels override the dataset's.
        let custom = [Regime](repeating: .bear, count: ds.count)
        let relabelled = TradingEvaluation.buyAndHold(dataset: ds, range: r, labels: custom)
        #expect(relabelled.metrics(.bear).steps == r.count - 1 && relabelled.metrics(.bull).steps == 0)
    }

    @Test func metricsOnAHandMadePath() throws {
        // 100 -> 110 -> 99 -> 108.9 long 1, no costs: returns +10 %, -10 %, +10 %.
        let closes = [100.0, 110, 99, 108.9]
        let bars = closes.enumerated().map { k, c in
            Bar(timestamp: Int64(k) * 86_400_000_000_000, open: c, high: c, low: c, close: c, volume: 1)
        }
        let ds = try TradingDataset(bars: bars, regimes: [.bull, .bull, .bear, .bull])
        let run = TradingEvaluation.run(Self.constant(2), agent: .balanced, dataset: ds, range: 0..<4, costs: .zero)
        let m = run.metrics()
        #expect(abs(m.totalReturn - 0.089) < 1e-12)
        #expect(abs(m.maxDrawdown - 0.1) < 1e-12)
        #expect(abs(m.winRate - 2.0 / 3) < 1e-15)
        let bear = run.metrics(.bear)
        #expect(bear.steps == 1 && abs(bear.totalReturn + 0.1) < 1e-12 && bear.winRate == 0)
        let bull = run.metrics(.bull)
        #expect(bull.steps == 2 && abs(bull.totalReturn - 0.21) < 1e-12 && bull.maxDrawdown == 0)
    }

    @Test func reportShowsEverySegmentAndTheSpecialisationNumbers() {
        let ds = Self.dataset, r = Self.range
        // Hand policies: conservative stays flat (no drawdown), aggressive 2x long, balanced long,
        // contrarian fades the z-score.
        let contrarian = ClosureTradingPolicy { obs in obs[2] < -1 ? 2 : (obs[2] > 1 ? 0 : 1) }
        let runs: [(kind: AgentKind, run: TradingRun)] = [
            (.conservative, TradingEvaluation.run(Self.constant(1), agent: .conservative, dataset: ds, range: r)),
            (.aggressive, TradingEvaluation.run(Self.constant(2), agent: .aggressive, dataset: ds, range: r)),
            (.balanced, TradingEvaluation.run(Self.constant(2), agent: .balanced, dataset: ds, range: r)),
            (.contrarian, TradingEvaluation.run(contrarian, agent: .contrarian, dataset: ds, range: r)),
        ]
        let report = TradingEvaluationReport(title: "synthetic", agents: runs, dataset: ds, range: r)
        let md = report.markdown()
        #expect(md.contains("| segment | strategy |"))
        for seg in report.segments {
            for name in ["conservative", "aggressive", "balanced", "contrarian", "buy_and_hold", "sma_10_30"] {
                #expect(md.contains("| \(seg?.description ?? "all") | \(name) |"))
            }
        }
        let checks = report.specialisationChecks()
        #expect(checks.count == 5)
        // Flat beats buy-and-hold on drawdown wherever buy-and-hold lost anything.
        for c in checks.prefix(2) where c.met != nil {
            #expect(c.met == true)
        }
        #expect(md.contains("Specialisation goals"))
    }
}

@Suite struct TradingEvaluationSP500Tests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let path = root.appendingPathComponent("../shared/data/sp500.csv").standardized.path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: path), "../shared/data/sp500.csv is absent"))
    func heldOutStretchOnSP500() throws {
        let ds = try TradingDataset.csv(path: Self.path)
        let from = try #require(OHLCVCSV.parseTimestamp("2013-01-01"))
        let to = try #require(OHLCVCSV.parseTimestamp("2019-01-01"))
        let r = ds.range(from: from, to: to)
        #expect(r.count > 1_400 && r.count < 1_600)  // six years of trading days
        #expect(ds.periodsPerYear == 252)
        // Training never sees the held-out stretch: an environment over the bars before it.
        var env = TradingEnvironment(dataset: ds, config: .training(.balanced), count: 4, range: 0..<r.lowerBound)
        var buf = VectorStepBuffers(count: 4, observationSize: env.observationSize)
        env.reset(seed: 1, into: &buf)
        for _ in 0..<1_000 {
            env.step(actions: [0, 1, 2, 2], into: &buf)
            for i in 0..<4 { #expect(env.currentBar(of: i) < r.lowerBound) }
        }
        // Unlabelled real data: one segment; always-long equals buy-and-hold there too.
        let costs = TradingCosts()
        let longRun = TradingEvaluation.run(
            ClosureTradingPolicy { _ in 2 }, agent: .balanced, dataset: ds, range: r, costs: costs)
        let report = TradingEvaluationReport(
            title: "S&P 500 2013-2018", agents: [(.balanced, longRun)], dataset: ds, range: r, costs: costs)
        #expect(report.segments.count == 1)
        #expect(longRun.netReturns == report.buyAndHold.netReturns)
        let closed = (1 - costs.rate) * ds.closes[r.upperBound - 1] / ds.closes[r.lowerBound]
        #expect(abs(longRun.finalEquity - closed) < 1e-12)
        print(report.markdown())
        // With the detector's causal labels (fitted on the bars before the stretch only).
        let labels = TradingDataset.causalRegimeLabels(bars: ds.bars, fitUntil: r.lowerBound)
        #expect(labels.count == ds.count)
        let labelled = ds.relabelled(labels)
        let longLabelled = TradingEvaluation.run(
            ClosureTradingPolicy { _ in 2 }, agent: .balanced, dataset: labelled, range: r, costs: costs)
        let byRegime = TradingEvaluationReport(
            title: "S&P 500 2013-2018, detector labels", agents: [(.balanced, longLabelled)], dataset: labelled,
            range: r, costs: costs)
        #expect(byRegime.segments.count >= 3)  // six years hold more than one or two regimes
        #expect(Regime.allCases.map { longLabelled.metrics($0).steps }.reduce(0, +) == r.count - 1)
        print(byRegime.markdown())
    }
}
