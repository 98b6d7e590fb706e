// A deliberately simple single-instrument backtest on bar closes: the reference that engine
// backtests (ticks, risk manager, gateway simulation) are compared against.
import KairosCore
import KairosStrategies
import KairosIO


/// Outcome of `BaselineBacktest.run`.
public struct BacktestResult: Sendable, Hashable {
    /// Equity at each bar's close, after that bar's trade and its cost (count = bars).
    public var equity: [Double]
    /// Exposure held after each bar's decision: units * close / equity.
    public var exposures: [Double]
    /// equity.last / initialCapital - 1 (0 for no bars).
    public var totalReturn: Double
    /// mean / sample std of the per-bar simple equity returns (the first against the initial
    /// capital), times sqrt(periodsPerYear). 0 when fewer than 2 returns or zero variance.
    public var sharpe: Double
    /// Largest peak-to-trough fall, as a positive fraction of the peak; the initial capital counts
    /// as the first peak.
    public var maxDrawdown: Double
    /// Sum over trades of |units traded| * close / pre-trade equity (1 = one equity's worth).
    public var turnover: Double
    /// Total transaction costs paid, in currency.
    public var costs: Double
    /// Bars on which the position changed.
    public var trades: Int
}

/// Runs a `DecisionPolicy` over one instrument's bars.
///
/// Model, per bar t with close c_t (the only price used; trades fill at the close):
///
///     E_t^- = E_{t-1} + q_{t-1} (c_t - c_{t-1})          mark to market (E_{-1} = initial capital)
///     e_t   = policy(context: price c_t, position q_{t-1}, exposure q_{t-1} c_t / E_t^-)
///     q_t   = e_t E_t^- / c_t  if e_t != nil, else q_{t-1}   (nil = hold the units)
///     E_t   = E_t^- - costBps 1e-4 |q_t - q_{t-1}| c_t     cost per unit of traded notional
///
/// So buy-and-hold from bar 0 ends at E_T = E_{-1} (c_T / c_0 - costBps 1e-4) exactly. If equity
/// reaches 0 or below the account is ruined: it is flattened (no cost charged) and never trades again.
///
/// The context the policy sees per bar: instrument `instrument`, a tick with bid = ask = last =
/// close, seq = t + 1, exchange and receive time = the bar's timestamp, `last_size` = volume,
/// features all zero, featureUpdates = t + 1, the bar itself as the closed bar (barsClosed = t + 1),
/// now = the bar's timestamp.
///
/// Implementation Notes: one pass, O(bars); allocates the result arrays. Pure: the policy is copied,
/// the caller's value is untouched.
public enum BaselineBacktest {
    public static func run<P: DecisionPolicy>(
        _ policy: P, bars: [Bar], costBps: Double = 0, initialCapital: Double = 1,
        periodsPerYear: Double = 252, instrument: InstrumentID = InstrumentID(0)
    ) -> BacktestResult {
        var p = policy
        return simulate(bars.map(\.close), initialCapital: initialCapital, costBps: costBps,
                        periodsPerYear: periodsPerYear) { t, q, exposure in
            let b = bars[t]
            let tick = Tick(instrument: instrument, seq: UInt64(t + 1), exchangeTime: b.timestamp,
                            receiveTime: b.timestamp, bid: b.close, ask: b.close, last: b.close,
                            lastSize: Float(b.volume), publisher: instrument.rawValue)
            let ctx = DecisionContext(instrument: instrument, tick: tick, price: b.close, features: .zero,
                                      featureUpdates: UInt64(t + 1), bar: b, barsClosed: UInt64(t + 1),
                                      position: q, exposure: exposure, now: b.timestamp)
            return p.decide(ctx)
        }
    }

    /// The same accounting with the target exposures given up front (nil = hold), e.g. from a
    /// vectorised signal. `targets.count` must equal `closes.count`.
    public static func run(
        targets: [Double?], closes: [Double], costBps: Double = 0, initialCapital: Double = 1,
        periodsPerYear: Double = 252
    ) -> BacktestResult {
        precondition(targets.count == closes.count, "one target per close")
        return simulate(closes, initialCapital: initialCapital, costBps: costBps, periodsPerYear: periodsPerYear) {
            t, _, _ in targets[t]
        }
    }

    static func simulate(
        _ closes: [Double], initialCapital: Double, costBps: Double, periodsPerYear: Double,
        decide: (Int, Double, Double) -> Double?
    ) -> BacktestResult {
        precondition(initialCapital > 0 && costBps >= 0)
        precondition(closes.allSatisfy { $0 > 0 && $0.isFinite }, "closes must be finite and > 0")
        let k = costBps * 1e-4
        var equity = [Double](), exposures = [Double]()
        equity.reserveCapacity(closes.count)
        exposures.reserveCapacity(closes.count)
        var e = initialCapital, q = 0.0, prevClose = closes.first ?? 1
        var turnover = 0.0, costs = 0.0, trades = 0
        var ruined = false
        for (t, c) in closes.enumerated() {
            e += q * (c - prevClose)
            prevClose = c
            if !ruined && e <= 0 { ruined = true; q = 0 }
            if !ruined, let target = decide(t, q, q * c / e), target.isFinite {
                let nq = target * e / c
                let dq = abs(nq - q)
                if dq > 0 {
                    turnover += dq * c / e
                    let cost = k * dq * c
                    costs += cost
                    e -= cost
                    trades += 1
                    q = nq
                }
            }
            equity.append(e)
            exposures.append(e > 0 ? q * c / e : 0)
        }
        let stats = PerformanceStats(equity: equity, initialCapital: initialCapital, periodsPerYear: periodsPerYear)
        return BacktestResult(
            equity: equity, exposures: exposures,
            totalReturn: stats.totalReturn,
            sharpe: stats.sharpe, maxDrawdown: stats.maxDrawdown, turnover: turnover, costs: costs, trades: trades)
    }
}
