import CKairos
import Foundation
import Synchronization
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// A value several threads read and write under a lock (tests only).
final class SharedCell<T: Sendable>: Sendable {
    private let m: Mutex<T>
    init(_ value: T) { m = Mutex(value) }
    var value: T {
        get { m.withLock { $0 } }
        set { m.withLock { $0 = newValue } }
    }
}

/// A producer thread standing in for the engine: offers snapshots for `instruments` instruments
/// round robin through a `FeatureSnapshotPublisher` (interval 0: every offer is due), ~10 k/s.
/// `count` counts calls that returned, so a blocked producer would show as a stalled count.
final class SnapshotProducer: Sendable {
    private let offers = SharedCell<UInt64>(0)
    private let last = SharedCell<Int64>(0)
    private let stopFlag = StopFlag()
    private let joined = SharedCell(false)
    private let thread: WorkerThread
    let publisher: FeatureSnapshotPublisher

    init(ring: SPSCRing<FeatureSnapshot>, instruments: Int) {
        let publisher = FeatureSnapshotPublisher(ring: ring.claimProducer(), instrumentCount: instruments, intervalNs: 0)
        self.publisher = publisher
        let offers = offers, stopFlag = stopFlag, last = last
        thread = WorkerThread(name: "test.snapshot-producer") {
            var step = 0
            while !stopFlag.isSet {
                let i = step % instruments
                let ts = Int64(step + 1)
                publisher.offer(
                    instrument: InstrumentID(i), timestamp: ts, features: testFeatures(instrument: i, step: step),
                    now: MonotonicClock.nanoseconds())
                last.value = ts
                offers.value += 1
                step += 1
                sleepMicroseconds(100)
            }
        }
        thread.start()
    }

    var count: UInt64 { offers.value }
    var lastTimestamp: Int64 { last.value }

    /// Stops and joins the thread (idempotent).
    func stop() {
        stopFlag.set()
        if !joined.value {
            thread.join()
            joined.value = true
        }
    }
}

/// The writer thread against a real redis-server this suite starts, stops, restarts and slows.
/// CI runs it under ThreadSanitizer too (`--filter FeatureCacheThreaded`).
@Suite(.serialized, .enabled(if: RedisServerProcess.isAvailable, "redis-server is not installed: skipping the Redis feature cache tests"))
struct FeatureCacheThreadedTests {
    let symbols = ["SYN0", "SYN1", "SYN2", "SYN3"]

    /// Generous timeouts by default so a loaded machine (ThreadSanitizer, parallel builds) does not
    /// cause timeouts the exact-count tests would see; the slow-server test passes 200 ms.
    func config(_ server: RedisServerProcess, commandTimeoutMs: UInt32 = 2_000) -> FeatureCacheConfig {
        var c = FeatureCacheConfig(port: server.port)
        c.flushIntervalNs = 10_000_000
        c.ttlSeconds = 30
        c.connectTimeoutMs = 1_000
        c.commandTimeoutMs = commandTimeoutMs
        c.reconnectInitialBackoffNs = 10_000_000
        c.reconnectMaxBackoffNs = 200_000_000
        return c
    }

    func reader(_ server: RedisServerProcess) throws -> RedisConnection {
        let r = RedisConnection(port: server.port, connectTimeoutMs: 1_000, commandTimeoutMs: 5_000)
        try r.connect()
        return r
    }

    func hash(_ r: RedisConnection, _ key: String) throws -> [String: String] {
        try #require(try r.command(["HGETALL", key]).fieldMap)
    }

    func checkInvariant(_ s: FeatureCacheStats) {
        #expect(s.consumed == s.coalesced + s.written + s.dropped + s.pending)
    }

