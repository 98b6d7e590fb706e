// The standard harness: a T×K reward matrix (CSV with a header of arm names), one rule run over
// it with bandit or full feedback, the choices and the regret; and the three benchmark streams
// (stationary, abrupt switches, slow drift) the docs report on.
import KairosCore
import Foundation

/// A T×K matrix of per-step values (rewards in [0, 1], or true means), row-major, with arm names.
///
/// Invariants: `values.count == rows * names.count`.
public struct RewardMatrix: Sendable, Equatable {
    public var names: [String]
    public var values: [Double]
    public var arms: Int { names.count }
    public var rows: Int { names.isEmpty ? 0 : values.count / names.count }

    public init(names: [String], values: [Double]) {
        precondition(!names.isEmpty && values.count % names.count == 0, "values must be T × K")
        self.names = names
        self.values = values
    }
    @inlinable public subscript(t: Int, i: Int) -> Double { values[t * names.count + i] }

    public enum CSVError: Error, CustomStringConvertible {
        case empty(String), badRow(path: String, line: Int, reason: String)
        public var description: String {
            switch self {
            case .empty(let p): "\(p): no header or no rows"
            case .badRow(let p, let l, let r): "\(p):\(l): \(r)"
            }
        }
    }

    /// Reads a CSV: a header of arm names, then one row of K numbers per step.
    public static func load(path: String) throws -> RewardMatrix {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        lines.removeAll { $0.isEmpty }
        guard let header = lines.first, lines.count >= 2 else { throw CSVError.empty(path) }
        let names = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var values = [Double]()
        values.reserveCapacity((lines.count - 1) * names.count)
        for (n, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == names.count else {
                throw CSVError.badRow(path: path, line: n + 2, reason: "\(cells.count) cells, header has \(names.count)")
            }
            for c in cells {
                guard let v = Double(c.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                    throw CSVError.badRow(path: path, line: n + 2, reason: "not a number: \(c)")
                }
                values.append(v)
            }
        }
        return RewardMatrix(names: names, values: values)
    }

    public func csv(digits: Int = 6) -> String {
        var s = names.joined(separator: ",") + "\n"
        s.reserveCapacity(values.count * (digits + 3))
        for t in 0..<rows {
            for i in 0..<arms {
                if i > 0 { s += "," }
                let v = self[t, i]
                s += v == 0 || v == 1 ? (v == 0 ? "0" : "1") : String(format: "%.\(digits)f", v)
            }
            s += "\n"
        }
        return s
    }

