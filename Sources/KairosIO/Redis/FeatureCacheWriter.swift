// The Redis feature cache writer: drains the snapshot ring the engine fills, keeps the latest
// snapshot per instrument, and every flush interval writes them to Redis, pipelined.
// Key schema and failure behaviour: docs/redis.md.
import KairosCore
import CKairos
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public struct FeatureCacheConfig: Sendable {
    public var host: String = "127.0.0.1"
    public var port: UInt16 = 6379
    /// Keys are `keyPrefix + symbol`.
    public var keyPrefix: String = "kairos:features:"
    /// EXPIRE set on every write, so a stopped engine's keys disappear; 0 = no expiry.
    public var ttlSeconds: UInt32 = 60
    /// How often the latest snapshot of every updated instrument is written.
    public var flushIntervalNs: Int64 = 50_000_000
    public var connectTimeoutMs: UInt32 = 100
    /// Bound on one blocking write or read; a slower Redis counts as a timeout and the pipeline's
    /// writes are dropped.
    public var commandTimeoutMs: UInt32 = 100
    /// First reconnect delay after a failure; doubles per failed attempt up to the maximum.
    public var reconnectInitialBackoffNs: Int64 = 50_000_000
    public var reconnectMaxBackoffNs: Int64 = 2_000_000_000
    /// Snapshots per pipelined round trip.
    public var maxPipeline: Int = 256
    /// How long the writer sleeps when the ring is empty and no flush is due.
    public var idleSleepMicroseconds: Int = 1_000

    public init(host: String = "127.0.0.1", port: UInt16 = 6379) {
        self.host = host
        self.port = port
    }
}

/// Counters of a `FeatureCacheWriter`. A "write" is one instrument's latest snapshot in one flush.
/// Invariant (read when the writer is stopped, or as one consistent snapshot while it runs):
/// `consumed == coalesced + written + dropped + pending`.
public struct FeatureCacheStats: Sendable, Equatable {
    /// Snapshots taken out of the ring.
    public var consumed: UInt64 = 0
    /// Snapshots superseded by a newer one of the same instrument before they were flushed.
    public var coalesced: UInt64 = 0
    /// Writes Redis acknowledged (HSET and EXPIRE replied without error).
    public var written: UInt64 = 0
    /// Writes dropped because there was no connection (Redis down, or waiting to reconnect).
    public var droppedDisconnected: UInt64 = 0
    /// Writes dropped because Redis did not answer within the command timeout (slow, paused).
    public var droppedTimeout: UInt64 = 0
    /// Writes dropped because the connection broke mid-pipeline (reset, closed, protocol error).
    public var droppedConnectionLost: UInt64 = 0
    /// Writes Redis answered with an error reply (OOM, LOADING, READONLY, ...).
    public var droppedServerError: UInt64 = 0
    /// Snapshots whose instrument id has no symbol.
    public var droppedUnknownInstrument: UInt64 = 0
    /// Latest snapshots waiting for the next flush.
    public var pending: UInt64 = 0
    public var flushes: UInt64 = 0
    /// Successful connects (the first one included).
    public var connects: UInt64 = 0
    public var connectFailures: UInt64 = 0
    public var connected: Bool = false
    /// Snapshots the producer could not push because the ring was full (`SPSCRing.dropCount`).
    public var ringDrops: UInt64 = 0

    public var dropped: UInt64 {
        droppedDisconnected + droppedTimeout + droppedConnectionLost + droppedServerError + droppedUnknownInstrument
    }
}

