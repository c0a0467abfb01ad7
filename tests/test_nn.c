/* test_nn.c - models, initialisation, optimizers and model checkpoints. Optimizer steps
 * are checked against values worked by hand from the update rules written in gt_nn.h; the
 * whole-model gradient checks are in test_model_gradcheck.c. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"
#include "gemm_impl.h" /* gt__gemm_set_parallel_min_flops: every op splits its work */

#include <unistd.h>

#ifdef GT_REAL_DOUBLE
#define STEP_TOL 1e-12
#else
#define STEP_TOL 1e-6
#endif

typedef struct model_case {
    gt_model *model;
    gt_tensor *x, *y;
} model_case;

static model_case make_case(gt_model *model, int ndim, const int64_t *shape, uint64_t seed) {
    model_case c = {model, NULL, NULL};
    gt_test_random_batch(ndim, shape, gt_model_get_config(model)->classes, seed, &c.x, &c.y);
    return c;
}

static void free_case(model_case *c) {
    gt_model_free(c->model);
    gt_tensor_free(c->x);
    gt_tensor_free(c->y);
}

/* ---- models ---------------------------------------------------------------------------- */

GT_TEST(lenet_has_its_shapes_names_and_flop_count) {
    gt_model *m = gt_lenet_new(GT_ACT_TANH, 10, 1);
    CHECK(gt_model_param_count(m) == 10);
    CHECK(gt_model_numel(m) == 61706);
    CHECK(gt_model_flops(m) == 416520);
    CHECK(!strcmp(gt_model_param_name(m, 0), "c1.weight"));
    CHECK(!strcmp(gt_model_param_name(m, 9), "out.bias"));
    CHECK(gt_tensor_dim(gt_model_params(m)[4], 0) == 120);
    /* the parameters are views into one block, in order */
    CHECK(gt_tensor_data(gt_model_params(m)[0]) == gt_model_data(m));
    CHECK(gt_tensor_data(gt_model_params(m)[1]) == gt_model_data(m) + 150);
    CHECK(gt_tensor_grad(gt_model_params(m)[1]) == gt_model_grad(m) + 150);
    char text[128];
    CHECK(!strcmp(gt_model_describe(m, text, sizeof text),
                  "lenet(act=tanh, classes=10): 61706 parameters"));
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_zeros(GT_SHAPE(3, 1, 28, 28));
    gt_tensor *logits = gt_model_forward(tape, m, x);
    CHECK(logits && gt_tensor_ndim(logits) == 2 && gt_tensor_dim(logits, 0) == 3 &&
          gt_tensor_dim(logits, 1) == 10);
    gt_tensor_free(x);
    gt_tape_free(tape);
    gt_model_free(m);
}

GT_TEST(mlp_784_100_10_has_79510_parameters) {
    gt_model *m = gt_mlp_new((int[]){784, 100, 10}, 3, GT_ACT_RELU, 1);
    CHECK(gt_model_numel(m) == 784 * 100 + 100 + 100 * 10 + 10);
    CHECK(gt_model_flops(m) == 79400);
    CHECK(!strcmp(gt_model_param_name(m, 2), "fc2.weight"));
    char text[128];
    CHECK(!strcmp(gt_model_describe(m, text, sizeof text),
                  "mlp(784-100-10, act=relu): 79510 parameters"));
    gt_model_free(m);
}

GT_TEST(initialisation_is_pytorchs_uniform_bound_and_reproducible) {
    gt_model *a = gt_lenet_new(GT_ACT_RELU, 10, 5), *b = gt_lenet_new(GT_ACT_RELU, 10, 5);
    gt_model *c = gt_lenet_new(GT_ACT_RELU, 10, 6);
    CHECK(!memcmp(gt_model_data(a), gt_model_data(b), (size_t)gt_model_numel(a) * sizeof(gt_real)));
    CHECK(memcmp(gt_model_data(a), gt_model_data(c), (size_t)gt_model_numel(a) * sizeof(gt_real)));
    /* fan_in of c3 is 6*5*5 = 150: U(-1/sqrt(150), 1/sqrt(150)) for weight and bias */
    for (int i = 2; i <= 3; i++) {
        gt_tensor *p = gt_model_params(a)[i];
        double bound = 1 / sqrt(150.0), largest = 0, mean = 0;
        for (int64_t k = 0; k < gt_tensor_numel(p); k++) {
            largest = fmax(largest, fabs(gt_tensor_data(p)[k]));
            mean += gt_tensor_data(p)[k] / (double)gt_tensor_numel(p);
        }
        CHECK(largest <= bound);
        if (i == 2) { /* 2400 draws fill the interval */
            CHECK(largest > 0.98 * bound);
            CHECK(fabs(mean) < 0.05 * bound);
        }
    }
    CHECK(!memcmp(gt_model_grad(a), gt_model_grad(c), sizeof(gt_real))); /* zeroed */
    gt_model_free(a);
    gt_model_free(b);
    gt_model_free(c);
}

GT_TEST(kaiming_uniform_follows_the_gain_formula) {
    gt_rng rng;
    gt_rng_seed(&rng, 3);
    gt_tensor *w = gt_zeros(GT_SHAPE(50, 8));
    CHECK(gt_init_kaiming_uniform(w, 0, &rng) == GT_OK); /* a = 0: bound sqrt(6 / 8) */
    double largest = 0;
    for (int64_t k = 0; k < 400; k++)
        largest = fmax(largest, fabs(gt_tensor_data(w)[k]));
    CHECK(largest <= sqrt(6.0 / 8) && largest > 0.97 * sqrt(6.0 / 8));
    CHECK(gt_init_kaiming_uniform(NULL, 0, &rng) == GT_ERR_ARG);
    gt_tensor_free(w);
}

