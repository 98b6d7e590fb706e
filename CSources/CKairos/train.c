/* Training kernels for the PPO learner: batched dense forward/backward, tanh backward, Adam.
 * See kairos_train.h for the layout ([in][out] transposed weights so every loop runs over the
 * output dimension, 8 floats per AVX2 register). */
#include "kairos_train.h"
#include "kairos_mlp.h" /* kairos_mlp_tanh_approx: the activation inference uses */

#include <math.h>
#include <stddef.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KAIROS_TRAIN_X86 1
#endif

kairos_simd_path kairos_train_resolve_path(kairos_simd_path path) {
    if (path == KAIROS_SIMD_SCALAR) return KAIROS_SIMD_SCALAR;
    /* AVX2 requested or AUTO: only when the CPU can run it, so a bad request degrades instead
     * of faulting with SIGILL. */
    return kairos_cpu_has_avx2_fma() ? KAIROS_SIMD_AVX2 : KAIROS_SIMD_SCALAR;
}

/* ---- scalar ---- */
static void kairos_train_forward_scalar(const float *x, const float *wt, const float *b, float *y, uint32_t n,
                                        uint32_t in, uint32_t out) {
    for (uint32_t r = 0; r < n; r++) {
        const float *xr = x + (size_t)r * in;
        float *yr = y + (size_t)r * out;
        for (uint32_t o = 0; o < out; o++) yr[o] = b[o];
        /* i outer, o inner: the same per-output summation order as the AVX2 path. */
        for (uint32_t i = 0; i < in; i++) {
            const float xi = xr[i];
            const float *w = wt + (size_t)i * out;
            for (uint32_t o = 0; o < out; o++) yr[o] += xi * w[o];
        }
    }
}

static void kairos_train_backward_scalar(const float *x, const float *wt, const float *dy, float *dwt, float *db,
                                         float *dx, uint32_t n, uint32_t in, uint32_t out) {
    for (uint32_t i = 0; i < in; i++) {
        float *dw = dwt + (size_t)i * out;
        for (uint32_t r = 0; r < n; r++) {
            const float xi = x[(size_t)r * in + i];
            const float *d = dy + (size_t)r * out;
            for (uint32_t o = 0; o < out; o++) dw[o] += xi * d[o];
        }
    }
    for (uint32_t r = 0; r < n; r++) {
        const float *d = dy + (size_t)r * out;
        for (uint32_t o = 0; o < out; o++) db[o] += d[o];
    }
    if (dx == NULL) return;
    for (uint32_t r = 0; r < n; r++) {
        const float *d = dy + (size_t)r * out;
        for (uint32_t i = 0; i < in; i++) {
            const float *w = wt + (size_t)i * out;
            float s = 0.0f;
            for (uint32_t o = 0; o < out; o++) s += d[o] * w[o];
            dx[(size_t)r * in + i] = s;
        }
    }
}

/* ---- AVX2 + FMA ---- */
#ifdef KAIROS_TRAIN_X86
__attribute__((target("avx2,fma"))) static void kairos_train_forward_avx2(const float *x, const float *wt,
                                                                          const float *b, float *y, uint32_t n,
                                                                          uint32_t in, uint32_t out) {
    for (uint32_t r = 0; r < n; r++) {
        const float *xr = x + (size_t)r * in;
        float *yr = y + (size_t)r * out;
        uint32_t o = 0;
        /* 32 outputs at a time: four accumulators amortise each broadcast of x[r][i]. */
        for (; o + 32 <= out; o += 32) {
            __m256 a0 = _mm256_loadu_ps(b + o), a1 = _mm256_loadu_ps(b + o + 8);
            __m256 a2 = _mm256_loadu_ps(b + o + 16), a3 = _mm256_loadu_ps(b + o + 24);
            for (uint32_t i = 0; i < in; i++) {
                const __m256 xi = _mm256_broadcast_ss(xr + i);
                const float *w = wt + (size_t)i * out + o;
                a0 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(w), a0);
                a1 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(w + 8), a1);
                a2 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(w + 16), a2);
                a3 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(w + 24), a3);
            }
            _mm256_storeu_ps(yr + o, a0);
            _mm256_storeu_ps(yr + o + 8, a1);
            _mm256_storeu_ps(yr + o + 16, a2);
            _mm256_storeu_ps(yr + o + 24, a3);
        }
        for (; o + 8 <= out; o += 8) {
            __m256 a = _mm256_loadu_ps(b + o);
            for (uint32_t i = 0; i < in; i++)
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + i), _mm256_loadu_ps(wt + (size_t)i * out + o), a);
            _mm256_storeu_ps(yr + o, a);
        }
        for (; o < out; o++) {
            float s = b[o];
            for (uint32_t i = 0; i < in; i++) s = fmaf(xr[i], wt[(size_t)i * out + o], s);
            yr[o] = s;
        }
    }
}

