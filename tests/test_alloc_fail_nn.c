/* test_alloc_fail_nn.c - models, optimizers and model checkpoints (gt_nn.h) out of memory at
 * every allocation, as test_alloc_fail.c does for the floors below: each call reports
 * GT_ERR_NOMEM, frees what it took and leaves what the caller held as it was. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"
#include "gt_test_alloc.h"

#include <sys/stat.h>

/* Files of the float and double test programs must not collide when ctest runs both. */
#define SCRATCH GT_BINARY_DIR "/alloc_fail_nn_" GT_REAL_NAME
#define MODEL_PATH SCRATCH "/lenet.gtc"

static gt_test_alloc alloc;

static bool same_block(const gt_real *a, const gt_real *b, int64_t n) {
    return memcmp(a, b, (size_t)n * sizeof(gt_real)) == 0;
}

static gt_real *copy_block(const gt_real *from, int64_t n) {
    gt_real *to = malloc((size_t)n * sizeof(gt_real));
    memcpy(to, from, (size_t)n * sizeof(gt_real));
    return to;
}

GT_TEST(making_models_and_optimizers_fails_cleanly_at_every_allocation) {
    gt_test_alloc_install(&alloc);
    int64_t points = 0;
    for (int kind = 0; kind < 4; kind++)
        for (int64_t at = 1;; at++) {
            gt_test_alloc_fail_nth(&alloc, at);
            gt_model *net = kind == 0 ? gt_mlp_new((const int[]){12, 7, 3}, 3, GT_ACT_RELU, 1)
                                      : gt_lenet_new(GT_ACT_TANH, 10, 1);
            gt_optimizer *opt = NULL;
            if (net && kind == 2)
                opt = gt_sgd_new(gt_model_params(net), gt_model_param_count(net),
                                 &(gt_sgd_config){.lr = 0.1, .momentum = 0.9});
            if (net && kind == 3)
                opt = gt_adam_new(gt_model_params(net), gt_model_param_count(net),
                                  &(gt_adam_config){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999,
                                                    .eps = 1e-8});
            bool injected = gt_test_alloc_disarm(&alloc);
            if (!injected) {
                CHECK(net && (kind < 2 || opt));
                gt_optimizer_free(opt);
                gt_model_free(net);
                break;
            }
            points++;
            CHECK(!net || (kind >= 2 && !opt));
            CHECK_NOMEM();
            gt_optimizer_free(opt);
            gt_model_free(net);
            CHECK(alloc.live == 0);
        }
    CHECK(points >= 8);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* LeNet-5 and SGD with momentum, one step already taken so the optimizer has state. */
typedef struct trainer {
    gt_model *net;
    gt_optimizer *opt;
    gt_tensor *x, *y;
} trainer;

static gt_status train_step(trainer *t) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, t->net, t->x), t->y);
    gt_status status = loss ? gt_backward(tape, loss) : gt_last_status();
    if (status == GT_OK)
        status = gt_optimizer_step(t->opt);
    gt_model_zero_grad(t->net);
    gt_tape_free(tape);
    return status;
}

static trainer trainer_new(void) {
    gt_rng rng;
    gt_rng_seed(&rng, 3);
    trainer t = {gt_lenet_new(GT_ACT_TANH, 10, 5), NULL,
                 gt_rand(GT_SHAPE(4, 1, 28, 28), 0, 1, &rng),
                 gt_from_array(GT_SHAPE(4), (const gt_real[]){1, 7, 0, 3})};
    t.opt = gt_sgd_new(gt_model_params(t.net), gt_model_param_count(t.net),
                       &(gt_sgd_config){.lr = 0.05, .momentum = 0.9});
    CHECK(train_step(&t) == GT_OK);
    return t;
}

static void trainer_free(trainer *t) {
    gt_optimizer_free(t->opt);
    gt_model_free(t->net);
    gt_tensor_free(t->x);
    gt_tensor_free(t->y);
}

