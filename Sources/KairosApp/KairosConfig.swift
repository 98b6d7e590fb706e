import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
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
///       "redis": { "host": "127.0.0.1", "port": 6379, "ttlSeconds": 60 },
///       "security": { "keyFile": "keys/engine.key", "feedServerKey": "keys/feed.pub",
///                     "gatewayServerKey": "keys/gateway.pub" }
///     }
public struct KairosConfig: Codable, Sendable, Equatable {
    public struct Policy: Codable, Sendable, Equatable {
        /// "sma" (SMA crossover on bars), "buyhold", or "ensemble" (the four RL agents and the
        /// meta-agent per regime: `models`, `regimeModel`, `meta`, `ticksPerBar`).
        public var kind = "sma"
        public var fast = 10
        public var slow = 30
        public var allowShort = false
        /// Bar length for bar-based policies, seconds of exchange time.
        public var barSeconds = 1.0
        /// Ensemble: directory of `<kind>.safetensors` agent models.
        public var models = "models"
        /// Ensemble: the regime model (`kairos regimes fit` JSON); default `<models>/regime-hmm.json`.
        public var regimeModel: String? = nil
        /// Ensemble: the meta-agent's selection rule (`kairos meta simulate --policy` names).
        public var meta = "hedge"
        /// Ensemble: "blend" (weights over the agents' targets) or "select" (the lead agent's target).
        public var metaMode = "blend"
        /// Ensemble: ticks of one instrument per bar (1 = every tick is a bar, as in training on
        /// the synthetic market).
        public var ticksPerBar = 1
        /// Ensemble: bars before the first decision.
        public var warmupBars = 50
        /// Ensemble: JSONL file for the meta-agent's explanations (one in `explainEvery` decisions).
        public var explainLog: String? = nil
        public var explainEvery = 1_000
        /// Ensemble: the meta-agent's state file, loaded at start when present and written at stop,
        /// so a restart continues where it stopped.
        public var metaState: String? = nil
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self()
            kind = try c.value(.kind, or: d.kind)
            fast = try c.value(.fast, or: d.fast)
            slow = try c.value(.slow, or: d.slow)
            allowShort = try c.value(.allowShort, or: d.allowShort)
            barSeconds = try c.value(.barSeconds, or: d.barSeconds)
            models = try c.value(.models, or: d.models)
            regimeModel = try c.decodeIfPresent(String.self, forKey: .regimeModel)
            meta = try c.value(.meta, or: d.meta)
            metaMode = try c.value(.metaMode, or: d.metaMode)
            ticksPerBar = try c.value(.ticksPerBar, or: d.ticksPerBar)
            warmupBars = try c.value(.warmupBars, or: d.warmupBars)
            explainLog = try c.decodeIfPresent(String.self, forKey: .explainLog)
            explainEvery = try c.value(.explainEvery, or: d.explainEvery)
            metaState = try c.decodeIfPresent(String.self, forKey: .metaState)
        }

