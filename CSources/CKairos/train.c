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
/* restrict: the buffers never alias (header contract), which lets the compiler vectorise the
 * inner loops with the baseline SSE it may use here. */
static void kairos_train_forward_scalar(const float *restrict x, const float *restrict wt, const float *restrict b,
                                        float *restrict y, uint32_t n, uint32_t in, uint32_t out) {
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

static void kairos_train_backward_scalar(const float *restrict x, const float *restrict wt, const float *restrict dy,
                                         float *restrict dwt, float *restrict db, float *restrict dx, uint32_t n,
                                         uint32_t in, uint32_t out) {
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
/* The inference kernel's tanh approximation (mlp.c, same coefficients), 8 lanes at a time: the
 * scalar call per element was a quarter of the training time. Lanes with tiny |x| or NaN return x,
 * as the scalar version does. */
#define KAIROS_TR_TANH_CLAMP 7.90531110763549805f
#define KAIROS_TR_TANH_TINY 0.0004f
__attribute__((target("avx2,fma"))) static inline __m256 kairos_train_tanh8(__m256 x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 ax = _mm256_andnot_ps(sign, x);
    const __m256 keep = _mm256_or_ps(_mm256_cmp_ps(ax, _mm256_set1_ps(KAIROS_TR_TANH_TINY), _CMP_LT_OQ),
                                     _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    const __m256 c =
        _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-KAIROS_TR_TANH_CLAMP)), _mm256_set1_ps(KAIROS_TR_TANH_CLAMP));
    const __m256 x2 = _mm256_mul_ps(c, c);
    __m256 p = _mm256_set1_ps(-2.76076847742355e-16f);
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(2.00018790482477e-13f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(-8.60467152213735e-11f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(5.12229709037114e-08f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(1.48572235717979e-05f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(6.37261928875436e-04f));
    p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(4.89352455891786e-03f));
    p = _mm256_mul_ps(p, c);
    __m256 q = _mm256_set1_ps(1.19825839466702e-06f);
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(1.18534705686654e-04f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(2.26843463243900e-03f));
    q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(4.89352518554385e-03f));
    return _mm256_blendv_ps(_mm256_div_ps(p, q), x, keep);
}

__attribute__((target("avx2,fma"))) static void kairos_train_tanh_avx2(float *y, size_t count) {
    size_t k = 0;
    for (; k + 8 <= count; k += 8) _mm256_storeu_ps(y + k, kairos_train_tanh8(_mm256_loadu_ps(y + k)));
    for (; k < count; k++) y[k] = kairos_mlp_tanh_approx(y[k]);
}

__attribute__((target("avx2,fma"))) static inline float kairos_train_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Columns of a narrow head (fewer than 8 outputs left) are gathered into this many floats on the
 * stack so their dot products run 8-wide over the inputs; wider inputs use the scalar loop. */
#define KAIROS_TRAIN_COL_MAX 1024
/* Largest layer (in*out floats, 64 KB) whose weights the backward pass transposes on the stack. */
#define KAIROS_TRAIN_T_MAX 16384

__attribute__((target("avx2,fma"))) static void kairos_train_forward_avx2(const float *x, const float *wt,
                                                                          const float *b, float *y, uint32_t n,
                                                                          uint32_t in, uint32_t out) {
    const uint32_t wide = out & ~7u; /* outputs handled 8-wide over outputs */
    for (uint32_t r = 0; r < n; r++) {
        const float *xr = x + (size_t)r * in;
        float *yr = y + (size_t)r * out;
        uint32_t o = 0;
        /* 64 outputs at a time: eight independent FMA chains hide the FMA latency and each
         * broadcast of x[r][i] feeds eight FMAs. */
        for (; o + 64 <= out; o += 64) {
            __m256 a[8];
            for (int k = 0; k < 8; k++) a[k] = _mm256_loadu_ps(b + o + 8 * k);
            for (uint32_t i = 0; i < in; i++) {
                const __m256 xi = _mm256_broadcast_ss(xr + i);
                const float *w = wt + (size_t)i * out + o;
                for (int k = 0; k < 8; k++) a[k] = _mm256_fmadd_ps(xi, _mm256_loadu_ps(w + 8 * k), a[k]);
            }
            for (int k = 0; k < 8; k++) _mm256_storeu_ps(yr + o + 8 * k, a[k]);
        }
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
        for (; o < wide; o += 8) {
            __m256 a = _mm256_loadu_ps(b + o);
            for (uint32_t i = 0; i < in; i++)
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + i), _mm256_loadu_ps(wt + (size_t)i * out + o), a);
            _mm256_storeu_ps(yr + o, a);
        }
    }
    /* Narrow tail (e.g. a 2-logit policy head, a 1-output value head): a dot product over the
     * inputs per output, 8-wide with two partial sums, instead of one 64-deep scalar FMA chain. */
    for (uint32_t o = wide; o < out; o++) {
        if (in >= 16 && in <= KAIROS_TRAIN_COL_MAX) {
            float col[KAIROS_TRAIN_COL_MAX];
            for (uint32_t i = 0; i < in; i++) col[i] = wt[(size_t)i * out + o];
            for (uint32_t r = 0; r < n; r++) {
                const float *xr = x + (size_t)r * in;
                __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
                uint32_t i = 0;
                for (; i + 16 <= in; i += 16) {
                    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + i), _mm256_loadu_ps(col + i), s0);
                    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + i + 8), _mm256_loadu_ps(col + i + 8), s1);
                }
                float s = kairos_train_hsum8(_mm256_add_ps(s0, s1));
                for (; i < in; i++) s = fmaf(xr[i], col[i], s);
                y[(size_t)r * out + o] = b[o] + s;
            }
        } else {
            for (uint32_t r = 0; r < n; r++) {
                const float *xr = x + (size_t)r * in;
                float s = b[o];
                for (uint32_t i = 0; i < in; i++) s = fmaf(xr[i], wt[(size_t)i * out + o], s);
                y[(size_t)r * out + o] = s;
            }
        }
    }
}

