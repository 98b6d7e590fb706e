// Per-publisher sequence tracking (gaps, duplicates, out-of-order) and per-instrument stale-feed
// detection for ticks that arrive over the wire.

/// Counters of a `SequenceTracker`.
public struct SequenceStats: Sendable, Equatable, CustomStringConvertible {
    /// Records `accept` let through.
    public var accepted: UInt64 = 0
    /// Jumps forward by more than one (each jump counts once) ...
    public var gaps: UInt64 = 0
    /// ... and the sequence numbers they skipped (some may arrive later, as out-of-order).
    public var missing: UInt64 = 0
    /// Records seen before (dropped).
    public var duplicates: UInt64 = 0
    /// Records older than the newest one but not seen before (accepted: they fill a gap).
    public var outOfOrder: UInt64 = 0
    /// Records older than the tracking window: cannot be told from duplicates, so dropped.
    public var tooOld: UInt64 = 0
    /// Publishers that started again at sequence 1 (a restart).
    public var resets: UInt64 = 0
    /// Records from publisher ids >= maxPublishers (accepted, not tracked).
    public var untracked: UInt64 = 0
    /// Records a publisher sent before its first one reached this tracker (its first sequence
    /// number minus 1: publishers number from 1). A subscriber that joins late has lost them.
    public var missedBeforeFirst: UInt64 = 0
    public init() {}
    /// Records that never arrived: the gaps' missing numbers not filled later by out-of-order
    /// arrivals, plus those missed before each publisher's first record.
    public var lost: UInt64 { lostInGaps &+ missedBeforeFirst }
    /// The gaps' missing numbers that out-of-order arrivals did not fill later.
    public var lostInGaps: UInt64 { missing > outOfOrder ? missing - outOfOrder : 0 }
    public var description: String {
        "accepted \(accepted) lost \(lost) (gaps \(gaps) missing \(missing) before-first \(missedBeforeFirst)) "
            + "duplicates \(duplicates) out-of-order \(outOfOrder) too-old \(tooOld) resets \(resets) untracked \(untracked)"
    }
}

/// Tracks sequence numbers per publisher and the last arrival per instrument.
///
/// Rules for a record with sequence s from publisher p (last = highest s seen from p):
/// - first record from p: accepted, becomes the baseline; its s - 1 predecessors were sent before
///   this tracker heard from p and are counted as `missedBeforeFirst` (not as a gap);
/// - s == last + 1: accepted; s > last + 1: accepted, one gap of s - last - 1 missing records;
/// - s <= last within the window (the last 64 numbers): a duplicate if s was seen (dropped),
///   else out-of-order (accepted, fills the gap);
/// - s < last - 63: too old to tell (dropped), except s == 1, which is a publisher restart
///   (accepted, new baseline).
/// Stale feed: instrument i is stale at `now` when nothing arrived for it for more than
/// `staleAfterNs` since its last tick (or since `startNs` if none has arrived yet). The caller
/// chooses the clock (`now` and `startNs` must come from the same one).
///
/// Implementation Notes: all state is preallocated at init (per publisher: newest sequence number
/// and a 64-bit bitmap of the 64 numbers up to it; per instrument: last arrival time). `accept`
/// and `isStale(_:now:)` are O(1) and allocate nothing; `isStale(now:)` and `staleInstruments`
/// are O(instruments). A value type used by one thread (the one consuming the ticks).
public struct SequenceTracker: Sendable {
    public let maxPublishers: Int
    public let instruments: Int
    public let staleAfterNs: Int64
    public private(set) var stats = SequenceStats()
    private var newest: [UInt64]  // 0 = publisher not seen yet
    private var window: [UInt64]  // bit k set: newest - k was received
    private var lastSeen: [Int64]

    public init(maxPublishers: Int = 1024, instruments: Int, staleAfterNs: Int64, startNs: Int64) {
        precondition(maxPublishers >= 1 && maxPublishers <= 65_536, "maxPublishers must be 1...65536")
        precondition(instruments >= 1 && instruments <= InstrumentID.max, "instruments out of range")
        precondition(staleAfterNs > 0, "staleAfterNs must be > 0")
        self.maxPublishers = maxPublishers
        self.instruments = instruments
        self.staleAfterNs = staleAfterNs
        newest = [UInt64](repeating: 0, count: maxPublishers)
        window = [UInt64](repeating: 0, count: maxPublishers)
        lastSeen = [Int64](repeating: startNs, count: instruments)
    }

    /// Checks one tick's (publisher, seq) and, when accepted, records its arrival at `now` for
    /// its instrument. Returns false for records to drop (duplicates, too old).
    public mutating func accept(_ tick: Tick, now: Int64) -> Bool {
        let ok = accept(publisher: tick.publisher, seq: tick.seq)
        if ok { touch(InstrumentID(tick.instrument), now: now) }
        return ok
    }

    /// The sequence rules alone (see the type's documentation).
    public mutating func accept(publisher: UInt16, seq s: UInt64) -> Bool {
        let p = Int(publisher)
        guard p < maxPublishers else {
            stats.untracked &+= 1
            stats.accepted &+= 1
            return true
        }
        let last = newest[p]
        if last == 0 || s > last {
            if last != 0 {
                let d = s - last
                if d > 1 {
                    stats.gaps &+= 1
                    stats.missing &+= d - 1
                }
                window[p] = d >= 64 ? 1 : (window[p] << d) | 1
            } else {
                window[p] = 1
                stats.missedBeforeFirst &+= s > 1 ? s - 1 : 0
            }
            newest[p] = s
            stats.accepted &+= 1
            return true
        }
        let back = last - s
        if back >= 64 {
            if s == 1 {
                stats.resets &+= 1
                newest[p] = 1
                window[p] = 1
                stats.accepted &+= 1
                return true
            }
            stats.tooOld &+= 1
            return false
        }
        let bit: UInt64 = 1 << back
        if window[p] & bit != 0 {
            stats.duplicates &+= 1
            return false
        }
        window[p] |= bit
        stats.outOfOrder &+= 1
        stats.accepted &+= 1
        return true
    }

    /// Records that instrument `i` was heard from at `now` (ignored when out of range).
    public mutating func touch(_ i: InstrumentID, now: Int64) {
        guard i.index < instruments else { return }
        if now > lastSeen[i.index] { lastSeen[i.index] = now }
    }

    /// Whether instrument `i` has been silent for longer than `staleAfterNs` at `now`.
    /// Instruments outside the tracked range are always stale (nothing is known about them).
    public func isStale(_ i: InstrumentID, now: Int64) -> Bool {
        guard i.index < instruments else { return true }
        return now - lastSeen[i.index] > staleAfterNs
    }

    /// Whether any tracked instrument is stale at `now`.
    public func isStale(now: Int64) -> Bool {
        for t in lastSeen where now - t > staleAfterNs { return true }
        return false
    }

    /// Writes the stale instruments at `now` into `result` (cleared first; reuse it to avoid
    /// allocating once its capacity suffices).
    public func staleInstruments(now: Int64, into result: inout [InstrumentID]) {
        result.removeAll(keepingCapacity: true)
        for (i, t) in lastSeen.enumerated() where now - t > staleAfterNs { result.append(InstrumentID(i)) }
    }

    /// Newest sequence number seen from `publisher` (0 = none).
    public func newestSequence(publisher: UInt16) -> UInt64 {
        Int(publisher) < maxPublishers ? newest[Int(publisher)] : 0
    }
}
