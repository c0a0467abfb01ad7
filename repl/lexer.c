/* lexer.c - splits a line into numbers, strings, names and punctuation. */
#include "parser.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lexer_init(lexer *lx, const char *line) {
    memset(lx, 0, sizeof *lx);
    lx->line = line;
}

static bool lex_fail(repl_error *err, size_t pos, const char *msg) {
    err->col = (int)pos + 1;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return false;
}

/* digits [. digits] [e [+-] digits], or . digits */
static bool lex_number(lexer *lx, repl_error *err) {
    const char *s = lx->line + lx->pos;
    size_t n = 0;
    while (isdigit((unsigned char)s[n]))
        n++;
    if (s[n] == '.') {
        n++;
        while (isdigit((unsigned char)s[n]))
            n++;
    }
    if (s[n] == 'e' || s[n] == 'E') {
        size_t e = n + 1;
        if (s[e] == '+' || s[e] == '-')
            e++;
        if (!isdigit((unsigned char)s[e]))
            return lex_fail(err, lx->pos + n, "malformed number: exponent has no digits");
        while (isdigit((unsigned char)s[e]))
            e++;
        n = e;
    }
    if (isalpha((unsigned char)s[n]) || s[n] == '_')
        return lex_fail(err, lx->pos + n, "malformed number");
    char buf[64];
    if (n >= sizeof buf)
        return lex_fail(err, lx->pos, "number too long");
    memcpy(buf, s, n);
    buf[n] = 0;
    lx->tok.kind = TOK_NUM;
    lx->tok.num = strtod(buf, NULL);
    lx->tok.len = n;
    return true;
}

/* "..." or '...' with \" \' \\ \n \t, after `prefix` characters (1 for an f-string's f);
 * the token text includes the prefix and the quotes. */
static bool lex_string(lexer *lx, size_t prefix, repl_error *err) {
    const char *s = lx->line + lx->pos + prefix;
    char quote = s[0];
    size_t n = 1;
    while (s[n] && s[n] != quote) {
        if (s[n] == '\\' && s[n + 1])
            n++;
        n++;
    }
    if (!s[n])
        return lex_fail(err, lx->pos, "unterminated string");
    lx->tok.kind = prefix ? TOK_FSTR : TOK_STR;
    lx->tok.len = prefix + n + 1;
    return true;
}

/* The operators of two characters, and the punct code of each. */
static const struct {
    char text[3], code;
} two_char_ops[] = {{"==", OP_EQ},     {"!=", OP_NE},     {"<=", OP_LE},     {">=", OP_GE},
                    {"**", OP_POW},    {"//", OP_FLOORDIV}, {"+=", OP_ADD_TO}, {"-=", OP_SUB_FROM},
                    {"*=", OP_MUL_BY}, {"/=", OP_DIV_BY}};

bool lexer_next(lexer *lx, repl_error *err) {
    const char *line = lx->line;
    while (line[lx->pos] == ' ' || line[lx->pos] == '\t' || line[lx->pos] == '\r')
        lx->pos++;
    char c = line[lx->pos];
    token *t = &lx->tok;
    memset(t, 0, sizeof *t);
    t->col = (int)lx->pos + 1;
    t->text = line + lx->pos;
    if (c == 0 || c == '#' || c == '\n') {
        t->kind = TOK_EOF;
        return true;
    }
    bool ok = true;
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)line[lx->pos + 1]))) {
        ok = lex_number(lx, err);
    } else if (c == '"' || c == '\'') {
        ok = lex_string(lx, 0, err);
    } else if ((c == 'f' || c == 'F') && (line[lx->pos + 1] == '"' || line[lx->pos + 1] == '\'')) {
        ok = lex_string(lx, 1, err);
    } else if (isalpha((unsigned char)c) || c == '_') {
        size_t n = 0;
        while (isalnum((unsigned char)t->text[n]) || t->text[n] == '_')
            n++;
        t->kind = TOK_NAME;
        t->len = n;
    } else if (c == '.' && line[lx->pos + 1] == '.' && line[lx->pos + 2] == '.') {
        t->kind = TOK_PUNCT;
        t->punct = OP_ELLIPSIS;
        t->len = 3;
    } else if (c && strchr("+-*/%@()[]{},=:.<>!", c)) {
        t->kind = TOK_PUNCT;
        t->punct = c;
        t->len = 1;
        for (size_t i = 0; i < sizeof two_char_ops / sizeof two_char_ops[0]; i++)
            if (c == two_char_ops[i].text[0] && line[lx->pos + 1] == two_char_ops[i].text[1]) {
                t->punct = two_char_ops[i].code;
                t->len = 2;
            }
        if (t->punct == '!')
            return lex_fail(err, lx->pos, "unexpected character '!' (not is written not)");
    } else if (isprint((unsigned char)c)) {
        char msg[64];
        snprintf(msg, sizeof msg, "unexpected character '%c'", c);
        return lex_fail(err, lx->pos, msg);
    } else {
        char msg[64];
        snprintf(msg, sizeof msg, "unexpected byte 0x%02x", (unsigned char)c);
        return lex_fail(err, lx->pos, msg);
    }
    if (ok)
        lx->pos += t->len;
    return ok;
}