__attribute__((target("avx2,fma"))) static void kairos_train_backward_avx2(const float *x, const float *wt,
                                                                           const float *dy, float *dwt, float *db,
                                                                           float *dx, uint32_t n, uint32_t in,
                                                                           uint32_t out) {
    const uint32_t wide = out & ~7u;
    /* dwt over the wide outputs: a block of 4 inputs x 16 outputs keeps 8 accumulators in
     * registers across the whole batch (8 independent chains; 4 broadcasts + 2 loads per 8 FMAs). */
    uint32_t i = 0;
    for (; i + 4 <= in; i += 4) {
        uint32_t o = 0;
        for (; o + 16 <= wide; o += 16) {
            __m256 a[4][2];
            for (int k = 0; k < 4; k++) {
                a[k][0] = _mm256_loadu_ps(dwt + (size_t)(i + k) * out + o);
                a[k][1] = _mm256_loadu_ps(dwt + (size_t)(i + k) * out + o + 8);
            }
            for (uint32_t r = 0; r < n; r++) {
                const float *xr = x + (size_t)r * in + i;
                const __m256 d0 = _mm256_loadu_ps(dy + (size_t)r * out + o);
                const __m256 d1 = _mm256_loadu_ps(dy + (size_t)r * out + o + 8);
                for (int k = 0; k < 4; k++) {
                    const __m256 xk = _mm256_broadcast_ss(xr + k);
                    a[k][0] = _mm256_fmadd_ps(xk, d0, a[k][0]);
                    a[k][1] = _mm256_fmadd_ps(xk, d1, a[k][1]);
                }
            }
            for (int k = 0; k < 4; k++) {
                _mm256_storeu_ps(dwt + (size_t)(i + k) * out + o, a[k][0]);
                _mm256_storeu_ps(dwt + (size_t)(i + k) * out + o + 8, a[k][1]);
            }
        }
        for (; o < wide; o += 8) {
            __m256 a[4];
            for (int k = 0; k < 4; k++) a[k] = _mm256_loadu_ps(dwt + (size_t)(i + k) * out + o);
            for (uint32_t r = 0; r < n; r++) {
                const __m256 d = _mm256_loadu_ps(dy + (size_t)r * out + o);
                for (int k = 0; k < 4; k++)
                    a[k] = _mm256_fmadd_ps(_mm256_broadcast_ss(x + (size_t)r * in + i + k), d, a[k]);
            }
            for (int k = 0; k < 4; k++) _mm256_storeu_ps(dwt + (size_t)(i + k) * out + o, a[k]);
        }
    }
    for (; i < in; i++) {
        for (uint32_t o = 0; o < wide; o += 8) {
            __m256 a = _mm256_loadu_ps(dwt + (size_t)i * out + o);
            for (uint32_t r = 0; r < n; r++)
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(x + (size_t)r * in + i),
                                    _mm256_loadu_ps(dy + (size_t)r * out + o), a);
            _mm256_storeu_ps(dwt + (size_t)i * out + o, a);
        }
    }
    /* dwt over the narrow tail: 8-wide over the inputs (rows of x are contiguous there), eight
     * accumulators for 64 inputs at a time. */
    for (uint32_t o = wide; o < out; o++) {
        uint32_t i0 = 0;
        for (; i0 + 8 <= in; i0 += 64) {
            const uint32_t blocks = (in - i0) >= 64 ? 8 : (in - i0) / 8;
            if (blocks == 0) break;
            __m256 a[8];
            for (uint32_t k = 0; k < blocks; k++) a[k] = _mm256_setzero_ps();
            for (uint32_t r = 0; r < n; r++) {
                const __m256 d = _mm256_broadcast_ss(dy + (size_t)r * out + o);
                const float *xr = x + (size_t)r * in + i0;
                for (uint32_t k = 0; k < blocks; k++) a[k] = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 8 * k), d, a[k]);
            }
            for (uint32_t k = 0; k < blocks; k++) {
                float t[8];
                _mm256_storeu_ps(t, a[k]);
                for (int l = 0; l < 8; l++) dwt[(size_t)(i0 + 8 * k + l) * out + o] += t[l];
            }
            if (blocks < 8) {
                i0 += 8 * blocks;
                break;
            }
        }
        for (; i0 < in; i0++) {
            float s = 0.0f;
            for (uint32_t r = 0; r < n; r++) s = fmaf(x[(size_t)r * in + i0], dy[(size_t)r * out + o], s);
            dwt[(size_t)i0 * out + o] += s;
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
    if (in >= 8 && (size_t)in * out <= KAIROS_TRAIN_T_MAX) {
        /* dx[r][i..i+8] = sum_o dy[r][o] * W[o][i..i+8]: transpose the weights back to [out][in]
         * once per call (in*out moves against n*in*out FMAs) so the sums run 8-wide over the
         * inputs with independent chains, instead of a dot product and a horizontal sum per
         * (row, input), which dominated the backward pass. */
        float w_oi[KAIROS_TRAIN_T_MAX];
        for (uint32_t ii = 0; ii < in; ii++)
            for (uint32_t o = 0; o < out; o++) w_oi[(size_t)o * in + ii] = wt[(size_t)ii * out + o];
        for (uint32_t r = 0; r < n; r++) {
            const float *d = dy + (size_t)r * out;
            float *dxr = dx + (size_t)r * in;
            uint32_t i0 = 0;
            for (; i0 + 64 <= in; i0 += 64) {
                __m256 a[8];
                for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_ps();
                for (uint32_t o = 0; o < out; o++) {
                    const __m256 dv = _mm256_broadcast_ss(d + o);
                    const float *w = w_oi + (size_t)o * in + i0;
                    for (int k = 0; k < 8; k++) a[k] = _mm256_fmadd_ps(dv, _mm256_loadu_ps(w + 8 * k), a[k]);
                }
                for (int k = 0; k < 8; k++) _mm256_storeu_ps(dxr + i0 + 8 * k, a[k]);
            }
            for (; i0 + 8 <= in; i0 += 8) {
                __m256 a = _mm256_setzero_ps();
                for (uint32_t o = 0; o < out; o++)
                    a = _mm256_fmadd_ps(_mm256_broadcast_ss(d + o), _mm256_loadu_ps(w_oi + (size_t)o * in + i0), a);
                _mm256_storeu_ps(dxr + i0, a);
            }
            for (; i0 < in; i0++) {
                float s = 0.0f;
                for (uint32_t o = 0; o < out; o++) s = fmaf(d[o], w_oi[(size_t)o * in + i0], s);
                dxr[i0] = s;
            }
        }
        return;
    }
    for (uint32_t r = 0; r < n; r++) {
        const float *d = dy + (size_t)r * out;
        for (uint32_t ii = 0; ii < in; ii++) {
            const float *w = wt + (size_t)ii * out;
            uint32_t o = 0;
            float s = 0.0f;
            if (out >= 8) {
                __m256 a = _mm256_setzero_ps();
                for (; o + 8 <= out; o += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(d + o), _mm256_loadu_ps(w + o), a);
                s = kairos_train_hsum8(a);
            }
            for (; o < out; o++) s = fmaf(d[o], w[o], s);
            dx[(size_t)r * in + ii] = s;
        }
    }
}
#endif

