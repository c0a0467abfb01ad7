/* spec.c - the text form of a Sequential, in torch.nn's names and arguments:
 *
 *   spec   := item*                          (separated by spaces)
 *   item   := [name '='] Type [ '(' args ')' ]   |   [name '='] Container '(' spec ')'
 *   args   := arg (',' arg)*                 arg := value | keyword '=' value
 *   value  := number | True | False | None | '(' number (',' number)* ')'  (equal numbers:
 *             a square kernel's (5, 5)) | 'word' (one of the words its row lists after the
 *             default, "padding=0|valid|same": read as GT_LAYER_WORD(index))
 *
 * Type is a row of the layer registry (layers.c); positional arguments come first, in the
 * order of the row's `args`, then keywords. Every error names the column (from 1), the text
 * it is about and what was expected there. */
#include "gt_module_impl.h"
#include "gt_nn_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_MAX_DEPTH 16     /* containers inside containers */
#define SPEC_MAX_BYTES 65536  /* of a whole spec */
#define SPEC_TOKEN_SHOWN 40   /* bytes of the offending text quoted in a message */

typedef struct spec_parser {
    const char *text;
    size_t pos, len;
    int depth;
} spec_parser;

/* "model spec, column C: '<text[start, end)>': <message>" */
static void spec_error(const spec_parser *p, gt_status status, size_t start, size_t end, const char *fmt, ...) {
    char message[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (end > p->len)
        end = p->len;
    if (end <= start) {
        gt_set_error(status, "model spec, column %zu: %s", start + 1, message);
        return;
    }
    int shown = end - start > SPEC_TOKEN_SHOWN ? SPEC_TOKEN_SHOWN : (int)(end - start);
    gt_set_error(status, "model spec, column %zu: '%.*s%s': %s", start + 1, shown,
                 p->text + start, end - start > SPEC_TOKEN_SHOWN ? "..." : "", message);
}

static void skip_space(spec_parser *p) {
    while (p->pos < p->len && isspace((unsigned char)p->text[p->pos]))
        p->pos++;
}

static char peek(const spec_parser *p) { return p->pos < p->len ? p->text[p->pos] : '\0'; }

/* [A-Za-z_][A-Za-z0-9_]*; its length (0: none). */
static size_t identifier(const spec_parser *p, size_t at) {
    size_t n = 0;
    while (at + n < p->len) {
        unsigned char c = (unsigned char)p->text[at + n];
        if (!(isalpha(c) || c == '_' || (n > 0 && isdigit(c))))
            break;
        n++;
    }
    return n;
}

/* The end of the token at `at` (for quoting): up to a space, ',', '(' or ')'. */
static size_t token_end(const spec_parser *p, size_t at) {
    while (at < p->len && !isspace((unsigned char)p->text[at]) && !strchr(",()", p->text[at]))
        at++;
    return at;
}

static bool word_is(const spec_parser *p, size_t at, size_t n, const char *word) {
    return strlen(word) == n && !memcmp(p->text + at, word, n);
}

/* ---- the arguments a registry row declares ------------------------------------------------ */

typedef struct arg_spec {
    int count, required;
    char names[GT_LAYER_MAX_ARGS][24];
    double defaults[GT_LAYER_MAX_ARGS]; /* NAN: "name?" (None) */
    char words[GT_LAYER_MAX_ARGS][48];  /* "valid|same": the strings it also takes, or "" */
} arg_spec;

/* The value of string `word` (n bytes) among "a|b|c": -1 - its index (GT_LAYER_WORD), or 0
 * when it is none of them. */
static double word_index(const char *words, const char *word, size_t n) {
    int index = 0;
    for (const char *p = words; *p; index++) {
        size_t len = strcspn(p, "|");
        if (len == n && !strncmp(p, word, n))
            return GT_LAYER_WORD(index);
        p += len + (p[len] == '|');
    }
    return 0;
}

/* A default: True, False, a number, or one of the argument's words. */
static double word_value(const char *s, const char *words) {
    double word = word_index(words, s, strcspn(s, "|"));
    return word ? word : !strcmp(s, "True") ? 1 : !strcmp(s, "False") ? 0 : strtod(s, NULL);
}

static void read_arg_spec(const gt_layer_info *info, arg_spec *a) {
    memset(a, 0, sizeof *a);
    const char *s = info->args;
    while (*s && a->count < GT_LAYER_MAX_ARGS) {
        size_t n = strcspn(s, " ");
        char word[48];
        snprintf(word, sizeof word, "%.*s", (int)n, s);
        char *eq = strchr(word, '=');
        size_t name_len = eq ? (size_t)(eq - word) : strcspn(word, "?");
        snprintf(a->names[a->count], sizeof a->names[0], "%.*s", (int)name_len, word);
        char *bar = eq ? strchr(eq, '|') : NULL;
        if (bar) /* "padding=0|valid|same": the words after the default */
            snprintf(a->words[a->count], sizeof a->words[0], "%s", bar + 1);
        if (eq)
            a->defaults[a->count] = word_value(eq + 1, a->words[a->count]);
        else if (strchr(word, '?'))
            a->defaults[a->count] = NAN;
        else
            a->required = a->count + 1;
        a->count++;
        s += n;
        while (*s == ' ')
            s++;
    }
}

/* ---- values ---------------------------------------------------------------------------------- */

static bool parse_number(spec_parser *p, double *v) {
    size_t start = p->pos, end = token_end(p, start);
    char buf[64];
    if (end == start || end - start >= sizeof buf)
        return false;
    memcpy(buf, p->text + start, end - start);
    buf[end - start] = '\0';
    char *stop;
    double value = strtod(buf, &stop);
    if (*stop || !isfinite(value) || !(isdigit((unsigned char)buf[0]) || buf[0] == '-' ||
                                       buf[0] == '+' || buf[0] == '.'))
        return false;
    *v = value;
    p->pos = end;
    return true;
}

/* A value for argument `name` (which also takes the strings `words`); false with the error
 * set. */
static bool parse_value(spec_parser *p, const char *name, const char *words, double *v) {
    skip_space(p);
    size_t start = p->pos, n = identifier(p, start);
    if (*words && (peek(p) == '\'' || peek(p) == '"')) { /* 'same' */
        const char *open = p->text + start, *close = memchr(open + 1, *open, p->len - start - 1);
        *v = close ? word_index(words, open + 1, (size_t)(close - open - 1)) : 0;
        if (!*v) {
            size_t end = close ? (size_t)(close - p->text) + 1 : token_end(p, start);
            spec_error(p, GT_ERR_ARG, start, end, "expected one of '%s' for %s", words, name);
            return false;
        }
        p->pos = (size_t)(close - p->text) + 1;
        return true;
    }
    if (n && (word_is(p, start, n, "True") || word_is(p, start, n, "False") ||
              word_is(p, start, n, "None"))) {
        *v = word_is(p, start, n, "True") ? 1 : word_is(p, start, n, "False") ? 0 : NAN;
        p->pos += n;
        return true;
    }
    if (peek(p) == '(') { /* a tuple of equal numbers: (5, 5) */
        p->pos++;
        double first = 0, next;
        int count = 0;
        for (;;) {
            skip_space(p);
            if (!parse_number(p, count ? &next : &first)) {
                spec_error(p, GT_ERR_ARG, p->pos, token_end(p, p->pos), "expected a number in the tuple "
                           "for %s", name);
                return false;
            }
            if (count++ && next != first) {
                spec_error(p, GT_ERR_ARG, start, p->pos, "expected equal sizes for %s (square kernels, "
                           "equal strides)", name);
                return false;
            }
            skip_space(p);
            if (peek(p) == ')')
                break;
            if (peek(p) != ',') {
                spec_error(p, GT_ERR_ARG, p->pos, token_end(p, p->pos) + (p->pos < p->len), "expected ',' "
                           "or ')' in the tuple for %s", name);
                return false;
            }
            p->pos++;
        }
        p->pos++;
        *v = first;
        if (*words && first < 0) { /* negatives would read as words */
            spec_error(p, GT_ERR_ARG, start, p->pos, "expected sizes >= 0 or one of '%s' for %s",
                       words, name);
            return false;
        }
        return true;
    }
    if (parse_number(p, v) && *words && *v < 0) { /* negatives would read as words */
        spec_error(p, GT_ERR_ARG, start, p->pos, "expected a number >= 0 or one of '%s' for %s",
                   words, name);
        return false;
    }
    if (p->pos == start) {
        size_t end = token_end(p, start);
        spec_error(p, GT_ERR_ARG, start, end > start ? end : start + 1, "expected a number, True or False "
                   "for %s", name);
        return false;
    }
    return true;
}

/* '(' args ')' of a layer, into values[] in the order of its row; p->pos is after '('. */
static bool parse_args(spec_parser *p, const gt_layer_info *info, size_t item_start,
                       double *values) {
    arg_spec a;
    read_arg_spec(info, &a);
    bool given[GT_LAYER_MAX_ARGS] = {false};
    int positional = 0;
    bool keywords = false;
    skip_space(p);
    if (peek(p) == ')') {
        p->pos++;
    } else {
        for (;;) {
            skip_space(p);
            size_t start = p->pos, n = identifier(p, start);
            size_t after = start + n;
            while (after < p->len && p->text[after] == ' ')
                after++;
            int slot;
            if (n && after < p->len && p->text[after] == '=') {
                for (slot = 0; slot < a.count && !word_is(p, start, n, a.names[slot]); slot++)
                    ;
                if (slot == a.count) {
                    char known[200] = "";
                    for (int i = 0; i < a.count; i++)
                        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                                 i ? ", " : "", a.names[i]);
                    spec_error(p, GT_ERR_ARG, start, start + n, "expected an argument of %s (%s)",
                               info->type, a.count ? known : "it takes none");
                    return false;
                }
                if (given[slot]) {
                    spec_error(p, GT_ERR_ARG, start, start + n, "%s is given twice", a.names[slot]);
                    return false;
                }
                p->pos = after + 1;
                keywords = true;
            } else {
                if (keywords) {
                    spec_error(p, GT_ERR_ARG, start, token_end(p, start), "expected a keyword argument "
                               "(name=value): positional ones come first");
                    return false;
                }
                if (positional == a.count) {
                    spec_error(p, GT_ERR_ARG, start, token_end(p, start), "expected ')': %s takes %d "
                               "argument%s", info->type, a.count, a.count == 1 ? "" : "s");
                    return false;
                }
                slot = positional++;
            }
            if (!parse_value(p, a.names[slot], a.words[slot], &values[slot]))
                return false;
            given[slot] = true;
            skip_space(p);
            if (peek(p) == ')') {
                p->pos++;
                break;
            }
            if (peek(p) != ',') {
                size_t end = token_end(p, p->pos);
                spec_error(p, GT_ERR_ARG, p->pos, end > p->pos ? end : p->pos + 1,
                           p->pos < p->len ? "expected ',' or ')'" : "expected ')' to close "
                           "%s(", info->type);
                return false;
            }
            p->pos++;
        }
    }
    for (int i = 0; i < a.count; i++) {
        if (given[i])
            continue;
        if (i < a.required) {
            spec_error(p, GT_ERR_ARG, item_start, p->pos, "expected a value for %s", a.names[i]);
            return false;
        }
        values[i] = a.defaults[i];
    }
    return true;
}

