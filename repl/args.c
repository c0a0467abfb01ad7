/* args.c - named arguments of the REPL's own builtins, matched as Python matches them:
 * positional ones in order, then keywords by name. */
#include "builtins.h"

#include <string.h>

bool match_args(repl *r, const call_args *a, const char *usage, const char *const *names,
                int n_names, int first, int *idx) {
    for (int k = 0; k < n_names; k++)
        idx[k] = -1;
    int positional = first, given = 0;
    for (int i = 0; i < a->n; i++) {
        int k = 0;
        if (a->kw[i]) {
            while (k < n_names && strcmp(names[k], a->kw[i]))
                k++;
            if (k == n_names)
                return repl_fail(r, a->call->kwcols[i], "%s: no argument named %s; usage: %s",
                                 a->call->text, a->kw[i], usage);
        } else {
            if (i > given++)
                return repl_fail(r, a->cols[i], "%s: positional argument after a keyword "
                                 "argument", a->call->text);
            k = positional++;
            if (k >= n_names)
                return repl_fail(r, a->cols[i], "%s: too many arguments; usage: %s",
                                 a->call->text, usage);
        }
        if (idx[k] >= 0)
            return repl_fail(r, a->cols[i], "%s: argument %s given twice; usage: %s",
                             a->call->text, names[k], usage);
        idx[k] = i;
    }
    return true;
}

bool arg_string(repl *r, const call_args *a, int i, const char **s) {
    if (a->vals[i].kind != V_STR)
        return repl_fail(r, a->cols[i], "%s: expected a string, got %s", a->call->text,
                         value_kind_phrase(a->vals[i]));
    *s = a->vals[i].box->str;
    return true;
}

bool arg_truth(repl *r, const call_args *a, int i, bool *b) {
    return value_truth(r, a->vals[i], a->cols[i], b);
}
