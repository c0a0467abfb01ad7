/* bench_gemm.c - GFLOP/s of gt__gemm on the shapes LeNet-5 and the MLP use, for the naive
 * loop gemm.c used to be (the baseline) and every path this build and CPU support, on 1
 * and 2 threads. Each number is the median of several timed runs of at least a few
 * milliseconds each.
 *
 *     ./build/bench/bench_gemm            # every shape
 *     ./build/bench/bench_gemm MLP        # the shapes whose name contains "MLP"
 *     ./build/bench/bench_gemm "" avx512  # every shape, the naive loop and one path
 *     ./build/bench/bench_gemm --best     # the fastest sample instead of the median, for a
 *                                         # machine shared with other work
 *     ./build/bench/bench_gemm --threads  # where a second thread starts to pay: the
 *                                         # threshold in ops/gemm.c comes from this
 *     OPENBLAS_CORETYPE=Haswell ./build/bench/bench_gemm   # as CI holds OpenBLAS
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "gemm_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLES 15
#define SAMPLE_SECONDS 0.002
#define MAX_COLUMNS (1 + 2 * GT__GEMM_PATH_COUNT)

typedef struct shape {
    char name[40];
    bool ta, tb;
    int64_t M, N, K;
} shape;

// C[M,N] = alpha * op(A) @ op(B) + beta * C: the loop gemm.c had before the kernels, the
// baseline every column is compared with
static void naive_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, gt_real alpha,
                       const gt_real *A, int64_t lda, const gt_real *B, int64_t ldb, gt_real beta,
                       gt_real *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        gt_real *c = C + i * ldc;
        if (beta == 0)
            memset(c, 0, (size_t)N * sizeof(gt_real));
        else if (beta != 1)
            for (int64_t j = 0; j < N; j++)
                c[j] *= beta;
    }
    if (!trans_b) {
        for (int64_t i = 0; i < M; i++) {
            gt_real *c = C + i * ldc;
            for (int64_t k = 0; k < K; k++) {
                gt_real a = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
                const gt_real *b = B + k * ldb;
                for (int64_t j = 0; j < N; j++)
                    c[j] += a * b[j];
            }
        }
    } else {
        for (int64_t i = 0; i < M; i++) {
            gt_real *c = C + i * ldc;
            for (int64_t j = 0; j < N; j++) {
                const gt_real *b = B + j * ldb;
                gt_real total = 0;
                if (!trans_a) {
                    const gt_real *a = A + i * lda;
                    for (int64_t k = 0; k < K; k++)
                        total += a[k] * b[k];
                } else {
                    for (int64_t k = 0; k < K; k++)
                        total += A[k * lda + i] * b[k];
                }
                c[j] += alpha * total;
            }
        }
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct operands {
    gt_real *A, *B, *C;
    int64_t lda, ldb, ldc;
} operands;

static operands make_operands(const shape *s) {
    operands o = {malloc((size_t)(s->M * s->K) * sizeof(gt_real)),
                  malloc((size_t)(s->K * s->N) * sizeof(gt_real)),
                  malloc((size_t)(s->M * s->N) * sizeof(gt_real)),
                  s->ta ? s->M : s->K,
                  s->tb ? s->K : s->N,
                  s->N};
    for (int64_t k = 0; k < s->M * s->K; k++)
        o.A[k] = (gt_real)sin((double)k);
    for (int64_t k = 0; k < s->K * s->N; k++)
        o.B[k] = (gt_real)cos((double)k);
    return o;
}

static void free_operands(operands *o) { free(o->A), free(o->B), free(o->C); }

static bool report_best; /* --best: the fastest sample rather than the median */

/* A column of the table: the naive loop (path < 0) or a path on a number of threads. */
typedef struct column {
    int path, threads;
} column;

static void product(const shape *s, operands *o, const column *c) {
    if (c->path < 0)
        naive_gemm(s->ta, s->tb, s->M, s->N, s->K, 1, o->A, o->lda, o->B, o->ldb, 0, o->C, o->ldc);
    else
        gt__gemm(s->ta, s->tb, s->M, s->N, s->K, 1, o->A, o->lda, o->B, o->ldb, 0, o->C, o->ldc);
}

/* Selects the column's path and threads and runs it once, untimed (caches, thread pool). */
static void warm(const shape *s, operands *o, const column *c) {
    if (c->path >= 0) {
        gt__gemm_set_path((gt__gemm_path)c->path);
        gt_set_threads(c->threads);
    }
    product(s, o, c);
}

