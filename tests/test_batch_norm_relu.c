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

/* A batch of 4 random samples of sample[ndim]. */
static gt_tensor *batch_of(int ndim, const int64_t *sample) {
    int64_t shape[4] = {4};
    for (int i = 0; i < ndim; i++)
        shape[i + 1] = sample[i];
    gt_rng rng;
    gt_rng_seed(&rng, 11);
    return gt_randn(ndim + 1, shape, 0, 1, &rng);
}

/* The nodes a model's forward and backward record: how many batch_norm_relu and batch_norm. */
static bool model_records(const char *spec, int ndim, const int64_t *sample, bool anomaly,
                          int fused, int plain) {
    gt_model *net = gt_model_from_spec(spec, ndim, sample, 3);
    gt_tensor *x = batch_of(ndim, sample);
    gt_tape *tape = gt_tape_new();
    gt_tape_set_profiling(tape, true);
    gt_tape_set_detect_anomaly(tape, anomaly);
    gt_tensor *out = net ? gt_sum(tape, gt_model_forward(tape, net, x), GT_ALL_AXES) : NULL;
    bool ok = out && gt_backward(tape, out) == GT_OK;
    gt_tape_set_profiling(tape, false);
    gt_profile_row rows[32];
    int n = gt_tape_profile_rows(tape, rows, 32), seen_fused = 0, seen_plain = 0;
    for (int i = 0; i < n && i < 32; i++) {
        seen_fused += !strcmp(rows[i].name, "batch_norm_relu") ? (int)rows[i].forward_calls : 0;
        seen_plain += !strcmp(rows[i].name, "batch_norm") ? (int)rows[i].forward_calls : 0;
    }
    if (seen_fused != fused || seen_plain != plain)
        printf("    %s: %d batch_norm_relu, %d batch_norm\n", spec, seen_fused, seen_plain);
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_model_free(net);
    return ok && seen_fused == fused && seen_plain == plain;
}

/* A model of one BatchNorm and a ReLU against the two ops by hand, bit for bit: output,
 * the parameters' gradients and the running statistics. */
static bool model_matches_ops(const char *spec, int ndim, const int64_t *sample) {
    gt_model *net = gt_model_from_spec(spec, ndim, sample, 3);
    if (!net)
        return false;
    gt_tensor *x = batch_of(ndim, sample);
    gt_tensor *const *params = gt_model_params(net);
    gt_tensor *const *buffers = gt_model_buffers(net);
    gt_tensor_data(params[0])[0] = (gt_real)0.5;
    gt_tensor_data(params[1])[1] = (gt_real)-0.25;
    gt_tensor *w = gt_tensor_clone(params[0]), *b = gt_tensor_clone(params[1]);
    gt_tensor *rm = gt_tensor_clone(buffers[0]), *rv = gt_tensor_clone(buffers[1]);
    gt_tensor_set_requires_grad(w, true), gt_tensor_set_requires_grad(b, true);
    gt_tape *tape = gt_tape_new(), *model_tape = gt_tape_new();
    gt_tensor *by_hand = gt_sum(
        tape, gt_relu(tape, gt_batch_norm(tape, x, rm, rv, w, b, true, 0.1, 1e-5)), GT_ALL_AXES);
    gt_tensor *out = gt_sum(model_tape, gt_model_forward(model_tape, net, x), GT_ALL_AXES);
    bool ok = by_hand && out && gt_backward(tape, by_hand) == GT_OK &&
              gt_backward(model_tape, out) == GT_OK;
    ok = ok && same_bits("model output", out, by_hand, gt_tensor_data(out),
                         gt_tensor_data(by_hand));
    ok = ok && same_bits("model grad weight", w, params[0], gt_tensor_grad(w),
                         gt_tensor_grad(params[0]));
    ok = ok && same_bits("model grad bias", b, params[1], gt_tensor_grad(b),
                         gt_tensor_grad(params[1]));
    ok = ok && same_bits("model running_mean", rm, buffers[0], gt_tensor_data(rm),
                         gt_tensor_data(buffers[0]));
    ok = ok && same_bits("model running_var", rv, buffers[1], gt_tensor_data(rv),
                         gt_tensor_data(buffers[1]));
    gt_tape_free(tape), gt_tape_free(model_tape);
    gt_tensor_free(x), gt_tensor_free(w), gt_tensor_free(b), gt_tensor_free(rm);
    gt_tensor_free(rv);
    gt_model_free(net);
    return ok;
}

GT_TEST(a_sequential_runs_batch_norm_then_relu_as_one_op) {
    CHECK(model_matches_ops("BatchNorm2d ReLU", 3, (int64_t[]){3, 5, 5}));
    CHECK(model_matches_ops("BatchNorm1d ReLU", 2, (int64_t[]){3, 7}));
    CHECK(model_matches_ops("BatchNorm1d ReLU", 1, (int64_t[]){6}));
    CHECK(model_records("cnn", 3, (int64_t[]){1, 28, 28}, false, 4, 0));
    /* inside a Residual too; not when another layer reads the norm's output first, nor for
     * another activation, nor in anomaly mode (which checks the norm's output) */
    CHECK(model_records("BatchNorm2d Residual(BatchNorm2d ReLU) ReLU", 3, (int64_t[]){2, 3, 3},
                        false, 1, 1));
    CHECK(model_records("BatchNorm2d Tanh ReLU", 3, (int64_t[]){2, 3, 3}, false, 0, 1));
    CHECK(model_records("BatchNorm1d LeakyReLU", 1, (int64_t[]){4}, false, 0, 1));
    CHECK(model_records("cnn", 3, (int64_t[]){1, 28, 28}, true, 0, 4));
}

GT_TEST(fusion_keeps_the_module_tree_and_state_dict_names) {
    gt_model *net = gt_model_from_spec("cnn", 3, (int64_t[]){1, 28, 28}, 1);
    CHECK(net != NULL);
    CHECK(gt_module_child_count(gt_model_module(net)) == 20);
    CHECK(!strcmp(gt_model_param_name(net, 2), "1.weight"));
    CHECK(!strcmp(gt_model_buffer_name(net, 0), "1.running_mean"));
    gt_model_free(net);
}

GT_TEST_MAIN()
