import Foundation
import Testing

@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite("SafeTensors")
struct SafeTensorsTests {
    @Test("Byte layout: LE u64 header length, space-padded JSON to 8-byte alignment, raw LE floats")
    func layout() throws {
        let st = SafeTensors(tensors: ["b": .init(shape: [2], values: [1, -2]), "a": .init(shape: [1, 1], values: [0.5])],
                             metadata: ["k": "v\"q"])
        let bytes = try st.serialized()
        var n = 0
        for k in 0..<8 { n |= Int(bytes[k]) << (8 * k) }
        #expect((8 + n) % 8 == 0)
        #expect(bytes.count == 8 + n + 12)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        #expect(header.hasPrefix("{\"__metadata__\":{\"k\":\"v\\\"q\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"))
        #expect(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
        // 0.5 = 0x3F000000, 1 = 0x3F800000, -2 = 0xC0000000, little-endian.
        #expect(Array(bytes[(8 + n)...]) == [0, 0, 0, 0x3F, 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0])
    }

    @Test("Round trip through a file is exact, including NaN payloads, infinities and -0")
    func roundTrip() throws {
        var rng = Xoshiro256StarStar(seed: 5)
        var values = (0..<1000).map { _ in Float(rng.nextGaussian()) }
        values += [.infinity, -.infinity, -0.0, Float(bitPattern: 0x7FC0_1234), .leastNonzeroMagnitude]
        let st = SafeTensors(
            tensors: ["w": .init(shape: [5, 201], values: values), "empty": .init(shape: [0], values: []),
                      "s": .init(shape: [], values: [3])],
            metadata: ["agent_kind": "test", "unicode": "é ✓", "json": "[1,2]"])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-st-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try st.write(to: url)
        let back = try SafeTensors(contentsOf: url)
        #expect(back.metadata == st.metadata)
        #expect(back.tensors.keys.sorted() == ["empty", "s", "w"])
        #expect(back.tensors["w"]!.shape == [5, 201])
        #expect(back.tensors["w"]!.values.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(back.tensors["s"]!.shape == [] && back.tensors["s"]!.values == [3])
        #expect(try back.serialized() == st.serialized())
    }

