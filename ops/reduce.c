/* reduce.c - sum and mean over every element or over some dims, with keepdim. */
#include "gt_ops_impl.h"

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

/* Visits every input element i with the offset o of the output element it sums into. */
#define FOR_EACH_REDUCED(x, r, BODY)                                                      \
    do {                                                                                  \
        int64_t index_[GT_MAX_DIMS] = {0}, o = 0;                                         \
        for (int64_t i = 0; i < (x)->numel; i++) {                                        \
            BODY;                                                                         \
            for (int d_ = (x)->ndim - 1; d_ >= 0; d_--) {                                 \
                o += (r)->out_stride[d_];                                                 \
                if (++index_[d_] < (x)->shape[d_])                                        \
                    break;                                                                \
                o -= (r)->out_stride[d_] * (x)->shape[d_];                                \
                index_[d_] = 0;                                                           \
            }                                                                             \
        }                                                                                 \
    } while (0)

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
    if (out->numel == 1) {
        for (int64_t i = 0; i < x->numel; i++)
            total[0] += (double)x->data[i];
    } else {
        FOR_EACH_REDUCED(x, &r, total[o] += (double)x->data[i]);
    }
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
    FOR_EACH_REDUCED(x, &r, x->grad[i] += g[o] * scale);
    return GT_OK;
}

/* grad_x = g (kept dims back as size 1) broadcast to x's shape, / count for mean */
static gt_status reduce_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                   gt_tensor **grad_in) {
    gt_tensor *x = node->in[0];
    reduction r;
    gt_status status = reduction_of(node->name, x, node->attrs, &r);
    if (status != GT_OK)
        return status;
    int64_t kept[GT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        kept[d] = r.reduced[d] ? 1 : x->shape[d];
    gt_tensor *shaped = x->ndim ? gt_reshape(tape, g, x->ndim, kept) : g;
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

static const gt_attr_def reduce_attrs[] = {
    {"dim", GT_ATTR_INTS, offsetof(gt_reduce_args, dim), .flags = GT_ATTR_OPTIONAL,
     .alias = "axis"},
    {"keepdim", GT_ATTR_BOOL, offsetof(gt_reduce_args, keepdim), .dflt = 0},
};

#define REDUCE_SHAPES "input[...] -> the kept dims (size 1 where reduced with keepdim)"

/* The entry of sum or mean. */
#define REDUCE_OP_DEF(op_name, op_doc, kind, ...)                                          \
    {.name = op_name, .doc = op_doc, .shapes = REDUCE_SHAPES, .inputs = {{"input"}},       \
     GT__ATTRS(reduce_attrs), .args_size = sizeof(gt_reduce_args),                        \
     .forward = reduce_forward, .backward = reduce_backward, .variant = kind,             \
     .grad_graph = reduce_grad_graph,                                                     \
     GT__CASES(__VA_ARGS__)}

const gt_op_def gt_op_sum = REDUCE_OP_DEF(
    "sum", "sum of every element, or over dim (an int or a list)", REDUCE_SUM, "3x4",
    "3x4x2; dim=0", "3x5; dim=-1", "2x3x4; dim=[0, 2]", "2x3x4; dim=1, keepdim=True",
    "3x4; keepdim=True", "(); dim=0", "1x3; dim=0",
    "2x3; dim=2 => sum: dim 2 is out of range for shape [2, 3]",
    "2x3; dim=[1, -1] => sum: dim 1 appears more than once");
const gt_op_def gt_op_mean = REDUCE_OP_DEF(
    "mean", "mean of every element, or over dim (an int or a list)", REDUCE_MEAN, "5x3",
    "2x3x4; dim=1", "2x3x4; dim=[-1, 0], keepdim=True",
    "2x3; dim=-3 => mean: dim -3 is out of range for shape [2, 3]");

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
