/* index.c - joining and picking: cat and stack (a variadic input: any number of tensors),
 * split and chunk (C functions over narrow). Each copy is a strided region
 * (gt__region_copy, ops/shape.c). */
#include "gt_ops_impl.h"

#include <stddef.h>

/* ---- cat and stack ---------------------------------------------------------------------- */

enum { JOIN_CAT, JOIN_STACK };

/* The arguments of cat and stack. */
typedef struct join_args {
    int64_t dim;
} join_args;

/* The output of a cat or stack: its shape, and dim, the dim the inputs are laid along. */
typedef struct join_dims {
    int dim, ndim;
    int64_t shape[GT_MAX_DIMS];
    int64_t stride[GT_MAX_DIMS];
} join_dims;

static gt_status join_dims_of(const gt_op_def *op, gt_tensor *const *in, int n,
                              const join_args *args, join_dims *j) {
    const gt_tensor *x = in[0];
    bool stack = op->variant == JOIN_STACK;
    if (!stack && x->ndim == 0)
        return gt_set_error(GT_ERR_SHAPE, "cat: cannot concatenate 0-d tensors");
    if (stack && x->ndim == GT_MAX_DIMS)
        return gt_set_error(GT_ERR_SHAPE, "stack: %s already has the most dims (%d)",
                            gt__shape_of(x), GT_MAX_DIMS);
    j->ndim = x->ndim + stack;
    j->dim = gt__dim_index(op->name, args->dim, j->ndim, x);
    if (j->dim < 0)
        return GT_ERR_ARG;
    for (int i = 1; i < n; i++) {
        bool fits = in[i]->ndim == x->ndim;
        for (int d = 0; fits && d < x->ndim; d++)
            fits = in[i]->shape[d] == x->shape[d] || (!stack && d == j->dim);
        if (!fits && stack)
            return gt_set_error(GT_ERR_SHAPE, "stack: tensors %d and 0 differ in shape: %s vs "
                                "%s", i, gt__shape_of(in[i]), gt__shape_of(x));
        if (!fits)
            return gt_set_error(GT_ERR_SHAPE, "cat: tensors %d and 0 differ outside dim %d: %s "
                                "vs %s", i, j->dim, gt__shape_of(in[i]), gt__shape_of(x));
    }
    for (int d = 0, k = 0; d < j->ndim; d++)
        j->shape[d] = stack && d == j->dim ? n : x->shape[k++];
    if (!stack) {
        j->shape[j->dim] = 0;
        for (int i = 0; i < n; i++)
            j->shape[j->dim] += in[i]->shape[j->dim];
    }
    gt__contiguous_strides(j->ndim, j->shape, j->stride);
    return GT_OK;
}

/* The region of the output that input x fills from position `at` along the dim. */
static gt__region join_region(const join_dims *j, const gt_tensor *x, bool stack, int64_t at) {
    gt__region r = {.ndim = j->ndim};
    for (int d = 0; d < j->ndim; d++) {
        r.shape[d] = d != j->dim ? j->shape[d] : stack ? 1 : x->shape[d];
        r.dst_stride[d] = j->stride[d];
    }
    gt__contiguous_strides(r.ndim, r.shape, r.src_stride);
    r.dst_off = at * j->stride[j->dim];
    return r;
}

// in_i[..., n_i, ...] -> out[..., sum n_i, ...] (cat); in_i[S] -> out[..., n, ...] (stack)
static gt_tensor *join_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                               int n_in, const void *args) {
    join_dims j;
    if (gt__check_inputs(op->name, tape, in, n_in, n_in) != GT_OK ||
        join_dims_of(op, in, n_in, args, &j) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, j.ndim, j.shape);
    if (!out)
        return NULL;
    bool stack = op->variant == JOIN_STACK;
    for (int i = 0, at = 0; i < n_in; i++) {
        gt__region r = join_region(&j, in[i], stack, at);
        gt__region_copy(&r, in[i]->data, out->data, false);
        at += (int)r.shape[j.dim];
    }
    return gt__op_finish(tape, op, out, in, n_in, args, NULL);
}

// grad_in_i += the slice of grad_out that in_i filled
static gt_status join_backward(gt_node *node) {
    join_dims j;
    const gt_op_def *op = node->op;
    gt_status status = join_dims_of(op, node->in, node->n_in, node->attrs, &j);
    if (status != GT_OK)
        return status;
    bool stack = op->variant == JOIN_STACK;
    for (int i = 0, at = 0; i < node->n_in; i++) {
        gt__region r = join_region(&j, node->in[i], stack, at), back = r;
        for (int d = 0; d < r.ndim; d++) {
            back.src_stride[d] = r.dst_stride[d];
            back.dst_stride[d] = r.src_stride[d];
        }
        back.src_off = r.dst_off;
        back.dst_off = 0;
        if (node->in[i]->grad)
            gt__region_copy(&back, node->out->grad, node->in[i]->grad, true);
        at += (int)r.shape[j.dim];
    }
    return GT_OK;
}

static const gt_attr_def join_attrs[] = {
    {"dim", GT_ATTR_INT, offsetof(join_args, dim), .dflt = 0},
};

