/* parser.c - recursive descent from tokens to the syntax tree of an expression, with
 * Python's precedence (or, and, not, comparisons, + -, * / // % @, unary -, **, calls and
 * indexing) and a nesting limit. */
#include "parse_impl.h"

#include <stdio.h>
#include <string.h>

bool fail_at(parser *p, int col, const char *fmt, const char *arg) {
    p->err->col = col;
    p->err->line = p->first_line + p->at;
    snprintf(p->err->msg, sizeof p->err->msg, fmt, arg);
    return false;
}

static const char *tok_desc(const token *t, char *buf, size_t size) {
    if (t->kind == TOK_EOF)
        return "end of line";
    int len = t->len > 40 ? 40 : (int)t->len;
    snprintf(buf, size, "'%.*s'", len, t->text);
    return buf;
}

bool unexpected(parser *p, const char *wanted) {
    char buf[64], msg[160];
    snprintf(msg, sizeof msg, "expected %s, found %s", wanted,
             tok_desc(&p->lx.tok, buf, sizeof buf));
    return fail_at(p, p->lx.tok.col, "%s", msg);
}

bool advance(parser *p) {
    if (lexer_next(&p->lx, p->err))
        return true;
    p->err->line = p->first_line + p->at;
    return false;
}

bool is_punct(const parser *p, char c) {
    return p->lx.tok.kind == TOK_PUNCT && p->lx.tok.punct == c;
}

bool is_word(const parser *p, const char *word) {
    size_t len = strlen(word);
    return p->lx.tok.kind == TOK_NAME && p->lx.tok.len == len &&
           memcmp(p->lx.tok.text, word, len) == 0;
}

/* Words that cannot be names. */
static const char *const keywords[] = {
    "and", "or", "not", "if", "elif", "else", "for", "in", "while", "def", "return", "break",
    "continue", "pass", "True", "False", "None", "lambda", "class", "import", "from", "global",
    "nonlocal", "with", "try", "except", "finally", "raise", "yield", "del", "is", "as",
    "assert"};

static bool is_keyword(const token *t) {
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i]) == t->len && memcmp(keywords[i], t->text, t->len) == 0)
            return true;
    return false;
}

char *copy_text(const char *s, size_t len) {
    char *t = gt_malloc(len + 1, "repl: text");
    if (t) {
        memcpy(t, s, len);
        t[len] = 0;
    }
    return t;
}

/* Unescapes `len` bytes of a string's body (without quotes) into a new string; f-strings
 * also turn {{ and }} into { and }. */
static char *unescape(const char *text, size_t len, bool fstring) {
    char *s = gt_malloc(len + 1, "repl: string");
    if (!s)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\\' && i + 1 < len) {
            c = text[++i];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        } else if (fstring && (c == '{' || c == '}') && i + 1 < len && text[i + 1] == c) {
            i++;
        }
        s[n++] = c;
    }
    s[n] = 0;
    return s;
}

node *new_node(parser *p, node_kind kind, int col) {
    node *n = gt_calloc(1, sizeof *n, "repl: syntax tree");
    if (!n) {
        fail_at(p, col, "%s", gt_last_error());
        return NULL;
    }
    n->kind = kind;
    n->col = col;
    n->line = p->first_line + p->at;
    n->slot = -1;
    n->depth = 1;
    return n;
}

void node_free(node *n) {
    if (!n)
        return;
    for (int i = 0; i < n->n_kids; i++) {
        node_free(n->kids[i]);
        if (n->kwnames)
            gt_free(n->kwnames[i]);
    }
    if (n->def) {
        for (int i = 0; i < n->def->n_locals; i++)
            gt_free(n->def->locals[i]);
        gt_free(n->def->locals);
        gt_free(n->def);
    }
    gt_free(n->kids);
    gt_free(n->kwnames);
    gt_free(n->kwcols);
    gt_free(n->text);
    gt_free(n);
}

