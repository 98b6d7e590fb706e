/* Streaming feature kernels (see kairos_features.h and docs/features.md).
 *
 * One engine, three faces: the batch keeps every per-instrument quantity as a structure of
 * arrays (lane arrays of npad doubles, histories as [slot][npad]); the single-instrument state
 * is a batch of one on the scalar path; the history form drives a state over a series. All
 * instruments of a batch move in lockstep, so every warm-up decision, ring slot and block
 * boundary is a property of the update count alone: it is computed once per update (struct
 * kairos_feat_step) and the per-lane code is branch-free apart from it. That is what lets the
 * AVX2 path run four instruments per __m256d with exactly the scalar path's operation order:
 *  - every a*b+c we want fused is an explicit fma() (libm, correctly rounded) in the scalar
 *    path and _mm256_fmadd_pd in the AVX2 path: both round once, so they agree bit for bit;
 *  - every other operation is a single IEEE op (+ - * / sqrt, correctly rounded both ways);
 *  - max/min use the x86 semantics (a > b ? a : b) in both paths;
 *  - log1p is scalar libm per lane in both paths (AVX2 has no vector log).
 * Hence scalar state, scalar batch and AVX2 batch produce bitwise identical outputs.
 */
#include "kairos_features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define KAIROS_HAVE_AVX2_CODE 1
#else
#define KAIROS_HAVE_AVX2_CODE 0
#endif

/* The bitwise agreement above needs the compiler to leave a*b+c unfused where we did not ask
 * for an FMA. gcc in -std=c11 mode already does (-ffp-contract=off); clang contracts by
 * default, which would make the scalar path differ from the AVX2 path (and between
 * architectures), so switch that off for this file. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

enum { KAIROS_LANES = 4 };

/* ---------------------------------------------------------------- config */

void kairos_feat_config_default(kairos_feat_config *cfg) {
    cfg->window = 30;
    cfg->vol_window = 30;
    cfg->momentum_lag = 10;
    cfg->rsi_period = 14;
    cfg->ema_fast_span = 10;
    cfg->ema_slow_span = 30;
    cfg->reanchor_every = 0;
}

int kairos_feat_config_validate(const kairos_feat_config *cfg) {
    if (!cfg) return KAIROS_FEAT_E_NULL;
    if (cfg->window < 2 || cfg->window > KAIROS_FEAT_MAX_WINDOW) return KAIROS_FEAT_E_WINDOW;
    if (cfg->vol_window < 1 || cfg->vol_window > KAIROS_FEAT_MAX_WINDOW) return KAIROS_FEAT_E_VOL_WINDOW;
    if (cfg->momentum_lag < 1 || cfg->momentum_lag > KAIROS_FEAT_MAX_WINDOW)
        return KAIROS_FEAT_E_MOMENTUM_LAG;
    if (cfg->rsi_period < 1 || cfg->rsi_period > KAIROS_FEAT_MAX_WINDOW) return KAIROS_FEAT_E_RSI_PERIOD;
    if (cfg->ema_fast_span < 1) return KAIROS_FEAT_E_EMA_FAST_SPAN;
    if (cfg->ema_slow_span < 1) return KAIROS_FEAT_E_EMA_SLOW_SPAN;
    return 0;
}

/* ---------------------------------------------------------------- state */

struct kairos_feat_batch {
    kairos_feat_config cfg;
    uint32_t n;     /* instruments */
    uint32_t np;    /* lane stride: n rounded up to KAIROS_LANES on the AVX2 path */
    kairos_simd_path path;
    uint32_t W, V, L, N, R;
    uint32_t H;     /* price ring length, max(W, L) + 1: holds p_{t-W} and p_{t-L} next to p_t */
    double alpha_fast, alpha_slow;

    /* Update-count state shared by all lanes. */
    uint64_t t;         /* updates so far */
    uint32_t pos_p;     /* t mod H: slot of p_t in the price ring */
    uint32_t o;         /* t mod W: block offset (high/low blocks) = volume ring slot */
    uint32_t pos_r;     /* (t-1) mod V: slot of r_t in the squared-return ring (t >= 1) */
    uint32_t since;     /* updates since the last exact recompute of the windowed sums */

    /* Lane arrays, np each. */
    double *prev, *p0, *ema_f, *ema_s;
    double *K, *S1, *S2;    /* anchor, sum (p-K), sum (p-K)^2 over the price window */
    double *E;              /* sum of S2 after each update since the last exact recompute:
                             * |rounding error of S2| <= u (2 E + ...), see kairos_ill_cond */
    double *sr2;            /* sum r^2 over the return window */
    double *G, *Lo;         /* RSI: sums during warm-up, Wilder averages afterwards */
    double *hpre, *lpre;    /* running max high / min low of the current block */
    double *sb, *ss;        /* windowed buy / sell volume sums */
    /* Histories, [slot][np]. */
    double *ph;             /* H prices */
    double *r2h;            /* V squared log returns */
    double *hh, *lh;        /* W: current block's raw highs/lows at slots <= o, previous block's
                             * suffix max/min at slots > o (van Herk / Gil-Werman) */
    double *bh, *sh;        /* W buy / sell volumes */

    void *mem;
};

struct kairos_feat_state {
    struct kairos_feat_batch b;
    int fma_clone; /* use kairos_feat_update_fma: same source, fma() inlined as vfmadd */
};

static size_t kairos_round8(size_t k) { return (k + 7u) & ~(size_t)7u; } /* 64-byte multiples */

