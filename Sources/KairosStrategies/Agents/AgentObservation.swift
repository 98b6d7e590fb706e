// What an agent sees each bar: the engine's streaming features of the bar series (rescaled to
// sane raw units), a few lags of the bar return, and its own position and unrealized PnL. One
// builder produces it online (engine, per bar, no allocation) and in batch (training, over a
// feature history), so the floats are the same bit for bit. docs/agents.md, "Observation".
import KairosCore
import CKairos

/// The layout of an agent observation (`AgentObservation.size` floats).
///
/// | index | value | unit |
/// |---|---|---|
/// | 0 | log return of the bar | bps |
/// | 1 | EMA spread (fast - slow) / slow | bps |
/// | 2 | z-score of the close vs its rolling mean | σ |
/// | 3 | (RSI - 50) / 50 | -1...1 |
/// | 4 | momentum (log return over `momentumLag` bars) | bps |
/// | 5 | realized volatility | bps per bar |
/// | 6 | high-low range over the window / close | bps |
/// | 7 | volume imbalance (tick-rule split) | -1...1 |
/// | 8 ..< 8 + lagCount | log return 1, 2, ... bars ago (0 before there was one) | bps |
/// | marketSize | position, signed fraction of equity | |
/// | marketSize + 1 | unrealized PnL of the position since it was set | bps of equity |
///
/// Normalisation (running mean / variance) is the learner's job; these raw scales keep every
/// entry within a few hundred in ordinary markets.
public enum AgentObservation {
    /// Return lags after the current bar's return.
    /// The feature configuration the agents are trained on and see in the engine (bar features).
    public static let featureConfig = FeatureConfig.standard
    public static let lagCount = 4
    /// Floats that depend only on the market (indices 0 ..< marketSize).
    public static let marketSize = 8 + lagCount
    /// Floats per observation.
    public static let size = marketSize + 2
    /// Index of the position entry.
    public static let positionIndex = marketSize
    /// Index of the unrealized PnL entry.
    public static let unrealizedPnLIndex = marketSize + 1

    /// Names of the entries, in order (model metadata, reports).
    public static let names: [String] = {
        var n = [
            "log_return_bps", "ema_spread_bps", "zscore", "rsi_centered", "momentum_bps",
            "realized_vol_bps", "high_low_range_bps", "volume_imbalance",
        ]
        for k in 1...lagCount { n.append("log_return_lag\(k)_bps") }
        n.append("position")
        n.append("unrealized_pnl_bps")
        return n
    }()

    /// Unrealized PnL of holding `position` (fraction of equity) since a bar closing at
    /// `entryPrice`, at `price`: position * (price / entryPrice - 1) in bps; 0 when flat.
    @inlinable
    public static func unrealizedPnLBps(position: Double, entryPrice: Double, price: Double) -> Double {
        position == 0 || entryPrice <= 0 ? 0 : position * (price / entryPrice - 1) * 1e4
    }

    /// The feature-kernel input for one bar: close, high, low, and the bar volume split by the
    /// tick rule against the previous close (up: all buy, down: all sell, unchanged or first
    /// bar: half each), so volume imbalance measures buying vs selling pressure.
    @inlinable
    public static func featureInput(bar: Bar, previousClose: Double?) -> kairos_feat_input {
        FeatureInput.bar(bar, previousClose: previousClose)
    }

    /// Batch form of the features for a bar series: row t equals what a fresh `FeatureState`
    /// fed `featureInput(bar:previousClose:)` bar by bar returns on bar t (bitwise).
    public static func featureHistory(bars: [Bar], config: FeatureConfig = .standard) throws(FeatureError)
        -> [FeatureVector]
    {
        let n = bars.count
        var buy = [Double](repeating: 0, count: n), sell = [Double](repeating: 0, count: n)
        for t in 0..<n {
            let input = featureInput(bar: bars[t], previousClose: t > 0 ? bars[t - 1].close : nil)
            buy[t] = input.buy_volume
            sell[t] = input.sell_volume
        }
        return try FeatureHistory.compute(
            config: config, price: bars.map(\.close), high: bars.map(\.high), low: bars.map(\.low),
            buyVolume: buy, sellVolume: sell)
    }

    /// Batch form of the market part: row t (`marketSize` floats) is what an
    /// `AgentObservationBuilder` holds after `update` with rows 0...t. Row-major `[t][i]`.
    public static func marketMatrix(features: [FeatureVector]) -> [Float] {
        var out = [Float](repeating: 0, count: features.count * marketSize)
        var b = AgentObservationBuilder()
        out.withUnsafeMutableBufferPointer { o in
            for t in features.indices {
                b.update(features: features[t])
                b.writeMarket(into: o.baseAddress! + t * marketSize)
            }
        }
        return out
    }

    /// Writes the account entries (position, unrealized PnL) after a market row.
    @inlinable
    public static func writeAccount(position: Double, unrealizedPnLBps: Double, into obs: UnsafeMutablePointer<Float>) {
        obs[positionIndex] = Float(position)
        obs[unrealizedPnLIndex] = Float(unrealizedPnLBps)
    }
}

/// Builds agent observations online, one bar at a time, from the engine's feature vectors.
///
/// ## Implementation Notes
/// - Invariant: after `update` with feature rows f_0 ... f_t, `writeMarket` writes the market
///   part of bar t exactly as row t of `AgentObservation.marketMatrix` (the batch form runs this
///   very type), and `lags[k]` holds the log return of bar t - 1 - k (0 before bar 0).
/// - Fixed-size state (one feature vector and a tuple of lags): `update` and the writers are
///   O(1) and allocate nothing, so the engine can call them per bar.
public struct AgentObservationBuilder: Sendable {
    private var current = FeatureVector()
    private var lags: (Double, Double, Double, Double) = (0, 0, 0, 0)
    /// Bars seen.
    public private(set) var bars = 0

    public init() {}

    /// Forgets everything (a new series).
    public mutating func reset() { self = AgentObservationBuilder() }

    /// Feeds the features of the next bar (causal: computed from this bar and earlier ones).
    public mutating func update(features: FeatureVector) {
        if bars > 0 { lags = (current[.logReturn], lags.0, lags.1, lags.2) }
        current = features
        bars += 1
    }

    /// Writes the `marketSize` market floats of the latest bar at `out`.
    public func writeMarket(into out: UnsafeMutablePointer<Float>) {
        let f = current
        out[0] = Float(f[.logReturn] * 1e4)
        out[1] = Float(f[.emaSpread] * 1e4)
        out[2] = Float(f[.zScore])
        out[3] = Float((f[.rsi] - 50) / 50)
        out[4] = Float(f[.momentum] * 1e4)
        out[5] = Float(f[.realizedVolatility] * 1e4)
        out[6] = Float(f[.highLowRange] * 1e4)
        out[7] = Float(f[.volumeImbalance])
        out[8] = Float(lags.0 * 1e4)
        out[9] = Float(lags.1 * 1e4)
        out[10] = Float(lags.2 * 1e4)
        out[11] = Float(lags.3 * 1e4)
    }

    /// Writes the whole observation (`AgentObservation.size` floats) of the latest bar.
    public func write(position: Double, unrealizedPnLBps: Double, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count >= AgentObservation.size, "observation buffer too short")
        writeMarket(into: out.baseAddress!)
        AgentObservation.writeAccount(position: position, unrealizedPnLBps: unrealizedPnLBps, into: out.baseAddress!)
    }
}

