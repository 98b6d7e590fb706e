import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// Runs `kind` over `rewards` and returns the choices (generic over the opened rule).
private func choices(_ kind: SelectionPolicyKind, seed: UInt64, _ r: RewardMatrix) -> [Int] {
    BanditHarness.run(kind, seed: seed, rewards: r).choices
}

/// Bernoulli rewards from a per-step mean function.
private func bernoulli(steps: Int, seed: UInt64, mean: (Int, Int) -> Double) -> RewardMatrix {
    var g = Xoshiro256StarStar(seed: seed)
    var v = [Double]()
    for t in 0..<steps { for i in 0..<4 { v.append(g.nextDouble() < mean(t, i) ? 1 : 0) } }
    return RewardMatrix(names: ["a", "b", "c", "d"], values: v)
}

/// First step ≥ `from` after which `arm` is chosen in at least 90% of the next 50 steps.
private func refound(_ c: [Int], arm: Int, from: Int) -> Int? {
    var t = from
    while t + 50 <= c.count {
        if c[t..<(t + 50)].filter({ $0 == arm }).count >= 45 { return t - from }
        t += 1
    }
    return nil
}

@Suite("Meta selection policies")
struct MetaPolicyTests {
    @Test("every rule finds a dominant arm", arguments: SelectionPolicyKind.allCases)
    func dominantArm(kind: SelectionPolicyKind) {
        let r = bernoulli(steps: 3_000, seed: 7) { _, i in i == 2 ? 0.9 : 0.2 }
        let c = choices(kind, seed: 3, r)
        let late = c[2_000...]
        let share = Double(late.filter { $0 == 2 }.count) / Double(late.count)
        #expect(share >= 0.75, "\(kind): dominant arm chosen \(share) of the last 1000 steps")
    }

    @Test("windowed and discounted rules re-find a switched arm within a bounded number of steps",
          arguments: [SelectionPolicyKind.ducb, .swucb, .dthompson, .rexp3])
    func switchedArm(kind: SelectionPolicyKind) throws {
        // Arm 0 best for 2,000 steps, then arm 3.
        let r = bernoulli(steps: 4_000, seed: 11) { t, i in (t < 2_000 ? i == 0 : i == 3) ? 0.9 : 0.1 }
        let c = choices(kind, seed: 5, r)
        let delay = try #require(refound(c, arm: 3, from: 2_000), "\(kind) never re-found the new best arm")
        #expect(delay <= 600, "\(kind) took \(delay) steps")
        // Plain Thompson sampling never forgets: 2,000 steps of evidence make it much slower.
        let ts = refound(choices(.thompson, seed: 5, r), arm: 3, from: 2_000) ?? 2_000
        #expect(delay < ts, "\(kind) (\(delay)) should re-find faster than Thompson (\(ts))")
    }

