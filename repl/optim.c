/* optim.c - optimizers and learning-rate schedules: sgd(), adam(), adamw() are the library's
 * torch.optim.SGD, Adam and AdamW (models/optim.c, the ones gradtape-train uses) over the
 * given parameters or every parameter made so far; cosine() step_lr() and linear_lr() are
 * torch.optim.lr_scheduler's CosineAnnealingLR, StepLR and LinearLR; step() and zero_grad() drive
 * them. An optimizer holds a reference to each parameter's box, so a parameter it updates
 * (and the model owning it) stays alive while the optimizer does. */
#include "builtins.h"

#include <math.h>
#include <string.h>

struct repl_opt {
    int n;
    obj **params; /* a reference to each parameter's box */
    gt_optimizer *opt;
    double momentum, dampening, beta1, beta2, eps, weight_decay; /* for describing it */
    bool nesterov;
    bool has_initial_lr; /* set by its first schedule: the lr every schedule starts from */
    double initial_lr;
};

void optim_free(repl *r, repl_opt *opt) {
    if (!opt)
        return;
    for (int i = 0; i < opt->n; i++)
        value_release(r, (value){.kind = V_TENSOR, .box = opt->params[i]});
    gt_optimizer_free(opt->opt);
    gt_free(opt->params);
    gt_free(opt);
}

gt_optimizer *repl_opt_optimizer(const repl_opt *opt) { return opt->opt; }

void optim_describe(const repl_opt *opt, FILE *out) {
    gt_optimizer_kind kind = gt_optimizer_get_kind(opt->opt);
    fprintf(out, "%s(lr=%g", gt_optimizer_kind_name(kind), gt_optimizer_lr(opt->opt));
    if (kind == GT_OPTIM_SGD) {
        fprintf(out, ", momentum=%g", opt->momentum);
        if (opt->dampening)
            fprintf(out, ", dampening=%g", opt->dampening);
        if (opt->weight_decay)
            fprintf(out, ", weight_decay=%g", opt->weight_decay);
        if (opt->nesterov)
            fprintf(out, ", nesterov=True");
    } else {
        fprintf(out, ", betas=[%g, %g], eps=%g, weight_decay=%g", opt->beta1, opt->beta2,
                opt->eps, opt->weight_decay);
    }
    int64_t steps = gt_optimizer_steps(opt->opt);
    fprintf(out, "): %d parameter%s, %lld step%s", opt->n, opt->n == 1 ? "" : "s",
            (long long)steps, steps == 1 ? "" : "s");
}

/* The parameters an optimizer takes: the list (or single tensor) at argument i, or every
 * parameter made by param() when i < 0. Each box gets a reference held by opt. */
static bool opt_params(repl *r, const call_args *a, int i, repl_opt *opt, gt_tensor ***tensors) {
    const char *who = a->call->text;
    obj *single = NULL, **boxes = r->params;
    int n = r->n_params;
    if (i >= 0) {
        value v = a->vals[i];
        if (v.kind == V_TENSOR) {
            single = v.box;
            boxes = &single;
            n = 1;
        } else if (v.kind == V_LIST) {
            n = v.box->list->n;
            for (int k = 0; k < n; k++)
                if (v.box->list->items[k].kind != V_TENSOR)
                    return repl_fail(r, a->cols[i], "%s: params must be tensors, item %d is "
                                     "%s", who, k, value_kind_phrase(v.box->list->items[k]));
            boxes = NULL;
        } else {
            return repl_fail(r, a->cols[i], "%s: params must be a list of tensors such as "
                             "parameters(m), not %s", who, value_kind_phrase(v));
        }
    }
    if (n == 0)
        return repl_fail(r, i >= 0 ? a->cols[i] : a->call->col, "%s: no parameters%s", who,
                         i >= 0 ? " in the list" : " yet: make some with param() or pass "
                                                    "parameters(m)");
    opt->params = gt_calloc((size_t)n, sizeof *opt->params, "optimizer");
    *tensors = gt_calloc((size_t)n, sizeof **tensors, "optimizer");
    if (!opt->params || !*tensors)
        return repl_fail_lib(r, a->call->col);
    for (int k = 0; k < n; k++) {
        obj *box = boxes ? boxes[k] : a->vals[i].box->list->items[k].box;
        if (!box->tensor)
            return repl_fail(r, a->cols[i], "%s: parameter %d was lost when the tape was reset "
                             "(out of memory)", who, k);
        (*tensors)[k] = box->tensor;
        opt->params[opt->n++] = box;
        box->refs++;
    }
    return true;
}

