import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

@Suite struct GatewayFillLogTests {
    @Test func fillsReadBackExactlyAndAppendsAccumulate() throws {
        let path = temporaryPath("filllog")
        defer { unlink(path) }
        let a = FillRecord(gatewayTimeNs: 1_764_000_000_123_456_789, clientOrderID: 1, instrument: 3, side: .buy,
                           quantity: 10, price: 101.0101, fee: 0.20202020202020202)
        let b = FillRecord(gatewayTimeNs: 1_764_000_000_223_456_789, clientOrderID: UInt64.max, instrument: 4095,
                           side: .sell, quantity: 0.1 + 0.2, price: 1e-7, fee: 0)
        do {
            let log = try FillLog(path: path, sync: .everyFill)
            try log.append(a)
            #expect(log.appended == 1)
        }
        do {  // reopening appends; no second header
            let log = try FillLog(path: path, sync: .never)
            try log.append(b)
        }
        let (fills, torn) = try FillLog.read(path: path)
        #expect(!torn)
        #expect(fills == [a, b])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix(FillLog.header + "\n"))
        #expect(text.components(separatedBy: FillLog.header).count == 2)
    }

    @Test func aTornLastLineIsSkippedAndABadLineThrows() throws {
        let path = temporaryPath("torn")
        defer { unlink(path) }
        try (FillLog.header + "\n1,2,3,buy,1,2,0.1\n4,5,6,sel").write(toFile: path, atomically: false, encoding: .utf8)
        let (fills, torn) = try FillLog.read(path: path)
        #expect(torn && fills.count == 1 && fills[0].clientOrderID == 2 && fills[0].fee == 0.1)
        try (FillLog.header + "\n1,2,3,buy,1,2,0.1\n4,5,6,hold,1,2,0\n").write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: FillLogError.self) { try FillLog.read(path: path) }
    }

    @Test func anUnwritablePathIsAnError() {
        let error = #expect(throws: SystemError.self) { try FillLog(path: "/nonexistent-dir/fills.csv") }
        #expect(error?.errno == ENOENT)
    }
}
