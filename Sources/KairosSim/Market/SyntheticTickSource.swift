import KairosCore
import KairosStrategies
import KairosIO

/// The synthetic market as a finite tick source (`limit` ticks), remembering the true regime of
/// the latest tick.
public struct SyntheticTickSource: TickSource {
    public var market: SyntheticMarket
    public var remaining: Int
    public private(set) var lastRegime: Regime = .sideways
    public init(market: SyntheticMarket, limit: Int) {
        self.market = market
        remaining = limit
    }
    public mutating func nextTick(into tick: inout Tick) -> Bool {
        guard remaining > 0 else { return false }
        remaining -= 1
        lastRegime = market.nextTick(into: &tick)
        return true
    }
}
