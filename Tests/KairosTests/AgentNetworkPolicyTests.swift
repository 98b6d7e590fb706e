import Testing
@testable import Kairos

@Suite struct AgentNetworkPolicyTests {
    /// A one-layer linear "actor" whose logits are (-x, 0, x) for x = (obs[1] - mean) / std:
    /// long when the EMA spread is above `mean`, short below. It must act exactly like the same
    /// rule written by hand, through the whole evaluation.
    @Test func networkPolicyActsLikeTheHandRuleItEncodes() throws {
        let n = AgentObservation.size
        let net = try MLP(layerSizes: [n, 3], activations: [.identity])
        var w = [Float](repeating: 0, count: 3 * n)
        w[0 * n + 1] = -1
        w[2 * n + 1] = 1
        try net.setLayer(0, weights: w, bias: [0, 0, 0])
        var mean = [Float](repeating: 0, count: n)
        mean[1] = 5  // +5 bp threshold on the EMA spread
        var std = [Float](repeating: 1, count: n)
        std[1] = 2
        let policy = AgentNetworkPolicy(network: net, mean: mean, std: std)
        let ds = try TradingDataset.synthetic(count: 1_500, seed: 3)
        let r = 500..<1_500
        let viaNet = TradingEvaluation.run(policy, agent: .balanced, dataset: ds, range: r)
        let hand = ClosureTradingPolicy { o in o[1] > 5 ? 2 : 0 }  // a tie (x = 0) picks action 0
        let viaHand = TradingEvaluation.run(hand, agent: .balanced, dataset: ds, range: r)
        #expect(viaNet.positions == viaHand.positions)
        #expect(viaNet.netReturns == viaHand.netReturns)
        #expect(Set(viaNet.positions) == [-1, 1])
    }

    @Test func clippingAndTies() throws {
        let n = AgentObservation.size
        let net = try MLP(layerSizes: [n, 3], activations: [.identity])
        var w = [Float](repeating: 0, count: 3 * n)
        w[2 * n + 0] = 1  // logit 2 = clipped obs[0]
        try net.setLayer(0, weights: w, bias: [0, 3, 0])  // logit 1 = 3
        let policy = AgentNetworkPolicy(network: net, mean: [Float](repeating: 0, count: n),
                                        std: [Float](repeating: 1, count: n), clip: 2)
        var obs = [Float](repeating: 0, count: n)
        obs[0] = 1_000  // clipped to 2 < 3: flat wins
        #expect(obs.withUnsafeBufferPointer { policy.action(for: $0) } == 1)
        let all0 = AgentNetworkPolicy(network: try MLP(layerSizes: [n, 3], activations: [.identity]))
        #expect(obs.withUnsafeBufferPointer { all0.action(for: $0) } == 0)  // ties: lowest action
    }
}
