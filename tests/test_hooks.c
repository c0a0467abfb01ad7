/* test_hooks.c - gradient hooks, post-accumulate hooks, names, the DOT graph, the profiler. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"

static gt_tensor *param(int ndim, const int64_t *shape, gt_real value) {
    gt_tensor *t = gt_full(ndim, shape, value);
    gt_tensor_set_requires_grad(t, true);
    return t;
}

/* A log of the hooks that ran: which one, and the first element of what it saw. */
typedef struct hook_log {
    char order[32];
    int n;
    double seen[32];
} hook_log;

typedef struct hook_arg {
    hook_log *log;
    char tag;
    double scale; /* what the hook multiplies the gradient by (1: only looks) */
} hook_arg;

static gt_status scaling_hook(gt_tensor *t, gt_tensor *grad, void *user) {
    (void)t;
    hook_arg *arg = user;
    arg->log->seen[arg->log->n] = gt_tensor_item(grad, 0);
    arg->log->order[arg->log->n++] = arg->tag;
    for (int64_t i = 0; i < gt_tensor_numel(grad); i++)
        gt_tensor_data(grad)[i] *= (gt_real)arg->scale;
    return GT_OK;
}

static gt_status post_hook(gt_tensor *leaf, void *user) {
    hook_arg *arg = user;
    arg->log->seen[arg->log->n] = gt_tensor_grad(leaf)[0];
    arg->log->order[arg->log->n++] = arg->tag;
    return GT_OK;
}

GT_TEST(a_hook_on_an_intermediate_changes_the_gradient_that_flows_on) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(3), 2);
    hook_log log = {0};
    hook_arg doubling = {&log, 'a', 2}, looking = {&log, 'b', 1};
    /* y = sum(h), h = w * w: dy/dh = 1, doubled by the first hook, seen doubled by the second */
    gt_tensor *h = gt_mul(tape, w, w);
    CHECK(gt_tape_register_hook(tape, h, scaling_hook, &doubling) > 0);
    CHECK(gt_tape_register_hook(tape, h, scaling_hook, &looking) > 0);
    CHECK(gt_backward(tape, gt_sum(tape, h, GT_ALL_AXES)) == GT_OK);
    CHECK(log.n == 2 && !strncmp(log.order, "ab", 2));
    CHECK_CLOSE(log.seen[0], 1, GT_TEST_TOL);
    CHECK_CLOSE(log.seen[1], 2, GT_TEST_TOL);
    CHECK_CLOSE(gt_tensor_grad(w)[2], 2 * 2 * 2, GT_TEST_TOL); /* 2 * dh/dw = 2 * 2w */
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(a_removed_hook_runs_no_more_and_hooks_of_a_step_go_with_reset) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(2), 1);
    hook_log log = {0};
    hook_arg arg = {&log, 'a', 3};
    gt_hook_id id = gt_tape_register_hook(tape, w, scaling_hook, &arg);
    CHECK(gt_backward(tape, gt_sum(tape, w, GT_ALL_AXES)) == GT_OK);
    CHECK(log.n == 1);
    CHECK_CLOSE(gt_tensor_grad(w)[0], 3, GT_TEST_TOL);
    CHECK(gt_tape_remove_hook(tape, id) == GT_OK);
    CHECK(gt_backward(tape, gt_sum(tape, w, GT_ALL_AXES)) == GT_OK);
    CHECK(log.n == 1);
    CHECK_CLOSE(gt_tensor_grad(w)[0], 4, GT_TEST_TOL);
    CHECK(gt_tape_remove_hook(tape, id) == GT_ERR_ARG);
    CHECK_ERROR_HAS("remove_hook: no hook");
    /* a hook on an intermediate is released with it */
    gt_tensor *h = gt_mul(tape, w, w);
    gt_hook_id on_h = gt_tape_register_hook(tape, h, scaling_hook, &arg);
    gt_tape_reset(tape);
    CHECK(gt_tape_remove_hook(tape, on_h) == GT_ERR_ARG);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST(a_leaf_hook_sees_this_backward_alone_and_its_change_lands_in_grad) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(2), 3);
    hook_log log = {0};
    hook_arg halving = {&log, 'a', 0.5};
    gt_tape_register_hook(tape, w, scaling_hook, &halving);
    /* y = sum(w * w) + sum(w): two contributions, 2w + 1 = 7 in all, before the hook */
    gt_tensor *y =
        gt_add(tape, gt_sum(tape, gt_mul(tape, w, w), GT_ALL_AXES), gt_sum(tape, w, GT_ALL_AXES));
    CHECK(gt_backward(tape, y) == GT_OK);
    CHECK(gt_backward(tape, y) == GT_OK); /* accumulates: the hook sees 7 again, not 10.5 */
    CHECK(log.n == 2);
    CHECK_CLOSE(log.seen[0], 7, GT_TEST_TOL);
    CHECK_CLOSE(log.seen[1], 7, GT_TEST_TOL);
    CHECK_CLOSE(gt_tensor_grad(w)[1], 7, GT_TEST_TOL); /* 3.5 + 3.5 */
    gt_tensor_free(w);
    gt_tape_free(tape);
}

