// CartPole-v1, ported from Gymnasium's classic_control/cartpole.py (Barto, Sutton & Anderson
// 1983 equations as Gymnasium implements them): the known-result check for the PPO learner.
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import Foundation

/// The CartPole-v1 physics, in Double as Gymnasium computes it (observations are handed out
/// as Float32, as Gymnasium's observation space is float32).
public enum CartPole {
    public static let gravity = 9.8
    public static let massCart = 1.0
    public static let massPole = 0.1
    public static let totalMass = massPole + massCart
    /// Half the pole's length.
    public static let length = 0.5
    public static let poleMassLength = massPole * length
    public static let forceMagnitude = 10.0
    /// Seconds between state updates (explicit Euler).
    public static let tau = 0.02
    /// 12 degrees, in radians, as Gymnasium writes it.
    public static let thetaThreshold = 12 * 2 * Double.pi / 360
    public static let xThreshold = 2.4
    /// TimeLimit of CartPole-v1.
    public static let maxEpisodeSteps = 500

    /// State `(x, x_dot, theta, theta_dot)`.
    public typealias State = (x: Double, xDot: Double, theta: Double, thetaDot: Double)

    /// One Euler step: action 1 pushes right (+force), 0 pushes left.
    @inlinable
    public static func step(_ s: State, action: Int32) -> State {
        let force = action == 1 ? forceMagnitude : -forceMagnitude
        let cosTheta = Foundation.cos(s.theta), sinTheta = Foundation.sin(s.theta)
        let temp = (force + poleMassLength * s.thetaDot * s.thetaDot * sinTheta) / totalMass
        let thetaAcc =
            (gravity * sinTheta - cosTheta * temp)
            / (length * (4.0 / 3.0 - massPole * cosTheta * cosTheta / totalMass))
        let xAcc = temp - poleMassLength * thetaAcc * cosTheta / totalMass
        return (
            x: s.x + tau * s.xDot, xDot: s.xDot + tau * xAcc,
            theta: s.theta + tau * s.thetaDot, thetaDot: s.thetaDot + tau * thetaAcc
        )
    }

    /// Gymnasium's termination rule: the cart left ±2.4 or the pole passed ±12°.
    @inlinable
    public static func isTerminal(_ s: State) -> Bool {
        s.x < -xThreshold || s.x > xThreshold || s.theta < -thetaThreshold || s.theta > thetaThreshold
    }
}

/// `count` CartPole-v1 environments stepped together (`VectorEnvironment`): 4 observations
/// `(x, x_dot, theta, theta_dot)`, 2 actions (0 push left, 1 push right), reward 1 per step
/// including the terminating one, truncation after 500 steps.
///
/// ## Implementation Notes
/// - Each environment has its own `Xoshiro256StarStar`, seeded from `reset(seed:)` via SplitMix64
///   (stream `i` for environment `i`); resets draw the 4 state variables from U(-0.05, 0.05) in
///   that stream, so a run is a pure function of the seed and the actions.
/// - An episode that terminates on its 500th step counts as terminated, not truncated (no
///   bootstrap from a failed state).
/// - `step` is O(count) and allocates nothing (the buffers' episode lists keep their capacity).
public struct CartPoleVectorEnvironment: VectorEnvironment {
    public let count: Int
    public var observationSize: Int { 4 }
    public var actionCount: Int { 2 }
    /// State of every environment, `count` tuples.
    public private(set) var states: [CartPole.State]
    public private(set) var episodeSteps: [Int]
    private var episodeReturns: [Double]
    private var rngs: [Xoshiro256StarStar]

    public init(count: Int) {
        precondition(count >= 1)
        self.count = count
        states = [CartPole.State](repeating: (0, 0, 0, 0), count: count)
        episodeSteps = [Int](repeating: 0, count: count)
        episodeReturns = [Double](repeating: 0, count: count)
        rngs = (0..<count).map { Xoshiro256StarStar(seed: UInt64($0)) }
    }

    private mutating func resetOne(_ i: Int) {
        func u() -> Double { rngs[i].nextDouble() * 0.1 - 0.05 }
        let x = u(), xDot = u(), theta = u(), thetaDot = u()
        states[i] = (x, xDot, theta, thetaDot)
        episodeSteps[i] = 0
        episodeReturns[i] = 0
    }

    private func write(_ s: CartPole.State, to obs: inout [Float], row i: Int) {
        obs[i * 4] = Float(s.x)
        obs[i * 4 + 1] = Float(s.xDot)
        obs[i * 4 + 2] = Float(s.theta)
        obs[i * 4 + 3] = Float(s.thetaDot)
    }

    public mutating func reset(seed: UInt64, into buffers: inout VectorStepBuffers) {
        precondition(buffers.count == count && buffers.observationSize == 4)
        var sm = SplitMix64(seed: seed)
        for i in 0..<count {
            rngs[i] = Xoshiro256StarStar(seed: sm.next())
            resetOne(i)
            write(states[i], to: &buffers.observations, row: i)
            buffers.rewards[i] = 0
            buffers.terminated[i] = false
            buffers.truncated[i] = false
        }
        buffers.finishedEpisodeReturns.removeAll(keepingCapacity: true)
        buffers.finishedEpisodeLengths.removeAll(keepingCapacity: true)
    }

    public mutating func step(actions: [Int32], into buffers: inout VectorStepBuffers) {
        precondition(actions.count == count && buffers.count == count && buffers.observationSize == 4)
        buffers.finishedEpisodeReturns.removeAll(keepingCapacity: true)
        buffers.finishedEpisodeLengths.removeAll(keepingCapacity: true)
        for i in 0..<count {
            let s = CartPole.step(states[i], action: actions[i])
            states[i] = s
            episodeSteps[i] += 1
            episodeReturns[i] += 1
            let terminated = CartPole.isTerminal(s)
            let truncated = !terminated && episodeSteps[i] >= CartPole.maxEpisodeSteps
            buffers.rewards[i] = 1
            buffers.terminated[i] = terminated
            buffers.truncated[i] = truncated
            if terminated || truncated {
                write(s, to: &buffers.finalObservations, row: i)
                buffers.finishedEpisodeReturns.append(episodeReturns[i])
                buffers.finishedEpisodeLengths.append(episodeSteps[i])
                resetOne(i)
            }
            write(states[i], to: &buffers.observations, row: i)
        }
    }
}
