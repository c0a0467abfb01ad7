/* test_forward.c - forward values of each op on inputs small enough to work out by hand (the
 * working is in a comment where it is not obvious). */
#include "gt_test.h"

static gt_tape *tape;

static gt_tensor *tensor_of(int ndim, const int64_t *shape, const double *values) {
    gt_tensor *t = gt_tape_tensor(tape, ndim, shape);
    for (int64_t i = 0; i < gt_tensor_numel(t); i++)
        gt_tensor_data(t)[i] = (gt_real)values[i];
    return t;
}

#define T(values, ...) tensor_of(GT_SHAPE(__VA_ARGS__), (const double[])values)
#define V(...) {__VA_ARGS__}

static void check_values(gt_tensor *t, const double *expected, int64_t n, double tol) {
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(gt_tensor_numel(t) == n);
    for (int64_t i = 0; i < n && i < gt_tensor_numel(t); i++)
        CHECK_CLOSE(gt_tensor_data(t)[i], expected[i], tol * fmax(1.0, fabs(expected[i])));
}

#define CHECK_VALUES(t, tol, ...)                                                          \
    check_values((t), (const double[]){__VA_ARGS__},                                       \
                 (int64_t)(sizeof((const double[]){__VA_ARGS__}) / sizeof(double)), (tol))

/* Checks n values at p (a gradient) against the numbers given. */
#define CHECK_VALUES_OF(p, n, ...)                                                         \
    do {                                                                                   \
        const gt_real *p_ = (p);                                                           \
        const double want_[] = {__VA_ARGS__};                                              \
        CHECK(p_ != NULL);                                                                 \
        for (int k_ = 0; p_ && k_ < (n); k_++)                                             \
            CHECK_CLOSE(p_[k_], want_[k_], 1e-6);                                          \
    } while (0)

static void free_tape(void) { gt_tape_free(tape); }

/* One tape for the file, reset before each test and freed at exit. */
static void setup(void) {
    if (!tape) {
        tape = gt_tape_new();
        atexit(free_tape);
    }
    gt_tape_reset(tape);
}

GT_TEST(conv2d_3x3_input_2x2_kernel_by_hand) {
    setup(); /* a[i][j] = sum_pq x[i+p][j+q] w[p][q]: cross-correlation, as PyTorch's conv2d */
    gt_tensor *x = T(V(1, 2, 3, 4, 5, 6, 7, 8, 9), 1, 1, 3, 3);
    gt_tensor *w = T(V(1, 2, 3, 4), 1, 1, 2, 2);
    gt_tensor *y = gt_conv2d(tape, x, w, NULL, 1, 0);
    CHECK(gt_tensor_ndim(y) == 4 && gt_tensor_dim(y, 2) == 2 && gt_tensor_dim(y, 3) == 2);
    CHECK_VALUES(y, GT_TEST_TOL, 37, 47, 67, 77);
}

GT_TEST(conv2d_stride_2_padding_1_and_bias) {
    setup(); /* zero border, windows start at -1 and step by 2 */
    gt_tensor *x = T(V(1, 2, 3, 4, 5, 6, 7, 8, 9), 1, 1, 3, 3);
    gt_tensor *w = T(V(1, 2, 3, 4), 1, 1, 2, 2);
    gt_tensor *b = T(V(0.5), 1);
    CHECK_VALUES(gt_conv2d(tape, x, w, b, 2, 1), GT_TEST_TOL, 4.5, 18.5, 36.5, 77.5);
}

GT_TEST(conv2d_sums_input_channels_per_output_map) {
    setup();
    gt_tensor *x = T(V(1, 2, 3, 4, 10, 20, 30, 40), 1, 2, 2, 2);
    gt_tensor *w = T(V(1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0), 2, 2, 2, 2);
    CHECK_VALUES(gt_conv2d(tape, x, w, NULL, 1, 0), GT_TEST_TOL, 41, 10);
}

/* A kernel as large as the unpadded input (LeNet's C5) takes a path of its own. */
GT_TEST(conv2d_whose_kernel_covers_the_input_is_a_dot_product_per_map) {
    setup();
    gt_tensor *x = T(V(1, 2, 3, 4), 1, 1, 2, 2);
    gt_tensor *w = T(V(1, 0, 0, 1, 1, 1, 1, 1), 2, 1, 2, 2);
    CHECK_VALUES(gt_conv2d(tape, x, w, T(V(10, 20), 2), 1, 0), GT_TEST_TOL, 15, 30);
    CHECK_VALUES(gt_conv2d(tape, x, w, NULL, 3, 0), GT_TEST_TOL, 5, 10);
}

