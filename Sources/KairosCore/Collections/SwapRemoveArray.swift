/// A fixed-capacity, unordered array whose `append` and `remove(at:)` are O(1): removing moves the
/// last element into the hole. The tables of live orders (the paper venue's and the gateway's
/// working orders, the order router's in-flight orders) are this: bounded, scanned linearly,
/// added to and removed from once per order, and never allowed to allocate on the order path.
///
/// Invariants (checked by `_checkInvariants()` after every mutation when KAIROS_CHECK_INVARIANTS
/// is defined, as in debug builds):
/// - `0 <= count <= capacity`;
/// - the storage has exactly `capacity` slots from `init` on; it never grows, shrinks or moves, so
///   nothing allocates after `init`. (A copy of the value gets storage of its own on its first
///   mutation, once, as any Swift array would; the owners never copy theirs.)
/// - slots `0..<count` are the elements; the others hold the placeholder or stale copies of
///   removed elements and are never read.
///
/// Order is not kept: `remove(at: k)` puts the last element at `k`. A scan that removes as it goes
/// therefore looks at `k` again after removing there:
/// `while k < table.count { if done(table[k]) { table.remove(at: k) } else { k += 1 } }`.
///
/// Not thread-safe; a value type with the owner's thread discipline.
public struct SwapRemoveArray<Element>: RandomAccessCollection {
    public typealias Index = Int
    public typealias Indices = Range<Int>

    @usableFromInline var storage: [Element]
    /// How many elements it can hold; fixed at `init`.
    public let capacity: Int
    @usableFromInline var _count = 0
    @inlinable public var count: Int { _count }

    /// An empty array of `capacity` slots, each filled with `placeholder` (never read as an element).
    public init(capacity: Int, placeholder: Element) {
        precondition(capacity >= 0, "negative capacity")
        self.capacity = capacity
        storage = [Element](repeating: placeholder, count: capacity)
        _checkInvariants()
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }
    @inlinable public var isFull: Bool { count == capacity }

    /// The element at `k` (< `count`).
    @inlinable public subscript(k: Int) -> Element {
        get {
            precondition(k >= 0 && k < count, "index out of range")
            return storage[k]
        }
        set {
            precondition(k >= 0 && k < count, "index out of range")
            storage[k] = newValue
        }
    }

    /// Adds `element` at the end. Returns false, storing nothing, when full.
    @inlinable @discardableResult
    public mutating func append(_ element: Element) -> Bool {
        guard count < capacity else { return false }
        storage[count] = element
        _count &+= 1
        _checkInvariants()
        return true
    }

    /// Removes and returns the element at `k` (< `count`), moving the last element into its place.
    @inlinable @discardableResult
    public mutating func remove(at k: Int) -> Element {
        precondition(k >= 0 && k < count, "index out of range")
        let removed = storage[k]
        _count &-= 1
        if k != _count { storage[k] = storage[_count] }
        _checkInvariants()
        return removed
    }

    /// Removes and returns the last element, or nil when empty.
    @inlinable public mutating func popLast() -> Element? {
        count == 0 ? nil : remove(at: count &- 1)
    }

    /// Removes every element (keeping the storage).
    @inlinable public mutating func removeAll() {
        _count = 0
        _checkInvariants()
    }

    /// Stops the process if an invariant above is broken; empty unless KAIROS_CHECK_INVARIANTS.
    @inlinable public func _checkInvariants() {
        #if KAIROS_CHECK_INVARIANTS
        precondition(count >= 0 && count <= capacity, "SwapRemoveArray count \(count) outside 0...\(capacity)")
        precondition(storage.count == capacity, "SwapRemoveArray storage resized to \(storage.count) from \(capacity)")
        #endif
    }
}

extension SwapRemoveArray: Sendable where Element: Sendable {}
