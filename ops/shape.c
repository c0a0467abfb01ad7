/* shape.c - reshape, flatten, unsqueeze and squeeze (views, no copy); transpose, permute,
 * expand and narrow (copies through one strided region, gt__region_copy). */
#include "gt_ops_impl.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- strided regions -------------------------------------------------------------------- */

void gt__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride) {
    int64_t step = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        stride[d] = step;
        step *= shape[d];
    }
}

int gt__dim_index(const char *op, int64_t dim, int rank, const gt_tensor *x) {
    if (dim < -rank || dim >= rank) {
        gt_set_error(GT_ERR_ARG, "%s: dim %lld is out of range for shape %s (expected %d..%d)",
                     op, (long long)dim, gt__shape_of(x), -rank, rank - 1);
        return -1;
    }
    return (int)(dim < 0 ? dim + rank : dim);
}

gt__region gt__region_reversed(const gt__region *r) {
    gt__region back = *r;
    for (int d = 0; d < r->ndim; d++) {
        back.src_stride[d] = r->dst_stride[d];
        back.dst_stride[d] = r->src_stride[d];
    }
    back.src_off = r->dst_off;
    back.dst_off = r->src_off;
    return back;
}

// region[shape]: dst[dst_off + i . dst_stride] (+)= src[src_off + i . src_stride]
void gt__region_copy(const gt__region *r, const gt_real *src, gt_real *dst, bool add) {
    int nd = r->ndim;
    for (int d = 0; d < nd; d++)
        if (r->shape[d] == 0)
            return;
    if (nd == 0) {
        dst[r->dst_off] = add ? dst[r->dst_off] + src[r->src_off] : src[r->src_off];
        return;
    }
    int64_t idx[GT_MAX_DIMS] = {0}, so = r->src_off, dof = r->dst_off;
    int64_t inner = r->shape[nd - 1], ss = r->src_stride[nd - 1], ds = r->dst_stride[nd - 1];
    for (;;) {
        const gt_real *s = src + so;
        gt_real *d = dst + dof;
        if (add)
            for (int64_t k = 0; k < inner; k++)
                d[k * ds] += s[k * ss];
        else if (ss == 1 && ds == 1)
            for (int64_t k = 0; k < inner; k++)
                d[k] = s[k];
        else
            for (int64_t k = 0; k < inner; k++)
                d[k * ds] = s[k * ss];
        int k = nd - 2;
        for (; k >= 0; k--) {
            so += r->src_stride[k];
            dof += r->dst_stride[k];
            if (++idx[k] < r->shape[k])
                break;
            so -= r->src_stride[k] * r->shape[k];
            dof -= r->dst_stride[k] * r->shape[k];
            idx[k] = 0;
        }
        if (k < 0)
            return;
    }
}

// x[...] -> view with shape[ndim] of the same numel
static gt_tensor *view_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *x, int ndim,
                               const int64_t *shape, const void *args) {
    gt_tensor *out = gt__tape_view(tape, op->name, x, ndim, shape);
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, args, &node);
    if (node)
        node->overwrites = 1u; /* a stale grad_x is written whole (gt__grad_mark_stale) */
    return out;
}

// grad_out has x's numel in the same order: grad_x += grad_out (= when stale)
static gt_status view_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    if (gt__grad_take_stale(x))
        memcpy(x->grad, node->out->grad, gt__real_bytes(x->numel));
    else
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

/* ---- pad ------------------------------------------------------------------------------- */

/* The arguments of pad: pad as F.pad's list (last dim first: left, right, then the dim
 * before, ...; negative entries crop); mode an index into pad_modes (gt_pad_mode); value
 * NAN = None = 0. */
typedef struct pad_args {
    gt_ints pad;
    int mode;
    double value;
} pad_args;

static const char pad_modes[] = "constant|reflect|replicate|circular";

/* What the backward and the gradient graph read: for each output dim d, map[d][o] is the
 * index along x's dim d that output index o copies, or -1 (constant mode's border). */
typedef struct pad_maps {
    int64_t *map[GT_MAX_DIMS];
} pad_maps;

/* The name of mode in pad_modes, as "%.*s" arguments. */
static int mode_len(int mode, const char **name) {
    *name = pad_modes;
    for (int k = 0; k < mode && strchr(*name, '|'); k++)
        *name = strchr(*name, '|') + 1;
    return (int)strcspn(*name, "|");
}

/* Checks pad against x under PyTorch 1.13's rules of each mode; fills lo, hi (0 for dims
 * the pad list does not reach) and the output shape. */
