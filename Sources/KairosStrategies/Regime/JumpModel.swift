// Statistical jump model (Nystrup, Lindström & Madsen 2020, after Bemporad et al. 2018):
// k-means-like clustering of the feature vectors with a penalty lambda on every change of
// state, fitted by coordinate descent; run causally by a forward dynamic program.
import KairosCore
import Foundation

/// How to fit a `JumpModel`.
public struct JumpModelFitOptions: Sendable, Hashable {
    /// Penalty per state change, in units of squared standardised feature distance.
    public var jumpPenalty = 50.0
    /// k-means++ initialisations; the lowest objective wins.
    public var restarts = 4
    public var maxIterations = 30
    public var seed: UInt64 = 1
    public var features = RegimeFeatureConfig.default
    public init() {}
}

/// A fitted jump model (JSON-codable), states indexed by `Regime.rawValue`.
///
/// Features: (trend / volLong, log volShort, log volLong), standardised with the training mean
/// and standard deviation. States are named with `GaussianHMMModel.namingOrder` on the
/// per-state mean and volatility of the raw return over the training assignment.
///
/// Implementation Notes: fitting alternates the exact dynamic program (O(T K^2) per pass) with
/// centre updates (O(T D)) until the assignment stops changing, at most `maxIterations` passes
/// per restart; the objective never increases between passes.
public struct JumpModel: Codable, Sendable, Hashable {
    public var format = "kairos-regime-jump"
    public var version = 1
    public var features: RegimeFeatureConfig
    public var jumpPenalty: Double
    public var featureMean: [Double]
    public var featureScale: [Double]
    /// centers[regime][feature], standardised units.
    public var centers: [[Double]]
    public var stateMeanReturn: [Double]
    public var stateVolatility: [Double]
    /// Mean run length of each state over the training assignment (bars).
    public var meanDuration: [Double]
    public var objective: Double
    public var trainingBars: Int

    static func featureVector(_ o: RegimeObservation) -> (Double, Double, Double) {
        (o.trend / o.volLong, log(o.volShort), log(o.volLong))
    }

