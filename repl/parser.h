/* parser.h - the REPL's syntax: errors, tokens, the lexer, the syntax tree and the parser
 * of statements with indented blocks (Python's layout). */
#ifndef GT_REPL_PARSER_H
#define GT_REPL_PARSER_H

#include "gradtape.h"

#include <stdbool.h>
#include <stddef.h>

#define REPL_MAX_NESTING 200     /* parentheses, brackets and calls inside each other */
#define REPL_MAX_TREE_DEPTH 1000 /* operators chained on one line (a + a + ... + a) */
#define REPL_MAX_BLOCK_DEPTH 100 /* blocks inside blocks (if inside for inside def ...) */
#define REPL_MAX_LINE (1 << 20)  /* longer lines are refused */
#define REPL_MAX_CHUNK (16 << 20) /* a statement with its indented block, at most */
#define REPL_MAX_ARGS 64         /* arguments of one call, parameters of one def */
#define REPL_MSG_SIZE 512

/* ---- errors: a message, the 1-based column and script line it points at ---------------- */

typedef struct repl_error {
    int col;
    long line; /* 0: the line of the statement being run */
    char msg[REPL_MSG_SIZE];
} repl_error;

/* ---- lexer ---------------------------------------------------------------------------- */

typedef enum tok_kind { TOK_EOF, TOK_NUM, TOK_STR, TOK_FSTR, TOK_NAME, TOK_PUNCT } tok_kind;

/* Operators of two characters, as one punct code each. */
enum {
    OP_EQ = 'E',     /* == */
    OP_NE = 'N',     /* != */
    OP_LE = 'L',     /* <= */
    OP_GE = 'G',     /* >= */
    OP_POW = 'P',    /* ** */
    OP_FLOORDIV = 'F', /* // */
    OP_ADD_TO = 'a', /* += */
    OP_SUB_FROM = 's', /* -= */
    OP_MUL_BY = 'm', /* *= */
    OP_DIV_BY = 'd', /* /= */
    OP_ELLIPSIS = 'e' /* ... */
};

typedef struct token {
    tok_kind kind;
    int col;          /* 1-based column of its first character */
    const char *text; /* into the line */
    size_t len;
    double num;       /* TOK_NUM */
    char punct;       /* TOK_PUNCT: one of + - * / % @ ( ) [ ] { } , = : . < > or an OP_ code */
} token;

typedef struct lexer {
    const char *line;
    size_t pos;
    token tok; /* the current token */
} lexer;

void lexer_init(lexer *lx, const char *line);
/* Moves to the next token; false with err set on a bad character or string. */
bool lexer_next(lexer *lx, repl_error *err);

/* ---- syntax tree ---------------------------------------------------------------------- */

typedef enum node_kind {
    /* expressions */
    N_NUM,     /* num */
    N_STR,     /* text */
    N_BOOL,    /* num: 1 True, 0 False */
    N_NONE,    /* None */
    N_NAME,    /* text; slot: a local's index in its function's frame, -1 for a global */
    N_LIST,    /* kids */
    N_CALL,    /* text = callee, kids = arguments, kwnames[i] = keyword or NULL */
    N_BINARY,  /* op, kids[0] op kids[1]; op is + - * / % @ < > or an OP_ code */
    N_NEG,     /* -kids[0] */
    N_NOT,     /* not kids[0] */
    N_AND,     /* kids[0] and kids[1] (Python's: the deciding operand) */
    N_OR,      /* kids[0] or kids[1] */
    N_INDEX,   /* kids[0][kids[1], ..., kids[n-1]]: subscripts are expressions, N_SLICE or
                * N_ELLIPSIS */
    N_SLICE,   /* start:stop:step in a subscript; kids: 3 expressions, N_NONE where left out */
    N_ELLIPSIS, /* ... in a subscript */
    N_FSTRING, /* kids: N_STR pieces and N_FORMAT fields, in order */
    N_FORMAT,  /* {kids[0]:text}, text NULL without a format spec */
    /* statements */
    N_ASSIGN,  /* text = kids[0]; slot as for N_NAME */
    N_SETITEM, /* kids[0][kids[1], ..., kids[n-2]] = kids[n-1] */
    N_IF,      /* if kids[0]: kids[1] (N_BLOCK) else: kids[2] (N_BLOCK or N_IF), optional */
    N_WHILE,   /* while kids[0]: kids[1] */
    N_FOR,     /* for text in kids[0]: kids[1]; slot as for N_NAME */
    N_DEF,     /* def text(params): the defaults' expressions, then the body (N_BLOCK) last */
    N_RETURN,  /* return kids[0]?  */
    N_BREAK,
    N_CONTINUE,
    N_PASS,
    N_BLOCK    /* kids: statements */
} node_kind;

/* What a def knows: its parameters (locals 0..n_params-1), then its other locals. */
typedef struct def_info {
    int n_params, n_required; /* the last n_params - n_required have defaults */
    int n_locals;
    char **locals; /* n_locals names */
} def_info;

typedef struct node {
    node_kind kind;
    int col;
    long line; /* the script line it starts on */
    char op;
    int slot;
    double num;
    char *text;
    int n_kids, cap_kids;
    struct node **kids;
    char **kwnames;
    int *kwcols; /* column of each keyword, 0 for positional arguments */
    int depth;   /* height of this subtree (expressions) */
    def_info *def; /* N_DEF */
    void *cache;   /* N_NAME, N_ASSIGN, N_CALL: the variable or builtin it found */
    unsigned cache_gen;
} node;

/* One parsed chunk: top-level statements with their blocks, shared by the functions it
 * defines (a def keeps its chunk alive). */
typedef struct chunk {
    int refs;
    node *block; /* N_BLOCK */
} chunk;

/* Parses the statements of `text` (lines separated by '\n'; the first is script line
 * `first_line`). NULL with err set on an
 * error, or NULL with err->msg[0] == 0 for nothing to run (blank lines, comments). */
chunk *parse_chunk(const char *text, long first_line, repl_error *err);
void chunk_release(chunk *c);
void node_free(node *n);
/* True when a line opens a block (if, for, while, def, elif, else) and its statement goes
 * on over the following indented lines. */
bool line_opens_block(const char *line);
/* True when a line continues the statement above at its own indentation (elif, else). */
bool line_continues_block(const char *line);

#endif
