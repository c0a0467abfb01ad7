/* test_module.c - the module API (gt_module.h): specs and their errors, shape inference,
 * state_dict names, PyTorch's initialisation, a custom module holding sub-modules, Residual,
 * train/eval mode, the summary, checkpoints of spec models (and of the old MLP files), and
 * the .npz exchange with PyTorch (tests/data/make_modules_oracle.py, and
 * make_modules_bn_oracle.py for batch norm's running statistics in eval mode). */
#include "gt_test.h"
#include "gt_test_alloc.h"

#include <math.h>
#include <string.h>

#define SCRATCH GT_BINARY_DIR "/module_" GT_REAL_NAME
#define ORACLE_SPEC                                                                        \
    "Conv2d(4, 3, padding=1) ReLU MaxPool2d(2) Conv2d(6, 3, bias=False) Tanh AvgPool2d(2) " \
    "Flatten Linear(16) Sigmoid Linear(5) LogSoftmax(dim=-1)"

static gt_model *image_model(const char *spec, uint64_t seed) {
    return gt_model_from_spec(spec, 3, (int64_t[]){1, 28, 28}, seed);
}

static bool has_error_for(const char *spec, const char *needle) {
    gt_module *m = gt_spec_parse(spec);
    bool ok = !m && gt_last_status() == GT_ERR_ARG && strstr(gt_last_error(), needle);
    if (!ok)
        fprintf(stderr, "  spec \"%s\": got \"%s\", expected \"%s\"\n", spec,
                m ? "(parsed)" : gt_last_error(), needle);
    gt_module_free(m);
    return ok;
}

GT_TEST(spec_infers_in_sizes_and_names_parameters_as_pytorch) {
    gt_model *m = image_model("Conv2d(32, 5, padding=2) ReLU MaxPool2d(2) Flatten Linear(128) "
                              "ReLU Linear(10)", 1);
    CHECK(m && gt_model_param_count(m) == 6);
    if (!m)
        return;
    const char *names[] = {"0.weight", "0.bias", "4.weight", "4.bias", "6.weight", "6.bias"};
    int64_t numel[] = {32 * 25, 32, 128 * 32 * 14 * 14, 128, 10 * 128, 10};
    for (int i = 0; i < 6; i++) {
        CHECK(!strcmp(gt_model_param_name(m, i), names[i]));
        CHECK(gt_tensor_numel(gt_model_params(m)[i]) == numel[i]);
    }
    CHECK(gt_model_get_config(m)->kind == GT_MODEL_SPEC && gt_model_get_config(m)->classes == 10);
    CHECK(gt_model_flops(m) == 32 * 25 * 28 * 28 + 128 * 6272 + 1280);
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_zeros(GT_SHAPE(3, 1, 28, 28));
    gt_tensor *y = gt_model_forward(tape, m, x);
    CHECK(y && gt_tensor_ndim(y) == 2 && gt_tensor_dim(y, 0) == 3 && gt_tensor_dim(y, 1) == 10);
    gt_tensor *flat = gt_tensor_wrap(GT_SHAPE(3, 28, 28), gt_tensor_data(x), NULL);
    CHECK(!gt_model_forward(tape, m, flat));
    CHECK_ERROR_HAS("model: expects x[N,1,28,28], got [3, 28, 28]");
    gt_tensor_free(flat);
    gt_tensor_free(x);
    gt_tape_free(tape);
    gt_model_free(m);
}

/* Linear maps the last axis of samples of any rank, as torch.nn.Linear: [4, 24, 24] ->
 * [4, 24, 10], one product of the weight per leading position (4 * 24 of them). */
GT_TEST(linear_maps_the_last_axis_of_samples_of_any_rank) {
    gt_model *m = image_model("Conv2d(4, 5) Linear(10)", 2);
    CHECK(m && gt_model_param_count(m) == 4);
    if (!m)
        return;
    CHECK(gt_tensor_dim(gt_model_params(m)[2], 0) == 10 &&
          gt_tensor_dim(gt_model_params(m)[2], 1) == 24);
    CHECK(gt_model_flops(m) == 4 * 25 * 24 * 24 + 4 * 24 * 24 * 10);
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_zeros(GT_SHAPE(2, 1, 28, 28));
    gt_tensor *y = gt_model_forward(tape, m, x);
    CHECK(y && gt_tensor_ndim(y) == 4 && gt_tensor_dim(y, 0) == 2 && gt_tensor_dim(y, 1) == 4 &&
          gt_tensor_dim(y, 2) == 24 && gt_tensor_dim(y, 3) == 10);
    gt_tensor_free(x);
    gt_tape_free(tape);
    gt_model_free(m);
}

GT_TEST(spec_initialisation_follows_pytorch_default_bounds) {
    gt_model *m = image_model("Conv2d(8, 3, stride=2) Flatten Linear(7)", 3);
    CHECK(m != NULL);
    if (!m)
        return;
    /* weight and bias of a layer are within 1 / sqrt(fan_in), and not all tiny */
    int64_t fan_in[] = {9, 9, 8 * 13 * 13, 8 * 13 * 13};
    for (int i = 0; i < 4; i++) {
        const gt_tensor *t = gt_model_params(m)[i];
        double bound = 1 / sqrt((double)fan_in[i]), largest = 0;
        for (int64_t k = 0; k < gt_tensor_numel(t); k++)
            largest = fmax(largest, fabs(gt_tensor_cdata(t)[k]));
        CHECK(largest <= bound && largest > 0.5 * bound);
    }
    gt_model_free(m);
}

GT_TEST(mlp_and_lenet_are_specs_with_their_names_and_seeded_values) {
    char spec_mlp[] = "mlp", spec_lenet[] = "lenet";
    gt_model *a = gt_mlp_new((int[]){784, 100, 10}, 3, GT_ACT_RELU, 5);
    gt_model *b = gt_model_from_spec(spec_mlp, 1, (int64_t[]){784}, 5);
    gt_model *c = gt_lenet_new(GT_ACT_TANH, 10, 6);
    gt_model *d = image_model(spec_lenet, 6);
    CHECK(a && b && c && d);
    if (a && b && c && d) {
        CHECK(gt_model_numel(a) == gt_model_numel(b) &&
              !memcmp(gt_model_data(a), gt_model_data(b),
                      (size_t)gt_model_numel(a) * sizeof(gt_real)));
        CHECK(gt_model_numel(c) == 61706 && gt_model_flops(c) == 416520);
        CHECK(!memcmp(gt_model_data(c), gt_model_data(d),
                      (size_t)gt_model_numel(c) * sizeof(gt_real)));
        CHECK(!strcmp(gt_model_param_name(b, 0), "fc1.weight"));
        CHECK(!strcmp(gt_model_param_name(d, 9), "out.bias"));
    }
    gt_model_free(a);
    gt_model_free(b);
    gt_model_free(c);
    gt_model_free(d);
}

