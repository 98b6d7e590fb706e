import Foundation
import Logging
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// `kairos run` end to end over real ZeroMQ sockets on loopback, all in one process: a tick
/// publisher (what `kairos feed` runs), the paper gateway (what `kairos gateway` runs) and the
/// application `kairos run` builds (ingest → engine → order router), under its ServiceGroup.
@Suite(.serialized) struct LiveRunThreadedTests {
    /// A tick publisher on an ephemeral loopback port and a running paper gateway quoting from it
    /// (fills at once, 0.5 bp slippage, 0.2 bp fee). The caller stops the gateway.
    static func feedAndGateway(symbols: [String]) throws -> (TickPublisher, PaperGateway) {
        let publisher = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: symbols)
        var gc = PaperGatewayConfig()
        gc.endpoint = "tcp://127.0.0.1:*"
        gc.feedEndpoint = publisher.boundEndpoint
        gc.fills = PaperFillConfig(latencyNs: 0, slippageBps: 0.5, feeBps: 0.2)
        let gateway = try PaperGateway(config: gc)
        gateway.start()
        return (publisher, gateway)
    }

    @Test func ticksFlowInOrdersFlowOutFillsComeBack() async throws {
        let symbols = (0..<4).map { "SYN\($0)" }
        let (publisher, gateway) = try Self.feedAndGateway(symbols: symbols)
        defer { gateway.stop() }

        var cfg = KairosConfig()
        cfg.policy.kind = .sma  // SMA on short bars trades often (the default would be the ensemble)
        cfg.instruments = symbols
        cfg.feed.endpoints = [publisher.boundEndpoint]
        cfg.orders.gateway = gateway.boundEndpoint
        cfg.policy.barSeconds = 0.05  // the demo market's 100 µs ticks: SMA(10/30) on 50 ms bars trades often
        var logger = Logger(label: "test.run")
        logger.logLevel = .warning
        let app = try buildApplication(config: cfg, logger: logger, handleSignals: false)
        let running = Task { try await app.group.run() }

        // Both SUBs (gateway, engine) must be subscribed before the replay, or early ticks are lost.
        #expect(publisher.waitForSubscriptions(2, timeoutSeconds: 10) >= 2)
        let count = 40_000
        var source = SyntheticTickSource(
            market: SyntheticMarket(scenario: .demo, instruments: symbols.count, seed: 3), limit: count)
        let sent = try publisher.replay(&source, count: count, rate: 0, stop: StopFlag())
        #expect(sent == UInt64(count))

        // Wait until the engine has seen every tick and its orders are answered.
        try await app.waitUntilSettled(ticks: count, timeoutSeconds: 30)
        await app.group.triggerGracefulShutdown()
        try await running.value

        let s = try #require(app.engine.monitor.snapshot)
        #expect(s.counters.ticksReceived == UInt64(count))
        #expect(s.counters.ticksAccepted == UInt64(count))
        #expect(app.ingest.zmq?.stats.accepted == UInt64(count))
        #expect(s.counters.ordersSent > 0)
        #expect(s.counters.fills > 0)
        let g = gateway.statistics
        #expect(g.ordersReceived == s.counters.ordersSent)
        #expect(g.fills >= s.counters.fills)
        #expect(s.positions.contains { $0.fillCount > 0 })
        #expect(s.equity.isFinite)
    }

    /// `kairos run --udp HOST:PORT --io uring|epoll`: raw wire ticks over UDP into the engine through
    /// each receive backend, orders out over ZeroMQ to the gateway (which quotes from a ZeroMQ feed
    /// carrying the same ticks).
    @Test(arguments: [IngestBackend.ioUring, .epoll])
    func udpIngestFeedsTheEngine(io: IngestBackend) async throws {
        let symbols = (0..<4).map { "SYN\($0)" }
        let (publisher, gateway) = try Self.feedAndGateway(symbols: symbols)
        defer { gateway.stop() }

        var cfg = KairosConfig()
        cfg.policy.kind = .sma  // SMA on short bars trades often (the default would be the ensemble)
        cfg.instruments = symbols
        cfg.feed.transport = .udp
        cfg.feed.udp = "127.0.0.1:0"
        cfg.feed.io = io
        cfg.orders.gateway = gateway.boundEndpoint
        cfg.policy.barSeconds = 0.005  // 5,000 ticks of 100 µs per instrument: 100 bars, SMA(10/30) trades
        var logger = Logger(label: "test.run.udp")
        logger.logLevel = .warning
        let app = try buildApplication(config: cfg, logger: logger, handleSignals: false)
        let udp = try #require(app.ingest.udp)
        #expect(udp.backend == io)
        let running = Task { try await app.group.run() }
        #expect(publisher.waitForSubscriptions(1, timeoutSeconds: 10) >= 1)

        let sender = try UDPTickSender(port: udp.port)
        let count = 20_000
        var source = SyntheticTickSource(
            market: SyntheticMarket(scenario: .demo, instruments: symbols.count, seed: 5), limit: count)
        var batch = [Tick](repeating: Tick(), count: 32)
        var sent = 0
        while sent < count {
            var n = 0
            while n < batch.count, source.nextTick(into: &batch[n]) {
                batch[n].publisher = 2
                batch[n].seq = UInt64(sent + n + 1)
                _ = try publisher.publish(batch[n])  // the gateway's quotes
                n += 1
            }
            if n == 0 { break }
            let k = batch.withUnsafeBufferPointer { sender.send(UnsafeBufferPointer(rebasing: $0[0..<n])) }
            #expect(k == n)
            sent += n
            sleepMicroseconds(100)  // pace: a UDP receive queue overflow would drop (counted) ticks
        }
        #expect(sent == count)

        try await app.waitUntilSettled(ticks: count, timeoutSeconds: 30) { udp.stats.socketDrops }
        await app.group.triggerGracefulShutdown()
        try await running.value

        let s = try #require(app.engine.monitor.snapshot)
        let st = udp.stats
        // Every datagram is accounted for: in the engine, or counted as a kernel drop.
        #expect(s.counters.ticksReceived + st.socketDrops == UInt64(count))
        #expect(st.pushed == s.counters.ticksReceived)
        #expect(st.decodeErrors.total == 0 && st.ringFullDrops == 0)
        #expect(s.counters.ticksReceived > UInt64(count / 2))
        #expect(s.counters.ordersSent > 0)
        #expect(s.counters.fills > 0)
    }

    /// `kairos run --replay FILE`: a recording of wire ticks replayed through `FileReplay` (io_uring
    /// block reads or plain reads) into the same engine and order path; every tick arrives, none is
    /// counted lost, orders reach the gateway (which quotes from a ZeroMQ feed of the same ticks).
    @Test(arguments: [IngestBackend.ioUring, .epoll])
    func fileReplayFeedsTheEngine(io: IngestBackend) async throws {
        let symbols = (0..<4).map { "SYN\($0)" }
        let (publisher, gateway) = try Self.feedAndGateway(symbols: symbols)
        defer { gateway.stop() }
        #expect(publisher.waitForSubscriptions(1, timeoutSeconds: 10) >= 1)
        let count = 20_000
        var source = SyntheticTickSource(
            market: SyntheticMarket(scenario: .demo, instruments: symbols.count, seed: 11), limit: count)
        var ticks: [Tick] = []
        var t = Tick()
        while source.nextTick(into: &t) {
            ticks.append(t)
            _ = try publisher.publish(t)  // the gateway's quotes
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-replay-\(UUID()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileReplay.write(ticks, to: path)

        var cfg = KairosConfig()
        cfg.policy.kind = .sma
        cfg.instruments = symbols
        cfg.feed.transport = .file
        cfg.feed.file = path
        cfg.feed.io = io
        cfg.orders.gateway = gateway.boundEndpoint
        cfg.policy.barSeconds = 0.005
        var logger = Logger(label: "test.run.file")
        logger.logLevel = .warning
        let app = try buildApplication(config: cfg, logger: logger, handleSignals: false)
        let replay = try #require(app.ingest.file)
        #expect(app.engine.config.staleAfterNs == nil)  // a replay's pauses are not a silent feed
        let running = Task { try await app.group.run() }
        try await app.waitUntilSettled(ticks: count, timeoutSeconds: 30)
        await app.group.triggerGracefulShutdown()
        try await running.value

        let s = try #require(app.engine.monitor.snapshot)
        #expect(s.counters.ticksReceived == UInt64(count))
        #expect(s.counters.ticksAccepted == UInt64(count))
        #expect(s.ticksLost == 0)
        #expect(replay.stats.pushed == UInt64(count) && replay.stats.decodeErrors.total == 0)
        #expect(s.counters.ordersSent > 0)
        #expect(s.counters.fills > 0)
    }

    /// The wire-to-wire measurement's plumbing: every order at the gateway is matched with the
    /// publisher's stamp of its triggering tick, and the hops add up (no wall-clock assertion).
    @Test func wireBenchmarkMatchesEveryOrderToItsTick() async throws {
        var logger = Logger(label: "test.bench")
        logger.logLevel = .error
        let r = try await WireBenchmark.run(rate: 20_000, ticks: 8_000, instruments: 2, barSeconds: 0.002, logger: logger)
        #expect(r.ticksAccepted == 8_000)
        #expect(r.ordersAtGateway > 0)
        #expect(r.wireToWire.count == UInt64(r.ordersAtGateway))
        #expect(r.feedHop.count == r.wireToWire.count && r.orderHop.count == r.wireToWire.count)
        // Same clock (CLOCK_REALTIME) at every stamp, so no hop is negative and the parts fit in the whole.
        #expect(r.feedHop.p50 >= 0 && r.engineHop.p50 >= 0 && r.orderHop.p50 >= 0)
        #expect(r.wireToWire.max >= r.feedHop.max && r.wireToWire.max >= r.orderHop.max)
        #expect(r.orderRoundTrip.count > 0)
    }
}
