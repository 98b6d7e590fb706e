// Single-thread semantics of the SPSC ring (C core through the Swift wrapper, plus the C create's
// argument checks).
import CKairos
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// A tick whose every field is derived from `n`, so a torn or misplaced record is detected.
func ringTestTick(_ n: UInt64) -> Tick {
    Tick(instrument: InstrumentID(UInt16(truncatingIfNeeded: n % 4096)), seq: n,
         exchangeTime: Int64(bitPattern: n &* 3), receiveTime: Int64(bitPattern: n &* 5),
         bid: Double(n), ask: Double(n) + 0.5, last: Double(n) + 0.25,
         bidSize: Float(n % 1000), askSize: Float(n % 777), lastSize: Float(n % 55),
         publisher: UInt16(truncatingIfNeeded: n >> 12))
}

func ringTestTickIsValid(_ t: Tick, _ n: UInt64) -> Bool {
    let e = ringTestTick(n)
    return t.seq == e.seq && t.ts_exchange_ns == e.ts_exchange_ns && t.ts_recv_ns == e.ts_recv_ns
        && t.bid == e.bid && t.ask == e.ask && t.last == e.last && t.bid_size == e.bid_size
        && t.ask_size == e.ask_size && t.last_size == e.last_size && t.instrument == e.instrument
        && t.publisher == e.publisher
}

@Suite struct RingTests {
    @Test func cCreateRejectsBadArguments() {
        for cap: UInt32 in [0, 1, 3, 6, 100, 1023] {
            #expect(kairos_ring_create(cap, 8) == nil, "capacity \(cap)")
        }
        #expect(kairos_ring_create(16, 0) == nil)
        let r = kairos_ring_create(2, 64)
        #expect(r != nil)
        if let r {
            #expect(kairos_ring_capacity(r) == 2)
            #expect(kairos_ring_record_size(r) == 64)
            kairos_ring_destroy(r)
        }
    }

    /// Each side is claimed once: the ring reports which sides are taken. (The trap on a second
    /// claim cannot be exercised in-process; `claimProducer()` / `claimConsumer()` are
    /// preconditions on exactly the flags read here.)
    @Test func eachSideIsClaimedOnce() {
        let ring = SPSCRing<UInt64>(capacity: 4)
        #expect(!ring.isProducerClaimed && !ring.isConsumerClaimed)
        let producer = ring.claimProducer()
        #expect(ring.isProducerClaimed && !ring.isConsumerClaimed)
        let consumer = ring.claimConsumer()
        #expect(ring.isProducerClaimed && ring.isConsumerClaimed)
        // The handles reach the ring they came from, and a dropped handle does not give its side
        // back (the flag stays set, so nobody can claim a second producer after the first left).
        #expect(producer.ring === ring && consumer.ring === ring)
        #expect(producer.push(7) && consumer.pop() == 7)
        _ = consume producer
        #expect(ring.isProducerClaimed)
        // Claims on one ring say nothing about another.
        let other = SPSCRing<UInt64>(capacity: 4)
        #expect(!other.isProducerClaimed && !other.isConsumerClaimed)
    }

