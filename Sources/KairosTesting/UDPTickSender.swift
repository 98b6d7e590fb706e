// A UDP sender of wire ticks and raw bytes for ingest tests and benchmarks (not a production feed).
import KairosCore
import KairosIO
import CKairos
import CKairosTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Sends ticks as wire datagrams (one per datagram, sendmmsg batches of 64) to `address:port`.
/// For tests, benchmarks and simple feed simulators.
///
/// Implementation Notes: owns a connected UDP socket and its encode buffers (freed in `deinit`).
/// Not thread-safe: one thread at a time sends. `send` stamps `ts_send_ns` with CLOCK_REALTIME per
/// batch and does not allocate.
///
/// `@unchecked Sendable` so a sender can be handed to the thread that uses it: the C sender has no
/// thread affinity, only the rule above (one sending thread at a time), which the caller keeps.
public final class UDPTickSender: @unchecked Sendable {
    private let sender: OpaquePointer

    public init(address: String = "127.0.0.1", port: UInt16) throws {
        var err: Int32 = 0
        guard let s = kairos_udp_sender_create(address, port, &err) else {
            throw SystemError("UDP sender to \(address):\(port)", errno: -err)
        }
        sender = s
    }

    deinit { kairos_udp_sender_destroy(sender) }

    /// Sends every tick; returns how many were sent, or a negative errno when none was.
    @discardableResult
    public func send(_ ticks: UnsafeBufferPointer<Tick>) -> Int {
        guard let base = ticks.baseAddress, !ticks.isEmpty else { return 0 }
        return Int(kairos_udp_sender_send_ticks(sender, base, UInt32(clamping: ticks.count)))
    }

    /// Sends raw bytes as one datagram (malformed-input tests). 0 or a negative errno.
    @discardableResult
    public func sendRaw(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { kairos_udp_sender_send_bytes(sender, $0.baseAddress, UInt32($0.count)) }
    }
}
