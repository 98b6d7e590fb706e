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
#if canImport(Glibc)
import Glibc
#endif

/// Polls `condition` every 5 ms for up to `seconds`; returns whether it became true. A deadline
/// for liveness only: no test asserts how long anything took.
func waitUntil(seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = MonotonicClock.nanoseconds() + Int64(seconds * 1e9)
    while MonotonicClock.nanoseconds() < deadline {
        if condition() { return true }
        sleepMicroseconds(5_000)
    }
    return condition()
}

/// Deterministic, non-round feature values (so a lossy number format would show).
func testFeatures(instrument: Int, step: Int) -> FeatureVector {
    var v = FeatureVector()
    withUnsafeMutableBytes(of: &v.v) { raw in
        for k in 0..<Feature.count {
            raw.storeBytes(of: Double(instrument * 1000 + step) / 3.0 + Double(k) * 0.1 - 7.0 / Double(k + 1),
                           toByteOffset: k * 8, as: Double.self)
        }
    }
    return v
}

// MARK: - Unit tests (no threads)

@Suite struct FeatureCacheTests {
    @Test func snapshotRecordLayout() {
        #expect(MemoryLayout<FeatureSnapshot>.size == 152)
        #expect(MemoryLayout<FeatureSnapshot>.stride == 152)
        #expect(MemoryLayout<FeatureSnapshot>.alignment == 8)
        #expect(MemoryLayout<FeatureSnapshot>.offset(of: \.ts_ns) == 8)
        #expect(MemoryLayout<FeatureSnapshot>.offset(of: \.features) == 16)
        #expect(MemoryLayout<FeatureSnapshot>.offset(of: \.confidence) == 144)
    }

    @Test func snapshotCarriesRegimeOrNone() {
        let f = testFeatures(instrument: 3, step: 9)
        let none = FeatureSnapshot(instrument: InstrumentID(3), timestamp: 42, features: f)
        #expect(none.regime == -1 && none.regimeEstimate == nil)
        #expect(none.instrumentID == InstrumentID(3) && none.ts_ns == 42)
        #expect(none.features[.rsi] == f[.rsi])
        let est = CachedRegime(regime: .volatile, probabilities: SIMD4(0.1, 0.2, 0.3, 0.4), confidence: 0.4)
        let some = FeatureSnapshot(instrument: InstrumentID(3), timestamp: 42, features: f, regime: est)
        #expect(some.regime == 3)
        #expect(some.regimeEstimate == est)
    }

    @Test func publisherThrottlesPerInstrumentAndCountsFullRing() {
        let ring = SPSCRing<FeatureSnapshot>(capacity: 4)
        let pub = FeatureSnapshotPublisher(ring: ring.claimProducer(), instrumentCount: 2, intervalNs: 10)
        let f = FeatureVector()
        var pushed: [Int64] = []
        for now in stride(from: Int64(0), through: 25, by: 5) {
            if pub.offer(instrument: InstrumentID(0), timestamp: now, features: f, now: now) { pushed.append(now) }
        }
        #expect(pushed == [0, 10, 20])
        // Instrument 1 has its own clock: its first offer publishes at once.
        #expect(pub.offer(instrument: InstrumentID(1), timestamp: 25, features: f, now: 25))
        // The ring (4 slots) is now full: the next due offer is a counted drop, not a wait.
        #expect(!pub.offer(instrument: InstrumentID(1), timestamp: 40, features: f, now: 40))
        #expect(pub.published == 4 && pub.dropped == 1 && ring.dropCount == 1)
        #expect(ring.claimConsumer().pop()?.ts_ns == 0)
    }

    @Test(.enabled(if: RedisServerProcess.isAvailable, "redis-server is not installed"))
    func clientRoundTripsAndReportsErrorsAsCodes() throws {
        let server = try RedisServerProcess()
        let c = RedisConnection(port: server.port, connectTimeoutMs: 500, commandTimeoutMs: 2_000)
        try c.connect()
        #expect(try c.command(["SET", "k", "v"]) == .status("OK"))
        #expect(try c.command(["GET", "k"]) == .string("v"))
        #expect(try c.command(["GET", "missing"]) == .null)
        #expect(try c.integer(["INCRBY", "n", "41"]) == 41)
        if case .error(let msg) = try c.command(["NOSUCHCOMMAND"]) {
            #expect(msg.contains("unknown command"))
        } else {
            Issue.record("expected an error reply")
        }
        // Pipelining: three commands appended, sent and answered together.
        var snap = FeatureSnapshot(instrument: InstrumentID(0), timestamp: 7, features: testFeatures(instrument: 0, step: 1))
        let names = Feature.allCases.map { strdup($0.description) }
        defer { names.forEach { free($0) } }
        let cnames: [UnsafePointer<CChar>?] = names.map { $0.map { UnsafePointer($0) } }
        let n = try cnames.withUnsafeBufferPointer { np in
            try c.appendSnapshot(key: "kairos:features:X", featureNames: np.baseAddress!, &snap, ttlSeconds: 5, clearRegime: true)
        }
        #expect(n == 3)  // HSET, HDEL (no regime), EXPIRE
        #expect(c.pending == 3)
        #expect(try c.readReplies(3) == 0)
        #expect(c.pending == 0)
        #expect(try c.command(["HGET", "kairos:features:X", "ts"]) == .string("7"))

        // The server goes away: the next command fails with a transport code and drops the connection.
        server.stop()
        #expect(throws: RedisError.self) { try c.command(["PING"]) }
        #expect(!c.isConnected)
        #expect(throws: RedisError.connect) { try c.connect() }
        #expect(!c.lastError.isEmpty)
    }
}