/* The C forms with an args struct: zero fields are PyTorch's defaults. */
GT_TEST(conv2d_ex_same_dilation_groups_by_hand) {
    setup();
    gt_tensor *x = T(V(1, 2, 3, 4, 5, 6, 7, 8, 9), 1, 1, 3, 3);
    gt_tensor *w = T(V(1, 2, 3, 4), 1, 1, 2, 2);
    CHECK_VALUES(gt_conv2d_ex(tape, x, w, NULL, NULL), GT_TEST_TOL, 37, 47, 67, 77);
    /* "same" with a total of 1: the extra zero row and column at the end */
    CHECK_VALUES(gt_conv2d_ex(tape, x, w, NULL,
                              &(gt_conv_args){.padding_mode = GT_CONV_PADDING_SAME}),
                 GT_TEST_TOL, 37, 47, 21, 67, 77, 33, 23, 26, 9);
    /* dilation 2: the corners */
    CHECK_VALUES(gt_conv2d_ex(tape, x, w, NULL, &(gt_conv_args){.dilation = GT_INTS(2)}),
                 GT_TEST_TOL, 1 + 2 * 3 + 3 * 7 + 4 * 9);
    /* groups 2: each channel its own map */
    CHECK_VALUES(gt_conv2d_ex(tape, T(V(1, 10), 1, 2, 1, 1), T(V(2, 3), 2, 1, 1, 1), NULL,
                              &(gt_conv_args){.groups = 2}),
                 GT_TEST_TOL, 2, 30);
}

GT_TEST(conv1d_and_conv_transpose2d_by_hand) {
    setup();
    CHECK_VALUES(gt_conv1d(tape, T(V(1, 2, 4, 8), 1, 1, 4), T(V(1, -1), 1, 1, 2), NULL, NULL),
                 GT_TEST_TOL, -1, -2, -4);
    /* each input value spread over the kernel's window: stride 2 tiles, stride 1 overlaps */
    gt_tensor *x = T(V(1, 2, 3, 4), 1, 1, 2, 2), *ones = T(V(1, 1, 1, 1), 1, 1, 2, 2);
    CHECK_VALUES(gt_conv_transpose2d(tape, x, ones, NULL, &(gt_conv_args){.stride = GT_INTS(2)}),
                 GT_TEST_TOL, 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4);
    CHECK_VALUES(gt_conv_transpose2d(tape, x, ones, T(V(0.5), 1), NULL), GT_TEST_TOL, 1.5, 3.5,
                 2.5, 4.5, 10.5, 6.5, 3.5, 7.5, 4.5);
}

GT_TEST(matmul_2x2) {
    setup();
    CHECK_VALUES(gt_matmul(tape, T(V(1, 2, 3, 4), 2, 2), T(V(5, 6, 7, 8), 2, 2)), GT_TEST_TOL,
                 19, 22, 43, 50);
}

GT_TEST(linear_is_x_times_w_transposed_plus_bias) {
    setup();
    gt_tensor *x = T(V(1, 2), 1, 2);
    gt_tensor *w = T(V(1, 1, 2, -1, 0, 3), 3, 2);
    CHECK_VALUES(gt_linear(tape, x, w, T(V(10, 20, 30), 3)), GT_TEST_TOL, 13, 20, 36);
}

GT_TEST(softmax_of_1000_1001_1002_is_finite_and_right) {
    setup();
    gt_tensor *y = gt_softmax(tape, T(V(1000, 1001, 1002), 3), -1);
    CHECK_VALUES(y, 1e-6, 0.09003057317038046, 0.24472847105479764, 0.6652409557748219);
}

/* Rows of 20 (a whole vector of 16 and a tail): -inf and values 1000 below the max give 0
 * (gt__exp_nonpos below its range); a NaN, in the vector or the tail, makes its row NaN. */
GT_TEST(softmax_rows_with_minus_inf_and_nan) {
    setup();
    double v[3 * 20];
    for (int i = 0; i < 3 * 20; i++)
        v[i] = i % 20 == 0 ? 0 : i % 20 == 1 ? -INFINITY : -1000;
    v[20 + 5] = v[40 + 18] = NAN;
    gt_tensor *y = gt_softmax(tape, tensor_of(GT_SHAPE(3, 20), v), -1);
    CHECK(y && gt_tensor_item(y, 0) == 1);
    for (int i = 1; y && i < 20; i++)
        CHECK(gt_tensor_item(y, i) == 0);
    for (int i = 20; y && i < 60; i++)
        CHECK(isnan(gt_tensor_item(y, i)));
}

GT_TEST(log_softmax_of_large_logits_is_finite_and_right) {
    setup();
    gt_tensor *y = gt_log_softmax(tape, T(V(1000, 1001, 1002), 1, 3), -1);
    CHECK_VALUES(y, 1e-6, -2.4076059644443806, -1.4076059644443806, -0.4076059644443806);
}

