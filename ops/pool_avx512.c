/* pool_avx512.c - max pooling with AVX-512, 16 outputs of a row to a vector step:
 * - the 2x2 max pool (windows that tile planes of even sizes: LeNet's S2 and S4), forward
 *   and backward, an output row of a plane at a time (32 inputs to a step). The maximum's
 *   place in its window is kept as one byte per output, 0..3 in row-major order (pool.c's
 *   "window codes").
 * - the max pool of any window (kernel, stride, padding, dilation, ceil_mode; the 1-D pool),
 *   forward only: its backward is pool.c's scatter through the 64-bit argmax. A stride of 1
 *   or 2 loads the taps (a permute keeps every second value), a longer one gathers them.
 * Compiled for AVX-512F by a target attribute on each function, as gemm_avx512.c; pool.c
 * calls these only when the GEMM's path in use is avx512 (so GT_CPU=avx2|portable turns
 * them off) and gt_real is float. They give the bits of pool.c's portable loops: the same
 * comparisons in the same order (a maximum is exact, the first in row-major order stays),
 * and 0 + g written at each window's maximum. */
#include "gt_ops_impl.h"

#if defined(GT__HAVE_AVX512) && !defined(GT_REAL_DOUBLE)
#include <immintrin.h>

#define POOL_TARGET __attribute__((target("avx512f")))

/* v replaces best: larger, or a NaN over a number (pool.c's POOL_TAKES) */
static inline __attribute__((always_inline)) POOL_TARGET __mmask16 takes(__m512 v, __m512 best) {
    return _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
           (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
}

/* The lanes of a row's last n (< 16) outputs: their 2n inputs in two vectors of 16, and
 * the outputs; all 16 for whole vectors. The same for every row: taken once per call. */
typedef struct row_masks {
    int64_t whole;           /* outputs of a row in whole vectors of 16 */
    __mmask16 lo, hi, out;   /* the rest's (out == 0: none) */
} row_masks;

static row_masks masks_of(int64_t ow) {
    row_masks m = {ow / 16 * 16, 0, 0, 0};
    int64_t n = ow - m.whole, first = 2 * n < 16 ? 2 * n : 16;
    m.lo = (__mmask16)((1u << first) - 1u);
    m.hi = (__mmask16)((1u << (2 * n - first)) - 1u);
    m.out = (__mmask16)((1u << n) - 1u);
    return m;
}

// top[32], bottom[32] (the lanes lo, hi) -> y[16], window[16] (the lanes out): 16 windows
static inline __attribute__((always_inline)) POOL_TARGET void
pool_chunk(const float *top, const float *bottom, __mmask16 lo, __mmask16 hi, __mmask16 out,
           float *y, uint8_t *window) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                           30),
                  odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    __m512 t0 = _mm512_maskz_loadu_ps(lo, top), t1 = _mm512_maskz_loadu_ps(hi, top + 16);
    __m512 b0 = _mm512_maskz_loadu_ps(lo, bottom), b1 = _mm512_maskz_loadu_ps(hi, bottom + 16);
    __m512 a = _mm512_permutex2var_ps(t0, even, t1), b = _mm512_permutex2var_ps(t0, odd, t1);
    __m512 c = _mm512_permutex2var_ps(b0, even, b1), d = _mm512_permutex2var_ps(b0, odd, b1);
    __mmask16 right_top = takes(b, a), right_bottom = takes(d, c);
    __m512 upper = _mm512_mask_blend_ps(right_top, a, b);
    __m512 lower = _mm512_mask_blend_ps(right_bottom, c, d);
    __mmask16 down = takes(lower, upper);
    __m512i code_upper = _mm512_maskz_mov_epi32(right_top, _mm512_set1_epi32(1));
    __m512i code_lower =
        _mm512_mask_blend_epi32(right_bottom, _mm512_set1_epi32(2), _mm512_set1_epi32(3));
    _mm512_mask_storeu_ps(y, out, _mm512_mask_blend_ps(down, upper, lower));
    _mm512_mask_cvtepi32_storeu_epi8(window, out,
                                     _mm512_mask_blend_epi32(down, code_upper, code_lower));
}

