import KairosCore

/// Trading costs, charged on turnover (the absolute change of the position as a fraction of
/// equity) at the bar close where the position changes.
public struct TradingCosts: Sendable, Hashable, Codable {
    /// Fees and half-spread, bps of traded notional.
    public var costBps: Double
    /// Slippage (market impact), bps of traded notional.
    public var slippageBps: Double
    public init(costBps: Double = 1, slippageBps: Double = 1) {
        precondition(costBps >= 0 && slippageBps >= 0, "costs must be >= 0")
        self.costBps = costBps
        self.slippageBps = slippageBps
    }
    /// Fraction of equity lost per unit of turnover: (costBps + slippageBps) * 1e-4.
    @inlinable public var rate: Double { (costBps + slippageBps) * 1e-4 }
    public static let zero = TradingCosts(costBps: 0, slippageBps: 0)
}

/// The reward families of the four agents (`AgentKind.reward`).
public enum TradingRewardKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// conservative: R - lambdaDrawdown * max(0, DD_t - DD_{t-1}) - lambdaDownside * min(R, 0)^2.
    case drawdownPenalised
    /// aggressive: log(1 + R).
    case logReturn
    /// balanced: the differential Sharpe ratio D_t (Moody & Saffell).
    case differentialSharpe
    /// contrarian: R * (1 + k * max(0, -sign(p) z - z0)).
    case contrarian
}
