/* main.c - gradtape: an interactive session on a terminal, or a script from a file or stdin. */
#define _POSIX_C_SOURCE 200809L
#include "repl.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out) {
    fprintf(out, "usage: gradtape [-k] [FILE | -]\n"
                 "  an interactive session on a terminal; otherwise runs FILE or stdin\n"
                 "  -k  keep going after an error (exit status 1 at the end)\n");
}

int main(int argc, char **argv) {
    bool keep_going = false;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-k")) {
            keep_going = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (file || (argv[i][0] == '-' && argv[i][1])) {
            usage(stderr);
            return 2;
        } else {
            file = argv[i];
        }
    }
    repl r;
    if (!repl_init(&r)) {
        fprintf(stderr, "gradtape: %s\n", gt_last_error());
        return 1;
    }
    int status;
    if (file && strcmp(file, "-")) {
        FILE *in = fopen(file, "r");
        if (!in) {
            fprintf(stderr, "gradtape: cannot open %s\n", file);
            status = 1;
        } else {
            status = repl_run_script(&r, in, file, keep_going, stderr);
            fclose(in);
        }
    } else if (!file && isatty(STDIN_FILENO)) {
        status = run_interactive(&r);
    } else {
        status = repl_run_script(&r, stdin, "<stdin>", keep_going, stderr);
    }
    repl_free(&r);
    return status;
}
