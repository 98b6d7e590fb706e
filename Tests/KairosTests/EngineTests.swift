import CKairos
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// A policy that returns a fixed target per instrument, changeable by the test.
struct ScriptedPolicy: DecisionPolicy {
    var name: String { "scripted" }
    var target: Double?
    var seen: Int = 0
    var lastFeatureUpdates: UInt64 = 0
    mutating func decide(_ context: DecisionContext) -> Double? {
        seen += 1
        lastFeatureUpdates = context.featureUpdates
        return target
    }
}

/// Ticks from a list of mids, one instrument, 1 ms apart, 2 bps wide.
struct ListSource: TickSource {
    var mids: [Double]
    var k = 0
    var instrument: UInt16 = 0
    mutating func nextTick(into tick: inout Tick) -> Bool {
        guard k < mids.count else { return false }
        let m = mids[k]
        k += 1
        tick = Tick(
            instrument: InstrumentID(instrument), seq: UInt64(k), exchangeTime: Int64(k) * 1_000_000,
            receiveTime: Int64(k) * 1_000_000, bid: m * (1 - 1e-4), ask: m * (1 + 1e-4))
        return true
    }
}

@Suite struct EngineTests {
    func config(capital: Double = 10_000, risk: RiskLimits? = nil) -> EngineConfig {
        var c = EngineConfig.synthetic(instruments: 1, capitalPerInstrument: capital)
        if let risk { c.risk = risk }
        return c
    }
    let fills = PaperFillConfig(latencyNs: 0, slippageBps: 0, feeBps: 0)

    @Test func targetBecomesAnOrderThatFillsOnTheNextTick() throws {
        var source = ListSource(mids: [100, 100, 100, 100])
        let events = RecentEvents()
        let report = try Backtest.run(
            policy: ScriptedPolicy(target: 0.5), source: &source, config: config(), fills: fills, events: events)
        let c = report.snapshot.counters
        #expect(c.ordersSent == 1)
        #expect(c.acks == 1 && c.fills == 1)
        // 0.5 × 10,000 / 100 = 50 units, bought at the ask of the second tick.
        #expect(report.snapshot.positions[0].quantity == 50)
        #expect(abs(report.snapshot.positions[0].averagePrice - 100 * (1 + 1e-4)) < 1e-9)
        #expect(events.events.contains { if case .orderSent(let o) = $0 { o.quantity == 50 && o.side == 1 } else { false } })
    }

    @Test func pnlFollowsThePrice() throws {
        var source = ListSource(mids: [100, 100, 110, 110])
        var c = config()
        c.minRebalanceFraction = 0.2  // the 10-unit drift from 100 to 90 target units stays below it
        let report = try Backtest.run(policy: ScriptedPolicy(target: 1), source: &source, config: c, fills: fills)
        // 100 units bought at 100.01 (ask of tick 2), marked at mid 110.
        let expected = 100 * (110 - 100 * (1 + 1e-4))
        #expect(abs(report.snapshot.pnl - expected) < 1e-6)
        #expect(abs(report.snapshot.unrealizedPnL - expected) < 1e-6)
    }

    @Test func smallTargetChangesAreIgnoredAndZeroCloses() throws {
        var c = config()
        c.minRebalanceFraction = 0.2
        let inbound = SPSCRing<Tick>(capacity: 16), outbound = SPSCRing<Order>(capacity: 16)
        let execs = SPSCRing<ExecutionReport>(capacity: 16)
        let engine = try Engine(
            config: c, policy: ScriptedPolicy(target: 0.1), clock: SimulatedClock(), inbound: inbound.claimConsumer(),
            outbound: outbound.claimProducer(), executions: execs.claimConsumer())
        var src = ListSource(mids: Array(repeating: 100, count: 3))
        var t = Tick()
        _ = src.nextTick(into: &t)
        #expect(engine.processTick(t) == false)  // 0.1 < 0.2 of the allocation: ignored
        #expect(outbound.approximateCount == 0)
    }

