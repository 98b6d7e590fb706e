// `kairos agents evaluate`: the trained agents' model files on a held-out stretch, beside
// buy-and-hold and SMA(10/30) with the same costs, overall and per regime segment, with the
// issue's specialisation goals. docs/agents.md, "Results".
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import Foundation

/// Loading trained agents and evaluating them on a held-out stretch.
///
/// Implementation Notes: each agent is the model file's greedy policy (`AgentModel.loadPolicy`,
/// the engine's `MLP` kernel) run by `TradingEvaluation.run`; the report is
/// `TradingEvaluationReport` (baselines, segments, goals). O(agents × bars × network); the runs'
/// arrays are the only allocations.
public enum AgentsEvaluation {
    /// Bars skipped at the start of a synthetic series before the held-out stretch (features and
    /// the SMA(30) baseline are warm by then).
    public static let syntheticWarmup = 100

    /// The agent models `<directory>/<kind>.safetensors` that exist, in `AgentKind` order.
    /// Throws when none does, when a file is not an agent model, or when a file's `agent_kind`
    /// disagrees with its name.
    public static func loadModels(directory: String, path: MLP.Path = .auto) throws -> [(kind: AgentKind, policy: AgentPolicy)] {
        var out: [(AgentKind, AgentPolicy)] = []
        for kind in AgentKind.allCases {
            let url = URL(fileURLWithPath: directory).appendingPathComponent("\(kind.name).safetensors")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let policy = try AgentModel.loadPolicy(contentsOf: url, path: path)
            guard policy.metadata.agentKind == kind.name else {
                throw AgentModel.LoadError.badMetadata("\(url.lastPathComponent) holds agent_kind \(policy.metadata.agentKind)")
            }
            guard policy.observationSize == AgentObservation.size, policy.actionCount == AgentKind.actionCount else {
                throw AgentModel.LoadError.badMetadata("\(url.lastPathComponent): network \(policy.observationSize) -> \(policy.actionCount)")
            }
            out.append((kind, policy))
        }
        guard !out.isEmpty else {
            throw AgentModel.LoadError.notAnAgentModel("no <kind>.safetensors in \(directory)")
        }
        return out
    }

    /// Runs each model's greedy policy over `range` and gathers the report (baselines included).
    public static func report(
        title: String, models: [(kind: AgentKind, policy: AgentPolicy)], dataset: TradingDataset, range: Range<Int>,
        costs: TradingCosts = TradingCosts()
    ) -> TradingEvaluationReport {
        let runs = models.map { m -> (kind: AgentKind, run: TradingRun) in
            let policy = m.policy
            return (m.kind, TradingEvaluation.run(
                ClosureTradingPolicy { Int32(policy.act($0)) }, agent: m.kind, dataset: dataset, range: range,
                costs: costs))
        }
        return TradingEvaluationReport(title: title, agents: runs, dataset: dataset, range: range, costs: costs)
    }

    /// Held-out synthetic market: `bars` bars of `scenario` with `seed` (one no model trained
    /// on), true regime labels, evaluated after `syntheticWarmup` bars.
    public static func synthetic(
        models: [(kind: AgentKind, policy: AgentPolicy)], scenario: MarketScenario = .persistent, seed: UInt64,
        bars: Int, costs: TradingCosts = TradingCosts()
    ) throws -> TradingEvaluationReport {
        precondition(bars > syntheticWarmup + 2, "too few bars")
        let ds = try TradingDataset.synthetic(scenario: scenario, count: bars, seed: seed)
        return report(
            title: "synthetic \(scenario.name), seed \(seed), bars \(syntheticWarmup)..<\(bars) (held out), true regimes",
            models: models, dataset: ds, range: syntheticWarmup..<bars, costs: costs)
    }

    /// Real data: the stretch `range` of `dataset`, labelled by the regime detector fitted on the
    /// bars before `range` only and filtered causally (`TradingDataset.causalRegimeLabels`).
    public static func realData(
        models: [(kind: AgentKind, policy: AgentPolicy)], dataset: TradingDataset, range: Range<Int>, name: String,
        costs: TradingCosts = TradingCosts()
    ) -> TradingEvaluationReport {
        let labels = TradingDataset.causalRegimeLabels(bars: dataset.bars, fitUntil: range.lowerBound)
        let ds = dataset.relabelled(labels)
        let d0 = String(OHLCVCSV.formatTimestamp(ds.bars[range.lowerBound].timestamp).prefix(10))
        let d1 = String(OHLCVCSV.formatTimestamp(ds.bars[range.upperBound - 1].timestamp).prefix(10))
        return report(
            title: "\(name) \(d0)..\(d1) (held out, \(range.count) bars), detector's causal regimes (HMM fitted before \(d0))",
            models: models, dataset: ds, range: range, costs: costs)
    }

    /// The goal lines as printed by the command: `HIT`/`MISS`/`n/a`, goal, numbers.
    public static func goalLines(_ report: TradingEvaluationReport) -> [String] {
        report.specialisationChecks().map { c in
            let mark = c.met.map { $0 ? "HIT " : "MISS" } ?? "n/a "
            return "\(mark) \(c.goal): \(c.detail)"
        }
    }
}
