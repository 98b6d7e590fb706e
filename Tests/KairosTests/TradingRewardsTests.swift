import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct TradingRewardsTests {
    static func step(_ r: Double, ddBefore: Double = 0, ddAfter: Double = 0) -> TradingStep {
        TradingStep(turnover: 0, cost: 0, netReturn: r, drawdownBefore: ddBefore, drawdownAfter: ddAfter, ruined: false)
    }

    @Test func accountChargesCostsOnTurnoverAndCompounds() {
        var acc = TradingAccount()
        let rate = TradingCosts(costBps: 3, slippageBps: 2).rate
        #expect(abs(rate - 5e-4) < 1e-18)
        // Long 1 at 100, price goes to 110.
        let s1 = acc.step(target: 1, price: 100, nextPrice: 110, costRate: rate)
        #expect(s1.turnover == 1)
        #expect(s1.cost == rate)
        #expect(abs(s1.netReturn - ((1 - rate) * 1.1 - 1)) < 1e-15)
        #expect(acc.held == 1)  // fully invested: no drift
        #expect(acc.entryPrice == 100)
        // Flip to short 1 at 110 -> 99: turnover 2.
        let s2 = acc.step(target: -1, price: 110, nextPrice: 99, costRate: rate)
        #expect(s2.turnover == 2)
        #expect(abs(s2.cost - 1e-3) < 1e-18)
        #expect(abs(s2.netReturn - ((1 - 1e-3) * 1.1 - 1)) < 1e-15)
        #expect(acc.entryPrice == 110)
        #expect(abs(acc.equity - (1 - 5e-4) * 1.1 * (1 - 1e-3) * 1.1) < 1e-14)
        // Half position drifts: 0.5 long over +10 % holds 0.55 / 1.05 of equity afterwards.
        var half = TradingAccount()
        _ = half.step(target: 0.5, price: 100, nextPrice: 110, costRate: 0)
        #expect(abs(half.held - 0.55 / 1.05) < 1e-15)
        let s3 = half.step(target: 0.5, price: 110, nextPrice: 110, costRate: rate)
        #expect(abs(s3.turnover - (0.55 / 1.05 - 0.5)) < 1e-15)
        #expect(half.entryPrice == 100)  // same target: entry unchanged
        #expect(abs(half.unrealizedPnLBps(price: 120) - 0.5 * 0.2 * 1e4) < 1e-9)
    }

    @Test func drawdownIsTrackedAndRuinTerminates() {
        var acc = TradingAccount()
        let up = acc.step(target: 1, price: 100, nextPrice: 120, costRate: 0)
        #expect(up.drawdownBefore == 0 && up.drawdownAfter == 0)
        let down = acc.step(target: 1, price: 120, nextPrice: 90, costRate: 0)
        #expect(abs(down.drawdownAfter - 0.25) < 1e-15)
        #expect(acc.peak == 1.2)
        var lev = TradingAccount()
        let crash = lev.step(target: 2, price: 100, nextPrice: 40, costRate: 0)
        #expect(crash.ruined && crash.netReturn == -1 && lev.equity == 0)
    }

    @Test func conservativeRewardPenalisesDrawdownIncreaseAndDownside() {
        let cfg = TradingRewardConfig(lambdaDrawdown: 2, lambdaDownside: 10)
        var st = TradingRewardState(config: cfg)
        // A gain at a new peak: no penalty.
        #expect(st.reward(.drawdownPenalised, config: cfg, step: Self.step(0.01), position: 0.5, zScore: 0) == 0.01)
        // -2 %: drawdown 0 -> 0.02, downside (-0.02)^2.
        let r = st.reward(.drawdownPenalised, config: cfg, step: Self.step(-0.02, ddBefore: 0, ddAfter: 0.02),
                          position: 0.5, zScore: 0)
        #expect(abs(r - (-0.02 - 2 * 0.02 - 10 * 0.0004)) < 1e-15)
        // Recovering part of a drawdown: no drawdown penalty, no downside penalty.
        let rec = st.reward(.drawdownPenalised, config: cfg, step: Self.step(0.01, ddBefore: 0.02, ddAfter: 0.0102),
                            position: 0.5, zScore: 0)
        #expect(rec == 0.01)
    }

    @Test func conservativeRewardOnAHandMadePricePath() {
        // Half long over 100 -> 110 -> 99 -> 104, no costs, lambda_dd 2, lambda_down 10.
        let cfg = TradingRewardConfig(lambdaDrawdown: 2, lambdaDownside: 10)
        var st = TradingRewardState(config: cfg)
        var acc = TradingAccount()
        var rewards = [Double]()
        for (c, c1) in [(100.0, 110.0), (110.0, 99.0), (99.0, 104.0)] {
            let s = acc.step(target: 0.5, price: c, nextPrice: c1, costRate: 0)
            rewards.append(st.reward(.drawdownPenalised, config: cfg, step: s, position: 0.5, zScore: 0))
        }
        // Bar 1: +5 % at a new peak (1.05): no penalty.
        #expect(abs(rewards[0] - 0.05) < 1e-15)
        // Bar 2: -5 %, equity 0.9975, drawdown 0 -> 0.05, downside 0.05^2.
        #expect(abs(rewards[1] - (-0.05 - 2 * 0.05 - 10 * 0.0025)) < 1e-14)
        // Bar 3: +0.5 * 5/99 recovers part of the drawdown: plain return.
        #expect(abs(rewards[2] - 0.5 * 5 / 99) < 1e-15)
        #expect(abs(acc.equity - 1.05 * 0.95 * (1 + 0.5 * 5 / 99)) < 1e-14)
    }

    @Test func aggressiveRewardIsLogGrowth() {
        let cfg = TradingRewardConfig()
        var st = TradingRewardState(config: cfg)
        // A path 100 -> 110 -> 99 held at 2x: rewards sum to log of final equity.
        var acc = TradingAccount()
        var sum = 0.0
        for (c, c1) in [(100.0, 110.0), (110.0, 99.0)] {
            let s = acc.step(target: 2, price: c, nextPrice: c1, costRate: 0)
            sum += st.reward(.logReturn, config: cfg, step: s, position: 2, zScore: 0)
        }
        #expect(abs(sum - log(acc.equity)) < 1e-14)
        #expect(abs(sum - log(1.2 * (1 + 2 * (99.0 / 110 - 1)))) < 1e-14)
        // Ruin gives a finite floor, not -inf.
        #expect(st.reward(.logReturn, config: cfg, step: Self.step(-1), position: 2, zScore: 0).isFinite)
    }

    @Test func differentialSharpeMatchesTheFormulaByHand() {
        let cfg = TradingRewardConfig(eta: 0.1, sharpePriorVariance: 1e-4)
        var st = TradingRewardState(config: cfg)
        var a = 0.0, b = 1e-4
        for r in [0.01, -0.005, 0.02, 0.0, -0.01] {
            let d = st.reward(.differentialSharpe, config: cfg, step: Self.step(r), position: 1, zScore: 0)
            let dA = r - a, dB = r * r - b
            let expected = (b * dA - 0.5 * a * dB) / pow(b - a * a, 1.5)
            #expect(abs(d - expected) <= 1e-12 * max(1, abs(expected)))
            a += 0.1 * dA
            b += 0.1 * dB
            #expect(abs(st.a - a) < 1e-18 && abs(st.b - b) < 1e-18)
        }
    }

    /// Moody & Saffell's defining property: D_t is the derivative of the EMA Sharpe ratio
    /// S = A / sqrt(B - A^2) with respect to eta at eta = 0, i.e. S_t ~ S_{t-1} + eta D_t.
    @Test func differentialSharpeIsTheSharpeDerivative() {
        var g = Xoshiro256StarStar(seed: 11)
        var st = TradingRewardState(config: TradingRewardConfig(eta: 0.05))
        for _ in 0..<50 { _ = st.differentialSharpe(0.001 + 0.01 * g.nextGaussian(), eta: 0.05) }
        let a = st.a, b = st.b
        let r = 0.015
        let d = st.differentialSharpe(r, eta: 0.05)
        let h = 1e-7
        let a1 = a + h * (r - a), b1 = b + h * (r * r - b)
        let sharpe = { (a: Double, b: Double) in a / (b - a * a).squareRoot() }
        let numeric = (sharpe(a1, b1) - sharpe(a, b)) / h
        #expect(abs(numeric - d) < 1e-4 * max(1, abs(d)), "numeric \(numeric) vs D \(d)")
    }

    @Test func contrarianRewardBoostsPositionsAgainstStretchedMoves() {
        let cfg = TradingRewardConfig(contrarianSlope: 1, contrarianThreshold: 1)
        var st = TradingRewardState(config: cfg)
        func r(_ pnl: Double, _ pos: Double, _ z: Double) -> Double {
            st.reward(.contrarian, config: cfg, step: Self.step(pnl), position: pos, zScore: z)
        }
        #expect(abs(r(0.01, 1, -2.5) - 0.01 * 2.5) < 1e-16)  // long a -2.5 sigma dip
        #expect(r(0.01, 1, 2) == 0.01)  // long a rally: plain PnL
        #expect(abs(r(0.01, -1, 3) - 0.01 * 3) < 1e-16)  // short a +3 sigma rally
        #expect(r(0.01, -1, 0.5) == 0.01)  // stretch below threshold
        #expect(abs(r(-0.01, 1, -2) - -0.02) < 1e-16)  // losses against the stretch weigh more too
        #expect(r(-0.0002, 0, -3) == -0.0002)  // flat: only costs
    }

    @Test func contrarianRewardOnHandMadeMeanRevertingPath() throws {
        // A flat path with one sharp dip: the z-score at the dip is strongly negative; a long
        // taken there and held into the rebound earns a boosted reward.
        var closes = [Double](repeating: 100, count: 40)
        for k in 0..<40 { closes[k] = 100 + (k % 2 == 0 ? 0.1 : -0.1) }
        closes.append(95)
        closes.append(100)
        let bars = closes.enumerated().map { k, c in
            Bar(timestamp: Int64(k) * 86_400_000_000_000, open: c, high: c, low: c, close: c, volume: 1)
        }
        let ds = try TradingDataset(bars: bars)
        let z = ds.zScores[40]
        #expect(z < -3)
        let cfg = TradingRewardConfig()
        var st = TradingRewardState(config: cfg)
        var acc = TradingAccount()
        let s = acc.step(target: 1, price: 95, nextPrice: 100, costRate: 0)
        let reward = st.reward(.contrarian, config: cfg, step: s, position: 1, zScore: z)
        #expect(abs(reward - (100.0 / 95 - 1) * (1 + (-z - 1))) < 1e-12)
    }
}