GT_TEST(models_refuse_bad_configurations_and_inputs_with_clear_errors) {
    CHECK(gt_mlp_new((int[]){784}, 1, GT_ACT_RELU, 1) == NULL);
    CHECK_ERROR_HAS("needs 2..17 layer sizes");
    CHECK(gt_mlp_new((int[]){784, 0, 10}, 3, GT_ACT_RELU, 1) == NULL);
    CHECK_ERROR_HAS("layer size 1 is 0");
    CHECK(gt_lenet_new(GT_ACT_TANH, 0, 1) == NULL);
    CHECK_ERROR_HAS("classes must be in");
    CHECK(gt_lenet_new((gt_activation)7, 10, 1) == NULL);
    CHECK_ERROR_HAS("no activation number 7");
    gt_activation act;
    CHECK(gt_activation_parse("gelu", &act) == GT_ERR_ARG);
    CHECK_ERROR_HAS("unknown activation \"gelu\": choose relu, sigmoid or tanh");
    CHECK(gt_activation_parse("tanh", &act) == GT_OK && act == GT_ACT_TANH);

    gt_tape *tape = gt_tape_new();
    gt_model *lenet = gt_lenet_new(GT_ACT_TANH, 10, 1);
    gt_model *mlp = gt_mlp_new((int[]){784, 100, 10}, 3, GT_ACT_RELU, 1);
    gt_tensor *x = gt_zeros(GT_SHAPE(2, 1, 32, 32));
    CHECK(gt_model_forward(tape, lenet, x) == NULL);
    CHECK_ERROR_HAS("lenet: expects x[N,1,28,28], got [2, 1, 32, 32]");
    CHECK(gt_model_forward(tape, mlp, x) == NULL);
    CHECK_ERROR_HAS("mlp: expects x[N, 784] (or N samples of 784 values), got [2, 1, 32, 32]");
    CHECK(gt_model_forward(tape, mlp, NULL) == NULL); /* after a failure: its message stays */
    CHECK_ERROR_HAS("mlp: expects x[N, 784]");
    gt_clear_error();
    CHECK(gt_model_forward(tape, mlp, NULL) == NULL);
    CHECK_ERROR_HAS("model_forward: the input is NULL");
    gt_tensor_free(x);
    gt_model_free(lenet);
    gt_model_free(mlp);
    gt_tape_free(tape);
}

GT_TEST(count_correct_takes_the_first_largest_logit) {
    gt_tensor *logits = gt_from_array(GT_SHAPE(3, 3), (gt_real[]){1, 5, 5, 0, 0, 0, -1, -2, 3});
    gt_tensor *labels = gt_from_array(GT_SHAPE(3), (gt_real[]){1, 0, 2});
    CHECK(gt_count_correct(logits, labels) == 3);
    gt_tensor_data(labels)[0] = 2; /* a tie goes to the first maximum */
    CHECK(gt_count_correct(logits, labels) == 2);
    gt_tensor_free(logits);
    gt_tensor_free(labels);
}

/* ---- optimizers, against values worked by hand ----------------------------------------- */

typedef struct one_param {
    gt_tensor *p;
    gt_optimizer *opt;
} one_param;

/* p = [1, -2]; step with g = [0.5, -1], then g = [0.2, 0.4]; returns p after each step. */
static void two_steps(gt_optimizer *opt, gt_tensor *p, gt_real after[2][2]) {
    const gt_real grads[2][2] = {{0.5, -1.0}, {0.2, 0.4}};
    for (int s = 0; s < 2; s++) {
        memcpy(gt_tensor_grad(p), grads[s], sizeof grads[s]);
        CHECK(gt_optimizer_step(opt) == GT_OK);
        gt_optimizer_zero_grad(opt);
        CHECK(gt_tensor_grad(p)[0] == 0);
        after[s][0] = gt_tensor_data(p)[0];
        after[s][1] = gt_tensor_data(p)[1];
    }
}

static gt_tensor *param_1_minus_2(void) {
    gt_tensor *p = gt_from_array(GT_SHAPE(2), (gt_real[]){1, -2});
    gt_tensor_set_requires_grad(p, true);
    return p;
}

GT_TEST(sgd_with_momentum_dampening_and_weight_decay_matches_the_hand_computation) {
    /* lr 0.1, momentum 0.9, dampening 0.5, weight decay 0.1
     * step 1: d = g + 0.1 p = [0.6, -1.2]; buf = d; p = [1 - 0.06, -2 + 0.12] = [0.94, -1.88]
     * step 2: d = [0.2 + 0.094, 0.4 - 0.188] = [0.294, 0.212]
     *         buf = 0.9 [0.6, -1.2] + 0.5 d = [0.687, -0.974]
     *         p = [0.94 - 0.0687, -1.88 + 0.0974] = [0.8713, -1.7826] */
    gt_tensor *p = param_1_minus_2();
    gt_optimizer *opt = gt_sgd_new(&p, 1, &(gt_sgd_config){.lr = 0.1, .momentum = 0.9,
                                                          .dampening = 0.5, .weight_decay = 0.1});
    gt_real after[2][2];
    two_steps(opt, p, after);
    CHECK_CLOSE(after[0][0], 0.94, STEP_TOL);
    CHECK_CLOSE(after[0][1], -1.88, STEP_TOL);
    CHECK_CLOSE(after[1][0], 0.8713, STEP_TOL);
    CHECK_CLOSE(after[1][1], -1.7826, STEP_TOL);
    CHECK(gt_optimizer_steps(opt) == 2);
    gt_optimizer_free(opt);
    gt_tensor_free(p);
}

GT_TEST(sgd_nesterov_matches_the_hand_computation) {
    /* lr 0.1, momentum 0.9, nesterov
     * step 1: buf = g = [0.5, -1]; d = g + 0.9 buf = [0.95, -1.9]; p = [0.905, -1.81]
     * step 2: buf = 0.9 [0.5, -1] + [0.2, 0.4] = [0.65, -0.5]
     *         d = [0.2 + 0.585, 0.4 - 0.45] = [0.785, -0.05]; p = [0.8265, -1.805] */
    gt_tensor *p = param_1_minus_2();
    gt_optimizer *opt =
        gt_sgd_new(&p, 1, &(gt_sgd_config){.lr = 0.1, .momentum = 0.9, .nesterov = true});
    gt_real after[2][2];
    two_steps(opt, p, after);
    CHECK_CLOSE(after[0][0], 0.905, STEP_TOL);
    CHECK_CLOSE(after[0][1], -1.81, STEP_TOL);
    CHECK_CLOSE(after[1][0], 0.8265, STEP_TOL);
    CHECK_CLOSE(after[1][1], -1.805, STEP_TOL);
    gt_optimizer_free(opt);
    gt_tensor_free(p);
}

