import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation

/// The data a trading-agent run trains and validates on.
struct TradingTrainingData: Sendable {
    let dataset: TradingDataset
    let trainRange: Range<Int>
    let validationRange: Range<Int>
    let dataHash: String
    /// Model metadata describing the data (`x.data`, `x.scenario` …).
    let description: [String: String]
}

/// `kairos train --agent …`: trains the trading agents (one `TradingAgentTrainer` each) on a
/// pool of threads, one combined progress line, a training log per agent, the best validated
/// checkpoint as `<out>/<kind>.safetensors`, and for synthetic all-agent runs the ensemble's
/// regime model `<out>/regime-hmm.json`.
///
/// `kairos train --preset default` = `--agent all --synthetic --scenario persistent --bars 80000
/// --data-seed 1 --validation-bars 16000 --steps <TrainAgentsJob.defaultPresetSteps> --seed 1 --regime-seed 7`
/// (docs/agents.md, "Training"). Agent k of `AgentKind.allCases` is seeded `seed + k`.
struct TrainAgentsJob: TrainingJob {
    let agents: [AgentKind]
    let data: TradingTrainingData
    let config: PPOConfig
    let seed: UInt64
    let validateEvery: Int
    let patience: Int?
    let threads: Int
    let path: MLP.Path
    /// When set: the regime model to write beside the agents (synthetic runs).
    let regime: (scenario: MarketScenario, seed: UInt64, bars: Int)?
    /// Steps per agent fixed by a preset (overrides --steps).
    let presetSteps: Int?
    /// Regime weights for every agent (nil: each agent's default).
    let regimeWeights: [Double]?
    /// Conservative reward penalty overrides (nil: the default).
    let lambdaDrawdown: Double?
    let lambdaDownside: Double?
    let sharpeEta: Double?
    var name: String { agents.count == 1 ? agents[0].name : "agents" }

    /// Environment steps per agent of the default preset (docs/agents.md, "Training").
    static let defaultPresetSteps = 3_000_000

    /// Seed of agent `kind` for a run seeded `seed`.
    static func agentSeed(_ kind: AgentKind, base seed: UInt64) -> UInt64 {
        seed &+ UInt64(AgentKind.allCases.firstIndex(of: kind)!)
    }

    mutating func run(steps requested: Int, outDirectory: String, evalEpisodes: Int, quiet: Bool) throws {
        let steps = presetSteps ?? requested
        let board = AgentsTrainingBoard(agents: agents)
        let job = self
        let start = MonotonicClock.nanoseconds()
        let workers = (0..<max(1, min(threads, agents.count))).map { w in
            WorkerThread(name: "train-\(w)") {
                while let k = board.take() {
                    do {
                        let r = try job.train(job.agents[k], steps: steps, outDirectory: outDirectory, board: board, slot: k)
                        board.finish(k, result: r)
                    } catch {
                        board.fail(k, error: "\(error)")
                    }
                }
            }
        }
        workers.forEach { $0.start() }
        while !board.allDone {
            if !quiet { FileHandle.standardOutput.write(Data(("\r" + board.line() + " ").utf8)) }
            Thread.sleep(forTimeInterval: 0.5)
        }
        workers.forEach { $0.join() }
        if !quiet { print("\r" + board.line()) }
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        var totalSteps = 0
        for (k, kind) in agents.enumerated() {
            if let e = board.errors[k] { throw ValidationError("\(kind): \(e)") }
            let r = board.results[k]!
            totalSteps += r.last.steps
            let file = (outDirectory as NSString).appendingPathComponent("\(kind.name).safetensors")
            print(String(
                format: "%@: %d steps, %.0f steps/s on its thread; best validation %@ %.4f at %d steps (update %d, %d validations%@) -> %@",
                kind.name as NSString, r.last.steps, r.last.stepsPerSecond,
                TradingAgentTrainer.validationMetric(kind) as NSString, r.bestScore, r.bestSteps, r.bestUpdate,
                r.validations, r.stoppedEarly ? ", stopped early" : "", file as NSString))
        }
        print(String(format: "%d agents, %d steps in %.1f s: %.0f steps/s overall on %d threads (kernels %@)",
                     agents.count, totalSteps, seconds, Double(totalSteps) / seconds, min(threads, agents.count),
                     "\(path)" as NSString))
        if let regime {
            let b = BarAggregator.synthetic(
                market: SyntheticMarket(scenario: regime.scenario, instruments: 1, seed: regime.seed), count: regime.bars)
            let model = GaussianHMM.fit(bars: b.bars)
            let file = (outDirectory as NSString).appendingPathComponent("regime-hmm.json")
            try model.save(toPath: file)
            print("regime model: fitted on \(regime.bars) \(regime.scenario.name) bars (seed \(regime.seed)) -> \(file)")
        }
    }

