import CKairos
import Foundation
import Testing

@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

// MARK: - Inputs

/// A seeded generator (Kairos's SplitMix64) so every series here is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var base: SplitMix64
    init(seed: UInt64) { base = SplitMix64(seed: seed) }
    mutating func next() -> UInt64 { base.next() }
    mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992.0 }
    mutating func normal() -> Double {
        let u = uniform(), v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }
}

struct Series {
    var price: [Double] = [], high: [Double] = [], low: [Double] = [], buy: [Double] = [], sell: [Double] = []
    var count: Int { price.count }

    /// Geometric random walk with bar extremes around the close and fractional volumes.
    /// `sigmaAt` lets a series switch volatility regimes (stress for the windowed sums).
    static func randomWalk(seed: UInt64, count: Int, sigmaAt: (Int) -> Double = { _ in 0.01 }) -> Series {
        var g = SeededGenerator(seed: seed)
        var s = Series()
        var p = 100.0
        for t in 0..<count {
            let sigma = sigmaAt(t)
            p *= Foundation.exp(sigma * g.normal() + 0.0001 * sigma)
            s.price.append(p)
            s.high.append(p * (1 + 0.4 * sigma * g.uniform()))
            s.low.append(p * (1 - 0.4 * sigma * g.uniform()))
            s.buy.append(1000 * g.uniform())
            s.sell.append(1000 * g.uniform())
        }
        return s
    }

    /// `../shared/data/sp500.csv` relative to the package root, parsed ad hoc
    /// (Date,Open,High,Low,Close,Adj Close,Volume; M/D/YYYY). Volume split by the tick rule:
    /// all to buy on an up close, all to sell on a down close, half each otherwise.
    static func sp500() -> Series? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let url = root.deletingLastPathComponent().appendingPathComponent("shared/data/sp500.csv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        var s = Series()
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",")
            guard f.count >= 7, let h = Double(f[2]), let l = Double(f[3]), let c = Double(f[4]),
                let v = Double(f[6]), c > 0
            else { continue }
            let prev = s.price.last ?? c
            s.buy.append(c > prev ? v : c < prev ? 0 : v / 2)
            s.sell.append(c < prev ? v : c > prev ? 0 : v / 2)
            s.price.append(c)
            s.high.append(h)
            s.low.append(l)
        }
        return s.count > 0 ? s : nil
    }
}

// MARK: - Reference

/// Plain double-precision definitions, recomputed from scratch over the window at every t
/// (two-pass mean/variance, naive max/min and sums). RSI is inherently recursive, so it is the
/// textbook Wilder loop. Written independently of the C kernels: no anchors, no FMA, no log1p.
enum Reference {
    static func features(_ cfg: FeatureConfig, _ s: Series) -> [[Double]] {
        let T = s.count, W = cfg.window, V = cfg.volatilityWindow, L = cfg.momentumLag, N = cfg.rsiPeriod
        let aF = 2.0 / Double(cfg.emaFastSpan + 1), aS = 2.0 / Double(cfg.emaSlowSpan + 1)
        var rows = [[Double]](repeating: [Double](repeating: 0, count: Feature.count), count: T)
        var emaF = s.price[0], emaS = s.price[0]
        var sumG = 0.0, sumL = 0.0, avgG = 0.0, avgL = 0.0
        for t in 0..<T {
            let p = s.price[t]
            var r = [Double](repeating: 0, count: Feature.count)
            r[Feature.logReturn.rawValue] = t == 0 ? 0 : Foundation.log(p / s.price[t - 1])
            if t > 0 {
                emaF += aF * (p - emaF)
                emaS += aS * (p - emaS)
            }
            r[Feature.emaFast.rawValue] = emaF
            r[Feature.emaSlow.rawValue] = emaS
            r[Feature.emaSpread.rawValue] = (emaF - emaS) / emaS

            let lo = max(0, t - W + 1), n = t - lo + 1
            var mean = 0.0
            for j in lo...t { mean += s.price[j] }
            mean /= Double(n)
            var ss = 0.0
            for j in lo...t { ss += (s.price[j] - mean) * (s.price[j] - mean) }
            let v = n > 1 ? ss / Double(n - 1) : 0
            r[Feature.rollingMean.rawValue] = mean
            r[Feature.rollingVariance.rawValue] = v
            r[Feature.zScore.rawValue] = v > 0 ? (p - mean) / v.squareRoot() : 0

            let m = min(t, V)
            var q = 0.0
            if m > 0 {
                for j in (t - m + 1)...t {
                    let x = Foundation.log(s.price[j] / s.price[j - 1])
                    q += x * x
                }
            }
            r[Feature.realizedVolatility.rawValue] = m > 0 ? (q / Double(m)).squareRoot() : 0

            if t == 0 {
                r[Feature.rsi.rawValue] = 50
            } else {
                let d = p - s.price[t - 1]
                let g = max(d, 0), l = max(-d, 0)
                if t <= N {
                    sumG += g
                    sumL += l
                    avgG = sumG / Double(t)
                    avgL = sumL / Double(t)
                } else {
                    avgG = (avgG * Double(N - 1) + g) / Double(N)
                    avgL = (avgL * Double(N - 1) + l) / Double(N)
                }
                r[Feature.rsi.rawValue] = avgL == 0 ? (avgG == 0 ? 50 : 100) : 100 - 100 / (1 + avgG / avgL)
            }
            r[Feature.momentum.rawValue] = Foundation.log(p / s.price[t >= L ? t - L : 0])

            var hi = -Double.infinity, lw = Double.infinity, b = 0.0, se = 0.0
            for j in lo...t {
                hi = max(hi, s.high[j])
                lw = min(lw, s.low[j])
                b += s.buy[j]
                se += s.sell[j]
            }
            r[Feature.highLowRange.rawValue] = (hi - lw) / p
            r[Feature.volumeImbalance.rawValue] = b + se > 0 ? (b - se) / (b + se) : 0
            rows[t] = r
        }
        return rows
    }

