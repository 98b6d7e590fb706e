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
            Subscribes to the tick feed (wire format v1, topics tick.<SYMBOL>; or UDP, or a \
            recorded file), runs the engine thread (data stage: sequence tracking, validation, \
            features, bars, regime; the policy; the risk stage) and routes approved orders to a \
            gateway over a ZeroMQ DEALER; acks and fills come back into the engine. With a \
            "redis" section it also writes every instrument's features and regime to Redis. \
            SIGINT/SIGTERM stop it gracefully: ingest first, then the engine drains its rings, \
            then the router.

            The policy is policy.kind of the configuration; without one, the regime-aware \
            ensemble when policy.models (default ./models) holds the four agents and the regime \
            model, else SMA(10/30). The log and every status line name the policy running. Ticks \
            lost on the way (sequence gaps, ticks a publisher sent before this engine joined, a \
            full ring) are counted and shown in the status line and the stop summary.

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
    @Option(help: "Replay a file of wire ticks (as FileReplay.write records them) instead of ZeroMQ (overrides the file).")
    var replay: String?
    @Option(help: "UDP / file receive backend: auto (io_uring, else epoll or plain reads; the log says which), uring or epoll.")
    var io: String?
    @Option(help: "The engine's CURVE key pair (.key); with --feed-server-key / --gateway-server-key those sockets use CURVE.")
    var curveKey: String?
    @Option(help: "The feed publisher's public key (.pub file or Z85 key).") var feedServerKey: String?
    @Option(help: "The gateway's public key (.pub file or Z85 key).") var gatewayServerKey: String?

    func validate() throws {
        if let io, IngestBackend(rawValue: io) == nil { throw ValidationError("--io is auto, uring or epoll") }
        if udp != nil && replay != nil { throw ValidationError("--udp and --replay are two feeds: choose one") }
        if (feedServerKey != nil || gatewayServerKey != nil) && curveKey == nil {
            throw ValidationError("--feed-server-key / --gateway-server-key need --curve-key (the engine's own key pair)")
        }
    }

    func run() async throws {
        var cfg = try config.map { try KairosConfig.load(path: $0) } ?? KairosConfig()
        if !feed.isEmpty { cfg.feed.endpoints = feed }
        if let gateway { cfg.orders.gateway = gateway }
        if let udp {
            cfg.feed.transport = .udp
            cfg.feed.udp = udp
        }
        if let replay {
            cfg.feed.transport = .file
            cfg.feed.file = replay
        }
        if let io { cfg.feed.io = IngestBackend(rawValue: io)! }
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
        let feedName: String
        switch cfg.feed.transport {
        case .zmq: feedName = "zmq \(cfg.feed.endpoints)"
        case .udp: feedName = "udp \(cfg.feed.udp) io \(app.ingest.udp.map { "\($0.backend)" } ?? "")"
        case .file: feedName = "file \(cfg.feed.file ?? "") io \(app.ingest.file.map { "\($0.backend)" } ?? "")"
        }
        logger.info(
            "kairos run", metadata: ["feed": "\(feedName)", "gateway": "\(cfg.orders.gateway)",
                                     "instruments": "\(cfg.instruments.count)", "policy": "\(app.engine.policy.name)"])
        let statusTask = Task {
            guard status > 0 else { return }
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(status * 1e9))
                if let s = app.engine.monitor.snapshot {
                    let f = app.ingest
                    print(
                        "policy \(s.policy) ticks \(Fmt.int(s.counters.ticksAccepted)) lost \(Fmt.int(s.ticksLost)) (ingest \(f)) "
                            + "decision p99 \(Fmt.ns(s.decisionLatency.p99)) orders \(Fmt.int(s.counters.ordersSent)) "
                            + "fills \(Fmt.int(s.counters.fills)) PnL \(Fmt.money(s.pnl, sign: true))\(Self.regimeSummary(s))")
                    fflush(nil)  // a pipe or file gets each line as it is written, not at exit
                }
            }
        }
        try await app.group.run()
        statusTask.cancel()
        // The engine thread has stopped: the ensemble's meta-agent state can be written.
        try app.engine.policy.saveState()
        if let s = app.engine.monitor.snapshot {
            let q = s.sequences
            print(
                "stopped: policy \(s.policy), ticks \(Fmt.int(s.counters.ticksAccepted)), lost \(Fmt.int(s.ticksLost)) "
                    + "(sequence gaps \(Fmt.int(q.gaps)) missing \(Fmt.int(q.lostInGaps)), "
                    + "before first \(Fmt.int(q.missedBeforeFirst)), ring full \(Fmt.int(s.inboundDrops))), duplicates \(Fmt.int(q.duplicates)), "
                    + "orders \(Fmt.int(s.counters.ordersSent)), fills \(Fmt.int(s.counters.fills)), PnL \(Fmt.money(s.pnl, sign: true))")
        }
    }

    /// " regimes bull 3 bear 1 (mean confidence 81%)" over the instruments with an estimate.
    static func regimeSummary(_ s: EngineSnapshot) -> String {
        let estimates = s.regimes.compactMap { $0 }
        guard !estimates.isEmpty else { return "" }
        let counts = Regime.allCases.compactMap { r -> String? in
            let n = estimates.filter { $0.regime == r }.count
            return n > 0 ? "\(r) \(n)" : nil
        }
        let conf = estimates.map(\.confidence).reduce(0, +) / Double(estimates.count)
        return " regimes " + counts.joined(separator: " ") + " (mean confidence \(Fmt.pct(conf, 0)))"
    }
}
