import CKairos
import Foundation
import Testing

@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting


/// The naive reference: row-major [out][in] weights, everything in Double, exact tanh.
private struct ReferenceMLP {
    var sizes: [Int]
    var acts: [MLP.Activation]
    var weights: [[Float]]
    var biases: [[Float]]

    func forward(_ input: [Float]) -> [Double] {
        var x = input.map(Double.init)
        for l in 0..<acts.count {
            let nIn = sizes[l], nOut = sizes[l + 1]
            var y = [Double](repeating: 0, count: nOut)
            for o in 0..<nOut {
                var s = Double(biases[l][o])
                for i in 0..<nIn { s += Double(weights[l][o * nIn + i]) * x[i] }
                switch acts[l] {
                case .identity: y[o] = s
                case .tanh: y[o] = Foundation.tanh(s)
                case .relu: y[o] = max(0, s)
                }
            }
            x = y
        }
        return x
    }
}

/// Random network (weights ~ U(-2/sqrt(in), 2/sqrt(in)) so pre-activations reach tanh's
/// saturated range and ReLU's negative side) loaded into both an MLP and the reference.
private func makeNetwork(_ sizes: [Int], _ acts: [MLP.Activation], rng: inout SplitMix64) throws -> (MLP, ReferenceMLP) {
    let mlp = try MLP(layerSizes: sizes, activations: acts)
    var ref = ReferenceMLP(sizes: sizes, acts: acts, weights: [], biases: [])
    for l in 0..<acts.count {
        let scale = 2 / Float(sizes[l]).squareRoot()
        let w = (0..<(sizes[l] * sizes[l + 1])).map { _ in Float.random(in: -scale...scale, using: &rng) }
        let b = (0..<sizes[l + 1]).map { _ in Float.random(in: -0.5...0.5, using: &rng) }
        try mlp.setLayer(l, weights: w, bias: b)
        ref.weights.append(w)
        ref.biases.append(b)
    }
    return (mlp, ref)
}

private let shapes: [([Int], [MLP.Activation])] = [
    ([16, 64, 64, 3], [.tanh, .tanh, .identity]),  // the agent policy shape
    ([13, 37, 5], [.relu, .tanh]),                   // nothing a multiple of 8
    ([1, 1], [.tanh]),
    ([8, 8], [.identity]),
    ([70, 130, 9], [.relu, .identity]),              // > 64 outputs: several 8-block groups
    ([5, 3, 17, 2, 40], [.tanh, .relu, .identity, .tanh]),
]

private var availablePaths: [MLP.Path] { SystemInfo.hasAVX2 ? [.scalar, .avx2] : [.scalar] }

@Suite("MLP")
struct MLPTests {
    /// Tolerance: |y - ref| <= 1e-5 * (1 + |ref|). Float32 sums of up to 130 terms of size O(1)
    /// plus the tanh approximation (<= 5e-7 per unit, damped by later layers) stay well below
    /// it; a single wrong or misplaced weight moves outputs by ~1e-2 or more.
    static let tolerance = 1e-5

    @Test("matches a double-precision reference on every path", arguments: shapes.indices)
    func matchesReference(_ shapeIndex: Int) throws {
        let (sizes, acts) = shapes[shapeIndex]
        var rng = SplitMix64(seed: 0xC0FFEE &+ UInt64(shapeIndex))
        let (mlp, ref) = try makeNetwork(sizes, acts, rng: &rng)
        for path in availablePaths {
            mlp.path = path
            #expect(mlp.path == path)
            var worst = 0.0
            for _ in 0..<200 {
                let input = (0..<sizes[0]).map { _ in Float.random(in: -3...3, using: &rng) }
                let got = mlp.forward(input)
                let want = ref.forward(input)
                #expect(got.count == want.count)
                for (g, w) in zip(got, want) {
                    let err = abs(Double(g) - w)
                    worst = max(worst, err / (1 + abs(w)))
                    #expect(err <= Self.tolerance * (1 + abs(w)), "shape \(sizes) path \(path): \(g) vs \(w)")
                }
            }
            print("MLP \(sizes) \(path): worst scaled error \(worst)")
        }
    }

