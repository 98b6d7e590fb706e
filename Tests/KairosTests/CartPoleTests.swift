import Foundation
import Testing

@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite("CartPole")
struct CartPoleTests {
    @Test("One Euler step from rest, pushing right, matches the hand-derived fractions")
    func stepFromRest() {
        // force 10: temp = 100/11; thetaacc = -(100/11) / (0.5 (4/3 - 0.1/1.1)) = -600/41;
        // xacc = temp + 0.05 (600/41) / 1.1 = 4400/451. Euler: x' = x_dot' ... with tau 0.02.
        let s = CartPole.step((0, 0, 0, 0), action: 1)
        #expect(s.x == 0)
        #expect(abs(s.xDot - 0.02 * 4400 / 451) < 1e-15)
        #expect(s.theta == 0)
        #expect(abs(s.thetaDot - 0.02 * -600 / 41) < 1e-15)
        // Pushing left mirrors it.
        let l = CartPole.step((0, 0, 0, 0), action: 0)
        #expect(l.xDot == -s.xDot && l.thetaDot == -s.thetaDot)
    }

    @Test("A tilted, moving state pushed left (values from Gymnasium's equations evaluated by hand in Python)")
    func stepTilted() {
        let s = CartPole.step((0.1, -0.2, 0.05, 0.3), action: 0)
        // x and theta advance by tau times the OLD velocities (explicit Euler, Gymnasium's default).
        #expect(abs(s.x - 0.096) < 1e-15)
        #expect(abs(s.theta - 0.056) < 1e-15)
        #expect(abs(s.xDot - -0.3957976546439626) < 1e-12)
        #expect(abs(s.thetaDot - 0.6080233136061515) < 1e-12)
    }

    @Test("Termination thresholds: |x| > 2.4 or |theta| > 12 degrees")
    func thresholds() {
        let t = 12 * 2 * Double.pi / 360
        #expect(!CartPole.isTerminal((2.4, 0, 0, 0)))
        #expect(CartPole.isTerminal((2.4000001, 0, 0, 0)))
        #expect(CartPole.isTerminal((-2.4000001, 0, 0, 0)))
        #expect(!CartPole.isTerminal((0, 0, t, 0)))
        #expect(CartPole.isTerminal((0, 0, t.nextUp, 0)))
        #expect(CartPole.isTerminal((0, 0, -t.nextUp, 0)))
    }

    @Test("Resets draw U(-0.05, 0.05); always pushing right terminates, reward 1 per step, auto-reset")
    func terminationAndReset() {
        var env = CartPoleVectorEnvironment(count: 3)
        var buf = VectorStepBuffers(count: 3, observationSize: 4)
        env.reset(seed: 7, into: &buf)
        #expect(buf.observations.allSatisfy { abs($0) <= 0.05 })
        #expect(Set(buf.observations).count == 12)  // independent draws per environment
        var steps = 0
        var ended = false
        while !ended && steps < 100 {
            let before = env.states[0]
            env.step(actions: [1, 1, 1], into: &buf)
            steps += 1
            #expect(buf.rewards == [1, 1, 1])
            if buf.terminated[0] {
                ended = true
                #expect(!buf.truncated[0])
                let last = CartPole.step(before, action: 1)
                #expect(CartPole.isTerminal(last))
                #expect(buf.finalObservations[0..<4] == [Float(last.x), Float(last.xDot), Float(last.theta), Float(last.thetaDot)])
                #expect(buf.finishedEpisodeReturns.contains(Double(steps)))
                #expect(buf.finishedEpisodeLengths.contains(steps))
                // Reset: the new episode's first observation is near zero again.
                #expect(buf.observations[0..<4].allSatisfy { abs($0) <= 0.05 })
                #expect(env.episodeSteps[0] == 0)
            } else {
                #expect(!CartPole.isTerminal(env.states[0]))
            }
        }
        #expect(ended)
        #expect(steps > 5 && steps < 40)
    }

    @Test("A balancing controller reaches the 500-step limit: truncated, not terminated")
    func truncation() {
        var env = CartPoleVectorEnvironment(count: 1)
        var buf = VectorStepBuffers(count: 1, observationSize: 4)
        env.reset(seed: 3, into: &buf)
        var length = 0
        while true {
            let o = buf.observations
            // PD on the pole angle plus a weak cart-centring term.
            let u = Double(o[2]) + 0.5 * Double(o[3]) + 0.01 * Double(o[0]) + 0.05 * Double(o[1])
            env.step(actions: [u > 0 ? 1 : 0], into: &buf)
            length += 1
            if buf.terminated[0] || buf.truncated[0] { break }
        }
        #expect(length == 500)
        #expect(buf.truncated[0] && !buf.terminated[0])
        #expect(buf.finishedEpisodeReturns == [500])
        #expect(buf.finishedEpisodeLengths == [500])
    }

    @Test("Same seed and actions give the same observations bit for bit; another seed differs")
    func determinism() {
        func run(_ seed: UInt64) -> [Float] {
            var env = CartPoleVectorEnvironment(count: 4)
            var buf = VectorStepBuffers(count: 4, observationSize: 4)
            env.reset(seed: seed, into: &buf)
            var trace = buf.observations
            for t in 0..<300 {
                env.step(actions: (0..<4).map { Int32(($0 + t / 3) % 2) }, into: &buf)
                trace += buf.observations
            }
            return trace
        }
        #expect(run(11) == run(11))
        #expect(run(11) != run(12))
    }
}
