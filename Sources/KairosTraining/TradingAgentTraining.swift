// Training one trading agent end to end (issue 5): PPO over a TradingEnvironment restricted to a
// training stretch, the greedy policy scored at intervals on a validation stretch the training
// never samples, and the best checkpoint kept as the model file. docs/agents.md, "Training".
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import Foundation

extension PPOConfig {
    /// PPO settings for the trading agents (docs/agents.md, "Training"): 16 environments × 128
    /// steps (2 048 samples per rollout, 8 episodes' worth of 256 bars), minibatches of 512, 4
    /// epochs, γ 0.9 and λ 0.9 (a position's reward is the next bar's: a short horizon; γ 0.99
    /// learnt far more slowly in trials), learning rate 3e-4 annealed to 0, clip 0.2 (not annealed),
    /// entropy bonus 0.01 (the rewards are noisy: without it the policy collapses onto one action
    /// before the critic has learnt anything), two hidden layers of 64.
    public static var trading: PPOConfig {
        var c = PPOConfig()
        c.numEnvironments = 16
        c.stepsPerRollout = 128
        c.minibatchSize = 512
        c.epochs = 4
        c.gamma = 0.9
        c.gaeLambda = 0.9
        c.clipRange = 0.2
        c.annealClipRange = false
        c.entropyCoefficient = 0.01
        c.learningRate = 3e-4
        c.annealLearningRate = true
        c.hiddenSizes = [64, 64]
        return c
    }
}

/// What a trading agent's training run does.
public struct TradingAgentTrainingConfig: Sendable, Codable, Equatable {
    public var agent: AgentKind
    /// Seed of everything (PPO's streams, the environments' episode starts).
    public var seed: UInt64
    /// Environment steps to train for (all environments together; rounded up to whole rollouts).
    public var steps: Int
    public var ppo: PPOConfig
    /// Bars per training episode.
    public var episodeLength: Int
    /// Validate the greedy policy every this many PPO updates (and after the last one).
    public var validateEvery: Int
    /// Stop after this many validations in a row without a new best (nil: run all steps).
    public var patience: Int?
    public var costs: TradingCosts
    /// Episode-start weights per regime (bull, bear, sideways, volatile); nil = uniform. Default:
    /// `TradingAgentTrainingConfig.defaultRegimeWeights(agent)`.
    public var regimeWeights: [Double]?
    /// Reward coefficients (the scale is the agent's training scale whatever is given here).
    /// Default: `TradingAgentTrainingConfig.defaultReward(agent)`.
    public var reward: TradingRewardConfig

    public init(
        agent: AgentKind, seed: UInt64, steps: Int, ppo: PPOConfig = .trading, episodeLength: Int = 256,
        validateEvery: Int = 10, patience: Int? = nil, costs: TradingCosts = TradingCosts(),
        regimeWeights: [Double]?? = .none, reward: TradingRewardConfig? = nil
    ) {
        self.regimeWeights = regimeWeights ?? Self.defaultRegimeWeights(agent)
        var r = reward ?? Self.defaultReward(agent)
        r.scale = TradingRewardConfig.training(agent).scale
        self.reward = r
        self.agent = agent
        self.seed = seed
        self.steps = steps
        self.ppo = ppo
        self.episodeLength = episodeLength
        self.validateEvery = validateEvery
        self.patience = patience
        self.costs = costs
    }

    /// The environment the agent trains in (its reward scale, regime weights, these costs).
    public var environment: TradingEnvironmentConfig {
        var e = TradingEnvironmentConfig.training(agent, episodeLength: episodeLength)
        e.costs = costs
        e.regimeWeights = regimeWeights
        e.reward = reward
        return e
    }

    /// Training reward coefficients: `TradingRewardConfig.training(agent)`, except the
    /// conservative agent's penalties, λ_dd = 0.25 and λ_down = 10 instead of 1 and 20. With
    /// λ_dd = 1 every losing bar deepens the drawdown and costs twice its loss, so a position
    /// pays only if its per-bar edge beats its mean absolute downside (a per-bar Sharpe ratio
    /// around 0.4): no edge does, and every trial collapsed to "always flat" (docs/agents.md).
    public static func defaultReward(_ agent: AgentKind) -> TradingRewardConfig {
        var r = TradingRewardConfig.training(agent)
        if agent == .conservative {
            r.lambdaDrawdown = 0.25
            r.lambdaDownside = 10
        }
        return r
    }

    /// Training regime weights: the agent's own (`AgentKind.defaultRegimeWeights`: the
    /// contrarian sees sideways stretches three times as often) and, for the aggressive agent,
    /// bull stretches three times as often (it is the trend-follower with leverage).
    public static func defaultRegimeWeights(_ agent: AgentKind) -> [Double]? {
        agent == .aggressive ? [3, 1, 1, 1] : agent.defaultRegimeWeights
    }
}

/// One PPO update of a trading agent, with the latest validation.
public struct TradingAgentProgress: Sendable {
    public var agent: AgentKind
    public var ppo: PPOProgress
    /// Score of this update's validation (nil when it did not validate).
    public var validationScore: Double?
    /// Best validation score so far and the step count it was reached at.
    public var bestScore: Double
    public var bestSteps: Int
}

