/* table.c - the op table, and the checks every op shares. */
#include "gt_ops_impl.h"

#include <math.h>
#include <string.h>

#define ROW(OP, fn, lo, hi, args, sig, doc)                                               \
    [OP] = {OP, #fn, lo, hi, args, sig, doc, gt__##fn##_forward, gt__##fn##_backward}

static const gt_op_info op_table[] = {
    ROW(GT_OP_MATMUL, matmul, 2, 2, "", "matmul(a[M,K], b[K,N])",
        "matrix product; 3-D inputs are batched"),
    ROW(GT_OP_LINEAR, linear, 2, 3, "", "linear(x[N,IN], w[OUT,IN], b[OUT]?)",
        "x @ w^T + b, as PyTorch's F.linear"),
    ROW(GT_OP_ADD, add, 2, 2, "", "add(a, b)", "a + b with broadcasting"),
    ROW(GT_OP_SUB, sub, 2, 2, "", "sub(a, b)", "a - b with broadcasting"),
    ROW(GT_OP_MUL, mul, 2, 2, "", "mul(a, b)", "a * b elementwise with broadcasting"),
    ROW(GT_OP_DIV, div, 2, 2, "", "div(a, b)", "a / b elementwise with broadcasting"),
    ROW(GT_OP_NEG, neg, 1, 1, "", "neg(x)", "-x"),
    ROW(GT_OP_SCALE, scale, 1, 1, "factor", "scale(x, factor)", "x * factor"),
    ROW(GT_OP_RELU, relu, 1, 1, "", "relu(x)", "max(x, 0); gradient 0 at 0"),
    ROW(GT_OP_SIGMOID, sigmoid, 1, 1, "", "sigmoid(x)", "1 / (1 + exp(-x))"),
    ROW(GT_OP_TANH, tanh, 1, 1, "", "tanh(x)", "hyperbolic tangent"),
    ROW(GT_OP_EXP, exp, 1, 1, "", "exp(x)", "e^x"),
    ROW(GT_OP_LOG, log, 1, 1, "", "log(x)", "natural logarithm"),
    ROW(GT_OP_SOFTMAX, softmax, 1, 1, "", "softmax(x)", "softmax over the last axis"),
    ROW(GT_OP_LOG_SOFTMAX, log_softmax, 1, 1, "", "log_softmax(x)",
        "log of softmax over the last axis, computed stably"),
    ROW(GT_OP_SUM, sum, 1, 1, "axis?", "sum(x, axis?)",
        "sum of all elements, or over one axis (removed)"),
    ROW(GT_OP_MEAN, mean, 1, 1, "axis?", "mean(x, axis?)",
        "mean of all elements, or over one axis (removed)"),
    ROW(GT_OP_RESHAPE, reshape, 1, 1, "dims...", "reshape(x, d0, d1, ...)",
        "same data with a new shape; one size may be -1"),
    ROW(GT_OP_FLATTEN, flatten, 1, 1, "start_dim=0", "flatten(x, start_dim=0)",
        "merge dimensions start_dim.. into one"),
    ROW(GT_OP_TRANSPOSE, transpose, 1, 1, "", "transpose(x[M,N])", "2-D transpose"),
    ROW(GT_OP_CONV2D, conv2d, 2, 3, "stride=1 padding=0",
        "conv2d(x[N,C,H,W], w[O,C,KH,KW], b[O]?, stride=1, padding=0)",
        "2-D cross-correlation with zero padding, as PyTorch's conv2d"),
    ROW(GT_OP_MAXPOOL2D, maxpool2d, 1, 1, "kernel stride?",
        "maxpool2d(x[N,C,H,W], kernel, stride=kernel)",
        "max over windows; the gradient goes to the first maximum"),
    ROW(GT_OP_AVGPOOL2D, avgpool2d, 1, 1, "kernel stride?",
        "avgpool2d(x[N,C,H,W], kernel, stride=kernel)", "mean over windows"),
    ROW(GT_OP_CROSS_ENTROPY, cross_entropy, 2, 2, "",
        "cross_entropy(logits[N,K], target[N] or [N,K])",
        "mean softmax cross-entropy; target holds class indices or probabilities"),
    ROW(GT_OP_MSE_LOSS, mse_loss, 2, 2, "", "mse_loss(a, b)", "mean of (a - b)^2"),
};

_Static_assert(sizeof op_table / sizeof op_table[0] == GT_OP_COUNT,
               "the op table and enum gt_op must have the same length");

const gt_op_info *gt_op_table(void) { return op_table; }

const gt_op_info *gt_op_get(gt_op op) {
    return (unsigned)op < GT_OP_COUNT ? &op_table[op] : NULL;
}

const gt_op_info *gt_op_find(const char *name) {
    for (int i = 0; name && i < GT_OP_COUNT; i++)
        if (strcmp(op_table[i].name, name) == 0)
            return &op_table[i];
    return NULL;
}

/* Counts the spec's arguments: required, total, and whether the last is variadic. */
static void parse_spec(const char *spec, int *required, int *total, bool *variadic,
                       double *defaults) {
    *required = *total = 0;
    *variadic = false;
    const char *p = spec;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        double value = NAN;
        if (eq)
            value = strtod(eq + 1, NULL);
        else if (end - p > 3 && memcmp(end - 3, "...", 3) == 0)
            *variadic = true;
        else if (end[-1] != '?')
            ++*required;
        if (*total < GT_OP_MAX_ARGS)
            defaults[*total] = value;
        ++*total;
        p = end;
    }
}

