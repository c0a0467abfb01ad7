/* optim.c - sgd() and step(): the library's torch.optim.SGD (gt_sgd_new) over the session's
 * parameters. The optimizer holds a reference to each parameter's box, so a parameter it
 * updates stays alive while the optimizer does. */
#include "builtins.h"

#include <math.h>
#include <string.h>

struct repl_opt {
    double lr, momentum;
    int n;
    obj **params; /* a reference to each parameter's box */
    gt_optimizer *sgd;
};

void optim_free(repl *r, repl_opt *opt) {
    if (!opt)
        return;
    for (int i = 0; i < opt->n; i++)
        value_release(r, (value){.kind = V_TENSOR, .box = opt->params[i]});
    gt_optimizer_free(opt->sgd);
    gt_free(opt->params);
    gt_free(opt);
}

void optim_describe(const repl_opt *opt, FILE *out) {
    fprintf(out, "sgd(lr=%g, momentum=%g): %d parameter%s, %lld step%s", opt->lr,
            opt->momentum, opt->n, opt->n == 1 ? "" : "s", (long long)gt_optimizer_steps(opt->sgd),
            gt_optimizer_steps(opt->sgd) == 1 ? "" : "s");
}

/* lr and momentum, by keyword or in that order. */
static bool sgd_config(repl *r, const call_args *a, double *lr, double *momentum) {
    bool have_lr = false;
    for (int i = 0; i < a->n; i++) {
        const char *kw = a->kw[i];
        double *slot = (kw ? !strcmp(kw, "lr") : i == 0)         ? lr
                       : (kw ? !strcmp(kw, "momentum") : i == 1) ? momentum
                                                                 : NULL;
        if (!slot)
            return repl_fail(r, kw ? a->call->kwcols[i] : a->cols[i],
                             "sgd: takes lr and momentum only; usage: sgd(lr=0.1, momentum=0.9)");
        if (!arg_number(r, a, i, slot))
            return false;
        have_lr = have_lr || slot == lr;
    }
    if (!have_lr)
        return repl_fail(r, a->call->col, "sgd: needs a learning rate: sgd(lr=0.1)");
    if (!isfinite(*lr) || *lr < 0)
        return repl_fail(r, a->call->col, "sgd: lr must be a finite number >= 0, not %g", *lr);
    if (!(*momentum >= 0 && *momentum < 1))
        return repl_fail(r, a->call->col, "sgd: momentum must be in [0, 1), not %g", *momentum);
    return true;
}

bool b_sgd(repl *r, const call_args *a, value *out) {
    double lr = 0, momentum = 0;
    if (!sgd_config(r, a, &lr, &momentum))
        return false;
    if (r->n_params == 0)
        return repl_fail(r, a->call->col, "sgd: no parameters yet: make some with param()");
    repl_opt *opt = gt_calloc(1, sizeof *opt, "sgd");
    gt_tensor **tensors = gt_calloc((size_t)r->n_params, sizeof *tensors, "sgd");
    if (opt) {
        *opt = (repl_opt){.lr = lr, .momentum = momentum};
        opt->params = gt_calloc((size_t)r->n_params, sizeof *opt->params, "sgd");
    }
    bool ok = opt && tensors && opt->params;
    for (int i = 0; ok && i < r->n_params; i++) {
        tensors[i] = r->params[i]->tensor;
        opt->params[opt->n++] = r->params[i];
        r->params[i]->refs++;
    }
    if (ok)
        ok = (opt->sgd = gt_sgd_new(tensors, r->n_params,
                                    &(gt_sgd_config){.lr = lr, .momentum = momentum})) != NULL;
    gt_free(tensors);
    if (!ok) {
        optim_free(r, opt);
        return repl_fail_lib(r, a->call->col);
    }
    return value_opt(r, opt, out);
}

bool b_step(repl *r, const call_args *a, value *out) {
    (void)out;
    if (!arity(r, a, 1, 1))
        return false;
    if (a->vals[0].kind != V_OPT)
        return repl_fail(r, a->cols[0], "step: expected an optimizer made by sgd(), got a %s",
                         value_kind_name(a->vals[0]));
    /* Graphs recorded before the update would differentiate stale values: they go, and the
     * names holding them get heap copies, made first so that running out changes nothing. */
    if (!repl_reset_tape_prepare(r))
        return repl_fail_lib(r, a->call->col);
    if (gt_optimizer_step(a->vals[0].box->opt->sgd) != GT_OK) {
        repl_reset_tape_cancel(r);
        return repl_fail_lib(r, a->call->col);
    }
    repl_reset_tape_commit(r);
    return true;
}
