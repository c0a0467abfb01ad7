/* elementwise.c - add, sub, mul, div with NumPy broadcasting (the broadcasting that
 * compare.c shares: gt_broadcast_impl.h); neg and scale. */
#include "gt_broadcast_impl.h"

#include <stddef.h>
#include <string.h>

static void strides_for(const gt_tensor *t, int ndim, int64_t *stride) {
    int64_t step = 1;
    int offset = ndim - t->ndim;
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t size = d >= offset ? t->shape[d - offset] : 1;
        stride[d] = size == 1 ? 0 : step;
        step *= size;
    }
}

gt_status gt__broadcast_shapes(const char *op, int n, const gt_tensor *const *t,
                               gt__broadcast *bc) {
    memset(bc, 0, sizeof *bc);
    int ndim = 0;
    for (int k = 0; k < n; k++)
        ndim = t[k]->ndim > ndim ? t[k]->ndim : ndim;
    bc->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        bc->shape[d] = 1;
        for (int k = 0; k < n; k++) {
            int64_t size = d >= ndim - t[k]->ndim ? t[k]->shape[d - (ndim - t[k]->ndim)] : 1;
            if (size != bc->shape[d] && size != 1 && bc->shape[d] != 1) {
                if (n == 2)
                    return gt_set_error(GT_ERR_SHAPE, "%s: shapes %s and %s cannot be broadcast",
                                        op, gt__shape_of(t[0]), gt__shape_of(t[1]));
                return gt_set_error(GT_ERR_SHAPE, "%s: shapes %s, %s and %s cannot be broadcast",
                                    op, gt__shape_of(t[0]), gt__shape_of(t[1]),
                                    gt__shape_of(t[2]));
            }
            if (size != 1)
                bc->shape[d] = size;
        }
    }
    bc->same_shape = true;
    for (int k = 0; k < n; k++) {
        strides_for(t[k], ndim, bc->stride[k]);
        bc->same_shape = bc->same_shape &&
                         gt_shape_equal(t[k]->ndim, t[k]->shape, t[0]->ndim, t[0]->shape);
    }
    return GT_OK;
}

static gt_status broadcast_shapes(const char *op, const gt_tensor *a, const gt_tensor *b,
                                  gt__broadcast *bc) {
    return gt__broadcast_shapes(op, 2, (const gt_tensor *const[]){a, b}, bc);
}

typedef enum binary_kind { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } binary_kind;


static inline gt_real apply(binary_kind kind, gt_real x, gt_real y) {
    switch (kind) {
    case BIN_ADD: return x + y;
    case BIN_SUB: return x - y;
    case BIN_MUL: return x * y;
    case BIN_DIV: return x / y;
    }
    return 0;
}

// a[...], b[...] broadcast -> out[broadcast shape]
static gt_tensor *binary_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                 int n_in, const void *args) {
    (void)n_in, (void)args;
    binary_kind kind = (binary_kind)op->variant;
    const char *name = op->name;
    if (gt__check_inputs(name, tape, in, 2, 2) != GT_OK)
        return NULL;
    gt__broadcast bc;
    if (broadcast_shapes(name, in[0], in[1], &bc) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, bc.ndim, bc.shape);
    if (!out)
        return NULL;
    const gt_real *a = in[0]->data, *b = in[1]->data;
    gt_real *y = out->data;
    if (bc.same_shape) { /* one loop per kind, so that each vectorises */
        int64_t n = out->numel;
        switch (kind) {
        case BIN_ADD: for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i]; break;
        case BIN_SUB: for (int64_t i = 0; i < n; i++) y[i] = a[i] - b[i]; break;
        case BIN_MUL: for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i]; break;
        case BIN_DIV: for (int64_t i = 0; i < n; i++) y[i] = a[i] / b[i]; break;
        }
    } else {
        GT__FOR_EACH_BROADCAST(&bc, out->numel, y[i] = apply(kind, a[ia], b[ib]));
    }
    return gt__op_finish(tape, op, out, in, 2, NULL, NULL);
}

