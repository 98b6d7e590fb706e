// Proximal Policy Optimization (Schulman et al. 2017) for discrete actions over a
// VectorEnvironment: rollout, GAE(λ), clipped surrogate, value loss, entropy bonus, Adam with
// global-norm clipping, observation normalisation. Deterministic given a seed.
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import CKairos
import Foundation

/// PPO hyper-parameters. The defaults are RL Baselines3 Zoo's tuned CartPole-v1 settings
/// (8 environments × 32 steps, 20 epochs over the 256 samples, γ 0.98, λ 0.8, learning rate and
/// clip range annealed linearly to 0, no entropy bonus), with the CleanRL value-loss form.
public struct PPOConfig: Codable, Sendable, Equatable {
    /// Environments stepped together (must match the `VectorEnvironment`'s `count`).
    public var numEnvironments = 8
    /// Steps per environment per rollout (`nSteps`); a rollout holds `numEnvironments × stepsPerRollout` samples.
    public var stepsPerRollout = 32
    /// Samples per gradient step (the last minibatch of an epoch may be smaller).
    public var minibatchSize = 256
    /// Passes over each rollout.
    public var epochs = 20
    /// Discount factor γ.
    public var gamma = 0.98
    /// GAE λ.
    public var gaeLambda = 0.8
    /// Surrogate clip ε: the ratio is clipped to [1-ε, 1+ε].
    public var clipRange = 0.2
    /// Anneal ε linearly to 0 over the run (as the learning rate).
    public var annealClipRange = true
    /// When set, the value prediction is clipped to `oldValue ± valueClipRange` (PPO2 style) and
    /// the larger of the clipped/unclipped squared errors is used.
    public var valueClipRange: Double? = nil
    /// Entropy bonus coefficient (the loss subtracts `c × entropy`).
    public var entropyCoefficient = 0.0
    /// Value loss coefficient; value loss is `0.5 × mean((V - R)²)`.
    public var valueCoefficient = 0.5
    /// Global L2 norm the actor + critic gradient is clipped to.
    public var maxGradNorm = 0.5
    /// Adam step size (initial value when annealed).
    public var learningRate = 1e-3
    /// Anneal the learning rate linearly to 0 over the run.
    public var annealLearningRate = true
    public var adamEpsilon = 1e-5
    /// Normalise advantages per minibatch (mean 0, std 1).
    public var normalizeAdvantages = true
    /// Normalise observations by running mean/variance (saved with the model).
    public var normalizeObservations = true
    /// Hidden layer widths of both actor and critic (tanh).
    public var hiddenSizes = [64, 64]
    /// Stop an update's epochs early when the approximate KL of a minibatch exceeds this.
    public var targetKL: Double? = nil

    public init() {}

    /// Samples per rollout.
    public var rolloutSize: Int { numEnvironments * stepsPerRollout }
}

/// One update's figures, handed to the progress callback.
public struct PPOProgress: Sendable {
    /// Updates done in the current run (since `plan` / `train`), 1-based.
    public var update = 0
    /// Updates planned for the current run (0 without a plan).
    public var updates = 0
    /// Environment steps so far (all environments).
    public var steps = 0
    /// Environment steps per second of wall time, rollouts and updates included.
    public var stepsPerSecond = 0.0
    /// Mean undiscounted return of the last (up to) 100 finished episodes; NaN before the first.
    public var meanEpisodeReturn = Double.nan
    public var meanEpisodeLength = Double.nan
    public var episodes = 0
    public var policyLoss = 0.0
    public var valueLoss = 0.0
    public var entropy = 0.0
    /// Mean of `(r - 1) - log r` (Schulman's low-variance KL(old‖new) estimator).
    public var approxKL = 0.0
    /// Fraction of samples whose ratio left [1-ε, 1+ε].
    public var clipFraction = 0.0
    public var learningRate = 0.0
    public var gradientNorm = 0.0
    public var elapsedSeconds = 0.0
}

