import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser

/// CURVE options of the processes that BIND ZeroMQ sockets (`kairos feed`, `kairos gateway`): with
/// a key pair and a client allowlist their sockets are CURVE servers and a ZAP handler admits only
/// the listed client public keys; without them the sockets are plain and bind loopback only
/// unless explicitly allowed.
struct CurveServerOptions: ParsableArguments {
    @Option(help: "This process's CURVE key pair (a .key file from `kairos keys generate`); enables CURVE.")
    var curveKey: String?
    @Option(name: .customLong("allow-client"),
            help: "A client public key (.pub file or Z85 key) the ZAP handler admits. Repeatable; needs --curve-key.")
    var allowClients: [String] = []

    var enabled: Bool { curveKey != nil }

    func validate() throws {
        if curveKey != nil && allowClients.isEmpty {
            throw ValidationError("--curve-key needs at least one --allow-client (the ZAP handler admits only listed keys)")
        }
        if curveKey == nil && !allowClients.isEmpty { throw ValidationError("--allow-client needs --curve-key") }
    }

    /// Loads the key pair and starts the ZAP allowlist (keep it alive as long as the sockets).
    func start() throws -> (keys: CurveKeyPair, zap: ZAPAllowlist)? {
        guard let path = curveKey else { return nil }
        let keys = try CurveKeyPair.load(keyFile: path)
        let allowed = try allowClients.map { try CurveKeyPair.publicKey(fileOrKey: $0) }
        return (keys, try ZAPAllowlist(allowedPublicKeys: allowed))
    }
}
