/* pool.c - max and average pooling, 2-D and 1-D (a length L is a [1,L] plane), with
 * padding, dilation (max) and ceil_mode; adaptive average and max pooling (PyTorch's
 * windows [floor(i*in/out), ceil((i+1)*in/out))); and the internal ops that their gradient
 * graphs are made of: avg_pool_backward (linear: its own gradient is the average pool
 * again) and max_pool_scatter / max_pool_gather (the max pools' backward and its adjoint,
 * through the argmax the forward saved). Every kernel works on planes [H,W] (N*C of them)
 * and threads share ranges of planes: a window never leaves its plane. The 2x2 max pool on
 * planes of even sizes (LeNet's) keeps, instead of a 64-bit argmax, a byte per output: the
 * maximum's place in its window (a "window code", 0..3 row-major). The AVX-512 kernels of
 * the max pools' forwards (that one's and any window's) are in pool_avx512.c. */
#include "gt_ops_impl.h"
#include "gt_vmath.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

enum pool_kind { POOL_MAX, POOL_AVG, POOL_ADAPTIVE_MAX, POOL_ADAPTIVE_AVG };
#define POOL_1D 4 /* or'ed into the variant: the 1-D op of the kind */

/* The arguments of every pool op (each op's schema names the ones it takes); the last two
 * are the forward's, for its node: which pool, and the max pools' argmax. */
typedef struct pool_args {
    gt_ints kernel_size, stride, padding, dilation; /* stride None (n = 0): kernel_size */
    bool ceil_mode, count_include_pad;
    gt_ints divisor_override; /* None, or one nonzero integer */
    gt_ints output_size;      /* adaptive pools */
    int variant;              /* enum pool_kind | POOL_1D */
    const int64_t *argmax;    /* max pools: per output element, its input element */
    const uint8_t *window;    /* the 2x2 max pool instead: per output, its window code */
} pool_args;

typedef gt__pool_axis pool_axis; /* one spatial axis (gt_ops_impl.h) */

typedef struct pool_dims {
    int64_t planes;
    pool_axis h, w; /* a 1-D pool: h is the axis of size 1, its window one element */
    int kind;       /* enum pool_kind */
    bool count_include_pad;
    int64_t divisor; /* divisor_override, or 0 */
} pool_dims;

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The output size of a window pool along an axis, as PyTorch's pooling_output_shape: with
 * ceil_mode the last window must start inside the input or the left padding. */
static int64_t axis_out(const pool_axis *a, bool ceil_mode) {
    int64_t span = a->in + 2 * a->p - a->d * (a->k - 1) - 1 + (ceil_mode ? a->s - 1 : 0);
    int64_t out = floor_div(span, a->s) + 1;
    if (ceil_mode && out > 0 && (out - 1) * a->s >= a->in + a->p)
        out--;
    return out;
}

static int64_t ints_at(const gt_ints *v, int i, int64_t none) {
    return v->n == 0 ? none : v->v[v->n == 1 ? 0 : i];
}

/* The planes and windows of a pool of input x, checked as PyTorch checks them; `name` is
 * the op's for messages. */
static gt_status pool_dims_of(const char *name, const gt_tensor *x, const pool_args *args,
                              pool_dims *d) {
    int variant = args->variant, dims = variant & POOL_1D ? 1 : 2;
    d->kind = variant & ~POOL_1D;
    if (x->ndim != dims + 1 && x->ndim != dims + 2)
        return gt_set_error(GT_ERR_SHAPE, "%s: expects input %s, got %s", name,
                            dims == 1 ? "[N,C,L] or [C,L]" : "[N,C,H,W] or [C,H,W]",
                            gt__shape_of(x));
    for (int i = x->ndim - dims - 1; i < x->ndim; i++)
        if (x->shape[i] < 1)
            return gt_set_error(GT_ERR_SHAPE,
                                "%s: expects a non-empty input (only the batch "
                                "may be 0), got %s",
                                name, gt__shape_of(x));
    d->planes = 1;
    for (int i = 0; i < x->ndim - dims; i++)
        d->planes *= x->shape[i];
    d->h = (pool_axis){1, 1, 1, 1, 0, 1};
    pool_axis *axes[2] = {dims == 2 ? &d->h : &d->w, &d->w};
    d->count_include_pad = args->count_include_pad;
    d->divisor = 0;
    for (int i = 0; i < dims; i++) {
        pool_axis *a = axes[i];
        a->in = x->shape[x->ndim - dims + i];
        if (d->kind == POOL_ADAPTIVE_MAX || d->kind == POOL_ADAPTIVE_AVG) {
            *a = (pool_axis){a->in, ints_at(&args->output_size, i, 1), 0, 1, 0, 1};
            continue;
        }
        a->k = ints_at(&args->kernel_size, i, 1);
        a->s = ints_at(&args->stride, i, a->k);
        a->p = ints_at(&args->padding, i, 0);
        a->d = d->kind == POOL_MAX ? ints_at(&args->dilation, i, 1) : 1;
        if (a->p > a->k / 2)
            return gt_set_error(GT_ERR_ARG,
                                "%s: pad should be at most half of kernel size, "
                                "but got pad=%lld and kernel_size=%lld",
                                name, (long long)a->p, (long long)a->k);
        a->out = axis_out(a, args->ceil_mode);
    }
    if (d->h.out < 1 || d->w.out < 1) {
        int64_t c = x->ndim > dims ? x->shape[x->ndim - dims - 1] : 1;
        return gt_set_error(GT_ERR_SHAPE,
                            "%s: Given input size: (%lldx%lldx%lld). Calculated "
                            "output size: (%lldx%lldx%lld). Output size is too small",
                            name, (long long)c, (long long)d->h.in, (long long)d->w.in,
                            (long long)c, (long long)d->h.out, (long long)d->w.out);
    }
    if (d->kind == POOL_AVG && args->divisor_override.n) {
        if (!(d->divisor = args->divisor_override.v[0]))
            return gt_set_error(GT_ERR_ARG, "%s: divisor must be not zero", name);
    }
    return GT_OK;
}

