/* test_oracle.c - outputs and gradients of every case of the op table against PyTorch
 * (float64), read from tests/data/oracle.txt (written by tests/data/make_oracle.py from
 * `gradtape-ops --cases`): an oracle independent of gradtape's own finite differences. Every
 * valid case of the table must have its record, so the file cannot fall behind the table. */
#include "gt_test.h"

#ifdef GT_REAL_DOUBLE
#define ORACLE_TOL 1e-9
#else
#define ORACLE_TOL 2e-4
#endif

#define MAX_INPUTS GT_TEST_MAX_INPUTS

typedef struct oracle_case {
    char op[64], text[256];
    _Alignas(16) unsigned char args[GT_OP_ARGS_MAX];
    int n_in;
    gt_tensor *inputs[MAX_INPUTS];
    gt_tensor *upstream, *output;
    gt_tensor *grads[MAX_INPUTS];
} oracle_case;

/* Reads "NDIM DIM... VALUE..." into a new heap tensor. */
static gt_tensor *read_tensor(FILE *f) {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    if (fscanf(f, "%d", &ndim) != 1 || ndim < 0 || ndim > GT_MAX_DIMS)
        return NULL;
    for (int d = 0; d < ndim; d++)
        if (fscanf(f, "%lld", (long long *)&shape[d]) != 1)
            return NULL;
    gt_tensor *t = gt_zeros(ndim, shape);
    for (int64_t i = 0; t && i < gt_tensor_numel(t); i++) {
        double v;
        if (fscanf(f, "%lf", &v) != 1) {
            gt_tensor_free(t);
            return NULL;
        }
        gt_tensor_data(t)[i] = (gt_real)v;
    }
    return t;
}

static gt_tensor *read_values(FILE *f, const gt_tensor *like) {
    gt_tensor *t = gt_zeros(gt_tensor_ndim(like), gt_tensor_shape(like));
    for (int64_t i = 0; i < gt_tensor_numel(t); i++) {
        double v;
        if (fscanf(f, "%lf", &v) != 1) {
            gt_tensor_free(t);
            return NULL;
        }
        gt_tensor_data(t)[i] = (gt_real)v;
    }
    return t;
}

static void free_case(oracle_case *c) {
    for (int i = 0; i < c->n_in; i++) {
        gt_tensor_free(c->inputs[i]);
        gt_tensor_free(c->grads[i]);
    }
    gt_tensor_free(c->upstream);
    gt_tensor_free(c->output);
    memset(c, 0, sizeof *c);
}

/* Reads the next case; false at the end of the file or on a malformed record. */
static bool read_case(FILE *f, oracle_case *c) {
    char word[32];
    memset(c, 0, sizeof *c);
    if (fscanf(f, " case %63s text ", c->op) != 1 || !fgets(c->text, sizeof c->text, f))
        return false;
    c->text[strcspn(c->text, "\n")] = 0;
    const gt_op_def *op = gt_op_find(c->op);
    const char *semi = strchr(c->text, ';');
    if (!op || (op->n_attrs && gt_op_args_parse(op, semi ? semi + 1 : "", c->args) != GT_OK))
        return false;
    while (fscanf(f, "%31s", word) == 1) {
        if (strcmp(word, "input") == 0 && c->n_in < MAX_INPUTS) {
            int requires_grad, consumed = -1;
            if (fscanf(f, " none%n", &consumed) == 0 && consumed > 0) {
                c->inputs[c->n_in++] = NULL;
                continue;
            }
            if (fscanf(f, "%d", &requires_grad) != 1)
                return false;
            gt_tensor *t = read_tensor(f);
            if (!t)
                return false;
            if (requires_grad)
                gt_tensor_set_requires_grad(t, true);
            c->inputs[c->n_in++] = t;
        } else if (strcmp(word, "upstream") == 0) {
            if (!(c->upstream = read_tensor(f)))
                return false;
        } else if (strcmp(word, "output") == 0) {
            if (!(c->output = read_tensor(f)))
                return false;
        } else if (strcmp(word, "grad") == 0) {
            int index;
            if (fscanf(f, "%d", &index) != 1 || index < 0 || index >= c->n_in ||
                !c->inputs[index] || !(c->grads[index] = read_values(f, c->inputs[index])))
                return false;
        } else {
            return strcmp(word, "end") == 0;
        }
    }
    return false;
}

static double max_diff(const gt_real *a, const gt_real *b, int64_t n) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double diff = fabs((double)a[i] - (double)b[i]) / fmax(1.0, fabs((double)b[i]));
        worst = diff > worst || diff != diff ? diff : worst;
    }
    return worst;
}

/* Runs the case on gradtape and compares output and gradients. */
static bool check_case(oracle_case *c) {
    const gt_op_def *op = gt_op_find(c->op);
    if (!op)
        return false;
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_op_call(tape, op, c->inputs, c->n_in, op->n_attrs ? c->args : NULL);
    bool ok = y && gt_shape_equal(gt_tensor_ndim(y), gt_tensor_shape(y),
                                  gt_tensor_ndim(c->output), gt_tensor_shape(c->output));
    double out_err = ok ? max_diff(gt_tensor_data(y), gt_tensor_data(c->output),
                                   gt_tensor_numel(y))
                        : INFINITY;
    ok = ok && out_err <= ORACLE_TOL;
    if (op->backward) /* an op without one (comparisons) has no gradient to compare */
        ok = ok && gt_backward_with(tape, y, c->upstream) == GT_OK;
    double grad_err = 0;
    for (int i = 0; ok && i < c->n_in; i++)
        if (c->grads[i])
            grad_err = fmax(grad_err, max_diff(gt_tensor_grad(c->inputs[i]),
                                               gt_tensor_data(c->grads[i]),
                                               gt_tensor_numel(c->inputs[i])));
    ok = ok && grad_err <= ORACLE_TOL;
    printf("  %-14s %-44s output err %.2e  grad err %.2e  %s\n", c->op, c->text, out_err,
           grad_err, ok ? "ok" : "MISMATCH");
    if (!y)
        printf("    %s\n", gt_last_error());
    gt_tape_free(tape);
    return ok;
}

#define MAX_RECORDS 1024

GT_TEST(every_case_of_the_table_matches_pytorch_values_and_gradients) {
    FILE *f = fopen(GT_TEST_DATA_DIR "/oracle.txt", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char comment[256];
    CHECK(fgets(comment, sizeof comment, f) != NULL);
    static char seen[MAX_RECORDS][330];
    int n_seen = 0;
    oracle_case c;
    while (read_case(f, &c)) {
        CHECK(check_case(&c));
        if (n_seen < MAX_RECORDS)
            snprintf(seen[n_seen++], sizeof seen[0], "%s|%s", c.op, c.text);
        free_case(&c);
    }
    free_case(&c);
    CHECK(feof(f));
    fclose(f);
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    for (int i = 0; i < count; i++)
        for (const char *const *text = ops[i]->cases; text && *text; text++) {
            if (strstr(*text, "=>"))
                continue;
            char key[330];
            snprintf(key, sizeof key, "%s|%s", ops[i]->name, *text);
            bool found = false;
            for (int k = 0; k < n_seen && !found; k++)
                found = strcmp(seen[k], key) == 0;
            if (!found)
                printf("  no oracle record for %s \"%s\": run tests/data/make_oracle.py\n",
                       ops[i]->name, *text);
            CHECK(found);
        }
}

GT_TEST_MAIN()
