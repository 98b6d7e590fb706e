// The safetensors file format (https://github.com/huggingface/safetensors), float32 only:
// 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to 8-byte
// alignment), then the raw little-endian tensor data. Plus the Kairos agent model built on it:
// a trained actor (and critic) with its observation normalisation and provenance metadata,
// loadable into the engine's inference kernel `MLP`.
import KairosCore
import Foundation

public enum SafeTensorsError: Error, Equatable {
    /// Fewer bytes than the header length or a tensor's offsets announce.
    case truncated
    /// The header length is beyond the file or above the 100 MB limit the format sets.
    case headerTooLarge(UInt64)
    case invalidHeader(String)
    /// Only "F32" is supported.
    case unsupportedDType(String)
    /// Offsets that do not match the shape, overlap, leave holes or exceed the data.
    case badOffsets(String)
    /// A tensor whose value count does not match its shape (when building a file).
    case shapeMismatch(String)
}

/// A safetensors file in memory: named float32 tensors and a string → string metadata map.
///
/// ## Implementation Notes
/// - `serialized()` lays the tensors out in name order, contiguously from offset 0, and writes the
///   header keys in the same order after `__metadata__`; the header is padded with spaces so the
///   data starts 8-byte aligned (the format's rule). Byte order is little-endian explicitly,
///   whatever the host.
/// - The reader accepts any valid file with F32 tensors (any key order, any layout without holes
///   or overlap, as the reference implementation requires) and rejects other dtypes.
/// - Both directions are O(file size); round trips are exact (bit patterns are copied).
public struct SafeTensors: Equatable, Sendable {
    public struct Tensor: Equatable, Sendable {
        public var shape: [Int]
        /// Row-major values, `shape.reduce(1, *)` of them.
        public var values: [Float]
        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    /// The format's cap on the header size.
    public static let maxHeaderBytes: UInt64 = 100_000_000

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// JSON string literal with the escapes JSON requires.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// The file's bytes.
    public func serialized() throws(SafeTensorsError) -> [UInt8] {
        let names = tensors.keys.sorted()
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(Self.jsonString($0)):\(Self.jsonString(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(m.joined(separator: ","))}")
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            guard t.shape.allSatisfy({ $0 >= 0 }), t.shape.reduce(1, *) == t.values.count else {
                throw .shapeMismatch(name)
            }
            let end = offset + 4 * t.values.count
            let shape = t.shape.map(String.init).joined(separator: ",")
            parts.append("\(Self.jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array("{\(parts.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }  // 8 + N is then a multiple of 8
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for name in names {
            for v in tensors[name]!.values {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Parses a file's bytes.
    public init(bytes: [UInt8]) throws(SafeTensorsError) {
        guard bytes.count >= 8 else { throw .truncated }
        var n: UInt64 = 0
        for k in 0..<8 { n |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        guard n <= Self.maxHeaderBytes else { throw .headerTooLarge(n) }
        guard n <= UInt64(bytes.count - 8) else { throw .truncated }
        let headerEnd = 8 + Int(n)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]), options: [])
        } catch {
            throw .invalidHeader("not JSON: \(error)")
        }
        guard let top = json as? [String: Any] else { throw .invalidHeader("header is not a JSON object") }
        let dataCount = bytes.count - headerEnd
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        var ranges: [(Int, Int, String)] = []
        func ints(_ v: Any?) -> [Int]? {
            guard let a = v as? [Any] else { return nil }
            var r: [Int] = []
            for x in a {
                if let i = x as? Int { r.append(i) } else if let num = x as? NSNumber { r.append(num.intValue) } else { return nil }
            }
            return r
        }
        for (key, value) in top {
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else { throw .invalidHeader("__metadata__ is not an object") }
                for (mk, mv) in m {
                    guard let s = mv as? String else { throw .invalidHeader("metadata \(mk) is not a string") }
                    metadata[mk] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = ints(info["shape"]), let offs = ints(info["data_offsets"]), offs.count == 2
            else { throw .invalidHeader("tensor \(key) lacks dtype/shape/data_offsets") }
            guard dtype == "F32" else { throw .unsupportedDType(dtype) }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw .invalidHeader("tensor \(key) has a negative dimension") }
            let count = shape.reduce(1, *)
            let (begin, end) = (offs[0], offs[1])
            guard begin >= 0, end >= begin, end - begin == 4 * count else {
                throw .badOffsets("\(key): [\(begin), \(end)) for \(count) floats")
            }
            guard end <= dataCount else { throw .truncated }
            var values = [Float](repeating: 0, count: count)
            for k in 0..<count {
                let p = headerEnd + begin + 4 * k
                let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
                values[k] = Float(bitPattern: bits)
            }
            tensors[key] = Tensor(shape: shape, values: values)
            ranges.append((begin, end, key))
        }
        // The data must be covered exactly: no overlap, no hole, nothing trailing.
        ranges.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        var cursor = 0
        for (b, e, name) in ranges {
            guard b == cursor else { throw .badOffsets("\(name) starts at \(b), expected \(cursor)") }
            cursor = e
        }
        guard cursor == dataCount else { throw .badOffsets("data has \(dataCount) bytes, tensors cover \(cursor)") }
        self.tensors = tensors
        self.metadata = metadata
    }

    public func write(to url: URL) throws {
        try Data(try serialized()).write(to: url, options: .atomic)
    }

    public init(contentsOf url: URL) throws {
        try self.init(bytes: [UInt8](try Data(contentsOf: url)))
    }
}

// MARK: - Agent models

/// What a Kairos agent model file records besides its weights (safetensors `__metadata__`).
public struct AgentModelMetadata: Sendable, Equatable {
    /// e.g. "cartpole", "conservative", "aggressive", "balanced", "contrarian".
    public var agentKind: String
    /// Names of the observation's components, in order (e.g. `Feature.description`s, "position").
    public var features: [String]
    /// Fingerprint of the training data (`AgentModel.dataHash`), or a name for simulated data.
    public var trainingDataHash: String
    public var seed: UInt64
    /// Kairos version that wrote the file.
    public var version: String
    /// Further key → value pairs (stored with an "x." prefix).
    public var extra: [String: String]

    public init(agentKind: String, features: [String], trainingDataHash: String, seed: UInt64,
                version: String = AgentModel.kairosVersion, extra: [String: String] = [:]) {
        self.agentKind = agentKind
        self.features = features
        self.trainingDataHash = trainingDataHash
        self.seed = seed
        self.version = version
        self.extra = extra
    }
}

/// The Kairos agent model layout on top of safetensors.
///
/// Tensors (PyTorch's `nn.Linear` convention, so the file also opens in Python tooling):
/// `actor.<l>.weight` `[out, in]`, `actor.<l>.bias` `[out]`, the same for `critic.<l>`, and
/// `obs_norm.mean` / `obs_norm.var` `[observationSize]`. Metadata keys: `format`
/// (`kairos-agent/1`), `agent_kind`, `features` (comma-separated), `obs_norm` (`true`/`false`),
/// `obs_norm_mean` / `obs_norm_var` (JSON arrays of the same floats as the tensors),
/// `obs_norm_epsilon`, `obs_norm_clip`, `actor_layers` / `critic_layers` (comma-separated
/// sizes), `activations` (hidden `tanh`, output `identity`), `training_data_hash`, `seed`,
/// `version`, `ppo_config` (the `PPOConfig` as JSON), and `x.*` extras.
public enum AgentModel {
    public static let format = "kairos-agent/1"
    public static let kairosVersion = "0.1.0"

    public enum LoadError: Error, Equatable {
        case notAnAgentModel(String)
        case missingTensor(String)
        case badMetadata(String)
    }

    /// FNV-1a 64-bit fingerprint of training data, as "fnv1a64:<16 hex digits>". Identifies a
    /// data file; not a cryptographic hash.
    public static func dataHash(_ bytes: some Sequence<UInt8>) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    static package func floatList(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ",") + "]" }

    /// A PPO trainer's current policy as a model file.

    /// Reads the metadata back.
    public static func metadata(of st: SafeTensors) throws(LoadError) -> AgentModelMetadata {
        guard st.metadata["format"] == format else { throw .notAnAgentModel(st.metadata["format"] ?? "no format key") }
        guard let kind = st.metadata["agent_kind"], let seedText = st.metadata["seed"], let seed = UInt64(seedText),
            let hash = st.metadata["training_data_hash"], let version = st.metadata["version"]
        else { throw .badMetadata("agent_kind/seed/training_data_hash/version") }
        let feats = st.metadata["features"].map { $0.isEmpty ? [] : $0.split(separator: ",").map(String.init) } ?? []
        var extra: [String: String] = [:]
        for (k, v) in st.metadata where k.hasPrefix("x.") { extra[String(k.dropFirst(2))] = v }
        return AgentModelMetadata(agentKind: kind, features: feats, trainingDataHash: hash, seed: seed, version: version,
                                  extra: extra)
    }

    /// Loads the actor into the engine's inference kernel.
    public static func loadPolicy(_ st: SafeTensors, path: MLP.Path = .auto) throws -> AgentPolicy {
        let meta = try metadata(of: st)
        guard let layersText = st.metadata["actor_layers"] else { throw LoadError.badMetadata("actor_layers") }
        let sizes = layersText.split(separator: ",").compactMap { Int($0) }
        guard sizes.count >= 2 else { throw LoadError.badMetadata("actor_layers \(layersText)") }
        let acts = Array(repeating: MLP.Activation.tanh, count: sizes.count - 2) + [.identity]
        let mlp = try MLP(layerSizes: sizes, activations: acts)
        for l in 0..<(sizes.count - 1) {
            guard let w = st.tensors["actor.\(l).weight"], let b = st.tensors["actor.\(l).bias"] else {
                throw LoadError.missingTensor("actor.\(l)")
            }
            guard w.shape == [sizes[l + 1], sizes[l]], b.shape == [sizes[l + 1]] else {
                throw LoadError.badMetadata("actor.\(l) shape \(w.shape) vs layers \(layersText)")
            }
            try mlp.setLayer(l, weights: w.values, bias: b.values)
        }
        try mlp.setPath(path)
        var normalizer: RunningObservationNormalizer? = nil
        if st.metadata["obs_norm"] == "true" {
            guard let mean = st.tensors["obs_norm.mean"], let variance = st.tensors["obs_norm.var"],
                mean.values.count == sizes[0], variance.values.count == sizes[0],
                let eps = st.metadata["obs_norm_epsilon"].flatMap(Float.init),
                let clip = st.metadata["obs_norm_clip"].flatMap(Float.init)
            else { throw LoadError.badMetadata("observation normalisation") }
            normalizer = RunningObservationNormalizer(mean: mean.values, variance: variance.values, epsilon: eps, clip: clip)
        }
        return AgentPolicy(mlp: mlp, normalizer: normalizer, metadata: meta)
    }

    public static func loadPolicy(contentsOf url: URL, path: MLP.Path = .auto) throws -> AgentPolicy {
        try loadPolicy(SafeTensors(contentsOf: url), path: path)
    }
}

/// A loaded agent: observation normalisation followed by the actor on the inference `MLP`.
///
/// ## Implementation Notes
/// - `act(_:)` normalises into a scratch buffer allocated at `init` and runs `MLP.forward`: no
///   allocation, O(network size), so it may sit on the per-tick path.
/// - Normalisation uses the same Float mean and 1/sqrt(var + ε) as training (restored bit for
///   bit from the file), so the MLP sees exactly the inputs the training forward pass saw.
/// - Not `Sendable` (the MLP and scratch are written by `act`): one thread per instance.
public final class AgentPolicy {
    public let mlp: MLP
    public let normalizer: RunningObservationNormalizer?
    public let metadata: AgentModelMetadata
    private let scratch: UnsafeMutablePointer<Float>
    private let logitBuf: UnsafeMutablePointer<Float>

    init(mlp: MLP, normalizer: RunningObservationNormalizer?, metadata: AgentModelMetadata) {
        self.mlp = mlp
        self.normalizer = normalizer
        self.metadata = metadata
        scratch = .allocate(capacity: mlp.inputSize)
        scratch.initialize(repeating: 0, count: mlp.inputSize)
        logitBuf = .allocate(capacity: mlp.outputSize)
        logitBuf.initialize(repeating: 0, count: mlp.outputSize)
    }

    deinit {
        scratch.deallocate()
        logitBuf.deallocate()
    }

    public var observationSize: Int { mlp.inputSize }
    public var actionCount: Int { mlp.outputSize }

    /// Writes the normalised observation (what the network sees) into `out`.
    public func normalize(_ observation: UnsafeBufferPointer<Float>, into out: UnsafeMutablePointer<Float>) {
        precondition(observation.count == mlp.inputSize)
        if let normalizer {
            normalizer.normalize(observation.baseAddress!, into: out, rows: 1)
        } else {
            out.update(from: observation.baseAddress!, count: mlp.inputSize)
        }
    }

    /// The action logits for a raw observation (written to `out`, `actionCount` floats).
    public func logits(_ observation: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>) {
        normalize(observation, into: scratch)
        mlp.forward(UnsafeBufferPointer(start: scratch, count: mlp.inputSize), into: out)
    }

    /// The greedy action (argmax of the logits; the lowest index on ties).
    public func act(_ observation: UnsafeBufferPointer<Float>) -> Int {
        logits(observation, into: UnsafeMutableBufferPointer(start: logitBuf, count: mlp.outputSize))
        var best = 0
        for j in 1..<mlp.outputSize where logitBuf[j] > logitBuf[best] { best = j }
        return best
    }
}
