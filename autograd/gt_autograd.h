/* gt_autograd.h - floor 2 of gradtape: the tape, the backward walk, gradient checking.
 *
 * A tape records the ops of one step in execution order and owns every tensor they make,
 * in a chunked arena that grows as needed and is reused after gt_tape_reset: after the
 * first step a training loop allocates nothing. An op records a node only when one of its
 * inputs requires a gradient and recording is enabled. gt_backward walks the nodes in
 * reverse (execution order is already a topological order, so a tensor used twice, as in
 * a + a, just receives two contributions) and *adds* into the gradients of leaves: they
 * accumulate across calls until zeroed. Gradients of intermediates are recomputed from
 * zero on every call, so calling gt_backward twice on one live tape adds the leaves'
 * gradients twice, as PyTorch does with retain_graph=True.
 *
 *     gt_tape *tape = gt_tape_new();
 *     gt_tensor *y = gt_sum(tape, gt_mul(tape, w, w), GT_ALL_AXES);  // y = sum(w*w)
 *     if (!y || gt_backward(tape, y) != GT_OK)
 *         fprintf(stderr, "%s\n", gt_last_error());
 *     // gt_tensor_grad(w) now holds 2*w
 *     gt_tape_reset(tape);    // y and every other intermediate are gone
 *     gt_tape_free(tape);
 */
#ifndef GT_AUTOGRAD_H
#define GT_AUTOGRAD_H

#include "gt_tensor.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gt_tape gt_tape;
/* A recorded op: what the tape holds for each step of the backward walk. */
typedef struct gt_node gt_node;
/* Adds d(loss)/d(input) into the gradient of every input that needs one. */
typedef gt_status (*gt_backward_fn)(gt_node *node);

/* NULL (with the error set) when out of memory. */
gt_tape *gt_tape_new(void);
/* Frees the tape, its arena and every tensor on it; NULL is fine. */
void gt_tape_free(gt_tape *tape);
/* Releases every tensor and node of the step at once; the arena's memory is kept for the
 * next step. Tensors made before the reset must not be used after it. */
void gt_tape_reset(gt_tape *tape);

/* Recording on or off (inference). Returns the previous setting, for restoring:
 *     bool was = gt_tape_set_grad_enabled(tape, false); ...; gt_tape_set_grad_enabled(tape, was);
 */
/* Given a NULL tape, these and gt_tape_get_stats, gt_tape_set_detect_anomaly do nothing
 * and return false or zeros. */
bool gt_tape_set_grad_enabled(gt_tape *tape, bool enabled);
bool gt_tape_grad_enabled(const gt_tape *tape);

/* A zeroed tensor in the tape's arena, released by the next reset (inputs of a step). */
gt_tensor *gt_tape_tensor(gt_tape *tape, int ndim, const int64_t *shape);

typedef struct gt_tape_stats {
    size_t nodes;          /* nodes recorded since the last reset */
    size_t bytes_used;     /* arena bytes in use by this step */
    size_t bytes_reserved; /* arena bytes held in all chunks */
    size_t chunk_allocs;   /* arena chunks allocated over the tape's life */
    size_t scratch_bytes;  /* held outside the arena for ops' temporaries (one forward or
                              one node's backward at a time), kept across steps */
} gt_tape_stats;

gt_tape_stats gt_tape_get_stats(const gt_tape *tape);

/* Backward from a tensor of one element: its gradient is 1. Every buffer the walk needs is
 * taken from the arena before any gradient is touched: when memory runs out (GT_ERR_NOMEM)
 * the leaves' gradients are as they were. */
gt_status gt_backward(gt_tape *tape, gt_tensor *root);
/* Backward from any tensor with an upstream gradient of root's shape. The walk reads
 * grad_root in place (no copy) unless a gradient hook on root could change it: afterwards
 * root has no gradient of its own (gt_tensor_grad(root) is NULL; the caller holds it). */
gt_status gt_backward_with(gt_tape *tape, gt_tensor *root, const gt_tensor *grad_root);

/* Anomaly mode: when on, every op's output and every gradient a backward step produces is
 * checked; the first non-finite value fails the call with GT_ERR_NUMERIC, naming the op. */
void gt_tape_set_detect_anomaly(gt_tape *tape, bool on);

