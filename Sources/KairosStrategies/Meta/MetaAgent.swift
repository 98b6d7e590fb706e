// The meta-agent: given the regime posterior and the four agents' target positions, it picks one
// agent (or blends them) with a selection rule per regime, smooths the change of position,
// resists flip-flopping, counts switching costs, tracks each agent's shadow performance and its
// own regret, and explains every decision.
import KairosCore
import Foundation

/// One agent's position, or a weighted blend of all of them.
public enum MetaOutputMode: String, Codable, Sendable, CaseIterable {
    /// Trade the lead agent's target (weights one-hot, ramped over `transitionSteps`).
    case select
    /// Trade Σ w_i · target_i with w the rule's probabilities (Hedge/EXP3 weights; one-hot for
    /// index rules), ramped the same way.
    case blend
}

/// Why the lead agent is what it is at this decision.
public enum MetaReason: String, Codable, Sendable {
    /// First decision: the rule's choice is taken as is.
    case initial
    /// The rule proposes the agent already held.
    case held
    /// The rule proposes another agent, not yet on `minDwell` consecutive decisions: held.
    case pending
    /// The rule proposed the new agent on `minDwell` consecutive decisions: switched.
    case switched
}

/// Tuning of the meta-agent.
public struct MetaAgentConfig: Codable, Sendable, Hashable {
    /// One name per agent (K = names.count).
    public var agentNames: [String]
    public var mode: MetaOutputMode
    /// A change of weights is spread over this many decisions (linear ramp; 1 = immediate).
    public var transitionSteps: Int
    /// Hysteresis: a different agent must be proposed on this many consecutive decisions.
    public var minDwell: Int
    /// Shadow returns r map to bounded rewards clamp(0.5 + r / (2 · rewardScale), 0, 1): returns
    /// beyond ±rewardScale saturate. Set it to a few per-step standard deviations.
    public var rewardScale: Double
    /// Cost per unit of position changed by re-weighting (fraction of notional, e.g. 5e-4 = 5 bp).
    public var switchingCostRate: Double
    /// Window of the rolling return, in steps.
    public var rollingWindow: Int
    /// One learner per regime (decisions from the most likely regime's learner, updates weighted
    /// by the posterior) or a single learner ignoring the regime.
    public var perRegimeLearners: Bool
    /// Learners whose regime posterior is below this are not updated at the step.
    public var minUpdateWeight: Double

    public init(
        agentNames: [String], mode: MetaOutputMode = .select, transitionSteps: Int = 5, minDwell: Int = 3,
        rewardScale: Double = 0.01, switchingCostRate: Double = 5e-4, rollingWindow: Int = 100,
        perRegimeLearners: Bool = true, minUpdateWeight: Double = 1e-3
    ) {
        precondition(!agentNames.isEmpty && transitionSteps >= 1 && minDwell >= 1 && rewardScale > 0 && rollingWindow >= 1)
        self.agentNames = agentNames
        self.mode = mode
        self.transitionSteps = transitionSteps
        self.minDwell = minDwell
        self.rewardScale = rewardScale
        self.switchingCostRate = switchingCostRate
        self.rollingWindow = rollingWindow
        self.perRegimeLearners = perRegimeLearners
        self.minUpdateWeight = minUpdateWeight
    }
}

/// What `decide` returns: the position to trade and why (the full explanation is built on demand
/// by `MetaAgent.explanation()`, which allocates; this value does not).
public struct MetaDecision: Sendable, Hashable, Codable {
    public var step: Int
    /// Σ_i w_i · target_i with the ramped weights.
    public var position: Double
    /// The agent held after hysteresis.
    public var lead: Int
    /// The agent the rule chose at this step.
    public var proposed: Int
    /// The lead before this decision (-1 at the first).
    public var previousLead: Int
    public var reason: MetaReason
    public var regime: Regime
    public var confidence: Double
    /// Consecutive proposals of the pending candidate (0 when none).
    public var pendingCount: Int
    /// Switching cost charged at this step (rate × |position change caused by re-weighting|).
    public var switchingCost: Double
    public var switched: Bool { reason == .switched }
}

