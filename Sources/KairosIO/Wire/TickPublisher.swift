// The publishing side of the ZeroMQ tick feed: `kairos feed`, the tests and the ingest benchmark
// send wire v1 ticks as [tick.<SYMBOL>, payload] through an XPUB socket (zmq_feed.c).
import KairosCore
import CKairos

/// Paces a stream at a fixed rate: event k is due at start + k / rate.
///
/// Implementation Notes: absolute schedule (no drift from accumulated sleep error); sleeps when
/// the next event is more than 50 µs away, spins closer than that. `rate == 0` means no pacing.
/// O(1), no allocation.
public struct RateLimiter: Sendable {
    public let rate: Double
    private let nsPerEvent: Double
    private var start: Int64 = 0
    private var count: Int64 = 0

    public init(rate: Double) {
        precondition(rate >= 0 && rate.isFinite, "rate must be finite and >= 0")
        self.rate = rate
        nsPerEvent = rate > 0 ? 1e9 / rate : 0
    }

    /// Blocks until the next event is due (returns at once when unpaced), then counts it.
    public mutating func waitTurn() {
        defer { count += 1 }
        guard nsPerEvent > 0 else { return }
        let now = MonotonicClock.nanoseconds()
        if count == 0 {
            start = now
            return
        }
        let due = start &+ Int64(Double(count) * nsPerEvent)
        var t = now
        while t < due {
            if due - t > 50_000 { sleepMicroseconds(Int((due - t) / 2_000)) }
            t = MonotonicClock.nanoseconds()
        }
    }
}

/// Publishes `Tick` values over ZeroMQ as wire v1 records.
///
/// Implementation Notes:
/// - Wraps a C `kairos_zfeed_pub` (an XPUB socket with ZMQ_XPUB_NODROP), owned and destroyed in
///   `deinit`. NODROP means a subscriber at its high-water mark makes `publish` wait (up to a
///   timeout) instead of ZeroMQ dropping the tick silently, as a plain PUB would.
/// - The publisher owns the sequence: every tick it sends carries `publisherID` and the next
///   sequence number (1, 2, ...), whatever the source's own numbering, so a subscriber's
///   `SequenceTracker` sees one gap-free stream per publisher. A tick that could not be sent does
///   not consume a number.
/// - Topics `tick.<SYMBOL>` for every instrument are encoded once at init into one buffer; a
///   publish looks its topic up by instrument id. `publish` is O(1) and allocates nothing.
/// - Invariants: `sent` ticks went out with sequence numbers 1...sent.
///
/// `@unchecked Sendable`: the object is used by one thread at a time; moving it to a worker
/// thread (thread start) orders the accesses. The C socket is not thread-safe, so two threads
/// must never publish concurrently.
public final class TickPublisher: @unchecked Sendable {
    private let pub: OpaquePointer
    public let publisherID: UInt16
    public let symbols: [String]
    private let topics: UnsafeMutablePointer<CChar>
    private let topicOffsets: [Int]
    /// Ticks sent so far (also the last sequence number used).
    public private(set) var sent: UInt64 = 0
    /// Times a send found a subscriber at its high-water mark and had to wait or give up.
    public private(set) var backPressureWaits: UInt64 = 0

    /// `symbols[i]` is instrument i's symbol. `bind` (the usual) binds the endpoint; otherwise the
    /// socket connects to it (to publish into a SUB that binds). `curveSecretKey` makes the socket a
    /// CURVE server: only subscribers a running `ZAPAllowlist` lists get ticks (it fails without one).
    public init(endpoint: String, bind: Bool = true, symbols: [String], publisherID: UInt16 = 1,
                sendHighWaterMark: Int = Int(KAIROS_ZFEED_DEFAULT_HWM), curveSecretKey: String? = nil) throws {
        precondition(!symbols.isEmpty && symbols.count <= InstrumentID.max, "1...\(InstrumentID.max) symbols")
        guard let p = kairos_zfeed_pub_create(Int32(sendHighWaterMark)) else {
            throw SystemError("create ZeroMQ XPUB socket", errno: errno)
        }
        do {
            if let secret = curveSecretKey {
                try syscall("CURVE server (a ZAP allowlist must be running)") { kairos_zfeed_pub_set_curve(p, secret) }
            }
            try syscall("\(bind ? "bind" : "connect") \(endpoint)") {
                bind ? kairos_zfeed_pub_bind(p, endpoint) : kairos_zfeed_pub_connect(p, endpoint)
            }
        } catch {
            kairos_zfeed_pub_destroy(p)
            throw error
        }
        pub = p
        self.publisherID = publisherID
        self.symbols = symbols
        var offsets = [Int]()
        var bytes = [CChar]()
        for s in symbols {
            offsets.append(bytes.count)
            bytes.append(contentsOf: "tick.\(s)".utf8CString.dropLast())
        }
        offsets.append(bytes.count)
        topicOffsets = offsets
        topics = .allocate(capacity: max(bytes.count, 1))
        topics.initialize(from: bytes, count: bytes.count)
    }

