/* shape.c - reshape and flatten (views, no copy) and transpose (a copy). */
#include "gt_ops_impl.h"

#include <stddef.h>

// x[...] -> view with shape[ndim] of the same numel
static gt_tensor *view_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *x, int ndim,
                               const int64_t *shape, const void *args) {
    gt_tensor *out = gt__tape_view(tape, op->name, x, ndim, shape);
    return gt__op_finish(tape, op, out, &x, 1, args, NULL);
}

// grad_out has x's numel in the same order: grad_x += grad_out
static gt_status view_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    for (int64_t i = 0; i < x->numel; i++)
        x->grad[i] += node->out->grad[i];
    return GT_OK;
}

/* The arguments of reshape. */
typedef struct reshape_args {
    gt_ints shape;
} reshape_args;

static gt_tensor *reshape_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                  int n_in, const void *args_ptr) {
    (void)n_in;
    const reshape_args *args = args_ptr;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, in, 1, 1) != GT_OK)
        return NULL;
    int64_t shape[GT_MAX_DIMS];
    for (int d = 0; d < args->shape.n; d++)
        shape[d] = args->shape.v[d];
    if (gt__shape_resolve("reshape", x->ndim, x->shape, args->shape.n, shape) != GT_OK)
        return NULL;
    return view_forward(op, tape, x, args->shape.n, shape, NULL);
}

static gt_status reshape_backward(gt_node *node) { return view_backward(node); }

/* The arguments of flatten. */
typedef struct flatten_args {
    int64_t start_dim, end_dim;
} flatten_args;

// x[..., d_start .. d_end, ...] -> [..., d_start * ... * d_end, ...]
static gt_tensor *flatten_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                  int n_in, const void *args_ptr) {
    (void)n_in;
    const flatten_args *args = args_ptr;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, in, 1, 1) != GT_OK)
        return NULL;
    int rank = x->ndim ? x->ndim : 1;
    int64_t start = args->start_dim, end = args->end_dim;
    if (start < -rank || start >= rank || end < -rank || end >= rank) {
        gt_set_error(GT_ERR_ARG, "flatten: start_dim %lld or end_dim %lld is out of range for "
                     "shape %s", (long long)start, (long long)end, gt__shape_of(x));
        return NULL;
    }
    int first = (int)(start < 0 ? start + rank : start), last = (int)(end < 0 ? end + rank : end);
    if (first > last) {
        gt_set_error(GT_ERR_ARG, "flatten: start_dim %lld comes after end_dim %lld",
                     (long long)start, (long long)end);
        return NULL;
    }
    int64_t shape[GT_MAX_DIMS];
    int ndim = 0;
    for (int d = 0; d < first; d++)
        shape[ndim++] = x->shape[d];
    shape[ndim] = 1;
    for (int d = first; d <= last && d < x->ndim; d++)
        shape[ndim] *= x->shape[d];
    ndim++;
    for (int d = last + 1; d < x->ndim; d++)
        shape[ndim++] = x->shape[d];
    return view_forward(op, tape, x, ndim, shape, NULL);
}

static gt_status flatten_backward(gt_node *node) { return view_backward(node); }

/* The arguments of transpose: None for both means a 2-D tensor's two dims. */
typedef struct transpose_args {
    gt_ints dim0, dim1;
} transpose_args;

/* x seen as [outer, A, mid, B, inner] with A and B the two dims swapped. */
typedef struct swap_dims {
    int64_t outer, a, mid, b, inner;
} swap_dims;

static gt_status swap_dims_of(const gt_tensor *x, const transpose_args *args, swap_dims *s) {
    if (args->dim0.n == 0 && args->dim1.n == 0 && x->ndim != 2)
        return gt_set_error(GT_ERR_SHAPE, "transpose: expects a 2-D tensor when dim0 and dim1 "
                            "are not given, got %s", gt__shape_of(x));
    if ((args->dim0.n == 0) != (args->dim1.n == 0))
        return gt_set_error(GT_ERR_ARG, "transpose: give both dim0 and dim1, or neither");
    int rank = x->ndim ? x->ndim : 1;
    int64_t d0 = args->dim0.n ? args->dim0.v[0] : 0, d1 = args->dim1.n ? args->dim1.v[0] : 1;
    if (d0 < -rank || d0 >= rank || d1 < -rank || d1 >= rank)
        return gt_set_error(GT_ERR_ARG, "transpose: dims %lld and %lld are out of range for "
                            "shape %s", (long long)d0, (long long)d1, gt__shape_of(x));
    int a = (int)(d0 < 0 ? d0 + rank : d0), b = (int)(d1 < 0 ? d1 + rank : d1);
    if (a > b) {
        int t = a;
        a = b;
        b = t;
    }
    *s = (swap_dims){1, x->ndim ? x->shape[a] : 1, 1, x->ndim ? x->shape[b] : 1, 1};
    for (int d = 0; d < a; d++)
        s->outer *= x->shape[d];
    for (int d = a + 1; d < b; d++)
        s->mid *= x->shape[d];
    for (int d = b + 1; d < x->ndim; d++)
        s->inner *= x->shape[d];
    if (a == b)
        s->b = 1; /* swapping a dim with itself: a copy */
    return GT_OK;
}

