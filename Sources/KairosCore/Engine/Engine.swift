import CKairos
import Logging

/// The trading engine: one thread pops ticks and runs each through three stages named by their
/// trading role, then pushes approved orders to the outbound ring; execution reports come back
/// through another ring and update the portfolio.
///
/// - **Data** (`MarketDataStage`): sequence tracking, validation, stale-feed detection, tick
///   features, the bar aggregator, bar features and the regime detector, per instrument.
/// - **Decision** (`DecisionPolicy`): a target exposure from the data stage's context.
/// - **Risk** (`RiskManager`): the one exposure cap, the stale-feed halt, limits, throttle,
///   drawdown breaker and kill switch; then the order goes out.
///
/// Implementation Notes
/// - Single writer: every field is read and written only by the thread that calls `processTick`,
///   `drainExecutions` or `run` (the LMAX Disruptor's single-writer principle). There are no locks on
///   the hot path; other threads see the engine only through the rings and through the snapshots
///   it publishes to its `EngineMonitor` every `snapshotIntervalNs`.
/// - No allocation per tick: features, per-instrument state, histograms and counters are sized at
///   init; the policy is a generic parameter (no existential boxing); events go only to a sink on
///   order-level events.
/// - At most one working order per instrument: a new decision for an instrument waits until its
///   previous order is final (`OrderLifecycle`: filled, rejected, cancelled or timed out). Sizes use
///   position + working quantity. Reports are applied by the lifecycle's rules, the same ones the
///   order router applies: an illegal report is counted and ignored, a FILL arriving after the
///   router timed the order out is booked (the venue did trade it).
/// - Time: decisions and order timestamps use `clock` (wall/monotonic live, simulated in
///   backtests); latency histograms always use the monotonic clock.
/// - `@unchecked Sendable`: the engine is created on one thread and handed to the engine thread
///   before `run`; after that only that thread touches it (the rings and the monitor are the
///   thread-safe channels). Reading its fields from elsewhere while it runs is a bug. Its ring
///   handles are stored here, so the engine thread is the one consumer of `inbound` and
///   `executions` and the one producer of `outbound` (the claims make a second one trap).
public final class Engine<Policy: DecisionPolicy, Clock: EngineClock>: @unchecked Sendable {
    public let config: EngineConfig
    public private(set) var policy: Policy
    public let clock: Clock
    /// The engine's sides of its three rings: it consumes ticks and execution reports and produces
    /// orders. The far sides (an ingest or market thread; an order router or venue) claim theirs
    /// from `inbound.ring`, `outbound.ring` and `executions.ring`.
    public let inbound: SPSCRing<Tick>.Consumer
    public let outbound: SPSCRing<Order>.Producer
    public let executions: SPSCRing<ExecutionReport>.Consumer
    public let monitor: EngineMonitor
    public weak var events: (any EngineEventSink)?
    /// Feature snapshots for the Redis cache (side channel: a throttled ring push, never blocks).
    public var snapshots: FeatureSnapshotPublisher?
    public var logger: Logger

    /// The data stage: everything known about the instruments' market data.
    public let data: MarketDataStage
    public private(set) var portfolio: Portfolio
    /// The risk stage.
    public private(set) var risk: RiskManager
    public private(set) var counters = EngineCounters()
    /// Tick popped → decision done (every accepted tick), ns.
    public private(set) var decisionLatency = LatencyHistogram()
    /// Tick popped → order pushed to the outbound ring (ticks that produced an order), ns.
    public private(set) var orderLatency = LatencyHistogram()
    /// Whether to time each tick (two vDSO clock reads, ~40 ns); off for pure backtests.
    public var measureLatency = true

    /// Signed quantity of the working order per instrument (0 when none).
    @usableFromInline var workingQuantity: [Double]
    /// Client order id of the working order per instrument (0 when none).
    @usableFromInline var workingOrderID: [UInt64]
    /// Where the working order is in its life (meaningful while `workingOrderID` is not 0; always live).
    @usableFromInline var workingState: [OrderLifecycle]
    /// Per instrument, the last order the router timed out (0 when none): the venue may still
    /// answer it, and a late FILL must be booked.
    @usableFromInline var timedOutOrderID: [UInt64]
    /// |position + working| × last price per instrument, and their sum, kept incrementally.
    @usableFromInline var exposureNotional: [Double]
    @usableFromInline var grossNotional: Double = 0
    @usableFromInline var nextClientOrderID: UInt64 = 1
    @usableFromInline var nextSnapshotAt: Int64 = 0
    @usableFromInline var nextEquitySampleAt: Int64 = 0
    var loggedTickReasons = OncePerReason()
    var loggedRiskReasons = OncePerReason()
    var loggedUnknownExecution = OncePerReason()
    @usableFromInline let policyID: UInt8

