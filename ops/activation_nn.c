/* activation_nn.c - torch.nn.functional's other activations: elu, selu, gelu, silu,
 * softplus, hardtanh, hardsigmoid; and torch.clamp, hardtanh's kin. One kernel pair for all of them (a loop per function,
 * so each vectorises), cut into ranges that threads share on large tensors. */
#include "gt_ops_impl.h"
#include "gt_vmath.h"

#include <math.h>
#include <stddef.h>

typedef enum act_kind {
    ACT_ELU,
    ACT_SELU,
    ACT_GELU,
    ACT_SILU,
    ACT_SOFTPLUS,
    ACT_HARDTANH,
    ACT_HARDSIGMOID,
    ACT_CLAMP
} act_kind;

/* The arguments of elu, gelu, softplus and hardtanh. */
typedef struct elu_args {
    double alpha;
} elu_args;

typedef struct gelu_args {
    int approximate; /* GT_GELU_NONE or GT_GELU_TANH */
} gelu_args;

typedef struct softplus_args {
    double beta, threshold;
} softplus_args;

typedef struct hardtanh_args {
    double min_val, max_val;
} hardtanh_args;

typedef struct clamp_args {
    double min, max; /* NAN: None */
} clamp_args;

/* What a kernel reads of an op's arguments: elu alpha in a; softplus beta in a and
 * threshold in b; hardtanh min_val in a and max_val in b (clamp the same, -inf and inf for
 * None); gelu approximate in tanh_form. */
typedef struct act_params {
    gt_real a, b;
    bool tanh_form;
} act_params;

#define SELU_ALPHA ((gt_real)1.6732632423543772848170429916717)
#define SELU_SCALE ((gt_real)1.0507009873554804934193349852946)
#define SQRT_2_OVER_PI ((gt_real)0.79788456080286535587989211986876)
#define INV_SQRT_2 ((gt_real)0.70710678118654752440084436210485)
#define INV_SQRT_2PI ((gt_real)0.39894228040143267793994605993438)
#define GELU_CUBIC ((gt_real)0.044715)

/* gelu (approximate="none") in parts that its kernels share, so that they give the same
 * bits: w = 1 + erf(x / sqrt 2) = 2 Phi(x); y = x w / 2; y' = Phi(x) + x phi(x). */
static inline gt_real gelu_two_cdf(gt_real x) {
    return 1 + gt__erf(x * INV_SQRT_2);
}

static inline gt_real gelu_slope(gt_real x, gt_real two_cdf) {
    gt_real cdf = (gt_real)0.5 * two_cdf;
    gt_real pdf = INV_SQRT_2PI * gt__exp_nonpos((gt_real)-0.5 * x * x);
    return cdf + x * pdf;
}

// x[n] -> y[n] = f(x)
GT__MULTIVERSION
static void act_kernel(act_kind kind, act_params p, int64_t n, gt_real *restrict y,
                       const gt_real *restrict x) {
    switch (kind) {
    case ACT_ELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? x[i] : p.a * (gt__exp(x[i]) - 1);
        break;
    case ACT_SELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = SELU_SCALE * (x[i] > 0 ? x[i] : SELU_ALPHA * (gt__exp(x[i]) - 1));
        break;
    case ACT_GELU:
        if (p.tanh_form)
            for (int64_t i = 0; i < n; i++) {
                gt_real u = SQRT_2_OVER_PI * (x[i] + GELU_CUBIC * x[i] * x[i] * x[i]);
                y[i] = (gt_real)0.5 * x[i] * (1 + gt__tanh(u));
            }
        else
            for (int64_t i = 0; i < n; i++)
                y[i] = (gt_real)0.5 * x[i] * gelu_two_cdf(x[i]);
        break;
    case ACT_SILU:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] * gt__sigmoid(x[i]);
        break;
    case ACT_SOFTPLUS: /* log(1 + e^(beta x)) / beta, linear where beta x > threshold */
        for (int64_t i = 0; i < n; i++) {
            gt_real bx = p.a * x[i];
            y[i] = bx > p.b ? x[i] : (gt_real)log1p(gt__exp(bx)) / p.a;
        }
        break;
    case ACT_HARDTANH:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] < p.a ? p.a : x[i] > p.b ? p.b : x[i];
        break;
    case ACT_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i] <= -3 ? 0 : x[i] >= 3 ? 1 : x[i] / 6 + (gt_real)0.5;
        break;
    case ACT_CLAMP: /* min(max(x, min), max): max wins when min > max; NaN stays */
        for (int64_t i = 0; i < n; i++) {
            gt_real t = x[i] < p.a ? p.a : x[i];
            y[i] = t > p.b ? p.b : t;
        }
        break;
    }
}

