import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import Logging
import Synchronization

/// Options of `kairos demo`.
public struct DemoOptions: Sendable {
    public var instruments = 8
    /// Stop after this many seconds (when `ticks` is nil).
    public var duration: Double = 60
    /// Stop after this many ticks instead of a duration.
    public var ticks: Int? = nil
    /// Ticks per second the market publishes; 0 = as fast as the engine takes them (backpressure,
    /// no drops).
    public var rate: Double = 200_000
    public var seed: UInt64 = 42
    public var capitalPerInstrument: Double = 125_000
    public var fills = PaperFillConfig()
    /// Fraction of ticks the market corrupts on purpose (NaN, negative, crossed, time going
    /// backwards) to show the validator counting them. 0 disables.
    public var badTickRate: Double = 1e-5
    /// The SMA(10/30) baseline runs on bars of this many seconds of market time.
    public var barSeconds: Double = 1
    /// The policy: the ensemble (the trained agents and the meta-agent; `policy.models` etc.),
    /// sma (the baseline above) or buyhold; no kind = the ensemble when its models are present.
    /// `barSeconds` overrides `policy.barSeconds`.
    public var policy = KairosConfig.Policy()
    /// The synthetic market.
    public var scenario = MarketScenario.demo
    public var ringCapacity = 65_536
    public init() {}
}

/// What the market/venue thread reports.
public struct MarketSnapshot: Sendable {
    public var generated: UInt64 = 0
    public var corrupted: UInt64 = 0
    public var dropped: UInt64 = 0
    public var producerWaits: UInt64 = 0
    public var venueAcks: UInt64 = 0
    public var venueFills: UInt64 = 0
    public var venueRejects: UInt64 = 0
    public var regimes: [Regime] = []
    /// Execution reports the venue could not hand to a stalled engine (should stay 0).
    public var lostReports: UInt64 = 0
    public var finished = false
}

/// The demo: a synthetic multi-instrument market and paper venue on one thread, the engine on
/// another, connected by the same rings live trading uses:
///
///     market+venue thread ──ticks──▶ inbound SPSC ──▶ engine thread ──orders──▶ outbound SPSC ─┐
///            ▲                                                                                │
///            └──────────────── executions SPSC ◀── acks/fills ◀── paper venue ◀───────────────┘
///
/// The market plays the venue because a venue both publishes quotes and fills against them; it
/// stamps each tick's receive time as it pushes it (what an ingest thread does).
public final class DemoRun: Sendable {
    public let options: DemoOptions
    public typealias Policy = ConfiguredPolicy
    public let engine: Engine<Policy, MonotonicClock>
    public let monitor: EngineMonitor
    /// The engine's kill switch, safe to flip from any thread.
    public let killSwitch = KillSwitch()
    private let marketState = Mutex(MarketSnapshot())
    /// Stops the market generating and the engine loop.
    private let stopFlag = StopFlag()
    /// Stops the venue, after the engine has stopped, so every order the engine sent gets an answer.
    private let venueStop = StopFlag()
    private let marketDone = StopFlag()
    private let box: MarketBox
    private let threads: Mutex<[WorkerThread]> = Mutex([])

    public init(options: DemoOptions, logger: Logger = Logger(label: "kairos.demo")) throws {
        self.options = options
        var kc = KairosConfig()
        kc.instruments = (0..<options.instruments).map { "SYN\($0)" }
        kc.capitalPerInstrument = options.capitalPerInstrument
        kc.policy = options.policy
        kc.policy.barSeconds = options.barSeconds
        // The engine `kairos run` would build for this policy (risk and the exposure cap follow
        // the policy: the ensemble's aggressive agent asks for up to 2x), on the monotonic clock,
        // without stale-feed halts (the market is in process).
        let builder = try EngineBuilder(config: kc)
        let policy = try builder.makePolicy()
        monitor = EngineMonitor()
        engine = try builder.makeEngine(
            policy: policy, clock: MonotonicClock(), rings: EngineRings(inbound: options.ringCapacity), liveFeed: false,
            killSwitch: killSwitch, monitor: monitor, logger: logger
        ) { config in
            if policy.kind == .ensemble {
                // One tick is one daily-like bar here: at 20k ticks/s a wall-clock second holds
                // thousands of trading days, so the live throttle (500 orders/s) would refuse most
                // of the ensemble's daily rebalancing. The other limits stay.
                config.risk.maxOrdersPerSecond = 20_000
            }
        }
        box = MarketBox(
            market: SyntheticMarket(scenario: options.scenario, instruments: options.instruments, seed: options.seed),
            venue: PaperVenue(config: options.fills, capacity: options.instruments * 4))
    }

    public var marketSnapshot: MarketSnapshot { marketState.withLock { $0 } }
    public var isMarketFinished: Bool { marketDone.isSet }

    /// Starts the engine thread and the market thread.
    public func start() {
        let engine = self.engine
        let stop = stopFlag
        let engineThread = WorkerThread(name: "kairos-engine") { engine.run(until: stop) }
        let marketThread = WorkerThread(name: "kairos-market") { [self] in self.runMarket() }
        threads.withLock { $0 = [engineThread, marketThread] }
        engineThread.start()
        marketThread.start()
    }

