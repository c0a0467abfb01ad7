/* table.c - the op table (gt_op_list), the attribute schema's reading and checking, and the
 * checks every op shares. Each op's gt_op_def lives beside its kernels in its family file;
 * this file lists them and runs them (gt_op_call). */
#include "gt_ops_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gt_op_def *const op_list[] = {
    &gt_op_matmul,      &gt_op_linear,       &gt_op_add,        &gt_op_sub,
    &gt_op_mul,         &gt_op_div,          &gt_op_neg,        &gt_op_scale,
    &gt_op_relu,        &gt_op_leaky_relu,   &gt_op_sigmoid,    &gt_op_tanh,
    &gt_op_exp,         &gt_op_log,          &gt_op_softmax,    &gt_op_log_softmax,
    &gt_op_sum,         &gt_op_mean,         &gt_op_reshape,    &gt_op_flatten,
    &gt_op_transpose,   &gt_op_conv2d,       &gt_op_conv1d,     &gt_op_conv_transpose2d,
    &gt_op_conv2d_weight,
    &gt_op_max_pool2d,  &gt_op_avg_pool2d,   &gt_op_cross_entropy, &gt_op_mse_loss,
    /* elementwise math, comparisons, reductions and activations */
    &gt_op_elu, &gt_op_selu, &gt_op_gelu, &gt_op_silu, &gt_op_softplus, &gt_op_hardtanh,
    &gt_op_hardsigmoid, &gt_op_sqrt, &gt_op_rsqrt, &gt_op_abs, &gt_op_erf, &gt_op_clamp,
    &gt_op_pow, &gt_op_maximum, &gt_op_minimum, &gt_op_eq, &gt_op_ne, &gt_op_lt, &gt_op_le, &gt_op_gt,
    &gt_op_ge, &gt_op_where, &gt_op_masked_fill, &gt_op_amax, &gt_op_amin, &gt_op_logsumexp,
    &gt_op_var, &gt_op_std, &gt_op_max, &gt_op_argmax,
    /* layers as functional ops */
    &gt_op_batch_norm, &gt_op_layer_norm, &gt_op_group_norm, &gt_op_dropout,
    &gt_op_l1_loss, &gt_op_smooth_l1_loss, &gt_op_huber_loss,
    &gt_op_binary_cross_entropy_with_logits, &gt_op_nll_loss,
    /* pooling beyond max_pool2d and avg_pool2d */
    &gt_op_max_pool1d, &gt_op_avg_pool1d, &gt_op_adaptive_avg_pool2d, &gt_op_adaptive_max_pool2d,
    /* shape and indexing */
    &gt_op_unsqueeze, &gt_op_squeeze, &gt_op_permute, &gt_op_expand, &gt_op_narrow, &gt_op_pad,
    &gt_op_cat, &gt_op_stack, &gt_op_index_select, &gt_op_gather, &gt_op_embedding,
    &gt_op_index_add, &gt_op_scatter_add,
};

#define OP_COUNT ((int)(sizeof op_list / sizeof op_list[0]))

const gt_op_def *const *gt_op_list(int *count) {
    if (count)
        *count = OP_COUNT;
    return op_list;
}

const gt_op_def *gt_op_find(const char *name) {
    for (int i = 0; name && i < OP_COUNT; i++)
        if (strcmp(op_list[i]->name, name) == 0 ||
            (op_list[i]->alias && strcmp(op_list[i]->alias, name) == 0))
            return op_list[i];
    return NULL;
}

int gt_op_max_inputs(const gt_op_def *op) {
    int n = 0;
    while (n < GT_OP_MAX_INPUTS && op->inputs[n].name)
        n++;
    return n;
}

int gt_op_min_inputs(const gt_op_def *op) {
    int n = 0;
    while (n < GT_OP_MAX_INPUTS && op->inputs[n].name && !op->inputs[n].optional)
        n++;
    return n;
}

bool gt_op_variadic(const gt_op_def *op) {
    int n = gt_op_max_inputs(op);
    return n > 0 && op->inputs[n - 1].variadic;
}

const gt_input_def *gt_op_input(const gt_op_def *op, int index) {
    int n = gt_op_max_inputs(op);
    if (index >= n && gt_op_variadic(op))
        index = n - 1;
    return index >= 0 && index < n ? &op->inputs[index] : NULL;
}