GT_TEST(bad_specs_name_the_column_the_token_and_what_was_expected) {
    CHECK(has_error_for("Conv2d(32, x)", "column 12: 'x': expected a number, True or False for "
                                         "kernel_size"));
    CHECK(has_error_for("Conv3d(4, 3)", "column 1: 'Conv3d': expected a layer: Linear, Conv1d, "
                                        "Conv2d"));
    CHECK(has_error_for("Flatten relu", "column 9: 'relu': expected a layer of torch.nn: did you "
                                        "mean ReLU?"));
    CHECK(has_error_for("Linear", "column 1: 'Linear': expected '(' and a value for "
                                  "out_features"));
    CHECK(has_error_for("Linear(10", "expected ')' to close Linear("));
    CHECK(has_error_for("Linear(10, 2)", "Linear: bias must be an integer in 0..1, got 2"));
    CHECK(has_error_for("Linear(10, bias=True, bias=False)", "'bias': bias is given twice"));
    CHECK(has_error_for("Linear(out=3)", "'out': expected an argument of Linear (out_features, "
                                         "bias)"));
    CHECK(has_error_for("Linear(bias=False, 3)", "expected a keyword argument"));
    CHECK(has_error_for("Linear(2.5)", "out_features must be an integer"));
    CHECK(has_error_for("ReLU(1)", "expected ')': ReLU takes 0 arguments"));
    CHECK(has_error_for("", "expected at least one layer"));
    CHECK(has_error_for("ReLU )", "column 6: ')': expected a layer, not a ')'"));
    CHECK(has_error_for("Residual(ReLU", "column 9: '(': expected ')' to close it"));
    CHECK(has_error_for("Residual()", "expected at least one layer inside"));
    CHECK(has_error_for("a=ReLU a=Tanh", "already has a child called 'a'"));
    CHECK(has_error_for("MaxPool2d((2, 3))", "expected equal sizes for kernel_size"));
    CHECK(has_error_for("Linear(3)ReLU", "expected a space before the next layer"));
    /* what does not fit the input shape is found at build, naming the layer */
    CHECK(!image_model("Conv2d(4, 29)", 0));
    CHECK_ERROR_HAS("layer 0 Conv2d (input [1, 28, 28]): a 29x29 kernel with padding 0 does not "
                    "fit in 28x28");
    CHECK(!image_model("Flatten Sequential(Linear(4) inner=Sequential(Tanh Conv2d(3, 3)))", 0));
    CHECK_ERROR_HAS("layer 1.inner.1 Conv2d (input [4]): expects samples of [C, H, W] (rank 3), "
                    "got rank 1");
    CHECK(!image_model("Residual(Conv2d(4, 3, padding=1))", 0));
    CHECK_ERROR_HAS("layer 0 Residual (input [1, 28, 28]): its layers map [1, 28, 28] to [4, 28, "
                    "28], but x + f(x) needs the shape kept");
}

/* The pools take torch.nn's arguments; their op infers the shapes and checks at build. */
GT_TEST(pool_layers_take_torch_arguments_and_their_op_checks_them) {
    gt_model *m = image_model("MaxPool2d(3, stride=2, padding=1, ceil_mode=True) "
                              "AvgPool2d(2, padding=1, count_include_pad=False) "
                              "AdaptiveAvgPool2d(3) AdaptiveMaxPool2d(2) Flatten Linear(2)", 4);
    CHECK(m != NULL);
    gt_module *root = m ? gt_model_module(m) : NULL;
    const int64_t sizes[] = {15, 8, 3, 2}; /* as torch.nn: 28 -> 15 -> 8 -> 3 -> 2 */
    for (int i = 0; root && i < 4; i++) {
        const gt_sample_shape *out = gt_module_out_shape(gt_module_child(root, i));
        CHECK(out->ndim == 3 && out->dims[0] == 1 && out->dims[1] == sizes[i] &&
              out->dims[2] == sizes[i]);
    }
    char buf[160];
    if (root) {
        CHECK(!strcmp(gt_module_describe(gt_module_child(root, 0), buf, sizeof buf),
                      "MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True)"));
        CHECK(!strcmp(gt_module_describe(gt_module_child(root, 1), buf, sizeof buf),
                      "AvgPool2d(kernel_size=2, stride=2, padding=1, count_include_pad=False)"));
        CHECK(!strcmp(gt_module_describe(gt_module_child(root, 2), buf, sizeof buf),
                      "AdaptiveAvgPool2d(output_size=3)"));
    }
    gt_model_free(m);
    gt_model *m1 = gt_model_from_spec("MaxPool1d(3, stride=2, padding=1, dilation=2) "
                                      "AvgPool1d(2, ceil_mode=True) Flatten Linear(3)", 2,
                                      (int64_t[]){4, 12}, 5);
    CHECK(m1 && gt_module_out_shape(gt_module_child(gt_model_module(m1), 1))->dims[1] == 3);
    gt_model_free(m1);
    CHECK(!image_model("MaxPool2d(3, padding=2)", 0));
    CHECK_ERROR_HAS("layer 0 MaxPool2d (input [1, 28, 28]): max_pool2d: pad should be at most "
                    "half of kernel size, but got pad=2 and kernel_size=3");
    CHECK(!image_model("AvgPool2d(2, divisor_override=0)", 0));
    CHECK_ERROR_HAS("avg_pool2d: divisor must be not zero");
    CHECK(!image_model("MaxPool1d(2)", 0));
    CHECK_ERROR_HAS("layer 0 MaxPool1d (input [1, 28, 28]): expects samples of [C, L]");
    CHECK(!image_model("AdaptiveAvgPool2d(0)", 0));
    CHECK_ERROR_HAS("adaptive_avg_pool2d: output_size must be >= 1, got 0");
    gt_module *pool = gt_nn_pool(&gt_op_avg_pool2d, "kernel_size=3, divisor_override=2");
    CHECK(pool && !strcmp(gt_module_describe(pool, buf, sizeof buf),
                          "AvgPool2d(kernel_size=3, stride=3, divisor_override=2)"));
    gt_module_free(pool);
    CHECK(!gt_nn_pool(&gt_op_relu, ""));
    CHECK_ERROR_HAS("pool layer: relu is not a pool op");
}

/* Conv1d, Conv2d's dilation, groups and padding='same', ConvTranspose2d: torch.nn's
 * parameter shapes, initialisation bounds, print and multiply-adds; a checkpoint keeps them. */
