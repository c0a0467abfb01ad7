/* optim.c - SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW, with the
 * update rules of torch.optim written out in gt_nn.h. State lives in heap tensors of each
 * parameter's shape, allocated once at creation: a step allocates nothing. */
#include "gt_nn_impl.h"
#include "gt_ops_impl.h" /* gt__parallel_ranges */
#include "gt_tensor_impl.h"

#include <math.h>
#include <string.h>

#define OPTIM_MAX_STATE 2 /* SGD: momentum buffer; Adam, AdamW: exp_avg, exp_avg_sq */

struct gt_optimizer {
    gt_optimizer_kind kind;
    gt_sgd_config sgd;
    gt_adam_config adam;
    int n;
    gt_tensor **params;
    int n_state;                         /* state tensors per parameter */
    gt_tensor **state[OPTIM_MAX_STATE];  /* state[s][i]: parameter i's s-th state */
    int64_t steps;
};

static const char *const state_names[][OPTIM_MAX_STATE] = {
    [GT_OPTIM_SGD] = {"momentum_buffer", NULL},
    [GT_OPTIM_ADAM] = {"exp_avg", "exp_avg_sq"},
    [GT_OPTIM_ADAMW] = {"exp_avg", "exp_avg_sq"},
};

static gt_status check_params(const char *who, gt_tensor *const *params, int n) {
    if (!params || n < 1)
        return gt_set_error(GT_ERR_ARG, "%s: needs at least one parameter, got %d", who,
                            params ? n : 0);
    for (int i = 0; i < n; i++) {
        if (!params[i] || !gt_tensor_requires_grad(params[i]) || !gt_tensor_grad(params[i]))
            return gt_set_error(GT_ERR_ARG, "%s: parameter %d is %s", who, i,
                                params[i] ? "not a leaf that requires a gradient" : "NULL");
        for (int j = 0; j < i; j++)
            if (params[j] == params[i])
                return gt_set_error(GT_ERR_ARG, "%s: parameter %d is also parameter %d: each "
                                    "may appear once", who, i, j);
    }
    return GT_OK;
}

static gt_optimizer *optimizer_new(gt_optimizer_kind kind, gt_tensor *const *params, int n,
                                   int n_state) {
    gt_optimizer *opt = gt_calloc(1, sizeof *opt, "optimizer");
    if (!opt)
        return NULL;
    opt->kind = kind;
    opt->n_state = n_state;
    opt->params = gt_calloc((size_t)n, sizeof *opt->params, "optimizer");
    bool ok = opt->params != NULL;
    for (int s = 0; ok && s < n_state; s++)
        ok = (opt->state[s] = gt_calloc((size_t)n, sizeof *opt->state[s], "optimizer")) != NULL;
    for (int i = 0; ok && i < n; i++) {
        opt->params[opt->n++] = params[i];
        for (int s = 0; ok && s < n_state; s++)
            ok = (opt->state[s][i] = gt_zeros(gt_tensor_ndim(params[i]),
                                              gt_tensor_shape(params[i]))) != NULL;
    }
    if (!ok) {
        gt_optimizer_free(opt);
        return NULL;
    }
    return opt;
}

static bool finite_at_least(double v, double low) { return isfinite(v) && v >= low; }

gt_optimizer *gt_sgd_new(gt_tensor *const *params, int n_params, const gt_sgd_config *config) {
    if (!config) {
        gt_set_error(GT_ERR_ARG, "sgd: config is NULL");
        return NULL;
    }
    const gt_sgd_config *c = config;
    const char *bad = !finite_at_least(c->lr, 0)             ? "lr"
                      : !finite_at_least(c->momentum, 0)     ? "momentum"
                      : !finite_at_least(c->dampening, 0)    ? "dampening"
                      : !finite_at_least(c->weight_decay, 0) ? "weight_decay"
                                                             : NULL;
    if (bad) {
        gt_set_error(GT_ERR_ARG, "sgd: %s must be a finite number >= 0 (lr %g, momentum %g, "
                     "dampening %g, weight_decay %g)", bad, c->lr, c->momentum, c->dampening,
                     c->weight_decay);
        return NULL;
    }
    if (c->nesterov && (c->momentum <= 0 || c->dampening != 0)) {
        gt_set_error(GT_ERR_ARG, "sgd: nesterov needs momentum > 0 and dampening 0 (momentum "
                     "%g, dampening %g)", c->momentum, c->dampening);
        return NULL;
    }
    if (check_params("sgd", params, n_params) != GT_OK)
        return NULL;
    gt_optimizer *opt = optimizer_new(GT_OPTIM_SGD, params, n_params, c->momentum != 0);
    if (opt)
        opt->sgd = *c;
    return opt;
}

