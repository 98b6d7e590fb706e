import CKairos
import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// At least a million random and mutated frames through the wire decoders and through the
/// ZeroMQ feed's topic/payload step (`kairos_zfeed_handle`, no socket). Nothing may crash; every
/// outcome is counted by reason; the counts per kind of damage are checked against what that
/// damage must produce.
@Suite struct WireFuzzTests {
    /// What was done to a frame.
    enum Damage: Int, CaseIterable {
        case randomBytes = 0, flippedBytes, truncated, extended, wrongVersion, wrongType, nanFields, oversized,
            badEnumField, valid
    }

    /// Outcome counts of one decoder: index = -kairos_wire_error (0 = ok ... 5 = field).
    struct Counts {
        var byReason = [UInt64](repeating: 0, count: Int(KAIROS_WIRE_ERROR_COUNT))
        mutating func add(_ rc: Int32) {
            precondition(rc <= 0 && rc > -Int32(KAIROS_WIRE_ERROR_COUNT), "decoder returned \(rc)")
            byReason[Int(-rc)] += 1
        }
        var total: UInt64 { byReason.reduce(0, +) }
        subscript(_ e: kairos_wire_error) -> UInt64 { byReason[Int(-e.rawValue)] }
    }

    @Test func aMillionDamagedFramesAreRefusedByReasonWithoutCrashing() throws {
        let frames = 1_050_000
        var rng = SplitMix64(seed: 0x5EED_F00D)
        let cap = 4_096
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: cap, alignment: 16)
        defer { buf.deallocate() }
        buf.initializeMemory(as: UInt8.self, repeating: 0)
        /// Random bytes at [from, to), 8 at a time (the buffers have 8 bytes of slack).
        func fillRandom(_ b: UnsafeMutableRawBufferPointer, _ from: Int, _ to: Int, _ rng: inout SplitMix64) {
            var k = from
            while k < to {
                b.storeBytes(of: rng.next(), toByteOffset: k, as: UInt64.self)
                k += 8
            }
        }
        // Valid templates of each record type.
        var tick = Tick(instrument: InstrumentID(1), seq: 9, exchangeTime: 1, receiveTime: 0, bid: 99, ask: 101, last: 100)
        var tickBytes = [UInt8](repeating: 0, count: 72)
        #expect(kairos_wire_encode_tick(&tick, 5, &tickBytes, 72) == 72)
        var order = Order()
        order.side = UInt8(KAIROS_SIDE_BUY.rawValue)
        order.quantity = 1
        var orderBytes = [UInt8](repeating: 0, count: 64)
        #expect(kairos_wire_encode_order(&order, 5, &orderBytes, 64) == 64)
        var report = ExecutionReport()
        report.kind = UInt8(KAIROS_EXEC_FILL.rawValue)
        report.side = UInt8(KAIROS_SIDE_SELL.rawValue)
        var execBytes = [UInt8](repeating: 0, count: 64)
        #expect(kairos_wire_encode_exec(&report, 2, &execBytes, 64) == 64)
        let templates = [tickBytes, orderBytes, execBytes]

