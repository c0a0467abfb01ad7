/* block.c - statements and blocks by indentation (Python's layout): a chunk of lines becomes
 * an N_BLOCK of statements; a def's names are resolved to local slots or globals. */
#include "parse_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static node *parse_block(parser *p, int indent);

/* Indentation of a line, or -1 for a line with only blanks or a comment. */
static int indent_of(const char *line) {
    int n = 0;
    while (line[n] == ' ' || line[n] == '\t')
        n++;
    return line[n] == 0 || line[n] == '#' || line[n] == '\r' ? -1 : n;
}

/* The first word of a line (after its indentation) is `word`. */
static bool starts_with_word(const char *line, const char *word) {
    line += strspn(line, " \t");
    size_t len = strlen(word);
    return strncmp(line, word, len) == 0 && !isalnum((unsigned char)line[len]) &&
           line[len] != '_';
}

bool line_opens_block(const char *line) {
    static const char *const words[] = {"if", "for", "while", "def", "elif", "else"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (starts_with_word(line, words[i]))
            return true;
    return false;
}

bool line_continues_block(const char *line) {
    return starts_with_word(line, "elif") || starts_with_word(line, "else");
}

/* Skips blank and comment lines; the index of the next line with text, or n_lines. */
static int next_text_line(const parser *p, int at) {
    while (at < p->n_lines && indent_of(p->lines[at]) < 0)
        at++;
    return at;
}

/* Points the lexer at line `at`, column `indent`, and reads its first token. */
static bool start_line(parser *p, int at, int indent) {
    p->at = at;
    lexer_init(&p->lx, p->lines[at]);
    p->lx.pos = (size_t)indent;
    return advance(p);
}

static bool expect_end(parser *p) {
    if (p->lx.tok.kind == TOK_EOF)
        return true;
    if (is_punct(p, '='))
        return fail_at(p, p->lx.tok.col, "%s", "can only assign to a name");
    return unexpected(p, "an operator or end of line");
}

/* A simple statement: assignment (x = e, x += e, l[i] = e), expression, return, break,
 * continue, pass. Leaves the lexer at the end of the line. */
static node *parse_simple(parser *p) {
    token t = p->lx.tok;
    node *n = NULL;
    if ((is_word(p, "break") || is_word(p, "continue")) && p->loops == 0) {
        fail_at(p, t.col, "%s", is_word(p, "break") ? "break outside a loop"
                                                    : "continue outside a loop");
        return NULL;
    }
    if (is_word(p, "break") || is_word(p, "continue") || is_word(p, "pass")) {
        n = new_node(p, is_word(p, "break") ? N_BREAK : is_word(p, "pass") ? N_PASS : N_CONTINUE,
                     t.col);
        if (n && !advance(p)) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    if (is_word(p, "return")) {
        if (!p->in_def) {
            fail_at(p, t.col, "%s", "return outside a function");
            return NULL;
        }
        if (!(n = new_node(p, N_RETURN, t.col)) || !advance(p)) {
            node_free(n);
            return NULL;
        }
        node *value = NULL;
        if (p->lx.tok.kind != TOK_EOF && (!(value = parse_test(p)) || !add_kid(p, n, value, NULL))) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    node *target = parse_test(p);
    if (!target)
        return NULL;
    char op = p->lx.tok.kind == TOK_PUNCT ? p->lx.tok.punct : 0;
    bool augmented = op == OP_ADD_TO || op == OP_SUB_FROM || op == OP_MUL_BY || op == OP_DIV_BY;
    if (op != '=' && !augmented)
        return target;
    int col = p->lx.tok.col;
    if (target->kind != N_NAME && !(target->kind == N_INDEX && !augmented)) {
        node_free(target);
        fail_at(p, col, "%s", augmented ? "can only add to a name (x += 1)"
                                        : "can only assign to a name or an item (l[i] = x, t[0, 1:3] = v)");
        return NULL;
    }
    if (!advance(p)) {
        node_free(target);
        return NULL;
    }
    node *rhs = parse_test(p);
    if (!rhs) {
        node_free(target);
        return NULL;
    }
    if (target->kind == N_INDEX) { /* l[i] = x: the index node becomes the statement */
        target->kind = N_SETITEM;
        return add_kid(p, target, rhs, NULL) ? target : (node_free(target), NULL);
    }
    if (augmented) { /* x += e is x = x + e */
        node *bin = new_node(p, N_BINARY, col);
        node *name = bin ? new_node(p, N_NAME, target->col) : NULL;
        if (name && !(name->text = copy_text(target->text, strlen(target->text))))
            fail_at(p, col, "%s", gt_last_error());
        bool ok = name && name->text;
        if (!ok)
            node_free(name);
        ok = ok && add_kid(p, bin, name, NULL); /* frees name when it cannot */
        if (!ok)
            node_free(rhs);
        if (!ok || !add_kid(p, bin, rhs, NULL)) { /* frees rhs when it cannot */
            node_free(bin);
            node_free(target);
            return NULL;
        }
        bin->op = op == OP_ADD_TO ? '+' : op == OP_SUB_FROM ? '-' : op == OP_MUL_BY ? '*' : '/';
        rhs = bin;
    }
    target->kind = N_ASSIGN;
    return add_kid(p, target, rhs, NULL) ? target : (node_free(target), NULL);
}

/* After a block's header: ':' then a statement on the same line, or an indented block on
 * the lines that follow. Adds the block to n. */
static bool parse_suite(parser *p, node *n, int indent, const char *what) {
    if (!is_punct(p, ':'))
        return unexpected(p, "':'");
    if (!advance(p))
        return false;
    if (++p->block_depth > REPL_MAX_BLOCK_DEPTH)
        return fail_at(p, p->lx.tok.col, "blocks nested too deeply (more than %s levels)",
                       "100");
    node *block;
    if (p->lx.tok.kind != TOK_EOF) { /* if x: y = 1 */
        block = new_node(p, N_BLOCK, p->lx.tok.col);
        node *stmt = block ? parse_simple(p) : NULL;
        if (!stmt || !add_kid(p, block, stmt, NULL) || !expect_end(p)) {
            node_free(block);
            return false;
        }
        p->at++;
    } else {
        int at = next_text_line(p, p->at + 1);
        int inner = at < p->n_lines ? indent_of(p->lines[at]) : -1;
        if (inner <= indent) {
            p->at = at < p->n_lines ? at : p->at;
            char msg[80];
            snprintf(msg, sizeof msg, "expected an indented block after '%s'", what);
            return fail_at(p, at < p->n_lines ? inner + 1 : 1, "%s", msg);
        }
        p->at = at;
        if (!(block = parse_block(p, inner)))
            return false;
    }
    p->block_depth--;
    return add_kid(p, n, block, NULL);
}

static bool parse_loop_body(parser *p, node *n, int indent, const char *what) {
    p->loops++;
    bool ok = parse_suite(p, n, indent, what);
    p->loops--;
    return ok;
}

/* The next line with text starts with `word` at this indentation (elif, else). */
static bool next_is(parser *p, int indent, const char *word) {
    int at = next_text_line(p, p->at);
    return at < p->n_lines && indent_of(p->lines[at]) == indent &&
           starts_with_word(p->lines[at], word);
}

/* if/elif cond: block [elif ...] [else: block]; p is at the condition. */
static node *parse_if(parser *p, int indent, int col) {
    node *n = new_node(p, N_IF, col);
    node *cond = n && advance(p) ? parse_test(p) : NULL;
    if (!cond || !add_kid(p, n, cond, NULL) || !parse_suite(p, n, indent, "if")) {
        node_free(n);
        return NULL;
    }
    if (next_is(p, indent, "elif")) {
        int at = next_text_line(p, p->at);
        node *elif = start_line(p, at, indent) ? parse_if(p, indent, indent + 1) : NULL;
        if (!elif || !add_kid(p, n, elif, NULL)) {
            node_free(n);
            return NULL;
        }
    } else if (next_is(p, indent, "else")) {
        if (!start_line(p, next_text_line(p, p->at), indent) || !advance(p) ||
            !parse_suite(p, n, indent, "else")) {
            node_free(n);
            return NULL;
        }
    }
    return n;
}

/* def name(a, b=1): the parameters go into n->def and their defaults into kids[1..]. */
static bool parse_params(parser *p, node *n) {
    def_info *d = n->def;
    if (!(d->locals = gt_calloc(REPL_MAX_ARGS, sizeof *d->locals, "repl: def")))
        return fail_at(p, n->col, "%s", gt_last_error());
    if (!is_punct(p, '('))
        return unexpected(p, "'(' after the function's name");
    if (!advance(p))
        return false;
    while (!is_punct(p, ')')) {
        token t = p->lx.tok;
        if (t.kind != TOK_NAME || is_word(p, "True") || is_word(p, "False") || is_word(p, "None"))
            return unexpected(p, "a parameter name");
        if (d->n_params == REPL_MAX_ARGS)
            return fail_at(p, t.col, "too many parameters (more than %s)", "64");
        char *name = copy_text(t.text, t.len);
        if (!name)
            return fail_at(p, t.col, "%s", gt_last_error());
        for (int i = 0; i < d->n_params; i++)
            if (!strcmp(d->locals[i], name)) {
                gt_free(name);
                return fail_at(p, t.col, "%s", "a parameter named twice");
            }
        d->locals[d->n_params++] = name;
        d->n_locals = d->n_params;
        if (!advance(p))
            return false;
        if (is_punct(p, '=')) {
            node *value = advance(p) ? parse_test(p) : NULL;
            if (!value || !add_kid(p, n, value, NULL))
                return false;
        } else if (n->n_kids > 0) {
            return fail_at(p, t.col, "%s", "a parameter without a default after one with");
        } else {
            d->n_required = d->n_params;
        }
        if (is_punct(p, ','))
            if (!advance(p))
                return false;
        if (!is_punct(p, ')') && p->lx.tok.kind != TOK_NAME)
            return unexpected(p, "',' or ')'");
    }
    return advance(p);
}

/* Adds name to the def's locals unless it is there; false when out of room. */
static bool add_local(parser *p, def_info *d, const node *at) {
    for (int i = 0; i < d->n_locals; i++)
        if (!strcmp(d->locals[i], at->text))
            return true;
    if (d->n_locals % REPL_MAX_ARGS == 0) {
        char **grown = gt_calloc((size_t)d->n_locals + REPL_MAX_ARGS, sizeof *grown, "repl: def");
        if (!grown)
            return fail_at(p, at->col, "%s", gt_last_error());
        memcpy(grown, d->locals, (size_t)d->n_locals * sizeof *grown);
        gt_free(d->locals);
        d->locals = grown;
    }
    if (!(d->locals[d->n_locals] = copy_text(at->text, strlen(at->text))))
        return fail_at(p, at->col, "%s", gt_last_error());
    d->n_locals++;
    return true;
}

/* Python's rule: a name assigned anywhere in a function (or a for loop's name) is local. */
static bool collect_locals(parser *p, def_info *d, const node *n) {
    if ((n->kind == N_ASSIGN || (n->kind == N_FOR && n->text)) && !add_local(p, d, n))
        return false;
    for (int i = 0; i < n->n_kids; i++)
        if (!collect_locals(p, d, n->kids[i]))
            return false;
    return true;
}

static void resolve_slots(const def_info *d, node *n) {
    if (n->text && (n->kind == N_NAME || n->kind == N_ASSIGN || n->kind == N_FOR ||
                    n->kind == N_CALL))
        for (int i = 0; i < d->n_locals; i++)
            if (!strcmp(d->locals[i], n->text))
                n->slot = i;
    for (int i = 0; i < n->n_kids; i++)
        resolve_slots(d, n->kids[i]);
}

static node *parse_def(parser *p, int indent, int col) {
    if (p->in_def) {
        fail_at(p, col, "%s", "def inside a def is not supported: define it at the top level");
        return NULL;
    }
    node *n = new_node(p, N_DEF, col);
    if (!n || !advance(p))
        return node_free(n), NULL;
    if (p->lx.tok.kind != TOK_NAME || is_word(p, "True") || is_word(p, "False") ||
        is_word(p, "None")) {
        unexpected(p, "the function's name");
        return node_free(n), NULL;
    }
    n->text = copy_text(p->lx.tok.text, p->lx.tok.len);
    n->def = n->text ? gt_calloc(1, sizeof *n->def, "repl: def") : NULL;
    if (!n->def) {
        fail_at(p, col, "%s", gt_last_error());
        return node_free(n), NULL;
    }
    if (!advance(p) || !parse_params(p, n))
        return node_free(n), NULL;
    int loops = p->loops;
    p->in_def = true;
    p->loops = 0;
    bool ok = parse_suite(p, n, indent, "def");
    p->in_def = false;
    p->loops = loops;
    if (!ok)
        return node_free(n), NULL;
    node *body = n->kids[n->n_kids - 1];
    if (!collect_locals(p, n->def, body))
        return node_free(n), NULL;
    resolve_slots(n->def, body);
    return n;
}

/* One name a for loop binds: the token at p, into *text. */
static bool loop_name(parser *p, char **text) {
    if (p->lx.tok.kind != TOK_NAME || is_word(p, "in")) {
        unexpected(p, "the loop's name");
        return false;
    }
    if (!(*text = copy_text(p->lx.tok.text, p->lx.tok.len)))
        return fail_at(p, p->lx.tok.col, "%s", gt_last_error());
    return advance(p);
}

/* for name in expr: block, or for a, b in expr: block (Python's unpacking of each item, a
 * list of as many values: the names become N_ASSIGN targets kids[2..] and text stays NULL). */
static node *parse_for(parser *p, int indent, int col) {
    node *n = new_node(p, N_FOR, col);
    if (!n || !advance(p))
        return node_free(n), NULL;
    int name_col = p->lx.tok.col;
    char *first = NULL;
    if (!loop_name(p, &first)) {
        gt_free(first);
        return node_free(n), NULL;
    }
    enum { MAX_TARGETS = 16 };
    node *targets[MAX_TARGETS];
    int n_targets = 0;
    while (is_punct(p, ',') && n_targets < MAX_TARGETS) {
        if (n_targets == 0) { /* the first name becomes a target too */
            if (!(targets[n_targets] = new_node(p, N_ASSIGN, name_col))) {
                gt_free(first);
                return node_free(n), NULL;
            }
            targets[n_targets++]->text = first;
            first = NULL;
        }
        if (!advance(p))
            break;
        int at = p->lx.tok.col;
        node *t = new_node(p, N_ASSIGN, at);
        if (!t || !loop_name(p, &t->text)) {
            node_free(t);
            break;
        }
        targets[n_targets++] = t;
    }
    n->text = first;
    if (p->err->msg[0] || !is_word(p, "in")) {
        if (!p->err->msg[0])
            unexpected(p, n_targets ? "'in' (at most 16 names)" : "'in'");
        for (int i = 0; i < n_targets; i++)
            node_free(targets[i]);
        return node_free(n), NULL;
    }
    node *iter = advance(p) ? parse_test(p) : NULL;
    if (!iter || !add_kid(p, n, iter, NULL) || !parse_loop_body(p, n, indent, "for")) {
        for (int i = 0; i < n_targets; i++)
            node_free(targets[i]);
        return node_free(n), NULL;
    }
    for (int i = 0; i < n_targets; i++)
        if (!add_kid(p, n, targets[i], NULL)) {
            for (int j = i + 1; j < n_targets; j++)
                node_free(targets[j]);
            return node_free(n), NULL;
        }
    return n;
}

/* One statement starting at line p->at (indentation `indent`); leaves p->at at the line
 * after it. */
static node *parse_statement(parser *p, int indent) {
    if (!start_line(p, p->at, indent))
        return NULL;
    int col = p->lx.tok.col;
    if (is_word(p, "if"))
        return parse_if(p, indent, col);
    if (is_word(p, "while")) {
        node *n = new_node(p, N_WHILE, col);
        node *cond = n && advance(p) ? parse_test(p) : NULL;
        if (!cond || !add_kid(p, n, cond, NULL) || !parse_loop_body(p, n, indent, "while"))
            return node_free(n), NULL;
        return n;
    }
    if (is_word(p, "for"))
        return parse_for(p, indent, col);
    if (is_word(p, "def"))
        return parse_def(p, indent, col);
    if (is_word(p, "elif") || is_word(p, "else")) {
        fail_at(p, col, "%s", "elif or else without an if above at the same indentation");
        return NULL;
    }
    node *n = parse_simple(p);
    if (n && !expect_end(p))
        return node_free(n), NULL;
    p->at++;
    return n;
}

/* Statements at indentation `indent`, until a line indented less or the end. */
static node *parse_block(parser *p, int indent) {
    node *block = new_node(p, N_BLOCK, indent + 1);
    if (!block)
        return NULL;
    for (;;) {
        int at = next_text_line(p, p->at);
        if (at == p->n_lines)
            break;
        int ind = indent_of(p->lines[at]);
        if (ind < indent)
            break;
        p->at = at;
        if (ind > indent) {
            fail_at(p, ind + 1, "%s", "unexpected indent");
            return node_free(block), NULL;
        }
        node *stmt = parse_statement(p, indent);
        if (!stmt || !add_kid(p, block, stmt, NULL))
            return node_free(block), NULL;
    }
    return block;
}

chunk *parse_chunk(const char *text, long first_line, repl_error *err) {
    parser p = {.err = err, .first_line = first_line};
    err->col = 0;
    err->line = 0;
    err->msg[0] = 0;
    size_t size = strlen(text);
    int n_lines = 1;
    for (const char *s = text; (s = strchr(s, '\n')); s++)
        n_lines++;
    char *copy = copy_text(text, size);
    p.lines = gt_malloc((size_t)n_lines * sizeof *p.lines, "repl: lines");
    chunk *c = NULL;
    if (!copy || !p.lines) {
        fail_at(&p, 1, "%s", gt_last_error());
    } else {
        for (char *s = copy; s; p.n_lines++) {
            p.lines[p.n_lines] = s;
            if ((s = strchr(s, '\n')))
                *s++ = 0;
        }
        node *block = parse_block(&p, 0);
        if (block && p.at < p.n_lines && next_text_line(&p, p.at) < p.n_lines) {
            int at = next_text_line(&p, p.at);
            p.at = at;
            fail_at(&p, indent_of(p.lines[at]) + 1, "%s", "unindent does not match any outer "
                    "indentation level");
            node_free(block);
            block = NULL;
        }
        if (block && block->n_kids == 0) {
            node_free(block);
        } else if (block && !(c = gt_malloc(sizeof *c, "repl: chunk"))) {
            fail_at(&p, 1, "%s", gt_last_error());
            node_free(block);
        } else if (block) {
            *c = (chunk){.refs = 1, .block = block};
        }
    }
    gt_free(copy);
    gt_free(p.lines);
    return c;
}

void chunk_release(chunk *c) {
    if (c && --c->refs == 0) {
        node_free(c->block);
        gt_free(c);
    }
}
