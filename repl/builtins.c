/* builtins.c - the builtin table: every row of the library's op table, aliases, and the REPL's
 * own builtins; maps positional and keyword arguments onto an op row's args spec. */
#include "builtins.h"
#include "eval.h"
#include "hash.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct builtin {
    const char *name;
    const gt_op_def *op;             /* an op of the library's table, or NULL */
    const struct builtin_info *info; /* a REPL builtin, or NULL */
    char *signature;                 /* owned, for ops: from the op's schema */
    char *doc;                       /* owned, for ops: doc, shapes, and which name it aliases */
    UT_hash_handle hh;
};

/* Short names the REPL has always accepted besides the table's names and aliases. */
static const struct {
    const char *alias, *op;
} op_aliases[] = {{"mse", "mse_loss"}};

static char *format_text(const char *fmt, const char *a, const char *b, const char *c) {
    size_t size = strlen(fmt) + strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = gt_malloc(size, "repl: builtin table");
    if (s)
        snprintf(s, size, fmt, a, b, c);
    return s;
}

/* Takes over signature and doc (freed on failure too). */
static bool add_builtin(repl *r, const char *name, const gt_op_def *op,
                        const struct builtin_info *info, char *signature, char *doc) {
    builtin *b = gt_calloc(1, sizeof *b, "repl: builtin table");
    if (!b) {
        gt_free(signature);
        gt_free(doc);
        return false;
    }
    *b = (builtin){.name = name, .op = op, .info = info, .signature = signature, .doc = doc};
    repl_hash_oom = false;
    HASH_ADD_KEYPTR(hh, r->builtins, b->name, strlen(b->name), b);
    if (repl_hash_oom) {
        gt_free(signature);
        gt_free(doc);
        gt_free(b);
        return false;
    }
    return true;
}

/* An op under `name` (its own or an alias), with its signature and doc from the table. */
static bool add_op(repl *r, const char *name, const gt_op_def *op) {
    char sig[512];
    gt_op_signature(op, sig, sizeof sig);
    bool alias = strcmp(name, op->name) != 0;
    char *signature = format_text("%s%s%s", name, strchr(sig, '('), "");
    char *doc = signature ? format_text(alias ? "%s (alias of %s)\n  shapes: %s"
                                              : "%s%s\n  shapes: %s",
                                        op->doc, alias ? op->name : "", op->shapes)
                          : NULL;
    if (!doc) {
        gt_free(signature);
        return false;
    }
    return add_builtin(r, name, op, NULL, signature, doc); /* frees both on failure */
}

static int by_name(const builtin *a, const builtin *b) { return strcmp(a->name, b->name); }

bool builtins_init(repl *r) {
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    for (int i = 0; i < count; i++)
        if (!add_op(r, ops[i]->name, ops[i]) ||
            (ops[i]->alias && !add_op(r, ops[i]->alias, ops[i])))
            return false;
    for (size_t i = 0; i < sizeof op_aliases / sizeof op_aliases[0]; i++) {
        const gt_op_def *op = gt_op_find(op_aliases[i].op);
        if (op && !add_op(r, op_aliases[i].alias, op))
            return false;
    }
    const struct builtin_info *own = repl_builtin_table(&count);
    for (int i = 0; i < count; i++)
        if (!add_builtin(r, own[i].name, NULL, &own[i], NULL, NULL))
            return false;
    const struct builtin_info *(*const tables[])(int *) = {
        lang_builtin_table, models_builtin_table, data_builtin_table, optim_builtin_table};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        const struct builtin_info *rows = tables[t](&count);
        for (int i = 0; i < count; i++)
            if (!add_builtin(r, rows[i].name, NULL, &rows[i], NULL, NULL))
                return false;
    }
    HASH_SRT(hh, r->builtins, by_name);
    return true;
}

void builtins_free(repl *r) {
    builtin *b, *tmp;
    HASH_ITER(hh, r->builtins, b, tmp) {
        HASH_DEL(r->builtins, b);
        gt_free(b->signature);
        gt_free(b->doc);
        gt_free(b);
    }
}

const builtin *builtin_find(repl *r, const char *name) {
    builtin *b = NULL;
    HASH_FIND_STR(r->builtins, name, b);
    return b;
}

unsigned builtin_flags(const builtin *b) { return b->info ? b->info->flags : 0; }
const char *builtin_name(const builtin *b) { return b->name; }
const builtin *builtin_first(repl *r) { return r->builtins; }
const builtin *builtin_next(const builtin *b) { return b->hh.next; }

const char *builtin_signature(const builtin *b) {
    return b->signature ? b->signature : b->info->signature;
}

const char *builtin_doc(const builtin *b) { return b->doc ? b->doc : b->info->doc; }

