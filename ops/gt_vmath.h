/* gt_vmath.h - elementwise math written so that compilers vectorise it; not installed.
 *
 * In the float build exp and tanh are branch-free approximations that vectorise (libm's
 * do not): exp is Cephes' range reduction and degree-6 polynomial (max relative error
 * 0.7 ulp over [-87, 88]), tanh is a 13/6 rational function (max 3 ulp). Both keep NaN,
 * exp overflows to inf and underflows to 0 below -87.34 (no subnormals), and the test
 * suite compares them with libm. The double build, used for gradient checks, calls libm. */
#ifndef GT_VMATH_H
#define GT_VMATH_H

#include "../tensor/gt_tensor_impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef GT_REAL_DOUBLE

static inline gt_real gt__exp(gt_real x) { return exp(x); }
static inline gt_real gt__tanh(gt_real x) { return tanh(x); }

#else

static inline float gt__exp(float x) {
    const float hi = 88.3762626647949f, lo = -87.3365478515625f;
    float v = x > hi ? hi : x < lo ? lo : x == x ? x : 0; /* NaN must not reach the int */
    float n = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round(v / ln 2) */
    float r = v - n * 0.693359375f;
    r = r - n * -2.12194440e-4f; /* v - n ln 2 in two parts: exact for |n| <= 128 */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23; /* 2^n, n in [-126, 127] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float y = p * scale;
    y = x > hi ? INFINITY : x < lo ? 0.0f : y;
    return x != x ? x : y;
}

static inline float gt__tanh(float x) {
    const float clamp = 7.90531110763549805f; /* tanh rounds to +-1 beyond */
    float c = x > clamp ? clamp : x < -clamp ? -clamp : x;
    float x2 = c * c;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    float y = c * p / q;
    y = (x < 0.0004f && x > -0.0004f) ? x : y; /* tanh x = x to float precision */
    return x != x ? x : y;
}

#endif

/* 1 / (1 + e^-x) as 1 / (1 + e^-|x|) or e^x / (1 + e^x): exp of a non-positive number
 * never overflows, and small values keep their relative precision. */
static inline gt_real gt__sigmoid(gt_real x) {
    gt_real e = gt__exp(x >= 0 ? -x : x);
    return (x >= 0 ? 1 : e) / (1 + e);
}

/* GT__LANES values in one vector of the compiler's vector extension (GCC and Clang: one zmm
 * in an AVX-512 clone, two ymm in an AVX2 one): partial sums and maxima that vectorise
 * cleanly, where arrays of lanes can be compiled into permutes. Loaded with GT__LOAD_LANES
 * (unaligned), reduced by pointer (a vector passed by value would change the ABI between a
 * function's clones). */
#define GT__LANES 16
typedef gt_real gt__lanes __attribute__((vector_size(GT__LANES * sizeof(gt_real))));
#ifdef GT_REAL_DOUBLE
typedef int64_t gt__lanes_mask __attribute__((vector_size(GT__LANES * sizeof(gt_real))));
#else
typedef int32_t gt__lanes_mask __attribute__((vector_size(GT__LANES * sizeof(gt_real))));
#endif
#define GT__LOAD_LANES(v, p) memcpy(&(v), (p), sizeof(v))

/* the lanes' total, added as a tree (halves, then quarters, ...): 4 dependent adds, where a
 * running total was 16 */
static inline double gt__lanes_total(const gt__lanes *v) {
    gt_real t[GT__LANES];
    memcpy(t, v, sizeof t);
    for (int w = GT__LANES / 2; w > 0; w /= 2)
        for (int k = 0; k < w; k++)
            t[k] += t[k + w];
    return (double)t[0];
}

/* each lane the larger of a's and b's (b's where a's is NaN and b's is not smaller) */
#define GT__LANES_MAX(a, b)                                                                  \
    ((gt__lanes)((((gt__lanes_mask)(a)) & ((a) > (b))) | (((gt__lanes_mask)(b)) & ~((a) > (b)))))

#endif
