import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import Logging
import ServiceLifecycle

/// `kairos run` assembled: ZeroMQ tick ingest → inbound ring → engine → outbound ring → order
/// router (DEALER) → gateway, execution reports back through the executions ring, and optionally
/// the Redis feature cache. Every long-running part is a `Service` in one `ServiceGroup`; graceful
/// shutdown stops them in reverse order: ingest first (no new ticks), then the engine (drains its
/// rings), then the router (answers still in flight reach the engine's ring), then the cache writer.
///
/// Tests build it too (`buildApplication`) and stop it with `group.triggerGracefulShutdown()`.
public final class KairosApplication: Sendable {
    public let config: KairosConfig
    public let engine: Engine<ConfiguredPolicy, WallClock>
    public let ingest: LiveTickIngest
    public let router: OrderRouter
    public let cache: FeatureCacheWriter?
    public let group: ServiceGroup

    init(
        config: KairosConfig, engine: Engine<ConfiguredPolicy, WallClock>, ingest: LiveTickIngest, router: OrderRouter,
        cache: FeatureCacheWriter?, group: ServiceGroup
    ) {
        self.config = config
        self.engine = engine
        self.ingest = ingest
        self.router = router
        self.cache = cache
        self.group = group
    }
}

/// Where `kairos run` gets its ticks: a ZeroMQ SUB, raw UDP through io_uring / epoll, or a
/// recorded file of wire ticks.
public enum LiveTickIngest: Sendable, CustomStringConvertible {
    case zmq(ZMQTickIngest)
    case udp(UDPIngest)
    case file(FileReplay)

    public var zmq: ZMQTickIngest? { if case .zmq(let z) = self { z } else { nil } }
    public var udp: UDPIngest? { if case .udp(let u) = self { u } else { nil } }
    public var file: FileReplay? { if case .file(let f) = self { f } else { nil } }

    public var description: String {
        switch self {
        case .zmq(let z): "zmq \(z.stats)"
        case .udp(let u): "udp/\(u.backend) \(u.stats)"
        case .file(let f): "file/\(f.backend) \(f.stats)"
        }
    }

    func start() {
        switch self {
        case .zmq(let z): z.start()
        case .udp(let u): u.start()
        case .file(let f): f.start()
        }
    }

    func stop() {
        switch self {
        case .zmq(let z): z.stop()
        case .udp(let u): u.stop()
        case .file(let f): f.stop()
        }
    }
}