    @Test("A file written by the reference implementation's layout (other key order, no metadata) reads")
    func foreignOrder() throws {
        // {"y": offsets [0,4), "x": offsets [4,12)} — data order differs from name order.
        var header = Array("{\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header
        for v: Float in [7, 8, 9] { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        let st = try SafeTensors(bytes: bytes)
        #expect(st.tensors["y"]!.values == [7])
        #expect(st.tensors["x"]!.values == [8, 9])
        #expect(st.metadata.isEmpty)
    }

    @Test("Malformed files are rejected")
    func rejects() throws {
        let good = try SafeTensors(tensors: ["a": .init(shape: [2], values: [1, 2])]).serialized()
        #expect(throws: SafeTensorsError.truncated) { try SafeTensors(bytes: Array(good.prefix(7))) }
        #expect(throws: SafeTensorsError.truncated) { try SafeTensors(bytes: Array(good.dropLast(1))) }
        #expect(throws: (any Error).self) { try SafeTensors(bytes: good + [0, 0, 0, 0]) }  // trailing bytes
        var bad = good
        let f32 = Array("F32".utf8)
        let at = try #require((0..<(bad.count - 2)).first { Array(bad[$0..<($0 + 3)]) == f32 })
        bad[at] = UInt8(ascii: "I")  // "I32"
        #expect(throws: SafeTensorsError.unsupportedDType("I32")) { try SafeTensors(bytes: bad) }
        #expect(throws: SafeTensorsError.shapeMismatch("a")) {
            try SafeTensors(tensors: ["a": .init(shape: [3], values: [1, 2])]).serialized()
        }
    }

    /// A CartPole policy after a little training (normalised observations), saved and reloaded.
    private func trainedModel() throws -> (PPOTrainer<CartPoleVectorEnvironment>, SafeTensors, AgentPolicy) {
        var config = PPOConfig()
        config.epochs = 4
        let trainer = PPOTrainer(environment: CartPoleVectorEnvironment(count: config.numEnvironments), config: config, seed: 9)
        trainer.train(totalSteps: 4096)
        let meta = AgentModelMetadata(agentKind: "cartpole", features: ["x", "x_dot", "theta", "theta_dot"],
                                      trainingDataHash: AgentModel.dataHash(Array("cartpole-v1".utf8)), seed: 9,
                                      extra: ["note": "test"])
        let st = AgentModel.make(trainer: trainer, metadata: meta)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-agent-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try st.write(to: url)
        let back = try SafeTensors(contentsOf: url)
        #expect(back == st)
        return (trainer, back, try AgentModel.loadPolicy(back))
    }

    @Test("Agent model: metadata survives; the MLP on normalised observations matches the training forward pass")
    func agentModelInference() throws {
        let (trainer, st, policy) = try trainedModel()
        #expect(policy.metadata.agentKind == "cartpole")
        #expect(policy.metadata.features == ["x", "x_dot", "theta", "theta_dot"])
        #expect(policy.metadata.seed == 9)
        #expect(policy.metadata.extra == ["note": "test"])
        #expect(policy.metadata.trainingDataHash.hasPrefix("fnv1a64:"))
        #expect(st.metadata["obs_norm"] == "true")
        let cfg = try JSONDecoder().decode(PPOConfig.self, from: Data(st.metadata["ppo_config"]!.utf8))
        #expect(cfg == trainer.config)
        // Statistics the trainer really learned (not the initial 0 / 1).
        #expect(policy.normalizer!.meanF == trainer.normalizer.meanF)
        #expect(policy.normalizer!.invStdF == trainer.normalizer.invStdF)
        #expect(trainer.normalizer.invStdF.contains { abs($0 - 1) > 0.1 })

        var env = CartPoleVectorEnvironment(count: 1)
        var buf = VectorStepBuffers(count: 1, observationSize: 4)
        env.reset(seed: 77, into: &buf)
        var rng = Xoshiro256StarStar(seed: 1)
        var maxErr: Float = 0
        var disagreements = 0
        var x = [Float](repeating: 0, count: 4)
        var out = [Float](repeating: 0, count: 2)
        for _ in 0..<500 {
            let obs = buf.observations
            obs.withUnsafeBufferPointer { o in
                x.withUnsafeMutableBufferPointer { policy.normalize(o, into: $0.baseAddress!) }
                out.withUnsafeMutableBufferPointer { policy.logits(o, into: $0) }
            }
            var tn = [Float](repeating: 0, count: 4)
            obs.withUnsafeBufferPointer { o in
                tn.withUnsafeMutableBufferPointer { trainer.normalizer.normalize(o.baseAddress!, into: $0.baseAddress!, rows: 1) }
            }
            #expect(tn == x)  // identical normalisation
            let ref = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: trainer.actor.forward($0.baseAddress!, count: 1), count: 2)) }
            for j in 0..<2 { maxErr = max(maxErr, abs(ref[j] - out[j])) }
            let a = obs.withUnsafeBufferPointer { policy.act($0) }
            if a != trainer.greedyAction(obs) { disagreements += 1 }
            // Explore with a random action so states vary.
            env.step(actions: [rng.nextDouble() < 0.5 ? 0 : 1], into: &buf)
        }
        print("max |logit(MLP) - logit(training)| =", maxErr)
        #expect(maxErr < 1e-4)
        #expect(disagreements == 0)
    }

    @Test("Agent model files are byte-reproducible: same seed and steps, same bytes (sorted JSON keys)")
    func reproducible() throws {
        func bytes() throws -> [UInt8] {
            var config = PPOConfig()
            config.epochs = 2
            let t = PPOTrainer(environment: CartPoleVectorEnvironment(count: config.numEnvironments), config: config, seed: 5)
            t.train(totalSteps: 1024)
            let meta = AgentModelMetadata(agentKind: "cartpole", features: [], trainingDataHash: "none", seed: 5)
            let st = AgentModel.make(trainer: t, metadata: meta)
            #expect(st.metadata["ppo_config"]!.hasPrefix("{\"adamEpsilon\":"))
            return try st.serialized()
        }
        #expect(try bytes() == bytes())
    }

    @Test("Loading rejects a file that is not an agent model or misses a tensor")
    func agentModelRejects() throws {
        let (_, st, _) = try trainedModel()
        var noFormat = st
        noFormat.metadata["format"] = nil
        #expect(throws: AgentModel.LoadError.self) { try AgentModel.loadPolicy(noFormat) }
        var missing = st
        missing.tensors["actor.1.weight"] = nil
        #expect(throws: AgentModel.LoadError.missingTensor("actor.1")) { try AgentModel.loadPolicy(missing) }
    }
}
