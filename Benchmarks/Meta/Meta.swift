// Meta-agent benchmarks: the per-decision cost of every selection rule (select + update on K = 4
// arms, the bandit loop of the harness) and of one full meta-agent step (decide + record: regime
// posterior, four targets, ramp, performance, regret, posterior-weighted learning). Rewards are
// precomputed Bernoulli draws so the measured region runs the rules only; 0 allocations each.
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

/// Precomputed inputs shared by the suites (built once at registration).
final class MetaFixture {
    static let steps = 4096
    let rewards: [Double]
    let posteriors: [RegimeProbabilities]
    let targets: [[Double]]
    let returns: [[Double]]

    init() {
        rewards = BanditStream.drift.rewards(seed: 1, steps: Self.steps).rewards.values
        var sc = MetaShadowScenario(seed: 1)
        var t = [Double](repeating: 0, count: 4), r = t
        var ps = [RegimeProbabilities](), ts = [[Double]](), rs = [[Double]]()
        for _ in 0..<Self.steps {
            ps.append(sc.step(targets: &t, returns: &r))
            ts.append(t)
            rs.append(r)
        }
        posteriors = ps
        targets = ts
        returns = rs
    }
}

/// One select + update per operation, 1,000 operations per iteration.
func banditBenchmark<P: SelectionPolicy>(_ name: String, _ fx: MetaFixture, _ make: @escaping @Sendable () -> P) {
    Benchmark(
        "Meta \(name) select+update (per decision, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        var p = make()
        // Warm the rule past its initial round-robin so the steady state is measured.
        var t = 0
        let rw = fx.rewards
        for _ in 0..<200 {
            let a = p.select()
            p.update(arm: a, reward: rw[t * 4 + a], weight: 1)
            t += 1
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let a = p.select()
            if P.feedback == .full {
                rw.withUnsafeBufferPointer { all in
                    p.learn(chosen: a, rewards: UnsafeBufferPointer(rebasing: all[(t * 4)..<(t * 4 + 4)]), weight: 1)
                }
            } else {
                p.update(arm: a, reward: rw[t * 4 + a], weight: 1)
            }
            t = (t + 1) & (MetaFixture.steps - 1)
        }
        benchmark.stopMeasurement()
        blackHole(p.score(0))
    }
}

func agentBenchmark<P: SelectionPolicy>(_ name: String, _ fx: MetaFixture, mode: MetaOutputMode, _ make: @escaping @Sendable (Int) -> P) {
    Benchmark(
        "Meta agent \(name) \(mode.rawValue) decide+record (per step, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        var m = MetaAgent<P>(config: MetaAgentConfig(agentNames: MetaShadowScenario.agentNames, mode: mode), makeLearner: make)
        var t = 0
        for _ in 0..<200 {
            _ = m.decide(regime: fx.posteriors[t], targets: fx.targets[t])
            m.record(shadowReturns: fx.returns[t])
            t += 1
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(m.decide(regime: fx.posteriors[t], targets: fx.targets[t]).position)
            m.record(shadowReturns: fx.returns[t])
            t = (t + 1) & (MetaFixture.steps - 1)
        }
        benchmark.stopMeasurement()
    }
}

let benchmarks: @Sendable () -> Void = {
    let fx = MetaFixture()
    banditBenchmark("ucb1", fx) { UCB1(armCount: 4) }
    banditBenchmark("ucbtuned", fx) { UCBTuned(armCount: 4) }
    banditBenchmark("klucb", fx) { KLUCB(armCount: 4) }
    banditBenchmark("ducb", fx) { DiscountedUCB(armCount: 4) }
    banditBenchmark("swucb", fx) { SlidingWindowUCB(armCount: 4) }
    banditBenchmark("thompson", fx) { BetaThompson(armCount: 4, seed: 1) }
    banditBenchmark("gthompson", fx) { GaussianThompson(armCount: 4, seed: 1) }
    banditBenchmark("dthompson", fx) { DiscountedThompson(armCount: 4, seed: 1) }
    banditBenchmark("exp3", fx) { EXP3(armCount: 4, seed: 1) }
    banditBenchmark("exp3ix", fx) { EXP3IX(armCount: 4, seed: 1) }
    banditBenchmark("hedge", fx) { Hedge(armCount: 4, seed: 1) }
    banditBenchmark("egreedy", fx) { EpsilonGreedy(armCount: 4, seed: 1) }
    agentBenchmark("ducb", fx, mode: .select) { _ in DiscountedUCB(armCount: 4) }
    agentBenchmark("hedge", fx, mode: .blend) { r in Hedge(armCount: 4, seed: UInt64(r + 1), discount: 0.99) }
}
