/* test_allocator.c - the allocator hook is process-wide and may change while other threads
 * allocate: a block always goes back to the hook that allocated it, and a thread never
 * sees half of one hook and half of another. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"

#include <pthread.h>
#include <stdatomic.h>

/* A hook that counts its live blocks; two of them (ctx A and B) tell blocks apart. */
typedef struct counter {
    atomic_long live, total;
} counter;

static void *counting_alloc(size_t size, void *ctx) {
    counter *c = ctx;
    atomic_fetch_add(&c->live, 1);
    atomic_fetch_add(&c->total, 1);
    return malloc(size);
}

static void counting_free(void *ptr, void *ctx) {
    counter *c = ctx;
    if (ptr)
        atomic_fetch_sub(&c->live, 1);
    free(ptr);
}

static counter hook_a, hook_b;

GT_TEST(a_block_goes_back_to_the_hook_that_allocated_it) {
    CHECK(gt_set_allocator(&(gt_allocator){counting_alloc, counting_free, &hook_a}) == GT_OK);
    gt_tensor *t = gt_zeros(GT_SHAPE(100));
    long a_live = atomic_load(&hook_a.live);
    CHECK(t && a_live > 0);
    CHECK(gt_set_allocator(&(gt_allocator){counting_alloc, counting_free, &hook_b}) == GT_OK);
    long b_live = atomic_load(&hook_b.live);
    gt_tensor_free(t); /* freed while B is current: A gets its blocks back */
    CHECK(atomic_load(&hook_a.live) == 0);
    CHECK(atomic_load(&hook_b.live) == b_live);
    gt_set_allocator(NULL);
    t = gt_zeros(GT_SHAPE(3)); /* malloc's again: neither counter moves */
    CHECK(atomic_load(&hook_a.live) == 0 && atomic_load(&hook_b.live) == b_live);
    gt_tensor_free(t);
}

static atomic_bool stop;

/* Switches the hook between A and B until told to stop. */
static void *switcher(void *arg) {
    (void)arg;
    for (long i = 0; !atomic_load(&stop); i++)
        gt_set_allocator(&(gt_allocator){counting_alloc, counting_free,
                                         i % 2 ? &hook_b : &hook_a});
    return NULL;
}

GT_TEST(the_hook_may_change_while_another_thread_allocates) {
    long a_before = atomic_load(&hook_a.total), b_before = atomic_load(&hook_b.total);
    atomic_store(&stop, false);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, switcher, NULL) == 0);
    /* tensors made and freed in overlapping pairs, so that many are freed under another
     * hook than the one that made them; until each hook has made 1000 blocks (however the
     * two threads are scheduled: no clock) */
    gt_tensor *held = NULL;
    for (int i = 0; atomic_load(&hook_a.total) < a_before + 1000 ||
                    atomic_load(&hook_b.total) < b_before + 1000;
         i++) {
        gt_tensor *t = gt_zeros(GT_SHAPE(i % 7 + 1, 3));
        CHECK(t != NULL);
        gt_tensor_free(held);
        held = t;
    }
    gt_tensor_free(held);
    atomic_store(&stop, true);
    pthread_join(thread, NULL);
    gt_set_allocator(NULL);
    CHECK(atomic_load(&hook_a.live) == 0 && atomic_load(&hook_b.live) == 0);
}

GT_TEST(installing_the_same_hook_again_reuses_it) {
    for (int i = 0; i < 1000; i++) /* far more than the 64 distinct hooks a process may have */
        CHECK(gt_set_allocator(&(gt_allocator){counting_alloc, counting_free, &hook_a}) ==
              GT_OK);
    gt_set_allocator(NULL);
}

GT_TEST_MAIN()
