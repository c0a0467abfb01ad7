/* gemm_impl.h - the GEMM family's internals, shared by gemm.c (entry point, dispatch,
 * threads), gemm_driver.c (the blocked loops), the kernel files (gemm_portable.c,
 * gemm_avx2.c, gemm_avx512.c) and gemm_blas.c, and included by tests/test_gemm.c and
 * bench/bench_gemm.c, which link the static library. Not installed.
 *
 * Every path computes C = alpha * op(A) @ op(B) + beta * C without packing whenever the
 * operands can be read in place:
 * - "outer" tiles: C[mr, nr] from mr broadcast elements of op(A) times nr contiguous
 *   elements of a row of B, one k at a time (B not transposed; A either way);
 * - "dot" tiles: C[i, j] = dot(row i of A, row j of B), both contiguous along k
 *   (A not transposed, B transposed), summed in vectors and reduced at the end;
 * - otherwise a block of op(B) is transposed into a stack buffer and fed to outer tiles.
 * An element's sum always runs over k in the same order whatever the tile or thread
 * partition, so results depend only on the sizes and the path, not on the thread count. */
#ifndef GT_GEMM_IMPL_H
#define GT_GEMM_IMPL_H

#include "gt_ops_impl.h"

/* The largest register tiles any path uses (the tables below are sized by them). */
#define GT__GEMM_MAX_MR 14 /* rows of an outer tile */
#define GT__GEMM_MAX_NV 2  /* vectors across an outer tile */
#define GT__GEMM_MAX_DM 6  /* rows of a dot tile */
#define GT__GEMM_MAX_DN 4  /* columns of a dot tile */

// C[mr,nr] = alpha * op(A)[mr,kc] @ B[kc,nr] + beta * C; op(A)[i,k] = a[i*lda + k] (or
// a[k*lda + i] in the transposed table), B[k,j] = b[k*ldb + j]; nr <= nv * vector length.
// beta == 0 never reads C.
typedef void gt__gemm_outer_fn(int64_t kc, int64_t nr, const gt_real *a, int64_t lda,
                               const gt_real *b, int64_t ldb, gt_real *c, int64_t ldc,
                               gt_real alpha, gt_real beta);
// C[i,j] = alpha * sum_k a[i*lda + k] * b[j*ldb + k] + beta * C[i,j], i < dm, j < dn
typedef void gt__gemm_dot_fn(int64_t kc, const gt_real *a, int64_t lda, const gt_real *b,
                             int64_t ldb, gt_real *c, int64_t ldc, gt_real alpha, gt_real beta);

// C[mr,nr] = alpha * A[mr,kc] @ B[kc,nr] + beta * C with B's rows gathered: B[k,j] =
// b[off[k] + j] (a stride-1 convolution's taps read in place from its image); the outer
// tile's loop, so each element is summed as the outer tile sums it
typedef void gt__gemm_taps_fn(int64_t kc, int64_t nr, const gt_real *a, int64_t lda,
                              const gt_real *b, const int64_t *off, gt_real *c, int64_t ldc,
                              gt_real alpha, gt_real beta);

// C[mr,nr] = alpha * A[mr,kc] @ B[kc,nr] + beta * C, A[i,k] = a[k*lda + i] (transposed, so
// that the tile's broadcasts take one pointer), B's rows gathered and masked:
// B[k,j] = b[off[k] + j] in the lanes that the mask masks[v*taps + slot[k]] of j's vector v
// sets, 0 in the others (whose memory is never touched): a stride-1 convolution whose output
// rows are as wide as its image, its taps read in place from the image without padding, the
// masks (gt__gemm_tap_masks_fn) zeroing the taps that fall in the padding
typedef void gt__gemm_taps_masked_fn(int64_t kc, int64_t nr, const gt_real *a, int64_t lda,
                                     const gt_real *b, const int64_t *off, const int32_t *slot,
                                     const void *masks, int64_t taps, gt_real *c, int64_t ldc,
                                     gt_real alpha, gt_real beta);
