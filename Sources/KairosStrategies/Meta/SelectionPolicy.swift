// The one protocol every selection rule of the meta-agent implements (bandits with partial
// feedback, experts with full information), the per-arm score the explanations show, and the
// seeded, Codable random source the randomised rules draw from.
import KairosCore
import Foundation

/// What a rule learns from after each step.
public enum FeedbackKind: String, Codable, Sendable {
    /// Only the chosen arm's reward is observed (the traded agent's real fills).
    case bandit
    /// Every arm's reward is observed (all agents run in shadow).
    case full
}

/// One arm as the rule saw it at the last `select()`: what the explanation prints.
public struct ArmScore: Sendable, Hashable, Codable {
    /// The rule's estimate of the arm's mean reward (in [0, 1] for the bounded-reward rules).
    public var mean: Double
    /// Exploration term: UCB bonus, Thompson sample minus mean; 0 for the weight-based rules.
    public var bonus: Double
    /// The number the rule compares: mean + bonus, the posterior sample, or the log-weight.
    public var index: Double
    /// Probability of choosing the arm at this step (1/0 for deterministic index rules, the
    /// sampled winner for Thompson); the blend weight for experts.
    public var probability: Double
    /// Effective number of observations (discounted / windowed / posterior-weighted).
    public var pulls: Double
    public init(mean: Double, bonus: Double, index: Double, probability: Double, pulls: Double) {
        self.mean = mean
        self.bonus = bonus
        self.index = index
        self.probability = probability
        self.pulls = pulls
    }
}

/// A selection rule over `armCount` arms with rewards in [0, 1].
///
/// Protocol: call `select()` once per step, then `learn(chosen:rewards:weight:)` (or
/// `update(arm:reward:weight:)` for bandit feedback). `weight` in (0, 1] scales the observation
/// (the meta-agent passes the regime posterior; the harness passes 1).
///
/// Implementation Notes: every conforming type keeps its per-arm state in arrays sized at
/// `init`, so `select`/`update`/`learn` allocate nothing; they are O(K) (SW-UCB also O(1)
/// amortised for its window). State is Codable: a decoded rule continues exactly where the
/// encoded one stopped, random generator included. Before every arm has been tried some scores
/// are infinite or NaN: encode with a JSON coder that accepts them
/// (`MetaExplanationLog.encoder()` / `.decoder()`; `MetaAgent.save(toPath:)` does).
public protocol SelectionPolicy: Codable, Sendable {
    /// Short name used on the command line ("ucb1", "ducb", ...).
    static var name: String { get }
    /// The paper the rule comes from.
    static var reference: String { get }
    /// Bandit rules learn from the chosen arm only; experts need the whole reward row.
    static var feedback: FeedbackKind { get }
    var armCount: Int { get }
    /// Chooses the arm for this step and remembers every arm's score for `score(_:)`.
    mutating func select() -> Int
    /// Bandit feedback: the reward of `arm` (usually the one just selected).
    mutating func update(arm: Int, reward: Double, weight: Double)
    /// Feedback after a step given the whole reward row; bandit rules use `rewards[chosen]` only.
    mutating func learn(chosen: Int, rewards: UnsafeBufferPointer<Double>, weight: Double)
    /// The arm as seen by the last `select()`.
    func score(_ arm: Int) -> ArmScore
}

extension SelectionPolicy {
    public mutating func learn(chosen: Int, rewards: UnsafeBufferPointer<Double>, weight: Double) {
        update(arm: chosen, reward: rewards[chosen], weight: weight)
    }
    public var name: String { Self.name }
}

/// Index of the largest value (ties to the lowest index). O(K), no allocation.
@inlinable
func kairosArgmax(_ xs: [Double]) -> Int {
    var best = 0
    var bv = xs[0]
    var i = 1
    while i < xs.count {
        if xs[i] > bv { bv = xs[i]; best = i }
        i += 1
    }
    return best
}

