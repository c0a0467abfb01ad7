/* gt_test_alloc.h - a counting allocator for tests and fuzz harnesses, installed through the
 * library's hook (gt_set_allocator). It counts live blocks and bytes, can fail the Nth
 * allocation after it is armed, and can refuse allocations beyond a byte or call budget, so
 * that huge sizes come back as a clean out-of-memory error instead of exhausting the machine.
 *
 *     gt_test_alloc alloc = {0};
 *     gt_test_alloc_install(&alloc);
 *     int64_t baseline = alloc.live;
 *     for (int64_t n = 1;; n++) {
 *         gt_test_alloc_fail_nth(&alloc, n);
 *         gt_tensor *t = gt_zeros(GT_SHAPE(3));           // the call under test
 *         if (!gt_test_alloc_disarm(&alloc)) break;       // nothing failed: walked them all
 *         ... t is NULL, gt_last_status() is GT_ERR_NOMEM, alloc.live == baseline ...
 *     }
 *     gt_test_alloc_uninstall(&alloc);  // every block it handed out must be freed first
 */
#ifndef GT_TEST_ALLOC_H
#define GT_TEST_ALLOC_H

#include "gradtape.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct gt_test_alloc {
    int64_t calls;         /* allocations asked for since the last arm or reset */
    int64_t fail_at;       /* this call (1-based) fails; 0: none */
    int64_t failures;      /* calls refused since the last arm or reset */
    int64_t live;          /* blocks handed out and not yet freed */
    size_t live_bytes;     /* their sizes */
    size_t max_live_bytes; /* refuse a call that would exceed this (0: no limit) */
    int64_t max_calls;     /* refuse every call after this many (0: no limit) */
} gt_test_alloc;

/* Each block starts with its size, in a header that keeps malloc's alignment. */
typedef union gt_test_alloc_header {
    max_align_t align;
    size_t size;
} gt_test_alloc_header;

static inline void *gt_test_alloc_fn(size_t size, void *ctx) {
    gt_test_alloc *a = ctx;
    a->calls++;
    bool refuse = a->calls == a->fail_at || (a->max_calls && a->calls > a->max_calls) ||
                  size > SIZE_MAX - sizeof(gt_test_alloc_header) ||
                  (a->max_live_bytes && size > a->max_live_bytes - a->live_bytes);
    gt_test_alloc_header *h = refuse ? NULL : malloc(sizeof *h + size);
    if (!h) {
        a->failures++;
        return NULL;
    }
    h->size = size;
    a->live++;
    a->live_bytes += size;
    return h + 1;
}

static inline void gt_test_free_fn(void *ptr, void *ctx) {
    gt_test_alloc *a = ctx;
    if (!ptr)
        return;
    gt_test_alloc_header *h = (gt_test_alloc_header *)ptr - 1;
    a->live--;
    a->live_bytes -= h->size;
    free(h);
}

static inline void gt_test_alloc_install(gt_test_alloc *a) {
    gt_set_allocator(&(gt_allocator){gt_test_alloc_fn, gt_test_free_fn, a});
}

static inline void gt_test_alloc_uninstall(gt_test_alloc *a) {
    (void)a;
    gt_set_allocator(NULL);
}

/* Counts calls from zero again and makes call n (1-based) fail; the others succeed. */
static inline void gt_test_alloc_fail_nth(gt_test_alloc *a, int64_t n) {
    a->calls = 0;
    a->failures = 0;
    a->fail_at = n;
}

/* Stops failing; true when the armed call was reached (a failure was injected). */
static inline bool gt_test_alloc_disarm(gt_test_alloc *a) {
    bool reached = a->fail_at > 0 && a->calls >= a->fail_at;
    a->fail_at = 0;
    return reached;
}

/* Starts a new budget: call counting from zero, no armed failure. */
static inline void gt_test_alloc_reset(gt_test_alloc *a) {
    a->calls = 0;
    a->failures = 0;
    a->fail_at = 0;
}

/* In a test (gt_test.h): the last error is an out-of-memory report with a message. */
#define CHECK_NOMEM()                                                                      \
    do {                                                                                   \
        CHECK(gt_last_status() == GT_ERR_NOMEM);                                           \
        CHECK(strstr(gt_last_error(), "cannot allocate") ||                                \
              strstr(gt_last_error(), "cannot grow the tape's arena"));                    \
    } while (0)

#endif
