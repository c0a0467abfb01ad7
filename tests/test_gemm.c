/* test_gemm.c - gt__gemm on every path this CPU and build support, on 1 and 2 threads,
 * against a reference loop in double: all four transpositions, odd sizes, the shapes of
 * LeNet-5 and the MLP, alpha and beta (beta 0 over a C full of NaN), leading dimensions
 * wider than the matrices (their padding is NaN in A and B and must stay untouched in C).
 *
 * Tolerance, per build: |C - reference| <= 2 (K + 4) eps * (|alpha| sum_k |a_ik b_kj| +
 * |beta c_ij|), eps = FLT_EPSILON in float, DBL_EPSILON in double: the textbook bound of
 * a K-term sum with a margin of 2, whatever the summation order of a path. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "gt_test.h"

#include "gemm_impl.h"

#include <float.h>
#include <inttypes.h>
#include <stdint.h>

#ifdef GT_REAL_DOUBLE
#define EPS DBL_EPSILON
#else
#define EPS FLT_EPSILON
#endif

typedef struct gemm_case {
    bool ta, tb;
    int64_t M, N, K;
    double alpha, beta;
    int64_t pad; /* extra columns in lda, ldb and ldc */
} gemm_case;

typedef struct operands {
    gt_real *A, *B, *C, *C0;
    int64_t lda, ldb, ldc, a_rows, b_rows;
} operands;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double uniform(void) { /* [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}

/* A and B random with NaN in the padding; C random, or NaN when beta is 0 (it must not be
 * read); C's padding a sentinel. */
static operands make_operands(const gemm_case *t) {
    operands o;
    o.a_rows = t->ta ? t->K : t->M;
    o.lda = (t->ta ? t->M : t->K) + t->pad;
    o.b_rows = t->tb ? t->N : t->K;
    o.ldb = (t->tb ? t->K : t->N) + t->pad;
    o.ldc = t->N + t->pad;
    o.A = malloc((size_t)(o.a_rows * o.lda) * sizeof(gt_real));
    o.B = malloc((size_t)(o.b_rows * o.ldb) * sizeof(gt_real));
    o.C = malloc((size_t)(t->M * o.ldc) * sizeof(gt_real));
    o.C0 = malloc((size_t)(t->M * o.ldc) * sizeof(gt_real));
    for (int64_t i = 0; i < o.a_rows * o.lda; i++)
        o.A[i] = i % o.lda < o.lda - t->pad ? (gt_real)uniform() : (gt_real)NAN;
    for (int64_t i = 0; i < o.b_rows * o.ldb; i++)
        o.B[i] = i % o.ldb < o.ldb - t->pad ? (gt_real)uniform() : (gt_real)NAN;
    for (int64_t i = 0; i < t->M * o.ldc; i++)
        o.C0[i] = i % o.ldc >= t->N ? (gt_real)12345
                  : t->beta == 0    ? (gt_real)NAN
                                    : (gt_real)uniform();
    return o;
}

static void free_operands(operands *o) { free(o->A), free(o->B), free(o->C), free(o->C0); }

static void run(const gemm_case *t, operands *o) {
    memcpy(o->C, o->C0, (size_t)(t->M * o->ldc) * sizeof(gt_real));
    gt__gemm(t->ta, t->tb, t->M, t->N, t->K, (gt_real)t->alpha, o->A, o->lda, o->B, o->ldb,
             (gt_real)t->beta, o->C, o->ldc);
}

/* The expected C and the tolerance of each element, padding included (which must keep
 * its sentinel exactly). */
typedef struct reference {
    double *want, *bound;
} reference;

static reference make_reference(const gemm_case *t, const operands *o) {
    size_t n = (size_t)(t->M * o->ldc);
    reference r = {malloc(n * sizeof(double)), malloc(n * sizeof(double))};
    for (int64_t i = 0; i < t->M; i++)
        for (int64_t j = 0; j < o->ldc; j++) {
            double *want = r.want + i * o->ldc + j, *bound = r.bound + i * o->ldc + j;
            if (j >= t->N) {
                *want = 12345, *bound = 0;
                continue;
            }
            double sum = 0, abs_sum = 0;
            for (int64_t k = 0; k < t->K; k++) {
                double a = t->ta ? o->A[k * o->lda + i] : o->A[i * o->lda + k];
                double b = t->tb ? o->B[j * o->ldb + k] : o->B[k * o->ldb + j];
                sum += a * b, abs_sum += fabs(a * b);
            }
            double c0 = t->beta == 0 ? 0 : o->C0[i * o->ldc + j];
            *want = t->alpha * sum + t->beta * c0;
            *bound =
                2.0 * (double)(t->K + 4) * EPS * (fabs(t->alpha) * abs_sum + fabs(t->beta * c0));
        }
    return r;
}

/* Number of elements of C outside the tolerance, printing the first. */
static int64_t count_wrong(const gemm_case *t, const operands *o, const reference *r) {
    int64_t wrong = 0;
    for (int64_t i = 0; i < t->M; i++)
        for (int64_t j = 0; j < o->ldc; j++) {
            double got = o->C[i * o->ldc + j], want = r->want[i * o->ldc + j];
            double bound = r->bound[i * o->ldc + j];
            if (fabs(got - want) <= bound)
                continue;
            if (!wrong)
                fprintf(stderr,
                        "  %s %c%c M=%lld N=%lld K=%lld alpha=%g beta=%g pad=%lld threads=%d: "
                        "C[%lld,%lld] = %.9g, expected %.9g (tol %g)\n",
                        gt__gemm_path_name(), t->ta ? 'T' : 'N', t->tb ? 'T' : 'N', (long long)t->M,
                        (long long)t->N, (long long)t->K, t->alpha, t->beta, (long long)t->pad,
                        gt_get_threads(), (long long)i, (long long)j, got, want, bound);
            wrong++;
        }
    return wrong;
}

/* One case on every path this build and CPU support, on 1 and on 2 threads, against one
 * reference; on 2 threads even the smallest product is split (the threshold is lifted), so
 * the split meets every edge. The path, thread count and threshold are restored after. */
static bool check_case(const gemm_case *t) {
    operands o = make_operands(t);
    reference r = make_reference(t, &o);
    int threads = gt_get_threads();
    int64_t threshold = gt__gemm_set_parallel_min_flops(0);
    int64_t wrong = 0;
    for (int p = 0; p < GT__GEMM_PATH_COUNT; p++) {
        if (!gt__gemm_set_path((gt__gemm_path)p))
            continue;
        for (int n = 1; n <= 2; n++) {
            gt_set_threads(n);
            run(t, &o);
            wrong += count_wrong(t, &o, &r);
        }
    }
    gt__gemm_set_path(GT__GEMM_AUTO);
    gt_set_threads(threads);
    gt__gemm_set_parallel_min_flops(threshold);
    CHECK(wrong == 0);
    free(r.want), free(r.bound);
    free_operands(&o);
    return wrong == 0;
}

/* fn() on every supported path, on 1 and on 2 threads; the path and thread count are
 * restored after. */
static void on_every_path(void (*fn)(void)) {
    int threads = gt_get_threads();
    for (int p = 0; p < GT__GEMM_PATH_COUNT; p++) {
        if (!gt__gemm_set_path((gt__gemm_path)p))
            continue;
        for (int n = 1; n <= 2; n++) {
            gt_set_threads(n);
            fn();
        }
    }
    gt__gemm_set_path(GT__GEMM_AUTO);
    gt_set_threads(threads);
}

static const int64_t odd_sizes[] = {1, 3, 7, 17, 33, 65};
static const double alphas[] = {1, 1, -1.5, 0.5};
static const double betas[] = {0, 1, 0, -2};

GT_TEST(odd_sizes_in_all_four_transpositions_match_the_reference) {
    int n = (int)(sizeof odd_sizes / sizeof odd_sizes[0]), count = 0;
    for (int trans = 0; trans < 4; trans++)
        for (int m = 0; m < n; m++)
            for (int nn = 0; nn < n; nn++)
                for (int k = 0; k < n; k++, count++) {
                    gemm_case t = {trans & 1,    trans >> 1,        odd_sizes[m],     odd_sizes[nn],
                                   odd_sizes[k], alphas[count % 4], betas[count % 4], count % 3};
                    if (!check_case(&t))
                        return; /* one message is enough */
                }
}

GT_TEST(sizes_past_the_cache_blocks_match_the_reference) {
    /* 129 crosses tile edges everywhere; 300 and 600 cross the k and column blocks */
    const gemm_case cases[] = {
        {false, false, 129, 129, 129, 1, 0, 0},   {true, false, 129, 65, 129, 1, 1, 3},
        {false, true, 129, 129, 129, -1, 0.5, 1}, {true, true, 65, 129, 129, 2, 0, 2},
        {false, false, 31, 600, 300, 1, 1, 0},    {true, false, 45, 530, 300, 1, 0, 1},
        {false, true, 33, 70, 1100, 1, 0, 0},     {true, true, 17, 300, 300, 1, 1, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

/* The calls LeNet-5 and the MLP make, as matmul.c, linear and conv.c issue them. */
static const gemm_case model_shapes[] = {
    {false, false, 6, 784, 25, 1, 0, 0},      /* C1 forward: w[6,25] @ col[25,784] */
    {false, true, 6, 25, 784, 1, 1, 0},       /* C1 dW: g[6,784] @ col[25,784]^T */
    {true, false, 25, 784, 6, 1, 0, 0},       /* C1 dX: w^T @ g */
    {false, false, 16, 100, 150, 1, 0, 0},    /* C3 forward */
    {true, false, 150, 100, 16, 1, 0, 0},     /* C3 dX */
    {false, true, 16, 150, 100, 1, 1, 0},     /* C3 dW */
    {false, false, 120, 1, 400, 1, 0, 0},     /* C5 forward: a column */
    {true, false, 400, 1, 120, 1, 0, 0},      /* C5 dX */
    {false, true, 120, 400, 1, 1, 1, 0},      /* C5 dW */
    {false, false, 6, 64 * 784, 25, 1, 0, 0}, /* C1 forward over a batch of 64 */
    {false, false, 16, 6400, 150, 1, 0, 0},   /* C3 forward over a batch of 64 */
    {false, true, 1, 84, 120, 1, 0, 0},       /* F6 forward, batch 1: x @ w^T */
    {false, true, 64, 84, 120, 1, 0, 0},      /* F6 forward, batch 64 */
    {false, true, 256, 10, 84, 1, 0, 0},      /* F7 forward, batch 256 */
    {false, false, 256, 120, 84, 1, 1, 0},    /* F6 dX: g @ w */
    {true, false, 84, 120, 256, 1, 1, 0},     /* F6 dW: g^T @ x */
    {false, true, 1, 100, 784, 1, 0, 0},      /* MLP layer 1 forward, batch 1 */
    {false, true, 64, 100, 784, 1, 0, 0},     /* batch 64 */
    {false, true, 1000, 100, 784, 1, 0, 0},   /* batch 1000 */
    {false, true, 1000, 10, 100, 1, 0, 0},    /* layer 2 forward */
    {false, false, 1000, 784, 100, 1, 1, 0},  /* layer 1 dX */
    {true, false, 100, 784, 1000, 1, 1, 0},   /* layer 1 dW */
    {true, false, 100, 784, 1, 1, 1, 0},      /* layer 1 dW, batch 1 */
    {false, false, 1, 784, 100, 1, 1, 0},     /* layer 1 dX, batch 1 */
};

GT_TEST(the_model_shapes_match_the_reference) {
    for (size_t i = 0; i < sizeof model_shapes / sizeof model_shapes[0]; i++)
        check_case(&model_shapes[i]);
}

/* Runs a case twice (and once on the other thread count) and compares the bits. */
static void same_bits(void) {
    /* C3 forward over 8 images (columns shared), the MLP's first layer at batch 256 forward
     * (dot tiles, rows shared) and backward, B^T packed with columns shared (narrower parts
     * must not change how k is cut) */
    const gemm_case cases[] = {
        {false, false, 16, 800, 150, 1, 0, 0},  {false, true, 256, 100, 784, 1, 0, 0},
        {false, false, 256, 784, 100, 1, 1, 0}, {true, false, 100, 784, 256, 1, 1, 0},
        {true, true, 300, 257, 129, 1, 0.5, 1}, {false, true, 20, 400, 200, 1, 0, 0},
        {true, true, 20, 400, 200, 1, 1, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const gemm_case *t = &cases[i];
        operands o = make_operands(t);
        size_t bytes = (size_t)(t->M * o.ldc) * sizeof(gt_real);
        gt_real *first = malloc(bytes);
        run(t, &o);
        memcpy(first, o.C, bytes);
        run(t, &o);
        CHECK(memcmp(first, o.C, bytes) == 0);
        /* gradtape's kernels: the partition moves, no element's sum changes order. OpenBLAS
         * blocks each part by its own sizes, so only the same thread count repeats. */
        if (strcmp(gt__gemm_path_name(), "blas") != 0) {
            int threads = gt_get_threads();
            gt_set_threads(3 - threads);
            run(t, &o);
            CHECK(memcmp(first, o.C, bytes) == 0);
            gt_set_threads(threads);
        }
        free(first);
        free_operands(&o);
    }
}

GT_TEST(the_same_product_gives_the_same_bits_run_after_run) { on_every_path(same_bits); }

/* Products of K = 1 (rank1, one call for all of C) against the same products with a second k
 * of zeros (the outer tiles): the same bits, A either way, every store mode, tails of a
 * vector, batch-1 training's weight gradients (100 x 784, 10 x 100), and one large enough
 * to split over threads. */
static void rank1_matches_tiles(void) {
    const int64_t sizes[][2] = {{1, 1}, {7, 17}, {100, 784}, {10, 100}, {33, 5}, {600, 1030}};
    const double modes[][2] = {{1, 0}, {1, 1}, {-1.5, 0}, {0.5, 1}, {2, -2}};
    bool blas = strcmp(gt__gemm_path_name(), "blas") == 0;
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++)
        for (int ta = 0; ta < 2; ta++)
            for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
                int64_t M = sizes[t][0], N = sizes[t][1];
                gt_real *a1 = malloc((size_t)M * sizeof(gt_real));
                gt_real *a2 = calloc((size_t)(2 * M), sizeof(gt_real));
                gt_real *b2 = calloc((size_t)(2 * N), sizeof(gt_real));
                gt_real *c1 = malloc((size_t)(M * N) * sizeof(gt_real));
                gt_real *c2 = malloc((size_t)(M * N) * sizeof(gt_real));
                for (int64_t i = 0; i < M; i++) /* op(A2)[i, 0] = a1[i], op(A2)[i, 1] = 0 */
                    a2[ta ? i : 2 * i] = a1[i] = (gt_real)uniform();
                for (int64_t j = 0; j < N; j++) /* B2's first row is b, its second zeros */
                    b2[j] = (gt_real)uniform();
                for (int64_t i = 0; i < M * N; i++)
                    c1[i] = c2[i] = (gt_real)uniform();
                gt_real alpha = (gt_real)modes[m][0], beta = (gt_real)modes[m][1];
                gt__gemm(ta, false, M, N, 1, alpha, a1, ta ? M : 1, b2, N, beta, c1, N);
                gt__gemm(ta, false, M, N, 2, alpha, a2, ta ? M : 2, b2, N, beta, c2, N);
                if (blas) /* OpenBLAS may round the two differently: values only */
                    for (int64_t i = 0; i < M * N; i++)
                        CHECK_CLOSE(c1[i], c2[i], 1e-5 * (1 + fabs((double)c2[i])));
                else
                    CHECK(memcmp(c1, c2, (size_t)(M * N) * sizeof(gt_real)) == 0);
                free(a1), free(a2), free(b2), free(c1), free(c2);
            }
}

GT_TEST(products_of_one_k_give_the_bits_of_the_outer_tiles) { on_every_path(rank1_matches_tiles); }

/* gt__gemm_taps against gt__gemm on its taps copied out as patches (im2col): the same bits,
 * for LeNet's C1 (one padded 32x32 channel, 25 taps) and C3 (6 channels, 150 taps, added
 * into C), more rows than a tile, K past an outer k block (270 taps), rows one vector wide
 * and wider than two. */
static void taps_match_copied_patches(void) {
    const struct {
        int64_t M, C, H, W, KH, KW;
        bool add;
    } cases[] = {{6, 1, 32, 32, 5, 5, false}, {16, 6, 14, 14, 5, 5, true},
                 {17, 3, 9, 40, 3, 3, false}, {5, 30, 6, 7, 3, 3, true},
                 {1, 2, 5, 70, 2, 4, false}};
    bool blas = strcmp(gt__gemm_path_name(), "blas") == 0;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int64_t M = cases[t].M, C = cases[t].C, H = cases[t].H, W = cases[t].W;
        int64_t KH = cases[t].KH, KW = cases[t].KW, OH = H - KH + 1, OW = W - KW + 1;
        int64_t K = C * KH * KW, P = OH * OW, at = 0;
        gt_real *x = malloc((size_t)(C * H * W) * sizeof(gt_real));
        gt_real *a = malloc((size_t)(M * K) * sizeof(gt_real));
        gt_real *patches = malloc((size_t)(K * P) * sizeof(gt_real));
        gt_real *want = malloc((size_t)(M * P) * sizeof(gt_real));
        gt_real *got = malloc((size_t)(M * P) * sizeof(gt_real));
        int64_t *off = malloc((size_t)K * sizeof(int64_t));
        for (int64_t i = 0; i < C * H * W; i++)
            x[i] = (gt_real)uniform();
        for (int64_t i = 0; i < M * K; i++)
            a[i] = (gt_real)uniform();
        for (int64_t i = 0; i < M * P; i++)
            want[i] = got[i] = (gt_real)uniform();
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < KH; i++)
                for (int64_t j = 0; j < KW; j++, at++) {
                    off[at] = (c * H + i) * W + j;
                    for (int64_t r = 0; r < OH; r++)
                        for (int64_t q = 0; q < OW; q++)
                            patches[at * P + r * OW + q] = x[off[at] + r * W + q];
                }
        gt__gemm(false, false, M, P, K, 1, a, K, patches, P, cases[t].add ? 1 : 0, want, P);
        CHECK(gt__gemm_taps(M, OH, OW, K, a, K, x, off, W, cases[t].add, got, P) == !blas);
        CHECK(blas || memcmp(want, got, (size_t)(M * P) * sizeof(gt_real)) == 0);
        free(x), free(a), free(patches), free(want), free(got), free(off);
    }
}

GT_TEST(taps_read_in_place_give_the_bits_of_the_product_on_copied_patches) {
    on_every_path(taps_match_copied_patches);
}

/* gt__gemm_taps_masked, the image read in place under masks, against gt__gemm_taps on a
 * zero-padded copy: the same bits, for stride-1 convs whose output rows are as wide as the
 * image: LeNet's C1 (25 taps, 6 rows), a dilated 16 -> 32 (three row tiles), uneven
 * padding added into C, a plane smaller than a vector, a one-column image (a run of bits
 * per row), K past an outer k block (270 taps). The image has no zero, so a mask that lets
 * a tap in the padding through reads a neighbour and shows. */
static void masked_taps_match_padded_taps(void) {
    const struct {
        int64_t M, C, H, W, KH, KW, DH, DW, PT, PB, PL;
        bool add;
    } cases[] = {{6, 1, 28, 28, 5, 5, 1, 1, 2, 2, 2, false},
                 {32, 16, 12, 28, 3, 3, 2, 2, 2, 2, 2, false},
                 {17, 3, 9, 7, 3, 2, 1, 1, 0, 2, 1, true},
                 {5, 2, 3, 3, 3, 3, 1, 1, 1, 1, 1, false},
                 {4, 4, 5, 1, 3, 1, 2, 1, 2, 2, 0, true},
                 {7, 30, 6, 9, 3, 3, 1, 1, 1, 1, 1, true}};
    bool has = strcmp(gt__gemm_path_name(), "avx512") == 0 ||
               strcmp(gt__gemm_path_name(), "avx2") == 0; /* the paths with masked taps */
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int64_t M = cases[t].M, C = cases[t].C, H = cases[t].H, W = cases[t].W;
        int64_t KH = cases[t].KH, KW = cases[t].KW, DH = cases[t].DH, DW = cases[t].DW;
        int64_t PT = cases[t].PT, PL = cases[t].PL, HP = H + PT + cases[t].PB;
        int64_t WP = W + DW * (KW - 1), OH = HP - DH * (KH - 1), K = C * KH * KW, P = OH * W;
        gt_real *x = malloc((size_t)(C * H * W) * sizeof(gt_real));
        gt_real *xpad = calloc((size_t)(C * HP * WP + 64), sizeof(gt_real));
        gt_real *a = malloc((size_t)(M * K) * sizeof(gt_real));
        gt_real *at = malloc((size_t)(M * K) * sizeof(gt_real));
        gt_real *want = malloc((size_t)(M * P) * sizeof(gt_real));
        gt_real *got = malloc((size_t)(M * P) * sizeof(gt_real));
        int64_t *off_pad = malloc((size_t)K * sizeof(int64_t));
        int64_t *off = malloc((size_t)K * sizeof(int64_t)), dy[8], dx[8];
        int32_t *slot = malloc((size_t)K * sizeof(int32_t));
        size_t mask_bytes = (size_t)gt__gemm_tap_masks_bytes(P, KH * KW);
        void *masks = aligned_alloc(64, (mask_bytes / 64 + 1) * 64);
        for (int64_t i = 0; i < C * H * W; i++)
            x[i] = (gt_real)(1.5 + uniform());
        for (int64_t c = 0; c < C; c++)
            for (int64_t r = 0; r < H; r++)
                memcpy(xpad + (c * HP + r + PT) * WP + PL, x + (c * H + r) * W,
                       (size_t)W * sizeof(gt_real));
        for (int64_t i = 0; i < M; i++)
            for (int64_t k = 0; k < K; k++)
                a[i * K + k] = at[k * M + i] = (gt_real)uniform();
        for (int64_t i = 0; i < M * P; i++)
            want[i] = got[i] = (gt_real)uniform();
        for (int64_t i = 0; i < KH; i++)
            dy[i] = i * DH - PT;
        for (int64_t j = 0; j < KW; j++)
            dx[j] = j * DW - PL;
        for (int64_t c = 0, k = 0; c < C; c++)
            for (int64_t i = 0; i < KH; i++)
                for (int64_t j = 0; j < KW; j++, k++) {
                    off_pad[k] = (c * HP + i * DH) * WP + j * DW;
                    off[k] = c * H * W + dy[i] * W + dx[j];
                    slot[k] = (int32_t)(i * KW + j);
                }
        CHECK(gt__gemm_taps(M, OH, W, K, a, K, xpad, off_pad, WP, cases[t].add, want, P) ||
              strcmp(gt__gemm_path_name(), "blas") == 0);
        CHECK(gt__gemm_tap_masks(OH, W, H, KH, dy, KW, dx, masks) == has);
        CHECK(gt__gemm_taps_masked(M, P, K, at, M, x, off, slot, masks, KH * KW, cases[t].add,
                                   got, P) == has);
        if (has && memcmp(want, got, (size_t)(M * P) * sizeof(gt_real)) != 0) {
            printf("  case %zu differs on the %s path\n", t, gt__gemm_path_name());
            CHECK(false);
        }
        free(x), free(xpad), free(a), free(at), free(want), free(got), free(off_pad), free(off);
        free(slot), free(masks);
    }
}