/* Makes the optimizer: args[0] is params; numbers from the others into fields. */
enum { O_PARAMS, O_LR, O_MOMENTUM, O_DAMPENING, O_WEIGHT_DECAY, O_NESTEROV, O_BETAS, O_EPS,
       O_COUNT };

static bool make_optimizer(repl *r, const call_args *a, gt_optimizer_kind kind, value *out) {
    static const char *const sgd_names[] = {"params", "lr", "momentum", "dampening",
                                            "weight_decay", "nesterov"};
    static const char *const adam_names[] = {"params", "lr", "betas", "eps", "weight_decay"};
    static const int adam_slots[] = {O_PARAMS, O_LR, O_BETAS, O_EPS, O_WEIGHT_DECAY};
    const char *usage = kind == GT_OPTIM_SGD
                            ? "sgd(params?, lr, momentum=0, dampening=0, weight_decay=0, "
                              "nesterov=False)"
                        : kind == GT_OPTIM_ADAM
                            ? "adam(params?, lr=0.001, betas=[0.9, 0.999], eps=1e-8, "
                              "weight_decay=0)"
                            : "adamw(params?, lr=0.001, betas=[0.9, 0.999], eps=1e-8, "
                              "weight_decay=0.01)";
    int idx[O_COUNT], got[6];
    /* params is optional: a first positional number is the learning rate (sgd(0.1)) */
    bool first_is_params = a->n > 0 && !a->kw[0] &&
                           (a->vals[0].kind == V_LIST || a->vals[0].kind == V_TENSOR);
    int n_names = kind == GT_OPTIM_SGD ? 6 : 5;
    if (!match_args(r, a, usage, kind == GT_OPTIM_SGD ? sgd_names : adam_names, n_names,
                    first_is_params ? 0 : 1, got))
        return false;
    for (int k = 0; k < O_COUNT; k++)
        idx[k] = -1;
    for (int k = 0; k < n_names; k++)
        idx[kind == GT_OPTIM_SGD ? k : adam_slots[k]] = got[k];
    double v[O_COUNT] = {0};
    for (int k = O_LR; k < O_COUNT; k++)
        if (idx[k] >= 0 && k != O_BETAS && k != O_NESTEROV && !arg_number(r, a, idx[k], &v[k]))
            return false;
    bool nesterov = false;
    if (idx[O_NESTEROV] >= 0 && !arg_truth(r, a, idx[O_NESTEROV], &nesterov))
        return false;
    repl_opt *opt = gt_calloc(1, sizeof *opt, "optimizer");
    if (!opt)
        return repl_fail_lib(r, a->call->col);
    gt_tensor **tensors = NULL;
    bool ok = true;
    if (kind == GT_OPTIM_SGD) {
        if (idx[O_LR] < 0) {
            ok = repl_fail(r, a->call->col, "sgd: needs a learning rate: sgd(lr=0.1)");
        } else if (!isfinite(v[O_LR]) || v[O_LR] < 0) {
            ok = repl_fail(r, a->cols[idx[O_LR]], "sgd: lr must be a finite number >= 0, "
                           "not %g", v[O_LR]);
        } else if ((ok = opt_params(r, a, idx[O_PARAMS], opt, &tensors))) {
            *opt = (repl_opt){.n = opt->n, .params = opt->params, .momentum = v[O_MOMENTUM],
                              .dampening = v[O_DAMPENING],
                              .weight_decay = v[O_WEIGHT_DECAY], .nesterov = nesterov};
            gt_sgd_config c = {.lr = v[O_LR], .momentum = v[O_MOMENTUM],
                               .dampening = v[O_DAMPENING],
                               .weight_decay = v[O_WEIGHT_DECAY], .nesterov = nesterov};
            if (!(opt->opt = gt_sgd_new(tensors, opt->n, &c)))
                ok = repl_fail_lib(r, a->call->col);
        }
    } else {
        gt_adam_config d = kind == GT_OPTIM_ADAM ? gt_adam_defaults() : gt_adamw_defaults();
        double b[2] = {d.beta1, d.beta2};
        if (idx[O_BETAS] >= 0) {
            value bv = a->vals[idx[O_BETAS]];
            repl_list *l = bv.kind == V_LIST ? bv.box->list : NULL;
            const gt_tensor *t = bv.kind == V_TENSOR ? bv.box->tensor : NULL;
                if (l && l->n == 2 && value_as_number(l->items[0], &b[0]) &&
                value_as_number(l->items[1], &b[1])) {
                /* read */
            } else if (t && gt_tensor_ndim(t) == 1 && gt_tensor_numel(t) == 2) {
                b[0] = gt_tensor_cdata(t)[0];
                b[1] = gt_tensor_cdata(t)[1];
            } else {
                ok = repl_fail(r, a->cols[idx[O_BETAS]], "%s: betas must be two numbers such "
                               "as [0.9, 0.999]", a->call->text);
            }
        }
        /* the library reads a field's 0 as PyTorch's default: a real 0 is GT_OPTIM_ZERO */
        double lr = idx[O_LR] >= 0 ? v[O_LR] : d.lr;
        double eps = idx[O_EPS] >= 0 ? v[O_EPS] : d.eps;
        double wd = idx[O_WEIGHT_DECAY] >= 0 ? v[O_WEIGHT_DECAY] : d.weight_decay;
        if (ok && (ok = opt_params(r, a, idx[O_PARAMS], opt, &tensors))) {
            opt->beta1 = b[0];
            opt->beta2 = b[1];
            opt->eps = eps;
            opt->weight_decay = wd;
            if (!(lr >= 0 && b[0] >= 0 && b[1] >= 0 && eps >= 0 && wd >= 0)) {
                ok = repl_fail(r, a->call->col, "%s: lr, betas, eps and weight_decay must be "
                               ">= 0", a->call->text);
            } else {
#define REAL(x) ((x) == 0 ? GT_OPTIM_ZERO : (x))
                gt_adam_config c = {.lr = REAL(lr), .beta1 = REAL(b[0]), .beta2 = REAL(b[1]),
                                    .eps = REAL(eps), .weight_decay = REAL(wd)};
#undef REAL
                opt->opt = kind == GT_OPTIM_ADAM ? gt_adam_new(tensors, opt->n, &c)
                                                 : gt_adamw_new(tensors, opt->n, &c);
                if (!opt->opt)
                    ok = repl_fail_lib(r, a->call->col);
            }
        }
    }
    gt_free(tensors);
    if (!ok) {
        optim_free(r, opt);
        return false;
    }
    return value_opt(r, opt, out);
}