static gt_status pad_check(const gt_tensor *x, const pad_args *a, int64_t *lo, int64_t *hi,
                           int64_t *out_shape) {
    char buf[160];
    const char *name;
    int len = mode_len(a->mode, &name), k = a->pad.n / 2;
    gt_shape_str(a->pad.n, a->pad.v, buf, sizeof buf);
    if (a->pad.n % 2)
        return gt_set_error(GT_ERR_ARG, "pad: pad %s has an odd length; it takes (left, right) "
                            "pairs from the last dim", buf);
    if (k > x->ndim)
        return gt_set_error(GT_ERR_SHAPE, "pad: pad %s pads %d dims, more than %s has", buf, k,
                            gt__shape_of(x));
    if (a->mode != GT_PAD_CONSTANT) {
        if (!isnan(a->value) && a->value != 0)
            return gt_set_error(GT_ERR_ARG, "pad: mode \"%.*s\" takes no value, got %g", len,
                                name, a->value);
        if (k < 1 || k > 3 || x->ndim < k + 1 || x->ndim > k + 2)
            return gt_set_error(GT_ERR_SHAPE, "pad: mode \"%.*s\" pads the last 1, 2 or 3 dims "
                                "of an input with 1 or 2 dims more (pad of 2 for 2-D or 3-D, 4 "
                                "for 3-D or 4-D, 6 for 4-D or 5-D), got pad %s for %s", len, name,
                                buf, gt__shape_of(x));
        if (a->mode == GT_PAD_CIRCULAR && x->ndim != k + 2)
            return gt_set_error(GT_ERR_SHAPE, "pad: mode \"circular\" pads every dim after the "
                                "first two: a pad of length %d for %s, got %s",
                                2 * (x->ndim - 2), gt__shape_of(x), buf);
        for (int d = x->ndim - k - 1; a->mode != GT_PAD_CIRCULAR && d < x->ndim; d++)
            if (d >= 0 && x->shape[d] == 0 && (d > 0 || x->ndim == k + 1))
                return gt_set_error(GT_ERR_SHAPE, "pad: mode \"%.*s\" takes no empty dim but "
                                    "the batch (dim 0 of %d-D), got %s", len, name, k + 2,
                                    gt__shape_of(x));
    }
    for (int d = 0; d < x->ndim; d++) {
        int j = x->ndim - 1 - d;
        lo[d] = j < k ? a->pad.v[2 * j] : 0;
        hi[d] = j < k ? a->pad.v[2 * j + 1] : 0;
        int64_t n = x->shape[d], kept = n - (lo[d] < 0 ? -lo[d] : 0) - (hi[d] < 0 ? -hi[d] : 0);
        if (a->mode == GT_PAD_REFLECT && (lo[d] >= n || hi[d] >= n))
            return gt_set_error(GT_ERR_SHAPE, "pad: mode \"reflect\" takes pads below the size "
                                "of their dim, got (%lld, %lld) at dim %d of %s",
                                (long long)lo[d], (long long)hi[d], d, gt__shape_of(x));
        if (a->mode == GT_PAD_CIRCULAR && (lo[d] > kept || hi[d] > kept))
            return gt_set_error(GT_ERR_SHAPE, "pad: mode \"circular\" wraps around at most "
                                "once: pads (%lld, %lld) at dim %d of %s exceed the %lld entries "
                                "kept", (long long)lo[d], (long long)hi[d], d, gt__shape_of(x),
                                (long long)(kept > 0 ? kept : 0));
        out_shape[d] = n + lo[d] + hi[d];
        if (out_shape[d] < 0)
            return gt_set_error(GT_ERR_SHAPE, "pad: pad %s leaves dim %d of %s with size %lld",
                                buf, d, gt__shape_of(x), (long long)out_shape[d]);
    }
    return GT_OK;
}

/* The index along a dim of size n that output index o copies, or -1: constant takes
 * x[o - lo] or the value, reflect mirrors about the ends (not repeating them), replicate
 * repeats the ends, circular wraps around the entries that a negative pad leaves. */
static int64_t pad_source(int mode, int64_t o, int64_t n, int64_t lo, int64_t hi) {
    int64_t j = o - lo;
    switch (mode) {
    case GT_PAD_CONSTANT: return j >= 0 && j < n ? j : -1;
    case GT_PAD_REFLECT: j = j < 0 ? -j : j; return j >= n ? 2 * (n - 1) - j : j;
    case GT_PAD_REPLICATE: return j < 0 ? 0 : j >= n ? n - 1 : j;
    default: { /* circular: crop first, then wrap the kept entries */
        int64_t start = lo < 0 ? -lo : 0, kept = n - start - (hi < 0 ? -hi : 0);
        int64_t w = (o - (lo > 0 ? lo : 0)) % kept;
        return start + (w < 0 ? w + kept : w);
    }
    }
}

