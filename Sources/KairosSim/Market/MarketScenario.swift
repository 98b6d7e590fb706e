// The parameters of the synthetic regime-switching market. They are the TRUE generating
// parameters: a regime detector's "oracle" runs the forward filter with exactly these values
// (see docs/synthetic-market.md for the equations).
import KairosCore
import KairosStrategies
import KairosIO


/// How one regime moves the log mid price per step.
///
/// With x the log mid price, s_t the regime of step t and m the reversion level (see
/// `ReversionAnchor`), one step draws
///
///     r_t = x_t - x_{t-1} = mu + kappa * (m_{t-1} - x_{t-1}) + sigma * eps_t,   eps_t ~ N(0, 1)
///
/// so r_t is Gaussian given the regime and the observed past. `kappa` is 0 except for sideways.
public struct RegimeParameters: Codable, Sendable, Hashable {
    /// Drift of the log price per step.
    public var mu: Double
    /// Standard deviation of the log-price innovation per step (> 0).
    public var sigma: Double
    /// Mean-reversion speed towards the reversion level, per step, in [0, 1). 0 = random walk.
    public var kappa: Double
    /// Quote-size lean in (-1, 1): bid sizes scale by (1 + lean), ask sizes by (1 - lean), and a
    /// trade prints at the ask with probability (1 + lean) / 2. Positive = buying pressure.
    public var sizeImbalance: Double
    /// Multiplier on the scenario's mean bar volume in this regime (> 0).
    public var volumeMultiplier: Double

    public init(mu: Double, sigma: Double, kappa: Double = 0, sizeImbalance: Double = 0, volumeMultiplier: Double = 1) {
        self.mu = mu
        self.sigma = sigma
        self.kappa = kappa
        self.sizeImbalance = sizeImbalance
        self.volumeMultiplier = volumeMultiplier
    }
}

/// The level m that `kappa` pulls the log price towards.
public enum ReversionAnchor: Codable, Sendable, Hashable {
    /// m is an exponential moving average of the OBSERVED log mid price:
    /// m_0 = x_0, m_t = m_{t-1} + smoothing * (x_t - m_{t-1}). Because m is a function of the
    /// observations only, r_t given (s_t, past prices) is exactly Gaussian and the regime chain
    /// plus this emission is an exact 4-state (autoregressive) hidden Markov model: the oracle
    /// forward filter recomputes m from the prices it sees. The presets use this.
    case observedEMA(smoothing: Double)
    /// m = x_{t-1} at the step where the current regime was entered (m_0 = x_0). Literal "level
    /// anchored at regime entry", but m then depends on the hidden entry time, so an exact filter
    /// needs the state (regime, entry time), not just the regime. Kept for experiments.
    case regimeEntry
}

/// A complete, serialisable description of a synthetic market.
///
/// Invariants (checked by `validate()`, which `SyntheticMarket.init` calls): 4 regimes indexed
/// by `Regime.rawValue`; `transition` is 4x4, row = regime of step t-1, column = regime of step
/// t, entries >= 0, each row sums to 1 (within 1e-9); sigma > 0, kappa in [0, 1),
/// |sizeImbalance| < 1; positive spread, sizes, volumes and intervals; barSubsteps >= 1.
public struct MarketScenario: Codable, Sendable, Hashable {
    public var name: String
    /// Parameters per regime, indexed by `Regime.rawValue`.
    public var regimes: [RegimeParameters]
    /// Row-stochastic regime transition matrix per step, indexed [from.rawValue][to.rawValue].
    public var transition: [[Double]]
    public var anchor: ReversionAnchor
    /// Quoted spread in basis points of the mid: bid = mid (1 - h), ask = mid (1 + h), h = bps/2e4.
    public var spreadBps: Double
    /// Mean quoted size per side (units) before the regime's imbalance lean.
    public var meanQuoteSize: Double
    /// Mean bar volume (units) before the regime's volume multiplier.
    public var meanBarVolume: Double
    /// Exchange-timestamp spacing between consecutive ticks of the whole stream, ns.
    public var tickIntervalNs: Int64
    /// Timestamp spacing between consecutive bars of one instrument, ns.
    public var barIntervalNs: Int64
    /// Exchange timestamp of the first tick and of the first bar, ns since the Unix epoch.
    public var startTimeNs: Int64
    /// Brownian-bridge sub-steps per bar used for its high and low (the close is unaffected).
    public var barSubsteps: Int

