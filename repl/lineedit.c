/* lineedit.c - the terminal session: libedit line editing, history, Tab completion, Ctrl-C. */
#define _POSIX_C_SOURCE 200809L
#include "builtins.h"
#include "script.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#define PROMPT "gt> "
#define MORE_PROMPT "... "
#define HISTORY_FILE ".gradtape_history"
#define HISTORY_MAX 1000

static volatile sig_atomic_t interrupted, running;
static repl *session; /* for the completion callback, which has no context argument */

/* At the prompt Ctrl-C abandons the line; while a statement runs it stops it at its next
 * statement or loop iteration (repl_interrupt); a second Ctrl-C before that (a library
 * call that takes long) ends the program, as the default action would. */
static void on_sigint(int sig) {
    interrupted = 1;
    if (!running)
        return;
    if (repl_interrupt) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    repl_interrupt = 1;
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

/* text + "\n" + line, as a new string (gt_free it); text may be NULL. */
static char *join_lines(const char *text, const char *line) {
    size_t a = text ? strlen(text) : 0, b = strlen(line);
    if (a + b + 2 > REPL_MAX_CHUNK)
        return NULL;
    char *s = gt_malloc(a + b + 2, "repl: block");
    if (s) {
        if (a)
            memcpy(s, text, a);
        s[a] = '\n';
        memcpy(s + (a ? a + 1 : 0), line, b + 1);
    }
    return s;
}

/* A caret under the error's column when it is on the line just typed; a block's error
 * names its line instead. */
static void show_error(const repl *r, bool block) {
    fflush(stdout);
    if (block)
        fprintf(stderr, "line %ld: ", r->err.line);
    else if (r->err.col > 0)
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
    long lineno = 0, block_start = 0;
    char *text = NULL;
    while (!r->quit) {
        interrupted = 0;
        char *line = readline(text ? MORE_PROMPT : PROMPT);
        if (interrupted) {
            free(line);
            gt_free(text);
            text = NULL;
            printf("^C\n");
            continue;
        }
        lineno++;
        bool blank = !line || !line[strspn(line, " \t")];
        if (!blank) {
            add_history(line);
            if (path)
                write_history(path);
        }
        /* A block (if, for, while, def) goes on until an empty line, as in Python's REPL. */
        if (line && (text || line_opens_block(line)) && !blank) {
            if (!text)
                block_start = lineno;
            char *longer = join_lines(text, line);
            free(line);
            gt_free(text);
            text = longer;
            if (!text)
                fprintf(stderr, "error: out of memory keeping the block\n");
            continue;
        }
        const char *statement = text ? text : line;
        if (statement) {
            repl_interrupt = 0;
            running = 1;
            if (!run_statement(r, statement, text ? block_start : lineno))
                show_error(r, text != NULL);
            running = 0;
        }
        free(line);
        gt_free(text);
        text = NULL;
        if (!statement) {
            printf("\n");
            break;
        }
    }
    gt_free(path);
    return 0;
}
