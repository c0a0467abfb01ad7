/* gemm.c - the one GEMM entry point behind matmul, linear and conv2d.
 * A portable kernel: the loops are ordered so the innermost runs along contiguous memory
 * of both the output and one operand, which compilers vectorise. */
#include "gt_ops_impl.h"

#include <string.h>

// C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N]
void gt__gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, gt_real alpha,
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
        /* rows of B are contiguous: c[i,:] += a[i,k] * b[k,:] */
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
        /* B^T: c[i,j] = dot(a[i,:], b[j,:]) with both rows contiguous when A is not
         * transposed */
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
