/* compare.c - pow, maximum, minimum; the comparisons eq ne lt le gt ge (masks of 0 and 1,
 * no gradient); where and masked_fill. All broadcast with NumPy's rules
 * (gt_broadcast_impl.h). A number given for a tensor argument (`pow(x, 2)`, `gt(x, 0)` in the
 * REPL) is a 0-d tensor; a mask or condition counts every nonzero element as true. */
#include "gt_broadcast_impl.h"

#include <math.h>
#include <stddef.h>

typedef enum compare_kind {
    CMP_POW,
    CMP_MAXIMUM,
    CMP_MINIMUM,
    CMP_EQ,
    CMP_NE,
    CMP_LT,
    CMP_LE,
    CMP_GT,
    CMP_GE
} compare_kind;

static inline gt_real compare_apply(compare_kind kind, gt_real x, gt_real y) {
    switch (kind) {
    case CMP_POW: return (gt_real)pow(x, y);
    case CMP_MAXIMUM: return x > y || x != x ? x : y; /* NaN wins, as in PyTorch */
    case CMP_MINIMUM: return x < y || x != x ? x : y;
    case CMP_EQ: return x == y;
    case CMP_NE: return x != y;
    case CMP_LT: return x < y;
    case CMP_LE: return x <= y;
    case CMP_GT: return x > y;
    case CMP_GE: return x >= y;
    }
    return 0;
}

// input[...], other[...] broadcast -> out[broadcast shape]. The same walk as elementwise.c's
// binary_forward, kept apart so that add, sub, mul and div keep their short switch (their
// loops are the hot ones) rather than share one with pow and the comparisons.
static gt_tensor *compare_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                  int n_in, const void *args) {
    (void)n_in, (void)args;
    compare_kind kind = (compare_kind)op->variant;
    gt__broadcast bc;
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK ||
        gt__broadcast_shapes(op->name, 2, (const gt_tensor *const *)in, &bc) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, bc.ndim, bc.shape);
    if (!out)
        return NULL;
    const gt_real *a = in[0]->data, *b = in[1]->data;
    gt_real *y = out->data;
    if (bc.same_shape) {
        for (int64_t i = 0; i < out->numel; i++)
            y[i] = compare_apply(kind, a[i], b[i]);
    } else {
        GT__FOR_EACH_BROADCAST(&bc, out->numel, y[i] = compare_apply(kind, a[ia], b[ib]));
    }
    /* the comparisons have no backward: gt__op_finish records nothing for them */
    return gt__op_finish(tape, op, out, in, 2, NULL, NULL);
}

// grad_out[broadcast shape] -> grad_input, grad_other, summed over broadcasts.
// pow: d/dx = p x^(p-1) (0 where p = 0), d/dp = y log x (0 where x = 0 and p >= 0);
// maximum, minimum: to the larger (smaller) operand, half to each at a tie, as PyTorch
static gt_status compare_backward(gt_node *node) {
    compare_kind kind = (compare_kind)gt__node_variant(node);
    gt_tensor *ta = node->in[0], *tb = node->in[1];
    gt__broadcast bc;
    gt_status status = gt__broadcast_shapes(node->name, 2, (const gt_tensor *const *)node->in,
                                            &bc);
    if (status != GT_OK)
        return status;
    const gt_real *a = ta->data, *b = tb->data, *g = node->out->grad, *y = node->out->data;
    gt_real *ga = ta->grad, *gb = tb->grad;
    int64_t n = node->out->numel;
    if (kind == CMP_POW) {
        GT__FOR_EACH_BROADCAST(&bc, n, {
            gt_real x = a[ia], p = b[ib];
            if (ga && p != 0)
                ga[ia] += g[i] * p * (gt_real)pow(x, p - 1);
            if (gb && !(x == 0 && p >= 0))
                gb[ib] += g[i] * y[i] * (gt_real)log(x);
        });
    } else {
        bool larger = kind == CMP_MAXIMUM;
        GT__FOR_EACH_BROADCAST(&bc, n, {
            gt_real x = a[ia], o = b[ib];
            gt_real share = x == o ? (gt_real)0.5 : ((x > o) == larger) || x != x ? 1 : 0;
            if (ga)
                ga[ia] += g[i] * share;
            if (gb)
                gb[ib] += g[i] * (1 - share);
        });
    }
    return GT_OK;
}

/* A 0-d constant on the tape. */
static gt_tensor *scalar_const(gt_tape *tape, gt_real value) {
    gt_tensor *t = gt_tape_tensor(tape, 0, NULL);
    if (t)
        t->data[0] = value;
    return t;
}

