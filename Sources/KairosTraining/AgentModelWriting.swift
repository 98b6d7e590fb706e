// Writing a trained agent as a Kairos model file (safetensors with the agent metadata); reading
// it back is KairosStrategies' AgentModel.loadPolicy.
import KairosCore
import KairosIO
import KairosSim
import Foundation
import KairosStrategies

extension AgentModel {
    /// Packs a trained actor/critic and its normaliser into a safetensors file.
    public static func make(actor: DenseNetwork, critic: DenseNetwork?, normalizer: RunningObservationNormalizer,
                            normalized: Bool, config: PPOConfig?, metadata: AgentModelMetadata) -> SafeTensors {
        var st = SafeTensors()
        func add(_ prefix: String, _ net: DenseNetwork) {
            for l in 0..<net.layerCount {
                let (w, b) = net.inferenceLayer(l)
                st.tensors["\(prefix).\(l).weight"] = .init(shape: [net.layerSizes[l + 1], net.layerSizes[l]], values: w)
                st.tensors["\(prefix).\(l).bias"] = .init(shape: [net.layerSizes[l + 1]], values: b)
            }
        }
        add("actor", actor)
        if let critic { add("critic", critic) }
        let variance = normalizer.variance.map { Float($0) }
        st.tensors["obs_norm.mean"] = .init(shape: [normalizer.size], values: normalizer.meanF)
        st.tensors["obs_norm.var"] = .init(shape: [normalizer.size], values: variance)
        var m: [String: String] = [
            "format": format,
            "agent_kind": metadata.agentKind,
            "features": metadata.features.joined(separator: ","),
            "obs_norm": normalized ? "true" : "false",
            "obs_norm_mean": floatList(normalizer.meanF),
            "obs_norm_var": floatList(variance),
            "obs_norm_epsilon": "\(normalizer.epsilon)",
            "obs_norm_clip": "\(normalizer.clip)",
            "actor_layers": actor.layerSizes.map(String.init).joined(separator: ","),
            "activations": (Array(repeating: "tanh", count: actor.layerCount - 1) + ["identity"]).joined(separator: ","),
            "training_data_hash": metadata.trainingDataHash,
            "seed": String(metadata.seed),
            "version": metadata.version,
        ]
        if let critic { m["critic_layers"] = critic.layerSizes.map(String.init).joined(separator: ",") }
        if let config {
            // Sorted keys: the file must be byte-identical for the same training run.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let data = try? encoder.encode(config), let s = String(data: data, encoding: .utf8) { m["ppo_config"] = s }
        }
        for (k, v) in metadata.extra { m["x." + k] = v }
        st.metadata = m
        return st
    }

    /// A PPO trainer's current policy as a model file.
    public static func make<E>(trainer: PPOTrainer<E>, metadata: AgentModelMetadata) -> SafeTensors {
        make(actor: trainer.actor, critic: trainer.critic, normalizer: trainer.normalizer,
             normalized: trainer.config.normalizeObservations, config: trainer.config, metadata: metadata)
    }
}