    public init(
        config: EngineConfig, policy: Policy, clock: Clock,
        inbound: consuming SPSCRing<Tick>.Consumer, outbound: consuming SPSCRing<Order>.Producer,
        executions: consuming SPSCRing<ExecutionReport>.Consumer,
        killSwitch: KillSwitch = KillSwitch(), monitor: EngineMonitor = EngineMonitor(),
        logger: Logger = Logger(label: "kairos.engine"), policyID: UInt8 = 0
    ) throws {
        let n = config.instruments.count
        precondition(n > 0 && n <= InstrumentID.max, "1...\(InstrumentID.max) instruments")
        for (k, inst) in config.instruments.enumerated() {
            precondition(inst.id.index == k, "instrument ids must be dense 0..<n in order")
        }
        self.config = config
        self.policy = policy
        self.clock = clock
        self.inbound = inbound
        self.outbound = outbound
        self.executions = executions
        self.monitor = monitor
        self.logger = logger
        self.policyID = policyID
        portfolio = Portfolio(instrumentCount: n, initialCapital: config.totalCapital)
        risk = RiskManager(limits: config.risk, killSwitch: killSwitch, instruments: n)
        risk.staleResumeTicks = config.staleResumeTicks
        // The data stage computes what the policy reads (its bars, bar features, regime filter).
        data = try MarketDataStage(
            instruments: n, features: config.features, requirements: policy.dataRequirements,
            staleAfterNs: config.staleAfterNs, startNs: clock.now())
        workingQuantity = Array(repeating: 0, count: n)
        workingOrderID = Array(repeating: 0, count: n)
        workingState = Array(repeating: .sent, count: n)
        timedOutOrderID = Array(repeating: 0, count: n)
        exposureNotional = Array(repeating: 0, count: n)
    }

    public var killSwitch: KillSwitch { risk.killSwitch }

    /// Mutates the policy in place, on the engine thread (tests and controlled reconfiguration).
    func setPolicyForTesting(_ change: (inout Policy) -> Void) { change(&policy) }
    public func features(of id: InstrumentID) -> FeatureVector { data.features(of: id) }
    /// The regime estimate of an instrument after its latest bar (nil without a detector).
    public func regime(of id: InstrumentID) -> RegimeEstimate? { data.regime(of: id) }
    /// Sequence tracking of every publisher (gaps, missing, duplicates...).
    public var sequences: SequenceTracker { data.sequences }
    public var validator: TickValidator { data.validator }
    public func workingOrder(of id: InstrumentID) -> (id: UInt64, quantity: Double)? {
        workingOrderID[id.index] == 0 ? nil : (workingOrderID[id.index], workingQuantity[id.index])
    }

    // MARK: - The decision path

    /// Handles one tick end to end. Returns true when it produced an order.
    @discardableResult
    public func processTick(_ tick: Tick) -> Bool {
        let t0 = measureLatency ? MonotonicClock.nanoseconds() : 0
        counters.ticksReceived &+= 1
        let now = clock.now()  // read once per tick: sequences, marks, risk and the order share it

        // Data stage.
        let (outcome, _) = data.ingest(tick, now: now)
        switch outcome {
        case .accepted: break
        case .sequenceDropped:
            counters.sequenceDropped &+= 1
            return false
        case .rejected(let reason):
            counters.ticksRejected[reason.rawValue] &+= 1
            events?.record(.tickRejected(tick, reason))
            logTickRejectionOnce(reason, tick)
            return false
        }
        counters.ticksAccepted &+= 1
        let i = Int(tick.instrument)
        let id = InstrumentID(tick.instrument)
        let price = tick.mid
        if risk.recordFreshTick(i) {
            logger.notice("feed fresh again: instrument resumed", metadata: ["instrument": "\(config.instruments[i].symbol)"])
        }

        // Mark to market and let the breaker see the new equity.
        portfolio.mark(id, price: price)
        refreshExposure(i)
        if risk.observe(drawdown: portfolio.drawdown, now: now) {
            counters.breakerTrips &+= 1
            events?.record(.circuitBreakerTripped(drawdown: portfolio.drawdown, equity: portfolio.equity, at: now))
            logger.critical(
                "circuit breaker tripped: flattening and halting",
                metadata: ["drawdown": "\(portfolio.drawdown)", "equity": "\(portfolio.equity)"])
        }
        if let snapshots {
            _ = snapshots.offer(
                instrument: id, timestamp: tick.ts_exchange_ns, features: data.features(of: id),
                regime: data.regime(of: id).map(CachedRegime.init), now: now)
        }

        // Decision and risk stages.
        let sent = decide(instrument: i, tick: tick, price: price, now: now)
        if measureLatency {
            let dt = MonotonicClock.nanoseconds() &- t0
            decisionLatency.record(dt)
            if sent { orderLatency.record(dt) }
        }
        if now >= nextSnapshotAt { publishSnapshot(now: now) }
        return sent
    }

