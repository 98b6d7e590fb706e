// A one-instrument online observation path for tests: bar features the way the engine's data stage
// computes them (a FeatureState fed FeatureInput.bar) plus the AgentObservationBuilder the ensemble
// keeps, with one agent's position. The engine itself runs the data stage and the ensemble
// (AgentEnsembleTests pins that path against the batch observations).
import KairosCore
import KairosStrategies
import CKairos

/// The online observation path for one instrument's bars, as the engine would drive it: its own
/// `FeatureState` fed the tick-rule bar input, an `AgentObservationBuilder`, and the entry price
/// of the current position for the unrealized PnL.
///
/// ## Implementation Notes
/// - Owns a `FeatureState` (allocated at init); `update(bar:)` and `write(position:into:)` are O(1)
///   and allocate nothing.
/// - Invariant: `entryPrice` is the close of the bar at which the position last changed to its
///   current non-zero value (0 while flat). Per closed bar: `update(bar:)`, `write(into:)` (the
///   observation for the position held into this bar), decide, `commit(position:)` — the order
///   `TradingEnvironment` and `TradingEvaluation` follow, so the floats are the same.
/// - Not `Sendable`: the feature state is mutated without synchronisation (one owner thread).
public final class AgentBarObserver {
    public let features: FeatureState
    public private(set) var builder = AgentObservationBuilder()
    private var previousClose: Double? = nil
    private var lastClose = 0.0
    private var heldPosition = 0.0
    public private(set) var entryPrice = 0.0

    public init(config: FeatureConfig = .standard) throws(FeatureError) {
        features = try FeatureState(config: config)
    }

    /// Feeds one closed bar.
    public func update(bar: Bar) {
        var f = FeatureVector()
        features.update(AgentObservation.featureInput(bar: bar, previousClose: previousClose), into: &f)
        builder.update(features: f)
        previousClose = bar.close
        lastClose = bar.close
    }

    /// Writes the observation of the latest bar for the position currently held (the one
    /// decided at the previous bar's close; record each decision with `commit(position:)`).
    public func write(into out: UnsafeMutableBufferPointer<Float>) {
        let u = AgentObservation.unrealizedPnLBps(position: heldPosition, entryPrice: entryPrice, price: lastClose)
        builder.write(position: heldPosition, unrealizedPnLBps: u, into: out)
    }

    /// Records the position decided at the latest bar's close.
    public func commit(position: Double) {
        if position != heldPosition { entryPrice = position == 0 ? 0 : lastClose }
        heldPosition = position
    }
}
