/* reduce.c - sum, mean, amax, amin, var, std, logsumexp, max and argmax over every element
 * or over some dims, with keepdim. */
#include "gt_ops_impl.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

enum { REDUCE_SUM, REDUCE_MEAN }; /* the variants of sum and mean */

/* A reduction seen from the input: out_stride[d] is the output's stride along input dim d,
 * 0 along a reduced dim; count is the number of elements each output sums. */
typedef struct reduction {
    bool reduced[GT_MAX_DIMS];
    int64_t out_stride[GT_MAX_DIMS];
    int out_ndim;
    int64_t out_shape[GT_MAX_DIMS];
    int64_t count;
} reduction;

/* dim None (n = 0) reduces every dim; negative dims count from the end; a dim given twice
 * is an error, as in PyTorch. */
static gt_status reduction_of(const char *op, const gt_tensor *x, const gt_reduce_args *a,
                              reduction *r) {
    memset(r, 0, sizeof *r);
    int rank = x->ndim;
    for (int k = 0; k < a->dim.n; k++) {
        int64_t dim = a->dim.v[k];
        int limit = rank ? rank : 1; /* a 0-d tensor takes dim 0 or -1, as in PyTorch */
        if (dim < -limit || dim >= limit)
            return gt_set_error(GT_ERR_ARG, "%s: dim %lld is out of range for shape %s", op,
                                (long long)dim, gt__shape_of(x));
        int d = (int)(dim < 0 ? dim + limit : dim);
        if (rank && r->reduced[d])
            return gt_set_error(GT_ERR_ARG, "%s: dim %d appears more than once", op, d);
        if (rank)
            r->reduced[d] = true;
    }
    r->count = 1;
    for (int d = 0; d < rank; d++) {
        if (a->dim.n == 0)
            r->reduced[d] = true;
        if (r->reduced[d])
            r->count *= x->shape[d];
        if (!r->reduced[d] || a->keepdim)
            r->out_shape[r->out_ndim++] = r->reduced[d] ? 1 : x->shape[d];
    }
    int64_t step = 1;
    for (int d = rank - 1; d >= 0; d--) {
        r->out_stride[d] = r->reduced[d] ? 0 : step;
        step *= r->reduced[d] ? 1 : x->shape[d];
    }
    return GT_OK;
}

/* Visits every input element i with the offset o of the output element it sums into;
 * index_[d] is its index along dim d. */
#define FOR_EACH_REDUCED(x, r, ...)                                                       \
    do {                                                                                  \
        int64_t index_[GT_MAX_DIMS] = {0}, o = 0;                                         \
        for (int64_t i = 0; i < (x)->numel; i++) {                                        \
            __VA_ARGS__;                                                                  \
            for (int d_ = (x)->ndim - 1; d_ >= 0; d_--) {                                 \
                o += (r)->out_stride[d_];                                                 \
                if (++index_[d_] < (x)->shape[d_])                                        \
                    break;                                                                \
                o -= (r)->out_stride[d_] * (x)->shape[d_];                                \
                index_[d_] = 0;                                                           \
            }                                                                             \
        }                                                                                 \
    } while (0)

/* The same walk in runs, for sum and mean (FOR_EACH_REDUCED stays for the ops that need an
 * element's index along each of x's own dims, as argmax does): x's dims without those of
 * size 1, each merged into the one before when both are reduced or both kept (x and the
 * output are contiguous, so a merged pair is stepped over as one dim); the last loop dim is
 * a run of x that reduces into one output element (reduced) or adds into a run of the
 * output (kept). [64, 32, 28, 28] summed over [0, 2, 3] is 64 x 32 runs of 784, each into
 * one of 32 outputs. */
typedef struct reduce_runs {
    int ndim;
    bool reduced[GT_MAX_DIMS];
    int64_t shape[GT_MAX_DIMS], out_stride[GT_MAX_DIMS];
} reduce_runs;

static void runs_of(const gt_tensor *x, const reduction *r, reduce_runs *l) {
    l->ndim = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (x->shape[d] == 1)
            continue;
        int m = l->ndim;
        if (m > 0 && l->reduced[m - 1] == r->reduced[d]) {
            l->shape[m - 1] *= x->shape[d];
            l->out_stride[m - 1] = r->out_stride[d]; /* the inner dim's: 0, or 1 when kept */
            continue;
        }
        l->reduced[m] = r->reduced[d];
        l->shape[m] = x->shape[d];
        l->out_stride[m] = r->out_stride[d];
        l->ndim++;
    }
    if (l->ndim == 0) { /* one element */
        l->ndim = 1;
        l->reduced[0] = true;
        l->shape[0] = 1;
        l->out_stride[0] = 0;
    }
}

