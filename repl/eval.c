/* eval.c - evaluates an expression's syntax tree to a value: literals, lists, operators on
 * numbers, strings and tensors, comparisons, and/or/not, indexing, f-strings. Names and
 * calls are in call.c, statements in exec.c. */
#include "eval.h"
#include "builtins.h"
#include "eval_impl.h"

#include <math.h>
#include <string.h>

bool value_to_tensor(repl *r, value v, int col, gt_tensor **out) {
    if (v.kind == V_NUM || v.kind == V_BOOL) {
        gt_tensor *t = gt_tape_tensor(r->eval_tape, 0, NULL);
        if (!t)
            return repl_fail_lib(r, col);
        gt_tensor_data(t)[0] = (gt_real)v.num;
        *out = t;
        return true;
    }
    if (v.kind != V_TENSOR)
        return repl_fail(r, col, "expected a tensor or number, got %s", value_kind_phrase(v));
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
        bool ok = v.kind == V_NUM || v.kind == V_BOOL;
        if (ok)
            f->data[f->n++] = (gt_real)v.num;
        else
            repl_fail(r, n->col, "a list holds numbers, not %s", value_kind_phrase(v));
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

bool eval_list_items(repl *r, const node *n, value *out) {
    value list;
    if (!value_list(r, n->n_kids, &list))
        return repl_fail_lib(r, n->col);
    for (int i = 0; i < n->n_kids; i++) {
        value v;
        bool ok = eval(r, n->kids[i], &v) && list_append(r, list.box->list, v, n->kids[i]->col);
        value_release(r, v);
        if (!ok) {
            value_release(r, list);
            return false;
        }
    }
    *out = list;
    return true;
}

/* [a, b, c] with any values: a tensor when all are numbers, a list otherwise. */
static bool eval_flat_list(repl *r, const node *n, value *out) {
    value list;
    if (!eval_list_items(r, n, &list))
        return false;
    repl_list *l = list.box->list;
    bool numbers = l->n > 0;
    for (int i = 0; i < l->n; i++)
        numbers = numbers && (l->items[i].kind == V_NUM || l->items[i].kind == V_BOOL);
    if (!numbers) {
        *out = list;
        return true;
    }
    int64_t shape[1] = {l->n};
    gt_tensor *t = gt_zeros(1, shape);
    for (int i = 0; t && i < l->n; i++)
        gt_tensor_data(t)[i] = (gt_real)l->items[i].num;
    value_release(r, list);
    if (!t)
        return repl_fail_lib(r, n->col);
    return value_tensor(r, t, NULL, out);
}

/* A list of numbers only, [1, 2, 3] or [[1, 2], [3, 4]], is a tensor; [] and a flat list
 * holding anything else ([loss, "a", w]) is a list. */
static bool eval_list(repl *r, const node *n, value *out) {
    bool nested = false, literal = true;
    for (int i = 0; i < n->n_kids; i++) {
        const node *k = n->kids[i];
        nested = nested || k->kind == N_LIST;
        literal = literal && (k->kind == N_NUM || (k->kind == N_NEG && k->kids[0]->kind == N_NUM));
    }
    if (n->n_kids == 0 || (!nested && !literal))
        return eval_flat_list(r, n, out);
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

static bool compare_numbers(char op, double a, double b) {
    switch (op) {
    case '<':
        return a < b;
    case '>':
        return a > b;
    case OP_LE:
        return a <= b;
    case OP_GE:
        return a >= b;
    case OP_EQ:
        return a == b;
    default:
        return a != b;
    }
}

static bool is_comparison(char op) {
    return op == '<' || op == '>' || op == OP_LE || op == OP_GE || op == OP_EQ || op == OP_NE;
}

static const char *op_text(char op) {
    switch (op) {
    case OP_EQ:
        return "==";
    case OP_NE:
        return "!=";
    case OP_LE:
        return "<=";
    case OP_GE:
        return ">=";
    case OP_POW:
        return "**";
    case OP_FLOORDIV:
        return "//";
    case '<':
        return "<";
    case '>':
        return ">";
    case '%':
        return "%";
    case '@':
        return "@";
    case '+':
        return "+";
    case '-':
        return "-";
    case '*':
        return "*";
    default:
        return "/";
    }
}

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
    case '%': /* Python's: the sign of the divisor */
        *out = value_num(a - b * floor(a / b));
        return true;
    case OP_FLOORDIV:
        *out = value_num(floor(a / b));
        return true;
    case OP_POW:
        *out = value_num(pow(a, b));
        return true;
    case '@':
        return repl_fail(r, n->col, "@ multiplies matrices: both sides must be tensors");
    default:
        *out = value_bool(compare_numbers(n->op, a, b));
        return true;
    }
}