// grad_out[broadcast shape] -> grad_a[a's shape], grad_b[b's shape], summed over broadcasts
static gt_status binary_backward(gt_node *node) {
    binary_kind kind = (binary_kind)gt__node_variant(node);
    gt_tensor *ta = node->in[0], *tb = node->in[1];
    gt__broadcast bc;
    gt_status status = broadcast_shapes(node->name, ta, tb, &bc);
    if (status != GT_OK)
        return status;
    const gt_real *a = ta->data, *b = tb->data, *g = node->out->grad;
    gt_real *ga = ta->grad, *gb = tb->grad;
    int64_t n = node->out->numel;
    if (bc.same_shape && kind != BIN_DIV) { /* no offsets to walk: loops that vectorise */
        gt_real sign = kind == BIN_SUB ? -1 : 1;
        for (int64_t i = 0; ga && i < n; i++)
            ga[i] += kind == BIN_MUL ? g[i] * b[i] : g[i];
        for (int64_t i = 0; gb && i < n; i++)
            gb[i] += kind == BIN_MUL ? g[i] * a[i] : sign * g[i];
        return GT_OK;
    }
    switch (kind) {
    case BIN_ADD:
    case BIN_SUB: {
        gt_real sign = kind == BIN_ADD ? 1 : -1;
        GT__FOR_EACH_BROADCAST(&bc, n, {
            if (ga)
                ga[ia] += g[i];
            if (gb)
                gb[ib] += sign * g[i];
        });
        break;
    }
    case BIN_MUL:
        GT__FOR_EACH_BROADCAST(&bc, n, {
            if (ga)
                ga[ia] += g[i] * b[ib];
            if (gb)
                gb[ib] += g[i] * a[ia];
        });
        break;
    case BIN_DIV:
        GT__FOR_EACH_BROADCAST(&bc, n, {
            gt_real inv = 1 / b[ib];
            if (ga)
                ga[ia] += g[i] * inv;
            if (gb)
                gb[ib] -= g[i] * a[ia] * inv * inv;
        });
        break;
    }
    return GT_OK;
}

/* The gradients of binary_backward, written with ops and summed down where broadcast. */
static gt_status binary_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                   gt_tensor **grad_in) {
    gt_tensor *a = node->in[0], *b = node->in[1], *ga = NULL, *gb = NULL;
    switch ((binary_kind)gt__node_variant(node)) {
    case BIN_ADD:
        ga = g, gb = g;
        break;
    case BIN_SUB:
        ga = g, gb = gt__needs_grad(node, 1) ? gt_neg(tape, g) : NULL;
        break;
    case BIN_MUL:
        ga = gt__needs_grad(node, 0) ? gt_mul(tape, g, b) : NULL;
        gb = gt__needs_grad(node, 1) ? gt_mul(tape, g, a) : NULL;
        break;
    case BIN_DIV:
        ga = gt__needs_grad(node, 0) ? gt_div(tape, g, b) : NULL;
        if (gt__needs_grad(node, 1)) { /* each operand checked before the next op succeeds */
            gt_tensor *ga_num = gt_mul(tape, g, a), *bb = ga_num ? gt_mul(tape, b, b) : NULL;
            if (!bb)
                return gt_last_status();
            gb = gt_neg(tape, gt_div(tape, ga_num, bb));
        }
        break;
    }
    if (gt__needs_grad(node, 0) && !(grad_in[0] = gt__sum_to(tape, ga, a)))
        return gt_last_status();
    if (gt__needs_grad(node, 1) && !(grad_in[1] = gt__sum_to(tape, gb, b)))
        return gt_last_status();
    return GT_OK;
}

/* The arguments of scale. */
typedef struct scale_args {
    double factor;
} scale_args;

enum { SCALE_BY_FACTOR, SCALE_NEGATE }; /* the variants of scale and neg */

// x[...] -> factor * x[...]; neg is scale by -1
static gt_tensor *scale_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                int n_in, const void *args) {
    (void)n_in;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    gt_real f = op->variant == SCALE_NEGATE ? -1 : (gt_real)((const scale_args *)args)->factor;
    for (int64_t i = 0; i < x->numel; i++)
        out->data[i] = f * x->data[i];
    return gt__op_finish(tape, op, out, &x, 1, args, NULL);
}