static int kairos_batch_init(struct kairos_feat_batch *b, const kairos_feat_config *cfg, uint32_t n,
                             kairos_simd_path path) {
    memset(b, 0, sizeof *b);
    b->cfg = *cfg;
    b->n = n;
    b->path = path;
    b->np = path == KAIROS_SIMD_AVX2 ? (n + KAIROS_LANES - 1) / KAIROS_LANES * KAIROS_LANES : n;
    b->W = cfg->window;
    b->V = cfg->vol_window;
    b->L = cfg->momentum_lag;
    b->N = cfg->rsi_period;
    b->R = cfg->reanchor_every ? cfg->reanchor_every : cfg->window;
    b->H = (b->W > b->L ? b->W : b->L) + 1;
    b->alpha_fast = 2.0 / ((double)cfg->ema_fast_span + 1.0);
    b->alpha_slow = 2.0 / ((double)cfg->ema_slow_span + 1.0);

    /* Lane arrays take np doubles each and histories np * slots, every array rounded up to 8
     * doubles so that each starts on a 64-byte boundary. Rows inside a history are addressed
     * with stride np: the state (np = 1) is a compact AoS, and on the AVX2 path np is a multiple
     * of 4, so every row is 32-byte aligned for the aligned vector loads. */
    size_t lane = kairos_round8(b->np);
    size_t hist = kairos_round8((size_t)b->np * b->H) + kairos_round8((size_t)b->np * b->V) +
                  4u * kairos_round8((size_t)b->np * b->W);
    size_t bytes = (15u * lane + hist) * sizeof(double);
    /* All history lives in this one block, allocated here and never again: updates only index. */
    b->mem = aligned_alloc(64, bytes);
    if (!b->mem) return -1;
    double *m = b->mem;
    double **lanes[] = {&b->prev, &b->p0, &b->ema_f, &b->ema_s, &b->K, &b->S1, &b->S2, &b->E,
                        &b->sr2, &b->G, &b->Lo, &b->hpre, &b->lpre, &b->sb, &b->ss};
    for (size_t k = 0; k < sizeof lanes / sizeof lanes[0]; k++, m += lane) *lanes[k] = m;
    b->ph = m;  m += kairos_round8((size_t)b->np * b->H);
    b->r2h = m; m += kairos_round8((size_t)b->np * b->V);
    b->hh = m;  m += kairos_round8((size_t)b->np * b->W);
    b->lh = m;  m += kairos_round8((size_t)b->np * b->W);
    b->bh = m;  m += kairos_round8((size_t)b->np * b->W);
    b->sh = m;
    /* Zeroing makes the padding lanes' state finite. */
    memset(b->mem, 0, bytes);
    return 0;
}

static void kairos_batch_reset(struct kairos_feat_batch *b) {
    b->t = 0;
    b->pos_p = b->o = b->pos_r = b->since = 0;
    /* Lane state is (re)initialised from p_0 by the first update; history slots are only read
     * once written, so nothing else needs clearing. */
}

/* What one update needs to know that depends only on the update count. */
typedef struct kairos_feat_step {
    uint64_t t;
    int first;          /* t == 0 */
    int evict_p;        /* t >= W: p_{t-W}, and the volumes at slot o, leave the window */
    int mom_hist;       /* t >= L: momentum against p_{t-L} (else p_0) */
    int has_ret;        /* t >= 1 */
    int evict_r;        /* t - 1 >= V: r_{t-V} leaves the return window */
    int rsi_mode;       /* 0: t == 0; 1: summing (1 <= t < N); 2: t == N (sum then seed); 3: Wilder */
    int hl_suf;         /* the previous block's suffix at o + 1 is in the window */
    uint32_t slot_p, slot_pw, slot_pl, slot_r, o;
    double nw, nwm1, m; /* prices in window, nw - 1, returns in window */
    double Nd, Nm1;     /* rsi_period, rsi_period - 1 */
} kairos_feat_step;

static inline void kairos_step_prepare(const struct kairos_feat_batch *b, kairos_feat_step *st) {
    uint64_t t = b->t;
    st->t = t;
    st->first = t == 0;
    st->evict_p = t >= b->W;
    st->mom_hist = t >= b->L;
    st->has_ret = t >= 1;
    st->evict_r = t > b->V;
    st->rsi_mode = t == 0 ? 0 : t < b->N ? 1 : t == b->N ? 2 : 3;
    st->o = b->o;
    st->hl_suf = t >= b->W && b->o + 1 < b->W;
    st->slot_p = b->pos_p;
    st->slot_pw = b->pos_p >= b->W ? b->pos_p - b->W : b->pos_p + b->H - b->W;
    st->slot_pl = b->pos_p >= b->L ? b->pos_p - b->L : b->pos_p + b->H - b->L;
    st->slot_r = b->pos_r;
    uint64_t nw = t + 1 < b->W ? t + 1 : b->W;
    uint64_t m = t < b->V ? t : b->V;
    st->nw = (double)nw;
    st->nwm1 = (double)nw - 1.0;
    st->m = (double)m;
    st->Nd = (double)b->N;
    st->Nm1 = (double)b->N - 1.0;
}

/* Accuracy guard of the anchored price sums. With u = 2^-53, every add/sub/fma on S2 rounds by
 * at most u |result|, so after the updates since the last exact recompute |err(S2)| <= 2u E
 * (E = sum of S2 after each update, the larger of its two intermediate values), and the final
 * S2 - S1 * (S1/n) adds at most ~3u S2 (S1^2/n <= S2 by Cauchy-Schwarz). The residual
 * res = (n-1) var is therefore known to within u (2E + 3 S2). When that exceeds 2^-32 res
 * (relative error ~2.3e-10) the lane recomputes its window exactly (two-pass, anchor = mean)
 * before answering. `floor` stops the guard from chasing windows whose spread is below the
 * rounding noise of the prices themselves (std < ~2^-48 |p|), where no double method, the
 * two-pass reference included, has relative accuracy: such windows report var = 0 exactly.
 * Triggering needs |mean - K| >~ 2^10 std / sqrt(n) of drift, which one update cannot produce
 * right after a recompute, so recomputes stay rare (amortised O(1)). */
