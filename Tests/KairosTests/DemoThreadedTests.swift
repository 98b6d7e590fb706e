import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// The threaded demo: market+venue thread and engine thread sharing rings. CI runs this suite under
/// ThreadSanitizer too (`--filter "RingStress|DemoThreaded"`).
@Suite struct DemoThreadedTests {
    @Test func aShortDemoRunIsConsistent() throws {
        var o = DemoOptions()
        o.instruments = 4
        o.ticks = 60_000
        o.rate = 0  // as fast as the engine takes them, no drops
        o.badTickRate = 1e-3
        o.barSeconds = 0.05  // ~6 s of market time: short bars so SMA(10/30) trades
        o.fills = PaperFillConfig(latencyNs: 0, slippageBps: 0.5, feeBps: 0.2)
        let demo = try DemoRun(options: o)
        demo.start()
        while !demo.isMarketFinished { sleepMicroseconds(2_000) }
        demo.stop()
        let s = try #require(demo.monitor.snapshot)
        let m = demo.marketSnapshot
        #expect(m.generated == 60_000)
        #expect(m.dropped == 0)
        // Every generated tick was either accepted or rejected by the validator.
        #expect(s.counters.ticksReceived == 60_000)
        #expect(s.counters.ticksAccepted + s.counters.totalTicksRejected == 60_000)
        #expect(s.counters.totalTicksRejected >= 1 && s.counters.totalTicksRejected <= m.corrupted)
        // The SMA baseline trades on a regime-switching market.
        #expect(s.counters.ordersSent > 0)
        // The venue answered every order; the engine saw all answers but those that arrived after
        // it stopped (at most one working order per instrument).
        let after = demo.marketSnapshot
        #expect(after.venueAcks + after.venueRejects == s.counters.ordersSent)
        #expect(after.lostReports == 0)
        #expect(s.counters.acks <= s.counters.ordersSent && s.counters.acks + 4 >= s.counters.ordersSent)
        #expect(s.counters.fills <= s.counters.ordersSent)
        #expect(s.counters.fills + 4 >= s.counters.ordersSent)
        #expect(s.decisionLatency.count == s.counters.ticksAccepted)
        #expect(s.equity.isFinite && s.equity > 0)
        #expect(abs(s.equity - (s.initialCapital + s.realizedPnL + s.unrealizedPnL - s.fees)) < 1e-6 * s.initialCapital)
    }
}