/* Visits each run of x (runs_of): `at` its first element, `o` the output element it (or its
 * first element) goes to, `len` its length. x must not be empty. */
#define FOR_EACH_RUN(l, ...)                                                              \
    do {                                                                                  \
        int last_ = (l)->ndim - 1;                                                        \
        int64_t index_[GT_MAX_DIMS] = {0}, o = 0, len = (l)->shape[last_];                \
        for (int64_t at = 0;; at += len) {                                                \
            __VA_ARGS__;                                                                  \
            int d_ = last_ - 1;                                                           \
            for (; d_ >= 0; d_--) {                                                       \
                o += (l)->out_stride[d_];                                                 \
                if (++index_[d_] < (l)->shape[d_])                                        \
                    break;                                                                \
                o -= (l)->out_stride[d_] * (l)->shape[d_];                                \
                index_[d_] = 0;                                                           \
            }                                                                             \
            if (d_ < 0)                                                                   \
                break;                                                                    \
        }                                                                                 \
    } while (0)

/* x[0..n) summed in double, in 8 interleaved partial sums (one chain would wait on each
 * add) added in order at the end: the same bits for the same run wherever it lies. */
static double run_total(const gt_real *x, int64_t n) {
    double part[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            part[k] += (double)x[i + k];
    for (; i < n; i++)
        part[0] += (double)x[i];
    double total = 0;
    for (int k = 0; k < 8; k++)
        total += part[k];
    return total;
}

// x[...] -> y[kept dims] = sum (or mean) over the reduced dims
static gt_tensor *reduce_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                 int n_in, const void *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    bool mean = op->variant == REDUCE_MEAN;
    reduction r;
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK ||
        reduction_of(op->name, x, args, &r) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, r.out_ndim, r.out_shape);
    if (!out)
        return NULL;
    double *total = gt__tape_alloc(tape, (size_t)(out->numel ? out->numel : 1) * sizeof(double),
                                   op->name);
    if (!total)
        return NULL;
    memset(total, 0, (size_t)out->numel * sizeof(double));
    reduce_runs l;
    runs_of(x, &r, &l);
    const gt_real *data = x->data;
    if (x->numel > 0 && l.reduced[l.ndim - 1]) /* a run into one output */
        FOR_EACH_RUN(&l, total[o] += run_total(data + at, len));
    else if (x->numel > 0) /* a run onto a run of outputs: each still sums in x's order */
        FOR_EACH_RUN(&l, {
            for (int64_t j = 0; j < len; j++)
                total[o + j] += (double)data[at + j];
        });
    double divisor = mean ? (double)r.count : 1.0; /* mean of nothing is NaN, as in PyTorch */
    for (int64_t o = 0; o < out->numel; o++)
        out->data[o] = (gt_real)(total[o] / divisor);
    return gt__op_finish(tape, op, out, &x, 1, args, NULL);
}

// grad_out[kept dims] -> grad_x[...] += grad_out (/ count for mean)
static gt_status reduce_backward(gt_node *node) {
    bool mean = gt__node_variant(node) == REDUCE_MEAN;
    gt_tensor *x = node->in[0];
    reduction r;
    gt_status status = reduction_of(node->name, x, node->attrs, &r);
    if (status != GT_OK)
        return status;
    gt_real scale = mean ? (gt_real)(1.0 / (double)r.count) : 1;
    const gt_real *g = node->out->grad;
    gt_real *gx = x->grad;
    reduce_runs l;
    runs_of(x, &r, &l);
    if (x->numel > 0 && l.reduced[l.ndim - 1])
        FOR_EACH_RUN(&l, {
            gt_real add = g[o] * scale;
            for (int64_t j = 0; j < len; j++)
                gx[at + j] += add;
        });
    else if (x->numel > 0)
        FOR_EACH_RUN(&l, {
            for (int64_t j = 0; j < len; j++)
                gx[at + j] += g[o + j] * scale;
        });
    return GT_OK;
}

