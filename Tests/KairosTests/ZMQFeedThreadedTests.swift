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

/// Real ZeroMQ sockets over TCP loopback: a publisher thread, the ingest thread, and the test
/// thread consuming the ring. CI also runs this suite under ThreadSanitizer
/// (`--sanitize=thread --filter ZMQFeedThreaded`).
@Suite(.serialized) struct ZMQFeedThreadedTests {
    /// Waits (polling) until `condition` holds; false after `seconds`. A safety net against hangs,
    /// not a timing assertion.
    static func eventually(_ seconds: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = MonotonicClock.nanoseconds() + Int64(seconds * 1e9)
        while !condition() {
            if MonotonicClock.nanoseconds() > deadline { return false }
            sleepMicroseconds(1_000)
        }
        return true
    }

    /// A publisher bound to an ephemeral loopback port and an ingest connected to it (holding the
    /// ring's producer side), with the subscription confirmed (no slow-joiner loss). The caller
    /// claims the consumer (a tuple cannot carry a non-copyable handle).
    static func pair(symbols: Int, ringCapacity: Int, topics: [String] = ["tick."]) throws
        -> (TickPublisher, ZMQTickIngest, SPSCRing<Tick>)
    {
        let names = (0..<symbols).map { "SYN\($0)" }
        let publisher = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: names, publisherID: 3)
        let endpoint = publisher.boundEndpoint
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        let ring = SPSCRing<Tick>(capacity: ringCapacity)
        let config = ZMQFeedConfig(endpoints: [endpoint], topics: topics, symbols: ZMQFeedConfig.numberedSymbols(symbols))
        let ingest = try ZMQTickIngest(ring: ring.claimProducer(), config: config)
        #expect(publisher.waitForSubscriptions(topics.count, timeoutSeconds: 10) >= topics.count)
        return (publisher, ingest, ring)
    }

    static func tick(_ k: Int, instruments: Int) -> Tick {
        Tick(
            instrument: InstrumentID(k % instruments), seq: 0, exchangeTime: 1_000_000 + Int64(k), receiveTime: 0,
            bid: 100 + Double(k) * 0.01, ask: 100.02 + Double(k) * 0.01, last: 100.01, bidSize: 5, askSize: 6,
            lastSize: Float(k % 1000))
    }

    @Test func ticksArriveInOrderWithTheirValues() throws {
        let n = 100_000
        let instruments = 4
        // The ring holds every tick: a consumer descheduled by parallel tests (CI runs suites
        // concurrently on 2 cores) must not turn into ring-full drops in a test about ordering.
        let (publisher, ingest, ring) = try Self.pair(symbols: instruments, ringCapacity: 1 << 17)
        let consumer = ring.claimConsumer()
        ingest.start()
        // Taken before the publisher starts: every receive stamp must be later (taking it after
        // `start()` raced the first tick's receipt on a slow, sanitized run).
        let before = WallClock().now()
        let pubThread = WorkerThread(name: "test-zmq-publisher") {
            for k in 0..<n {
                while try! !publisher.publish(Self.tick(k, instruments: instruments)) {}
            }
        }
        pubThread.start()
        var received = 0
        var mismatches = 0
        let done = Self.eventually {
            while let t = consumer.pop() {
                let k = received
                let want = Self.tick(k, instruments: instruments)
                if t.seq != UInt64(k + 1) || t.publisher != 3 || t.instrument != want.instrument || t.bid != want.bid
                    || t.ask != want.ask || t.ts_exchange_ns != want.ts_exchange_ns || t.last_size != want.last_size
                    || t.ts_recv_ns < before
                {
                    mismatches += 1
                }
                received += 1
            }
            return received >= n
        }
        pubThread.join()
        ingest.stop()
        #expect(done)
        #expect(received == n)
        #expect(mismatches == 0)
        #expect(publisher.sent == UInt64(n))
        let s = ingest.stats
        #expect(s.messages == UInt64(n) && s.accepted == UInt64(n) && s.refused == 0)
        #expect(s.instrumentMismatch == 0)
        #expect(ingest.failureDescription == nil)
        #expect(ring.dropCount == 0)
    }

    @Test func badInputIsCountedByReason() throws {
        let (publisher, ingest, ring) = try Self.pair(symbols: 2, ringCapacity: 1024)
        let consumer = ring.claimConsumer()
        ingest.start()
        var good = [UInt8](repeating: 0, count: Int(KAIROS_WIRE_TICK_SIZE))
        var t = Self.tick(1, instruments: 2)
        t.seq = 1
        _ = kairos_wire_encode_tick(&t, 0, &good, good.count)
        let topic = Array("tick.SYN1".utf8)
        var badVersion = good
        badVersion[0] = 9
        var badType = good
        badType[1] = UInt8(KAIROS_WIRE_TYPE_ORDER.rawValue)
        let messages: [[[UInt8]]] = [
            [Array("tick.NOPE".utf8), good],  // unknown symbol
            [Array("quote.SYN1".utf8), good],  // not subscribed: filtered by ZeroMQ, never counted
            [Array("tick.".utf8) + [UInt8](repeating: 65, count: 40), good],  // symbol too long: unknown
            [topic, Array(good.prefix(40))],  // short
            [topic, good + [0]],  // long
            [topic, badVersion],
            [topic, badType],
            [topic],  // one frame
            [topic, good, good],  // three frames
            [topic, [UInt8](repeating: 1, count: 300)],  // oversized (> KAIROS_WIRE_MAX_FRAME)
            [topic, good],  // finally a good one
        ]
        for m in messages { #expect(try publisher.sendRawFrames(m, timeoutMilliseconds: 1000)) }
        #expect(Self.eventually { ingest.stats.messages >= 10 })
        ingest.stop()
        let s = ingest.stats
        #expect(s.messages == 10)
        #expect(s.unknownTopic == 2)
        let e = s.decodeErrors
        #expect(e[.tooShort] == 1 && e[.tooLong] == 1 && e[.unknownVersion] == 1 && e[.unexpectedType] == 1)
        #expect(e[.fieldOutOfDomain] == 0)
        #expect(e[.wrongFrameCount] == 2)  // one frame, three frames
        #expect(e.total == 6)
        #expect(s.oversized == 1)
        #expect(s.accepted == 1 && s.ringFull == 0)
        #expect(s.messages == s.accepted + s.refused)
        let got = try #require(consumer.pop() as Tick?)
        #expect(got.instrument == 1 && got.seq == 1 && got.bid == t.bid)
        #expect(consumer.pop() == nil)
    }

    @Test func aFullRingCountsEveryDrop() throws {
        let (publisher, ingest, ring) = try Self.pair(symbols: 1, ringCapacity: 64)
        let consumer = ring.claimConsumer()
        ingest.start()
        let n = 1_000
        for k in 0..<n { #expect(try publisher.publish(Self.tick(k, instruments: 1), timeoutMilliseconds: 1000)) }
        #expect(Self.eventually { ingest.stats.messages >= UInt64(n) })
        ingest.stop()
        let s = ingest.stats
        #expect(s.accepted == 64)
        #expect(s.ringFull == UInt64(n - 64))
        #expect(ring.dropCount == UInt64(n - 64))
        // The ring holds the first 64, in order.
        for k in 0..<64 { #expect(consumer.pop()?.seq == UInt64(k + 1)) }
    }

    @Test func topicPrefixesFilterSymbols() throws {
        let (publisher, ingest, ring) = try Self.pair(symbols: 3, ringCapacity: 1024, topics: ["tick.SYN2"])
        let consumer = ring.claimConsumer()
        ingest.start()
        for k in 0..<30 { #expect(try publisher.publish(Self.tick(k, instruments: 3), timeoutMilliseconds: 1000)) }
        #expect(Self.eventually { ingest.stats.messages >= 10 })
        ingest.stop()
        #expect(ingest.stats.messages == 10 && ingest.stats.accepted == 10)
        var seqs = [UInt64]()
        while let t = consumer.pop() {
            #expect(t.instrument == 2)
            seqs.append(t.seq)
        }
        let want: [UInt64] = (0..<10).map { (j: Int) -> UInt64 in UInt64(3 * j + 3) }
        #expect(seqs == want)  // every third tick, with the publisher-wide sequence
    }

    static let pythonHasZMQ: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import zmq"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test func thePythonExamplePublisherFeedsTheIngest() throws {
        guard Self.pythonHasZMQ else {
            print("skipping thePythonExamplePublisherFeedsTheIngest: python3 with pyzmq not available (pip install pyzmq)")
            return
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("examples/publisher.py").path
        // A free port: bind an ephemeral one, note it, release it, let the script bind it.
        let port: String
        do {
            let probe = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: ["X"])
            port = String(probe.boundEndpoint.split(separator: ":").last ?? "")
        }
        let endpoint = "tcp://127.0.0.1:\(port)"
        let n = 5_000
        let symbols = ["AAPL", "MSFT", "SPY"]
        let ring = SPSCRing<Tick>(capacity: 8192)
        let ids: [(symbol: String, instrument: InstrumentID)] = [("AAPL", InstrumentID(10)), ("MSFT", InstrumentID(11)), ("SPY", InstrumentID(12))]
        let ingest = try ZMQTickIngest(ring: ring.claimProducer(), config: ZMQFeedConfig(endpoints: [endpoint], symbols: ids))
        let consumer = ring.claimConsumer()
        ingest.start()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, endpoint, "\(n)"] + symbols
        try p.run()
        var ticks = [Tick]()
        let done = Self.eventually(60) {
            while let t = consumer.pop() { ticks.append(t) }
            // Also give up when the script failed (e.g. it could not bind the port).
            return ticks.count >= n || (!p.isRunning && p.terminationStatus != 0)
        }
        p.waitUntilExit()
        ingest.stop()
        while let t = consumer.pop() { ticks.append(t) }
        #expect(p.terminationStatus == 0)
        #expect(done)
        #expect(ticks.count == n)
        #expect(ingest.stats.refused == 0)
        for (k, t) in ticks.enumerated() {
            if t.seq != UInt64(k + 1) || t.publisher != 7 || t.instrument != UInt16(10 + k % 3) || !(t.bid < t.ask)
                || abs(t.ask - t.bid - 0.02) > 1e-9
            {
                Issue.record("tick \(k) unexpected: \(t)")
                break
            }
        }
        // The Python ticks pass the sequence tracker without gaps or duplicates.
        var tracker = SequenceTracker(instruments: 16, staleAfterNs: 1_000_000_000, startNs: 0)
        for t in ticks { _ = tracker.accept(t, now: t.ts_recv_ns) }
        #expect(tracker.stats.accepted == UInt64(n) && tracker.stats.gaps == 0 && tracker.stats.duplicates == 0)
    }
}