// g[n], x[n], y[n] = f(x) -> gx[n] += g * f'(x); at a kink the side PyTorch takes
GT__MULTIVERSION
static void act_grad_kernel(act_kind kind, act_params p, int64_t n, gt_real *restrict gx,
                            const gt_real *restrict g, const gt_real *restrict x) {
    switch (kind) {
    case ACT_ELU:
        for (int64_t i = 0; i < n; i++)
            gx[i] += x[i] > 0 ? g[i] : g[i] * p.a * gt__exp(x[i]);
        break;
    case ACT_SELU:
        for (int64_t i = 0; i < n; i++)
            gx[i] += g[i] * SELU_SCALE * (x[i] > 0 ? 1 : SELU_ALPHA * gt__exp(x[i]));
        break;
    case ACT_GELU:
        if (p.tanh_form)
            for (int64_t i = 0; i < n; i++) {
                gt_real x2 = x[i] * x[i];
                gt_real t = gt__tanh(SQRT_2_OVER_PI * (x[i] + GELU_CUBIC * x2 * x[i]));
                gt_real du = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x2);
                gx[i] += g[i] * (gt_real)0.5 * ((1 + t) + x[i] * (1 - t * t) * du);
            }
        else
            for (int64_t i = 0; i < n; i++)
                gx[i] += g[i] * gelu_slope(x[i], gelu_two_cdf(x[i]));
        break;
    case ACT_SILU:
        for (int64_t i = 0; i < n; i++) {
            gt_real s = gt__sigmoid(x[i]);
            gx[i] += g[i] * s * (1 + x[i] * (1 - s));
        }
        break;
    case ACT_SOFTPLUS:
        for (int64_t i = 0; i < n; i++) {
            gt_real bx = p.a * x[i];
            gx[i] += bx > p.b ? g[i] : g[i] * gt__sigmoid(bx);
        }
        break;
    case ACT_HARDTANH:
        for (int64_t i = 0; i < n; i++)
            gx[i] += x[i] > p.a && x[i] < p.b ? g[i] : 0;
        break;
    case ACT_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++)
            gx[i] += x[i] > -3 && x[i] < 3 ? g[i] / 6 : 0;
        break;
    case ACT_CLAMP: /* unlike hardtanh, the bounds themselves pass the gradient */
        for (int64_t i = 0; i < n; i++)
            gx[i] += x[i] >= p.a && x[i] <= p.b ? g[i] : 0;
        break;
    }
}

// x[n] -> y[n] = gelu(x), slope[n] = gelu'(x) (approximate="none"): a recorded gelu's
// forward, which keeps the slope for its backward (act_slope_kernel), so that the erf is
// computed once per step instead of twice, for one more array in the tape
GT__MULTIVERSION
static void gelu_slope_kernel(int64_t n, gt_real *restrict y, gt_real *restrict slope,
                              const gt_real *restrict x) {
    for (int64_t i = 0; i < n; i++) {
        gt_real w = gelu_two_cdf(x[i]);
        y[i] = (gt_real)0.5 * x[i] * w;
        slope[i] = gelu_slope(x[i], w);
    }
}

// g[n], slope[n] = f'(x) kept by the forward -> gx[n] += g * slope
GT__MULTIVERSION
static void act_slope_kernel(int64_t n, gt_real *restrict gx, const gt_real *restrict g,
                             const gt_real *restrict slope) {
    for (int64_t i = 0; i < n; i++)
        gx[i] += g[i] * slope[i];
}

