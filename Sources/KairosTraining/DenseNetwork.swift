// A trainable float32 MLP with hand-written backpropagation: the actor and critic of the PPO
// learner. The matrix work runs in the C training kernels (kairos_train.h), batched over a
// minibatch; this type owns the parameters, their gradients and the activation scratch.
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import CKairos

/// A dense network `input -> hidden (tanh) ... -> output (identity)` trained by backpropagation.
///
/// ## Implementation Notes
/// - All parameters live in ONE contiguous buffer (`parameters`, `parameterCount` floats) so
///   that Adam, gradient clipping and checkpoints treat the network as one vector. Layer `l`
///   occupies `[weightOffset(l), weightOffset(l) + in*out)` for its weights, stored TRANSPOSED
///   `[in][out]` (the layout of the C kernels, 8-wide over outputs), then `out` biases.
///   `gradients` has the same layout. `inferenceLayer(_:)` returns the `[out][in]` layout the
///   inference `MLP` takes.
/// - `forward(_:count:)` keeps every layer's output for the last batch (`maxBatch` rows of
///   scratch per layer, allocated once in `init`); `backward` must follow the `forward` of the
///   same batch and input. Neither allocates: O(batch × Σ in×out) each.
/// - Owns raw memory (freed in `deinit`); not `Sendable`: forward/backward write the scratch,
///   so one thread at a time per network.
/// - Deterministic: the kernels' summation order is fixed per SIMD path, and the path is
///   resolved once in `init`.
public final class DenseNetwork {
    public let layerSizes: [Int]
    public let maxBatch: Int
    public let parameterCount: Int
    /// The C kernel path in use (`.scalar` or `.avx2`).
    public let path: MLP.Path
    let cPath: kairos_simd_path

    /// Flat parameter vector (layout in the type's notes).
    public let parameters: UnsafeMutablePointer<Float>
    /// dLoss/dparameters, accumulated by `backward`; cleared by `zeroGradients()`.
    public let gradients: UnsafeMutablePointer<Float>

    private let weightOffsets: [Int]
    private let biasOffsets: [Int]
    /// outputs[l]: layer l's output for the last batch, `maxBatch * layerSizes[l+1]` floats.
    private let outputs: [UnsafeMutablePointer<Float>]
    /// Ping-pong buffers for the gradient flowing backwards, `maxBatch * maxWidth` floats each.
    private let gradA: UnsafeMutablePointer<Float>
    private let gradB: UnsafeMutablePointer<Float>

    public var layerCount: Int { layerSizes.count - 1 }
    public var inputSize: Int { layerSizes[0] }
    public var outputSize: Int { layerSizes[layerSizes.count - 1] }

