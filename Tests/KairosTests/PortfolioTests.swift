import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct PortfolioTests {
    let a = InstrumentID(0), b = InstrumentID(1)

    @Test func openAddReduceFlipAndClose() {
        var p = Portfolio(instrumentCount: 2, initialCapital: 10_000)
        p.apply(instrument: a, side: .buy, quantity: 10, price: 100, fee: 1)
        #expect(p.position(a).quantity == 10)
        #expect(p.position(a).averagePrice == 100)
        #expect(p.cash == 10_000 - 1_000 - 1)
        p.apply(instrument: a, side: .buy, quantity: 10, price: 110, fee: 1)
        #expect(p.position(a).averagePrice == 105)
        // Reduce 5 at 120: realise (120-105)*5 = 75.
        p.apply(instrument: a, side: .sell, quantity: 5, price: 120, fee: 0)
        #expect(p.position(a).quantity == 15)
        #expect(p.position(a).averagePrice == 105)
        #expect(abs(p.position(a).realizedPnL - 75) < 1e-9)
        // Flip: sell 20 at 90 closes 15 (realise (90-105)*15 = -225) and opens 5 short at 90.
        p.apply(instrument: a, side: .sell, quantity: 20, price: 90, fee: 0)
        #expect(p.position(a).quantity == -5)
        #expect(p.position(a).averagePrice == 90)
        #expect(abs(p.position(a).realizedPnL - (75 - 225)) < 1e-9)
        // Close the short at 80: realise (80-90)*(-5)... = +50.
        p.apply(instrument: a, side: .buy, quantity: 5, price: 80, fee: 0)
        #expect(p.position(a).quantity == 0)
        #expect(p.position(a).averagePrice == 0)
        #expect(abs(p.position(a).realizedPnL - (75 - 225 + 50)) < 1e-9)
        // Flat: equity = initial + realised − fees.
        #expect(abs(p.equity - (10_000 + 75 - 225 + 50 - 2)) < 1e-9)
        #expect(p.totalFees == 2)
    }

    @Test func markingMovesEquityAndDrawdown() {
        var p = Portfolio(instrumentCount: 2, initialCapital: 1_000)
        p.apply(instrument: a, side: .buy, quantity: 10, price: 50, fee: 0)
        p.apply(instrument: b, side: .sell, quantity: 4, price: 100, fee: 0)
        #expect(abs(p.equity - 1_000) < 1e-9)
        p.mark(a, price: 60)  // +100
        p.mark(b, price: 110)  // −40
        #expect(abs(p.equity - 1_060) < 1e-9)
        #expect(abs(p.unrealizedPnL - 60) < 1e-9)
        // Marks arrive one instrument at a time: after marking a alone equity was 1,100, a real peak.
        #expect(p.peakEquity == 1_100)
        p.mark(a, price: 40)  // −200 from 60
        #expect(abs(p.equity - 860) < 1e-9)
        #expect(abs(p.drawdown - 240.0 / 1_100) < 1e-12)
        #expect(abs(p.maxDrawdown - 240.0 / 1_100) < 1e-12)
        #expect(abs(p.grossExposure - (400 + 440)) < 1e-9)
        let before = p.marketValue
        p.reanchor()
        #expect(abs(p.marketValue - before) < 1e-9)
    }
}