    public init(
        name: String, regimes: [RegimeParameters], transition: [[Double]],
        anchor: ReversionAnchor = .observedEMA(smoothing: 0.05), spreadBps: Double, meanQuoteSize: Double,
        meanBarVolume: Double, tickIntervalNs: Int64, barIntervalNs: Int64 = 86_400_000_000_000,
        startTimeNs: Int64 = MarketScenario.defaultStartTimeNs, barSubsteps: Int = 8
    ) {
        self.name = name
        self.regimes = regimes
        self.transition = transition
        self.anchor = anchor
        self.spreadBps = spreadBps
        self.meanQuoteSize = meanQuoteSize
        self.meanBarVolume = meanBarVolume
        self.tickIntervalNs = tickIntervalNs
        self.barIntervalNs = barIntervalNs
        self.startTimeNs = startTimeNs
        self.barSubsteps = barSubsteps
    }

    /// 2024-01-01T00:00:00Z.
    public static let defaultStartTimeNs: Int64 = 1_704_067_200_000_000_000

    /// The parameters of one regime.
    public subscript(regime: Regime) -> RegimeParameters { regimes[regime.rawValue] }

    /// P(s_t = to | s_{t-1} = from).
    public func transitionProbability(from: Regime, to: Regime) -> Double {
        transition[from.rawValue][to.rawValue]
    }

    /// Expected number of consecutive steps spent in `regime` once entered: 1 / (1 - p_ii).
    public func expectedDuration(_ regime: Regime) -> Double {
        1 / (1 - transition[regime.rawValue][regime.rawValue])
    }

    /// The stationary distribution pi (pi P = pi, sum 1), indexed by `Regime.rawValue`. The
    /// generator draws the initial regime s_0 from it, so it is also the oracle's prior.
    /// Solved exactly (Gaussian elimination with partial pivoting on (P^T - I) with one row
    /// replaced by the normalisation), not by power iteration, which converges slowly for
    /// persistent chains.
    public func stationaryDistribution() -> [Double] {
        let n = Regime.allCases.count
        // A pi = b with A = P^T - I, last row replaced by all ones, b = e_n.
        var a = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
        for i in 0..<n {
            for j in 0..<n { a[i][j] = transition[j][i] - (i == j ? 1 : 0) }
        }
        for j in 0..<n { a[n - 1][j] = 1 }
        a[n - 1][n] = 1
        for col in 0..<n {
            var pivot = col
            for r in col..<n where abs(a[r][col]) > abs(a[pivot][col]) { pivot = r }
            a.swapAt(col, pivot)
            let p = a[col][col]
            for k in col...n { a[col][k] /= p }
            for r in 0..<n where r != col {
                let f = a[r][col]
                if f != 0 { for k in col...n { a[r][k] -= f * a[col][k] } }
            }
        }
        return (0..<n).map { a[$0][n] }
    }

