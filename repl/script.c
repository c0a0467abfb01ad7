/* script.c - running lines: one statement (timed when :time is on), or a whole script read
 * line by line from a stream or from memory, without touching the terminal. */
#define _POSIX_C_SOURCE 200809L
#include "script.h"
#include "eval.h"
#include "parser.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool run_statement(repl *r, const char *text, long first_line) {
    double start = now_ms();
    const char *p = text + strspn(text, " \t");
    bool command = *p == ':';
    r->line = first_line;
    r->err.line = 0;
    bool ok = command ? run_command(r, text) : repl_run_line(r, text, first_line);
    if (!ok && r->err.line == 0)
        r->err.line = first_line;
    if (r->time_lines && !command)
        printf("time: %.3f ms\n", now_ms() - start);
    fflush(stdout);
    return ok;
}

typedef enum { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_NUL, LINE_NOMEM, LINE_BLOCK_TOO_LONG } line_status;

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

static void report(repl *r, FILE *errors, const char *name, long line) {
    fflush(stdout);
    fprintf(errors, "%s:%ld:%d: ", name, r->err.line ? r->err.line : line, r->err.col);
    repl_write_message(errors, r->err.msg);
    fputc('\n', errors);
}

static const char *line_problem(line_status ls) {
    return ls == LINE_TOO_LONG ? "line longer than 1048576 bytes: refused"
           : ls == LINE_NUL    ? "line contains a NUL byte: refused"
           : ls == LINE_BLOCK_TOO_LONG ? "block longer than 16 MB: refused"
                               : "out of memory reading the line";
}

/* A statement's text grows by one line (with a newline before it). */
static line_status add_line(char **text, size_t *cap, size_t *len, const char *line) {
    size_t n = strlen(line);
    if (*len + n + 2 > REPL_MAX_CHUNK)
        return LINE_BLOCK_TOO_LONG;
    if (*len + n + 2 > *cap) {
        size_t grown = *cap ? *cap : 256;
        while (grown < *len + n + 2)
            grown *= 2;
        char *bigger = gt_malloc(grown, "repl: block");
        if (!bigger)
            return LINE_NOMEM;
        if (*len)
            memcpy(bigger, *text, *len);
        gt_free(*text);
        *text = bigger;
        *cap = grown;
    }
    if (*len)
        (*text)[(*len)++] = '\n';
    memcpy(*text + *len, line, n + 1);
    *len += n;
    return LINE_OK;
}

/* A line that belongs to the block above it: indented, blank, a comment, elif or else. */
static bool inside_block(const char *line) {
    return line[0] == ' ' || line[0] == '\t' || line[strspn(line, " \t\r")] == 0 ||
           line[strspn(line, " \t\r")] == '#' || line_continues_block(line);
}

int repl_run_script(repl *r, FILE *in, const char *name, bool keep_going, FILE *errors) {
    char *buf = NULL, *text = NULL;
    size_t cap = 0, text_cap = 0;
    int status = 0;
    long lineno = 0;
    line_status pending = LINE_EOF; /* a line read ahead, which starts the next statement */
    while (!r->quit) {
        line_status ls = pending != LINE_EOF ? pending : read_line(in, &buf, &cap);
        long start = pending != LINE_EOF ? lineno : ++lineno;
        pending = LINE_EOF;
        if (ls == LINE_EOF)
            break;
        size_t len = 0;
        if (ls == LINE_OK)
            ls = add_line(&text, &text_cap, &len, buf);
        /* A block goes on over the lines indented below it, as in a Python script. */
        bool block = ls == LINE_OK && line_opens_block(buf) && buf[0] != ' ' && buf[0] != '\t';
        while (block) {
            line_status next = read_line(in, &buf, &cap);
            if (next == LINE_EOF)
                break;
            lineno++;
            if (next != LINE_OK || !inside_block(buf)) {
                pending = next;
                break;
            }
            if (ls == LINE_OK)
                ls = add_line(&text, &text_cap, &len, buf);
        }
        bool ok;
        if (ls == LINE_OK) {
            ok = run_statement(r, text, start);
        } else {
            r->err.col = 1;
            r->err.line = start;
            snprintf(r->err.msg, sizeof r->err.msg, "%s", line_problem(ls));
            ok = false;
        }
        if (!ok) {
            report(r, errors, name, start);
            status = 1;
            if (!keep_going)
                break;
        }
    }
    gt_free(buf);
    gt_free(text);
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
