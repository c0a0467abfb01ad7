/* repl.h - the REPL's shared types: tokens, syntax tree, values, session and builtins. */
#ifndef GT_REPL_H
#define GT_REPL_H

#include "gradtape.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define REPL_MAX_NESTING 200    /* parentheses, brackets and calls inside each other */
#define REPL_MAX_TREE_DEPTH 1000 /* operators chained on one line (a + a + ... + a) */
#define REPL_MAX_LINE (1 << 20) /* longer lines are refused */
#define REPL_MAX_ARGS 64        /* arguments of one call */
#define REPL_MAX_SIZE 4e18      /* one size of a shape (the element count is checked after) */
#define REPL_MSG_SIZE 512

/* ---- errors: a message and the 1-based column it points at ---------------------------- */

typedef struct repl_error {
    int col;
    char msg[REPL_MSG_SIZE];
} repl_error;

/* ---- lexer ---------------------------------------------------------------------------- */

typedef enum tok_kind { TOK_EOF, TOK_NUM, TOK_STR, TOK_NAME, TOK_PUNCT } tok_kind;

typedef struct token {
    tok_kind kind;
    int col;          /* 1-based column of its first character */
    const char *text; /* into the line */
    size_t len;
    double num;       /* TOK_NUM */
    char punct;       /* TOK_PUNCT: one of + - * / @ ( ) [ ] , = */
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
    N_NUM,    /* num */
    N_STR,    /* text */
    N_NAME,   /* text */
    N_LIST,   /* kids */
    N_CALL,   /* text = callee, kids = arguments, kwnames[i] = keyword or NULL */
    N_BINARY, /* op, kids[0] op kids[1] */
    N_NEG,    /* -kids[0] */
    N_ASSIGN  /* text = kids[0] */
} node_kind;

typedef struct node {
    node_kind kind;
    int col;
    char op;
    double num;
    char *text;
    int n_kids, cap_kids;
    struct node **kids;
    char **kwnames;
    int *kwcols; /* column of each keyword, 0 for positional arguments */
    int depth; /* height of this subtree */
} node;

/* Parses one statement; NULL for an empty line (err->msg[0] == 0) or an error. */
node *parse_line(const char *line, repl_error *err);
void node_free(node *n);

/* ---- values --------------------------------------------------------------------------- */

typedef enum value_kind { V_NONE, V_NUM, V_STR, V_TENSOR, V_OPT } value_kind;

typedef struct repl_opt repl_opt;

/* A reference-counted box shared by every name and temporary holding the same thing. */
typedef struct obj {
    int refs;
    value_kind kind;
    gt_tensor *tensor; /* V_TENSOR: NULL only if lost by a failed copy */
    gt_tensor *copy;   /* V_TENSOR on the session tape: its heap copy, made ahead of a reset */
    gt_tape *tape;     /* V_TENSOR: the tape that owns it, NULL for a heap tensor */
    struct obj *prev, *next; /* boxes of the session tape, for detaching on reset */
    char *str;         /* V_STR */
    repl_opt *opt;     /* V_OPT */
} obj;

typedef struct value {
    value_kind kind;
    double num;
    obj *box;
} value;

struct repl;
value value_num(double x);
value value_none(void);
value value_ref(value v);
void value_release(struct repl *r, value v);
/* New boxes own what they are given (tensor on `tape` or on the heap, string, optimizer). */
bool value_tensor(struct repl *r, gt_tensor *t, gt_tape *tape, value *out);
bool value_string(struct repl *r, const char *s, size_t len, value *out);
bool value_opt(struct repl *r, repl_opt *opt, value *out);
/* Copies the tensor of a session-tape box to the heap (values kept, graph dropped). */
bool value_detach(struct repl *r, obj *box);
/* Detaches every box of the session tape, then resets the tape; a value that cannot be
 * copied for lack of memory is lost (its box says so when used). */
void repl_reset_tape(struct repl *r);
/* The same in two steps, for a builtin that must change nothing when memory runs out:
 * prepare copies every box of the session tape to the heap, all or nothing (false, with
 * r->err set and nothing changed); commit swaps the copies in and resets the tape; cancel
 * frees the copies when the work between the two failed. */
bool repl_reset_tape_prepare(struct repl *r);
void repl_reset_tape_commit(struct repl *r);
void repl_reset_tape_cancel(struct repl *r);
/* Resets the tape when no name holds a tensor on it (nothing reachable is lost). */
void repl_reset_tape_if_unused(struct repl *r);
/* Keeps a heap tensor's box alive until the next tape reset. */
bool value_pin(struct repl *r, obj *box);
const char *value_kind_name(value v);

/* ---- the session ---------------------------------------------------------------------- */

typedef struct repl_var repl_var;
typedef struct builtin builtin;