/* ---- gradients as tensors, and gradients of gradients ---------------------------------- */

/* An op's backward written with ops: given the node and the gradient of its output (a
 * tensor on `tape`), sets grad_in[i] to the gradient of input i as a tensor made by ops on
 * `tape` (so that, recorded, it can be differentiated again), or to NULL for an input that
 * takes none. Every op of the table has one unless its entry says otherwise. */
typedef gt_status (*gt_grad_graph_fn)(gt_tape *tape, gt_node *node, gt_tensor *grad_out,
                                      gt_tensor **grad_in);

/* ---- custom ops: an op defined in user code (PyTorch's torch.autograd.Function) ------ *
 *
 * A custom op is a first-class node on the tape: anomaly mode checks its output and the
 * gradients its backward makes (naming it), gt_gradcheck checks it, the no-record scope and
 * gt_tape_reset apply to it, the graph and the profiler show it by name. Its forward runs
 * with recording off: it makes its output with gt_custom_new_output and fills it, or builds
 * it from ops on gt_custom_tape(ctx). Its backward reads the output's gradient and *adds*
 * into the gradient of each input that needs one (grad_in[i] is NULL for the others):
 *
 *     static gt_tensor *square_fwd(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
 *         gt_tensor *y = gt_custom_new_output(ctx, gt_tensor_ndim(in[0]), gt_tensor_shape(in[0]));
 *         for (int64_t i = 0; y && i < gt_tensor_numel(y); i++)
 *             gt_tensor_data(y)[i] = gt_tensor_item(in[0], i) * gt_tensor_item(in[0], i);
 *         return y;                                      // NULL: the error names the op
 *     }
 *     static gt_status square_bwd(gt_custom_ctx *ctx, const gt_tensor *grad_out,
 *                                 gt_tensor *const *grad_in) {
 *         gt_tensor *x = gt_custom_input(ctx, 0);
 *         for (int64_t i = 0; grad_in[0] && i < gt_tensor_numel(x); i++)
 *             gt_tensor_data(grad_in[0])[i] += 2 * gt_tensor_item(x, i) * gt_tensor_item(grad_out, i);
 *         return GT_OK;
 *     }
 *     static const gt_custom_op square = {.name = "square", .forward = square_fwd,
 *                                         .backward = square_bwd};
 *     gt_tensor *y = gt_custom_apply(tape, &square, &x, 1);
 *
 * The backward must not allocate: memory it needs is reserved by the forward with
 * gt_custom_reserve_scratch and taken by gt_backward, with every gradient buffer, before
 * any backward runs (so that running out of memory changes no gradient). docs/
 * example_custom_op.c is a complete example (a stable softplus, gradchecked and trained). */

#define GT_CUSTOM_MAX_INPUTS 4
#define GT_CUSTOM_MAX_SAVED 8

/* What one application of a custom op keeps for its backward; lives in the tape's arena. */
typedef struct gt_custom_ctx gt_custom_ctx;

typedef struct gt_custom_op {
    /* Shown in errors, anomaly reports, the graph and the profiler. The string (and this
     * struct) must live as long as the tensors the op makes: a string literal and a static
     * const struct are the usual way. */
    const char *name;
    /* Returns the output, a new tensor on gt_custom_tape(ctx); NULL with the error set on
     * failure. */
    gt_tensor *(*forward)(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in);
    /* Adds d(loss)/d(in[i]) into grad_in[i] (same shape as in[i]) for every non-NULL
     * grad_in[i], from grad_out (the output's shape). Returns GT_OK, or an error (set). */
    gt_status (*backward)(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                          gt_tensor *const *grad_in);
    /* The backward is not itself differentiable (PyTorch's @once_differentiable).
     * gt_grad runs a custom op's backward without create_graph; with create_graph it
     * refuses every custom op (a backward written in C records nothing to differentiate),
     * naming it, and saying once_differentiable when it is set. */
    bool once_differentiable;
    void *user; /* for the callbacks: gt_custom_user(ctx) */
} gt_custom_op;

/* Applies op to in[0..n_in-1] (1 to GT_CUSTOM_MAX_INPUTS tensors of `tape`). Records a
 * node when recording is on and an input requires a gradient. NULL with the error set
 * (naming the op) when an input is bad, the forward fails or returns something other than
 * a new tensor of the tape, or memory runs out. */