/// The seeded generator of the randomised rules, with the samplers they need.
///
/// Codable (the four xoshiro words and the cached Gaussian spare) so that a restored rule draws
/// the same numbers the original would have drawn.
///
/// Implementation Notes: Gamma by Marsaglia & Tsang (2000) "A simple method for generating gamma
/// variables" (one normal and one uniform per accepted draw, acceptance > 95% for shape >= 1;
/// shape < 1 via Gamma(a+1)·U^(1/a)); Beta(a, b) = X/(X+Y) with X~Gamma(a), Y~Gamma(b). O(1)
/// expected, no allocation.
public struct MetaRNG: Codable, Sendable {
    public var generator: Xoshiro256StarStar

    public init(seed: UInt64) { generator = Xoshiro256StarStar(seed: seed) }

    @inlinable public mutating func uniform() -> Double { generator.nextDouble() }
    @inlinable public mutating func gaussian() -> Double { generator.nextGaussian() }

    public mutating func gamma(shape a: Double) -> Double {
        if a < 1 {
            // Boost: Gamma(a) = Gamma(a+1) * U^(1/a); 1 - uniform() is in (0, 1], never 0.
            let u = 1 - uniform()
            return gamma(shape: a + 1) * pow(u, 1 / a)
        }
        let d = a - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = gaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = uniform()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if log(u) < 0.5 * x2 + d * (1 - v + log(v)) { return d * v }
        }
    }

    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a)
        let y = gamma(shape: b)
        return x / (x + y)
    }

    enum CodingKeys: String, CodingKey { case s0, s1, s2, s3, spare, hasSpare }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        generator = Xoshiro256StarStar(state: (
            try c.decode(UInt64.self, forKey: .s0), try c.decode(UInt64.self, forKey: .s1),
            try c.decode(UInt64.self, forKey: .s2), try c.decode(UInt64.self, forKey: .s3)))
        generator.spare = try c.decode(Double.self, forKey: .spare)
        generator.hasSpare = try c.decode(Bool.self, forKey: .hasSpare)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(generator.s0, forKey: .s0)
        try c.encode(generator.s1, forKey: .s1)
        try c.encode(generator.s2, forKey: .s2)
        try c.encode(generator.s3, forKey: .s3)
        try c.encode(generator.spare, forKey: .spare)
        try c.encode(generator.hasSpare, forKey: .hasSpare)
    }
}

/// Every rule the meta-agent and the harness know, by command-line name, with defaults tuned
/// for a horizon of `horizon` steps (the parameters each paper recommends).
public enum SelectionPolicyKind: String, CaseIterable, Sendable, Codable {
    case ucb1, ucbtuned, klucb, ducb, swucb, thompson, gthompson, dthompson, exp3, rexp3, exp3ix, hedge, egreedy

    /// The rules `kairos meta simulate --policy` documents in the issue, in that order, then the extras.
    public static let harnessOrder: [SelectionPolicyKind] = [
        .ucb1, .ducb, .swucb, .thompson, .dthompson, .exp3, .exp3ix, .hedge, .egreedy,
        .ucbtuned, .klucb, .gthompson, .rexp3,
    ]

    /// Built for `armCount` arms; `horizon` sets the rules whose tuning depends on T
    /// (EXP3/EXP3-IX/Hedge learning rates; Rexp3 batch).
    public func make(armCount k: Int, seed: UInt64, horizon: Int = 10_000) -> any SelectionPolicy {
        switch self {
        case .ucb1: UCB1(armCount: k)
        case .ucbtuned: UCBTuned(armCount: k)
        case .klucb: KLUCB(armCount: k)
        case .ducb: DiscountedUCB(armCount: k)
        case .swucb: SlidingWindowUCB(armCount: k)
        case .thompson: BetaThompson(armCount: k, seed: seed)
        case .gthompson: GaussianThompson(armCount: k, seed: seed)
        case .dthompson: DiscountedThompson(armCount: k, seed: seed)
        case .exp3: EXP3(armCount: k, seed: seed, horizon: horizon)
        case .rexp3: EXP3(armCount: k, seed: seed, horizon: horizon, restartPeriod: 500)
        case .exp3ix: EXP3IX(armCount: k, seed: seed, horizon: horizon)
        case .hedge: Hedge(armCount: k, seed: seed, horizon: horizon)
        case .egreedy: EpsilonGreedy(armCount: k, seed: seed)
        }
    }
}
