/* gt_gnuplot.h - drawing a PNG through gnuplot, for gradtape-train --plot and the REPL's
 * plot(..., file=): is gnuplot installed, and run a script that draws into a file that
 * replaces `path` atomically (gt_atomic_file: a half-drawn PNG never replaces a good one).
 * Not part of the library: it starts a program. */
#ifndef GT_GNUPLOT_H
#define GT_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Whether a `gnuplot` executable is on the PATH. */
bool gt_gnuplot_available(void);

/* Writes gnuplot's script to gp: its data and commands; `output` is the file name for
 * `set output` (a temporary beside the target). */
typedef void (*gt_gnuplot_script)(FILE *gp, const char *output, void *ctx);

/* Runs gnuplot (its messages on our standard error) with the script `script` writes, and
 * renames the PNG it drew over `path`. False with a message naming path in msg on failure
 * (path then keeps what it held). `what` names the file in messages of gt_atomic_file. */
bool gt_gnuplot_draw(const char *path, const char *what, gt_gnuplot_script script, void *ctx,
                     char *msg, size_t msg_size);

/* text as a string in gnuplot's double quotes: backslash escapes, a newline as \n. */
void gt_gnuplot_quote(FILE *f, const char *text);

#endif
