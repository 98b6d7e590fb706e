// The four specialised agents of issue 5. Each one is the same kind of network trained against a
// different reward (TradingRewards.swift) with a different leverage cap; docs/agents.md.
import KairosCore


/// Which specialised agent: its leverage cap, its reward and its name.
///
/// Actions are discrete: action `a` in `0 ..< actionCount` means the target position
/// `(a - 1) * leverageCap` as a signed fraction of equity, so 0 = short the cap, 1 = flat,
/// 2 = long the cap.
///
/// Raw values (the names) are stable: they appear in files, model metadata and CLI flags.
public enum AgentKind: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// Return minus drawdown-increase and downside-variance penalties; cap 0.5.
    case conservative
    /// log(1 + return); cap 2.
    case aggressive
    /// Differential Sharpe ratio (Moody & Saffell); cap 1.
    case balanced
    /// Profit weighted up when the position leans against a stretched move; cap 1.
    case contrarian

    /// Number of discrete actions: short, flat, long.
    public static let actionCount = 3

    /// Largest absolute target position, as a fraction of equity.
    public var leverageCap: Double {
        switch self {
        case .conservative: 0.5
        case .aggressive: 2
        case .balanced: 1
        case .contrarian: 1
        }
    }

    /// The largest `leverageCap` of any agent (the aggressive one's 2): the ensemble's exposure
    /// cap when every agent is loaded.
    public static var largestLeverageCap: Double { allCases.map(\.leverageCap).max()! }

    public var name: String { rawValue }
    public var description: String { rawValue }

    /// Which reward the agent is trained on.
    public var reward: TradingRewardKind {
        switch self {
        case .conservative: .drawdownPenalised
        case .aggressive: .logReturn
        case .balanced: .differentialSharpe
        case .contrarian: .contrarian
        }
    }

    /// Target position of an action: `(action - 1) * leverageCap`. Actions outside 0...2 are a
    /// programming error (precondition).
    @inlinable
    public func targetPosition(action: Int32) -> Double {
        precondition(action >= 0 && action < 3, "action out of range")
        return Double(action &- 1) * leverageCap
    }

    /// Regime sampling weights for episode starts during training (bull, bear, sideways,
    /// volatile): the contrarian sees sideways stretches three times as often; the others
    /// sample uniformly (nil).
    public var defaultRegimeWeights: [Double]? {
        self == .contrarian ? [1, 1, 3, 1] : nil
    }
}