/* The output's shape: x's with the spatial sizes replaced. */
static int pool_out_shape(const gt_tensor *x, const pool_dims *d, int variant, int64_t *shape) {
    int dims = variant & POOL_1D ? 1 : 2;
    memcpy(shape, x->shape, (size_t)x->ndim * sizeof *shape);
    if (dims == 2)
        shape[x->ndim - 2] = d->h.out;
    shape[x->ndim - 1] = d->w.out;
    return x->ndim;
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
 * rows 2q and 2q + 1, and its window code (2 * row + column). */
static inline void pool_rows(int64_t q, int64_t ow, int64_t from, int64_t to,
                             const gt_real *restrict pair, const uint8_t *restrict right,
                             gt_real *restrict y, uint8_t *restrict window) {
    const gt_real *top = pair + 2 * q * ow, *bottom = top + ow;
    const uint8_t *right_top = right + 2 * q * ow, *right_bottom = right_top + ow;
    for (int64_t ox = from; ox < to; ox++) {
        int take = POOL_TAKES(bottom[ox], top[ox]);
        int column = right_top[ox] + take * (right_bottom[ox] - right_top[ox]);
        y[q * ow + ox] = pick(take, bottom[ox], top[ox]);
        window[q * ow + ox] = (uint8_t)(2 * take + column);
    }
}

// x[planes,H,W] -> y[planes,H/2,W/2], window codes, for even H and W: 2x2 windows,
// stride 2, in two passes: the larger of each horizontal pair (x[2t] and x[2t+1] when W is
// even), then the larger of each vertical pair of those, POOL_VEC lanes at a time (a row's
// last lanes spill into the next rows, which overwrite them; the rows at the end are done
// exactly, so neither writes nor reads leave this call's planes)
GT__MULTIVERSION
static void maxpool_2x2_even(int64_t planes, int64_t h, int64_t w, const gt_real *restrict x,
                             gt_real *restrict pair, uint8_t *restrict right, gt_real *restrict y,
                             uint8_t *restrict window) {
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
            pool_rows(q, ow, x0, x0 + POOL_VEC, pair, right, y, window);
    for (; q < rows; q++)
        pool_rows(q, ow, 0, ow, pair, right, y, window);
}

// x[planes,H,W] -> y[planes,OH,OW], argmax, planes [from, to): adaptive windows, each
// output's own; the first maximum (row-major) wins
static void maxpool_adaptive(const pool_dims *d, int64_t from, int64_t to, const gt_real *x,
                             gt_real *y, int64_t *argmax) {
    const int64_t h = d->h.in, w = d->w.in, oh = d->h.out, ow = d->w.out;
    for (int64_t p = from; p < to; p++) {
        const gt_real *plane = x + p * h * w;
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t y0, ny = gt__pool_window(&d->h, oy, &y0, &(int64_t){0});
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t x0, nx = gt__pool_window(&d->w, ox, &x0, &(int64_t){0});
                int64_t best = y0 * w + x0;
                for (int64_t i = 0; i < ny; i++)
                    for (int64_t j = 0; j < nx; j++)
                        if (POOL_TAKES(plane[(y0 + i) * w + x0 + j], plane[best]))
                            best = (y0 + i) * w + x0 + j;
                int64_t o = (p * oh + oy) * ow + ox;
                y[o] = plane[best];
                argmax[o] = p * h * w + best;
            }
        }
    }
}

#define POOL_CHUNK 64 /* outputs of a row that maxpool_any takes at once */

// x[planes,H,W] -> y[planes,OH,OW], argmax (indices into x), planes [from, to): any
// window; taps in the padding never win, the first maximum (row-major) does. The taps are
// the outer loop and up to POOL_CHUNK outputs of a row the inner one, whose running maxima
// are independent: no chain of dependent compares per output, no branch on the data
GT__MULTIVERSION
static void maxpool_any(const pool_dims *d, int64_t from, int64_t to, const gt_real *x, gt_real *y,
                        int64_t *argmax) {
    const int64_t h = d->h.in, w = d->w.in, oh = d->h.out, ow = d->w.out;
    const int64_t sw = d->w.s, kw = d->w.k;
    gt_real top[POOL_CHUNK];
    int64_t best[POOL_CHUNK];
    for (int64_t p = from; p < to; p++) {
        const gt_real *plane = x + p * h * w;
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t y0, ny = gt__pool_window(&d->h, oy, &y0, &(int64_t){0});
            for (int64_t c0 = 0; c0 < ow; c0 += POOL_CHUNK) {
                int64_t n = ow - c0 < POOL_CHUNK ? ow - c0 : POOL_CHUNK;
                for (int64_t k = 0; k < n; k++) { /* from each window's first tap */
                    int64_t x0;
                    gt__pool_window(&d->w, c0 + k, &x0, &(int64_t){0});
                    best[k] = y0 * w + x0, top[k] = plane[best[k]];
                }
                for (int64_t i = 0; i < ny; i++) {
                    int64_t row = (y0 + i * d->h.d) * w;
                    for (int64_t j = 0; j < kw; j++) { /* the outputs whose tap j is inside */
                        int64_t lo, hi, at = row + gt__pool_tap_span(&d->w, c0, n, j, &lo, &hi);
                        for (int64_t k = lo; k < hi; k++) {
                            gt_real v = plane[at + k * sw];
                            int take = POOL_TAKES(v, top[k]);
                            top[k] = take ? v : top[k];
                            best[k] = take ? at + k * sw : best[k];
                        }
                    }
                }
                int64_t o = (p * oh + oy) * ow + c0;
                for (int64_t k = 0; k < n; k++) {
                    y[o + k] = top[k];
                    argmax[o + k] = p * h * w + best[k];
                }
            }
        }
    }
}

/* The divisor of the average over output (oy, ox)'s window. */
static inline gt_real avg_divisor(const pool_dims *d, int64_t ny, int64_t padded_y, int64_t nx,
                                  int64_t padded_x) {
    if (d->divisor)
        return (gt_real)d->divisor;
    return (gt_real)(d->count_include_pad ? padded_y * padded_x : ny * nx);
}

/* The max pool of 2x2 windows, stride 2, on planes of even sizes (LeNet's): windows that
 * tile the input, taken by the fast paths. */
static bool tiles_2x2(const pool_dims *d) {
    const pool_axis *h = &d->h, *w = &d->w;
    return d->kind == POOL_MAX && h->k == 2 && w->k == 2 && h->s == 2 && w->s == 2 && !h->p &&
           !w->p && h->d == 1 && w->d == 1 && h->in % 2 == 0 && w->in % 2 == 0;
}

/* A pass over planes that threads share (gt__parallel_ranges). */
typedef struct pool_job {
    const pool_dims *d;
    const gt_real *x; /* the pass's input */
    gt_real *y;       /* the pass's output (added into by the scatters) */
    int64_t *argmax;  /* max pools (const but for the forward) */
    uint8_t *window;  /* the 2x2 max pool's window codes instead (const but for the forward) */
    gt_real *pair;    /* the portable 2x2 max path's buffers, NULL otherwise */
    uint8_t *right;
    bool simd;        /* the max pools' AVX-512 kernels (pool_avx512.c) */
    bool add; /* the average: add into y (a backward) rather than set it */
} pool_job;

