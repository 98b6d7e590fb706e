import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation

/// `kairos train`: trains a PPO agent, shows one progress line, writes a training log (CSV) and
/// the model (safetensors).
///
/// Structure: every run is a `TrainingJob` built by `TrainCommand.jobs()` from the options: the
/// CartPole check (`--env cartpole`) or one job per trading agent (`--agent ...`, TrainAgentsJob),
/// each owning its own `PPOTrainer`, run on separate threads; `TrainingJob`, the log writer and the
/// progress line are shared.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the trading agents with PPO (or CartPole-v1, the learner's known-result check).",
        discussion: """
            PPO in Swift with the C training kernels (docs/training.md, docs/agents.md). With \
            --agent (conservative, aggressive, balanced, contrarian or all) it trains trading \
            agents on the synthetic market (--synthetic) or a CSV (--data), each on its own thread, \
            keeps the checkpoint that scores best on the validation stretch and writes \
            <agent>.safetensors, the models the engine loads. Without --agent it trains CartPole-v1. \
            Prints one progress line (steps/s, mean return, losses, approximate KL) and writes a \
            training log CSV per agent.

            Examples:
              kairos train --preset default --out models/          # the committed models, byte for byte
              kairos train --agent all --data prices.csv --train-to 2012-12-31 --out models/mine
              kairos train --env cartpole --steps 200000 --seed 1  # PPO's known-result check
            """)

    @Option(help: "Environment: cartpole.") var env = "cartpole"
    @Option(help: "Environment steps to train for (all environments together).") var steps = 200_000
    @Option(help: "Seed of everything (initialisation, environments, sampling, shuffling).") var seed: UInt64 = 1
    @Option(help: "Directory for the model (<env>.safetensors) and the log (<env>-seed<seed>.log.csv).")
    var out = "models"
    @Option(help: "PPOConfig as JSON (all fields); defaults are docs/training.md's.") var config: String?
    @Option(help: "Override: parallel environments.") var envs: Int?
    @Option(help: "Override: steps per environment per rollout.") var rolloutSteps: Int?
    @Option(help: "Override: minibatch size.") var minibatch: Int?
    @Option(help: "Override: epochs per rollout.") var epochs: Int?
    @Option(help: "Greedy evaluation episodes after training (0: none).") var evalEpisodes = 100
    @Option(help: "Kernel path: auto (AVX2+FMA when available) or scalar.") var kernels = "auto"
    @Flag(help: "No progress line.") var quiet = false
    // Trading agents (TrainAgentsJob.swift).
    @Option(help: "Trading agent: conservative, aggressive, balanced, contrarian or all (selects the trading environment).")
    var agent: String?
    @Option(help: "Preset: default (the committed models/: --agent all --synthetic --scenario persistent, docs/agents.md).")
    var preset: String?
    @Flag(help: "Train on the synthetic market.") var synthetic = false
    @Option(help: "Synthetic scenario.") var scenario = "persistent"
    @Option(help: "Synthetic bars (training + validation).") var bars = 80_000
    @Option(help: "Synthetic market seed.") var dataSeed: UInt64 = 1
    @Option(help: "Synthetic: the last N bars are the validation stretch.") var validationBars = 16_000
    @Option(help: "OHLCV CSV to train on.") var data: String?
    @Option(help: "CSV: train on bars up to this date (YYYY-MM-DD, inclusive); later bars are never used.") var trainTo: String?
    @Option(help: "CSV: the last fraction of the bars up to --train-to is the validation stretch.")
    var validationFraction = 0.2
    @Option(help: "Validate the greedy policy every N PPO updates.") var validateEvery = 10
    @Option(help: "Stop after N validations without a new best (default: never).") var patience: Int?
    @Option(help: "Training threads (default: active cores).") var threads: Int?
    @Option(help: "Episode-start weights per regime bull,bear,sideways,volatile for every agent trained (default: each agent's own).")
    var regimeWeights: String?
    @Option(help: "Conservative reward: drawdown-increase penalty λ_dd (default 0.25).") var lambdaDrawdown: Double?
    @Option(help: "Conservative reward: downside-variance penalty λ_down (default 10).") var lambdaDownside: Double?
    @Option(help: "Balanced reward: EMA rate η of the differential Sharpe ratio (default 0.01).") var sharpeEta: Double?
    @Option(help: "Synthetic all-agent runs: seed of the regime model's market (regime-hmm.json).") var regimeSeed: UInt64 = 7

    func run() throws {
        var cfg = PPOConfig()
        if let config {
            cfg = try JSONDecoder().decode(PPOConfig.self, from: Data(contentsOf: URL(fileURLWithPath: config)))
        }
        if let envs { cfg.numEnvironments = envs }
        if let rolloutSteps { cfg.stepsPerRollout = rolloutSteps }
        if let minibatch { cfg.minibatchSize = minibatch }
        if let epochs { cfg.epochs = epochs }
        guard cfg.numEnvironments >= 1, cfg.stepsPerRollout >= 1, cfg.minibatchSize >= 1, cfg.epochs >= 1 else {
            throw ValidationError("envs, rollout-steps, minibatch and epochs must be >= 1")
        }
        guard steps >= 1 else { throw ValidationError("--steps must be >= 1") }
        // (The trading agents build their own PPOConfig from these options: tradingJob.)
        let path: MLP.Path
        switch kernels {
        case "auto": path = .auto
        case "scalar": path = .scalar
        default: throw ValidationError("--kernels is auto or scalar")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for var job in try jobs(config: cfg, path: path) {
            try job.run(steps: steps, outDirectory: out, evalEpisodes: evalEpisodes, quiet: quiet)
        }
    }

    /// The jobs the options ask for (the seam for trading agents: see the type's notes).
    func jobs(config: PPOConfig, path: MLP.Path) throws -> [any TrainingJob] {
        if agent != nil || preset != nil {
            return [try tradingJob(path: path)]
        }
        switch env {
        case "cartpole":
            return [CartPoleJob(config: config, seed: seed, path: path)]
        default:
            throw ValidationError("unknown --env \(env) (available: cartpole)")
        }
    }
}

