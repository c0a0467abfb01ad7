/* activation.c - relu, leaky_relu, sigmoid, tanh, exp, log, and the pointwise math sqrt,
 * rsqrt, abs, erf; softmax and log_softmax over one dim. (elu, gelu, ...: activation_nn.c) */
#include "gt_ops_impl.h"
#include "gt_vmath.h"

#include <math.h>
#include <stddef.h>

typedef enum unary_kind {
    UN_RELU,
    UN_SIGMOID,
    UN_TANH,
    UN_EXP,
    UN_LOG,
    UN_SQRT,
    UN_RSQRT,
    UN_ABS,
    UN_ERF
} unary_kind;

#define TWO_OVER_SQRT_PI ((gt_real)1.1283791670955125738961589031215)


/* One loop per function, so that each vectorises (a switch inside the loop would not). */

// x[n] -> y[n] = f(x)
GT__MULTIVERSION
static void unary_kernel(unary_kind kind, int64_t n, gt_real *restrict y,
                         const gt_real *restrict x) {
    switch (kind) {
    case UN_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : 0;
        break;
    case UN_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = gt__sigmoid(x[i]);
        break;
    case UN_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = gt__tanh(x[i]);
        break;
    case UN_EXP:
        for (int64_t i = 0; i < n; i++)
            y[i] = gt__exp(x[i]);
        break;
    case UN_LOG:
        for (int64_t i = 0; i < n; i++)
            y[i] = log(x[i]);
        break;
    case UN_SQRT:
        for (int64_t i = 0; i < n; i++)
            y[i] = sqrt(x[i]);
        break;
    case UN_RSQRT:
        for (int64_t i = 0; i < n; i++)
            y[i] = 1 / sqrt(x[i]);
        break;
    case UN_ABS:
        for (int64_t i = 0; i < n; i++)
            y[i] = fabs(x[i]);
        break;
    case UN_ERF:
        for (int64_t i = 0; i < n; i++)
            y[i] = (gt_real)erf((double)x[i]);
        break;
    }
}

// g[n], x[n], y[n] = f(x) -> gx[n] += g * f'(x) (add) or = 0 + it (a stale gradient written
// whole, with the bits of adding into zeros), f' from x or y
GT__MULTIVERSION
static void unary_grad_kernel(unary_kind kind, bool add, int64_t n, gt_real *restrict gx,
                              const gt_real *restrict g, const gt_real *restrict x,
                              const gt_real *restrict y) {
    switch (kind) {
    case UN_RELU:
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + (x[i] > 0 ? g[i] : 0);
        break;
    case UN_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + (g[i] * y[i] * (1 - y[i]));
        break;
    case UN_TANH:
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + (g[i] * (1 - y[i] * y[i]));
        break;
    case UN_EXP:
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + (g[i] * y[i]);
        break;
    case UN_LOG:
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + (g[i] / x[i]);
        break;
    case UN_SQRT:
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + (g[i] / (2 * y[i]));
        break;
    case UN_RSQRT: /* d/dx x^(-1/2) = -y^3 / 2 */
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + ((gt_real)-0.5 * g[i] * y[i] * y[i] * y[i]);
        break;
    case UN_ABS: /* sign(x), 0 at 0 as in PyTorch */
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + (x[i] > 0 ? g[i] : x[i] < 0 ? -g[i] : 0);
        break;
    case UN_ERF:
        for (int64_t i = 0; i < n; i++)
            gx[i] = (add ? gx[i] : 0) + (g[i] * TWO_OVER_SQRT_PI * gt__exp_nonpos(-x[i] * x[i]));
        break;
    }
}

/* One unary pass, cut into ranges that threads share on large tensors. */
typedef struct unary_job {
    unary_kind kind;
    bool add;                       /* backward: add into gx, else write it */
    gt_real *out;                   /* y, or gx */
    const gt_real *g, *x, *y;       /* g and y: backward only */
} unary_job;

