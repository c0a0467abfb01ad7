/* script.h - running statements: one at the prompt (timed when :time is on), a script from
 * a stream or memory, the colon commands and the terminal session. */
#ifndef GT_REPL_SCRIPT_H
#define GT_REPL_SCRIPT_H

#include "session.h"

#include <stdbool.h>
#include <stdio.h>

/* Runs one statement with its block (several lines), or a command line starting with ':',
 * timing it when :time is on; `first_line` numbers its first line. */
bool run_statement(repl *r, const char *text, long first_line);
/* Writes an error message on one line: control characters (a newline in a file name the
 * message quotes, an escape sequence in a string) are written as \n, \t, \xNN. */
void repl_write_message(FILE *out, const char *msg);
/* Runs a script: each statement with its indented block; an error prints
 * NAME:LINE:COL: message on `errors` and stops the script (or, with keep_going, goes on).
 * Returns the exit status: 0, or 1 after an error. */
int repl_run_script(repl *r, FILE *in, const char *name, bool keep_going, FILE *errors);
/* The same for a script of `size` bytes in memory (NUL bytes are refused as in a file). */
int repl_run_text(repl *r, const char *text, size_t size, const char *name, bool keep_going,
                  FILE *errors);
/* Runs a line starting with ':'. False with r->err on a bad command. */
bool run_command(repl *r, const char *line);
/* Interactive session on a terminal; returns the exit status. */
int run_interactive(repl *r);

#endif