static gt_status clip_hook(gt_tensor *t, gt_tensor *grad, void *user) {
    (void)t;
    gt_real limit = *(gt_real *)user;
    for (int64_t i = 0; i < gt_tensor_numel(grad); i++) {
        gt_real *g = &gt_tensor_data(grad)[i];
        *g = *g > limit ? limit : *g < -limit ? -limit : *g;
    }
    return GT_OK;
}

GT_TEST(a_clipping_hook_on_a_stale_leaf_gives_the_clipped_gradient) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = gt_from_array(GT_SHAPE(3), (const gt_real[]){-4, 0.25, 4});
    gt_tensor_set_requires_grad(w, true);
    gt_tensor *x = gt_ones(GT_SHAPE(2, 3));
    gt_real limit = 1;
    gt_tape_register_hook(tape, w, clip_hook, &limit);
    for (int step = 0; step < 2; step++) {
        gt_tensor_zero_grad(w); /* stale: the walk must still see zeros under the hook */
        /* y = sum((x * w)^2): dy/dw = 2 * 2 * w per row pair = 4w */
        gt_tensor *xw = gt_mul(tape, x, w);
        CHECK(gt_backward(tape, gt_sum(tape, gt_mul(tape, xw, xw), GT_ALL_AXES)) == GT_OK);
        CHECK_CLOSE(gt_tensor_grad(w)[0], -1, GT_TEST_TOL);
        CHECK_CLOSE(gt_tensor_grad(w)[1], 1, GT_TEST_TOL);
        CHECK_CLOSE(gt_tensor_grad(w)[2], 1, GT_TEST_TOL);
        gt_tape_reset(tape);
    }
    gt_tensor_free(w);
    gt_tensor_free(x);
    gt_tape_free(tape);
}

GT_TEST(post_accumulate_hooks_run_once_the_gradient_is_complete_in_backward_order) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w1 = param(GT_SHAPE(2), 2), *w2 = param(GT_SHAPE(2), 5);
    hook_log log = {0};
    hook_arg first = {&log, '1', 1}, second = {&log, '2', 1}, grad_hook = {&log, 'g', 10};
    gt_tape_register_post_accumulate_hook(tape, w1, post_hook, &first);
    gt_tape_register_post_accumulate_hook(tape, w2, post_hook, &second);
    gt_tape_register_hook(tape, w1, scaling_hook, &grad_hook);
    /* y = sum(w1 * w1 * w2) + sum(w1): w1 is used first and last; w2 only in the middle.
     * The walk finishes w2 first, then w1 (after its last contribution, the first op). */
    gt_tensor *a = gt_mul(tape, w1, w1);
    gt_tensor *y =
        gt_add(tape, gt_sum(tape, gt_mul(tape, a, w2), GT_ALL_AXES), gt_sum(tape, w1, GT_ALL_AXES));
    CHECK(gt_backward(tape, y) == GT_OK);
    CHECK(log.n == 3 && !strncmp(log.order, "2g1", 3));
    CHECK_CLOSE(log.seen[0], 4, GT_TEST_TOL);             /* w2: w1^2 */
    CHECK_CLOSE(log.seen[1], 2 * 2 * 5 + 1, GT_TEST_TOL); /* w1 before its grad hook */
    CHECK_CLOSE(log.seen[2], 210, GT_TEST_TOL);           /* and in .grad after it */
    CHECK(gt_tape_register_post_accumulate_hook(tape, a, post_hook, &first) == 0);
    CHECK_ERROR_HAS("only into a leaf");
    gt_tensor *constant = gt_ones(GT_SHAPE(2));
    CHECK(gt_tape_register_hook(tape, constant, scaling_hook, &first) == 0);
    CHECK_ERROR_HAS("does not require a gradient");
    gt_tensor_free(constant);
    gt_tensor_free(w1);
    gt_tensor_free(w2);
    gt_tape_free(tape);
}

