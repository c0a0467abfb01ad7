/* loss.c - nll_loss and cross-entropy (fused log-softmax; class indices or probabilities,
 * weights, ignore_index, label smoothing), binary_cross_entropy_with_logits and the pointwise
 * losses mse, l1, smooth_l1 and huber, each with PyTorch's reduction. */
#include "gt_ops_impl.h"
#include "gt_vmath.h"

#include <math.h>
#include <string.h>
#include <stddef.h>

/* ---- pointwise losses: mse, l1, smooth_l1, huber ----------------------------------------- */

enum { POINT_MSE, POINT_L1, POINT_SMOOTH_L1, POINT_HUBER }; /* the variants */

/* The arguments of mse_loss, l1_loss, smooth_l1_loss (beta) and huber_loss (delta). */
typedef struct point_loss_args {
    int reduction; /* gt_reduction */
    double param;  /* beta or delta */
} point_loss_args;

/* The loss of one difference d = input - target; its derivative in d is k1 d + k0, with k1
 * and k0 constant on each piece (so a gradient graph is linear in d with constant
 * coefficients, exact away from the kinks). */
static inline double point_loss(int kind, double d, double param, double *k1, double *k0) {
    double a = fabs(d), sign = (double)((d > 0) - (d < 0));
    *k1 = *k0 = 0;
    switch (kind) {
    case POINT_MSE:
        *k1 = 2;
        return d * d;
    case POINT_L1:
        *k0 = sign;
        return a;
    case POINT_SMOOTH_L1: /* 0.5 d^2 / beta below beta, else |d| - 0.5 beta */
        if (a < param) {
            *k1 = 1 / param;
            return 0.5 * d * d / param;
        }
        *k0 = sign;
        return a - 0.5 * param;
    default: /* huber: 0.5 d^2 below delta, else delta (|d| - 0.5 delta) */
        if (a < param) {
            *k1 = 1;
            return 0.5 * d * d;
        }
        *k0 = param * sign;
        return param * (a - 0.5 * param);
    }
}

// input[...], target[...] (same shape) -> loss[...] (reduction "none"), or its mean or sum []
static gt_tensor *point_loss_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                     int n_in, const void *args_ptr) {
    (void)n_in;
    const point_loss_args *args = args_ptr;
    gt_tensor *a = in[0], *b = in[1];
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK)
        return NULL;
    if (!gt_shape_equal(a->ndim, a->shape, b->ndim, b->shape))
        return gt__shape_error2(op->name, "shapes differ", a, b);
    if (op->variant == POINT_HUBER && !(args->param > 0)) {
        gt_set_error(GT_ERR_ARG, "%s: delta must be > 0, got %g", op->name, args->param);
        return NULL;
    }
    if (a->numel == 0 && args->reduction == GT_REDUCTION_MEAN) {
        gt_set_error(GT_ERR_SHAPE, "%s: inputs are empty: %s (the mean of nothing)", op->name,
                     gt__shape_of(a));
        return NULL;
    }
    bool each = args->reduction == GT_REDUCTION_NONE;
    gt_tensor *out = gt__op_output(tape, op, each ? a->ndim : 0, a->shape);
    if (!out)
        return NULL;
    double total = 0, k1, k0;
    for (int64_t i = 0; i < a->numel; i++) {
        double loss = point_loss(op->variant, (double)a->data[i] - (double)b->data[i],
                                 args->param, &k1, &k0);
        if (each)
            out->data[i] = (gt_real)loss;
        total += loss;
    }
    if (!each)
        out->data[0] = (gt_real)(args->reduction == GT_REDUCTION_MEAN ? total / (double)a->numel
                                                                      : total);
    return gt__op_finish(tape, op, out, in, 2, args, NULL);
}

// g[] or g[...] -> grad_input += g * loss'(input - target) (/ numel for the mean);
// grad_target -= the same
static gt_status point_loss_backward(gt_node *node) {
    const point_loss_args *args = node->attrs;
    gt_tensor *a = node->in[0], *b = node->in[1];
    const gt_real *g = node->out->grad;
    bool each = args->reduction == GT_REDUCTION_NONE;
    double scale = args->reduction == GT_REDUCTION_MEAN ? 1 / (double)a->numel : 1, k1, k0;
    for (int64_t i = 0; i < a->numel; i++) {
        double diff = (double)a->data[i] - (double)b->data[i];
        point_loss(gt__node_variant(node), diff, args->param, &k1, &k0);
        gt_real d = (gt_real)((k1 * diff + k0) * scale) * g[each ? i : 0];
        if (a->grad)
            a->grad[i] += d;
        if (b->grad)
            b->grad[i] -= d;
    }
    return GT_OK;
}

// grad_a = g (k1 (a - b) + k0) (/ numel for the mean; g broadcasts for "none"), k1 and k0
// constants of each element's piece (point_loss); grad_b = -grad_a
static gt_status point_loss_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                       gt_tensor **grad_in) {
    gt_tensor *a = node->in[0], *b = node->in[1];
    const point_loss_args *args = node->attrs;
    gt_tensor *k1 = gt__const_like(tape, a, 0), *k0 = k1 ? gt__const_like(tape, a, 0) : NULL;
    if (!k0)
        return gt_last_status();
    for (int64_t i = 0; i < a->numel; i++) {
        double c1, c0;
        point_loss(gt__node_variant(node), (double)a->data[i] - (double)b->data[i], args->param,
                   &c1, &c0);
        k1->data[i] = (gt_real)c1;
        k0->data[i] = (gt_real)c0;
    }
    gt_tensor *slope = gt_add(tape, gt_mul(tape, gt_sub(tape, a, b), k1), k0);
    gt_tensor *ga = gt_scale(tape, gt_mul(tape, slope, g),
                             args->reduction == GT_REDUCTION_MEAN ? 1.0 / (double)a->numel : 1.0);
    if (!ga)
        return gt_last_status();
    grad_in[0] = gt__needs_grad(node, 0) ? ga : NULL;
    if (gt__needs_grad(node, 1) && !(grad_in[1] = gt_neg(tape, ga)))
        return gt_last_status();
    return GT_OK;
}

/* ---- binary_cross_entropy_with_logits --------------------------------------------------- */

