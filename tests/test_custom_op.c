/* test_custom_op.c - ops defined in user code: forward, backward, saved state, gradcheck,
 * no-record mode, anomaly mode, errors. */
#include "gt_test.h"

static gt_tensor *param(int ndim, const int64_t *shape, gt_real first, gt_real step) {
    gt_tensor *t = gt_empty(ndim, shape);
    for (int64_t i = 0; i < gt_tensor_numel(t); i++)
        gt_tensor_data(t)[i] = first + step * (gt_real)i;
    gt_tensor_set_requires_grad(t, true);
    return t;
}

/* ---- cube(x) = x^3, saving x and a byte of state, with scratch for the backward ---------- */

static int cube_backward_calls;

static gt_tensor *cube_forward(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)n_in;
    gt_tensor *x = in[0];
    gt_tensor *y = gt_custom_new_output(ctx, gt_tensor_ndim(x), gt_tensor_shape(x));
    if (!y)
        return NULL;
    for (int64_t i = 0; i < gt_tensor_numel(x); i++) {
        gt_real v = gt_tensor_item(x, i);
        gt_tensor_data(y)[i] = v * v * v;
    }
    if (gt_custom_needs_input_grad(ctx, 0)) {
        if (gt_custom_save_tensors(ctx, &x, 1) != GT_OK)
            return NULL;
        char *mark = gt_custom_save_bytes(ctx, 1);
        if (!mark)
            return NULL;
        *mark = 3; /* the exponent */
        gt_custom_reserve_scratch(ctx, (size_t)gt_tensor_numel(x) * sizeof(gt_real));
    }
    return y;
}

// grad_out[n], x[n] -> grad_x[n] += grad_out * 3 x^2 (through scratch: it must be there)
static gt_status cube_backward(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                               gt_tensor *const *grad_in) {
    cube_backward_calls++;
    gt_tensor *x = gt_custom_saved_tensor(ctx, 0);
    size_t bytes;
    const char *mark = gt_custom_saved_bytes(ctx, &bytes);
    gt_real *scratch = gt_custom_scratch(ctx);
    if (!x || !mark || bytes != 1 || !scratch || gt_custom_saved_count(ctx) != 1)
        return gt_set_error(GT_ERR_STATE, "cube: saved state missing");
    int64_t n = gt_tensor_numel(x);
    for (int64_t i = 0; i < n; i++)
        scratch[i] = (gt_real)*mark * gt_tensor_item(x, i) * gt_tensor_item(x, i);
    for (int64_t i = 0; grad_in[0] && i < n; i++)
        gt_tensor_data(grad_in[0])[i] += gt_tensor_item(grad_out, i) * scratch[i];
    return GT_OK;
}

static const gt_custom_op cube = {.name = "cube",
                                  .forward = cube_forward,
                                  .backward = cube_backward,
                                  .once_differentiable = true};

GT_TEST(a_custom_op_computes_its_output_and_gradient) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = param(GT_SHAPE(4), -1.5, 1);
    gt_tensor *y = gt_custom_apply(tape, &cube, &x, 1);
    CHECK(y && gt_tensor_requires_grad(y) && gt_tape_get_stats(tape).nodes == 1);
    CHECK_CLOSE(gt_tensor_item(y, 0), -3.375, GT_TEST_TOL);
    CHECK(gt_backward(tape, gt_sum(tape, y, GT_ALL_AXES)) == GT_OK);
    for (int64_t i = 0; i < 4; i++) {
        double v = -1.5 + (double)i;
        CHECK_CLOSE(gt_tensor_grad(x)[i], 3 * v * v, GT_TEST_TOL);
    }
    gt_tensor_free(x);
    gt_tape_free(tape);
}

static gt_tensor *cube_then_mean(gt_tape *tape, gt_tensor *const *inputs, void *ctx) {
    (void)ctx;
    gt_tensor *x = inputs[0];
    return gt_mean(tape, gt_mul(tape, gt_custom_apply(tape, &cube, &x, 1), inputs[1]), GT_ALL_AXES);
}