static void unary_range(void *ctx, int64_t from, int64_t to) {
    const unary_job *j = ctx;
    unary_kernel(j->kind, to - from, j->out + from, j->x + from);
}

static void unary_grad_range(void *ctx, int64_t from, int64_t to) {
    const unary_job *j = ctx;
    unary_grad_kernel(j->kind, j->add, to - from, j->out + from, j->g + from, j->x + from,
                      j->y + from);
}

#define UNARY_ALIGN 64 /* elements: ranges start on whole cache lines of either type */

// x[...] -> f(x)[...]
static gt_tensor *unary_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                int n_in, const void *args) {
    (void)n_in, (void)args;
    unary_kind kind = (unary_kind)op->variant;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    unary_job job = {kind, false, out->data, NULL, x->data, NULL};
    gt__parallel_ranges(x->numel, UNARY_ALIGN, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                        unary_range, &job);
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, NULL, &node);
    if (node)
        node->overwrites = 1u; /* a stale grad_x is written whole (gt__grad_mark_stale) */
    return out;
}

// grad_out[...] -> grad_x[...] += grad_out * f'(x)
static gt_status unary_backward(gt_node *node) {
    unary_kind kind = (unary_kind)gt__node_variant(node);
    gt_tensor *x = node->in[0];
    if (x->grad) {
        unary_job job = {kind, !gt__grad_take_stale(x), x->grad, node->out->grad, x->data,
                         node->out->data};
        gt__parallel_ranges(x->numel, UNARY_ALIGN, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                            unary_grad_range, &job);
    }
    return GT_OK;
}

gt_tensor *gt__slope_mask(gt_tape *tape, const gt_tensor *x, gt_real slope) {
    gt_tensor *m = gt__const_like(tape, x, 1);
    for (int64_t i = 0; m && i < m->numel; i++)
        m->data[i] = x->data[i] > 0 ? 1 : slope;
    return m;
}

// grad_x = g * f'(x), f' written with ops on x or y = f(x)
static gt_status unary_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                  gt_tensor **grad_in) {
    gt_tensor *x = node->in[0], *y = node->out, *d = NULL;
    switch ((unary_kind)gt__node_variant(node)) {
    case UN_RELU: d = gt__slope_mask(tape, x, 0); break;
    case UN_SIGMOID: d = gt_mul(tape, y, gt_sub(tape, gt__const_like(tape, y, 1), y)); break;
    case UN_TANH: d = gt_sub(tape, gt__const_like(tape, y, 1), gt_mul(tape, y, y)); break;
    case UN_EXP: d = y; break;
    case UN_LOG: d = gt_div(tape, gt__const_like(tape, x, 1), x); break;
    case UN_SQRT: d = gt_div(tape, gt__const_like(tape, y, (gt_real)0.5), y); break;
    case UN_RSQRT: d = gt_scale(tape, gt_mul(tape, gt_mul(tape, y, y), y), -0.5); break;
    case UN_ABS: /* the sign of x, 0 at 0 as in PyTorch: a constant */
        d = gt__const_like(tape, x, 0);
        for (int64_t i = 0; d && i < d->numel; i++)
            d->data[i] = (gt_real)((x->data[i] > 0) - (x->data[i] < 0));
        break;
    case UN_ERF: /* 2 / sqrt(pi) * exp(-x^2) */
        d = gt_scale(tape, gt_exp(tape, gt_neg(tape, gt_mul(tape, x, x))), 1.1283791670955126);
        break;
    }
    grad_in[0] = gt_mul(tape, g, d);
    return grad_in[0] ? GT_OK : gt_last_status();
}

/* ---- leaky_relu --------------------------------------------------------------------------- */

/* The arguments of leaky_relu. */
typedef struct leaky_relu_args {
    double negative_slope;
} leaky_relu_args;