/* The arguments of binary_cross_entropy_with_logits. */
typedef struct bce_args {
    int reduction; /* gt_reduction */
} bce_args;

/* Strides that read t (broadcast to x's shape, NumPy's rules) at x's multi-index: 0 along
 * broadcast dims. False when t does not broadcast to x. */
static bool broadcast_strides(const gt_tensor *t, const gt_tensor *x, int64_t *strides) {
    int64_t stride = 1;
    if (t->ndim > x->ndim)
        return false;
    for (int d = x->ndim - 1; d >= 0; d--) {
        int td = d - (x->ndim - t->ndim);
        int64_t size = td >= 0 ? t->shape[td] : 1;
        if (size != 1 && size != x->shape[d])
            return false;
        strides[d] = size == 1 ? 0 : stride;
        stride *= size;
    }
    return true;
}

/* The offset in a broadcast tensor (strides from broadcast_strides) of x's element i. */
static int64_t broadcast_offset(const gt_tensor *x, const int64_t *strides, int64_t i) {
    int64_t at = 0;
    for (int d = x->ndim - 1; d >= 0; d--) {
        at += (i % x->shape[d]) * strides[d];
        i /= x->shape[d];
    }
    return at;
}

/* log(1 + exp(v)), without overflow */
static double softplus(double v) {
    return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v));
}

/* What the backward needs: where weight and pos_weight are read for each element. */
typedef struct bce_saved {
    gt_tensor *weight, *pos_weight;
    int64_t w_strides[GT_MAX_DIMS], pw_strides[GT_MAX_DIMS];
} bce_saved;

/* One element: x the logit, t the target, w the weight, pw the positive weight:
 * loss = w (pw t softplus(-x) + (1 - t) softplus(x)) */
static double bce_element(double x, double t, double w, double pw) {
    return w * (pw * t * softplus(-x) + (1 - t) * softplus(x));
}

// input[...], target[...], weight[broadcast], pos_weight[broadcast] -> [] or [...] (none)
static gt_tensor *bce_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in, int n_in,
                              const void *args_ptr) {
    const bce_args *args = args_ptr;
    gt_tensor *all[4] = {0};
    for (int i = 0; i < n_in; i++)
        all[i] = in[i];
    gt_tensor *x = all[0], *t = all[1], *w = all[2], *pw = all[3];
    if (gt__check_inputs(op->name, tape, all, 4, 2) != GT_OK)
        return NULL;
    if (!gt_shape_equal(x->ndim, x->shape, t->ndim, t->shape))
        return gt__shape_error2(op->name, "input and target shapes differ", x, t);
    bce_saved saved_now = {w, pw, {0}, {0}};
    if (w && !broadcast_strides(w, x, saved_now.w_strides))
        return gt__shape_error2(op->name, "weight does not broadcast to input", w, x);
    if (pw && !broadcast_strides(pw, x, saved_now.pw_strides))
        return gt__shape_error2(op->name, "pos_weight does not broadcast to input", pw, x);
    if (x->numel == 0 && args->reduction == GT_REDUCTION_MEAN) {
        gt_set_error(GT_ERR_SHAPE, "%s: inputs are empty: %s (the mean of nothing)", op->name,
                     gt__shape_of(x));
        return NULL;
    }
    bool each = args->reduction == GT_REDUCTION_NONE;
    gt_tensor *out = gt__op_output(tape, op, each ? x->ndim : 0, x->shape);
    gt_tensor *grad_in[2] = {x, t}; /* weight and pos_weight take no gradient */
    int n_grad = 2;
    bce_saved *saved = NULL;
    if (!out || (gt__tape_will_record(tape, grad_in, n_grad) &&
                 !(saved = gt__tape_alloc(tape, sizeof *saved, op->name))))
        return NULL;
    double total = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        double wi = w ? (double)w->data[broadcast_offset(x, saved_now.w_strides, i)] : 1;
        double pwi = pw ? (double)pw->data[broadcast_offset(x, saved_now.pw_strides, i)] : 1;
        double loss = bce_element((double)x->data[i], (double)t->data[i], wi, pwi);
        if (each)
            out->data[i] = (gt_real)loss;
        total += loss;
    }
    if (!each)
        out->data[0] = (gt_real)(args->reduction == GT_REDUCTION_MEAN ? total / (double)x->numel
                                                                      : total);
    gt_node *node;
    out = gt__op_finish(tape, op, out, grad_in, n_grad, args, &node);
    if (node) {
        *saved = saved_now;
        node->saved = saved;
    }
    return out;
}

// g -> d/dx = w (-pw t sigmoid(-x) + (1 - t) sigmoid(x)), d/dt = w (pw softplus(-x) -
// softplus(x)), each times g (/ numel for the mean); weight and pos_weight take no
// gradient, as in PyTorch
static gt_status bce_backward(gt_node *node) {
    const bce_args *args = node->attrs;
    const bce_saved *s = node->saved;
    gt_tensor *x = node->in[0], *t = node->in[1], *w = s->weight, *pw = s->pos_weight;
    const gt_real *g = node->out->grad;
    bool each = args->reduction == GT_REDUCTION_NONE;
    double scale = args->reduction == GT_REDUCTION_MEAN ? 1 / (double)x->numel : 1;
    for (int64_t i = 0; i < x->numel; i++) {
        int64_t wi_at = w ? broadcast_offset(x, s->w_strides, i) : 0;
        int64_t pw_at = pw ? broadcast_offset(x, s->pw_strides, i) : 0;
        double xv = (double)x->data[i], tv = (double)t->data[i];
        double wi = w ? (double)w->data[wi_at] : 1, pwi = pw ? (double)pw->data[pw_at] : 1;
        double gi = (double)g[each ? i : 0] * scale;
        double sp_neg = softplus(-xv), sp_pos = softplus(xv), sig = 1 / (1 + exp(-xv));
        if (x->grad)
            x->grad[i] += (gt_real)(gi * wi * (-pwi * tv * (1 - sig) + (1 - tv) * sig));
        if (t->grad)
            t->grad[i] += (gt_real)(gi * wi * (pwi * sp_neg - sp_pos));
    }
    return GT_OK;
}

