// Raw-feed UDP ingest: the Swift owner of the C receiver in ingest_udp.c (kairos_ingest.h). The C side
// does all per-datagram work (receive, decode into ring slots, count); Swift only starts and
// stops the thread that polls it and reads the counters. See docs/ingest.md.
import KairosCore
import CKairos
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Which kernel interface receives datagrams (and reads replay files). `--io uring|epoll`.
public enum IngestBackend: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// io_uring when `io_uring_queue_init` succeeds here, else epoll (the failure's errno is kept).
    case auto
    /// io_uring: multishot recv with provided buffers where the kernel has it, else single-shot recvmsg SQEs.
    case ioUring = "uring"
    /// epoll_wait + recvmmsg batches (replay: plain read()).
    case epoll

    var cValue: kairos_ingest_backend {
        switch self {
        case .auto: KAIROS_INGEST_AUTO
        case .ioUring: KAIROS_INGEST_IO_URING
        case .epoll: KAIROS_INGEST_EPOLL
        }
    }

    init(_ c: kairos_ingest_backend) {
        switch c {
        case KAIROS_INGEST_IO_URING: self = .ioUring
        case KAIROS_INGEST_EPOLL: self = .epoll
        default: self = .auto
        }
    }

    public var description: String { rawValue }
}

/// The clock that stamps `Tick.ts_recv_ns` on received datagrams.
public enum IngestClock: Sendable {
    /// CLOCK_REALTIME ns since the Unix epoch: comparable with the sender's `ts_send_ns` (wire latency).
    case realtime
    /// CLOCK_MONOTONIC ns: comparable with `MonotonicClock`, the engine's latency clock.
    case monotonic
}

/// A snapshot of the ingest counters (see `kairos_ingest.h` for their exact meaning).
/// Invariants once the ingest thread is quiet: `received == truncated + decodeErrors.total + decoded`
/// and `decoded == pushed + ringFullDrops`.
public struct IngestStats: Sendable, Equatable {
    public var received: UInt64
    public var decoded: UInt64
    public var pushed: UInt64
    public var ringFullDrops: UInt64
    public var truncated: UInt64
    /// Refused by the wire decoder, by reason (never `.wrongFrameCount`: a datagram is one record).
    public var decodeErrors: WireDecodeErrorCounts
    /// Datagrams the kernel dropped on the socket before Kairos saw them (receive queue full).
    public var socketDrops: UInt64
    public var polls: UInt64
    /// io_uring multishot receives re-armed after the kernel ended one.
    public var rearms: UInt64
    /// Last unexpected negative errno from the kernel, 0 if none.
    public var lastError: Int32

    init(_ s: kairos_ingest_stats) {
        received = s.received
        decoded = s.decoded
        pushed = s.pushed
        ringFullDrops = s.ring_full_drops
        truncated = s.truncated
        decodeErrors = WireDecodeErrorCounts(cDecodeErrors: s.decode_errors)
        socketDrops = s.socket_drops
        polls = s.polls
        rearms = s.rearms
        lastError = s.last_error
    }
}

/// A C pointer handed to the worker thread. `@unchecked Sendable`: the C object's contract
/// (kairos_ingest.h) allows exactly one thread to poll it and any thread to read its counters;
/// the owners below guarantee that only their worker polls and that the worker is joined before
/// the object is destroyed.
struct IngestHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Receives wire ticks over UDP (one per datagram) into an SPSC ring of `Tick`.
///
/// Implementation Notes:
/// - Owns the C `kairos_ingest` (socket, io_uring or epoll instance, receive buffers) and frees it
///   in `deinit`, after stopping the worker. The ring is shared with the consumer; this object is
///   its only producer, so nothing else may push into it while the ingest exists.
/// - `start()` runs `kairos_ingest_poll` in a loop on a `WorkerThread` until `stop()`; each poll
///   waits at most `pollTimeoutMs`, so `stop()` returns within about that long. `pollOnce` is for
///   callers that drive the receiver on a thread of their own instead (never both).
/// - Per datagram: one decode straight into a ring slot, no allocation, no Swift code; the receive
///   timestamp (`ts_recv_ns`) is CLOCK_REALTIME by default (`receiveClock`), taken once per kernel batch.
/// - `stats` may be read from any thread (relaxed atomics in C, plus one getsockopt for the
///   kernel's socket drop count).
/// - `start`/`stop` must be called from one owner thread (they are not synchronised with each other).
///
/// - The C receiver writes into the ring, so this object holds the ring's producer handle for its
///   whole life: nothing else in the process can produce into that ring meanwhile.
///
/// `@unchecked Sendable`: the immutable C handle is used only as described above; `worker` is
/// mutated only by the owner thread in `start`/`stop`.
public final class UDPIngest: @unchecked Sendable {
    /// The ring's producer, claimed by the caller and held while the C receiver pushes into it.
    public let producer: SPSCRing<Tick>.Producer
    /// The backend actually used (never `.auto`).
    public let backend: IngestBackend
    /// When `.auto` fell back to epoll: the positive errno of the failed io_uring setup; else 0.
    public let fallbackErrno: Int32
    /// io_uring only: true when multishot recv with provided buffers is in use.
    public let usesMultishot: Bool
    /// The bound UDP port (the ephemeral one when 0 was asked for).
    public let port: UInt16
    public let address: String
    private let handle: IngestHandle
    private let stopFlag = StopFlag()
    private var worker: WorkerThread?

