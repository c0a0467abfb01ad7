/* test_gradcheck.c - every op in the op table against central differences.
 *
 * Each case applies one op to random inputs and checks f = sum(op(inputs) * R), where R
 * is a random upstream gradient, so every output element carries a different weight.
 * Inputs that sit on a kink (relu at 0, ties in a max-pool window) are avoided by drawing
 * distinct values whose gaps exceed 2*eps. Double build: eps 1e-6, atol 1e-5, rtol 1e-3
 * (PyTorch's defaults). Float build: eps 1e-3, atol 1e-2, rtol 1e-2. A case fails when an
 * analytic gradient is all zero. */
#include "gt_test.h"

enum input_kind {
    NORMAL,   /* N(0, 1) */
    POSITIVE, /* uniform in [0.5, 2]: log and denominators */
    SPREAD,   /* distinct values, gaps of 0.05, none near 0: relu, max-pool */
    CLASSES,  /* class indices for cross-entropy, no gradient */
    PROBS     /* rows of probabilities, no gradient */
};

typedef struct gc_case {
    const char *name;
    gt_op op;
    const char *shapes[4]; /* "2x3", "3", "" for a 0-d tensor; NULL ends the list */
    enum input_kind kinds[4];
    int n_args;
    double args[4];
} gc_case;