    /// One agent's run (on a worker thread): trainer, log, model file.
    func train(_ kind: AgentKind, steps: Int, outDirectory: String, board: AgentsTrainingBoard, slot: Int) throws
        -> TradingAgentTrainingResult
    {
        var reward = TradingAgentTrainingConfig.defaultReward(kind)
        if let lambdaDrawdown { reward.lambdaDrawdown = lambdaDrawdown }
        if let lambdaDownside { reward.lambdaDownside = lambdaDownside }
        if let sharpeEta { reward.eta = sharpeEta }
        let cfg = TradingAgentTrainingConfig(
            agent: kind, seed: Self.agentSeed(kind, base: seed), steps: steps, ppo: config, validateEvery: validateEvery,
            patience: patience, regimeWeights: regimeWeights.map { .some($0) } ?? .none, reward: reward)
        let trainer = TradingAgentTrainer(
            dataset: data.dataset, trainRange: data.trainRange, validationRange: data.validationRange, config: cfg,
            dataHash: data.dataHash, extraMetadata: data.description, path: path)
        let logPath = (outDirectory as NSString).appendingPathComponent("\(kind.name).log.csv")
        let log = try TrainingLog(path: logPath, extraColumns: ["validation_score", "best_validation_score"])
        let result = try trainer.train { p in
            log.append(p.ppo, extra: [p.validationScore.map { String(format: "%.6g", $0) } ?? "", String(format: "%.6g", p.bestScore)])
            board.update(slot, p)
            return true
        }
        let file = (outDirectory as NSString).appendingPathComponent("\(kind.name).safetensors")
        try result.model.write(to: URL(fileURLWithPath: file))
        return result
    }
}

/// Shared state of the training threads and the progress line.
///
/// `@unchecked Sendable`: every stored property is read and written under `lock` only.
final class AgentsTrainingBoard: @unchecked Sendable {
    private let lock = NSLock()
    private let agents: [AgentKind]
    private var next = 0
    private var done = 0
    private var progress: [TradingAgentProgress?]
    private var _results: [TradingAgentTrainingResult?]
    private var _errors: [String?]

