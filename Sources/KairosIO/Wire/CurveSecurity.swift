import KairosCore
import CKairos
import Foundation

/// A ZeroMQ CURVE key pair (Z85 text, 40 characters each).
///
/// Files written by `save(name:directory:)` (what `kairos keys generate` does):
/// - `<name>.key`: `public=<Z85>` and `secret=<Z85>` lines, mode 0600 — keep it private;
/// - `<name>.pub`: the public key alone — hand it to peers (servers list client `.pub` files in
///   their allowlist; clients need the server's `.pub`).
public struct CurveKeyPair: Sendable, Equatable {
    public var publicKey: String
    public var secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    public static func generate() throws -> CurveKeyPair {
        guard kairos_zsec_has_curve() == 1 else { throw CurveError.unsupported }
        var pub = [CChar](repeating: 0, count: 41), sec = [CChar](repeating: 0, count: 41)
        try syscall("generate a CURVE key pair") { kairos_zsec_keypair(&pub, &sec) }
        return CurveKeyPair(publicKey: Self.string(pub), secretKey: Self.string(sec))
    }

    /// The key pair of a secret key (public key derived, so the two always match).
    public init(secretKey: String) throws {
        var sec = Array(secretKey.utf8CString)
        var pub = [CChar](repeating: 0, count: 41)
        guard sec.count == 41, kairos_zsec_public_from_secret(&sec, &pub) == 0 else { throw CurveError.badKey(secretKey) }
        self.init(publicKey: Self.string(pub), secretKey: secretKey)
    }

    public func save(name: String, directory: String) throws {
        let dir = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = dir.appendingPathComponent("\(name).key").path
        guard FileManager.default.createFile(
            atPath: key, contents: Data("public=\(publicKey)\nsecret=\(secretKey)\n".utf8),
            attributes: [.posixPermissions: 0o600])
        else { throw CurveError.io(key) }
        try Data("\(publicKey)\n".utf8).write(to: dir.appendingPathComponent("\(name).pub"))
    }

    /// Reads a `.key` file (secret) written by `save`.
    public static func load(keyFile path: String) throws -> CurveKeyPair {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("secret=") }) else {
            throw CurveError.badKey(path)
        }
        return try CurveKeyPair(secretKey: String(line.dropFirst("secret=".count)))
    }

    /// Reads a `.pub` file (or any file whose first line is a Z85 public key).
    public static func loadPublic(_ path: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let key = text.split(separator: "\n").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        guard key.utf8.count == 40 else { throw CurveError.badKey(path) }
        return key
    }

    /// A public key given either as the 40-character Z85 key itself or as the path of a file
    /// holding it (a `.pub` file).
    /// A public key given either as the 40-character Z85 key itself or as the path of a file
    /// holding it (a `.pub` file).
    public static func publicKey(fileOrKey: String) throws -> String {
        if fileOrKey.utf8.count == 40 && !FileManager.default.fileExists(atPath: fileOrKey) {
            guard fileOrKey.utf8.allSatisfy(z85Alphabet.contains) else { throw CurveError.badKey(fileOrKey) }
            return fileOrKey
        }
        return try loadPublic(fileOrKey)
    }

    /// The 85 characters of ZeroMQ's Z85 encoding (RFC 32).
    static let z85Alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    static func string(_ z: [CChar]) -> String {
        String(decoding: z.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The client side of a CURVE connection: the server's public key and this process's own key pair
/// (the server's ZAP allowlist must list `keys.publicKey`).
public struct CurveClient: Sendable, Equatable {
    public var serverPublicKey: String
    public var keys: CurveKeyPair
    public init(serverPublicKey: String, keys: CurveKeyPair) {
        self.serverPublicKey = serverPublicKey
        self.keys = keys
    }
}

/// What is wrong with a CURVE setup. These are domain errors and carry no errno, so they stay out of
/// `SystemError`: libzmq built without CURVE, a string or file that is not a key, a key file that
/// `FileManager` could not create (it reports a Bool, not an errno), a second ZAP handler. A libzmq
/// call that fails with an errno (key generation) throws `SystemError`.
public enum CurveError: Error, CustomStringConvertible, Sendable {
    case unsupported
    case badKey(String)
    case io(String)
    case zapAlreadyRunning
    public var description: String {
        switch self {
        case .unsupported: "libzmq was built without CURVE support"
        case .badKey(let k): "not a valid CURVE key: \(k)"
        case .io(let p): "cannot write \(p)"
        case .zapAlreadyRunning: "a ZAP handler is already running in this process (or a key is malformed)"
        }
    }
}

/// The ZAP handler (ZeroMQ RFC 27) that admits only CURVE clients whose public key is listed.
/// Servers made with `kairos_zsec_server` in the shared context consult it on every connection.
/// One per process; stops (and joins its thread) on `stop()` or deinit.
public final class ZAPAllowlist: @unchecked Sendable {
    // @unchecked Sendable: the C handler's counters are atomics; start/stop are called by the owner.
    private var handle: OpaquePointer?
    public let allowed: [String]

    public init(allowedPublicKeys: [String]) throws {
        allowed = allowedPublicKeys
        var cStrings = allowedPublicKeys.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let h = cStrings.withUnsafeMutableBufferPointer { buf -> OpaquePointer? in
            buf.withMemoryRebound(to: UnsafePointer<CChar>?.self) { kairos_zap_start($0.baseAddress, Int32($0.count)) }
        }
        guard let h else { throw CurveError.zapAlreadyRunning }
        handle = h
    }

    public var accepted: UInt64 { handle.map { kairos_zap_accepted($0) } ?? 0 }
    public var denied: UInt64 { handle.map { kairos_zap_denied($0) } ?? 0 }

    public func stop() {
        if let h = handle { kairos_zap_stop(h) }
        handle = nil
    }

    deinit { stop() }
}
