// Observation normalisation shared by training (updates it) and inference (applies it).
import KairosCore
import CKairos
import Foundation

/// Running mean and variance of observations (per dimension), merged batch by batch with the
/// parallel algorithm of Chan, Golub & LeVeque (Welford generalised to batches), in Double.
///
/// ## Implementation Notes
/// - `count` starts at a tiny epsilon (as the reference implementations do) so the first
///   normalisation divides by a defined variance. `update` is O(batch × size) and allocates
///   nothing after `init` (it uses `scratch`); `normalize` is O(size).
/// - Normalised value: `clamp((x - mean) / sqrt(var + epsilon), -clip, clip)`, computed in
///   Float from the Float copies `meanF` / `invStdF`, which are refreshed by `update` so that
///   training and inference (which loads those same Float values) compute the same thing.
import KairosCore

public struct RunningObservationNormalizer: Sendable {
    public let size: Int
    public private(set) var mean: [Double]
    public private(set) var variance: [Double]
    public private(set) var count: Double
    public let epsilon: Float
    public let clip: Float
    /// Float mean and 1/sqrt(var + eps) used by `normalize`.
    public private(set) var meanF: [Float]
    public private(set) var invStdF: [Float]
    private var batchMean: [Double]
    private var batchM2: [Double]

    public init(size: Int, epsilon: Float = 1e-8, clip: Float = 10) {
        self.size = size
        mean = [Double](repeating: 0, count: size)
        variance = [Double](repeating: 1, count: size)
        count = 1e-4
        self.epsilon = epsilon
        self.clip = clip
        meanF = [Float](repeating: 0, count: size)
        invStdF = [Float](repeating: 0, count: size)
        batchMean = [Double](repeating: 0, count: size)
        batchM2 = [Double](repeating: 0, count: size)
        refresh()
    }

    /// Restores a saved state (the Float variance as saved in a checkpoint).
    public init(mean: [Float], variance: [Float], epsilon: Float, clip: Float) {
        self.init(size: mean.count, epsilon: epsilon, clip: clip)
        precondition(variance.count == mean.count)
        self.mean = mean.map(Double.init)
        self.variance = variance.map(Double.init)
        refresh()
    }

    private mutating func refresh() {
        for k in 0..<size {
            meanF[k] = Float(mean[k])
            invStdF[k] = 1 / (Float(variance[k]) + epsilon).squareRoot()
        }
    }

    /// Merges `rows` observations (`rows × size`, row-major) into the running statistics.
    public mutating func update(_ x: UnsafePointer<Float>, rows: Int) {
        guard rows > 0 else { return }
        for k in 0..<size {
            var s = 0.0
            for r in 0..<rows { s += Double(x[r * size + k]) }
            let mu = s / Double(rows)
            var m2 = 0.0
            for r in 0..<rows {
                let d = Double(x[r * size + k]) - mu
                m2 += d * d
            }
            batchMean[k] = mu
            batchM2[k] = m2
        }
        let n = Double(rows), total = count + n
        for k in 0..<size {
            let delta = batchMean[k] - mean[k]
            let m2 = variance[k] * count + batchM2[k] + delta * delta * count * n / total
            mean[k] += delta * n / total
            variance[k] = m2 / total
        }
        count = total
        refresh()
    }

    /// Writes the normalised `rows × size` observations of `x` into `out`.
    @inline(__always)
    public func normalize(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int) {
        meanF.withUnsafeBufferPointer { mu in
            invStdF.withUnsafeBufferPointer { inv in
                for r in 0..<rows {
                    for k in 0..<size {
                        let z = (x[r * size + k] - mu[k]) * inv[k]
                        out[r * size + k] = min(max(z, -clip), clip)
                    }
                }
            }
        }
    }
}