void kairos_train_dense_forward(kairos_simd_path path, const float *x, const float *wt, const float *b, float *y,
                                uint32_t n, uint32_t in, uint32_t out, int tanh_act) {
#ifdef KAIROS_TRAIN_X86
    if (kairos_train_resolve_path(path) == KAIROS_SIMD_AVX2) {
        kairos_train_forward_avx2(x, wt, b, y, n, in, out);
        if (tanh_act) kairos_train_tanh_avx2(y, (size_t)n * out);
        return;
    }
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

static void kairos_train_adam_scalar(float *restrict p, const float *restrict g, float *restrict m,
                                     float *restrict v, uint32_t count, float lr, float b1, float b2, float eps,
                                     float bc1, float bc2, float grad_scale) {
    const float inv_bc1 = 1.0f / bc1, inv_bc2 = 1.0f / bc2;
    for (uint32_t k = 0; k < count; k++) {
        const float gk = g[k] * grad_scale;
        m[k] = b1 * m[k] + (1.0f - b1) * gk;
        v[k] = b2 * v[k] + (1.0f - b2) * gk * gk;
        p[k] -= lr * (m[k] * inv_bc1) / (sqrtf(v[k] * inv_bc2) + eps);
    }
}

#ifdef KAIROS_TRAIN_X86
__attribute__((target("avx2,fma"))) static void kairos_train_adam_avx2(float *p, const float *g, float *m, float *v,
                                                                       uint32_t count, float lr, float b1, float b2,
                                                                       float eps, float bc1, float bc2,
                                                                       float grad_scale) {
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2);
    const __m256 c1 = _mm256_set1_ps(1.0f - b1), c2 = _mm256_set1_ps(1.0f - b2);
    const __m256 ib1 = _mm256_set1_ps(1.0f / bc1), ib2 = _mm256_set1_ps(1.0f / bc2);
    const __m256 vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(eps), vs = _mm256_set1_ps(grad_scale);
    uint32_t k = 0;
    for (; k + 8 <= count; k += 8) {
        const __m256 gk = _mm256_mul_ps(_mm256_loadu_ps(g + k), vs);
        const __m256 mk = _mm256_fmadd_ps(vb1, _mm256_loadu_ps(m + k), _mm256_mul_ps(c1, gk));
        const __m256 vk = _mm256_fmadd_ps(vb2, _mm256_loadu_ps(v + k), _mm256_mul_ps(c2, _mm256_mul_ps(gk, gk)));
        _mm256_storeu_ps(m + k, mk);
        _mm256_storeu_ps(v + k, vk);
        const __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vk, ib2)), veps);
        const __m256 step = _mm256_div_ps(_mm256_mul_ps(vlr, _mm256_mul_ps(mk, ib1)), den);
        _mm256_storeu_ps(p + k, _mm256_sub_ps(_mm256_loadu_ps(p + k), step));
    }
    if (k < count) kairos_train_adam_scalar(p + k, g + k, m + k, v + k, count - k, lr, b1, b2, eps, bc1, bc2, grad_scale);
}

