/* script.c - running lines: one statement (timed when :time is on), or a whole script read
 * line by line from a stream or from memory, without touching the terminal. */
#define _POSIX_C_SOURCE 200809L
#include "repl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool run_statement(repl *r, const char *line) {
    double start = now_ms();
    const char *p = line + strspn(line, " \t");
    bool ok = *p == ':' ? run_command(r, line) : repl_run_line(r, line);
    if (r->time_lines && *p != ':')
        printf("time: %.3f ms\n", now_ms() - start);
    fflush(stdout);
    return ok;
}

typedef enum { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_NUL, LINE_NOMEM } line_status;

/* Makes room in *buf for n + 1 bytes, growing it through gt_malloc. */
static line_status make_room(char **buf, size_t *cap, size_t n) {
    if (n + 1 < *cap)
        return LINE_OK;
    size_t grown = *cap ? 2 * *cap : 256;
    if (grown > REPL_MAX_LINE + 1)
        return LINE_TOO_LONG;
    char *bigger = gt_malloc(grown, "repl: line");
    if (!bigger)
        return LINE_NOMEM;
    if (n)
        memcpy(bigger, *buf, n);
    gt_free(*buf);
    *buf = bigger;
    *cap = grown;
    return LINE_OK;
}

/* Reads one line (without its newline) into *buf; a line that cannot be kept is read to
 * its end all the same, so the next call starts at the next line. */
static line_status read_line(FILE *in, char **buf, size_t *cap) {
    size_t n = 0;
    line_status status = LINE_OK;
    int c;
    while ((c = getc(in)) != EOF && c != '\n') {
        if (status == LINE_OK && c == 0)
            status = LINE_NUL;
        if (status == LINE_OK)
            status = make_room(buf, cap, n);
        if (status == LINE_OK)
            (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0 && status == LINE_OK)
        return LINE_EOF;
    if (status == LINE_OK) /* an empty first line needs a buffer too */
        status = make_room(buf, cap, n);
    if (status == LINE_OK)
        (*buf)[n] = 0;
    return status;
}

void repl_write_message(FILE *out, const char *msg) {
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
}

int repl_run_script(repl *r, FILE *in, const char *name, bool keep_going, FILE *errors) {
    char *buf = NULL;
    size_t cap = 0;
    int status = 0;
    for (long lineno = 1; !r->quit; lineno++) {
        line_status ls = read_line(in, &buf, &cap);
        if (ls == LINE_EOF)
            break;
        bool ok;
        if (ls == LINE_OK) {
            ok = run_statement(r, buf);
        } else {
            r->err.col = 1;
            snprintf(r->err.msg, sizeof r->err.msg, "%s",
                     ls == LINE_TOO_LONG ? "line longer than 1048576 bytes: refused"
                     : ls == LINE_NUL    ? "line contains a NUL byte: refused"
                                         : "out of memory reading the line");
            ok = false;
        }
        if (!ok) {
            fflush(stdout);
            fprintf(errors, "%s:%ld:%d: ", name, lineno, r->err.col);
            repl_write_message(errors, r->err.msg);
            fputc('\n', errors);
            status = 1;
            if (!keep_going)
                break;
        }
    }
    gt_free(buf);
    return status;
}

int repl_run_text(repl *r, const char *text, size_t size, const char *name, bool keep_going,
                  FILE *errors) {
    if (size == 0)
        return 0;
    FILE *in = fmemopen((void *)text, size, "r");
    if (!in) {
        fprintf(errors, "%s: cannot read the script from memory\n", name);
        return 1;
    }
    int status = repl_run_script(r, in, name, keep_going, errors);
    fclose(in);
    return status;
}
