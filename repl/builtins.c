/* builtins.c - the builtin table: every row of the library's op table, aliases, and the REPL's
 * own builtins; maps positional and keyword arguments onto an op row's args spec. */
#include "builtins.h"
#include "eval.h"
#include "hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct builtin {
    const char *name;
    const gt_op_info *op;            /* an op-table row, or NULL */
    const struct builtin_info *info; /* a REPL builtin, or NULL */
    char *signature;                 /* owned, for aliases */
    char *doc;                       /* owned, for aliases */
    UT_hash_handle hh;
};

/* Names the issue uses that differ from the op table's. */
static const struct {
    const char *alias, *op;
} op_aliases[] = {{"mse", "mse_loss"}};

static char *format_text(const char *fmt, const char *a, const char *b) {
    size_t size = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *s = gt_malloc(size, "repl: builtin table");
    if (s)
        snprintf(s, size, fmt, a, b);
    return s;
}

/* Takes over signature and doc (freed on failure too). */
static bool add_builtin(repl *r, const char *name, const gt_op_info *op,
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

static int by_name(const builtin *a, const builtin *b) { return strcmp(a->name, b->name); }

bool builtins_init(repl *r) {
    const gt_op_info *table = gt_op_table();
    for (int i = 0; i < GT_OP_COUNT; i++)
        if (!add_builtin(r, table[i].name, &table[i], NULL, NULL, NULL))
            return false;
    for (size_t i = 0; i < sizeof op_aliases / sizeof op_aliases[0]; i++) {
        const gt_op_info *op = gt_op_find(op_aliases[i].op);
        if (!op)
            continue;
        char *sig = format_text("%s%s", op_aliases[i].alias, strchr(op->signature, '('));
        char *doc = sig ? format_text("%s (alias of %s)", op->doc, op->name) : NULL;
        if (!doc) {
            gt_free(sig);
            return false;
        }
        if (!add_builtin(r, op_aliases[i].alias, op, NULL, sig, doc)) /* frees sig and doc */
            return false;
    }
    int count;
    const struct builtin_info *own = repl_builtin_table(&count);
    for (int i = 0; i < count; i++)
        if (!add_builtin(r, own[i].name, NULL, &own[i], NULL, NULL))
            return false;
    const struct builtin_info *lang = lang_builtin_table(&count);
    for (int i = 0; i < count; i++)
        if (!add_builtin(r, lang[i].name, NULL, &lang[i], NULL, NULL))
            return false;
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
    return b->signature ? b->signature : b->op ? b->op->signature : b->info->signature;
}

const char *builtin_doc(const builtin *b) {
    return b->doc ? b->doc : b->op ? b->op->doc : b->info->doc;
}

/* ---- an op row's arguments ------------------------------------------------------------ */

typedef struct spec_arg {
    char name[32];
    bool optional, variadic, has_default;
    double value;
} spec_arg;

/* Splits an args spec such as "stride=1 padding=0", "axis?", "dims..." into entries. */
static int parse_spec(const char *spec, spec_arg *out) {
    int n = 0;
    for (const char *p = spec; *p && n < GT_OP_MAX_ARGS;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (!len)
            break;
        spec_arg *a = &out[n++];
        memset(a, 0, sizeof *a);
        size_t name_len = strcspn(p, " =?.");
        snprintf(a->name, sizeof a->name, "%.*s", (int)(name_len < 31 ? name_len : 31), p);
        a->value = NAN;
        if (p[name_len] == '=') {
            a->has_default = true;
            a->value = strtod(p + name_len + 1, NULL);
        }
        a->optional = p[name_len] == '?' || a->has_default;
        a->variadic = len > 3 && memcmp(p + len - 3, "...", 3) == 0;
        p += len;
    }
    return n;
}

/* The names of the tensor inputs, from the signature: "conv2d(x[N,C,H,W], w[..], b[O]?" */
static int input_names(const gt_op_info *op, char names[][32]) {
    const char *p = strchr(op->signature, '(');
    int n = 0;
    while (p && *p && n < op->max_inputs) {
        p++;
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, "[?,)= ");
        snprintf(names[n++], 32, "%.*s", (int)(len < 31 ? len : 31), p);
        int depth = 0;
        while (*p && (depth > 0 || (*p != ',' && *p != ')'))) {
            depth += *p == '[' ? 1 : *p == ']' ? -1 : 0;
            p++;
        }
        if (*p != ',')
            break;
    }
    return n;
}

static bool op_usage(repl *r, const builtin *b, int col, const char *what, const char *name) {
    return repl_fail(r, col, "%s: %s%s%s; usage: %s", b->name, what, name ? " " : "",
                     name ? name : "", builtin_signature(b));
}

typedef struct op_call {
    value in[GT_OP_MAX_ARGS];
    int in_col[GT_OP_MAX_ARGS];
    bool in_set[GT_OP_MAX_ARGS];
    gt_op_args args;
    bool arg_set[GT_OP_MAX_ARGS];
} op_call;

