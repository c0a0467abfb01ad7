/* test_gradgradcheck.c - second derivatives: every op of the table that has a backward
 * written with ops passes gt_gradgradcheck on every case of its entry (f = sum(op(x)^2 * R),
 * so that the second derivative is never trivially zero) and its gradient by gt_grad equals
 * its backward's, an op without one is refused
 * with its name, and three uses: a Hessian-vector product of an MLP's loss against finite
 * differences of its gradient, a gradient penalty trained with, and Newton's method
 * converging quadratically. Double build: PyTorch's tolerances; float build: looser. */
#include "gt_test.h"

#include "gt_ops_impl.h" /* gt__op_batch_norm_relu */

typedef struct gg_ctx {
    const gt_test_op_case *c;
    gt_tensor *upstream;
} gg_ctx;

/* f = sum(op(inputs)^2 * R) */
static gt_tensor *squared_output(gt_tape *tape, gt_tensor *const *inputs, void *data) {
    gg_ctx *ctx = data;
    gt_tensor *y = gt_test_op_case_run(tape, ctx->c, inputs);
    return gt_sum(tape, gt_mul(tape, gt_mul(tape, y, y), ctx->upstream), GT_ALL_AXES);
}

/* gradgradcheck differentiates the gradient that grad_graph makes, so it cannot see a
 * grad_graph whose first derivative is wrong: this compares it, through gt_grad, with the
 * op's backward (gt_backward), which the gradcheck suite checks against differences. */
static bool grad_graph_matches_backward(gg_ctx *ctx, const gt_test_op_case *c) {
    gt_tensor *wrt[GT_TEST_MAX_INPUTS], *grads[GT_TEST_MAX_INPUTS] = {0};
    int m = 0;
    for (int k = 0; k < c->n_in; k++)
        if (c->in[k] && gt_tensor_requires_grad(c->in[k]))
            wrt[m++] = c->in[k];
    gt_tape *tape = gt_tape_new();
    gt_tensor *f = squared_output(tape, c->in, ctx);
    bool ok = f && (m == 0 || gt_grad(tape, &f, 1, wrt, m, NULL, false, grads) == GT_OK);
    for (int j = 0; j < m; j++)
        gt_tensor_zero_grad(wrt[j]);
    ok = ok && gt_backward(tape, f) == GT_OK;
    double worst = 0;
    for (int j = 0; ok && j < m; j++)
        for (int64_t i = 0; i < gt_tensor_numel(wrt[j]); i++) {
            double a = (double)gt_tensor_data(grads[j])[i], b = (double)gt_tensor_grad(wrt[j])[i];
            worst = fmax(worst, fabs(a - b) / (1 + fabs(b)));
        }
#ifdef GT_REAL_DOUBLE
    ok = ok && worst <= 1e-10;
#else
    ok = ok && worst <= 1e-4;
#endif
    if (!ok)
        printf("    grad_graph's gradient differs from backward's by %.2e (relative) %s\n", worst,
               gt_last_error());
    for (int j = 0; j < m; j++)
        gt_tensor_zero_grad(wrt[j]);
    gt_tape_free(tape);
    return ok;
}

static bool run_case(const gt_op_def *op, const char *text, uint64_t seed) {
    gt_test_op_case c;
    if (!gt_test_op_case_make(op, text, seed, &c)) {
        gt_test_op_case_free(&c);
        return false;
    }
    int64_t elements = 0;
    for (int k = 0; k < c.n_in; k++)
        elements += c.in[k] ? gt_tensor_numel(c.in[k]) : 0;
    if (elements == 0) { /* nothing to differentiate: the first-order suites run it */
        gt_test_op_case_free(&c);
        return true;
    }
    gg_ctx ctx = {&c, NULL};
    gt_rng rng;
    gt_rng_seed(&rng, seed ^ 0x5eed);
    gt_tape *tape = gt_tape_new();
    gt_tape_set_grad_enabled(tape, false);
    gt_tensor *y = gt_test_op_case_run(tape, &c, c.in);
    bool ok = y != NULL;
    if (y)
        ctx.upstream = gt_randn(gt_tensor_ndim(y), gt_tensor_shape(y), 0, 1, &rng);
    gt_tape_free(tape);
    gt_gradcheck_opts opts = gt_gradcheck_default_opts();
    opts.allow_zero_grad = true; /* d2 of a piecewise-linear op's own part may be 0 */
#ifndef GT_REAL_DOUBLE
    opts.atol = opts.rtol = 5e-2; /* differences of float first derivatives are coarse */
    /* the convs' sums of 100 products round more than a 1e-3 step's differences allow;
     * elsewhere a larger step would cross the kinks of piecewise ops (hardtanh's) */
    if (!strncmp(op->name, "conv", 4))
        opts.eps = 1e-2;
#endif
    gt_gradcheck_result result = {0};
    if (ok)
        ok = gt_gradgradcheck(squared_output, &ctx, c.in, c.n_in, &opts, seed, &result) ==
                 GT_OK && result.passed;
    if (ok)
        ok = grad_graph_matches_backward(&ctx, &c);
    printf("  %-14s %-44s %5lld partials  max abs %.2e  max rel %.2e  %s\n", op->name, text,
           (long long)result.checked, result.max_abs_err, result.max_rel_err,
           ok ? "PASS" : "FAIL");
    if (!ok)
        printf("    %s %s\n", result.message, gt_last_error());
    gt_tensor_free(ctx.upstream);
    gt_test_op_case_free(&c);
    return ok;
}