#define KAIROS_GUARD_SCALE 1048576.0        /* 2^-32 / (2u) = 2^20 */
#define KAIROS_GUARD_FLOOR 1.2621774483536189e-29 /* 2^-96 */

static inline double kairos_max(double a, double b) { return a > b ? a : b; } /* = maxpd(a, b) */
static inline double kairos_min(double a, double b) { return a < b ? a : b; } /* = minpd(a, b) */

/* Exact two-pass recompute of lane i's price sums after update b->t (not yet advanced),
 * oldest to newest; the AVX2 periodic recompute does the same operations in the same order. */
static void kairos_recompute_price_lane(struct kairos_feat_batch *b, size_t i) {
    size_t np = b->np;
    uint64_t t = b->t;
    uint32_t nw = (uint32_t)(t + 1 < b->W ? t + 1 : b->W);
    uint32_t sp = (uint32_t)((t + 1 - nw) % b->H);
    double sum = 0.0;
    uint32_t k = sp;
    for (uint32_t j = 0; j < nw; j++, k = k + 1 == b->H ? 0 : k + 1) sum = sum + b->ph[k * np + i];
    double K = sum / (double)nw, s1 = 0.0, s2 = 0.0;
    k = sp;
    for (uint32_t j = 0; j < nw; j++, k = k + 1 == b->H ? 0 : k + 1) {
        double d = b->ph[k * np + i] - K;
        s1 = s1 + d;
        s2 = s2 + d * d;
    }
    b->K[i] = K; b->S1[i] = s1; b->S2[i] = s2; b->E[i] = 0.0;
}

/* The scalar lane kernel. np is the lane stride; out/stride address the 12 outputs. Always
 * inlined: with np = stride = 1 the index arithmetic folds away, and inside the FMA clone of
 * the single-instrument update its fma() calls become single instructions. */
static inline __attribute__((always_inline)) void kairos_lane_scalar(struct kairos_feat_batch *restrict b, const kairos_feat_step *st,
                                      size_t np, size_t i, double p, double h, double l, double bv,
                                      double sv, double *restrict out, size_t stride) {
    if (st->first) {
        b->prev[i] = p; b->p0[i] = p; b->ema_f[i] = p; b->ema_s[i] = p; b->K[i] = p;
        b->S1[i] = 0; b->S2[i] = 0; b->E[i] = 0; b->sr2[i] = 0; b->G[i] = 0; b->Lo[i] = 0;
        b->sb[i] = 0; b->ss[i] = 0;
    }
    double q = b->prev[i];
    double d = p - q;
    double r = log1p(d / q);

    double ef = fma(b->alpha_fast, p - b->ema_f[i], b->ema_f[i]);
    double es = fma(b->alpha_slow, p - b->ema_s[i], b->ema_s[i]);
    b->ema_f[i] = ef;
    b->ema_s[i] = es;
    double spread = (ef - es) / es;

    /* Anchored windowed sums of the price. */
    double K = b->K[i];
    double dn = p - K;
    double s1 = b->S1[i] + dn;
    double s2 = fma(dn, dn, b->S2[i]);
    double s2a = s2;
    if (st->evict_p) {
        double dold = b->ph[st->slot_pw * np + i] - K;
        s1 = s1 - dold;
        s2 = fma(-dold, dold, s2);
    }
    double e = b->E[i] + s2a;
    b->S1[i] = s1;
    b->S2[i] = s2;
    b->E[i] = e;
    b->ph[st->slot_p * np + i] = p;
    double mo = s1 / st->nw;
    double res = fma(-s1, mo, s2);
    double var = 0.0;
    if (st->nw > 1.0) {
        double floor_ = (st->nw * KAIROS_GUARD_FLOOR) * (K * K);
        if (e + 1.5 * s2 > KAIROS_GUARD_SCALE * kairos_max(res, floor_)) {
            kairos_recompute_price_lane(b, i);
            K = b->K[i]; s1 = b->S1[i]; s2 = b->S2[i];
            mo = s1 / st->nw;
            res = fma(-s1, mo, s2);
        }
        /* Below the floor the spread is rounding noise of the prices (a constant window whose
         * mean rounds off by an ulp, say): report exactly 0, so ZSCORE is 0, not noise / noise. */
        var = res > floor_ ? res / st->nwm1 : 0.0;
    }
    double mean = K + mo;
    double z = var > 0.0 ? (p - mean) / sqrt(var) : 0.0;

    /* Realized volatility. */
    double v2 = b->sr2[i];
    if (st->has_ret) {
        double r2 = r * r;
        v2 = v2 + r2;
        if (st->evict_r) v2 = v2 - b->r2h[st->slot_r * np + i];
        b->r2h[st->slot_r * np + i] = r2;
        b->sr2[i] = v2;
    }
    double vol = st->m > 0.0 ? sqrt(kairos_max(v2, 0.0) / st->m) : 0.0;

    /* RSI. */
    double gain = kairos_max(d, 0.0), loss = kairos_max(-d, 0.0);
    double g = b->G[i], lo = b->Lo[i];
    switch (st->rsi_mode) {
    case 1: g = g + gain; lo = lo + loss; break;
    case 2: g = (g + gain) / st->Nd; lo = (lo + loss) / st->Nd; break;
    case 3: g = fma(g, st->Nm1, gain) / st->Nd; lo = fma(lo, st->Nm1, loss) / st->Nd; break;
    default: break;
    }
    b->G[i] = g;
    b->Lo[i] = lo;
    double den = g + lo;
    double rsi = den > 0.0 ? (100.0 * g) / den : 50.0;

    /* Momentum. */
    double qm = st->mom_hist ? b->ph[st->slot_pl * np + i] : b->p0[i];
    double mom = log1p((p - qm) / qm);

    /* High-low range: prefix of the current block + suffix of the previous one. */
    uint32_t o = st->o;
    double hp = o == 0 ? h : kairos_max(b->hpre[i], h);
    double lp = o == 0 ? l : kairos_min(b->lpre[i], l);
    b->hpre[i] = hp;
    b->lpre[i] = lp;
    double hi = hp, lw = lp;
    if (st->hl_suf) {
        hi = kairos_max(hi, b->hh[(o + 1) * np + i]);
        lw = kairos_min(lw, b->lh[(o + 1) * np + i]);
    }
    b->hh[o * np + i] = h;
    b->lh[o * np + i] = l;
    double range = (hi - lw) / p;

    /* Volume imbalance. */
    double sb = b->sb[i] + bv, ss = b->ss[i] + sv;
    if (st->evict_p) {
        sb = sb - b->bh[o * np + i];
        ss = ss - b->sh[o * np + i];
    }
    b->bh[o * np + i] = bv;
    b->sh[o * np + i] = sv;
    b->sb[i] = sb;
    b->ss[i] = ss;
    double vden = sb + ss;
    double imb = vden > 0.0 ? (sb - ss) / vden : 0.0;

    b->prev[i] = p;

    out[KAIROS_F_LOG_RETURN * stride] = r;
    out[KAIROS_F_EMA_FAST * stride] = ef;
    out[KAIROS_F_EMA_SLOW * stride] = es;
    out[KAIROS_F_EMA_SPREAD * stride] = spread;
    out[KAIROS_F_ROLL_MEAN * stride] = mean;
    out[KAIROS_F_ROLL_VAR * stride] = var;
    out[KAIROS_F_REALIZED_VOL * stride] = vol;
    out[KAIROS_F_ZSCORE * stride] = z;
    out[KAIROS_F_RSI * stride] = rsi;
    out[KAIROS_F_MOMENTUM * stride] = mom;
    out[KAIROS_F_HL_RANGE * stride] = range;
    out[KAIROS_F_VOLUME_IMBALANCE * stride] = imb;
}