/* Puts argument i (positional) into an input or scalar slot. */
static bool place_positional(repl *r, const builtin *b, const call_args *a, int i,
                             const spec_arg *spec, int n_spec, op_call *c, int *n_in,
                             int *n_scalar) {
    const gt_op_info *op = b->op;
    value v = a->vals[i];
    bool scalars_started = *n_scalar > 0;
    if (*n_in < op->min_inputs ||
        (*n_in < op->max_inputs && v.kind == V_TENSOR && !scalars_started)) {
        c->in[*n_in] = v;
        c->in_col[*n_in] = a->cols[i];
        c->in_set[(*n_in)++] = true;
        return true;
    }
    bool variadic = n_spec > 0 && spec[n_spec - 1].variadic;
    if (*n_scalar >= (variadic ? GT_OP_MAX_ARGS : n_spec))
        return op_usage(r, b, a->cols[i], "too many arguments", NULL);
    if (v.kind != V_NUM)
        return repl_fail(r, a->cols[i], "%s: expected a number here, got a %s; usage: %s",
                         b->name, value_kind_name(v), builtin_signature(b));
    c->args.v[*n_scalar] = v.num;
    c->arg_set[(*n_scalar)++] = true;
    return true;
}

static bool place_keyword(repl *r, const builtin *b, const call_args *a, int i,
                          const spec_arg *spec, int n_spec, op_call *c) {
    char names[GT_OP_MAX_ARGS][32];
    int n_names = input_names(b->op, names);
    const char *kw = a->kw[i];
    for (int k = 0; k < n_names; k++)
        if (strcmp(names[k], kw) == 0) {
            if (c->in_set[k])
                return op_usage(r, b, a->cols[i], "argument given twice:", kw);
            c->in[k] = a->vals[i];
            c->in_col[k] = a->cols[i];
            c->in_set[k] = true;
            return true;
        }
    for (int k = 0; k < n_spec; k++)
        if (strcmp(spec[k].name, kw) == 0 && !spec[k].variadic) {
            if (c->arg_set[k])
                return op_usage(r, b, a->cols[i], "argument given twice:", kw);
            if (a->vals[i].kind != V_NUM)
                return repl_fail(r, a->cols[i], "%s: %s must be a number", b->name, kw);
            c->args.v[k] = a->vals[i].num;
            c->arg_set[k] = true;
            return true;
        }
    return op_usage(r, b, a->call->kwcols[i], "no argument named", kw);
}

static bool call_op(repl *r, const builtin *b, const call_args *a, value *out) {
    spec_arg spec[GT_OP_MAX_ARGS];
    int n_spec = parse_spec(b->op->args, spec);
    op_call c;
    memset(&c, 0, sizeof c);
    int n_in = 0, n_scalar = 0;
    bool seen_keyword = false;
    for (int i = 0; i < a->n; i++) {
        if (a->kw[i]) {
            seen_keyword = true;
            if (!place_keyword(r, b, a, i, spec, n_spec, &c))
                return false;
        } else if (seen_keyword) {
            return repl_fail(r, a->cols[i], "%s: positional argument after a keyword argument",
                             b->name);
        } else if (!place_positional(r, b, a, i, spec, n_spec, &c, &n_in, &n_scalar)) {
            return false;
        }
    }
    /* Inputs: the leading filled slots; the rest must be optional and empty. */
    n_in = 0;
    while (n_in < b->op->max_inputs && c.in_set[n_in])
        n_in++;
    for (int k = n_in; k < b->op->max_inputs; k++)
        if (c.in_set[k] || k < b->op->min_inputs)
            return op_usage(r, b, a->call->col, "missing a tensor argument", NULL);
    /* Scalars: fill defaults up to the last one given; a required one must be given. */
    int count = 0;
    bool variadic = n_spec > 0 && spec[n_spec - 1].variadic;
    for (int k = 0; k < GT_OP_MAX_ARGS; k++)
        if (c.arg_set[k])
            count = k + 1;
    for (int k = 0; k < n_spec && !spec[k].variadic; k++) {
        if (c.arg_set[k])
            continue;
        if (!spec[k].optional)
            return op_usage(r, b, a->call->col, "missing argument", spec[k].name);
        c.args.v[k] = spec[k].value;
    }
    if (variadic && count < n_spec)
        return op_usage(r, b, a->call->col, "missing argument", spec[n_spec - 1].name);
    c.args.count = variadic ? count : n_spec;
    gt_tensor *in[GT_OP_MAX_ARGS];
    for (int k = 0; k < n_in; k++)
        if (!value_to_tensor(r, c.in[k], c.in_col[k], &in[k]))
            return false;
    gt_tensor *t = gt_op_apply(r->eval_tape, b->op->op, in, n_in, &c.args);
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
