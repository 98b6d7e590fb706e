// Randomised rules: Thompson sampling (Beta-Bernoulli, Normal-Gamma, discounted), EXP3 (and its
// restarted form Rexp3), EXP3-IX, Hedge and epsilon-greedy. All draw from a seeded `MetaRNG`, so
// a seed reproduces a run and a decoded state continues it exactly.
import KairosCore
import Foundation

/// Thompson sampling with Beta(1, 1) priors (Thompson 1933; Agrawal & Goyal 2012, "Analysis of
/// Thompson sampling for the multi-armed bandit problem", COLT; regret O(Σ ln T / Δ_i), matching
/// Lai-Robbins for Bernoulli arms). Rewards in [0, 1] use the Bernoulli trick of Agrawal & Goyal:
/// a success with probability r.
public struct BetaThompson: SelectionPolicy {
    public static let name = "thompson"
    public static let reference = "Agrawal & Goyal (2012), COLT, JMLR W&CP 23:39.1-39.26"
    public static let feedback = FeedbackKind.bandit
    public var alpha: [Double]
    public var beta: [Double]
    public var lastSample: [Double]
    public var lastChoice = 0
    public var rng: MetaRNG
    public var armCount: Int { alpha.count }

    public init(armCount k: Int, seed: UInt64) {
        alpha = Array(repeating: 1, count: k)
        beta = alpha
        lastSample = Array(repeating: 0, count: k)
        rng = MetaRNG(seed: seed)
    }
    public mutating func select() -> Int {
        for i in 0..<alpha.count { lastSample[i] = rng.beta(alpha[i], beta[i]) }
        lastChoice = kairosArgmax(lastSample)
        return lastChoice
    }
    public mutating func update(arm: Int, reward: Double, weight: Double = 1) {
        if rng.uniform() < reward { alpha[arm] += weight } else { beta[arm] += weight }
    }
    public func score(_ i: Int) -> ArmScore {
        let m = alpha[i] / (alpha[i] + beta[i])
        return ArmScore(mean: m, bonus: lastSample[i] - m, index: lastSample[i],
                        probability: i == lastChoice ? 1 : 0, pulls: alpha[i] + beta[i] - 2)
    }
}

/// Discounted Thompson sampling (Raj & Kalyani 2017, "Taming non-stationary bandits: a Bayesian
/// approach", arXiv:1707.09727): every step all arms' success/failure counts decay by γ before the
/// chosen arm's (Bernoulli-trick) outcome is added; samples from Beta(S + α0, F + β0). Default
/// γ = 0.995 (effective memory ≈ 200 steps; best of 0.98-0.998 on seeds 101-106), α0 = β0 = 1.
public struct DiscountedThompson: SelectionPolicy {
    public static let name = "dthompson"
    public static let reference = "Raj & Kalyani (2017), arXiv:1707.09727"
    public static let feedback = FeedbackKind.bandit
    public var gamma: Double
    /// dOTS (same paper): the sample is never below the posterior mean, which cuts the
    /// exploration of arms whose decayed counts make the posterior wide.
    public var optimistic: Bool
    public var successes: [Double]
    public var failures: [Double]
    public var lastSample: [Double]
    public var lastChoice = 0
    public var rng: MetaRNG
    public var armCount: Int { successes.count }

    public init(armCount k: Int, seed: UInt64, gamma: Double = 0.995, optimistic: Bool = false) {
        precondition(gamma > 0 && gamma <= 1)
        self.gamma = gamma
        self.optimistic = optimistic
        successes = Array(repeating: 0, count: k)
        failures = successes
        lastSample = successes
        rng = MetaRNG(seed: seed)
    }
    public mutating func select() -> Int {
        for i in 0..<successes.count {
            let a = successes[i] + 1, b = failures[i] + 1
            let x = rng.beta(a, b)
            lastSample[i] = optimistic ? max(x, a / (a + b)) : x
        }
        lastChoice = kairosArgmax(lastSample)
        return lastChoice
    }
    public mutating func update(arm: Int, reward: Double, weight: Double = 1) {
        let g = weight == 1 ? gamma : pow(gamma, weight)
        for i in 0..<successes.count {
            successes[i] *= g
            failures[i] *= g
        }
        if rng.uniform() < reward { successes[arm] += weight } else { failures[arm] += weight }
    }
    public func score(_ i: Int) -> ArmScore {
        let m = (successes[i] + 1) / (successes[i] + failures[i] + 2)
        return ArmScore(mean: m, bonus: lastSample[i] - m, index: lastSample[i],
                        probability: i == lastChoice ? 1 : 0, pulls: successes[i] + failures[i])
    }
}

