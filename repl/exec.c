/* exec.c - statements: assignment, if/elif/else, while, for, def, return, break, continue,
 * expression statements; and running a chunk of them at the top level. */
#include "builtins.h"
#include "eval_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A value about to be bound: a tensor on the tape without a graph gets a heap copy, so the
 * tape can reset. */
static bool settle(repl *r, value *v, int col) {
    if (v->kind == V_TENSOR && v->box->tape && !gt_tensor_requires_grad(v->box->tensor) &&
        !value_detach(r, v->box)) {
        value_release(r, *v);
        *v = value_none();
        return repl_fail_lib(r, col);
    }
    return true;
}

static bool run_assign(repl *r, const node *n) {
    value v;
    const node *rhs = n->kids[0];
    if (!eval(r, rhs, &v))
        return false;
    if (v.kind == V_NONE && rhs->kind == N_CALL && rhs->cache)
        return repl_fail(r, rhs->col, "%s() gives no value to assign", rhs->text);
    return settle(r, &v, rhs->col) && bind_name(r, n, v);
}

/* l[i] = v; x[...] = v on a tensor (index.c) */
static bool run_setitem(repl *r, const node *n) {
    value list, index, v;
    if (!eval(r, n->kids[0], &list))
        return false;
    if (list.kind == V_TENSOR || n->n_kids != 3 || n->kids[1]->kind == N_SLICE ||
        n->kids[1]->kind == N_ELLIPSIS) {
        v = value_none();
        bool ok = list.kind == V_LIST
                      ? repl_fail(r, n->col, "a list takes one index (l[0] = x); slices and "
                                  "several indices are for tensors")
                      : eval(r, n->kids[n->n_kids - 1], &v) && tensor_setitem(r, n, list, v);
        value_release(r, v);
        value_release(r, list);
        return ok;
    }
    bool ok = eval(r, n->kids[1], &index);
    if (ok && !eval(r, n->kids[2], &v)) {
        value_release(r, index);
        ok = false;
    }
    if (!ok) {
        value_release(r, list);
        return false;
    }
    double i = 0;
    if (list.kind != V_LIST)
        ok = repl_fail(r, n->col, "%s cannot be assigned into (lists can: l[0] = x)",
                       value_kind_phrase(list));
    else
        ok = value_to_index(r, index, n->kids[1]->col, "a list index", &i) &&
             settle(r, &v, n->kids[2]->col);
    if (ok) {
        repl_list *l = list.box->list;
        double at = i < 0 ? i + l->n : i;
        if (at < 0 || at >= l->n) {
            ok = repl_fail(r, n->kids[1]->col, "list index %.17g out of range (length %d)", i,
                           l->n);
        } else if (v.kind == V_LIST || v.kind == V_FUNC) {
            ok = list_append(r, l, v, n->kids[2]->col); /* refuses it with the message */
        } else {
            value old = l->items[(int)at];
            l->items[(int)at] = value_ref(v);
            value_release(r, old);
        }
    }
    value_release(r, v);
    value_release(r, index);
    value_release(r, list);
    return ok;
}

static bool run_def(repl *r, const node *n, chunk *code) {
    const def_info *d = n->def;
    for (int i = 0; i < d->n_locals; i++)
        if (builtin_find(r, d->locals[i]))
            return repl_fail(r, n->col, "%s: the name %s is a builtin and cannot be a parameter "
                             "or a local", n->text, d->locals[i]);
    if (builtin_find(r, n->text))
        return repl_fail(r, n->col, "cannot define %s: it names a builtin", n->text);
    repl_func *fn = gt_calloc(1, sizeof *fn, "repl: function");
    if (!fn)
        return repl_fail_lib(r, n->col);
    fn->def = n;
    fn->code = code;
    code->refs++;
    bool ok = true;
    int k = d->n_required;
    for (int i = 0; i < n->n_kids - 1; i++, k++) /* kids before the body: the defaults */
        if (!(ok = eval(r, n->kids[i], &fn->defaults[k]) && settle(r, &fn->defaults[k],
                                                                   n->kids[i]->col)))
            break;
    if (!ok) {
        for (int i = d->n_required; i < k; i++)
            value_release(r, fn->defaults[i]);
        chunk_release(code);
        gt_free(fn);
        return false;
    }
    value v;
    return value_func(r, fn, &v) && bind_name(r, n, v);
}

