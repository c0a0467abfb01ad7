/* alloc.c - the one allocator hook every allocation in gradtape goes through. */
#include "gt_tensor_impl.h"

#include <string.h>

static void *default_alloc(size_t size, void *ctx) {
    (void)ctx;
    return malloc(size);
}

static void default_free(void *ptr, void *ctx) {
    (void)ctx;
    free(ptr);
}

static gt_allocator current = {default_alloc, default_free, NULL};

void gt_set_allocator(const gt_allocator *allocator) {
    if (allocator && allocator->alloc && allocator->free)
        current = *allocator;
    else
        current = (gt_allocator){default_alloc, default_free, NULL};
}

void *gt_malloc(size_t size, const char *what) {
    void *ptr = size == SIZE_MAX ? NULL : current.alloc(size ? size : 1, current.ctx);
    if (!ptr)
        gt_set_error(GT_ERR_NOMEM, "%s: cannot allocate %zu bytes", what ? what : "alloc",
                     size);
    return ptr;
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
    if (ptr)
        current.free(ptr, current.ctx);
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
