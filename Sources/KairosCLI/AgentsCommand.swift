import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation

/// `kairos agents`: the trained trading agents on their own (the ensemble is `kairos ensemble`).
struct AgentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "The four trained trading agents: evaluation on held-out data.",
        subcommands: [AgentsEvaluate.self])
}

struct AgentsEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Each agent (greedy, from its model file) vs buy-and-hold and SMA(10/30), per regime, on a held-out stretch.",
        discussion: """
            Synthetic data uses the true regime labels; real data the detector's causal labels (HMM \
            fitted on the bars before --from only). Prints a markdown table (total return, annualised \
            Sharpe, Sortino, max drawdown, turnover, win rate) and the four specialisation goals.

            Examples:
              kairos agents evaluate --synthetic --seed 9001 --bars 20000 --models models
              kairos agents evaluate --data ../shared/data/sp500.csv --from 2013-01-01 --to 2018-12-31 --models models/sp500
            """)

    @Option(help: "Directory of <kind>.safetensors models.") var models = "models"
    @Flag(help: "Evaluate on a fresh synthetic market.") var synthetic = false
    @Option(help: "Synthetic scenario.") var scenario = "persistent"
    @Option(help: "Synthetic market seed (pick one no model was trained on).") var seed: UInt64 = 9_001
    @Option(help: "Synthetic bars.") var bars = 20_000
    @Option(help: "OHLCV CSV.") var data: String?
    @Option(help: "CSV: first held-out day (YYYY-MM-DD).") var from: String?
    @Option(help: "CSV: last held-out day (YYYY-MM-DD, inclusive; default: the end).") var to: String?
    @Option(help: "Fees + half-spread, bps of traded notional.") var costBps = 1.0
    @Option(help: "Slippage, bps of traded notional.") var slippageBps = 1.0
    @Option(help: "Also write the markdown report to this file.") var out: String?

    func run() throws {
        guard costBps >= 0, slippageBps >= 0 else { throw ValidationError("costs must be >= 0") }
        let costs = TradingCosts(costBps: costBps, slippageBps: slippageBps)
        let loaded = try AgentsEvaluation.loadModels(directory: models)
        let report: TradingEvaluationReport
        if synthetic {
            guard data == nil else { throw ValidationError("--synthetic and --data are exclusive") }
            guard let sc = MarketScenario.presets.first(where: { $0.name == scenario }) else {
                throw ValidationError("unknown --scenario \(scenario)")
            }
            guard bars > AgentsEvaluation.syntheticWarmup + 2 else { throw ValidationError("--bars too small") }
            let seeds = Set(loaded.compactMap { $0.policy.metadata.extra["data_seed"] })
            if seeds.contains(String(seed)) {
                print("warning: seed \(seed) is a training seed of these models; the stretch is not held out")
            }
            report = try AgentsEvaluation.synthetic(models: loaded, scenario: sc, seed: seed, bars: bars, costs: costs)
        } else if let data {
            guard let from, let t0 = OHLCVCSV.parseTimestamp(from) else { throw ValidationError("--from YYYY-MM-DD is required with --data") }
            var t1: Int64? = nil
            if let to {
                guard let t = OHLCVCSV.parseTimestamp(to) else { throw ValidationError("bad --to date") }
                t1 = t &+ 86_400_000_000_000
            }
            let ds = try TradingDataset.csv(path: data)
            let range = ds.range(from: t0, to: t1)
            guard range.lowerBound >= 50, range.count >= 30 else {
                throw ValidationError("need >= 50 bars before --from (detector fit) and >= 30 after")
            }
            report = AgentsEvaluation.realData(
                models: loaded, dataset: ds, range: range, name: (data as NSString).lastPathComponent, costs: costs)
        } else {
            throw ValidationError("give --synthetic or --data X.csv --from YYYY-MM-DD")
        }
        print("models: " + loaded.map { m in
            let v = m.policy.metadata.extra["validation_score"].map { " (validation \($0))" } ?? ""
            return m.kind.name + v
        }.joined(separator: ", "))
        let md = report.markdown()
        print(report.markdownTable())
        print("Specialisation goals:")
        for line in AgentsEvaluation.goalLines(report) { print("  " + line) }
        let checks = report.specialisationChecks()
        let hits = checks.filter { $0.met == true }.count, measurable = checks.filter { $0.met != nil }.count
        print("\(hits) of \(measurable) measurable goals hit")
        if let out { try md.write(toFile: out, atomically: true, encoding: .utf8) }
    }
}