    public static func fit(bars: [Bar], options: JumpModelFitOptions = .init()) -> JumpModel {
        let obs = RegimeFeatureState.observations(bars: bars, config: options.features)
        precondition(obs.count >= 50, "need at least 50 bars to fit")
        let n = obs.count, d = 3, k = 4
        var raw = [[Double]](repeating: [0, 0, 0], count: n)
        for i in 0..<n {
            let f = featureVector(obs[i])
            raw[i] = [f.0, f.1, f.2]
        }
        var mean = [Double](repeating: 0, count: d), sd = [Double](repeating: 0, count: d)
        for x in raw { for j in 0..<d { mean[j] += x[j] / Double(n) } }
        for x in raw { for j in 0..<d { sd[j] += (x[j] - mean[j]) * (x[j] - mean[j]) / Double(n) } }
        sd = sd.map { max($0.squareRoot(), 1e-12) }
        let x = raw.map { r in (0..<d).map { (r[$0] - mean[$0]) / sd[$0] } }
        var best: (obj: Double, centers: [[Double]], s: [Int])?
        for restart in 0..<max(1, options.restarts) {
            var rng = Xoshiro256StarStar(seed: options.seed &+ UInt64(restart) &* 0x9E37_79B9_7F4A_7C15)
            var s = GaussianHMM.kMeansPlusPlus(x, k: k, rng: &rng)
            var centers = centroids(x, s, k: k, previous: nil)
            var obj = Double.infinity
            for _ in 0..<options.maxIterations {
                let (ns, o) = viterbi(x, centers: centers, lambda: options.jumpPenalty)
                centers = centroids(x, ns, k: k, previous: centers)
                let done = ns == s || o >= obj - 1e-9 * abs(obj)
                s = ns
                obj = o
                if done { break }
            }
            if best == nil || obj < best!.obj { best = (obj, centers, s) }
        }
        let b = best!
        var mr = [Double](repeating: 0, count: k), sr = [Double](repeating: 0, count: k)
        var cnt = [Double](repeating: 0, count: k), runs = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let j = b.s[i]
            cnt[j] += 1
            mr[j] += obs[i].logReturn
            sr[j] += obs[i].logReturn * obs[i].logReturn
            if i == 0 || b.s[i - 1] != j { runs[j] += 1 }
        }
        for j in 0..<k {
            let c = max(cnt[j], 1)
            mr[j] /= c
            sr[j] = max(sr[j] / c - mr[j] * mr[j], 1e-30).squareRoot()
        }
        let order = GaussianHMMModel.namingOrder(meanReturn: mr, volatility: sr)
        return JumpModel(
            features: options.features, jumpPenalty: options.jumpPenalty, featureMean: mean, featureScale: sd,
            centers: order.map { b.centers[$0] }, stateMeanReturn: order.map { mr[$0] },
            stateVolatility: order.map { sr[$0] }, meanDuration: order.map { cnt[$0] / max(runs[$0], 1) },
            objective: b.obj, trainingBars: n)
    }

    static func centroids(_ x: [[Double]], _ s: [Int], k: Int, previous: [[Double]]?) -> [[Double]] {
        let d = x[0].count
        var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: k)
        var c = [Double](repeating: 0, count: k)
        for (i, v) in x.enumerated() {
            c[s[i]] += 1
            for j in 0..<d { sums[s[i]][j] += v[j] }
        }
        // An empty state keeps its previous centre (or sits far away, unused).
        var out = [[Double]]()
        for j in 0..<k {
            if c[j] > 0 {
                out.append(sums[j].map { $0 / c[j] })
            } else {
                out.append(previous?[j] ?? [Double](repeating: 1e3, count: d))
            }
        }
        return out
    }

    /// Exact minimiser of sum ||x_t - c_{s_t}||^2 + lambda * #changes (dynamic programming).
    static func viterbi(_ x: [[Double]], centers: [[Double]], lambda: Double) -> ([Int], Double) {
        let n = x.count, k = centers.count
        var v = [Double](repeating: 0, count: k)
        var back = [Int](repeating: 0, count: n * k)
        func loss(_ i: Int, _ j: Int) -> Double {
            var s = 0.0
            for e in 0..<x[i].count { s += (x[i][e] - centers[j][e]) * (x[i][e] - centers[j][e]) }
            return s
        }
        for j in 0..<k { v[j] = loss(0, j) }
        for i in 1..<n {
            let mn = v.indices.min { v[$0] < v[$1] }!
            var nv = v
            for j in 0..<k {
                let stay = v[j], jump = v[mn] + lambda
                if stay <= jump {
                    back[i * k + j] = j
                    nv[j] = stay + loss(i, j)
                } else {
                    back[i * k + j] = mn
                    nv[j] = jump + loss(i, j)
                }
            }
            v = nv
        }
        var s = [Int](repeating: 0, count: n)
        s[n - 1] = v.indices.min { v[$0] < v[$1] }!
        let obj = v[s[n - 1]]
        for i in stride(from: n - 1, to: 0, by: -1) { s[i - 1] = back[i * k + s[i]] }
        return (s, obj)
    }
}

/// Causal jump-model detector: the forward half of the dynamic program,
/// V_t(k) = ||x_t - c_k||^2 + min_j (V_{t-1}(j) + lambda [j != k]); the regime at t is
/// argmin_k V_t(k), the last state of the best path over bars 0..t (no look-ahead).
///
/// Its "probabilities" are pseudo-posteriors exp(-(V_t(k) - min V_t) / 2) normalised (the loss is
/// a squared standardised distance, so this is the likelihood ratio of unit-variance Gaussians
/// along the best paths). Implementation Notes: fixed-size state, O(K^2) per bar, no allocation.
public struct JumpModelDetector: RegimeDetector, Sendable {
    public let model: JumpModel
    public private(set) var features: RegimeFeatureState
    @usableFromInline var v = InlineArray<4, Double>(repeating: 0)
    @usableFromInline var c = InlineArray<12, Double>(repeating: 0)
    @usableFromInline var mean = InlineArray<3, Double>(repeating: 0)
    @usableFromInline var invScale = InlineArray<3, Double>(repeating: 1)
    @usableFromInline var first = true