static act_params params_of(act_kind kind, const void *args) {
    switch (kind) {
    case ACT_ELU: return (act_params){(gt_real)((const elu_args *)args)->alpha, 0, false};
    case ACT_GELU:
        return (act_params){0, 0, ((const gelu_args *)args)->approximate == GT_GELU_TANH};
    case ACT_SOFTPLUS: {
        const softplus_args *s = args;
        return (act_params){(gt_real)s->beta, (gt_real)s->threshold, false};
    }
    case ACT_HARDTANH: {
        const hardtanh_args *h = args;
        return (act_params){(gt_real)h->min_val, (gt_real)h->max_val, false};
    }
    case ACT_CLAMP: {
        const clamp_args *c = args;
        return (act_params){isnan(c->min) ? (gt_real)-INFINITY : (gt_real)c->min,
                            isnan(c->max) ? (gt_real)INFINITY : (gt_real)c->max, false};
    }
    default: return (act_params){0, 0, false};
    }
}

/* One pass, cut into ranges that threads share on large tensors. */
typedef struct act_job {
    act_kind kind;
    act_params p;
    gt_real *out;          /* y, or gx */
    const gt_real *g, *x;  /* g: backward only */
    gt_real *slope;        /* f'(x) when the forward keeps it (gelu_keeps_slope), else NULL */
} act_job;

static void act_range(void *ctx, int64_t from, int64_t to) {
    const act_job *j = ctx;
    if (j->slope)
        gelu_slope_kernel(to - from, j->out + from, j->slope + from, j->x + from);
    else
        act_kernel(j->kind, j->p, to - from, j->out + from, j->x + from);
}

static void act_grad_range(void *ctx, int64_t from, int64_t to) {
    const act_job *j = ctx;
    if (j->slope)
        act_slope_kernel(to - from, j->out + from, j->g + from, j->slope + from);
    else
        act_grad_kernel(j->kind, j->p, to - from, j->out + from, j->g + from, j->x + from);
}

/* Whether the forward keeps f'(x) for the backward: gelu's erf form when recorded, whose
 * backward would compute the forward's erf again (and an exp) per element. */
static bool gelu_keeps_slope(gt_tape *tape, act_kind kind, act_params p, gt_tensor *x) {
    return kind == ACT_GELU && !p.tanh_form && gt__tape_will_record(tape, &x, 1);
}

#define ACT_ALIGN 64 /* elements: ranges start on whole cache lines of either type */

// x[...] -> f(x)[...]
static gt_tensor *act_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                              int n_in, const void *args) {
    (void)n_in;
    act_kind kind = (act_kind)op->variant;
    gt_tensor *x = in[0];
    if (gt__check_inputs(op->name, tape, &x, 1, 1) != GT_OK)
        return NULL;
    if (kind == ACT_HARDTANH) {
        const hardtanh_args *h = args;
        if (!(h->max_val >= h->min_val)) {
            gt_set_error(GT_ERR_ARG, "hardtanh: max_val (%g) must be >= min_val (%g)",
                         h->max_val, h->min_val);
            return NULL;
        }
    }
    if (kind == ACT_CLAMP) {
        const clamp_args *c = args;
        if (isnan(c->min) && isnan(c->max)) {
            gt_set_error(GT_ERR_ARG, "clamp: at least one of min and max must not be None");
            return NULL;
        }
    }
    gt_tensor *out = gt__op_output(tape, op, x->ndim, x->shape);
    if (!out)
        return NULL;
    act_job job = {kind, params_of(kind, args), out->data, NULL, x->data, NULL};
    if (gelu_keeps_slope(tape, kind, job.p, x) &&
        !(job.slope = gt__tape_alloc(tape, gt__real_bytes(x->numel), op->name)))
        return NULL;
    gt__parallel_ranges(x->numel, ACT_ALIGN, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                        act_range, &job);
    gt_node *node;
    out = gt__op_finish(tape, op, out, &x, 1, args, &node);
    if (node)
        node->saved = job.slope;
    return out;
}

// grad_out[...] -> grad_x[...] += grad_out * f'(x)
static gt_status act_backward(gt_node *node) {
    act_kind kind = (act_kind)gt__node_variant(node);
    gt_tensor *x = node->in[0];
    if (x->grad) {
        act_job job = {kind, params_of(kind, node->attrs), x->grad, node->out->grad, x->data,
                       node->saved};
        gt__parallel_ranges(x->numel, ACT_ALIGN, GT__FLOPS_PER_ELEMENT * (double)x->numel,
                            act_grad_range, &job);
    }
    return GT_OK;
}

