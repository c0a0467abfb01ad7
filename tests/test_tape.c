/* test_tape.c - the tape: what it records, how gradients accumulate, misuse, memory. */
#include "gt_test.h"

static gt_tensor *param(int ndim, const int64_t *shape, gt_real value) {
    gt_tensor *t = gt_full(ndim, shape, value);
    gt_tensor_set_requires_grad(t, true);
    return t;
}

GT_TEST(nothing_is_recorded_when_no_input_requires_grad) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_ones(GT_SHAPE(3));
    gt_tensor *y = gt_sum(tape, gt_mul(tape, x, x), GT_ALL_AXES);
    CHECK(y && gt_tape_get_stats(tape).nodes == 0 && !gt_tensor_requires_grad(y));
    CHECK(gt_backward(tape, y) == GT_ERR_STATE);
    CHECK_ERROR_HAS("does not require a gradient");
    gt_tensor_free(x);
    gt_tape_free(tape);
}

GT_TEST(no_grad_scope_records_nothing_and_restores) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(2), 3);
    bool was = gt_tape_set_grad_enabled(tape, false);
    CHECK(was);
    gt_tensor *y = gt_mul(tape, w, w);
    CHECK(y && gt_tape_get_stats(tape).nodes == 0 && !gt_tensor_requires_grad(y));
    gt_tape_set_grad_enabled(tape, was);
    CHECK(gt_tape_grad_enabled(tape));
    CHECK(gt_mul(tape, w, w) && gt_tape_get_stats(tape).nodes == 1);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(a_tensor_used_twice_gets_both_contributions) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *a = param(GT_SHAPE(2), 1.5);
    /* y = sum(a + a) + sum(a * a): dy/da = 2 + 2a = 5 */
    gt_tensor *y = gt_add(tape, gt_sum(tape, gt_add(tape, a, a), GT_ALL_AXES),
                          gt_sum(tape, gt_mul(tape, a, a), GT_ALL_AXES));
    CHECK(gt_backward(tape, y) == GT_OK);
    CHECK_CLOSE(gt_tensor_grad(a)[0], 5, GT_TEST_TOL);
    CHECK_CLOSE(gt_tensor_grad(a)[1], 5, GT_TEST_TOL);
    gt_tensor_free(a);
    gt_tape_free(tape);
}

GT_TEST(leaf_gradients_accumulate_across_steps_until_zeroed) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(1), 2);
    for (int step = 0; step < 3; step++) {
        gt_tensor *y = gt_sum(tape, gt_mul(tape, w, w), GT_ALL_AXES);
        CHECK(gt_backward(tape, y) == GT_OK);
        gt_tape_reset(tape);
    }
    CHECK_CLOSE(gt_tensor_grad(w)[0], 12, GT_TEST_TOL); /* 3 x 2w */
    gt_tensor_zero_grad(w);
    CHECK(gt_tensor_grad(w)[0] == 0);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(backward_twice_on_a_live_tape_recomputes_intermediates_from_zero) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(1), 3);
    gt_tensor *h = gt_mul(tape, w, w);
    gt_tensor *y = gt_sum(tape, gt_scale(tape, h, 2), GT_ALL_AXES);
    CHECK(gt_backward(tape, y) == GT_OK);
    CHECK(gt_backward(tape, y) == GT_OK);
    CHECK_CLOSE(gt_tensor_grad(w)[0], 2 * 12, GT_TEST_TOL); /* twice 4w, not more */
    CHECK_CLOSE(gt_tensor_grad(h)[0], 2, GT_TEST_TOL);      /* intermediate: dy/dh */
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(backward_over_a_released_tape_is_an_error) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(1), 3);
    gt_tensor *y = gt_sum(tape, gt_mul(tape, w, w), GT_ALL_AXES);
    gt_tape_reset(tape);
    CHECK(gt_backward(tape, y) == GT_ERR_STATE);
    CHECK_ERROR_HAS("released tape");
    CHECK(gt_tensor_grad(w)[0] == 0);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(an_op_on_a_released_tensor_is_an_error) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(2), 1);
    gt_tensor *h = gt_mul(tape, w, w);
    gt_tape_reset(tape);
    CHECK(gt_relu(tape, h) == NULL);
    CHECK_ERROR_HAS("relu: an input was released by gt_tape_reset");
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(a_tensor_from_another_tape_is_an_error) {
    gt_tape *a = gt_tape_new(), *b = gt_tape_new();
    gt_tensor *x = gt_tape_tensor(a, GT_SHAPE(2));
    CHECK(gt_exp(b, x) == NULL);
    CHECK_ERROR_HAS("exp: an input belongs to another tape");
    gt_tape_free(a);
    gt_tape_free(b);
}

