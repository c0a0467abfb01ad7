/* gt_ops.h - floor 3 of gradtape: the ops, each with its forward and backward.
 *
 * Every op takes the tape its result lives on, records a node when an input requires a
 * gradient, and returns NULL with a message naming the op and the shapes when its inputs
 * do not fit (gt_last_error). A NULL input is not dereferenced: the op returns NULL and
 * leaves the message of the failure that produced it (when a failure was recorded and no op
 * has succeeded since; otherwise it says the input is NULL), so a chain of calls can be
 * checked once at the end and still names the cause (e.g. "conv2d: cannot grow the tape's
 * arena by 524288 bytes").
 *
 * Conventions follow PyTorch: images are NCHW; conv2d is cross-correlation with weight
 * [O,C,KH,KW]; softmax and log_softmax work over the last axis; cross_entropy takes logits
 * [N,K] and class indices [N] (stored as reals) or per-class probabilities [N,K] and
 * returns the batch mean; max-pool sends the gradient to the first maximum of a window
 * (row-major order; a NaN counts as the maximum, as in PyTorch); binary elementwise ops
 * broadcast with NumPy's rules.
 *
 *     gt_tensor *h = gt_relu(tape, gt_linear(tape, x, w1, b1));  // x[N,784] w1[100,784]
 *     gt_tensor *loss = gt_cross_entropy(tape, gt_linear(tape, h, w2, b2), labels);
 *     if (!loss) fprintf(stderr, "%s\n", gt_last_error());  // e.g. "linear: ..."
 *
 * The op table lists every op once (enum, name, arity, arguments, forward, backward); the
 * REPL, the gradient-check suite and error messages all read it.
 */
#ifndef GT_OPS_H
#define GT_OPS_H

#include "gt_autograd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sum/mean over every element. */
#define GT_ALL_AXES (-1000)

typedef enum gt_op {
    GT_OP_MATMUL,
    GT_OP_LINEAR,
    GT_OP_ADD,
    GT_OP_SUB,
    GT_OP_MUL,
    GT_OP_DIV,
    GT_OP_NEG,
    GT_OP_SCALE,
    GT_OP_RELU,
    GT_OP_SIGMOID,
    GT_OP_TANH,
    GT_OP_EXP,
    GT_OP_LOG,
    GT_OP_SOFTMAX,
    GT_OP_LOG_SOFTMAX,
    GT_OP_SUM,
    GT_OP_MEAN,
    GT_OP_RESHAPE,
    GT_OP_FLATTEN,
    GT_OP_TRANSPOSE,
    GT_OP_CONV2D,
    GT_OP_MAXPOOL2D,
    GT_OP_AVGPOOL2D,
    GT_OP_CROSS_ENTROPY,
    GT_OP_MSE_LOSS,
    GT_OP_COUNT
} gt_op;

#define GT_OP_MAX_ARGS 8

/* Scalar arguments of an op, in the order its `args` spec names them. NAN means "not
 * given" for an optional argument (spec `name?`). */
typedef struct gt_op_args {
    int count;
    double v[GT_OP_MAX_ARGS];
} gt_op_args;

typedef gt_tensor *(*gt_op_forward_fn)(gt_tape *tape, gt_tensor *const *in, int n_in,
                                       const gt_op_args *args);

typedef struct gt_op_info {
    gt_op op;
    const char *name;     /* "conv2d" */
    int min_inputs;       /* tensor inputs */
    int max_inputs;
    /* Scalar arguments after the tensors, space separated: "stride=1 padding=0" gives
     * defaults, "axis?" is optional, "kernel" is required, "dims..." takes 1..8 values. */
    const char *args;
    const char *signature; /* "conv2d(x[N,C,H,W], w[O,C,KH,KW], b[O]?, stride=1, padding=0)" */
    const char *doc;       /* one line: what it computes */
    gt_op_forward_fn forward;
    gt_backward_fn backward;
} gt_op_info;

/* The table: GT_OP_COUNT rows, in enum order. */
const gt_op_info *gt_op_table(void);
const gt_op_info *gt_op_get(gt_op op);
/* The row with this name, or NULL. */
const gt_op_info *gt_op_find(const char *name);
/* Checks the number of inputs and arguments against the table, fills defaults, then runs
 * the op. args may be NULL when the op takes none. */
gt_tensor *gt_op_apply(gt_tape *tape, gt_op op, gt_tensor *const *in, int n_in,
                       const gt_op_args *args);

