/* chargpt_model.c - a GPT-style character model from gradtape's public ops and modules.
 *
 *   idx[B, t] -> wte(idx) + wpe[:t]                          x[B, t, D]
 *   layers x Block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
 *   ln_f, lm_head                                            logits[B, t, V]
 *
 * Each layer is a module (models/gt_module.h) of its own: Embedding and LayerNorm declare
 * their parameters; CausalSelfAttention, MLP, Block and the root hold sub-modules, Linear
 * (gt_nn_linear) among them. The names follow nanoGPT's, so the state_dict of
 * examples/chargpt.py has the same keys. */
#include "chargpt_model.h"

#include <math.h>

/* ---- Embedding: idx[...] -> weight[idx] [..., dim]; weight[num, dim] ~ N(0, 1) ----------- */

typedef struct embedding_state {
    int64_t num, dim;
} embedding_state;

static gt_status embedding_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    const embedding_state *s = gt_module_cstate(m);
    if (in->ndim + 1 > GT_MAX_DIMS - 1)
        return gt_set_error(GT_ERR_SHAPE, "Embedding: samples of rank %d are too many", in->ndim);
    if (gt_module_add_param(m, "weight", 2, (int64_t[]){s->num, s->dim}, GT_INIT_NORMAL, 0) < 0)
        return gt_last_status();
    *out = *in;
    out->dims[out->ndim++] = s->dim;
    return GT_OK;
}

static gt_tensor *embedding_forward(gt_module *m, gt_tape *tape, gt_tensor *idx) {
    return gt_embedding(tape, idx, gt_module_param(m, 0));
}

static const gt_module_class embedding_class = {"Embedding", embedding_build, embedding_forward,
                                                NULL};

static gt_module *embedding_new(int64_t num, int64_t dim) {
    return gt_module_new(&embedding_class, &(embedding_state){num, dim}, sizeof(embedding_state));
}

/* ---- LayerNorm over the last axis: x[..., D]; weight[D] = 1, bias[D] = 0, eps 1e-5 -------- */

static gt_status layer_norm_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    int64_t d = in->dims[in->ndim - 1];
    if (gt_module_add_param(m, "weight", 1, &d, GT_INIT_ONES, 0) < 0 ||
        gt_module_add_param(m, "bias", 1, &d, GT_INIT_ZEROS, 0) < 0)
        return gt_last_status();
    *out = *in;
    return GT_OK;
}

static gt_tensor *layer_norm_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    if (!x)
        return NULL;
    int64_t d = gt_tensor_dim(x, -1);
    return gt_layer_norm(tape, x, GT_INTS(d), gt_module_param(m, 0), gt_module_param(m, 1), 1e-5);
}

static const gt_module_class layer_norm_class = {"LayerNorm", layer_norm_build,
                                                 layer_norm_forward, NULL};

static gt_module *layer_norm_new(void) { return gt_module_new(&layer_norm_class, NULL, 0); }

/* The MLP's children are Linears in a chain over the last axis: [D] -> [4D] -> [D]. */
static gt_status mlp_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    gt_sample_shape row = {1, {in->dims[in->ndim - 1]}};
    for (int i = 0; i < gt_module_child_count(m); i++)
        if (gt_module_build(gt_module_child(m, i), &row, &row) != GT_OK)
            return gt_last_status();
    *out = *in;
    return GT_OK;
}

/* Attention's two Linears both map the last axis [D]: c_attn -> [3D] (q, k, v), c_proj -> [D]. */
static gt_status attention_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    gt_sample_shape row = {1, {in->dims[in->ndim - 1]}}, qkv, y;
    if (gt_module_build(gt_module_child(m, 0), &row, &qkv) != GT_OK ||
        gt_module_build(gt_module_child(m, 1), &row, &y) != GT_OK)
        return gt_last_status();
    *out = *in;
    return GT_OK;
}

/* A block's children each take samples [T, D] and keep that shape. */
static gt_status block_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    for (int i = 0; i < gt_module_child_count(m); i++)
        if (gt_module_build(gt_module_child(m, i), in, out) != GT_OK)
            return gt_last_status();
    *out = *in;
    return GT_OK;
}

/* ---- CausalSelfAttention: x[B, t, D] -> [B, t, D], H heads of size hd = D / H ----------- */

typedef struct attention_state {
    int64_t heads;
} attention_state;

/* [B, t, D] -> [B, H, t, hd], or [B, H, hd, t] with `transposed` (one copy: the permute). */
static gt_tensor *split_heads(gt_tape *tape, gt_tensor *x, int64_t heads, bool transposed) {
    if (!x)
        return NULL;
    int64_t b = gt_tensor_dim(x, 0), t = gt_tensor_dim(x, 1), d = gt_tensor_dim(x, 2);
    x = gt_reshape(tape, x, GT_SHAPE(b, t, heads, d / heads));
    return transposed ? gt_permute(tape, x, GT_INTS(0, 2, 3, 1))
                      : gt_permute(tape, x, GT_INTS(0, 2, 1, 3));
}

