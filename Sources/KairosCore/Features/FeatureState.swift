import CKairos

/// The streaming features of one instrument: one `update` per tick or bar, O(1), no allocation.
///
/// Implementation Notes:
/// - Owns a `kairos_feat_state` (all window buffers allocated once in `init`, freed in `deinit`).
///   `update` is `@inlinable` and calls straight into C with stack-allocated input and output.
/// - Cost: about 50 ns per update on the development machine (see docs/features.md).
/// - Not `Sendable`: the C state is mutated by every update without synchronisation. It belongs
///   to one owner at a time (the engine thread); hand it over with `sending` if needed.
/// - Invariant: `updates` counts the updates since creation or `reset()`; feature values follow
///   the warm-up rules of `kairos_features.h` until a window has filled.
public final class FeatureState {
    @usableFromInline let handle: OpaquePointer
    /// The configuration this state was created with.
    public let config: FeatureConfig

    public init(config: FeatureConfig = .standard) throws(FeatureError) {
        var c = try config.validated()
        guard let h = kairos_feat_create(&c) else { throw .outOfMemory }
        handle = h
        self.config = config
    }

    deinit { kairos_feat_destroy(handle) }

    /// Feeds one update and returns the features after it. `high`/`low` default to `price`
    /// (ticks); volumes default to 0 (unknown). `price` must be finite and > 0.
    @inlinable
    public func update(
        price: Double, high: Double? = nil, low: Double? = nil, buyVolume: Double = 0, sellVolume: Double = 0
    ) -> FeatureVector {
        var input = kairos_feat_input(
            price: price, high: high ?? price, low: low ?? price, buy_volume: buyVolume, sell_volume: sellVolume)
        var out = FeatureVector()
        kairos_feat_update(handle, &input, &out)
        return out
    }

    /// Feeds one update, writing the features into `out` (no copy of the vector).
    @inlinable
    public func update(_ input: kairos_feat_input, into out: inout FeatureVector) {
        var input = input
        kairos_feat_update(handle, &input, &out)
    }

    /// Updates applied since creation or the last `reset()`.
    public var updates: UInt64 { kairos_feat_updates(handle) }

    /// Forgets all history; the next update behaves like the first one.
    public func reset() { kairos_feat_reset(handle) }
}
