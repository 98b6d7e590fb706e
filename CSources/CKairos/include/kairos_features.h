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
