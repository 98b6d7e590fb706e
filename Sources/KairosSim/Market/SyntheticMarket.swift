// A synthetic market with known truth: each instrument's log mid price is driven by its own
// hidden 4-state Markov regime chain (MarketScenario). Used for default runs, for training
// environments, and to score regime detectors against the Bayes-optimal filter.
import KairosCore
import KairosStrategies
import KairosIO
import Foundation

/// One step of one instrument's chain, with everything an oracle or a test may want to check.
public struct MarketStep: Sendable, Hashable {
    /// Regime s_t of this step.
    public var regime: Regime
    /// r_t = x_t - x_{t-1}.
    public var logReturn: Double
    /// x_t, the log mid price after the step.
    public var logPrice: Double
    /// m_{t-1}, the reversion level the step's drift used.
    public var anchor: Double
    /// E[r_t | s_t, past] = mu + kappa (m_{t-1} - x_{t-1}).
    public var conditionalMean: Double
}

/// Generates ticks and bars from a `MarketScenario`.
///
/// Model (exact, see docs/synthetic-market.md): per instrument, s_0 ~ pi (stationary),
/// x_0 = log(startPrice), m_0 = x_0; for t >= 1: s_t ~ P[s_{t-1}, .], anchor update on entry
/// (regimeEntry mode), r_t = mu_s + kappa_s (m_{t-1} - x_{t-1}) + sigma_s eps_t, x_t = x_{t-1} + r_t,
/// then m_t = m_{t-1} + lambda (x_t - m_{t-1}) (observedEMA mode). Instruments are independent:
/// each has its own chain and its own xoshiro256** stream seeded from SplitMix64(seed) outputs, so
/// instrument i's path does not depend on how many instruments there are or how calls interleave.
///
/// Invariants: every generated price is finite and > 0 (it is exp of a finite log price);
/// bid < mid < ask; seq per instrument starts at 1 and increases by 1 per tick.
///
/// Implementation Notes: `step`, `nextTick` are O(1) and allocate nothing (per-instrument state in
/// one array created at init, cumulative transition rows flattened into a 16-entry array).
/// `bars` is O(count * barSubsteps) and allocates its result arrays only.
public struct SyntheticMarket: Sendable {
    struct InstrumentState: Sendable {
        var rng: Xoshiro256StarStar
        var regime: Regime
        var logPrice: Double
        var anchor: Double
        var seq: UInt64 = 0
        var barIndex: Int64 = 0
    }

    /// The generating parameters: the oracle's model (`scenario.regimes`, `scenario.transition`).
    public let scenario: MarketScenario
    public let instruments: Int
    public let seed: UInt64
    public let startPrice: Double
    private var states: [InstrumentState]
    /// Row-major cumulative transition rows: cumulative[4 * from + to] = sum_{k <= to} P[from][k].
    private let cumulative: [Double]
    private let params: [RegimeParameters]
    private let emaSmoothing: Double  // 0 in regimeEntry mode
    private let anchorsAtEntry: Bool
    private let halfSpread: Double
    /// Ticks emitted by `nextTick` so far (the round-robin cursor).
    public private(set) var ticksEmitted: Int64 = 0

    /// - Precondition: `scenario.validate()` succeeds, 1 <= instruments <= InstrumentID.max,
    ///   startPrice finite and > 0.
    public init(scenario: MarketScenario, instruments: Int, seed: UInt64, startPrice: Double = 100) {
        do { try scenario.validate() } catch { preconditionFailure("\(error)") }
        precondition(instruments >= 1 && instruments <= InstrumentID.max, "instruments out of range")
        precondition(startPrice > 0 && startPrice.isFinite, "startPrice must be finite and > 0")
        self.scenario = scenario
        self.instruments = instruments
        self.seed = seed
        self.startPrice = startPrice
        var cum = [Double](repeating: 0, count: 16)
        for i in 0..<4 {
            var acc = 0.0
            for j in 0..<4 {
                acc += scenario.transition[i][j]
                cum[4 * i + j] = acc
            }
            cum[4 * i + 3] = 1  // rounding must never let u in [0,1) fall off the row
        }
        cumulative = cum
        params = scenario.regimes
        switch scenario.anchor {
        case .observedEMA(let l): emaSmoothing = l; anchorsAtEntry = false
        case .regimeEntry: emaSmoothing = 0; anchorsAtEntry = true
        }
        halfSpread = scenario.spreadBps * 0.5e-4
        let pi = scenario.stationaryDistribution()
        var seeder = SplitMix64(seed: seed)
        let x0 = log(startPrice)
        states = (0..<instruments).map { _ in
            var rng = Xoshiro256StarStar(seed: seeder.next())
            // s_0 ~ pi, drawn with the instrument's own stream.
            let u = rng.nextDouble()
            var acc = 0.0
            var r = Regime.volatile
            for (k, p) in pi.enumerated() {
                acc += p
                if u < acc { r = Regime(rawValue: k)!; break }
            }
            return InstrumentState(rng: rng, regime: r, logPrice: x0, anchor: x0)
        }
    }

    /// Current regime, log mid price and reversion level of one instrument.
    public func state(of instrument: Int) -> (regime: Regime, logPrice: Double, anchor: Double) {
        let s = states[instrument]
        return (s.regime, s.logPrice, s.anchor)
    }

    /// Advances one instrument's chain by one step (the unit of the model). Draw order per step:
    /// one uniform for the transition, one normal for the innovation.
    public mutating func step(instrument: Int) -> MarketStep {
        precondition(instrument >= 0 && instrument < instruments)
        var s = states[instrument]
        let st = advance(&s)
        states[instrument] = s
        return st
    }

