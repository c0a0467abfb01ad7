/* gemm.c - the one GEMM entry point behind matmul, linear and conv2d: sizes that need no
 * arithmetic, the path (portable, AVX2, AVX-512 or CBLAS) chosen once from the CPU or from
 * GT_CPU, and the split of a large product over the library's threads (parallel.c). The
 * loops are in gemm_driver.c, the register tiles in gemm_portable.c, gemm_avx2.c and
 * gemm_avx512.c. */
#include "gemm_impl.h"

#include <stdlib.h>
#include <string.h>

#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define GT__ATOMIC _Atomic
#define atomic_get(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define atomic_put(x, v) atomic_store_explicit(&(x), v, memory_order_relaxed)
#else
#define GT__ATOMIC volatile
#define atomic_get(x) (x)
#define atomic_put(x, v) ((x) = (v))
#endif

/* ---- paths ---------------------------------------------------------------------------- */

static const char *const path_labels[GT__GEMM_PATH_COUNT] = {"portable", "avx2", "avx512", "blas"};

const char *gt__gemm_path_label(gt__gemm_path path) {
    return path >= 0 && path < GT__GEMM_PATH_COUNT ? path_labels[path] : "?";
}

static bool cpu_has(gt__gemm_path path) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (path == GT__GEMM_AVX2)
        return avx2;
    if (path == GT__GEMM_AVX512)
        return avx2 && __builtin_cpu_supports("avx512f");
#endif
    return path == GT__GEMM_PORTABLE || path == GT__GEMM_BLAS;
}

bool gt__gemm_path_supported(gt__gemm_path path) {
    switch (path) {
    case GT__GEMM_PORTABLE: return true;
    case GT__GEMM_AVX2: return gt__gemm_avx2_kernels() && cpu_has(path);
    case GT__GEMM_AVX512: return gt__gemm_avx512_kernels() && cpu_has(path);
    case GT__GEMM_BLAS: return gt__gemm_blas_available();
    default: return false;
    }
}

/* GT_CPU when it names a supported path, else the widest vectors the CPU has. */
static gt__gemm_path auto_path(void) {
    const char *wanted = getenv("GT_CPU");
    for (int p = 0; wanted && p < GT__GEMM_PATH_COUNT; p++)
        if (strcmp(wanted, path_labels[p]) == 0 && gt__gemm_path_supported((gt__gemm_path)p))
            return (gt__gemm_path)p;
    if (gt__gemm_path_supported(GT__GEMM_AVX512))
        return GT__GEMM_AVX512;
    if (gt__gemm_path_supported(GT__GEMM_AVX2))
        return GT__GEMM_AVX2;
    return GT__GEMM_PORTABLE;
}

#define PATH_UNSET (-2)
static GT__ATOMIC int current_path = PATH_UNSET;

static void use_path(gt__gemm_path path) {
    if (path == GT__GEMM_BLAS)
        gt__gemm_blas_prepare();
    atomic_put(current_path, path);
}

static gt__gemm_path path_in_use(void) {
    int path = atomic_get(current_path);
    if (path == PATH_UNSET) {
        path = auto_path();
        use_path((gt__gemm_path)path);
    }
    return (gt__gemm_path)path;
}

bool gt__gemm_set_path(gt__gemm_path path) {
    if (path == GT__GEMM_AUTO) {
        use_path(auto_path());
        return true;
    }
    if (!gt__gemm_path_supported(path))
        return false;
    use_path(path);
    return true;
}

const char *gt__gemm_path_name(void) { return path_labels[path_in_use()]; }

/* ---- the entry point ------------------------------------------------------------------ */

// C[M,N] *= beta without reading C when beta is 0
static void scale_c(int64_t M, int64_t N, gt_real beta, gt_real *C, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        gt_real *c = C + i * ldc;
        if (beta == 0)
            memset(c, 0, (size_t)N * sizeof(gt_real));
        else if (beta != 1)
            for (int64_t j = 0; j < N; j++)
                c[j] *= beta;
    }
}

/* Vectors stored contiguously are read the way the kernels like best: a column op(B)[:,0]
 * as a transposed row, a row op(A)[0,:] as a plain row, and a product whose only column
 * (op(A)^T @ vector) is better computed as the row vector^T @ op(A). */
