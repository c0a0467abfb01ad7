/* index.c - joining and picking: cat and stack (a variadic input: any number of tensors),
 * split and chunk (C functions over narrow), index_select, gather and embedding, and
 * their gradients index_add and scatter_add. Joins
 * copy strided regions (gt__region_copy, ops/shape.c).
 *
 * Index tensors: gradtape has one element type, so an index tensor is a gt_real tensor
 * holding whole numbers (as cross_entropy's class indices), checked whole and in range at
 * the call ("gather: index holds 7 at position 5: ..."); it never takes a gradient. */
#include "gt_ops_impl.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* Every value of index is a whole number in 0..bound-1; else an error naming the op, the
 * position and the value. */
static gt_status check_index(const char *op, const gt_tensor *index, int64_t bound) {
    for (int64_t i = 0; i < index->numel; i++) {
        double v = (double)index->data[i];
        if (!(v == floor(v) && v >= 0 && v < (double)bound))
            return gt_set_error(GT_ERR_ARG, "%s: index holds %g at position %lld: an index is a "
                                "whole number in 0..%lld", op, v, (long long)i,
                                (long long)bound - 1);
    }
    return GT_OK;
}

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
        gt__region r = join_region(&j, node->in[i], stack, at), back = gt__region_reversed(&r);
        if (node->in[i]->grad)
            gt__region_copy(&back, node->out->grad, node->in[i]->grad, true);
        at += (int)r.shape[j.dim];
    }
    return GT_OK;
}

// grad_in_i = the slice of g that in_i filled (narrow; for stack, viewed as in_i)
static gt_status join_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                 gt_tensor **grad_in) {
    join_dims j;
    const gt_op_def *op = node->op;
    gt_status status = join_dims_of(op, node->in, node->n_in, node->attrs, &j);
    bool stack = op->variant == JOIN_STACK;
    for (int i = 0, at = 0; status == GT_OK && i < node->n_in; i++) {
        gt_tensor *x = node->in[i];
        int64_t size = stack ? 1 : x->shape[j.dim];
        if (gt__needs_grad(node, i)) {
            gt_tensor *slice = gt_narrow(tape, g, j.dim, at, size);
            if (stack && slice)
                slice = x->ndim ? gt_reshape(tape, slice, x->ndim, x->shape)
                                : gt_sum(tape, slice, GT_ALL_AXES);
            if (!(grad_in[i] = slice))
                status = gt_last_status();
        }
        at += (int)size;
    }
    return status;
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
    .grad_graph = join_grad_graph,
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
    .grad_graph = join_grad_graph,
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

/* ---- index_select, gather, embedding ----------------------------------------------------- */

/* The arguments of index_select and gather. */
typedef struct index_args {
    int64_t dim;
} index_args;

/* input seen as [outer, size, inner] around dim. */
typedef struct dim_split {
    int dim;
    int64_t outer, size, inner;
} dim_split;

static gt_status dim_split_of(const char *op, const gt_tensor *x, int64_t dim, dim_split *s) {
    if (x->ndim == 0)
        return gt_set_error(GT_ERR_SHAPE, "%s: input must have at least 1 dim, got []", op);
    s->dim = gt__dim_index(op, dim, x->ndim, x);
    if (s->dim < 0)
        return GT_ERR_ARG;
    s->outer = s->inner = 1;
    s->size = x->shape[s->dim];
    for (int d = 0; d < s->dim; d++)
        s->outer *= x->shape[d];
    for (int d = s->dim + 1; d < x->ndim; d++)
        s->inner *= x->shape[d];
    return GT_OK;
}

static gt_status index_select_check(const gt_tensor *x, const gt_tensor *index,
                                    const index_args *args, dim_split *s) {
    gt_status status = dim_split_of("index_select", x, args->dim, s);
    if (status != GT_OK)
        return status;
    if (index->ndim > 1)
        return gt_set_error(GT_ERR_SHAPE, "index_select: index must be 1-D (or 0-d), got %s",
                            gt__shape_of(index));
    return check_index("index_select", index, s->size);
}

// x[outer, size, inner], index[n] -> out[outer, n, inner] = x[outer, index[j], inner]
static gt_tensor *index_select_forward(const gt_op_def *op, gt_tape *tape,
                                       gt_tensor *const *in, int n_in, const void *args) {
    (void)n_in;
    dim_split s = {0};
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK ||
        index_select_check(in[0], in[1], args, &s) != GT_OK)
        return NULL;
    const gt_tensor *x = in[0], *index = in[1];
    int64_t shape[GT_MAX_DIMS], n = index->numel;
    for (int d = 0; d < x->ndim; d++)
        shape[d] = d == s.dim ? n : x->shape[d];
    gt_tensor *out = gt__op_output(tape, op, x->ndim, shape);
    if (!out)
        return NULL;
    for (int64_t o = 0; o < s.outer; o++)
        for (int64_t j = 0; j < n; j++) {
            const gt_real *from = x->data + (o * s.size + (int64_t)index->data[j]) * s.inner;
            gt_real *to = out->data + (o * n + j) * s.inner;
            for (int64_t k = 0; k < s.inner; k++)
                to[k] = from[k];
        }
    return gt__op_finish(tape, op, out, in, 2, args, NULL);
}

