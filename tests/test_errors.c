/* test_errors.c - every op given inputs that do not fit returns NULL with a message that
 * names the op and the shapes; nothing crashes. */
#include "gt_test.h"

#include <float.h>

typedef struct bad_call {
    gt_op op;
    const char *shapes[3]; /* inputs; "" is a 0-d tensor */
    int n_args;
    double args[4];
    const char *message; /* a fragment the error must contain */
} bad_call;

static const bad_call calls[] = {
    {GT_OP_MATMUL, {"2x3", "4x5"}, 0, {0}, "matmul: inner dimensions differ: [2, 3] @ [4, 5]"},
    {GT_OP_MATMUL, {"3", "3"}, 0, {0}, "matmul: expects 2-D or 3-D inputs: [3] @ [3]"},
    {GT_OP_MATMUL, {"2x2x3", "3x3x4"}, 0, {0}, "matmul: batch sizes differ: [2, 2, 3] @ [3, 3, 4]"},
    {GT_OP_LINEAR, {"4x5", "3x6"}, 0, {0}, "linear: x[N,IN] and w[OUT,IN] do not fit: [4, 5] vs [3, 6]"},
    {GT_OP_LINEAR, {"4x5", "3x5", "4"}, 0, {0}, "linear: bias must be [OUT] for w[OUT,IN]: [4] vs [3, 5]"},
    {GT_OP_ADD, {"2x3", "4"}, 0, {0}, "add: shapes [2, 3] and [4] cannot be broadcast"},
    {GT_OP_SUB, {"3x2", "3"}, 0, {0}, "sub: shapes [3, 2] and [3] cannot be broadcast"},
    {GT_OP_MUL, {"5", "4"}, 0, {0}, "mul: shapes [5] and [4] cannot be broadcast"},
    {GT_OP_DIV, {"2x2x2", "3x2"}, 0, {0}, "div: shapes [2, 2, 2] and [3, 2] cannot be broadcast"},
    {GT_OP_NEG, {"2", "2"}, 0, {0}, "neg: takes 1 tensor input, got 2"},
    {GT_OP_SCALE, {"2"}, 0, {0}, "scale: wrong number of arguments (0): expected scale(x, factor)"},
    {GT_OP_RELU, {"2", "2"}, 0, {0}, "relu: takes 1 tensor input, got 2"},
    {GT_OP_SIGMOID, {"2", "2"}, 0, {0}, "sigmoid: takes 1 tensor input, got 2"},
    {GT_OP_TANH, {"2"}, 1, {3}, "tanh: wrong number of arguments (1)"},
    {GT_OP_EXP, {"2", "2"}, 0, {0}, "exp: takes 1 tensor input, got 2"},
    {GT_OP_LOG, {"2", "2"}, 0, {0}, "log: takes 1 tensor input, got 2"},
    {GT_OP_SOFTMAX, {"2", "2"}, 0, {0}, "softmax: takes 1 tensor input, got 2"},
    {GT_OP_LOG_SOFTMAX, {"2", "2"}, 0, {0}, "log_softmax: takes 1 tensor input, got 2"},
    {GT_OP_SUM, {"2x3"}, 1, {2}, "sum: axis 2 is out of range for shape [2, 3]"},
    {GT_OP_MEAN, {"2x3"}, 1, {-3}, "mean: axis -3 is out of range for shape [2, 3]"},
    {GT_OP_RESHAPE, {"2x3"}, 2, {4, 2}, "reshape: cannot view [2, 3] (6 elements) as [4, 2]"},
    {GT_OP_RESHAPE, {"2x3"}, 2, {-1, 4}, "reshape: cannot view [2, 3] (6 elements) as [-1, 4]"},
    {GT_OP_FLATTEN, {"2x3"}, 1, {2}, "flatten: start_dim 2 is out of range for shape [2, 3]"},
    {GT_OP_TRANSPOSE, {"2x3x4"}, 0, {0}, "transpose: expects a 2-D tensor, got [2, 3, 4]"},
    {GT_OP_CONV2D, {"1x3x5x5", "2x2x3x3"}, 2, {1, 0},
     "conv2d: input channels differ: x [1, 3, 5, 5] has 3, w [2, 2, 3, 3] has 2"},
    {GT_OP_CONV2D, {"1x1x2x2", "1x1x3x3"}, 2, {1, 0},
     "conv2d: kernel [1, 1, 3, 3] does not fit input [1, 1, 2, 2] with padding 0"},
    {GT_OP_CONV2D, {"1x1x5x5", "2x1x3x3", "3"}, 2, {1, 0},
     "conv2d: bias must be [2] for w [2, 1, 3, 3], got [3]"},
    {GT_OP_CONV2D, {"5x5", "1x1x3x3"}, 2, {1, 0}, "conv2d: expects x[N,C,H,W] and w[O,C,KH,KW], got [5, 5]"},
    {GT_OP_CONV2D, {"1x1x5x5", "1x1x3x3"}, 2, {0, 0}, "conv2d: stride must be an integer >= 1"},
    {GT_OP_MAXPOOL2D, {"1x1x3x3"}, 2, {4, 4}, "maxpool2d: kernel 4 is larger than the input [1, 1, 3, 3]"},
    {GT_OP_MAXPOOL2D, {"3x3"}, 1, {2}, "maxpool2d: expects x[N,C,H,W], got [3, 3]"},
    {GT_OP_AVGPOOL2D, {"1x1x4x4"}, 2, {2, -1}, "avgpool2d: kernel and stride must be integers >= 1"},
    {GT_OP_CROSS_ENTROPY, {"4x3", "5"}, 0, {0},
     "cross_entropy: target must be [N] class indices or [N,K] probabilities for logits [4, 3], got [5]"},
    {GT_OP_CROSS_ENTROPY, {"4"}, 0, {0}, "cross_entropy: takes 2 tensor inputs, got 1"},
    {GT_OP_CROSS_ENTROPY, {"4x3x2", "4"}, 0, {0}, "cross_entropy: logits must be [N,K]"},
    {GT_OP_MSE_LOSS, {"2x3", "3x2"}, 0, {0}, "mse_loss: shapes differ: [2, 3] vs [3, 2]"},
};

