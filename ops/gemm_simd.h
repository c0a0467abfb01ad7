/* gemm_simd.h - the register-tile kernels of a SIMD path, written once for every vector
 * width: gemm_avx2.c and gemm_avx512.c define the vector operations below and include this
 * file, which defines their kernels and the table gemm_driver.c reads. Not a header to
 * include anywhere else.
 *
 * The including file defines: GT__SIMD_NAME ("avx512"), GT__SIMD_TABLE (the function that
 * returns the table), GT__SIMD_TARGET (the target attribute), the tiles GT__MR (rows of an
 * outer tile: 4, 6, 8, 12 or 14; 2 vectors across) and GT__DM (rows of a dot tile: 3, 4 or
 * 6; 4 columns), the vector type vreal with VLEN reals and its mask type vmask, and
 *   v_zero() v_set1(x) v_load(p) v_store(p, v) v_add(a, b) v_mul(a, b) v_fma(a, b, c) = a*b+c
 *   v_mask(n)           the first n lanes (1 <= n <= VLEN)
 *   v_loadm(p, m)       masked lanes from p, zero elsewhere; never touches other lanes' memory
 *   v_storem(p, m, v)   stores the masked lanes only
 *   v_hsum4(a, b, c, d)  a vsum4 holding the sums of the lanes of a, b, c and d
 * Both paths have AVX2 and FMA, so the four sums of a dot tile's row (vsum4: 4 reals in an
 * xmm or ymm register) are handled here once.
 */
#if !defined(GT__SIMD_TABLE) || !defined(GT__MR) || !defined(GT__DM)
#error "gemm_simd.h is included by a kernel file that defines its vector operations"
#endif
#if (GT__MR != 4 && GT__MR != 6 && GT__MR != 8 && GT__MR != 12 && GT__MR != 14) ||             \
    (GT__DM != 3 && GT__DM != 4 && GT__DM != 6)
#error "the tile tables below are written out for GT__MR 4, 6, 8, 12, 14 and GT__DM 3, 4, 6"
#endif

#define GT__KERNEL static inline __attribute__((always_inline)) GT__SIMD_TARGET

#ifdef GT_REAL_DOUBLE
#define s4_load(p) _mm256_loadu_pd(p)
#define s4_store(p, v) _mm256_storeu_pd(p, v)
#define s4_set1(x) _mm256_set1_pd(x)
#define s4_add(a, b) _mm256_add_pd(a, b)
#define s4_mul(a, b) _mm256_mul_pd(a, b)
#define s4_fma(a, b, c) _mm256_fmadd_pd(a, b, c)
#define s4_mask(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#define s4_loadm(p, m) _mm256_maskload_pd(p, m)
#define s4_storem(p, m, v) _mm256_maskstore_pd(p, m, v)
#else
#define s4_load(p) _mm_loadu_ps(p)
#define s4_store(p, v) _mm_storeu_ps(p, v)
#define s4_set1(x) _mm_set1_ps(x)
#define s4_add(a, b) _mm_add_ps(a, b)
#define s4_mul(a, b) _mm_mul_ps(a, b)
#define s4_fma(a, b, c) _mm_fmadd_ps(a, b, c)
#define s4_mask(n) _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3))
#define s4_loadm(p, m) _mm_maskload_ps(p, m)
#define s4_storem(p, m, v) _mm_maskstore_ps(p, m, v)
#endif
#define GT__NV 2 /* vectors across an outer tile */
#define GT__DN 4 /* columns of a dot tile */

#if defined(__clang__)
#define GT__UNROLL _Pragma("unroll")
#else
#define GT__UNROLL _Pragma("GCC unroll 16")
#endif

/* A tile's accumulators, zero. */
GT__KERNEL void outer_zero(const int mr, const int nv, vreal acc[GT__MR][GT__NV]) {
    GT__UNROLL
    for (int i = 0; i < mr; i++)
        GT__UNROLL
        for (int v = 0; v < nv; v++)
            acc[i][v] = v_zero();
}