int64_t gt_op_index_bound(const gt_op_def *op, int ndim, const int64_t *shape,
                          const void *args) {
    int at = gt_op_attr_index(op, "dim");
    int64_t dim = at >= 0 && op->attrs[at].type == GT_ATTR_INT
                      ? *(const int64_t *)((const char *)args + op->attrs[at].offset)
                      : 0;
    if (dim < 0)
        dim += ndim;
    return ndim > 0 && dim >= 0 && dim < ndim ? shape[dim] : 1;
}

int gt_op_attr_index(const gt_op_def *op, const char *name) {
    for (int i = 0; name && i < op->n_attrs; i++)
        if (strcmp(op->attrs[i].name, name) == 0 ||
            (op->attrs[i].alias && strcmp(op->attrs[i].alias, name) == 0))
            return i;
    return -1;
}

/* ---- attribute values ----------------------------------------------------------------- */

static void *attr_slot(const gt_attr_def *a, void *args) { return (char *)args + a->offset; }
static const void *attr_cslot(const gt_attr_def *a, const void *args) {
    return (const char *)args + a->offset;
}

void gt_op_args_default(const gt_op_def *op, void *args) {
    if (op->args_size)
        memset(args, 0, op->args_size);
    for (int i = 0; i < op->n_attrs; i++) {
        const gt_attr_def *a = &op->attrs[i];
        void *slot = attr_slot(a, args);
        switch (a->type) {
        case GT_ATTR_INT: *(int64_t *)slot = (int64_t)a->dflt; break;
        case GT_ATTR_FLOAT: *(double *)slot = a->dflt; break;
        case GT_ATTR_BOOL: *(bool *)slot = a->dflt != 0; break;
        case GT_ATTR_ENUM: *(int *)slot = (int)a->dflt; break;
        case GT_ATTR_INTS: *(gt_ints *)slot = a->dflt_ints; break;
        }
    }
}

/* The index of `word` among "a|b|c", or -1. */
static int choice_index(const char *choices, const char *word) {
    size_t len = strlen(word);
    int index = 0;
    for (const char *p = choices; p && *p; index++) {
        size_t n = strcspn(p, "|");
        if (n == len && strncmp(p, word, len) == 0)
            return index;
        p += n + (p[n] == '|');
    }
    return -1;
}

static bool whole(double v) { return v == floor(v) && fabs(v) < 9.0e15; }

static gt_status attr_error(const gt_op_def *op, const gt_attr_def *a, const char *expected) {
    return gt_set_error(GT_ERR_ARG, "%s: %s must be %s", op->name, a->name, expected);
}