    func decide(instrument i: Int, tick: Tick, price: Double, now: Int64) -> Bool {
        let id = InstrumentID(i)
        let position = portfolio.positions[i].quantity
        let capital = config.capitalPerInstrument
        var target: Double
        if risk.breakerTripped {
            target = 0  // flatten and stay flat
        } else {
            let ctx = data.context(instrument: i, tick: tick, position: position, exposure: position * price / capital, now: now)
            counters.decisions &+= 1
            guard let wanted = policy.decide(ctx), wanted.isFinite else {
                counters.holds &+= 1
                return false
            }
            target = risk.limits.capExposure(wanted)
        }
        guard workingOrderID[i] == 0 else { return false }  // one working order per instrument
        let lot = config.instruments[i].lotSize
        let targetUnits = (target * capital / price / lot).rounded(.towardZero) * lot
        let current = position + workingQuantity[i]
        let delta = targetUnits - current
        if delta == 0 { return false }
        if targetUnits != 0 && abs(delta) * price < config.minRebalanceFraction * capital { return false }
        let intent = OrderIntent(instrument: id, side: delta > 0 ? .buy : .sell, quantity: abs(delta), price: price)
        if let reason = risk.check(
            intent, exposure: current, grossNotional: grossNotional, lastPrice: data.lastPrice[i], now: now)
        {
            counters.ordersRejected[reason.rawValue] &+= 1
            events?.record(.orderRejected(intent, reason, at: now))
            logRiskRejectionOnce(reason, intent)
            return false
        }
        var order = Order()
        order.client_order_id = nextClientOrderID
        order.ts_decision_ns = now
        order.ts_tick_recv_ns = tick.ts_recv_ns
        order.quantity = intent.quantity
        order.limit_price = price
        order.tick_seq = tick.seq
        order.instrument = tick.instrument
        order.side = intent.side.rawValue
        order.type = UInt8(KAIROS_ORDER_MARKET.rawValue)
        order.action = UInt8(KAIROS_ORDER_NEW.rawValue)
        order.policy = policyID
        guard outbound.push(order) else {
            counters.outboundFull &+= 1
            events?.record(.outboundFull(intent, at: now))
            return false
        }
        nextClientOrderID &+= 1
        workingOrderID[i] = order.client_order_id
        workingState[i] = OrderLifecycle()
        workingQuantity[i] = delta
        refreshExposure(i)
        counters.ordersSent &+= 1
        events?.record(.orderSent(order))
        return true
    }

    func refreshExposure(_ i: Int) {
        let e = abs(portfolio.positions[i].quantity + workingQuantity[i]) * data.lastPrice[i]
        grossNotional += e - exposureNotional[i]
        exposureNotional[i] = e
    }

    // MARK: - Executions

    /// Applies one execution report from the venue (or one the order router made up), by the rules
    /// of `OrderLifecycle`.
    public func processExecution(_ r: ExecutionReport) {
        let i = Int(r.instrument)
        guard i < workingOrderID.count, r.client_order_id != 0, let event = OrderEvent(r) else {
            return countUnknownExecution(r)
        }
        if workingOrderID[i] == r.client_order_id {
            applyToWorkingOrder(r, event, instrument: i)
        } else if timedOutOrderID[i] == r.client_order_id {
            applyLate(r, event, instrument: i)
        } else {
            countUnknownExecution(r)
        }
    }