// grad_x[outer, index[j], inner] += grad_out[outer, j, inner]
static gt_status index_select_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *index = node->in[1];
    dim_split s = {0};
    gt_status status = index_select_check(x, index, node->attrs, &s);
    if (status != GT_OK || !x->grad)
        return status;
    int64_t n = index->numel;
    for (int64_t o = 0; o < s.outer; o++)
        for (int64_t j = 0; j < n; j++) {
            gt_real *to = x->grad + (o * s.size + (int64_t)index->data[j]) * s.inner;
            const gt_real *from = node->out->grad + (o * n + j) * s.inner;
            for (int64_t k = 0; k < s.inner; k++)
                to[k] += from[k];
        }
    return GT_OK;
}

static gt_status gather_check(const gt_tensor *x, const gt_tensor *index,
                              const index_args *args, dim_split *s) {
    gt_status status = dim_split_of("gather", x, args->dim, s);
    if (status != GT_OK)
        return status;
    bool fits = index->ndim == x->ndim;
    for (int d = 0; fits && d < x->ndim; d++)
        fits = d == s->dim || index->shape[d] <= x->shape[d];
    if (!fits)
        return gt_set_error(GT_ERR_SHAPE, "gather: index %s must have the dims of input %s, "
                            "none larger outside dim %d", gt__shape_of(index), gt__shape_of(x),
                            s->dim);
    return check_index("gather", index, s->size);
}

/* What index_walk does at each position p of index. */
typedef enum walk_kind {
    WALK_GATHER,      /* other[p] = x[picked] (gather) */
    WALK_GATHER_ADD,  /* other[p] += x[picked] (scatter_add's gradient of src) */
    WALK_SCATTER_ADD, /* x[picked] += other[p] (scatter_add; gather's gradient) */
} walk_kind;

/* Walks index in row-major order; the element of x (of x_shape's strides) that position p
 * picks is at p's coordinates with the dim-th replaced by index[p]; other is a contiguous
 * tensor of other_shape (index's own shape for gather, src's for scatter_add: index's sizes
 * are no larger) read or written at p's coordinates. */
// x[..., size, ...], index[...], other[>= index's sizes] -> as walk_kind says
static void index_walk(const gt_tensor *x_shape, const gt_tensor *index, int dim,
                       const int64_t *other_shape, gt_real *x, gt_real *other, walk_kind kind) {
    int64_t xstride[GT_MAX_DIMS], ostride[GT_MAX_DIMS], idx[GT_MAX_DIMS] = {0}, base = 0, at_o = 0;
    gt__contiguous_strides(x_shape->ndim, x_shape->shape, xstride);
    gt__contiguous_strides(index->ndim, other_shape, ostride);
    for (int64_t i = 0; i < index->numel; i++) {
        int64_t at = base + (int64_t)index->data[i] * xstride[dim];
        switch (kind) {
        case WALK_GATHER: other[at_o] = x[at]; break;
        case WALK_GATHER_ADD: other[at_o] += x[at]; break;
        case WALK_SCATTER_ADD: x[at] += other[at_o]; break;
        }
        for (int d = index->ndim - 1; d >= 0; d--) {
            if (d != dim)
                base += xstride[d];
            at_o += ostride[d];
            if (++idx[d] < index->shape[d])
                break;
            if (d != dim)
                base -= xstride[d] * index->shape[d];
            at_o -= ostride[d] * index->shape[d];
            idx[d] = 0;
        }
    }
}

