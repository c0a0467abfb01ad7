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
 * [O,C,KH,KW]; softmax and log_softmax work over one dim (-1 by default); cross_entropy takes logits
 * [N,K] and class indices [N] (stored as reals) or per-class probabilities [N,K] and
 * returns the batch mean; max-pool sends the gradient to the first maximum of a window
 * (row-major order; a NaN counts as the maximum, as in PyTorch); binary elementwise ops
 * broadcast with NumPy's rules.
 *
 *     gt_tensor *h = gt_relu(tape, gt_linear(tape, x, w1, b1));  // x[N,784] w1[100,784]
 *     gt_tensor *loss = gt_cross_entropy(tape, gt_linear(tape, h, w2, b2), labels);
 *     if (!loss) fprintf(stderr, "%s\n", gt_last_error());  // e.g. "linear: ..."
 *
 * The op table (below) describes every op once; the typed functions here, the generic
 * gt_op_call, the REPL, the docs' op list (docs/ops.md) and the test suites all read it.
 */
#ifndef GT_OPS_H
#define GT_OPS_H

#include "gt_autograd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the op table ------------------------------------------------------------------ */
/* Every op is described once, by a gt_op_def: its PyTorch name, its tensor inputs, its
 * attributes as a typed schema, its forward and backward, a one-line doc, its shape rule
 * and the cases the gradient-check and PyTorch-oracle suites run. The typed C functions
 * below (gt_conv2d, gt_sum, ...), the generic gt_op_call, the REPL's builtins, `:help`, the
 * docs' op list and the test suites all read the table (gt_op_list). See ops/README.md,
 * "Adding an op".
 *
 * Attributes reach a kernel as the op's args struct (gt_conv2d_args, gt_reduce_args, ...),
 * filled and range-checked once at the call; gt_op_call names the op, the attribute and
 * the value it refuses ("conv2d: stride must be >= 1, got 0"). */

/* A list of ints (a shape, dims, a per-axis stride). n = 0: not given (PyTorch's None). */
typedef struct gt_ints {
    int n;
    int64_t v[GT_MAX_DIMS];
} gt_ints;

/* GT_INTS(2, 1) is the list [2, 1] (1 to 8 values); (gt_ints){0} is None. */
#define GT_INTS(...) ((gt_ints){GT__NUM_ARGS(__VA_ARGS__), {__VA_ARGS__}})
#define GT__NUM_ARGS(...) GT__NUM_ARGS_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define GT__NUM_ARGS_(a, b, c, d, e, f, g, h, n, ...) n

/* How an attribute is stored in the args struct: INT int64_t, FLOAT double (NAN = None
 * when the attribute is optional), BOOL bool, ENUM int (the index of one of `choices`),
 * INTS gt_ints (an int given for a list attribute is a list of one). */
typedef enum gt_attr_type {
    GT_ATTR_INT,
    GT_ATTR_FLOAT,
    GT_ATTR_BOOL,
    GT_ATTR_ENUM,
    GT_ATTR_INTS
} gt_attr_type;

enum gt_attr_flags {
    GT_ATTR_OPTIONAL = 1u << 0, /* may be None: FLOAT NAN, INTS n = 0 */
    GT_ATTR_HAS_MIN = 1u << 1,  /* INT, FLOAT and each INTS element must be >= min */
    GT_ATTR_HAS_MAX = 1u << 2,  /* ... and <= max */
    GT_ATTR_ZERO_DEFAULT = 1u << 3, /* in the typed C functions, 0 (INTS: n = 0) means the
                                       default: zero is never a valid value of it */
    GT_ATTR_REQUIRED = 1u << 4      /* has no default: a caller must give it */
};

typedef struct gt_attr_def {
    const char *name;    /* PyTorch's keyword: "stride" */
    gt_attr_type type;
    size_t offset;       /* of its value in the op's args struct */
    double dflt;         /* INT, FLOAT, BOOL (0 or 1), ENUM (index into choices) */
    gt_ints dflt_ints;   /* INTS */
    unsigned flags;      /* gt_attr_flags */
    double min, max;     /* with GT_ATTR_HAS_MIN / GT_ATTR_HAS_MAX */
    int max_len;         /* INTS: at most this many values (0: GT_MAX_DIMS) */
    const char *choices; /* ENUM: "none|tanh"; INTS: strings it also takes in place of the
                            list ("valid|same"), stored as 1 + their index in the int at
                            choice_offset (0 when a list was given) */
    size_t choice_offset;
    const char *alias;   /* an older keyword accepted for it ("axis" for "dim"), or NULL */
    int after_input;     /* its place among positional arguments: 0, after every tensor
                            input (the usual); k, right after the first k inputs, as
                            layer_norm(input, normalized_shape, weight, bias) with 1 */
} gt_attr_def;

