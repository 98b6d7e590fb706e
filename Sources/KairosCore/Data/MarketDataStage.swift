// The engine's data stage: what happens to a tick between the inbound ring and the policy.
import CKairos
import Foundation

/// Why the data stage did not pass a tick on.
public enum TickOutcome: Sendable, Equatable {
    /// Validated, features, bar and regime updated: the policy may decide on it.
    case accepted
    /// Dropped by sequence tracking (a duplicate, or too old to tell from one).
    case sequenceDropped
    /// Refused by validation, with the reason.
    case rejected(TickRejection)
}

/// Per instrument: sequence tracking, validation, stale-feed detection, one bar aggregator, one
/// tick feature state, one bar feature state and one regime detector. The engine owns one; a
/// policy sees its result in `DecisionContext`, so nothing is computed twice.
///
/// Order per tick: sequence tracking (per publisher; every gap is counted, including the ticks a
/// publisher sent before this engine first heard from it) → validation → tick features → bar
/// aggregation → on a closed bar: bar features, then the regime detector (fed log(close)).
///
/// Implementation Notes
/// - Single writer: the engine thread. Everything is sized at init; `ingest` is O(1) per tick
///   (the regime detector's step, once per closed bar, is O(K²)), allocates nothing and makes no
///   system call.
/// - The regime detector is an existential (`any RegimeDetector`: the models live in
///   KairosStrategies, above this module) called once per bar, not per tick; mutating it in place
///   through the array does not copy (each box has one owner).
/// - The first closed bar of an instrument starts its detector (`reset(logPrice:)`); estimates
///   begin with the second, as the detectors are fitted (they model log returns).
public final class MarketDataStage {
    public let instruments: Int
    public let bars: BarRule
    /// Stale-feed threshold (engine clock, ns); nil = no stale detection (backtests, the demo).
    public let staleAfterNs: Int64?
    public private(set) var sequences: SequenceTracker
    public private(set) var validator: TickValidator
    let tickFeatures: [FeatureState]
    var latestFeatures: [FeatureVector]
    var aggregators: [BarAggregator]
    var latestBar: [Bar?]
    /// Bar features: nil when no policy needs them (the kernel costs ~50 ns per bar).
    let barFeatureStates: [FeatureState]?
    var latestBarFeatures: [FeatureVector]
    var previousClose: [Double?]
    var detectors: [any RegimeDetector]
    var detectorStarted: [Bool]
    var latestRegime: [RegimeEstimate?]
    /// Mid of the last accepted tick per instrument (0 before the first).
    public private(set) var lastPrice: [Double]

    /// - Parameters:
    ///   - regimeDetector: the detector every instrument starts from (copied per instrument), or
    ///     nil for none.
    ///   - startNs: engine clock at start (stale detection counts silence from it).
    public init(
        instruments n: Int, features: FeatureConfig, bars: BarRule, barFeatures: FeatureConfig?,
        regimeDetector: (any RegimeDetector)?, staleAfterNs: Int64?, startNs: Int64
    ) throws(FeatureError) {
        precondition(n >= 1 && n <= InstrumentID.max, "1...\(InstrumentID.max) instruments")
        precondition(bars.isValid, "invalid bar rule")
        instruments = n
        self.bars = bars
        self.staleAfterNs = staleAfterNs
        // Sequences are tracked whatever the stale setting: lost ticks are counted by default.
        sequences = SequenceTracker(instruments: n, staleAfterNs: staleAfterNs ?? .max, startNs: startNs)
        validator = TickValidator(instrumentCount: n)
        var tf: [FeatureState] = []
        for _ in 0..<n { tf.append(try FeatureState(config: features)) }
        tickFeatures = tf
        latestFeatures = Array(repeating: FeatureVector(), count: n)
        aggregators = Array(repeating: BarAggregator(rule: bars), count: n)
        latestBar = Array(repeating: nil, count: n)
        if let barFeatures {
            var bf: [FeatureState] = []
            for _ in 0..<n { bf.append(try FeatureState(config: barFeatures)) }
            barFeatureStates = bf
        } else {
            barFeatureStates = nil
        }
        latestBarFeatures = Array(repeating: FeatureVector(), count: n)
        previousClose = Array(repeating: nil, count: n)
        detectors = regimeDetector.map { d in Array(repeating: d, count: n) } ?? []
        detectorStarted = Array(repeating: false, count: n)
        latestRegime = Array(repeating: nil, count: n)
        lastPrice = Array(repeating: 0, count: n)
    }

    public var hasRegimeDetector: Bool { !detectors.isEmpty }
    public var computesBarFeatures: Bool { barFeatureStates != nil }