GT_TEST(cross_entropy_of_logits_1e4_is_finite_and_right) {
    setup(); /* row 0: the right class has 1e4: loss 0; row 1: the wrong one does: 2e4 */
    gt_tensor *logits = T(V(1e4, -1e4, 1e4, -1e4), 2, 2);
    gt_tensor *loss = gt_cross_entropy(tape, logits, T(V(0, 1), 2));
    CHECK_VALUES(loss, 1e-6, 1e4);
}

GT_TEST(cross_entropy_with_probabilities_equals_indices_for_one_hot) {
    setup();
    gt_tensor *logits = T(V(0.2, -1, 3, 0.5, 0.5, 0), 2, 3);
    gt_tensor *a = gt_cross_entropy(tape, logits, T(V(2, 0), 2));
    gt_tensor *b = gt_cross_entropy(tape, logits, T(V(0, 0, 1, 1, 0, 0), 2, 3));
    /* row 0: lse(0.2,-1,3) - 3; row 1: lse(0.5,0.5,0) - 0.5 */
    double r0 = log(exp(0.2) + exp(-1.0) + exp(3.0)) - 3;
    double r1 = log(2 * exp(0.5) + 1) - 0.5;
    CHECK_VALUES(a, 1e-6, (r0 + r1) / 2);
    CHECK_VALUES(b, 1e-6, (r0 + r1) / 2);
}

GT_TEST(sigmoid_saturates_without_overflow) {
    setup();
    CHECK_VALUES(gt_sigmoid(tape, T(V(-1000, 0, 1000), 3)), 1e-7, 0, 0.5, 1);
}

GT_TEST(relu_tanh_exp_log_values) {
    setup();
    CHECK_VALUES(gt_relu(tape, T(V(-2, 0, 3), 3)), 0, 0, 0, 3);
    CHECK_VALUES(gt_tanh(tape, T(V(0, 1), 2)), 1e-6, 0, 0.7615941559557649);
    CHECK_VALUES(gt_exp(tape, T(V(0, 1), 2)), 1e-6, 1, 2.718281828459045);
    CHECK_VALUES(gt_log(tape, T(V(1, 2.718281828459045), 2)), 1e-6, 0, 1);
}

GT_TEST(maxpool_2x2_picks_each_window_maximum) {
    setup();
    gt_tensor *x = T(V(1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4), 1, 1, 4, 4);
    CHECK_VALUES(gt_maxpool2d(tape, x, 2, 2), 0, 6, 8, 3, 4);
}

GT_TEST(maxpool_sends_gradient_to_the_first_maximum_of_a_tie) {
    setup();
    gt_tensor *x = gt_full(GT_SHAPE(1, 1, 2, 2), 5);
    gt_tensor_set_requires_grad(x, true);
    gt_tensor *y = gt_sum(tape, gt_maxpool2d(tape, x, 2, 0), GT_ALL_AXES);
    CHECK(gt_backward(tape, y) == GT_OK);
    const gt_real *g = gt_tensor_grad(x);
    CHECK(g[0] == 1 && g[1] == 0 && g[2] == 0 && g[3] == 0);
    gt_tensor_free(x);
}

/* The 2x2 pool of even-sized planes has a path of its own; odd sizes take the general one.
 * Both must pick the same value and send the gradient to the same element: the first
 * maximum of a window, or a NaN (which counts as the largest, as in PyTorch). */
GT_TEST(maxpool_2x2_fast_path_agrees_with_the_general_one_on_ties_and_nan) {
    setup();
    gt_rng rng;
    gt_rng_seed(&rng, 5);
    gt_tensor *even = gt_empty(GT_SHAPE(2, 3, 6, 8)), *odd = gt_full(GT_SHAPE(2, 3, 7, 9), -1e9);
    for (int64_t p = 0; p < 6; p++)
        for (int64_t r = 0; r < 6; r++)
            for (int64_t c = 0; c < 8; c++) {
                gt_real v = (gt_real)gt_rng_below(&rng, 3); /* many ties */
                if (gt_rng_below(&rng, 40) == 0)
                    v = (gt_real)NAN;
                gt_tensor_data(even)[(p * 6 + r) * 8 + c] = v;
                gt_tensor_data(odd)[(p * 7 + r) * 9 + c] = v;
            }
    gt_tensor_set_requires_grad(even, true);
    gt_tensor_set_requires_grad(odd, true);
    gt_tensor *ye = gt_maxpool2d(tape, even, 2, 2), *yo = gt_maxpool2d(tape, odd, 2, 2);
    CHECK(ye && yo && gt_tensor_numel(ye) == gt_tensor_numel(yo));
    int nan_windows = 0;
    for (int64_t i = 0; ye && yo && i < gt_tensor_numel(ye); i++) {
        gt_real a = gt_tensor_item(ye, i), b = gt_tensor_item(yo, i);
        CHECK(a == b || (isnan(a) && isnan(b)));
        nan_windows += isnan(a);
    }
    CHECK(nan_windows > 0);
    gt_tensor *up = gt_rand(GT_SHAPE(2, 3, 3, 4), 1, 2, &rng);
    CHECK(gt_backward_with(tape, ye, up) == GT_OK && gt_backward_with(tape, yo, up) == GT_OK);
    for (int64_t p = 0; p < 6; p++)
        for (int64_t r = 0; r < 6; r++)
            for (int64_t c = 0; c < 8; c++)
                CHECK(gt_tensor_grad(even)[(p * 6 + r) * 8 + c] ==
                      gt_tensor_grad(odd)[(p * 7 + r) * 9 + c]);
    gt_tensor_free(up);
    gt_tensor_free(even);
    gt_tensor_free(odd);
}