    @Test func badTicksAreCountedAndNeverReachTheFeatures() throws {
        let inbound = SPSCRing<Tick>(capacity: 16), outbound = SPSCRing<Order>(capacity: 16)
        let execs = SPSCRing<ExecutionReport>(capacity: 16)
        let engine = try Engine(
            config: config(), policy: ScriptedPolicy(target: nil), clock: SimulatedClock(), inbound: inbound.claimConsumer(),
            outbound: outbound.claimProducer(), executions: execs.claimConsumer())
        // Numbered in order (the data stage drops a repeated sequence number as a duplicate).
        var seq: UInt64 = 0
        func t(_ bid: Double, _ ask: Double, ts: Int64, inst: UInt16 = 0) -> Tick {
            seq += 1
            return Tick(instrument: InstrumentID(inst), seq: seq, exchangeTime: ts, receiveTime: ts, bid: bid, ask: ask)
        }
        engine.processTick(t(99, 101, ts: 10))
        let f0 = engine.features(of: InstrumentID(0))
        for bad in [
            t(.nan, 101, ts: 11), t(99, .infinity, ts: 11), t(0, 101, ts: 11), t(-1, 101, ts: 11),
            t(102, 101, ts: 11), t(99, 101, ts: 5), t(99, 101, ts: 11, inst: 9),
        ] {
            #expect(engine.processTick(bad) == false)
        }
        let c = engine.counters
        #expect(c.ticksAccepted == 1)
        #expect(c.totalTicksRejected == 7)
        #expect(c.ticksRejected[TickRejection.nonFinitePrice.rawValue] == 2)
        #expect(c.ticksRejected[TickRejection.nonPositivePrice.rawValue] == 2)
        #expect(c.ticksRejected[TickRejection.crossedQuote.rawValue] == 1)
        #expect(c.ticksRejected[TickRejection.timestampBackwards.rawValue] == 1)
        #expect(c.ticksRejected[TickRejection.unknownInstrument.rawValue] == 1)
        #expect(engine.policy.seen == 1)
        #expect(engine.policy.lastFeatureUpdates == 1)
        let f1 = engine.features(of: InstrumentID(0))
        for k in 0..<Feature.count { #expect(f0[index: k] == f1[index: k] || (f0[index: k].isNaN && f1[index: k].isNaN)) }
        #expect(engine.portfolio.equity == engine.portfolio.initialCapital)
    }

    @Test func riskRejectionsAreCountedOnTheEnginePath() throws {
        // Position limit below what the policy wants.
        let limits = RiskLimits(maxPositionNotional: 1_000, maxOrderNotional: 100_000, maxGrossNotional: 100_000)
        var source = ListSource(mids: [100, 100, 100])
        let events = RecentEvents()
        let report = try Backtest.run(
            policy: ScriptedPolicy(target: 1), source: &source, config: config(risk: limits), fills: fills, events: events)
        #expect(report.snapshot.counters.ordersSent == 0)
        #expect(report.snapshot.counters.ordersRejected[RiskRejection.positionLimit.rawValue] == 3)
        #expect(report.snapshot.positions[0].quantity == 0)
        #expect(events.events.contains { if case .orderRejected(_, .positionLimit, _) = $0 { true } else { false } })
    }

    @Test func circuitBreakerFlattensAndHalts() throws {
        var limits = RiskLimits.scaled(capitalPerInstrument: 10_000, instruments: 1)
        limits.maxDrawdown = 0.1
        limits.priceBandBps = 10_000
        // Long 1× from 100, then the price falls 30 %: the breaker trips, the engine sells out.
        var mids: [Double] = [100, 100, 100]
        mids += stride(from: 97.0, through: 70, by: -3)
        mids += Array(repeating: 70, count: 5)
        var source = ListSource(mids: mids)
        let report = try Backtest.run(
            policy: ScriptedPolicy(target: 1), source: &source, config: config(risk: limits), fills: fills)
        let s = report.snapshot
        #expect(s.breakerTripped)
        #expect(s.counters.breakerTrips == 1)
        #expect(s.positions[0].quantity == 0)
        #expect(s.counters.ordersSent == 2)  // the entry and the flattening sell
        #expect(s.maxDrawdown >= 0.1)
    }

    @Test func killSwitchBlocksEveryOrder() throws {
        let inbound = SPSCRing<Tick>(capacity: 16), outbound = SPSCRing<Order>(capacity: 16)
        let execs = SPSCRing<ExecutionReport>(capacity: 16)
        let kill = KillSwitch()
        let engine = try Engine(
            config: config(), policy: ScriptedPolicy(target: 1), clock: SimulatedClock(), inbound: inbound.claimConsumer(),
            outbound: outbound.claimProducer(), executions: execs.claimConsumer(), killSwitch: kill)
        let orders = outbound.claimConsumer()
        kill.engage()
        var src = ListSource(mids: [100, 100])
        var t = Tick()
        _ = src.nextTick(into: &t)
        #expect(engine.processTick(t) == false)
        #expect(engine.counters.ordersRejected[RiskRejection.killSwitch.rawValue] == 1)
        kill.release()
        _ = src.nextTick(into: &t)
        #expect(engine.processTick(t) == true)
        #expect(orders.pop()?.quantity == 100)
    }

    @Test func executionsForUnknownOrdersAreCountedNotApplied() throws {
        let inbound = SPSCRing<Tick>(capacity: 16), outbound = SPSCRing<Order>(capacity: 16)
        let execs = SPSCRing<ExecutionReport>(capacity: 16)
        let engine = try Engine(
            config: config(), policy: ScriptedPolicy(target: nil), clock: SimulatedClock(), inbound: inbound.claimConsumer(),
            outbound: outbound.claimProducer(), executions: execs.claimConsumer())
        var r = ExecutionReport()
        r.client_order_id = 77
        r.kind = UInt8(KAIROS_EXEC_FILL.rawValue)
        r.fill_qty = 5
        r.fill_price = 100
        r.side = Side.buy.rawValue
        _ = execs.claimProducer().push(r)  // the venue's side, used once
        engine.drainExecutions()
        #expect(engine.counters.unknownExecutions == 1)
        #expect(engine.portfolio.positions[0].quantity == 0)
    }
}

@Suite struct DecisionPathHarnessTests {
    @Test func harnessTradesAndRecordsLatency() throws {
        let h = try DecisionPathHarness(instruments: 4, tapeLength: 5_000)
        var orders = 0
        for _ in 0..<20_000 where h.step() { orders += 1 }
        #expect(orders > 0)
        #expect(h.engine.counters.ticksAccepted == 20_000)  // tape replays stay valid
        #expect(h.engine.counters.ordersSent == UInt64(orders))
        #expect(h.engine.counters.totalOrdersRejected == 0)
        #expect(h.engine.decisionLatency.totalCount == 20_000)
        #expect(h.engine.counters.fills + 4 >= h.engine.counters.ordersSent)
        #expect(!h.engine.risk.breakerTripped)
    }
}

@Suite struct EngineFeatureSnapshotTests {
    @Test func engineOffersThrottledSnapshotsToTheCacheRing() throws {
        let ring = SPSCRing<FeatureSnapshot>(capacity: 64)
        let engine = try Engine(
            config: .synthetic(instruments: 2, capitalPerInstrument: 10_000), policy: ScriptedPolicy(target: nil),
            clock: SimulatedClock(), inbound: SPSCRing<Tick>(capacity: 16).claimConsumer(), outbound: SPSCRing<Order>(capacity: 16).claimProducer(),
            executions: SPSCRing<ExecutionReport>(capacity: 16).claimConsumer())
        engine.snapshots = FeatureSnapshotPublisher(ring: ring.claimProducer(), instrumentCount: 2)
        let cache = ring.claimConsumer()
        for k in 1...5 {
            engine.processTick(Tick(instrument: InstrumentID(k % 2), seq: UInt64(k), exchangeTime: Int64(k), receiveTime: 0, bid: 99, ask: 101))
        }
        // Simulated time never advances past the 10 ms interval: one snapshot per instrument.
        var got: [UInt16] = []
        while let s = cache.pop() { got.append(s.instrument) }
        #expect(got.sorted() == [0, 1])
        #expect(engine.features(of: InstrumentID(1))[.rollingMean] == 100)
    }
}

@Suite struct EngineSequenceAndStaleFeedTests {
    @Test func duplicatesAreDroppedAndASilentFeedHaltsTheInstrumentUntilFreshTicks() throws {
        var config = EngineConfig.synthetic(instruments: 1, capitalPerInstrument: 10_000)
        config.staleAfterNs = 1_000_000_000
        config.staleResumeTicks = 3
        let clock = SimulatedClock(start: 0)
        let outbound = SPSCRing<Order>(capacity: 64)
        let engine = try Engine(
            config: config, policy: ScriptedPolicy(target: nil), clock: clock, inbound: SPSCRing<Tick>(capacity: 16).claimConsumer(),
            outbound: outbound.claimProducer(), executions: SPSCRing<ExecutionReport>(capacity: 16).claimConsumer())
        let orders = outbound.claimConsumer()
        var seq: UInt64 = 0
        func tick(seq s: UInt64? = nil) -> Tick {
            if s == nil { seq += 1 }
            return Tick(instrument: InstrumentID(0), seq: s ?? seq, exchangeTime: clock.now(), receiveTime: clock.now(), bid: 99, ask: 101, publisher: 4)
        }
        engine.processTick(tick())
        engine.processTick(tick())
        engine.processTick(tick(seq: 2))  // duplicate
        #expect(engine.counters.sequenceDropped == 1)
        #expect(engine.counters.ticksAccepted == 2)
        #expect(engine.sequences.stats.duplicates == 1)

        // Two seconds of silence: the next snapshot halts the instrument.
        clock.advance(to: 2_000_000_000)
        engine.publishSnapshot(now: clock.now())
        #expect(engine.isHaltedForStaleFeed(InstrumentID(0)))
        #expect(engine.counters.staleHalts == 1)

        // The policy now wants to buy: refused for the stale feed until 3 fresh ticks have arrived.
        engine.policy_setTarget(1)
        #expect(engine.processTick(tick()) == false)
        #expect(engine.processTick(tick()) == false)
        #expect(engine.counters.ordersRejected[RiskRejection.staleFeed.rawValue] == 2)
        #expect(engine.processTick(tick()) == true)  // third fresh tick lifts the halt
        #expect(!engine.isHaltedForStaleFeed(InstrumentID(0)))
        #expect(orders.pop()?.quantity == 100)
    }
}

extension Engine where Policy == ScriptedPolicy {
    /// Test hook: change the scripted target between ticks (same thread as the engine).
    func policy_setTarget(_ t: Double?) { setPolicyForTesting { $0.target = t } }
}

/// `Engine.processExecution` applies reports by `OrderLifecycle`'s rules.
@Suite final class EngineExecutionTests {
    let inbound = SPSCRing<Tick>(capacity: 16), outbound: SPSCRing<Order>
    let execs = SPSCRing<ExecutionReport>(capacity: 16)
    /// The venue's side of the engine's outbound ring.
    let orders: SPSCRing<Order>.Consumer
    let clock = SimulatedClock()
    let id = InstrumentID(0)

