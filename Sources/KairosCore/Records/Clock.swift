// Clocks. The engine never reads time directly: it asks an `EngineClock`, so a backtest can drive
// it with simulated time and live trading with the wall clock (one code path for both).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of "now" in nanoseconds.
public protocol EngineClock {
    /// Nanoseconds; monotonic non-decreasing for a given clock.
    func now() -> Int64
}

/// CLOCK_MONOTONIC through the vDSO: no syscall, ~20 ns. The clock for latency measurements and for
/// the timestamps the engine and the in-process paper venue compare with each other.
public struct MonotonicClock: EngineClock, Sendable {
    public init() {}
    @inlinable public func now() -> Int64 { MonotonicClock.nanoseconds() }
    @inlinable public static func nanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}

/// CLOCK_REALTIME: nanoseconds since the Unix epoch, for timestamps that leave the process.
public struct WallClock: EngineClock, Sendable {
    public init() {}
    @inlinable public func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}

/// Simulated time for backtests: whoever drives the backtest sets it (usually to each tick's
/// timestamp) before handing the tick to the engine.
///
/// Implementation notes: a plain reference-typed cell so the driver and the engine share it. It is
/// `@unchecked Sendable` because a backtest runs the driver, the engine and the paper venue on one
/// thread; it must never be advanced from one thread while another reads it.
public final class SimulatedClock: EngineClock, @unchecked Sendable {
    public private(set) var current: Int64
    public init(start: Int64 = 0) { current = start }
    @inlinable public func now() -> Int64 { current }
    /// Moves time forward; time never goes backwards.
    public func advance(to t: Int64) { if t > current { current = t } }
}
