import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation

struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Run the baselines (buy-and-hold, SMA crossover) through the engine over bars.",
        discussion: """
            Replays one instrument's OHLCV bars (a CSV file, or the synthetic market) through the \
            same engine, risk manager and paper venue as live trading, with a simulated clock: \
            one tick per bar at the close, orders decided on a bar fill at the next bar's \
            touch. Beside each engine run it prints the vectorised reference backtest (fills at \
            the close, fractional units, cost per unit turnover) so the two can be compared.

            CSV layouts: header names are case-insensitive (date/time/timestamp, open, high, low, \
            close, optional adj close and volume); dates ISO, M/D/YYYY, DD.MM.YYYY HH:MM:SS.fff, \
            or epoch seconds/milliseconds.

            Examples:
              kairos backtest --data ../shared/data/sp500.csv
              kairos backtest --synthetic persistent --bars 5000 --seed 3 --policy sma
              kairos backtest --data prices.csv --fee-bps 2 --spread-bps 5 --max-drawdown 0.25
            """)

    @Option(help: "OHLCV CSV file of one instrument.") var data: String?
    @Option(help: "Use the synthetic market instead: persistent, fastSwitching or demo.") var synthetic: String?
    @Option(help: "Bars to generate with --synthetic.") var bars = 5_000
    @Option(help: "Seed for --synthetic.") var seed: UInt64 = 1
    @Option(help: "Which baselines: buyhold, sma or all.") var policy = "all"
    @Option(help: "Capital.") var capital: Double = 100_000
    @Option(help: "Fee in basis points of traded notional.") var feeBps: Double = 1
    @Option(help: "Slippage in basis points of the touch.") var slippageBps: Double = 0
    @Option(help: "Quoted spread around each close, basis points.") var spreadBps: Double = 1
    @Option(help: "Drawdown that trips the circuit breaker (1 = never).") var maxDrawdown: Double = 1
    @Option(help: "SMA fast window (bars).") var fast = 10
    @Option(help: "SMA slow window (bars).") var slow = 30
    @Flag(help: "SMA goes short below the slow average instead of flat.") var allowShort = false
    @Option(help: "Periods per year for annualising (default: inferred from bar spacing).")
    var periodsPerYear: Double?

    func validate() throws {
        guard (data == nil) != (synthetic == nil) else { throw ValidationError("give exactly one of --data or --synthetic") }
        guard ["buyhold", "sma", "all"].contains(policy) else { throw ValidationError("--policy is buyhold, sma or all") }
        guard fast >= 1, slow > fast else { throw ValidationError("need 1 <= --fast < --slow") }
        guard capital > 0, feeBps >= 0, slippageBps >= 0, spreadBps >= 0 else {
            throw ValidationError("capital must be > 0 and costs >= 0")
        }
    }

    func run() throws {
        let (series, label) = try loadBars()
        guard series.count > slow else { throw ValidationError("need more than \(slow) bars, got \(series.count)") }
        var cmp = BaselineComparison()
        cmp.capital = capital
        cmp.feeBps = feeBps
        cmp.slippageBps = slippageBps
        cmp.spreadBps = spreadBps
        cmp.maxDrawdown = maxDrawdown
        cmp.fast = fast
        cmp.slow = slow
        cmp.allowShort = allowShort
        cmp.periodsPerYear = periodsPerYear
        let which: [BaselineComparison.Baseline] =
            policy == "all" ? BaselineComparison.Baseline.allCases : [BaselineComparison.Baseline(rawValue: policy)!]
        let runs = try cmp.run(which, bars: series)
        let first = OHLCVCSV.formatTimestamp(series.first!.timestamp)
        let last = OHLCVCSV.formatTimestamp(series.last!.timestamp)
        print("data     \(label): \(Fmt.int(series.count)) bars, \(first) → \(last)")
        print(
            "costs    fee \(feeBps) bps, slippage \(slippageBps) bps, spread \(spreadBps) bps; capital \(Fmt.money(capital)); "
                + "breaker \(maxDrawdown >= 1 ? "off" : Fmt.pct(maxDrawdown, 0))")
        print("")
        let header =
            Fmt.pad("policy", 14, right: false) + Fmt.pad("run", 11, right: false) + Fmt.pad("return", 10)
            + Fmt.pad("annual", 9) + Fmt.pad("Sharpe", 8) + Fmt.pad("Sortino", 9) + Fmt.pad("max DD", 9)
            + Fmt.pad("trades", 8) + Fmt.pad("costs", 12)
        print(header)
        print(String(repeating: "─", count: header.count))
        for r in runs {
            print(row(r.policy, "engine", r.engine, trades: Int(r.engineFills), costs: r.engineFees))
            print(row("", "reference", r.reference, trades: r.referenceTrades, costs: r.referenceCosts))
            if r.engineRiskRejections > 0 { print("  (engine: \(Fmt.int(r.engineRiskRejections)) orders refused by risk)") }
        }
        print("")
        print("engine: next-bar fills at the touch, whole units, 10 % rebalance threshold, risk manager on;")
        print("reference: fills at the close, fractional units, every change traded, cost = fee + slippage + half spread.")
    }

    func row(_ name: String, _ run: String, _ s: PerformanceStats, trades: Int, costs: Double) -> String {
        Fmt.pad(name, 14, right: false) + Fmt.pad(run, 11, right: false) + Fmt.pad(Fmt.pct(s.totalReturn, 1), 10)
            + Fmt.pad(Fmt.pct(s.annualisedReturn, 1), 9) + Fmt.pad(Fmt.fixed(s.sharpe, 2), 8)
            + Fmt.pad(Fmt.fixed(s.sortino, 2), 9) + Fmt.pad(Fmt.pct(s.maxDrawdown, 1), 9) + Fmt.pad(Fmt.int(trades), 8)
            + Fmt.pad(Fmt.money(costs), 12)
    }

    func loadBars() throws -> ([Bar], String) {
        if let path = data {
            do {
                return (try OHLCVCSV.load(path: path), (path as NSString).lastPathComponent)
            } catch {
                throw ValidationError("cannot read \(path): \(error)")
            }
        }
        guard let name = synthetic, let scenario = MarketScenario.presets.first(where: { $0.name == name }) else {
            throw ValidationError(
                "unknown scenario \(synthetic ?? ""); one of \(MarketScenario.presets.map(\.name).joined(separator: ", "))")
        }
        var market = SyntheticMarket(scenario: scenario, instruments: 1, seed: seed)
        return (market.bars(count: bars).bars, "synthetic \(name) (seed \(seed))")
    }
}