    init() {
        let o = SPSCRing<Order>(capacity: 16)
        outbound = o
        orders = o.claimConsumer()
    }

    /// An engine that wants half its 10,000 allocation long: 50 units at 100.
    func engine() throws -> Engine<ScriptedPolicy, SimulatedClock> {
        try Engine(
            config: EngineConfig.synthetic(instruments: 1, capitalPerInstrument: 10_000), policy: ScriptedPolicy(target: 0.5),
            clock: clock, inbound: inbound.claimConsumer(), outbound: outbound.claimProducer(), executions: execs.claimConsumer())
    }

    /// Feeds a tick at mid 100 and returns the order it produced.
    func order(from engine: Engine<ScriptedPolicy, SimulatedClock>, at t: Int64) throws -> Order {
        clock.advance(to: t)
        #expect(engine.processTick(Tick(instrument: id, seq: UInt64(t), exchangeTime: t, receiveTime: t, bid: 99.99, ask: 100.01)))
        return try #require(orders.pop() as Order?)
    }

    func reject(_ o: Order, _ reason: OrderRejectReason) -> ExecutionReport {
        ExecutionReport(answering: o, kind: KAIROS_EXEC_REJECT, now: 0, reason: reason)
    }

    /// Lets the engine send an order at `t` and answers it with a REJECT for `reason`.
    func rejectedOrder(from engine: Engine<ScriptedPolicy, SimulatedClock>, at t: Int64, _ reason: OrderRejectReason) throws -> Order {
        let o = try order(from: engine, at: t)
        engine.processExecution(reject(o, reason))
        return o
    }