// compare_backward written with ops: pow's masks as PyTorch's masked_fill (no gradient
// through a masked element); maximum's and minimum's shares a constant
static gt_status compare_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                    gt_tensor **grad_in) {
    gt_tensor *a = node->in[0], *b = node->in[1], *ga = NULL, *gb = NULL;
    bool want_a = gt__needs_grad(node, 0), want_b = gt__needs_grad(node, 1);
    if (gt__node_variant(node) == CMP_POW) {
        gt_tensor *zero = scalar_const(tape, 0), *one = scalar_const(tape, 1);
        if (want_a) { /* g p x^(p-1), 0 where p = 0 */
            gt_tensor *d = gt_mul(tape, b, gt_pow(tape, a, gt_sub(tape, b, one)));
            ga = gt_mul(tape, g, gt_masked_fill(tape, d, gt_eq(tape, b, zero), 0));
        }
        if (want_b) { /* g y log x, 0 where x = 0 and p >= 0 */
            gt_tensor *d = gt_mul(tape, node->out, gt_log(tape, a));
            gt_tensor *mask = gt_mul(tape, gt_eq(tape, a, zero), gt_ge(tape, b, zero));
            gb = gt_mul(tape, g, gt_masked_fill(tape, d, mask, 0));
        }
    } else {
        gt__broadcast bc;
        gt_status status = gt__broadcast_shapes(node->name, 2,
                                                (const gt_tensor *const *)node->in, &bc);
        gt_tensor *share = status == GT_OK ? gt__const_like(tape, node->out, 0) : NULL;
        if (!share)
            return status == GT_OK ? gt_last_status() : status;
        bool larger = gt__node_variant(node) == CMP_MAXIMUM;
        const gt_real *x = a->data, *o = b->data;
        GT__FOR_EACH_BROADCAST(&bc, share->numel, {
            share->data[i] = x[ia] == o[ib] ? (gt_real)0.5
                             : ((x[ia] > o[ib]) == larger) || x[ia] != x[ia] ? 1 : 0;
        });
        if (want_a)
            ga = gt_mul(tape, g, share);
        if (want_b)
            gb = gt_sub(tape, g, gt_mul(tape, g, share));
    }
    if (want_a && !(grad_in[0] = gt__sum_to(tape, ga, a)))
        return gt_last_status();
    if (want_b && !(grad_in[1] = gt__sum_to(tape, gb, b)))
        return gt_last_status();
    return GT_OK;
}

/* ---- where and masked_fill ------------------------------------------------------------ */

/* The arguments of masked_fill. */
typedef struct masked_fill_args {
    double value;
} masked_fill_args;

// condition[...], input[...], other[...] broadcast -> input where condition, else other
static gt_tensor *where_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                int n_in, const void *args) {
    (void)n_in, (void)args;
    gt__broadcast bc;
    if (gt__check_inputs(op->name, tape, in, 3, 3) != GT_OK ||
        gt__broadcast_shapes(op->name, 3, (const gt_tensor *const *)in, &bc) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, bc.ndim, bc.shape);
    if (!out)
        return NULL;
    const gt_real *c = in[0]->data, *a = in[1]->data, *b = in[2]->data;
    gt_real *y = out->data;
    GT__FOR_EACH_BROADCAST(&bc, out->numel, y[i] = c[ia] != 0 ? a[ib] : b[ic]);
    return gt__op_finish(tape, op, out, in, 3, NULL, NULL);
}

// grad_out -> grad_input += grad_out where condition, grad_other += where not
static gt_status where_backward(gt_node *node) {
    gt__broadcast bc;
    gt_status status = gt__broadcast_shapes(node->name, 3, (const gt_tensor *const *)node->in,
                                            &bc);
    if (status != GT_OK)
        return status;
    const gt_real *c = node->in[0]->data, *g = node->out->grad;
    gt_real *ga = node->in[1]->grad, *gb = node->in[2]->grad;
    GT__FOR_EACH_BROADCAST(&bc, node->out->numel, {
        if (c[ia] != 0 && ga)
            ga[ib] += g[i];
        if (c[ia] == 0 && gb)
            gb[ic] += g[i];
    });
    return GT_OK;
}

/* The mask broadcasts to input's shape (not the other way round): the output is input's. */
static gt_status masked_fill_shapes(const char *op, gt_tensor *const *in, gt__broadcast *bc) {
    if (gt__broadcast_shapes(op, 2, (const gt_tensor *const *)in, bc) != GT_OK)
        return GT_ERR_SHAPE;
    if (!gt_shape_equal(bc->ndim, bc->shape, in[0]->ndim, in[0]->shape))
        return gt_set_error(GT_ERR_SHAPE, "%s: mask %s does not broadcast to input %s", op,
                            gt__shape_of(in[1]), gt__shape_of(in[0]));
    return GT_OK;
}