/// The PPO loss of one minibatch, its gradient with respect to both networks' parameters, and
/// its statistics. Separate from the trainer so the gradient check can evaluate it directly.
struct PPOLoss {
    struct Stats {
        var total = 0.0, policy = 0.0, value = 0.0, entropy = 0.0, approxKL = 0.0, clipFraction = 0.0
    }

    /// Zeroes both networks' gradients, runs forward on `obs` (`count` rows), computes the loss
    /// and backpropagates it. `dLogits` (`count × actionCount`) and `dValues` (`count`) are scratch.
    /// Sums are in Double so the loss is precise enough for finite differences.
    static func evaluate(actor: DenseNetwork, critic: DenseNetwork, obs: UnsafePointer<Float>, actions: UnsafePointer<Int32>,
                         oldLogProbs: UnsafePointer<Float>, advantages: UnsafePointer<Float>,
                         returns: UnsafePointer<Float>, oldValues: UnsafePointer<Float>, count n: Int, clipRange: Double,
                         valueClipRange: Double?, entropyCoefficient: Double, valueCoefficient: Double,
                         dLogits: UnsafeMutablePointer<Float>, dValues: UnsafeMutablePointer<Float>) -> Stats {
        actor.zeroGradients()
        critic.zeroGradients()
        let a = actor.outputSize
        let logits = actor.forward(obs, count: n)
        let values = critic.forward(obs, count: n)
        var st = Stats()
        let invN = 1.0 / Double(n)
        let lo = 1 - clipRange, hi = 1 + clipRange
        for r in 0..<n {
            let z = logits + r * a
            var mx = z[0]
            for j in 1..<a { mx = max(mx, z[j]) }
            var sum = 0.0
            for j in 0..<a { sum += Foundation.exp(Double(z[j] - mx)) }
            let logSum = Foundation.log(sum)
            // Entropy H = -Σ p log p.
            var h = 0.0
            for j in 0..<a {
                let lp = Double(z[j] - mx) - logSum
                h -= Foundation.exp(lp) * lp
            }
            let act = Int(actions[r])
            let logp = Double(z[act] - mx) - logSum
            let logRatio = logp - Double(oldLogProbs[r])
            let ratio = Foundation.exp(logRatio)
            let adv = Double(advantages[r])
            let s1 = ratio * adv, s2 = min(max(ratio, lo), hi) * adv
            st.policy -= min(s1, s2) * invN
            st.entropy += h * invN
            st.approxKL += ((ratio - 1) - logRatio) * invN
            if ratio < lo || ratio > hi { st.clipFraction += invN }
            // d(-min(s1,s2))/dlogp: the unclipped branch is active when s1 <= s2; otherwise the
            // ratio is outside the clip range and the clipped branch is flat.
            let dLogp = s1 <= s2 ? -adv * ratio * invN : 0
            for j in 0..<a {
                let lp = Double(z[j] - mx) - logSum
                let p = Foundation.exp(lp)
                // dlogp_act/dz_j = [j == act] - p_j;  d(-c H)/dz_j = c p_j (log p_j + H).
                var g = dLogp * ((j == act ? 1 : 0) - p)
                g += entropyCoefficient * invN * p * (lp + h)
                dLogits[r * a + j] = Float(g)
            }
            let v = Double(values[r]), ret = Double(returns[r])
            var vErr = v - ret
            var vLoss = 0.5 * vErr * vErr
            if let c = valueClipRange {
                let old = Double(oldValues[r])
                let vClipped = old + min(max(v - old, -c), c)
                let cErr = vClipped - ret
                let cLoss = 0.5 * cErr * cErr
                if cLoss > vLoss {
                    vLoss = cLoss
                    // The clipped prediction moves with v only inside the clip band.
                    vErr = abs(v - old) < c ? cErr : 0
                }
            }
            st.value += vLoss * invN
            dValues[r] = Float(valueCoefficient * vErr * invN)
        }
        st.total = st.policy + valueCoefficient * st.value - entropyCoefficient * st.entropy
        actor.backward(input: obs, dOutput: dLogits, count: n)
        critic.backward(input: obs, dOutput: dValues, count: n)
        return st
    }
}

