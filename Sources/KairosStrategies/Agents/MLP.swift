// Swift face of the C MLP inference kernel (kairos_mlp.h): the agents' policy networks.
import KairosCore
import CKairos

/// A dense float32 multi-layer perceptron, evaluated by the C core (AVX2+FMA or portable scalar).
///
/// ## Implementation Notes
/// - Owns one `kairos_mlp`, created in `init` and destroyed in `deinit`. All memory the network
///   needs (packed weights, biases, two activation buffers) is allocated once, 32-byte aligned,
///   at `init`; `forward(_:into:)` allocates nothing, so it may sit on the per-tick path.
/// - Weights are given and returned row-major `[out][in]`; the C side keeps them repacked
///   `[in][out rounded up to 8]` for 8-wide FMA. `setLayer` is O(in × out), `forward` is
///   O(Σ in × out) with no per-call overhead beyond one C call.
/// - Invariants: at least one layer; every size in 1...`maxDimension`; `activations.count ==
///   layerSizes.count - 1`. New networks have all-zero weights and biases.
/// - Not `Sendable`: `forward` writes the network's scratch buffers, so one thread at a time
///   per instance (give each agent / thread its own MLP).
/// - `.tanh` is a rational approximation with max absolute error `tanhMaxAbsError` (4.1e-7
///   measured), identical on both paths.
public final class MLP {
    public enum Activation: Sendable, Hashable, CaseIterable {
        case identity
        case tanh
        case relu

        var c: kairos_activation {
            switch self {
            case .identity: KAIROS_ACT_IDENTITY
            case .tanh: KAIROS_ACT_TANH
            case .relu: KAIROS_ACT_RELU
            }
        }
    }

    /// Which kernel evaluates the network.
    public enum Path: Sendable, Hashable {
        /// AVX2+FMA when the CPU has both, else scalar (only as a request: `path` reads back the
        /// resolved kernel).
        case auto
        case scalar
        case avx2

        var c: kairos_simd_path {
            switch self {
            case .auto: KAIROS_SIMD_AUTO
            case .scalar: KAIROS_SIMD_SCALAR
            case .avx2: KAIROS_SIMD_AVX2
            }
        }
    }

    public enum Error: Swift.Error, Equatable {
        /// Fewer than two sizes, a size of 0 or above `maxDimension`, too many layers, or
        /// `activations.count != layerSizes.count - 1`.
        case invalidShape
        case layerOutOfRange(Int)
        /// `weights` or `bias` has the wrong number of elements for the layer.
        case wrongCount(expected: Int, got: Int)
        /// AVX2 was requested on a CPU without AVX2+FMA.
        case pathUnavailable
    }

    public static let maxDimension = Int(KAIROS_MLP_MAX_DIM)
    public static let maxLayers = Int(KAIROS_MLP_MAX_LAYERS)
    public static let tanhMaxAbsError: Float = KAIROS_MLP_TANH_MAX_ABS_ERROR

    /// Input size, hidden sizes..., output size.
    public let layerSizes: [Int]
    public let activations: [Activation]
    /// `layerSizes.first` / `.last`, stored so `forward` checks bounds without touching arrays.
    public let inputSize: Int
    public let outputSize: Int
    public var layerCount: Int { activations.count }

    private let handle: OpaquePointer

    /// - Parameters:
    ///   - layerSizes: e.g. `[16, 64, 64, 3]`.
    ///   - activations: one per layer (`layerSizes.count - 1`), e.g. `[.tanh, .tanh, .identity]`.
    public init(layerSizes: [Int], activations: [Activation]) throws(Error) {
        guard layerSizes.count >= 2, layerSizes.count - 1 <= Self.maxLayers,
            activations.count == layerSizes.count - 1,
            layerSizes.allSatisfy({ $0 >= 1 && $0 <= Self.maxDimension })
        else { throw .invalidShape }
        let dims = layerSizes.map { UInt32($0) }
        let acts = activations.map(\.c)
        guard let h = kairos_mlp_create(UInt32(activations.count), dims, acts) else { throw .invalidShape }
        handle = h
        self.layerSizes = layerSizes
        self.activations = activations
        inputSize = layerSizes[0]
        outputSize = layerSizes[layerSizes.count - 1]
    }

    deinit { kairos_mlp_destroy(handle) }

    /// Replaces layer `index`'s parameters. `weights` is row-major `[out][in]`
    /// (`layerSizes[index+1] * layerSizes[index]` values), `bias` has `layerSizes[index+1]`.
    public func setLayer(_ index: Int, weights: [Float], bias: [Float]) throws(Error) {
        guard index >= 0, index < layerCount else { throw .layerOutOfRange(index) }
        let nIn = layerSizes[index], nOut = layerSizes[index + 1]
        guard weights.count == nIn * nOut else { throw .wrongCount(expected: nIn * nOut, got: weights.count) }
        guard bias.count == nOut else { throw .wrongCount(expected: nOut, got: bias.count) }
        let rc = kairos_mlp_set_layer(handle, UInt32(index), weights, bias)
        precondition(rc == 0, "kairos_mlp_set_layer failed after validation: \(rc)")
    }

    /// Layer `index`'s parameters, in the layout `setLayer` takes (exact round trip).
    public func layer(_ index: Int) throws(Error) -> (weights: [Float], bias: [Float]) {
        guard index >= 0, index < layerCount else { throw .layerOutOfRange(index) }
        let nIn = layerSizes[index], nOut = layerSizes[index + 1]
        var weights = [Float](repeating: 0, count: nIn * nOut)
        var bias = [Float](repeating: 0, count: nOut)
        let rc = weights.withUnsafeMutableBufferPointer { w in
            bias.withUnsafeMutableBufferPointer { b in
                kairos_mlp_get_layer(handle, UInt32(index), w.baseAddress, b.baseAddress)
            }
        }
        precondition(rc == 0, "kairos_mlp_get_layer failed after validation: \(rc)")
        return (weights, bias)
    }

    /// The kernel in use: `.scalar` or `.avx2` (never `.auto`). Setting `.auto` picks AVX2 when
    /// available; setting `.avx2` on a CPU without it traps (use `setPath(_:)` to get an error).
    public var path: Path {
        get { kairos_mlp_path(handle) == KAIROS_SIMD_AVX2 ? .avx2 : .scalar }
        set {
            do { try setPath(newValue) } catch { preconditionFailure("MLP path \(newValue) unavailable on this CPU") }
        }
    }

    /// Selects the kernel; throws `.pathUnavailable` for `.avx2` on a CPU without AVX2+FMA.
    public func setPath(_ p: Path) throws(Error) {
        guard kairos_mlp_set_path(handle, p.c) == 0 else { throw .pathUnavailable }
    }

    /// Evaluates the network: `input.count == inputSize`, `output.count >= outputSize` (only the
    /// first `outputSize` elements are written). Allocates nothing. `input` and `output` may be
    /// the same memory.
    @inline(__always)
    public func forward(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count == inputSize && output.count >= outputSize,
                     "MLP.forward: input must have inputSize elements, output at least outputSize")
        kairos_mlp_forward(handle, input.baseAddress!, output.baseAddress!)
    }

    /// Convenience form that allocates the result array (not for the per-tick path).
    public func forward(_ input: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: outputSize)
        input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in forward(i, into: o) }
        }
        return out
    }
}