// input[...], mask[... broadcast to input] -> value where mask, else input
static gt_tensor *masked_fill_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                      int n_in, const void *args) {
    (void)n_in;
    gt__broadcast bc;
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK ||
        masked_fill_shapes(op->name, in, &bc) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, bc.ndim, bc.shape);
    if (!out)
        return NULL;
    gt_real value = (gt_real)((const masked_fill_args *)args)->value;
    const gt_real *x = in[0]->data, *mask = in[1]->data;
    gt_real *y = out->data;
    GT__FOR_EACH_BROADCAST(&bc, out->numel, y[i] = mask[ib] != 0 ? value : x[ia]);
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 2, args, &node);
    if (node) /* input is not broadcast: each element of grad_input is visited once */
        node->overwrites = 1u; /* a stale grad_input is written whole (gt__grad_mark_stale) */
    return out;
}

// grad_input = g where condition, grad_other = g where not (where itself, on g)
static gt_status where_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                  gt_tensor **grad_in) {
    gt_tensor *c = node->in[0], *zero = scalar_const(tape, 0);
    for (int k = 1; k < 3; k++) {
        if (!gt__needs_grad(node, k))
            continue;
        gt_tensor *picked = k == 1 ? gt_where(tape, c, g, zero) : gt_where(tape, c, zero, g);
        if (!(grad_in[k] = gt__sum_to(tape, picked, node->in[k])))
            return gt_last_status();
    }
    return GT_OK;
}

// grad_input = g with 0 where mask (masked_fill itself, on g)
static gt_status masked_fill_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                        gt_tensor **grad_in) {
    grad_in[0] = gt_masked_fill(tape, g, node->in[1], 0);
    return grad_in[0] ? GT_OK : gt_last_status();
}

// grad_out -> grad_input += grad_out where not mask
static gt_status masked_fill_backward(gt_node *node) {
    gt__broadcast bc;
    gt_status status = masked_fill_shapes(node->name, node->in, &bc);
    if (status != GT_OK)
        return status;
    const gt_real *mask = node->in[1]->data, *g = node->out->grad;
    gt_real *gx = node->in[0]->grad;
    if (gx && gt__grad_take_stale(node->in[0])) // = instead of += (stale)
        GT__FOR_EACH_BROADCAST(&bc, node->out->numel, gx[ia] = mask[ib] != 0 ? 0 : g[i]);
    else if (gx)
        GT__FOR_EACH_BROADCAST(&bc, node->out->numel, gx[ia] += mask[ib] != 0 ? 0 : g[i]);
    return GT_OK;
}

/* ---- the entries ------------------------------------------------------------------------ */

#define COMPARE_SHAPES "input[...], other[...] (broadcast; a number is a 0-d tensor) -> " \
                       "[broadcast shape]"

/* The entry of an op of compare_forward; `backward` NULL for the comparisons (no gradient:
 * the output never requires one). */
#define COMPARE_OP_DEF(op_name, op_doc, first, second, kind, backward_fn, grad_graph_fn, ...) \
    {.name = op_name, .doc = op_doc, .shapes = COMPARE_SHAPES, .inputs = {first, second},  \
     .forward = compare_forward, .backward = backward_fn, .variant = kind,                 \
     .grad_graph = grad_graph_fn,                                                          \
     GT__CASES(__VA_ARGS__)}

#define INPUT {"input"}
#define OTHER {"other"}
#define POW_INPUT {"input", GT_DOMAIN_POSITIVE}
#define EXPONENT {"exponent", GT_DOMAIN_NORMAL}

const gt_op_def gt_op_pow = COMPARE_OP_DEF(
    "pow", "input ^ exponent (exponent a tensor or a number)",
    POW_INPUT, EXPONENT, CMP_POW, compare_backward, compare_grad_graph, "3x4 3x4", "2x3 ()",
    "4 2x1",
    "2x2 ():spread", "2x3 ():positive", "3x4:normal 1x4:classes",
    "2x3 4 => pow: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_maximum = COMPARE_OP_DEF(
    "maximum", "the larger of input and other elementwise (half the gradient to each at a tie)",
    INPUT, OTHER, CMP_MAXIMUM, compare_backward, compare_grad_graph, "3x4 3x4", "2x3 3", "4x1 1x3",
    "3x4 ()", "2x0x3 3",
    "2x3 4 => maximum: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_minimum = COMPARE_OP_DEF(
    "minimum", "the smaller of input and other elementwise (half the gradient to each at a tie)",
    INPUT, OTHER, CMP_MINIMUM, compare_backward, compare_grad_graph, "3x4 3x4", "2x1x3 4x1",
    "3x2 3 => minimum: shapes [3, 2] and [3] cannot be broadcast");

/* The entry of a comparison: no gradient. */
#define COMPARISON_OP_DEF(op_name, symbol, kind, ...)                                     \
    COMPARE_OP_DEF(op_name, "1 where input " symbol " other, else 0 (a mask; no gradient)", \
                   INPUT, OTHER, kind, NULL, NULL, __VA_ARGS__)

