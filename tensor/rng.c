/* rng.c - xoshiro256** seeded by splitmix64; integer arithmetic only, so a seed gives the
 * same bits on every machine. */
#include "gt_tensor_impl.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void gt_rng_seed(gt_rng *rng, uint64_t seed) {
    uint64_t state = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&state);
}

uint64_t gt_rng_next(gt_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double gt_rng_uniform(gt_rng *rng) { return (double)(gt_rng_next(rng) >> 11) * 0x1.0p-53; }

double gt_rng_normal(gt_rng *rng) {
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - gt_rng_uniform(rng); /* (0, 1]: log stays finite */
    double u2 = gt_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

uint64_t gt_rng_below(gt_rng *rng, uint64_t n) {
    if (n <= 1)
        return 0;
    /* Modulo with rejection: draws below 2^64 mod n are redrawn, so every residue is
     * equally likely. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = gt_rng_next(rng);
        if (r >= threshold)
            return r % n;
    }
}

gt_tensor *gt_rand(int ndim, const int64_t *shape, gt_real low, gt_real high, gt_rng *rng) {
    if (!rng) {
        gt_set_error(GT_ERR_ARG, "rand: the generator is NULL");
        return NULL;
    }
    gt_tensor *t = gt_empty(ndim, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < t->numel; i++) {
        gt_real v;
        do /* u < 1, but low + (high - low) * u can round up to high in gt_real: redraw */
            v = (gt_real)(low + (high - low) * gt_rng_uniform(rng));
        while (v >= high && high > low);
        t->data[i] = v;
    }
    return t;
}

gt_tensor *gt_randn(int ndim, const int64_t *shape, gt_real mean, gt_real stddev,
                    gt_rng *rng) {
    if (!rng) {
        gt_set_error(GT_ERR_ARG, "randn: the generator is NULL");
        return NULL;
    }
    gt_tensor *t = gt_empty(ndim, shape);
    if (!t)
        return NULL;
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = (gt_real)(mean + stddev * gt_rng_normal(rng));
    return t;
}