GT_TEST(a_custom_op_passes_gradcheck) {
    gt_tensor *inputs[2] = {param(GT_SHAPE(2, 3), -1.2, 0.45), param(GT_SHAPE(2, 3), 0.3, 0.2)};
    gt_gradcheck_result result;
    CHECK(gt_gradcheck(cube_then_mean, NULL, inputs, 2, NULL, &result) == GT_OK);
    CHECK(result.passed && result.checked == 12);
    if (!result.passed)
        fprintf(stderr, "  %s\n", result.message);
    gt_tensor_free(inputs[0]);
    gt_tensor_free(inputs[1]);
}

/* cube's forward and backward, its backward not declared once_differentiable */
static const gt_custom_op plain_cube = {.name = "plain_cube",
                                        .forward = cube_forward,
                                        .backward = cube_backward};

GT_TEST(grad_runs_a_custom_backward_and_refuses_create_graph_naming_the_op) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = param(GT_SHAPE(3), -1, 1.25), *w = param(GT_SHAPE(3), 0.5, 1);
    /* sum(cube(x) * w): d/dx = 3 x^2 w, d/dw = x^3 (scratch taken by gt_grad) */
    gt_tensor *y = gt_sum(tape, gt_mul(tape, gt_custom_apply(tape, &cube, &x, 1), w), GT_ALL_AXES);
    gt_tensor *g[2] = {0};
    CHECK(gt_grad(tape, &y, 1, (gt_tensor *[]){x, w}, 2, NULL, false, g) == GT_OK);
    for (int64_t i = 0; g[0] && g[1] && i < 3; i++) {
        double v = -1 + 1.25 * (double)i, wv = 0.5 + (double)i;
        CHECK_CLOSE(gt_tensor_item(g[0], i), 3 * v * v * wv, GT_TEST_TOL);
        CHECK_CLOSE(gt_tensor_item(g[1], i), v * v * v, GT_TEST_TOL);
        CHECK(gt_tensor_grad(x)[i] == 0); /* .grad untouched */
    }
    gt_tensor *again[2] = {0};
    CHECK(gt_grad(tape, &y, 1, (gt_tensor *[]){x, w}, 2, NULL, true, again) == GT_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("grad: cube is once_differentiable: its backward has no gradient");
    CHECK(again[0] == NULL && again[1] == NULL);
    gt_tensor *z = gt_sum(tape, gt_custom_apply(tape, &plain_cube, &x, 1), GT_ALL_AXES);
    CHECK(gt_grad(tape, &z, 1, &x, 1, NULL, true, again) == GT_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("grad: plain_cube is a custom op: its backward, written in C, has no gradient");
    gt_tensor_free(x);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

/* cube's forward with a backward of 2 x^2 instead of 3 x^2 */
static gt_status wrong_cube_backward(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                                     gt_tensor *const *grad_in) {
    gt_tensor *x = gt_custom_input(ctx, 0);
    for (int64_t i = 0; grad_in[0] && i < gt_tensor_numel(x); i++)
        gt_tensor_data(grad_in[0])[i] +=
            gt_tensor_item(grad_out, i) * 2 * gt_tensor_item(x, i) * gt_tensor_item(x, i);
    return GT_OK;
}

static const gt_custom_op wrong_cube = {
    .name = "wrong_cube", .forward = cube_forward, .backward = wrong_cube_backward};

static gt_tensor *wrong_cube_sum(gt_tape *tape, gt_tensor *const *inputs, void *ctx) {
    (void)ctx;
    gt_tensor *x = inputs[0];
    return gt_sum(tape, gt_custom_apply(tape, &wrong_cube, &x, 1), GT_ALL_AXES);
}

GT_TEST(gradcheck_catches_a_wrong_backward_and_names_the_op) {
    gt_tensor *x = param(GT_SHAPE(3), 0.5, 0.5);
    gt_gradcheck_result result;
    CHECK(gt_gradcheck(wrong_cube_sum, NULL, &x, 1, NULL, &result) == GT_OK);
    CHECK(!result.passed);
    CHECK(strstr(result.message, "FAIL") && strstr(result.message, "wrong_cube (custom)"));
    gt_tensor_free(x);
}

GT_TEST(a_custom_op_records_nothing_without_grad_and_saves_nothing) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = param(GT_SHAPE(3), 1, 1);
    bool was = gt_tape_set_grad_enabled(tape, false);
    gt_tensor *y = gt_custom_apply(tape, &cube, &x, 1);
    CHECK(y && !gt_tensor_requires_grad(y) && gt_tape_get_stats(tape).nodes == 0);
    CHECK_CLOSE(gt_tensor_item(y, 2), 27, GT_TEST_TOL);
    gt_tape_set_grad_enabled(tape, was);
    /* a constant input: no node either */
    gt_tensor *c = gt_ones(GT_SHAPE(3));
    CHECK(gt_custom_apply(tape, &cube, &c, 1) && gt_tape_get_stats(tape).nodes == 0);
    gt_tensor_free(c);
    gt_tensor_free(x);
    gt_tape_free(tape);
}

/* A custom op built from the library's ops, on two inputs: a * b + a (recording off inside). */
static gt_tensor *muladd_forward(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)n_in;
    gt_tape *tape = gt_custom_tape(ctx);
    return gt_add(tape, gt_mul(tape, in[0], in[1]), in[0]);
}