// x[n] -> y[n] = x > 0 ? x : negative_slope * x
GT__MULTIVERSION
static void leaky_relu_kernel(int64_t n, gt_real slope, gt_real *restrict y,
                              const gt_real *restrict x) {
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

// g[n], x[n] -> gx[n] += x > 0 ? g : negative_slope * g
GT__MULTIVERSION
static void leaky_relu_grad_kernel(int64_t n, gt_real slope, gt_real *restrict gx,
                                   const gt_real *restrict g, const gt_real *restrict x) {
    for (int64_t i = 0; i < n; i++)
        gx[i] += x[i] > 0 ? g[i] : slope * g[i];
}

static gt_tensor *leaky_relu_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                     int n_in, const void *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    gt_real slope = (gt_real)((const leaky_relu_args *)args)->negative_slope;
    leaky_relu_kernel(x->numel, slope, out->data, x->data);
    return gt__op_finish(tape, op, out, &x, 1, args, NULL);
}

static gt_status leaky_relu_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    gt_real slope = (gt_real)((const leaky_relu_args *)node->attrs)->negative_slope;
    if (x->grad)
        leaky_relu_grad_kernel(x->numel, slope, x->grad, node->out->grad, x->data);
    return GT_OK;
}

/* ---- softmax family: over one dim ------------------------------------------------------ */

enum { SOFTMAX_PLAIN, SOFTMAX_LOG }; /* the variants of softmax and log_softmax */

/* The arguments of softmax and log_softmax. */
typedef struct softmax_args {
    int64_t dim;
} softmax_args;

/* x seen as [outer, k, inner] around dim: rows of k values, inner apart. */
typedef struct softmax_rows {
    int64_t outer, k, inner;
} softmax_rows;

static gt_status softmax_rows_of(const char *op, const gt_tensor *x, int64_t dim,
                                 softmax_rows *r) {
    int rank = x->ndim ? x->ndim : 1;
    if (dim < -rank || dim >= rank)
        return gt_set_error(GT_ERR_ARG, "%s: dim %lld is out of range for shape %s", op,
                            (long long)dim, gt__shape_of(x));
    int axis = (int)(dim < 0 ? dim + rank : dim);
    *r = (softmax_rows){1, x->ndim ? x->shape[axis] : 1, 1};
    for (int d = 0; d < axis; d++)
        r->outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++)
        r->inner *= x->shape[d];
    return GT_OK;
}

/* The rows of a softmax job: x[outer,K,inner] seen as outer * ceil(inner / SOFTMAX_BLOCK)
 * blocks, each SOFTMAX_BLOCK rows wide that lie side by side in memory (inner = 1: one row
 * a block, contiguous). Each block's rows are independent of the others, so the result does
 * not depend on how blocks are split among threads. */
#define SOFTMAX_BLOCK 64

typedef struct softmax_job {
    softmax_rows r;
    bool take_log, add;       /* add: the backward adds into x's gradient, else writes it */
    const gt_real *x, *y, *g; /* forward: x; backward: y (the output) and g (its gradient) */
    gt_real *out;             /* forward: y; backward: x's gradient */
} softmax_job;

// x[K] (contiguous, K >= 1) -> log(sum(exp(x))), max-shifted, in the vectorised exp
GT__MULTIVERSION
static double row_logsumexp(const gt_real *restrict x, int64_t k) {
    gt_real max = gt__lane_max(x, k), e[GT__LANES];
    gt__lanes acc = {0};
    int64_t j = 0;
    for (; j + GT__LANES <= k; j += GT__LANES) {
        for (int l = 0; l < GT__LANES; l++) /* one vector of exps */
            e[l] = gt__exp_nonpos(x[j + l] - max);
        gt__lanes v;
        GT__LOAD_LANES(v, e);
        acc += v;
    }
    double total = 0;
    for (; j < k; j++)
        total += gt__exp_nonpos(x[j] - max);
    return (double)max + (double)gt__log((gt_real)(total + gt__lanes_total(&acc)));
}

