// The record the engine hands to the feature cache, and the engine-side publisher that throttles
// it per instrument and pushes it into the ring the FeatureCacheWriter drains.
import CKairos

/// One instrument's latest features and (optional) regime estimate: the C
/// `kairos_feature_snapshot` (152 bytes, bitwise copyable), so it travels through `SPSCRing`.
public typealias FeatureSnapshot = kairos_feature_snapshot

/// The regime fields a snapshot carries into Redis (a detector's `RegimeEstimate`, reduced to what
/// the cache stores).
public struct CachedRegime: Sendable, Equatable {
    public var regime: Regime
    /// P(bull), P(bear), P(sideways), P(volatile), in `Regime` raw-value order.
    public var probabilities: SIMD4<Double>
    /// The detector's confidence in `regime`, 0...1.
    public var confidence: Double
    public init(regime: Regime, probabilities: SIMD4<Double>, confidence: Double) {
        self.regime = regime
        self.probabilities = probabilities
        self.confidence = confidence
    }
    public init(_ e: RegimeEstimate) {
        let p = e.probabilities
        self.init(regime: e.regime, probabilities: SIMD4(p.bull, p.bear, p.sideways, p.volatile), confidence: e.confidence)
    }
}

extension FeatureSnapshot {
    /// Builds a snapshot; `regime` nil stores regime id -1 ("no estimate") and zero probabilities.
    @inlinable
    public init(instrument: InstrumentID, timestamp: Int64, features: FeatureVector, regime: CachedRegime? = nil) {
        self.init()
        self.instrument = instrument.rawValue
        self.ts_ns = timestamp
        self.features = features
        if let regime {
            self.regime = Int16(regime.regime.rawValue)
            self.regime_prob = (regime.probabilities[0], regime.probabilities[1], regime.probabilities[2], regime.probabilities[3])
            self.confidence = regime.confidence
        } else {
            self.regime = -1
        }
    }

    @inlinable public var instrumentID: InstrumentID { InstrumentID(instrument) }

    /// The regime estimate, or nil when the snapshot carries none (regime id -1).
    public var regimeEstimate: CachedRegime? {
        guard regime >= 0, let r = Regime(rawValue: Int(regime)) else { return nil }
        let p = regime_prob
        return CachedRegime(regime: r, probabilities: SIMD4(p.0, p.1, p.2, p.3), confidence: confidence)
    }
}

/// The engine's side of the feature cache: after each feature update the engine offers the new
/// vector, and at most one snapshot per instrument per `intervalNs` goes into the ring.
///
/// How the engine calls it (`Engine.processTick`, after the data stage): the instrument's tick
/// features and, when the data stage runs a regime detector, its latest estimate. The
/// FeatureCacheWriter coalesces per instrument anyway, so the interval only bounds ring traffic;
/// 10 ms default.
///
/// Implementation Notes:
/// - `offer` is O(1), allocates nothing, takes no lock and makes no system call: one comparison
///   against the instrument's next due time and, when due, one 152-byte ring push. A full ring is
///   a counted drop (`SPSCRing.dropCount`), never a wait; a dropped snapshot is not retried (the
///   next due one supersedes it).
/// - Invariant: for each instrument, pushes are at least `intervalNs` apart in `now` time; the
///   first offer of an instrument always publishes.
/// - `@unchecked Sendable`: it holds the producer handle of an `SPSCRing`, so exactly one thread
///   at a time may call `offer` (the engine thread); the role moves only across a happens-before
///   edge (creating it, then starting the thread). The counters are plain fields read by that thread,
///   or after it has been joined. The ring's own counters may be read from anywhere.
public final class FeatureSnapshotPublisher: @unchecked Sendable {
    /// The ring's one producer: this publisher (claimed by the caller, held for its lifetime).
    public let producer: SPSCRing<FeatureSnapshot>.Producer
    public let intervalNs: Int64
    @usableFromInline var nextDue: [Int64]
    /// Snapshots pushed into the ring.
    public private(set) var published: UInt64 = 0
    /// Due snapshots the ring had no room for (also counted in `producer.ring.dropCount`).
    public private(set) var dropped: UInt64 = 0

    public init(ring producer: consuming SPSCRing<FeatureSnapshot>.Producer, instrumentCount: Int, intervalNs: Int64 = 10_000_000) {
        precondition(instrumentCount > 0 && instrumentCount <= InstrumentID.max, "1...\(InstrumentID.max) instruments")
        precondition(intervalNs >= 0, "negative interval")
        self.producer = producer
        self.intervalNs = intervalNs
        nextDue = Array(repeating: .min, count: instrumentCount)
    }

    /// Publishes `features` for `instrument` if its interval has elapsed at `now` (engine clock,
    /// ns). Returns true when a snapshot entered the ring.
    @discardableResult
    public func offer(
        instrument: InstrumentID, timestamp: Int64, features: FeatureVector, regime: CachedRegime? = nil, now: Int64
    ) -> Bool {
        let i = instrument.index
        guard now >= nextDue[i] else { return false }
        nextDue[i] = now &+ intervalNs
        if producer.pushOrCountDrop(FeatureSnapshot(instrument: instrument, timestamp: timestamp, features: features, regime: regime)) {
            published &+= 1
            return true
        }
        dropped &+= 1
        return false
    }
}
