/* Dense multi-layer perceptron inference, float32, for the agent policies (e.g. 16->64->64->3).
 * Weights are given row-major [out][in] and repacked at load into a layout for 8-wide FMA
 * (AVX2) with a portable scalar path; kairos_mlp_set_path selects one (tests check they agree).
 * forward uses scratch owned by the mlp: one thread at a time per kairos_mlp. */
#ifndef KAIROS_MLP_H
#define KAIROS_MLP_H
#include <stdint.h>
#include "kairos_features.h" /* kairos_simd_path */

typedef enum kairos_activation {
    KAIROS_ACT_IDENTITY = 0,
    KAIROS_ACT_TANH = 1,
    KAIROS_ACT_RELU = 2,
} kairos_activation;

typedef struct kairos_mlp kairos_mlp;

/* dims has n_layers + 1 entries (input, hidden..., output); acts has n_layers entries.
 * Weights start at zero. NULL on bad arguments or ENOMEM. */
kairos_mlp *kairos_mlp_create(uint32_t n_layers, const uint32_t *dims, const kairos_activation *acts);
void kairos_mlp_destroy(kairos_mlp *m);
uint32_t kairos_mlp_layers(const kairos_mlp *m);
uint32_t kairos_mlp_dim(const kairos_mlp *m, uint32_t i); /* i in 0...n_layers */
kairos_activation kairos_mlp_activation(const kairos_mlp *m, uint32_t layer);
/* weights row-major [dims[layer+1]][dims[layer]], bias [dims[layer+1]]. 0 ok, <0 bad layer. */
int kairos_mlp_set_layer(kairos_mlp *m, uint32_t layer, const float *weights, const float *bias);
int kairos_mlp_get_layer(const kairos_mlp *m, uint32_t layer, float *weights, float *bias);
/* 0 ok; <0 when AVX2 is requested and unavailable. Default: KAIROS_SIMD_AUTO. */
int kairos_mlp_set_path(kairos_mlp *m, kairos_simd_path path);
kairos_simd_path kairos_mlp_path(const kairos_mlp *m);
/* in: dims[0] floats, out: dims[n_layers] floats. No allocation. */
void kairos_mlp_forward(kairos_mlp *m, const float *in, float *out);
/* ---- additions (mlp.c) ---- */
/* Limits kairos_mlp_create enforces (NULL beyond them). */
enum { KAIROS_MLP_MAX_LAYERS = 64, KAIROS_MLP_MAX_DIM = 65536 };
/* Notes on the functions above:
 *  - every dim is >= 1; acts are KAIROS_ACT_* values; NULL dims/acts -> NULL.
 *  - set_layer: -1 NULL mlp, -2 bad layer, -3 NULL weights; bias NULL means all-zero bias.
 *    get_layer: -1, -2 as above; NULL weights or bias skips that part. Round trips are exact.
 *  - set_path: -2 when AVX2 is requested and unavailable, -3 for a value that is no
 *    kairos_simd_path. kairos_mlp_path returns the RESOLVED path (SCALAR or AVX2, never AUTO).
 *  - Both paths compute the same sums and differ only by rounding: the AVX2 path fuses multiply
 *    and add and, for layers under 64 outputs, splits each sum into up to 8 interleaved partial
 *    sums (to hide FMA latency); a few float ulps per layer.
 *  - forward: in may equal out (layer 0 consumes all of in before out is written); neither
 *    may point into the mlp. Both paths: zero allocation, no locks. NaN inputs propagate
 *    (tanh and ReLU of NaN are NaN), so a bad feature cannot turn into a plausible output. */
/* The tanh both paths use: a rational approximation, not tanhf. Max absolute error against the
 * exact tanh, measured over every float in [-10, 10] (and saturating beyond): */
#define KAIROS_MLP_TANH_MAX_ABS_ERROR 5e-7f /* measured 4.1e-7 (near |x| = 5.8) */
float kairos_mlp_tanh_approx(float x);
#endif