GT_TEST(conv_layers_follow_torch_nn) {
    const char *spec = "Conv2d(4, 3, padding='same', dilation=2) ConvTranspose2d(6, 3, "
                       "stride=2, padding=1, output_padding=1, groups=2) Flatten Linear(3)";
    gt_model *m = gt_model_from_spec(spec, 3, (int64_t[]){2, 8, 8}, 7);
    CHECK(m && gt_model_param_count(m) == 6);
    if (!m)
        return;
    int64_t shapes[][4] = {{4, 2, 3, 3}, {4}, {4, 3, 3, 3}, {6}};
    int ndims[] = {4, 1, 4, 1};
    double fan_in[] = {18, 18, 27, 27}; /* torch's: weight numel / dim 0, transposed too */
    for (int i = 0; i < 4; i++) {
        const gt_tensor *t = gt_model_params(m)[i];
        CHECK(gt_shape_equal(gt_tensor_ndim(t), gt_tensor_shape(t), ndims[i], shapes[i]));
        double bound = 1 / sqrt(fan_in[i]), largest = 0;
        for (int64_t k = 0; k < gt_tensor_numel(t); k++)
            largest = fmax(largest, fabs(gt_tensor_cdata(t)[k]));
        CHECK(largest <= bound && largest > 0.25 * bound); /* a bias has only 4 or 6 */
    }
    CHECK(!strcmp(gt_model_param_name(m, 2), "1.weight") &&
          !strcmp(gt_model_param_name(m, 3), "1.bias"));
    char text[256];
    gt_module *root = gt_model_module(m);
    CHECK(!strcmp(gt_module_describe(gt_module_child(root, 0), text, sizeof text),
                  "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, "
                  "dilation=(2, 2))"));
    CHECK(!strcmp(gt_module_describe(gt_module_child(root, 1), text, sizeof text),
                  "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                  "output_padding=(1, 1), groups=2)"));
    /* 4*8*8 outputs of 18, 4*8*8 inputs of 27 (to [6, 16, 16]), 1536*3 */
    CHECK(gt_model_flops(m) == 4 * 64 * 18 + 4 * 64 * 27 + 6 * 16 * 16 * 3);
    CHECK(gt_model_save(m, NULL, NULL, 0, SCRATCH "_conv.gtc") == GT_OK);
    gt_model *back = gt_model_load(SCRATCH "_conv.gtc");
    CHECK(back && !strcmp(gt_model_spec(back), spec) && gt_model_numel(back) == gt_model_numel(m));
    CHECK(back && !memcmp(gt_model_data(back), gt_model_data(m),
                          (size_t)gt_model_numel(m) * sizeof(gt_real)));
    gt_model_free(back);
    gt_model_free(m);

    m = gt_model_from_spec("Conv1d(4, 3, padding='valid', groups=2, bias=False) "
                           "Conv1d(2, 3, padding=2, dilation=3) Flatten Linear(2)", 2,
                           (int64_t[]){2, 9}, 7);
    CHECK(m && gt_model_param_count(m) == 5);
    if (m) {
        gt_module *r = gt_model_module(m);
        CHECK(!strcmp(gt_module_describe(gt_module_child(r, 0), text, sizeof text),
                      "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=valid, groups=2, "
                      "bias=False)"));
        CHECK(!strcmp(gt_module_describe(gt_module_child(r, 1), text, sizeof text),
                      "Conv1d(4, 2, kernel_size=(3,), stride=(1,), padding=(2,), "
                      "dilation=(3,))"));
        const gt_tensor *w = gt_model_params(m)[0];
        CHECK(gt_shape_equal(gt_tensor_ndim(w), gt_tensor_shape(w), 3, (int64_t[]){4, 1, 3}));
        gt_tape *tape = gt_tape_new();
        gt_tensor *x = gt_zeros(GT_SHAPE(5, 2, 9));
        gt_tensor *y = gt_model_forward(tape, m, x); /* 9 -> 7 -> 7 + 4 - 6 = 5 */
        CHECK(y && gt_tensor_dim(y, 0) == 5 && gt_tensor_dim(y, 1) == 2);
        CHECK(gt_model_flops(m) == 4 * 7 * 3 + 2 * 5 * 12 + 10 * 2);
        gt_tensor_free(x);
        gt_tape_free(tape);
    }
    gt_model_free(m);

    CHECK(has_error_for("Conv2d(4, 3, padding='full')", "expected one of 'valid|same' for "
                                                        "padding"));
    CHECK(has_error_for("Conv2d(4, 3, padding=-1)", "expected a number >= 0 or one of "
                                                    "'valid|same' for padding"));
    CHECK(has_error_for("Conv2d(4, 3, padding=(-1, -1))", "expected sizes >= 0 or one of "
                                                          "'valid|same' for padding"));
    CHECK(has_error_for("Conv2d(4, 3, stride=2, padding='same')", "Conv2d: padding='same' is "
                                                                  "not supported for strided"));
    CHECK(has_error_for("Conv2d(4, 3, padding_mode='reflect')", "expected one of 'zeros' for "
                                                                "padding_mode"));
    CHECK(has_error_for("ConvTranspose2d(4, 3, padding='same')", "expected a number, True or "
                                                                 "False for padding"));
    CHECK(has_error_for("ConvTranspose2d(4, 3, stride=2, output_padding=2)",
                        "output_padding smaller than stride or dilation"));
    CHECK(!image_model("Conv2d(4, 3, groups=4)", 0));
    CHECK_ERROR_HAS("groups=4 must divide the in channels (1) and the out channels (4)");
    CHECK(!image_model("Conv2d(4, 15, dilation=2)", 0));
    CHECK_ERROR_HAS("a 15x15 kernel with padding 0 and that dilation does not fit in 28x28");
}

GT_TEST(bad_specs_of_norm_dropout_embedding_and_activation_layers_get_clear_errors) {
    CHECK(has_error_for("GELU(approximate='fast')", "column 18: ''fast'': expected one of "
                                                    "'none|tanh' for approximate"));
    CHECK(has_error_for("GELU(1)", "GELU: approximate must be 'none' or 'tanh', got 1"));
    CHECK(has_error_for("Dropout(1.5)", "Dropout: p must be in [0, 1], got 1.5"));
    CHECK(has_error_for("BatchNorm2d(momentum=2)", "momentum in [0, 1] or None"));
    CHECK(has_error_for("BatchNorm1d(eps=0)", "eps > 0"));
    CHECK(has_error_for("BatchNorm2d(4.5)", "BatchNorm2d: num_features must be an integer"));
    CHECK(has_error_for("BatchNorm2d(affine=2)", "affine must be an integer in 0..1, got 2"));
    CHECK(has_error_for("Embedding(10)", "expected a value for embedding_dim"));
    CHECK(has_error_for("LayerNorm", "expected '(' and a value for normalized_shape"));
    CHECK(has_error_for("GroupNorm(2, 5)", "num_groups in 1..16777216 dividing num_channels"));
    CHECK(has_error_for("Hardtanh(1, -1)", "Hardtanh: max_val must be >= min_val, got 1, -1"));
    CHECK(has_error_for("Softplus(beta=0)", "Softplus: beta must not be 0"));
    CHECK(has_error_for("LeakyReLU(slope=0.1)", "expected an argument of LeakyReLU "
                                                "(negative_slope)"));
    CHECK(has_error_for("batchnorm2d", "did you mean BatchNorm2d?"));
    /* what does not fit the input shape is found at build, naming the layer */
    CHECK(!image_model("Conv2d(4, 3) GroupNorm(3)", 0));
    CHECK_ERROR_HAS("layer 1 GroupNorm (input [4, 26, 26]): num_groups 3 does not divide its "
                    "input's 4 channels");
    CHECK(!image_model("LayerNorm(5)", 0));
    CHECK_ERROR_HAS("layer 0 LayerNorm (input [1, 28, 28]): normalized_shape [5] is not the "
                    "end of its samples' shape [1, 28, 28]");
    CHECK(!image_model("Flatten BatchNorm2d", 0));
    CHECK_ERROR_HAS("layer 1 BatchNorm2d (input [784]): expects samples of [C, H, W] (rank 3), "
                    "got rank 1");
    CHECK(!image_model("Conv2d(4, 3) BatchNorm2d(8)", 0));
    CHECK_ERROR_HAS("num_features is 8 but its input has 4 channels");
}

GT_TEST(cnn_is_a_spec_with_batch_norm_buffers_named_as_pytorch) {
    gt_model *m = image_model("cnn", 1);
    CHECK(m && gt_model_numel(m) == 468202 && !strcmp(gt_model_spec(m), "cnn"));
    CHECK(m && gt_model_buffer_count(m) == 12);
    CHECK(m && !strcmp(gt_model_buffer_name(m, 0), "1.running_mean") &&
          !strcmp(gt_model_buffer_name(m, 2), "1.num_batches_tracked") &&
          !strcmp(gt_model_buffer_name(m, 4), "4.running_var"));
    CHECK(m && !strcmp(gt_model_param_name(m, 2), "1.weight") &&
          gt_tensor_cdata(gt_model_params(m)[2])[0] == 1 &&
          gt_tensor_cdata(gt_model_params(m)[3])[0] == 0);
    gt_model_free(m);
}

GT_TEST(batch_norm_counts_batches_and_dropout_is_off_in_eval_mode) {
    gt_model *m = gt_model_from_spec("BatchNorm1d(momentum=None) Dropout(0.5)", 1,
                                     (int64_t[]){2}, 1);
    gt_tensor *x = gt_from_array(GT_SHAPE(2, 2), (const gt_real[]){1, 2, 3, 6});
    gt_tape *tape = gt_tape_new();
    CHECK(m && gt_model_forward(tape, m, x) && gt_model_forward(tape, m, x));
    gt_tensor *const *b = m ? gt_model_buffers(m) : NULL;
    /* momentum None: the running statistics are the plain average of the batches' */
    CHECK(b && gt_tensor_cdata(b[2])[0] == 2 && gt_tensor_cdata(b[0])[0] == 2 &&
          gt_tensor_cdata(b[1])[1] == 8);
    gt_model_train(m, false);
    gt_tensor *y = gt_model_forward(tape, m, x);
    CHECK(y && fabs(gt_tensor_item(y, 1) - (2 - 4) / sqrt(8 + 1e-5)) < 1e-5);
    CHECK(b && gt_tensor_cdata(b[2])[0] == 2);
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_model_free(m);
}

static bool cnn_step(gt_model *m, gt_optimizer *opt, gt_tape *tape, gt_tensor *x, gt_tensor *y) {
    gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, m, x), y);
    bool ok = loss && gt_backward(tape, loss) == GT_OK && gt_optimizer_step(opt) == GT_OK;
    gt_model_zero_grad(m);
    gt_tape_reset(tape);
    return ok;
}