GT_TEST(backward_from_a_non_scalar_needs_an_upstream_gradient) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(2), 2);
    gt_tensor *y = gt_mul(tape, w, w);
    CHECK(gt_backward(tape, y) == GT_ERR_SHAPE);
    CHECK_ERROR_HAS("backward: the tensor has shape [2], not one element");
    gt_tensor *bad = gt_ones(GT_SHAPE(3));
    CHECK(gt_backward_with(tape, y, bad) == GT_ERR_SHAPE);
    CHECK_ERROR_HAS("upstream gradient [3] does not match tensor [2]");
    gt_tensor *upstream = gt_from_array(GT_SHAPE(2), (const gt_real[]){1, -2});
    CHECK(gt_backward_with(tape, y, upstream) == GT_OK);
    CHECK_CLOSE(gt_tensor_grad(w)[0], 4, GT_TEST_TOL);
    CHECK_CLOSE(gt_tensor_grad(w)[1], -8, GT_TEST_TOL);
    gt_tensor_free(bad);
    gt_tensor_free(upstream);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

static gt_status doubling_hook(gt_tensor *t, gt_tensor *grad, void *user) {
    (void)t, (void)user;
    for (int64_t i = 0; i < gt_tensor_numel(grad); i++)
        gt_tensor_data(grad)[i] *= 2;
    return GT_OK;
}

/* The upstream gradient is read in place (gt_backward_with's may_borrow): never written,
 * the root keeps no gradient of its own; copied when a hook on the root may change it or a
 * leaf's gradient shares its memory, with the same results. */
GT_TEST(backward_with_reads_the_upstream_gradient_and_never_writes_it) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(2), 2);
    gt_tensor *upstream = gt_from_array(GT_SHAPE(2), (const gt_real[]){1, -2});
    gt_tensor *y = gt_mul(tape, w, w);
    CHECK(gt_backward_with(tape, y, upstream) == GT_OK);
    CHECK(gt_tensor_grad(y) == NULL);
    CHECK(gt_tensor_item(upstream, 0) == 1 && gt_tensor_item(upstream, 1) == -2);
    CHECK_CLOSE(gt_tensor_grad(w)[1], -8, GT_TEST_TOL); /* 2w * -2 */
    CHECK(gt_tape_register_hook(tape, y, doubling_hook, NULL) > 0); /* copied: the hook */
    CHECK(gt_backward_with(tape, y, upstream) == GT_OK);
    CHECK(gt_tensor_item(upstream, 0) == 1 && gt_tensor_item(upstream, 1) == -2);
    CHECK_CLOSE(gt_tensor_grad(w)[1], -8 - 16, GT_TEST_TOL);
    gt_tape_reset(tape);
    gt_tensor_zero_grad(w); /* upstream over w's gradient: (1, -2) there, then added into */
    gt_real *g = gt_tensor_grad(w);
    g[0] = 1, g[1] = -2;
    gt_tensor *aliased = gt_tensor_wrap(GT_SHAPE(2), g, NULL);
    y = gt_mul(tape, w, w);
    CHECK(aliased && gt_backward_with(tape, y, aliased) == GT_OK);
    CHECK_CLOSE(gt_tensor_grad(w)[0], 1 + 4 * 1, GT_TEST_TOL);
    CHECK_CLOSE(gt_tensor_grad(w)[1], -2 + 4 * -2, GT_TEST_TOL);
    gt_tensor_free(aliased);
    gt_tensor_free(upstream);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(a_null_input_is_reported_not_dereferenced) {
    gt_tape *tape = gt_tape_new();
    CHECK(gt_relu(tape, NULL) == NULL);
    CHECK_ERROR_HAS("relu: an input tensor is NULL");
    CHECK(gt_add(NULL, NULL, NULL) == NULL);
    CHECK_ERROR_HAS("add: tape is NULL");
    CHECK(gt_backward(tape, NULL) == GT_ERR_ARG);
    gt_tape_free(tape);
}

