/* Fits y = 2x - 1 with one linear layer, the tape and plain gradient steps (README). */
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
    gt_tensor_set_requires_grad(w, true);
    gt_tensor_set_requires_grad(b, true);
    gt_tape *tape = gt_tape_new();
    for (int step = 0; step < 300; step++) {
        gt_tensor *loss = gt_mse_loss(tape, gt_linear(tape, x, w, b), y);  /* records */
        if (!loss || gt_backward(tape, loss) != GT_OK) {
            fprintf(stderr, "%s\n", gt_last_error());  /* e.g. "linear: ... [64, 1] vs ..." */
            return 1;
        }
        for (int p = 0; p < 2; p++) {  /* SGD, lr 0.5; then clear the gradient */
            gt_tensor_data(params[p])[0] -= 0.5f * gt_tensor_grad(params[p])[0];
            gt_tensor_zero_grad(params[p]);
        }
        gt_tape_reset(tape);  /* every intermediate of the step goes at once */
    }
    printf("w = %.4f, b = %.4f\n", gt_tensor_data(w)[0], gt_tensor_data(b)[0]);
    int ok = fabs(gt_tensor_data(w)[0] - 2) < 1e-3 && fabs(gt_tensor_data(b)[0] + 1) < 1e-3;
    gt_tape_free(tape);
    gt_tensor_free(x), gt_tensor_free(y), gt_tensor_free(w), gt_tensor_free(b);
    return ok ? 0 : 1;
}
