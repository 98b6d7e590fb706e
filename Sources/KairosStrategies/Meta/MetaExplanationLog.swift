// A bounded JSONL log of explanations (what `kairos meta explain` reads), and the synthetic
// shadow-return streams that let the meta-agent produce real explanations without trained agents.
import KairosCore
import Foundation

/// Appends one JSON object per line, keeping the file bounded: when it reaches 2 × `maxLines`
/// lines it is rewritten with the newest `maxLines`. `every` sets the logging rate (log one
/// decision in `every`), so the engine can log at a configurable rate.
///
/// Implementation Notes: each append opens, writes and closes the file (explanations are logged
/// at a low rate, off the per-tick path, and the file stays valid if the process dies); the
/// compaction reads and rewrites at most 2 × maxLines lines, once per maxLines appends.
public struct MetaExplanationLog: Sendable {
    public let path: String
    public let maxLines: Int
    public let every: Int
    public private(set) var lines: Int
    private var seen = 0

    public init(path: String, maxLines: Int = 10_000, every: Int = 1) {
        precondition(maxLines >= 1 && every >= 1)
        self.path = path
        self.maxLines = maxLines
        self.every = every
        lines = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").count ?? 0
    }

    /// Logs `e` when it is the `every`-th call; returns whether it was written.
    @discardableResult
    public mutating func offer(_ e: @autoclosure () -> MetaExplanation?) throws -> Bool {
        seen += 1
        guard (seen - 1) % every == 0, let x = e() else { return false }
        try append(x)
        return true
    }

    public mutating func append(_ e: MetaExplanation) throws {
        var data = try Self.encoder().encode(e)
        data.append(0x0A)
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: data)
        try h.close()
        lines += 1
        if lines >= 2 * maxLines { try compact() }
    }

    mutating func compact() throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let kept = text.split(separator: "\n").suffix(maxLines)
        try (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        lines = kept.count
    }

    /// JSON with sorted keys; an unexplored arm's infinite UCB bonus is written as "inf".
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// The newest `n` explanations in the file, oldest first (lines that do not decode are skipped).
    public static func tail(path: String, count n: Int) throws -> [MetaExplanation] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let dec = Self.decoder()
        return text.split(separator: "\n").suffix(n).compactMap { try? dec.decode(MetaExplanation.self, from: Data($0.utf8)) }
    }
}

/// Synthetic shadow-return streams for four agents whose edges are regime-specific, with a noisy
/// regime posterior: what the meta-agent sees in the engine, without trained agents.
///
/// Model: the true regime follows a Markov chain (stay probability `stay`, mean duration
/// 1/(1-stay) steps). The market's per-step move has magnitude |N(0, σ_r)| and a random sign.
/// Agent i's target is ±1: it has the sign right with probability 0.5 + `edgeOwn` in regime i
/// (trend: bull, short: bear, meanrev: sideways, volcarry: volatile) and 0.5 - `edgeOther` in the
/// others; its shadow return is target × move, so every agent loses outside its regime and no
/// single agent wins everywhere. The posterior puts mass c ~ U(0.55, 0.95) on the true regime
/// (on a wrong one with probability `detectorError`) and spreads the rest evenly.
///
/// Implementation Notes: O(K) per step; `step` writes into caller-owned arrays, no allocation.
public struct MetaShadowScenario: Sendable {
    public static let agentNames = ["trend", "short", "meanrev", "volcarry"]
    public var stay: Double
    public var edgeOwn: Double
    public var edgeOther: Double
    public var detectorError: Double
    public var volatility: [Double]
    public private(set) var regime: Regime
    var rng: Xoshiro256StarStar

    public init(seed: UInt64, stay: Double = 0.995, edgeOwn: Double = 0.08, edgeOther: Double = 0.02, detectorError: Double = 0.1) {
        rng = Xoshiro256StarStar(seed: seed)
        self.stay = stay
        self.edgeOwn = edgeOwn
        self.edgeOther = edgeOther
        self.detectorError = detectorError
        volatility = [0.008, 0.008, 0.006, 0.010]
        regime = .bull
    }

    /// Advances one step: returns the posterior; fills `targets` and `returns` (4 each).
    public mutating func step(targets: inout [Double], returns: inout [Double]) -> RegimeProbabilities {
        if rng.nextDouble() >= stay {
            var r = Int(rng.nextDouble() * 3)
            if r >= regime.rawValue { r += 1 }
            regime = Regime(rawValue: min(r, 3))!
        }
        var shown = regime.rawValue
        if rng.nextDouble() < detectorError {
            shown = (shown + 1 + Int(rng.nextDouble() * 3)) % 4
        }
        let c = 0.55 + 0.4 * rng.nextDouble()
        var p = RegimeProbabilities(bull: 0, bear: 0, sideways: 0, volatile: 0)
        for r in 0..<4 { p[index: r] = r == shown ? c : (1 - c) / 3 }
        let move = abs(rng.nextGaussian()) * volatility[regime.rawValue]
        let sign: Double = rng.nextDouble() < 0.5 ? 1 : -1
        for i in 0..<4 {
            let pRight = i == regime.rawValue ? 0.5 + edgeOwn : 0.5 - edgeOther
            let right = rng.nextDouble() < pRight
            targets[i] = right ? sign : -sign
            returns[i] = targets[i] * sign * move
        }
        return p
    }
}

