/* session.h - the session: its tape, named values, parameters, the frames of the functions
 * running, the error slot and the Ctrl-C flag. */
#ifndef GT_REPL_SESSION_H
#define GT_REPL_SESSION_H

#include "gradtape.h"
#include "parser.h"
#include "value.h"

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#define REPL_MAX_CALL_DEPTH 1000 /* functions calling functions (Python's recursion limit) */
#define REPL_MAX_SIZE 4e18       /* one size of a shape (the element count is checked after) */

typedef struct repl_var repl_var;
typedef struct builtin builtin;

/* Set by a SIGINT handler (the terminal's, or main's for a script); the running statement
 * stops at its next loop iteration, statement or call with "interrupted". */
extern volatile sig_atomic_t repl_interrupt;

/* One entry of the call chain an error reports: the line a function was called from. */
typedef struct repl_call_site {
    long line;
    char name[24];
} repl_call_site;

typedef struct repl {
    gt_tape *tape;      /* intermediates of the current graph */
    gt_tape *eval_tape; /* where evaluation puts results: tape, or gradcheck's own */
    bool in_gradcheck;
    gt_rng rng;
    int digits;
    bool time_lines;
    bool quit;
    repl_var *vars;     /* uthash by name */
    unsigned vars_gen;  /* changes when variables are freed: syntax-tree caches go stale */
    builtin *builtins;  /* uthash by name */
    obj *live;          /* list of boxes on `tape` */
    obj **pins;         /* heap tensors used as op inputs: kept alive until a tape reset */
    int n_pins, cap_pins;
    obj **params;       /* every parameter made by param(), in order */
    int n_params, cap_params;
    /* running functions: their locals live on one stack, frame_base is the current one's */
    value *stack;
    int stack_top, stack_cap;
    int frame_base;     /* -1 at top level */
    int depth;          /* functions running */
    uintptr_t stack_start; /* the C stack where the statement started, for the depth check */
    size_t stack_budget;
    long line;          /* the script line of the statement running */
    long step_limit;    /* statements and loop turns a top-level statement may run, 0: any */
    long steps;
    value ret;          /* the value a return statement hands back */
    chunk *code;        /* the chunk running at the top level (a def keeps it alive) */
    repl_call_site *chain; /* the call chain of the last error, innermost first */
    int chain_len;
    repl_error err;
    bool hash_oom;
    /* an optimizer (its box, referenced) whose lr the running top-level statement changed
     * (linear_lr does at once, as PyTorch's LinearLR), and its lr before: put back if the
     * statement fails, like the generator */
    obj *undo_lr;
    double undo_lr_value;
} repl;

bool repl_init(repl *r);
void repl_free(repl *r);
/* Clears names, parameters and the tape, and reseeds; keeps display settings. */
void repl_clear(repl *r);
/* Sets r->err (at the running statement's line); always returns false. */
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
/* Takes over the reference in v. */
bool repl_bind(repl *r, const char *name, value v, int col);
bool repl_add_param(repl *r, obj *box);

#endif