__attribute__((target("avx2,fma"))) static double kairos_train_sum_squares_avx2(const float *g, uint32_t count) {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    uint32_t k = 0;
    for (; k + 8 <= count; k += 8) {
        const __m256 x = _mm256_loadu_ps(g + k);
        const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x));
        const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
        a0 = _mm256_fmadd_pd(lo, lo, a0);
        a1 = _mm256_fmadd_pd(hi, hi, a1);
    }
    double t[4];
    _mm256_storeu_pd(t, _mm256_add_pd(a0, a1));
    double s = (t[0] + t[1]) + (t[2] + t[3]);
    for (; k < count; k++) s += (double)g[k] * (double)g[k];
    return s;
}
#endif

void kairos_train_adam(kairos_simd_path path, float *p, const float *g, float *m, float *v, uint32_t count, float lr,
                       float b1, float b2, float eps, float bc1, float bc2, float grad_scale) {
#ifdef KAIROS_TRAIN_X86
    if (kairos_train_resolve_path(path) == KAIROS_SIMD_AVX2) {
        kairos_train_adam_avx2(p, g, m, v, count, lr, b1, b2, eps, bc1, bc2, grad_scale);
        return;
    }
#endif
    kairos_train_adam_scalar(p, g, m, v, count, lr, b1, b2, eps, bc1, bc2, grad_scale);
}

double kairos_train_sum_squares(kairos_simd_path path, const float *g, uint32_t count) {
#ifdef KAIROS_TRAIN_X86
    if (kairos_train_resolve_path(path) == KAIROS_SIMD_AVX2) return kairos_train_sum_squares_avx2(g, count);
#endif
    double s = 0.0;
    for (uint32_t k = 0; k < count; k++) s += (double)g[k] * (double)g[k];
    return s;
}