/* Once per block of W updates: turn the block just completed into its suffix max/min, in place
 * (O(W) per W updates). Lanes [i0, i1). */
static void kairos_block_suffix_scalar(struct kairos_feat_batch *b, size_t i0, size_t i1) {
    size_t np = b->np;
    for (uint32_t j = b->W - 1; j-- > 0;) {
        double *h = b->hh + (size_t)j * np, *l = b->lh + (size_t)j * np;
        for (size_t i = i0; i < i1; i++) {
            h[i] = kairos_max(h[i], h[i + np]);
            l[i] = kairos_min(l[i], l[i + np]);
        }
    }
}

/* Exact recompute of the windowed sums from the buffers, after update t (b->t not yet
 * advanced): the price sums re-anchored at the window mean, the r^2 and volume sums summed
 * again. Oldest to newest, the same order in both paths. Lanes [i0, i1). */
static void kairos_recompute_scalar(struct kairos_feat_batch *b, size_t i0, size_t i1) {
    size_t np = b->np;
    uint64_t t = b->t;
    uint32_t nw = (uint32_t)(t + 1 < b->W ? t + 1 : b->W);
    uint32_t m = (uint32_t)(t < b->V ? t : b->V);
    uint32_t sp = (uint32_t)((t + 1 - nw) % b->H), sv = (uint32_t)((t + 1 - nw) % b->W);
    uint32_t sr = m ? (uint32_t)((t - m) % b->V) : 0;
    (void)sp;
    for (size_t i = i0; i < i1; i++) {
        kairos_recompute_price_lane(b, i);
        double v2 = 0.0;
        uint32_t k = sr;
        for (uint32_t j = 0; j < m; j++, k = k + 1 == b->V ? 0 : k + 1) v2 = v2 + b->r2h[k * np + i];
        b->sr2[i] = v2;
        double sb = 0.0, ss = 0.0;
        k = sv;
        for (uint32_t j = 0; j < nw; j++, k = k + 1 == b->W ? 0 : k + 1) {
            sb = sb + b->bh[k * np + i];
            ss = ss + b->sh[k * np + i];
        }
        b->sb[i] = sb; b->ss[i] = ss;
    }
}

static inline void kairos_step_finish(struct kairos_feat_batch *b, int avx2);

/* ---------------------------------------------------------------- AVX2 path */
#if KAIROS_HAVE_AVX2_CODE
#define KAIROS_AVX2 __attribute__((target("avx2,fma")))

/* log1p per lane: AVX2 has no vector logarithm, and scalar libm keeps the AVX2 path bitwise
 * equal to the scalar one. */
static inline KAIROS_AVX2 __m256d kairos_log1p4(__m256d x) {
    double a[4];
    _mm256_storeu_pd(a, x);
    a[0] = log1p(a[0]); a[1] = log1p(a[1]); a[2] = log1p(a[2]); a[3] = log1p(a[3]);
    return _mm256_loadu_pd(a);
}

/* Four lanes starting at lane i (i % 4 == 0); inputs at in_*[0..3], outputs at
 * out[f * stride + 0..3]. The same operations, in the same order, as kairos_lane_scalar. */
