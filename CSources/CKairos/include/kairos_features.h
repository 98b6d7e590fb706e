/* Streaming feature kernels: per instrument, O(1) per update, no allocation after create.
 *
 * Three forms compute the same numbers:
 *  - kairos_feat_state:  one instrument, one update at a time (the engine's per-tick path);
 *  - kairos_feat_batch:  n instruments updated in lockstep, structure-of-arrays, AVX2+FMA or a
 *                        portable scalar path chosen at run time (both must agree);
 *  - kairos_feat_history: one series over its whole history (training and backtests).
 *
 * Input per update: price (mid for ticks, close for bars), high and low (bar extremes; equal to
 * price for ticks), buy and sell volume (bid/ask size for ticks; tick-rule split for bars; 0 when
 * unknown). During warm-up (fewer updates than a window) each feature uses what it has.
 * Feature definitions (exact formulas) are documented next to the enum below and in
 * docs/features.md.
 */
#ifndef KAIROS_FEATURES_H
#define KAIROS_FEATURES_H
#include <stddef.h>
#include <stdint.h>

typedef enum kairos_feature {
    KAIROS_F_LOG_RETURN = 0,   /* ln(p_t / p_{t-1}); 0 on the first update */
    KAIROS_F_EMA_FAST,         /* EMA of price, alpha = 2/(ema_fast_span+1), seeded with p_0 */
    KAIROS_F_EMA_SLOW,         /* EMA of price, alpha = 2/(ema_slow_span+1), seeded with p_0 */
    KAIROS_F_EMA_SPREAD,       /* (ema_fast - ema_slow) / ema_slow */
    KAIROS_F_ROLL_MEAN,        /* mean of the last `window` prices */
    KAIROS_F_ROLL_VAR,         /* sample variance (n-1) of the last `window` prices; 0 when n < 2 */
    KAIROS_F_REALIZED_VOL,     /* sqrt(mean of r^2) over the last `vol_window` log returns */
    KAIROS_F_ZSCORE,           /* (p - roll_mean) / sqrt(roll_var); 0 when roll_var == 0 */
    KAIROS_F_RSI,              /* Wilder RSI over rsi_period, 0..100; 50 before any move */
    KAIROS_F_MOMENTUM,         /* ln(p_t / p_{t-momentum_lag}) (or vs the oldest price in warm-up) */
    KAIROS_F_HL_RANGE,         /* (max high - min low over the last `window` updates) / p_t */
    KAIROS_F_VOLUME_IMBALANCE, /* (sum buy - sum sell)/(sum buy + sum sell) over `window`; 0 if none */
    KAIROS_FEAT_COUNT
} kairos_feature;

/* Warm-up, precisely (t = number of earlier updates, so t = 0 on the first update; W = window,
 * V = vol_window, L = momentum_lag, N = rsi_period):
 *  - LOG_RETURN: log1p((p_t - p_{t-1}) / p_{t-1}); exactly 0 at t = 0.
 *  - EMA_*: ema_0 = p_0, ema_t = ema_{t-1} + alpha (p_t - ema_{t-1}) (evaluated as one FMA).
 *  - ROLL_MEAN/ROLL_VAR/ZSCORE/HL_RANGE/VOLUME_IMBALANCE: over the last min(t+1, W) updates.
 *  - REALIZED_VOL: over the last m = min(t, V) log returns (the t = 0 zero is not a return);
 *    0 at t = 0. Negative rounding residue of the windowed sum is clamped to 0.
 *  - RSI: moves d_k = p_k - p_{k-1}, k >= 1, gain = max(d, 0), loss = max(-d, 0). For
 *    1 <= t <= N the averages are the simple means of the t moves seen so far (at t = N: the
 *    simple mean of the first N moves, Wilder's seed); for t > N, avg = (avg (N-1) + x) / N.
 *    RSI = 100 G / (G + L) (= 100 - 100/(1 + G/L)); 50 when G + L == 0 (incl. t = 0).
 *  - MOMENTUM: log1p((p_t - p_ref)/p_ref), p_ref = p_{t-L} when t >= L, else p_0 (0 at t = 0).
 *  - HL_RANGE: (max high - min low over the last min(t+1, W) updates) / p_t.
 *  - VOLUME_IMBALANCE: 0 when the windowed buy + sell sum is not > 0.
 * ROLL_VAR is exactly 0 when (n-1) var <= n K^2 2^-96 (K ~ the window mean: a standard deviation
 * below ~2^-48 |price| is rounding noise of the prices, e.g. a constant window); ZSCORE is 0
 * unless ROLL_VAR > 0. Accuracy: see docs/features.md. */

typedef struct kairos_feat_config {
    uint32_t window;         /* rolling mean/var/zscore/hl-range/volume window, >= 2 */
    uint32_t vol_window;     /* realized volatility window (log returns), >= 1 */
    uint32_t momentum_lag;   /* >= 1 */
    uint32_t rsi_period;     /* >= 1 */
    uint32_t ema_fast_span;  /* >= 1 */
    uint32_t ema_slow_span;  /* >= 1 */
    uint32_t reanchor_every; /* recompute windowed sums exactly every N updates; 0 = every `window` */
} kairos_feat_config;

