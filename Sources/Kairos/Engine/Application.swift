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
    public let ingest: ZMQTickIngest
    public let router: OrderRouter
    public let cache: FeatureCacheWriter?
    public let group: ServiceGroup

    init(
        config: KairosConfig, engine: Engine<ConfiguredPolicy, WallClock>, ingest: ZMQTickIngest, router: OrderRouter,
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

/// Builds the live engine from a configuration. `signals`: handle SIGINT/SIGTERM (the CLI) or not
/// (tests).
public func buildApplication(config: KairosConfig, logger: Logger, handleSignals: Bool = true) throws -> KairosApplication {
    try config.validate()
    let ec = config.engineConfig
    let n = ec.instruments.count
    let inbound = SPSCRing<Tick>(capacity: config.ringCapacity)
    let outbound = SPSCRing<Order>(capacity: 4096)
    let executions = SPSCRing<ExecutionReport>(capacity: 16_384)
    let engine = try Engine(
        config: ec, policy: ConfiguredPolicy(config.policy, instruments: n), clock: WallClock(),
        inbound: inbound, outbound: outbound, executions: executions, logger: logger)

    for endpoint in config.feed.endpoints + [config.orders.gateway] where !ZMQFeedConfig.isLoopback(endpoint) {
        logger.warning("endpoint is not on loopback and no CURVE keys are configured", metadata: ["endpoint": "\(endpoint)"])
    }
    var feed = ZMQFeedConfig(
        endpoints: config.feed.endpoints, topics: config.feed.topics,
        symbols: ec.instruments.map { ($0.symbol, $0.id) })
    feed.pollTimeoutMilliseconds = 50
    let ingest = try ZMQTickIngest(ring: inbound, config: feed)

    var rc = OrderRouterConfig()
    rc.endpoint = config.orders.gateway
    rc.ackTimeoutNs = Int64(config.orders.ackTimeoutMs) * 1_000_000
    let router = try OrderRouter(config: rc, outbound: outbound, executions: executions)

    var cache: FeatureCacheWriter? = nil
    if let r = config.redis {
        let ring = SPSCRing<FeatureSnapshot>(capacity: 8192)
        var cc = FeatureCacheConfig(host: r.host, port: UInt16(r.port))
        cc.ttlSeconds = UInt32(r.ttlSeconds)
        cc.flushIntervalNs = Int64(r.flushIntervalMs) * 1_000_000
        cache = FeatureCacheWriter(ring: ring, symbols: config.instruments, config: cc, logger: logger)
        engine.snapshots = FeatureSnapshotPublisher(ring: ring, instrumentCount: n)
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
