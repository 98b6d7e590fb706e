import KairosCore
import KairosStrategies
import KairosIO
import CKairos

/// How the paper venue fills orders.
public struct PaperFillConfig: Sendable, Codable, Equatable {
    /// An order can fill only on a tick that arrives at least this long after it was sent
    /// (order `ts_decision_ns` vs tick `ts_recv_ns`, both on the engine's clock).
    public var latencyNs: Int64
    /// Price concession on each fill, in basis points of the touch (buys pay ask·(1+s)).
    public var slippageBps: Double
    /// Fee on each fill, in basis points of its notional.
    public var feeBps: Double

    public init(latencyNs: Int64 = 20_000, slippageBps: Double = 0.5, feeBps: Double = 0.2) {
        self.latencyNs = latencyNs
        self.slippageBps = slippageBps
        self.feeBps = feeBps
    }

    /// The paper matching rule, shared by the in-process venue and the gateway process: a buy
    /// pays ask·(1+slippage), a sell receives bid·(1−slippage).
    @inlinable public func fillPrice(buy: Bool, bid: Double, ask: Double) -> Double {
        let slip = slippageBps * 1e-4
        return buy ? ask * (1 + slip) : bid * (1 - slip)
    }

    /// Fee on a fill: |price · quantity| · feeBps.
    @inlinable public func fee(price: Double, quantity: Double) -> Double {
        abs(price * quantity) * feeBps * 1e-4
    }
}

/// An in-process paper venue: acknowledges orders at once and fills each one completely at the
/// first tick of its instrument that arrives `latencyNs` or more after the order was sent, at the
/// far touch plus slippage (buys at ask·(1+s), sells at bid·(1−s)), charging `feeBps`.
///
/// Market orders only fill against the touch; there is no queue or depth model, so large orders
/// fill at the touch in full. That is optimistic and documented as such.
///
/// Implementation Notes
/// - Working orders live in a `SwapRemoveArray` sized at init, so `submit` and `onTick` never
///   allocate; `onTick` is O(working orders), and fills within one tick are not in submission order.
/// - Reports are handed to an `emit` closure that is not escaping (no allocation); the caller
///   forwards them into the execution ring.
/// - Single-threaded: owned by whichever thread plays the venue (the demo's market thread, or the
///   backtest driver).
public struct PaperVenue: Sendable {
    public var config: PaperFillConfig
    @usableFromInline var working: SwapRemoveArray<Order>
    public private(set) var acks: UInt64 = 0
    public private(set) var fills: UInt64 = 0
    public private(set) var rejects: UInt64 = 0
    public private(set) var cancels: UInt64 = 0
    public private(set) var filledNotional: Double = 0
    public private(set) var feesCharged: Double = 0

    public init(config: PaperFillConfig = PaperFillConfig(), capacity: Int = 4096) {
        self.config = config
        working = SwapRemoveArray(capacity: capacity, placeholder: Order())
    }

    public var workingOrders: Int { working.count }

    /// Accepts (ACK), cancels or rejects one order from the engine.
    public mutating func submit(_ order: Order, now: Int64, emit: (ExecutionReport) -> Void) {
        if order.action == UInt8(KAIROS_ORDER_CANCEL.rawValue) {
            if let k = working.firstIndex(where: { $0.client_order_id == order.client_order_id }) {
                let o = working.remove(at: k)
                cancels &+= 1
                emit(report(o, kind: KAIROS_EXEC_CANCELLED, now: now, leaves: 0))
                return
            }
            rejects &+= 1
            emit(report(order, kind: KAIROS_EXEC_REJECT, now: now, reason: .unknownOrder))
            return
        }
        guard order.quantity.isFinite, order.quantity > 0,
            order.side == Side.buy.rawValue || order.side == Side.sell.rawValue
        else {
            rejects &+= 1
            emit(report(order, kind: KAIROS_EXEC_REJECT, now: now, reason: .badOrder))
            return
        }
        guard working.append(order) else {
            rejects &+= 1
            emit(report(order, kind: KAIROS_EXEC_REJECT, now: now, reason: .bookFull))
            return
        }
        acks &+= 1
        emit(report(order, kind: KAIROS_EXEC_ACK, now: now, leaves: order.quantity))
    }

    /// Fills every working order of `tick`'s instrument that has become eligible.
    public mutating func onTick(_ tick: Tick, emit: (ExecutionReport) -> Void) {
        var k = 0
        while k < working.count {
            let o = working[k]
            if o.instrument == tick.instrument && tick.ts_recv_ns >= o.ts_decision_ns &+ config.latencyNs {
                let price = config.fillPrice(buy: o.side == Side.buy.rawValue, bid: tick.bid, ask: tick.ask)
                let fee = config.fee(price: price, quantity: o.quantity)
                working.remove(at: k)
                fills &+= 1
                filledNotional += price * o.quantity
                feesCharged += fee
                var r = report(o, kind: KAIROS_EXEC_FILL, now: tick.ts_recv_ns, leaves: 0)
                r.fill_price = price
                r.fill_qty = o.quantity
                r.fee = fee
                emit(r)
            } else {
                k += 1
            }
        }
    }

    @usableFromInline func report(
        _ o: Order, kind: kairos_exec_kind, now: Int64, leaves: Double = 0, reason: OrderRejectReason? = nil
    ) -> ExecutionReport {
        ExecutionReport(answering: o, kind: kind, now: now, leaves: leaves, reason: reason)
    }
}
