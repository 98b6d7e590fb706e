// Gaussian hidden Markov model over the regime observation features: Baum-Welch with scaling,
// k-means++ initialisation, restarts, a persistence prior, states named by a documented rule,
// JSON save/load and an allocation-free online forward filter.
import KairosCore
import Foundation

/// One coordinate of the HMM's observation vector, derived from a `RegimeObservation`.
public enum RegimeInput: String, Codable, Sendable, CaseIterable {
    /// r_t.
    case logReturn
    /// log of the short-window realized volatility.
    case logVolShort
    /// log of the long-window realized volatility.
    case logVolLong
    /// trend_t / volLong_t: the distance above the EMA level in units of long volatility.
    case trend

    @inlinable public func value(_ o: RegimeObservation) -> Double {
        switch self {
        case .logReturn: o.logReturn
        case .logVolShort: log(o.volShort)
        case .logVolLong: log(o.volLong)
        case .trend: o.trend / o.volLong
        }
    }
}

/// How to fit a `GaussianHMMModel`.
public struct GaussianHMMFitOptions: Sendable, Hashable {
    /// The observation vector (1 to 4 coordinates, no repeats).
    public var inputs: [RegimeInput] = [.logReturn]
    /// When the first input is `.logReturn`, its mean in state j is a_j + b_j * trend_{t-1}
    /// (a Markov-switching regression): mean reversion towards the recent level becomes part of
    /// the emission instead of noise.
    public var trendRegression = true
    /// k-means++ seeds on the smoothed features (log short vol, log long vol, trend) rather than
    /// on the raw inputs; the smoothed features separate the regimes far better than one return.
    public var initialiseOnSmoothedFeatures = true
    /// Independent k-means++ initialisations; the fit with the highest likelihood wins.
    public var restarts = 4
    public var maxIterations = 200
    /// Stop when the log-likelihood per bar improves by less than this.
    public var tolerance = 1e-7
    /// Dirichlet pseudo-count added to each diagonal transition count (persistence prior), in
    /// bars. 0 = plain maximum likelihood.
    public var persistencePrior = 0.0
    /// Probability of staying put in the initial transition matrix.
    public var initialStay = 0.98
    public var seed: UInt64 = 1
    public var features = RegimeFeatureConfig.default

    public init() {}

    /// The defaults documented in docs/regimes.md.
    public static let standard = GaussianHMMFitOptions()

    /// A "generic library" fit for comparison: the four features as a diagonal Gaussian, plain
    /// k-means++ on them, one start, no regression, no prior.
    public static var naive: GaussianHMMFitOptions {
        var o = GaussianHMMFitOptions()
        o.inputs = [.logReturn, .logVolShort, .logVolLong, .trend]
        o.trendRegression = false
        o.initialiseOnSmoothedFeatures = false
        o.restarts = 1
        return o
    }
}

/// A fitted 4-state Gaussian HMM, states indexed by `Regime.rawValue`. This is the JSON model
/// file (`kairos regimes fit --out`), documented in docs/regimes.md.
///
/// Invariants: `transition` is 4x4 row-stochastic; `means`, `variances` are 4 x inputs.count with
/// variances > 0; `trendSlopes` has 4 entries (all 0 without regression).
public struct GaussianHMMModel: Codable, Sendable, Hashable {
    public var format = "kairos-regime-hmm"
    public var version = 1
    public var features: RegimeFeatureConfig
    public var inputs: [RegimeInput]
    public var trendRegression: Bool
    /// Prior of the online filter's first step: the stationary distribution of `transition`.
    public var initial: [Double]
    /// P[i][j] = P(regime_t = j | regime_{t-1} = i).
    public var transition: [[Double]]
    public var means: [[Double]]
    public var variances: [[Double]]
    public var trendSlopes: [Double]
    /// Posterior-weighted mean and standard deviation of the raw log return per state on the
    /// training data: what the naming rule looked at.
    public var stateMeanReturn: [Double]
    public var stateVolatility: [Double]
    /// Total log-likelihood of the training data under the model, and per restart.
    public var logLikelihood: Double
    public var restartLogLikelihoods: [Double]
    public var iterations: Int
    public var trainingBars: Int

    public func expectedDuration(_ r: Regime) -> Double { 1 / max(1 - transition[r.rawValue][r.rawValue], 1e-12) }

