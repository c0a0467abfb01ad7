/* messages.c - how gradtape-train tells what went wrong: one line on standard error that
 * starts with the program's name, then names the option, the value or the file. */
#include "train.h"

#include <stdarg.h>

void complain(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs(TRAIN_NAME ": ", stderr);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

void complain_usage(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    fputs(TRAIN_NAME ": ", stderr);
    vfprintf(stderr, fmt, args);
    fputs(" (see " TRAIN_NAME " --help)\n", stderr);
    va_end(args);
}