/* exported apart from its clones: Clang 14 emits a multiversioned function's resolver only
 * for the calls in its own file */
double gt__row_logsumexp(const gt_real *x, int64_t k) {
    return row_logsumexp(x, k);
}

// n <= GT__LANES short rows x[n][K] (contiguous, 1 <= K < GT__LANES) -> lse[n] =
// log(sum(exp(x))), max-shifted: row l in lane l of one vector (transposed into cols first),
// so that each step is one vector op for all the rows; a row's value does not depend on n
GT__MULTIVERSION
static void short_rows_logsumexp(const gt_real *restrict x, int64_t k, int n,
                                 double *restrict lse) {
    gt_real cols[GT__LANES][GT__LANES] = {{0}}, max[GT__LANES], sum[GT__LANES] = {0};
    for (int l = 0; l < n; l++)
        for (int64_t q = 0; q < k; q++)
            cols[q][l] = x[l * k + q];
    for (int l = 0; l < GT__LANES; l++)
        max[l] = cols[0][l];
    for (int64_t q = 1; q < k; q++)
        for (int l = 0; l < GT__LANES; l++)
            max[l] = cols[q][l] > max[l] ? cols[q][l] : max[l];
    for (int64_t q = 0; q < k; q++)
        for (int l = 0; l < GT__LANES; l++)
            sum[l] += gt__exp_nonpos(cols[q][l] - max[l]);
    for (int l = 0; l < n; l++)
        lse[l] = (double)max[l] + (double)gt__log(sum[l]);
}

/* exported apart from its clones, as gt__row_logsumexp */
void gt__short_rows_logsumexp(const gt_real *x, int64_t k, int n, double *lse) {
    short_rows_logsumexp(x, k, n, lse);
}

// n <= SOFTMAX_BLOCK contiguous rows x[n][K] -> y[n][K]: y = exp(x - max) / sum, or
// x - max - log(sum); each step over all n rows before the next, so that the rows' chains
// (max, exps, sum, reciprocal) overlap where one row at a time waited for each. A NaN in a
// row makes its sum NaN, so the whole row comes out NaN, as in PyTorch
GT__MULTIVERSION
static void softmax_rows_contiguous(const gt_real *restrict x, gt_real *restrict y, int64_t k,
                                    int n, bool take_log) {
    gt_real max[SOFTMAX_BLOCK], scale[SOFTMAX_BLOCK];
    double total[SOFTMAX_BLOCK];
    for (int r = 0; r < n; r++)
        max[r] = gt__lane_max(x + r * k, k);
    for (int r = 0; r < n; r++) { /* the exps and their sum as gt__lane_sum's, in one pass */
        const gt_real *restrict xr = x + r * k;
        gt_real *restrict yr = y + r * k;
        gt__lanes acc = {0};
        int64_t j = 0;
        for (; j + GT__LANES <= k; j += GT__LANES) {
            for (int l = 0; l < GT__LANES; l++)
                yr[j + l] = gt__exp_nonpos(xr[j + l] - max[r]);
            gt__lanes v;
            GT__LOAD_LANES(v, yr + j);
            acc += v;
        }
        double tail = 0;
        for (; j < k; j++)
            tail += (double)(yr[j] = gt__exp_nonpos(xr[j] - max[r]));
        total[r] = tail + gt__lanes_total(&acc);
    }
    for (int r = 0; r < n; r++) /* log: (x - max) first below, exact near the max */
        scale[r] = take_log ? gt__log((gt_real)total[r]) : (gt_real)(1 / total[r]);
    for (int r = 0; r < n; r++) {
        const gt_real *restrict xr = x + r * k;
        gt_real *restrict yr = y + r * k;
        if (take_log)
            for (int64_t j = 0; j < k; j++)
                yr[j] = (xr[j] - max[r]) - scale[r];
        else
            for (int64_t j = 0; j < k; j++)
                yr[j] *= scale[r];
    }
}