// grad_out[...] -> grad_x[...] += factor * grad_out
static gt_status scale_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    gt_real f = gt__node_variant(node) == SCALE_NEGATE
                    ? -1
                    : (gt_real)((const scale_args *)node->attrs)->factor;
    if (x->grad)
        for (int64_t i = 0; i < x->numel; i++)
            x->grad[i] += f * node->out->grad[i];
    return GT_OK;
}

// grad_x = factor * g
static gt_status scale_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                  gt_tensor **grad_in) {
    double f = gt__node_variant(node) == SCALE_NEGATE
                   ? -1.0
                   : ((const scale_args *)node->attrs)->factor;
    grad_in[0] = gt_scale(tape, g, f);
    return grad_in[0] ? GT_OK : gt_last_status();
}

#define BROADCAST_SHAPES "input[...], other[...] (broadcast) -> [broadcast shape]"

/* The entry of an op of binary_forward; `other` is drawn from `other_domain`. */
#define BINARY_OP_DEF(op_name, op_doc, other_domain, kind, ...)                           \
    {.name = op_name, .doc = op_doc, .shapes = BROADCAST_SHAPES,                          \
     .inputs = {{"input"}, {"other", other_domain}}, .forward = binary_forward,            \
     .backward = binary_backward, .variant = kind, .grad_graph = binary_grad_graph,       \
     GT__CASES(__VA_ARGS__)}

const gt_op_def gt_op_add = BINARY_OP_DEF(
    "add", "input + other with broadcasting", GT_DOMAIN_NORMAL, BIN_ADD, "3x4 3x4", "4x3 3",
    "4x1 1x3", "2x3 ()", "2x1x3x1 4x1x5", "2x3 4 => add: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_sub = BINARY_OP_DEF(
    "sub", "input - other with broadcasting", GT_DOMAIN_NORMAL, BIN_SUB, "3 5x3",
    "3x2 3 => sub: shapes [3, 2] and [3] cannot be broadcast");
const gt_op_def gt_op_mul = BINARY_OP_DEF(
    "mul", "input * other elementwise with broadcasting", GT_DOMAIN_NORMAL, BIN_MUL,
    "3x1x2 1x4x2", "5 5", "5 4 => mul: shapes [5] and [4] cannot be broadcast");
const gt_op_def gt_op_div = BINARY_OP_DEF(
    "div", "input / other elementwise with broadcasting", GT_DOMAIN_POSITIVE, BIN_DIV, "3x4 4",
    "2x1 1x3", "2x2x2 3x2 => div: shapes [2, 2, 2] and [3, 2] cannot be broadcast");

const gt_op_def gt_op_neg = {
    .name = "neg",
    .doc = "-input",
    .shapes = "input[...] -> [...]",
    .inputs = {{"input"}},
    .forward = scale_forward,
    .backward = scale_backward,
    .grad_graph = scale_grad_graph,
    .variant = SCALE_NEGATE,
    GT__CASES("2x3", "2 2 => neg: takes 1 tensor input, got 2"),
};

static const gt_attr_def scale_attrs[] = {
    {"factor", GT_ATTR_FLOAT, offsetof(scale_args, factor), .dflt = 1},
};

const gt_op_def gt_op_scale = {
    .name = "scale",
    .doc = "input * factor (a number)",
    .shapes = "input[...] -> [...]",
    .inputs = {{"input"}},
    GT__ATTRS(scale_attrs),
    .args_size = sizeof(scale_args),
    .forward = scale_forward,
    .backward = scale_backward,
    .grad_graph = scale_grad_graph,
    GT__CASES("7; factor=-2.5", "2x3", "2 2 => scale: takes 1 tensor input, got 2"),
};

gt_tensor *gt_add(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_add, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_sub(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_sub, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_mul(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_mul, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_div(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_div, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_neg(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_neg, &x, 1, NULL);
}

gt_tensor *gt_scale(gt_tape *tape, gt_tensor *x, double factor) {
    return gt_op_call(tape, &gt_op_scale, &x, 1, &(scale_args){factor});
}