/// The meta-agent over K agents with selection rule `P`.
///
/// Context design: one learner per regime, the decision taken by the learner of the most likely
/// regime, and every learner updated after the step with weight P(regime) (posterior-weighted
/// updates). Why both: an agent's edge is regime-specific (a trend follower wins in bull/bear
/// and bleeds sideways), so one pooled learner averages edges that cancel, while hard assignment
/// of each step to the argmax regime feeds a learner the returns of the other regime near every
/// transition, where the filtered posterior is uncertain and the detector lags. Weighting by the
/// posterior gives each learner exactly the evidence the detector attributes to its regime, and
/// a 0.3/0.7 step moves both learners a little instead of one fully and wrongly.
/// (`perRegimeLearners = false` gives the single pooled learner for comparison.)
///
/// Invariants: weights are non-negative and sum to 1 after the first decision; `decide` and
/// `record` alternate (one `record` per `decide`).
///
/// Implementation Notes: all buffers are sized at init; `decide` and `record` are O(K · regimes)
/// and allocate nothing (the per-arm scores the explanation shows are kept by the rule itself).
/// The struct is Codable: encoding after `record` and decoding later continues identically.
public struct MetaAgent<P: SelectionPolicy>: Codable, Sendable {
    public var config: MetaAgentConfig
    public var learners: [P]
    public var performance: MetaPerformance
    public var regret: MetaRegret
    /// The applied (ramped) weight of each agent.
    public private(set) var weights: [Double]
    var previousWeights: [Double]
    var desired: [Double]
    var lastTargets: [Double]
    var scaled: [Double]
    var posterior: [Double]
    public private(set) var lead = -1
    var candidate = -1
    var candidateCount = 0
    var learnerIndex = 0
    /// The regime of the decision before the last one, when it differs from the last one's.
    var regimeChangedFrom: Regime?
    public private(set) var decisions = 0
    public private(set) var switches = 0
    public private(set) var switchingCost = 0.0
    public private(set) var lastDecision: MetaDecision?
    var awaitingRecord = false

    public var agentCount: Int { config.agentNames.count }

    /// `makeLearner(r)` builds the learner of regime r (r = 0 only, when not per regime); give
    /// each its own seed.
    public init(config: MetaAgentConfig, makeLearner: (Int) -> P) {
        self.config = config
        let k = config.agentNames.count
        let n = config.perRegimeLearners ? MetaPerformance.regimes : 1
        learners = (0..<n).map(makeLearner)
        precondition(learners.allSatisfy { $0.armCount == k }, "each learner needs one arm per agent")
        performance = MetaPerformance(agents: k + 1, window: config.rollingWindow)
        regret = MetaRegret(agents: k)
        weights = Array(repeating: 0, count: k)
        previousWeights = weights
        desired = weights
        lastTargets = weights
        scaled = weights
        posterior = Array(repeating: 0.25, count: MetaPerformance.regimes)
    }

