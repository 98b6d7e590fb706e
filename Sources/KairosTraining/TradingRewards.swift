// The accounting every trading episode shares (environment, evaluation, baselines) and the four
// agents' rewards. Formulas: docs/agents.md, "Accounting" and "Rewards".
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import Foundation

/// What one bar of an account did.
public struct TradingStep: Sendable, Hashable {
    /// |target - held exposure before the trade|.
    public var turnover: Double
    /// Fraction of equity paid: rate * turnover.
    public var cost: Double
    /// Net simple return of the bar: (1 - cost)(1 + target * r) - 1, r = c_{t+1}/c_t - 1.
    public var netReturn: Double
    /// Drawdown (1 - equity / peak) before and after the bar.
    public var drawdownBefore: Double
    public var drawdownAfter: Double
    /// Equity reached 0 or below: the account is ruined (episode terminated).
    public var ruined: Bool
}

/// A one-instrument account holding a target position (signed fraction of equity) set at bar
/// closes; the position's PnL comes from the next bar's return.
///
/// Per bar, with target p set at close c_t, held (drifted) exposure h and next close c_{t+1}:
///
///     turnover = |p - h|,   cost = rate * turnover
///     r = c_{t+1} / c_t - 1
///     E_{t+1} = E_t (1 - cost) (1 + p r)
///     h' = p (1 + r) / (1 + p r)        (units held, re-expressed as a fraction of equity)
///
/// so always-long-1 compounds exactly like buy-and-hold (h' = 1, no rebalancing trades), while a
/// constant 0.5 or 2 pays for the small trades that keep the fraction constant.
///
/// Invariants: equity > 0 unless `ruined`; peak >= equity; entryPrice is the close at which the
/// current non-zero target was set (0 when flat). O(1), no allocation.
public struct TradingAccount: Sendable, Hashable {
    public private(set) var equity = 1.0
    public private(set) var peak = 1.0
    /// Position decided at the last close (what the observation shows).
    public private(set) var target = 0.0
    /// Exposure actually held now (the target after the bar's drift).
    public private(set) var held = 0.0
    public private(set) var entryPrice = 0.0
    public private(set) var ruined = false

    public init() {}

    /// Sets the target at close `price` and earns the move to `nextPrice`.
    public mutating func step(target p: Double, price c: Double, nextPrice c1: Double, costRate: Double) -> TradingStep {
        let turnover = abs(p - held)
        let cost = costRate * turnover
        let r = c1 / c - 1
        let gross = 1 + p * r
        var growth = (1 - cost) * gross
        let ddBefore = 1 - equity / peak
        if p != target { entryPrice = p == 0 ? 0 : c }
        target = p
        if growth <= 0 || !growth.isFinite {
            growth = 0
            ruined = true
        }
        equity *= growth
        if equity > peak { peak = equity }
        held = ruined ? 0 : p * (1 + r) / gross
        let ddAfter = 1 - equity / peak
        return TradingStep(
            turnover: turnover, cost: cost, netReturn: growth - 1, drawdownBefore: ddBefore,
            drawdownAfter: ddAfter, ruined: ruined)
    }

    /// Unrealized PnL in bps of the current target at `price` (see `AgentObservation`).
    @inlinable
    public func unrealizedPnLBps(price: Double) -> Double {
        AgentObservation.unrealizedPnLBps(position: target, entryPrice: entryPrice, price: price)
    }
}

/// Coefficients of the rewards. The defaults are the ones training uses (docs/agents.md).
public struct TradingRewardConfig: Sendable, Hashable, Codable {
    /// Weight of a drawdown increase (conservative).
    public var lambdaDrawdown: Double
    /// Weight of the squared downside return (conservative).
    public var lambdaDownside: Double
    /// EMA rate eta of the differential Sharpe ratio's moments A, B (balanced).
    public var eta: Double
    /// B_0, the prior second moment of the per-bar return (A_0 = 0), so the first D_t are
    /// measured against a sane volatility instead of dividing by ~0.
    public var sharpePriorVariance: Double
    /// Slope k of the contrarian bonus per sigma of stretch beyond z0.
    public var contrarianSlope: Double
    /// Stretch z0 (in sigmas of the z-score) where the contrarian bonus starts.
    public var contrarianThreshold: Double
    /// Every reward is multiplied by this (learners like O(1) rewards; the formulas are in
    /// per-bar return units, ~1e-2).
    public var scale: Double