GT_TEST(gradients_only_reach_tensors_that_require_them) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(2), 2), *x = gt_ones(GT_SHAPE(2));
    CHECK(gt_backward(tape, gt_sum(tape, gt_mul(tape, w, x), GT_ALL_AXES)) == GT_OK);
    CHECK(gt_tensor_grad(x) == NULL);
    CHECK(gt_tensor_set_requires_grad(w, false) == GT_OK && gt_tensor_grad(w) == NULL);
    gt_tensor_free(w);
    gt_tensor_free(x);
    gt_tape_free(tape);
}

GT_TEST(tape_tensors_cannot_be_marked_as_leaves) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *t = gt_tape_tensor(tape, GT_SHAPE(2));
    CHECK(gt_tensor_set_requires_grad(t, true) == GT_ERR_STATE);
    gt_tape_free(tape);
}

/* ---- memory ------------------------------------------------------------------------ */

static long allocations;
static long fail_after = -1;

static void *counting_alloc(size_t size, void *ctx) {
    (void)ctx;
    if (fail_after >= 0 && allocations >= fail_after)
        return NULL;
    allocations++;
    return malloc(size);
}

static void counting_free(void *ptr, void *ctx) {
    (void)ctx;
    free(ptr);
}

static const gt_allocator counting = {counting_alloc, counting_free, NULL};

/* One training step of a small conv net: conv, pool, linear, cross-entropy, backward. */
static bool train_step(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *fc,
                       gt_tensor *labels) {
    gt_tensor *h = gt_maxpool2d(tape, gt_relu(tape, gt_conv2d(tape, x, w, NULL, 1, 1)), 2, 2);
    gt_tensor *logits = gt_linear(tape, gt_flatten(tape, h, 1), fc, NULL);
    gt_tensor *loss = gt_cross_entropy(tape, logits, labels);
    bool ok = loss && gt_backward(tape, loss) == GT_OK;
    gt_tape_reset(tape);
    return ok;
}

/* train_step's inputs, drawn from `seed`: x[8,1,12,12], w[4,1,3,3], fc[10,144] (these two
 * requiring gradients), labels[8] of class 0. */
static void small_conv_net(uint64_t seed, gt_tensor **x, gt_tensor **w, gt_tensor **fc,
                           gt_tensor **labels) {
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    *x = gt_randn(GT_SHAPE(8, 1, 12, 12), 0, 1, &rng);
    *w = gt_randn(GT_SHAPE(4, 1, 3, 3), 0, 0.3, &rng);
    *fc = gt_randn(GT_SHAPE(10, 4 * 6 * 6), 0, 0.1, &rng);
    *labels = gt_zeros(GT_SHAPE(8));
    gt_tensor_set_requires_grad(*w, true);
    gt_tensor_set_requires_grad(*fc, true);
}

