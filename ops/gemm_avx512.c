/* gemm_avx512.c - the AVX-512 path: outer tiles of up to 14 rows x 2 vectors (14 x 32 in
 * float, 14 x 16 in double; 28 accumulators of the 32 zmm registers) and dot tiles of
 * 6 x 4. Compiled for AVX-512F and FMA by a target attribute on each function, so the rest
 * of the library keeps the baseline instruction set; gemm.c calls it only on a CPU that has
 * both. */
#include "gemm_impl.h"

#if defined(GT__HAVE_AVX512)
#include <immintrin.h>

#define GT__SIMD_NAME "avx512"
#define GT__SIMD_TABLE gt__gemm_avx512_kernels
#define GT__SIMD_TARGET __attribute__((target("avx512f,avx2,fma")))
#define GT__MR 14
#define GT__DM 6

#ifdef GT_REAL_DOUBLE
typedef __m512d vreal;
typedef __mmask8 vmask;
#define VLEN 8
#define v_zero() _mm512_setzero_pd()
#define v_set1(x) _mm512_set1_pd(x)
#define v_load(p) _mm512_loadu_pd(p)
#define v_store(p, v) _mm512_storeu_pd(p, v)
#define v_add(a, b) _mm512_add_pd(a, b)
#define v_mul(a, b) _mm512_mul_pd(a, b)
#define v_fma(a, b, c) _mm512_fmadd_pd(a, b, c)
#define v_mask(n) ((__mmask8)((1u << (n)) - 1))
#define v_mask_bits(bits) ((__mmask8)(bits)) /* the lanes whose bit is set */
#define v_loadm(p, m) _mm512_maskz_loadu_pd(m, p)
#define v_storem(p, m, v) _mm512_mask_storeu_pd(p, m, v)

/* Lane sums of four vectors: halves added, then pairs, then the two 128-bit lanes. */
static inline __attribute__((always_inline)) GT__SIMD_TARGET __m256d half_sum(__m512d v) {
    return _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
}
typedef __m256d vsum4;
static inline __attribute__((always_inline)) GT__SIMD_TARGET vsum4 v_hsum4(__m512d a, __m512d b,
                                                                           __m512d c, __m512d d) {
    __m256d ab = _mm256_hadd_pd(half_sum(a), half_sum(b)); /* a01 b01 a23 b23 */
    __m256d cd = _mm256_hadd_pd(half_sum(c), half_sum(d)); /* c01 d01 c23 d23 */
    __m256d lo = _mm256_permute2f128_pd(ab, cd, 0x20), hi = _mm256_permute2f128_pd(ab, cd, 0x31);
    return _mm256_add_pd(lo, hi);
}
#else
typedef __m512 vreal;
typedef __mmask16 vmask;
#define VLEN 16
#define v_zero() _mm512_setzero_ps()
#define v_set1(x) _mm512_set1_ps(x)
#define v_load(p) _mm512_loadu_ps(p)
#define v_store(p, v) _mm512_storeu_ps(p, v)
#define v_add(a, b) _mm512_add_ps(a, b)
#define v_mul(a, b) _mm512_mul_ps(a, b)
#define v_fma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define v_mask(n) ((__mmask16)((1u << (n)) - 1))
#define v_mask_bits(bits) ((__mmask16)(bits)) /* the lanes whose bit is set */
#define v_loadm(p, m) _mm512_maskz_loadu_ps(m, p)
#define v_storem(p, m, v) _mm512_mask_storeu_ps(p, m, v)

/* Lane sums of four vectors: 512 -> 256 bits, then three horizontal adds, then the two
 * 128-bit lanes. */
static inline __attribute__((always_inline)) GT__SIMD_TARGET __m256 half_sum(__m512 v) {
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return _mm256_add_ps(_mm512_castps512_ps256(v), hi);
}
typedef __m128 vsum4;
static inline __attribute__((always_inline)) GT__SIMD_TARGET vsum4 v_hsum4(__m512 a, __m512 b,
                                                                           __m512 c, __m512 d) {
    __m256 ab = _mm256_hadd_ps(half_sum(a), half_sum(b));
    __m256 cd = _mm256_hadd_ps(half_sum(c), half_sum(d));
    __m256 abcd = _mm256_hadd_ps(ab, cd); /* a b c d | a b c d, one sum per 128-bit lane */
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
    return sum;
}
#endif

#include "gemm_simd.h"

#else

const gt__gemm_kernels *gt__gemm_avx512_kernels(void) { return NULL; }

#endif