static bool b_sgd(repl *r, const call_args *a, value *out) {
    return make_optimizer(r, a, GT_OPTIM_SGD, out);
}

static bool b_adam(repl *r, const call_args *a, value *out) {
    return make_optimizer(r, a, GT_OPTIM_ADAM, out);
}

static bool b_adamw(repl *r, const call_args *a, value *out) {
    return make_optimizer(r, a, GT_OPTIM_ADAMW, out);
}

/* ---- schedules ------------------------------------------------------------------------- */

/* torch.optim.lr_scheduler's CosineAnnealingLR, StepLR and LinearLR in PyTorch's chainable
 * form: each step(s) computes the next lr from the optimizer's lr now (get_lr), so that two
 * schedules on one optimizer compose as in PyTorch (a LinearLR warm-up with a cosine, both
 * stepped), and the first schedule records the optimizer's lr as its initial_lr, the base
 * every later one starts from. At epoch t (steps so far), lr the optimizer's lr:
 *   cosine   (1 + cos(pi t / T)) / (1 + cos(pi (t - 1) / T)) * (lr - eta_min) + eta_min,
 *            or lr + (base - eta_min) (1 - cos(pi / T)) / 2 when (t - 1 - T) % 2T == 0
 *   step_lr  lr * gamma when t % step_size == 0, else lr
 *   linear   lr * start_factor when made; then lr * (1 + (end - start) / (total * start +
 *            (t - 1) (end - start))) while t <= total_iters */
