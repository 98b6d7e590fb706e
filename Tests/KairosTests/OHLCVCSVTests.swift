import Foundation
import Testing
@testable import KairosCore
@testable import KairosStrategies
@testable import KairosIO
@testable import KairosSim
@testable import KairosTraining
@testable import KairosApp
@testable import KairosTesting

private let day: Int64 = 86_400_000_000_000
/// 2018-12-31T00:00:00Z in ns.
private let d20181231: Int64 = 1_546_214_400 * 1_000_000_000

@Suite struct OHLCVCSVTests {

    @Test func civilDaysAlgorithm() {
        #expect(OHLCVCSV.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(OHLCVCSV.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
        #expect(OHLCVCSV.daysFromCivil(year: 1969, month: 12, day: 31) == -1)
        #expect(OHLCVCSV.daysFromCivil(year: 2018, month: 12, day: 31) == 17_896)
        // Round trip over a wide span, including leap days and negative days.
        for z in stride(from: -800_000, through: 800_000, by: 97) {
            let (y, m, d) = OHLCVCSV.civilFromDays(z)
            #expect(OHLCVCSV.daysFromCivil(year: y, month: m, day: d) == z)
        }
    }

    @Test(arguments: [
        ("2018-12-31", d20181231),
        ("2018-12-31T00:00:00", d20181231),
        ("2018-12-31T13:45:07Z", d20181231 + (13 * 3600 + 45 * 60 + 7) * 1_000_000_000),
        ("2018-12-31 13:45:07", d20181231 + (13 * 3600 + 45 * 60 + 7) * 1_000_000_000),
        ("2018-12-31T13:45:07.250Z", d20181231 + (13 * 3600 + 45 * 60 + 7) * 1_000_000_000 + 250_000_000),
        ("2018-12-31T13:45:07.123456789", d20181231 + (13 * 3600 + 45 * 60 + 7) * 1_000_000_000 + 123_456_789),
        ("2018-12-31T13:45", d20181231 + (13 * 3600 + 45 * 60) * 1_000_000_000),
        ("2018-12-31T15:45:07+02:00", d20181231 + (13 * 3600 + 45 * 60 + 7) * 1_000_000_000),
        ("2018/12/31", d20181231),
        ("12/31/2018", d20181231),
        ("1/4/1999", Int64(OHLCVCSV.daysFromCivil(year: 1999, month: 1, day: 4)) * day),
        ("31.12.2018 13:45:07.250", d20181231 + (13 * 3600 + 45 * 60 + 7) * 1_000_000_000 + 250_000_000),
        ("31.12.2018", d20181231),
        ("31-12-2018", d20181231),
        ("2000-02-29", Int64(11_016) * day),
        ("1546214400", d20181231),
        ("1546214400000", d20181231),
        ("1546214400000000", d20181231),
        ("1546214400000000000", d20181231),
        ("1546214400.5", d20181231 + 500_000_000),
        ("0", 0),
    ] as [(String, Int64)])
    func timestampLayouts(text: String, expected: Int64) {
        #expect(OHLCVCSV.parseTimestamp(text) == expected, "\(text)")
    }

    @Test(arguments: [
        "", "2018-13-01", "2018-02-29", "1900-02-29", "2018-12-32", "2018-12-31T24:00:00", "2018-12-31T12:60",
        "2018-12-31X", "31/12/2018", "2018-12", "yesterday", "12/31/18", "2018-12-31T12:00:00+25:00", "1-2-3",
        "2018-12-31T12:00:00.", "--5",
    ])
    func rejectsBadTimestamps(text: String) {
        #expect(OHLCVCSV.parseTimestamp(text) == nil, "\(text)")
    }

    @Test func formatTimestampRoundTrips() {
        for ns: Int64 in [0, 1, -1, d20181231, d20181231 + 123_456_789, -86_400_000_000_000 * 400 + 7] {
            let s = OHLCVCSV.formatTimestamp(ns)
            #expect(OHLCVCSV.parseTimestamp(s) == ns, "\(s)")
        }
        #expect(OHLCVCSV.formatTimestamp(d20181231 + 1_000_000_000) == "2018-12-31T00:00:01Z")
    }

