/* builtins.h - the builtin table (the library's op table and the REPL's own builtins), the
 * helpers builtins read their arguments with, and the builtins of each family. */
#ifndef GT_REPL_BUILTINS_H
#define GT_REPL_BUILTINS_H

#include "parser.h"
#include "session.h"
#include "value.h"

#include <stdio.h>

typedef struct call_args {
    const node *call;
    int n;                 /* positional and keyword arguments, in order written */
    value *vals;
    const char *const *kw; /* keyword of each argument or NULL */
    const int *cols;       /* column of each argument's value */
} call_args;

typedef bool (*builtin_fn)(repl *r, const call_args *a, value *out);

enum {
    B_IMPURE = 1 << 0, /* not allowed inside a gradcheck expression */
    B_LAZY_FIRST = 1 << 1 /* the first argument is passed unevaluated (gradcheck) */
};

struct builtin_info {
    const char *name;
    builtin_fn fn;
    const char *signature;
    const char *doc;
    unsigned flags;
};

bool builtins_init(repl *r);
void builtins_free(repl *r);
const builtin *builtin_find(repl *r, const char *name);
bool builtin_call(repl *r, const builtin *b, const call_args *a, value *out);
unsigned builtin_flags(const builtin *b);
const char *builtin_name(const builtin *b);
const char *builtin_signature(const builtin *b);
const char *builtin_doc(const builtin *b);
const builtin *builtin_first(repl *r);
const builtin *builtin_next(const builtin *b);
/* The REPL's own builtins (not in the op table): tensors (make.c), the language's
 * (lang.c). */
const struct builtin_info *repl_builtin_table(int *count);
const struct builtin_info *lang_builtin_table(int *count);
/* Models (models.c), data sets and batches (data.c), optimizers and schedules (optim.c). */
const struct builtin_info *models_builtin_table(int *count);
const struct builtin_info *data_builtin_table(int *count);
const struct builtin_info *optim_builtin_table(int *count);
/* The model an object value holds, or NULL when v is not a model. */
gt_model *value_model(value v);

/* Helpers for builtins. */
bool arg_number(repl *r, const call_args *a, int i, double *x);
bool arg_tensor(repl *r, const call_args *a, int i, gt_tensor **t);
bool arg_dims(repl *r, const call_args *a, int from, int *ndim, int64_t *shape);
bool arity(repl *r, const call_args *a, int lo, int hi);
/* Matches a call's arguments to names[n_names] (args.c), positional ones from names[first]
 * on: idx[k] is the index in a->vals of the argument for names[k], or -1 when not given;
 * fails naming the builtin and its usage on an unknown keyword, too many arguments or one
 * given twice. */
bool match_args(repl *r, const call_args *a, const char *usage, const char *const *names,
                int n_names, int first, int *idx);
bool arg_string(repl *r, const call_args *a, int i, const char **s);
bool arg_truth(repl *r, const call_args *a, int i, bool *b);
bool b_param(repl *r, const call_args *a, value *out);
bool b_backward(repl *r, const call_args *a, value *out);
bool b_grad(repl *r, const call_args *a, value *out);
bool gradgradcheck_builtin(repl *r, const call_args *a, value *out);
bool b_zero_grad(repl *r, const call_args *a, value *out);
bool gradcheck_builtin(repl *r, const call_args *a, value *out);
bool b_print(repl *r, const call_args *a, value *out);
/* zero_grad(opt) or zero_grad(m) (optim.c): false when the argument is neither. */
bool optim_zero_grad(repl *r, const call_args *a);
bool b_plot(repl *r, const call_args *a, value *out);
void optim_free(repl *r, repl_opt *opt);
gt_optimizer *repl_opt_optimizer(const repl_opt *opt);
void optim_describe(const repl_opt *opt, FILE *out);

#endif
