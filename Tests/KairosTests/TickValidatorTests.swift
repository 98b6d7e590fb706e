import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct TickValidatorTests {
    func tick(_ i: Int = 0, bid: Double = 99.9, ask: Double = 100.1, last: Double = 0, ts: Int64 = 1) -> Tick {
        Tick(instrument: InstrumentID(i), seq: 1, exchangeTime: ts, receiveTime: ts, bid: bid, ask: ask, last: last)
    }

    @Test func acceptsGoodAndLockedQuotes() {
        var v = TickValidator(instrumentCount: 2)
        #expect(v.validate(tick()) == nil)
        #expect(v.validate(tick(1, bid: 50, ask: 50, ts: 5)) == nil)  // locked is fine
        #expect(v.validate(tick(ts: 1)) == nil)  // equal timestamps are fine
        #expect(v.accepted == 3)
    }

    @Test func rejectsEachBadKindAndCountsIt() {
        var v = TickValidator(instrumentCount: 2)
        #expect(v.validate(tick(ts: 100)) == nil)
        #expect(v.validate(tick(bid: .nan)) == .nonFinitePrice)
        #expect(v.validate(tick(ask: .infinity)) == .nonFinitePrice)
        #expect(v.validate(tick(last: -.infinity)) == .nonFinitePrice)
        #expect(v.validate(tick(bid: 0)) == .nonPositivePrice)
        #expect(v.validate(tick(ask: -3)) == .nonPositivePrice)
        #expect(v.validate(tick(last: -1)) == .nonPositivePrice)
        #expect(v.validate(tick(bid: 101, ask: 100, ts: 200)) == .crossedQuote)
        #expect(v.validate(tick(ts: 99)) == .timestampBackwards)
        #expect(v.validate(tick(7)) == .unknownInstrument)
        #expect(v.count(.nonFinitePrice) == 3)
        #expect(v.count(.nonPositivePrice) == 3)
        #expect(v.count(.crossedQuote) == 1)
        #expect(v.count(.timestampBackwards) == 1)
        #expect(v.count(.unknownInstrument) == 1)
        #expect(v.totalRejected == 9)
        // A rejected tick did not move the clock: ts 100 is still the high-water mark.
        #expect(v.validate(tick(ts: 100)) == nil)
    }
}
