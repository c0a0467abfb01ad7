/* format.c - printing values (print(), a bare expression, list items) and formatting them
 * with Python's format specs (f"{loss:.4f}", format(x, ">8")). */
#define _POSIX_C_SOURCE 200809L
#include "builtins.h"
#include "eval_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Whole numbers print as integers (a step counter reads 12000, not 1.2e+04); others with
 * the session's significant digits. */
static void write_number(repl *r, FILE *out, double x) {
    if (x == floor(x) && fabs(x) < 1e16)
        fprintf(out, "%.0f", x == 0 ? 0.0 : x); /* no -0 */
    else
        fprintf(out, "%.*g", r->digits, x);
}

void write_value(repl *r, FILE *out, value v, bool quote_strings) {
    switch (v.kind) {
    case V_NUM:
        write_number(r, out, v.num);
        break;
    case V_BOOL:
        fputs(v.num != 0 ? "True" : "False", out);
        break;
    case V_NONE:
        fputs("None", out);
        break;
    case V_STR:
        fprintf(out, quote_strings ? "'%s'" : "%s", v.box->str);
        break;
    case V_TENSOR:
        if (v.box->tensor)
            gt_tensor_print(out, v.box->tensor, r->digits);
        else
            fputs("tensor(lost)", out);
        break;
    case V_LIST:
        fputc('[', out);
        for (int i = 0; i < v.box->list->n; i++) {
            if (i)
                fputs(", ", out);
            write_value(r, out, v.box->list->items[i], true);
        }
        fputc(']', out);
        break;
    case V_OPT:
        optim_describe(v.box->opt, out);
        break;
    case V_FUNC:
        fprintf(out, "<function %s>", v.box->func->def->text);
        break;
    case V_OBJ:
        v.box->cls->describe(r, v.box->self, out);
        break;
    }
}

void print_value(repl *r, FILE *out, value v) {
    if (v.kind == V_NONE)
        return;
    write_value(r, out, v, false);
    fputc('\n', out);
}

/* ---- format specs: [[fill]align][sign][0][width][.precision][type] --------------------- */

typedef struct fmt_spec {
    char fill, align, sign, type;
    int width, precision; /* -1: not given */
} fmt_spec;

static bool parse_spec(repl *r, const char *s, int col, fmt_spec *f) {
    *f = (fmt_spec){.fill = ' ', .width = -1, .precision = -1};
    const char *start = s;
    if (s[0] && s[1] && strchr("<>^", s[1])) {
        f->fill = s[0];
        f->align = s[1];
        s += 2;
    } else if (s[0] && strchr("<>^", s[0])) {
        f->align = *s++;
    }
    if (*s && strchr("+- ", *s))
        f->sign = *s++;
    if (*s == '0') {
        f->fill = '0';
        f->align = f->align ? f->align : '=';
        s++;
    }
    if (isdigit((unsigned char)*s)) {
        f->width = (int)strtol(s, (char **)&s, 10);
        if (f->width > 1000)
            return repl_fail(r, col, "format: width %d is too large (at most 1000)", f->width);
    }
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return repl_fail(r, col, "format: '.' needs a precision ('%s')", start);
        f->precision = (int)strtol(s, (char **)&s, 10);
        if (f->precision > 100)
            return repl_fail(r, col, "format: precision %d is too large (at most 100)",
                             f->precision);
    }
    if (*s && strchr("dfFeEgGs%", *s))
        f->type = *s++;
    if (*s)
        return repl_fail(r, col, "format: cannot read the spec '%s' (Python's: such as .4f, "
                         ">8, 05d, +.2e)", start);
    return true;
}

/* The number a value formats as: a number, a bool, or a tensor of one element. */
static bool formatted_number(value v, double *x) {
    if (value_as_number(v, x))
        return true;
    if (v.kind == V_TENSOR && v.box->tensor && gt_tensor_numel(v.box->tensor) == 1) {
        *x = gt_tensor_cdata(v.box->tensor)[0];
        return true;
    }
    return false;
}

