import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser

@main
struct KairosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kairos",
        abstract: "A low-latency, regime-aware multi-agent trading engine.",
        discussion: """
            Ticks flow through a lock-free ring into one engine thread that computes features, \
            asks a decision policy for a target position, checks every order with the risk \
            manager and routes the approved ones to a gateway.

            Start with `kairos demo`: a synthetic multi-instrument market through the whole \
            engine, in process, with a live view. No network, data files or services needed.
            """,
        version: "0.1.0",
        subcommands: [DemoCommand.self, RunCommand.self, FeedCommand.self, GatewayCommand.self, BacktestCommand.self, RegimesCommand.self, KeysCommand.self, BenchCommand.self, TrainCommand.self, MetaCommand.self, EnsembleCommand.self, AgentsCommand.self, VersionCommand.self]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version, linked libraries and CPU features.")
    func run() throws {
        print("kairos 0.1.0")
        print("libraries: \(SystemInfo.libraryVersions)")
        print("cpu: \(SystemInfo.hasAVX2 ? "AVX2+FMA kernels" : "portable kernels (no AVX2+FMA)")")
    }
}
