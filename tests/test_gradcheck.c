/* test_gradcheck.c - every op in the op table against central differences.
 *
 * Each case applies one op to random inputs and checks f = sum(op(inputs) * R), where R
 * is a random upstream gradient, so every output element carries a different weight.
 * Inputs that sit on a kink (relu at 0, ties in a max-pool window) are avoided by drawing
 * distinct values whose gaps exceed 2*eps. Double build: eps 1e-6, atol 1e-5, rtol 1e-3
 * (PyTorch's defaults). Float build: eps 1e-3, atol 1e-2, rtol 1e-2. A case fails when an
 * analytic gradient is all zero. */
#include "gt_test.h"

#include "gt_ops_impl.h" /* gt__op_batch_norm_relu */

typedef struct gc_ctx {
    const gt_test_op_case *c;
    gt_tensor *upstream; /* random weights R of the output's shape */
} gc_ctx;

/* f = sum(op(inputs) * R) */
static gt_tensor *weighted_output(gt_tape *tape, gt_tensor *const *inputs, void *ctx_ptr) {
    gc_ctx *ctx = ctx_ptr;
    gt_tensor *y = gt_test_op_case_run(tape, ctx->c, inputs);
    return gt_sum(tape, gt_mul(tape, y, ctx->upstream), GT_ALL_AXES);
}

/* An op without a gradient (comparisons, argmax): recorded on a tape, from inputs that
 * require a gradient, its output does not require one and records no node. */
static bool no_gradient_case(gt_test_op_case *c, const char *text) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_test_op_case_run(tape, c, c->in);
    bool ok = y && !gt_tensor_requires_grad(y) && gt_tape_get_stats(tape).nodes == 0;
    printf("  %-14s %-44s no gradient: output requires none   %s\n", c->op->name, text,
           ok ? "PASS" : "FAIL");
    if (!y)
        printf("    %s\n", gt_last_error());
    gt_tape_free(tape);
    gt_test_op_case_free(c);
    return ok;
}

static bool run_case(const gt_op_def *op, const char *text, uint64_t seed) {
    gt_test_op_case c;
    if (!gt_test_op_case_make(op, text, seed, &c)) {
        gt_test_op_case_free(&c);
        return false;
    }
    gc_ctx ctx = {&c, NULL};
    gt_rng rng;
    gt_rng_seed(&rng, seed ^ 0x5eed);
    /* The output's shape, from one unrecorded run. */
    gt_tape *tape = gt_tape_new();
    gt_tape_set_grad_enabled(tape, false);
    gt_tensor *y = gt_test_op_case_run(tape, &c, c.in);
    bool ok = y != NULL;
    if (y)
        ctx.upstream = gt_randn(gt_tensor_ndim(y), gt_tensor_shape(y), 0, 1, &rng);
    gt_tape_free(tape);
    if (!op->backward) { /* no gradient: the output must not require one, whatever the inputs */
        gt_tensor_free(ctx.upstream);
        return no_gradient_case(&c, text);
    }
    /* absent optional inputs (NULL) stay out of the check; the rest keep their places */
    gt_gradcheck_result result = {0};
    /* a case with an empty output or empty inputs (PyTorch allows many) has no gradient to
     * difference: it passes when its forward and backward run (the oracle checks its
     * output) */
    bool inputs_empty = true;
    for (int k = 0; k < c.n_in; k++)
        inputs_empty = inputs_empty && (!c.in[k] || gt_tensor_numel(c.in[k]) == 0);
    bool empty = inputs_empty || (ctx.upstream && gt_tensor_numel(ctx.upstream) == 0);
    if (ok)
        ok = gt_gradcheck(weighted_output, &ctx, c.in, c.n_in, NULL, &result) == GT_OK &&
             (result.passed || empty);
    printf("  %-14s %-44s %5lld partials  max abs %.2e  max rel %.2e  %s\n", op->name, text,
           (long long)result.checked, result.max_abs_err, result.max_rel_err,
           ok ? "PASS" : "FAIL");
    if (!ok)
        printf("    %s %s\n", result.message, gt_last_error());
    gt_tensor_free(ctx.upstream);
    gt_test_op_case_free(&c);
    return ok;
}

GT_TEST(every_case_of_the_table_passes) {
    gt_gradcheck_opts opts = gt_gradcheck_default_opts();
    printf("  gradcheck (%s): eps %g, atol %g, rtol %g\n", GT_REAL_NAME, opts.eps, opts.atol,
           opts.rtol);
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    for (int i = 0; i < count; i++)
        for (const char *const *c = ops[i]->cases; c && *c; c++)
            if (!strstr(*c, "=>"))
                CHECK(run_case(ops[i], *c, gt_test_case_seed(ops[i], *c)));
}

/* The convolutions' stride-1 paths, chosen by cost models (ops/conv.c: taps read in place
 * or patches, for the forward, the weight gradient and the input gradient), each forced
 * on every case of the table: every argument's edge (padding wider than the kernel's
 * reach, "same" with an even kernel, groups, dilation, conv_transpose2d, conv2d_weight) on
 * both. */
