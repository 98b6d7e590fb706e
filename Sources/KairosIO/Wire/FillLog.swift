// The gateway's append-only record of every fill: the source of truth a crash-recovery check
// reconciles the engine's positions against. Format and fsync policy: docs/gateway.md.
#if canImport(Glibc)
import KairosCore
import Glibc
#endif

/// One fill as written to the log.
public struct FillRecord: Sendable, Equatable {
    /// Gateway wall-clock time of the fill, ns since the Unix epoch.
    public var gatewayTimeNs: Int64
    public var clientOrderID: UInt64
    public var instrument: UInt16
    public var side: Side
    public var quantity: Double
    public var price: Double
    public var fee: Double
    public init(gatewayTimeNs: Int64, clientOrderID: UInt64, instrument: UInt16, side: Side, quantity: Double,
                price: Double, fee: Double) {
        self.gatewayTimeNs = gatewayTimeNs
        self.clientOrderID = clientOrderID
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
        self.fee = fee
    }
}

/// A fill log whose content is not what `FillLog` writes. This is a domain error (the bytes are
/// wrong, not the OS): failing to open or write the file is a `SystemError` with the errno.
public enum FillLogError: Error, CustomStringConvertible {
    case malformed(path: String, line: Int, text: String)
    public var description: String {
        switch self {
        case .malformed(let p, let l, let t): "fill log \(p) line \(l) is malformed: \(t)"
        }
    }
}

/// An append-only CSV file of fills, one line per fill:
/// `gateway_ts_ns,client_order_id,instrument,side,quantity,price,fee` after a header line.
///
/// Durability: each fill is written with one `write(2)` on an `O_APPEND` descriptor before the
/// FILL report is sent, so a crash of the gateway process never loses a fill it reported (the
/// kernel has the bytes). `SyncPolicy` decides when `fsync(2)` pushes them to the disk, which is
/// what survives a machine crash: after every fill, at most every N ns (default 100 ms, checked on
/// the next fill and at close), or only at close.
///
/// Implementation Notes
/// - Prices and quantities are written with Swift's shortest round-trip `Double` description, so
///   `read` gives back exactly the values written.
/// - Formatting a line allocates a small `String`; fills are rare next to ticks and the gateway is
///   its own process, so this is off every engine hot path.
/// - `read` tolerates one torn last line (a crash in the middle of a `write`): a final line without
///   its newline is skipped and reported in `tornTail`. Any other bad line throws.
/// - Not thread-safe: owned by the gateway thread; closed (fsync + close) in `deinit`.
public final class FillLog {
    public enum SyncPolicy: Sendable, Equatable {
        case everyFill
        case interval(nanoseconds: Int64)
        case never
    }

    public static let header = "gateway_ts_ns,client_order_id,instrument,side,quantity,price,fee"

    public let path: String
    public let syncPolicy: SyncPolicy
    private let fd: Int32
    private var lastSync: Int64
    private var unsynced = false
    public private(set) var appended: UInt64 = 0

    public init(path: String, sync: SyncPolicy = .interval(nanoseconds: 100_000_000)) throws {
        let fd = try syscall("open fill log \(path)") { open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644) }
        self.fd = fd
        self.path = path
        self.syncPolicy = sync
        lastSync = MonotonicClock.nanoseconds()
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_size == 0 {
            try writeLine(Self.header + "\n")
            fsync(fd)
        }
    }

    deinit {
        if unsynced { fsync(fd) }
        close(fd)
    }

    /// Appends one fill (and fsyncs according to the policy).
    public func append(_ r: FillRecord) throws {
        let line = "\(r.gatewayTimeNs),\(r.clientOrderID),\(r.instrument),\(r.side),\(r.quantity),\(r.price),\(r.fee)\n"
        try writeLine(line)
        appended &+= 1
        unsynced = true
        switch syncPolicy {
        case .everyFill: sync()
        case .interval(let ns):
            if MonotonicClock.nanoseconds() &- lastSync >= ns { sync() }
        case .never: break
        }
    }

    /// Forces written fills to the disk.
    public func sync() {
        fsync(fd)
        unsynced = false
        lastSync = MonotonicClock.nanoseconds()
    }

    private func writeLine(_ line: String) throws {
        var line = line
        try line.withUTF8 { buf in
            var off = 0
            // A short write (or a retry after EINTR) goes on from `off`, where the last one stopped.
            while off < buf.count {
                off += try syscall("write fill log \(path)") { write(fd, buf.baseAddress! + off, buf.count - off) }
            }
        }
    }

    /// Reads every fill in the log at `path`.
    public static func read(path: String) throws -> (fills: [FillRecord], tornTail: Bool) {
        guard let f = fopen(path, "r") else { throw SystemError("open fill log \(path)", errno: errno) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        // A well-formed file ends with "\n", leaving one empty last element; anything else is torn.
        let torn = !(lines.last?.isEmpty ?? true)
        lines.removeLast()
        var fills: [FillRecord] = []
        for (i, line) in lines.enumerated() {
            if i == 0 && line == Self.header { continue }
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 7, let ts = Int64(f[0]), let id = UInt64(f[1]), let inst = UInt16(f[2]),
                let qty = Double(f[4]), let px = Double(f[5]), let fee = Double(f[6])
            else { throw FillLogError.malformed(path: path, line: i + 1, text: String(line)) }
            let side: Side
            switch f[3] {
            case "buy": side = .buy
            case "sell": side = .sell
            default: throw FillLogError.malformed(path: path, line: i + 1, text: String(line))
            }
            fills.append(FillRecord(gatewayTimeNs: ts, clientOrderID: id, instrument: inst, side: side,
                                    quantity: qty, price: px, fee: fee))
        }
        return (fills, torn)
    }
}