    /// Binds `address:port` (IPv4; port 0 = ephemeral). `batch`: datagrams per recvmmsg / single-shot
    /// SQEs in flight. `useMultishot: false` forces io_uring's single-shot path (for comparison).
    public init(address: String = "127.0.0.1", port: UInt16 = 0, backend: IngestBackend = .auto,
                ring producer: consuming SPSCRing<Tick>.Producer, batch: Int = Int(KAIROS_INGEST_DEFAULT_BATCH), useMultishot: Bool = true,
                receiveBufferBytes: Int = 0, receiveClock: IngestClock = .realtime, logger: Logger? = nil) throws {
        precondition(batch >= 0 && batch <= 1024, "batch must be 0...1024")
        var cfg = kairos_ingest_config()
        cfg.backend = backend.cValue
        cfg.batch = UInt32(batch)
        cfg.rcvbuf_bytes = UInt32(clamping: receiveBufferBytes)
        cfg.no_multishot = !useMultishot
        cfg.clock_id = receiveClock == .monotonic ? Int32(CLOCK_MONOTONIC) : Int32(CLOCK_REALTIME)
        var err: Int32 = 0
        guard let p = kairos_ingest_udp_create_config(address, port, &cfg, producer.ring.cRing, &err) else {
            throw SystemError("UDP ingest on \(address):\(port) (\(backend))", errno: -err)
        }
        handle = IngestHandle(pointer: p)
        self.producer = producer
        self.address = address
        self.backend = IngestBackend(kairos_ingest_backend_used(p))
        fallbackErrno = -kairos_ingest_fallback_errno(p)
        usesMultishot = kairos_ingest_multishot(p)
        self.port = kairos_ingest_port(p)
        if let logger {
            var meta: Logger.Metadata = ["backend": "\(self.backend)", "port": "\(self.port)",
                                         "multishot": "\(usesMultishot)"]
            if fallbackErrno != 0 {
                meta["fallback"] = "io_uring unavailable: \(String(cString: strerror(fallbackErrno)))"
            }
            let ms = kairos_ingest_multishot_errno(p)
            if ms != 0 { meta["single-shot because"] = "\(String(cString: strerror(-ms)))" }
            logger.info("UDP ingest bound", metadata: meta)
        }
    }

    deinit {
        stop()
        kairos_ingest_destroy(handle.pointer)
    }

    /// Starts the receive loop on its own thread, pinned to `cpu` when given (best effort).
    /// No effect when already running.
    public func start(pollTimeoutMs: Int32 = 10, cpu: Int? = nil) {
        guard worker == nil else { return }
        let h = handle
        let flag = stopFlag
        let ring = producer.ring // keeps the ring alive while the thread produces into it
        let w = WorkerThread(name: "kairos-udp-ingest") {
            if let cpu { _ = kairos_ingest_pin_current_thread(Int32(cpu)) }
            while !flag.isSet {
                _ = kairos_ingest_poll(h.pointer, pollTimeoutMs)
            }
            withExtendedLifetime(ring) {}
        }
        worker = w
        w.start()
    }

    /// Asks the receive loop to finish and waits for it. Datagrams still in the socket stay there.
    public func stop() {
        guard let w = worker else { return }
        stopFlag.set()
        w.join()
        worker = nil
    }

    /// One poll on the caller's thread (only when `start()` is not in use): waits up to
    /// `timeoutMs` (0 = no wait), returns datagrams handled, or a negative errno.
    @discardableResult
    public func pollOnce(timeoutMs: Int32 = 0) -> Int {
        precondition(worker == nil, "pollOnce while the ingest thread runs")
        return Int(kairos_ingest_poll(handle.pointer, timeoutMs))
    }

    /// Datagrams taken from the socket so far (any thread; one atomic load, no system call).
    public var receivedCount: UInt64 { kairos_ingest_received(handle.pointer) }

    /// The counters now (any thread; includes one getsockopt for `socketDrops`).
    public var stats: IngestStats {
        var s = kairos_ingest_stats()
        kairos_ingest_stats_read(handle.pointer, &s)
        return IngestStats(s)
    }
}

