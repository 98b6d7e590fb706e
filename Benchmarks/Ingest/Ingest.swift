// UDP ingest over loopback, io_uring (multishot and single-shot) and epoll side by side.
//
// Layout (the "one core" rule): the benchmark thread is pinned to CPU 0 and does all of
// the receive side — kairos_ingest_poll (receive + decode into ring slots) and draining the ring
// (the consumer) — while a sender thread pinned to CPU 1 sends wire ticks with sendmmsg.
//
// Each iteration sends 100,000 ticks and waits until the receiver has them (or until the socket
// has been quiet for 20 ms after the sender finished, when some were dropped). Two kinds:
// - "max": closed loop, the sender keeps at most 1,024 ticks in flight (sent but not received),
//   so nothing can overflow: the rate is the receiver's sustained maximum with zero drops.
// - "<rate>/s": open loop, the sender paces batches of 8 to the given rate whatever the receiver
//   does; the "drops" metric (socket receive-queue drops + ring-full drops) says whether the
//   receive side kept up. "rx ticks/s" is what it received per second of the iteration.
// Run: cd Benchmarks && swift package --disable-sandbox benchmark --target IngestBenchmarks
import Benchmark
import CKairos
import Dispatch
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

let ingestTicksPerIteration = 100_000
/// Ticks per drain iteration: fits the 4 MiB (x2) socket queue, so the kernel drops none.
let ingestBurst = 4_000

func ingestThreadCPUNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func ingestPinCurrentThread(to cpu: Int) {
    let rc = kairos_ingest_pin_current_thread(Int32(cpu))
    if rc != 0 { print("warning: could not pin to CPU \(cpu): errno \(-rc)") }
}

func ingestMonotonicNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// One receiver, one ring and one pinned sender thread per path, built at registration.
///
/// `@unchecked Sendable`: the job fields are written by the benchmark thread before `go.signal()`
/// and read by the sender after `go.wait()`; `sentDone` the other way round through `done` (the
/// semaphores are the happens-before edges). `received` is an atomic read of the C counters.
final class IngestBench: @unchecked Sendable {
    /// The ring's consumer: the benchmark thread drains what the ingest (its producer) pushes.
    let consumer: SPSCRing<Tick>.Consumer
    let ingest: UDPIngest
    let ticks: UnsafeMutableBufferPointer<Tick>
    let go = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    var jobRate: Double = 0      // 0 = closed loop
    var jobTarget: UInt64 = 0    // received count at which the closed loop stops
    var sendNs: Int64 = 0
    var sink: UInt64 = 0

    init(backend: IngestBackend, multishot: Bool) {
        let ring = SPSCRing<Tick>(capacity: 1 << 16)
        ingest = try! UDPIngest(backend: backend, ring: ring.claimProducer(), useMultishot: multishot)
        consumer = ring.claimConsumer()
        ticks = .allocate(capacity: ingestTicksPerIteration)
        for i in 0..<ingestTicksPerIteration {
            var t = Tick()
            t.seq = UInt64(i + 1)
            t.bid = 100
            t.ask = 100.01
            t.instrument = UInt16(i % 16)
            ticks[i] = t
        }
        let sender = try! UDPTickSender(port: ingest.port)
        let worker = WorkerThread(name: "ingest-bench-sender") { [self] in
            ingestPinCurrentThread(to: 1)
            while true {
                go.wait()
                let start = ingestMonotonicNs()
                if jobRate < 0 {
                    // Burst: everything at once; the socket queue holds it (the drain benchmark).
                    sender.send(UnsafeBufferPointer(rebasing: ticks[0..<ingestBurst]))
                } else if jobRate == 0 {
                    var sent = 0
                    while sent < ingestTicksPerIteration {
                        let base = jobTarget - UInt64(ingestTicksPerIteration)
                        if UInt64(sent) + base - ingest.receivedCount >= 1024 { continue }
                        let n = min(64, ingestTicksPerIteration - sent)
                        sender.send(UnsafeBufferPointer(rebasing: ticks[sent..<sent + n]))
                        sent += n
                    }
                } else {
                    let intervalNs = 8 * 1e9 / jobRate
                    var sent = 0
                    var k = 0.0
                    while sent < ingestTicksPerIteration {
                        let due = start + Int64(k * intervalNs)
                        while ingestMonotonicNs() < due {}
                        let n = min(8, ingestTicksPerIteration - sent)
                        sender.send(UnsafeBufferPointer(rebasing: ticks[sent..<sent + n]))
                        sent += n
                        k += 1
                    }
                }
                sendNs = ingestMonotonicNs() - start
                done.signal()
            }
        }
        worker.start() // runs for the life of the process, like the benchmark state
    }

