import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation
import Logging

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a synthetic multi-instrument market through the whole engine, in process.",
        discussion: """
            A seeded synthetic market (bull, bear, sideways and volatile regimes per instrument) \
            publishes ticks into the engine's inbound ring. The engine thread runs each tick through \
            the data stage (sequence tracking, validation, C feature kernels, bars, the regime \
            detector), asks the policy for a target, sizes an order, checks it in the risk stage \
            and pushes it to the outbound ring, where an in-process paper venue fills it at the \
            next eligible tick. A live view shows throughput, decision latency, orders, positions, \
            detected regimes and PnL; a summary follows at the end.

            The policy is the regime-aware ensemble when --models holds the four trained agents \
            and the regime model (as in this repository): 20,000 daily-like bars per instrument \
            (one tick per bar) at 20k ticks/s on the persistent market the agents were trained on. \
            `--policy sma` runs the SMA(10/30) baseline on 1-second bars of a 200k ticks/s demo \
            market for 60 s instead.

            No network, data files or services are needed.

            Examples:
              kairos demo                          # the ensemble, 8 instruments x 20,000 bars
              kairos demo --policy sma             # SMA(10/30), 8 instruments for 60 s at 200k ticks/s
              kairos demo --policy sma --ticks 1000000 --rate 0   # one million ticks as fast as possible
              kairos demo --instruments 32 --bars 5000 --seed 7

            Ctrl-C ends the run early; the engine drains its rings and the summary is printed.
            `kill -USR1 <pid>` engages the kill switch (every order is refused) and a second one
            releases it.
            """)

    @Option(help: "Number of synthetic instruments.") var instruments = 8
    @Option(help: "Seconds to run (ignored with --ticks).") var duration: Double = 60
    @Option(help: "Stop after this many ticks instead of a duration.") var ticks: Int?
    @Option(help: "Ticks per second the market publishes; 0 = as fast as the engine takes them (default 200,000; 20,000 for the ensemble).")
    var rate: Double?
    @Option(help: "Seed of the synthetic market.") var seed: UInt64 = 42
    @Option(help: "Capital allocated per instrument.") var capital: Double = 125_000
    @Option(help: "Paper venue latency before an order can fill, in microseconds.") var latencyUs: Double = 20
    @Option(help: "Paper venue slippage in basis points.") var slippageBps: Double = 0.5
    @Option(help: "Paper venue fee in basis points of notional.") var feeBps: Double = 0.2
    @Option(help: "Fraction of ticks corrupted on purpose to exercise the validator (0 disables).")
    var badTickRate: Double = 1e-5
    @Option(help: "Bar length in seconds of market time for the SMA(10/30) baseline.") var barSeconds: Double = 1
    @Option(help: "Live view refresh period in seconds.") var refresh: Double = 0.5
    @Flag(help: "No live view; print only the final summary.") var quiet = false
    @Option(help: "Policy: ensemble (the four trained agents + regime detector + meta-agent), sma, buyhold, or auto (ensemble when --models holds the four agents and the regime model, else sma).")
    var policy = "auto"
    @Option(help: "Ensemble: directory of <kind>.safetensors models and regime-hmm.json.") var models = "models"
    @Option(help: "Ensemble: bars (= ticks) per instrument to run when --ticks is not given.") var bars = 20_000
    @Option(help: "Ensemble: the meta-agent's rule (hedge, ducb, swucb, dthompson, exp3ix, ...).") var meta = "hedge"
    @Option(help: "Ensemble: JSONL file for the meta-agent's explanations (read with `kairos meta explain --log FILE`).")
    var explainLog = "kairos-explanations.jsonl"
    @Option(help: "Ensemble: log one explanation in this many decisions.") var explainEvery = 5_000
    @Option(help: "Ensemble: meta-agent state file, loaded at start when present and written at the end (a rerun continues learning).")
    var metaState: String?
    @Option(help: "Synthetic scenario (demo, persistent, fastSwitching); default: persistent for the ensemble (its training market), demo otherwise.")
    var scenario: String?
    @Flag(help: "Run the three live processes' parts in this process over real ZeroMQ on loopback (feed publisher → kairos run → paper gateway) and report wire-to-wire latency.")
    var wire = false

    func validate() throws {
        guard (1...InstrumentID.max).contains(instruments) else {
            throw ValidationError("--instruments must be 1...\(InstrumentID.max)")
        }
        guard duration > 0 else { throw ValidationError("--duration must be > 0") }
        if let rate, rate < 0 { throw ValidationError("--rate must be >= 0") }
        guard barSeconds > 0 else { throw ValidationError("--bar-seconds must be > 0") }
        guard policy == "auto" || KairosConfig.PolicyKind(rawValue: policy) != nil else {
            throw ValidationError("--policy is ensemble, sma, buyhold or auto")
        }
        guard SelectionPolicyKind(rawValue: meta) != nil else {
            throw ValidationError("--meta is one of \(SelectionPolicyKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let t = ticks, t <= 0 { throw ValidationError("--ticks must be > 0") }
    }

    func run() async throws {
        if wire { return try await runWire() }
        var o = DemoOptions()
        o.instruments = instruments
        o.duration = duration
        o.ticks = ticks
        o.rate = rate ?? 200_000
        o.seed = seed
        o.capitalPerInstrument = capital
        o.fills = PaperFillConfig(latencyNs: Int64(latencyUs * 1_000), slippageBps: slippageBps, feeBps: feeBps)
        o.badTickRate = badTickRate
        o.barSeconds = barSeconds
        o.policy.models = models
        o.policy.kind = KairosConfig.PolicyKind(rawValue: policy)  // nil = auto
        let kind = try o.policy.resolvedKind()
        o.policy.kind = kind
        o.policy.meta = SelectionPolicyKind(rawValue: meta)!
        if kind == .ensemble {
            o.policy.explainLog = explainLog
            o.policy.explainEvery = explainEvery
            o.policy.metaState = metaState
        }
        let scenarioName = scenario ?? (kind == .ensemble ? "persistent" : "demo")
        guard let sc = MarketScenario.presets.first(where: { $0.name == scenarioName }) else {
            throw ValidationError("unknown scenario \(scenarioName)")
        }
        o.scenario = sc
        if kind == .ensemble {
            // One tick is one daily-like bar of the persistent market: a minute at 200k ticks/s
            // would be 1.5 million bars per instrument. Default to `--bars` bars at 20k ticks/s.
            if ticks == nil { o.ticks = bars * instruments }
            if rate == nil { o.rate = 20_000 }
        }
        let demo = try DemoRun(options: o)
        let view = LiveView(interactive: !quiet && isatty(STDOUT_FILENO) == 1, quiet: quiet)
        // Ctrl-C / SIGTERM end the run early but still drain the rings and print the summary.
        // SIGUSR1 toggles the risk manager's kill switch: no order leaves while it is engaged.
        let killSwitch = demo.killSwitch
        let stopSignals = SignalHandlers([SIGINT, SIGTERM]) { demo.requestStop() }
        let killSignal = SignalHandlers([SIGUSR1]) { killSwitch.isEngaged ? killSwitch.release() : killSwitch.engage() }
        defer {
            stopSignals.cancel()
            killSignal.cancel()
        }
        let started = MonotonicClock.nanoseconds()
        demo.start()
        while !demo.isMarketFinished {
            try await Task.sleep(nanoseconds: UInt64(refresh * 1e9))
            view.render(demo: demo, elapsed: Double(MonotonicClock.nanoseconds() - started) / 1e9)
        }
        demo.stop()
        let elapsed = Double(MonotonicClock.nanoseconds() - started) / 1e9
        view.finish()
        print(Summary.render(demo: demo, elapsed: elapsed))
        try demo.engine.policy.saveState()  // the engine thread has stopped
        if kind == .ensemble {
            print("policy: \(demo.engine.policy.name) on the \(o.scenario.name) market; meta-agent explanations: kairos meta explain --log \(explainLog)")
        }
    }
}

/// The live terminal view: redraws in place on a TTY, prints a progress line every 5 s otherwise.
final class LiveView: @unchecked Sendable {  // only used from the command's task
    let interactive: Bool
    let quiet: Bool
    private var lastGenerated: UInt64 = 0
    private var lastTime: Double = 0
    private var lastLine: Double = -10

    init(interactive: Bool, quiet: Bool) {
        self.interactive = interactive
        self.quiet = quiet
        if interactive { print("\u{1B}[?25l\u{1B}[2J", terminator: "") }  // hide cursor, clear
    }

    func finish() {
        if interactive { print("\u{1B}[?25h", terminator: "") }
    }

    func render(demo: DemoRun, elapsed: Double) {
        guard !quiet, let s = demo.monitor.snapshot else { return }
        let m = demo.marketSnapshot
        let dt = max(elapsed - lastTime, 1e-9)
        let rate = Double(m.generated - min(m.generated, lastGenerated)) / dt
        lastGenerated = m.generated
        lastTime = elapsed
        if !interactive {
            guard elapsed - lastLine >= 5 else { return }
            lastLine = elapsed
            print(
                "[\(Fmt.fixed(elapsed, 1)) s] ticks \(Fmt.int(s.counters.ticksAccepted)) (\(Fmt.int(Int(rate)))/s) "
                    + "decision p50 \(Fmt.ns(s.decisionLatency.p50)) p99 \(Fmt.ns(s.decisionLatency.p99)) "
                    + "orders \(Fmt.int(s.counters.ordersSent)) fills \(Fmt.int(s.counters.fills)) "
                    + "PnL \(Fmt.money(s.pnl, sign: true))")
            return
        }
        var out = "\u{1B}[H"
        out += Screen.body(snapshot: s, market: m, demo: demo, elapsed: elapsed, rate: rate)
        out += "\u{1B}[J"
        print(out, terminator: "")
        fflush(nil)  // all streams: Swift 6 forbids touching the global `stdout`
    }
}

enum Screen {
    static func body(snapshot s: EngineSnapshot, market m: MarketSnapshot, demo: DemoRun, elapsed: Double, rate: Double)
        -> String
    {
        let o = demo.options
        let horizon = o.ticks.map { "\(Fmt.int($0)) ticks" } ?? "\(Fmt.fixed(o.duration, 0)) s"
        var l: [String] = []
        l.append("Kairos demo · \(o.instruments) instruments · policy \(s.policy) · \(Fmt.fixed(elapsed, 1)) s of \(horizon)\u{1B}[K")
        l.append(String(repeating: "─", count: 78) + "\u{1B}[K")
        let rej = s.counters.totalTicksRejected
        l.append(
            "ticks     generated \(Fmt.int(m.generated))  processed \(Fmt.int(s.counters.ticksAccepted))  "
                + "(\(Fmt.int(Int(rate)))/s)  bad \(Fmt.int(rej))  lost \(Fmt.int(s.ticksLost))  ring \(s.inboundDepth)\u{1B}[K")
        let d = s.decisionLatency
        l.append(
            "decision  p50 \(Fmt.ns(d.p50))  p99 \(Fmt.ns(d.p99))  p99.9 \(Fmt.ns(d.p999))  max \(Fmt.ns(d.max))  "
                + "(tick popped → order pushed)\u{1B}[K")
        l.append(
            "orders    sent \(Fmt.int(s.counters.ordersSent))  acks \(Fmt.int(s.counters.acks))  fills \(Fmt.int(s.counters.fills))  "
                + "risk rejections \(Fmt.int(s.counters.totalOrdersRejected))\(Summary.riskBreakdown(s))\u{1B}[K")
        l.append(
            "equity    \(Fmt.money(s.equity))  PnL \(Fmt.money(s.pnl, sign: true))  realized \(Fmt.money(s.realizedPnL, sign: true))  "
                + "unrealized \(Fmt.money(s.unrealizedPnL, sign: true))  fees \(Fmt.money(s.fees))\u{1B}[K")
        l.append(
            "risk      drawdown \(Fmt.pct(s.drawdown))  max \(Fmt.pct(s.maxDrawdown))  gross \(Fmt.money(s.grossExposure))"
                + (s.breakerTripped ? "  CIRCUIT BREAKER TRIPPED" : "") + (s.killSwitch ? "  KILL SWITCH" : "") + "\u{1B}[K")
        l.append("\u{1B}[K")
        l.append(Summary.positionTable(s, trueRegimes: m.regimes).joined(separator: "\u{1B}[K\n") + "\u{1B}[K")
        return l.joined(separator: "\n") + "\n"
    }
}

enum Summary {
    static func riskBreakdown(_ s: EngineSnapshot) -> String {
        let parts = RiskRejection.allCases.compactMap { r -> String? in
            let c = s.counters.ordersRejected[r.rawValue]
            return c > 0 ? "\(r) \(Fmt.int(c))" : nil
        }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
    }

    /// Positions per instrument, with the market's true regime (the synthetic market knows it)
    /// beside the one the engine's detector estimates, and its confidence.
    static func positionTable(_ s: EngineSnapshot, trueRegimes: [Regime], maxRows: Int = 16) -> [String] {
        var rows = [
            Fmt.pad("symbol", 8, right: false) + Fmt.pad("true", 10) + Fmt.pad("detected", 15) + Fmt.pad("position", 11)
                + Fmt.pad("avg px", 11)
                + Fmt.pad("mark", 11) + Fmt.pad("unrealized", 14) + Fmt.pad("realized", 14) + Fmt.pad("fills", 8)
        ]
        for (k, p) in s.positions.enumerated().prefix(maxRows) {
            let regime = k < trueRegimes.count ? trueRegimes[k].description : "-"
            let detected = k < s.regimes.count ? s.regimes[k].map { "\($0.regime) \(Fmt.pct($0.confidence, 0))" } ?? "-" : "-"
            rows.append(
                Fmt.pad(s.symbols[k], 8, right: false) + Fmt.pad(regime, 10) + Fmt.pad(detected, 15)
                    + Fmt.pad(Fmt.fixed(p.quantity, 0), 11)
                    + Fmt.pad(Fmt.fixed(p.averagePrice, 2), 11) + Fmt.pad(Fmt.fixed(p.markPrice, 2), 11)
                    + Fmt.pad(Fmt.money(p.unrealizedPnL, sign: true), 14) + Fmt.pad(Fmt.money(p.realizedPnL, sign: true), 14)
                    + Fmt.pad(Fmt.int(p.fillCount), 8))
        }
        if s.positions.count > maxRows { rows.append("… \(s.positions.count - maxRows) more") }
        return rows
    }

    static func render(demo: DemoRun, elapsed: Double) -> String {
        guard let s = demo.monitor.snapshot else { return "no snapshot published" }
        let m = demo.marketSnapshot
        let c = s.counters
        var l: [String] = []
        l.append("")
        l.append("Kairos demo summary")
        l.append(String(repeating: "═", count: 78))
        l.append("run         \(Fmt.fixed(elapsed, 2)) s, \(demo.options.instruments) instruments, seed \(demo.options.seed), policy \(s.policy)")
        l.append(
            "ticks       generated \(Fmt.int(m.generated)), accepted \(Fmt.int(c.ticksAccepted)) "
                + "(\(Fmt.int(Int(Double(c.ticksAccepted) / max(elapsed, 1e-9))))/s), lost \(Fmt.int(s.ticksLost)) "
                + "(ring drops \(Fmt.int(s.inboundDrops)), sequence gaps \(Fmt.int(s.sequences.gaps)))")
        let bad = TickRejection.allCases.compactMap { r -> String? in
            c.ticksRejected[r.rawValue] > 0 ? "\(r) \(Fmt.int(c.ticksRejected[r.rawValue]))" : nil
        }
        l.append(
            "bad ticks   injected \(Fmt.int(m.corrupted)), rejected \(Fmt.int(c.totalTicksRejected))"
                + (bad.isEmpty ? "" : " (" + bad.joined(separator: ", ") + ")"))
        let d = s.decisionLatency, o = s.orderLatency
        l.append("decision    p50 \(Fmt.ns(d.p50)), p99 \(Fmt.ns(d.p99)), p99.9 \(Fmt.ns(d.p999)), max \(Fmt.ns(d.max)) over \(Fmt.int(d.count)) ticks")
        l.append("tick→order  p50 \(Fmt.ns(o.p50)), p99 \(Fmt.ns(o.p99)), p99.9 \(Fmt.ns(o.p999)), max \(Fmt.ns(o.max)) over \(Fmt.int(o.count)) orders")
        l.append(
            "orders      sent \(Fmt.int(c.ordersSent)), acked \(Fmt.int(c.acks)), filled \(Fmt.int(c.fills)), venue rejects \(Fmt.int(c.venueRejects)), "
                + "risk rejections \(Fmt.int(c.totalOrdersRejected))\(riskBreakdown(s))")
        l.append(
            "PnL         \(Fmt.money(s.pnl, sign: true)) on \(Fmt.money(s.initialCapital)) (\(Fmt.pct(s.pnl / s.initialCapital, 3))), "
                + "realized \(Fmt.money(s.realizedPnL, sign: true)), unrealized \(Fmt.money(s.unrealizedPnL, sign: true)), fees \(Fmt.money(s.fees))")
        l.append("risk        max drawdown \(Fmt.pct(s.maxDrawdown)), breaker \(s.breakerTripped ? "TRIPPED" : "ok"), kill switch \(s.killSwitch ? "ENGAGED" : "off")")
        l.append("")
        l.append(contentsOf: positionTable(s, trueRegimes: m.regimes))
        return l.joined(separator: "\n")
    }
}

extension DemoCommand {
    /// `kairos demo --wire`: the synthetic feed published over ZeroMQ, the engine as `kairos run`
    /// builds it, and the paper gateway, each on its own threads in this process over TCP loopback.
    func runWire() async throws {
        let rate = (self.rate ?? 100_000) > 0 ? (self.rate ?? 100_000) : 100_000
        let count = ticks ?? Int(rate * duration)
        var logger = Logger(label: "kairos.demo.wire")
        logger.logLevel = .warning
        let stop = StopFlag()
        let signals = SignalHandlers([SIGINT, SIGTERM]) { stop.set() }
        defer { signals.cancel() }
        print("demo --wire: \(instruments) instruments, \(Fmt.int(count)) ticks at \(Fmt.int(Int(rate)))/s: publisher (XPUB) → engine (SUB … DEALER) → paper gateway (ROUTER), tcp://127.0.0.1")
        let started = MonotonicClock.nanoseconds()
        let result = try await WireBenchmark.run(
            rate: rate, ticks: count, instruments: instruments, barSeconds: barSeconds, fast: 10, slow: 30, logger: logger,
            stop: stop
        ) { app, gateway in
            guard !quiet, let s = app.engine.monitor.snapshot else { return }
            let g = gateway.statistics
            let t = Double(MonotonicClock.nanoseconds() - started) / 1e9
            print("  \(Fmt.fixed(t, 1)) s  ticks \(Fmt.int(s.counters.ticksAccepted))  decision p99 \(Fmt.ns(s.decisionLatency.p99))  orders \(Fmt.int(s.counters.ordersSent))  gateway fills \(Fmt.int(Int(g.fills)))  equity \(Fmt.money(s.equity))  PnL \(Fmt.money(s.pnl, sign: true))")
        }
        print(result.table)
    }
}