gt_tensor *gt_custom_apply(gt_tape *tape, const gt_custom_op *op, gt_tensor *const *in,
                           int n_in);

/* In the forward: */
/* The tape of the call, for ops the forward builds its output with (recording is off). */
gt_tape *gt_custom_tape(const gt_custom_ctx *ctx);
/* An uninitialised output tensor in the tape's arena. */
gt_tensor *gt_custom_new_output(gt_custom_ctx *ctx, int ndim, const int64_t *shape);
/* Whether the backward will be asked for input i's gradient (PyTorch's
 * ctx.needs_input_grad): false for every input when nothing is recorded, so the forward
 * can skip saving. */
bool gt_custom_needs_input_grad(const gt_custom_ctx *ctx, int i);
/* Keeps up to GT_CUSTOM_MAX_SAVED tensors for the backward (replacing any saved before).
 * They must stay alive and unchanged until the backward: inputs, the output or tensors of
 * the tape. */
gt_status gt_custom_save_tensors(gt_custom_ctx *ctx, gt_tensor *const *tensors, int n);
/* `bytes` of zeroed memory in the arena kept for the backward (replacing any before);
 * NULL with the error set when out of memory. */
void *gt_custom_save_bytes(gt_custom_ctx *ctx, size_t bytes);
/* Scratch memory for the backward: gt_custom_scratch(ctx) there. */
void gt_custom_reserve_scratch(gt_custom_ctx *ctx, size_t bytes);

/* In the forward and the backward: */
void *gt_custom_user(const gt_custom_ctx *ctx);
const char *gt_custom_name(const gt_custom_ctx *ctx);
gt_tensor *gt_custom_input(const gt_custom_ctx *ctx, int i);
int gt_custom_input_count(const gt_custom_ctx *ctx);
/* In the backward: */
gt_tensor *gt_custom_output(const gt_custom_ctx *ctx);
gt_tensor *gt_custom_saved_tensor(const gt_custom_ctx *ctx, int i);
int gt_custom_saved_count(const gt_custom_ctx *ctx);
void *gt_custom_saved_bytes(const gt_custom_ctx *ctx, size_t *bytes);
void *gt_custom_scratch(const gt_custom_ctx *ctx);

/* ---- hooks -------------------------------------------------------------------------- *
 *
 * A gradient hook on a tensor (PyTorch's Tensor.register_hook) is called during backward
 * with the tensor's gradient once it is complete, and may change it in place (clip it,
 * log it); what it leaves is what flows on. For an intermediate that is its gradient
 * before its op's backward runs; for a leaf it is the sum of this backward's
 * contributions, before it is added into the leaf's .grad. Several hooks on one tensor run
 * in the order they were registered, each seeing what the one before left.
 * A post-accumulate hook on a leaf (PyTorch's register_post_accumulate_grad_hook) is
 * called when the leaf's .grad has received all of this backward's gradient: where an
 * optimizer step or a data-parallel all-reduce can overlap the rest of the backward.
 * A hook returning an error stops the backward with it.
 * Hooks on the tape's own tensors go with gt_tape_reset; hooks on leaves (heap tensors)
 * stay until removed or the tape is freed: remove them before freeing the tensor. */

typedef int64_t gt_hook_id;
typedef gt_status (*gt_grad_hook_fn)(gt_tensor *tensor, gt_tensor *grad, void *user);
typedef gt_status (*gt_post_accumulate_hook_fn)(gt_tensor *leaf, void *user);

/* A handle (> 0) for gt_tape_remove_hook; 0 with the error set (bad arguments, out of
 * memory). */
gt_hook_id gt_tape_register_hook(gt_tape *tape, gt_tensor *t, gt_grad_hook_fn fn, void *user);
/* leaf: a heap tensor that requires a gradient. */
gt_hook_id gt_tape_register_post_accumulate_hook(gt_tape *tape, gt_tensor *leaf,
                                                 gt_post_accumulate_hook_fn fn, void *user);
gt_status gt_tape_remove_hook(gt_tape *tape, gt_hook_id id);

/* ---- the tape drawn and timed ------------------------------------------------------- */

