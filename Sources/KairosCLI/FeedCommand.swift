import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation

struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Publish ticks over ZeroMQ (wire format v1): a CSV of bars or the synthetic market.",
        discussion: """
            Each tick goes out as two frames [tick.<SYMBOL>, 72-byte record] on an XPUB socket \
            (docs/wire-format.md). The publisher stamps its --publisher-id and its own sequence \
            numbers 1, 2, ... on every tick. A subscriber at its high-water mark makes the feed \
            wait instead of dropping ticks.

            Examples:
              kairos feed --synthetic demo --instruments 8 --rate 100000
              kairos feed --csv ../shared/data/sp500.csv --symbol SPX --rate 1000
              kairos feed --synthetic demo --count 1000000 --rate 0 --wait-subscribers 1

            Without CURVE keys the feed refuses to bind anything but loopback (127.0.0.1, ::1, \
            localhost, ipc://, inproc://) unless --allow-non-loopback is given.
            Ctrl-C stops the replay and prints the summary.
            """)

    @Option(help: "OHLCV CSV to replay, one tick per bar at the close.") var csv: String?
    @Option(help: "Synthetic scenario to publish (\(MarketScenario.presets.map(\.name).joined(separator: ", "))).")
    var synthetic: String?
    @Option(help: "Synthetic instruments.") var instruments = 8
    @Option(help: "Seed of the synthetic market.") var seed: UInt64 = 42
    @Option(name: .customLong("symbol"), help: "Symbol(s) in topic order: one for --csv (default CSV), one per instrument for --synthetic (default SYN0, SYN1, ...). Repeatable.")
    var symbols: [String] = []
    @Option(help: "Bid/ask spread around the bar close for --csv, in basis points.") var spreadBps: Double = 1
    @Option(help: "Ticks per second; 0 = as fast as the subscribers take them.") var rate: Double = 100_000
    @Option(help: "Stop after this many ticks (default: the whole CSV, or 1,000,000 synthetic ticks).") var count: Int?
    @Option(help: "ZeroMQ endpoint.") var endpoint = "tcp://127.0.0.1:5556"
    @Flag(help: "Connect to the endpoint instead of binding it.") var connect = false
    @Option(help: "Publisher id stamped on every tick (sequence tracking is per publisher).") var publisherId: UInt16 = 1
    @Option(help: "Wait for this many subscriptions before publishing (avoids losing the first ticks).")
    var waitSubscribers = 0
    @Option(help: "ZMQ_SNDHWM: ticks queued per subscriber before the feed waits.") var hwm = 100_000
    @Flag(help: "Allow binding a non-loopback address without CURVE keys.") var allowNonLoopback = false
    @OptionGroup var curve: CurveServerOptions
    @Flag(help: "No progress line.") var quiet = false
    @Flag(help: ArgumentHelp(
        "Measure instead of serving: publish --count synthetic ticks over tcp loopback into an in-process ingest "
            + "thread and ring, at each --measure-rates rate, and report the achieved rate and drops."))
    var measureIngest = false
    @Flag(help: "With --measure-ingest: queue all ticks first, then time the ingest draining them (the ingest alone).")
    var preload = false
    @Option(parsing: .upToNextOption, help: "Rates (ticks/s) for --measure-ingest; 0 = as fast as possible.")
    var measureRates: [Double] = [0]

    func validate() throws {
        if measureIngest { return }
        guard (csv == nil) != (synthetic == nil) else { throw ValidationError("give exactly one of --csv or --synthetic") }
        guard rate >= 0 && rate.isFinite else { throw ValidationError("--rate must be >= 0") }
        guard (1...InstrumentID.max).contains(instruments) else { throw ValidationError("--instruments must be 1...\(InstrumentID.max)") }
        if let c = count, c <= 0 { throw ValidationError("--count must be > 0") }
        if synthetic != nil && !symbols.isEmpty && symbols.count != instruments {
            throw ValidationError("--symbol given \(symbols.count) times; --synthetic needs one per instrument (\(instruments))")
        }
        if csv != nil && symbols.count > 1 { throw ValidationError("--csv takes one --symbol") }
        for s in symbols where s.utf8.isEmpty || s.utf8.count > ZMQFeedConfig.maxSymbolLength {
            throw ValidationError("symbol '\(s)' must be 1...\(ZMQFeedConfig.maxSymbolLength) bytes")
        }
        if connect && curve.enabled { throw ValidationError("CURVE needs the feed to bind (the server side); drop --connect") }
        if !connect && !allowNonLoopback && !curve.enabled && !ZMQFeedConfig.isLoopback(endpoint) {
            throw ValidationError("\(endpoint) is not loopback; without CURVE keys the feed binds loopback only (--allow-non-loopback to override)")
        }
    }

    func run() throws {
        if measureIngest {
            let ticks = count ?? 2_000_000
            print("ZeroMQ ingest, tcp loopback, publisher thread -> ingest thread -> ring -> consumer, \(Fmt.int(ticks)) ticks, \(instruments) symbols")
            for r in measureRates {
                let m = try ZMQIngestBenchmark.run(ticks: ticks, rate: r, instruments: instruments, preload: preload)
                print(m)
            }
            return
        }
        let stop = StopFlag()
        let signals = SignalHandlers([SIGINT, SIGTERM]) { stop.set() }
        defer { signals.cancel() }

        let names: [String]
        if let path = csv {
            names = [symbols.first ?? "CSV"]
            let bars = try OHLCVCSV.load(path: path)
            var source = BarTickSource(bars: bars, instrument: InstrumentID(0), spreadBps: spreadBps)
            try publish(&source, symbols: names, limit: count ?? bars.count, stop: stop)
        } else {
            guard let scenario = MarketScenario.presets.first(where: { $0.name == synthetic }) else {
                throw ValidationError(
                    "unknown scenario \(synthetic ?? ""); one of \(MarketScenario.presets.map(\.name).joined(separator: ", "))")
            }
            names = symbols.isEmpty ? (0..<instruments).map { "SYN\($0)" } : symbols
            let market = SyntheticMarket(scenario: scenario, instruments: instruments, seed: seed)
            let limit = count ?? 1_000_000
            var source = SyntheticTickSource(market: market, limit: limit)
            try publish(&source, symbols: names, limit: limit, stop: stop)
        }
    }

    private func publish<S: TickSource>(_ source: inout S, symbols names: [String], limit: Int, stop: StopFlag) throws {
        let security = try curve.start()
        defer { security?.zap.stop() }
        let publisher = try TickPublisher(
            endpoint: endpoint, bind: !connect, symbols: names, publisherID: publisherId, sendHighWaterMark: hwm,
            curveSecretKey: security?.keys.secretKey)
        let bound = connect ? endpoint : publisher.boundEndpoint
        let securityNote = security.map { "CURVE server \($0.keys.publicKey), \($0.zap.allowed.count) client key(s) allowed" }
            ?? ("no CURVE keys" + (ZMQFeedConfig.isLoopback(bound) ? " (loopback only)" : " (NOT loopback: --allow-non-loopback)"))
        log("feed: publisher \(publisherId) \(connect ? "connected to" : "bound") \(bound), \(securityNote)"
            + ", \(names.count) symbol(s): \(names.prefix(4).joined(separator: ", "))\(names.count > 4 ? ", ..." : "")")
        if waitSubscribers > 0 {
            log("feed: waiting for \(waitSubscribers) subscription(s)")
            while !stop.isSet && publisher.waitForSubscriptions(waitSubscribers, timeoutSeconds: 0.2) < waitSubscribers {}
        }
        let interactive = isatty(STDERR_FILENO) == 1
        let start = MonotonicClock.nanoseconds()
        var lastPrint = start
        let sent = try publisher.replay(&source, count: limit, rate: rate, stop: stop) { n in
            guard !quiet else { return }
            let now = MonotonicClock.nanoseconds()
            guard now - lastPrint >= (interactive ? 500_000_000 : 5_000_000_000) else { return }
            lastPrint = now
            let secs = Double(now - start) / 1e9
            let line = "sent \(Fmt.int(n)) / \(Fmt.int(limit))  \(Fmt.int(Int(Double(n) / max(secs, 1e-9))))/s  "
                + "back-pressure waits \(Fmt.int(publisher.backPressureWaits))"
            if interactive { FileHandle.standardError.write(Data(("\r" + line + "   ").utf8)) } else { log(line) }
        }
        let secs = Double(MonotonicClock.nanoseconds() - start) / 1e9
        if interactive && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
        print("feed: sent \(Fmt.int(sent)) ticks in \(Fmt.fixed(secs, 3)) s (\(Fmt.int(Int(Double(sent) / max(secs, 1e-9))))/s), "
            + "last seq \(publisher.sent), back-pressure waits \(Fmt.int(publisher.backPressureWaits))"
            + (stop.isSet ? " (stopped early)" : ""))
    }

    private func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
}
