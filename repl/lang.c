/* lang.c - the language's builtins: print, len, append, item, range, format, str, int, and
 * plot (plot.c). */
#include "builtins.h"
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* print(a, b, ..., sep=" ", end="\n", flush=False) */
bool b_print(repl *r, const call_args *a, value *out) {
    (void)out;
    const char *sep = " ", *end = "\n";
    bool flush = false;
    for (int i = 0; i < a->n; i++) {
        const char *kw = a->kw[i];
        if (!kw)
            continue;
        value v = a->vals[i];
        if (!strcmp(kw, "sep") || !strcmp(kw, "end")) {
            if (v.kind != V_STR && v.kind != V_NONE)
                return repl_fail(r, a->cols[i], "print: %s must be a string", kw);
            if (v.kind == V_STR)
                *(!strcmp(kw, "sep") ? &sep : &end) = v.box->str;
        } else if (!strcmp(kw, "flush")) {
            if (!value_truth(r, v, a->cols[i], &flush))
                return false;
        } else {
            return repl_fail(r, a->call->kwcols[i], "print: no argument named %s (sep, end, "
                             "flush)", kw);
        }
    }
    bool first = true;
    for (int i = 0; i < a->n; i++) {
        if (a->kw[i])
            continue;
        if (!first)
            fputs(sep, stdout);
        write_value(r, stdout, a->vals[i], false);
        first = false;
    }
    fputs(end, stdout);
    if (flush)
        fflush(stdout);
    return true;
}

static bool b_len(repl *r, const call_args *a, value *out) {
    if (!arity(r, a, 1, 1))
        return false;
    value v = a->vals[0];
    if (v.kind == V_LIST) {
        *out = value_num(v.box->list->n);
    } else if (v.kind == V_STR) {
        *out = value_num((double)strlen(v.box->str));
    } else if (v.kind == V_TENSOR && v.box->tensor && gt_tensor_ndim(v.box->tensor) > 0) {
        *out = value_num((double)gt_tensor_dim(v.box->tensor, 0));
    } else {
        return repl_fail(r, a->cols[0], "len: takes a list, a string or a tensor of 1 or more "
                         "dimensions, not %s",
                         v.kind == V_TENSOR ? "a 0-d tensor" : value_kind_phrase(v));
    }
    return true;
}

static bool b_append(repl *r, const call_args *a, value *out) {
    (void)out;
    if (!arity(r, a, 2, 2))
        return false;
    if (a->vals[0].kind != V_LIST)
        return repl_fail(r, a->cols[0], "append: expected a list, got %s",
                         value_kind_phrase(a->vals[0]));
    value v = a->vals[1];
    /* a tensor on the tape without a graph is copied, so the list does not hold the tape */
    if (v.kind == V_TENSOR && v.box->tape && !gt_tensor_requires_grad(v.box->tensor) &&
        !value_detach(r, v.box))
        return repl_fail_lib(r, a->cols[1]);
    return list_append(r, a->vals[0].box->list, v, a->cols[1]);
}

static bool b_item(repl *r, const call_args *a, value *out) {
    if (!arity(r, a, 1, 1))
        return false;
    value v = a->vals[0];
    if (v.kind == V_NUM || v.kind == V_BOOL) {
        *out = v;
        return true;
    }
    if (v.kind != V_TENSOR || !v.box->tensor)
        return repl_fail(r, a->cols[0], "item: expected a tensor, got %s", value_kind_phrase(v));
    if (gt_tensor_numel(v.box->tensor) != 1) {
        char buf[200];
        gt_tensor *t = v.box->tensor;
        return repl_fail(r, a->cols[0], "item: the tensor has shape %s, not one element",
                         gt_shape_str(gt_tensor_ndim(t), gt_tensor_shape(t), buf, sizeof buf));
    }
    *out = value_num(gt_tensor_cdata(v.box->tensor)[0]);
    return true;
}

