/* test_model_gradcheck.c - whole models against central differences: the cross-entropy
 * loss of an MLP and of LeNet-5 on a batch of random images, and of examples/chargpt's
 * transformer (one block) on random token sequences, against every element of
 * every parameter in the double build (PyTorch's tolerances: eps 1e-6, atol 1e-5, rtol
 * 1e-3). The float build checks 40 elements of each parameter, spread from first to last,
 * with the float tolerances (eps 1e-3, atol 1e-2, rtol 1e-2); so do sanitizer builds, which
 * are there to find memory errors and run ten times slower. */
#include "gt_test.h"

#include "chargpt_model.h"

#if defined(__SANITIZE_ADDRESS__)
#define PER_INPUT 40 /* sanitizer builds look for memory errors: a sample is enough */
#elif defined(GT_REAL_DOUBLE)
#define PER_INPUT 0 /* every element */
#else
#define PER_INPUT 40
#endif

typedef struct model_case {
    gt_model *model;
    gt_tensor *x, *y;
} model_case;

static gt_tensor *model_loss(gt_tape *tape, gt_tensor *const *params, void *ctx) {
    (void)params; /* the model's own leaves, nudged in place by gradcheck */
    model_case *c = ctx;
    return gt_cross_entropy(tape, gt_model_forward(tape, c->model, c->x), c->y);
}

/* Checks the model on x[shape], then frees it. */
static bool check_model(gt_model *model, int ndim, const int64_t *shape, uint64_t seed) {
    model_case c = {model, NULL, NULL};
    gt_test_random_batch(ndim, shape, gt_model_get_config(model)->classes, seed, &c.x, &c.y);
    gt_gradcheck_opts opts = gt_gradcheck_default_opts();
    opts.max_per_input = PER_INPUT;
    gt_gradcheck_result result;
    gt_status st = gt_gradcheck(model_loss, &c, gt_model_params(model),
                                gt_model_param_count(model), &opts, &result);
    char what[96];
    gt_model_describe(model, what, sizeof what);
    printf("  %-50s %lld images %6lld partials  max abs %.2e  max rel %.2e  %s\n", what,
           (long long)shape[0], (long long)result.checked, result.max_abs_err,
           result.max_rel_err, st == GT_OK && result.passed ? "PASS" : "FAIL");
    if (st != GT_OK || !result.passed)
        printf("    %s %s\n", result.message, gt_last_error());
    bool every = PER_INPUT || result.checked == gt_model_numel(model);
    gt_model_free(model);
    gt_tensor_free(c.x);
    gt_tensor_free(c.y);
    return st == GT_OK && result.passed && every;
}

GT_TEST(mlp_gradient_matches_finite_differences_for_every_activation) {
    for (int act = 0; act < GT_ACT_COUNT; act++)
        CHECK(check_model(gt_mlp_new((int[]){36, 9, 7, 4}, 4, (gt_activation)act, 10 + act),
                          GT_SHAPE(3, 1, 6, 6), 20 + act));
}

/* A spec with every layer kind the registry has: conv with stride and padding, both pools,
 * a residual block, each activation. */
GT_TEST(spec_model_gradient_matches_finite_differences) {
    CHECK(check_model(gt_model_from_spec("Conv2d(3, 3, stride=2, padding=1) Sigmoid "
                                         "MaxPool2d(2) Conv2d(4, 1, bias=False) AvgPool2d(1) "
                                         "Flatten r=Residual(Linear(24) Tanh Linear(24) ReLU) "
                                         "Linear(5) Softmax",
                                         3, (int64_t[]){1, 10, 12}, 50),
                      GT_SHAPE(3, 1, 10, 12), 51));
    CHECK(check_model(gt_model_from_spec("Flatten Linear(6) LogSoftmax(dim=-1) Linear(4)", 3,
                                         (int64_t[]){2, 3, 3}, 52),
                      GT_SHAPE(2, 2, 3, 3), 53));
}

GT_TEST(lenet_gradient_matches_finite_differences) {
    CHECK(check_model(gt_lenet_new(GT_ACT_TANH, 10, 30), GT_SHAPE(2, 1, 28, 28), 40));
    CHECK(check_model(gt_lenet_new(GT_ACT_RELU, 10, 31), GT_SHAPE(2, 1, 28, 28), 41));
}

typedef struct gpt_case {
    gt_model *model;
    gt_tensor *idx, *targets;
} gpt_case;

static gt_tensor *gpt_loss(gt_tape *tape, gt_tensor *const *params, void *ctx) {
    (void)params;
    gpt_case *c = ctx;
    return chargpt_loss(tape, c->model, c->idx, c->targets);
}

/* examples/chargpt's model with one block (embeddings, layer norms, causal multi-head
 * attention, the GELU MLP, the head) on idx[2, 5] and its next tokens, in train mode and in
 * eval mode (the same function: it has no dropout), and on a sequence shorter than its
 * context (the position table and the causal mask cut to 3). */
GT_TEST(transformer_gradient_matches_finite_differences) {
    chargpt_config config = {.vocab = 7, .context = 5, .dim = 8, .heads = 2, .layers = 1};
    for (int t = 5; t >= 3; t -= 2)
        for (int training = 1; training >= 0; training--) {
            gpt_case c = {chargpt_new(&config, 60 + (uint64_t)t), gt_zeros(GT_SHAPE(2, t)),
                          gt_zeros(GT_SHAPE(2, t))};
            CHECK(c.model && c.idx && c.targets);
            if (!c.model || !c.idx || !c.targets)
                break;
            gt_model_train(c.model, training);
            gt_rng rng;
            gt_rng_seed(&rng, 70 + (uint64_t)t);
            for (int i = 0; i < 2 * t; i++) {
                gt_tensor_data(c.idx)[i] = (gt_real)gt_rng_below(&rng, 7);
                gt_tensor_data(c.targets)[i] = (gt_real)gt_rng_below(&rng, 7);
            }
            gt_gradcheck_opts opts = gt_gradcheck_default_opts();
            opts.max_per_input = PER_INPUT;
            gt_gradcheck_result result;
            gt_status st = gt_gradcheck(gpt_loss, &c, gt_model_params(c.model),
                                        gt_model_param_count(c.model), &opts, &result);
            printf("  chargpt 1 block, dim 8, 2 heads, t=%d, %-5s %6lld partials  max abs "
                   "%.2e  max rel %.2e  %s\n", t, training ? "train" : "eval",
                   (long long)result.checked, result.max_abs_err, result.max_rel_err,
                   st == GT_OK && result.passed ? "PASS" : "FAIL");
            if (st != GT_OK || !result.passed)
                printf("    %s %s\n", result.message, gt_last_error());
            CHECK(st == GT_OK && result.passed);
            CHECK(PER_INPUT || result.checked == gt_model_numel(c.model));
            gt_model_free(c.model);
            gt_tensor_free(c.idx);
            gt_tensor_free(c.targets);
        }
}

GT_TEST_MAIN()