static const gc_case cases[] = {
    {"matmul 2-D odd", GT_OP_MATMUL, {"3x5", "5x4"}, {NORMAL, NORMAL}, 0, {0}},
    {"matmul 1x1", GT_OP_MATMUL, {"1x1", "1x7"}, {NORMAL, NORMAL}, 0, {0}},
    {"matmul batched 3-D", GT_OP_MATMUL, {"2x3x4", "2x4x5"}, {NORMAL, NORMAL}, 0, {0}},
    {"matmul 3-D @ shared 2-D", GT_OP_MATMUL, {"2x3x4", "4x2"}, {NORMAL, NORMAL}, 0, {0}},
    {"linear with bias", GT_OP_LINEAR, {"4x5", "3x5", "3"}, {NORMAL, NORMAL, NORMAL}, 0, {0}},
    {"linear no bias", GT_OP_LINEAR, {"1x7", "2x7"}, {NORMAL, NORMAL}, 0, {0}},
    {"add same shape", GT_OP_ADD, {"3x4", "3x4"}, {NORMAL, NORMAL}, 0, {0}},
    {"add row broadcast", GT_OP_ADD, {"4x3", "3"}, {NORMAL, NORMAL}, 0, {0}},
    {"add both directions", GT_OP_ADD, {"4x1", "1x3"}, {NORMAL, NORMAL}, 0, {0}},
    {"add scalar 0-d", GT_OP_ADD, {"2x3", ""}, {NORMAL, NORMAL}, 0, {0}},
    {"add 4-D with 3-D", GT_OP_ADD, {"2x1x3x1", "4x1x5"}, {NORMAL, NORMAL}, 0, {0}},
    {"sub broadcast left", GT_OP_SUB, {"3", "5x3"}, {NORMAL, NORMAL}, 0, {0}},
    {"mul both directions", GT_OP_MUL, {"3x1x2", "1x4x2"}, {NORMAL, NORMAL}, 0, {0}},
    {"mul same shape", GT_OP_MUL, {"5", "5"}, {NORMAL, NORMAL}, 0, {0}},
    {"div broadcast", GT_OP_DIV, {"3x4", "4"}, {NORMAL, POSITIVE}, 0, {0}},
    {"div both directions", GT_OP_DIV, {"2x1", "1x3"}, {NORMAL, POSITIVE}, 0, {0}},
    {"neg", GT_OP_NEG, {"2x3"}, {NORMAL}, 0, {0}},
    {"scale", GT_OP_SCALE, {"7"}, {NORMAL}, 1, {-2.5}},
    {"relu", GT_OP_RELU, {"3x5"}, {SPREAD}, 0, {0}},
    {"sigmoid", GT_OP_SIGMOID, {"2x3x2"}, {NORMAL}, 0, {0}},
    {"tanh", GT_OP_TANH, {"9"}, {NORMAL}, 0, {0}},
    {"exp", GT_OP_EXP, {"2x2"}, {NORMAL}, 0, {0}},
    {"log", GT_OP_LOG, {"3x3"}, {POSITIVE}, 0, {0}},
    {"softmax rows", GT_OP_SOFTMAX, {"3x5"}, {NORMAL}, 0, {0}},
    {"softmax 1-D", GT_OP_SOFTMAX, {"4"}, {NORMAL}, 0, {0}},
    {"log_softmax rows", GT_OP_LOG_SOFTMAX, {"4x3"}, {NORMAL}, 0, {0}},
    {"log_softmax 3-D", GT_OP_LOG_SOFTMAX, {"2x2x3"}, {NORMAL}, 0, {0}},
    {"sum all", GT_OP_SUM, {"3x4"}, {NORMAL}, 0, {0}},
    {"sum axis 0", GT_OP_SUM, {"3x4x2"}, {NORMAL}, 1, {0}},
    {"sum axis -1", GT_OP_SUM, {"3x5"}, {NORMAL}, 1, {-1}},
    {"mean all", GT_OP_MEAN, {"5x3"}, {NORMAL}, 0, {0}},
    {"mean axis 1", GT_OP_MEAN, {"2x3x4"}, {NORMAL}, 1, {1}},
    {"reshape", GT_OP_RESHAPE, {"2x6"}, {NORMAL}, 3, {3, -1, 2}},
    {"flatten from 1", GT_OP_FLATTEN, {"2x3x2x2"}, {NORMAL}, 1, {1}},
    {"flatten all", GT_OP_FLATTEN, {"3x2"}, {NORMAL}, 1, {0}},
    {"transpose", GT_OP_TRANSPOSE, {"3x5"}, {NORMAL}, 0, {0}},
    {"conv2d basic", GT_OP_CONV2D, {"1x1x5x5", "2x1x3x3", "2"}, {NORMAL, NORMAL, NORMAL}, 2,
     {1, 0}},
    {"conv2d stride 2 pad 1 non-square C=3 N=2", GT_OP_CONV2D, {"2x3x7x6", "4x3x3x3", "4"},
     {NORMAL, NORMAL, NORMAL}, 2, {2, 1}},
    {"conv2d no bias non-square kernel", GT_OP_CONV2D, {"2x2x5x4", "3x2x2x3"},
     {NORMAL, NORMAL}, 2, {1, 1}},
    {"conv2d pad 2 like LeNet C1", GT_OP_CONV2D, {"1x1x6x6", "2x1x5x5", "2"},
     {NORMAL, NORMAL, NORMAL}, 2, {1, 2}},
    {"conv2d 20 images: two groups of im2col", GT_OP_CONV2D, {"20x2x3x3", "2x2x2x2", "2"},
     {NORMAL, NORMAL, NORMAL}, 2, {1, 0}},
    {"conv2d kernel covering the input like C5", GT_OP_CONV2D, {"3x4x5x5", "6x4x5x5", "6"},
     {NORMAL, NORMAL, NORMAL}, 2, {1, 0}},
    {"maxpool2d 2x2 stride 2", GT_OP_MAXPOOL2D, {"2x2x4x6"}, {SPREAD}, 2, {2, 2}},
    {"maxpool2d overlapping 3 stride 1", GT_OP_MAXPOOL2D, {"1x2x5x4"}, {SPREAD}, 2, {3, 1}},
    {"maxpool2d overlapping 3 stride 2 odd", GT_OP_MAXPOOL2D, {"2x1x7x7"}, {SPREAD}, 2, {3, 2}},
    {"avgpool2d 2x2", GT_OP_AVGPOOL2D, {"2x3x4x4"}, {NORMAL}, 2, {2, 2}},
    {"avgpool2d overlapping 3 stride 1", GT_OP_AVGPOOL2D, {"1x2x5x6"}, {NORMAL}, 2, {3, 1}},
    {"cross_entropy class indices", GT_OP_CROSS_ENTROPY, {"4x5", "4"}, {NORMAL, CLASSES}, 0,
     {0}},
    {"cross_entropy probabilities", GT_OP_CROSS_ENTROPY, {"3x4", "3x4"}, {NORMAL, PROBS}, 0,
     {0}},
    {"cross_entropy batch 1", GT_OP_CROSS_ENTROPY, {"1x3", "1"}, {NORMAL, CLASSES}, 0, {0}},
    {"mse_loss", GT_OP_MSE_LOSS, {"3x4", "3x4"}, {NORMAL, NORMAL}, 0, {0}},
    {"mse_loss 1-D", GT_OP_MSE_LOSS, {"5", "5"}, {NORMAL, NORMAL}, 0, {0}},
};

#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static int parse_shape(const char *text, int64_t *shape) {
    int ndim = 0;
    while (*text) {
        shape[ndim++] = strtoll(text, (char **)&text, 10);
        if (*text == 'x')
            text++;
    }
    return ndim;
}

static gt_tensor *make_input(const char *shape_text, enum input_kind kind, int64_t classes,
                             gt_rng *rng) {
    int64_t shape[GT_MAX_DIMS];
    int ndim = parse_shape(shape_text, shape);
    gt_tensor *t = gt_zeros(ndim, shape);
    gt_real *x = gt_tensor_data(t);
    int64_t n = gt_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        switch (kind) {
        case NORMAL: x[i] = (gt_real)gt_rng_normal(rng); break;
        case POSITIVE: x[i] = (gt_real)(0.5 + 1.5 * gt_rng_uniform(rng)); break;
        case SPREAD: x[i] = (gt_real)(0.05 * (double)(i - n / 2) + 0.025); break;
        case CLASSES: x[i] = (gt_real)gt_rng_below(rng, (uint64_t)classes); break;
        case PROBS: x[i] = (gt_real)gt_rng_uniform(rng); break;
        }
    }
    if (kind == SPREAD) /* shuffle so that maxima land anywhere in a window */
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)gt_rng_below(rng, (uint64_t)i + 1);
            gt_real tmp = x[i];
            x[i] = x[j];
            x[j] = tmp;
        }
    if (kind == PROBS) { /* normalise each row of [N,K] */
        int64_t k = shape[ndim - 1];
        for (int64_t r = 0; r < n / k; r++) {
            gt_real total = 0;
            for (int64_t j = 0; j < k; j++)
                total += x[r * k + j];
            for (int64_t j = 0; j < k; j++)
                x[r * k + j] /= total;
        }
    }
    if (kind != CLASSES && kind != PROBS)
        gt_tensor_set_requires_grad(t, true);
    return t;
}