    /// Chooses the position for this step from the regime posterior and each agent's target
    /// position (`targets.count == K`). Allocation-free.
    public mutating func decide(regime p: RegimeProbabilities, targets: [Double]) -> MetaDecision {
        precondition(targets.count == agentCount, "one target per agent")
        precondition(!awaitingRecord, "record(shadowReturns:) must follow each decide")
        let k = agentCount
        for r in 0..<MetaPerformance.regimes { posterior[r] = p[index: r] }
        for i in 0..<k { lastTargets[i] = targets[i] }
        let regime = p.argmax
        if let last = lastDecision, last.regime != regime { regimeChangedFrom = last.regime } else { regimeChangedFrom = nil }
        learnerIndex = config.perRegimeLearners ? regime.rawValue : 0
        let proposed = learners[learnerIndex].select()

        let previous = lead
        let reason: MetaReason
        if lead < 0 {
            lead = proposed
            reason = .initial
        } else if proposed == lead {
            candidate = -1
            candidateCount = 0
            reason = .held
        } else {
            if proposed == candidate { candidateCount += 1 } else { candidate = proposed; candidateCount = 1 }
            if candidateCount >= config.minDwell {
                lead = proposed
                candidate = -1
                candidateCount = 0
                switches += 1
                reason = .switched
            } else {
                reason = .pending
            }
        }

        // Desired weights: one-hot on the lead, or the rule's probabilities.
        var total = 0.0
        for i in 0..<k {
            let w = config.mode == .select ? (i == lead ? 1 : 0) : max(learners[learnerIndex].score(i).probability, 0)
            desired[i] = w
            total += w
        }
        if total > 0 { for i in 0..<k { desired[i] /= total } } else { for i in 0..<k { desired[i] = i == lead ? 1 : 0 } }

        // Ramp: move along the straight line to the desired weights, at most 1/N per weight per
        // step, so a full switch (one weight 1 → 0, another 0 → 1) takes exactly N steps and
        // the weights stay a convex combination (sum 1).
        var cost = 0.0
        if previous < 0 {
            for i in 0..<k { weights[i] = desired[i]; previousWeights[i] = desired[i] }
        } else {
            var maxDiff = 0.0
            for i in 0..<k {
                previousWeights[i] = weights[i]
                maxDiff = max(maxDiff, abs(desired[i] - weights[i]))
            }
            let lambda = maxDiff > 0 ? min(1, 1 / (Double(config.transitionSteps) * maxDiff)) : 1
            var dPos = 0.0
            for i in 0..<k {
                let w = weights[i] + lambda * (desired[i] - weights[i])
                dPos += (w - weights[i]) * targets[i]
                weights[i] = w
            }
            cost = config.switchingCostRate * abs(dPos)
        }
        switchingCost += cost
        var position = 0.0
        for i in 0..<k { position += weights[i] * targets[i] }

        let d = MetaDecision(
            step: decisions, position: position, lead: lead, proposed: proposed, previousLead: previous,
            reason: reason, regime: regime, confidence: p[regime], pendingCount: candidateCount, switchingCost: cost)
        decisions += 1
        lastDecision = d
        awaitingRecord = true
        return d
    }

    /// Feeds each agent's realised shadow return for the step just decided (`returns.count == K`):
    /// updates performance, regret and the learners. Allocation-free.
    public mutating func record(shadowReturns returns: [Double]) {
        precondition(returns.count == agentCount, "one return per agent")
        precondition(awaitingRecord, "record(shadowReturns:) follows decide")
        awaitingRecord = false
        guard let d = lastDecision else { return }
        let k = agentCount
        let r = d.regime.rawValue
        var ensemble = -d.switchingCost
        for i in 0..<k { ensemble += weights[i] * returns[i] }
        performance.record(regime: r) { i in i < k ? returns[i] : ensemble }
        regret.record(regime: r, ensemble: ensemble) { returns[$0] }

        let s = 0.5 / config.rewardScale
        for i in 0..<k { scaled[i] = min(max(0.5 + returns[i] * s, 0), 1) }
        // A local copy (a retain, not a copy of the storage) so the learners can be mutated while
        // the buffer is read; it is released before `scaled` is written again.
        let rewards = scaled
        rewards.withUnsafeBufferPointer { buf in
            for l in 0..<learners.count {
                let w = config.perRegimeLearners ? posterior[l] : 1
                if w < config.minUpdateWeight { continue }
                learners[l].learn(chosen: d.lead, rewards: buf, weight: w)
            }
        }
    }

