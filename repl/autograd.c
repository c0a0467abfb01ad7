/* autograd.c - builtins for parameters and gradients: param, backward, grad, zero_grad,
 * gradcheck, gradgradcheck. */
#include "builtins.h"
#include "eval.h"

#include <string.h>

bool b_param(repl *r, const call_args *a, value *out) {
    gt_tensor *src = NULL;
    if (!arity(r, a, 1, 1) || !value_to_tensor(r, a->vals[0], a->cols[0], &src))
        return false;
    gt_tensor *t = gt_tensor_clone(src);
    if (!t || gt_tensor_set_requires_grad(t, true) != GT_OK) {
        gt_tensor_free(t);
        return repl_fail_lib(r, a->cols[0]);
    }
    if (!value_tensor(r, t, NULL, out))
        return false;
    if (!repl_add_param(r, out->box)) {
        value_release(r, *out);
        *out = value_none();
        return false;
    }
    return true;
}

/* The parameter held by argument i: a heap tensor that requires a gradient. */
static bool arg_param(repl *r, const call_args *a, int i, gt_tensor **t) {
    value v = a->vals[i];
    if (v.kind != V_TENSOR || !v.box->tensor)
        return repl_fail(r, a->cols[i], "%s: expected a parameter, got %s", a->call->text,
                         value_kind_phrase(v));
    if (v.box->tape)
        return repl_fail(r, a->cols[i], "%s: this is an intermediate result, not a parameter: "
                         "only parameters (made with param()) keep a gradient", a->call->text);
    if (!gt_tensor_requires_grad(v.box->tensor))
        return repl_fail(r, a->cols[i], "%s: this tensor does not require a gradient: make it "
                         "a parameter with param()", a->call->text);
    *t = v.box->tensor;
    return true;
}

bool b_backward(repl *r, const call_args *a, value *out) {
    (void)out;
    if (!arity(r, a, 1, 2))
        return false;
    value y = a->vals[0];
    if (y.kind != V_TENSOR)
        return repl_fail(r, a->cols[0], "backward: expected a tensor, got %s",
                         value_kind_phrase(y));
    if (!y.box->tape && gt_tensor_requires_grad(y.box->tensor))
        return repl_fail(r, a->cols[0], "backward: this is a parameter itself; call backward "
                         "on a result computed from parameters");
    if (y.box->tape != r->tape || !gt_tensor_requires_grad(y.box->tensor))
        return repl_fail(r, a->cols[0], "backward: this tensor has no graph: it does not "
                         "depend on a parameter, or an earlier backward() or step() freed its "
                         "graph (as in PyTorch)");
    gt_tensor *g = NULL;
    if (a->n == 2 && !arg_tensor(r, a, 1, &g))
        return false;
    if (!g && gt_tensor_numel(y.box->tensor) != 1) {
        char buf[200];
        gt_tensor *t = y.box->tensor;
        return repl_fail(r, a->cols[0], "backward: this tensor has shape %s, not one element; "
                         "pass the upstream gradient too: backward(y, g)",
                         gt_shape_str(gt_tensor_ndim(t), gt_tensor_shape(t), buf, sizeof buf));
    }
    /* The names holding graphs get heap copies first: if memory runs out, nothing changed. */
    if (!repl_reset_tape_prepare(r))
        return repl_fail_lib(r, a->cols[0]);
    gt_status status = g ? gt_backward_with(r->tape, y.box->tensor, g)
                         : gt_backward(r->tape, y.box->tensor);
    if (status != GT_OK) {
        repl_reset_tape_cancel(r);
        return repl_fail_lib(r, a->cols[0]);
    }
    repl_reset_tape_commit(r);
    return true;
}

/* grad(y, x1, x2, ..., create_graph=False): torch.autograd.grad, the gradients of y (one
 * element) with respect to x1, x2, ... as new tensors on the session's tape, .grad untouched;
 * with create_graph they are recorded, so that backward() or grad() can differentiate them
 * again. One x gives a tensor, several a list. */