static gt_status muladd_backward(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                                 gt_tensor *const *grad_in) {
    gt_tensor *a = gt_custom_input(ctx, 0), *b = gt_custom_input(ctx, 1);
    for (int64_t i = 0; i < gt_tensor_numel(a); i++) {
        if (grad_in[0])
            gt_tensor_data(grad_in[0])[i] +=
                gt_tensor_item(grad_out, i) * (gt_tensor_item(b, i) + 1);
        if (grad_in[1])
            gt_tensor_data(grad_in[1])[i] += gt_tensor_item(grad_out, i) * gt_tensor_item(a, i);
    }
    return GT_OK;
}

static const gt_custom_op muladd = {
    .name = "muladd", .forward = muladd_forward, .backward = muladd_backward};

GT_TEST(a_custom_op_may_build_its_output_from_ops_and_skip_inputs_without_grad) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *in[2] = {param(GT_SHAPE(2), 2, 1), gt_full(GT_SHAPE(2), 5)};
    gt_tensor *y = gt_custom_apply(tape, &muladd, in, 2);
    CHECK(y && gt_tape_get_stats(tape).nodes == 1); /* the inner ops recorded nothing */
    CHECK_CLOSE(gt_tensor_item(y, 1), 3 * 5 + 3, GT_TEST_TOL);
    CHECK(gt_backward(tape, gt_sum(tape, y, GT_ALL_AXES)) == GT_OK);
    CHECK_CLOSE(gt_tensor_grad(in[0])[0], 6, GT_TEST_TOL);
    CHECK(gt_tensor_grad(in[1]) == NULL);
    gt_tensor_free(in[0]);
    gt_tensor_free(in[1]);
    gt_tape_free(tape);
}

static gt_tensor *returns_input(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)ctx;
    (void)n_in;
    return in[0];
}

static gt_tensor *fails_quietly(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)ctx;
    (void)in;
    (void)n_in;
    return NULL;
}

static gt_tensor *fails_saying_why(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)ctx;
    (void)in;
    (void)n_in;
    gt_set_error(GT_ERR_ARG, "x must be positive");
    return NULL;
}

static gt_status backward_fails(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                                gt_tensor *const *grad_in) {
    (void)ctx;
    (void)grad_out;
    (void)grad_in;
    return gt_set_error(GT_ERR_NUMERIC, "the series did not converge");
}

