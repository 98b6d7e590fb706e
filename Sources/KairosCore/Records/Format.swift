import Foundation

/// Number formatting for terminal output (no locale surprises).
public enum Fmt {
    public static func int<T: BinaryInteger>(_ v: T) -> String {
        let s = String(v.magnitude)
        var out = ""
        for (k, ch) in s.enumerated() {
            if k > 0 && (s.count - k) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (v < 0 ? "-" : "") + out
    }
    public static func money(_ v: Double, sign: Bool = false) -> String {
        guard v.isFinite else { return "\(v)" }
        let cents = Int64((abs(v) * 100).rounded())
        let s = int(cents / 100) + "." + String(format: "%02d", Int(cents % 100))
        return (v < 0 ? "-" : (sign ? "+" : "")) + s
    }
    public static func fixed(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
    public static func pct(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f%%", v * 100) }
    public static func ns(_ v: Int64) -> String {
        if v < 1_000 { return "\(v) ns" }
        if v < 1_000_000 { return String(format: "%.2f µs", Double(v) / 1e3) }
        if v < 1_000_000_000 { return String(format: "%.2f ms", Double(v) / 1e6) }
        return String(format: "%.2f s", Double(v) / 1e9)
    }
    public static func pad(_ s: String, _ w: Int, right: Bool = true) -> String {
        s.count >= w ? s : (right ? String(repeating: " ", count: w - s.count) + s : s + String(repeating: " ", count: w - s.count))
    }
}