    public init(
        lambdaDrawdown: Double = 1, lambdaDownside: Double = 20, eta: Double = 0.01,
        sharpePriorVariance: Double = 1e-4, contrarianSlope: Double = 1, contrarianThreshold: Double = 1,
        scale: Double = 1
    ) {
        self.lambdaDrawdown = lambdaDrawdown
        self.lambdaDownside = lambdaDownside
        self.eta = eta
        self.sharpePriorVariance = sharpePriorVariance
        self.contrarianSlope = contrarianSlope
        self.contrarianThreshold = contrarianThreshold
        self.scale = scale
    }
}

extension TradingRewardConfig {
    /// The training default for an agent: the coefficients above, and `scale` 100 for the
    /// return-based rewards (per-bar returns in percent, so the reward's standard deviation is
    /// O(1) like the differential Sharpe ratio's). A positive scale leaves the optimal policy
    /// unchanged; it only keeps value targets and gradients in a comfortable range.
    public static func training(_ agent: AgentKind) -> TradingRewardConfig {
        TradingRewardConfig(scale: agent.reward == .differentialSharpe ? 1 : 100)
    }
}

/// Per-episode state of a reward (the differential Sharpe ratio's moments; the others are
/// stateless beyond the account). O(1), no allocation.
public struct TradingRewardState: Sendable, Hashable {
    /// EMA of R (A_t).
    public private(set) var a: Double
    /// EMA of R^2 (B_t).
    public private(set) var b: Double

    public init(config: TradingRewardConfig) {
        a = 0
        b = config.sharpePriorVariance
    }

    /// The reward of one bar, before `config.scale`.
    /// - Parameters:
    ///   - position: the target held over the bar (p_t).
    ///   - zScore: the close's z-score vs its rolling mean at the bar where p_t was set.
    public mutating func reward(
        _ kind: TradingRewardKind, config: TradingRewardConfig, step: TradingStep, position: Double, zScore: Double
    ) -> Double {
        let r = step.netReturn
        switch kind {
        case .drawdownPenalised:
            let ddIncrease = max(0, step.drawdownAfter - step.drawdownBefore)
            let down = min(r, 0)
            return r - config.lambdaDrawdown * ddIncrease - config.lambdaDownside * down * down
        case .logReturn:
            // Ruin (R = -1) would be -inf; a finite floor keeps the learner's arithmetic finite.
            return log(max(1 + r, 1e-12))
        case .differentialSharpe:
            return differentialSharpe(r, eta: config.eta)
        case .contrarian:
            let s: Double = position > 0 ? 1 : (position < 0 ? -1 : 0)
            return r * (1 + config.contrarianSlope * max(0, -s * zScore - config.contrarianThreshold))
        }
    }

    /// D_t = (B_{t-1} dA - A_{t-1} dB / 2) / (B_{t-1} - A_{t-1}^2)^{3/2}, dA = R - A_{t-1},
    /// dB = R^2 - B_{t-1}; then A_t = A_{t-1} + eta dA, B_t = B_{t-1} + eta dB. 0 when the
    /// variance estimate is not positive.
    public mutating func differentialSharpe(_ r: Double, eta: Double) -> Double {
        let dA = r - a
        let dB = r * r - b
        let v = b - a * a
        let d = v > 1e-18 ? (b * dA - 0.5 * a * dB) / (v * v.squareRoot()) : 0
        a += eta * dA
        b += eta * dB
        return d
    }
}
