// Observation features for regime detection, computed causally from bar closes (or tick mids).
// The same streaming struct serves the batch path so training and live filtering see the same
// numbers bit for bit.
import KairosCore
import Foundation

/// Windows of the regime observation features (in bars / steps).
public struct RegimeFeatureConfig: Codable, Sendable, Hashable {
    /// Span of the short realized-volatility EWMA (alpha = 2 / (span + 1)).
    public var shortVolSpan: Double
    /// Span of the long realized-volatility EWMA.
    public var longVolSpan: Double
    /// Smoothing of the EMA of the log price that defines the trend (lambda; 0.05 ~ 39-bar span).
    public var trendSmoothing: Double
    public init(shortVolSpan: Double = 10, longVolSpan: Double = 50, trendSmoothing: Double = 0.05) {
        self.shortVolSpan = shortVolSpan
        self.longVolSpan = longVolSpan
        self.trendSmoothing = trendSmoothing
    }
    public static let `default` = RegimeFeatureConfig()
}

/// One bar's regime observation. All fields use only prices up to and including this bar.
public struct RegimeObservation: Sendable, Hashable {
    /// r_t = log(close_t) - log(close_{t-1}) (first bar: log(close / open)).
    public var logReturn: Double
    /// sqrt of the EWMA of r^2 with the short span.
    public var volShort: Double
    /// sqrt of the EWMA of r^2 with the long span.
    public var volLong: Double
    /// Trend strength: x_t - m_t, the log price's distance above its EMA level m (log units).
    /// Positive in up-trends, negative in down-trends; its lagged value is the regressor of the
    /// HMM's switching mean (mean reversion pulls r_t towards m_{t-1} - x_{t-1} = -trend_{t-1}).
    public var trend: Double
    /// trend_{t-1}: the regressor for r_t, known before bar t (0 on the first bar).
    public var previousTrend: Double
    public init(logReturn: Double, volShort: Double, volLong: Double, trend: Double, previousTrend: Double) {
        self.logReturn = logReturn
        self.volShort = volShort
        self.volLong = volLong
        self.trend = trend
        self.previousTrend = previousTrend
    }
}

/// Streaming regime features.
///
/// Implementation Notes: fixed-size state (a handful of doubles), O(1) per update and no
/// allocation. Volatilities are EWMAs of squared returns seeded with the first return's square
/// (floored so the log-vol stays finite); the trend level m is the EMA of the log price with
/// m_0 = x_0, exactly the synthetic market's `.observedEMA` anchor when `trendSmoothing` matches.
public struct RegimeFeatureState: Sendable {
    public let config: RegimeFeatureConfig
    private let aShort: Double, aLong: Double
    private var lastLogPrice = 0.0
    private var level = 0.0
    private var varShort = 0.0, varLong = 0.0
    private var trend = 0.0
    private var started = false
    public private(set) var count = 0

    public init(config: RegimeFeatureConfig = .default) {
        self.config = config
        aShort = 2 / (config.shortVolSpan + 1)
        aLong = 2 / (config.longVolSpan + 1)
    }

    /// Starts the series at log price `x0` (for bars: log of the first open).
    public mutating func start(logPrice x0: Double) {
        lastLogPrice = x0
        level = x0
        trend = 0
        count = 0
        started = true
    }

    /// Consumes the next log price x_t and returns the observation of step t. Without a prior
    /// `start`, the first price starts the series (its return is 0).
    @inlinable @inline(__always)
    public mutating func update(logPrice x: Double) -> RegimeObservation { _update(x) }

    @usableFromInline mutating func _update(_ x: Double) -> RegimeObservation {
        if !started { start(logPrice: x) }
        let r = x - lastLogPrice
        let r2 = max(r * r, 1e-12)
        if count == 0 {
            varShort = r2
            varLong = r2
        } else {
            varShort += aShort * (r2 - varShort)
            varLong += aLong * (r2 - varLong)
        }
        let prev = trend
        level += config.trendSmoothing * (x - level)
        trend = x - level
        lastLogPrice = x
        count += 1
        return RegimeObservation(
            logReturn: r, volShort: varShort.squareRoot(), volLong: varLong.squareRoot(), trend: trend,
            previousTrend: prev)
    }

    /// Convenience for bars: the first bar starts the series at log(open).
    public mutating func update(bar: Bar) -> RegimeObservation {
        if !started { start(logPrice: log(bar.open)) }
        return update(logPrice: log(bar.close))
    }

    /// Batch: the observations of every bar, in order (element t uses bars 0...t only).
    public static func observations(bars: [Bar], config: RegimeFeatureConfig = .default) -> [RegimeObservation] {
        guard let first = bars.first else { return [] }
        var s = RegimeFeatureState(config: config)
        s.start(logPrice: log(first.open))
        return bars.map { s.update(logPrice: log($0.close)) }
    }
}