/* ---- items and sequences ------------------------------------------------------------------- */

static bool parse_sequence(spec_parser *p, gt_module *into, bool nested, size_t open_at);

static void list_layers(char *buf, size_t size) {
    buf[0] = '\0';
    for (int i = 0; i < gt_layer_count(); i++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "",
                 gt_layer_get(i)->type);
}

static const gt_layer_info *find_type(spec_parser *p, size_t start, size_t n) {
    for (int i = 0; i < gt_layer_count(); i++)
        if (word_is(p, start, n, gt_layer_get(i)->type))
            return gt_layer_get(i);
    char known[400];
    list_layers(known, sizeof known);
    for (int i = 0; i < gt_layer_count(); i++) { /* "relu": a matter of case */
        const char *type = gt_layer_get(i)->type;
        size_t k = 0;
        while (k < n && type[k] && tolower((unsigned char)type[k]) ==
                                       tolower((unsigned char)p->text[start + k]))
            k++;
        if (k == n && !type[n]) {
            spec_error(p, GT_ERR_ARG, start, start + n, "expected a layer of torch.nn: did you mean %s?",
                       type);
            return NULL;
        }
    }
    spec_error(p, GT_ERR_ARG, start, n ? start + n : token_end(p, start) + (start < p->len),
               "expected a layer: %s", known);
    return NULL;
}