/// Writes the latest feature snapshot of every instrument to Redis, off the engine thread.
///
/// Implementation Notes:
/// - Threads: the engine (or any single producer) pushes `FeatureSnapshot`s into the ring and never
///   waits (`FeatureSnapshotPublisher`; a full ring is a counted drop). This writer holds the ring's
///   consumer handle, so it is the only consumer, on its own `WorkerThread` between `start()` and `stop()`; Redis I/O happens only
///   there, so a down, slow or restarting Redis can delay only this thread.
/// - Coalescing: per instrument only the newest snapshot is kept (O(1) per snapshot: one 152-byte
///   copy into a per-instrument slot plus a dirty list). Every `flushIntervalNs` each dirty slot
///   becomes one `HSET kairos:features:<SYMBOL> ...` (+ `EXPIRE`), pipelined `maxPipeline` at a time
///   (one round trip per chunk). Per-flush cost is O(dirty instruments); nothing allocates after
///   `init` except hiredis's output buffer (reused) and log messages on state changes.
/// - Failures: every write that does not reach Redis is counted by reason (`FeatureCacheStats`);
///   nothing is retried (the next flush carries newer values). After a failure the writer
///   reconnects with exponential backoff (`reconnectInitialBackoffNs`, doubling, capped at
///   `reconnectMaxBackoffNs`, reset by the first confirmed write); while disconnected it keeps
///   draining the ring and counts the writes it drops. One log line per state change (unavailable
///   / writes resumed), none per failed attempt; a connect that is not followed by a confirmed
///   write (a sleeping server still accepts TCP) does not count as "up".
/// - A blocking Redis call lasts at most the connect or command timeout; while it lasts, the ring
///   fills at the producer's rate: size the ring for (timeout × snapshots per second).
/// - `stop()` drains the ring, makes one last flush (one connect attempt if disconnected) and joins.
/// - `@unchecked Sendable`: the mutable state (`latest`, `dirty`, `dirtyList`, the connection, the
///   backoff) is touched only by the writer thread, which `start()` creates after `init` finished
///   (thread start is a happens-before edge) and `stop()` joins; `stats` crosses threads through a
///   `Mutex`; the C strings are written once in `init` and only read afterwards.
public final class FeatureCacheWriter: @unchecked Sendable {
    /// The ring's one consumer: this writer (claimed by the caller, held for its lifetime).
    public let consumer: SPSCRing<FeatureSnapshot>.Consumer
    public let config: FeatureCacheConfig
    public let symbols: [String]
    private let logger: Logger
    private let connection: RedisConnection
    private let stopFlag = StopFlag()
    /// The writer thread while it runs; `started` makes `start()` once-only and `stop()` idempotent.
    private let lifecycle = Mutex<(thread: WorkerThread?, started: Bool)>((nil, false))
    private let shared = Mutex(FeatureCacheStats())

    // Writer-thread state.
    private let latest: UnsafeMutablePointer<FeatureSnapshot>
    private var dirty: [Bool]
    private var dirtyList: [Int]
    /// Whether the hash may hold regime fields, so a regime-less write must HDEL them. Starts true:
    /// keys of an earlier run may still be alive.
    private var regimeStored: [Bool]
    private var commandsPerWrite: [Int]
    private var local = FeatureCacheStats()
    private var nextConnectAt: Int64 = 0
    private var backoffNs: Int64
    private var isDown = false

    // C strings, allocated once.
    private let keys: [UnsafeMutablePointer<CChar>]
    private let featureNames: UnsafeMutablePointer<UnsafePointer<CChar>?>

    /// `symbols[k]` is the symbol of instrument id k (dense ids, as in `EngineConfig.instruments`).
    public init(
        ring consumer: consuming SPSCRing<FeatureSnapshot>.Consumer, symbols: [String], config: FeatureCacheConfig = FeatureCacheConfig(),
        logger: Logger = Logger(label: "kairos.feature-cache")
    ) {
        precondition(!symbols.isEmpty && symbols.count <= InstrumentID.max, "1...\(InstrumentID.max) symbols")
        precondition(config.flushIntervalNs > 0 && config.maxPipeline > 0, "flush interval and pipeline must be > 0")
        precondition(config.reconnectInitialBackoffNs > 0 && config.reconnectMaxBackoffNs >= config.reconnectInitialBackoffNs,
                     "backoff: 0 < initial <= max")
        self.consumer = consumer
        self.config = config
        self.symbols = symbols
        self.logger = logger
        connection = RedisConnection(
            host: config.host, port: config.port,
            connectTimeoutMs: config.connectTimeoutMs, commandTimeoutMs: config.commandTimeoutMs)
        let n = symbols.count
        latest = .allocate(capacity: n)
        latest.initialize(repeating: FeatureSnapshot(), count: n)
        dirty = Array(repeating: false, count: n)
        dirtyList = []
        dirtyList.reserveCapacity(n)
        regimeStored = Array(repeating: true, count: n)
        commandsPerWrite = Array(repeating: 0, count: config.maxPipeline)
        backoffNs = config.reconnectInitialBackoffNs
        keys = symbols.map { strdup(config.keyPrefix + $0)! }
        featureNames = .allocate(capacity: Feature.count)
        for f in Feature.allCases { featureNames[f.rawValue] = UnsafePointer(strdup(f.description)!) }
    }

