// The one composition root: every way of running Kairos (the demo, `kairos run`, `demo --wire`,
// backtests, the evaluation commands, the benchmarks) builds its engine here. They differ only in
// the clock, the tick source and the venue (NautilusTrader's rule: one kernel for research, paper
// and live trading).
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import Foundation
import Logging

/// The policy a configuration names: a concrete struct (no existential, no enum copies on the hot
/// path) holding exactly one of the baselines or the ensemble; `decide` mutates it in place.
public struct ConfiguredPolicy: DecisionPolicy, Sendable {
    public let kind: KairosConfig.PolicyKind
    var sma: SMACrossoverPolicy?
    var buyAndHold: BuyAndHoldPolicy?
    var ensemble: (any DecisionPolicy & Sendable)?
    var metaStatePath: String?
    /// The regime model the data stage filters with for the baselines (`policy.regimeModel` set):
    /// the ensemble brings its own.
    let regimeModel: GaussianHMMModel?

    /// Loads the policy `p` names (the ensemble's agent and regime models from disk). Throws a
    /// `ConfigError` when a model file is missing or unusable.
    public init(_ p: KairosConfig.Policy, instruments: Int) throws {
        kind = try p.resolvedKind()
        switch kind {
        case .ensemble:
            var agents = try AgentEnsemble.loadAgents(directory: p.models)
            if let wanted = p.agents {
                agents = agents.filter { a in wanted.contains { $0.name == a.metadata.agentKind } }
                let found = Set(agents.map(\.metadata.agentKind))
                for k in wanted where !found.contains(k.name) {
                    throw ConfigError(message: "policy.agents names \(k), but \(p.models) has no \(k.name).safetensors")
                }
            }
            let regime = try GaussianHMMModel.load(path: p.regimeModelPath)
            var c = AgentEnsembleConfig()
            c.ticksPerBar = p.ticksPerBar
            c.warmupBars = p.warmupBars
            c.meta.mode = p.metaMode
            c.explanationLog = p.explainLog
            c.explainEvery = p.explainEvery
            let e = try AgentEnsemble.make(rule: p.meta, agents: agents, regimeModel: regime, instruments: instruments, config: c)
            if let path = p.metaState, FileManager.default.fileExists(atPath: path),
               let persisting = e as? any EnsembleStatePersisting {
                try persisting.loadState(fromPath: path)
            }
            ensemble = e
            metaStatePath = p.metaState
            regimeModel = nil
        case .buyhold:
            buyAndHold = BuyAndHoldPolicy(instruments: instruments)
            regimeModel = try p.regimeModel.map { try GaussianHMMModel.load(path: $0) }
        case .sma:
            let bars: BarRule = p.barSeconds > 0 ? .interval(ns: Int64(p.barSeconds * 1e9)) : .ticks(1)
            sma = SMACrossoverPolicy(instruments: instruments, fast: p.fast, slow: p.slow, allowShort: p.allowShort, bars: bars)
            regimeModel = try p.regimeModel.map { try GaussianHMMModel.load(path: $0) }
        }
    }

    /// Writes the ensemble's state to `policy.metaState` (no-op for other policies or without a
    /// path). Call after the engine has stopped.
    public func saveState() throws {
        guard let path = metaStatePath, let persisting = ensemble as? any EnsembleStatePersisting else { return }
        try persisting.saveState(toPath: path)
    }

    public var name: String { sma?.name ?? buyAndHold?.name ?? ensemble?.name ?? "none" }

    public var dataRequirements: DataRequirements {
        if let ensemble { return ensemble.dataRequirements }
        var r = sma?.dataRequirements ?? DataRequirements()
        r.regimeDetector = regimeModel.map { GaussianHMMFilter(model: $0) }
        return r
    }

    public var maxExposure: Double { ensemble?.maxExposure ?? 1 }

    public mutating func decide(_ context: DecisionContext) -> Double? {
        if ensemble != nil { return ensemble!.decide(context) }
        if sma != nil { return sma!.decide(context) }
        if buyAndHold != nil { return buyAndHold!.decide(context) }
        return nil
    }
}

extension KairosConfig.Policy {
    /// Whether `models` holds what the ensemble needs: every agent it runs (`agents`, or all
    /// four) and the regime model.
    public var ensembleModelsPresent: Bool {
        let fm = FileManager.default
        let kinds = agents ?? AgentKind.allCases
        return kinds.allSatisfy { fm.fileExists(atPath: models + "/\($0.name).safetensors") } && fm.fileExists(atPath: regimeModelPath)
    }

    /// The kind to run: the configured one, or (none configured) the ensemble when its models are
    /// present, else SMA.
    public func resolvedKind() throws -> KairosConfig.PolicyKind {
        if let kind { return kind }
        return ensembleModelsPresent ? .ensemble : .sma
    }
}