static void maxpool_range(void *ctx, int64_t from, int64_t to) {
    const pool_job *j = ctx;
    const pool_dims *d = j->d;
    if (!j->window) {
        const int64_t plane = d->h.in * d->w.in, out = d->h.out * d->w.out;
        if (!d->w.k)
            maxpool_adaptive(d, from, to, j->x, j->y, j->argmax);
        else if (!j->simd || !gt__maxpool_avx512(&d->h, &d->w, to - from, j->x + from * plane,
                                                 j->y + from * out, j->argmax + from * out,
                                                 from * plane))
            maxpool_any(d, from, to, j->x, j->y, j->argmax);
        return;
    }
    int64_t in = from * d->h.in * d->w.in, pairs = from * d->h.in * d->w.out;
    int64_t out = from * d->h.out * d->w.out;
    if (j->simd)
        gt__maxpool_2x2_avx512((to - from) * d->h.out, d->w.in, j->x + in, j->y + out,
                               j->window + out);
    else
        maxpool_2x2_even(to - from, d->h.in, d->w.in, j->x + in, j->pair + pairs,
                         j->right + pairs, j->y + out, j->window + out);
}

// x[n] -> their sum, in 8 independent partial sums (no chain of n dependent adds)
static inline gt_real span_sum(const gt_real *x, int64_t n) {
    gt_real part[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            part[k] += x[i + k];
    for (; i < n; i++)
        part[0] += x[i];
    return ((part[0] + part[1]) + (part[2] + part[3])) +
           ((part[4] + part[5]) + (part[6] + part[7]));
}

// x[planes,n] -> y[planes] (= or +=) each plane's sum / divisor: the adaptive pool to 1x1
// (a global average pool), each plane in GT__LANES partial sums (gt__lane_sum)
GT__MULTIVERSION
static void plane_means(int64_t planes, int64_t n, const gt_real *restrict x,
                        gt_real *restrict y, gt_real divisor, bool add) {
    for (int64_t p = 0; p < planes; p++)
        y[p] = (add ? y[p] : 0) + (gt_real)gt__lane_sum(x + p * n, n) / divisor;
}

// x[planes,H,W] -> y[planes,OH,OW] (= or +=) the mean of each window, planes [from, to):
// adaptive windows, each output's own, its rows summed as spans (whole rows as one span)
static void avgpool_adaptive(const pool_job *j, int64_t from, int64_t to) {
    const pool_dims *d = j->d;
    const int64_t h = d->h.in, w = d->w.in, oh = d->h.out, ow = d->w.out;
    if (oh == 1 && ow == 1) { /* one window, the whole plane */
        plane_means(to - from, h * w, j->x + from * h * w, j->y + from, avg_divisor(d, h, h, w, w),
                    j->add);
        return;
    }
    for (int64_t p = from; p < to; p++) {
        const gt_real *plane = j->x + p * h * w;
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t y0, py, ny = gt__pool_window(&d->h, oy, &y0, &py);
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t x0, px, nx = gt__pool_window(&d->w, ox, &x0, &px);
                gt_real total = 0;
                if (nx == w)
                    total = span_sum(plane + y0 * w, ny * w);
                for (int64_t i = 0; nx < w && i < ny; i++)
                    total += span_sum(plane + (y0 + i) * w + x0, nx);
                gt_real *at = &j->y[(p * oh + oy) * ow + ox];
                *at = (j->add ? *at : 0) + total / avg_divisor(d, ny, py, nx, px);
            }
        }
    }
}

// x[planes,H,W] -> y[planes,OH,OW] (= or +=) the mean of each window, planes [from, to):
// window pools, the taps outside and up to POOL_CHUNK outputs of a row inside, as
// maxpool_any, so that the sums are independent
GT__MULTIVERSION
static void avgpool_window(const pool_job *j, int64_t from, int64_t to) {
    const pool_dims *d = j->d;
    const int64_t h = d->h.in, w = d->w.in, oh = d->h.out, ow = d->w.out;
    const int64_t sw = d->w.s, kw = d->w.k;
    gt_real total[POOL_CHUNK];
    for (int64_t p = from; p < to; p++) {
        const gt_real *plane = j->x + p * h * w;
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t y0, py, ny = gt__pool_window(&d->h, oy, &y0, &py);
            for (int64_t c0 = 0; c0 < ow; c0 += POOL_CHUNK) {
                int64_t n = ow - c0 < POOL_CHUNK ? ow - c0 : POOL_CHUNK;
                for (int64_t k = 0; k < n; k++)
                    total[k] = 0;
                for (int64_t i = 0; i < ny; i++) {
                    int64_t row = (y0 + i) * w;
                    for (int64_t t = 0; t < kw; t++) { /* the outputs whose tap t is inside */
                        int64_t lo, hi, at = row + gt__pool_tap_span(&d->w, c0, n, t, &lo, &hi);
                        for (int64_t k = lo; k < hi; k++)
                            total[k] += plane[at + k * sw];
                    }
                }
                gt_real *out = j->y + (p * oh + oy) * ow + c0;
                for (int64_t k = 0; k < n; k++) {
                    int64_t x0, px, nx = gt__pool_window(&d->w, c0 + k, &x0, &px);
                    out[k] = (j->add ? out[k] : 0) + total[k] / avg_divisor(d, ny, py, nx, px);
                }
            }
        }
    }
}

/* The average pools the row paths below take: windows without dilation whose output row
 * spans at most POOL_ROW_MAX columns, padding included: (OW - 1) * stride + kernel, from
 * column -padding. */
#define POOL_ROW_MAX 512

static int64_t avg_row_span(const pool_dims *d) { return (d->w.out - 1) * d->w.s + d->w.k; }

/* The input columns some window of a row reads: the first min(W, span - padding). */
static int64_t avg_row_reads(const pool_dims *d) {
    int64_t reach = avg_row_span(d) - d->w.p;
    return d->w.in < reach ? d->w.in : reach;
}

static bool avg_rows_fit(const pool_dims *d) {
    return d->w.k && d->h.d == 1 && d->w.d == 1 && avg_row_span(d) <= POOL_ROW_MAX;
}

/* Each output column's window across (taps inside, and counting padding), for the divisors. */
static void avg_columns(const pool_dims *d, int64_t *nx, int64_t *px) {
    for (int64_t ox = 0; ox < d->w.out; ox++) {
        int64_t x0;
        nx[ox] = gt__pool_window(&d->w, ox, &x0, &px[ox]);
    }
}