    init(agents: [AgentKind]) {
        self.agents = agents
        progress = Array(repeating: nil, count: agents.count)
        _results = Array(repeating: nil, count: agents.count)
        _errors = Array(repeating: nil, count: agents.count)
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// The next agent to train, nil when all are taken.
    func take() -> Int? {
        locked {
            guard next < agents.count else { return nil }
            next += 1
            return next - 1
        }
    }

    func update(_ k: Int, _ p: TradingAgentProgress) { locked { progress[k] = p } }
    func finish(_ k: Int, result: TradingAgentTrainingResult) { locked { _results[k] = result; done += 1 } }
    func fail(_ k: Int, error: String) { locked { _errors[k] = error; done += 1 } }
    var allDone: Bool { locked { done == agents.count } }
    var results: [TradingAgentTrainingResult?] { locked { _results } }
    var errors: [String?] { locked { _errors } }

    /// `kind pct% steps/s return best` per agent.
    func line() -> String {
        locked {
            agents.indices.map { k in
                guard let p = progress[k] else { return "\(agents[k].name) -" }
                let pct = 100 * Double(p.ppo.update) / Double(max(p.ppo.updates, 1))
                return String(format: "%@ %3.0f%% %6.0f/s ret %+.2f best %+.4f", agents[k].name as NSString, pct,
                              p.ppo.stepsPerSecond, p.ppo.meanEpisodeReturn, p.bestScore)
            }.joined(separator: " | ")
        }
    }
}

extension TrainCommand {
    /// The trading-agent job the options describe (`--agent` or `--preset`).
    func tradingJob(path: MLP.Path) throws -> TrainAgentsJob {
        var agentName = agent
        var synth = synthetic
        var scen = scenario
        var nBars = bars
        var dSeed = dataSeed
        var vBars = validationBars
        var regimeSeed = self.regimeSeed
        if let preset {
            guard preset == "default" else { throw ValidationError("unknown --preset \(preset) (available: default)") }
            // Keep in sync with docs/agents.md, "Training", and TrainAgentsJob's notes.
            agentName = "all"
            synth = true
            scen = "persistent"
            nBars = 80_000
            dSeed = 1
            vBars = 16_000
            regimeSeed = 7
            guard data == nil, config == nil, envs == nil, rolloutSteps == nil, minibatch == nil, epochs == nil,
                patience == nil, validateEvery == 10, lambdaDrawdown == nil, lambdaDownside == nil,
                sharpeEta == nil
            else { throw ValidationError("--preset default fixes the data and the training settings; drop the overrides") }
        }
        guard let agentName else { throw ValidationError("--agent is required") }
        let kinds: [AgentKind]
        if agentName == "all" {
            kinds = AgentKind.allCases
        } else if let k = AgentKind(rawValue: agentName) {
            kinds = [k]
        } else {
            throw ValidationError("unknown --agent \(agentName) (conservative, aggressive, balanced, contrarian, all)")
        }
        var cfg = PPOConfig.trading
        if let config {
            cfg = try JSONDecoder().decode(PPOConfig.self, from: Data(contentsOf: URL(fileURLWithPath: config)))
        }
        if let envs { cfg.numEnvironments = envs }
        if let rolloutSteps { cfg.stepsPerRollout = rolloutSteps }
        if let minibatch { cfg.minibatchSize = minibatch }
        if let epochs { cfg.epochs = epochs }
        var weights: [Double]? = nil
        if let regimeWeights {
            guard preset == nil else { throw ValidationError("--preset default fixes the regime weights") }
            let w = regimeWeights.split(separator: ",").compactMap { Double($0) }
            guard w.count == 4, w.allSatisfy({ $0 >= 0 }), w.reduce(0, +) > 0 else {
                throw ValidationError("--regime-weights needs 4 non-negative numbers, e.g. 3,1,1,1")
            }
            weights = w
        }
        let data: TradingTrainingData
        var regime: (MarketScenario, UInt64, Int)? = nil
        if synth {
            guard self.data == nil else { throw ValidationError("--synthetic and --data are exclusive") }
            guard let sc = MarketScenario.presets.first(where: { $0.name == scen }) else {
                throw ValidationError("unknown --scenario \(scen)")
            }
            guard vBars >= 2, nBars - vBars > 300 else { throw ValidationError("--bars too small for --validation-bars") }
            let ds = try TradingDataset.synthetic(scenario: sc, count: nBars, seed: dSeed)
            // The closes' bit patterns identify the generated series.
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ds.count * 8)
            for c in ds.closes { withUnsafeBytes(of: c.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            data = TradingTrainingData(
                dataset: ds, trainRange: 0..<(nBars - vBars), validationRange: (nBars - vBars)..<nBars,
                dataHash: AgentModel.dataHash(bytes),
                description: ["data": "synthetic", "scenario": sc.name, "data_seed": "\(dSeed)", "bars": "\(nBars)"])
            if kinds.count == AgentKind.allCases.count { regime = (sc, regimeSeed, 10_000) }
        } else if let file = self.data {
            var ds = try TradingDataset.csv(path: file)
            var end = ds.count
            if let trainTo {
                guard let ts = OHLCVCSV.parseTimestamp(trainTo) else { throw ValidationError("bad --train-to date") }
                // Inclusive: every bar of that day.
                end = ds.range(to: ts &+ 86_400_000_000_000).upperBound
            }
            let v = max(2, Int((Double(end) * validationFraction).rounded()))
            guard end - v > 300 else { throw ValidationError("too few bars before --train-to") }
            if ds.regimes == nil {
                // Regime-weighted episode starts need labels: the detector's causal labels, fitted
                // on the training stretch only (never on the validation or later bars).
                ds = ds.relabelled(TradingDataset.causalRegimeLabels(bars: ds.bars, fitUntil: end - v))
            }
            let fileBytes = try Data(contentsOf: URL(fileURLWithPath: file))
            data = TradingTrainingData(
                dataset: ds, trainRange: 0..<(end - v), validationRange: (end - v)..<end,
                dataHash: AgentModel.dataHash(fileBytes),
                description: [
                    "data": (file as NSString).lastPathComponent,
                    "train_to": trainTo ?? OHLCVCSV.formatTimestamp(ds.bars[end - 1].timestamp),
                ])
        } else {
            throw ValidationError("give --synthetic or --data X.csv")
        }
        return TrainAgentsJob(
            agents: kinds, data: data, config: cfg, seed: preset != nil ? 1 : seed, validateEvery: validateEvery,
            patience: patience, threads: threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount), path: path,
            regime: regime.map { (scenario: $0.0, seed: $0.1, bars: $0.2) },
            presetSteps: preset != nil ? TrainAgentsJob.defaultPresetSteps : nil, regimeWeights: weights,
            lambdaDrawdown: lambdaDrawdown, lambdaDownside: lambdaDownside, sharpeEta: sharpeEta)
    }
}
