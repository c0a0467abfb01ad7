/* parser.c - recursive descent from tokens to a syntax tree, with a nesting limit. */
#include "repl.h"

#include <stdio.h>
#include <string.h>

typedef struct parser {
    lexer lx;
    repl_error *err;
    int nesting;
} parser;

static node *parse_expr(parser *p);

static bool fail_at(parser *p, int col, const char *fmt, const char *arg) {
    p->err->col = col;
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

static bool unexpected(parser *p, const char *wanted) {
    char buf[64], msg[160];
    snprintf(msg, sizeof msg, "expected %s, found %s", wanted,
             tok_desc(&p->lx.tok, buf, sizeof buf));
    return fail_at(p, p->lx.tok.col, "%s", msg);
}

static bool advance(parser *p) { return lexer_next(&p->lx, p->err); }

static bool is_punct(const parser *p, char c) {
    return p->lx.tok.kind == TOK_PUNCT && p->lx.tok.punct == c;
}

static char *copy_text(const char *s, size_t len) {
    char *t = gt_malloc(len + 1, "repl: text");
    if (t) {
        memcpy(t, s, len);
        t[len] = 0;
    }
    return t;
}

/* Unescapes a string token (with its quotes). */
static char *unquote(const token *t) {
    char *s = gt_malloc(t->len, "repl: string");
    if (!s)
        return NULL;
    size_t n = 0;
    for (size_t i = 1; i + 1 < t->len; i++) {
        char c = t->text[i];
        if (c == '\\' && i + 2 < t->len) {
            c = t->text[++i];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
        s[n++] = c;
    }
    s[n] = 0;
    return s;
}

static node *new_node(parser *p, node_kind kind, int col) {
    node *n = gt_calloc(1, sizeof *n, "repl: syntax tree");
    if (!n) {
        fail_at(p, col, "%s", gt_last_error());
        return NULL;
    }
    n->kind = kind;
    n->col = col;
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
    gt_free(n->kids);
    gt_free(n->kwnames);
    gt_free(n->kwcols);
    gt_free(n->text);
    gt_free(n);
}

/* Appends kid (and its keyword) to n, doubling the arrays when full; frees kid and keyword
 * when it cannot. */
static bool add_kid(parser *p, node *n, node *kid, char *kw) {
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
    if (n->depth > REPL_MAX_TREE_DEPTH)
        return fail_at(p, kid->col, "expression too deep (more than %s levels)", "1000");
    return true;
}

/* ( args ) after a name; p is at '('. */
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
        node *arg = parse_expr(p);
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
        node *item = parse_expr(p);
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

/* Parses a primary into *out (owned by the caller even when this fails). */
static bool parse_primary(parser *p, node **out) {
    token t = p->lx.tok;
    *out = NULL;
    if (t.kind == TOK_NUM || t.kind == TOK_STR) {
        node *n = *out = new_node(p, t.kind == TOK_NUM ? N_NUM : N_STR, t.col);
        if (!n)
            return false;
        n->num = t.num;
        if (t.kind == TOK_STR && !(n->text = unquote(&t)))
            return fail_at(p, t.col, "%s", gt_last_error());
        return advance(p);
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
        if (!advance(p) || !(*out = parse_expr(p)))
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

static node *parse_unary(parser *p) {
    if (++p->nesting > REPL_MAX_NESTING) {
        fail_at(p, p->lx.tok.col, "too deeply nested (more than %s levels)", "200");
        return NULL;
    }
    node *n = NULL;
    if (is_punct(p, '-')) {
        int col = p->lx.tok.col;
        if (advance(p) && (n = new_node(p, N_NEG, col))) {
            node *kid = parse_unary(p);
            if (!kid || !add_kid(p, n, kid, NULL)) {
                node_free(n);
                n = NULL;
            }
        }
    } else if (!parse_primary(p, &n)) {
        node_free(n);
        n = NULL;
    }
    p->nesting--;
    return n;
}

static node *parse_binary(parser *p, const char *ops, node *(*operand)(parser *)) {
    node *left = operand(p);
    while (left && p->lx.tok.kind == TOK_PUNCT && strchr(ops, p->lx.tok.punct)) {
        node *bin = new_node(p, N_BINARY, p->lx.tok.col);
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
        left = bin;
    }
    return left;
}

static node *parse_term(parser *p) { return parse_binary(p, "*/@", parse_unary); }

static node *parse_expr(parser *p) { return parse_binary(p, "+-", parse_term); }

node *parse_line(const char *line, repl_error *err) {
    parser p = {.err = err};
    err->col = 0;
    err->msg[0] = 0;
    lexer_init(&p.lx, line);
    if (!advance(&p) || p.lx.tok.kind == TOK_EOF)
        return NULL;
    node *stmt = NULL;
    if (p.lx.tok.kind == TOK_NAME) {
        lexer saved = p.lx;
        token name = p.lx.tok;
        if (!advance(&p))
            return NULL;
        if (is_punct(&p, '=')) {
            int col = p.lx.tok.col;
            if (!advance(&p) || !(stmt = new_node(&p, N_ASSIGN, name.col)))
                return NULL;
            node *rhs = NULL;
            if (!(stmt->text = copy_text(name.text, name.len)))
                fail_at(&p, col, "%s", gt_last_error());
            else if ((rhs = parse_expr(&p)))
                add_kid(&p, stmt, rhs, NULL);
            if (!rhs || err->msg[0]) {
                node_free(stmt);
                return NULL;
            }
        } else {
            p.lx = saved;
        }
    }
    if (!stmt && !(stmt = parse_expr(&p)))
        return NULL;
    if (p.lx.tok.kind != TOK_EOF) {
        if (p.lx.tok.kind == TOK_PUNCT && p.lx.tok.punct == '=')
            fail_at(&p, p.lx.tok.col, "%s", "can only assign to a name");
        else
            unexpected(&p, "an operator or end of line");
        node_free(stmt);
        return NULL;
    }
    return stmt;
}