    public func write(path: String) throws {
        try csv().write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// The outcome of one harness run.
public struct BanditRun: Sendable {
    public var policy: String
    /// Arm chosen at each step.
    public var choices: [Int]
    /// Reward the chosen arm paid at each step.
    public var rewards: [Double]
    /// max_i Σ_t R[t,i] − Σ_t R[t,I_t]: regret against the best fixed arm, on the realised rewards.
    public var regretVsBestFixed: Double
    /// With the true means: Σ_t max_i M[t,i] − Σ_t M[t,I_t] (pseudo-regret against the per-step best arm).
    public var regretVsPerStepBest: Double?
    /// With the true means: max_i Σ_t M[t,i] − Σ_t M[t,I_t] (pseudo-regret against the best fixed arm).
    public var pseudoRegretVsBestFixed: Double?
    /// Pseudo-regret against the per-step best arm after each step (needs the means).
    public var regretCurve: [Double]
    public var totalReward: Double { rewards.reduce(0, +) }
}

public enum BanditHarness {
    /// Runs `policy` over `rewards`: bandit rules see only the chosen arm's reward, full-feedback
    /// rules (Hedge) the whole row. `means` (same shape) adds the pseudo-regrets.
    public static func run<P: SelectionPolicy>(_ policy: inout P, rewards: RewardMatrix, means: RewardMatrix? = nil) -> BanditRun {
        precondition(policy.armCount == rewards.arms, "policy has \(policy.armCount) arms, rewards \(rewards.arms)")
        if let m = means { precondition(m.arms == rewards.arms && m.rows == rewards.rows, "means must have the rewards' shape") }
        let T = rewards.rows, K = rewards.arms
        var choices = [Int](repeating: 0, count: T)
        var got = [Double](repeating: 0, count: T)
        var armTotals = [Double](repeating: 0, count: K)
        var meanTotals = [Double](repeating: 0, count: K)
        var curve = [Double]()
        if means != nil { curve.reserveCapacity(T) }
        var dynamic = 0.0, chosenMean = 0.0
        rewards.values.withUnsafeBufferPointer { all in
            for t in 0..<T {
                let row = UnsafeBufferPointer(rebasing: all[(t * K)..<(t * K + K)])
                let a = policy.select()
                choices[t] = a
                got[t] = row[a]
                if P.feedback == .full {
                    policy.learn(chosen: a, rewards: row, weight: 1)
                } else {
                    policy.update(arm: a, reward: row[a], weight: 1)
                }
                for i in 0..<K { armTotals[i] += row[i] }
                if let m = means {
                    var best = -Double.infinity
                    for i in 0..<K {
                        let v = m[t, i]
                        meanTotals[i] += v
                        if v > best { best = v }
                    }
                    dynamic += best - m[t, a]
                    chosenMean += m[t, a]
                    curve.append(dynamic)
                }
            }
        }
        let total = got.reduce(0, +)
        return BanditRun(
            policy: P.name, choices: choices, rewards: got,
            regretVsBestFixed: (armTotals.max() ?? 0) - total,
            regretVsPerStepBest: means == nil ? nil : dynamic,
            pseudoRegretVsBestFixed: means == nil ? nil : (meanTotals.max() ?? 0) - chosenMean,
            regretCurve: curve)
    }

    /// `run` for a rule chosen at run time (opens the existential once; the loop is generic).
    public static func run(_ kind: SelectionPolicyKind, seed: UInt64, rewards: RewardMatrix, means: RewardMatrix? = nil) -> BanditRun {
        let p = kind.make(armCount: rewards.arms, seed: seed, horizon: rewards.rows)
        return runOpened(p, rewards: rewards, means: means)
    }
    static func runOpened<P: SelectionPolicy>(_ p: P, rewards: RewardMatrix, means: RewardMatrix?) -> BanditRun {
        var q = p
        return run(&q, rewards: rewards, means: means)
    }

    /// The choices file: one row per step, `t,arm,reward`.
    public static func choicesCSV(_ r: BanditRun, names: [String]) -> String {
        var s = "t,arm,reward\n"
        s.reserveCapacity(r.choices.count * 16)
        for t in 0..<r.choices.count {
            s += "\(t),\(names[r.choices[t]]),\(String(format: "%.6f", r.rewards[t]))\n"
        }
        return s
    }
}

/// The three benchmark streams of `docs/meta.md`: K = 4 Bernoulli arms, T = 10,000 by default.
///
/// - stationary: means 0.50, 0.45, 0.45, 0.40 (best gap 0.05: "close means").
/// - switching: every 1,000 steps the best arm (mean 0.7) moves to the next arm, which was the
///   worst (0.3) until then; the old best drops to 0.5, the others to 0.4 and 0.3. The new best is
///   the arm a stationary rule has sampled least and believes worst: the hard case of Garivier &
///   Moulines' experiments.
/// - drift: μ_i(t) = 0.5 + 0.25 sin(2π t / 5,000 + 2π i / K): the best arm changes slowly and
///   continuously (two full periods over T).
/// Rewards are Bernoulli(μ_i(t)) drawn from xoshiro seeded with `seed` (the docs use seeds 1...20).
public enum BanditStream: String, CaseIterable, Sendable {
    case stationary, switching, drift

    public static let armNames = ["a0", "a1", "a2", "a3"]

    /// The true per-step means.
    public func means(steps T: Int = 10_000) -> RewardMatrix {
        let K = 4
        var v = [Double](repeating: 0, count: T * K)
        for t in 0..<T {
            for i in 0..<K {
                let m: Double
                switch self {
                case .stationary:
                    m = [0.50, 0.45, 0.45, 0.40][i]
                case .switching:
                    let best = (t / 1_000) % K
                    m = [0.7, 0.5, 0.4, 0.3][(best - i + K) % K]
                case .drift:
                    m = 0.5 + 0.25 * sin(2 * Double.pi * Double(t) / 5_000 + 2 * Double.pi * Double(i) / Double(K))
                }
                v[t * K + i] = m
            }
        }
        return RewardMatrix(names: Self.armNames, values: v)
    }

    /// Bernoulli draws from `means(steps:)` with the given seed.
    public func rewards(seed: UInt64, steps T: Int = 10_000) -> (rewards: RewardMatrix, means: RewardMatrix) {
        let m = means(steps: T)
        var g = Xoshiro256StarStar(seed: seed)
        let v = m.values.map { g.nextDouble() < $0 ? 1.0 : 0.0 }
        return (RewardMatrix(names: m.names, values: v), m)
    }
}
