import CKairos
import CKairosTesting
import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// A tick publisher for the tests: a real ZeroMQ PUB (kairos_zsock, CKairosTesting) on an
/// ephemeral port, which can also send malformed tick messages.
final class TestTickPublisher {
    let pub: UnsafeMutableRawPointer
    let endpoint: String
    var seq: UInt64 = 0

    init() throws {
        pub = try #require(kairos_zsock_new(KAIROS_ZSOCK_PUB))
        #expect(kairos_zsock_bind(pub, "tcp://127.0.0.1:*") == 0)
        var buf = [CChar](repeating: 0, count: 256)
        #expect(kairos_zsock_last_endpoint(pub, &buf, buf.count) == 0)
        endpoint = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    deinit { kairos_zsock_close(pub) }

    func quote(_ instrument: UInt16, bid: Double, ask: Double) {
        seq += 1
        var t = Tick(instrument: InstrumentID(instrument), seq: seq, exchangeTime: 1, receiveTime: 0, bid: bid, ask: ask)
        _ = kairos_zsock_send_tick(pub, "tick.T\(instrument)", &t, WallClock().now())
    }

    /// Publishes the quote until the gateway has seen a quote for `count` instruments (PUB/SUB
    /// drops messages sent before the subscription reached the publisher).
    func quoteUntilSeen(_ gateway: PaperGateway, _ instrument: UInt16, bid: Double, ask: Double, count: Int = 1) throws {
        try waitFor("gateway quote") {
            quote(instrument, bid: bid, ask: ask)
            sleepMicroseconds(2_000)
            return gateway.statistics.instrumentsQuoted >= count
        }
    }
}

/// Polls `condition` until it holds; fails (throws) after a generous deadline. Not a timing assertion:
/// the deadline only keeps a broken build from hanging CI.
func waitFor(_ what: String, seconds: Double = 20, _ condition: () -> Bool) throws {
    let deadline = MonotonicClock.nanoseconds() + Int64(seconds * 1e9)
    while !condition() {
        if MonotonicClock.nanoseconds() > deadline {
            Issue.record("timed out waiting for \(what)")
            throw CancellationError()
        }
        sleepMicroseconds(200)
    }
}

/// Pops `n` reports from the executions ring (the test thread is its consumer).
func collect(_ n: Int, from reports: borrowing SPSCRing<ExecutionReport>.Consumer) throws -> [ExecutionReport] {
    var out: [ExecutionReport] = []
    try waitFor("\(n) execution reports (have \(out.count))") {
        while let r = reports.pop() { out.append(r) }
        return out.count >= n
    }
    return out
}

func makeOrder(_ id: UInt64, instrument: UInt16, side: Side, quantity: Double, limit: Double = 0) -> Order {
    var o = Order()
    o.client_order_id = id
    o.instrument = instrument
    o.side = side.rawValue
    o.quantity = quantity
    o.limit_price = limit
    o.type = UInt8(limit > 0 ? KAIROS_ORDER_LIMIT.rawValue : KAIROS_ORDER_MARKET.rawValue)
    o.action = UInt8(KAIROS_ORDER_NEW.rawValue)
    o.ts_decision_ns = MonotonicClock.nanoseconds()
    return o
}

func makeCancel(_ id: UInt64, instrument: UInt16, side: Side) -> Order {
    var o = makeOrder(id, instrument: instrument, side: side, quantity: 1)
    o.action = UInt8(KAIROS_ORDER_CANCEL.rawValue)
    return o
}

func temporaryPath(_ name: String) -> String {
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-\(name)-\(UUID().uuidString).csv").path
    return p
}

/// A gateway played by the test: a raw ZeroMQ ROUTER on an ephemeral port that answers exactly the
/// reports the test scripts (or nothing at all).
final class ScriptedGateway {
    let socket: UnsafeMutableRawPointer
    let endpoint: String
    /// The router's peer identity, learnt from the first order received.
    var identity = [UInt8]()

