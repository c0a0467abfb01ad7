/* pool.c - max and average pooling over KxK windows, no padding. */
#include "gt_ops_impl.h"

#include <math.h>
#include <string.h>

typedef struct pool_dims {
    int64_t planes, h, w, k, stride, oh, ow;
} pool_dims;

static gt_status pool_dims_of(const char *op, const gt_tensor *x, double kernel,
                              double stride, pool_dims *d) {
    if (isnan(stride) || stride == 0)
        stride = kernel;
    if (x->ndim != 4)
        return gt_set_error(GT_ERR_SHAPE, "%s: expects x[N,C,H,W], got %s", op,
                            gt__shape_of(x));
    if (kernel < 1 || kernel > 1e6 || kernel != floor(kernel) || stride < 1 || stride > 1e6 ||
        stride != floor(stride))
        return gt_set_error(GT_ERR_ARG, "%s: kernel and stride must be integers >= 1, got "
                            "kernel=%g stride=%g", op, kernel, stride);
    d->planes = x->shape[0] * x->shape[1];
    d->h = x->shape[2];
    d->w = x->shape[3];
    d->k = (int64_t)kernel;
    d->stride = (int64_t)stride;
    if (d->h < d->k || d->w < d->k)
        return gt_set_error(GT_ERR_SHAPE, "%s: kernel %lld is larger than the input %s", op,
                            (long long)d->k, gt__shape_of(x));
    d->oh = (d->h - d->k) / d->stride + 1;
    d->ow = (d->w - d->k) / d->stride + 1;
    return GT_OK;
}

static gt_tensor *pool_output(gt_op op, gt_tape *tape, gt_tensor *x, const gt_op_args *args,
                              pool_dims *d) {
    const char *name = gt_op_get(op)->name;
    if (gt__check_inputs(name, tape, &x, 1, 1) != GT_OK ||
        pool_dims_of(name, x, args->v[0], args->v[1], d) != GT_OK)
        return NULL;
    return gt__op_output(tape, op, 4, (int64_t[]){x->shape[0], x->shape[1], d->oh, d->ow});
}

static void save_dims(gt_node *node, const pool_dims *d) {
    node->args[0] = (double)d->k;
    node->args[1] = (double)d->stride;
}

/* Whether v replaces the best so far: larger, or a NaN over a number (as PyTorch: a NaN is
 * the maximum of its window). Ties keep the first, so the gradient goes to the first
 * maximum in row-major order. Bitwise, not logical, operators: no branch. */
#define POOL_TAKES(v, best) ((int)((v) > (best)) | ((int)((v) != (v)) & (int)((best) == (best))))

#ifdef GT_REAL_DOUBLE
typedef uint64_t real_bits;
#else
typedef uint32_t real_bits;
#endif

/* take ? yes : no through the bits, which compilers keep branch-free (a branch on random
 * data mispredicts half the time: the 2x2 pool was a seventh of a LeNet step). */
static inline gt_real pick(int take, gt_real yes, gt_real no) {
    real_bits mask = (real_bits)0 - (real_bits)take, a, b;
    memcpy(&a, &yes, sizeof a);
    memcpy(&b, &no, sizeof b);
    real_bits bits = (a & mask) | (b & ~mask);
    gt_real out;
    memcpy(&out, &bits, sizeof out);
    return out;
}

#define POOL_VEC 16 /* lanes of the vertical pass; the slack after the pairs' buffer */

/* The vertical pass over lanes [from, to) of output row q: the larger of the pairs of input
 * rows 2q and 2q + 1. */
static inline void pool_rows(int64_t q, int64_t ow, int64_t w, int64_t from, int64_t to,
                             const gt_real *restrict pair, const uint8_t *restrict right,
                             gt_real *restrict y, int64_t *restrict argmax, int64_t base) {
    const gt_real *top = pair + 2 * q * ow, *bottom = top + ow;
    const uint8_t *right_top = right + 2 * q * ow, *right_bottom = right_top + ow;
    for (int64_t ox = from; ox < to; ox++) {
        int take = POOL_TAKES(bottom[ox], top[ox]);
        int column = right_top[ox] + take * (right_bottom[ox] - right_top[ox]);
        y[q * ow + ox] = pick(take, bottom[ox], top[ox]);
        argmax[q * ow + ox] = base + (2 * q + take) * w + 2 * ox + column;
    }
}

