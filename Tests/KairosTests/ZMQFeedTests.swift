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

/// The feed's topic/payload step and symbol table, without sockets.
@Suite struct ZMQFeedTests {
    func encoded(_ t: Tick) -> [UInt8] {
        var t = t
        var b = [UInt8](repeating: 0, count: Int(KAIROS_WIRE_TICK_SIZE))
        _ = kairos_wire_encode_tick(&t, 99, &b, b.count)
        return b
    }

    func handle(_ feed: OpaquePointer, _ topic: String, _ payload: [UInt8]) -> kairos_zfeed_outcome {
        let t = Array(topic.utf8)
        return t.withUnsafeBytes { tb in
            payload.withUnsafeBytes { pb in
                kairos_zfeed_handle(feed, tb.baseAddress, tb.count, pb.baseAddress, pb.count, 1234)
            }
        }
    }

    /// A C feed producing into the ring of `producer` (the test holds the producer side for it).
    func makeFeed(_ producer: borrowing SPSCRing<Tick>.Producer, _ symbols: [(String, UInt16)]) -> OpaquePointer? {
        let names = symbols.map { strdupOrDie($0.0) }
        defer { names.forEach { free($0) } }
        var table = zip(names, symbols).map { kairos_zfeed_symbol(symbol: UnsafePointer($0), instrument: $1.1) }
        return kairos_zfeed_create(producer.ring.cRing, &table, UInt32(table.count), 0, 0)
    }

    @Test func topicSymbolPicksTheInstrument() throws {
        let ring = SPSCRing<Tick>(capacity: 16)
        let producer = ring.claimProducer()
        let symbols = (0..<100).map { ("S\($0)", UInt16(4000 - $0)) } + [("BRK.B", 7), ("A", 8)]
        let feed = try #require(makeFeed(producer, symbols) as OpaquePointer?)
        defer { kairos_zfeed_destroy(feed) }
        for (s, id) in symbols {
            let n = s.utf8.count
            #expect(kairos_zfeed_lookup(feed, s, n) == Int32(id))
        }
        #expect(kairos_zfeed_lookup(feed, "S100", 4) == -1)
        #expect(kairos_zfeed_lookup(feed, "S1", 1) == -1)  // prefix of a symbol is not the symbol
        let tick = Tick(instrument: InstrumentID(7), seq: 5, exchangeTime: 1, receiveTime: 0, bid: 1, ask: 2, publisher: 2)
        #expect(handle(feed, "tick.BRK.B", encoded(tick)) == KAIROS_ZFEED_ACCEPTED)
        #expect(handle(feed, "tick.A", encoded(tick)) == KAIROS_ZFEED_ACCEPTED)  // payload says 7, topic 8
        #expect(handle(feed, "tick.S1", encoded(tick)) == KAIROS_ZFEED_ACCEPTED)
        let consumer = ring.claimConsumer()
        let a = try #require(consumer.pop() as Tick?), b = try #require(consumer.pop() as Tick?), c = try #require(consumer.pop() as Tick?)
        #expect(a.instrument == 7 && b.instrument == 8 && c.instrument == 3999)
        #expect(a.ts_recv_ns == 1234 && a.seq == 5 && a.publisher == 2)
        var s = kairos_zfeed_stats()
        kairos_zfeed_get_stats(feed, &s)
        #expect(s.accepted == 3 && s.instrument_mismatch == 2 && s.messages == 3)
    }