// grad_x = g w (sigmoid(x) (1 + (pw - 1) t) - pw t), grad_t = g w ((pw - 1) softplus(x) -
// pw x) (/ numel for the mean), softplus(x) as -log(sigmoid(-x)) (exact until sigmoid(-x)
// underflows, x > 700 in double, 87 in float); without pos_weight: sigmoid(x) - t and -x
static gt_status bce_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g, gt_tensor **grad_in) {
    const bce_args *args = node->attrs;
    const bce_saved *s = node->saved;
    gt_tensor *x = node->in[0], *t = node->in[1], *w = s->weight, *pw = s->pos_weight;
    gt_tensor *gs = gt_scale(tape, g, args->reduction == GT_REDUCTION_MEAN
                                          ? 1 / (double)x->numel : 1);
    gt_tensor *pw1 = pw && gs ? gt__const_like(tape, pw, 0) : NULL; /* pos_weight - 1 */
    gt_tensor *one = pw1 ? gt__const_like(tape, x, 1) : NULL;
    if (!gs || (pw && !one)) /* before other ops succeed, so the cause stays */
        return gt_last_status();
    for (int64_t i = 0; pw1 && i < pw->numel; i++)
        pw1->data[i] = pw->data[i] - 1;
    if (gt__needs_grad(node, 0)) {
        gt_tensor *sig = gt_sigmoid(tape, x), *pw_t = sig && pw ? gt_mul(tape, pw, t) : NULL;
        if (!sig || (pw && !pw_t)) /* each operand checked before the next op succeeds */
            return gt_last_status();
        gt_tensor *grad_x;
        if (pw)
            grad_x = gt_sub(tape, gt_mul(tape, sig, gt_add(tape, gt_mul(tape, pw1, t), one)),
                            pw_t);
        else
            grad_x = gt_sub(tape, sig, t);
        grad_x = gt_mul(tape, w ? gt_mul(tape, grad_x, w) : grad_x, gs);
        if (!(grad_in[0] = grad_x))
            return gt_last_status();
    }
    if (gt__needs_grad(node, 1)) {
        gt_tensor *grad_t;
        if (pw) {
            gt_tensor *pw_x = gt_mul(tape, pw, x);
            if (!pw_x)
                return gt_last_status();
            gt_tensor *softplus_x = gt_neg(tape, gt_log(tape, gt_sigmoid(tape, gt_neg(tape, x))));
            grad_t = gt_sub(tape, gt_mul(tape, pw1, softplus_x), pw_x);
        } else {
            grad_t = gt_neg(tape, x);
        }
        grad_t = gt_mul(tape, w ? gt_mul(tape, grad_t, w) : grad_t, gs);
        if (!(grad_in[1] = grad_t))
            return gt_last_status();
    }
    return GT_OK;
}

static const gt_attr_def bce_attrs[] = {
    {"reduction", GT_ATTR_ENUM, offsetof(bce_args, reduction), .dflt = GT_REDUCTION_MEAN,
     .choices = "none|mean|sum", .after_input = 3},
};

const gt_op_def gt_op_binary_cross_entropy_with_logits = {
    .name = "binary_cross_entropy_with_logits",
    .doc = "weight (pos_weight target softplus(-input) + (1 - target) softplus(input)): "
           "-log of sigmoid's likelihood, computed stably, reduced by reduction",
    .shapes = "input[...], target[...], weight and pos_weight broadcast to input -> [] or [...]",
    .inputs = {{"input"}, {"target", GT_DOMAIN_PROBS}, {"weight", .optional = true, .no_grad = true},
               {"pos_weight", GT_DOMAIN_POSITIVE, .optional = true, .no_grad = true}},
    GT__ATTRS(bce_attrs),
    .args_size = sizeof(bce_args),
    .forward = bce_forward,
    .backward = bce_backward,
    .grad_graph = bce_grad_graph,
    GT__CASES("3x4 3x4", "5 5:normal; reduction=\"sum\"", "2x3 2x3 3", "2x3 2x3 2x1 3",
              "4x2 4x2 _ 2; reduction=\"none\"", "() ()",
              "2x3 2x3:normal _ 3", "3x4 3x4:normal 4 4; reduction=\"none\"",
              "1x1 1x1:normal 1x1 1; reduction=\"sum\"", "2x1x3 2x1x3 1x3 2x1x1",
              "2x3 3x2 => binary_cross_entropy_with_logits: input and target shapes differ: "
              "[2, 3] vs [3, 2]",
              "2x3 2x3 4 => binary_cross_entropy_with_logits: weight does not broadcast to "
              "input: [4] vs [2, 3]",
              "2x3 2x3 _ 2 => binary_cross_entropy_with_logits: pos_weight does not broadcast "
              "to input: [2] vs [2, 3]"),
};

/* ---- nll_loss and cross_entropy ------------------------------------------------------- */

/* The arguments of nll_loss and cross_entropy (label_smoothing: cross_entropy only). */
typedef struct class_loss_args {
    int64_t ignore_index;
    int reduction; /* gt_reduction */
    double label_smoothing;
} class_loss_args;

/* Both losses are sum_{n,c,s} -A[n,c,s] logp[n,c,s] over input[N,C,S] (S the product of the
 * dims after the class dim; [C] is N = S = 1), logp the input (nll_loss) or its log-softmax
 * over C (cross_entropy), and A, from target, weight, ignore_index and label_smoothing and
 * divided by the mean's denominator, is kept per position p = (n, s) as
 *     A[n,c,s] = alpha[p] [c = cls[p]] + beta[p] w[c] + factor[c] target[n,c,s]
 * class indices: alpha the target's weight (1 - e), beta e / C, no factor; probabilities
 * (which take a gradient, as in torch): no cls, beta e / C, factor w[c] (1 - e). */
typedef struct class_saved {
    int64_t *cls;         /* [N,S]: the target class, or -1 (ignored, or probabilities) */
    gt_real *alpha, *beta; /* [N,S] */
    gt_real *w;           /* [C]: the weights (1 without) */
    gt_real *factor;      /* [C] (probabilities), else NULL */
    gt_real *row;         /* sum_c A [N,S] (cross_entropy) */
    gt_real *lse;         /* logsumexp over C [N,S] (cross_entropy) */
    int64_t n, c, s;
} class_saved;