/// The outcome of `TradingAgentTrainer.train`.
public struct TradingAgentTrainingResult: Sendable {
    public var agent: AgentKind
    public var last: PPOProgress
    public var bestScore: Double
    public var bestUpdate: Int
    public var bestSteps: Int
    public var validations: Int
    /// True when `patience` ended the run before `steps`.
    public var stoppedEarly: Bool
    /// The best checkpoint as an agent model file (metadata includes the validation score).
    public var model: SafeTensors
}

/// PPO on one agent's `TradingEnvironment` over a training stretch, with best-checkpoint
/// selection on a validation stretch.
///
/// Validation score (higher is better) of the greedy policy run through `TradingEvaluation`
/// (same account and costs as training) over the validation stretch, as one episode starting flat:
/// - balanced: the annualised Sharpe ratio of the run (its goal is a Sharpe goal; the summed
///   differential Sharpe ratio is only its first-order proxy);
/// - conservative, aggressive, contrarian: the mean per-bar value of the agent's OWN reward
///   (`TradingRewardState`, unscaled) replayed over the run, so each checkpoint is chosen for what
///   that agent is trained for; with regime weights (and labels) each bar's reward is weighted
///   by the weight of its regime, the emphasis the agent trains with.
///
/// ## Implementation Notes
/// - The environment's episode starts are drawn inside `trainRange` only and every episode ends
///   inside it, so no validation bar's return is ever a training reward when the two ranges do
///   not overlap (precondition).
/// - The validated policy is the model file itself: the checkpoint is packed with
///   `AgentModel.make`, loaded with `AgentModel.loadPolicy` (the engine's `MLP` kernel) and run;
///   the best one is kept as it was scored, so the shipped file is exactly the one validated.
/// - Deterministic given the config (PPO's seeded streams, fixed kernel summation order on one
///   kernel path, validation is deterministic): two runs give identical model bytes.
/// - Cost: training as `PPOTrainer`; one validation is O(validation bars × network) plus one
///   model pack (a few 100 KB of allocation), every `validateEvery` updates.
/// - Not `Sendable` (owns a `PPOTrainer`): build and run it on one thread; train several agents
///   with one trainer per thread.
public final class TradingAgentTrainer {
    public let config: TradingAgentTrainingConfig
    public let dataset: TradingDataset
    public let trainRange: Range<Int>
    public let validationRange: Range<Int>
    public let ppo: PPOTrainer<TradingEnvironment>
    /// Provenance written into the model (data hash, seed, feature names, extras).
    public let metadata: AgentModelMetadata

    /// - Parameters:
    ///   - dataHash: fingerprint of the training data (`AgentModel.dataHash`).
    ///   - extraMetadata: further `x.*` entries (data description, ranges …).
    /// - Precondition: the ranges do not overlap; the validation range has at least 2 bars.
    public init(
        dataset: TradingDataset, trainRange: Range<Int>, validationRange: Range<Int>,
        config: TradingAgentTrainingConfig, dataHash: String, extraMetadata: [String: String] = [:],
        path: MLP.Path = .auto
    ) {
        precondition(!trainRange.overlaps(validationRange), "training and validation stretches overlap")
        precondition(validationRange.count >= 2 && validationRange.upperBound <= dataset.count, "bad validation range")
        precondition(config.validateEvery >= 1 && config.steps >= 1, "validateEvery and steps must be >= 1")
        self.config = config
        self.dataset = dataset
        self.trainRange = trainRange
        self.validationRange = validationRange
        let env = TradingEnvironment(
            dataset: dataset, config: config.environment, count: config.ppo.numEnvironments, range: trainRange)
        ppo = PPOTrainer(environment: env, config: config.ppo, seed: config.seed, path: path)
        var extra = extraMetadata
        extra["train_bars"] = "\(trainRange.lowerBound)..<\(trainRange.upperBound)"
        extra["validation_bars"] = "\(validationRange.lowerBound)..<\(validationRange.upperBound)"
        extra["leverage_cap"] = "\(config.agent.leverageCap)"
        extra["episode_length"] = "\(config.episodeLength)"
        extra["cost_bps"] = "\(config.costs.costBps)"
        extra["slippage_bps"] = "\(config.costs.slippageBps)"
        extra["validation_metric"] = Self.validationMetric(config.agent)
        extra["reward"] = String(
            format: "lambda_drawdown=%g,lambda_downside=%g,eta=%g,contrarian_slope=%g,contrarian_threshold=%g,scale=%g",
            config.reward.lambdaDrawdown, config.reward.lambdaDownside, config.reward.eta,
            config.reward.contrarianSlope, config.reward.contrarianThreshold, config.reward.scale)
        extra["regime_weights"] = config.regimeWeights.map { $0.map { "\($0)" }.joined(separator: ",") } ?? "uniform"
        metadata = AgentModelMetadata(
            agentKind: config.agent.name, features: AgentObservation.names, trainingDataHash: dataHash,
            seed: config.seed, extra: extra)
    }

