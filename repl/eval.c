/* eval.c - evaluates a syntax tree to a value, binds names and prints results. */
#include "repl.h"

#include <math.h>
#include <string.h>

bool value_to_tensor(repl *r, value v, int col, gt_tensor **out) {
    if (v.kind == V_NUM) {
        gt_tensor *t = gt_tape_tensor(r->eval_tape, 0, NULL);
        if (!t)
            return repl_fail_lib(r, col);
        gt_tensor_data(t)[0] = (gt_real)v.num;
        *out = t;
        return true;
    }
    if (v.kind != V_TENSOR)
        return repl_fail(r, col, "expected a tensor or number, got a %s", value_kind_name(v));
    if (!v.box->tensor)
        return repl_fail(r, col, "this value was lost when the tape was reset (out of memory)");
    if (v.box->tape && v.box->tape != r->eval_tape)
        return repl_fail(r, col, "gradcheck: this tensor was computed before gradcheck and "
                         "will not follow the nudged inputs; write the expression from the "
                         "parameters themselves");
    if (!v.box->tape && !value_pin(r, v.box))
        return repl_fail_lib(r, col);
    *out = v.box->tensor;
    return true;
}

/* ---- list literals ----------------------------------------------------------------------- */

typedef struct list_fill {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    gt_real *data;
    int64_t n;
} list_fill;

static bool list_fill_level(repl *r, const node *n, int dim, list_fill *f) {
    if (dim == f->ndim) {
        if (n->kind == N_LIST)
            return repl_fail(r, n->col, "ragged list: expected a number here, found a list");
        value v;
        if (!eval(r, n, &v))
            return false;
        bool ok = v.kind == V_NUM;
        if (ok)
            f->data[f->n++] = (gt_real)v.num;
        else
            repl_fail(r, n->col, "a list holds numbers, not a %s", value_kind_name(v));
        value_release(r, v);
        return ok;
    }
    if (n->kind != N_LIST)
        return repl_fail(r, n->col, "ragged list: expected a list of %lld here",
                         (long long)f->shape[dim]);
    if (n->n_kids != f->shape[dim])
        return repl_fail(r, n->col, "ragged list: %d elements where the first list has %lld",
                         n->n_kids, (long long)f->shape[dim]);
    for (int i = 0; i < n->n_kids; i++)
        if (!list_fill_level(r, n->kids[i], dim + 1, f))
            return false;
    return true;
}

static bool eval_list(repl *r, const node *n, value *out) {
    list_fill f = {0};
    for (const node *level = n; level->kind == N_LIST; level = level->kids[0]) {
        if (f.ndim == GT_MAX_DIMS)
            return repl_fail(r, level->col, "a list nests at most %d levels", GT_MAX_DIMS);
        f.shape[f.ndim++] = level->n_kids;
        if (level->n_kids == 0)
            break;
    }
    int64_t numel = gt_shape_numel(f.ndim, f.shape);
    f.data = gt_malloc((size_t)(numel ? numel : 1) * sizeof *f.data, "repl: list");
    if (!f.data)
        return repl_fail_lib(r, n->col);
    bool ok = numel == 0 || list_fill_level(r, n, 0, &f);
    gt_tensor *t = ok ? gt_from_array(f.ndim, f.shape, f.data) : NULL;
    gt_free(f.data);
    if (ok && !t)
        return repl_fail_lib(r, n->col);
    return ok && value_tensor(r, t, NULL, out);
}

/* ---- operators ------------------------------------------------------------------------ */

static bool eval_number_op(repl *r, const node *n, double a, double b, value *out) {
    switch (n->op) {
    case '+':
        *out = value_num(a + b);
        return true;
    case '-':
        *out = value_num(a - b);
        return true;
    case '*':
        *out = value_num(a * b);
        return true;
    case '/':
        *out = value_num(a / b);
        return true;
    default:
        return repl_fail(r, n->col, "@ multiplies matrices: both sides must be tensors");
    }
}

static bool tensor_result(repl *r, gt_tensor *t, int col, value *out) {
    if (!t)
        return repl_fail_lib(r, col);
    return value_tensor(r, t, r->eval_tape, out);
}

static bool eval_binary(repl *r, const node *n, value *out) {
    value a, b;
    if (!eval(r, n->kids[0], &a))
        return false;
    if (!eval(r, n->kids[1], &b)) {
        value_release(r, a);
        return false;
    }
    bool ok;
    if (a.kind == V_NUM && b.kind == V_NUM) {
        ok = eval_number_op(r, n, a.num, b.num, out);
    } else {
        gt_tensor *ta, *tb;
        ok = value_to_tensor(r, a, n->kids[0]->col, &ta) &&
             value_to_tensor(r, b, n->kids[1]->col, &tb);
        if (ok) {
            gt_tape *tape = r->eval_tape;
            gt_tensor *t = n->op == '+'   ? gt_add(tape, ta, tb)
                           : n->op == '-' ? gt_sub(tape, ta, tb)
                           : n->op == '*' ? gt_mul(tape, ta, tb)
                           : n->op == '/' ? gt_div(tape, ta, tb)
                                          : gt_matmul(tape, ta, tb);
            ok = tensor_result(r, t, n->col, out);
        }
    }
    value_release(r, a);
    value_release(r, b);
    return ok;
}

static bool eval_neg(repl *r, const node *n, value *out) {
    value v;
    if (!eval(r, n->kids[0], &v))
        return false;
    bool ok;
    gt_tensor *t = NULL;
    if (v.kind == V_NUM)
        ok = (*out = value_num(-v.num), true);
    else
        ok = value_to_tensor(r, v, n->kids[0]->col, &t) &&
             tensor_result(r, gt_neg(r->eval_tape, t), n->col, out);
    value_release(r, v);
    return ok;
}