GT_TEST(maxpool_2x2_writes_an_intermediate_gradient_whole_as_the_scatter_adds_it) {
    /* the pool's input on the tape: its gradient starts stale (zero by contract) and the
     * 2x2 backward writes it whole, g at each window's first maximum, +0 elsewhere, and
     * 0 + g (a -0 made +0) where the scatter added g into zeros */
    setup();
    gt_rng rng;
    gt_rng_seed(&rng, 7);
    gt_tensor *x = gt_empty(GT_SHAPE(2, 3, 6, 8)), *up = gt_empty(GT_SHAPE(2, 3, 3, 4));
    for (int64_t i = 0; i < gt_tensor_numel(x); i++)
        gt_tensor_data(x)[i] = (gt_real)gt_rng_below(&rng, 3); /* many ties */
    for (int64_t i = 0; i < gt_tensor_numel(up); i++)
        gt_tensor_data(up)[i] = i % 5 == 0 ? (gt_real)-0.0 : (gt_real)(i % 7) - 3;
    gt_tensor_set_requires_grad(x, true);
    gt_tensor *mid = gt_scale(tape, x, 1.0);
    gt_tensor *y = gt_maxpool2d(tape, mid, 2, 2);
    CHECK(y && gt_backward_with(tape, y, up) == GT_OK);
    const gt_real *xs = gt_tensor_data(x), *g = gt_tensor_grad(mid);
    CHECK(g != NULL);
    for (int64_t p = 0; g && p < 6; p++)
        for (int64_t oy = 0; oy < 3; oy++)
            for (int64_t ox = 0; ox < 4; ox++) {
                int64_t tl = (p * 6 + 2 * oy) * 8 + 2 * ox, at[4] = {tl, tl + 1, tl + 8, tl + 9};
                int64_t best = at[0];
                for (int k = 1; k < 4; k++)
                    best = xs[at[k]] > xs[best] ? at[k] : best;
                gt_real u = gt_tensor_data(up)[(p * 3 + oy) * 4 + ox];
                for (int k = 0; k < 4; k++) {
                    gt_real want = at[k] == best ? 0 + u : 0;
                    CHECK(g[at[k]] == want && !signbit(g[at[k]]) == !signbit(want));
                }
            }
    gt_tensor_free(up);
    gt_tensor_free(x);
}

GT_TEST(avgpool_averages_windows) {
    setup();
    gt_tensor *x = T(V(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), 1, 1, 4, 4);
    CHECK_VALUES(gt_avgpool2d(tape, x, 2, 2), GT_TEST_TOL, 3.5, 5.5, 11.5, 13.5);
    CHECK_VALUES(gt_avgpool2d(tape, x, 3, 1), GT_TEST_TOL, 6, 7, 10, 11);
}

GT_TEST(add_broadcasts_a_column_against_a_row) {
    setup();
    gt_tensor *y = gt_add(tape, T(V(10, 20), 2, 1), T(V(1, 2, 3), 3));
    CHECK(gt_tensor_ndim(y) == 2 && gt_tensor_dim(y, 0) == 2 && gt_tensor_dim(y, 1) == 3);
    CHECK_VALUES(y, 0, 11, 12, 13, 21, 22, 23);
}

GT_TEST(sub_mul_div_neg_scale) {
    setup();
    gt_tensor *a = T(V(6, 8), 2), *b = T(V(2, 4), 2);
    CHECK_VALUES(gt_sub(tape, a, b), 0, 4, 4);
    CHECK_VALUES(gt_mul(tape, a, b), 0, 12, 32);
    CHECK_VALUES(gt_div(tape, a, b), 0, 3, 2);
    CHECK_VALUES(gt_neg(tape, a), 0, -6, -8);
    CHECK_VALUES(gt_scale(tape, a, 0.5), 0, 3, 4);
}

