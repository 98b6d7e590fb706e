// Engine side of order routing: the engine's outbound ring → ZeroMQ DEALER → gateway ROUTER, and
// the gateway's execution reports → the engine's executions ring. See docs/gateway.md.
import KairosCore
import CKairos
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public struct OrderRouterConfig: Sendable {
    /// The gateway ROUTER to connect to.
    public var endpoint: String = "tcp://127.0.0.1:5557"
    /// DEALER routing id (the gateway sees it as the peer identity); nil lets the ROUTER make one up.
    public var routingID: String? = nil
    /// An order with no answer (ACK, FILL, REJECT or CANCELLED) after this long is timed out.
    public var ackTimeoutNs: Int64 = 250_000_000
    /// An acknowledged order that is neither filled nor cancelled after this long (from its ACK) is
    /// cancelled at the gateway; if the gateway does not answer that cancel within `ackTimeoutNs`
    /// either, the router gives up on it (REJECT timeout to the engine). Market orders fill within
    /// the gateway's latency, so this only catches lost fills and limit orders left resting.
    public var workingTimeoutNs: Int64 = 5_000_000_000
    /// Orders tracked for the timeout at once; beyond it orders are still sent but untracked (counted).
    public var maxInFlight: Int = 4096
    /// Send a CANCEL for every timed-out order, so a slow gateway does not fill it later.
    public var cancelOnTimeout = true
    /// Empty loop iterations spun before the thread starts sleeping `idleSleepMicroseconds`.
    public var idleSpins = 2_000
    public var idleSleepMicroseconds = 20
    /// CURVE: connect as a client of the gateway with this public key (nil = plain).
    public var curve: CurveClient? = nil
    public init() {}
}

/// Counters of an `OrderRouter`, published as a snapshot by its thread.
public struct OrderRouterStats: Sendable, Equatable {
    public var ordersSent: UInt64 = 0
    public var cancelsSent: UInt64 = 0
    /// Orders the DEALER refused; each produced a synthesized REJECT(send_failed).
    public var sendFailures: UInt64 = 0
    public var acks: UInt64 = 0
    public var fills: UInt64 = 0
    public var rejects: UInt64 = 0
    public var cancelled: UInt64 = 0
    /// Reports refused before decoding finished, by reason (consumed whole; the router carries on).
    public var malformedReports = WireDecodeErrorCounts()
    /// Orders with no answer within the timeout; each produced a synthesized REJECT(timeout).
    public var timeouts: UInt64 = 0
    /// Reports that arrived for an order after it had timed out (forwarded to the engine anyway,
    /// which books a late FILL: see `OrderTransition.late`).
    public var lateReports: UInt64 = 0
    /// Reports not legal in their order's state (`OrderLifecycle`), e.g. a second ACK; forwarded
    /// to the engine, which ignores them by the same rules.
    public var unexpectedReports: UInt64 = 0
    /// Orders sent while the in-flight table was full (no timeout protection for them).
    public var untracked: UInt64 = 0
    /// Times a report had to wait for room in the executions ring.
    public var executionRingFullWaits: UInt64 = 0
    /// Reports dropped because the ring stayed full until the router stopped (also counted on the ring).
    public var executionDrops: UInt64 = 0
    /// Acknowledged orders that stayed unfilled past `workingTimeoutNs` (each got a CANCEL).
    public var workingTimeouts: UInt64 = 0
    /// Of those, the ones whose CANCEL was not answered either (REJECT timeout synthesized).
    public var cancelTimeouts: UInt64 = 0
    /// Orders currently tracked: awaiting an answer, working at the gateway, or being cancelled.
    public var inFlight: Int = 0
    public init() {}
}

