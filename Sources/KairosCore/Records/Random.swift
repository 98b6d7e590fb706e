// Seedable, allocation-free random numbers. Everything synthetic in Kairos (markets, training
// environments, tests) draws from these so that a seed reproduces a run bit for bit on every
// platform: the system generator is neither seedable nor stable across releases.
import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit generator with a single word of state.
///
/// Used to expand one user seed into the 256-bit state of `Xoshiro256StarStar` (as its authors
/// recommend) and to derive independent per-stream seeds. Statistically fine on its own, but its
/// period is only 2^64, so bulk sampling uses xoshiro.
///
/// Implementation Notes: O(1) per draw, no allocation; the sequence is a pure function of the seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman & Vigna 2018): fast, 256-bit state, period 2^256 - 1.
///
/// Invariants: the state is never all zero (SplitMix64 seeding cannot produce four zero words in a
/// row from consecutive outputs, and `init(state:)` rejects it).
///
/// Implementation Notes: `next()` is a handful of shifts/xors, O(1), no allocation.
/// `nextGaussian()` uses the Marsaglia polar method, which yields two independent normals per
/// accepted pair; the second is cached in `spare`, so the output is a deterministic function of
/// the seed and of the call sequence (a copy of the generator continues identically).
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    @usableFromInline package var spare: Double = 0
    @usableFromInline package var hasSpare = false

    /// Seeds the four state words from consecutive SplitMix64 outputs of `seed`.
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    /// Uses a raw state (e.g. from a reference implementation's test vector).
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** state must not be all zero")
        (s0, s1, s2, s3) = state
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// Uniform in [0, 1) with 53 random bits (every representable multiple of 2^-53).
    @inlinable
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal N(0, 1) by the Marsaglia polar method with a cached spare.
    @inlinable
    public mutating func nextGaussian() -> Double {
        if hasSpare {
            hasSpare = false
            return spare
        }
        var u = 0.0, v = 0.0, s = 0.0
        repeat {
            u = nextDouble() * 2 - 1
            v = nextDouble() * 2 - 1
            s = u * u + v * v
        } while s >= 1 || s == 0
        let f = (-2 * log(s) / s).squareRoot()
        spare = v * f
        hasSpare = true
        return u * f
    }
}