    func fill(_ o: Order, _ quantity: Double, leaves: Double, price: Double = 100) -> ExecutionReport {
        var r = ExecutionReport(answering: o, kind: KAIROS_EXEC_FILL, now: 0, leaves: leaves)
        r.fill_qty = quantity
        r.fill_price = price
        return r
    }

    @Test func partialFillsThenTheLastOneAndASecondAckIsIgnored() throws {
        let e = try engine()
        let o = try order(from: e, at: 10)
        #expect(o.quantity == 50)
        e.processExecution(ExecutionReport(answering: o, kind: KAIROS_EXEC_ACK, now: 0, leaves: 50))
        e.processExecution(ExecutionReport(answering: o, kind: KAIROS_EXEC_ACK, now: 0, leaves: 50))
        #expect(e.counters.acks == 1 && e.counters.unexpectedExecutions == 1)
        e.processExecution(fill(o, 20, leaves: 30))
        #expect(e.portfolio.positions[0].quantity == 20)
        #expect(e.workingOrder(of: id)?.id == o.client_order_id && e.workingOrder(of: id)?.quantity == 30)
        #expect(e.processTick(Tick(instrument: id, seq: 11, exchangeTime: 11, receiveTime: 11, bid: 99.99, ask: 100.01)) == false)
        e.processExecution(fill(o, 30, leaves: 0))
        #expect(e.portfolio.positions[0].quantity == 50 && e.workingOrder(of: id) == nil)
        #expect(e.counters.fills == 2)
        // The order is over: another fill for it is not the working order's, and not applied.
        e.processExecution(fill(o, 30, leaves: 0))
        #expect(e.counters.unknownExecutions == 1 && e.portfolio.positions[0].quantity == 50)
        #expect(e.grossNotional == 50 * 100)
    }

