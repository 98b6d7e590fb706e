// The ensemble policy's per-tick cost as the engine calls it (one tick = one bar): bar builder,
// feature update, regime HMM step, four agents' MLPs on their shadow books, meta-agent decide +
// record. Uses the committed models (../models); 0 allocations in the measured region.
import Benchmark
import Foundation
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import KairosBenchSupport

/// The committed models directory, found from this file's location (Benchmarks/Ensemble/).
let modelsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("models").path

func ensembleBenchmark<P: SelectionPolicy>(_ rule: SelectionPolicyKind, _: P.Type, mode: MetaOutputMode) {
    Benchmark(
        "Ensemble \(rule.rawValue) \(mode.rawValue) decision (4 agents + HMM + meta, per bar, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        var c = AgentEnsembleConfig()
        c.meta.mode = mode
        let agents = try AgentEnsemble.loadAgents(directory: modelsDirectory)
        let regime = try GaussianHMMModel.load(path: modelsDirectory + "/regime-hmm.json")
        let policy = try AgentEnsemblePolicy<P>(agents: agents, regimeModel: regime, instruments: 1, config: c) { k, seed in
            rule.make(armCount: k, seed: seed) as! P
        }
        // Precomputed ticks of the persistent market (one instrument): the region runs the policy only.
        let n = 1 << 16
        var ticks = [Tick](repeating: Tick(), count: n)
        var market = SyntheticMarket(scenario: .persistent, instruments: 1, seed: 3)
        for k in 0..<n { _ = market.nextTick(into: &ticks[k]) }
        var contexts = ticks.map {
            DecisionContext(
                instrument: InstrumentID($0.instrument), tick: $0, price: ($0.bid + $0.ask) / 2, features: FeatureVector(),
                featureUpdates: 0, position: 0, exposure: 0, now: $0.ts_exchange_ns)
        }
        var t = 0
        for _ in 0..<2_000 {  // past warm-up, learners and histograms in steady state
            blackHole(policy.decide(contexts[t]))
            t += 1
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(policy.decide(contexts[t]))
            t = (t + 1) & (n - 1)
        }
        benchmark.stopMeasurement()
        contexts.removeAll()
    }
}

let benchmarks: @Sendable () -> Void = {
    ensembleBenchmark(.hedge, Hedge.self, mode: .blend)
    ensembleBenchmark(.ducb, DiscountedUCB.self, mode: .select)
}
