/* test_layers.c - what the table's cases cannot see of the layer ops (ops/norm.c, ...):
 * batch_norm's running statistics, updated in place; norms of empty inputs. */
#include "gt_test.h"

#include <math.h>

#define NEAR(a, b) (fabs((double)(a) - (double)(b)) < 1e-5)

GT_TEST(batch_norm_training_moves_the_running_statistics_in_place) {
    /* channel 0: 1 2 3 6 (mean 3, biased var 3.5, unbiased 14/3); channel 1: 0 0 4 4 */
    gt_tensor *x = gt_from_array(GT_SHAPE(4, 2), (const gt_real[]){1, 0, 2, 0, 3, 4, 6, 4});
    gt_tensor *rm = gt_from_array(GT_SHAPE(2), (const gt_real[]){1, -1});
    gt_tensor *rv = gt_from_array(GT_SHAPE(2), (const gt_real[]){2, 1});
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_batch_norm(tape, x, rm, rv, NULL, NULL, true, 0.25, 0);
    CHECK(y != NULL);
    const gt_real *m = gt_tensor_data(rm), *v = gt_tensor_data(rv);
    CHECK(NEAR(m[0], 0.75 * 1 + 0.25 * 3) && NEAR(m[1], 0.75 * -1 + 0.25 * 2));
    CHECK(NEAR(v[0], 0.75 * 2 + 0.25 * 14.0 / 3) && NEAR(v[1], 0.75 * 1 + 0.25 * 16.0 / 3));
    /* normalised by the batch's biased variance */
    CHECK(y && NEAR(gt_tensor_data(y)[0], (1 - 3) / sqrt(3.5)));
    /* not training: the running statistics normalise and stay as they are */
    gt_real m0 = m[0], v0 = v[0];
    y = gt_batch_norm(tape, x, rm, rv, NULL, NULL, false, 0.25, 0);
    CHECK(y && NEAR(gt_tensor_data(y)[0], (1 - m0) / sqrt(v0)) && m[0] == m0 && v[0] == v0);
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_tensor_free(rm);
    gt_tensor_free(rv);
}

GT_TEST(layer_norm_and_group_norm_of_empty_inputs_are_empty) {
    gt_tensor *x = gt_zeros(GT_SHAPE(0, 3));
    gt_tensor *w = gt_ones(GT_SHAPE(3));
    gt_tensor_set_requires_grad(x, true);
    gt_tensor_set_requires_grad(w, true);
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_layer_norm(tape, x, GT_INTS(3), w, NULL, 1e-5);
    CHECK(y && gt_tensor_numel(y) == 0 && gt_tensor_shape(y)[1] == 3);
    CHECK(y && gt_backward(tape, gt_sum(tape, y, GT_ALL_AXES)) == GT_OK);
    CHECK(gt_tensor_grad(w)[0] == 0);
    y = gt_group_norm(tape, x, 3, w, NULL, 1e-5);
    CHECK(y && gt_tensor_numel(y) == 0);
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_tensor_free(w);
}

GT_TEST_MAIN()
