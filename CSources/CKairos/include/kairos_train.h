/* Training kernels for the PPO learner (Sources/Kairos/Training): batched dense layers over a
 * minibatch, forward and backward, float32, contiguous row-major buffers.
 *
 * Layout (chosen so every kernel runs 8-wide over the OUTPUT dimension, whatever the input size):
 *   x  [n][in]    a minibatch of inputs, row-major
 *   wt [in][out]  the layer's weights TRANSPOSED (wt[i*out + o] is the weight from input i to
 *                 output o); the inference MLP takes [out][in], so exporters transpose once
 *   b  [out]
 *   y  [n][out]
 * Both paths (AVX2+FMA and portable scalar) compute the same sums and differ only by rounding
 * (fused multiply-add; dx's sums over outputs are split into 8 partial sums on AVX2); a test
 * checks they agree. Each path alone is deterministic (fixed summation order), which the
 * seeded-determinism guarantee of the learner relies on. Nothing here allocates or locks.
 * No two buffer arguments of one call may overlap.
 * path: KAIROS_SIMD_AUTO picks AVX2 when the CPU has AVX2+FMA; AVX2 on a CPU without it falls
 * back to scalar (the Swift layer resolves the path once and checks availability). */
#ifndef KAIROS_TRAIN_H
#define KAIROS_TRAIN_H
#include <stdint.h>
#include "kairos_features.h" /* kairos_simd_path */

/* The path AUTO resolves to on this CPU (SCALAR or AVX2). */
kairos_simd_path kairos_train_resolve_path(kairos_simd_path path);

/* y[r][o] = b[o] + sum_i x[r][i] * wt[i][o]; then, when tanh_act != 0, y = tanh(y) using the
 * inference kernel's approximation (kairos_mlp_tanh_approx) so training and inference agree. */
void kairos_train_dense_forward(kairos_simd_path path, const float *x, const float *wt, const float *b,
                                float *y, uint32_t n, uint32_t in, uint32_t out, int tanh_act);

/* Backward of y = x·wt + b for a batch, given dy = dL/dy [n][out] (pre-activation gradient):
 *   dwt[i][o] += sum_r x[r][i] * dy[r][o]     (accumulates: zero it first per minibatch)
 *   db[o]     += sum_r dy[r][o]               (accumulates)
 *   dx[r][i]   = sum_o dy[r][o] * wt[i][o]    (overwrites; skipped when dx is NULL) */
void kairos_train_dense_backward(kairos_simd_path path, const float *x, const float *wt, const float *dy,
                                 float *dwt, float *db, float *dx, uint32_t n, uint32_t in, uint32_t out);

/* In place: g[k] *= 1 - y[k]^2 (tanh's derivative from its output), count elements. */
void kairos_train_tanh_backward(float *g, const float *y, uint32_t count);

/* One Adam step over count parameters (Kingma & Ba 2015, bias-corrected):
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * g is scaled by grad_scale first (the global-norm clip factor). bc1 = 1-b1^t, bc2 = 1-b2^t. */
void kairos_train_adam(kairos_simd_path path, float *p, const float *g, float *m, float *v, uint32_t count, float lr,
                       float b1, float b2, float eps, float bc1, float bc2, float grad_scale);

/* sum of g[k]^2 in double (for the global gradient norm); AVX2 keeps 4 partial double sums. */
double kairos_train_sum_squares(kairos_simd_path path, const float *g, uint32_t count);
#endif
