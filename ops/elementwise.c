/* elementwise.c - add, sub, mul, div with NumPy broadcasting; neg and scale. */
#include "gt_ops_impl.h"

#include <string.h>

/* Where each output element reads its operands: strides of a and b aligned to the output's
 * dimensions, 0 along broadcast dimensions. */
typedef struct broadcast {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    int64_t stride_a[GT_MAX_DIMS];
    int64_t stride_b[GT_MAX_DIMS];
    bool same_shape;
} broadcast;

static void strides_for(const gt_tensor *t, int ndim, int64_t *stride) {
    int64_t step = 1;
    int offset = ndim - t->ndim;
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t size = d >= offset ? t->shape[d - offset] : 1;
        stride[d] = size == 1 ? 0 : step;
        step *= size;
    }
}

static gt_status broadcast_shapes(const char *op, const gt_tensor *a, const gt_tensor *b,
                                  broadcast *bc) {
    int ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    bc->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        int64_t sa = d >= ndim - a->ndim ? a->shape[d - (ndim - a->ndim)] : 1;
        int64_t sb = d >= ndim - b->ndim ? b->shape[d - (ndim - b->ndim)] : 1;
        if (sa != sb && sa != 1 && sb != 1)
            return gt_set_error(GT_ERR_SHAPE, "%s: shapes %s and %s cannot be broadcast",
                                op, gt__shape_of(a), gt__shape_of(b));
        bc->shape[d] = sa == 1 ? sb : sa;
    }
    strides_for(a, ndim, bc->stride_a);
    strides_for(b, ndim, bc->stride_b);
    bc->same_shape = gt_shape_equal(a->ndim, a->shape, b->ndim, b->shape);
    return GT_OK;
}

/* Visits every output element i with the offsets ia, ib of its operands (an odometer
 * over the output's index). */
#define FOR_EACH_BROADCAST(bc, n, BODY)                                                   \
    do {                                                                                  \
        int64_t index_[GT_MAX_DIMS] = {0};                                                \
        int64_t ia = 0, ib = 0;                                                           \
        for (int64_t i = 0; i < (n); i++) {                                               \
            BODY;                                                                         \
            for (int d_ = (bc)->ndim - 1; d_ >= 0; d_--) {                                \
                ia += (bc)->stride_a[d_];                                                 \
                ib += (bc)->stride_b[d_];                                                 \
                if (++index_[d_] < (bc)->shape[d_])                                       \
                    break;                                                                \
                ia -= (bc)->stride_a[d_] * (bc)->shape[d_];                               \
                ib -= (bc)->stride_b[d_] * (bc)->shape[d_];                               \
                index_[d_] = 0;                                                           \
            }                                                                             \
        }                                                                                 \
    } while (0)

typedef enum binary_kind { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } binary_kind;

static const gt_op binary_ops[] = {GT_OP_ADD, GT_OP_SUB, GT_OP_MUL, GT_OP_DIV};

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
static gt_tensor *binary_forward(binary_kind kind, gt_tape *tape, gt_tensor *const *in) {
    gt_op op = binary_ops[kind];
    const char *name = gt_op_get(op)->name;
    if (gt__check_inputs(name, tape, in, 2, 2) != GT_OK)
        return NULL;
    broadcast bc;
    if (broadcast_shapes(name, in[0], in[1], &bc) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, bc.ndim, bc.shape);
    if (!out)
        return NULL;
    const gt_real *a = in[0]->data, *b = in[1]->data;
    gt_real *y = out->data;
    if (bc.same_shape) {
        for (int64_t i = 0; i < out->numel; i++)
            y[i] = apply(kind, a[i], b[i]);
    } else {
        FOR_EACH_BROADCAST(&bc, out->numel, y[i] = apply(kind, a[ia], b[ib]));
    }
    return gt__op_finish(tape, op, out, in, 2, NULL);
}

