import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

/// The ensemble policy the engine runs, against the offline (training-time) observation path.
@Suite struct AgentEnsembleTests {
    static let bars = 1_500

    /// A model file for `kind` with an orthogonally initialised actor (untrained, but a fixed,
    /// non-trivial function of the observation) and a normaliser fitted on real observations.
    static func writeModel(_ kind: AgentKind, seed: UInt64, observations: [Float], to dir: URL) throws {
        let actor = DenseNetwork(layerSizes: [AgentObservation.size, 64, 64, 3], maxBatch: 1)
        var rng = Xoshiro256StarStar(seed: seed)
        actor.initializeOrthogonal(rng: &rng, outputGain: 3)
        var norm = RunningObservationNormalizer(size: AgentObservation.size)
        observations.withUnsafeBufferPointer { norm.update($0.baseAddress!, rows: observations.count / AgentObservation.size) }
        let meta = AgentModelMetadata(agentKind: kind.name, features: AgentObservation.names, trainingDataHash: "test", seed: seed)
        let st = AgentModel.make(actor: actor, critic: nil, normalizer: norm, normalized: true, config: nil, metadata: meta)
        try st.write(to: dir.appendingPathComponent("\(kind.name).safetensors"))
    }

    struct Fixture {
        let dir: URL
        let market: SyntheticMarket
        let bars: [Bar]
        let regimeModel: GaussianHMMModel
    }

    static func fixture(kinds: [AgentKind]) throws -> Fixture {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kairos-ens-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let market = SyntheticMarket(scenario: .fastSwitching, instruments: 1, seed: 21)
        let bars = BarAggregator.synthetic(market: market, count: Self.bars).bars
        let features = try AgentObservation.featureHistory(bars: bars)
        let marketRows = AgentObservation.marketMatrix(features: features)
        var obs = [Float]()
        for t in 0..<bars.count {
            obs += marketRows[t * AgentObservation.marketSize ..< (t + 1) * AgentObservation.marketSize]
            obs += [Float(t % 3) - 1, 0]
        }
        for (n, k) in kinds.enumerated() { try writeModel(k, seed: 100 + UInt64(n), observations: obs, to: dir) }
        let fitBars = BarAggregator.synthetic(market: SyntheticMarket(scenario: .fastSwitching, instruments: 1, seed: 5), count: 3_000).bars
        return Fixture(dir: dir, market: market, bars: bars, regimeModel: GaussianHMM.fit(bars: fitBars))
    }

    /// Runs the policy over the market's ticks as the engine would; returns the exposure asked for
    /// at each bar (nil while warming up).
    static func run(_ policy: inout some DecisionPolicy, market: SyntheticMarket, bars: Int) -> [Double?] {
        runWithDataStage(&policy, market: market, bars: bars).decisions
    }

    /// `run`, also returning the data stage (set up from the policy's requirements, as the engine
    /// sets its own) that fed the policy its bars, bar features and regime estimates.
    static func runWithDataStage(_ policy: inout some DecisionPolicy, market: SyntheticMarket, bars: Int)
        -> (decisions: [Double?], data: MarketDataStage)
    {
        let data = try! MarketDataStage(instruments: market.instruments, requirements: policy.dataRequirements)
        var source = SyntheticTickSource(market: market, limit: bars)
        var t = Tick()
        var out: [Double?] = []
        while source.nextTick(into: &t) {
            guard data.ingest(t, now: t.ts_exchange_ns).outcome == .accepted else { continue }
            out.append(policy.decide(data.context(instrument: Int(t.instrument), tick: t, position: 0, exposure: 0, now: t.ts_exchange_ns)))
        }
        return (out, data)
    }

    /// One agent, selection without hysteresis or ramp: the engine-side ensemble must trade exactly
    /// what the agent decides on the training-time (batch) observations of the same bars.
    @Test func oneAgentEnsembleEqualsTheAgentOnBatchObservations() throws {
        let f = try Self.fixture(kinds: [.balanced])
        defer { try? FileManager.default.removeItem(at: f.dir) }
        var c = AgentEnsembleConfig()
        c.meta.mode = .select
        c.meta.transitionSteps = 1
        c.meta.minDwell = 1
        c.warmupBars = 40
        let agents = try AgentEnsemble.loadAgents(directory: f.dir.path)
        #expect(agents.count == 1)
        var policy = try AgentEnsemble.make(rule: .hedge, agents: agents, regimeModel: f.regimeModel, instruments: 1, config: c)
        let online = Self.run(&policy, market: f.market, bars: Self.bars)

        // Offline: the batch observation rows plus the agent's own position / unrealized PnL.
        let reference = try AgentModel.loadPolicy(contentsOf: f.dir.appendingPathComponent("balanced.safetensors"))
        let rows = AgentObservation.marketMatrix(features: try AgentObservation.featureHistory(bars: f.bars))
        var pos = 0.0, entry = 0.0
        var expected: [Double?] = []
        var obs = [Float](repeating: 0, count: AgentObservation.size)
        for t in 0..<f.bars.count {
            guard t + 1 >= c.warmupBars, t >= 1 else {
                expected.append(nil)
                continue
            }
            for j in 0..<AgentObservation.marketSize { obs[j] = rows[t * AgentObservation.marketSize + j] }
            obs[AgentObservation.positionIndex] = Float(pos)
            obs[AgentObservation.unrealizedPnLIndex] = Float(AgentObservation.unrealizedPnLBps(position: pos, entryPrice: entry, price: f.bars[t].close))
            let target = AgentKind.balanced.targetPosition(action: Int32(obs.withUnsafeBufferPointer { reference.act($0) }))
            if target != pos { entry = target == 0 ? 0 : f.bars[t].close }
            pos = target
            expected.append(target)
        }
        #expect(online.count == expected.count)
        #expect(online == expected)
        // Not a constant policy: the comparison above covers changes of position.
        #expect(Set(expected.compactMap { $0 }).count > 1)
    }