const gt_op_def gt_op_eq = COMPARISON_OP_DEF(
    "eq", "==", CMP_EQ, "3x4:mask 3x4:mask", "2x3 ()", "2x1:mask 4:mask", "0x4 4",
    "2x3 4 => eq: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_ne = COMPARISON_OP_DEF(
    "ne", "!=", CMP_NE, "3x4:mask 4:mask", "2x3 2x3",
    "2x3 4 => ne: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_lt = COMPARISON_OP_DEF(
    "lt", "<", CMP_LT, "3x4 3x4", "2x3 ()", "2x3:mask 3:mask",
    "2x3 4 => lt: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_le = COMPARISON_OP_DEF(
    "le", "<=", CMP_LE, "3x4 3x1", "3x4:mask 4:mask",
    "2x3 4 => le: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_gt = COMPARISON_OP_DEF(
    "gt", ">", CMP_GT, "3x4 4", "2x3 ()", "3x4:mask 3x4:mask",
    "2x3 4 => gt: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_ge = COMPARISON_OP_DEF(
    "ge", ">=", CMP_GE, "3x4 1x4", "3x4:mask 4:mask",
    "2x3 4 => ge: shapes [2, 3] and [4] cannot be broadcast");

const gt_op_def gt_op_where = {
    .name = "where",
    .doc = "input where condition is nonzero, else other (no gradient to condition)",
    .shapes = "condition[...], input[...], other[...] (broadcast) -> [broadcast shape]",
    .inputs = {{"condition", GT_DOMAIN_MASK, .no_grad = true}, {"input"}, {"other"}},
    .forward = where_forward,
    .backward = where_backward,
    .grad_graph = where_grad_graph,
    GT__CASES("3x4 3x4 3x4", "3x4 4 3x1", "2x1x3 1x3 ()", "2x1 2x3 2x3", "3x4 3x4 ()", "0x3 3 0x1",
              "2x3 2x3 => where: takes 3 tensor inputs, got 2",
              "2x3 3 2 => where: shapes [2, 3], [3] and [2] cannot be broadcast"),
};

static const gt_attr_def masked_fill_attrs[] = {
    {"value", GT_ATTR_FLOAT, offsetof(masked_fill_args, value), .flags = GT_ATTR_REQUIRED},
};

const gt_op_def gt_op_masked_fill = {
    .name = "masked_fill",
    .doc = "value where mask is nonzero, else input (no gradient to mask)",
    .shapes = "input[...], mask[... broadcast to input's shape] -> input's shape",
    .inputs = {{"input"}, {"mask", GT_DOMAIN_MASK, .no_grad = true}},
    GT__ATTRS(masked_fill_attrs),
    .args_size = sizeof(masked_fill_args),
    .forward = masked_fill_forward,
    .backward = masked_fill_backward,
    .grad_graph = masked_fill_grad_graph,
    GT__CASES("3x4 3x4; value=-1.5", "2x3x4 3x1; value=0", "2x3 (); value=7",
              "2x3x4 3x4; value=2", "2x3x1x4 1x3x1x4; value=-3",
              "3 2x3; value=1 => masked_fill: mask [2, 3] does not broadcast to input [3]",
              "3 2; value=1 => masked_fill: shapes [3] and [2] cannot be broadcast",
              "3 3 => masked_fill: missing argument value"),
};

gt_tensor *gt_pow(gt_tape *tape, gt_tensor *x, gt_tensor *exponent) {
    return gt_op_call(tape, &gt_op_pow, (gt_tensor *[]){x, exponent}, 2, NULL);
}

gt_tensor *gt_pow_scalar(gt_tape *tape, gt_tensor *x, double exponent) {
    gt_tensor *p = tape ? gt_tape_tensor(tape, 0, NULL) : NULL;
    if (p)
        gt_tensor_data(p)[0] = (gt_real)exponent;
    else if (tape)
        return NULL;
    return gt_op_call(tape, &gt_op_pow, (gt_tensor *[]){x, p}, 2, NULL);
}

gt_tensor *gt_maximum(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_maximum, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_minimum(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_minimum, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_eq(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_eq, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_ne(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_ne, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_lt(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_lt, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_le(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_le, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_gt(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_gt, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_ge(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_ge, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_where(gt_tape *tape, gt_tensor *condition, gt_tensor *x, gt_tensor *other) {
    return gt_op_call(tape, &gt_op_where, (gt_tensor *[]){condition, x, other}, 3, NULL);
}

gt_tensor *gt_masked_fill(gt_tape *tape, gt_tensor *x, gt_tensor *mask, double value) {
    return gt_op_call(tape, &gt_op_masked_fill, (gt_tensor *[]){x, mask}, 2,
                      &(masked_fill_args){value});
}
