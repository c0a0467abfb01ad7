/* pool.c - max and average pooling over KxK windows, no padding. */
#include "gt_ops_impl.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

typedef struct pool_dims {
    int64_t planes, h, w, k, stride, oh, ow;
} pool_dims;

/* The arguments of max_pool2d and avg_pool2d; stride None (n = 0) is kernel_size. */
typedef struct pool2d_args {
    int64_t kernel_size;
    gt_ints stride;
} pool2d_args;

static gt_status pool_dims_of(const char *op, const gt_tensor *x, const pool2d_args *args,
                              pool_dims *d) {
    int64_t kernel = args->kernel_size, stride = args->stride.n ? args->stride.v[0] : kernel;
    if (x->ndim != 4)
        return gt_set_error(GT_ERR_SHAPE, "%s: expects x[N,C,H,W], got %s", op,
                            gt__shape_of(x));
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

static gt_tensor *pool_output(const gt_op_def *op, gt_tape *tape, gt_tensor *x,
                              const pool2d_args *args, pool_dims *d) {
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK ||
        pool_dims_of(op->name, x, args, d) != GT_OK)
        return NULL;
    return gt__op_output(tape, op, 4, (int64_t[]){x->shape[0], x->shape[1], d->oh, d->ow});
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
static gt_tensor *max_pool2d_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                     int n_in, const void *args) {
    (void)n_in;
    pool_dims d;
    gt_tensor *x = in[0], *out = pool_output(op, tape, x, args, &d);
    int64_t *argmax = out ? gt__tape_alloc(tape, (size_t)out->numel * sizeof(int64_t),
                                           "max_pool2d") : NULL;
    if (!argmax)
        return NULL;
    maxpool_job job = {&d, x->data, NULL, out->data, argmax, NULL, NULL};
    if (d.k == 2 && d.stride == 2 && d.h % 2 == 0 && d.w % 2 == 0) { /* LeNet's S2, S4 */
        int64_t pairs = d.planes * d.h * d.ow;
        job.pair = gt__tape_alloc(tape, gt__real_bytes(pairs + POOL_VEC), "max_pool2d");
        job.right = job.pair ? gt__tape_alloc(tape, (size_t)pairs + POOL_VEC, "max_pool2d")
                             : NULL;
        if (!job.right)
            return NULL;
    }
    gt__parallel_ranges(d.planes, 1, pool_flops(&d), maxpool_range, &job);
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 1, args, &node);
    if (node)
        node->saved = argmax;
    return out;
}

// g[N,C,OH,OW] -> grad_x[argmax] += g (overlapping windows accumulate)
static gt_status max_pool2d_backward(gt_node *node) {
    pool_dims d;
    gt_status status = pool_dims_of(node->name, node->in[0], node->attrs, &d);
    if (status != GT_OK)
        return status;
    maxpool_job job = {&d, NULL, node->out->grad, node->in[0]->grad, node->saved, NULL, NULL};
    gt__parallel_ranges(d.planes, 1, pool_flops(&d), maxpool_grad_range, &job);
    return GT_OK;
}

// x[N,C,H,W] -> y[N,C,OH,OW] = mean of each window
static gt_tensor *avg_pool2d_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                     int n_in, const void *args) {
    (void)n_in;
    pool_dims d;
    gt_tensor *x = in[0], *out = pool_output(op, tape, x, args, &d);
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
    return gt__op_finish(tape, op, out, in, 1, args, NULL);
}

// g[N,C,OH,OW] -> grad_x[window] += g / (K*K)
static gt_status avg_pool2d_backward(gt_node *node) {
    pool_dims d;
    gt_status status = pool_dims_of(node->name, node->in[0], node->attrs, &d);
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

static const gt_attr_def pool2d_attrs[] = {
    {"kernel_size", GT_ATTR_INT, offsetof(pool2d_args, kernel_size),
     .flags = GT_ATTR_REQUIRED | GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX, .min = 1, .max = 1 << 20,
     .alias = "kernel"},
    {"stride", GT_ATTR_INTS, offsetof(pool2d_args, stride), .max_len = 1,
     .flags = GT_ATTR_OPTIONAL | GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX, .min = 1, .max = 1 << 20},
};

#define POOL_SHAPES "input[N,C,H,W] -> [N,C,(H-kernel_size)/stride+1,(W-kernel_size)/stride+1]"

const gt_op_def gt_op_max_pool2d = {
    .name = "max_pool2d",
    .doc = "max over windows; the gradient goes to the first maximum (a NaN is a maximum)",
    .shapes = POOL_SHAPES,
    .inputs = {{"input", GT_DOMAIN_SPREAD}},
    GT__ATTRS(pool2d_attrs),
    .args_size = sizeof(pool2d_args),
    .forward = max_pool2d_forward,
    .backward = max_pool2d_backward,
    GT__CASES("2x2x4x6; kernel_size=2, stride=2", "1x2x5x4; kernel_size=3, stride=1",
              "2x1x7x7; kernel_size=3, stride=2", "1x1x4x4; kernel_size=2",
              "2x3; kernel_size=2 => max_pool2d: expects x[N,C,H,W], got [2, 3]",
              "1x1x4x4; kernel_size=0 => max_pool2d: kernel_size must be >= 1, got 0",
              "1x1x2x2; kernel_size=3 => max_pool2d: kernel 3 is larger than the input"),
    .alias = "maxpool2d",
};

const gt_op_def gt_op_avg_pool2d = {
    .name = "avg_pool2d",
    .doc = "mean over windows",
    .shapes = POOL_SHAPES,
    .inputs = {{"input"}},
    GT__ATTRS(pool2d_attrs),
    .args_size = sizeof(pool2d_args),
    .forward = avg_pool2d_forward,
    .backward = avg_pool2d_backward,
    GT__CASES("2x3x4x4; kernel_size=2, stride=2", "1x1x5x5; kernel_size=3, stride=1",
              "1x2x5x5; kernel_size=2",
              "2x3x4; kernel_size=2 => avg_pool2d: expects x[N,C,H,W], got [2, 3, 4]",
              "1x1x4x4; kernel_size=2, stride=0 => avg_pool2d: stride must be >= 1, got 0",
              "1x1x4x4 => avg_pool2d: missing argument kernel_size"),
    .alias = "avgpool2d",
};

/* stride 0 means stride = kernel */
static pool2d_args pool_args(int kernel, int stride) {
    return (pool2d_args){kernel, stride ? (gt_ints){1, {stride}} : (gt_ints){0}};
}

gt_tensor *gt_maxpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride) {
    pool2d_args args = pool_args(kernel, stride);
    return gt_op_call(tape, &gt_op_max_pool2d, &x, 1, &args);
}

gt_tensor *gt_avgpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride) {
    pool2d_args args = pool_args(kernel, stride);
    return gt_op_call(tape, &gt_op_avg_pool2d, &x, 1, &args);
}
