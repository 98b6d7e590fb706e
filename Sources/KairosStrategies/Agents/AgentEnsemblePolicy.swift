// The regime-aware ensemble inside the engine: per instrument, on each bar the engine's data stage
// closes (the same bars the agents were trained on), with the bar features and the regime estimate
// the data stage computed, the four trained agents each propose a target position from their own
// shadow book, and the meta-agent picks or blends them per regime, learning from every agent's
// shadow return. docs/agents.md, docs/meta.md.
import KairosCore
import Foundation

/// Settings of `AgentEnsemblePolicy` that are not in the model files.
public struct AgentEnsembleConfig: Sendable {
    /// Ticks of one instrument per bar (1 for the synthetic market: one model step per tick, the
    /// bars `BarAggregator.synthetic` makes for training). The engine's data stage closes the
    /// bars (`dataRequirements`).
    public var ticksPerBar = 1
    /// Trading costs charged to the agents' shadow books per unit of position change (as in
    /// training), so the meta-agent compares agents net of their turnover.
    public var costs = TradingCosts()
    /// Bars before the first decision (feature warm-up); the policy holds until then.
    public var warmupBars = 50
    /// The meta-agent's settings; `agentNames` is replaced by the loaded agents' kinds.
    public var meta = MetaAgentConfig(agentNames: AgentKind.allCases.map(\.name), mode: .blend)
    /// Seed of the meta-agent's learners (instrument i uses seed + i).
    public var seed: UInt64 = 1
    /// Append the meta-agent's explanation of one decision in `explainEvery` (all instruments
    /// together) to this JSONL file (`kairos meta explain --log FILE` prints them); nil = none.
    public var explanationLog: String? = nil
    public var explainEvery = 1_000
    public init() {}
}

/// Per-instrument agents + regime + meta-agent as a `DecisionPolicy`.
///
/// ## Implementation Notes
/// - Bars, bar features and the regime estimate come from the engine's data stage
///   (`DecisionContext.bar`, `.barFeatures`, `.regime`), configured by `dataRequirements`: the
///   bar rule, the agents' feature configuration and the regime model. Per closed bar and
///   instrument the policy itself runs four MLP forwards (AVX2, ~0.3 µs each) and one meta-agent
///   decision; ticks that close no bar return at once. Nothing allocates after `init`: observation, targets and
///   returns live in buffers sized at init; `MetaAgent.decide/record` take them by reference.
/// - Shadow books: each agent keeps its own position and entry price per instrument, exactly as in
///   its training environment (the observation carries that agent's position and unrealized PnL),
///   whatever the ensemble actually trades. The shadow return of agent k over bar t is
///   pos_k · (close_t / close_{t-1} − 1) − costRate · |Δpos_k at t−1|; the meta-agent records the
///   row, then decides for the next bar.
/// - Time: the bar that closes on this tick is known at this tick, so the decision is made at the
///   close price, as in training (no bar of delay).
///
/// `@unchecked Sendable`: the engine hands its policy to the engine thread at start and calls it
/// only there; the loaded agents (`AgentPolicy`: MLP scratch) and the observers are never shared.
public final class AgentEnsemblePolicy<P: SelectionPolicy>: DecisionPolicy, @unchecked Sendable {
    public let agents: [AgentPolicy]
    public let kinds: [AgentKind]
    public let config: AgentEnsembleConfig
    public let regimeModel: GaussianHMMModel

    /// One instrument's state. A class: the per-bar path mutates many fields in place, and an
    /// array of structs generic over `P` would copy the whole state (retaining every array) on
    /// each access.
    final class InstrumentState {
        /// The agents' market observation (normalised bar features), shared by the four agents.
        var observation = AgentObservationBuilder()
        var meta: MetaAgent<P>
        var positions: [Double]
        var entries: [Double]
        var turnover: [Double]
        var lastClose = 0.0
        var awaitingRecord = false