/* range() as a value is a list; a for loop over range(...) counts without one. */
static bool b_range(repl *r, const call_args *a, value *out) {
    if (!arity(r, a, 1, 3))
        return false;
    double x[3] = {0, 0, 1};
    for (int i = 0; i < a->n; i++)
        if (!value_as_number(a->vals[i], &x[i]) || x[i] != floor(x[i]))
            return repl_fail(r, a->cols[i], "range: takes whole numbers");
    double start = a->n > 1 ? x[0] : 0, stop = a->n > 1 ? x[1] : x[0], step = a->n > 2 ? x[2] : 1;
    if (step == 0)
        return repl_fail(r, a->cols[2], "range: step must not be zero");
    double count = fmax(0, ceil((stop - start) / step));
    if (count > REPL_MAX_LIST)
        return repl_fail(r, a->call->col, "range: %.17g numbers are too many for a list (at "
                         "most %d); a for loop over range(...) counts without one", count,
                         REPL_MAX_LIST);
    if (!value_list(r, (int)count, out))
        return false;
    for (int i = 0; i < (int)count; i++)
        out->box->list->items[out->box->list->n++] = value_num(start + i * step);
    return true;
}

static bool b_format(repl *r, const call_args *a, value *out) {
    if (!arity(r, a, 1, 2))
        return false;
    if (a->n == 2 && a->vals[1].kind != V_STR)
        return repl_fail(r, a->cols[1], "format: the spec is a string such as \".4f\"");
    return format_value(r, a->vals[0], a->n == 2 ? a->vals[1].box->str : "", a->cols[0], out);
}

static bool b_str(repl *r, const call_args *a, value *out) {
    return arity(r, a, 1, 1) && format_value(r, a->vals[0], "", a->cols[0], out);
}

static bool b_int(repl *r, const call_args *a, value *out) {
    if (!arity(r, a, 1, 1))
        return false;
    value v = a->vals[0];
    double x = 0;
    if (v.kind == V_TENSOR && v.box->tensor && gt_tensor_numel(v.box->tensor) == 1)
        x = gt_tensor_cdata(v.box->tensor)[0];
    else if (!value_as_number(v, &x))
        return repl_fail(r, a->cols[0], "int: expected a number, got %s", value_kind_phrase(v));
    if (!isfinite(x))
        return repl_fail(r, a->cols[0], "int: cannot convert %g to a whole number", x);
    *out = value_num(trunc(x));
    return true;
}

static const struct builtin_info lang[] = {
    {"print", b_print, "print(a, b, ..., sep=\" \", end=\"\\n\", flush=False)",
     "writes the values separated by sep, then end; flush=True writes them out at once",
     B_IMPURE},
    {"len", b_len, "len(x)", "the items of a list, the characters of a string, or the first "
     "size of a tensor", 0},
    {"append", b_append, "append(l, x) or l.append(x)",
     "adds x at the end of list l (numbers, booleans, None, strings, tensors, optimizers)",
     B_IMPURE},
    {"item", b_item, "item(t)", "the number a one-element tensor holds", 0},
    {"range", b_range, "range(stop) or range(start, stop, step=1)",
     "the whole numbers from start up to stop (excluded); for i in range(n): counts without "
     "making a list", 0},
    {"format", b_format, "format(x, spec)",
     "x as text with a Python format spec: format(0.5, \".3f\") is 0.500; also f\"{x:.3f}\"",
     0},
    {"str", b_str, "str(x)", "x as text, as print writes it", 0},
    {"int", b_int, "int(x)", "x rounded toward zero (a number or a one-element tensor)", 0},
    {"plot", b_plot, "plot(y) or plot(x, y), title=\"\", width=60, height=12, file=None",
     "a line chart of y (a list of numbers or a 1-D tensor; x defaults to 0, 1, ...) in the "
     "terminal in braille dots, min and max on the axes; file=\"loss.png\" draws a PNG "
     "through gnuplot instead (replaced whole, never half-written)", B_IMPURE},
};

const struct builtin_info *lang_builtin_table(int *count) {
    *count = (int)(sizeof lang / sizeof lang[0]);
    return lang;
}
