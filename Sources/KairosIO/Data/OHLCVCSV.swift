// Reading and writing OHLCV bars as CSV, in the layouts data vendors actually ship. Dates are
// parsed digit by digit (no DateFormatter: it is slow and locale-sensitive) and converted to
// nanoseconds since the Unix epoch, UTC, with Hinnant's days-from-civil algorithm.
import KairosCore
import Foundation

/// Bars read from a CSV file, plus the optional columns.
public struct OHLCVTable: Sendable, Hashable {
    public var bars: [Bar]
    /// The `regime` column, when the file has one (same length as `bars`).
    public var regimes: [Regime]?
    /// The `adj close` column, when the file has one (same length as `bars`).
    public var adjustedClose: [Double]?

    public init(bars: [Bar], regimes: [Regime]? = nil, adjustedClose: [Double]? = nil) {
        self.bars = bars
        self.regimes = regimes
        self.adjustedClose = adjustedClose
    }
}

/// A CSV that could not be read. `line` is 1-based and counts the header line.
public enum OHLCVCSVError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(path: String, reason: String)
    case empty
    case missingColumn(String)
    case fieldCount(line: Int, expected: Int, found: Int)
    case badTimestamp(line: Int, field: String)
    case badNumber(line: Int, column: String, field: String)
    case badRegime(line: Int, field: String)
    /// A structurally parsed row whose prices are impossible (non-positive, high < low, ...).
    case invalidBar(line: Int, reason: String)
    /// Timestamps must strictly increase down the file.
    case notSorted(line: Int, previous: Int64, current: Int64)

    public var description: String {
        switch self {
        case .io(let p, let r): "cannot read \(p): \(r)"
        case .empty: "no header line"
        case .missingColumn(let c): "header has no \(c) column"
        case .fieldCount(let l, let e, let f): "line \(l): expected \(e) fields, found \(f)"
        case .badTimestamp(let l, let f): "line \(l): unrecognised date/time '\(f)'"
        case .badNumber(let l, let c, let f): "line \(l): \(c) is not a number: '\(f)'"
        case .badRegime(let l, let f): "line \(l): unknown regime '\(f)'"
        case .invalidBar(let l, let r): "line \(l): \(r)"
        case .notSorted(let l, let p, let c):
            "line \(l): timestamp \(c) ns is not after the previous row's \(p) ns (rows must be sorted by time, oldest first, no duplicates)"
        }
    }
}

/// OHLCV CSV reader and writer.
///
/// Accepted layouts:
/// - delimiter `,`, `;` or tab (taken from the header line); fields may be double-quoted; a UTF-8
///   BOM, CRLF line ends and blank lines are tolerated.
/// - header names are case-insensitive, trimmed, with spaces/underscores/dashes ignored:
///   time from `timestamp`, `datetime`, `date` (+ a separate `time` column if present),
///   `time`, `gmt time`, `local time`, `utc`; `open`, `high`, `low`, `close` required;
///   `adj close` / `adjusted close` and `volume` (else 0) optional; `regime` optional (name such
///   as `bull`, or its raw value 0-3).
/// - time values: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.f...]]` with optional `Z` or `+HH:MM` /
///   `-HH:MM` offset, the same with a space instead of `T`, `YYYY/MM/DD` and `YYYY.MM.DD` likewise,
///   `M/D/YYYY` (US), `DD.MM.YYYY` and `DD-MM-YYYY` (day first), each optionally followed by a time;
///   or a number = Unix epoch, unit chosen by magnitude: |v| < 1e11 seconds (up to year 5138),
///   < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds. Times without an offset are UTC.
///   Not accepted: `YYYYMMDD` (indistinguishable from epoch seconds).
/// - rows must be sorted by time, strictly increasing; bars must satisfy 0 < low <= min(open,
///   close), max(open, close) <= high, volume >= 0, all finite.
///
/// Implementation Notes: one pass, O(rows * columns); parsing allocates per row (it is a loader,
/// not a tick path).
public enum OHLCVCSV {
    public static func load(path: String) throws -> [Bar] { try loadTable(path: path).bars }
    public static func parse(_ text: String) throws -> [Bar] { try parseTable(text).bars }