    @Test("NaN inputs propagate to every output on every path", arguments: shapes.indices)
    func nanPropagates(_ shapeIndex: Int) throws {
        let (sizes, acts) = shapes[shapeIndex]
        var rng = SplitMix64(seed: 5 &+ UInt64(shapeIndex))
        let (mlp, _) = try makeNetwork(sizes, acts, rng: &rng)
        var input = (0..<sizes[0]).map { _ in Float.random(in: -1...1, using: &rng) }
        input[sizes[0] - 1] = .nan
        for path in availablePaths {
            mlp.path = path
            let out = mlp.forward(input)
            #expect(out.allSatisfy { $0.isNaN }, "shape \(sizes) path \(path): \(out)")
        }
        #expect(kairos_mlp_tanh_approx(.nan).isNaN)
    }

    @Test("scalar and AVX2 paths agree", .enabled(if: SystemInfo.hasAVX2), arguments: shapes.indices)
    func pathsAgree(_ shapeIndex: Int) throws {
        let (sizes, acts) = shapes[shapeIndex]
        var rng = SplitMix64(seed: 42 &+ UInt64(shapeIndex))
        let (mlp, _) = try makeNetwork(sizes, acts, rng: &rng)
        for _ in 0..<100 {
            let input = (0..<sizes[0]).map { _ in Float.random(in: -3...3, using: &rng) }
            mlp.path = .scalar
            let s = mlp.forward(input)
            mlp.path = .avx2
            let v = mlp.forward(input)
            // Same sums in a different association (FMA, partial sums): a few ulps apart.
            for (a, b) in zip(s, v) { #expect(abs(a - b) <= 2e-6 * (1 + abs(a)), "\(a) vs \(b)") }
        }
    }

    @Test("auto resolves to AVX2 exactly when the CPU has it")
    func autoPath() throws {
        let mlp = try MLP(layerSizes: [4, 4], activations: [.identity])
        #expect(mlp.path == (SystemInfo.hasAVX2 ? .avx2 : .scalar))
        mlp.path = .scalar
        mlp.path = .auto
        #expect(mlp.path == (SystemInfo.hasAVX2 ? .avx2 : .scalar))
        if !SystemInfo.hasAVX2 { #expect(throws: MLP.Error.pathUnavailable) { try mlp.setPath(.avx2) } }
    }

    @Test("setLayer / layer round trip exactly; new networks are zero")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 7)
        let (mlp, ref) = try makeNetwork([13, 37, 5], [.relu, .tanh], rng: &rng)
        for l in 0..<2 {
            let (w, b) = try mlp.layer(l)
            #expect(w == ref.weights[l])
            #expect(b == ref.biases[l])
        }
        let fresh = try MLP(layerSizes: [13, 37, 5], activations: [.tanh, .identity])
        #expect(try fresh.layer(0).weights.allSatisfy { $0 == 0 })
        #expect(try fresh.layer(1).bias.allSatisfy { $0 == 0 })
        for path in availablePaths {
            fresh.path = path
            #expect(fresh.forward([Float](repeating: 1, count: 13)) == [Float](repeating: 0, count: 5))
        }
        // Zero weights in the last (identity) layer: the output is exactly its bias.
        try fresh.setLayer(1, weights: [Float](repeating: 0, count: 37 * 5), bias: [1, -2, 3, -4, 5])
        #expect(fresh.forward([Float](repeating: 9, count: 13)) == [1, -2, 3, -4, 5])
    }

    @Test("forward into caller buffers, in place")
    func bufferForward() throws {
        var rng = SplitMix64(seed: 99)
        let (mlp, _) = try makeNetwork([16, 64, 64, 3], [.tanh, .tanh, .identity], rng: &rng)
        let input = (0..<16).map { _ in Float.random(in: -1...1, using: &rng) }
        let expected = mlp.forward(input)
        let buf = UnsafeMutableBufferPointer<Float>.allocate(capacity: 16)
        defer { buf.deallocate() }
        _ = buf.initialize(from: input)
        mlp.forward(UnsafeBufferPointer(buf), into: buf)  // in == out is allowed
        #expect(Array(buf.prefix(3)) == expected)
        #expect(Array(buf.suffix(13)) == Array(input.suffix(13)))  // beyond outputSize untouched
    }