/// GAE(λ) (Schulman et al. 2016) over a time-major rollout (sample `t * environments + i`):
/// `δ_t = r_t + γ V_{t+1} (1 - done_t) - V_t`, `A_t = δ_t + γ λ (1 - done_t) A_{t+1}`,
/// `R_t = A_t + V_t`, with `V_{T} = lastValues`. `done_t` ends the recursion whether the episode
/// terminated or was truncated: a truncated step's reward must already include `γ V(s_final)`.
/// O(steps × environments), no allocation.
func generalizedAdvantages(rewards: UnsafePointer<Float>, values: UnsafePointer<Float>, dones: UnsafePointer<Bool>,
                           lastValues: UnsafePointer<Float>, environments nEnv: Int, steps nSteps: Int, gamma: Float,
                           lambda: Float, advantages: UnsafeMutablePointer<Float>, returns: UnsafeMutablePointer<Float>) {
    for i in 0..<nEnv {
        var gae: Float = 0
        for t in stride(from: nSteps - 1, through: 0, by: -1) {
            let k = t * nEnv + i
            let nextValue = t == nSteps - 1 ? lastValues[i] : values[k + nEnv]
            let notDone: Float = dones[k] ? 0 : 1
            let delta = rewards[k] + gamma * nextValue * notDone - values[k]
            gae = delta + gamma * lambda * notDone * gae
            advantages[k] = gae
            returns[k] = gae + values[k]
        }
    }
}

/// The PPO learner over one `VectorEnvironment`.
///
/// ## Implementation Notes
/// - Everything is allocated in `init`: the networks (batch capacity `max(numEnvironments,
///   minibatchSize)`), Adam state, the rollout storage (`rolloutSize` samples) and all scratch.
///   `iterate()` (one rollout + one update) allocates nothing on its per-step and per-minibatch
///   paths beyond what the environment does.
/// - One seed drives everything: network initialisation, the environments' reset seed,
///   action sampling and minibatch shuffling each come from their own SplitMix64-derived
///   `Xoshiro256StarStar` stream, and the C kernels' summation order is fixed, so two trainers
///   built with the same seed, environment and config produce identical weights.
/// - Terminated vs truncated: both end the GAE recursion (the next stored observation belongs
///   to a new episode), but a truncated step's reward is augmented by `γ V(finalObservation)`,
///   which is exactly the bootstrap the truncated episode would have had.
/// - Costs per update: rollout O(T·N·(actor + critic)), update O(epochs · T·N · 3(actor + critic)).
/// - Not `Sendable` (owns networks with scratch): one thread per trainer; train several agents
///   with one trainer per thread.
public final class PPOTrainer<Env: VectorEnvironment> {
    public private(set) var environment: Env
    public let config: PPOConfig
    public let seed: UInt64
    public let actor: DenseNetwork
    public let critic: DenseNetwork
    public private(set) var normalizer: RunningObservationNormalizer
    public private(set) var steps = 0
    public private(set) var updatesDone = 0
    public private(set) var episodes = 0

    private let actorAdam: AdamOptimizer
    private let criticAdam: AdamOptimizer
    private var sampleRNG: Xoshiro256StarStar
    private var shuffleRNG: Xoshiro256StarStar
    private var buffers: VectorStepBuffers
    private var actions: [Int32]
    private var permutation: [Int]
    private let obsSize: Int
    private let actionCount: Int
    private let nEnv: Int
    private let nSteps: Int

