// A trained actor network as an evaluation policy: normalise the observation, run the C MLP
// kernel, take the most probable action. The learner decides how networks and normalisation
// are stored; this only needs the pieces.

/// Greedy policy from an actor network over agent observations.
///
/// action = argmax_a logits_a, logits = network((obs - mean) / std), with the observation
/// normalisation the learner kept (running mean / standard deviation per entry, clipped to
/// ±`clip` after scaling, the usual PPO treatment). Ties go to the lowest action.
///
/// ## Implementation Notes
/// - Input / output scratch buffers are allocated once at init; `action(for:)` is O(network) and
///   allocates nothing (the MLP's forward pass allocates nothing either).
/// - Not `Sendable`: it owns an `MLP`, whose forward pass writes scratch buffers.
public final class AgentNetworkPolicy: TradingPolicy {
    public let network: MLP
    public let mean: [Float]
    public let std: [Float]
    public let clip: Float
    private var input: [Float]
    private var logits: [Float]

    /// - Precondition: network input size = `AgentObservation.size`, output size =
    ///   `AgentKind.actionCount`, `mean`/`std` one per observation entry, std > 0.
    public init(network: MLP, mean: [Float], std: [Float], clip: Float = 10) {
        let n = AgentObservation.size
        precondition(network.inputSize == n && network.outputSize == AgentKind.actionCount, "network shape")
        precondition(mean.count == n && std.count == n && std.allSatisfy { $0 > 0 }, "normalisation shape")
        self.network = network
        self.mean = mean
        self.std = std
        self.clip = clip
        input = [Float](repeating: 0, count: n)
        logits = [Float](repeating: 0, count: AgentKind.actionCount)
    }

    /// No normalisation (mean 0, std 1).
    public convenience init(network: MLP) {
        let n = AgentObservation.size
        self.init(network: network, mean: [Float](repeating: 0, count: n), std: [Float](repeating: 1, count: n))
    }

    public func action(for observation: UnsafeBufferPointer<Float>) -> Int32 {
        precondition(observation.count >= AgentObservation.size, "observation too short")
        let c = clip
        for i in 0..<AgentObservation.size {
            input[i] = min(max((observation[i] - mean[i]) / std[i], -c), c)
        }
        input.withUnsafeBufferPointer { x in
            logits.withUnsafeMutableBufferPointer { y in network.forward(x, into: y) }
        }
        var best: Int32 = 0
        for a in 1..<AgentKind.actionCount where logits[a] > logits[Int(best)] { best = Int32(a) }
        return best
    }
}