        init(meta: MetaAgent<P>, positions: [Double], entries: [Double], turnover: [Double]) {
            self.meta = meta
            self.positions = positions
            self.entries = entries
            self.turnover = turnover
        }
    }

    let states: [InstrumentState]
    private var observation: [Float]
    private var targets: [Double]
    private var returns: [Double]
    /// Bars decided on, over all instruments.
    public private(set) var decisions: UInt64 = 0
    private var explanationSink: MetaExplanationLog?
    /// Explanations the log could not write (disk full...): counted, never fatal to trading.
    public private(set) var explanationLogErrors: UInt64 = 0

    public var name: String { "ensemble(\(P.name))" }

    /// - Parameters:
    ///   - agents: the loaded agents, their kinds read from the model metadata (`agentKind`).
    ///   - makeLearner: the selection rule of one learner (`armCount` = agents.count, seed).
    public init(
        agents: [AgentPolicy], regimeModel: GaussianHMMModel, instruments: Int, config: AgentEnsembleConfig = .init(),
        makeLearner: (_ armCount: Int, _ seed: UInt64) -> P
    ) throws {
        precondition(!agents.isEmpty && instruments >= 1)
        var kinds: [AgentKind] = []
        for a in agents {
            guard let k = AgentKind(rawValue: a.metadata.agentKind) else {
                throw ConfigError(message: "model agent kind '\(a.metadata.agentKind)' is not one of \(AgentKind.allCases)")
            }
            guard a.observationSize == AgentObservation.size, a.actionCount == AgentKind.actionCount else {
                throw ConfigError(message: "model \(k) expects \(a.observationSize) inputs / \(a.actionCount) actions, not \(AgentObservation.size) / \(AgentKind.actionCount)")
            }
            kinds.append(k)
        }
        self.agents = agents
        self.kinds = kinds
        self.config = config
        self.regimeModel = regimeModel
        var metaConfig = config.meta
        metaConfig.agentNames = kinds.map(\.name)
        let k = agents.count
        states = (0..<instruments).map { i in
            let learners = MetaAgent<P>(config: metaConfig) { r in makeLearner(k, config.seed &+ UInt64(i) &* 31 &+ UInt64(r)) }
            return InstrumentState(
                meta: learners,
                positions: [Double](repeating: 0, count: k), entries: [Double](repeating: 0, count: k),
                turnover: [Double](repeating: 0, count: k))
        }
        observation = [Float](repeating: 0, count: AgentObservation.size)
        targets = [Double](repeating: 0, count: k)
        returns = [Double](repeating: 0, count: k)
        explanationSink = config.explanationLog.map { MetaExplanationLog(path: $0, every: max(1, config.explainEvery)) }
    }

    /// The meta-agent of one instrument (explanations, regret, performance).
    public func metaAgent(instrument i: Int) -> MetaAgent<P> { states[i].meta }
    /// What the engine's data stage must compute for this policy: its bars, the agents' bar
    /// features and the regime model's filter.
    public var dataRequirements: DataRequirements {
        DataRequirements(
            bars: .ticks(config.ticksPerBar), barFeatures: AgentObservation.featureConfig,
            regimeDetector: GaussianHMMFilter(model: regimeModel))
    }

    /// The largest |exposure| the agents ask for (`AgentKind.leverageCap`): the ensemble's
    /// exposure cap in the risk stage (2 with the aggressive agent).
    public var maxExposure: Double { kinds.map(\.leverageCap).max() ?? 1 }
    /// Agent k's shadow position on instrument i.
    public func shadowPosition(instrument i: Int, agent k: Int) -> Double { states[i].positions[k] }

    public func decide(_ context: DecisionContext) -> Double? {
        let i = context.instrument.index
        guard i < states.count, let bar = context.bar else { return nil }
        return onBar(states[i], bar, features: context.barFeatures, regime: context.regime)
    }

