import Foundation
import Logging
import Testing
@testable import Kairos

/// `kairos run` end to end over real ZeroMQ sockets on loopback, all in one process: a tick
/// publisher (what `kairos feed` runs), the paper gateway (what `kairos gateway` runs) and the
/// application `kairos run` builds (ingest → engine → order router), under its ServiceGroup.
@Suite(.serialized) struct LiveRunThreadedTests {
    @Test func ticksFlowInOrdersFlowOutFillsComeBack() async throws {
        let symbols = (0..<4).map { "SYN\($0)" }
        let publisher = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: symbols)
        var gc = PaperGatewayConfig()
        gc.endpoint = "tcp://127.0.0.1:*"
        gc.feedEndpoint = publisher.boundEndpoint
        gc.fills = PaperFillConfig(latencyNs: 0, slippageBps: 0.5, feeBps: 0.2)
        let gateway = try PaperGateway(config: gc)
        gateway.start()
        defer { gateway.stop() }

        var cfg = KairosConfig()
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
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let s = app.engine.monitor.snapshot, s.counters.ticksReceived >= UInt64(count),
                s.counters.acks + s.counters.venueRejects >= s.counters.ordersSent
            { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        await app.group.triggerGracefulShutdown()
        try await running.value

        let s = try #require(app.engine.monitor.snapshot)
        #expect(s.counters.ticksReceived == UInt64(count))
        #expect(s.counters.ticksAccepted == UInt64(count))
        #expect(app.ingest.stats.accepted == UInt64(count))
        #expect(s.counters.ordersSent > 0)
        #expect(s.counters.fills > 0)
        let g = gateway.statistics
        #expect(g.ordersReceived == s.counters.ordersSent)
        #expect(g.fills >= s.counters.fills)
        #expect(s.positions.contains { $0.fillCount > 0 })
        #expect(s.equity.isFinite)
    }
}
