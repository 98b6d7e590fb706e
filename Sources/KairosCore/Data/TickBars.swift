// Bars the engine builds from one instrument's tick stream, and the same bars built offline, so a
// model trained on them sees in the engine exactly the inputs it was trained on.

/// Aggregates one instrument's ticks into OHLCV bars of `ticksPerBar` ticks each, by mid price.
///
/// A bar closes on its last tick, so the engine can act at that tick's price (the close): no
/// bar of delay. open = the previous bar's close (the first bar's first mid), high / low = the
/// extremes of open and every mid in the bar, close = the last mid, volume = Σ last_size,
/// timestamp = the exchange time of the closing tick.
///
/// Implementation Notes: O(1) per tick, no allocation; `bars(of:)` runs the same `add` over a
/// whole stream, so online and offline bars are equal bit for bit (tested).
public struct TickBarBuilder: Sendable {
    public let ticksPerBar: Int
    private var count = 0
    private var open = 0.0, high = 0.0, low = 0.0, volume = 0.0
    private var previousClose: Double? = nil

    public init(ticksPerBar: Int) {
        precondition(ticksPerBar >= 1)
        self.ticksPerBar = ticksPerBar
    }

    /// Feeds one tick; returns the bar it closes, if it is the bar's last tick. Ticks without a
    /// positive finite mid are ignored (the engine validates ticks before policies see them).
    public mutating func add(_ tick: Tick) -> Bar? {
        let mid = (tick.bid + tick.ask) * 0.5
        guard mid.isFinite, mid > 0 else { return nil }
        let size = tick.last_size.isFinite && tick.last_size > 0 ? Double(tick.last_size) : 0
        if count == 0 {
            open = previousClose ?? mid
            high = max(open, mid)
            low = min(open, mid)
            volume = 0
        } else {
            high = max(high, mid)
            low = min(low, mid)
        }
        volume += size
        count += 1
        guard count == ticksPerBar else { return nil }
        count = 0
        previousClose = mid
        return Bar(timestamp: tick.ts_exchange_ns, open: open, high: high, low: low, close: mid, volume: volume)
    }

    /// The bars of `instrument` in a tick stream (other instruments' ticks are skipped), with the
    /// value `label` returned for the closing tick of each bar (e.g. the synthetic market's true
    /// regime).
    public static func bars<S: TickSource, L>(
        of source: inout S, instrument: InstrumentID, ticksPerBar: Int, label: (S) -> L
    ) -> (bars: [Bar], labels: [L]) {
        var b = TickBarBuilder(ticksPerBar: ticksPerBar)
        var bars: [Bar] = [], labels: [L] = []
        var t = Tick()
        while source.nextTick(into: &t) {
            guard t.instrument == instrument.rawValue, let bar = b.add(t) else { continue }
            bars.append(bar)
            labels.append(label(source))
        }
        return (bars, labels)
    }
}
