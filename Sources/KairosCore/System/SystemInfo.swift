import Foundation
import CKairos

/// Facts about the linked system libraries, read through the C core.
public enum SystemInfo {
    /// e.g. "zmq 4.3.4, hiredis 0.14.1, io_uring available (0)".
    public static var libraryVersions: String {
        var buf = [CChar](repeating: 0, count: 256)
        buf.withUnsafeMutableBufferPointer { kairos_sys_library_versions($0.baseAddress, $0.count) }
        let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
    /// Whether an io_uring instance can be created here (kernel support, not forbidden by seccomp).
    public static var ioUringAvailable: Bool { kairos_sys_io_uring_available(nil) == 1 }
    /// Whether the CPU supports the AVX2+FMA kernels.
    public static var hasAVX2: Bool { kairos_cpu_has_avx2_fma() == 1 }

    /// One line for benchmark output: cores, load average, CPU model.
    public static var machine: String {
        var load = [Double](repeating: 0, count: 3)
        let n = getloadavg(&load, 3)
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), load \(n > 0 ? String(format: "%.2f", load[0]) : "?")"
    }
}