/* The values gradient checks draw an input from. */
typedef enum gt_domain {
    GT_DOMAIN_NORMAL,   /* N(0, 1) */
    GT_DOMAIN_POSITIVE, /* uniform in [0.5, 2]: log, denominators */
    GT_DOMAIN_SPREAD,   /* distinct values, gaps of 0.05, none near 0: away from kinks and
                           ties (relu, max-pool) */
    GT_DOMAIN_CLASSES,  /* class indices 0..C-1, C = input 0's size at dim 1 (dim 0 if 1-D) */
    GT_DOMAIN_PROBS,    /* rows (last dim) of probabilities */
    GT_DOMAIN_MASK,     /* 0 and 1 in turn, shuffled: masks, conditions */
    GT_DOMAIN_INDEX     /* an index tensor: whole numbers 0..n-1, n = the size of input
                           `bound_input` at the dim the op's attribute `dim` names (dim 0
                           when the op has none): gt_op_index_bound */
} gt_domain;

typedef struct gt_input_def {
    const char *name;  /* PyTorch's keyword: "input", "weight", "bias", "target" */
    gt_domain domain;  /* what the checks sample it from */
    bool optional;     /* may be NULL (then every later input is optional too) */
    bool no_grad;      /* never receives a gradient (class-index targets) */
    const char *alias; /* an older keyword accepted for it ("b" for "bias"), or NULL */
    int bound_input;   /* GT_DOMAIN_INDEX: the input whose size bounds the values */
    bool variadic;     /* the last input only: takes one or more tensors (cat's `tensors`);
                          gt_op_call's n_in counts each one, the REPL gives it every
                          positional tensor */
} gt_input_def;

#define GT_OP_MAX_INPUTS 5 /* batch_norm: input, running_mean, running_var, weight, bias */
#define GT_OP_MAX_ATTRS 16
/* Bytes of the largest args struct: a buffer for callers that fill one generically. */
#define GT_OP_ARGS_MAX 512

typedef struct gt_op_def gt_op_def;
/* Computes the op's output from its inputs and its args struct, and records its node. */
typedef gt_tensor *(*gt_op_forward_fn)(const gt_op_def *op, gt_tape *tape,
                                       gt_tensor *const *in, int n_in, const void *args);

struct gt_op_def {
    const char *name;      /* PyTorch's name: "conv2d" */
    const char *doc;       /* one line: what it computes */
    const char *shapes;    /* its shape rule: "input[N,C,H,W], weight[O,C,KH,KW] -> [N,O,OH,OW]" */
    gt_input_def inputs[GT_OP_MAX_INPUTS]; /* in positional order; name NULL ends them */
    const gt_attr_def *attrs;              /* after the inputs, in positional order */
    int n_attrs;
    size_t args_size;                      /* sizeof its args struct (0 without attributes) */
    gt_op_forward_fn forward;
    gt_backward_fn backward;  /* NULL: the op has no gradient (comparisons, argmax); its
                                 output never requires one, whatever its inputs */
    /* The backward written with ops, for gt_grad with create_graph (gradients of
     * gradients); NULL when the op has none yet (gt_grad then says so). */
    gt_grad_graph_fn grad_graph;
    /* The gradient-check and oracle cases, NULL-terminated, each "INPUTS[; ATTRIBUTES]":
     * inputs as shapes "2x3" ("()" 0-d, "_" an absent optional input), each may end with
     * ":DOMAIN" (normal positive spread classes probs) to override the input's domain;
     * attributes as keyword=value as in the REPL: "2x3x7x6 4x3x3x3 4; stride=2, padding=1". */
    const char *const *cases;
    const char *alias;     /* an older name that still calls it ("maxpool2d"), or NULL */
    int variant;           /* which kernel, for ops of a family that share one forward and
                              backward (add, sub, mul, div) */
};

/* Every op, in a fixed order; *count gets their number. */
const gt_op_def *const *gt_op_list(int *count);
/* The op with this name or alias, or NULL. */
const gt_op_def *gt_op_find(const char *name);
/* The number of tensor inputs it takes at least and the number of its input defs (a
 * variadic last input counts once here: it takes any number from 1 up). */
int gt_op_min_inputs(const gt_op_def *op);
int gt_op_max_inputs(const gt_op_def *op);
/* True when the op's last input is variadic (cat, stack). */
bool gt_op_variadic(const gt_op_def *op);
/* The def of tensor input number `index` of a call (a variadic input's def for every index
 * from its own on), or NULL past the last. */
const gt_input_def *gt_op_input(const gt_op_def *op, int index);
/* For a GT_DOMAIN_INDEX input: the number of values an index may take, given the shape of
 * its def's bound_input and the op's args (the size at attribute `dim`, else at dim 0; 1
 * for a 0-d or an out-of-range dim). For the test suites' drawing of cases. */
int64_t gt_op_index_bound(const gt_op_def *op, int ndim, const int64_t *shape,
                          const void *args);
/* The index of the attribute called `name` (or its alias), or -1. */
int gt_op_attr_index(const gt_op_def *op, const char *name);

/* Fills args (op->args_size bytes) with every attribute's default. */
void gt_op_args_default(const gt_op_def *op, void *args);