/// One agent's training run.
protocol TrainingJob {
    /// File-name stem and display name, e.g. "cartpole" or "conservative".
    var name: String { get }
    mutating func run(steps: Int, outDirectory: String, evalEpisodes: Int, quiet: Bool) throws
}

/// Training log: one CSV row per PPO update, plus any columns the job adds (the trading agents add
/// their validation scores).
final class TrainingLog {
    static let columns =
        "update,steps,steps_per_s,mean_return_100,mean_length_100,episodes,policy_loss,value_loss,entropy,approx_kl,clip_fraction,learning_rate,grad_norm,elapsed_s"
    private let handle: FileHandle

    init(path: String, extraColumns: [String] = []) throws {
        let header = ([Self.columns] + extraColumns).joined(separator: ",") + "\n"
        FileManager.default.createFile(atPath: path, contents: Data(header.utf8))
        guard let h = FileHandle(forWritingAtPath: path) else { throw ValidationError("cannot write \(path)") }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    /// One row: the update's figures, then `extra` (already formatted, one per extra column).
    func append(_ p: PPOProgress, extra: [String] = []) {
        var row = String(format: "%d,%d,%.1f,%.4f,%.3f,%d,%.6g,%.6g,%.6g,%.6g,%.4f,%.6g,%.6g,%.3f", p.update, p.steps,
                         p.stepsPerSecond, p.meanEpisodeReturn, p.meanEpisodeLength, p.episodes, p.policyLoss, p.valueLoss,
                         p.entropy, p.approxKL, p.clipFraction, p.learningRate, p.gradientNorm, p.elapsedSeconds)
        for e in extra { row += "," + e }
        handle.write(Data((row + "\n").utf8))
    }
}

/// The one-line progress display (rewritten in place with a carriage return, at most 5 times a second).
struct ProgressLine {
    let name: String
    var lastDraw: Int64 = 0