    /// Writes the whole state as JSON (atomically), so a restarted process continues from it.
    public func save(toPath path: String) throws {
        try MetaExplanationLog.encoder().encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Restores a state written by `save(toPath:)`.
    public init(contentsOfFile path: String) throws {
        self = try MetaExplanationLog.decoder().decode(Self.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The explanation of the last decision (and, after `record`, of the learning it caused).
    /// Allocates: call it at the logging rate, not per tick.
    public func explanation() -> MetaExplanation? {
        guard let d = lastDecision else { return nil }
        let names = config.agentNames
        let learner = learners[learnerIndex]
        let arms = (0..<agentCount).map { i in
            let s = learner.score(i)
            return MetaExplanation.Arm(
                name: names[i], mean: s.mean, bonus: s.bonus, index: s.index, probability: s.probability,
                weight: weights[i], target: lastTargets[i], pulls: s.pulls,
                rollingReturn: performance.rollingReturn(i), sharpeInRegime: performance.sharpe(i, regime: d.regime.rawValue),
                drawdown: performance.drawdown(i))
        }
        let leadName = names[d.lead]
        let proposedName = names[d.proposed]
        var why: String
        switch d.reason {
        case .initial:
            why = "first decision: \(P.name) chose \(leadName)"
        case .held:
            why = "held \(leadName): \(P.name) chose it again"
        case .pending:
            why = "held \(leadName): \(P.name) prefers \(proposedName) (\(d.pendingCount)/\(config.minDwell) consecutive; hysteresis)"
        case .switched:
            why = "switched \(names[d.previousLead]) -> \(leadName): \(P.name) chose it on \(config.minDwell) consecutive decisions; ramp over \(config.transitionSteps) steps"
        }
        var ramping = false
        for i in 0..<agentCount where abs(weights[i] - desired[i]) > 1e-12 { ramping = true }
        if ramping { why += "; ramping weights" }
        if let pr = regimeChangedFrom {
            why += "; regime changed \(pr) -> \(d.regime), \(d.regime) learner decides"
        }
        return MetaExplanation(
            step: d.step, regime: d.regime.description, confidence: d.confidence, posterior: posterior,
            rule: P.name, mode: config.mode.rawValue, learner: config.perRegimeLearners ? d.regime.description : "pooled",
            arms: arms, proposed: proposedName, lead: leadName,
            previousLead: d.previousLead >= 0 ? names[d.previousLead] : nil,
            reason: d.reason.rawValue, why: why, position: d.position, switches: switches,
            switchingCost: switchingCost, regretVsBestAgent: regret.vsBestAgent,
            regretVsBestPerRegime: regret.vsBestPerRegime)
    }
}

/// A decision explained: a structured value (Codable, one JSON object per line in the log) and
/// one readable line.
public struct MetaExplanation: Codable, Sendable, Hashable {
    public struct Arm: Codable, Sendable, Hashable {
        public var name: String
        public var mean: Double
        public var bonus: Double
        public var index: Double
        public var probability: Double
        public var weight: Double
        public var target: Double
        public var pulls: Double
        public var rollingReturn: Double
        public var sharpeInRegime: Double
        public var drawdown: Double
    }
    public var step: Int
    public var regime: String
    public var confidence: Double
    public var posterior: [Double]
    public var rule: String
    public var mode: String
    public var learner: String
    public var arms: [Arm]
    public var proposed: String
    public var lead: String
    public var previousLead: String?
    public var reason: String
    public var why: String
    public var position: Double
    public var switches: Int
    public var switchingCost: Double
    public var regretVsBestAgent: Double
    public var regretVsBestPerRegime: Double

    /// One readable line: regime and confidence, each arm's score, the rule and why.
    public var line: String {
        func f(_ x: Double, _ d: Int = 3) -> String { String(format: "%.\(d)f", x) }
        let weightRule = rule.hasPrefix("exp3") || rule == "rexp3" || rule == "hedge"
        let sampleRule = rule.contains("thompson")
        let armText = arms.map { a -> String in
            if weightRule { return "\(a.name) p=\(f(a.probability)) w=\(f(a.weight, 2))" }
            if sampleRule { return "\(a.name) mean=\(f(a.mean)) sample=\(f(a.index)) w=\(f(a.weight, 2))" }
            return "\(a.name) mean=\(f(a.mean)) bonus=\(a.bonus.isFinite ? f(a.bonus) : "inf") w=\(f(a.weight, 2))"
        }.joined(separator: " | ")
        let pos = String(format: "%+.3f", position)
        return "t=\(step) regime=\(regime) (\(f(confidence, 2))) rule=\(rule)/\(mode) [\(armText)] -> \(lead) pos=\(pos); \(why)"
    }
}
