/* elementwise.c - add, sub, mul, div with NumPy broadcasting (the broadcasting that
 * compare.c shares: gt_broadcast_impl.h); neg and scale. */
#include "gt_broadcast_impl.h"
#include "gt_vmath.h"

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

/* bc's loop_* fields: the output's dims without those of size 1, each merged into the one
 * before it when every operand steps over both as over one (stride[d] = stride[d + 1] *
 * shape[d + 1]); the same elements in the same order. An empty output is one run of 0. */
static void loop_dims(gt__broadcast *bc) {
    int m = 0;
    for (int d = 0; d < bc->ndim; d++)
        if (bc->shape[d] == 0) { /* no elements: one empty run (a dim of 0 before others
                                    would make gt__broadcast_seek divide by 0) */
            bc->loop_ndim = 1;
            return; /* loop_shape[0] and the loop strides are 0 (memset by the caller) */
        }
    for (int d = 0; d < bc->ndim; d++) {
        if (bc->shape[d] == 1)
            continue;
        bool merge = m > 0;
        for (int k = 0; merge && k < GT__BROADCAST_MAX; k++)
            merge = bc->loop_stride[k][m - 1] == bc->stride[k][d] * bc->shape[d];
        if (merge) {
            bc->loop_shape[m - 1] *= bc->shape[d];
            for (int k = 0; k < GT__BROADCAST_MAX; k++)
                bc->loop_stride[k][m - 1] = bc->stride[k][d];
            continue;
        }
        bc->loop_shape[m] = bc->shape[d];
        for (int k = 0; k < GT__BROADCAST_MAX; k++)
            bc->loop_stride[k][m] = bc->stride[k][d];
        m++;
    }
    if (m == 0) { /* a single element */
        bc->loop_shape[0] = 1;
        for (int k = 0; k < GT__BROADCAST_MAX; k++)
            bc->loop_stride[k][0] = 0;
        m = 1;
    }
    bc->loop_ndim = m;
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
    loop_dims(bc);
    return GT_OK;
}

static gt_status broadcast_shapes(const char *op, const gt_tensor *a, const gt_tensor *b,
                                  gt__broadcast *bc) {
    return gt__broadcast_shapes(op, 2, (const gt_tensor *const[]){a, b}, bc);
}

typedef enum binary_kind { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } binary_kind;

/* A pass of add, sub, mul or div over output elements [from, to) (gt__parallel_ranges). */
typedef struct binary_job {
    const gt__broadcast *bc;
    binary_kind kind;
    int64_t n;                /* the output's elements */
    const gt_real *a, *b, *g; /* g: the output's gradient (backward) */
    gt_real *y;               /* forward: the output */
    gt_real *ga, *gb;         /* backward: the gradients this pass makes (NULL: not this one) */
    bool write_a, write_b;    /* = instead of += (stale: the operand's whole gradient) */
} binary_job;

// a[...], b[...] broadcast -> y[from, to) of out[broadcast shape]
GT__MULTIVERSION static void binary_forward_range(void *ctx, int64_t from, int64_t to) {
    const binary_job *job = ctx;
    const gt_real *a = job->a, *b = job->b;
    gt_real *y = job->y;
    switch (job->kind) { /* one loop per kind, so that each vectorises */
    case BIN_ADD: GT__FOR_EACH_BROADCAST_IN(job->bc, from, to, y[i] = a[ia] + b[ib]); break;
    case BIN_SUB: GT__FOR_EACH_BROADCAST_IN(job->bc, from, to, y[i] = a[ia] - b[ib]); break;
    case BIN_MUL: GT__FOR_EACH_BROADCAST_IN(job->bc, from, to, y[i] = a[ia] * b[ib]); break;
    case BIN_DIV: GT__FOR_EACH_BROADCAST_IN(job->bc, from, to, y[i] = a[ia] / b[ib]); break;
    }
}

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
    binary_job job = {.bc = &bc, .kind = kind, .a = in[0]->data, .b = in[1]->data,
                      .y = out->data};
    gt__parallel_ranges(out->numel, GT__LANES, GT__FLOPS_PER_ELEMENT * (double)out->numel,
                        binary_forward_range, &job);
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 2, NULL, &node);
    for (int k = 0; node && kind != BIN_DIV && k < 2; k++)
        if (in[k]->numel == out->numel) /* not broadcast: its stale gradient written whole */
            node->overwrites |= 1u << k;
    return out;
}