// src[outer, A, mid, B, inner] -> dst[outer, B, mid, A, inner]; add accumulates
static void swap_copy(const swap_dims *s, const gt_real *src, gt_real *dst, bool add) {
    for (int64_t o = 0; o < s->outer; o++)
        for (int64_t i = 0; i < s->a; i++)
            for (int64_t m = 0; m < s->mid; m++)
                for (int64_t j = 0; j < s->b; j++) {
                    const gt_real *from =
                        src + (((o * s->a + i) * s->mid + m) * s->b + j) * s->inner;
                    gt_real *to = dst + (((o * s->b + j) * s->mid + m) * s->a + i) * s->inner;
                    for (int64_t k = 0; k < s->inner; k++)
                        to[k] = add ? to[k] + from[k] : from[k];
                }
}

static gt_tensor *transpose_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                    int n_in, const void *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    swap_dims s;
    if (gt__check_inputs(op->name, tape, in, 1, 1) != GT_OK ||
        swap_dims_of(x, args, &s) != GT_OK)
        return NULL;
    const transpose_args *a = args;
    int rank = x->ndim;
    int64_t shape[GT_MAX_DIMS];
    for (int d = 0; d < rank; d++)
        shape[d] = x->shape[d];
    if (rank >= 2) {
        int64_t d0 = a->dim0.n ? a->dim0.v[0] : 0, d1 = a->dim1.n ? a->dim1.v[0] : 1;
        int i = (int)(d0 < 0 ? d0 + rank : d0), j = (int)(d1 < 0 ? d1 + rank : d1);
        shape[i] = x->shape[j];
        shape[j] = x->shape[i];
    }
    gt_tensor *out = gt__op_output(tape, op, rank, shape);
    if (!out)
        return NULL;
    swap_copy(&s, x->data, out->data, false);
    return gt__op_finish(tape, op, out, in, 1, args, NULL);
}

// grad_out[outer, B, mid, A, inner] -> grad_x[outer, A, mid, B, inner] +=
static gt_status transpose_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    swap_dims s;
    gt_status status = swap_dims_of(x, node->attrs, &s);
    if (status != GT_OK)
        return status;
    swap_dims back = {s.outer, s.b, s.mid, s.a, s.inner};
    swap_copy(&back, node->out->grad, x->grad, true);
    return GT_OK;
}

// reshape, flatten: grad_x = g viewed with x's shape
static gt_status view_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                 gt_tensor **grad_in) {
    gt_tensor *x = node->in[0];
    grad_in[0] = x->ndim ? gt_reshape(tape, g, x->ndim, x->shape) : gt_sum(tape, g, GT_ALL_AXES);
    return grad_in[0] ? GT_OK : gt_last_status();
}

// grad_x = g with the same two dims swapped back
static gt_status transpose_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                      gt_tensor **grad_in) {
    grad_in[0] = gt_op_call(tape, &gt_op_transpose, &g, 1, node->attrs);
    return grad_in[0] ? GT_OK : gt_last_status();
}

static const gt_attr_def reshape_attrs[] = {
    {"shape", GT_ATTR_INTS, offsetof(reshape_args, shape),
     .flags = GT_ATTR_REQUIRED | GT_ATTR_HAS_MIN,
     .min = -1},
};