GT_TEST(masked_taps_read_in_place_give_the_bits_of_the_padded_taps) {
    on_every_path(masked_taps_match_padded_taps);
}

/* conv2d with its taps read in place and through patches, on every path: the same bits
 * forward (the cost model may take either), the weight, bias and input gradients alike to
 * rounding (the taps' sums run over output rows, and the input gradient's over the flipped
 * kernel's taps); LeNet's C1 and C3 among the shapes. */
static void conv_taps_match_patches(void) {
    const char *cases[][2] = {{"5x1x28x28", "6x1x5x5"}, {"4x6x14x14", "16x6x5x5"},
                              {"3x4x9x11", "6x2x3x3"},  {"2x3x7x8", "5x3x3x2"},
                              {"8x16x12x12", "32x16x3x3"}, {"6x8x10x10", "12x4x3x3"}};
    /* the last two read their image and output gradient in place under masks (flat_taps,
     * flat_input_grad) on the AVX paths */
    const gt_conv_args args[] = {
        {.padding = GT_INTS(2), .groups = 1},
        {.groups = 1},
        {.padding = GT_INTS(1, 2), .dilation = GT_INTS(2, 1), .groups = 2},
        {.padding = GT_INTS(0, 1), .groups = 1},
        {.padding = GT_INTS(2), .dilation = GT_INTS(2), .groups = 1},
        {.padding = GT_INTS(1), .groups = 2}};
    const double tol = sizeof(gt_real) == sizeof(float) ? 1e-4 : 1e-12;
    gt_rng rng;
    gt_rng_seed(&rng, 11);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int64_t xs[4], ws[4];
        sscanf(cases[t][0], "%" SCNd64 "x%" SCNd64 "x%" SCNd64 "x%" SCNd64, &xs[0], &xs[1],
               &xs[2], &xs[3]);
        sscanf(cases[t][1], "%" SCNd64 "x%" SCNd64 "x%" SCNd64 "x%" SCNd64, &ws[0], &ws[1],
               &ws[2], &ws[3]);
        gt_tensor *in[3] = {gt_rand(4, xs, -1, 1, &rng), gt_rand(4, ws, -1, 1, &rng),
                            gt_rand(1, ws, -1, 1, &rng)};
        gt_tensor *y[2] = {NULL, NULL}, *grads[2][3] = {{NULL}};
        for (int i = 0; i < 3; i++)
            gt_tensor_set_requires_grad(in[i], t > 0 || i > 0); /* C1: no input gradient */
        for (int mode = 0; mode < 2; mode++) {
            int before = gt__conv_set_taps(mode);
            gt_tape *tape = gt_tape_new();
            gt_tensor *out = gt_conv2d_ex(tape, in[0], in[1], in[2], &args[t]);
            gt_rng up_rng; /* the same upstream gradient for both */
            gt_rng_seed(&up_rng, 100 + t);
            gt_tensor *up = out ? gt_rand(gt_tensor_ndim(out), gt_tensor_shape(out), -1, 1,
                                          &up_rng) : NULL;
            y[mode] = gt_tensor_clone(out);
            for (int i = 0; i < 3; i++)
                gt_tensor_zero_grad(in[i]);
            CHECK(out && gt_backward_with(tape, out, up) == GT_OK);
            for (int i = 0; i < 3; i++)
                if (gt_tensor_requires_grad(in[i]))
                    grads[mode][i] = gt_from_array(gt_tensor_ndim(in[i]), gt_tensor_shape(in[i]),
                                                   gt_tensor_grad(in[i]));
            gt_tensor_free(up);
            gt_tape_free(tape);
            gt__conv_set_taps(before);
        }
        CHECK(y[0] && y[1] && gt_tensor_numel(y[0]) == gt_tensor_numel(y[1]));
        CHECK(y[0] && y[1] &&
              memcmp(gt_tensor_data(y[0]), gt_tensor_data(y[1]),
                     (size_t)gt_tensor_numel(y[0]) * sizeof(gt_real)) == 0);
        for (int i = 0; i < 3; i++)
            for (int64_t e = 0; grads[0][i] && grads[1][i] && e < gt_tensor_numel(in[i]); e++) {
                double a = gt_tensor_data(grads[0][i])[e], b = gt_tensor_data(grads[1][i])[e];
                CHECK(fabs(a - b) <= tol * (1 + fabs(a)));
            }
        for (int i = 0; i < 3; i++)
            gt_tensor_free(grads[0][i]), gt_tensor_free(grads[1][i]), gt_tensor_free(in[i]);
        gt_tensor_free(y[0]), gt_tensor_free(y[1]);
    }
}

