import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct BarSampledPolicyTests {
    struct Counting: DecisionPolicy {
        var name: String { "counting" }
        var calls: [Int64] = []
        mutating func decide(_ c: DecisionContext) -> Double? {
            calls.append(c.tick.ts_exchange_ns)
            return 1
        }
    }

    func context(_ ts: Int64, instrument: Int = 0) -> DecisionContext {
        let t = Tick(instrument: InstrumentID(instrument), seq: 1, exchangeTime: ts, receiveTime: ts, bid: 99, ask: 101)
        return DecisionContext(
            instrument: InstrumentID(instrument), tick: t, price: 100, features: FeatureVector(), featureUpdates: 1,
            position: 0, exposure: 0, now: ts)
    }

    @Test func asksTheInnerPolicyOncePerBarPerInstrument() {
        var p = BarSampledPolicy(Counting(), barIntervalNs: 1_000, instruments: 2)
        #expect(p.decide(context(10)) == 1)
        #expect(p.decide(context(999)) == nil)
        #expect(p.decide(context(500, instrument: 1)) == 1)  // instruments are independent
        #expect(p.decide(context(1_000)) == 1)
        #expect(p.decide(context(1_500)) == nil)
        #expect(p.decide(context(5_000)) == 1)  // skipped bars are fine
        #expect(p.inner.calls == [10, 500, 1_000, 5_000])
        #expect(p.name == "counting@1000ns")
    }
}
