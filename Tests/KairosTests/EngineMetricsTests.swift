import Metrics
import MetricsTestKit
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// The engine's counters reach swift-metrics through its monitor (off the hot path, as deltas
/// between snapshots). Uses a task-local test factory, so it does not touch the global bootstrap.
@Suite struct EngineMetricsTests {
    @Test func snapshotsPublishCounterDeltasAndGauges() throws {
        let metrics = TestMetrics()
        try withMetricsFactory(metrics) {
            let monitor = EngineMonitor(metricsPrefix: "kairos")
            let engine = try Engine(
                config: .synthetic(instruments: 1, capitalPerInstrument: 10_000), policy: ScriptedPolicy(target: 1),
                clock: SimulatedClock(), inbound: SPSCRing<Tick>(capacity: 16).claimConsumer(), outbound: SPSCRing<Order>(capacity: 16).claimProducer(),
                executions: SPSCRing<ExecutionReport>(capacity: 16).claimConsumer(), monitor: monitor)
            func tick(_ ts: Int64, bid: Double = 99.99, ask: Double = 100.01) -> Tick {
                Tick(instrument: InstrumentID(0), seq: UInt64(ts), exchangeTime: ts, receiveTime: ts, bid: bid, ask: ask)
            }
            engine.processTick(tick(1))  // an order
            engine.processTick(tick(2, bid: .nan))  // a rejected tick
            engine.publishSnapshot(now: 3)
            engine.processTick(tick(4))
            engine.processTick(tick(5, bid: 101, ask: 100))  // crossed
            engine.publishSnapshot(now: 6)

            #expect(try metrics.expectCounter("kairos_ticks_accepted_total").totalValue == 2)
            #expect(try metrics.expectCounter("kairos_orders_sent_total").totalValue == 1)
            #expect(
                try metrics.expectCounter("kairos_ticks_rejected_total", [("reason", "non_finite_price")]).totalValue == 1)
            #expect(try metrics.expectCounter("kairos_ticks_rejected_total", [("reason", "crossed_quote")]).totalValue == 1)
            #expect(try metrics.expectGauge("kairos_equity").lastValue == 10_000)
            #expect(monitor.snapshot?.counters.ticksReceived == 4)
        }
    }
}
