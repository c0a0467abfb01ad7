/* A custom op in user code: softplus(x) = log(1 + exp(x)), computed stably, gradchecked,
 * then trained with (README, "Custom ops"). Build against an installed gradtape:
 *     cc example_custom_op.c $(pkg-config --cflags --libs gradtape) -o example_custom_op */
#include <gradtape.h>
#include <math.h>
#include <stdio.h>

/* softplus(x) = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|. */
static gt_tensor *softplus_forward(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)n_in;
    gt_tensor *x = in[0];
    gt_tensor *y = gt_custom_new_output(ctx, gt_tensor_ndim(x), gt_tensor_shape(x));
    if (!y)
        return NULL;
    for (int64_t i = 0; i < gt_tensor_numel(x); i++) {
        double v = gt_tensor_item(x, i);
        gt_tensor_data(y)[i] = (gt_real)(fmax(v, 0) + log1p(exp(-fabs(v))));
    }
    return y; /* x is an input: the backward reads it with gt_custom_input, nothing to save */
}

/* d softplus / dx = sigmoid(x), in the form that cannot overflow. */
static gt_status softplus_backward(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                                   gt_tensor *const *grad_in) {
    gt_tensor *x = gt_custom_input(ctx, 0);
    for (int64_t i = 0; grad_in[0] && i < gt_tensor_numel(x); i++) {
        double v = gt_tensor_item(x, i), e = exp(-fabs(v));
        double sigmoid = v >= 0 ? 1 / (1 + e) : e / (1 + e);
        gt_tensor_data(grad_in[0])[i] += (gt_real)(gt_tensor_item(grad_out, i) * sigmoid);
    }
    return GT_OK;
}

static const gt_custom_op softplus_op = {
    .name = "softplus", /* in errors, anomaly reports, the graph and the profiler */
    .forward = softplus_forward,
    .backward = softplus_backward,
    .once_differentiable = true,
};

static gt_tensor *softplus(gt_tape *tape, gt_tensor *x) {
    return gt_custom_apply(tape, &softplus_op, &x, 1);
}

/* What gradcheck differentiates: sum(softplus(x) * weights). */
static gt_tensor *weighted_softplus(gt_tape *tape, gt_tensor *const *inputs, void *ctx) {
    (void)ctx;
    return gt_sum(tape, gt_mul(tape, softplus(tape, inputs[0]), inputs[1]), GT_ALL_AXES);
}

#define FAIL(what) return fprintf(stderr, "%s: %s\n", what, gt_last_error()), 1

int main(void) {
    gt_rng rng;
    gt_rng_seed(&rng, 3);
    /* 1. gradcheck: against central differences, at points from -6 to 6 */
    gt_tensor *x = gt_rand(GT_SHAPE(4, 5), -6, 6, &rng),
              *weights = gt_rand(GT_SHAPE(4, 5), -1, 1, &rng);
    gt_tensor_set_requires_grad(x, true);
    gt_gradcheck_result check;
    if (gt_gradcheck(weighted_softplus, NULL, (gt_tensor *[]){x, weights}, 2, NULL, &check) !=
        GT_OK)
        FAIL("gradcheck");
    printf("gradcheck softplus: %s\n", check.message);
    /* 2. stable where the textbook formula overflows */
    gt_tape *tape = gt_tape_new();
    gt_tensor *far = gt_from_array(GT_SHAPE(2), (const gt_real[]){-1000, 1000});
    gt_tensor *far_y = softplus(tape, far);
    if (!far_y)
        FAIL("softplus");
    printf("softplus(-1000) = %g, softplus(1000) = %g\n", gt_tensor_item(far_y, 0),
           gt_tensor_item(far_y, 1));
    bool stable = gt_tensor_item(far_y, 0) == 0 && gt_tensor_item(far_y, 1) == 1000;
    /* 3. train with it: a 1-16-1 network fitting y = x^2 on [-1, 1] */
    gt_tensor *in = gt_rand(GT_SHAPE(64, 1), -1, 1, &rng), *target = gt_empty(GT_SHAPE(64, 1));
    for (int i = 0; i < 64; i++)
        gt_tensor_data(target)[i] = gt_tensor_item(in, i) * gt_tensor_item(in, i);
    gt_tensor *params[] = {gt_randn(GT_SHAPE(16, 1), 0, 1, &rng), gt_zeros(GT_SHAPE(16)),
                           gt_randn(GT_SHAPE(1, 16), 0, 0.25, &rng), gt_zeros(GT_SHAPE(1))};
    for (int i = 0; i < 4; i++)
        gt_tensor_set_requires_grad(params[i], true);
    gt_optimizer *adam = gt_adam_new(
        params, 4, &(gt_adam_config){.lr = 0.03, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
    double loss_value = INFINITY;
    for (int step = 0; step < 600; step++) {
        gt_tape_reset(tape);
        gt_tensor *hidden = softplus(tape, gt_linear(tape, in, params[0], params[1]));
        gt_tensor *loss = gt_mse_loss(tape, gt_linear(tape, hidden, params[2], params[3]), target);
        if (!loss || gt_backward(tape, loss) != GT_OK || gt_optimizer_step(adam) != GT_OK)
            FAIL("training");
        gt_optimizer_zero_grad(adam);
        loss_value = gt_tensor_item(loss, 0);
    }
    printf("mse after 600 Adam steps: %.5f\n", loss_value);
    gt_optimizer_free(adam);
    gt_tape_free(tape);
    for (int i = 0; i < 4; i++)
        gt_tensor_free(params[i]);
    gt_tensor_free(x), gt_tensor_free(weights), gt_tensor_free(far);
    gt_tensor_free(in), gt_tensor_free(target);
    return check.passed && stable && loss_value < 2e-3 ? 0 : 1;
}
