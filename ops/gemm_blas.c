/* gemm_blas.c - the optional CBLAS path (OpenBLAS), built with -DGT_BLAS=ON: cblas_sgemm or
 * cblas_dgemm on one thread's part of the product, so OpenMP stays the only thread pool. */
#include "gemm_impl.h"

#if defined(GT_HAVE_CBLAS)
#include <cblas.h>
#include <limits.h>

bool gt__gemm_blas_available(void) { return true; }

/* OpenBLAS runs single-threaded inside our partition: its own pool is told to use one
 * thread before the first call (a benign race: every caller stores the same value). */
static void blas_one_thread(void) {
#if defined(GT_HAVE_OPENBLAS)
    static int done;
    if (!done) {
        openblas_set_num_threads(1);
        done = 1;
    }
#endif
}

// C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C by cblas_?gemm; false when a size
// does not fit CBLAS's int
bool gt__gemm_blas(const gt__gemm_args *g) {
    if (g->M > INT_MAX || g->N > INT_MAX || g->K > INT_MAX || g->lda > INT_MAX ||
        g->ldb > INT_MAX || g->ldc > INT_MAX)
        return false;
    blas_one_thread();
#ifdef GT_REAL_DOUBLE
    cblas_dgemm(
#else
    cblas_sgemm(
#endif
        CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
        g->trans_b ? CblasTrans : CblasNoTrans, (int)g->M, (int)g->N, (int)g->K, g->alpha,
        g->A, (int)g->lda, g->B, (int)g->ldb, g->beta, g->C, (int)g->ldc);
    return true;
}

#else

bool gt__gemm_blas_available(void) { return false; }

bool gt__gemm_blas(const gt__gemm_args *g) {
    (void)g;
    return false;
}

#endif