    @Test("Hedge weights equal the closed form softmax(η · cumulative reward)")
    func hedgeClosedForm() {
        var h = Hedge(armCount: 4, seed: 1, eta: 0.3)
        var totals = [0.0, 0, 0, 0]
        var g = Xoshiro256StarStar(seed: 9)
        for _ in 0..<200 {
            let row = (0..<4).map { i in g.nextDouble() * Double(i + 1) / 4 }
            _ = h.select()
            row.withUnsafeBufferPointer { h.learn(chosen: 0, rewards: $0, weight: 1) }
            for i in 0..<4 { totals[i] += row[i] }
        }
        let w = h.currentWeights()
        let e = totals.map { exp(0.3 * $0) }
        let z = e.reduce(0, +)
        for i in 0..<4 { #expect(abs(w[i] - e[i] / z) < 1e-12) }
        #expect(abs(w.reduce(0, +) - 1) < 1e-12)
    }

    @Test("KL-UCB's Newton root matches bisection")
    func klucbRoot() {
        for p in [0.05, 0.3, 0.5, 0.8, 0.97] {
            for d in [0.001, 0.01, 0.1, 0.5] {
                let q = KLUCB.upperBound(mean: p, level: d, steps: KLUCB(armCount: 1).newtonSteps)
                var lo = p, hi = 1.0
                for _ in 0..<100 {
                    let mid = (lo + hi) / 2
                    if KLUCB.kl(p, mid) > d { hi = mid } else { lo = mid }
                }
                #expect(abs(q - lo) < 1e-6, "p \(p) d \(d): newton \(q) bisection \(lo)")
            }
        }
    }

    @Test("KL-UCB's pruned choice is the argmax of the exact indices")
    func klucbPruning() {
        let (r, _) = BanditStream.stationary.rewards(seed: 5, steps: 3_000)
        var p = KLUCB(armCount: 4)
        for t in 0..<3_000 {
            let a = p.select()
            let idx = (0..<4).map { p.score($0).index }
            let top = idx.max()!
            let best = idx.firstIndex { $0 >= top - 1e-9 }!  // ties (to solver tolerance) to the lowest arm
            #expect(a == best, "step \(t): chose \(a), exact indices \(idx)")
            if a != best { return }
            p.update(arm: a, reward: r[t, a], weight: 1)
        }
    }

    @Test("a seed reproduces a run; another seed gives another run", arguments: SelectionPolicyKind.allCases)
    func determinism(kind: SelectionPolicyKind) {
        let (r, _) = BanditStream.stationary.rewards(seed: 2, steps: 2_000)
        #expect(choices(kind, seed: 4, r) == choices(kind, seed: 4, r))
        let randomised: Set<SelectionPolicyKind> = [.thompson, .gthompson, .dthompson, .exp3, .rexp3, .exp3ix, .hedge, .egreedy]
        if randomised.contains(kind) {
            #expect(choices(kind, seed: 4, r) != choices(kind, seed: 5, r))
        }
    }

    @Test("a Codable round trip continues identically", arguments: SelectionPolicyKind.allCases)
    func codableContinuation(kind: SelectionPolicyKind) throws {
        let (r, _) = BanditStream.drift.rewards(seed: 3, steps: 1_000)
        let p = kind.make(armCount: 4, seed: 8, horizon: 1_000)
        try continuation(p, r)
    }

    private func continuation<P: SelectionPolicy>(_ start: P, _ r: RewardMatrix) throws {
        var a = start
        func step(_ p: inout P, _ t: Int) -> Int {
            let row = Array(r.values[(t * 4)..<(t * 4 + 4)])
            let c = p.select()
            row.withUnsafeBufferPointer { p.learn(chosen: c, rewards: $0, weight: 1) }
            return c
        }
        for t in 0..<500 { _ = step(&a, t) }
        var b = try JSONDecoder().decode(P.self, from: JSONEncoder().encode(a))
        var ca = [Int](), cb = [Int]()
        for t in 500..<1_000 {
            ca.append(step(&a, t))
            cb.append(step(&b, t))
        }
        #expect(ca == cb, "\(P.name) diverged after decoding")
        #expect(a.score(0) == b.score(0))
    }

    @Test("a fresh rule (infinite bonuses) round-trips through the non-finite-aware coder", arguments: SelectionPolicyKind.allCases)
    func freshRoundTrip(kind: SelectionPolicyKind) throws {
        try freshRoundTrip(kind.make(armCount: 4, seed: 2))
    }

    private func freshRoundTrip<P: SelectionPolicy>(_ p0: P) throws {
        var a = p0
        _ = a.select()
        var b = try MetaExplanationLog.decoder().decode(P.self, from: MetaExplanationLog.encoder().encode(a))
        a.update(arm: 0, reward: 1, weight: 1)
        b.update(arm: 0, reward: 1, weight: 1)
        #expect(a.select() == b.select())
    }

    @Test("bandit rules only see the chosen arm; Hedge sees the row")
    func feedbackKinds() {
        for k in SelectionPolicyKind.allCases {
            let p = k.make(armCount: 4, seed: 1)
            #expect(type(of: p).feedback == (k == .hedge ? .full : .bandit))
        }
    }

    @Test("Gamma and Beta samplers have the right means")
    func samplers() {
        var g = MetaRNG(seed: 12)
        let n = 40_000
        for a in [0.5, 1.0, 3.0] {
            let m = (0..<n).reduce(0.0) { s, _ in s + g.gamma(shape: a) } / Double(n)
            #expect(abs(m - a) < 0.05 * max(a, 1), "Gamma(\(a)) mean \(m)")
        }
        let mb = (0..<n).reduce(0.0) { s, _ in s + g.beta(2, 6) } / Double(n)
        #expect(abs(mb - 0.25) < 0.01)
    }
}

@Suite("Meta harness")
struct MetaHarnessTests {
    @Test("regret against the best fixed and per-step best arm on a known matrix")
    func knownRegret() {
        // Two arms: UCB1 plays arm 0 then arm 1 first (unseen arms in order).
        let r = RewardMatrix(names: ["x", "y"], values: [0, 1, 0, 1, 1, 0])
        let m = RewardMatrix(names: ["x", "y"], values: [0.2, 0.8, 0.2, 0.8, 0.9, 0.1])
        var p = UCB1(armCount: 2)
        let run = BanditHarness.run(&p, rewards: r, means: m)
        #expect(run.choices.count == 3)
        #expect(Array(run.choices.prefix(2)) == [0, 1])
        let got = run.rewards.reduce(0, +)
        #expect(run.regretVsBestFixed == 2 - got)
        var dyn = 0.0
        for t in 0..<3 { dyn += max(m[t, 0], m[t, 1]) - m[t, run.choices[t]] }
        #expect(abs(run.regretVsPerStepBest! - dyn) < 1e-12)
        #expect(run.regretCurve.count == 3)
    }

