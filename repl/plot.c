/* plot.c - plot(y), plot(x, y): a line chart in the terminal drawn with Unicode braille
 * characters (2 x 4 dots each) between axis labels, or with file="NAME.png" a PNG drawn by
 * gnuplot (gnuplot/gt_gnuplot.h, shared with gradtape-train --plot). */
#include "builtins.h"
#include "gt_gnuplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLOT_MAX_WIDTH 400  /* characters */
#define PLOT_MAX_HEIGHT 200 /* lines */

/* The numbers of a list of numbers or of a 1-D tensor, as a new array of *n. */
static bool series(repl *r, const call_args *a, int i, const char *what, double **out,
                   int64_t *n) {
    value v = a->vals[i];
    const gt_tensor *t = v.kind == V_TENSOR ? v.box->tensor : NULL;
    if (v.kind == V_TENSOR && (!t || gt_tensor_ndim(t) != 1)) {
        char buf[160];
        return repl_fail(r, a->cols[i], "plot: %s must be a list of numbers or a 1-D tensor, "
                         "not a tensor of shape %s", what, t ? gt_shape_str(gt_tensor_ndim(t),
                         gt_tensor_shape(t), buf, sizeof buf) : "(lost)");
    }
    if (v.kind != V_TENSOR && v.kind != V_LIST)
        return repl_fail(r, a->cols[i], "plot: %s must be a list of numbers or a 1-D tensor, "
                         "not %s", what, value_kind_phrase(v));
    *n = t ? gt_tensor_numel(t) : v.box->list->n;
    if (*n == 0)
        return repl_fail(r, a->cols[i], "plot: %s is empty: nothing to draw", what);
    if (!(*out = gt_malloc((size_t)*n * sizeof **out, "repl: plot")))
        return repl_fail_lib(r, a->cols[i]);
    for (int64_t k = 0; k < *n; k++) {
        if (t) {
            (*out)[k] = gt_tensor_cdata(t)[k];
        } else if (!value_as_number(v.box->list->items[k], &(*out)[k])) {
            gt_free(*out);
            *out = NULL;
            return repl_fail(r, a->cols[i], "plot: %s must hold numbers, item %lld is %s",
                             what, (long long)k, value_kind_phrase(v.box->list->items[k]));
        }
    }
    return true;
}

/* The finite range of v[0..n-1]; false when no value is finite. */
static bool finite_range(const double *v, int64_t n, double *lo, double *hi) {
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            *lo = fmin(*lo, v[i]);
            *hi = fmax(*hi, v[i]);
        }
    return *lo <= *hi;
}

typedef struct canvas {
    int w, h;              /* characters */
    unsigned char *dots;   /* w * h braille bit patterns */
} canvas;

/* The dot at pixel (px, py), py 0 at the top; 2 x 4 pixels a character. */
static void set_dot(canvas *c, int px, int py) {
    static const unsigned char bits[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20},
                                             {0x40, 0x80}};
    if (px < 0 || py < 0 || px >= 2 * c->w || py >= 4 * c->h)
        return;
    c->dots[(py / 4) * c->w + px / 2] |= bits[py % 4][px % 2];
}

/* A straight line of dots from (x0, y0) to (x1, y1) (Bresenham). */
static void draw_line(canvas *c, int x0, int y0, int x1, int y1) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        set_dot(c, x0, y0);
        if (x0 == x1 && y0 == y1)
            return;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

static int to_pixel(double v, double lo, double hi, int pixels) {
    return hi > lo ? (int)lround((v - lo) / (hi - lo) * (pixels - 1)) : (pixels - 1) / 2;
}

/* Writes the chart: y labels at the top and bottom lines, x labels under the axis. */
static void draw_chart(const double *x, const double *y, int64_t n, int w, int h,
                       const char *title, unsigned char *dots) {
    double xlo, xhi, ylo, yhi;
    finite_range(x, n, &xlo, &xhi);
    bool any = finite_range(y, n, &ylo, &yhi);
    canvas c = {w, h, dots};
    memset(dots, 0, (size_t)w * (size_t)h);
    bool pen = false; /* a NaN or infinity breaks the line */
    int px = 0, py = 0;
    for (int64_t i = 0; any && i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            pen = false;
            continue;
        }
        int qx = to_pixel(x[i], xlo, xhi, 2 * w);
        int qy = 4 * h - 1 - to_pixel(y[i], ylo, yhi, 4 * h);
        if (pen)
            draw_line(&c, px, py, qx, qy);
        else
            set_dot(&c, qx, qy);
        px = qx;
        py = qy;
        pen = true;
    }
    char top[32], bottom[32], left[32], right[32];
    snprintf(top, sizeof top, "%.4g", any ? yhi : NAN);
    snprintf(bottom, sizeof bottom, "%.4g", any ? ylo : NAN);
    snprintf(left, sizeof left, "%.4g", xlo);
    snprintf(right, sizeof right, "%.4g", xhi);
    int margin = (int)(strlen(top) > strlen(bottom) ? strlen(top) : strlen(bottom));
    if (title && *title)
        printf("%*s %s\n", margin, "", title);
    for (int row = 0; row < h; row++) {
        const char *label = row == 0 ? top : row == h - 1 ? bottom : "";
        printf("%*s %s", margin, label, row == 0 || row == h - 1 ? "\u2524" : "\u2502");
        for (int col = 0; col < w; col++) {
            unsigned b = dots[row * w + col];
            putchar(0xE2);
            putchar(0xA0 + (int)(b >> 6));
            putchar(0x80 + (int)(b & 0x3F));
        }
        putchar('\n');
    }
    printf("%*s \u2514", margin, "");
    for (int col = 0; col < w; col++)
        fputs("\u2500", stdout);
    int gap = w - (int)strlen(left) - (int)strlen(right);
    printf("\n%*s  %s%*s%s\n", margin, "", left, gap > 1 ? gap : 1, "", right);
}

