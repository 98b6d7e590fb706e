// Wire-to-wire latency of the whole live path, measured on real sockets: a ZeroMQ tick publisher
// (what `kairos feed` runs) → the application `kairos run` builds (ingest thread → inbound ring →
// engine → outbound ring → order router → DEALER) → the paper gateway's ROUTER (what `kairos
// gateway` runs). All three run in this process on their own threads, over TCP loopback.
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosApp
import Foundation
import Logging

/// One run of `WireBenchmark`.
public struct WireBenchmarkResult: Sendable {
    public var rate: Double
    public var ticksPublished: Int
    /// Achieved publishing rate (ticks / wall seconds of the replay).
    public var achievedRate: Double
    public var ticksAccepted: UInt64
    /// Ticks the ingest could not put in the ring, plus ticks refused for any reason.
    public var ingestRefused: UInt64
    public var ordersAtGateway: Int
    /// Publisher send time of the triggering tick → gateway decode of the order.
    public var wireToWire: LatencySummary
    /// Publisher send → engine ingest receive (ZeroMQ hop, tick side).
    public var feedHop: LatencySummary
    /// Engine ingest receive → order router send (ring, features, policy, risk, ring, router).
    public var engineHop: LatencySummary
    /// Order router send → gateway decode (ZeroMQ hop, order side).
    public var orderHop: LatencySummary
    /// Router send → first answer (ACK) back at the router, monotonic clock.
    public var orderRoundTrip: LatencySummary
    /// The engine's own per-tick decision time (its monitor's histogram).
    public var engineDecision: LatencySummary
    public var redis: FeatureCacheStats?

    public var table: String {
        func row(_ name: String, _ s: LatencySummary) -> String {
            "  \(name.padding(toLength: 34, withPad: " ", startingAt: 0)) p50 \(Fmt.ns(s.p50).leftPad(9))  p99 \(Fmt.ns(s.p99).leftPad(9))  p99.9 \(Fmt.ns(s.p999).leftPad(9))  max \(Fmt.ns(s.max).leftPad(9))  n \(s.count)"
        }
        var out = "rate \(Fmt.int(Int(rate)))/s (achieved \(Fmt.int(Int(achievedRate)))/s), \(Fmt.int(ticksPublished)) ticks, accepted \(Fmt.int(Int(ticksAccepted))), refused \(ingestRefused), orders at gateway \(ordersAtGateway)\n"
        out += row("wire to wire (publish → gateway)", wireToWire) + "\n"
        out += row("  feed hop (publish → ingest)", feedHop) + "\n"
        out += row("  engine (ingest → router send)", engineHop) + "\n"
        out += row("  order hop (router → gateway)", orderHop) + "\n"
        out += row("order round trip (send → ack)", orderRoundTrip) + "\n"
        out += row("engine decision (per tick)", engineDecision)
        if let r = redis { out += "\n  redis: written \(r.written) dropped \(r.dropped) connected \(r.connected)" }
        return out
    }
}

extension String {
    fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

public enum WireBenchmark {
    /// Publishes `ticks` synthetic ticks at `rate` per second into a live engine and measures every
    /// order that reaches the gateway. The engine runs SMA(fast/slow) crossovers on `barSeconds`
    /// bars of exchange time, long/short, so it trades often; risk limits are the scaled defaults
    /// with the order throttle lifted (it would otherwise cap orders at 500/s).
    public static func run(
        rate: Double, ticks: Int, instruments: Int = 4, barSeconds: Double = 0.005, fast: Int = 3, slow: Int = 8,
        redis: KairosConfig.Redis? = nil, logger: Logger, stop: StopFlag = StopFlag(),
        progress: ((KairosApplication, PaperGateway) -> Void)? = nil
    ) async throws -> WireBenchmarkResult {
        precondition(ticks > 0 && instruments > 0)
        let symbols = (0..<instruments).map { "SYN\($0)" }
        let publisher = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: symbols, sendHighWaterMark: 1_000_000)
        var gc = PaperGatewayConfig()
        gc.endpoint = "tcp://127.0.0.1:*"
        gc.feedEndpoint = publisher.boundEndpoint
        gc.fills = PaperFillConfig(latencyNs: 0, slippageBps: 0.5, feeBps: 0.2)
        gc.receiptCapacity = 1_000_000
        let gateway = try PaperGateway(config: gc)
        gateway.start()

