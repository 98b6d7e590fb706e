// One bar series prepared once for training and evaluation: closes, regime labels, and the
// market part of every bar's agent observation (the engine's feature kernels in batch form).
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import Foundation

/// A bar series with its precomputed agent-observation rows.
///
/// ## Implementation Notes
/// - `market` is row-major `[t][AgentObservation.marketSize]`, built by
///   `AgentObservation.marketMatrix` over `AgentObservation.featureHistory(bars:)`, so row t is
///   bit for bit what the engine shows the ensemble after bar t (data stage bar features +
///   `AgentObservationBuilder`; `AgentBarObserver` in KairosTesting reproduces it for tests).
/// - Features are causal, so one history over the whole series serves every sub-range (a
///   held-out stretch's first rows are warmed up by the bars before it).
/// - Immutable after init; O(T) time and memory to build; `Sendable` (plain arrays).
public struct TradingDataset: Sendable {
    public let bars: [Bar]
    public let closes: [Double]
    /// True (synthetic) or provided labels, one per bar; nil when unknown.
    public let regimes: [Regime]?
    /// z-score of the close vs its rolling mean, per bar (the contrarian's stretch).
    public let zScores: [Double]
    /// `count * AgentObservation.marketSize` floats.
    public let market: [Float]
    public let featureConfig: FeatureConfig
    /// From the bar spacing (`PerformanceStats.periodsPerYear`).
    public let periodsPerYear: Double

    public var count: Int { bars.count }

    /// - Precondition: closes finite and > 0; `regimes`, when given, has one label per bar.
    public init(bars: [Bar], regimes: [Regime]? = nil, featureConfig: FeatureConfig = .standard) throws(FeatureError) {
        precondition(bars.allSatisfy { $0.close > 0 && $0.close.isFinite }, "closes must be finite and > 0")
        if let regimes { precondition(regimes.count == bars.count, "one regime label per bar") }
        let features = try AgentObservation.featureHistory(bars: bars, config: featureConfig)
        self.bars = bars
        closes = bars.map(\.close)
        self.regimes = regimes
        zScores = features.map { $0[.zScore] }
        market = AgentObservation.marketMatrix(features: features)
        self.featureConfig = featureConfig
        periodsPerYear = PerformanceStats.periodsPerYear(timestamps: bars.map(\.timestamp))
    }

    /// `count` daily-like bars of the synthetic market (instrument 0) with their true regimes, built
    /// from its ticks exactly as the engine builds them (`BarAggregator.synthetic`).
    public static func synthetic(
        scenario: MarketScenario = .persistent, count: Int, seed: UInt64, featureConfig: FeatureConfig = .standard
    ) throws(FeatureError) -> TradingDataset {
        let market = SyntheticMarket(scenario: scenario, instruments: 1, seed: seed)
        // The engine's bars (built from ticks), not `market.bars()`'s Brownian-bridge ranges.
        let (bars, regimes) = BarAggregator.synthetic(market: market, count: count)
        return try TradingDataset(bars: bars, regimes: regimes, featureConfig: featureConfig)
    }

    /// An OHLCV CSV (`OHLCVCSV`); its regime column, if any, becomes the labels.
    public static func csv(path: String, featureConfig: FeatureConfig = .standard) throws -> TradingDataset {
        let table = try OHLCVCSV.loadTable(path: path)
        return try TradingDataset(bars: table.bars, regimes: table.regimes, featureConfig: featureConfig)
    }

    /// The regime detector's causal labels for `bars` (real data has no true labels): a
    /// `GaussianHMM` fitted on the bars before `fitUntil` only (so a held-out stretch after it is
    /// never seen by the fit), then filtered over every bar from a fresh start with hysteresis
    /// (`HysteresisDetector.labels`): label t uses bars 0...t only. O(T) after the fit.
    /// - Precondition: at least 2 bars before `fitUntil`.
    public static func causalRegimeLabels(
        bars: [Bar], fitUntil: Int, options: GaussianHMMFitOptions = .standard, threshold: Double = 0.6,
        minDwell: Int = 3
    ) -> [Regime] {
        precondition(fitUntil >= 2 && fitUntil <= bars.count, "need bars to fit the detector on")
        let model = GaussianHMM.fit(bars: Array(bars[..<fitUntil]), options: options)
        var filter = GaussianHMMFilter(model: model)
        let estimates = filter.run(bars: bars)
        return HysteresisDetector.labels(estimates, threshold: threshold, minDwell: minDwell).labels
    }

    /// The same dataset with other regime labels (e.g. `causalRegimeLabels`), one per bar.
    public func relabelled(_ labels: [Regime]) -> TradingDataset {
        precondition(labels.count == count, "one regime label per bar")
        return TradingDataset(copying: self, regimes: labels)
    }

    private init(copying d: TradingDataset, regimes: [Regime]?) {
        bars = d.bars
        closes = d.closes
        self.regimes = regimes
        zScores = d.zScores
        market = d.market
        featureConfig = d.featureConfig
        periodsPerYear = d.periodsPerYear
    }

    /// The bars with `from <= timestamp < to` (ns since the epoch; nil = unbounded), as an index
    /// range (bars are in time order). Held-out stretches: e.g. 2013-01-01 ..< 2019-01-01.
    /// O(log T).
    public func range(from: Int64? = nil, to: Int64? = nil) -> Range<Int> {
        func firstIndex(atOrAfter ts: Int64) -> Int {
            var lo = 0, hi = bars.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if bars[mid].timestamp < ts { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        let a = from.map(firstIndex(atOrAfter:)) ?? 0
        let b = to.map(firstIndex(atOrAfter:)) ?? bars.count
        return a..<max(a, b)
    }

    /// The market row of bar t.
    @inlinable
    public func marketRow(_ t: Int) -> ArraySlice<Float> {
        market[(t * AgentObservation.marketSize)..<((t + 1) * AgentObservation.marketSize)]
    }
}