/// Builds the live engine from a configuration. `signals`: handle SIGINT/SIGTERM (the CLI) or not
/// (tests).
public func buildApplication(config: KairosConfig, logger: Logger, handleSignals: Bool = true) throws -> KairosApplication {
    let builder = try EngineBuilder(config: config)
    let rings = EngineRings(inbound: config.ringCapacity)
    let policy = try builder.makePolicy()
    if config.policy.kind == nil {
        logger.notice(
            "no policy.kind configured: running \(policy.kind)",
            metadata: ["why": "\(policy.kind == .ensemble ? "models present in \(config.policy.models)" : "no ensemble models in \(config.policy.models)")"])
    }
    // The engine's clock is WallClock, so ingest receive stamps are CLOCK_REALTIME too.
    let engine = try builder.makeEngine(policy: policy, clock: WallClock(), rings: rings, liveFeed: config.feed.transport != .file, logger: logger)
    let n = engine.config.instruments.count

    var feedCurve: CurveClient? = nil, ordersCurve: CurveClient? = nil
    if let s = config.security {
        let keys = try CurveKeyPair.load(keyFile: s.keyFile)
        feedCurve = try s.feedServerKey.map { CurveClient(serverPublicKey: try CurveKeyPair.publicKey(fileOrKey: $0), keys: keys) }
        ordersCurve = try s.gatewayServerKey.map { CurveClient(serverPublicKey: try CurveKeyPair.publicKey(fileOrKey: $0), keys: keys) }
    }
    logger.info(
        "zeromq security",
        metadata: [
            "feed": "\(feedCurve == nil ? "plain" : "CURVE")", "orders": "\(ordersCurve == nil ? "plain" : "CURVE")",
            "engine_public_key": "\(feedCurve?.keys.publicKey ?? ordersCurve?.keys.publicKey ?? "none")",
        ])
    for endpoint in config.feed.endpoints where feedCurve == nil && !ZMQFeedConfig.isLoopback(endpoint) {
        logger.warning("feed endpoint is not on loopback and has no CURVE keys", metadata: ["endpoint": "\(endpoint)"])
    }
    if ordersCurve == nil && !ZMQFeedConfig.isLoopback(config.orders.gateway) {
        logger.warning("gateway endpoint is not on loopback and has no CURVE keys", metadata: ["endpoint": "\(config.orders.gateway)"])
    }
    let ingest: LiveTickIngest
    switch config.feed.transport {
    case .udp:
        guard let addr = config.feed.udpAddress else { throw ConfigError(message: "feed.udp is HOST:PORT") }
        // 4 MiB socket buffer (capped by net.core.rmem_max): absorbs scheduling gaps of the ingest
        // thread at 1 M datagrams/s; what still overflows is counted (socketDrops), never silent.
        ingest = .udp(try UDPIngest(
            address: addr.host, port: addr.port, backend: config.feed.io, ring: rings.inbound.claimProducer(), receiveBufferBytes: 4 << 20,
            logger: logger))
    case .file:
        guard let path = config.feed.file else { throw ConfigError(message: "feed.transport file needs feed.file") }
        ingest = .file(try FileReplay(path: path, backend: config.feed.io, ring: rings.inbound.claimProducer()))
    case .zmq:
        var feed = ZMQFeedConfig(
            endpoints: config.feed.endpoints, topics: config.feed.topics,
            symbols: engine.config.instruments.map { ($0.symbol, $0.id) })
        feed.pollTimeoutMilliseconds = 50
        feed.curve = feedCurve
        ingest = .zmq(try ZMQTickIngest(ring: rings.inbound.claimProducer(), config: feed))
    }

    var rc = OrderRouterConfig()
    rc.endpoint = config.orders.gateway
    rc.ackTimeoutNs = Int64(config.orders.ackTimeoutMs) * 1_000_000
    rc.workingTimeoutNs = Int64(config.orders.workingTimeoutMs) * 1_000_000
    rc.curve = ordersCurve
    let router = try OrderRouter(
        config: rc, outbound: rings.outbound.claimConsumer(), executions: rings.executions.claimProducer())

    var cache: FeatureCacheWriter? = nil
    if let r = config.redis {
        let ring = SPSCRing<FeatureSnapshot>(capacity: 8192)
        var cc = FeatureCacheConfig(host: r.host, port: UInt16(r.port))
        cc.ttlSeconds = UInt32(r.ttlSeconds)
        cc.flushIntervalNs = Int64(r.flushIntervalMs) * 1_000_000
        cache = FeatureCacheWriter(ring: ring.claimConsumer(), symbols: config.instruments, config: cc, logger: logger)
        engine.snapshots = FeatureSnapshotPublisher(ring: ring.claimProducer(), instrumentCount: n)
    }

    var services: [any Service] = []
    if let cache {
        services.append(ComponentService(name: "feature-cache", logger: logger, start: { cache.start() }, stop: { cache.stop() }))
    }
    services.append(ComponentService(name: "order-router", logger: logger, start: { router.start() }, stop: { router.stop() }))
    services.append(EngineService(engine: engine, logger: logger))
    services.append(ComponentService(name: "tick-ingest", logger: logger, start: { ingest.start() }, stop: { ingest.stop() }))
    let group = ServiceGroup(
        services: services, gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
        cancellationSignals: [], logger: logger)
    return KairosApplication(config: config, engine: engine, ingest: ingest, router: router, cache: cache, group: group)
}

extension KairosApplication {
    /// Waits until the engine has received `ticks` ticks (counting `uncounted()` too: ticks lost
    /// before the engine, e.g. kernel drops of a UDP feed) and every order it sent has its first
    /// answer (ACK or venue REJECT), or until `timeoutSeconds`. Returns whether it settled.
    /// Polls the engine's published snapshot every 10 ms; for tests, benchmarks and the demo.
    @discardableResult
    public func waitUntilSettled(
        ticks: Int, timeoutSeconds: Double, uncounted: () -> UInt64 = { 0 }
    ) async throws -> Bool {
        let deadline = MonotonicClock.nanoseconds() + Int64(timeoutSeconds * 1e9)
        while MonotonicClock.nanoseconds() < deadline {
            if let s = engine.monitor.snapshot, s.counters.ticksReceived + uncounted() >= UInt64(ticks),
                s.counters.acks + s.counters.venueRejects >= s.counters.ordersSent
            { return true }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        return false
    }
}