    func applyToWorkingOrder(_ r: ExecutionReport, _ event: OrderEvent, instrument i: Int) {
        if event == .timedOut {
            risk.recordOrderTimeout(now: clock.now())
        } else if r.isFromVenue {
            risk.recordGatewayAnswer()
        }
        guard case .moved(let state) = workingState[i].apply(event) else {
            // A second ACK, for instance: the order's state is unchanged and nothing is applied.
            counters.unexpectedExecutions &+= 1
            return
        }
        switch event {
        case .acknowledged: counters.acks &+= 1
        case .partiallyFilled, .filled:
            counters.fills &+= 1
            workingQuantity[i] -= bookFill(r, instrument: i)
        case .rejected: counters.venueRejects &+= 1
        case .timedOut:
            counters.venueRejects &+= 1
            counters.orderTimeouts &+= 1
        case .cancelled: counters.cancels &+= 1
        case .cancelRequested: break  // the router's, never in a report
        }
        if state.isFinal {
            if state == .timedOut { timedOutOrderID[i] = r.client_order_id }
            workingOrderID[i] = 0
            workingQuantity[i] = 0
        }
        refreshExposure(i)
        events?.record(.execution(r))
    }

    /// A report for the instrument's last timed-out order: its working order is gone, but a FILL
    /// still moved the position at the venue (`OrderTransition.late`). Not a sign of gateway health:
    /// a gateway slower than the ack timeout keeps the risk manager's timeout count.
    func applyLate(_ r: ExecutionReport, _ event: OrderEvent, instrument i: Int) {
        guard OrderLifecycle.timedOut.transition(on: event) == .late else {
            counters.unexpectedExecutions &+= 1  // a second REJECT(timeout): the router sends one
            return
        }
        counters.lateExecutions &+= 1
        if event.isFill {
            counters.lateFills &+= 1
            _ = bookFill(r, instrument: i)
            refreshExposure(i)
        }
        events?.record(.execution(r))
    }

    /// Books a FILL into the portfolio. Returns the signed quantity booked (0 for an empty fill).
    func bookFill(_ r: ExecutionReport, instrument i: Int) -> Double {
        guard r.fill_qty > 0 && r.fill_price > 0 else { return 0 }
        let side: Side = r.side == Side.buy.rawValue ? .buy : .sell
        portfolio.apply(
            instrument: InstrumentID(r.instrument), side: side, quantity: r.fill_qty, price: r.fill_price,
            fee: max(0, r.fee))
        // Mark back to the last mid so equity reflects the market, not the fill price.
        if data.lastPrice[i] > 0 { portfolio.mark(InstrumentID(r.instrument), price: data.lastPrice[i]) }
        return side.sign * r.fill_qty
    }

    func countUnknownExecution(_ r: ExecutionReport) {
        counters.unknownExecutions &+= 1
        // Reports for orders timed out before the instrument's last one land here: log the first.
        if loggedUnknownExecution.first(0) {
            logger.warning(
                "execution for an unknown order (further ones are counted, not logged)",
                metadata: ["clOrdID": "\(r.client_order_id)"])
        }
    }

    /// Applies every execution report waiting in the ring. Returns how many.
    @discardableResult
    public func drainExecutions() -> Int {
        executions.withAvailable { reports in
            for r in reports { processExecution(r) }
            return reports.count
        }
    }

    /// Processes up to `maxTicks` waiting ticks (after the waiting executions). Returns how many
    /// records it handled in all.
    @discardableResult
    public func processAvailable(maxTicks: Int = 256) -> Int {
        let e = drainExecutions()
        let t = inbound.withAvailable { ticks in
            let n = min(ticks.count, maxTicks)
            for k in 0..<n { processTick(ticks[k]) }
            return n
        }
        return e + t
    }

    /// The engine thread's loop: runs until `stop` is set, then drains what is left and publishes a
    /// final snapshot. Spins briefly when idle, then yields the CPU in short sleeps so an idle engine
    /// does not burn a core the market thread needs (2-core machines).
    public func run(until stop: StopFlag) {
        var idle = 0
        while !stop.isSet {
            if processAvailable() > 0 {
                idle = 0
            } else {
                idle += 1
                if idle > 256 { sleepMicroseconds(idle > 4096 ? 200 : 20) }
                let now = clock.now()
                if now >= nextSnapshotAt { publishSnapshot(now: now) }
            }
        }
        while processAvailable() > 0 {}
        publishSnapshot(now: clock.now())
    }

    // MARK: - Snapshots

