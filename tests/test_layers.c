/* test_layers.c - what the table's cases cannot see of the layer ops (ops/norm.c, ...):
 * batch_norm's running statistics, updated in place; norms of empty inputs; dropout's masks;
 * losses of empty inputs; class losses whose every target is ignored. */
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

/* dropout at a fixed seed: the mask is drawn again the same on every evaluation */
static gt_tensor *dropout_at_seed_7(gt_tape *tape, gt_tensor *const *inputs, void *ctx) {
    gt_tensor *upstream = ctx;
    gt_manual_seed(7);
    gt_tensor *y = gt_dropout(tape, inputs[0], 0.3, true);
    return gt_sum(tape, gt_mul(tape, y, upstream), GT_ALL_AXES);
}

GT_TEST(dropout_masks_follow_the_seed_and_the_gradient_is_mask_over_keep) {
    enum { N = 4000 };
    gt_tensor *x = gt_ones(GT_SHAPE(N));
    gt_tensor_set_requires_grad(x, true);
    gt_tape *tape = gt_tape_new();
    gt_manual_seed(42);
    gt_tensor *y = gt_dropout(tape, x, 0.25, true);
    CHECK(y && gt_backward(tape, gt_sum(tape, y, GT_ALL_AXES)) == GT_OK);
    int kept = 0;
    bool scaled = true, grad_is_mask = true;
    for (int i = 0; y && i < N; i++) {
        gt_real v = gt_tensor_data(y)[i];
        kept += v != 0;
        scaled = scaled && (v == 0 || NEAR(v, 1 / 0.75));
        grad_is_mask = grad_is_mask && gt_tensor_grad(x)[i] == v; /* x = 1: y is mask/(1-p) */
    }
    CHECK(scaled && grad_is_mask);
    CHECK(kept > 0.70 * N && kept < 0.80 * N);
    /* the same seed, the same mask; another seed, another */
    gt_manual_seed(42);
    gt_tensor *again = gt_dropout(tape, x, 0.25, true);
    gt_manual_seed(43);
    gt_tensor *other = gt_dropout(tape, x, 0.25, true);
    int same = 0, differ = 0;
    for (int i = 0; again && other && i < N; i++) {
        same += gt_tensor_data(again)[i] == gt_tensor_data(y)[i];
        differ += gt_tensor_data(other)[i] != gt_tensor_data(y)[i];
    }
    CHECK(same == N && differ > 0);
    /* p = 1: zeros, and no gradient; not training: the input */
    gt_tensor *zeros = gt_dropout(tape, x, 1, true), *kept_all = gt_dropout(tape, x, 0.9, false);
    bool as_expected = zeros && kept_all;
    for (int i = 0; as_expected && i < N; i++)
        as_expected = gt_tensor_data(zeros)[i] == 0 && gt_tensor_data(kept_all)[i] == 1;
    CHECK(as_expected);
    gt_tape_free(tape);
    gt_tensor_free(x);
}

GT_TEST(dropout_in_training_passes_a_gradient_check_at_a_fixed_seed) {
    gt_rng rng;
    gt_rng_seed(&rng, 3);
    gt_tensor *x = gt_randn(GT_SHAPE(3, 5), 0, 1, &rng);
    gt_tensor *upstream = gt_randn(GT_SHAPE(3, 5), 0, 1, &rng);
    gt_tensor_set_requires_grad(x, true);
    gt_gradcheck_result result = {0};
    CHECK(gt_gradcheck(dropout_at_seed_7, upstream, &x, 1, NULL, &result) == GT_OK &&
          result.passed);
    gt_tensor_free(x);
    gt_tensor_free(upstream);
}

GT_TEST(losses_of_empty_inputs_sum_to_zero) {
    gt_tensor *x = gt_zeros(GT_SHAPE(0)), *y = gt_zeros(GT_SHAPE(0));
    gt_tape *tape = gt_tape_new();
    gt_tensor *sum = gt_l1_loss(tape, x, y, GT_REDUCTION_SUM);
    gt_tensor *each = gt_huber_loss(tape, x, y, GT_REDUCTION_NONE, 1);
    CHECK(sum && gt_tensor_ndim(sum) == 0 && gt_tensor_data(sum)[0] == 0);
    CHECK(each && gt_tensor_numel(each) == 0);
    CHECK(!gt_l1_loss(tape, x, y, GT_REDUCTION_MEAN));
    CHECK_ERROR_HAS("l1_loss: inputs are empty: [0]");
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_tensor_free(y);
}

/* op(input, target) with attributes text, its value and input's gradient after backward. */
static double class_loss(const gt_op_def *op, gt_tensor *x, gt_tensor *t, const char *text,
                         bool *grad_zero) {
    char args[GT_OP_ARGS_MAX];
    gt_op_args_default(op, args);
    CHECK(gt_op_args_parse(op, text, args) == GT_OK);
    gt_tape *tape = gt_tape_new();
    gt_tensor_zero_grad(x);
    gt_tensor *y = gt_op_call(tape, op, (gt_tensor *[]){x, t}, 2, args);
    double value = y ? (double)gt_tensor_data(y)[0] : -1;
    CHECK(y && gt_backward(tape, y) == GT_OK);
    *grad_zero = true;
    for (int64_t i = 0; i < gt_tensor_numel(x); i++)
        *grad_zero = *grad_zero && gt_tensor_grad(x)[i] == 0;
    gt_tape_free(tape);
    return value;
}

GT_TEST(class_losses_of_only_ignored_targets_are_nan_for_the_mean_and_zero_for_the_sum) {
    gt_rng rng;
    gt_rng_seed(&rng, 3);
    gt_tensor *x = gt_randn(GT_SHAPE(3, 4), 0, 1, &rng);
    gt_tensor *t = gt_from_array(GT_SHAPE(3), (const gt_real[]){2, 2, 2});
    gt_tensor_set_requires_grad(x, true);
    bool zero;
    /* torch 1.13: nan for the mean (0 / 0), 0 for the sum, and a gradient of zeros */
    CHECK(isnan(class_loss(&gt_op_cross_entropy, x, t, "ignore_index=2", &zero)) && zero);
    CHECK(isnan(class_loss(&gt_op_nll_loss, x, t, "ignore_index=2", &zero)) && zero);
    CHECK(isnan(class_loss(&gt_op_cross_entropy, x, t, "ignore_index=2, label_smoothing=0.3",
                           &zero)) && zero);
    CHECK(class_loss(&gt_op_cross_entropy, x, t, "ignore_index=2, reduction=\"sum\"", &zero) ==
          0 && zero);
    CHECK(class_loss(&gt_op_nll_loss, x, t, "ignore_index=2, reduction=\"sum\"", &zero) == 0 &&
          zero);
    /* one target kept: the mean is that target's loss, not a third of it */
    gt_tensor_data(t)[1] = 0;
    double kept = class_loss(&gt_op_nll_loss, x, t, "ignore_index=2", &zero);
    CHECK(NEAR(kept, -gt_tensor_data(x)[4]) && !zero);
    gt_tensor_free(x);
    gt_tensor_free(t);
}

GT_TEST_MAIN()