    /// One closed bar of an instrument: the target exposure, or nil while warming up.
    func onBar(_ st: InstrumentState, _ bar: Bar, features: FeatureVector, regime: RegimeEstimate?) -> Double? {
        let k = agents.count
        st.observation.update(features: features)
        // The step decided at the previous bar is over: every agent's shadow return.
        if st.awaitingRecord {
            let r = st.lastClose > 0 ? bar.close / st.lastClose - 1 : 0
            let rate = config.costs.rate
            for a in 0..<k { returns[a] = st.positions[a] * r - rate * st.turnover[a] }
            st.meta.record(shadowReturns: returns)
            st.awaitingRecord = false
        }
        st.lastClose = bar.close
        guard st.observation.bars >= config.warmupBars, let estimate = regime else { return nil }

        observation.withUnsafeMutableBufferPointer { obs in
            for a in 0..<k {
                let pos = st.positions[a]
                let u = AgentObservation.unrealizedPnLBps(position: pos, entryPrice: st.entries[a], price: bar.close)
                st.observation.write(position: pos, unrealizedPnLBps: u, into: obs)
                let action = agents[a].act(UnsafeBufferPointer(obs))
                let target = kinds[a].targetPosition(action: Int32(action))
                st.turnover[a] = abs(target - pos)
                if target != pos { st.entries[a] = target == 0 ? 0 : bar.close }
                st.positions[a] = target
                targets[a] = target
            }
        }
        let d = st.meta.decide(regime: estimate.probabilities, targets: targets)
        st.awaitingRecord = true
        decisions &+= 1
        if explanationSink != nil {
            // At the configured rate only: building an explanation allocates.
            do { _ = try explanationSink!.offer(st.meta.explanation()) } catch { explanationLogErrors &+= 1 }
        }
        return d.position
    }
}

/// What survives a restart of an ensemble: per instrument, the meta-agent (learners, performance,
/// regret, weights) and the agents' shadow books. Features and the regime filter warm up again.
public struct AgentEnsembleState<P: SelectionPolicy>: Codable, Sendable {
    public struct Instrument: Codable, Sendable {
        public var meta: MetaAgent<P>
        public var positions: [Double]
        public var entries: [Double]
        public var turnover: [Double]
        public var lastClose: Double
        public var awaitingRecord: Bool
    }
    public var rule: String
    public var agents: [String]
    public var instruments: [Instrument]
}

/// The rule and agents a saved state is for (read before the whole state).
struct AgentEnsembleStateHeader: Decodable {
    var rule: String
    var agents: [String]
}

/// Type-erased save/restore of an ensemble's state (`ConfiguredPolicy` holds the ensemble as
/// `any DecisionPolicy`).
public protocol EnsembleStatePersisting: AnyObject {
    func saveState(toPath path: String) throws
    func loadState(fromPath path: String) throws
}