// x[..., size, ...], index[..., n, ...] -> out[index's shape]
static gt_tensor *gather_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                 int n_in, const void *args) {
    (void)n_in;
    dim_split s = {0};
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK ||
        gather_check(in[0], in[1], args, &s) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, in[1]->ndim, in[1]->shape);
    if (!out)
        return NULL;
    index_walk(in[0], in[1], s.dim, in[1]->shape, in[0]->data, out->data, WALK_GATHER);
    return gt__op_finish(tape, op, out, in, 2, args, NULL);
}

// grad_x[picked] += grad_out (a scatter-add)
static gt_status gather_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *index = node->in[1];
    dim_split s = {0};
    gt_status status = gather_check(x, index, node->attrs, &s);
    if (status != GT_OK || !x->grad)
        return status;
    index_walk(x, index, s.dim, index->shape, x->grad, node->out->grad, WALK_SCATTER_ADD);
    return GT_OK;
}

static gt_status embedding_check(const gt_tensor *index, const gt_tensor *weight) {
    if (weight->ndim != 2)
        return gt_set_error(GT_ERR_SHAPE, "embedding: weight must be 2-D [num_embeddings, "
                            "embedding_dim], got %s", gt__shape_of(weight));
    if (index->ndim == GT_MAX_DIMS)
        return gt_set_error(GT_ERR_SHAPE, "embedding: input %s already has the most dims (%d)",
                            gt__shape_of(index), GT_MAX_DIMS);
    return check_index("embedding", index, weight->shape[0]);
}

// input[...] (indices), weight[V, E] -> out[..., E] = weight[input[...], :]
static gt_tensor *embedding_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                    int n_in, const void *args) {
    (void)n_in;
    (void)args;
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK ||
        embedding_check(in[0], in[1]) != GT_OK)
        return NULL;
    const gt_tensor *index = in[0], *weight = in[1];
    int64_t shape[GT_MAX_DIMS], e = weight->shape[1];
    for (int d = 0; d < index->ndim; d++)
        shape[d] = index->shape[d];
    shape[index->ndim] = e;
    gt_tensor *out = gt__op_output(tape, op, index->ndim + 1, shape);
    if (!out)
        return NULL;
    for (int64_t i = 0; i < index->numel; i++)
        for (int64_t k = 0; k < e; k++)
            out->data[i * e + k] = weight->data[(int64_t)index->data[i] * e + k];
    return gt__op_finish(tape, op, out, in, 2, NULL, NULL);
}

// grad_weight[input[i], :] += grad_out[i, :]
static gt_status embedding_backward(gt_node *node) {
    gt_tensor *index = node->in[0], *weight = node->in[1];
    if (!weight->grad)
        return GT_OK;
    int64_t e = weight->shape[1];
    for (int64_t i = 0; i < index->numel; i++)
        for (int64_t k = 0; k < e; k++)
            weight->grad[(int64_t)index->data[i] * e + k] += node->out->grad[i * e + k];
    return GT_OK;
}

/* ---- index_add and scatter_add: the scatters (the gradients of the picks above) ----------- */

/* The arguments of index_add (scatter_add takes index_args). */
typedef struct index_add_args {
    int64_t dim;
    double alpha;
} index_add_args;

static gt_status index_add_check(const gt_tensor *x, const gt_tensor *index,
                                 const gt_tensor *source, int64_t dim, dim_split *s) {
    gt_status status = dim_split_of("index_add", x, dim, s);
    if (status != GT_OK)
        return status;
    if (index->ndim > 1)
        return gt_set_error(GT_ERR_SHAPE, "index_add: index must be 1-D (or 0-d), got %s",
                            gt__shape_of(index));
    bool fits = source->ndim == x->ndim;
    for (int d = 0; fits && d < x->ndim; d++)
        fits = source->shape[d] == (d == s->dim ? index->numel : x->shape[d]);
    if (!fits)
        return gt_set_error(GT_ERR_SHAPE, "index_add: source %s must be input %s with dim %d "
                            "of size %lld (index's length)", gt__shape_of(source),
                            gt__shape_of(x), s->dim, (long long)index->numel);
    return check_index("index_add", index, s->size);
}