GT_TEST(after_the_first_step_a_training_loop_allocates_nothing) {
    gt_tensor *x, *w, *fc, *labels;
    small_conv_net(3, &x, &w, &fc, &labels);
    gt_set_allocator(&counting);
    gt_tape *tape = gt_tape_new();
    CHECK(train_step(tape, x, w, fc, labels)); /* the arena grows to fit one step */
    long after_first = allocations;
    for (int step = 0; step < 2; step++)
        CHECK(train_step(tape, x, w, fc, labels)); /* may merge chunks once, at reset */
    long after_third = allocations;
    for (int step = 0; step < 5; step++)
        CHECK(train_step(tape, x, w, fc, labels));
    CHECK(allocations == after_third);
    CHECK(after_third - after_first <= 1);
    gt_tape_free(tape);
    gt_set_allocator(NULL);
    gt_tensor_free(x);
    gt_tensor_free(w);
    gt_tensor_free(fc);
    gt_tensor_free(labels);
}

/* A conv's patches and a 2x2 pool's pairs are temporaries of their forward, and a conv's
 * backward scratch lasts for its node's backward only: both live in the tape's scratch,
 * kept across steps, so that the arena holds only what backwards read. */
GT_TEST(temporaries_live_in_the_tapes_scratch_not_in_the_arena) {
    gt_tensor *x, *w, *fc, *labels;
    small_conv_net(4, &x, &w, &fc, &labels);
    gt_tape *tape = gt_tape_new();
    gt_tensor *conv = gt_conv2d(tape, x, w, NULL, 1, 1); /* [8, 4, 12, 12] */
    gt_tensor *pooled = gt_maxpool2d(tape, conv, 2, 2);   /* [8, 4, 6, 6] */
    gt_tensor *loss = gt_cross_entropy(tape, gt_linear(tape, gt_flatten(tape, pooled, 1), fc,
                                                       NULL), labels);
    CHECK(loss && gt_backward(tape, loss) == GT_OK);
    gt_tape_stats first = gt_tape_get_stats(tape);
    CHECK(first.scratch_bytes > 0);
    /* the arena: the tensors, their gradients and what backwards keep (the pool's argmax),
     * far less than twice the conv's output and gradient as the pairs would add */
    size_t conv_bytes = 8 * 4 * 12 * 12 * sizeof(gt_real);
    CHECK(first.bytes_used < 4 * conv_bytes);
    gt_tape_reset(tape);
    CHECK(train_step(tape, x, w, fc, labels));
    CHECK(gt_tape_get_stats(tape).scratch_bytes == first.scratch_bytes);
    gt_tape_free(tape);
    gt_tensor_free(x);
    gt_tensor_free(w);
    gt_tensor_free(fc);
    gt_tensor_free(labels);
}

GT_TEST(the_arena_grows_past_its_first_chunk) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *big = NULL;
    for (int i = 0; i < 20; i++)
        big = gt_tape_tensor(tape, GT_SHAPE(100, 1000)); /* 20 x 400 kB */
    CHECK(big != NULL && gt_tensor_data(big)[99999] == 0);
    gt_tape_stats stats = gt_tape_get_stats(tape);
    CHECK(stats.bytes_used >= 20 * 100000 * sizeof(gt_real));
    gt_tape_reset(tape);
    CHECK(gt_tape_get_stats(tape).bytes_used == 0);
    CHECK(gt_tape_get_stats(tape).bytes_reserved >= 20 * 100000 * sizeof(gt_real));
    gt_tape_free(tape);
}

GT_TEST(allocation_failure_is_an_error_not_a_crash) {
    allocations = 0;
    fail_after = 0;
    gt_set_allocator(&counting);
    CHECK(gt_zeros(GT_SHAPE(4)) == NULL);
    CHECK(gt_last_status() == GT_ERR_NOMEM);
    CHECK(gt_tape_new() == NULL);
    gt_set_allocator(NULL);
    fail_after = -1;
}

GT_TEST(impossible_sizes_are_refused) {
    CHECK(gt_zeros(GT_SHAPE(100000, 100000, 100000, 100000)) == NULL);
    CHECK_ERROR_HAS("too many elements");
    CHECK(gt_zeros(GT_SHAPE(2, -1)) == NULL);
    CHECK_ERROR_HAS("negative size in shape [2, -1]");
    CHECK(gt_zeros(9, (const int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}) == NULL);
    CHECK_ERROR_HAS("rank 9");
}