/* t, of the reduction's output shape, with the reduced dims back as size 1 (keepdim's
 * shape), so that it broadcasts against x. */
static gt_tensor *kept_view(gt_tape *tape, const gt_tensor *x, const reduction *r,
                            gt_tensor *t) {
    int64_t kept[GT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        kept[d] = r->reduced[d] ? 1 : x->shape[d];
    return x->ndim ? gt_reshape(tape, t, x->ndim, kept) : t;
}

/* grad_x = g (kept dims back as size 1) broadcast to x's shape, / count for mean */
static gt_status reduce_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                   gt_tensor **grad_in) {
    gt_tensor *x = node->in[0];
    reduction r;
    gt_status status = reduction_of(node->name, x, node->attrs, &r);
    if (status != GT_OK)
        return status;
    gt_tensor *shaped = kept_view(tape, x, &r, g);
    gt_tensor *ones = gt__const_like(tape, x, gt__node_variant(node) == REDUCE_MEAN
                                                  ? (gt_real)(1.0 / (double)r.count)
                                                  : 1);
    grad_in[0] = gt_mul(tape, shaped, ones);
    return grad_in[0] ? GT_OK : gt_last_status();
}

gt_tensor *gt__const_like(gt_tape *tape, const gt_tensor *like, gt_real value) {
    gt_tensor *out = gt_tape_tensor(tape, like->ndim, like->shape);
    for (int64_t i = 0; out && i < out->numel; i++)
        out->data[i] = value;
    return out;
}

gt_tensor *gt__sum_to(gt_tape *tape, gt_tensor *g, const gt_tensor *like) {
    if (!g || gt_shape_equal(g->ndim, g->shape, like->ndim, like->shape))
        return g;
    gt_reduce_args args = {.keepdim = true};
    int lead = g->ndim - like->ndim;
    for (int d = 0; d < g->ndim; d++)
        if (d < lead || (like->shape[d - lead] == 1 && g->shape[d] != 1))
            args.dim.v[args.dim.n++] = d;
    gt_tensor *summed = args.dim.n ? gt_op_call(tape, &gt_op_sum, &g, 1, &args) : g;
    if (!summed || like->ndim == 0)
        return summed && like->ndim == 0 ? gt_sum(tape, summed, GT_ALL_AXES) : summed;
    return gt_reshape(tape, summed, like->ndim, like->shape);
}

/* ---- amax, amin, max, argmax: the extremes ---------------------------------------------- */

enum { EXTREME_AMAX, EXTREME_AMIN, EXTREME_MAX, EXTREME_ARGMAX }; /* their variants */

/* Whether v replaces best as the maximum (largest) or minimum: a NaN wins, as in PyTorch,
 * and a tie keeps the first. */
static inline bool beats(gt_real v, gt_real best, bool largest) {
    if (best != best)
        return false;
    return v != v || (largest ? v > best : v < best);
}

static inline bool ties(gt_real v, gt_real y) { return v == y || (v != v && y != y); }

/* Reducing over no element has no extreme: an error, as in PyTorch. */
static gt_status check_not_empty(const char *op, const gt_tensor *x, const reduction *r) {
    if (r->count == 0)
        return gt_set_error(GT_ERR_SHAPE, "%s: cannot reduce over a dim of size 0 (shape %s)",
                            op, gt__shape_of(x));
    return GT_OK;
}

// x[...] -> y[kept dims] = max (min) over the reduced dims; argmax: the index of the first
// maximum along dim, or in the flattened input for dim None
static gt_tensor *extreme_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                  int n_in, const void *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    const gt_reduce_args *a = args;
    int kind = op->variant;
    reduction r;
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK ||
        reduction_of(op->name, x, a, &r) != GT_OK || check_not_empty(op->name, x, &r) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, r.out_ndim, r.out_shape);
    if (!out)
        return NULL;
    bool largest = kind != EXTREME_AMIN, argmax = kind == EXTREME_ARGMAX;
    gt_real *y = out->data, *best = y;
    if (argmax && !(best = gt__tape_alloc(tape, (size_t)(out->numel ? out->numel : 1) *
                                                     sizeof(gt_real), op->name)))
        return NULL;
    for (int64_t o = 0; o < out->numel; o++) {
        best[o] = largest ? (gt_real)-INFINITY : (gt_real)INFINITY;
        y[o] = argmax ? 0 : best[o];
    }
    int axis = a->dim.n == 1 && x->ndim ? (int)(a->dim.v[0] < 0 ? a->dim.v[0] + x->ndim
                                                               : a->dim.v[0])
                                        : -1;
    const gt_real *v = x->data;
    FOR_EACH_REDUCED(x, &r, if (beats(v[i], best[o], largest)) {
        best[o] = v[i];
        if (argmax)
            y[o] = (gt_real)(axis < 0 ? i : index_[axis]);
    });
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, args, &node);
    if (node) /* the backward's count of ties (or marks of the first maximum) per output */
        node->scratch_bytes = (size_t)out->numel * sizeof(double);
    return out;
}