    deinit {
        kairos_zfeed_pub_destroy(pub)
        topics.deallocate()
    }

    /// The endpoint actually bound, e.g. `tcp://127.0.0.1:41234` after binding `tcp://127.0.0.1:*`.
    public var boundEndpoint: String {
        var buf = [CChar](repeating: 0, count: 512)
        guard kairos_zfeed_pub_last_endpoint(pub, &buf, buf.count) == 0 else { return "" }
        let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits up to `timeoutSeconds` until `count` subscriptions have arrived; returns how many have.
    /// Publishing before a subscriber's subscription arrives loses those ticks (ZeroMQ's slow
    /// joiner), so a replay that must be complete waits first.
    public func waitForSubscriptions(_ count: Int = 1, timeoutSeconds: Double) -> Int {
        Int(kairos_zfeed_pub_wait_subscriptions(pub, Int32(count), Int32(timeoutSeconds * 1000)))
    }

    /// Sends `tick` (its instrument picks the topic; publisher and sequence are stamped here, the
    /// send time is CLOCK_REALTIME now). Waits up to `timeoutMilliseconds` while a subscriber is
    /// at its high-water mark. Returns false when it still could not send (nothing was sent and no
    /// sequence number was used; call again to retry).
    /// - Precondition: `tick.instrument < symbols.count`.
    public func publish(_ tick: Tick, timeoutMilliseconds: Int = 100) throws -> Bool {
        try publish(tick, sendTimeNs: kairos_zfeed_now_ns(), timeoutMilliseconds: timeoutMilliseconds)
    }

    /// `publish` with the send time to stamp (CLOCK_REALTIME ns) given by the caller, who can then
    /// keep it (wire-to-wire measurement). The tick's sequence number will be `sent + 1`.
    public func publish(_ tick: Tick, sendTimeNs: Int64, timeoutMilliseconds: Int = 100) throws -> Bool {
        let i = Int(tick.instrument)
        precondition(i < symbols.count, "instrument \(i) has no symbol")
        var t = tick
        t.publisher = publisherID
        t.seq = sent &+ 1
        let topic = topics + topicOffsets[i]
        let len = topicOffsets[i + 1] - topicOffsets[i]
        let rc = kairos_zfeed_pub_send_tick(pub, topic, len, &t, sendTimeNs, Int32(timeoutMilliseconds))
        switch rc {
        case 0:
            sent = t.seq
            return true
        case 1:
            backPressureWaits &+= 1
            return false
        default:
            throw SystemError("send", errno: errno)
        }
    }

    /// Publishes up to `count` ticks from `source`, paced at `rate` ticks/s (0 = as fast as the
    /// subscribers take them), until the source ends or `stop` is set. A subscriber at its
    /// high-water mark makes this wait (nothing is dropped). `progress` is called with the number
    /// sent so far every 4096 ticks and once at the end. Returns the ticks sent by this call.
    /// Allocates nothing per tick.
    @discardableResult
    public func replay<S: TickSource>(_ source: inout S, count: Int = .max, rate: Double = 0, stop: StopFlag,
                                      progress: (UInt64) -> Void = { _ in }) throws -> UInt64 {
        var limiter = RateLimiter(rate: rate)
        var tick = Tick()
        let first = sent
        var n = 0
        outer: while n < count && !stop.isSet {
            guard source.nextTick(into: &tick) else { break }
            limiter.waitTurn()
            while try !publish(tick) {
                if stop.isSet { break outer }
            }
            n += 1
            if n & 4095 == 0 {
                // Read pending (un)subscription frames so they do not pile up in the XPUB socket.
                _ = kairos_zfeed_pub_wait_subscriptions(pub, 0, 0)
                progress(sent)
            }
        }
        progress(sent)
        return sent - first
    }

    /// Sends arbitrary frames as one message (tests of the ingest's refusal paths). Returns false
    /// on back-pressure.
    public func sendRawFrames(_ frames: [[UInt8]], timeoutMilliseconds: Int = 100) throws -> Bool {
        let ptrs = frames.map { f -> UnsafeMutableRawPointer in
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(f.count, 1), alignment: 8)
            f.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: f.count) } }
            return p
        }
        defer { ptrs.forEach { $0.deallocate() } }
        var raw: [UnsafeRawPointer?] = ptrs.map { UnsafeRawPointer($0) }
        var lens = frames.map { $0.count }
        let rc = kairos_zfeed_pub_send_frames(pub, &raw, &lens, UInt32(frames.count), Int32(timeoutMilliseconds))
        if rc < 0 { throw SystemError("send", errno: errno) }
        return rc == 0
    }
}

#if canImport(Glibc)
import Glibc
#endif
