/* test_atomic_file.c - gt_atomic_file, the one writer behind checkpoints, .npy saves and
 * gradtape-train's reports: a commit replaces the file whole; a failure at any step (a
 * write midway, the rename) or a discard leaves the old file as it was and no temporary
 * file behind, with a message naming the path and the step. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"
#include "gt_test_files.h"

#include <sys/stat.h>
#include <unistd.h>

/* Files of the float and double test programs must not collide when ctest runs both. */
#define SCRATCH GT_BINARY_DIR "/atomic_" GT_REAL_NAME

static void put_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* The whole file (up to 255 bytes) as a string, "" when it cannot be read. */
static const char *text_of(const char *path) {
    static char text[256];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    return text;
}

static bool temporary_exists(const char *path) {
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    return access(tmp, F_OK) == 0;
}

/* `path` holding "old", and af open over it with "new contents" written, not committed. */
static void new_contents_over_old(const char *path, gt_atomic_file *af) {
    put_text(path, "old");
    CHECK(gt_atomic_file_open(af, path, "test") == GT_OK);
    CHECK(temporary_exists(path));
    fputs("new contents", af->file);
    CHECK(!strcmp(text_of(path), "old")); /* nothing changes before the commit */
}

GT_TEST(commit_replaces_the_file_whole) {
    const char *path = SCRATCH "_replace.txt";
    gt_atomic_file af;
    new_contents_over_old(path, &af);
    CHECK(gt_atomic_file_commit(&af) == GT_OK);
    CHECK(!strcmp(text_of(path), "new contents"));
    CHECK(!temporary_exists(path) && af.file == NULL && af.tmp_path == NULL);
    remove(path);
}

GT_TEST(discard_leaves_the_old_file_and_no_temporary) {
    const char *path = SCRATCH "_discard.txt";
    gt_atomic_file af;
    new_contents_over_old(path, &af);
    gt_atomic_file_discard(&af);
    CHECK(!strcmp(text_of(path), "old") && !temporary_exists(path));
    remove(path);
}

GT_TEST(write_failing_midway_leaves_the_old_file_intact) {
    const char *path = SCRATCH "_midway.txt";
    put_text(path, "old");
    gt_atomic_file af;
    CHECK(gt_atomic_file_open(&af, path, "test") == GT_OK);
    gt_test_file_limit limit = gt_test_limit_file_size(4096); /* a full disk */
    CHECK(limit.set);
    for (int i = 0; i < 1000; i++)
        fputs("0123456789abcdef0123456789abcdef\n", af.file); /* 33 kB, past the limit */
    gt_status st = gt_atomic_file_commit(&af);
    gt_test_unlimit_file_size(&limit);
    CHECK(st == GT_ERR_IO);
    CHECK_ERROR_HAS("test: cannot write '" SCRATCH "_midway.txt': a write failed: File too large");
    CHECK_ERROR_HAS("(the previous file, if any, is unchanged)");
    CHECK(!strcmp(text_of(path), "old") && !temporary_exists(path));
    remove(path);
}

GT_TEST(rename_failing_leaves_the_old_entry_and_no_temporary) {
    const char *path = SCRATCH "_a_directory";
    CHECK(mkdir(path, 0700) == 0); /* a file cannot be renamed over a directory */
    gt_atomic_file af;
    CHECK(gt_atomic_file_open(&af, path, "test") == GT_OK);
    fputs("new", af.file);
    CHECK(gt_atomic_file_commit(&af) == GT_ERR_IO);
    CHECK_ERROR_HAS("renaming the temporary file over it failed");
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && !temporary_exists(path));
    rmdir(path);
}

GT_TEST(open_in_a_missing_folder_names_the_path_and_creates_nothing) {
    gt_atomic_file af;
    CHECK(gt_atomic_file_open(&af, SCRATCH "_no/such/x.txt", "test") == GT_ERR_IO);
    CHECK_ERROR_HAS("test: cannot write '" SCRATCH "_no/such/x.txt': No such file or directory");
    CHECK(af.file == NULL && af.tmp_path == NULL);
    CHECK(gt_atomic_file_open(&af, "", "test") == GT_ERR_ARG);
    CHECK(gt_atomic_file_open(&af, NULL, "test") == GT_ERR_ARG);
}

GT_TEST_MAIN()
