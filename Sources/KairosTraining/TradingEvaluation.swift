// Agent evaluation on a held-out stretch: each policy and the two baselines run through the SAME
// account (TradingAccount, same costs), then measured overall and per regime segment.
// docs/agents.md, "Evaluation".
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import Foundation

/// Maps an agent observation (`AgentObservation.size` floats) to an action in 0..<3.
public protocol TradingPolicy {
    mutating func action(for observation: UnsafeBufferPointer<Float>) -> Int32
}

/// A policy from a closure (hand-written rules, a trained network's forward pass).
public struct ClosureTradingPolicy: TradingPolicy {
    public let body: (UnsafeBufferPointer<Float>) -> Int32
    public init(_ body: @escaping (UnsafeBufferPointer<Float>) -> Int32) { self.body = body }
    public func action(for observation: UnsafeBufferPointer<Float>) -> Int32 { body(observation) }
}

/// One strategy's bar-by-bar record over an evaluation stretch. Step k is the decision at bar
/// `range.lowerBound + k` and the return of the following bar.
public struct TradingRun: Sendable, Hashable {
    public var name: String
    /// Net simple return of each step (after costs).
    public var netReturns: [Double]
    /// Target position held over each step.
    public var positions: [Double]
    /// Turnover paid at each step.
    public var turnovers: [Double]
    /// Label of the bar each step's return is earned on (nil: unlabelled).
    public var labels: [Regime]?
    public var periodsPerYear: Double

    /// Final equity of the whole run (initial 1).
    public var finalEquity: Double { netReturns.reduce(1) { $0 * (1 + $1) } }

    /// Metrics over every step, or only the steps earned in `regime` (concatenated, as if the
    /// segments were one stretch).
    public func metrics(_ regime: Regime? = nil) -> TradingMetrics {
        var equity = [Double]()
        equity.reserveCapacity(netReturns.count)
        var e = 1.0, turnover = 0.0, invested = 0, wins = 0
        for k in netReturns.indices {
            if let regime {
                guard let labels, labels[k] == regime else { continue }
            }
            e *= 1 + netReturns[k]
            equity.append(e)
            turnover += turnovers[k]
            if positions[k] != 0 {
                invested += 1
                if netReturns[k] > 0 { wins += 1 }
            }
        }
        let s = PerformanceStats(equity: equity, initialCapital: 1, periodsPerYear: periodsPerYear)
        return TradingMetrics(
            steps: equity.count, totalReturn: s.totalReturn, sharpe: s.sharpe, sortino: s.sortino,
            maxDrawdown: s.maxDrawdown, turnover: turnover, winRate: invested > 0 ? Double(wins) / Double(invested) : 0)
    }
}

/// Summary of a run or of one regime segment of it.
public struct TradingMetrics: Sendable, Hashable {
    public var steps: Int
    /// Compounded net return over the steps.
    public var totalReturn: Double
    /// Annualised Sharpe and Sortino of the per-step net returns (`PerformanceStats`).
    public var sharpe: Double
    public var sortino: Double
    /// Largest peak-to-trough fall of the compounded equity (positive fraction).
    public var maxDrawdown: Double
    /// Sum of |position change| (fractions of equity) over the steps.
    public var turnover: Double
    /// Fraction of invested steps (position != 0) with a positive net return.
    public var winRate: Double
}

/// Runs policies and baselines over a stretch of a `TradingDataset`.
///
/// Implementation Notes: every strategy goes through `TradingAccount` with the same costs, one
/// pass, O(steps); the runs' arrays are the only allocations. The observation of bar t is the
/// dataset's market row t plus the account entries, exactly what `TradingEnvironment` shows.
public enum TradingEvaluation {
    /// Runs `policy` as agent `agent` (its leverage cap maps actions to targets) over bars
    /// `range` (decisions at range.lowerBound ..< range.upperBound - 1), starting flat.
    public static func run<P: TradingPolicy>(
        _ policy: P, agent: AgentKind, dataset: TradingDataset, range: Range<Int>, costs: TradingCosts = TradingCosts(),
        labels: [Regime]? = nil, name: String? = nil
    ) -> TradingRun {
        var policy = policy
        var obs = [Float](repeating: 0, count: AgentObservation.size)
        let m = AgentObservation.marketSize
        return simulate(name: name ?? agent.name, dataset: dataset, range: range, costs: costs, labels: labels) {
            t, account in
            obs.withUnsafeMutableBufferPointer { o in
                dataset.market.withUnsafeBufferPointer { mk in
                    o.baseAddress!.update(from: mk.baseAddress! + t * m, count: m)
                }
                AgentObservation.writeAccount(
                    position: account.target, unrealizedPnLBps: account.unrealizedPnLBps(price: dataset.closes[t]),
                    into: o.baseAddress!)
            }
            let a = obs.withUnsafeBufferPointer { policy.action(for: $0) }
            return agent.targetPosition(action: a)
        }
    }

