/* fuzz_support.h - what the harnesses share: a check that crashes the fuzzer with a message,
 * the input as a file in memory, a scratch folder, and the bounded counting allocator.
 *
 * The harness's input becomes a file the library opens by name, /proc/self/fd/N of a memfd:
 * the readers run exactly as they do on disk (open, stat, read, gzip), and no disk is
 * touched. Each harness runs under libFuzzer (GT_FUZZ=ON) or under driver.c, which feeds it
 * every file of its corpus and regressions folders as a ctest test. */
#ifndef GT_FUZZ_SUPPORT_H
#define GT_FUZZ_SUPPORT_H

#define _GNU_SOURCE /* memfd_create */
#include "gradtape.h"
#include "gt_test_alloc.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the library: when it does not hold, stop as a crash would, with why. */
#define FUZZ_ASSERT(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: FUZZ_ASSERT(%s) failed; last error: %s\n", __FILE__,   \
                    __LINE__, #cond, gt_last_error());                                     \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* Writes `size` bytes into the harness's one in-memory file and returns its name. */
static inline const char *fuzz_file(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("gradtape-fuzz", 0);
        FUZZ_ASSERT(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_ASSERT(ftruncate(fd, 0) == 0);
    for (size_t done = 0; done < size;) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        FUZZ_ASSERT(n > 0);
        done += (size_t)n;
    }
    return path;
}

/* A folder of this process's own under /dev/shm (or $TMPDIR, or /tmp), for files a harness
 * writes; removed at exit. */
static char fuzz_scratch_dir[256];

static inline void fuzz_scratch_clear(void) {
    DIR *dir = opendir(fuzz_scratch_dir);
    for (struct dirent *e; dir && (e = readdir(dir));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[sizeof fuzz_scratch_dir + 256];
        snprintf(path, sizeof path, "%s/%s", fuzz_scratch_dir, e->d_name);
        unlink(path);
    }
    if (dir)
        closedir(dir);
}

static inline void fuzz_scratch_remove(void) {
    fuzz_scratch_clear();
    rmdir(fuzz_scratch_dir);
}

static inline const char *fuzz_scratch(void) {
    if (!fuzz_scratch_dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(fuzz_scratch_dir, sizeof fuzz_scratch_dir, "%s/gradtape-fuzz-XXXXXX",
                 base && base[0] ? base : "/tmp");
        FUZZ_ASSERT(mkdtemp(fuzz_scratch_dir) != NULL);
        atexit(fuzz_scratch_remove);
    }
    return fuzz_scratch_dir;
}

/* Installs the counting allocator with budgets, for one input. */
static inline void fuzz_alloc_begin(gt_test_alloc *alloc, size_t max_live_bytes,
                                    int64_t max_calls) {
    *alloc = (gt_test_alloc){.max_live_bytes = max_live_bytes, .max_calls = max_calls};
    gt_test_alloc_install(alloc);
    gt_clear_error();
}

/* Restores malloc; everything the input made must have been freed. */
static inline void fuzz_alloc_end(gt_test_alloc *alloc) {
    gt_test_alloc_uninstall(alloc);
    if (alloc->live != 0) {
        fprintf(stderr, "leak: %lld blocks (%zu bytes) still allocated after the input\n",
                (long long)alloc->live, alloc->live_bytes);
        abort();
    }
}

#ifdef FUZZ_SCRATCH_INITIALIZE
/* The start-up of a harness that defines FUZZ_SCRATCH_INITIALIZE before including this
 * header (the file readers): its scratch folder, made once. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_scratch();
    return 0;
}
#endif

#endif