/* Part `part` (0 q, 1 k, 2 v) of c_attn's output for x[B, t, D]: x w_part^T + b_part [B, t, D]
 * with rows [part D, (part + 1) D) of c_attn's weight [3D, D] and bias [3D], scaled by
 * `factor`. The narrows and the scale copy the weight (D x D), not the activations: the same
 * products as nanoGPT's one c_attn and split, without copying q, k, v out of qkv[B, t, 3D]. */
static gt_tensor *attention_part(gt_module *c_attn, gt_tape *tape, gt_tensor *x, int part,
                                 double factor) {
    int64_t d = gt_tensor_dim(x, 2);
    gt_tensor *w = gt_narrow(tape, gt_module_param(c_attn, 0), 0, part * d, d);
    gt_tensor *b = gt_narrow(tape, gt_module_param(c_attn, 1), 0, part * d, d);
    if (factor != 1)
        w = gt_scale(tape, w, factor), b = gt_scale(tape, b, factor);
    return gt_linear(tape, x, w, b);
}

static gt_tensor *attention_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    if (!x)
        return NULL;
    int64_t heads = ((const attention_state *)gt_module_cstate(m))->heads;
    int64_t b = gt_tensor_dim(x, 0), t = gt_tensor_dim(x, 1), d = gt_tensor_dim(x, 2);
    gt_module *c_attn = gt_module_child(m, 0);
    /* att[B, H, t, t] = softmax(q k^T / sqrt(hd) where key <= query, else -inf); the scale
     * on q's weight and bias (D x D + D numbers) rather than on att (B H t t) */
    double scale = 1.0 / sqrt((double)(d / heads));
    gt_tensor *q = split_heads(tape, attention_part(c_attn, tape, x, 0, scale), heads, false);
    gt_tensor *kt = split_heads(tape, attention_part(c_attn, tape, x, 1, 1), heads, true);
    gt_tensor *v = split_heads(tape, attention_part(c_attn, tape, x, 2, 1), heads, false);
    gt_tensor *att = gt_matmul(tape, q, kt);
    gt_tensor *future = gt_tape_tensor(tape, GT_SHAPE(t, t)); /* 1 above the diagonal */
    if (!future)
        return NULL;
    gt_real *f = gt_tensor_data(future);
    for (int64_t i = 0; i < t; i++)
        for (int64_t j = i + 1; j < t; j++)
            f[i * t + j] = 1;
    att = gt_softmax(tape, gt_masked_fill(tape, att, future, -INFINITY), -1);
    gt_tensor *y = gt_permute(tape, gt_matmul(tape, att, v), GT_INTS(0, 2, 1, 3)); /* [B,t,H,hd] */
    y = y ? gt_reshape(tape, y, GT_SHAPE(b, t, d)) : NULL;
    return gt_module_forward(gt_module_child(m, 1), tape, y);
}

static const gt_module_class attention_class = {"CausalSelfAttention", attention_build,
                                                attention_forward, NULL};

/* ---- MLP: x[B, t, D] -> c_proj(gelu(c_fc(x))), hidden 4D --------------------------------- */

static gt_tensor *mlp_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    gt_tensor *h = gt_gelu(tape, gt_module_forward(gt_module_child(m, 0), tape, x), GT_GELU_NONE);
    return gt_module_forward(gt_module_child(m, 1), tape, h);
}

static const gt_module_class mlp_class = {"MLP", mlp_build, mlp_forward, NULL};

/* ---- Block: x + attn(ln_1(x)), then x + mlp(ln_2(x)) ------------------------------------ */

static gt_tensor *block_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    gt_module *ln_1 = gt_module_child(m, 0), *attn = gt_module_child(m, 1);
    gt_module *ln_2 = gt_module_child(m, 2), *mlp = gt_module_child(m, 3);
    x = gt_add(tape, x, gt_module_forward(attn, tape, gt_module_forward(ln_1, tape, x)));
    return gt_add(tape, x, gt_module_forward(mlp, tape, gt_module_forward(ln_2, tape, x)));
}

static const gt_module_class block_class = {"Block", block_build, block_forward, NULL};

/* ---- the root: idx[B, t] -> logits[B, t, V] --------------------------------------------- */

