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

struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run the paper order gateway (ZeroMQ ROUTER for orders, SUB on the tick feed).",
        discussion: """
            Engines connect a DEALER to --endpoint and send orders; the gateway acknowledges each \
            one, fills it against the latest quote from the tick feed after --latency-us with \
            --slippage-bps and --fee-bps, and sends ACK / FILL / REJECT / CANCELLED back to the \
            engine that sent it. Orders for an instrument without any quote yet are rejected \
            (reason no_quote = 16). Every fill is appended to --fill-log before it is reported.

            The gateway binds to loopback only unless --allow-remote is given.

            Examples:
              kairos gateway                                   # ROUTER :5557, feed :5556
              kairos gateway --fill-log fills.csv --latency-us 50
              kairos gateway --list-fills fills.csv            # print the fills and exit

            Ctrl-C / SIGTERM stop it cleanly (the fill log is synced).
            """)

    @Option(help: "ROUTER endpoint to bind.") var endpoint = "tcp://127.0.0.1:5557"
    @Option(help: "Tick feed endpoint the SUB connects to.") var feed = "tcp://127.0.0.1:5556"
    @Option(help: "Tick topic prefix to subscribe to.") var topic = "tick."
    @Option(help: "Latency before an order can fill, in microseconds.") var latencyUs: Double = 20
    @Option(help: "Slippage in basis points of the touch.") var slippageBps: Double = 0.5
    @Option(help: "Fee in basis points of notional.") var feeBps: Double = 0.2
    @Option(help: "Gateway id stamped into every report.") var gatewayID: UInt16 = 1
    @Option(help: "Maximum working orders.") var capacity = 4096
    @Option(help: "Append every fill to this CSV file.") var fillLog: String?
    @Option(help: "fsync the fill log: every-fill, never, or a period in milliseconds (e.g. 100).")
    var fsync = "100"
    @Flag(help: "Allow binding to a non-loopback address without CURVE keys.") var allowRemote = false
    @OptionGroup var curve: CurveServerOptions
    @Option(help: "The feed publisher's CURVE public key (.pub file or Z85 key): the tick SUB connects with CURVE, using --curve-key.")
    var feedServerKey: String?
    @Option(help: "Print the fills recorded in FILE and exit.") var listFills: String?

    func validate() throws {
        guard latencyUs >= 0, slippageBps >= 0, feeBps >= 0 else {
            throw ValidationError("--latency-us, --slippage-bps and --fee-bps must be >= 0")
        }
        guard capacity > 0 else { throw ValidationError("--capacity must be > 0") }
        _ = try syncPolicy()
        if feedServerKey != nil && !curve.enabled { throw ValidationError("--feed-server-key needs --curve-key (the gateway's own key pair)") }
        if !allowRemote && !curve.enabled && !ZMQFeedConfig.isLoopback(endpoint) {
            throw ValidationError("\(endpoint) is not a loopback endpoint; pass --allow-remote to bind it")
        }
    }

    func syncPolicy() throws -> FillLog.SyncPolicy {
        switch fsync {
        case "every-fill": return .everyFill
        case "never": return .never
        default:
            guard let ms = Double(fsync), ms > 0 else {
                throw ValidationError("--fsync must be every-fill, never or a positive number of milliseconds")
            }
            return .interval(nanoseconds: Int64(ms * 1e6))
        }
    }

    func run() throws {
        if let path = listFills {
            try list(path)
            return
        }
        let logger = Logger(label: "kairos.gateway")
        var c = PaperGatewayConfig()
        c.endpoint = endpoint
        c.feedEndpoint = feed
        c.topicPrefix = topic
        c.fills = PaperFillConfig(latencyNs: Int64(latencyUs * 1_000), slippageBps: slippageBps, feeBps: feeBps)
        c.gatewayID = gatewayID
        c.capacity = capacity
        c.fillLogPath = fillLog
        c.fillLogSync = try syncPolicy()
        let security = try curve.start()
        defer { security?.zap.stop() }
        if let s = security {
            c.curveSecretKey = s.keys.secretKey
            c.feedCurve = try feedServerKey.map { CurveClient(serverPublicKey: try CurveKeyPair.publicKey(fileOrKey: $0), keys: s.keys) }
        }
        let gateway = try PaperGateway(config: c)
        logger.info(
            "paper gateway up",
            metadata: [
                "orders": "\(gateway.boundEndpoint)", "feed": "\(feed)", "topic": "\(topic)",
                "fill_log": "\(fillLog ?? "none")",
                "orders_security": "\(security.map { "CURVE server \($0.keys.publicKey), \($0.zap.allowed.count) client key(s) allowed" } ?? (ZMQFeedConfig.isLoopback(endpoint) ? "plain, loopback only" : "plain, REMOTE (--allow-remote)"))",
                "feed_security": "\(c.feedCurve == nil ? "plain" : "CURVE")",
            ])
        let stop = StopFlag()
        let signals = SignalHandlers([SIGINT, SIGTERM]) { stop.set() }
        gateway.run(until: stop)
        signals.cancel()
        let s = gateway.statistics
        print(
            """
            orders \(s.ordersReceived)  acks \(s.acks)  fills \(s.fills)  rejects \(s.rejects) \
            (no quote \(s.rejectsNoQuote))  cancels \(s.cancels)/\(s.cancelsReceived)  working \(s.working)
            ticks \(s.ticksReceived)  instruments quoted \(s.instrumentsQuoted)  bad quotes \(s.badQuotes)
            malformed orders \(s.malformedOrders.total) (\(s.malformedOrders))
            malformed ticks \(s.malformedTicks.total) (\(s.malformedTicks))
            undeliverable reports \(s.undeliverable)  fill log errors \(s.fillLogErrors)
            notional \(s.filledNotional)  fees \(s.fees)
            """)
    }

    func list(_ path: String) throws {
        let (fills, torn) = try FillLog.read(path: path)
        // Unbuffered writes to both streams, so the stderr summary comes after the listing.
        var out = FillLog.header + "\n"
        for f in fills {
            out += "\(f.gatewayTimeNs),\(f.clientOrderID),\(f.instrument),\(f.side),\(f.quantity),\(f.price),\(f.fee)\n"
        }
        FileHandle.standardOutput.write(out.data(using: .utf8)!)
        var fees = 0.0
        for f in fills { fees += f.fee }
        FileHandle.standardError.write(
            "\(fills.count) fills, fees \(fees)\(torn ? "; the last line was torn (incomplete write) and skipped" : "")\n"
                .data(using: .utf8)!)
    }
}