// x[outer, size, inner], index[n], source[outer, n, inner] -> out = x with
// out[outer, index[j], inner] += alpha * source[outer, j, inner]
static gt_tensor *index_add_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                    int n_in, const void *args_ptr) {
    (void)n_in;
    const index_add_args *args = args_ptr;
    dim_split s = {0};
    if (gt__check_inputs(op->name, tape, in, 3, 3) != GT_OK ||
        index_add_check(in[0], in[1], in[2], args->dim, &s) != GT_OK)
        return NULL;
    const gt_tensor *x = in[0], *index = in[1], *source = in[2];
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    memcpy(out->data, x->data, (size_t)x->numel * sizeof(gt_real));
    gt_real alpha = (gt_real)args->alpha;
    int64_t n = index->numel;
    for (int64_t o = 0; o < s.outer; o++)
        for (int64_t j = 0; j < n; j++) {
            gt_real *to = out->data + (o * s.size + (int64_t)index->data[j]) * s.inner;
            const gt_real *from = source->data + (o * n + j) * s.inner;
            for (int64_t k = 0; k < s.inner; k++)
                to[k] += alpha * from[k];
        }
    return gt__op_finish(tape, op, out, in, 3, args, NULL);
}

// grad_x += grad_out; grad_source[outer, j, inner] += alpha * grad_out[outer, index[j], inner]
static gt_status index_add_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *index = node->in[1], *source = node->in[2];
    const index_add_args *args = node->attrs;
    dim_split s = {0};
    gt_status status = index_add_check(x, index, source, args->dim, &s);
    if (status != GT_OK)
        return status;
    const gt_real *g = node->out->grad;
    if (x->grad)
        for (int64_t i = 0; i < x->numel; i++)
            x->grad[i] += g[i];
    if (!source->grad)
        return GT_OK;
    gt_real alpha = (gt_real)args->alpha;
    int64_t n = index->numel;
    for (int64_t o = 0; o < s.outer; o++)
        for (int64_t j = 0; j < n; j++) {
            const gt_real *from = g + (o * s.size + (int64_t)index->data[j]) * s.inner;
            gt_real *to = source->grad + (o * n + j) * s.inner;
            for (int64_t k = 0; k < s.inner; k++)
                to[k] += alpha * from[k];
        }
    return GT_OK;
}

static gt_status scatter_add_check(const gt_tensor *x, const gt_tensor *index,
                                   const gt_tensor *src, int64_t dim, dim_split *s) {
    gt_status status = dim_split_of("scatter_add", x, dim, s);
    if (status != GT_OK)
        return status;
    bool fits = index->ndim == x->ndim && src->ndim == x->ndim;
    for (int d = 0; fits && d < x->ndim; d++)
        fits = index->shape[d] <= src->shape[d] && (d == s->dim || index->shape[d] <= x->shape[d]);
    if (!fits)
        return gt_set_error(GT_ERR_SHAPE, "scatter_add: index %s must have the dims of input %s "
                            "and src %s, none larger than src's, nor than input's outside dim "
                            "%d", gt__shape_of(index), gt__shape_of(x), gt__shape_of(src), s->dim);
    return check_index("scatter_add", index, s->size);
}

// x[...], index[...], src[...] -> out = x with out[p with p_dim = index[p]] += src[p], for every
// position p of index
static gt_tensor *scatter_add_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                      int n_in, const void *args) {
    (void)n_in;
    dim_split s = {0};
    if (gt__check_inputs(op->name, tape, in, 3, 3) != GT_OK ||
        scatter_add_check(in[0], in[1], in[2], ((const index_args *)args)->dim, &s) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, in[0]->ndim, in[0]->shape);
    if (!out)
        return NULL;
    memcpy(out->data, in[0]->data, (size_t)out->numel * sizeof(gt_real));
    index_walk(out, in[1], s.dim, in[2]->shape, out->data, in[2]->data, WALK_SCATTER_ADD);
    return gt__op_finish(tape, op, out, in, 3, args, NULL);
}