GT_TEST(plain_sgd_is_p_minus_lr_g) {
    /* lr 0.5: [1 - 0.25, -2 + 0.5] = [0.75, -1.5]; then [0.75 - 0.1, -1.5 - 0.2] */
    gt_tensor *p = param_1_minus_2();
    gt_optimizer *opt = gt_sgd_new(&p, 1, &(gt_sgd_config){.lr = 0.5});
    gt_real after[2][2];
    two_steps(opt, p, after);
    CHECK_CLOSE(after[0][0], 0.75, STEP_TOL);
    CHECK_CLOSE(after[1][0], 0.65, STEP_TOL);
    CHECK_CLOSE(after[1][1], -1.7, STEP_TOL);
    gt_optimizer_free(opt);
    gt_tensor_free(p);
}

GT_TEST(adam_matches_the_hand_computation) {
    /* lr 0.1, betas (0.9, 0.999), eps 1e-8
     * step 1: m = 0.1 g, v = 0.001 g^2, m^ = g, v^ = g^2: p -= 0.1 g / (|g| + 1e-8)
     *         = [0.9 + 2e-9, -1.9 - 1e-9]
     * step 2: m = [0.065, -0.05], v = [0.00028975, 0.001159]
     *         m^ = m / 0.19, v^ = v / 0.001999, p -= 0.1 m^ / (sqrt(v^) + 1e-8)
     *         = [0.810142483903, -1.865439416663] */
    gt_tensor *p = param_1_minus_2();
    gt_adam_config config = gt_adam_defaults();
    config.lr = 0.1;
    gt_optimizer *opt = gt_adam_new(&p, 1, &config);
    gt_real after[2][2];
    two_steps(opt, p, after);
    CHECK_CLOSE(after[0][0], 0.900000002, STEP_TOL);
    CHECK_CLOSE(after[0][1], -1.900000001, STEP_TOL);
    CHECK_CLOSE(after[1][0], 0.810142483903, STEP_TOL);
    CHECK_CLOSE(after[1][1], -1.865439416663, STEP_TOL);
    gt_optimizer_free(opt);
    gt_tensor_free(p);

    /* with weight decay 0.1 the gradient is g + 0.1 p: [0.807281460507, -1.846831886459] */
    p = param_1_minus_2();
    config.weight_decay = 0.1;
    opt = gt_adam_new(&p, 1, &config);
    two_steps(opt, p, after);
    CHECK_CLOSE(after[1][0], 0.807281460507, STEP_TOL);
    CHECK_CLOSE(after[1][1], -1.846831886459, STEP_TOL);
    gt_optimizer_free(opt);
    gt_tensor_free(p);
}

GT_TEST(adam_defaults_are_pytorchs) {
    gt_adam_config c = gt_adam_defaults();
    CHECK(c.lr == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.eps == 1e-8 &&
          c.weight_decay == 0);
}

GT_TEST(optimizers_refuse_bad_settings_naming_the_value) {
    gt_tensor *p = param_1_minus_2(), *plain = gt_zeros(GT_SHAPE(2));
    CHECK(!gt_sgd_new(&p, 1, &(gt_sgd_config){.lr = -1}));
    CHECK_ERROR_HAS("sgd: lr must be a finite number >= 0");
    CHECK(!gt_sgd_new(&p, 1, &(gt_sgd_config){.lr = 0.1, .nesterov = true}));
    CHECK_ERROR_HAS("nesterov needs momentum > 0 and dampening 0");
    CHECK(!gt_sgd_new(&plain, 1, &(gt_sgd_config){.lr = 0.1}));
    CHECK_ERROR_HAS("parameter 0 is not a leaf that requires a gradient");
    CHECK(!gt_sgd_new((gt_tensor *[]){p, p}, 2, &(gt_sgd_config){.lr = 0.1}));
    CHECK_ERROR_HAS("parameter 1 is also parameter 0");
    gt_adam_config c = gt_adam_defaults();
    c.beta2 = 1;
    CHECK(!gt_adam_new(&p, 1, &c));
    CHECK_ERROR_HAS("adam: bad beta2");
    CHECK(gt_optimizer_step(NULL) == GT_ERR_ARG);
    gt_tensor_free(p);
    gt_tensor_free(plain);
}

/* ---- training and checkpoints ------------------------------------------------------------ */

/* A step of SGD on the model over a fixed random batch; returns the loss before it. */
static double train_step(gt_model *m, gt_optimizer *opt, gt_tape *tape, const model_case *data) {
    gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, m, data->x), data->y);
    double value = gt_tensor_item(loss, 0);
    CHECK(loss && gt_backward(tape, loss) == GT_OK);
    CHECK(gt_optimizer_step(opt) == GT_OK);
    gt_model_zero_grad(m);
    gt_tape_reset(tape);
    return value;
}

GT_TEST(a_model_learns_a_fixed_batch) {
    gt_model *m = gt_lenet_new(GT_ACT_RELU, 10, 11);
    model_case data = make_case(m, GT_SHAPE(8, 1, 28, 28), 12);
    gt_adam_config adam = gt_adam_defaults();
    gt_optimizer *opt = gt_adam_new(gt_model_params(m), gt_model_param_count(m), &adam);
    gt_tape *tape = gt_tape_new();
    double first = train_step(m, opt, tape, &data), last = first;
    for (int i = 0; i < 60; i++)
        last = train_step(m, opt, tape, &data);
    printf("  lenet, adam, on 8 random images: loss %.4f -> %.4f\n", first, last);
    CHECK(last < 0.5 * first);
    gt_tape_free(tape);
    gt_optimizer_free(opt);
    free_case(&data);
}

