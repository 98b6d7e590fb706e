import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import Logging
import ServiceLifecycle

/// The engine thread as a swift-service-lifecycle `Service`: `run()` starts the engine loop on its
/// own OS thread (it spins; it must not occupy a cooperative-pool thread), waits for graceful
/// shutdown (SIGINT/SIGTERM through the `ServiceGroup`) or cancellation, then stops the loop, which
/// drains the rings it owns, and joins the thread.
public final class EngineService<Policy: DecisionPolicy, Clock: EngineClock>: Service, @unchecked Sendable {
    // @unchecked Sendable: `engine` is handed to its thread in `run()` and not touched here after;
    // the stop flag is atomic.
    public let engine: Engine<Policy, Clock>
    private let stop = StopFlag()
    private let logger: Logger

    public init(engine: Engine<Policy, Clock>, logger: Logger = Logger(label: "kairos.engine")) {
        self.engine = engine
        self.logger = logger
    }

    public func run() async throws {
        let engine = self.engine
        let stop = self.stop
        let thread = WorkerThread(name: "kairos-engine") { engine.run(until: stop) }
        thread.start()
        logger.info("engine started", metadata: ["policy": "\(engine.policy.name)", "instruments": "\(engine.config.instruments.count)"])
        // Returns on graceful shutdown; throws on cancellation. Either way: stop and join.
        try? await gracefulShutdown()
        stop.set()
        thread.join()
        logger.info("engine stopped", metadata: ["ticks": "\(engine.counters.ticksAccepted)", "orders": "\(engine.counters.ordersSent)"])
    }
}