    public func save(toPath path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(self).write(to: URL(fileURLWithPath: path))
    }

    public static func load(path: String) throws -> GaussianHMMModel {
        let m = try JSONDecoder().decode(GaussianHMMModel.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        try m.validate()
        return m
    }

    public struct InvalidModel: Error, CustomStringConvertible { public var description: String }

    public func validate() throws {
        let d = inputs.count
        func bad(_ s: String) -> InvalidModel { InvalidModel(description: "regime model: \(s)") }
        guard format == "kairos-regime-hmm", version == 1 else { throw bad("unknown format \(format) v\(version)") }
        guard (1...4).contains(d), Set(inputs).count == d else { throw bad("1 to 4 distinct inputs") }
        guard transition.count == 4, transition.allSatisfy({ $0.count == 4 && abs($0.reduce(0, +) - 1) < 1e-6 && $0.allSatisfy { $0 >= 0 } })
        else { throw bad("transition must be 4x4 row-stochastic") }
        guard means.count == 4, variances.count == 4, means.allSatisfy({ $0.count == d }),
            variances.allSatisfy({ $0.count == d && $0.allSatisfy { $0 > 0 && $0.isFinite } })
        else { throw bad("means/variances must be 4 x \(d), variances > 0") }
        guard initial.count == 4, trendSlopes.count == 4 else { throw bad("initial and trendSlopes need 4 entries") }
    }

    /// The naming rule, applied to per-state (mean return, volatility):
    /// 1. volatile = the state with the highest return volatility;
    /// 2. bear = of the other three, the lowest mean return;
    /// 3. bull = of the remaining two, the higher mean / volatility (Sharpe-like);
    /// 4. sideways = the last one.
    /// Returns order[regime.rawValue] = state index.
    public static func namingOrder(meanReturn m: [Double], volatility s: [Double]) -> [Int] {
        var left = Array(0..<4)
        let volatile = left.max { s[$0] < s[$1] }!
        left.removeAll { $0 == volatile }
        let bear = left.min { m[$0] < m[$1] }!
        left.removeAll { $0 == bear }
        let bull = left.max { m[$0] / s[$0] < m[$1] / s[$1] }!
        left.removeAll { $0 == bull }
        return [bull, bear, left[0], volatile]
    }
}

/// Baum-Welch fitting.
///
/// Implementation Notes: scaled forward-backward (alpha normalised per bar, the scale factors
/// c_t give the log-likelihood), emissions evaluated in log space and shifted by their per-bar
/// maximum before exponentiation, so no underflow on long series. One EM iteration is
/// O(T K^2 + T K D) time; memory O(T K). Variances are floored at 1e-6 of the input's overall
/// variance so a state cannot collapse onto a point.
public enum GaussianHMM {
    static let k = 4

    struct Params {
        var pi = [Double](repeating: 0.25, count: 4)
        var a = [Double](repeating: 0, count: 16)
        var mu: [Double]
        var v: [Double]
        var slope = [Double](repeating: 0, count: 4)
    }

    struct FitData {
        let t: Int
        let d: Int
        var y: [Double]  // t * d
        var z: [Double]  // regressor (trend_{t-1})
        var r: [Double]  // raw returns, for naming
        var floor: [Double]
        let regress: Bool
    }

    /// Fits a model to bars (observations computed with `options.features`).
    public static func fit(bars: [Bar], options: GaussianHMMFitOptions = .standard) -> GaussianHMMModel {
        fit(observations: RegimeFeatureState.observations(bars: bars, config: options.features), options: options)
    }

