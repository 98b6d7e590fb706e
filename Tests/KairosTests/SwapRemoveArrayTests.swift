import Testing
@testable import KairosCore

@Suite struct SwapRemoveArrayTests {
    @Test func appendUntilFullThenRefuse() {
        var a = SwapRemoveArray(capacity: 3, placeholder: 0)
        #expect(a.isEmpty && a.capacity == 3 && !a.isFull)
        for v in [10, 11, 12] {
            let stored = a.append(v)
            #expect(stored)
        }
        #expect(a.isFull && a.count == 3)
        let storedWhenFull = a.append(13)  // full: nothing stored
        #expect(!storedWhenFull)
        #expect(Array(a) == [10, 11, 12])
    }

    @Test func removeMovesTheLastElementIntoTheHole() {
        var a = SwapRemoveArray(capacity: 5, placeholder: 0)
        for v in [1, 2, 3, 4, 5] { a.append(v) }
        let second = a.remove(at: 1)
        #expect(second == 2 && Array(a) == [1, 5, 3, 4])
        let last = a.remove(at: 3)  // the last one: nothing moves
        #expect(last == 4)
        #expect(Array(a) == [1, 5, 3])
        var popped: [Int] = []
        while let v = a.popLast() { popped.append(v) }
        #expect(popped == [3, 5, 1])
        #expect(a.isEmpty)
        // The freed slots are reused.
        a.append(7)
        #expect(a[0] == 7 && a.count == 1)
        a[0] = 8
        #expect(a.first == 8)
        a.removeAll()
        #expect(a.isEmpty && a.capacity == 5)
    }

    /// The documented scan: after removing at k, k holds the former last element and is examined
    /// again, so every element is seen exactly once.
    @Test func aScanThatRemovesSeesEveryElementOnce() {
        var a = SwapRemoveArray(capacity: 16, placeholder: 0)
        for v in 0..<16 { a.append(v) }
        var seen: [Int] = []
        var k = 0
        while k < a.count {
            seen.append(a[k])
            if a[k] % 3 == 0 { a.remove(at: k) } else { k += 1 }
        }
        #expect(seen.sorted() == Array(0..<16))
        #expect(Set(a) == Set((0..<16).filter { $0 % 3 != 0 }) && a.count == 10)
    }

    /// Nothing allocates after init: the storage never moves however the table is used.
    @Test func theStorageNeverMoves() {
        var a = SwapRemoveArray(capacity: 64, placeholder: Order())
        let base = a.storage.withUnsafeBufferPointer { $0.baseAddress }
        var o = Order()
        for round in 0..<1_000 {
            o.client_order_id = UInt64(round)
            while a.append(o) {}
            while a.count > round % 7 { a.remove(at: (round &* 31) % a.count) }
            #expect(a.storage.withUnsafeBufferPointer { $0.baseAddress } == base)
        }
        #expect(a.storage.count == 64)
    }

    #if KAIROS_CHECK_INVARIANTS
    @Test func aCorruptCountStopsTheInvariantCheck() async {
        await #expect(processExitsWith: .failure) {
            var a = SwapRemoveArray(capacity: 2, placeholder: 0)
            a._count = 3
            a._checkInvariants()
        }
    }
    #endif
}
