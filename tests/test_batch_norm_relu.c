/* test_batch_norm_relu.c - the internal op batch_norm_relu (ops/norm.c), which a Sequential
 * runs for a BatchNorm followed by a ReLU: its values, gradients (of input, weight, bias),
 * gradients recorded with create_graph and the running statistics it moves are those of
 * relu(batch_norm(...)) bit for bit, so that training gives the numbers it gave unfused; its
 * errors are batch_norm's, under its own name. (Its gradcheck, gradgradcheck and
 * out-of-memory walks are in test_gradcheck.c, test_gradgradcheck.c and
 * test_alloc_fail_ops.c, over its cases.) */
#include "gt_test.h"

#include "gt_ops_impl.h"

/* One configuration: a shape, which optional inputs are given, the arguments. */
typedef struct bnr_config {
    int ndim;
    int64_t shape[4];
    bool weight, bias, stats, training;
    double momentum, eps;
    bool dead_channel; /* channel 0's weight and bias 0: its output exactly 0 (relu's kink) */
} bnr_config;

/* The tensors of one run: heap copies of the same values for each run. */
typedef struct bnr_inputs {
    gt_tensor *x, *rm, *rv, *w, *b, *upstream;
} bnr_inputs;

static bnr_inputs make_inputs(const bnr_config *cfg, uint64_t seed) {
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    int64_t c = cfg->shape[1];
    bnr_inputs in = {gt_randn(cfg->ndim, cfg->shape, (gt_real)0.5, 2, &rng)};
    in.rm = cfg->stats ? gt_randn(1, &c, 0, 1, &rng) : NULL;
    in.rv = cfg->stats ? gt_rand(1, &c, (gt_real)0.5, 2, &rng) : NULL;
    in.w = cfg->weight ? gt_randn(1, &c, 1, (gt_real)0.5, &rng) : NULL;
    in.b = cfg->bias ? gt_randn(1, &c, 0, (gt_real)0.5, &rng) : NULL;
    in.upstream = gt_randn(cfg->ndim, cfg->shape, 0, 1, &rng);
    gt_real *g = gt_tensor_data(in.upstream);
    for (int64_t i = 0; i < gt_tensor_numel(in.upstream); i += 7) /* -0 and 0 upstream */
        g[i] = i % 2 ? (gt_real)-0.0 : 0;
    if (cfg->dead_channel) {
        if (in.w)
            gt_tensor_data(in.w)[0] = 0;
        if (in.b)
            gt_tensor_data(in.b)[0] = 0;
    }
    return in;
}

static bnr_inputs clone_inputs(const bnr_inputs *a) {
    bnr_inputs in = {gt_tensor_clone(a->x), a->rm ? gt_tensor_clone(a->rm) : NULL,
                     a->rv ? gt_tensor_clone(a->rv) : NULL, a->w ? gt_tensor_clone(a->w) : NULL,
                     a->b ? gt_tensor_clone(a->b) : NULL, a->upstream};
    gt_tensor_set_requires_grad(in.x, true);
    if (in.w)
        gt_tensor_set_requires_grad(in.w, true);
    if (in.b)
        gt_tensor_set_requires_grad(in.b, true);
    return in;
}

static void free_inputs(bnr_inputs *in, bool upstream) {
    gt_tensor_free(in->x), gt_tensor_free(in->rm), gt_tensor_free(in->rv);
    gt_tensor_free(in->w), gt_tensor_free(in->b);
    if (upstream)
        gt_tensor_free(in->upstream);
}

static gt_tensor *run(gt_tape *tape, const bnr_config *cfg, const bnr_inputs *in, bool fused) {
    if (fused)
        return gt__batch_norm_relu(tape, in->x, in->rm, in->rv, in->w, in->b, cfg->training,
                                   cfg->momentum, cfg->eps);
    return gt_relu(tape, gt_batch_norm(tape, in->x, in->rm, in->rv, in->w, in->b, cfg->training,
                                       cfg->momentum, cfg->eps));
}