/* GFLOP/s of `reps` back-to-back products. */
static double rate_of(const shape *s, operands *o, const column *c, int reps) {
    double start = now();
    for (int r = 0; r < reps; r++)
        product(s, o, c);
    return 2.0 * (double)s->M * (double)s->N * (double)s->K * reps / (now() - start) / 1e9;
}

/* The median (or best) GFLOP/s of every column over SAMPLES rounds; a round times each
 * column once, enough repetitions to last SAMPLE_SECONDS, so that load from elsewhere on
 * the machine falls on every column alike and the ratios within a row hold. */
static void measure(const shape *s, operands *o, const column *cols, int n_cols, double *result) {
    int reps[MAX_COLUMNS];
    double rate[MAX_COLUMNS][SAMPLES];
    for (int c = 0; c < n_cols; c++) {
        warm(s, o, &cols[c]);
        double once =
            2.0 * (double)s->M * (double)s->N * (double)s->K / (rate_of(s, o, &cols[c], 1) * 1e9);
        reps[c] = once > SAMPLE_SECONDS ? 1 : (int)(SAMPLE_SECONDS / (once > 1e-9 ? once : 1e-9));
    }
    for (int i = 0; i < SAMPLES; i++)
        for (int c = 0; c < n_cols; c++) {
            warm(s, o, &cols[c]);
            rate[c][i] = rate_of(s, o, &cols[c], reps[c]);
        }
    for (int c = 0; c < n_cols; c++) {
        qsort(rate[c], SAMPLES, sizeof rate[c][0], by_value);
        result[c] = rate[c][report_best ? SAMPLES - 1 : SAMPLES / 2];
    }
}

static int make_shapes(shape *out) {
    int n = 0;
#define SHAPE(label, ta_, tb_, m, nn, k)       \
    (out[n] = (shape){"", ta_, tb_, m, nn, k}, \
     snprintf(out[n].name, sizeof out[n].name, "%s", label), n++)
    SHAPE("LeNet C1 fwd", false, false, 6, 784, 25);
    SHAPE("LeNet C1 dW", false, true, 6, 25, 784);
    SHAPE("LeNet C1 dX", true, false, 25, 784, 6);
    SHAPE("LeNet C3 fwd", false, false, 16, 100, 150);
    SHAPE("LeNet C3 dX", true, false, 150, 100, 16);
    SHAPE("LeNet C3 dW", false, true, 16, 150, 100);
    SHAPE("LeNet C5 fwd", false, false, 120, 1, 400);
    SHAPE("LeNet C5 dX", true, false, 400, 1, 120);
    SHAPE("LeNet C5 dW", false, true, 120, 400, 1);
    SHAPE("LeNet C1 fwd x64", false, false, 6, 64 * 784, 25);
    SHAPE("LeNet C1 dW x64", false, true, 6, 25, 64 * 784);
    SHAPE("LeNet C1 dX x64", true, false, 25, 64 * 784, 6);
    SHAPE("LeNet C3 fwd x64", false, false, 16, 64 * 100, 150);
    SHAPE("LeNet C3 dW x64", false, true, 16, 150, 64 * 100);
    SHAPE("LeNet C3 dX x64", true, false, 150, 64 * 100, 16);
    static const int64_t batches[] = {1, 64, 256, 1000};
    static const struct {
        const char *name;
        int64_t in, out;
    } layers[] = {
        {"LeNet F6", 120, 84}, {"LeNet F7", 84, 10}, {"MLP L1", 784, 100}, {"MLP L2", 100, 10}};
    for (int l = 0; l < 4; l++)
        for (int b = 0; b < 4; b++) {
            int64_t N = batches[b], in = layers[l].in, o = layers[l].out;
            char label[40];
            snprintf(label, sizeof label, "%s fwd N=%lld", layers[l].name, (long long)N);
            SHAPE(label, false, true, N, o, in);
            snprintf(label, sizeof label, "%s dX N=%lld", layers[l].name, (long long)N);
            SHAPE(label, false, false, N, in, o);
            snprintf(label, sizeof label, "%s dW N=%lld", layers[l].name, (long long)N);
            SHAPE(label, true, false, o, in, N);
        }
#undef SHAPE
    return n;
}

/* --threads: the time of one product on 2 threads over 1 thread, the best of 200 runs each
 * (runs that found both cores free), with the threads still spinning from the previous
 * product and after 1 ms of work elsewhere (when they have gone to sleep), with the
 * parallel threshold lifted. */
