import CKairos
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct WireTests {
    @Test func tickRoundTripsWithExactBytes() {
        var t = Tick(
            instrument: InstrumentID(7), seq: 42, exchangeTime: 1_700_000_000_123_456_789, receiveTime: 0, bid: 99.5,
            ask: 100.25, last: 100, bidSize: 3, askSize: 4.5, lastSize: 1, publisher: 9)
        var buf = [UInt8](repeating: 0xAA, count: 128)
        let n = kairos_wire_encode_tick(&t, 123, &buf, buf.count)
        #expect(n == Int32(KAIROS_WIRE_TICK_SIZE))
        #expect(buf[0] == 1 && buf[1] == 1 && buf[2] == 9 && buf[3] == 0 && buf[4] == 7)
        #expect(buf[8] == 42 && buf[9] == 0)  // little-endian sequence
        var out = Tick()
        var sent: Int64 = 0
        #expect(kairos_wire_decode_tick(buf, Int(n), 555, &out, &sent) == KAIROS_WIRE_OK.rawValue)
        #expect(out.seq == 42 && out.instrument == 7 && out.publisher == 9 && out.ts_recv_ns == 555 && sent == 123)
        #expect(out.bid == 99.5 && out.ask == 100.25 && out.last == 100 && out.ask_size == 4.5)
        #expect(out.ts_exchange_ns == t.ts_exchange_ns)
    }

    @Test func ordersAndReportsRoundTrip() {
        var o = Order()
        o.client_order_id = 77
        o.quantity = 12.5
        o.limit_price = 101
        o.side = UInt8(KAIROS_SIDE_SELL.rawValue)
        o.instrument = 3
        o.ts_tick_recv_ns = 99
        o.tick_seq = 5
        var buf = [UInt8](repeating: 0, count: 64)
        #expect(kairos_wire_encode_order(&o, 1_000, &buf, 64) == 64)
        var o2 = Order()
        #expect(kairos_wire_decode_order(buf, 64, &o2) == 0)
        #expect(o2.client_order_id == 77 && o2.quantity == 12.5 && o2.side == o.side && o2.ts_decision_ns == 1_000)
        #expect(o2.ts_tick_recv_ns == 99 && o2.tick_seq == 5 && o2.instrument == 3)
        var r = ExecutionReport()
        r.client_order_id = 77
        r.kind = UInt8(KAIROS_EXEC_FILL.rawValue)
        r.side = o.side
        r.fill_qty = 12.5
        r.fill_price = 100.9
        r.fee = 0.1
        #expect(kairos_wire_encode_exec(&r, 2, &buf, 64) == 64)
        var r2 = ExecutionReport()
        #expect(kairos_wire_decode_exec(buf, 64, &r2) == 0)
        #expect(r2.client_order_id == 77 && r2.kind == r.kind && r2.fill_price == 100.9 && r2.fee == 0.1)
    }

    @Test func malformedFramesAreRefusedWithReasons() {
        var t = Tick()
        var buf = [UInt8](repeating: 0, count: 300)
        _ = kairos_wire_encode_tick(&t, 0, &buf, 300)
        var out = Tick()
        #expect(kairos_wire_decode_tick(buf, 71, 0, &out, nil) == KAIROS_WIRE_E_SHORT.rawValue)
        #expect(kairos_wire_decode_tick(buf, 73, 0, &out, nil) == KAIROS_WIRE_E_LONG.rawValue)
        #expect(kairos_wire_decode_tick(buf, 300, 0, &out, nil) == KAIROS_WIRE_E_LONG.rawValue)
        #expect(kairos_wire_decode_tick(buf, 4, 0, &out, nil) == KAIROS_WIRE_E_SHORT.rawValue)
        buf[0] = 2
        #expect(kairos_wire_decode_tick(buf, 72, 0, &out, nil) == KAIROS_WIRE_E_VERSION.rawValue)
        buf[0] = 1
        buf[1] = 2
        #expect(kairos_wire_decode_tick(buf, 72, 0, &out, nil) == KAIROS_WIRE_E_TYPE.rawValue)
        var order = [UInt8](repeating: 0, count: 64)
        order[0] = 1
        order[1] = 2
        order[48] = 9  // no such side
        var o = Order()
        #expect(kairos_wire_decode_order(order, 64, &o) == KAIROS_WIRE_E_FIELD.rawValue)
        #expect(kairos_wire_peek_type(order, 64) == 2)
        #expect(kairos_wire_peek_type(nil, 0) == KAIROS_WIRE_E_SHORT.rawValue)
    }

    /// The reject reasons are wire codes (docs/wire-format.md): their values never change, they
    /// travel in bytes 60..<64 of a report, and only a REJECT has one.
    @Test func rejectReasonsKeepTheirWireCodes() {
        let documented: [(UInt32, String)] = [
            (1, "book_full"), (2, "unknown_order"), (3, "bad_order"), (16, "no_quote"), (17, "timeout"),
            (18, "send_failed"),
        ]
        #expect(OrderRejectReason.allCases.map(\.rawValue) == documented.map(\.0))
        #expect(OrderRejectReason.allCases.map(\.description) == documented.map(\.1))
        var o = Order()
        o.client_order_id = 5
        o.side = Side.buy.rawValue
        var buf = [UInt8](repeating: 0, count: 64)
        for reason in OrderRejectReason.allCases {
            var r = ExecutionReport(answering: o, kind: KAIROS_EXEC_REJECT, now: 1, reason: reason)
            #expect(kairos_wire_encode_exec(&r, 1, &buf, 64) == 64)
            #expect(buf[60..<64].elementsEqual(withUnsafeBytes(of: reason.rawValue.littleEndian, Array.init)))
            var back = ExecutionReport()
            #expect(kairos_wire_decode_exec(buf, 64, &back) == 0)
            #expect(back.rejectReason == reason)
            #expect(back.isFromVenue == !(reason == .timeout || reason == .sendFailed))
        }
        var unknownCode = ExecutionReport(answering: o, kind: KAIROS_EXEC_REJECT, now: 1)
        unknownCode.reason = 99  // a newer venue's code: a plain reject from the venue
        #expect(unknownCode.rejectReason == nil && unknownCode.isFromVenue)
        var ack = ExecutionReport(answering: o, kind: KAIROS_EXEC_ACK, now: 1)
        ack.reason = OrderRejectReason.timeout.rawValue  // only a REJECT carries a reason
        #expect(ack.rejectReason == nil && ack.isFromVenue)
    }

    /// `WireDecodeError` names exactly the C refusal codes, and its counts are what receivers log.
    @Test func decodeErrorsAreTheCCodes() {
        let c: [Int32] = [
            KAIROS_WIRE_E_SHORT.rawValue, KAIROS_WIRE_E_LONG.rawValue, KAIROS_WIRE_E_VERSION.rawValue,
            KAIROS_WIRE_E_TYPE.rawValue, KAIROS_WIRE_E_FIELD.rawValue, Int32(KAIROS_ZORDERS_E_FRAMES),
        ]
        #expect(WireDecodeError.allCases.map(\.rawValue) == c)
        var counts = WireDecodeErrorCounts()
        for (k, code) in c.enumerated() {
            for _ in 0...k { counts.count(code: code) }
        }
        #expect(WireDecodeError.allCases.map { counts[$0] } == [1, 2, 3, 4, 5, 6])
        #expect(counts.total == 21)
        #expect(counts.description == "short 1 long 2 version 3 type 4 field 5 frames 6")
        #expect(counts != WireDecodeErrorCounts() && WireDecodeErrorCounts().total == 0)
        // The C receivers' arrays are indexed by -kairos_wire_error; index 0 (OK) is not a refusal.
        let fromC = WireDecodeErrorCounts(cDecodeErrors: (99, 1, 2, 3, 4, 5), wrongFrameCount: 6)
        #expect(fromC == counts)
    }
}