typedef enum schedule_kind { SCHED_COSINE, SCHED_STEP, SCHED_LINEAR } schedule_kind;

typedef struct schedule {
    obj *opt; /* the optimizer's box, referenced */
    schedule_kind kind;
    double base_lr, a, b, n; /* cosine: eta_min, -, T_max; step: gamma, -, step_size;
                                linear: start_factor, end_factor, total_iters */
    int64_t epoch;
} schedule;

static void schedule_free(repl *r, void *self) {
    schedule *s = self;
    value_release(r, (value){.kind = V_OPT, .box = s->opt});
    gt_free(s);
}

static double schedule_next_lr(const schedule *s, double lr) {
    const double pi = 3.14159265358979323846;
    double t = (double)s->epoch;
    switch (s->kind) {
    case SCHED_COSINE:
        if (fmod(t - 1 - s->n, 2 * s->n) == 0)
            return lr + (s->base_lr - s->a) * (1 - cos(pi / s->n)) / 2;
        return (1 + cos(pi * t / s->n)) / (1 + cos(pi * (t - 1) / s->n)) * (lr - s->a) + s->a;
    case SCHED_STEP:
        return fmod(t, s->n) == 0 ? lr * s->a : lr;
    default:
        if (t > s->n)
            return lr;
        return lr * (1 + (s->b - s->a) / (s->n * s->a + (t - 1) * (s->b - s->a)));
    }
}

static void schedule_describe(repl *r, const void *self, FILE *out) {
    (void)r;
    const schedule *s = self;
    if (s->kind == SCHED_COSINE)
        fprintf(out, "cosine(T_max=%g, eta_min=%g)", s->n, s->a);
    else if (s->kind == SCHED_STEP)
        fprintf(out, "step_lr(step_size=%g, gamma=%g)", s->n, s->a);
    else
        fprintf(out, "linear_lr(start_factor=%g, end_factor=%g, total_iters=%g)", s->a, s->b,
                s->n);
    fprintf(out, ": epoch %lld, lr %g", (long long)s->epoch, gt_optimizer_lr(s->opt->opt->opt));
}

static const repl_class schedule_class = {"schedule", "a schedule", schedule_free,
                                          schedule_describe, NULL, NULL, NULL, NULL};

/* cosine(opt, T_max, eta_min=0), step_lr(opt, step_size, gamma=0.1),
 * linear_lr(opt, start_factor=1/3, end_factor=1, total_iters=5) */