/* Children: 0 wte, 1 wpe, 2 h (Sequential of blocks), 3 ln_f, 4 lm_head. */
static gt_status gpt_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    gt_sample_shape pos = {0, {0}}, x, y;
    if (gt_module_build(gt_module_child(m, 0), in, &x) != GT_OK || /* [T, D] */
        gt_module_build(gt_module_child(m, 1), &pos, &y) != GT_OK ||
        gt_module_build(gt_module_child(m, 2), &x, &y) != GT_OK ||
        gt_module_build(gt_module_child(m, 3), &y, &x) != GT_OK ||
        gt_module_build(gt_module_child(m, 4), &(gt_sample_shape){1, {x.dims[1]}}, &y) != GT_OK)
        return gt_last_status();
    *out = (gt_sample_shape){2, {in->dims[0], y.dims[0]}};
    return GT_OK;
}

static gt_tensor *gpt_forward(gt_module *m, gt_tape *tape, gt_tensor *idx) {
    int64_t t = gt_tensor_dim(idx, 1);
    gt_tensor *wpe = gt_module_param(gt_module_child(m, 1), 0); /* [T, D] */
    gt_tensor *pos = t == gt_tensor_dim(wpe, 0) ? wpe : gt_narrow(tape, wpe, 0, 0, t);
    gt_tensor *x = gt_add(tape, gt_module_forward(gt_module_child(m, 0), tape, idx), pos);
    x = gt_module_forward(gt_module_child(m, 3), tape,
                          gt_module_forward(gt_module_child(m, 2), tape, x));
    return gt_module_forward(gt_module_child(m, 4), tape, x);
}

static const gt_module_class gpt_class = {"CharGPT", gpt_build, gpt_forward, NULL};

/* m with a child, or NULL (freeing m) when m or the child is NULL or adding it fails. */
static gt_module *with_child(gt_module *m, const char *name, gt_module *child) {
    if (!m || !child) {
        gt_module_free(m);
        gt_module_free(child);
        return NULL;
    }
    if (gt_module_add_child(m, name, child) != GT_OK) { /* which freed the child */
        gt_module_free(m);
        return NULL;
    }
    return m;
}

gt_model *chargpt_new(const chargpt_config *c, uint64_t seed) {
    if (c->vocab < 1 || c->context < 1 || c->dim < 1 || c->heads < 1 || c->layers < 0 ||
        c->dim % c->heads != 0) {
        gt_set_error(GT_ERR_ARG, "chargpt: vocab %lld, context %lld, dim %lld, heads %lld, "
                     "layers %lld: each must be >= 1 (layers >= 0) and dim a multiple of heads",
                     (long long)c->vocab, (long long)c->context, (long long)c->dim,
                     (long long)c->heads, (long long)c->layers);
        return NULL;
    }
    gt_module *h = gt_nn_sequential();
    for (int64_t i = 0; h && i < c->layers; i++) {
        gt_module *attn = gt_module_new(&attention_class, &(attention_state){c->heads},
                                        sizeof(attention_state));
        attn = with_child(with_child(attn, "c_attn", gt_nn_linear(3 * c->dim, true)), "c_proj",
                          gt_nn_linear(c->dim, true));
        gt_module *mlp = gt_module_new(&mlp_class, NULL, 0);
        mlp = with_child(with_child(mlp, "c_fc", gt_nn_linear(4 * c->dim, true)), "c_proj",
                         gt_nn_linear(c->dim, true));
        gt_module *block = gt_module_new(&block_class, NULL, 0);
        block = with_child(with_child(block, "ln_1", layer_norm_new()), "attn", attn);
        block = with_child(with_child(block, "ln_2", layer_norm_new()), "mlp", mlp);
        h = with_child(h, NULL, block);
    }
    gt_module *root = gt_module_new(&gpt_class, NULL, 0);
    root = with_child(root, "wte", embedding_new(c->vocab, c->dim));
    root = with_child(root, "wpe", embedding_new(c->context, c->dim));
    root = with_child(with_child(root, "h", h), "ln_f", layer_norm_new());
    root = with_child(root, "lm_head", gt_nn_linear(c->vocab, true));
    return root ? gt_model_from_module(root, 1, &c->context, seed) : NULL;
}

gt_tensor *chargpt_forward(gt_tape *tape, gt_model *model, gt_tensor *idx) {
    if (!idx)
        return NULL;
    return gt_module_forward(gt_model_module(model), tape, idx);
}

gt_tensor *chargpt_loss(gt_tape *tape, gt_model *model, gt_tensor *idx, gt_tensor *targets) {
    gt_tensor *logits = chargpt_forward(tape, model, idx);
    if (!logits || !targets)
        return NULL;
    int64_t n = gt_tensor_numel(targets), v = gt_tensor_dim(logits, 2);
    return gt_cross_entropy(tape, gt_reshape(tape, logits, GT_SHAPE(n, v)),
                            gt_reshape(tape, targets, GT_SHAPE(n)));
}
