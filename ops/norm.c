/* norm.c - batch_norm, layer_norm and group_norm: normalise by a mean and a variance (biased,
 * as PyTorch), then an optional per-channel (or per-element) affine map. */
#include "gt_ops_impl.h"

#include <math.h>
#include <stddef.h>

/* Sums in LANES independent partial sums, which the compiler vectorises (one running sum
 * would not: floating-point addition is not reassociated). */
#define LANES 16

// x[n] -> *s1 += sum(x - shift), *s2 += sum((x - shift)^2)
GT__MULTIVERSION
static void sum_and_squares(int64_t n, const gt_real *restrict x, gt_real shift, double *s1,
                            double *s2) {
    gt_real a[LANES] = {0}, q[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            gt_real v = x[i + k] - shift;
            a[k] += v;
            q[k] += v * v;
        }
    for (; i < n; i++) {
        gt_real v = x[i] - shift;
        a[0] += v;
        q[0] += v * v;
    }
    for (int k = 0; k < LANES; k++)
        *s1 += (double)a[k], *s2 += (double)q[k];
}

// g[n], x[n] -> *sg += sum(g), *sgx += sum(g * (x - shift))
GT__MULTIVERSION
static void sum_and_dot(int64_t n, const gt_real *restrict g, const gt_real *restrict x,
                        gt_real shift, double *sg, double *sgx) {
    gt_real a[LANES] = {0}, d[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            a[k] += g[i + k];
            d[k] += g[i + k] * (x[i + k] - shift);
        }
    for (; i < n; i++) {
        a[0] += g[i];
        d[0] += g[i] * (x[i] - shift);
    }
    for (int k = 0; k < LANES; k++)
        *sg += (double)a[k], *sgx += (double)d[k];
}

/* ---- batch_norm ----------------------------------------------------------------------- */

/* The arguments of batch_norm. */
typedef struct batch_norm_args {
    bool training;
    double momentum, eps;
} batch_norm_args;

/* input seen as [outer, C, inner]: C channels, each spread over outer planes of inner
 * values (outer = N, inner = L or H*W). */
typedef struct bn_dims {
    int64_t outer, c, inner;
} bn_dims;

/* What the backward needs: each channel's mean and 1/sqrt(var + eps) that normalised it. */
typedef struct bn_saved {
    bn_dims d;
    gt_real *mean, *invstd; /* [C] each */
    gt_tensor *w, *b;       /* weight, bias or NULL (the node's inputs leave out absent ones) */
} bn_saved;

/* One pass over channels [from, to), for threads. */
typedef struct bn_job {
    bn_dims d;
    const batch_norm_args *args;
    const gt_real *x, *g, *w, *b;
    gt_real *y, *gx, *gw, *gb, *mean, *invstd, *run_mean, *run_var;
} bn_job;

// x[outer,C,inner] -> mean[C], invstd[C] = 1/sqrt(biased var + eps) (training) and the
// running statistics moved toward them; or mean, invstd from the running ones (eval)
static void bn_stats_range(void *ctx, int64_t from, int64_t to) {
    const bn_job *j = ctx;
    int64_t outer = j->d.outer, c_count = j->d.c, inner = j->d.inner;
    double count = (double)(outer * inner);
    for (int64_t c = from; c < to; c++) {
        if (!j->args->training) {
            j->mean[c] = j->run_mean[c];
            j->invstd[c] = (gt_real)(1 / sqrt((double)j->run_var[c] + j->args->eps));
            continue;
        }
        /* one pass, shifted by the channel's first value so that a large mean does not
         * cancel the variance away */
        double shift = (double)j->x[c * inner], sum = 0, sum_sq = 0;
        for (int64_t o = 0; o < outer; o++)
            sum_and_squares(inner, j->x + (o * c_count + c) * inner, (gt_real)shift, &sum,
                            &sum_sq);
        double mean = sum / count, var = sum_sq / count - mean * mean;
        var = var > 0 ? var : 0;
        j->mean[c] = (gt_real)(shift + mean);
        j->invstd[c] = (gt_real)(1 / sqrt(var + j->args->eps));
        double m = j->args->momentum;
        if (j->run_mean)
            j->run_mean[c] = (gt_real)((1 - m) * (double)j->run_mean[c] + m * (shift + mean));
        if (j->run_var) /* PyTorch's running variance is the unbiased one */
            j->run_var[c] = (gt_real)((1 - m) * (double)j->run_var[c] +
                                      m * var * count / (count - 1));
    }
}

// x[outer,C,inner] -> y = (x - mean[c]) * invstd[c] * w[c] + b[c]
static void bn_output_range(void *ctx, int64_t from, int64_t to) {
    const bn_job *j = ctx;
    int64_t outer = j->d.outer, c_count = j->d.c, inner = j->d.inner;
    for (int64_t c = from; c < to; c++) {
        gt_real scale = j->invstd[c] * (j->w ? j->w[c] : 1);
        gt_real shift = (j->b ? j->b[c] : 0) - j->mean[c] * scale;
        for (int64_t o = 0; o < outer; o++) {
            const gt_real *restrict x = j->x + (o * c_count + c) * inner;
            gt_real *restrict y = j->y + (o * c_count + c) * inner;
            for (int64_t i = 0; i < inner; i++)
                y[i] = x[i] * scale + shift;
        }
    }
}

