import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct BaselineTests {
    static func context(_ price: Double, instrument: Int = 0, position: Double = 0, updates: UInt64 = 1) -> DecisionContext {
        let id = InstrumentID(instrument)
        let tick = Tick(instrument: id, seq: updates, exchangeTime: 0, receiveTime: 0, bid: price, ask: price)
        // Every price is a closed bar (the SMA averages bar closes).
        return DecisionContext(instrument: id, tick: tick, price: price, features: .zero, featureUpdates: updates,
                               bar: Bar(timestamp: 0, open: price, high: price, low: price, close: price, volume: 0),
                               barsClosed: updates, position: position, exposure: 0, now: 0)
    }

    static func bars(_ closes: [Double]) -> [Bar] {
        closes.enumerated().map { k, c in
            Bar(timestamp: Int64(k) * 86_400_000_000_000, open: c, high: c, low: c, close: c, volume: 1)
        }
    }

    @Test func smaValuesAreExactAcrossInterleavedInstruments() {
        var p = SMACrossoverPolicy(instruments: 3, fast: 10, slow: 30)
        var g = Xoshiro256StarStar(seed: 4)
        var series = [[Double]](repeating: [], count: 3)
        var maxErr = 0.0
        for _ in 0..<3000 {
            let i = Int(g.next() % 3)
            let x = 100 * (1 + 0.5 * g.nextGaussian()).magnitude + 1e-3
            series[i].append(x)
            let got = p.update(instrument: i, price: x)
            let s = series[i]
            if s.count < 30 {
                #expect(got == nil)
            } else {
                let fast = s.suffix(10).reduce(0, +) / 10, slow = s.suffix(30).reduce(0, +) / 30
                guard let got else { Issue.record("no averages after 30 prices"); return }
                maxErr = max(maxErr, abs(got.fast - fast) / fast, abs(got.slow - slow) / slow)
            }
        }
        #expect(maxErr < 1e-12, "max relative SMA error \(maxErr)")
    }

    @Test func crossoverSignalsOnHandMadeSeries() {
        // fast 2 / slow 4 to keep the series readable.
        var p = SMACrossoverPolicy(instruments: 1, fast: 2, slow: 4)
        var ls = SMACrossoverPolicy(instruments: 1, fast: 2, slow: 4, allowShort: true)
        let prices: [Double] = [10, 10, 10, 11, 12, 13, 12, 10, 8, 8, 8, 8]
        // SMA2 / SMA4 from the 4th price: 10.5/10.25 up, 11.5/10.75 up, 12.5/11.5 up, 12.5/12 up,
        // 11/11.75 down, 9/10.75 down, 8/9.5 down, 8/8.5 down, 8/8 equal -> hold.
        let expected: [Double?] = [nil, nil, nil, 1, 1, 1, 1, 0, 0, 0, 0, nil]
        let expectedShort: [Double?] = [nil, nil, nil, 1, 1, 1, 1, -1, -1, -1, -1, nil]
        for (k, x) in prices.enumerated() {
            #expect(p.decide(Self.context(x)) == expected[k], "step \(k)")
            #expect(ls.decide(Self.context(x)) == expectedShort[k], "step \(k)")
        }
        #expect(p.name == "sma_2_4" && ls.name == "sma_2_4_ls")
        // Bad prices are ignored and leave the state alone.
        let before = p.averages(instrument: 0)!
        #expect(p.decide(Self.context(.nan)) == nil)
        #expect(p.decide(Self.context(-1)) == nil)
        #expect(p.averages(instrument: 0)! == before)
        #expect(p.decide(Self.context(5, instrument: 7)) == nil)
    }

    @Test func buyAndHoldBuysOnceWarmThenHolds() {
        var p = BuyAndHoldPolicy(instruments: 2, warmup: 3)
        #expect(p.decide(Self.context(10, updates: 1)) == nil)
        #expect(p.decide(Self.context(10, updates: 3)) == 1)
        #expect(p.decide(Self.context(10, updates: 4)) == 1)  // not filled yet: keep asking
        #expect(p.decide(Self.context(10, position: 5, updates: 5)) == nil)
        #expect(p.decide(Self.context(20, position: 0, updates: 6)) == nil)  // invested once: never again
        #expect(p.decide(Self.context(10, instrument: 1, updates: 3)) == 1)  // instruments independent
    }

    @Test func buyAndHoldEquityIsPriceRatioMinusCosts() {
        var g = Xoshiro256StarStar(seed: 12)
        var c = 50.0
        var closes = [Double]()
        for _ in 0..<500 {
            c *= (0.01 * g.nextGaussian()).exp
            closes.append(c)
        }
        for bps in [0.0, 10.0] {
            let r = BaselineBacktest.run(BuyAndHoldPolicy(), bars: Self.bars(closes), costBps: bps, initialCapital: 1)
            for (t, e) in r.equity.enumerated() {
                #expect(abs(e - (closes[t] / closes[0] - bps * 1e-4)) < 1e-12)
            }
            #expect(abs(r.totalReturn - (closes.last! / closes[0] - 1 - bps * 1e-4)) < 1e-12)
            #expect(r.trades == 1 && abs(r.turnover - 1) < 1e-12 && abs(r.costs - bps * 1e-4) < 1e-15)
            #expect(r.exposures.allSatisfy { abs($0 - 1) < 1e-9 } || bps > 0)
        }
    }

    @Test func costsTurnoverDrawdownAndSharpe() {
        // Flip long / flat every bar on a flat-then-falling series.
        let closes: [Double] = [100, 100, 100, 100, 90, 90]
        let targets: [Double?] = [1, 0, 1, 0, nil, 1]
        let r = BaselineBacktest.run(targets: targets, closes: closes, costBps: 100, initialCapital: 1000)
        // Bar 0: buy 10 units, cost 10 -> 990. Bar 1: sell 10 units at 100, cost 10 -> 980.
        // Bar 2: buy 9.8 units, cost 9.8 -> 970.2. Bar 3: sell 9.8, cost 9.8 -> 960.4.
        // Bar 4: hold flat. Bar 5: buy 960.4 / 90 units, cost 9.604 -> 950.796.
        let expected = [990, 980, 970.2, 960.4, 960.4, 950.796]
        for (e, x) in zip(r.equity, expected) { #expect(abs(e - x) < 1e-9) }
        #expect(abs(r.costs - (10 + 10 + 9.8 + 9.8 + 9.604)) < 1e-9)
        #expect(r.trades == 5)
        // Turnover is traded notional over pre-trade equity.
        #expect(abs(r.turnover - (1000.0 / 1000 + 1000.0 / 990 + 980.0 / 980 + 980.0 / 970.2 + 960.4 / 960.4)) < 1e-12)
        #expect(abs(r.maxDrawdown - (1 - 950.796 / 1000)) < 1e-12)
        #expect(r.sharpe < 0)
        // Without costs the same trades change nothing on a flat stretch.
        let free = BaselineBacktest.run(targets: targets, closes: closes, costBps: 0, initialCapital: 1000)
        #expect(free.equity.allSatisfy { $0 == 1000 } && free.sharpe == 0 && free.maxDrawdown == 0)
        // A long position through the drop loses 10 %.
        let long = BaselineBacktest.run(targets: [1, nil, nil, nil, nil, nil], closes: closes)
        #expect(abs(long.totalReturn + 0.1) < 1e-12 && abs(long.maxDrawdown - 0.1) < 1e-12)
    }

    @Test func smaBacktestMatchesVectorisedSignal() {
        // The policy path and the precomputed-target path agree: the backtest feeds the policy
        // exactly the closes, in order.
        var m = SyntheticMarket(scenario: .fastSwitching, instruments: 1, seed: 21)
        let (bars, _) = m.bars(count: 2000)
        let closes = bars.map(\.close)
        var targets = [Double?]()
        for t in closes.indices {
            if t < 29 { targets.append(nil); continue }
            let f = closes[(t - 9)...t].reduce(0, +) / 10, s = closes[(t - 29)...t].reduce(0, +) / 30
            targets.append(f > s ? 1 : f < s ? 0 : nil)
        }
        let a = BaselineBacktest.run(SMACrossoverPolicy(), bars: bars, costBps: 5)
        let b = BaselineBacktest.run(targets: targets, closes: closes, costBps: 5)
        #expect(a.trades > 10)
        #expect(a.trades == b.trades)
        for (x, y) in zip(a.equity, b.equity) { #expect(abs(x - y) <= 1e-9 * y) }
    }
}

extension Double {
    fileprivate var exp: Double { Foundation.exp(self) }
}
import Foundation
