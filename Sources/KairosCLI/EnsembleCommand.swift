import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation

/// `kairos ensemble`: the regime-aware ensemble of the four trained agents as the engine runs it.
struct EnsembleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensemble",
        abstract: "The four agents + regime detector + meta-agent, as the engine runs them (policy.kind \"ensemble\").",
        subcommands: [EnsembleEvaluate.self, EnsembleFitRegime.self])
}

struct EnsembleEvaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "The ensemble vs each agent alone vs buy-and-hold, through the engine (paper venue, risk), on a held-out synthetic market.")

    @Option(help: "Directory of <kind>.safetensors models.") var models = "models"
    @Option(help: "Regime model JSON (default <models>/regime-hmm.json).") var regimeModel: String?
    @Option(help: "Synthetic scenario.") var scenario = "persistent"
    @Option(help: "Instruments.") var instruments = 4
    @Option(help: "Bars per instrument.") var bars = 20_000
    @Option(help: "Market seed (pick one no model was trained on).") var seed: UInt64 = 9_001
    @Option(parsing: .upToNextOption, help: "Meta-agent rules to compare.") var rules: [String] = ["hedge"]

    func run() throws {
        guard let sc = MarketScenario.presets.first(where: { $0.name == scenario }) else {
            throw ValidationError("unknown scenario \(scenario)")
        }
        let kinds = try rules.map { r -> SelectionPolicyKind in
            guard let k = SelectionPolicyKind(rawValue: r) else { throw ValidationError("unknown rule \(r)") }
            return k
        }
        let model = try GaussianHMMModel.load(path: regimeModel ?? models + "/regime-hmm.json")
        let rows = try EnsembleEvaluation.run(
            modelsDirectory: models, regimeModel: model, scenario: sc, instruments: instruments, bars: bars, seed: seed,
            rules: kinds)
        print("ensemble through the engine: \(scenario), \(instruments) instruments x \(Fmt.int(bars)) bars, seed \(seed)")
        print(EnsembleEvaluation.table(rows))
    }
}

struct EnsembleFitRegime: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit-regime",
        abstract: "Fit the ensemble's Gaussian HMM on synthetic bars built from ticks as the engine builds them.")

    @Option(help: "Synthetic scenario.") var scenario = "persistent"
    @Option(help: "Bars.") var bars = 10_000
    @Option(help: "Market seed.") var seed: UInt64 = 7
    @Option(help: "Output JSON.") var out = "models/regime-hmm.json"

    func run() throws {
        guard let sc = MarketScenario.presets.first(where: { $0.name == scenario }) else {
            throw ValidationError("unknown scenario \(scenario)")
        }
        let b = BarAggregator.synthetic(market: SyntheticMarket(scenario: sc, instruments: 1, seed: seed), count: bars)
        let model = GaussianHMM.fit(bars: b.bars)
        try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try model.save(toPath: out)
        let labels = GaussianHMMFilterRun.causalLabels(model: model, bars: b.bars)
        let acc = zip(labels, b.regimes).filter { $0 == $1 }.count
        print("fitted on \(Fmt.int(bars)) \(scenario) bars (seed \(seed)): causal accuracy vs true regimes \(Fmt.pct(Double(acc) / Double(bars))) -> \(out)")
    }
}

/// The filter's argmax label per bar (causal).
enum GaussianHMMFilterRun {
    static func causalLabels(model: GaussianHMMModel, bars: [Bar]) -> [Regime] {
        var f = GaussianHMMFilter(model: model)
        return f.run(bars: bars).map(\.regime)
    }
}