/// The three rings between the engine and the outside, with their capacities. `makeEngine` claims
/// the engine's sides (consumer of `inbound` and `executions`, producer of `outbound`); whoever
/// drives the far ends claims the other sides (`inbound.claimProducer()`, ...).
public struct EngineRings: Sendable {
    public let inbound: SPSCRing<Tick>
    public let outbound: SPSCRing<Order>
    public let executions: SPSCRing<ExecutionReport>
    public init(inbound: Int = 65_536, outbound: Int = 4096, executions: Int = 16_384) {
        self.inbound = SPSCRing<Tick>(capacity: inbound)
        self.outbound = SPSCRing<Order>(capacity: outbound)
        self.executions = SPSCRing<ExecutionReport>(capacity: executions)
    }
}

/// Builds engines from a configuration.
///
/// What it decides, once for every way of running: the instruments, the capital, the features,
/// the risk limits (scaled to the policy's exposure cap unless the file sets them), stale-feed
/// detection (live only) and the policy with the data its data stage must compute. What the
/// caller brings: the clock (wall, monotonic or simulated), the rings' far ends (an ingest, a
/// market thread or a backtest loop; an order router or a paper venue).
public struct EngineBuilder: Sendable {
    public let config: KairosConfig

    public init(config: KairosConfig) throws {
        try config.validate()
        self.config = config
    }

    /// The configured policy, loaded.
    public func makePolicy() throws -> ConfiguredPolicy {
        try ConfiguredPolicy(config.policy, instruments: config.instruments.count)
    }

    /// The engine configuration for a policy asking up to `maxExposure`; `liveFeed` turns on
    /// stale-feed halts (a live feed's silence means something; a replay's does not).
    public func engineConfig(maxExposure: Double, liveFeed: Bool) -> EngineConfig {
        var c = EngineConfig(
            instruments: config.instrumentList, capitalPerInstrument: config.capitalPerInstrument, features: config.features)
        if var r = config.risk {
            if !config.riskSetsMaxExposure { r.maxExposure = maxExposure }
            c.risk = r
        } else {
            c.risk = .scaled(capitalPerInstrument: config.capitalPerInstrument, instruments: config.instruments.count, maxExposure: maxExposure)
        }
        c.staleAfterNs = liveFeed ? Int64(config.feed.staleAfterSeconds * 1e9) : nil
        return c
    }

    /// An engine running `policy` on `clock`, connected to `rings` (it claims the engine's side of
    /// each, so a set of rings serves one engine). `tune` adjusts the engine
    /// configuration for research runs (e.g. a backtest without a breaker); live runs pass none.
    public func makeEngine<P: DecisionPolicy, C: EngineClock>(
        policy: P, clock: C, rings: EngineRings, liveFeed: Bool, killSwitch: KillSwitch = KillSwitch(),
        monitor: EngineMonitor = EngineMonitor(), logger: Logger = Logger(label: "kairos.engine"),
        tune: (inout EngineConfig) -> Void = { _ in }
    ) throws -> Engine<P, C> {
        var ec = engineConfig(maxExposure: policy.maxExposure, liveFeed: liveFeed)
        tune(&ec)
        return try Engine(
            config: ec, policy: policy, clock: clock, inbound: rings.inbound.claimConsumer(),
            outbound: rings.outbound.claimProducer(), executions: rings.executions.claimConsumer(), killSwitch: killSwitch, monitor: monitor, logger: logger)
    }

    /// An engine for a lockstep backtest (`Backtest.run(engine:source:fills:)`): `policy` on a
    /// `SimulatedClock`, fresh rings of the backtest's capacities, no stale-feed halts.
    public func makeBacktestEngine<P: DecisionPolicy>(
        policy: P, tune: (inout EngineConfig) -> Void = { _ in }
    ) throws -> Engine<P, SimulatedClock> {
        let caps = Backtest.ringCapacities
        return try makeEngine(
            policy: policy, clock: SimulatedClock(),
            rings: EngineRings(inbound: caps.inbound, outbound: caps.outbound, executions: caps.executions),
            liveFeed: false, tune: tune)
    }

    /// An engine running the configured policy.
    public func makeEngine<C: EngineClock>(
        clock: C, rings: EngineRings, liveFeed: Bool, killSwitch: KillSwitch = KillSwitch(),
        monitor: EngineMonitor = EngineMonitor(), logger: Logger = Logger(label: "kairos.engine"),
        tune: (inout EngineConfig) -> Void = { _ in }
    ) throws -> Engine<ConfiguredPolicy, C> {
        try makeEngine(
            policy: try makePolicy(), clock: clock, rings: rings, liveFeed: liveFeed, killSwitch: killSwitch,
            monitor: monitor, logger: logger, tune: tune)
    }
}