/* A at position pos, class q, without the factor's part. */
static inline double class_a0(const class_saved *sv, int64_t pos, int64_t q) {
    return (q == sv->cls[pos] ? (double)sv->alpha[pos] : 0) +
           (double)sv->beta[pos] * (double)sv->w[q];
}

/* The shape of input without its class dim (dim 1, or dim 0 of a 1-D input). */
static int class_free_shape(const gt_tensor *x, int64_t *shape) {
    int cdim = x->ndim >= 2, k = 0;
    for (int d = 0; d < x->ndim; d++)
        if (d != cdim)
            shape[k++] = x->shape[d];
    return k;
}

/* Checks input, target and weight as torch 1.13 does; *probs: target holds probabilities
 * (the shape of input) rather than class indices (input's shape without the class dim). */
static gt_status class_check(const gt_op_def *op, const gt_tensor *x, const gt_tensor *t,
                             const gt_tensor *w, const class_loss_args *a, bool *probs) {
    bool ce = op->variant == 1;
    int64_t shape[GT_MAX_DIMS];
    char want[160];
    if (x->ndim < 1)
        return gt_set_error(GT_ERR_SHAPE, "%s: input must be [C] or [N, C, ...], got %s",
                            op->name, gt__shape_of(x));
    int k = class_free_shape(x, shape);
    int64_t c = x->shape[x->ndim >= 2];
    gt_shape_str(k, shape, want, sizeof want);
    *probs = ce && gt_shape_equal(t->ndim, t->shape, x->ndim, x->shape);
    if (!*probs && !gt_shape_equal(t->ndim, t->shape, k, shape) && ce)
        return gt_set_error(GT_ERR_SHAPE, "%s: target must be %s (class indices) or %s "
                            "(probabilities) for input %s, got %s", op->name, want,
                            gt__shape_of(x), gt__shape_of(x), gt__shape_of(t));
    if (!*probs && !gt_shape_equal(t->ndim, t->shape, k, shape))
        return gt_set_error(GT_ERR_SHAPE, "%s: target must be %s (class indices) for input %s, "
                            "got %s", op->name, want, gt__shape_of(x), gt__shape_of(t));
    if (w && (w->ndim != 1 || w->shape[0] != c))
        return gt_set_error(GT_ERR_SHAPE, "%s: weight must be [%lld], one per class of input "
                            "%s, got %s", op->name, (long long)c, gt__shape_of(x),
                            gt__shape_of(w));
    if (*probs && a->ignore_index >= 0)
        return gt_set_error(GT_ERR_ARG, "%s: ignore_index is not supported for probability "
                            "targets, got %lld", op->name, (long long)a->ignore_index);
    for (int64_t i = 0; !*probs && i < t->numel; i++) {
        gt_real v = t->data[i];
        if (v == (gt_real)a->ignore_index)
            continue;
        if (!(v >= 0 && v < (gt_real)c && v == floor(v)))
            return gt_set_error(GT_ERR_ARG, "%s: target[%lld] = %g is not a class index in "
                                "0..%lld (nor ignore_index %lld)", op->name, (long long)i,
                                (double)v, (long long)(c - 1), (long long)a->ignore_index);
    }
    return GT_OK;
}

/* alpha, beta, cls and factor (unscaled) for target t (class indices, or probabilities:
 * probs), and the mean's denominator: the weights of the targets not ignored (indices), or
 * N S (probabilities). e = label_smoothing where > 0, else 0 (torch 1.13). */
static double class_coef(const gt_tensor *t, const class_loss_args *a, bool probs, bool smooth,
                         const class_saved *sv) {
    double e = smooth && a->label_smoothing > 0 ? a->label_smoothing : 0, denom = 0;
    for (int64_t q = 0; probs && q < sv->c; q++)
        sv->factor[q] = (gt_real)((double)sv->w[q] * (1 - e));
    for (int64_t p = 0; p < sv->n * sv->s; p++) {
        gt_real v = probs ? -1 : t->data[p];
        bool kept = probs || v != (gt_real)a->ignore_index;
        sv->cls[p] = probs || !kept ? -1 : (int64_t)v;
        sv->alpha[p] = (gt_real)(sv->cls[p] >= 0 ? (1 - e) * (double)sv->w[sv->cls[p]] : 0);
        sv->beta[p] = (gt_real)(kept ? e / (double)sv->c : 0);
        denom += probs ? 1 : sv->cls[p] >= 0 ? (double)sv->w[sv->cls[p]] : 0;
    }
    return denom;
}

/* From this many contiguous classes on, a position's log-softmax and gradient take the
 * vectorised rows; fewer: the log-sum-exps of GT__LANES positions at once, one a lane
 * (libm's exp, one position at a time, took 3/4 of [256, 10]'s forward), and libm's exp in
 * the gradient (measured faster on 10 classes than a row of them vectorised) */
#define CE_VECTOR_MIN 16

/* Positions of a class loss, for threads: each position's entries and outputs are its own. */
typedef struct class_job {
    const class_saved *sv;
    const gt_tensor *x, *t;
    bool probs, ce;
    double scale;   /* the mean's 1 / denominator, or 1 */
    double *losses; /* [N,S]: each position's loss (forward) */
} class_job;