// x[rows*2, W] (pairs of input rows) -> y[rows, W/2], window[rows, W/2] (the maximum's place
// in its 2x2 window, 0..3 row-major; the first maximum wins): the larger of each row's
// pair, then of the two rows
POOL_TARGET bool gt__maxpool_2x2_avx512(int64_t rows, int64_t w, const float *x, float *y,
                                        uint8_t *window) {
    const int64_t ow = w / 2;
    const row_masks m = masks_of(ow);
    for (int64_t q = 0; q < rows; q++) {
        const float *top = x + 2 * q * w, *bottom = top + w;
        for (int64_t x0 = 0; x0 < m.whole; x0 += 16)
            pool_chunk(top + 2 * x0, bottom + 2 * x0, 0xFFFF, 0xFFFF, 0xFFFF, y + q * ow + x0,
                       window + q * ow + x0);
        if (m.out)
            pool_chunk(top + 2 * m.whole, bottom + 2 * m.whole, m.lo, m.hi, m.out,
                       y + q * ow + m.whole, window + q * ow + m.whole);
    }
    return true;
}

// g[16], window[16] (its codes; 16 bytes read) -> top[32], bottom[32] (the lanes lo, hi,
// out) = 0 + g at each window's maximum, 0 at its other three
static inline __attribute__((always_inline)) POOL_TARGET void
grad_chunk(const float *g, const uint8_t *window, __mmask16 lo, __mmask16 hi, __mmask16 out,
           float *top, float *bottom) {
    const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23),
                  high = _mm512_add_epi32(low, _mm512_set1_epi32(8));
    __m512 v = _mm512_add_ps(_mm512_setzero_ps(), _mm512_maskz_loadu_ps(out, g));
    __m512i code = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)window));
    __m512 v0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(code, _mm512_set1_epi32(0)), v);
    __m512 v1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(code, _mm512_set1_epi32(1)), v);
    __m512 v2 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(code, _mm512_set1_epi32(2)), v);
    __m512 v3 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(code, _mm512_set1_epi32(3)), v);
    _mm512_mask_storeu_ps(top, lo, _mm512_permutex2var_ps(v0, low, v1));
    _mm512_mask_storeu_ps(top + 16, hi, _mm512_permutex2var_ps(v0, high, v1));
    _mm512_mask_storeu_ps(bottom, lo, _mm512_permutex2var_ps(v2, low, v3));
    _mm512_mask_storeu_ps(bottom + 16, hi, _mm512_permutex2var_ps(v2, high, v3));
}

// g[rows, W/2], window[rows, W/2] (+ 16 bytes readable past its end) -> gx[rows*2, W] =
// 0 + g at each 2x2 window's maximum, 0 at its other three: the backward of a stale
// gradient, written whole
POOL_TARGET bool gt__maxpool_2x2_grad_avx512(int64_t rows, int64_t w, const float *g,
                                             const uint8_t *window, float *gx) {
    const int64_t ow = w / 2;
    const row_masks m = masks_of(ow);
    for (int64_t q = 0; q < rows; q++) {
        float *top = gx + 2 * q * w, *bottom = top + w;
        for (int64_t x0 = 0; x0 < m.whole; x0 += 16)
            grad_chunk(g + q * ow + x0, window + q * ow + x0, 0xFFFF, 0xFFFF, 0xFFFF,
                       top + 2 * x0, bottom + 2 * x0);
        if (m.out)
            grad_chunk(g + q * ow + m.whole, window + q * ow + m.whole, m.lo, m.hi, m.out,
                       top + 2 * m.whole, bottom + 2 * m.whole);
    }
    return true;
}

/* ---- any window: per plane and strip of 16 outputs, the output rows down the plane ------- */

#define MAXPOOL_TAPS 64 /* the widest window the kernel takes */

/* The lanes [lo, hi) of 16 (0 <= lo < hi <= 16). */
static inline __mmask16 lanes(int64_t lo, int64_t hi) {
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// row[W] -> the columns first + k * s of the lanes k in [lo, hi) (0 in the others), reading
// nothing outside those columns' span: contiguous (s = 1), the even elements of a span
// (s = 2), gathered (any other stride); lane_cols = k * s
static inline __attribute__((always_inline)) POOL_TARGET __m512
load_columns(const float *row, int64_t first, int64_t s, int64_t lo, int64_t hi,
             __m512i lane_cols) {
    const __mmask16 valid = lanes(lo, hi);
    if (s == 1)
        return lo ? _mm512_maskz_expandloadu_ps(valid, row + first + lo)
                  : _mm512_maskz_loadu_ps(valid, row + first);
    if (s == 2) { /* the 2 (hi - lo) - 1 elements from lane lo's, then lane k <- 2 (k - lo) */
        const float *span = row + first + 2 * lo;
        int64_t count = 2 * (hi - lo) - 1;
        __mmask16 m0 = count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1u);
        __mmask16 m1 = count > 16 ? (__mmask16)((1u << (count - 16)) - 1u) : 0;
        __m512 a = _mm512_maskz_loadu_ps(m0, span), b = _mm512_maskz_loadu_ps(m1, span + 16);
        __m512i at = _mm512_sub_epi32(lane_cols, _mm512_set1_epi32((int)(2 * lo)));
        return _mm512_maskz_permutex2var_ps(valid, a, at, b);
    }
    __m512i cols = _mm512_add_epi32(lane_cols, _mm512_set1_epi32((int)first));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, cols, row, 4);
}