    /// - Parameters:
    ///   - layerSizes: input, hidden..., output (e.g. `[4, 64, 64, 2]`).
    ///   - maxBatch: the largest batch `forward` will see.
    ///   - path: `.auto` picks AVX2+FMA when available.
    public init(layerSizes: [Int], maxBatch: Int, path: MLP.Path = .auto) {
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 >= 1 } && maxBatch >= 1)
        self.layerSizes = layerSizes
        self.maxBatch = maxBatch
        cPath = kairos_train_resolve_path(trainPath(path))
        self.path = cPath == KAIROS_SIMD_AVX2 ? .avx2 : .scalar
        var w: [Int] = [], b: [Int] = []
        var offset = 0
        for l in 0..<(layerSizes.count - 1) {
            w.append(offset)
            offset += layerSizes[l] * layerSizes[l + 1]
            b.append(offset)
            offset += layerSizes[l + 1]
        }
        weightOffsets = w
        biasOffsets = b
        parameterCount = offset
        parameters = .allocate(capacity: offset)
        parameters.initialize(repeating: 0, count: offset)
        gradients = .allocate(capacity: offset)
        gradients.initialize(repeating: 0, count: offset)
        outputs = layerSizes.dropFirst().map { size in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: maxBatch * size)
            p.initialize(repeating: 0, count: maxBatch * size)
            return p
        }
        let width = layerSizes.max()!
        gradA = .allocate(capacity: maxBatch * width)
        gradA.initialize(repeating: 0, count: maxBatch * width)
        gradB = .allocate(capacity: maxBatch * width)
        gradB.initialize(repeating: 0, count: maxBatch * width)
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
        for p in outputs { p.deallocate() }
        gradA.deallocate()
        gradB.deallocate()
    }

    public func weightOffset(_ layer: Int) -> Int { weightOffsets[layer] }
    public func biasOffset(_ layer: Int) -> Int { biasOffsets[layer] }

    /// Orthogonal initialisation (Saxe et al. 2014, as in the PPO reference implementations):
    /// each layer's `[out][in]` matrix has orthonormal rows (or columns, whichever are fewer)
    /// scaled by its gain; biases zero. Hidden layers use gain √2, the last `outputGain`
    /// (0.01 for a policy head so the initial policy is near uniform, 1 for a value head).
    public func initializeOrthogonal(rng: inout Xoshiro256StarStar, outputGain: Double) {
        for l in 0..<layerCount {
            let nIn = layerSizes[l], nOut = layerSizes[l + 1]
            let gain = l == layerCount - 1 ? outputGain : 2.0.squareRoot()
            let m = Self.orthogonal(rows: nOut, cols: nIn, rng: &rng)
            for o in 0..<nOut {
                for i in 0..<nIn { parameters[weightOffsets[l] + i * nOut + o] = Float(gain * m[o * nIn + i]) }
                parameters[biasOffsets[l] + o] = 0
            }
        }
    }

    /// A `rows × cols` row-major matrix with orthonormal rows (rows ≤ cols) or columns, by
    /// modified Gram–Schmidt on Gaussian vectors, in Double. O(rows × cols × min(rows, cols)).
    static func orthogonal(rows: Int, cols: Int, rng: inout Xoshiro256StarStar) -> [Double] {
        let n = min(rows, cols), len = max(rows, cols)
        var v = [[Double]]()
        v.reserveCapacity(n)
        while v.count < n {
            var x = (0..<len).map { _ in rng.nextGaussian() }
            for u in v {
                var d = 0.0
                for k in 0..<len { d += u[k] * x[k] }
                for k in 0..<len { x[k] -= d * u[k] }
            }
            var norm = 0.0
            for k in 0..<len { norm += x[k] * x[k] }
            norm = norm.squareRoot()
            guard norm > 1e-6 else { continue }  // degenerate draw: redraw
            v.append(x.map { $0 / norm })
        }
        var m = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols { m[r * cols + c] = rows <= cols ? v[r][c] : v[c][r] }
        }
        return m
    }

    /// Runs `count` rows of `input` (`count × inputSize`, row-major) through the network and
    /// returns the output rows (`count × outputSize`), valid until the next `forward`.
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, count: Int) -> UnsafePointer<Float> {
        precondition(count >= 1 && count <= maxBatch, "DenseNetwork.forward: batch exceeds maxBatch")
        var x = input
        for l in 0..<layerCount {
            kairos_train_dense_forward(cPath, x, parameters + weightOffsets[l], parameters + biasOffsets[l],
                                       outputs[l], UInt32(count), UInt32(layerSizes[l]), UInt32(layerSizes[l + 1]),
                                       l < layerCount - 1 ? 1 : 0)
            x = UnsafePointer(outputs[l])
        }
        return x
    }

    /// Accumulates into `gradients` the gradient of a loss whose derivative with respect to the
    /// outputs of the last `forward(input, count)` is `dOutput` (`count × outputSize`).
    public func backward(input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, count: Int) {
        precondition(count >= 1 && count <= maxBatch)
        var dy = dOutput
        var next = gradA
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let nIn = layerSizes[l], nOut = layerSizes[l + 1]
            let x = l == 0 ? input : UnsafePointer(outputs[l - 1])
            // dx is only needed to continue into a lower layer.
            let dx: UnsafeMutablePointer<Float>? = l == 0 ? nil : next
            kairos_train_dense_backward(cPath, x, parameters + weightOffsets[l], dy, gradients + weightOffsets[l],
                                        gradients + biasOffsets[l], dx, UInt32(count), UInt32(nIn), UInt32(nOut))
            if let dx {
                // Through the tanh of layer l-1: its output is this layer's input.
                kairos_train_tanh_backward(dx, outputs[l - 1], UInt32(count * nIn))
                dy = UnsafePointer(dx)
                next = next == gradA ? gradB : gradA
            }
        }
    }

    public func zeroGradients() { gradients.update(repeating: 0, count: parameterCount) }

    /// The parameters as an array (tests, checkpoints).
    public var parameterArray: [Float] { Array(UnsafeBufferPointer(start: parameters, count: parameterCount)) }

    /// Replaces all parameters (`values.count == parameterCount`).
    public func setParameters(_ values: [Float]) {
        precondition(values.count == parameterCount)
        values.withUnsafeBufferPointer { parameters.update(from: $0.baseAddress!, count: parameterCount) }
    }

    /// Layer `l` in the inference layout: weights row-major `[out][in]`, bias `[out]`.
    public func inferenceLayer(_ l: Int) -> (weights: [Float], bias: [Float]) {
        let nIn = layerSizes[l], nOut = layerSizes[l + 1]
        var w = [Float](repeating: 0, count: nIn * nOut)
        for o in 0..<nOut {
            for i in 0..<nIn { w[o * nIn + i] = parameters[weightOffsets[l] + i * nOut + o] }
        }
        let b = Array(UnsafeBufferPointer(start: parameters + biasOffsets[l], count: nOut))
        return (w, b)
    }

    /// Sets layer `l` from the inference layout (`[out][in]` weights).
    public func setInferenceLayer(_ l: Int, weights: [Float], bias: [Float]) {
        let nIn = layerSizes[l], nOut = layerSizes[l + 1]
        precondition(weights.count == nIn * nOut && bias.count == nOut)
        for o in 0..<nOut {
            for i in 0..<nIn { parameters[weightOffsets[l] + i * nOut + o] = weights[o * nIn + i] }
            parameters[biasOffsets[l] + o] = bias[o]
        }
    }
}

