/* gemm_blas.c - the optional CBLAS path (OpenBLAS), built with -DGT_BLAS=ON or AUTO and
 * chosen with GT_CPU=blas: cblas_sgemm or cblas_dgemm on each thread's part of the product.
 * Off by default: gradtape's own kernels are faster on the models' shapes (see
 * bench/bench_gemm and the GT_BLAS option in CMakeLists.txt). */
#include "gemm_impl.h"

#if defined(GT_HAVE_CBLAS)
#include <cblas.h>
#include <limits.h>

bool gt__gemm_blas_available(void) { return true; }

/* OpenBLAS runs single-threaded inside gradtape's partition, so the library's own pool
 * (parallel.c) stays the one doing work. Debian's default OpenBLAS (pthreads) starts its own pool when it is loaded;
 * told to use one thread, that pool stays idle (libopenblas-openmp-dev or -serial-dev have
 * no second pool at all). */
void gt__gemm_blas_prepare(void) {
#if defined(GT_HAVE_OPENBLAS)
    openblas_set_num_threads(1);
#endif
}

// C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C by cblas_?gemm; false when a size
// does not fit CBLAS's int
bool gt__gemm_blas(const gt__gemm_args *g) {
    if (g->M > INT_MAX || g->N > INT_MAX || g->K > INT_MAX || g->lda > INT_MAX ||
        g->ldb > INT_MAX || g->ldc > INT_MAX)
        return false;
#ifdef GT_REAL_DOUBLE
    cblas_dgemm(
#else
    cblas_sgemm(
#endif
        CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
        g->trans_b ? CblasTrans : CblasNoTrans, (int)g->M, (int)g->N, (int)g->K, g->alpha, g->A,
        (int)g->lda, g->B, (int)g->ldb, g->beta, g->C, (int)g->ldc);
    return true;
}

#else

bool gt__gemm_blas_available(void) { return false; }

void gt__gemm_blas_prepare(void) {}

bool gt__gemm_blas(const gt__gemm_args *g) {
    (void)g;
    return false;
}

#endif