// g[outer,C,inner] -> gw[c] += sum(g * xhat), gb[c] += sum(g), and gx += in training
// w invstd (g - mean(g) - xhat mean(g xhat)), in eval w invstd g; xhat = (x - mean) invstd
static void bn_grad_range(void *ctx, int64_t from, int64_t to) {
    const bn_job *j = ctx;
    int64_t outer = j->d.outer, c_count = j->d.c, inner = j->d.inner;
    double count = (double)(outer * inner);
    for (int64_t c = from; c < to; c++) {
        gt_real mean = j->mean[c], invstd = j->invstd[c];
        double sum_g = 0, sum_gx = 0; /* sum(g), sum(g * (x - mean)) */
        for (int64_t o = 0; o < outer; o++)
            sum_and_dot(inner, j->g + (o * c_count + c) * inner,
                        j->x + (o * c_count + c) * inner, mean, &sum_g, &sum_gx);
        if (j->gw)
            j->gw[c] += (gt_real)(sum_gx * (double)invstd);
        if (j->gb)
            j->gb[c] += (gt_real)sum_g;
        if (!j->gx)
            continue;
        /* gx += a g + bx x + k */
        double a = (double)invstd * (j->w ? (double)j->w[c] : 1), bx = 0, k = 0;
        if (j->args->training) {
            bx = -a * (double)invstd * (double)invstd * sum_gx / count;
            k = -a * sum_g / count - bx * (double)mean;
        }
        gt_real ra = (gt_real)a, rb = (gt_real)bx, rk = (gt_real)k;
        for (int64_t o = 0; o < outer; o++) {
            const gt_real *restrict x = j->x + (o * c_count + c) * inner;
            const gt_real *restrict g = j->g + (o * c_count + c) * inner;
            gt_real *restrict gx = j->gx + (o * c_count + c) * inner;
            for (int64_t i = 0; i < inner; i++)
                gx[i] += ra * g[i] + rb * x[i] + rk;
        }
    }
}

static gt_status check_channel_vector(const char *op, const char *name, const gt_tensor *t,
                                      const gt_tensor *x, int64_t c) {
    if (t && !(t->ndim == 1 && t->shape[0] == c))
        return gt_set_error(GT_ERR_SHAPE, "%s: %s must be [%lld] for input %s, got %s", op, name,
                            (long long)c, gt__shape_of(x), gt__shape_of(t));
    return GT_OK;
}

/* The flops of a pass over n elements, for the thread rule. */
static double pass_flops(int64_t n) {
    return GT__FLOPS_PER_ELEMENT * (double)n;
}

// input[N,C,*], running_mean[C], running_var[C], weight[C], bias[C] -> [N,C,*]
static gt_tensor *batch_norm_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                     int n_in, const void *args_ptr) {
    const batch_norm_args *args = args_ptr;
    gt_tensor *all[5] = {0};
    for (int i = 0; i < n_in; i++)
        all[i] = in[i];
    gt_tensor *x = all[0], *rm = all[1], *rv = all[2], *w = all[3], *b = all[4];
    if (gt__check_inputs(op->name, tape, all, 5, 1) != GT_OK)
        return NULL;
    if (x->ndim < 2) {
        gt_set_error(GT_ERR_SHAPE, "batch_norm: input must be [N,C,*] with at least 2 dims, "
                     "got %s", gt__shape_of(x));
        return NULL;
    }
    bn_dims d = {x->shape[0], x->shape[1], 1};
    for (int i = 2; i < x->ndim; i++)
        d.inner *= x->shape[i];
    if (check_channel_vector(op->name, "running_mean", rm, x, d.c) != GT_OK ||
        check_channel_vector(op->name, "running_var", rv, x, d.c) != GT_OK ||
        check_channel_vector(op->name, "weight", w, x, d.c) != GT_OK ||
        check_channel_vector(op->name, "bias", b, x, d.c) != GT_OK)
        return NULL;
    if (!args->training && (!rm || !rv)) {
        gt_set_error(GT_ERR_ARG, "batch_norm: running_mean and running_var must be given "
                     "when training=False");
        return NULL;
    }
    if (!rm != !rv) {
        gt_set_error(GT_ERR_ARG, "batch_norm: running_mean and running_var must be both "
                     "given or both None");
        return NULL;
    }
    if (args->training && d.outer * d.inner <= 1) {
        gt_set_error(GT_ERR_SHAPE, "batch_norm: expected more than 1 value per channel when "
                     "training, got input %s", gt__shape_of(x));
        return NULL;
    }
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    gt_real *stats = out ? gt__tape_alloc(tape, gt__real_bytes(2 * d.c), op->name) : NULL;
    if (!stats)
        return NULL;
    bn_job job = {d, args, x->data, NULL, w ? w->data : NULL, b ? b->data : NULL, out->data,
                  NULL, NULL, NULL, stats, stats + d.c, rm ? rm->data : NULL,
                  rv ? rv->data : NULL};
    /* the node's inputs: the running statistics take no gradient, absent ones are left out */
    gt_tensor *grad_in[3] = {x};
    int n_grad = 1;
    if (w)
        grad_in[n_grad++] = w;
    if (b)
        grad_in[n_grad++] = b;
    bn_saved *saved = NULL;
    if (gt__tape_will_record(tape, grad_in, n_grad) &&
        !(saved = gt__tape_alloc(tape, sizeof *saved, op->name)))
        return NULL;
    gt__parallel_ranges(d.c, 1, pass_flops(x->numel), bn_stats_range, &job);
    gt__parallel_ranges(d.c, 1, pass_flops(x->numel), bn_output_range, &job);
    gt_node *node;
    out = gt__op_finish(tape, op, out, grad_in, n_grad, args, &node);
    if (node) {
        *saved = (bn_saved){d, job.mean, job.invstd, w, b};
        node->saved = saved;
    }
    return out;
}

