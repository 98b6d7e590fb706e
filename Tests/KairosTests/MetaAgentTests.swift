import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

private let bull = RegimeProbabilities(bull: 1, bear: 0, sideways: 0, volatile: 0)

/// Two agents, Hedge with a large η (its choice is the argmax of cumulative reward except at the
/// exact tie): agent a is right for 100 steps, then agent b.
private func twoAgentRun(minDwell: Int, transition: Int, steps: Int = 250)
    -> (agent: MetaAgent<Hedge>, decisions: [MetaDecision], explanations: [MetaExplanation])
{
    let cfg = MetaAgentConfig(agentNames: ["a", "b"], transitionSteps: transition, minDwell: minDwell,
                              rewardScale: 0.01, switchingCostRate: 0.001)
    // A head start of 0.5 for a makes the first choice a and puts the crossing between steps.
    var m = MetaAgent<Hedge>(config: cfg) { r in
        var h = Hedge(armCount: 2, seed: UInt64(r + 1), eta: 50)
        [0.5, 0.0].withUnsafeBufferPointer { h.learn(chosen: 0, rewards: $0, weight: 1) }
        return h
    }
    var ds = [MetaDecision](), es = [MetaExplanation]()
    for t in 0..<steps {
        ds.append(m.decide(regime: bull, targets: [1, -1]))
        es.append(m.explanation()!)
        m.record(shadowReturns: t < 100 ? [0.01, -0.01] : [-0.01, 0.01])
    }
    return (m, ds, es)
}

@Suite("Meta agent")
struct MetaAgentTests {
    @Test("hysteresis: switch on the minDwell-th consecutive proposal, then a linear ramp over N steps")
    func hysteresisAndRamp() throws {
        let (m, ds, es) = twoAgentRun(minDwell: 3, transition: 4)
        // Start of the final run of proposals of b.
        let s = try #require((0..<ds.count).last { $0 == 0 || ds[$0 - 1].proposed != 1 })
        #expect(ds[s...].allSatisfy { $0.proposed == 1 })
        // b's cumulative reward (1 per step from step 100) overtakes a's 100.5 at decision 201.
        #expect(s == 201)
        let sw = s + 2
        #expect(m.switches == 1)
        #expect(ds[sw].switched)
        #expect(ds[sw].previousLead == 0)
        #expect(ds[sw].lead == 1)
        #expect(ds[s].reason == .pending)
        #expect(ds[s + 1].reason == .pending)
        #expect(ds[s + 1].pendingCount == 2)
        #expect(ds[..<sw].allSatisfy { $0.lead == 0 })
        // Targets +1 (a) and -1 (b): the position walks 1 → -1 in 4 equal steps.
        for j in 0..<4 {
            let expected: Double = 1 - 2 * Double(j + 1) / 4
            #expect(abs(ds[sw + j].position - expected) < 1e-12)
        }
        #expect(ds[sw + 5].position == -1)
        #expect(abs(m.switchingCost - 0.001 * 2) < 1e-12, "cost = rate × |total position change by re-weighting|")
        // The explanation says why.
        let e = es[sw]
        #expect(e.reason == "switched")
        #expect(e.lead == "b")
        #expect(e.previousLead == "a")
        #expect(e.why.contains("switched a -> b"))
        #expect(e.why.contains("3 consecutive"))
        #expect(e.why.contains("ramping"))
        #expect(es[s].why.contains("prefers b (1/3 consecutive; hysteresis)"))
        #expect(e.regime == "bull")
        #expect(e.confidence == 1)
        #expect(e.rule == "hedge")
        #expect(e.learner == "bull")
        #expect(e.arms.map(\.name) == ["a", "b"])
        #expect(abs(e.arms[1].weight - 0.25) < 1e-12)
        #expect(e.line.contains("regime=bull (1.00)"))
        #expect(e.line.contains("rule=hedge/select"))
        #expect(e.line.contains("-> b"))
    }

    @Test("without hysteresis and ramp the switch is immediate")
    func noHysteresis() throws {
        let (_, ds, _) = twoAgentRun(minDwell: 1, transition: 1)
        let sw = try #require(ds.firstIndex { $0.switched })
        #expect(ds[sw].position == -1)
        #expect(ds[sw].proposed == 1)
    }

