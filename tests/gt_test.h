/* gt_test.h - a minimal test harness: each test file defines tests with GT_TEST and ends
 * with GT_TEST_MAIN(). Every check that fails prints file:line and what it compared; the
 * runner prints "N passed, N failed" and exits non-zero on any failure. */
#ifndef GT_TEST_H
#define GT_TEST_H

#include "gradtape.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*gt_test_fn)(void);
typedef struct gt_test_case {
    const char *name;
    gt_test_fn fn;
} gt_test_case;

extern int gt_test_failures;
void gt_test_register(const char *name, gt_test_fn fn);

#define GT_TEST(name)                                                                      \
    static void name(void);                                                                \
    __attribute__((constructor)) static void register_##name(void) {                       \
        gt_test_register(#name, name);                                                     \
    }                                                                                      \
    static void name(void)

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__,      \
                    __LINE__, #cond, gt_last_error());                                     \
            gt_test_failures++;                                                            \
        }                                                                                  \
    } while (0)

#define CHECK_CLOSE(a, b, tol)                                                             \
    do {                                                                                   \
        double gt_a_ = (double)(a), gt_b_ = (double)(b);                                   \
        if (!(fabs(gt_a_ - gt_b_) <= (tol))) {                                             \
            fprintf(stderr, "  %s:%d: %s = %.9g, expected %s = %.9g (tol %g)\n", __FILE__, \
                    __LINE__, #a, gt_a_, #b, gt_b_, (double)(tol));                        \
            gt_test_failures++;                                                            \
        }                                                                                  \
    } while (0)

/* The message of the last error contains `needle`. */
#define CHECK_ERROR_HAS(needle)                                                            \
    do {                                                                                   \
        if (!strstr(gt_last_error(), (needle))) {                                          \
            fprintf(stderr, "  %s:%d: last error \"%s\" does not contain \"%s\"\n",        \
                    __FILE__, __LINE__, gt_last_error(), (needle));                        \
            gt_test_failures++;                                                            \
        }                                                                                  \
    } while (0)

#ifdef GT_REAL_DOUBLE
#define GT_TEST_TOL 1e-9
#else
#define GT_TEST_TOL 1e-4
#endif

/* x[shape] uniform in [0,1) like scaled pixels, y[shape[0]] random class indices below
 * `classes`, from a generator seeded with `seed`. */
void gt_test_random_batch(int ndim, const int64_t *shape, int classes, uint64_t seed,
                          gt_tensor **x, gt_tensor **y);

/* Inputs a case may give: more than an op's defs for a variadic op (cat, stack). */
#define GT_TEST_MAX_INPUTS 8

/* One case of an op's table entry (gt_op_def.cases), made ready to run: inputs drawn from
 * each input's domain with a generator seeded by `seed` (those that take a gradient
 * require one), the attributes parsed into args. error holds the fragment an error case
 * ("... => message") expects, "" for a valid case. */

typedef struct gt_test_op_case {
    const gt_op_def *op;
    char text[256];
    char attrs[256];  /* the attribute text after ';', "" when none */
    char error[256];
    int n_in;
    gt_tensor *in[GT_TEST_MAX_INPUTS]; /* heap tensors; NULL for an absent optional ("_") */
    _Alignas(16) unsigned char args[GT_OP_ARGS_MAX];
    bool args_failed; /* the attribute text was refused (an error case may expect it) */
} gt_test_op_case;

/* A seed that belongs to one case (its op and text, FNV-1a), so that its random inputs stay
 * the same when other cases or ops are added to the table. */
uint64_t gt_test_case_seed(const gt_op_def *op, const char *text);
/* False (with a message on stderr) when the case string itself is malformed. */
bool gt_test_op_case_make(const gt_op_def *op, const char *text, uint64_t seed,
                          gt_test_op_case *c);
void gt_test_op_case_free(gt_test_op_case *c);
/* The op on `inputs` (the case's own, or copies) with the case's args. */
gt_tensor *gt_test_op_case_run(gt_tape *tape, const gt_test_op_case *c,
                               gt_tensor *const *inputs);

#define GT_TEST_MAIN()                                                                     \
    int main(int argc, char **argv) { return gt_test_run(argc, argv); }
int gt_test_run(int argc, char **argv);

#endif