    public init(model: JumpModel) {
        self.model = model
        features = RegimeFeatureState(config: model.features)
        for j in 0..<4 { for e in 0..<3 { c[j * 3 + e] = model.centers[j][e] } }
        for e in 0..<3 {
            mean[e] = model.featureMean[e]
            invScale[e] = 1 / model.featureScale[e]
        }
    }

    public mutating func reset(logPrice x0: Double) {
        features = RegimeFeatureState(config: model.features)
        features.start(logPrice: x0)
        first = true
    }

    public mutating func update(logPrice x: Double) -> RegimeEstimate {
        let o = features.update(logPrice: x)
        let f = JumpModel.featureVector(o)
        let z0 = (f.0 - mean[0]) * invScale[0], z1 = (f.1 - mean[1]) * invScale[1], z2 = (f.2 - mean[2]) * invScale[2]
        var mnPrev = v[0]
        for j in 1..<4 { mnPrev = min(mnPrev, v[j]) }
        var nv = InlineArray<4, Double>(repeating: 0)
        var mn = Double.infinity
        for j in 0..<4 {
            let a = z0 - c[j * 3], b = z1 - c[j * 3 + 1], cc = z2 - c[j * 3 + 2]
            let l = a * a + b * b + cc * cc
            nv[j] = first ? l : min(v[j], mnPrev + model.jumpPenalty) + l
            mn = min(mn, nv[j])
        }
        first = false
        // Keep V bounded: only differences matter.
        var p = RegimeProbabilities(bull: 0, bear: 0, sideways: 0, volatile: 0)
        var tot = 0.0
        for j in 0..<4 {
            v[j] = nv[j] - mn
            let w = exp(-0.5 * v[j])
            p[index: j] = w
            tot += w
        }
        for j in 0..<4 { p[index: j] /= tot }
        // The state is the argmin of V (= argmax of p, ties to the lower index).
        let k = p.argmax.rawValue
        return RegimeEstimate(
            probabilities: p, regime: Regime(rawValue: k)!, confidence: p[index: k],
            expectedRemainingDuration: model.meanDuration[k])
    }

}

extension JumpModel {
    public func save(toPath path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(self).write(to: URL(fileURLWithPath: path))
    }

    public static func load(path: String) throws -> JumpModel {
        let m = try JSONDecoder().decode(JumpModel.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        try m.validate()
        return m
    }

    public func validate() throws {
        func bad(_ s: String) -> GaussianHMMModel.InvalidModel { .init(description: "jump model: \(s)") }
        guard format == "kairos-regime-jump", version == 1 else { throw bad("unknown format \(format) v\(version)") }
        guard centers.count == 4, centers.allSatisfy({ $0.count == 3 && $0.allSatisfy(\.isFinite) }) else { throw bad("centers must be 4 x 3") }
        guard featureMean.count == 3, featureScale.count == 3, featureScale.allSatisfy({ $0 > 0 }) else { throw bad("feature standardisation must have 3 entries, scales > 0") }
        guard meanDuration.count == 4, jumpPenalty >= 0 else { throw bad("meanDuration needs 4 entries, jumpPenalty >= 0") }
    }
}

/// Loads either model file (by its `format` key) as a fresh detector.
public enum RegimeModelFile {
    struct Header: Decodable { var format: String }

    public static func loadDetector(path: String) throws -> any RegimeDetector {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let h = try JSONDecoder().decode(Header.self, from: data)
        switch h.format {
        case "kairos-regime-hmm": return GaussianHMMFilter(model: try GaussianHMMModel.load(path: path))
        case "kairos-regime-jump": return JumpModelDetector(model: try JumpModel.load(path: path))
        default: throw GaussianHMMModel.InvalidModel(description: "\(path): unknown model format \(h.format)")
        }
    }
}