/* Every op with a backward has one written with ops: an op added without one fails here,
 * so that gradients of gradients never silently stop at a new op. */
GT_TEST(every_op_with_a_backward_of_ops_passes_gradgradcheck_on_every_case) {
    int count, with = 0;
    const gt_op_def *const *ops = gt_op_list(&count);
    for (int i = 0; i < count; i++) {
        if (!ops[i]->backward)
            continue; /* no gradient at all (comparisons, argmax) */
        if (!ops[i]->grad_graph) {
            printf("  %-14s has a backward but none written with ops: give it a grad_graph\n",
                   ops[i]->name);
            CHECK(ops[i]->grad_graph != NULL);
            continue;
        }
        with++;
        for (const char *const *c = ops[i]->cases; c && *c; c++)
            if (!strstr(*c, "=>"))
                CHECK(run_case(ops[i], *c, gt_test_case_seed(ops[i], *c)));
    }
    printf("  %d of %d ops have gradients of gradients\n", with, count);
    CHECK(with > 0);
}

/* The internal op that a Sequential runs for a BatchNorm then a ReLU (ops/norm.c), which is
 * not in the table: the same, on its cases. */
GT_TEST(batch_norm_relu_passes_gradgradcheck_on_every_case) {
    const gt_op_def *op = &gt__op_batch_norm_relu;
    for (const char *const *c = op->cases; *c; c++)
        CHECK(run_case(op, *c, gt_test_case_seed(op, *c)));
}

GT_TEST(an_op_without_a_backward_of_ops_is_refused_by_name) {
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    const gt_op_def *missing = NULL;
    for (int i = 0; i < count && !missing; i++)
        if (!ops[i]->grad_graph && ops[i]->backward && ops[i]->cases)
            missing = ops[i];
    if (!missing)
        return; /* every op has one: nothing to refuse */
    gt_test_op_case c;
    for (const char *const *text = missing->cases; *text; text++)
        if (!strstr(*text, "=>")) {
            CHECK(gt_test_op_case_make(missing, *text, 5, &c));
            break;
        }
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_sum(tape, gt_test_op_case_run(tape, &c, c.in), GT_ALL_AXES);
    gt_tensor *g = NULL;
    CHECK(y && gt_grad(tape, &y, 1, c.in, 1, NULL, true, &g) == GT_ERR_UNSUPPORTED);
    char expected[64];
    snprintf(expected, sizeof expected, "grad: %s has no backward written with ops", missing->name);
    CHECK_ERROR_HAS(expected);
    CHECK(g == NULL);
    gt_tape_free(tape);
    gt_test_op_case_free(&c);
}

/* The gradients of the extremes with ties, by gt_grad with create_graph, as PyTorch's
 * (torch.autograd.grad of amax(x, 1), max(x, 1).values): amax splits evenly among ties,
 * max over a dim gives all to the first. */
