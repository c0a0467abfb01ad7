/* call.c - names (a function's locals, then the session's globals), calls of builtins and of
 * user functions (def), with a depth limit and the call chain an error reports. */
#include "builtins.h"
#include "eval_impl.h"

#include <string.h>

#define REPL_MAX_STACK (1 << 24) /* the locals of every running function, together */

volatile sig_atomic_t repl_interrupt;

bool check_interrupt(repl *r, int col) {
    if (r->step_limit && ++r->steps > r->step_limit)
        return repl_fail(r, col, "stopped after %ld statements and loop turns (the session's "
                         "step limit)", r->step_limit);
    if (!repl_interrupt)
        return true;
    repl_interrupt = 0;
    return repl_fail(r, col, "interrupted (Ctrl-C)");
}

/* The slot of a local in the running frame. */
static value *local_slot(repl *r, const node *n) { return &r->stack[r->frame_base + n->slot]; }

/* The session variable a node names, found once and kept in the node until the variables
 * change (:reset). */
static repl_var *global_var(repl *r, const node *n) {
    node *m = (node *)n; /* the cache is not part of the tree's meaning */
    if (m->cache && m->cache_gen == r->vars_gen)
        return m->cache;
    repl_var *var = repl_lookup(r, n->text);
    if (var) {
        m->cache = var;
        m->cache_gen = r->vars_gen;
    }
    return var;
}

bool eval_name(repl *r, const node *n, value *out) {
    if (n->slot >= 0 && r->frame_base >= 0) {
        value v = *local_slot(r, n);
        if (v.kind == V_NONE && v.num == UNBOUND_LOCAL)
            return repl_fail(r, n->col, "local name '%s' used before it is assigned", n->text);
        *out = value_ref(v);
        return true;
    }
    repl_var *var = global_var(r, n);
    if (var) {
        value v = *repl_var_value(var);
        if (r->in_gradcheck && v.kind == V_TENSOR && v.box->tape && v.box->tape != r->eval_tape)
            return repl_fail(r, n->col, "gradcheck: %s was computed before gradcheck and will "
                             "not follow the nudged inputs; write the expression from the "
                             "parameters themselves", n->text);
        *out = value_ref(v);
        return true;
    }
    if (builtin_find(r, n->text))
        return repl_fail(r, n->col, "%s is a builtin: call it as %s(...) (see :help %s)",
                         n->text, n->text, n->text);
    return repl_fail(r, n->col, "unknown name '%s'", n->text);
}

bool bind_name(repl *r, const node *n, value v) {
    if (n->slot >= 0 && r->frame_base >= 0) {
        value *slot = local_slot(r, n);
        value old = *slot;
        *slot = v;
        value_release(r, old);
        return true;
    }
    repl_var *var = global_var(r, n);
    if (var) {
        value *slot = repl_var_value(var);
        value old = *slot;
        *slot = v;
        value_release(r, old);
        return true;
    }
    if (builtin_find(r, n->text)) {
        value_release(r, v);
        return repl_fail(r, n->col, "cannot assign to %s: it names a builtin", n->text);
    }
    return repl_bind(r, n->text, v, n->col);
}

/* ---- user functions ------------------------------------------------------------------- */

void func_free(repl *r, repl_func *fn) {
    const def_info *d = fn->def->def;
    for (int i = d->n_required; i < d->n_params; i++)
        value_release(r, fn->defaults[i]);
    chunk_release(fn->code);
    gt_free(fn);
}

/* Makes room for n more values on the locals' stack. */
static bool stack_reserve(repl *r, int n, int col) {
    if (r->stack_top + n <= r->stack_cap)
        return true;
    if (n > REPL_MAX_STACK - r->stack_top)
        return repl_fail(r, col, "out of room for locals (%d values at most)", REPL_MAX_STACK);
    int cap = r->stack_cap ? r->stack_cap : 256;
    while (cap < r->stack_top + n)
        cap = cap > REPL_MAX_STACK / 2 ? REPL_MAX_STACK : 2 * cap;
    value *grown = gt_malloc((size_t)cap * sizeof *grown, "repl: call stack");
    if (!grown)
        return repl_fail_lib(r, col);
    if (r->stack_top)
        memcpy(grown, r->stack, (size_t)r->stack_top * sizeof *grown);
    gt_free(r->stack);
    r->stack = grown;
    r->stack_cap = cap;
    return true;
}

/* Notes that the function `name`, called at `line`, failed: the chain an error reports. */
static void add_call_site(repl *r, long line, const char *name) {
    if (!r->chain || r->chain_len >= REPL_MAX_CALL_DEPTH + 1)
        return;
    repl_call_site *site = &r->chain[r->chain_len++];
    site->line = line;
    snprintf(site->name, sizeof site->name, "%s", name);
}