static inline KAIROS_AVX2 void kairos_group_avx2(struct kairos_feat_batch *restrict b,
                                                  const kairos_feat_step *st, size_t i,
                                                  const double *pp, const double *hp_in,
                                                  const double *lp_in, const double *bp,
                                                  const double *sp, double *restrict out,
                                                  size_t stride) {
    const size_t np = b->np;
    const __m256d zero = _mm256_setzero_pd();
    const __m256d signbit = _mm256_set1_pd(-0.0);
    __m256d p = _mm256_loadu_pd(pp);
    __m256d h = hp_in ? _mm256_loadu_pd(hp_in) : p;
    __m256d l = lp_in ? _mm256_loadu_pd(lp_in) : p;
    __m256d bv = bp ? _mm256_loadu_pd(bp) : zero;
    __m256d sv = sp ? _mm256_loadu_pd(sp) : zero;
    if (st->first) {
        _mm256_store_pd(b->prev + i, p); _mm256_store_pd(b->p0 + i, p);
        _mm256_store_pd(b->ema_f + i, p); _mm256_store_pd(b->ema_s + i, p);
        _mm256_store_pd(b->K + i, p);
        _mm256_store_pd(b->S1 + i, zero); _mm256_store_pd(b->S2 + i, zero);
        _mm256_store_pd(b->E + i, zero);
        _mm256_store_pd(b->sr2 + i, zero); _mm256_store_pd(b->G + i, zero);
        _mm256_store_pd(b->Lo + i, zero); _mm256_store_pd(b->sb + i, zero);
        _mm256_store_pd(b->ss + i, zero);
    }
    __m256d q = _mm256_load_pd(b->prev + i);
    __m256d d = _mm256_sub_pd(p, q);
    __m256d r = kairos_log1p4(_mm256_div_pd(d, q));

    __m256d ef0 = _mm256_load_pd(b->ema_f + i), es0 = _mm256_load_pd(b->ema_s + i);
    __m256d ef = _mm256_fmadd_pd(_mm256_set1_pd(b->alpha_fast), _mm256_sub_pd(p, ef0), ef0);
    __m256d es = _mm256_fmadd_pd(_mm256_set1_pd(b->alpha_slow), _mm256_sub_pd(p, es0), es0);
    _mm256_store_pd(b->ema_f + i, ef);
    _mm256_store_pd(b->ema_s + i, es);
    __m256d spread = _mm256_div_pd(_mm256_sub_pd(ef, es), es);

    __m256d K = _mm256_load_pd(b->K + i);
    __m256d dn = _mm256_sub_pd(p, K);
    __m256d s1 = _mm256_add_pd(_mm256_load_pd(b->S1 + i), dn);
    __m256d s2 = _mm256_fmadd_pd(dn, dn, _mm256_load_pd(b->S2 + i));
    __m256d e = _mm256_add_pd(_mm256_load_pd(b->E + i), s2);
    if (st->evict_p) {
        __m256d dold = _mm256_sub_pd(_mm256_load_pd(b->ph + st->slot_pw * np + i), K);
        s1 = _mm256_sub_pd(s1, dold);
        s2 = _mm256_fnmadd_pd(dold, dold, s2); /* -(dold*dold) + s2 == fma(-dold, dold, s2) */
    }
    _mm256_store_pd(b->S1 + i, s1);
    _mm256_store_pd(b->S2 + i, s2);
    _mm256_store_pd(b->E + i, e);
    _mm256_store_pd(b->ph + st->slot_p * np + i, p);
    const __m256d nwv = _mm256_set1_pd(st->nw);
    __m256d mo = _mm256_div_pd(s1, nwv);
    __m256d res = _mm256_fnmadd_pd(s1, mo, s2);
    __m256d var = zero;
    if (st->nw > 1.0) {
        __m256d floor_ = _mm256_mul_pd(_mm256_set1_pd(st->nw * KAIROS_GUARD_FLOOR), _mm256_mul_pd(K, K));
        __m256d lhs = _mm256_add_pd(e, _mm256_mul_pd(_mm256_set1_pd(1.5), s2));
        __m256d rhs = _mm256_mul_pd(_mm256_set1_pd(KAIROS_GUARD_SCALE), _mm256_max_pd(res, floor_));
        int bad = _mm256_movemask_pd(_mm256_cmp_pd(lhs, rhs, _CMP_GT_OQ));
        if (bad) { /* rare: exact recompute of just those lanes, as the scalar path does */
            for (int k = 0; k < KAIROS_LANES; k++)
                if (bad & (1 << k)) kairos_recompute_price_lane(b, i + (size_t)k);
            K = _mm256_load_pd(b->K + i);
            s1 = _mm256_load_pd(b->S1 + i);
            s2 = _mm256_load_pd(b->S2 + i);
            mo = _mm256_div_pd(s1, nwv);
            res = _mm256_fnmadd_pd(s1, mo, s2);
        }
        var = _mm256_and_pd(_mm256_cmp_pd(res, floor_, _CMP_GT_OQ),
                            _mm256_div_pd(res, _mm256_set1_pd(st->nwm1)));
    }
    __m256d mean = _mm256_add_pd(K, mo);
    __m256d varpos = _mm256_cmp_pd(var, zero, _CMP_GT_OQ);
    __m256d z = _mm256_and_pd(varpos, _mm256_div_pd(_mm256_sub_pd(p, mean), _mm256_sqrt_pd(var)));

    __m256d v2 = _mm256_load_pd(b->sr2 + i);
    if (st->has_ret) {
        __m256d r2 = _mm256_mul_pd(r, r);
        v2 = _mm256_add_pd(v2, r2);
        if (st->evict_r) v2 = _mm256_sub_pd(v2, _mm256_load_pd(b->r2h + st->slot_r * np + i));
        _mm256_store_pd(b->r2h + st->slot_r * np + i, r2);
        _mm256_store_pd(b->sr2 + i, v2);
    }
    __m256d vol = zero;
    if (st->m > 0.0) vol = _mm256_sqrt_pd(_mm256_div_pd(_mm256_max_pd(v2, zero), _mm256_set1_pd(st->m)));

    __m256d gain = _mm256_max_pd(d, zero);
    __m256d loss = _mm256_max_pd(_mm256_xor_pd(d, signbit), zero);
    __m256d g = _mm256_load_pd(b->G + i), lo = _mm256_load_pd(b->Lo + i);
    __m256d Nd = _mm256_set1_pd(st->Nd);
    switch (st->rsi_mode) {
    case 1: g = _mm256_add_pd(g, gain); lo = _mm256_add_pd(lo, loss); break;
    case 2:
        g = _mm256_div_pd(_mm256_add_pd(g, gain), Nd);
        lo = _mm256_div_pd(_mm256_add_pd(lo, loss), Nd);
        break;
    case 3: {
        __m256d Nm1 = _mm256_set1_pd(st->Nm1);
        g = _mm256_div_pd(_mm256_fmadd_pd(g, Nm1, gain), Nd);
        lo = _mm256_div_pd(_mm256_fmadd_pd(lo, Nm1, loss), Nd);
        break;
    }
    default: break;
    }
    _mm256_store_pd(b->G + i, g);
    _mm256_store_pd(b->Lo + i, lo);
    __m256d den = _mm256_add_pd(g, lo);
    __m256d rsi = _mm256_blendv_pd(_mm256_set1_pd(50.0),
                                   _mm256_div_pd(_mm256_mul_pd(_mm256_set1_pd(100.0), g), den),
                                   _mm256_cmp_pd(den, zero, _CMP_GT_OQ));

    __m256d qm = _mm256_load_pd(st->mom_hist ? b->ph + st->slot_pl * np + i : b->p0 + i);
    __m256d mom = kairos_log1p4(_mm256_div_pd(_mm256_sub_pd(p, qm), qm));

    uint32_t o = st->o;
    __m256d hpv = o == 0 ? h : _mm256_max_pd(_mm256_load_pd(b->hpre + i), h);
    __m256d lpv = o == 0 ? l : _mm256_min_pd(_mm256_load_pd(b->lpre + i), l);
    _mm256_store_pd(b->hpre + i, hpv);
    _mm256_store_pd(b->lpre + i, lpv);
    __m256d hi = hpv, lw = lpv;
    if (st->hl_suf) {
        hi = _mm256_max_pd(hi, _mm256_load_pd(b->hh + (o + 1) * np + i));
        lw = _mm256_min_pd(lw, _mm256_load_pd(b->lh + (o + 1) * np + i));
    }
    _mm256_store_pd(b->hh + o * np + i, h);
    _mm256_store_pd(b->lh + o * np + i, l);
    __m256d range = _mm256_div_pd(_mm256_sub_pd(hi, lw), p);

    __m256d sbv = _mm256_add_pd(_mm256_load_pd(b->sb + i), bv);
    __m256d ssv = _mm256_add_pd(_mm256_load_pd(b->ss + i), sv);
    if (st->evict_p) {
        sbv = _mm256_sub_pd(sbv, _mm256_load_pd(b->bh + o * np + i));
        ssv = _mm256_sub_pd(ssv, _mm256_load_pd(b->sh + o * np + i));
    }
    _mm256_store_pd(b->bh + o * np + i, bv);
    _mm256_store_pd(b->sh + o * np + i, sv);
    _mm256_store_pd(b->sb + i, sbv);
    _mm256_store_pd(b->ss + i, ssv);
    __m256d vden = _mm256_add_pd(sbv, ssv);
    __m256d imb = _mm256_and_pd(_mm256_cmp_pd(vden, zero, _CMP_GT_OQ),
                                _mm256_div_pd(_mm256_sub_pd(sbv, ssv), vden));

    _mm256_store_pd(b->prev + i, p);

    _mm256_storeu_pd(out + KAIROS_F_LOG_RETURN * stride, r);
    _mm256_storeu_pd(out + KAIROS_F_EMA_FAST * stride, ef);
    _mm256_storeu_pd(out + KAIROS_F_EMA_SLOW * stride, es);
    _mm256_storeu_pd(out + KAIROS_F_EMA_SPREAD * stride, spread);
    _mm256_storeu_pd(out + KAIROS_F_ROLL_MEAN * stride, mean);
    _mm256_storeu_pd(out + KAIROS_F_ROLL_VAR * stride, var);
    _mm256_storeu_pd(out + KAIROS_F_REALIZED_VOL * stride, vol);
    _mm256_storeu_pd(out + KAIROS_F_ZSCORE * stride, z);
    _mm256_storeu_pd(out + KAIROS_F_RSI * stride, rsi);
    _mm256_storeu_pd(out + KAIROS_F_MOMENTUM * stride, mom);
    _mm256_storeu_pd(out + KAIROS_F_HL_RANGE * stride, range);
    _mm256_storeu_pd(out + KAIROS_F_VOLUME_IMBALANCE * stride, imb);
}