// x[planes,H,W] -> y[planes,OH,OW] (= or +=) the mean of each window, planes [from, to)
// (avg_rows_fit): per output row, the window's input rows summed down into one padded row
// (span columns from -padding, zeros outside the input), then each output's taps summed
// across it: every addition a vector's work or a short row's, none of a window's bounds
// tested per tap
GT__MULTIVERSION
static void avgpool_rows(const pool_job *j, int64_t from, int64_t to) {
    const pool_dims *d = j->d;
    const int64_t h = d->h.in, w = d->w.in, oh = d->h.out, ow = d->w.out;
    const int64_t sw = d->w.s, pw = d->w.p, kw = d->w.k, span = avg_row_span(d);
    const int64_t cols = avg_row_reads(d);
    int64_t nx[POOL_ROW_MAX], px[POOL_ROW_MAX];
    gt_real down[POOL_ROW_MAX], across[POOL_ROW_MAX], total[POOL_ROW_MAX];
    avg_columns(d, nx, px);
    for (int64_t p = from; p < to; p++) {
        const gt_real *plane = j->x + p * h * w;
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t y0, py, ny = gt__pool_window(&d->h, oy, &y0, &py);
            for (int64_t c = 0; c < span; c++)
                down[c] = 0;
            for (int64_t i = 0; i < ny; i++) {
                const gt_real *row = plane + (y0 + i) * w;
                for (int64_t c = 0; c < cols; c++)
                    down[pw + c] += row[c];
            }
            /* the taps' sums at every column (unit strides), then every stride-th */
            for (int64_t c = 0; c + kw <= span; c++)
                across[c] = 0;
            for (int64_t t = 0; t < kw; t++)
                for (int64_t c = 0; c + kw <= span; c++)
                    across[c] += down[c + t];
            for (int64_t ox = 0; ox < ow; ox++)
                total[ox] = across[ox * sw] / avg_divisor(d, ny, py, nx[ox], px[ox]);
            gt_real *out = j->y + (p * oh + oy) * ow;
            if (j->add)
                for (int64_t ox = 0; ox < ow; ox++)
                    out[ox] += total[ox];
            else
                for (int64_t ox = 0; ox < ow; ox++)
                    out[ox] = 0 + total[ox]; /* 0 + : a -0 mean is +0, as it was */
        }
    }
}

static void avgpool_range(void *ctx, int64_t from, int64_t to) {
    const pool_job *j = ctx;
    if (avg_rows_fit(j->d))
        avgpool_rows(j, from, to);
    else
        (j->d->w.k ? avgpool_window : avgpool_adaptive)(j, from, to);
}

// g[planes,OH,OW] -> grad_x[planes,H,W] += g / divisor over each window, planes [from, to)
// (avg_rows_fit): avgpool_rows backwards, each output row's gradients spread across one
// padded row, then added down into the window's input rows
GT__MULTIVERSION
static void avgpool_grad_rows(const pool_job *j, int64_t from, int64_t to) {
    const pool_dims *d = j->d;
    const int64_t h = d->h.in, w = d->w.in, oh = d->h.out, ow = d->w.out;
    const int64_t sw = d->w.s, pw = d->w.p, kw = d->w.k, span = avg_row_span(d);
    const int64_t cols = avg_row_reads(d);
    int64_t nx[POOL_ROW_MAX], px[POOL_ROW_MAX];
    gt_real across[POOL_ROW_MAX], share[POOL_ROW_MAX];
    avg_columns(d, nx, px);
    for (int64_t p = from; p < to; p++) {
        gt_real *plane = j->y + p * h * w;
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t y0, py, ny = gt__pool_window(&d->h, oy, &y0, &py);
            const gt_real *g = j->x + (p * oh + oy) * ow;
            for (int64_t ox = 0; ox < ow; ox++)
                share[ox] = g[ox] / avg_divisor(d, ny, py, nx[ox], px[ox]);
            for (int64_t c = 0; c < span; c++)
                across[c] = 0;
            for (int64_t t = 0; t < kw; t++)
                for (int64_t ox = 0; ox < ow; ox++)
                    across[ox * sw + t] += share[ox];
            for (int64_t i = 0; i < ny; i++) {
                gt_real *row = plane + (y0 + i) * w;
                for (int64_t c = 0; c < cols; c++)
                    row[c] += across[pw + c];
            }
        }
    }
}

// g[planes,OH,OW] -> grad_x[planes,H,W] += g / divisor over each window, planes [from, to)
static void avgpool_grad_range(void *ctx, int64_t from, int64_t to) {
    const pool_job *j = ctx;
    const pool_dims *d = j->d;
    if (avg_rows_fit(d)) {
        avgpool_grad_rows(j, from, to);
        return;
    }
    const int64_t h = d->h.in, w = d->w.in, oh = d->h.out, ow = d->w.out;
    for (int64_t p = from; p < to; p++) {
        gt_real *plane = j->y + p * h * w;
        for (int64_t oy = 0; oy < oh; oy++) {
            int64_t y0, py, ny = gt__pool_window(&d->h, oy, &y0, &py);
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t x0, px, nx = gt__pool_window(&d->w, ox, &x0, &px);
                gt_real g = j->x[(p * oh + oy) * ow + ox] / avg_divisor(d, ny, py, nx, px);
                for (int64_t i = 0; i < ny; i++)
                    for (int64_t k = 0; k < nx; k++)
                        plane[(y0 + i) * w + x0 + k] += g;
            }
        }
    }
}

// g[planes,H/2,W/2] -> grad_x[planes,H,W] = 0 + g at each 2x2 window's maximum, 0 at its
// other three, planes [from, to): the windows tile the input, so a stale (zero) gradient is
// written whole instead of zeroed and added into (the same bits: 0 + g, as the scatter
// gives, makes a -0 gradient +0). Zeros first, a pass in vectors over memory that stays in
// the cache, then the stores at the maxima, each window code's offset from a table (a branch
// per element on where the maximum of random data lies would mispredict half the time, and
// writing each window's four values in turn was slower still)
GT__MULTIVERSION
static void scatter_2x2_write(int64_t planes, int64_t h, int64_t w, const gt_real *restrict g,
                              const uint8_t *restrict window, gt_real *restrict gx) {
    const int64_t ow = w / 2, offset[4] = {0, 1, w, w + 1};
    for (int64_t i = 0; i < planes * h * w; i++)
        gx[i] = 0;
    for (int64_t q = 0; q < planes * (h / 2); q++) {
        gt_real *top = gx + 2 * q * w;
        for (int64_t ox = 0; ox < ow; ox++)
            top[2 * ox + offset[window[q * ow + ox] & 3]] = 0 + g[q * ow + ox];
    }
}