    public static func fit(observations obs: [RegimeObservation], options: GaussianHMMFitOptions) -> GaussianHMMModel {
        precondition(obs.count >= 50, "need at least 50 bars to fit")
        precondition((1...4).contains(options.inputs.count) && Set(options.inputs).count == options.inputs.count)
        let t = obs.count, d = options.inputs.count
        let regress = options.trendRegression && options.inputs[0] == .logReturn
        var y = [Double](repeating: 0, count: t * d)
        for i in 0..<t { for j in 0..<d { y[i * d + j] = options.inputs[j].value(obs[i]) } }
        var floor = [Double](repeating: 0, count: d)
        for j in 0..<d {
            var s = 0.0, s2 = 0.0
            for i in 0..<t { s += y[i * d + j]; s2 += y[i * d + j] * y[i * d + j] }
            let m = s / Double(t)
            floor[j] = max((s2 / Double(t) - m * m) * 1e-6, 1e-300)
        }
        let data = FitData(t: t, d: d, y: y, z: obs.map(\.previousTrend), r: obs.map(\.logReturn), floor: floor, regress: regress)

        // Points for k-means++.
        let kmPoints: [[Double]]
        if options.initialiseOnSmoothedFeatures {
            kmPoints = obs.map { [log($0.volShort), log($0.volLong), $0.trend / $0.volLong] }
        } else {
            kmPoints = (0..<t).map { Array(y[($0 * d)..<($0 * d + d)]) }
        }
        var best: (ll: Double, p: Params, iters: Int)?
        var restartLLs = [Double]()
        var gamma = [Double](repeating: 0, count: t * k)
        for restart in 0..<max(1, options.restarts) {
            var rng = Xoshiro256StarStar(seed: options.seed &+ UInt64(restart) &* 0x9E37_79B9_7F4A_7C15)
            let assign = kMeansPlusPlus(kmPoints, k: k, rng: &rng)
            for i in 0..<t { for j in 0..<k { gamma[i * k + j] = assign[i] == j ? 1 : 0 } }
            var p = Params(mu: [Double](repeating: 0, count: k * d), v: [Double](repeating: 1, count: k * d))
            for i in 0..<k { for j in 0..<k { p.a[i * k + j] = i == j ? options.initialStay : (1 - options.initialStay) / Double(k - 1) } }
            mStepEmissions(data, gamma: gamma, p: &p)
            var prev = -Double.infinity
            var iters = 0
            var xi = [Double](repeating: 0, count: k * k)
            var ll = -Double.infinity
            while iters < options.maxIterations {
                ll = eStep(data, p: p, gamma: &gamma, xiSum: &xi)
                iters += 1
                if !ll.isFinite { break }
                mStep(data, gamma: gamma, xiSum: xi, prior: options.persistencePrior, p: &p)
                if (ll - prev) / Double(t) < options.tolerance { break }
                prev = ll
            }
            // Likelihood of the final parameters.
            ll = eStep(data, p: p, gamma: &gamma, xiSum: &xi)
            restartLLs.append(ll)
            if ll.isFinite, best == nil || ll > best!.ll { best = (ll, p, iters) }
        }
        guard let b = best else { fatalError("every restart diverged") }
        var xi = [Double](repeating: 0, count: k * k)
        _ = eStep(data, p: b.p, gamma: &gamma, xiSum: &xi)
        // Naming statistics: posterior-weighted mean and std of the raw return.
        var mr = [Double](repeating: 0, count: k), sr = [Double](repeating: 0, count: k)
        for j in 0..<k {
            var w = 0.0, s = 0.0, s2 = 0.0
            for i in 0..<t {
                let g = gamma[i * k + j]
                w += g; s += g * data.r[i]; s2 += g * data.r[i] * data.r[i]
            }
            let m = s / max(w, 1e-300)
            mr[j] = m
            sr[j] = max(s2 / max(w, 1e-300) - m * m, 0).squareRoot()
        }
        let order = GaussianHMMModel.namingOrder(meanReturn: mr, volatility: sr)
        let p = b.p
        let transition = (0..<k).map { i in (0..<k).map { j in p.a[order[i] * k + order[j]] } }
        return GaussianHMMModel(
            features: options.features, inputs: options.inputs, trendRegression: regress,
            initial: stationary(transition), transition: transition,
            means: (0..<k).map { i in (0..<d).map { p.mu[order[i] * d + $0] } },
            variances: (0..<k).map { i in (0..<d).map { p.v[order[i] * d + $0] } },
            trendSlopes: (0..<k).map { p.slope[order[$0]] },
            stateMeanReturn: order.map { mr[$0] }, stateVolatility: order.map { sr[$0] },
            logLikelihood: b.ll, restartLogLikelihoods: restartLLs, iterations: b.iters, trainingBars: t)
    }

    /// Stationary distribution by power iteration (the fitted chains mix within a few thousand
    /// steps; 20,000 squarings-free iterations are cheap at K = 4).
    static func stationary(_ a: [[Double]]) -> [Double] {
        var p = [Double](repeating: 0.25, count: 4)
        for _ in 0..<20_000 {
            var q = [Double](repeating: 0, count: 4)
            for i in 0..<4 { for j in 0..<4 { q[j] += p[i] * a[i][j] } }
            let s = q.reduce(0, +)
            p = q.map { $0 / s }
        }
        return p
    }