static gt_status refusing_hook(gt_tensor *t, gt_tensor *grad, void *user) {
    (void)t;
    (void)grad;
    (void)user;
    return gt_set_error(GT_ERR_NUMERIC, "my hook: gradient too large");
}

GT_TEST(a_failing_hook_stops_backward_with_its_error) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(2), 1);
    gt_tape_set_detect_anomaly(tape, true); /* then the leaves' gradients are restored */
    gt_tape_register_hook(tape, w, refusing_hook, NULL);
    CHECK(gt_backward(tape, gt_sum(tape, gt_mul(tape, w, w), GT_ALL_AXES)) == GT_ERR_NUMERIC);
    CHECK_ERROR_HAS("my hook: gradient too large");
    CHECK(gt_tensor_grad(w)[0] == 0);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

/* ---- the graph -------------------------------------------------------------------------- */

/* The DOT text of the graph reaching root. */
static char *dot_of(gt_tape *tape, gt_tensor *root) {
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    CHECK(gt_tape_write_dot(tape, root, f) == GT_OK);
    fclose(f);
    return text;
}

GT_TEST(the_graph_shows_ops_leaves_names_and_data_flow) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_ones(GT_SHAPE(4, 3));
    gt_tensor *w = param(GT_SHAPE(2, 3), 0.5), *b = param(GT_SHAPE(2), 0);
    gt_tape_set_name(tape, w, "fc.weight");
    gt_tensor *h = gt_relu(tape, gt_linear(tape, x, w, b));
    gt_tape_set_name(tape, h, "hidden");
    gt_tensor *unused = gt_exp(tape, w); /* not on the way to the loss: not drawn */
    gt_tensor *loss = gt_mean(tape, h, GT_ALL_AXES);
    char *dot = dot_of(tape, loss);
    CHECK(strstr(dot, "digraph gradtape {"));
    CHECK(strstr(dot, "label=\"fc.weight\\n[2, 3]\\nrequires grad\""));
    CHECK(strstr(dot, "label=\"parameter\\n[2]\\nrequires grad\""));
    CHECK(strstr(dot, "label=\"input\\n[4, 3]\\nno grad\""));
    CHECK(strstr(dot, "label=\"linear\\n[4, 2]\""));
    CHECK(strstr(dot, "label=\"relu\\n[4, 2]\\n= hidden\""));
    CHECK(strstr(dot, "style=\"filled,bold\"") && strstr(dot, "mean\\n[]"));
    CHECK(!strstr(dot, "exp"));
    /* data flow: linear (op0) feeds relu (op1), relu feeds mean (op3); inputs in order */
    CHECK(strstr(dot, "op0 -> op1;") && strstr(dot, "op1 -> op3;"));
    CHECK(strstr(dot, "-> op0 [label=\"0\"]") && strstr(dot, "-> op0 [label=\"2\"]"));
    free(dot);
    (void)unused;
    gt_tensor_free(x);
    gt_tensor_free(w);
    gt_tensor_free(b);
    gt_tape_free(tape);
}

GT_TEST(the_graph_marks_the_op_whose_gradient_failed_the_anomaly_check) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = gt_from_array(GT_SHAPE(2), (const gt_real[]){0, 1});
    gt_tensor_set_requires_grad(w, true);
    gt_tensor *y = gt_sum(tape, gt_log(tape, w), GT_ALL_AXES); /* log(0): -inf, grad 1/0 */
    gt_tape_set_detect_anomaly(tape, true);
    CHECK(gt_backward(tape, y) == GT_ERR_NUMERIC);
    char *dot = dot_of(tape, y);
    CHECK(strstr(dot, "label=\"log\\n[2]\\nnon-finite gradient\""));
    CHECK(strstr(dot, "fillcolor=\"#ff8080\""));
    free(dot);
    gt_tape_reset(tape);
    CHECK(gt_tape_write_dot(tape, y, stdout) == GT_ERR_STATE);
    /* anomaly mode off: the op whose output holds the infinity is marked all the same */
    gt_tape_set_detect_anomaly(tape, false);
    y = gt_sum(tape, gt_exp(tape, gt_log(tape, w)), GT_ALL_AXES);
    dot = dot_of(tape, y);
    CHECK(strstr(dot, "label=\"log\\n[2]\\nnon-finite output\""));
    CHECK(strstr(dot, "label=\"exp\\n[2]\"")); /* exp(-inf) = 0: finite */
    free(dot);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