/* One item, appended to `into`. */
static bool parse_item(spec_parser *p, gt_module *into) {
    size_t start = p->pos, n = identifier(p, start);
    char name[GT__MODULE_NAME_SIZE] = "";
    bool named = false;
    if (n && start + n < p->len && p->text[start + n] == '=') {
        if (n >= sizeof name) {
            spec_error(p, GT_ERR_ARG, start, start + n, "expected a name of at most %zu bytes",
                       sizeof name - 1);
            return false;
        }
        memcpy(name, p->text + start, n);
        named = true;
        p->pos = start + n + 1;
        n = identifier(p, p->pos);
    }
    size_t type_at = p->pos;
    const gt_layer_info *info = find_type(p, type_at, n);
    if (!info)
        return false;
    p->pos = type_at + n;
    bool container = !strcmp(info->args, "") && (!strcmp(info->type, "Sequential") ||
                                                 !strcmp(info->type, "Residual"));
    double values[GT_LAYER_MAX_ARGS];
    for (int i = 0; i < GT_LAYER_MAX_ARGS; i++)
        values[i] = NAN;
    size_t open_at = p->pos;
    bool open = peek(p) == '(';
    if (open)
        p->pos++;
    if (!container) {
        if (open && !parse_args(p, info, type_at, values))
            return false;
        if (!open) {
            arg_spec a;
            read_arg_spec(info, &a);
            if (a.required) {
                spec_error(p, GT_ERR_ARG, type_at, p->pos, "expected '(' and a value for %s", a.names[0]);
                return false;
            }
            for (int i = 0; i < a.count; i++)
                values[i] = a.defaults[i];
        }
    }
    gt_module *m = info->make(values, info);
    if (!m && gt_last_status() == GT_ERR_NOMEM)
        return false; /* not the spec's fault: the allocator's message as it is */
    if (!m) {
        char why[300];
        snprintf(why, sizeof why, "%s", gt_last_error());
        spec_error(p, gt_last_status(), named ? start : type_at, p->pos, "%s", why);
        return false;
    }
    if (gt_module_add_child(into, named ? name : NULL, m) != GT_OK) {
        if (gt_last_status() == GT_ERR_NOMEM)
            return false;
        char why[300];
        snprintf(why, sizeof why, "%s", gt_last_error());
        spec_error(p, gt_last_status(), start, p->pos, "%s", why);
        return false;
    }
    if (container) {
        if (!open) {
            spec_error(p, GT_ERR_ARG, type_at, p->pos, "expected '(' and the layers inside %s",
                       info->type);
            return false;
        }
        if (p->depth == SPEC_MAX_DEPTH) {
            spec_error(p, GT_ERR_ARG, type_at, p->pos, "expected at most %d containers inside each other",
                       SPEC_MAX_DEPTH);
            return false;
        }
        p->depth++;
        bool ok = parse_sequence(p, m, true, open_at);
        p->depth--;
        return ok;
    }
    return true;
}

