/// Anything that produces ticks in time order: the synthetic market, a file of bars, a recording.
public protocol TickSource {
    /// Fills `tick` with the next tick; false when the source is exhausted.
    mutating func nextTick(into tick: inout Tick) -> Bool
}

/// Replays bars as one tick per bar at its close, with a symmetric spread around the close.
public struct BarTickSource: TickSource {
    public let bars: [Bar]
    public let instrument: InstrumentID
    public let spreadBps: Double
    private var index = 0
    public init(bars: [Bar], instrument: InstrumentID = InstrumentID(0), spreadBps: Double = 1) {
        self.bars = bars
        self.instrument = instrument
        self.spreadBps = spreadBps
    }
    public mutating func nextTick(into tick: inout Tick) -> Bool {
        guard index < bars.count else { return false }
        let b = bars[index]
        let half = b.close * spreadBps * 0.5e-4
        tick = Tick(
            instrument: instrument, seq: UInt64(index + 1), exchangeTime: b.timestamp, receiveTime: b.timestamp,
            bid: b.close - half, ask: b.close + half, last: b.close, lastSize: Float(b.volume))
        index += 1
        return true
    }
}
