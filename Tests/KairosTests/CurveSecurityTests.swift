import CKairos
import Foundation
import Testing
@testable import Kairos

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

/// Moves a raw pointer into a @Sendable closure; the test guarantees single-threaded use of it.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
