// The ensemble versus each of its agents alone, through the engine: the same Engine, risk manager
// and paper venue as live trading (lockstep Backtest), on a synthetic market the agents never saw.
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import Foundation

/// One row of an `EnsembleEvaluation`.
public struct EnsembleEvaluationRow: Sendable {
    public var name: String
    public var stats: PerformanceStats
    public var fills: UInt64
    public var fees: Double
    /// Meta-agent lead changes and the switching cost it counted (ensembles only).
    public var switches: Int
    public var switchingCost: Double
}

public enum EnsembleEvaluation {
    /// Runs the ensemble with each rule in `rules`, then each agent alone (a one-agent ensemble in
    /// select mode without ramp or hysteresis, i.e. the agent's own decisions through the same
    /// engine), then buy-and-hold, over `bars` bars per instrument of `scenario` with `seed`.
    public static func run(
        modelsDirectory: String, regimeModel: GaussianHMMModel, scenario: MarketScenario, instruments: Int, bars: Int,
        seed: UInt64, rules: [SelectionPolicyKind] = [.hedge], modes: [MetaOutputMode] = [.blend, .select],
        config: AgentEnsembleConfig = .init()
    ) throws -> [EnsembleEvaluationRow] {
        let market = SyntheticMarket(scenario: scenario, instruments: instruments, seed: seed)
        var kc = KairosConfig()
        kc.instruments = (0..<instruments).map { "SYN\($0)" }
        kc.capitalPerInstrument = 100_000
        let builder = try EngineBuilder(config: kc)
        let barNs = scenario.tickIntervalNs * Int64(instruments) * Int64(config.ticksPerBar)
        let ticks = bars * instruments * config.ticksPerBar

        func evaluate(_ name: String, _ policy: some DecisionPolicy) throws -> (EnsembleEvaluationRow, BacktestReport) {
            let engine = try builder.makeBacktestEngine(policy: policy) { ec in
                // Every row under the same limits, those of the whole ensemble (its cap, 2x), so
                // the rows differ by policy only. A backtest of the policies themselves: no price
                // band, throttle or breaker in the way.
                ec.risk = .scaled(
                    capitalPerInstrument: ec.capitalPerInstrument, instruments: instruments, maxExposure: AgentKind.largestLeverageCap)
                ec.risk.priceBandBps = 10_000
                ec.risk.maxOrdersPerSecond = 1_000_000
                ec.risk.maxDrawdown = 0.99
                ec.minRebalanceFraction = 0.05
                Backtest.sampleEquity(every: barNs, in: &ec)
            }
            var source = SyntheticTickSource(market: market, limit: ticks)
            let r = Backtest.run(engine: engine, source: &source)
            let stats = PerformanceStats(
                equity: r.equityCurve.map(\.equity), initialCapital: r.snapshot.initialCapital, periodsPerYear: 252)
            return (EnsembleEvaluationRow(name: name, stats: stats, fills: r.venueFills, fees: r.venueFees, switches: 0, switchingCost: 0), r)
        }

        var rows: [EnsembleEvaluationRow] = []
        for rule in rules {
            for mode in modes {
                var c = config
                c.meta.mode = mode
                let agents = try AgentEnsemble.loadAgents(directory: modelsDirectory)
                let policy = try AgentEnsemble.make(rule: rule, agents: agents, regimeModel: regimeModel, instruments: instruments, config: c)
                var (row, _) = try evaluate("ensemble \(rule.rawValue) \(mode.rawValue)", policy)
                if let p = policy as? any MetaStatistics {
                    row.switches = p.totalSwitches
                    row.switchingCost = p.totalSwitchingCost
                }
                rows.append(row)
            }
        }
        for kind in AgentKind.allCases {
            let url = URL(fileURLWithPath: modelsDirectory).appendingPathComponent("\(kind.name).safetensors")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            var c = config
            c.meta.mode = .select
            c.meta.transitionSteps = 1
            c.meta.minDwell = 1
            let policy = try AgentEnsemble.make(
                rule: .hedge, agents: [try AgentModel.loadPolicy(contentsOf: url)], regimeModel: regimeModel,
                instruments: instruments, config: c)
            rows.append(try evaluate(kind.name, policy).0)
        }
        rows.append(try evaluate("buy and hold", BuyAndHoldPolicy(instruments: instruments)).0)
        return rows
    }

    /// A markdown table of the rows.
    public static func table(_ rows: [EnsembleEvaluationRow]) -> String {
        var out = "| policy | total return | Sharpe | Sortino | max drawdown | fills | fees | switches | switching cost |\n"
        out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for r in rows {
            out += "| \(r.name) | \(Fmt.pct(r.stats.totalReturn)) | \(Fmt.fixed(r.stats.sharpe)) | \(Fmt.fixed(r.stats.sortino)) | "
                + "\(Fmt.pct(r.stats.maxDrawdown)) | \(r.fills) | \(Fmt.money(r.fees)) | \(r.switches) | \(Fmt.fixed(r.switchingCost, 4)) |\n"
        }
        return out
    }
}