static KAIROS_AVX2 void kairos_block_suffix_avx2(struct kairos_feat_batch *b) {
    size_t np = b->np;
    for (uint32_t j = b->W - 1; j-- > 0;) {
        double *h = b->hh + (size_t)j * np, *l = b->lh + (size_t)j * np;
        for (size_t i = 0; i < np; i += KAIROS_LANES) {
            _mm256_store_pd(h + i, _mm256_max_pd(_mm256_load_pd(h + i), _mm256_load_pd(h + i + np)));
            _mm256_store_pd(l + i, _mm256_min_pd(_mm256_load_pd(l + i), _mm256_load_pd(l + i + np)));
        }
    }
}

static KAIROS_AVX2 void kairos_recompute_avx2(struct kairos_feat_batch *b) {
    size_t np = b->np;
    uint64_t t = b->t;
    uint32_t nw = (uint32_t)(t + 1 < b->W ? t + 1 : b->W);
    uint32_t m = (uint32_t)(t < b->V ? t : b->V);
    uint32_t sp = (uint32_t)((t + 1 - nw) % b->H), svs = (uint32_t)((t + 1 - nw) % b->W);
    uint32_t sr = m ? (uint32_t)((t - m) % b->V) : 0;
    const __m256d nwv = _mm256_set1_pd((double)nw);
    for (size_t i = 0; i < np; i += KAIROS_LANES) {
        __m256d sum = _mm256_setzero_pd();
        uint32_t k = sp;
        for (uint32_t j = 0; j < nw; j++, k = k + 1 == b->H ? 0 : k + 1)
            sum = _mm256_add_pd(sum, _mm256_load_pd(b->ph + k * np + i));
        __m256d K = _mm256_div_pd(sum, nwv), s1 = _mm256_setzero_pd(), s2 = _mm256_setzero_pd();
        k = sp;
        for (uint32_t j = 0; j < nw; j++, k = k + 1 == b->H ? 0 : k + 1) {
            __m256d d = _mm256_sub_pd(_mm256_load_pd(b->ph + k * np + i), K);
            s1 = _mm256_add_pd(s1, d);
            s2 = _mm256_add_pd(s2, _mm256_mul_pd(d, d));
        }
        _mm256_store_pd(b->K + i, K); _mm256_store_pd(b->S1 + i, s1); _mm256_store_pd(b->S2 + i, s2);
        _mm256_store_pd(b->E + i, _mm256_setzero_pd());
        __m256d v2 = _mm256_setzero_pd();
        k = sr;
        for (uint32_t j = 0; j < m; j++, k = k + 1 == b->V ? 0 : k + 1)
            v2 = _mm256_add_pd(v2, _mm256_load_pd(b->r2h + k * np + i));
        _mm256_store_pd(b->sr2 + i, v2);
        __m256d sb = _mm256_setzero_pd(), ss = _mm256_setzero_pd();
        k = svs;
        for (uint32_t j = 0; j < nw; j++, k = k + 1 == b->W ? 0 : k + 1) {
            sb = _mm256_add_pd(sb, _mm256_load_pd(b->bh + k * np + i));
            ss = _mm256_add_pd(ss, _mm256_load_pd(b->sh + k * np + i));
        }
        _mm256_store_pd(b->sb + i, sb); _mm256_store_pd(b->ss + i, ss);
    }
}

