// The Bayes-optimal causal regime filter for the synthetic market: the forward filter run with
// the TRUE generating parameters (docs/synthetic-market.md, "The oracle filter"). No detector
// using prices only can beat it on average; evaluations report it beside the fitted detector.
import KairosCore
import KairosStrategies
import KairosIO
import Foundation

/// Forward filter with a `MarketScenario`'s true parameters.
///
/// Implementation Notes: the equations of docs/synthetic-market.md exactly (prior pi = the
/// scenario's stationary distribution, reversion level m recomputed from the observed log
/// prices with the scenario's EMA smoothing). Parameters live in `InlineArray`s: one update is
/// O(K^2), allocation-free. Requires the `.observedEMA` anchor (the only one with an exact
/// 4-state filter); `init` fails otherwise.
public struct OracleRegimeFilter: RegimeDetector, Sendable {
    public let scenario: MarketScenario
    @usableFromInline var alpha = InlineArray<4, Double>(repeating: 0)
    @usableFromInline var pi = InlineArray<4, Double>(repeating: 0)
    @usableFromInline var trans = InlineArray<16, Double>(repeating: 0)
    @usableFromInline var mu = InlineArray<4, Double>(repeating: 0)
    @usableFromInline var sigma = InlineArray<4, Double>(repeating: 1)
    @usableFromInline var kappa = InlineArray<4, Double>(repeating: 0)
    @usableFromInline let lambda: Double
    @usableFromInline var anchor = 0.0
    @usableFromInline var last = 0.0
    /// Running log-likelihood of the observed returns.
    public private(set) var logLikelihood = 0.0

    public init?(scenario: MarketScenario) {
        guard case .observedEMA(let l) = scenario.anchor, (try? scenario.validate()) != nil else { return nil }
        self.scenario = scenario
        lambda = l
        let st = scenario.stationaryDistribution()
        for j in 0..<4 {
            pi[j] = st[j]
            mu[j] = scenario.regimes[j].mu
            sigma[j] = scenario.regimes[j].sigma
            kappa[j] = scenario.regimes[j].kappa
            for q in 0..<4 { trans[j * 4 + q] = scenario.transition[j][q] }
        }
        alpha = pi
    }

    public mutating func reset(logPrice x0: Double) {
        alpha = pi
        anchor = x0
        last = x0
        logLikelihood = 0
    }

    public mutating func update(logPrice x: Double) -> RegimeEstimate {
        let r = x - last
        var post = InlineArray<4, Double>(repeating: 0)
        var tot = 0.0
        for j in 0..<4 {
            var pred = 0.0
            for i in 0..<4 { pred += alpha[i] * trans[i * 4 + j] }
            let z = (r - mu[j] - kappa[j] * (anchor - last)) / sigma[j]
            let lik = exp(-0.5 * z * z) / (sigma[j] * (2 * Double.pi).squareRoot())
            post[j] = pred * lik
            tot += post[j]
        }
        logLikelihood += log(tot)
        for j in 0..<4 { alpha[j] = post[j] / tot }
        anchor += lambda * (x - anchor)
        last = x
        let p = RegimeProbabilities(bull: alpha[0], bear: alpha[1], sideways: alpha[2], volatile: alpha[3])
        let k = p.argmax.rawValue
        return RegimeEstimate(
            probabilities: p, regime: Regime(rawValue: k)!, confidence: alpha[k],
            expectedRemainingDuration: alpha[k] / max(1 - trans[k * 4 + k], 1e-12))
    }
}