/// Gaussian Thompson sampling with unknown mean and variance: a Normal-Gamma prior per arm
/// (conjugate update as in Murphy 2007, "Conjugate Bayesian analysis of the Gaussian
/// distribution"; analysed by Honda & Takemura 2014, "Optimality of Thompson sampling for
/// Gaussian bandits depends on priors", AISTATS). Sample precision τ ~ Gamma(α_n, β_n), then
/// μ ~ N(μ_n, 1/(κ_n τ)). Priors μ0 = 0.5, κ0 = 1, α0 = 1, β0 = 0.1 (a reward scale of [0, 1]).
/// Unlike Beta-Bernoulli it learns each arm's variance, so low-noise arms are settled sooner.
public struct GaussianThompson: SelectionPolicy {
    public static let name = "gthompson"
    public static let reference = "Honda & Takemura (2014), AISTATS; Murphy (2007) Normal-Gamma update"
    public static let feedback = FeedbackKind.bandit
    public var mu0 = 0.5, kappa0 = 1.0, alpha0 = 1.0, beta0 = 0.1
    public var n: [Double]
    public var sum: [Double]
    public var sumSq: [Double]
    public var lastSample: [Double]
    public var lastChoice = 0
    public var rng: MetaRNG
    public var armCount: Int { n.count }

    public init(armCount k: Int, seed: UInt64) {
        n = Array(repeating: 0, count: k)
        sum = n
        sumSq = n
        lastSample = n
        rng = MetaRNG(seed: seed)
    }
    @inlinable func posterior(_ i: Int) -> (mu: Double, kappa: Double, alpha: Double, beta: Double) {
        let ni = n[i]
        let kn = kappa0 + ni
        let mn = (kappa0 * mu0 + sum[i]) / kn
        let an = alpha0 + ni / 2
        var bn = beta0
        if ni > 0 {
            let mean = sum[i] / ni
            bn += 0.5 * max(sumSq[i] - ni * mean * mean, 0) + kappa0 * ni * (mean - mu0) * (mean - mu0) / (2 * kn)
        }
        return (mn, kn, an, bn)
    }
    public mutating func select() -> Int {
        for i in 0..<n.count {
            let p = posterior(i)
            let tau = rng.gamma(shape: p.alpha) / p.beta
            lastSample[i] = p.mu + rng.gaussian() / (p.kappa * tau).squareRoot()
        }
        lastChoice = kairosArgmax(lastSample)
        return lastChoice
    }
    public mutating func update(arm: Int, reward: Double, weight: Double = 1) {
        n[arm] += weight
        sum[arm] += weight * reward
        sumSq[arm] += weight * reward * reward
    }
    public func score(_ i: Int) -> ArmScore {
        let m = posterior(i).mu
        return ArmScore(mean: m, bonus: lastSample[i] - m, index: lastSample[i],
                        probability: i == lastChoice ? 1 : 0, pulls: n[i])
    }
}

/// Samples an index from unnormalised log-weights: p_i = (1-γ)·softmax(logW)_i + γ/K, written
/// to `probs`. Returns the draw. O(K), no allocation.
@inlinable
func kairosSampleMixed(logW: [Double], probs: inout [Double], mix gamma: Double, rng: inout MetaRNG) -> Int {
    let k = logW.count
    var mx = -Double.infinity
    for i in 0..<k where logW[i] > mx { mx = logW[i] }
    var total = 0.0
    for i in 0..<k {
        let e = exp(logW[i] - mx)
        probs[i] = e
        total += e
    }
    let u = gamma / Double(k)
    for i in 0..<k { probs[i] = (1 - gamma) * probs[i] / total + u }
    let x = rng.uniform()
    var acc = 0.0
    for i in 0..<k {
        acc += probs[i]
        if x < acc { return i }
    }
    return k - 1
}

/// EXP3 (Auer, Cesa-Bianchi, Freund & Schapire 2002, "The nonstochastic multiarmed bandit
/// problem", SIAM J. Comput. 32(1)): p_i = (1-γ) w_i/Σw + γ/K, importance-weighted reward
/// x/p_i for the chosen arm, w_i ← w_i · exp(γ x̂ / K). γ = min(1, sqrt(K ln K / ((e-1) T)))
/// gives regret O(sqrt(T K ln K)) against any fixed arm, for adversarial rewards.
///
/// `restartPeriod` > 0 turns it into Rexp3 (Besbes, Gur & Zeevi 2014, "Stochastic multi-armed
/// bandit problem with non-stationary rewards", NeurIPS): the weights are reset every Δ steps and
/// γ is tuned for Δ, which bounds regret against a drifting best arm.
///
/// Implementation Notes: weights are kept as logs (shifted by the max when sampling), so they
/// never overflow; O(K) per step.
public struct EXP3: SelectionPolicy {
    public static let name = "exp3"
    public static let reference = "Auer, Cesa-Bianchi, Freund & Schapire (2002), SIAM J. Comput. 32(1):48-77; Rexp3: Besbes, Gur & Zeevi (2014)"
    public static let feedback = FeedbackKind.bandit
    public var gamma: Double
    public var restartPeriod: Int
    public var logW: [Double]
    public var probs: [Double]
    public var lastChoice = 0
    public var steps = 0
    public var rng: MetaRNG
    public var armCount: Int { logW.count }