/* One run of an operand's gradient: to[j * to_stride] += sign * g[j] * m[j * m_stride] for
 * j < n (m NULL: 1; = instead of += when write), each stride 0 or 1. Where `to` steps, each
 * element takes its own product, as an elementwise loop; where it stays (the operand is
 * broadcast along the run), the run's products are summed in lanes (gt__lane_sum's order)
 * and added once, where a chain of n additions to memory took a few cycles an element. */
static inline __attribute__((always_inline)) void
accumulate_run(gt_real *restrict to, int64_t to_stride, const gt_real *restrict g,
               const gt_real *restrict m, int64_t m_stride, gt_real sign, bool write, int64_t n) {
    if (to_stride == 0) {
        double total = !m ? gt__lane_sum(g, n) * sign
                       : m_stride ? gt__lane_dot(g, m, n)
                                  : gt__lane_sum(g, n) * m[0];
        to[0] = (write ? 0 : to[0]) + (gt_real)total; /* write: a run of one element */
        return;
    }
    gt_real scale = m && !m_stride ? m[0] : sign;
    if (m && m_stride) {
        if (write)
            for (int64_t j = 0; j < n; j++)
                to[j] = g[j] * m[j];
        else
            for (int64_t j = 0; j < n; j++)
                to[j] += g[j] * m[j];
    } else if (write) {
        for (int64_t j = 0; j < n; j++)
            to[j] = g[j] * scale;
    } else {
        for (int64_t j = 0; j < n; j++)
            to[j] += g[j] * scale;
    }
}

/* One run of the output's gradient, g[i .. i + len) (a and b from ia and ib, stepping by sa
 * and sb: 0 or 1), added into the job's ga and gb (each NULL: not this pass's). */
static inline __attribute__((always_inline)) void backward_run(const binary_job *job, int64_t i,
                                                               int64_t ia, int64_t ib, int64_t sa,
                                                               int64_t sb, int64_t len) {
    const gt_real *a = job->a, *b = job->b, *g = job->g;
    gt_real *ga = job->ga, *gb = job->gb;
    switch (job->kind) {
    case BIN_ADD:
    case BIN_SUB:
        if (ga)
            accumulate_run(ga + ia, sa, g + i, NULL, 0, 1, job->write_a, len);
        if (gb)
            accumulate_run(gb + ib, sb, g + i, NULL, 0, job->kind == BIN_ADD ? 1 : -1,
                           job->write_b, len);
        break;
    case BIN_MUL:
        if (ga)
            accumulate_run(ga + ia, sa, g + i, b + ib, sb, 1, job->write_a, len);
        if (gb)
            accumulate_run(gb + ib, sb, g + i, a + ia, sa, 1, job->write_b, len);
        break;
    case BIN_DIV:
        for (int64_t j = 0; j < len; j++, i++, ia += sa, ib += sb) {
            gt_real inv = 1 / b[ib];
            if (ga)
                ga[ia] += g[i] * inv;
            if (gb)
                gb[ib] -= g[i] * a[ia] * inv * inv;
        }
        break;
    }
}

// grad_out[from, to) of [broadcast shape] -> the job's ga, gb (operands of the output's shape)
GT__MULTIVERSION static void binary_backward_range(void *ctx, int64_t from, int64_t to) {
    const binary_job *job = ctx;
    GT__FOR_EACH_BROADCAST_RUN_IN(job->bc, from, to,
                                  backward_run(job, i, ia, ib, run_sa, run_sb, run_len));
}