    @Test func yahooLayoutWithAdjCloseAndUSDates() throws {
        let text = """
            Date,Open,High,Low,Close,Adj Close,Volume
            1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000
            1/5/1999,1228.099976,1246.109985,1228.099976,1244.780029,1244.780029,775000000

            """
        let t = try OHLCVCSV.parseTable(text)
        #expect(t.bars.count == 2)
        #expect(t.bars[0] == Bar(timestamp: Int64(OHLCVCSV.daysFromCivil(year: 1999, month: 1, day: 4)) * day,
                                 open: 1229.22998, high: 1248.810059, low: 1219.099976, close: 1228.099976, volume: 877_000_000))
        #expect(t.bars[1].timestamp - t.bars[0].timestamp == day)
        #expect(t.adjustedClose == [1228.099976, 1244.780029])
        #expect(t.regimes == nil)
    }

    @Test func isoLowercaseHeadersNoVolumeCRLFAndBOM() throws {
        let text = "\u{FEFF}timestamp,open,high,low,close\r\n2024-01-02T09:30:00.500Z,10,11,9,10.5\r\n2024-01-02T09:31:00.500Z,10.5,10.6,10.1,10.2\r\n"
        let bars = try OHLCVCSV.parse(text)
        #expect(bars.count == 2)
        #expect(bars[0].volume == 0)
        #expect(bars[1].timestamp - bars[0].timestamp == 60_000_000_000)
        #expect(OHLCVCSV.formatTimestamp(bars[0].timestamp) == "2024-01-02T09:30:00.500000000Z")
    }

    @Test func dukascopyLayoutSemicolonsQuotesAndRegimes() throws {
        let text = """
            "Gmt time";"Open";"High";"Low";"Close";"Volume";"Regime"
            "31.12.2018 23:59:58.250";1.5;1.6;1.4;1.55;100;bull
            "31.12.2018 23:59:59.250";1.55;1.56;1.5;1.52;0;3
            """
        let t = try OHLCVCSV.parseTable(text)
        #expect(t.bars.count == 2)
        #expect(t.bars[0].timestamp == d20181231 + 86_398_250_000_000)
        #expect(t.regimes == [.bull, .volatile])
    }

    @Test func separateDateAndTimeColumnsAndEpochMillis() throws {
        let a = try OHLCVCSV.parse("DATE,TIME,OPEN,HIGH,LOW,CLOSE,VOL\n2018.12.31,23:59,1,2,0.5,1.5,7\n")
        #expect(a[0].timestamp == d20181231 + 86_340_000_000_000)
        #expect(a[0].volume == 7)
        let b = try OHLCVCSV.parse("time\topen\thigh\tlow\tclose\tvolume\n1546214400000\t1\t2\t0.5\t1.5\t7\n1546214460000\t1\t2\t0.5\t1.5\t7\n")
        #expect(b.map(\.timestamp) == [d20181231, d20181231 + 60_000_000_000])
    }

    @Test func errorsCarryLineNumbersAndReasons() {
        func err(_ text: String) -> OHLCVCSVError? {
            do { _ = try OHLCVCSV.parseTable(text); return nil } catch let e as OHLCVCSVError { return e } catch { return nil }
        }
        let h = "date,open,high,low,close,volume\n"
        #expect(err("") == .empty)
        #expect(err("date,open,high,low\n2018-01-01,1,1,1\n") == .missingColumn("close"))
        #expect(err("foo,open,high,low,close\n") == .missingColumn("date/time/timestamp"))
        #expect(err(h + "2018-01-01,1,2,0.5,1.5,10\n2018-01-02,1,2,0.5\n") == .fieldCount(line: 3, expected: 6, found: 4))
        #expect(err(h + "2018-01-01,1,2,0.5,1.5,10\n2018-02-30,1,2,0.5,1.5,10\n") == .badTimestamp(line: 3, field: "2018-02-30"))
        #expect(err(h + "2018-01-01,1,2,null,1.5,10\n") == .badNumber(line: 2, column: "low", field: "null"))
        #expect(err(h + "2018-01-01,1,2,0.5,nan,10\n") == .badNumber(line: 2, column: "close", field: "nan"))
        #expect(err(h + "2018-01-01,1,1.2,0.5,1.5,10\n") != nil)
        if case .invalidBar(let line, _)? = err(h + "2018-01-01,1,1.2,0.5,1.5,10\n") { #expect(line == 2) } else { Issue.record("high < close accepted") }
        if case .invalidBar(let line, _)? = err(h + "2018-01-01,-1,2,-2,1.5,10\n") { #expect(line == 2) } else { Issue.record("negative price accepted") }
        if case .invalidBar(let line, _)? = err(h + "2018-01-01,1,2,0.5,1.5,-10\n") { #expect(line == 2) } else { Issue.record("negative volume accepted") }
        let d1 = Int64(OHLCVCSV.daysFromCivil(year: 2018, month: 1, day: 1)) * day
        #expect(err(h + "2018-01-02,1,2,0.5,1.5,10\n2018-01-01,1,2,0.5,1.5,10\n") == .notSorted(line: 3, previous: d1 + day, current: d1))
        #expect(err(h + "2018-01-01,1,2,0.5,1.5,10\n\n2018-01-01,1,2,0.5,1.5,10\n") == .notSorted(line: 4, previous: d1, current: d1))
        #expect(err("date,open,high,low,close,regime\n2018-01-01,1,2,0.5,1.5,rally\n") == .badRegime(line: 2, field: "rally"))
        #expect(OHLCVCSVError.fieldCount(line: 3, expected: 6, found: 4).description.contains("line 3"))
        #expect(throws: OHLCVCSVError.self) { try OHLCVCSV.load(path: "/nonexistent/kairos.csv") }
    }

    static let sp500Path: String = {
        // Tests/KairosTests/OHLCVCSVTests.swift -> package root -> ../shared/data/sp500.csv
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/data/sp500.csv").path
    }()

    @Test func loadsSP500() throws {
        guard FileManager.default.fileExists(atPath: Self.sp500Path) else {
            print("skipping loadsSP500: \(Self.sp500Path) not found")
            return
        }
        let t = try OHLCVCSV.loadTable(path: Self.sp500Path)
        #expect(t.bars.count == 5031)
        #expect(t.adjustedClose?.count == 5031)
        #expect(OHLCVCSV.formatTimestamp(t.bars.first!.timestamp) == "1999-01-04T00:00:00Z")
        #expect(OHLCVCSV.formatTimestamp(t.bars.last!.timestamp) == "2018-12-31T00:00:00Z")
        #expect(t.bars.first!.open == 1229.22998)
        #expect(t.bars.last!.close == 2506.850098)
        #expect(zip(t.bars, t.bars.dropFirst()).allSatisfy { $0.timestamp < $1.timestamp })
    }
}
