/* gemm_driver.c - the blocked loops around a path's register tiles: which method a product
 * takes, the cache blocks, the row and column tiles, and the transposing pack of op(B) into
 * a stack buffer when B cannot be read in place. The same loops serve every path. */
#define _GNU_SOURCE /* sysconf(_SC_LEVEL2_CACHE_SIZE) */
#include "gemm_impl.h"

#include <stdatomic.h>
#include <unistd.h>

/* Cache blocks (L1 32-48 KB, L2 1-2 MB on the machines this was tuned on). The k blocks
 * decide the order in which an element's sum is rounded, so they stay the same on every
 * machine (a product gives the same bits on any CPU of the same path); the column block of
 * B, which changes no sum, is half the L2 cache this CPU reports (l2_block_bytes). */
#define OUTER_KC 256               /* k per pass of an outer tile: its A panel stays in L1 */
#define DOT_ROW_BYTES 4096         /* bytes of k per pass of a dot tile (its 10 rows in L1) */
#define B_BLOCK_DEFAULT (512 * 1024) /* when the L2 size is unknown */
#define PACK_BYTES (64 * 1024)     /* the packing buffer, on the stack */
#define PACK_MAX_NC 256            /* columns of B^T per packed block */

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* k block kb of K cut into k_blocks: its first k and its length, and the beta its product
 * adds into C with (the product's for the first block, 1 after it). */
static gt_real k_block(const gt__gemm_args *g, int64_t k_blocks, int64_t kb, int64_t *k0,
                       int64_t *kc) {
    gt__split_even(g->K, k_blocks, kb, k0, kc);
    return kb == 0 ? g->beta : 1;
}

int64_t gt__cache_bytes(int level, int64_t dflt) {
    long bytes = 0;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
    bytes = sysconf(level == 1 ? _SC_LEVEL1_DCACHE_SIZE : _SC_LEVEL2_CACHE_SIZE);
#else
    (void)level;
#endif
    return bytes > 0 ? (int64_t)bytes : dflt;
}

/* Bytes of a kc x nc block of B, reused by every row tile: half of one core's L2 (read once
 * from the C library, which asks CPUID), between 256 KB and 4 MB. */
static int64_t l2_block_bytes(void) {
    static _Atomic int64_t bytes;
    int64_t b = atomic_load_explicit(&bytes, memory_order_relaxed);
    if (b == 0) {
        int64_t l2 = gt__cache_bytes(2, 0);
        b = l2 > 0 ? l2 / 2 : B_BLOCK_DEFAULT;
        b = b < 256 * 1024 ? 256 * 1024 : b > 4096 * 1024 ? 4096 * 1024 : b;
        atomic_store_explicit(&bytes, b, memory_order_relaxed);
    }
    return b;
}

/* A @ B^T: dot tiles read both in place but pay a horizontal sum per element of C, so they
 * win when packing B^T is not repaid (few rows of A), when C is too narrow for full outer
 * tiles (N <= 16), or when the sums are long (K >= 256) and C's columns leave the last
 * outer tile part empty; otherwise B^T is packed. Measured on the models' shapes
 * (bench/bench_gemm), e.g. linear x[1000,120] @ w[84,120]^T: 88 GFLOP/s packed, 73 dot;
 * x[64,784] @ w[100,784]^T: 56 us dot, 67 packed; and on conv weight gradients, patches
 * [144, 784] @ g[32, 784]^T: 38 us packed, 46 dot, [576, 3136] @ g[64, 3136]^T: 1.2 ms
 * packed, 1.9 dot (1 thread of an AMD Zen 5). */
static gt__gemm_method method_for(const gt__gemm_kernels *k, const gt__gemm_args *g) {
    if (!g->trans_b)
        return GT__GEMM_OUTER;
    int64_t nr = (int64_t)k->nv * k->vlen;
    bool dot_wins = g->M < 16 || g->N <= 16 || (g->K >= 256 && g->N % nr != 0);
    if (!g->trans_a && k->dm > 0 && g->K >= k->vlen && dot_wins)
        return GT__GEMM_DOT;
    return GT__GEMM_PACKED;
}

/* Columns of B^T per packed block: all of N up to PACK_MAX_NC, so no ragged column block is
 * left over; the k block is then as deep as the buffer allows. */
static int64_t packed_columns(const gt__gemm_kernels *k, int64_t N) {
    int64_t nr = (int64_t)k->nv * k->vlen;
    return ceil_div(N < PACK_MAX_NC ? N : PACK_MAX_NC, nr) * nr;
}

gt__gemm_plan gt__gemm_plan_for(const gt__gemm_kernels *k, const gt__gemm_args *g) {
    gt__gemm_plan plan = {k, method_for(k, g), 1};
    int64_t kc_max = OUTER_KC;
    if (plan.method == GT__GEMM_DOT)
        kc_max = DOT_ROW_BYTES / (int64_t)sizeof(gt_real);
    else if (plan.method == GT__GEMM_PACKED) {
        int64_t deepest = PACK_BYTES / (int64_t)sizeof(gt_real) / packed_columns(k, g->N);
        kc_max = deepest < OUTER_KC ? deepest : OUTER_KC;
    }
    plan.k_blocks = ceil_div(g->K, kc_max);
    return plan;
}

// C[M,N] = alpha * op(A)[M,K] @ B[K,N] + beta * C with B read in place: k blocks of
// OUTER_KC, column blocks that fit L2, balanced row tiles of at most mr rows, column tiles
// of nv vectors
static void outer_driver(const gt__gemm_kernels *k, int64_t k_blocks, const gt__gemm_args *g) {
    int64_t nr = (int64_t)k->nv * k->vlen;
    int64_t kc_max = ceil_div(g->K, k_blocks);
    int64_t nc_max = l2_block_bytes() / ((int64_t)sizeof(gt_real) * kc_max) / nr * nr;
    if (nc_max < nr)
        nc_max = nr;
    int64_t row_tiles = ceil_div(g->M, k->mr);
    int ta = g->trans_a;
    for (int64_t jc = 0; jc < g->N; jc += nc_max) {
        int64_t nc = g->N - jc < nc_max ? g->N - jc : nc_max;
        for (int64_t kb = 0; kb < k_blocks; kb++) {
            int64_t k0, kc;
            gt_real beta = k_block(g, k_blocks, kb, &k0, &kc);
            const gt_real *b = g->B + k0 * g->ldb + jc;
            for (int64_t t = 0; t < row_tiles; t++) {
                int64_t i0, mr;
                gt__split_even(g->M, row_tiles, t, &i0, &mr);
                const gt_real *a = ta ? g->A + k0 * g->lda + i0 : g->A + i0 * g->lda + k0;
                gt_real *c = g->C + i0 * g->ldc + jc;
                for (int64_t j = 0; j < nc; j += nr) {
                    int64_t width = nc - j < nr ? nc - j : nr;
                    int64_t nv = ceil_div(width, k->vlen);
                    k->outer[ta][mr - 1][nv - 1](kc, width, a, g->lda, b + j, g->ldb, c + j, g->ldc,
                                                 g->alpha, beta);
                }
            }
        }
    }
}

// outer_driver's k blocks, row tiles and column tiles for each of `rows` products whose B
// rows are gathered (a convolution's output rows; no column blocks: B is one image, in L1)
void gt__gemm_run_taps(const gt__gemm_plan *plan, const gt__gemm_args *g, const int64_t *off,
                       int64_t rows, int64_t ldr) {
    const gt__gemm_kernels *k = plan->kernels;
    int64_t nr = (int64_t)k->nv * k->vlen, row_tiles = ceil_div(g->M, k->mr);
    for (int64_t kb = 0; kb < plan->k_blocks; kb++) {
        int64_t k0, kc;
        gt_real beta = k_block(g, plan->k_blocks, kb, &k0, &kc);
        for (int64_t t = 0; t < row_tiles; t++) {
            int64_t i0, mr;
            gt__split_even(g->M, row_tiles, t, &i0, &mr);
            const gt_real *a = g->A + i0 * g->lda + k0;
            for (int64_t r = 0; r < rows; r++) {
                const gt_real *b = g->B + r * ldr;
                gt_real *c = g->C + i0 * g->ldc + r * g->N;
                for (int64_t j = 0; j < g->N; j += nr) {
                    int64_t width = g->N - j < nr ? g->N - j : nr;
                    k->taps[mr - 1][ceil_div(width, k->vlen) - 1](kc, width, a, g->lda, b + j,
                                                                  off + k0, c + j, g->ldc,
                                                                  g->alpha, beta);
                }
            }
        }
    }
}

void gt__gemm_run_taps_masked(const gt__gemm_plan *plan, const gt__gemm_args *g,
                              const int64_t *off, const int32_t *slot, const void *masks,
                              int64_t taps) {
    const gt__gemm_kernels *k = plan->kernels;
    int64_t nr = (int64_t)k->nv * k->vlen, row_tiles = ceil_div(g->M, k->mr);
    const char *tile_masks = masks;
    /* column tiles outside: a tile's taps stay in L1 for all of its row tiles */
    for (int64_t j = 0; j < g->N; j += nr) {
        int64_t width = g->N - j < nr ? g->N - j : nr;
        const void *m = tile_masks + (j / k->vlen) * taps * k->mask_bytes;
        for (int64_t kb = 0; kb < plan->k_blocks; kb++) {
            int64_t k0, kc;
            gt_real beta = k_block(g, plan->k_blocks, kb, &k0, &kc);
            for (int64_t t = 0; t < row_tiles; t++) {
                int64_t i0, mr;
                gt__split_even(g->M, row_tiles, t, &i0, &mr);
                k->taps_masked[mr - 1][ceil_div(width, k->vlen) - 1](
                    kc, width, g->A + k0 * g->lda + i0, g->lda, g->B + j, off + k0, slot + k0,
                    m, taps, g->C + i0 * g->ldc + j, g->ldc, g->alpha, beta);
            }
        }
    }
}

// C[M,N] = alpha * A[M,K] @ B[N,K]^T + beta * C as dot products of rows read in place:
// balanced tiles of at most dm x dn, k in blocks whose rows fit L1
static void dot_driver(const gt__gemm_kernels *k, int64_t k_blocks, const gt__gemm_args *g) {
    int64_t row_tiles = ceil_div(g->M, k->dm);
    for (int64_t kb = 0; kb < k_blocks; kb++) {
        int64_t k0, kc;
        gt_real beta = k_block(g, k_blocks, kb, &k0, &kc);
        for (int64_t t = 0; t < row_tiles; t++) {
            int64_t i0, dm;
            gt__split_even(g->M, row_tiles, t, &i0, &dm);
            const gt_real *a = g->A + i0 * g->lda + k0;
            gt_real *c = g->C + i0 * g->ldc;
            for (int64_t j = 0; j < g->N; j += k->dn) {
                int64_t dn = g->N - j < k->dn ? g->N - j : k->dn;
                k->dot[dm - 1][dn - 1](kc, a, g->lda, g->B + j * g->ldb + k0, g->ldb, c + j, g->ldc,
                                       g->alpha, beta);
            }
        }
    }
}

void gt__gemm_run_dot_rows(const gt__gemm_kernels *k, int64_t M, int64_t N, int64_t rows,
                           int64_t width, const gt_real *A, int64_t lda, int64_t ldra,
                           const gt_real *B, int64_t ldb, int64_t ldrb, gt_real beta, gt_real *C,
                           int64_t ldc) {
    int64_t row_tiles = ceil_div(M, k->dm);
    for (int64_t t = 0; t < row_tiles; t++) {
        int64_t i0, dm;
        gt__split_even(M, row_tiles, t, &i0, &dm);
        for (int64_t j = 0; j < N; j += k->dn) {
            int64_t dn = N - j < k->dn ? N - j : k->dn;
            k->dot_rows[dm - 1][dn - 1](rows, width, A + i0 * lda, lda, ldra, B + j * ldb, ldb,
                                        ldrb, C + i0 * ldc + j, ldc, 1, beta);
        }
    }
}

// buf[kc, nc] = b[nc, kc]^T, rows of b strided by ldb
static void pack_transposed(const gt_real *b, int64_t ldb, int64_t kc, int64_t nc, gt_real *buf) {
    for (int64_t j = 0; j < nc; j++)
        for (int64_t k = 0; k < kc; k++)
            buf[k * nc + j] = b[j * ldb + k];
}

// C[M,N] = alpha * op(A)[M,K] @ B[N,K]^T + beta * C with B^T copied block by block into a
// stack buffer that outer tiles read in place
static void packed_driver(const gt__gemm_kernels *k, int64_t k_blocks, const gt__gemm_args *g) {
    gt_real buf[PACK_BYTES / sizeof(gt_real)];
    int64_t nr = (int64_t)k->nv * k->vlen, buf_reals = (int64_t)(sizeof buf / sizeof buf[0]);
    int64_t nc_max = buf_reals / ceil_div(g->K, k_blocks) / nr * nr;
    for (int64_t kb = 0; kb < k_blocks; kb++) {
        int64_t k0, kc;
        gt_real beta = k_block(g, k_blocks, kb, &k0, &kc);
        for (int64_t jc = 0; jc < g->N; jc += nc_max) {
            int64_t nc = g->N - jc < nc_max ? g->N - jc : nc_max;
            (k->pack_transposed ? k->pack_transposed : pack_transposed)(g->B + jc * g->ldb + k0,
                                                                        g->ldb, kc, nc, buf);
            gt__gemm_args block = *g;
            block.trans_b = false;
            block.N = nc;
            block.K = kc;
            block.A = g->trans_a ? g->A + k0 * g->lda : g->A + k0;
            block.B = buf;
            block.ldb = nc;
            block.beta = beta;
            block.C = g->C + jc;
            outer_driver(k, 1, &block);
        }
    }
}

void gt__gemm_run(const gt__gemm_plan *plan, const gt__gemm_args *g) {
    const gt__gemm_kernels *k = plan->kernels;
    if (plan->method == GT__GEMM_OUTER && g->K == 1 && k->rank1) {
        k->rank1(g->M, g->N, g->A, g->trans_a ? 1 : g->lda, g->B, g->C, g->ldc, g->alpha,
                 g->beta);
        return;
    }
    switch (plan->method) {
    case GT__GEMM_OUTER: outer_driver(k, plan->k_blocks, g); break;
    case GT__GEMM_DOT: dot_driver(k, plan->k_blocks, g); break;
    case GT__GEMM_PACKED: packed_driver(k, plan->k_blocks, g); break;
    }
}
