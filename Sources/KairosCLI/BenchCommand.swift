import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosTraining
import KairosApp
import KairosTesting
import ArgumentParser
import Foundation
import Logging

/// `kairos bench`: measurements that need the live processes and real sockets, which
/// package-benchmark's single-process micro-benchmarks cannot express. Figures go to
/// docs/benchmarks.md with the command line that produced them.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Live-path measurements: wire-to-wire latency, and the engine's decision time with Redis up, slow and down.",
        subcommands: [WireBench.self, RedisBench.self])
}

struct WireBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire",
        abstract: "Publisher → kairos run → paper gateway over ZeroMQ on loopback TCP: wire-to-wire latency per order.",
        discussion: """
            One process, the three parts on their own threads as `kairos feed`, `kairos run` and \
            `kairos gateway` run them. Every order that reaches the gateway is matched (by the \
            triggering tick's sequence number) with the time the publisher stamped into that tick.
            """)

    @Option(parsing: .upToNextOption, help: "Publishing rates in ticks/s.") var rates: [Double] = [10_000, 100_000]
    @Option(help: "Seconds of ticks per rate.") var seconds: Double = 5
    @Option(help: "Instruments.") var instruments = 4
    @Option(help: "Bar length of the engine's SMA policy, seconds of exchange time (small = many orders).")
    var barSeconds: Double = 0.005

    func run() async throws {
        var logger = Logger(label: "kairos.bench")
        logger.logLevel = .warning
        print("wire to wire: \(SystemInfo.machine)")
        for r in rates {
            let ticks = max(1_000, Int(r * seconds))
            let res = try await WireBenchmark.run(
                rate: r, ticks: ticks, instruments: instruments, barSeconds: barSeconds, logger: logger)
            print(res.table)
        }
    }
}

struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "The engine's decision time with no cache, Redis up, Redis slow (DEBUG SLEEP loop) and Redis down.",
        discussion: "Starts its own redis-server on a free loopback port (needs redis-server installed).")

    @Option(help: "Publishing rate in ticks/s.") var rate: Double = 100_000
    @Option(help: "Seconds of ticks per phase.") var seconds: Double = 5
    @Option(help: "Instruments.") var instruments = 8

    func run() async throws {
        guard RedisServerProcess.isAvailable else { throw ValidationError("redis-server is not installed") }
        var logger = Logger(label: "kairos.bench")
        logger.logLevel = .error
        let server = try RedisServerProcess()
        defer { server.stop() }
        var redis = KairosConfig.Redis()
        redis.port = Int(server.port)
        redis.flushIntervalMs = 10
        let ticks = max(1_000, Int(rate * seconds))
        print("engine decision time vs Redis, \(Fmt.int(ticks)) ticks at \(Fmt.int(Int(rate)))/s: \(SystemInfo.machine)")

        func phase(_ name: String, _ r: KairosConfig.Redis?) async throws {
            let res = try await WireBenchmark.run(rate: rate, ticks: ticks, instruments: instruments, redis: r, logger: logger)
            let d = res.engineDecision
            let cache = res.redis.map { "written \(Fmt.int(Int($0.written))) dropped \(Fmt.int(Int($0.dropped))) reconnects \($0.connects)" } ?? "-"
            print("  \(name.padding(toLength: 6, withPad: " ", startingAt: 0)) decision p50 \(Fmt.ns(d.p50))  p99 \(Fmt.ns(d.p99))  p99.9 \(Fmt.ns(d.p999))  (n \(d.count))  wire-to-wire p99 \(Fmt.ns(res.wireToWire.p99))  cache: \(cache)")
        }
        try await phase("none", nil)
        try await phase("up", redis)
        // Slow: another client keeps the single-threaded server busy in DEBUG SLEEP 50 ms after
        // DEBUG SLEEP, so the writer's pipelines wait and time out.
        let slowing = StopFlag()
        let port = server.port
        let slower = WorkerThread(name: "redis-slower") {
            let c = RedisConnection(port: port, connectTimeoutMs: 500, commandTimeoutMs: 2_000)
            guard (try? c.connect()) != nil else { return }
            while !slowing.isSet { _ = try? c.command(["DEBUG", "SLEEP", "0.05"]) }
        }
        slower.start()
        try await phase("slow", redis)
        slowing.set()
        slower.join()
        server.stop()
        try await phase("down", redis)
    }
}
