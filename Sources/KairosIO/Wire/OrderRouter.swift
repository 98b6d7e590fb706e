// Engine side of order routing: the engine's outbound ring → ZeroMQ DEALER → gateway ROUTER, and
// the gateway's execution reports → the engine's executions ring. See docs/gateway.md.
import KairosCore
import CKairos
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why a wire endpoint could not be opened.
public struct WireEndpointError: Error, CustomStringConvertible {
    public var endpoint: String
    public var errno: Int32
    public init(endpoint: String, errno: Int32) {
        self.endpoint = endpoint
        self.errno = errno
    }
    public var description: String {
        "cannot open ZeroMQ endpoint \(endpoint): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Counts of malformed messages by reason (the `kairos_wire_error` / `KAIROS_ZORDERS_E_FRAMES`
/// values a receive returns). Plain value; the owner thread mutates it, others read snapshots.
public struct MalformedCounts: Sendable, Equatable {
    public var short: UInt64 = 0
    public var long: UInt64 = 0
    public var version: UInt64 = 0
    public var type: UInt64 = 0
    public var field: UInt64 = 0
    /// Wrong number of frames (a lone frame, extra frames).
    public var frames: UInt64 = 0
    public init() {}
    public var total: UInt64 { short &+ long &+ version &+ type &+ field &+ frames }
    /// Counts one message refused with `reason` (< 0).
    public mutating func count(_ reason: Int32) {
        switch reason {
        case KAIROS_WIRE_E_SHORT.rawValue: short &+= 1
        case KAIROS_WIRE_E_LONG.rawValue: long &+= 1
        case KAIROS_WIRE_E_VERSION.rawValue: version &+= 1
        case KAIROS_WIRE_E_TYPE.rawValue: type &+= 1
        case KAIROS_WIRE_E_FIELD.rawValue: field &+= 1
        default: frames &+= 1
        }
    }
}

/// Reject reason codes on the order path (`ExecutionReport.reason`), from `kairos_zmq_orders.h`.
public enum OrderRejectReason: UInt32, Sendable, CustomStringConvertible {
    case bookFull = 1
    case unknownOrder = 2
    case badOrder = 3
    case noQuote = 16
    /// Synthesized by `OrderRouter`: no answer from the gateway within the ack timeout.
    case timeout = 17
    /// Synthesized by `OrderRouter`: the DEALER refused the order (high-water mark, socket error).
    case sendFailed = 18
    public var description: String {
        switch self {
        case .bookFull: "book_full"
        case .unknownOrder: "unknown_order"
        case .badOrder: "bad_order"
        case .noQuote: "no_quote"
        case .timeout: "timeout"
        case .sendFailed: "send_failed"
        }
    }
}

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
    public var malformedReports = MalformedCounts()
    /// Orders with no answer within the timeout; each produced a synthesized REJECT(timeout).
    public var timeouts: UInt64 = 0
    /// Reports that arrived for an order after it had timed out (forwarded to the engine anyway).
    public var lateReports: UInt64 = 0
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
///   `KAIROS_ZORDERS_REASON_TIMEOUT` in the executions ring (so the engine frees its working order)
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
/// - In-flight orders live in fixed arrays sized `maxInFlight` at init (swap-remove); lookup is a
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

    // Router-thread state.
    private var stats = OrderRouterStats()
    private var roundTrip = LatencyHistogram()
    private var pendingOrders: [Order]
    private var pendingSentAt: [Int64]
    /// When the order times out in its current state (see `PendingState`).
    private var pendingDeadline: [Int64]
    private var pendingState: [PendingState]
    private var pendingCount = 0

    /// Where a tracked order is in its life.
    private enum PendingState: UInt8 {
        /// Sent; no answer yet. Deadline: sent + ackTimeout.
        case awaitingAck
        /// Acknowledged, not yet filled. Deadline: ack + workingTimeout.
        case working
        /// Working too long; a CANCEL was sent. Deadline: cancel + ackTimeout.
        case cancelling
    }
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
            throw WireEndpointError(endpoint: config.endpoint, errno: errno)
        }
        dealer = d
        self.config = config
        self.outbound = outbound
        self.executions = executions
        pendingOrders = [Order](repeating: Order(), count: config.maxInFlight)
        pendingSentAt = [Int64](repeating: 0, count: config.maxInFlight)
        pendingDeadline = [Int64](repeating: 0, count: config.maxInFlight)
        pendingState = [PendingState](repeating: .awaitingAck, count: config.maxInFlight)
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
        if pendingCount < pendingOrders.count {
            pendingOrders[pendingCount] = o
            pendingSentAt[pendingCount] = sentAt
            pendingDeadline[pendingCount] = sentAt &+ config.ackTimeoutNs
            pendingState[pendingCount] = .awaitingAck
            pendingCount &+= 1
            stats.inFlight = pendingCount
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
                stats.malformedReports.count(rc)
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
        var found = false
        let kind = kairos_exec_kind(rawValue: UInt32(r.kind))
        // Final: nothing more will come for this order (a partial fill keeps it working).
        let final = kind == KAIROS_EXEC_REJECT || kind == KAIROS_EXEC_CANCELLED
            || (kind == KAIROS_EXEC_FILL && !(r.leaves_qty > 0))
        for k in 0..<pendingCount where pendingOrders[k].client_order_id == r.client_order_id {
            let now = MonotonicClock.nanoseconds()
            if pendingState[k] == .awaitingAck { roundTrip.record(now &- pendingSentAt[k]) }
            if final {
                removePending(at: k)
            } else if pendingState[k] == .awaitingAck {
                pendingState[k] = .working
                pendingDeadline[k] = now &+ config.workingTimeoutNs
            }
            found = true
            break
        }
        if !found && timedOut.contains(r.client_order_id) && r.client_order_id != 0 { stats.lateReports &+= 1 }
        deliver(r)
    }

    private func removePending(at k: Int) {
        pendingCount &-= 1
        pendingOrders[k] = pendingOrders[pendingCount]
        pendingSentAt[k] = pendingSentAt[pendingCount]
        pendingDeadline[k] = pendingDeadline[pendingCount]
        pendingState[k] = pendingState[pendingCount]
        stats.inFlight = pendingCount
    }

    /// Handles every tracked order past its deadline. Returns how many.
    private func expire(now: Int64) -> Int {
        var n = 0
        var k = 0
        while k < pendingCount {
            guard now &- pendingDeadline[k] >= 0 else {
                k &+= 1
                continue
            }
            n &+= 1
            let o = pendingOrders[k]
            if pendingState[k] == .working {
                // Acknowledged but never filled: ask the gateway to cancel; its answer (CANCELLED,
                // or the FILL that raced the cancel) ends the order.
                stats.workingTimeouts &+= 1
                pendingState[k] = .cancelling
                pendingDeadline[k] = now &+ config.ackTimeoutNs
                sendCancel(of: o)
                k &+= 1
                continue
            }
            if pendingState[k] == .cancelling { stats.cancelTimeouts &+= 1 }
            let wasAwaitingAck = pendingState[k] == .awaitingAck
            removePending(at: k)
            stats.timeouts &+= 1
            timedOut[timedOutNext] = o.client_order_id
            timedOutNext = (timedOutNext &+ 1) & (timedOut.count &- 1)
            deliver(synthesizedReject(o, reason: .timeout))
            if wasAwaitingAck && config.cancelOnTimeout { sendCancel(of: o) }
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
        ExecutionReport(answering: o, kind: KAIROS_EXEC_REJECT, now: WallClock().now(), reason: reason.rawValue)
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