gt_adam_config gt_adam_defaults(void) {
    return (gt_adam_config){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

gt_adam_config gt_adamw_defaults(void) {
    gt_adam_config c = gt_adam_defaults();
    c.weight_decay = 1e-2;
    return c;
}

/* A config field as the optimizer uses it: 0 is PyTorch's default, GT_OPTIM_ZERO a real 0. */
static double field_or_default(double value, double default_value) {
    return value == GT_OPTIM_ZERO ? 0 : value == 0 ? default_value : value;
}

/* Adam and AdamW share their config and its checks; `kind` picks the weight decay. */
static gt_optimizer *adam_new(gt_optimizer_kind kind, gt_tensor *const *params, int n_params,
                              const gt_adam_config *config) {
    const char *who = gt_optimizer_kind_name(kind);
    if (!config) {
        gt_set_error(GT_ERR_ARG, "%s: config is NULL", who);
        return NULL;
    }
    gt_adam_config d = kind == GT_OPTIM_ADAMW ? gt_adamw_defaults() : gt_adam_defaults();
    gt_adam_config c = {
        .lr = field_or_default(config->lr, d.lr),
        .beta1 = field_or_default(config->beta1, d.beta1),
        .beta2 = field_or_default(config->beta2, d.beta2),
        .eps = field_or_default(config->eps, d.eps),
        .weight_decay = field_or_default(config->weight_decay, d.weight_decay),
    };
    const char *bad = !finite_at_least(c.lr, 0)                   ? "lr"
                      : !finite_at_least(c.eps, 0)                ? "eps"
                      : !finite_at_least(c.weight_decay, 0)       ? "weight_decay"
                      : !(c.beta1 >= 0 && c.beta1 < 1)            ? "beta1"
                      : !(c.beta2 >= 0 && c.beta2 < 1)            ? "beta2"
                                                                  : NULL;
    if (bad) {
        gt_set_error(GT_ERR_ARG, "%s: bad %s (lr %g and eps, weight_decay >= 0; betas in "
                     "[0, 1): beta1 %g, beta2 %g, eps %g, weight_decay %g; GT_OPTIM_ZERO "
                     "asks for a real 0)", who, bad, c.lr, c.beta1, c.beta2, c.eps,
                     c.weight_decay);
        return NULL;
    }
    if (check_params(who, params, n_params) != GT_OK)
        return NULL;
    gt_optimizer *opt = optimizer_new(kind, params, n_params, 2);
    if (opt)
        opt->adam = c;
    return opt;
}

gt_optimizer *gt_adam_new(gt_tensor *const *params, int n_params,
                          const gt_adam_config *config) {
    return adam_new(GT_OPTIM_ADAM, params, n_params, config);
}

gt_optimizer *gt_adamw_new(gt_tensor *const *params, int n_params,
                           const gt_adam_config *config) {
    return adam_new(GT_OPTIM_ADAMW, params, n_params, config);
}

void gt_optimizer_free(gt_optimizer *opt) {
    if (!opt)
        return;
    for (int s = 0; s < opt->n_state; s++) {
        for (int i = 0; opt->state[s] && i < opt->n; i++)
            gt_tensor_free(opt->state[s][i]);
        gt_free(opt->state[s]);
    }
    gt_free(opt->params);
    gt_free(opt);
}

// p[n], g[n], buf[n] (NULL without momentum): one torch.optim.SGD update
GT__MULTIVERSION
static void sgd_update(const gt_sgd_config *c, bool first, int64_t n, gt_real *restrict p,
                       const gt_real *restrict g, gt_real *restrict buf) {
    const gt_real lr = (gt_real)c->lr, wd = (gt_real)c->weight_decay;
    const gt_real momentum = (gt_real)c->momentum, keep = (gt_real)(1 - c->dampening);
    /* one branch-free loop per case, so that each vectorises */
    if (!buf) {
        for (int64_t i = 0; i < n; i++)
            p[i] -= lr * (g[i] + wd * p[i]);
    } else if (first) {
        for (int64_t i = 0; i < n; i++) {
            gt_real d = g[i] + wd * p[i];
            buf[i] = d;
            p[i] -= lr * (c->nesterov ? d + momentum * d : d);
        }
    } else if (c->nesterov) {
        for (int64_t i = 0; i < n; i++) {
            gt_real d = g[i] + wd * p[i];
            buf[i] = momentum * buf[i] + keep * d;
            p[i] -= lr * (d + momentum * buf[i]);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            buf[i] = momentum * buf[i] + keep * (g[i] + wd * p[i]);
            p[i] -= lr * buf[i];
        }
    }
}

// p[n], g[n], m[n], v[n]: one torch.optim.Adam update at step t (from 1), or AdamW's when
// `decoupled` (the weight decay shrinks p before the update instead of adding to g)
GT__MULTIVERSION
static void adam_update(const gt_adam_config *c, bool decoupled, int64_t t, int64_t n,
                        gt_real *restrict p, const gt_real *restrict g, gt_real *restrict m,
                        gt_real *restrict v) {
    /* complements in double, as PyTorch passes 1 - beta from Python: 1 - 0.999f would be
     * 4.7e-5 off in float */
    const gt_real b1 = (gt_real)c->beta1, b2 = (gt_real)c->beta2;
    const gt_real wd = decoupled ? 0 : (gt_real)c->weight_decay;
    const gt_real shrink = decoupled ? (gt_real)(1 - c->lr * c->weight_decay) : 1;
    const gt_real keep1 = (gt_real)(1 - c->beta1), keep2 = (gt_real)(1 - c->beta2);
    const gt_real step_size = (gt_real)(c->lr / (1 - pow(c->beta1, (double)t)));
    const gt_real correction2_sqrt = (gt_real)sqrt(1 - pow(c->beta2, (double)t));
    const gt_real eps = (gt_real)c->eps;
    for (int64_t i = 0; i < n; i++) {
        gt_real d = g[i] + wd * p[i];
        p[i] *= shrink;
        m[i] = b1 * m[i] + keep1 * d;
        v[i] = b2 * v[i] + keep2 * d * d;
        p[i] -= step_size * m[i] / (gt__sqrt(v[i]) / correction2_sqrt + eps);
    }
}

/* An update streams four or five arrays through memory. A parameter's update is shared by
 * the threads through the library's one rule (gt__parallel_ranges), an element counting
 * as this many flops, so that only parameters of 131,072 elements or more are split: below
 * that, the second core pulls its half of the arrays from the first core's cache, where the
 * serial products left them (the MLP's 78,400 weights at batch 1: 18-19 us a step shared,
 * 14.7 alone). Elementwise, so the result is the same whatever the split. */
#define OPTIM_FLOPS_PER_ELEMENT 8.0

typedef struct update_job {
    gt_optimizer *opt;
    int i;
} update_job;

// parameter i, elements [from, to): one update
static void update_range(void *ctx, int64_t from, int64_t to) {
    const update_job *job = ctx;
    gt_optimizer *opt = job->opt;
    int i = job->i;
    gt_tensor *p = opt->params[i];
    gt_real *data = gt_tensor_data(p) + from;
    const gt_real *g = gt_tensor_grad(p) + from;
    if (opt->kind == GT_OPTIM_SGD)
        sgd_update(&opt->sgd, opt->steps == 0, to - from, data, g,
                   opt->n_state ? gt_tensor_data(opt->state[0][i]) + from : NULL);
    else
        adam_update(&opt->adam, opt->kind == GT_OPTIM_ADAMW, opt->steps + 1, to - from, data,
                    g, gt_tensor_data(opt->state[0][i]) + from,
                    gt_tensor_data(opt->state[1][i]) + from);
}

gt_status gt_optimizer_step(gt_optimizer *opt) {
    if (!opt)
        return gt_set_error(GT_ERR_ARG, "optimizer_step: optimizer is NULL");
    for (int i = 0; i < opt->n; i++) {
        if (!gt_tensor_grad(opt->params[i]))
            continue;
        int64_t n = gt_tensor_numel(opt->params[i]);
        update_job job = {opt, i};
        gt__parallel_ranges(n, 16, OPTIM_FLOPS_PER_ELEMENT * (double)n, update_range, &job);
    }
    opt->steps++;
    return GT_OK;
}

void gt_optimizer_zero_grad(gt_optimizer *opt) {
    for (int i = 0; opt && i < opt->n; i++)
        gt_tensor_zero_grad(opt->params[i]);
}

gt_optimizer_kind gt_optimizer_get_kind(const gt_optimizer *opt) {
    return opt ? opt->kind : GT_OPTIM_SGD;
}

const char *gt_optimizer_kind_name(gt_optimizer_kind kind) {
    return kind == GT_OPTIM_SGD     ? "sgd"
           : kind == GT_OPTIM_ADAM  ? "adam"
           : kind == GT_OPTIM_ADAMW ? "adamw"
                                    : "?";
}

int64_t gt_optimizer_steps(const gt_optimizer *opt) { return opt ? opt->steps : 0; }

double gt_optimizer_lr(const gt_optimizer *opt) {
    return !opt ? 0 : opt->kind == GT_OPTIM_SGD ? opt->sgd.lr : opt->adam.lr;
}

void gt_optimizer_set_lr(gt_optimizer *opt, double lr) {
    if (!opt || !finite_at_least(lr, 0))
        return;
    if (opt->kind == GT_OPTIM_SGD)
        opt->sgd.lr = lr;
    else
        opt->adam.lr = lr;
}

/* ---- state for checkpoints (used by model_io.c) ---------------------------------------- */

int gt__optimizer_state_entries(const gt_optimizer *opt, gt_ckpt_entry *entries,
                                char (*names)[GT__STATE_NAME_SIZE], int max) {
    if (opt->n_state * opt->n > max)
        return -1;
    int k = 0;
    for (int s = 0; s < opt->n_state; s++)
        for (int i = 0; i < opt->n; i++, k++) {
            snprintf(names[k], sizeof names[k], "optimizer.%s.%d", state_names[opt->kind][s], i);
            entries[k] = (gt_ckpt_entry){names[k], opt->state[s][i]};
        }
    return k;
}

void gt__optimizer_set_steps(gt_optimizer *opt, int64_t steps) { opt->steps = steps; }

bool gt__optimizer_is_over(const gt_optimizer *opt, gt_tensor *const *params, int n) {
    if (opt->n != n)
        return false;
    for (int i = 0; i < n; i++)
        if (opt->params[i] != params[i])
            return false;
    return true;
}