/* A fixed-size feature vector, so Swift can hold one without allocating. */
typedef struct kairos_feat_vector { double v[KAIROS_FEAT_COUNT]; } kairos_feat_vector;

typedef struct kairos_feat_input {
    double price;
    double high;
    double low;
    double buy_volume;
    double sell_volume;
} kairos_feat_input;

/* window 30, vol_window 30, momentum_lag 10, rsi_period 14, ema spans 10 / 30, reanchor 0. */
void kairos_feat_config_default(kairos_feat_config *cfg);
/* 0 when valid, otherwise a negative code (which field is out of range). */
int kairos_feat_config_validate(const kairos_feat_config *cfg);
/* The codes kairos_feat_config_validate (and kairos_feat_history) return. Windows, lag and
 * period are also capped at KAIROS_FEAT_MAX_WINDOW so the history buffers stay addressable. */
#define KAIROS_FEAT_MAX_WINDOW (1u << 24)
enum {
    KAIROS_FEAT_E_NULL = -1,           /* cfg == NULL */
    KAIROS_FEAT_E_WINDOW = -2,         /* window < 2 or > KAIROS_FEAT_MAX_WINDOW */
    KAIROS_FEAT_E_VOL_WINDOW = -3,     /* vol_window < 1 or > KAIROS_FEAT_MAX_WINDOW */
    KAIROS_FEAT_E_MOMENTUM_LAG = -4,   /* momentum_lag < 1 or > KAIROS_FEAT_MAX_WINDOW */
    KAIROS_FEAT_E_RSI_PERIOD = -5,     /* rsi_period < 1 or > KAIROS_FEAT_MAX_WINDOW */
    KAIROS_FEAT_E_EMA_FAST_SPAN = -6,  /* ema_fast_span < 1 */
    KAIROS_FEAT_E_EMA_SLOW_SPAN = -7,  /* ema_slow_span < 1 */
    KAIROS_FEAT_E_NOMEM = -8,          /* allocation failed (kairos_feat_history only) */
};

/* ---- one instrument ---- */
typedef struct kairos_feat_state kairos_feat_state;
kairos_feat_state *kairos_feat_create(const kairos_feat_config *cfg); /* NULL on bad config/ENOMEM */
void kairos_feat_destroy(kairos_feat_state *s);
void kairos_feat_reset(kairos_feat_state *s);
/* in->price must be finite and > 0 (the engine validates ticks before this). */
void kairos_feat_update(kairos_feat_state *s, const kairos_feat_input *in, kairos_feat_vector *out);
uint64_t kairos_feat_updates(const kairos_feat_state *s);

/* ---- n instruments in lockstep ---- */
typedef enum kairos_simd_path {
    KAIROS_SIMD_AUTO = 0,   /* AVX2 when the CPU has AVX2 and FMA, else scalar */
    KAIROS_SIMD_SCALAR = 1,
    KAIROS_SIMD_AVX2 = 2,
} kairos_simd_path;

/* 1 when this CPU supports AVX2 and FMA. */
int kairos_cpu_has_avx2_fma(void);

typedef struct kairos_feat_batch kairos_feat_batch;
/* Requesting AVX2 on a CPU without it returns NULL. */
kairos_feat_batch *kairos_feat_batch_create(const kairos_feat_config *cfg, uint32_t n_instruments,
                                            kairos_simd_path path);
void kairos_feat_batch_destroy(kairos_feat_batch *b);
kairos_simd_path kairos_feat_batch_path(const kairos_feat_batch *b); /* the resolved path */
uint32_t kairos_feat_batch_count(const kairos_feat_batch *b);
/* Forget all history (as freshly created); keeps the buffers. */
void kairos_feat_batch_reset(kairos_feat_batch *b);
/* Updates applied since create/reset (all instruments move in lockstep). */
uint64_t kairos_feat_batch_updates(const kairos_feat_batch *b);
/* One update for every instrument. Inputs are arrays of n; high/low may be NULL (= price),
 * buy/sell may be NULL (= 0). out is structure-of-arrays: out[f * n + i] for feature f of
 * instrument i, n * KAIROS_FEAT_COUNT doubles. */
void kairos_feat_batch_update(kairos_feat_batch *b, const double *price, const double *high,
                              const double *low, const double *buy_volume,
                              const double *sell_volume, double *out);

/* ---- a whole history of one series ---- */
/* out is row-major [t][f], T * KAIROS_FEAT_COUNT doubles; row t uses inputs 0..t only.
 * high/low/buy/sell may be NULL as above. Returns 0, or a negative code on bad config/ENOMEM. */
int kairos_feat_history(const kairos_feat_config *cfg, size_t T, const double *price,
                        const double *high, const double *low, const double *buy_volume,
                        const double *sell_volume, double *out);
#endif
