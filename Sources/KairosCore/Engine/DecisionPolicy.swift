// The seam where later capabilities (regime detector, RL agents, meta-agent) plug into the engine.

/// Everything a policy may look at for one validated tick of one instrument. Plain values only:
/// building one allocates nothing.
public struct DecisionContext: Sendable {
    public var instrument: InstrumentID
    public var tick: Tick
    /// Mid price of `tick`.
    public var price: Double
    /// Features after this tick (causal: computed from this and earlier ticks only).
    public var features: FeatureVector
    /// How many ticks of this instrument the features have seen (warm-up progress).
    public var featureUpdates: UInt64
    /// Current position in units (signed).
    public var position: Double
    /// Current exposure as a fraction of the instrument's capital allocation (signed).
    public var exposure: Double
    /// Engine clock, ns.
    public var now: Int64

    public init(
        instrument: InstrumentID, tick: Tick, price: Double, features: FeatureVector, featureUpdates: UInt64,
        position: Double, exposure: Double, now: Int64
    ) {
        self.instrument = instrument
        self.tick = tick
        self.price = price
        self.features = features
        self.featureUpdates = featureUpdates
        self.position = position
        self.exposure = exposure
        self.now = now
    }
}

/// A trading policy: given one instrument's latest state, the exposure it wants.
///
/// Called on the engine thread for every validated tick, so implementations must not block,
/// allocate or take locks on this path. Policies keep whatever per-instrument state they need,
/// sized when they are created.
public protocol DecisionPolicy {
    /// Short name used in logs, metrics and reports.
    var name: String { get }
    /// Target exposure as a signed fraction of the instrument's capital allocation
    /// (1 = fully long the allocation, -1 = fully short); `nil` means "no opinion, hold".
    /// The engine turns it into an order and the risk manager has the last word.
    mutating func decide(_ context: DecisionContext) -> Double?
}
