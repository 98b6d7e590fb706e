// The in-process ZeroMQ ingest measurement behind `kairos feed --measure-ingest`.
import KairosCore
import KairosIO
import KairosSim
import CKairos
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One run of the in-process ZeroMQ ingest measurement (`kairos feed --measure-ingest`).
public struct ZMQIngestMeasurement: Sendable, CustomStringConvertible {
    /// Requested publish rate in ticks/s (0 = as fast as possible).
    public var requestedRate: Double
    public var sent: UInt64
    /// Ticks the consumer popped from the ring.
    public var received: UInt64
    /// Ticks counted as dropped by the ring plus ticks refused by the ingest (both must be 0).
    public var drops: UInt64
    /// Sequence breaks seen by the consumer (must be 0: nothing lost or reordered).
    public var sequenceBreaks: UInt64
    /// Times the publisher waited for a subscriber at its high-water mark (back-pressure).
    public var backPressureWaits: UInt64
    /// From the first send (or, preloaded, the ingest's start) to the last tick popped.
    public var seconds: Double
    /// Measured the ingest alone, draining ticks queued beforehand (see `ZMQIngestBenchmark`).
    public var preloaded = false
    public var achievedRate: Double { seconds > 0 ? Double(received) / seconds : 0 }
    /// Zero drops, nothing missing, and at least 99 % of a requested rate was achieved.
    public var sustained: Bool {
        drops == 0 && sequenceBreaks == 0 && received == sent && (requestedRate == 0 || achievedRate >= 0.99 * requestedRate)
    }
    public var description: String {
        let req = preloaded ? "drain" : requestedRate == 0 ? "max" : String(Int(requestedRate))
        return "rate \(req)/s: sent \(sent) received \(received) in \(String(format: "%.3f", seconds)) s = "
            + "\(Int(achievedRate))/s, drops \(drops), sequence breaks \(sequenceBreaks), back-pressure waits \(backPressureWaits)"
            + (sustained ? "" : "  (NOT sustained)")
    }
}

/// Measures the ZeroMQ tick path on this machine: a publisher thread (synthetic market through
/// `TickPublisher`, tcp loopback) -> the `ZMQTickIngest` thread -> an SPSC ring -> a consumer (the
/// calling thread) that checks the sequence and counts. Every tick is accounted for.
public enum ZMQIngestBenchmark {
    /// `preload`: measure the ingest alone. The publisher sends every tick first (high-water
    /// marks raised to hold them all, so nothing waits), then the ingest thread starts and the
    /// time to drain them through the ring is measured. `rate` is ignored then.
    public static func run(ticks: Int, rate: Double, instruments: Int = 8, ringCapacity: Int = 1 << 16,
                           endpoint: String = "tcp://127.0.0.1:*", preload: Bool = false) throws -> ZMQIngestMeasurement {
        let names = (0..<instruments).map { "SYN\($0)" }
        let hwm = preload ? ticks + 1024 : Int(KAIROS_ZFEED_DEFAULT_HWM)
        let publisher = try TickPublisher(endpoint: endpoint, symbols: names, sendHighWaterMark: hwm)
        let ring = SPSCRing<Tick>(capacity: ringCapacity)
        var config = ZMQFeedConfig(endpoints: [publisher.boundEndpoint], symbols: ZMQFeedConfig.numberedSymbols(instruments))
        config.receiveHighWaterMark = hwm
        let ingest = try ZMQTickIngest(ring: ring.claimProducer(), config: config)
        let consumer = ring.claimConsumer()  // this (the calling) thread
        guard publisher.waitForSubscriptions(1, timeoutSeconds: 10) >= 1 else {
            throw SystemError("wait for the ingest's subscription", errno: ETIMEDOUT)
        }
        if !preload { ingest.start() }
        let stop = StopFlag()
        let pubThread = WorkerThread(name: "kairos-bench-publisher") {
            var source = SyntheticTickSource(
                market: SyntheticMarket(scenario: .demo, instruments: instruments, seed: 1), limit: ticks)
            _ = try? publisher.replay(&source, count: ticks, rate: preload ? 0 : rate, stop: stop)
        }
        if preload {
            pubThread.start()
            pubThread.join()
            // Let libzmq's I/O threads move the queued ticks across the socket into the SUB side.
            sleepMicroseconds(500_000)
        }
        let start = MonotonicClock.nanoseconds()
        if preload { ingest.start() } else { pubThread.start() }
        var popped: UInt64 = 0
        var lastSeq: UInt64 = 0
        var breaks: UInt64 = 0
        var idleSince = MonotonicClock.nanoseconds()
        while popped < UInt64(ticks) {
            let n = consumer.withAvailable { buf -> Int in
                for t in buf {
                    if t.seq != lastSeq &+ 1 { breaks += 1 }
                    lastSeq = t.seq
                }
                popped += UInt64(buf.count)
                return buf.count
            }
            if n == 0 {
                // Give up after 5 s without a tick (lost ticks would otherwise hang the run).
                if MonotonicClock.nanoseconds() - idleSince > 5_000_000_000 { break }
                // Idle: yield the core to the publisher and ingest threads (the ring holds
                // 65536 ticks, over 30 ms at 2 M ticks/s, so a 50 µs nap cannot overflow it).
                sleepMicroseconds(50)
            } else {
                idleSince = MonotonicClock.nanoseconds()
            }
        }
        let end = MonotonicClock.nanoseconds()
        stop.set()
        if !preload { pubThread.join() }
        ingest.stop()
        let s = ingest.stats
        return ZMQIngestMeasurement(
            requestedRate: rate, sent: publisher.sent, received: popped, drops: ring.dropCount + s.refused,
            sequenceBreaks: breaks, backPressureWaits: publisher.backPressureWaits, seconds: Double(end - start) / 1e9,
            preloaded: preload)
    }
}
