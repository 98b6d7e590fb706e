import CKairos

/// The streaming features of `count` instruments updated in lockstep (one update for every
/// instrument per call), structure-of-arrays, on the AVX2+FMA path or the scalar one.
///
/// Output layout: feature `f` of instrument `i` is at `out[f * count + i]`
/// (`FeatureBatch.index(of:instrument:count:)`), `count * Feature.count` doubles.
///
/// Implementation Notes:
/// - Owns a `kairos_feat_batch`; every buffer is allocated in `init` and freed in `deinit`.
/// - The AVX2 path runs four instruments per 256-bit vector; a count that is not a multiple of
///   4 is handled by padding lanes. Scalar and AVX2 paths (and `FeatureState`) give bitwise
///   identical results for the same inputs.
/// - O(count) per update, amortised (block boundaries and exact recomputes cost O(window) once
///   per window). The pointer form allocates nothing.
/// - Not `Sendable`: every update mutates the C state without synchronisation.
public final class FeatureBatch {
    @usableFromInline let handle: OpaquePointer
    /// Number of instruments.
    public let count: Int
    /// The resolved path (never `.auto`).
    public let path: FeatureSIMDPath
    public let config: FeatureConfig

    /// Throws `simdPathUnavailable` when `.avx2` is requested on a CPU without AVX2+FMA.
    public init(config: FeatureConfig = .standard, instruments: Int, path: FeatureSIMDPath = .auto)
        throws(FeatureError)
    {
        var c = try config.validated()
        guard instruments >= 1, let n = UInt32(exactly: instruments) else {
            throw .invalidInstrumentCount(instruments)
        }
        if path == .avx2 && kairos_cpu_has_avx2_fma() != 1 { throw .simdPathUnavailable(path) }
        guard let h = kairos_feat_batch_create(&c, n, path.cValue) else {
            throw path == .avx2 ? .simdPathUnavailable(path) : .outOfMemory
        }
        handle = h
        count = instruments
        self.config = config
        self.path = FeatureSIMDPath(kairos_feat_batch_path(h))
    }

    deinit { kairos_feat_batch_destroy(handle) }

    /// Where feature `feature` of instrument `instrument` sits in a batch output buffer.
    @inlinable
    public static func index(of feature: Feature, instrument: Int, count: Int) -> Int {
        feature.rawValue &* count &+ instrument
    }

    /// Updates applied since creation or `reset()`.
    public var updates: UInt64 { kairos_feat_batch_updates(handle) }

    /// Forgets all history.
    public func reset() { kairos_feat_batch_reset(handle) }

    /// One update of every instrument. Each input buffer holds `count` values; `high`/`low` nil
    /// mean "= price", volumes nil mean 0. `out` holds at least `count * Feature.count` doubles.
    @inlinable
    public func update(
        price: UnsafeBufferPointer<Double>, high: UnsafeBufferPointer<Double>? = nil,
        low: UnsafeBufferPointer<Double>? = nil, buyVolume: UnsafeBufferPointer<Double>? = nil,
        sellVolume: UnsafeBufferPointer<Double>? = nil, into out: UnsafeMutableBufferPointer<Double>
    ) {
        precondition(price.count >= count && out.count >= count &* Feature.count, "FeatureBatch: buffers too short")
        precondition((high?.count ?? count) >= count && (low?.count ?? count) >= count, "FeatureBatch: high/low too short")
        precondition(
            (buyVolume?.count ?? count) >= count && (sellVolume?.count ?? count) >= count,
            "FeatureBatch: volumes too short")
        kairos_feat_batch_update(
            handle, price.baseAddress, high?.baseAddress, low?.baseAddress, buyVolume?.baseAddress,
            sellVolume?.baseAddress, out.baseAddress)
    }

    /// Array convenience: one update of every instrument, the SoA result written into `out`
    /// (resized to `count * Feature.count` if needed, so reuse it to avoid allocating).
    public func update(
        price: [Double], high: [Double]? = nil, low: [Double]? = nil, buyVolume: [Double]? = nil,
        sellVolume: [Double]? = nil, into out: inout [Double]
    ) {
        precondition(price.count == count, "FeatureBatch: expected \(count) prices")
        precondition(
            (high?.count ?? count) == count && (low?.count ?? count) == count
                && (buyVolume?.count ?? count) == count && (sellVolume?.count ?? count) == count,
            "FeatureBatch: every input array needs \(count) values")
        if out.count != count * Feature.count { out = [Double](repeating: 0, count: count * Feature.count) }
        price.withUnsafeBufferPointer { p in
            withOptionalBuffer(high) { h in
                withOptionalBuffer(low) { l in
                    withOptionalBuffer(buyVolume) { b in
                        withOptionalBuffer(sellVolume) { s in
                            out.withUnsafeMutableBufferPointer { o in
                                update(price: p, high: h, low: l, buyVolume: b, sellVolume: s, into: o)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Array convenience returning a fresh SoA buffer.
    public func update(
        price: [Double], high: [Double]? = nil, low: [Double]? = nil, buyVolume: [Double]? = nil,
        sellVolume: [Double]? = nil
    ) -> [Double] {
        var out = [Double]()
        update(price: price, high: high, low: low, buyVolume: buyVolume, sellVolume: sellVolume, into: &out)
        return out
    }
}

/// Calls `body` with the array's buffer, or with nil.
@usableFromInline
func withOptionalBuffer<R>(_ a: [Double]?, _ body: (UnsafeBufferPointer<Double>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0) }
}