// w rows side by side, `step` apart along K: x[K][step] (first w columns) -> y likewise
GT__MULTIVERSION
static void softmax_columns(const gt_real *restrict x, gt_real *restrict y, int64_t k,
                            int64_t step, int w, bool take_log) {
    gt_real max[SOFTMAX_BLOCK], total[SOFTMAX_BLOCK];
    for (int b = 0; b < w; b++)
        max[b] = x[b], total[b] = 0;
    for (int64_t j = 1; j < k; j++)
        for (int b = 0; b < w; b++)
            max[b] = x[j * step + b] > max[b] ? x[j * step + b] : max[b];
    for (int64_t j = 0; j < k; j++)
        for (int b = 0; b < w; b++) {
            gt_real e = gt__exp_nonpos(x[j * step + b] - max[b]);
            y[j * step + b] = e;
            total[b] += e;
        }
    for (int b = 0; b < w; b++)
        total[b] = take_log ? gt__log(total[b]) : 1 / total[b];
    for (int64_t j = 0; j < k; j++)
        for (int b = 0; b < w; b++)
            y[j * step + b] = take_log ? (x[j * step + b] - max[b]) - total[b]
                                       : y[j * step + b] * total[b];
}

static void softmax_forward_range(void *ctx, int64_t from, int64_t to) {
    const softmax_job *job = ctx;
    int64_t k = job->r.k, inner = job->r.inner;
    int64_t blocks = (inner + SOFTMAX_BLOCK - 1) / SOFTMAX_BLOCK;
    for (int64_t b = from; b < to; b++) {
        int64_t o = b / blocks, i = b % blocks * SOFTMAX_BLOCK;
        int64_t at = o * k * inner + i;
        if (inner == 1) { /* up to SOFTMAX_BLOCK rows at once */
            int64_t most = gt__rows_per_block(k, SOFTMAX_BLOCK);
            int n = (int)(to - b < most ? to - b : most);
            softmax_rows_contiguous(job->x + at, job->out + at, k, n, job->take_log);
            b += n - 1;
        } else
            softmax_columns(job->x + at, job->out + at, k, inner,
                            (int)(inner - i < SOFTMAX_BLOCK ? inner - i : SOFTMAX_BLOCK),
                            job->take_log);
    }
}

// n <= SOFTMAX_BLOCK contiguous rows [n][K]: softmax gx += y * (g - sum(g * y)); log_softmax
// gx += g - exp(y) sum(g) (= instead of += when add is false); every row's sum first, so
// that their chains overlap
GT__MULTIVERSION
static void softmax_grad_rows(const gt_real *restrict y, const gt_real *restrict g,
                              gt_real *restrict gx, int64_t k, int n, bool take_log, bool add) {
    gt_real t[SOFTMAX_BLOCK];
    for (int r = 0; r < n; r++) {
        const gt_real *restrict yr = y + r * k, *restrict gr = g + r * k;
        gt__lanes acc = {0};
        double total = 0;
        int64_t j = 0;
        for (; j + GT__LANES <= k; j += GT__LANES) {
            gt__lanes gv, yv;
            GT__LOAD_LANES(gv, gr + j);
            GT__LOAD_LANES(yv, yr + j);
            acc += take_log ? gv : gv * yv;
        }
        for (; j < k; j++)
            total += take_log ? (double)gr[j] : (double)gr[j] * yr[j];
        t[r] = (gt_real)(total + gt__lanes_total(&acc));
    }
    for (int r = 0; r < n; r++) {
        const gt_real *restrict yr = y + r * k, *restrict gr = g + r * k;
        gt_real *restrict gxr = gx + r * k, tr = t[r];
        if (take_log && add)
            for (int64_t j = 0; j < k; j++)
                gxr[j] += gr[j] - gt__exp_nonpos(yr[j]) * tr;
        else if (take_log)
            for (int64_t j = 0; j < k; j++)
                gxr[j] = gr[j] - gt__exp_nonpos(yr[j]) * tr;
        else if (add)
            for (int64_t j = 0; j < k; j++)
                gxr[j] += yr[j] * (gr[j] - tr);
        else
            for (int64_t j = 0; j < k; j++)
                gxr[j] = yr[j] * (gr[j] - tr);
    }
}