static gt_status batch_norm_backward(gt_node *node) {
    const bn_saved *s = node->saved;
    gt_tensor *x = node->in[0], *w = s->w, *b = s->b;
    bn_job job = {s->d, node->attrs, x->data, node->out->grad, w ? w->data : NULL, NULL,
                  NULL, x->grad, w ? w->grad : NULL, b ? b->grad : NULL, s->mean, s->invstd,
                  NULL, NULL};
    gt__parallel_ranges(s->d.c, 1, 2 * pass_flops(x->numel), bn_grad_range, &job);
    return GT_OK;
}

static const gt_attr_def batch_norm_attrs[] = {
    {"training", GT_ATTR_BOOL, offsetof(batch_norm_args, training), .dflt = 0},
    {"momentum", GT_ATTR_FLOAT, offsetof(batch_norm_args, momentum), .dflt = 0.1},
    {"eps", GT_ATTR_FLOAT, offsetof(batch_norm_args, eps), .dflt = 1e-5,
     .flags = GT_ATTR_HAS_MIN, .min = 0},
};

const gt_op_def gt_op_batch_norm = {
    .name = "batch_norm",
    .doc = "(input - mean) / sqrt(var + eps) * weight + bias per channel (dim 1): batch "
           "statistics when training (the running ones move toward them, in place, the "
           "variance unbiased), else the running statistics",
    .shapes = "input[N,C,*], running_mean[C], running_var[C], weight[C], bias[C] -> [N,C,*]",
    .inputs = {{"input"},
               {"running_mean", .optional = true, .no_grad = true},
               {"running_var", GT_DOMAIN_POSITIVE, .optional = true, .no_grad = true},
               {"weight", .optional = true},
               {"bias", .optional = true}},
    GT__ATTRS(batch_norm_attrs),
    .args_size = sizeof(batch_norm_args),
    .forward = batch_norm_forward,
    .backward = batch_norm_backward,
    GT__CASES("4x3 3 3 3 3", "2x3x5 3 3 3 3; training=True", "2x3x4x5 3 3 3 3",
              "2x3x4x5 3 3 3 3; training=True, momentum=0.3, eps=0.001",
              "3x2x2x2 _ _ 2 2; training=True", "5x4 4 4 _ _; training=True",
              "2x2x3 2 2 _ 2; training=True", "1x3x4 3 3 3; training=True",
              "2x1x3x1 1 1 1 1; training=True", "6x3 3 3; momentum=0.5, eps=0.1",
              "4x3 _ _ 3 3 => batch_norm: running_mean and running_var must be given when "
              "training=False",
              "4x3 3 _; training=True => batch_norm: running_mean and running_var must be "
              "both given or both None",
              "1x3 3 3 3 3; training=True => batch_norm: expected more than 1 value per "
              "channel when training, got input [1, 3]",
              "4x3 4 3 => batch_norm: running_mean must be [3] for input [4, 3], got [4]",
              "4x3 3 3 3x1 => batch_norm: weight must be [3] for input [4, 3], got [3, 1]",
              "4x3x2 3 3 3 2 => batch_norm: bias must be [3] for input [4, 3, 2], got [2]",
              "4 4 4 => batch_norm: input must be [N,C,*] with at least 2 dims, got [4]",
              "4x3 3 3; eps=-1 => batch_norm: eps must be >= 0"),
};

gt_tensor *gt_batch_norm(gt_tape *tape, gt_tensor *input, gt_tensor *running_mean,
                         gt_tensor *running_var, gt_tensor *weight, gt_tensor *bias,
                         bool training, double momentum, double eps) {
    batch_norm_args args = {training, momentum, eps};
    return gt_op_call(tape, &gt_op_batch_norm,
                      (gt_tensor *[]){input, running_mean, running_var, weight, bias}, 5, &args);
}