GT_TEST(extremes_with_ties_split_the_gradient_as_pytorch) {
    gt_tensor *x = gt_from_array(GT_SHAPE(2, 4), (const gt_real[]){1, 3, 3, 2, 5, 5, 0, 5});
    gt_tensor_set_requires_grad(x, true);
    const gt_real amax_grad[] = {0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 0, 1.0 / 3};
    const gt_real max_grad[] = {0, 1, 0, 0, 1, 0, 0, 0};
    for (int kind = 0; kind < 2; kind++) {
        gt_tape *tape = gt_tape_new();
        gt_tensor *y = kind == 0 ? gt_amax(tape, x, GT_INTS(1), false) : gt_max(tape, x, 1, false);
        gt_tensor *total = gt_sum(tape, y, GT_ALL_AXES), *g = NULL;
        CHECK(gt_grad(tape, &total, 1, &x, 1, NULL, true, &g) == GT_OK);
        for (int i = 0; g && i < 8; i++)
            CHECK_CLOSE(gt_tensor_data(g)[i], (kind == 0 ? amax_grad : max_grad)[i], GT_TEST_TOL);
        gt_tape_free(tape);
    }
    gt_tensor_free(x);
}

/* scatter_add with src larger than index: src's elements past index's sizes take no part,
 * and their gradient is 0 (PyTorch 1.13's backward refuses this shape, so it is no table
 * case: the oracle runs PyTorch's backward). */
GT_TEST(scatter_add_with_src_larger_than_index_passes_gradgradcheck) {
    CHECK(run_case(&gt_op_scatter_add, "3x4 2x1 3x2; dim=1", 77));
    CHECK(run_case(&gt_op_scatter_add, "2x5 1x3 2x4; dim=0", 78));
}

GT_TEST(grad_returns_gradients_without_touching_dot_grad) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_from_array(GT_SHAPE(3), (const gt_real[]){1, 2, 3});
    gt_tensor_set_requires_grad(x, true);
    gt_tensor *y = gt_sum(tape, gt_mul(tape, gt_mul(tape, x, x), x), GT_ALL_AXES); /* x^3 */
    gt_tensor *g = NULL;
    CHECK(gt_grad(tape, &y, 1, &x, 1, NULL, false, &g) == GT_OK);
    CHECK_CLOSE(gt_tensor_data(g)[2], 27, GT_TEST_TOL); /* 3 x^2 */
    CHECK(gt_tensor_requires_grad(g) == false);          /* nothing recorded */
    for (int i = 0; i < 3; i++)
        CHECK(gt_tensor_grad(x)[i] == 0);
    gt_tensor *g2 = NULL;
    CHECK(gt_grad(tape, &y, 1, &x, 1, NULL, true, &g2) == GT_OK);
    gt_tensor *s = gt_sum(tape, g2, GT_ALL_AXES); /* sum 3 x^2: its gradient is 6 x */
    CHECK(gt_backward(tape, s) == GT_OK);
    CHECK_CLOSE(gt_tensor_grad(x)[1], 12, GT_TEST_TOL);
    gt_tensor *unused = gt_zeros(GT_SHAPE(2)), *gu = NULL;
    gt_tensor_set_requires_grad(unused, true);
    CHECK(gt_grad(tape, &y, 1, &unused, 1, NULL, false, &gu) == GT_OK);
    CHECK(gu && gt_tensor_data(gu)[0] == 0 && gt_tensor_data(gu)[1] == 0);
    gt_tensor *big = gt_mul(tape, x, x), *gb = NULL;
    CHECK(gt_grad(tape, &big, 1, &x, 1, NULL, false, &gb) == GT_ERR_SHAPE);
    CHECK_ERROR_HAS("grad: output 0 has 3 elements: give its grad_outputs");
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_tensor_free(unused);
}

/* ---- a Hessian-vector product of an MLP's loss -------------------------------------- */

typedef struct mlp {
    gt_tensor *w1, *b1, *w2, *b2, *x, *y;
} mlp;

static gt_tensor *mlp_loss(gt_tape *tape, const mlp *m) {
    gt_tensor *h = gt_tanh(tape, gt_linear(tape, m->x, m->w1, m->b1));
    return gt_cross_entropy(tape, gt_linear(tape, h, m->w2, m->b2), m->y);
}

/* d loss / d w1 at the current parameters, into out. */
static void mlp_grad_w1(const mlp *m, gt_real *out) {
    gt_tape *tape = gt_tape_new();
    gt_tensor_zero_grad(m->w1);
    gt_backward(tape, mlp_loss(tape, m));
    memcpy(out, gt_tensor_grad(m->w1), (size_t)gt_tensor_numel(m->w1) * sizeof(gt_real));
    gt_tensor_zero_grad(m->w1);
    gt_tape_free(tape);
}

