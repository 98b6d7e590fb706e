// The engine's data stage: lost ticks counted by default, the one bar aggregator, bar features
// and the regime estimate as engine state (snapshot, context, Redis snapshot), and the risk stage's
// exposure cap and stale-feed halt.
import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// Records what the data stage hands the policy.
struct RecordingPolicy: DecisionPolicy {
    var name: String { "recording" }
    var requirements = DataRequirements()
    var target: Double? = nil
    var bars: [Bar] = []
    var barsClosed: [UInt64] = []
    var regimes: [RegimeEstimate?] = []
    var barFeatures: [FeatureVector] = []
    var dataRequirements: DataRequirements { requirements }
    mutating func decide(_ c: DecisionContext) -> Double? {
        if let b = c.bar {
            bars.append(b)
            barsClosed.append(c.barsClosed)
            regimes.append(c.regime)
            barFeatures.append(c.barFeatures)
        }
        return target
    }
}

@Suite struct DataStageTests {
    static func engine<P: DecisionPolicy>(_ policy: P, instruments: Int = 1) throws -> Engine<P, SimulatedClock> {
        try Engine(
            config: EngineConfig.synthetic(instruments: instruments), policy: policy, clock: SimulatedClock(),
            inbound: SPSCRing<Tick>(capacity: 16).claimConsumer(), outbound: SPSCRing<Order>(capacity: 16).claimProducer(),
            executions: SPSCRing<ExecutionReport>(capacity: 16).claimConsumer())
    }

    static func tick(seq: UInt64, ts: Int64, mid: Double = 100, instrument: Int = 0, publisher: UInt16 = 0) -> Tick {
        Tick(
            instrument: InstrumentID(instrument), seq: seq, exchangeTime: ts, receiveTime: ts, bid: mid - 0.01, ask: mid + 0.01,
            publisher: publisher)
    }

    /// Without stale-feed detection (a backtest's setting) the engine still tracks sequences: a gap
    /// in the middle and the ticks a publisher sent before the engine first heard from it are both
    /// counted, and the snapshot says how many ticks were lost.
    @Test func lostTicksAreCountedByDefaultInTheMiddleAndAtTheStart() throws {
        let e = try Self.engine(ScriptedPolicy(target: nil))
        #expect(e.config.staleAfterNs == nil)
        // Publisher 3 joined at its sequence 101: 100 ticks were sent before this engine heard it.
        for (k, s) in [101, 102, 103, 107, 108].enumerated() { e.processTick(Self.tick(seq: UInt64(s), ts: Int64(k), publisher: 3)) }
        // Publisher 4 from its first tick, with a duplicate and a late arrival filling one hole.
        for (k, s) in [1, 2, 2, 5, 3].enumerated() { e.processTick(Self.tick(seq: UInt64(s), ts: Int64(10 + k), publisher: 4)) }
        let q = e.sequences.stats
        #expect(q.missedBeforeFirst == 100)
        #expect(q.gaps == 2 && q.missing == 3 + 2)
        #expect(q.outOfOrder == 1 && q.duplicates == 1)
        #expect(q.lostInGaps == 4)
        #expect(q.lost == 104)
        #expect(e.counters.sequenceDropped == 1)
        let s = e.snapshot(now: 0)
        #expect(s.sequences == q)
        #expect(s.ticksLost == 104)
    }