    // Rollout storage, rolloutSize samples (time-major: sample t*N + i).
    private let obsBuf: UnsafeMutablePointer<Float>
    private let actionBuf: UnsafeMutablePointer<Int32>
    private let logpBuf: UnsafeMutablePointer<Float>
    private let valueBuf: UnsafeMutablePointer<Float>
    private let rewardBuf: UnsafeMutablePointer<Float>
    private let doneBuf: UnsafeMutablePointer<Bool>
    private let advBuf: UnsafeMutablePointer<Float>
    private let retBuf: UnsafeMutablePointer<Float>
    // Scratch.
    private let lastValues: UnsafeMutablePointer<Float>
    private let finalObs: UnsafeMutablePointer<Float>
    private let finalRows: UnsafeMutablePointer<Int>
    private let mbObs: UnsafeMutablePointer<Float>
    private let mbActions: UnsafeMutablePointer<Int32>
    private let mbLogp: UnsafeMutablePointer<Float>
    private let mbAdv: UnsafeMutablePointer<Float>
    private let mbRet: UnsafeMutablePointer<Float>
    private let mbVal: UnsafeMutablePointer<Float>
    private let dLogits: UnsafeMutablePointer<Float>
    private let dValues: UnsafeMutablePointer<Float>
    // The last 100 finished episodes (ring).
    private var recentReturns = [Double](repeating: 0, count: 100)
    private var recentLengths = [Double](repeating: 0, count: 100)
    private var recentCount = 0
    private var recentNext = 0
    /// The schedule of the current run: updates planned and `updatesDone` when it was planned.
    /// nil before `plan` / `train`: no annealing.
    private var schedule: (start: Int, updates: Int)? = nil

