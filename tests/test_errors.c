/* test_errors.c - every op given inputs that do not fit returns NULL with a message that
 * names the op and the shapes; nothing crashes. */
#include "gt_test.h"

#include <float.h>

/* Every error case of the op table ("inputs; attributes => message"): the op returns NULL
 * and the message holds the fragment. Every op has at least one. */
GT_TEST(every_op_names_itself_and_the_shapes_on_bad_input) {
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    for (int i = 0; i < count; i++) {
        bool covered = false;
        for (const char *const *text = ops[i]->cases; text && *text; text++) {
            if (!strstr(*text, "=>"))
                continue;
            gt_test_op_case c;
            CHECK(gt_test_op_case_make(ops[i], *text, 1, &c));
            gt_tape *tape = gt_tape_new();
            gt_tensor *in[GT_TEST_MAX_INPUTS] = {0};
            for (int k = 0; k < c.n_in; k++) /* tape tensors, as a step's inputs are */
                in[k] = c.in[k] ? gt_tape_tensor(tape, gt_tensor_ndim(c.in[k]),
                                                 gt_tensor_shape(c.in[k]))
                                : NULL;
            gt_clear_error();
            if (c.args_failed) /* the attribute text itself is the error: its message again */
                CHECK(gt_op_args_parse(ops[i], c.attrs, c.args) != GT_OK);
            else
                CHECK(gt_test_op_case_run(tape, &c, in) == NULL);
            CHECK(gt_last_status() != GT_OK);
            if (!strstr(gt_last_error(), c.error))
                printf("  %s case \"%s\": got \"%s\"\n", ops[i]->name, *text, gt_last_error());
            CHECK_ERROR_HAS(c.error);
            covered = true;
            gt_tape_free(tape);
            gt_test_op_case_free(&c);
        }
        if (!covered)
            printf("  no error case for %s\n", ops[i]->name);
        CHECK(covered);
    }
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
    gt_tensor_data(target)[1] = -100; /* ignore_index: left out, whatever its range */
    CHECK(gt_cross_entropy(tape, logits, target) != NULL);
    /* [N,C,d]: the position is the target's flat index; ignore_index may be a class */
    gt_tensor *x3 = gt_tape_tensor(tape, GT_SHAPE(2, 3, 2));
    gt_tensor *t3 = gt_tape_tensor(tape, GT_SHAPE(2, 2));
    gt_tensor_data(t3)[3] = 3;
    CHECK(gt_nll_loss(tape, x3, t3, NULL, 1, GT_REDUCTION_NONE) == NULL);
    CHECK_ERROR_HAS("nll_loss: target[3] = 3 is not a class index in 0..2 (nor ignore_index 1)");
    gt_tensor_data(t3)[3] = -1;
    CHECK(gt_nll_loss(tape, x3, t3, NULL, -1, GT_REDUCTION_NONE) != NULL);
    gt_tape_free(tape);
}

GT_TEST(a_stale_failure_is_not_blamed_for_a_null_input_and_backward_keeps_the_cause) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *a = gt_tape_tensor(tape, GT_SHAPE(2, 3)), *b = gt_tape_tensor(tape, GT_SHAPE(4));
    CHECK(gt_sum(tape, gt_matmul(tape, a, b), GT_ALL_AXES) == NULL);
    CHECK(gt_backward(tape, NULL) == GT_ERR_SHAPE); /* backward of a failed chain: its cause */
    CHECK_ERROR_HAS("matmul: inner dimensions differ: [2, 3] @ [4]");
    /* once an op has succeeded, a NULL input is the caller's own mistake, not the old error */
    CHECK(gt_relu(tape, a) != NULL);
    CHECK(gt_relu(tape, NULL) == NULL && gt_last_status() == GT_ERR_ARG);
    CHECK_ERROR_HAS("relu: an input tensor is NULL");
    gt_clear_error();
    CHECK(gt_backward(tape, NULL) == GT_ERR_ARG);
    CHECK_ERROR_HAS("backward: the tensor is NULL");
    gt_tape_free(tape);
}

GT_TEST(op_table_entries_are_complete_and_found_by_name) {
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    CHECK(count > 0);
    for (int i = 0; i < count; i++) {
        const gt_op_def *op = ops[i];
        CHECK(op->name && op->doc && op->shapes && op->forward); /* backward NULL: no gradient */
        CHECK(gt_op_min_inputs(op) >= 1 && gt_op_max_inputs(op) >= gt_op_min_inputs(op));
        CHECK(gt_op_find(op->name) == op);
        CHECK(!op->alias || gt_op_find(op->alias) == op);
        CHECK(op->n_attrs <= GT_OP_MAX_ATTRS && op->args_size <= GT_OP_ARGS_MAX);
        CHECK((op->n_attrs == 0) == (op->args_size == 0));
        for (int a = 0; a < op->n_attrs; a++) {
            CHECK(op->attrs[a].offset < op->args_size);
            CHECK(gt_op_attr_index(op, op->attrs[a].name) == a);
            CHECK(op->attrs[a].type != GT_ATTR_ENUM || op->attrs[a].choices);
        }
        for (int j = 0; j < i; j++) /* names and aliases are unique */
            CHECK(strcmp(ops[j]->name, op->name) != 0);
    }
    CHECK(gt_op_find("no_such_op") == NULL);
    CHECK(gt_op_call(NULL, &gt_op_relu, NULL, 0, NULL) == NULL);
    CHECK_ERROR_HAS("relu: tape is NULL");
    CHECK(gt_op_call(NULL, NULL, NULL, 0, NULL) == NULL);
    CHECK_ERROR_HAS("op_call: the op is NULL");
}