/* A constant of x's shape (no gradient): f'(x) of a piecewise-linear activation, or the
 * mask of the elements in the part where f is linear (elu, selu: x > 0; softplus:
 * beta x > threshold). */
static gt_tensor *act_constant(gt_tape *tape, act_kind kind, act_params p, const gt_tensor *x) {
    gt_tensor *c = gt__const_like(tape, x, 0);
    if (c && (kind == ACT_ELU || kind == ACT_SELU || kind == ACT_SOFTPLUS)) {
        for (int64_t i = 0; i < x->numel; i++)
            c->data[i] = kind == ACT_SOFTPLUS ? p.a * x->data[i] > p.b : x->data[i] > 0;
    } else if (c) { /* f'(x) = the backward of a gradient of ones */
        gt_tensor *ones = gt__const_like(tape, x, 1);
        if (!ones)
            return NULL;
        act_grad_kernel(kind, p, x->numel, c->data, ones->data, x->data);
    }
    return c;
}

// grad_x = g * f'(x), f' written with ops on x (a constant where f is piecewise linear)
static gt_status act_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                gt_tensor **grad_in) {
    act_kind kind = (act_kind)gt__node_variant(node);
    act_params p = params_of(kind, node->attrs);
    gt_tensor *x = node->in[0], *d = NULL;
    switch (kind) {
    case ACT_ELU:
    case ACT_SELU: { /* linear + (1 - linear) * alpha e^x, times scale for selu */
        gt_tensor *linear = act_constant(tape, kind, p, x);
        gt_real alpha = kind == ACT_ELU ? p.a : SELU_ALPHA;
        gt_tensor *rest = gt__const_like(tape, x, 0);
        for (int64_t i = 0; linear && rest && i < x->numel; i++)
            rest->data[i] = (1 - linear->data[i]) * alpha;
        d = gt_add(tape, linear, gt_mul(tape, rest, gt_exp(tape, x)));
        if (kind == ACT_SELU)
            d = gt_scale(tape, d, (double)SELU_SCALE);
        break;
    }
    case ACT_GELU:
        if (p.tanh_form) { /* 0.5 ((1 + t) + x (1 - t^2) du), t = tanh(u) */
            gt_tensor *x2 = gt_mul(tape, x, x);
            gt_tensor *u = gt_scale(tape, gt_add(tape, x, gt_scale(tape, gt_mul(tape, x2, x),
                                                                   (double)GELU_CUBIC)),
                                    (double)SQRT_2_OVER_PI);
            gt_tensor *t = gt_tanh(tape, u), *one = gt__const_like(tape, x, 1);
            gt_tensor *cubic = gt_scale(tape, x2, 3 * (double)GELU_CUBIC);
            gt_tensor *du = gt_scale(tape, gt_add(tape, one, cubic), (double)SQRT_2_OVER_PI);
            gt_tensor *sech2 = gt_sub(tape, one, gt_mul(tape, t, t));
            gt_tensor *slope = gt_mul(tape, gt_mul(tape, x, sech2), du);
            d = gt_scale(tape, gt_add(tape, gt_add(tape, one, t), slope), 0.5);
        } else { /* Phi(x) + x phi(x) */
            gt_tensor *one = gt__const_like(tape, x, 1);
            gt_tensor *e = gt_erf(tape, gt_scale(tape, x, (double)INV_SQRT_2));
            gt_tensor *cdf = gt_scale(tape, gt_add(tape, one, e), 0.5);
            gt_tensor *pdf = gt_scale(tape, gt_exp(tape, gt_scale(tape, gt_mul(tape, x, x), -0.5)),
                                      (double)INV_SQRT_2PI);
            d = gt_add(tape, cdf, gt_mul(tape, x, pdf));
        }
        break;
    case ACT_SILU: { /* s (1 + x (1 - s)) */
        gt_tensor *s = gt_sigmoid(tape, x), *one = gt__const_like(tape, x, 1);
        d = gt_mul(tape, s, gt_add(tape, one, gt_mul(tape, x, gt_sub(tape, one, s))));
        break;
    }
    case ACT_SOFTPLUS: { /* linear + (1 - linear) sigmoid(beta x) */
        gt_tensor *linear = act_constant(tape, kind, p, x);
        gt_tensor *rest = gt__const_like(tape, x, 0);
        for (int64_t i = 0; linear && rest && i < x->numel; i++)
            rest->data[i] = 1 - linear->data[i];
        gt_tensor *s = gt_sigmoid(tape, gt_scale(tape, x, (double)p.a));
        d = gt_add(tape, linear, gt_mul(tape, rest, s));
        break;
    }
    case ACT_HARDTANH:
    case ACT_HARDSIGMOID:
    case ACT_CLAMP: d = act_constant(tape, kind, p, x); break;
    }
    grad_in[0] = gt_mul(tape, g, d);
    return grad_in[0] ? GT_OK : gt_last_status();
}

