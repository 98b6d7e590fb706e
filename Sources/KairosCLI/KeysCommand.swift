import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage ZeroMQ CURVE keys for the feed and order sockets.",
        subcommands: [Generate.self, Show.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a CURVE key pair.",
            discussion: """
                Writes <dir>/<name>.key (public and secret key, mode 0600: keep it private) and \
                <dir>/<name>.pub (the public key: give it to peers). A server lists the .pub files \
                of the clients it admits; a client needs the server's .pub.

                Example:
                  kairos keys generate --name gateway --dir keys
                  kairos keys generate --name engine --dir keys
                """)
        @Option(help: "Key name (file stem).") var name: String
        @Option(help: "Directory to write into.") var dir = "keys"
        func run() throws {
            let pair = try CurveKeyPair.generate()
            try pair.save(name: name, directory: dir)
            print("wrote \(dir)/\(name).key (secret, 0600) and \(dir)/\(name).pub")
            print("public key: \(pair.publicKey)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the public key of a .key file.")
        @Argument(help: "A .key file written by `kairos keys generate`.") var keyFile: String
        func run() throws { print(try CurveKeyPair.load(keyFile: keyFile).publicKey) }
    }
}