GT_TEST(sum_and_mean_over_all_or_one_axis) {
    setup();
    gt_tensor *x = T(V(1, 2, 3, 4, 5, 6), 2, 3);
    gt_tensor *all = gt_sum(tape, x, GT_ALL_AXES);
    CHECK(gt_tensor_ndim(all) == 0);
    CHECK_VALUES(all, 0, 21);
    CHECK_VALUES(gt_sum(tape, x, 0), 0, 5, 7, 9);
    CHECK_VALUES(gt_sum(tape, x, -1), 0, 6, 15);
    CHECK_VALUES(gt_mean(tape, x, 1), GT_TEST_TOL, 2, 5);
    CHECK_VALUES(gt_mean(tape, x, GT_ALL_AXES), GT_TEST_TOL, 3.5);
}

GT_TEST(reshape_and_flatten_share_data_without_copying) {
    setup();
    gt_tensor *x = T(V(1, 2, 3, 4, 5, 6), 1, 2, 3);
    gt_tensor *r = gt_reshape(tape, x, GT_SHAPE(3, -1));
    CHECK(r && gt_tensor_dim(r, 0) == 3 && gt_tensor_dim(r, 1) == 2);
    CHECK(gt_tensor_data(r) == gt_tensor_data(x));
    gt_tensor *f = gt_flatten(tape, x, 1);
    CHECK(f && gt_tensor_ndim(f) == 2 && gt_tensor_dim(f, 1) == 6);
    CHECK(gt_tensor_data(f) == gt_tensor_data(x));
}

GT_TEST(transpose_swaps_rows_and_columns) {
    setup();
    CHECK_VALUES(gt_transpose(tape, T(V(1, 2, 3, 4, 5, 6), 2, 3), 0, 1), 0, 1, 4, 2, 5, 3, 6);
}

GT_TEST(mse_loss_is_the_mean_square) {
    setup();
    CHECK_VALUES(gt_mse_loss(tape, T(V(1, 2, 3), 3), T(V(1, 0, 0), 3)), GT_TEST_TOL, 13.0 / 3);
}

GT_TEST(rng_stream_is_xoshiro256ss_seeded_by_splitmix64) {
    /* Values from an independent implementation of the published algorithms. */
    gt_rng rng;
    gt_rng_seed(&rng, 42);
    CHECK(gt_rng_next(&rng) == 0x15780b2e0c2ec716ull);
    CHECK(gt_rng_next(&rng) == 0x6104d9866d113a7eull);
    CHECK(gt_rng_next(&rng) == 0xae17533239e499a1ull);
}

GT_TEST(same_seed_gives_same_tensors) {
    gt_rng a, b;
    gt_rng_seed(&a, 7);
    gt_rng_seed(&b, 7);
    gt_tensor *x = gt_randn(GT_SHAPE(100), 0, 1, &a), *y = gt_randn(GT_SHAPE(100), 0, 1, &b);
    gt_tensor *u = gt_rand(GT_SHAPE(50), -1, 1, &a);
    CHECK(memcmp(gt_tensor_data(x), gt_tensor_data(y), 100 * sizeof(gt_real)) == 0);
    double mean = 0;
    for (int i = 0; i < 50; i++) {
        CHECK(gt_tensor_data(u)[i] >= -1 && gt_tensor_data(u)[i] < 1);
        mean += gt_tensor_data(u)[i] / 50;
    }
    CHECK(fabs(mean) < 0.3);
    gt_tensor_free(x);
    gt_tensor_free(y);
    gt_tensor_free(u);
}

GT_TEST(constructors_fill_values) {
    gt_tensor *z = gt_zeros(GT_SHAPE(2, 2)), *o = gt_ones(GT_SHAPE(3)),
              *f = gt_full(GT_SHAPE(2), 2.5),
              *a = gt_from_array(GT_SHAPE(2), (const gt_real[]){7, 8});
    CHECK(gt_tensor_item(z, 3) == 0 && gt_tensor_item(o, 2) == 1);
    CHECK(gt_tensor_item(f, 1) == (gt_real)2.5 && gt_tensor_item(a, 1) == 8);
    gt_tensor *c = gt_tensor_clone(a);
    CHECK(c && gt_tensor_data(c) != gt_tensor_data(a) && gt_tensor_item(c, 0) == 7);
    gt_tensor_free(z);
    gt_tensor_free(o);
    gt_tensor_free(f);
    gt_tensor_free(a);
    gt_tensor_free(c);
}