    init() throws {
        socket = try #require(kairos_zsock_new(KAIROS_ZSOCK_ROUTER))
        #expect(kairos_zsock_bind(socket, "tcp://127.0.0.1:*") == 0)
        var ep = [CChar](repeating: 0, count: 128)
        #expect(kairos_zsock_last_endpoint(socket, &ep, ep.count) == 0)
        endpoint = String(decoding: ep.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    deinit { kairos_zsock_close(socket) }

    /// A started `OrderRouter` connected to this gateway as `routingID`, with its rings (the router
    /// holds their far sides; the caller claims the engine's); `configure` adjusts the rest of its
    /// configuration. The caller stops it.
    func startRouter(_ routingID: String, configure: (inout OrderRouterConfig) -> Void = { _ in }) throws
        -> (OrderRouter, outbound: SPSCRing<Order>, executions: SPSCRing<ExecutionReport>)
    {
        var c = OrderRouterConfig()
        c.endpoint = endpoint
        c.routingID = routingID
        configure(&c)
        let outbound = SPSCRing<Order>(capacity: 8), executions = SPSCRing<ExecutionReport>(capacity: 8)
        let router = try OrderRouter(config: c, outbound: outbound.claimConsumer(), executions: executions.claimProducer())
        router.start()
        return (router, outbound, executions)
    }

    /// Receives [identity, order] (waiting up to 10 s) and decodes the order.
    func receiveOrder() throws -> Order {
        var id = [UInt8](repeating: 0, count: 256), frame = [UInt8](repeating: 0, count: 256)
        let idLen = kairos_zsock_recv(socket, &id, id.count, 10_000)
        let len = kairos_zsock_recv(socket, &frame, frame.count, 1_000)
        try #require(idLen > 0 && len > 0)
        identity = Array(id.prefix(Int(idLen)))
        var order = Order()
        try #require(kairos_wire_decode_order(frame, Int(len), &order) == 0)
        return order
    }

    /// Sends a report answering `order` to the router.
    func answer(
        _ order: Order, _ kind: kairos_exec_kind, leaves: Double = 0, fill: Double = 0, price: Double = 100,
        reason: OrderRejectReason? = nil
    ) {
        var r = ExecutionReport(answering: order, kind: kind, now: WallClock().now(), leaves: leaves, reason: reason)
        if fill > 0 {
            r.fill_qty = fill
            r.fill_price = price
        }
        var out = [UInt8](repeating: 0, count: 128)
        let n = kairos_wire_encode_exec(&r, 9, &out, out.count)
        #expect(kairos_zsock_send(socket, identity, identity.count, 1) == 0 && kairos_zsock_send(socket, out, Int(n), 0) == 0)
    }
}

/// Router ↔ paper gateway over real ZeroMQ TCP loopback sockets, each on its own thread.
@Suite(.serialized) struct OrderWireThreadedTests {
    /// Holds the engine's sides of the router's rings (the test thread pushes orders and pops
    /// reports as the engine would). A class: it keeps non-copyable handles and its init throws.
    final class Rig {
        let pub: TestTickPublisher
        let gateway: PaperGateway
        let router: OrderRouter
        let outbound: SPSCRing<Order>.Producer
        let executions: SPSCRing<ExecutionReport>.Consumer

        init(fills: PaperFillConfig, fillLog: String? = nil, feed: Bool = true, routerConfig: OrderRouterConfig = OrderRouterConfig()) throws {
            pub = try TestTickPublisher()
            var g = PaperGatewayConfig()
            g.endpoint = "tcp://127.0.0.1:*"
            g.feedEndpoint = feed ? pub.endpoint : nil
            g.fills = fills
            g.fillLogPath = fillLog
            g.fillLogSync = .everyFill
            gateway = try PaperGateway(config: g)
            #expect(gateway.boundEndpoint.hasPrefix("tcp://127.0.0.1:"))
            gateway.start()
            var r = routerConfig
            r.endpoint = gateway.boundEndpoint
            r.routingID = "engine-test"
            let orders = SPSCRing<Order>(capacity: 64), reports = SPSCRing<ExecutionReport>(capacity: 64)
            router = try OrderRouter(config: r, outbound: orders.claimConsumer(), executions: reports.claimProducer())
            outbound = orders.claimProducer()
            executions = reports.claimConsumer()
            router.start()
        }

        func stop() {
            router.stop()
            gateway.stop()
        }
    }

    @Test func ordersComeBackAsAckThenFillAtTheTouchWithFees() throws {
        let log = temporaryPath("fills")
        defer { unlink(log) }
        let fills = PaperFillConfig(latencyNs: 1_000_000, slippageBps: 1, feeBps: 2)
        let rig = try Rig(fills: fills, fillLog: log)
        try rig.pub.quoteUntilSeen(rig.gateway, 3, bid: 99, ask: 101)
        try rig.pub.quoteUntilSeen(rig.gateway, 5, bid: 49.5, ask: 50.5, count: 2)
        #expect(rig.outbound.push(makeOrder(1, instrument: 3, side: .buy, quantity: 10)) == true)
        #expect(rig.outbound.push(makeOrder(2, instrument: 5, side: .sell, quantity: 4)) == true)
        let reports = try collect(4, from: rig.executions)
        rig.stop()

        for (id, inst, side, qty, price) in [
            (UInt64(1), UInt16(3), Side.buy, 10.0, 101 * (1 + 1e-4)), (UInt64(2), UInt16(5), Side.sell, 4.0, 49.5 * (1 - 1e-4)),
        ] {
            let mine = reports.filter { $0.client_order_id == id }
            try #require(mine.count == 2)
            #expect(mine[0].reportKind == KAIROS_EXEC_ACK && mine[0].leaves_qty == qty && mine[0].instrument == inst)
            #expect(mine[1].reportKind == KAIROS_EXEC_FILL)
            #expect(mine[1].fill_qty == qty && mine[1].leaves_qty == 0 && mine[1].side == side.rawValue)
            #expect(abs(mine[1].fill_price - price) < 1e-12)
            #expect(abs(mine[1].fee - price * qty * 2e-4) < 1e-12)
            #expect(mine[1].ts_ns > 1_600_000_000_000_000_000)  // gateway wall clock
        }
        let rs = rig.router.statistics
        #expect(rs.ordersSent == 2 && rs.acks == 2 && rs.fills == 2 && rs.timeouts == 0 && rs.inFlight == 0)
        #expect(rs.malformedReports.total == 0 && rs.executionDrops == 0)
        #expect(rig.router.roundTripLatency.totalCount == 2)
        let gs = rig.gateway.statistics
        #expect(gs.acks == 2 && gs.fills == 2 && gs.rejects == 0 && gs.working == 0 && gs.undeliverable == 0)

        // The fill log lists exactly these fills.
        let (logged, torn) = try FillLog.read(path: log)
        #expect(!torn)
        try #require(logged.count == 2)
        for f in logged {
            let r = try #require(reports.first { $0.client_order_id == f.clientOrderID && $0.reportKind == KAIROS_EXEC_FILL })
            #expect(f.price == r.fill_price && f.fee == r.fee && f.quantity == r.fill_qty && f.gatewayTimeNs == r.ts_ns)
            #expect(f.instrument == r.instrument && f.side.rawValue == r.side)
        }
    }

    /// An acknowledged order that never fills (here: the gateway's fill latency is 10 minutes) is
    /// cancelled by the router after `workingTimeoutNs`; the gateway's CANCELLED ends it.
    @Test func anAckedOrderThatNeverFillsIsCancelledAfterTheWorkingTimeout() throws {
        var rc = OrderRouterConfig()
        rc.ackTimeoutNs = 2_000_000_000
        rc.workingTimeoutNs = 150_000_000
        let rig = try Rig(fills: PaperFillConfig(latencyNs: 600_000_000_000), routerConfig: rc)
        try rig.pub.quoteUntilSeen(rig.gateway, 1, bid: 10, ask: 10.1)
        #expect(rig.outbound.push(makeOrder(21, instrument: 1, side: .buy, quantity: 3)) == true)
        var reports: [ExecutionReport] = []
        try waitFor("the order's final report") {
            while let r = rig.executions.pop() { reports.append(r) }
            return reports.contains { $0.reportKind != KAIROS_EXEC_ACK }
        }
        rig.stop()
        // Read after stop: the router publishes its counters after the loop iteration that
        // delivered the report, so a read right after popping it can be one iteration old.
        let working = rig.router.statistics
        #expect(reports.map(\.reportKind) == [KAIROS_EXEC_ACK, KAIROS_EXEC_CANCELLED])
        #expect(reports.allSatisfy { $0.client_order_id == 21 })
        #expect(working.workingTimeouts == 1 && working.cancelsSent == 1)
        #expect(working.timeouts == 0 && working.cancelTimeouts == 0 && working.inFlight == 0)
        #expect(rig.gateway.statistics.cancels == 1)
    }

    /// A gateway that acknowledges and then goes silent (a raw ROUTER that answers the NEW with an
    /// ACK and ignores everything after): the router cancels after the working timeout and, with
    /// that cancel unanswered for one ack timeout, gives up with REJECT(timeout).
    @Test func aWorkingOrderWhoseCancelIsNeverAnsweredTimesOut() throws {
        let gw = try ScriptedGateway()
        let (router, outboundRing, executionsRing) = try gw.startRouter("engine-silent") {
            $0.ackTimeoutNs = 150_000_000
            $0.workingTimeoutNs = 100_000_000
        }
        defer { router.stop() }
        let orders = outboundRing.claimProducer(), answers = executionsRing.claimConsumer()  // the engine's sides
        #expect(orders.push(makeOrder(41, instrument: 1, side: .buy, quantity: 2)) == true)
        let order = try gw.receiveOrder()
        gw.answer(order, KAIROS_EXEC_ACK, leaves: order.quantity)
        var reports: [ExecutionReport] = []
        try waitFor("the router to give up on order 41") {
            while let r = answers.pop() { reports.append(r) }
            return reports.count >= 2
        }
        // The cancel the router sent after the working timeout reached the (silent) gateway.
        let cancel = try gw.receiveOrder()
        #expect(cancel.client_order_id == 41 && cancel.action == UInt8(KAIROS_ORDER_CANCEL.rawValue))
        #expect(reports.map(\.reportKind) == [KAIROS_EXEC_ACK, KAIROS_EXEC_REJECT])
        #expect(reports[1].rejectReason == .timeout)
        router.stop()  // its final counters (published after the iteration that delivered the reject)
        let st = router.statistics
        #expect(st.workingTimeouts == 1 && st.cancelTimeouts == 1 && st.timeouts == 1 && st.inFlight == 0)
    }

    /// The router tracks an order by `OrderLifecycle`: a second ACK is illegal (counted, forwarded),
    /// partial fills keep it in flight, the last fill ends it.
    @Test func partialFillsKeepAnOrderInFlightAndASecondAckIsUnexpected() throws {
        let gw = try ScriptedGateway()
        let (router, outboundRing, executionsRing) = try gw.startRouter("engine-partial")
        defer { router.stop() }
        let outbound = outboundRing.claimProducer(), executions = executionsRing.claimConsumer()  // the engine's sides
        #expect(outbound.push(makeOrder(51, instrument: 2, side: .sell, quantity: 10)) == true)
        let order = try gw.receiveOrder()
        gw.answer(order, KAIROS_EXEC_ACK, leaves: 10)
        gw.answer(order, KAIROS_EXEC_ACK, leaves: 10)
        gw.answer(order, KAIROS_EXEC_FILL, leaves: 6, fill: 4)
        var reports = try collect(3, from: executions)
        try waitFor("the router's counters for those reports") { router.statistics.fills == 1 }
        var st = router.statistics
        #expect(st.inFlight == 1 && st.unexpectedReports == 1 && st.acks == 2 && st.fills == 1)
        gw.answer(order, KAIROS_EXEC_FILL, leaves: 0, fill: 6)
        reports += try collect(1, from: executions)
        try waitFor("the order to leave the table") { router.statistics.inFlight == 0 }
        st = router.statistics
        #expect(reports.map(\.reportKind) == [KAIROS_EXEC_ACK, KAIROS_EXEC_ACK, KAIROS_EXEC_FILL, KAIROS_EXEC_FILL])
        #expect(st.fills == 2 && st.unexpectedReports == 1 && st.timeouts == 0 && st.lateReports == 0)
        router.stop()  // publishes the round-trip histogram
        #expect(router.roundTripLatency.totalCount == 1)  // send → first answer, once
    }

    /// A gateway slower than the ack timeout: the router times the engine's order out, and the
    /// gateway's FILL arrives afterwards. It is a late report (counted by the router) and a real
    /// execution (booked by the engine), while the engine's working order stays freed.
    @Test func aFillAfterTheTimeoutIsLateAndTheEngineBooksIt() throws {
        let gw = try ScriptedGateway()
        var rc = OrderRouterConfig()
        rc.endpoint = gw.endpoint
        rc.routingID = "engine-slow-gateway"
        rc.ackTimeoutNs = 30_000_000
        let (engine, router) = try Self.engineBehindRouter(rc)
        defer { router.stop() }
        #expect(engine.processTick(Self.tradingTick))
        let order = try gw.receiveOrder()
        try waitFor("the router's timeout to reach the engine") {
            engine.drainExecutions()
            return engine.counters.orderTimeouts == 1
        }
        #expect(engine.workingOrder(of: InstrumentID(0)) == nil)
        let cancel = try gw.receiveOrder()  // cancelOnTimeout
        #expect(cancel.client_order_id == order.client_order_id && cancel.action == UInt8(KAIROS_ORDER_CANCEL.rawValue))
        // Too late: the gateway had filled it before the cancel came.
        gw.answer(order, KAIROS_EXEC_ACK, leaves: order.quantity)
        gw.answer(order, KAIROS_EXEC_FILL, leaves: 0, fill: order.quantity, price: 100.01)
        gw.answer(cancel, KAIROS_EXEC_REJECT, reason: .unknownOrder)
        try waitFor("the late reports to reach the engine") {
            engine.drainExecutions()
            return engine.counters.lateExecutions == 3
        }
        router.stop()  // its final counters
        #expect(router.statistics.lateReports == 3 && router.statistics.inFlight == 0)
        #expect(engine.counters.lateFills == 1 && engine.counters.unknownExecutions == 0)
        #expect(engine.portfolio.positions[0].quantity == order.quantity)
        #expect(engine.workingOrder(of: InstrumentID(0)) == nil)
    }

    @Test func anOrderWithoutAnyQuoteIsRejected() throws {
        let rig = try Rig(fills: PaperFillConfig(latencyNs: 0), feed: false)
        #expect(rig.outbound.push(makeOrder(7, instrument: 2, side: .buy, quantity: 1)) == true)
        let r = try collect(1, from: rig.executions)
        rig.stop()
        #expect(r[0].client_order_id == 7 && r[0].reportKind == KAIROS_EXEC_REJECT)
        #expect(r[0].rejectReason == .noQuote)
        #expect(rig.gateway.statistics.rejectsNoQuote == 1)
        #expect(rig.router.statistics.rejects == 1 && rig.router.statistics.inFlight == 0)
    }

    @Test func cancelRemovesAWorkingOrderAndUnknownCancelsAreRejected() throws {
        let log = temporaryPath("cancel")
        defer { unlink(log) }
        let rig = try Rig(fills: PaperFillConfig(latencyNs: 600_000_000_000), fillLog: log)  // never due
        try rig.pub.quoteUntilSeen(rig.gateway, 1, bid: 10, ask: 10.1)
        #expect(rig.outbound.push(makeOrder(11, instrument: 1, side: .buy, quantity: 3)) == true)
        let ack = try collect(1, from: rig.executions)
        #expect(ack[0].reportKind == KAIROS_EXEC_ACK)
        #expect(rig.outbound.push(makeOrder(12, instrument: 1, side: .sell, quantity: 2)) == true)  // left working
        #expect(try collect(1, from: rig.executions)[0].reportKind == KAIROS_EXEC_ACK)
        #expect(rig.outbound.push(makeCancel(11, instrument: 1, side: .buy)) == true)
        #expect(rig.outbound.push(makeCancel(99, instrument: 1, side: .buy)) == true)
        let r = try collect(2, from: rig.executions)
        // Stopping the gateway answers the order still working with CANCELLED.
        rig.gateway.stop()
        let atStop = try collect(1, from: rig.executions)
        rig.router.stop()
        #expect(atStop[0].client_order_id == 12 && atStop[0].reportKind == KAIROS_EXEC_CANCELLED)
        #expect(rig.gateway.statistics.cancelledAtStop == 1)
        #expect(r[0].client_order_id == 11 && r[0].reportKind == KAIROS_EXEC_CANCELLED && r[0].leaves_qty == 3)
        #expect(r[1].client_order_id == 99 && r[1].reportKind == KAIROS_EXEC_REJECT)
        #expect(r[1].rejectReason == .unknownOrder)
        let gs = rig.gateway.statistics
        #expect(gs.cancels == 1 && gs.cancelsReceived == 2 && gs.fills == 0 && gs.working == 0 && gs.acks == 2)
        #expect(rig.router.statistics.cancelsSent == 2)
        #expect(try FillLog.read(path: log).fills.isEmpty)
    }

    @Test func anUnansweredOrderTimesOutIntoASynthesizedReject() throws {
        let outbound = SPSCRing<Order>(capacity: 8)
        let executions = SPSCRing<ExecutionReport>(capacity: 8)
        var c = OrderRouterConfig()
        c.endpoint = "tcp://127.0.0.1:1"  // nothing listens (privileged port): the gateway is absent
        c.ackTimeoutNs = 50_000_000
        let router = try OrderRouter(config: c, outbound: outbound.claimConsumer(), executions: executions.claimProducer())
        let orders = outbound.claimProducer(), answers = executions.claimConsumer()  // the engine's sides
        router.start()
        #expect(orders.push(makeOrder(5, instrument: 9, side: .sell, quantity: 2)) == true)
        let r = try collect(1, from: answers)
        router.stop()
        #expect(r[0].client_order_id == 5 && r[0].reportKind == KAIROS_EXEC_REJECT && r[0].instrument == 9)
        #expect(r[0].rejectReason == .timeout && r[0].side == Side.sell.rawValue)
        let s = router.statistics
        #expect(s.timeouts == 1 && s.inFlight == 0 && s.cancelsSent == 1 && s.acks == 0)
    }

    #if KAIROS_CHECK_INVARIANTS
    /// The in-flight table's invariants are checked (debug builds): a count that disagrees with
    /// the table stops the process.
    @Test func aBrokenInFlightTableStopsTheInvariantCheck() async {
        await #expect(processExitsWith: .success) { Self.unstartedRouter()._checkInvariants() }  // consistent
        await #expect(processExitsWith: .failure) {
            let r = Self.unstartedRouter()
            r.stats.inFlight = 1
            r._checkInvariants()
        }
    }

    /// A real engine that wants half its 10,000 allocation long on one instrument, its orders
    /// going through a started `OrderRouter` with `config` (the caller stops it).
    static func engineBehindRouter(_ config: OrderRouterConfig) throws -> (Engine<ScriptedPolicy, SimulatedClock>, OrderRouter) {
        let outbound = SPSCRing<Order>(capacity: 16), executions = SPSCRing<ExecutionReport>(capacity: 16)
        let engine = try Engine(
            config: EngineConfig.synthetic(instruments: 1, capitalPerInstrument: 10_000),
            policy: ScriptedPolicy(target: 0.5), clock: SimulatedClock(), inbound: SPSCRing<Tick>(capacity: 16).claimConsumer(),
            outbound: outbound.claimProducer(), executions: executions.claimConsumer())
        let router = try OrderRouter(config: config, outbound: outbound.claimConsumer(), executions: executions.claimProducer())
        router.start()
        return (engine, router)
    }

    /// A tick at mid 100 on which that engine sends its order.
    static let tradingTick = Tick(instrument: InstrumentID(0), seq: 1, exchangeTime: 10, receiveTime: 10, bid: 99.99, ask: 100.01)

    /// A router for a gateway that is not there, never started.
    static func unstartedRouter() -> OrderRouter {
        var c = OrderRouterConfig()
        c.endpoint = "tcp://127.0.0.1:1"
        return try! OrderRouter(
            config: c, outbound: SPSCRing<Order>(capacity: 8).claimConsumer(),
            executions: SPSCRing<ExecutionReport>(capacity: 8).claimProducer())
    }
    #endif

    @Test func theEngineFreesItsWorkingOrderOnATimeout() throws {
        // Through a real Engine: its order goes out via the router to an absent gateway, and the
        // synthesized REJECT(timeout) releases the engine's working order.
        var c = OrderRouterConfig()
        c.endpoint = "tcp://127.0.0.1:1"
        c.ackTimeoutNs = 20_000_000
        let (engine, router) = try Self.engineBehindRouter(c)
        defer { router.stop() }
        #expect(engine.processTick(Self.tradingTick))
        #expect(engine.workingOrder(of: InstrumentID(0)) != nil)
        try waitFor("the engine to see the timeout") {
            engine.drainExecutions()
            return engine.workingOrder(of: InstrumentID(0)) == nil
        }
        #expect(engine.counters.venueRejects == 1)
        router.stop()  // its final counters
        #expect(router.statistics.timeouts == 1)
    }

    @Test func malformedFramesAreCountedNotCrashedOn() throws {
        let rig = try Rig(fills: PaperFillConfig(latencyNs: 0))
        try rig.pub.quoteUntilSeen(rig.gateway, 4, bid: 20, ask: 20.2)
        // A plain DEALER (CKairosTesting): the engine's DEALER only ever sends well-formed orders.
        let raw = try #require(kairos_zsock_new(KAIROS_ZSOCK_DEALER))
        defer { kairos_zsock_close(raw) }
        #expect(kairos_zsock_connect(raw, rig.gateway.boundEndpoint) == 0)
        var good = makeOrder(21, instrument: 4, side: .buy, quantity: 1)
        var buf = [UInt8](repeating: 0, count: 64)
        #expect(kairos_wire_encode_order(&good, 0, &buf, 64) == 64)
        #expect(kairos_zsock_send(raw, [1, 2, 3], 3, 0) == 0)  // short
        var v = buf
        v[0] = 9
        #expect(kairos_zsock_send(raw, v, 64, 0) == 0)  // version
        var side = buf
        side[48] = 7
        #expect(kairos_zsock_send(raw, side, 64, 0) == 0)  // field
        #expect(kairos_zsock_send(raw, buf, 64, 1) == 0)  // two frames
        #expect(kairos_zsock_send(raw, buf, 64, 0) == 0)
        var t = Tick()
        var tickBuf = [UInt8](repeating: 0, count: 72)
        _ = kairos_wire_encode_tick(&t, 0, &tickBuf, 72)
        #expect(kairos_zsock_send(raw, tickBuf, 72, 0) == 0)  // wrong type
        let big = [UInt8](repeating: 1, count: 4096)
        #expect(kairos_zsock_send(raw, big, big.count, 0) == 0)  // oversized
        // Bad tick frames on the feed: a lone topic frame and a short record.
        #expect(kairos_zsock_send(rig.pub.pub, "tick.X", 6, 0) == 0)
        #expect(kairos_zsock_send(rig.pub.pub, "tick.X", 6, 1) == 0 && kairos_zsock_send(rig.pub.pub, [1, 1, 0, 0], 4, 0) == 0)
        // A valid order after all that is still served.
        #expect(kairos_zsock_send(raw, buf, 64, 0) == 0)
        var reports: [ExecutionReport] = []
        try waitFor("reports to the raw client") {
            var frame = [UInt8](repeating: 0, count: 256)
            var r = ExecutionReport()
            while case let n = kairos_zsock_recv(raw, &frame, frame.count, 0), n > 0,
                  kairos_wire_decode_exec(frame, Int(n), &r) == 0 { reports.append(r) }
            return reports.count >= 2
        }
        #expect(reports[0].client_order_id == 21 && reports[0].reportKind == KAIROS_EXEC_ACK)
        #expect(reports[1].client_order_id == 21 && reports[1].reportKind == KAIROS_EXEC_FILL)
        try waitFor("malformed counts") {
            let s = rig.gateway.statistics
            return s.malformedOrders.total == 6 && s.malformedTicks.total == 2
        }
        rig.stop()
        let m = rig.gateway.statistics.malformedOrders
        #expect(m[.tooShort] == 1 && m[.unknownVersion] == 1 && m[.fieldOutOfDomain] == 1 && m[.wrongFrameCount] == 1)
        #expect(m[.unexpectedType] == 1 && m[.tooLong] == 1)
        let mt = rig.gateway.statistics.malformedTicks
        #expect(mt[.wrongFrameCount] == 1 && mt[.tooShort] == 1)
        #expect(rig.gateway.statistics.acks == 1 && rig.gateway.statistics.fills == 1)
    }

    /// Order round trip (router send → first answer received) over TCP loopback, one order in flight
    /// at a time. Prints p50/p99/p99.9; `KAIROS_RTT_ORDERS` sets the count (default 2,000).
    @Test func orderRoundTripLatency() throws {
        let n = Int(ProcessInfo.processInfo.environment["KAIROS_RTT_ORDERS"] ?? "") ?? 2_000
        var rc = OrderRouterConfig()
        rc.idleSpins = Int.max  // spin: measure the wire, not the idle sleep
        let rig = try Rig(fills: PaperFillConfig(latencyNs: 0, slippageBps: 0, feeBps: 0), routerConfig: rc)
        try rig.pub.quoteUntilSeen(rig.gateway, 0, bid: 100, ask: 100.01)
        var engineSide = LatencyHistogram()  // ring push → ACK popped, as the engine thread sees it
        for i in 0..<n {
            let id = UInt64(i + 1)
            let pushed = MonotonicClock.nanoseconds()
            while !rig.outbound.push(makeOrder(id, instrument: 0, side: i % 2 == 0 ? .buy : .sell, quantity: 1)) {}
            var answered = 0
            while answered < 2 {  // ACK and FILL
                if let r = rig.executions.pop() {
                    #expect(r.client_order_id == id)
                    if answered == 0 { engineSide.record(MonotonicClock.nanoseconds() - pushed) }
                    answered += 1
                } else {
                    sched_yield()  // the test thread is not on the measured path: leave the cores to the wire
                }
            }
        }
        rig.stop()
        let h = rig.router.roundTripLatency
        #expect(h.totalCount == UInt64(n))
        #expect(rig.router.statistics.acks == UInt64(n) && rig.router.statistics.fills == UInt64(n))
        func us(_ h: LatencyHistogram) -> String {
            let f = { (q: Double) in String(format: "%.1f", Double(h.percentile(q)) / 1000) }
            return "p50 \(f(0.5)) us, p99 \(f(0.99)) us, p99.9 \(f(0.999)) us, max \(f(1)) us"
        }
        print("order round trip over tcp loopback, \(n) orders, router send -> ack received: \(us(h))")
        print("order round trip over tcp loopback, \(n) orders, outbound push -> ack popped: \(us(engineSide))")
    }
}
