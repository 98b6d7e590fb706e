// PPO training throughput: one PPO iteration on CartPole (rollout of 8 environments × 32 steps
// plus the update: 20 epochs over 256 samples by default, 4 epochs in the throughput variant),
// and the C dense-layer kernels at the training shape (minibatch 256, 64 -> 64).
import Benchmark
import CKairos
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import KairosBenchSupport

/// A minibatch of inputs, weights and gradient buffers for the kernel benchmarks, built once.
final class DenseLayerBuffers {
    let n = 256, nIn = 64, nOut = 64
    let x: UnsafeMutablePointer<Float>
    let w: UnsafeMutablePointer<Float>
    let b: UnsafeMutablePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let dw: UnsafeMutablePointer<Float>
    let db: UnsafeMutablePointer<Float>
    let dx: UnsafeMutablePointer<Float>

    init() {
        var rng = Xoshiro256StarStar(seed: 1)
        func make(_ c: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: c)
            for k in 0..<c { p[k] = Float(rng.nextGaussian() * 0.1) }
            return p
        }
        x = make(n * nIn)
        w = make(nIn * nOut)
        b = make(nOut)
        y = make(n * nOut)
        dw = make(nIn * nOut)
        db = make(nOut)
        dx = make(n * nIn)
    }

    deinit { for p in [x, w, b, y, dw, db, dx] { p.deallocate() } }
}

/// A trainer whose iterations the benchmark runs (built at registration, so setup is not measured).
final class CartPoleTraining {
    let trainer: PPOTrainer<CartPoleVectorEnvironment>
    init(epochs: Int) {
        var config = PPOConfig()
        config.epochs = epochs
        config.annealLearningRate = false
        config.annealClipRange = false
        trainer = PPOTrainer(environment: CartPoleVectorEnvironment(count: config.numEnvironments), config: config, seed: 1)
        trainer.plan(totalSteps: Int.max / 2)
    }
}

let benchmarks: @Sendable () -> Void = {
    let avx2 = kairos_cpu_has_avx2_fma() == 1
    for epochs in [20, 4] {
        let t = CartPoleTraining(epochs: epochs)
        // One iteration = 256 environment steps (8 × 32) including the update: env steps/s is
        // 256 × the throughput column.
        Benchmark(
            "PPO CartPole iteration (256 env steps + \(epochs) epochs, per iteration)",
            configuration: KairosBench.configuration()
        ) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(t.trainer.iterate().steps) }
        }
    }
    for (label, path, skip) in [("avx2", KAIROS_SIMD_AVX2, !avx2), ("scalar", KAIROS_SIMD_SCALAR, false)] {
        let d = DenseLayerBuffers()
        Benchmark("Dense 256x64->64 forward+tanh (\(label))", configuration: KairosBench.configuration(skip: skip)) {
            benchmark in
            for _ in benchmark.scaledIterations {
                kairos_train_dense_forward(path, d.x, d.w, d.b, d.y, UInt32(d.n), UInt32(d.nIn), UInt32(d.nOut), 1)
                blackHole(d.y[0])
            }
        }
        Benchmark("Dense 256x64->64 backward (\(label))", configuration: KairosBench.configuration(skip: skip)) {
            benchmark in
            for _ in benchmark.scaledIterations {
                kairos_train_dense_backward(path, d.x, d.w, d.y, d.dw, d.db, d.dx, UInt32(d.n), UInt32(d.nIn),
                                            UInt32(d.nOut))
                blackHole(d.dx[0])
            }
        }
    }
}
