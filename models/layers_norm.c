/* layers_norm.c - the layers with state beyond one op's attributes: BatchNorm1d/2d (running
 * statistics as buffers), LayerNorm, GroupNorm, Dropout (train vs eval) and Embedding. Each
 * calls its op (ops/norm.c, dropout.c, index.c) in its forward; the registry rows that make
 * them from a spec are in layers.c. */
#include "gt_module_impl.h"
#include "gt_ops_impl.h" /* gt__batch_norm_relu */

#include <math.h>
#include <string.h>

#define NORM_MAX_SIZE ((int64_t)1 << 24) /* features, channels, groups, embeddings */

/* "1e-05": %g prints torch's reprs of eps, momentum and p. */

/* ---- BatchNorm1d, BatchNorm2d: x[N,C] or x[N,C,L] (1d), x[N,C,H,W] (2d), per channel -------- */

typedef struct batchnorm_state {
    int spatial;         /* 1: BatchNorm1d, 2: BatchNorm2d */
    int64_t features;    /* 0 until built when inferred */
    double eps, momentum; /* momentum NAN: torch's None, a cumulative average */
    bool affine, track;
} batchnorm_state;

static gt_status batchnorm_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    batchnorm_state *s = gt_module_state(m);
    bool fits = s->spatial == 2 ? in->ndim == 3 : in->ndim == 1 || in->ndim == 2;
    if (!fits)
        return gt_set_error(GT_ERR_SHAPE, "expects samples of %s, got rank %d",
                            s->spatial == 2 ? "[C, H, W] (rank 3)" : "[C] or [C, L] (rank 1 or 2)",
                            in->ndim);
    if (s->features && s->features != in->dims[0])
        return gt_set_error(GT_ERR_SHAPE, "num_features is %lld but its input has %lld "
                            "channels", (long long)s->features, (long long)in->dims[0]);
    s->features = in->dims[0];
    const int64_t *c = &s->features;
    if ((s->affine && (gt_module_add_param(m, "weight", 1, c, GT_INIT_ONES, 0) < 0 ||
                       gt_module_add_param(m, "bias", 1, c, GT_INIT_ZEROS, 0) < 0)) ||
        (s->track && (gt_module_add_buffer(m, "running_mean", 1, c, GT_INIT_ZEROS) < 0 ||
                      gt_module_add_buffer(m, "running_var", 1, c, GT_INIT_ONES) < 0 ||
                      gt_module_add_buffer(m, "num_batches_tracked", 0, NULL, GT_INIT_ZEROS) < 0)))
        return gt_last_status();
    gt_module_set_flops(m, gt_shape_numel(in->ndim, in->dims));
    *out = *in;
    return GT_OK;
}

/* As torch.nn's _BatchNorm.forward: batch statistics in train mode, or always when the
 * layer tracks none; the running ones (updated by the op in place) in eval mode. relu: relu
 * of it, as one op (batch_norm_relu). */
static gt_tensor *batchnorm_run(gt_module *m, gt_tape *tape, gt_tensor *x, bool relu) {
    const batchnorm_state *s = gt_module_cstate(m);
    bool training = gt_module_training(m);
    gt_tensor *weight = s->affine ? gt_module_param(m, 0) : NULL;
    gt_tensor *bias = s->affine ? gt_module_param(m, 1) : NULL;
    gt_tensor *mean = s->track ? gt_module_buffer(m, 0) : NULL;
    gt_tensor *var = s->track ? gt_module_buffer(m, 1) : NULL;
    double momentum = s->momentum;
    if (training && s->track) {
        gt_real *count = gt_tensor_data(gt_module_buffer(m, 2));
        *count += 1;
        if (isnan(momentum))
            momentum = 1.0 / (double)*count;
    }
    return (relu ? gt__batch_norm_relu : gt_batch_norm)(tape, x, mean, var, weight, bias,
                                                        training || !s->track,
                                                        isnan(momentum) ? 0.0 : momentum, s->eps);
}

