/* chargpt_model.h - the character-level transformer of chargpt.c, as modules of
 * models/gt_module.h (a GPT-2-style decoder: pre-norm blocks of causal multi-head
 * self-attention and a GELU MLP). The test suite checks its gradient by finite differences
 * (tests/test_model_gradcheck.c), so it lives beside chargpt.c rather than inside it. */
#ifndef CHARGPT_MODEL_H
#define CHARGPT_MODEL_H

#include <gradtape.h>

typedef struct chargpt_config {
    int64_t vocab;   /* distinct tokens (bytes of the corpus) */
    int64_t context; /* the longest sequence, T */
    int64_t dim;     /* the width of the residual stream, D */
    int64_t heads;   /* attention heads, H; D % H == 0 */
    int64_t layers;  /* blocks */
} chargpt_config;

/* The model, its parameters initialised as PyTorch's defaults for the layers (Embedding
 * N(0, 1), Linear kaiming-uniform, LayerNorm ones and zeros) from `seed`. State_dict names:
 * wte.weight, wpe.weight, h.0.ln_1.weight, h.0.attn.c_attn.weight, ..., ln_f.weight,
 * lm_head.weight. NULL with the error set on a bad configuration. */
gt_model *chargpt_new(const chargpt_config *config, uint64_t seed);

/* idx[B, t] (token ids as whole numbers, t <= context) -> logits[B, t, vocab]. */
gt_tensor *chargpt_forward(gt_tape *tape, gt_model *model, gt_tensor *idx);

/* The mean cross-entropy of predicting targets[B, t] (the next token of each position). */
gt_tensor *chargpt_loss(gt_tape *tape, gt_model *model, gt_tensor *idx, gt_tensor *targets);

#endif