/* acc[i][v] += op(A)[i,k] * bv[v]: the broadcasts and multiply-adds of one k. */
GT__KERNEL void outer_fma(const int mr, const int nv, const bool trans_a, const gt_real *a,
                          int64_t lda, const vreal bv[GT__NV], vreal acc[GT__MR][GT__NV]) {
    GT__UNROLL
    for (int i = 0; i < mr; i++) {
        vreal av = v_set1(trans_a ? a[i] : a[i * lda]);
        GT__UNROLL
        for (int v = 0; v < nv; v++)
            acc[i][v] = v_fma(av, bv[v], acc[i][v]);
    }
}

/* One k of an outer tile: acc[i][v] += op(A)[i,k] * B[k, v-th vector]. */
GT__KERNEL void outer_step(const int mr, const int nv, const bool trans_a, const bool masked,
                           vmask mask, const gt_real *a, int64_t lda, const gt_real *b,
                           vreal acc[GT__MR][GT__NV]) {
    vreal bv[GT__NV];
    GT__UNROLL
    for (int v = 0; v < nv; v++)
        bv[v] = masked && v == nv - 1 ? v_loadm(b + v * VLEN, mask) : v_load(b + v * VLEN);
    outer_fma(mr, nv, trans_a, a, lda, bv, acc);
}

/* How a tile meets C, decided once per tile so that the stores run without branches. */
enum { STORE, STORE_SCALED, ADD, ADD_SCALED, BLEND };

/* c = alpha * r + beta * c over one vector (masked: the first lanes only), in the given
 * mode; STORE and STORE_SCALED (beta 0) never read c. */
GT__KERNEL void outer_store(const int mode, gt_real *c, vreal r, vreal alpha, vreal beta,
                            bool masked, vmask mask) {
    if (mode == STORE_SCALED || mode == ADD_SCALED || mode == BLEND)
        r = v_mul(r, alpha);
    if (mode == ADD || mode == ADD_SCALED || mode == BLEND) {
        vreal old = masked ? v_loadm(c, mask) : v_load(c);
        r = mode == BLEND ? v_fma(beta, old, r) : v_add(r, old);
    }
    if (masked)
        v_storem(c, mask, r);
    else
        v_store(c, r);
}

GT__KERNEL void outer_store_all(const int mode, const int mr, const int nv, gt_real *c,
                                int64_t ldc, vreal acc[GT__MR][GT__NV], gt_real alpha,
                                gt_real beta, bool masked, vmask mask) {
    vreal va = v_set1(alpha), vb = v_set1(beta);
    GT__UNROLL
    for (int i = 0; i < mr; i++)
        GT__UNROLL
        for (int v = 0; v < nv; v++)
            outer_store(mode, c + i * ldc + v * VLEN, acc[i][v], va, vb, masked && v == nv - 1,
                        mask);
}

/* call(mode) with the store mode of alpha and beta as a constant, so that the stores it
 * inlines run without branches */
#define BY_STORE_MODE(alpha, beta, call)                                                  \
    do {                                                                                  \
        if ((beta) == 0 && (alpha) == 1)                                                  \
            call(STORE);                                                                  \
        else if ((beta) == 0)                                                             \
            call(STORE_SCALED);                                                           \
        else if ((beta) == 1 && (alpha) == 1)                                             \
            call(ADD);                                                                    \
        else if ((beta) == 1)                                                             \
            call(ADD_SCALED);                                                             \
        else                                                                              \
            call(BLEND);                                                                  \
    } while (0)

/* C = alpha * acc + beta * C over a tile (masked: its last vector's first lanes only), in
 * the store mode of alpha and beta. */
GT__KERNEL void outer_finish(const int mr, const int nv, gt_real *c, int64_t ldc,
                             vreal acc[GT__MR][GT__NV], gt_real alpha, gt_real beta,
                             bool masked, vmask mask) {
#define STORE_CALL(mode) outer_store_all(mode, mr, nv, c, ldc, acc, alpha, beta, masked, mask)
    BY_STORE_MODE(alpha, beta, STORE_CALL);
#undef STORE_CALL
}

