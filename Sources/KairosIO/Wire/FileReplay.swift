// Replay of a recorded binary feed (consecutive 72-byte wire ticks) into an SPSC ring of `Tick`,
// through the C replayer in ingest_replay.c (io_uring block reads, or read() for the epoll backend).
import KairosCore
import CKairos
import Foundation
import Synchronization

/// Replays a file of wire ticks into a ring, optionally paced.
///
/// Implementation Notes:
/// - Owns the C `kairos_replay` (file descriptor, io_uring instance, block buffers) and frees it in
///   `deinit` after stopping the worker. This object is the ring's only producer while it exists:
///   it holds the ring's producer handle (the C replayer pushes through the raw ring).
/// - A full ring makes replay wait (it never drops: a file can wait, a socket cannot); a trailing
///   partial record is counted as truncated.
/// - `start` runs the replay on a `WorkerThread`; `wait` joins it; `stop` asks it to finish early
///   and joins. `result` is 0 at end of file, 1 when stopped, a negative errno on failure.
/// - `start`/`wait`/`stop` are for one owner thread; `stats` and `result` may be read from any.
///
/// `@unchecked Sendable`: the C handle is used by one worker at a time (the C contract); the stop
/// request and the counters are atomics in C; `worker` is touched only by the owner thread.
public final class FileReplay: @unchecked Sendable {
    /// The ring's producer, claimed by the caller and held while the C replayer pushes into it.
    public let producer: SPSCRing<Tick>.Producer
    public let backend: IngestBackend
    public let fallbackErrno: Int32
    private let handle: IngestHandle
    private var worker: WorkerThread?
    private let outcome = ReplayOutcome()

    public init(path: String, backend: IngestBackend = .auto, ring producer: consuming SPSCRing<Tick>.Producer) throws {
        var err: Int32 = 0
        guard let p = kairos_replay_create(path, backend.cValue, producer.ring.cRing, &err) else {
            throw SystemError("replay of \(path) (\(backend))", errno: -err)
        }
        handle = IngestHandle(pointer: p)
        self.producer = producer
        self.backend = IngestBackend(kairos_replay_backend_used(p))
        fallbackErrno = -kairos_replay_fallback_errno(p)
    }

    deinit {
        stop()
        kairos_replay_destroy(handle.pointer)
    }

    /// Starts replaying on its own thread. `ratePerSecond` 0 = as fast as the ring drains.
    public func start(ratePerSecond: Double = 0) {
        guard worker == nil else { return }
        let h = handle
        let ring = producer.ring // keeps the ring alive while the thread produces into it
        let outcome = self.outcome
        let w = WorkerThread(name: "kairos-replay") {
            let rc = kairos_replay_run(h.pointer, ratePerSecond)
            // Relaxed: `wait()` joins the thread (a happens-before edge) before the owner relies on it.
            outcome.value.store(rc, ordering: .relaxed)
            withExtendedLifetime(ring) {}
        }
        worker = w
        w.start()
    }

    /// Blocks until the replay thread has finished; returns `result`.
    @discardableResult
    public func wait() -> Int32? {
        worker?.join()
        worker = nil
        return result
    }

    /// Asks the replay to finish early and waits for it.
    public func stop() {
        guard worker != nil else { return }
        kairos_replay_request_stop(handle.pointer)
        wait()
    }

    /// 0 = end of file, 1 = stopped, negative errno; nil while running or before `start`.
    public var result: Int32? {
        let r = outcome.value.load(ordering: .relaxed)
        return r == Int32.min ? nil : r
    }

    /// The counters now (any thread).
    public var stats: IngestStats {
        var s = kairos_ingest_stats()
        kairos_replay_stats_read(handle.pointer, &s)
        return IngestStats(s)
    }

    /// Writes `ticks` as a wire-format file (what `FileReplay` reads), stamping `ts_send_ns` with
    /// `sendTimeNs`. Not for hot paths (allocates the file image).
    public static func write(_ ticks: [Tick], to path: String, sendTimeNs: Int64 = 0) throws {
        let size = Int(KAIROS_WIRE_TICK_SIZE)
        var bytes = [UInt8](repeating: 0, count: ticks.count * size)
        bytes.withUnsafeMutableBytes { raw in
            for (i, t) in ticks.enumerated() {
                var tick = t
                _ = kairos_wire_encode_tick(&tick, sendTimeNs, raw.baseAddress! + i * size, size)
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// The replay thread's return code, shared with the owner (Int32.min = not finished yet).
final class ReplayOutcome: Sendable {
    let value = Atomic<Int32>(Int32.min)
}
