/* alloc.c - the one allocator hook every allocation in gradtape goes through.
 *
 * The hook is process-wide, and safe to change while other threads allocate and free:
 *  - every hook ever installed is kept, unchanged, in `hooks` for the life of the process,
 *    and `current` points at one of them, swapped atomically: a thread reads a whole hook
 *    (its alloc, free and ctx together), never half of two;
 *  - every block starts with a header naming the hook that allocated it, and gt_free gives
 *    the block back to that hook, whatever hook is current by then. */
#include "gt_tensor_impl.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

static void *default_alloc(size_t size, void *ctx) {
    (void)ctx;
    return malloc(size);
}

static void default_free(void *ptr, void *ctx) {
    (void)ctx;
    free(ptr);
}

#define MAX_HOOKS 64 /* distinct hooks a process may install */

static gt_allocator hooks[MAX_HOOKS] = {{default_alloc, default_free, NULL}};
static int n_hooks = 1;                           /* written only while `installing` is held */
static atomic_flag installing = ATOMIC_FLAG_INIT; /* serialises gt_set_allocator */
static _Atomic(const gt_allocator *) current = &hooks[0];

/* The header before every block: the hook to give it back to, in malloc's alignment. */
typedef union block_header {
    max_align_t align;
    const gt_allocator *hook;
} block_header;

gt_status gt_set_allocator(const gt_allocator *allocator) {
    if (!allocator || !allocator->alloc || !allocator->free) {
        atomic_store_explicit(&current, &hooks[0], memory_order_release);
        return GT_OK;
    }
    while (atomic_flag_test_and_set_explicit(&installing, memory_order_acquire))
        ; /* another thread is installing a hook: a few instructions */
    int k = 0;
    while (k < n_hooks && (hooks[k].alloc != allocator->alloc ||
                           hooks[k].free != allocator->free || hooks[k].ctx != allocator->ctx))
        k++;
    if (k == n_hooks && k < MAX_HOOKS)
        hooks[n_hooks++] = *allocator;
    atomic_flag_clear_explicit(&installing, memory_order_release);
    if (k == MAX_HOOKS)
        return gt_set_error(GT_ERR_ARG, "set_allocator: %d different hooks installed already, "
                            "the most a process may (the current one stays)", MAX_HOOKS);
    atomic_store_explicit(&current, &hooks[k], memory_order_release);
    return GT_OK;
}

void *gt_malloc(size_t size, const char *what) {
    const gt_allocator *hook = atomic_load_explicit(&current, memory_order_acquire);
    block_header *block = size > SIZE_MAX - sizeof *block
                              ? NULL
                              : hook->alloc(sizeof *block + size, hook->ctx);
    if (!block) {
        gt_set_error(GT_ERR_NOMEM, "%s: cannot allocate %zu bytes", what ? what : "alloc",
                     size);
        return NULL;
    }
    block->hook = hook;
    return block + 1;
}

/* count x size zeroed bytes from `alloc` (gt_malloc or gt__malloc_aligned). */
static void *zeroed(void *(*alloc)(size_t, const char *), size_t count, size_t size,
                    const char *what) {
    if (size && count > SIZE_MAX / size) {
        gt_set_error(GT_ERR_NOMEM, "%s: %zu x %zu bytes overflows", what ? what : "alloc",
                     count, size);
        return NULL;
    }
    void *ptr = alloc(count * size, what);
    if (ptr)
        memset(ptr, 0, count * size);
    return ptr;
}

void *gt_calloc(size_t count, size_t size, const char *what) {
    return zeroed(gt_malloc, count, size, what);
}

void gt_free(void *ptr) {
    if (!ptr)
        return;
    block_header *block = (block_header *)ptr - 1;
    block->hook->free(block, block->hook->ctx);
}

void *gt__malloc_aligned(size_t size, const char *what) {
    const size_t extra = GT__ALIGN + sizeof(void *);
    if (size > SIZE_MAX - extra) {
        gt_set_error(GT_ERR_NOMEM, "%s: cannot allocate %zu bytes", what ? what : "alloc", size);
        return NULL;
    }
    unsigned char *raw = gt_malloc(size + extra, what);
    if (!raw) { /* the message names what was asked for, not the padding */
        gt_set_error(GT_ERR_NOMEM, "%s: cannot allocate %zu bytes", what ? what : "alloc", size);
        return NULL;
    }
    uintptr_t start =
        ((uintptr_t)(raw + sizeof(void *)) + GT__ALIGN - 1) & ~(uintptr_t)(GT__ALIGN - 1);
    void **block = (void **)start;
    block[-1] = raw; /* what gt__free_aligned gives back */
    return block;
}

void *gt__calloc_aligned(size_t count, size_t size, const char *what) {
    return zeroed(gt__malloc_aligned, count, size, what);
}

void gt__free_aligned(void *ptr) {
    if (ptr)
        gt_free(((void **)ptr)[-1]);
}