/* The float build's vectorised exp, tanh and sigmoid (ops/gt_vmath.h) against libm in
 * double over a dense grid: a few float ulps at most; NaN stays NaN, overflow is inf. */
GT_TEST(exp_tanh_sigmoid_match_libm_to_a_few_ulps) {
    enum { N = 200001 };
    gt_tensor *x = gt_empty(GT_SHAPE(N));
    for (int i = 0; i < N; i++) /* -100 .. 100, denser near 0 */
        gt_tensor_data(x)[i] = (gt_real)(100 * pow((i - N / 2) / (double)(N / 2), 3));
    setup();
    gt_tensor *e = gt_exp(tape, x), *t = gt_tanh(tape, x), *s = gt_sigmoid(tape, x);
    double worst[3] = {0};
    for (int i = 0; i < N; i++) {
        double v = gt_tensor_data(x)[i];
        double ref[3] = {exp(v), tanh(v), 1 / (1 + exp(-v))};
        double got[3] = {gt_tensor_item(e, i), gt_tensor_item(t, i), gt_tensor_item(s, i)};
        for (int k = 0; k < 3; k++) {
            if (k == 0 && (v < -87.3 || v > 88.3))
                continue; /* outside float's range: checked below */
            if (fabs(ref[k]) < 1.2e-38) { /* the float build flushes subnormals to 0 */
                CHECK(fabs(got[k] - ref[k]) < 1.2e-38);
                continue;
            }
            worst[k] = fmax(worst[k], fabs(got[k] - ref[k]) / fabs(ref[k]));
        }
    }
    double ulp = GT_REAL_NAME[0] == 'f' ? 1.1920929e-7 : 2.220446e-16;
    printf("  max relative error: exp %.2g, tanh %.2g, sigmoid %.2g (ulp %.2g)\n", worst[0],
           worst[1], worst[2], ulp);
    CHECK(worst[0] <= 2 * ulp && worst[1] <= 4 * ulp && worst[2] <= 4 * ulp);
    gt_tensor *special = T(V(NAN, 1000, -1000, 0), 4);
    gt_tensor *se = gt_exp(tape, special), *st = gt_tanh(tape, special);
    CHECK(isnan(gt_tensor_item(se, 0)) && isnan(gt_tensor_item(st, 0)));
    CHECK(isnan(gt_tensor_item(gt_sigmoid(tape, special), 0)));
    CHECK(isinf(gt_tensor_item(se, 1)) && gt_tensor_item(se, 2) == 0 && gt_tensor_item(se, 3) == 1);
    CHECK(gt_tensor_item(st, 1) == 1 && gt_tensor_item(st, 2) == -1 && gt_tensor_item(st, 3) == 0);
    gt_tensor_free(x);
}

GT_TEST(rand_never_reaches_high_even_where_the_type_rounds_up) {
    /* at 2^24 floats are 2 apart: low + 2u rounds to high for half of the draws */
    gt_rng rng;
    gt_rng_seed(&rng, 3);
    gt_real low = 16777216, high = 16777218;
    gt_tensor *t = gt_rand(GT_SHAPE(1000), low, high, &rng);
    int64_t outside = 0;
    for (int64_t i = 0; i < 1000; i++)
        outside += !(gt_tensor_data(t)[i] >= low && gt_tensor_data(t)[i] < high);
    CHECK(outside == 0);
    gt_tensor_free(t);
}

GT_TEST(heap_tensors_reshape_in_place_and_transpose_into_a_copy) {
    gt_tensor *t = gt_from_array(GT_SHAPE(2, 3), (const gt_real[]){1, 2, 3, 4, 5, 6});
    gt_real *data = gt_tensor_data(t);
    CHECK(gt_tensor_reshape(t, GT_SHAPE(3, -1)) == GT_OK); /* -1: the size that fits */
    CHECK(gt_tensor_ndim(t) == 2 && gt_tensor_dim(t, 0) == 3 && gt_tensor_dim(t, 1) == 2);
    CHECK(gt_tensor_data(t) == data && data[5] == 6); /* no copy */
    CHECK(gt_tensor_reshape(t, GT_SHAPE(4, -1)) == GT_ERR_SHAPE);
    CHECK_ERROR_HAS("tensor_reshape: cannot view [3, 2] (6 elements) as [4, -1]");
    CHECK(gt_tensor_dim(t, 0) == 3); /* a refused reshape changes nothing */
    CHECK(gt_tensor_reshape(t, GT_SHAPE(-1, -1)) == GT_ERR_SHAPE);
    gt_tensor *y = gt_tensor_transposed(t); /* [3, 2] -> [2, 3] */
    CHECK(y && gt_tensor_dim(y, 0) == 2 && gt_tensor_dim(y, 1) == 3);
    const gt_real want[] = {1, 3, 5, 2, 4, 6};
    for (int i = 0; y && i < 6; i++)
        CHECK(gt_tensor_data(y)[i] == want[i]);
    CHECK(gt_tensor_reshape(t, GT_SHAPE(6)) == GT_OK);
    CHECK(gt_tensor_transposed(t) == NULL);
    CHECK_ERROR_HAS("tensor_transposed: expects a 2-D tensor, got [6]");
    gt_tensor *view = gt_reshape(tape, t, GT_SHAPE(2, 3)); /* the file's tape */
    CHECK(view && gt_tensor_reshape(view, GT_SHAPE(3, 2)) == GT_ERR_STATE);
    gt_tensor_free(y);
    gt_tensor_free(t);
}