    public init(armCount k: Int, seed: UInt64, horizon: Int = 10_000, restartPeriod: Int = 0) {
        let t = Double(restartPeriod > 0 ? restartPeriod : max(horizon, 1))
        let kk = Double(k)
        gamma = min(1, (kk * log(max(kk, 2)) / ((M_E - 1) * t)).squareRoot())
        self.restartPeriod = restartPeriod
        logW = Array(repeating: 0, count: k)
        probs = Array(repeating: 1 / kk, count: k)
        rng = MetaRNG(seed: seed)
    }
    public mutating func select() -> Int {
        if restartPeriod > 0 && steps > 0 && steps % restartPeriod == 0 {
            for i in 0..<logW.count { logW[i] = 0 }
        }
        lastChoice = kairosSampleMixed(logW: logW, probs: &probs, mix: gamma, rng: &rng)
        return lastChoice
    }
    public mutating func update(arm: Int, reward: Double, weight: Double = 1) {
        logW[arm] += weight * gamma * (reward / probs[arm]) / Double(logW.count)
        steps += 1
    }
    public func score(_ i: Int) -> ArmScore {
        ArmScore(mean: 0, bonus: 0, index: logW[i], probability: probs[i], pulls: 0)
    }
}

/// EXP3-IX (Kocák, Neu, Valko & Munos 2014, NeurIPS; Neu 2015, "Explore no more: improved
/// high-probability regret bounds for non-stochastic bandits", NeurIPS): no explicit uniform
/// mixing; losses ℓ = 1 - r are estimated with implicit exploration ℓ/(p_i + γ), weights
/// exp(-η L̂_i). η = sqrt(2 ln K / (K T)), γ = η/2 give O(sqrt(K T ln K)) regret with high
/// probability (plain EXP3's bound holds only in expectation).
public struct EXP3IX: SelectionPolicy {
    public static let name = "exp3ix"
    public static let reference = "Neu (2015), NeurIPS 28; Kocák, Neu, Valko & Munos (2014), NeurIPS 27"
    public static let feedback = FeedbackKind.bandit
    public var eta: Double
    public var gammaIX: Double
    public var lossEstimate: [Double]
    public var logW: [Double]
    public var probs: [Double]
    public var lastChoice = 0
    public var rng: MetaRNG
    public var armCount: Int { logW.count }

    public init(armCount k: Int, seed: UInt64, horizon: Int = 10_000) {
        let kk = Double(k)
        eta = (2 * log(max(kk, 2)) / (kk * Double(max(horizon, 1)))).squareRoot()
        gammaIX = eta / 2
        lossEstimate = Array(repeating: 0, count: k)
        logW = lossEstimate
        probs = Array(repeating: 1 / kk, count: k)
        rng = MetaRNG(seed: seed)
    }
    public mutating func select() -> Int {
        for i in 0..<logW.count { logW[i] = -eta * lossEstimate[i] }
        lastChoice = kairosSampleMixed(logW: logW, probs: &probs, mix: 0, rng: &rng)
        return lastChoice
    }
    public mutating func update(arm: Int, reward: Double, weight: Double = 1) {
        lossEstimate[arm] += weight * (1 - reward) / (probs[arm] + gammaIX)
    }
    public func score(_ i: Int) -> ArmScore {
        ArmScore(mean: 0, bonus: 0, index: logW[i], probability: probs[i], pulls: 0)
    }
}

/// Hedge / exponentially weighted forecaster (Freund & Schapire 1997, "A decision-theoretic
/// generalization of on-line learning and an application to boosting", JCSS 55; Cesa-Bianchi &
/// Lugosi 2006, ch. 2): full information; w_i ∝ exp(η Σ_s γ^(t-s) r_s,i). With γ = 1 and
/// η = sqrt(8 ln K / T) the regret against the best arm is at most sqrt(T ln K / 2), independent
/// of any gap, far below any bandit's. `discount` γ < 1 forgets old rewards for drifting edges.
/// `select()` samples from the weights; the meta-agent in blend mode uses them directly.
public struct Hedge: SelectionPolicy {
    public static let name = "hedge"
    public static let reference = "Freund & Schapire (1997), JCSS 55(1):119-139; Cesa-Bianchi & Lugosi (2006), Thm 2.2"
    public static let feedback = FeedbackKind.full
    public var eta: Double
    public var discount: Double
    public var cumulative: [Double]
    public var logW: [Double]
    public var probs: [Double]
    public var lastChoice = 0
    public var rng: MetaRNG
    public var armCount: Int { cumulative.count }