static gt_tensor *batchnorm_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    return batchnorm_run(m, tape, x, false);
}

static void batchnorm_describe(const gt_module *m, char *buf, size_t size) {
    const batchnorm_state *s = gt_module_cstate(m);
    char momentum[32] = "None";
    if (!isnan(s->momentum))
        snprintf(momentum, sizeof momentum, "%g", s->momentum);
    snprintf(buf, size, "%lld, eps=%g, momentum=%s, affine=%s, track_running_stats=%s",
             (long long)s->features, s->eps, momentum, s->affine ? "True" : "False",
             s->track ? "True" : "False");
}

static const gt_module_class batchnorm1d_class = {"BatchNorm1d", batchnorm_build,
                                                  batchnorm_forward, batchnorm_describe};
static const gt_module_class batchnorm2d_class = {"BatchNorm2d", batchnorm_build,
                                                  batchnorm_forward, batchnorm_describe};

gt_tensor *gt__batchnorm_relu_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    if (gt__tape_detect_anomaly(tape)) { /* it checks the norm's output, where relu hides NaN */
        gt_tensor *y = batchnorm_run(m, tape, x, false);
        return y ? gt_relu(tape, y) : NULL;
    }
    return batchnorm_run(m, tape, x, true);
}

bool gt__module_is_batchnorm(const gt_module *m) {
    return m && (m->cls == &batchnorm1d_class || m->cls == &batchnorm2d_class);
}

gt_module *gt_nn_batchnorm(int spatial, int64_t num_features, double eps, double momentum,
                           bool affine, bool track_running_stats) {
    if ((spatial != 1 && spatial != 2) || num_features < 0 || num_features > NORM_MAX_SIZE ||
        !(eps > 0) || !isfinite(eps) || (!isnan(momentum) && !(momentum >= 0 && momentum <= 1))) {
        gt_set_error(GT_ERR_ARG, "BatchNorm%dd: needs num_features in 0..%lld (0: inferred), "
                     "eps > 0, momentum in [0, 1] or None; got %lld, %g, %g", spatial,
                     (long long)NORM_MAX_SIZE, (long long)num_features, eps, momentum);
        return NULL;
    }
    batchnorm_state s = {spatial, num_features, eps, momentum, affine, track_running_stats};
    return gt_module_new(spatial == 2 ? &batchnorm2d_class : &batchnorm1d_class, &s, sizeof s);
}

/* ---- LayerNorm: x[N, ..., D...] normalised over its last dims D... = normalized_shape ------ */

typedef struct layernorm_state {
    gt_ints shape;
    double eps;
    bool affine;
} layernorm_state;

static gt_status layernorm_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    const layernorm_state *s = gt_module_cstate(m);
    int k = s->shape.n;
    bool fits = in->ndim >= k;
    for (int i = 0; fits && i < k; i++)
        fits = in->dims[in->ndim - k + i] == s->shape.v[i];
    if (!fits) {
        char a[96], b[96];
        return gt_set_error(GT_ERR_SHAPE, "normalized_shape %s is not the end of its samples' "
                            "shape %s", gt_shape_str(k, s->shape.v, a, sizeof a),
                            gt__sample_shape_str(in, b, sizeof b));
    }
    if (s->affine && (gt_module_add_param(m, "weight", k, s->shape.v, GT_INIT_ONES, 0) < 0 ||
                      gt_module_add_param(m, "bias", k, s->shape.v, GT_INIT_ZEROS, 0) < 0))
        return gt_last_status();
    gt_module_set_flops(m, gt_shape_numel(in->ndim, in->dims));
    *out = *in;
    return GT_OK;
}

static gt_tensor *layernorm_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const layernorm_state *s = gt_module_cstate(m);
    return gt_layer_norm(tape, x, s->shape, s->affine ? gt_module_param(m, 0) : NULL,
                         s->affine ? gt_module_param(m, 1) : NULL, s->eps);
}

