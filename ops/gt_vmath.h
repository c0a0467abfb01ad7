/* gt_vmath.h - elementwise math written so that compilers vectorise it; not installed.
 *
 * In the float build exp, tanh and erf are branch-free approximations that vectorise
 * (libm's do not): exp is Cephes' range reduction and degree-6 polynomial (max relative
 * error 0.7 ulp over [-87, 88]), tanh is a 13/6 rational function (max 3 ulp), erf a 13/10
 * one (max 4.2e-7 absolute, see gt__erf). All keep NaN, exp overflows to inf and
 * underflows to 0 below -87.34 (no subnormals), and the test suite compares them with
 * libm. The double build, used for gradient checks, calls libm. */
#ifndef GT_VMATH_H
#define GT_VMATH_H

#include "../tensor/gt_tensor_impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef GT_REAL_DOUBLE

static inline gt_real gt__exp(gt_real x) { return exp(x); }
static inline gt_real gt__tanh(gt_real x) { return tanh(x); }
static inline gt_real gt__erf(gt_real x) { return erf(x); }
static inline gt_real gt__exp_nonpos(gt_real x) { return exp(x); }

#else

/* e^(x - n ln 2) by Cephes' polynomial times 2^n, x within [lo, 88.38] (lo = -87.34, the
 * least whose e^x is a normal float); NaN gives NaN */