GT_TEST(hessian_vector_product_of_an_mlp_loss_matches_differences_of_gradients) {
    gt_rng rng;
    gt_rng_seed(&rng, 11);
    mlp m = {gt_randn(GT_SHAPE(5, 4), 0, 0.5, &rng), gt_randn(GT_SHAPE(5), 0, 0.5, &rng),
             gt_randn(GT_SHAPE(3, 5), 0, 0.5, &rng), gt_randn(GT_SHAPE(3), 0, 0.5, &rng),
             gt_randn(GT_SHAPE(6, 4), 0, 1, &rng), gt_zeros(GT_SHAPE(6))};
    for (int i = 0; i < 6; i++)
        gt_tensor_data(m.y)[i] = (gt_real)(i % 3);
    gt_tensor *params[] = {m.w1, m.b1, m.w2, m.b2};
    for (int i = 0; i < 4; i++)
        gt_tensor_set_requires_grad(params[i], true);
    gt_tensor *v = gt_randn(GT_SHAPE(5, 4), 0, 1, &rng);
    /* H v through the recorded gradient: d/dw1 of <dL/dw1, v> */
    gt_tape *tape = gt_tape_new();
    gt_tensor *g = NULL;
    CHECK(gt_grad(tape, (gt_tensor *[]){mlp_loss(tape, &m)}, 1, &m.w1, 1, NULL, true, &g) == GT_OK);
    CHECK(gt_backward(tape, gt_sum(tape, gt_mul(tape, g, v), GT_ALL_AXES)) == GT_OK);
    int64_t n = gt_tensor_numel(m.w1);
    gt_real hv[20], plus[20], minus[20];
    memcpy(hv, gt_tensor_grad(m.w1), (size_t)n * sizeof(gt_real));
    gt_tape_free(tape);
    /* central differences of the gradient along v */
#ifdef GT_REAL_DOUBLE
    double eps = 1e-6, tol = 1e-6;
#else
    double eps = 1e-2, tol = 2e-2;
#endif
    gt_real *w = gt_tensor_data(m.w1), *dv = gt_tensor_data(v), saved[20];
    memcpy(saved, w, (size_t)n * sizeof(gt_real));
    for (int64_t i = 0; i < n; i++)
        w[i] = saved[i] + (gt_real)eps * dv[i];
    mlp_grad_w1(&m, plus);
    for (int64_t i = 0; i < n; i++)
        w[i] = saved[i] - (gt_real)eps * dv[i];
    mlp_grad_w1(&m, minus);
    memcpy(w, saved, (size_t)n * sizeof(gt_real));
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        double numeric = ((double)plus[i] - (double)minus[i]) / (2 * eps);
        worst = fmax(worst, fabs(numeric - (double)hv[i]));
        scale = fmax(scale, fabs(numeric));
    }
    printf("  H v: max |analytic - differences| %.2e (largest entry %.2e)\n", worst, scale);
    CHECK(scale > 1e-3);
    CHECK(worst <= tol * fmax(1, scale));
    for (int i = 0; i < 4; i++)
        gt_tensor_free(params[i]);
    gt_tensor_free(m.x);
    gt_tensor_free(m.y);
    gt_tensor_free(v);
}

/* ---- second derivatives of whole models' losses --------------------------------------- */

typedef struct model_case {
    gt_model *model;
    gt_tensor *x, *y;
} model_case;

static gt_tensor *model_loss(gt_tape *tape, gt_tensor *const *params, void *ctx) {
    (void)params; /* the model's own leaves, nudged in place by the check */
    model_case *c = ctx;
    return gt_cross_entropy(tape, gt_model_forward(tape, c->model, c->x), c->y);
}

/* gradgradcheck of the model's cross-entropy loss on random images x[shape], every
 * parameter an input, up to `per_input` partials of each; frees the model. */
