// The one definition of the codes carried in `ExecutionReport.reason` (wire offset 60,
// docs/wire-format.md). The venues (PaperVenue, PaperGateway) and the order router write them, the
// engine and the tests read them; the C core only copies the field and defines no names for it.
import CKairos

/// Why an order was refused after it left the engine: the `reason` of a REJECT execution report
/// (the analogue of FIX's OrdRejReason). Raw values are the wire codes and never change meaning; a
/// new reason gets a new code.
///
/// Not to be confused with `RiskRejection`: that is the engine's own pre-trade refusal, taken
/// before an order exists, never sent anywhere and without a wire code. An order refused by risk
/// never gets an `OrderRejectReason`, and an `OrderRejectReason` always answers an order that was
/// sent (or handed to the router to send).
public enum OrderRejectReason: UInt32, CaseIterable, Sendable, CustomStringConvertible {
    /// The venue's working-order table is full (`PaperVenue` capacity, `kairos gateway --capacity`).
    case bookFull = 1
    /// A CANCEL for an order the venue does not hold: never received, already filled or cancelled,
    /// or sent by another engine.
    case unknownOrder = 2
    /// Quantity not finite and positive, side or instrument out of range, or an invalid limit price.
    case badOrder = 3
    /// The gateway has never received a quote for the instrument, so it cannot price a fill.
    case noQuote = 16
    /// Made up by the order router, never sent by a venue: the venue did not answer within the ack
    /// timeout (a new order, or the cancel of an order working too long). The order may still be
    /// alive at the venue; `OrderLifecycle` says what a report arriving after this means.
    case timeout = 17
    /// Made up by the order router: the DEALER refused the order (high-water mark, socket error),
    /// so it never left this process.
    case sendFailed = 18

    /// The codes the order router makes up because the venue said nothing. A REJECT with one of
    /// them is no sign that the venue is alive.
    @inlinable public var isSynthesizedByRouter: Bool { self == .timeout || self == .sendFailed }

    /// The name used in docs, logs and metrics.
    public var description: String {
        switch self {
        case .bookFull: "book_full"
        case .unknownOrder: "unknown_order"
        case .badOrder: "bad_order"
        case .noQuote: "no_quote"
        case .timeout: "timeout"
        case .sendFailed: "send_failed"
        }
    }
}

extension ExecutionReport {
    /// A REJECT report's reason; nil for the other kinds and for a code this build does not know
    /// (a newer venue's), which callers treat as a plain reject.
    @inlinable public var rejectReason: OrderRejectReason? {
        reportKind == KAIROS_EXEC_REJECT ? OrderRejectReason(rawValue: reason) : nil
    }

    /// Whether the venue itself sent this report, i.e. it is not one the order router made up
    /// because the venue was silent or unreachable.
    @inlinable public var isFromVenue: Bool { !(rejectReason?.isSynthesizedByRouter ?? false) }
}
