import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation
import Logging

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the engine live: ZeroMQ ticks in, orders out to a gateway.",
        discussion: """
            Subscribes to the tick feed (wire format v1, topics tick.<SYMBOL>), runs the engine \
            thread (validation, features, the configured policy, risk) and routes approved orders \
            to a gateway over a ZeroMQ DEALER; acks and fills come back into the engine. With a \
            "redis" section it also writes every instrument's features to Redis. SIGINT/SIGTERM stop \
            it gracefully: ingest first, then the engine drains its rings, then the router.

            Three terminals on one machine:
              kairos gateway                       # paper gateway on tcp://127.0.0.1:5557
              kairos run --config kairos.json      # or no file: 8 symbols SYN0..SYN7
              kairos feed --synthetic demo --rate 100000

            The configuration file is JSON; every field has a default (see docs/architecture.md).
            """)

    @Option(help: "JSON configuration file.") var config: String?
    @Option(help: "Tick feed endpoint to connect to (repeatable; overrides the file).") var feed: [String] = []
    @Option(help: "Gateway endpoint (overrides the file).") var gateway: String?
    @Option(help: "Write features to Redis at HOST:PORT (overrides the file).") var redis: String?
    @Option(help: "Seconds between status lines (0 = none).") var status: Double = 5
    @Option(help: "Take raw wire ticks over UDP on HOST:PORT instead of ZeroMQ (overrides the file).") var udp: String?
    @Option(help: "UDP receive backend: auto (io_uring, else epoll; the log says which), uring or epoll.") var io: String?
    @Option(help: "The engine's CURVE key pair (.key); with --feed-server-key / --gateway-server-key those sockets use CURVE.")
    var curveKey: String?
    @Option(help: "The feed publisher's public key (.pub file or Z85 key).") var feedServerKey: String?
    @Option(help: "The gateway's public key (.pub file or Z85 key).") var gatewayServerKey: String?

    func validate() throws {
        if let io, IngestBackend(rawValue: io) == nil { throw ValidationError("--io is auto, uring or epoll") }
        if (feedServerKey != nil || gatewayServerKey != nil) && curveKey == nil {
            throw ValidationError("--feed-server-key / --gateway-server-key need --curve-key (the engine's own key pair)")
        }
    }

    func run() async throws {
        var cfg = try config.map { try KairosConfig.load(path: $0) } ?? KairosConfig()
        if !feed.isEmpty { cfg.feed.endpoints = feed }
        if let gateway { cfg.orders.gateway = gateway }
        if let udp {
            cfg.feed.transport = "udp"
            cfg.feed.udp = udp
        }
        if let io { cfg.feed.io = io }
        if let curveKey {
            var s = cfg.security ?? KairosConfig.Security(keyFile: curveKey)
            s.keyFile = curveKey
            if let feedServerKey { s.feedServerKey = feedServerKey }
            if let gatewayServerKey { s.gatewayServerKey = gatewayServerKey }
            cfg.security = s
        }
        try cfg.validate()
        if let redis {
            let parts = redis.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--redis is HOST:PORT") }
            var r = KairosConfig.Redis()
            r.host = String(parts[0])
            r.port = port
            cfg.redis = r
        }
        let logger = Logger(label: "kairos.run")
        let app = try buildApplication(config: cfg, logger: logger)
        logger.info(
            "kairos run", metadata: ["feed": "\(cfg.feed.transport == "udp" ? "udp \(cfg.feed.udp) io \(app.ingest.udp.map { "\($0.backend)" } ?? "")" : "\(cfg.feed.endpoints)")", "gateway": "\(cfg.orders.gateway)",
                                     "instruments": "\(cfg.instruments.count)", "policy": "\(app.engine.policy.name)"])
        let statusTask = Task {
            guard status > 0 else { return }
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(status * 1e9))
                if let s = app.engine.monitor.snapshot {
                    let f = app.ingest
                    print(
                        "ticks \(Fmt.int(s.counters.ticksAccepted)) (ingest \(f)) decision p99 \(Fmt.ns(s.decisionLatency.p99)) "
                            + "orders \(Fmt.int(s.counters.ordersSent)) fills \(Fmt.int(s.counters.fills)) PnL \(Fmt.money(s.pnl, sign: true))")
                }
            }
        }
        try await app.group.run()
        statusTask.cancel()
        // The engine thread has stopped: the ensemble's meta-agent state can be written.
        try app.engine.policy.saveState()
        if let s = app.engine.monitor.snapshot {
            print("stopped: ticks \(Fmt.int(s.counters.ticksAccepted)), orders \(Fmt.int(s.counters.ordersSent)), fills \(Fmt.int(s.counters.fills)), PnL \(Fmt.money(s.pnl, sign: true))")
        }
    }
}
