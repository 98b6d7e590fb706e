// Regime detection benchmarks: the fitted HMM's online forward filter (features + one O(K^2)
// step per bar), the oracle's step and the jump model's forward step. The fit (10,000 bars, 4 restarts) is not a suite member:
// it allocates its working arrays by design and run.sh fails any benchmark that allocates; its
// time is printed by `kairos regimes evaluate --train-bars 10000` (docs/regimes.md).
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

/// A fitted model, its filter and a precomputed series of log closes, built once at registration
/// so the measured region only runs updates.
final class RegimeFixture {
    static let steps = 4096
    var filter: GaussianHMMFilter
    var oracle: OracleRegimeFilter
    var jump: JumpModelDetector
    let logCloses: UnsafeMutableBufferPointer<Double>
    var t = 0

    init() {
        var m = SyntheticMarket(scenario: .persistent, instruments: 1, seed: 42)
        let train = m.bars(count: 10_000).bars
        let model = GaussianHMM.fit(bars: train)
        jump = JumpModelDetector(model: JumpModel.fit(bars: train))
        let test = m.bars(count: Self.steps).bars
        logCloses = .allocate(capacity: Self.steps)
        for i in 0..<Self.steps { logCloses[i] = log(test[i].close) }
        filter = GaussianHMMFilter(model: model)
        filter.reset(logPrice: log(test[0].open))
        oracle = OracleRegimeFilter(scenario: .persistent)!
        oracle.reset(logPrice: log(test[0].open))
        jump.reset(logPrice: log(test[0].open))
    }
    deinit { logCloses.deallocate() }
}

let benchmarks: @Sendable () -> Void = {
    let fx = RegimeFixture()

    // The series wraps around after 4,096 bars: the return at the wrap is one large jump, which
    // the filter handles like any other bar (no special path).
    Benchmark(
        "Regime HMM online update (per bar, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        let xs = fx.logCloses
        var f = fx.filter
        var t = fx.t
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(f.update(logPrice: xs[t]).confidence)
            t = (t + 1) & (RegimeFixture.steps - 1)
        }
        benchmark.stopMeasurement()
        fx.filter = f
        fx.t = t
    }

    Benchmark(
        "Regime oracle update (per bar, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        let xs = fx.logCloses
        var o = fx.oracle
        var t = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(o.update(logPrice: xs[t]).confidence)
            t = (t + 1) & (RegimeFixture.steps - 1)
        }
        benchmark.stopMeasurement()
        fx.oracle = o
    }

    Benchmark(
        "Regime jump model online update (per bar, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        let xs = fx.logCloses
        var j = fx.jump
        var t = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(j.update(logPrice: xs[t]).confidence)
            t = (t + 1) & (RegimeFixture.steps - 1)
        }
        benchmark.stopMeasurement()
        fx.jump = j
    }
}