/* grad_out[n] of [broadcast shape] -> elements [from, to) of a broadcast operand's gradient
 * (the job's one of ga, gb; operand 0 or 1): every run of the output is visited and the part
 * of it that adds into those elements taken, so each element sums the same products in the
 * same order whichever range it falls in (the bits do not depend on the thread count). */
GT__MULTIVERSION static void broadcast_backward_range(void *ctx, int64_t from, int64_t to) {
    const binary_job *job = ctx;
    bool of_b = job->gb != NULL;
    GT__FOR_EACH_BROADCAST_RUN_IN(job->bc, 0, job->n, {
        int64_t at = of_b ? ib : ia, step = of_b ? run_sb : run_sa;
        /* the run's part [first, last) that lands in [from, to) */
        int64_t first = step ? (from > at ? from - at : 0) : 0;
        int64_t last = step ? (to - at < run_len ? to - at : run_len) : run_len;
        if (step ? first < last : at >= from && at < to)
            backward_run(job, i + first, ia + first * run_sa, ib + first * run_sb, run_sa,
                         run_sb, last - first);
    });
}

// grad_out[broadcast shape] -> grad_a[a's shape], grad_b[b's shape], summed over broadcasts
static gt_status binary_backward(gt_node *node) {
    gt_tensor *ta = node->in[0], *tb = node->in[1];
    gt__broadcast bc;
    gt_status status = broadcast_shapes(node->name, ta, tb, &bc);
    if (status != GT_OK)
        return status;
    int64_t n = node->out->numel;
    bool own_a = ta->numel == n, own_b = tb->numel == n; /* not broadcast */
    /* an operand of the output's shape whose gradient is stale gets it written (=), not added
     * (overwrites, set by binary_forward; gt__grad_take_stale) */
    binary_job job = {.bc = &bc, .kind = (binary_kind)gt__node_variant(node), .n = n,
                      .a = ta->data, .b = tb->data, .g = node->out->grad};
    job.write_a = ta->grad && (node->overwrites & 1u) && gt__grad_take_stale(ta);
    job.write_b = tb->grad && (node->overwrites & 2u) && gt__grad_take_stale(tb);
    /* the gradients of operands of the output's shape, one element each: split over threads */
    job.ga = own_a ? ta->grad : NULL;
    job.gb = own_b ? tb->grad : NULL;
    if (job.ga || job.gb)
        gt__parallel_ranges(n, GT__LANES, GT__FLOPS_PER_ELEMENT * (double)n,
                            binary_backward_range, &job);
    /* a broadcast operand's: several output elements add into each of its elements; its
     * elements split over threads, each thread visiting every run of the output for its own
     * (a run's bookkeeping is a few operations, its elements most of the work: runs shorter
     * than a vector's lanes stay on one thread) */
    for (int k = 0; k < 2; k++) {
        gt_tensor *t = k ? tb : ta;
        if ((k ? own_b : own_a) || !t->grad)
            continue;
        job.ga = k ? NULL : t->grad;
        job.gb = k ? t->grad : NULL;
        bool long_runs = bc.loop_shape[bc.loop_ndim - 1] >= GT__LANES;
        gt__parallel_ranges(t->numel, GT__LANES,
                            long_runs ? GT__FLOPS_PER_ELEMENT * (double)n : 0,
                            broadcast_backward_range, &job);
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
    "4x1 1x3", "2x3 ()", "2x1x3x1 4x1x5", "0x3 1x3", "2x0x3 3",
    "2x3 4 => add: shapes [2, 3] and [4] cannot be broadcast");
const gt_op_def gt_op_sub = BINARY_OP_DEF(
    "sub", "input - other with broadcasting", GT_DOMAIN_NORMAL, BIN_SUB, "3 5x3",
    "3x2 3 => sub: shapes [3, 2] and [3] cannot be broadcast");
const gt_op_def gt_op_mul = BINARY_OP_DEF(
    "mul", "input * other elementwise with broadcasting", GT_DOMAIN_NORMAL, BIN_MUL,
    "3x1x2 1x4x2", "5 5", "3x0 1", "5 4 => mul: shapes [5] and [4] cannot be broadcast");
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
