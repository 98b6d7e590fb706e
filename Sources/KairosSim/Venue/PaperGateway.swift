// The paper order gateway: a ZeroMQ ROUTER that takes orders from engines (DEALERs), a SUB on the
// tick feed for quotes, and a paper matching rule. `kairos gateway` runs one. See docs/gateway.md.
import KairosCore
import KairosStrategies
import KairosIO
import CKairos
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public struct PaperGatewayConfig: Sendable {
    /// Where the ROUTER binds. Loopback by default; `tcp://127.0.0.1:*` picks a free port.
    public var endpoint = "tcp://127.0.0.1:5557"
    /// The tick feed the SUB connects to (nil: no feed, every order is rejected for lack of quote).
    public var feedEndpoint: String? = "tcp://127.0.0.1:5556"
    /// SUB topic prefix.
    public var topicPrefix = "tick."
    /// Latency before an order may fill, slippage and fee (the paper venue's parameters). Latency
    /// counts from the gateway's receipt of the order, on the gateway's monotonic clock.
    public var fills = PaperFillConfig()
    /// Publisher id stamped into every report.
    public var gatewayID: UInt16 = 1
    /// Working orders held at once; beyond it orders are rejected (book_full).
    public var capacity = 4096
    /// Append-only fill log; nil keeps no log.
    public var fillLogPath: String? = nil
    public var fillLogSync: FillLog.SyncPolicy = .interval(nanoseconds: 100_000_000)
    /// CURVE server key of the ROUTER (nil = plain): only engines a running `ZAPAllowlist` lists
    /// may send orders (opening fails without one).
    public var curveSecretKey: String? = nil
    /// CURVE: the SUB connects as a client of the feed with this public key and key pair.
    public var feedCurve: CurveClient? = nil
    /// Keep the receipt times of up to this many NEW orders (`orderReceipts`), for wire-to-wire
    /// latency measurement; 0 keeps none.
    public var receiptCapacity = 0
    public init() {}
}

/// When a NEW order reached the gateway, with the times the order itself carries: everything a
/// wire-to-wire measurement needs besides the publisher's send time of tick `tickSeq`.
public struct OrderReceipt: Sendable, Equatable {
    public var instrument: UInt16
    /// Sequence number of the tick that triggered the order (per publisher).
    public var tickSeq: UInt64
    /// When the engine's ingest received that tick (the engine's clock: CLOCK_REALTIME in `kairos run`).
    public var tickReceivedNs: Int64
    /// When the engine's order router sent the order (CLOCK_REALTIME).
    public var sentNs: Int64
    /// When the gateway decoded it (CLOCK_REALTIME).
    public var receivedNs: Int64
}

/// Counters of a `PaperGateway`, published as a snapshot by its thread.
public struct PaperGatewayStats: Sendable, Equatable {
    public var ordersReceived: UInt64 = 0
    public var cancelsReceived: UInt64 = 0
    /// Order frames refused by reason (consumed whole; the gateway carries on).
    public var malformedOrders = WireDecodeErrorCounts()
    public var ticksReceived: UInt64 = 0
    /// Tick messages on the feed SUB refused by reason.
    public var malformedTicks = WireDecodeErrorCounts()
    /// Ticks with an unusable quote (non-finite, non-positive or crossed): ignored.
    public var badQuotes: UInt64 = 0
    /// Instruments for which at least one quote arrived.
    public var instrumentsQuoted: Int = 0
    public var acks: UInt64 = 0
    public var fills: UInt64 = 0
    public var rejects: UInt64 = 0
    public var rejectsNoQuote: UInt64 = 0
    public var cancels: UInt64 = 0
    /// Reports ZeroMQ refused (the engine's DEALER is gone, or its queue is full).
    public var undeliverable: UInt64 = 0
    /// Fills the log could not store (disk full...). Also logged; the fill is still reported.
    public var fillLogErrors: UInt64 = 0
    public var working: Int = 0
    /// Working orders answered CANCELLED because the gateway stopped.
    public var cancelledAtStop: UInt64 = 0
    public var filledNotional: Double = 0
    public var fees: Double = 0
    public init() {}
}

