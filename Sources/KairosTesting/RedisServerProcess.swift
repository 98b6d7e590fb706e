// A redis-server child process (tests and benchmarks), see RedisServerProcess.
import KairosCore
import KairosStrategies
import KairosIO
import KairosSim
import KairosApp
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A redis-server child process on a free loopback port, owned by one test, so the test can stop
/// and restart it without touching any other Redis (CI's own server on 6379 included). Used by the
/// tests and by `kairos bench redis` (which slows and kills it).
public final class RedisServerProcess {
    public static let executable: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    public static var isAvailable: Bool { executable != nil }

    public let port: UInt16
    private var process: Process?

    public init() throws {
        port = try Self.freeLoopbackPort()
        try start()
    }

    deinit { stop() }

    /// Starts the server (no persistence, DEBUG allowed for the slow-server test) and waits until it
    /// answers PING.
    public func start() throws {
        precondition(process == nil, "already running")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.executable!)
        p.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--enable-debug-command", "yes", "--loglevel", "warning", "--dir", NSTemporaryDirectory(),
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let client = RedisConnection(port: port, connectTimeoutMs: 200, commandTimeoutMs: 500)
        let deadline = MonotonicClock.nanoseconds() + 20_000_000_000
        while MonotonicClock.nanoseconds() < deadline {
            if (try? client.connect()) != nil, (try? client.command(["PING"])) == .status("PONG") { return }
            sleepMicroseconds(20_000)
        }
        stop()
        throw RedisError.connect
    }

    /// Kills the server (SIGKILL) and waits for the exit. Data is lost (no persistence). Not SIGTERM:
    /// a child spawned from a libdispatch worker thread inherits its mask, in which SIGTERM is
    /// blocked, so redis-server would never see it.
    public func stop() {
        guard let p = process else { return }
        process = nil
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// A port the kernel just handed out for loopback (bound and released; tiny reuse race).
    public static func freeLoopbackPort() throws -> UInt16 {
        let fd = try syscall("socket for a free loopback port") { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &addr) { a in
            try a.withMemoryRebound(to: sockaddr.self, capacity: 1) { s in
                try syscall("bind 127.0.0.1:0") { bind(fd, s, len) }
                try syscall("getsockname") { getsockname(fd, s, &len) }
            }
        }
        return UInt16(bigEndian: addr.sin_port)
    }
}

