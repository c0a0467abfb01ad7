/* activation.c - relu, sigmoid, tanh, exp, log; softmax and log_softmax over the last axis. */
#include "gt_ops_impl.h"
#include "gt_vmath.h"

#include <math.h>

typedef enum unary_kind { UN_RELU, UN_SIGMOID, UN_TANH, UN_EXP, UN_LOG } unary_kind;

static const gt_op unary_ops[] = {GT_OP_RELU, GT_OP_SIGMOID, GT_OP_TANH, GT_OP_EXP, GT_OP_LOG};

/* One loop per function, so that each vectorises (a switch inside the loop would not). */

// x[n] -> y[n] = f(x)
GT__MULTIVERSION
static void unary_kernel(unary_kind kind, int64_t n, gt_real *restrict y,
                         const gt_real *restrict x) {
    switch (kind) {
    case UN_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : 0;
        break;
    case UN_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = gt__sigmoid(x[i]);
        break;
    case UN_TANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = gt__tanh(x[i]);
        break;
    case UN_EXP:
        for (int64_t i = 0; i < n; i++)
            y[i] = gt__exp(x[i]);
        break;
    case UN_LOG:
        for (int64_t i = 0; i < n; i++)
            y[i] = log(x[i]);
        break;
    }
}

// g[n], x[n], y[n] = f(x) -> gx[n] += g * f'(x), f' from x or y
GT__MULTIVERSION
static void unary_grad_kernel(unary_kind kind, int64_t n, gt_real *restrict gx,
                              const gt_real *restrict g, const gt_real *restrict x,
                              const gt_real *restrict y) {
    switch (kind) {
    case UN_RELU:
        for (int64_t i = 0; i < n; i++)
            gx[i] += x[i] > 0 ? g[i] : 0;
        break;
    case UN_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            gx[i] += g[i] * y[i] * (1 - y[i]);
        break;
    case UN_TANH:
        for (int64_t i = 0; i < n; i++)
            gx[i] += g[i] * (1 - y[i] * y[i]);
        break;
    case UN_EXP:
        for (int64_t i = 0; i < n; i++)
            gx[i] += g[i] * y[i];
        break;
    case UN_LOG:
        for (int64_t i = 0; i < n; i++)
            gx[i] += g[i] / x[i];
        break;
    }
}

/* One unary pass, cut into ranges that threads share on large tensors. */
typedef struct unary_job {
    unary_kind kind;
    gt_real *out;                   /* y, or gx */
    const gt_real *g, *x, *y;       /* g and y: backward only */
} unary_job;

static void unary_range(void *ctx, int64_t from, int64_t to) {
    const unary_job *j = ctx;
    unary_kernel(j->kind, to - from, j->out + from, j->x + from);
}

static void unary_grad_range(void *ctx, int64_t from, int64_t to) {
    const unary_job *j = ctx;
    unary_grad_kernel(j->kind, to - from, j->out + from, j->g + from, j->x + from, j->y + from);
}

#define UNARY_ALIGN 64 /* elements: ranges start on whole cache lines of either type */

// x[...] -> f(x)[...]
static gt_tensor *unary_forward(unary_kind kind, gt_tape *tape, gt_tensor *x) {
    gt_op op = unary_ops[kind];
    if (gt__check_inputs(gt_op_get(op)->name, tape, &x, 1, 1) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    unary_job job = {kind, out->data, NULL, x->data, NULL};
    gt__parallel_ranges(x->numel, UNARY_ALIGN, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                        unary_range, &job);
    return gt__op_finish(tape, op, out, &x, 1, NULL);
}

// grad_out[...] -> grad_x[...] += grad_out * f'(x)
static gt_status unary_backward(unary_kind kind, gt_node *node) {
    gt_tensor *x = node->in[0];
    if (x->grad) {
        unary_job job = {kind, x->grad, node->out->grad, x->data, node->out->data};
        gt__parallel_ranges(x->numel, UNARY_ALIGN, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                            unary_grad_range, &job);
    }
    return GT_OK;
}

#define UNARY_OP(name, KIND)                                                              \
    gt_tensor *gt__##name##_forward(gt_tape *tape, gt_tensor *const *in, int n_in,        \
                                    const gt_op_args *args) {                             \
        (void)n_in;                                                                       \
        (void)args;                                                                       \
        return unary_forward(KIND, tape, in[0]);                                          \
    }                                                                                     \
    gt_status gt__##name##_backward(gt_node *node) { return unary_backward(KIND, node); }  \
    gt_tensor *gt_##name(gt_tape *tape, gt_tensor *x) {                                   \
        return gt_op_apply(tape, unary_ops[KIND], &x, 1, NULL);                           \
    }