/// A paper gateway over ZeroMQ.
///
/// Rules (those of `PaperVenue`, adapted to a process that sees quotes rather than the engine's
/// tick stream): a NEW order is acknowledged at once when a quote has ever arrived for its
/// instrument (otherwise REJECT no_quote) and fills completely once `fills.latencyNs` has passed
/// since the gateway received it, against the latest quote at that moment: buys at
/// ask·(1+slippage), sells at bid·(1−slippage), fee = |price·qty|·feeBps. A LIMIT order fills only
/// when that price is within its limit (it waits for a quote that is). A CANCEL removes a working
/// order of the same engine (peer identity) and client order id (CANCELLED), or is rejected
/// (unknown_order). Every fill is appended to the fill log before the FILL report is sent. When
/// the gateway stops, its working orders are answered CANCELLED.
///
/// Implementation Notes
/// - Latest quotes: a `[Tick]` of `KAIROS_MAX_INSTRUMENTS` slots plus a presence bitmap; O(1).
/// - Working orders: a `SwapRemoveArray` of `capacity` (order, peer identity, due time); a pass
///   over them after each batch of messages is O(working). Nothing allocates per order except the
///   fill log line.
/// - One thread runs `run(until:)` (or `start()` makes one); everything but the published stats
///   is that thread's. Stats are copied under a `Mutex` after each loop iteration that did work.
///
/// `@unchecked Sendable`: the C gateway (ROUTER + SUB sockets), the fill log and the order and
/// quote tables are used only by the thread running the loop (`start()` → `stop()` joins it, or
/// the caller of `run(until:)`), and released in `deinit` after that; shared stats are in a
/// `Mutex`, the stop flag is atomic.
public final class PaperGateway: @unchecked Sendable {
    public let config: PaperGatewayConfig
    /// The ROUTER's resolved endpoint (the actual port when bound to `*`).
    public let boundEndpoint: String
    private let gw: OpaquePointer
    private let fillLog: FillLog?
    private let published = Mutex(PaperGatewayStats())
    private let stopFlag = StopFlag()
    private var thread: WorkerThread?

    // Gateway-thread state.
    private var stats = PaperGatewayStats()
    private var quotes: [Tick]
    private var quoted: [Bool]
    private var working: SwapRemoveArray<WorkingOrder>
    private var receipts: [OrderReceipt] = []
    private let publishedReceipts = Mutex([OrderReceipt]())