    public static func loadTable(path: String) throws -> OHLCVTable {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw OHLCVCSVError.io(path: path, reason: "\(error.localizedDescription)")
        }
        return try parseTable(text)
    }

    public static func parseTable(_ text: String) throws -> OHLCVTable {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        // Skip leading blank lines; the first non-blank line is the header.
        var lineNo = 0
        var headerLine: Substring?
        var bodyStart = 0
        for (i, l) in lines.enumerated() {
            if !l.allSatisfy({ $0 == " " || $0 == "\t" }) {
                headerLine = l
                lineNo = i + 1
                bodyStart = i + 1
                break
            }
        }
        guard var header = headerLine else { throw OHLCVCSVError.empty }
        if header.first == "\u{FEFF}" { header = header.dropFirst() }
        let delimiter: Character = header.contains(",") ? "," : header.contains(";") ? ";" : header.contains("\t") ? "\t" : ","
        let names = splitFields(header, delimiter).map(normaliseName)
        func column(_ candidates: [String]) -> Int? {
            for c in candidates { if let i = names.firstIndex(of: c) { return i } }
            return nil
        }
        let dateCol = column(["timestamp", "datetime", "date", "gmttime", "localtime", "utc", "time"])
        guard let dateCol else { throw OHLCVCSVError.missingColumn("date/time/timestamp") }
        // A separate time-of-day column next to a date column (e.g. MetaTrader exports).
        let timeCol: Int? = names[dateCol] == "date" ? names.firstIndex(of: "time") : nil
        guard let openCol = column(["open"]) else { throw OHLCVCSVError.missingColumn("open") }
        guard let highCol = column(["high"]) else { throw OHLCVCSVError.missingColumn("high") }
        guard let lowCol = column(["low"]) else { throw OHLCVCSVError.missingColumn("low") }
        guard let closeCol = column(["close"]) else { throw OHLCVCSVError.missingColumn("close") }
        let adjCol = column(["adjclose", "adjustedclose"])
        let volCol = column(["volume", "vol"])
        let regimeCol = column(["regime"])

        var bars = [Bar]()
        var regimes = [Regime]()
        var adj = [Double]()
        bars.reserveCapacity(max(lines.count - bodyStart, 0))
        var previous: Int64?
        for idx in bodyStart..<lines.count {
            let raw = lines[idx]
            lineNo = idx + 1
            if raw.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let f = splitFields(raw, delimiter)
            guard f.count == names.count else {
                throw OHLCVCSVError.fieldCount(line: lineNo, expected: names.count, found: f.count)
            }
            var ts: Int64?
            if let timeCol {
                ts = parseTimestamp(f[dateCol] + " " + f[timeCol])
            } else {
                ts = parseTimestamp(f[dateCol])
            }
            guard let ts else {
                let shown = timeCol.map { f[dateCol] + " " + f[$0] } ?? f[dateCol]
                throw OHLCVCSVError.badTimestamp(line: lineNo, field: String(shown))
            }
            func number(_ col: Int) throws -> Double {
                let s = f[col]
                guard let v = Double(s), v.isFinite else {
                    throw OHLCVCSVError.badNumber(line: lineNo, column: names[col], field: String(s))
                }
                return v
            }
            let o = try number(openCol), h = try number(highCol), l = try number(lowCol), c = try number(closeCol)
            let v = try volCol.map(number) ?? 0
            guard o > 0, h > 0, l > 0, c > 0 else { throw OHLCVCSVError.invalidBar(line: lineNo, reason: "prices must be > 0") }
            guard l <= min(o, c), h >= max(o, c) else {
                throw OHLCVCSVError.invalidBar(line: lineNo, reason: "need low <= open, close <= high (o \(o) h \(h) l \(l) c \(c))")
            }
            guard v >= 0 else { throw OHLCVCSVError.invalidBar(line: lineNo, reason: "negative volume \(v)") }
            if let p = previous, ts <= p { throw OHLCVCSVError.notSorted(line: lineNo, previous: p, current: ts) }
            previous = ts
            bars.append(Bar(timestamp: ts, open: o, high: h, low: l, close: c, volume: v))
            if let adjCol { adj.append(try number(adjCol)) }
            if let regimeCol {
                let s = f[regimeCol]
                if let r = Regime(name: String(s)) ?? Int(s).flatMap(Regime.init(rawValue:)) {
                    regimes.append(r)
                } else {
                    throw OHLCVCSVError.badRegime(line: lineNo, field: String(s))
                }
            }
        }
        return OHLCVTable(bars: bars, regimes: regimeCol == nil ? nil : regimes, adjustedClose: adjCol == nil ? nil : adj)
    }

    static func normaliseName(_ s: Substring) -> String {
        String(s.lowercased().filter { !($0 == " " || $0 == "_" || $0 == "-" || $0 == "\"" || $0 == "\u{FEFF}" || $0 == "\t") })
    }

    /// Splits one line on `d`, honouring double quotes ("" inside quotes is a literal quote);
    /// fields come back unquoted and trimmed of surrounding spaces.
    static func splitFields(_ line: Substring, _ d: Character) -> [Substring] {
        if !line.contains("\"") {
            return line.split(separator: d, omittingEmptySubsequences: false).map(trim)
        }
        var out = [Substring]()
        var cur = ""
        var inQuotes = false
        var it = line.makeIterator()
        var pending: Character? = nil
        while let ch = pending ?? it.next() {
            pending = nil
            if inQuotes {
                if ch == "\"" {
                    if let nx = it.next() {
                        if nx == "\"" { cur.append("\"") } else { inQuotes = false; pending = nx }
                    } else { inQuotes = false }
                } else { cur.append(ch) }
            } else if ch == "\"" {
                inQuotes = true
            } else if ch == d {
                out.append(trim(Substring(cur)))
                cur = ""
            } else { cur.append(ch) }
        }
        out.append(trim(Substring(cur)))
        return out
    }

    static func trim(_ s: Substring) -> Substring {
        var s = s
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }

    // MARK: - Timestamps

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Inverse of `daysFromCivil` (Hinnant's civil_from_days).
    public static func civilFromDays(_ z: Int) -> (year: Int, month: Int, day: Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses one date/time field (layouts on the type) to ns since the Unix epoch, UTC; nil if
    /// the text matches no layout or names an impossible date/time.
    public static func parseTimestamp<S: StringProtocol>(_ text: S) -> Int64? {
        let b = Array(trim(Substring(text)).utf8)
        guard !b.isEmpty else { return nil }
        var i = 0
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        /// Reads 1...maxLen digits; returns (value, count).
        func digits(max maxLen: Int = 18) -> (Int, Int)? {
            var v = 0, n = 0
            while i < b.count, isDigit(b[i]), n < maxLen {
                v = v * 10 + Int(b[i] - 48)
                i += 1
                n += 1
            }
            return n == 0 ? nil : (v, n)
        }
        // Pure number (dates always have two separators): epoch, unit by magnitude.
        if b.allSatisfy({ isDigit($0) || $0 == 45 || $0 == 46 || $0 == 43 }),
            !b.dropFirst().contains(45), !b.dropFirst().contains(43), b.filter({ $0 == 46 }).count <= 1
        {
            return parseEpoch(b)
        }
        guard let (f1, n1) = digits(), i < b.count else { return nil }
        let sep = b[i]
        guard sep == 45 || sep == 47 || sep == 46 else { return nil }  // - / .
        i += 1
        guard let (f2, _) = digits(max: 2), i < b.count, b[i] == sep else { return nil }
        i += 1
        guard let (f3, n3) = digits() else { return nil }
        let year: Int, month: Int, day: Int
        if n1 == 4 {
            (year, month, day) = (f1, f2, f3)
            guard n3 <= 2 else { return nil }
        } else {
            guard n1 <= 2, n3 == 4 else { return nil }
            if sep == 47 { (year, month, day) = (f3, f1, f2) }  // M/D/YYYY
            else { (year, month, day) = (f3, f2, f1) }  // DD.MM.YYYY, DD-MM-YYYY
        }
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month) else { return nil }
        var seconds = Int64(daysFromCivil(year: year, month: month, day: day)) * 86_400
        var nanos: Int64 = 0
        if i < b.count {
            guard b[i] == 84 || b[i] == 32 else { return nil }  // 'T' or ' '
            i += 1
            while i < b.count, b[i] == 32 { i += 1 }
            guard let (hh, hn) = digits(max: 2), hn == 2 || hn == 1, i < b.count, b[i] == 58 else { return nil }
            i += 1
            guard let (mm, mn) = digits(max: 2), mn == 2 else { return nil }
            var ss = 0
            if i < b.count, b[i] == 58 {
                i += 1
                guard let (s, sn) = digits(max: 2), sn == 2 else { return nil }
                ss = s
                if i < b.count, b[i] == 46 || b[i] == 44 {  // fraction, '.' or ','
                    i += 1
                    guard let (frac, fn) = digits(max: 9) else { return nil }
                    var scale: Int64 = 1
                    for _ in fn..<9 { scale *= 10 }
                    nanos = Int64(frac) * scale
                    while i < b.count, isDigit(b[i]) { i += 1 }  // finer than ns: truncate
                }
            }
            guard hh <= 23, mm <= 59, ss <= 60 else { return nil }
            seconds += Int64(hh * 3600 + mm * 60 + ss)
            if i < b.count {
                if b[i] == 90 || b[i] == 122 {  // Z
                    i += 1
                } else if b[i] == 43 || b[i] == 45 {  // +HH:MM / -HH:MM / +HHMM
                    let sign: Int64 = b[i] == 43 ? 1 : -1
                    i += 1
                    guard let (oh, on) = digits(max: 2), on == 2 else { return nil }
                    var om = 0
                    if i < b.count, b[i] == 58 { i += 1 }
                    if i < b.count {
                        guard let (m2, mn2) = digits(max: 2), mn2 == 2 else { return nil }
                        om = m2
                    }
                    guard oh <= 23, om <= 59 else { return nil }
                    seconds -= sign * Int64(oh * 3600 + om * 60)
                }
            }
        }
        guard i == b.count else { return nil }
        let (ns, o1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !o1 else { return nil }
        let (r, o2) = ns.addingReportingOverflow(nanos)
        return o2 ? nil : r
    }

    /// Epoch number (optionally signed / fractional) to ns; unit by magnitude.
    static func parseEpoch(_ b: [UInt8]) -> Int64? {
        guard let s = String(bytes: b, encoding: .ascii), let v = Double(s), v.isFinite else { return nil }
        let a = abs(v)
        let scale: Double = a < 1e11 ? 1e9 : a < 1e14 ? 1e6 : a < 1e17 ? 1e3 : 1
        // Integers are converted exactly (Double loses ns precision beyond 2^53).
        if !b.contains(46), let iv = Int64(s) {
            let (r, o) = iv.multipliedReportingOverflow(by: Int64(scale))
            return o ? nil : r
        }
        let ns = (v * scale).rounded()
        guard abs(ns) < 9.2e18 else { return nil }
        return Int64(ns)
    }

    /// ISO 8601 UTC text of a ns timestamp: `YYYY-MM-DDTHH:MM:SSZ`, with 9 fraction digits when
    /// the timestamp is not a whole second. `parseTimestamp` reads it back exactly.
    public static func formatTimestamp(_ ns: Int64) -> String {
        var secs = ns / 1_000_000_000
        var frac = ns % 1_000_000_000
        if frac < 0 { frac += 1_000_000_000; secs -= 1 }
        var days = secs / 86_400
        var sod = secs % 86_400
        if sod < 0 { sod += 86_400; days -= 1 }
        let (y, m, d) = civilFromDays(Int(days))
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(Int(sod / 3600), 2)):\(pad(Int(sod / 60 % 60), 2)):\(pad(Int(sod % 60), 2))"
        if frac != 0 { out += "." + pad(Int(frac), 9) }
        return out + "Z"
    }

    // MARK: - Writing

    /// CSV text `timestamp,open,high,low,close,volume[,regime]`: ISO timestamps, doubles in their
    /// shortest round-trip form, regime names. `regimes`, if given, must match `bars` in length.
    public static func format(bars: [Bar], regimes: [Regime]? = nil) -> String {
        precondition(regimes == nil || regimes!.count == bars.count, "one regime per bar")
        var out = regimes == nil ? "timestamp,open,high,low,close,volume\n" : "timestamp,open,high,low,close,volume,regime\n"
        for (k, b) in bars.enumerated() {
            out += "\(formatTimestamp(b.timestamp)),\(b.open),\(b.high),\(b.low),\(b.close),\(b.volume)"
            if let regimes { out += ",\(regimes[k])" }
            out += "\n"
        }
        return out
    }

    /// Writes `format(bars:regimes:)` to `path` (atomically).
    public static func write(bars: [Bar], regimes: [Regime]? = nil, toPath path: String) throws {
        do {
            try format(bars: bars, regimes: regimes).write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw OHLCVCSVError.io(path: path, reason: "\(error.localizedDescription)")
        }
    }
}