bool add_kid(parser *p, node *n, node *kid, char *kw) {
    if (n->n_kids >= REPL_MAX_ARGS && n->kind == N_CALL) {
        node_free(kid);
        gt_free(kw);
        return fail_at(p, n->col, "too many arguments (more than %s)", "64");
    }
    if (n->n_kids == n->cap_kids) {
        size_t cap = n->cap_kids ? 2 * (size_t)n->cap_kids : 4;
        node **kids = gt_malloc(cap * sizeof *kids, "repl: syntax tree");
        bool call = n->kind == N_CALL;
        char **kws = call ? gt_calloc(cap, sizeof *kws, "repl: syntax tree") : NULL;
        int *kwcols = call ? gt_calloc(cap, sizeof *kwcols, "repl: syntax tree") : NULL;
        if (!kids || (call && (!kws || !kwcols))) {
            gt_free(kids);
            gt_free(kws);
            gt_free(kwcols);
            node_free(kid);
            gt_free(kw);
            return fail_at(p, n->col, "%s", gt_last_error());
        }
        for (int i = 0; i < n->n_kids; i++) {
            kids[i] = n->kids[i];
            if (kws) {
                kws[i] = n->kwnames[i];
                kwcols[i] = n->kwcols[i];
            }
        }
        gt_free(n->kids);
        gt_free(n->kwnames);
        gt_free(n->kwcols);
        n->kids = kids;
        n->kwnames = kws;
        n->kwcols = kwcols;
        n->cap_kids = (int)cap;
    }
    n->kids[n->n_kids] = kid;
    if (n->kwnames)
        n->kwnames[n->n_kids] = kw;
    n->n_kids++;
    if (kid->depth + 1 > n->depth)
        n->depth = kid->depth + 1;
    /* statements hold expressions of up to the limit, and blocks nest 100 deep at most */
    if (n->depth > REPL_MAX_TREE_DEPTH && n->kind < N_ASSIGN)
        return fail_at(p, kid->col, "expression too deep (more than %s levels)", "1000");
    return true;
}

/* ( args ) after a callee; p is at '('. */
static node *parse_call(parser *p, node *call) {
    if (!advance(p))
        return NULL;
    while (!is_punct(p, ')')) {
        char *kw = NULL;
        int kw_col = 0;
        if (p->lx.tok.kind == TOK_NAME) {
            lexer saved = p->lx;
            token name = p->lx.tok;
            if (!advance(p))
                return NULL;
            if (is_punct(p, '=')) {
                kw_col = name.col;
                if (!(kw = copy_text(name.text, name.len))) {
                    fail_at(p, name.col, "%s", gt_last_error());
                    return NULL;
                }
                if (!advance(p)) {
                    gt_free(kw);
                    return NULL;
                }
            } else {
                p->lx = saved;
            }
        }
        node *arg = parse_test(p);
        if (!arg) {
            gt_free(kw);
            return NULL;
        }
        if (!add_kid(p, call, arg, kw))
            return NULL;
        call->kwcols[call->n_kids - 1] = kw_col;
        if (is_punct(p, ',')) {
            if (!advance(p))
                return NULL;
        } else if (!is_punct(p, ')')) {
            unexpected(p, "',' or ')'");
            return NULL;
        }
    }
    return advance(p) ? call : NULL;
}

static node *parse_list(parser *p, node *list) {
    if (!advance(p))
        return NULL;
    while (!is_punct(p, ']')) {
        node *item = parse_test(p);
        if (!item || !add_kid(p, list, item, NULL))
            return NULL;
        if (is_punct(p, ',')) {
            if (!advance(p))
                return NULL;
        } else if (!is_punct(p, ']')) {
            unexpected(p, "',' or ']'");
            return NULL;
        }
    }
    return advance(p) ? list : NULL;
}

/* Adds the literal text [from, to) of an f-string to n as an N_STR piece. */
static bool add_piece(parser *p, node *n, const char *from, const char *to, int col) {
    if (from == to)
        return true;
    node *piece = new_node(p, N_STR, col);
    if (!piece)
        return false;
    if (!(piece->text = unescape(from, (size_t)(to - from), true))) {
        node_free(piece);
        return fail_at(p, col, "%s", gt_last_error());
    }
    return add_kid(p, n, piece, NULL);
}