/* --model cnn's layers (batch norm's statistics, dropout's masks) at a small size: after the
 * first step has grown the tape's arena, training allocates nothing (as the MLP and LeNet,
 * test_tape.c; tests/train/valgrind.sh counts gradtape-train's own). */
GT_TEST(training_a_cnn_with_batch_norm_and_dropout_allocates_nothing_per_step) {
    gt_test_alloc alloc = {0};
    gt_test_alloc_install(&alloc);
    gt_model *m = gt_model_from_spec("Conv2d(4, 3, padding=1) BatchNorm2d ReLU MaxPool2d(2) "
                                     "Conv2d(8, 3, padding=1) BatchNorm2d ReLU MaxPool2d(2) "
                                     "Flatten Dropout(0.25) Linear(16) ReLU Dropout(0.5) "
                                     "Linear(10)", 3, (int64_t[]){1, 12, 12}, 3);
    gt_optimizer *opt = gt_sgd_new(gt_model_params(m), gt_model_param_count(m),
                                   &(gt_sgd_config){.lr = 0.05, .momentum = 0.9,
                                                    .weight_decay = 5e-4, .nesterov = true});
    gt_tensor *x, *y;
    gt_test_random_batch(GT_SHAPE(8, 1, 12, 12), 10, 5, &x, &y);
    gt_tape *tape = gt_tape_new();
    CHECK(m && opt && cnn_step(m, opt, tape, x, y)); /* the arena grows to fit one step */
    int64_t after_first = alloc.calls;
    for (int step = 0; step < 2; step++)
        CHECK(cnn_step(m, opt, tape, x, y)); /* may merge chunks once, at reset */
    int64_t after_third = alloc.calls;
    for (int step = 0; step < 5; step++)
        CHECK(cnn_step(m, opt, tape, x, y));
    CHECK(alloc.calls == after_third && after_third - after_first <= 1);
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_tensor_free(y);
    gt_optimizer_free(opt);
    gt_model_free(m);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(spec_accepts_torch_spellings) {
    gt_module *m = gt_spec_parse("  Conv2d(3, kernel_size=(5, 5), stride=1, padding = 2 ,"
                                 " bias=True)\tMaxPool2d(2, None) Flatten(1, -1)  "
                                 "head=Linear(out_features=10, bias=False) ");
    CHECK(m && gt_module_child_count(m) == 4);
    CHECK(m && !strcmp(gt_module_name(gt_module_child(m, 3)), "head"));
    gt_module_free(m);
    for (int i = 0; i < gt_layer_count(); i++)
        CHECK(gt_layer_find(gt_layer_get(i)->type) == gt_layer_get(i));
}

/* ---- a module of one's own: y = second(act(first(x))) + first(x), with its own scale ---- */

typedef struct gated_state {
    int scale; /* the slot of its parameter "scale" [features] */
} gated_state;

static gt_status gated_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    gt_sample_shape mid;
    gated_state *s = gt_module_state(m);
    if (gt_module_build(gt_module_child(m, 0), in, &mid) != GT_OK ||
        gt_module_build(gt_module_child(m, 1), &mid, out) != GT_OK)
        return gt_last_status();
    s->scale = gt_module_add_param(m, "scale", 1, out->dims, GT_INIT_ONES, 0);
    return s->scale < 0 ? gt_last_status() : GT_OK;
}

static gt_tensor *gated_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const gated_state *s = gt_module_cstate(m);
    gt_tensor *h = gt_module_forward(gt_module_child(m, 0), tape, x);
    gt_tensor *y = gt_module_forward(gt_module_child(m, 1), tape, gt_tanh(tape, h));
    return gt_mul(tape, gt_add(tape, y, h), gt_module_param(m, s->scale));
}