/* ---- an op's arguments, mapped by its schema -------------------------------------------- */

static bool op_usage(repl *r, const builtin *b, int col, const char *what, const char *name) {
    return repl_fail(r, col, "%s: %s%s%s; usage: %s", b->name, what, name ? " " : "",
                     name ? name : "", builtin_signature(b));
}

/* Tensor inputs of one call: an op's defs, or every positional tensor of a variadic op
 * (cat(a, b, c, dim=1)). */
#define CALL_MAX_INPUTS REPL_MAX_ARGS

/* The number of tensor inputs a call may give op. */
static int call_max_inputs(const gt_op_def *op) {
    return gt_op_variadic(op) ? CALL_MAX_INPUTS : gt_op_max_inputs(op);
}

typedef struct op_call {
    value in[CALL_MAX_INPUTS];
    int in_col[CALL_MAX_INPUTS];
    bool in_set[CALL_MAX_INPUTS];
    _Alignas(max_align_t) unsigned char args[GT_OP_ARGS_MAX];
    bool attr_set[GT_OP_MAX_ATTRS];
} op_call;

/* A REPL value as an attribute value: a list of whole numbers (a literal [0, 2] is a 1-D
 * tensor) is a list of ints. */
static bool attr_value_of(repl *r, const builtin *b, value v, int col, const char *name,
                          gt_attr_value *out) {
    *out = (gt_attr_value){0};
    switch (v.kind) {
    case V_NUM:
        out->kind = GT_VALUE_NUMBER;
        out->number = v.num;
        return true;
    case V_BOOL:
        out->kind = GT_VALUE_BOOL;
        out->number = v.num;
        return true;
    case V_STR:
        out->kind = GT_VALUE_STRING;
        out->string = v.box->str;
        return true;
    case V_NONE:
        out->kind = GT_VALUE_NONE;
        return true;
    case V_TENSOR:
    case V_LIST: /* [0, 2] (a literal of numbers is a 1-D tensor) or a list of numbers */
        out->kind = GT_VALUE_INTS;
        return value_int_list(r, v, col, out->ints.v, GT_MAX_DIMS, &out->ints.n);
    default:
        return repl_fail(r, col, "%s: %s cannot be %s", b->name, name, value_kind_phrase(v));
    }
}

static bool set_attr(repl *r, const builtin *b, op_call *c, int index, value v, int col) {
    const gt_op_def *op = b->op;
    gt_attr_value av;
    if (!attr_value_of(r, b, v, col, op->attrs[index].name, &av))
        return false;
    if (gt_op_args_set(op, c->args, index, &av) != GT_OK)
        return repl_fail_lib(r, col);
    c->attr_set[index] = true;
    return true;
}

/* Positional numbers past the last attribute go into it when it is a list (reshape(x, 3,
 * -1, 2), as x.reshape(3, -1, 2) in PyTorch). */
static bool set_trailing_list(repl *r, const builtin *b, const call_args *a, int i, op_call *c,
                              int index) {
    const gt_op_def *op = b->op;
    gt_attr_value av = {.kind = GT_VALUE_INTS};
    for (; i < a->n && !a->kw[i]; i++) {
        value v = a->vals[i];
        if (v.kind != V_NUM || v.num != floor(v.num) || av.ints.n == GT_MAX_DIMS)
            return op_usage(r, b, a->cols[i], "too many arguments", NULL);
        if (!(fabs(v.num) < 0x1p63)) /* no int64_t holds it: refused before the cast */
            return repl_fail(r, a->cols[i], "%s: %g is too large for a size or a dim", op->name,
                             v.num);
        av.ints.v[av.ints.n++] = (int64_t)v.num;
    }
    if (gt_op_args_set(op, c->args, index, &av) != GT_OK)
        return repl_fail_lib(r, a->cols[i - 1]);
    c->attr_set[index] = true;
    return true;
}

/* Places the positional arguments in the op's positional order (gt_op_positional_order):
 * tensors (and None) fill the inputs, the rest the attributes; a value other than a tensor
 * or None where an optional input comes moves on to the next attribute. Returns the index of
 * the first keyword argument, or -1. */