// grad_out[kept dims] -> grad_x[...] += grad_out split evenly among the elements equal to
// the extreme (amax, amin, max over every element), or to the first of them (max over dim)
static gt_status extreme_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *out = node->out;
    const gt_reduce_args *a = node->attrs;
    reduction r;
    gt_status status = reduction_of(node->name, x, a, &r);
    if (status != GT_OK || !x->grad || out->numel == 0)
        return status;
    const gt_real *v = x->data, *y = out->data, *g = out->grad;
    double *seen = node->scratch;
    memset(seen, 0, (size_t)out->numel * sizeof(double));
    if (gt__node_variant(node) == EXTREME_MAX && a->dim.n) {
        FOR_EACH_REDUCED(x, &r, if (!seen[o] && ties(v[i], y[o])) {
            seen[o] = 1;
            x->grad[i] += g[o];
        });
    } else {
        FOR_EACH_REDUCED(x, &r, seen[o] += ties(v[i], y[o]));
        FOR_EACH_REDUCED(x, &r, if (ties(v[i], y[o])) x->grad[i] += g[o] / (gt_real)seen[o]);
    }
    return GT_OK;
}

// extreme_backward written with ops: grad_x = g (kept dims) * w, w a constant of x's shape
// (1 / the number of ties at each extreme, or 1 at the first maximum for max over a dim)
static gt_status extreme_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                    gt_tensor **grad_in) {
    gt_tensor *x = node->in[0], *out = node->out;
    const gt_reduce_args *a = node->attrs;
    reduction r;
    gt_status status = reduction_of(node->name, x, a, &r);
    if (status != GT_OK)
        return status;
    gt_tensor *w = gt__const_like(tape, x, 0);
    double *seen = gt__tape_alloc(tape, (size_t)(out->numel ? out->numel : 1) * sizeof(double),
                                  node->name);
    if (!w || !seen)
        return gt_last_status();
    memset(seen, 0, (size_t)out->numel * sizeof(double));
    const gt_real *v = x->data, *y = out->data;
    if (gt__node_variant(node) == EXTREME_MAX && a->dim.n) {
        FOR_EACH_REDUCED(x, &r, if (!seen[o] && ties(v[i], y[o])) {
            seen[o] = 1;
            w->data[i] = 1;
        });
    } else {
        FOR_EACH_REDUCED(x, &r, seen[o] += ties(v[i], y[o]));
        FOR_EACH_REDUCED(x, &r, w->data[i] = ties(v[i], y[o]) ? 1 / (gt_real)seen[o] : 0);
    }
    grad_in[0] = gt_mul(tape, kept_view(tape, x, &r, g), w);
    return grad_in[0] ? GT_OK : gt_last_status();
}

/* ---- var, std ------------------------------------------------------------------------- */

enum { SPREAD_VAR, SPREAD_STD }; /* the variants of var and std */

/* The arguments of var and std: the divisor is count - correction, with correction 0 when
 * unbiased is False (PyTorch 1.13's older keyword). */
typedef struct var_args {
    gt_ints dim;
    bool unbiased, keepdim;
    double correction;
} var_args;

static gt_status var_reduction(const char *op, const gt_tensor *x, const var_args *a,
                               reduction *r, double *divisor) {
    gt_reduce_args dims = {a->dim, a->keepdim};
    gt_status status = reduction_of(op, x, &dims, r);
    *divisor = (double)r->count - (a->unbiased ? a->correction : 0);
    return status;
}