    /// The name of the validation score for `agent`.
    public static func validationMetric(_ agent: AgentKind) -> String {
        agent == .balanced ? "annualised_sharpe" : "mean_own_reward_per_bar"
    }

    /// The validation score of a run over `range` of `dataset` (see the type's notes).
    public static func validationScore(
        agent: AgentKind, run: TradingRun, dataset: TradingDataset, range: Range<Int>,
        reward: TradingRewardConfig = TradingRewardConfig(), regimeWeights: [Double]? = nil
    ) -> Double {
        if agent == .balanced { return run.metrics().sharpe }
        // Replay the account's equity/peak from the net returns: the same drawdowns as
        // TradingAccount.step produced (1 - equity / peak before and after each bar).
        var state = TradingRewardState(config: reward)
        var equity = 1.0, peak = 1.0, sum = 0.0, weights = 0.0
        for k in run.netReturns.indices {
            let r = run.netReturns[k]
            let before = 1 - equity / peak
            equity *= 1 + r
            if equity > peak { peak = equity }
            let ruined = equity <= 0
            let after = ruined ? 1 : 1 - equity / peak
            let step = TradingStep(
                turnover: run.turnovers[k], cost: 0, netReturn: r, drawdownBefore: before, drawdownAfter: after,
                ruined: ruined)
            let w = regimeWeights.flatMap { ws in run.labels.map { ws[$0[k].rawValue] } } ?? 1
            sum += w * state.reward(
                agent.reward, config: reward, step: step, position: run.positions[k],
                zScore: dataset.zScores[range.lowerBound + k])
            weights += w
        }
        return weights > 0 ? sum / weights : 0
    }

    /// The current policy as a model file (the normaliser, actor and critic as they are now).
    public func currentModel(extra: [String: String] = [:]) -> SafeTensors {
        var meta = metadata
        for (k, v) in extra { meta.extra[k] = v }
        var st = AgentModel.make(trainer: ppo, metadata: meta)
        // AgentModel.make encodes the PPOConfig with JSONEncoder's default (unspecified, per
        // process varying) key order; sorted keys make the file's bytes reproducible.
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        if let data = try? enc.encode(ppo.config), let s = String(data: data, encoding: .utf8) {
            st.metadata["ppo_config"] = s
        }
        return st
    }

    /// Scores a model file's greedy policy on the validation stretch.
    public func validate(_ model: SafeTensors) throws -> Double {
        let policy = try AgentModel.loadPolicy(model, path: ppo.actor.path)
        let run = TradingEvaluation.run(
            ClosureTradingPolicy { Int32(policy.act($0)) }, agent: config.agent, dataset: dataset,
            range: validationRange, costs: config.costs)
        var reward = config.reward
        reward.scale = 1
        return Self.validationScore(
            agent: config.agent, run: run, dataset: dataset, range: validationRange, reward: reward,
            regimeWeights: dataset.regimes == nil ? nil : config.regimeWeights)
    }

    /// Trains for `config.steps`, validating every `validateEvery` updates and after the last;
    /// `progress` is called after every update (return false to stop). The result's model is the
    /// best validated checkpoint, its metadata completed with `validation_score`,
    /// `validation_steps` (steps trained when it was taken) and `steps` (steps trained in all).
    public func train(progress: (TradingAgentProgress) -> Bool = { _ in true }) throws -> TradingAgentTrainingResult {
        var best: (score: Double, update: Int, steps: Int, model: SafeTensors)? = nil
        var sinceBest = 0
        var validations = 0
        var stoppedEarly = false
        var failure: Error? = nil
        var last = ppo.train(totalSteps: config.steps) { p in
            var score: Double? = nil
            let isLast = p.update == p.updates
            if p.update % config.validateEvery == 0 || isLast {
                let model = currentModel()
                do {
                    let s = try validate(model)
                    score = s
                    validations += 1
                    // Ties keep the earlier checkpoint; a NaN score never wins.
                    if best == nil || s > best!.score {
                        best = (s, p.update, p.steps, model)
                        sinceBest = 0
                    } else {
                        sinceBest += 1
                    }
                } catch {
                    failure = error
                    return false
                }
            }
            let info = TradingAgentProgress(
                agent: config.agent, ppo: p, validationScore: score, bestScore: best?.score ?? .nan,
                bestSteps: best?.steps ?? 0)
            if !progress(info) { return false }
            if let patience = config.patience, sinceBest >= patience, !isLast {
                stoppedEarly = true
                return false
            }
            return true
        }
        if let failure { throw failure }
        if best == nil {
            // Stopped by the callback before the first validation: validate what there is.
            let model = currentModel()
            best = (try validate(model), ppo.updatesDone, ppo.steps, model)
            validations += 1
        }
        last.steps = ppo.steps
        var model = best!.model
        model.metadata["x.validation_score"] = String(format: "%.6g", best!.score)
        model.metadata["x.validation_steps"] = String(best!.steps)
        model.metadata["x.steps"] = String(ppo.steps)
        return TradingAgentTrainingResult(
            agent: config.agent, last: last, bestScore: best!.score, bestUpdate: best!.update, bestSteps: best!.steps,
            validations: validations, stoppedEarly: stoppedEarly, model: model)
    }
}