static char *temp_path(const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "%s/test_nn_%s_%d_%s", GT_BINARY_DIR, GT_REAL_NAME,
             (int)getpid(), name);
    return path;
}

GT_TEST(resuming_from_a_checkpoint_continues_exactly_where_training_stopped) {
    const char *path = temp_path("resume.gtc");
    gt_adam_config adam = gt_adam_defaults();
    for (int kind = 0; kind < 2; kind++) {
        /* straight: 6 steps; resumed: 3 steps, save, load into fresh objects, 3 steps */
        gt_model *straight = gt_mlp_new((int[]){36, 9, 4}, 3, GT_ACT_TANH, 3);
        gt_model *first = gt_mlp_new((int[]){36, 9, 4}, 3, GT_ACT_TANH, 3);
        model_case data = make_case(straight, GT_SHAPE(5, 36), 4);
        gt_sgd_config sgd = {.lr = 0.1, .momentum = 0.9, .nesterov = true};
        gt_optimizer *opt_s =
            kind ? gt_adam_new(gt_model_params(straight), 4, &adam)
                 : gt_sgd_new(gt_model_params(straight), 4, &sgd);
        gt_optimizer *opt_f = kind ? gt_adam_new(gt_model_params(first), 4, &adam)
                                   : gt_sgd_new(gt_model_params(first), 4, &sgd);
        gt_tape *tape = gt_tape_new();
        for (int i = 0; i < 3; i++) {
            train_step(straight, opt_s, tape, &data);
            train_step(first, opt_f, tape, &data);
        }
        CHECK(gt_model_save(first, opt_f, &(gt_ckpt_config){"epoch", 3}, 1, path) == GT_OK);
        gt_optimizer_free(opt_f);
        gt_model_free(first);

        gt_model *resumed = gt_model_load(path);
        CHECK(resumed != NULL);
        gt_optimizer *opt_r = kind ? gt_adam_new(gt_model_params(resumed), 4, &adam)
                                   : gt_sgd_new(gt_model_params(resumed), 4, &sgd);
        CHECK(gt_optimizer_load(opt_r, path) == GT_OK);
        CHECK(gt_optimizer_steps(opt_r) == 3);
        int64_t epoch = 0;
        CHECK(gt_checkpoint_get(path, "epoch", &epoch) == GT_OK && epoch == 3);
        for (int i = 0; i < 3; i++) {
            double a = train_step(straight, opt_s, tape, &data);
            double b = train_step(resumed, opt_r, tape, &data);
            CHECK(a == b);
        }
        CHECK(!memcmp(gt_model_data(straight), gt_model_data(resumed),
                      (size_t)gt_model_numel(straight) * sizeof(gt_real)));
        gt_tape_free(tape);
        gt_optimizer_free(opt_s);
        gt_optimizer_free(opt_r);
        gt_model_free(resumed);
        data.model = straight;
        free_case(&data);
    }
    unlink(path);
}

GT_TEST(a_lenet_checkpoint_round_trips_and_wrong_files_are_refused) {
    char path[256]; /* a copy: temp_path's buffer is reused for missing.gtc below */
    snprintf(path, sizeof path, "%s", temp_path("lenet.gtc"));
    gt_model *m = gt_lenet_new(GT_ACT_RELU, 7, 9);
    CHECK(gt_model_save(m, NULL, NULL, 0, path) == GT_OK);
    gt_model *back = gt_model_load(path);
    CHECK(back && gt_model_get_config(back)->kind == GT_MODEL_LENET &&
          gt_model_get_config(back)->classes == 7 && gt_model_get_config(back)->act == GT_ACT_RELU);
    CHECK(back && !memcmp(gt_model_data(m), gt_model_data(back),
                          (size_t)gt_model_numel(m) * sizeof(gt_real)));
    /* no optimizer state was saved */
    gt_optimizer *opt = gt_sgd_new(gt_model_params(m), 10, &(gt_sgd_config){.lr = 0.1});
    CHECK(gt_optimizer_load(opt, path) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("holds no optimizer state");
    CHECK(gt_checkpoint_get(path, "epoch", &(int64_t){0}) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("has no \"epoch\" entry");
    /* an optimizer over other parameters is refused */
    gt_tensor *p = param_1_minus_2();
    gt_optimizer *other = gt_sgd_new(&p, 1, &(gt_sgd_config){.lr = 0.1});
    CHECK(gt_model_save(m, other, NULL, 0, path) == GT_ERR_ARG);
    CHECK_ERROR_HAS("the optimizer is not over this model's parameters");
    /* truncated: the file's path and the problem */
    FILE *f = fopen(path, "r+b");
    CHECK(f && fseek(f, 0, SEEK_END) == 0);
    long size = ftell(f);
    fclose(f);
    CHECK(truncate(path, size / 2) == 0);
    CHECK(gt_model_load(path) == NULL);
    CHECK_ERROR_HAS(path);
    CHECK_ERROR_HAS("truncated");
    CHECK(gt_model_load(temp_path("missing.gtc")) == NULL);
    CHECK_ERROR_HAS("missing.gtc");
    gt_optimizer_free(opt);
    gt_optimizer_free(other);
    gt_tensor_free(p);
    gt_model_free(back);
    gt_model_free(m);
    unlink(path);
}

GT_TEST(evaluate_reports_loss_and_accuracy_over_a_data_set) {
    /* 4 images of 2x2 pixels; an MLP whose logits are [pixel sum, 255 - pixel sum]-like */
    uint8_t images[16] = {255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0, 0, 10};
    uint8_t labels[4] = {0, 1, 0, 0};
    gt_dataset data = {4, 2, 2, 2, images, labels};
    gt_model *m = gt_mlp_new((int[]){4, 2}, 2, GT_ACT_RELU, 1);
    gt_real *w = gt_model_data(m); /* fc1.weight [2,4], fc1.bias [2] */
    for (int i = 0; i < 4; i++) {
        w[i] = 1;
        w[4 + i] = -1;
    }
    w[8] = -1.5; /* class 0 when the pixel sum exceeds 0.75 */
    w[9] = 1.5;
    gt_tape *tape = gt_tape_new();
    gt_eval_result r;
    CHECK(gt_model_evaluate(m, tape, &data, 3, 0, &r) == GT_OK);
    CHECK(r.count == 4);
    CHECK_CLOSE(r.accuracy, 0.75, 1e-12); /* the last image is dark but labelled 0 */
    CHECK(r.loss > 0 && isfinite(r.loss));
    CHECK(gt_tape_grad_enabled(tape));
    CHECK(gt_model_evaluate(m, tape, &data, 2, 2, &r) == GT_OK && r.count == 2 &&
          r.accuracy == 1);
    gt_tape_free(tape);
    gt_model_free(m);
}

/* Loss, logits and every gradient of one LeNet-5 step (forward, backward) on `threads`
 * threads, into out (numel gradients, then the loss). */
static void lenet_step_on(int threads, gt_real *out) {
    gt_set_threads(threads);
    model_case c = make_case(gt_lenet_new(GT_ACT_TANH, 10, 5), GT_SHAPE(9, 1, 28, 28), 6);
    gt_tape *tape = gt_tape_new();
    gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, c.model, c.x), c.y);
    CHECK(loss && gt_backward(tape, loss) == GT_OK);
    int64_t n = gt_model_numel(c.model);
    memcpy(out, gt_model_grad(c.model), (size_t)n * sizeof(gt_real));
    out[n] = loss ? gt_tensor_item(loss, 0) : 0;
    gt_tape_free(tape);
    free_case(&c);
}