gt_status gt_op_args_set(const gt_op_def *op, void *args, int index, const gt_attr_value *v) {
    if (index < 0 || index >= op->n_attrs)
        return gt_set_error(GT_ERR_ARG, "%s: no attribute number %d", op->name, index);
    const gt_attr_def *a = &op->attrs[index];
    void *slot = attr_slot(a, args);
    bool none_ok = a->flags & GT_ATTR_OPTIONAL;
    if (v->kind == GT_VALUE_NONE) {
        if (!none_ok)
            return attr_error(op, a, "given (it cannot be None)");
        if (a->type == GT_ATTR_FLOAT)
            *(double *)slot = NAN;
        else if (a->type == GT_ATTR_INTS)
            *(gt_ints *)slot = (gt_ints){0};
        else
            return attr_error(op, a, "given (it cannot be None)");
        return GT_OK;
    }
    switch (a->type) {
    case GT_ATTR_INT:
        if ((v->kind != GT_VALUE_NUMBER && v->kind != GT_VALUE_BOOL) || !whole(v->number))
            return attr_error(op, a, "an integer");
        *(int64_t *)slot = (int64_t)v->number;
        return GT_OK;
    case GT_ATTR_FLOAT:
        if (v->kind != GT_VALUE_NUMBER && v->kind != GT_VALUE_BOOL)
            return attr_error(op, a, "a number");
        *(double *)slot = v->number;
        return GT_OK;
    case GT_ATTR_BOOL:
        if ((v->kind != GT_VALUE_NUMBER && v->kind != GT_VALUE_BOOL) ||
            (v->number != 0 && v->number != 1))
            return attr_error(op, a, "True or False (or 1 or 0)");
        *(bool *)slot = v->number != 0;
        return GT_OK;
    case GT_ATTR_ENUM: {
        int choice = v->kind == GT_VALUE_STRING ? choice_index(a->choices, v->string) : -1;
        if (choice < 0)
            return gt_set_error(GT_ERR_ARG, "%s: %s must be one of \"%s\"%s%s%s", op->name,
                                a->name, a->choices, v->kind == GT_VALUE_STRING ? ", got \"" : "",
                                v->kind == GT_VALUE_STRING ? v->string : "",
                                v->kind == GT_VALUE_STRING ? "\"" : "");
        *(int *)slot = choice;
        return GT_OK;
    }
    case GT_ATTR_INTS: {
        int max_len = a->max_len ? a->max_len : GT_MAX_DIMS;
        gt_ints list = {0};
        int word = 0; /* a string in place of the list (conv2d's padding="same"): 1 + index */
        if (v->kind == GT_VALUE_STRING && a->choices) {
            word = choice_index(a->choices, v->string) + 1;
            if (!word)
                return gt_set_error(GT_ERR_ARG, "%s: %s must be an integer, a list of integers "
                                    "or one of \"%s\", got \"%s\"", op->name, a->name,
                                    a->choices, v->string);
        } else if (v->kind == GT_VALUE_NUMBER && whole(v->number)) {
            list = (gt_ints){1, {(int64_t)v->number}};
        } else if (v->kind == GT_VALUE_INTS && v->ints.n >= 1 && v->ints.n <= max_len) {
            list = v->ints;
        } else if (v->kind == GT_VALUE_INTS && max_len == 1) {
            return gt_set_error(GT_ERR_ARG, "%s: %s takes one integer, got a list of %d",
                                op->name, a->name, v->ints.n);
        } else if (v->kind == GT_VALUE_INTS) {
            return gt_set_error(GT_ERR_ARG, "%s: %s takes 1 to %d integers, got %d", op->name,
                                a->name, max_len, v->ints.n);
        } else if (a->choices) {
            return gt_set_error(GT_ERR_ARG, "%s: %s must be an integer, a list of integers or "
                                "one of \"%s\"", op->name, a->name, a->choices);
        } else {
            return attr_error(op, a, max_len > 1 ? "an integer or a list of integers"
                                                 : "an integer");
        }
        *(gt_ints *)slot = list;
        if (a->choices)
            *(int *)((char *)args + a->choice_offset) = word;
        return GT_OK;
    }
    }
    return attr_error(op, a, "of a known type");
}

/* Range checks of every attribute: once per call, before the kernel runs. */
static gt_status check_range(const gt_op_def *op, const gt_attr_def *a, double v) {
    if ((a->flags & GT_ATTR_HAS_MIN) && !(v >= a->min))
        return gt_set_error(GT_ERR_ARG, "%s: %s must be >= %g, got %g", op->name, a->name,
                            a->min, v);
    if ((a->flags & GT_ATTR_HAS_MAX) && !(v <= a->max))
        return gt_set_error(GT_ERR_ARG, "%s: %s must be <= %g, got %g", op->name, a->name,
                            a->max, v);
    return GT_OK;
}

static gt_status check_attrs(const gt_op_def *op, const void *args) {
    for (int i = 0; i < op->n_attrs; i++) {
        const gt_attr_def *a = &op->attrs[i];
        const void *slot = attr_cslot(a, args);
        gt_status status = GT_OK;
        switch (a->type) {
        case GT_ATTR_INT: status = check_range(op, a, (double)*(const int64_t *)slot); break;
        case GT_ATTR_FLOAT: {
            double v = *(const double *)slot;
            if (isnan(v) && (a->flags & GT_ATTR_OPTIONAL))
                break;
            status = check_range(op, a, v);
            break;
        }
        case GT_ATTR_BOOL: break;
        case GT_ATTR_ENUM: {
            int choice = *(const int *)slot, count = 1;
            for (const char *p = a->choices; p && *p; p++)
                count += *p == '|';
            if (choice < 0 || choice >= count)
                status = gt_set_error(GT_ERR_ARG, "%s: %s: no choice number %d of \"%s\"",
                                      op->name, a->name, choice, a->choices);
            break;
        }
        case GT_ATTR_INTS: {
            const gt_ints *list = slot;
            int max_len = a->max_len ? a->max_len : GT_MAX_DIMS;
            bool string = a->choices && *(const int *)((const char *)args + a->choice_offset);
            if (string)
                break;
            if (list->n < 0 || list->n > max_len || (list->n == 0 && !(a->flags & GT_ATTR_OPTIONAL)))
                status = gt_set_error(GT_ERR_ARG, "%s: %s takes 1 to %d integers, got %d",
                                      op->name, a->name, max_len, list->n);
            for (int k = 0; status == GT_OK && k < list->n; k++)
                status = check_range(op, a, (double)list->v[k]);
            break;
        }
        }
        if (status != GT_OK)
            return status;
    }
    return GT_OK;
}