/// The C path value for an `MLP.Path` request.
func trainPath(_ path: MLP.Path) -> kairos_simd_path {
    switch path {
    case .auto: KAIROS_SIMD_AUTO
    case .scalar: KAIROS_SIMD_SCALAR
    case .avx2: KAIROS_SIMD_AVX2
    }
}

/// Adam (Kingma & Ba 2015) over one flat parameter vector, with an optional gradient scale
/// (the global-norm clip factor) applied inside the update.
///
/// ## Implementation Notes
/// - `m` and `v` are allocated once (`count` floats each); `step` is O(count), no allocation.
/// - Bias correction uses the step count `t` (incremented before each update), in Double.
public final class AdamOptimizer {
    public let count: Int
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-5
    public private(set) var t: Int = 0
    private let m: UnsafeMutablePointer<Float>
    private let v: UnsafeMutablePointer<Float>
    private let cPath: kairos_simd_path

    /// - Parameter path: the kernel (AVX2+FMA or scalar; resolved once here, like `DenseNetwork`'s).
    public init(count: Int, path: MLP.Path = .auto) {
        self.count = count
        cPath = kairos_train_resolve_path(trainPath(path))
        m = .allocate(capacity: count)
        m.initialize(repeating: 0, count: count)
        v = .allocate(capacity: count)
        v.initialize(repeating: 0, count: count)
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// One update of `parameters` from `gradients` (both `count` floats) scaled by `gradScale`.
    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, learningRate: Float,
                     gradScale: Float = 1) {
        t += 1
        let bc1 = Float(1 - _pow(Double(beta1), t)), bc2 = Float(1 - _pow(Double(beta2), t))
        kairos_train_adam(cPath, parameters, gradients, m, v, UInt32(count), learningRate, beta1, beta2, epsilon, bc1, bc2,
                          gradScale)
    }

    private func _pow(_ x: Double, _ n: Int) -> Double {
        var r = 1.0
        var b = x, e = n
        while e > 0 {
            if e & 1 == 1 { r *= b }
            b *= b
            e >>= 1
        }
        return r
    }
}

/// The global L2 norm of several gradient vectors and the factor that clips it to `maxNorm`
/// (1 when already within): the scale PPO passes to Adam.
public func globalNormClipScale(_ grads: [(UnsafePointer<Float>, Int)], maxNorm: Double,
                                path: MLP.Path = .auto) -> (norm: Double, scale: Float) {
    let p = kairos_train_resolve_path(trainPath(path))
    var s = 0.0
    for (g, n) in grads { s += kairos_train_sum_squares(p, g, UInt32(n)) }
    return clipScale(sumOfSquares: s, maxNorm: maxNorm)
}

/// The same for two networks' gradients (no array: the per-minibatch path allocates nothing).
public func globalNormClipScale(_ a: DenseNetwork, _ b: DenseNetwork, maxNorm: Double) -> (norm: Double, scale: Float) {
    let s = kairos_train_sum_squares(a.cPath, a.gradients, UInt32(a.parameterCount))
        + kairos_train_sum_squares(a.cPath, b.gradients, UInt32(b.parameterCount))
    return clipScale(sumOfSquares: s, maxNorm: maxNorm)
}

private func clipScale(sumOfSquares s: Double, maxNorm: Double) -> (norm: Double, scale: Float) {
    let norm = s.squareRoot()
    guard maxNorm > 0, norm > maxNorm else { return (norm, 1) }
    return (norm, Float(maxNorm / (norm + 1e-6)))
}

