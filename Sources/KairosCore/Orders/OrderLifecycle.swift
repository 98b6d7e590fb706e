// One order's life, as the engine (its working order per instrument) and the order router (its
// in-flight table, which runs the timeouts) both track it. Keeping the rules in one place means the
// two agree on when an order is over, which report is legal when, and what a report that arrives
// after the router gave up on an order means.
import CKairos

/// Where an order is in its life, from the moment it is handed to the outbound ring.
///
/// ```
///            ACK                FILL, leaves > 0
///   sent ─────────▶ working ──────────────────────▶ partiallyFilled ─┐ FILL, leaves > 0
///     │               │                                  │    ▲      │
///     │               │ cancel sent                      │    └──────┘
///     │               └───────────────▶ cancelRequested ◀┘ cancel sent
///     │                                 (FILL, leaves > 0: stays)
///     │
///     └── and from every live state:  FILL, leaves 0 ─▶ filled
///                                     CANCELLED ───────▶ cancelled
///                                     REJECT ──────────▶ rejected
///                                     no answer in time ▶ timedOut
/// ```
///
/// `sent`, `working`, `partiallyFilled` and `cancelRequested` are live (the venue may still hold
/// the order); the other four are final. Illegal: a second ACK, a cancel request for an order that
/// is not acknowledged yet or already being cancelled, and anything at all for a filled, cancelled
/// or rejected order. The state never changes on an illegal event.
///
/// `timedOut` is final for the engine and the router (the working order is freed, the risk
/// manager counts the timeout), but the venue may still answer: the order may have been alive all
/// along. Such a report is `late` (see `OrderTransition.late`), never illegal.
public enum OrderLifecycle: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// Handed to the router (or venue); no answer yet.
    case sent
    /// Acknowledged by the venue; nothing filled yet.
    case working
    /// Some quantity filled, the rest still working.
    case partiallyFilled
    /// Working too long: a CANCEL went to the venue, whose answer (CANCELLED, or the FILL that raced
    /// it) ends the order.
    case cancelRequested
    /// Filled completely.
    case filled
    /// Cancelled by the venue (on request, or because the venue stopped).
    case cancelled
    /// Refused by the venue, or by the router when it could not send the order.
    case rejected
    /// The venue did not answer in time: for a new order within the ack timeout, for a cancel
    /// request within the ack timeout after it was sent. The router gave up on it.
    case timedOut

    /// An order that has just been handed over: `sent`.
    public init() { self = .sent }

    /// Whether nothing more is expected for the order: the engine frees its working order, the
    /// router stops tracking it.
    @inlinable public var isFinal: Bool {
        switch self {
        case .sent, .working, .partiallyFilled, .cancelRequested: false
        case .filled, .cancelled, .rejected, .timedOut: true
        }
    }

    /// Whether a request (the new order, or its cancel) is waiting for the venue's first answer;
    /// the router times these out after its ack timeout. Otherwise a live order is simply working,
    /// and the router's working timeout applies.
    @inlinable public var isAwaitingAnswer: Bool { self == .sent || self == .cancelRequested }

    /// What `event` does to an order in this state (the state itself does not change).
    @inlinable public func transition(on event: OrderEvent) -> OrderTransition {
        if isFinal {
            // Only a timed-out order can still hear from the venue; a router action never applies.
            return self == .timedOut && event.isVenueReport ? .late : .illegal
        }
        switch event {
        case .acknowledged:
            return self == .sent ? .moved(to: .working) : .illegal
        case .partiallyFilled:
            // While a cancel is pending the rest is still being cancelled.
            return .moved(to: self == .cancelRequested ? .cancelRequested : .partiallyFilled)
        case .cancelRequested:
            // Nothing to cancel before the venue has the order; nothing to add once a cancel is out.
            return self == .working || self == .partiallyFilled ? .moved(to: .cancelRequested) : .illegal
        case .filled: return .moved(to: .filled)
        case .cancelled: return .moved(to: .cancelled)
        case .rejected: return .moved(to: .rejected)
        case .timedOut: return .moved(to: .timedOut)
        }
    }

    /// Applies `event`: moves to the new state when it is legal, stays otherwise. Returns what happened.
    @inlinable @discardableResult
    public mutating func apply(_ event: OrderEvent) -> OrderTransition {
        let t = transition(on: event)
        if case .moved(let next) = t { self = next }
        return t
    }

    public var description: String {
        switch self {
        case .sent: "sent"
        case .working: "working"
        case .partiallyFilled: "partially_filled"
        case .cancelRequested: "cancel_requested"
        case .filled: "filled"
        case .cancelled: "cancelled"
        case .rejected: "rejected"
        case .timedOut: "timed_out"
        }
    }
}

/// Something that happens to an order: an execution report from the venue, or one of the router's
/// own actions (it sends a cancel, it gives up waiting).
public enum OrderEvent: CaseIterable, Sendable, CustomStringConvertible {
    /// ACK.
    case acknowledged
    /// FILL with quantity left (`leaves_qty > 0`).
    case partiallyFilled
    /// FILL with nothing left.
    case filled
    /// REJECT for any reason but the router's timeout.
    case rejected
    /// CANCELLED.
    case cancelled
    /// The router sent a CANCEL for the order (it was working too long).
    case cancelRequested
    /// The router gave up waiting for an answer; the engine sees it as a REJECT with
    /// `OrderRejectReason.timeout`.
    case timedOut

    /// The event an execution report is, or nil for a report kind this build does not know. A FILL
    /// whose `leaves_qty` is not a positive number leaves nothing working: it is `filled`.
    @inlinable public init?(_ report: ExecutionReport) {
        switch report.reportKind {
        case KAIROS_EXEC_ACK: self = .acknowledged
        case KAIROS_EXEC_FILL: self = report.leaves_qty > 0 ? .partiallyFilled : .filled
        case KAIROS_EXEC_REJECT: self = report.rejectReason == .timeout ? .timedOut : .rejected
        case KAIROS_EXEC_CANCELLED: self = .cancelled
        default: return nil
        }
    }

    /// Whether the event carries an execution: quantity changed hands at the venue.
    @inlinable public var isFill: Bool { self == .partiallyFilled || self == .filled }

    /// Whether the event is something the venue said (not one of the router's own actions).
    @inlinable public var isVenueReport: Bool { self != .cancelRequested && self != .timedOut }

    public var description: String {
        switch self {
        case .acknowledged: "ack"
        case .partiallyFilled: "partial_fill"
        case .filled: "fill"
        case .rejected: "reject"
        case .cancelled: "cancelled"
        case .cancelRequested: "cancel_requested"
        case .timedOut: "timeout"
        }
    }
}

/// What an `OrderEvent` does to an order.
public enum OrderTransition: Equatable, Sendable {
    /// Legal: the order is now in this state (possibly the one it was in, as after another partial
    /// fill).
    case moved(to: OrderLifecycle)
    /// The venue answered an order the router had already timed out. The order stays `timedOut`.
    /// What it means depends on the report: a FILL is a real execution the venue made after the
    /// router gave up, so the quantity changed hands and must be booked (ignoring it would leave
    /// the engine's position different from the venue's); an ACK only says the order reached the
    /// venue late (the router's cancel-on-timeout should follow it there); a CANCELLED or REJECT
    /// confirms the order is dead. None of them revives the working order.
    case late
    /// Not legal in the order's state: a second ACK, a report for an order already filled,
    /// cancelled or rejected, or a router action that does not apply. The state is unchanged and
    /// the event must not be applied.
    case illegal
}
