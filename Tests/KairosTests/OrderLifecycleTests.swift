import CKairos
import Testing
@testable import KairosCore

@Suite struct OrderLifecycleTests {
    typealias S = OrderLifecycle
    typealias E = OrderEvent

    /// The whole transition table, written out: every state × every event.
    static let table: [S: [E: OrderTransition]] = [
        .sent: [
            .acknowledged: .moved(to: .working), .partiallyFilled: .moved(to: .partiallyFilled),
            .filled: .moved(to: .filled), .rejected: .moved(to: .rejected), .cancelled: .moved(to: .cancelled),
            .cancelRequested: .illegal, .timedOut: .moved(to: .timedOut),
        ],
        .working: [
            .acknowledged: .illegal, .partiallyFilled: .moved(to: .partiallyFilled), .filled: .moved(to: .filled),
            .rejected: .moved(to: .rejected), .cancelled: .moved(to: .cancelled),
            .cancelRequested: .moved(to: .cancelRequested), .timedOut: .moved(to: .timedOut),
        ],
        .partiallyFilled: [
            .acknowledged: .illegal, .partiallyFilled: .moved(to: .partiallyFilled), .filled: .moved(to: .filled),
            .rejected: .moved(to: .rejected), .cancelled: .moved(to: .cancelled),
            .cancelRequested: .moved(to: .cancelRequested), .timedOut: .moved(to: .timedOut),
        ],
        .cancelRequested: [
            .acknowledged: .illegal, .partiallyFilled: .moved(to: .cancelRequested), .filled: .moved(to: .filled),
            .rejected: .moved(to: .rejected), .cancelled: .moved(to: .cancelled), .cancelRequested: .illegal,
            .timedOut: .moved(to: .timedOut),
        ],
        .filled: Dictionary(uniqueKeysWithValues: E.allCases.map { ($0, .illegal) }),
        .cancelled: Dictionary(uniqueKeysWithValues: E.allCases.map { ($0, .illegal) }),
        .rejected: Dictionary(uniqueKeysWithValues: E.allCases.map { ($0, .illegal) }),
        .timedOut: [
            .acknowledged: .late, .partiallyFilled: .late, .filled: .late, .rejected: .late, .cancelled: .late,
            .cancelRequested: .illegal, .timedOut: .illegal,
        ],
    ]

    @Test("every transition, legal and illegal", arguments: OrderLifecycle.allCases)
    func transitions(from state: OrderLifecycle) throws {
        let row = try #require(Self.table[state])
        #expect(row.count == E.allCases.count)
        for event in E.allCases {
            let expected = try #require(row[event])
            #expect(state.transition(on: event) == expected, "\(state) on \(event)")
            var s = state
            #expect(s.apply(event) == expected)
            if case .moved(let next) = expected {
                #expect(s == next)
            } else {
                #expect(s == state, "\(state) changed on an event that is \(expected)")
            }
        }
    }

    @Test func finalAndAwaitingStates() {
        #expect(S.allCases.filter(\.isFinal) == [.filled, .cancelled, .rejected, .timedOut])
        #expect(S.allCases.filter(\.isAwaitingAnswer) == [.sent, .cancelRequested])
        #expect(S() == .sent)
        // A final state is reached from every live state by each ending report.
        for live in S.allCases where !live.isFinal {
            for (event, end) in [(E.filled, S.filled), (.cancelled, .cancelled), (.rejected, .rejected), (.timedOut, .timedOut)] {
                #expect(live.transition(on: event) == .moved(to: end))
            }
        }
    }

    /// A complete life the router sees: sent, acknowledged, partly filled, working too long, cancel
    /// requested, a fill that raced the cancel, then the venue's CANCELLED.
    @Test func aPartlyFilledOrderCancelledAfterTheWorkingTimeout() {
        var s = S()
        let steps: [(E, S)] = [
            (.acknowledged, .working), (.partiallyFilled, .partiallyFilled), (.cancelRequested, .cancelRequested),
            (.partiallyFilled, .cancelRequested), (.cancelled, .cancelled),
        ]
        for (event, expected) in steps {
            #expect(s.apply(event) == .moved(to: expected))
            #expect(s == expected)
        }
        #expect(s.apply(.filled) == .illegal && s == .cancelled)
    }

    @Test func eventsFromReports() {
        var o = Order()
        o.client_order_id = 3
        o.side = Side.buy.rawValue
        func report(_ kind: kairos_exec_kind, leaves: Double = 0, reason: OrderRejectReason? = nil) -> ExecutionReport {
            ExecutionReport(answering: o, kind: kind, now: 1, leaves: leaves, reason: reason)
        }
        #expect(OrderEvent(report(KAIROS_EXEC_ACK, leaves: 5)) == .acknowledged)
        #expect(OrderEvent(report(KAIROS_EXEC_FILL, leaves: 2)) == .partiallyFilled)
        #expect(OrderEvent(report(KAIROS_EXEC_FILL, leaves: 0)) == .filled)
        #expect(OrderEvent(report(KAIROS_EXEC_FILL, leaves: -1)) == .filled)
        #expect(OrderEvent(report(KAIROS_EXEC_FILL, leaves: .nan)) == .filled)  // nothing known to be left
        #expect(OrderEvent(report(KAIROS_EXEC_CANCELLED, leaves: 5)) == .cancelled)
        for reason in OrderRejectReason.allCases where reason != .timeout {
            #expect(OrderEvent(report(KAIROS_EXEC_REJECT, reason: reason)) == .rejected)
        }
        #expect(OrderEvent(report(KAIROS_EXEC_REJECT)) == .rejected)
        #expect(OrderEvent(report(KAIROS_EXEC_REJECT, reason: .timeout)) == .timedOut)
        var odd = report(KAIROS_EXEC_ACK)
        odd.kind = 9
        #expect(OrderEvent(odd) == nil)
        #expect(E.allCases.filter(\.isFill) == [.partiallyFilled, .filled])
        #expect(E.allCases.filter { !$0.isVenueReport } == [.cancelRequested, .timedOut])
    }
}