    /// Asks the market to stop early (e.g. on SIGINT); `isMarketFinished` becomes true shortly after,
    /// then call `stop()`.
    public func requestStop() { stopFlag.set() }

    /// Stops both threads in an order that leaves nothing unanswered: the market stops generating
    /// and the engine drains the ticks and executions already queued, then stops; only then does the
    /// venue stop, after answering every order the engine sent.
    public func stop() {
        stopFlag.set()
        let ts = threads.withLock { t -> [WorkerThread] in
            let copy = t
            t = []
            return copy
        }
        guard ts.count == 2 else { return }
        ts[0].join()  // engine
        venueStop.set()
        ts[1].join()  // market + venue
    }

    private func runMarket() {
        let o = options
        // The market thread is the far end of all three engine rings: it produces ticks, consumes
        // orders and produces execution reports. Claimed here, on the thread that uses them.
        let inbound = engine.inbound.ring.claimProducer()
        let outbound = engine.outbound.ring.claimConsumer()
        let executions = engine.executions.ring.claimProducer()
        let clock = MonotonicClock()
        var market = box.market
        var venue = box.venue
        var state = MarketSnapshot()
        state.regimes = Array(repeating: .sideways, count: o.instruments)
        var rng = Xoshiro256StarStar(seed: o.seed ^ 0x9E37_79B9_7F4A_7C15)
        var tick = Tick()
        let start = clock.now()
        var nextPublish = start
        let limit = o.ticks ?? Int.max
        let deadline = o.ticks == nil ? start + Int64(o.duration * 1e9) : Int64.max
        let nsPerTick = o.rate > 0 ? 1e9 / o.rate : 0
        var lostReports: UInt64 = 0
        // A local function, not a closure value: it borrows the non-copyable producer, which an
        // escaping closure could not capture.
        func emit(_ r: ExecutionReport) {
            // The engine drains executions before ticks, so this ring only fills if the engine
            // thread is stalled; spin briefly rather than lose a fill.
            var spins = 0
            while !executions.push(r) {
                spins += 1
                if spins > 1_000_000 {
                    lostReports += 1
                    return
                }
            }
        }
        var k = 0
        while k < limit && !stopFlag.isSet {
            let now = clock.now()
            if now >= deadline { break }
            if nsPerTick > 0 {
                // Pace: tick k is due at start + k / rate.
                let due = start + Int64(Double(k) * nsPerTick)
                if now < due {
                    if due - now > 50_000 { sleepMicroseconds(Int((due - now) / 2_000)) }
                    continue
                }
            }
            let regime = market.nextTick(into: &tick)
            state.regimes[Int(tick.instrument)] = regime
            tick.ts_recv_ns = clock.now()
            venue.onTick(tick, emit: emit)  // the venue always sees the true quote
            var sent = tick
            if o.badTickRate > 0 && rng.nextDouble() < o.badTickRate {
                corrupt(&sent, rng: &rng)
                state.corrupted += 1
            }
            if nsPerTick > 0 {
                if !inbound.pushOrCountDrop(sent) { state.dropped += 1 }
            } else {
                while !inbound.push(sent) {
                    state.producerWaits += 1
                    if stopFlag.isSet { break }
                }
            }
            state.generated += 1
            k += 1
            while let order = outbound.pop() { venue.submit(order, now: clock.now(), emit: emit) }
            if now >= nextPublish {
                nextPublish = now + 50_000_000
                state.venueAcks = venue.acks
                state.venueFills = venue.fills
                state.venueRejects = venue.rejects
                let s = state
                marketState.withLock { $0 = s }
            }
        }
        // The feed has ended; the venue keeps answering orders until the engine has stopped.
        // Working orders stay working, as they would at a venue whose feed went quiet.
        state.venueAcks = venue.acks
        state.venueFills = venue.fills
        state.venueRejects = venue.rejects
        let generatedAll = state
        marketState.withLock { $0 = generatedAll }
        marketDone.set()
        while !venueStop.isSet {
            var any = false
            while let order = outbound.pop() {
                venue.submit(order, now: clock.now(), emit: emit)
                any = true
            }
            if !any { sleepMicroseconds(100) }
        }
        while let order = outbound.pop() { venue.submit(order, now: clock.now(), emit: emit) }
        state.venueAcks = venue.acks
        state.venueFills = venue.fills
        state.venueRejects = venue.rejects
        state.finished = true
        state.lostReports = lostReports
        let s = state
        marketState.withLock { $0 = s }
    }

    /// Turns a good tick into one of the bad kinds the validator must catch.
    private func corrupt(_ t: inout Tick, rng: inout Xoshiro256StarStar) {
        switch Int(rng.nextDouble() * 4) {
        case 0: t.bid = .nan
        case 1: t.ask = -t.ask
        case 2: swap(&t.bid, &t.ask); t.bid += 0.01  // crossed
        default: t.ts_exchange_ns -= 1_000_000_000  // one second in the past
        }
    }
}

/// The market and venue values the market thread takes over at start.
/// `@unchecked Sendable`: written once in `DemoRun.init`, read once by the market thread when it
/// starts (the thread start is the happens-before edge); never touched again.
private final class MarketBox: @unchecked Sendable {
    let market: SyntheticMarket
    let venue: PaperVenue
    init(market: SyntheticMarket, venue: PaperVenue) {
        self.market = market
        self.venue = venue
    }
}