// grad_out == NULL: out[o] = x[map(o)], or value where a map is -1 (the forward);
// else grad_x[map(o)] += grad_out[o] (the backward). x[...] -> out[...] of the maps' sizes.
static void pad_copy(const gt_tensor *x, const int64_t *out_shape, int64_t out_numel,
                     const pad_maps *m, gt_real value, gt_real *out, const gt_real *grad_out,
                     gt_real *grad_x) {
    int64_t idx[GT_MAX_DIMS] = {0}, stride[GT_MAX_DIMS];
    gt__contiguous_strides(x->ndim, x->shape, stride);
    for (int64_t o = 0; o < out_numel; o++) {
        int64_t at = 0;
        bool inside = true;
        for (int d = 0; d < x->ndim; d++) {
            int64_t s = m->map[d][idx[d]];
            inside = inside && s >= 0;
            at += s * stride[d];
        }
        if (!grad_out)
            out[o] = inside ? x->data[at] : value;
        else if (inside)
            grad_x[at] += grad_out[o];
        for (int d = x->ndim - 1; d >= 0 && ++idx[d] == out_shape[d]; d--)
            idx[d] = 0;
    }
}

// x[..., n, ...] -> out[..., lo + n + hi, ...]: value, x's mirror, its ends or its wrap
// around x (negative lo/hi crop)
static gt_tensor *pad_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                              int n_in, const void *args_ptr) {
    (void)n_in;
    const pad_args *args = args_ptr;
    gt_tensor *x = in[0];
    int64_t shape[GT_MAX_DIMS], lo[GT_MAX_DIMS], hi[GT_MAX_DIMS], total = 0;
    if (gt__check_inputs(op->name, tape, in, 1, 1) != GT_OK ||
        pad_check(x, args, lo, hi, shape) != GT_OK)
        return NULL;
    for (int d = 0; d < x->ndim; d++)
        total += shape[d];
    gt_tensor *out = gt__op_output(tape, op, x->ndim, shape);
    pad_maps *m = out ? gt__tape_alloc(tape, sizeof *m, op->name) : NULL;
    int64_t *maps = m ? gt__tape_alloc(tape, (size_t)(total + 1) * sizeof *maps, op->name) : NULL;
    if (!maps)
        return NULL;
    for (int d = 0; d < x->ndim; maps += shape[d], d++) {
        m->map[d] = maps;
        for (int64_t o = 0; o < shape[d]; o++)
            maps[o] = pad_source(args->mode, o, x->shape[d], lo[d], hi[d]);
    }
    pad_copy(x, shape, out->numel, m, isnan(args->value) ? 0 : (gt_real)args->value, out->data,
             NULL, NULL);
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 1, args, &node);
    if (node)
        node->saved = m;
    return out;
}

// grad_x[map(o)] += grad_out[o]
static gt_status pad_backward(gt_node *node) {
    const gt_tensor *y = node->out;
    pad_copy(node->in[0], y->shape, y->numel, node->saved, 0, NULL, y->grad, node->in[0]->grad);
    return GT_OK;
}

// grad_x = g with each padded dim d contracted with the constant 0/1 matrix S_d[m_d, n_d]
// (S_d[o, map_d(o)] = 1): g moved to the last dim, @ S_d, moved back. Linear in g.
static gt_status pad_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                gt_tensor **grad_in) {
    const gt_tensor *x = node->in[0];
    const pad_maps *m = node->saved;
    const pad_args *args = node->attrs;
    gt_tensor *h = g;
    for (int d = 0; h && d < x->ndim; d++) {
        int j = x->ndim - 1 - d, last = x->ndim - 1;
        if (j >= args->pad.n / 2 || (args->pad.v[2 * j] == 0 && args->pad.v[2 * j + 1] == 0))
            continue;
        gt_tensor *s = gt_tape_tensor(tape, 2, (int64_t[]){node->out->shape[d], x->shape[d]});
        if (!s)
            return gt_last_status();
        for (int64_t o = 0; o < node->out->shape[d]; o++)
            if (m->map[d][o] >= 0)
                s->data[o * x->shape[d] + m->map[d][o]] += 1;
        h = d == last ? gt_matmul(tape, h, s)
                      : gt_transpose(tape, gt_matmul(tape, gt_transpose(tape, h, d, last), s), d,
                                     last);
    }
    grad_in[0] = h;
    return h ? GT_OK : gt_last_status();
}

static const gt_attr_def pad_attrs[] = {
    {"pad", GT_ATTR_INTS, offsetof(pad_args, pad), .flags = GT_ATTR_REQUIRED},
    {"mode", GT_ATTR_ENUM, offsetof(pad_args, mode), .dflt = 0, .choices = pad_modes},
    {"value", GT_ATTR_FLOAT, offsetof(pad_args, value), .dflt = NAN, .flags = GT_ATTR_OPTIONAL},
};

