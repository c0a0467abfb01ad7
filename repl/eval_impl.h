/* eval_impl.h - what the evaluator's files share: eval.c (expressions), call.c (names,
 * calls, functions), exec.c (statements) and format.c (printing and formatting). */
#ifndef GT_REPL_EVAL_IMPL_H
#define GT_REPL_EVAL_IMPL_H

#include "eval.h"

/* How a statement ended. */
typedef enum exec_status { EXEC_OK, EXEC_ERROR, EXEC_BREAK, EXEC_CONTINUE, EXEC_RETURN } exec_status;

/* A local not assigned yet: V_NONE with this mark in num. */
#define UNBOUND_LOCAL 1.0

bool eval_name(repl *r, const node *n, value *out);
bool eval_call(repl *r, const node *n, value *out);
/* The items of a list literal as a list, even when they are all numbers. */
bool eval_list_items(repl *r, const node *n, value *out);
/* Binds the name of an N_ASSIGN or N_FOR node (a local slot or a global); takes over v. */
bool bind_name(repl *r, const node *n, value v);
/* f"...{x:.4f}..." (format.c). */
bool eval_fstring(repl *r, const node *n, value *out);
exec_status exec_block(repl *r, const node *block);
/* Fails with "interrupted" when Ctrl-C was pressed (and clears the flag). */
bool check_interrupt(repl *r, int col);
/* Whole number from a number or a bool, or an error naming `what`. */
bool value_to_index(repl *r, value v, int col, const char *what, double *out);
/* x[kids[1], ...] of an N_INDEX node on a tensor x, recorded on the evaluation tape
 * (index.c). */
bool tensor_index(repl *r, const node *n, value x, value *out);
/* x[kids[1], ..., kids[n-2]] = v of an N_SETITEM node, into x's data: refused when x is
 * part of a live graph (index.c). */
bool tensor_setitem(repl *r, const node *n, value x, value v);

#endif