GT_TEST(lenet_gives_the_same_bits_on_one_and_on_two_threads) {
    /* with no threshold every op that can splits its work (conv2d's groups, the GEMMs, the
     * pools, the activations), even for these few images */
    int threads = gt_get_threads();
    int64_t threshold = gt__gemm_set_parallel_min_flops(0);
    size_t count = 61706 + 1;
    gt_real *one = calloc(count, sizeof(gt_real)), *two = calloc(count, sizeof(gt_real));
    lenet_step_on(1, one);
    lenet_step_on(2, two);
    CHECK(memcmp(one, two, count * sizeof(gt_real)) == 0);
    CHECK(one[count - 1] > 0);
    free(one), free(two);
    gt__gemm_set_parallel_min_flops(threshold);
    gt_set_threads(threads);
}

/* conv2d on 54 images of [8,14,14], 16 maps of 5x5 with padding 2: 18 batch groups of 3,
 * whose weight gradients add up in 16 chunks (two of them two groups long), on `threads`
 * threads -> out: grad_x, grad_w, grad_b (the output gradient r is the same each time). */
enum { CONV_N = 54, CONV_C = 8, CONV_HW = 14, CONV_O = 16, CONV_K = 5 };
#define CONV_XN (CONV_N * CONV_C * CONV_HW * CONV_HW)
#define CONV_WN (CONV_O * CONV_C * CONV_K * CONV_K)
#define CONV_YN (CONV_N * CONV_O * CONV_HW * CONV_HW)

static void conv_grads_on(int threads, gt_real *out) {
    gt_set_threads(threads);
    gt_rng rng;
    gt_rng_seed(&rng, 11);
    gt_tensor *x = gt_randn(GT_SHAPE(CONV_N, CONV_C, CONV_HW, CONV_HW), 0, 1, &rng);
    gt_tensor *w = gt_randn(GT_SHAPE(CONV_O, CONV_C, CONV_K, CONV_K), 0, 1, &rng);
    gt_tensor *b = gt_randn(GT_SHAPE(CONV_O), 0, 1, &rng);
    gt_tensor *r = gt_randn(GT_SHAPE(CONV_N, CONV_O, CONV_HW, CONV_HW), 0, 1, &rng);
    CHECK(x && w && b && r);
    gt_tensor_set_requires_grad(x, true);
    gt_tensor_set_requires_grad(w, true);
    gt_tensor_set_requires_grad(b, true);
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_conv2d(tape, x, w, b, 1, 2);
    CHECK(y && gt_backward_with(tape, y, r) == GT_OK);
    memcpy(out, gt_tensor_grad(x), CONV_XN * sizeof(gt_real));
    memcpy(out + CONV_XN, gt_tensor_grad(w), CONV_WN * sizeof(gt_real));
    memcpy(out + CONV_XN + CONV_WN, gt_tensor_grad(b), CONV_O * sizeof(gt_real));
    /* the weight gradient of every chunk counted once: against a plain sum in double */
    const gt_real *xd = gt_tensor_data(x), *rd = gt_tensor_data(r), *gw = gt_tensor_grad(w);
    for (int o = 0; o < CONV_O; o += 5)
        for (int c = 0; c < CONV_C; c += 3)
            for (int i = 0; i < CONV_K; i += 2) {
                int j = (o + c + i) % CONV_K;
                double sum = 0;
                for (int n = 0; n < CONV_N; n++)
                    for (int oy = 0; oy < CONV_HW; oy++)
                        for (int ox = 0; ox < CONV_HW; ox++) {
                            int yy = oy + i - 2, xx = ox + j - 2;
                            if (yy >= 0 && yy < CONV_HW && xx >= 0 && xx < CONV_HW)
                                sum += rd[((n * CONV_O + o) * CONV_HW + oy) * CONV_HW + ox] *
                                       xd[((n * CONV_C + c) * CONV_HW + yy) * CONV_HW + xx];
                        }
                CHECK_CLOSE(gw[((o * CONV_C + c) * CONV_K + i) * CONV_K + j], sum,
                            1e-3 * fmax(1.0, fabs(sum)));
            }
    gt_tape_free(tape);
    gt_tensor_free(x), gt_tensor_free(w), gt_tensor_free(b), gt_tensor_free(r);
}