    /// Buy-and-hold: target 1 from the first decision on (so, with `TradingAccount`, units bought
    /// once and held: no rebalancing trades).
    public static func buyAndHold(
        dataset: TradingDataset, range: Range<Int>, costs: TradingCosts = TradingCosts(), labels: [Regime]? = nil
    ) -> TradingRun {
        simulate(name: "buy_and_hold", dataset: dataset, range: range, costs: costs, labels: labels) { _, _ in 1 }
    }

    /// SMA(fast/slow) crossover, long-only (`SMACrossoverPolicy`'s rule: 1 when fast > slow, 0
    /// when below, hold when equal), warmed up on up to `slow` bars before the stretch so it
    /// trades from the first decision like the agents (whose features are warm too).
    public static func smaCrossover(
        dataset: TradingDataset, range: Range<Int>, costs: TradingCosts = TradingCosts(), labels: [Regime]? = nil,
        fast: Int = 10, slow: Int = 30
    ) -> TradingRun {
        var sma = SMACrossoverPolicy(instruments: 1, fast: fast, slow: slow)
        for t in max(0, range.lowerBound - slow)..<range.lowerBound { sma.update(instrument: 0, price: dataset.closes[t]) }
        return simulate(name: "sma_\(fast)_\(slow)", dataset: dataset, range: range, costs: costs, labels: labels) {
            t, account in
            guard let (f, s) = sma.update(instrument: 0, price: dataset.closes[t]) else { return account.target }
            return f > s ? 1 : (f < s ? 0 : account.target)
        }
    }

    /// The shared loop: `decide(t, account)` gives the target at bar t's close.
    static func simulate(
        name: String, dataset: TradingDataset, range: Range<Int>, costs: TradingCosts, labels: [Regime]?,
        decide: (Int, TradingAccount) -> Double
    ) -> TradingRun {
        precondition(range.lowerBound >= 0 && range.upperBound <= dataset.count && range.count >= 2, "bad range")
        let lab = labels ?? dataset.regimes
        if let lab { precondition(lab.count == dataset.count, "one label per dataset bar") }
        let n = range.count - 1
        var run = TradingRun(
            name: name, netReturns: [], positions: [], turnovers: [], labels: lab == nil ? nil : [],
            periodsPerYear: dataset.periodsPerYear)
        run.netReturns.reserveCapacity(n)
        run.positions.reserveCapacity(n)
        run.turnovers.reserveCapacity(n)
        var account = TradingAccount()
        let rate = costs.rate
        for t in range.lowerBound..<(range.upperBound - 1) {
            let p = account.ruined ? 0 : decide(t, account)
            let st = account.ruined
                ? TradingStep(turnover: 0, cost: 0, netReturn: 0, drawdownBefore: 1, drawdownAfter: 1, ruined: true)
                : account.step(target: p, price: dataset.closes[t], nextPrice: dataset.closes[t + 1], costRate: rate)
            run.netReturns.append(st.netReturn)
            run.positions.append(p)
            run.turnovers.append(st.turnover)
            if let lab { run.labels!.append(lab[t + 1]) }
        }
        return run
    }
}

/// Agents beside the baselines over one stretch, with the markdown report.
public struct TradingEvaluationReport: Sendable {
    public var agents: [(kind: AgentKind, run: TradingRun)]
    public var buyAndHold: TradingRun
    public var sma: TradingRun
    /// Title line of the table (data, stretch).
    public var title: String