static bool tensor_result(repl *r, gt_tensor *t, int col, value *out) {
    if (!t)
        return repl_fail_lib(r, col);
    return value_tensor(r, t, r->eval_tape, out);
}

static bool eval_tensor_op(repl *r, const node *n, value a, value b, value *out) {
    if (n->op != '+' && n->op != '-' && n->op != '*' && n->op != '/' && n->op != '@' &&
        !is_comparison(n->op)) {
        return repl_fail(r, n->col, "%s works on numbers, not tensors%s", op_text(n->op),
                         n->op == OP_POW ? " (write x * x for a square)" : "");
    }
    gt_tensor *ta, *tb;
    if (!value_to_tensor(r, a, n->kids[0]->col, &ta) ||
        !value_to_tensor(r, b, n->kids[1]->col, &tb))
        return false;
    gt_tape *tape = r->eval_tape;
    gt_tensor *t;
    switch (n->op) {
    case '+':
        t = gt_add(tape, ta, tb);
        break;
    case '-':
        t = gt_sub(tape, ta, tb);
        break;
    case '*':
        t = gt_mul(tape, ta, tb);
        break;
    case '/':
        t = gt_div(tape, ta, tb);
        break;
    case '@':
        t = gt_matmul(tape, ta, tb);
        break;
    case '<': /* comparisons give the mask ops: tensors of 0 and 1 */
        t = gt_lt(tape, ta, tb);
        break;
    case '>':
        t = gt_gt(tape, ta, tb);
        break;
    case OP_LE:
        t = gt_le(tape, ta, tb);
        break;
    case OP_GE:
        t = gt_ge(tape, ta, tb);
        break;
    case OP_EQ:
        t = gt_eq(tape, ta, tb);
        break;
    default:
        t = gt_ne(tape, ta, tb);
        break;
    }
    return tensor_result(r, t, n->col, out);
}

/* Strings: + joins, comparisons compare; anything: == and != compare identity. */
static bool eval_other_op(repl *r, const node *n, value a, value b, value *out) {
    if (a.kind == V_STR && b.kind == V_STR) {
        if (n->op == '+') {
            size_t la = strlen(a.box->str), lb = strlen(b.box->str);
            char *s = gt_malloc(la + lb + 1, "repl: string");
            if (!s)
                return repl_fail_lib(r, n->col);
            memcpy(s, a.box->str, la);
            memcpy(s + la, b.box->str, lb + 1);
            bool ok = value_string(r, s, la + lb, out);
            gt_free(s);
            return ok;
        }
        if (is_comparison(n->op)) {
            int c = strcmp(a.box->str, b.box->str);
            *out = value_bool(compare_numbers(n->op, c, 0));
            return true;
        }
    }
    if (n->op == OP_EQ || n->op == OP_NE) {
        bool same = a.kind == b.kind && (a.kind == V_NONE || a.box == b.box);
        *out = value_bool(same == (n->op == OP_EQ));
        return true;
    }
    return repl_fail(r, n->col, "%s cannot combine %s and %s", op_text(n->op),
                     value_kind_phrase(a), value_kind_phrase(b));
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
    bool a_num = a.kind == V_NUM || a.kind == V_BOOL, b_num = b.kind == V_NUM || b.kind == V_BOOL;
    if (a_num && b_num)
        ok = eval_number_op(r, n, a.num, b.num, out);
    else if ((a.kind == V_TENSOR || a_num) && (b.kind == V_TENSOR || b_num))
        ok = eval_tensor_op(r, n, a, b, out);
    else
        ok = eval_other_op(r, n, a, b, out);
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
    if (v.kind == V_NUM || v.kind == V_BOOL)
        ok = (*out = value_num(-v.num), true);
    else
        ok = value_to_tensor(r, v, n->kids[0]->col, &t) &&
             tensor_result(r, gt_neg(r->eval_tape, t), n->col, out);
    value_release(r, v);
    return ok;
}