GT_TEST(custom_op_mistakes_are_errors_naming_the_op) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = param(GT_SHAPE(2), 1, 1);
    gt_custom_op op = {.name = "mine", .forward = returns_input, .backward = cube_backward};
    CHECK(!gt_custom_apply(tape, &op, &x, 1));
    CHECK_ERROR_HAS("mine: the forward must return a new tensor");
    op.forward = fails_quietly;
    CHECK(!gt_custom_apply(tape, &op, &x, 1));
    CHECK_ERROR_HAS("mine: forward failed without setting an error");
    op.forward = fails_saying_why;
    CHECK(!gt_custom_apply(tape, &op, &x, 1));
    CHECK_ERROR_HAS("mine: forward failed: x must be positive");
    op.backward = NULL;
    CHECK(!gt_custom_apply(tape, &op, &x, 1));
    CHECK_ERROR_HAS("mine: a custom op needs a forward and a backward");
    CHECK(!gt_custom_apply(tape, &cube, &x, 0));
    CHECK_ERROR_HAS("cube: takes 1 to 4 tensor inputs, got 0");
    CHECK(!gt_custom_apply(NULL, &cube, &x, 1));
    CHECK_ERROR_HAS("cube: tape is NULL");
    gt_tensor *y = gt_custom_apply(tape, &cube, &x, 1);
    gt_tape_reset(tape);
    CHECK(!gt_custom_apply(tape, &cube, &y, 1));
    CHECK_ERROR_HAS("cube: an input was released by gt_tape_reset");
    /* the backward's failure, named */
    op = (gt_custom_op){.name = "mine", .forward = cube_forward, .backward = backward_fails};
    CHECK(gt_backward(tape, gt_sum(tape, gt_custom_apply(tape, &op, &x, 1), GT_ALL_AXES)) ==
          GT_ERR_NUMERIC);
    CHECK_ERROR_HAS("mine: backward failed: the series did not converge");
    /* save calls belong to the forward */
    CHECK(gt_custom_save_tensors(NULL, &x, 1) == GT_ERR_ARG);
    gt_tensor_free(x);
    gt_tape_free(tape);
}

static gt_tensor *log_forward(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)n_in;
    gt_tensor *y = gt_custom_new_output(ctx, gt_tensor_ndim(in[0]), gt_tensor_shape(in[0]));
    for (int64_t i = 0; y && i < gt_tensor_numel(y); i++)
        gt_tensor_data(y)[i] = log(gt_tensor_item(in[0], i));
    return y;
}

static gt_status reciprocal_backward(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                                     gt_tensor *const *grad_in) {
    gt_tensor *x = gt_custom_input(ctx, 0);
    for (int64_t i = 0; grad_in[0] && i < gt_tensor_numel(x); i++)
        gt_tensor_data(grad_in[0])[i] += gt_tensor_item(grad_out, i) / gt_tensor_item(x, i);
    return GT_OK;
}

static const gt_custom_op my_log = {
    .name = "my_log", .forward = log_forward, .backward = reciprocal_backward};

GT_TEST(anomaly_mode_names_a_custom_op_in_forward_and_backward) {
    gt_tape *tape = gt_tape_new();
    gt_tape_set_detect_anomaly(tape, true);
    gt_tensor *x = param(GT_SHAPE(2), -1, 1); /* log(-1) is NaN */
    CHECK(!gt_custom_apply(tape, &my_log, &x, 1));
    CHECK(gt_last_status() == GT_ERR_NUMERIC);
    CHECK_ERROR_HAS("anomaly: my_log produced a non-finite output");
    gt_tensor *z = param(GT_SHAPE(2), 0, 1); /* log(0) = -inf: forward fine without anomaly */
    gt_tape_set_detect_anomaly(tape, false);
    gt_tensor *y = gt_custom_apply(tape, &my_log, &z, 1);
    gt_tape_set_detect_anomaly(tape, true);
    CHECK(y);
    gt_real before = gt_tensor_grad(z)[1];
    /* 1/0 in the backward */
    CHECK(gt_backward(tape, gt_sum(tape, gt_mul(tape, z, z), GT_ALL_AXES)) == GT_OK);
    gt_tensor_zero_grad(z);
    gt_tensor *ones = gt_ones(GT_SHAPE(2));
    CHECK(gt_backward_with(tape, y, ones) == GT_ERR_NUMERIC);
    gt_tensor_free(ones);
    CHECK_ERROR_HAS("anomaly: my_log produced a non-finite gradient");
    CHECK(gt_tensor_grad(z)[1] == before);
    gt_tensor_free(x);
    gt_tensor_free(z);
    gt_tape_free(tape);
}

GT_TEST_MAIN()
