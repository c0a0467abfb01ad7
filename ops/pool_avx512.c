/* pool_avx512.c - the 2x2 max pool (windows that tile planes of even sizes: LeNet's S2 and
 * S4) with AVX-512, forward and backward, an output row of a plane at a time, 16 outputs
 * (32 inputs) to a vector step. The maximum's place in its window is kept as one byte per
 * output, 0..3 in row-major order (pool.c's "window codes"). Compiled for AVX-512F by a
 * target attribute on each function, as gemm_avx512.c; pool.c calls these only when the
 * GEMM's path in use is avx512 (so GT_CPU=avx2|portable turns them off) and gt_real is
 * float. They give the bits of pool.c's portable loops: the same comparisons in the same
 * order (a maximum is exact), and 0 + g written at each window's maximum. */
#include "gt_ops_impl.h"

#if defined(GT__HAVE_AVX512) && !defined(GT_REAL_DOUBLE)
#include <immintrin.h>

#define POOL_TARGET __attribute__((target("avx512f")))

/* v replaces best: larger, or a NaN over a number (pool.c's POOL_TAKES) */
static inline __attribute__((always_inline)) POOL_TARGET __mmask16 takes(__m512 v, __m512 best) {
    return _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
           (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
}

/* The lanes of n (<= 16) outputs' 2n inputs, in two vectors of 16. */
static inline void input_masks(int64_t n, __mmask16 *lo, __mmask16 *hi) {
    int64_t m = 2 * n, first = m < 16 ? m : 16;
    *lo = (__mmask16)((1u << first) - 1u);
    *hi = (__mmask16)((1u << (m - first)) - 1u);
}

// x[rows*2, W] (pairs of input rows) -> y[rows, W/2], window[rows, W/2] (the maximum's place
// in its 2x2 window, 0..3 row-major; the first maximum wins): the larger of each row's
// pair, then of the two rows
POOL_TARGET bool gt__maxpool_2x2_avx512(int64_t rows, int64_t w, const float *x, float *y,
                                        uint8_t *window) {
    const int64_t ow = w / 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                           30),
                  odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2),
                  three = _mm512_set1_epi32(3);
    for (int64_t q = 0; q < rows; q++) {
        const float *top = x + 2 * q * w, *bottom = top + w;
        for (int64_t x0 = 0; x0 < ow; x0 += 16) {
            int64_t n = ow - x0 < 16 ? ow - x0 : 16;
            __mmask16 lo, hi, out = (__mmask16)((1u << n) - 1u);
            input_masks(n, &lo, &hi);
            __m512 t0 = _mm512_maskz_loadu_ps(lo, top + 2 * x0);
            __m512 t1 = _mm512_maskz_loadu_ps(hi, top + 2 * x0 + 16);
            __m512 b0 = _mm512_maskz_loadu_ps(lo, bottom + 2 * x0);
            __m512 b1 = _mm512_maskz_loadu_ps(hi, bottom + 2 * x0 + 16);
            __m512 a = _mm512_permutex2var_ps(t0, even, t1), b = _mm512_permutex2var_ps(t0, odd, t1);
            __m512 c = _mm512_permutex2var_ps(b0, even, b1), d = _mm512_permutex2var_ps(b0, odd, b1);
            __mmask16 right_top = takes(b, a), right_bottom = takes(d, c);
            __m512 upper = _mm512_mask_blend_ps(right_top, a, b);
            __m512 lower = _mm512_mask_blend_ps(right_bottom, c, d);
            __mmask16 down = takes(lower, upper);
            __m512i code_upper = _mm512_maskz_mov_epi32(right_top, one);
            __m512i code_lower = _mm512_mask_blend_epi32(right_bottom, two, three);
            _mm512_mask_storeu_ps(y + q * ow + x0, out, _mm512_mask_blend_ps(down, upper, lower));
            _mm512_mask_cvtepi32_storeu_epi8(window + q * ow + x0, out,
                                             _mm512_mask_blend_epi32(down, code_upper, code_lower));
        }
    }
    return true;
}

// g[rows, W/2], window[rows, W/2] (+ 16 bytes readable past its end) -> gx[rows*2, W] =
// 0 + g at each 2x2 window's maximum, 0 at its other three: the backward of a stale
// gradient, written whole
POOL_TARGET bool gt__maxpool_2x2_grad_avx512(int64_t rows, int64_t w, const float *g,
                                             const uint8_t *window, float *gx) {
    const int64_t ow = w / 2;
    const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23),
                  high = _mm512_add_epi32(low, _mm512_set1_epi32(8));
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2),
                  three = _mm512_set1_epi32(3);
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t q = 0; q < rows; q++) {
        float *top = gx + 2 * q * w, *bottom = top + w;
        for (int64_t x0 = 0; x0 < ow; x0 += 16) {
            int64_t n = ow - x0 < 16 ? ow - x0 : 16;
            __mmask16 lo, hi, out = (__mmask16)((1u << n) - 1u);
            input_masks(n, &lo, &hi);
            __m512 v = _mm512_add_ps(zero, _mm512_maskz_loadu_ps(out, g + q * ow + x0));
            __m512i code = _mm512_cvtepu8_epi32(
                _mm_loadu_si128((const __m128i *)(const void *)(window + q * ow + x0)));
            __m512 v0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(code, _mm512_setzero_si512()), v);
            __m512 v1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(code, one), v);
            __m512 v2 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(code, two), v);
            __m512 v3 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(code, three), v);
            _mm512_mask_storeu_ps(top + 2 * x0, lo, _mm512_permutex2var_ps(v0, low, v1));
            _mm512_mask_storeu_ps(top + 2 * x0 + 16, hi, _mm512_permutex2var_ps(v0, high, v1));
            _mm512_mask_storeu_ps(bottom + 2 * x0, lo, _mm512_permutex2var_ps(v2, low, v3));
            _mm512_mask_storeu_ps(bottom + 2 * x0 + 16, hi, _mm512_permutex2var_ps(v2, high, v3));
        }
    }
    return true;
}

#else

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