static gt_tensor *make(gt_tape *tape, const char *text) {
    int64_t shape[GT_MAX_DIMS];
    int ndim = 0;
    while (*text) {
        shape[ndim++] = strtoll(text, (char **)&text, 10);
        if (*text == 'x')
            text++;
    }
    return gt_tape_tensor(tape, ndim, shape);
}

GT_TEST(every_op_names_itself_and_the_shapes_on_bad_input) {
    gt_tape *tape = gt_tape_new();
    bool covered[GT_OP_COUNT] = {0};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        const bad_call *c = &calls[i];
        gt_tensor *in[3] = {0};
        int n = 0;
        while (n < 3 && c->shapes[n])
            in[n] = make(tape, c->shapes[n]), n++;
        gt_op_args args = {c->n_args, {0}};
        for (int a = 0; a < c->n_args; a++)
            args.v[a] = c->args[a];
        gt_clear_error();
        CHECK(gt_op_apply(tape, c->op, in, n, &args) == NULL);
        CHECK(gt_last_status() != GT_OK);
        CHECK_ERROR_HAS(c->message);
        covered[c->op] = true;
    }
    for (int op = 0; op < GT_OP_COUNT; op++) {
        if (!covered[op])
            printf("  no error case for %s\n", gt_op_get((gt_op)op)->name);
        CHECK(covered[op]);
    }
    gt_tape_free(tape);
}

GT_TEST(cross_entropy_refuses_class_indices_out_of_range) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *logits = gt_tape_tensor(tape, GT_SHAPE(2, 3));
    gt_tensor *target = gt_tape_tensor(tape, GT_SHAPE(2));
    gt_tensor_data(target)[1] = 3;
    CHECK(gt_cross_entropy(tape, logits, target) == NULL);
    CHECK_ERROR_HAS("cross_entropy: target[1] = 3 is not a class index in 0..2");
    gt_tensor_data(target)[1] = 0.5;
    CHECK(gt_cross_entropy(tape, logits, target) == NULL);
    gt_tape_free(tape);
}

GT_TEST(a_stale_failure_is_not_blamed_for_a_null_input_and_backward_keeps_the_cause) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *a = gt_tape_tensor(tape, GT_SHAPE(2, 3)), *b = gt_tape_tensor(tape, GT_SHAPE(4));
    CHECK(gt_sum(tape, gt_matmul(tape, a, b), GT_ALL_AXES) == NULL);
    CHECK(gt_backward(tape, NULL) == GT_ERR_SHAPE); /* backward of a failed chain: its cause */
    CHECK_ERROR_HAS("matmul: expects 2-D or 3-D inputs: [2, 3] @ [4]");
    /* once an op has succeeded, a NULL input is the caller's own mistake, not the old error */
    CHECK(gt_relu(tape, a) != NULL);
    CHECK(gt_relu(tape, NULL) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK_ERROR_HAS("relu: an input tensor is NULL");
    gt_clear_error();
    CHECK(gt_backward(tape, NULL) == GT_ERR_ARG);
    CHECK_ERROR_HAS("backward: the tensor is NULL");
    gt_tape_free(tape);
}