        /// The ensemble's regime model path.
        public var regimeModelPath: String { regimeModel ?? models + "/regime-hmm.json" }
    }
    public struct Feed: Codable, Sendable, Equatable {
        /// ZeroMQ endpoints to SUB-connect to.
        public var endpoints = ["tcp://127.0.0.1:5556"]
        /// Topic prefixes to subscribe to ("tick." = every instrument).
        public var topics = ["tick."]
        /// Seconds of silence after which an instrument's feed counts as stale (halts it).
        public var staleAfterSeconds = 5.0
        /// "zmq" (SUB to `endpoints`) or "udp" (raw wire ticks, one per datagram, on `udp`).
        public var transport = "zmq"
        /// HOST:PORT the UDP ingest binds (transport "udp").
        public var udp = "127.0.0.1:7000"
        /// UDP receive backend: "auto" (io_uring, else epoll, logged), "uring" or "epoll".
        public var io = "auto"
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self()
            endpoints = try c.value(.endpoints, or: d.endpoints)
            topics = try c.value(.topics, or: d.topics)
            staleAfterSeconds = try c.value(.staleAfterSeconds, or: d.staleAfterSeconds)
            transport = try c.value(.transport, or: d.transport)
            udp = try c.value(.udp, or: d.udp)
            io = try c.value(.io, or: d.io)
        }

        /// `udp` split into address and port.
        public var udpAddress: (host: String, port: UInt16)? {
            let parts = udp.split(separator: ":")
            guard parts.count == 2, let port = UInt16(parts[1]), !parts[0].isEmpty else { return nil }
            return (String(parts[0]), port)
        }
    }
    public struct Orders: Codable, Sendable, Equatable {
        /// ZeroMQ endpoint of the gateway's ROUTER socket.
        public var gateway = "tcp://127.0.0.1:5557"
        public var ackTimeoutMs = 1_000
        /// An acknowledged order unfilled this long is cancelled at the gateway (see OrderRouterConfig).
        public var workingTimeoutMs = 5_000
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self()
            gateway = try c.value(.gateway, or: d.gateway)
            ackTimeoutMs = try c.value(.ackTimeoutMs, or: d.ackTimeoutMs)
            workingTimeoutMs = try c.value(.workingTimeoutMs, or: d.workingTimeoutMs)
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

    /// ZeroMQ CURVE for the engine's two client sockets (the feed SUB and the order DEALER). The
    /// servers (`kairos feed`, `kairos gateway`) must list this engine's public key.
    public struct Security: Codable, Sendable, Equatable {
        /// The engine's own key pair, a `.key` file written by `kairos keys generate`.
        public var keyFile: String
        /// The feed publisher's public key (a `.pub` file or the key); nil = the feed is plain.
        public var feedServerKey: String?
        /// The gateway's public key (a `.pub` file or the key); nil = orders are plain.
        public var gatewayServerKey: String?
        public init(keyFile: String, feedServerKey: String? = nil, gatewayServerKey: String? = nil) {
            self.keyFile = keyFile
            self.feedServerKey = feedServerKey
            self.gatewayServerKey = gatewayServerKey
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
    /// nil = plain ZeroMQ (then only loopback endpoints are used without a warning).
    public var security: Security? = nil

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
        security = try c.decodeIfPresent(Security.self, forKey: .security)
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
        guard ["sma", "buyhold", "ensemble"].contains(policy.kind) else { throw fail("policy.kind is sma, buyhold or ensemble") }
        guard SelectionPolicyKind(rawValue: policy.meta) != nil else {
            throw fail("policy.meta is one of \(SelectionPolicyKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard MetaOutputMode(rawValue: policy.metaMode) != nil else { throw fail("policy.metaMode is blend or select") }
        guard policy.ticksPerBar >= 1, policy.warmupBars >= 0 else { throw fail("policy.ticksPerBar >= 1, warmupBars >= 0") }
        guard policy.fast >= 1, policy.slow > policy.fast, policy.barSeconds > 0 else { throw fail("bad policy windows") }
        guard ringCapacity >= 2, ringCapacity & (ringCapacity - 1) == 0 else { throw fail("ringCapacity must be a power of two") }
        guard orders.ackTimeoutMs > 0, orders.workingTimeoutMs > 0 else { throw fail("orders timeouts must be > 0") }
        guard ["zmq", "udp"].contains(feed.transport) else { throw fail("feed.transport is zmq or udp") }
        guard feed.transport == "udp" || !feed.endpoints.isEmpty else { throw fail("feed.endpoints is empty") }
        guard feed.udpAddress != nil else { throw fail("feed.udp is HOST:PORT") }
        guard IngestBackend(rawValue: feed.io) != nil else { throw fail("feed.io is auto, uring or epoll") }
        try features.validate()
    }

    /// The engine configuration this file describes.
    public var engineConfig: EngineConfig {
        var c = EngineConfig(
            instruments: instruments.enumerated().map { Instrument(id: InstrumentID($0.offset), symbol: $0.element) },
            capitalPerInstrument: capitalPerInstrument, features: features)
        // The ensemble's aggressive agent targets up to 2x the allocation.
        c.maxLeverage = policy.kind == "ensemble" ? 2 : 1
        c.risk = risk ?? .scaled(capitalPerInstrument: capitalPerInstrument, instruments: instruments.count, leverage: c.maxLeverage)
        c.staleAfterNs = Int64(feed.staleAfterSeconds * 1e9)
        return c
    }
}

extension KeyedDecodingContainer {
    /// The value for `key`, or `fallback` when the key is absent (a present but malformed value
    /// still throws).
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
