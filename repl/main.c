/* main.c - gradtape: an interactive session on a terminal, or a script from a file or stdin. */
#define _POSIX_C_SOURCE 200809L
#include "script.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* The session's memory, capped at three quarters of the machine's: Linux grants a larger
 * request (overcommit) and then kills the process when its pages are touched, and the
 * session would be lost with everything it held. Over the cap, an allocation fails like
 * any other (`zeros: cannot allocate ... bytes`) and the line fails, the session goes on. */
static size_t session_cap;
static _Atomic size_t session_bytes; /* blocks the library holds (threads may allocate) */

static size_t block_size(void *ptr, size_t asked) {
#ifdef __GLIBC__
    (void)asked;
    return malloc_usable_size(ptr);
#else
    (void)ptr;
    return asked;
#endif
}

static void *capped_alloc(size_t size, void *ctx) {
    (void)ctx;
    size_t held = session_bytes;
    if (size > session_cap || held > session_cap - size)
        return NULL;
    void *ptr = malloc(size);
    if (ptr)
        session_bytes += block_size(ptr, size);
    return ptr;
}

static void capped_free(void *ptr, void *ctx) {
    (void)ctx;
    if (ptr) {
        size_t block = block_size(ptr, 0), held = session_bytes;
        session_bytes = block < held ? held - block : 0;
    }
    free(ptr);
}

static void cap_session_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
#ifdef __GLIBC__
    if (pages > 0 && page > 0) {
        session_cap = (size_t)pages / 4 * 3 * (size_t)page;
        gt_set_allocator(&(gt_allocator){capped_alloc, capped_free, NULL});
    }
#else
    (void)pages, (void)page; /* without malloc_usable_size frees cannot be counted */
#endif
}

/* Ctrl-C while a script runs stops its statement (repl_interrupt, checked at each
 * statement and loop iteration); a second one before that ends the program. */
static void on_sigint(int sig) {
    if (repl_interrupt) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    repl_interrupt = 1;
}

static void catch_interrupts(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

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
    cap_session_memory();
    repl r;
    if (!repl_init(&r)) {
        fprintf(stderr, "gradtape: %s\n", gt_last_error());
        return 1;
    }
    int status;
    if (file || !isatty(STDIN_FILENO))
        catch_interrupts();
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
