// SPSC ring benchmarks on one thread: the cost of one push+pop hop of a 64-byte Tick, and of a
// batch of 32. Written against the C API (kairos_ring.h), plus the same hop through the Swift
// `SPSCRing` handles, which should cost the same (the handles add no atomic, no reference count).
import Benchmark
import CKairos
import KairosCore
import KairosBenchSupport

/// A ring and its staging buffers, built once at registration (the benchmark closure runs once
/// per iteration) and kept for the process lifetime.
final class RingState {
    let ring: OpaquePointer
    let batch = UnsafeMutableBufferPointer<kairos_tick>.allocate(capacity: 32)
    let out = UnsafeMutableBufferPointer<kairos_tick>.allocate(capacity: 32)
    init() {
        ring = kairos_ring_create(1024, UInt32(MemoryLayout<kairos_tick>.size))!
        var t = kairos_tick()
        t.bid = 100
        t.ask = 100.01
        _ = batch.initialize(repeating: t)
        _ = out.initialize(repeating: kairos_tick())
    }
    deinit {
        kairos_ring_destroy(ring)
        batch.deallocate()
        out.deallocate()
    }
}

/// Both sides of one `SPSCRing`, held for the process lifetime. A class so the escaping benchmark
/// closure can capture it (it cannot capture the non-copyable handles themselves).
final class HandleHop: Sendable {
    let producer: SPSCRing<kairos_tick>.Producer
    let consumer: SPSCRing<kairos_tick>.Consumer
    init() {
        let ring = SPSCRing<kairos_tick>(capacity: 1024)
        producer = ring.claimProducer()
        consumer = ring.claimConsumer()
    }
}

let benchmarks: @Sendable () -> Void = {
    // push one, pop one: 1,000 hops per iteration, reported per hop.
    let hop = RingState()
    Benchmark(
        "Ring SPSC push+pop hop, 64B tick (per op, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        let r = hop.ring
        let tick = hop.batch.baseAddress!
        let out = hop.out.baseAddress!
        var sum: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            tick.pointee.seq &+= 1
            _ = kairos_ring_push(r, tick)
            _ = kairos_ring_pop(r, out)
            sum &+= out.pointee.seq
        }
        blackHole(sum)
    }

    // The same hop through the Swift handles (`@inlinable`, straight to the C calls).
    let handles = HandleHop()
    Benchmark(
        "Ring SPSC push+pop hop via SPSCRing handles, 64B tick (per op, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        var tick = kairos_tick()
        tick.bid = 100
        tick.ask = 100.01
        var sum: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            tick.seq &+= 1
            _ = handles.producer.push(tick)
            sum &+= handles.consumer.pop()?.seq ?? 0
        }
        blackHole(sum)
    }

    // push_batch(32) then pop_batch(32): 1,000 batches per iteration, reported per batch of 32
    // (divide by 32 for per record).
    let bat = RingState()
    Benchmark(
        "Ring SPSC batch of 32 push+pop (per batch, 1K/iter)",
        configuration: KairosBench.configuration(scalingFactor: .kilo)
    ) { benchmark in
        let r = bat.ring
        let batch = bat.batch
        let out = bat.out
        var sum: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            batch[0].seq &+= 1
            let pushed = kairos_ring_push_batch(r, batch.baseAddress, 32)
            let popped = kairos_ring_pop_batch(r, out.baseAddress, 32)
            sum &+= UInt64(pushed &+ popped) &+ out[0].seq
        }
        blackHole(sum)
    }
}
