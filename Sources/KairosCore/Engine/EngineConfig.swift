/// Everything the engine needs to know before the first tick.
public struct EngineConfig: Sendable {
    public var instruments: [Instrument]
    /// Capital allocated to each instrument; a policy's exposure 1.0 means this much notional long.
    public var capitalPerInstrument: Double
    public var features: FeatureConfig
    public var risk: RiskLimits
    /// Target changes smaller than this fraction of the allocation are ignored (no churn on noise).
    /// A target of exactly 0 always closes the position.
    public var minRebalanceFraction: Double
    /// How often the engine publishes a snapshot for monitors and metrics (engine clock, ns).
    public var snapshotIntervalNs: Int64
    /// How often the equity curve is sampled (engine clock, ns).
    public var equitySampleIntervalNs: Int64
    /// Sequence tracking and stale-feed detection: when set, duplicate or too-old ticks (per
    /// publisher sequence) are dropped and counted, and an instrument silent for longer than this
    /// (engine clock, ns) is halted by the risk stage (only reducing orders) until it has received
    /// `staleResumeTicks` fresh ticks. nil = off (backtests, the in-process demo). Sequence gaps
    /// and duplicates are counted either way.
    public var staleAfterNs: Int64? = nil
    public var staleResumeTicks = 10

    public init(
        instruments: [Instrument], capitalPerInstrument: Double = 100_000, features: FeatureConfig = .standard,
        risk: RiskLimits? = nil, minRebalanceFraction: Double = 0.1,
        snapshotIntervalNs: Int64 = 100_000_000, equitySampleIntervalNs: Int64 = 100_000_000
    ) {
        self.instruments = instruments
        self.capitalPerInstrument = capitalPerInstrument
        self.features = features
        self.risk = risk ?? .scaled(capitalPerInstrument: capitalPerInstrument, instruments: instruments.count)
        self.minRebalanceFraction = minRebalanceFraction
        self.snapshotIntervalNs = snapshotIntervalNs
        self.equitySampleIntervalNs = equitySampleIntervalNs
    }

    /// `n` instruments named SYN0…SYN{n-1}, lot size 1.
    public static func synthetic(instruments n: Int, capitalPerInstrument: Double = 100_000) -> EngineConfig {
        EngineConfig(
            instruments: (0..<n).map { Instrument(id: InstrumentID($0), symbol: "SYN\($0)") },
            capitalPerInstrument: capitalPerInstrument)
    }

    public var totalCapital: Double { capitalPerInstrument * Double(instruments.count) }
}

/// Monotonic counters of what the engine did. Plain integers owned by the engine thread; copies
/// travel in snapshots.
public struct EngineCounters: Sendable, Equatable {
    public var ticksReceived: UInt64 = 0
    public var ticksAccepted: UInt64 = 0
    public var ticksRejected: [UInt64] = Array(repeating: 0, count: TickRejection.allCases.count)
    public var decisions: UInt64 = 0
    public var holds: UInt64 = 0
    public var ordersSent: UInt64 = 0
    public var ordersRejected: [UInt64] = Array(repeating: 0, count: RiskRejection.allCases.count)
    public var outboundFull: UInt64 = 0
    public var acks: UInt64 = 0
    public var fills: UInt64 = 0
    public var venueRejects: UInt64 = 0
    public var cancels: UInt64 = 0
    public var unknownExecutions: UInt64 = 0
    public var breakerTrips: UInt64 = 0
    /// Ticks dropped by sequence tracking (duplicates, too old to tell). Ticks that never arrived
    /// are in the snapshot's `sequences` (gaps, missing, missed before the first).
    public var sequenceDropped: UInt64 = 0
    /// Times an instrument's feed went stale and the instrument was halted.
    public var staleHalts: UInt64 = 0
    /// Execution reports that were the order router's timeouts (a REJECT with the timeout reason).
    public var orderTimeouts: UInt64 = 0
    /// Reports for the working order that its state does not allow (`OrderLifecycle`), such as a
    /// second ACK: counted, not applied.
    public var unexpectedExecutions: UInt64 = 0
    /// Reports for an instrument's last timed-out order, which the venue answered after the router
    /// gave up on it (`OrderTransition.late`).
    public var lateExecutions: UInt64 = 0
    /// Of those, the FILLs: booked into the portfolio, since the venue did trade them.
    public var lateFills: UInt64 = 0

    public init() {}
    public var totalTicksRejected: UInt64 { ticksRejected.reduce(0, +) }
    public var totalOrdersRejected: UInt64 { ordersRejected.reduce(0, +) }
}
