/* test_alloc_fail_autograd.c - out of memory at every allocation of custom ops, hooks,
 * names, the DOT writer and the profiler: each call reports GT_ERR_NOMEM (or, where the
 * call itself cannot fail, drops only what it could not keep), frees what it took, leaves
 * gradients as they were, and the library stays usable. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"
#include "gt_test_alloc.h"

static gt_test_alloc alloc;

/* square(x) = x^2, saving bytes and reserving scratch, so that every path allocates. */
static gt_tensor *square_forward(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)n_in;
    gt_tensor *y = gt_custom_new_output(ctx, gt_tensor_ndim(in[0]), gt_tensor_shape(in[0]));
    if (!y)
        return NULL;
    for (int64_t i = 0; i < gt_tensor_numel(y); i++)
        gt_tensor_data(y)[i] = gt_tensor_item(in[0], i) * gt_tensor_item(in[0], i);
    if (gt_custom_needs_input_grad(ctx, 0)) {
        if (!gt_custom_save_bytes(ctx, 100000)) /* more than the first arena chunk holds */
            return NULL;
        gt_custom_reserve_scratch(ctx, 300000);
    }
    return y;
}

static gt_status square_backward(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                                 gt_tensor *const *grad_in) {
    gt_tensor *x = gt_custom_input(ctx, 0);
    if (!gt_custom_scratch(ctx))
        return gt_set_error(GT_ERR_STATE, "square: no scratch");
    for (int64_t i = 0; grad_in[0] && i < gt_tensor_numel(x); i++)
        gt_tensor_data(grad_in[0])[i] += 2 * gt_tensor_item(x, i) * gt_tensor_item(grad_out, i);
    return GT_OK;
}

static const gt_custom_op square = {
    .name = "square", .forward = square_forward, .backward = square_backward};

static gt_tensor *param(gt_real value) {
    gt_tensor *t = gt_full(GT_SHAPE(50000), value);
    gt_tensor_set_requires_grad(t, true);
    return t;
}

GT_TEST(a_custom_op_fails_cleanly_at_every_allocation) {
    gt_test_alloc_install(&alloc);
    gt_tensor *x = param(3);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_tape *tape = gt_tape_new();
        gt_test_alloc_fail_nth(&alloc, at);
        gt_tensor *y = gt_custom_apply(tape, &square, &x, 1);
        if (!gt_test_alloc_disarm(&alloc)) {
            CHECK(y && gt_tensor_item(y, 0) == 9);
            gt_tape_free(tape);
            break;
        }
        points++;
        CHECK(!y);
        CHECK_NOMEM();
        CHECK_ERROR_HAS("square: ");
        y = gt_custom_apply(tape, &square, &x, 1); /* the tape is still usable */
        CHECK(y && gt_backward(tape, gt_sum(tape, y, GT_ALL_AXES)) == GT_OK);
        CHECK(gt_tensor_grad(x)[7] == 6);
        gt_tensor_zero_grad(x);
        gt_tape_free(tape);
        CHECK(alloc.live == baseline);
    }
    CHECK(points >= 2); /* the context, the output, the saved bytes (a new chunk) */
    gt_tensor_free(x);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

static int hook_calls;

static gt_status counting_hook(gt_tensor *t, gt_tensor *grad, void *user) {
    (void)t;
    (void)grad;
    (void)user;
    hook_calls++;
    return GT_OK;
}

static gt_status counting_post_hook(gt_tensor *leaf, void *user) {
    return counting_hook(leaf, NULL, user);
}

