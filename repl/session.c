/* session.c - the session: its tape, named values, parameters and error slot. */
#include "session.h"
#include "builtins.h"
#include "hash.h"

#include <sys/resource.h>

#include <stdio.h>
#include <string.h>

bool repl_hash_oom;

struct repl_var {
    char *name;
    value v;
    UT_hash_handle hh;
};

#define REPL_DEFAULT_SEED 0
#define REPL_DEFAULT_DIGITS 4

/* How much C stack nested calls may use: half the stack's limit, at most 64 MB (a user
 * function's call takes a few kilobytes of C frames). */
static size_t stack_budget(void) {
    struct rlimit rl;
    size_t limit = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        limit = (size_t)rl.rlim_cur;
    if (limit > (size_t)128 << 20)
        limit = (size_t)128 << 20;
    return limit / 2;
}

bool repl_init(repl *r) {
    memset(r, 0, sizeof *r);
    r->digits = REPL_DEFAULT_DIGITS;
    r->frame_base = -1;
    r->stack_budget = stack_budget();
    gt_rng_seed(&r->rng, REPL_DEFAULT_SEED);
    gt_manual_seed(REPL_DEFAULT_SEED);
    r->tape = gt_tape_new();
    r->eval_tape = r->tape;
    r->chain = gt_malloc((REPL_MAX_CALL_DEPTH + 1) * sizeof *r->chain, "repl: call chain");
    if (!r->tape || !r->chain || !builtins_init(r)) {
        repl_free(r);
        return false;
    }
    return true;
}

void repl_clear(repl *r) {
    repl_var *v, *tmp;
    HASH_ITER(hh, r->vars, v, tmp) {
        HASH_DEL(r->vars, v);
        value_release(r, v->v);
        gt_free(v->name);
        gt_free(v);
    }
    r->vars_gen++; /* the syntax trees' cached variables are gone */
    value_release(r, r->ret);
    r->ret = value_none();
    for (int i = 0; i < r->n_params; i++)
        value_release(r, (value){.kind = V_TENSOR, .box = r->params[i]});
    gt_free(r->params);
    r->params = NULL;
    r->n_params = r->cap_params = 0;
    repl_reset_tape(r);
    gt_rng_seed(&r->rng, REPL_DEFAULT_SEED);
    gt_manual_seed(REPL_DEFAULT_SEED);
}

void repl_free(repl *r) {
    repl_clear(r);
    builtins_free(r);
    gt_free(r->stack);
    gt_free(r->chain);
    r->stack = NULL;
    r->chain = NULL;
    gt_tape_free(r->tape);
    r->tape = r->eval_tape = NULL;
}

bool repl_fail(repl *r, int col, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err.msg, sizeof r->err.msg, fmt, ap);
    va_end(ap);
    r->err.col = col;
    r->err.line = r->line;
    return false;
}

bool repl_fail_lib(repl *r, int col) {
    const char *msg = gt_last_error();
    return repl_fail(r, col, "%s", msg[0] ? msg : "failed (no message)");
}

repl_var *repl_lookup(repl *r, const char *name) {
    repl_var *v = NULL;
    HASH_FIND_STR(r->vars, name, v);
    return v;
}

value *repl_var_value(repl_var *v) { return &v->v; }
const char *repl_var_name(repl_var *v) { return v->name; }
repl_var *repl_first_var(repl *r) { return r->vars; }
repl_var *repl_next_var(repl_var *v) { return v->hh.next; }

/* Takes over the reference in v. */
bool repl_bind(repl *r, const char *name, value v, int col) {
    repl_var *var = repl_lookup(r, name);
    if (var) {
        value_release(r, var->v);
        var->v = v;
        return true;
    }
    size_t len = strlen(name);
    var = gt_calloc(1, sizeof *var, "repl: variable");
    char *copy = var ? gt_malloc(len + 1, "repl: variable") : NULL;
    if (!copy) {
        gt_free(var);
        value_release(r, v);
        return repl_fail_lib(r, col);
    }
    memcpy(copy, name, len + 1);
    var->name = copy;
    var->v = v;
    repl_hash_oom = false;
    HASH_ADD_KEYPTR(hh, r->vars, var->name, len, var);
    if (repl_hash_oom) {
        value_release(r, v);
        gt_free(copy);
        gt_free(var);
        return repl_fail(r, col, "out of memory binding %s", name);
    }
    return true;
}

bool repl_add_param(repl *r, obj *box) {
    if (r->n_params == r->cap_params) {
        int cap = r->cap_params ? 2 * r->cap_params : 16;
        obj **grown = gt_malloc((size_t)cap * sizeof *grown, "repl: parameters");
        if (!grown)
            return repl_fail_lib(r, 0);
        if (r->n_params)
            memcpy(grown, r->params, (size_t)r->n_params * sizeof *grown);
        gt_free(r->params);
        r->params = grown;
        r->cap_params = cap;
    }
    box->refs++;
    r->params[r->n_params++] = box;
    return true;
}
