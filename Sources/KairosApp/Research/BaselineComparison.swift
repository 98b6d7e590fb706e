import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining

/// One row of a baseline comparison: a policy run through the engine (next-bar fills, risk
/// manager, paper venue) and through the vectorised reference (fills at the close).
public struct BaselineRun: Sendable {
    public var policy: String
    public var engine: PerformanceStats
    public var engineFills: UInt64
    public var engineFees: Double
    public var engineRiskRejections: UInt64
    public var reference: PerformanceStats
    public var referenceTrades: Int
    public var referenceCosts: Double
}

/// Runs the two baselines (buy-and-hold, SMA crossover) over one instrument's bars through the
/// engine's lockstep backtest, and through `BaselineBacktest` as a reference.
///
/// Engine conventions: one tick per bar at the close with `spreadBps` around it; an order decided
/// on bar t fills at bar t+1's touch plus `slippageBps`, paying `feeBps`; the risk manager's
/// drawdown breaker is at `maxDrawdown` (1 = off); sizes are whole units; a target change smaller
/// than `minRebalanceFraction` of capital is not traded. Reference conventions: fills at the
/// close, cost `feeBps + slippageBps + spreadBps/2` per unit turnover, fractional units, every
/// target change traded.
public struct BaselineComparison: Sendable {
    public var capital: Double = 100_000
    public var feeBps: Double = 1
    public var slippageBps: Double = 0
    public var spreadBps: Double = 1
    public var maxDrawdown: Double = 1
    public var minRebalanceFraction: Double = 0.1
    public var fast = 10
    public var slow = 30
    public var allowShort = false
    public var periodsPerYear: Double? = nil

    public init() {}

    public enum Baseline: String, CaseIterable, Sendable {
        case buyAndHold = "buyhold"
        case sma = "sma"
    }

    public func run(_ baselines: [Baseline], bars: [Bar]) throws -> [BaselineRun] {
        let ppy = periodsPerYear ?? PerformanceStats.periodsPerYear(timestamps: bars.map(\.timestamp))
        return try baselines.map { b in
            switch b {
            case .buyAndHold:
                return try compare(BuyAndHoldPolicy(instruments: 1), bars: bars, periodsPerYear: ppy)
            case .sma:
                return try compare(
                    SMACrossoverPolicy(instruments: 1, fast: fast, slow: slow, allowShort: allowShort), bars: bars,
                    periodsPerYear: ppy)
            }
        }
    }

    func compare<P: DecisionPolicy>(_ policy: P, bars: [Bar], periodsPerYear: Double) throws -> BaselineRun {
        var kc = KairosConfig()
        kc.instruments = ["SYN0"]
        kc.capitalPerInstrument = capital
        let engine = try EngineBuilder(config: kc).makeBacktestEngine(policy: policy) { config in
            config.risk.maxDrawdown = maxDrawdown
            config.risk.priceBandBps = 10_000  // bars gap; the band is for tick-level fat fingers
            config.minRebalanceFraction = minRebalanceFraction
            Backtest.sampleEquity(every: 1, in: &config)
        }
        var source = BarTickSource(bars: bars, spreadBps: spreadBps)
        let report = Backtest.run(
            engine: engine, source: &source, fills: PaperFillConfig(latencyNs: 0, slippageBps: slippageBps, feeBps: feeBps))
        let engineEquity = report.equityCurve.map(\.equity)
        let reference = BaselineBacktest.run(
            policy, bars: bars, costBps: feeBps + slippageBps + spreadBps / 2, initialCapital: capital,
            periodsPerYear: periodsPerYear)
        return BaselineRun(
            policy: policy.name,
            engine: PerformanceStats(equity: engineEquity, initialCapital: capital, periodsPerYear: periodsPerYear),
            engineFills: report.snapshot.counters.fills, engineFees: report.snapshot.fees,
            engineRiskRejections: report.snapshot.counters.totalOrdersRejected,
            reference: PerformanceStats(equity: reference.equity, initialCapital: capital, periodsPerYear: periodsPerYear),
            referenceTrades: reference.trades, referenceCosts: reference.costs)
    }
}
