// The ensemble's per-tick cost as the engine runs it (one tick = one bar): the engine's data stage
// (sequence tracking, validation, tick features, the bar aggregator, bar features, the regime HMM
// step) and the policy (four agents' MLPs on their shadow books, meta-agent decide + record). Uses
// the committed models (../models); 0 allocations in the measured region.
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
        "Ensemble \(rule.rawValue) \(mode.rawValue) decision (data stage + 4 agents + HMM + meta, per bar, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        var c = AgentEnsembleConfig()
        c.meta.mode = mode
        let agents = try AgentEnsemble.loadAgents(directory: modelsDirectory)
        let regime = try GaussianHMMModel.load(path: modelsDirectory + "/regime-hmm.json")
        let policy = try AgentEnsemblePolicy<P>(agents: agents, regimeModel: regime, instruments: 1, config: c) { k, seed in
            rule.make(armCount: k, seed: seed) as! P
        }
        let data = try MarketDataStage(instruments: 1, requirements: policy.dataRequirements)
        // Precomputed ticks of the persistent market (one instrument): the region runs the data
        // stage and the policy only.
        let n = 1 << 16
        var ticks = [Tick](repeating: Tick(), count: n)
        var market = SyntheticMarket(scenario: .persistent, instruments: 1, seed: 3)
        for k in 0..<n { _ = market.nextTick(into: &ticks[k]) }
        let span = ticks[n - 1].ts_exchange_ns - ticks[0].ts_exchange_ns + 1
        var t = 0, lap: Int64 = 0
        // One tick through the data stage and the policy; a replay of the tape is moved forward in
        // time and sequence so the data stage sees a continuing feed, not duplicates.
        func step() {
            var tick = ticks[t]
            tick.seq &+= UInt64(lap) &* UInt64(n)
            tick.ts_exchange_ns &+= lap &* span
            if data.ingest(tick, now: tick.ts_exchange_ns).outcome == .accepted {
                blackHole(policy.decide(data.context(instrument: 0, tick: tick, position: 0, exposure: 0, now: tick.ts_exchange_ns)))
            }
            t += 1
            if t == n {
                t = 0
                lap += 1
            }
        }
        for _ in 0..<2_000 { step() }  // past warm-up, learners and histograms in steady state
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { step() }
        benchmark.stopMeasurement()
        ticks.removeAll()
    }
}

let benchmarks: @Sendable () -> Void = {
    ensembleBenchmark(.hedge, Hedge.self, mode: .blend)
    ensembleBenchmark(.ducb, DiscountedUCB.self, mode: .select)
}
