import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import Foundation
import Logging
import ServiceLifecycle

/// Wraps a thread-owning component (ingest, order router, gateway, feature-cache writer) as a
/// swift-service-lifecycle `Service`: `start` is called when the group runs it, `stop` (which must
/// join the component's thread) on graceful shutdown or cancellation.
public struct ComponentService: Service {
    public let name: String
    private let start: @Sendable () throws -> Void
    private let stop: @Sendable () -> Void
    private let logger: Logger

    public init(
        name: String, logger: Logger = Logger(label: "kairos.service"), start: @escaping @Sendable () throws -> Void,
        stop: @escaping @Sendable () -> Void
    ) {
        self.name = name
        self.start = start
        self.stop = stop
        self.logger = logger
    }

    public func run() async throws {
        try start()
        logger.info("started", metadata: ["service": "\(name)"])
        try? await gracefulShutdown()
        stop()
        logger.info("stopped", metadata: ["service": "\(name)"])
    }
}

/// The policy a configuration names: a concrete struct (no existential, no enum copies on the hot
/// path) holding exactly one of the baselines; `decide` mutates it in place.
public struct ConfiguredPolicy: DecisionPolicy, Sendable {
    var sma: BarSampledPolicy<SMACrossoverPolicy>?
    var buyAndHold: BuyAndHoldPolicy?
    var ensemble: (any DecisionPolicy & Sendable)?
    var metaStatePath: String?

    /// Writes the ensemble's state to `policy.metaState` (no-op for other policies or without a
    /// path). Call after the engine has stopped.
    public func saveState() throws {
        guard let path = metaStatePath, let persisting = ensemble as? any EnsembleStatePersisting else { return }
        try persisting.saveState(toPath: path)
    }

    /// Throws when the ensemble's model files cannot be loaded.
    public init(_ p: KairosConfig.Policy, instruments: Int) throws {
        if p.kind == "ensemble" {
            let agents = try AgentEnsemble.loadAgents(directory: p.models)
            let regime = try GaussianHMMModel.load(path: p.regimeModelPath)
            var c = AgentEnsembleConfig()
            c.ticksPerBar = p.ticksPerBar
            c.warmupBars = p.warmupBars
            c.meta.mode = MetaOutputMode(rawValue: p.metaMode) ?? .blend
            c.explanationLog = p.explainLog
            c.explainEvery = p.explainEvery
            ensemble = try AgentEnsemble.make(
                rule: SelectionPolicyKind(rawValue: p.meta) ?? .hedge, agents: agents, regimeModel: regime,
                instruments: instruments, config: c)
            if let path = p.metaState, FileManager.default.fileExists(atPath: path),
               let persisting = ensemble as? any EnsembleStatePersisting {
                try persisting.loadState(fromPath: path)
            }
            metaStatePath = p.metaState
        } else if p.kind == "buyhold" {
            buyAndHold = BuyAndHoldPolicy(instruments: instruments)
        } else {
            sma = BarSampledPolicy(
                SMACrossoverPolicy(instruments: instruments, fast: p.fast, slow: p.slow, allowShort: p.allowShort),
                barIntervalNs: Int64(p.barSeconds * 1e9), instruments: instruments)
        }
    }

    public var name: String { sma?.name ?? buyAndHold?.name ?? ensemble?.name ?? "none" }

    public mutating func decide(_ context: DecisionContext) -> Double? {
        if ensemble != nil { return ensemble!.decide(context) }
        if sma != nil { return sma!.decide(context) }
        if buyAndHold != nil { return buyAndHold!.decide(context) }
        return nil
    }
}
