/* gemm_portable.c - the portable path, plain C11 for any compiler and CPU: one row of C at a
 * time, 32 columns whose accumulators the compiler keeps in vector registers of whatever
 * width the target has (8 SSE registers on baseline x86-64). Compilers do not keep several
 * rows of accumulators in registers from plain C, so B's row segment is reloaded per row,
 * from L1. No dot tiles: A @ B^T goes through the packed driver. Taps rows (B's rows at
 * offsets, a convolution's taps read in place) take the same loop. */
#include "gemm_impl.h"

#define PORTABLE_NR 32

/* c = alpha * acc + beta * c; beta 0 never reads c */
static inline void store_one(gt_real *c, gt_real acc, gt_real alpha, gt_real beta) {
    *c = beta == 0 ? alpha * acc : alpha * acc + beta * *c;
}

// C[1, nr] = alpha * op(A)[1, kc] @ B[kc, nr] + beta * C, nr <= 32; op(A)[0,k] = a[k * a_step],
// B's row k at b + k*ldb, or at b + off[k] when off is not NULL (taps)
static void portable_row(int64_t kc, int64_t nr, const gt_real *a, int64_t a_step, const gt_real *b,
                         int64_t ldb, const int64_t *off, gt_real *c, gt_real alpha, gt_real beta) {
    gt_real acc[PORTABLE_NR] = {0};
    if (nr == PORTABLE_NR) {
        for (int64_t k = 0; k < kc; k++) {
            gt_real ak = a[k * a_step];
            const gt_real *bk = off ? b + off[k] : b + k * ldb;
            for (int j = 0; j < PORTABLE_NR; j++)
                acc[j] += ak * bk[j];
        }
    } else {
        for (int64_t k = 0; k < kc; k++) {
            gt_real ak = a[k * a_step];
            const gt_real *bk = off ? b + off[k] : b + k * ldb;
            for (int64_t j = 0; j < nr; j++)
                acc[j] += ak * bk[j];
        }
    }
    for (int64_t j = 0; j < nr; j++)
        store_one(c + j, acc[j], alpha, beta);
}

// C[1, nr] = alpha * A[1, kc] @ B[kc, nr] + beta * C, A's row contiguous
static void portable_row_n(int64_t kc, int64_t nr, const gt_real *a, int64_t lda, const gt_real *b,
                           int64_t ldb, gt_real *c, int64_t ldc, gt_real alpha, gt_real beta) {
    (void)lda, (void)ldc;
    portable_row(kc, nr, a, 1, b, ldb, NULL, c, alpha, beta);
}

// C[1, nr] = alpha * A[kc, 1]^T @ B[kc, nr] + beta * C, A's column strided by lda
static void portable_row_t(int64_t kc, int64_t nr, const gt_real *a, int64_t lda, const gt_real *b,
                           int64_t ldb, gt_real *c, int64_t ldc, gt_real alpha, gt_real beta) {
    (void)ldc;
    portable_row(kc, nr, a, lda, b, ldb, NULL, c, alpha, beta);
}

// C[1, nr] = alpha * A[1, kc] @ B[kc, nr] + beta * C, B's row k at b + off[k]
static void portable_row_taps(int64_t kc, int64_t nr, const gt_real *a, int64_t lda,
                              const gt_real *b, const int64_t *off, gt_real *c, int64_t ldc,
                              gt_real alpha, gt_real beta) {
    (void)lda, (void)ldc;
    portable_row(kc, nr, a, 1, b, 0, off, c, alpha, beta);
}

const gt__gemm_kernels *gt__gemm_portable_kernels(void) {
    static const gt__gemm_kernels kernels = {
        .name = "portable",
        .mr = 1,
        .vlen = PORTABLE_NR,
        .nv = 1,
        .outer = {{{portable_row_n}}, {{portable_row_t}}},
        .taps = {{portable_row_taps}},
    };
    return &kernels;
}