/* mean[o] over the reduced dims, in double. */
static void reduced_means(const gt_tensor *x, const reduction *r, int64_t n_out, double *mean) {
    memset(mean, 0, (size_t)n_out * sizeof(double));
    FOR_EACH_REDUCED(x, r, mean[o] += (double)x->data[i]);
    for (int64_t o = 0; o < n_out; o++)
        mean[o] /= (double)r->count;
}

// x[...] -> y[kept dims] = sum((x - mean)^2) / (count - correction), its sqrt for std
static gt_tensor *var_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                              int n_in, const void *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    reduction r;
    double divisor;
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK ||
        var_reduction(op->name, x, args, &r, &divisor) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, r.out_ndim, r.out_shape);
    if (!out)
        return NULL;
    int64_t n_out = out->numel ? out->numel : 1;
    double *mean = gt__tape_alloc(tape, 2 * (size_t)n_out * sizeof(double), op->name);
    if (!mean)
        return NULL;
    double *squares = mean + n_out;
    reduced_means(x, &r, out->numel, mean);
    memset(squares, 0, (size_t)n_out * sizeof(double));
    FOR_EACH_REDUCED(x, &r, {
        double d = (double)x->data[i] - mean[o];
        squares[o] += d * d;
    });
    bool take_sqrt = op->variant == SPREAD_STD;
    for (int64_t o = 0; o < out->numel; o++) /* a divisor <= 0 gives inf or NaN, as PyTorch */
        out->data[o] = (gt_real)(take_sqrt ? sqrt(squares[o] / divisor) : squares[o] / divisor);
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, args, &node);
    if (node) /* the backward's means */
        node->scratch_bytes = (size_t)out->numel * sizeof(double);
    return out;
}

// var: grad_x += grad_out * 2 (x - mean) / (count - correction);
// std: grad_x += grad_out * (x - mean) / ((count - correction) * std)
static gt_status var_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *out = node->out;
    reduction r;
    double divisor;
    gt_status status = var_reduction(node->name, x, node->attrs, &r, &divisor);
    if (status != GT_OK || !x->grad || out->numel == 0)
        return status;
    double *mean = node->scratch;
    reduced_means(x, &r, out->numel, mean);
    const gt_real *g = out->grad, *y = out->data;
    if (gt__node_variant(node) == SPREAD_STD)
        FOR_EACH_REDUCED(x, &r, x->grad[i] += (gt_real)((double)g[o] *
                                                        ((double)x->data[i] - mean[o]) /
                                                        (divisor * (double)y[o])));
    else
        FOR_EACH_REDUCED(x, &r, x->grad[i] += (gt_real)((double)g[o] * 2 *
                                                        ((double)x->data[i] - mean[o]) /
                                                        divisor));
    return GT_OK;
}

// var: grad_x = g * 2 (x - mean) / (count - correction);
// std: grad_x = g * (x - mean) / ((count - correction) * y); mean and y recorded ops on x
static gt_status var_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                gt_tensor **grad_in) {
    gt_tensor *x = node->in[0];
    const var_args *a = node->attrs;
    reduction r;
    double divisor;
    gt_status status = var_reduction(node->name, x, a, &r, &divisor);
    if (status != GT_OK)
        return status;
    gt_reduce_args over = {a->dim, true};
    gt_tensor *centred = gt_sub(tape, x, gt_op_call(tape, &gt_op_mean, &x, 1, &over));
    gt_tensor *shaped = kept_view(tape, x, &r, g);
    if (gt__node_variant(node) == SPREAD_STD)
        shaped = gt_div(tape, shaped, kept_view(tape, x, &r, node->out));
    double factor = (gt__node_variant(node) == SPREAD_STD ? 1.0 : 2.0) / divisor;
    grad_in[0] = gt_scale(tape, gt_mul(tape, shaped, centred), factor);
    return grad_in[0] ? GT_OK : gt_last_status();
}

/* ---- logsumexp ------------------------------------------------------------------------ */