    @Test func valuesLandInRedisWithEveryFieldAndTTL() throws {
        let server = try RedisServerProcess()
        let ring = SPSCRing<FeatureSnapshot>(capacity: 1024)
        let writer = FeatureCacheWriter(ring: ring.claimConsumer(), symbols: Array(symbols.prefix(3)), config: config(server))
        let snapshots = ring.claimProducer()  // this test is the engine's side
        writer.start()
        let bull = CachedRegime(regime: .bull, probabilities: SIMD4(0.7, 0.1, 0.15, 0.05), confidence: 0.8)
        let vol = CachedRegime(regime: .volatile, probabilities: SIMD4(0.05, 0.25, 0.1, 0.6), confidence: 1.0 / 3.0)
        let snaps = [
            FeatureSnapshot(instrument: InstrumentID(0), timestamp: 1_700_000_000_123_456_789, features: testFeatures(instrument: 0, step: 5), regime: bull),
            FeatureSnapshot(instrument: InstrumentID(1), timestamp: 1_700_000_000_223_456_789, features: testFeatures(instrument: 1, step: 6)),
            FeatureSnapshot(instrument: InstrumentID(2), timestamp: -5, features: testFeatures(instrument: 2, step: 7), regime: vol),
        ]
        for s in snaps { #expect(snapshots.push(s) == true) }
        #expect(waitUntil { writer.stats.written == 3 })

        let r = try reader(server)
        for s in snaps {
            let key = "kairos:features:\(symbols[Int(s.instrument)])"
            let h = try hash(r, key)
            var expected = Set(Feature.allCases.map(\.description) + ["ts"])
            if s.regime >= 0 { expected.formUnion(["regime", "p_bull", "p_bear", "p_sideways", "p_volatile", "confidence"]) }
            #expect(Set(h.keys) == expected, "fields of \(key)")
            for f in Feature.allCases {
                // Exact: the writer's number format round-trips every double.
                #expect(h[f.description].flatMap(Double.init) == s.features[f], "\(key) \(f)")
            }
            #expect(h["ts"] == "\(s.ts_ns)")
            if let est = s.regimeEstimate {
                #expect(h["regime"] == est.regime.description)
                #expect(h["p_bull"].flatMap(Double.init) == est.probabilities[0])
                #expect(h["p_bear"].flatMap(Double.init) == est.probabilities[1])
                #expect(h["p_sideways"].flatMap(Double.init) == est.probabilities[2])
                #expect(h["p_volatile"].flatMap(Double.init) == est.probabilities[3])
                #expect(h["confidence"].flatMap(Double.init) == est.confidence)
            }
            let ttl = try r.integer(["TTL", key])
            #expect(ttl > 0 && ttl <= 30, "TTL of \(key) is \(ttl)")
        }

        // A later snapshot without a regime estimate removes the stale regime fields.
        #expect(snapshots.push(FeatureSnapshot(instrument: InstrumentID(0), timestamp: 99, features: testFeatures(instrument: 0, step: 8))) == true)
        #expect(waitUntil { writer.stats.written == 4 })
        let h0 = try hash(r, "kairos:features:SYN0")
        #expect(h0["ts"] == "99" && h0["regime"] == nil && h0["p_bull"] == nil && h0["confidence"] == nil)
        #expect(h0[Feature.rsi.description].flatMap(Double.init) == testFeatures(instrument: 0, step: 8)[.rsi])

        // Unknown instrument ids are counted, not written.
        #expect(snapshots.push(FeatureSnapshot(instrument: InstrumentID(7), timestamp: 1, features: FeatureVector())) == true)
        #expect(waitUntil { writer.stats.droppedUnknownInstrument == 1 })
        writer.stop()
        let s = writer.stats
        #expect(s.written == 4 && s.dropped == 1 && s.connects == 1 && s.consumed == 5)
        checkInvariant(s)
        #expect(try r.command(["EXISTS", "kairos:features:SYN3"]) == .integer(0))
    }

    @Test func manySnapshotsOfOneInstrumentCoalesceToTheLatest() throws {
        let server = try RedisServerProcess()
        let ring = SPSCRing<FeatureSnapshot>(capacity: 2048)
        var c = config(server)
        c.flushIntervalNs = 3_600_000_000_000  // no timed flush: only the final one in stop()
        let writer = FeatureCacheWriter(ring: ring.claimConsumer(), symbols: Array(symbols.prefix(2)), config: c)
        let snapshots = ring.claimProducer()  // this test is the engine's side
        writer.start()
        for step in 1...1000 {
            #expect(snapshots.push(FeatureSnapshot(instrument: InstrumentID(0), timestamp: Int64(step), features: testFeatures(instrument: 0, step: step))) == true)
            if step % 100 == 0 {
                #expect(snapshots.push(FeatureSnapshot(instrument: InstrumentID(1), timestamp: Int64(step), features: testFeatures(instrument: 1, step: step))) == true)
            }
        }
        #expect(waitUntil { writer.stats.consumed == 1010 })
        #expect(writer.stats.pending == 2 && writer.stats.written == 0)
        writer.stop()
        let s = writer.stats
        #expect(s.written == 2 && s.coalesced == 1008 && s.dropped == 0 && s.pending == 0 && s.flushes == 1)
        checkInvariant(s)
        let r = try reader(server)
        let h0 = try hash(r, "kairos:features:SYN0")
        #expect(h0["ts"] == "1000")
        for f in Feature.allCases {
            #expect(h0[f.description].flatMap(Double.init) == testFeatures(instrument: 0, step: 1000)[f])
        }
        #expect(try hash(r, "kairos:features:SYN1")["ts"] == "1000")
    }

    @Test func redisStoppedThenRestartedDropsCountedAndReconnects() throws {
        let server = try RedisServerProcess()
        let ring = SPSCRing<FeatureSnapshot>(capacity: 1024)
        let writer = FeatureCacheWriter(ring: ring.claimConsumer(), symbols: symbols, config: config(server))
        writer.start()
        let producer = SnapshotProducer(ring: ring, instruments: symbols.count)
        defer { producer.stop(); writer.stop() }

        #expect(waitUntil { writer.stats.written >= 8 && writer.stats.connected })

        // Down: the writer keeps consuming and counts every write it drops; the producer keeps going.
        server.stop()
        let offersAtDown = producer.count
        let downAt = writer.stats
        #expect(waitUntil {
            let s = writer.stats
            return !s.connected && s.consumed > downAt.consumed + 1_000 && producer.count > offersAtDown + 1_000
                && s.droppedDisconnected + s.droppedConnectionLost > downAt.droppedDisconnected + downAt.droppedConnectionLost + 10
                && s.connectFailures > downAt.connectFailures + 2
        })
        let whileDown = writer.stats
        #expect(whileDown.written <= downAt.written + 4)  // at most the flush in flight when it went down