const gt_op_def gt_op_pad = {
    .name = "pad",
    .doc = "input padded as torch.nn.functional.pad: pad lists (left, right) pairs from the "
           "last dim back; negative entries crop; mode \"constant\" fills value (None is 0), "
           "\"reflect\" mirrors input about its ends, \"replicate\" repeats its ends, "
           "\"circular\" wraps it around (these three pad the last 1-3 dims of an input with "
           "1 or 2 more; circular every dim after the first two)",
    .shapes = "input[A, B] with pad [l, r, t, b] -> [A + t + b, B + l + r]",
    .inputs = {{"input"}},
    GT__ATTRS(pad_attrs),
    .args_size = sizeof(pad_args),
    .forward = pad_forward,
    .backward = pad_backward,
    .grad_graph = pad_grad_graph,
    GT__CASES("2x3; pad=[1, 2]", "2x3x4; pad=[1, 0, 2, 1], value=0.5", "2x3; pad=[-1, 1]",
              "2x3x4; pad=[0, -2, -1, 0, 1, 1]", "3; pad=[2, 2], mode=\"constant\"",
              "2x3; pad=[-3, 0]", "2x3; pad=[0, 0, 0, 0], value=None",
              "2x5; pad=[2, 3], mode=\"reflect\"", "2x3x4; pad=[3, 1, 2, 0], mode=\"reflect\"",
              "1x2x3x4; pad=[-1, 2, 1, 1], mode=\"reflect\"",
              "2x2x3x4x3; pad=[1, 1, 0, 2, 1, 0], mode=\"reflect\"",
              "2x3x4; pad=[1, 2], mode=\"reflect\", value=0",
              "2x3; pad=[2, 1], mode=\"replicate\"", "2x3x1; pad=[3, -1, 1, 0], mode=\"replicate\"",
              "1x2x3x4; pad=[4, 0, 0, 5], mode=\"replicate\"",
              "2x1x2x3x2; pad=[1, 1, 1, 1, 2, 0], mode=\"replicate\"",
              "2x3x4; pad=[2, 4], mode=\"circular\"", "2x3x5; pad=[-1, 2], mode=\"circular\"",
              "2x1x3x4; pad=[2, -1, 3, 1], mode=\"circular\"",
              "1x2x2x3x4; pad=[1, 0, 2, 2, 1, 1], mode=\"circular\"",
              "0x3x4; pad=[1, 1], mode=\"replicate\"",
              "2x3; pad=[1] => pad: pad [1] has an odd length",
              "2x3; pad=[1, 1, 1, 1, 1, 1] => pad: pad [1, 1, 1, 1, 1, 1] pads 3 dims, more than "
              "[2, 3] has",
              "2x3; pad=[-3, -1] => pad: pad [-3, -1] leaves dim 1 of [2, 3] with size -1",
              "2x3; pad=[1, 1], mode=\"wrap\" => pad: mode must be one of "
              "\"constant|reflect|replicate|circular\", got \"wrap\"",
              "3; pad=[1, 1], mode=\"reflect\" => pad: mode \"reflect\" pads the last 1, 2 or 3 "
              "dims of an input with 1 or 2 dims more",
              "2x3x4x5; pad=[1, 1], mode=\"replicate\" => pad: mode \"replicate\" pads the last "
              "1, 2 or 3 dims of an input with 1 or 2 dims more (pad of 2 for 2-D or 3-D, 4 for "
              "3-D or 4-D, 6 for 4-D or 5-D), got pad [1, 1] for [2, 3, 4, 5]",
              "2x3x4; pad=[1, 1], mode=\"reflect\", value=1 => pad: mode \"reflect\" takes no "
              "value, got 1",
              "2x3x4; pad=[4, 0], mode=\"reflect\" => pad: mode \"reflect\" takes pads below the "
              "size of their dim, got (4, 0) at dim 2 of [2, 3, 4]",
              "2x3x1; pad=[0, 1], mode=\"reflect\" => pad: mode \"reflect\" takes pads below the "
              "size of their dim, got (0, 1) at dim 2 of [2, 3, 1]",
              "2x3; pad=[1, 1], mode=\"circular\" => pad: mode \"circular\" pads every dim after "
              "the first two: a pad of length 0 for [2, 3], got [1, 1]",
              "2x3x4; pad=[5, 0], mode=\"circular\" => pad: mode \"circular\" wraps around at "
              "most once: pads (5, 0) at dim 2 of [2, 3, 4] exceed the 4 entries kept",
              "2x3x4; pad=[-3, 2], mode=\"circular\" => pad: mode \"circular\" wraps around at "
              "most once",
              "2x0x4; pad=[1, 1], mode=\"reflect\" => pad: mode \"reflect\" takes no empty dim "
              "but the batch (dim 0 of 3-D), got [2, 0, 4]"),
};

gt_tensor *gt_pad(gt_tape *tape, gt_tensor *x, gt_ints pad, gt_pad_mode mode, double value) {
    return gt_op_call(tape, &gt_op_pad, &x, 1, &(pad_args){pad, (int)mode, value});
}