static int place_positionals(repl *r, const builtin *b, const call_args *a, op_call *c) {
    const gt_op_def *op = b->op;
    int min_in = gt_op_min_inputs(op);
    int slots[GT_OP_MAX_INPUTS + GT_OP_MAX_ATTRS];
    int n_slots = gt_op_positional_order(op, slots), s = 0, i = 0;
    int n_var = 0; /* tensors given so far to a variadic input (cat's tensors) */
    for (; i < a->n && !a->kw[i]; i++) {
        value v = a->vals[i];
        bool input_like = v.kind == V_TENSOR || v.kind == V_NONE;
        if (s < n_slots && slots[s] >= 0 && gt_op_input(op, slots[s])->variadic) {
            if (input_like && slots[s] + n_var < CALL_MAX_INPUTS) {
                int k = slots[s] + n_var++;
                c->in[k] = v;
                c->in_col[k] = a->cols[i];
                c->in_set[k] = true;
                continue;
            }
            if (n_var > 0)
                s++;
        }
        while (s < n_slots && slots[s] >= min_in && !input_like)
            s++;
        if (s >= n_slots) {
            op_usage(r, b, a->cols[i], "too many arguments", NULL);
            return -2;
        }
        if (slots[s] >= 0) {
            int k = slots[s++];
            c->in[k] = v;
            c->in_col[k] = a->cols[i];
            c->in_set[k] = true;
            continue;
        }
        int index = GT_OP_SLOT_ATTR(slots[s]);
        const gt_attr_def *def = &op->attrs[index];
        bool last = s == n_slots - 1;
        bool more = i + 1 < a->n && !a->kw[i + 1];
        if (last && def->type == GT_ATTR_INTS && v.kind == V_NUM && more) {
            if (!set_trailing_list(r, b, a, i, c, index))
                return -2;
            while (i < a->n && !a->kw[i])
                i++;
            break;
        }
        if (!set_attr(r, b, c, index, v, a->cols[i]))
            return -2;
        s++;
    }
    return i < a->n ? i : -1;
}

static bool place_keyword(repl *r, const builtin *b, const call_args *a, int i, op_call *c) {
    const gt_op_def *op = b->op;
    const char *kw = a->kw[i];
    for (int k = 0; k < gt_op_max_inputs(op); k++)
        if (strcmp(op->inputs[k].name, kw) == 0 ||
            (op->inputs[k].alias && strcmp(op->inputs[k].alias, kw) == 0)) {
            if (c->in_set[k])
                return op_usage(r, b, a->cols[i], "argument given twice:", kw);
            c->in[k] = a->vals[i];
            c->in_col[k] = a->cols[i];
            c->in_set[k] = true;
            return true;
        }
    int index = gt_op_attr_index(op, kw);
    if (index < 0)
        return op_usage(r, b, a->call->kwcols[i], "no argument named", kw);
    if (c->attr_set[index])
        return op_usage(r, b, a->cols[i], "argument given twice:", kw);
    return set_attr(r, b, c, index, a->vals[i], a->cols[i]);
}

static bool call_op(repl *r, const builtin *b, const call_args *a, value *out) {
    const gt_op_def *op = b->op;
    op_call c;
    memset(&c, 0, sizeof c);
    gt_op_args_default(op, c.args);
    int first_kw = place_positionals(r, b, a, &c);
    if (first_kw == -2)
        return false;
    for (int i = first_kw < 0 ? a->n : first_kw; i < a->n; i++) {
        if (!a->kw[i])
            return repl_fail(r, a->cols[i], "%s: positional argument after a keyword argument",
                             b->name);
        if (!place_keyword(r, b, a, i, &c))
            return false;
    }
    int min_in = gt_op_min_inputs(op), max_in = call_max_inputs(op);
    for (int k = 0; k < min_in; k++)
        if (!c.in_set[k] || c.in[k].kind == V_NONE)
            return op_usage(r, b, a->call->col, "missing the tensor argument", op->inputs[k].name);
    for (int k = 0; k < op->n_attrs; k++)
        if (!c.attr_set[k] && (op->attrs[k].flags & GT_ATTR_REQUIRED))
            return op_usage(r, b, a->call->col, "missing argument", op->attrs[k].name);
    gt_tensor *in[CALL_MAX_INPUTS] = {0};
    int n_in = 0;
    for (int k = 0; k < max_in; k++) {
        if (!c.in_set[k] || c.in[k].kind == V_NONE)
            continue;
        for (int j = n_in; j < k; j++)
            if (j >= min_in && !gt_op_input(op, j)->optional)
                return op_usage(r, b, a->call->col, "missing the tensor argument",
                                gt_op_input(op, j)->name);
        if (!value_to_tensor(r, c.in[k], c.in_col[k], &in[k]))
            return false;
        n_in = k + 1;
    }
    gt_tensor *t = gt_op_call(r->eval_tape, op, in, n_in, c.args);
    if (!t)
        return repl_fail_lib(r, a->call->col);
    return value_tensor(r, t, r->eval_tape, out);
}

bool builtin_call(repl *r, const builtin *b, const call_args *a, value *out) {
    *out = value_none();
    if (b->op)
        return call_op(r, b, a, out);
    return b->info->fn(r, a, out);
}
