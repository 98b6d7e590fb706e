// Swift face of the C bounded multi-producer / single-consumer queue (kairos_ring.h, ring.c).
import CKairos

/// A bounded lock-free multi-producer / single-consumer queue of fixed-size records
/// (Dmitry Vyukov's per-slot sequence design).
///
/// Implementation Notes:
/// - Storage is the C `kairos_mpsc`: a power-of-two array of cells, each an atomic sequence number
///   followed by one record, padded to whole cache lines so producers writing neighbouring cells do
///   not share a line. This object owns it and frees it in `deinit`.
/// - Invariants: records of any one producer come out in the order that producer pushed them;
///   across producers the order is the order in which they claimed positions; a push into a full
///   queue writes nothing; at most `capacity` records are in flight.
/// - Threads: `push`, `pushOrCountDrop` and `countDrops` from any number of threads; `pop` and
///   `pop(into:)` from exactly one consumer thread at a time (the role may move only across a
///   happens-before edge). `capacity` and `dropCount` from any thread.
/// - Progress: producers are lock-free (a CAS loop on the enqueue position). A producer preempted
///   between claiming a position and publishing it makes the consumer see the queue as empty at
///   that position until it finishes (FIFO is kept, later records wait behind it).
/// - Complexity: O(1) plus the record copy per operation (a CAS retry per contending producer);
///   nothing allocates, locks or makes a system call.
///
/// `@unchecked Sendable`: the only stored state is an immutable pointer to the C queue and its
/// capacity; everything shared between threads is synchronised inside the C code (per-cell
/// acquire/release sequence numbers, a CAS on the enqueue position). The single-consumer rule is
/// the documented contract of this type and cannot be checked by the compiler.
public final class MPSCQueue<Element: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline let queue: OpaquePointer
    @usableFromInline let cap: Int

    /// Creates an empty queue. `capacity` must be a power of two >= 2 (and fit in 32 bits).
    public init(capacity: Int) {
        precondition(capacity >= 2 && capacity & (capacity - 1) == 0 && capacity <= Int(UInt32.max),
                     "MPSCQueue capacity must be a power of two >= 2, got \(capacity)")
        precondition(MemoryLayout<Element>.size == MemoryLayout<Element>.stride,
                     "MPSCQueue element size must equal its stride (no tail padding)")
        precondition(MemoryLayout<Element>.stride > 0, "MPSCQueue element must not be zero-sized")
        precondition(MemoryLayout<Element>.alignment <= 8,
                     "MPSCQueue element alignment must be <= 8 (records follow an 8-byte sequence number)")
        guard let q = kairos_mpsc_create(UInt32(capacity), UInt32(MemoryLayout<Element>.stride)) else {
            fatalError("kairos_mpsc_create(\(capacity), \(MemoryLayout<Element>.stride)) failed: out of memory")
        }
        queue = q
        cap = capacity
    }

    deinit { kairos_mpsc_destroy(queue) }

    /// Number of cells (a power of two).
    @inlinable public var capacity: Int { cap }

    // MARK: any producer thread

    /// Copies `element` in. Returns false (and writes nothing) when the queue is full.
    @inlinable public func push(_ element: Element) -> Bool {
        var e = element
        return kairos_mpsc_push(queue, &e)
    }

    /// Like `push`, but when the queue is full counts one drop.
    @inlinable public func pushOrCountDrop(_ element: Element) -> Bool {
        var e = element
        if kairos_mpsc_push(queue, &e) { return true }
        kairos_mpsc_count_drops(queue, 1)
        return false
    }

    /// Records `n` (>= 0) records a producer discarded for lack of space.
    @inlinable public func countDrops(_ n: Int) {
        precondition(n >= 0, "negative drop count")
        kairos_mpsc_count_drops(queue, UInt64(n))
    }

    // MARK: the consumer thread only

    /// Takes the oldest published record out, or nil when none is ready.
    @inlinable public func pop() -> Element? {
        withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { tmp -> Element? in
            guard kairos_mpsc_pop(queue, tmp.baseAddress!) else { return nil }
            return tmp[0]
        }
    }

    /// Copies up to `into.count` records out, in order; returns how many.
    @inlinable public func pop(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        return Int(kairos_mpsc_pop_batch(queue, base, UInt32(clamping: buffer.count)))
    }

    // MARK: any thread

    /// Total drops counted by producers; eventually current.
    @inlinable public var dropCount: UInt64 { kairos_mpsc_drops_approx(queue) }
}