static void scatter_2x2_range(void *ctx, int64_t from, int64_t to) {
    const pool_job *j = ctx;
    const pool_dims *d = j->d;
    int64_t in = from * d->h.in * d->w.in, out = from * d->h.out * d->w.out;
    if (j->simd)
        gt__maxpool_2x2_grad_avx512((to - from) * d->h.out, d->w.in, j->x + out,
                                    j->window + out, j->y + in);
    else
        scatter_2x2_write(to - from, d->h.in, d->w.in, j->x + out, j->window + out, j->y + in);
}

/* The input element of output o's maximum: its argmax, or from its 2x2 window's code. */
static inline int64_t max_index(const pool_job *j, int64_t o) {
    if (!j->window)
        return j->argmax[o];
    const int64_t ow = j->d->w.out, q = o / ow, ox = o - q * ow, code = j->window[o];
    return (2 * q + (code >> 1)) * j->d->w.in + 2 * ox + (code & 1);
}

// g[planes,OH,OW] -> grad_x[argmax] += g, planes [from, to) (windows may overlap)
static void scatter_range(void *ctx, int64_t from, int64_t to) {
    const pool_job *j = ctx;
    const int64_t per = j->d->h.out * j->d->w.out;
    for (int64_t o = from * per; o < to * per; o++)
        j->y[max_index(j, o)] += j->x[o];
}

// v[planes,H,W] -> y[planes,OH,OW] += v[argmax], planes [from, to)
static void gather_range(void *ctx, int64_t from, int64_t to) {
    const pool_job *j = ctx;
    const int64_t per = j->d->h.out * j->d->w.out;
    for (int64_t o = from * per; o < to * per; o++)
        j->y[o] += j->x[max_index(j, o)];
}

static double pool_flops(const pool_dims *d) {
    return GT__FLOPS_PER_ELEMENT * (double)(d->planes * d->h.in * d->w.in);
}

static void pool_run(const pool_dims *d, void (*fn)(void *, int64_t, int64_t), pool_job *job) {
    gt__parallel_ranges(d->planes, 1, pool_flops(d), fn, job);
}

/* The 2x2 max pool's AVX-512 kernels run: the GEMM's path is avx512 and the build has them
 * (rows = 0: they compute nothing and tell whether they exist). */
static bool pool_avx512(void) {
    return gt__simd_avx512() && gt__maxpool_2x2_avx512(0, 2, NULL, NULL, NULL);
}

/* A pass from x to y through a max pool's saved argmax or window codes (args). */
static pool_job max_job(const pool_dims *d, const gt_real *x, gt_real *y, const void *args_ptr) {
    const pool_args *args = args_ptr;
    return (pool_job){.d = d, .x = x, .y = y, .argmax = (int64_t *)args->argmax,
                      .window = (uint8_t *)args->window, .simd = args->window && pool_avx512()};
}

/* ---- the internal ops of the gradient graphs ------------------------------------------ */

static const gt_op_def avg_pool_backward_op, max_pool_scatter_op, max_pool_gather_op;
static const gt_op_def *pool_op_of(int variant);

/* A zeroed output of `like`'s shape, for the internal ops, which add into it. */
static gt_tensor *zeroed_output(gt_tape *tape, const gt_op_def *op, const gt_tensor *like) {
    gt_tensor *out = gt__op_output(tape, op, like->ndim, like->shape);
    if (out && out->numel)
        memset(out->data, 0, gt__real_bytes(out->numel));
    return out;
}

/* The dims of an internal op's pool from a tensor of the pool's input shape, after checking
 * the pool's output shape against `pooled`. */
static gt_status internal_dims(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                               const gt_tensor *input_like, const gt_tensor *pooled,
                               const pool_args *args, pool_dims *d) {
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK ||
        pool_dims_of(op->name, input_like, args, d) != GT_OK)
        return gt_last_status();
    int64_t shape[GT_MAX_DIMS];
    int ndim = pool_out_shape(input_like, d, args->variant, shape);
    if (ndim != pooled->ndim || memcmp(shape, pooled->shape, (size_t)ndim * sizeof *shape))
        return gt_set_error(GT_ERR_SHAPE, "%s: %s does not pool %s", op->name, gt__shape_of(pooled),
                            gt__shape_of(input_like));
    return GT_OK;
}

// grad_output[*,OH,OW], input[*,H,W] (its shape only) -> grad_input[*,H,W]: each gradient
// spread over its window / divisor: the average pool's backward, linear in grad_output
static gt_tensor *avg_pool_backward_forward(const gt_op_def *op, gt_tape *tape,
                                            gt_tensor *const *in, int n_in, const void *args) {
    (void)n_in;
    pool_dims d;
    if (internal_dims(op, tape, in, in[1], in[0], args, &d) != GT_OK)
        return NULL;
    gt_tensor *out = zeroed_output(tape, op, in[1]);
    if (!out)
        return NULL;
    pool_job job = {&d, in[0]->data, out->data};
    pool_run(&d, avgpool_grad_range, &job);
    return gt__op_finish(tape, op, out, in, 1, args, NULL); /* input[1] gives a shape only */
}

// its adjoint is the average pool: grad_grad_output += avg_pool(g)
static gt_status avg_pool_backward_backward(gt_node *node) {
    pool_dims d;
    if (pool_dims_of(node->name, node->out, node->attrs, &d) != GT_OK)
        return gt_last_status();
    pool_job job = {&d, node->out->grad, node->in[0]->grad, .add = true};
    pool_run(&d, avgpool_range, &job);
    return GT_OK;
}

static gt_status avg_pool_backward_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                              gt_tensor **grad_in) {
    const pool_args *args = node->attrs;
    grad_in[0] = gt_op_call(tape, pool_op_of(args->variant), &g, 1, args);
    return grad_in[0] ? GT_OK : gt_last_status();
}

// grad_output[*,OH,OW], input[*,H,W] (its shape only) -> grad_input[*,H,W]: each gradient
// added at its window's argmax: the max pools' backward, linear in grad_output
static gt_tensor *max_pool_scatter_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                           int n_in, const void *args) {
    (void)n_in;
    pool_dims d;
    if (internal_dims(op, tape, in, in[1], in[0], args, &d) != GT_OK)
        return NULL;
    gt_tensor *out = zeroed_output(tape, op, in[1]);
    if (!out)
        return NULL;
    pool_job job = max_job(&d, in[0]->data, out->data, args);
    pool_run(&d, scatter_range, &job);
    return gt__op_finish(tape, op, out, in, 1, args, NULL);
}

