// The Redis feature cache, both sides:
// - the engine side (`FeatureSnapshotPublisher.offer`): what each feature update costs the engine
//   thread, when a snapshot is due (one 152-byte ring push; the benchmark pops it again so the ring
//   never fills) and when it is not (one comparison). Zero allocations.
// - the writer's flush path against a real Redis, opt-in: set KAIROS_BENCH_REDIS_PORT (e.g. 6379)
//   to a redis-server on 127.0.0.1 you do not mind writing kairos:features:BENCH* keys to (TTL
//   60 s). One iteration = 1,000 instruments written as the writer does (HSET of every feature +
//   ts, EXPIRE), pipelined 256 per round trip; figures are per snapshot. hiredis allocates its
//   reply objects, so this one is not zero-allocation: run.sh's allocation check will flag it
//   when it is enabled.
import Benchmark
import CKairos
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import KairosBenchSupport
#if canImport(Glibc)
import Glibc
#endif

/// The cache's side of the benchmark ring. A class so the escaping benchmark closure can capture
/// it: a non-copyable handle cannot be captured by an escaping closure, a reference to its holder
/// can (and the closure runs on one thread at a time).
final class SnapshotDrain: Sendable {
    let consumer: SPSCRing<FeatureSnapshot>.Consumer
    init(_ consumer: consuming SPSCRing<FeatureSnapshot>.Consumer) { self.consumer = consumer }
}

let benchmarks: @Sendable () -> Void = {
    let features = FeatureVector()

    let dueRing = SPSCRing<FeatureSnapshot>(capacity: 1024)
    let due = FeatureSnapshotPublisher(ring: dueRing.claimProducer(), instrumentCount: 64, intervalNs: 0)
    let dueDrain = SnapshotDrain(dueRing.claimConsumer())
    Benchmark(
        "Feature snapshot offer, due: ring push (+ pop) (per snapshot, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        var t: Int64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            t &+= 1
            blackHole(due.offer(instrument: InstrumentID(Int(t & 63)), timestamp: t, features: features, now: t))
            blackHole(dueDrain.consumer.pop())
        }
        benchmark.stopMeasurement()
    }

    let idleRing = SPSCRing<FeatureSnapshot>(capacity: 1024)
    let idle = FeatureSnapshotPublisher(ring: idleRing.claimProducer(), instrumentCount: 64, intervalNs: .max / 2)
    for i in 0..<64 { idle.offer(instrument: InstrumentID(i), timestamp: 0, features: features, now: 0) }
    Benchmark(
        "Feature snapshot offer, not due (per call, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        var t: Int64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            t &+= 1
            blackHole(idle.offer(instrument: InstrumentID(Int(t & 63)), timestamp: t, features: features, now: t))
        }
        benchmark.stopMeasurement()
    }

    guard let portText = getenv("KAIROS_BENCH_REDIS_PORT").map({ String(cString: $0) }),
          let port = UInt16(portText) else { return }
    let conn = RedisConnection(port: port, connectTimeoutMs: 1_000, commandTimeoutMs: 5_000)
    do { try conn.connect() } catch {
        print("FeatureCache: no Redis on 127.0.0.1:\(port) (\(error)); skipping the flush benchmark")
        return
    }
    let instruments = 1_000, chunk = 256
    let keys = (0..<instruments).map { strdup("kairos:features:BENCH\($0)")! }
    let names = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: Feature.count)
    for f in Feature.allCases { names[f.rawValue] = UnsafePointer(strdup(f.description)!) }
    let snaps = UnsafeMutablePointer<FeatureSnapshot>.allocate(capacity: instruments)
    // Realistic values (not zeros): formatting 15-17 significant digits is part of the cost.
    for i in 0..<instruments {
        var v = FeatureVector()
        withUnsafeMutableBytes(of: &v.v) { raw in
            for k in 0..<Feature.count {
                raw.storeBytes(of: Double(i + 1) / 3.0 + Double(k) * 0.1 - 7.0 / Double(k + 1), toByteOffset: k * 8, as: Double.self)
            }
        }
        snaps[i] = FeatureSnapshot(instrument: InstrumentID(i), timestamp: 1_700_000_000_000_000_000, features: v)
    }
    var cmds = [Int](repeating: 0, count: chunk)
    Benchmark(
        "Redis flush, 1,000 instruments pipelined 256 per round trip (per snapshot)",
        configuration: .init(
            metrics: KairosBench.metrics, timeUnits: .nanoseconds, warmupIterations: 3,
            scalingFactor: .kilo, maxDuration: KairosBench.isShort ? .seconds(1) : .seconds(5),
            maxIterations: KairosBench.isShort ? 50 : 1_000)
    ) { benchmark in
        benchmark.startMeasurement()
        var start = 0
        while start < instruments {
            let end = min(start + chunk, instruments)
            for k in start..<end {
                snaps[k].ts_ns &+= 1
                cmds[k - start] = try! conn.appendSnapshot(
                    key: keys[k], featureNames: names, snaps + k, ttlSeconds: 60, clearRegime: false)
            }
            for k in start..<end { blackHole(try! conn.readReplies(cmds[k - start])) }
            start = end
        }
        benchmark.stopMeasurement()
    }
}
