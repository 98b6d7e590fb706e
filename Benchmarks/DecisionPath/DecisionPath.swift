// The engine's whole in-process decision path with the baseline policy: a synthetic tick goes
// through the inbound ring, validation, the feature kernel, the SMA(10/30) policy, sizing, the risk
// manager and the outbound ring, and the paper venue answers the orders (acks and fills come back
// through the executions ring). `DecisionPathHarness` lives in KairosTesting (with cross-module optimisation) so the generic
// engine is specialised exactly as in the product.
//
// Two views of the same path: mean cost per tick over 1,000 ticks per iteration (throughput and the
// zero-allocation check), and one tick per iteration (the per-tick latency distribution).
import Benchmark
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import KairosBenchSupport

let benchmarks: @Sendable () -> Void = {
    // Built once at registration: the benchmark closure runs once per iteration.
    let harness = try! DecisionPathHarness(instruments: 8)
    for _ in 0..<100_000 { harness.step() }  // warm: features, SMA windows, venue

    Benchmark(
        "Decision path, 8 instruments, SMA baseline (per tick, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(harness.step())
        }
        benchmark.stopMeasurement()
    }

    // One tick per iteration: package-benchmark's percentiles are then per-tick latencies (each
    // includes the benchmark's own clock reads, tens of ns), which is what p99/p99.9 should mean.
    Benchmark(
        "Decision path, 8 instruments, SMA baseline (one tick per iteration)",
        configuration: KairosBench.configuration()
    ) { benchmark in
        benchmark.startMeasurement()
        blackHole(harness.step())
        benchmark.stopMeasurement()
    }
}
