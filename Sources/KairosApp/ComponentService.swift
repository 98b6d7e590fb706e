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