/* not x; x and y; x or y (the deciding operand, as in Python). */
static bool eval_logic(repl *r, const node *n, value *out) {
    value a;
    bool truth;
    if (!eval(r, n->kids[0], &a))
        return false;
    if (!value_truth(r, a, n->kids[0]->col, &truth)) {
        value_release(r, a);
        return false;
    }
    if (n->kind == N_NOT) {
        value_release(r, a);
        *out = value_bool(!truth);
        return true;
    }
    if (truth == (n->kind == N_OR)) {
        *out = a;
        return true;
    }
    value_release(r, a);
    return eval(r, n->kids[1], out);
}

bool value_to_index(repl *r, value v, int col, const char *what, double *out) {
    if (!value_as_number(v, out))
        return repl_fail(r, col, "%s must be a whole number, not %s", what, value_kind_phrase(v));
    if (*out != floor(*out))
        return repl_fail(r, col, "%s must be a whole number, not %g", what, *out);
    return true;
}

/* l[i] on a list (i < 0 counts from the end); x[...] on a tensor (index.c). */
static bool eval_index(repl *r, const node *n, value *out) {
    value obj_v, index;
    if (!eval(r, n->kids[0], &obj_v))
        return false;
    if (obj_v.kind == V_TENSOR) {
        bool ok = tensor_index(r, n, obj_v, out);
        value_release(r, obj_v);
        return ok;
    }
    if (n->n_kids != 2 || n->kids[1]->kind == N_SLICE || n->kids[1]->kind == N_ELLIPSIS) {
        value_release(r, obj_v);
        return repl_fail(r, n->col, "a list takes one index (l[0], l[-1]); slices and several "
                         "indices are for tensors");
    }
    if (!eval(r, n->kids[1], &index)) {
        value_release(r, obj_v);
        return false;
    }
    bool ok;
    double i = 0;
    if (obj_v.kind != V_LIST) {
        ok = repl_fail(r, n->col, "%s cannot be indexed (lists can: l[0], l[-1])",
                       value_kind_phrase(obj_v));
    } else if ((ok = value_to_index(r, index, n->kids[1]->col, "a list index", &i))) {
        int len = obj_v.box->list->n;
        double at = i < 0 ? i + len : i;
        if (at < 0 || at >= len)
            ok = repl_fail(r, n->kids[1]->col, "list index %.17g out of range (length %d)", i,
                           len);
        else
            *out = value_ref(obj_v.box->list->items[(int)at]);
    }
    value_release(r, obj_v);
    value_release(r, index);
    return ok;
}

bool eval(repl *r, const node *n, value *out) {
    *out = value_none();
    switch (n->kind) {
    case N_NUM:
        *out = value_num(n->num);
        return true;
    case N_BOOL:
        *out = value_bool(n->num != 0);
        return true;
    case N_NONE:
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
    case N_NOT:
    case N_AND:
    case N_OR:
        return eval_logic(r, n, out);
    case N_INDEX:
        return eval_index(r, n, out);
    case N_FSTRING:
        return eval_fstring(r, n, out);
    case N_SLICE:
    case N_ELLIPSIS:
        return repl_fail(r, n->col, "a slice or ... stands only inside x[...]");
    default:
        return repl_fail(r, n->col, "a statement cannot be used as a value");
    }
}