gt_tensor *gt_op_apply(gt_tape *tape, gt_op op, gt_tensor *const *in, int n_in,
                       const gt_op_args *args) {
    const gt_op_info *info = gt_op_get(op);
    if (!info) {
        gt_set_error(GT_ERR_ARG, "op_apply: no op number %d", (int)op);
        return NULL;
    }
    if (!tape) {
        gt_set_error(GT_ERR_ARG, "%s: tape is NULL", info->name);
        return NULL;
    }
    if (n_in < info->min_inputs || n_in > info->max_inputs) {
        if (info->min_inputs == info->max_inputs)
            gt_set_error(GT_ERR_ARG, "%s: takes %d tensor input%s, got %d", info->name,
                         info->min_inputs, info->min_inputs == 1 ? "" : "s", n_in);
        else
            gt_set_error(GT_ERR_ARG, "%s: takes %d to %d tensor inputs, got %d", info->name,
                         info->min_inputs, info->max_inputs, n_in);
        return NULL;
    }
    int required, total;
    bool variadic;
    gt_op_args full = {0};
    parse_spec(info->args, &required, &total, &variadic, full.v);
    int given = args ? args->count : 0;
    if (given < 0 || given > GT_OP_MAX_ARGS || (!variadic && given > total) ||
        given < required || (variadic && given < 1)) {
        gt_set_error(GT_ERR_ARG, "%s: wrong number of arguments (%d): expected %s",
                     info->name, given, info->signature);
        return NULL;
    }
    for (int i = 0; i < given; i++)
        full.v[i] = args->v[i];
    full.count = variadic ? given : total;
    int64_t profile_start = gt__profile_begin(tape);
    gt_tensor *out = info->forward(tape, in, n_in, &full);
    if (profile_start) {
        double backward_flops, flops = gt__op_flops(op, in, n_in, out, &backward_flops);
        gt__profile_end(tape, profile_start, info->name, out, flops, backward_flops);
    }
    if (out)
        gt__note_success();
    return out;
}

/* ---- shared helpers ------------------------------------------------------------------ */

gt_status gt__check_inputs(const char *op, gt_tape *tape, gt_tensor *const *in, int n,
                           int optional_from) {
    if (!tape)
        return gt_set_error(GT_ERR_ARG, "%s: tape is NULL", op);
    for (int i = 0; i < n; i++) {
        if (!in[i] && i >= optional_from)
            continue;
        gt_status status = gt__check_input(op, tape, in[i]);
        if (status != GT_OK)
            return status;
    }
    return GT_OK;
}

gt_tensor *gt__op_output(gt_tape *tape, gt_op op, int ndim, const int64_t *shape) {
    return gt__tape_new_tensor(tape, op_table[op].name, ndim, shape);
}

gt_tensor *gt__op_finish(gt_tape *tape, gt_op op, gt_tensor *out, gt_tensor *const *in,
                         int n_in, gt_node **node) {
    gt_node *recorded = NULL;
    if (node)
        *node = NULL;
    if (!out)
        return NULL;
    if (gt__tape_detect_anomaly(tape) &&
        gt__check_finite(op_table[op].name, "output", out->data, out->numel) != GT_OK)
        return NULL;
    if (gt__tape_record(tape, op_table[op].name, op_table[op].backward, out, in, n_in,
                        &recorded) != GT_OK)
        return NULL;
    if (node)
        *node = recorded;
    return out;
}

const char *gt__shape_of(const gt_tensor *t) {
    static _Thread_local char bufs[4][160];
    static _Thread_local int next;
    char *buf = bufs[next++ & 3];
    return gt_shape_str(t->ndim, t->shape, buf, sizeof bufs[0]);
}

gt_tensor *gt__shape_error2(const char *op, const char *what, const gt_tensor *a,
                            const gt_tensor *b) {
    gt_set_error(GT_ERR_SHAPE, "%s: %s: %s vs %s", op, what, gt__shape_of(a),
                 gt__shape_of(b));
    return NULL;
}