static bool make_schedule(repl *r, const call_args *a, schedule_kind kind, value *out) {
    static const char *const names[][4] = {{"opt", "T_max", "eta_min"},
                                           {"opt", "step_size", "gamma"},
                                           {"opt", "start_factor", "end_factor", "total_iters"}};
    static const char *const usages[] = {
        "cosine(opt, T_max, eta_min=0)", "step_lr(opt, step_size, gamma=0.1)",
        "linear_lr(opt, start_factor=1/3, end_factor=1, total_iters=5)"};
    const char *usage = usages[kind], *who = a->call->text;
    int idx[4], n_names = kind == SCHED_LINEAR ? 4 : 3;
    /* x[k]: the number named names[kind][k + 1], or its default */
    double x[3] = {kind == SCHED_LINEAR ? 1.0 / 3 : 0, kind == SCHED_STEP ? 0.1
                                                       : kind == SCHED_LINEAR ? 1 : 0, 5};
    if (!match_args(r, a, usage, names[kind], n_names, 0, idx))
        return false;
    if (idx[0] < 0 || (kind != SCHED_LINEAR && idx[1] < 0))
        return repl_fail(r, a->call->col, "%s: needs an optimizer%s%s; usage: %s", who,
                         kind == SCHED_LINEAR ? "" : " and ",
                         kind == SCHED_LINEAR ? "" : names[kind][1], usage);
    if (a->vals[idx[0]].kind != V_OPT)
        return repl_fail(r, a->cols[idx[0]], "%s: expected an optimizer (sgd, adam, adamw), "
                         "got %s", who, value_kind_phrase(a->vals[idx[0]]));
    for (int k = 1; k < n_names; k++)
        if (idx[k] >= 0 && !arg_number(r, a, idx[k], &x[k - 1]))
            return false;
    /* the count (T_max, step_size, total_iters) and the factors */
    double count = kind == SCHED_LINEAR ? x[2] : x[0], f = kind == SCHED_LINEAR ? x[0] : x[1];
    int count_at = idx[kind == SCHED_LINEAR ? 3 : 1], f_at = idx[kind == SCHED_LINEAR ? 1 : 2];
    if (!(count >= 1 && count == floor(count) && count <= 1e15))
        return repl_fail(r, count_at >= 0 ? a->cols[count_at] : a->call->col,
                         "%s: %s must be a whole number >= 1, not %g", who,
                         names[kind][kind == SCHED_LINEAR ? 3 : 1], count);
    bool f_ok = kind == SCHED_COSINE ? isfinite(f) && f >= 0
                : kind == SCHED_STEP ? isfinite(f) && f > 0
                                     : f > 0 && f <= 1;
    if (!f_ok)
        return repl_fail(r, f_at >= 0 ? a->cols[f_at] : a->call->col, "%s: %s must be %s, not "
                         "%g", who, names[kind][kind == SCHED_LINEAR ? 1 : 2],
                         kind == SCHED_COSINE ? "a finite number >= 0"
                         : kind == SCHED_STEP ? "a finite number > 0"
                                              : "in (0, 1]", f);
    if (kind == SCHED_LINEAR && !(x[1] >= 0 && x[1] <= 1))
        return repl_fail(r, idx[2] >= 0 ? a->cols[idx[2]] : a->call->col, "%s: end_factor "
                         "must be in [0, 1], not %g", who, x[1]);
    schedule *sc = gt_calloc(1, sizeof *sc, "schedule");
    if (!sc)
        return repl_fail_lib(r, a->call->col);
    obj *box = a->vals[idx[0]].box;
    repl_opt *opt = box->opt;
    if (!opt->has_initial_lr) {
        opt->initial_lr = gt_optimizer_lr(opt->opt);
        opt->has_initial_lr = true;
    }
    *sc = (schedule){.opt = box, .kind = kind, .base_lr = opt->initial_lr, .a = f,
                     .b = kind == SCHED_LINEAR ? x[1] : 0, .n = count};
    box->refs++;
    if (!value_object(r, &schedule_class, sc, out))
        return false;
    if (kind == SCHED_LINEAR) { /* LinearLR starts at start_factor times the lr */
        if (!r->undo_lr) { /* the statement's first change: what a failure puts back */
            r->undo_lr = box;
            r->undo_lr_value = gt_optimizer_lr(opt->opt);
            box->refs++;
        }
        gt_optimizer_set_lr(opt->opt, gt_optimizer_lr(opt->opt) * f);
    }
    return true;
}

static bool b_cosine(repl *r, const call_args *a, value *out) {
    return make_schedule(r, a, SCHED_COSINE, out);
}

static bool b_step_lr(repl *r, const call_args *a, value *out) {
    return make_schedule(r, a, SCHED_STEP, out);
}