/// Routes the engine's orders to one gateway over a ZeroMQ DEALER and brings the execution reports
/// back, on its own thread.
///
/// - The thread is the consumer of `outbound` and the producer of `executions` (SPSC roles).
/// - Every order is tracked until its final answer (a FILL with nothing left, REJECT or CANCELLED).
///   An order unanswered after `ackTimeoutNs` gets a synthesized REJECT with
///   `OrderRejectReason.timeout` in the executions ring (so the engine frees its working order)
///   and, by default, a CANCEL to the gateway. An acknowledged order still working after
///   `workingTimeoutNs` is cancelled at the gateway (whose CANCELLED or FILL then ends it); when
///   that cancel goes unanswered for `ackTimeoutNs`, the router synthesizes the REJECT(timeout).
/// - A full executions ring is never a silent loss: the router waits (spins, then sleeps 10 µs) for
///   room, because losing a fill desynchronises the engine's positions from the venue's, while
///   waiting only delays reports (ZeroMQ buffers the ones behind it; the gateway is not slowed
///   until the high-water mark). Only when the router is stopped while still waiting is the report
///   dropped, counted in `executionDrops` and on the ring.
///
/// Implementation Notes
/// - In-flight orders live in a `SwapRemoveArray` sized `maxInFlight` at init; lookup is a
///   linear scan, O(in flight), which is small (the engine keeps one working order per
///   instrument). Timeouts are scanned at most every `min(ackTimeout / 4, 1 ms)`.
/// - Nothing allocates per order: encoding is into a stack buffer in C, reports go straight into
///   the ring.
/// - Stats: the thread keeps plain counters and publishes a copy under a `Mutex` after each loop
///   iteration that did work; readers never block the thread for longer than that copy. The
///   round-trip histogram (send → first answer, monotonic clock) is published every 100 ms and at
///   stop.
/// - Timestamps sent on the wire (`ts_send_ns`) are `WallClock` (CLOCK_REALTIME), comparable across
///   processes; timeouts and round trips use `MonotonicClock`.
///
/// `@unchecked Sendable`: the DEALER and the in-flight arrays are touched only by the router
/// thread between `start()` and `stop()` (which joins it), and by `deinit` after that; the shared
/// stats are behind `Mutex`es and the stop flag is atomic.
public final class OrderRouter: @unchecked Sendable {
    public let config: OrderRouterConfig
    /// The router's sides of the engine's rings (claimed by the caller, held for its lifetime):
    /// it consumes orders and produces execution reports, on the router thread only.
    public let outbound: SPSCRing<Order>.Consumer
    public let executions: SPSCRing<ExecutionReport>.Producer
    private let dealer: OpaquePointer
    private let stopFlag = StopFlag()
    private var thread: WorkerThread?
    private let publishedStats = Mutex(OrderRouterStats())
    private let publishedRoundTrip = Mutex(LatencyHistogram())

    // Router-thread state (internal, not private, so tests can check `_checkInvariants` catches
    // a broken table).
    var stats = OrderRouterStats()
    private var roundTrip = LatencyHistogram()
    var inFlight: SwapRemoveArray<InFlightOrder>
    /// The last few timed-out ids, to recognise late reports.
    private var timedOut = [UInt64](repeating: 0, count: 256)
    private var timedOutNext = 0

    public init(
        config: OrderRouterConfig, outbound: consuming SPSCRing<Order>.Consumer,
        executions: consuming SPSCRing<ExecutionReport>.Producer
    ) throws {
        precondition(config.maxInFlight > 0 && config.ackTimeoutNs > 0)
        guard let d = kairos_zorders_dealer_open_curve(
            config.endpoint, config.routingID, config.curve?.serverPublicKey, config.curve?.keys.publicKey,
            config.curve?.keys.secretKey)
        else {
            throw SystemError("open ZeroMQ DEALER to \(config.endpoint)", errno: errno)
        }
        dealer = d
        self.config = config
        self.outbound = outbound
        self.executions = executions
        inFlight = SwapRemoveArray(
            capacity: config.maxInFlight,
            placeholder: InFlightOrder(order: Order(), sentAt: 0, deadline: 0, lifecycle: .sent))
    }

    deinit { kairos_zorders_dealer_close(dealer) }

    /// Starts the router thread (once).
    public func start() {
        precondition(thread == nil, "OrderRouter started twice")
        let t = WorkerThread(name: "kairos-order-router") { [self] in run() }
        thread = t
        t.start()
    }

    /// Stops the thread after it has sent what is in the outbound ring, and joins it.
    public func stop() {
        stopFlag.set()
        thread?.join()
        thread = nil
    }

    /// The latest published counters.
    public var statistics: OrderRouterStats { publishedStats.withLock { $0 } }
    /// Send → first answer latency of every tracked order (published every 100 ms and at stop).
    public var roundTripLatency: LatencyHistogram { publishedRoundTrip.withLock { $0 } }

    // MARK: - Router thread