// x[...] -> y[kept dims] = m + log(sum(exp(x - m))) over the reduced dims, m their maximum
// (0 when it is infinite, so that all -inf gives -inf and an inf gives inf)
static gt_tensor *logsumexp_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                    int n_in, const void *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    reduction r;
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK ||
        reduction_of(op->name, x, args, &r) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, r.out_ndim, r.out_shape);
    if (!out)
        return NULL;
    int64_t n_out = out->numel ? out->numel : 1;
    double *shift = gt__tape_alloc(tape, 2 * (size_t)n_out * sizeof(double), op->name);
    if (!shift)
        return NULL;
    double *total = shift + n_out;
    for (int64_t o = 0; o < out->numel; o++)
        shift[o] = -INFINITY, total[o] = 0;
    FOR_EACH_REDUCED(x, &r, shift[o] = (double)x->data[i] > shift[o] ? (double)x->data[i]
                                                                      : shift[o]);
    for (int64_t o = 0; o < out->numel; o++)
        shift[o] = isinf(shift[o]) ? 0 : shift[o];
    FOR_EACH_REDUCED(x, &r, total[o] += exp((double)x->data[i] - shift[o]));
    for (int64_t o = 0; o < out->numel; o++)
        out->data[o] = (gt_real)(shift[o] + log(total[o]));
    return gt__op_finish(tape, op, out, &x, 1, args, NULL);
}

// grad_x[...] += grad_out * exp(x - y): the softmax over the reduced dims
static gt_status logsumexp_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *out = node->out;
    reduction r;
    gt_status status = reduction_of(node->name, x, node->attrs, &r);
    if (status != GT_OK || !x->grad)
        return status;
    const gt_real *g = out->grad, *y = out->data;
    FOR_EACH_REDUCED(x, &r, x->grad[i] += g[o] * (gt_real)exp((double)(x->data[i] - y[o])));
    return GT_OK;
}

// grad_x = g * exp(x - y), y the recorded output
static gt_status logsumexp_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                      gt_tensor **grad_in) {
    gt_tensor *x = node->in[0];
    reduction r;
    gt_status status = reduction_of(node->name, x, node->attrs, &r);
    if (status != GT_OK)
        return status;
    gt_tensor *soft = gt_exp(tape, gt_sub(tape, x, kept_view(tape, x, &r, node->out)));
    grad_in[0] = gt_mul(tape, kept_view(tape, x, &r, g), soft);
    return grad_in[0] ? GT_OK : gt_last_status();
}

static const gt_attr_def reduce_attrs[] = {
    {"dim", GT_ATTR_INTS, offsetof(gt_reduce_args, dim), .flags = GT_ATTR_OPTIONAL,
     .alias = "axis"},
    {"keepdim", GT_ATTR_BOOL, offsetof(gt_reduce_args, keepdim), .dflt = 0},
};

#define REDUCE_SHAPES "input[...] -> the kept dims (size 1 where reduced with keepdim)"

/* The entry of a reduction over dim (a list) with keepdim; grad_graph_fn may be NULL. */
#define REDUCE_OP_DEF_WITH(op_name, op_doc, forward_fn, backward_fn, grad_graph_fn, kind, ...) \
    {.name = op_name, .doc = op_doc, .shapes = REDUCE_SHAPES, .inputs = {{"input"}},       \
     GT__ATTRS(reduce_attrs), .args_size = sizeof(gt_reduce_args),                        \
     .forward = forward_fn, .backward = backward_fn, .grad_graph = grad_graph_fn,         \
     .variant = kind, GT__CASES(__VA_ARGS__)}

/* The entry of sum or mean. */
#define REDUCE_OP_DEF(op_name, op_doc, kind, ...)                                          \
    REDUCE_OP_DEF_WITH(op_name, op_doc, reduce_forward, reduce_backward, reduce_grad_graph, \
                       kind, __VA_ARGS__)

const gt_op_def gt_op_sum = REDUCE_OP_DEF(
    "sum", "sum of every element, or over dim (an int or a list)", REDUCE_SUM, "3x4",
    "3x4x2; dim=0", "3x5; dim=-1", "2x3x4; dim=[0, 2]", "2x3x4; dim=1, keepdim=True",
    "3x4; keepdim=True", "(); dim=0", "1x3; dim=0", "3x2x20; dim=[0, 2]", "2x1x3x17; dim=3",
    "2x3; dim=2 => sum: dim 2 is out of range for shape [2, 3]",
    "2x3; dim=[1, -1] => sum: dim 1 appears more than once");
