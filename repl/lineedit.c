/* lineedit.c - the terminal session: libedit line editing, history, Tab completion, Ctrl-C. */
#define _POSIX_C_SOURCE 200809L
#include "repl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#define PROMPT "gt> "
#define HISTORY_FILE ".gradtape_history"
#define HISTORY_MAX 1000

static volatile sig_atomic_t interrupted;
static repl *session; /* for the completion callback, which has no context argument */

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* Reads one byte for libedit. Ctrl-C interrupts read(): answer with Enter, so libedit hands
 * back the line, which the loop then drops because `interrupted` is set. */
static int read_key(FILE *in) {
    unsigned char c;
    for (;;) {
        ssize_t n = read(fileno(in), &c, 1);
        if (n == 1)
            return c;
        if (n == 0)
            return EOF;
        if (errno != EINTR)
            return EOF;
        if (interrupted)
            return '\n';
    }
}

/* Completion candidates: builtins, then names, that start with the typed text. The strings
 * are malloc'd because libedit frees them with free(). */
static char *next_candidate(const char *text, int state) {
    static const builtin *b;
    static repl_var *v;
    size_t len = strlen(text);
    if (state == 0) {
        b = builtin_first(session);
        v = repl_first_var(session);
    }
    for (; b; b = builtin_next(b))
        if (strncmp(builtin_name(b), text, len) == 0) {
            const char *name = builtin_name(b);
            b = builtin_next(b);
            return strdup(name);
        }
    for (; v; v = repl_next_var(v))
        if (strncmp(repl_var_name(v), text, len) == 0) {
            const char *name = repl_var_name(v);
            v = repl_next_var(v);
            return strdup(name);
        }
    return NULL;
}

static char **complete(const char *text, int start, int end) {
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, next_candidate);
}

/* ~/.gradtape_history, or NULL when $HOME is not set; gt_free it. */
static char *history_path(void) {
    const char *home = getenv("HOME");
    if (!home || !home[0])
        return NULL;
    size_t size = strlen(home) + sizeof HISTORY_FILE + 2;
    char *path = gt_malloc(size, "repl: history path");
    if (path)
        snprintf(path, size, "%s/%s", home, HISTORY_FILE);
    return path;
}

static void show_error(const repl *r) {
    fflush(stdout);
    if (r->err.col > 0)
        fprintf(stderr, "%*s^\n", (int)strlen(PROMPT) + r->err.col - 1, "");
    fprintf(stderr, "error: ");
    repl_write_message(stderr, r->err.msg);
    fputc('\n', stderr);
}

int run_interactive(repl *r) {
    session = r;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: read() returns EINTR */
    rl_readline_name = "gradtape";
    rl_catch_signals = 0;
    rl_getc_function = read_key;
    rl_attempted_completion_function = complete;
    rl_basic_word_break_characters = " \t\n\"=(),+-*/@[]#:";
    rl_completion_append_character = '\0';
    rl_initialize();
    using_history();
    stifle_history(HISTORY_MAX);
    char *path = history_path();
    if (path)
        read_history(path);
    printf("gradtape %s (%s) - :help for help, Ctrl-D to leave\n", GT_REPL_VERSION,
           GT_REAL_NAME);
    while (!r->quit) {
        interrupted = 0;
        char *line = readline(PROMPT);
        if (interrupted) {
            free(line);
            printf("^C\n");
            continue;
        }
        if (!line) {
            printf("\n");
            break;
        }
        if (line[strspn(line, " \t")]) {
            add_history(line);
            if (path)
                write_history(path);
        }
        if (!run_statement(r, line))
            show_error(r);
        free(line);
    }
    gt_free(path);
    return 0;
}