// grad_out[broadcast shape] -> grad_a[a's shape], grad_b[b's shape], summed over broadcasts
static gt_status binary_backward(binary_kind kind, gt_node *node) {
    gt_tensor *ta = node->in[0], *tb = node->in[1];
    broadcast bc;
    gt_status status = broadcast_shapes(node->name, ta, tb, &bc);
    if (status != GT_OK)
        return status;
    const gt_real *a = ta->data, *b = tb->data, *g = node->out->grad;
    gt_real *ga = ta->grad, *gb = tb->grad;
    int64_t n = node->out->numel;
    switch (kind) {
    case BIN_ADD:
    case BIN_SUB: {
        gt_real sign = kind == BIN_ADD ? 1 : -1;
        FOR_EACH_BROADCAST(&bc, n, {
            if (ga)
                ga[ia] += g[i];
            if (gb)
                gb[ib] += sign * g[i];
        });
        break;
    }
    case BIN_MUL:
        FOR_EACH_BROADCAST(&bc, n, {
            if (ga)
                ga[ia] += g[i] * b[ib];
            if (gb)
                gb[ib] += g[i] * a[ia];
        });
        break;
    case BIN_DIV:
        FOR_EACH_BROADCAST(&bc, n, {
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

#define BINARY_OP(name, KIND)                                                             \
    gt_tensor *gt__##name##_forward(gt_tape *tape, gt_tensor *const *in, int n_in,        \
                                    const gt_op_args *args) {                             \
        (void)n_in;                                                                       \
        (void)args;                                                                       \
        return binary_forward(KIND, tape, in);                                            \
    }                                                                                     \
    gt_status gt__##name##_backward(gt_node *node) { return binary_backward(KIND, node); } \
    gt_tensor *gt_##name(gt_tape *tape, gt_tensor *a, gt_tensor *b) {                     \
        return gt_op_apply(tape, binary_ops[KIND], (gt_tensor *[]){a, b}, 2, NULL);       \
    }

BINARY_OP(add, BIN_ADD)
BINARY_OP(sub, BIN_SUB)
BINARY_OP(mul, BIN_MUL)
BINARY_OP(div, BIN_DIV)

// x[...] -> factor * x[...]; neg is scale by -1
static gt_tensor *scale_forward(gt_op op, gt_tape *tape, gt_tensor *x, double factor,
                                bool save) {
    if (gt__check_inputs(gt_op_get(op)->name, tape, &x, 1, 1) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    gt_real f = (gt_real)factor;
    for (int64_t i = 0; i < x->numel; i++)
        out->data[i] = f * x->data[i];
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, &node);
    if (node && save)
        node->args[0] = factor;
    return out;
}

static gt_status scale_backward(gt_node *node, gt_real factor) {
    gt_tensor *x = node->in[0];
    if (x->grad)
        for (int64_t i = 0; i < x->numel; i++)
            x->grad[i] += factor * node->out->grad[i];
    return GT_OK;
}

gt_tensor *gt__scale_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                             const gt_op_args *args) {
    (void)n_in;
    return scale_forward(GT_OP_SCALE, tape, in[0], args->v[0], true);
}

gt_status gt__scale_backward(gt_node *node) {
    return scale_backward(node, (gt_real)node->args[0]);
}

gt_tensor *gt__neg_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                           const gt_op_args *args) {
    (void)n_in;
    (void)args;
    return scale_forward(GT_OP_NEG, tape, in[0], -1.0, false);
}

gt_status gt__neg_backward(gt_node *node) { return scale_backward(node, -1); }

gt_tensor *gt_neg(gt_tape *tape, gt_tensor *x) {
    return gt_op_apply(tape, GT_OP_NEG, &x, 1, NULL);
}

gt_tensor *gt_scale(gt_tape *tape, gt_tensor *x, double factor) {
    return gt_op_apply(tape, GT_OP_SCALE, &x, 1, &(gt_op_args){1, {factor}});
}