const gt_op_def gt_op_reshape = {
    .name = "reshape",
    .doc = "the same data with a new shape; one size may be -1",
    .shapes = "input[...] -> shape (the same number of elements)",
    .inputs = {{"input"}},
    GT__ATTRS(reshape_attrs),
    .args_size = sizeof(reshape_args),
    .forward = reshape_forward,
    .backward = reshape_backward,
    .grad_graph = view_grad_graph,
    GT__CASES("2x6; shape=[3, -1, 2]", "4; shape=[2, 2]", "(); shape=[1, 1]",
              "2x3; shape=[4, 2] => reshape: cannot view [2, 3] (6 elements) as [4, 2]",
              "2x3; shape=[-1, 4] => reshape: cannot view [2, 3] (6 elements) as [-1, 4]",
              "2x3; shape=[-2, 3] => reshape: shape must be >= -1, got -2"),
};

static const gt_attr_def flatten_attrs[] = {
    {"start_dim", GT_ATTR_INT, offsetof(flatten_args, start_dim), .dflt = 0},
    {"end_dim", GT_ATTR_INT, offsetof(flatten_args, end_dim), .dflt = -1},
};

const gt_op_def gt_op_flatten = {
    .name = "flatten",
    .doc = "dims start_dim..end_dim merged into one, as torch.flatten (no copy)",
    .shapes = "input[..., d_start .. d_end, ...] -> [..., d_start * ... * d_end, ...]",
    .inputs = {{"input"}},
    GT__ATTRS(flatten_attrs),
    .args_size = sizeof(flatten_args),
    .forward = flatten_forward,
    .backward = flatten_backward,
    .grad_graph = view_grad_graph,
    GT__CASES("2x3x2x2; start_dim=1", "3x2", "2x3x4x5; start_dim=1, end_dim=2",
              "2x3x4; end_dim=-2", "()",
              "2x3; start_dim=2 => flatten: start_dim 2 or end_dim -1 is out of range for "
              "shape [2, 3]",
              "2x3x4; start_dim=2, end_dim=1 => flatten: start_dim 2 comes after end_dim 1"),
};

static const gt_attr_def transpose_attrs[] = {
    {"dim0", GT_ATTR_INTS, offsetof(transpose_args, dim0), .max_len = 1,
     .flags = GT_ATTR_OPTIONAL},
    {"dim1", GT_ATTR_INTS, offsetof(transpose_args, dim1), .max_len = 1,
     .flags = GT_ATTR_OPTIONAL},
};

const gt_op_def gt_op_transpose = {
    .name = "transpose",
    .doc = "dims dim0 and dim1 swapped (a copy); without them, a 2-D tensor's transpose",
    .shapes = "input[..., A, ..., B, ...] -> [..., B, ..., A, ...]; input[M,N] -> [N,M]",
    .inputs = {{"input"}},
    GT__ATTRS(transpose_attrs),
    .args_size = sizeof(transpose_args),
    .forward = transpose_forward,
    .backward = transpose_backward,
    .grad_graph = transpose_grad_graph,
    GT__CASES("3x5", "2x3x4; dim0=0, dim1=2", "2x3x4x5; dim0=-1, dim1=1", "2x3; dim0=1, dim1=1",
              "2x3x4 => transpose: expects a 2-D tensor when dim0 and dim1 are not given, got "
              "[2, 3, 4]",
              "2x3; dim0=0, dim1=2 => transpose: dims 0 and 2 are out of range for shape [2, 3]",
              "2x3; dim0=0 => transpose: give both dim0 and dim1, or neither"),
};

gt_tensor *gt_reshape(gt_tape *tape, gt_tensor *x, int ndim, const int64_t *shape) {
    reshape_args args = {0};
    if (ndim < 1 || ndim > GT_MAX_DIMS || !shape) {
        gt_set_error(GT_ERR_SHAPE, "reshape: rank %d is outside 1..%d", ndim, GT_MAX_DIMS);
        return NULL;
    }
    args.shape.n = ndim;
    for (int d = 0; d < ndim; d++)
        args.shape.v[d] = shape[d];
    return gt_op_call(tape, &gt_op_reshape, &x, 1, &args);
}

gt_tensor *gt_flatten(gt_tape *tape, gt_tensor *x, int start_dim) {
    return gt_op_call(tape, &gt_op_flatten, &x, 1, &(flatten_args){start_dim, -1});
}

gt_tensor *gt_transpose(gt_tape *tape, gt_tensor *x, int dim0, int dim1) {
    transpose_args args = {{1, {dim0}}, {1, {dim1}}};
    return gt_op_call(tape, &gt_op_transpose, &x, 1, &args);
}