/* ---- the profiler ----------------------------------------------------------------------- */

GT_TEST(the_profiler_counts_calls_bytes_and_flops_by_op) {
    gt_tape *tape = gt_tape_new();
    gt_tensor *x = gt_ones(GT_SHAPE(4, 3));
    gt_tensor *w = param(GT_SHAPE(2, 3), 0.5);
    /* off: nothing is collected */
    gt_backward(tape, gt_sum(tape, gt_linear(tape, x, w, NULL), GT_ALL_AXES));
    CHECK(gt_tape_profile_rows(tape, NULL, 0) == 0);
    CHECK(gt_tape_set_profiling(tape, true) == GT_OK && gt_tape_profiling(tape));
    for (int step = 0; step < 3; step++) {
        gt_tape_reset(tape);
        gt_tensor *h = gt_relu(tape, gt_linear(tape, x, w, NULL));
        CHECK(gt_backward(tape, gt_sum(tape, gt_relu(tape, h), GT_ALL_AXES)) == GT_OK);
    }
    gt_tape_set_profiling(tape, false);
    gt_relu(tape, w); /* not counted */
    gt_profile_row rows[8];
    int n = gt_tape_profile_rows(tape, rows, 8);
    CHECK(n == 3);
    for (int i = 0; i < n; i++) {
        CHECK(i == 0 || rows[i - 1].forward_seconds + rows[i - 1].backward_seconds >=
                            rows[i].forward_seconds + rows[i].backward_seconds);
        if (!strcmp(rows[i].name, "relu"))
            CHECK(rows[i].forward_calls == 6 && rows[i].backward_calls == 6 && rows[i].flops == 0);
        if (!strcmp(rows[i].name, "linear")) {
            CHECK(rows[i].forward_calls == 3 && rows[i].backward_calls == 3);
            CHECK_CLOSE(rows[i].flops, 3 * (2 * 4 * 2 * 3) * 3, 0); /* forward + 2x backward */
            CHECK(rows[i].forward_bytes >= 3 * 8 * sizeof(gt_real));
        }
        if (!strcmp(rows[i].name, "sum"))
            CHECK(rows[i].forward_calls == 3 && rows[i].backward_calls == 3);
    }
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    gt_tape_profile_print(tape, f);
    fclose(f);
    CHECK(strstr(text, "op ") && strstr(text, "forward ms") && strstr(text, "\nlinear "));
    CHECK(strstr(text, "\ntotal ") && strstr(text, "   24 ")); /* 3 x (4 forward + 4 backward) */
    free(text);
    gt_tensor_free(x);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

static gt_tensor *relu_forward_by_ops(gt_custom_ctx *ctx, gt_tensor *const *in, int n_in) {
    (void)n_in;
    return gt_relu(gt_custom_tape(ctx), in[0]);
}

static gt_status identity_backward(gt_custom_ctx *ctx, const gt_tensor *grad_out,
                                   gt_tensor *const *grad_in) {
    (void)ctx;
    for (int64_t i = 0; grad_in[0] && i < gt_tensor_numel(grad_out); i++)
        gt_tensor_data(grad_in[0])[i] += gt_tensor_item(grad_out, i);
    return GT_OK;
}

GT_TEST(the_profiler_shows_custom_ops_by_name_without_counting_nested_ops_twice) {
    static const gt_custom_op outer = {
        .name = "outer", .forward = relu_forward_by_ops, .backward = identity_backward};
    gt_tape *tape = gt_tape_new();
    gt_tensor *w = param(GT_SHAPE(1000), 1);
    gt_tape_set_profiling(tape, true);
    gt_tensor *y = gt_custom_apply(tape, &outer, &w, 1);
    CHECK(gt_backward(tape, gt_sum(tape, y, GT_ALL_AXES)) == GT_OK);
    gt_profile_row rows[8];
    int n = gt_tape_profile_rows(tape, rows, 8);
    CHECK(n == 3);
    double total = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(rows[i].name, "outer"))
            CHECK(rows[i].forward_calls == 1 && rows[i].backward_calls == 1);
        if (!strcmp(rows[i].name, "relu"))
            CHECK(rows[i].forward_calls == 1 && rows[i].backward_calls == 0);
        total += rows[i].forward_seconds + rows[i].backward_seconds;
        CHECK(rows[i].forward_seconds >= 0);
    }
    CHECK(total > 0);
    gt_tensor_free(w);
    gt_tape_free(tape);
}

GT_TEST_MAIN()