    /// Convenience: symbols from the engine's instrument list (ids must be dense 0..<n in order).
    public convenience init(
        ring consumer: consuming SPSCRing<FeatureSnapshot>.Consumer, instruments: [Instrument], config: FeatureCacheConfig = FeatureCacheConfig(),
        logger: Logger = Logger(label: "kairos.feature-cache")
    ) {
        for (k, inst) in instruments.enumerated() {
            precondition(inst.id.index == k, "instrument ids must be dense 0..<n in order")
        }
        self.init(ring: consumer, symbols: instruments.map(\.symbol), config: config, logger: logger)
    }

    deinit {
        latest.deinitialize(count: symbols.count)
        latest.deallocate()
        keys.forEach { free($0) }
        for f in 0..<Feature.count { free(UnsafeMutablePointer(mutating: featureNames[f])) }
        featureNames.deallocate()
    }

    /// The Redis key of `symbol`.
    public func key(for symbol: String) -> String { config.keyPrefix + symbol }

    /// Counters as of the writer's last loop iteration (any thread).
    public var stats: FeatureCacheStats {
        var s = shared.withLock { $0 }
        s.ringDrops = consumer.ring.dropCount
        return s
    }

    /// Starts the writer thread (once).
    public func start() {
        lifecycle.withLock { l in
            precondition(!l.started, "FeatureCacheWriter.start() called twice")
            let w = WorkerThread(name: "kairos.feature-cache") { [self] in self.run() }
            l = (w, true)
            w.start()
        }
    }

    /// Asks the writer to drain, flush once more and exit; returns after the thread has ended.
    /// Call it before releasing the writer (the thread holds a reference until then). Idempotent;
    /// concurrent calls are not supported (the second would return before the join).
    public func stop() {
        stopFlag.set()
        let t = lifecycle.withLock { l in
            defer { l.thread = nil }
            return l.thread
        }
        t?.join()
    }

    // MARK: - Writer thread

    private func run() {
        var nextFlush = MonotonicClock.nanoseconds() &+ config.flushIntervalNs
        while true {
            let stopping = stopFlag.isSet
            let took = drainRing()
            let now = MonotonicClock.nanoseconds()
            if !connection.isConnected && (stopping || now >= nextConnectAt) { connect(now: now) }
            var flushed = false
            if stopping || now >= nextFlush {
                flush()
                flushed = true
                nextFlush = now &+ config.flushIntervalNs
            }
            if took > 0 || flushed { publishStats() }
            if stopping { break }
            if took == 0 {
                let untilFlushUs = Int((nextFlush &- MonotonicClock.nanoseconds()) / 1_000)
                let us = min(config.idleSleepMicroseconds, untilFlushUs)
                if us > 0 { sleepMicroseconds(us) }
            }
        }
        connection.disconnect()
        local.connected = false
        publishStats()
    }

    private func publishStats() {
        local.pending = UInt64(dirtyList.count)
        local.connected = connection.isConnected
        let s = local
        shared.withLock { $0 = s }
    }

    /// Takes everything in the ring (both sides of the wrap point). Returns how many.
    private func drainRing() -> Int {
        var total = 0
        while true {
            let n = consumer.withAvailable { buf in
                for s in buf { accept(s) }
                return buf.count
            }
            if n == 0 { return total }
            total += n
        }
    }

