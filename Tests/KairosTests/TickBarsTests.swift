import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct TickBarsTests {
    func tick(_ mid: Double, size: Float, t: Int64, instrument: UInt16 = 0) -> Tick {
        var k = Tick(instrument: InstrumentID(instrument), seq: 0, exchangeTime: t, receiveTime: 0, bid: mid - 0.01, ask: mid + 0.01)
        k.last_size = size
        return k
    }

    @Test func barsCloseOnTheirLastTickWithOpenAtThePreviousClose() {
        var b = BarAggregator(ticksPerBar: 3)
        #expect(b.add(tick(100, size: 1, t: 1)) == nil)
        #expect(b.add(tick(102, size: 2, t: 2)) == nil)
        let first = b.add(tick(101, size: 3, t: 3))
        #expect(first == Bar(timestamp: 3, open: 100, high: 102, low: 100, close: 101, volume: 6))
        #expect(b.add(tick(99, size: 1, t: 4)) == nil)
        #expect(b.add(tick(100.5, size: 1, t: 5)) == nil)
        let second = b.add(tick(100, size: 0, t: 6))
        #expect(second == Bar(timestamp: 6, open: 101, high: 101, low: 99, close: 100, volume: 2))
    }

    @Test func oneTickBarsSpanThePreviousCloseAndTheMid() {
        var b = BarAggregator(ticksPerBar: 1)
        #expect(b.add(tick(50, size: 1, t: 1)) == Bar(timestamp: 1, open: 50, high: 50, low: 50, close: 50, volume: 1))
        #expect(b.add(tick(49, size: 2, t: 2)) == Bar(timestamp: 2, open: 50, high: 50, low: 49, close: 49, volume: 2))
    }

    /// The offline builder is the online one run over the stream: same bars, same labels.
    @Test func syntheticBarsEqualWhatTheEngineBuildsOnline() {
        let market = SyntheticMarket(scenario: .fastSwitching, instruments: 3, seed: 11)
        let offline = BarAggregator.synthetic(market: market, instrument: 1, count: 2_000, ticksPerBar: 2)
        #expect(offline.bars.count == 2_000 && offline.regimes.count == 2_000)
        var online = BarAggregator(ticksPerBar: 2)
        var source = SyntheticTickSource(market: market, limit: 2_000 * 2 * 3)
        var t = Tick()
        var bars: [Bar] = [], regimes: [Regime] = []
        while source.nextTick(into: &t) {
            guard t.instrument == 1, let bar = online.add(t) else { continue }
            bars.append(bar)
            regimes.append(source.lastRegime)
        }
        // Same bars but for the timestamps, which the offline form puts on the scenario's bar clock.
        #expect(bars.map { [$0.open, $0.high, $0.low, $0.close, $0.volume] } == offline.bars.map { [$0.open, $0.high, $0.low, $0.close, $0.volume] })
        #expect(offline.bars[1].timestamp - offline.bars[0].timestamp == MarketScenario.fastSwitching.barIntervalNs)
        #expect(regimes == offline.regimes)
        #expect(Set(regimes).count > 1)
    }
}