// x[planes,H,W] -> y[planes,H/2,W/2], argmax (+ base), for even H and W: 2x2 windows,
// stride 2, in two passes: the larger of each horizontal pair (x[2t] and x[2t+1] when W is
// even), then the larger of each vertical pair of those, POOL_VEC lanes at a time (a row's
// last lanes spill into the next rows, which overwrite them; the rows at the end are done
// exactly, so neither writes nor reads leave this call's planes)
GT__MULTIVERSION
static void maxpool_2x2_even(int64_t planes, int64_t h, int64_t w, const gt_real *restrict x,
                             gt_real *restrict pair, uint8_t *restrict right,
                             gt_real *restrict y, int64_t *restrict argmax, int64_t base) {
    const int64_t ow = w / 2, rows = planes * h / 2; /* output rows of all planes */
    for (int64_t t = 0; t < planes * h * ow; t++) {
        gt_real a = x[2 * t], b = x[2 * t + 1];
        int take = POOL_TAKES(b, a);
        pair[t] = pick(take, b, a);
        right[t] = (uint8_t)take;
    }
    const int64_t lanes = (ow + POOL_VEC - 1) / POOL_VEC * POOL_VEC;
    int64_t q = 0;
    for (; q * ow + lanes <= rows * ow; q++) /* whole vectors stay inside y */
        for (int64_t x0 = 0; x0 < ow; x0 += POOL_VEC)
            pool_rows(q, ow, w, x0, x0 + POOL_VEC, pair, right, y, argmax, base);
    for (; q < rows; q++)
        pool_rows(q, ow, w, 0, ow, pair, right, y, argmax, base);
}

// x[planes,H,W] -> y[planes,OH,OW], argmax, planes [from, to): any window and stride, the
// first maximum wins
static void maxpool_any(const pool_dims *d, int64_t from, int64_t to, const gt_real *x,
                        gt_real *y, int64_t *argmax) {
    for (int64_t p = from; p < to; p++) {
        const gt_real *plane = x + p * d->h * d->w;
        for (int64_t oy = 0; oy < d->oh; oy++)
            for (int64_t ox = 0; ox < d->ow; ox++) {
                int64_t best = oy * d->stride * d->w + ox * d->stride;
                for (int64_t i = 0; i < d->k; i++)
                    for (int64_t j = 0; j < d->k; j++) {
                        int64_t at = (oy * d->stride + i) * d->w + ox * d->stride + j;
                        if (POOL_TAKES(plane[at], plane[best]))
                            best = at;
                    }
                int64_t o = (p * d->oh + oy) * d->ow + ox;
                y[o] = plane[best];
                argmax[o] = p * d->h * d->w + best;
            }
    }
}

/* A max-pool pass over planes, cut into ranges of planes that threads share on large
 * inputs (a window never leaves its plane, so the ranges are independent). */
typedef struct maxpool_job {
    const pool_dims *d;
    const gt_real *x, *g; /* g: backward only */
    gt_real *y;           /* y, or grad_x */
    int64_t *argmax;
    gt_real *pair;        /* the 2x2 path's buffers, NULL otherwise */
    uint8_t *right;
} maxpool_job;

static void maxpool_range(void *ctx, int64_t from, int64_t to) {
    const maxpool_job *j = ctx;
    const pool_dims *d = j->d;
    if (!j->pair) {
        maxpool_any(d, from, to, j->x, j->y, j->argmax);
        return;
    }
    int64_t in = from * d->h * d->w, pairs = from * d->h * d->ow, out = from * d->oh * d->ow;
    maxpool_2x2_even(to - from, d->h, d->w, j->x + in, j->pair + pairs, j->right + pairs,
                     j->y + out, j->argmax + out, in);
}

// g[planes,OH,OW] -> grad_x[argmax] += g, planes [from, to)
static void maxpool_grad_range(void *ctx, int64_t from, int64_t to) {
    const maxpool_job *j = ctx;
    const int64_t *argmax = j->argmax;
    for (int64_t o = from * j->d->oh * j->d->ow; o < to * j->d->oh * j->d->ow; o++)
        j->y[argmax[o]] += j->g[o];
}

static double pool_flops(const pool_dims *d) {
    return GT__FLOPS_PER_ELEMENT * (double)(d->planes * d->h * d->w);
}