        // The feed's topic/payload step, fed the same frames with a topic that is itself sometimes
        // damaged. Its ring is drained whenever it fills up.
        let ring = SPSCRing<Tick>(capacity: 1024)
        // The C feed produces through the raw ring while this test holds the producer side; the
        // test drains it as the consumer.
        let producer = ring.claimProducer(), consumer = ring.claimConsumer()
        var symbols = [kairos_zfeed_symbol]()
        let names = ["SYN0", "SYN1"].map { strdupOrDie($0) }
        defer { names.forEach { free($0) } }
        for (i, n) in names.enumerated() { symbols.append(kairos_zfeed_symbol(symbol: UnsafePointer(n), instrument: UInt16(i))) }
        let feed = try #require(kairos_zfeed_create(producer.ring.cRing, &symbols, 2, 0, 0))
        defer { kairos_zfeed_destroy(feed) }
        let topics: [[UInt8]] = [Array("tick.SYN0".utf8), Array("tick.SYN1".utf8), Array("tick.AAPL".utf8),
                                 Array("tick".utf8), Array("tick.".utf8), [], Array("tock.SYN0".utf8)]
        let topicBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: 520, alignment: 8)
        defer { topicBuf.deallocate() }

        var tickCounts = [Counts](repeating: Counts(), count: Damage.allCases.count)
        var orderCounts = Counts(), execCounts = Counts()
        var peekOK: UInt64 = 0, peekRefused: UInt64 = 0
        var handleOutcomes = [UInt64](repeating: 0, count: Int(KAIROS_ZFEED_OUTCOME_COUNT))
        var expectedUnknownTopic: UInt64 = 0
        var nanSeen: UInt64 = 0, nanFrames: UInt64 = 0
        var wronglyAccepted = 0
        var out = Tick()
        var outOrder = Order()
        var outExec = ExecutionReport()
        var sent: Int64 = 0

        for _ in 0..<frames {
            let damage = Damage(rawValue: Int(rng.next() % UInt64(Damage.allCases.count)))!
            // Mostly tick templates (the tick decoder's counts are checked per damage), the others
            // for the order/exec decoders' field checks.
            let template = damage == .badEnumField ? templates[1 + Int(rng.next() & 1)] : templates[0]
            var len = template.count
            template.withUnsafeBytes { buf.copyMemory(from: $0) }
            switch damage {
            case .randomBytes:
                len = Int(rng.next() % 300)
                fillRandom(buf, 0, len, &rng)
            case .flippedBytes:
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    buf[Int(rng.next() % UInt64(len))] ^= UInt8(truncatingIfNeeded: 1 | rng.next())
                }
            case .truncated:
                len = Int(rng.next() % UInt64(template.count))
            case .extended:
                len = template.count + 1 + Int(rng.next() % UInt64(Int(KAIROS_WIRE_MAX_FRAME) - template.count))
                fillRandom(buf, template.count, len, &rng)
            case .wrongVersion:
                var v = UInt8(truncatingIfNeeded: rng.next())
                if v == UInt8(KAIROS_WIRE_VERSION) { v = 0 }
                buf[0] = v
            case .wrongType:
                var ty = UInt8(truncatingIfNeeded: rng.next())
                if ty == UInt8(KAIROS_WIRE_TYPE_TICK.rawValue) { ty = 0 }
                buf[1] = ty
            case .nanFields:
                // bid, ask, last: NaN (quiet or signalling payloads), infinities or random bits.
                for off in [32, 40, 48] {
                    let choice = rng.next() % 4
                    let bits: UInt64 = choice == 0 ? 0x7FF8_0000_0000_0001 : choice == 1 ? 0x7FF0_0000_0000_0001
                        : choice == 2 ? Double.infinity.bitPattern : rng.next()
                    for j in 0..<8 { buf[off + j] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(j))) }
                }
                buf[32 + 7] |= 0x7F
                buf[32 + 6] |= 0xF0  // bid exponent all ones: NaN or inf, always
                buf[32] |= 1  // mantissa non-zero: NaN
                nanFrames += 1
            case .oversized:
                len = Int(KAIROS_WIRE_MAX_FRAME) + 1 + Int(rng.next() % UInt64(cap - Int(KAIROS_WIRE_MAX_FRAME) - 1))
            case .badEnumField:
                // Order: side byte 48; exec: kind byte 56. Any value outside the enumeration.
                let off = template[1] == UInt8(KAIROS_WIRE_TYPE_ORDER.rawValue) ? 48 : 56
                var v = UInt8(truncatingIfNeeded: rng.next())
                if v >= 1 && v <= 4 { v = 200 }  // side 1-2, kind 1-4 are valid
                buf[off] = v
            case .valid:
                break
            }
            let base = UnsafeRawPointer(buf.baseAddress!)
            let rcTick = kairos_wire_decode_tick(base, len, 7, &out, &sent)
            tickCounts[damage.rawValue].add(rcTick)
            if damage == .nanFields && rcTick == KAIROS_WIRE_OK.rawValue && out.bid.isNaN { nanSeen += 1 }
            orderCounts.add(kairos_wire_decode_order(base, len, &outOrder))
            execCounts.add(kairos_wire_decode_exec(base, len, &outExec))
            if kairos_wire_peek_type(base, len) > 0 { peekOK += 1 } else { peekRefused += 1 }

            // Topic: a known, unknown or malformed one, or random bytes of random length.
            let tsel = rng.next() % 10
            var tlen: Int
            if tsel < UInt64(topics.count) {
                let tp = topics[Int(tsel)]
                tp.withUnsafeBytes { if let b = $0.baseAddress { topicBuf.baseAddress!.copyMemory(from: b, byteCount: tp.count) } }
                tlen = tp.count
                if tsel >= 2 { expectedUnknownTopic += 1 }
            } else {
                tlen = Int(rng.next() % 512)
                fillRandom(topicBuf, 0, tlen, &rng)
            }
            let outcome = kairos_zfeed_handle(feed, topicBuf.baseAddress, tlen, base, len, 7)
            handleOutcomes[Int(outcome.rawValue)] += 1
            // Everything accepted must be a well-formed tick for a known symbol.
            if outcome == KAIROS_ZFEED_ACCEPTED && (len != Int(KAIROS_WIRE_TICK_SIZE) || tsel >= 2) { wronglyAccepted += 1 }
            if ring.approximateCount == ring.capacity { _ = consumer.withAvailable { $0.count } }
        }

        // Tick decoder, per damage: exact where the damage decides the outcome.
        let n = { (d: Damage) in tickCounts[d.rawValue].total }
        #expect(tickCounts.reduce(0) { $0 + $1.total } == UInt64(frames))
        #expect(tickCounts[Damage.truncated.rawValue][KAIROS_WIRE_E_SHORT] == n(.truncated))
        #expect(tickCounts[Damage.extended.rawValue][KAIROS_WIRE_E_LONG] == n(.extended))
        #expect(tickCounts[Damage.oversized.rawValue][KAIROS_WIRE_E_LONG] == n(.oversized))
        #expect(tickCounts[Damage.wrongVersion.rawValue][KAIROS_WIRE_E_VERSION] == n(.wrongVersion))
        #expect(tickCounts[Damage.wrongType.rawValue][KAIROS_WIRE_E_TYPE] == n(.wrongType))
        #expect(tickCounts[Damage.valid.rawValue][KAIROS_WIRE_OK] == n(.valid))
        // The decoder does not judge prices: NaN / inf fields decode (the validator refuses them)
        // and the NaN comes through as NaN.
        #expect(tickCounts[Damage.nanFields.rawValue][KAIROS_WIRE_OK] == n(.nanFields))
        #expect(nanSeen == nanFrames)
        // Random bytes of 0..<300: almost all refused (a valid header needs byte 0 == 1 and
        // byte 1 == 1 and exactly 72 bytes: about 1 in 65536 * 300 frames). Lengths < 8 (8/300)
        // are short, > 256 (43/300) long, the rest almost all have the wrong version.
        let random = tickCounts[Damage.randomBytes.rawValue]
        #expect(random[KAIROS_WIRE_OK] <= 2)
        #expect(random[KAIROS_WIRE_E_VERSION] > random.total * 3 / 4)
        #expect(random[KAIROS_WIRE_E_LONG] > random.total / 10 && random[KAIROS_WIRE_E_LONG] < random.total / 5)
        #expect(random[KAIROS_WIRE_E_SHORT] > random.total / 100 && random[KAIROS_WIRE_E_SHORT] < random.total / 20)
        // Flipped bytes: a flip in the header refuses; a flip in the body decodes. Both happen.
        let flipped = tickCounts[Damage.flippedBytes.rawValue]
        #expect(flipped[KAIROS_WIRE_OK] > flipped.total / 2)
        #expect(flipped[KAIROS_WIRE_E_VERSION] > 0 && flipped[KAIROS_WIRE_E_TYPE] > 0)
        #expect(flipped[KAIROS_WIRE_E_FIELD] == 0)  // ticks have no enumerated fields
        // Every damage kind was exercised plenty.
        for d in Damage.allCases { #expect(n(d) > UInt64(frames / Damage.allCases.count) * 9 / 10) }

        // Order / exec decoders: the bad enum fields are refused as FIELD errors, and only a frame
        // of their own type and size can decode.
        #expect(orderCounts.total == UInt64(frames) && execCounts.total == UInt64(frames))
        #expect(orderCounts[KAIROS_WIRE_E_FIELD] > 0 && execCounts[KAIROS_WIRE_E_FIELD] > 0)
        #expect(orderCounts[KAIROS_WIRE_E_FIELD] + execCounts[KAIROS_WIRE_E_FIELD] >= n(.badEnumField))
        #expect(peekOK + peekRefused == UInt64(frames))

        // The feed's step: each message counted exactly once, the counters agree with the
        // outcomes, and no oversized frame got further than the size check.
        var s = kairos_zfeed_stats()
        kairos_zfeed_get_stats(feed, &s)
        #expect(s.messages == UInt64(frames))
        #expect(s.accepted == handleOutcomes[Int(KAIROS_ZFEED_ACCEPTED.rawValue)])
        #expect(s.decode_error_total == handleOutcomes[Int(KAIROS_ZFEED_DECODE_ERROR.rawValue)])
        #expect(s.unknown_topic == handleOutcomes[Int(KAIROS_ZFEED_UNKNOWN_TOPIC.rawValue)])
        #expect(s.oversized == handleOutcomes[Int(KAIROS_ZFEED_OVERSIZED.rawValue)])
        #expect(s.ring_full == 0 && s.bad_multipart == 0)
        #expect(handleOutcomes.reduce(0, +) == UInt64(frames))
        let decodeByReason = withUnsafeBytes(of: s.decode_errors) { Array($0.bindMemory(to: UInt64.self)) }
        #expect(decodeByReason.reduce(0, +) == s.decode_error_total && decodeByReason[0] == 0)
        // Oversized payloads (and random topics over 256 bytes) are refused before the topic is
        // looked at: at least every oversized-damage frame.
        #expect(s.oversized >= n(.oversized))
        // Known topics are 2 of 10 topic choices; the rest (malformed, unknown, random) are
        // unknown topics unless oversized first.
        #expect(s.unknown_topic <= expectedUnknownTopic + UInt64(frames) * 35 / 100)
        #expect(s.unknown_topic >= expectedUnknownTopic / 2)
        #expect(s.accepted > 0 && ring.dropCount == 0)
        #expect(wronglyAccepted == 0)
    }
}