/* The bounds of range(stop), range(start, stop), range(start, stop, step). */
static bool range_args(repl *r, const node *call, double *start, double *stop, double *step) {
    if (call->n_kids < 1 || call->n_kids > 3)
        return repl_fail(r, call->col, "range: takes 1 to 3 arguments, got %d", call->n_kids);
    double x[3];
    for (int i = 0; i < call->n_kids; i++) {
        if (call->kwnames[i])
            return repl_fail(r, call->kwcols[i], "range: takes no keyword arguments");
        value v;
        if (!eval(r, call->kids[i], &v))
            return false;
        bool ok = value_to_index(r, v, call->kids[i]->col, "range's argument", &x[i]);
        value_release(r, v);
        if (!ok)
            return false;
    }
    *start = call->n_kids > 1 ? x[0] : 0;
    *stop = call->n_kids > 1 ? x[1] : x[0];
    *step = call->n_kids > 2 ? x[2] : 1;
    if (*step == 0)
        return repl_fail(r, call->kids[2]->col, "range: step must not be zero");
    return true;
}

/* The body of a loop ran: true to go on, false to leave with *status. */
static bool loop_goes_on(repl *r, exec_status *status, int col) {
    if (*status == EXEC_BREAK) {
        *status = EXEC_OK;
        return false;
    }
    if (*status == EXEC_ERROR || *status == EXEC_RETURN)
        return false;
    *status = EXEC_OK;
    if (!check_interrupt(r, col)) {
        *status = EXEC_ERROR;
        return false;
    }
    return true;
}

/* for a, b in ...: binds the items of the list v (taking it over) to the targets kids[2..]. */
static bool unpack(repl *r, const node *n, value v) {
    int want = n->n_kids - 2;
    if (v.kind != V_LIST || v.box->list->n != want) {
        bool ok = v.kind == V_LIST
                      ? repl_fail(r, n->kids[2]->col, "cannot unpack %d values into %d names",
                                  v.box->list->n, want)
                      : repl_fail(r, n->kids[2]->col, "cannot unpack %s into %d names (a "
                                  "list of %d is needed)", value_kind_phrase(v), want, want);
        value_release(r, v);
        return ok;
    }
    bool ok = true;
    for (int i = 0; ok && i < want; i++)
        ok = bind_name(r, n->kids[2 + i], value_ref(v.box->list->items[i]));
    value_release(r, v);
    return ok;
}

/* One turn of a for loop: binds v (taking it over) to the loop's name and runs the body;
 * true to go on, false to leave with *status. */
static bool for_turn(repl *r, const node *n, value v, exec_status *status) {
    if (!(n->n_kids > 2 ? unpack(r, n, v) : bind_name(r, n, v))) {
        *status = EXEC_ERROR;
        return false;
    }
    *status = exec_block(r, n->kids[1]);
    r->line = n->line;
    return loop_goes_on(r, status, n->col);
}

