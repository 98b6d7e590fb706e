// UDP ingest and file replay (ingest_udp.c, ingest_replay.c, UDPIngest.swift, FileReplay.swift)
// over real loopback sockets, for both backends. The ingest runs on its own thread and the test
// thread consumes the ring, so CI also runs this suite under ThreadSanitizer:
//   TSAN_OPTIONS=halt_on_error=1 swift test --sanitize=thread --scratch-path .build-tsan --filter IngestThreaded
import CKairos
import Foundation
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

/// The tick the tests send as number `i` (1-based seq): every field is a function of `i`, so the
/// receiver can check each record it gets.
func ingestTestTick(_ i: UInt64) -> Tick {
    var t = Tick()
    t.seq = i
    t.publisher = 7
    t.instrument = UInt16(i % 13)
    t.ts_exchange_ns = 1_700_000_000_000_000_000 &+ Int64(i) &* 1_000
    t.bid = 100 + Double(i % 1000) * 0.01
    t.ask = t.bid + 0.02
    t.last = Double(i)
    t.bid_size = Float(i % 500)
    t.ask_size = Float(i % 300) + 0.5
    t.last_size = 1.25
    return t
}

/// Checks one received tick against what was sent; returns a description of the first mismatch.
func ingestTestMismatch(_ t: Tick, expectedSeq: UInt64, earliestRecvNs: Int64) -> String? {
    let e = ingestTestTick(expectedSeq)
    if t.seq != e.seq { return "seq \(t.seq), expected \(e.seq)" }
    if t.publisher != e.publisher || t.instrument != e.instrument || t.ts_exchange_ns != e.ts_exchange_ns
        || t.bid != e.bid || t.ask != e.ask || t.last != e.last || t.bid_size != e.bid_size
        || t.ask_size != e.ask_size || t.last_size != e.last_size {
        return "fields of seq \(t.seq) differ: \(t) vs \(e)"
    }
    // CLOCK_REALTIME, stamped after the test started sending.
    if t.ts_recv_ns < earliestRecvNs { return "ts_recv_ns \(t.ts_recv_ns) before the send started \(earliestRecvNs)" }
    return nil
}

func ingestRealtimeNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// The receive-side configurations every UDP test runs: both backends, plus io_uring's
/// single-shot path (what kernels without multishot recv get).
enum IngestTestPath: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case uringMultishot, uringSingleShot, epoll
    var backend: IngestBackend { self == .epoll ? .epoll : .ioUring }
    var multishot: Bool { self == .uringMultishot }
    var testDescription: String { rawValue }
}

@Suite("IngestThreaded: UDP and file-replay ingest, io_uring and epoll")
struct IngestThreadedTests {
    /// Sends `count` ticks while keeping at most `window` in flight (sent but not yet received by
    /// the ingest), so loopback never overflows the socket queue: the test is about the receiver,
    /// not about how much a socket buffer holds. `drain` runs between batches.
    func sendWindowed(_ sender: UDPTickSender, ingest: UDPIngest, count: UInt64, window: UInt64 = 512,
                      drain: () -> Void) {
        var batch = [Tick](repeating: Tick(), count: 64)
        var next: UInt64 = 1
        while next <= count {
            var spins = 0
            while next - 1 - ingest.receivedCount >= window {
                drain()
                spins += 1
                if spins > 8 { sleepMicroseconds(50) }
            }
            let n = Int(min(64, count - next + 1))
            for k in 0..<n { batch[k] = ingestTestTick(next + UInt64(k)) }
            let sent = batch.withUnsafeBufferPointer { sender.send(UnsafeBufferPointer(rebasing: $0[0..<n])) }
            precondition(sent == n, "sender sent \(sent) of \(n)")
            next += UInt64(n)
            drain()
        }
    }

    /// Waits (draining) until the ingest has taken `count` datagrams from the socket, or ~10 s.
    func waitReceived(_ ingest: UDPIngest, _ count: UInt64, drain: () -> Void = {}) {
        for _ in 0..<100_000 where ingest.receivedCount < count {
            drain()
            sleepMicroseconds(100)
        }
    }