gt_tensor *gt_op_call(gt_tape *tape, const gt_op_def *op, gt_tensor *const *in, int n_in,
                      const void *args) {
    if (!op) {
        gt_set_error(GT_ERR_ARG, "op_call: the op is NULL");
        return NULL;
    }
    if (!tape) {
        gt_set_error(GT_ERR_ARG, "%s: tape is NULL", op->name);
        return NULL;
    }
    int min = gt_op_min_inputs(op), max = gt_op_max_inputs(op);
    while (n_in > min && !in[n_in - 1]) /* absent optional inputs at the end */
        n_in--;
    bool variadic = gt_op_variadic(op); /* any number from min up */
    if (n_in < min || (!variadic && n_in > max)) {
        if (variadic)
            gt_set_error(GT_ERR_ARG, "%s: takes at least %d tensor input%s, got %d", op->name,
                         min, min == 1 ? "" : "s", n_in);
        else if (min == max)
            gt_set_error(GT_ERR_ARG, "%s: takes %d tensor input%s, got %d", op->name, min,
                         min == 1 ? "" : "s", n_in);
        else
            gt_set_error(GT_ERR_ARG, "%s: takes %d to %d tensor inputs, got %d", op->name, min,
                         max, n_in);
        return NULL;
    }
    unsigned char defaults[GT_OP_ARGS_MAX];
    if (op->n_attrs && !args) {
        gt_op_args_default(op, defaults);
        args = defaults;
    }
    if (op->n_attrs && check_attrs(op, args) != GT_OK)
        return NULL;
    int64_t profile_start = gt__profile_begin(tape);
    gt_tensor *out = op->forward(op, tape, in, n_in, args);
    if (profile_start) {
        double backward_flops, flops = gt__op_flops(op, in, n_in, out, &backward_flops);
        gt__profile_end(tape, profile_start, op->name, out, flops, backward_flops);
    }
    if (out)
        gt__note_success();
    return out;
}

gt_tensor *gt__op_call_typed(gt_tape *tape, const gt_op_def *op, gt_tensor *const *in,
                             int n_in, const void *user_args) {
    unsigned char args[GT_OP_ARGS_MAX];
    gt_op_args_default(op, args);
    if (user_args) {
        memcpy(args, user_args, op->args_size);
        unsigned char defaults[GT_OP_ARGS_MAX];
        gt_op_args_default(op, defaults);
        for (int i = 0; i < op->n_attrs; i++) {
            const gt_attr_def *a = &op->attrs[i];
            if (!(a->flags & GT_ATTR_ZERO_DEFAULT))
                continue;
            void *slot = attr_slot(a, args);
            bool zero = a->type == GT_ATTR_INTS ? ((gt_ints *)slot)->n == 0
                        : a->type == GT_ATTR_INT ? *(int64_t *)slot == 0
                        : a->type == GT_ATTR_FLOAT ? *(double *)slot == 0
                                                   : false;
            if (zero)
                memcpy(slot, attr_cslot(a, defaults),
                       a->type == GT_ATTR_INTS ? sizeof(gt_ints) : sizeof(int64_t));
        }
    }
    return gt_op_call(tape, op, in, n_in, args);
}