    static let u = 0x1p-53

    /// Allowed |kernel - reference|: 1e-9 relative everywhere, plus an absolute term only where
    /// the quantity is a difference of nearly equal numbers and so has absolute, not relative,
    /// conditioning (documented in docs/features.md).
    static func tolerance(_ f: Feature, ref: [Double], price: Double) -> Double {
        let rel = 1e-9 * abs(ref[f.rawValue])
        switch f {
        // ln near 1: the ratio p/q is itself only known to ~u, i.e. ~1.1e-16 absolute in ln.
        case .logReturn, .momentum: return rel + 1e-15
        // (fast - slow)/slow: each EMA carries ~u/alpha relative rounding.
        case .emaSpread: return rel + 1e-13
        // p - mean is known to ~u|p| (the mean's rounding), divided by the standard deviation.
        case .zScore:
            let sd = ref[Feature.rollingVariance.rawValue].squareRoot()
            return sd > 0 ? rel + 8 * u * abs(price) / sd : rel
        // 0...100 scale; 100 - 100/(1+RS) in the reference cancels near 0.
        case .rsi: return rel + 1e-10
        // (B - S)/(B + S): the windowed sums carry ~R u (B + S) absolute.
        case .volumeImbalance: return rel + 1e-12
        case .realizedVolatility: return rel + 1e-15
        default: return rel
        }
    }
}

/// Largest |got - ref| / tolerance per feature (<= 1 passes) and where it happened.
func compare(_ got: [FeatureVector], _ ref: [[Double]], _ s: Series) -> [(Feature, Double, Int)] {
    var worst = [(Feature, Double, Int)]()
    for f in Feature.allCases {
        var w = 0.0, at = -1
        for t in 0..<ref.count {
            let e = abs(got[t][f] - ref[t][f.rawValue]) / Reference.tolerance(f, ref: ref[t], price: s.price[t])
            if !(e <= w) { (w, at) = (e, t) }  // NaN counts as worst
        }
        worst.append((f, w, at))
    }
    return worst
}

/// Largest relative error of one feature over rows where the reference is not 0 (diagnostics
/// printed by the accuracy tests; the assertions use `compare`).
func maxRelativeError(_ got: [FeatureVector], _ ref: [[Double]], _ f: Feature) -> Double {
    var w = 0.0
    for t in 0..<ref.count where ref[t][f.rawValue] != 0 {
        w = max(w, abs(got[t][f] - ref[t][f.rawValue]) / abs(ref[t][f.rawValue]))
    }
    return w
}

func report(_ label: String, _ got: [FeatureVector], _ ref: [[Double]]) {
    let parts = [Feature.rollingMean, .rollingVariance, .realizedVolatility, .zScore, .emaFast, .rsi, .highLowRange]
        .map { "\($0) \(maxRelativeError(got, ref, $0))" }
    print("\(label) max relative error: " + parts.joined(separator: ", "))
}

