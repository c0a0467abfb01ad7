/* gt_test_files.h - a full disk on demand, for the tests of what a failed save leaves: while
 * the limit holds, a write that takes a file past `bytes` fails (EFBIG, "File too large").
 * Define _POSIX_C_SOURCE before including it.
 *
 *     gt_test_file_limit limit = gt_test_limit_file_size(4096);
 *     gt_status st = gt_npy_save(path, big);   // fails part way through
 *     gt_test_unlimit_file_size(&limit);
 */
#ifndef GT_TEST_FILES_H
#define GT_TEST_FILES_H

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>

typedef struct gt_test_file_limit {
    struct rlimit old_limit;
    void (*old_handler)(int);
    bool set;
} gt_test_file_limit;

static inline gt_test_file_limit gt_test_limit_file_size(rlim_t bytes) {
    gt_test_file_limit l = {.set = false};
    if (getrlimit(RLIMIT_FSIZE, &l.old_limit) != 0)
        return l;
    struct rlimit small = l.old_limit;
    small.rlim_cur = bytes;
    l.old_handler = signal(SIGXFSZ, SIG_IGN); /* the write fails instead of killing us */
    l.set = setrlimit(RLIMIT_FSIZE, &small) == 0;
    return l;
}

static inline void gt_test_unlimit_file_size(gt_test_file_limit *l) {
    if (l->set)
        setrlimit(RLIMIT_FSIZE, &l->old_limit);
    signal(SIGXFSZ, l->old_handler);
    l->set = false;
}

#endif
