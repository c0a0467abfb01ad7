/* report.c - the per-epoch history of a run, written as CSV (one row per epoch, with a
 * header) and drawn as loss and accuracy curves by gnuplot. Both files are replaced
 * through gt_atomic_file (a temporary file renamed over the old one), so that a run
 * killed at any moment leaves the previous complete file. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include "gt_gnuplot.h"

#include <stdlib.h>
#include <string.h>

#define CSV_HEADER "epoch,train_loss,train_accuracy,test_loss,test_accuracy,images_per_s,seconds"

bool history_add(history *h, const epoch_record *r) {
    if (h->count == h->capacity) {
        int capacity = h->capacity ? 2 * h->capacity : 16;
        epoch_record *rows = realloc(h->rows, (size_t)capacity * sizeof *rows);
        if (!rows) {
            complain("no memory for the history of %d epochs", capacity);
            return false;
        }
        h->rows = rows;
        h->capacity = capacity;
    }
    h->rows[h->count++] = *r;
    return true;
}

void history_free(history *h) {
    free(h->rows);
    memset(h, 0, sizeof *h);
}

void history_read_csv(history *h, const char *path, int epochs_done) {
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    if (fgets(line, sizeof line, f) && !strcmp(line, CSV_HEADER "\n")) {
        epoch_record r;
        while (fgets(line, sizeof line, f) && h->count < epochs_done) {
            int fields = sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,%lf", &r.epoch, &r.train_loss,
                                &r.train_accuracy, &r.test_loss, &r.test_accuracy, &r.images_per_s,
                                &r.seconds);
            /* only the rows 1, 2, ... in order: anything else is not this run's */
            if (fields != 7 || r.epoch != h->count + 1 || !history_add(h, &r))
                break;
        }
    }
    fclose(f);
}

bool history_write_csv(const history *h, const char *path) {
    gt_atomic_file af;
    if (gt_atomic_file_open(&af, path, "--csv") != GT_OK) {
        complain("%s", gt_last_error());
        return false;
    }
    fprintf(af.file, CSV_HEADER "\n");
    for (int i = 0; i < h->count; i++) {
        const epoch_record *r = &h->rows[i];
        fprintf(af.file, "%d,%.6f,%.6f,%.6f,%.6f,%.1f,%.2f\n", r->epoch, r->train_loss,
                r->train_accuracy, r->test_loss, r->test_accuracy, r->images_per_s, r->seconds);
    }
    if (gt_atomic_file_commit(&af) != GT_OK) {
        complain("%s", gt_last_error());
        return false;
    }
    return true;
}

/* The two panels (loss, accuracy) of the history, for gt_gnuplot_draw. */
typedef struct plot_job {
    const history *h;
    const char *title;
} plot_job;

static void history_script(FILE *gp, const char *output, void *ctx) {
    const plot_job *job = ctx;
    const history *h = job->h;
    fprintf(gp, "$history << EOD\n");
    for (int i = 0; i < h->count; i++) {
        const epoch_record *r = &h->rows[i];
        fprintf(gp, "%d %.6f %.6f %.6f %.6f\n", r->epoch, r->train_loss, r->train_accuracy,
                r->test_loss, r->test_accuracy);
    }
    fprintf(gp, "EOD\n"
                "set terminal pngcairo noenhanced size 1000,440 font ',10'\n"
                "set output ");
    gt_gnuplot_quote(gp, output);
    fprintf(gp, "\nset multiplot layout 1,2 title ");
    gt_gnuplot_quote(gp, job->title);
    fprintf(gp, "\n"
                "set grid\n"
                "set key top right\n"
                "set xlabel 'epoch'\n");
    if (h->count <= 20)
        fprintf(gp, "set xtics 1\n");
    if (h->count == 1) /* one point: gnuplot cannot autoscale an empty range */
        fprintf(gp, "set xrange [0.5:1.5]\n");
    fprintf(gp, "set title 'cross-entropy loss'\n"
                "plot $history using 1:2 with linespoints title 'train', "
                "$history using 1:4 with linespoints title 'test'\n"
                "set key bottom right\n"
                "set title 'accuracy'\n"
                "plot $history using 1:3 with linespoints title 'train', "
                "$history using 1:5 with linespoints title 'test'\n"
                "unset multiplot\n"
                "set output\n");
}

bool history_plot(const history *h, const char *path, const char *title) {
    plot_job job = {h, title};
    char msg[600];
    if (!gt_gnuplot_draw(path, "--plot", history_script, &job, msg, sizeof msg)) {
        complain("%s", msg);
        return false;
    }
    return true;
}
