// Swift face of the C single-producer / single-consumer ring (kairos_ring.h, ring.c): the ring
// object (storage, counters, claims) and its two non-copyable side handles.
import CKairos
import Synchronization

/// A bounded lock-free single-producer / single-consumer ring of fixed-size records.
///
/// The ring itself only owns the storage and answers questions any thread may ask (capacity and
/// the approximate counters). Pushing and popping go through its two side handles, each claimed
/// once for the ring's lifetime:
///
///     let ring = SPSCRing<Tick>(capacity: 1024)
///     let producer = ring.claimProducer()   // the one producer (a second claim traps)
///     let consumer = ring.claimConsumer()   // the one consumer
///     _ = producer.push(tick)
///     let t = consumer.pop()
///
/// Implementation Notes:
/// - Storage is the C `kairos_ring` (see `docs/ring.md`): a power-of-two array of slots of
///   `MemoryLayout<Element>.stride` bytes, 64-byte aligned, with free-running 64-bit head (producer)
///   and tail (consumer) indices on separate cache lines. This object owns it and frees it in
///   `deinit`; each handle holds a strong reference, so the storage outlives every handle (and a C
///   thread producing through a handle's holder).
/// - Invariants: `0 <= pushedCount - poppedCount <= capacity`; records come out in the order they
///   went in; a push into a full ring writes nothing (returns false / 0); nothing is ever
///   overwritten before it was popped.
/// - Threads: the producer methods live on `Producer`, the consumer methods on `Consumer`. Each
///   handle is `~Copyable` and each side can be claimed once (`claimProducer()`,
///   `claimConsumer()`; a second claim traps), so there is exactly one producer handle and one
///   consumer handle, and neither can be duplicated: the compiler rejects a copy, the claim flag a
///   second claim. What the compiler cannot check is that the one handle is used by one thread at a
///   time: a handle moved into a thread's closure or stored in a class that one thread runs is the
///   intended use; a handle reached from two threads through a shared class is still a bug. A
///   role moves to another thread only across a happens-before edge (thread start, a join, a
///   lock, a queue hand-off), which moving a handle (a `sending` / `consuming` transfer) gives.
///   `capacity`, the claim state and the approximate counters may be read from any thread.
/// - Cost: the claim flags are touched once per side, at claim time; handle methods are
///   `@inlinable` and go straight to the C functions with the raw pointer the handle carries, so
///   a push or pop costs what it did on the class (no atomic, no allocation, no reference count).
/// - Complexity: every operation is O(1) plus the bytes copied; batch forms copy in at most two
///   `memcpy` runs; `withReservedSlots` / `withAvailable` copy nothing. No method allocates
///   (`pop()` uses a stack temporary), takes a lock or makes a system call.
/// - `Element` must be bitwise copyable (the ring moves bytes with `memcpy`) and its alignment at
///   most 64 (the slot array is 64-byte aligned and slots are `stride` apart).
/// - C producers (`kairos_zfeed`, the UDP ingest, file replay) write through `cRing`; the Swift
///   object driving one claims the producer handle and keeps it for as long as the C code may
///   push, so nobody in Swift can produce at the same time.
///
/// `@unchecked Sendable`: the stored state is an immutable pointer to the C ring, its capacity and
/// two atomic claim flags. Everything reachable from this object alone is safe from any thread:
/// the counters are atomic loads in C and the claims are atomic. The memory both sides touch
/// concurrently is synchronised inside the C code (acquire/release on the indices, see `ring.c`),
/// and the push/pop methods that rely on the one-thread-per-side rule are on the handles.
public final class SPSCRing<Element: BitwiseCopyable>: @unchecked Sendable {
    /// The C ring, for C producers and consumers (see Implementation Notes: hold the side's handle
    /// while C code uses it).
    @usableFromInline package let cRing: OpaquePointer
    @usableFromInline let cap: Int
    // Set once by the first claim of each side, never cleared: a dropped handle does not hand the
    // side back, so "claimed" means "someone has (or had) this side" and a stale pointer in C can
    // never meet a second Swift producer.
    private let producerClaimed = Atomic<Bool>(false)
    private let consumerClaimed = Atomic<Bool>(false)

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
        cRing = r
        cap = capacity
    }

    deinit { kairos_ring_destroy(cRing) }

    /// Number of slots (a power of two).
    @inlinable public var capacity: Int { cap }

    // MARK: claiming the sides

    /// The ring's one producer handle. Traps if the producer side was already claimed (two
    /// producers would corrupt the ring; this is a programming error, not a condition to handle).
    public func claimProducer() -> Producer {
        claim(producerClaimed, side: "producer")
        return Producer(ring: self)
    }

    /// The ring's one consumer handle. Traps if the consumer side was already claimed.
    public func claimConsumer() -> Consumer {
        claim(consumerClaimed, side: "consumer")
        return Consumer(ring: self)
    }

    /// Whether `claimProducer()` has been called (it then traps if called again).
    public var isProducerClaimed: Bool { producerClaimed.load(ordering: .relaxed) }
    /// Whether `claimConsumer()` has been called (it then traps if called again).
    public var isConsumerClaimed: Bool { consumerClaimed.load(ordering: .relaxed) }

    private func claim(_ flag: borrowing Atomic<Bool>, side: StaticString) {
        // Relaxed is enough: the exchange only decides who wins the side. No memory is published
        // through the flag; the records are published through the ring's indices, and handing the
        // handle to another thread provides its own happens-before edge.
        let (won, _) = flag.compareExchange(expected: false, desired: true, ordering: .relaxed)
        precondition(won, "SPSCRing<\(Element.self)>: the \(side) side was already claimed (one \(side) per ring)")
    }

    // MARK: any thread, approximate while the other side runs

    /// Records currently in the ring (0...capacity); exact when both sides are quiet.
    @inlinable public var approximateCount: Int { Int(kairos_ring_size_approx(cRing)) }
    /// Total records ever pushed (the head index).
    @inlinable public var pushedCount: UInt64 { kairos_ring_pushed_approx(cRing) }
    /// Total records ever popped (the tail index).
    @inlinable public var poppedCount: UInt64 { kairos_ring_popped_approx(cRing) }
    /// Total drops counted by the producer (`pushOrCountDrop`, `countDrops`).
    @inlinable public var dropCount: UInt64 { kairos_ring_drops_approx(cRing) }
}

