import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct RiskManagerTests {
    let id = InstrumentID(0)
    let limits = RiskLimits(
        maxPositionNotional: 10_000, maxOrderNotional: 5_000, maxGrossNotional: 15_000,
        priceBandBps: 100, maxOrdersPerSecond: 3, maxDrawdown: 0.1)

    func buy(_ q: Double, at p: Double = 100) -> OrderIntent { OrderIntent(instrument: id, side: .buy, quantity: q, price: p) }
    func sell(_ q: Double, at p: Double = 100) -> OrderIntent { OrderIntent(instrument: id, side: .sell, quantity: q, price: p) }

    @Test func approvesWithinLimits() {
        var r = RiskManager(limits: limits)
        #expect(r.check(buy(10), exposure: 0, grossNotional: 0, lastPrice: 100, now: 0) == nil)
        #expect(r.approved == 1)
    }

    @Test func eachLimitRejectsWithItsReason() {
        var r = RiskManager(limits: limits)
        let s: Int64 = 1_000_000_000
        #expect(r.check(buy(60), exposure: 0, grossNotional: 0, lastPrice: 100, now: 0) == .orderSize)
        #expect(r.check(buy(20), exposure: 90, grossNotional: 9_000, lastPrice: 100, now: 0) == .positionLimit)
        #expect(r.check(buy(20), exposure: 0, grossNotional: 14_000, lastPrice: 100, now: 0) == .grossNotional)
        #expect(r.check(buy(1, at: 102), exposure: 0, grossNotional: 0, lastPrice: 100, now: 0) == .priceBand)
        #expect(r.check(buy(.nan), exposure: 0, grossNotional: 0, lastPrice: 100, now: 0) == .invalidOrder)
        #expect(r.check(buy(-1), exposure: 0, grossNotional: 0, lastPrice: 100, now: 0) == .invalidOrder)
        // Throttle: 3 per sliding second.
        for k in 0..<3 { #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: Int64(k)) == nil) }
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s - 1) == .throttle)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s) == nil)
        for reason in [RiskRejection.orderSize, .positionLimit, .grossNotional, .priceBand, .throttle] {
            #expect(r.count(reason) == 1)
        }
        #expect(r.count(.invalidOrder) == 2)
        #expect(r.totalRejected == 7)
    }

    @Test func reducingOrdersPassPositionLimitsAndTheBreaker() {
        var r = RiskManager(limits: limits)
        // Over the position limit already (e.g. limits were lowered): reducing is still allowed.
        #expect(r.check(sell(20), exposure: 150, grossNotional: 15_000, lastPrice: 100, now: 0) == nil)
        #expect(r.observe(drawdown: 0.05, now: 1) == false)
        #expect(r.observe(drawdown: 0.1, now: 2) == true)
        #expect(r.breakerTripped)
        #expect(r.observe(drawdown: 0.2, now: 3) == false)  // latched, trips once
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: 2_000_000_000) == .circuitBreaker)
        #expect(r.check(sell(5), exposure: 10, grossNotional: 1_000, lastPrice: 100, now: 3_000_000_000) == nil)
        // Crossing through zero is not reducing.
        #expect(r.check(sell(15), exposure: 10, grossNotional: 1_000, lastPrice: 100, now: 4_000_000_000) == .circuitBreaker)
        r.resetBreaker()
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: 5_000_000_000) == nil)
    }

    @Test func killSwitchStopsEverything() {
        let kill = KillSwitch()
        var r = RiskManager(limits: limits, killSwitch: kill)
        kill.engage()
        #expect(r.check(sell(1), exposure: 10, grossNotional: 1_000, lastPrice: 100, now: 0) == .killSwitch)
        kill.release()
        #expect(r.check(sell(1), exposure: 10, grossNotional: 1_000, lastPrice: 100, now: 0) == nil)
    }

    @Test func consecutiveOrderTimeoutsBlockNewRiskUntilTheGatewayAnswers() {
        var r = RiskManager(limits: limits)
        r.maxConsecutiveOrderTimeouts = 3
        r.gatewayCooldownNs = 1_000_000_000
        r.recordOrderTimeout(now: 10)
        r.recordOrderTimeout(now: 20)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: 30) == nil)  // two: still open
        r.recordOrderTimeout(now: 40)
        #expect(r.gatewayBlocked(now: 50))
        #expect(r.check(buy(1), exposure: 1, grossNotional: 100, lastPrice: 100, now: 50) == .gatewayUnresponsive)
        #expect(r.check(sell(1), exposure: 1, grossNotional: 100, lastPrice: 100, now: 50) == nil)  // reducing passes
        #expect(r.count(.gatewayUnresponsive) == 1)
        // After the cool-down one order may probe the gateway...
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: 40 + 1_000_000_000) == nil)
        // ...and if it times out too, the breaker opens again from then.
        r.recordOrderTimeout(now: 2_000_000_000)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: 2_000_000_001) == .gatewayUnresponsive)
        // Any answer from the gateway closes it.
        r.recordGatewayAnswer()
        #expect(!r.gatewayBlocked(now: 2_000_000_002))
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: 2_000_000_002) == nil)
    }

    /// A new order rate resizes the throttle window and keeps the newest approvals, so the
    /// sliding second stays exact across the change.
    @Test func changingTheOrderRateKeepsTheNewestApprovals() {
        var r = RiskManager(limits: limits)
        let s: Int64 = 1_000_000_000
        for t in [Int64(0), 1, 2] { #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: t) == nil) }
        r.limits.maxOrdersPerSecond = 2  // window now holds the approvals at 1 and 2
        r._checkInvariants()
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s) == .throttle)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s + 1) == nil)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s + 2) == nil)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s + 3) == .throttle)
        r.limits.maxOrdersPerSecond = 4  // two free slots in front of the approvals at s+1 and s+2
        r._checkInvariants()
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s + 3) == nil)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s + 4) == nil)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: s + 5) == .throttle)
        #expect(r.check(buy(1), exposure: 0, grossNotional: 0, lastPrice: 100, now: 2 * s + 1) == nil)
        #expect(r.approved == 8 && r.count(.throttle) == 3)
        r._checkInvariants()
    }

    #if KAIROS_CHECK_INVARIANTS
    @Test func brokenThrottleStateStopsTheInvariantCheck() async {
        await #expect(processExitsWith: .failure) {
            var r = RiskManager(limits: RiskLimits.scaled(capitalPerInstrument: 1_000, instruments: 1))
            r.sendCursor = r.sendTimes.count
            r._checkInvariants()
        }
        // A never-used slot newer than an approval: the window would under-count.
        await #expect(processExitsWith: .failure) {
            var limits = RiskLimits.scaled(capitalPerInstrument: 1_000, instruments: 1)
            limits.maxOrdersPerSecond = 3
            var r = RiskManager(limits: limits)
            _ = r.check(
                OrderIntent(instrument: InstrumentID(0), side: .buy, quantity: 1, price: 100), exposure: 0,
                grossNotional: 0, lastPrice: 100, now: 5)
            r.sendTimes = [.min, 5, .min]
            r.sendCursor = 0
            r._checkInvariants()
        }
    }

    @Test func aGatewayBreakerThatNeedsNoTimeoutsStopsTheInvariantCheck() async {
        await #expect(processExitsWith: .failure) {
            var r = RiskManager(limits: RiskLimits.scaled(capitalPerInstrument: 1_000, instruments: 1))
            r.maxConsecutiveOrderTimeouts = 0
            r._checkInvariants()
        }
    }
    #endif
}