// softmax: gx += y * (g - sum(g * y)); log_softmax: gx += g - exp(y) * sum(g), over each row
// (= instead of += when job->add is false)
static void softmax_backward_range(void *ctx, int64_t from, int64_t to) {
    const softmax_job *job = ctx;
    int64_t k = job->r.k, step = job->r.inner;
    for (int64_t row = from; row < to; row++) {
        int64_t o = row / step, at = o * k * step + row % step;
        const gt_real *y = job->y + at, *g = job->g + at;
        gt_real *gx = job->out + at;
        if (step == 1) { /* up to SOFTMAX_BLOCK rows at once */
            int64_t most = gt__rows_per_block(k, SOFTMAX_BLOCK);
            int n = (int)(to - row < most ? to - row : most);
            softmax_grad_rows(y, g, gx, k, n, job->take_log, job->add);
            row += n - 1;
            continue;
        }
        double total = 0;
        for (int64_t j = 0; j < k; j++)
            total += job->take_log ? (double)g[j * step] : (double)g[j * step] * y[j * step];
        gt_real t = (gt_real)total;
        for (int64_t j = 0; j < k; j++) {
            gt_real d = job->take_log ? g[j * step] - gt__exp_nonpos(y[j * step]) * t
                                      : y[j * step] * (g[j * step] - t);
            gx[j * step] = job->add ? gx[j * step] + d : d;
        }
    }
}

// x[outer,K,inner] -> y = x - max - log(sum(exp(x - max))) over K, or its exp for softmax
static gt_tensor *softmax_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                  int n_in, const void *args_ptr) {
    (void)n_in;
    const softmax_args *args = args_ptr;
    gt_tensor *x = in[0];
    softmax_rows r;
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK ||
        softmax_rows_of(op->name, x, args->dim, &r) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    if (r.k) {
        softmax_job job = {r, op->variant == SOFTMAX_LOG, false, x->data, NULL, NULL, out->data};
        int64_t blocks = r.outer * ((r.inner + SOFTMAX_BLOCK - 1) / SOFTMAX_BLOCK);
        gt__parallel_ranges(blocks, 1, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                            softmax_forward_range, &job);
    }
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, args, &node);
    if (node)
        node->overwrites = 1u; /* a stale grad_x is written whole (gt__grad_mark_stale) */
    return out;
}

static gt_status softmax_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    softmax_rows r;
    gt_status status = softmax_rows_of(node->name, x, ((const softmax_args *)node->attrs)->dim, &r);
    if (status != GT_OK)
        return status;
    bool add = !gt__grad_take_stale(x); /* a stale gradient is written whole */
    softmax_job job = {r, gt__node_variant(node) == SOFTMAX_LOG, add, NULL, node->out->data,
                       node->out->grad, x->grad};
    gt__parallel_ranges(r.outer * r.inner, 1, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                        softmax_backward_range, &job);
    return GT_OK;
}

#define ELEMENTWISE_SHAPES "input[...] -> [...]"

/* The entry of a pointwise op of unary_forward: its input is drawn from `domain`. */
#define UNARY_OP_DEF(op_name, op_doc, domain, kind, ...)                                  \
    {.name = op_name, .doc = op_doc, .shapes = ELEMENTWISE_SHAPES,                        \
     .inputs = {{"input", domain}}, .forward = unary_forward, .backward = unary_backward,  \
     .grad_graph = unary_grad_graph,                                                      \
     .variant = kind, GT__CASES(__VA_ARGS__)}