/* ---- unsqueeze and squeeze (views) ------------------------------------------------------ */

/* The arguments of unsqueeze. */
typedef struct unsqueeze_args {
    int64_t dim;
} unsqueeze_args;

// x[..., d_dim, ...] -> [..., 1, d_dim, ...] (a view)
static gt_tensor *unsqueeze_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                    int n_in, const void *args_ptr) {
    (void)n_in;
    const unsqueeze_args *args = args_ptr;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, in, 1, 1) != GT_OK)
        return NULL;
    if (x->ndim == GT_MAX_DIMS) {
        gt_set_error(GT_ERR_SHAPE, "unsqueeze: %s already has the most dims (%d)",
                     gt__shape_of(x), GT_MAX_DIMS);
        return NULL;
    }
    int at = gt__dim_index(op->name, args->dim, x->ndim + 1, x);
    if (at < 0)
        return NULL;
    int64_t shape[GT_MAX_DIMS];
    for (int d = 0, k = 0; d <= x->ndim; d++)
        shape[d] = d == at ? 1 : x->shape[k++];
    return view_forward(op, tape, x, x->ndim + 1, shape, NULL);
}

static gt_status unsqueeze_backward(gt_node *node) { return view_backward(node); }

/* The arguments of squeeze: dim None (n = 0) removes every size-1 dim. */
typedef struct squeeze_args {
    gt_ints dim;
} squeeze_args;

// x[..., 1, ...] -> [..., ...] (a view): the size-1 dims among `dim` (all when None) removed
static gt_tensor *squeeze_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                  int n_in, const void *args_ptr) {
    (void)n_in;
    const squeeze_args *args = args_ptr;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, in, 1, 1) != GT_OK)
        return NULL;
    bool chosen[GT_MAX_DIMS] = {0};
    for (int k = 0; k < args->dim.n; k++) {
        int d = gt__dim_index(op->name, args->dim.v[k], x->ndim ? x->ndim : 1, x);
        if (d < 0)
            return NULL;
        chosen[d] = true;
    }
    int64_t shape[GT_MAX_DIMS];
    int ndim = 0;
    for (int d = 0; d < x->ndim; d++)
        if (x->shape[d] != 1 || (args->dim.n && !chosen[d]))
            shape[ndim++] = x->shape[d];
    return view_forward(op, tape, x, ndim, shape, NULL);
}

static gt_status squeeze_backward(gt_node *node) { return view_backward(node); }

/* ---- permute, expand, narrow (one strided region each) ---------------------------------- */

enum { STRIDED_PERMUTE, STRIDED_EXPAND, STRIDED_NARROW };

/* The arguments of permute. */
typedef struct permute_args {
    gt_ints dims;
} permute_args;

/* The arguments of expand: -1 keeps a size. */
typedef struct expand_args {
    gt_ints size;
} expand_args;

/* The arguments of narrow. */
typedef struct narrow_args {
    int64_t dim, start, length;
} narrow_args;

// out[i] = x[perm: i_d along x's dim dims[d]]
static gt_status permute_region(const gt_tensor *x, const permute_args *a, gt__region *r,
                                const int64_t *stride) {
    if (a->dims.n != (x->ndim ? x->ndim : 1) || x->ndim == 0) {
        char buf[160];
        gt_shape_str(a->dims.n, a->dims.v, buf, sizeof buf);
        return gt_set_error(GT_ERR_SHAPE, "permute: dims %s do not match the %d dims of %s",
                            buf, x->ndim, gt__shape_of(x));
    }
    bool seen[GT_MAX_DIMS] = {0};
    for (int d = 0; d < x->ndim; d++) {
        int from = gt__dim_index("permute", a->dims.v[d], x->ndim, x);
        if (from < 0)
            return GT_ERR_ARG;
        if (seen[from])
            return gt_set_error(GT_ERR_ARG, "permute: dim %lld is repeated in dims",
                                (long long)a->dims.v[d]);
        seen[from] = true;
        r->shape[d] = x->shape[from];
        r->src_stride[d] = stride[from];
    }
    r->ndim = x->ndim;
    return GT_OK;
}