/* A window's column tap j for the 16 outputs from c0: the lanes [lo, hi) whose column
 * c0 s + j d - p + k s lies inside the row, and the column of lane 0. */
typedef struct column_tap {
    int64_t first, lo, hi;
    __mmask16 valid;
} column_tap;

// x[planes, H, W] -> y[planes, OH, OW], argmax (base + place in x): per plane, per 16
// outputs of a row (c0), the column taps worked out once, then each output row down the
// plane with its taps in row-major order, each taken by the lanes whose column is inside:
// the first unconditionally, the others when larger or a NaN over a number (as
// maxpool_any's POOL_TAKES: the first maximum stays). A lane whose maximum is a NaN is
// done (`nan`), so that the compare on the chain from tap to tap is one: v > best, or
// unordered.
POOL_TARGET bool gt__maxpool_avx512(const gt__pool_axis *h, const gt__pool_axis *w,
                                    int64_t planes, const float *x, float *y, int64_t *argmax,
                                    int64_t base) {
    const int64_t width = w->in, ow = w->out, oh = h->out, s = w->s, plane = h->in * width;
    if (w->k > MAXPOOL_TAPS || plane > INT32_MAX) /* places in the plane are 32-bit lanes */
        return false;
    const __m512i lane_cols = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)s));
    column_tap taps[MAXPOOL_TAPS];
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * plane;
        for (int64_t c0 = 0; c0 < ow; c0 += 16) {
            const int64_t n = ow - c0 < 16 ? ow - c0 : 16;
            int n_taps = 0;
            for (int64_t j = 0; j < w->k; j++) {
                int64_t lo, hi, first = gt__pool_tap_span(w, c0, n, j, &lo, &hi);
                if (lo < hi)
                    taps[n_taps++] = (column_tap){first, lo, hi, lanes(lo, hi)};
            }
            const __mmask16 out = lanes(0, n);
            for (int64_t oy = 0; oy < oh; oy++) {
                int64_t y0, rows = gt__pool_window(h, oy, &y0, &(int64_t){0});
                __m512 best = _mm512_setzero_ps();
                __m512i place = _mm512_setzero_si512();
                __mmask16 empty = out, nan = 0;
                for (int64_t i = 0; i < rows; i++) {
                    const int64_t r = (y0 + i * h->d) * width;
                    for (int t = 0; t < n_taps; t++) {
                        const column_tap *c = &taps[t];
                        __m512 v = load_columns(xp + r, c->first, s, c->lo, c->hi, lane_cols);
                        __mmask16 take = c->valid & (__mmask16)~nan &
                                         (empty | _mm512_cmp_ps_mask(v, best, _CMP_NLE_UQ));
                        best = _mm512_mask_blend_ps(take, best, v);
                        place = _mm512_mask_blend_epi32(
                            take, place,
                            _mm512_add_epi32(lane_cols, _mm512_set1_epi32((int)(r + c->first))));
                        nan |= _mm512_mask_cmp_ps_mask(take, v, v, _CMP_UNORD_Q);
                        empty &= (__mmask16)~c->valid;
                    }
                }
                const int64_t o = (p * oh + oy) * ow + c0;
                const __m512i at = _mm512_set1_epi64(base + p * plane);
                _mm512_mask_storeu_ps(y + o, out, best);
                _mm512_mask_storeu_epi64(
                    argmax + o, (__mmask8)out,
                    _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(place)), at));
                _mm512_mask_storeu_epi64(
                    argmax + o + 8, (__mmask8)(out >> 8),
                    _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(place, 1)),
                                     at));
            }
        }
    }
    return true;
}

#else

bool gt__maxpool_avx512(const gt__pool_axis *h, const gt__pool_axis *w, int64_t planes,
                        const gt_real *x, gt_real *y, int64_t *argmax, int64_t base) {
    (void)h, (void)w, (void)planes, (void)x, (void)y, (void)argmax, (void)base;
    return false;
}

bool gt__maxpool_2x2_avx512(int64_t rows, int64_t w, const gt_real *x, gt_real *y,
                            uint8_t *window) {
    (void)rows, (void)w, (void)x, (void)y, (void)window;
    return false;
}

bool gt__maxpool_2x2_grad_avx512(int64_t rows, int64_t w, const gt_real *g,
                                 const uint8_t *window, gt_real *gx) {
    (void)rows, (void)w, (void)g, (void)window, (void)gx;
    return false;
}

#endif
