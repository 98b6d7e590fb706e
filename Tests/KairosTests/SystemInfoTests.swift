import Testing
@testable import Kairos

@Suite struct SystemInfoTests {
    @Test func reportsLinkedLibraries() {
        let v = SystemInfo.libraryVersions
        #expect(v.hasPrefix("zmq "))
        #expect(v.contains("hiredis"))
        #expect(v.contains("io_uring"))
    }
}