#define GT__EXP_LO -87.3365478515625f
static inline float gt__exp_core(float v) {
    float t = v * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23 + round(v / ln 2) */
    float n = t - 12582912.0f;
    float r = v - n * 0.693359375f;
    r = r - n * -2.12194440e-4f; /* v - n ln 2 in two parts: exact for |n| <= 128 */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    uint32_t bits; /* 2^n, n in [-126, 127]: n + 127 from t's low bits, with no conversion */
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float gt__exp(float x) {
    const float hi = 88.3762626647949f, lo = GT__EXP_LO;
    float y = gt__exp_core(x > hi ? hi : x < lo ? lo : x);
    y = x > hi ? INFINITY : x < lo ? 0.0f : y;
    return x != x ? x : y;
}

/* gt__exp of x <= 0 (softmax's x - max, a normal density's -x^2 / 2), with fewer selects:
 * no overflow to handle; -inf gives 0 and NaN stays NaN (through gt__exp_core). */
static inline float gt__exp_nonpos(float x) {
    float y = gt__exp_core(x < GT__EXP_LO ? GT__EXP_LO : x);
    return x < GT__EXP_LO ? 0.0f : y;
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

/* erf as x P(x^2) / Q(x^2), P of degree 6 and Q of 5, x clamped to [-4, 4] (beyond, erf
 * rounds to +-1 in float): a rational fit (least squares reweighted toward minimax, by
 * 1 + |x| on the absolute error) with no exp, so it costs half of Abramowitz and Stegun
 * 7.1.26 with its exp and division. Error in float arithmetic: at most 4.2e-7 absolute,
 * near erf = +-1 (the rounding of the polynomials), and 2.5e-7 relative for |x| < 1, where
 * A&S's 1 - ... cancels to a 3% relative error near 0. Odd; NaN stays NaN. */
static inline float gt__erf(float x) {
    float c = x > 4.0f ? 4.0f : x < -4.0f ? -4.0f : x;
    float s = c * c;
    float p = -1.42056764e-08f;
    p = p * s + 4.89106553e-06f;
    p = p * s + 3.86320027e-04f;
    p = p * s + 3.83043976e-03f;
    p = p * s + 5.43588738e-02f;
    p = p * s + 1.84200372e-01f;
    p = p * s + 1.12837920e+00f;
    float q = 6.50486013e-05f;
    q = q * s + 1.31252595e-03f;
    q = q * s + 1.54488206e-02f;
    q = q * s + 1.13698506e-01f;
    q = q * s + 4.96577020e-01f;
    q = q * s + 1.0f;
    return c * p / q;
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
 * running total was 16. The halves and quarters as vector shuffles where the compiler has
 * them (through memory, the tree cost a quarter of cross_entropy's log-sum-exp of 96). */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define GT__HAVE_SHUFFLEVECTOR 1
#endif
#endif
#ifdef GT__HAVE_SHUFFLEVECTOR
typedef gt_real gt__lanes_8 __attribute__((vector_size(8 * sizeof(gt_real))));
typedef gt_real gt__lanes_4 __attribute__((vector_size(4 * sizeof(gt_real))));
#endif
static inline double gt__lanes_total(const gt__lanes *v) {
#ifdef GT__HAVE_SHUFFLEVECTOR
    _Static_assert(GT__LANES == 16, "the shuffles below halve 16 lanes");
    gt__lanes_8 h = __builtin_shufflevector(*v, *v, 0, 1, 2, 3, 4, 5, 6, 7) +
                    __builtin_shufflevector(*v, *v, 8, 9, 10, 11, 12, 13, 14, 15);
    gt__lanes_4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) +
                    __builtin_shufflevector(h, h, 4, 5, 6, 7);
    gt_real t[4];
    memcpy(t, &q, sizeof t);
    return (double)((t[0] + t[2]) + (t[1] + t[3]));
#else
    gt_real t[GT__LANES];
    memcpy(t, v, sizeof t);
    for (int w = GT__LANES / 2; w > 0; w /= 2)
        for (int k = 0; k < w; k++)
            t[k] += t[k + w];
    return (double)t[0];
#endif
}

/* the sum of e[0..k) in GT__LANES partial sums, in a fixed order (the tail past the last
 * whole vector in double); inlined, it takes its caller's vectors (GT__MULTIVERSION) */
static inline double gt__lane_sum(const gt_real *e, int64_t k) {
    gt__lanes acc = {0};
    int64_t j = 0;
    for (; j + GT__LANES <= k; j += GT__LANES) {
        gt__lanes v;
        GT__LOAD_LANES(v, e + j);
        acc += v;
    }
    double total = 0;
    for (; j < k; j++)
        total += e[j];
    return total + gt__lanes_total(&acc);
}

/* the sum of a[j] * b[j] over j in [0, k), as gt__lane_sum's */
static inline double gt__lane_dot(const gt_real *a, const gt_real *b, int64_t k) {
    gt__lanes acc = {0};
    int64_t j = 0;
    for (; j + GT__LANES <= k; j += GT__LANES) {
        gt__lanes u, v;
        GT__LOAD_LANES(u, a + j);
        GT__LOAD_LANES(v, b + j);
        acc += u * v;
    }
    double total = 0;
    for (; j < k; j++)
        total += (double)a[j] * b[j];
    return total + gt__lanes_total(&acc);
}

/* each lane the larger of a's and b's (b's where a's is NaN and b's is not smaller) */
#define GT__LANES_MAX(a, b)                                                                  \
    ((gt__lanes)((((gt__lanes_mask)(a)) & ((a) > (b))) | (((gt__lanes_mask)(b)) & ~((a) > (b)))))

/* the largest of x[0..k), k >= 1, in GT__LANES partial maxima; inlined, it takes its
 * caller's vectors. (A tree of shuffles over the lanes, as gt__lanes_total's, made the
 * softmax rows 5% faster but cross_entropy's log-sum-exp of 96 3% slower.) A NaN may or may
 * not come out: a row with one is NaN through its sum in the softmax family either way. */
static inline gt_real gt__lane_max(const gt_real *x, int64_t k) {
    gt_real max = x[0];
    int64_t j = 0;
    if (k >= GT__LANES) {
        gt__lanes acc;
        GT__LOAD_LANES(acc, x);
        for (j = GT__LANES; j + GT__LANES <= k; j += GT__LANES) {
            gt__lanes v;
            GT__LOAD_LANES(v, x + j);
            acc = GT__LANES_MAX(v, acc);
        }
        for (int l = 0; l < GT__LANES; l++)
            max = acc[l] > max ? acc[l] : max;
    }
    for (; j < k; j++)
        max = x[j] > max ? x[j] : max;
    return max;
}

#endif