static KAIROS_AVX2 void kairos_batch_update_avx2(struct kairos_feat_batch *b, const double *price,
                                                 const double *high, const double *low,
                                                 const double *buy, const double *sell, double *out) {
    kairos_feat_step st;
    kairos_step_prepare(b, &st);
    size_t n = b->n, n4 = n & ~(size_t)(KAIROS_LANES - 1);
    for (size_t i = 0; i < n4; i += KAIROS_LANES)
        kairos_group_avx2(b, &st, i, price + i, high ? high + i : NULL, low ? low + i : NULL,
                          buy ? buy + i : NULL, sell ? sell + i : NULL, out + i, n);
    if (n4 < n) {
        /* The tail runs through the same vector kernel on padded copies (padding lanes see a
         * constant price 1 with no volume, so they stay finite), which keeps the arithmetic
         * of the last instruments identical to the others'. */
        double tp[4] = {1, 1, 1, 1}, th[4] = {1, 1, 1, 1}, tl[4] = {1, 1, 1, 1};
        double tb[4] = {0, 0, 0, 0}, ts[4] = {0, 0, 0, 0}, to[KAIROS_FEAT_COUNT * 4];
        size_t rem = n - n4;
        for (size_t k = 0; k < rem; k++) {
            tp[k] = price[n4 + k];
            th[k] = high ? high[n4 + k] : tp[k];
            tl[k] = low ? low[n4 + k] : tp[k];
            tb[k] = buy ? buy[n4 + k] : 0.0;
            ts[k] = sell ? sell[n4 + k] : 0.0;
        }
        kairos_group_avx2(b, &st, n4, tp, th, tl, tb, ts, to, 4);
        for (int f = 0; f < KAIROS_FEAT_COUNT; f++)
            for (size_t k = 0; k < rem; k++) out[(size_t)f * n + n4 + k] = to[f * 4 + k];
    }
    kairos_step_finish(b, 1);
}
#endif /* KAIROS_HAVE_AVX2_CODE */

/* After every lane has been updated: block boundary, periodic exact recompute, counters. */
static inline void kairos_step_finish(struct kairos_feat_batch *b, int avx2) {
    (void)avx2;
    if (b->o + 1 == b->W) {
#if KAIROS_HAVE_AVX2_CODE
        if (avx2) kairos_block_suffix_avx2(b); else
#endif
        kairos_block_suffix_scalar(b, 0, b->np);
    }
    if (++b->since >= b->R) {
#if KAIROS_HAVE_AVX2_CODE
        if (avx2) kairos_recompute_avx2(b); else
#endif
        kairos_recompute_scalar(b, 0, b->np);
        b->since = 0;
    }
    if (b->t >= 1) b->pos_r = b->pos_r + 1 == b->V ? 0 : b->pos_r + 1;
    b->pos_p = b->pos_p + 1 == b->H ? 0 : b->pos_p + 1;
    b->o = b->o + 1 == b->W ? 0 : b->o + 1;
    b->t++;
}