// C[mr, nr] = alpha * op(A)[mr, kc] @ B[kc, nr] + beta * C, nr <= nv * VLEN; op(A) read in
// place (rows of A, or columns when trans_a), B rows read in place: b + k*ldb, or (taps)
// b + off[k]
GT__KERNEL void outer_tile(const int mr, const int nv, const bool trans_a, const bool taps,
                           int64_t kc, int64_t nr, const gt_real *a, int64_t lda,
                           const gt_real *b, int64_t ldb, const int64_t *off, gt_real *c,
                           int64_t ldc, gt_real alpha, gt_real beta) {
    vreal acc[GT__MR][GT__NV];
    outer_zero(mr, nv, acc);
    int tail = (int)(nr - (nv - 1) * VLEN); /* lanes of the last vector, 1..VLEN */
    bool masked = tail < VLEN;
    vmask mask = v_mask(tail);
    int64_t a_step = trans_a ? lda : 1;
    if (taps && masked)
        for (int64_t k = 0; k < kc; k++, a += a_step)
            outer_step(mr, nv, trans_a, true, mask, a, lda, b + off[k], acc);
    else if (taps)
        for (int64_t k = 0; k < kc; k++, a += a_step)
            outer_step(mr, nv, trans_a, false, mask, a, lda, b + off[k], acc);
    else if (masked)
        for (int64_t k = 0; k < kc; k++, a += a_step, b += ldb)
            outer_step(mr, nv, trans_a, true, mask, a, lda, b, acc);
    else
        for (int64_t k = 0; k < kc; k++, a += a_step, b += ldb)
            outer_step(mr, nv, trans_a, false, mask, a, lda, b, acc);
    outer_finish(mr, nv, c, ldc, acc, alpha, beta, masked, mask);
}

// C[m, n] = alpha * a[m] (a column, a[i*a_step]) @ b[n] (a row) + beta * C, in the store
// mode of alpha and beta: each element a multiply-add into zero and a store, as a tile of
// kc = 1 computes it (the same bits)
GT__KERNEL void rank1_rows(const int mode, int64_t m, int64_t n, const gt_real *a,
                           int64_t a_step, const gt_real *b, gt_real *c, int64_t ldc,
                           gt_real alpha, gt_real beta) {
    vreal va = v_set1(alpha), vb = v_set1(beta);
    int tail = (int)(n % VLEN);
    int64_t full = n - tail;
    vmask mask = v_mask(tail ? tail : VLEN);
    for (int64_t i = 0; i < m; i++) {
        vreal ai = v_set1(a[i * a_step]);
        gt_real *ci = c + i * ldc;
        for (int64_t j = 0; j < full; j += VLEN)
            outer_store(mode, ci + j, v_fma(ai, v_load(b + j), v_zero()), va, vb, false, mask);
        if (tail)
            outer_store(mode, ci + full, v_fma(ai, v_loadm(b + full, mask), v_zero()), va, vb,
                        true, mask);
    }
}

static GT__SIMD_TARGET void rank1(int64_t m, int64_t n, const gt_real *a, int64_t a_step,
                                  const gt_real *b, gt_real *c, int64_t ldc, gt_real alpha,
                                  gt_real beta) {
#define RANK1_CALL(mode) rank1_rows(mode, m, n, a, a_step, b, c, ldc, alpha, beta)
    BY_STORE_MODE(alpha, beta, RANK1_CALL);
#undef RANK1_CALL
}

// C[mr, nr] = alpha * A[mr, kc] @ B[kc, nr] + beta * C, nr <= nv * VLEN, A given transposed
// (A[i, k] at a[k*lda + i]: one pointer for the tile's broadcasts), B[k, j] = b[off[k] + j]
// in the lanes that masks[v*taps + slot[k]] sets (j in vector v), 0 elsewhere
GT__KERNEL void taps_masked_tile(const int mr, const int nv, int64_t kc, int64_t nr,
                                 const gt_real *a, int64_t lda, const gt_real *b,
                                 const int64_t *off, const int32_t *slot, const vmask *masks,
                                 int64_t taps, gt_real *c, int64_t ldc, gt_real alpha,
                                 gt_real beta) {
    vreal acc[GT__MR][GT__NV];
    outer_zero(mr, nv, acc);
    for (int64_t k = 0; k < kc; k++) {
        const gt_real *bk = b + off[k];
        const vmask *mk = masks + slot[k];
        vreal bv[GT__NV];
        GT__UNROLL
        for (int v = 0; v < nv; v++)
            bv[v] = v_loadm(bk + v * VLEN, mk[v * taps]);
        outer_fma(mr, nv, true, a + k * lda, lda, bv, acc);
    }
    int tail = (int)(nr - (nv - 1) * VLEN);
    outer_finish(mr, nv, c, ldc, acc, alpha, beta, tail < VLEN, v_mask(tail));
}

