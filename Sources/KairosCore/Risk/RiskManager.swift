import Synchronization

/// Pre-trade limits. Notional limits are in account currency, evaluated at the order's price.
public struct RiskLimits: Sendable, Codable, Equatable {
    /// |position after the order, counting working orders| × price, per instrument.
    public var maxPositionNotional: Double
    /// |quantity| × price of one order.
    public var maxOrderNotional: Double
    /// Σ over instruments of |position incl. working orders| × price, after the order.
    public var maxGrossNotional: Double
    /// The order's price may differ from the last valid price by at most this many basis points.
    public var priceBandBps: Double
    /// At most this many orders in any sliding one-second window (all instruments).
    public var maxOrdersPerSecond: Int
    /// Equity drawdown from its peak (fraction, e.g. 0.2) that trips the circuit breaker: the engine
    /// flattens every position and then accepts only position-reducing orders.
    public var maxDrawdown: Double
    /// The one exposure cap: the largest |target exposure| (a fraction of the instrument's capital
    /// allocation) a policy may ask for; larger targets are clamped to it before sizing. 1 for
    /// unlevered policies; the ensemble's is its agents' largest target (`AgentKind`).
    public var maxExposure: Double

    public init(
        maxPositionNotional: Double, maxOrderNotional: Double, maxGrossNotional: Double,
        priceBandBps: Double = 500, maxOrdersPerSecond: Int = 500, maxDrawdown: Double = 0.2, maxExposure: Double = 1
    ) {
        self.maxPositionNotional = maxPositionNotional
        self.maxOrderNotional = maxOrderNotional
        self.maxGrossNotional = maxGrossNotional
        self.priceBandBps = priceBandBps
        self.maxOrdersPerSecond = maxOrdersPerSecond
        self.maxDrawdown = maxDrawdown
        self.maxExposure = maxExposure
    }

    /// Limits scaled to a capital allocation per instrument `c` over `n` instruments for policies
    /// asking up to `maxExposure` (L) × the allocation: position up to 1.2·L·c per instrument, one
    /// order up to 2.5·L·c (room for a full flip from −L·c to +L·c), gross up to 1.2·L·c·n; price
    /// band, throttle and drawdown keep their defaults.
    public static func scaled(capitalPerInstrument c: Double, instruments n: Int, maxExposure l: Double = 1) -> RiskLimits {
        RiskLimits(
            maxPositionNotional: 1.2 * l * c, maxOrderNotional: 2.5 * l * c, maxGrossNotional: 1.2 * l * c * Double(n),
            maxExposure: l)
    }

    /// `target` clamped to ±`maxExposure` (NaN stays NaN: the engine treats it as no opinion).
    @inlinable public func capExposure(_ target: Double) -> Double { min(max(target, -maxExposure), maxExposure) }

    // Codable by hand: `maxExposure` was added later, so a configuration's `risk` section that
    // predates it still decodes (with the default 1).
    enum CodingKeys: String, CodingKey {
        case maxPositionNotional, maxOrderNotional, maxGrossNotional, priceBandBps, maxOrdersPerSecond, maxDrawdown
        case maxExposure
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            maxPositionNotional: try c.decode(Double.self, forKey: .maxPositionNotional),
            maxOrderNotional: try c.decode(Double.self, forKey: .maxOrderNotional),
            maxGrossNotional: try c.decode(Double.self, forKey: .maxGrossNotional),
            priceBandBps: try c.decode(Double.self, forKey: .priceBandBps),
            maxOrdersPerSecond: try c.decode(Int.self, forKey: .maxOrdersPerSecond),
            maxDrawdown: try c.decode(Double.self, forKey: .maxDrawdown),
            maxExposure: try c.decodeIfPresent(Double.self, forKey: .maxExposure) ?? 1)
    }
}

/// Why the risk manager refused an order.
public enum RiskRejection: Int, CaseIterable, Sendable, CustomStringConvertible {
    case killSwitch = 0
    case circuitBreaker
    case invalidOrder
    case orderSize
    case positionLimit
    case grossNotional
    case priceBand
    case throttle
    case staleFeed
    /// Several orders in a row timed out at the order router: the gateway is presumed down.
    case gatewayUnresponsive

