import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct TradingEnvironmentTests {
    static let dataset: TradingDataset = try! TradingDataset.synthetic(count: 3_000, seed: 21)

    static func randomActions(_ g: inout Xoshiro256StarStar, _ n: Int) -> [Int32] {
        (0..<n).map { _ in Int32(g.next() % 3) }
    }

    @Test func shapesAndFirstObservation() {
        var env = TradingEnvironment(dataset: Self.dataset, config: .training(.balanced, episodeLength: 64), count: 8)
        var buf = VectorStepBuffers(count: 8, observationSize: env.observationSize)
        #expect(env.observationSize == AgentObservation.size && env.actionCount == 3)
        env.reset(seed: 1, into: &buf)
        let m = AgentObservation.marketSize
        for i in 0..<8 {
            let t = env.currentBar(of: i)
            #expect(t >= env.firstStart && t <= env.lastStart)
            #expect(env.episodeEnd(of: i) == t + 64)
            let row = Array(buf.observations[(i * AgentObservation.size)..<(i * AgentObservation.size + m)])
            #expect(row == Array(Self.dataset.marketRow(t)))
            #expect(buf.observations[i * AgentObservation.size + m] == 0)  // flat
            #expect(buf.observations[i * AgentObservation.size + m + 1] == 0)  // no PnL
        }
    }

    @Test(arguments: AgentKind.allCases)
    func positionsStayWithinTheCapAndCostsAreChargedOnTurnover(agent: AgentKind) {
        var cfg = TradingEnvironmentConfig.training(agent, episodeLength: 50)
        cfg.costs = TradingCosts(costBps: 3, slippageBps: 4)
        let n = 6
        var env = TradingEnvironment(dataset: Self.dataset, config: cfg, count: n)
        var buf = VectorStepBuffers(count: n, observationSize: env.observationSize)
        env.reset(seed: 7, into: &buf)
        var g = Xoshiro256StarStar(seed: 3)
        let closes = Self.dataset.closes
        for _ in 0..<400 {
            let actions = Self.randomActions(&g, n)
            let before = (0..<n).map { (env.account(of: $0), env.currentBar(of: $0)) }
            env.step(actions: actions, into: &buf)
            for i in 0..<n {
                let (acc, t) = before[i]
                let p = agent.targetPosition(action: actions[i])
                #expect(abs(p) <= agent.leverageCap)
                let st = env.lastStep(of: i)
                // Turnover against the drifted holding, cost = rate * turnover, exactly.
                #expect(st.turnover == abs(p - acc.held))
                #expect(st.cost == cfg.costs.rate * st.turnover)
                let r = closes[t + 1] / closes[t] - 1
                #expect(st.netReturn == (1 - st.cost) * (1 + p * r) - 1)
                let obs = (buf.truncated[i] ? buf.finalObservations : buf.observations)
                #expect(obs[i * AgentObservation.size + AgentObservation.positionIndex] == Float(p))
            }
        }
    }

    /// The environment's rewards are the reward formulas of its agent over its own accounting,
    /// times the training scale (a shadow reward state per environment, reset with the episode).
    @Test(arguments: AgentKind.allCases)
    func rewardsAreTheAgentsFormulaTimesTheScale(agent: AgentKind) {
        let cfg = TradingEnvironmentConfig.training(agent, episodeLength: 25)
        #expect(cfg.reward.scale == (agent == .balanced ? 1 : 100))
        let n = 3
        var env = TradingEnvironment(dataset: Self.dataset, config: cfg, count: n)
        var buf = VectorStepBuffers(count: n, observationSize: env.observationSize)
        env.reset(seed: 8, into: &buf)
        var shadow = [TradingRewardState](repeating: TradingRewardState(config: cfg.reward), count: n)
        var g = Xoshiro256StarStar(seed: 9)
        for _ in 0..<200 {
            let actions = Self.randomActions(&g, n)
            let bars = (0..<n).map { env.currentBar(of: $0) }
            env.step(actions: actions, into: &buf)
            for i in 0..<n {
                let p = agent.targetPosition(action: actions[i])
                let expected = shadow[i].reward(
                    agent.reward, config: cfg.reward, step: env.lastStep(of: i), position: p,
                    zScore: Self.dataset.zScores[bars[i]]) * cfg.reward.scale
                #expect(buf.rewards[i] == Float(expected))
                if buf.truncated[i] || buf.terminated[i] { shadow[i] = TradingRewardState(config: cfg.reward) }
            }
        }
    }

    @Test func episodesAreTruncatedAtTheWindowEndAndAutoReset() {
        let L = 40, n = 5
        var env = TradingEnvironment(dataset: Self.dataset, config: .training(.aggressive, episodeLength: L), count: n)
        var buf = VectorStepBuffers(count: n, observationSize: env.observationSize)
        env.reset(seed: 99, into: &buf)
        let starts = (0..<n).map { env.currentBar(of: $0) }
        var g = Xoshiro256StarStar(seed: 5)
        var sums = [Double](repeating: 0, count: n)
        var lastAcc = [TradingAccount](repeating: TradingAccount(), count: n)
        for k in 1...L {
            env.step(actions: Self.randomActions(&g, n), into: &buf)
            for i in 0..<n { sums[i] += Double(buf.rewards[i]) }
            if k < L {
                #expect(buf.truncated.allSatisfy { !$0 } && buf.terminated.allSatisfy { !$0 })
                #expect(buf.finishedEpisodeLengths.isEmpty && buf.finishedEpisodeReturns.isEmpty)
                lastAcc = (0..<n).map { env.account(of: $0) }
            }
        }
        _ = lastAcc
        #expect(buf.truncated.allSatisfy { $0 } && buf.terminated.allSatisfy { !$0 })
        #expect(buf.finishedEpisodeLengths == [Int](repeating: L, count: n))
        let m = AgentObservation.marketSize, size = AgentObservation.size
        for i in 0..<n {
            // Episode return = sum of the episode's rewards (in Double; the per-step Floats differ
            // only by rounding).
            #expect(abs(buf.finishedEpisodeReturns[i] - sums[i]) < 1e-5 * max(1, abs(sums[i])))
            // Final observation = bar start + L; next observation = a fresh episode, flat.
            let fin = Array(buf.finalObservations[(i * size)..<(i * size + m)])
            #expect(fin == Array(Self.dataset.marketRow(starts[i] + L)))
            let t = env.currentBar(of: i)
            #expect(Array(buf.observations[(i * size)..<(i * size + m)]) == Array(Self.dataset.marketRow(t)))
            #expect(buf.observations[i * size + m] == 0 && buf.observations[i * size + m + 1] == 0)
            #expect(env.account(of: i).equity == 1)
            #expect(env.episodeEnd(of: i) == t + L)
        }
        // The next step is an ordinary step of the new episodes.
        env.step(actions: [Int32](repeating: 1, count: n), into: &buf)
        #expect(buf.truncated.allSatisfy { !$0 } && buf.finishedEpisodeLengths.isEmpty)
    }

    @Test func ruinTerminatesWithoutBootstrap() throws {
        // Price halves then recovers: 2x long is ruined on the crash bar.
        var closes = [Double](repeating: 100, count: 40)
        closes += [100, 45, 50, 55, 60, 65]
        let bars = closes.enumerated().map { k, c in
            Bar(timestamp: Int64(k) * 86_400_000_000_000, open: c, high: c, low: c, close: c, volume: 1)
        }
        let ds = try TradingDataset(bars: bars)
        var cfg = TradingEnvironmentConfig(agent: .aggressive, episodeLength: 3, warmupBars: 40)
        cfg.costs = .zero
        var env = TradingEnvironment(dataset: ds, config: cfg, count: 1, range: 0..<44)
        var buf = VectorStepBuffers(count: 1, observationSize: env.observationSize)
        env.reset(seed: 0, into: &buf)
        #expect(env.currentBar(of: 0) == 40)  // the only start
        env.step(actions: [2], into: &buf)
        #expect(buf.terminated[0] && !buf.truncated[0])
        #expect(buf.finishedEpisodeLengths == [1])
        #expect(buf.rewards[0] == Float(log(1e-12)))
        #expect(env.currentBar(of: 0) == 40 && env.account(of: 0).equity == 1)
    }

    @Test func sameSeedSameFloatsDifferentSeedDifferentStarts() {
        func run(seed: UInt64) -> ([Float], [Float], [Int]) {
            var env = TradingEnvironment(dataset: Self.dataset, config: .training(.contrarian, episodeLength: 30), count: 4)
            var buf = VectorStepBuffers(count: 4, observationSize: env.observationSize)
            env.reset(seed: seed, into: &buf)
            var g = Xoshiro256StarStar(seed: 1234)
            var obs = buf.observations, rew = [Float](), starts = (0..<4).map { env.currentBar(of: $0) }
            for _ in 0..<100 {
                env.step(actions: Self.randomActions(&g, 4), into: &buf)
                obs += buf.observations
                rew += buf.rewards
                if buf.truncated[0] { starts.append(env.currentBar(of: 0)) }
            }
            return (obs, rew, starts)
        }
        let a = run(seed: 42), b = run(seed: 42), c = run(seed: 43)
        #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2)
        #expect(a.2 != c.2)
    }

    @Test func regimeWeightsSteerEpisodeStarts() {
        let labels = Self.dataset.regimes!
        let L = 20
        func sidewaysShare(_ weights: [Double]?) -> Double {
            var cfg = TradingEnvironmentConfig(agent: .contrarian, episodeLength: L, regimeWeights: weights)
            cfg.costs = .zero
            var env = TradingEnvironment(dataset: Self.dataset, config: cfg, count: 1)
            var buf = VectorStepBuffers(count: 1, observationSize: env.observationSize)
            var sideways = 0, total = 0
            for seed in 0..<400 as Range<UInt64> {
                env.reset(seed: seed, into: &buf)
                let s = env.currentBar(of: 0)
                let window = labels[(s + 1)...(s + L)]
                if weights == [0, 0, 1, 0] { #expect(window.contains(.sideways)) }
                sideways += window.filter { $0 == .sideways }.count
                total += L
            }
            return Double(sideways) / Double(total)
        }
        let uniform = sidewaysShare(nil), weighted = sidewaysShare([1, 1, 3, 1]), only = sidewaysShare([0, 0, 1, 0])
        #expect(weighted > uniform)
        #expect(only > weighted)
    }

    @Test func stepAllocatesNoPerStepStateBeyondTheBuffers() {
        // The buffers keep their storage across steps (no reallocation by the environment).
        var env = TradingEnvironment(dataset: Self.dataset, config: .training(.balanced, episodeLength: 16), count: 16)
        var buf = VectorStepBuffers(count: 16, observationSize: env.observationSize)
        env.reset(seed: 3, into: &buf)
        let actions = [Int32](repeating: 2, count: 16)
        env.step(actions: actions, into: &buf)
        let base = buf.observations.withUnsafeBufferPointer { $0.baseAddress }
        let finBase = buf.finalObservations.withUnsafeBufferPointer { $0.baseAddress }
        let cap = buf.finishedEpisodeReturns.capacity
        for _ in 0..<100 { env.step(actions: actions, into: &buf) }
        #expect(buf.observations.withUnsafeBufferPointer { $0.baseAddress } == base)
        #expect(buf.finalObservations.withUnsafeBufferPointer { $0.baseAddress } == finBase)
        #expect(buf.finishedEpisodeReturns.capacity == cap)
    }
}