typedef struct repl {
    gt_tape *tape;      /* intermediates of the current graph */
    gt_tape *eval_tape; /* where evaluation puts results: tape, or gradcheck's own */
    bool in_gradcheck;
    gt_rng rng;
    int digits;
    bool time_lines;
    bool quit;
    repl_var *vars;     /* uthash by name */
    builtin *builtins;  /* uthash by name */
    obj *live;          /* list of boxes on `tape` */
    obj **pins;         /* heap tensors used as op inputs: kept alive until a tape reset */
    int n_pins, cap_pins;
    obj **params;       /* every parameter made by param(), in order */
    int n_params, cap_params;
    repl_error err;
    bool hash_oom;
} repl;

bool repl_init(repl *r);
void repl_free(repl *r);
/* Clears names, parameters and the tape, and reseeds; keeps display settings. */
void repl_clear(repl *r);
/* Sets r->err; always returns false. */
bool repl_fail(repl *r, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* r->err from the library's last error. */
bool repl_fail_lib(repl *r, int col);

repl_var *repl_lookup(repl *r, const char *name);
value *repl_var_value(repl_var *v);
const char *repl_var_name(repl_var *v);
repl_var *repl_first_var(repl *r);
repl_var *repl_next_var(repl_var *v);
bool repl_bind(repl *r, const char *name, value v, int col);
bool repl_add_param(repl *r, obj *box);

/* ---- evaluation ----------------------------------------------------------------------- */

bool eval(repl *r, const node *n, value *out);
/* A tensor from a value (numbers become 0-d tensors on the evaluation tape). */
bool value_to_tensor(repl *r, value v, int col, gt_tensor **out);
/* Runs one line: parse, evaluate, bind or print. False with r->err on error. */
bool repl_run_line(repl *r, const char *line);
void print_value(repl *r, FILE *out, value v);

/* ---- builtins ------------------------------------------------------------------------- */

typedef struct call_args {
    const node *call;
    int n;                 /* positional and keyword arguments, in order written */
    value *vals;
    const char *const *kw; /* keyword of each argument or NULL */
    const int *cols;       /* column of each argument's value */
} call_args;

typedef bool (*builtin_fn)(repl *r, const call_args *a, value *out);

enum {
    B_IMPURE = 1 << 0, /* not allowed inside a gradcheck expression */
    B_LAZY_FIRST = 1 << 1 /* the first argument is passed unevaluated (gradcheck) */
};

struct builtin_info {
    const char *name;
    builtin_fn fn;
    const char *signature;
    const char *doc;
    unsigned flags;
};

bool builtins_init(repl *r);
void builtins_free(repl *r);
const builtin *builtin_find(repl *r, const char *name);
bool builtin_call(repl *r, const builtin *b, const call_args *a, value *out);
unsigned builtin_flags(const builtin *b);
const char *builtin_name(const builtin *b);
const char *builtin_signature(const builtin *b);
const char *builtin_doc(const builtin *b);
const builtin *builtin_first(repl *r);
const builtin *builtin_next(const builtin *b);
/* The REPL's own builtins (not in the op table). */
const struct builtin_info *repl_builtin_table(int *count);

/* Helpers for builtins. */
bool arg_number(repl *r, const call_args *a, int i, double *x);
bool arg_tensor(repl *r, const call_args *a, int i, gt_tensor **t);
bool arg_dims(repl *r, const call_args *a, int from, int *ndim, int64_t *shape);
bool arity(repl *r, const call_args *a, int lo, int hi);
bool b_param(repl *r, const call_args *a, value *out);
bool b_backward(repl *r, const call_args *a, value *out);
bool b_grad(repl *r, const call_args *a, value *out);
bool b_zero_grad(repl *r, const call_args *a, value *out);
bool gradcheck_builtin(repl *r, const call_args *a, value *out);
bool b_sgd(repl *r, const call_args *a, value *out);
bool b_step(repl *r, const call_args *a, value *out);
void optim_free(repl *r, repl_opt *opt);
void optim_describe(const repl_opt *opt, FILE *out);

/* ---- commands and line editing ------------------------------------------------------- */

/* Runs one line (a command or a statement), timing it when :time is on. */
bool run_statement(repl *r, const char *line);
/* Writes an error message on one line: control characters (a newline in a file name the
 * message quotes, an escape sequence in a string) are written as \n, \t, \xNN. */
void repl_write_message(FILE *out, const char *msg);
/* Runs a script line by line; an error prints NAME:LINE:COL: message on `errors` and stops
 * the script (or, with keep_going, goes on). Returns the exit status: 0, or 1 after an error. */
int repl_run_script(repl *r, FILE *in, const char *name, bool keep_going, FILE *errors);
/* The same for a script of `size` bytes in memory (NUL bytes are refused as in a file). */
int repl_run_text(repl *r, const char *text, size_t size, const char *name, bool keep_going,
                  FILE *errors);
/* Runs a line starting with ':'. False with r->err on a bad command. */
bool run_command(repl *r, const char *line);
/* Interactive session on a terminal; returns the exit status. */
int run_interactive(repl *r);

#endif
