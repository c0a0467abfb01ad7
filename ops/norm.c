/* norm.c - batch_norm, layer_norm and group_norm: normalise by a mean and a variance (biased,
 * as PyTorch), then an optional per-channel (or per-element) affine map. */
#include "gt_ops_impl.h"
#include "gt_vmath.h"

#include <string.h>

#include <math.h>
#include <stddef.h>

/* Sums in GT__LANES partial sums, one vector (gt_vmath.h); the tail past the last whole
 * vector is summed apart, in double. */

// x[n] -> *s1 += sum(x - shift), *s2 += sum((x - shift)^2)
GT__MULTIVERSION
static void sum_and_squares(int64_t n, const gt_real *restrict x, gt_real shift, double *s1,
                            double *s2) {
    gt__lanes a = {0}, q = {0};
    int64_t i = 0;
    for (; i + GT__LANES <= n; i += GT__LANES) {
        gt__lanes v;
        GT__LOAD_LANES(v, x + i);
        v -= shift;
        a += v;
        q += v * v;
    }
    double t1 = 0, t2 = 0; /* in registers: the outputs may alias */
    for (; i < n; i++) {
        gt_real v = x[i] - shift;
        t1 += v;
        t2 += v * v;
    }
    *s1 += t1 + gt__lanes_total(&a), *s2 += t2 + gt__lanes_total(&q);
}

/* relu's gradient g * (y > 0) as relu's backward leaves it in the zeroed gradient of its
 * input (0 + ..., so that -0 becomes +0): batch_norm_relu's g, bit for bit. */
static inline gt_real relu_grad(gt_real y, gt_real g) {
    return (gt_real)0 + (y > 0 ? g : 0);
}

// g[n], x[n] -> *sg += sum(g), *sgx += sum(g * (x - shift)); with y (batch_norm_relu's output)
// g is relu_grad(y, g) (in the lanes masked without the + 0: a sum from +0 takes -0 as +0).
// Inlined always, so that each clone below has its vectors and the test of y goes
static inline __attribute__((always_inline)) void
sum_and_dot_of(int64_t n, const gt_real *restrict g, const gt_real *restrict y,
               const gt_real *restrict x, gt_real shift, double *sg, double *sgx) {
    gt__lanes a = {0}, d = {0};
    int64_t i = 0;
    for (; i + GT__LANES <= n; i += GT__LANES) {
        gt__lanes gv, xv;
        GT__LOAD_LANES(gv, g + i);
        GT__LOAD_LANES(xv, x + i);
        if (y) {
            gt__lanes yv;
            GT__LOAD_LANES(yv, y + i);
            gv = (gt__lanes)((gt__lanes_mask)gv & (yv > 0));
        }
        a += gv;
        d += gv * (xv - shift);
    }
    double t1 = 0, t2 = 0; /* in registers: the outputs may alias */
    for (; i < n; i++) {
        gt_real gi = y ? relu_grad(y[i], g[i]) : g[i];
        t1 += gi;
        t2 += gi * (x[i] - shift);
    }
    *sg += t1 + gt__lanes_total(&a), *sgx += t2 + gt__lanes_total(&d);
}

GT__MULTIVERSION
static void sum_and_dot(int64_t n, const gt_real *restrict g, const gt_real *restrict x,
                        gt_real shift, double *sg, double *sgx) {
    sum_and_dot_of(n, g, NULL, x, shift, sg, sgx);
}

GT__MULTIVERSION
static void relu_sum_and_dot(int64_t n, const gt_real *restrict g, const gt_real *restrict y,
                             const gt_real *restrict x, gt_real shift, double *sg, double *sgx) {
    sum_and_dot_of(n, g, y, x, shift, sg, sgx);
}

// g[n], y[n], x[n] -> gx[n] += ra relu_grad(y, g) + rb x + rk: batch_norm_relu's input gradient,
// in lanes, where the select vectorises (written per value, it stayed a branch per value)
GT__MULTIVERSION
static void relu_grad_add(int64_t n, gt_real *restrict gx, const gt_real *restrict g,
                          const gt_real *restrict y, const gt_real *restrict x, gt_real ra,
                          gt_real rb, gt_real rk) {
    int64_t i = 0;
    for (; i + GT__LANES <= n; i += GT__LANES) {
        gt__lanes gv, yv, xv, acc, zero = {0};
        GT__LOAD_LANES(gv, g + i);
        GT__LOAD_LANES(yv, y + i);
        GT__LOAD_LANES(xv, x + i);
        GT__LOAD_LANES(acc, gx + i);
        gv = zero + (gt__lanes)((gt__lanes_mask)gv & (yv > 0));
        acc += ra * gv + rb * xv + rk;
        memcpy(gx + i, &acc, sizeof acc);
    }
    for (; i < n; i++)
        gx[i] += ra * relu_grad(y[i], g[i]) + rb * x[i] + rk;
}

// g[n], w[n], x[n] -> *sgw += sum(g w), *sgwx += sum(g w (x - shift)), in lanes as above
GT__MULTIVERSION
static void weighted_sum_and_dot(int64_t n, const gt_real *restrict g, const gt_real *restrict w,
                                 const gt_real *restrict x, gt_real shift, double *sgw,
                                 double *sgwx) {
    gt__lanes a = {0}, d = {0};
    int64_t i = 0;
    for (; i + GT__LANES <= n; i += GT__LANES) {
        gt__lanes gv, wv, xv;
        GT__LOAD_LANES(gv, g + i);
        GT__LOAD_LANES(wv, w + i);
        GT__LOAD_LANES(xv, x + i);
        gt__lanes gw = gv * wv;
        a += gw;
        d += gw * (xv - shift);
    }
    double t1 = 0, t2 = 0; /* in registers: the outputs may alias */
    for (; i < n; i++) {
        t1 += g[i] * w[i];
        t2 += g[i] * w[i] * (x[i] - shift);
    }
    *sgw += t1 + gt__lanes_total(&a), *sgwx += t2 + gt__lanes_total(&d);
}