// grad_x += grad_out; grad_src[p] += grad_out[picked by p] (src's elements past index's
// sizes take no part: their gradient is 0)
static gt_status scatter_add_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *index = node->in[1], *src = node->in[2];
    dim_split s = {0};
    gt_status status = scatter_add_check(x, index, src, ((const index_args *)node->attrs)->dim,
                                         &s);
    if (status != GT_OK)
        return status;
    gt_real *g = node->out->grad;
    if (x->grad)
        for (int64_t i = 0; i < x->numel; i++)
            x->grad[i] += g[i];
    if (src->grad)
        index_walk(x, index, s.dim, src->shape, g, src->grad, WALK_GATHER_ADD);
    return GT_OK;
}

/* t grown with zeros at the end of each dim to `shape` (no size of t larger): the gradient
 * of src where index is smaller, as cats, so that it has a gradient written with ops. */
static gt_tensor *zero_extended(gt_tape *tape, gt_tensor *t, const gt_tensor *like) {
    for (int d = 0; t && d < like->ndim; d++) {
        if (t->shape[d] == like->shape[d])
            continue;
        int64_t shape[GT_MAX_DIMS];
        for (int k = 0; k < t->ndim; k++)
            shape[k] = k == d ? like->shape[d] - t->shape[d] : t->shape[k];
        gt_tensor *zeros = gt_tape_tensor(tape, t->ndim, shape);
        if (!zeros)
            return NULL;
        t = gt_cat(tape, (gt_tensor *[]){t, zeros}, 2, d);
    }
    return t;
}

// index_select: grad_x = index_add(0, dim, index, g)
static gt_status index_select_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                         gt_tensor **grad_in) {
    const index_args *a = node->attrs;
    gt_tensor *zeros = gt__const_like(tape, node->in[0], 0);
    grad_in[0] = zeros ? gt_index_add(tape, zeros, (int)a->dim, node->in[1], g, 1) : NULL;
    return grad_in[0] ? GT_OK : gt_last_status();
}

// gather: grad_x = scatter_add(0, dim, index, g)
static gt_status gather_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                   gt_tensor **grad_in) {
    const index_args *a = node->attrs;
    gt_tensor *zeros = gt__const_like(tape, node->in[0], 0);
    grad_in[0] = zeros ? gt_scatter_add(tape, zeros, (int)a->dim, node->in[1], g) : NULL;
    return grad_in[0] ? GT_OK : gt_last_status();
}

// embedding: grad_weight = index_add(0, 0, input flattened, g as [n, E])
static gt_status embedding_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                      gt_tensor **grad_in) {
    gt_tensor *index = node->in[0], *weight = node->in[1];
    gt_tensor *zeros = gt__const_like(tape, weight, 0);
    gt_tensor *flat = gt_reshape(tape, index, 1, (int64_t[]){index->numel});
    gt_tensor *rows = gt_reshape(tape, g, 2, (int64_t[]){index->numel, weight->shape[1]});
    grad_in[1] = zeros && flat && rows ? gt_index_add(tape, zeros, 0, flat, rows, 1) : NULL;
    return grad_in[1] ? GT_OK : gt_last_status();
}

// index_add: grad_x = g, grad_source = alpha * index_select(g, dim, index)
static gt_status index_add_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                      gt_tensor **grad_in) {
    const index_add_args *a = node->attrs;
    grad_in[0] = g;
    if (gt__needs_grad(node, 2) &&
        !(grad_in[2] = gt_scale(tape, gt_index_select(tape, g, (int)a->dim, node->in[1]),
                                a->alpha)))
        return gt_last_status();
    return GT_OK;
}

