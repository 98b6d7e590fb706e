import KairosCore
import KairosStrategies
import KairosIO

/// The result of a backtest: the engine's final state and the venue's view.
public struct BacktestReport: Sendable {
    public var snapshot: EngineSnapshot
    public var equityCurve: [(time: Int64, equity: Double)]
    public var ticks: Int
    public var venueFills: UInt64
    public var venueFees: Double

    public var totalReturn: Double { snapshot.equity / snapshot.initialCapital - 1 }
}

/// Runs the live engine over a historical or synthetic tick source with the paper venue and a
/// simulated clock, in lockstep on the calling thread: the same `Engine`, `RiskManager` and
/// `PaperVenue` as the threaded demo and live trading, only the clock and the threads differ.
///
/// Per tick: the clock advances to the tick's exchange time (which is also its receive time), the
/// venue fills orders that have become eligible, the engine applies the executions and then the
/// tick, and the venue accepts the orders the engine pushed. Deterministic for a deterministic source.
public enum Backtest {
    /// The rings a lockstep backtest needs (nothing waits on them: the loop drains them every tick).
    public static let ringCapacities = (inbound: 1024, outbound: 1024, executions: 8192)

    /// Runs `policy` over `source` on an engine built here from `config` (for tests and research
    /// code with their own policies; the commands build theirs with KairosApp's `EngineBuilder`
    /// and call `run(engine:source:fills:)`).
    public static func run<P: DecisionPolicy, S: TickSource>(
        policy: P, source: inout S, config: EngineConfig, fills: PaperFillConfig = PaperFillConfig(),
        events: (any EngineEventSink)? = nil, equitySampleEvery: Int64? = nil
    ) throws -> BacktestReport {
        var cfg = config
        if let e = equitySampleEvery { sampleEquity(every: e, in: &cfg) }
        let engine = try Engine(
            config: cfg, policy: policy, clock: SimulatedClock(),
            inbound: SPSCRing<Tick>(capacity: ringCapacities.inbound).claimConsumer(),
            outbound: SPSCRing<Order>(capacity: ringCapacities.outbound).claimProducer(),
            executions: SPSCRing<ExecutionReport>(capacity: ringCapacities.executions).claimConsumer())
        engine.events = events
        return run(engine: engine, source: &source, fills: fills)
    }

    /// Samples equity every `ns` of simulated time (equity is sampled at snapshots, so snapshots
    /// come at least that often).
    public static func sampleEquity(every ns: Int64, in config: inout EngineConfig) {
        config.equitySampleIntervalNs = ns
        config.snapshotIntervalNs = min(config.snapshotIntervalNs, ns)
    }

    /// Drives a built engine (on a `SimulatedClock`, nothing running on its rings) over `source`
    /// with the paper venue, in lockstep on the calling thread. Claims the far sides of the
    /// engine's rings (the tick producer, the order consumer, the report producer), so an engine
    /// runs one backtest.
    public static func run<P: DecisionPolicy, S: TickSource>(
        engine: Engine<P, SimulatedClock>, source: inout S, fills: PaperFillConfig = PaperFillConfig()
    ) -> BacktestReport {
        let clock = engine.clock
        let inbound = engine.inbound.ring.claimProducer()
        let outbound = engine.outbound.ring.claimConsumer()
        let executions = engine.executions.ring.claimProducer()
        engine.measureLatency = false
        var venue = PaperVenue(config: fills, capacity: max(64, engine.config.instruments.count * 2))
        var tick = Tick()
        var count = 0
        var lostReports = 0
        // A local function, not a closure value: it borrows the non-copyable producer, which an
        // escaping closure could not capture.
        func emit(_ r: ExecutionReport) { if !executions.push(r) { lostReports += 1 } }
        while source.nextTick(into: &tick) {
            count += 1
            clock.advance(to: tick.ts_exchange_ns)
            tick.ts_recv_ns = tick.ts_exchange_ns
            venue.onTick(tick, emit: emit)
            if !inbound.push(tick) { inbound.countDrops(1) }
            while engine.processAvailable() > 0 {}
            while let order = outbound.pop() { venue.submit(order, now: clock.now(), emit: emit) }
        }
        engine.drainExecutions()
        precondition(lostReports == 0, "execution ring sized too small for the venue")
        engine.publishSnapshot(now: clock.now())
        return BacktestReport(
            snapshot: engine.snapshot(now: clock.now()), equityCurve: engine.portfolio.equityCurve, ticks: count,
            venueFills: venue.fills, venueFees: venue.feesCharged)
    }
}