    /// One iteration on the (pinned) benchmark thread: receive and drain until everything sent
    /// arrived or the socket went quiet. Returns (received, drops, elapsed ns).
    func iteration(rate: Double) -> (received: UInt64, drops: UInt64, ns: Int64, cpuNs: Int64) {
        let before = ingest.stats
        let cpu0 = ingestThreadCPUNs()
        let dropsBefore = before.socketDrops + before.ringFullDrops
        jobRate = rate
        jobTarget = before.received + UInt64(ingestTicksPerIteration)
        let start = ingestMonotonicNs()
        go.signal()
        var senderDone = false
        var quietSince: Int64 = 0
        while true {
            let n = ingest.pollOnce(timeoutMs: 0)
            _ = consumer.withAvailable { buf in
                for t in buf { sink &+= t.seq }
                return buf.count
            }
            if ingest.receivedCount >= jobTarget { break }
            if !senderDone, done.wait(timeout: .now()) == .success { senderDone = true }
            if senderDone {
                let now = ingestMonotonicNs()
                if n > 0 || quietSince == 0 { quietSince = now } else if now - quietSince > 20_000_000 { break }
            }
        }
        let elapsed = ingestMonotonicNs() - start
        if !senderDone { done.wait() }
        let after = ingest.stats
        return (after.received - before.received, after.socketDrops + after.ringFullDrops - dropsBefore, elapsed,
                ingestThreadCPUNs() - cpu0)
    }

    /// The receive side's cost alone: the sender queues a burst in the socket (receiver blocked,
    /// except io_uring task work, which runs on and is charged to the receiving thread), then the
    /// receiver drains it. Returns (drops, wall ns of the drain, receiver CPU ns of the whole
    /// iteration including that task work).
    func drainIteration(_ benchmark: Benchmark) -> (drops: UInt64, wallNs: Int64, cpuNs: Int64) {
        let before = ingest.stats
        let target = before.received + UInt64(ingestBurst)
        let cpu0 = ingestThreadCPUNs()
        jobRate = -1
        go.signal()
        done.wait()
        benchmark.startMeasurement()
        let start = ingestMonotonicNs()
        var spins = 0
        while ingest.receivedCount < target {
            _ = ingest.pollOnce(timeoutMs: 0)
            _ = consumer.withAvailable { buf in
                for t in buf { sink &+= t.seq }
                return buf.count
            }
            spins += 1
            // Safety valve if the kernel dropped some: stop after ~1 s of polling.
            if spins > 2_000_000, ingestMonotonicNs() - start > 1_000_000_000 { break }
        }
        let wall = ingestMonotonicNs() - start
        benchmark.stopMeasurement()
        let cpu = ingestThreadCPUNs() - cpu0
        let after = ingest.stats
        return (after.socketDrops + after.ringFullDrops - before.socketDrops - before.ringFullDrops, wall, cpu)
    }
}

// Computed, not stored: package-benchmark's types are not Sendable.
var ingestDrops: BenchmarkMetric { BenchmarkMetric.custom("drops (socket + ring)", polarity: .prefersSmaller, useScalingFactor: false) }
var ingestCPURate: BenchmarkMetric { BenchmarkMetric.custom("rx ticks per receiver CPU-second", polarity: .prefersLarger, useScalingFactor: false) }
var ingestRate: BenchmarkMetric { BenchmarkMetric.custom("rx ticks/s", polarity: .prefersLarger, useScalingFactor: false) }

let benchmarks: @Sendable () -> Void = {
    ingestPinCurrentThread(to: 0)
    let config = Benchmark.Configuration(
        // mallocCountTotal + noAllocation: run.sh's zero-allocation check covers these too (the
        // receive path, the sender thread and the drain allocate nothing per iteration).
        metrics: [.wallClock, .mallocCountTotal, ingestDrops, ingestRate, ingestCPURate],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: KairosBench.isShort ? .seconds(2) : .seconds(10),
        maxIterations: KairosBench.isShort ? 3 : 20,
        thresholds: KairosBench.noAllocation
    )
    let paths: [(String, IngestBackend, Bool)] = [
        ("io_uring multishot", .ioUring, true), ("io_uring single-shot", .ioUring, false), ("epoll recvmmsg", .epoll, false),
    ]
    for (name, backend, multishot) in paths {
        let bench = IngestBench(backend: backend, multishot: multishot)
        Benchmark("UDP ingest \(name), drain a queued burst of 4K ticks", configuration: config) { benchmark in
            let r = bench.drainIteration(benchmark)
            benchmark.measurement(ingestDrops, Int(r.drops))
            benchmark.measurement(ingestRate, Int(Double(ingestBurst) * 1e9 / Double(r.wallNs)))
            benchmark.measurement(ingestCPURate, Int(Double(ingestBurst) * 1e9 / Double(max(r.cpuNs, 1))))
        }
        for rate in [0.0, 250_000, 500_000, 1_000_000, 1_500_000] {
            let label = rate == 0 ? "max (closed loop)" : "\(Int(rate / 1000))k/s open loop"
            Benchmark("UDP ingest \(name), 100K ticks, \(label)", configuration: config) { benchmark in
                benchmark.startMeasurement()
                let r = bench.iteration(rate: rate)
                benchmark.stopMeasurement()
                benchmark.measurement(ingestDrops, Int(r.drops))
                benchmark.measurement(ingestRate, Int(Double(r.received) * 1e9 / Double(r.ns)))
                // The receiver spins, so this is mostly how much CPU it was given (shared machine).
                benchmark.measurement(ingestCPURate, Int(Double(r.received) * 1e9 / Double(max(r.cpuNs, 1))))
            }
        }
    }
}