extension SPSCRing {
    /// What either handle holds: the ring (keeping its storage alive) and a copy of its raw
    /// pointer, so a handle's call goes to C without loading the pointer through the object.
    /// Copyable and internal; the handles around it are what cannot be copied.
    @frozen @usableFromInline
    struct Side {
        @usableFromInline let ring: SPSCRing<Element>
        @usableFromInline let raw: OpaquePointer
        @inlinable init(_ ring: SPSCRing<Element>) {
            self.ring = ring
            raw = ring.cRing
        }
    }

    /// The producer side of an `SPSCRing`: the only way to put records in.
    ///
    /// Obtained once per ring from `claimProducer()`. Non-copyable, so there is never a second
    /// producer handle; move it to the thread that produces (into its closure, or into the object
    /// that thread runs). Its methods are non-mutating: the state they change is the C ring's.
    ///
    /// Implementation Notes: holds a `Side` (the ring and its raw pointer), so a push is one call
    /// into C with no reference counting and no atomic besides the ring's own.
    @frozen
    public struct Producer: ~Copyable {
        @usableFromInline let side: Side
        @usableFromInline init(ring: SPSCRing<Element>) { side = Side(ring) }
        /// The ring this handle produces into (capacity, counters; its consumer side).
        @inlinable public var ring: SPSCRing<Element> { side.ring }
        @inlinable var raw: OpaquePointer { side.raw }

        /// Copies `element` in. Returns false (and writes nothing) when the ring is full.
        @inlinable public func push(_ element: Element) -> Bool {
            var e = element
            return kairos_ring_push(raw, &e)
        }

        /// Copies as many leading elements of `contentsOf` as fit, in order; returns how many.
        @inlinable public func push(contentsOf elements: UnsafeBufferPointer<Element>) -> Int {
            guard let base = elements.baseAddress else { return 0 }
            let n = UInt32(clamping: elements.count)
            return Int(kairos_ring_push_batch(raw, base, n))
        }

