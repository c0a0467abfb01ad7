/* messages.c - how gradtape-train tells what went wrong: one line on standard error that
 * starts with the program's name (and, in a distributed run, the rank), then names the
 * option, the value or the file. */
#include "train.h"

#include <stdarg.h>

static char rank_prefix[64]; /* "rank 1 of 2: ", or empty */

void complain_as_rank(int rank, int size) {
    snprintf(rank_prefix, sizeof rank_prefix, "rank %d of %d: ", rank, size);
}

/* "gradtape-train: [rank R of P: ]<message><ending>\n" on standard error, in one write, so
 * that the lines of ranks sharing mpirun's standard error do not interleave. */
static void say(const char *ending, const char *fmt, va_list args) {
    char line[4096];
    int n = snprintf(line, sizeof line, TRAIN_NAME ": %s", rank_prefix);
    if (n > 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, args);
    if (n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "%s", ending);
    fprintf(stderr, "%s\n", line);
}

void complain(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    say("", fmt, args);
    va_end(args);
}

void complain_usage(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    say(" (see " TRAIN_NAME " --help)", fmt, args);
    va_end(args);
}