// masks[v*kh*kw + i*kw + j], v < ceil(rows*width / vlen), in the path's mask type: lane l
// of vector v is set when output p = v*vlen + l is one of the rows*width and its tap (i, j),
// at row p/width + dy[i] and column p%width + dx[j], lies inside an image in_rows x width
typedef void gt__gemm_tap_masks_fn(int64_t rows, int64_t width, int64_t in_rows, int64_t kh,
                                   const int64_t *dy, int64_t kw, const int64_t *dx,
                                   void *masks);

// C[i,j] = alpha * sum over r < rows, k < kc of a[i*lda + r*ldra + k] * b[j*ldb + r*ldrb + k]
// + beta * C[i,j], i < dm, j < dn: a dot tile whose rows are read in `rows` segments
typedef void gt__gemm_dot_rows_fn(int64_t rows, int64_t kc, const gt_real *a, int64_t lda,
                                  int64_t ldra, const gt_real *b, int64_t ldb, int64_t ldrb,
                                  gt_real *c, int64_t ldc, gt_real alpha, gt_real beta);

// C[m,n] = alpha * a @ b + beta * C for a product of K = 1: the column a (a[i*a_step]) times
// the row b (b[j]), each element computed as an outer tile computes it (a multiply-add into
// zero, then the tile's store), so the same bits, in one call rather than one per tile
// (batch-1 training: a linear layer's weight gradient is one such outer product)
typedef void gt__gemm_rank1_fn(int64_t m, int64_t n, const gt_real *a, int64_t a_step,
                               const gt_real *b, gt_real *c, int64_t ldc, gt_real alpha,
                               gt_real beta);

// buf[k, j] = b[j*ldb + k] for k < kc, j < nc: a block of B transposed for outer tiles
typedef void gt__gemm_pack_fn(const gt_real *b, int64_t ldb, int64_t kc, int64_t nc, gt_real *buf);

/* One instruction-set path: its register tiles and a kernel for every tile size. */
typedef struct gt__gemm_kernels {
    const char *name; /* "avx512" */
    int mr;           /* rows of a full outer tile */
    int vlen;         /* reals per vector */
    int nv;           /* vectors across a full outer tile: nr = nv * vlen */
    int dm, dn;       /* a full dot tile; dm == 0 when the path has no dot tiles */
    /* outer[transposed A][mr - 1][vectors - 1] */
    gt__gemm_outer_fn *outer[2][GT__GEMM_MAX_MR][GT__GEMM_MAX_NV];
    /* taps[mr - 1][vectors - 1]: outer[0]'s tiles with B's rows gathered */
    gt__gemm_taps_fn *taps[GT__GEMM_MAX_MR][GT__GEMM_MAX_NV];
    /* taps_masked[mr - 1][vectors - 1]: taps tiles with the masks of tap_masks (mask_bytes
     * each); NULL on a path without them (portable) */
    gt__gemm_taps_masked_fn *taps_masked[GT__GEMM_MAX_MR][GT__GEMM_MAX_NV];
    gt__gemm_tap_masks_fn *tap_masks;
    int mask_bytes;
    /* dot[rows - 1][columns - 1] */
    gt__gemm_dot_fn *dot[GT__GEMM_MAX_DM][GT__GEMM_MAX_DN];
    /* dot_rows[rows - 1][columns - 1]: dot tiles over row segments */
    gt__gemm_dot_rows_fn *dot_rows[GT__GEMM_MAX_DM][GT__GEMM_MAX_DN];
    gt__gemm_pack_fn *pack_transposed; /* NULL: a plain loop */
    gt__gemm_rank1_fn *rank1;          /* NULL: the outer tiles */
} gt__gemm_kernels;

/* The kernel sets. The SIMD ones are NULL when the compiler could not build them. */
const gt__gemm_kernels *gt__gemm_portable_kernels(void);
const gt__gemm_kernels *gt__gemm_avx2_kernels(void);
const gt__gemm_kernels *gt__gemm_avx512_kernels(void);

/* How a product is computed, chosen from the sizes alone (never from the thread count). */
typedef enum gt__gemm_method {
    GT__GEMM_OUTER, /* B read in place */
    GT__GEMM_DOT,   /* A rows and B rows read in place */
    GT__GEMM_PACKED /* op(B) transposed into a buffer block by block */
} gt__gemm_method;

