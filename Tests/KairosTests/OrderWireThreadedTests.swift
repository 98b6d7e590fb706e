import CKairos
import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// A tick publisher for the tests: a real ZeroMQ PUB (kairos_zorders_pub) on an ephemeral port.
final class TestTickPublisher {
    let pub: OpaquePointer
    let endpoint: String
    var seq: UInt64 = 0

    init() throws {
        pub = try #require(kairos_zorders_pub_open("tcp://127.0.0.1:*"))
        var buf = [CChar](repeating: 0, count: 256)
        #expect(kairos_zorders_pub_endpoint(pub, &buf, buf.count) == 0)
        endpoint = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    deinit { kairos_zorders_pub_close(pub) }

    func quote(_ instrument: UInt16, bid: Double, ask: Double) {
        seq += 1
        var t = Tick(instrument: InstrumentID(instrument), seq: seq, exchangeTime: 1, receiveTime: 0, bid: bid, ask: ask)
        _ = kairos_zorders_pub_send_tick(pub, "tick.T\(instrument)", &t, WallClock().now())
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
        let working = rig.router.statistics
        rig.stop()
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
        let gw = try #require(kairos_zsock_new(KAIROS_ZSOCK_ROUTER))
        defer { kairos_zsock_close(gw) }
        #expect(kairos_zsock_bind(gw, "tcp://127.0.0.1:*") == 0)
        var ep = [CChar](repeating: 0, count: 128)
        #expect(kairos_zsock_last_endpoint(gw, &ep, ep.count) == 0)
        var rc = OrderRouterConfig()
        rc.endpoint = String(decoding: ep.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        rc.routingID = "engine-silent"
        rc.ackTimeoutNs = 150_000_000
        rc.workingTimeoutNs = 100_000_000
        let outbound = SPSCRing<Order>(capacity: 8), executions = SPSCRing<ExecutionReport>(capacity: 8)
        let router = try OrderRouter(config: rc, outbound: outbound.claimConsumer(), executions: executions.claimProducer())
        let orders = outbound.claimProducer(), answers = executions.claimConsumer()  // the engine's sides
        router.start()
        defer { router.stop() }
        #expect(orders.push(makeOrder(41, instrument: 1, side: .buy, quantity: 2)) == true)
        // Receive [identity, order] and answer ACK.
        var identity = [UInt8](repeating: 0, count: 256), frame = [UInt8](repeating: 0, count: 256)
        let idLen = kairos_zsock_recv(gw, &identity, identity.count, 10_000)
        let orderLen = kairos_zsock_recv(gw, &frame, frame.count, 1_000)
        try #require(idLen > 0 && orderLen > 0)
        var order = Order()
        #expect(kairos_wire_decode_order(frame, Int(orderLen), &order) == 0)
        var ack = ExecutionReport(answering: order, kind: KAIROS_EXEC_ACK, now: WallClock().now(), reason: 0)
        ack.leaves_qty = order.quantity
        var out = [UInt8](repeating: 0, count: 128)
        let n = kairos_wire_encode_exec(&ack, 9, &out, out.count)
        #expect(kairos_zsock_send(gw, identity, Int(idLen), 1) == 0 && kairos_zsock_send(gw, out, Int(n), 0) == 0)
        var reports: [ExecutionReport] = []
        try waitFor("the router to give up on order 41") {
            while let r = answers.pop() { reports.append(r) }
            return reports.count >= 2
        }
        // The cancel the router sent after the working timeout reached the (silent) gateway.
        #expect(kairos_zsock_recv(gw, &identity, identity.count, 1_000) > 0)
        let cancelLen = kairos_zsock_recv(gw, &frame, frame.count, 1_000)
        var cancel = Order()
        #expect(kairos_wire_decode_order(frame, Int(cancelLen), &cancel) == 0)
        #expect(cancel.client_order_id == 41 && cancel.action == UInt8(KAIROS_ORDER_CANCEL.rawValue))
        #expect(reports.map(\.reportKind) == [KAIROS_EXEC_ACK, KAIROS_EXEC_REJECT])
        #expect(reports[1].reason == OrderRejectReason.timeout.rawValue)
        let st = router.statistics
        #expect(st.workingTimeouts == 1 && st.cancelTimeouts == 1 && st.timeouts == 1 && st.inFlight == 0)
    }

    @Test func anOrderWithoutAnyQuoteIsRejected() throws {
        let rig = try Rig(fills: PaperFillConfig(latencyNs: 0), feed: false)
        #expect(rig.outbound.push(makeOrder(7, instrument: 2, side: .buy, quantity: 1)) == true)
        let r = try collect(1, from: rig.executions)
        rig.stop()
        #expect(r[0].client_order_id == 7 && r[0].reportKind == KAIROS_EXEC_REJECT)
        #expect(r[0].reason == OrderRejectReason.noQuote.rawValue && r[0].reason == UInt32(KAIROS_ZORDERS_REASON_NO_QUOTE))
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
        #expect(r[1].reason == OrderRejectReason.unknownOrder.rawValue)
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
        #expect(r[0].reason == UInt32(KAIROS_ZORDERS_REASON_TIMEOUT) && r[0].side == Side.sell.rawValue)
        let s = router.statistics
        #expect(s.timeouts == 1 && s.inFlight == 0 && s.cancelsSent == 1 && s.acks == 0)
    }

    @Test func theEngineFreesItsWorkingOrderOnATimeout() throws {
        // Through a real Engine: its order goes out via the router to an absent gateway, and the
        // synthesized REJECT(timeout) releases the engine's working order.
        let inbound = SPSCRing<Tick>(capacity: 16)
        let outbound = SPSCRing<Order>(capacity: 16)
        let executions = SPSCRing<ExecutionReport>(capacity: 16)
        let engine = try Engine(
            config: EngineConfig.synthetic(instruments: 1, capitalPerInstrument: 10_000),
            policy: ScriptedPolicy(target: 0.5), clock: SimulatedClock(), inbound: inbound.claimConsumer(),
            outbound: outbound.claimProducer(), executions: executions.claimConsumer())
        var c = OrderRouterConfig()
        c.endpoint = "tcp://127.0.0.1:1"
        c.ackTimeoutNs = 20_000_000
        let router = try OrderRouter(config: c, outbound: outbound.claimConsumer(), executions: executions.claimProducer())
        router.start()
        defer { router.stop() }
        let t = Tick(instrument: InstrumentID(0), seq: 1, exchangeTime: 10, receiveTime: 10, bid: 99.99, ask: 100.01)
        #expect(engine.processTick(t))
        #expect(engine.workingOrder(of: InstrumentID(0)) != nil)
        try waitFor("the engine to see the timeout") {
            engine.drainExecutions()
            return engine.workingOrder(of: InstrumentID(0)) == nil
        }
        #expect(engine.counters.venueRejects == 1)
        #expect(router.statistics.timeouts == 1)
    }

    @Test func malformedFramesAreCountedNotCrashedOn() throws {
        let rig = try Rig(fills: PaperFillConfig(latencyNs: 0))
        try rig.pub.quoteUntilSeen(rig.gateway, 4, bid: 20, ask: 20.2)
        let raw = try #require(kairos_zorders_dealer_open(rig.gateway.boundEndpoint, "raw-client"))
        defer { kairos_zorders_dealer_close(raw) }
        var good = makeOrder(21, instrument: 4, side: .buy, quantity: 1)
        var buf = [UInt8](repeating: 0, count: 64)
        #expect(kairos_wire_encode_order(&good, 0, &buf, 64) == 64)
        #expect(kairos_zorders_dealer_send_raw(raw, [1, 2, 3], 3, 0) == 0)  // short
        var v = buf
        v[0] = 9
        #expect(kairos_zorders_dealer_send_raw(raw, v, 64, 0) == 0)  // version
        var side = buf
        side[48] = 7
        #expect(kairos_zorders_dealer_send_raw(raw, side, 64, 0) == 0)  // field
        #expect(kairos_zorders_dealer_send_raw(raw, buf, 64, 1) == 0)  // two frames
        #expect(kairos_zorders_dealer_send_raw(raw, buf, 64, 0) == 0)
        var t = Tick()
        var tickBuf = [UInt8](repeating: 0, count: 72)
        _ = kairos_wire_encode_tick(&t, 0, &tickBuf, 72)
        #expect(kairos_zorders_dealer_send_raw(raw, tickBuf, 72, 0) == 0)  // wrong type
        let big = [UInt8](repeating: 1, count: 4096)
        #expect(kairos_zorders_dealer_send_raw(raw, big, big.count, 0) == 0)  // oversized
        // Bad tick frames on the feed: a lone topic frame and a short record.
        #expect(kairos_zorders_pub_send_raw(rig.pub.pub, "tick.X", nil, 0) == 0)
        #expect(kairos_zorders_pub_send_raw(rig.pub.pub, "tick.X", [1, 1, 0, 0], 4) == 0)
        // A valid order after all that is still served.
        #expect(kairos_zorders_dealer_send_raw(raw, buf, 64, 0) == 0)
        var reports: [ExecutionReport] = []
        try waitFor("reports to the raw client") {
            var r = ExecutionReport()
            while kairos_zorders_dealer_recv_exec(raw, &r) == 1 { reports.append(r) }
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
        #expect(m.short == 1 && m.version == 1 && m.field == 1 && m.frames == 1 && m.type == 1 && m.long == 1)
        let mt = rig.gateway.statistics.malformedTicks
        #expect(mt.frames == 1 && mt.short == 1)
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