    private func accept(_ s: FeatureSnapshot) {
        local.consumed &+= 1
        let i = Int(s.instrument)
        guard i < symbols.count else {
            local.droppedUnknownInstrument &+= 1
            return
        }
        if dirty[i] {
            local.coalesced &+= 1
        } else {
            dirty[i] = true
            dirtyList.append(i)
        }
        latest[i] = s
    }

    /// A TCP connect alone does not mean Redis is usable (a sleeping or paused server still
    /// accepts connections), so "up" is declared, logged and the backoff reset only when a write is
    /// confirmed (`writeConfirmed`). Only the very first connect is logged on its own.
    private func connect(now: Int64) {
        do {
            try connection.connect()
            local.connects &+= 1
            if local.connects == 1 && !isDown {
                logger.info("feature cache connected to redis", metadata: ["host": "\(config.host)", "port": "\(config.port)"])
            }
        } catch {
            local.connectFailures &+= 1
            markDown(error, now: now)
        }
    }

    private func writeConfirmed() {
        local.written &+= 1
        guard isDown else { return }
        isDown = false
        backoffNs = config.reconnectInitialBackoffNs
        logger.info("feature cache writes to redis resumed", metadata: [
            "host": "\(config.host)", "port": "\(config.port)", "connects": "\(local.connects)",
            "dropped": "\(local.dropped)",
        ])
    }

    /// Records a failure: schedules the next connect attempt (exponential backoff, capped) and logs
    /// only when the state changes from up to down.
    private func markDown(_ error: RedisError, now: Int64) {
        nextConnectAt = now &+ backoffNs
        backoffNs = min(backoffNs &* 2, config.reconnectMaxBackoffNs)
        if !isDown {
            isDown = true
            logger.warning("redis unavailable: dropping feature cache writes (counted) and reconnecting with backoff", metadata: [
                "host": "\(config.host)", "port": "\(config.port)", "reason": "\(error)", "detail": "\(connection.lastError)",
            ])
        }
    }

    private func countDrops(_ n: Int, _ reason: RedisError) {
        let n = UInt64(n)
        switch reason {
        case .timeout: local.droppedTimeout &+= n
        case .notConnected, .connect: local.droppedDisconnected &+= n
        default: local.droppedConnectionLost &+= n
        }
    }

    private func flush() {
        defer {
            for i in dirtyList { dirty[i] = false }
            dirtyList.removeAll(keepingCapacity: true)
        }
        guard !dirtyList.isEmpty else { return }
        local.flushes &+= 1
        var start = 0
        while start < dirtyList.count {
            let end = min(start + config.maxPipeline, dirtyList.count)
            guard connection.isConnected else {
                countDrops(dirtyList.count - start, .notConnected)
                return
            }
            if let failure = writeChunk(start..<end) {
                markDown(failure.error, now: MonotonicClock.nanoseconds())
                countDrops(failure.unsent + (dirtyList.count - end), failure.error)
                return
            }
            start = end
        }
    }

    /// Appends one chunk's commands, then reads their replies. On a transport failure returns the
    /// error and how many of the chunk's writes were not confirmed.
    private func writeChunk(_ range: Range<Int>) -> (error: RedisError, unsent: Int)? {
        let ttl = config.ttlSeconds
        for (j, k) in range.enumerated() {
            let i = dirtyList[k]
            let clear = regimeStored[i]
            do {
                commandsPerWrite[j] = try connection.appendSnapshot(
                    key: keys[i], featureNames: featureNames, latest + i, ttlSeconds: ttl, clearRegime: clear)
            } catch {
                return (error, range.count)
            }
        }
        for (j, k) in range.enumerated() {
            let i = dirtyList[k]
            do {
                let errors = try connection.readReplies(commandsPerWrite[j])
                if errors > 0 {
                    local.droppedServerError &+= 1
                } else {
                    writeConfirmed()
                    regimeStored[i] = latest[i].regime >= 0
                }
            } catch {
                return (error, range.count - j)
            }
        }
        return nil
    }
}