    private func run() {
        let clock = MonotonicClock()
        var idle = 0
        let scanEvery = min(config.ackTimeoutNs / 4, 1_000_000)
        var nextScan = clock.now() &+ scanEvery
        var nextHistogram = clock.now() &+ 100_000_000
        while true {
            let stopping = stopFlag.isSet
            var work = outbound.withAvailable { orders in
                for o in orders { send(o) }
                return orders.count
            }
            work &+= receiveReports(max: 256)
            let now = clock.now()
            if now >= nextScan {
                work &+= expire(now: now)
                nextScan = now &+ scanEvery
                _checkInvariants()  // debug builds only; at most every scan period
            }
            if now >= nextHistogram {
                publishRoundTrip()
                nextHistogram = now &+ 100_000_000
            }
            if work > 0 {
                publishedStats.withLock { $0 = stats }
                idle = 0
            } else if stopping {
                break  // the outbound ring is drained
            } else {
                idle &+= 1
                if idle > config.idleSpins { sleepMicroseconds(config.idleSleepMicroseconds) }
            }
        }
        publishedStats.withLock { $0 = stats }
        publishRoundTrip()
        _checkInvariants()
    }

    /// Stops the process if the in-flight table is inconsistent; empty unless KAIROS_CHECK_INVARIANTS.
    /// O(in flight); the router thread calls it once per timeout scan (and the tests on a stopped
    /// router). Invariants: the table's own (`SwapRemoveArray`); `stats.inFlight` is its count;
    /// it holds no more orders than were sent and tracked; every order in it is live
    /// (`OrderLifecycle`), one still `sent` times out exactly `ackTimeoutNs` after it was sent and
    /// any other one no earlier than it was sent; the timed-out ring's cursor is inside it and its
    /// size a power of two (the cursor wraps with a mask). Client order ids are the engine's to
    /// keep unique, so they are not checked here.
    func _checkInvariants() {
        #if KAIROS_CHECK_INVARIANTS
        inFlight._checkInvariants()
        precondition(stats.inFlight == inFlight.count, "stats say \(stats.inFlight) in flight, table has \(inFlight.count)")
        precondition(
            UInt64(inFlight.count) <= stats.ordersSent &- stats.untracked,
            "\(inFlight.count) in flight of \(stats.ordersSent) sent, \(stats.untracked) untracked")
        for o in inFlight {
            precondition(!o.lifecycle.isFinal, "a \(o.lifecycle) order left in flight")
            if o.lifecycle == .sent {
                precondition(o.deadline == o.sentAt &+ config.ackTimeoutNs, "unanswered order with a deadline other than its ack timeout")
            } else {
                precondition(o.deadline >= o.sentAt, "deadline before the order was sent")
            }
        }
        precondition(timedOut.count > 0 && timedOut.count & (timedOut.count &- 1) == 0, "timed-out ring size not a power of two")
        precondition(timedOutNext >= 0 && timedOutNext < timedOut.count, "timed-out ring cursor out of range")
        #endif
    }

    private func publishRoundTrip() {
        publishedRoundTrip.withLock { h in
            h.reset()
            h.merge(roundTrip)
        }
    }

    private func send(_ order: Order) {
        var o = order
        // Stamp before sending: on a busy machine the wake-up of ZeroMQ's I/O thread can preempt
        // this thread inside zmq_send until the answer is already back; a stamp taken after the
        // call would hide the whole round trip.
        let sentAt = MonotonicClock.nanoseconds()
        let rc = kairos_zorders_dealer_send_order(dealer, &o, WallClock().now())
        let isCancel = o.action == UInt8(KAIROS_ORDER_CANCEL.rawValue)
        guard rc == 0 else {
            stats.sendFailures &+= 1
            // A refused cancel has no working order to free on the engine side; a refused new
            // order must be answered so the engine does not wait forever.
            if !isCancel { deliver(synthesizedReject(o, reason: .sendFailed)) }
            return
        }
        if isCancel {
            stats.cancelsSent &+= 1
            return
        }
        stats.ordersSent &+= 1
        if inFlight.append(InFlightOrder(order: o, sentAt: sentAt, deadline: sentAt &+ config.ackTimeoutNs, lifecycle: .sent)) {
            stats.inFlight = inFlight.count
        } else {
            stats.untracked &+= 1
        }
    }

    private func receiveReports(max: Int) -> Int {
        var n = 0
        var r = ExecutionReport()
        while n < max {
            let rc = kairos_zorders_dealer_recv_exec(dealer, &r)
            if rc == 0 { break }
            n &+= 1
            if rc < 0 {
                stats.malformedReports.count(code: rc)
                continue
            }
            handle(r)
        }
        return n
    }

