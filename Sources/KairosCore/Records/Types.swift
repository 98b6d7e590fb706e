// The trading vocabulary shared by every concern. The record types that cross threads (ticks,
// orders, execution reports) are the C structs from kairos_records.h so the rings, the wire and
// the io_uring feeds share one 64-byte layout; Swift adds names and conveniences on top.
import CKairos

/// One market data update (64 bytes, one cache line). See `kairos_records.h`.
public typealias Tick = kairos_tick
/// An order on its way to a gateway, after risk approval. See `kairos_records.h`.
public typealias Order = kairos_order
/// Ack, fill, reject or cancel coming back from a gateway. See `kairos_records.h`.
public typealias ExecutionReport = kairos_exec_report
/// The fixed-size vector of streaming features (`Feature` names each slot).
public typealias FeatureVector = kairos_feat_vector

/// Dense instrument index (0..<`InstrumentID.max`), as carried in every record.
public struct InstrumentID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ index: Int) { self.rawValue = UInt16(index) }
    public var index: Int { Int(rawValue) }
    public static let max = Int(KAIROS_MAX_INSTRUMENTS)
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "#\(rawValue)" }
}

/// Static description of a tradable instrument.
public struct Instrument: Sendable, Hashable {
    public var id: InstrumentID
    public var symbol: String
    /// Smallest tradable quantity; order sizes are rounded down to a multiple of it.
    public var lotSize: Double
    public init(id: InstrumentID, symbol: String, lotSize: Double = 1) {
        self.id = id
        self.symbol = symbol
        self.lotSize = lotSize
    }
}

public enum Side: UInt8, Sendable, CustomStringConvertible {
    case buy = 1
    case sell = 2
    /// +1 for buy, -1 for sell.
    @inlinable public var sign: Double { self == .buy ? 1 : -1 }
    public var description: String { self == .buy ? "buy" : "sell" }
}

/// The four market regimes Kairos knows. Raw values are stable (used in files and metrics).
public enum Regime: Int, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case bull = 0
    case bear = 1
    case sideways = 2
    case volatile = 3
    public var description: String {
        switch self {
        case .bull: "bull"
        case .bear: "bear"
        case .sideways: "sideways"
        case .volatile: "volatile"
        }
    }
    public init?(name: String) {
        guard let r = Regime.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = r
    }
}

/// One OHLCV bar. `timestamp` is nanoseconds since the Unix epoch.
public struct Bar: Sendable, Hashable {
    public var timestamp: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double
    public init(timestamp: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double = 0) {
        self.timestamp = timestamp
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

extension Tick {
    public init(
        instrument: InstrumentID, seq: UInt64, exchangeTime: Int64, receiveTime: Int64,
        bid: Double, ask: Double, last: Double = 0,
        bidSize: Float = 0, askSize: Float = 0, lastSize: Float = 0, publisher: UInt16 = 0
    ) {
        self.init(
            seq: seq, ts_exchange_ns: exchangeTime, ts_recv_ns: receiveTime,
            bid: bid, ask: ask, last: last,
            bid_size: bidSize, ask_size: askSize, last_size: lastSize,
            instrument: instrument.rawValue, publisher: publisher)
    }
    @inlinable public var instrumentID: InstrumentID { InstrumentID(instrument) }
    /// Mid price; the price the features and policies see.
    @inlinable public var mid: Double { (bid + ask) * 0.5 }
}

extension Order {
    @inlinable public var instrumentID: InstrumentID { InstrumentID(instrument) }
    @inlinable public var orderSide: Side { side == Side.buy.rawValue ? .buy : .sell }
}

extension ExecutionReport {
    @inlinable public var instrumentID: InstrumentID { InstrumentID(instrument) }
    @inlinable public var reportKind: kairos_exec_kind { kairos_exec_kind(rawValue: UInt32(kind)) }
}

/// Names of the slots in a `FeatureVector`, in `kairos_features.h` order.
public enum Feature: Int, CaseIterable, Sendable, CustomStringConvertible {
    case logReturn = 0, emaFast, emaSlow, emaSpread, rollingMean, rollingVariance, realizedVolatility,
        zScore, rsi, momentum, highLowRange, volumeImbalance
    public static let count = Int(KAIROS_FEAT_COUNT.rawValue)
    public var description: String {
        switch self {
        case .logReturn: "log_return"
        case .emaFast: "ema_fast"
        case .emaSlow: "ema_slow"
        case .emaSpread: "ema_spread"
        case .rollingMean: "rolling_mean"
        case .rollingVariance: "rolling_variance"
        case .realizedVolatility: "realized_volatility"
        case .zScore: "zscore"
        case .rsi: "rsi"
        case .momentum: "momentum"
        case .highLowRange: "high_low_range"
        case .volumeImbalance: "volume_imbalance"
        }
    }
}

extension FeatureVector {
    /// Reads one feature without copying the vector to the heap.
    @inlinable public subscript(_ feature: Feature) -> Double {
        withUnsafeBytes(of: v) { $0.load(fromByteOffset: feature.rawValue &* 8, as: Double.self) }
    }
    @inlinable public subscript(index i: Int) -> Double {
        withUnsafeBytes(of: v) { $0.load(fromByteOffset: i &* 8, as: Double.self) }
    }
    public static var zero: FeatureVector { FeatureVector() }
}

extension ExecutionReport {
    /// A report answering `order`: its id, instrument and side, at `now`, with `leaves` remaining
    /// and, for a REJECT, its `reason`. Fill fields are left at zero for the caller.
    @inlinable public init(
        answering order: Order, kind: kairos_exec_kind, now: Int64, leaves: Double = 0, reason: OrderRejectReason? = nil
    ) {
        self.init()
        client_order_id = order.client_order_id
        ts_ns = now
        instrument = order.instrument
        self.kind = UInt8(kind.rawValue)
        side = order.side
        leaves_qty = leaves
        self.reason = reason?.rawValue ?? 0
    }
}