static const gt_module_class gated_class = {"Gated", gated_build, gated_forward, NULL};

static gt_module *gated_new(int64_t features) {
    gt_module *m = gt_module_new(&gated_class, NULL, sizeof(gated_state));
    if (m && (gt_module_add_child(m, "first", gt_nn_linear(features, true)) != GT_OK ||
              gt_module_add_child(m, "second", gt_nn_linear(features, true)) != GT_OK)) {
        gt_module_free(m);
        return NULL;
    }
    return m;
}

GT_TEST(a_custom_module_holds_sub_modules_and_trains) {
    gt_module *root = gt_nn_sequential();
    CHECK(gt_module_add_child(root, NULL, gt_nn_flatten()) == GT_OK);
    CHECK(gt_module_add_child(root, "block", gated_new(6)) == GT_OK);
    CHECK(gt_module_add_child(root, NULL, gt_nn_linear(3, true)) == GT_OK);
    gt_model *m = gt_model_from_module(root, 2, (int64_t[]){2, 4}, 7);
    CHECK(m && gt_model_param_count(m) == 7 && gt_model_spec(m) == NULL);
    if (!m)
        return;
    /* own parameters first, then the children's: PyTorch's state_dict order */
    const char *names[] = {"block.scale", "block.first.weight", "block.first.bias",
                           "block.second.weight", "block.second.bias", "2.weight", "2.bias"};
    for (int i = 0; i < 7; i++)
        CHECK(!strcmp(gt_model_param_name(m, i), names[i]));
    CHECK(gt_tensor_item(gt_model_params(m)[0], 0) == 1);
    /* a module has one parent */
    gt_module *twice = gt_nn_sequential(), *child = gt_nn_flatten();
    CHECK(gt_module_add_child(twice, NULL, child) == GT_OK);
    CHECK(gt_module_add_child(twice, NULL, child) == GT_ERR_ARG);
    CHECK_ERROR_HAS("belongs to a parent already");
    gt_module_free(twice);
    /* a few steps of SGD lower the loss */
    gt_tensor *x, *y;
    gt_test_random_batch(GT_SHAPE(16, 2, 4), 3, 11, &x, &y);
    gt_optimizer *opt = gt_sgd_new(gt_model_params(m), gt_model_param_count(m),
                                   &(gt_sgd_config){.lr = 0.3});
    gt_tape *tape = gt_tape_new();
    double first = 0, last = 0;
    for (int step = 0; step < 30; step++) {
        gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, m, x), y);
        CHECK(loss && gt_backward(tape, loss) == GT_OK && gt_optimizer_step(opt) == GT_OK);
        last = loss ? gt_tensor_item(loss, 0) : 0;
        first = step ? first : last;
        gt_model_zero_grad(m);
        gt_tape_reset(tape);
    }
    CHECK(last < 0.8 * first);
    /* saved without a spec: loads only into a model built the same way */
    CHECK(gt_model_save(m, opt, NULL, 0, SCRATCH "_custom.gtc") == GT_OK);
    CHECK(!gt_model_load(SCRATCH "_custom.gtc"));
    CHECK_ERROR_HAS("holds a model built from modules in C, without a spec");
    gt_module *again = gt_nn_sequential();
    gt_module_add_child(again, NULL, gt_nn_flatten());
    gt_module_add_child(again, "block", gated_new(6));
    gt_module_add_child(again, NULL, gt_nn_linear(3, true));
    gt_model *back = gt_model_from_module(again, 2, (int64_t[]){2, 4}, 99);
    CHECK(back && gt_model_load_into(back, SCRATCH "_custom.gtc") == GT_OK);
    CHECK(back && !memcmp(gt_model_data(back), gt_model_data(m),
                          (size_t)gt_model_numel(m) * sizeof(gt_real)));
    gt_model_free(back);
    gt_tape_free(tape);
    gt_optimizer_free(opt);
    gt_tensor_free(x);
    gt_tensor_free(y);
    gt_model_free(m);
}

GT_TEST(residual_adds_its_input) {
    gt_model *m = gt_model_from_spec("Flatten res=Residual(Linear(4) Tanh Linear(4))", 1,
                                     (int64_t[]){4}, 2);
    CHECK(m && !strcmp(gt_model_param_name(m, 0), "res.0.weight") &&
          !strcmp(gt_model_param_name(m, 3), "res.2.bias"));
    if (!m)
        return;
    /* with the last layer zeroed, f(x) = 0 and the output is x */
    memset(gt_tensor_data(gt_model_params(m)[2]), 0, 16 * sizeof(gt_real));
    memset(gt_tensor_data(gt_model_params(m)[3]), 0, 4 * sizeof(gt_real));
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_from_array(GT_SHAPE(1, 4), (const gt_real[]){1, -2, 3, 0.5});
    gt_tensor *y = gt_model_forward(tape, m, x);
    for (int i = 0; y && i < 4; i++)
        CHECK(gt_tensor_item(y, i) == gt_tensor_item(x, i));
    gt_tensor_free(x);
    gt_tape_free(tape);
    gt_model_free(m);
}

/* A module that reports the mode it ran in, and draws from the model's generator. */
static int mode_seen = -1;
static double drawn = -1;

static gt_status probe_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    (void)m;
    *out = *in;
    return GT_OK;
}

static gt_tensor *probe_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    (void)tape;
    mode_seen = gt_module_training(m);
    drawn = gt_module_rng(m) ? gt_rng_uniform(gt_module_rng(m)) : -1;
    return x;
}

static const gt_module_class probe_class = {"Probe", probe_build, probe_forward, NULL};

GT_TEST(train_and_eval_mode_reach_every_module_and_evaluate_switches) {
    gt_module *root = gt_nn_sequential();
    gt_module_add_child(root, NULL, gt_nn_flatten());
    gt_module_add_child(root, NULL, gt_module_new(&probe_class, NULL, 0));
    gt_module_add_child(root, NULL, gt_nn_linear(10, true));
    gt_model *m = gt_model_from_module(root, 3, (int64_t[]){1, 4, 4}, 1);
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_zeros(GT_SHAPE(2, 1, 4, 4));
    CHECK(m && gt_model_is_training(m));
    gt_model_forward(tape, m, x);
    CHECK(mode_seen == 1 && drawn >= 0 && drawn < 1);
    gt_model_train(m, false);
    gt_model_forward(tape, m, x);
    CHECK(mode_seen == 0 && !gt_model_is_training(m));
    gt_model_train(m, true);
    uint8_t images[32] = {0}, labels[2] = {1, 2};
    gt_dataset data = {2, 4, 4, 3, images, labels};
    gt_eval_result result;
    mode_seen = -1;
    CHECK(gt_model_evaluate(m, tape, &data, 2, 0, &result) == GT_OK);
    CHECK(mode_seen == 0 && gt_model_is_training(m));
    gt_tensor_free(x);
    gt_tape_free(tape);
    gt_model_free(m);
}

