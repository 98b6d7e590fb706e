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
///       "policy": { "kind": "ensemble", "models": "models", "meta": "hedge" },
///       "feed": { "endpoints": ["tcp://127.0.0.1:5556"] },
///       "orders": { "gateway": "tcp://127.0.0.1:5557", "ackTimeoutMs": 1000 },
///       "redis": { "host": "127.0.0.1", "port": 6379, "ttlSeconds": 60 },
///       "security": { "keyFile": "keys/engine.key", "feedServerKey": "keys/feed.pub",
///                     "gatewayServerKey": "keys/gateway.pub" }
///     }
public struct KairosConfig: Codable, Sendable, Equatable {
    /// The policies a configuration can name.
    public enum PolicyKind: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
        /// The four RL agents and the meta-agent per regime (`models`, `regimeModel`, `meta`,
        /// `ticksPerBar`): the main policy.
        case ensemble
        /// SMA(fast/slow) crossover on bars of `barSeconds` (a baseline).
        case sma
        /// Buy and hold (a baseline).
        case buyhold
        public var description: String { rawValue }
    }

    /// Where `kairos run` gets its ticks.
    public enum FeedTransport: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
        /// A ZeroMQ SUB connected to `endpoints`.
        case zmq
        /// Raw wire ticks, one per datagram, on `udp` (io_uring or epoll: `io`).
        case udp
        /// A file of wire ticks recorded with `FileReplay.write` (`file`), replayed once as fast as
        /// the ring takes them (io_uring or plain reads: `io`).
        case file
        public var description: String { rawValue }
    }

    public struct Policy: Codable, Sendable, Equatable {
        /// The policy; nil (absent from the file) = the ensemble when its models are present in
        /// `models`, else SMA(10/30), said in the log and the status line.
        public var kind: PolicyKind? = nil
        public var fast = 10
        public var slow = 30
        public var allowShort = false
        /// SMA: bar length in seconds of exchange time; 0 = every tick is a bar (data with one
        /// tick per bar, e.g. daily closes).
        public var barSeconds = 1.0
        /// Ensemble: directory of `<kind>.safetensors` agent models.
        public var models = "models"
        /// Ensemble: the regime model (`kairos regimes fit` JSON); default `<models>/regime-hmm.json`.
        public var regimeModel: String? = nil
        /// Ensemble: the meta-agent's selection rule (`kairos meta simulate --policy` names).
        public var meta = SelectionPolicyKind.hedge
        /// Ensemble: blend (weights over the agents' targets) or select (the lead agent's target).
        public var metaMode = MetaOutputMode.blend
        /// Ensemble: only these agents (nil = every `<kind>.safetensors` in `models`).
        public var agents: [AgentKind]? = nil
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
            kind = try c.choice(.kind)
            fast = try c.value(.fast, or: d.fast)
            slow = try c.value(.slow, or: d.slow)
            allowShort = try c.value(.allowShort, or: d.allowShort)
            barSeconds = try c.value(.barSeconds, or: d.barSeconds)
            models = try c.value(.models, or: d.models)
            regimeModel = try c.decodeIfPresent(String.self, forKey: .regimeModel)
            meta = try c.choice(.meta, or: d.meta)
            metaMode = try c.choice(.metaMode, or: d.metaMode)
            ticksPerBar = try c.value(.ticksPerBar, or: d.ticksPerBar)
            warmupBars = try c.value(.warmupBars, or: d.warmupBars)
            explainLog = try c.decodeIfPresent(String.self, forKey: .explainLog)
            explainEvery = try c.value(.explainEvery, or: d.explainEvery)
            metaState = try c.decodeIfPresent(String.self, forKey: .metaState)
            agents = try c.decodeIfPresent([String].self, forKey: .agents).map { names in
                try names.map { n in
                    guard let k = AgentKind(rawValue: n) else {
                        throw ConfigError(message: "policy.agents lists '\(n)', not one of \(AgentKind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return k
                }
            }
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
        public var transport = FeedTransport.zmq
        /// HOST:PORT the UDP ingest binds (transport udp).
        public var udp = "127.0.0.1:7000"
        /// The file of wire ticks (transport file).
        public var file: String? = nil
        /// Receive backend of the udp and file transports: auto (io_uring, else epoll / plain
        /// reads, logged), uring or epoll.
        public var io = IngestBackend.auto
        public init() {}
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self()
            endpoints = try c.value(.endpoints, or: d.endpoints)
            topics = try c.value(.topics, or: d.topics)
            staleAfterSeconds = try c.value(.staleAfterSeconds, or: d.staleAfterSeconds)
            transport = try c.choice(.transport, or: d.transport)
            udp = try c.value(.udp, or: d.udp)
            io = try c.choice(.io, or: d.io)
            file = try c.decodeIfPresent(String.self, forKey: .file)
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
    /// Whether `risk` came with its own `maxExposure`; when not, the builder sets the policy's
    /// (the ensemble asks up to its agents' largest target, 2).
    public var riskSetsMaxExposure = false

    enum CodingKeys: String, CodingKey {
        case instruments, capitalPerInstrument, risk, features, policy, feed, orders, redis, ringCapacity, security
    }
    private enum RiskKeys: String, CodingKey { case maxExposure }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = KairosConfig()
        instruments = try c.value(.instruments, or: d.instruments)
        capitalPerInstrument = try c.value(.capitalPerInstrument, or: d.capitalPerInstrument)
        risk = try c.decodeIfPresent(RiskLimits.self, forKey: .risk)
        if risk != nil { riskSetsMaxExposure = try c.nestedContainer(keyedBy: RiskKeys.self, forKey: .risk).contains(.maxExposure) }
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
        guard policy.ticksPerBar >= 1, policy.warmupBars >= 0 else { throw fail("policy.ticksPerBar >= 1, warmupBars >= 0") }
        guard policy.fast >= 1, policy.slow > policy.fast, policy.barSeconds >= 0, policy.barSeconds.isFinite else {
            throw fail("policy windows: fast >= 1, slow > fast, barSeconds >= 0 (0 = every tick is a bar)")
        }
        guard ringCapacity >= 2, ringCapacity & (ringCapacity - 1) == 0 else { throw fail("ringCapacity must be a power of two") }
        guard orders.ackTimeoutMs > 0, orders.workingTimeoutMs > 0 else { throw fail("orders timeouts must be > 0") }
        guard feed.transport != .zmq || !feed.endpoints.isEmpty else { throw fail("feed.endpoints is empty") }
        guard feed.transport != .udp || feed.udpAddress != nil else { throw fail("feed.udp is HOST:PORT") }
        guard feed.transport != .file || feed.file != nil else { throw fail("feed.transport file needs feed.file") }
        try features.validate()
    }

    /// The instruments, ids 0..<n in file order.
    public var instrumentList: [Instrument] {
        instruments.enumerated().map { Instrument(id: InstrumentID($0.offset), symbol: $0.element) }
    }
}

extension KeyedDecodingContainer {
    /// The value for `key`, or `fallback` when the key is absent (a present but malformed value
    /// still throws).
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }

    /// A named choice (`"kind": "ensemble"`): the value for `key`, `fallback` when absent, and a
    /// `ConfigError` listing the valid names for any other string.
    func choice<T: RawRepresentable & CaseIterable>(_ key: Key, or fallback: T) throws -> T where T.RawValue == String {
        try choice(key) ?? fallback
    }

    /// `choice` for an optional key: nil when absent (or null).
    func choice<T: RawRepresentable & CaseIterable>(_ key: Key) throws -> T? where T.RawValue == String {
        guard let raw = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let v = T(rawValue: raw) else {
            throw ConfigError(message: "\(key.stringValue) is one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), not '\(raw)'")
        }
        return v
    }
}