    /// Runs the baselines on the same stretch and costs and gathers the agents' runs.
    public init(
        title: String, agents: [(kind: AgentKind, run: TradingRun)], dataset: TradingDataset, range: Range<Int>,
        costs: TradingCosts = TradingCosts(), labels: [Regime]? = nil
    ) {
        self.title = title
        self.agents = agents
        buyAndHold = TradingEvaluation.buyAndHold(dataset: dataset, range: range, costs: costs, labels: labels)
        sma = TradingEvaluation.smaCrossover(dataset: dataset, range: range, costs: costs, labels: labels)
        for a in agents {
            precondition(
                a.run.netReturns.count == buyAndHold.netReturns.count && a.run.labels == buyAndHold.labels,
                "agent runs must cover the same stretch with the same labels as the report")
        }
    }

    var runs: [TradingRun] { agents.map(\.run) + [buyAndHold, sma] }

    /// The segments reported: all steps, then each regime present in the labels.
    public var segments: [Regime?] {
        guard let labels = buyAndHold.labels else { return [nil] }
        return [nil] + Regime.allCases.filter { labels.contains($0) }
    }

    /// One markdown table: a row per segment and strategy.
    public func markdownTable() -> String {
        var s = "#### \(title)\n\n"
        s += "| segment | strategy | steps | total return % | Sharpe | Sortino | max DD % | turnover | win rate % |\n"
        s += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
        for seg in segments {
            for run in runs {
                let m = run.metrics(seg)
                s += "| \(seg?.description ?? "all") | \(run.name) | \(m.steps) | \(f(m.totalReturn * 100)) | "
                s += "\(f(m.sharpe)) | \(f(m.sortino)) | \(f(m.maxDrawdown * 100)) | \(f(m.turnover)) | "
                s += "\(f(m.winRate * 100)) |\n"
            }
        }
        return s
    }

    /// The issue's specialisation goals, each with the numbers it compares and whether it is met
    /// (nil when the agent or segment needed is missing).
    public func specialisationChecks() -> [(goal: String, detail: String, met: Bool?)] {
        func run(_ k: AgentKind) -> TradingRun? { agents.first { $0.kind == k }?.run }
        var out: [(String, String, Bool?)] = []
        let present = Set(segments.compactMap { $0 })
        for reg in [Regime.bear, .volatile] {
            let goal = "conservative max DD < buy-and-hold max DD in \(reg)"
            if let c = run(.conservative), present.contains(reg) {
                let a = c.metrics(reg).maxDrawdown, b = buyAndHold.metrics(reg).maxDrawdown
                out.append((goal, "\(f(a * 100)) % vs \(f(b * 100)) %", a < b))
            } else { out.append((goal, "n/a", nil)) }
        }
        do {
            let goal = "aggressive total return > SMA(10/30) in bull"
            if let a = run(.aggressive), present.contains(.bull) {
                let x = a.metrics(.bull).totalReturn, y = sma.metrics(.bull).totalReturn
                out.append((goal, "\(f(x * 100)) % vs \(f(y * 100)) %", x > y))
            } else { out.append((goal, "n/a", nil)) }
        }
        do {
            let goal = "contrarian Sharpe > 0 in sideways"
            if let c = run(.contrarian), present.contains(.sideways) {
                let x = c.metrics(.sideways).sharpe
                out.append((goal, f(x), x > 0))
            } else { out.append((goal, "n/a", nil)) }
        }
        do {
            let goal = "balanced has the best overall Sharpe of the four"
            let all = AgentKind.allCases.compactMap { k in run(k).map { (k, $0.metrics().sharpe) } }
            if all.count == 4, let b = all.first(where: { $0.0 == .balanced }) {
                let detail = all.map { "\($0.0) \(f($0.1))" }.joined(separator: ", ")
                out.append((goal, detail, all.allSatisfy { $0.0 == .balanced || $0.1 < b.1 }))
            } else { out.append((goal, "n/a", nil)) }
        }
        return out
    }

    /// The table followed by the specialisation goals as a list.
    public func markdown() -> String {
        var s = markdownTable() + "\nSpecialisation goals:\n\n"
        for c in specialisationChecks() {
            let mark = c.met.map { $0 ? "met" : "MISSED" } ?? "not measurable"
            s += "- \(c.goal): \(c.detail) — \(mark)\n"
        }
        return s
    }

    private func f(_ x: Double) -> String { String(format: "%.2f", x) }
}