    /// Plain k-means++ (Arthur & Vassilvitskii 2007) on standardised columns, then 25 Lloyd
    /// iterations. Returns the cluster of each point.
    static func kMeansPlusPlus(_ raw: [[Double]], k: Int, rng: inout Xoshiro256StarStar) -> [Int] {
        let n = raw.count, d = raw[0].count
        var mean = [Double](repeating: 0, count: d), sd = [Double](repeating: 0, count: d)
        for x in raw { for j in 0..<d { mean[j] += x[j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        for x in raw { for j in 0..<d { sd[j] += (x[j] - mean[j]) * (x[j] - mean[j]) } }
        for j in 0..<d { sd[j] = max((sd[j] / Double(n)).squareRoot(), 1e-300) }
        let pts = raw.map { x in (0..<d).map { (x[$0] - mean[$0]) / sd[$0] } }
        func dist(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for j in 0..<d { s += (a[j] - b[j]) * (a[j] - b[j]) }
            return s
        }
        var centers = [pts[Int(rng.next() % UInt64(n))]]
        var d2 = pts.map { dist($0, centers[0]) }
        while centers.count < k {
            let total = d2.reduce(0, +)
            var u = rng.nextDouble() * total
            var pick = n - 1
            for i in 0..<n {
                u -= d2[i]
                if u < 0 { pick = i; break }
            }
            centers.append(pts[pick])
            for i in 0..<n { d2[i] = min(d2[i], dist(pts[i], pts[pick])) }
        }
        var assign = [Int](repeating: 0, count: n)
        for _ in 0..<25 {
            var changed = false
            for i in 0..<n {
                var bi = 0, bd = Double.infinity
                for c in 0..<k {
                    let dd = dist(pts[i], centers[c])
                    if dd < bd { bd = dd; bi = c }
                }
                if assign[i] != bi { assign[i] = bi; changed = true }
            }
            var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: k)
            var counts = [Int](repeating: 0, count: k)
            for i in 0..<n {
                counts[assign[i]] += 1
                for j in 0..<d { sums[assign[i]][j] += pts[i][j] }
            }
            for c in 0..<k where counts[c] > 0 { centers[c] = sums[c].map { $0 / Double(counts[c]) } }
            if !changed { break }
        }
        // An empty cluster would give a state without data: hand it the farthest point.
        var counts = [Int](repeating: 0, count: k)
        for a in assign { counts[a] += 1 }
        for c in 0..<k where counts[c] == 0 {
            let far = (0..<n).max { dist(pts[$0], centers[assign[$0]]) < dist(pts[$1], centers[assign[$1]]) }!
            assign[far] = c
        }
        return assign
    }

    /// Scaled forward-backward. Fills gamma (t x k posteriors) and the summed xi (k x k expected
    /// transition counts); returns the log-likelihood.
    static func eStep(_ data: FitData, p: Params, gamma: inout [Double], xiSum: inout [Double]) -> Double {
        let t = data.t, d = data.d
        var b = [Double](repeating: 0, count: t * k)
        var alpha = [Double](repeating: 0, count: t * k)
        var c = [Double](repeating: 0, count: t)
        var logNorm = [Double](repeating: 0, count: k)
        var inv = [Double](repeating: 0, count: k * d)
        for j in 0..<k {
            var s = 0.0
            for e in 0..<d {
                s -= 0.5 * log(2 * Double.pi * p.v[j * d + e])
                inv[j * d + e] = 1 / p.v[j * d + e]
            }
            logNorm[j] = s
        }
        var offset = 0.0
        b.withUnsafeMutableBufferPointer { b in
            alpha.withUnsafeMutableBufferPointer { al in
                data.y.withUnsafeBufferPointer { y in
                    for i in 0..<t {
                        // Log emission densities first, then shift by their max before exp.
                        var mx = -Double.infinity
                        for j in 0..<k {
                            var s = logNorm[j]
                            for e in 0..<d {
                                var m = p.mu[j * d + e]
                                if e == 0 && data.regress { m += p.slope[j] * data.z[i] }
                                let r = y[i * d + e] - m
                                s -= 0.5 * r * r * inv[j * d + e]
                            }
                            b[i * k + j] = s
                            mx = max(mx, s)
                        }
                        for j in 0..<k { b[i * k + j] = exp(b[i * k + j] - mx) }
                        offset += mx
                        var tot = 0.0
                        for j in 0..<k {
                            var pred = 0.0
                            if i == 0 {
                                pred = p.pi[j]
                            } else {
                                for q in 0..<k { pred += al[(i - 1) * k + q] * p.a[q * k + j] }
                            }
                            let v = pred * b[i * k + j]
                            al[i * k + j] = v
                            tot += v
                        }
                        c[i] = tot
                        let invTot = 1 / tot
                        for j in 0..<k { al[i * k + j] *= invTot }
                    }
                }
            }
        }
        var ll = offset
        for i in 0..<t { ll += log(c[i]) }
        guard ll.isFinite else { return ll }
        for q in 0..<(k * k) { xiSum[q] = 0 }
        var beta = (1.0, 1.0, 1.0, 1.0)
        func get(_ tup: (Double, Double, Double, Double), _ j: Int) -> Double {
            switch j { case 0: tup.0
            case 1: tup.1
            case 2: tup.2
            default: tup.3 }
        }
        for i in stride(from: t - 1, through: 0, by: -1) {
            var gs = 0.0
            for j in 0..<k {
                let g = alpha[i * k + j] * get(beta, j)
                gamma[i * k + j] = g
                gs += g
            }
            for j in 0..<k { gamma[i * k + j] /= gs }
            if i == 0 { break }
            // w_j = b_{i,j} beta_i(j) / c_i ; xi_{i-1}(q, j) = alpha_{i-1}(q) A_qj w_j
            let invC = 1 / c[i]
            let w = (b[i * k] * beta.0 * invC, b[i * k + 1] * beta.1 * invC, b[i * k + 2] * beta.2 * invC, b[i * k + 3] * beta.3 * invC)
            var nb = (0.0, 0.0, 0.0, 0.0)
            for q in 0..<k {
                let aq = alpha[(i - 1) * k + q]
                var s = 0.0
                for j in 0..<k {
                    let term = p.a[q * k + j] * get(w, j)
                    s += term
                    xiSum[q * k + j] += aq * term
                }
                switch q { case 0: nb.0 = s
                case 1: nb.1 = s
                case 2: nb.2 = s
                default: nb.3 = s }
            }
            beta = nb
        }
        return ll
    }

    static func mStep(_ data: FitData, gamma: [Double], xiSum: [Double], prior: Double, p: inout Params) {
        for j in 0..<k { p.pi[j] = max(gamma[j], 1e-6) }
        let ps = p.pi.reduce(0, +)
        for j in 0..<k { p.pi[j] /= ps }
        for q in 0..<k {
            var s = 0.0
            for j in 0..<k { s += xiSum[q * k + j] + (q == j ? prior : 0) }
            for j in 0..<k { p.a[q * k + j] = s > 0 ? (xiSum[q * k + j] + (q == j ? prior : 0)) / s : (q == j ? 1 : 0) }
        }
        mStepEmissions(data, gamma: gamma, p: &p)
    }

    /// Weighted means and variances per state; for the regressed return, weighted least squares
    /// of r on (1, trend_{t-1}).
    static func mStepEmissions(_ data: FitData, gamma: [Double], p: inout Params) {
        let t = data.t, d = data.d
        for j in 0..<k {
            for e in 0..<d {
                var s0 = 0.0, s1 = 0.0, s2 = 0.0, t0 = 0.0, t1 = 0.0
                let useZ = e == 0 && data.regress
                for i in 0..<t {
                    let g = gamma[i * k + j]
                    let yv = data.y[i * d + e]
                    s0 += g; t0 += g * yv
                    if useZ {
                        let z = data.z[i]
                        s1 += g * z; s2 += g * z * z; t1 += g * z * yv
                    }
                }
                guard s0 > 1e-9 else { continue }  // empty state: keep its previous parameters
                var a = t0 / s0, bz = 0.0
                if useZ {
                    let det = s0 * s2 - s1 * s1
                    if det > 1e-12 * s0 * s2 {
                        bz = (s0 * t1 - s1 * t0) / det
                        a = (t0 - bz * s1) / s0
                    }
                    p.slope[j] = bz
                }
                var vs = 0.0
                for i in 0..<t {
                    let m = a + (useZ ? bz * data.z[i] : 0)
                    let r = data.y[i * d + e] - m
                    vs += gamma[i * k + j] * r * r
                }
                p.mu[j * d + e] = a
                p.v[j * d + e] = max(vs / s0, data.floor[e])
            }
        }
    }
}

/// The online forward filter of a fitted model: one O(K^2 + K D) step per bar.
///
/// Implementation Notes: every parameter is copied into fixed-size `InlineArray`s at init, so an
/// update touches no heap memory and allocates nothing. The emission log-densities are shifted
/// by their maximum before `exp`, so a wildly unlikely bar cannot underflow every state.
/// Invariant: `alpha` sums to 1 after every update.
public struct GaussianHMMFilter: RegimeDetector, Sendable {
    public let model: GaussianHMMModel
    public private(set) var features: RegimeFeatureState
    @usableFromInline var alpha = InlineArray<4, Double>(repeating: 0.25)
    @usableFromInline var prior = InlineArray<4, Double>(repeating: 0.25)
    @usableFromInline var trans = InlineArray<16, Double>(repeating: 0)
    @usableFromInline var mean = InlineArray<16, Double>(repeating: 0)
    @usableFromInline var invVar = InlineArray<16, Double>(repeating: 1)
    @usableFromInline var logNorm = InlineArray<4, Double>(repeating: 0)
    @usableFromInline var slope = InlineArray<4, Double>(repeating: 0)
    @usableFromInline var input = InlineArray<4, RegimeInput>(repeating: .logReturn)
    @usableFromInline let dims: Int
    @usableFromInline var first = true
    /// log P(observations so far) under the model.
    public private(set) var logLikelihood = 0.0

    public init(model: GaussianHMMModel) {
        self.model = model
        features = RegimeFeatureState(config: model.features)
        dims = model.inputs.count
        for j in 0..<4 {
            prior[j] = model.initial[j]
            slope[j] = model.trendSlopes[j]
            var s = 0.0
            for e in 0..<dims {
                mean[j * 4 + e] = model.means[j][e]
                invVar[j * 4 + e] = 1 / model.variances[j][e]
                s -= 0.5 * log(2 * Double.pi * model.variances[j][e])
            }
            logNorm[j] = s
            for q in 0..<4 { trans[j * 4 + q] = model.transition[j][q] }
        }
        for e in 0..<dims { input[e] = model.inputs[e] }
        alpha = prior
    }

    public mutating func reset(logPrice x0: Double) {
        features = RegimeFeatureState(config: model.features)
        features.start(logPrice: x0)
        alpha = prior
        first = true
        logLikelihood = 0
    }

    /// The filtered posterior after the last update.
    public var probabilities: RegimeProbabilities {
        RegimeProbabilities(bull: alpha[0], bear: alpha[1], sideways: alpha[2], volatile: alpha[3])
    }

    public mutating func update(logPrice x: Double) -> RegimeEstimate {
        let o = features.update(logPrice: x)
        return update(observation: o)
    }

    /// One forward step on an already computed observation.
    public mutating func update(observation o: RegimeObservation) -> RegimeEstimate {
        var lb = InlineArray<4, Double>(repeating: 0)
        var mx = -Double.infinity
        for j in 0..<4 {
            var s = logNorm[j]
            for e in 0..<dims {
                var m = mean[j * 4 + e]
                if e == 0 { m += slope[j] * o.previousTrend }
                let r = input[e].value(o) - m
                s -= 0.5 * r * r * invVar[j * 4 + e]
            }
            lb[j] = s
            mx = max(mx, s)
        }
        var post = InlineArray<4, Double>(repeating: 0)
        var tot = 0.0
        for j in 0..<4 {
            var pred = 0.0
            if first {
                pred = alpha[j]
            } else {
                for q in 0..<4 { pred += alpha[q] * trans[q * 4 + j] }
            }
            let v = pred * exp(lb[j] - mx)
            post[j] = v
            tot += v
        }
        first = false
        logLikelihood += log(tot) + mx
        let inv = 1 / tot
        for j in 0..<4 { alpha[j] = post[j] * inv }
        let p = probabilities
        let k = p.argmax.rawValue
        return RegimeEstimate(
            probabilities: p, regime: Regime(rawValue: k)!, confidence: alpha[k],
            expectedRemainingDuration: alpha[k] / max(1 - trans[k * 4 + k], 1e-12))
    }
}