    public init(config: PaperGatewayConfig) throws {
        precondition(config.capacity > 0)
        guard let g = kairos_zorders_gateway_open_curve(
            config.endpoint, config.feedEndpoint, config.topicPrefix, config.curveSecretKey,
            config.feedCurve?.serverPublicKey, config.feedCurve?.keys.publicKey, config.feedCurve?.keys.secretKey)
        else {
            throw SystemError("open ZeroMQ ROUTER on \(config.endpoint)", errno: errno)
        }
        var buf = [CChar](repeating: 0, count: 512)
        kairos_zorders_gateway_endpoint(g, &buf, buf.count)
        boundEndpoint = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            fillLog = try config.fillLogPath.map { try FillLog(path: $0, sync: config.fillLogSync) }
        } catch {
            kairos_zorders_gateway_close(g)
            throw error
        }
        gw = g
        self.config = config
        quotes = [Tick](repeating: Tick(), count: InstrumentID.max)
        quoted = [Bool](repeating: false, count: InstrumentID.max)
        working = SwapRemoveArray(
            capacity: config.capacity, placeholder: WorkingOrder(order: Order(), peer: kairos_zorders_identity(), dueNs: 0))
        receipts.reserveCapacity(config.receiptCapacity)
    }

    /// Receipts of the first `receiptCapacity` NEW orders; complete once the loop has stopped.
    public var orderReceipts: [OrderReceipt] { publishedReceipts.withLock { $0 } }

    deinit { kairos_zorders_gateway_close(gw) }

    /// The latest published counters.
    public var statistics: PaperGatewayStats { published.withLock { $0 } }

    /// Runs the loop on a new thread until `stop()`.
    public func start() {
        precondition(thread == nil, "PaperGateway started twice")
        let t = WorkerThread(name: "kairos-paper-gateway") { [self] in run(until: stopFlag) }
        thread = t
        t.start()
    }

    /// Stops the thread started by `start()` and joins it.
    public func stop() {
        stopFlag.set()
        thread?.join()
        thread = nil
    }

    /// The gateway loop, on the calling thread, until `stop` is set (checked at least every 50 ms).
    public func run(until stop: StopFlag) {
        let clock = MonotonicClock()
        while !stop.isSet {
            var waitUs: Int64 = 50_000
            if !working.isEmpty {
                let now = clock.now()
                var next = Int64.max
                // Orders already due but waiting for a quote within their limit are re-checked when
                // the next tick wakes the poll; only orders not yet due set a deadline.
                for w in working where w.dueNs > now { next = min(next, w.dueNs) }
                if next != .max { waitUs = max(0, min(waitUs, (next &- now + 999) / 1_000)) }
            }
            let ready = kairos_zorders_gateway_wait(gw, waitUs)
            var work = 0
            if ready & Int32(KAIROS_ZORDERS_READY_TICKS) != 0 { work &+= receiveTicks(max: 4096) }
            if ready & Int32(KAIROS_ZORDERS_READY_ORDERS) != 0 { work &+= receiveOrders(max: 1024) }
            if !working.isEmpty { work &+= fillDue(now: clock.now()) }
            if work > 0 {
                stats.working = working.count
                published.withLock { $0 = stats }
            }
        }
        fillLog?.sync()
        if config.receiptCapacity > 0 { publishedReceipts.withLock { $0 = receipts } }
        // Working orders die with the gateway: tell their engines (CANCELLED), so no engine keeps
        // waiting for a fill that will never come. Best effort: the ROUTER lingers 200 ms on close.
        let now = WallClock().now()
        while var w = working.popLast() {
            stats.cancelledAtStop &+= 1
            send(report(w.order, kind: KAIROS_EXEC_CANCELLED, now: now, leaves: w.order.quantity), to: &w.peer)
        }
        stats.working = working.count
        published.withLock { $0 = stats }
    }

    // MARK: - Gateway thread

    private func receiveTicks(max: Int) -> Int {
        var n = 0
        var t = Tick()
        while n < max {
            let rc = kairos_zorders_gateway_recv_tick(gw, WallClock().now(), &t)
            if rc == 0 { break }
            n &+= 1
            if rc < 0 {
                stats.malformedTicks.count(code: rc)
                continue
            }
            stats.ticksReceived &+= 1
            guard Int(t.instrument) < InstrumentID.max, t.bid.isFinite, t.ask.isFinite, t.bid > 0, t.ask >= t.bid
            else {
                stats.badQuotes &+= 1
                continue
            }
            let i = Int(t.instrument)
            if !quoted[i] {
                quoted[i] = true
                stats.instrumentsQuoted &+= 1
            }
            quotes[i] = t
        }
        return n
    }

    private func receiveOrders(max: Int) -> Int {
        var n = 0
        var o = Order()
        var peer = kairos_zorders_identity()
        while n < max {
            let rc = kairos_zorders_gateway_recv_order(gw, &peer, &o)
            if rc == 0 { break }
            n &+= 1
            if rc < 0 {
                stats.malformedOrders.count(code: rc)
                continue
            }
            submit(o, from: &peer)
        }
        return n
    }

    private func submit(_ o: Order, from peer: inout kairos_zorders_identity) {
        let now = WallClock().now()
        if o.action == UInt8(KAIROS_ORDER_CANCEL.rawValue) {
            stats.cancelsReceived &+= 1
            if let k = working.firstIndex(where: { $0.order.client_order_id == o.client_order_id && $0.isFrom(peer) }) {
                let w = working.remove(at: k).order
                stats.cancels &+= 1
                send(report(w, kind: KAIROS_EXEC_CANCELLED, now: now, leaves: w.quantity), to: &peer)
                return
            }
            reject(o, .unknownOrder, now: now, to: &peer)
            return
        }
        stats.ordersReceived &+= 1
        if receipts.count < config.receiptCapacity {
            receipts.append(OrderReceipt(
                instrument: o.instrument, tickSeq: o.tick_seq, tickReceivedNs: o.ts_tick_recv_ns, sentNs: o.ts_decision_ns,
                receivedNs: now))
        }
        let limit = o.type == UInt8(KAIROS_ORDER_LIMIT.rawValue)
        guard o.quantity.isFinite, o.quantity > 0, Int(o.instrument) < InstrumentID.max,
            !limit || (o.limit_price.isFinite && o.limit_price > 0)
        else { return reject(o, .badOrder, now: now, to: &peer) }
        guard quoted[Int(o.instrument)] else {
            stats.rejectsNoQuote &+= 1
            return reject(o, .noQuote, now: now, to: &peer)
        }
        let due = MonotonicClock.nanoseconds() &+ config.fills.latencyNs
        guard working.append(WorkingOrder(order: o, peer: peer, dueNs: due)) else {
            return reject(o, .bookFull, now: now, to: &peer)
        }
        stats.acks &+= 1
        send(report(o, kind: KAIROS_EXEC_ACK, now: now, leaves: o.quantity), to: &peer)
    }

    /// Fills every working order that is due and has a quote within its limit. Returns how many.
    private func fillDue(now: Int64) -> Int {
        var n = 0
        var k = 0
        while k < working.count {
            let o = working[k].order
            let q = quotes[Int(o.instrument)]
            let buy = o.side == Side.buy.rawValue
            let price = config.fills.fillPrice(buy: buy, bid: q.bid, ask: q.ask)
            let within = o.type != UInt8(KAIROS_ORDER_LIMIT.rawValue) || (buy ? price <= o.limit_price : price >= o.limit_price)
            guard now >= working[k].dueNs, within else {
                k &+= 1
                continue
            }
            let fee = config.fills.fee(price: price, quantity: o.quantity)
            var peer = working.remove(at: k).peer
            let wall = WallClock().now()
            if let log = fillLog {
                do {
                    try log.append(FillRecord(gatewayTimeNs: wall, clientOrderID: o.client_order_id,
                                              instrument: o.instrument, side: buy ? .buy : .sell,
                                              quantity: o.quantity, price: price, fee: fee))
                } catch {
                    stats.fillLogErrors &+= 1
                }
            }
            stats.fills &+= 1
            stats.filledNotional += abs(price * o.quantity)
            stats.fees += fee
            var r = report(o, kind: KAIROS_EXEC_FILL, now: wall, leaves: 0)
            r.fill_price = price
            r.fill_qty = o.quantity
            r.fee = fee
            send(r, to: &peer)
            n &+= 1
        }
        return n
    }

    private func reject(_ o: Order, _ reason: OrderRejectReason, now: Int64, to peer: inout kairos_zorders_identity) {
        stats.rejects &+= 1
        send(report(o, kind: KAIROS_EXEC_REJECT, now: now, leaves: 0, reason: reason), to: &peer)
    }

    private func send(_ r: ExecutionReport, to peer: inout kairos_zorders_identity) {
        var r = r
        if kairos_zorders_gateway_send_exec(gw, &peer, &r, config.gatewayID) != 0 { stats.undeliverable &+= 1 }
    }

    private func report(
        _ o: Order, kind: kairos_exec_kind, now: Int64, leaves: Double, reason: OrderRejectReason? = nil
    ) -> ExecutionReport {
        // A report must carry a valid side for the decoder; a bad order's side was checked by it.
        ExecutionReport(answering: o, kind: kind, now: now, leaves: leaves, reason: reason)
    }
}

/// An order the gateway has acknowledged and not yet filled or cancelled.
private struct WorkingOrder {
    var order: Order
    /// The engine (ROUTER peer identity) that sent it: every report for the order goes there, and
    /// only that engine may cancel it.
    var peer: kairos_zorders_identity
    /// Gateway monotonic time from which it may fill (receipt + `fills.latencyNs`).
    var dueNs: Int64

    /// Whether `engine` is the peer that sent this order.
    func isFrom(_ engine: kairos_zorders_identity) -> Bool {
        guard peer.len == engine.len else { return false }
        return withUnsafeBytes(of: peer.bytes) { a in
            withUnsafeBytes(of: engine.bytes) { b in memcmp(a.baseAddress!, b.baseAddress!, Int(engine.len)) == 0 }
        }
    }
}
