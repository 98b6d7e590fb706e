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
    public static func run<P: DecisionPolicy, S: TickSource>(
        policy: P, source: inout S, config: EngineConfig, fills: PaperFillConfig = PaperFillConfig(),
        events: (any EngineEventSink)? = nil, equitySampleEvery: Int64? = nil
    ) throws -> BacktestReport {
        let clock = SimulatedClock()
        let inbound = SPSCRing<Tick>(capacity: 1024)
        let outbound = SPSCRing<Order>(capacity: 1024)
        let executions = SPSCRing<ExecutionReport>(capacity: 8192)
        var cfg = config
        if let e = equitySampleEvery {
            cfg.equitySampleIntervalNs = e
            cfg.snapshotIntervalNs = min(cfg.snapshotIntervalNs, e)  // equity is sampled at snapshots
        }
        let engine = try Engine(
            config: cfg, policy: policy, clock: clock, inbound: inbound, outbound: outbound, executions: executions)
        engine.measureLatency = false
        engine.events = events
        var venue = PaperVenue(config: fills, capacity: max(64, config.instruments.count * 2))
        var tick = Tick()
        var count = 0
        var lostReports = 0
        let emit: (ExecutionReport) -> Void = { if !executions.push($0) { lostReports += 1 } }
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
