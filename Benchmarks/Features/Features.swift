// Streaming feature kernel benchmarks (kairos_features.h): one instrument updated per tick, and
// 1,000 instruments updated in lockstep (structure of arrays) on the scalar and AVX2 paths.
// Written against the C API.
import Benchmark
import CKairos
import KairosBenchSupport

/// A deterministic positive random walk, `steps` x `width` prices (row t = one update of every
/// instrument), precomputed so the measured region only runs the kernel.
func randomWalk(steps: Int, width: Int) -> UnsafeMutableBufferPointer<Double> {
    let p = UnsafeMutableBufferPointer<Double>.allocate(capacity: steps * width)
    var state: UInt64 = 0xFEED_BEEF
    for i in 0..<width {
        var price = 100.0 + Double(i % 50)
        for t in 0..<steps {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Double(state >> 11) / Double(1 << 53) - 0.5  // [-0.5, 0.5)
            price *= 1 + 0.002 * u
            p[t * width + i] = price
        }
    }
    return p
}

/// Kernel state plus its precomputed inputs, built once at registration (the benchmark closure
/// runs once per iteration) so every iteration continues the same warm series.
final class OneInstrument {
    static let steps = 4096
    let state: OpaquePointer
    let prices = randomWalk(steps: steps, width: 1)
    var t = 0
    init() {
        var cfg = kairos_feat_config()
        kairos_feat_config_default(&cfg)
        state = kairos_feat_create(&cfg)!
    }
    deinit {
        kairos_feat_destroy(state)
        prices.deallocate()
    }
}

final class Lockstep {
    static let n = 1000
    static let steps = 256
    let batch: OpaquePointer
    let prices = randomWalk(steps: steps, width: n)
    let out = UnsafeMutableBufferPointer<Double>.allocate(capacity: n * Int(KAIROS_FEAT_COUNT.rawValue))
    var t = 0
    init(path: kairos_simd_path) {
        var cfg = kairos_feat_config()
        kairos_feat_config_default(&cfg)
        batch = kairos_feat_batch_create(&cfg, UInt32(Self.n), path)!
    }
    deinit {
        kairos_feat_batch_destroy(batch)
        prices.deallocate()
        out.deallocate()
    }
}

let benchmarks: @Sendable () -> Void = {
    // One instrument, one update per tick: 1,000 updates per iteration, reported per update.
    let one = OneInstrument()
    Benchmark(
        "Features one instrument update (per op, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        // Locals, not the class's properties, in the loop: inout access to a class property
        // pays a dynamic exclusivity check that would be measured with the kernel.
        let s = one.state
        let prices = one.prices
        var t = one.t
        var input = kairos_feat_input()
        var out = kairos_feat_vector()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let p = prices[t]
            input.price = p
            input.high = p
            input.low = p
            input.buy_volume = 10
            input.sell_volume = 12
            kairos_feat_update(s, &input, &out)
            t = (t + 1) & (OneInstrument.steps - 1)
        }
        benchmark.stopMeasurement()
        one.t = t
        blackHole(out.v.0)
    }

    // 1,000 instruments in lockstep: one batch update per iteration (= the .kilo scaling factor:
    // 1,000 instrument updates), so figures are per instrument.
    let avx2 = kairos_cpu_has_avx2_fma() == 1
    for (label, path, skip) in [("scalar", KAIROS_SIMD_SCALAR, false), ("avx2", KAIROS_SIMD_AVX2, !avx2)] {
        let lock = Lockstep(path: skip ? KAIROS_SIMD_SCALAR : path)
        Benchmark(
            "Features lockstep 1000 instruments (\(label), per instrument, 1K/iter)",
            configuration: KairosBench.configuration(scalingFactor: .kilo, skip: skip)
        ) { benchmark in
            let n = Lockstep.n
            let price = lock.prices.baseAddress! + lock.t * n
            benchmark.startMeasurement()
            kairos_feat_batch_update(lock.batch, price, nil, nil, nil, nil, lock.out.baseAddress)
            benchmark.stopMeasurement()
            lock.t = (lock.t + 1) & (Lockstep.steps - 1)
            blackHole(lock.out[0])
        }
    }
}