/* ---- the backwards written with ops (gt_grad with create_graph) ------------------------- */

/* How a norm's backward sees its tensors: x (and g) as stat_shape for the statistics, which
 * reduce over the dims `over`; as aff_shape for the affine map, where weight and bias are
 * seen as param_shape and their gradients sum over the dims param_sum. */
typedef struct norm_views {
    int stat_ndim, aff_ndim;
    int64_t stat_shape[3], aff_shape[3], param_shape[3];
    gt_ints over, param_sum;
    double eps;
    bool batch_stats;                   /* false: batch_norm's eval (the constants below) */
    const gt_real *eval_mean, *eval_invstd; /* [C] */
} norm_views;

static gt_tensor *mean_over(gt_tape *tape, gt_tensor *t, gt_ints over) {
    gt_reduce_args args = {over, true};
    return gt_op_call(tape, &gt_op_mean, &t, 1, &args);
}

/* A [1, C, 1] constant from values[C]. */
static gt_tensor *channel_const(gt_tape *tape, int64_t c, const gt_real *values) {
    gt_tensor *t = gt_tape_tensor(tape, 3, (int64_t[]){1, c, 1});
    for (int64_t i = 0; t && i < c; i++)
        t->data[i] = values[i];
    return t;
}

// y = xhat * w + b -> grad_w = sum(g xhat), grad_b = sum(g), and grad_x: with batch
// statistics invstd (g w - mean(g w) - xhat mean(g w xhat)) over the statistics' dims, with
// constant ones (eval) g w invstd; xhat recomputed with ops from x, so all is differentiable
static gt_status norm_grad_graph_with(gt_tape *tape, gt_node *node, gt_tensor *g,
                                      gt_tensor **grad_in, const norm_views *v, gt_tensor *w,
                                      gt_tensor *b) {
    gt_tensor *x = node->in[0];
    if (x->numel == 0)
        return GT_OK; /* nothing flows: every gradient is 0 */
    gt_tensor *xs = gt_reshape(tape, x, v->stat_ndim, v->stat_shape), *inv, *xhat;
    if (v->batch_stats) {
        gt_tensor *centred = gt_sub(tape, xs, mean_over(tape, xs, v->over));
        gt_tensor *var = mean_over(tape, gt_mul(tape, centred, centred), v->over);
        inv = var ? gt_rsqrt(tape, gt_add(tape, var, gt__const_like(tape, var, (gt_real)v->eps)))
                  : NULL;
        xhat = gt_mul(tape, centred, inv);
    } else {
        int64_t c = v->stat_shape[1];
        inv = channel_const(tape, c, v->eval_invstd);
        xhat = gt_mul(tape, gt_sub(tape, xs, channel_const(tape, c, v->eval_mean)), inv);
    }
    gt_tensor *xhat_a = gt_reshape(tape, xhat, v->aff_ndim, v->aff_shape);
    gt_tensor *g_a = gt_reshape(tape, g, v->aff_ndim, v->aff_shape);
    if (!xhat_a || !g_a)
        return gt_last_status();
    gt_reduce_args sum_args = {v->param_sum, false};
    int k = 1;
    if (w && gt__needs_grad(node, k)) {
        gt_tensor *gxhat = gt_mul(tape, g_a, xhat_a);
        gt_tensor *summed = gt_op_call(tape, &gt_op_sum, &gxhat, 1, &sum_args);
        if (!(grad_in[k] = summed ? gt_reshape(tape, summed, w->ndim, w->shape) : NULL))
            return gt_last_status();
    }
    k += w != NULL;
    if (b && gt__needs_grad(node, k)) {
        gt_tensor *summed = gt_op_call(tape, &gt_op_sum, &g_a, 1, &sum_args);
        if (!(grad_in[k] = summed ? gt_reshape(tape, summed, b->ndim, b->shape) : NULL))
            return gt_last_status();
    }
    if (!gt__needs_grad(node, 0))
        return GT_OK;
    gt_tensor *gw = w ? gt_mul(tape, g_a, gt_reshape(tape, w, v->aff_ndim, v->param_shape)) : g_a;
    gt_tensor *gx;
    if (v->batch_stats) {
        gt_tensor *gs = gw ? gt_reshape(tape, gw, v->stat_ndim, v->stat_shape) : NULL;
        gt_tensor *centred = gt_sub(tape, gs, mean_over(tape, gs, v->over));
        gt_tensor *along = gt_mul(tape, xhat, mean_over(tape, gt_mul(tape, gs, xhat), v->over));
        gx = gt_mul(tape, inv, gt_sub(tape, centred, along));
    } else {
        gx = gt_mul(tape, gw, inv);
    }
    grad_in[0] = gx ? gt_reshape(tape, gx, x->ndim, x->shape) : NULL;
    return grad_in[0] ? GT_OK : gt_last_status();
}

/* ---- batch_norm ----------------------------------------------------------------------- */

enum { BN_PLAIN, BN_RELU }; /* the variants: batch_norm, batch_norm_relu (relu of its output) */

/* The arguments of batch_norm (and batch_norm_relu). */
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

/* One pass over channels [from, to), for threads. relu (batch_norm_relu): the forward writes
 * relu of the output, the backward takes g where its output y > 0, as relu's backward. */
