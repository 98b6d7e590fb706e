import CKairos
import CKairosTesting
import Foundation
import Logging
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// CURVE + ZAP over real ZeroMQ sockets on loopback: a listed client gets through, an unlisted one
/// (with perfectly valid keys) is refused by the ZAP handler.
@Suite(.serialized) struct CurveSecurityTests {
    @Test func keysRoundTripThroughFiles() throws {
        let pair = try CurveKeyPair.generate()
        #expect(pair.publicKey.utf8.count == 40 && pair.secretKey.utf8.count == 40)
        #expect(try CurveKeyPair(secretKey: pair.secretKey) == pair)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-keys-\(UUID())").path
        try pair.save(name: "engine", directory: dir)
        #expect(try CurveKeyPair.load(keyFile: dir + "/engine.key") == pair)
        #expect(try CurveKeyPair.loadPublic(dir + "/engine.pub") == pair.publicKey)
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/engine.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(throws: CurveError.self) { try CurveKeyPair(secretKey: "short") }
    }

    /// Sends "ping" from a REQ client with `client` keys to the server; true when "pong" comes back.
    func ping(serverEndpoint: String, serverPublic: String, client: CurveKeyPair) -> Bool {
        let req = kairos_zsock_new(KAIROS_ZSOCK_REQ)!
        defer { kairos_zsock_close(req) }
        #expect(kairos_zsec_client(req, serverPublic, client.publicKey, client.secretKey) == 0)
        #expect(kairos_zsock_connect(req, serverEndpoint) == 0)
        _ = kairos_zsock_send(req, "ping", 4, 0)
        var buf = [UInt8](repeating: 0, count: 16)
        let n = kairos_zsock_recv(req, &buf, buf.count, 1_500)
        return n == 4 && String(decoding: buf.prefix(4), as: UTF8.self) == "pong"
    }

    @Test func listedClientGetsThroughAndUnlistedIsRefused() throws {
        let server = try CurveKeyPair.generate()
        let listed = try CurveKeyPair.generate()
        let unlisted = try CurveKeyPair.generate()
        let zap = try ZAPAllowlist(allowedPublicKeys: [listed.publicKey])
        defer { zap.stop() }
        #expect(throws: CurveError.self) { _ = try ZAPAllowlist(allowedPublicKeys: []) }  // one per process

        let rep = kairos_zsock_new(KAIROS_ZSOCK_REP)!
        #expect(kairos_zsec_server(rep, server.secretKey) == 0)
        #expect(kairos_zsock_bind(rep, "tcp://127.0.0.1:*") == 0)
        var ep = [CChar](repeating: 0, count: 128)
        #expect(kairos_zsock_last_endpoint(rep, &ep, ep.count) == 0)
        let endpoint = CurveKeyPair.string(ep)
        // Serve pings on a thread until told to stop.
        let stop = StopFlag()
        let repBox = UnsafeSendable(rep)
        let serverThread = WorkerThread(name: "rep") {
            var buf = [UInt8](repeating: 0, count: 16)
            while !stop.isSet {
                if kairos_zsock_recv(repBox.value, &buf, buf.count, 50) >= 0 { _ = kairos_zsock_send(repBox.value, "pong", 4, 0) }
            }
        }
        serverThread.start()
        #expect(ping(serverEndpoint: endpoint, serverPublic: server.publicKey, client: listed))
        #expect(!ping(serverEndpoint: endpoint, serverPublic: server.publicKey, client: unlisted))
        stop.set()
        serverThread.join()
        kairos_zsock_close(rep)
        #expect(zap.accepted >= 1)
        #expect(zap.denied >= 1)
    }
}