// masks[v*kh*kw + i*kw + j] for the vectors v of a plane of rows x width outputs: lane l is
// set when output p = v*VLEN + l < rows*width and its tap (i, j), at row p/width + dy[i] and
// column p%width + dx[j], lies inside an image of in_rows x width (kh, kw <=
// GT__TAP_MASKS_MAX_SIDE). A vector's lanes are cut into runs along the plane's rows; the
// lanes whose row is inside under tap row i, and those whose column is inside under tap
// column j, are a few runs of bits, and the mask of tap (i, j) their intersection.
static GT__SIMD_TARGET void tap_masks(int64_t rows, int64_t width, int64_t in_rows, int64_t kh,
                                      const int64_t *dy, int64_t kw, const int64_t *dx,
                                      void *out) {
    vmask *m = out;
    int64_t total = rows * width, y = 0, x = 0; /* the row and column of a vector's lane 0 */
    for (int64_t p0 = 0; p0 < total; p0 += VLEN, m += kh * kw) {
        int64_t lanes = total - p0 < VLEN ? total - p0 : VLEN;
        int64_t run_lane[VLEN], run_y[VLEN], run_x[VLEN], run_len[VLEN], runs = 0;
        for (int64_t l = 0; l < lanes; runs++) {
            int64_t len = width - x < lanes - l ? width - x : lanes - l;
            run_lane[runs] = l, run_y[runs] = y, run_x[runs] = x, run_len[runs] = len;
            l += len, x += len;
            if (x == width)
                y++, x = 0;
        }
        uint32_t row_bits[GT__TAP_MASKS_MAX_SIDE], col_bits[GT__TAP_MASKS_MAX_SIDE];
        for (int64_t i = 0; i < kh; i++) {
            row_bits[i] = 0;
            for (int64_t r = 0; r < runs; r++)
                if (run_y[r] + dy[i] >= 0 && run_y[r] + dy[i] < in_rows)
                    row_bits[i] |= (uint32_t)((1ull << run_len[r]) - 1) << run_lane[r];
        }
        for (int64_t j = 0; j < kw; j++) {
            int64_t lo_x = dx[j] < 0 ? -dx[j] : 0, hi_x = width - dx[j];
            col_bits[j] = 0;
            for (int64_t r = 0; r < runs; r++) {
                int64_t from = run_x[r] > lo_x ? run_x[r] : lo_x;
                int64_t to = run_x[r] + run_len[r] < hi_x ? run_x[r] + run_len[r] : hi_x;
                if (from < to)
                    col_bits[j] |= (uint32_t)((1ull << (to - from)) - 1)
                                   << (run_lane[r] + from - run_x[r]);
            }
        }
        for (int64_t i = 0; i < kh; i++)
            for (int64_t j = 0; j < kw; j++)
                m[i * kw + j] = v_mask_bits(row_bits[i] & col_bits[j]);
    }
}

/* c[0..dn) = sum + beta * c for dn < 4, through a mask: no other element is touched */
GT__KERNEL void dot_store_part(int dn, gt_real *c, vsum4 sum, gt_real beta) {
#ifdef GT_REAL_DOUBLE
    __m256i mask = s4_mask(dn);
#else
    __m128i mask = s4_mask(dn);
#endif
    if (beta != 0)
        sum = beta == 1 ? s4_add(sum, s4_loadm(c, mask))
                        : s4_fma(s4_set1(beta), s4_loadm(c, mask), sum);
    s4_storem(c, mask, sum);
}