/* ---- names and calls -------------------------------------------------------------------- */

static bool eval_name(repl *r, const node *n, value *out) {
    repl_var *var = repl_lookup(r, n->text);
    if (var) {
        value v = *repl_var_value(var);
        if (r->in_gradcheck && v.kind == V_TENSOR && v.box->tape && v.box->tape != r->eval_tape)
            return repl_fail(r, n->col, "gradcheck: %s was computed before gradcheck and will "
                             "not follow the nudged inputs; write the expression from the "
                             "parameters themselves", n->text);
        *out = value_ref(v);
        return true;
    }
    /* Python's constants, for PyTorch's keywords: True and False are 1 and 0 */
    if (strcmp(n->text, "None") == 0 || strcmp(n->text, "True") == 0 ||
        strcmp(n->text, "False") == 0) {
        *out = n->text[0] == 'N' ? value_none() : value_num(n->text[0] == 'T');
        return true;
    }
    if (builtin_find(r, n->text))
        return repl_fail(r, n->col, "%s is a builtin: call it as %s(...) (see :help %s)",
                         n->text, n->text, n->text);
    return repl_fail(r, n->col, "unknown name '%s'", n->text);
}

static bool eval_call(repl *r, const node *n, value *out) {
    const builtin *b = builtin_find(r, n->text);
    if (!b) {
        if (repl_lookup(r, n->text))
            return repl_fail(r, n->col, "%s is a variable, not a function", n->text);
        return repl_fail(r, n->col, "unknown function '%s' (:help lists them)", n->text);
    }
    if (r->in_gradcheck && (builtin_flags(b) & B_IMPURE))
        return repl_fail(r, n->col, "gradcheck: %s() cannot be used inside the expression",
                         n->text);
    value vals[REPL_MAX_ARGS];
    int cols[REPL_MAX_ARGS];
    int done = 0;
    bool ok = true;
    for (; ok && done < n->n_kids; done++) {
        cols[done] = n->kids[done]->col;
        if (done == 0 && (builtin_flags(b) & B_LAZY_FIRST))
            vals[done] = value_none();
        else
            ok = eval(r, n->kids[done], &vals[done]);
    }
    if (ok) {
        done = n->n_kids;
        call_args a = {n, n->n_kids, vals, (const char *const *)n->kwnames, cols};
        ok = builtin_call(r, b, &a, out);
        if (!ok && r->err.col == 0)
            r->err.col = n->col;
    } else {
        done--;
    }
    for (int i = 0; i < done; i++)
        value_release(r, vals[i]);
    return ok;
}

bool eval(repl *r, const node *n, value *out) {
    *out = value_none();
    switch (n->kind) {
    case N_NUM:
        *out = value_num(n->num);
        return true;
    case N_STR:
        return value_string(r, n->text, strlen(n->text), out);
    case N_NAME:
        return eval_name(r, n, out);
    case N_LIST:
        return eval_list(r, n, out);
    case N_CALL:
        return eval_call(r, n, out);
    case N_BINARY:
        return eval_binary(r, n, out);
    case N_NEG:
        return eval_neg(r, n, out);
    default:
        return repl_fail(r, n->col, "cannot evaluate an assignment here");
    }
}

/* ---- statements ------------------------------------------------------------------------- */

void print_value(repl *r, FILE *out, value v) {
    switch (v.kind) {
    case V_NUM:
        fprintf(out, "%.*g\n", r->digits, v.num);
        break;
    case V_STR:
        fprintf(out, "%s\n", v.box->str);
        break;
    case V_TENSOR:
        if (v.box->tensor)
            gt_tensor_print(out, v.box->tensor, r->digits);
        fputc('\n', out);
        break;
    case V_OPT:
        optim_describe(v.box->opt, out);
        fputc('\n', out);
        break;
    default:
        break;
    }
}

static bool run_assign(repl *r, const node *n) {
    if (builtin_find(r, n->text))
        return repl_fail(r, n->col, "cannot assign to %s: it names a builtin", n->text);
    value v;
    if (!eval(r, n->kids[0], &v))
        return false;
    if (v.kind == V_NONE)
        return repl_fail(r, n->kids[0]->col, "this expression has no value to assign");
    /* A tape tensor without a graph needs no tape: keep a heap copy, so the tape can reset. */
    if (v.kind == V_TENSOR && v.box->tape && !gt_tensor_requires_grad(v.box->tensor) &&
        !value_detach(r, v.box)) {
        value_release(r, v);
        return repl_fail_lib(r, n->kids[0]->col);
    }
    return repl_bind(r, n->text, v, n->col);
}

/* A line that fails makes no parameter and draws no random number: what it made goes. */
static void undo_line(repl *r, int n_params, const gt_rng *rng) {
    while (r->n_params > n_params)
        value_release(r, (value){.kind = V_TENSOR, .box = r->params[--r->n_params]});
    r->rng = *rng;
}

bool repl_run_line(repl *r, const char *line) {
    r->err.col = 0;
    r->err.msg[0] = 0;
    gt_clear_error();
    node *stmt = parse_line(line, &r->err);
    if (!stmt)
        return r->err.msg[0] == 0;
    int n_params = r->n_params;
    gt_rng rng = r->rng;
    bool ok;
    if (stmt->kind == N_ASSIGN) {
        ok = run_assign(r, stmt);
    } else {
        value v;
        ok = eval(r, stmt, &v);
        if (ok) {
            print_value(r, stdout, v);
            value_release(r, v);
        }
    }
    node_free(stmt);
    if (!ok)
        undo_line(r, n_params, &rng);
    /* Intermediates no name holds are unreachable: give the arena back. */
    repl_reset_tape_if_unused(r);
    return ok;
}
