// The seam where policies (baselines, agents, the ensemble) plug into the engine.
import CKairos

/// Everything a policy may look at for one validated tick of one instrument, as the data stage
/// left it: the tick, its features, the bar it closed (if any), that bar's features and the
/// instrument's regime estimate. Plain values only: building one allocates nothing. Policies read
/// these instead of rebuilding bars, features or regimes of their own.
public struct DecisionContext: Sendable {
    public var instrument: InstrumentID
    public var tick: Tick
    /// Mid price of `tick`.
    public var price: Double
    /// Tick features after this tick (causal: computed from this and earlier ticks only).
    public var features: FeatureVector
    /// How many ticks of this instrument the tick features have seen (warm-up progress).
    public var featureUpdates: UInt64
    /// The bar this tick closed (`EngineConfig.bars`), nil when it closed none.
    public var bar: Bar?
    /// Bars of this instrument closed so far, counting `bar`.
    public var barsClosed: UInt64
    /// Features of the closed bars after `bar` (zero when the engine computes no bar features:
    /// `EngineConfig.barFeatures` nil).
    public var barFeatures: FeatureVector
    /// The regime detector's estimate after the latest closed bar (nil before it has one, or
    /// without a detector).
    public var regime: RegimeEstimate?
    /// Current position in units (signed).
    public var position: Double
    /// Current exposure as a fraction of the instrument's capital allocation (signed).
    public var exposure: Double
    /// Engine clock, ns.
    public var now: Int64

    public init(
        instrument: InstrumentID, tick: Tick, price: Double, features: FeatureVector, featureUpdates: UInt64,
        bar: Bar? = nil, barsClosed: UInt64 = 0, barFeatures: FeatureVector = FeatureVector(),
        regime: RegimeEstimate? = nil, position: Double, exposure: Double, now: Int64
    ) {
        self.instrument = instrument
        self.tick = tick
        self.price = price
        self.features = features
        self.featureUpdates = featureUpdates
        self.bar = bar
        self.barsClosed = barsClosed
        self.barFeatures = barFeatures
        self.regime = regime
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
    /// The engine turns it into an order; the risk stage caps it (`RiskLimits.maxExposure`) and has
    /// the last word.
    mutating func decide(_ context: DecisionContext) -> Double?
    /// What the engine's data stage must compute for this policy (bars, bar features, regime
    /// filter); the engine sets its data stage up from it. Default: every tick is a bar, no bar
    /// features, no regime detector.
    var dataRequirements: DataRequirements { get }
    /// The largest |target exposure| the policy means to ask for: the builder scales the risk
    /// limits to it and the risk stage clamps every target to it. Default 1 (unlevered).
    var maxExposure: Double { get }
}

extension DecisionPolicy {
    public var dataRequirements: DataRequirements { DataRequirements() }
    public var maxExposure: Double { 1 }
}
