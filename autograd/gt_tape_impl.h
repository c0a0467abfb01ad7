/* gt_tape_impl.h - what ops need from the tape to record nodes; not installed.
 * autograd knows no op by name: a node carries its backward as a function pointer, the
 * op's name for messages, and the state the op saved. */
#ifndef GT_TAPE_IMPL_H
#define GT_TAPE_IMPL_H

#include "../tensor/gt_tensor_impl.h"
#include "gt_autograd.h"

/* A node holds this many inputs in itself; one with more (cat, stack) holds them in an
 * array in the arena. */
#define GT_NODE_MAX_INPUTS 4

/* A backward adds d(loss)/d(in[i]) into in[i]->grad for every input whose grad is
 * non-NULL, reading out->grad. It never assigns: inputs used twice and overlapping
 * windows rely on it. It allocates nothing: scratch memory it needs is declared by the forward
 * in `scratch_bytes` and taken by gt_backward, with every gradient buffer, before any
 * backward runs, so that running out of memory changes no gradient. The nodes' backwards
 * run one after another, so they share one buffer (the largest of them), kept by the tape
 * across steps: its contents last for one backward only. */

struct gt_node {
    gt_node *prev;
    const char *name;
    gt_backward_fn backward;
    gt_tensor *out;
    gt_tensor **in;                /* n_in inputs: in_inline, or an arena array */
    gt_tensor *in_inline[GT_NODE_MAX_INPUTS];
    int n_in;
    const void *op;                /* the op's definition (ops/: a gt_op_def), opaque here */
    gt_grad_graph_fn grad_graph;   /* the backward as recorded ops (gt_grad with create_graph),
                                      or NULL when the op has none */
    const void *attrs;             /* the op's attributes (its args struct, in the arena) */
    void *saved;                   /* op-specific state in the arena (e.g. argmax indices) */
    unsigned overwrites;           /* bit i: the backward writes input i's whole gradient when
                                      it is stale instead of adding (gt__grad_mark_stale) */
    size_t scratch_bytes;          /* scratch bytes the backward needs (set by the forward) */
    void *scratch;                 /* those bytes (64-byte aligned), during its backward */
    double backward_flops;         /* the profiler's count for the backward (0: unknown) */
};

/* Checks that t is usable by `op` on `tape`: not NULL, not released by a reset, not from
 * another tape. */
gt_status gt__check_input(const char *op, gt_tape *tape, const gt_tensor *t);
/* How many times the tape's arena could not grow. A function that chains ops (a backward
 * written with ops) compares it before and after: when it changed, an op that failed on a
 * NULL input was most likely given the result of one that ran out of memory, and
 * gt__tape_arena_error sets that error (GT_ERR_NOMEM, "...cannot grow the tape's arena...")
 * again and returns its status. */
size_t gt__tape_arena_failures(const gt_tape *tape);
gt_status gt__tape_arena_error(const gt_tape *tape);
/* Arena memory, 64-byte aligned, released by reset. */
void *gt__tape_alloc(gt_tape *tape, size_t bytes, const char *what);
/* Memory an op's forward uses while it runs and never after (patches, partial results),
 * 64-byte aligned: one buffer per tape, grown when a forward needs more and kept across
 * steps (outside the arena, so that a step's arena holds only what its backward reads).
 * Valid until the next call on this tape: a forward that calls other ops takes it after
 * them. NULL, with the error set, when it cannot grow. */
void *gt__tape_forward_scratch(gt_tape *tape, size_t bytes, const char *what);
/* An uninitialised tensor in the arena. */
gt_tensor *gt__tape_new_tensor(gt_tape *tape, const char *op, int ndim, const int64_t *shape);
/* A tensor in the arena that shares src's data with another shape (same numel). */
gt_tensor *gt__tape_view(gt_tape *tape, const char *op, gt_tensor *src, int ndim,
                         const int64_t *shape);
/* Records a node producing `out` from `in` when recording is on and some input requires
 * a gradient; *node is NULL when nothing was recorded. Fails only when out of memory. */
gt_status gt__tape_record(gt_tape *tape, const char *name, gt_backward_fn backward,
                          gt_tensor *out, gt_tensor *const *in, int n_in, gt_node **node);
/* True when an op on these inputs will record a node (recording on, an input requires a
 * gradient): ops that save state for their backward only do so then. */
bool gt__tape_will_record(const gt_tape *tape, gt_tensor *const *in, int n_in);
/* The last node recorded (the start of a backward walk), or NULL. */
gt_node *gt__tape_last(const gt_tape *tape);
/* True when the tape is in anomaly mode; ops then check their outputs. */
bool gt__tape_detect_anomaly(const gt_tape *tape);
/* In anomaly mode: fails with GT_ERR_NUMERIC naming op and what when values hold a
 * non-finite number. */
gt_status gt__check_finite(const char *op, const char *what, const gt_real *values,
                           int64_t n);

/* The custom op a node was recorded by (gt_custom_apply), NULL for a built-in op: the
 * node's name, and whether it declared itself once_differentiable. */
const gt_custom_op *gt__node_custom_op(const gt_node *node);

/* The profiler's hooks around one op's forward (the tape times backward steps itself):
 *     int64_t start = gt__profile_begin(tape);       // 0 when profiling is off
 *     out = forward(...);
 *     if (start)
 *         gt__profile_end(tape, start, name, out, flops, backward_flops);
 * `out` may be NULL (the op failed: it is counted, without bytes). When out was recorded,
 * backward_flops goes with its node for the backward step's count. */
int64_t gt__profile_start(gt_tape *tape);
/* What ops may read of the tape without a call: the tape struct starts with it. */
typedef struct gt__tape_head {
    bool profiling;
} gt__tape_head;
static inline int64_t gt__profile_begin(gt_tape *tape) {
    return tape && ((const gt__tape_head *)(const void *)tape)->profiling ? gt__profile_start(tape)
                                                                          : 0;
}
void gt__profile_end(gt_tape *tape, int64_t start, const char *name, const gt_tensor *out,
                     double flops, double backward_flops);

#endif