// values[*,H,W], like[*,OH,OW] (its shape only) -> [*,OH,OW] = values at the argmax: the
// scatter's adjoint
static gt_tensor *max_pool_gather_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                          int n_in, const void *args) {
    (void)n_in;
    pool_dims d;
    if (internal_dims(op, tape, in, in[0], in[1], args, &d) != GT_OK)
        return NULL;
    gt_tensor *out = zeroed_output(tape, op, in[1]);
    if (!out)
        return NULL;
    pool_job job = max_job(&d, in[0]->data, out->data, args);
    pool_run(&d, gather_range, &job);
    return gt__op_finish(tape, op, out, in, 1, args, NULL);
}

// scatter: grad_grad_output += grad_input's gradient at the argmax (a gather)
static gt_status max_pool_scatter_backward(gt_node *node) {
    const pool_args *args = node->attrs;
    pool_dims d;
    if (pool_dims_of(node->name, node->out, args, &d) != GT_OK)
        return gt_last_status();
    pool_job job = max_job(&d, node->out->grad, node->in[0]->grad, args);
    pool_run(&d, gather_range, &job);
    return GT_OK;
}

// gather: grad_values[argmax] += g (a scatter)
static gt_status max_pool_gather_backward(gt_node *node) {
    const pool_args *args = node->attrs;
    pool_dims d;
    if (pool_dims_of(node->name, node->in[0], args, &d) != GT_OK)
        return gt_last_status();
    pool_job job = max_job(&d, node->out->grad, node->in[0]->grad, args);
    pool_run(&d, scatter_range, &job);
    return GT_OK;
}

static gt_status max_pool_scatter_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                             gt_tensor **grad_in) {
    grad_in[0] =
        gt_op_call(tape, &max_pool_gather_op, (gt_tensor *[]){g, node->in[0]}, 2, node->attrs);
    return grad_in[0] ? GT_OK : gt_last_status();
}

static gt_status max_pool_gather_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                            gt_tensor **grad_in) {
    grad_in[0] =
        gt_op_call(tape, &max_pool_scatter_op, (gt_tensor *[]){g, node->in[0]}, 2, node->attrs);
    return grad_in[0] ? GT_OK : gt_last_status();
}

/* Not in the table (no names, no cases of their own): the pools' gradient-graph suites
 * differentiate them. */
static const gt_op_def avg_pool_backward_op = {
    .name = "avg_pool_backward",
    .doc = "the average pools' backward",
    .inputs = {{"grad_output"}, {"input", .no_grad = true}},
    .args_size = sizeof(pool_args),
    .forward = avg_pool_backward_forward,
    .backward = avg_pool_backward_backward,
    .grad_graph = avg_pool_backward_grad_graph,
};

static const gt_op_def max_pool_scatter_op = {
    .name = "max_pool_backward",
    .doc = "the max pools' backward: gradients added at the argmax",
    .inputs = {{"grad_output"}, {"input", .no_grad = true}},
    .args_size = sizeof(pool_args),
    .forward = max_pool_scatter_forward,
    .backward = max_pool_scatter_backward,
    .grad_graph = max_pool_scatter_grad_graph,
};

static const gt_op_def max_pool_gather_op = {
    .name = "max_pool_gather",
    .doc = "values at the max pools' argmax",
    .inputs = {{"input"}, {"like", .no_grad = true}},
    .args_size = sizeof(pool_args),
    .forward = max_pool_gather_forward,
    .backward = max_pool_gather_backward,
    .grad_graph = max_pool_gather_grad_graph,
};

/* ---- the pools ------------------------------------------------------------------------ */

// input[*,H,W] -> [*,OH,OW]: the max (with argmax) or the mean of each window
static gt_tensor *pool_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in, int n_in,
                               const void *args_in) {
    (void)n_in;
    pool_args args = *(const pool_args *)args_in;
    args.variant = op->variant;
    args.argmax = NULL;
    args.window = NULL;
    gt_tensor *x = in[0];
    pool_dims d;
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK ||
        pool_dims_of(op->name, x, &args, &d) != GT_OK)
        return NULL;
    int64_t shape[GT_MAX_DIMS];
    gt_tensor *out = gt__op_output(tape, op, pool_out_shape(x, &d, args.variant, shape), shape);
    if (!out)
        return NULL;
    pool_job job = {&d, x->data, out->data};
    if (d.kind == POOL_AVG || d.kind == POOL_ADAPTIVE_AVG) {
        pool_run(&d, avgpool_range, &job);
        return gt__op_finish(tape, op, out, in, 1, &args, NULL);
    }
    if (tiles_2x2(&d)) { /* LeNet's: window codes, 16 bytes of slack for the AVX-512 reads */
        if (!(job.window = gt__tape_alloc(tape, (size_t)out->numel + 16, op->name)))
            return NULL;
        memset(job.window + out->numel, 0, 16);
        job.simd = pool_avx512();
    } else if (!(job.argmax =
                     gt__tape_alloc(tape, (size_t)out->numel * sizeof(int64_t), op->name))) {
        return NULL;
    } else {
        job.simd = pool_avx512();
    }
    if (job.window && !job.simd) {
        const pool_axis *h = &d.h, *w = &d.w;
        int64_t pairs = d.planes * h->in * w->out;
        size_t pair_bytes = gt__real_bytes(pairs + POOL_VEC);
        if (!(job.pair = gt__tape_forward_scratch(tape, pair_bytes + (size_t)pairs + POOL_VEC,
                                                  op->name)))
            return NULL;
        job.right = (uint8_t *)job.pair + pair_bytes;
    }
    pool_run(&d, maxpool_range, &job);
    args.argmax = job.argmax;
    args.window = job.window;
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 1, &args, &node);
    if (node && job.window) /* a stale grad_input is written whole (gt__grad_mark_stale) */
        node->overwrites = 1u;
    return out;
}

// g[*,OH,OW] -> grad_input[*,H,W] += g at the argmax, or spread over the window / divisor
static gt_status pool_backward(gt_node *node) {
    const pool_args *args = node->attrs;
    pool_dims d;
    if (pool_dims_of(node->name, node->in[0], args, &d) != GT_OK)
        return gt_last_status();
    pool_job job = max_job(&d, node->out->grad, node->in[0]->grad, args);
    if ((node->overwrites & 1u) && gt__grad_take_stale(node->in[0]))
        pool_run(&d, scatter_2x2_range, &job);
    else
        pool_run(&d, args->argmax || args->window ? scatter_range : avgpool_grad_range, &job);
    return GT_OK;
}

static gt_status pool_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g, gt_tensor **grad_in) {
    const pool_args *args = node->attrs;
    grad_in[0] = gt_op_call(tape, args->argmax || args->window ? &max_pool_scatter_op
                                                               : &avg_pool_backward_op,
                            (gt_tensor *[]){g, node->in[0]}, 2, args);
    return grad_in[0] ? GT_OK : gt_last_status();
}