    @Test func refusalsAreClassifiedInOrderSizeTopicPayload() throws {
        let ring = SPSCRing<Tick>(capacity: 2)
        let producer = ring.claimProducer()
        let feed = try #require(makeFeed(producer, [("X", 0)]) as OpaquePointer?)
        defer { kairos_zfeed_destroy(feed) }
        let good = encoded(Tick(instrument: InstrumentID(0), seq: 1, exchangeTime: 1, receiveTime: 0, bid: 1, ask: 2))
        // Oversized wins over an unknown topic; an unknown topic wins over a bad payload; a bad
        // payload wins over a full ring.
        #expect(handle(feed, "nope", [UInt8](repeating: 0, count: 257)) == KAIROS_ZFEED_OVERSIZED)
        #expect(handle(feed, "tick.Y", [1]) == KAIROS_ZFEED_UNKNOWN_TOPIC)
        #expect(handle(feed, "tick.", good) == KAIROS_ZFEED_UNKNOWN_TOPIC)
        #expect(handle(feed, "tick.X", [1]) == KAIROS_ZFEED_DECODE_ERROR)
        #expect(handle(feed, "tick.X", good) == KAIROS_ZFEED_ACCEPTED)
        #expect(handle(feed, "tick.X", good) == KAIROS_ZFEED_ACCEPTED)
        #expect(handle(feed, "tick.X", [1]) == KAIROS_ZFEED_DECODE_ERROR)
        #expect(handle(feed, "tick.X", good) == KAIROS_ZFEED_RING_FULL)
        kairos_zfeed_count_bad_multipart(feed)
        var s = kairos_zfeed_stats()
        kairos_zfeed_get_stats(feed, &s)
        #expect(s.messages == 9 && s.oversized == 1 && s.unknown_topic == 2 && s.decode_error_total == 2)
        #expect(s.accepted == 2 && s.ring_full == 1 && s.bad_multipart == 1)
        #expect(ring.dropCount == 1)
        let stats = ZMQFeedStats(s)
        #expect(stats.decodeErrors[.tooShort] == 2 && stats.decodeErrors[.wrongFrameCount] == 1)
        #expect(stats.decodeErrors.total == 3 && stats.messages == stats.accepted + stats.refused)
    }

    @Test func invalidSymbolTablesAreRefused() {
        let ring = SPSCRing<Tick>(capacity: 2)
        let producer = ring.claimProducer()
        #expect(makeFeed(producer, [("A", 0), ("A", 1)]) == nil)  // duplicate
        #expect(makeFeed(producer, [("", 0)]) == nil)
        #expect(makeFeed(producer, [(String(repeating: "Z", count: 32), 0)]) == nil)  // too long
        #expect(makeFeed(producer, [("A", UInt16(KAIROS_MAX_INSTRUMENTS))]) == nil)
        let wrongRing = SPSCRing<UInt64>(capacity: 2)
        #expect(kairos_zfeed_create(wrongRing.cRing, nil, 0, 0, 0) == nil)
        if let f = makeFeed(producer, []) { kairos_zfeed_destroy(f) } else { Issue.record("an empty table is allowed") }
    }

    @Test func swiftIngestReportsConnectErrors() {
        let ring = SPSCRing<Tick>(capacity: 2)
        let connectError = #expect(throws: SystemError.self) {
            _ = try ZMQTickIngest(ring: ring.claimProducer(), config: ZMQFeedConfig(endpoints: ["bogus://x"], symbols: [("A", InstrumentID(0))]))
        }
        #expect(connectError?.operation == "connect bogus://x" && connectError?.errno == EPROTONOSUPPORT)
        let bindError = #expect(throws: SystemError.self) {
            _ = try TickPublisher(endpoint: "tcp://256.0.0.1:1", symbols: ["A"])
        }
        #expect(bindError?.operation == "bind tcp://256.0.0.1:1" && bindError?.errno != 0)
    }

    @Test func loopbackEndpoints() {
        for e in ["tcp://127.0.0.1:5556", "tcp://127.0.0.1:*", "tcp://localhost:1", "tcp://[::1]:9", "ipc:///tmp/k", "inproc://x", "tcp://lo:5557"] {
            #expect(ZMQFeedConfig.isLoopback(e), "\(e)")
        }
        for e in ["tcp://*:5556", "tcp://0.0.0.0:5556", "tcp://10.0.0.1:1", "tcp://eth0:1", "udp://127.0.0.1:1", "tcp://localhostx:1", "tcp://lox:1"] {
            #expect(!ZMQFeedConfig.isLoopback(e), "\(e)")
        }
    }
}