typedef struct bn_job {
    bn_dims d;
    const batch_norm_args *args;
    const gt_real *x, *g, *w, *b;
    gt_real *y, *gx, *gw, *gb, *mean, *invstd, *run_mean, *run_var;
    bool relu;
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

// x[outer,C,inner] -> y = (x - mean[c]) * invstd[c] * w[c] + b[c], or relu of it (relu's rule:
// y where y > 0, else 0), written once
static void bn_output_range(void *ctx, int64_t from, int64_t to) {
    const bn_job *j = ctx;
    int64_t outer = j->d.outer, c_count = j->d.c, inner = j->d.inner;
    for (int64_t c = from; c < to; c++) {
        gt_real scale = j->invstd[c] * (j->w ? j->w[c] : 1);
        gt_real shift = (j->b ? j->b[c] : 0) - j->mean[c] * scale;
        for (int64_t o = 0; o < outer; o++) {
            const gt_real *restrict x = j->x + (o * c_count + c) * inner;
            gt_real *restrict y = j->y + (o * c_count + c) * inner;
            if (j->relu)
                for (int64_t i = 0; i < inner; i++) {
                    gt_real v = x[i] * scale + shift;
                    y[i] = v > 0 ? v : 0;
                }
            else
                for (int64_t i = 0; i < inner; i++)
                    y[i] = x[i] * scale + shift;
        }
    }
}

// g[outer,C,inner] -> gw[c] += sum(g * xhat), gb[c] += sum(g), and gx += in training
// w invstd (g - mean(g) - xhat mean(g xhat)), in eval w invstd g; xhat = (x - mean) invstd.
// relu: g is relu_grad(y, g) throughout, y the output (the same sums and sums of products as
// batch_norm's on relu's gradient)
static void bn_grad_range(void *ctx, int64_t from, int64_t to) {
    const bn_job *j = ctx;
    int64_t outer = j->d.outer, c_count = j->d.c, inner = j->d.inner;
    double count = (double)(outer * inner);
    for (int64_t c = from; c < to; c++) {
        gt_real mean = j->mean[c], invstd = j->invstd[c];
        double sum_g = 0, sum_gx = 0; /* sum(g), sum(g * (x - mean)) */
        for (int64_t o = 0; o < outer; o++) {
            int64_t at = (o * c_count + c) * inner;
            if (j->relu)
                relu_sum_and_dot(inner, j->g + at, j->y + at, j->x + at, mean, &sum_g, &sum_gx);
            else
                sum_and_dot(inner, j->g + at, j->x + at, mean, &sum_g, &sum_gx);
        }
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
            if (j->relu)
                relu_grad_add(inner, gx, g, j->y + (o * c_count + c) * inner, x, ra, rb, rk);
            else
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

/* The inputs a node records: x, then weight and bias when given (the tape's walk takes no
 * NULL input, so the backward finds them in its saved state). Returns their number. */
static int node_inputs(gt_tensor *x, gt_tensor *w, gt_tensor *b, gt_tensor **grad_in) {
    int n = 0;
    grad_in[n++] = x;
    if (w)
        grad_in[n++] = w;
    if (b)
        grad_in[n++] = b;
    return n;
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
        gt_set_error(GT_ERR_SHAPE, "%s: input must be [N,C,*] with at least 2 dims, got %s",
                     op->name, gt__shape_of(x));
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
        gt_set_error(GT_ERR_ARG, "%s: running_mean and running_var must be given when "
                     "training=False", op->name);
        return NULL;
    }
    if (!rm != !rv) {
        gt_set_error(GT_ERR_ARG, "%s: running_mean and running_var must be both given or "
                     "both None", op->name);
        return NULL;
    }
    if (args->training && d.outer * d.inner <= 1) {
        gt_set_error(GT_ERR_SHAPE, "%s: expected more than 1 value per channel when "
                     "training, got input %s", op->name, gt__shape_of(x));
        return NULL;
    }
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    gt_real *stats = out ? gt__tape_alloc(tape, gt__real_bytes(2 * d.c), op->name) : NULL;
    if (!stats)
        return NULL;
    bn_job job = {d, args, x->data, NULL, w ? w->data : NULL, b ? b->data : NULL, out->data,
                  NULL, NULL, NULL, stats, stats + d.c, rm ? rm->data : NULL,
                  rv ? rv->data : NULL, op->variant == BN_RELU};
    /* the running statistics take no gradient */
    gt_tensor *grad_in[3];
    int n_grad = node_inputs(x, w, b, grad_in);
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
    bool relu = gt__node_variant(node) == BN_RELU;
    bn_job job = {s->d, node->attrs, x->data, node->out->grad, w ? w->data : NULL, NULL,
                  relu ? node->out->data : NULL, x->grad, w ? w->grad : NULL,
                  b ? b->grad : NULL, s->mean, s->invstd, NULL, NULL, relu};
    gt__parallel_ranges(s->d.c, 1, 2 * pass_flops(x->numel), bn_grad_range, &job);
    return GT_OK;
}

// x seen as [outer, C, inner] for both the statistics (over dims 0 and 2) and the affine map;
// batch_norm_relu: g first masked as relu's gradient graph does (its output > 0)
static gt_status batch_norm_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                       gt_tensor **grad_in) {
    const bn_saved *s = node->saved;
    const batch_norm_args *args = node->attrs;
    if (gt__node_variant(node) == BN_RELU &&
        !(g = gt_mul(tape, g, gt__slope_mask(tape, node->out, 0))))
        return gt_last_status();
    norm_views v = {3, 3, {s->d.outer, s->d.c, s->d.inner}, {s->d.outer, s->d.c, s->d.inner},
                    {1, s->d.c, 1}, GT_INTS(0, 2), GT_INTS(0, 2), args->eps, args->training,
                    s->mean, s->invstd};
    return norm_grad_graph_with(tape, node, g, grad_in, &v, s->w, s->b);
}

static const gt_attr_def batch_norm_attrs[] = {
    {"training", GT_ATTR_BOOL, offsetof(batch_norm_args, training), .dflt = 0},
    {"momentum", GT_ATTR_FLOAT, offsetof(batch_norm_args, momentum), .dflt = 0.1},
    {"eps", GT_ATTR_FLOAT, offsetof(batch_norm_args, eps), .dflt = 1e-5,
     .flags = GT_ATTR_HAS_MIN, .min = 0},
};

/* batch_norm's entry but for its name, doc and variant: batch_norm_relu's too */
#define BATCH_NORM_DEF                                                                      \
    .shapes = "input[N,C,*], running_mean[C], running_var[C], weight[C], bias[C] -> [N,C,*]", \
    .inputs = {{"input"},                                                                   \
               {"running_mean", .optional = true, .no_grad = true},                         \
               {"running_var", GT_DOMAIN_POSITIVE, .optional = true, .no_grad = true},      \
               {"weight", .optional = true},                                                \
               {"bias", .optional = true}},                                                 \
    GT__ATTRS(batch_norm_attrs), .args_size = sizeof(batch_norm_args),                      \
    .forward = batch_norm_forward, .backward = batch_norm_backward,                         \
    .grad_graph = batch_norm_grad_graph

#define BATCH_NORM_VALID_CASES                                                              \
    "4x3 3 3 3 3", "2x3x5 3 3 3 3; training=True", "2x3x4x5 3 3 3 3",                        \
        "2x3x4x5 3 3 3 3; training=True, momentum=0.3, eps=0.001",                           \
        "3x2x2x2 _ _ 2 2; training=True", "5x4 4 4 _ _; training=True",                      \
        "2x2x3 2 2 _ 2; training=True", "1x3x4 3 3 3; training=True",                        \
        "2x1x3x1 1 1 1 1; training=True", "6x3 3 3; momentum=0.5, eps=0.1"

const gt_op_def gt_op_batch_norm = {
    .name = "batch_norm",
    .doc = "(input - mean) / sqrt(var + eps) * weight + bias per channel (dim 1): batch "
           "statistics when training (the running ones move toward them, in place, the "
           "variance unbiased), else the running statistics",
    BATCH_NORM_DEF,
    .variant = BN_PLAIN,
    GT__CASES(BATCH_NORM_VALID_CASES,
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

/* Not in the table (PyTorch has no such function): relu(batch_norm(...)) as one node, for
 * the layers (a BatchNorm followed by a ReLU in a Sequential, models/layers.c). Its output
 * and gradient are relu's of batch_norm's, bit for bit, without batch_norm's output and its
 * gradient in the arena. Its cases are batch_norm's valid ones, for the tests. */
const gt_op_def gt__op_batch_norm_relu = {
    .name = "batch_norm_relu",
    .doc = "relu(batch_norm(...)) in one pass: batch_norm's inputs, arguments and running "
           "statistics; relu's gradient at 0 (0)",
    BATCH_NORM_DEF,
    .variant = BN_RELU,
    GT__CASES(BATCH_NORM_VALID_CASES),
};

static gt_tensor *batch_norm_call(const gt_op_def *op, gt_tape *tape, gt_tensor *input,
                                  gt_tensor *running_mean, gt_tensor *running_var,
                                  gt_tensor *weight, gt_tensor *bias, bool training,
                                  double momentum, double eps) {
    batch_norm_args args = {training, momentum, eps};
    return gt_op_call(tape, op, (gt_tensor *[]){input, running_mean, running_var, weight, bias},
                      5, &args);
}

gt_tensor *gt_batch_norm(gt_tape *tape, gt_tensor *input, gt_tensor *running_mean,
                         gt_tensor *running_var, gt_tensor *weight, gt_tensor *bias,
                         bool training, double momentum, double eps) {
    return batch_norm_call(&gt_op_batch_norm, tape, input, running_mean, running_var, weight,
                           bias, training, momentum, eps);
}

gt_tensor *gt__batch_norm_relu(gt_tape *tape, gt_tensor *input, gt_tensor *running_mean,
                               gt_tensor *running_var, gt_tensor *weight, gt_tensor *bias,
                               bool training, double momentum, double eps) {
    return batch_norm_call(&gt__op_batch_norm_relu, tape, input, running_mean, running_var,
                           weight, bias, training, momentum, eps);
}

/* ---- layer_norm and group_norm: statistics over contiguous rows ------------------------ */

enum { ROW_LAYER, ROW_GROUP }; /* the variants of layer_norm and group_norm */

/* The arguments of layer_norm and group_norm. */
typedef struct row_norm_args {
    gt_ints normalized_shape; /* layer_norm */
    int64_t num_groups;       /* group_norm */
    double eps;
} row_norm_args;

/* input seen as rows of `len` contiguous values, each normalised by its own mean and
 * variance; the affine map's value changes every `seg` values of a row, and row r uses
 * values (r % groups) * (len / seg) onward. layer_norm: rows [*], len = the normalized
 * shape's size, seg 1, groups 1; group_norm on [N,C,*]: rows N*G, len C/G * inner,
 * seg inner, groups G. */
typedef struct row_dims {
    int64_t rows, len, seg, groups;
} row_dims;

typedef struct row_saved {
    row_dims d;
    gt_real *mean, *invstd; /* [rows] each */
    gt_tensor *w, *b;       /* weight, bias or NULL */
} row_saved;

typedef struct row_job {
    row_dims d;
    double eps;
    const gt_real *x, *g, *w, *b;
    gt_real *y, *gx, *mean, *invstd;
    gt_real *part_w, *part_b; /* layer_norm's backward: one chunk's weight and bias sums */
} row_job;

/* Rows at a time in the row kernels (at most; gt__rows_per_block): each step (the sums, the
 * statistics, the pass over the values) over all of them before the next, so that the rows'
 * dependency chains (sums, division, square root) overlap where one row at a time waited
 * for each. */
#define ROW_BLOCK 16

// x[n] -> y[n] = (x - m) inv * w + b (w, b: per value, or NULL for 1 and 0)
GT__MULTIVERSION
static void affine_row(int64_t n, gt_real *restrict y, const gt_real *restrict x, gt_real m,
                       gt_real inv, const gt_real *restrict w, const gt_real *restrict b) {
    if (w && b)
        for (int64_t e = 0; e < n; e++)
            y[e] = (x[e] - m) * inv * w[e] + b[e];
    else if (w)
        for (int64_t e = 0; e < n; e++)
            y[e] = (x[e] - m) * inv * w[e];
    else if (b)
        for (int64_t e = 0; e < n; e++)
            y[e] = (x[e] - m) * inv + b[e];
    else
        for (int64_t e = 0; e < n; e++)
            y[e] = (x[e] - m) * inv;
}

// g[n], x[n], w[n] or NULL -> gx[n] += inv w g - k1 - (x - mean) k2
GT__MULTIVERSION
static void row_input_grad(int64_t n, gt_real *restrict gx, const gt_real *restrict g,
                           const gt_real *restrict x, const gt_real *restrict w, gt_real mean,
                           gt_real inv, gt_real k1, gt_real k2) {
    if (w)
        for (int64_t e = 0; e < n; e++)
            gx[e] += inv * w[e] * g[e] - k1 - (x[e] - mean) * k2;
    else
        for (int64_t e = 0; e < n; e++)
            gx[e] += inv * g[e] - k1 - (x[e] - mean) * k2;
}

// g[n], x[n] -> gw[n] += g (x - mean) inv, gb[n] += g (either may be NULL), in one pass
GT__MULTIVERSION
static void row_affine_grad_add(int64_t n, gt_real *restrict gw, gt_real *restrict gb,
                                const gt_real *restrict g, const gt_real *restrict x,
                                gt_real mean, gt_real inv) {
    if (gw && gb)
        for (int64_t e = 0; e < n; e++) {
            gw[e] += g[e] * (x[e] - mean) * inv;
            gb[e] += g[e];
        }
    else if (gw)
        for (int64_t e = 0; e < n; e++)
            gw[e] += g[e] * (x[e] - mean) * inv;
    else
        for (int64_t e = 0; e < n; e++)
            gb[e] += g[e];
}

// x[rows,len] -> mean[rows], invstd[rows], y = (x - mean) invstd * w + b
static void row_forward_range(void *ctx, int64_t from, int64_t to) {
    const row_job *j = ctx;
    row_dims d = j->d;
    int64_t per_row = d.len / d.seg;
    int64_t most = gt__rows_per_block(d.len, ROW_BLOCK);
    for (int64_t r0 = from; r0 < to; r0 += most) {
        int64_t n = to - r0 < most ? to - r0 : most;
        double sum[ROW_BLOCK] = {0}, sum_sq[ROW_BLOCK] = {0};
        for (int64_t i = 0; i < n; i++) /* shifted by the row's first value */
            sum_and_squares(d.len, j->x + (r0 + i) * d.len, j->x[(r0 + i) * d.len], &sum[i],
                            &sum_sq[i]);
        for (int64_t i = 0; i < n; i++) {
            double mean = sum[i] / (double)d.len, var = sum_sq[i] / (double)d.len - mean * mean;
            j->mean[r0 + i] = (gt_real)((double)j->x[(r0 + i) * d.len] + mean);
            j->invstd[r0 + i] = (gt_real)(1 / sqrt((var > 0 ? var : 0) + j->eps));
        }
        for (int64_t r = r0; r < r0 + n; r++) {
            const gt_real *restrict x = j->x + r * d.len;
            gt_real *restrict y = j->y + r * d.len;
            gt_real m = j->mean[r], inv = j->invstd[r];
            int64_t base = (r % d.groups) * per_row;
            if (d.seg == 1) { /* a weight per value (layer_norm; group_norm on [N,C,1...]) */
                affine_row(d.len, y, x, m, inv, j->w ? j->w + base : NULL,
                           j->b ? j->b + base : NULL);
                continue;
            }
            for (int64_t s = 0; s < per_row; s++) {
                gt_real scale = inv * (j->w ? j->w[base + s] : 1);
                gt_real offset = (j->b ? j->b[base + s] : 0) - m * scale;
                for (int64_t e = s * d.seg; e < (s + 1) * d.seg; e++)
                    y[e] = x[e] * scale + offset;
            }
        }
    }
}

// g[rows,len] -> gx += invstd (g w - mean(g w) - xhat mean(g w xhat)), xhat = (x - mean) invstd
// (gx NULL: none); layer_norm with part_w or part_b: those += g xhat and g, row by row
static void row_grad_range(void *ctx, int64_t from, int64_t to) {
    const row_job *j = ctx;
    row_dims d = j->d;
    int64_t per_row = d.len / d.seg;
    int64_t most = gt__rows_per_block(d.len, ROW_BLOCK);
    for (int64_t r0 = from; r0 < to; r0 += most) {
        int64_t n = to - r0 < most ? to - r0 : most;
        gt_real k1[ROW_BLOCK], k2[ROW_BLOCK];
        for (int64_t i = 0; j->gx && i < n; i++) {
            int64_t r = r0 + i;
            const gt_real *x = j->x + r * d.len, *g = j->g + r * d.len;
            gt_real mean = j->mean[r], inv = j->invstd[r];
            int64_t base = (r % d.groups) * per_row;
            double sum_gw = 0, sum_gwx = 0; /* sum(g w), sum(g w (x - mean)) */
            if (d.seg == 1 && j->w) /* a weight per value, no call per value */
                weighted_sum_and_dot(d.len, g, j->w + base, x, mean, &sum_gw, &sum_gwx);
            else if (d.seg == 1)
                sum_and_dot(d.len, g, x, mean, &sum_gw, &sum_gwx);
            for (int64_t s = 0; d.seg > 1 && s < per_row; s++) {
                double sg = 0, sgx = 0, w = j->w ? (double)j->w[base + s] : 1;
                sum_and_dot(d.seg, g + s * d.seg, x + s * d.seg, mean, &sg, &sgx);
                sum_gw += w * sg;
                sum_gwx += w * sgx;
            }
            k1[i] = (gt_real)((double)inv * sum_gw / (double)d.len);
            k2[i] = (gt_real)((double)inv * inv * inv * sum_gwx / (double)d.len);
        }
        for (int64_t i = 0; i < n; i++) {
            int64_t r = r0 + i;
            const gt_real *restrict x = j->x + r * d.len, *restrict g = j->g + r * d.len;
            gt_real *restrict gx = j->gx ? j->gx + r * d.len : NULL;
            gt_real mean = j->mean[r], inv = j->invstd[r];
            int64_t base = (r % d.groups) * per_row;
            if (d.seg == 1 && (j->part_w || j->part_b)) /* while the row is in cache */
                row_affine_grad_add(d.len, j->part_w, j->part_b, g, x, mean, inv);
            if (gx && d.seg == 1) {
                row_input_grad(d.len, gx, g, x, j->w ? j->w + base : NULL, mean, inv, k1[i],
                               k2[i]);
                continue;
            }
            for (int64_t s = 0; gx && s < per_row; s++) {
                gt_real wi = inv * (j->w ? j->w[base + s] : 1);
                for (int64_t e = s * d.seg; e < (s + 1) * d.seg; e++)
                    gx[e] += wi * g[e] - k1[i] - (x[e] - mean) * k2[i];
            }
        }
    }
}

/* layer_norm's backward (a weight per value) in fixed chunks of rows, any thread a chunk:
 * each chunk's input gradient, and its weight and bias sums into its own part, in the same
 * pass over g and x (a second pass over every row for them took as long as the first); the
 * parts are added in chunk order afterwards, so the sums do not depend on the threads. */
#define ROW_CHUNKS_MAX 16

static int64_t row_chunks(row_dims d) {
    return d.rows < ROW_CHUNKS_MAX ? d.rows : ROW_CHUNKS_MAX;
}

typedef struct row_chunk_job {
    const row_job *j;
    bool w, b;     /* which sums the parts take */
    gt_real *parts; /* [chunks][2][len]: each chunk's weight then bias sums */
} row_chunk_job;

static void row_grad_chunk(const void *ctx, int64_t chunk, int tid) {
    (void)tid;
    const row_chunk_job *c = ctx;
    row_job j = *c->j;
    int64_t first, count;
    gt__split_even(j.d.rows, row_chunks(j.d), chunk, &first, &count);
    gt_real *part = c->parts ? c->parts + chunk * 2 * j.d.len : NULL;
    if (part)
        memset(part, 0, gt__real_bytes(2 * j.d.len));
    j.part_w = part && c->w ? part : NULL;
    j.part_b = part && c->b ? part + j.d.len : NULL;
    row_grad_range(&j, first, first + count);
}

// layer_norm: g[rows,len] -> gx += ... (row_grad_range), gw[len] += sum(g xhat), gb[len] +=
// sum(g) (either may be NULL); parts: 2 * row_chunks * len reals when gw or gb
static void row_layer_grad(const row_job *j, gt_real *gw, gt_real *gb, gt_real *parts) {
    row_dims d = j->d;
    int64_t chunks = row_chunks(d);
    row_chunk_job c = {j, gw != NULL, gb != NULL, gw || gb ? parts : NULL};
    gt__parallel_parts(chunks, gt__threads_for_flops(3 * pass_flops(d.rows * d.len)),
                       row_grad_chunk, &c);
    for (int64_t k = 0; c.parts && k < chunks; k++)
        for (int64_t e = 0; e < d.len; e++) {
            if (gw)
                gw[e] += c.parts[k * 2 * d.len + e];
            if (gb)
                gb[e] += c.parts[(k * 2 + 1) * d.len + e];
        }
}

// group_norm: g[rows,len] -> gw[...] += sum(g xhat), gb[...] += sum(g), over the rows sharing
// each value
static void row_affine_grad(const row_job *j, gt_real *gw, gt_real *gb) {
    row_dims d = j->d;
    int64_t per_row = d.len / d.seg;
    for (int64_t r = 0; r < d.rows; r++) {
        const gt_real *restrict x = j->x + r * d.len, *restrict g = j->g + r * d.len;
        int64_t base = (r % d.groups) * per_row;
        for (int64_t s = 0; s < per_row; s++) {
            double sg = 0, sgx = 0;
            sum_and_dot(d.seg, g + s * d.seg, x + s * d.seg, j->mean[r], &sg, &sgx);
            if (gw)
                gw[base + s] += (gt_real)(sgx * (double)j->invstd[r]);
            if (gb)
                gb[base + s] += (gt_real)sg;
        }
    }
}

/* The shape rows of layer_norm or group_norm, checking the input, weight and bias. */
static gt_status row_dims_of(const gt_op_def *op, const row_norm_args *args, const gt_tensor *x,
                             const gt_tensor *w, const gt_tensor *b, row_dims *d) {
    int64_t affine[GT_MAX_DIMS];
    int affine_ndim;
    if (op->variant == ROW_LAYER) {
        const gt_ints *ns = &args->normalized_shape;
        bool fits = ns->n <= x->ndim;
        for (int i = 0; fits && i < ns->n; i++)
            fits = x->shape[x->ndim - ns->n + i] == ns->v[i];
        char text[160];
        gt_shape_str(ns->n, ns->v, text, sizeof text);
        if (!fits)
            return gt_set_error(GT_ERR_SHAPE, "layer_norm: normalized_shape %s must be the last "
                                "dims of input, got input %s", text, gt__shape_of(x));
        *d = (row_dims){1, 1, 1, 1};
        for (int i = 0; i < ns->n; i++)
            d->len *= ns->v[i], affine[i] = ns->v[i];
        d->rows = d->len ? x->numel / d->len : 0;
        affine_ndim = ns->n;
    } else {
        if (x->ndim < 2)
            return gt_set_error(GT_ERR_SHAPE, "group_norm: input must be [N,C,*] with at least "
                                "2 dims, got %s", gt__shape_of(x));
        int64_t c = x->shape[1], groups = args->num_groups, inner = 1;
        if (c % groups)
            return gt_set_error(GT_ERR_SHAPE, "group_norm: num_groups %lld must divide the %lld "
                                "channels of input %s", (long long)groups, (long long)c,
                                gt__shape_of(x));
        for (int i = 2; i < x->ndim; i++)
            inner *= x->shape[i];
        *d = (row_dims){x->shape[0] * groups, c / groups * inner, inner, groups};
        affine[0] = c;
        affine_ndim = 1;
    }
    const gt_tensor *params[2] = {w, b};
    for (int i = 0; i < 2; i++)
        if (params[i] && !gt_shape_equal(params[i]->ndim, params[i]->shape, affine_ndim, affine)) {
            char text[160];
            gt_shape_str(affine_ndim, affine, text, sizeof text);
            return gt_set_error(GT_ERR_SHAPE, "%s: %s must be %s for input %s, got %s", op->name,
                                i ? "bias" : "weight", text, gt__shape_of(x),
                                gt__shape_of(params[i]));
        }
    return GT_OK;
}

// layer_norm: input[*, D...], weight[D...], bias[D...] -> [*, D...];
// group_norm: input[N,C,*], weight[C], bias[C] -> [N,C,*]
static gt_tensor *row_norm_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                   int n_in, const void *args_ptr) {
    const row_norm_args *args = args_ptr;
    gt_tensor *all[3] = {0};
    for (int i = 0; i < n_in; i++)
        all[i] = in[i];
    gt_tensor *x = all[0], *w = all[1], *b = all[2];
    row_dims d;
    if (gt__check_inputs(op->name, tape, all, 3, 1) != GT_OK ||
        row_dims_of(op, args, x, w, b, &d) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    gt_real *stats = out ? gt__tape_alloc(tape, gt__real_bytes(2 * d.rows + 1), op->name) : NULL;
    if (!stats)
        return NULL;
    gt_tensor *grad_in[3];
    int n_grad = node_inputs(x, w, b, grad_in);
    row_saved *saved = NULL;
    if (gt__tape_will_record(tape, grad_in, n_grad) &&
        !(saved = gt__tape_alloc(tape, sizeof *saved, op->name)))
        return NULL;
    row_job job = {d, args->eps, x->data, NULL, w ? w->data : NULL, b ? b->data : NULL,
                   out->data, NULL, stats, stats + d.rows, NULL, NULL};
    if (d.len)
        gt__parallel_ranges(d.rows, 1, 2 * pass_flops(x->numel), row_forward_range, &job);
    gt_node *node;
    out = gt__op_finish(tape, op, out, grad_in, n_grad, args, &node);
    if (node) {
        *saved = (row_saved){d, job.mean, job.invstd, w, b};
        node->saved = saved;
        if (op->variant == ROW_LAYER && (w || b)) /* the chunks' parts (row_layer_grad) */
            node->scratch_bytes = gt__real_bytes(2 * row_chunks(d) * d.len);
    }
    return out;
}

static gt_status row_norm_backward(gt_node *node) {
    const row_saved *s = node->saved;
    gt_tensor *x = node->in[0], *w = s->w, *b = s->b;
    if (!s->d.len)
        return GT_OK;
    row_job job = {s->d, 0, x->data, node->out->grad, w ? w->data : NULL, NULL, NULL, x->grad,
                   s->mean, s->invstd, NULL, NULL};
    gt_real *gw = w ? w->grad : NULL, *gb = b ? b->grad : NULL;
    if (gt__node_variant(node) == ROW_LAYER) {
        row_layer_grad(&job, gw, gb, node->scratch);
        return GT_OK;
    }
    if (x->grad)
        gt__parallel_ranges(s->d.rows, 1, 2 * pass_flops(x->numel), row_grad_range, &job);
    if (gw || gb)
        row_affine_grad(&job, gw, gb);
    return GT_OK;
}

// layer_norm: x seen as [rows, len] (statistics over dim 1, weight as [1, len]);
// group_norm: as [N, G, len] for the statistics (over dim 2), [N, C, inner] for the affine map
static gt_status row_norm_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                     gt_tensor **grad_in) {
    const row_saved *s = node->saved;
    const row_norm_args *args = node->attrs;
    row_dims d = s->d;
    norm_views v;
    if (gt__node_variant(node) == ROW_LAYER) {
        v = (norm_views){2, 2, {d.rows, d.len}, {d.rows, d.len}, {1, d.len}, GT_INTS(1),
                         GT_INTS(0), args->eps, true, NULL, NULL};
    } else {
        int64_t n = d.rows / d.groups, c = d.groups * (d.len / d.seg);
        v = (norm_views){3, 3, {n, d.groups, d.len}, {n, c, d.seg}, {1, c, 1}, GT_INTS(2),
                         GT_INTS(0, 2), args->eps, true, NULL, NULL};
    }
    return norm_grad_graph_with(tape, node, g, grad_in, &v, s->w, s->b);
}

static const gt_attr_def layer_norm_attrs[] = {
    {"normalized_shape", GT_ATTR_INTS, offsetof(row_norm_args, normalized_shape),
     .flags = GT_ATTR_REQUIRED | GT_ATTR_HAS_MIN, .min = 0, .after_input = 1},
    {"eps", GT_ATTR_FLOAT, offsetof(row_norm_args, eps), .dflt = 1e-5,
     .flags = GT_ATTR_HAS_MIN, .min = 0},
};

const gt_op_def gt_op_layer_norm = {
    .name = "layer_norm",
    .doc = "(input - mean) / sqrt(var + eps) * weight + bias, the statistics over the last "
           "dims (normalized_shape), the variance biased",
    .shapes = "input[*, D...], weight[D...], bias[D...] -> [*, D...] (D... = normalized_shape)",
    .inputs = {{"input"}, {"weight", .optional = true}, {"bias", .optional = true}},
    GT__ATTRS(layer_norm_attrs),
    .args_size = sizeof(row_norm_args),
    .forward = row_norm_forward,
    .backward = row_norm_backward,
    .grad_graph = row_norm_grad_graph,
    .variant = ROW_LAYER,
    GT__CASES("3x5 5 5; normalized_shape=5", "2x3x4 3x4 3x4; normalized_shape=[3, 4]",
              "2x3x4; normalized_shape=[2, 3, 4]", "4x6 _ 6; normalized_shape=6, eps=0.01",
              "2x1x3 3; normalized_shape=3", "1x2 2 2; normalized_shape=2",
              "2x3 3 3; normalized_shape=2 => layer_norm: normalized_shape [2] must be the last "
              "dims of input, got input [2, 3]",
              "2x3 2 3; normalized_shape=3 => layer_norm: weight must be [3] for input [2, 3], "
              "got [2]",
              "2x3 3 3x1; normalized_shape=3 => layer_norm: bias must be [3] for input [2, 3], "
              "got [3, 1]",
              "2x3 => layer_norm: missing argument normalized_shape"),
};

static const gt_attr_def group_norm_attrs[] = {
    {"num_groups", GT_ATTR_INT, offsetof(row_norm_args, num_groups),
     .flags = GT_ATTR_REQUIRED | GT_ATTR_HAS_MIN, .min = 1, .after_input = 1},
    {"eps", GT_ATTR_FLOAT, offsetof(row_norm_args, eps), .dflt = 1e-5,
     .flags = GT_ATTR_HAS_MIN, .min = 0},
};

const gt_op_def gt_op_group_norm = {
    .name = "group_norm",
    .doc = "(input - mean) / sqrt(var + eps) * weight + bias, the statistics over each group "
           "of C/num_groups channels of each sample, weight and bias per channel",
    .shapes = "input[N,C,*], weight[C], bias[C] -> [N,C,*] (num_groups divides C)",
    .inputs = {{"input"}, {"weight", .optional = true}, {"bias", .optional = true}},
    GT__ATTRS(group_norm_attrs),
    .args_size = sizeof(row_norm_args),
    .forward = row_norm_forward,
    .backward = row_norm_backward,
    .grad_graph = row_norm_grad_graph,
    .variant = ROW_GROUP,
    GT__CASES("2x4x3 4 4; num_groups=2", "2x6x2x2 6 6; num_groups=3, eps=0.001",
              "3x4; num_groups=2", "3x4 4 4; num_groups=2", "2x6x1 6 6; num_groups=3",
              "2x4x5 _ 4; num_groups=1", "1x3x1x2 3; num_groups=3",
              "2x3x4 3 3; num_groups=2 => group_norm: num_groups 2 must divide the 3 channels "
              "of input [2, 3, 4]",
              "2x4x3 3; num_groups=2 => group_norm: weight must be [4] for input [2, 4, 3], "
              "got [3]",
              "4; num_groups=1 => group_norm: input must be [N,C,*] with at least 2 dims, got [4]",
              "2x4; num_groups=0 => group_norm: num_groups must be >= 1"),
};

gt_tensor *gt_layer_norm(gt_tape *tape, gt_tensor *input, gt_ints normalized_shape,
                         gt_tensor *weight, gt_tensor *bias, double eps) {
    row_norm_args args = {.normalized_shape = normalized_shape, .eps = eps};
    return gt_op_call(tape, &gt_op_layer_norm, (gt_tensor *[]){input, weight, bias}, 3, &args);
}

gt_tensor *gt_group_norm(gt_tape *tape, gt_tensor *input, int64_t num_groups, gt_tensor *weight,
                         gt_tensor *bias, double eps) {
    row_norm_args args = {.num_groups = num_groups, .eps = eps};
    return gt_op_call(tape, &gt_op_group_norm, (gt_tensor *[]){input, weight, bias}, 3, &args);
}