/* A value for one attribute from a dynamic caller (the REPL, a model spec, a test case). */
typedef enum gt_value_kind { GT_VALUE_NONE, GT_VALUE_NUMBER, GT_VALUE_BOOL, GT_VALUE_STRING,
                             GT_VALUE_INTS } gt_value_kind;
typedef struct gt_attr_value {
    gt_value_kind kind;
    double number;      /* NUMBER; BOOL as 0 or 1 */
    const char *string; /* STRING */
    gt_ints ints;       /* INTS */
} gt_attr_value;

/* Stores value into attribute `index` of args, converting as the schema says (a number for
 * an INT must be whole, a string for an ENUM must be one of its choices, ...); the range is
 * checked by gt_op_call. GT_ERR_ARG naming the op and the attribute when it does not fit. */
gt_status gt_op_args_set(const gt_op_def *op, void *args, int index, const gt_attr_value *value);

/* Fills args from text "stride=2, padding=[1, 0], approximate=\"tanh\"" (defaults first):
 * for test cases and specs, never on a per-call path. */
gt_status gt_op_args_parse(const gt_op_def *op, const char *text, void *args);

/* Runs op on n_in inputs (NULL for absent optional ones at the end may be left out) with a
 * complete args struct (from gt_op_args_default + gt_op_args_set, or a typed struct), after
 * checking the number of inputs and every attribute's range. args may be NULL when the op
 * has no attributes. */
gt_tensor *gt_op_call(gt_tape *tape, const gt_op_def *op, gt_tensor *const *in, int n_in,
                      const void *args);

/* The op's positional arguments in order, into slots (room for GT_OP_MAX_INPUTS +
 * GT_OP_MAX_ATTRS): k >= 0 is input k, GT_OP_SLOT_ATTR(i) attribute i (see after_input).
 * Returns their number. */
int gt_op_positional_order(const gt_op_def *op, int *slots);
#define GT_OP_SLOT_ATTR(i) (-1 - (i)) /* and back: GT_OP_SLOT_ATTR(slot) is i */

/* Writes "conv2d(input, weight, bias=None, stride=1, padding=0)" into buf. */
const char *gt_op_signature(const gt_op_def *op, char *buf, size_t size);

/* The table's entries, for gt_op_call and introspection. */
extern const gt_op_def gt_op_matmul, gt_op_linear, gt_op_add, gt_op_sub, gt_op_mul,
    gt_op_div, gt_op_neg, gt_op_scale, gt_op_relu, gt_op_leaky_relu, gt_op_sigmoid,
    gt_op_tanh, gt_op_exp, gt_op_log, gt_op_softmax, gt_op_log_softmax, gt_op_sum,
    gt_op_mean, gt_op_reshape, gt_op_flatten, gt_op_transpose, gt_op_conv2d, gt_op_conv1d,
    gt_op_conv_transpose2d, gt_op_max_pool2d, gt_op_avg_pool2d, gt_op_cross_entropy, gt_op_mse_loss,
    gt_op_conv2d_weight;
/* ... elementwise math, comparisons, reductions and activations (ops/activation.c,
 * activation_nn.c, elementwise.c, compare.c, reduce.c) */
extern const gt_op_def gt_op_elu, gt_op_selu, gt_op_gelu, gt_op_silu, gt_op_softplus,
    gt_op_hardtanh, gt_op_hardsigmoid, gt_op_sqrt, gt_op_rsqrt, gt_op_abs, gt_op_erf,
    gt_op_pow, gt_op_maximum, gt_op_minimum, gt_op_eq, gt_op_ne, gt_op_lt, gt_op_le, gt_op_gt,
    gt_op_ge, gt_op_where, gt_op_masked_fill, gt_op_clamp, gt_op_amax, gt_op_amin,
    gt_op_logsumexp, gt_op_var, gt_op_std, gt_op_max, gt_op_argmax;

/* ---- gradients as tensors, gradients of gradients (ops/grad.c) ---------------------- */
/* They live here, not in autograd/, because summing the gradients that reach a tensor
 * twice is itself an op (add) that create_graph records. */

/* torch.autograd.grad: the gradients of outputs[0..n_out) with respect to
 * inputs[0..n_in) as new tensors on `tape` in grads[0..n_in), leaving every .grad as it
 * is. grad_outputs[i] is the upstream gradient of outputs[i] (its shape), or NULL (then
 * outputs[i] must have one element and its gradient is 1); grad_outputs may be NULL. With
 * create_graph the gradients are computed by recorded ops, so they can be differentiated
 * again (gt_backward or gt_grad on an expression of them: Hessian-vector products,
 * gradient penalties); without, nothing is recorded. An input that the outputs do not
 * depend on gets zeros. Fails (GT_ERR_UNSUPPORTED, naming it) when an op on the way has no
 * backward written with ops. Call it before gt_tape_reset, like gt_backward.
 *
 *     gt_tensor *g;                                       // dy/dx, itself differentiable
 *     gt_grad(tape, &y, 1, &x, 1, NULL, true, &g);
 *     gt_backward(tape, gt_sum(tape, gt_mul(tape, g, v), GT_ALL_AXES));  // x.grad += H v
 */