        // Restarted (empty: no persistence): the writer reconnects and the keys come back.
        try server.start()
        #expect(waitUntil { writer.stats.connects >= 2 && writer.stats.written > whileDown.written + 8 })
        let r = try reader(server)
        // The restarted server began empty, so the key's existence proves a write after the restart.
        let h = try hash(r, "kairos:features:SYN0")
        let ts = try #require(h["ts"].flatMap(Int64.init))
        #expect(ts > 0 && ts <= producer.lastTimestamp)
        #expect(try r.integer(["TTL", "kairos:features:SYN0"]) > 0)

        producer.stop()
        writer.stop()
        let s = writer.stats
        checkInvariant(s)
        // Every offer either entered the ring or was a counted ring drop.
        #expect(producer.publisher.published + producer.publisher.dropped == producer.count)
        #expect(producer.publisher.dropped == s.ringDrops)
        #expect(producer.publisher.published == s.consumed)
    }

    @Test func slowRedisDoesNotBlockTheProducer() throws {
        let server = try RedisServerProcess()
        let ring = SPSCRing<FeatureSnapshot>(capacity: 1024)
        let writer = FeatureCacheWriter(ring: ring.claimConsumer(), symbols: symbols, config: config(server, commandTimeoutMs: 200))
        writer.start()
        let producer = SnapshotProducer(ring: ring, instruments: symbols.count)
        defer { producer.stop(); writer.stop() }
        #expect(waitUntil { writer.stats.written >= 8 })

        // Another client makes the server sleep 2 s (it blocks the whole server). The writer's
        // commands time out after 200 ms; the producer must keep offering throughout.
        let offersWhenAwake = SharedCell<UInt64>(0)
        let sleepReply = SharedCell("")
        let port = server.port
        let sleeper = WorkerThread(name: "test.redis-sleeper") {
            let c = RedisConnection(port: port, connectTimeoutMs: 1_000, commandTimeoutMs: 10_000)
            var reply = "not sent"
            do {
                try c.connect()
                reply = "\(try c.command(["DEBUG", "SLEEP", "2"]))"
            } catch {
                reply = "\(error)"
            }
            offersWhenAwake.value = producer.count
            sleepReply.value = reply
        }
        let timeoutsBefore = writer.stats.droppedTimeout
        sleeper.start()
        #expect(waitUntil { writer.stats.droppedTimeout > timeoutsBefore })
        let offersAtTimeout = producer.count
        sleeper.join()
        #expect(sleepReply.value == "status(\"OK\")")
        // The producer made progress between the writer's timeout and the server waking up.
        #expect(offersWhenAwake.value > offersAtTimeout + 100)

        // Awake again: writes resume.
        let afterSleep = writer.stats
        #expect(waitUntil { writer.stats.written > afterSleep.written + 8 && writer.stats.connected })
        producer.stop()
        writer.stop()
        let s = writer.stats
        checkInvariant(s)
        #expect(s.droppedTimeout > 0)
        #expect(producer.publisher.published + producer.publisher.dropped == producer.count)
    }
}
