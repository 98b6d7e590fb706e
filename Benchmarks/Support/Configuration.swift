// Run configuration shared by every Kairos benchmark suite.
import Benchmark

/// Full or short (CI) run.
///
/// The short run is selected by `KAIROS_BENCH_SHORT=1` in the environment (run.sh --short sets it):
/// at most ~1 s and 2,000 iterations per benchmark, so the whole set fits a CI step. The full run
/// gives each benchmark up to 5 s / 1 M iterations, enough samples for a stable p99.9.
public enum KairosBench {
    public static var isShort: Bool {
        guard let c = getenv("KAIROS_BENCH_SHORT") else { return false }
        let v = String(cString: c)
        return !v.isEmpty && v != "0"
    }

    /// The metrics every Kairos benchmark reports: latency, throughput and allocations.
    /// (Computed, not stored: package-benchmark's types are not Sendable.)
    public static var metrics: [BenchmarkMetric] { [.wallClock, .throughput, .mallocCountTotal] }

    /// Zero allocations per measured iteration, at every percentile: the hot paths allocate
    /// nothing after setup. run.sh fails when any measured iteration allocated; the thresholds
    /// also serve `benchmark baseline check`. Latency is reported but never gated: the shared
    /// 2-core machine makes it noisy.
    public static var noAllocation: [BenchmarkMetric: BenchmarkThresholds] {
        [.mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0])]
    }

    /// A configuration for one benchmark. `scalingFactor` > .one means each iteration performs
    /// that many operations (loop over `benchmark.scaledIterations`, or one batch of that many
    /// items) and the table reports per-operation figures.
    public static func configuration(
        scalingFactor: BenchmarkScalingFactor = .one, skip: Bool = false
    ) -> Benchmark.Configuration {
        .init(
            metrics: metrics,
            timeUnits: .nanoseconds,
            warmupIterations: isShort ? 10 : 1_000,
            scalingFactor: scalingFactor,
            maxDuration: isShort ? .seconds(1) : .seconds(5),
            maxIterations: isShort ? 2_000 : 1_000_000,
            skip: skip,
            thresholds: noAllocation
        )
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
