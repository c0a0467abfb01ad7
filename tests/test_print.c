/* test_print.c - gt_tensor_print: exact output for small tensors, digits, special values,
 * eliding of large tensors and the failure cases. */
#define _POSIX_C_SOURCE 200809L
#include "gt_test.h"

/* The text gt_tensor_print writes (free() it); *ret gets its return value. */
static char *print_to_string(const gt_tensor *t, int digits, int *ret) {
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    *ret = gt_tensor_print(out, t, digits);
    fclose(out);
    return text;
}

/* Prints t and compares with `expected`, also checking the returned character count. */
static void check_prints(const gt_tensor *t, int digits, const char *expected) {
    int ret;
    char *text = print_to_string(t, digits, &ret);
    if (strcmp(text, expected) != 0) {
        fprintf(stderr, "  got:\n%s\n  expected:\n%s\n", text, expected);
        gt_test_failures++;
    }
    CHECK(ret == (int)strlen(text));
    free(text);
}

GT_TEST(prints_2x2_numpy_style) {
    gt_tensor *t = gt_from_array(GT_SHAPE(2, 2), (const gt_real[]){0.1f, 0.2f, 0.3f, 0.4f});
    check_prints(t, 4,
                 "tensor([[0.1, 0.2],\n"
                 "        [0.3, 0.4]], shape=[2, 2])");
    gt_tensor_free(t);
}

GT_TEST(prints_3d_with_blank_line_between_matrices) {
    gt_tensor *t = gt_from_array(GT_SHAPE(2, 2, 2), (const gt_real[]){1, 2, 3, 4, 5, 6, 7, 8});
    check_prints(t, 4,
                 "tensor([[[1, 2],\n"
                 "         [3, 4]],\n"
                 "\n"
                 "        [[5, 6],\n"
                 "         [7, 8]]], shape=[2, 2, 2])");
    gt_tensor_free(t);
}

GT_TEST(prints_1d_0d_and_empty) {
    gt_tensor *t = gt_from_array(GT_SHAPE(3), (const gt_real[]){1, -2.5f, 1000000});
    check_prints(t, 6, "tensor([1, -2.5, 1e+06], shape=[3])");
    gt_tensor_free(t);
    t = gt_full(0, NULL, 3.5f);
    check_prints(t, 6, "tensor(3.5, shape=[])");
    gt_tensor_free(t);
    t = gt_zeros(GT_SHAPE(0));
    check_prints(t, 6, "tensor([], shape=[0])");
    gt_tensor_free(t);
}

GT_TEST(prints_an_empty_tensor_of_any_shape_as_brackets_at_once) {
    gt_tensor *t = gt_zeros(GT_SHAPE(2, 0));
    check_prints(t, 6, "tensor([], shape=[2, 0])");
    gt_tensor_free(t);
    t = gt_zeros(GT_SHAPE(100000, 100000, 0)); /* 1e10 empty rows: they are not walked */
    check_prints(t, 6, "tensor([], shape=[100000, 100000, 0])");
    gt_tensor_free(t);
}

GT_TEST(prints_requires_grad_suffix) {
    gt_tensor *t = gt_from_array(GT_SHAPE(2), (const gt_real[]){1, 2});
    CHECK(gt_tensor_set_requires_grad(t, true) == GT_OK);
    check_prints(t, 4, "tensor([1, 2], shape=[2], requires_grad)");
    gt_tensor_free(t);
}

GT_TEST(digits_are_significant_and_clamped_to_1_through_17) {
    gt_tensor *t = gt_full(GT_SHAPE(1), (gt_real)(2.0 / 3.0));
    check_prints(t, 3, "tensor([0.667], shape=[1])");
    check_prints(t, 0, "tensor([0.7], shape=[1])");
    check_prints(t, -5, "tensor([0.7], shape=[1])");
#ifdef GT_REAL_DOUBLE
    check_prints(t, 40, "tensor([0.66666666666666663], shape=[1])");
#else
    check_prints(t, 40, "tensor([0.66666668653488159], shape=[1])");
#endif
    gt_tensor_free(t);
}

GT_TEST(prints_nan_and_infinities) {
    gt_tensor *t = gt_from_array(GT_SHAPE(4), (const gt_real[]){NAN, -NAN, INFINITY, -INFINITY});
    check_prints(t, 4, "tensor([nan, nan, inf, -inf], shape=[4])");
    gt_tensor_free(t);
}

GT_TEST(elides_tensors_over_1000_elements) {
    gt_tensor *t = gt_empty(GT_SHAPE(2000));
    for (int i = 0; i < 2000; i++)
        gt_tensor_data(t)[i] = (gt_real)i;
    check_prints(t, 6, "tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=[2000])");
    gt_tensor_free(t);

    t = gt_zeros(GT_SHAPE(2, 1000));
    check_prints(t, 6,
                 "tensor([[0, 0, 0, ..., 0, 0, 0],\n"
                 "        [0, 0, 0, ..., 0, 0, 0]], shape=[2, 1000])");
    gt_tensor_free(t);

    t = gt_zeros(GT_SHAPE(40, 50));
    int ret;
    char *text = print_to_string(t, 6, &ret);
    CHECK(strstr(text, "        ...,\n        [0, 0, 0, ..., 0, 0, 0],") != NULL);
    CHECK(ret > 0 && ret < 300);
    free(text);
    gt_tensor_free(t);
}

GT_TEST(does_not_elide_1000_elements) {
    gt_tensor *t = gt_zeros(GT_SHAPE(1000));
    int ret;
    char *text = print_to_string(t, 6, &ret);
    CHECK(strstr(text, "...") == NULL);
    CHECK(ret == (int)strlen("tensor([], shape=[1000])") + 1000 + 999 * 2);
    free(text);
    gt_tensor_free(t);
}

GT_TEST(refuses_null_tensor_and_reports_write_errors) {
    int ret;
    char *text = print_to_string(NULL, 4, &ret);
    CHECK(ret == -1);
    CHECK(gt_last_status() == GT_ERR_ARG);
    CHECK_ERROR_HAS("print: tensor is NULL");
    free(text);

    FILE *full = fopen("/dev/full", "w");
    if (!full)
        return;
    setvbuf(full, NULL, _IONBF, 0);
    gt_tensor *t = gt_zeros(GT_SHAPE(2));
    CHECK(gt_tensor_print(full, t, 4) == -1);
    CHECK(gt_last_status() == GT_ERR_IO);
    fclose(full);
    gt_tensor_free(t);
}

GT_TEST_MAIN()