#define INTS_ATTR(attr_name, field, len, lo, ...)                                              \
    {                                                                                          \
        attr_name, GT_ATTR_INTS, offsetof(pool_args, field),                                   \
            .max_len = len, .flags = GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX __VA_ARGS__, .min = lo, \
            .max = 1 << 20                                                                     \
    }

static const gt_attr_def max_pool2d_attrs[] = {
    INTS_ATTR("kernel_size", kernel_size, 2, 1, | GT_ATTR_REQUIRED, .alias = "kernel"),
    INTS_ATTR("stride", stride, 2, 1, | GT_ATTR_OPTIONAL),
    INTS_ATTR("padding", padding, 2, 0, , .dflt_ints = {1, {0}}),
    INTS_ATTR("dilation", dilation, 2, 1, , .dflt_ints = {1, {1}}),
    {"ceil_mode", GT_ATTR_BOOL, offsetof(pool_args, ceil_mode)},
};

static const gt_attr_def avg_pool2d_attrs[] = {
    INTS_ATTR("kernel_size", kernel_size, 2, 1, | GT_ATTR_REQUIRED, .alias = "kernel"),
    INTS_ATTR("stride", stride, 2, 1, | GT_ATTR_OPTIONAL),
    INTS_ATTR("padding", padding, 2, 0, , .dflt_ints = {1, {0}}),
    {"ceil_mode", GT_ATTR_BOOL, offsetof(pool_args, ceil_mode)},
    {"count_include_pad", GT_ATTR_BOOL, offsetof(pool_args, count_include_pad), .dflt = 1},
    {"divisor_override", GT_ATTR_INTS, offsetof(pool_args, divisor_override), .max_len = 1,
     .flags = GT_ATTR_OPTIONAL},
};

static const gt_attr_def max_pool1d_attrs[] = {
    INTS_ATTR("kernel_size", kernel_size, 1, 1, | GT_ATTR_REQUIRED),
    INTS_ATTR("stride", stride, 1, 1, | GT_ATTR_OPTIONAL),
    INTS_ATTR("padding", padding, 1, 0, , .dflt_ints = {1, {0}}),
    INTS_ATTR("dilation", dilation, 1, 1, , .dflt_ints = {1, {1}}),
    {"ceil_mode", GT_ATTR_BOOL, offsetof(pool_args, ceil_mode)},
};

static const gt_attr_def avg_pool1d_attrs[] = {
    INTS_ATTR("kernel_size", kernel_size, 1, 1, | GT_ATTR_REQUIRED),
    INTS_ATTR("stride", stride, 1, 1, | GT_ATTR_OPTIONAL),
    INTS_ATTR("padding", padding, 1, 0, , .dflt_ints = {1, {0}}),
    {"ceil_mode", GT_ATTR_BOOL, offsetof(pool_args, ceil_mode)},
    {"count_include_pad", GT_ATTR_BOOL, offsetof(pool_args, count_include_pad), .dflt = 1},
};

static const gt_attr_def adaptive_attrs[] = {
    INTS_ATTR("output_size", output_size, 2, 1, | GT_ATTR_REQUIRED),
};

#define POOL2D_SHAPES                                                                           \
    "input[N,C,H,W] or [C,H,W] -> [N,C,OH,OW], OH = (H + 2*padding - dilation*(kernel_size-1) " \
    "- 1) / stride + 1 (rounded up with ceil_mode), OW alike"
#define POOL1D_SHAPES                                                                           \
    "input[N,C,L] or [C,L] -> [N,C,OL], OL = (L + 2*padding - dilation*(kernel_size-1) - 1) / " \
    "stride + 1 (rounded up with ceil_mode)"
#define AVG2D_SHAPES                                                                             \
    "input[N,C,H,W] or [C,H,W] -> [N,C,OH,OW], OH = (H + 2*padding - kernel_size) / stride + 1 " \
    "(rounded up with ceil_mode), OW alike"
#define AVG1D_SHAPES                                                                      \
    "input[N,C,L] or [C,L] -> [N,C,OL], OL = (L + 2*padding - kernel_size) / stride + 1 " \
    "(rounded up with ceil_mode)"
#define ADAPTIVE_SHAPES "input[N,C,H,W] or [C,H,W] -> [N,C,output_size[0],output_size[1]]"
#define POOL_OP(op_name, op_alias, op_doc, op_shapes, kind_bits, attrs, ...)                       \
    {                                                                                              \
        .name = op_name, .alias = op_alias, .doc = op_doc, .shapes = op_shapes,                    \
        .inputs = {{"input", GT_DOMAIN_SPREAD}}, GT__ATTRS(attrs), .args_size = sizeof(pool_args), \
        .forward = pool_forward, .backward = pool_backward, .grad_graph = pool_grad_graph,         \
        .variant = kind_bits, GT__CASES(__VA_ARGS__)                                               \
    }

const gt_op_def gt_op_max_pool2d = POOL_OP(
    "max_pool2d", "maxpool2d",
    "max over windows (padding never wins); the gradient goes to the first maximum (a NaN is "
    "a maximum)",
    POOL2D_SHAPES, POOL_MAX, max_pool2d_attrs, "2x2x4x6; kernel_size=2, stride=2",
    "1x2x5x4; kernel_size=3, stride=1", "2x1x7x7; kernel_size=3, stride=2",
    "1x1x4x4; kernel_size=2", "2x7x7; kernel_size=3, stride=2, padding=1",
    "1x2x6x7; kernel_size=[3, 2], stride=[2, 1], padding=[1, 0], dilation=[1, 2]",
    "1x1x5x5; kernel_size=2, stride=2, ceil_mode=True",
    "1x1x5x5; kernel_size=2, stride=2, padding=1, ceil_mode=True",
    "1x1x7x5; kernel_size=3, dilation=2", "1x1x6x9; kernel_size=3, stride=2, padding=1, dilation=2",
    "1x1x3x140; kernel_size=3, stride=2, padding=1",
    "2x3; kernel_size=2 => max_pool2d: expects input [N,C,H,W] or [C,H,W], got [2, 3]",
    "1x1x4x4; kernel_size=0 => max_pool2d: kernel_size must be >= 1, got 0",
    "1x1x2x2; kernel_size=3 => max_pool2d: Given input size: (1x2x2). Calculated output "
    "size: (1x0x0). Output size is too small",
    "1x1x5x5; kernel_size=3, padding=2 => max_pool2d: pad should be at most half of kernel "
    "size, but got pad=2 and kernel_size=3",
    "1x1x5x5; kernel_size=[2, 2, 2] => max_pool2d: kernel_size takes 1 to 2 integers, got 3",
    "1x1x5x5; kernel_size=2, dilation=0 => max_pool2d: dilation must be >= 1, got 0",
    "1x0x5x5; kernel_size=2 => max_pool2d: expects a non-empty input");