GT_TEST(conv2d_backward_over_an_empty_batch_leaves_zero_gradients) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = param(GT_SHAPE(0, 2, 5, 5), 1), *w = param(GT_SHAPE(3, 2, 3, 3), 1);
    gt_tensor *y = gt_sum(tape, gt_conv2d(tape, x, w, NULL, 2, 1), GT_ALL_AXES);
    CHECK(y && gt_backward(tape, y) == GT_OK);
    bool zero = true;
    for (int64_t i = 0; i < gt_tensor_numel(w); i++)
        zero = zero && gt_tensor_grad(w)[i] == 0;
    CHECK(zero);
    gt_tensor_free(x);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(tape_settings_and_stats_of_a_null_tape_do_nothing) {
    CHECK(!gt_tape_set_grad_enabled(NULL, true));
    CHECK(!gt_tape_grad_enabled(NULL));
    gt_tape_set_detect_anomaly(NULL, true);
    gt_tape_stats stats = gt_tape_get_stats(NULL);
    CHECK(stats.nodes == 0 && stats.bytes_reserved == 0);
}

/* w used by two linear layers, the sum of their outputs as the loss; grad of w after a
 * backward, written into out. */
static void two_linear_grads(gt_tensor *w, gt_tensor *b, gt_tensor *x, gt_real *out) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *y = gt_add(tape, gt_linear(tape, x, w, b), gt_linear(tape, x, w, NULL));
    gt_tensor *loss = gt_sum(tape, gt_mul(tape, y, y), GT_ALL_AXES);
    CHECK(loss && gt_backward(tape, loss) == GT_OK);
    memcpy(out, gt_tensor_grad(w), 6 * sizeof(gt_real));
    out[6] = gt_tensor_grad(b)[0], out[7] = gt_tensor_grad(b)[1];
    gt_tape_free(tape);
}

GT_TEST(zero_grad_costs_no_pass_and_the_next_backward_writes_or_zeroes_first) {
    gt_tensor *w = gt_from_array(GT_SHAPE(2, 3), (const gt_real[]){1, -2, 3, 0.5, 1, -1});
    gt_tensor *b = gt_from_array(GT_SHAPE(2), (const gt_real[]){0.1, -0.2});
    gt_tensor *unused = gt_zeros(GT_SHAPE(4));
    gt_tensor *x = gt_from_array(GT_SHAPE(1, 3), (const gt_real[]){0.3, -0.7, 2});
    gt_tensor_set_requires_grad(w, true), gt_tensor_set_requires_grad(b, true);
    gt_tensor_set_requires_grad(unused, true);
    gt_real fresh[8], again[8];
    two_linear_grads(w, b, x, fresh); /* from zeroed buffers */
    for (int i = 0; i < 4; i++)
        gt_tensor_grad(unused)[i] = 7; /* a gradient left by something else */
    gt_tensor_zero_grad(w), gt_tensor_zero_grad(b), gt_tensor_zero_grad(unused);
    /* w's buffer still holds the old gradient: the next backward's first linear writes it,
     * the second adds; b only takes the first; the same numbers as from zeroed buffers */
    two_linear_grads(w, b, x, again);
    CHECK(memcmp(fresh, again, sizeof fresh) == 0);
    for (int i = 0; i < 4; i++) /* not reached by the backward: reads as zero */
        CHECK(gt_tensor_grad(unused)[i] == 0);
    gt_tensor_zero_grad(w); /* read before any backward: zeros */
    for (int i = 0; i < 6; i++)
        CHECK(gt_tensor_grad(w)[i] == 0);
    two_linear_grads(w, b, x, again); /* from the zeros read */
    two_linear_grads(w, b, x, again); /* without zero_grad in between: gradients add up */
    CHECK_CLOSE(again[0], 2 * fresh[0], 1e-5 * fabs(fresh[0]));
    gt_tensor_free(w), gt_tensor_free(b), gt_tensor_free(unused), gt_tensor_free(x);
}

GT_TEST_MAIN()