    mutating func draw(_ p: PPOProgress, force: Bool = false) {
        let now = MonotonicClock.nanoseconds()
        guard force || now - lastDraw > 200_000_000 else { return }
        lastDraw = now
        let pct = 100 * Double(p.update) / Double(max(p.updates, 1))
        let line = String(format: "\r%@ %5.1f%% %8d steps %8.0f steps/s  return %6.1f  pi %+.4f  v %.4f  H %.3f  kl %.5f ",
                          name as NSString, pct, p.steps, p.stepsPerSecond, p.meanEpisodeReturn, p.policyLoss, p.valueLoss,
                          p.entropy, p.approxKL)
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

/// CartPole-v1: the learner's known-result check (mean return >= 475 over 100 episodes).
struct CartPoleJob: TrainingJob {
    let config: PPOConfig
    let seed: UInt64
    let path: MLP.Path
    var name: String { "cartpole" }

    /// The CartPole-v1 "solved" threshold.
    static let solvedReturn = 475.0

    mutating func run(steps: Int, outDirectory: String, evalEpisodes: Int, quiet: Bool) throws {
        let trainer = PPOTrainer(environment: CartPoleVectorEnvironment(count: config.numEnvironments), config: config,
                                 seed: seed, path: path)
        let logPath = (outDirectory as NSString).appendingPathComponent("\(name)-seed\(seed).log.csv")
        let log = try TrainingLog(path: logPath)
        var line = ProgressLine(name: name)
        var solvedAt: Int? = nil
        var bestMean = -Double.infinity
        let last = trainer.train(totalSteps: steps) { p in
            log.append(p)
            if !quiet { line.draw(p) }
            if p.episodes >= 100 {
                bestMean = max(bestMean, p.meanEpisodeReturn)
                if solvedAt == nil && p.meanEpisodeReturn >= Self.solvedReturn { solvedAt = p.steps }
            }
            return true
        }
        if !quiet {
            line.draw(last, force: true)
            print("")
        }
        print(String(format: "cartpole seed %llu: %d steps in %.1f s (%.0f steps/s, rollouts + updates, kernels %@)",
                     seed, last.steps, last.elapsedSeconds, last.stepsPerSecond, "\(trainer.actor.path)" as NSString))
        print(String(format: "  mean return of the last 100 training episodes: %.1f (best %.1f); episodes %d",
                     last.meanEpisodeReturn, bestMean, last.episodes))
        if let solvedAt {
            print("  solved (mean of 100 >= \(Int(Self.solvedReturn))) at \(solvedAt) steps")
        } else {
            print("  NOT solved: the mean of 100 training episodes never reached \(Int(Self.solvedReturn))")
        }
        if evalEpisodes > 0 {
            var env = CartPoleVectorEnvironment(count: 1)
            let returns = trainer.evaluate(on: &env, episodes: evalEpisodes, seed: seed &+ 1_000_003)
            let mean = returns.reduce(0, +) / Double(returns.count)
            print(String(format: "  greedy evaluation over %d fresh episodes: mean return %.1f (min %.0f)", returns.count,
                         mean, returns.min() ?? 0))
        }
        let meta = AgentModelMetadata(
            agentKind: name, features: ["cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity"],
            trainingDataHash: AgentModel.dataHash(Array("gymnasium/CartPole-v1".utf8)), seed: seed,
            extra: ["steps": String(last.steps), "mean_return_100": String(format: "%.2f", last.meanEpisodeReturn)])
        let modelPath = (outDirectory as NSString).appendingPathComponent("\(name).safetensors")
        try AgentModel.make(trainer: trainer, metadata: meta).write(to: URL(fileURLWithPath: modelPath))
        print("  wrote \(modelPath) and \(logPath)")
    }
}