// out[sizes] = x broadcast: new leading dims and size-1 dims repeat (stride 0)
static gt_status expand_region(const gt_tensor *x, const expand_args *a, gt__region *r,
                               const int64_t *stride) {
    char buf[160];
    if (a->size.n < x->ndim)
        return gt_set_error(GT_ERR_SHAPE, "expand: size %s has fewer dims than %s",
                            gt_shape_str(a->size.n, a->size.v, buf, sizeof buf), gt__shape_of(x));
    int lead = a->size.n - x->ndim;
    for (int d = 0; d < a->size.n; d++) {
        int64_t want = a->size.v[d], have = d < lead ? 1 : x->shape[d - lead];
        if (d < lead && want < 0)
            return gt_set_error(GT_ERR_ARG, "expand: size %s: -1 is not allowed in a new "
                                "leading dim (%d)", gt_shape_str(a->size.n, a->size.v, buf, sizeof buf), d);
        if (want == -1)
            want = have;
        if (want != have && have != 1)
            return gt_set_error(GT_ERR_SHAPE, "expand: cannot expand %s to %s: dim %d has size "
                                "%lld, not 1", gt__shape_of(x),
                                gt_shape_str(a->size.n, a->size.v, buf, sizeof buf), d, (long long)have);
        r->shape[d] = want;
        r->src_stride[d] = d < lead || have != want ? 0 : stride[d - lead];
    }
    r->ndim = a->size.n;
    return GT_OK;
}

// out[..., length, ...] = x[..., start : start + length, ...] along dim
static gt_status narrow_region(const gt_tensor *x, const narrow_args *a, gt__region *r,
                               const int64_t *stride) {
    if (x->ndim == 0)
        return gt_set_error(GT_ERR_SHAPE, "narrow: cannot narrow a 0-d tensor");
    int dim = gt__dim_index("narrow", a->dim, x->ndim, x);
    if (dim < 0)
        return GT_ERR_ARG;
    int64_t size = x->shape[dim], start = a->start < 0 ? a->start + size : a->start;
    if (start < 0 || start > size)
        return gt_set_error(GT_ERR_ARG, "narrow: start %lld is out of range for dim %d of %s",
                            (long long)a->start, dim, gt__shape_of(x));
    if (start + a->length > size)
        return gt_set_error(GT_ERR_ARG, "narrow: start %lld + length %lld exceeds dim %d of %s",
                            (long long)start, (long long)a->length, dim, gt__shape_of(x));
    r->ndim = x->ndim;
    for (int d = 0; d < x->ndim; d++) {
        r->shape[d] = d == dim ? a->length : x->shape[d];
        r->src_stride[d] = stride[d];
    }
    r->src_off = start * stride[dim];
    return GT_OK;
}

/* The region that reads the op's output from x (src: x, dst: the contiguous output). */
static gt_status strided_region(const gt_op_def *op, const gt_tensor *x, const void *args,
                                gt__region *r) {
    int64_t stride[GT_MAX_DIMS];
    gt__contiguous_strides(x->ndim, x->shape, stride);
    *r = (gt__region){0};
    gt_status status = GT_ERR_ARG;
    switch (op->variant) {
    case STRIDED_PERMUTE: status = permute_region(x, args, r, stride); break;
    case STRIDED_EXPAND: status = expand_region(x, args, r, stride); break;
    case STRIDED_NARROW: status = narrow_region(x, args, r, stride); break;
    }
    if (status == GT_OK)
        gt__contiguous_strides(r->ndim, r->shape, r->dst_stride);
    return status;
}

static gt_tensor *strided_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                  int n_in, const void *args) {
    (void)n_in;
    gt__region r;
    if (gt__check_inputs(op->name, tape, in, 1, 1) != GT_OK ||
        strided_region(op, in[0], args, &r) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, r.ndim, r.shape);
    if (!out)
        return NULL;
    gt__region_copy(&r, in[0]->data, out->data, false);
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 1, args, &node);
    if (node && op->variant == STRIDED_PERMUTE) /* every element of grad_x once */
        node->overwrites = 1u; /* a stale grad_x is written whole (gt__grad_mark_stale) */
    return out;
}

// grad_x (x's strides) += grad_out (contiguous), summing the repeats of a stride-0 dim; a
// permute's stale grad_x is written (=) instead
static gt_status strided_backward(gt_node *node) {
    gt__region r;
    gt_status status = strided_region(node->op, node->in[0], node->attrs, &r);
    if (status != GT_OK)
        return status;
    gt__region back = gt__region_reversed(&r);
    bool add = !((node->overwrites & 1u) && gt__grad_take_stale(node->in[0]));
    gt__region_copy(&back, node->out->grad, node->in[0]->grad, add);
    return GT_OK;
}

