// ZeroMQ tick ingest: a SUB socket on its own thread decoding wire v1 ticks straight into the
// engine's inbound SPSC ring. All zmq work is in C (zmq_feed.c); Swift owns the thread and the
// lifetime.
import KairosCore
import CKairos
import Synchronization

/// Counters of one ZeroMQ tick ingest. Every received message is counted in exactly one of
/// `accepted`, `decodeErrors` (one reason each), `unknownTopic`, `oversized`, `ringFull`.
public struct ZMQFeedStats: Sendable, Equatable, CustomStringConvertible {
    public var messages: UInt64 = 0
    public var accepted: UInt64 = 0
    /// Messages refused by the payload decoder, by reason, and those without exactly two frames
    /// (`.wrongFrameCount`, `kairos_zfeed_stats.bad_multipart`).
    public var decodeErrors = WireDecodeErrorCounts()
    /// Topic not `tick.<SYMBOL>` with SYMBOL in the table.
    public var unknownTopic: UInt64 = 0
    /// Frames (topic or payload) larger than KAIROS_WIRE_MAX_FRAME, refused by size before any
    /// copy and before the topic is looked up or the payload decoded; not in `decodeErrors`.
    public var oversized: UInt64 = 0
    /// Decoded ticks dropped because the ring was full (also in the ring's drop count).
    public var ringFull: UInt64 = 0
    /// Accepted ticks whose payload instrument id differed from the topic's (the topic wins).
    public var instrumentMismatch: UInt64 = 0

    public init() {}
    init(_ s: kairos_zfeed_stats) {
        messages = s.messages
        accepted = s.accepted
        decodeErrors = WireDecodeErrorCounts(cDecodeErrors: s.decode_errors, wrongFrameCount: s.bad_multipart)
        unknownTopic = s.unknown_topic
        oversized = s.oversized
        ringFull = s.ring_full
        instrumentMismatch = s.instrument_mismatch
    }

    /// Messages not accepted, whatever the reason.
    public var refused: UInt64 { decodeErrors.total + unknownTopic + oversized + ringFull }

    public var description: String {
        "messages \(messages) accepted \(accepted) decode-errors \(decodeErrors.total) (\(decodeErrors)) "
            + "unknown-topic \(unknownTopic) oversized \(oversized) ring-full \(ringFull)"
    }
}

/// Where and what a `ZMQTickIngest` subscribes to.
public struct ZMQFeedConfig: Sendable {
    /// Endpoints to connect to, e.g. `tcp://127.0.0.1:5556` (one SUB socket connects to all).
    public var endpoints: [String]
    /// Topic prefixes to subscribe to; `tick.` takes every symbol.
    public var topics: [String] = ["tick."]
    /// Topic symbol -> instrument id. Ticks for other symbols are counted as unknown topics.
    public var symbols: [(symbol: String, instrument: InstrumentID)]
    /// ZMQ_RCVHWM (messages queued in libzmq before the publisher feels back-pressure).
    public var receiveHighWaterMark = Int(KAIROS_ZFEED_DEFAULT_HWM)
    /// ZMQ_MAXMSGSIZE: libzmq disconnects a peer sending a larger frame, before allocating it.
    public var maxMessageSize = Int(KAIROS_ZFEED_DEFAULT_MAX_MSG)
    /// How long one poll waits; bounds how late the thread notices `stop()`.
    public var pollTimeoutMilliseconds = 50
    /// Messages handled per poll before checking the stop flag again.
    public var batch = 4096
    /// CURVE: connect as a client of a publisher with this public key (nil = plain).
    public var curve: CurveClient? = nil

    public init(endpoints: [String], topics: [String] = ["tick."], symbols: [(symbol: String, instrument: InstrumentID)]) {
        self.endpoints = endpoints
        self.topics = topics
        self.symbols = symbols
    }

    /// Whether binding `endpoint` exposes the socket to this host only (tcp on 127.x / ::1 /
    /// localhost, ipc, inproc). Without CURVE keys Kairos binds such endpoints only, unless told
    /// otherwise.
    public static func isLoopback(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        let rest = endpoint.dropFirst(6)
        // "lo:" is the loopback interface by name (ZeroMQ binds interface names too).
        return rest.hasPrefix("127.") || rest.hasPrefix("localhost:") || rest.hasPrefix("[::1]:") || rest.hasPrefix("lo:")
    }

    /// Longest symbol a topic may carry, in UTF-8 bytes.
    public static let maxSymbolLength = Int(KAIROS_ZFEED_MAX_SYMBOL)

    /// `prefix0`, `prefix1`, ... for instruments 0..<count (the synthetic feed's naming).
    public static func numberedSymbols(_ count: Int, prefix: String = "SYN") -> [(symbol: String, instrument: InstrumentID)] {
        (0..<count).map { ("\(prefix)\($0)", InstrumentID($0)) }
    }
}