const gt_op_def gt_op_cat = {
    .name = "cat",
    .doc = "the tensors joined along dim (every other size equal), as torch.cat",
    .shapes = "tensors [A, B1], [A, B2], ... with dim 1 -> [A, B1 + B2 + ...]",
    .inputs = {{"tensors", .variadic = true}},
    GT__ATTRS(join_attrs),
    .args_size = sizeof(join_args),
    .forward = join_forward,
    .backward = join_backward,
    .variant = JOIN_CAT,
    GT__CASES("2x3 4x3", "2x3 2x1 2x2; dim=1", "2x3x2 2x1x2; dim=-2", "5", "2x3 0x3",
              "1x2 2x2 3x2 1x2 2x2 1x2; dim=0",
              "2x3 2x4 => cat: tensors 1 and 0 differ outside dim 0: [2, 4] vs [2, 3]",
              "2x3 2 => cat: tensors 1 and 0 differ outside dim 0: [2] vs [2, 3]",
              "2x3 2x3; dim=2 => cat: dim 2 is out of range for shape [2, 3]",
              "() () => cat: cannot concatenate 0-d tensors",
              "; dim=0 => cat: takes at least 1 tensor input, got 0"),
};

const gt_op_def gt_op_stack = {
    .name = "stack",
    .doc = "the tensors (of one shape) joined along a new dim, as torch.stack",
    .shapes = "tensors n x [A, B] with dim 1 -> [A, n, B]",
    .inputs = {{"tensors", .variadic = true}},
    GT__ATTRS(join_attrs),
    .args_size = sizeof(join_args),
    .forward = join_forward,
    .backward = join_backward,
    .variant = JOIN_STACK,
    GT__CASES("2x3 2x3", "2x3 2x3 2x3; dim=1", "2x3 2x3; dim=2", "2x3 2x3; dim=-1", "() ()",
              "3", "2x3 2x3 2x3 2x3 2x3; dim=-3",
              "2x3 3x2 => stack: tensors 1 and 0 differ in shape: [3, 2] vs [2, 3]",
              "2x3 2x3; dim=3 => stack: dim 3 is out of range for shape [2, 3] (expected -3..2)"),
};

gt_tensor *gt_cat(gt_tape *tape, gt_tensor *const *tensors, int n, int dim) {
    return gt_op_call(tape, &gt_op_cat, tensors, n, &(join_args){dim});
}

gt_tensor *gt_stack(gt_tape *tape, gt_tensor *const *tensors, int n, int dim) {
    return gt_op_call(tape, &gt_op_stack, tensors, n, &(join_args){dim});
}

/* ---- split and chunk (C functions over narrow) ------------------------------------------ */

/* x cut along dim into pieces of `size` (the last smaller), as torch.split. */
static int split_pieces(const char *name, gt_tape *tape, gt_tensor *x, int64_t size, int dim,
                        gt_tensor **out, int max_out) {
    if (gt__check_input(name, tape, x) != GT_OK)
        return -1;
    if (x->ndim == 0)
        return gt_set_error(GT_ERR_SHAPE, "%s: cannot split a 0-d tensor", name), -1;
    int d = gt__dim_index(name, dim, x->ndim, x);
    if (d < 0)
        return -1;
    int64_t total = x->shape[d];
    int64_t count = size > 0 ? (total + size - 1) / size : -1;
    if (total == 0 && size >= 0)
        count = 1; /* PyTorch: one empty piece */
    if (count < 0)
        return gt_set_error(GT_ERR_ARG, "%s: split_size must be >= 1, got %lld", name,
                            (long long)size), -1;
    if (count > max_out || !out)
        return gt_set_error(GT_ERR_ARG, "%s: %s along dim %d gives %lld pieces, more than "
                            "max_out %d", name, gt__shape_of(x), d, (long long)count,
                            max_out), -1;
    for (int64_t i = 0; i < count; i++) {
        int64_t start = i * size, length = total - start < size ? total - start : size;
        out[i] = gt_narrow(tape, x, d, start, length);
        if (!out[i])
            return -1;
    }
    return (int)count;
}

int gt_split_into(gt_tape *tape, gt_tensor *x, int64_t split_size, int dim, gt_tensor **out,
                  int max_out) {
    return split_pieces("split", tape, x, split_size, dim, out, max_out);
}

int gt_chunk(gt_tape *tape, gt_tensor *x, int chunks, int dim, gt_tensor **out, int max_out) {
    if (chunks < 1)
        return gt_set_error(GT_ERR_ARG, "chunk: chunks must be >= 1, got %d", chunks), -1;
    if (x && gt__check_input("chunk", tape, x) == GT_OK && x->ndim > 0) {
        int d = gt__dim_index("chunk", dim, x->ndim, x);
        if (d < 0)
            return -1;
        int64_t size = (x->shape[d] + chunks - 1) / chunks;
        return split_pieces("chunk", tape, x, size ? size : 1, dim, out, max_out);
    }
    return split_pieces("chunk", tape, x, 1, dim, out, max_out);
}