static void kairos_batch_update_scalar(struct kairos_feat_batch *b, const double *price,
                                       const double *high, const double *low, const double *buy,
                                       const double *sell, double *out) {
    kairos_feat_step st;
    kairos_step_prepare(b, &st);
    size_t n = b->n;
    for (size_t i = 0; i < n; i++) {
        double p = price[i];
        kairos_lane_scalar(b, &st, b->np, i, p, high ? high[i] : p, low ? low[i] : p,
                           buy ? buy[i] : 0.0, sell ? sell[i] : 0.0, out + i, n);
    }
    kairos_step_finish(b, 0);
}

/* ---------------------------------------------------------------- one instrument */

kairos_feat_state *kairos_feat_create(const kairos_feat_config *cfg) {
    if (kairos_feat_config_validate(cfg) != 0) return NULL;
    kairos_feat_state *s = malloc(sizeof *s);
    if (!s) return NULL;
    if (kairos_batch_init(&s->b, cfg, 1, KAIROS_SIMD_SCALAR) != 0) {
        free(s);
        return NULL;
    }
    s->fma_clone = KAIROS_HAVE_AVX2_CODE && kairos_cpu_has_avx2_fma();
    return s;
}

void kairos_feat_destroy(kairos_feat_state *s) {
    if (!s) return;
    free(s->b.mem);
    free(s);
}

void kairos_feat_reset(kairos_feat_state *s) { kairos_batch_reset(&s->b); }

#if KAIROS_HAVE_AVX2_CODE
/* The same kernel compiled for AVX2+FMA: fma() becomes one vfmadd instead of a libm call.
 * fma is correctly rounded either way, and the file forbids other contraction, so the
 * results are bitwise those of the portable build. */
static KAIROS_AVX2 void kairos_feat_update_fma(struct kairos_feat_batch *b, const kairos_feat_input *in,
                                               kairos_feat_vector *out) {
    kairos_feat_step st;
    kairos_step_prepare(b, &st);
    kairos_lane_scalar(b, &st, 1, 0, in->price, in->high, in->low, in->buy_volume, in->sell_volume,
                       out->v, 1);
    kairos_step_finish(b, 0);
}
#endif

void kairos_feat_update(kairos_feat_state *s, const kairos_feat_input *in, kairos_feat_vector *out) {
    struct kairos_feat_batch *b = &s->b;
#if KAIROS_HAVE_AVX2_CODE
    if (s->fma_clone) {
        kairos_feat_update_fma(b, in, out);
        return;
    }
#endif
    kairos_feat_step st;
    kairos_step_prepare(b, &st);
    /* np = 1, i = 0, stride 1: the batch-of-one layout is the plain state, and the constant
     * stride lets the compiler drop the index arithmetic. */
    kairos_lane_scalar(b, &st, 1, 0, in->price, in->high, in->low, in->buy_volume, in->sell_volume,
                       out->v, 1);
    kairos_step_finish(b, 0);
}

uint64_t kairos_feat_updates(const kairos_feat_state *s) { return s->b.t; }

/* ---------------------------------------------------------------- batch */

kairos_feat_batch *kairos_feat_batch_create(const kairos_feat_config *cfg, uint32_t n_instruments,
                                            kairos_simd_path path) {
    if (kairos_feat_config_validate(cfg) != 0 || n_instruments == 0) return NULL;
    int avx2 = kairos_cpu_has_avx2_fma() && KAIROS_HAVE_AVX2_CODE;
    if (path == KAIROS_SIMD_AUTO) path = avx2 ? KAIROS_SIMD_AVX2 : KAIROS_SIMD_SCALAR;
    else if (path == KAIROS_SIMD_AVX2 && !avx2) return NULL;
    else if (path != KAIROS_SIMD_SCALAR && path != KAIROS_SIMD_AVX2) return NULL;
    kairos_feat_batch *b = malloc(sizeof *b);
    if (!b) return NULL;
    if (kairos_batch_init(b, cfg, n_instruments, path) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

void kairos_feat_batch_destroy(kairos_feat_batch *b) {
    if (!b) return;
    free(b->mem);
    free(b);
}

kairos_simd_path kairos_feat_batch_path(const kairos_feat_batch *b) { return b->path; }
uint32_t kairos_feat_batch_count(const kairos_feat_batch *b) { return b->n; }
void kairos_feat_batch_reset(kairos_feat_batch *b) { kairos_batch_reset(b); }
uint64_t kairos_feat_batch_updates(const kairos_feat_batch *b) { return b->t; }

void kairos_feat_batch_update(kairos_feat_batch *b, const double *price, const double *high,
                              const double *low, const double *buy_volume,
                              const double *sell_volume, double *out) {
#if KAIROS_HAVE_AVX2_CODE
    if (b->path == KAIROS_SIMD_AVX2) {
        kairos_batch_update_avx2(b, price, high, low, buy_volume, sell_volume, out);
        return;
    }
#endif
    kairos_batch_update_scalar(b, price, high, low, buy_volume, sell_volume, out);
}

/* ---------------------------------------------------------------- history */

int kairos_feat_history(const kairos_feat_config *cfg, size_t T, const double *price,
                        const double *high, const double *low, const double *buy_volume,
                        const double *sell_volume, double *out) {
    int rc = kairos_feat_config_validate(cfg);
    if (rc != 0) return rc;
    kairos_feat_state *s = kairos_feat_create(cfg);
    if (!s) return KAIROS_FEAT_E_NOMEM;
    for (size_t t = 0; t < T; t++) {
        kairos_feat_input in = {price[t], high ? high[t] : price[t], low ? low[t] : price[t],
                                buy_volume ? buy_volume[t] : 0.0, sell_volume ? sell_volume[t] : 0.0};
        kairos_feat_update(s, &in, (kairos_feat_vector *)(out + t * KAIROS_FEAT_COUNT));
    }
    kairos_feat_destroy(s);
    return 0;
}