UNARY_OP(relu, UN_RELU)
UNARY_OP(sigmoid, UN_SIGMOID)
UNARY_OP(tanh, UN_TANH)
UNARY_OP(exp, UN_EXP)
UNARY_OP(log, UN_LOG)

/* ---- softmax family: rows are the last axis ------------------------------------------- */

static int64_t row_length(const gt_tensor *x) { return x->ndim ? x->shape[x->ndim - 1] : 1; }

// x[R,K] -> y[R,K]: y = x - max - log(sum(exp(x - max))), or its exp for softmax
static gt_tensor *softmax_forward(gt_op op, gt_tape *tape, gt_tensor *x, bool take_log) {
    if (gt__check_inputs(gt_op_get(op)->name, tape, &x, 1, 1) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    int64_t k = row_length(x), rows = k ? x->numel / k : 0;
    for (int64_t r = 0; r < rows; r++) {
        const gt_real *in = x->data + r * k;
        gt_real *y = out->data + r * k;
        gt_real max = in[0];
        for (int64_t j = 1; j < k; j++)
            max = in[j] > max ? in[j] : max;
        double total = 0;
        for (int64_t j = 0; j < k; j++)
            total += exp((double)(in[j] - max));
        gt_real log_total = (gt_real)log(total);
        for (int64_t j = 0; j < k; j++)
            y[j] = take_log ? in[j] - max - log_total : (gt_real)exp(in[j] - max - log_total);
    }
    return gt__op_finish(tape, op, out, &x, 1, NULL);
}

gt_tensor *gt__softmax_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                               const gt_op_args *args) {
    (void)n_in;
    (void)args;
    return softmax_forward(GT_OP_SOFTMAX, tape, in[0], false);
}

gt_tensor *gt__log_softmax_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                                   const gt_op_args *args) {
    (void)n_in;
    (void)args;
    return softmax_forward(GT_OP_LOG_SOFTMAX, tape, in[0], true);
}

// softmax: grad_x = y * (g - sum(g * y)) per row
gt_status gt__softmax_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    int64_t k = row_length(x), rows = k ? x->numel / k : 0;
    for (int64_t r = 0; r < rows; r++) {
        const gt_real *y = node->out->data + r * k, *g = node->out->grad + r * k;
        gt_real *gx = x->grad + r * k;
        double dot = 0;
        for (int64_t j = 0; j < k; j++)
            dot += (double)g[j] * y[j];
        for (int64_t j = 0; j < k; j++)
            gx[j] += y[j] * (g[j] - (gt_real)dot);
    }
    return GT_OK;
}

// log_softmax: grad_x = g - softmax * sum(g) per row
gt_status gt__log_softmax_backward(gt_node *node) {
    gt_tensor *x = node->in[0];
    int64_t k = row_length(x), rows = k ? x->numel / k : 0;
    for (int64_t r = 0; r < rows; r++) {
        const gt_real *y = node->out->data + r * k, *g = node->out->grad + r * k;
        gt_real *gx = x->grad + r * k;
        double total = 0;
        for (int64_t j = 0; j < k; j++)
            total += g[j];
        for (int64_t j = 0; j < k; j++)
            gx[j] += g[j] - (gt_real)exp(y[j]) * (gt_real)total;
    }
    return GT_OK;
}

gt_tensor *gt_softmax(gt_tape *tape, gt_tensor *x) {
    return gt_op_apply(tape, GT_OP_SOFTMAX, &x, 1, NULL);
}

gt_tensor *gt_log_softmax(gt_tape *tape, gt_tensor *x) {
    return gt_op_apply(tape, GT_OP_LOG_SOFTMAX, &x, 1, NULL);
}
