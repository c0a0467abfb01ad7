/* bench_repl_xor.c - the loop of repl/examples/xor.gt written in C against the library, to
 * measure what the REPL's interpreter adds per training step (bench/repl_xor.gt is the same
 * loop for gradtape under :time on).
 *
 *     bench_repl_xor [STEPS]    prints the time per step in microseconds
 */
#define _POSIX_C_SOURCE 200809L
#include "gradtape.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static gt_tensor *param(gt_tensor *t) {
    if (!t || gt_tensor_set_requires_grad(t, true) != GT_OK) {
        fprintf(stderr, "bench_repl_xor: %s\n", gt_last_error());
        exit(1);
    }
    return t;
}

int main(int argc, char **argv) {
    long steps = argc > 1 ? atol(argv[1]) : 20000;
    gt_rng rng;
    gt_rng_seed(&rng, 0);
    const gt_real xs[] = {0, 0, 0, 1, 1, 0, 1, 1}, ys[] = {0, 1, 1, 0};
    gt_tensor *x = gt_from_array(2, (int64_t[]){4, 2}, xs);
    gt_tensor *y = gt_from_array(2, (int64_t[]){4, 1}, ys);
    gt_tensor *p[4] = {param(gt_randn(2, (int64_t[]){8, 2}, 0, 1, &rng)),
                       param(gt_zeros(1, (int64_t[]){8})),
                       param(gt_randn(2, (int64_t[]){1, 8}, 0, 1, &rng)),
                       param(gt_zeros(1, (int64_t[]){1}))};
    gt_optimizer *opt = gt_sgd_new(p, 4, &(gt_sgd_config){.lr = 0.5, .momentum = 0.9});
    gt_tape *tape = gt_tape_new();
    if (!x || !y || !opt || !tape)
        return 1;
    double loss_sum = 0, start = now_us();
    for (long i = 0; i < steps; i++) {
        gt_optimizer_zero_grad(opt);
        gt_tensor *h = gt_tanh(tape, gt_linear(tape, x, p[0], p[1]));
        gt_tensor *loss = gt_mse_loss(tape, gt_sigmoid(tape, gt_linear(tape, h, p[2], p[3])), y);
        if (!loss || gt_backward(tape, loss) != GT_OK || gt_optimizer_step(opt) != GT_OK) {
            fprintf(stderr, "bench_repl_xor: %s\n", gt_last_error());
            return 1;
        }
        loss_sum += gt_tensor_cdata(loss)[0];
        gt_tape_reset(tape);
    }
    double us = (now_us() - start) / (double)(steps ? steps : 1);
    printf("C loop: %ld steps, %.2f us a step (mean loss %.4g)\n", steps, us,
           loss_sum / (double)(steps ? steps : 1));
    gt_tape_free(tape);
    gt_optimizer_free(opt);
    for (int i = 0; i < 4; i++)
        gt_tensor_free(p[i]);
    gt_tensor_free(x);
    gt_tensor_free(y);
    return 0;
}