// positions [from, to) of input[N,C,S]: losses[p] = -sum_c A logp, and (cross_entropy) the
// log-sum-exp and sum_c A of each
static void class_forward_range(void *ctx, int64_t from, int64_t to) {
    const class_job *j = ctx;
    const class_saved *sv = j->sv;
    int64_t c = sv->c, s = sv->s;
    double short_lse[GT__LANES]; /* short rows: the log-sum-exps of GT__LANES positions */
    for (int64_t pos = from; pos < to; pos++) { /* one position: its C entries at stride s */
        int64_t base = pos / s * c * s + pos % s;
        const gt_real *xv = j->x->data + base;
        double lse = 0, loss = 0, wsum = 0, beta = (double)sv->beta[pos];
        if (j->ce && s == 1 && c >= CE_VECTOR_MIN) { /* log-softmax, contiguous classes */
            lse = gt__row_logsumexp(xv, c);
            sv->lse[pos] = (gt_real)lse;
        } else if (j->ce && s == 1 && c) { /* short contiguous rows, GT__LANES at a time */
            if ((pos - from) % GT__LANES == 0)
                gt__short_rows_logsumexp(xv, c, (int)(to - pos < GT__LANES ? to - pos : GT__LANES),
                                         short_lse);
            lse = short_lse[(pos - from) % GT__LANES];
            sv->lse[pos] = (gt_real)lse;
        } else if (j->ce) { /* log-softmax over the class dim, its entries s apart */
            gt_real max = c ? xv[0] : 0;
            for (int64_t q = 1; q < c; q++)
                max = xv[q * s] > max ? xv[q * s] : max;
            double sum = 0;
            for (int64_t q = 0; q < c; q++)
                sum += exp((double)(xv[q * s] - max));
            lse = (double)max + log(sum);
            sv->lse[pos] = (gt_real)lse;
        }
        if (sv->cls[pos] >= 0)
            loss -= (double)sv->alpha[pos] * ((double)xv[sv->cls[pos] * s] - lse);
        for (int64_t q = 0; beta != 0 && q < c; q++) {
            loss -= beta * (double)sv->w[q] * ((double)xv[q * s] - lse);
            wsum += (double)sv->w[q];
        }
        double tsum = 0; /* sum_c factor t */
        for (int64_t q = 0; j->probs && q < c; q++) {
            double ft = (double)sv->factor[q] * (double)j->t->data[base + q * s];
            loss -= ft * ((double)xv[q * s] - lse);
            tsum += ft;
        }
        if (j->ce)
            sv->row[pos] = (gt_real)(((double)sv->alpha[pos] + beta * wsum + tsum) * j->scale);
        j->losses[pos] = loss;
    }
}

// input[N,C,d...] or [C], target[N,d...] or [] (class indices) or input's shape
// (probabilities), weight[C] -> [] (mean, sum) or [N,d...] (none)
static gt_tensor *class_loss_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                     int n_in, const void *args_ptr) {
    const class_loss_args *args = args_ptr;
    gt_tensor *all[3] = {0};
    for (int i = 0; i < n_in && i < 3; i++)
        all[i] = in[i];
    gt_tensor *x = all[0], *t = all[1], *w = all[2];
    bool probs = false, ce = op->variant == 1;
    if (gt__check_inputs(op->name, tape, all, 3, 2) != GT_OK ||
        class_check(op, x, t, w, args, &probs) != GT_OK)
        return NULL;
    int64_t shape[GT_MAX_DIMS], n = x->ndim >= 2 ? x->shape[0] : 1, c = x->shape[x->ndim >= 2];
    int k = class_free_shape(x, shape);
    class_saved *sv = gt__tape_alloc(tape, sizeof *sv, op->name);
    if (!sv)
        return NULL;
    *sv = (class_saved){.n = n, .c = c, .s = 1};
    for (int d = 2; d < x->ndim; d++)
        sv->s *= x->shape[d];
    int64_t m = n * sv->s; /* positions (n, s) */
    bool each = args->reduction == GT_REDUCTION_NONE;
    gt_tensor *out = gt__op_output(tape, op, each ? k : 0, shape);
    size_t per_pos = gt__real_bytes(m + 1);
    sv->cls = out ? gt__tape_alloc(tape, (size_t)(m + 1) * sizeof *sv->cls, op->name) : NULL;
    sv->alpha = sv->cls ? gt__tape_alloc(tape, per_pos, op->name) : NULL;
    sv->beta = sv->alpha ? gt__tape_alloc(tape, per_pos, op->name) : NULL;
    sv->w = sv->beta ? gt__tape_alloc(tape, gt__real_bytes(c + 1), op->name) : NULL;
    sv->lse = sv->w && ce ? gt__tape_alloc(tape, per_pos, op->name) : NULL;
    sv->row = sv->lse ? gt__tape_alloc(tape, per_pos, op->name) : NULL;
    sv->factor = (ce ? sv->row : sv->w) && probs
                     ? gt__tape_alloc(tape, gt__real_bytes(c + 1), op->name) : NULL;
    if (!sv->w || (ce && !sv->row) || (probs && !sv->factor))
        return NULL;
    for (int64_t q = 0; q < c; q++)
        sv->w[q] = w ? w->data[q] : 1;
    double denom = class_coef(t, args, probs, ce, sv), total = 0;
    double scale = args->reduction == GT_REDUCTION_MEAN && denom != 0 ? 1 / denom : 1;
    double *losses = gt__tape_alloc(tape, (size_t)(m + 1) * sizeof *losses, op->name);
    if (!losses)
        return NULL;
    class_job job = {sv, x, t, probs, ce, scale, losses};
    gt__parallel_ranges(m, 1, GT__FLOPS_PER_ELEMENT * (double)x->numel, class_forward_range,
                        &job);
    for (int64_t p = 0; p < m; p++) { /* in order: the same sum on any number of threads */
        if (each)
            out->data[p] = (gt_real)losses[p];
        total += losses[p];
    }
    if (!each) /* the mean of nothing, or of only ignored targets, is 0 / 0 = nan, as torch */
        out->data[0] = (gt_real)(args->reduction == GT_REDUCTION_MEAN ? total / denom : total);
    for (int64_t p = 0; scale != 1 && p < m; p++) {
        sv->alpha[p] = (gt_real)((double)sv->alpha[p] * scale);
        sv->beta[p] = (gt_real)((double)sv->beta[p] * scale);
    }
    for (int64_t q = 0; probs && scale != 1 && q < c; q++)
        sv->factor[q] = (gt_real)((double)sv->factor[q] * scale);
    gt_node *node; /* probabilities take a gradient; class indices and weight do not */
    out = gt__op_finish(tape, op, out, in, probs ? 2 : 1, args, &node);
    if (node)
        node->saved = sv;
    return out;
}

// one position's contiguous classes: gx[C] += r exp(x - lse) - gb w
GT__MULTIVERSION
static void ce_grad_row(gt_real *restrict gx, const gt_real *restrict x,
                        const gt_real *restrict w, int64_t c, gt_real lse, gt_real r,
                        gt_real gb) {
    for (int64_t q = 0; q < c; q++)
        gx[q] += r * gt__exp_nonpos(x[q] - lse) - gb * w[q];
}

