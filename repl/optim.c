/* optim.c - sgd() and step(): placeholder until models/gt_nn.h has its optimizer. */
#include "repl.h"

struct repl_opt {
    int unused;
};

void optim_free(repl_opt *opt) { gt_free(opt); }

void optim_describe(const repl_opt *opt, FILE *out) {
    (void)opt;
    fprintf(out, "sgd");
}

bool b_sgd(repl *r, const call_args *a, value *out) {
    (void)a;
    (void)out;
    return repl_fail(r, 0, "sgd: not available yet");
}

bool b_step(repl *r, const call_args *a, value *out) {
    (void)a;
    (void)out;
    return repl_fail(r, 0, "step: not available yet");
}