/* One {expr} or {expr:spec} field of an f-string, from `at` (its '{') in the line; sets
 * *next past its '}'. The expression is parsed in place by a second lexer. */
static bool add_field(parser *p, node *n, const char *at, const char *end, const char **next) {
    parser sub = *p;
    lexer_init(&sub.lx, p->lx.line);
    sub.lx.pos = (size_t)(at + 1 - p->lx.line);
    int col = (int)(at - p->lx.line) + 1;
    node *field = new_node(p, N_FORMAT, col);
    if (!field)
        return false;
    node *expr = advance(&sub) ? parse_test(&sub) : NULL;
    if (!expr || !add_kid(p, field, expr, NULL)) {
        node_free(field);
        return false;
    }
    const char *close = sub.lx.tok.text;
    if (sub.lx.tok.kind == TOK_PUNCT && sub.lx.tok.punct == ':' && close < end) {
        const char *spec = close + 1;
        close = memchr(spec, '}', (size_t)(end - spec));
        if (close && !(field->text = copy_text(spec, (size_t)(close - spec)))) {
            node_free(field);
            return fail_at(p, col, "%s", gt_last_error());
        }
    } else if (!(sub.lx.tok.kind == TOK_PUNCT && sub.lx.tok.punct == '}' && close < end)) {
        close = NULL;
    }
    if (!close) {
        node_free(field);
        return fail_at(p, col, "%s", "f-string: '{' without its '}' (write {{ for a brace)");
    }
    *next = close + 1;
    return add_kid(p, n, field, NULL);
}

/* f"text {expr} {expr:.4f}": pieces of text and fields, in order. */
static bool parse_fstring(parser *p, node *n) {
    const token t = p->lx.tok;
    const char *s = t.text + 2, *end = t.text + t.len - 1, *piece = s;
    while (s < end) {
        if (*s == '\\' && s + 1 < end) {
            s += 2;
        } else if ((*s == '{' || *s == '}') && s + 1 < end && s[1] == *s) {
            s += 2;
        } else if (*s == '}') {
            return fail_at(p, (int)(s - p->lx.line) + 1, "%s",
                           "f-string: a single '}' (write }} for a brace)");
        } else if (*s == '{') {
            if (!add_piece(p, n, piece, s, t.col) || !add_field(p, n, s, end, &s))
                return false;
            piece = s;
        } else {
            s++;
        }
    }
    return add_piece(p, n, piece, end, t.col) && advance(p);
}

/* Parses a primary into *out (owned by the caller even when this fails). */
static bool parse_primary(parser *p, node **out) {
    token t = p->lx.tok;
    *out = NULL;
    if (t.kind == TOK_NUM || t.kind == TOK_STR) {
        node *n = *out = new_node(p, t.kind == TOK_NUM ? N_NUM : N_STR, t.col);
        if (!n)
            return false;
        n->num = t.num;
        if (t.kind == TOK_STR && !(n->text = unescape(t.text + 1, t.len - 2, false)))
            return fail_at(p, t.col, "%s", gt_last_error());
        return advance(p);
    }
    if (t.kind == TOK_FSTR) {
        *out = new_node(p, N_FSTRING, t.col);
        return *out && parse_fstring(p, *out);
    }
    if (is_word(p, "True") || is_word(p, "False") || is_word(p, "None")) {
        node *n = *out = new_node(p, is_word(p, "None") ? N_NONE : N_BOOL, t.col);
        if (n)
            n->num = is_word(p, "True");
        return n && advance(p);
    }
    if (t.kind == TOK_NAME && is_keyword(&t)) {
        char word[16];
        snprintf(word, sizeof word, "%.*s", (int)(t.len < 15 ? t.len : 15), t.text);
        return fail_at(p, t.col, "'%s' cannot start an expression", word);
    }
    if (t.kind == TOK_NAME) {
        node *n = *out = new_node(p, N_NAME, t.col);
        if (!n || !(n->text = copy_text(t.text, t.len)))
            return n ? fail_at(p, t.col, "%s", gt_last_error()) : false;
        if (!advance(p))
            return false;
        if (!is_punct(p, '('))
            return true;
        n->kind = N_CALL;
        return parse_call(p, n) != NULL;
    }
    if (is_punct(p, '(')) {
        if (!advance(p) || !(*out = parse_test(p)))
            return false;
        if (!is_punct(p, ')'))
            return unexpected(p, "')'");
        return advance(p);
    }
    if (is_punct(p, '[')) {
        *out = new_node(p, N_LIST, t.col);
        return *out && parse_list(p, *out) != NULL;
    }
    return unexpected(p, "a number, string, name, '(' or '['");
}