static bool model_passes_gradgradcheck(gt_model *model, int ndim, const int64_t *shape,
                                       int64_t per_input, uint64_t seed) {
    model_case c = {model, NULL, NULL};
    gt_test_random_batch(ndim, shape, gt_model_get_config(model)->classes, seed, &c.x, &c.y);
    gt_gradcheck_opts opts = gt_gradcheck_default_opts();
    opts.max_per_input = per_input;
#ifndef GT_REAL_DOUBLE
    opts.atol = opts.rtol = 5e-2; /* differences of float first derivatives are coarse */
#endif
    gt_gradcheck_result result = {0};
    gt_status st = gt_gradgradcheck(model_loss, &c, gt_model_params(model),
                                    gt_model_param_count(model), &opts, seed, &result);
    char what[96];
    gt_model_describe(model, what, sizeof what);
    printf("  %-40s %lld images %5lld partials  max abs %.2e  max rel %.2e  %s\n", what,
           (long long)shape[0], (long long)result.checked, result.max_abs_err,
           result.max_rel_err, st == GT_OK && result.passed ? "PASS" : "FAIL");
    if (st != GT_OK || !result.passed)
        printf("    %s %s\n", result.message, gt_last_error());
    gt_model_free(model);
    gt_tensor_free(c.x);
    gt_tensor_free(c.y);
    return st == GT_OK && result.passed && result.checked > 0;
}

GT_TEST(mlp_loss_passes_gradgradcheck) {
    /* the benchmark's MLP 784-100-10 (relu), 20 partials of each parameter; and a small
     * tanh MLP on every partial */
    CHECK(model_passes_gradgradcheck(gt_mlp_new((int[]){784, 100, 10}, 3, GT_ACT_RELU, 7),
                                     GT_SHAPE(4, 1, 28, 28), 20, 8));
    CHECK(model_passes_gradgradcheck(gt_mlp_new((int[]){12, 6, 4}, 3, GT_ACT_TANH, 9),
                                     GT_SHAPE(3, 1, 3, 4), 0, 10));
}

/* LeNet-5 (conv2d, max_pool2d, tanh, linear, cross_entropy): 10 partials of each parameter
 * at 2 images */
GT_TEST(lenet_loss_passes_gradgradcheck) {
#ifndef GT_REAL_DOUBLE
    printf("  (double build only: float differences of a max-pooled net's gradients are rounding)\n");
    return;
#endif
    CHECK(model_passes_gradgradcheck(gt_lenet_new(GT_ACT_TANH, 10, 30), GT_SHAPE(2, 1, 28, 28),
                                     10, 40));
}

/* ---- a gradient penalty ----------------------------------------------------------- */

typedef struct penalty_ctx {
    gt_tensor *x, *target;
} penalty_ctx;

/* mse(tanh(x @ w), target) + 0.5 * |d mse / d x|^2 */
static gt_tensor *penalised_loss(gt_tape *tape, gt_tensor *const *inputs, void *data) {
    const penalty_ctx *c = data;
    gt_tensor *loss = gt_mse_loss(tape, gt_tanh(tape, gt_matmul(tape, c->x, inputs[0])),
                                  c->target);
    gt_tensor *dx = NULL;
    if (!loss || gt_grad(tape, &loss, 1, &c->x, 1, NULL, true, &dx) != GT_OK)
        return NULL;
    gt_tensor *norm = gt_sum(tape, gt_mul(tape, dx, dx), GT_ALL_AXES);
    return gt_add(tape, loss, gt_scale(tape, norm, 0.5));
}

GT_TEST(a_gradient_penalty_has_the_right_gradient_and_trains) {
    gt_rng rng;
    gt_rng_seed(&rng, 5);
    penalty_ctx c = {gt_randn(GT_SHAPE(4, 3), 0, 1, &rng), gt_randn(GT_SHAPE(4, 2), 0, 0.5, &rng)};
    gt_tensor_set_requires_grad(c.x, true); /* the penalty differentiates through x */
    gt_tensor *w = gt_randn(GT_SHAPE(3, 2), 0, 0.5, &rng);
    gt_tensor_set_requires_grad(w, true);
    gt_gradcheck_result result;
    CHECK(gt_gradcheck(penalised_loss, &c, &w, 1, NULL, &result) == GT_OK);
    printf("  penalty gradcheck: %s\n", result.message);
    CHECK(result.passed);
    double first = 0, last = 0;
    for (int step = 0; step < 50; step++) {
        gt_tape *tape = gt_tape_new();
        gt_tensor *loss = penalised_loss(tape, &w, &c);
        CHECK(loss != NULL);
        if (!loss) {
            gt_tape_free(tape);
            break;
        }
        last = (double)gt_tensor_data(loss)[0];
        if (step == 0)
            first = last;
        gt_tensor_zero_grad(w);
        CHECK(gt_backward(tape, loss) == GT_OK);
        for (int64_t i = 0; i < gt_tensor_numel(w); i++)
            gt_tensor_data(w)[i] -= (gt_real)0.1 * gt_tensor_grad(w)[i];
        gt_tape_free(tape);
    }
    printf("  penalised loss %.4f -> %.4f in 50 steps\n", first, last);
    CHECK(last < 0.8 * first);
    gt_tensor_free(c.x);
    gt_tensor_free(c.target);
    gt_tensor_free(w);
}