    /// Runs one tick through the stage. On `.accepted`, `closedBar` says whether it closed a bar.
    public func ingest(_ tick: Tick, now: Int64) -> (outcome: TickOutcome, closedBar: Bool) {
        guard sequences.accept(tick, now: now) else { return (.sequenceDropped, false) }
        if let reason = validator.validate(tick) { return (.rejected(reason), false) }
        let i = Int(tick.instrument)
        let price = tick.mid
        lastPrice[i] = price
        // Tick features (C kernel, O(1)). A tick is a degenerate bar: high = low = price.
        let input = kairos_feat_input(
            price: price, high: price, low: price,
            buy_volume: Double(tick.bid_size), sell_volume: Double(tick.ask_size))
        tickFeatures[i].update(input, into: &latestFeatures[i])
        guard let bar = aggregators[i].add(tick) else {
            latestBar[i] = nil
            return (.accepted, false)
        }
        latestBar[i] = bar
        onBar(i, bar)
        return (.accepted, true)
    }

    func onBar(_ i: Int, _ bar: Bar) {
        if let states = barFeatureStates {
            states[i].update(FeatureInput.bar(bar, previousClose: previousClose[i]), into: &latestBarFeatures[i])
        }
        previousClose[i] = bar.close
        guard !detectors.isEmpty else { return }
        let x = log(bar.close)
        if detectorStarted[i] {
            latestRegime[i] = detectors[i].update(logPrice: x)
        } else {
            detectors[i].reset(logPrice: x)
            detectorStarted[i] = true
        }
    }

    /// The context of instrument `i` after its latest accepted tick (position fields left for
    /// the engine to fill in).
    public func context(instrument i: Int, tick: Tick, position: Double, exposure: Double, now: Int64) -> DecisionContext {
        DecisionContext(
            instrument: InstrumentID(i), tick: tick, price: lastPrice[i], features: latestFeatures[i],
            featureUpdates: tickFeatures[i].updates, bar: latestBar[i], barsClosed: aggregators[i].closed,
            barFeatures: latestBarFeatures[i], regime: latestRegime[i], position: position, exposure: exposure, now: now)
    }

    public func features(of id: InstrumentID) -> FeatureVector { latestFeatures[id.index] }
    public func barFeatures(of id: InstrumentID) -> FeatureVector { latestBarFeatures[id.index] }
    public func regime(of id: InstrumentID) -> RegimeEstimate? { latestRegime[id.index] }
    public var regimes: [RegimeEstimate?] { latestRegime }

    /// Whether instrument `i` has been silent longer than `staleAfterNs` at `now` (false without
    /// stale detection).
    public func isStale(_ id: InstrumentID, now: Int64) -> Bool {
        staleAfterNs != nil && sequences.isStale(id, now: now)
    }
}

/// What a policy needs the data stage to compute for it: its bars, bar features and regime
/// filter. The engine's builder reads it from the policy and configures the engine with it.
public struct DataRequirements {
    public var bars: BarRule
    /// nil = the policy reads no bar features.
    public var barFeatures: FeatureConfig?
    /// The detector each instrument starts from; nil = none.
    public var regimeDetector: (any RegimeDetector)?
    public init(bars: BarRule = .ticks(1), barFeatures: FeatureConfig? = nil, regimeDetector: (any RegimeDetector)? = nil) {
        self.bars = bars
        self.barFeatures = barFeatures
        self.regimeDetector = regimeDetector
    }
}

extension MarketDataStage {
    /// A stage computing what `requirements` asks for.
    public convenience init(
        instruments: Int, features: FeatureConfig = .standard, requirements: DataRequirements,
        staleAfterNs: Int64? = nil, startNs: Int64 = 0
    ) throws(FeatureError) {
        try self.init(
            instruments: instruments, features: features, bars: requirements.bars, barFeatures: requirements.barFeatures,
            regimeDetector: requirements.regimeDetector, staleAfterNs: staleAfterNs, startNs: startNs)
    }
}

/// How bars and ticks feed the feature kernel.
public enum FeatureInput {
    /// A closed bar: price = close, its high and low, and its volume signed by the close's move
    /// (all on the buy side when the close rose, all on the sell side when it fell, split evenly
    /// when flat or first). Training computes its bar features the same way, bit for bit.
    @inlinable
    public static func bar(_ bar: Bar, previousClose: Double?) -> kairos_feat_input {
        let v = bar.volume.isFinite && bar.volume > 0 ? bar.volume : 0
        var buy = v * 0.5, sell = v * 0.5
        if let pc = previousClose {
            if bar.close > pc {
                buy = v
                sell = 0
            } else if bar.close < pc {
                buy = 0
                sell = v
            }
        }
        return kairos_feat_input(price: bar.close, high: bar.high, low: bar.low, buy_volume: buy, sell_volume: sell)
    }
}