GT_TEST(summary_prints_a_row_per_layer) {
    gt_model *m = image_model("lenet", 1);
    FILE *out = tmpfile();
    CHECK(m && out && gt_model_summary(m, out) == GT_OK);
    char text[4096] = "";
    if (out) {
        rewind(out);
        text[fread(text, 1, sizeof text - 1, out)] = '\0';
        fclose(out);
    }
    CHECK(strstr(text, "c1") && strstr(text, "[N, 6, 28, 28]") && strstr(text, "117600"));
    CHECK(strstr(text, "out") && strstr(text, "[N, 10]") && strstr(text, "850"));
    CHECK(strstr(text, "total: 61706 parameters, 0 buffer values, 416520 multiply-adds"));
    gt_model_free(m);
}

GT_TEST(clip_grad_norm_scales_gradients_above_the_norm_only) {
    gt_model *m = gt_model_from_spec("Flatten Linear(2)", 1, (int64_t[]){3}, 1);
    gt_real *g = gt_model_grad(m); /* weight [2, 3], bias [2]: a gradient of norm 5 */
    for (int i = 0; i < 8; i++)
        g[i] = 0;
    g[0] = 3;
    g[7] = -4;
    double norm = 0;
    CHECK(gt_clip_grad_norm(gt_model_params(m), 2, 10, &norm) == GT_OK);
    CHECK_CLOSE(norm, 5, 1e-12);
    CHECK(g[0] == 3 && g[7] == -4);
    CHECK(gt_clip_grad_norm(gt_model_params(m), 2, 1, &norm) == GT_OK);
    CHECK_CLOSE(g[0], 3 / (5 + 1e-6), GT_TEST_TOL);
    CHECK_CLOSE(g[7], -4 / (5 + 1e-6), GT_TEST_TOL);
    CHECK(gt_clip_grad_norm(gt_model_params(m), 2, 0, &norm) == GT_ERR_ARG);
    CHECK_ERROR_HAS("finite max_norm > 0");
    gt_model_free(m);
}

/* ---- checkpoints ------------------------------------------------------------------------------ */

GT_TEST(spec_model_checkpoint_round_trip_with_optimizer_state) {
    const char *spec = "Conv2d(3, 3, stride=2, padding=1) ReLU Flatten Linear(5)";
    gt_model *m = gt_model_from_spec(spec, 3, (int64_t[]){1, 6, 6}, 4);
    gt_optimizer *opt = gt_adam_new(gt_model_params(m), gt_model_param_count(m),
                                    &(gt_adam_config){0.01, 0.9, 0.999, 1e-8, 0});
    gt_tensor *x, *y;
    gt_test_random_batch(GT_SHAPE(4, 1, 6, 6), 5, 3, &x, &y);
    gt_tape *tape = gt_tape_new();
    for (int step = 0; step < 3; step++) {
        gt_backward(tape, gt_cross_entropy(tape, gt_model_forward(tape, m, x), y));
        gt_optimizer_step(opt);
        gt_model_zero_grad(m);
        gt_tape_reset(tape);
    }
    CHECK(gt_model_save(m, opt, (gt_ckpt_config[]){{"epoch", 2}}, 1, SCRATCH "_spec.gtc") ==
          GT_OK);
    char text[256];
    CHECK(gt_checkpoint_get_text(SCRATCH "_spec.gtc", "spec", text, sizeof text) == GT_OK &&
          !strcmp(text, spec));
    gt_model *back = gt_model_load(SCRATCH "_spec.gtc");
    CHECK(back && !strcmp(gt_model_spec(back), spec));
    CHECK(back && gt_model_input_shape(back)->ndim == 3 && gt_model_input_shape(back)->dims[2] == 6);
    CHECK(back && !memcmp(gt_model_data(back), gt_model_data(m),
                          (size_t)gt_model_numel(m) * sizeof(gt_real)));
    if (back) {
        gt_optimizer *opt2 = gt_adam_new(gt_model_params(back), gt_model_param_count(back),
                                         &(gt_adam_config){0.01, 0.9, 0.999, 1e-8, 0});
        CHECK(gt_optimizer_load(opt2, SCRATCH "_spec.gtc") == GT_OK &&
              gt_optimizer_steps(opt2) == 3);
        /* one more step each: the same parameters */
        gt_backward(tape, gt_cross_entropy(tape, gt_model_forward(tape, m, x), y));
        gt_optimizer_step(opt);
        gt_tape_reset(tape);
        gt_backward(tape, gt_cross_entropy(tape, gt_model_forward(tape, back, x), y));
        gt_optimizer_step(opt2);
        gt_tape_reset(tape);
        CHECK(!memcmp(gt_model_data(back), gt_model_data(m),
                      (size_t)gt_model_numel(m) * sizeof(gt_real)));
        gt_optimizer_free(opt2);
    }
    gt_model_free(back);
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_tensor_free(y);
    gt_optimizer_free(opt);
    gt_model_free(m);
}

/* Every layer kind the registry has beyond the first ones, trained for a few steps (the
 * running statistics move) and saved: parameters, buffers and eval-mode outputs come back. */
static void check_round_trip(const char *spec, int ndim, const int64_t *shape, gt_tensor *x,
                             gt_tensor *y, const char *path) {
    gt_model *m = gt_model_from_spec(spec, ndim, shape, 4);
    gt_optimizer *opt = m ? gt_sgd_new(gt_model_params(m), gt_model_param_count(m),
                                       &(gt_sgd_config){.lr = 0.1, .momentum = 0.9}) : NULL;
    CHECK(m && opt);
    if (!m || !opt) {
        gt_optimizer_free(opt);
        gt_model_free(m);
        return;
    }
    gt_tape *tape = gt_tape_new();
    for (int step = 0; step < 3; step++) {
        gt_backward(tape, gt_cross_entropy(tape, gt_model_forward(tape, m, x), y));
        gt_optimizer_step(opt);
        gt_model_zero_grad(m);
        gt_tape_reset(tape);
    }
    CHECK(gt_model_save(m, opt, NULL, 0, path) == GT_OK);
    gt_model *back = gt_model_load(path);
    CHECK(back && !strcmp(gt_model_spec(back), spec) &&
          gt_model_buffer_count(back) == gt_model_buffer_count(m));
    CHECK(back && !memcmp(gt_model_data(back), gt_model_data(m),
                          (size_t)gt_model_numel(m) * sizeof(gt_real)));
    bool buffers_moved = false;
    for (int i = 0; back && i < gt_model_buffer_count(m); i++) {
        const gt_tensor *a = gt_model_buffers(m)[i], *b = gt_model_buffers(back)[i];
        CHECK(!strcmp(gt_model_buffer_name(m, i), gt_model_buffer_name(back, i)) &&
              gt_tensor_numel(a) == gt_tensor_numel(b) &&
              !memcmp(gt_tensor_cdata(a), gt_tensor_cdata(b),
                      (size_t)gt_tensor_numel(a) * sizeof(gt_real)));
        buffers_moved = buffers_moved || gt_tensor_cdata(a)[0] != 0;
    }
    CHECK(buffers_moved || gt_model_buffer_count(m) == 0);
    if (back) {
        gt_model_train(m, false);
        gt_model_train(back, false);
        gt_tensor *a = gt_model_forward(tape, m, x), *b = gt_model_forward(tape, back, x);
        CHECK(a && b && !memcmp(gt_tensor_cdata(a), gt_tensor_cdata(b),
                                (size_t)gt_tensor_numel(a) * sizeof(gt_real)));
    }
    gt_model_free(back);
    gt_tape_free(tape);
    gt_optimizer_free(opt);
    gt_model_free(m);
}