    @Test("200k ticks over loopback arrive complete, in order, with every field", arguments: IngestTestPath.allCases)
    func roundTrip(path: IngestTestPath) throws {
        let ring = SPSCRing<Tick>(capacity: 1 << 14)
        let ingest = try UDPIngest(backend: path.backend, ring: ring.claimProducer(), useMultishot: path.multishot)
        let consumer = ring.claimConsumer()
        #expect(ingest.backend == path.backend)
        #expect(ingest.usesMultishot == path.multishot)
        #expect(ingest.port != 0)
        let sender = try UDPTickSender(port: ingest.port)
        let n: UInt64 = 200_000
        let startNs = ingestRealtimeNs()
        ingest.start()

        var expected: UInt64 = 1
        var mismatch: String?
        // A local function, not a closure value: it borrows the non-copyable consumer.
        func drain() {
            _ = consumer.withAvailable { buf in
                for t in buf {
                    if mismatch == nil, let m = ingestTestMismatch(t, expectedSeq: expected, earliestRecvNs: startNs) {
                        mismatch = m
                    }
                    expected = t.seq &+ 1
                }
                return buf.count
            }
        }
        sendWindowed(sender, ingest: ingest, count: n, drain: drain)
        waitReceived(ingest, n, drain: drain)
        ingest.stop()
        drain()

        let s = ingest.stats
        #expect(mismatch == nil, "\(mismatch ?? "")")
        #expect(expected == n + 1, "last seq received \(expected - 1)")
        #expect(s.received == n)
        #expect(s.decoded == n)
        #expect(s.pushed == n)
        #expect(s.ringFullDrops == 0)
        #expect(s.decodeErrors.total == 0 && s.truncated == 0)
        #expect(s.socketDrops == 0)
        #expect(ring.pushedCount == n && ring.dropCount == 0)
        #expect(s.lastError == 0)
    }

    @Test("malformed datagrams are counted by reason and never pushed", arguments: IngestTestPath.allCases)
    func malformed(path: IngestTestPath) throws {
        let ring = SPSCRing<Tick>(capacity: 64)
        let ingest = try UDPIngest(backend: path.backend, ring: ring.claimProducer(), useMultishot: path.multishot)
        let consumer = ring.claimConsumer()
        let sender = try UDPTickSender(port: ingest.port)
        ingest.start()

        var good = [UInt8](repeating: 0, count: Int(KAIROS_WIRE_TICK_SIZE))
        var t = ingestTestTick(1)
        _ = good.withUnsafeMutableBytes { kairos_wire_encode_tick(&t, 0, $0.baseAddress, $0.count) }
        var badVersion = good
        badVersion[0] = 2
        var badType = good
        badType[1] = UInt8(KAIROS_WIRE_TYPE_ORDER.rawValue)
        let short = Array(good[0..<71])
        let long = good + [0]
        let tooLong = [UInt8](repeating: 1, count: Int(KAIROS_INGEST_MAX_DATAGRAM) + 100)

        // One good tick first and last, so order is visible around the bad ones.
        for d in [good, badVersion, badVersion, badType, short, short, short, long, [], tooLong, good] {
            #expect(sender.sendRaw(d) == 0)
        }
        waitReceived(ingest, 11)
        ingest.stop()

        let s = ingest.stats
        #expect(s.received == 11)
        #expect(s.decodeErrors[.unknownVersion] == 2)
        #expect(s.decodeErrors[.unexpectedType] == 1)
        #expect(s.decodeErrors[.tooShort] == 4) // three 71-byte datagrams and the empty one
        #expect(s.decodeErrors[.tooLong] == 1)
        #expect(s.decodeErrors[.fieldOutOfDomain] == 0 && s.decodeErrors[.wrongFrameCount] == 0)
        #expect(s.truncated == 1)   // longer than the receive buffer: cut by the kernel, not decoded
        #expect(s.decoded == 2 && s.pushed == 2)
        #expect(s.received == s.truncated + s.decodeErrors.total + s.decoded)
        #expect(consumer.pop()?.seq == 1)
        #expect(consumer.pop()?.seq == 1)
        #expect(consumer.pop() == nil)
    }