gt_status gt_grad(gt_tape *tape, gt_tensor *const *outputs, int n_out, gt_tensor *const *inputs,
                  int n_in, gt_tensor *const *grad_outputs, bool create_graph,
                  gt_tensor **grads);

/* Second derivatives, as PyTorch's gradgradcheck: for random fixed directions u_k of the
 * inputs' shapes it gradchecks h(inputs) = sum_k <d f / d inputs_k, u_k>, whose gradient
 * gt_backward computes through the recorded gradient graph of f (gt_grad with
 * create_graph): a Hessian-vector product against central differences of first
 * derivatives. Same options and result as gt_gradcheck; seed picks the directions. */
gt_status gt_gradgradcheck(gt_gradcheck_fn f, void *ctx, gt_tensor *const *inputs,
                           int n_inputs, const gt_gradcheck_opts *opts, uint64_t seed,
                           gt_gradcheck_result *result);
/* layers as functional ops (ops/norm.c, ...) */
extern const gt_op_def gt_op_batch_norm, gt_op_layer_norm, gt_op_group_norm, gt_op_dropout,
    gt_op_l1_loss, gt_op_smooth_l1_loss, gt_op_huber_loss, gt_op_binary_cross_entropy_with_logits,
    gt_op_nll_loss;
/* Shape and indexing. */
extern const gt_op_def gt_op_unsqueeze, gt_op_squeeze, gt_op_permute, gt_op_expand,
    gt_op_narrow, gt_op_pad, gt_op_cat, gt_op_stack, gt_op_index_select, gt_op_gather,
    gt_op_embedding, gt_op_index_add, gt_op_scatter_add;

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
/* torch.matmul: a[M,K] @ b[K,N] -> [M,N]; dims before the last two are batch dims and
 * broadcast (a[B,H,T,D] @ b[B,H,D,T] -> [B,H,T,T], a[B,1,M,K] @ b[H,K,N] -> [B,H,M,N]); a
 * 1-D a is a row and a 1-D b a column whose dim the result drops ([K] @ [K] -> [], [M,K] @
 * [K] -> [M], [K] @ [K,N] -> [N]). The backward sums over broadcast batch dims. */
gt_tensor *gt_matmul(gt_tape *tape, gt_tensor *a, gt_tensor *b);
/* x[..., IN] @ w[OUT,IN]^T + b[OUT] -> [..., OUT] (x[IN] -> [OUT]); b may be NULL (PyTorch's
 * F.linear). The leading dims of x are rows of one GEMM, without a copy. */
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
/* x where x > 0, else negative_slope * x (PyTorch's default slope: 0.01). */
gt_tensor *gt_leaky_relu(gt_tape *tape, gt_tensor *x, double negative_slope);
gt_tensor *gt_sigmoid(gt_tape *tape, gt_tensor *x);
gt_tensor *gt_tanh(gt_tape *tape, gt_tensor *x);
gt_tensor *gt_exp(gt_tape *tape, gt_tensor *x);
/* Natural log; inputs <= 0 give -inf/NaN as in C (anomaly mode reports them). */
gt_tensor *gt_log(gt_tape *tape, gt_tensor *x);
/* Over dim (negative counts from the end; -1 is PyTorch's usual choice), max-shifted:
 * finite for logits of any size. */
gt_tensor *gt_softmax(gt_tape *tape, gt_tensor *x, int dim);
gt_tensor *gt_log_softmax(gt_tape *tape, gt_tensor *x, int dim);
/* x where x > 0, else alpha * (exp(x) - 1) (PyTorch's default alpha: 1). */
gt_tensor *gt_elu(gt_tape *tape, gt_tensor *x, double alpha);
/* scale * elu(x, alpha) with PyTorch's fixed alpha 1.6732632423543772, scale 1.0507009873554805. */
gt_tensor *gt_selu(gt_tape *tape, gt_tensor *x);
/* gelu's `approximate`: the exact form x * Phi(x) ("none") or the tanh form ("tanh"). */
typedef enum gt_gelu_approximate { GT_GELU_NONE, GT_GELU_TANH } gt_gelu_approximate;
gt_tensor *gt_gelu(gt_tape *tape, gt_tensor *x, gt_gelu_approximate approximate);
/* x * sigmoid(x) */
gt_tensor *gt_silu(gt_tape *tape, gt_tensor *x);
/* log(1 + exp(beta x)) / beta, x itself where beta x > threshold (PyTorch: 1, 20). */
gt_tensor *gt_softplus(gt_tape *tape, gt_tensor *x, double beta, double threshold);
/* x clamped to [min_val, max_val] (PyTorch: -1, 1); max_val < min_val is an error. */
gt_tensor *gt_hardtanh(gt_tape *tape, gt_tensor *x, double min_val, double max_val);
/* 0 below -3, 1 above 3, x / 6 + 1/2 between. */
gt_tensor *gt_hardsigmoid(gt_tape *tape, gt_tensor *x);

