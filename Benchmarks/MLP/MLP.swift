// MLP inference benchmarks: the agent policy shape 16 -> 64 -> 64 -> 3 (tanh, tanh, identity),
// four agents per decision, through the Swift wrapper's zero-allocation forward and through the
// C API directly, on the AVX2+FMA and the scalar kernels.
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

/// Four agents' networks with fixed pseudo-random weights and their I/O buffers, built in setup so
/// the measured region only runs forward passes.
final class AgentNets {
    static let sizes = [16, 64, 64, 3]
    let nets: [MLP]
    let input: UnsafeMutableBufferPointer<Float>
    let output: UnsafeMutableBufferPointer<Float>

    init(path: MLP.Path) {
        var state: UInt64 = 0x5EED
        func next() -> Float {  // xorshift: deterministic weights in [-0.25, 0.25)
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Float(state >> 40) / Float(1 << 24) * 0.5 - 0.25
        }
        nets = (0..<4).map { _ in
            let m = try! MLP(layerSizes: Self.sizes, activations: [.tanh, .tanh, .identity])
            for l in 0..<3 {
                let w = (0..<(Self.sizes[l] * Self.sizes[l + 1])).map { _ in next() }
                let b = (0..<Self.sizes[l + 1]).map { _ in next() }
                try! m.setLayer(l, weights: w, bias: b)
            }
            m.path = path
            return m
        }
        input = .allocate(capacity: 16)
        output = .allocate(capacity: 4 * 3)
        for i in 0..<16 { input[i] = next() * 4 }
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }
}

/// One C-API network (the weights of agent 0) for the per-forward benchmark.
final class CNet {
    let m: OpaquePointer
    let io: AgentNets
    init(path: kairos_simd_path) {
        var dims: [UInt32] = [16, 64, 64, 3]
        var acts = [KAIROS_ACT_TANH, KAIROS_ACT_TANH, KAIROS_ACT_IDENTITY]
        m = kairos_mlp_create(3, &dims, &acts)!
        io = AgentNets(path: .scalar)
        for l in 0..<3 {
            let (w, b) = try! io.nets[0].layer(l)
            precondition(kairos_mlp_set_layer(m, UInt32(l), w, b) == 0)
        }
        precondition(kairos_mlp_set_path(m, path) == 0)
    }
    deinit { kairos_mlp_destroy(m) }
}

// The benchmark closure runs once per iteration, so state is built here, at registration, and
// captured: the measured region then sees warm, long-lived state as the engine would.
let benchmarks: @Sendable () -> Void = {
    let avx2 = kairos_cpu_has_avx2_fma() == 1

    for (label, path, skip) in [("avx2", MLP.Path.avx2, !avx2), ("scalar", MLP.Path.scalar, false)] {
        // One decision: all four agents evaluate the same feature vector.
        let agents = AgentNets(path: skip ? .scalar : path)
        Benchmark(
            "MLP 16-64-64-3 x4 agents (\(label))",
            configuration: KairosBench.configuration(skip: skip)
        ) { benchmark in
            let input = UnsafeBufferPointer(agents.input)
            let output = agents.output
            let nets = agents.nets
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for k in 0..<4 {
                    nets[k].forward(input, into: UnsafeMutableBufferPointer(rebasing: output[(3 * k)..<(3 * k + 3)]))
                }
                blackHole(output[0])
            }
        }

        // One forward through the C API, 1,000 per iteration so timer overhead vanishes: per op.
        let c = CNet(path: skip || path == .scalar ? KAIROS_SIMD_SCALAR : KAIROS_SIMD_AVX2)
        Benchmark(
            "MLP 16-64-64-3 C forward (\(label), per op, 1K/iter)",
            configuration: KairosBench.configuration(scalingFactor: .kilo, skip: skip)
        ) { benchmark in
            let m = c.m
            let input = c.io.input.baseAddress!
            let output = c.io.output.baseAddress!
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                kairos_mlp_forward(m, input, output)
                input[0] = output[0] * 1e-3  // a data dependency between calls, as in a real feed
            }
            blackHole(output[0])
        }
    }
}