GT_TEST(every_conv_case_passes_with_its_taps_forced_either_way) {
    const gt_op_def *ops[] = {&gt_op_conv1d, &gt_op_conv2d, &gt_op_conv_transpose2d,
                              &gt_op_conv2d_weight};
    for (int mode = 0; mode < 2; mode++) {
        int before = gt__conv_set_taps(mode);
        printf("  taps %s\n", mode ? "always" : "never");
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            for (const char *const *c = ops[i]->cases; c && *c; c++)
                if (!strstr(*c, "=>"))
                    CHECK(run_case(ops[i], *c, gt_test_case_seed(ops[i], *c)));
        gt__conv_set_taps(before);
    }
}

/* The internal op that a Sequential runs for a BatchNorm then a ReLU (ops/norm.c), which is
 * not in the table: the same, on its cases. */
GT_TEST(batch_norm_relu_passes_on_every_case) {
    const gt_op_def *op = &gt__op_batch_norm_relu;
    for (const char *const *c = op->cases; *c; c++)
        CHECK(run_case(op, *c, gt_test_case_seed(op, *c)));
}

GT_TEST(every_op_has_a_case_and_every_attribute_is_set_in_one) {
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    for (int i = 0; i < count; i++) {
        const gt_op_def *op = ops[i];
        bool valid = false;
        for (const char *const *c = op->cases; c && *c; c++)
            valid = valid || !strstr(*c, "=>");
        if (!valid)
            printf("  no gradcheck case for %s\n", op->name);
        CHECK(valid);
        for (int a = 0; a < op->n_attrs; a++) {
            char needle[48];
            snprintf(needle, sizeof needle, "%s=", op->attrs[a].name);
            bool set = false;
            for (const char *const *c = op->cases; c && *c; c++)
                set = set || (!strstr(*c, "=>") && strstr(*c, needle));
            if (!set)
                printf("  no gradcheck case of %s sets %s\n", op->name, op->attrs[a].name);
            CHECK(set);
        }
    }
}

/* The checker itself must fail on a wrong gradient: a deliberately broken function whose
 * value is sum(x^2) but whose recorded graph is sum(x) (through a no-grad trick). */
static gt_tensor *wrong_gradient(gt_tape *tape, gt_tensor *const *inputs, void *ctx) {
    (void)ctx;
    gt_tensor *x = inputs[0];
    bool was = gt_tape_set_grad_enabled(tape, false);
    gt_tensor *square_minus_x = gt_sub(tape, gt_mul(tape, x, x), x); /* not recorded */
    gt_tape_set_grad_enabled(tape, was);
    return gt_sum(tape, gt_add(tape, x, square_minus_x), GT_ALL_AXES);
}

/* wrong_gradient after a chain of many different ops: the verdict and the list of ops do
 * not fit in result.message, which is then cut and ends with "...". */
static gt_tensor *wrong_gradient_after_many_ops(gt_tape *tape, gt_tensor *const *inputs,
                                                void *ctx) {
    gt_tensor *y = gt_tanh(tape, gt_hardsigmoid(tape, gt_sigmoid(tape, inputs[0])));
    y = gt_log(tape, gt_exp(tape, y));
    y = gt_erf(tape, gt_silu(tape, gt_selu(tape, y)));
    y = gt_rsqrt(tape, gt_sqrt(tape, gt_abs(tape, gt_neg(tape, y))));
    y = gt_elu(tape, gt_leaky_relu(tape, gt_scale(tape, y, 0.5), 0.1), 1.0);
    y = gt_div(tape, gt_mul(tape, y, y), gt_softmax(tape, y, 0));
    y = gt_sub(tape, gt_log_softmax(tape, y, 0), gt_mean(tape, y, 0));
    return wrong_gradient(tape, &y, ctx);
}

GT_TEST(gradcheck_catches_a_wrong_gradient) {
    gt_rng rng;
    gt_rng_seed(&rng, 7);
    gt_tensor *x = gt_randn(GT_SHAPE(4), 0, 1, &rng);
    gt_tensor_set_requires_grad(x, true);
    gt_gradcheck_result result;
    CHECK(gt_gradcheck(wrong_gradient, NULL, &x, 1, NULL, &result) == GT_OK);
    CHECK(!result.passed);
    CHECK(strstr(result.message, "FAIL") != NULL);
    /* a verdict too long for result.message is cut visibly */
    CHECK(gt_gradcheck(wrong_gradient_after_many_ops, NULL, &x, 1, NULL, &result) == GT_OK);
    CHECK(!result.passed);
    size_t len = strlen(result.message);
    CHECK(len == sizeof result.message - 1);
    CHECK(len > 3 && strcmp(result.message + len - 3, "...") == 0);
    CHECK(strstr(result.message, "ops of f: sigmoid, hardsigmoid, tanh, exp, log") != NULL);
    gt_tensor_free(x);
}

static gt_tensor *relu_of_negatives(gt_tape *tape, gt_tensor *const *inputs, void *ctx) {
    (void)ctx;
    return gt_sum(tape, gt_relu(tape, inputs[0]), GT_ALL_AXES);
}

GT_TEST(gradcheck_fails_a_vacuous_all_zero_gradient) {
    gt_tensor *x = gt_full(GT_SHAPE(3), -1);
    gt_tensor_set_requires_grad(x, true);
    gt_gradcheck_result result;
    CHECK(gt_gradcheck(relu_of_negatives, NULL, &x, 1, NULL, &result) == GT_OK);
    CHECK(!result.passed);
    CHECK(strstr(result.message, "all zero") != NULL);
    gt_tensor_free(x);
}

GT_TEST_MAIN()
