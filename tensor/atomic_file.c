/* atomic_file.c - the one way gradtape replaces a file: checkpoints, .npy saves and
 * gradtape-train's CSV and plot all go through it.
 *
 * The new contents go to "<path>.tmp.<pid>" in the same folder (a rename is atomic only
 * within one file system); on commit the temporary file is flushed, fsynced and closed,
 * renamed over `path`, and the folder is fsynced so that the rename itself survives a
 * crash. At every moment `path` holds either the complete old file or the complete new
 * one; on any failure the temporary file is removed and `path` is untouched. The pid in
 * the name lets a later run tell a temporary file whose writer is gone (a kill -9 in the
 * middle of a save) from one still being written (gradtape-train removes the former). */
#define _POSIX_C_SOURCE 200809L
#include "gt_tensor_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

gt_status gt_atomic_file_open(gt_atomic_file *af, const char *path, const char *what) {
    what = what ? what : "write";
    *af = (gt_atomic_file){.path = path, .what = what};
    if (!path || !*path)
        return gt_set_error(GT_ERR_ARG, "%s: the path is %s", what, path ? "empty" : "NULL");
    size_t tmp_size = strlen(path) + 32;
    af->tmp_path = gt_malloc(tmp_size, what);
    if (!af->tmp_path)
        return gt_set_error(GT_ERR_NOMEM, "%s: cannot write '%s': cannot allocate %zu bytes "
                            "for the temporary file's name", what, path, tmp_size);
    snprintf(af->tmp_path, tmp_size, "%s.tmp.%ld", path, (long)getpid());
    af->file = fopen(af->tmp_path, "wb");
    if (!af->file) {
        gt_status st = gt_set_error(GT_ERR_IO, "%s: cannot write '%s': %s", what, path,
                                    strerror(errno));
        gt_free(af->tmp_path);
        af->tmp_path = NULL;
        return st;
    }
    return GT_OK;
}

/* fsync of the folder that holds `path`: makes a rename in it durable. Best effort: the
 * new file is already in place, and a failure here loses nothing that was written.
 * `scratch` has room for `path`. */
static void sync_folder(const char *path, char *scratch) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        strcpy(scratch, ".");
    else if (slash == path)
        strcpy(scratch, "/");
    else {
        memcpy(scratch, path, (size_t)(slash - path));
        scratch[slash - path] = '\0';
    }
    int fd = open(scratch, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

gt_status gt_atomic_file_commit(gt_atomic_file *af) {
    if (!af->file)
        return gt_set_error(GT_ERR_ARG, "%s: the file is not open", af->what);
    const char *failed = NULL;
    int saved_errno = errno;
    if (ferror(af->file))
        failed = "a write failed";
    else if (fflush(af->file) != 0)
        failed = "fflush failed";
    else if (fsync(fileno(af->file)) != 0)
        failed = "fsync failed";
    if (failed)
        saved_errno = errno;
    if (fclose(af->file) != 0 && !failed) {
        failed = "fclose failed";
        saved_errno = errno;
    }
    af->file = NULL;
    if (!failed && rename(af->tmp_path, af->path) != 0) {
        failed = "renaming the temporary file over it failed";
        saved_errno = errno;
    }
    gt_status st = GT_OK;
    if (failed) {
        unlink(af->tmp_path);
        st = gt_set_error(GT_ERR_IO, "%s: cannot write '%s': %s: %s (the previous file, if "
                          "any, is unchanged)", af->what, af->path, failed,
                          strerror(saved_errno));
    } else {
        sync_folder(af->path, af->tmp_path);
    }
    gt_free(af->tmp_path);
    af->tmp_path = NULL;
    return st;
}

void gt_atomic_file_discard(gt_atomic_file *af) {
    if (af->file) {
        fclose(af->file);
        af->file = NULL;
    }
    if (af->tmp_path) {
        unlink(af->tmp_path);
        gt_free(af->tmp_path);
        af->tmp_path = NULL;
    }
}
