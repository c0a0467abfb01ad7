/* shape.c - reshape and flatten (views, no copy) and the 2-D transpose (a copy). */
#include "gt_ops_impl.h"

#include <math.h>

// x[...] -> view with shape[ndim] of the same numel
static gt_tensor *view_forward(gt_op op, gt_tape *tape, gt_tensor *x, int ndim,
                               const int64_t *shape) {
    gt_tensor *out = gt__tape_view(tape, gt_op_get(op)->name, x, ndim, shape);
    return gt__op_finish(tape, op, out, &x, 1, NULL);
}

// grad_out has x's numel in the same order: grad_x += grad_out
static gt_status view_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    for (int64_t i = 0; i < x->numel; i++)
        x->grad[i] += node->out->grad[i];
    return GT_OK;
}

gt_tensor *gt__reshape_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                               const gt_op_args *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    if (gt__check_inputs("reshape", tape, in, 1, 1) != GT_OK)
        return NULL;
    if (args->count > GT_MAX_DIMS) {
        gt_set_error(GT_ERR_SHAPE, "reshape: rank %d exceeds %d", args->count, GT_MAX_DIMS);
        return NULL;
    }
    int64_t shape[GT_MAX_DIMS];
    for (int d = 0; d < args->count; d++) {
        double v = args->v[d];
        if (v != floor(v) || v < -1 || v > (double)INT64_MAX / 2) {
            gt_set_error(GT_ERR_SHAPE, "reshape: bad size %g in dimension %d (sizes are >= 0, "
                         "one may be -1)", v, d);
            return NULL;
        }
        shape[d] = (int64_t)v;
    }
    if (gt__shape_resolve("reshape", x->ndim, x->shape, args->count, shape) != GT_OK)
        return NULL;
    return view_forward(GT_OP_RESHAPE, tape, x, args->count, shape);
}

gt_status gt__reshape_backward(gt_node *node) { return view_backward(node); }

gt_tensor *gt__flatten_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                               const gt_op_args *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    if (gt__check_inputs("flatten", tape, in, 1, 1) != GT_OK)
        return NULL;
    double start = args->v[0];
    int rank = x->ndim ? x->ndim : 1;
    if (start != floor(start) || start < -rank || start >= rank) {
        gt_set_error(GT_ERR_ARG, "flatten: start_dim %g is out of range for shape %s", start,
                     gt__shape_of(x));
        return NULL;
    }
    int first = start < 0 ? (int)start + rank : (int)start;
    int64_t shape[GT_MAX_DIMS];
    for (int d = 0; d < first; d++)
        shape[d] = x->shape[d];
    shape[first] = 1;
    for (int d = first; d < x->ndim; d++)
        shape[first] *= x->shape[d];
    return view_forward(GT_OP_FLATTEN, tape, x, first + 1, shape);
}

gt_status gt__flatten_backward(gt_node *node) { return view_backward(node); }

// x[M,N] -> y[N,M]
gt_tensor *gt__transpose_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                                 const gt_op_args *args) {
    (void)n_in;
    (void)args;
    gt_tensor *x = in[0];
    if (gt__check_inputs("transpose", tape, in, 1, 1) != GT_OK)
        return NULL;
    if (x->ndim != 2) {
        gt_set_error(GT_ERR_SHAPE, "transpose: expects a 2-D tensor, got %s", gt__shape_of(x));
        return NULL;
    }
    int64_t m = x->shape[0], n = x->shape[1];
    gt_tensor *out = gt__op_output(tape, GT_OP_TRANSPOSE, 2, (int64_t[]){n, m});
    if (!out)
        return NULL;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            out->data[j * m + i] = x->data[i * n + j];
    return gt__op_finish(tape, GT_OP_TRANSPOSE, out, in, 1, NULL);
}

// grad_out[N,M] -> grad_x[M,N] += grad_out^T
gt_status gt__transpose_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    int64_t m = x->shape[0], n = x->shape[1];
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            x->grad[i * n + j] += node->out->grad[j * m + i];
    return GT_OK;
}

gt_tensor *gt_reshape(gt_tape *tape, gt_tensor *x, int ndim, const int64_t *shape) {
    gt_op_args args = {0};
    if (ndim < 1 || ndim > GT_MAX_DIMS || !shape) {
        gt_set_error(GT_ERR_SHAPE, "reshape: rank %d is outside 1..%d", ndim, GT_MAX_DIMS);
        return NULL;
    }
    args.count = ndim;
    for (int d = 0; d < ndim; d++)
        args.v[d] = (double)shape[d];
    return gt_op_apply(tape, GT_OP_RESHAPE, &x, 1, &args);
}

gt_tensor *gt_flatten(gt_tape *tape, gt_tensor *x, int start_dim) {
    return gt_op_apply(tape, GT_OP_FLATTEN, &x, 1, &(gt_op_args){1, {start_dim}});
}

gt_tensor *gt_transpose(gt_tape *tape, gt_tensor *x) {
    return gt_op_apply(tape, GT_OP_TRANSPOSE, &x, 1, NULL);
}
