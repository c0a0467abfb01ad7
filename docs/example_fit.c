/* Fits y = 2x - 1 with one linear layer, the tape and SGD (README, "A first program"). */
#include <gradtape.h>
#include <math.h>
#include <stdio.h>

int main(void) {
    gt_rng rng;
    gt_rng_seed(&rng, 1);
    gt_tensor *x = gt_rand(GT_SHAPE(64, 1), -1, 1, &rng), *y = gt_zeros(GT_SHAPE(64, 1));
    for (int i = 0; i < 64; i++)
        gt_tensor_data(y)[i] = 2 * gt_tensor_data(x)[i] - 1;
    gt_tensor *w = gt_zeros(GT_SHAPE(1, 1)), *b = gt_zeros(GT_SHAPE(1)), *params[] = {w, b};
    gt_tensor_set_requires_grad(w, true), gt_tensor_set_requires_grad(b, true);
    gt_optimizer *sgd = gt_sgd_new(params, 2, &(gt_sgd_config){.lr = 0.5});
    gt_tape *tape = gt_tape_new();
    for (int step = 0; step < 300; step++) {
        gt_tensor *loss = gt_mse_loss(tape, gt_linear(tape, x, w, b), y); /* recorded */
        if (!loss || gt_backward(tape, loss) != GT_OK || gt_optimizer_step(sgd) != GT_OK)
            return fprintf(stderr, "%s\n", gt_last_error()), 1; /* names the op and shapes */
        gt_optimizer_zero_grad(sgd);
        gt_tape_reset(tape); /* every intermediate of the step goes at once */
    }
    double w0 = gt_tensor_data(w)[0], b0 = gt_tensor_data(b)[0];
    printf("w = %.4f, b = %.4f\n", w0, b0);
    gt_optimizer_free(sgd), gt_tape_free(tape);
    gt_tensor_free(x), gt_tensor_free(y), gt_tensor_free(w), gt_tensor_free(b);
    return fabs(w0 - 2) < 1e-3 && fabs(b0 + 1) < 1e-3 ? 0 : 1;
}
