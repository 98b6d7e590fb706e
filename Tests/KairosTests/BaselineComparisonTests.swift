import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// The engine's lockstep backtest against closed-form results and against the vectorised
/// reference, on synthetic bars (always) and on the S&P 500 (when ../shared/data is present).
@Suite struct BaselineComparisonTests {
    func frictionless() -> BaselineComparison {
        var c = BaselineComparison()
        c.feeBps = 0
        c.slippageBps = 0
        c.spreadBps = 0
        return c
    }

    /// Buy-and-hold through the engine: decided on bar 0 at c0 (floor(capital / c0) units), filled at
    /// bar 1's close, held to the end. Reference: fractional units at c0.
    func checkBuyAndHold(_ bars: [Bar]) throws {
        let cmp = frictionless()
        let run = try #require(try cmp.run([.buyAndHold], bars: bars).first)
        let c0 = bars[0].close, c1 = bars[1].close, cT = bars.last!.close
        let units = (cmp.capital / c0).rounded(.towardZero)
        let engineExpected = units * (cT - c1) / cmp.capital
        #expect(abs(run.engine.totalReturn - engineExpected) < 1e-9, "engine \(run.engine.totalReturn) vs \(engineExpected)")
        #expect(abs(run.reference.totalReturn - (cT / c0 - 1)) < 1e-9)
        #expect(run.engineFills == 1 && run.referenceTrades == 1)
        #expect(run.engine.periods == bars.count)
    }

    @Test func buyAndHoldOnSyntheticBarsIsExact() throws {
        var market = SyntheticMarket(scenario: .persistent, instruments: 1, seed: 11)
        try checkBuyAndHold(market.bars(count: 3_000).bars)
    }

    @Test func buyAndHoldOnTheSP500IsExact() throws {
        guard FileManager.default.fileExists(atPath: OHLCVCSVTests.sp500Path) else {
            print("skipping buyAndHoldOnTheSP500IsExact: \(OHLCVCSVTests.sp500Path) not found")
            return
        }
        try checkBuyAndHold(try OHLCVCSV.load(path: OHLCVCSVTests.sp500Path))
    }

    @Test func smaEngineAndReferenceTradeTheSameCrossings() throws {
        var market = SyntheticMarket(scenario: .persistent, instruments: 1, seed: 5)
        let bars = market.bars(count: 4_000).bars
        var cmp = frictionless()
        cmp.minRebalanceFraction = 0.5  // entries and exits (a full allocation) trade; drift re-sizing does not
        let run = try #require(try cmp.run([.sma], bars: bars).first)
        // Count the reference's entries/exits: the SMA signal flips between 1 and 0.
        var policy = SMACrossoverPolicy(instruments: 1)
        var flips = 0
        var last: Double? = nil
        for b in bars {
            let t = Tick(instrument: InstrumentID(0), seq: 1, exchangeTime: b.timestamp, receiveTime: b.timestamp, bid: b.close, ask: b.close)
            let ctx = DecisionContext(
                instrument: InstrumentID(0), tick: t, price: b.close, features: .zero, featureUpdates: 1, bar: b,
                barsClosed: 1, position: 0, exposure: 0, now: b.timestamp)
            if let s = policy.decide(ctx) {
                if s != (last ?? 0) { flips += 1 }
                last = s
            }
        }
        #expect(flips > 10)
        // Every flip is one engine fill (the last one may still be working when the data ends).
        #expect(run.engineFills == UInt64(flips) || run.engineFills + 1 == UInt64(flips), "fills \(run.engineFills) flips \(flips)")
        #expect(run.engineRiskRejections == 0)
    }
}