    @Test("posterior-weighted updates: each regime's learner learns in proportion to its posterior")
    func posteriorWeighted() {
        let cfg = MetaAgentConfig(agentNames: ["a", "b"], rewardScale: 0.01)
        var m = MetaAgent<Hedge>(config: cfg) { r in Hedge(armCount: 2, seed: UInt64(r), eta: 0.1) }
        let p = RegimeProbabilities(bull: 0.7, bear: 0.3, sideways: 0, volatile: 0)
        for _ in 0..<10 {
            let d = m.decide(regime: p, targets: [1, 0])
            #expect(d.regime == .bull)
            m.record(shadowReturns: [0.01, -0.01])  // rewards 1 and 0
        }
        #expect(abs(m.learners[0].cumulative[0] - 7) < 1e-12)
        #expect(abs(m.learners[1].cumulative[0] - 3) < 1e-12)
        #expect(m.learners[2].cumulative == [0, 0])
        #expect(m.learners[3].cumulative == [0, 0])
        #expect(m.learners[0].cumulative[1] == 0)
    }

    @Test("regret and performance match an independent recomputation")
    func regretOnline() {
        var sc = MetaShadowScenario(seed: 4)
        let cfg = MetaAgentConfig(agentNames: MetaShadowScenario.agentNames, switchingCostRate: 0.0005)
        var m = MetaAgent<DiscountedUCB>(config: cfg) { _ in DiscountedUCB(armCount: 4) }
        var targets = [Double](repeating: 0, count: 4), returns = targets
        var totals = [Double](repeating: 0, count: 4), byRegime = [[Double]](repeating: [0, 0, 0, 0], count: 4)
        var ens = 0.0, peak = 0.0, maxDD = 0.0
        for _ in 0..<3_000 {
            let p = sc.step(targets: &targets, returns: &returns)
            let d = m.decide(regime: p, targets: targets)
            var g = -d.switchingCost
            for i in 0..<4 { g += m.weights[i] * returns[i] }
            var pos = 0.0
            for i in 0..<4 { pos += m.weights[i] * targets[i] }
            #expect(abs(d.position - pos) < 1e-12)
            m.record(shadowReturns: returns)
            ens += g
            peak = max(peak, ens)
            maxDD = max(maxDD, peak - ens)
            for i in 0..<4 { totals[i] += returns[i]; byRegime[d.regime.rawValue][i] += returns[i] }
        }
        #expect(abs(m.regret.vsBestAgent - (totals.max()! - ens)) < 1e-9)
        let perRegimeBest: Double = byRegime.map { $0.max()! }.reduce(0, +)
        #expect(abs(m.regret.vsBestPerRegime - (perRegimeBest - ens)) < 1e-9)
        #expect(m.regret.vsBestPerRegime >= m.regret.vsBestAgent)
        #expect(abs(m.performance.equity[4] - ens) < 1e-9)
        #expect(abs(m.performance.maxDrawdown[4] - maxDD) < 1e-9)
        #expect(m.switches > 0)
        #expect(m.switchingCost > 0)
        for i in 0..<4 { #expect(abs(m.performance.equity[i] - totals[i]) < 1e-9) }
    }

    @Test("a decoded meta-agent continues identically")
    func codableContinuation() throws {
        var sc = MetaShadowScenario(seed: 6)
        let cfg = MetaAgentConfig(agentNames: MetaShadowScenario.agentNames, mode: .blend)
        var a = MetaAgent<EXP3IX>(config: cfg) { r in EXP3IX(armCount: 4, seed: UInt64(r + 10)) }
        var targets = [Double](repeating: 0, count: 4), returns = targets
        for _ in 0..<300 {
            let p = sc.step(targets: &targets, returns: &returns)
            _ = a.decide(regime: p, targets: targets)
            a.record(shadowReturns: returns)
        }
        let path = NSTemporaryDirectory() + "meta-state-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try a.save(toPath: path)
        var b = try MetaAgent<EXP3IX>(contentsOfFile: path)
        for _ in 0..<300 {
            let p = sc.step(targets: &targets, returns: &returns)
            let da = a.decide(regime: p, targets: targets), db = b.decide(regime: p, targets: targets)
            #expect(da == db)
            a.record(shadowReturns: returns)
            b.record(shadowReturns: returns)
        }
        #expect(a.regret.vsBestAgent == b.regret.vsBestAgent)
        #expect(a.weights == b.weights)
    }

    @Test("blend mode trades the rule's weights")
    func blend() {
        let cfg = MetaAgentConfig(agentNames: ["a", "b"], mode: .blend, transitionSteps: 1)
        var m = MetaAgent<Hedge>(config: cfg) { r in Hedge(armCount: 2, seed: UInt64(r), eta: 0.5) }
        for _ in 0..<5 {
            _ = m.decide(regime: bull, targets: [1, -1])
            m.record(shadowReturns: [0.01, -0.01])
        }
        let d = m.decide(regime: bull, targets: [1, -1])
        let wa: Double = 1 / (1 + exp(-0.5 * 5))  // closed form after 5 rewards of 1 vs 0
        #expect(abs(m.weights[0] - wa) < 1e-12)
        #expect(abs(d.position - (2 * wa - 1)) < 1e-12)
    }

    @Test("explanation log stays bounded and returns the newest entries")
    func explanationLog() throws {
        let path = NSTemporaryDirectory() + "meta-log-\(getpid()).jsonl"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (_, _, es) = twoAgentRun(minDwell: 2, transition: 2, steps: 120)
        var log = MetaExplanationLog(path: path, maxLines: 10, every: 2)
        for e in es { try log.offer(e) }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
        #expect(lines >= 10)
        #expect(lines < 20)
        let tail = try MetaExplanationLog.tail(path: path, count: 3)
        #expect(tail.map(\.step) == [114, 116, 118])
        #expect(tail.last == es[118])
    }

    @Test("the synthetic shadow run produces explanations and writes the log `meta explain` reads")
    func syntheticRun() throws {
        let path = NSTemporaryDirectory() + "meta-run-\(getpid()).jsonl"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let s = try MetaShadowRun.run(policy: .ducb, seed: 2, steps: 1_000, keep: 5, log: path, logEvery: 10)
        #expect(s.explanations.count == 5)
        #expect(s.explanations.last?.step == 999)
        #expect(try MetaExplanationLog.tail(path: path, count: 1000).count == 100)
        #expect(s.explanations.allSatisfy { $0.arms.count == 4 })
        #expect(s.explanations.allSatisfy { $0.rule == "ducb" })
    }

    @Test("bandit feedback: a pooled UCB1 learner counts only the traded agent's reward; the explanation shows its bonus")
    func banditFeedbackPooled() throws {
        let cfg = MetaAgentConfig(agentNames: ["a", "b", "c"], minDwell: 1, perRegimeLearners: false)
        var m = MetaAgent<UCB1>(config: cfg) { _ in UCB1(armCount: 3) }
        var leads = [Int]()
        for t in 0..<50 {
            let d = m.decide(regime: t % 2 == 0 ? bull : RegimeProbabilities(bull: 0, bear: 1, sideways: 0, volatile: 0),
                             targets: [1, 0, -1])
            leads.append(d.lead)
            m.record(shadowReturns: [0.005, 0, -0.005])
        }
        #expect(m.learners.count == 1)
        let u = m.learners[0]
        #expect(u.t == 50)
        for i in 0..<3 { #expect(u.state.n[i] == Double(leads.filter { $0 == i }.count)) }
        #expect(Array(leads.prefix(3)) == [0, 1, 2], "UCB1 plays each agent once first")
        #expect(leads.filter { $0 == 0 }.count > 25, "agent a has the best shadow return")
        let e = try #require(m.explanation())
        #expect(e.learner == "pooled")
        #expect(e.arms[0].bonus > 0 && e.arms[0].bonus.isFinite)
        #expect(abs(e.arms[0].mean - 0.75) < 1e-12, "return 0.005 maps to reward 0.75 with rewardScale 0.01")
        #expect(e.line.contains("bonus="))
    }
}