    /// `.ticks(n)` closes a bar on every n-th tick; `.interval` closes the bar of an interval on the
    /// first tick of a later one, per instrument, with skipped intervals producing no empty bars.
    @Test func barRules() {
        var three = BarAggregator(rule: .ticks(3))
        var closed: [Bar] = []
        for (k, m) in [100.0, 103, 99, 101, 102, 104].enumerated() {
            if let b = three.add(Self.tick(seq: UInt64(k + 1), ts: Int64(k), mid: m)) { closed.append(b) }
        }
        #expect(closed.count == 2 && three.closed == 2)
        #expect(closed[0].open == 100 && closed[0].close == 99 && closed[0].high == 103 && closed[0].low == 99)
        #expect(closed[1].open == 99 && closed[1].close == 104 && closed[1].timestamp == 5)

        var timed = BarAggregator(rule: .interval(ns: 1_000))
        #expect(timed.add(Self.tick(seq: 1, ts: 10, mid: 100)) == nil)
        #expect(timed.add(Self.tick(seq: 2, ts: 999, mid: 101)) == nil)
        let first = timed.add(Self.tick(seq: 3, ts: 1_000, mid: 105))  // opens [1000, 2000): closes [0, 1000)
        #expect(first?.close == 101 && first?.open == 100 && first?.timestamp == 999)
        #expect(timed.add(Self.tick(seq: 4, ts: 1_500, mid: 106)) == nil)
        let second = timed.add(Self.tick(seq: 5, ts: 7_000, mid: 90))  // intervals 2..6 had no ticks: no bars
        #expect(second?.open == 101 && second?.close == 106 && second?.high == 106 && second?.low == 101)
        #expect(timed.closed == 2)
    }

    /// The policy gets the bar its tick closed, the bar features (as training computes them) and
    /// the regime estimate the engine holds; the snapshot carries the same regime.
    @Test func policiesReadBarsBarFeaturesAndTheRegimeFromTheDataStage() throws {
        let market = SyntheticMarket(scenario: .persistent, instruments: 1, seed: 3)
        let fitBars = BarAggregator.synthetic(market: SyntheticMarket(scenario: .persistent, instruments: 1, seed: 4), count: 2_000).bars
        let model = GaussianHMM.fit(bars: fitBars)
        var policy = RecordingPolicy()
        policy.requirements = DataRequirements(bars: .ticks(2), barFeatures: .standard, regimeDetector: GaussianHMMFilter(model: model))
        let e = try Self.engine(policy)
        var source = SyntheticTickSource(market: market, limit: 400)
        var t = Tick()
        var ticks: [Tick] = []
        while source.nextTick(into: &t) {
            ticks.append(t)
            e.processTick(t)
        }
        let seen = e.policy
        #expect(seen.bars.count == 200)
        #expect(seen.barsClosed == (1...200).map(UInt64.init))
        // The same bars offline, and the detector run over them offline.
        var replay = ListOfTicks(ticks: ticks)
        let offline = BarAggregator.bars(of: &replay, instrument: InstrumentID(0), ticksPerBar: 2) { _ in 0 }.bars
        #expect(seen.bars == offline)
        let features = try AgentObservation.featureHistory(bars: offline, config: .standard)
        // Bit for bit (warm-up values may be NaN, which == would never match).
        func bits(_ f: FeatureVector) -> [UInt64] { (0..<Feature.allCases.count).map { f[index: $0].bitPattern } }
        #expect(seen.barFeatures.map(bits) == features.map(bits))
        var filter = GaussianHMMFilter(model: model)
        filter.reset(logPrice: log(offline[0].close))
        let expected = [nil] + offline.dropFirst().map { filter.update(logPrice: log($0.close)) }
        #expect(seen.regimes == expected)
        #expect(e.regime(of: InstrumentID(0)) == expected.last!)
        #expect(e.snapshot(now: 0).regimes == [expected.last!])
    }

    /// The regime goes to the feature cache with the features (the Redis hash's regime fields).
    @Test func theRegimeEstimateReachesTheFeatureSnapshot() throws {
        let fitBars = BarAggregator.synthetic(market: SyntheticMarket(scenario: .persistent, instruments: 1, seed: 4), count: 2_000).bars
        var policy = RecordingPolicy()
        policy.requirements = DataRequirements(regimeDetector: GaussianHMMFilter(model: GaussianHMM.fit(bars: fitBars)))
        let e = try Self.engine(policy)
        let ring = SPSCRing<FeatureSnapshot>(capacity: 64)
        e.snapshots = FeatureSnapshotPublisher(ring: ring.claimProducer(), instrumentCount: 1, intervalNs: 0)
        let cache = ring.claimConsumer()
        for k in 1...3 { e.processTick(Self.tick(seq: UInt64(k), ts: Int64(k), mid: 100 + Double(k))) }
        var got: [FeatureSnapshot] = []
        while let s = cache.pop() { got.append(s) }
        #expect(got.count == 3)
        #expect(got[0].regimeEstimate == nil)  // the first bar only starts the detector
        let r = try #require(e.regime(of: InstrumentID(0)))
        #expect(got[2].regimeEstimate == CachedRegime(r))
    }