GT_TEST(op_table_rows_are_complete_and_in_enum_order) {
    const gt_op_info *table = gt_op_table();
    for (int op = 0; op < GT_OP_COUNT; op++) {
        CHECK(table[op].op == (gt_op)op);
        CHECK(table[op].name && table[op].forward && table[op].backward);
        CHECK(table[op].min_inputs >= 1 && table[op].max_inputs >= table[op].min_inputs);
        CHECK(gt_op_find(table[op].name) == &table[op]);
        CHECK(strncmp(table[op].signature, table[op].name, strlen(table[op].name)) == 0);
    }
    CHECK(gt_op_find("no_such_op") == NULL);
    CHECK(gt_op_get(GT_OP_COUNT) == NULL);
    CHECK(gt_op_apply(NULL, GT_OP_COUNT, NULL, 0, NULL) == NULL);
    CHECK_ERROR_HAS("no op number");
}

GT_TEST(anomaly_mode_names_the_op_that_made_a_non_finite_value) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_from_array(GT_SHAPE(3), (const gt_real[]){1, 0, -1});
    gt_tensor_set_requires_grad(x, true);
    CHECK(gt_log(tape, x) != NULL); /* off: -inf and NaN flow on, as in C */
    gt_tape_set_detect_anomaly(tape, true);
    CHECK(gt_log(tape, x) == NULL);
    CHECK(gt_last_status() == GT_ERR_NUMERIC);
    CHECK_ERROR_HAS("anomaly: log produced a non-finite output: element 1 is -inf");
    gt_tensor_free(x);
    gt_tape_free(tape);
}

GT_TEST(a_backward_stopped_by_anomaly_mode_leaves_every_gradient_as_it_was) {
    /* y = sum(log(w)) + sum(z * z): the walk runs mul's backward first (it was recorded
     * last), adding 2z into z's gradient, then log's, whose 1/w overflows for the smallest
     * w: the stop must take mul's contribution back. Such a w is subnormal, which the
     * kernels read as 0 unless told to keep subnormals. */
    bool flushed = gt_get_flush_denormal();
    gt_set_flush_denormal(false);
#ifdef GT_REAL_DOUBLE
    const gt_real tiny = DBL_TRUE_MIN;
#else
    const gt_real tiny = FLT_TRUE_MIN;
#endif
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = gt_from_array(GT_SHAPE(1), (const gt_real[]){tiny});
    gt_tensor *z = gt_from_array(GT_SHAPE(2), (const gt_real[]){1, 2});
    gt_tensor_set_requires_grad(w, true);
    gt_tensor_set_requires_grad(z, true);
    gt_tensor_grad(z)[0] = 5; /* from an earlier backward, say */
    gt_tape_set_detect_anomaly(tape, true);
    gt_tensor *log_w = gt_sum(tape, gt_log(tape, w), GT_ALL_AXES);
    gt_tensor *y = gt_add(tape, log_w, gt_sum(tape, gt_mul(tape, z, z), GT_ALL_AXES));
    CHECK(y != NULL);
    CHECK(gt_backward(tape, y) == GT_ERR_NUMERIC);
    CHECK_ERROR_HAS("log");
    CHECK(gt_tensor_grad(z)[0] == 5 && gt_tensor_grad(z)[1] == 0);
    CHECK(gt_tensor_grad(w)[0] == 0);
    gt_tape_set_detect_anomaly(tape, false); /* off: the same backward runs to its end */
    CHECK(gt_backward(tape, y) == GT_OK);
    CHECK(gt_tensor_grad(z)[0] == 7 && gt_tensor_grad(z)[1] == 4);
    gt_set_flush_denormal(flushed);
    gt_tensor_free(w);
    gt_tensor_free(z);
    gt_tape_free(tape);
}

GT_TEST(a_chain_checked_at_its_end_names_the_op_that_failed) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *a = gt_tape_tensor(tape, GT_SHAPE(2, 3)), *b = gt_tape_tensor(tape, GT_SHAPE(4, 5));
    gt_tensor *y = gt_sum(tape, gt_relu(tape, gt_matmul(tape, a, b)), GT_ALL_AXES);
    CHECK(y == NULL);
    CHECK_ERROR_HAS("matmul: inner dimensions differ: [2, 3] @ [4, 5]");
    gt_clear_error(); /* with no failure before it, a NULL input says so */
    CHECK(gt_relu(tape, NULL) == NULL);
    CHECK_ERROR_HAS("relu: an input tensor is NULL");
    gt_tape_free(tape);
}

GT_TEST_MAIN()