    /// One model step on a local copy of the instrument's state: callers copy the state out,
    /// advance it and store it back once, so the array's uniqueness and bounds checks happen
    /// once per tick instead of once per field access.
    @inline(__always)
    private func advance(_ s: inout InstrumentState) -> MarketStep {
        let prev = s.regime.rawValue
        let u = s.rng.nextDouble()
        var next = 3
        let base = 4 * prev
        for j in 0..<4 where u < cumulative[base + j] {
            next = j
            break
        }
        let x = s.logPrice
        if anchorsAtEntry && next != prev { s.anchor = x }
        let m = s.anchor
        let p = params[next]
        let mean = p.mu + p.kappa * (m - x)
        let r = mean + p.sigma * s.rng.nextGaussian()
        let xNew = x + r
        s.logPrice = xNew
        if !anchorsAtEntry { s.anchor = m + emaSmoothing * (xNew - m) }
        let regime = Regime(rawValue: next)!
        s.regime = regime
        return MarketStep(regime: regime, logReturn: r, logPrice: xNew, anchor: m, conditionalMean: mean)
    }

    /// Emits the next tick of the stream into `tick` and returns its true regime.
    ///
    /// Arrival scheme: round robin, tick k (k = 0, 1, ...) belongs to instrument k mod instruments
    /// and advances that instrument's chain by one step. Fields: mid = exp(x_t),
    /// bid = mid (1 - h), ask = mid (1 + h) with h = spreadBps / 2e4; bid_size =
    /// Q (1 + lean) (0.5 + U1), ask_size = Q (1 - lean) (0.5 + U2) with Q = meanQuoteSize and lean the
    /// regime's sizeImbalance; a trade prints at the ask with probability (1 + lean) / 2, else at
    /// the bid (U3), with last_size = Q (0.5 + U4). seq = per-instrument count from 1,
    /// publisher = instrument id, ts_exchange_ns = startTimeNs + k * tickIntervalNs, ts_recv_ns = 0
    /// (the engine stamps it). Allocates nothing.
    public mutating func nextTick(into tick: inout Tick) -> Regime {
        let k = ticksEmitted
        let i = Int(k % Int64(instruments))
        ticksEmitted = k + 1
        var s = states[i]
        let st = advance(&s)
        let mid = exp(st.logPrice)
        let lean = params[st.regime.rawValue].sizeImbalance
        let q = scenario.meanQuoteSize
        let u1 = s.rng.nextDouble()
        let u2 = s.rng.nextDouble()
        let u3 = s.rng.nextDouble()
        let u4 = s.rng.nextDouble()
        s.seq &+= 1
        states[i] = s
        tick.seq = s.seq
        tick.ts_exchange_ns = scenario.startTimeNs &+ k &* scenario.tickIntervalNs
        tick.ts_recv_ns = 0
        tick.bid = mid * (1 - halfSpread)
        tick.ask = mid * (1 + halfSpread)
        let buyerInitiated = u3 < (1 + lean) * 0.5
        tick.last = buyerInitiated ? tick.ask : tick.bid
        tick.bid_size = Float(q * (1 + lean) * (0.5 + u1))
        tick.ask_size = Float(q * (1 - lean) * (0.5 + u2))
        tick.last_size = Float(q * (0.5 + u4))
        tick.instrument = UInt16(i)
        tick.publisher = UInt16(i)
        return st.regime
    }

    /// `count` daily-like OHLCV bars of one instrument, one model step per bar, with the true
    /// regime of each bar.
    ///
    /// open = previous close (exp x_{t-1}), close = exp x_t, so close-to-close log returns follow
    /// the model exactly. high / low are the max / min of a Brownian bridge from x_{t-1} to x_t
    /// with `barSubsteps` steps of variance sigma_s^2 / barSubsteps (conditioning on the endpoints
    /// leaves the close's distribution untouched). volume = meanBarVolume * volumeMultiplier_s *
    /// (0.5 + U). timestamp = startTimeNs + n * barIntervalNs for the instrument's n-th bar.
    /// Advances the same chain `nextTick` uses.
    public mutating func bars(count: Int, instrument: Int = 0) -> (bars: [Bar], regimes: [Regime]) {
        precondition(instrument >= 0 && instrument < instruments)
        var bars = [Bar]()
        var regimes = [Regime]()
        bars.reserveCapacity(count)
        regimes.reserveCapacity(count)
        let k = scenario.barSubsteps
        var walk = [Double](repeating: 0, count: k)
        for _ in 0..<max(count, 0) {
            var s = states[instrument]
            let a = s.logPrice
            let st = advance(&s)
            let b = st.logPrice
            let sd = params[st.regime.rawValue].sigma / Double(k).squareRoot()
            // Bridge: y_j = a + W_j + (j/K)(b - a - W_K); draw W first, then place the points.
            var hi = max(a, b), lo = min(a, b)
            if k > 1 {
                var w = 0.0
                for j in 0..<k {
                    w += sd * s.rng.nextGaussian()
                    walk[j] = w
                }
                let wK = walk[k - 1]
                for j in 0..<(k - 1) {
                    let y = a + walk[j] + Double(j + 1) / Double(k) * (b - a - wK)
                    hi = max(hi, y)
                    lo = min(lo, y)
                }
            }
            let vol = scenario.meanBarVolume * params[st.regime.rawValue].volumeMultiplier
                * (0.5 + s.rng.nextDouble())
            let ts = scenario.startTimeNs &+ s.barIndex &* scenario.barIntervalNs
            s.barIndex += 1
            states[instrument] = s
            bars.append(Bar(timestamp: ts, open: exp(a), high: exp(hi), low: exp(lo), close: exp(b), volume: vol))
            regimes.append(st.regime)
        }
        return (bars, regimes)
    }
}
