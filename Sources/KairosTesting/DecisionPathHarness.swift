import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosApp

/// The engine's decision path set up for measurement: a pre-generated synthetic tick tape, the
/// engine with the SMA(10/30) baseline on ticks (so orders are frequent), risk limits wide enough
/// that orders are approved, and the paper venue answering orders so working orders clear.
///
/// `step()` handles one tick end to end: the venue sees the tick (fills eligible orders into the
/// executions ring), the tick goes through the inbound ring, the engine applies executions and the
/// tick (validate → features → policy → sizing → risk → outbound ring), and the venue acknowledges
/// the orders the engine pushed. It is what the `DecisionPath` benchmark times, specialised inside
/// this module so the generic engine is measured as it runs in the product.
///
/// Snapshots (which allocate, off the hot path) are disabled here by a huge snapshot interval, so
/// an allocation counter sees only the per-tick path.
public final class DecisionPathHarness {
    public let engine: Engine<SMACrossoverPolicy, MonotonicClock>
    // The far ends of the engine's rings, all driven by the thread calling `step()`.
    private let ticks: SPSCRing<Tick>.Producer
    private let orders: SPSCRing<Order>.Consumer
    private let reports: SPSCRing<ExecutionReport>.Producer
    private var venue: PaperVenue
    private let tape: [Tick]
    private var cursor = 0
    private var emitted = 0

    public init(instruments: Int = 8, tapeLength: Int = 1 << 16, seed: UInt64 = 7) throws {
        var config = EngineConfig.synthetic(instruments: instruments, capitalPerInstrument: 100_000)
        config.risk = RiskLimits(
            maxPositionNotional: 1e12, maxOrderNotional: 1e12, maxGrossNotional: 1e13, priceBandBps: 10_000,
            maxOrdersPerSecond: 1 << 20,
            // SMA(10/30) on raw ticks pays the spread on every crossing and bleeds equity over
            // millions of ticks; the breaker must never trip here or the path measured changes
            // (and its log line allocates).
            maxDrawdown: .infinity)
        config.snapshotIntervalNs = Int64.max / 4
        config.equitySampleIntervalNs = Int64.max / 4
        let inbound = SPSCRing<Tick>(capacity: 1024), outbound = SPSCRing<Order>(capacity: 1024)
        let executions = SPSCRing<ExecutionReport>(capacity: 4096)
        engine = try Engine(
            config: config, policy: SMACrossoverPolicy(instruments: instruments), clock: MonotonicClock(),
            inbound: inbound.claimConsumer(), outbound: outbound.claimProducer(), executions: executions.claimConsumer())
        ticks = inbound.claimProducer()
        orders = outbound.claimConsumer()
        reports = executions.claimProducer()
        venue = PaperVenue(config: PaperFillConfig(latencyNs: 0, slippageBps: 0.5, feeBps: 0.2), capacity: instruments * 4)
        var market = SyntheticMarket(scenario: .demo, instruments: instruments, seed: seed)
        var t = Tick()
        tape = (0..<tapeLength).map { _ in
            _ = market.nextTick(into: &t)
            return t
        }
    }

    /// Handles one tick end to end; returns true when the engine pushed an order for it.
    @discardableResult
    public func step() -> Bool {
        var tick = tape[cursor]
        cursor = cursor + 1 == tape.count ? 0 : cursor + 1
        // Replaying the tape again must look like a continuing feed to the data stage: time does not
        // go backwards (validator) and sequence numbers are not repeated (sequence tracking).
        let lap = emitted / tape.count
        tick.ts_exchange_ns &+= Int64(lap) &* 1_000_000_000_000
        tick.seq &+= UInt64(lap) &* UInt64(tape.count)
        emitted &+= 1
        tick.ts_recv_ns = MonotonicClock.nanoseconds()
        venue.onTick(tick) { _ = self.reports.push($0) }
        _ = ticks.push(tick)
        engine.drainExecutions()
        var sent = false
        _ = engine.inbound.withAvailable { ticks in
            for t in ticks where engine.processTick(t) { sent = true }
            return ticks.count
        }
        while let order = orders.pop() {
            venue.submit(order, now: tick.ts_recv_ns) { _ = self.reports.push($0) }
        }
        return sent
    }
}
