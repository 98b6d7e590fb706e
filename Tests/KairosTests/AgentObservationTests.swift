import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct AgentObservationTests {
    @Test func kindsHaveTheIssueCapsAndActionMapping() throws {
        #expect(AgentKind.allCases.map(\.leverageCap) == [0.5, 2, 1, 1])
        for k in AgentKind.allCases {
            #expect(k.targetPosition(action: 0) == -k.leverageCap)
            #expect(k.targetPosition(action: 1) == 0)
            #expect(k.targetPosition(action: 2) == k.leverageCap)
            let data = try JSONEncoder().encode(k)
            #expect(try JSONDecoder().decode(AgentKind.self, from: data) == k)
            #expect(AgentKind(rawValue: k.name) == k)
        }
        #expect(AgentObservation.names.count == AgentObservation.size)
    }

    @Test func tickRuleSplitsBarVolume() {
        let b = Bar(timestamp: 0, open: 10, high: 11, low: 9, close: 10.5, volume: 100)
        let up = AgentObservation.featureInput(bar: b, previousClose: 10)
        #expect(up.buy_volume == 100 && up.sell_volume == 0 && up.price == 10.5 && up.high == 11 && up.low == 9)
        let down = AgentObservation.featureInput(bar: b, previousClose: 11)
        #expect(down.buy_volume == 0 && down.sell_volume == 100)
        let first = AgentObservation.featureInput(bar: b, previousClose: nil)
        #expect(first.buy_volume == 50 && first.sell_volume == 50)
    }

    /// The online path (engine-side: FeatureState + builder, bar by bar, with the positions the
    /// agent took) produces exactly the floats the evaluation / environment shows.
    @Test func onlineObservationsEqualBatchObservations() throws {
        let ds = try TradingDataset.synthetic(count: 800, seed: 5)
        let observer = try AgentBarObserver()
        var online = [Float](repeating: 0, count: AgentObservation.size)
        var mismatches = 0, compared = 0
        // A policy that records every observation it is shown and acts on a fixed pattern.
        final class Recorder {
            var rows: [[Float]] = []
        }
        let rec = Recorder()
        let pattern: [Int32] = [2, 2, 0, 1, 1, 2, 0, 0, 2, 1, 1, 1]
        let policy = ClosureTradingPolicy { obs in
            rec.rows.append(Array(obs))
            return pattern[(rec.rows.count - 1) % pattern.count]
        }
        let start = 100
        let run = TradingEvaluation.run(policy, agent: .aggressive, dataset: ds, range: start..<ds.count)
        #expect(rec.rows.count == ds.count - start - 1)
        for t in 0..<(ds.count - 1) {
            observer.update(bar: ds.bars[t])
            guard t >= start else { continue }
            online.withUnsafeMutableBufferPointer { observer.write(into: $0) }
            if online != rec.rows[t - start] { mismatches += 1 }
            compared += 1
            observer.commit(position: run.positions[t - start])
        }
        #expect(compared == rec.rows.count)
        #expect(mismatches == 0)
        // And the market part is the dataset row, lags shift by one bar.
        for t in 200..<210 {
            let row = Array(ds.marketRow(t)), prev = Array(ds.marketRow(t - 1))
            #expect(row[8] == prev[0] && row[9] == prev[8] && row[10] == prev[9] && row[11] == prev[10])
        }
        // Non-trivial: positions and PnL actually vary.
        #expect(Set(rec.rows.map { $0[AgentObservation.positionIndex] }).count == 3)
        #expect(rec.rows.contains { $0[AgentObservation.unrealizedPnLIndex] != 0 })
    }

    /// The environment's observations (first, every step, and the final one of a truncated
    /// episode) equal the online observer's, fed the same bars and positions.
    @Test func environmentObservationsEqualTheOnlineObserver() throws {
        let ds = try TradingDataset.synthetic(count: 1_200, seed: 6)
        let L = 150
        var env = TradingEnvironment(dataset: ds, config: .training(.conservative, episodeLength: L), count: 1)
        var buf = VectorStepBuffers(count: 1, observationSize: env.observationSize)
        env.reset(seed: 12, into: &buf)
        let start = env.currentBar(of: 0)
        let observer = try AgentBarObserver()
        for t in 0...start { observer.update(bar: ds.bars[t]) }
        var online = [Float](repeating: 0, count: AgentObservation.size)
        online.withUnsafeMutableBufferPointer { observer.write(into: $0) }
        #expect(online == buf.observations)
        var g = Xoshiro256StarStar(seed: 2)
        for k in 1...L {
            let a = Int32(g.next() % 3)
            observer.commit(position: AgentKind.conservative.targetPosition(action: a))
            env.step(actions: [a], into: &buf)
            observer.update(bar: ds.bars[start + k])
            online.withUnsafeMutableBufferPointer { observer.write(into: $0) }
            #expect(online == (k == L ? buf.finalObservations : buf.observations), "step \(k)")
        }
        #expect(buf.truncated[0])
    }

    @Test func marketRowsHaveSaneScales() throws {
        let ds = try TradingDataset.synthetic(count: 2_000, seed: 8)
        let m = AgentObservation.marketSize
        for t in 30..<ds.count {
            for i in 0..<m {
                let x = ds.market[t * m + i]
                #expect(x.isFinite)
                // The 30-bar high-low range (entry 6) of the engine's tick bars reaches ~57 % of the
                // close in volatile stretches; every other entry stays under 5 000 (bps, sigmas).
                #expect(abs(x) < (i == 6 ? 10_000 : 5_000), "entry \(AgentObservation.names[i]) at bar \(t) = \(x)")
            }
            #expect(abs(ds.market[t * m + 0] - Float(log(ds.closes[t] / ds.closes[t - 1]) * 1e4)) < 1e-2)
            #expect(Double(ds.market[t * m + 2]) == Double(Float(ds.zScores[t])))
        }
    }
}