static void normalise_vectors(gt__gemm_args *g) {
    if (g->N == 1 && !g->trans_b && g->ldb == 1) {
        g->trans_b = true;
        g->ldb = g->K;
    }
    if (g->M == 1 && g->trans_a && g->lda == 1) {
        g->trans_a = false;
        g->lda = g->K;
    }
    if (g->N == 1 && g->M > 1 && g->ldc == 1 && g->trans_a && g->trans_b) {
        gt__gemm_args t = *g;
        g->M = 1, g->N = t.M;
        g->A = t.B, g->trans_a = false, g->lda = t.K; /* B's only row, contiguous */
        g->B = t.A, g->trans_b = false, g->ldb = t.lda;
        g->ldc = t.M;
    }
}

/* How the threads share a product: rows or columns of C, cut at multiples of a tile. */
typedef struct gt__gemm_split {
    gt__gemm_plan plan;
    bool blas;
    bool by_rows;
    int64_t unit;
} gt__gemm_split;

static int64_t cut(int64_t total, int64_t unit, int p, int parts) {
    if (p >= parts)
        return total;
    int64_t at = (total * p / parts + unit / 2) / unit * unit;
    return at < total ? at : total;
}

/* Part p of `parts`: a block of whole rows or columns of C, the same for the same sizes and
 * thread count. */
static void run_part(const gt__gemm_split *split, const gt__gemm_args *g, int p, int parts) {
    gt__gemm_args part = *g;
    int64_t total = split->by_rows ? g->M : g->N;
    int64_t start = cut(total, split->unit, p, parts), end = cut(total, split->unit, p + 1, parts);
    if (end <= start)
        return;
    if (split->by_rows) {
        part.M = end - start;
        part.A = g->trans_a ? g->A + start : g->A + start * g->lda;
        part.C = g->C + start * g->ldc;
    } else {
        part.N = end - start;
        part.B = g->trans_b ? g->B + start * g->ldb : g->B + start;
        part.C = g->C + start;
    }
    if (!split->blas || !gt__gemm_blas(&part))
        gt__gemm_run(&split->plan, &part);
}

static const gt__gemm_kernels *kernels_of(gt__gemm_path path) {
    switch (path) {
    case GT__GEMM_AVX512: return gt__gemm_avx512_kernels();
    case GT__GEMM_AVX2: return gt__gemm_avx2_kernels();
    case GT__GEMM_BLAS:
        if (gt__gemm_path_supported(GT__GEMM_AVX512))
            return gt__gemm_avx512_kernels();
        return gt__gemm_path_supported(GT__GEMM_AVX2) ? gt__gemm_avx2_kernels()
                                                      : gt__gemm_portable_kernels();
    default: return gt__gemm_portable_kernels();
    }
}

typedef struct gemm_job {
    const gt__gemm_split *split;
    const gt__gemm_args *g;
    int parts;
} gemm_job;

static void run_gemm_part(const void *job_ptr, int64_t part, int tid) {
    const gemm_job *job = job_ptr;
    (void)tid;
    run_part(job->split, job->g, (int)part, job->parts);
}

static int threads_for(const gt__gemm_args *g) {
    return gt__threads_for_flops(2.0 * (double)g->M * (double)g->N * (double)g->K);
}

// C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C[M,N]
void gt__gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, gt_real alpha,
              const gt_real *A, int64_t lda, const gt_real *B, int64_t ldb, gt_real beta,
              gt_real *C, int64_t ldc) {
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0 || alpha == 0) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    gt__gemm_args g = {trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
    normalise_vectors(&g);
    gt__gemm_path path = path_in_use();
    gt__gemm_split split = {gt__gemm_plan_for(kernels_of(path), &g), path == GT__GEMM_BLAS, true,
                            1};
    int threads = threads_for(&g);
    if (threads <= 1) {
        gt__fp_scope fp = gt__fp_enter();
        run_part(&split, &g, 0, 1);
        gt__fp_leave(fp);
        return;
    }
    const gt__gemm_kernels *k = split.plan.kernels;
    bool dot = split.plan.method == GT__GEMM_DOT;
    int64_t tile_m = dot ? k->dm : k->mr, tile_n = dot ? k->dn : (int64_t)k->nv * k->vlen;
    int64_t row_tiles = (g.M + tile_m - 1) / tile_m, col_tiles = (g.N + tile_n - 1) / tile_n;
    split.by_rows = row_tiles >= 2 * threads || row_tiles >= col_tiles;
    split.unit = split.by_rows ? tile_m : tile_n;
    gemm_job job = {&split, &g, threads};
    gt__parallel_parts(threads, threads, run_gemm_part, &job);
}