        var cfg = KairosConfig()
        cfg.instruments = symbols
        cfg.feed.endpoints = [publisher.boundEndpoint]
        cfg.feed.staleAfterSeconds = 60
        cfg.orders.gateway = gateway.boundEndpoint
        cfg.policy.kind = .sma
        cfg.policy.fast = fast
        cfg.policy.slow = slow
        cfg.policy.allowShort = true
        cfg.policy.barSeconds = barSeconds
        var limits = RiskLimits.scaled(capitalPerInstrument: cfg.capitalPerInstrument, instruments: instruments)
        limits.maxOrdersPerSecond = 1_000_000
        limits.maxDrawdown = 0.9
        cfg.risk = limits
        cfg.redis = redis
        let app = try buildApplication(config: cfg, logger: logger, handleSignals: false)
        let running = Task { try await app.group.run() }

        // The gateway's and the engine's SUBs.
        guard publisher.waitForSubscriptions(2, timeoutSeconds: 10) >= 2 else {
            await app.group.triggerGracefulShutdown()
            _ = try? await running.value
            gateway.stop()
            throw ConfigError(message: "subscribers did not connect within 10 s")
        }
        // sendTimes[seq] = CLOCK_REALTIME stamped into tick `seq`.
        var sendTimes = [Int64](repeating: 0, count: ticks + 1)
        var source = SyntheticTickSource(
            market: SyntheticMarket(scenario: .demo, instruments: instruments, seed: 7), limit: ticks)
        // Pace in bursts of `burst` ticks, 10,000 bursts a second: a publisher spinning between
        // ticks 10 µs apart would take a whole core of this 2-core machine from the parts being
        // measured (a real feed is another machine, and arrives in bursts anyway).
        let burst = max(1, Int(rate / 10_000))
        var pacer = RateLimiter(rate: rate / Double(burst))
        var tick = Tick()
        let t0 = MonotonicClock.nanoseconds()
        var nextProgress = t0 + 1_000_000_000
        var published = 0
        while !stop.isSet, source.nextTick(into: &tick) {
            if published % burst == 0 { pacer.waitTurn() }
            published += 1
            if progress != nil && published & 1023 == 0 && MonotonicClock.nanoseconds() >= nextProgress {
                progress?(app, gateway)
                nextProgress += 1_000_000_000
            }
            let seq = Int(publisher.sent) + 1
            let now = WallClock().now()
            sendTimes[seq] = now
            while try !publisher.publish(tick, sendTimeNs: now) {}
        }
        let elapsed = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        let ticks = Int(publisher.sent)

        // Drain: every tick seen and every order answered (or 10 s).
        try await app.waitUntilSettled(ticks: ticks, timeoutSeconds: 10)
        let roundTrip = app.router.roundTripLatency.summary
        await app.group.triggerGracefulShutdown()
        try await running.value
        gateway.stop()

        var w2w = LatencyHistogram(), feed = LatencyHistogram(), engine = LatencyHistogram(), order = LatencyHistogram()
        let receipts = gateway.orderReceipts
        for r in receipts where r.tickSeq >= 1 && Int(r.tickSeq) <= ticks {
            let sent = sendTimes[Int(r.tickSeq)]
            w2w.record(r.receivedNs - sent)
            feed.record(r.tickReceivedNs - sent)
            engine.record(r.sentNs - r.tickReceivedNs)
            order.record(r.receivedNs - r.sentNs)
        }
        let snap = app.engine.monitor.snapshot
        let zs = app.ingest.zmq?.stats
        progress?(app, gateway)
        return WireBenchmarkResult(
            rate: rate, ticksPublished: ticks, achievedRate: Double(ticks) / elapsed,
            ticksAccepted: snap?.counters.ticksAccepted ?? 0, ingestRefused: zs?.refused ?? 0,
            ordersAtGateway: receipts.count, wireToWire: w2w.summary, feedHop: feed.summary, engineHop: engine.summary,
            orderHop: order.summary, orderRoundTrip: roundTrip,
            engineDecision: snap?.decisionLatency ?? LatencyHistogram().summary, redis: app.cache?.stats)
    }
}