// permute: grad_x = g permuted back; expand: g summed over the repeats; narrow: g between
// zeros along dim (a cat, so that this gradient has a gradient written with ops too)
static gt_status strided_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                    gt_tensor **grad_in) {
    gt_tensor *x = node->in[0];
    switch (gt__node_variant(node)) {
    case STRIDED_PERMUTE: {
        const permute_args *a = node->attrs;
        permute_args back = {{x->ndim, {0}}};
        for (int d = 0; d < x->ndim; d++)
            back.dims.v[a->dims.v[d] < 0 ? a->dims.v[d] + x->ndim : a->dims.v[d]] = d;
        grad_in[0] = gt_op_call(tape, &gt_op_permute, &g, 1, &back);
        break;
    }
    case STRIDED_EXPAND: grad_in[0] = gt__sum_to(tape, g, x); break;
    case STRIDED_NARROW: {
        const narrow_args *a = node->attrs;
        int dim = gt__dim_index("narrow", a->dim, x->ndim, x);
        int64_t size = x->shape[dim], start = a->start < 0 ? a->start + size : a->start;
        int64_t lengths[3] = {start, a->length, size - start - a->length};
        gt_tensor *parts[3];
        int n = 0;
        for (int k = 0; k < 3; k++) {
            if (k == 1) {
                parts[n++] = g;
                continue;
            }
            if (lengths[k] == 0)
                continue;
            int64_t shape[GT_MAX_DIMS];
            for (int d = 0; d < x->ndim; d++)
                shape[d] = d == dim ? lengths[k] : x->shape[d];
            if (!(parts[n++] = gt_tape_tensor(tape, x->ndim, shape))) /* zeros */
                return gt_last_status();
        }
        grad_in[0] = n == 1 ? g : gt_cat(tape, parts, n, dim);
        break;
    }
    }
    return grad_in[0] ? GT_OK : gt_last_status();
}

static const gt_attr_def unsqueeze_attrs[] = {
    {"dim", GT_ATTR_INT, offsetof(unsqueeze_args, dim), .flags = GT_ATTR_REQUIRED},
};

const gt_op_def gt_op_unsqueeze = {
    .name = "unsqueeze",
    .doc = "a size-1 dim inserted at dim (a view); dim counts from the end when negative",
    .shapes = "input[A, B] with dim 1 -> [A, 1, B]",
    .inputs = {{"input"}},
    GT__ATTRS(unsqueeze_attrs),
    .args_size = sizeof(unsqueeze_args),
    .forward = unsqueeze_forward,
    .backward = unsqueeze_backward,
    .grad_graph = view_grad_graph,
    GT__CASES("2x3; dim=1", "2x3; dim=0", "2x3; dim=2", "2x3; dim=-1", "2x3; dim=-3",
              "(); dim=0", "0x3; dim=1",
              "2x3; dim=3 => unsqueeze: dim 3 is out of range for shape [2, 3] (expected -3..2)",
              "2x3; dim=-4 => unsqueeze: dim -4 is out of range for shape [2, 3]",
              "2x1x1x1x1x1x1x1; dim=0 => unsqueeze: [2, 1, 1, 1, 1, 1, 1, 1] already has the "
              "most dims (8)"),
};

static const gt_attr_def squeeze_attrs[] = {
    {"dim", GT_ATTR_INTS, offsetof(squeeze_args, dim), .flags = GT_ATTR_OPTIONAL},
};

const gt_op_def gt_op_squeeze = {
    .name = "squeeze",
    .doc = "the size-1 dims removed (a view): all of them, or those among dim (an int or a "
           "list; a dim of another size stays)",
    .shapes = "input[A, 1, B, 1] -> [A, B]; with dim=1 -> [A, B, 1]",
    .inputs = {{"input"}},
    GT__ATTRS(squeeze_attrs),
    .args_size = sizeof(squeeze_args),
    .forward = squeeze_forward,
    .backward = squeeze_backward,
    .grad_graph = view_grad_graph,
    GT__CASES("2x1x3x1", "2x1x3x1; dim=1", "2x1x3x1; dim=-1", "2x1x3x1; dim=0",
              "2x1x3x1; dim=[1, 3]", "1x1", "(); dim=0", "3", "1x0x1",
              "2x3; dim=2 => squeeze: dim 2 is out of range for shape [2, 3] (expected -2..1)",
              "2x1; dim=[0, -3] => squeeze: dim -3 is out of range for shape [2, 1]"),
};

static const gt_attr_def permute_attrs[] = {
    {"dims", GT_ATTR_INTS, offsetof(permute_args, dims), .flags = GT_ATTR_REQUIRED},
};

const gt_op_def gt_op_permute = {
    .name = "permute",
    .doc = "the dims reordered (a copy): output dim d is input dim dims[d]",
    .shapes = "input[A, B, C] with dims [0, 2, 1] -> [A, C, B]",
    .inputs = {{"input"}},
    GT__ATTRS(permute_attrs),
    .args_size = sizeof(permute_args),
    .forward = strided_forward,
    .backward = strided_backward,
    .grad_graph = strided_grad_graph,
    .variant = STRIDED_PERMUTE,
    GT__CASES("2x3x4; dims=[0, 2, 1]", "2x3x4; dims=[2, 0, 1]", "2x3x4x5; dims=[3, 1, 0, 2]",
              "2x3; dims=[-1, -2]", "5; dims=[0]", "2x1x3; dims=[1, 2, 0]", "2x0x3; dims=[2, 1, 0]",
              "2x3x4; dims=[0, 1] => permute: dims [0, 1] do not match the 3 dims of [2, 3, 4]",
              "2x3; dims=[0, 0] => permute: dim 0 is repeated in dims",
              "2x3; dims=[0, 2] => permute: dim 2 is out of range for shape [2, 3]"),
};