static bool same_bits(const char *what, const gt_tensor *a, const gt_tensor *b, const gt_real *da,
                      const gt_real *db) {
    if (!a && !b)
        return true;
    if (!a || !b || !da || !db || gt_tensor_numel(a) != gt_tensor_numel(b)) {
        printf("    %s: missing\n", what);
        return false;
    }
    if (memcmp(da, db, (size_t)gt_tensor_numel(a) * sizeof(gt_real))) {
        for (int64_t i = 0; i < gt_tensor_numel(a); i++)
            if (memcmp(&da[i], &db[i], sizeof(gt_real))) {
                printf("    %s differs at %lld: %.17g vs %.17g\n", what, (long long)i,
                       (double)da[i], (double)db[i]);
                break;
            }
        return false;
    }
    return true;
}

/* Values, gradients and running statistics, unfused and fused, compared bit for bit. */
static bool first_order_matches(const bnr_config *cfg, const bnr_inputs *base) {
    bnr_inputs u = clone_inputs(base), f = clone_inputs(base);
    gt_tape *tu = gt_tape_new(), *tf = gt_tape_new();
    gt_tensor *yu = run(tu, cfg, &u, false), *yf = run(tf, cfg, &f, true);
    bool ok = yu && yf && gt_backward_with(tu, yu, base->upstream) == GT_OK &&
              gt_backward_with(tf, yf, base->upstream) == GT_OK;
    ok = ok && same_bits("output", yu, yf, gt_tensor_data(yu), gt_tensor_data(yf));
    ok = ok && same_bits("grad input", u.x, f.x, gt_tensor_grad(u.x), gt_tensor_grad(f.x));
    ok = ok && same_bits("grad weight", u.w, f.w, u.w ? gt_tensor_grad(u.w) : NULL,
                         f.w ? gt_tensor_grad(f.w) : NULL);
    ok = ok && same_bits("grad bias", u.b, f.b, u.b ? gt_tensor_grad(u.b) : NULL,
                         f.b ? gt_tensor_grad(f.b) : NULL);
    ok = ok && same_bits("running_mean", u.rm, f.rm, u.rm ? gt_tensor_data(u.rm) : NULL,
                         f.rm ? gt_tensor_data(f.rm) : NULL);
    ok = ok && same_bits("running_var", u.rv, f.rv, u.rv ? gt_tensor_data(u.rv) : NULL,
                         f.rv ? gt_tensor_data(f.rv) : NULL);
    gt_tape_free(tu), gt_tape_free(tf);
    free_inputs(&u, false), free_inputs(&f, false);
    return ok;
}

/* The gradients recorded with create_graph (the gradient graphs), and the gradients of
 * the sum of their squares (their backwards), compared bit for bit. */
static bool second_order_matches(const bnr_config *cfg, const bnr_inputs *base) {
    bnr_inputs in[2] = {clone_inputs(base), clone_inputs(base)};
    bool ok = true;
    gt_tape *tapes[2];
    gt_tensor *grads[2][3] = {{0}};
    int m = 0;
    for (int k = 0; k < 2; k++) {
        tapes[k] = gt_tape_new();
        gt_tensor *wrt[3];
        m = 0;
        wrt[m++] = in[k].x;
        if (in[k].w)
            wrt[m++] = in[k].w;
        if (in[k].b)
            wrt[m++] = in[k].b;
        gt_tensor *y = run(tapes[k], cfg, &in[k], k == 1);
        gt_tensor *up = gt_tape_tensor(tapes[k], gt_tensor_ndim(base->upstream),
                                       gt_tensor_shape(base->upstream));
        if (!y || !up) {
            ok = false;
            continue;
        }
        memcpy(gt_tensor_data(up), gt_tensor_data(base->upstream),
               (size_t)gt_tensor_numel(up) * sizeof(gt_real));
        ok = ok && gt_grad(tapes[k], &y, 1, wrt, m, &up, true, grads[k]) == GT_OK;
        gt_tensor *total = NULL;
        for (int j = 0; ok && j < m; j++) {
            gt_tensor *part = gt_sum(tapes[k], gt_mul(tapes[k], grads[k][j], grads[k][j]),
                                     GT_ALL_AXES);
            total = total ? gt_add(tapes[k], total, part) : part;
        }
        ok = ok && total && gt_backward(tapes[k], total) == GT_OK;
    }
    const char *names[3] = {"grad_graph input", "grad_graph weight", "grad_graph bias"};
    for (int j = 0; ok && j < m; j++)
        ok = same_bits(names[j], grads[0][j], grads[1][j], gt_tensor_data(grads[0][j]),
                       gt_tensor_data(grads[1][j]));
    ok = ok && same_bits("second order input", in[0].x, in[1].x, gt_tensor_grad(in[0].x),
                         gt_tensor_grad(in[1].x));
    ok = ok && (!in[0].w || same_bits("second order weight", in[0].w, in[1].w,
                                      gt_tensor_grad(in[0].w), gt_tensor_grad(in[1].w)));
    for (int k = 0; k < 2; k++)
        gt_tape_free(tapes[k]), free_inputs(&in[k], false);
    return ok;
}