/* The data and commands of a one-line PNG, for gt_gnuplot_draw. */
typedef struct png_job {
    const double *x, *y;
    int64_t n;
    const char *title;
} png_job;

static void png_script(FILE *gp, const char *output, void *ctx) {
    const png_job *job = ctx;
    fprintf(gp, "$data << EOD\n");
    for (int64_t i = 0; i < job->n; i++)
        fprintf(gp, "%.9g %.9g\n", job->x[i], job->y[i]);
    fprintf(gp, "EOD\n"
                "set terminal pngcairo noenhanced size 800,480 font ',10'\n"
                "set output ");
    gt_gnuplot_quote(gp, output);
    fprintf(gp, "\nset grid\nset title ");
    gt_gnuplot_quote(gp, job->title ? job->title : "");
    fprintf(gp, "\n%splot $data using 1:2 with lines notitle\nset output\n",
            job->n == 1 ? "set xrange [*:*] noextend\nset offsets 0.5, 0.5, 0.5, 0.5\n" : "");
}

/* A whole-number keyword within [lo, hi]. */
static bool size_keyword(repl *r, const call_args *a, int i, int lo, int hi, int *out) {
    double v;
    if (!value_as_number(a->vals[i], &v) || v != floor(v) || v < lo || v > hi)
        return repl_fail(r, a->cols[i], "plot: %s must be a whole number from %d to %d",
                         a->kw[i], lo, hi);
    *out = (int)v;
    return true;
}

/* plot(y) / plot(x, y), title="", width=60, height=12, file="NAME.png" */
bool b_plot(repl *r, const call_args *a, value *out) {
    (void)out;
    int pos[2], n_pos = 0, width = 60, height = 12;
    const char *file = NULL, *title = NULL;
    for (int i = 0; i < a->n; i++) {
        const char *kw = a->kw[i];
        value v = a->vals[i];
        if (!kw) {
            if (n_pos == 2)
                return repl_fail(r, a->cols[i], "plot: takes y or x, y (one series)");
            pos[n_pos++] = i;
        } else if (!strcmp(kw, "file") || !strcmp(kw, "title")) {
            if (v.kind != V_STR)
                return repl_fail(r, a->cols[i], "plot: %s must be a string", kw);
            *(!strcmp(kw, "file") ? &file : &title) = v.box->str;
        } else if (!strcmp(kw, "width")) {
            if (!size_keyword(r, a, i, 8, PLOT_MAX_WIDTH, &width))
                return false;
        } else if (!strcmp(kw, "height")) {
            if (!size_keyword(r, a, i, 2, PLOT_MAX_HEIGHT, &height))
                return false;
        } else {
            return repl_fail(r, a->call->kwcols[i], "plot: no argument named %s (file, title, "
                             "width, height)", kw);
        }
    }
    if (n_pos == 0)
        return repl_fail(r, a->call->col, "plot: takes y or x, y (one series)");
    if (file && !gt_gnuplot_available())
        return repl_fail(r, a->call->col, "plot: gnuplot is not installed (Debian: apt-get "
                         "install gnuplot-nox), so %s cannot be drawn; leave out file= for the "
                         "terminal's chart", file);
    double *x = NULL, *y = NULL;
    int64_t nx = 0, ny = 0;
    unsigned char *dots = NULL;
    bool ok = series(r, a, pos[n_pos - 1], "y", &y, &ny) &&
              (n_pos == 1 || series(r, a, pos[0], "x", &x, &nx));
    if (ok && n_pos == 2 && nx != ny)
        ok = repl_fail(r, a->cols[pos[0]], "plot: x has %lld numbers and y %lld",
                       (long long)nx, (long long)ny);
    if (ok && !x && !(x = gt_malloc((size_t)ny * sizeof *x, "repl: plot")))
        ok = repl_fail_lib(r, a->call->col);
    for (int64_t i = 0; ok && n_pos == 1 && i < ny; i++)
        x[i] = (double)i;
    if (ok && file) {
        png_job job = {x, y, ny, title};
        char msg[600];
        if (!gt_gnuplot_draw(file, "plot", png_script, &job, msg, sizeof msg))
            ok = repl_fail(r, a->call->col, "plot: %s", msg);
    } else if (ok) {
        if (!(dots = gt_malloc((size_t)width * (size_t)height, "repl: plot")))
            ok = repl_fail_lib(r, a->call->col);
        else
            draw_chart(x, y, ny, width, height, title, dots);
    }
    gt_free(dots);
    gt_free(x);
    gt_free(y);
    return ok;
}