const gt_op_def gt_op_relu = UNARY_OP_DEF(
    "relu", "max(input, 0); the gradient at 0 is 0", GT_DOMAIN_SPREAD, UN_RELU, "3x5",
    "2 2 => relu: takes 1 tensor input, got 2");
const gt_op_def gt_op_sigmoid = UNARY_OP_DEF(
    "sigmoid", "1 / (1 + exp(-input))", GT_DOMAIN_NORMAL, UN_SIGMOID, "2x3x2",
    "2 2 => sigmoid: takes 1 tensor input, got 2");
const gt_op_def gt_op_tanh = UNARY_OP_DEF(
    "tanh", "hyperbolic tangent", GT_DOMAIN_NORMAL, UN_TANH, "9",
    "2 2 => tanh: takes 1 tensor input, got 2");
const gt_op_def gt_op_exp = UNARY_OP_DEF(
    "exp", "e^input", GT_DOMAIN_NORMAL, UN_EXP, "2x2", "2 2 => exp: takes 1 tensor input, got 2");
const gt_op_def gt_op_log = UNARY_OP_DEF(
    "log", "natural logarithm (inputs <= 0 give -inf or NaN, as in C)", GT_DOMAIN_POSITIVE,
    UN_LOG, "3x3", "2 2 => log: takes 1 tensor input, got 2");
const gt_op_def gt_op_sqrt = UNARY_OP_DEF(
    "sqrt", "square root (inputs < 0 give NaN; the gradient at 0 is inf, as in PyTorch)",
    GT_DOMAIN_POSITIVE, UN_SQRT, "3x4", "()", "2 2 => sqrt: takes 1 tensor input, got 2");
const gt_op_def gt_op_rsqrt = UNARY_OP_DEF(
    "rsqrt", "1 / sqrt(input) (inf at 0, NaN below)", GT_DOMAIN_POSITIVE, UN_RSQRT, "3x4",
    "1x5", "2 2 => rsqrt: takes 1 tensor input, got 2");
const gt_op_def gt_op_abs = UNARY_OP_DEF(
    "abs", "|input|; the gradient at 0 is 0", GT_DOMAIN_SPREAD, UN_ABS, "3x5", "2x1x2",
    "2 2 => abs: takes 1 tensor input, got 2");
const gt_op_def gt_op_erf = UNARY_OP_DEF(
    "erf", "the error function 2 / sqrt(pi) * integral of exp(-t^2) from 0 to input",
    GT_DOMAIN_NORMAL, UN_ERF, "3x5", "()", "2 2 => erf: takes 1 tensor input, got 2");

// grad_x = g * (x > 0 ? 1 : negative_slope)
static gt_status leaky_relu_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                       gt_tensor **grad_in) {
    gt_real slope = (gt_real)((const leaky_relu_args *)node->attrs)->negative_slope;
    grad_in[0] = gt_mul(tape, g, gt__slope_mask(tape, node->in[0], slope));
    return grad_in[0] ? GT_OK : gt_last_status();
}

// softmax: grad_x = y * (g - sum(g * y, dim)); log_softmax: g - exp(y) * sum(g, dim)
static gt_status softmax_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                    gt_tensor **grad_in) {
    gt_tensor *y = node->out;
    gt_reduce_args over = {{1, {((const softmax_args *)node->attrs)->dim}}, true};
    if (gt__node_variant(node) == SOFTMAX_LOG) {
        gt_tensor *total = gt_op_call(tape, &gt_op_sum, &g, 1, &over);
        if (!total) /* before exp succeeds, so the cause stays */
            return gt_last_status();
        grad_in[0] = gt_sub(tape, g, gt_mul(tape, gt_exp(tape, y), total));
    } else {
        gt_tensor *gy = gt_mul(tape, g, y);
        gt_tensor *total = gt_op_call(tape, &gt_op_sum, &gy, 1, &over);
        grad_in[0] = gt_mul(tape, y, gt_sub(tape, g, total));
    }
    return grad_in[0] ? GT_OK : gt_last_status();
}