// acc[i][j] += A[i, 0..kc) * B[j, 0..kc) lane by lane, dm x dn of them, in vectors along k
// (the last one masked): the sums of a dot tile
GT__KERNEL void dot_segment(const int dm, const int dn, int64_t kc, const gt_real *a,
                            int64_t lda, const gt_real *b, int64_t ldb,
                            vreal acc[GT__DM][GT__DN]) {
    int64_t k = 0;
    for (; k + VLEN <= kc; k += VLEN) {
        vreal av[GT__DM];
        GT__UNROLL
        for (int i = 0; i < dm; i++)
            av[i] = v_load(a + i * lda + k);
        GT__UNROLL
        for (int j = 0; j < dn; j++) {
            vreal bv = v_load(b + j * ldb + k);
            GT__UNROLL
            for (int i = 0; i < dm; i++)
                acc[i][j] = v_fma(av[i], bv, acc[i][j]);
        }
    }
    if (k < kc) {
        vmask mask = v_mask((int)(kc - k));
        vreal av[GT__DM];
        GT__UNROLL
        for (int i = 0; i < dm; i++)
            av[i] = v_loadm(a + i * lda + k, mask);
        GT__UNROLL
        for (int j = 0; j < dn; j++) {
            vreal bv = v_loadm(b + j * ldb + k, mask);
            GT__UNROLL
            for (int i = 0; i < dm; i++)
                acc[i][j] = v_fma(av[i], bv, acc[i][j]);
        }
    }
}

// C[dm, dn] = alpha * A[dm, kc] @ B[dn, kc]^T + beta * C: dot products of rows read in
// place, vectors along k, lanes summed at the end. With `rows` > 1 each sum runs over rows
// segments of kc, the r-th at a + r*ldra and b + r*ldrb (rows of a convolution's output
// and of the image under one tap: its weight gradient without patches), each segment's
// last vector masked
GT__KERNEL void dot_tile(const int dm, const int dn, int64_t rows, int64_t kc, const gt_real *a,
                         int64_t lda, int64_t ldra, const gt_real *b, int64_t ldb, int64_t ldrb,
                         gt_real *c, int64_t ldc, gt_real alpha, gt_real beta) {
    vreal acc[GT__DM][GT__DN];
    GT__UNROLL
    for (int i = 0; i < GT__DM; i++)
        GT__UNROLL
        for (int j = 0; j < GT__DN; j++)
            acc[i][j] = v_zero();
    for (int64_t r = 0; r < rows; r++, a += ldra, b += ldrb)
        dot_segment(dm, dn, kc, a, lda, b, ldb, acc);
    GT__UNROLL
    for (int i = 0; i < dm; i++) {
        vsum4 sum = v_hsum4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
        gt_real *ci = c + i * ldc;
        if (alpha != 1)
            sum = s4_mul(sum, s4_set1(alpha));
        if (dn == GT__DN) {
            if (beta != 0)
                sum = beta == 1 ? s4_add(sum, s4_load(ci))
                                : s4_fma(s4_set1(beta), s4_load(ci), sum);
            s4_store(ci, sum);
        } else {
            dot_store_part(dn, ci, sum, beta);
        }
    }
}

#ifdef GT_REAL_DOUBLE
#define PACK_BLOCK 4
/* A 4 x 4 block of doubles, transposed: rows of src become columns of dst. */
GT__KERNEL void transpose_block(const double *src, int64_t lds, double *dst, int64_t ldd) {
    __m256d r0 = _mm256_loadu_pd(src), r1 = _mm256_loadu_pd(src + lds);
    __m256d r2 = _mm256_loadu_pd(src + 2 * lds), r3 = _mm256_loadu_pd(src + 3 * lds);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(dst + ldd, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(dst + 2 * ldd, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(dst + 3 * ldd, _mm256_permute2f128_pd(t1, t3, 0x31));
}
#else
#define PACK_BLOCK 8
/* An 8 x 8 block of floats, transposed: rows of src become columns of dst. */
GT__KERNEL void transpose_block(const float *src, int64_t lds, float *dst, int64_t ldd) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}
#endif

// buf[kc, nc] = b[nc, kc]^T (rows j of b strided by ldb): whole blocks through registers,
// the ragged edges one element at a time
static GT__SIMD_TARGET void pack_transposed(const gt_real *b, int64_t ldb, int64_t kc,
                                            int64_t nc, gt_real *buf) {
    int64_t kb = kc - kc % PACK_BLOCK, jb = nc - nc % PACK_BLOCK;
    for (int64_t j = 0; j < jb; j += PACK_BLOCK) {
        for (int64_t k = 0; k < kb; k += PACK_BLOCK)
            transpose_block(b + j * ldb + k, ldb, buf + k * nc + j, nc);
        for (int64_t jj = j; jj < j + PACK_BLOCK; jj++)
            for (int64_t k = kb; k < kc; k++)
                buf[k * nc + jj] = b[jj * ldb + k];
    }
    for (int64_t j = jb; j < nc; j++)
        for (int64_t k = 0; k < kc; k++)
            buf[k * nc + j] = b[j * ldb + k];
}

/* Every tile size as its own function, so each has its accumulators in registers. */
#define GT__OUTER_FN(ta, mr, nv)                                                           \
    static GT__SIMD_TARGET void outer_##ta##_##mr##_##nv(                                  \
        int64_t kc, int64_t nr, const gt_real *a, int64_t lda, const gt_real *b,           \
        int64_t ldb, gt_real *c, int64_t ldc, gt_real alpha, gt_real beta) {               \
        outer_tile(mr, nv, ta, false, kc, nr, a, lda, b, ldb, NULL, c, ldc, alpha, beta);  \
    }
