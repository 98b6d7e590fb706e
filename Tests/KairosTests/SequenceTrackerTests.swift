import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct SequenceTrackerTests {
    func tracker(instruments: Int = 4) -> SequenceTracker {
        SequenceTracker(maxPublishers: 8, instruments: instruments, staleAfterNs: 1_000, startNs: 0)
    }

    @Test func inOrderStreamHasNoFindings() {
        var t = tracker()
        for s in 1...1_000 { #expect(t.accept(publisher: 1, seq: UInt64(s)) == true) }
        #expect(t.stats == { var e = SequenceStats(); e.accepted = 1_000; return e }())
        #expect(t.newestSequence(publisher: 1) == 1_000)
    }

    @Test func gapsCountJumpsAndMissingNumbers() {
        var t = tracker()
        for s: UInt64 in [1, 2, 5, 6, 10, 200] { #expect(t.accept(publisher: 0, seq: s) == true) }
        #expect(t.stats.gaps == 3)
        #expect(t.stats.missing == 2 + 3 + 189)
        #expect(t.stats.accepted == 6 && t.stats.duplicates == 0 && t.stats.outOfOrder == 0)
    }

    @Test func firstRecordIsTheBaseline() {
        var t = tracker()
        #expect(t.accept(publisher: 2, seq: 500) == true)
        #expect(t.accept(publisher: 2, seq: 501) == true)
        #expect(t.stats.gaps == 0 && t.stats.missing == 0)
    }

    @Test func duplicatesAreDropped() {
        var t = tracker()
        for s: UInt64 in [1, 2, 3] { #expect(t.accept(publisher: 1, seq: s) == true) }
        #expect(t.accept(publisher: 1, seq: 3) == false)  // repeat of the newest
        #expect(t.accept(publisher: 1, seq: 2) == false)  // repeat of an older one in the window
        #expect(t.accept(publisher: 1, seq: 1) == false)
        #expect(t.stats.duplicates == 3 && t.stats.accepted == 3)
    }

    @Test func lateRecordsFillGapsOnceThenAreDuplicates() {
        var t = tracker()
        for s: UInt64 in [1, 2, 6] { #expect(t.accept(publisher: 1, seq: s) == true) }
        #expect(t.accept(publisher: 1, seq: 4) == true)  // late: out of order, accepted
        #expect(t.accept(publisher: 1, seq: 3) == true)
        #expect(t.accept(publisher: 1, seq: 4) == false)  // now a duplicate
        #expect(t.stats.gaps == 1 && t.stats.missing == 3)
        #expect(t.stats.outOfOrder == 2 && t.stats.duplicates == 1 && t.stats.accepted == 5)
        #expect(t.newestSequence(publisher: 1) == 6)
    }

    @Test func recordsBeyondTheWindowAreDroppedAndARestartIsRecognised() {
        var t = tracker()
        for s in 1...100 { #expect(t.accept(publisher: 3, seq: UInt64(s)) == true) }
        #expect(t.accept(publisher: 3, seq: 36) == false)  // 64 behind the newest: cannot tell
        #expect(t.accept(publisher: 3, seq: 37) == false)  // 63 behind and seen: duplicate
        #expect(t.stats.tooOld == 1 && t.stats.duplicates == 1)
        #expect(t.accept(publisher: 3, seq: 1) == true)  // publisher restarted
        #expect(t.accept(publisher: 3, seq: 2) == true)
        #expect(t.stats.resets == 1 && t.newestSequence(publisher: 3) == 2)
    }

    @Test func publishersAreIndependentAndOutOfRangeOnesUntracked() {
        var t = tracker()
        #expect(t.accept(publisher: 1, seq: 1) == true)
        #expect(t.accept(publisher: 2, seq: 1) == true)  // same number, other publisher: not a duplicate
        #expect(t.accept(publisher: 1, seq: 2) == true)
        #expect(t.accept(publisher: 100, seq: 1) == true)
        #expect(t.accept(publisher: 100, seq: 1) == true)  // untracked: let through, counted
        #expect(t.stats.duplicates == 0 && t.stats.untracked == 2 && t.stats.accepted == 5)
    }

    @Test func wideJumpsResetTheWindow() {
        var t = tracker()
        #expect(t.accept(publisher: 0, seq: 1) == true)
        #expect(t.accept(publisher: 0, seq: 1_000) == true)
        #expect(t.accept(publisher: 0, seq: 999) == true)  // missed earlier, not a duplicate
        #expect(t.accept(publisher: 0, seq: 999) == false)
        #expect(t.stats.gaps == 1 && t.stats.missing == 998 && t.stats.outOfOrder == 1 && t.stats.duplicates == 1)
    }

    @Test func staleFeedPerInstrument() {
        var t = tracker(instruments: 3)
        // Grace period from startNs (0): nothing is stale until staleAfterNs has passed.
        #expect(!t.isStale(now: 1_000))
        #expect(t.isStale(now: 1_001))
        var tick = Tick(instrument: InstrumentID(1), seq: 1, exchangeTime: 0, receiveTime: 0, bid: 1, ask: 2, publisher: 4)
        #expect(t.accept(tick, now: 5_000) == true)
        #expect(!t.isStale(InstrumentID(1), now: 5_500))
        #expect(t.isStale(InstrumentID(0), now: 5_500))
        var stale = [InstrumentID]()
        t.staleInstruments(now: 5_500, into: &stale)
        #expect(stale == [InstrumentID(0), InstrumentID(2)])
        #expect(t.isStale(InstrumentID(1), now: 6_001))
        #expect(!t.isStale(InstrumentID(1), now: 6_000))
        // A dropped duplicate does not count as the feed being alive.
        #expect(t.accept(tick, now: 6_500) == false)
        #expect(t.isStale(InstrumentID(1), now: 6_500))
        tick.seq = 2
        #expect(t.accept(tick, now: 6_500) == true)
        #expect(!t.isStale(InstrumentID(1), now: 6_500))
        #expect(t.isStale(InstrumentID(3), now: 0))  // not tracked: unknown is stale
        for i in 0..<3 { t.touch(InstrumentID(i), now: 7_000) }
        #expect(!t.isStale(now: 7_500))
        t.staleInstruments(now: 7_500, into: &stale)
        #expect(stale.isEmpty)
    }
}