static const gt_attr_def leaky_relu_attrs[] = {
    {"negative_slope", GT_ATTR_FLOAT, offsetof(leaky_relu_args, negative_slope), .dflt = 0.01},
};

const gt_op_def gt_op_leaky_relu = {
    .name = "leaky_relu",
    .doc = "input where input > 0, else negative_slope * input",
    .shapes = ELEMENTWISE_SHAPES,
    .inputs = {{"input", GT_DOMAIN_SPREAD}},
    GT__ATTRS(leaky_relu_attrs),
    .args_size = sizeof(leaky_relu_args),
    .forward = leaky_relu_forward,
    .backward = leaky_relu_backward,
    .grad_graph = leaky_relu_grad_graph,
    GT__CASES("3x5", "2x3x2; negative_slope=0.2", "4; negative_slope=-0.5",
              "2 2 => leaky_relu: takes 1 tensor input, got 2",
              "3; negative_slope=\"big\" => leaky_relu: negative_slope must be a number"),
};

static const gt_attr_def softmax_attrs[] = {
    {"dim", GT_ATTR_INT, offsetof(softmax_args, dim), .dflt = -1, .alias = "axis"},
};

/* The entry of softmax or log_softmax. */
#define SOFTMAX_OP_DEF(op_name, op_doc, kind, ...)                                         \
    {.name = op_name, .doc = op_doc, .shapes = ELEMENTWISE_SHAPES, .inputs = {{"input"}},  \
     GT__ATTRS(softmax_attrs), .args_size = sizeof(softmax_args),                         \
     .forward = softmax_forward, .backward = softmax_backward, .variant = kind,           \
     .grad_graph = softmax_grad_graph,                                                    \
     GT__CASES(__VA_ARGS__)}

const gt_op_def gt_op_softmax = SOFTMAX_OP_DEF(
    "softmax", "exp(input) / sum(exp(input)) over dim, max-shifted", SOFTMAX_PLAIN, "3x5", "4",
    "2x3x4; dim=1", "2x3x4; dim=0", "3x1; dim=0",
    "2x3; dim=2 => softmax: dim 2 is out of range for shape [2, 3]");
const gt_op_def gt_op_log_softmax = SOFTMAX_OP_DEF(
    "log_softmax", "log of softmax over dim, computed stably", SOFTMAX_LOG, "4x3", "2x2x3",
    "2x3x4; dim=1", "3x2; dim=0",
    "2x3; dim=-3 => log_softmax: dim -3 is out of range for shape [2, 3]");

gt_tensor *gt_relu(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_relu, &x, 1, NULL);
}

gt_tensor *gt_leaky_relu(gt_tape *tape, gt_tensor *x, double negative_slope) {
    return gt_op_call(tape, &gt_op_leaky_relu, &x, 1, &(leaky_relu_args){negative_slope});
}

gt_tensor *gt_sigmoid(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_sigmoid, &x, 1, NULL);
}

gt_tensor *gt_tanh(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_tanh, &x, 1, NULL);
}

gt_tensor *gt_exp(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_exp, &x, 1, NULL);
}

gt_tensor *gt_log(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_log, &x, 1, NULL);
}

gt_tensor *gt_sqrt(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_sqrt, &x, 1, NULL);
}

gt_tensor *gt_rsqrt(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_rsqrt, &x, 1, NULL);
}

gt_tensor *gt_abs(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_abs, &x, 1, NULL);
}

gt_tensor *gt_erf(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_erf, &x, 1, NULL);
}

gt_tensor *gt_softmax(gt_tape *tape, gt_tensor *x, int dim) {
    return gt_op_call(tape, &gt_op_softmax, &x, 1, &(softmax_args){dim});
}

gt_tensor *gt_log_softmax(gt_tape *tape, gt_tensor *x, int dim) {
    return gt_op_call(tape, &gt_op_log_softmax, &x, 1, &(softmax_args){dim});
}