    @Test("bad arguments are rejected")
    func badArguments() throws {
        #expect(throws: MLP.Error.invalidShape) { try MLP(layerSizes: [], activations: []) }
        #expect(throws: MLP.Error.invalidShape) { try MLP(layerSizes: [3], activations: []) }
        #expect(throws: MLP.Error.invalidShape) { try MLP(layerSizes: [3, 0], activations: [.tanh]) }
        #expect(throws: MLP.Error.invalidShape) { try MLP(layerSizes: [3, 4], activations: [.tanh, .tanh]) }
        #expect(throws: MLP.Error.invalidShape) { try MLP(layerSizes: [3, MLP.maxDimension + 1], activations: [.relu]) }
        let mlp = try MLP(layerSizes: [3, 4, 2], activations: [.relu, .identity])
        #expect(throws: MLP.Error.layerOutOfRange(2)) { try mlp.setLayer(2, weights: [], bias: []) }
        #expect(throws: MLP.Error.layerOutOfRange(-1)) { try mlp.layer(-1) }
        #expect(throws: MLP.Error.wrongCount(expected: 12, got: 11)) {
            try mlp.setLayer(0, weights: [Float](repeating: 1, count: 11), bias: [0, 0, 0, 0])
        }
        #expect(throws: MLP.Error.wrongCount(expected: 2, got: 3)) {
            try mlp.setLayer(1, weights: [Float](repeating: 1, count: 8), bias: [0, 0, 0])
        }
        #expect(try mlp.layer(0).weights == [Float](repeating: 0, count: 12))  // failed sets changed nothing

        // The C contract directly.
        var dims: [UInt32] = [3, 4]
        var acts = [KAIROS_ACT_TANH]
        #expect(kairos_mlp_create(0, &dims, &acts) == nil)
        #expect(kairos_mlp_create(1, nil, &acts) == nil)
        #expect(kairos_mlp_create(1, &dims, nil) == nil)
        var badActs = [kairos_activation(rawValue: 9)]
        #expect(kairos_mlp_create(1, &dims, &badActs) == nil)
        let m = try #require(kairos_mlp_create(1, &dims, &acts))
        defer { kairos_mlp_destroy(m) }
        #expect(kairos_mlp_layers(m) == 1)
        #expect(kairos_mlp_dim(m, 0) == 3 && kairos_mlp_dim(m, 1) == 4 && kairos_mlp_dim(m, 2) == 0)
        #expect(kairos_mlp_activation(m, 0) == KAIROS_ACT_TANH)
        #expect(kairos_mlp_set_layer(m, 1, [Float](repeating: 0, count: 12), nil) < 0)
        #expect(kairos_mlp_set_layer(m, 0, nil, nil) < 0)
        #expect(kairos_mlp_get_layer(m, 1, nil, nil) < 0)
        #expect(kairos_mlp_set_path(m, kairos_simd_path(rawValue: 7)) < 0)
        #expect(kairos_mlp_set_path(nil, KAIROS_SIMD_SCALAR) < 0)
    }

    @Test("tanh approximation stays within its documented error")
    func tanhError() {
        var worst = 0.0
        var x: Float = -12
        while x <= 12 {
            worst = max(worst, abs(Double(kairos_mlp_tanh_approx(x)) - Foundation.tanh(Double(x))))
            x += 1.0 / 4096
        }
        for x: Float in [0, -0.0, 1e-30, -3e-4, 5e-4, 1e4, -1e30, .infinity, -.infinity] {
            worst = max(worst, abs(Double(kairos_mlp_tanh_approx(x)) - Foundation.tanh(Double(x))))
        }
        print("kairos_mlp_tanh_approx worst abs error \(worst)")
        #expect(worst <= Double(MLP.tanhMaxAbsError))
        #expect(worst > 0)  // it is an approximation: a zero here means the test compared nothing
    }
}