static bool grad_of(repl *r, const call_args *a, value *out) {
    bool create_graph = false;
    gt_tensor *xs[REPL_MAX_ARGS];
    int n = 0, y_at = -1;
    for (int i = 0; i < a->n; i++) {
        if (a->kw[i] && !strcmp(a->kw[i], "create_graph")) {
            if (!value_truth(r, a->vals[i], a->cols[i], &create_graph))
                return false;
        } else if (a->kw[i]) {
            return repl_fail(r, a->call->kwcols[i], "grad: no argument named %s "
                             "(create_graph)", a->kw[i]);
        } else if (a->vals[i].kind != V_TENSOR || !a->vals[i].box->tensor) {
            return repl_fail(r, a->cols[i], "grad: expected a tensor, got %s",
                             value_kind_phrase(a->vals[i]));
        } else if (y_at < 0) {
            y_at = i;
        } else {
            xs[n++] = a->vals[i].box->tensor;
        }
    }
    if (y_at < 0 || n == 0)
        return repl_fail(r, a->call->col, "grad: grad(y, x1, ..., create_graph=False) needs y "
                         "and at least one x");
    value y = a->vals[y_at];
    if (y.box->tape != r->tape || !gt_tensor_requires_grad(y.box->tensor))
        return repl_fail(r, a->cols[y_at], "grad: y has no graph: it does not depend on a "
                         "parameter, or backward() or step() freed its graph");
    gt_tensor *grads[REPL_MAX_ARGS];
    if (gt_grad(r->tape, &y.box->tensor, 1, xs, n, NULL, create_graph, grads) != GT_OK)
        return repl_fail_lib(r, a->cols[y_at]);
    if (n == 1)
        return value_tensor(r, grads[0], r->tape, out);
    if (!value_list(r, n, out))
        return false;
    for (int i = 0; i < n; i++) {
        value g = value_none();
        bool ok = value_tensor(r, grads[i], r->tape, &g) &&
                  list_append(r, out->box->list, g, a->call->col);
        value_release(r, g);
        if (!ok) {
            value_release(r, *out);
            *out = value_none();
            return false;
        }
    }
    return true;
}

bool b_grad(repl *r, const call_args *a, value *out) {
    if (a->n >= 2)
        return grad_of(r, a, out);
    gt_tensor *p = NULL;
    if (!arity(r, a, 1, 1) || !arg_param(r, a, 0, &p))
        return false;
    const gt_real *g = gt_tensor_grad(p);
    gt_tensor *t = g ? gt_from_array(gt_tensor_ndim(p), gt_tensor_shape(p), g)
                     : gt_zeros(gt_tensor_ndim(p), gt_tensor_shape(p));
    if (!t)
        return repl_fail_lib(r, a->call->col);
    return value_tensor(r, t, NULL, out);
}

bool b_zero_grad(repl *r, const call_args *a, value *out) {
    (void)out;
    if (optim_zero_grad(r, a))
        return true;
    if (!arity(r, a, 0, REPL_MAX_ARGS))
        return false;
    gt_tensor *p = NULL;
    for (int i = 0; i < a->n; i++)
        if (!arg_param(r, a, i, &p))
            return false;
    for (int i = 0; i < a->n; i++)
        gt_tensor_zero_grad(a->vals[i].box->tensor);
    for (int i = 0; a->n == 0 && i < r->n_params; i++)
        gt_tensor_zero_grad(r->params[i]->tensor);
    return true;
}

/* ---- gradcheck -------------------------------------------------------------------------- */

typedef struct gradcheck_ctx {
    repl *r;
    const node *expr; /* an expression, or a name holding a function of the parameters */
    const value *params;
    int n_params;
    bool failed; /* r->err holds the REPL's message */
} gradcheck_ctx;

/* The column where an expression starts (a binary node sits at its operator). */
static int start_col(const node *n) {
    while (n->kind == N_BINARY)
        n = n->kids[0];
    return n->col;
}

/* Evaluates the saved expression on gradcheck's tape; the inputs are the very tensors the
 * names hold, nudged in place by gt_gradcheck. */