/* Items up to the end (or, nested, up to the ')' that closes the container). */
static bool parse_sequence(spec_parser *p, gt_module *into, bool nested, size_t open_at) {
    for (;;) {
        skip_space(p);
        if (p->pos == p->len) {
            if (nested) {
                spec_error(p, GT_ERR_ARG, open_at, open_at + 1, "expected ')' to close it");
                return false;
            }
            break;
        }
        if (peek(p) == ')') {
            if (!nested) {
                spec_error(p, GT_ERR_ARG, p->pos, p->pos + 1, "expected a layer, not a ')' without its '('");
                return false;
            }
            p->pos++;
            break;
        }
        if (!parse_item(p, into))
            return false;
        if (p->pos < p->len && !isspace((unsigned char)peek(p)) && peek(p) != ')') {
            spec_error(p, GT_ERR_ARG, p->pos, token_end(p, p->pos) + (token_end(p, p->pos) == p->pos),
                       "expected a space before the next layer");
            return false;
        }
    }
    if (gt_module_child_count(into) == 0) {
        spec_error(p, GT_ERR_ARG, nested ? open_at : 0, nested ? p->pos : 0, "expected at least one layer%s",
                   nested ? " inside" : " (e.g. \"Flatten Linear(10)\")");
        return false;
    }
    return true;
}

gt_module *gt_spec_parse(const char *spec) {
    if (!spec) {
        gt_set_error(GT_ERR_ARG, "model spec is NULL");
        return NULL;
    }
    size_t len = strlen(spec);
    if (len > SPEC_MAX_BYTES) {
        gt_set_error(GT_ERR_ARG, "model spec: %zu bytes, at most %d", len, SPEC_MAX_BYTES);
        return NULL;
    }
    char alias[512];
    const char *text = spec;
    if (gt__model_alias_spec(spec, alias, sizeof alias))
        text = alias;
    spec_parser p = {text, 0, strlen(text), 0};
    gt_module *root = gt_nn_sequential();
    if (root && !parse_sequence(&p, root, false, 0)) {
        gt_module_free(root);
        return NULL;
    }
    return root;
}
