/* gt_gnuplot.c - gnuplot on the PATH, and drawing a PNG through it atomically. */
#define _POSIX_C_SOURCE 200809L
#include "gt_gnuplot.h"

#include "gradtape.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

bool gt_gnuplot_available(void) {
    const char *path = getenv("PATH");
    if (!path)
        return false;
    while (*path) {
        size_t length = strcspn(path, ":");
        char candidate[4096];
        if (length > 0 && length < sizeof candidate - 16) {
            snprintf(candidate, sizeof candidate, "%.*s/gnuplot", (int)length, path);
            struct stat st;
            if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
                return true;
        }
        path += length + (path[length] == ':');
    }
    return false;
}

void gt_gnuplot_quote(FILE *f, const char *text) {
    fputc('"', f);
    for (; *text; text++) {
        if (*text == '\n') {
            fputs("\\n", f);
            continue;
        }
        if (*text == '"' || *text == '\\')
            fputc('\\', f);
        fputc(*text, f);
    }
    fputc('"', f);
}

bool gt_gnuplot_draw(const char *path, const char *what, gt_gnuplot_script script, void *ctx,
                     char *msg, size_t msg_size) {
    /* gnuplot writes the temporary file by its name; the commit syncs and renames it */
    gt_atomic_file af;
    if (gt_atomic_file_open(&af, path, what) != GT_OK) {
        snprintf(msg, msg_size, "%s", gt_last_error());
        return false;
    }
    /* a gnuplot that dies is reported through its exit status, not by SIGPIPE */
    struct sigaction ignore = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old);
    /* the script on gnuplot's standard input; its messages go to our standard error */
    FILE *gp = popen("gnuplot 1>&2", "w"); /* our standard output stays the caller's */
    if (!gp) {
        snprintf(msg, msg_size, "%s: cannot run gnuplot: %s", path, strerror(errno));
        sigaction(SIGPIPE, &old, NULL);
        gt_atomic_file_discard(&af);
        return false;
    }
    script(gp, af.tmp_path, ctx);
    int status = pclose(gp);
    sigaction(SIGPIPE, &old, NULL);
    bool ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    struct stat st;
    if (ok && (stat(af.tmp_path, &st) != 0 || st.st_size == 0))
        ok = false;
    if (!ok) {
        snprintf(msg, msg_size, "%s: gnuplot failed to draw the plot (exit status %d)", path,
                 status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        gt_atomic_file_discard(&af);
        return false;
    }
    if (gt_atomic_file_commit(&af) != GT_OK) {
        snprintf(msg, msg_size, "%s", gt_last_error());
        return false;
    }
    return true;
}