/* The text of v under spec f, without padding, written to out. */
static bool format_body(repl *r, value v, const fmt_spec *f, int col, FILE *out) {
    double x = 0;
    bool number = formatted_number(v, &x) && !(v.kind == V_BOOL && !f->type);
    if (f->type == 's' || (!number && !f->type)) {
        if (f->type == 's' && v.kind != V_STR)
            return repl_fail(r, col, "format: 's' formats a string, not %s",
                             value_kind_phrase(v));
        if (f->precision >= 0 && v.kind == V_STR)
            fprintf(out, "%.*s", f->precision, v.box->str);
        else
            write_value(r, out, v, false);
        return true;
    }
    if (!number)
        return repl_fail(r, col, "format: '%c' formats a number, not %s", f->type,
                         value_kind_phrase(v));
    char sign[2] = {f->sign == '-' ? 0 : f->sign, 0};
    if (f->type == 'd') {
        if (x != floor(x))
            return repl_fail(r, col, "format: 'd' formats a whole number, not %g", x);
        fprintf(out, "%s%.0f", x < 0 ? "" : sign, x);
    } else if (f->type == '%') {
        fprintf(out, "%s%.*f%%", x < 0 ? "" : sign, f->precision < 0 ? 6 : f->precision,
                x * 100);
    } else if (f->type) {
        char fmt[16];
        snprintf(fmt, sizeof fmt, "%%s%%.*%c", f->type == 'F' ? 'f' : f->type);
        fprintf(out, fmt, x < 0 || isnan(x) ? "" : sign, f->precision < 0 ? 6 : f->precision,
                x);
    } else if (f->precision >= 0) {
        fprintf(out, "%s%.*g", x < 0 ? "" : sign, f->precision ? f->precision : 1, x);
    } else {
        fputs(x < 0 ? "" : sign, out);
        write_number(r, out, x);
    }
    return true;
}

bool format_value(repl *r, value v, const char *spec, int col, value *out) {
    fmt_spec f;
    if (!parse_spec(r, spec ? spec : "", col, &f))
        return false;
    char *body = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&body, &len);
    if (!mem)
        return repl_fail(r, col, "format: out of memory");
    bool ok = format_body(r, v, &f, col, mem);
    if (fclose(mem) != 0 && ok)
        ok = repl_fail(r, col, "format: out of memory");
    size_t pad = f.width > 0 && (size_t)f.width > len ? (size_t)f.width - len : 0;
    char *text = ok ? gt_malloc(len + pad + 1, "repl: string") : NULL;
    if (ok && !text)
        ok = repl_fail_lib(r, col);
    if (ok) {
        char align = f.align ? f.align : (v.kind == V_STR ? '<' : '>');
        size_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0, at = 0;
        if (align == '=' && len && strchr("+- ", body[0])) { /* 0-padding after the sign */
            text[at++] = body[0];
            memmove(body, body + 1, len--);
            left = pad;
        } else if (align == '=') {
            left = pad;
        }
        memset(text + at, f.fill, left);
        memcpy(text + at + left, body, len);
        memset(text + at + left + len, f.fill, pad - left);
        ok = value_string(r, text, at + len + pad, out);
    }
    gt_free(text);
    free(body);
    return ok;
}

/* ---- f-strings ------------------------------------------------------------------------ */

typedef struct text_buf {
    char *s;
    size_t len, cap;
} text_buf;

static bool buf_add(repl *r, text_buf *b, const char *s, size_t len, int col) {
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len + 1)
            cap *= 2;
        if (cap > REPL_MAX_LINE * (size_t)16)
            return repl_fail(r, col, "f-string: the text grows beyond %d bytes",
                             REPL_MAX_LINE * 16);
        char *grown = gt_malloc(cap, "repl: string");
        if (!grown)
            return repl_fail_lib(r, col);
        if (b->len)
            memcpy(grown, b->s, b->len);
        gt_free(b->s);
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len] = 0;
    return true;
}

bool eval_fstring(repl *r, const node *n, value *out) {
    text_buf b = {0};
    bool ok = buf_add(r, &b, "", 0, n->col);
    for (int i = 0; ok && i < n->n_kids; i++) {
        const node *k = n->kids[i];
        if (k->kind == N_STR) {
            ok = buf_add(r, &b, k->text, strlen(k->text), k->col);
            continue;
        }
        value v, text;
        if (!(ok = eval(r, k->kids[0], &v)))
            break;
        ok = format_value(r, v, k->text, k->col, &text);
        value_release(r, v);
        if (ok) {
            ok = buf_add(r, &b, text.box->str, strlen(text.box->str), k->col);
            value_release(r, text);
        }
    }
    ok = ok && value_string(r, b.s, b.len, out);
    gt_free(b.s);
    return ok;
}