    public var description: String {
        switch self {
        case .killSwitch: "kill_switch"
        case .circuitBreaker: "circuit_breaker"
        case .invalidOrder: "invalid_order"
        case .orderSize: "order_size"
        case .positionLimit: "position_limit"
        case .grossNotional: "gross_notional"
        case .priceBand: "price_band"
        case .throttle: "throttle"
        case .staleFeed: "stale_feed"
        case .gatewayUnresponsive: "gateway_unresponsive"
        }
    }
}

/// An order the engine would like to send, before risk.
public struct OrderIntent: Sendable, Equatable {
    public var instrument: InstrumentID
    public var side: Side
    /// Units, > 0.
    public var quantity: Double
    /// Price the order is valued at (limit price, or the reference mid for market orders).
    public var price: Double
    public init(instrument: InstrumentID, side: Side, quantity: Double, price: Double) {
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
    }
}

/// A switch any thread can flip to stop all trading at once (an operator, a signal handler, a
/// watchdog). The engine reads it on every decision with a relaxed load.
///
/// `Atomic` makes it safe to share; `Sendable` follows.
public final class KillSwitch: Sendable {
    private let engaged = Atomic<Bool>(false)
    public init() {}
    /// Relaxed is enough: the flag carries no other data, and the engine only needs to see it soon.
    public var isEngaged: Bool { engaged.load(ordering: .relaxed) }
    public func engage() { engaged.store(true, ordering: .relaxed) }
    public func release() { engaged.store(false, ordering: .relaxed) }
}

/// The last word on every order: pre-trade limits, an order-rate throttle, a drawdown circuit
/// breaker that flattens and halts, and a kill switch.
///
/// Implementation Notes
/// - Lives on the engine thread (single writer). `check` is O(1) apart from the gross-notional sum,
///   which is maintained incrementally by the caller through `exposureNotional`; nothing allocates.
/// - Position-reducing orders (that bring |position incl. working| closer to zero without crossing
///   it) are allowed while the circuit breaker is tripped, so the engine can flatten; nothing at all
///   passes the kill switch.
/// - The throttle keeps the send times of the last `maxOrdersPerSecond` approved orders in a ring:
///   an order is refused when the oldest of them is less than one second old (an exact sliding
///   window, O(1)).
/// - Every refusal is counted by reason (`rejections`).
/// - Gateway health: `maxConsecutiveOrderTimeouts` router timeouts in a row (no gateway answer in
///   between) open a half-open breaker: new risk is refused (`gatewayUnresponsive`) for
///   `gatewayCooldownNs` after the last timeout; then one order may probe the gateway, and any
///   answer from it (`recordGatewayAnswer`) closes the breaker. Reducing orders always pass.
/// - Invariants (`_checkInvariants()`, compiled in under KAIROS_CHECK_INVARIANTS; the engine calls it
///   at snapshot cadence, the rare mutations here call it themselves): the throttle window has one
///   slot per order of `maxOrdersPerSecond` (at least one) and its cursor is inside it; read from
///   the cursor (oldest first), the never-used slots come before every approval, and it holds no
///   more approvals than `approved`; there is one rejection counter per `RiskRejection`; a tripped
///   breaker has a trip time; the gateway breaker opens after at least one timeout, has a
///   non-negative cool-down, and counts timeouts only when one was recorded. The send times are
///   not checked for order: the engine clock may be the wall clock, which can step back.
public struct RiskManager: Sendable {
    public var limits: RiskLimits {
        // A new order rate resizes the throttle window (an operator action: it allocates once).
        didSet { if limits.maxOrdersPerSecond != oldValue.maxOrdersPerSecond { resizeThrottleWindow() } }
    }
    public let killSwitch: KillSwitch
    public private(set) var breakerTripped = false
    /// Engine time of the last trip; `.min` until the breaker first trips.
    public private(set) var breakerTrippedAt: Int64 = .min
    @usableFromInline var sendTimes: [Int64]
    @usableFromInline var sendCursor = 0
    @usableFromInline var rejections: [UInt64]
    public private(set) var approved: UInt64 = 0
    /// Router timeouts in a row that open the gateway breaker.
    public var maxConsecutiveOrderTimeouts = 3
    /// How long new risk stays refused after the last of those timeouts.
    public var gatewayCooldownNs: Int64 = 5_000_000_000
    public private(set) var consecutiveOrderTimeouts = 0
    public private(set) var lastOrderTimeoutAt: Int64 = .min
    /// Instruments halted for a stale feed (only reducing orders pass), and the fresh ticks each
    /// has had since; it resumes at `staleResumeTicks`.
    public private(set) var staleHalted: [Bool]
    var freshTicksSinceStale: [Int]
    /// Fresh ticks a halted instrument needs before it trades again.
    public var staleResumeTicks = 10
    /// Times an instrument was halted for a stale feed.
    public private(set) var staleHalts: UInt64 = 0