    public init(armCount k: Int, seed: UInt64, horizon: Int = 10_000, eta: Double? = nil, discount: Double = 1) {
        self.eta = eta ?? (8 * log(max(Double(k), 2)) / Double(max(horizon, 1))).squareRoot()
        self.discount = discount
        cumulative = Array(repeating: 0, count: k)
        logW = cumulative
        probs = Array(repeating: 1 / Double(k), count: k)
        rng = MetaRNG(seed: seed)
    }
    /// Recomputes the weights from the cumulative rewards (the closed form).
    mutating func refresh() {
        for i in 0..<cumulative.count { logW[i] = eta * cumulative[i] }
        var mx = -Double.infinity
        for i in 0..<logW.count where logW[i] > mx { mx = logW[i] }
        var total = 0.0
        for i in 0..<logW.count {
            probs[i] = exp(logW[i] - mx)
            total += probs[i]
        }
        for i in 0..<probs.count { probs[i] /= total }
    }
    public mutating func select() -> Int {
        refresh()
        let x = rng.uniform()
        var acc = 0.0
        lastChoice = probs.count - 1
        for i in 0..<probs.count {
            acc += probs[i]
            if x < acc { lastChoice = i; break }
        }
        return lastChoice
    }
    /// Partial feedback only (not Hedge's setting): counts the one observed reward.
    public mutating func update(arm: Int, reward: Double, weight: Double = 1) {
        cumulative[arm] += weight * reward
    }
    public mutating func learn(chosen: Int, rewards: UnsafeBufferPointer<Double>, weight: Double) {
        let g = discount == 1 ? 1 : (weight == 1 ? discount : pow(discount, weight))
        for i in 0..<cumulative.count { cumulative[i] = g * cumulative[i] + weight * rewards[i] }
    }
    /// The current weights (closed form softmax(η · cumulative)), without sampling.
    public mutating func currentWeights() -> [Double] {
        refresh()
        return probs
    }
    public func score(_ i: Int) -> ArmScore {
        ArmScore(mean: 0, bonus: 0, index: logW[i], probability: probs[i], pulls: 0)
    }
}

/// Epsilon-greedy (Sutton & Barto 2018, "Reinforcement Learning", 2nd ed., §2.2; the decaying
/// ε_t = min(1, cK/(d² t)) form is Auer et al. 2002's ε_n-greedy): with probability ε a uniform
/// arm, otherwise the best empirical mean. Default ε = 0.1 fixed: the simple baseline.
public struct EpsilonGreedy: SelectionPolicy {
    public static let name = "egreedy"
    public static let reference = "Sutton & Barto (2018), §2.2; Auer, Cesa-Bianchi & Fischer (2002) ε_n-greedy"
    public static let feedback = FeedbackKind.bandit
    public var epsilon: Double
    public var n: [Double]
    public var sum: [Double]
    public var lastChoice = 0
    public var lastGreedy = 0
    public var rng: MetaRNG
    public var armCount: Int { n.count }

    public init(armCount k: Int, seed: UInt64, epsilon: Double = 0.1) {
        self.epsilon = epsilon
        n = Array(repeating: 0, count: k)
        sum = n
        rng = MetaRNG(seed: seed)
    }
    @inlinable func mean(_ i: Int) -> Double { n[i] > 0 ? sum[i] / n[i] : 1 }  // optimistic: unseen first
    public mutating func select() -> Int {
        var best = 0
        for i in 1..<n.count where mean(i) > mean(best) { best = i }
        lastGreedy = best
        if rng.uniform() < epsilon {
            lastChoice = min(Int(rng.uniform() * Double(n.count)), n.count - 1)
        } else {
            lastChoice = best
        }
        return lastChoice
    }
    public mutating func update(arm: Int, reward: Double, weight: Double = 1) {
        n[arm] += weight
        sum[arm] += weight * reward
    }
    public func score(_ i: Int) -> ArmScore {
        let k = Double(n.count)
        return ArmScore(mean: mean(i), bonus: 0, index: mean(i),
                        probability: (i == lastGreedy ? 1 - epsilon : 0) + epsilon / k, pulls: n[i])
    }
}
