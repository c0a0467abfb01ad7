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
} gt_tape_stats;

gt_tape_stats gt_tape_get_stats(const gt_tape *tape);

/* Backward from a tensor of one element: its gradient is 1. Every buffer the walk needs is
 * taken from the arena before any gradient is touched: when memory runs out (GT_ERR_NOMEM)
 * the leaves' gradients are as they were. */
gt_status gt_backward(gt_tape *tape, gt_tensor *root);
/* Backward from any tensor with an upstream gradient of root's shape. */
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