/* ---- pointwise math ----------------------------------------------------------------- */
/* As in C: sqrt and rsqrt of a negative give NaN, of 0 give 0 and inf. */
gt_tensor *gt_sqrt(gt_tape *tape, gt_tensor *x);
gt_tensor *gt_rsqrt(gt_tape *tape, gt_tensor *x);
/* |x|; the gradient at 0 is 0, as in PyTorch. */
gt_tensor *gt_abs(gt_tape *tape, gt_tensor *x);
gt_tensor *gt_erf(gt_tape *tape, gt_tensor *x);
/* min(max(x, min), max); NAN for a bound leaves it out (PyTorch's None), not both. The
 * gradient passes where min <= x <= max. */
gt_tensor *gt_clamp(gt_tape *tape, gt_tensor *x, double min, double max);

/* ---- pow, maximum, minimum, comparisons, where, masked_fill (broadcasting) ----------- */
/* x ^ exponent; the exponent is a tensor (gt_pow) or a number (gt_pow_scalar: a 0-d tensor
 * on the tape, as the REPL makes of `pow(x, 2)`). */
gt_tensor *gt_pow(gt_tape *tape, gt_tensor *x, gt_tensor *exponent);
gt_tensor *gt_pow_scalar(gt_tape *tape, gt_tensor *x, double exponent);
/* The larger (smaller) of a and b; at a tie each gets half the gradient, as in PyTorch. */
gt_tensor *gt_maximum(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_minimum(gt_tape *tape, gt_tensor *a, gt_tensor *b);
/* Masks: 1 where a == b (!=, <, <=, >, >=), else 0. No gradient: the result never requires
 * one (an op whose entry has no backward). Compare with a number through a 0-d tensor. */
gt_tensor *gt_eq(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_ne(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_lt(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_le(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_gt(gt_tape *tape, gt_tensor *a, gt_tensor *b);
gt_tensor *gt_ge(gt_tape *tape, gt_tensor *a, gt_tensor *b);
/* x where condition is nonzero, else other, all three broadcast; condition takes no
 * gradient. */
gt_tensor *gt_where(gt_tape *tape, gt_tensor *condition, gt_tensor *x, gt_tensor *other);
/* value where mask (broadcast to x's shape) is nonzero, else x. */
gt_tensor *gt_masked_fill(gt_tape *tape, gt_tensor *x, gt_tensor *mask, double value);

/* ---- reductions --------------------------------------------------------------------- */
/* sum/mean over every element: the `dim` of gt_sum and gt_mean. */
#define GT_ALL_AXES (-1000)

/* The attributes of sum and mean, for gt_op_call: dim None (n = 0) reduces every dim;
 * keepdim keeps reduced dims as size 1. */
typedef struct gt_reduce_args {
    gt_ints dim;
    bool keepdim;
} gt_reduce_args;

/* Over one dim (negative counts from the end; the dim is removed) or GT_ALL_AXES (result
 * has shape [], one element). Several dims and keepdim: gt_op_call with gt_reduce_args,
 *     gt_op_call(tape, &gt_op_sum, &x, 1, &(gt_reduce_args){GT_INTS(0, 2), .keepdim = true});
 */
gt_tensor *gt_sum(gt_tape *tape, gt_tensor *x, int dim);
gt_tensor *gt_mean(gt_tape *tape, gt_tensor *x, int dim);
/* Over dim (a list; (gt_ints){0} = every element), keeping reduced dims as size 1 with
 * keepdim. amax and amin split the gradient evenly among ties, as PyTorch; reducing over a
 * dim of size 0 is an error. logsumexp is max-shifted. */
gt_tensor *gt_amax(gt_tape *tape, gt_tensor *x, gt_ints dim, bool keepdim);
gt_tensor *gt_amin(gt_tape *tape, gt_tensor *x, gt_ints dim, bool keepdim);
gt_tensor *gt_logsumexp(gt_tape *tape, gt_tensor *x, gt_ints dim, bool keepdim);
/* Sum of squared deviations / (count - correction) (PyTorch's default correction: 1), and
 * its square root. */
gt_tensor *gt_var(gt_tape *tape, gt_tensor *x, gt_ints dim, double correction, bool keepdim);
gt_tensor *gt_std(gt_tape *tape, gt_tensor *x, gt_ints dim, double correction, bool keepdim);
/* The maximum's values over one dim (the gradient to the first maximum, as torch.max with
 * dim) or GT_ALL_AXES (split among ties); argmax: the index of the first maximum along dim,
 * or in the flattened input for GT_ALL_AXES, as reals, with no gradient. */
gt_tensor *gt_max(gt_tape *tape, gt_tensor *x, int dim, bool keepdim);
gt_tensor *gt_argmax(gt_tape *tape, gt_tensor *x, int dim, bool keepdim);

/* ---- shape -------------------------------------------------------------------------- */
/* Same data, new shape (no copy); one size may be -1 (inferred). */
gt_tensor *gt_reshape(gt_tape *tape, gt_tensor *x, int ndim, const int64_t *shape);
/* Dimensions start_dim.. merged into one, as torch.flatten (no copy). */
gt_tensor *gt_flatten(gt_tape *tape, gt_tensor *x, int start_dim);
/* dims dim0 and dim1 swapped (a copy), as torch.transpose: x[M,N] with 0, 1 -> [N,M]. */
gt_tensor *gt_transpose(gt_tape *tape, gt_tensor *x, int dim0, int dim1);
/* A size-1 dim inserted at dim (a view), as torch.unsqueeze: x[A,B] with 1 -> [A,1,B]. */
gt_tensor *gt_unsqueeze(gt_tape *tape, gt_tensor *x, int dim);
/* Size-1 dims removed (a view), as torch.squeeze: every one when dim is (gt_ints){0},
 * else those among dim (dims of another size stay). */
gt_tensor *gt_squeeze(gt_tape *tape, gt_tensor *x, gt_ints dim);
/* Output dim d is x's dim dims.v[d] (a copy), as torch.permute: GT_INTS(0, 2, 1). */
gt_tensor *gt_permute(gt_tape *tape, gt_tensor *x, gt_ints dims);
/* Size-1 dims repeated to size, new dims leading (a copy; -1 keeps a size), as
 * Tensor.expand: x[3,1] with GT_INTS(2, -1, 4) -> [2,3,4]. The backward sums the repeats. */
gt_tensor *gt_expand(gt_tape *tape, gt_tensor *x, gt_ints size);
/* length entries of dim from start (a copy; start < 0 counts from the end), as
 * torch.narrow. */
gt_tensor *gt_narrow(gt_tape *tape, gt_tensor *x, int dim, int64_t start, int64_t length);
/* pad's modes, as F.pad's mode strings. */
typedef enum gt_pad_mode {
    GT_PAD_CONSTANT,
    GT_PAD_REFLECT,
    GT_PAD_REPLICATE,
    GT_PAD_CIRCULAR
} gt_pad_mode;
/* x padded as F.pad(x, pad, mode, value): pad lists (left, right) pairs from the last dim
 * back (GT_INTS(1, 1, 2, 0): last dim 1 and 1, the one before 2 and 0); negative entries
 * crop. x[A,B] with (l, r, t, b) -> [A+t+b, B+l+r]. GT_PAD_CONSTANT fills value (NAN: 0);
 * reflect, replicate and circular take no value (NAN or 0) and pad the last 1-3 dims of an
 * input with 1 or 2 dims more (circular: every dim after the first two), as torch 1.13. */
gt_tensor *gt_pad(gt_tape *tape, gt_tensor *x, gt_ints pad, gt_pad_mode mode, double value);
/* The n tensors joined along dim (every other size equal), as torch.cat:
 *     gt_tensor *parts[] = {a, b, c};  gt_tensor *y = gt_cat(tape, parts, 3, 1);
 * Any n >= 1 (gt_op_cat's input is variadic). */
gt_tensor *gt_cat(gt_tape *tape, gt_tensor *const *tensors, int n, int dim);
/* The n tensors, of one shape, joined along a new dim, as torch.stack. */
gt_tensor *gt_stack(gt_tape *tape, gt_tensor *const *tensors, int n, int dim);
/* x cut along dim into pieces of split_size (the last may be smaller), as torch.split with
 * an int (named gt_split_into: gt_split is the data loader's train/test enum);
 * each piece a gt_narrow of x, into out[0..]. Returns the number of pieces, or -1
 * (and an error) when they would be more than max_out or an argument is wrong. */
int gt_split_into(gt_tape *tape, gt_tensor *x, int64_t split_size, int dim, gt_tensor **out,
                  int max_out);
/* x cut along dim into at most `chunks` pieces of ceil(size / chunks), as torch.chunk;
 * returns their number (which may be fewer than chunks), or -1. */
int gt_chunk(gt_tape *tape, gt_tensor *x, int chunks, int dim, gt_tensor **out, int max_out);

/* Index tensors: an index is a whole number held in a gt_real tensor (as cross_entropy's
 * class indices), checked whole and in range at the call with an error naming the op, the
 * position and the value; an index tensor never takes a gradient. */
/* The entries of dim that index[n] (1-D or 0-d) lists, as torch.index_select:
 * x[A,B,C] with dim 1 -> [A,n,C]. */
gt_tensor *gt_index_select(gt_tape *tape, gt_tensor *x, int dim, gt_tensor *index);
/* out[i][j][k] = x[i][index[i][j][k]][k] (dim 1; likewise for any dim), as torch.gather:
 * index has x's rank, no size larger than x's outside dim; out has index's shape. */
gt_tensor *gt_gather(gt_tape *tape, gt_tensor *x, int dim, gt_tensor *index);
/* x with alpha * source's entries of dim added at the entries index[n] (1-D or 0-d) lists,
 * as torch.index_add (index_select's gradient): x[A,B,C], source[A,n,C] with dim 1 ->
 * [A,B,C]. */
gt_tensor *gt_index_add(gt_tape *tape, gt_tensor *x, int dim, gt_tensor *index,
                        gt_tensor *source, double alpha);
/* x with src[p] added at x[p with p_dim = index[p]] for every position p of index, as
 * torch.scatter_add (gather's gradient): index has x's and src's rank, no size larger than
 * src's, nor than x's outside dim; out has x's shape. */
gt_tensor *gt_scatter_add(gt_tape *tape, gt_tensor *x, int dim, gt_tensor *index,
                          gt_tensor *src);
/* The rows of weight[V,E] that input[...] lists -> [..., E], as F.embedding(input,
 * weight) (PyTorch's order: the indices first). */
gt_tensor *gt_embedding(gt_tape *tape, gt_tensor *input, gt_tensor *weight);

/* ---- convolution and pooling --------------------------------------------------------- */
/* x[N,C,H,W] * w[O,C,KH,KW] (+ b[O]) -> y[N,O,(H+2p-KH)/s+1,(W+2p-KW)/s+1]; b may be NULL.
 * Dilation, groups, per-axis values, "same": gt_conv2d_ex. */
gt_tensor *gt_conv2d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b, int stride,
                     int padding);
/* The arguments of conv1d, conv2d and conv_transpose2d beyond their tensors, PyTorch's
 * (each list an int or one value per spatial axis). Zero-initialised fields mean PyTorch's
 * defaults: stride 1, padding 0, dilation 1, groups 1, output_padding 0. */
typedef struct gt_conv_args {
    gt_ints stride;
    gt_ints padding;
    int padding_mode;       /* GT_CONV_PADDING_LIST (0): `padding`; or "valid", "same" */
    gt_ints dilation;
    int64_t groups;         /* in and out channels in this many groups */
    gt_ints output_padding; /* conv_transpose2d: added to one side of the output */
    int64_t extra[2];       /* padding added after the end of each axis (H, W) beyond
                               `padding`: internal, for the gradients of "same"; keep 0 */
} gt_conv_args;
enum { GT_CONV_PADDING_LIST, GT_CONV_PADDING_VALID, GT_CONV_PADDING_SAME };
/* F.conv2d(x, w, b, stride, padding, dilation, groups): x[N,C,H,W] or [C,H,W],
 * w[O,C/groups,KH,KW] (+ b[O]) -> [N,O,OH,OW]; args NULL: the defaults. */
gt_tensor *gt_conv2d_ex(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b,
                        const gt_conv_args *args);
/* torch.nn.grad.conv2d_weight: the gradient of conv2d(input, weight, args) with respect to
 * its weight [O,C/groups,KH,KW] = weight_size, given grad_output [N,O,OH,OW]; args NULL:
 * the defaults (output_padding unused). Differentiable in input and grad_output. */
gt_tensor *gt_conv2d_weight(gt_tape *tape, gt_tensor *input, const int64_t weight_size[4],
                            gt_tensor *grad_output, const gt_conv_args *args);
/* F.conv1d: x[N,C,L] or [C,L], w[O,C/groups,K] (+ b[O]) -> [N,O,OL]; args NULL: defaults. */
gt_tensor *gt_conv1d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b,
                     const gt_conv_args *args);
/* F.conv_transpose2d: x[N,C_in,H,W] or [C_in,H,W], w[C_in,C_out/groups,KH,KW] (+ b[C_out])
 * -> [N,C_out,(H-1)*stride-2*padding+dilation*(KH-1)+output_padding+1, likewise W]: the
 * gradient of conv2d with respect to its input; args NULL: the defaults. */
gt_tensor *gt_conv_transpose2d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b,
                               const gt_conv_args *args);
/* x[N,C,H,W] -> [N,C,(H-k)/s+1,(W-k)/s+1]; stride 0 means stride = kernel. */
gt_tensor *gt_maxpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride);
gt_tensor *gt_avgpool2d(gt_tape *tape, gt_tensor *x, int kernel, int stride);
/* padding, dilation, ceil_mode, count_include_pad, divisor_override, the 1-D pools and
 * the adaptive ones: gt_op_call on these entries, the args filled by gt_op_args_default and
 * gt_op_args_set (or gt_op_args_parse: "kernel_size=3, stride=2, padding=1"). */
extern const gt_op_def gt_op_max_pool1d, gt_op_avg_pool1d, gt_op_adaptive_avg_pool2d,
    gt_op_adaptive_max_pool2d;

/* ---- losses (batch mean, shape []) ---------------------------------------------------- */
/* F.cross_entropy(logits, target) with its defaults (the batch mean): logits[N,K]; target
 * [N] class indices in 0..K-1, or [N,K] probabilities; also [K] and [N,K,d...] as torch.
 * Fused log-sum-exp; probabilities take a gradient (as in torch), class indices none.
 * weight, ignore_index, reduction and label_smoothing: gt_op_call with
 * &gt_op_cross_entropy and its attributes. */
gt_tensor *gt_cross_entropy(gt_tape *tape, gt_tensor *logits, gt_tensor *target);
/* mean((a - b)^2) over all elements; a and b of one shape. Other reductions: gt_op_call
 * with &gt_op_mse_loss and the reduction attribute. */
gt_tensor *gt_mse_loss(gt_tape *tape, gt_tensor *a, gt_tensor *b);

/* PyTorch's reduction of a loss: each element's (the input's shape), their mean, their sum. */
typedef enum gt_reduction { GT_REDUCTION_NONE, GT_REDUCTION_MEAN, GT_REDUCTION_SUM } gt_reduction;
/* F.nll_loss: -weight[t] input[n, t] (t = target[n], input holding log-probabilities
 * [N,C], [C] or [N,C,d...]; target [N], [] or [N,d...]); targets equal to ignore_index
 * (PyTorch's -100) count 0 and leave the mean, which divides by the sum of the kept
 * targets' weights (nan when none is kept). weight[C] may be NULL (all 1). */
gt_tensor *gt_nll_loss(gt_tape *tape, gt_tensor *input, gt_tensor *target, gt_tensor *weight,
                       int64_t ignore_index, gt_reduction reduction);
/* |input - target|, reduced; input and target of one shape (as the three below). */
gt_tensor *gt_l1_loss(gt_tape *tape, gt_tensor *input, gt_tensor *target,
                      gt_reduction reduction);
/* 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; d = input - target (PyTorch's beta
 * 1; 0 gives l1). */
gt_tensor *gt_smooth_l1_loss(gt_tape *tape, gt_tensor *input, gt_tensor *target,
                             gt_reduction reduction, double beta);
/* 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (PyTorch's delta 1). */
gt_tensor *gt_huber_loss(gt_tape *tape, gt_tensor *input, gt_tensor *target,
                         gt_reduction reduction, double delta);
/* weight (pos_weight target softplus(-input) + (1 - target) softplus(input)), reduced: the
 * binary cross-entropy of sigmoid(input), computed stably; weight and pos_weight (NULL: 1)
 * broadcast to input's shape. Gradients flow into input and target (not the weights, as in
 * PyTorch). */
gt_tensor *gt_binary_cross_entropy_with_logits(gt_tape *tape, gt_tensor *input, gt_tensor *target,
                                               gt_tensor *weight, gt_reduction reduction,
                                               gt_tensor *pos_weight);

/* ---- dropout (ops/dropout.c) ---------------------------------------------------------- */
/* Inverted dropout, as F.dropout: when training, each element of input is zeroed with
 * probability p (0 <= p <= 1) and the others scaled by 1/(1-p) (p = 1 gives zeros); when not
 * training, input unchanged. The masks come from the calling thread's dropout generator,
 * which starts at seed 0 and which gt_manual_seed restarts (as torch.manual_seed): the same
 * seed gives the same masks on every machine and thread count. */
gt_tensor *gt_dropout(gt_tape *tape, gt_tensor *input, double p, bool training);
void gt_manual_seed(uint64_t seed);

/* ---- normalisation (ops/norm.c) ------------------------------------------------------ */
/* input[N,C,*] normalised per channel (dim 1), then * weight[C] + bias[C] (each may be
 * NULL), as F.batch_norm. training: by the batch's mean and biased variance, and, when
 * running_mean[C] and running_var[C] are given, these move in place toward the batch's mean
 * and unbiased variance by momentum (PyTorch's default 0.1); not training: by the running
 * statistics (both required). eps (1e-5) is added to the variance. No gradient flows into
 * the running statistics. */
gt_tensor *gt_batch_norm(gt_tape *tape, gt_tensor *input, gt_tensor *running_mean,
                         gt_tensor *running_var, gt_tensor *weight, gt_tensor *bias,
                         bool training, double momentum, double eps);
/* input[*, D...] normalised over its last dims D... = normalized_shape (each row by its own
 * mean and biased variance), then * weight[D...] + bias[D...] (each may be NULL), as
 * F.layer_norm: gt_layer_norm(tape, x, GT_INTS(64), w, b, 1e-5). */
gt_tensor *gt_layer_norm(gt_tape *tape, gt_tensor *input, gt_ints normalized_shape,
                         gt_tensor *weight, gt_tensor *bias, double eps);
/* input[N,C,*] normalised over each group of C/num_groups channels of each sample, then *
 * weight[C] + bias[C] per channel (each may be NULL), as F.group_norm. */
gt_tensor *gt_group_norm(gt_tape *tape, gt_tensor *input, int64_t num_groups, gt_tensor *weight,
                         gt_tensor *bias, double eps);

#ifdef __cplusplus
}
#endif

#endif
