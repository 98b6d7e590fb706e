// Two-thread (producer and consumer) stress of the SPSC ring. CI runs this suite under
// ThreadSanitizer: `swift test --sanitize=thread --filter RingStress`.
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

/// splitmix64 finaliser: a checksum of mixed values catches swapped or torn records that a plain
/// sum would miss.
@inline(__always) func ringStressMix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Spin a little, then give the core away: this box has 2 cores shared by several processes, and a
/// spinning thread would otherwise starve the side it is waiting for.
@inline(__always) func ringStressBackoff(_ spins: inout Int) {
    spins += 1
    if spins >= 16 {
        spins = 0
        sched_yield()
    }
}

/// What one thread saw. Written by that thread only, read by the test after the thread finished
/// (the DispatchGroup leave/notify is the happens-before edge), hence `@unchecked Sendable`.
final class RingStressSide: @unchecked Sendable {
    var count: UInt64 = 0
    var checksum: UInt64 = 0
    var errors: Int = 0
    var firstError: String?
    /// The consumer found the ring empty after taking everything (checked on its thread, which
    /// holds the consumer handle).
    var endedEmpty = false
    func fail(_ s: @autoclosure () -> String) {
        if errors == 0 { firstError = s() }
        errors += 1
    }
}

/// Runs each body on its own Foundation `Thread` and waits (without blocking a Swift concurrency
/// thread) until all have returned.
func ringStressRunThreads(_ bodies: [@Sendable () -> Void]) async {
    let group = DispatchGroup()
    for body in bodies {
        group.enter()
        let t = Thread {
            body()
            group.leave()
        }
        t.start()
    }
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        group.notify(queue: .global()) { c.resume() }
    }
}

/// The checksum contribution of one tick: covers several fields so a torn record changes it.
@inline(__always) func ringStressTickSum(_ t: Tick) -> UInt64 {
    ringStressMix(t.seq) ^ ringStressMix(t.bid.bitPattern &+ UInt64(bitPattern: t.ts_recv_ns))
        &+ UInt64(t.instrument) &+ UInt64(t.publisher) << 16
}

@inline(__always) func ringStressTick(_ n: UInt64) -> Tick {
    Tick(seq: n, ts_exchange_ns: Int64(bitPattern: n), ts_recv_ns: Int64(bitPattern: n &* 7),
         bid: Double(n), ask: Double(n) + 1, last: 0, bid_size: 1, ask_size: 2, last_size: 0,
         instrument: UInt16(truncatingIfNeeded: n), publisher: UInt16(truncatingIfNeeded: n >> 16))
}

@Suite(.serialized) struct RingStressTests {
    static let spscRecords: UInt64 = 10_000_000

    @Test func spscSinglePushPop() async {
        let n = Self.spscRecords
        let ring = SPSCRing<UInt64>(capacity: 1024)
        let prod = RingStressSide()
        let cons = RingStressSide()
        await ringStressRunThreads([
            {
                // Each thread claims its side itself: the handle never leaves the thread using it.
                let producer = ring.claimProducer()
                var spins = 0
                var sum: UInt64 = 0
                for i in 0..<n {
                    while !producer.push(i) { ringStressBackoff(&spins) }
                    sum &+= ringStressMix(i)
                }
                prod.count = n
                prod.checksum = sum
            },
            {
                let consumer = ring.claimConsumer()
                var spins = 0
                var sum: UInt64 = 0
                var expected: UInt64 = 0
                while expected < n {
                    guard let v = consumer.pop() else {
                        ringStressBackoff(&spins)
                        continue
                    }
                    // On a mismatch keep draining (resynchronised) so the producer never hangs.
                    if v != expected { cons.fail("got \(v), expected \(expected)") }
                    sum &+= ringStressMix(v)
                    expected = v &+ 1
                    cons.count += 1
                }
                cons.checksum = sum
                // The producer pushes exactly n, so nothing can arrive after the n-th.
                cons.endedEmpty = consumer.pop() == nil
            },
        ])
        #expect(cons.errors == 0, "\(cons.errors) sequence errors, first: \(cons.firstError ?? "")")
        #expect(cons.count == n)
        #expect(prod.checksum == cons.checksum)
        #expect(ring.pushedCount == n && ring.poppedCount == n)
        #expect(ring.approximateCount == 0 && cons.endedEmpty)
    }

    @Test func spscBatchAndZeroCopy() async {
        let n = Self.spscRecords
        let ring = SPSCRing<Tick>(capacity: 1024)
        let prod = RingStressSide()
        let cons = RingStressSide()
        await ringStressRunThreads([
            {
                let producer = ring.claimProducer()
                let scratch = UnsafeMutableBufferPointer<Tick>.allocate(capacity: 61)
                defer { scratch.deallocate() }
                var spins = 0
                var sum: UInt64 = 0
                var next: UInt64 = 0
                var round: UInt64 = 0
                while next < n {
                    round &+= 1
                    var k = 0
                    if round & 1 == 0 {
                        // Copying batch: sizes 1...61 so batches straddle the wrap point at every offset.
                        let m = Int(min(UInt64(1 + round % 61), n - next))
                        for j in 0..<m { scratch[j] = ringStressTick(next + UInt64(j)) }
                        k = producer.push(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<m]))
                    } else {
                        // Zero-copy: write straight into the slots, commit fewer than offered sometimes.
                        let limit = Int(min(UInt64(1 + round % 47), n - next))
                        k = producer.withReservedSlots { slots in
                            let m = min(slots.count, limit)
                            for j in 0..<m { slots[j] = ringStressTick(next + UInt64(j)) }
                            return m
                        }
                    }
                    if k == 0 { ringStressBackoff(&spins); continue }
                    for j in 0..<UInt64(k) { sum &+= ringStressTickSum(ringStressTick(next + j)) }
                    next += UInt64(k)
                }
                prod.count = next
                prod.checksum = sum
            },
            {
                let consumer = ring.claimConsumer()
                let scratch = UnsafeMutableBufferPointer<Tick>.allocate(capacity: 53)
                defer { scratch.deallocate() }
                var spins = 0
                var sum: UInt64 = 0
                var expected: UInt64 = 0
                var round: UInt64 = 0
                func check(_ t: Tick) {
                    if t.seq != expected || t.bid != Double(t.seq) || t.ts_recv_ns != Int64(bitPattern: t.seq &* 7) {
                        cons.fail("got seq \(t.seq) bid \(t.bid), expected \(expected)")
                    }
                    sum &+= ringStressTickSum(t)
                    expected = t.seq &+ 1
                    cons.count += 1
                }
                while cons.count < n {
                    round &+= 1
                    var k = 0
                    if round & 1 == 0 {
                        let m = 1 + Int(round % 53)
                        k = consumer.pop(into: UnsafeMutableBufferPointer(rebasing: scratch[0..<m]))
                        for j in 0..<k { check(scratch[j]) }
                    } else {
                        let limit = 1 + Int(round % 37)
                        k = consumer.withAvailable { records in
                            let m = min(records.count, limit)
                            for j in 0..<m { check(records[j]) }
                            return m
                        }
                    }
                    if k == 0 { ringStressBackoff(&spins) }
                }
                cons.checksum = sum
            },
        ])
        #expect(cons.errors == 0, "\(cons.errors) record errors, first: \(cons.firstError ?? "")")
        #expect(prod.count == n && cons.count == n)
        #expect(prod.checksum == cons.checksum)
        #expect(ring.pushedCount == n && ring.poppedCount == n && ring.dropCount == 0)
    }
}
