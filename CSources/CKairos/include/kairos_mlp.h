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
#endif
