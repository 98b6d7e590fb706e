import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation

struct MetaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta",
        abstract: "The meta-agent: bandit/experts selection of agents per regime, regret, explanations.",
        discussion: """
            `simulate` runs one selection rule over a T×K reward matrix (the standard harness); \
            `streams` writes the three benchmark streams; `evaluate` reports mean regret over \
            seeds for every rule (docs/meta.md); `shadow` compares the meta-agent with the best \
            single agent on synthetic shadow returns; `explain` prints the latest decision explanations \
            from a log, or from a meta-agent run over synthetic shadow returns when there is none.

            Examples:
              kairos meta streams --out /tmp/streams --seed 1
              kairos meta simulate --rewards /tmp/streams/switching-s1-rewards.csv --policy ducb --seed 1 \\
                  --out choices.csv --means /tmp/streams/switching-means.csv
              kairos meta evaluate --seeds 20
              kairos meta shadow --seeds 5
              kairos meta explain -n 5
            """,
        subcommands: [Simulate.self, Streams.self, Evaluate.self, Shadow.self, Explain.self])

    static func policyKind(_ s: String) throws -> SelectionPolicyKind {
        guard let k = SelectionPolicyKind(rawValue: s.lowercased()) else {
            throw ValidationError("unknown policy \(s); one of \(SelectionPolicyKind.harnessOrder.map(\.rawValue).joined(separator: "|"))")
        }
        return k
    }

    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one rule over a reward matrix; write the choices and print the regret.")
        @Option(help: "T×K CSV of rewards in [0, 1] with a header of arm names.") var rewards: String
        @Option(help: "ucb1|ducb|swucb|thompson|dthompson|exp3|exp3ix|hedge|egreedy (also ucbtuned|klucb|gthompson|rexp3).")
        var policy: String
        @Option(help: "Seed of the rule's random draws.") var seed: UInt64 = 1
        @Option(help: "Output CSV: t,arm,reward per step.") var out: String
        @Option(help: "Optional T×K CSV of the true per-step means (adds regret against the per-step best arm).")
        var means: String?

        func run() throws {
            let kind = try MetaCommand.policyKind(policy)
            let r = try RewardMatrix.load(path: rewards)
            let m = try means.map { try RewardMatrix.load(path: $0) }
            if let m, m.rows != r.rows || m.arms != r.arms {
                throw ValidationError("--means is \(m.rows)×\(m.arms), rewards \(r.rows)×\(r.arms)")
            }
            for v in r.values where v < 0 || v > 1 { throw ValidationError("rewards must be in [0, 1], found \(v)") }
            let run = BanditHarness.run(kind, seed: seed, rewards: r, means: m)
            try BanditHarness.choicesCSV(run, names: r.names).write(toFile: out, atomically: true, encoding: .utf8)
            var counts = [Int](repeating: 0, count: r.arms)
            for c in run.choices { counts[c] += 1 }
            print("policy \(kind.rawValue) (\(kind.feedbackName) feedback), seed \(seed), T=\(r.rows), K=\(r.arms); wrote \(out)")
            print("pulls: " + zip(r.names, counts).map { "\($0)=\($1)" }.joined(separator: " "))
            print(String(format: "total reward %.1f; regret vs best fixed arm (realised) %.1f", run.totalReward, run.regretVsBestFixed))
            if let d = run.regretVsPerStepBest, let f = run.pseudoRegretVsBestFixed {
                print(String(format: "pseudo-regret vs best fixed arm %.1f; vs per-step best arm %.1f", f, d))
            }
        }
    }

    struct Streams: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the benchmark streams (stationary, switching, drift) as reward and mean CSVs.")
        @Option(help: "Output directory (created).") var out: String
        @Option(help: "Seed of the Bernoulli draws (docs use 1...20).") var seed: UInt64 = 1
        @Option(help: "Steps per stream.") var steps = 10_000

        func run() throws {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for s in BanditStream.allCases {
                let (r, m) = s.rewards(seed: seed, steps: steps)
                let rp = "\(out)/\(s.rawValue)-s\(seed)-rewards.csv", mp = "\(out)/\(s.rawValue)-means.csv"
                try r.write(path: rp)
                try m.write(path: mp)
                print("wrote \(rp) and \(mp)")
            }
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mean regret over seeds for every rule on the three streams (markdown tables).")
        @Option(help: "Seeds 1...N (stream draws and rule seed both = s).") var seeds = 20
        @Option(help: "Steps per stream.") var steps = 10_000
        @Option(help: "Comma-separated steps at which to report regret.") var checkpoints = "1000,2000,5000,10000"
        @Option(help: "Comma-separated rules (default: all).") var policies: String?

        func run() throws {
            let kinds = try policies.map { try $0.split(separator: ",").map { try MetaCommand.policyKind(String($0)) } }
                ?? SelectionPolicyKind.harnessOrder
            let cps = checkpoints.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 && $0 <= steps }
            for stream in BanditStream.allCases {
                print("\n### \(stream.rawValue): pseudo-regret vs the per-step best arm, mean ± sd over \(seeds) seeds\n")
                print("| rule | " + cps.map { "T=\($0)" }.joined(separator: " | ") + " | realised regret vs best fixed arm (T=\(steps)) |")
                print("|---|" + String(repeating: "---:|", count: cps.count + 1))
                let data = (1...seeds).map { stream.rewards(seed: UInt64($0), steps: steps) }
                for k in kinds {
                    var at = Array(repeating: [Double](), count: cps.count)
                    var fixed = [Double]()
                    for (n, (r, m)) in data.enumerated() {
                        let run = BanditHarness.run(k, seed: UInt64(n + 1), rewards: r, means: m)
                        for (j, c) in cps.enumerated() { at[j].append(run.regretCurve[c - 1]) }
                        fixed.append(run.regretVsBestFixed)
                    }
                    print("| \(k.rawValue) | " + (at + [fixed]).map(Self.meanSD).joined(separator: " | ") + " |")
                }
            }
        }

        static func meanSD(_ xs: [Double]) -> String {
            let m = xs.reduce(0, +) / Double(xs.count)
            let sd = xs.count > 1 ? (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot() : 0
            return String(format: "%.1f ± %.1f", m, sd)
        }
    }

    struct Shadow: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Meta-agent over synthetic shadow returns: ensemble vs best single agent, per rule (markdown).")
        @Option(help: "Seeds 1...N.") var seeds = 5
        @Option(help: "Steps per run.") var steps = 20_000
        @Option(help: "Comma-separated rules.") var policies = "hedge,ducb,swucb,thompson,dthompson,exp3ix,ucb1"
        @Option(help: "Hysteresis (consecutive proposals).") var minDwell = 3
        @Option(help: "Ramp length (steps).") var transitionSteps = 5

        func run() throws {
            let kinds = try policies.split(separator: ",").map { try MetaCommand.policyKind(String($0)) }
            print("| rule | mode | ensemble Sharpe/step | best agent Sharpe/step | ensemble return | best agent return | switches | switching cost | regret vs best agent | regret vs best per regime |")
            print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for k in kinds {
                for mode in MetaOutputMode.allCases {
                    var rows = [MetaShadowRun.Summary]()
                    for seed in 1...seeds {
                        let cfg = MetaAgentConfig(agentNames: MetaShadowScenario.agentNames, mode: mode,
                                                  transitionSteps: transitionSteps, minDwell: minDwell)
                        rows.append(try MetaShadowRun.run(policy: k, seed: UInt64(seed), steps: steps, config: cfg, keep: 0))
                    }
                    func avg(_ f: (MetaShadowRun.Summary) -> Double) -> Double { rows.map(f).reduce(0, +) / Double(rows.count) }
                    print(String(format: "| %@ | %@ | %.4f | %.4f | %+.3f | %+.3f | %.0f | %.3f | %.3f | %.3f |",
                                 k.rawValue as NSString, mode.rawValue as NSString, avg(\.ensembleSharpe), avg(\.bestAgentSharpe),
                                 avg(\.ensembleReturn), avg { $0.agentReturns.max() ?? 0 }, avg { Double($0.switches) },
                                 avg(\.switchingCost), avg(\.regretVsBestAgent), avg(\.regretVsBestPerRegime)))
                }
            }
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the latest meta-agent explanations (from a log, or a synthetic shadow run).",
            discussion: """
                With --log FILE and the file present: its newest N explanations. Otherwise the \
                meta-agent runs over synthetic shadow-return streams (four agents whose edge \
                depends on the regime, a noisy regime posterior) and its newest N explanations \
                are printed; with --log they are also written there (JSONL, bounded).
                """)
        @Option(help: "JSONL explanation log.") var log: String?
        @Option(name: .shortAndLong, help: "How many explanations.") var n = 10
        @Flag(help: "Print the JSON objects instead of the readable lines.") var json = false
        @Option(help: "Rule for the synthetic run.") var policy = "hedge"
        @Option(help: "Output mode for the synthetic run: select|blend.") var mode = "select"
        @Option(help: "Steps of the synthetic run.") var steps = 5_000
        @Option(help: "Seed of the synthetic run.") var seed: UInt64 = 1

        func run() throws {
            if let log, FileManager.default.fileExists(atPath: log) {
                let es = try MetaExplanationLog.tail(path: log, count: n)
                print("\(es.count) latest explanations from \(log):")
                try printAll(es)
                return
            }
            let kind = try MetaCommand.policyKind(policy)
            guard let m = MetaOutputMode(rawValue: mode) else { throw ValidationError("--mode is select or blend") }
            let cfg = MetaAgentConfig(agentNames: MetaShadowScenario.agentNames, mode: m)
            let s = try MetaShadowRun.run(policy: kind, seed: seed, steps: steps, config: cfg, keep: n, log: log)
            print("no explanation log\(log.map { " at \($0) (now written)" } ?? ""): meta-agent (\(kind.rawValue), \(m.rawValue)) over \(steps) steps of synthetic shadow returns, seed \(seed)")
            print(String(format: "ensemble return %+.4f (Sharpe/step %.4f) vs agents %@; best agent Sharpe/step %.4f; %d switches, switching cost %.4f; regret vs best agent %.4f, vs best per regime %.4f",
                         s.ensembleReturn, s.ensembleSharpe, s.agentReturns.map { String(format: "%+.4f", $0) }.joined(separator: " ") as NSString,
                         s.bestAgentSharpe, s.switches, s.switchingCost, s.regretVsBestAgent, s.regretVsBestPerRegime))
            try printAll(s.explanations)
        }

        func printAll(_ es: [MetaExplanation]) throws {
            let enc = MetaExplanationLog.encoder()
            for e in es {
                print(json ? String(decoding: try enc.encode(e), as: UTF8.self) : e.line)
            }
        }
    }
}

extension SelectionPolicyKind {
    var feedbackName: String { self == .hedge ? "full" : "bandit" }
}