__attribute__((target("avx2,fma"))) static inline float kairos_train_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) static void kairos_train_backward_avx2(const float *x, const float *wt,
                                                                           const float *dy, float *dwt, float *db,
                                                                           float *dx, uint32_t n, uint32_t in,
                                                                           uint32_t out) {
    /* dwt: the accumulator for one (i, 8 outputs) block stays in a register across the batch. */
    for (uint32_t i = 0; i < in; i++) {
        float *dw = dwt + (size_t)i * out;
        uint32_t o = 0;
        for (; o + 8 <= out; o += 8) {
            __m256 a = _mm256_loadu_ps(dw + o);
            for (uint32_t r = 0; r < n; r++)
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(x + (size_t)r * in + i),
                                    _mm256_loadu_ps(dy + (size_t)r * out + o), a);
            _mm256_storeu_ps(dw + o, a);
        }
        for (; o < out; o++) {
            float s = dw[o];
            for (uint32_t r = 0; r < n; r++) s = fmaf(x[(size_t)r * in + i], dy[(size_t)r * out + o], s);
            dw[o] = s;
        }
    }
    {
        uint32_t o = 0;
        for (; o + 8 <= out; o += 8) {
            __m256 a = _mm256_loadu_ps(db + o);
            for (uint32_t r = 0; r < n; r++) a = _mm256_add_ps(a, _mm256_loadu_ps(dy + (size_t)r * out + o));
            _mm256_storeu_ps(db + o, a);
        }
        for (; o < out; o++) {
            float s = db[o];
            for (uint32_t r = 0; r < n; r++) s += dy[(size_t)r * out + o];
            db[o] = s;
        }
    }
    if (dx == NULL) return;
    for (uint32_t r = 0; r < n; r++) {
        const float *d = dy + (size_t)r * out;
        for (uint32_t i = 0; i < in; i++) {
            const float *w = wt + (size_t)i * out;
            uint32_t o = 0;
            float s = 0.0f;
            if (out >= 8) {
                __m256 a = _mm256_setzero_ps();
                for (; o + 8 <= out; o += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(d + o), _mm256_loadu_ps(w + o), a);
                s = kairos_train_hsum8(a);
            }
            for (; o < out; o++) s = fmaf(d[o], w[o], s);
            dx[(size_t)r * in + i] = s;
        }
    }
}
#endif

void kairos_train_dense_forward(kairos_simd_path path, const float *x, const float *wt, const float *b, float *y,
                                uint32_t n, uint32_t in, uint32_t out, int tanh_act) {
#ifdef KAIROS_TRAIN_X86
    if (kairos_train_resolve_path(path) == KAIROS_SIMD_AVX2)
        kairos_train_forward_avx2(x, wt, b, y, n, in, out);
    else
#endif
        kairos_train_forward_scalar(x, wt, b, y, n, in, out);
    if (tanh_act) {
        const size_t count = (size_t)n * out;
        for (size_t k = 0; k < count; k++) y[k] = kairos_mlp_tanh_approx(y[k]);
    }
}

void kairos_train_dense_backward(kairos_simd_path path, const float *x, const float *wt, const float *dy, float *dwt,
                                 float *db, float *dx, uint32_t n, uint32_t in, uint32_t out) {
#ifdef KAIROS_TRAIN_X86
    if (kairos_train_resolve_path(path) == KAIROS_SIMD_AVX2) {
        kairos_train_backward_avx2(x, wt, dy, dwt, db, dx, n, in, out);
        return;
    }
#endif
    kairos_train_backward_scalar(x, wt, dy, dwt, db, dx, n, in, out);
}

void kairos_train_tanh_backward(float *g, const float *y, uint32_t count) {
    for (uint32_t k = 0; k < count; k++) g[k] *= 1.0f - y[k] * y[k];
}

void kairos_train_adam(float *p, const float *g, float *m, float *v, uint32_t count, float lr, float b1, float b2,
                       float eps, float bc1, float bc2, float grad_scale) {
    const float inv_bc1 = 1.0f / bc1, inv_bc2 = 1.0f / bc2;
    for (uint32_t k = 0; k < count; k++) {
        const float gk = g[k] * grad_scale;
        m[k] = b1 * m[k] + (1.0f - b1) * gk;
        v[k] = b2 * v[k] + (1.0f - b2) * gk * gk;
        p[k] -= lr * (m[k] * inv_bc1) / (sqrtf(v[k] * inv_bc2) + eps);
    }
}

double kairos_train_sum_squares(const float *g, uint32_t count) {
    double s = 0.0;
    for (uint32_t k = 0; k < count; k++) s += (double)g[k] * (double)g[k];
    return s;
}