extension CurveSecurityTests {
    /// A CURVE server needs the allowlist: without a running ZAP handler libzmq would admit every
    /// client, so making the server must fail instead.
    @Test func curveServerRefusesToStartWithoutAllowlist() throws {
        let server = try CurveKeyPair.generate()
        // EACCES is kairos_zsec_server's refusal (no ZAP handler), not some other socket failure.
        let publisherError = #expect(throws: SystemError.self) {
            _ = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: ["SYN0"], curveSecretKey: server.secretKey)
        }
        #expect(publisherError?.errno == EACCES)
        var g = PaperGatewayConfig()
        g.endpoint = "tcp://127.0.0.1:*"
        g.feedEndpoint = nil
        g.curveSecretKey = server.secretKey
        let gatewayError = #expect(throws: SystemError.self) { _ = try PaperGateway(config: g) }
        #expect(gatewayError?.errno == EACCES)
    }

    /// The real tick feed: an XPUB CURVE server, a listed SUB ingest gets ticks, an unlisted one
    /// (valid keys, right server key) and a plain one get nothing.
    @Test func curveFeedDeliversToListedSubscriberOnly() throws {
        let server = try CurveKeyPair.generate()
        let listed = try CurveKeyPair.generate()
        let unlisted = try CurveKeyPair.generate()
        let zap = try ZAPAllowlist(allowedPublicKeys: [listed.publicKey])
        defer { zap.stop() }
        let publisher = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: ["SYN0"], curveSecretKey: server.secretKey)
        func ingest(_ keys: CurveKeyPair?) throws -> ZMQTickIngest {
            var c = ZMQFeedConfig(endpoints: [publisher.boundEndpoint], symbols: ZMQFeedConfig.numberedSymbols(1))
            c.curve = keys.map { CurveClient(serverPublicKey: server.publicKey, keys: $0) }
            let i = try ZMQTickIngest(ring: SPSCRing<Tick>(capacity: 4096).claimProducer(), config: c)
            i.start()
            return i
        }
        let good = try ingest(listed), bad = try ingest(unlisted), plain = try ingest(nil)
        defer { good.stop(); bad.stop(); plain.stop() }
        var tick = Tick(instrument: InstrumentID(0), seq: 0, exchangeTime: 1, receiveTime: 0, bid: 99.9, ask: 100.1)
        try waitFor("a tick at the listed subscriber") {
            tick.ts_exchange_ns += 1
            _ = try? publisher.publish(tick)
            sleepMicroseconds(2_000)
            return good.stats.accepted > 0
        }
        // Give the refused ones every chance: more ticks, and time for any handshake to finish.
        for _ in 0..<200 {
            tick.ts_exchange_ns += 1
            _ = try publisher.publish(tick)
            sleepMicroseconds(500)
        }
        try waitFor("the listed subscriber draining") { good.stats.accepted >= 200 }
        #expect(bad.stats.messages == 0)
        #expect(plain.stats.messages == 0)
        #expect(zap.accepted >= 1)
        #expect(zap.denied >= 1)  // the unlisted CURVE client; the plain one fails the handshake itself
    }

    /// The real order path: a CURVE gateway (ROUTER server, and a CURVE client of the CURVE feed)
    /// fills a listed engine's order; an unlisted engine's order never reaches it.
    @Test func curveOrdersFromListedEngineOnly() throws {
        let feedKeys = try CurveKeyPair.generate()
        let gatewayKeys = try CurveKeyPair.generate()
        let engine = try CurveKeyPair.generate()
        let stranger = try CurveKeyPair.generate()
        let zap = try ZAPAllowlist(allowedPublicKeys: [gatewayKeys.publicKey, engine.publicKey])
        defer { zap.stop() }
        let publisher = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: ["SYN0"], curveSecretKey: feedKeys.secretKey)
        var g = PaperGatewayConfig()
        g.endpoint = "tcp://127.0.0.1:*"
        g.feedEndpoint = publisher.boundEndpoint
        g.topicPrefix = "tick."
        g.fills = PaperFillConfig(latencyNs: 0, slippageBps: 0, feeBps: 0)
        g.curveSecretKey = gatewayKeys.secretKey
        g.feedCurve = CurveClient(serverPublicKey: feedKeys.publicKey, keys: gatewayKeys)
        let gateway = try PaperGateway(config: g)
        gateway.start()
        defer { gateway.stop() }
        var tick = Tick(instrument: InstrumentID(0), seq: 0, exchangeTime: 1, receiveTime: 0, bid: 99.9, ask: 100.1)
        try waitFor("the gateway's first quote over CURVE", seconds: 5) {
            tick.ts_exchange_ns += 1
            _ = try? publisher.publish(tick)
            sleepMicroseconds(2_000)
            return gateway.statistics.instrumentsQuoted >= 1
        }
        func route(_ keys: CurveKeyPair, id: UInt64) throws -> [ExecutionReport] {
            let outbound = SPSCRing<Order>(capacity: 16), executions = SPSCRing<ExecutionReport>(capacity: 16)
            var r = OrderRouterConfig()
            r.endpoint = gateway.boundEndpoint
            r.routingID = "engine-\(id)"
            r.ackTimeoutNs = 1_500_000_000
            r.curve = CurveClient(serverPublicKey: gatewayKeys.publicKey, keys: keys)
            let router = try OrderRouter(config: r, outbound: outbound.claimConsumer(), executions: executions.claimProducer())
            let orders = outbound.claimProducer(), answers = executions.claimConsumer()  // the engine's sides
            router.start()
            defer { router.stop() }
            #expect(orders.push(makeOrder(id, instrument: 0, side: .buy, quantity: 3)) == true)
            // Until a final answer: FILL, REJECT (the router's timeout) or CANCELLED.
            var reports: [ExecutionReport] = []
            try waitFor("a final report for order \(id)") {
                while let r = answers.pop() { reports.append(r) }
                return reports.contains { $0.kind != UInt8(KAIROS_EXEC_ACK.rawValue) }
            }
            return reports
        }
        let ok = try route(engine, id: 1)
        #expect(ok.map(\.kind) == [UInt8(KAIROS_EXEC_ACK.rawValue), UInt8(KAIROS_EXEC_FILL.rawValue)])
        #expect(ok.last?.fill_qty == 3 && ok.last?.fill_price == 100.1)
        let refused = try route(stranger, id: 2)
        #expect(refused.count == 1)
        #expect(refused[0].kind == UInt8(KAIROS_EXEC_REJECT.rawValue))
        // Never delivered: ZeroMQ refuses the send while no authenticated connection exists
        // (send_failed), or the order waits in the DEALER until the router times it out.
        #expect([OrderRejectReason.timeout, .sendFailed].contains(refused[0].rejectReason))
        #expect(gateway.statistics.ordersReceived == 1)
        #expect(zap.denied >= 1)
    }
}