    private func handle(_ r: ExecutionReport) {
        switch kairos_exec_kind(rawValue: UInt32(r.kind)) {
        case KAIROS_EXEC_ACK: stats.acks &+= 1
        case KAIROS_EXEC_FILL: stats.fills &+= 1
        case KAIROS_EXEC_REJECT: stats.rejects &+= 1
        default: stats.cancelled &+= 1
        }
        if let k = inFlight.firstIndex(where: { $0.order.client_order_id == r.client_order_id }),
            let event = OrderEvent(r)
        {
            let now = MonotonicClock.nanoseconds()
            let before = inFlight[k].lifecycle
            if before == .sent { roundTrip.record(now &- inFlight[k].sentAt) }
            switch inFlight[k].lifecycle.apply(event) {
            case .moved(let state) where state.isFinal:
                removeInFlight(at: k)
            case .moved:
                // The first answer (ACK, or a partial fill without one): the working timeout runs
                // from now. Later partial fills do not extend it.
                if before == .sent { inFlight[k].deadline = now &+ config.workingTimeoutNs }
            case .illegal, .late:
                // A second ACK, say. Forwarded anyway: the engine applies the same rules and
                // ignores it too. (`late` cannot happen: timed-out orders leave the table.)
                stats.unexpectedReports &+= 1
            }
        } else if r.client_order_id != 0 && timedOut.contains(r.client_order_id) {
            stats.lateReports &+= 1
        }
        deliver(r)
    }

    private func removeInFlight(at k: Int) {
        inFlight.remove(at: k)
        stats.inFlight = inFlight.count
    }

    /// Handles every tracked order past its deadline. Returns how many.
    private func expire(now: Int64) -> Int {
        var n = 0
        var k = 0
        while k < inFlight.count {
            guard now &- inFlight[k].deadline >= 0 else {
                k &+= 1
                continue
            }
            n &+= 1
            let o = inFlight[k].order
            let state = inFlight[k].lifecycle
            if !state.isAwaitingAnswer {
                // Acknowledged but not filled in time: ask the gateway to cancel; its answer
                // (CANCELLED, or the FILL that raced the cancel) ends the order.
                stats.workingTimeouts &+= 1
                inFlight[k].lifecycle.apply(.cancelRequested)
                inFlight[k].deadline = now &+ config.ackTimeoutNs
                sendCancel(of: o)
                k &+= 1
                continue
            }
            // The new order, or the cancel of one working too long, went unanswered: give up.
            if state == .cancelRequested { stats.cancelTimeouts &+= 1 }
            removeInFlight(at: k)
            stats.timeouts &+= 1
            timedOut[timedOutNext] = o.client_order_id
            timedOutNext = (timedOutNext &+ 1) & (timedOut.count &- 1)
            deliver(synthesizedReject(o, reason: .timeout))
            // A gateway that is only slow may still fill the new order; the cancel asks it not to.
            // Not a transition: the order is already given up, and whatever the gateway answers
            // is late (`OrderTransition.late`).
            if state == .sent && config.cancelOnTimeout { sendCancel(of: o) }
        }
        return n
    }

    /// Asks the gateway to cancel `o` (counted as sent or as a send failure).
    private func sendCancel(of order: Order) {
        var o = order
        o.action = UInt8(KAIROS_ORDER_CANCEL.rawValue)
        if kairos_zorders_dealer_send_order(dealer, &o, WallClock().now()) == 0 {
            stats.cancelsSent &+= 1
        } else {
            stats.sendFailures &+= 1
        }
    }

    private func synthesizedReject(_ o: Order, reason: OrderRejectReason) -> ExecutionReport {
        ExecutionReport(answering: o, kind: KAIROS_EXEC_REJECT, now: WallClock().now(), reason: reason)
    }

    /// Pushes a report into the executions ring, waiting for room rather than losing it.
    private func deliver(_ r: ExecutionReport) {
        if executions.push(r) { return }
        stats.executionRingFullWaits &+= 1
        var spins = 0
        while !executions.push(r) {
            if stopFlag.isSet {
                executions.countDrops(1)
                stats.executionDrops &+= 1
                return
            }
            spins &+= 1
            if spins > 1_000 { sleepMicroseconds(10) }
        }
    }
}

/// An order the router sent and still tracks for its timeouts.
struct InFlightOrder {
    var order: Order
    /// Monotonic send time (round trip to the first answer).
    var sentAt: Int64
    /// Monotonic time at which the order times out in its current state: sent + ackTimeout while
    /// `sent`, first answer + workingTimeout while working or partially filled, cancel sent +
    /// ackTimeout while `cancelRequested`.
    var deadline: Int64
    /// Always live: an order leaves the table when its lifecycle becomes final.
    var lifecycle: OrderLifecycle
}