/* Ties, where the gradient splits as PyTorch 1.13's does (values from torch): maximum
 * halves it, amax and max over every element share it evenly, max over a dim sends it to
 * the first maximum; argmax takes the first. */
static gt_tensor *leaf_of(int ndim, const int64_t *shape, const double *values) {
    gt_tensor *t = gt_zeros(ndim, shape);
    for (int64_t i = 0; i < gt_tensor_numel(t); i++)
        gt_tensor_data(t)[i] = (gt_real)values[i];
    gt_tensor_set_requires_grad(t, true);
    return t;
}

GT_TEST(ties_split_the_gradient_as_pytorch_does) {
    setup();
    const double ab[] = {1, 2, 3, 1, 3, 2}, x6[] = {1, 3, 3, 2, 2, 0};
    gt_tensor *a = leaf_of(GT_SHAPE(3), ab), *b = leaf_of(GT_SHAPE(3), ab + 3);
    CHECK(gt_backward(tape, gt_sum(tape, gt_maximum(tape, a, b), GT_ALL_AXES)) == GT_OK);
    CHECK_VALUES_OF(gt_tensor_grad(a), 3, 0.5, 0, 1);
    CHECK_VALUES_OF(gt_tensor_grad(b), 3, 0.5, 1, 0);
    gt_tensor *x = leaf_of(GT_SHAPE(2, 3), x6);
    gt_tape_reset(tape);
    CHECK(gt_backward(tape, gt_sum(tape, gt_amax(tape, x, GT_INTS(1), false), GT_ALL_AXES)) ==
          GT_OK);
    CHECK_VALUES_OF(gt_tensor_grad(x), 6, 0, 0.5, 0.5, 0.5, 0.5, 0);
    gt_tensor_zero_grad(x);
    gt_tape_reset(tape);
    CHECK(gt_backward(tape, gt_sum(tape, gt_max(tape, x, 1, false), GT_ALL_AXES)) == GT_OK);
    CHECK_VALUES_OF(gt_tensor_grad(x), 6, 0, 1, 0, 1, 0, 0);
    gt_tensor_zero_grad(x);
    gt_tape_reset(tape);
    CHECK(gt_backward(tape, gt_max(tape, x, GT_ALL_AXES, false)) == GT_OK);
    CHECK_VALUES_OF(gt_tensor_grad(x), 6, 0, 0.5, 0.5, 0, 0, 0);
    gt_tensor *index = gt_argmax(tape, x, 1, false);
    CHECK_VALUES(index, 0, 1, 0);
    CHECK(index && !gt_tensor_requires_grad(index));
    gt_tensor_free(a);
    gt_tensor_free(b);
    gt_tensor_free(x);
}

/* add, sub and mul write a stale gradient of an operand of the output's shape (=, not +=:
 * gt_tensor_zero_grad leaves the old values in the buffer) and sum a broadcast operand's
 * runs in lanes; x used twice, and a broadcast operand whose gradient is stale, add up. */
