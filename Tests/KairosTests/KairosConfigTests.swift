import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct KairosConfigTests {
    @Test func partialFilesKeepDefaultsAndBadOnesAreRefused() throws {
        let json = #"{"instruments": ["AAA", "BBB"], "policy": {"kind": "buyhold", "barSeconds": 60}}"#
        let c = try JSONDecoder().decode(KairosConfig.self, from: Data(json.utf8))
        #expect(c.instruments == ["AAA", "BBB"])
        #expect(c.policy.kind == .buyhold && c.policy.barSeconds == 60 && c.policy.slow == 30)
        #expect(c.feed == KairosConfig.Feed())
        #expect(c.redis == nil)
        let ec = try EngineBuilder(config: c).engineConfig(maxExposure: 1, liveFeed: true)
        #expect(ec.instruments.map(\.symbol) == ["AAA", "BBB"])
        #expect(ec.instruments[1].id == InstrumentID(1))
        for bad in [
            #"{"instruments": []}"#, #"{"instruments": ["A", "A"]}"#, #"{"ringCapacity": 1000}"#,
            #"{"policy": {"kind": "magic"}}"#, #"{"policy": {"fast": 40}}"#, #"{"capitalPerInstrument": "lots"}"#,
        ] {
            #expect(throws: (any Error).self) { try JSONDecoder().decode(KairosConfig.self, from: Data(bad.utf8)) }
        }
        // Round trip.
        let again = try JSONDecoder().decode(KairosConfig.self, from: JSONEncoder().encode(c))
        #expect(again == c)
    }
}