    /// - Parameters:
    ///   - environment: `count` must equal `config.numEnvironments`. It is reset here.
    public init(environment: Env, config: PPOConfig = PPOConfig(), seed: UInt64, path: MLP.Path = .auto) {
        precondition(environment.count == config.numEnvironments, "PPOTrainer: environment.count != numEnvironments")
        precondition(config.stepsPerRollout >= 1 && config.minibatchSize >= 1 && config.epochs >= 1)
        self.environment = environment
        self.config = config
        self.seed = seed
        obsSize = environment.observationSize
        actionCount = environment.actionCount
        nEnv = environment.count
        nSteps = config.stepsPerRollout
        var streams = SplitMix64(seed: seed)
        var initRNG = Xoshiro256StarStar(seed: streams.next())
        let envSeed = streams.next()
        sampleRNG = Xoshiro256StarStar(seed: streams.next())
        shuffleRNG = Xoshiro256StarStar(seed: streams.next())
        let maxBatch = max(nEnv, min(config.minibatchSize, config.rolloutSize))
        actor = DenseNetwork(layerSizes: [obsSize] + config.hiddenSizes + [actionCount], maxBatch: maxBatch, path: path)
        critic = DenseNetwork(layerSizes: [obsSize] + config.hiddenSizes + [1], maxBatch: maxBatch, path: path)
        actor.initializeOrthogonal(rng: &initRNG, outputGain: 0.01)
        critic.initializeOrthogonal(rng: &initRNG, outputGain: 1)
        actorAdam = AdamOptimizer(count: actor.parameterCount, path: path)
        criticAdam = AdamOptimizer(count: critic.parameterCount, path: path)
        actorAdam.epsilon = Float(config.adamEpsilon)
        criticAdam.epsilon = Float(config.adamEpsilon)
        normalizer = RunningObservationNormalizer(size: obsSize)
        buffers = VectorStepBuffers(count: nEnv, observationSize: obsSize)
        actions = [Int32](repeating: 0, count: nEnv)
        permutation = Array(0..<config.rolloutSize)
        let b = config.rolloutSize
        func alloc<T>(_ n: Int, _ v: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: n)
            p.initialize(repeating: v, count: n)
            return p
        }
        obsBuf = alloc(b * obsSize, 0)
        actionBuf = alloc(b, 0)
        logpBuf = alloc(b, 0)
        valueBuf = alloc(b, 0)
        rewardBuf = alloc(b, 0)
        doneBuf = alloc(b, false)
        advBuf = alloc(b, 0)
        retBuf = alloc(b, 0)
        lastValues = alloc(nEnv, 0)
        finalObs = alloc(nEnv * obsSize, 0)
        finalRows = alloc(nEnv, 0)
        mbObs = alloc(maxBatch * obsSize, 0)
        mbActions = alloc(maxBatch, 0)
        mbLogp = alloc(maxBatch, 0)
        mbAdv = alloc(maxBatch, 0)
        mbRet = alloc(maxBatch, 0)
        mbVal = alloc(maxBatch, 0)
        dLogits = alloc(maxBatch * actionCount, 0)
        dValues = alloc(maxBatch, 0)
        self.environment.reset(seed: envSeed, into: &buffers)
    }

    deinit {
        for p in [obsBuf, logpBuf, valueBuf, rewardBuf, advBuf, retBuf, lastValues, finalObs, mbObs, mbLogp, mbAdv,
                  mbRet, mbVal, dLogits, dValues] { p.deallocate() }
        actionBuf.deallocate()
        mbActions.deallocate()
        doneBuf.deallocate()
        finalRows.deallocate()
    }

    /// Writes the policy's input for `rows` raw observations: normalised or copied.
    private func prepare(_ raw: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int) {
        if config.normalizeObservations {
            normalizer.normalize(raw, into: out, rows: rows)
        } else {
            out.update(from: raw, count: rows * obsSize)
        }
    }

    private func recordEpisodes() {
        for k in 0..<buffers.finishedEpisodeReturns.count {
            recentReturns[recentNext] = buffers.finishedEpisodeReturns[k]
            recentLengths[recentNext] = Double(buffers.finishedEpisodeLengths[k])
            recentNext = (recentNext + 1) % recentReturns.count
            recentCount = min(recentCount + 1, recentReturns.count)
            episodes += 1
        }
    }

    /// Mean return and length of the last (up to) 100 finished episodes (NaN before any).
    public var recentEpisodeStats: (meanReturn: Double, meanLength: Double) {
        guard recentCount > 0 else { return (.nan, .nan) }
        var r = 0.0, l = 0.0
        for k in 0..<recentCount {
            r += recentReturns[k]
            l += recentLengths[k]
        }
        return (r / Double(recentCount), l / Double(recentCount))
    }

    /// Collects `stepsPerRollout` steps in every environment and computes advantages and returns.
    private func collectRollout() {
        let gamma = Float(config.gamma)
        for t in 0..<nSteps {
            let base = t * nEnv
            let obsSlot = obsBuf + base * obsSize
            buffers.observations.withUnsafeBufferPointer { raw in
                if config.normalizeObservations { normalizer.update(raw.baseAddress!, rows: nEnv) }
                prepare(raw.baseAddress!, into: obsSlot, rows: nEnv)
            }
            let logits = actor.forward(obsSlot, count: nEnv)
            for i in 0..<nEnv {
                let z = logits + i * actionCount
                var mx = z[0]
                for j in 1..<actionCount { mx = max(mx, z[j]) }
                var sum = 0.0
                for j in 0..<actionCount { sum += Foundation.exp(Double(z[j] - mx)) }
                // Inverse CDF on one uniform: deterministic in the sample stream.
                let u = sampleRNG.nextDouble() * sum
                var acc = 0.0
                var a = actionCount - 1
                for j in 0..<actionCount {
                    acc += Foundation.exp(Double(z[j] - mx))
                    if u < acc {
                        a = j
                        break
                    }
                }
                actions[i] = Int32(a)
                actionBuf[base + i] = Int32(a)
                logpBuf[base + i] = Float(Double(z[a] - mx) - Foundation.log(sum))
            }
            let values = critic.forward(obsSlot, count: nEnv)
            (valueBuf + base).update(from: values, count: nEnv)
            environment.step(actions: actions, into: &buffers)
            steps += nEnv
            recordEpisodes()
            var nFinal = 0
            for i in 0..<nEnv {
                rewardBuf[base + i] = buffers.rewards[i]
                doneBuf[base + i] = buffers.terminated[i] || buffers.truncated[i]
                if buffers.truncated[i] && !buffers.terminated[i] {
                    finalRows[nFinal] = i
                    nFinal += 1
                }
            }
            if nFinal > 0 {
                // Bootstrap truncated episodes from their last observation: r += γ V(s_final).
                buffers.finalObservations.withUnsafeBufferPointer { fo in
                    for k in 0..<nFinal {
                        prepare(fo.baseAddress! + finalRows[k] * obsSize, into: finalObs + k * obsSize, rows: 1)
                    }
                }
                let v = critic.forward(finalObs, count: nFinal)
                for k in 0..<nFinal { rewardBuf[base + finalRows[k]] += gamma * v[k] }
            }
        }
        // Values of the observations after the last step, for the final bootstrap.
        buffers.observations.withUnsafeBufferPointer { raw in prepare(raw.baseAddress!, into: mbObs, rows: nEnv) }
        lastValues.update(from: critic.forward(mbObs, count: nEnv), count: nEnv)
        generalizedAdvantages(rewards: rewardBuf, values: valueBuf, dones: doneBuf, lastValues: lastValues,
                              environments: nEnv, steps: nSteps, gamma: gamma, lambda: Float(config.gaeLambda),
                              advantages: advBuf, returns: retBuf)
    }

    /// Minibatch epochs over the collected rollout. Returns averaged statistics.
    private func updatePolicy(learningRate: Float, clipRange: Double) -> (PPOLoss.Stats, Double) {
        let b = config.rolloutSize
        let mbSize = min(config.minibatchSize, b)
        var sum = PPOLoss.Stats()
        var gradNormSum = 0.0
        var batches = 0
        epochs: for _ in 0..<config.epochs {
            // Fisher–Yates with the shuffle stream.
            for k in stride(from: b - 1, to: 0, by: -1) {
                let j = Int(shuffleRNG.next() % UInt64(k + 1))
                permutation.swapAt(k, j)
            }
            var start = 0
            while start < b {
                let m = min(mbSize, b - start)
                var advMean = 0.0, advSq = 0.0
                for r in 0..<m {
                    let k = permutation[start + r]
                    (mbObs + r * obsSize).update(from: obsBuf + k * obsSize, count: obsSize)
                    mbActions[r] = actionBuf[k]
                    mbLogp[r] = logpBuf[k]
                    mbAdv[r] = advBuf[k]
                    mbRet[r] = retBuf[k]
                    mbVal[r] = valueBuf[k]
                    advMean += Double(advBuf[k])
                }
                if config.normalizeAdvantages && m > 1 {
                    advMean /= Double(m)
                    for r in 0..<m {
                        let d = Double(mbAdv[r]) - advMean
                        advSq += d * d
                    }
                    // Sample standard deviation, as the reference implementations (torch .std()).
                    let inv = 1 / ((advSq / Double(m - 1)).squareRoot() + 1e-8)
                    for r in 0..<m { mbAdv[r] = Float((Double(mbAdv[r]) - advMean) * inv) }
                }
                let st = PPOLoss.evaluate(
                    actor: actor, critic: critic, obs: mbObs, actions: mbActions, oldLogProbs: mbLogp,
                    advantages: mbAdv, returns: mbRet, oldValues: mbVal, count: m, clipRange: clipRange,
                    valueClipRange: config.valueClipRange, entropyCoefficient: config.entropyCoefficient,
                    valueCoefficient: config.valueCoefficient, dLogits: dLogits, dValues: dValues)
                let (norm, scale) = globalNormClipScale(actor, critic, maxNorm: config.maxGradNorm)
                actorAdam.step(parameters: actor.parameters, gradients: actor.gradients, learningRate: learningRate,
                               gradScale: scale)
                criticAdam.step(parameters: critic.parameters, gradients: critic.gradients, learningRate: learningRate,
                                gradScale: scale)
                sum.total += st.total
                sum.policy += st.policy
                sum.value += st.value
                sum.entropy += st.entropy
                sum.approxKL += st.approxKL
                sum.clipFraction += st.clipFraction
                gradNormSum += norm
                batches += 1
                start += m
                if let target = config.targetKL, st.approxKL > target { break epochs }
            }
        }
        let inv = 1 / Double(max(batches, 1))
        sum.total *= inv
        sum.policy *= inv
        sum.value *= inv
        sum.entropy *= inv
        sum.approxKL *= inv
        sum.clipFraction *= inv
        return (sum, gradNormSum * inv)
    }

    /// Plans the learning-rate / clip schedules for a run of `totalSteps` more environment steps
    /// (annealing from the configured values now to 0 at its end). Without a plan, `iterate()`
    /// uses the configured values unannealed.
    public func plan(totalSteps: Int) {
        schedule = (updatesDone, max(1, (totalSteps + config.rolloutSize - 1) / config.rolloutSize))
    }

    /// One rollout and one update. Returns the update's figures (`stepsPerSecond`/`elapsed` zero).
    @discardableResult
    public func iterate() -> PPOProgress {
        let frac = schedule.map { max(0, 1 - Double(updatesDone - $0.start) / Double($0.updates)) } ?? 1
        let lr = config.learningRate * (config.annealLearningRate ? frac : 1)
        let clip = config.clipRange * (config.annealClipRange ? frac : 1)
        collectRollout()
        let (st, gradNorm) = updatePolicy(learningRate: Float(lr), clipRange: clip)
        updatesDone += 1
        var p = PPOProgress()
        p.update = updatesDone - (schedule?.start ?? 0)
        p.updates = schedule?.updates ?? 0
        p.steps = steps
        (p.meanEpisodeReturn, p.meanEpisodeLength) = recentEpisodeStats
        p.episodes = episodes
        p.policyLoss = st.policy
        p.valueLoss = st.value
        p.entropy = st.entropy
        p.approxKL = st.approxKL
        p.clipFraction = st.clipFraction
        p.learningRate = lr
        p.gradientNorm = gradNorm
        return p
    }

    /// Trains for `totalSteps` more environment steps (rounded up to whole rollouts), calling
    /// `progress` after every update; returning `false` from it stops the run early (the seam
    /// for early stopping on a validation stretch). Returns the last update's figures.
    @discardableResult
    public func train(totalSteps: Int, progress: (PPOProgress) -> Bool = { _ in true }) -> PPOProgress {
        plan(totalSteps: totalSteps)
        let start = MonotonicClock.nanoseconds()
        let startSteps = steps
        let end = updatesDone + (schedule?.updates ?? 0)
        var last = PPOProgress()
        while updatesDone < end {
            last = iterate()
            let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e9
            last.elapsedSeconds = elapsed
            last.stepsPerSecond = elapsed > 0 ? Double(steps - startSteps) / elapsed : 0
            if !progress(last) { break }
        }
        return last
    }

    /// The greedy (argmax) action for one raw observation, through the same normalisation and
    /// forward pass as training. Allocates its result buffers (not a per-tick path).
    public func greedyAction(_ observation: [Float]) -> Int {
        precondition(observation.count == obsSize)
        var x = [Float](repeating: 0, count: obsSize)
        observation.withUnsafeBufferPointer { o in
            x.withUnsafeMutableBufferPointer { prepare(o.baseAddress!, into: $0.baseAddress!, rows: 1) }
        }
        let logits = x.withUnsafeBufferPointer { actor.forward($0.baseAddress!, count: 1) }
        var best = 0
        for j in 1..<actionCount where logits[j] > logits[best] { best = j }
        return best
    }

    /// Runs the greedy policy on `env` (a separate instance, reset with `seed`) until `episodes`
    /// episodes have finished; returns their returns in finishing order.
    public func evaluate<E: VectorEnvironment>(on env: inout E, episodes: Int, seed: UInt64) -> [Double] {
        precondition(env.observationSize == obsSize && env.actionCount == actionCount)
        var buf = VectorStepBuffers(count: env.count, observationSize: obsSize)
        env.reset(seed: seed, into: &buf)
        var acts = [Int32](repeating: 0, count: env.count)
        var returns: [Double] = []
        while returns.count < episodes {
            for i in 0..<env.count {
                acts[i] = Int32(greedyAction(Array(buf.observations[i * obsSize..<(i + 1) * obsSize])))
            }
            env.step(actions: acts, into: &buf)
            returns.append(contentsOf: buf.finishedEpisodeReturns)
        }
        return Array(returns.prefix(episodes))
    }
}