typedef struct gt__gemm_args {
    bool trans_a, trans_b;
    int64_t M, N, K;
    gt_real alpha;
    const gt_real *A;
    int64_t lda;
    const gt_real *B;
    int64_t ldb;
    gt_real beta;
    gt_real *C;
    int64_t ldc;
} gt__gemm_args;

/* How a product is computed and how its k is cut, chosen from the sizes of the whole
 * product (never from one thread's part or the thread count), so that every element of C is
 * summed in the same order however the threads share C. */
typedef struct gt__gemm_plan {
    const gt__gemm_kernels *kernels;
    gt__gemm_method method;
    int64_t k_blocks; /* K cut into this many nearly equal blocks */
} gt__gemm_plan;

gt__gemm_plan gt__gemm_plan_for(const gt__gemm_kernels *k, const gt__gemm_args *g);
/* A part of the product the plan was made for (M, N, K > 0, alpha != 0). */
void gt__gemm_run(const gt__gemm_plan *plan, const gt__gemm_args *g);
/* The product of an OUTER plan with B's rows gathered, `rows` times: for r < rows,
 * C[:, r*N + j] (+)= A @ B_r with B_r[k, j] = B[off[k] + r*ldr + j] (g->ldb unused), C's
 * columns contiguous; each element summed as gt__gemm_run sums it. */
void gt__gemm_run_taps(const gt__gemm_plan *plan, const gt__gemm_args *g, const int64_t *off,
                       int64_t rows, int64_t ldr);

/* The product of an OUTER plan with B's rows gathered and masked (k->taps_masked): C[:, p]
 * (+)= A @ B[:, p] for the N outputs p, A read transposed (g->trans_a), B[k, p] =
 * B[off[k] + p] where the masks (the plane's table from k->tap_masks, taps per vector) set
 * p's lane for tap slot[k], else 0; each element summed as gt__gemm_run sums it. */
void gt__gemm_run_taps_masked(const gt__gemm_plan *plan, const gt__gemm_args *g,
                              const int64_t *off, const int32_t *slot, const void *masks,
                              int64_t taps);

/* C[M,N] = sum over r < rows of A_r[M,width] @ B_r[N,width]^T + beta * C with dot tiles
 * (k->dm > 0), A_r's rows at A + i*lda + r*ldra, B_r's at B + j*ldb + r*ldrb: each element one
 * tile's sum over the segments in order. */
void gt__gemm_run_dot_rows(const gt__gemm_kernels *k, int64_t M, int64_t N, int64_t rows,
                           int64_t width, const gt_real *A, int64_t lda, int64_t ldra,
                           const gt_real *B, int64_t ldb, int64_t ldrb, gt_real beta, gt_real *C,
                           int64_t ldc);

/* The CBLAS path (gemm_blas.c): available is false when the build has no CBLAS; the
 * product returns false, computing nothing, when it cannot take these sizes. */
bool gt__gemm_blas_available(void);
/* Before the first product on the path: OpenBLAS is told to use one thread. */
void gt__gemm_blas_prepare(void);
bool gt__gemm_blas(const gt__gemm_args *g);

/* The paths gt__gemm can take; GT_CPU=portable|avx2|avx512|blas in the environment, read
 * at the first call, or gt__gemm_set_path forces one. */
typedef enum gt__gemm_path {
    GT__GEMM_AUTO = -1, /* the best path the CPU and build support */
    GT__GEMM_PORTABLE,
    GT__GEMM_AVX2,
    GT__GEMM_AVX512,
    GT__GEMM_BLAS,
    GT__GEMM_PATH_COUNT
} gt__gemm_path;

/* Whether this build and CPU can run the path. */
bool gt__gemm_path_supported(gt__gemm_path path);
/* Forces a path for tests and benchmarks (AUTO restores the choice); false, changing
 * nothing, when the path is not supported. Not thread-safe: call it between products. */
bool gt__gemm_set_path(gt__gemm_path path);
/* The path in use: "portable", "avx2", "avx512" or "blas". */
const char *gt__gemm_path_name(void);
/* Name of any path ("avx2"), or "?" */
const char *gt__gemm_path_label(gt__gemm_path path);
/* Products of fewer flops than this run on one thread; a negative value restores the
 * measured default. Returns the previous value. For the benchmark that measures it. */
int64_t gt__gemm_set_parallel_min_flops(int64_t flops);

#endif
