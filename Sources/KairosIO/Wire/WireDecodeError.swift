// The one Swift name for every way a received wire message can fail to become a record, and the
// one counter set that every receiver (order router, paper gateway, ZeroMQ and UDP tick ingest)
// keeps and logs. The codes are the C ones: `kairos_wire_error` from the decoders (kairos_wire.h)
// and `KAIROS_ZORDERS_E_FRAMES` from the ZeroMQ framing (kairos_zmq_orders.h).
import CKairos

/// Why a received message was refused before it became a tick, order or execution report. Raw
/// values are the negative codes the C receive and decode functions return (docs/wire-format.md).
public enum WireDecodeError: Int32, CaseIterable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the header (8) or than the record (`KAIROS_WIRE_E_SHORT`).
    case tooShort = -1
    /// More bytes than the record, or more than `KAIROS_WIRE_MAX_FRAME` (`KAIROS_WIRE_E_LONG`).
    case tooLong = -2
    /// A version byte other than 1 (`KAIROS_WIRE_E_VERSION`).
    case unknownVersion = -3
    /// A record type this receiver does not take, e.g. a tick sent as an order (`KAIROS_WIRE_E_TYPE`).
    case unexpectedType = -4
    /// An enumerated field (side, order type, action, report kind) out of its domain (`KAIROS_WIRE_E_FIELD`).
    case fieldOutOfDomain = -5
    /// A ZeroMQ message with the wrong number of frames: a lone frame, or extra frames
    /// (`KAIROS_ZORDERS_E_FRAMES`; the tick ingest's "bad multipart").
    case wrongFrameCount = -6

    /// The short name used in logs, counters and docs.
    public var description: String {
        switch self {
        case .tooShort: "short"
        case .tooLong: "long"
        case .unknownVersion: "version"
        case .unexpectedType: "type"
        case .fieldOutOfDomain: "field"
        case .wrongFrameCount: "frames"
        }
    }
}

/// Refused messages per `WireDecodeError`: the malformed-message counters of every receiver.
/// A plain value; each receiver's own thread mutates it and publishes copies.
public struct WireDecodeErrorCounts: Sendable, Equatable, CustomStringConvertible {
    /// Index = -rawValue - 1 (the C counters' index minus one). Fixed-size, so counting never allocates.
    private var counts: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)

    public init() {}

    /// The C receivers' `decode_errors[-kairos_wire_error]` array (index 0, OK, is unused) and,
    /// for the ZeroMQ tick ingest, its count of messages without exactly two frames.
    init(cDecodeErrors c: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64), wrongFrameCount: UInt64 = 0) {
        counts = (c.1, c.2, c.3, c.4, c.5, wrongFrameCount)
    }

    public subscript(_ error: WireDecodeError) -> UInt64 {
        get {
            switch error {
            case .tooShort: counts.0
            case .tooLong: counts.1
            case .unknownVersion: counts.2
            case .unexpectedType: counts.3
            case .fieldOutOfDomain: counts.4
            case .wrongFrameCount: counts.5
            }
        }
        set {
            switch error {
            case .tooShort: counts.0 = newValue
            case .tooLong: counts.1 = newValue
            case .unknownVersion: counts.2 = newValue
            case .unexpectedType: counts.3 = newValue
            case .fieldOutOfDomain: counts.4 = newValue
            case .wrongFrameCount: counts.5 = newValue
            }
        }
    }

    /// Counts one message refused with the negative `code` a C receive function returned. Any
    /// other negative value breaks the receivers' documented return convention (kairos_zmq_orders.h).
    public mutating func count(code: Int32) {
        guard let error = WireDecodeError(rawValue: code) else {
            preconditionFailure("a wire receive returned \(code), which is no WireDecodeError")
        }
        self[error] &+= 1
    }

    /// Refused messages, whatever the reason.
    public var total: UInt64 { counts.0 &+ counts.1 &+ counts.2 &+ counts.3 &+ counts.4 &+ counts.5 }

    public static func == (a: Self, b: Self) -> Bool { WireDecodeError.allCases.allSatisfy { a[$0] == b[$0] } }

    /// `short 0 long 1 version 0 type 0 field 0 frames 2`.
    public var description: String { WireDecodeError.allCases.map { "\($0) \(self[$0])" }.joined(separator: " ") }
}
