// The trading environment of issue 5: many one-instrument accounts stepping together over one
// precomputed bar/feature matrix, episodes as random windows of the history. docs/agents.md.
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim


/// Parameters of a `TradingEnvironment`.
public struct TradingEnvironmentConfig: Sendable, Hashable, Codable {
    public var agent: AgentKind
    /// Decisions per episode (the episode is truncated after this many bars).
    public var episodeLength: Int
    public var costs: TradingCosts
    public var reward: TradingRewardConfig
    /// Episode-start sampling weights per regime (bull, bear, sideways, volatile): a start s is
    /// drawn with probability proportional to the mean weight of the labels of the bars its
    /// episode earns returns on. nil = uniform. Needs dataset labels.
    public var regimeWeights: [Double]?
    /// Bars before this index are never decided on (feature warm-up).
    public var warmupBars: Int

    public init(
        agent: AgentKind, episodeLength: Int = 256, costs: TradingCosts = TradingCosts(),
        reward: TradingRewardConfig = TradingRewardConfig(), regimeWeights: [Double]? = nil, warmupBars: Int = 30
    ) {
        self.agent = agent
        self.episodeLength = episodeLength
        self.costs = costs
        self.reward = reward
        self.regimeWeights = regimeWeights
        self.warmupBars = warmupBars
    }

    /// The agent's training defaults: its reward scale (`TradingRewardConfig.training`) and its
    /// regime weights (more sideways for the contrarian); costs 1 bp + 1 bp slippage.
    public static func training(_ agent: AgentKind, episodeLength: Int = 256) -> TradingEnvironmentConfig {
        TradingEnvironmentConfig(
            agent: agent, episodeLength: episodeLength, reward: .training(agent),
            regimeWeights: agent.defaultRegimeWeights)
    }
}

/// `count` trading accounts over one `TradingDataset`, stepped together (`VectorEnvironment`).
///
/// Episode of environment i: a start bar s is drawn (seeded; uniform or regime-weighted) from
/// the allowed bars so that s + episodeLength is still inside `range`; the first observation is
/// bar s with a flat, fresh account (equity 1). Each step takes action a (target position
/// `agent.targetPosition(action: a)`), trades at bar t's close (costs on turnover, see
/// `TradingAccount`), earns bar t+1's return, gives the agent's reward and moves to bar t+1.
/// After `episodeLength` steps the episode is truncated (`truncated`, bootstrap from
/// `finalObservations`); ruin (equity <= 0) terminates it. Either way the environment resets
/// at once (the contract's auto-reset).
///
/// Determinism: one xoshiro256** stream seeded by `reset(seed:)` draws every start, in
/// environment order, so equal seeds and actions give equal floats.
///
/// ## Implementation Notes
/// - Per-environment state is one `Slot` (account, reward state, cursor) in an array sized at
///   init; `step` is O(count * observationSize) and allocates nothing (the buffers are the
///   caller's; `finishedEpisode*` keep their capacity). Weighted starts use a cumulative table
///   built at init and a binary search per reset (O(log T)).
/// - `Sendable` because it is a value: every stored property is a value type (the dataset's
///   arrays are immutable and shared copy-on-write), so a copy handed to a trainer thread is an
///   independent environment and nothing is shared mutably.
public struct TradingEnvironment: VectorEnvironment, Sendable {
    struct Slot: Sendable {
        var t = 0
        var end = 0
        var account = TradingAccount()
        var rewardState: TradingRewardState
        var episodeReturn = 0.0
        var length = 0
        var lastStep = TradingStep(
            turnover: 0, cost: 0, netReturn: 0, drawdownBefore: 0, drawdownAfter: 0, ruined: false)
    }

    public let dataset: TradingDataset
    public let config: TradingEnvironmentConfig
    public let count: Int
    public var observationSize: Int { AgentObservation.size }
    public var actionCount: Int { AgentKind.actionCount }
    /// First and last (inclusive) allowed episode start.
    public let firstStart: Int
    public let lastStart: Int
    private var slots: [Slot]
    private var rng = Xoshiro256StarStar(seed: 0)
    /// cumulative[k] = total weight of starts firstStart ... firstStart + k (weighted mode).
    private let cumulative: [Double]?
    private let rewardKind: TradingRewardKind
    private let cap: Double
    private let costRate: Double

    /// - Parameters:
    ///   - range: the bars episodes may use (decisions and returns); default all.
    /// - Precondition: the range holds at least one window of episodeLength + 1 bars after the
    ///   warm-up; regime weights need dataset labels, 4 non-negative weights, a positive total.
    public init(dataset: TradingDataset, config: TradingEnvironmentConfig, count: Int, range: Range<Int>? = nil) {
        precondition(count >= 1, "need at least one environment")
        precondition(config.episodeLength >= 1, "episodeLength must be >= 1")
        let r = range ?? 0..<dataset.count
        precondition(r.lowerBound >= 0 && r.upperBound <= dataset.count, "range outside the dataset")
        let lo = max(r.lowerBound, config.warmupBars)
        let hi = r.upperBound - 1 - config.episodeLength
        precondition(hi >= lo, "range too short for one episode of \(config.episodeLength) bars after warm-up")
        self.dataset = dataset
        self.config = config
        self.count = count
        firstStart = lo
        lastStart = hi
        rewardKind = config.agent.reward
        cap = config.agent.leverageCap
        costRate = config.costs.rate
        slots = [Slot](repeating: Slot(rewardState: TradingRewardState(config: config.reward)), count: count)
        if let w = config.regimeWeights {
            precondition(w.count == 4 && w.allSatisfy { $0 >= 0 && $0.isFinite }, "4 non-negative regime weights")
            guard let labels = dataset.regimes else { preconditionFailure("regime weights need regime labels") }
            // prefix[t] = sum of weights of bars 0..<t; a start s earns returns on bars s+1 ... s+L.
            var prefix = [Double](repeating: 0, count: labels.count + 1)
            for t in labels.indices { prefix[t + 1] = prefix[t] + w[labels[t].rawValue] }
            let L = config.episodeLength
            var cum = [Double]()
            cum.reserveCapacity(hi - lo + 1)
            var acc = 0.0
            for s in lo...hi {
                acc += (prefix[s + L + 1] - prefix[s + 1]) / Double(L)
                cum.append(acc)
            }
            precondition(acc > 0, "regime weights give every start zero weight")
            cumulative = cum
        } else {
            cumulative = nil
        }
    }