GT_TEST(a_backward_with_custom_ops_and_hooks_fails_leaving_gradients_as_they_were) {
    gt_test_alloc_install(&alloc);
    gt_tensor *x = param(3);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_tensor_zero_grad(x);
        gt_tensor_grad(x)[0] = 5; /* from an earlier step */
        gt_tape *tape = gt_tape_new();
        gt_tensor *y = gt_custom_apply(tape, &square, &x, 1);
        gt_tensor *loss = gt_sum(tape, gt_mul(tape, y, x), GT_ALL_AXES);
        CHECK(gt_tape_register_hook(tape, x, counting_hook, NULL) > 0);
        CHECK(gt_tape_register_hook(tape, y, counting_hook, NULL) > 0);
        CHECK(gt_tape_register_post_accumulate_hook(tape, x, counting_post_hook, NULL) > 0);
        hook_calls = 0;
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_backward(tape, loss);
        if (!gt_test_alloc_disarm(&alloc)) {
            CHECK(status == GT_OK && hook_calls == 3);
            CHECK(gt_tensor_grad(x)[0] == 5 + 27); /* d(x^3)/dx = 3 x^2 */
            gt_tape_free(tape);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK(hook_calls == 0 && gt_tensor_grad(x)[0] == 5 && gt_tensor_grad(x)[1] == 0);
        CHECK(gt_backward(tape, loss) == GT_OK && gt_tensor_grad(x)[0] == 5 + 27);
        gt_tape_free(tape);
        CHECK(alloc.live == baseline);
    }
    CHECK(points >= 1); /* the arena grows for the gradients and the op's scratch */
    gt_tensor_free(x);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(registering_hooks_and_names_fails_cleanly_at_every_allocation) {
    gt_test_alloc_install(&alloc);
    gt_tensor *x = param(1);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_tape *tape = gt_tape_new();
        gt_test_alloc_fail_nth(&alloc, at);
        bool ok = true;
        /* more notes than the first table holds: it has to grow */
        for (int i = 0; i < 12 && ok; i++)
            ok = gt_tape_register_hook(tape, x, counting_hook, NULL) > 0 &&
                 gt_tape_set_name(tape, x, "x") == GT_OK &&
                 gt_tape_register_post_accumulate_hook(tape, x, counting_post_hook, NULL) > 0;
        bool injected = gt_test_alloc_disarm(&alloc);
        if (tape && injected) {
            CHECK(!ok);
            CHECK_NOMEM();
        }
        if (tape) { /* what was registered works */
            hook_calls = 0;
            gt_tensor *loss = gt_sum(tape, x, GT_ALL_AXES);
            CHECK(gt_backward(tape, loss) == GT_OK && hook_calls >= 0);
            gt_tensor_zero_grad(x);
        }
        gt_tape_free(tape);
        CHECK(alloc.live == baseline);
        if (!injected) {
            CHECK(ok);
            break;
        }
        points++;
    }
    CHECK(points >= 2);
    gt_tensor_free(x);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* Ops of 20 names: more than the profiler's first table holds. */
static char op_names[20][8];
static gt_custom_op named_ops[20];

static gt_tensor *twenty_ops(gt_tape *tape, gt_tensor *x) {
    for (int i = 0; i < 20 && x; i++)
        x = gt_custom_apply(tape, &named_ops[i], &x, 1);
    return x ? gt_sum(tape, x, GT_ALL_AXES) : NULL;
}

GT_TEST(the_profiler_and_the_graph_fail_cleanly_at_every_allocation) {
    for (int i = 0; i < 20; i++) {
        snprintf(op_names[i], sizeof op_names[i], "op%d", i);
        named_ops[i] = square;
        named_ops[i].name = op_names[i];
    }
    gt_test_alloc_install(&alloc);
    gt_tensor *x = gt_full(GT_SHAPE(4), 1);
    gt_tensor_set_requires_grad(x, true);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_tape *tape = gt_tape_new();
        for (int warm = 0; warm < 2; warm++) { /* the arena is large enough from now on */
            CHECK(gt_backward(tape, twenty_ops(tape, x)) == GT_OK);
            gt_tape_reset(tape);
        }
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status profiling = gt_tape_set_profiling(tape, true);
        gt_tensor *loss = twenty_ops(tape, x);
        gt_status backward = loss ? gt_backward(tape, loss) : GT_ERR_STATE;
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        gt_status dot = gt_tape_write_dot(tape, loss, f);
        gt_tape_profile_print(tape, f);
        fclose(f);
        bool injected = gt_test_alloc_disarm(&alloc);
        /* The ops and the backward never fail for the profiler's sake. */
        CHECK(loss && backward == GT_OK);
        if (profiling != GT_OK || dot != GT_OK)
            CHECK(gt_last_status() == GT_ERR_NOMEM || dot == GT_OK);
        if (profiling == GT_OK && dot == GT_OK)
            CHECK(strstr(text, "op19") && strstr(text, "digraph"));
        free(text);
        gt_tensor_zero_grad(x);
        gt_tape_free(tape);
        CHECK(alloc.live == baseline);
        if (!injected)
            break;
        points++;
    }
    CHECK(points >= 4); /* the profile, its table, the table growing, the graph, the print */
    gt_tensor_free(x);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST_MAIN()