/* run(threads, out) on 2 and 3 threads gives count values with the same bits as on 1, with
 * every job split over the threads (no flop threshold) */
static void check_same_bits_on_one_two_and_three(void (*run)(int, gt_real *), size_t count) {
    int threads = gt_get_threads();
    int64_t threshold = gt__gemm_set_parallel_min_flops(0);
    gt_real *one = calloc(count, sizeof(gt_real)), *other = calloc(count, sizeof(gt_real));
    run(1, one);
    for (int t = 2; t <= 3; t++) {
        run(t, other);
        CHECK(memcmp(one, other, count * sizeof(gt_real)) == 0);
    }
    free(one), free(other);
    gt__gemm_set_parallel_min_flops(threshold);
    gt_set_threads(threads);
}

GT_TEST(conv2d_gradients_are_the_same_bits_on_one_two_and_three_threads) {
    check_same_bits_on_one_two_and_three(conv_grads_on, CONV_XN + CONV_WN + CONV_O);
}

/* max_pool2d 2x2 on [3,5,10,36] (rows of 18 outputs: a vector of 16 and a tail on the
 * AVX-512 path) with many ties and a few NaNs, on `threads` threads -> out: the pooled
 * values, the gradient of an intermediate input (stale: the pool writes it whole), then of
 * a leaf used twice (the pool adds into what the other use wrote, through the window codes) */
enum { MP_N = 3 * 5 * 10 * 36, MP_OUT = MP_N / 4 };

static void maxpool_2x2_on(int threads, gt_real *out) {
    gt_set_threads(threads);
    gt_rng rng;
    gt_rng_seed(&rng, 14);
    gt_tensor *x = gt_empty(GT_SHAPE(3, 5, 10, 36)), *up = gt_empty(GT_SHAPE(3, 5, 5, 18));
    for (int64_t i = 0; i < MP_N; i++)
        gt_tensor_data(x)[i] = gt_rng_below(&rng, 50) ? (gt_real)gt_rng_below(&rng, 3) : NAN;
    for (int64_t i = 0; i < MP_OUT; i++)
        gt_tensor_data(up)[i] = i % 5 == 0 ? (gt_real)-0.0 : (gt_real)(i % 7) - 3;
    gt_tensor_set_requires_grad(x, true);
    gt_tape *tape = gt_tape_new();
    gt_tensor *mid = gt_scale(tape, x, 1.0), *y = gt_maxpool2d(tape, mid, 2, 2);
    CHECK(y && gt_backward_with(tape, y, up) == GT_OK);
    memcpy(out, gt_tensor_data(y), MP_OUT * sizeof(gt_real));
    memcpy(out + MP_OUT, gt_tensor_grad(mid), MP_N * sizeof(gt_real));
    gt_tape_reset(tape);
    gt_tensor_zero_grad(x);
    gt_tensor *pooled = gt_maxpool2d(tape, x, 2, 2), *twice = gt_scale(tape, x, 0.5);
    gt_tensor *loss = gt_add(tape, gt_sum(tape, gt_mul(tape, pooled, up), GT_ALL_AXES),
                             gt_sum(tape, twice, GT_ALL_AXES));
    CHECK(loss && gt_backward(tape, loss) == GT_OK);
    memcpy(out + MP_OUT + MP_N, gt_tensor_grad(x), MP_N * sizeof(gt_real));
    gt_tape_free(tape);
    gt_tensor_free(x), gt_tensor_free(up);
}

GT_TEST(maxpool_2x2_gives_the_same_bits_on_every_path_and_one_two_and_three_threads) {
    size_t count = MP_OUT + 2 * MP_N;
    gt_real *portable = calloc(count, sizeof(gt_real)), *other = calloc(count, sizeof(gt_real));
    CHECK(gt__gemm_set_path(GT__GEMM_PORTABLE));
    maxpool_2x2_on(1, portable);
    int nan_windows = 0;
    for (int64_t i = 0; i < MP_OUT; i++)
        nan_windows += isnan(portable[i]);
    CHECK(nan_windows > 0);
    for (int p = GT__GEMM_PORTABLE; p <= GT__GEMM_AVX512; p++) {
        if (!gt__gemm_set_path((gt__gemm_path)p))
            continue;
        maxpool_2x2_on(1, other);
        CHECK(memcmp(portable, other, count * sizeof(gt_real)) == 0);
        check_same_bits_on_one_two_and_three(maxpool_2x2_on, count);
    }
    gt__gemm_set_path(GT__GEMM_AUTO);
    free(portable), free(other);
}

/* The max pools of any window (pool.c's maxpool_any and its AVX-512 kernel): strides 1, 2
 * (the kernel's loads) and 3, 4 (its gathers), padding, dilation, ceil_mode, rows of 1 to
 * 3 vectors of 16 outputs and a tail, and the 1-D pool, on values with many ties, -inf and
 * NaNs. */
static const struct {
    const gt_op_def *op;
    int ndim;
    int64_t shape[4];
    const char *attrs;
} MP_ANY[] = {
    {&gt_op_max_pool2d, 4, {2, 3, 28, 28}, "kernel_size=3, stride=2, padding=1"},
    {&gt_op_max_pool2d, 4, {2, 3, 13, 37}, "kernel_size=3, stride=1, padding=1"},
    {&gt_op_max_pool2d, 4, {1, 2, 5, 70}, "kernel_size=5, stride=2, padding=2"},
    {&gt_op_max_pool2d, 4, {2, 3, 11, 40},
     "kernel_size=[2, 4], stride=[1, 3], padding=[1, 2], dilation=[2, 1], ceil_mode=True"},
    {&gt_op_max_pool2d, 4, {2, 3, 9, 35}, "kernel_size=3, stride=2, padding=1, dilation=3, "
                                          "ceil_mode=True"},
    {&gt_op_max_pool2d, 4, {2, 2, 12, 75}, "kernel_size=[3, 5], stride=[2, 4], padding=[1, 2]"},
    {&gt_op_max_pool2d, 4, {2, 3, 7, 7}, "kernel_size=7"},
    {&gt_op_max_pool1d, 3, {2, 3, 50}, "kernel_size=4, stride=3, padding=2, ceil_mode=True"},
    {&gt_op_max_pool1d, 3, {2, 3, 33}, "kernel_size=3, stride=1, padding=1, dilation=2"},
};
enum { MP_ANY_MAX = 2 * 3 * 28 * 28 * 3 }; /* enough for every case's values and gradient */
static int mp_any_case;