#define GT__TAPS_FN(mr, nv)                                                                \
    static GT__SIMD_TARGET void outer_t_##mr##_##nv(                                       \
        int64_t kc, int64_t nr, const gt_real *a, int64_t lda, const gt_real *b,           \
        const int64_t *off, gt_real *c, int64_t ldc, gt_real alpha, gt_real beta) {        \
        outer_tile(mr, nv, false, true, kc, nr, a, lda, b, 0, off, c, ldc, alpha, beta);   \
    }
#define GT__TAPS_MASKED_FN(mr, nv)                                                         \
    static GT__SIMD_TARGET void outer_m_##mr##_##nv(                                       \
        int64_t kc, int64_t nr, const gt_real *a, int64_t lda, const gt_real *b,           \
        const int64_t *off, const int32_t *slot, const void *masks, int64_t taps, gt_real *c, \
        int64_t ldc, gt_real alpha, gt_real beta) {                                        \
        taps_masked_tile(mr, nv, kc, nr, a, lda, b, off, slot, masks, taps, c, ldc, alpha,  \
                         beta);                                                            \
    }
#define GT__OUTER_ROWS(mr) GT__OUTER_FN(0, mr, 1) GT__OUTER_FN(0, mr, 2) \
    GT__OUTER_FN(1, mr, 1) GT__OUTER_FN(1, mr, 2) GT__TAPS_FN(mr, 1) GT__TAPS_FN(mr, 2) \
    GT__TAPS_MASKED_FN(mr, 1) GT__TAPS_MASKED_FN(mr, 2)
/* ta: 0, 1 (outer tiles of A or A^T), t (taps tiles) or m (masked taps tiles) */
#define GT__OUTER_ENTRY(ta, mr) [mr - 1] = {outer_##ta##_##mr##_1, outer_##ta##_##mr##_2},

#define GT__DOT_FN(dm, dn)                                                                 \
    static GT__SIMD_TARGET void dot_##dm##_##dn(int64_t kc, const gt_real *a, int64_t lda,  \
                                                const gt_real *b, int64_t ldb, gt_real *c,  \
                                                int64_t ldc, gt_real alpha, gt_real beta) { \
        dot_tile(dm, dn, 1, kc, a, lda, 0, b, ldb, 0, c, ldc, alpha, beta);                \
    }
#define GT__DOT_ROWS_FN(dm, dn)                                                            \
    static GT__SIMD_TARGET void dot_r_##dm##_##dn(                                         \
        int64_t rows, int64_t kc, const gt_real *a, int64_t lda, int64_t ldra,             \
        const gt_real *b, int64_t ldb, int64_t ldrb, gt_real *c, int64_t ldc, gt_real alpha, \
        gt_real beta) {                                                                    \
        dot_tile(dm, dn, rows, kc, a, lda, ldra, b, ldb, ldrb, c, ldc, alpha, beta);       \
    }
#define GT__DOT_ROWS(dm) GT__DOT_FN(dm, 1) GT__DOT_FN(dm, 2) GT__DOT_FN(dm, 3) GT__DOT_FN(dm, 4) \
    GT__DOT_ROWS_FN(dm, 1) GT__DOT_ROWS_FN(dm, 2) GT__DOT_ROWS_FN(dm, 3) GT__DOT_ROWS_FN(dm, 4)
/* rows dm of the dot tiles (dot_) or of the row-segmented ones (dot_r_) */
#define GT__DOT_ENTRY_OF(p, dm) [dm - 1] = {p##dm##_1, p##dm##_2, p##dm##_3, p##dm##_4},
#define GT__DOT_ENTRY(dm) GT__DOT_ENTRY_OF(dot_, dm)
#define GT__DOT_R_ENTRY(dm) GT__DOT_ENTRY_OF(dot_r_, dm)

