/* test_alloc_fail_ops.c - every op of the table out of memory at each of its allocations.
 *
 * An op's allocations come from the tape's arena, which calls the allocator only when a
 * chunk is full. So each valid case of the table runs (forward, then backward through a
 * sum) on tapes whose first chunk is filled to leave 0, 64, 128, ... bytes free, with the
 * allocator set to refuse the next call: every allocation of the op in turn is the one that
 * does not fit. The op (or the backward) must report GT_ERR_NOMEM with a message, and
 * freeing the tape must return every block. The same again for each op with a gradient
 * graph: its gradients recorded (gt_grad with create_graph) and differentiated again.
 * The tape's scratch buffers (outside the arena) are the other allocations: each case runs
 * once on a fresh tape refusing the first call (the forward's scratch, when the op takes
 * one), the walk over the arena's fill with the forward's scratch already grown, and the
 * backward's scratch grows (and is refused) once the arena has room for every gradient. */
#include "gt_test.h"
#include "gt_tape_impl.h" /* gt__tape_forward_scratch: grown before the walk */
#include "gt_test_alloc.h"

#include "gt_ops_impl.h" /* gt__op_batch_norm_relu */

static gt_test_alloc alloc;

/* Forward and backward of the case on tape; with create_graph, the backward of the sum of
 * the recorded gradients (gt_grad): the op's gradient graph and its own backward. The status
 * of the first failure. */
static gt_status run_once(gt_tape *tape, const gt_test_op_case *c, bool create_graph) {
    gt_tensor *y = gt_test_op_case_run(tape, c, c->in);
    gt_tensor *total = y ? gt_sum(tape, y, GT_ALL_AXES) : NULL;
    if (!total)
        return gt_last_status();
    if (!gt_tape_grad_enabled(tape) || !gt_tensor_requires_grad(total))
        return GT_OK;
    if (!create_graph)
        return gt_backward(tape, total);
    gt_tensor *wrt[GT_TEST_MAX_INPUTS], *grads[GT_TEST_MAX_INPUTS];
    int m = 0;
    for (int k = 0; k < c->n_in; k++)
        if (c->in[k] && gt_tensor_requires_grad(c->in[k]))
            wrt[m++] = c->in[k];
    gt_status status = gt_grad(tape, &total, 1, wrt, m, NULL, true, grads);
    gt_tensor *again = NULL;
    for (int j = 0; status == GT_OK && j < m; j++) {
        gt_tensor *part = gt_sum(tape, gt_mul(tape, grads[j], grads[j]), GT_ALL_AXES);
        again = again && part ? gt_add(tape, again, part) : part;
        if (!again)
            return gt_last_status();
    }
    if (status != GT_OK || !again || !gt_tensor_requires_grad(again))
        return status;
    return gt_backward(tape, again);
}

/* A tape whose arena has about `free_bytes` left in its first chunk. */
static gt_tape *tape_leaving(size_t free_bytes) {
    gt_tape *tape = gt_tape_new();
    if (!tape || !gt_tape_tensor(tape, 0, NULL) ||
        !gt__tape_forward_scratch(tape, (size_t)1 << 16, "test"))
        return tape;
    gt_tape_stats s = gt_tape_get_stats(tape);
    size_t room = s.bytes_reserved - s.bytes_used, overhead = 256;
    if (room > free_bytes + overhead) {
        int64_t n = (int64_t)((room - free_bytes - overhead) / sizeof(gt_real));
        gt_tape_tensor(tape, 1, &n);
    }
    return tape;
}

static bool walk_case(const gt_op_def *op, const char *text, uint64_t seed, bool create_graph,
                      int64_t *points) {
    gt_test_op_case c;
    if (!gt_test_op_case_make(op, text, seed, &c)) {
        gt_test_op_case_free(&c);
        return false;
    }
    /* a run without failures: how much arena the case takes (and the leaves' gradients,
     * which stay, are made) */
    gt_tape *tape = gt_tape_new();
    bool ok = tape && run_once(tape, &c, create_graph) == GT_OK;
    size_t used = tape ? gt_tape_get_stats(tape).bytes_used : 0;
    gt_tape_free(tape);
    int64_t baseline = alloc.live;
    size_t step = used / 256 > 64 ? used / 256 : 64;
    for (size_t free_bytes = 0; ok && free_bytes <= used + 64 + step; free_bytes += step) {
        bool fresh = free_bytes == 0; /* first a tape with nothing grown */
        tape = fresh ? gt_tape_new() : tape_leaving(free_bytes - step);
        gt_test_alloc_fail_nth(&alloc, 1);
        gt_status status = run_once(tape, &c, create_graph);
        bool injected = gt_test_alloc_disarm(&alloc);
        if (injected) {
            (*points)++;
            ok = status == GT_ERR_NOMEM && strstr(gt_last_error(), "cannot grow the tape's arena");
        } else {
            ok = status == GT_OK;
        }
        gt_tape_free(tape);
        ok = ok && alloc.live == baseline;
        if (!ok)
            printf("  %s \"%s\" with %zu bytes free: status %d, %s\n", op->name, text,
                   free_bytes, (int)status, gt_last_error());
    }
    gt_test_op_case_free(&c);
    return ok;
}

GT_TEST(every_case_of_the_table_fails_cleanly_at_each_arena_growth) {
    gt_test_alloc_install(&alloc);
    int count;
    int64_t points = 0;
    const gt_op_def *const *ops = gt_op_list(&count);
    uint64_t seed = 5000;
    for (int i = 0; i < count; i++)
        for (const char *const *c = ops[i]->cases; c && *c; c++, seed++)
            if (!strstr(*c, "=>"))
                CHECK(walk_case(ops[i], *c, seed, false, &points));
    printf("  %lld failures injected\n", (long long)points);
    CHECK(points > 100);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(every_gradient_graph_fails_cleanly_at_each_arena_growth) {
    gt_test_alloc_install(&alloc);
    int count;
    int64_t points = 0;
    const gt_op_def *const *ops = gt_op_list(&count);
    uint64_t seed = 7000;
    for (int i = 0; i < count; i++)
        for (const char *const *c = ops[i]->cases; ops[i]->grad_graph && c && *c; c++, seed++)
            if (!strstr(*c, "=>"))
                CHECK(walk_case(ops[i], *c, seed, true, &points));
    printf("  %lld failures injected\n", (long long)points);
    CHECK(points > 100);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* The internal op that a Sequential runs for a BatchNorm then a ReLU (ops/norm.c), not in
 * the table: its cases, its backward and its gradient graph. */
GT_TEST(batch_norm_relu_fails_cleanly_at_each_arena_growth) {
    gt_test_alloc_install(&alloc);
    int64_t points = 0;
    uint64_t seed = 9000;
    const gt_op_def *op = &gt__op_batch_norm_relu;
    for (const char *const *c = op->cases; *c; c++, seed++) {
        CHECK(walk_case(op, *c, seed, false, &points));
        CHECK(walk_case(op, *c, seed, true, &points));
    }
    printf("  %lld failures injected\n", (long long)points);
    CHECK(points > 20);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST_MAIN()
