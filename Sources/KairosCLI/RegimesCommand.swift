import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation

struct RegimesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regimes",
        abstract: "Fit, run and evaluate the market regime detector (bull, bear, sideways, volatile).",
        discussion: """
            The detector is a 4-state Gaussian HMM over causal bar features (docs/regimes.md). \
            `fit` trains it on a CSV and writes the JSON model; `detect` runs the online filter \
            over a CSV (row t uses bars up to t only); `evaluate` fits on a synthetic stretch and \
            scores a later unseen stretch against the true labels, beside the oracle.

            Examples:
              kairos regimes fit --data ../shared/data/sp500.csv --out model.json
              kairos regimes detect --data ../shared/data/sp500.csv --model model.json --out regimes.csv
              kairos regimes evaluate --scenario persistent --seed 1
            """,
        subcommands: [Fit.self, Detect.self, Evaluate.self, Validate.self])

    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fit the HMM on an OHLCV CSV and save it as JSON.")
        @Option(help: "OHLCV CSV file of one instrument.") var data: String
        @Option(help: "Where to write the JSON model.") var out: String
        @Option(help: "k-means++ restarts.") var restarts = 4
        @Option(help: "Persistence prior: pseudo-count (bars) added to each diagonal transition count.")
        var persistencePrior = 0.0
        @Option(help: "Seed of the initialisations.") var seed: UInt64 = 1
        @Flag(help: "Fit the naive comparison model instead (4 features, 1 start, no regression).") var naive = false
        @Option(help: "Detector: hmm (default) or jump.") var detector = "hmm"
        @Option(help: "Jump penalty of the jump model.") var jumpPenalty = 50.0

        func run() throws {
            let bars = try OHLCVCSV.load(path: data)
            guard bars.count >= 50 else { throw ValidationError("need at least 50 bars, got \(bars.count)") }
            guard detector == "hmm" || detector == "jump" else { throw ValidationError("--detector is hmm or jump") }
            if detector == "jump" {
                var o = JumpModelFitOptions()
                o.jumpPenalty = jumpPenalty
                o.restarts = restarts
                o.seed = seed
                let m = JumpModel.fit(bars: bars, options: o)
                try m.save(toPath: out)
                print("fitted jump model (lambda \(jumpPenalty)) on \(bars.count) bars, objective \(m.objective); wrote \(out)")
                for r in Regime.allCases {
                    let i = r.rawValue
                    print(String(format: "  %-9@ mean return %+.5f  vol %.5f  mean duration %.1f bars",
                                 r.description as NSString, m.stateMeanReturn[i], m.stateVolatility[i], m.meanDuration[i]))
                }
                return
            }
            var o = naive ? GaussianHMMFitOptions.naive : GaussianHMMFitOptions.standard
            if !naive { o.restarts = restarts }
            o.persistencePrior = persistencePrior
            o.seed = seed
            let m = GaussianHMM.fit(bars: bars, options: o)
            try m.save(toPath: out)
            print("fitted on \(bars.count) bars, log-likelihood \(m.logLikelihood) after \(m.iterations) iterations; wrote \(out)")
            for r in Regime.allCases {
                let i = r.rawValue
                print(String(format: "  %-9@ mean return %+.5f  vol %.5f  expected duration %.1f bars",
                             r.description as NSString, m.stateMeanReturn[i], m.stateVolatility[i], m.expectedDuration(r)))
            }
        }
    }

    struct Detect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the fitted filter over a CSV, one row per bar.")
        @Option(help: "OHLCV CSV file of one instrument.") var data: String
        @Option(help: "JSON model from `regimes fit` (HMM or jump model).") var model: String
        @Option(help: "Output CSV (timestamp,regime,confidence,p_bull,p_bear,p_sideways,p_volatile).") var out: String
        @Option(help: "Hysteresis threshold for declared transitions.") var threshold = 0.6
        @Option(help: "Hysteresis minimum dwell (bars).") var minDwell = 3

        func run() throws {
            let bars = try OHLCVCSV.load(path: data)
            var f = try RegimeModelFile.loadDetector(path: model)
            let est = f.run(bars: bars)
            try RegimeCSV.write(bars: bars, estimates: est, toPath: out)
            let (_, transitions) = HysteresisDetector.labels(
                est, timestamps: bars.map(\.timestamp), threshold: threshold, minDwell: minDwell)
            print("wrote \(est.count) rows to \(out); \(transitions.count) declared transitions (threshold \(threshold), dwell \(minDwell))")
            for t in transitions.suffix(10) {
                print("  \(OHLCVCSV.formatTimestamp(t.timestamp))  \(t.from) -> \(t.to)  (\(String(format: "%.2f", t.confidence)))")
            }
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fit on a synthetic stretch, score a later one, beside the oracle.")
        @Option(help: "persistent, fastSwitching or demo (tick-level steps).") var scenario = "persistent"
        @Option(help: "Seed of the synthetic market.") var seed: UInt64 = 1
        @Option(help: "Training bars.") var trainBars = 20_000
        @Option(help: "Evaluation bars (generated after the training bars).") var testBars = 20_000
        @Flag(help: "Evaluate the naive comparison model instead.") var naive = false
        @Option(help: "Restarts (standard model).") var restarts = 4
        @Option(help: "Persistence prior (pseudo-count).") var persistencePrior = 0.0
        @Option(help: "Detector: hmm or jump.") var detector = "hmm"
        @Option(help: "Jump penalty of the jump model.") var jumpPenalty = 50.0
        @Option(help: "Ablation: HMM inputs, comma-separated (logReturn,logVolShort,logVolLong,trend).") var inputs: String?
        @Flag(help: "Ablation: no switching regression of the return on the trend.") var noRegression = false
        @Flag(help: "Ablation: k-means++ on the HMM inputs instead of the smoothed features.") var initOnInputs = false
        @Option(help: "Ablation: EMA smoothing of the trend level (default 0.05).") var trendSmoothing: Double?

        func run() throws {
            guard let s = MarketScenario.presets.first(where: { $0.name == scenario }) else {
                throw ValidationError("--scenario is persistent, fastSwitching or demo (tick-level: one bar = one tick)")
            }
            var o = naive ? GaussianHMMFitOptions.naive : GaussianHMMFitOptions.standard
            if !naive { o.restarts = restarts }
            o.persistencePrior = persistencePrior
            if let inputs {
                o.inputs = try inputs.split(separator: ",").map {
                    guard let i = RegimeInput(rawValue: String($0)) else { throw ValidationError("unknown input \($0)") }
                    return i
                }
            }
            if noRegression { o.trendRegression = false }
            if initOnInputs { o.initialiseOnSmoothedFeatures = false }
            if let trendSmoothing {
                guard trendSmoothing > 0, trendSmoothing <= 1 else { throw ValidationError("--trend-smoothing is in (0, 1]") }
                o.features.trendSmoothing = trendSmoothing
            }
            var j = JumpModelFitOptions()
            j.jumpPenalty = jumpPenalty
            guard detector == "hmm" || detector == "jump" else { throw ValidationError("--detector is hmm or jump") }
            let e = RegimeScenarioEvaluation.run(
                scenario: s, seed: seed, trainBars: trainBars, testBars: testBars,
                detector: detector == "hmm" ? .hmm(o) : .jump(j))
            print(e.table, terminator: "")
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the detector's causal labels with Lunde-Timmermann bull/bear phases of a price history.")
        @Option(help: "OHLCV CSV file (e.g. ../shared/data/sp500.csv).") var data: String
        @Option(help: "Detector: hmm or jump.") var detector = "hmm"
        @Option(help: "HMM persistence prior (pseudo-count).") var persistencePrior = 0.0
        @Option(help: "Jump penalty of the jump model.") var jumpPenalty = 50.0
        @Option(help: "Hysteresis threshold.") var threshold = 0.6
        @Option(help: "Hysteresis minimum dwell (bars).") var minDwell = 3
        @Option(help: "Out-of-sample: fit on bars before this date (YYYY-MM-DD), score bars from it on.")
        var trainUntil: String?

        func run() throws {
            let bars = try OHLCVCSV.load(path: data)
            guard bars.count >= 50 else { throw ValidationError("need at least 50 bars") }
            var split = 0
            if let trainUntil {
                guard let ts = OHLCVCSV.parseTimestamp(trainUntil) else { throw ValidationError("bad --train-until date") }
                split = bars.firstIndex { $0.timestamp >= ts } ?? bars.count
                guard split >= 50, split < bars.count else { throw ValidationError("--train-until leaves too few bars on one side") }
            }
            let train = split > 0 ? Array(bars[..<split]) : bars
            let est: [RegimeEstimate]
            if detector == "jump" {
                var o = JumpModelFitOptions()
                o.jumpPenalty = jumpPenalty
                var d = JumpModelDetector(model: JumpModel.fit(bars: train, options: o))
                est = d.run(bars: bars)
            } else {
                var o = GaussianHMMFitOptions.standard
                o.persistencePrior = persistencePrior
                var f = GaussianHMMFilter(model: GaussianHMM.fit(bars: train, options: o))
                est = f.run(bars: bars)
            }
            // The filter runs causally over the whole series; only bars from the split are scored.
            let labels = Array(HysteresisDetector.labels(est, threshold: threshold, minDwell: minDwell).labels[split...])
            let (truthAll, _) = BullBearDating.lundeTimmermann(closes: bars.map(\.close))
            let truth = Array(truthAll[split...])
            let c = BullBearComparison(bull: truth, labels: labels)
            if split > 0 { print("fitted on \(split) bars before \(trainUntil!), scored on the \(bars.count - split) after") }
            print(String(format: "%d bars; agreement %.3f, bull recall %.3f, bear recall %.3f (bull+sideways = bull, bear+volatile = bear)",
                         c.bars, c.agreement, c.bullRecall, c.bearRecall))
            print("phase   start       end         bars  lag(bars)  coverage")
            for p in c.phases {
                let d0 = String(OHLCVCSV.formatTimestamp(bars[split + p.startIndex].timestamp).prefix(10))
                let d1 = String(OHLCVCSV.formatTimestamp(bars[split + p.endIndex].timestamp).prefix(10))
                print(String(format: "%@  %@  %@  %5d  %9@  %.3f", (p.isBull ? "bull" : "bear") as NSString, d0 as NSString,
                             d1 as NSString, p.endIndex - p.startIndex + 1, (p.lag.map { String($0) } ?? "never") as NSString, p.coverage))
            }
        }
    }
}