// scatter_add: grad_x = g, grad_src = gather(g, dim, index) (zeros past index's sizes)
static gt_status scatter_add_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                        gt_tensor **grad_in) {
    const index_args *a = node->attrs;
    grad_in[0] = g;
    if (gt__needs_grad(node, 2) &&
        !(grad_in[2] = zero_extended(tape, gt_gather(tape, g, (int)a->dim, node->in[1]),
                                     node->in[2])))
        return gt_last_status();
    return GT_OK;
}

static const gt_attr_def index_attrs[] = {
    {"dim", GT_ATTR_INT, offsetof(index_args, dim), .flags = GT_ATTR_REQUIRED,
     .after_input = 1}, /* index_select(input, dim, index) */
};

const gt_op_def gt_op_index_select = {
    .name = "index_select",
    .doc = "the entries of dim that index lists, in its order (repeats allowed), as "
           "torch.index_select; index holds whole numbers (no gradient)",
    .shapes = "input[A, B, C], index[n] with dim 1 -> [A, n, C]",
    .inputs = {{"input"}, {"index", GT_DOMAIN_INDEX, .no_grad = true}},
    GT__ATTRS(index_attrs),
    .args_size = sizeof(index_args),
    .forward = index_select_forward,
    .backward = index_select_backward,
    .grad_graph = index_select_grad_graph,
    GT__CASES("4x3 5; dim=0", "2x4x3 6; dim=1", "2x4x3 2; dim=-1", "4 ():index; dim=0",
              "4x3 0; dim=0",
              "4x3 2x2; dim=0 => index_select: index must be 1-D (or 0-d), got [2, 2]",
              "4x3 2; dim=2 => index_select: dim 2 is out of range for shape [4, 3]",
              "() 1; dim=0 => index_select: input must have at least 1 dim, got []"),
};

const gt_op_def gt_op_gather = {
    .name = "gather",
    .doc = "out[i][j][k] = input[i][index[i][j][k]][k] for dim 1 (likewise for any dim), as "
           "torch.gather; index holds whole numbers (no gradient)",
    .shapes = "input[A, B, C], index[A', n, C'] (A' <= A, C' <= C) with dim 1 -> [A', n, C']",
    .inputs = {{"input"}, {"index", GT_DOMAIN_INDEX, .no_grad = true}},
    GT__ATTRS(index_attrs),
    .args_size = sizeof(index_args),
    .forward = gather_forward,
    .backward = gather_backward,
    .grad_graph = gather_grad_graph,
    GT__CASES("4x3 6x3; dim=0", "2x4x3 2x5x3; dim=1", "2x4x3 1x2x4; dim=-1", "5 3; dim=0",
              "3x4 2x1; dim=1", "3x4 0x4; dim=0",
              "4x3 2; dim=0 => gather: index [2] must have the dims of input [4, 3], none "
              "larger outside dim 0",
              "4x3 2x4; dim=0 => gather: index [2, 4] must have the dims of input [4, 3]",
              "4x3 2x3; dim=-3 => gather: dim -3 is out of range for shape [4, 3]"),
};

static const gt_attr_def index_add_attrs[] = {
    {"dim", GT_ATTR_INT, offsetof(index_add_args, dim), .flags = GT_ATTR_REQUIRED,
     .after_input = 1}, /* index_add(input, dim, index, source) */
    {"alpha", GT_ATTR_FLOAT, offsetof(index_add_args, alpha), .dflt = 1},
};

const gt_op_def gt_op_index_add = {
    .name = "index_add",
    .doc = "input with alpha * source's entries of dim added at the entries index lists "
           "(repeats add up), as torch.index_add; index_select's gradient",
    .shapes = "input[A, B, C], index[n], source[A, n, C] with dim 1 -> [A, B, C]",
    .inputs = {{"input"}, {"index", GT_DOMAIN_INDEX, .no_grad = true}, {"source"}},
    GT__ATTRS(index_add_attrs),
    .args_size = sizeof(index_add_args),
    .forward = index_add_forward,
    .backward = index_add_backward,
    .grad_graph = index_add_grad_graph,
    GT__CASES("4x3 5 5x3; dim=0", "2x4x3 6 2x6x3; dim=1, alpha=-0.5", "2x4x3 2 2x4x2; dim=-1",
              "4 ():index 1; dim=0, alpha=2", "4x3 0 0x3; dim=0",
              "4x3 2x2 4x3; dim=0 => index_add: index must be 1-D (or 0-d), got [2, 2]",
              "4x3 2 3x3; dim=0 => index_add: source [3, 3] must be input [4, 3] with dim 0 of "
              "size 2 (index's length)",
              "4x3 2 2x3; dim=2 => index_add: dim 2 is out of range for shape [4, 3]",
              "() 1 1; dim=0 => index_add: input must have at least 1 dim, got []"),
};

