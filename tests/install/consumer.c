/* consumer.c - a program outside the tree, built against an installed gradtape:
 * y = sum(w * w) on a tape; after backward the gradient of w must be exactly 2 * w. */
#include <gradtape.h>

int main(void) {
    gt_tensor *w = gt_from_array(GT_SHAPE(3), (const gt_real[]){1.5, -2.0, 0.25});
    gt_tape *tape = gt_tape_new();
    bool ok = w && tape && gt_tensor_set_requires_grad(w, true) == GT_OK;
    gt_tensor *y = ok ? gt_sum(tape, gt_mul(tape, w, w), GT_ALL_AXES) : NULL;
    ok = y && gt_backward(tape, y) == GT_OK;
    if (!ok)
        fprintf(stderr, "consumer: %s\n", gt_last_error());
    for (int64_t i = 0; ok && i < gt_tensor_numel(w); i++) {
        gt_real grad = gt_tensor_grad(w)[i], want = 2 * gt_tensor_item(w, i);
        printf("dy/dw[%d] = %g (want %g)\n", (int)i, (double)grad, (double)want);
        ok = grad == want;
    }
    printf("consumer (%s): %s\n", GT_REAL_NAME, ok ? "ok" : "FAILED");
    gt_tape_free(tape);
    gt_tensor_free(w);
    return ok ? 0 : 1;
}