GT_TEST(conv2d_gives_the_same_bits_with_its_taps_read_in_place_or_copied) {
    on_every_path(conv_taps_match_patches);
}

GT_TEST(alpha_zero_reads_neither_a_nor_b) {
    gemm_case t = {false, false, 5, 9, 7, 0, 2, 1};
    operands o = make_operands(&t);
    for (int64_t i = 0; i < o.a_rows * o.lda; i++)
        o.A[i] = (gt_real)NAN;
    for (int64_t i = 0; i < o.b_rows * o.ldb; i++)
        o.B[i] = (gt_real)NAN;
    run(&t, &o);
    for (int64_t i = 0; i < t.M; i++)
        for (int64_t j = 0; j < t.N; j++)
            CHECK(o.C[i * o.ldc + j] == 2 * o.C0[i * o.ldc + j]);
    free_operands(&o);
}

GT_TEST(k_zero_scales_c_by_beta_and_beta_zero_clears_nan) {
    gemm_case t = {false, true, 4, 6, 0, 1, 0, 2};
    operands o = make_operands(&t);
    run(&t, &o);
    for (int64_t i = 0; i < t.M; i++)
        for (int64_t j = 0; j < o.ldc; j++)
            CHECK(o.C[i * o.ldc + j] == (j < t.N ? 0 : 12345));
    free_operands(&o);
}