    /// True while new risk is refused for an unresponsive gateway.
    public func gatewayBlocked(now: Int64) -> Bool {
        consecutiveOrderTimeouts >= maxConsecutiveOrderTimeouts && now &- lastOrderTimeoutAt < gatewayCooldownNs
    }

    /// The order router timed out an order (no answer from the gateway).
    public mutating func recordOrderTimeout(now: Int64) {
        consecutiveOrderTimeouts &+= 1
        lastOrderTimeoutAt = now
        _checkInvariants()
    }

    /// The gateway answered something (ACK, FILL, its own REJECT, CANCELLED): it is alive.
    public mutating func recordGatewayAnswer() { consecutiveOrderTimeouts = 0 }

    public init(limits: RiskLimits, killSwitch: KillSwitch = KillSwitch(), instruments: Int = 1) {
        precondition(instruments >= 1, "at least one instrument")
        self.limits = limits
        self.killSwitch = killSwitch
        staleHalted = [Bool](repeating: false, count: instruments)
        freshTicksSinceStale = [Int](repeating: 0, count: instruments)
        sendTimes = [Int64](repeating: .min, count: max(1, limits.maxOrdersPerSecond))
        rejections = [UInt64](repeating: 0, count: RiskRejection.allCases.count)
    }

    /// Decides on one intent.
    /// - Parameters:
    ///   - exposure: this instrument's position plus working orders, signed units, before the order.
    ///   - grossNotional: Σ |position incl. working| × price over all instruments, before the order.
    ///   - lastPrice: last valid price of the instrument (for the price band).
    ///   - now: engine clock, ns.
    /// An instrument halted for a stale feed (`haltForStaleFeed`) passes only reducing orders.
    /// - Returns: `nil` when approved (and then the order is counted against the throttle).
    public mutating func check(
        _ intent: OrderIntent, exposure: Double, grossNotional: Double, lastPrice: Double, now: Int64
    ) -> RiskRejection? {
        let i = intent.instrument.index
        let r = evaluate(
            intent, exposure: exposure, grossNotional: grossNotional, lastPrice: lastPrice, now: now,
            instrumentHalted: i < staleHalted.count && staleHalted[i])
        if let r {
            rejections[r.rawValue] &+= 1
            return r
        }
        sendTimes[sendCursor] = now
        sendCursor = sendCursor + 1 == sendTimes.count ? 0 : sendCursor + 1
        approved &+= 1
        return nil
    }

    func evaluate(
        _ o: OrderIntent, exposure: Double, grossNotional: Double, lastPrice: Double, now: Int64,
        instrumentHalted: Bool
    ) -> RiskRejection? {
        if killSwitch.isEngaged { return .killSwitch }
        guard o.quantity.isFinite, o.quantity > 0, o.price.isFinite, o.price > 0 else { return .invalidOrder }
        let after = exposure + o.side.sign * o.quantity
        let reducing = abs(after) < abs(exposure) && (after == 0 || (after > 0) == (exposure > 0))
        if breakerTripped && !reducing { return .circuitBreaker }
        if instrumentHalted && !reducing { return .staleFeed }
        if !reducing && gatewayBlocked(now: now) { return .gatewayUnresponsive }
        if o.quantity * o.price > limits.maxOrderNotional { return .orderSize }
        if !reducing {
            if abs(after) * o.price > limits.maxPositionNotional { return .positionLimit }
            let gross = grossNotional - abs(exposure) * o.price + abs(after) * o.price
            if gross > limits.maxGrossNotional { return .grossNotional }
        }
        if lastPrice > 0, abs(o.price - lastPrice) / lastPrice * 10_000 > limits.priceBandBps { return .priceBand }
        // Throttle: the slot we would overwrite holds the oldest of the last N approvals.
        let oldest = sendTimes[sendCursor]
        if oldest != .min && now &- oldest < 1_000_000_000 { return .throttle }
        return nil
    }