bool gt__gemm_taps(int64_t M, int64_t rows, int64_t width, int64_t K, const gt_real *A,
                   int64_t lda, const gt_real *b, const int64_t *off, int64_t ldr, bool add,
                   gt_real *C, int64_t ldc) {
    gt__gemm_path path = path_in_use();
    if (path == GT__GEMM_BLAS)
        return false;
    if (M <= 0 || rows <= 0 || width <= 0)
        return true;
    /* B_r's width, as gt__gemm's plan for a copied B sees it: an OUTER plan, whose k blocks
     * depend on K alone */
    gt__gemm_args g = {false, false, M, width, K, 1, A, lda, b, 0, add ? 1 : 0, C, ldc};
    if (K <= 0) {
        for (int64_t r = 0; r < rows; r++)
            scale_c(M, width, g.beta, C + r * width, ldc);
        return true;
    }
    gt__gemm_plan plan = gt__gemm_plan_for(kernels_of(path), &g);
    gt__fp_scope fp = gt__fp_enter();
    gt__gemm_run_taps(&plan, &g, off, rows, ldr);
    gt__fp_leave(fp);
    return true;
}

/* The kernels of the path in use if it has masked taps tiles, else NULL. */
static const gt__gemm_kernels *masked_taps_kernels(void) {
    gt__gemm_path path = path_in_use();
    const gt__gemm_kernels *k = kernels_of(path);
    return path == GT__GEMM_BLAS || !k->tap_masks ? NULL : k;
}

int64_t gt__gemm_tap_masks_bytes(int64_t outputs, int64_t taps) {
    const gt__gemm_kernels *k = masked_taps_kernels();
    return k ? (outputs + k->vlen - 1) / k->vlen * taps * k->mask_bytes : 0;
}

bool gt__gemm_tap_masks(int64_t rows, int64_t width, int64_t in_rows, int64_t kh,
                        const int64_t *dy, int64_t kw, const int64_t *dx, void *masks) {
    const gt__gemm_kernels *k = masked_taps_kernels();
    if (!k || kh > GT__TAP_MASKS_MAX_SIDE || kw > GT__TAP_MASKS_MAX_SIDE)
        return false;
    k->tap_masks(rows, width, in_rows, kh, dy, kw, dx, masks);
    return true;
}

bool gt__gemm_taps_masked(int64_t M, int64_t N, int64_t K, const gt_real *At, int64_t lda,
                          const gt_real *b, const int64_t *off, const int32_t *slot,
                          const void *masks, int64_t taps, bool add, gt_real *C, int64_t ldc) {
    const gt__gemm_kernels *k = masked_taps_kernels();
    if (!k)
        return false;
    if (M <= 0 || N <= 0)
        return true;
    gt__gemm_args g = {true, false, M, N, K, 1, At, lda, b, 0, add ? 1 : 0, C, ldc};
    if (K <= 0) {
        scale_c(M, N, g.beta, C, ldc);
        return true;
    }
    /* an OUTER plan, as gt__gemm_taps's: its k blocks depend on K alone */
    gt__gemm_plan plan = gt__gemm_plan_for(k, &g);
    gt__fp_scope fp = gt__fp_enter();
    gt__gemm_run_taps_masked(&plan, &g, off, slot, masks, taps);
    gt__fp_leave(fp);
    return true;
}

bool gt__gemm_rows_dot(int64_t M, int64_t N, int64_t rows, int64_t width, const gt_real *A,
                       int64_t lda, int64_t ldra, const gt_real *B, int64_t ldb, int64_t ldrb,
                       bool add, gt_real *C, int64_t ldc) {
    gt__gemm_path path = path_in_use();
    const gt__gemm_kernels *k = kernels_of(path);
    if (path == GT__GEMM_BLAS || k->dm == 0)
        return false;
    if (M <= 0 || N <= 0)
        return true;
    if (rows <= 0 || width <= 0) {
        scale_c(M, N, add ? 1 : 0, C, ldc);
        return true;
    }
    gt__fp_scope fp = gt__fp_enter();
    gt__gemm_run_dot_rows(k, M, N, rows, width, A, lda, ldra, B, ldb, ldrb, add ? 1 : 0, C, ldc);
    gt__fp_leave(fp);
    return true;
}

bool gt__gemm_has_rows_dot(void) {
    gt__gemm_path path = path_in_use();
    return path != GT__GEMM_BLAS && kernels_of(path)->dm > 0;
}

bool gt__simd_avx512(void) { return path_in_use() == GT__GEMM_AVX512; }

int gt__gemm_vector_reals(void) {
    gt__gemm_path path = path_in_use();
    return path == GT__GEMM_BLAS ? 0 : kernels_of(path)->vlen;
}

int gt__gemm_tile_rows(void) {
    gt__gemm_path path = path_in_use();
    return path == GT__GEMM_BLAS ? 0 : kernels_of(path)->mr;
}