/* clang-format off */
GT__OUTER_ROWS(1) GT__OUTER_ROWS(2) GT__OUTER_ROWS(3) GT__OUTER_ROWS(4)
#if GT__MR >= 6
GT__OUTER_ROWS(5) GT__OUTER_ROWS(6)
#endif
#if GT__MR >= 8
GT__OUTER_ROWS(7) GT__OUTER_ROWS(8)
#endif
#if GT__MR >= 12
GT__OUTER_ROWS(9) GT__OUTER_ROWS(10) GT__OUTER_ROWS(11) GT__OUTER_ROWS(12)
#endif
#if GT__MR >= 14
GT__OUTER_ROWS(13) GT__OUTER_ROWS(14)
#endif
GT__DOT_ROWS(1) GT__DOT_ROWS(2) GT__DOT_ROWS(3)
#if GT__DM >= 4
GT__DOT_ROWS(4)
#endif
#if GT__DM >= 6
GT__DOT_ROWS(5) GT__DOT_ROWS(6)
#endif

#define GT__OUTER_TABLE(ta) {                                                               \
    GT__OUTER_ENTRY(ta, 1) GT__OUTER_ENTRY(ta, 2) GT__OUTER_ENTRY(ta, 3)                    \
    GT__OUTER_ENTRY(ta, 4) GT__OUTER_MORE_6(ta) GT__OUTER_MORE_8(ta) GT__OUTER_MORE_12(ta)  \
    GT__OUTER_MORE_14(ta) }
#if GT__MR >= 6
#define GT__OUTER_MORE_6(ta) GT__OUTER_ENTRY(ta, 5) GT__OUTER_ENTRY(ta, 6)
#else
#define GT__OUTER_MORE_6(ta)
#endif
#if GT__MR >= 8
#define GT__OUTER_MORE_8(ta) GT__OUTER_ENTRY(ta, 7) GT__OUTER_ENTRY(ta, 8)
#else
#define GT__OUTER_MORE_8(ta)
#endif
#if GT__MR >= 12
#define GT__OUTER_MORE_12(ta) GT__OUTER_ENTRY(ta, 9) GT__OUTER_ENTRY(ta, 10) \
    GT__OUTER_ENTRY(ta, 11) GT__OUTER_ENTRY(ta, 12)
#else
#define GT__OUTER_MORE_12(ta)
#endif
#if GT__MR >= 14
#define GT__OUTER_MORE_14(ta) GT__OUTER_ENTRY(ta, 13) GT__OUTER_ENTRY(ta, 14)
#else
#define GT__OUTER_MORE_14(ta)
#endif
/* clang-format on */

const gt__gemm_kernels *GT__SIMD_TABLE(void) {
    static const gt__gemm_kernels kernels = {
        .name = GT__SIMD_NAME,
        .mr = GT__MR,
        .vlen = VLEN,
        .nv = GT__NV,
        .dm = GT__DM,
        .dn = GT__DN,
        .outer = {GT__OUTER_TABLE(0), GT__OUTER_TABLE(1)},
        .taps = GT__OUTER_TABLE(t),
        .taps_masked = GT__OUTER_TABLE(m),
        .tap_masks = tap_masks,
        .mask_bytes = (int)sizeof(vmask),
        .pack_transposed = pack_transposed,
        .rank1 = rank1,
        .dot = {GT__DOT_ENTRY(1) GT__DOT_ENTRY(2) GT__DOT_ENTRY(3)
#if GT__DM >= 4
                    GT__DOT_ENTRY(4)
#endif
#if GT__DM >= 6
                        GT__DOT_ENTRY(5) GT__DOT_ENTRY(6)
#endif
        },
        .dot_rows = {GT__DOT_R_ENTRY(1) GT__DOT_R_ENTRY(2) GT__DOT_R_ENTRY(3)
#if GT__DM >= 4
                    GT__DOT_R_ENTRY(4)
#endif
#if GT__DM >= 6
                        GT__DOT_R_ENTRY(5) GT__DOT_R_ENTRY(6)
#endif
        },
    };
    return &kernels;
}