        /// Like `push`, but when the ring is full counts one drop (so it is never silent).
        @inlinable public func pushOrCountDrop(_ element: Element) -> Bool {
            var e = element
            if kairos_ring_push(raw, &e) { return true }
            kairos_ring_count_drops(raw, 1)
            return false
        }

        /// Records `n` (>= 0) records that the producer discarded for lack of space.
        @inlinable public func countDrops(_ n: Int) {
            precondition(n >= 0, "negative drop count")
            kairos_ring_count_drops(raw, UInt64(n))
        }

        /// Zero-copy push: hands `body` the contiguous free slots (up to the wrap point; the memory
        /// is uninitialised or holds old records). `body` writes records into a prefix of the buffer
        /// and returns how many (0...buffer.count); exactly those are published. When the ring is
        /// full, `body` is not called and the result is 0. Returns the number published.
        @inlinable public func withReservedSlots(_ body: (UnsafeMutableBufferPointer<Element>) -> Int) -> Int {
            var n: UInt32 = 0
            guard let p = kairos_ring_reserve(raw, &n) else { return 0 }
            let typed = p.bindMemory(to: Element.self, capacity: Int(n))
            let filled = body(UnsafeMutableBufferPointer(start: typed, count: Int(n)))
            precondition(filled >= 0 && filled <= Int(n), "withReservedSlots body returned \(filled), reserved \(n)")
            kairos_ring_commit(raw, UInt32(filled))
            return filled
        }
    }

    /// The consumer side of an `SPSCRing`: the only way to take records out.
    ///
    /// Obtained once per ring from `claimConsumer()`; non-copyable, like `Producer`.
    ///
    /// Implementation Notes: as `Producer` (a `Side`; no per-call overhead).
    @frozen
    public struct Consumer: ~Copyable {
        @usableFromInline let side: Side
        @usableFromInline init(ring: SPSCRing<Element>) { side = Side(ring) }
        /// The ring this handle consumes from (capacity, counters; its producer side).
        @inlinable public var ring: SPSCRing<Element> { side.ring }
        @inlinable var raw: OpaquePointer { side.raw }

        /// Takes the oldest record out, or nil when the ring is empty.
        @inlinable public func pop() -> Element? {
            let r = raw
            return withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { tmp -> Element? in
                guard kairos_ring_pop(r, tmp.baseAddress!) else { return nil }
                return tmp[0]
            }
        }

        /// Copies up to `into.count` oldest records out, in order; returns how many.
        @inlinable public func pop(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
            guard let base = buffer.baseAddress else { return 0 }
            return Int(kairos_ring_pop_batch(raw, base, UInt32(clamping: buffer.count)))
        }

        /// Zero-copy pop: hands `body` the contiguous readable records (oldest first, up to the wrap
        /// point). `body` returns how many it consumed (0...buffer.count), a prefix; exactly those
        /// are freed. When the ring is empty, `body` is not called and the result is 0. The buffer
        /// must not be used after `body` returns. Returns the number consumed.
        @inlinable public func withAvailable(_ body: (UnsafeBufferPointer<Element>) -> Int) -> Int {
            var n: UInt32 = 0
            guard let p = kairos_ring_peek(raw, &n) else { return 0 }
            let typed = p.bindMemory(to: Element.self, capacity: Int(n))
            let consumed = body(UnsafeBufferPointer(start: typed, count: Int(n)))
            precondition(consumed >= 0 && consumed <= Int(n), "withAvailable body returned \(consumed), available \(n)")
            kairos_ring_release(raw, UInt32(consumed))
            return consumed
        }
    }
}

// `@unchecked Sendable`: a handle is meant to be sent to the thread that uses its side; being
// `~Copyable`, sending it is a move, so the sender no longer has it and the side stays with one
// thread. The raw pointer it carries is what blocks the inferred conformance; it points at the C
// ring the (Sendable) `ring` owns. Conditional on `Element: Sendable` because the elements cross
// threads through the ring.
extension SPSCRing.Producer: @unchecked Sendable where Element: Sendable {}
extension SPSCRing.Consumer: @unchecked Sendable where Element: Sendable {}
