// Online performance and regret bookkeeping of the meta-agent: per agent (and the ensemble) and
// per regime, shadow equity, rolling return, Sharpe and drawdown; cumulative regret against the
// best single agent and the best agent per regime in hindsight.
import KairosCore
import Foundation

/// Per-agent performance, overall and per regime, updated once per step.
///
/// Row `i` in 0..<agents is an agent; callers put the ensemble in the last row. Returns are
/// additive per-step returns (log returns, or P&L per unit capital), so equity is their running
/// sum and drawdown is peak equity minus equity.
///
/// Implementation Notes: every array is sized at init (agents × regimes, agents × window);
/// `record` is O(1) per (agent, step) with Welford's update for mean and variance, no allocation.
public struct MetaPerformance: Codable, Sendable {
    public let agents: Int
    public let window: Int
    public static let regimes = Regime.allCases.count

    public var equity: [Double]
    public var peak: [Double]
    public var maxDrawdown: [Double]
    public var rollingSum: [Double]
    public var ring: [Double]
    public var ringHead = 0
    public var ringFilled = 0

    /// Index r * agents + i: regime r, agent i.
    public var regimeCount: [Double]
    public var regimeMean: [Double]
    public var regimeM2: [Double]
    public var regimeEquity: [Double]
    public var regimePeak: [Double]
    public var regimeMaxDrawdown: [Double]

    public init(agents: Int, window: Int) {
        precondition(agents >= 1 && window >= 1)
        self.agents = agents
        self.window = window
        equity = Array(repeating: 0, count: agents)
        peak = equity
        maxDrawdown = equity
        rollingSum = equity
        ring = Array(repeating: 0, count: agents * window)
        let n = agents * Self.regimes
        regimeCount = Array(repeating: 0, count: n)
        regimeMean = regimeCount
        regimeM2 = regimeCount
        regimeEquity = regimeCount
        regimePeak = regimeCount
        regimeMaxDrawdown = regimeCount
    }

    /// Records one step: `returns(i)` for every row, attributed to regime `r`.
    public mutating func record(regime r: Int, _ returns: (Int) -> Double) {
        let slot = ringHead
        for i in 0..<agents {
            let x = returns(i)
            equity[i] += x
            if equity[i] > peak[i] { peak[i] = equity[i] }
            if peak[i] - equity[i] > maxDrawdown[i] { maxDrawdown[i] = peak[i] - equity[i] }
            let k = i * window + slot
            rollingSum[i] += x - (ringFilled == window ? ring[k] : 0)
            ring[k] = x
            let j = r * agents + i
            regimeCount[j] += 1
            let d = x - regimeMean[j]
            regimeMean[j] += d / regimeCount[j]
            regimeM2[j] += d * (x - regimeMean[j])
            regimeEquity[j] += x
            if regimeEquity[j] > regimePeak[j] { regimePeak[j] = regimeEquity[j] }
            if regimePeak[j] - regimeEquity[j] > regimeMaxDrawdown[j] { regimeMaxDrawdown[j] = regimePeak[j] - regimeEquity[j] }
        }
        ringHead = slot + 1 == window ? 0 : slot + 1
        if ringFilled < window { ringFilled += 1 }
    }

    /// Mean return over the last `window` steps (fewer at the start).
    public func rollingReturn(_ i: Int) -> Double { ringFilled == 0 ? 0 : rollingSum[i] / Double(ringFilled) }

    /// Per-step Sharpe ratio (mean / standard deviation, not annualised) of agent `i` over the
    /// steps attributed to regime `r`; 0 with fewer than two steps or zero variance.
    public func sharpe(_ i: Int, regime r: Int) -> Double {
        let j = r * agents + i
        guard regimeCount[j] >= 2 else { return 0 }
        let sd = (regimeM2[j] / (regimeCount[j] - 1)).squareRoot()
        return sd > 0 ? regimeMean[j] / sd : 0
    }
    public func drawdown(_ i: Int) -> Double { peak[i] - equity[i] }
    public func steps(_ i: Int, regime r: Int) -> Int { Int(regimeCount[r * agents + i]) }
    public func equity(_ i: Int, regime r: Int) -> Double { regimeEquity[r * agents + i] }
    public func maxDrawdown(_ i: Int, regime r: Int) -> Double { regimeMaxDrawdown[r * agents + i] }
}

/// Cumulative regret of the ensemble, online: against the best single agent in hindsight
/// (max_i Σ_t r_t,i − Σ_t g_t) and against the best agent of each regime in hindsight
/// (Σ_r max_i Σ_{t in r} r_t,i − Σ_t g_t), where g_t is the ensemble's return after switching
/// costs. Regime attribution is the decision's most likely regime.
///
/// Implementation Notes: K + 4K running sums; `record` is O(K · regimes), no allocation.
public struct MetaRegret: Codable, Sendable {
    public var agentTotals: [Double]
    public var regimeTotals: [Double]
    public var ensembleTotal = 0.0
    public private(set) var vsBestAgent = 0.0
    public private(set) var vsBestPerRegime = 0.0

    public init(agents k: Int) {
        agentTotals = Array(repeating: 0, count: k)
        regimeTotals = Array(repeating: 0, count: k * MetaPerformance.regimes)
    }

    public mutating func record(regime r: Int, ensemble g: Double, _ returns: (Int) -> Double) {
        let k = agentTotals.count
        for i in 0..<k {
            let x = returns(i)
            agentTotals[i] += x
            regimeTotals[r * k + i] += x
        }
        ensembleTotal += g
        var best = -Double.infinity
        for i in 0..<k where agentTotals[i] > best { best = agentTotals[i] }
        vsBestAgent = best - ensembleTotal
        var perRegime = 0.0
        for q in 0..<MetaPerformance.regimes {
            var b = -Double.infinity
            for i in 0..<k where regimeTotals[q * k + i] > b { b = regimeTotals[q * k + i] }
            perRegime += b
        }
        vsBestPerRegime = perRegime - ensembleTotal
    }
    /// The agent with the largest total so far (the best single agent in hindsight).
    public var bestAgent: Int { kairosArgmax(agentTotals) }
}