/* MP_ANY[mp_any_case] on `threads` threads -> out: the pooled values, then the gradient of
 * the input (through the argmax), zeros after */
static void maxpool_any_on(int threads, gt_real *out) {
    gt_set_threads(threads);
    const gt_op_def *op = MP_ANY[mp_any_case].op;
    char args[GT_OP_ARGS_MAX];
    CHECK(gt_op_args_parse(op, MP_ANY[mp_any_case].attrs, args) == GT_OK);
    gt_rng rng;
    gt_rng_seed(&rng, 15 + (uint64_t)mp_any_case);
    gt_tensor *x = gt_empty(MP_ANY[mp_any_case].ndim, MP_ANY[mp_any_case].shape);
    for (int64_t i = 0; i < gt_tensor_numel(x); i++) {
        uint64_t r = gt_rng_below(&rng, 60);
        gt_tensor_data(x)[i] = r == 0 ? NAN : r == 1 ? -INFINITY : (gt_real)(r % 4);
    }
    gt_tensor_set_requires_grad(x, true);
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_op_call(tape, op, &x, 1, args);
    CHECK(y != NULL);
    int64_t n = gt_tensor_numel(y);
    CHECK(n + gt_tensor_numel(x) <= MP_ANY_MAX);
    gt_tensor *up = gt_empty(gt_tensor_ndim(y), gt_tensor_shape(y));
    for (int64_t i = 0; i < n; i++)
        gt_tensor_data(up)[i] = (gt_real)(i % 9) - 4;
    CHECK(gt_backward_with(tape, y, up) == GT_OK);
    memset(out, 0, MP_ANY_MAX * sizeof(gt_real));
    memcpy(out, gt_tensor_data(y), (size_t)n * sizeof(gt_real));
    memcpy(out + n, gt_tensor_grad(x), (size_t)gt_tensor_numel(x) * sizeof(gt_real));
    gt_tape_free(tape);
    gt_tensor_free(x), gt_tensor_free(up);
}

GT_TEST(maxpool_of_any_window_gives_the_same_bits_on_every_path_and_one_two_and_three_threads) {
    gt_real *portable = calloc(MP_ANY_MAX, sizeof(gt_real));
    gt_real *other = calloc(MP_ANY_MAX, sizeof(gt_real));
    for (mp_any_case = 0; mp_any_case < (int)(sizeof MP_ANY / sizeof *MP_ANY); mp_any_case++) {
        CHECK(gt__gemm_set_path(GT__GEMM_PORTABLE));
        maxpool_any_on(1, portable);
        for (int p = GT__GEMM_PORTABLE; p <= GT__GEMM_AVX512; p++) {
            if (!gt__gemm_set_path((gt__gemm_path)p))
                continue;
            maxpool_any_on(1, other);
            if (memcmp(portable, other, MP_ANY_MAX * sizeof(gt_real)))
                fprintf(stderr, "  %s(%s): path %d differs from the portable one\n",
                        MP_ANY[mp_any_case].op->name, MP_ANY[mp_any_case].attrs, p);
            CHECK(memcmp(portable, other, MP_ANY_MAX * sizeof(gt_real)) == 0);
            check_same_bits_on_one_two_and_three(maxpool_any_on, MP_ANY_MAX);
        }
    }
    gt__gemm_set_path(GT__GEMM_AUTO);
    free(portable), free(other);
}

/* layer_norm over the last 40 values of [37,5,40]: 185 rows whose weight and bias gradients
 * add up in 16 chunks of 11 or 12 rows, on `threads` threads -> out: grad_x, grad_w, grad_b */
enum { LN_ROWS = 185, LN_LEN = 40 };

static void layer_norm_grads_on(int threads, gt_real *out) {
    gt_set_threads(threads);
    gt_rng rng;
    gt_rng_seed(&rng, 12);
    gt_tensor *x = gt_randn(GT_SHAPE(37, 5, LN_LEN), 0, 1, &rng);
    gt_tensor *w = gt_randn(GT_SHAPE(LN_LEN), 0, 1, &rng);
    gt_tensor *b = gt_randn(GT_SHAPE(LN_LEN), 0, 1, &rng);
    gt_tensor *r = gt_randn(GT_SHAPE(37, 5, LN_LEN), 0, 1, &rng);
    CHECK(x && w && b && r);
    gt_tensor_set_requires_grad(x, true);
    gt_tensor_set_requires_grad(w, true);
    gt_tensor_set_requires_grad(b, true);
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_layer_norm(tape, x, GT_INTS(LN_LEN), w, b, 1e-5);
    CHECK(y && gt_backward_with(tape, y, r) == GT_OK);
    memcpy(out, gt_tensor_grad(x), LN_ROWS * LN_LEN * sizeof(gt_real));
    memcpy(out + LN_ROWS * LN_LEN, gt_tensor_grad(w), LN_LEN * sizeof(gt_real));
    memcpy(out + (LN_ROWS + 1) * LN_LEN, gt_tensor_grad(b), LN_LEN * sizeof(gt_real));
    /* every chunk's sums counted once: against plain sums in double */
    const gt_real *xd = gt_tensor_data(x), *rd = gt_tensor_data(r);
    for (int e = 0; e < LN_LEN; e += 3) {
        double sw = 0, sb = 0;
        for (int row = 0; row < LN_ROWS; row++) {
            const gt_real *xr = xd + row * LN_LEN;
            double mean = 0, var = 0;
            for (int i = 0; i < LN_LEN; i++)
                mean += xr[i] / (double)LN_LEN;
            for (int i = 0; i < LN_LEN; i++)
                var += (xr[i] - mean) * (xr[i] - mean) / LN_LEN;
            sw += rd[row * LN_LEN + e] * (xr[e] - mean) / sqrt(var + 1e-5);
            sb += rd[row * LN_LEN + e];
        }
        CHECK_CLOSE(gt_tensor_grad(w)[e], sw, 1e-3 * fmax(1.0, fabs(sw)));
        CHECK_CLOSE(gt_tensor_grad(b)[e], sb, 1e-3 * fmax(1.0, fabs(sb)));
    }
    gt_tape_free(tape);
    gt_tensor_free(x), gt_tensor_free(w), gt_tensor_free(b), gt_tensor_free(r);
}