static gt_tensor *eval_expr(gt_tape *tape, gt_tensor *const *inputs, void *data) {
    gradcheck_ctx *ctx = data;
    repl *r = ctx->r;
    (void)inputs;
    r->eval_tape = tape;
    r->in_gradcheck = true;
    value v;
    gt_tensor *y = NULL;
    bool ok = eval(r, ctx->expr, &v);
    if (ok && v.kind == V_FUNC) { /* gradcheck(f, w, b) calls f(w, b) */
        value fn = v;
        ok = call_function(r, fn, ctx->params, ctx->n_params, ctx->expr, &v);
        value_release(r, fn);
    }
    if (ok && (v.kind != V_TENSOR || v.box->tape != tape))
        ok = repl_fail(r, start_col(ctx->expr), "gradcheck: the expression must compute a tensor "
                       "from the parameters");
    if (ok && gt_tensor_numel(v.box->tensor) != 1) {
        char buf[200];
        gt_tensor *t = v.box->tensor;
        ok = repl_fail(r, start_col(ctx->expr), "gradcheck: the expression must give one element, "
                       "not shape %s", gt_shape_str(gt_tensor_ndim(t), gt_tensor_shape(t), buf,
                                                    sizeof buf));
    }
    if (ok)
        y = v.box->tensor;
    value_release(r, v);
    r->eval_tape = r->tape;
    r->in_gradcheck = false;
    if (!ok) {
        ctx->failed = true;
        gt_set_error(GT_ERR_ARG, "%s", r->err.msg);
    }
    return y;
}

/* Copies (save) or restores every parameter's gradient, so gradcheck leaves them as found. */
static bool keep_grads(repl *r, gt_real **saved, bool restore) {
    for (int i = 0; i < r->n_params; i++) {
        gt_tensor *p = r->params[i]->tensor;
        gt_real *g = gt_tensor_grad(p);
        size_t bytes = (size_t)gt_tensor_numel(p) * sizeof(gt_real);
        if (!g)
            continue;
        if (restore) {
            memcpy(g, saved[i], bytes);
            gt_free(saved[i]);
        } else if (!(saved[i] = gt_malloc(bytes ? bytes : 1, "gradcheck"))) {
            while (i-- > 0)
                gt_free(saved[i]);
            return false;
        } else {
            memcpy(saved[i], g, bytes);
        }
    }
    return true;
}

/* gradcheck and gradgradcheck: first or second derivatives of expr against differences. */
static bool check_builtin(repl *r, const call_args *a, bool second) {
    if (!arity(r, a, 2, REPL_MAX_ARGS))
        return false;
    gt_tensor *inputs[REPL_MAX_ARGS];
    for (int i = 1; i < a->n; i++)
        if (!arg_param(r, a, i, &inputs[i - 1]))
            return false;
    gt_real **saved = gt_calloc((size_t)r->n_params + 1, sizeof *saved, "gradcheck");
    if (!saved || !keep_grads(r, saved, false)) {
        gt_free(saved);
        return repl_fail_lib(r, a->call->col);
    }
    gradcheck_ctx ctx = {r, a->call->kids[0], a->vals + 1, a->n - 1, false};
    gt_gradcheck_opts opts = gt_gradcheck_default_opts();
    gt_gradcheck_result res;
    gt_status status = second ? gt_gradgradcheck(eval_expr, &ctx, inputs, a->n - 1, &opts, 0,
                                                  &res)
                              : gt_gradcheck(eval_expr, &ctx, inputs, a->n - 1, &opts, &res);
    keep_grads(r, saved, true);
    gt_free(saved);
    if (status != GT_OK)
        return ctx.failed ? false : repl_fail_lib(r, a->call->col);
    printf("%s: %lld partials, max abs error %.2g, max rel error %.2g: %s\n",
           second ? "gradgradcheck" : "gradcheck", (long long)res.checked, res.max_abs_err, res.max_rel_err,
           res.passed ? "PASS" : "FAIL");
    const char *why = res.message;
    if (!strncmp(why, "FAIL: ", 6))
        why += 6;
    if (!res.passed)
        printf("  %s\n", why);
    return true;
}

bool gradcheck_builtin(repl *r, const call_args *a, value *out) {
    (void)out;
    return check_builtin(r, a, false);
}

bool gradgradcheck_builtin(repl *r, const call_args *a, value *out) {
    (void)out;
    return check_builtin(r, a, true);
}
