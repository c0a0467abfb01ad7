/* bench_gemm.c - GFLOP/s of gt__gemm on the shapes LeNet-5 and the MLP use, for the naive
 * loop gemm.c used to be (the baseline) and every path this build and CPU support, on 1
 * and 2 threads. Each number is the median of several timed runs of at least a few
 * milliseconds each.
 *
 *     ./build/bench/bench_gemm            # every shape
 *     ./build/bench/bench_gemm MLP        # the shapes whose name contains "MLP"
 *     ./build/bench/bench_gemm "" avx512  # every shape, the naive loop and one path
 *     OPENBLAS_CORETYPE=Haswell ./build/bench/bench_gemm   # as CI holds OpenBLAS
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "gemm_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLES 9
#define SAMPLE_SECONDS 0.004

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

static void product(const shape *s, operands *o, bool naive) {
    if (naive)
        naive_gemm(s->ta, s->tb, s->M, s->N, s->K, 1, o->A, o->lda, o->B, o->ldb, 0, o->C, o->ldc);
    else
        gt__gemm(s->ta, s->tb, s->M, s->N, s->K, 1, o->A, o->lda, o->B, o->ldb, 0, o->C, o->ldc);
}

/* Median GFLOP/s over SAMPLES timings, each of enough repetitions to last SAMPLE_SECONDS. */
static double gflops(const shape *s, operands *o, bool naive) {
    product(s, o, naive); /* warm the caches and the thread pool */
    double t0 = now();
    product(s, o, naive);
    double once = now() - t0;
    int reps = once > SAMPLE_SECONDS ? 1 : (int)(SAMPLE_SECONDS / (once > 1e-9 ? once : 1e-9));
    double rate[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        double start = now();
        for (int r = 0; r < reps; r++)
            product(s, o, naive);
        rate[i] = 2.0 * (double)s->M * (double)s->N * (double)s->K * reps / (now() - start) / 1e9;
    }
    qsort(rate, SAMPLES, sizeof rate[0], by_value);
    return rate[SAMPLES / 2];
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

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL, *only = argc > 2 ? argv[2] : NULL;
    bool paths[GT__GEMM_PATH_COUNT];
    for (int p = 0; p < GT__GEMM_PATH_COUNT; p++)
        paths[p] = gt__gemm_path_supported((gt__gemm_path)p) &&
                   (!only || strcmp(only, gt__gemm_path_label((gt__gemm_path)p)) == 0);
    static shape shapes[128];
    int n_shapes = make_shapes(shapes);
    const char *core = getenv("OPENBLAS_CORETYPE");
    printf("gt__gemm, %s, GFLOP/s (median of %d); the default path here is %s; "
           "OPENBLAS_CORETYPE=%s\n\n",
           sizeof(gt_real) == 4 ? "float" : "double", SAMPLES, gt__gemm_path_name(),
           core ? core : "(unset)");
    printf("%-22s %-2s %5s %6s %5s %7s", "shape", "op", "M", "N", "K", "naive");
    for (int p = 0; p < GT__GEMM_PATH_COUNT; p++)
        if (paths[p])
            for (int t = 1; t <= 2; t++) {
                char head[24];
                snprintf(head, sizeof head, "%s/%d", gt__gemm_path_label((gt__gemm_path)p), t);
                printf(" %10s", head);
            }
    printf("  best/naive\n");
    for (int i = 0; i < n_shapes; i++) {
        const shape *s = &shapes[i];
        if (filter && !strstr(s->name, filter))
            continue;
        operands o;
        o.lda = s->ta ? s->M : s->K;
        o.ldb = s->tb ? s->K : s->N;
        o.ldc = s->N;
        o.A = malloc((size_t)(s->M * s->K) * sizeof(gt_real));
        o.B = malloc((size_t)(s->K * s->N) * sizeof(gt_real));
        o.C = malloc((size_t)(s->M * s->N) * sizeof(gt_real));
        for (int64_t k = 0; k < s->M * s->K; k++)
            o.A[k] = (gt_real)sin((double)k);
        for (int64_t k = 0; k < s->K * s->N; k++)
            o.B[k] = (gt_real)cos((double)k);
        printf("%-22s %c%c %5lld %6lld %5lld", s->name, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N',
               (long long)s->M, (long long)s->N, (long long)s->K);
        double naive = gflops(s, &o, true), best = 0;
        printf(" %7.1f", naive);
        fflush(stdout);
        for (int p = 0; p < GT__GEMM_PATH_COUNT; p++) {
            if (!paths[p] || !gt__gemm_set_path((gt__gemm_path)p))
                continue;
            for (int t = 1; t <= 2; t++) {
                gt_set_threads(t);
                double rate = gflops(s, &o, false);
                best = rate > best ? rate : best;
                printf(" %10.1f", rate);
                fflush(stdout);
            }
        }
        gt__gemm_set_path(GT__GEMM_AUTO);
        printf("  %9.1fx\n", best / naive);
        free(o.A), free(o.B), free(o.C);
    }
    return 0;
}