/* ---- Newton's method ---------------------------------------------------------------- */

/* f(x) = sum(exp(x) - c * x) + 0.5 * (x0 - x1)^2, minimum where its gradient is 0; the
 * Hessian comes column by column from gradients of the gradient. */
GT_TEST(newton_converges_quadratically_with_hessians_from_gradients_of_gradients) {
    gt_tensor *x = gt_from_array(GT_SHAPE(2), (const gt_real[]){1.0, -0.5});
    gt_tensor *c = gt_from_array(GT_SHAPE(2), (const gt_real[]){2.0, 0.5});
    gt_tensor *diff = gt_from_array(GT_SHAPE(2), (const gt_real[]){1.0, -1.0});
    gt_tensor_set_requires_grad(x, true);
    double previous = 1e300, errors[12];
    int iterations = 0;
    for (int it = 0; it < 12; it++) {
        gt_tape *tape = gt_tape_new();
        /* f = sum(exp(x) - c x) + 0.5 * (sum(x * diff))^2 */
        gt_tensor *gap = gt_sum(tape, gt_mul(tape, x, diff), GT_ALL_AXES);
        gt_tensor *f = gt_add(tape, gt_sum(tape, gt_sub(tape, gt_exp(tape, x), gt_mul(tape, c, x)),
                                           GT_ALL_AXES),
                              gt_scale(tape, gt_mul(tape, gap, gap), 0.5));
        gt_tensor *g = NULL;
        CHECK(gt_grad(tape, &f, 1, &x, 1, NULL, true, &g) == GT_OK);
        if (!g) {
            gt_tape_free(tape);
            break;
        }
        double g0 = (double)gt_tensor_data(g)[0], g1 = (double)gt_tensor_data(g)[1];
        double norm = sqrt(g0 * g0 + g1 * g1);
        errors[iterations++] = norm;
        if (norm < 1e-12 || norm >= previous) {
            gt_tape_free(tape);
            break;
        }
        previous = norm;
        double h[2][2];
        for (int col = 0; col < 2; col++) { /* H e_col = d/dx <g, e_col> */
            gt_tensor *hcol = NULL, *gc = g;
            gt_tensor *pick = gt_tape_tensor(tape, GT_SHAPE(2));
            gt_tensor_data(pick)[col] = 1;
            gt_tensor *dot = gt_sum(tape, gt_mul(tape, gc, pick), GT_ALL_AXES);
            CHECK(gt_grad(tape, &dot, 1, &x, 1, NULL, false, &hcol) == GT_OK);
            h[0][col] = (double)gt_tensor_data(hcol)[0];
            h[1][col] = (double)gt_tensor_data(hcol)[1];
        }
        double det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
        double s0 = (h[1][1] * g0 - h[0][1] * g1) / det, s1 = (h[0][0] * g1 - h[1][0] * g0) / det;
        gt_tensor_data(x)[0] -= (gt_real)s0;
        gt_tensor_data(x)[1] -= (gt_real)s1;
        gt_tape_free(tape);
    }
    printf("  |gradient| by iteration:");
    for (int i = 0; i < iterations; i++)
        printf(" %.1e", errors[i]);
    printf("\n");
#ifdef GT_REAL_DOUBLE
    CHECK(errors[iterations - 1] < 1e-12);
    CHECK(iterations <= 8);
    /* quadratic: once below 0.1, each error is below a constant times the square of the last */
    for (int i = 1; i < iterations; i++)
        if (errors[i - 1] < 0.1 && errors[i] > 1e-13)
            CHECK(errors[i] <= 10 * errors[i - 1] * errors[i - 1]);
#else
    CHECK(errors[iterations - 1] < 1e-4);
#endif
    gt_tensor_free(x);
    gt_tensor_free(c);
    gt_tensor_free(diff);
}

GT_TEST_MAIN()