// g[] or g[N,d...] -> grad_input[N,C,d...] += g[n,s] (softmax[n,c,s] sum_c A[n,c,s] -
// A[n,c,s]) (cross_entropy) or -g[n,s] A[n,c,s] (nll_loss); probabilities:
// grad_target[N,C,d...] += -g[n,s] factor[c] logp[n,c,s]
/* Positions of a class loss's backward, for threads: each writes only its own entries. */
typedef struct class_grad_job {
    const class_saved *sv;
    const gt_tensor *x, *t;
    const gt_real *g;
    bool each;
} class_grad_job;

static void class_backward_range(void *ctx, int64_t from, int64_t to) {
    const class_grad_job *j = ctx;
    const class_saved *sv = j->sv;
    const gt_tensor *x = j->x, *t = j->t;
    int64_t c = sv->c, s = sv->s;
    for (int64_t pos = from; pos < to; pos++) { /* one position: its C entries at stride s */
        int64_t base = pos / s * c * s + pos % s;
        const gt_real *xv = x->data + base;
        gt_real gi = j->g[j->each ? pos : 0], lse = sv->lse ? sv->lse[pos] : 0;
        gt_real gb = gi * sv->beta[pos];
        gt_real *gx = x->grad ? x->grad + base : NULL, *gt = t && t->grad ? t->grad + base
                                                                        : NULL;
        if (gx && sv->lse && s == 1 && c >= CE_VECTOR_MIN) { /* g (softmax - A) */
            ce_grad_row(gx, xv, sv->w, c, lse, gi * sv->row[pos], gb);
        } else if (gx && sv->lse) { /* g (softmax row - A) */
            gt_real r = gi * sv->row[pos];
            for (int64_t q = 0; q < c; q++)
                gx[q * s] += r * (gt_real)exp((double)(xv[q * s] - lse)) - gb * sv->w[q];
        } else if (gx) { /* -g A */
            for (int64_t q = 0; gb != 0 && q < c; q++)
                gx[q * s] -= gb * sv->w[q];
        }
        if (gx && sv->cls[pos] >= 0)
            gx[sv->cls[pos] * s] -= gi * sv->alpha[pos];
        for (int64_t q = 0; t && q < c; q++) {
            gt_real ft = sv->factor[q] * gi;
            if (gx)
                gx[q * s] -= ft * t->data[base + q * s];
            if (gt)
                gt[q * s] -= ft * (xv[q * s] - lse);
        }
    }
}

static gt_status class_loss_backward(gt_node *node) {
    const class_saved *sv = node->saved;
    const class_loss_args *args = node->attrs;
    gt_tensor *x = node->in[0], *t = node->n_in > 1 ? node->in[1] : NULL;
    class_grad_job job = {sv, x, t, node->out->grad, args->reduction == GT_REDUCTION_NONE};
    gt__parallel_ranges(sv->n * sv->s, 1, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                        class_backward_range, &job);
    return GT_OK;
}

// cross_entropy: grad_x = g' (softmax(x, class dim) R - A); nll_loss: grad_x = -g' A;
// probabilities: grad_t = -g' factor logp. A is a constant for class indices, t factor + A0
// for probabilities; R = sum_c A; g' = g with a class dim of 1 (reduction "none")
static gt_status class_loss_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                       gt_tensor **grad_in) {
    const class_saved *sv = node->saved;
    const class_loss_args *args = node->attrs;
    gt_tensor *x = node->in[0], *t = node->n_in > 1 ? node->in[1] : NULL;
    int cdim = x->ndim >= 2;
    int64_t keep[GT_MAX_DIMS], per_class[GT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        keep[d] = d == cdim ? 1 : x->shape[d];
        per_class[d] = d == cdim ? x->shape[d] : 1;
    }
    if (args->reduction == GT_REDUCTION_NONE && x->ndim >= 2)
        g = gt_reshape(tape, g, x->ndim, keep);
    gt_tensor *a = g ? gt__const_like(tape, x, 0) : NULL, *factor = NULL;
    if (a && t) /* A = t factor + A0: the factor's part goes through ops */
        factor = gt_tape_tensor(tape, x->ndim, per_class);
    for (int64_t i = 0; a && i < x->numel; i++) {
        int64_t q = (i / sv->s) % sv->c, pos = (i / (sv->s * sv->c)) * sv->s + i % sv->s;
        a->data[i] = (gt_real)class_a0(sv, pos, q);
        if (factor)
            factor->data[q] = sv->factor[q];
    }
    if (!a || (t && !factor)) /* before other ops succeed, so the cause stays */
        return gt_last_status();
    if (t) {
        gt_tensor *logp = sv->lse ? gt_log_softmax(tape, x, cdim) : x;
        if (!logp || !(a = gt_add(tape, gt_mul(tape, t, factor), a)))
            return gt_last_status();
        if (gt__needs_grad(node, 1) &&
            !(grad_in[1] = gt_neg(tape, gt_mul(tape, g, gt_mul(tape, factor, logp)))))
            return gt_last_status();
    }
    if (!gt__needs_grad(node, 0))
        return GT_OK;
    if (!sv->lse) {
        grad_in[0] = gt_neg(tape, gt_mul(tape, g, a));
        return grad_in[0] ? GT_OK : gt_last_status();
    }
    gt_tensor *row = gt_reshape(tape, gt_sum(tape, a, cdim), x->ndim, keep);
    gt_tensor *p = row ? gt_softmax(tape, x, cdim) : NULL;
    grad_in[0] = p ? gt_mul(tape, g, gt_sub(tape, gt_mul(tape, p, row), a)) : NULL;
    return grad_in[0] ? GT_OK : gt_last_status();
}

static const gt_attr_def nll_loss_attrs[] = {
    {"ignore_index", GT_ATTR_INT, offsetof(class_loss_args, ignore_index), .dflt = -100},
    {"reduction", GT_ATTR_ENUM, offsetof(class_loss_args, reduction), .dflt = GT_REDUCTION_MEAN,
     .choices = "none|mean|sum"},
};