GT_TEST(layer_norm_gradients_are_the_same_bits_on_one_two_and_three_threads) {
    check_same_bits_on_one_two_and_three(layer_norm_grads_on, (LN_ROWS + 2) * LN_LEN);
}

/* (x * w + b) / d on [37,5,40] with w [5,1], b [40], d [37,1,40] (every op split over threads
 * for the test; broadcast operands' gradients summed on one): y, grad_x, grad_w, grad_b,
 * grad_d on `threads` threads */
enum { BC_N = 37 * 5 * 40 };

static void broadcast_grads_on(int threads, gt_real *out) {
    gt_set_threads(threads);
    gt_rng rng;
    gt_rng_seed(&rng, 13);
    gt_tensor *x = gt_randn(GT_SHAPE(37, 5, 40), 0, 1, &rng);
    gt_tensor *w = gt_randn(GT_SHAPE(5, 1), 0, 1, &rng);
    gt_tensor *b = gt_randn(GT_SHAPE(40), 0, 1, &rng);
    gt_tensor *d = gt_rand(GT_SHAPE(37, 1, 40), 1, 2, &rng);
    gt_tensor *r = gt_randn(GT_SHAPE(37, 5, 40), 0, 1, &rng);
    CHECK(x && w && b && d && r);
    gt_tensor *leaves[] = {x, w, b, d};
    for (int k = 0; k < 4; k++)
        gt_tensor_set_requires_grad(leaves[k], true);
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_div(tape, gt_add(tape, gt_mul(tape, x, w), b), d);
    CHECK(y && gt_backward_with(tape, y, r) == GT_OK);
    memcpy(out, gt_tensor_data(y), BC_N * sizeof(gt_real));
    gt_real *at = out + BC_N;
    for (int k = 0; k < 4; k++) {
        int64_t n = gt_tensor_numel(leaves[k]);
        memcpy(at, gt_tensor_grad(leaves[k]), (size_t)n * sizeof(gt_real));
        at += n;
        gt_tensor_free(leaves[k]);
    }
    gt_tensor_free(r);
    gt_tape_free(tape);
}

GT_TEST(broadcast_gradients_are_the_same_bits_on_one_two_and_three_threads) {
    check_same_bits_on_one_two_and_three(broadcast_grads_on, 2 * BC_N + 5 + 40 + 37 * 40);
}

/* Three SGD steps of LeNet-5, of the MLP and of a Linear over the last axis of [C, H, W]
 * samples (linear's N-D input: one GEMM writes its weight's gradient), zeroing the gradients with gt_model_zero_grad
 * (no pass over memory: the next backward writes them) or by reading every gradient after
 * it (gt_tensor_grad zeroes a stale one): the same parameters, bit for bit. */
static void three_steps(gt_model *m, const model_case *c, bool read_after_zero) {
    gt_optimizer *opt = gt_sgd_new(gt_model_params(m), gt_model_param_count(m),
                                   &(gt_sgd_config){.lr = 0.05, .momentum = 0.9});
    gt_tape *tape = gt_tape_new();
    for (int step = 0; step < 3; step++) {
        gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, m, c->x), c->y);
        CHECK(loss && gt_backward(tape, loss) == GT_OK && gt_optimizer_step(opt) == GT_OK);
        gt_model_zero_grad(m);
        for (int i = 0; read_after_zero && i < gt_model_param_count(m); i++)
            (void)gt_tensor_grad(gt_model_params(m)[i]);
        gt_tape_reset(tape);
    }
    gt_tape_free(tape);
    gt_optimizer_free(opt);
}

GT_TEST(model_zero_grad_without_a_pass_over_memory_trains_the_same) {
    const char *spec = "Conv2d(2, 5) Linear(6) Tanh Flatten Linear(10)";
    for (int kind = 0; kind < 3; kind++) {
        gt_model *model =
            kind == 0 ? gt_mlp_new((int[]){784, 30, 10}, 3, GT_ACT_RELU, 3)
            : kind == 1 ? gt_lenet_new(GT_ACT_TANH, 10, 3)
                        : gt_model_from_spec(spec, 3, (int64_t[]){1, 28, 28}, 3);
        model_case c = kind ? make_case(model, GT_SHAPE(3, 1, 28, 28), 4)
                            : make_case(model, GT_SHAPE(3, 784), 4);
        gt_model *twin = kind == 2 ? gt_model_from_spec(spec, 3, (int64_t[]){1, 28, 28}, 3)
                                   : gt_model_new(gt_model_get_config(c.model), 3);
        three_steps(c.model, &c, false);
        three_steps(twin, &c, true);
        int64_t n = gt_model_numel(twin);
        CHECK(memcmp(gt_model_data(c.model), gt_model_data(twin), (size_t)n * sizeof(gt_real)) == 0);
        gt_real *grad = gt_model_grad(c.model); /* after zero_grad: zeros */
        int64_t nonzero = 0;
        for (int64_t i = 0; i < n; i++)
            nonzero += grad[i] != 0;
        CHECK(nonzero == 0);
        gt_model_free(twin);
        free_case(&c);
    }
}

GT_TEST_MAIN()
