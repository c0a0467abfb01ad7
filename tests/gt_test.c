/* gt_test.c - the runner behind gt_test.h: runs every registered test (or those whose
 * name contains argv[1]) and prints "N passed, N failed". */
#include "gt_test.h"

int gt_test_failures;
static gt_test_case cases[512];
static int n_cases;

void gt_test_register(const char *name, gt_test_fn fn) {
    if (n_cases == (int)(sizeof cases / sizeof cases[0])) {
        fprintf(stderr, "gt_test: more than %d tests in one file; raise the limit\n", n_cases);
        exit(2);
    }
    cases[n_cases++] = (gt_test_case){name, fn};
}

int gt_test_run(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (int i = 0; i < n_cases; i++) {
        if (filter && !strstr(cases[i].name, filter))
            continue;
        int before = gt_test_failures;
        gt_clear_error();
        cases[i].fn();
        if (gt_test_failures == before) {
            passed++;
            printf("ok   %s\n", cases[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

void gt_test_random_batch(int ndim, const int64_t *shape, int classes, uint64_t seed,
                          gt_tensor **x, gt_tensor **y) {
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    *x = gt_rand(ndim, shape, 0, 1, &rng);
    *y = gt_zeros(GT_SHAPE(shape[0]));
    for (int64_t i = 0; i < shape[0]; i++)
        gt_tensor_data(*y)[i] = (gt_real)gt_rng_below(&rng, (uint64_t)classes);
}