static const gt_attr_def expand_attrs[] = {
    {"size", GT_ATTR_INTS, offsetof(expand_args, size), .flags = GT_ATTR_REQUIRED | GT_ATTR_HAS_MIN,
     .min = -1},
};

const gt_op_def gt_op_expand = {
    .name = "expand",
    .doc = "size-1 dims repeated to size (a copy; -1 keeps a size); new dims may lead",
    .shapes = "input[3, 1] with size [2, 3, 4] -> [2, 3, 4]",
    .inputs = {{"input"}},
    GT__ATTRS(expand_attrs),
    .args_size = sizeof(expand_args),
    .forward = strided_forward,
    .backward = strided_backward,
    .grad_graph = strided_grad_graph,
    .variant = STRIDED_EXPAND,
    GT__CASES("3x1; size=[3, 4]", "3x1; size=[2, 3, 4]", "3x1; size=[-1, 5]",
              "1x2x1; size=[2, 3, -1, 4]", "(); size=[2, 3]", "2x3; size=[2, 3]",
              "3x1; size=[3, 0]",
              "2x3; size=[4, 3] => expand: cannot expand [2, 3] to [4, 3]: dim 0 has size 2, "
              "not 1",
              "2x3; size=[3] => expand: size [3] has fewer dims than [2, 3]",
              "3; size=[-1, 3] => expand: size [-1, 3]: -1 is not allowed in a new leading dim",
              "3; size=[-2] => expand: size must be >= -1, got -2"),
};

static const gt_attr_def narrow_attrs[] = {
    {"dim", GT_ATTR_INT, offsetof(narrow_args, dim), .flags = GT_ATTR_REQUIRED},
    {"start", GT_ATTR_INT, offsetof(narrow_args, start), .flags = GT_ATTR_REQUIRED},
    {"length", GT_ATTR_INT, offsetof(narrow_args, length),
     .flags = GT_ATTR_REQUIRED | GT_ATTR_HAS_MIN, .min = 0},
};

const gt_op_def gt_op_narrow = {
    .name = "narrow",
    .doc = "length entries of dim from start (a copy); a negative start counts from the end",
    .shapes = "input[A, B] with dim 1 -> [A, length]",
    .inputs = {{"input"}},
    GT__ATTRS(narrow_attrs),
    .args_size = sizeof(narrow_args),
    .forward = strided_forward,
    .backward = strided_backward,
    .grad_graph = strided_grad_graph,
    .variant = STRIDED_NARROW,
    GT__CASES("4x5; dim=1, start=1, length=3", "4x5; dim=0, start=0, length=4",
              "4x5x2; dim=-2, start=-2, length=2", "4x5; dim=0, start=2, length=0",
              "4x5; dim=1, start=5, length=0",
              "4x5; dim=2, start=0, length=1 => narrow: dim 2 is out of range for shape [4, 5]",
              "4x5; dim=1, start=3, length=3 => narrow: start 3 + length 3 exceeds dim 1 of "
              "[4, 5]",
              "4x5; dim=1, start=-6, length=1 => narrow: start -6 is out of range for dim 1 of "
              "[4, 5]",
              "4x5; dim=1, start=0, length=-1 => narrow: length must be >= 0, got -1",
              "(); dim=0, start=0, length=1 => narrow: cannot narrow a 0-d tensor"),
};

gt_tensor *gt_unsqueeze(gt_tape *tape, gt_tensor *x, int dim) {
    return gt_op_call(tape, &gt_op_unsqueeze, &x, 1, &(unsqueeze_args){dim});
}

gt_tensor *gt_squeeze(gt_tape *tape, gt_tensor *x, gt_ints dim) {
    return gt_op_call(tape, &gt_op_squeeze, &x, 1, &(squeeze_args){dim});
}

gt_tensor *gt_permute(gt_tape *tape, gt_tensor *x, gt_ints dims) {
    return gt_op_call(tape, &gt_op_permute, &x, 1, &(permute_args){dims});
}

gt_tensor *gt_expand(gt_tape *tape, gt_tensor *x, gt_ints size) {
    return gt_op_call(tape, &gt_op_expand, &x, 1, &(expand_args){size});
}

gt_tensor *gt_narrow(gt_tape *tape, gt_tensor *x, int dim, int64_t start, int64_t length) {
    return gt_op_call(tape, &gt_op_narrow, &x, 1, &(narrow_args){dim, start, length});
}