extension AgentEnsemblePolicy: EnsembleStatePersisting {
    /// Writes the state as JSON (the non-finite-aware coder: unexplored arms have infinite
    /// scores). Call when the engine thread is not running the policy (after stop).
    public func saveState(toPath path: String) throws {
        let s = AgentEnsembleState<P>(
            rule: P.name, agents: kinds.map(\.name),
            instruments: states.map {
                .init(meta: $0.meta, positions: $0.positions, entries: $0.entries, turnover: $0.turnover, lastClose: $0.lastClose,
                      awaitingRecord: $0.awaitingRecord)
            })
        let data = try MetaExplanationLog.encoder().encode(s)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Restores a state saved by `saveState` for the same rule, agents and instrument count
    /// (before the engine starts).
    public func loadState(fromPath path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        // The header first, so a state of another rule or other agents is refused by name rather
        // than by a decoding error deep inside a learner.
        let h = try JSONDecoder().decode(AgentEnsembleStateHeader.self, from: data)
        guard h.rule == P.name, h.agents == kinds.map(\.name) else {
            throw ConfigError(message: "\(path): saved for rule \(h.rule) with agents \(h.agents); this ensemble is \(P.name) with \(kinds.map(\.name))")
        }
        let s = try MetaExplanationLog.decoder().decode(AgentEnsembleState<P>.self, from: data)
        guard s.instruments.count == states.count else {
            throw ConfigError(message: "\(path): saved for rule \(s.rule), agents \(s.agents), \(s.instruments.count) instruments; this ensemble is \(P.name), \(kinds.map(\.name)), \(states.count)")
        }
        for (i, x) in s.instruments.enumerated() {
            guard x.positions.count == agents.count, x.entries.count == agents.count, x.turnover.count == agents.count,
                  x.meta.agentCount == agents.count, x.meta.awaitingRecord == x.awaitingRecord
            else { throw ConfigError(message: "\(path): inconsistent state for instrument \(i)") }
            states[i].meta = x.meta
            states[i].positions = x.positions
            states[i].entries = x.entries
            states[i].turnover = x.turnover
            states[i].lastClose = x.lastClose
            states[i].awaitingRecord = x.awaitingRecord
        }
    }
}

/// Building the ensemble from files: `<models>/<kind>.safetensors` for each agent kind and a
/// regime model JSON (`kairos regimes fit`).
public enum AgentEnsemble {
    /// Loads every `<directory>/<kind>.safetensors` that exists, in `AgentKind` order. Throws when
    /// none does.
    public static func loadAgents(directory: String) throws -> [AgentPolicy] {
        var agents: [AgentPolicy] = []
        for kind in AgentKind.allCases {
            let url = URL(fileURLWithPath: directory).appendingPathComponent("\(kind.name).safetensors")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let a = try AgentModel.loadPolicy(contentsOf: url)
            guard a.metadata.agentKind == kind.name else {
                throw ConfigError(message: "\(url.path) holds a '\(a.metadata.agentKind)' agent, not \(kind.name)")
            }
            agents.append(a)
        }
        guard !agents.isEmpty else { throw ConfigError(message: "no agent models (<kind>.safetensors) in \(directory)") }
        return agents
    }

    /// An ensemble with the meta-agent rule `rule` (Hedge by default: the engine observes every
    /// agent's shadow return, so full-information experts apply).
    public static func make(
        rule: SelectionPolicyKind, agents: [AgentPolicy], regimeModel: GaussianHMMModel, instruments: Int,
        config: AgentEnsembleConfig = .init(), horizon: Int = 100_000
    ) throws -> any DecisionPolicy & Sendable {
        try open(rule.make(armCount: agents.count, seed: config.seed, horizon: horizon), rule: rule, agents: agents,
                 regimeModel: regimeModel, instruments: instruments, config: config, horizon: horizon)
    }

    private static func open<Q: SelectionPolicy>(
        _ prototype: Q, rule: SelectionPolicyKind, agents: [AgentPolicy], regimeModel: GaussianHMMModel, instruments: Int,
        config: AgentEnsembleConfig, horizon: Int
    ) throws -> any DecisionPolicy & Sendable {
        try AgentEnsemblePolicy<Q>(agents: agents, regimeModel: regimeModel, instruments: instruments, config: config) { k, seed in
            // `make` returns the same concrete type for the same rule.
            rule.make(armCount: k, seed: seed, horizon: horizon) as! Q
        }
    }
}

/// Switch counts of an ensemble across its instruments (type-erased for reports).
public protocol MetaStatistics {
    var totalSwitches: Int { get }
    /// Σ over instruments of the meta-agent's counted switching cost (fraction of notional).
    var totalSwitchingCost: Double { get }
}

extension AgentEnsemblePolicy: MetaStatistics {
    public var totalSwitches: Int { states.reduce(0) { $0 + $1.meta.switches } }
    public var totalSwitchingCost: Double { states.reduce(0) { $0 + $1.meta.switchingCost } }
}