    @Test func emptyPopFailsAndFullPushFails() {
        let ring = SPSCRing<Tick>(capacity: 8)
        let producer = ring.claimProducer(), consumer = ring.claimConsumer()
        #expect(ring.capacity == 8)
        #expect(consumer.pop() == nil)
        #expect(ring.approximateCount == 0)
        for i in 0..<8 { #expect(producer.push(ringTestTick(UInt64(i))) == true) }
        #expect(ring.approximateCount == 8)
        #expect(producer.push(ringTestTick(99)) == false)
        #expect(ring.pushedCount == 8)
        // The failed push wrote nothing: the oldest record is still 0 and FIFO holds.
        for i in 0..<8 {
            let t = consumer.pop()
            #expect(t != nil && ringTestTickIsValid(t!, UInt64(i)))
        }
        #expect(consumer.pop() == nil)
        #expect(ring.poppedCount == 8)
        #expect(ring.approximateCount == 0)
    }

    @Test func fifoAcrossManyWraps() {
        let ring = SPSCRing<UInt64>(capacity: 4)
        let producer = ring.claimProducer(), consumer = ring.claimConsumer()
        var next: UInt64 = 0
        var expected: UInt64 = 0
        // Uneven push/pop bursts so head and tail wrap at every possible offset.
        for round in 0..<5_000 {
            let burst = 1 + round % 4
            for _ in 0..<burst where producer.push(next) { next += 1 }
            for _ in 0..<(1 + (round * 7) % 4) {
                guard let v = consumer.pop() else { break }
                #expect(v == expected)
                expected += 1
            }
        }
        while let v = consumer.pop() {
            #expect(v == expected)
            expected += 1
        }
        #expect(expected == next)
        #expect(next > 4 * 1_000)
        #expect(ring.pushedCount == next && ring.poppedCount == next)
    }

    @Test func batchPushPopAcrossWrapPoint() {
        let ring = SPSCRing<Tick>(capacity: 16)
        let producer = ring.claimProducer(), consumer = ring.claimConsumer()
        // Move head and tail to index 11, so a batch of 10 wraps (5 at the end, 5 at the start).
        for i in 0..<11 { #expect(producer.push(ringTestTick(UInt64(i))) == true) }
        for i in 0..<11 { #expect(consumer.pop().map { ringTestTickIsValid($0, UInt64(i)) } == true) }
        let src = (100..<130).map { ringTestTick(UInt64($0)) }
        let pushed = src.withUnsafeBufferPointer { producer.push(contentsOf: $0) }
        #expect(pushed == 16) // only capacity fits
        let more = src.withUnsafeBufferPointer { producer.push(contentsOf: UnsafeBufferPointer(rebasing: $0[16...])) }
        #expect(more == 0)
        var out = [Tick](repeating: Tick(), count: 10)
        let got = out.withUnsafeMutableBufferPointer { consumer.pop(into: $0) }
        #expect(got == 10)
        for i in 0..<10 { #expect(ringTestTickIsValid(out[i], UInt64(100 + i))) }
        // Push 10 more (wrapping again), then drain everything in one batch larger than the content.
        let pushed2 = src.withUnsafeBufferPointer { producer.push(contentsOf: UnsafeBufferPointer(rebasing: $0[16..<26])) }
        #expect(pushed2 == 10)
        var all = [Tick](repeating: Tick(), count: 40)
        let got2 = all.withUnsafeMutableBufferPointer { consumer.pop(into: $0) }
        #expect(got2 == 16)
        for i in 0..<16 { #expect(ringTestTickIsValid(all[i], UInt64(110 + i))) }
        #expect(all.withUnsafeMutableBufferPointer { consumer.pop(into: $0) } == 0)
        // Empty buffers are fine.
        #expect(producer.push(contentsOf: UnsafeBufferPointer(start: nil, count: 0)) == 0)
        #expect(consumer.pop(into: UnsafeMutableBufferPointer(start: nil, count: 0)) == 0)
    }

    @Test func reserveCommitAndPeekReleaseStopAtWrap() {
        let ring = SPSCRing<UInt64>(capacity: 8)
        let producer = ring.claimProducer(), consumer = ring.claimConsumer()
        // Advance both indices to 5.
        for i in 0..<5 { #expect(producer.push(UInt64(i)) == true) }
        for _ in 0..<5 { _ = consumer.pop() }
        // Free slots: 8, but only 3 contiguous before the wrap.
        var offered = 0
        let filled = producer.withReservedSlots { buf in
            offered = buf.count
            for i in 0..<buf.count { buf[i] = UInt64(1000 + i) }
            return buf.count
        }
        #expect(offered == 3 && filled == 3)
        // Next reservation starts at slot 0 and offers the remaining 5.
        let filled2 = producer.withReservedSlots { buf in
            offered = buf.count
            buf[0] = 1003
            buf[1] = 1004
            return 2 // commit only a prefix
        }
        #expect(offered == 5 && filled2 == 2)
        #expect(ring.approximateCount == 5)
        // Peek: 3 contiguous up to the wrap; consume 2 of them.
        var seen: [UInt64] = []
        let used = consumer.withAvailable { buf in
            seen = Array(buf)
            return 2
        }
        #expect(used == 2 && seen == [1000, 1001, 1002])
        let used2 = consumer.withAvailable { buf in
            seen = Array(buf)
            return buf.count
        }
        #expect(used2 == 1 && seen == [1002])
        let used3 = consumer.withAvailable { buf in
            seen = Array(buf)
            return buf.count
        }
        #expect(used3 == 2 && seen == [1003, 1004])
        // Empty / full: the body is not called.
        var called = false
        #expect(consumer.withAvailable { _ in called = true; return 0 } == 0)
        #expect(!called)
        for i in 0..<8 { #expect(producer.push(UInt64(i)) == true) }
        #expect(producer.withReservedSlots { _ in called = true; return 0 } == 0)
        #expect(!called)
        // Releasing zero leaves everything in place.
        #expect(consumer.withAvailable { _ in 0 } == 0)
        #expect(ring.approximateCount == 8)
    }

    @Test func cZeroCopyContiguityReported() throws {
        let r = try #require(kairos_ring_create(8, 8))
        defer { kairos_ring_destroy(r) }
        var n: UInt32 = 99
        #expect(kairos_ring_peek(r, &n) == nil && n == 0)
        var v: UInt64 = 7
        for _ in 0..<6 { #expect(kairos_ring_push(r, &v)) }
        for _ in 0..<6 { #expect(kairos_ring_pop(r, &v)) }
        let p = kairos_ring_reserve(r, &n)
        #expect(p != nil && n == 2) // slots 6, 7
        kairos_ring_commit(r, 2)
        let p2 = kairos_ring_reserve(r, &n)
        #expect(p2 != nil && n == 6) // slots 0...5, 6 and 7 are full
        kairos_ring_commit(r, 6)
        #expect(kairos_ring_reserve(r, &n) == nil && n == 0)
        #expect(kairos_ring_peek(r, &n) != nil && n == 2)
        kairos_ring_release(r, 2)
        #expect(kairos_ring_peek(r, &n) != nil && n == 6)
        kairos_ring_release(r, 6)
        #expect(kairos_ring_size_approx(r) == 0)
    }

    @Test func dropCounting() {
        let ring = SPSCRing<UInt64>(capacity: 2)
        let producer = ring.claimProducer(), consumer = ring.claimConsumer()
        #expect(ring.dropCount == 0)
        #expect(producer.pushOrCountDrop(1) == true)
        #expect(producer.pushOrCountDrop(2) == true)
        #expect(producer.pushOrCountDrop(3) == false)
        #expect(producer.pushOrCountDrop(4) == false)
        #expect(ring.dropCount == 2)
        producer.countDrops(5)
        producer.countDrops(0)
        #expect(ring.dropCount == 7)
        #expect(consumer.pop() == 1 && consumer.pop() == 2 && consumer.pop() == nil)
        #expect(ring.pushedCount == 2)
    }
}