GT_TEST(checkpoint_round_trip_of_every_new_layer_kind_with_its_buffers) {
    gt_tensor *x, *y;
    gt_test_random_batch(GT_SHAPE(4, 2, 6, 6), 5, 7, &x, &y);
    check_round_trip("Conv2d(4, 3, padding=1) BatchNorm2d(momentum=None) GroupNorm(2) "
                     "LeakyReLU(0.2) ELU SELU GELU(approximate='tanh') SiLU Softplus(beta=2, "
                     "threshold=10) Hardtanh(-2, 2) Hardsigmoid Flatten Dropout(0.1) Linear(6) "
                     "BatchNorm1d(affine=False) LayerNorm(6, elementwise_affine=False) GELU "
                     "LayerNorm(6) Linear(5)",
                     3, (const int64_t[]){2, 6, 6}, x, y, SCRATCH "_layers.gtc");
    gt_tensor_free(x);
    gt_tensor_free(y);
    gt_tensor *ids = gt_from_array(GT_SHAPE(2, 5), (const gt_real[]){0, 8, 2, 2, 5, 1, 3, 4, 0, 6});
    gt_tensor *labels = gt_from_array(GT_SHAPE(2), (const gt_real[]){1, 2});
    check_round_trip("Embedding(9, 4) Flatten Linear(3)", 1, (const int64_t[]){5}, ids, labels,
                     SCRATCH "_embedding.gtc");
    gt_tensor_free(ids);
    gt_tensor_free(labels);
}

GT_TEST(old_version_1_model_checkpoints_still_load) {
    const char *dir = GT_TEST_DATA_DIR "/../fuzz/corpus/checkpoint/";
    char path[512];
    snprintf(path, sizeof path, "%smodel_mlp_sgd.gtc", dir);
    gt_model *m = gt_model_load(path);
    CHECK(m && gt_model_get_config(m)->kind == GT_MODEL_MLP);
    if (m) {
        gt_optimizer *opt = gt_sgd_new(gt_model_params(m), gt_model_param_count(m),
                                       &(gt_sgd_config){.lr = 0.1, .momentum = 0.9});
        CHECK(gt_optimizer_load(opt, path) == GT_OK);
        gt_optimizer_free(opt);
        /* saved again: still a version 1 file, as older builds read it */
        CHECK(gt_model_save(m, NULL, NULL, 0, SCRATCH "_v1.gtc") == GT_OK);
        FILE *f = fopen(SCRATCH "_v1.gtc", "rb");
        unsigned char head[12] = {0};
        CHECK(f && fread(head, 1, 12, f) == 12 && head[8] == 1);
        if (f)
            fclose(f);
    }
    gt_model_free(m);
}

/* ---- .npz with PyTorch ----------------------------------------------------------------------- */

GT_TEST(weights_trained_in_pytorch_give_pytorchs_logits) {
    gt_model *m = gt_model_from_spec(ORACLE_SPEC, 3, (int64_t[]){2, 8, 8}, 0);
    gt_npz *io = gt_npz_load(GT_TEST_DATA_DIR "/modules/torch_io.npz");
    CHECK(m && io && gt_npz_count(io) == 2);
    if (!m || !io) {
        gt_model_free(m);
        gt_npz_free(io);
        return;
    }
    CHECK(gt_model_import_npz(m, GT_TEST_DATA_DIR "/modules/torch_weights.npz") == GT_OK);
    gt_tape *tape = gt_tape_new();
    gt_tensor *logits = gt_model_forward(tape, m, gt_npz_find(io, "x"));
    const gt_tensor *want = gt_npz_find(io, "logits");
    CHECK(logits && want && gt_tensor_numel(logits) == 15);
    for (int64_t i = 0; logits && want && i < 15; i++)
        CHECK_CLOSE(gt_tensor_item(logits, i), gt_tensor_item(want, i), 10 * GT_TEST_TOL);
    /* and back: exported, it imports into a fresh model unchanged */
    CHECK(gt_model_export_npz(m, SCRATCH "_out.npz") == GT_OK);
    gt_model *again = gt_model_from_spec(ORACLE_SPEC, 3, (int64_t[]){2, 8, 8}, 1);
    CHECK(again && gt_model_import_npz(again, SCRATCH "_out.npz") == GT_OK);
    CHECK(again && !memcmp(gt_model_data(again), gt_model_data(m),
                           (size_t)gt_model_numel(m) * sizeof(gt_real)));
    gt_model_free(again);
    gt_tape_free(tape);
    gt_npz_free(io);
    gt_model_free(m);
}

#define BN_ORACLE_SPEC                                                                     \
    "Conv2d(4, 3, padding=1) BatchNorm2d ReLU MaxPool2d(2) Conv2d(6, 3, padding=1) "          \
    "BatchNorm2d(momentum=None) GroupNorm(3) GELU(approximate='tanh') MaxPool2d(2) Flatten "  \
    "Dropout(0.25) Linear(16) BatchNorm1d LeakyReLU(0.1) Dropout(0.5) Linear(8) LayerNorm(8) " \
    "SiLU Linear(5)"

/* tests/data/make_modules_bn_oracle.py: running statistics (num_batches_tracked as int64)
 * come in with the weights, and eval mode gives PyTorch's logits. */