    /// Four agents blended by Hedge: seeded determinism, bounded exposure, shadow books on the
    /// agents' action grids, one meta decision per bar after warm-up.
    @Test func fourAgentEnsembleIsDeterministicAndBounded() throws {
        let f = try Self.fixture(kinds: AgentKind.allCases)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        func make() throws -> AgentEnsemblePolicy<Hedge> {
            var c = AgentEnsembleConfig()
            c.warmupBars = 30
            return try AgentEnsemblePolicy<Hedge>(
                agents: try AgentEnsemble.loadAgents(directory: f.dir.path), regimeModel: f.regimeModel, instruments: 1, config: c
            ) { k, seed in Hedge(armCount: k, seed: seed, horizon: 10_000) }
        }
        var a = try make(), b = try make()
        let (ra, data) = Self.runWithDataStage(&a, market: f.market, bars: Self.bars)
        let rb = Self.run(&b, market: f.market, bars: Self.bars)
        #expect(ra == rb)
        let decided = ra.compactMap { $0 }
        #expect(decided.count == Self.bars - 29)
        #expect(decided.allSatisfy { abs($0) <= 2 })
        #expect(Set(decided).count > 3)  // blending moves the exposure
        for (k, kind) in a.kinds.enumerated() {
            let p = a.shadowPosition(instrument: 0, agent: k)
            #expect([-kind.leverageCap, 0, kind.leverageCap].contains(p))
        }
        let meta = a.metaAgent(instrument: 0)
        #expect(meta.decisions == decided.count)
        #expect(meta.explanation() != nil)
        #expect(data.regime(of: InstrumentID(0)) != nil)  // the engine-side regime the policy read
    }

    /// The meta-agent and the shadow books survive a restart: saved, loaded into a fresh ensemble,
    /// saved again byte for byte, and the restored ensemble keeps deciding (and counting) from there.
    @Test func stateSurvivesARestart() throws {
        let f = try Self.fixture(kinds: AgentKind.allCases)
        defer { try? FileManager.default.removeItem(at: f.dir) }
        func make() throws -> AgentEnsemblePolicy<DiscountedUCB> {
            var c = AgentEnsembleConfig()
            c.warmupBars = 30
            return try AgentEnsemblePolicy<DiscountedUCB>(
                agents: try AgentEnsemble.loadAgents(directory: f.dir.path), regimeModel: f.regimeModel, instruments: 1, config: c
            ) { k, _ in DiscountedUCB(armCount: k) }
        }
        var first = try make()
        _ = Self.run(&first, market: f.market, bars: 600)
        let saved = f.dir.appendingPathComponent("state.json").path
        try first.saveState(toPath: saved)
        let decided = first.metaAgent(instrument: 0).decisions
        #expect(decided == 600 - 29)

        var second = try make()
        try second.loadState(fromPath: saved)
        let again = f.dir.appendingPathComponent("again.json").path
        try second.saveState(toPath: again)
        #expect(try Data(contentsOf: URL(fileURLWithPath: saved)) == Data(contentsOf: URL(fileURLWithPath: again)))
        for k in 0..<4 { #expect(second.shadowPosition(instrument: 0, agent: k) == first.shadowPosition(instrument: 0, agent: k)) }
        // Continue on later ticks: features and the regime filter warm up again, learning goes on.
        let later = SyntheticMarket(scenario: .fastSwitching, instruments: 1, seed: 77)
        let out = Self.run(&second, market: later, bars: 300)
        #expect(second.metaAgent(instrument: 0).decisions == decided + out.compactMap { $0 }.count)
        #expect(out.compactMap { $0 }.count == 300 - 29)

        // A state saved for other agents or another rule is refused.
        let other = try AgentEnsemblePolicy<Hedge>(
            agents: try AgentEnsemble.loadAgents(directory: f.dir.path), regimeModel: f.regimeModel, instruments: 1
        ) { k, seed in Hedge(armCount: k, seed: seed) }
        #expect(throws: ConfigError.self) { try other.loadState(fromPath: saved) }
    }
}