GT_TEST(binary_ops_write_stale_gradients_and_sum_broadcast_runs) {
    setup();
    const double xv[] = {1, 2, 3, 4, 5, 6}, bv[] = {10, 20, 30};
    gt_tensor *x = leaf_of(GT_SHAPE(2, 3), xv), *b = leaf_of(GT_SHAPE(3), bv);
    for (int round = 0; round < 2; round++) { /* the second round on stale gradients */
        /* sum(x * b + x - b): d/dx = b + 1, d/db = x[0] + x[1] - 2 per column */
        gt_tensor *y = gt_sub(tape, gt_add(tape, gt_mul(tape, x, b), x), b);
        CHECK(gt_backward(tape, gt_sum(tape, y, GT_ALL_AXES)) == GT_OK);
        CHECK_VALUES_OF(gt_tensor_grad(x), 6, 11, 21, 31, 11, 21, 31);
        CHECK_VALUES_OF(gt_tensor_grad(b), 3, 3, 5, 7);
        gt_tensor_zero_grad(x);
        gt_tensor_zero_grad(b);
        gt_tape_reset(tape);
    }
    gt_tensor *twice = gt_add(tape, x, x); /* both operands x: written, then added */
    CHECK(gt_backward(tape, gt_sum(tape, gt_mul(tape, twice, twice), GT_ALL_AXES)) == GT_OK);
    CHECK_VALUES_OF(gt_tensor_grad(x), 6, 8, 16, 24, 32, 40, 48);
    gt_tape_reset(tape);
    enum { R = 37, C = 300 }; /* runs longer than the lanes, with tails */
    gt_tensor *big = gt_tape_tensor(tape, GT_SHAPE(R, 1, C)), *row = gt_zeros(GT_SHAPE(R, 1, 1));
    for (int64_t i = 0; i < R * C; i++)
        gt_tensor_data(big)[i] = (gt_real)((i % 7) - 3) / 4;
    gt_tensor_set_requires_grad(row, true);
    CHECK(gt_backward(tape, gt_sum(tape, gt_mul(tape, big, row), GT_ALL_AXES)) == GT_OK);
    for (int r = 0; r < R; r++) {
        double expect = 0;
        for (int c = 0; c < C; c++)
            expect += (double)gt_tensor_data(big)[r * C + c];
        CHECK(fabs(gt_tensor_grad(row)[r] - expect) < 1e-4);
    }
    gt_tensor_free(row);
    gt_tensor_free(x);
    gt_tensor_free(b);
}

/* gelu's exact form in the float build uses a vectorising erf (a rational function,
 * ops/gt_vmath.h): within a few float ulps of x * Phi(x) in double over [-8, 8]. Its worst,
 * 5.5e-7 near x = -4.7, is erf's absolute error (4.2e-7, the float rounding of its
 * polynomials near erf = -1) times |x| / 2; the A&S 7.1.26 it replaced reached 4e-7 there
 * but 3% relative error in erf near 0. */
GT_TEST(gelu_matches_the_exact_form_over_a_range) {
    setup();
    enum { N = 1601 };
    gt_tensor *x = gt_tape_tensor(tape, GT_SHAPE(N));
    for (int i = 0; i < N; i++)
        gt_tensor_data(x)[i] = (gt_real)(-8.0 + 0.01 * i);
    gt_tensor *y = gt_gelu(tape, x, GT_GELU_NONE);
    CHECK(y != NULL);
    double worst = 0;
    for (int i = 0; y && i < N; i++) {
        double v = (double)gt_tensor_data(x)[i];
        double exact = 0.5 * v * (1 + erf(v / sqrt(2.0)));
        worst = fmax(worst, fabs((double)gt_tensor_data(y)[i] - exact) / fmax(1.0, fabs(exact)));
    }
    CHECK(worst < (GT_REAL_NAME[0] == 'f' ? 7e-7 : 5e-7));
}

/* split and chunk are narrows of x: the pieces hold x's rows in order, and their gradients
 * add back into x. */
GT_TEST(split_and_chunk_cut_along_a_dim) {
    gt_tape *t = gt_tape_new();
    gt_tensor *x = gt_tape_tensor(t, 2, (int64_t[]){5, 2});
    for (int i = 0; i < 10; i++)
        gt_tensor_data(x)[i] = (gt_real)i;
    gt_tensor *pieces[4];
    CHECK(gt_split_into(t, x, 2, 0, pieces, 4) == 3);
    CHECK(gt_tensor_shape(pieces[2])[0] == 1 && gt_tensor_data(pieces[2])[1] == 9);
    CHECK(gt_tensor_data(pieces[1])[0] == 4);
    CHECK(gt_chunk(t, x, 2, -1, pieces, 4) == 2);
    CHECK(gt_tensor_shape(pieces[1])[1] == 1 && gt_tensor_data(pieces[1])[4] == 9);
    CHECK(gt_chunk(t, x, 4, 0, pieces, 4) == 3); /* ceil(5 / 4) = 2 rows each: 3 pieces */
    CHECK(gt_split_into(t, x, 1, 0, pieces, 4) == -1);
    CHECK(strstr(gt_last_error(), "split: [5, 2] along dim 0 gives 5 pieces, more than "
                                   "max_out 4") != NULL);
    CHECK(gt_chunk(t, x, 0, 0, pieces, 4) == -1);
    CHECK(strstr(gt_last_error(), "chunk: chunks must be >= 1, got 0") != NULL);
    gt_tape_free(t);
}

GT_TEST_MAIN()