/* A part of a slice: an expression, or N_NONE when left out (before ':', ',' or ']'). */
static node *slice_part(parser *p) {
    if (is_punct(p, ':') || is_punct(p, ',') || is_punct(p, ']'))
        return new_node(p, N_NONE, p->lx.tok.col);
    return parse_test(p);
}

/* One subscript: an expression, ..., or a slice start:stop:step (each part optional). */
static node *parse_subscript(parser *p) {
    int col = p->lx.tok.col;
    if (is_punct(p, OP_ELLIPSIS)) {
        node *n = new_node(p, N_ELLIPSIS, col);
        if (n && !advance(p)) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    node *start = is_punct(p, ':') ? new_node(p, N_NONE, col) : parse_test(p);
    if (!start || !is_punct(p, ':'))
        return start;
    node *n = new_node(p, N_SLICE, col);
    if (!n) {
        node_free(start);
        return NULL;
    }
    if (!add_kid(p, n, start, NULL) || !advance(p)) {
        node_free(n);
        return NULL;
    }
    node *stop = slice_part(p);
    if (!stop || !add_kid(p, n, stop, NULL)) {
        node_free(n);
        return NULL;
    }
    bool step_given = is_punct(p, ':');
    node *step = step_given ? (advance(p) ? slice_part(p) : NULL) : new_node(p, N_NONE, col);
    if (!step || !add_kid(p, n, step, NULL)) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* [s1, s2, ...] after an object, into n (kids[0] is the object); p is past '['. */
static bool parse_subscripts(parser *p, node *n) {
    do {
        if (n->n_kids > 1 && !advance(p)) /* past ',' */
            return false;
        if (n->n_kids > 1 && is_punct(p, ']')) /* x[0,] */
            break;
        node *s = parse_subscript(p);
        if (!s || !add_kid(p, n, s, NULL))
            return false;
    } while (is_punct(p, ','));
    if (!is_punct(p, ']'))
        return unexpected(p, "',' or ']'");
    return advance(p);
}

/* A primary followed by indexing x[i] and method calls x.append(v) (append(x, v)). */
static bool parse_postfix(parser *p, node **out) {
    if (!parse_primary(p, out))
        return false;
    while (is_punct(p, '[') || is_punct(p, '.')) {
        int col = p->lx.tok.col;
        bool index = is_punct(p, '[');
        if (!advance(p))
            return false;
        node *n = new_node(p, index ? N_INDEX : N_CALL, col);
        if (!n)
            return false;
        node *object = *out;
        *out = n;
        if (!add_kid(p, n, object, NULL))
            return false;
        if (index) {
            if (!parse_subscripts(p, n))
                return false;
            continue;
        }
        if (p->lx.tok.kind != TOK_NAME)
            return unexpected(p, "a method name after '.'");
        n->col = p->lx.tok.col;
        if (!(n->text = copy_text(p->lx.tok.text, p->lx.tok.len)))
            return fail_at(p, col, "%s", gt_last_error());
        if (!advance(p))
            return false;
        if (!is_punct(p, '('))
            return unexpected(p, "'(' after a method name (x.append(v))");
        if (!parse_call(p, n))
            return false;
    }
    return true;
}

static bool enter(parser *p) {
    if (++p->nesting > REPL_MAX_NESTING)
        return fail_at(p, p->lx.tok.col, "too deeply nested (more than %s levels)", "200");
    return true;
}

/* A node of `kind` over one operand parsed by `operand`. */
static node *unary_node(parser *p, node_kind kind, node *(*operand)(parser *)) {
    int col = p->lx.tok.col;
    node *n = NULL;
    if (advance(p) && (n = new_node(p, kind, col))) {
        node *kid = operand(p);
        if (!kid || !add_kid(p, n, kid, NULL)) {
            node_free(n);
            n = NULL;
        }
    }
    return n;
}

static node *parse_unary(parser *p);

static node *binary_node(parser *p, node *left, node *(*operand)(parser *), node_kind kind) {
    node *bin = new_node(p, kind, p->lx.tok.col);
    if (!bin) {
        node_free(left);
        return NULL;
    }
    bin->op = p->lx.tok.punct;
    if (!add_kid(p, bin, left, NULL) || !advance(p)) {
        node_free(bin);
        return NULL;
    }
    node *right = operand(p);
    if (!right || !add_kid(p, bin, right, NULL)) {
        node_free(bin);
        return NULL;
    }
    return bin;
}

/* postfix ** unary (right-associative, binding tighter than unary minus on its left). */
static node *parse_power(parser *p) {
    node *n = NULL;
    if (!parse_postfix(p, &n)) {
        node_free(n);
        return NULL;
    }
    if (is_punct(p, OP_POW))
        n = binary_node(p, n, parse_unary, N_BINARY);
    return n;
}

static node *parse_unary(parser *p) {
    if (!enter(p))
        return NULL;
    node *n;
    if (is_punct(p, '-'))
        n = unary_node(p, N_NEG, parse_unary);
    else if (is_punct(p, '+'))
        n = advance(p) ? parse_unary(p) : NULL;
    else
        n = parse_power(p);
    p->nesting--;
    return n;
}

static node *parse_binary(parser *p, const char *ops, node *(*operand)(parser *)) {
    node *left = operand(p);
    while (left && p->lx.tok.kind == TOK_PUNCT && strchr(ops, p->lx.tok.punct))
        left = binary_node(p, left, operand, N_BINARY);
    return left;
}

static node *parse_term(parser *p) {
    static const char ops[] = {'*', '/', '@', '%', OP_FLOORDIV, 0};
    return parse_binary(p, ops, parse_unary);
}

static node *parse_arith(parser *p) { return parse_binary(p, "+-", parse_term); }

static bool is_comparison(const parser *p) {
    static const char ops[] = {'<', '>', OP_EQ, OP_NE, OP_LE, OP_GE, 0};
    return p->lx.tok.kind == TOK_PUNCT && strchr(ops, p->lx.tok.punct);
}

static node *parse_comparison(parser *p) {
    node *n = parse_arith(p);
    if (n && is_comparison(p))
        n = binary_node(p, n, parse_arith, N_BINARY);
    if (n && is_comparison(p)) {
        fail_at(p, p->lx.tok.col, "%s", "chained comparisons (a < b < c) are not supported: "
                "write a < b and b < c");
        node_free(n);
        return NULL;
    }
    return n;
}

static node *parse_not(parser *p) {
    if (!is_word(p, "not"))
        return parse_comparison(p);
    if (!enter(p))
        return NULL;
    node *n = unary_node(p, N_NOT, parse_not);
    p->nesting--;
    return n;
}

static node *parse_and(parser *p) {
    node *left = parse_not(p);
    while (left && is_word(p, "and"))
        left = binary_node(p, left, parse_not, N_AND);
    return left;
}

node *parse_test(parser *p) {
    node *left = parse_and(p);
    while (left && is_word(p, "or"))
        left = binary_node(p, left, parse_and, N_OR);
    return left;
}