static exec_status run_for(repl *r, const node *n) {
    const node *iter = n->kids[0];
    exec_status status = EXEC_OK;
    /* for i in range(...): counts without making a list */
    if (iter->kind == N_CALL && !strcmp(iter->text, "range") &&
        !(iter->slot >= 0 && r->frame_base >= 0)) {
        double start = 0, stop = 0, step = 1;
        if (!range_args(r, iter, &start, &stop, &step))
            return EXEC_ERROR;
        for (double i = start; step > 0 ? i < stop : i > stop; i += step)
            if (!for_turn(r, n, value_num(i), &status))
                break;
        return status;
    }
    value seq;
    /* for v in [1, 2, 3]: a literal of numbers is a list here, not a tensor */
    bool ok = iter->kind == N_LIST ? eval_list_items(r, iter, &seq) : eval(r, iter, &seq);
    if (!ok)
        return EXEC_ERROR;
    if (seq.kind == V_TENSOR && seq.box->tensor && gt_tensor_ndim(seq.box->tensor) == 1) {
        const gt_tensor *t = seq.box->tensor; /* a 1-D tensor gives its numbers */
        for (int64_t i = 0; i < gt_tensor_numel(t); i++)
            if (!for_turn(r, n, value_num(gt_tensor_cdata(t)[i]), &status))
                break;
    } else if (seq.kind == V_TENSOR && seq.box->tensor && gt_tensor_ndim(seq.box->tensor) > 1) {
        int64_t rows = gt_tensor_shape(seq.box->tensor)[0];
        for (int64_t i = 0; i < rows; i++) { /* its rows x[i], as in PyTorch (recorded) */
            gt_tensor *t, *row = NULL;
            value v;
            if (value_to_tensor(r, seq, iter->col, &t) &&
                !((row = gt_narrow(r->eval_tape, t, 0, i, 1)) &&
                  (row = gt_squeeze(r->eval_tape, row, GT_INTS(0)))))
                repl_fail_lib(r, iter->col);
            if (!row || !value_tensor(r, row, r->eval_tape, &v) || !settle(r, &v, iter->col)) {
                status = EXEC_ERROR;
                break;
            }
            if (!for_turn(r, n, v, &status))
                break;
        }
    } else if (seq.kind == V_LIST) {
        for (int i = 0; i < seq.box->list->n; i++) /* the list may change as it goes */
            if (!for_turn(r, n, value_ref(seq.box->list->items[i]), &status))
                break;
    } else if (seq.kind == V_OBJ && seq.box->cls->iter_start) { /* batches(x, y, 64) */
        const repl_class *cls = seq.box->cls;
        void *state = NULL;
        if (!cls->iter_start(r, seq.box->self, iter->col, &state)) {
            status = EXEC_ERROR;
        } else {
            for (;;) {
                value item = value_none();
                bool end = false;
                if (!cls->iter_next(r, seq.box->self, state, iter->col, &item, &end)) {
                    status = EXEC_ERROR;
                    break;
                }
                if (end || !for_turn(r, n, item, &status))
                    break;
            }
            cls->iter_end(state);
        }
    } else {
        repl_fail(r, iter->col, "a for loop goes over a list, range(...), batches(...) or a "
                  "tensor of at least one dim, not %s", seq.kind == V_TENSOR ? "a 0-d tensor"
                  : value_kind_phrase(seq));
        status = EXEC_ERROR;
    }
    value_release(r, seq);
    return status;
}

static exec_status run_while(repl *r, const node *n) {
    exec_status status = EXEC_OK;
    for (;;) {
        value cond;
        bool truth = false;
        if (!eval(r, n->kids[0], &cond))
            return EXEC_ERROR;
        bool ok = value_truth(r, cond, n->kids[0]->col, &truth);
        value_release(r, cond);
        if (!ok)
            return EXEC_ERROR;
        if (!truth)
            return EXEC_OK;
        status = exec_block(r, n->kids[1]);
        r->line = n->line;
        if (!loop_goes_on(r, &status, n->col))
            return status;
    }
}

static exec_status run_if(repl *r, const node *n) {
    value cond;
    bool truth = false;
    if (!eval(r, n->kids[0], &cond))
        return EXEC_ERROR;
    bool ok = value_truth(r, cond, n->kids[0]->col, &truth);
    value_release(r, cond);
    if (!ok)
        return EXEC_ERROR;
    if (truth)
        return exec_block(r, n->kids[1]);
    if (n->n_kids < 3)
        return EXEC_OK;
    const node *other = n->kids[2];
    if (other->kind == N_IF) {
        r->line = other->line;
        return run_if(r, other);
    }
    return exec_block(r, other);
}

static exec_status exec_statement(repl *r, const node *n) {
    r->line = n->line;
    if (!check_interrupt(r, n->col))
        return EXEC_ERROR;
    switch (n->kind) {
    case N_ASSIGN:
        return run_assign(r, n) ? EXEC_OK : EXEC_ERROR;
    case N_SETITEM:
        return run_setitem(r, n) ? EXEC_OK : EXEC_ERROR;
    case N_IF:
        return run_if(r, n);
    case N_WHILE:
        return run_while(r, n);
    case N_FOR:
        return run_for(r, n);
    case N_DEF:
        return run_def(r, n, r->code) ? EXEC_OK : EXEC_ERROR;
    case N_RETURN:
        value_release(r, r->ret);
        r->ret = value_none();
        if (n->n_kids && !eval(r, n->kids[0], &r->ret))
            return EXEC_ERROR;
        return EXEC_RETURN;
    case N_BREAK:
        return EXEC_BREAK;
    case N_CONTINUE:
        return EXEC_CONTINUE;
    case N_PASS:
        return EXEC_OK;
    default: {
        value v;
        if (!eval(r, n, &v))
            return EXEC_ERROR;
        if (r->depth == 0) /* at the prompt and in a script's loops, not in a function */
            print_value(r, stdout, v);
        value_release(r, v);
        return EXEC_OK;
    }
    }
}