    public struct ValidationError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Throws if an invariant listed on the type is violated.
    public func validate() throws {
        func fail(_ s: String) -> ValidationError { ValidationError(description: "scenario \(name): \(s)") }
        let n = Regime.allCases.count
        guard regimes.count == n else { throw fail("needs \(n) regimes, has \(regimes.count)") }
        guard transition.count == n, transition.allSatisfy({ $0.count == n }) else {
            throw fail("transition must be \(n)x\(n)")
        }
        for (i, row) in transition.enumerated() {
            guard row.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw fail("transition row \(i) has a negative entry") }
            let sum = row.reduce(0, +)
            guard abs(sum - 1) <= 1e-9 else { throw fail("transition row \(i) sums to \(sum)") }
        }
        for (i, p) in regimes.enumerated() {
            let r = Regime(rawValue: i)!
            guard p.mu.isFinite else { throw fail("\(r) mu not finite") }
            guard p.sigma > 0, p.sigma.isFinite else { throw fail("\(r) sigma must be > 0") }
            guard p.kappa >= 0, p.kappa < 1 else { throw fail("\(r) kappa must be in [0, 1)") }
            guard abs(p.sizeImbalance) < 1 else { throw fail("\(r) |sizeImbalance| must be < 1") }
            guard p.volumeMultiplier > 0 else { throw fail("\(r) volumeMultiplier must be > 0") }
        }
        if case .observedEMA(let l) = anchor, !(l > 0 && l <= 1) { throw fail("EMA smoothing must be in (0, 1]") }
        guard spreadBps > 0, spreadBps < 10_000 else { throw fail("spreadBps must be in (0, 10000)") }
        guard meanQuoteSize > 0, meanBarVolume > 0 else { throw fail("sizes must be > 0") }
        guard tickIntervalNs > 0, barIntervalNs > 0 else { throw fail("intervals must be > 0") }
        guard barSubsteps >= 1 else { throw fail("barSubsteps must be >= 1") }
    }

    /// Builds a transition matrix from expected durations d_i (steps) and exit weights:
    /// p_ii = 1 - 1/d_i, p_ij = (1/d_i) * w_ij / sum_{k != i} w_ik. Diagonal weights are ignored.
    public static func transitionMatrix(expectedDurations d: [Double], exitWeights w: [[Double]]) -> [[Double]] {
        let n = d.count
        precondition(n == w.count && d.allSatisfy { $0 >= 1 })
        return (0..<n).map { i in
            let exitTotal = (0..<n).reduce(0.0) { $1 == i ? $0 : $0 + w[i][$1] }
            return (0..<n).map { j in i == j ? 1 - 1 / d[i] : (1 / d[i]) * w[i][j] / exitTotal }
        }
    }

    /// Where a regime tends to go when it ends (rows: from bull, bear, sideways, volatile).
    /// Shared by the presets: bull mostly cools into sideways, bear often passes through
    /// volatile, volatile tends to resolve into bear or sideways.
    public static let presetExitWeights: [[Double]] = [
        [0, 0.3, 0.5, 0.2],
        [0.3, 0, 0.4, 0.3],
        [0.4, 0.3, 0, 0.3],
        [0.3, 0.4, 0.3, 0],
    ]

    /// Daily-like steps (one step = one bar = one trading day when used with `bars`):
    /// annualised with 252 steps, bull ~ +20 %/yr at 12.7 % vol, bear ~ -25 %/yr at 28.6 % vol,
    /// sideways flat at 9.5 % vol reverting with kappa 0.1, volatile flat at 47.6 % vol.
    public static let dailyRegimes: [RegimeParameters] = [
        RegimeParameters(mu: 0.0008, sigma: 0.008, kappa: 0, sizeImbalance: 0.25, volumeMultiplier: 1.0),
        RegimeParameters(mu: -0.0010, sigma: 0.018, kappa: 0, sizeImbalance: -0.25, volumeMultiplier: 1.4),
        RegimeParameters(mu: 0, sigma: 0.006, kappa: 0.10, sizeImbalance: 0, volumeMultiplier: 0.8),
        RegimeParameters(mu: 0, sigma: 0.030, kappa: 0, sizeImbalance: 0, volumeMultiplier: 2.0),
    ]

    /// Expected regime durations of a few hundred steps (bull 400, bear 200, sideways 300,
    /// volatile 150): regimes are long enough for a filter to lock on.
    public static let persistent = MarketScenario(
        name: "persistent", regimes: dailyRegimes,
        transition: transitionMatrix(expectedDurations: [400, 200, 300, 150], exitWeights: presetExitWeights),
        anchor: .observedEMA(smoothing: 0.05), spreadBps: 5, meanQuoteSize: 1_000, meanBarVolume: 1_000_000,
        tickIntervalNs: 1_000_000_000)

    /// Same regimes, expected durations of tens of steps (bull 40, bear 25, sideways 30,
    /// volatile 20): stresses detection delay and whipsaw.
    public static let fastSwitching = MarketScenario(
        name: "fastSwitching", regimes: dailyRegimes,
        transition: transitionMatrix(expectedDurations: [40, 25, 30, 20], exitWeights: presetExitWeights),
        anchor: .observedEMA(smoothing: 0.05), spreadBps: 5, meanQuoteSize: 1_000, meanBarVolume: 1_000_000,
        tickIntervalNs: 1_000_000_000)

    /// Tick-level market for demos and engine runs: one step = one tick of one instrument.
    /// Per-tick vols of 0.3-2.5 bp around a 1 bp spread, drifts of 0.02-0.03 bp per tick,
    /// regimes lasting thousands of ticks (bull 3000, bear 2000, sideways 3000, volatile 1000),
    /// 100 us between ticks of the whole stream, quote sizes around 100 units.
    public static let demo = MarketScenario(
        name: "demo",
        regimes: [
            RegimeParameters(mu: 2e-6, sigma: 5e-5, kappa: 0, sizeImbalance: 0.3, volumeMultiplier: 1.0),
            RegimeParameters(mu: -3e-6, sigma: 1.2e-4, kappa: 0, sizeImbalance: -0.3, volumeMultiplier: 1.4),
            RegimeParameters(mu: 0, sigma: 3e-5, kappa: 0.02, sizeImbalance: 0, volumeMultiplier: 0.8),
            RegimeParameters(mu: 0, sigma: 2.5e-4, kappa: 0, sizeImbalance: 0, volumeMultiplier: 2.0),
        ],
        transition: transitionMatrix(expectedDurations: [3_000, 2_000, 3_000, 1_000], exitWeights: presetExitWeights),
        anchor: .observedEMA(smoothing: 0.01), spreadBps: 1, meanQuoteSize: 100, meanBarVolume: 100_000,
        tickIntervalNs: 100_000)

    public static let presets: [MarketScenario] = [.persistent, .fastSwitching, .demo]
}