/* ---- threads ------------------------------------------------------------------------ */
/* The number of threads the library's kernels use: the caller's thread plus workers of
 * the library's own pool (POSIX threads; a build without them always uses 1). 0 means
 * every core this process may run on; until set, GT_NUM_THREADS, else OMP_NUM_THREADS, else
 * every core. Only work large enough to gain goes parallel (about 1 MFLOP), and a product
 * gives the same bits run after run whatever the number of threads (with the optional
 * OpenBLAS path, GT_CPU=blas, for the same number). On a machine whose cores are busy with
 * other programs the default stays about as fast as 1 thread: a worker that is not running
 * when work comes takes no part of it, and after a worker kept the caller waiting the next
 * products run on the caller alone for a while. Call it between steps, not while another
 * thread is inside the library. Returns the count now in use, or -1 (and an error) for a
 * negative n, changing nothing.
 *
 *     gt_set_threads(1);  // single-threaded, e.g. when the caller runs its own threads
 */
int gt_set_threads(int n);
int gt_get_threads(void);

/* ---- matmul ------------------------------------------------------------------------- */
/* a[M,K] @ b[K,N] -> [M,N]; a[B,M,K] @ b[B,K,N] -> [B,M,N]; a[B,M,K] @ b[K,N] -> [B,M,N]. */
gt_tensor *gt_matmul(gt_tape *tape, gt_tensor *a, gt_tensor *b);
/* x[N,IN] @ w[OUT,IN]^T + b[OUT] -> [N,OUT]; b may be NULL (PyTorch's F.linear). */
gt_tensor *gt_linear(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b);

/* ---- elementwise (NumPy broadcasting) ----------------------------------------------- */
gt_tensor *gt_add(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_sub(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_mul(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_div(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_neg(gt_tape *tape, gt_tensor *x);
/* x * factor */
gt_tensor *gt_scale(gt_tape *tape, gt_tensor *x, double factor);

/* ---- activations -------------------------------------------------------------------- */
gt_tensor *gt_relu(gt_tape *tape, gt_tensor *x);
gt_tensor *gt_sigmoid(gt_tape *tape, gt_tensor *x);
gt_tensor *gt_tanh(gt_tape *tape, gt_tensor *x);
gt_tensor *gt_exp(gt_tape *tape, gt_tensor *x);
/* Natural log; inputs <= 0 give -inf/NaN as in C (anomaly mode reports them). */
gt_tensor *gt_log(gt_tape *tape, gt_tensor *x);
/* Over the last axis, max-shifted: finite for logits of any size. */
gt_tensor *gt_softmax(gt_tape *tape, gt_tensor *x);
gt_tensor *gt_log_softmax(gt_tape *tape, gt_tensor *x);

/* ---- reductions --------------------------------------------------------------------- */
/* Over one axis (negative counts from the end; the axis is removed) or GT_ALL_AXES
 * (result has shape [], one element). */
gt_tensor *gt_sum(gt_tape *tape, gt_tensor *x, int axis);
gt_tensor *gt_mean(gt_tape *tape, gt_tensor *x, int axis);

/* ---- shape -------------------------------------------------------------------------- */
/* Same data, new shape (no copy); one size may be -1 (inferred). */
gt_tensor *gt_reshape(gt_tape *tape, gt_tensor *x, int ndim, const int64_t *shape);
/* Dimensions start_dim.. merged into one, as torch.flatten (no copy). */
gt_tensor *gt_flatten(gt_tape *tape, gt_tensor *x, int start_dim);
/* 2-D transpose [M,N] -> [N,M] (a copy). */
gt_tensor *gt_transpose(gt_tape *tape, gt_tensor *x);

/* ---- convolution and pooling --------------------------------------------------------- */
/* x[N,C,H,W] * w[O,C,KH,KW] (+ b[O]) -> y[N,O,(H+2p-KH)/s+1,(W+2p-KW)/s+1]; b may be NULL. */
gt_tensor *gt_conv2d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b, int stride,
                     int padding);
/* x[N,C,H,W] -> [N,C,(H-k)/s+1,(W-k)/s+1]; stride 0 means stride = kernel. */
gt_tensor *gt_maxpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride);
gt_tensor *gt_avgpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride);

/* ---- losses (batch mean, shape []) ---------------------------------------------------- */
/* logits[N,K]; target [N] class indices in 0..K-1, or [N,K] probabilities. Fused
 * log-sum-exp; no gradient flows into the target. */
gt_tensor *gt_cross_entropy(gt_tape *tape, gt_tensor *logits, gt_tensor *target);
/* mean((a - b)^2) over all elements; a and b of one shape. */
gt_tensor *gt_mse_loss(gt_tape *tape, gt_tensor *a, gt_tensor *b);

#ifdef __cplusplus
}
#endif

#endif
