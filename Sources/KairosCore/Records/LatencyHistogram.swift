/// A fixed-size log-linear histogram of nanosecond latencies (HdrHistogram's idea, 2 significant
/// binary digits of mantissa more than the exponent: every bucket is at most 1/64 ≈ 1.6% wide).
///
/// Implementation Notes
/// - Values 0..<128 get one bucket each; above that, each power of two [2^e, 2^(e+1)) is split into
///   64 equal buckets. Values up to 2^46 ns (~19.5 hours) are representable; larger ones saturate
///   into the last bucket.
/// - `record` is O(1), branch-light and never allocates (storage is allocated once in `init`), so it
///   can sit on the per-tick path. `percentile` is O(buckets) = O(2,700).
/// - Not thread-safe: one writer. Readers on other threads take a `snapshot()` handed over by the
///   owner (the engine publishes copies off the hot path).
public struct LatencyHistogram: Sendable {
    public static let bucketCount = 128 + 40 * 64
    @usableFromInline var counts: [UInt64]
    public private(set) var totalCount: UInt64 = 0
    public private(set) var maxValue: Int64 = 0
    public private(set) var minValue: Int64 = .max
    public private(set) var sum: Double = 0

    public init() {
        counts = [UInt64](repeating: 0, count: Self.bucketCount)
    }

    @inlinable static func bucket(for value: Int64) -> Int {
        let v = UInt64(max(value, 0))
        if v < 128 { return Int(v) }
        let msb = 63 &- v.leadingZeroBitCount  // >= 7
        let shift = msb &- 6                  // mantissa keeps 7 bits: 64...127
        let mantissa = Int(v >> UInt64(shift)) &- 64
        let index = 128 &+ (shift &- 1) &* 64 &+ mantissa
        return min(index, bucketCount - 1)
    }

    /// Lowest value that falls in bucket `index`.
    static func lowerBound(of index: Int) -> Int64 {
        if index < 128 { return Int64(index) }
        let shift = (index - 128) / 64 + 1
        let mantissa = Int64((index - 128) % 64 + 64)
        return mantissa << Int64(shift)
    }

    /// Highest value that falls in bucket `index`.
    static func upperBound(of index: Int) -> Int64 {
        index + 1 < bucketCount ? lowerBound(of: index + 1) - 1 : .max
    }

    public mutating func record(_ value: Int64) {
        counts.withUnsafeMutableBufferPointer { $0[Self.bucket(for: value)] &+= 1 }
        totalCount &+= 1
        if value > maxValue { maxValue = value }
        if value < minValue { minValue = value }
        sum += Double(value)
    }

    public var mean: Double { totalCount == 0 ? 0 : sum / Double(totalCount) }

    /// The value at quantile `q` (0...1): the upper edge of the bucket holding the q-th ranked
    /// value, capped at the maximum seen, so it never under-reports a tail.
    public func percentile(_ q: Double) -> Int64 {
        guard totalCount > 0 else { return 0 }
        let rank = max(1, UInt64((q * Double(totalCount)).rounded(.up)))
        var seen: UInt64 = 0
        for i in 0..<counts.count where counts[i] != 0 {
            seen += counts[i]
            if seen >= rank { return min(Self.upperBound(of: i), maxValue) }
        }
        return maxValue
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for i in 0..<counts.count { counts[i] &+= other.counts[i] }
        totalCount &+= other.totalCount
        maxValue = max(maxValue, other.maxValue)
        minValue = min(minValue, other.minValue)
        sum += other.sum
    }

    public mutating func reset() {
        for i in 0..<counts.count { counts[i] = 0 }
        totalCount = 0
        maxValue = 0
        minValue = .max
        sum = 0
    }

    /// p50 / p99 / p99.9 / max, in ns.
    public var summary: LatencySummary {
        LatencySummary(
            count: totalCount, p50: percentile(0.5), p99: percentile(0.99), p999: percentile(0.999),
            max: maxValue, mean: mean)
    }
}

public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: UInt64
    public var p50: Int64
    public var p99: Int64
    public var p999: Int64
    public var max: Int64
    public var mean: Double
}