    /// The risk stage's one exposure cap: a policy asking 5x trades the cap, and the builder takes
    /// the cap from the policy (the ensemble's agents ask up to 2x) unless the file sets one.
    @Test func theExposureCapComesFromThePolicyAndIsAppliedOnce() throws {
        var source = ListSource(mids: [100, 100, 100])
        let report = try Backtest.run(
            policy: ScriptedPolicy(target: 5), source: &source, config: EngineConfig.synthetic(instruments: 1, capitalPerInstrument: 10_000),
            fills: PaperFillConfig(latencyNs: 0, slippageBps: 0, feeBps: 0))
        #expect(report.snapshot.positions[0].quantity == 100)  // 1x of 10,000 at 100, not 5x

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var kc = KairosConfig()
        kc.policy.models = root.appendingPathComponent("models").path
        #expect(try kc.policy.resolvedKind() == .ensemble)  // the committed models: the main policy by default
        let builder = try EngineBuilder(config: kc)
        let policy = try builder.makePolicy()
        #expect(policy.kind == .ensemble && policy.maxExposure == AgentKind.largestLeverageCap)
        let engine = try builder.makeEngine(policy: policy, clock: SimulatedClock(), rings: EngineRings(), liveFeed: true)
        #expect(engine.config.risk.maxExposure == 2)
        #expect(engine.config.risk == .scaled(capitalPerInstrument: kc.capitalPerInstrument, instruments: 8, maxExposure: 2))
        #expect(engine.data.computesBarFeatures && engine.data.hasRegimeDetector)
        #expect(engine.config.staleAfterNs == Int64(kc.feed.staleAfterSeconds * 1e9))

        var explicit = kc
        explicit.policy.kind = .sma
        #expect(try EngineBuilder(config: explicit).makePolicy().maxExposure == 1)
        var missing = kc
        missing.policy.models = root.appendingPathComponent("no-such-models").path
        #expect(try missing.policy.resolvedKind() == .sma)  // nothing to load: the baseline, said in the log
    }

    /// A stale feed halts the instrument in the risk stage (only reducing orders pass) until fresh
    /// ticks resume it.
    @Test func theRiskStageOwnsTheStaleFeedHalt() throws {
        var risk = RiskManager(limits: .scaled(capitalPerInstrument: 10_000, instruments: 2), instruments: 2)
        risk.staleResumeTicks = 2
        #expect(risk.haltForStaleFeed(1) && !risk.haltForStaleFeed(1))
        #expect(risk.staleHalts == 1 && risk.staleHalted == [false, true])
        let open = OrderIntent(instrument: InstrumentID(1), side: .buy, quantity: 10, price: 100)
        #expect(risk.check(open, exposure: 0, grossNotional: 0, lastPrice: 100, now: 0) == .staleFeed)
        let reduce = OrderIntent(instrument: InstrumentID(1), side: .sell, quantity: 10, price: 100)
        #expect(risk.check(reduce, exposure: 20, grossNotional: 2_000, lastPrice: 100, now: 0) == nil)
        #expect(risk.check(OrderIntent(instrument: InstrumentID(0), side: .buy, quantity: 10, price: 100), exposure: 0, grossNotional: 0, lastPrice: 100, now: 0) == nil)
        #expect(!risk.recordFreshTick(1) && risk.recordFreshTick(1))
        #expect(risk.staleHalted == [false, false])
        #expect(risk.check(open, exposure: 0, grossNotional: 0, lastPrice: 100, now: 2_000_000_000) == nil)
    }
}

/// Ticks from an array (to build bars offline from the ticks the engine saw).
struct ListOfTicks: TickSource {
    let ticks: [Tick]
    var k = 0
    init(ticks: [Tick]) { self.ticks = ticks }
    mutating func nextTick(into tick: inout Tick) -> Bool {
        guard k < ticks.count else { return false }
        tick = ticks[k]
        k += 1
        return true
    }
}