#define ACT_SHAPES "input[...] -> [...]"

/* The entry of an activation of act_forward; attrs and args_size may be left out. */
#define ACT_OP_DEF(op_name, op_doc, domain, kind, ...)                                     \
    .name = op_name, .doc = op_doc, .shapes = ACT_SHAPES, .inputs = {{"input", domain}},   \
    .forward = act_forward, .backward = act_backward, .grad_graph = act_grad_graph,         \
    .variant = kind,                                                                       \
    GT__CASES(__VA_ARGS__)

static const gt_attr_def elu_attrs[] = {
    {"alpha", GT_ATTR_FLOAT, offsetof(elu_args, alpha), .dflt = 1.0},
};

const gt_op_def gt_op_elu = {
    ACT_OP_DEF("elu", "input where input > 0, else alpha * (exp(input) - 1)", GT_DOMAIN_SPREAD,
               ACT_ELU, "3x5", "2x3x2; alpha=0.5", "4; alpha=2", "(); alpha=-0.3",
               "2 2 => elu: takes 1 tensor input, got 2",
               "3; alpha=None => elu: alpha must be given (it cannot be None)"),
    GT__ATTRS(elu_attrs),
    .args_size = sizeof(elu_args),
};

const gt_op_def gt_op_selu = {
    ACT_OP_DEF("selu",
               "scale * elu(input, alpha) with PyTorch's constants alpha = 1.6732632423543772, "
               "scale = 1.0507009873554805",
               GT_DOMAIN_SPREAD, ACT_SELU, "3x5", "1x4x1",
               "2 2 => selu: takes 1 tensor input, got 2"),
};

static const gt_attr_def gelu_attrs[] = {
    {"approximate", GT_ATTR_ENUM, offsetof(gelu_args, approximate), .dflt = GT_GELU_NONE,
     .choices = "none|tanh"},
};

const gt_op_def gt_op_gelu = {
    ACT_OP_DEF("gelu",
               "input * Phi(input), Phi the standard normal CDF (approximate=\"none\"), or "
               "0.5 * input * (1 + tanh(sqrt(2 / pi) * (input + 0.044715 * input^3))) "
               "(approximate=\"tanh\")",
               GT_DOMAIN_NORMAL, ACT_GELU, "3x5", "2x3x4; approximate=\"tanh\"",
               "6; approximate=\"none\"", "()",
               "2 2 => gelu: takes 1 tensor input, got 2",
               "3; approximate=\"erf\" => gelu: approximate must be one of \"none|tanh\", "
               "got \"erf\""),
    GT__ATTRS(gelu_attrs),
    .args_size = sizeof(gelu_args),
};

const gt_op_def gt_op_silu = {
    ACT_OP_DEF("silu", "input * sigmoid(input) (swish)", GT_DOMAIN_NORMAL, ACT_SILU, "3x5",
               "2x1x3", "2 2 => silu: takes 1 tensor input, got 2"),
};

static const gt_attr_def softplus_attrs[] = {
    {"beta", GT_ATTR_FLOAT, offsetof(softplus_args, beta), .dflt = 1},
    {"threshold", GT_ATTR_FLOAT, offsetof(softplus_args, threshold), .dflt = 20},
};

