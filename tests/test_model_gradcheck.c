/* test_model_gradcheck.c - whole models against central differences: the cross-entropy
 * loss of an MLP, LeNet-5, models of every layer kind (in train and in eval mode), a small
 * CNN with batch norm and dropout on a batch of random images, and examples/chargpt's
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

/* Dropout draws the same masks on every evaluation: the generator restarts at one seed. */
static gt_tensor *model_loss(gt_tape *tape, gt_tensor *const *params, void *ctx) {
    (void)params; /* the model's own leaves, nudged in place by gradcheck */
    model_case *c = ctx;
    gt_manual_seed(99);
    return gt_cross_entropy(tape, gt_model_forward(tape, c->model, c->x), c->y);
}

/* Checks the model on x[shape] (or on the given x, which it frees), then frees it. */
static bool check_model_on(gt_model *model, int ndim, const int64_t *shape, uint64_t seed,
                           gt_tensor *x) {
    model_case c = {model, NULL, NULL};
    gt_test_random_batch(ndim, shape, gt_model_get_config(model)->classes, seed, &c.x, &c.y);
    if (x) {
        gt_tensor_free(c.x);
        c.x = x;
    }
    gt_gradcheck_opts opts = gt_gradcheck_default_opts();
    opts.max_per_input = PER_INPUT;
    gt_gradcheck_result result;
    gt_status st = gt_gradcheck(model_loss, &c, gt_model_params(model),
                                gt_model_param_count(model), &opts, &result);
    char what[96];
    gt_model_describe(model, what, sizeof what);
    printf("  %-5s %-50s %lld images %6lld partials  max abs %.2e  max rel %.2e  %s\n",
           gt_model_is_training(model) ? "train" : "eval", what,
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

static bool check_model(gt_model *model, int ndim, const int64_t *shape, uint64_t seed) {
    return check_model_on(model, ndim, shape, seed, NULL);
}

/* The spec's model in train mode, then in eval mode after two training forward passes have
 * moved its running statistics away from 0 and 1. */
static bool check_spec_both_modes(const char *spec, int ndim, const int64_t *shape,
                                  uint64_t seed) {
    gt_model *train = gt_model_from_spec(spec, ndim - 1, shape + 1, seed);
    gt_model *eval = gt_model_from_spec(spec, ndim - 1, shape + 1, seed);
    if (!train || !eval) {
        printf("  %s: %s\n", spec, gt_last_error());
        gt_model_free(train);
        gt_model_free(eval);
        return false;
    }
    gt_tensor *x, *y;
    gt_test_random_batch(ndim, shape, 10, seed + 1, &x, &y);
    gt_tape *tape = gt_tape_new();
    bool moved = gt_model_forward(tape, eval, x) && (gt_tape_reset(tape), true) &&
                 gt_model_forward(tape, eval, x);
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_tensor_free(y);
    gt_model_train(eval, false);
    bool ok = check_model(train, ndim, shape, seed + 2);
    return check_model(eval, ndim, shape, seed + 2) && ok && moved;
}
GT_TEST(mlp_gradient_matches_finite_differences_for_every_activation) {
    for (int act = 0; act < GT_ACT_COUNT; act++)
        CHECK(check_model(gt_mlp_new((int[]){36, 9, 7, 4}, 4, (gt_activation)act, 10 + act),
                          GT_SHAPE(3, 1, 6, 6), 20 + act));
}

/* Specs with every layer kind the registry has: conv with stride and padding, every pool,
 * a residual block, each activation. */
GT_TEST(spec_model_gradient_matches_finite_differences) {
    CHECK(check_model(gt_model_from_spec("Conv2d(3, 3, stride=2, padding=1) Sigmoid "
                                         "MaxPool2d(2) Conv2d(4, 1, bias=False) AvgPool2d(1) "
                                         "Flatten r=Residual(Linear(24) Tanh Linear(24) ReLU) "
                                         "Linear(5) Softmax",
                                         3, (int64_t[]){1, 10, 12}, 50),
                      GT_SHAPE(3, 1, 10, 12), 51));
    CHECK(check_model(gt_model_from_spec("Conv2d(3, 3, padding=1) MaxPool2d(3, stride=2, "
                                         "padding=1, ceil_mode=True) AvgPool2d(3, stride=1, "
                                         "padding=1, count_include_pad=False) "
                                         "AdaptiveAvgPool2d(2) Flatten Linear(4)",
                                         3, (int64_t[]){1, 10, 12}, 54),
                      GT_SHAPE(2, 1, 10, 12), 55));
    CHECK(check_model(gt_model_from_spec("MaxPool1d(3, stride=2, padding=1) AvgPool1d(2, "
                                         "ceil_mode=True) Flatten Linear(3)",
                                         2, (int64_t[]){3, 11}, 56),
                      GT_SHAPE(2, 3, 11), 57));
    CHECK(check_model(gt_model_from_spec("Flatten Linear(6) LogSoftmax(dim=-1) Linear(4)", 3,
                                         (int64_t[]){2, 3, 3}, 52),
                      GT_SHAPE(2, 2, 3, 3), 53));
    /* the conv layers' other arguments, and the 1-D and transposed ones */
    CHECK(check_model(gt_model_from_spec("Conv2d(4, 3, padding='same', dilation=2, groups=2) "
                                         "Tanh ConvTranspose2d(2, 3, stride=2, padding=1, "
                                         "output_padding=1, groups=2) Flatten Linear(3)",
                                         3, (int64_t[]){2, 5, 4}, 54),
                      GT_SHAPE(2, 2, 5, 4), 55));
    CHECK(check_model(gt_model_from_spec("Conv1d(4, 3, stride=2, padding=1) Tanh "
                                         "Conv1d(2, 2, padding='valid', groups=2) Flatten "
                                         "Linear(3)", 2, (int64_t[]){2, 9}, 56),
                      GT_SHAPE(3, 2, 9), 57));
}

/* Every layer kind beyond the first ones, with arguments other than the defaults too. */
GT_TEST(norm_dropout_and_activation_layers_match_finite_differences_in_train_and_eval_mode) {
    /* the norms with smooth activations after them (a kink just after a normalisation of
     * a few samples is crossed by the float build's finite differences) */
    CHECK(check_spec_both_modes("Conv2d(3, 3, padding=1) BatchNorm2d Tanh GroupNorm(3) SiLU "
                                "Flatten Dropout(0.3) Linear(6) BatchNorm1d(momentum=None) GELU "
                                "Linear(6) LayerNorm(6) Sigmoid Linear(5)",
                                GT_SHAPE(4, 2, 4, 4), 60));
    CHECK(check_spec_both_modes("Flatten Linear(6) LeakyReLU(0.2) Linear(6) ELU(alpha=0.5) "
                                "Linear(6) SELU Linear(6) Softplus(beta=2) Linear(6) "
                                "Hardtanh(-2, 2) Hardsigmoid Linear(6) "
                                "GELU(approximate='tanh') Linear(4)",
                                GT_SHAPE(3, 1, 3, 3), 61));
    CHECK(check_spec_both_modes("Conv2d(4, 1) BatchNorm2d(4, affine=False) "
                                "GroupNorm(2, 4, eps=0.001, affine=False) Flatten "
                                "BatchNorm1d(track_running_stats=False) LayerNorm(36, "
                                "elementwise_affine=False) Linear(5)",
                                GT_SHAPE(3, 2, 3, 3), 62));
}

/* Embedding's indices take no gradient; its weight does. */
GT_TEST(embedding_layer_matches_finite_differences) {
    gt_model *model = gt_model_from_spec("Embedding(7, 3) Flatten Linear(4)", 1,
                                         (int64_t[]){5}, 63);
    gt_tensor *x = gt_from_array(GT_SHAPE(2, 5), (const gt_real[]){0, 6, 2, 2, 5, 1, 3, 4, 0, 6});
    CHECK(model && x && check_model_on(model, GT_SHAPE(2, 5), 64, x));
}

/* The modern CNN's architecture (batch norm after each convolution, dropout before each
 * linear layer) at a size whose every parameter a double gradcheck visits. */
GT_TEST(small_cnn_with_batch_norm_matches_finite_differences_in_train_and_eval_mode) {
    CHECK(check_spec_both_modes("Conv2d(4, 3, padding=1) BatchNorm2d ReLU MaxPool2d(2) "
                                "Conv2d(6, 3, padding=1) BatchNorm2d ReLU MaxPool2d(2) Flatten "
                                "Dropout(0.25) Linear(8) ReLU Dropout(0.5) Linear(10)",
                                GT_SHAPE(3, 1, 8, 8), 65));
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
