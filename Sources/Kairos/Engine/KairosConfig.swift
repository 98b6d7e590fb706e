import Foundation

/// The configuration file of `kairos run` (JSON). Every field has a default, so a file only names
/// what differs; command-line flags override the file.
///
///     {
///       "instruments": ["SYN0", "SYN1"],
///       "capitalPerInstrument": 100000,
///       "policy": { "kind": "sma", "fast": 10, "slow": 30, "barSeconds": 1 },
///       "feed": { "endpoints": ["tcp://127.0.0.1:5556"] },
///       "orders": { "gateway": "tcp://127.0.0.1:5557", "ackTimeoutMs": 1000 },
///       "redis": { "host": "127.0.0.1", "port": 6379, "ttlSeconds": 60 }
///     }
public struct KairosConfig: Codable, Sendable, Equatable {
    public struct Policy: Codable, Sendable, Equatable {
        /// "sma" (SMA crossover on bars) or "buyhold".
        public var kind = "sma"
        public var fast = 10
        public var slow = 30
        public var allowShort = false
        /// Bar length for bar-based policies, seconds of exchange time.
        public var barSeconds = 1.0
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self()
            kind = try c.value(.kind, or: d.kind)
            fast = try c.value(.fast, or: d.fast)
            slow = try c.value(.slow, or: d.slow)
            allowShort = try c.value(.allowShort, or: d.allowShort)
            barSeconds = try c.value(.barSeconds, or: d.barSeconds)
        }
    }
    public struct Feed: Codable, Sendable, Equatable {
        /// ZeroMQ endpoints to SUB-connect to.
        public var endpoints = ["tcp://127.0.0.1:5556"]
        /// Topic prefixes to subscribe to ("tick." = every instrument).
        public var topics = ["tick."]
        /// Seconds of silence after which an instrument's feed counts as stale (halts it).
        public var staleAfterSeconds = 5.0
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self()
            endpoints = try c.value(.endpoints, or: d.endpoints)
            topics = try c.value(.topics, or: d.topics)
            staleAfterSeconds = try c.value(.staleAfterSeconds, or: d.staleAfterSeconds)
        }
    }
    public struct Orders: Codable, Sendable, Equatable {
        /// ZeroMQ endpoint of the gateway's ROUTER socket.
        public var gateway = "tcp://127.0.0.1:5557"
        public var ackTimeoutMs = 1_000
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self()
            gateway = try c.value(.gateway, or: d.gateway)
            ackTimeoutMs = try c.value(.ackTimeoutMs, or: d.ackTimeoutMs)
        }
    }
    public struct Redis: Codable, Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 6379
        public var ttlSeconds = 60
        public var flushIntervalMs = 50
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self()
            host = try c.value(.host, or: d.host)
            port = try c.value(.port, or: d.port)
            ttlSeconds = try c.value(.ttlSeconds, or: d.ttlSeconds)
            flushIntervalMs = try c.value(.flushIntervalMs, or: d.flushIntervalMs)
        }
    }

    public var instruments: [String] = (0..<8).map { "SYN\($0)" }
    public var capitalPerInstrument = 125_000.0
    public var risk: RiskLimits? = nil
    public var features = FeatureConfig.standard
    public var policy = Policy()
    public var feed = Feed()
    public var orders = Orders()
    /// nil = no feature cache.
    public var redis: Redis? = nil
    public var ringCapacity = 65_536

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = KairosConfig()
        instruments = try c.value(.instruments, or: d.instruments)
        capitalPerInstrument = try c.value(.capitalPerInstrument, or: d.capitalPerInstrument)
        risk = try c.decodeIfPresent(RiskLimits.self, forKey: .risk)
        features = try c.value(.features, or: d.features)
        policy = try c.value(.policy, or: d.policy)
        feed = try c.value(.feed, or: d.feed)
        orders = try c.value(.orders, or: d.orders)
        redis = try c.decodeIfPresent(Redis.self, forKey: .redis)
        ringCapacity = try c.value(.ringCapacity, or: d.ringCapacity)
        try validate()
    }

    public static func load(path: String) throws -> KairosConfig {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(KairosConfig.self, from: data)
    }

    public func validate() throws {
        func fail(_ m: String) -> ConfigError { ConfigError(message: m) }
        guard !instruments.isEmpty, instruments.count <= InstrumentID.max else { throw fail("1...\(InstrumentID.max) instruments") }
        guard Set(instruments).count == instruments.count else { throw fail("instrument symbols must be unique") }
        guard capitalPerInstrument > 0 else { throw fail("capitalPerInstrument must be > 0") }
        guard ["sma", "buyhold"].contains(policy.kind) else { throw fail("policy.kind is sma or buyhold") }
        guard policy.fast >= 1, policy.slow > policy.fast, policy.barSeconds > 0 else { throw fail("bad policy windows") }
        guard ringCapacity >= 2, ringCapacity & (ringCapacity - 1) == 0 else { throw fail("ringCapacity must be a power of two") }
        guard !feed.endpoints.isEmpty else { throw fail("feed.endpoints is empty") }
        try features.validate()
    }

    /// The engine configuration this file describes.
    public var engineConfig: EngineConfig {
        var c = EngineConfig(
            instruments: instruments.enumerated().map { Instrument(id: InstrumentID($0.offset), symbol: $0.element) },
            capitalPerInstrument: capitalPerInstrument, features: features)
        if let risk { c.risk = risk }
        c.staleAfterNs = Int64(feed.staleAfterSeconds * 1e9)
        return c
    }
}

public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "configuration: \(message)" }
}

extension KeyedDecodingContainer {
    /// The value for `key`, or `fallback` when the key is absent (a present but malformed value
    /// still throws).
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