    /// The router gave up on an order (REJECT timeout), the engine sent the next one, and then the
    /// venue's answers to the first arrive: the FILL is booked, the rest only counted.
    @Test func aFillAfterTheRouterTimedTheOrderOutIsBooked() throws {
        let e = try engine()
        let first = try rejectedOrder(from: e, at: 10, .timeout)
        #expect(e.workingOrder(of: id) == nil)
        #expect(e.counters.orderTimeouts == 1 && e.counters.venueRejects == 1)
        #expect(e.risk.consecutiveOrderTimeouts == 1)
        let second = try order(from: e, at: 20)
        #expect(second.quantity == 50 && second.client_order_id != first.client_order_id)

        e.processExecution(ExecutionReport(answering: first, kind: KAIROS_EXEC_ACK, now: 0, leaves: 50))
        #expect(e.counters.lateExecutions == 1 && e.counters.acks == 0)
        // A late answer is no proof of a healthy gateway: it was slower than the timeout.
        #expect(e.risk.consecutiveOrderTimeouts == 1)
        e.processExecution(fill(first, 50, leaves: 0, price: 100.01))
        #expect(e.counters.lateFills == 1 && e.counters.fills == 0)
        #expect(e.portfolio.positions[0].quantity == 50)
        #expect(abs(e.portfolio.positions[0].averagePrice - 100.01) < 1e-12)
        // The second order still works, sized before the late fill; exposure counts both.
        #expect(e.workingOrder(of: id)?.id == second.client_order_id && e.workingOrder(of: id)?.quantity == 50)
        #expect(e.grossNotional == 100 * 100)
        e.processExecution(ExecutionReport(answering: first, kind: KAIROS_EXEC_CANCELLED, now: 0, leaves: 50))
        e.processExecution(reject(first, .timeout))
        #expect(e.counters.lateExecutions == 3 && e.counters.unexpectedExecutions == 1)
        #expect(e.portfolio.positions[0].quantity == 50 && e.counters.unknownExecutions == 0)

        // The second order's own ACK is the gateway answering: its timeout count resets.
        e.processExecution(ExecutionReport(answering: second, kind: KAIROS_EXEC_ACK, now: 0, leaves: 50))
        #expect(e.risk.consecutiveOrderTimeouts == 0 && e.counters.acks == 1)
    }

    /// Only an instrument's last timed-out order is remembered; older ones are unknown.
    @Test func aFillForAnOlderTimedOutOrderIsUnknown() throws {
        let e = try engine()
        let first = try rejectedOrder(from: e, at: 10, .timeout)
        let second = try rejectedOrder(from: e, at: 20, .timeout)
        e.processExecution(fill(first, 50, leaves: 0))
        #expect(e.counters.unknownExecutions == 1 && e.counters.lateFills == 0)
        #expect(e.portfolio.positions[0].quantity == 0)
        e.processExecution(fill(second, 50, leaves: 0))
        #expect(e.counters.lateFills == 1 && e.portfolio.positions[0].quantity == 50)
    }

    /// A REJECT for any other reason, and a send failure, end the order; only the venue's own
    /// answers count as signs of a live gateway.
    @Test func rejectsEndTheOrderAndOnlyVenueAnswersResetTheTimeoutCount() throws {
        let e = try engine()
        _ = try rejectedOrder(from: e, at: 10, .timeout)
        _ = try rejectedOrder(from: e, at: 20, .sendFailed)
        #expect(e.workingOrder(of: id) == nil && e.risk.consecutiveOrderTimeouts == 1)
        _ = try rejectedOrder(from: e, at: 30, .noQuote)
        #expect(e.workingOrder(of: id) == nil && e.risk.consecutiveOrderTimeouts == 0)
        #expect(e.counters.venueRejects == 3 && e.counters.orderTimeouts == 1)
        let fourth = try order(from: e, at: 40)
        e.processExecution(ExecutionReport(answering: fourth, kind: KAIROS_EXEC_CANCELLED, now: 0, leaves: 50))
        #expect(e.workingOrder(of: id) == nil && e.counters.cancels == 1)
        #expect(e.portfolio.positions[0].quantity == 0 && e.grossNotional == 0)
    }
}
