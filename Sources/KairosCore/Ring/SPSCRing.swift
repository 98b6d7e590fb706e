// Swift face of the C single-producer / single-consumer ring (kairos_ring.h, ring.c).
import CKairos

/// A bounded lock-free single-producer / single-consumer ring of fixed-size records.
///
/// Implementation Notes:
/// - Storage is the C `kairos_ring` (see `docs/ring.md`): a power-of-two array of slots of
///   `MemoryLayout<Element>.stride` bytes, 64-byte aligned, with free-running 64-bit head (producer)
///   and tail (consumer) indices on separate cache lines. This object owns it and frees it in
///   `deinit`.
/// - Invariants: `0 <= pushedCount - poppedCount <= capacity`; records come out in the order they
///   went in; a push into a full ring writes nothing (returns false / 0); nothing is ever
///   overwritten before it was popped.
/// - Threads: exactly one thread at a time may call the producer methods (`push`,
///   `push(contentsOf:)`, `pushOrCountDrop`, `countDrops`, `withReservedSlots`) and exactly one
///   (possibly different) thread the consumer methods (`pop`, `pop(into:)`, `withAvailable`).
///   The role may move to another thread only across a happens-before edge (a join, a lock, a
///   queue hand-off). `capacity` and the approximate counters may be read from any thread.
/// - Complexity: every operation is O(1) plus the bytes copied; batch forms copy in at most two
///   `memcpy` runs; `withReservedSlots` / `withAvailable` copy nothing. No method allocates
///   (`pop()` uses a stack temporary), takes a lock or makes a system call.
/// - `Element` must be bitwise copyable (the ring moves bytes with `memcpy`) and its alignment at
///   most 64 (the slot array is 64-byte aligned and slots are `stride` apart).
///
/// `@unchecked Sendable`: the only stored state is an immutable pointer to the C ring and its
/// capacity. All memory both threads touch concurrently is synchronised inside the C code
/// (acquire/release on the indices, see `ring.c`); the single-producer / single-consumer role
/// discipline above is the documented contract of this type and cannot be checked by the compiler.
public final class SPSCRing<Element: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline package let ring: OpaquePointer
    @usableFromInline let cap: Int

    /// Creates an empty ring. `capacity` must be a power of two >= 2 (and fit in 32 bits).
    public init(capacity: Int) {
        precondition(capacity >= 2 && capacity & (capacity - 1) == 0 && capacity <= Int(UInt32.max),
                     "SPSCRing capacity must be a power of two >= 2, got \(capacity)")
        precondition(MemoryLayout<Element>.size == MemoryLayout<Element>.stride,
                     "SPSCRing element size must equal its stride (no tail padding)")
        precondition(MemoryLayout<Element>.stride > 0, "SPSCRing element must not be zero-sized")
        precondition(MemoryLayout<Element>.alignment <= 64, "SPSCRing element alignment must be <= 64")
        guard let r = kairos_ring_create(UInt32(capacity), UInt32(MemoryLayout<Element>.stride)) else {
            fatalError("kairos_ring_create(\(capacity), \(MemoryLayout<Element>.stride)) failed: out of memory")
        }
        ring = r
        cap = capacity
    }

    deinit { kairos_ring_destroy(ring) }

    /// Number of slots (a power of two).
    @inlinable public var capacity: Int { cap }

    // MARK: producer thread only

    /// Copies `element` in. Returns false (and writes nothing) when the ring is full.
    @inlinable public func push(_ element: Element) -> Bool {
        var e = element
        return kairos_ring_push(ring, &e)
    }

    /// Copies as many leading elements of `contentsOf` as fit, in order; returns how many.
    @inlinable public func push(contentsOf elements: UnsafeBufferPointer<Element>) -> Int {
        guard let base = elements.baseAddress else { return 0 }
        let n = UInt32(clamping: elements.count)
        return Int(kairos_ring_push_batch(ring, base, n))
    }

    /// Like `push`, but when the ring is full counts one drop (so it is never silent).
    @inlinable public func pushOrCountDrop(_ element: Element) -> Bool {
        var e = element
        if kairos_ring_push(ring, &e) { return true }
        kairos_ring_count_drops(ring, 1)
        return false
    }

    /// Records `n` (>= 0) records that the producer discarded for lack of space.
    @inlinable public func countDrops(_ n: Int) {
        precondition(n >= 0, "negative drop count")
        kairos_ring_count_drops(ring, UInt64(n))
    }

    /// Zero-copy push: hands `body` the contiguous free slots (up to the wrap point; the memory is
    /// uninitialised or holds old records). `body` writes records into a prefix of the buffer and
    /// returns how many (0...buffer.count); exactly those are published. When the ring is full,
    /// `body` is not called and the result is 0. Returns the number published.
    @inlinable public func withReservedSlots(_ body: (UnsafeMutableBufferPointer<Element>) -> Int) -> Int {
        var n: UInt32 = 0
        guard let p = kairos_ring_reserve(ring, &n) else { return 0 }
        let typed = p.bindMemory(to: Element.self, capacity: Int(n))
        let filled = body(UnsafeMutableBufferPointer(start: typed, count: Int(n)))
        precondition(filled >= 0 && filled <= Int(n), "withReservedSlots body returned \(filled), reserved \(n)")
        kairos_ring_commit(ring, UInt32(filled))
        return filled
    }

    // MARK: consumer thread only

    /// Takes the oldest record out, or nil when the ring is empty.
    @inlinable public func pop() -> Element? {
        withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { tmp -> Element? in
            guard kairos_ring_pop(ring, tmp.baseAddress!) else { return nil }
            return tmp[0]
        }
    }

    /// Copies up to `into.count` oldest records out, in order; returns how many.
    @inlinable public func pop(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        return Int(kairos_ring_pop_batch(ring, base, UInt32(clamping: buffer.count)))
    }

    /// Zero-copy pop: hands `body` the contiguous readable records (oldest first, up to the wrap
    /// point). `body` returns how many it consumed (0...buffer.count), a prefix; exactly those are
    /// freed. When the ring is empty, `body` is not called and the result is 0. The buffer must
    /// not be used after `body` returns. Returns the number consumed.
    @inlinable public func withAvailable(_ body: (UnsafeBufferPointer<Element>) -> Int) -> Int {
        var n: UInt32 = 0
        guard let p = kairos_ring_peek(ring, &n) else { return 0 }
        let typed = p.bindMemory(to: Element.self, capacity: Int(n))
        let consumed = body(UnsafeBufferPointer(start: typed, count: Int(n)))
        precondition(consumed >= 0 && consumed <= Int(n), "withAvailable body returned \(consumed), available \(n)")
        kairos_ring_release(ring, UInt32(consumed))
        return consumed
    }

    // MARK: any thread, approximate while the other side runs

    /// Records currently in the ring (0...capacity); exact when both sides are quiet.
    @inlinable public var approximateCount: Int { Int(kairos_ring_size_approx(ring)) }
    /// Total records ever pushed (the head index).
    @inlinable public var pushedCount: UInt64 { kairos_ring_pushed_approx(ring) }
    /// Total records ever popped (the tail index).
    @inlinable public var poppedCount: UInt64 { kairos_ring_popped_approx(ring) }
    /// Total drops counted by the producer (`pushOrCountDrop`, `countDrops`).
    @inlinable public var dropCount: UInt64 { kairos_ring_drops_approx(ring) }
}