// x[N,C,H,W] -> y[N,C,OH,OW] = max of each window; argmax saved for backward
gt_tensor *gt__maxpool2d_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                                 const gt_op_args *args) {
    (void)n_in;
    pool_dims d;
    gt_tensor *x = in[0], *out = pool_output(GT_OP_MAXPOOL2D, tape, x, args, &d);
    int64_t *argmax = out ? gt__tape_alloc(tape, (size_t)out->numel * sizeof(int64_t),
                                           "maxpool2d") : NULL;
    if (!argmax)
        return NULL;
    maxpool_job job = {&d, x->data, NULL, out->data, argmax, NULL, NULL};
    if (d.k == 2 && d.stride == 2 && d.h % 2 == 0 && d.w % 2 == 0) { /* LeNet's S2, S4 */
        int64_t pairs = d.planes * d.h * d.ow;
        job.pair = gt__tape_alloc(tape, gt__real_bytes(pairs + POOL_VEC), "maxpool2d");
        job.right = job.pair ? gt__tape_alloc(tape, (size_t)pairs + POOL_VEC, "maxpool2d")
                             : NULL;
        if (!job.right)
            return NULL;
    }
    gt__parallel_ranges(d.planes, 1, pool_flops(&d), maxpool_range, &job);
    gt_node *node;
    out = gt__op_finish(tape, GT_OP_MAXPOOL2D, out, in, 1, &node);
    if (node) {
        node->saved = argmax;
        save_dims(node, &d);
    }
    return out;
}

// g[N,C,OH,OW] -> grad_x[argmax] += g (overlapping windows accumulate)
gt_status gt__maxpool2d_backward(gt_node *node) {
    pool_dims d;
    gt_status status = pool_dims_of("maxpool2d", node->in[0], node->args[0], node->args[1], &d);
    if (status != GT_OK)
        return status;
    maxpool_job job = {&d, NULL, node->out->grad, node->in[0]->grad, node->saved, NULL, NULL};
    gt__parallel_ranges(d.planes, 1, pool_flops(&d), maxpool_grad_range, &job);
    return GT_OK;
}

// x[N,C,H,W] -> y[N,C,OH,OW] = mean of each window
gt_tensor *gt__avgpool2d_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                                 const gt_op_args *args) {
    (void)n_in;
    pool_dims d;
    gt_tensor *x = in[0], *out = pool_output(GT_OP_AVGPOOL2D, tape, x, args, &d);
    if (!out)
        return NULL;
    gt_real scale = (gt_real)(1.0 / (double)(d.k * d.k));
    for (int64_t p = 0; p < d.planes; p++) {
        const gt_real *plane = x->data + p * d.h * d.w;
        for (int64_t oy = 0; oy < d.oh; oy++)
            for (int64_t ox = 0; ox < d.ow; ox++) {
                gt_real total = 0;
                for (int64_t i = 0; i < d.k; i++)
                    for (int64_t j = 0; j < d.k; j++)
                        total += plane[(oy * d.stride + i) * d.w + ox * d.stride + j];
                out->data[(p * d.oh + oy) * d.ow + ox] = total * scale;
            }
    }
    gt_node *node;
    out = gt__op_finish(tape, GT_OP_AVGPOOL2D, out, in, 1, &node);
    if (node)
        save_dims(node, &d);
    return out;
}

// g[N,C,OH,OW] -> grad_x[window] += g / (K*K)
gt_status gt__avgpool2d_backward(gt_node *node) {
    pool_dims d;
    gt_status status = pool_dims_of("avgpool2d", node->in[0], node->args[0], node->args[1], &d);
    if (status != GT_OK)
        return status;
    gt_real scale = (gt_real)(1.0 / (double)(d.k * d.k));
    for (int64_t p = 0; p < d.planes; p++) {
        gt_real *plane = node->in[0]->grad + p * d.h * d.w;
        for (int64_t oy = 0; oy < d.oh; oy++)
            for (int64_t ox = 0; ox < d.ow; ox++) {
                gt_real g = node->out->grad[(p * d.oh + oy) * d.ow + ox] * scale;
                for (int64_t i = 0; i < d.k; i++)
                    for (int64_t j = 0; j < d.k; j++)
                        plane[(oy * d.stride + i) * d.w + ox * d.stride + j] += g;
            }
    }
    return GT_OK;
}

gt_tensor *gt_maxpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride) {
    return gt_op_apply(tape, GT_OP_MAXPOOL2D, &x, 1, &(gt_op_args){2, {kernel, stride}});
}

gt_tensor *gt_avgpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride) {
    return gt_op_apply(tape, GT_OP_AVGPOOL2D, &x, 1, &(gt_op_args){2, {kernel, stride}});
}