static bool b_linear_lr(repl *r, const call_args *a, value *out) {
    return make_schedule(r, a, SCHED_LINEAR, out);
}

/* ---- step and zero_grad ----------------------------------------------------------------- */

static bool b_step(repl *r, const call_args *a, value *out) {
    (void)out;
    if (!arity(r, a, 1, 1))
        return false;
    value v = a->vals[0];
    if (v.kind == V_OBJ && v.box->cls == &schedule_class) { /* scheduler.step() */
        schedule *s = v.box->self;
        gt_optimizer *opt = s->opt->opt->opt;
        s->epoch++;
        gt_optimizer_set_lr(opt, schedule_next_lr(s, gt_optimizer_lr(opt)));
        return true;
    }
    if (v.kind != V_OPT)
        return repl_fail(r, a->cols[0], "step: expected an optimizer (sgd, adam, adamw) or a "
                         "schedule (cosine, step_lr, linear_lr), got %s", value_kind_phrase(v));
    /* Graphs recorded before the update would differentiate stale values: they go, and the
     * names holding them get heap copies, made first so that running out changes nothing. */
    if (!repl_reset_tape_prepare(r))
        return repl_fail_lib(r, a->call->col);
    if (gt_optimizer_step(v.box->opt->opt) != GT_OK) {
        repl_reset_tape_cancel(r);
        return repl_fail_lib(r, a->call->col);
    }
    repl_reset_tape_commit(r);
    return true;
}

/* zero_grad(opt) or zero_grad(m): every gradient of the optimizer's or the model's
 * parameters; true when the argument was one of those (else autograd.c handles it). */
bool optim_zero_grad(repl *r, const call_args *a) {
    (void)r;
    if (a->n != 1 || a->kw[0])
        return false;
    gt_model *model = value_model(a->vals[0]);
    if (model)
        gt_model_zero_grad(model);
    else if (a->vals[0].kind == V_OPT)
        gt_optimizer_zero_grad(a->vals[0].box->opt->opt);
    return model || a->vals[0].kind == V_OPT;
}

static const struct builtin_info rows[] = {
    {"sgd", b_sgd, "sgd(params?, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False)",
     "torch.optim.SGD over params (a list such as parameters(m), or every parameter made "
     "by param() when left out)", B_IMPURE},
    {"adam", b_adam, "adam(params?, lr=0.001, betas=[0.9, 0.999], eps=1e-8, weight_decay=0)",
     "torch.optim.Adam over params (a list such as parameters(m), or every parameter made "
     "by param() when left out)", B_IMPURE},
    {"adamw", b_adamw,
     "adamw(params?, lr=0.001, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.01)",
     "torch.optim.AdamW (weight decay decoupled from the gradient) over params", B_IMPURE},
    {"cosine", b_cosine, "cosine(opt, T_max, eta_min=0)",
     "torch.optim.lr_scheduler.CosineAnnealingLR: each step(s) moves the optimizer's lr along "
     "half a cosine from its lr now to eta_min over T_max steps", B_IMPURE},
    {"step_lr", b_step_lr, "step_lr(opt, step_size, gamma=0.1)",
     "torch.optim.lr_scheduler.StepLR: the optimizer's lr times gamma every step_size "
     "step(s)", B_IMPURE},
    {"linear_lr", b_linear_lr, "linear_lr(opt, start_factor=1/3, end_factor=1, total_iters=5)",
     "torch.optim.lr_scheduler.LinearLR, a warm-up: the optimizer's lr times start_factor "
     "at once, rising linearly to end_factor times it over total_iters step(s); schedules "
     "chain as in PyTorch (step a linear_lr and a cosine of one optimizer both)", B_IMPURE},
    {"step", b_step, "step(opt) or step(schedule)",
     "one update of the optimizer's parameters from their gradients (optimizer.step()); "
     "or the next learning rate of a schedule (scheduler.step())", B_IMPURE},
};

const struct builtin_info *optim_builtin_table(int *count) {
    *count = (int)(sizeof rows / sizeof rows[0]);
    return rows;
}