const gt_op_def gt_op_mean = REDUCE_OP_DEF(
    "mean", "mean of every element, or over dim (an int or a list)", REDUCE_MEAN, "5x3",
    "2x3x4; dim=1", "2x3x4; dim=[-1, 0], keepdim=True", "4x3x9; dim=[0, 2], keepdim=True",
    "9x2x3; dim=0",
    "2x3; dim=-3 => mean: dim -3 is out of range for shape [2, 3]");

const gt_op_def gt_op_amax = REDUCE_OP_DEF_WITH(
    "amax", "maximum over dim (an int or a list; None: every element); the gradient split "
    "evenly among ties", extreme_forward, extreme_backward, extreme_grad_graph, EXTREME_AMAX,
    "3x4:spread",
    "3x4x2:spread; dim=0", "2x3x4:spread; dim=[0, 2], keepdim=True", "3x5:spread; dim=-1",
    "(); dim=0", "3x4:spread; keepdim=True",
    "0x3; dim=0 => amax: cannot reduce over a dim of size 0 (shape [0, 3])",
    "2x3; dim=2 => amax: dim 2 is out of range for shape [2, 3]");
const gt_op_def gt_op_amin = REDUCE_OP_DEF_WITH(
    "amin", "minimum over dim (an int or a list; None: every element); the gradient split "
    "evenly among ties", extreme_forward, extreme_backward, extreme_grad_graph, EXTREME_AMIN,
    "3x4:spread",
    "2x3x4:spread; dim=[-1, 1]", "3x4:spread; dim=1, keepdim=True",
    "0 => amin: cannot reduce over a dim of size 0 (shape [0])",
    "2x3; dim=[0, 0] => amin: dim 0 appears more than once");
const gt_op_def gt_op_logsumexp = REDUCE_OP_DEF_WITH(
    "logsumexp", "log(sum(exp(input))) over dim (an int or a list; None: every element), "
    "max-shifted", logsumexp_forward, logsumexp_backward, logsumexp_grad_graph, 0, "3x4",
    "3x4; dim=1",
    "2x3x4; dim=[0, -1], keepdim=True", "5; dim=0",
    "2x3; dim=-3 => logsumexp: dim -3 is out of range for shape [2, 3]");

static const gt_attr_def one_dim_attrs[] = {
    {"dim", GT_ATTR_INTS, offsetof(gt_reduce_args, dim), .flags = GT_ATTR_OPTIONAL,
     .max_len = 1},
    {"keepdim", GT_ATTR_BOOL, offsetof(gt_reduce_args, keepdim), .dflt = 0},
};

const gt_op_def gt_op_max = {
    .name = "max",
    .doc = "the values of the maximum over one dim (the gradient to the first maximum, as "
           "torch.max with dim), or over every element (dim None: split among ties)",
    .shapes = REDUCE_SHAPES,
    .inputs = {{"input", GT_DOMAIN_SPREAD}},
    GT__ATTRS(one_dim_attrs),
    .args_size = sizeof(gt_reduce_args),
    .forward = extreme_forward,
    .backward = extreme_backward,
    .grad_graph = extreme_grad_graph,
    .variant = EXTREME_MAX,
    GT__CASES("3x4; dim=1", "2x3x4; dim=-2, keepdim=True", "4x3; dim=0", "3x4",
              "2x3; keepdim=True",
              "2x3; dim=[0, 1] => max: dim takes one integer, got a list of 2",
              "0x3; dim=0 => max: cannot reduce over a dim of size 0 (shape [0, 3])"),
};

const gt_op_def gt_op_argmax = {
    .name = "argmax",
    .doc = "the index of the first maximum along dim, or in the flattened input (dim None); "
           "indices as reals",
    .shapes = REDUCE_SHAPES,
    .inputs = {{"input", GT_DOMAIN_SPREAD}},
    GT__ATTRS(one_dim_attrs),
    .args_size = sizeof(gt_reduce_args),
    .forward = extreme_forward,
    .variant = EXTREME_ARGMAX,
    GT__CASES("3x4", "3x4; dim=1", "2x3x4; dim=0, keepdim=True", "3x4; keepdim=True",
              "5:mask; dim=0",
              "0x3 => argmax: cannot reduce over a dim of size 0 (shape [0, 3])",
              "2x3; dim=2 => argmax: dim 2 is out of range for shape [2, 3]"),
};