GT_TEST(a_failed_model_backward_leaves_its_gradients_as_they_were) {
    gt_test_alloc_install(&alloc);
    trainer t = trainer_new();
    int64_t n = gt_model_numel(t.net), baseline = alloc.live, points = 0;
    for (int64_t i = 0; i < n; i++) /* a gradient already collected: it must stay */
        gt_model_grad(t.net)[i] = (gt_real)(i % 7) / 8;
    gt_real *grad_before = copy_block(gt_model_grad(t.net), n);
    for (int64_t at = 1;; at++) {
        gt_tape *tape = gt_tape_new();
        gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, t.net, t.x), t.y);
        CHECK(loss != NULL);
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_backward(tape, loss);
        bool injected = gt_test_alloc_disarm(&alloc);
        gt_tape_free(tape);
        if (!injected) {
            CHECK(status == GT_OK && !same_block(gt_model_grad(t.net), grad_before, n));
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK(same_block(gt_model_grad(t.net), grad_before, n));
        CHECK(alloc.live == baseline);
    }
    CHECK(points >= 1);
    free(grad_before);
    trainer_free(&t);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(model_save_and_load_fail_cleanly_at_every_allocation) {
    mkdir(SCRATCH, 0755);
    gt_test_alloc_install(&alloc);
    trainer t = trainer_new();
    int64_t n = gt_model_numel(t.net), baseline = alloc.live, points = 0;
    CHECK(gt_model_save(t.net, t.opt, NULL, 0, MODEL_PATH) == GT_OK);
    gt_real *saved = copy_block(gt_model_data(t.net), n);
    CHECK(train_step(&t) == GT_OK); /* the model in memory moves on from the saved one */
    for (int64_t at = 1;; at++) { /* save: the previous file stays */
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_model_save(t.net, t.opt, NULL, 0, SCRATCH "/next.gtc");
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline);
        if (!injected) {
            CHECK(status == GT_OK);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
    }
    for (int64_t at = 1;; at++) { /* load: a whole model or nothing */
        gt_test_alloc_fail_nth(&alloc, at);
        gt_model *back = gt_model_load(MODEL_PATH);
        bool injected = gt_test_alloc_disarm(&alloc);
        if (!injected) {
            CHECK(back && same_block(gt_model_data(back), saved, n));
            gt_model_free(back);
            break;
        }
        points++;
        CHECK(!back);
        CHECK_NOMEM();
        CHECK(alloc.live == baseline);
    }
    gt_real *params_before = copy_block(gt_model_data(t.net), n);
    int64_t steps_before = gt_optimizer_steps(t.opt);
    for (int64_t at = 1;; at++) { /* optimizer state: restored whole or not at all */
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_optimizer_load(t.opt, MODEL_PATH);
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline);
        if (!injected) {
            CHECK(status == GT_OK && gt_optimizer_steps(t.opt) == 1);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK(gt_optimizer_steps(t.opt) == steps_before);
        CHECK(same_block(gt_model_data(t.net), params_before, n));
    }
    CHECK(points >= 3);
    free(saved);
    free(params_before);
    trainer_free(&t);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* ---- spec models and .npz files ------------------------------------------------------------ */

#define SPEC "Conv2d(3, 3, padding=1) ReLU MaxPool2d(2) Flatten r=Residual(Linear(18) Tanh) " \
             "Linear(4) LogSoftmax(dim=-1)"
#define SPEC_PATH SCRATCH "/spec.gtc"
#define NPZ_PATH SCRATCH "/spec.npz"

static gt_model *spec_model(uint64_t seed) {
    return gt_model_from_spec(SPEC, 3, (int64_t[]){1, 4, 6}, seed);
}

GT_TEST(spec_models_and_npz_fail_cleanly_at_every_allocation) {
    mkdir(SCRATCH, 0755);
    gt_model *ref = spec_model(3);
    CHECK(ref && gt_model_save(ref, NULL, NULL, 0, SPEC_PATH) == GT_OK &&
          gt_model_export_npz(ref, NPZ_PATH) == GT_OK);
    if (!ref)
        return;
    int64_t n = gt_model_numel(ref), points = 0;
    gt_test_alloc_install(&alloc);
    for (int what = 0; what < 4; what++)
        for (int64_t at = 1;; at++) {
            gt_model *into = what == 3 ? spec_model(9) : NULL;
            gt_real *before = into ? copy_block(gt_model_data(into), n) : NULL;
            int64_t baseline = alloc.live;
            gt_test_alloc_fail_nth(&alloc, at);
            gt_module *parsed = what == 0 ? gt_spec_parse(SPEC) : NULL;
            gt_model *m = what == 1 ? spec_model(3) : what == 2 ? gt_model_load(SPEC_PATH) : NULL;
            gt_status st = what == 3 ? gt_model_import_npz(into, NPZ_PATH) : GT_OK;
            bool injected = gt_test_alloc_disarm(&alloc);
            bool made = what == 0 ? parsed != NULL : what == 3 ? st == GT_OK : m != NULL;
            if (!injected) {
                CHECK(made);
                CHECK(!m || same_block(gt_model_data(m), gt_model_data(ref), n));
                CHECK(!into || same_block(gt_model_data(into), gt_model_data(ref), n));
            } else {
                points++;
                CHECK(!made);
                CHECK_NOMEM();
                CHECK(alloc.live == baseline);
                CHECK(!into || same_block(gt_model_data(into), before, n));
            }
            gt_module_free(parsed);
            gt_model_free(m);
            gt_model_free(into);
            free(before);
            if (!injected)
                break;
        }
    CHECK(points >= 20);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
    gt_model_free(ref);
}

GT_TEST_MAIN()
