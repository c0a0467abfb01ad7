/* dropout.c - inverted dropout from the library's dropout generator (gt_manual_seed). */
#include "gt_ops_impl.h"

#include <stddef.h>
#include <stdint.h>

/* The generator dropout draws its masks from: one per thread (as the last error), each
 * starting at seed 0 and restarted by gt_manual_seed, so a run is the same run after run
 * whatever the kernels' thread count. */
static _Thread_local gt_rng dropout_rng;
static _Thread_local bool dropout_rng_seeded;

void gt_manual_seed(uint64_t seed) {
    gt_rng_seed(&dropout_rng, seed);
    dropout_rng_seeded = true;
}

/* The arguments of dropout. */
typedef struct dropout_args {
    double p;
    bool training;
} dropout_args;

/* What the backward needs: the mask (NULL: every element kept) and the scale of a kept one. */
typedef struct dropout_saved {
    uint8_t *keep; /* [numel] 1 kept, 0 dropped */
    gt_real scale;
} dropout_saved;

// x[n], keep[n] -> y[n] = x * keep * scale (keep NULL: all kept)
GT__MULTIVERSION
static void dropout_kernel(int64_t n, const uint8_t *restrict keep, gt_real scale,
                           gt_real *restrict y, const gt_real *restrict x) {
    if (!keep) {
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * scale;
        return;
    }
    for (int64_t i = 0; i < n; i++)
        y[i] = keep[i] ? x[i] * scale : 0;
}

// g[n], keep[n] -> gx[n] += g * keep * scale
GT__MULTIVERSION
static void dropout_grad_kernel(int64_t n, const uint8_t *restrict keep, gt_real scale,
                                gt_real *restrict gx, const gt_real *restrict g) {
    if (!keep) {
        for (int64_t i = 0; i < n; i++)
            gx[i] += g[i] * scale;
        return;
    }
    for (int64_t i = 0; i < n; i++)
        gx[i] += keep[i] ? g[i] * scale : 0;
}

// x[...] -> [...]: each element zeroed with probability p, the rest scaled by 1/(1-p)
static gt_tensor *dropout_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                  int n_in, const void *args_ptr) {
    (void)n_in;
    const dropout_args *args = args_ptr;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK)
        return NULL;
    bool drop = args->training && args->p > 0;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    uint8_t *keep = out && drop ? gt__tape_alloc(tape, (size_t)x->numel + 1, op->name) : NULL;
    dropout_saved *saved = out && (!drop || keep)
                               ? gt__tape_alloc(tape, sizeof *saved, op->name) : NULL;
    if (!saved)
        return NULL;
    gt_real scale = !drop ? 1 : args->p < 1 ? (gt_real)(1 / (1 - args->p)) : 0;
    if (drop) {
        if (!dropout_rng_seeded)
            gt_manual_seed(0);
        /* drawn in order on this thread: the mask depends on the seed alone */
        uint64_t threshold = (uint64_t)(args->p * 9007199254740992.0); /* p * 2^53 */
        for (int64_t i = 0; i < x->numel; i++)
            keep[i] = (gt_rng_next(&dropout_rng) >> 11) >= threshold;
    }
    dropout_kernel(x->numel, keep, scale, out->data, x->data);
    *saved = (dropout_saved){keep, scale};
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, args, &node);
    if (node)
        node->saved = saved;
    return out;
}

static gt_status dropout_backward(gt_node *node) {
    const dropout_saved *s = node->saved;
    gt_tensor *x = node->in[0];
    if (x->grad)
        dropout_grad_kernel(x->numel, s->keep, s->scale, x->grad, node->out->grad);
    return GT_OK;
}

// grad_x = g * keep * scale, the mask a constant
static gt_status dropout_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                    gt_tensor **grad_in) {
    const dropout_saved *s = node->saved;
    gt_tensor *factor = gt__const_like(tape, node->in[0], s->scale);
    for (int64_t i = 0; factor && s->keep && i < factor->numel; i++)
        factor->data[i] = s->keep[i] ? s->scale : 0;
    grad_in[0] = gt_mul(tape, g, factor);
    return grad_in[0] ? GT_OK : gt_last_status();
}

static const gt_attr_def dropout_attrs[] = {
    {"p", GT_ATTR_FLOAT, offsetof(dropout_args, p), .dflt = 0.5,
     .flags = GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX, .min = 0, .max = 1},
    {"training", GT_ATTR_BOOL, offsetof(dropout_args, training), .dflt = 1},
};

const gt_op_def gt_op_dropout = {
    .name = "dropout",
    .doc = "when training, each element zeroed with probability p (from the generator of "
           "gt_manual_seed / seed(n)) and the rest scaled by 1/(1-p); else input unchanged",
    .shapes = "input[...] -> [...]",
    .inputs = {{"input"}},
    GT__ATTRS(dropout_attrs),
    .args_size = sizeof(dropout_args),
    .forward = dropout_forward,
    .backward = dropout_backward,
    .grad_graph = dropout_grad_graph,
    /* the checks run an op several times: only cases without random draws (p = 0 or not
     * training) fit them; tests/test_layers.c checks the drawn masks */
    GT__CASES("3x4; training=False", "2x3x2; p=0", "5; p=0.3, training=False", "(); training=False",
              "1x1; p=1, training=False",
              "3; p=1.5 => dropout: p must be <= 1, got 1.5",
              "3; p=-0.1 => dropout: p must be >= 0, got -0.1"),
};

gt_tensor *gt_dropout(gt_tape *tape, gt_tensor *input, double p, bool training) {
    return gt_op_call(tape, &gt_op_dropout, &input, 1, &(dropout_args){p, training});
}