exec_status exec_block(repl *r, const node *block) {
    for (int i = 0; i < block->n_kids; i++) {
        exec_status status = exec_statement(r, block->kids[i]);
        /* Intermediates no name holds are unreachable: give the arena back (not inside
         * gradcheck, whose tape holds the heap tensors it uses through the pins). */
        if (!r->in_gradcheck && !r->live)
            repl_reset_tape(r);
        if (status != EXEC_OK)
            return status;
    }
    return EXEC_OK;
}

/* Appends the call chain to the error message: "(call chain: line 9 f() -> line 6 g())". */
static void finish_error(repl *r) {
    if (r->chain_len == 0)
        return;
    char chain[REPL_MSG_SIZE];
    size_t used = 0;
    int n = r->chain_len;
    for (int k = n - 1; k >= 0 && used < sizeof chain; k--) {
        if (n > 8 && k == n - 5) { /* the outermost 4 and the innermost 4 (how many between
                                    * depends on the C stack a build's frames take) */
            used += (size_t)snprintf(chain + used, sizeof chain - used, " -> ...");
            k = 3;
        }
        if (used < sizeof chain)
            used += (size_t)snprintf(chain + used, sizeof chain - used, "%sline %ld %s()",
                                     k == n - 1 ? "" : " -> ", r->chain[k].line,
                                     r->chain[k].name);
    }
    size_t len = strlen(r->err.msg);
    snprintf(r->err.msg + len, sizeof r->err.msg - len, " (call chain: %s)", chain);
    r->chain_len = 0;
}

/* A simple statement that fails makes no parameter and draws no random number: what it made
 * goes. A block that fails keeps what its completed statements did, as in Python. */
static void undo_statement(repl *r, int n_params, const gt_rng *rng) {
    while (r->n_params > n_params)
        value_release(r, (value){.kind = V_TENSOR, .box = r->params[--r->n_params]});
    r->rng = *rng;
    if (r->undo_lr)
        gt_optimizer_set_lr(repl_opt_optimizer(r->undo_lr->opt), r->undo_lr_value);
}

static bool is_simple(const node *n) {
    return n->kind != N_IF && n->kind != N_WHILE && n->kind != N_FOR && n->kind != N_DEF;
}

bool repl_run_line(repl *r, const char *text, long first_line) {
    r->err.col = 0;
    r->err.line = 0;
    r->err.msg[0] = 0;
    r->chain_len = 0;
    r->line = first_line;
    gt_clear_error();
    chunk *code = parse_chunk(text, first_line, &r->err);
    if (!code)
        return r->err.msg[0] == 0;
    r->stack_start = (uintptr_t)__builtin_frame_address(0);
    r->steps = 0;
    const node *block = code->block;
    bool ok = true;
    for (int i = 0; ok && i < block->n_kids; i++) {
        const node *stmt = block->kids[i];
        int n_params = r->n_params;
        gt_rng rng = r->rng;
        r->code = code;
        exec_status status = exec_statement(r, stmt);
        r->code = NULL;
        ok = status == EXEC_OK;
        if (!ok && is_simple(stmt))
            undo_statement(r, n_params, &rng);
        if (r->undo_lr) {
            obj *box = r->undo_lr;
            r->undo_lr = NULL;
            value_release(r, (value){.kind = V_OPT, .box = box});
        }
        /* Intermediates no name holds are unreachable: give the arena back. */
        repl_reset_tape_if_unused(r);
    }
    r->stack_start = 0;
    chunk_release(code);
    if (!ok)
        finish_error(r);
    return ok;
}