const gt_op_def gt_op_softplus = {
    ACT_OP_DEF("softplus",
               "log(1 + exp(beta * input)) / beta; input itself where beta * input > threshold",
               GT_DOMAIN_NORMAL, ACT_SOFTPLUS, "3x5", "2x3; beta=2", "4x2; beta=0.5, threshold=0.7",
               "20:spread; threshold=0.3",
               "2 2 => softplus: takes 1 tensor input, got 2",
               "3; beta=\"one\" => softplus: beta must be a number"),
    GT__ATTRS(softplus_attrs),
    .args_size = sizeof(softplus_args),
};

static const gt_attr_def hardtanh_attrs[] = {
    {"min_val", GT_ATTR_FLOAT, offsetof(hardtanh_args, min_val), .dflt = -1.0},
    {"max_val", GT_ATTR_FLOAT, offsetof(hardtanh_args, max_val), .dflt = 1.0},
};

const gt_op_def gt_op_hardtanh = {
    ACT_OP_DEF("hardtanh",
               "input clamped to [min_val, max_val]; the gradient is 0 at and beyond them",
               GT_DOMAIN_SPREAD, ACT_HARDTANH, "3x5", "40; min_val=-0.5, max_val=0.2",
               "2x3; max_val=0.06", "2x2; min_val=-0.02",
               "2 2 => hardtanh: takes 1 tensor input, got 2",
               "3; min_val=1, max_val=-1 => hardtanh: max_val (-1) must be >= min_val (1)"),
    GT__ATTRS(hardtanh_attrs),
    .args_size = sizeof(hardtanh_args),
};

const gt_op_def gt_op_hardsigmoid = {
    ACT_OP_DEF("hardsigmoid",
               "0 for input <= -3, 1 for input >= 3, input / 6 + 1/2 between; the gradient "
               "is 0 at and beyond -3 and 3",
               GT_DOMAIN_NORMAL, ACT_HARDSIGMOID, "3x5", "200:spread",
               "2 2 => hardsigmoid: takes 1 tensor input, got 2"),
};

static const gt_attr_def clamp_attrs[] = {
    {"min", GT_ATTR_FLOAT, offsetof(clamp_args, min), .dflt = NAN, .flags = GT_ATTR_OPTIONAL},
    {"max", GT_ATTR_FLOAT, offsetof(clamp_args, max), .dflt = NAN, .flags = GT_ATTR_OPTIONAL},
};

const gt_op_def gt_op_clamp = {
    ACT_OP_DEF("clamp",
               "min(max(input, min), max), a bound None left out; the gradient passes at the "
               "bounds themselves",
               GT_DOMAIN_SPREAD, ACT_CLAMP, "40; min=-0.5, max=0.2", "3x4; min=0",
               "2x3; max=-0.06", "2x2; min=None, max=0.01",
               "3 => clamp: at least one of min and max must not be None",
               "3; min=\"a\" => clamp: min must be a number"),
    GT__ATTRS(clamp_attrs),
    .args_size = sizeof(clamp_args),
};

gt_tensor *gt_elu(gt_tape *tape, gt_tensor *x, double alpha) {
    return gt_op_call(tape, &gt_op_elu, &x, 1, &(elu_args){alpha});
}

gt_tensor *gt_selu(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_selu, &x, 1, NULL);
}

gt_tensor *gt_gelu(gt_tape *tape, gt_tensor *x, gt_gelu_approximate approximate) {
    return gt_op_call(tape, &gt_op_gelu, &x, 1, &(gelu_args){(int)approximate});
}

gt_tensor *gt_silu(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_silu, &x, 1, NULL);
}

gt_tensor *gt_softplus(gt_tape *tape, gt_tensor *x, double beta, double threshold) {
    return gt_op_call(tape, &gt_op_softplus, &x, 1, &(softplus_args){beta, threshold});
}

gt_tensor *gt_hardtanh(gt_tape *tape, gt_tensor *x, double min_val, double max_val) {
    return gt_op_call(tape, &gt_op_hardtanh, &x, 1, &(hardtanh_args){min_val, max_val});
}

gt_tensor *gt_hardsigmoid(gt_tape *tape, gt_tensor *x) {
    return gt_op_call(tape, &gt_op_hardsigmoid, &x, 1, NULL);
}

gt_tensor *gt_clamp(gt_tape *tape, gt_tensor *x, double min, double max) {
    return gt_op_call(tape, &gt_op_clamp, &x, 1, &(clamp_args){min, max});
}
