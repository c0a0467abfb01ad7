/* progress.c - a live progress bar per epoch on a terminal, redrawn in place:
 *     epoch 3/10 [=========>          ]  45%  27008/60000  loss 0.4123  2345 img/s  ETA 0:14
 * and, when no output is a terminal (a log file, a pipe), a plain line now and then, indented
 * by two spaces:
 *       epoch 3/10  45%  27008/60000  loss 0.4123  2345 img/s  ETA 0:14
 * so that only the epoch's summary line ("epoch 3/10  train loss ...") starts with "epoch":
 * scripts that wait for an epoch to end, or count the epochs, grep for that. */
#define _DEFAULT_SOURCE /* TIOCGWINSZ and struct winsize */
#include "train.h"

#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_SECONDS 0.1
#define PLAIN_LINE_SECONDS 20.0

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int terminal_width(FILE *f) {
    struct winsize size;
    if (ioctl(fileno(f), TIOCGWINSZ, &size) == 0 && size.ws_col >= 20)
        return size.ws_col;
    return 80;
}

void progress_init(progress *p) {
    memset(p, 0, sizeof *p);
    p->bar = isatty(STDERR_FILENO) ? stderr : isatty(STDOUT_FILENO) ? stdout : NULL;
}

void progress_begin(progress *p, int epoch, int epochs, int64_t total) {
    p->epoch = epoch;
    p->epochs = epochs;
    p->total = total;
    p->start = p->last_shown = now_seconds();
    p->drawn = false;
}

static void format_eta(double seconds, char *buf, size_t size) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

void progress_update(progress *p, int64_t done, double mean_loss) {
    double now = now_seconds(), elapsed = now - p->start;
    double interval = p->bar ? REDRAW_SECONDS : PLAIN_LINE_SECONDS;
    if (now - p->last_shown < interval && done < p->total)
        return;
    if (!p->bar && done >= p->total)
        return; /* the epoch's summary line follows */
    p->last_shown = now;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char eta[32];
    format_eta(rate > 0 ? (double)(p->total - done) / rate : 0, eta, sizeof eta);
    char tail[160];
    int percent = p->total ? (int)(100 * done / p->total) : 100;
    snprintf(tail, sizeof tail, " %3d%%  %lld/%lld  loss %.4f  %.0f img/s  ETA %s", percent,
             (long long)done, (long long)p->total, mean_loss, rate, eta);
    char head[32];
    snprintf(head, sizeof head, "epoch %d/%d ", p->epoch, p->epochs);
    if (!p->bar) {
        printf("  %s%s\n", head, tail);
        fflush(stdout);
        return;
    }
    /* The bar takes what the terminal's width leaves; no bar when it is too narrow. */
    char bar[256];
    int room = terminal_width(p->bar) - 1 - (int)strlen(head) - (int)strlen(tail) - 2;
    if (room > (int)sizeof bar - 1)
        room = (int)sizeof bar - 1;
    if (room >= 5) {
        int filled = p->total ? (int)((double)room * (double)done / (double)p->total) : room;
        for (int i = 0; i < room; i++)
            bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
        bar[room] = 0;
        fprintf(p->bar, "\r\033[K%s[%s]%s", head, bar, tail);
    } else {
        fprintf(p->bar, "\r\033[K%s%s", head, tail);
    }
    fflush(p->bar);
    p->drawn = true;
}

void progress_end(progress *p) {
    if (p->bar && p->drawn) {
        fputs("\r\033[K", p->bar);
        fflush(p->bar);
    }
    p->drawn = false;
}
