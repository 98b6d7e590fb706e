import CKairos

/// Why a feature kernel could not be created or run.
public enum FeatureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A configuration field is out of range (`field` is the Swift property name).
    case invalidConfig(field: String, value: Int)
    /// The instrument count of a batch is not in 1...UInt32.max.
    case invalidInstrumentCount(Int)
    /// AVX2 was requested explicitly but this CPU (or build) has no AVX2+FMA.
    case simdPathUnavailable(FeatureSIMDPath)
    /// Optional input series must be as long as the price series.
    case lengthMismatch(series: String, expected: Int, actual: Int)
    /// The C core could not allocate its history buffers.
    case outOfMemory

    public var description: String {
        switch self {
        case .invalidConfig(let field, let value): "invalid feature config: \(field) = \(value)"
        case .invalidInstrumentCount(let n): "invalid instrument count \(n)"
        case .simdPathUnavailable(let p): "SIMD path \(p) is not available on this CPU"
        case .lengthMismatch(let s, let e, let a): "\(s) has \(a) values, expected \(e)"
        case .outOfMemory: "out of memory for feature history buffers"
        }
    }
}

/// Parameters of the streaming features; mirrors `kairos_feat_config` (see `kairos_features.h`
/// and docs/features.md for what each one controls).
///
/// Implementation Notes: a plain value; nothing is checked until it is converted with
/// `validated()` (which every kernel does at creation), so invalid values can be built,
/// decoded and compared, but never reach the C core.
public struct FeatureConfig: Sendable, Hashable, Codable {
    /// Rolling mean / variance / z-score / high-low range / volume imbalance window, 2...2^24.
    public var window: Int
    /// Realized-volatility window in log returns, 1...2^24.
    public var volatilityWindow: Int
    /// Momentum lag in updates, 1...2^24.
    public var momentumLag: Int
    /// Wilder RSI period, 1...2^24.
    public var rsiPeriod: Int
    /// Span of the fast EMA (alpha = 2 / (span + 1)), >= 1.
    public var emaFastSpan: Int
    /// Span of the slow EMA, >= 1.
    public var emaSlowSpan: Int
    /// Exact recompute of the windowed sums every this many updates; 0 means every `window`.
    public var reanchorEvery: Int

    public init(
        window: Int = 30, volatilityWindow: Int = 30, momentumLag: Int = 10, rsiPeriod: Int = 14,
        emaFastSpan: Int = 10, emaSlowSpan: Int = 30, reanchorEvery: Int = 0
    ) {
        self.window = window
        self.volatilityWindow = volatilityWindow
        self.momentumLag = momentumLag
        self.rsiPeriod = rsiPeriod
        self.emaFastSpan = emaFastSpan
        self.emaSlowSpan = emaSlowSpan
        self.reanchorEvery = reanchorEvery
    }

    /// The C defaults (`kairos_feat_config_default`): window 30, vol window 30, momentum lag 10,
    /// RSI 14, EMA spans 10 / 30, re-anchor every window.
    public static let standard: FeatureConfig = {
        var c = kairos_feat_config()
        kairos_feat_config_default(&c)
        return FeatureConfig(c)
    }()

    /// Mirrors a C configuration.
    public init(_ c: kairos_feat_config) {
        self.init(
            window: Int(c.window), volatilityWindow: Int(c.vol_window), momentumLag: Int(c.momentum_lag),
            rsiPeriod: Int(c.rsi_period), emaFastSpan: Int(c.ema_fast_span), emaSlowSpan: Int(c.ema_slow_span),
            reanchorEvery: Int(c.reanchor_every))
    }

    /// The C configuration, after checking every field (Swift range, then
    /// `kairos_feat_config_validate`).
    public func validated() throws(FeatureError) -> kairos_feat_config {
        func u32(_ v: Int, _ name: String) throws(FeatureError) -> UInt32 {
            guard let x = UInt32(exactly: v) else { throw .invalidConfig(field: name, value: v) }
            return x
        }
        let c = kairos_feat_config(
            window: try u32(window, "window"), vol_window: try u32(volatilityWindow, "volatilityWindow"),
            momentum_lag: try u32(momentumLag, "momentumLag"), rsi_period: try u32(rsiPeriod, "rsiPeriod"),
            ema_fast_span: try u32(emaFastSpan, "emaFastSpan"), ema_slow_span: try u32(emaSlowSpan, "emaSlowSpan"),
            reanchor_every: try u32(reanchorEvery, "reanchorEvery"))
        var copy = c
        switch Int(kairos_feat_config_validate(&copy)) {
        case 0: return c
        case Int(KAIROS_FEAT_E_WINDOW): throw .invalidConfig(field: "window", value: window)
        case Int(KAIROS_FEAT_E_VOL_WINDOW):
            throw .invalidConfig(field: "volatilityWindow", value: volatilityWindow)
        case Int(KAIROS_FEAT_E_MOMENTUM_LAG): throw .invalidConfig(field: "momentumLag", value: momentumLag)
        case Int(KAIROS_FEAT_E_RSI_PERIOD): throw .invalidConfig(field: "rsiPeriod", value: rsiPeriod)
        case Int(KAIROS_FEAT_E_EMA_FAST_SPAN): throw .invalidConfig(field: "emaFastSpan", value: emaFastSpan)
        case Int(KAIROS_FEAT_E_EMA_SLOW_SPAN): throw .invalidConfig(field: "emaSlowSpan", value: emaSlowSpan)
        case let code: throw .invalidConfig(field: "unknown (\(code))", value: 0)
        }
    }

    /// Throws when any field is out of range.
    public func validate() throws(FeatureError) { _ = try validated() }
}

/// Which code path a `FeatureBatch` runs. Both give bitwise identical results.
public enum FeatureSIMDPath: Sendable, Hashable, CustomStringConvertible {
    /// AVX2+FMA when the CPU has them, otherwise scalar (resolved at creation).
    case auto
    /// Portable scalar code, one instrument at a time.
    case scalar
    /// Four instruments per 256-bit vector with FMA.
    case avx2

    @usableFromInline var cValue: kairos_simd_path {
        switch self {
        case .auto: KAIROS_SIMD_AUTO
        case .scalar: KAIROS_SIMD_SCALAR
        case .avx2: KAIROS_SIMD_AVX2
        }
    }
    init(_ c: kairos_simd_path) {
        switch c {
        case KAIROS_SIMD_AVX2: self = .avx2
        case KAIROS_SIMD_SCALAR: self = .scalar
        default: self = .auto
        }
    }
    public var description: String {
        switch self {
        case .auto: "auto"
        case .scalar: "scalar"
        case .avx2: "avx2"
        }
    }
}
