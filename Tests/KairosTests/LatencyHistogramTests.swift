import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct LatencyHistogramTests {
    @Test func bucketsCoverValuesWithBoundedError() {
        var v: Int64 = 0
        while v < 1 << 40 {
            let b = LatencyHistogram.bucket(for: v)
            let lo = LatencyHistogram.lowerBound(of: b), hi = LatencyHistogram.upperBound(of: b)
            #expect(lo <= v && v <= hi, "value \(v) bucket \(b) [\(lo), \(hi)]")
            #expect(Double(hi - lo) <= max(1, Double(v) / 64), "bucket too wide at \(v)")
            v = v < 300 ? v + 1 : v + v / 7
        }
    }

    @Test func percentilesOfAKnownDistribution() {
        var h = LatencyHistogram()
        for v in 1...10_000 { h.record(Int64(v)) }
        #expect(h.totalCount == 10_000)
        let p50 = h.percentile(0.5), p99 = h.percentile(0.99), p999 = h.percentile(0.999)
        #expect(abs(Double(p50) - 5_000) / 5_000 < 0.02)
        #expect(abs(Double(p99) - 9_900) / 9_900 < 0.02)
        #expect(abs(Double(p999) - 9_990) / 9_990 < 0.02)
        #expect(h.percentile(1) == 10_000)
        #expect(h.maxValue == 10_000 && h.minValue == 1)
        #expect(abs(h.mean - 5_000.5) < 1e-9)
        var g = LatencyHistogram()
        g.record(1_000_000)
        h.merge(g)
        #expect(h.totalCount == 10_001 && h.maxValue == 1_000_000)
        h.reset()
        #expect(h.totalCount == 0 && h.percentile(0.5) == 0)
    }
}