static const gt_attr_def cross_entropy_attrs[] = {
    {"ignore_index", GT_ATTR_INT, offsetof(class_loss_args, ignore_index), .dflt = -100},
    {"reduction", GT_ATTR_ENUM, offsetof(class_loss_args, reduction), .dflt = GT_REDUCTION_MEAN,
     .choices = "none|mean|sum"},
    {"label_smoothing", GT_ATTR_FLOAT, offsetof(class_loss_args, label_smoothing), .dflt = 0,
     .flags = GT_ATTR_HAS_MAX, .max = 1},
};

const gt_op_def gt_op_nll_loss = {
    .name = "nll_loss",
    .doc = "-weight[target] input[target] over the class dim (input holds log-probabilities), "
           "targets equal to ignore_index left out; the mean divides by the sum of the weights "
           "of the targets kept (nan when none is)",
    .shapes = "input[N,C,d...] or [C], target[N,d...] or [] (class indices), weight[C] -> [] "
              "(mean, sum) or [N,d...] (none)",
    .inputs = {{"input"}, {"target", GT_DOMAIN_CLASSES, .no_grad = true},
               {"weight", GT_DOMAIN_POSITIVE, .optional = true, .no_grad = true}},
    GT__ATTRS(nll_loss_attrs),
    .args_size = sizeof(class_loss_args),
    .forward = class_loss_forward,
    .backward = class_loss_backward,
    .grad_graph = class_loss_grad_graph,
    .variant = 0,
    GT__CASES("4x5 4", "3 ()", "3 (); reduction=\"none\"", "2x3x4x5 2x4x5",
              "2x3x2x2 2x2x2 3; reduction=\"none\"", "5x4 5 4", "5x4 5 4; reduction=\"sum\"",
              "6x3 6; ignore_index=1", "6x3 6 3; ignore_index=2, reduction=\"none\"",
              "1x2x1x1 1x1x1", "0x3 0; reduction=\"sum\"",
              "2x3 2x3 => nll_loss: target must be [2] (class indices) for input [2, 3], got "
              "[2, 3]",
              "2x3x4 2x5 => nll_loss: target must be [2, 4] (class indices) for input [2, 3, 4], "
              "got [2, 5]",
              "2x3 2 4 => nll_loss: weight must be [3], one per class of input [2, 3], got [4]",
              "() () => nll_loss: input must be [C] or [N, C, ...], got []",
              "2x3 2; reduction=\"max\" => nll_loss: reduction must be one of "
              "\"none|mean|sum\""),
};

const gt_op_def gt_op_cross_entropy = {
    .name = "cross_entropy",
    .doc = "softmax cross-entropy of logits over the class dim: target holds class indices "
           "(ignore_index left out; the mean divides by the sum of their weights, nan when "
           "none is kept) or probabilities (which take a gradient; the mean divides by N "
           "d...); label_smoothing mixes "
           "each target with the uniform distribution, as torch 1.13",
    .shapes = "input[N,C,d...] or [C], target[N,d...] or [] (class indices) or input's shape "
              "(probabilities), weight[C] -> [] (mean, sum) or [N,d...] (none)",
    .inputs = {{"input"}, {"target", GT_DOMAIN_CLASSES}, /* probabilities take a gradient */
               {"weight", GT_DOMAIN_POSITIVE, .optional = true, .no_grad = true}},
    GT__ATTRS(cross_entropy_attrs),
    .args_size = sizeof(class_loss_args),
    .forward = class_loss_forward,
    .backward = class_loss_backward,
    .grad_graph = class_loss_grad_graph,
    .variant = 1,
    GT__CASES("4x5 4", "1x3 1", "3x4 3x4:probs", "5 ()", "5 5:probs; reduction=\"none\"",
              "2x3x4x5 2x4x5", "2x3x2x2 2x2x2; reduction=\"none\"",
              "2x3x4 2x3x4:probs; reduction=\"sum\"", "4x5 4 5", "4x5 4 5; reduction=\"sum\"",
              "3x4x2 3x2 4; reduction=\"none\"", "3x4 3x4:probs 4",
              "6x3 6; ignore_index=1", "6x3 6 3; ignore_index=0, label_smoothing=0.2",
              "4x5 4; label_smoothing=0.1", "4x5 4; label_smoothing=1",
              "3x4 3x4:probs 4; label_smoothing=0.3, reduction=\"none\"", "3x4 3x4:normal",
              "2x3x2 2x3x2:normal 3; label_smoothing=0.2", "4 4:normal; reduction=\"none\"",
              "2x3 2x3:normal 3; reduction=\"sum\"",
              "2x3x2 2x2 3; label_smoothing=0.25, reduction=\"none\"",
              "2x3x2 2x2 3; label_smoothing=0.25, ignore_index=2, reduction=\"sum\"",
              "4x3 4; label_smoothing=-0.5", "1x2x1x1 1x1x1", "0x3 0; reduction=\"sum\"",
              "2x3x1 2x3x1:probs; ignore_index=-3",
              "2x3 3 => cross_entropy: target must be [2] (class indices) or [2, 3] "
              "(probabilities) for input [2, 3], got [3]",
              "2x3x4 2x5 => cross_entropy: target must be [2, 4] (class indices) or [2, 3, 4] "
              "(probabilities) for input [2, 3, 4], got [2, 5]",
              "() () => cross_entropy: input must be [C] or [N, C, ...], got []",
              "2x3 2 2 => cross_entropy: weight must be [3], one per class of input [2, 3], got "
              "[2]",
              "2x3 2x3:probs; ignore_index=1 => cross_entropy: ignore_index is not supported for "
              "probability targets, got 1",
              "2x3 2; label_smoothing=1.5 => cross_entropy: label_smoothing must be <= 1, got "
              "1.5"),
};

#define REDUCTION_ATTR                                                                     \
    {"reduction", GT_ATTR_ENUM, offsetof(point_loss_args, reduction), .dflt = GT_REDUCTION_MEAN, \
     .choices = "none|mean|sum"}

