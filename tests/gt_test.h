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

#define GT_TEST_MAIN()                                                                     \
    int main(int argc, char **argv) { return gt_test_run(argc, argv); }
int gt_test_run(int argc, char **argv);

#endif
