// Swift face of the small hiredis client in redis.c (kairos_redis.h). The feature cache writer
// uses the pipelined calls; tools and tests use `command` to read values back.
import KairosCore
import CKairos
#if canImport(Glibc)
import Glibc
#endif

/// Why a Redis call failed (the C `kairos_redis_status` codes). Not a `SystemError`: hiredis reports
/// a failure class (timeout, connection lost, protocol), not an errno, and the feature cache counts
/// drops by that class.
public enum RedisError: Int, Error, Sendable, CaseIterable, CustomStringConvertible {
    case notConnected = 1
    case connect = 2
    case timeout = 3
    case io = 4
    case `protocol` = 5
    case outOfMemory = 6
    case badArgument = 7

    init?(status: kairos_redis_status) {
        if status == KAIROS_REDIS_OK { return nil }
        self = RedisError(rawValue: Int(status.rawValue)) ?? .io
    }

    public var description: String {
        switch self {
        case .notConnected: "not connected"
        case .connect: "connect failed"
        case .timeout: "timeout"
        case .io: "connection lost"
        case .protocol: "protocol error"
        case .outOfMemory: "out of memory"
        case .badArgument: "bad argument"
        }
    }
}

/// A decoded reply of one `command` call.
public indirect enum RedisReply: Sendable, Equatable {
    case string(String)
    case status(String)
    case error(String)
    case integer(Int64)
    case array([RedisReply])
    case null

    /// A flat field/value array (HGETALL) as a dictionary; nil for any other shape.
    public var fieldMap: [String: String]? {
        guard case .array(let items) = self, items.count % 2 == 0 else { return nil }
        var map: [String: String] = [:]
        var k = 0
        while k < items.count {
            guard case .string(let f) = items[k], case .string(let v) = items[k + 1] else { return nil }
            map[f] = v
            k += 2
        }
        return map
    }
}

/// One connection to a Redis server.
///
/// Implementation Notes:
/// - Owns a C `kairos_redis` (a hiredis context plus the settings to reconnect it) and frees it in
///   `deinit`. `connect()` is also the reconnect call. Every call blocks for at most the connect
///   or command timeout given at init; a transport failure drops the connection (the pipelined
///   reply stream is then out of step) and the next use must `connect()` again.
/// - Not thread-safe: one thread at a time (the writer thread, or a test). Not `Sendable`.
/// - `command` allocates (arguments, reply); the writer's per-flush path uses `appendSnapshot` and
///   `readReplies`, which allocate nothing in Swift.
public final class RedisConnection {
    public let host: String
    public let port: UInt16
    let client: OpaquePointer

    public init(host: String = "127.0.0.1", port: UInt16 = 6379, connectTimeoutMs: UInt32 = 500, commandTimeoutMs: UInt32 = 500) {
        guard let c = kairos_redis_create(host, port, connectTimeoutMs, commandTimeoutMs) else {
            fatalError("kairos_redis_create(\(host), \(port)) failed (out of memory or host name too long)")
        }
        self.host = host
        self.port = port
        client = c
    }

    deinit { kairos_redis_destroy(client) }

    /// Connects (dropping any current connection first).
    public func connect() throws(RedisError) {
        if let e = RedisError(status: kairos_redis_connect(client)) { throw e }
    }

    public func disconnect() { kairos_redis_disconnect(client) }
    public var isConnected: Bool { kairos_redis_is_connected(client) }
    /// Commands appended whose replies have not been read.
    public var pending: Int { Int(kairos_redis_pending(client)) }
    /// The reason of the last failure, for logs ("" if none).
    public var lastError: String { String(cString: kairos_redis_last_error(client)) }

    /// Appends the HSET (+ HDEL) (+ EXPIRE) for one snapshot to the pipeline; returns how many
    /// commands were appended. `key` and `featureNames` are NUL-terminated C strings the caller keeps
    /// alive (the writer allocates them once).
    public func appendSnapshot(
        key: UnsafePointer<CChar>, featureNames: UnsafePointer<UnsafePointer<CChar>?>,
        _ snapshot: UnsafePointer<FeatureSnapshot>, ttlSeconds: UInt32, clearRegime: Bool
    ) throws(RedisError) -> Int {
        var n: UInt32 = 0
        if let e = RedisError(status: kairos_redis_append_snapshot(client, key, featureNames, snapshot, ttlSeconds, clearRegime, &n)) {
            throw e
        }
        return Int(n)
    }

    /// Sends the pipeline (on the first call) and reads `count` replies; returns how many of them
    /// were server error replies. A throw means the connection was dropped and the unread replies
    /// are lost.
    public func readReplies(_ count: Int) throws(RedisError) -> Int {
        var errors: UInt32 = 0
        if let e = RedisError(status: kairos_redis_read_replies(client, UInt32(count), &errors)) { throw e }
        return Int(errors)
    }

    /// Sends one command and waits for its reply (no pipelined commands may be pending).
    public func command(_ args: [String]) throws(RedisError) -> RedisReply {
        var reply: OpaquePointer?
        let status: kairos_redis_status = withCStrings(args) { argv in
            kairos_redis_command_argv(client, Int32(args.count), argv, nil, &reply)
        }
        if let e = RedisError(status: status) { throw e }
        guard let reply else { throw .protocol }
        defer { kairos_redis_reply_free(reply) }
        return Self.decode(reply)
    }

    /// Convenience: `command(args)`, throwing `.protocol` unless the reply is an integer.
    public func integer(_ args: [String]) throws(RedisError) -> Int64 {
        guard case .integer(let v) = try command(args) else { throw .protocol }
        return v
    }

    static func decode(_ r: OpaquePointer) -> RedisReply {
        func text(_ r: OpaquePointer) -> String {
            var len = 0
            guard let p = kairos_redis_reply_str(r, &len) else { return "" }
            return p.withMemoryRebound(to: UInt8.self, capacity: len) {
                String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
            }
        }
        switch kairos_redis_reply_kind(r) {
        case KAIROS_REDIS_REPLY_STRING: return .string(text(r))
        case KAIROS_REDIS_REPLY_STATUS: return .status(text(r))
        case KAIROS_REDIS_REPLY_ERROR: return .error(text(r))
        case KAIROS_REDIS_REPLY_INTEGER: return .integer(kairos_redis_reply_integer(r))
        case KAIROS_REDIS_REPLY_ARRAY:
            return .array((0..<kairos_redis_reply_count(r)).map { i in
                kairos_redis_reply_element(r, i).map { decode($0) } ?? .null
            })
        default: return .null
        }
    }
}

/// Calls `body` with a C `argv` of NUL-terminated copies of `strings`, valid only inside `body`.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let ptrs: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
}