static const gt_attr_def reduction_attrs[] = {REDUCTION_ATTR};
static const gt_attr_def smooth_l1_attrs[] = {
    REDUCTION_ATTR,
    {"beta", GT_ATTR_FLOAT, offsetof(point_loss_args, param), .dflt = 1,
     .flags = GT_ATTR_HAS_MIN, .min = 0},
};
static const gt_attr_def huber_attrs[] = {
    REDUCTION_ATTR,
    {"delta", GT_ATTR_FLOAT, offsetof(point_loss_args, param), .dflt = 1}, /* > 0: forward */
};

#define POINT_LOSS_SHAPES "input[...], target[...] (same shape) -> [] (mean, sum) or [...] (none)"

/* The entry of a pointwise loss. */
#define POINT_LOSS_DEF(op_name, op_doc, kind, attrs, grad_graph_fn, ...)                   \
    {.name = op_name, .doc = op_doc, .shapes = POINT_LOSS_SHAPES,                          \
     .inputs = {{"input"}, {"target"}}, GT__ATTRS(attrs),                                 \
     .args_size = sizeof(point_loss_args), .forward = point_loss_forward,                 \
     .backward = point_loss_backward, .grad_graph = grad_graph_fn, .variant = kind,       \
     GT__CASES(__VA_ARGS__)}

const gt_op_def gt_op_mse_loss = POINT_LOSS_DEF(
    "mse_loss", "(input - target)^2, reduced by reduction (mean, sum or none)", POINT_MSE,
    reduction_attrs, point_loss_grad_graph, "3x4 3x4", "5 5", "2x3 2x3; reduction=\"sum\"",
    "2x1x3 2x1x3; reduction=\"none\"", "() ()", "1x1 1x1; reduction=\"sum\"",
    "2x3 3x2 => mse_loss: shapes differ: [2, 3] vs [3, 2]",
    "0 0 => mse_loss: inputs are empty: [0]",
    "3 3; reduction=\"max\" => mse_loss: reduction must be one of \"none|mean|sum\"");
const gt_op_def gt_op_l1_loss = POINT_LOSS_DEF(
    "l1_loss", "|input - target|, reduced by reduction (mean, sum or none)", POINT_L1,
    reduction_attrs, point_loss_grad_graph, "3x4 3x4", "2x3 2x3; reduction=\"sum\"",
    "4 4; reduction=\"none\"", "1x3x1 1x3x1", "() (); reduction=\"none\"",
    "3 3; reduction=\"avg\" => l1_loss: reduction must be one of \"none|mean|sum\"",
    "2 3 => l1_loss: shapes differ: [2] vs [3]");
const gt_op_def gt_op_smooth_l1_loss = POINT_LOSS_DEF(
    "smooth_l1_loss", "0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - "
    "target; beta 0 is l1_loss), reduced by reduction", POINT_SMOOTH_L1, smooth_l1_attrs,
    point_loss_grad_graph, "4x5 4x5", "1x1x2 1x1x2; beta=3",
    "3x4 3x4; beta=0.5, reduction=\"sum\"", "6 6; beta=2, reduction=\"none\"",
    "5 5; beta=0",
    "3 3; beta=-1 => smooth_l1_loss: beta must be >= 0, got -1",
    "2x2 4 => smooth_l1_loss: shapes differ: [2, 2] vs [4]");
const gt_op_def gt_op_huber_loss = POINT_LOSS_DEF(
    "huber_loss", "0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - "
    "target), reduced by reduction", POINT_HUBER, huber_attrs, point_loss_grad_graph,
    "4x5 4x5", "2x1 2x1; delta=0.1, reduction=\"none\"", "3x4 3x4; delta=0.5, reduction=\"sum\"",
    "6 6; delta=2, reduction=\"none\"",
    "3 3; delta=-1 => huber_loss: delta must be > 0, got -1",
    "3 3; delta=0 => huber_loss: delta must be > 0, got 0",
    "2x2 4 => huber_loss: shapes differ: [2, 2] vs [4]");

gt_tensor *gt_cross_entropy(gt_tape *tape, gt_tensor *logits, gt_tensor *target) {
    return gt_op_call(tape, &gt_op_cross_entropy, (gt_tensor *[]){logits, target}, 2,
                      &(class_loss_args){-100, GT_REDUCTION_MEAN, 0});
}

gt_tensor *gt_nll_loss(gt_tape *tape, gt_tensor *input, gt_tensor *target, gt_tensor *weight,
                       int64_t ignore_index, gt_reduction reduction) {
    return gt_op_call(tape, &gt_op_nll_loss, (gt_tensor *[]){input, target, weight}, 3,
                      &(class_loss_args){ignore_index, (int)reduction, 0});
}

gt_tensor *gt_mse_loss(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_mse_loss, (gt_tensor *[]){a, b}, 2,
                      &(point_loss_args){GT_REDUCTION_MEAN, 0});
}

gt_tensor *gt_l1_loss(gt_tape *tape, gt_tensor *input, gt_tensor *target,
                      gt_reduction reduction) {
    return gt_op_call(tape, &gt_op_l1_loss, (gt_tensor *[]){input, target}, 2,
                      &(point_loss_args){(int)reduction, 0});
}

gt_tensor *gt_smooth_l1_loss(gt_tape *tape, gt_tensor *input, gt_tensor *target,
                             gt_reduction reduction, double beta) {
    return gt_op_call(tape, &gt_op_smooth_l1_loss, (gt_tensor *[]){input, target}, 2,
                      &(point_loss_args){(int)reduction, beta});
}

gt_tensor *gt_huber_loss(gt_tape *tape, gt_tensor *input, gt_tensor *target,
                         gt_reduction reduction, double delta) {
    return gt_op_call(tape, &gt_op_huber_loss, (gt_tensor *[]){input, target}, 2,
                      &(point_loss_args){(int)reduction, delta});
}

gt_tensor *gt_binary_cross_entropy_with_logits(gt_tape *tape, gt_tensor *input, gt_tensor *target,
                                               gt_tensor *weight, gt_reduction reduction,
                                               gt_tensor *pos_weight) {
    return gt_op_call(tape, &gt_op_binary_cross_entropy_with_logits,
                      (gt_tensor *[]){input, target, weight, pos_weight}, 4,
                      &(bce_args){(int)reduction});
}