/* Calls fn with arguments (positional, then by keyword when kw[i] is set). */
static bool call_user(repl *r, value fnv, const value *args, const char *const *kw,
                      const int *cols, int n, const node *call, value *out) {
    const repl_func *fn = fnv.box->func;
    const node *def = fn->def;
    const def_info *d = def->def;
    *out = value_none(); /* the caller releases *out even when the call fails */
    /* the frame's address, not a local's: under AddressSanitizer locals may live elsewhere */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (r->depth >= REPL_MAX_CALL_DEPTH ||
        (r->stack_start && here < r->stack_start && r->stack_start - here > r->stack_budget))
        return repl_fail(r, call->col, "%s: recursion too deep (more than %d calls inside "
                         "each other)", def->text, REPL_MAX_CALL_DEPTH);
    if (!check_interrupt(r, call->col) || !stack_reserve(r, d->n_locals, call->col))
        return false;
    int base = r->stack_top;
    for (int i = 0; i < d->n_locals; i++)
        r->stack[base + i] = (value){.kind = V_NONE, .num = UNBOUND_LOCAL};
    r->stack_top += d->n_locals;
    bool ok = true;
    int positional = 0;
    for (int i = 0; ok && i < n; i++) {
        int slot = positional;
        if (kw && kw[i]) {
            for (slot = 0; slot < d->n_params && strcmp(d->locals[slot], kw[i]); slot++)
                ;
            if (slot == d->n_params)
                ok = repl_fail(r, call->kwcols ? call->kwcols[i] : call->col,
                               "%s() has no parameter named %s", def->text, kw[i]);
        } else if (positional++ >= d->n_params) {
            ok = repl_fail(r, cols ? cols[i] : call->col, "%s() takes %d argument%s, got %d",
                           def->text, d->n_params, d->n_params == 1 ? "" : "s", n);
        }
        if (ok && !(r->stack[base + slot].kind == V_NONE &&
                    r->stack[base + slot].num == UNBOUND_LOCAL))
            ok = repl_fail(r, call->col, "%s(): argument %s given twice", def->text,
                           d->locals[slot]);
        if (ok)
            r->stack[base + slot] = value_ref(args[i]);
    }
    for (int i = 0; ok && i < d->n_params; i++) {
        value *slot = &r->stack[base + i];
        if (!(slot->kind == V_NONE && slot->num == UNBOUND_LOCAL))
            continue;
        if (i < d->n_required)
            ok = repl_fail(r, call->col, "%s() missing argument %s", def->text, d->locals[i]);
        else
            *slot = value_ref(fn->defaults[i]);
    }
    *out = value_none();
    if (ok) {
        int saved_base = r->frame_base;
        long saved_line = r->line;
        value keep = value_ref(fnv); /* the body runs even if its name is rebound meanwhile */
        r->frame_base = base;
        r->depth++;
        exec_status status = exec_block(r, def->kids[def->n_kids - 1]);
        r->depth--;
        r->frame_base = saved_base;
        r->line = saved_line;
        if (status == EXEC_RETURN) {
            *out = r->ret;
            r->ret = value_none();
        }
        ok = status != EXEC_ERROR;
        if (!ok)
            add_call_site(r, call->line, def->text);
        value_release(r, keep);
    }
    for (int i = base; i < r->stack_top; i++)
        value_release(r, r->stack[i]);
    r->stack_top = base;
    return ok;
}

bool call_function(repl *r, value fn, const value *args, int n, const node *call, value *out) {
    *out = value_none();
    if (fn.kind != V_FUNC)
        return repl_fail(r, call->col, "expected a function, got %s", value_kind_phrase(fn));
    return call_user(r, fn, args, NULL, NULL, n, call, out);
}

/* ---- calls ---------------------------------------------------------------------------- */

#define SMALL_ARGS 8

bool eval_call(repl *r, const node *n, value *out) {
    node *m = (node *)n;
    const builtin *b = n->slot >= 0 && r->frame_base >= 0 ? NULL
                       : m->cache                         ? m->cache
                                                          : builtin_find(r, n->text);
    value fn = value_none();
    if (b) {
        m->cache = (void *)b; /* builtins do not change during a session */
        if (r->in_gradcheck && (builtin_flags(b) & B_IMPURE))
            return repl_fail(r, n->col, "gradcheck: %s() cannot be used inside the expression",
                             n->text);
    } else if (n->slot >= 0 && r->frame_base >= 0) {
        fn = *local_slot(r, n);
    } else {
        repl_var *var = repl_lookup(r, n->text); /* n->cache is for builtins */
        if (!var)
            return repl_fail(r, n->col, "unknown function '%s' (:help lists them)", n->text);
        fn = *repl_var_value(var);
    }
    if (!b && fn.kind != V_FUNC && !(fn.kind == V_OBJ && fn.box->cls->call))
        return repl_fail(r, n->col, "%s is %s, not a function", n->text, value_kind_phrase(fn));
    fn = value_ref(fn); /* kept while the arguments are evaluated and the body runs */
    value small[SMALL_ARGS], *vals = small;
    int small_cols[SMALL_ARGS], *cols = small_cols;
    if (n->n_kids > SMALL_ARGS) {
        vals = gt_malloc((size_t)n->n_kids * sizeof *vals, "repl: call");
        cols = gt_malloc((size_t)n->n_kids * sizeof *cols, "repl: call");
        if (!vals || !cols) {
            if (vals != small)
                gt_free(vals);
            gt_free(cols);
            value_release(r, fn);
            return repl_fail_lib(r, n->col);
        }
    }
    int done = 0;
    bool ok = true;
    for (; ok && done < n->n_kids; done++) {
        cols[done] = n->kids[done]->col;
        if (done == 0 && b && (builtin_flags(b) & B_LAZY_FIRST))
            vals[done] = value_none();
        else
            ok = eval(r, n->kids[done], &vals[done]);
    }
    if (ok) {
        call_args a = {n, n->n_kids, vals, (const char *const *)n->kwnames, cols};
        if (b) {
            ok = builtin_call(r, b, &a, out);
            if (!ok && r->err.col == 0)
                r->err.col = n->col;
        } else if (fn.kind == V_OBJ) { /* m(x): a model */
            *out = value_none();
            ok = fn.box->cls->call(r, fn.box, &a, out);
        } else {
            ok = call_user(r, fn, vals, (const char *const *)n->kwnames, cols, n->n_kids, n,
                           out);
        }
    } else {
        done--;
    }
    for (int i = 0; i < done; i++)
        value_release(r, vals[i]);
    if (vals != small) {
        gt_free(vals);
        gt_free(cols);
    }
    value_release(r, fn);
    return ok;
}
