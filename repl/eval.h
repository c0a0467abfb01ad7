/* eval.h - evaluating expressions and running statements, functions and printing values. */
#ifndef GT_REPL_EVAL_H
#define GT_REPL_EVAL_H

#include "parser.h"
#include "session.h"
#include "value.h"

#include <stdio.h>

/* A user function: its def node, inside the chunk it keeps alive, and its defaults. */
struct repl_func {
    chunk *code;
    const node *def;
    value defaults[REPL_MAX_ARGS];
};

void func_free(repl *r, repl_func *fn);

bool eval(repl *r, const node *n, value *out);
/* A tensor from a value (numbers become 0-d tensors on the evaluation tape). */
bool value_to_tensor(repl *r, value v, int col, gt_tensor **out);
/* Calls a user function with positional arguments; `call` is where it is called from. */
bool call_function(repl *r, value fn, const value *args, int n, const node *call, value *out);
/* Runs the statements of text (one statement with its block, or several lines): parse,
 * run, bind or print. False with r->err on error (its message ends with the call chain). */
bool repl_run_line(repl *r, const char *text, long first_line);
void print_value(repl *r, FILE *out, value v);
/* Writes v as print() does (strings bare) or as a list item (strings quoted). */
void write_value(repl *r, FILE *out, value v, bool quote_strings);
/* Formats v with a Python format spec ("", ".4f", ">8", "5d", ...) into a new string. */
bool format_value(repl *r, value v, const char *spec, int col, value *out);

#endif
