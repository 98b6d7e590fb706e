// The `kairos regimes detect` output file.
import KairosCore
import Foundation

public enum RegimeCSV {
    /// Header of the output: one row per bar.
    public static let header = "timestamp,regime,confidence,p_bull,p_bear,p_sideways,p_volatile"

    /// Formats one row per bar (ISO-8601 UTC timestamps, doubles in shortest round-trip form).
    public static func format(bars: [Bar], estimates: [RegimeEstimate]) -> String {
        precondition(bars.count == estimates.count)
        var s = header + "\n"
        for (b, e) in zip(bars, estimates) {
            let p = e.probabilities
            s += "\(OHLCVCSV.formatTimestamp(b.timestamp)),\(e.regime),\(e.confidence),\(p.bull),\(p.bear),\(p.sideways),\(p.volatile)\n"
        }
        return s
    }

    public static func write(bars: [Bar], estimates: [RegimeEstimate], toPath path: String) throws {
        try format(bars: bars, estimates: estimates).write(toFile: path, atomically: true, encoding: .utf8)
    }
}