static const gt_attr_def var_attrs[] = {
    {"dim", GT_ATTR_INTS, offsetof(var_args, dim), .flags = GT_ATTR_OPTIONAL},
    {"unbiased", GT_ATTR_BOOL, offsetof(var_args, unbiased), .dflt = 1},
    {"keepdim", GT_ATTR_BOOL, offsetof(var_args, keepdim), .dflt = 0},
    {"correction", GT_ATTR_FLOAT, offsetof(var_args, correction), .dflt = 1},
};

/* The entry of var or std. */
#define VAR_OP_DEF(op_name, op_doc, kind, ...)                                             \
    {.name = op_name, .doc = op_doc, .shapes = REDUCE_SHAPES, .inputs = {{"input"}},       \
     GT__ATTRS(var_attrs), .args_size = sizeof(var_args), .forward = var_forward,         \
     .backward = var_backward, .grad_graph = var_grad_graph, .variant = kind,             \
     GT__CASES(__VA_ARGS__)}

const gt_op_def gt_op_var = VAR_OP_DEF(
    "var", "variance over dim (an int or a list; None: every element): the sum of squared "
    "deviations / (count - correction); unbiased=False means correction 0", SPREAD_VAR, "3x4",
    "3x4; dim=1", "2x3x4; dim=[0, 2], keepdim=True", "5; correction=0",
    "3x4; dim=0, unbiased=False", "4x3; dim=-1, correction=2",
    "2x3; dim=3 => var: dim 3 is out of range for shape [2, 3]");
const gt_op_def gt_op_std = VAR_OP_DEF(
    "std", "the square root of var, with the same arguments", SPREAD_STD, "3x4", "3x4; dim=0",
    "2x3x4; dim=[1, 2], keepdim=True, correction=0", "6; unbiased=False",
    "2x3; correction=\"one\" => std: correction must be a number");

/* GT_ALL_AXES: every element; else one dim, removed. */
static gt_reduce_args one_dim(int dim) {
    return dim == GT_ALL_AXES ? (gt_reduce_args){0} : (gt_reduce_args){{1, {dim}}, false};
}

gt_tensor *gt_sum(gt_tape *tape, gt_tensor *x, int dim) {
    gt_reduce_args args = one_dim(dim);
    return gt_op_call(tape, &gt_op_sum, &x, 1, &args);
}

gt_tensor *gt_mean(gt_tape *tape, gt_tensor *x, int dim) {
    gt_reduce_args args = one_dim(dim);
    return gt_op_call(tape, &gt_op_mean, &x, 1, &args);
}

gt_tensor *gt_amax(gt_tape *tape, gt_tensor *x, gt_ints dim, bool keepdim) {
    return gt_op_call(tape, &gt_op_amax, &x, 1, &(gt_reduce_args){dim, keepdim});
}

gt_tensor *gt_amin(gt_tape *tape, gt_tensor *x, gt_ints dim, bool keepdim) {
    return gt_op_call(tape, &gt_op_amin, &x, 1, &(gt_reduce_args){dim, keepdim});
}

gt_tensor *gt_logsumexp(gt_tape *tape, gt_tensor *x, gt_ints dim, bool keepdim) {
    return gt_op_call(tape, &gt_op_logsumexp, &x, 1, &(gt_reduce_args){dim, keepdim});
}

gt_tensor *gt_var(gt_tape *tape, gt_tensor *x, gt_ints dim, double correction, bool keepdim) {
    return gt_op_call(tape, &gt_op_var, &x, 1, &(var_args){dim, true, keepdim, correction});
}

gt_tensor *gt_std(gt_tape *tape, gt_tensor *x, gt_ints dim, double correction, bool keepdim) {
    return gt_op_call(tape, &gt_op_std, &x, 1, &(var_args){dim, true, keepdim, correction});
}

gt_tensor *gt_max(gt_tape *tape, gt_tensor *x, int dim, bool keepdim) {
    gt_reduce_args args = {dim == GT_ALL_AXES ? (gt_ints){0} : GT_INTS(dim), keepdim};
    return gt_op_call(tape, &gt_op_max, &x, 1, &args);
}

gt_tensor *gt_argmax(gt_tape *tape, gt_tensor *x, int dim, bool keepdim) {
    gt_reduce_args args = {dim == GT_ALL_AXES ? (gt_ints){0} : GT_INTS(dim), keepdim};
    return gt_op_call(tape, &gt_op_argmax, &x, 1, &args);
}
