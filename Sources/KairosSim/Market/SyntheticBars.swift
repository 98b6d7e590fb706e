import KairosStrategies
import KairosIO
import KairosCore

extension BarAggregator {
    /// `count` bars of one instrument of the synthetic market as the engine would build them from
    /// its ticks, with the true regime at each bar's close. The market is advanced for every
    /// instrument (ticks interleave), so bars of instrument 0 of an 8-instrument market are those
    /// the engine sees for SYN0 in the demo. Timestamps are re-stamped on the scenario's bar clock
    /// (`startTimeNs + n · barIntervalNs`, daily for the presets) so statistics annualise as the
    /// model intends (one step = one trading day); prices, ranges and volumes are the tick bars'.
    public static func synthetic(
        market: SyntheticMarket, instrument: Int = 0, count: Int, ticksPerBar: Int = 1
    ) -> (bars: [Bar], regimes: [Regime]) {
        let n = market.instruments
        var source = SyntheticTickSource(market: market, limit: count * ticksPerBar * n)
        var r = bars(of: &source, instrument: InstrumentID(instrument), ticksPerBar: ticksPerBar) { $0.lastRegime }
        let sc = market.scenario
        for k in r.bars.indices { r.bars[k].timestamp = sc.startTimeNs &+ Int64(k) &* sc.barIntervalNs }
        return (r.bars, r.labels)
    }
}