const gt_op_def gt_op_scatter_add = {
    .name = "scatter_add",
    .doc = "input with src[p] added at p's place with the dim-th coordinate replaced by "
           "index[p], for every position p of index (repeats add up), as torch.scatter_add; "
           "gather's gradient",
    .shapes = "input[A, B, C], index[A', n, C'], src[>= A', >= n, >= C'] (A' <= A, C' <= C) "
              "with dim 1 -> [A, B, C]",
    .inputs = {{"input"}, {"index", GT_DOMAIN_INDEX, .no_grad = true}, {"src"}},
    GT__ATTRS(index_attrs),
    .args_size = sizeof(index_args),
    .forward = scatter_add_forward,
    .backward = scatter_add_backward,
    .grad_graph = scatter_add_grad_graph,
    GT__CASES("4x3 6x3 6x3; dim=0", "2x4x3 2x5x3 2x5x3; dim=1", "2x4x3 1x2x4 1x2x4; dim=-1",
              "5 3 3; dim=0", "3x4 2x1 2x1; dim=1", "3x4 0x4 0x4; dim=0",
              "4x3 2 2; dim=0 => scatter_add: index [2] must have the dims of input [4, 3]",
              "4x3 2x3 1x3; dim=0 => scatter_add: index [2, 3] must have the dims of input "
              "[4, 3] and src [1, 3], none larger than src's",
              "4x3 2x3 2x3; dim=-3 => scatter_add: dim -3 is out of range for shape [4, 3]"),
};

const gt_op_def gt_op_embedding = {
    .name = "embedding",
    .doc = "the rows of weight that input lists, as torch.nn.functional.embedding; input "
           "holds whole numbers (no gradient)",
    .shapes = "input[...] (indices), weight[V, E] -> [..., E]",
    .inputs = {{"input", GT_DOMAIN_INDEX, .no_grad = true, .bound_input = 1}, {"weight"}},
    .forward = embedding_forward,
    .backward = embedding_backward,
    .grad_graph = embedding_grad_graph,
    GT__CASES("5 7x3", "2x4 10x4", "() 3x2", "3 1x5", "0 4x3",
              "3 4x3x2 => embedding: weight must be 2-D [num_embeddings, embedding_dim], got "
              "[4, 3, 2]",
              "2x2 4 => embedding: weight must be 2-D"),
};

gt_tensor *gt_index_select(gt_tape *tape, gt_tensor *x, int dim, gt_tensor *index) {
    return gt_op_call(tape, &gt_op_index_select, (gt_tensor *[]){x, index}, 2,
                      &(index_args){dim});
}

gt_tensor *gt_gather(gt_tape *tape, gt_tensor *x, int dim, gt_tensor *index) {
    return gt_op_call(tape, &gt_op_gather, (gt_tensor *[]){x, index}, 2, &(index_args){dim});
}

gt_tensor *gt_embedding(gt_tape *tape, gt_tensor *input, gt_tensor *weight) {
    return gt_op_call(tape, &gt_op_embedding, (gt_tensor *[]){input, weight}, 2, NULL);
}

gt_tensor *gt_index_add(gt_tape *tape, gt_tensor *x, int dim, gt_tensor *index,
                        gt_tensor *source, double alpha) {
    return gt_op_call(tape, &gt_op_index_add, (gt_tensor *[]){x, index, source}, 3,
                      &(index_add_args){dim, alpha});
}

gt_tensor *gt_scatter_add(gt_tape *tape, gt_tensor *x, int dim, gt_tensor *index,
                          gt_tensor *src) {
    return gt_op_call(tape, &gt_op_scatter_add, (gt_tensor *[]){x, index, src}, 3,
                      &(index_args){dim});
}
