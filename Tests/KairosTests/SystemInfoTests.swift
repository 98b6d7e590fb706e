import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct SystemInfoTests {
    @Test func reportsLinkedLibraries() {
        let v = SystemInfo.libraryVersions
        #expect(v.hasPrefix("zmq "))
        #expect(v.contains("hiredis"))
        #expect(v.contains("io_uring"))
    }
}
