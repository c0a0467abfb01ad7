/* parse_impl.h - what the expression parser (parser.c) and the statement parser (block.c)
 * share: the parser's state and its helpers. */
#ifndef GT_REPL_PARSE_IMPL_H
#define GT_REPL_PARSE_IMPL_H

#include "parser.h"

typedef struct parser {
    lexer lx;
    repl_error *err;
    int nesting;
    char **lines;    /* the chunk's lines, NUL-terminated */
    int n_lines, at; /* the line being parsed */
    long first_line; /* script line of lines[0] */
    int block_depth;
    bool in_def;
    int loops; /* loops around the statement being parsed (in its def) */
} parser;

bool fail_at(parser *p, int col, const char *fmt, const char *arg);
bool unexpected(parser *p, const char *wanted);
bool advance(parser *p);
bool is_punct(const parser *p, char c);
/* True when the current token is the name `word`. */
bool is_word(const parser *p, const char *word);
char *copy_text(const char *s, size_t len);
node *new_node(parser *p, node_kind kind, int col);
/* Appends kid (and its keyword) to n; frees kid and keyword when it cannot. */
bool add_kid(parser *p, node *n, node *kid, char *kw);
/* An expression: or, and, not, comparisons, arithmetic, calls, indexing. */
node *parse_test(parser *p);

#endif
