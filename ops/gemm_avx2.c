/* gemm_avx2.c - the AVX2 + FMA path: outer tiles of up to 6 rows x 2 vectors (6 x 16 in
 * float, 6 x 8 in double; 12 accumulators of the 16 ymm registers) and dot tiles of 3 x 4.
 * Compiled for AVX2 and FMA by a target attribute on each function, so the rest of the
 * library keeps the baseline instruction set; gemm.c calls it only on a CPU that has both. */
#include "gemm_impl.h"

#if defined(GT__HAVE_AVX2)
#include <immintrin.h>

#define GT__SIMD_NAME "avx2"
#define GT__SIMD_TABLE gt__gemm_avx2_kernels
#define GT__SIMD_TARGET __attribute__((target("avx2,fma")))
#define GT__MR 6
#define GT__DM 3

#ifdef GT_REAL_DOUBLE
typedef __m256d vreal;
typedef __m256i vmask;
#define VLEN 4
#define v_zero() _mm256_setzero_pd()
#define v_set1(x) _mm256_set1_pd(x)
#define v_load(p) _mm256_loadu_pd(p)
#define v_store(p, v) _mm256_storeu_pd(p, v)
#define v_add(a, b) _mm256_add_pd(a, b)
#define v_mul(a, b) _mm256_mul_pd(a, b)
#define v_fma(a, b, c) _mm256_fmadd_pd(a, b, c)
#define v_mask(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#define v_mask_bits(bits) /* the lanes whose bit is set */                                 \
    _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(bits), v_lane_bits), v_lane_bits)
#define v_lane_bits _mm256_setr_epi64x(1, 2, 4, 8)
#define v_loadm(p, m) _mm256_maskload_pd(p, m)
#define v_storem(p, m, v) _mm256_maskstore_pd(p, m, v)

/* Lane sums of four vectors: pairs added, then the two 128-bit lanes. */
typedef __m256d vsum4;
static inline __attribute__((always_inline)) GT__SIMD_TARGET vsum4 v_hsum4(__m256d a, __m256d b,
                                                                           __m256d c, __m256d d) {
    __m256d ab = _mm256_hadd_pd(a, b); /* a01 b01 a23 b23 */
    __m256d cd = _mm256_hadd_pd(c, d);
    __m256d lo = _mm256_permute2f128_pd(ab, cd, 0x20), hi = _mm256_permute2f128_pd(ab, cd, 0x31);
    return _mm256_add_pd(lo, hi);
}
#else
typedef __m256 vreal;
typedef __m256i vmask;
#define VLEN 8
#define v_zero() _mm256_setzero_ps()
#define v_set1(x) _mm256_set1_ps(x)
#define v_load(p) _mm256_loadu_ps(p)
#define v_store(p, v) _mm256_storeu_ps(p, v)
#define v_add(a, b) _mm256_add_ps(a, b)
#define v_mul(a, b) _mm256_mul_ps(a, b)
#define v_fma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define v_mask(n) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define v_mask_bits(bits) /* the lanes whose bit is set */                                 \
    _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(bits), v_lane_bits), v_lane_bits)
#define v_lane_bits _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128)
#define v_loadm(p, m) _mm256_maskload_ps(p, m)
#define v_storem(p, m, v) _mm256_maskstore_ps(p, m, v)

/* Lane sums of four vectors: three horizontal adds, then the two 128-bit lanes. */
typedef __m128 vsum4;
static inline __attribute__((always_inline)) GT__SIMD_TARGET vsum4 v_hsum4(__m256 a, __m256 b,
                                                                           __m256 c, __m256 d) {
    __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}
#endif

#include "gemm_simd.h"

#else

const gt__gemm_kernels *gt__gemm_avx2_kernels(void) { return NULL; }

#endif