GT_TEST(every_supported_path_can_be_forced_and_reports_its_name) {
    for (int p = 0; p < GT__GEMM_PATH_COUNT; p++) {
        bool supported = gt__gemm_path_supported((gt__gemm_path)p);
        CHECK(gt__gemm_set_path((gt__gemm_path)p) == supported);
        if (supported)
            CHECK(strcmp(gt__gemm_path_name(), gt__gemm_path_label((gt__gemm_path)p)) == 0);
    }
    CHECK(gt__gemm_path_supported(GT__GEMM_PORTABLE));
    CHECK(!gt__gemm_set_path(GT__GEMM_PATH_COUNT));
    gt__gemm_set_path(GT__GEMM_AUTO);
    printf("     gemm path in use: %s\n", gt__gemm_path_name());
}

GT_TEST(gt_cpu_in_the_environment_forces_a_path_and_a_bad_name_is_ignored) {
    const char *old = getenv("GT_CPU");
    char *saved = old ? strdup(old) : NULL;
    unsetenv("GT_CPU");
    gt__gemm_set_path(GT__GEMM_AUTO);
    const char *best = gt__gemm_path_name();
    setenv("GT_CPU", "portable", 1);
    gt__gemm_set_path(GT__GEMM_AUTO);
    CHECK(strcmp(gt__gemm_path_name(), "portable") == 0);
    setenv("GT_CPU", "no-such-path", 1);
    gt__gemm_set_path(GT__GEMM_AUTO);
    CHECK(strcmp(gt__gemm_path_name(), best) == 0);
    if (saved)
        setenv("GT_CPU", saved, 1);
    else
        unsetenv("GT_CPU");
    free(saved);
    gt__gemm_set_path(GT__GEMM_AUTO);
}

GT_TEST(set_threads_counts_and_refuses_a_negative_count) {
    int before = gt_get_threads();
    CHECK(before >= 1);
    CHECK(gt_set_threads(-1) == -1);
    CHECK_ERROR_HAS("set_threads");
    CHECK(gt_get_threads() == before);
    CHECK(gt_set_threads(0) >= 1);
    int one = gt_set_threads(1);
    CHECK(one == 1 && gt_get_threads() == 1);
    gt_set_threads(before);
}

GT_TEST_MAIN()