static const bnr_config configs[] = {
    {2, {6, 3}, true, true, true, true, 0.1, 1e-5, false},
    {2, {6, 3}, true, true, true, false, 0.1, 1e-5, false},
    {2, {5, 4}, false, false, false, true, 0.1, 1e-5, false},
    {3, {4, 3, 5}, false, false, true, true, 0.1, 1e-5, false},
    {3, {4, 3, 5}, true, false, false, true, 0.2, 1e-3, false},
    {3, {2, 2, 40}, true, true, true, false, 0.1, 1e-5, false},
    {4, {2, 3, 4, 5}, true, true, true, true, 0.1, 1e-5, true},
    {4, {2, 3, 4, 5}, true, true, true, false, 0.1, 1e-5, true},
    {4, {3, 2, 5, 5}, false, true, true, true, 0.3, 1e-3, false},
    {4, {8, 16, 9, 9}, true, true, true, true, 0.1, 1e-5, false}, /* whole vectors, threads */
    {4, {4, 8, 14, 14}, true, true, false, true, 0.1, 1e-5, true},
};

GT_TEST(batch_norm_relu_gives_relu_of_batch_norm_bit_for_bit) {
    int n = (int)(sizeof configs / sizeof configs[0]);
    for (int i = 0; i < n; i++) {
        bnr_inputs base = make_inputs(&configs[i], 100 + (uint64_t)i);
        bool first = first_order_matches(&configs[i], &base);
        bool second = second_order_matches(&configs[i], &base);
        printf("  config %2d (%d dims, %s): first order %s, second order %s\n", i,
               configs[i].ndim, configs[i].training ? "training" : "eval",
               first ? "same" : "DIFFERS", second ? "same" : "DIFFERS");
        CHECK(first);
        CHECK(second);
        free_inputs(&base, true);
    }
}

GT_TEST(batch_norm_relu_refuses_what_batch_norm_refuses_with_its_own_name) {
    int n = 0;
    for (const char *const *c = gt_op_batch_norm.cases; *c; c++) {
        const char *arrow = strstr(*c, "=> batch_norm:");
        if (!arrow)
            continue;
        char text[256]; /* "... => batch_norm_relu: ..." */
        snprintf(text, sizeof text, "%.*s=> batch_norm_relu%s", (int)(arrow - *c), *c,
                 arrow + strlen("=> batch_norm"));
        gt_test_op_case bnr;
        CHECK(gt_test_op_case_make(&gt__op_batch_norm_relu, text, 1, &bnr));
        gt_tape *tape = gt_tape_new();
        if (!bnr.args_failed) /* else the attribute text was refused, the error set */
            CHECK(!gt_test_op_case_run(tape, &bnr, bnr.in));
        CHECK_ERROR_HAS(bnr.error);
        gt_tape_free(tape);
        gt_test_op_case_free(&bnr);
        n++;
    }
    CHECK(n >= 8);
}

GT_TEST_MAIN()