/* A name for t in the graph (a parameter's name, a variable's); NULL removes it. Names
 * longer than 47 bytes are cut. Like hooks, a name on the tape's own tensor goes with
 * gt_tape_reset, on a heap tensor it stays until removed. */
gt_status gt_tape_set_name(gt_tape *tape, const gt_tensor *t, const char *name);

/* Writes the graph of the ops that reach `root` as Graphviz DOT: a box per op (its name
 * and output shape; red when its output holds a non-finite value or its gradient failed
 * the anomaly check), an ellipse per leaf (its name when given, shape, whether it requires
 * a gradient), edges from inputs to the ops that read them. `dot -Tpng` draws it. */
gt_status gt_tape_write_dot(const gt_tape *tape, const gt_tensor *root, FILE *out);

/* The profiler (PyTorch's torch.autograd.profiler): when on, every op's forward (built-in
 * and custom) and every backward step is timed and counted by op name, with the bytes the
 * forward took from the arena and the floating-point operations where known (matmul,
 * linear, conv2d, and the elementwise arithmetic). Turning it on clears what was
 * collected; off keeps it for printing. Off, it costs one branch per op. GT_ERR_NOMEM when
 * the table cannot be had. */
gt_status gt_tape_set_profiling(gt_tape *tape, bool on);
bool gt_tape_profiling(const gt_tape *tape);

typedef struct gt_profile_row {
    const char *name;
    int64_t forward_calls, backward_calls;
    double forward_seconds;  /* self time: nested ops (in a custom op's forward) excluded */
    double backward_seconds;
    double forward_bytes;    /* arena bytes the forward took */
    double flops;            /* forward and backward, where known (0: unknown) */
} gt_profile_row;

/* The rows, most time (forward + backward) first: fills up to `max` rows and returns how
 * many there are. The names stay valid until profiling is turned on again or the tape is
 * freed. */
int gt_tape_profile_rows(const gt_tape *tape, gt_profile_row *rows, int max);
/* Prints the rows as a table, with totals. */
void gt_tape_profile_print(const gt_tape *tape, FILE *out);

/* ---- gradient checking -------------------------------------------------------------- */

/* The function to check: builds a scalar from `inputs` on `tape` (NULL on error). */
typedef gt_tensor *(*gt_gradcheck_fn)(gt_tape *tape, gt_tensor *const *inputs, void *ctx);

typedef struct gt_gradcheck_opts {
    double eps;           /* central difference step */
    double atol, rtol;    /* pass when |analytic - numeric| <= atol + rtol * |numeric| */
    bool allow_zero_grad; /* by default an input whose analytic gradient is all zero fails */
    int64_t max_per_input; /* 0: every element; n > 0: at most n per input, spread evenly
                            * from the first element to the last (quick checks of big inputs) */
} gt_gradcheck_opts;

typedef struct gt_gradcheck_result {
    bool passed;
    double max_abs_err;    /* largest |analytic - numeric| over all elements */
    double max_rel_err;    /* largest |analytic - numeric| / max(|numeric|, 1e-12) */
    int worst_input;       /* where the tolerance was most exceeded (or came closest) */
    int64_t worst_index;   /* flat index in that input */
    double worst_analytic;
    double worst_numeric;
    int64_t checked;       /* partials compared */
    char message[256];     /* a one-line verdict naming the worst element */
} gt_gradcheck_result;

/* PyTorch's defaults in the double build (eps 1e-6, atol 1e-5, rtol 1e-3); in the float
 * build eps 1e-3, atol 1e-2, rtol 1e-2. */
gt_gradcheck_opts gt_gradcheck_default_opts(void);

/* Compares the gradient of f with respect to every element of every input that requires a
 * gradient against a central difference. The inputs' gradients are zeroed before and
 * after. An input may be NULL (an absent optional input of f: it is passed on as NULL and
 * not checked). Returns GT_OK when the check ran (see result->passed), an error when f failed. */
gt_status gt_gradcheck(gt_gradcheck_fn f, void *ctx, gt_tensor *const *inputs, int n_inputs,
                       const gt_gradcheck_opts *opts, gt_gradcheck_result *result);

#ifdef __cplusplus
}
#endif

#endif