/* ---- attributes from text (test cases, specs) ------------------------------------------ */

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads one value: a number, True/False/None, "string" or [int, ...]. */
static const char *parse_value(const char *p, gt_attr_value *v, char *str, size_t str_size) {
    p = skip_space(p);
    *v = (gt_attr_value){0};
    if (*p == '"' || *p == '\'') {
        char quote = *p++;
        size_t n = 0;
        while (*p && *p != quote && n + 1 < str_size)
            str[n++] = *p++;
        str[n] = 0;
        if (*p != quote)
            return NULL;
        v->kind = GT_VALUE_STRING;
        v->string = str;
        return p + 1;
    }
    if (*p == '[') {
        v->kind = GT_VALUE_INTS;
        p = skip_space(p + 1);
        while (*p && *p != ']') {
            char *end;
            long long value = strtoll(p, &end, 10);
            if (end == p || v->ints.n >= GT_MAX_DIMS)
                return NULL;
            v->ints.v[v->ints.n++] = value;
            p = skip_space(end);
            if (*p == ',')
                p = skip_space(p + 1);
        }
        return *p == ']' ? p + 1 : NULL;
    }
    static const struct {
        const char *word;
        gt_value_kind kind;
        double number;
    } words[] = {{"True", GT_VALUE_BOOL, 1}, {"False", GT_VALUE_BOOL, 0},
                 {"None", GT_VALUE_NONE, 0}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t len = strlen(words[i].word);
        if (strncmp(p, words[i].word, len) == 0 && !isalnum((unsigned char)p[len])) {
            v->kind = words[i].kind;
            v->number = words[i].number;
            return p + len;
        }
    }
    char *end;
    v->number = strtod(p, &end);
    v->kind = GT_VALUE_NUMBER;
    return end == p ? NULL : end;
}

gt_status gt_op_args_parse(const gt_op_def *op, const char *text, void *args) {
    gt_op_args_default(op, args);
    bool given[GT_OP_MAX_ATTRS] = {0};
    const char *p = skip_space(text ? text : "");
    while (*p) {
        size_t len = strcspn(p, "= ");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(len < 31 ? len : 31), p);
        int index = gt_op_attr_index(op, name);
        if (index < 0)
            return gt_set_error(GT_ERR_ARG, "%s: no attribute named %s", op->name, name);
        p = skip_space(p + len);
        if (*p != '=')
            return gt_set_error(GT_ERR_ARG, "%s: expected = after %s", op->name, name);
        gt_attr_value value;
        char str[64];
        p = parse_value(p + 1, &value, str, sizeof str);
        if (!p)
            return gt_set_error(GT_ERR_ARG, "%s: bad value for %s in \"%s\"", op->name, name,
                                text);
        gt_status status = gt_op_args_set(op, args, index, &value);
        if (status != GT_OK)
            return status;
        given[index] = true;
        p = skip_space(p);
        if (*p == ',')
            p = skip_space(p + 1);
    }
    for (int i = 0; i < op->n_attrs; i++)
        if ((op->attrs[i].flags & GT_ATTR_REQUIRED) && !given[i])
            return gt_set_error(GT_ERR_ARG, "%s: missing argument %s", op->name,
                                op->attrs[i].name);
    return GT_OK;
}

/* ---- signature ------------------------------------------------------------------------- */

