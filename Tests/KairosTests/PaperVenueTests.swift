import CKairos
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct PaperVenueTests {
    func order(_ id: UInt64, side: Side, qty: Double, at t: Int64, instrument: UInt16 = 0) -> Order {
        var o = Order()
        o.client_order_id = id
        o.ts_decision_ns = t
        o.quantity = qty
        o.side = side.rawValue
        o.instrument = instrument
        return o
    }
    func tick(at t: Int64, bid: Double = 99, ask: Double = 101, instrument: Int = 0) -> Tick {
        Tick(instrument: InstrumentID(instrument), seq: 1, exchangeTime: t, receiveTime: t, bid: bid, ask: ask)
    }

    @Test func acksThenFillsAtTheFirstEligibleTickWithSlippageAndFees() {
        var v = PaperVenue(config: PaperFillConfig(latencyNs: 100, slippageBps: 10, feeBps: 5))
        var out: [ExecutionReport] = []
        v.submit(order(1, side: .buy, qty: 10, at: 1_000), now: 1_000) { out.append($0) }
        #expect(out.count == 1 && out[0].kind == UInt8(KAIROS_EXEC_ACK.rawValue) && out[0].leaves_qty == 10)
        v.onTick(tick(at: 1_050)) { out.append($0) }  // too early
        v.onTick(tick(at: 1_200, instrument: 1)) { out.append($0) }  // other instrument
        #expect(out.count == 1)
        v.onTick(tick(at: 1_100, bid: 99, ask: 101)) { out.append($0) }
        #expect(out.count == 2)
        let f = out[1]
        #expect(f.kind == UInt8(KAIROS_EXEC_FILL.rawValue))
        #expect(abs(f.fill_price - 101 * 1.001) < 1e-12)
        #expect(f.fill_qty == 10 && f.leaves_qty == 0)
        #expect(abs(f.fee - 101 * 1.001 * 10 * 5e-4) < 1e-12)
        #expect(v.workingOrders == 0 && v.fills == 1)
        // Sells hit the bid minus slippage.
        v.submit(order(2, side: .sell, qty: 3, at: 2_000), now: 2_000) { out.append($0) }
        v.onTick(tick(at: 2_100, bid: 98, ask: 100)) { out.append($0) }
        #expect(abs(out[3].fill_price - 98 * 0.999) < 1e-12)
    }

    @Test func cancelsRejectsAndCapacity() {
        var v = PaperVenue(config: PaperFillConfig(latencyNs: 0), capacity: 1)
        var out: [ExecutionReport] = []
        v.submit(order(1, side: .buy, qty: 1, at: 0), now: 0) { out.append($0) }
        v.submit(order(2, side: .buy, qty: 1, at: 0), now: 0) { out.append($0) }
        #expect(out[1].kind == UInt8(KAIROS_EXEC_REJECT.rawValue) && out[1].rejectReason == .bookFull)
        var cancel = order(1, side: .buy, qty: 1, at: 0)
        cancel.action = UInt8(KAIROS_ORDER_CANCEL.rawValue)
        v.submit(cancel, now: 1) { out.append($0) }
        #expect(out[2].kind == UInt8(KAIROS_EXEC_CANCELLED.rawValue) && v.workingOrders == 0)
        v.submit(cancel, now: 2) { out.append($0) }
        #expect(out[3].kind == UInt8(KAIROS_EXEC_REJECT.rawValue) && out[3].rejectReason == .unknownOrder)
        v.submit(order(3, side: .buy, qty: .nan, at: 0), now: 0) { out.append($0) }
        #expect(out[4].rejectReason == .badOrder)
    }
}