typedef struct gc_ctx {
    const gc_case *c;
    int n_in;
    gt_tensor *upstream; /* random weights R of the output's shape */
} gc_ctx;

static gt_tensor *apply_case(gt_tape *tape, gt_tensor *const *inputs, const gc_ctx *ctx) {
    gt_op_args args = {ctx->c->n_args, {0}};
    for (int i = 0; i < ctx->c->n_args; i++)
        args.v[i] = ctx->c->args[i];
    return gt_op_apply(tape, ctx->c->op, inputs, ctx->n_in, &args);
}

/* f = sum(op(inputs) * R) */
static gt_tensor *weighted_output(gt_tape *tape, gt_tensor *const *inputs, void *ctx_ptr) {
    gc_ctx *ctx = ctx_ptr;
    gt_tensor *y = apply_case(tape, inputs, ctx);
    return gt_sum(tape, gt_mul(tape, y, ctx->upstream), GT_ALL_AXES);
}

static bool run_case(const gc_case *c, uint64_t seed) {
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    gt_tensor *inputs[4] = {0};
    gc_ctx ctx = {c, 0, NULL};
    while (ctx.n_in < 4 && c->shapes[ctx.n_in])
        ctx.n_in++;
    int64_t classes = 1;
    if (c->op == GT_OP_CROSS_ENTROPY) {
        int64_t shape[GT_MAX_DIMS];
        parse_shape(c->shapes[0], shape);
        classes = shape[1];
    }
    for (int i = 0; i < ctx.n_in; i++)
        inputs[i] = make_input(c->shapes[i], c->kinds[i], classes, &rng);
    /* The output's shape, from one unrecorded run. */
    gt_tape *tape = gt_tape_new();
    gt_tape_set_grad_enabled(tape, false);
    gt_tensor *y = apply_case(tape, inputs, &ctx);
    bool ok = y != NULL;
    if (y)
        ctx.upstream = gt_randn(gt_tensor_ndim(y), gt_tensor_shape(y), 0, 1, &rng);
    gt_tape_free(tape);
    gt_gradcheck_result result = {0};
    if (ok)
        ok = gt_gradcheck(weighted_output, &ctx, inputs, ctx.n_in, NULL, &result) == GT_OK &&
             result.passed;
    printf("  %-42s %-14s %5lld partials  max abs %.2e  max rel %.2e  %s\n", c->name,
           gt_op_get(c->op)->name, (long long)result.checked, result.max_abs_err,
           result.max_rel_err, ok ? "PASS" : "FAIL");
    if (!ok)
        printf("    %s %s\n", result.message, gt_last_error());
    gt_tensor_free(ctx.upstream);
    for (int i = 0; i < ctx.n_in; i++)
        gt_tensor_free(inputs[i]);
    return ok;
}

GT_TEST(every_case_of_the_table_passes) {
    gt_gradcheck_opts opts = gt_gradcheck_default_opts();
    printf("  gradcheck (%s): eps %g, atol %g, rtol %g\n", GT_REAL_NAME, opts.eps, opts.atol,
           opts.rtol);
    for (int i = 0; i < N_CASES; i++)
        CHECK(run_case(&cases[i], 1000 + (uint64_t)i));
}

GT_TEST(every_op_in_the_op_table_has_a_case) {
    for (int op = 0; op < GT_OP_COUNT; op++) {
        bool found = false;
        for (int i = 0; i < N_CASES; i++)
            found = found || cases[i].op == (gt_op)op;
        if (!found)
            printf("  no gradcheck case for %s\n", gt_op_get((gt_op)op)->name);
        CHECK(found);
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

GT_TEST(gradcheck_catches_a_wrong_gradient) {
    gt_rng rng;
    gt_rng_seed(&rng, 7);
    gt_tensor *x = gt_randn(GT_SHAPE(4), 0, 1, &rng);
    gt_tensor_set_requires_grad(x, true);
    gt_gradcheck_result result;
    CHECK(gt_gradcheck(wrong_gradient, NULL, &x, 1, NULL, &result) == GT_OK);
    CHECK(!result.passed);
    CHECK(strstr(result.message, "FAIL") != NULL);
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