static void layernorm_describe(const gt_module *m, char *buf, size_t size) {
    const layernorm_state *s = gt_module_cstate(m);
    int n = snprintf(buf, size, "(");
    for (int i = 0; i < s->shape.n && n > 0 && (size_t)n < size; i++)
        n += snprintf(buf + n, size - (size_t)n, "%lld,%s", (long long)s->shape.v[i],
                      i + 1 < s->shape.n ? " " : "");
    if (n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "), eps=%g, elementwise_affine=%s", s->eps,
                 s->affine ? "True" : "False");
}

static const gt_module_class layernorm_class = {"LayerNorm", layernorm_build, layernorm_forward,
                                                layernorm_describe};

gt_module *gt_nn_layernorm(int ndim, const int64_t *normalized_shape, double eps,
                           bool elementwise_affine) {
    bool ok = ndim >= 1 && ndim < GT_MAX_DIMS && normalized_shape && eps > 0 && isfinite(eps);
    for (int i = 0; ok && i < ndim; i++)
        ok = normalized_shape[i] >= 1 && normalized_shape[i] <= NORM_MAX_SIZE;
    if (!ok) {
        gt_set_error(GT_ERR_ARG, "LayerNorm: needs a normalized_shape of 1..%d sizes in 1..%lld "
                     "and eps > 0", GT_MAX_DIMS - 1, (long long)NORM_MAX_SIZE);
        return NULL;
    }
    layernorm_state s = {{ndim, {0}}, eps, elementwise_affine};
    memcpy(s.shape.v, normalized_shape, (size_t)ndim * sizeof *normalized_shape);
    return gt_module_new(&layernorm_class, &s, sizeof s);
}

/* ---- GroupNorm: x[N,C,*] normalised over each group of C/num_groups channels --------------- */

typedef struct groupnorm_state {
    int64_t groups, channels; /* channels 0 until built when inferred */
    double eps;
    bool affine;
} groupnorm_state;

static gt_status groupnorm_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    groupnorm_state *s = gt_module_state(m);
    if (in->ndim < 1)
        return gt_set_error(GT_ERR_SHAPE, "expects samples of [C, *], got rank 0");
    if (s->channels && s->channels != in->dims[0])
        return gt_set_error(GT_ERR_SHAPE, "num_channels is %lld but its input has %lld "
                            "channels", (long long)s->channels, (long long)in->dims[0]);
    if (in->dims[0] % s->groups)
        return gt_set_error(GT_ERR_SHAPE, "num_groups %lld does not divide its input's %lld "
                            "channels", (long long)s->groups, (long long)in->dims[0]);
    s->channels = in->dims[0];
    if (s->affine && (gt_module_add_param(m, "weight", 1, &s->channels, GT_INIT_ONES, 0) < 0 ||
                      gt_module_add_param(m, "bias", 1, &s->channels, GT_INIT_ZEROS, 0) < 0))
        return gt_last_status();
    gt_module_set_flops(m, gt_shape_numel(in->ndim, in->dims));
    *out = *in;
    return GT_OK;
}

static gt_tensor *groupnorm_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const groupnorm_state *s = gt_module_cstate(m);
    return gt_group_norm(tape, x, s->groups, s->affine ? gt_module_param(m, 0) : NULL,
                         s->affine ? gt_module_param(m, 1) : NULL, s->eps);
}

static void groupnorm_describe(const gt_module *m, char *buf, size_t size) {
    const groupnorm_state *s = gt_module_cstate(m);
    snprintf(buf, size, "%lld, %lld, eps=%g, affine=%s", (long long)s->groups,
             (long long)s->channels, s->eps, s->affine ? "True" : "False");
}

static const gt_module_class groupnorm_class = {"GroupNorm", groupnorm_build, groupnorm_forward,
                                                groupnorm_describe};