GT_TEST(batch_norm_weights_and_running_stats_from_pytorch_give_its_eval_logits) {
    gt_model *m = gt_model_from_spec(BN_ORACLE_SPEC, 3, (int64_t[]){2, 8, 8}, 0);
    gt_npz *io = gt_npz_load(GT_TEST_DATA_DIR "/modules/torch_bn_io.npz");
    gt_npz *weights = gt_npz_load(GT_TEST_DATA_DIR "/modules/torch_bn_weights.npz");
    CHECK(m && io && weights);
    if (!m || !io || !weights) {
        gt_model_free(m);
        gt_npz_free(io);
        gt_npz_free(weights);
        return;
    }
    CHECK(gt_model_import_npz(m, GT_TEST_DATA_DIR "/modules/torch_bn_weights.npz") == GT_OK);
    CHECK(gt_model_buffer_count(m) == 9 && gt_npz_count(weights) == 29);
    for (int i = 0; i < gt_model_buffer_count(m); i++) {
        const gt_tensor *want = gt_npz_find(weights, gt_model_buffer_name(m, i));
        const gt_tensor *got = gt_model_buffers(m)[i];
        CHECK(want && gt_tensor_numel(want) == gt_tensor_numel(got));
        for (int64_t k = 0; want && k < gt_tensor_numel(got); k++)
            CHECK(gt_tensor_item(got, k) == gt_tensor_item(want, k));
    }
    CHECK(gt_tensor_item(gt_model_buffers(m)[2], 0) == 20); /* 1.num_batches_tracked */
    gt_model_train(m, false);
    gt_tape *tape = gt_tape_new();
    gt_tensor *logits = gt_model_forward(tape, m, gt_npz_find(io, "x"));
    const gt_tensor *want = gt_npz_find(io, "logits");
    CHECK(logits && want && gt_tensor_numel(logits) == 15);
    for (int64_t i = 0; logits && want && i < 15; i++)
        CHECK_CLOSE(gt_tensor_item(logits, i), gt_tensor_item(want, i), 10 * GT_TEST_TOL);
    /* in train mode the batch's statistics normalise: other logits */
    gt_model_train(m, true);
    gt_tensor *train = gt_model_forward(tape, m, gt_npz_find(io, "x"));
    CHECK(train && fabs(gt_tensor_item(train, 0) - gt_tensor_item(want, 0)) > 1e-3);
    gt_tape_free(tape);
    gt_npz_free(io);
    gt_npz_free(weights);
    gt_model_free(m);
}

/* Python's zipfile as numpy.savez (with zip64 extra fields) and savez_compressed use it. */
/* PyTorch's own initial weights of Conv2d (same, dilation, groups), ConvTranspose2d and
 * Conv1d layers, read by name: the same outputs (tests/data/make_modules_oracle.py). */
GT_TEST(conv_layers_read_pytorchs_weights) {
    gt_npz *npz = gt_npz_load(GT_TEST_DATA_DIR "/modules/torch_conv.npz");
    CHECK(npz != NULL);
    const char *specs[] = {"Conv2d(4, 3, padding='same', dilation=2, groups=2) ReLU "
                           "ConvTranspose2d(3, 3, stride=2, padding=1, output_padding=1) Tanh "
                           "Flatten Linear(5)",
                           "Conv1d(4, 3, stride=2, padding=1) Tanh Flatten Linear(3)"};
    const char *prefix[] = {"a.", "b."};
    gt_sample_shape in[] = {{3, {2, 6, 6}}, {2, {2, 9}}};
    for (int k = 0; npz && k < 2; k++) {
        gt_model *m = gt_model_from_spec(specs[k], in[k].ndim, in[k].dims, 1);
        CHECK(m != NULL);
        char key[64];
        for (int i = 0; m && i < gt_model_param_count(m); i++) {
            gt_tensor *p = gt_model_params(m)[i];
            snprintf(key, sizeof key, "%s%s", prefix[k], gt_model_param_name(m, i));
            const gt_tensor *t = gt_npz_find(npz, key);
            CHECK(t && gt_shape_equal(gt_tensor_ndim(t), gt_tensor_shape(t), gt_tensor_ndim(p),
                                      gt_tensor_shape(p)));
            for (int64_t j = 0; t && j < gt_tensor_numel(p); j++)
                gt_tensor_data(p)[j] = gt_tensor_cdata(t)[j];
        }
        snprintf(key, sizeof key, "%sx", prefix[k]);
        const gt_tensor *x = gt_npz_find(npz, key);
        snprintf(key, sizeof key, "%sy", prefix[k]);
        const gt_tensor *want = gt_npz_find(npz, key);
        gt_tape *tape = gt_tape_new();
        gt_tensor *y = m && x ? gt_model_forward(tape, m, (gt_tensor *)x) : NULL;
        CHECK(y && want && gt_tensor_numel(y) == gt_tensor_numel(want));
        for (int64_t j = 0; y && want && j < gt_tensor_numel(y); j++)
            CHECK_CLOSE(gt_tensor_item(y, j), gt_tensor_item(want, j), 10 * GT_TEST_TOL);
        gt_tape_free(tape);
        gt_model_free(m);
    }
    gt_npz_free(npz);
}

GT_TEST(npz_reads_stored_deflated_and_zip64_members) {
    const char *files[] = {"two.npz", "two_deflated.npz", "two_zip64.npz"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/../fuzz/corpus/npz/%s", GT_TEST_DATA_DIR, files[i]);
        gt_npz *npz = gt_npz_load(path);
        CHECK(npz && gt_npz_count(npz) == 2 && !strcmp(gt_npz_key(npz, 1), "fc.bias"));
        const gt_tensor *w = gt_npz_find(npz, "fc.weight"), *b = gt_npz_find(npz, "fc.bias");
        CHECK(w && gt_tensor_numel(w) == 6 && gt_tensor_item(w, 3) == (gt_real)3.25);
        CHECK(b && gt_tensor_item(b, 1) == -1);
        gt_npz_free(npz);
    }
}

GT_TEST(npz_import_is_strict_and_changes_nothing_on_failure) {
    gt_model *m = gt_model_from_spec("Flatten Linear(5)", 1, (int64_t[]){6}, 0);
    gt_real before = gt_model_data(m)[0];
    CHECK(gt_model_import_npz(m, GT_TEST_DATA_DIR "/modules/torch_weights.npz") != GT_OK);
    CHECK_ERROR_HAS("no '1.weight' for the model's [5, 6]");
    gt_model *wider = gt_model_from_spec(ORACLE_SPEC " Flatten Linear(2)", 3, (int64_t[]){2, 8, 8},
                                         0);
    CHECK(gt_model_import_npz(wider, GT_TEST_DATA_DIR "/modules/torch_weights.npz") ==
          GT_ERR_FORMAT);
    CHECK_ERROR_HAS("no '12.weight'");
    gt_model *other = gt_model_from_spec("Conv2d(4, 3, padding=1) ReLU MaxPool2d(2) "
                                         "Conv2d(6, 3, bias=False) Tanh AvgPool2d(2) Flatten "
                                         "Linear(16) Sigmoid Linear(6)", 3,
                                         (int64_t[]){2, 8, 8}, 0);
    CHECK(gt_model_import_npz(other, GT_TEST_DATA_DIR "/modules/torch_weights.npz") ==
          GT_ERR_SHAPE);
    CHECK_ERROR_HAS("'9.weight' has shape [5, 16] in the file, [6, 16] expected");
    CHECK(gt_model_import_npz(m, GT_TEST_DATA_DIR "/modules/torch_io.npz") != GT_OK);
    CHECK(gt_model_data(m)[0] == before);
    CHECK(!gt_npz_load(GT_TEST_DATA_DIR "/oracle.txt"));
    CHECK_ERROR_HAS("not a zip archive (.npz)");
    gt_model_free(m);
    gt_model_free(wider);
    gt_model_free(other);
}

GT_TEST_MAIN()