    /// Publishes the current state to the monitor (and samples equity). Off the hot path: called at
    /// most every `snapshotIntervalNs`.
    public func publishSnapshot(now: Int64) {
        nextSnapshotAt = now &+ config.snapshotIntervalNs
        checkStaleFeeds(now: now)
        portfolio._checkInvariants()
        _checkInvariants()
        risk._checkInvariants()
        if now >= nextEquitySampleAt {
            portfolio.reanchor()
            portfolio.sampleEquity(at: now)
            nextEquitySampleAt = now &+ config.equitySampleIntervalNs
        }
        monitor.publish(snapshot(now: now))
    }

    /// Halts every instrument whose feed has been silent longer than `staleAfterNs` (called at
    /// snapshot cadence, off the per-tick path: O(instruments)). The data stage detects, the risk
    /// stage halts.
    public func checkStaleFeeds(now: Int64) {
        guard let silence = data.staleAfterNs else { return }
        for i in 0..<config.instruments.count where data.isStale(InstrumentID(i), now: now) && risk.haltForStaleFeed(i) {
            counters.staleHalts &+= 1
            logger.warning(
                "stale feed: instrument halted until fresh ticks arrive",
                metadata: ["instrument": "\(config.instruments[i].symbol)", "silent_over_ns": "\(silence)"])
        }
    }

    public func isHaltedForStaleFeed(_ id: InstrumentID) -> Bool { risk.staleHalted[id.index] }

    /// The engine's own bookkeeping, checked at snapshot cadence in debug builds: the incremental
    /// exposure sums equal a recomputation from positions, working quantities and last prices, and
    /// an instrument without a working order has no working quantity.
    public func _checkInvariants() {
        #if KAIROS_CHECK_INVARIANTS
        var gross = 0.0
        for i in 0..<exposureNotional.count {
            let e = abs(portfolio.positions[i].quantity + workingQuantity[i]) * data.lastPrice[i]
            precondition(abs(e - exposureNotional[i]) <= 1e-9 * max(1, e), "exposure of instrument \(i) drifted")
            precondition(workingOrderID[i] != 0 || workingQuantity[i] == 0, "working quantity without a working order")
            gross += exposureNotional[i]
        }
        precondition(abs(gross - grossNotional) <= 1e-6 * max(1, gross), "gross notional drifted from the per-instrument sum")
        #endif
    }

    public func snapshot(now: Int64) -> EngineSnapshot {
        EngineSnapshot(
            time: now, policy: policy.name, counters: counters, positions: portfolio.positions,
            symbols: config.instruments.map(\.symbol),
            equity: portfolio.equity, initialCapital: portfolio.initialCapital, cash: portfolio.cash,
            realizedPnL: portfolio.realizedPnL, unrealizedPnL: portfolio.unrealizedPnL, fees: portfolio.totalFees,
            drawdown: portfolio.drawdown, maxDrawdown: portfolio.maxDrawdown, grossExposure: portfolio.grossExposure,
            breakerTripped: risk.breakerTripped, killSwitch: risk.killSwitch.isEngaged,
            decisionLatency: decisionLatency.summary, orderLatency: orderLatency.summary,
            inboundDepth: inbound.ring.approximateCount, inboundDrops: inbound.ring.dropCount,
            sequences: data.sequences.stats, regimes: data.regimes)
    }

    // MARK: - Logging once per reason

    func logTickRejectionOnce(_ reason: TickRejection, _ tick: Tick) {
        guard loggedTickReasons.first(reason.rawValue) else { return }
        logger.warning(
            "rejected tick (further ticks rejected for this reason are counted, not logged)",
            metadata: [
                "reason": "\(reason)", "instrument": "\(tick.instrument)", "seq": "\(tick.seq)",
                "bid": "\(tick.bid)", "ask": "\(tick.ask)", "ts": "\(tick.ts_exchange_ns)",
            ])
    }

    func logRiskRejectionOnce(_ reason: RiskRejection, _ intent: OrderIntent) {
        guard loggedRiskReasons.first(reason.rawValue) else { return }
        logger.notice(
            "risk rejected an order (further rejections for this reason are counted, not logged)",
            metadata: [
                "reason": "\(reason)", "instrument": "\(intent.instrument)", "side": "\(intent.side)",
                "quantity": "\(intent.quantity)", "price": "\(intent.price)",
            ])
    }
}

/// Remembers which reasons (0..<64) have been logged, so each is logged once and counted after.
struct OncePerReason {
    private var seen: UInt64 = 0
    /// True the first time `reason` is seen.
    mutating func first(_ reason: Int) -> Bool {
        let bit = UInt64(1) << UInt64(reason)
        defer { seen |= bit }
        return seen & bit == 0
    }
}