extension CurveSecurityTests {
    /// `kairos run` with a `security` section: the engine's SUB and DEALER are CURVE clients of a
    /// CURVE feed and a CURVE gateway, keys read from the files `kairos keys generate` writes.
    @Test func engineRunsOverCurveFeedAndOrders() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-curve-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let feedKeys = try CurveKeyPair.generate(), gatewayKeys = try CurveKeyPair.generate()
        let engineKeys = try CurveKeyPair.generate()
        try feedKeys.save(name: "feed", directory: dir)
        try gatewayKeys.save(name: "gateway", directory: dir)
        try engineKeys.save(name: "engine", directory: dir)
        let zap = try ZAPAllowlist(allowedPublicKeys: [
            try CurveKeyPair.publicKey(fileOrKey: dir + "/engine.pub"), try CurveKeyPair.publicKey(fileOrKey: dir + "/gateway.pub"),
        ])
        defer { zap.stop() }
        let symbols = ["SYN0", "SYN1"]
        let publisher = try TickPublisher(endpoint: "tcp://127.0.0.1:*", symbols: symbols, curveSecretKey: feedKeys.secretKey)
        var gc = PaperGatewayConfig()
        gc.endpoint = "tcp://127.0.0.1:*"
        gc.feedEndpoint = publisher.boundEndpoint
        gc.fills = PaperFillConfig(latencyNs: 0, slippageBps: 0.5, feeBps: 0.2)
        gc.curveSecretKey = gatewayKeys.secretKey
        gc.feedCurve = CurveClient(serverPublicKey: feedKeys.publicKey, keys: gatewayKeys)
        let gateway = try PaperGateway(config: gc)
        gateway.start()
        defer { gateway.stop() }

        var cfg = KairosConfig()
        cfg.policy.kind = .sma  // SMA on short bars trades often (the default would be the ensemble)
        cfg.instruments = symbols
        cfg.feed.endpoints = [publisher.boundEndpoint]
        cfg.orders.gateway = gateway.boundEndpoint
        cfg.policy.barSeconds = 0.005  // 5,000 ticks of 100 µs per instrument: 100 bars, SMA(10/30) trades
        cfg.security = KairosConfig.Security(
            keyFile: dir + "/engine.key", feedServerKey: dir + "/feed.pub", gatewayServerKey: gatewayKeys.publicKey)
        var logger = Logger(label: "test.run.curve")
        logger.logLevel = .warning
        let app = try buildApplication(config: cfg, logger: logger, handleSignals: false)
        let running = Task { try await app.group.run() }
        #expect(publisher.waitForSubscriptions(2, timeoutSeconds: 10) >= 2)
        let count = 10_000
        var source = SyntheticTickSource(market: SyntheticMarket(scenario: .demo, instruments: 2, seed: 9), limit: count)
        #expect(try publisher.replay(&source, count: count, rate: 0, stop: StopFlag()) == UInt64(count))
        try await app.waitUntilSettled(ticks: count, timeoutSeconds: 30)
        await app.group.triggerGracefulShutdown()
        try await running.value
        let s = try #require(app.engine.monitor.snapshot)
        #expect(s.counters.ticksReceived == UInt64(count))
        #expect(s.counters.ordersSent > 0)
        #expect(s.counters.fills > 0)
        #expect(s.counters.orderTimeouts == 0)
        #expect(zap.accepted >= 3)  // engine SUB, gateway SUB, engine DEALER
        #expect(zap.denied == 0)
    }
}

/// Moves a raw pointer into a @Sendable closure; the test guarantees single-threaded use of it.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
