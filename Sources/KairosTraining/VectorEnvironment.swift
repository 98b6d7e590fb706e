// The contract between reinforcement-learning environments (CartPole, the trading environment)
// and the learners (PPO). Kept tiny and array-based so a learner can step many environments
// together without per-step allocation.
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim


/// Buffers one `VectorEnvironment.step` fills. Owned by the caller and reused every step, so a
/// training loop allocates them once.
///
/// ## Implementation Notes
/// - Row-major `[environment][observation]` layout: environment `i`'s observation is
///   `observations[i * observationSize ..< (i + 1) * observationSize]`.
/// - After a step, an environment whose episode ended (`terminated[i] || truncated[i]`) has
///   already been reset: `observations` holds the FIRST observation of its next episode, and
///   `finalObservations` holds the LAST observation of the episode that ended (a learner
///   bootstraps the value of a truncated episode from it). `finalObservations` rows of
///   environments that did not end are unspecified.
/// - `finishedEpisodeReturns` / `finishedEpisodeLengths` list the undiscounted return and length
///   of every episode that ended in this step (emptied at the start of each step; capacity kept).
public struct VectorStepBuffers: Sendable {
    public let count: Int
    public let observationSize: Int
    public var observations: [Float]
    public var rewards: [Float]
    /// The episode reached a terminal state (no bootstrapping).
    public var terminated: [Bool]
    /// The episode was cut by a time limit or the end of the data (bootstrap from `finalObservations`).
    /// A step flagged both terminated and truncated counts as terminated (no bootstrap).
    public var truncated: [Bool]
    public var finalObservations: [Float]
    public var finishedEpisodeReturns: [Double]
    public var finishedEpisodeLengths: [Int]

    public init(count: Int, observationSize: Int) {
        precondition(count > 0 && observationSize > 0)
        self.count = count
        self.observationSize = observationSize
        observations = [Float](repeating: 0, count: count * observationSize)
        rewards = [Float](repeating: 0, count: count)
        terminated = [Bool](repeating: false, count: count)
        truncated = [Bool](repeating: false, count: count)
        finalObservations = [Float](repeating: 0, count: count * observationSize)
        finishedEpisodeReturns = []
        finishedEpisodeReturns.reserveCapacity(count)
        finishedEpisodeLengths = []
        finishedEpisodeLengths.reserveCapacity(count)
    }
}

/// `count` copies of an environment with a discrete action space, stepped together.
///
/// Determinism: given the same `reset(seed:into:)` seed and the same action sequence, an
/// environment produces the same observations and rewards bit for bit.
public protocol VectorEnvironment {
    /// Number of environments stepped together.
    var count: Int { get }
    /// Floats per observation.
    var observationSize: Int { get }
    /// Actions are `0 ..< actionCount`.
    var actionCount: Int { get }
    /// Starts a fresh episode in every environment and writes the first observations into
    /// `buffers.observations` (rewards zero, flags false, no finished episodes).
    mutating func reset(seed: UInt64, into buffers: inout VectorStepBuffers)
    /// Applies `actions[i]` to environment `i` (`actions.count == count`) and fills `buffers`
    /// as described on `VectorStepBuffers`.
    mutating func step(actions: [Int32], into buffers: inout VectorStepBuffers)
}