func stream(_ cfg: FeatureConfig, _ s: Series) throws -> [FeatureVector] {
    let st = try FeatureState(config: cfg)
    return (0..<s.count).map {
        st.update(price: s.price[$0], high: s.high[$0], low: s.low[$0], buyVolume: s.buy[$0], sellVolume: s.sell[$0])
    }
}

func bitwiseEqual(_ a: FeatureVector, _ b: FeatureVector) -> Bool {
    Feature.allCases.allSatisfy { a[$0].bitPattern == b[$0].bitPattern }
}

let featureConfigs: [FeatureConfig] = [
    .standard,
    FeatureConfig(
        window: 2, volatilityWindow: 1, momentumLag: 1, rsiPeriod: 1, emaFastSpan: 1, emaSlowSpan: 2, reanchorEvery: 1),
    FeatureConfig(
        window: 7, volatilityWindow: 5, momentumLag: 50, rsiPeriod: 3, emaFastSpan: 3, emaSlowSpan: 100,
        reanchorEvery: 1000),
    FeatureConfig(window: 200, volatilityWindow: 64, momentumLag: 20, rsiPeriod: 30, emaFastSpan: 12, emaSlowSpan: 26),
]

// MARK: - Accuracy against the reference

@Suite struct FeatureAccuracyTests {
    @Test(arguments: featureConfigs)
    func randomWalkMatchesReference(_ cfg: FeatureConfig) throws {
        let s = Series.randomWalk(seed: 7, count: 4000)
        let worst = compare(try stream(cfg, s), Reference.features(cfg, s), s)
        for (f, w, t) in worst { #expect(w <= 1, "\(f) off by \(w)x its tolerance at t=\(t) with \(cfg)") }
    }

    /// 100k steps, volatility switching between 2% and 0.01% every 5000 steps: large moves leave
    /// the window while the remaining spread is tiny, the hardest case for windowed sums.
    @Test func longRandomWalkDoesNotDrift() throws {
        let T = 100_000
        let s = Series.randomWalk(seed: 11, count: T) { t in (t / 5000) % 2 == 0 ? 0.02 : 0.0001 }
        let cfg = FeatureConfig.standard
        let got = try stream(cfg, s)
        let ref = Reference.features(cfg, s)
        report("long walk (100k)", got, ref)
        for (f, w, t) in compare(got, ref, s) { #expect(w <= 1, "\(f) off by \(w)x its tolerance at t=\(t)") }
        // The window statistics stay within 1e-9 relative at the end, too (no slow drift).
        for t in (T - 1000)..<T {
            for f in [Feature.rollingMean, .rollingVariance, .realizedVolatility] {
                let r = ref[t][f.rawValue]
                #expect(abs(got[t][f] - r) <= 1e-9 * abs(r), "\(f) at t=\(t)")
            }
        }
    }

    @Test(arguments: featureConfigs)
    func sp500MatchesReference(_ cfg: FeatureConfig) throws {
        guard let s = Series.sp500() else {
            print("FeatureAccuracyTests: ../shared/data/sp500.csv not found, skipping the S&P 500 check")
            return
        }
        #expect(s.count > 5000)
        let got = try stream(cfg, s), ref = Reference.features(cfg, s)
        report("S&P 500 window \(cfg.window)", got, ref)
        let worst = compare(got, ref, s)
        for (f, w, t) in worst { #expect(w <= 1, "\(f) off by \(w)x its tolerance at t=\(t) with \(cfg)") }
    }
}

// MARK: - Paths, history, causality

@Suite struct FeatureConsistencyTests {
    /// Scalar state, batch scalar path and batch AVX2 path agree bitwise, for counts that are
    /// and are not multiples of 4, with and without high/low/volumes.
    @Test(arguments: [1, 3, 4, 7, 13])
    func pathsAgreeBitwise(_ n: Int) throws {
        for cfg in [FeatureConfig.standard, featureConfigs[1], featureConfigs[2]] {
            for full in [true, false] {
                let T = 1500
                let series = (0..<n).map { Series.randomWalk(seed: UInt64(100 + $0), count: T) }
                let states = try (0..<n).map { _ in try FeatureState(config: cfg) }
                var batches = [try FeatureBatch(config: cfg, instruments: n, path: .scalar)]
                if SystemInfo.hasAVX2 { batches.append(try FeatureBatch(config: cfg, instruments: n, path: .avx2)) }
                var out = [Double]()
                var mismatches = 0
                for t in 0..<T {
                    let col = { (k: KeyPath<Series, [Double]>) in series.map { $0[keyPath: k][t] } }
                    let p = col(\.price), h = col(\.high), l = col(\.low), b = col(\.buy), s = col(\.sell)
                    let expected = (0..<n).map { i in
                        full
                            ? states[i].update(price: p[i], high: h[i], low: l[i], buyVolume: b[i], sellVolume: s[i])
                            : states[i].update(price: p[i])
                    }
                    for batch in batches {
                        if full {
                            batch.update(price: p, high: h, low: l, buyVolume: b, sellVolume: s, into: &out)
                        } else {
                            batch.update(price: p, into: &out)
                        }
                        for i in 0..<n {
                            for f in Feature.allCases
                            where out[FeatureBatch.index(of: f, instrument: i, count: n)].bitPattern
                                != expected[i][f].bitPattern
                            {
                                mismatches += 1
                            }
                        }
                    }
                }
                #expect(mismatches == 0, "n=\(n) full=\(full) \(cfg)")
                for batch in batches { #expect(batch.updates == UInt64(T)) }
            }
        }
    }

    @Test func autoPathResolves() throws {
        let b = try FeatureBatch(instruments: 5)
        #expect(b.path == (SystemInfo.hasAVX2 ? .avx2 : .scalar))
        #expect(b.count == 5)
        #expect(try FeatureBatch(instruments: 5, path: .scalar).path == .scalar)
    }

    @Test(arguments: featureConfigs)
    func historyEqualsStreaming(_ cfg: FeatureConfig) throws {
        let s = Series.randomWalk(seed: 3, count: 3000)
        let hist = try FeatureHistory.compute(
            config: cfg, price: s.price, high: s.high, low: s.low, buyVolume: s.buy, sellVolume: s.sell)
        let live = try stream(cfg, s)
        #expect(hist.count == s.count)
        #expect(zip(hist, live).allSatisfy(bitwiseEqual))
        // nil high/low/volumes mean price / 0, in both forms.
        let h2 = try FeatureHistory.compute(config: cfg, price: s.price)
        let st = try FeatureState(config: cfg)
        #expect(zip(h2, s.price).allSatisfy { bitwiseEqual($0, st.update(price: $1)) })
        #expect(try FeatureHistory.compute(price: []).isEmpty)
    }

    /// Changing inputs after t leaves rows <= t unchanged (bitwise), and does change later rows.
    @Test func causal() throws {
        let s = Series.randomWalk(seed: 5, count: 2000)
        let base = try FeatureHistory.compute(
            price: s.price, high: s.high, low: s.low, buyVolume: s.buy, sellVolume: s.sell)
        for cut in [0, 1, 29, 30, 31, 777, 1998] {
            var m = s
            var g = SeededGenerator(seed: UInt64(cut))
            for t in (cut + 1)..<s.count {
                let k = 1 + 0.05 * g.normal()
                m.price[t] *= k
                m.high[t] *= k * 1.01
                m.low[t] *= k * 0.99
                m.buy[t] = 1000 * g.uniform()
                m.sell[t] = 1000 * g.uniform()
            }
            let alt = try FeatureHistory.compute(
                price: m.price, high: m.high, low: m.low, buyVolume: m.buy, sellVolume: m.sell)
            #expect((0...cut).allSatisfy { bitwiseEqual(base[$0], alt[$0]) }, "rows <= \(cut) changed")
            if cut + 1 < s.count { #expect(!bitwiseEqual(base[cut + 1], alt[cut + 1])) }
        }
    }
}

// MARK: - Configuration and warm-up

@Suite struct FeatureConfigAndWarmUpTests {
    @Test func standardIsTheCDefault() throws {
        var c = kairos_feat_config()
        kairos_feat_config_default(&c)
        let s = FeatureConfig.standard
        #expect(s == FeatureConfig(c))
        #expect(s == FeatureConfig())
        #expect(s.window == 30 && s.volatilityWindow == 30 && s.momentumLag == 10 && s.rsiPeriod == 14)
        #expect(s.emaFastSpan == 10 && s.emaSlowSpan == 30 && s.reanchorEvery == 0)
        let back = try JSONDecoder().decode(FeatureConfig.self, from: JSONEncoder().encode(featureConfigs[2]))
        #expect(back == featureConfigs[2])
        let v = try s.validated()
        #expect(v.window == 30 && v.ema_slow_span == 30)
    }

    @Test func badConfigRejected() throws {
        let cases: [(String, (inout FeatureConfig) -> Void)] = [
            ("window", { $0.window = 1 }), ("window", { $0.window = 0 }), ("window", { $0.window = -3 }),
            ("window", { $0.window = (1 << 24) + 1 }), ("volatilityWindow", { $0.volatilityWindow = 0 }),
            ("momentumLag", { $0.momentumLag = 0 }), ("rsiPeriod", { $0.rsiPeriod = 0 }),
            ("emaFastSpan", { $0.emaFastSpan = 0 }), ("emaSlowSpan", { $0.emaSlowSpan = 0 }),
            ("reanchorEvery", { $0.reanchorEvery = -1 }), ("window", { $0.window = Int(UInt32.max) + 1 }),
        ]
        for (field, mutate) in cases {
            var cfg = FeatureConfig.standard
            mutate(&cfg)
            #expect(throws: FeatureError.invalidConfig(field: field, value: Self.value(cfg, field))) {
                try cfg.validate()
            }
            #expect(throws: FeatureError.self) { try FeatureState(config: cfg) }
            #expect(throws: FeatureError.self) { try FeatureBatch(config: cfg, instruments: 4) }
            #expect(throws: FeatureError.self) { try FeatureHistory.compute(config: cfg, price: [1, 2]) }
        }
        #expect(throws: FeatureError.invalidInstrumentCount(0)) { try FeatureBatch(instruments: 0) }
        #expect(throws: FeatureError.lengthMismatch(series: "low", expected: 3, actual: 2)) {
            try FeatureHistory.compute(price: [1, 2, 3], low: [1, 2])
        }
        // The C contract directly: codes, NULL from create, NULL for a zero-instrument batch.
        var c = try FeatureConfig.standard.validated()
        #expect(kairos_feat_config_validate(&c) == 0)
        #expect(kairos_feat_config_validate(nil) == Int32(KAIROS_FEAT_E_NULL))
        c.window = 1
        #expect(kairos_feat_config_validate(&c) == Int32(KAIROS_FEAT_E_WINDOW))
        #expect(kairos_feat_create(&c) == nil)
        var d = try FeatureConfig.standard.validated()
        d.rsi_period = 0
        #expect(kairos_feat_config_validate(&d) == Int32(KAIROS_FEAT_E_RSI_PERIOD))
        var out = [Double](repeating: 0, count: Feature.count)
        var price = 1.0
        #expect(kairos_feat_history(&d, 1, &price, nil, nil, nil, nil, &out) == Int32(KAIROS_FEAT_E_RSI_PERIOD))
        var e = try FeatureConfig.standard.validated()
        #expect(kairos_feat_batch_create(&e, 0, KAIROS_SIMD_SCALAR) == nil)
        if !SystemInfo.hasAVX2 {
            #expect(throws: FeatureError.simdPathUnavailable(.avx2)) { try FeatureBatch(instruments: 4, path: .avx2) }
        }
    }

    static func value(_ c: FeatureConfig, _ field: String) -> Int {
        switch field {
        case "window": c.window
        case "volatilityWindow": c.volatilityWindow
        case "momentumLag": c.momentumLag
        case "rsiPeriod": c.rsiPeriod
        case "emaFastSpan": c.emaFastSpan
        case "emaSlowSpan": c.emaSlowSpan
        default: c.reanchorEvery
        }
    }

    /// Hand-worked values for the first updates (window 4, vol window 3, lag 2, RSI 3, spans 3/5).
    @Test func warmUpValues() throws {
        let cfg = FeatureConfig(
            window: 4, volatilityWindow: 3, momentumLag: 2, rsiPeriod: 3, emaFastSpan: 3, emaSlowSpan: 5)
        let st = try FeatureState(config: cfg)
        let p = [100.0, 110, 99, 99, 120]
        let h = p.map { $0 + 2 }, l = p.map { $0 - 1 }
        let b = [10.0, 0, 5, 0, 1], s = [0.0, 30, 5, 0, 0]
        var rows = [FeatureVector]()
        for t in 0..<p.count {
            rows.append(st.update(price: p[t], high: h[t], low: l[t], buyVolume: b[t], sellVolume: s[t]))
            #expect(st.updates == UInt64(t + 1))
        }
        func close(_ a: Double, _ e: Double, _ what: String) {
            #expect(abs(a - e) <= 1e-12 * max(1, abs(e)), "\(what): \(a) vs \(e)")
        }
        let r0 = rows[0]
        for (f, e) in [
            (Feature.logReturn, 0.0), (.emaFast, 100), (.emaSlow, 100), (.emaSpread, 0), (.rollingMean, 100),
            (.rollingVariance, 0), (.realizedVolatility, 0), (.zScore, 0), (.rsi, 50), (.momentum, 0),
            (.highLowRange, 3.0 / 100), (.volumeImbalance, 1),
        ] { #expect(r0[f] == e, "t=0 \(f)") }
        let r = (1..<5).map { Foundation.log(p[$0] / p[$0 - 1]) }  // r[k-1] = return at update k
        // t = 1
        close(rows[1][.logReturn], r[0], "r1")
        close(rows[1][.emaFast], 105, "emaF1")
        close(rows[1][.emaSlow], 100 + 10.0 / 3, "emaS1")
        close(rows[1][.rollingMean], 105, "mean1")
        close(rows[1][.rollingVariance], 50, "var1")
        close(rows[1][.zScore], 5 / 50.0.squareRoot(), "z1")
        close(rows[1][.realizedVolatility], abs(r[0]), "vol1")
        close(rows[1][.rsi], 100, "rsi1")
        close(rows[1][.momentum], Foundation.log(1.1), "mom1 (vs p0 in warm-up)")
        close(rows[1][.highLowRange], (112.0 - 99) / 110, "hl1")
        close(rows[1][.volumeImbalance], (10.0 - 30) / 40, "imb1")
        // t = 2: RSI still the simple mean of 2 moves; momentum now against p_{t-2} = p0.
        close(rows[2][.rsi], 100 * 10.0 / 21, "rsi2")
        close(rows[2][.momentum], Foundation.log(0.99), "mom2")
        close(rows[2][.realizedVolatility], ((r[0] * r[0] + r[1] * r[1]) / 2).squareRoot(), "vol2")
        // t = 3 = rsi_period: Wilder's seed, the simple mean of the first 3 moves.
        close(rows[3][.rsi], 100 * 10.0 / 21, "rsi3")
        close(rows[3][.realizedVolatility], ((r[0] * r[0] + r[1] * r[1] + 0) / 3).squareRoot(), "vol3")
        close(rows[3][.rollingMean], 102, "mean3")
        close(rows[3][.rollingVariance], (4.0 + 64 + 9 + 9) / 3, "var3")
        // t = 4: Wilder smoothing; window (4) and vol window (3) now slide.
        let g = (10.0 / 3 * 2 + 21) / 3, lo = (11.0 / 3 * 2 + 0) / 3
        close(rows[4][.rsi], 100 - 100 / (1 + g / lo), "rsi4")
        close(rows[4][.rollingMean], 107, "mean4")
        close(rows[4][.rollingVariance], (9.0 + 64 + 64 + 169) / 3, "var4")
        close(rows[4][.zScore], 13 / ((9.0 + 64 + 64 + 169) / 3).squareRoot(), "z4")
        close(rows[4][.realizedVolatility], ((r[1] * r[1] + 0 + r[3] * r[3]) / 3).squareRoot(), "vol4")
        close(rows[4][.momentum], Foundation.log(120.0 / 99), "mom4")
        close(rows[4][.highLowRange], (122.0 - 98) / 120, "hl4 (p0's extremes left the window)")
        close(rows[4][.volumeImbalance], (6.0 - 35) / 41, "imb4")
        // reset: the next update is a first update again.
        st.reset()
        #expect(st.updates == 0)
        #expect(bitwiseEqual(st.update(price: p[0], high: h[0], low: l[0], buyVolume: b[0], sellVolume: s[0]), r0))
    }

    /// Constant prices, and a jump followed by constant prices: once the window is flat the
    /// variance is exactly 0 (not rounding noise) and the z-score 0.
    @Test func flatWindows() throws {
        let st = try FeatureState()
        for t in 0..<300 {
            let p = t < 100 ? 123.456 : t < 200 ? 137.1 : 0.3
            let v = st.update(price: p)
            #expect(v[.logReturn] == 0 || t == 100 || t == 200)
            if t % 100 >= 29 {
                #expect(v[.rollingVariance] == 0, "t=\(t)")
                #expect(v[.zScore] == 0, "t=\(t)")
                #expect(v[.highLowRange] == 0)
                #expect(abs(v[.rollingMean] - p) <= 4 * p.ulp)
            } else if t % 100 >= 1 && t > 100 {
                #expect(v[.rollingVariance] > 0)
            }
            if t < 100 { #expect(v[.rsi] == 50 && v[.realizedVolatility] == 0 && v[.volumeImbalance] == 0) }
        }
    }
}