    @Test("a consumer that does not drain makes the ingest count ring-full drops", arguments: IngestTestPath.allCases)
    func ringFullDrops(path: IngestTestPath) throws {
        let ring = SPSCRing<Tick>(capacity: 16)
        let ingest = try UDPIngest(backend: path.backend, ring: ring.claimProducer(), useMultishot: path.multishot)
        let consumer = ring.claimConsumer()
        let sender = try UDPTickSender(port: ingest.port)
        ingest.start()
        let n: UInt64 = 1_000
        sendWindowed(sender, ingest: ingest, count: n, window: 256, drain: {})
        waitReceived(ingest, n)
        ingest.stop()

        let s = ingest.stats
        #expect(s.received == n && s.decoded == n)
        #expect(s.pushed == 16)
        #expect(s.ringFullDrops == n - 16)
        #expect(ring.dropCount == n - 16) // reported to the ring too: never silent
        #expect(s.socketDrops == 0)
        // The first 16 made it, in order.
        for i in 1...16 { #expect(consumer.pop()?.seq == UInt64(i)) }
        #expect(consumer.pop() == nil)
    }

    @Test("a burst larger than the io_uring buffer pool, sent before the first poll, arrives complete",
          arguments: IngestTestPath.allCases)
    func burstBeforeStart(path: IngestTestPath) throws {
        let ring = SPSCRing<Tick>(capacity: 1 << 14)
        let ingest = try UDPIngest(backend: path.backend, ring: ring.claimProducer(), useMultishot: path.multishot)
        let consumer = ring.claimConsumer()
        let sender = try UDPTickSender(port: ingest.port)
        let n = 6_000 // > the 4,096 provided buffers: the multishot recv runs dry and is re-armed
        let ticks = (1...n).map { ingestTestTick(UInt64($0)) }
        #expect(ticks.withUnsafeBufferPointer { sender.send($0) } == n)
        // Whatever the socket queue could not hold (net.core.rmem_max is small on some hosts) the
        // kernel counted; everything else must come through, in order.
        let queued = UInt64(n) - ingest.stats.socketDrops
        ingest.start()
        waitReceived(ingest, queued)
        ingest.stop()
        let s = ingest.stats
        #expect(s.received + s.socketDrops == UInt64(n))
        #expect(s.pushed == s.received && s.ringFullDrops == 0)
        var last: UInt64 = 0
        var ordered = true
        while let t = consumer.pop() {
            if t.seq <= last { ordered = false }
            last = t.seq
        }
        #expect(ordered)
        if path.multishot && s.socketDrops == 0 { #expect(s.rearms >= 1) }
    }

    @Test("ts_recv_ns comes from the chosen clock", arguments: [IngestBackend.ioUring, .epoll])
    func receiveClock(backend: IngestBackend) throws {
        let ring = SPSCRing<Tick>(capacity: 16)
        let ingest = try UDPIngest(backend: backend, ring: ring.claimProducer(), receiveClock: .monotonic)
        let consumer = ring.claimConsumer()
        let sender = try UDPTickSender(port: ingest.port)
        let before = MonotonicClock.nanoseconds()
        let ticks = [ingestTestTick(1)]
        #expect(ticks.withUnsafeBufferPointer { sender.send($0) } == 1)
        for _ in 0..<1_000 where ring.approximateCount == 0 { ingest.pollOnce(timeoutMs: 10) }
        let after = MonotonicClock.nanoseconds()
        let t = try #require(consumer.pop() as Tick?)
        #expect(t.ts_recv_ns >= before && t.ts_recv_ns <= after)
    }

    @Test("AUTO picks io_uring when the kernel allows it, and reports why when not")
    func autoChoice() throws {
        let ring = SPSCRing<Tick>(capacity: 16)
        let ingest = try UDPIngest(backend: .auto, ring: ring.claimProducer())
        var err: Int32 = 0
        let available = kairos_sys_io_uring_available(&err) == 1
        if available {
            #expect(ingest.backend == .ioUring)
            #expect(ingest.fallbackErrno == 0)
            // This machine's kernel (6.x) has multishot recv and provided-buffer rings.
            #expect(ingest.usesMultishot)
        } else {
            #expect(ingest.backend == .epoll)
            #expect(ingest.fallbackErrno == -err && ingest.fallbackErrno != 0)
        }
        // A ring of its own: the UDP ingest above holds this one's producer side (one per ring).
        let replay = try FileReplay(path: "/dev/null", backend: .auto, ring: SPSCRing<Tick>(capacity: 16).claimProducer())
        #expect(replay.backend == (available ? .ioUring : .epoll))
    }

    @Test("file replay round trip: every record in order, a trailing partial record counted",
          arguments: [IngestBackend.ioUring, .epoll])
    func replayRoundTrip(backend: IngestBackend) throws {
        let n = 100_003 // not a multiple of the read block, so the last block is short
        let path = NSTemporaryDirectory() + "kairos-replay-\(getpid())-\(backend).bin"
        defer { unlink(path) }
        try FileReplay.write((1...n).map { ingestTestTick(UInt64($0)) }, to: path, sendTimeNs: 42)
        // A torn record at the end (e.g. a recorder killed mid-write).
        let fh = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try fh.seekToEnd()
        try fh.write(contentsOf: Data(repeating: 1, count: 30))
        try fh.close()

        let ring = SPSCRing<Tick>(capacity: 1024) // much smaller than the file: replay must wait, not drop
        let replay = try FileReplay(path: path, backend: backend, ring: ring.claimProducer())
        let consumer = ring.claimConsumer()
        #expect(replay.backend == backend)
        replay.start()
        var expected: UInt64 = 1
        var mismatch: String?
        while expected <= UInt64(n) {
            let got = consumer.withAvailable { buf in
                for t in buf {
                    if mismatch == nil, let m = ingestTestMismatch(t, expectedSeq: expected, earliestRecvNs: 0) {
                        mismatch = m
                    }
                    expected = t.seq &+ 1
                }
                return buf.count
            }
            if got == 0 {
                if replay.result != nil && ring.approximateCount == 0 { break }
                sched_yield()
            }
        }
        #expect(replay.wait() == 0)
        #expect(mismatch == nil, "\(mismatch ?? "")")
        #expect(expected == UInt64(n) + 1)
        let s = replay.stats
        #expect(s.decoded == UInt64(n) && s.pushed == UInt64(n))
        #expect(s.truncated == 1 && s.received == UInt64(n) + 1)
        #expect(s.ringFullDrops == 0 && ring.dropCount == 0)
    }

    @Test("a paced replay can be stopped early", arguments: [IngestBackend.ioUring, .epoll])
    func replayStop(backend: IngestBackend) throws {
        let path = NSTemporaryDirectory() + "kairos-replay-stop-\(getpid())-\(backend).bin"
        defer { unlink(path) }
        try FileReplay.write((1...10_000).map { ingestTestTick(UInt64($0)) }, to: path)
        let ring = SPSCRing<Tick>(capacity: 1 << 14)
        let replay = try FileReplay(path: path, backend: backend, ring: ring.claimProducer())
        let consumer = ring.claimConsumer()
        replay.start(ratePerSecond: 1_000) // would take 10 s
        while ring.approximateCount < 5 { sleepMicroseconds(1_000) }
        replay.stop()
        #expect(replay.result == 1)
        let pushed = replay.stats.pushed
        #expect(pushed >= 5 && pushed < 10_000)
        // Pacing: records come out in order, and no more than were pushed.
        var expected: UInt64 = 1
        while let t = consumer.pop() {
            #expect(t.seq == expected)
            expected += 1
        }
        #expect(expected - 1 == pushed)
    }
}
