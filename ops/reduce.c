/* reduce.c - sum and mean over all elements or over one axis. */
#include "gt_ops_impl.h"

#include <math.h>

/* The reduction as [outer, size, inner]: axis `size` is summed away. */
typedef struct reduction {
    int64_t outer, size, inner;
} reduction;

static reduction reduction_of(const gt_tensor *x, int axis) {
    reduction r = {1, x->numel, 1};
    if (axis == GT_ALL_AXES)
        return r;
    r.size = x->shape[axis];
    r.outer = 1;
    for (int d = 0; d < axis; d++)
        r.outer *= x->shape[d];
    r.inner = 1;
    for (int d = axis + 1; d < x->ndim; d++)
        r.inner *= x->shape[d];
    return r;
}

/* Reads the axis argument (NAN = all) and normalises negative axes; -1 on error. */
static gt_status parse_axis(const char *op, const gt_tensor *x, double value, int *axis) {
    if (isnan(value) || value == GT_ALL_AXES) {
        *axis = GT_ALL_AXES;
        return GT_OK;
    }
    if (value != floor(value) || value < -x->ndim || value >= x->ndim || x->ndim == 0)
        return gt_set_error(GT_ERR_ARG, "%s: axis %g is out of range for shape %s", op, value,
                            gt__shape_of(x));
    *axis = (int)value < 0 ? (int)value + x->ndim : (int)value;
    return GT_OK;
}

// x[outer, size, inner] -> y[outer, inner] = sum (or mean) over size
static gt_tensor *reduce_forward(gt_op op, gt_tape *tape, gt_tensor *x, double axis_arg) {
    const char *name = gt_op_get(op)->name;
    int axis = GT_ALL_AXES;
    if (gt__check_inputs(name, tape, &x, 1, 1) != GT_OK ||
        parse_axis(name, x, axis_arg, &axis) != GT_OK)
        return NULL;
    int64_t shape[GT_MAX_DIMS];
    int ndim = 0;
    for (int d = 0; axis != GT_ALL_AXES && d < x->ndim; d++)
        if (d != axis)
            shape[ndim++] = x->shape[d];
    gt_tensor *out = gt__op_output(tape, op, ndim, shape);
    if (!out)
        return NULL;
    reduction r = reduction_of(x, axis);
    double divisor = op == GT_OP_MEAN ? (double)r.size : 1.0;
    for (int64_t o = 0; o < r.outer; o++)
        for (int64_t i = 0; i < r.inner; i++) {
            double total = 0;
            const gt_real *src = x->data + o * r.size * r.inner + i;
            for (int64_t s = 0; s < r.size; s++)
                total += src[s * r.inner];
            out->data[o * r.inner + i] = (gt_real)(total / divisor);
        }
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, &node);
    if (node)
        node->args[0] = axis;
    return out;
}

// grad_out[outer, inner] -> grad_x[outer, size, inner] += grad_out (/ size for mean)
static gt_status reduce_backward(gt_node *node, bool mean) {
    gt_tensor *x = node->in[0];
    reduction r = reduction_of(x, (int)node->args[0]);
    gt_real scale = mean ? (gt_real)(1.0 / (double)r.size) : 1;
    for (int64_t o = 0; o < r.outer; o++)
        for (int64_t s = 0; s < r.size; s++) {
            gt_real *gx = x->grad + (o * r.size + s) * r.inner;
            const gt_real *g = node->out->grad + o * r.inner;
            for (int64_t i = 0; i < r.inner; i++)
                gx[i] += g[i] * scale;
        }
    return GT_OK;
}

gt_tensor *gt__sum_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                           const gt_op_args *args) {
    (void)n_in;
    return reduce_forward(GT_OP_SUM, tape, in[0], args->v[0]);
}

gt_status gt__sum_backward(gt_node *node) { return reduce_backward(node, false); }

gt_tensor *gt__mean_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                            const gt_op_args *args) {
    (void)n_in;
    return reduce_forward(GT_OP_MEAN, tape, in[0], args->v[0]);
}

gt_status gt__mean_backward(gt_node *node) { return reduce_backward(node, true); }

gt_tensor *gt_sum(gt_tape *tape, gt_tensor *x, int axis) {
    return gt_op_apply(tape, GT_OP_SUM, &x, 1, &(gt_op_args){1, {axis}});
}

gt_tensor *gt_mean(gt_tape *tape, gt_tensor *x, int axis) {
    return gt_op_apply(tape, GT_OP_MEAN, &x, 1, &(gt_op_args){1, {axis}});
}