static void thread_threshold(void) {
    static const shape shapes[] = {
        {"C1 fwd", false, false, 6, 784, 25},
        {"C3 fwd", false, false, 16, 100, 150},
        {"F6 fwd N=64", false, true, 64, 84, 120},
        {"C1 fwd x8", false, false, 6, 6272, 25},
        {"MLP L2 dW", true, false, 10, 100, 1000},
        {"C3 fwd x8", false, false, 16, 800, 150},
        {"F6 dX N=256", false, false, 256, 120, 84},
        {"MLP L1 fwd N=64", false, true, 64, 100, 784},
        {"C1 fwd x64", false, false, 6, 50176, 25},
        {"MLP L1 fwd N=256", false, true, 256, 100, 784},
        {"MLP L1 fwd N=1000", false, true, 1000, 100, 784},
        {"MLP L1 dX N=1000", false, false, 1000, 784, 100},
    };
    int64_t threshold = gt__gemm_set_parallel_min_flops(0);
    printf("2 threads' time over 1 thread's, best of 200, path %s\n\n", gt__gemm_path_name());
    printf("%-18s %8s %10s %10s %8s %10s\n", "shape", "MFLOP", "1T us", "2T us", "2T/1T",
           "idle 1 ms");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        operands o = make_operands(s);
        const column one = {0, 1};
        double best[2][3] = {{1e9, 1e9, 1e9}, {1e9, 1e9, 1e9}};
        for (int idle = 0; idle < 2; idle++)
            for (int rep = 0; rep < 200; rep++)
                for (int t = 1; t <= 2; t++) {
                    gt_set_threads(t);
                    for (double start = now(); idle && now() - start < 1e-3;)
                        continue;
                    double start = now();
                    product(s, &o, &one);
                    double took = now() - start;
                    best[idle][t] = took < best[idle][t] ? took : best[idle][t];
                }
        printf("%-18s %8.2f %10.1f %10.1f %8.2f %10.2f\n", s->name,
               2e-6 * (double)s->M * (double)s->N * (double)s->K, 1e6 * best[0][1],
               1e6 * best[0][2], best[0][2] / best[0][1], best[1][2] / best[1][1]);
        free_operands(&o);
    }
    gt__gemm_set_parallel_min_flops(threshold);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--threads") == 0) {
        thread_threshold();
        return 0;
    }
    report_best = argc > 1 && strcmp(argv[1], "--best") == 0;
    if (report_best)
        argc--, argv++;
    const char *filter = argc > 1 ? argv[1] : NULL, *only = argc > 2 ? argv[2] : NULL;
    column cols[MAX_COLUMNS] = {{-1, 1}};
    int n_cols = 1;
    for (int p = 0; p < GT__GEMM_PATH_COUNT; p++)
        if (gt__gemm_path_supported((gt__gemm_path)p) &&
            (!only || strcmp(only, gt__gemm_path_label((gt__gemm_path)p)) == 0))
            for (int t = 1; t <= 2; t++)
                cols[n_cols++] = (column){p, t};
    static shape shapes[128];
    int n_shapes = make_shapes(shapes);
    const char *core = getenv("OPENBLAS_CORETYPE");
    printf("gt__gemm, %s, GFLOP/s (%s of %d); the default path here is %s; "
           "OPENBLAS_CORETYPE=%s\n\n",
           sizeof(gt_real) == 4 ? "float" : "double", report_best ? "best" : "median", SAMPLES,
           gt__gemm_path_name(), core ? core : "(unset)");
    printf("%-22s %-2s %5s %6s %5s %7s", "shape", "op", "M", "N", "K", "naive");
    for (int c = 1; c < n_cols; c++) {
        char head[24];
        snprintf(head, sizeof head, "%s/%d", gt__gemm_path_label((gt__gemm_path)cols[c].path),
                 cols[c].threads);
        printf(" %10s", head);
    }
    printf("  best/naive\n");
    for (int i = 0; i < n_shapes; i++) {
        const shape *s = &shapes[i];
        if (filter && !strstr(s->name, filter))
            continue;
        operands o = make_operands(s);
        printf("%-22s %c%c %5lld %6lld %5lld", s->name, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N',
               (long long)s->M, (long long)s->N, (long long)s->K);
        double rate[MAX_COLUMNS], best = 0;
        measure(s, &o, cols, n_cols, rate);
        gt__gemm_set_path(GT__GEMM_AUTO);
        printf(" %7.1f", rate[0]);
        for (int c = 1; c < n_cols; c++) {
            printf(" %10.1f", rate[c]);
            best = rate[c] > best ? rate[c] : best;
        }
        printf("  %9.1fx\n", best / rate[0]);
        fflush(stdout);
        free_operands(&o);
    }
    return 0;
}