    @Test("reward CSV round trip and error on a bad row")
    func csv() throws {
        let (r, _) = BanditStream.switching.rewards(seed: 1, steps: 50)
        let path = NSTemporaryDirectory() + "meta-csv-\(getpid()).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try r.write(path: path)
        #expect(try RewardMatrix.load(path: path) == r)
        try "a,b\n1,0\n0.5\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RewardMatrix.CSVError.self) { try RewardMatrix.load(path: path) }
    }

    @Test("streams: best arm of the switching stream moves every 1,000 steps; drift stays in [0.25, 0.75]")
    func streams() {
        let m = BanditStream.switching.means()
        for t in stride(from: 0, to: 10_000, by: 1_000) {
            let best = (0..<4).max { m[t, $0] < m[t, $1] }!
            #expect(best == (t / 1_000) % 4)
        }
        let d = BanditStream.drift.means()
        let inRange = d.values.allSatisfy { (x: Double) -> Bool in x >= 0.25 - 1e-12 && x <= 0.75 + 1e-12 }
        #expect(inRange)
        let s = BanditStream.stationary.rewards(seed: 1)
        #expect(s.rewards.rows == 10_000)
        #expect(s.rewards.arms == 4)
        #expect(BanditStream.stationary.rewards(seed: 1).rewards == s.rewards)
    }

    @Test("D-UCB and SW-UCB beat UCB1 and Thompson, discounted Thompson beats Thompson, on switching and drift",
          arguments: [BanditStream.switching, .drift])
    func nonStationaryBeatsStationary(stream: BanditStream) {
        var total: [SelectionPolicyKind: Double] = [:]
        for seed in 1...3 {
            let (r, m) = stream.rewards(seed: UInt64(seed))
            for k in [SelectionPolicyKind.ucb1, .thompson, .ducb, .swucb, .dthompson] {
                total[k, default: 0] += BanditHarness.run(k, seed: UInt64(seed), rewards: r, means: m).regretVsPerStepBest!
            }
        }
        let ucb = total[.ucb1]!, ts = total[.thompson]!
        for k in [SelectionPolicyKind.ducb, .swucb] {
            let mine = total[k]!
            #expect(mine < ucb, "\(k): \(total)")
            #expect(mine < ts, "\(k): \(total)")
        }
        let dts = total[.dthompson]!
        #expect(dts < ts, "dthompson: \(total)")
    }
}