static void append(char *buf, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *used, const char *fmt, ...) {
    if (*used >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n;
}

static void append_default(char *buf, size_t size, size_t *used, const gt_attr_def *a) {
    switch (a->type) {
    case GT_ATTR_INT: append(buf, size, used, "%lld", (long long)a->dflt); break;
    case GT_ATTR_FLOAT:
        if (isnan(a->dflt))
            append(buf, size, used, "None");
        else
            append(buf, size, used, "%g", a->dflt);
        break;
    case GT_ATTR_BOOL: append(buf, size, used, "%s", a->dflt ? "True" : "False"); break;
    case GT_ATTR_ENUM: {
        const char *p = a->choices;
        for (int i = 0; i < (int)a->dflt && p; i++)
            p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL;
        append(buf, size, used, "\"%.*s\"", p ? (int)strcspn(p, "|") : 0, p ? p : "");
        break;
    }
    case GT_ATTR_INTS:
        if (a->dflt_ints.n == 0) {
            append(buf, size, used, "None");
        } else if (a->dflt_ints.n == 1) {
            append(buf, size, used, "%lld", (long long)a->dflt_ints.v[0]);
        } else {
            append(buf, size, used, "[");
            for (int k = 0; k < a->dflt_ints.n; k++)
                append(buf, size, used, "%s%lld", k ? ", " : "", (long long)a->dflt_ints.v[k]);
            append(buf, size, used, "]");
        }
        break;
    }
}

int gt_op_positional_order(const gt_op_def *op, int *slots) {
    int n = 0, n_in = gt_op_max_inputs(op);
    for (int k = 0; k < n_in; k++) {
        slots[n++] = k;
        for (int i = 0; i < op->n_attrs; i++)
            if (op->attrs[i].after_input == k + 1)
                slots[n++] = GT_OP_SLOT_ATTR(i);
    }
    for (int i = 0; i < op->n_attrs; i++)
        if (op->attrs[i].after_input == 0 || op->attrs[i].after_input > n_in)
            slots[n++] = GT_OP_SLOT_ATTR(i);
    return n;
}

const char *gt_op_signature(const gt_op_def *op, char *buf, size_t size) {
    size_t used = 0;
    if (!size)
        return buf;
    buf[0] = 0;
    append(buf, size, &used, "%s(", op->name);
    int slots[GT_OP_MAX_INPUTS + GT_OP_MAX_ATTRS];
    int n = gt_op_positional_order(op, slots);
    for (int s = 0; s < n; s++) {
        append(buf, size, &used, "%s", s ? ", " : "");
        if (slots[s] >= 0) {
            const gt_input_def *in = &op->inputs[slots[s]];
            append(buf, size, &used, "%s%s", in->name, in->optional ? "=None" : "");
            continue;
        }
        const gt_attr_def *a = &op->attrs[GT_OP_SLOT_ATTR(slots[s])];
        append(buf, size, &used, "%s", a->name);
        if (!(a->flags & GT_ATTR_REQUIRED)) {
            append(buf, size, &used, "=");
            append_default(buf, size, &used, a);
        }
    }
    append(buf, size, &used, ")");
    return buf;
}

/* ---- shared helpers ------------------------------------------------------------------ */

gt_status gt__check_inputs(const char *op, gt_tape *tape, gt_tensor *const *in, int n,
                           int optional_from) {
    if (!tape)
        return gt_set_error(GT_ERR_ARG, "%s: tape is NULL", op);
    for (int i = 0; i < n; i++) {
        if (!in[i] && i >= optional_from)
            continue;
        gt_status status = gt__check_input(op, tape, in[i]);
        if (status != GT_OK)
            return status;
    }
    return GT_OK;
}

gt_tensor *gt__op_output(gt_tape *tape, const gt_op_def *op, int ndim, const int64_t *shape) {
    return gt__tape_new_tensor(tape, op->name, ndim, shape);
}

gt_tensor *gt__op_finish(gt_tape *tape, const gt_op_def *op, gt_tensor *out,
                         gt_tensor *const *in, int n_in, const void *args, gt_node **node) {
    gt_node *recorded = NULL;
    if (node)
        *node = NULL;
    if (!out)
        return NULL;
    if (gt__tape_detect_anomaly(tape) &&
        gt__check_finite(op->name, "output", out->data, out->numel) != GT_OK)
        return NULL;
    if (!op->backward) /* an op without a gradient: its output never requires one */
        n_in = 0;
    void *attrs = NULL; /* the backward's copy, taken first: a failure records nothing */
    if (args && op->args_size && gt__tape_will_record(tape, in, n_in)) {
        if (!(attrs = gt__tape_alloc(tape, op->args_size, op->name)))
            return NULL;
        memcpy(attrs, args, op->args_size);
    }
    if (gt__tape_record(tape, op->name, op->backward, out, in, n_in, &recorded) != GT_OK)
        return NULL;
    if (recorded) {
        recorded->op = op;
        recorded->grad_graph = op->grad_graph;
        recorded->attrs = attrs;
    }
    if (node)
        *node = recorded;
    return out;
}

const char *gt__shape_of(const gt_tensor *t) {
    static _Thread_local char bufs[4][160];
    static _Thread_local int next;
    char *buf = bufs[next++ & 3];
    return gt_shape_str(t->ndim, t->shape, buf, sizeof bufs[0]);
}

gt_tensor *gt__shape_error2(const char *op, const char *what, const gt_tensor *a,
                            const gt_tensor *b) {
    gt_set_error(GT_ERR_SHAPE, "%s: %s: %s vs %s", op, what, gt__shape_of(a),
                 gt__shape_of(b));
    return NULL;
}
