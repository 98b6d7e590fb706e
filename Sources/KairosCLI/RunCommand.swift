import ArgumentParser
import Foundation
import Kairos
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

    func run() async throws {
        var cfg = try config.map { try KairosConfig.load(path: $0) } ?? KairosConfig()
        if !feed.isEmpty { cfg.feed.endpoints = feed }
        if let gateway { cfg.orders.gateway = gateway }
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
            "kairos run", metadata: ["feed": "\(cfg.feed.endpoints)", "gateway": "\(cfg.orders.gateway)",
                                     "instruments": "\(cfg.instruments.count)", "policy": "\(app.engine.policy.name)"])
        let statusTask = Task {
            guard status > 0 else { return }
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(status * 1e9))
                if let s = app.engine.monitor.snapshot {
                    let f = app.ingest.stats
                    print(
                        "ticks \(Fmt.int(s.counters.ticksAccepted)) (ingest \(f)) decision p99 \(Fmt.ns(s.decisionLatency.p99)) "
                            + "orders \(Fmt.int(s.counters.ordersSent)) fills \(Fmt.int(s.counters.fills)) PnL \(Fmt.money(s.pnl, sign: true))")
                }
            }
        }
        try await app.group.run()
        statusTask.cancel()
        if let s = app.engine.monitor.snapshot {
            print("stopped: ticks \(Fmt.int(s.counters.ticksAccepted)), orders \(Fmt.int(s.counters.ordersSent)), fills \(Fmt.int(s.counters.fills)), PnL \(Fmt.money(s.pnl, sign: true))")
        }
    }
}