    /// Feed equity after every mark; trips the breaker (latching) when the drawdown from the peak
    /// reaches the limit. Returns true exactly when it trips.
    public mutating func observe(drawdown: Double, now: Int64) -> Bool {
        if !breakerTripped && drawdown >= limits.maxDrawdown {
            breakerTripped = true
            breakerTrippedAt = now
            _checkInvariants()
            return true
        }
        return false
    }

    // MARK: - Stale feeds

    /// Halts instrument `i` because its feed went silent (the data stage detected it). Returns
    /// true when it was not halted already.
    public mutating func haltForStaleFeed(_ i: Int) -> Bool {
        guard !staleHalted[i] else { return false }
        staleHalted[i] = true
        freshTicksSinceStale[i] = 0
        staleHalts &+= 1
        return true
    }

    /// A fresh tick of instrument `i` arrived. Returns true when it ends the instrument's halt.
    public mutating func recordFreshTick(_ i: Int) -> Bool {
        guard staleHalted[i] else { return false }
        freshTicksSinceStale[i] += 1
        guard freshTicksSinceStale[i] >= staleResumeTicks else { return false }
        staleHalted[i] = false
        return true
    }

    /// Operator action after a trip has been investigated.
    public mutating func resetBreaker() {
        breakerTripped = false
        _checkInvariants()
    }

    /// Resizes the throttle window to the current `maxOrdersPerSecond`, keeping the newest approvals
    /// so the sliding window stays exact across the change.
    mutating func resizeThrottleWindow() {
        let n = max(1, limits.maxOrdersPerSecond)
        let oldestFirst = (0..<sendTimes.count).map { sendTimes[(sendCursor + $0) % sendTimes.count] }
        let kept = oldestFirst.suffix(n)
        sendTimes = [Int64](repeating: .min, count: n - kept.count) + kept
        sendCursor = 0  // the oldest slot: the next approval overwrites it
        _checkInvariants()
    }

    /// Stops the process if an invariant listed in the type's notes is broken; empty unless
    /// KAIROS_CHECK_INVARIANTS. O(`maxOrdersPerSecond`): keep it off the per-order path.
    public func _checkInvariants() {
        #if KAIROS_CHECK_INVARIANTS
        let n = sendTimes.count
        precondition(n == max(1, limits.maxOrdersPerSecond), "throttle window of \(n) slots for \(limits.maxOrdersPerSecond)/s")
        precondition(sendCursor >= 0 && sendCursor < n, "throttle cursor \(sendCursor) outside the window")
        var used = 0
        for k in 0..<n {
            if sendTimes[(sendCursor + k) % n] == .min {
                precondition(used == 0, "a never-used throttle slot is newer than an approval")
            } else {
                used += 1
            }
        }
        precondition(UInt64(used) <= approved, "\(used) approvals in the throttle window, \(approved) approved")
        precondition(rejections.count == RiskRejection.allCases.count, "one rejection counter per reason")
        precondition(!breakerTripped || breakerTrippedAt != .min, "breaker tripped without a trip time")
        // 0 would refuse all new risk forever: gatewayBlocked holds before any timeout.
        precondition(maxConsecutiveOrderTimeouts >= 1, "gateway breaker opening after \(maxConsecutiveOrderTimeouts) timeouts")
        precondition(gatewayCooldownNs >= 0, "negative gateway cool-down")
        precondition(
            consecutiveOrderTimeouts >= 0 && (consecutiveOrderTimeouts == 0 || lastOrderTimeoutAt != .min),
            "\(consecutiveOrderTimeouts) consecutive timeouts, last one never recorded")
        #endif
    }

    public func count(_ reason: RiskRejection) -> UInt64 { rejections[reason.rawValue] }
    public var totalRejected: UInt64 { rejections.reduce(0, +) }
}