    /// Draws an episode start (uniform or regime-weighted).
    private mutating func drawStart() -> Int {
        let u = rng.nextDouble()
        guard let cum = cumulative else {
            return firstStart + min(Int(u * Double(lastStart - firstStart + 1)), lastStart - firstStart)
        }
        let x = u * cum[cum.count - 1]
        // First k with cum[k] > x (exists: x < total).
        var lo = 0, hi = cum.count - 1
        while lo < hi {
            let mid = (lo + hi) >> 1
            if cum[mid] > x { hi = mid } else { lo = mid + 1 }
        }
        return firstStart + lo
    }

    private mutating func startEpisode(_ i: Int, observations: UnsafeMutablePointer<Float>) {
        let s = drawStart()
        slots[i] = Slot(t: s, end: s + config.episodeLength, rewardState: TradingRewardState(config: config.reward))
        writeObservation(i, into: observations + i * AgentObservation.size)
    }

    private func writeObservation(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        let slot = slots[i]
        let m = AgentObservation.marketSize
        dataset.market.withUnsafeBufferPointer { market in
            out.update(from: market.baseAddress! + slot.t * m, count: m)
        }
        AgentObservation.writeAccount(
            position: slot.account.target,
            unrealizedPnLBps: slot.account.unrealizedPnLBps(price: dataset.closes[slot.t]), into: out)
    }

    public mutating func reset(seed: UInt64, into buffers: inout VectorStepBuffers) {
        precondition(buffers.count == count && buffers.observationSize == observationSize, "buffer shape")
        rng = Xoshiro256StarStar(seed: seed)
        buffers.finishedEpisodeReturns.removeAll(keepingCapacity: true)
        buffers.finishedEpisodeLengths.removeAll(keepingCapacity: true)
        buffers.observations.withUnsafeMutableBufferPointer { obs in
            for i in 0..<count { startEpisode(i, observations: obs.baseAddress!) }
        }
        for i in 0..<count {
            buffers.rewards[i] = 0
            buffers.terminated[i] = false
            buffers.truncated[i] = false
        }
    }

    public mutating func step(actions: [Int32], into buffers: inout VectorStepBuffers) {
        precondition(actions.count == count, "one action per environment")
        precondition(buffers.count == count && buffers.observationSize == observationSize, "buffer shape")
        buffers.finishedEpisodeReturns.removeAll(keepingCapacity: true)
        buffers.finishedEpisodeLengths.removeAll(keepingCapacity: true)
        let size = AgentObservation.size
        let scale = config.reward.scale
        for i in 0..<count {
            let a = actions[i]
            precondition(a >= 0 && a < 3, "action out of range")
            let p = Double(a - 1) * cap
            var slot = slots[i]
            let t = slot.t
            let st = slot.account.step(
                target: p, price: dataset.closes[t], nextPrice: dataset.closes[t + 1], costRate: costRate)
            let reward = slot.rewardState.reward(
                rewardKind, config: config.reward, step: st, position: p, zScore: dataset.zScores[t]) * scale
            slot.t = t + 1
            slot.length += 1
            slot.episodeReturn += reward
            slot.lastStep = st
            slots[i] = slot
            buffers.rewards[i] = Float(reward)
            let ended = st.ruined || slot.t == slot.end
            buffers.terminated[i] = st.ruined
            buffers.truncated[i] = !st.ruined && ended
            if ended {
                buffers.finishedEpisodeReturns.append(slot.episodeReturn)
                buffers.finishedEpisodeLengths.append(slot.length)
                buffers.finalObservations.withUnsafeMutableBufferPointer { f in
                    writeObservation(i, into: f.baseAddress! + i * size)
                }
                buffers.observations.withUnsafeMutableBufferPointer { o in startEpisode(i, observations: o.baseAddress!) }
                slots[i].lastStep = st  // the step just taken stays inspectable across the reset
            } else {
                buffers.observations.withUnsafeMutableBufferPointer { o in
                    writeObservation(i, into: o.baseAddress! + i * size)
                }
            }
        }
    }

    /// What environment i holds now: its account, current bar, and the last step's accounting
    /// (for tests, diagnostics and progress displays).
    public func account(of i: Int) -> TradingAccount { slots[i].account }
    public func currentBar(of i: Int) -> Int { slots[i].t }
    public func episodeEnd(of i: Int) -> Int { slots[i].end }
    public func lastStep(of i: Int) -> TradingStep { slots[i].lastStep }
}