gt_module *gt_nn_groupnorm(int64_t num_groups, int64_t num_channels, double eps, bool affine) {
    if (num_groups < 1 || num_groups > NORM_MAX_SIZE || num_channels < 0 ||
        num_channels > NORM_MAX_SIZE || (num_channels && num_channels % num_groups) ||
        !(eps > 0) || !isfinite(eps)) {
        gt_set_error(GT_ERR_ARG, "GroupNorm: needs num_groups in 1..%lld dividing num_channels "
                     "(0: inferred) and eps > 0; got %lld, %lld, %g", (long long)NORM_MAX_SIZE,
                     (long long)num_groups, (long long)num_channels, eps);
        return NULL;
    }
    groupnorm_state s = {num_groups, num_channels, eps, affine};
    return gt_module_new(&groupnorm_class, &s, sizeof s);
}

/* ---- Dropout: x[N, ...] -> the same shape; zeros with probability p in train mode ---------- */

typedef struct dropout_state {
    double p;
} dropout_state;

static gt_status same_shape_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    (void)m;
    *out = *in;
    return GT_OK;
}

static gt_tensor *dropout_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const dropout_state *s = gt_module_cstate(m);
    return gt_dropout(tape, x, s->p, gt_module_training(m));
}

static void dropout_describe(const gt_module *m, char *buf, size_t size) {
    snprintf(buf, size, "p=%g, inplace=False", ((const dropout_state *)gt_module_cstate(m))->p);
}

static const gt_module_class dropout_class = {"Dropout", same_shape_build, dropout_forward,
                                              dropout_describe};

gt_module *gt_nn_dropout(double p) {
    if (!(p >= 0 && p <= 1)) {
        gt_set_error(GT_ERR_ARG, "Dropout: p must be in [0, 1], got %g", p);
        return NULL;
    }
    dropout_state s = {p};
    return gt_module_new(&dropout_class, &s, sizeof s);
}

/* ---- Embedding: indices x[N, ...] -> rows of weight[V, E]: [N, ..., E] -------------------- */

typedef struct embedding_state {
    int64_t count, dim;
} embedding_state;

static gt_status embedding_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    const embedding_state *s = gt_module_cstate(m);
    if (in->ndim + 1 >= GT_MAX_DIMS)
        return gt_set_error(GT_ERR_SHAPE, "its samples of rank %d leave no room for the "
                            "embedding's dimension", in->ndim);
    if (gt_module_add_param(m, "weight", 2, (int64_t[]){s->count, s->dim}, GT_INIT_NORMAL, 0) < 0)
        return gt_last_status();
    *out = *in;
    out->dims[out->ndim++] = s->dim;
    return GT_OK;
}

static gt_tensor *embedding_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    return gt_embedding(tape, x, gt_module_param(m, 0));
}

static void embedding_describe(const gt_module *m, char *buf, size_t size) {
    const embedding_state *s = gt_module_cstate(m);
    snprintf(buf, size, "%lld, %lld", (long long)s->count, (long long)s->dim);
}

static const gt_module_class embedding_class = {"Embedding", embedding_build, embedding_forward,
                                                embedding_describe};

gt_module *gt_nn_embedding(int64_t num_embeddings, int64_t embedding_dim) {
    if (num_embeddings < 1 || num_embeddings > NORM_MAX_SIZE || embedding_dim < 1 ||
        embedding_dim > NORM_MAX_SIZE) {
        gt_set_error(GT_ERR_ARG, "Embedding: needs num_embeddings and embedding_dim in 1..%lld; "
                     "got %lld, %lld", (long long)NORM_MAX_SIZE, (long long)num_embeddings,
                     (long long)embedding_dim);
        return NULL;
    }
    embedding_state s = {num_embeddings, embedding_dim};
    return gt_module_new(&embedding_class, &s, sizeof s);
}
