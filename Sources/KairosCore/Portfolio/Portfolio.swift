/// One instrument's holding.
public struct Position: Sendable, Equatable {
    /// Signed units: > 0 long, < 0 short.
    public var quantity: Double = 0
    /// Volume-weighted entry price of the open quantity (0 when flat).
    public var averagePrice: Double = 0
    /// Profit realised by closing quantity, before fees.
    public var realizedPnL: Double = 0
    /// Fees paid on this instrument.
    public var fees: Double = 0
    /// Last mark price.
    public var markPrice: Double = 0
    /// Units bought plus units sold, ever.
    public var tradedQuantity: Double = 0
    public var fillCount: UInt64 = 0

    public init() {}

    public var unrealizedPnL: Double { quantity == 0 ? 0 : (markPrice - averagePrice) * quantity }
    public var marketValue: Double { quantity * markPrice }
}

/// Positions, cash, PnL, fees, equity and drawdown, updated by fills and marks.
///
/// Implementation Notes
/// - Cash accounting: a buy of q at p costs q·p + fee; equity = cash + Σ quantity·mark. Average
///   price follows the usual rule: adding to a position re-weights it, reducing realises
///   (p − avg)·closed·sign, crossing through zero realises the closed part and opens the rest at p.
/// - `apply(fill:)` and `mark(_:price:)` are O(1) and allocation-free (equity is kept incrementally,
///   not summed over instruments), so both run on the engine's per-tick path.
/// - The equity curve is sampled by the owner (`sampleEquity`) at a chosen cadence into storage
///   reserved up front, not on every tick.
/// - Invariant (checked by `_checkInvariants` under KAIROS_CHECK_INVARIANTS): equity equals cash plus
///   the marked value of all positions, within floating-point rounding.
public struct Portfolio: Sendable {
    public let initialCapital: Double
    public private(set) var cash: Double
    public private(set) var positions: [Position]
    /// Σ quantity·mark, maintained incrementally.
    public private(set) var marketValue: Double = 0
    public private(set) var peakEquity: Double
    public private(set) var maxDrawdown: Double = 0
    public private(set) var totalFees: Double = 0
    public private(set) var equityCurve: [(time: Int64, equity: Double)] = []

    public init(instrumentCount: Int, initialCapital: Double, equityCurveCapacity: Int = 4096) {
        self.initialCapital = initialCapital
        cash = initialCapital
        peakEquity = initialCapital
        positions = [Position](repeating: Position(), count: instrumentCount)
        equityCurve.reserveCapacity(equityCurveCapacity)
    }

    @inlinable public var equity: Double { cash + marketValue }
    /// Current drawdown from the peak, as a fraction of the peak (0 at a new high).
    public var drawdown: Double { peakEquity > 0 ? max(0, (peakEquity - equity) / peakEquity) : 0 }
    public var realizedPnL: Double { positions.reduce(0) { $0 + $1.realizedPnL } }
    public var unrealizedPnL: Double { positions.reduce(0) { $0 + $1.unrealizedPnL } }
    /// Σ |quantity·mark|.
    public var grossExposure: Double { positions.reduce(0) { $0 + abs($1.marketValue) } }

    public func position(_ id: InstrumentID) -> Position { positions[id.index] }

    /// Books a fill: `quantity` > 0 units at `price`, `side` buy or sell, paying `fee` (>= 0).
    public mutating func apply(instrument id: InstrumentID, side: Side, quantity q: Double, price: Double, fee: Double) {
        precondition(q > 0 && price > 0 && fee >= 0, "fills have positive quantity and price")
        let i = id.index
        var p = positions[i]
        let signed = side.sign * q
        let before = p.quantity
        marketValue -= before * p.markPrice
        if before == 0 || (before > 0) == (signed > 0) {
            // Opening or adding: re-weight the average entry price.
            let newQty = before + signed
            p.averagePrice = (p.averagePrice * abs(before) + price * q) / abs(newQty)
            p.quantity = newQty
        } else {
            // Reducing, closing or flipping.
            let closed = min(q, abs(before))
            p.realizedPnL += (price - p.averagePrice) * closed * (before > 0 ? 1 : -1)
            let newQty = before + signed
            if abs(newQty) < 1e-12 {
                p.quantity = 0
                p.averagePrice = 0
            } else if (newQty > 0) != (before > 0) {
                p.quantity = newQty
                p.averagePrice = price  // the flipped remainder opens at the fill price
            } else {
                p.quantity = newQty  // partial reduction keeps the entry price
            }
        }
        p.fees += fee
        p.tradedQuantity += q
        p.fillCount &+= 1
        p.markPrice = price
        positions[i] = p
        marketValue += p.quantity * price
        cash -= signed * price + fee
        totalFees += fee
        updatePeak()
    }

    /// Marks one instrument to `price` (the mid of its latest valid tick).
    public mutating func mark(_ id: InstrumentID, price: Double) {
        let i = id.index
        let q = positions[i].quantity
        marketValue += q * (price - positions[i].markPrice)
        positions[i].markPrice = price
        updatePeak()
    }

    mutating func updatePeak() {
        let e = cash + marketValue
        if e > peakEquity { peakEquity = e }
        if peakEquity > 0 {
            let dd = (peakEquity - e) / peakEquity
            if dd > maxDrawdown { maxDrawdown = dd }
        }
    }

    /// Appends an equity point (amortised O(1); call at a coarse cadence, not per tick).
    public mutating func sampleEquity(at time: Int64) {
        equityCurve.append((time, equity))
    }

    /// Recomputes the incremental market value from scratch (removes accumulated rounding).
    public mutating func reanchor() {
        marketValue = positions.reduce(0) { $0 + $1.quantity * $1.markPrice }
    }

    public func _checkInvariants() {
        #if KAIROS_CHECK_INVARIANTS
        let mv = positions.reduce(0) { $0 + $1.quantity * $1.markPrice }
        precondition(abs(mv - marketValue) <= 1e-6 * max(1, abs(mv)), "portfolio market value drifted")
        #endif
    }
}