/// Receives ticks from ZeroMQ publishers on a dedicated thread and writes them into an SPSC ring.
///
/// Implementation Notes:
/// - The C `kairos_zfeed` (zmq_feed.c) owns the SUB socket, the symbol table and the counters;
///   this object owns it and destroys it in `deinit`, after the thread has been joined.
/// - The ingest thread is the ring's only producer while it runs: nothing else may push into
///   `ring` between `start()` and `stop()`. Each message is decoded straight into a reserved ring
///   slot (no copy, no allocation); a full ring drops the tick and counts it on the ring and in
///   `stats.ringFull`.
/// - Invariants: `stats.messages == stats.accepted + stats.refused`; ticks enter the ring in the
///   order libzmq delivered them; `ts_recv_ns` is CLOCK_REALTIME at receipt; the instrument id
///   comes from the topic's symbol.
/// - Complexity: O(1) per message (one hash lookup on the symbol, one 72-byte decode).
/// - `start()` / `stop()` are called by the owner (one thread); `stats` from any thread.
///
/// `@unchecked Sendable`: the C feed is touched by the ingest thread only between `start()` and
/// the join in `stop()` (thread start and join order those accesses with the owner's), except for
/// `kairos_zfeed_get_stats`, which reads atomic counters and is safe from any thread. The
/// `started`/`thread` fields are only used by the owner thread.
public final class ZMQTickIngest: @unchecked Sendable {
    private let feed: OpaquePointer
    /// The ring's producer, claimed by the caller and held for this object's life: the C feed
    /// pushes into the raw ring, and holding the handle keeps any Swift code from producing too
    /// (and the ring alive while the feed writes into it).
    public let producer: SPSCRing<Tick>.Producer
    public let config: ZMQFeedConfig
    private let stopFlag = StopFlag()
    private var thread: WorkerThread?
    /// errno of a socket error that ended the ingest thread (0 = none). Relaxed: a diagnostic value
    /// that publishes no other memory.
    private let failure = ErrnoCell()

    /// Creates the socket, connects to every endpoint and subscribes to every topic.
    public init(ring producer: consuming SPSCRing<Tick>.Producer, config: ZMQFeedConfig) throws {
        self.producer = producer
        self.config = config
        let cStrings = config.symbols.map { strdupOrDie($0.symbol) }
        defer { cStrings.forEach { free($0) } }
        var table = zip(cStrings, config.symbols).map { kairos_zfeed_symbol(symbol: UnsafePointer($0), instrument: $1.instrument.rawValue) }
        guard let f = kairos_zfeed_create(self.producer.ring.cRing, &table, UInt32(table.count),
                                          Int32(config.receiveHighWaterMark), Int32(config.maxMessageSize)) else {
            throw SystemError("create ZeroMQ SUB socket (symbols must be unique, 1-\(KAIROS_ZFEED_MAX_SYMBOL) bytes)", errno: errno)
        }
        feed = f
        // Every stored property is initialised from here on, so a throw runs deinit, which
        // destroys the feed: do not destroy it here as well.
        for t in config.topics { try syscall("subscribe \(t)") { kairos_zfeed_subscribe(f, t) } }
        if let c = config.curve {
            try syscall("CURVE client keys") { kairos_zfeed_set_curve(f, c.serverPublicKey, c.keys.publicKey, c.keys.secretKey) }
        }
        for ep in config.endpoints { try syscall("connect \(ep)") { kairos_zfeed_connect(f, ep) } }
    }

    deinit {
        stop()
        kairos_zfeed_destroy(feed)
    }

    /// Starts the ingest thread (once).
    public func start() {
        guard thread == nil else { return }
        let feed = UnsafeFeed(feed)
        let stopFlag = stopFlag
        let timeout = Int32(config.pollTimeoutMilliseconds)
        let batch = UInt32(config.batch)
        let failure = failure
        let t = WorkerThread(name: "kairos-zmq-ingest") {
            while !stopFlag.isSet {
                if kairos_zfeed_poll(feed.pointer, timeout, batch) < 0 {
                    // ETERM or a broken socket: nothing more will arrive. Record why and stop
                    // rather than spin.
                    failure.value.store(errno, ordering: .relaxed)
                    break
                }
            }
        }
        thread = t
        t.start()
    }

    /// Asks the thread to stop and waits for it (at most about one poll timeout). Idempotent.
    public func stop() {
        guard let t = thread else { return }
        stopFlag.set()
        t.join()
        thread = nil
    }

    /// The socket error that stopped the ingest thread early, if one did (any thread).
    public var failureDescription: String? {
        let e = failure.value.load(ordering: .relaxed)
        return e == 0 ? nil : String(cString: kairos_sys_strerror(e))
    }

    /// Current counters (any thread).
    public var stats: ZMQFeedStats {
        var s = kairos_zfeed_stats()
        kairos_zfeed_get_stats(feed, &s)
        return ZMQFeedStats(s)
    }
}

/// An errno shared between the ingest thread (writer) and any reader. `Atomic` is not copyable, so
/// the thread closure captures this reference instead.
private final class ErrnoCell: Sendable {
    let value = Atomic<Int32>(0)
}

/// The feed pointer handed to the ingest thread.
/// `@unchecked Sendable`: only the ingest thread uses it between start and join (see
/// `ZMQTickIngest`).
private struct UnsafeFeed: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ p: OpaquePointer) { pointer = p }
}

func strdupOrDie(_ s: String) -> UnsafeMutablePointer<CChar> {
    guard let p = strdup(s) else { fatalError("strdup: out of memory") }
    return p
}

#if canImport(Glibc)
import Glibc
#endif

