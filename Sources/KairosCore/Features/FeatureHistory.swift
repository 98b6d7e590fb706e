import CKairos

/// The features of one series over its whole history (training, backtests, research).
///
/// Row `t` equals what a fresh `FeatureState` returns on its `t`-th update (bitwise): it uses
/// inputs `0...t` only.
///
/// Implementation Notes: one C call (`kairos_feat_history`) over the series; O(T) time, the
/// result array is the only allocation besides the kernel's window buffers.
public enum FeatureHistory {
    /// `high`/`low` nil mean "= price" (a tick series); volumes nil mean 0. Optional series must
    /// have `price.count` values. Prices must be finite and > 0.
    public static func compute(
        config: FeatureConfig = .standard, price: [Double], high: [Double]? = nil, low: [Double]? = nil,
        buyVolume: [Double]? = nil, sellVolume: [Double]? = nil
    ) throws(FeatureError) -> [FeatureVector] {
        var c = try config.validated()
        let T = price.count
        for (name, s) in [("high", high), ("low", low), ("buyVolume", buyVolume), ("sellVolume", sellVolume)] {
            if let s, s.count != T { throw .lengthMismatch(series: name, expected: T, actual: s.count) }
        }
        var rows = [FeatureVector](repeating: FeatureVector(), count: T)
        if T == 0 { return rows }
        let rc = price.withUnsafeBufferPointer { p in
            withOptionalBuffer(high) { h in
                withOptionalBuffer(low) { l in
                    withOptionalBuffer(buyVolume) { b in
                        withOptionalBuffer(sellVolume) { s in
                            rows.withUnsafeMutableBytes { raw in
                                // FeatureVector is a C struct of Feature.count doubles, so the
                                // array's storage is exactly the row-major [t][f] matrix C wants.
                                kairos_feat_history(
                                    &c, T, p.baseAddress, h?.baseAddress, l?.baseAddress, b?.baseAddress,
                                    s?.baseAddress, raw.baseAddress!.assumingMemoryBound(to: Double.self))
                            }
                        }
                    }
                }
            }
        }
        if rc != 0 { throw .outOfMemory }
        return rows
    }
}
