import Foundation

/// Summary statistics of an equity curve, shared by every backtest report so the engine's and the
/// reference backtests are measured the same way.
public struct PerformanceStats: Sendable, Hashable {
    /// Final equity / initial capital − 1.
    public var totalReturn: Double
    /// Mean / sample std of per-period simple returns (the first against the initial capital) ×
    /// √periodsPerYear; 0 with fewer than 2 returns or zero variance.
    public var sharpe: Double
    /// Like `sharpe` but dividing by the downside deviation (√ of the mean of min(r, 0)²).
    public var sortino: Double
    /// Largest peak-to-trough fall as a positive fraction of the peak (initial capital is the first peak).
    public var maxDrawdown: Double
    /// Annualised return: (1 + total)^(periodsPerYear / periods) − 1.
    public var annualisedReturn: Double
    public var periods: Int

    public init(equity: [Double], initialCapital: Double, periodsPerYear: Double) {
        var rets = [Double]()
        rets.reserveCapacity(equity.count)
        var prev = initialCapital
        var peak = initialCapital, mdd = 0.0
        for x in equity {
            rets.append(prev > 0 ? x / prev - 1 : 0)
            prev = x
            peak = max(peak, x)
            if peak > 0 { mdd = max(mdd, 1 - x / peak) }
        }
        let total = (equity.last ?? initialCapital) / initialCapital - 1
        var sharpe = 0.0, sortino = 0.0
        if rets.count >= 2 {
            let mean = rets.reduce(0, +) / Double(rets.count)
            let v = rets.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rets.count - 1)
            if v > 0 { sharpe = mean / v.squareRoot() * periodsPerYear.squareRoot() }
            let down = rets.reduce(0) { $0 + min($1, 0) * min($1, 0) } / Double(rets.count)
            if down > 0 { sortino = mean / down.squareRoot() * periodsPerYear.squareRoot() }
        }
        totalReturn = total
        self.sharpe = sharpe
        self.sortino = sortino
        maxDrawdown = mdd
        periods = equity.count
        annualisedReturn =
            equity.isEmpty || total <= -1 ? (total <= -1 ? -1 : 0) : pow(1 + total, periodsPerYear / Double(equity.count)) - 1
    }

    /// Periods per year implied by bar spacing: 252 for daily or slower bars, and 252 × bars per
    /// 6.5-hour session for intraday bars. `timestamps` in ns, sorted.
    public static func periodsPerYear(timestamps: [Int64]) -> Double {
        guard timestamps.count >= 2 else { return 252 }
        var gaps = zip(timestamps.dropFirst(), timestamps).map { $0 - $1 }
        gaps.sort()
        let median = Double(gaps[gaps.count / 2])
        let day = 86_400e9, session = 23_400e9
        return median >= day * 0.8 ? 252 * (day / max(median, day)) : 252 * max(1, session / median)
    }
}