GT_TEST(attributes_are_checked_once_at_the_call_with_the_op_and_the_value_named) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_tape_tensor(tape, GT_SHAPE(1, 1, 5, 5));
    gt_tensor *w = gt_tape_tensor(tape, GT_SHAPE(1, 1, 3, 3));
    CHECK(gt_conv2d(tape, x, w, NULL, 0, 0) == NULL);
    CHECK_ERROR_HAS("conv2d: stride must be >= 1, got 0");
    unsigned char args[GT_OP_ARGS_MAX];
    CHECK(gt_op_args_parse(&gt_op_conv2d, "stride=2, padding=1", args) == GT_OK);
    gt_tensor *y = gt_op_call(tape, &gt_op_conv2d, (gt_tensor *[]){x, w}, 2, args);
    CHECK(y && gt_tensor_shape(y)[2] == 3 && gt_tensor_shape(y)[3] == 3);
    CHECK(gt_op_args_parse(&gt_op_conv2d, "stride=1.5", args) == GT_ERR_ARG);
    CHECK_ERROR_HAS("conv2d: stride must be an integer");
    CHECK(gt_op_args_parse(&gt_op_conv2d, "output_padding=2", args) == GT_ERR_ARG);
    CHECK_ERROR_HAS("conv2d: no attribute named output_padding");
    CHECK(gt_op_args_parse(&gt_op_conv2d, "padding=\"same\"", args) == GT_OK);
    CHECK(((const gt_conv_args *)args)->padding_mode == GT_CONV_PADDING_SAME);
    y = gt_op_call(tape, &gt_op_conv2d, (gt_tensor *[]){x, w}, 2, args);
    CHECK(y && gt_tensor_shape(y)[2] == 5 && gt_tensor_shape(y)[3] == 5);
    CHECK(gt_op_args_parse(&gt_op_conv2d, "padding=\"same\", padding=[1, 0]", args) == GT_OK);
    CHECK(((const gt_conv_args *)args)->padding_mode == GT_CONV_PADDING_LIST);
    CHECK(gt_op_args_parse(&gt_op_conv2d, "padding=\"full\"", args) == GT_ERR_ARG);
    CHECK_ERROR_HAS("conv2d: padding must be an integer, a list of integers or one of "
                    "\"valid|same\", got \"full\"");
    CHECK(gt_op_args_parse(&gt_op_max_pool2d, "stride=2", args) == GT_ERR_ARG);
    CHECK_ERROR_HAS("max_pool2d: missing argument kernel_size");
    CHECK(gt_op_args_parse(&gt_op_sum, "dim=[0, 1], keepdim=\"yes\"", args) == GT_ERR_ARG);
    CHECK_ERROR_HAS("sum: keepdim must be True or False");
    CHECK(gt_op_args_parse(&gt_op_sum, "axis=1, keepdim=True", args) == GT_OK);
    const gt_reduce_args *reduce = (const gt_reduce_args *)args;
    CHECK(reduce->dim.n == 1 && reduce->dim.v[0] == 1 && reduce->keepdim);
    char sig[256];
    CHECK(strcmp(gt_op_signature(&gt_op_conv2d, sig, sizeof sig),
                 "conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, "
                 "groups=1)") == 0);
    CHECK(strcmp(gt_op_signature(&gt_op_max_pool2d, sig, sizeof sig),
                 "max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, "
                 "ceil_mode=False)") == 0);
    CHECK(strcmp(gt_op_signature(&gt_op_avg_pool2d, sig, sizeof sig),
                 "avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, "
                 "count_include_pad=True, divisor_override=None)") == 0);
    gt_tape_free(tape);
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

/* An index tensor holds whole numbers in range; the message names the op, the position and
 * the value. */
GT_TEST(index_tensors_are_checked_whole_and_in_range) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_tape_tensor(tape, 2, (int64_t[]){4, 3});
    gt_tensor *out_of_range = gt_tape_tensor(tape, 1, (int64_t[]){3});
    gt_tensor *fraction = gt_tape_tensor(tape, 1, (int64_t[]){2});
    gt_tensor *negative = gt_tape_tensor(tape, 2, (int64_t[]){1, 3});
    gt_tensor_data(out_of_range)[2] = 4;
    gt_tensor_data(fraction)[1] = 1.5;
    gt_tensor_data(negative)[1] = -1;
    CHECK(gt_index_select(tape, x, 0, out_of_range) == NULL);
    CHECK_ERROR_HAS("index_select: index holds 4 at position 2: an index is a whole number in "
                    "0..3");
    CHECK(gt_embedding(tape, fraction, x) == NULL);
    CHECK_ERROR_HAS("embedding: index holds 1.5 at position 1");
    CHECK(gt_gather(tape, x, 1, negative) == NULL);
    CHECK_ERROR_HAS("gather: index holds -1 at position 1: an index is a whole number in 0..2");
    gt_tape_free(tape);
}

GT_TEST_MAIN()