/// Runs a meta-agent over `MetaShadowScenario` (what `kairos meta explain` does without a log).
public enum MetaShadowRun {
    public struct Summary: Sendable {
        public var explanations: [MetaExplanation]
        public var ensembleReturn: Double
        public var agentReturns: [Double]
        public var ensembleSharpe: Double
        public var bestAgentSharpe: Double
        public var switches: Int
        public var switchingCost: Double
        public var regretVsBestAgent: Double
        public var regretVsBestPerRegime: Double
    }

    /// `keep` newest explanations are returned; every `logEvery`-th is appended to `log` if given.
    public static func run(
        policy kind: SelectionPolicyKind, seed: UInt64, steps: Int, config: MetaAgentConfig? = nil,
        keep: Int = 10, log: String? = nil, logEvery: Int = 1
    ) throws -> Summary {
        let cfg = config ?? MetaAgentConfig(agentNames: MetaShadowScenario.agentNames)
        let proto = kind.make(armCount: cfg.agentNames.count, seed: seed, horizon: steps)
        return try open(proto, kind: kind, seed: seed, steps: steps, config: cfg, keep: keep, log: log, logEvery: logEvery)
    }

    static func open<P: SelectionPolicy>(
        _: P, kind: SelectionPolicyKind, seed: UInt64, steps: Int, config: MetaAgentConfig,
        keep: Int, log: String?, logEvery: Int
    ) throws -> Summary {
        var agent = MetaAgent<P>(config: config) { r in
            kind.make(armCount: config.agentNames.count, seed: seed &+ UInt64(r) &* 0x9E37_79B9, horizon: steps) as! P
        }
        var scenario = MetaShadowScenario(seed: seed)
        var targets = [Double](repeating: 0, count: 4)
        var returns = targets
        var kept = [MetaExplanation]()
        var logFile = log.map { MetaExplanationLog(path: $0, every: logEvery) }
        var agentSeries = Array(repeating: [Double](), count: 4)
        for _ in 0..<steps {
            let p = scenario.step(targets: &targets, returns: &returns)
            _ = agent.decide(regime: p, targets: targets)
            agent.record(shadowReturns: returns)
            if keep > 0 || logFile != nil, let e = agent.explanation() {
                try logFile?.offer(e)
                kept.append(e)
                if kept.count > 2 * keep { kept.removeFirst(kept.count - keep) }
            }
            for i in 0..<4 { agentSeries[i].append(returns[i]) }
        }
        func sharpe(_ xs: [Double]) -> Double {
            guard xs.count > 1 else { return 0 }
            let m = xs.reduce(0, +) / Double(xs.count)
            let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
            return v > 0 ? m / v.squareRoot() : 0
        }
        let perf = agent.performance
        // The ensemble's per-step returns are not kept: its Sharpe is pooled from the tracker.
        let ensembleSharpe = pooledSharpe(perf, row: 4)
        return Summary(
            explanations: Array(kept.suffix(keep)), ensembleReturn: perf.equity[4],
            agentReturns: Array(perf.equity[0..<4]), ensembleSharpe: ensembleSharpe,
            bestAgentSharpe: agentSeries.map(sharpe).max() ?? 0, switches: agent.switches,
            switchingCost: agent.switchingCost, regretVsBestAgent: agent.regret.vsBestAgent,
            regretVsBestPerRegime: agent.regret.vsBestPerRegime)
    }

    /// Sharpe over all steps of one row, pooled from the per-regime Welford statistics.
    static func pooledSharpe(_ p: MetaPerformance, row i: Int) -> Double {
        var n = 0.0, mean = 0.0, m2 = 0.0
        for r in 0..<MetaPerformance.regimes {
            let j = r * p.agents + i
            let nb = p.regimeCount[j]
            guard nb > 0 else { continue }
            let d = p.regimeMean[j] - mean
            let tot = n + nb
            mean += d * nb / tot
            m2 += p.regimeM2[j] + d * d * n * nb / tot
            n = tot
        }
        guard n > 1 else { return 0 }
        let sd = (m2 / (n - 1)).squareRoot()
        return sd > 0 ? mean / sd : 0
    }
}