const gt_op_def gt_op_avg_pool2d = POOL_OP(
    "avg_pool2d", "avgpool2d",
    "mean over windows: the window's size counts the padding (count_include_pad) or not, or "
    "divisor_override divides",
    AVG2D_SHAPES, POOL_AVG, avg_pool2d_attrs, "2x3x4x4; kernel_size=2, stride=2",
    "1x1x5x5; kernel_size=3, stride=1", "1x2x5x5; kernel_size=2",
    "2x5x5; kernel_size=3, stride=2, padding=1",
    "1x2x5x6; kernel_size=[3, 2], stride=[2, 1], padding=[1, 1], count_include_pad=False",
    "1x1x5x5; kernel_size=2, stride=2, padding=1, ceil_mode=True",
    "1x1x6x6; kernel_size=3, stride=2, ceil_mode=True",
    "1x1x6x6; kernel_size=3, stride=2, ceil_mode=True, count_include_pad=False",
    "1x2x4x4; kernel_size=3, stride=1, padding=1, divisor_override=2",
    "2x3x4x5x6; kernel_size=2 => avg_pool2d: expects input [N,C,H,W] or [C,H,W], got "
    "[2, 3, 4, 5, 6]",
    "1x1x4x4; kernel_size=2, stride=0 => avg_pool2d: stride must be >= 1, got 0",
    "1x1x4x4 => avg_pool2d: missing argument kernel_size",
    "1x1x4x4; kernel_size=2, divisor_override=0 => avg_pool2d: divisor must be not zero",
    "1x1x5x5; kernel_size=3, padding=2 => avg_pool2d: pad should be at most half of kernel "
    "size, but got pad=2 and kernel_size=3");

const gt_op_def gt_op_max_pool1d = POOL_OP(
    "max_pool1d", NULL, "max over windows along the last dim, as max_pool2d", POOL1D_SHAPES,
    POOL_MAX | POOL_1D, max_pool1d_attrs, "2x3x9; kernel_size=3",
    "3x8; kernel_size=2, stride=1, padding=1, dilation=2",
    "1x2x7; kernel_size=3, stride=2, padding=1, ceil_mode=True", "2x2x6; kernel_size=2",
    "5; kernel_size=2 => max_pool1d: expects input [N,C,L] or [C,L], got [5]",
    "1x1x5; kernel_size=[2, 2] => max_pool1d: kernel_size takes one integer, got a list of 2",
    "1x1x5; kernel_size=6 => max_pool1d: Given input size: (1x1x5). Calculated output size: "
    "(1x1x0). Output size is too small");

const gt_op_def gt_op_avg_pool1d = POOL_OP(
    "avg_pool1d", NULL, "mean over windows along the last dim, as avg_pool2d", AVG1D_SHAPES,
    POOL_AVG | POOL_1D, avg_pool1d_attrs, "2x3x8; kernel_size=3",
    "3x7; kernel_size=3, stride=2, padding=1, count_include_pad=False",
    "1x2x6; kernel_size=3, stride=2, ceil_mode=True", "1x2x7; kernel_size=2, padding=1",
    "1x1x5; kernel_size=3, padding=2 => avg_pool1d: pad should be at most half of kernel "
    "size, but got pad=2 and kernel_size=3",
    "2x3x4x5; kernel_size=2 => avg_pool1d: expects input [N,C,L] or [C,L], got [2, 3, 4, 5]");

const gt_op_def gt_op_adaptive_avg_pool2d = POOL_OP(
    "adaptive_avg_pool2d", NULL,
    "mean over output_size windows: output i covers input [floor(i*H/OH), ceil((i+1)*H/OH))",
    ADAPTIVE_SHAPES, POOL_ADAPTIVE_AVG, adaptive_attrs, "2x3x7x7; output_size=1",
    "1x2x5x7; output_size=[3, 4]", "3x6x6; output_size=4", "1x1x4x4; output_size=[4, 2]",
    "2x3; output_size=2 => adaptive_avg_pool2d: expects input [N,C,H,W] or [C,H,W], got "
    "[2, 3]",
    "1x1x4x4; output_size=[1, 2, 3] => adaptive_avg_pool2d: output_size takes 1 to 2 "
    "integers, got 3",
    "1x1x4x4; output_size=0 => adaptive_avg_pool2d: output_size must be >= 1, got 0");

const gt_op_def gt_op_adaptive_max_pool2d = POOL_OP(
    "adaptive_max_pool2d", NULL,
    "max over output_size windows (as adaptive_avg_pool2d's); the gradient goes to the first "
    "maximum",
    ADAPTIVE_SHAPES, POOL_ADAPTIVE_MAX, adaptive_attrs, "2x3x7x7; output_size=1",
    "1x2x5x7; output_size=[3, 4]", "3x6x6; output_size=4", "1x1x5x5; output_size=[5, 2]",
    "2x3; output_size=2 => adaptive_max_pool2d: expects input [N,C,H,W] or [C,H,W], got "
    "[2, 3]");

static const gt_op_def *pool_op_of(int variant) {
    switch (variant) {
    case POOL_AVG: return &gt_op_avg_pool2d;
    case POOL_AVG | POOL_1D: return &gt_op_avg_pool1d;
    case POOL_ADAPTIVE_AVG: return &gt_op_adaptive_avg_pool2d;
    case POOL_MAX | POOL_1D: return &gt_op_max_pool1d;
    case POOL_ADAPTIVE_MAX: return &gt_op_adaptive_max_pool2d;
    default: return &gt_op_max_pool2d;
    }
}

/* stride 0 means stride = kernel */
static pool_args pool_args_of(int kernel, int stride) {
    return (pool_args){.kernel_size = {1, {kernel}},
                       .stride = stride ? (gt_ints){1, {stride}} : (gt_ints){0},
                       .padding = {1, {0}},
                       .dilation = {1, {1}},
                       .count_include_pad = true};
}

gt_tensor *gt_maxpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride) {
    pool_args args = pool_args_of(kernel, stride);
    return gt_op_call(tape, &gt_op_max_pool2d, &x, 1, &args);
}

gt_tensor *gt_avgpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride) {
    pool_args args = pool_args_of(kernel, stride);
    return gt_op_call(tape, &gt_op_avg_pool2d, &x, 1, &args);
}
