/* conv.c - conv1d, conv2d and conv_transpose2d as im2col + GEMM, cross-correlation with zero
 * padding as PyTorch's. One set of kernels serves the three: a conv1d is a conv2d with H = 1,
 * and conv_transpose2d's forward is conv2d's input-gradient kernel (col2im of w^T @ x), its
 * backward conv2d's forward and weight-gradient kernels.
 *
 * Images go in batch groups of G (a few hundred KB of patches, at most 16 images): a batch
 * group's patches become the columns of one matrix col[C*KH*KW, G*OH*OW] that the weights
 * multiply in one GEMM per channel group (`groups`), so even C5 (one output pixel per image)
 * is a matrix product and not a matrix-vector one. Batch groups run in parallel; each one's
 * weight and bias gradients go to a buffer of its own, summed in order afterwards, so the
 * result does not depend on the number of threads. The backward computes a group's patches
 * again rather than keeping the forward's: megabytes of patches kept for a whole batch fall
 * out of the caches, while a group's, made again, stay in L2 (faster, and less memory).
 *
 * Stride 1 (LeNet's every conv, "same" convs, dilated ones) reads a zero-padded copy of each
 * image, xpad[C, H+pt+pb, W+pl+pr]: a patch row is then a plain copy of OW values per output
 * row (patch element (i, j) of output (oy, ox) is xpad[oy + i*dh, ox + j*dw]), done in whole vectors of VEC values that may run past the row
 * (the next copy overwrites them; rows of col have VEC values of slack). The input gradient
 * can run the same way backwards: with the output gradient laid out Wp = W+pl+pr wide (zeros
 * past OW), w^T @ g gives rows that are added into a padded gradient image as one contiguous run
 * each, no bounds checked (when the wider GEMM costs less than the scattered adds it saves).
 * Other strides (and the negative end paddings of some transposed convs) go through the
 * general im2col / col2im, bounds checked.
 *
 * Small-channel stride-1 convs (LeNet's C1: one channel, 25 taps) make no patches at all
 * where a cost model says so (taps_forward, taps_weight_grad): the forward multiplies the
 * weights with the image's rows at the taps' offsets, read in place (gt__gemm_taps, the
 * GEMM's own register tiles, so the same bits as through patches), and the weight gradient
 * is, per tap row, dot products of the output gradient's rows with the image's rows under
 * the taps (gt__gemm_rows_dot). When the output rows are as wide as the image's ("same"
 * convs, dilated or not), the taps are read from the image itself, not a padded copy, under
 * lane masks that zero the taps in the padding (gt__gemm_taps_masked: flat_taps, and
 * flat_input_grad for the input gradient's taps), in whole vectors along the plane. */
#include "gt_ops_impl.h"

#include <stddef.h>
#include <string.h>

#define CONV_GROUP_BYTES (512 * 1024) /* patches of one group: about an L2 cache */
#define CONV_GROUP_MAX 16
#define VEC 16 /* values copied at once by the stride-1 path; the slack of its buffers */

/* The geometry of one conv, input [N,C,H,W] -> output [N,O,OH,OW]; for conv_transpose2d,
 * of the conv whose input gradient it is (its output is this conv's input). */
typedef struct conv_dims {
    int64_t n, c, h, w;       /* input */
    int64_t o, kh, kw;        /* weight [O, C/groups, KH, KW] */
    int64_t oh, ow;           /* output */
    int64_t sh, sw, dh, dw;   /* stride, dilation */
    int64_t pt, pl, pb, pr;   /* padding: top, left, bottom, right (pb, pr only size OH, OW;
                                 negative drops input rows the output does not reach) */
    int64_t groups;           /* channel groups: C/groups inputs to O/groups outputs each */
    int64_t p, ckk, rows;     /* output pixels; a weight row (C/groups*KH*KW); patch rows
                                 (C*KH*KW) */
    int64_t group, n_groups;  /* images per batch group, their number */
    bool fast;                /* stride 1, no negative padding: the padded path */
    int64_t hp, wp;           /* fast: the padded image, H+pt+pb by W+pl+pr */
} conv_dims;

/* The resolved per-axis arguments (axis 0 H, axis 1 W). */
typedef struct conv_geom {
    int64_t s[2], d[2], lo[2], hi[2];
    int64_t groups;
} conv_geom;

/* Batch groups of `group` images (at least 1, at most CONV_GROUP_MAX and the batch). */
static void set_group(conv_dims *d, int64_t group) {
    d->group = group < 1 ? 1 : group > CONV_GROUP_MAX ? CONV_GROUP_MAX : group;
    d->group = d->group > d->n ? d->n : d->group;
    d->n_groups = d->group ? (d->n + d->group - 1) / d->group : 0;
}

/* The dims of a conv of x[n,c,h,w] with w[o, c/groups, kh, kw]; the caller checked channels
 * and that the dilated kernel fits the padded input. */
static conv_dims dims_make(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh,
                           int64_t kw, const conv_geom *g) {
    conv_dims d = {0};
    d.n = n, d.c = c, d.h = h, d.w = w, d.o = o, d.kh = kh, d.kw = kw;
    d.sh = g->s[0], d.sw = g->s[1], d.dh = g->d[0], d.dw = g->d[1];
    d.pt = g->lo[0], d.pl = g->lo[1], d.pb = g->hi[0], d.pr = g->hi[1];
    d.groups = g->groups;
    d.oh = (h + d.pt + d.pb - d.dh * (kh - 1) - 1) / d.sh + 1;
    d.ow = (w + d.pl + d.pr - d.dw * (kw - 1) - 1) / d.sw + 1;
    d.p = d.oh * d.ow;
    d.rows = c * kh * kw;
    d.ckk = d.rows / d.groups;
    d.fast = d.sh == 1 && d.sw == 1 && d.pt >= 0 && d.pl >= 0 && d.pb >= 0 && d.pr >= 0;
    d.hp = d.fast ? h + d.pt + d.pb : 0;
    d.wp = d.fast ? w + d.pl + d.pr : 0;
    int64_t per_image = d.rows * d.p * (int64_t)sizeof(gt_real);
    set_group(&d, per_image > 0 ? CONV_GROUP_BYTES / per_image : CONV_GROUP_MAX);
    return d;
}

/* Output positions [*lo, *hi) whose input index pos * stride + offset lies in [0, size). */
static void inside_range(int64_t n_out, int64_t stride, int64_t offset, int64_t size,
                         int64_t *lo, int64_t *hi) {
    int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    int64_t end = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
    *lo = first < n_out ? first : n_out;
    *hi = end < *lo ? *lo : end > n_out ? n_out : end;
}

/* Loops rather than memset/memcpy: the rows here are a few dozen values, where a call
 * costs more than the copy (they were a fifth of a LeNet step). */
static inline void fill_zero(gt_real *to, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        to[i] = 0;
}

// x[C,H,W] -> col[C*KH*KW rows, OH*OW columns at col, row stride ld], zero outside the image;
// patch element (i, j) of output (oy, ox) is x[oy*sh - pt + i*dh, ox*sw - pl + j*dw]
GT__MULTIVERSION
static void im2col(const conv_dims *dims, const gt_real *restrict x, gt_real *restrict col,
                   int64_t ld) {
    const conv_dims local = *dims, *d = &local; /* stores cannot alias a local: loops vectorise */
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++) {
                gt_real *row = col + ((c * d->kh + i) * d->kw + j) * ld;
                int64_t lo, hi, offset = j * d->dw - d->pl;
                inside_range(d->ow, d->sw, offset, d->w, &lo, &hi);
                for (int64_t oy = 0; oy < d->oh; oy++) {
                    gt_real *out = row + oy * d->ow;
                    int64_t y = oy * d->sh - d->pt + i * d->dh;
                    if (y < 0 || y >= d->h) {
                        fill_zero(out, d->ow);
                        continue;
                    }
                    const gt_real *in = x + (c * d->h + y) * d->w;
                    fill_zero(out, lo);
                    if (d->sw == 1)
                        for (int64_t ox = lo; ox < hi; ox++)
                            out[ox] = in[ox + offset];
                    else
                        for (int64_t ox = lo; ox < hi; ox++)
                            out[ox] = in[ox * d->sw + offset];
                    fill_zero(out + hi, d->ow - hi);
                }
            }
}

// col[C*KH*KW rows, OH*OW columns at col, row stride ld] -> x[C,H,W] +=, overlaps accumulate
GT__MULTIVERSION
static void col2im_add(const conv_dims *dims, const gt_real *restrict col, int64_t ld,
                       gt_real *restrict x) {
    const conv_dims local = *dims, *d = &local;
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++) {
                const gt_real *row = col + ((c * d->kh + i) * d->kw + j) * ld;
                int64_t lo, hi, offset = j * d->dw - d->pl;
                inside_range(d->ow, d->sw, offset, d->w, &lo, &hi);
                for (int64_t oy = 0; oy < d->oh; oy++) {
                    int64_t y = oy * d->sh - d->pt + i * d->dh;
                    if (y < 0 || y >= d->h)
                        continue;
                    const gt_real *from = row + oy * d->ow;
                    gt_real *out = x + (c * d->h + y) * d->w;
                    if (d->sw == 1)
                        for (int64_t ox = lo; ox < hi; ox++)
                            out[ox + offset] += from[ox];
                    else
                        for (int64_t ox = lo; ox < hi; ox++)
                            out[ox * d->sw + offset] += from[ox];
                }
            }
}

/* Values past a padded image's last plane that the stride-1 kernels may touch: VEC read by
 * the last row's copies, (KW-1)*DW added to by col2im_padded_add's last runs. */
static int64_t padded_slack(const conv_dims *d) { return VEC + d->dw * (d->kw - 1); }

// x[C,H,W] -> xpad[C, H+pt+pb, W+pl+pr], zero around the image and in its slack
GT__MULTIVERSION
static void pad_image(const conv_dims *dims, const gt_real *restrict x, gt_real *restrict xpad) {
    const conv_dims local = *dims, *d = &local;
    int64_t plane = d->hp * d->wp;
    fill_zero(xpad, d->c * plane + padded_slack(d));
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t y = 0; y < d->h; y++) {
            gt_real *to = xpad + c * plane + (y + d->pt) * d->wp + d->pl;
            const gt_real *from = x + (c * d->h + y) * d->w;
            for (int64_t i = 0; i < d->w; i++)
                to[i] = from[i];
        }
}

// xpad[C,Hp,Wp] -> col[C*KH*KW rows, OH*OW columns at col, row stride ld], stride 1: each
// output row a copy of OW values in whole vectors, the last one spilling into what is
// written next (the next output row, the next image) or into the row's VEC of slack
GT__MULTIVERSION
static void im2col_padded(const conv_dims *dims, const gt_real *restrict xpad,
                          gt_real *restrict col, int64_t ld) {
    const conv_dims local = *dims, *d = &local;
    int64_t plane = d->hp * d->wp;
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++) {
                gt_real *row = col + ((c * d->kh + i) * d->kw + j) * ld;
                const gt_real *from = xpad + c * plane + i * d->dh * d->wp + j * d->dw;
                for (int64_t oy = 0; oy < d->oh; oy++)
                    for (int64_t x0 = 0; x0 < d->ow; x0 += VEC)
                        for (int t = 0; t < VEC; t++)
                            row[oy * d->ow + x0 + t] = from[oy * d->wp + x0 + t];
            }
}

// g[count, O, OH, OW] -> gpad[O, count*OH*Wp]: the output gradient with rows Wp wide, zero
// past OW, for the stride-1 input gradient
GT__MULTIVERSION
static void gather_images_padded(const conv_dims *dims, int64_t count, const gt_real *restrict g,
                                 gt_real *restrict gpad) {
    const conv_dims local = *dims, *d = &local;
    int64_t ld = count * d->oh * d->wp;
    for (int64_t k = 0; k < count; k++)
        for (int64_t o = 0; o < d->o; o++)
            for (int64_t oy = 0; oy < d->oh; oy++) {
                gt_real *to = gpad + o * ld + (k * d->oh + oy) * d->wp;
                const gt_real *from = g + ((k * d->o + o) * d->oh + oy) * d->ow;
                for (int64_t i = 0; i < d->ow; i++)
                    to[i] = from[i];
                fill_zero(to + d->ow, d->wp - d->ow);
            }
}

// dcol[C*KH*KW rows, OH*Wp columns at dcol, row stride ld] -> gx[C,H,W] += (add) or = 0 +,
// stride 1: each row added into a padded gradient image as one run (its columns past OW
// hold zeros, so a run crossing into the next padded row adds nothing there), then the
// image's inside
GT__MULTIVERSION
static void col2im_padded_add(const conv_dims *dims, const gt_real *restrict dcol, int64_t ld,
                              gt_real *restrict dxpad, gt_real *restrict gx, bool add) {
    const conv_dims local = *dims, *d = &local;
    int64_t plane = d->hp * d->wp, run = d->oh * d->wp;
    fill_zero(dxpad, d->c * plane + padded_slack(d));
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++) {
                gt_real *to = dxpad + c * plane + i * d->dh * d->wp + j * d->dw;
                const gt_real *from = dcol + ((c * d->kh + i) * d->kw + j) * ld;
                for (int64_t t = 0; t < run; t++)
                    to[t] += from[t];
            }
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t y = 0; y < d->h; y++) {
            gt_real *to = gx + (c * d->h + y) * d->w;
            const gt_real *from = dxpad + c * plane + (y + d->pt) * d->wp + d->pl;
            if (add)
                for (int64_t i = 0; i < d->w; i++)
                    to[i] += from[i];
            else /* 0 + : the bits of adding into zeros (-0 made +0) */
                for (int64_t i = 0; i < d->w; i++)
                    to[i] = 0 + from[i];
        }
}
// y[O, count*P] -> out[count, O, P] (+)= y + b[O] (b may be NULL): a group's product per image
GT__MULTIVERSION
static void scatter_images(const conv_dims *dims, int64_t count, const gt_real *restrict y,
                           const gt_real *restrict b, gt_real *restrict out, bool add) {
    const conv_dims local = *dims, *d = &local;
    int64_t ld = count * d->p;
    for (int64_t k = 0; k < count; k++)
        for (int64_t o = 0; o < d->o; o++) {
            gt_real *to = out + (k * d->o + o) * d->p;
            const gt_real *from = y + o * ld + k * d->p;
            gt_real bias = b ? b[o] : 0;
            if (add)
                for (int64_t i = 0; i < d->p; i++)
                    to[i] += from[i];
            else
                for (int64_t i = 0; i < d->p; i++)
                    to[i] = from[i] + bias;
        }
}

// y[O, P] += b[O]: each output channel's bias over its plane
GT__MULTIVERSION
static void add_channel_bias(int64_t o, int64_t p, const gt_real *restrict b,
                             gt_real *restrict y) {
    for (int64_t c = 0; c < o; c++) {
        const gt_real bias = b[c];
        gt_real *row = y + c * p;
        for (int64_t i = 0; i < p; i++)
            row[i] += bias;
    }
}

// g[count, O, P] -> grad[O, count*P]: a group's output gradient as one matrix
GT__MULTIVERSION
static void gather_images(const conv_dims *dims, int64_t count, const gt_real *restrict g,
                          gt_real *restrict grad) {
    const conv_dims local = *dims, *d = &local;
    int64_t ld = count * d->p;
    for (int64_t k = 0; k < count; k++)
        for (int64_t o = 0; o < d->o; o++) {
            gt_real *to = grad + o * ld + k * d->p;
            const gt_real *from = g + (k * d->o + o) * d->p;
            for (int64_t i = 0; i < d->p; i++)
                to[i] = from[i];
        }
}

// a[rows, n] -> sums[rows] (add: sums +=), in 16 interleaved partial sums (a float sum is a
// chain the compiler may not reorder; 16 independent ones vectorise), added up in a fixed order
GT__MULTIVERSION
static void sum_rows(int64_t rows, int64_t n, const gt_real *restrict a, gt_real *restrict sums,
                     bool add) {
    enum { LANES = 16 };
    for (int64_t r = 0; r < rows; r++) {
        const gt_real *row = a + r * n;
        gt_real part[LANES] = {0};
        int64_t i = 0;
        for (; i + LANES <= n; i += LANES)
            for (int l = 0; l < LANES; l++)
                part[l] += row[i + l];
        gt_real total = 0;
        for (int l = 0; l < LANES; l++)
            total += part[l];
        for (; i < n; i++)
            total += row[i];
        sums[r] = add ? sums[r] + total : total;
    }
}

/* Threads for the batch groups of a conv: its GEMMs' flops decide, as for one GEMM. */
static int group_threads(const conv_dims *d) {
    return d->n_groups > 1 ? gt__threads_for_flops(2.0 * (double)(d->n * d->o * d->ckk * d->p))
                           : 1;
}

/* What a recorded conv keeps for its backward. */
typedef struct conv_saved {
    conv_dims dims;
    int threads; /* the forward's thread count, which sized the backward's scratch */
} conv_saved;

/* Sizes, in reals, of a batch group's buffers. */
typedef struct conv_sizes {
    int64_t ld;     /* row stride of a group's patches: G*OH*OW + VEC of slack */
    int64_t col;    /* a group's patches, C*KH*KW rows of ld */
    int64_t out;    /* a group's product or gathered gradient, O rows of G*OH*OW */
    int64_t padded; /* fast: a padded image, or a gradient and w^T @ it laid Wp wide */
    int64_t pad_out, pad_col;
    int64_t grad_pad; /* taps_input_grad: an image's output gradient padded for its taps */
} conv_sizes;

#define CONV_TAPS_MAX 1024 /* taps of a weight row (C/G*KH*KW) that the offsets table holds */

static int taps_mode = -1; /* gt__conv_set_taps: -1 the model decides, 0 never, 1 always */

int gt__conv_set_taps(int mode) {
    int old = taps_mode;
    taps_mode = mode < 0 ? -1 : mode > 0;
    return old;
}

/* The lanes of whole vectors that a taps tile (gt__gemm_taps) takes along a row of `width`
 * outputs, counted twice when the row is a single vector: such a tile broadcasts one weight
 * per multiply-add, and its loads, not its multiply-adds, bound it. */
static double taps_row_lanes(int64_t width, int64_t vlen) {
    int64_t lanes = (width + vlen - 1) / vlen * vlen;
    return (double)(width <= vlen ? 2 * lanes : lanes);
}

/* The rows and columns of the output gradient padded for the input gradient's taps
 * (pad_output_grad): the input's, plus the dilated kernel's reach less one. */
static int64_t grad_pad_h(const conv_dims *d) { return d->h + d->dh * (d->kh - 1); }
static int64_t grad_pad_w(const conv_dims *d) { return d->w + d->dw * (d->kw - 1); }
/* Where the output gradient's first row and column sit in that padded gradient: the
 * dilated kernel's reach less the forward's padding (negative: cropped). */
static int64_t grad_pad_top(const conv_dims *d) { return d->dh * (d->kh - 1) - d->pt; }
static int64_t grad_pad_left(const conv_dims *d) { return d->dw * (d->kw - 1) - d->pl; }

/* Whether a stride-1 backward takes its input gradient as a stride-1 conv of the output
 * gradient, padded by the kernel's reach (pad_output_grad), with the weights flipped and
 * transposed (flip_weights), its taps read in place (gt__gemm_taps), image by image; rather
 * than w^T @ g, a patch matrix of C*KH*KW rows, added back into the image (col2im). Taps:
 * C * (O/G*KH*KW) * H * taps_row_lanes(W) lane multiply-adds an image. Patches: the
 * GEMM's CKK * O/G * OH*Wp per channel group (OH*OW when the rows are not laid Wp wide) and
 * its C*KH*KW rows of OH*Wp written, read and added back at 13 lane multiply-adds an
 * element with 64-byte vectors (fitted, 1 thread of an AMD Zen 5, to 3x3 convs of 16-64
 * channels at 14x14 and 28x28, dilated and grouped, and LeNet's C3), half that with 32-byte
 * ones: the copy takes as long, a lane multiply-add twice as long (AVX2 on the same Zen 5,
 * C3's forward and backward at batch 64: taps 1,478-1,636 us, patches 1,289-1,312; the model
 * had chosen the taps, 537,600 against 609,000, and now takes the patches, 472,500).
 * The choice changes the bits (each element sums its taps in another order), so it depends
 * on the shape and the path alone, never on the CPU's caches. On AVX-512: a 3x3 conv of
 * 32 -> 32 maps of 28x28 goes the taps way (8.3 million against 10.9; its backward
 * 13.4 -> 12.8 ms at batch 64), the grouped
 * 32 -> 64 of 4 groups (4.1 against 7.0; 11.7 -> 8.2 ms) and the dilated 16 -> 32 (4.1
 * against 5.8; 7.1 -> 6.8 ms) too; 64 -> 64 maps of 14x14 the patches' way (16.5 against
 * 9.9; taps measured 14 -> 16 ms), LeNet's C3 too (1.07 against 0.61; taps slower). */
static bool taps_input_grad(const conv_dims *d) {
    int64_t vlen = gt__gemm_vector_reals(), og = d->o / d->groups;
    if (!d->fast || vlen == 0 || og * d->kh * d->kw > CONV_TAPS_MAX || taps_mode == 0)
        return false;
    if (taps_mode == 1)
        return true;
    double taps = (double)d->c * (double)(og * d->kh * d->kw) * (double)d->h *
                  taps_row_lanes(d->w, vlen);
    bool wide = 2 * d->wp <= 3 * d->ow;
    double columns = (double)d->oh * (double)(wide ? d->wp : d->ow);
    double copy = 13.0 * (double)(vlen * (int64_t)sizeof(gt_real)) / 64.0;
    double patches = (double)d->rows * columns * ((double)og + copy);
    return taps < patches;
}

/* Whether the input gradient goes the stride-1 way, with the output gradient Wp wide: its
 * GEMM then does Wp/OW times the work, worth it up to about 1.5 (LeNet's C1 1.14,
 * C3 1.4; not C5, whose one output column would be five). */
static bool wide_input_grad(const conv_dims *d) {
    return d->fast && 2 * d->wp <= 3 * d->ow && !taps_input_grad(d);
}

/* n reals rounded up to whole cache lines (64 bytes), so that the buffers after them and the
 * rows of a patch matrix start on one: a GEMM's vector loads then never straddle two lines. */
static int64_t lines_of(int64_t n) {
    int64_t per_line = 64 / (int64_t)sizeof(gt_real);
    return (n + per_line - 1) / per_line * per_line;
}

/* The row stride of the patches of `count` images: their columns and VEC of slack, in whole
 * cache lines. */
static int64_t patch_ld(const conv_dims *d, int64_t count) { return lines_of(count * d->p + VEC); }

static conv_sizes sizes_of(const conv_dims *d) {
    conv_sizes z = {0};
    z.ld = patch_ld(d, d->group);
    z.col = d->rows * z.ld;
    z.out = lines_of(d->o * d->group * d->p);
    if (d->fast)
        z.padded = lines_of(d->c * d->hp * d->wp + padded_slack(d));
    if (wide_input_grad(d)) {
        z.pad_out = lines_of(d->o * d->group * d->oh * d->wp);
        z.pad_col = lines_of(d->rows * d->group * d->oh * d->wp);
    }
    if (taps_input_grad(d))
        z.grad_pad = lines_of(d->o * grad_pad_h(d) * grad_pad_w(d));
    return z;
}

/* The forward's scratch, per thread: a product, a padded image, patches. */
static int64_t forward_per_thread(const conv_dims *d) {
    conv_sizes z = sizes_of(d);
    return z.out + z.padded + z.col;
}

static bool taps_forward(const conv_dims *d);
static bool flat_taps(const conv_dims *d);
static bool flat_input_grad(const conv_dims *d);

/* The forward's scratch in bytes: each thread's (forward_per_thread), then, when a taps
 * forward reads its image without padding (flat_taps), from *shared_at (64-byte aligned)
 * the weights transposed, O*CKK reals in whole cache lines, and the taps' masks. */
static size_t forward_scratch_bytes(const conv_dims *d, int threads, size_t *shared_at) {
    size_t at = (gt__real_bytes(threads * forward_per_thread(d)) + 63) & ~(size_t)63;
    if (shared_at)
        *shared_at = at;
    if (!taps_forward(d) || !flat_taps(d))
        return at;
    return at + gt__real_bytes(lines_of(d->o * d->ckk)) +
           (size_t)gt__gemm_tap_masks_bytes(d->p, d->kh * d->kw);
}

/* The backward takes the batch groups in chunks, runs of consecutive groups that one thread
 * does in order, adding the weight and bias gradients of the run into a buffer of its own
 * (the chunk's part); the parts are added up in chunk order afterwards. The chunks depend on
 * the batch alone, so the sums do not depend on the number of threads; a few of them (not
 * one per group) keep the parts in the caches and their final sum short. */
#define CONV_CHUNKS_MAX 16

static int64_t chunks_of(const conv_dims *d) {
    return d->n_groups < CONV_CHUNKS_MAX ? d->n_groups : CONV_CHUNKS_MAX;
}

/* Reals of a chunk's part: grad_w transposed, per channel group [C/G*KH*KW, O/G], then
 * grad_b[O]. */
static int64_t part_reals(const conv_dims *d) { return lines_of(d->o * d->ckk + d->o); }

/* The backward's scratch, per thread: a gathered gradient, a patch matrix (made again, or
 * w^T @ g), and for the fast path a padded image and the gradient laid Wp wide, or padded
 * for the input gradient's taps; then (from *parts_at, 64-byte aligned) each chunk's part,
 * and after them, for the input gradient's taps, the flipped weights (flip_weights) and,
 * when it reads the output gradient under masks (flat_input_grad), their masks, 64-byte
 * aligned. */
static int64_t backward_per_thread(const conv_dims *d) {
    conv_sizes z = sizes_of(d);
    return z.out + (z.col > z.pad_col ? z.col : z.pad_col) + z.padded + z.pad_out + z.grad_pad;
}

static size_t backward_scratch_bytes(const conv_dims *d, int threads, size_t *parts_at) {
    size_t per_thread = gt__real_bytes(threads * backward_per_thread(d));
    size_t at = (per_thread + 63) & ~(size_t)63;
    if (parts_at)
        *parts_at = at;
    int64_t flipped = taps_input_grad(d) ? lines_of(d->o * d->ckk) : 0;
    size_t masks = flat_input_grad(d) ? (size_t)gt__gemm_tap_masks_bytes(d->h * d->w,
                                                                          d->kh * d->kw) : 0;
    return at + gt__real_bytes(chunks_of(d) * part_reals(d) + flipped) + masks;
}

/* A group's patches: through a padded copy of each image on the fast path. */
static void group_patches(const conv_dims *d, const gt_real *x, int64_t count, gt_real *col,
                          int64_t ld, gt_real *padded) {
    int64_t image_in = d->c * d->h * d->w;
    for (int64_t k = 0; k < count; k++)
        if (d->fast) {
            pad_image(d, x + k * image_in, padded);
            im2col_padded(d, padded, col + k * d->p, ld);
        } else {
            im2col(d, x + k * image_in, col + k * d->p, ld);
        }
}

/* A kernel that covers the whole unpadded input (LeNet's C5: 5x5 on 5x5) has one output
 * pixel per image, and its patches are the images themselves: the conv is then a linear
 * layer, x[N, C*H*W] @ w[O, C*H*W]^T, computed as one without any patch matrix. */
static bool full_window(const conv_dims *d) {
    return d->groups == 1 && d->pt == 0 && d->pl == 0 && d->oh == 1 && d->ow == 1 &&
           d->kh == d->h && d->kw == d->w && d->dh == 1 && d->dw == 1;
}

// x[N, CKK] @ w[O, CKK]^T (+ b[O]) -> y[N, O] (y[N,O,1,1]); add: y += the product
static void dense_forward(const conv_dims *d, const gt_real *x, const gt_real *w,
                          const gt_real *b, gt_real *y, bool add) {
    gt__gemm(false, true, d->n, d->o, d->ckk, 1, x, d->ckk, w, d->ckk, add ? 1 : 0, y, d->o);
    for (int64_t i = 0; b && i < d->n; i++)
        for (int64_t o = 0; o < d->o; o++)
            y[i * d->o + o] += b[o];
}

// g[N, O] -> grad_w[O, CKK] += g^T @ x, grad_x[N, CKK] += g @ w, grad_b[O] += sum over N;
// bit i of write (x, w, b): that gradient is written (=), not added into
static void dense_backward(const conv_dims *d, const gt_real *x, const gt_real *w,
                           const gt_real *g, gt_real *grad_x, gt_real *grad_w, gt_real *grad_b,
                           unsigned write) {
    if (grad_w)
        gt__gemm(true, false, d->o, d->ckk, d->n, 1, g, d->o, x, d->ckk, write & 2u ? 0 : 1,
                 grad_w, d->ckk);
    if (grad_x)
        gt__gemm(false, false, d->n, d->ckk, d->o, 1, g, d->o, w, d->ckk, write & 1u ? 0 : 1,
                 grad_x, d->ckk);
    if (grad_b && (write & 4u))
        fill_zero(grad_b, d->o);
    for (int64_t i = 0; grad_b && i < d->n; i++)
        for (int64_t o = 0; o < d->o; o++)
            grad_b[o] += g[i * d->o + o];
}

/* One group's share of a forward: its patches, one product per channel group, the images
 * out. */
typedef struct forward_job {
    const conv_dims *d;
    const conv_sizes *z;
    const gt_real *x, *w, *b; /* b may be NULL */
    gt_real *out, *scratch;   /* scratch: per_thread reals for each thread */
    int64_t per_thread;
    const gt_real *wt;        /* flat_taps: the weights transposed per group; else NULL */
    const void *masks;        /* flat_taps: the taps' masks; else NULL */
    bool add;                 /* out += the conv (no bias) */
} forward_job;

static void forward_group(const void *job_ptr, int64_t g, int tid) {
    const forward_job *job = job_ptr;
    const conv_dims *d = job->d;
    int64_t first = g * d->group, count = d->n - first < d->group ? d->n - first : d->group;
    int64_t n = count * d->p, ld = patch_ld(d, count), og = d->o / d->groups;
    gt_real *y = job->scratch + tid * job->per_thread, *padded = y + job->z->out;
    gt_real *col = padded + job->z->padded;
    group_patches(d, job->x + first * d->c * d->h * d->w, count, col, ld, padded);
    gt_real *out = job->out + first * d->o * d->p;
    bool direct = count == 1; /* one image's product is already [O, OH*OW]: straight to out */
    for (int64_t cg = 0; cg < d->groups; cg++) // w_g[O/G, CKK] @ col_g[CKK, n]
        gt__gemm(false, false, og, n, d->ckk, 1, job->w + cg * og * d->ckk, d->ckk,
                 col + cg * d->ckk * ld, ld, direct && job->add ? 1 : 0,
                 (direct ? out : y) + cg * og * n, n);
    if (!direct)
        scatter_images(d, count, y, job->b, out, job->add);
    else if (job->b)
        add_channel_bias(d->o, d->p, job->b, out);
}

/* ---- the taps path: a forward without patches ---------------------------------------------- */

/* Whether a stride-1 forward reads its taps in place (gt__gemm_taps: each output row's OW
 * columns a product of the weights with the image's rows at the taps' offsets) rather than
 * copying patches for one GEMM over a group of images. Both give the same bits (the same
 * register tiles sum each output over the same taps in the same order), so the choice, a
 * model of the costs per image in multiply-adds of one vector lane, changes the speed
 * alone. Patches: the product's O*CKK*P, and each of the C*KH*KW*P patch elements written
 * and read again at the cost of 2 lane multiply-adds when one image's patches fit in half
 * the L1 data cache, 4 when they spill to L2. Taps: O*CKK*OH times taps_row_lanes(OW).
 * LeNet's C1 (1 -> 6 maps of 28x28, 25 taps) goes the taps way on AVX-512 and
 * AVX2, 134,400 against 196,000; C3 (6 -> 16 maps of 10x10, 150 taps) the patches' way,
 * 768,000 against 300,000. */
static bool taps_forward(const conv_dims *d) {
    int vlen = gt__gemm_vector_reals();
    if (!d->fast || vlen == 0 || d->ckk > CONV_TAPS_MAX || taps_mode == 0)
        return false;
    if (taps_mode == 1)
        return true;
    double lanes = flat_taps(d) ? taps_row_lanes(d->p, vlen)
                                : (double)d->oh * taps_row_lanes(d->ow, vlen);
    double taps = (double)d->o * (double)d->ckk * lanes;
    double patch_bytes = (double)(d->rows * d->p) * (double)sizeof(gt_real);
    double copy = patch_bytes <= (double)gt__cache_bytes(1, 32 * 1024) / 2 ? 2 : 4;
    return taps < (double)d->p * ((double)(d->o * d->ckk) + copy * (double)d->rows);
}

/* Whether a taps product (gt__gemm_taps) had better read its image in place, without a
 * padded copy, its outputs one run of rows*width (gt__gemm_taps_masked, whose masks zero
 * the taps in the padding): M rows of A in each of `groups` groups, K taps (`taps` of them
 * a kernel), `copied` elements in the padded copy, for a batch of n. The same bits either
 * way (the same tiles sum the same taps, a tap in the padding a zero either way), in whole
 * vectors along the plane rather than along each row: 784 outputs of a 28 x 28 map take 49
 * vectors of 16 rather than 28 rows of 2. In lane multiply-adds per image, it saves
 * M*K*groups times those lanes and the padded copy (2 an element), and costs about one more
 * row for each row tile (the masks' loads, per tap and vector); the masks, made once a call,
 * cost 20 vectors each (2.5 ns), and may take no more memory than the copy they replace
 * (AVX2's masks are vectors: a 25-tap kernel's take 25 times its image's plane). Measured on
 * 1 thread of an AMD Zen 5, 64 images: a 3x3
 * conv of 16 -> 32 maps of 28x28, dilated 2, 2.85 -> 2.45 ms; 5x5 convs of one 28x28 map
 * to 4, 6, 8, 12, 16 maps (LeNet's C1 has 6), 72 -> 86, 93 -> 98, 124 -> 123, 183 -> 174,
 * 247 -> 234 us. */
static bool flat_pays(int64_t n, int64_t m, int64_t groups, int64_t k, int64_t rows,
                      int64_t width, int64_t copied, int64_t taps) {
    int64_t vlen = gt__gemm_vector_reals(), mr = gt__gemm_tile_rows();
    int64_t row_tiles = groups * ((m + mr - 1) / mr), plane = rows * width;
    double flat = taps_row_lanes(plane, vlen);
    double lanes = (double)rows * taps_row_lanes(width, vlen) - flat;
    double saved = (double)(groups * m * k) * lanes + 2.0 * (double)copied -
                   (double)(row_tiles * k) * flat;
    double masks = (double)((plane + vlen - 1) / vlen * taps) * 20.0 * (double)vlen;
    bool fits = gt__gemm_tap_masks_bytes(plane, taps) <= (int64_t)gt__real_bytes(copied);
    return fits && saved > 0 && (double)n * saved > masks;
}

/* Whether the masks of a conv's taps can be made: output rows as wide as the image's
 * (stride 1, a row's padding the dilated kernel's reach), a path with masked taps tiles. */
static bool flat_fits(const conv_dims *d) {
    return d->fast && d->ow == d->w && d->kh <= GT__TAP_MASKS_MAX_SIDE &&
           d->kw <= GT__TAP_MASKS_MAX_SIDE && gt__gemm_tap_masks_bytes(d->p, d->kh * d->kw) > 0;
}

/* Whether a taps forward (taps_forward) reads its image in place under masks (flat_pays). */
static bool flat_taps(const conv_dims *d) {
    return flat_fits(d) && flat_pays(d->n, d->o / d->groups, d->groups, d->ckk, d->oh, d->ow,
                                     d->c * d->hp * d->wp, d->kh * d->kw);
}

/* Whether the input gradient's taps (taps_input_grad) read the output gradient in place
 * under masks (gt__gemm_taps_masked), as flat_taps for the forward: the conv of the output
 * gradient [O, OH, OW] that gives the input gradient [C, H, W] is as wide as it (W = OW),
 * and its padded copy (pad_output_grad) is saved. The same bits as the padded taps. */
static bool flat_input_grad(const conv_dims *d) {
    int64_t og = d->o / d->groups;
    return taps_input_grad(d) && flat_fits(d) &&
           flat_pays(d->n, d->c / d->groups, d->groups, og * d->kh * d->kw, d->h, d->w,
                     d->o * grad_pad_h(d) * grad_pad_w(d), d->kh * d->kw);
}

/* The masks of a flat taps product (flat_pays) whose outputs are a plane rows x W and its
 * image in_rows x W: tap (i, j) of output (y, x) reads the image at row y + i*DH - top,
 * column x + j*DW - left. */
static void flat_masks(const conv_dims *d, int64_t rows, int64_t in_rows, int64_t top,
                       int64_t left, void *masks) {
    int64_t dy[GT__TAP_MASKS_MAX_SIDE], dx[GT__TAP_MASKS_MAX_SIDE];
    for (int64_t i = 0; i < d->kh; i++)
        dy[i] = i * d->dh - top;
    for (int64_t j = 0; j < d->kw; j++)
        dx[j] = j * d->dw - left;
    gt__gemm_tap_masks(rows, d->w, in_rows, d->kh, dy, d->kw, dx, masks);
}

// w[O, CKK] -> wt[G][CKK, O/G], each group's weights transposed (gt__gemm_taps_masked's
// A), and the masks of a flat taps forward (flat_taps)
static void flat_taps_prepare(const conv_dims *d, const gt_real *w, gt_real *wt, void *masks) {
    int64_t og = d->o / d->groups;
    for (int64_t cg = 0; cg < d->groups; cg++)
        for (int64_t i = 0; i < og; i++)
            for (int64_t k = 0; k < d->ckk; k++)
                wt[(cg * d->ckk + k) * og + i] = w[(cg * og + i) * d->ckk + k];
    flat_masks(d, d->oh, d->h, d->pt, d->pl, masks);
}

/* The offsets of the taps of a weight row over `channels` planes `plane` apart, rows wp
 * wide: tap (c, i, j) at c*plane + i*dh*wp + j*dw, in the weight row's order. */
static void taps_offsets(const conv_dims *d, int64_t channels, int64_t plane, int64_t wp,
                         int64_t *off) {
    int64_t k = 0;
    for (int64_t c = 0; c < channels; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++)
                off[k++] = c * plane + i * d->dh * wp + j * d->dw;
}

/* Fetches n reals at p into L2 ahead of a flat product (flat_pays), whose tiles read all
 * of an image's channels a few vectors at a time, which the hardware prefetchers do not
 * follow (1.15x at 16 channels of 28x28; unfetched, the masked loads miss). */
static void prefetch_image(const gt_real *p, int64_t n) {
    for (int64_t i = 0; i < n; i += 64 / (int64_t)sizeof(gt_real))
        __builtin_prefetch(p + i, 0, 2);
}

/* The taps of a flat product (flat_pays) over `channels` planes of rows W wide:
 * taps_offsets less `shift` (the reach of the padding above and left of the first output),
 * and each tap's place in its kernel (the masks' slot). */
static void flat_offsets(const conv_dims *d, int64_t channels, int64_t plane, int64_t shift,
                         int64_t *off, int32_t *slot) {
    taps_offsets(d, channels, plane, d->w, off);
    for (int64_t k = 0; k < channels * d->kh * d->kw; k++)
        off[k] -= shift, slot[k] = (int32_t)(k % (d->kh * d->kw));
}

// x[C,H,W] -> y[O,OH*OW] = w @ taps (+ y when add), the image read in place under masks
// (flat_taps): tap (c, i, j) of output p at x[c*H*W + p + (i*DH - PT)*W + j*DW - PL]
static void forward_image_flat(const forward_job *job, const gt_real *x, gt_real *y) {
    const conv_dims *d = job->d;
    int64_t off[CONV_TAPS_MAX];
    int32_t slot[CONV_TAPS_MAX];
    prefetch_image(x, d->c * d->h * d->w);
    flat_offsets(d, d->c / d->groups, d->h * d->w, d->pt * d->w + d->pl, off, slot);
    int64_t plane = d->h * d->w, og = d->o / d->groups, cg_in = d->c / d->groups;
    for (int64_t cg = 0; cg < d->groups; cg++) // wt_g[CKK, O/G]^T @ taps
        gt__gemm_taps_masked(og, d->p, d->ckk, job->wt + cg * d->ckk * og, og,
                             x + cg * cg_in * plane, off, slot, job->masks, d->kh * d->kw,
                             job->add, y + cg * og * d->p, d->p);
}

// x[C,H,W] -> y[O,OH,OW] = w @ taps + b (add: y += w @ taps): one image on the taps path,
// read in place (flat_taps, or no padding), or from a padded copy
static void forward_image_taps(const forward_job *job, const gt_real *x, gt_real *y,
                               gt_real *padded) {
    const conv_dims *d = job->d;
    const gt_real *image = x;
    int64_t plane = d->h * d->w, wp = d->w, off[CONV_TAPS_MAX];
    int64_t og = d->o / d->groups, cg_in = d->c / d->groups;
    if (job->masks) {
        forward_image_flat(job, x, y);
    } else {
        if (d->pt || d->pl || d->pb || d->pr) {
            pad_image(d, x, padded);
            image = padded, plane = d->hp * d->wp, wp = d->wp;
        }
        taps_offsets(d, cg_in, plane, wp, off);
        for (int64_t cg = 0; cg < d->groups; cg++) // w_g[O/G, CKK] @ taps, a row at a time
            gt__gemm_taps(og, d->oh, d->ow, d->ckk, job->w + cg * og * d->ckk, d->ckk,
                          image + cg * cg_in * plane, off, wp, job->add, y + cg * og * d->p,
                          d->p);
    }
    if (job->b)
        add_channel_bias(d->o, d->p, job->b, y);
}

static void forward_image(const void *job_ptr, int64_t k, int tid) {
    const forward_job *job = job_ptr;
    const conv_dims *d = job->d;
    forward_image_taps(job, job->x + k * d->c * d->h * d->w, job->out + k * d->o * d->p,
                       job->scratch + tid * job->per_thread + job->z->out);
}

/* Runs fn over the groups on up to `threads` threads of the library's pool. */
static void run_groups(int64_t n_groups, int threads, gt__part_fn *fn, const void *job) {
    gt__parallel_parts(n_groups, threads, fn, job);
}

// x[N,C,H,W] * w[O,C/G,KH,KW] + b[O] -> y[N,O,OH,OW] (add: y += the conv, b unused);
// scratch: forward_scratch_bytes (none for a full window)
static void conv_forward_kernel(const conv_dims *d, int threads, gt_real *scratch,
                                const gt_real *x, const gt_real *w, const gt_real *b,
                                gt_real *y, bool add) {
    if (full_window(d)) {
        dense_forward(d, x, w, add ? NULL : b, y, add);
        return;
    }
    conv_sizes z = sizes_of(d);
    forward_job job = {d, &z, x, w, add ? NULL : b, y, scratch, forward_per_thread(d), NULL,
                       NULL, add};
    if (!taps_forward(d)) {
        run_groups(d->n_groups, threads, forward_group, &job);
        return;
    }
    if (flat_taps(d)) {
        size_t at;
        forward_scratch_bytes(d, threads, &at);
        gt_real *wt = (gt_real *)((char *)scratch + at), *masks = wt + lines_of(d->o * d->ckk);
        flat_taps_prepare(d, w, wt, masks);
        job.wt = wt, job.masks = masks;
    }
    run_groups(d->n, threads, forward_image, &job); /* images, not groups: no patches to share */
}

/* One group's share of a backward: its images' input gradients, and its weight and bias
 * gradients added into its chunk's part (stored there by the chunk's first group). */
typedef struct backward_job {
    const conv_dims *d;
    const conv_sizes *z;
    const gt_real *x, *w;
    const gt_real *g;      /* the output gradient */
    gt_real *grad_x, *grad_w, *grad_b; /* NULL when not needed */
    gt_real *scratch;      /* per_thread reals for each thread */
    gt_real *parts;        /* per chunk: part_reals */
    gt_real *flipped;      /* taps_input_grad: flip_weights of w */
    const void *masks;     /* flat_input_grad: the masks of its taps; else NULL */
    int64_t per_thread;
    bool write_x;          /* grad_x is stale: written whole, not added into */
} backward_job;

/* Whether a stride-1 backward takes its weight gradient from the image and the output
 * gradient read in place, image by image (weight_grad_taps), rather than from patches made
 * again for a group. Per image, in lane multiply-adds: taps, the path's vectors along each
 * output row, counted twice (a dot tile loads both its operands and sums its lanes at the
 * end: measured at half the rate of the GEMM's outer tiles); patches, the GEMM's O*CKK*P
 * and the C*KH*KW*P patch elements copied at 13 each (taps_input_grad's AVX-512 figure, not
 * halved here for AVX2: LeNet's C1 kept its taps there, 467-471 us forward and backward at
 * batch 64 against 534-542 through patches, 1 thread of the Zen 5). Unlike the
 * forward's, this choice changes the bits (each sum runs over an image's output rows, not
 * over a group's patch columns), so it depends on the shape and the path alone, never on
 * this CPU's caches: a path gives the same bits on every CPU. On AVX-512 and AVX2, LeNet's
 * C1 goes the taps way (268,800 against 372,400; 300 -> 210 us at batch 64 on 1 thread of
 * an AMD Zen 5), C3 the patches' (768,000 against 435,000), and so do 3x3 convs of 16-32
 * channels at 28x28 (a grouped 32 -> 64 of 4 groups: 8.3 million against 6.5; taps
 * measured 1.5x slower); the portable path, without dot tiles, always the patches'. */
static bool taps_weight_grad(const conv_dims *d) {
    if (!d->fast || taps_mode == 0 || !gt__gemm_has_rows_dot())
        return false;
    if (taps_mode == 1)
        return true;
    int64_t vlen = gt__gemm_vector_reals(), lanes = (d->ow + vlen - 1) / vlen * vlen;
    double taps = 2.0 * (double)d->o * (double)d->ckk * (double)(d->oh * lanes);
    return taps < (double)d->p * ((double)(d->o * d->ckk) + 13.0 * (double)d->rows);
}

// x[C,H,W] and g[O,OH,OW] of one image -> part: grad_w^T[C/G*KH*KW, O/G] per channel group,
// then grad_b[O], stored (store: the chunk's first image) or added. Each tap's weight
// gradient is a dot product of the output gradient's rows with the image's rows under the
// tap, read in place: KW taps of a kernel row at once (rows dw apart)
static void weight_grad_taps(const backward_job *job, int64_t image, gt_real *part, bool store,
                             gt_real *padded) {
    const conv_dims *d = job->d;
    const gt_real *g = job->g + image * d->o * d->p;
    const gt_real *x = job->grad_w ? job->x + image * d->c * d->h * d->w : NULL;
    int64_t plane = d->h * d->w, wp = d->w, og = d->o / d->groups, cg_in = d->c / d->groups;
    if (job->grad_w && (d->pt || d->pl || d->pb || d->pr)) {
        pad_image(d, x, padded);
        x = padded, plane = d->hp * d->wp, wp = d->wp;
    }
    for (int64_t cg = 0; job->grad_w && cg < d->groups; cg++)
        for (int64_t c = 0; c < cg_in; c++)
            for (int64_t i = 0; i < d->kh; i++) // taps (c, i, 0..KW) x maps of the group
                gt__gemm_rows_dot(d->kw, og, d->oh, d->ow, x + (cg * cg_in + c) * plane +
                                  i * d->dh * wp, d->dw, wp, g + cg * og * d->p, d->p, d->ow,
                                  !store, part + cg * d->ckk * og + (c * d->kh + i) * d->kw * og,
                                  og);
    if (job->grad_b)
        sum_rows(d->o, d->p, g, part + d->o * d->ckk, !store);
}

// w[O, C/G, KH, KW] -> f[C, O/G*KH*KW], per channel group: f[c][(o*KH + i)*KW + j] =
// w[o][c][KH-1-i][KW-1-j] (o and c within the group): the weights of the conv of the output
// gradient that gives the input gradient; each group's transposed, [O/G*KH*KW, C/G], for
// gt__gemm_taps_masked when `transposed` (flat_input_grad)
static void flip_weights(const conv_dims *d, const gt_real *w, bool transposed, gt_real *f) {
    int64_t og = d->o / d->groups, cg_in = d->c / d->groups, kk = d->kh * d->kw;
    for (int64_t cg = 0; cg < d->groups; cg++)
        for (int64_t c = 0; c < cg_in; c++)
            for (int64_t o = 0; o < og; o++) {
                const gt_real *from = w + ((cg * og + o) * cg_in + c) * kk;
                gt_real *group = f + cg * cg_in * og * kk;
                for (int64_t t = 0; t < kk; t++)
                    group[transposed ? (o * kk + t) * cg_in + c : (c * og + o) * kk + t] =
                        from[kk - 1 - t];
            }
}

// g[O,OH,OW] -> gpad[O, H+dh*(KH-1), W+dw*(KW-1)]: output row oy at row oy + dh*(KH-1) - pt,
// column ox at ox + dw*(KW-1) - pl, zero around; what falls outside (padding wider than the
// kernel's reach) is dropped
GT__MULTIVERSION
static void pad_output_grad(const conv_dims *dims, const gt_real *restrict g,
                            gt_real *restrict gpad) {
    const conv_dims local = *dims, *d = &local;
    int64_t hg = grad_pad_h(d), wg = grad_pad_w(d), plane = hg * wg;
    int64_t top = grad_pad_top(d), left = grad_pad_left(d);
    int64_t y0 = top < 0 ? -top : 0, y1 = d->oh < hg - top ? d->oh : hg - top;
    int64_t x0 = left < 0 ? -left : 0, x1 = d->ow < wg - left ? d->ow : wg - left;
    fill_zero(gpad, d->o * plane);
    for (int64_t o = 0; o < d->o; o++)
        for (int64_t oy = y0; oy < y1; oy++) {
            gt_real *to = gpad + o * plane + (oy + top) * wg + left;
            const gt_real *from = g + (o * d->oh + oy) * d->ow;
            for (int64_t i = x0; i < x1; i++)
                to[i] = from[i];
        }
}

// g[O,OH,OW] of one image -> grad_x[C,H,W] (+)= the stride-1 conv of the output gradient,
// padded, with the flipped weights, its taps read in place (taps_input_grad): from a padded
// copy, or from g itself under masks (flat_input_grad, as forward_image_flat)
static void input_grad_taps(const backward_job *job, int64_t image, gt_real *gpad) {
    const conv_dims *d = job->d;
    int64_t wg = grad_pad_w(d), plane = grad_pad_h(d) * wg, image_in = d->c * d->h * d->w;
    int64_t og = d->o / d->groups, cg_in = d->c / d->groups, kk = og * d->kh * d->kw;
    int64_t off[CONV_TAPS_MAX];
    const gt_real *g = job->g + image * d->o * d->p;
    gt_real *gx = job->grad_x + image * image_in;
    if (job->masks) {
        int32_t slot[CONV_TAPS_MAX];
        prefetch_image(g, d->o * d->p);
        flat_offsets(d, og, d->p, grad_pad_top(d) * d->ow + grad_pad_left(d), off, slot);
        for (int64_t cg = 0; cg < d->groups; cg++) // f_g^T[O/G*KH*KW, C/G]^T @ taps of g_g
            gt__gemm_taps_masked(cg_in, d->h * d->w, kk, job->flipped + cg * cg_in * kk, cg_in,
                                 g + cg * og * d->p, off, slot, job->masks, d->kh * d->kw,
                                 !job->write_x, gx + cg * cg_in * d->h * d->w, d->h * d->w);
        return;
    }
    pad_output_grad(d, g, gpad);
    taps_offsets(d, og, plane, wg, off);
    for (int64_t cg = 0; cg < d->groups; cg++) // f_g[C/G, O/G*KH*KW] @ taps of gpad_g
        gt__gemm_taps(cg_in, d->h, d->w, kk, job->flipped + cg * cg_in * kk, kk,
                      gpad + cg * og * plane, off, wg, !job->write_x,
                      gx + cg * cg_in * d->h * d->w, d->h * d->w);
}

static void backward_group(const backward_job *job, int64_t g, int tid, gt_real *part,
                           bool first_of_chunk) {
    const conv_dims *d = job->d;
    const conv_sizes *z = job->z;
    int64_t first = g * d->group, count = d->n - first < d->group ? d->n - first : d->group;
    int64_t n = count * d->p, ld = patch_ld(d, count), image_in = d->c * d->h * d->w, og = d->o / d->groups;
    gt_real *gathered = job->scratch + tid * job->per_thread;
    gt_real *scratch = gathered + z->out; /* patches, or w^T @ g */
    gt_real *padded = scratch + (z->col > z->pad_col ? z->col : z->pad_col);
    gt_real *grad_wide = padded + z->padded, *grad_pad = grad_wide + z->pad_out;
    const gt_real *g_out = job->g + first * d->o * d->p;
    const gt_real *grad = g_out; /* one image's gradient is already [O, OH*OW] */
    bool taps = taps_weight_grad(d), wide_x = job->grad_x && wide_input_grad(d);
    bool taps_x = job->grad_x && taps_input_grad(d);
    if (count > 1 && (!taps || (job->grad_x && !wide_x && !taps_x))) {
        gather_images(d, count, g_out, gathered);
        grad = gathered;
    }
    for (int64_t k = 0; taps && (job->grad_w || job->grad_b) && k < count; k++)
        weight_grad_taps(job, first + k, part, first_of_chunk && k == 0, padded);
    if (job->grad_w && !taps) {
        group_patches(d, job->x + first * image_in, count, scratch, ld, padded);
        /* transposed, so that the GEMM packs the small g_g^T and not the patches */
        for (int64_t cg = 0; cg < d->groups; cg++) // col_g[CKK, n] @ g_g[O/G, n]^T
            gt__gemm(false, true, d->ckk, og, n, 1, scratch + cg * d->ckk * ld, ld,
                     grad + cg * og * n, n, first_of_chunk ? 0 : 1, part + cg * d->ckk * og,
                     og);
    }
    if (job->grad_b && !taps)
        sum_rows(d->o, n, grad, part + d->o * d->ckk, !first_of_chunk);
    if (taps_x) {
        for (int64_t k = 0; k < count; k++)
            input_grad_taps(job, first + k, grad_pad);
    } else if (wide_x) {
        int64_t wide = count * d->oh * d->wp;
        gather_images_padded(d, count, g_out, grad_wide);
        for (int64_t cg = 0; cg < d->groups; cg++) // w_g^T @ g_g, rows Wp wide
            gt__gemm(true, false, d->ckk, wide, og, 1, job->w + cg * og * d->ckk, d->ckk,
                     grad_wide + cg * og * wide, wide, 0, scratch + cg * d->ckk * wide, wide);
        for (int64_t k = 0; k < count; k++)
            col2im_padded_add(d, scratch + k * d->oh * d->wp, wide, padded,
                              job->grad_x + (first + k) * image_in, !job->write_x);
    } else if (job->grad_x) {
        for (int64_t cg = 0; cg < d->groups; cg++) // w_g[O/G, CKK]^T @ g_g[O/G, n]
            gt__gemm(true, false, d->ckk, n, og, 1, job->w + cg * og * d->ckk, d->ckk,
                     grad + cg * og * n, n, 0, scratch + cg * d->ckk * n, n);
        for (int64_t k = 0; k < count; k++)
            col2im_add(d, scratch + k * d->p, n, job->grad_x + (first + k) * image_in);
    }
}

static void backward_chunk(const void *job_ptr, int64_t chunk, int tid) {
    const backward_job *job = job_ptr;
    int64_t first, count;
    gt__split_even(job->d->n_groups, chunks_of(job->d), chunk, &first, &count);
    for (int64_t g = first; g < first + count; g++)
        backward_group(job, g, tid, job->parts + chunk * part_reals(job->d), g == first);
}

// g[N,O,OH,OW] -> grad_w += g @ col^T, grad_x += col2im(w^T @ g), grad_b += sum g, by batch
// group (each of grad_x, grad_w, grad_b may be NULL); bit i of write (x, w, b): that gradient
// is stale and written (=) instead, for x only where each image's is written once (the wide
// way); scratch: backward_scratch_bytes
static void conv_backward_kernel(const conv_dims *d, int threads, gt_real *scratch,
                                 const gt_real *x, const gt_real *w, const gt_real *g,
                                 gt_real *grad_x, gt_real *grad_w, gt_real *grad_b,
                                 unsigned write) {
    if (full_window(d)) {
        dense_backward(d, x, w, g, grad_x, grad_w, grad_b, write);
        return;
    }
    if (!scratch) /* an empty batch: nothing to do */
        return;
    bool write_x = (write & 1u) && (wide_input_grad(d) || taps_input_grad(d));
    conv_sizes z = sizes_of(d);
    size_t parts_at;
    backward_scratch_bytes(d, threads, &parts_at);
    gt_real *parts = (gt_real *)((char *)scratch + parts_at);
    gt_real *flipped = grad_x && taps_input_grad(d) ? parts + chunks_of(d) * part_reals(d) : NULL;
    bool flat = flipped && flat_input_grad(d);
    gt_real *masks = flat ? flipped + lines_of(d->o * d->ckk) : NULL;
    if (flipped)
        flip_weights(d, w, flat, flipped);
    if (flat)
        flat_masks(d, d->h, d->oh, grad_pad_top(d), grad_pad_left(d), masks);
    backward_job job = {d, &z, x, w, g, grad_x, grad_w, grad_b, scratch, parts, flipped,
                        masks, backward_per_thread(d), write_x};
    run_groups(chunks_of(d), threads, backward_chunk, &job);
    int64_t og = d->o / d->groups;
    for (int64_t k = 0; k < chunks_of(d); k++) { /* in chunk order: independent of threads */
        const gt_real *part_w = job.parts + k * part_reals(d), *part_b = part_w + d->o * d->ckk;
        bool set_w = k == 0 && (write & 2u), set_b = k == 0 && (write & 4u); /* 0 + part */
        for (int64_t cg = 0; grad_w && cg < d->groups; cg++)
            for (int64_t o = 0; o < og; o++) {
                gt_real *to = grad_w + (cg * og + o) * d->ckk;
                const gt_real *from = part_w + cg * d->ckk * og + o;
                for (int64_t i = 0; i < d->ckk; i++)
                    to[i] = (set_w ? 0 : to[i]) + from[i * og];
            }
        for (int64_t o = 0; grad_b && o < d->o; o++)
            grad_b[o] = (set_b ? 0 : grad_b[o]) + part_b[o];
    }
}

/* ---- arguments and shapes ---------------------------------------------------------------- */

/* An int or per-axis list -> H and W values; a conv1d's one axis is W (H is 1 wide). */
static void per_axis(const gt_ints *v, int rank, int64_t dflt, int64_t out[2]) {
    if (v->n == 0) {
        out[0] = out[1] = dflt;
    } else if (rank == 1) {
        out[0] = dflt;
        out[1] = v->v[0];
    } else {
        out[0] = v->v[0];
        out[1] = v->n > 1 ? v->v[1] : v->v[0];
    }
}

/* "(2 x 3)" or, for one axis, "(3)": PyTorch's way of printing sizes in its messages. */
static const char *sizes_text(int rank, int64_t a, int64_t b, char *buf, size_t size) {
    if (rank == 1)
        snprintf(buf, size, "(%lld)", (long long)b);
    else
        snprintf(buf, size, "(%lld x %lld)", (long long)a, (long long)b);
    return buf;
}

static int rank_of(const gt_op_def *op) { return op == &gt_op_conv1d ? 1 : 2; }

/* Checks the shapes of a conv1d/conv2d (transposed: conv_transpose2d) call as PyTorch
 * does, with its messages, and resolves the geometry. *batched: x has a batch dim. */
static gt_status conv_check(const gt_op_def *op, const gt_conv_args *a, const gt_tensor *x,
                            const gt_tensor *w, const gt_tensor *b, bool transposed,
                            bool *batched, conv_geom *geom) {
    int rank = rank_of(op);
    if (x->ndim != rank + 1 && x->ndim != rank + 2)
        return gt_set_error(GT_ERR_SHAPE, "%s: Expected %dD (unbatched) or %dD (batched) input "
                            "to %s, but got input of size: %s", op->name, rank + 1, rank + 2,
                            op->name, gt__shape_of(x));
    if (w->ndim != rank + 2)
        return gt_set_error(GT_ERR_SHAPE, "%s: weight must be %d-D [%s], got %s", op->name,
                            rank + 2, transposed ? "C_in, C_out/groups, KH, KW"
                                      : rank == 1 ? "O, C/groups, K" : "O, C/groups, KH, KW",
                            gt__shape_of(w));
    *batched = x->ndim == rank + 2;
    int64_t groups = a->groups, c = x->shape[*batched ? 1 : 0];
    if (w->shape[0] < 1 && !transposed)
        return gt_set_error(GT_ERR_SHAPE, "%s: Given groups=%lld, expected weight to be at "
                            "least 1 at dimension 0, but got weight of size %s instead",
                            op->name, (long long)groups, gt__shape_of(w));
    if (w->shape[0] % groups != 0)
        return gt_set_error(GT_ERR_SHAPE, "%s: Given groups=%lld, expected weight to be "
                            "divisible by %lld at dimension 0, but got weight of size %s "
                            "instead", op->name, (long long)groups, (long long)groups,
                            gt__shape_of(w));
    int64_t want_c = transposed ? w->shape[0] : w->shape[1] * groups;
    if (c != want_c) {
        if (transposed)
            return gt_set_error(GT_ERR_SHAPE, "%s: Given transposed=1, weight of size %s, "
                                "expected input%s to have %lld channels, but got %lld channels "
                                "instead", op->name, gt__shape_of(w), gt__shape_of(x),
                                (long long)want_c, (long long)c);
        return gt_set_error(GT_ERR_SHAPE, "%s: Given groups=%lld, weight of size %s, expected "
                            "input%s to have %lld channels, but got %lld channels instead",
                            op->name, (long long)groups, gt__shape_of(w), gt__shape_of(x),
                            (long long)want_c, (long long)c);
    }
    int64_t out_c = transposed ? w->shape[1] * groups : w->shape[0];
    if (b && (b->ndim != 1 || b->shape[0] != out_c))
        return gt_set_error(GT_ERR_SHAPE, "%s: Given %sweight of size %s, expected bias to be "
                            "1-dimensional with %lld elements, but got bias of size %s instead",
                            op->name, transposed ? "transposed=1, " : "", gt__shape_of(w),
                            (long long)out_c, gt__shape_of(b));
    int64_t k[2] = {rank == 1 ? 1 : w->shape[2], w->shape[w->ndim - 1]};
    int64_t in[2] = {rank == 1 ? 1 : x->shape[x->ndim - 2], x->shape[x->ndim - 1]};
    char buf[2][48];
    if (k[0] < 1 || k[1] < 1)
        return gt_set_error(GT_ERR_SHAPE, "%s: kernel size should be greater than zero, but "
                            "got %s", op->name, sizes_text(rank, k[0], k[1], buf[0], 48));
    *geom = (conv_geom){.groups = groups};
    per_axis(&a->stride, rank, 1, geom->s);
    per_axis(&a->dilation, rank, 1, geom->d);
    int64_t pad[2] = {0, 0};
    if (a->padding_mode == GT_CONV_PADDING_SAME) {
        if (geom->s[0] != 1 || geom->s[1] != 1)
            return gt_set_error(GT_ERR_ARG, "%s: padding='same' is not supported for strided "
                                "convolutions", op->name);
        for (int i = 0; i < 2; i++) { /* total d*(k-1), the odd one more at the end */
            int64_t total = geom->d[i] * (k[i] - 1);
            geom->lo[i] = total / 2;
            geom->hi[i] = total - total / 2;
        }
    } else if (a->padding_mode != GT_CONV_PADDING_VALID) {
        per_axis(&a->padding, rank, 0, pad);
        for (int i = 0; i < 2; i++)
            geom->lo[i] = geom->hi[i] = pad[i];
    }
    for (int i = 0; i < 2; i++)
        geom->hi[i] += a->extra[i];
    if (transposed) {
        int64_t op_pad[2], out[2];
        per_axis(&a->output_padding, rank, 0, op_pad);
        for (int i = 0; i < 2; i++)
            if (op_pad[i] >= geom->s[i] && op_pad[i] >= geom->d[i])
                return gt_set_error(GT_ERR_ARG, "%s: output padding must be smaller than either "
                                    "stride or dilation, but got output_padding_height: %lld "
                                    "output_padding_width: %lld stride_height: %lld "
                                    "stride_width: %lld dilation_height: %lld dilation_width: "
                                    "%lld", op->name, (long long)op_pad[0], (long long)op_pad[1],
                                    (long long)geom->s[0], (long long)geom->s[1],
                                    (long long)geom->d[0], (long long)geom->d[1]);
        for (int i = 0; i < 2; i++) {
            out[i] = (in[i] - 1) * geom->s[i] - geom->lo[i] - geom->hi[i] +
                     geom->d[i] * (k[i] - 1) + op_pad[i] + 1;
            geom->hi[i] -= op_pad[i]; /* the conv of the output back to x drops those */
        }
        if (out[0] < 1 || out[1] < 1)
            return gt_set_error(GT_ERR_SHAPE, "%s: Given input size per channel: %s. Calculated "
                                "output size per channel: %s. Output size is too small",
                                op->name, sizes_text(rank, in[0], in[1], buf[0], 48),
                                sizes_text(rank, out[0], out[1], buf[1], 48));
        return GT_OK;
    }
    int64_t padded[2], reach[2];
    for (int i = 0; i < 2; i++) {
        padded[i] = in[i] + geom->lo[i] + geom->hi[i];
        reach[i] = geom->d[i] * (k[i] - 1) + 1;
    }
    if (padded[0] < reach[0] || padded[1] < reach[1])
        return gt_set_error(GT_ERR_SHAPE, "%s: Calculated padded input size per channel: %s. "
                            "Kernel size: %s. Kernel size can't be greater than actual input "
                            "size", op->name, sizes_text(rank, padded[0], padded[1], buf[0], 48),
                            sizes_text(rank, reach[0], reach[1], buf[1], 48));
    return GT_OK;
}

/* The 4-D dims of a conv's input x and weight w (a conv1d's H is 1, no batch dim is 1). */
static void dims4(const gt_tensor *t, bool batched, int rank, int64_t out[4]) {
    int at = 0;
    out[at++] = batched ? t->shape[0] : 1;
    for (int i = batched ? 1 : 0; i < t->ndim; i++) {
        if (t->ndim - i == 1 && rank == 1)
            out[at++] = 1;
        out[at++] = t->shape[i];
    }
}

/* The output's shape [N,O,OH,OW] as the op gives it (no N unbatched, no OH for conv1d). */
static int out_shape(int rank, bool batched, const int64_t full[4], int64_t *shape) {
    int nd = 0;
    if (batched)
        shape[nd++] = full[0];
    shape[nd++] = full[1];
    if (rank == 2)
        shape[nd++] = full[2];
    shape[nd++] = full[3];
    return nd;
}

// conv1d and conv2d: x[N,C,(H,)W] * w[O,C/G,(KH,)KW] + b[O] -> y[N,O,(OH,)OW]
static gt_tensor *conv_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                               int n_in, const void *args_ptr) {
    const gt_conv_args *args = args_ptr;
    gt_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    bool batched;
    conv_geom geom;
    if (gt__check_inputs(op->name, tape, in, n_in, 2) != GT_OK ||
        conv_check(op, args, x, w, b, false, &batched, &geom) != GT_OK)
        return NULL;
    int rank = rank_of(op);
    int64_t xs[4], ws[4];
    dims4(x, batched, rank, xs);
    dims4(w, true, rank, ws);
    conv_dims d = dims_make(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], &geom);
    if (taps_weight_grad(&d) && (taps_input_grad(&d) || !gt__tape_will_record(tape, &x, 1)))
        set_group(&d, 1); /* no patches: chunks of single images share the work evenly */
    int64_t shape[4];
    int nd = out_shape(rank, batched, (int64_t[]){d.n, d.o, d.oh, d.ow}, shape);
    gt_tensor *out = gt__op_output(tape, op, nd, shape);
    if (!out)
        return NULL;
    bool record = gt__tape_will_record(tape, in, n_in);
    bool dense = full_window(&d);
    int threads = dense ? 1 : group_threads(&d);
    gt_real *scratch = dense ? NULL : gt__tape_forward_scratch(
                                          tape, forward_scratch_bytes(&d, threads, NULL), op->name);
    conv_saved *saved = record ? gt__tape_alloc(tape, sizeof *saved, op->name) : NULL;
    if ((!dense && !scratch) || (record && !saved))
        return NULL;
    conv_forward_kernel(&d, threads, scratch, x->data, w->data, b ? b->data : NULL, out->data,
                        false);
    gt_node *node;
    gt_tensor *inputs[3] = {x, w, b};
    out = gt__op_finish(tape, op, out, inputs, b ? 3 : 2, args, &node);
    if (node) {
        *saved = (conv_saved){d, threads};
        node->saved = saved;
        node->scratch_bytes = dense ? 0 : backward_scratch_bytes(&d, threads, NULL);
        /* stale gradients written whole (gt__grad_mark_stale): w's and b's by the sum of the
         * chunks' parts or the dense GEMM, x's where each image's is written once */
        if (d.n > 0)
            node->overwrites =
                2u | 4u | (dense || wide_input_grad(&d) || taps_input_grad(&d) ? 1u : 0u);
    }
    return out;
}

// g[N,O,OH,OW] -> grad_w += g @ col^T, grad_x += col2im(w^T @ g), grad_b += sum g
static gt_status conv_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
    const conv_saved *saved = node->saved;
    /* node->scratch, taken by gt_backward and sized by the forward for its thread count */
    unsigned write = 0;
    for (int i = 0; i < node->n_in; i++)
        if (node->in[i]->grad && (node->overwrites & (1u << i)) &&
            gt__grad_take_stale(node->in[i]))
            write |= 1u << i;
    conv_backward_kernel(&saved->dims, saved->threads, node->scratch, x->data, w->data,
                         node->out->grad, x->grad, w->grad, b ? b->grad : NULL, write);
    return GT_OK;
}

/* conv_transpose2d's geometry is that of the conv y -> x whose input gradient it computes:
 * that conv's input is the output y[N,C_out,OH,OW], its weight w[C_in,C_out/G,KH,KW] read
 * as [O,C/G,KH,KW], its output x. */
static conv_dims transposed_dims(const gt_tensor *x, const gt_tensor *w, bool batched,
                                 const conv_geom *geom) {
    int64_t xs[4];
    dims4(x, batched, 2, xs);
    int64_t oh = (xs[2] - 1) * geom->s[0] - geom->lo[0] - geom->hi[0] +
                 geom->d[0] * (w->shape[2] - 1) + 1;
    int64_t ow = (xs[3] - 1) * geom->s[1] - geom->lo[1] - geom->hi[1] +
                 geom->d[1] * (w->shape[3] - 1) + 1;
    return dims_make(xs[0], w->shape[1] * geom->groups, oh, ow, w->shape[0], w->shape[2],
                     w->shape[3], geom);
}

/* Scratch for conv_transpose2d's backward: a conv forward, then a weight gradient. */
static size_t transposed_scratch_bytes(const conv_dims *d, int threads) {
    size_t f = forward_scratch_bytes(d, threads, NULL);
    size_t b = backward_scratch_bytes(d, threads, NULL);
    return f > b ? f : b;
}

// x[N,C_in,H,W], w[C_in,C_out/G,KH,KW], b[C_out] -> y[N,C_out,OH,OW] = col2im(w^T @ x) + b
static gt_tensor *conv_transpose2d_forward(const gt_op_def *op, gt_tape *tape,
                                           gt_tensor *const *in, int n_in,
                                           const void *args_ptr) {
    const gt_conv_args *args = args_ptr;
    gt_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    bool batched;
    conv_geom geom;
    if (gt__check_inputs(op->name, tape, in, n_in, 2) != GT_OK ||
        conv_check(op, args, x, w, b, true, &batched, &geom) != GT_OK)
        return NULL;
    conv_dims d = transposed_dims(x, w, batched, &geom);
    int64_t shape[4];
    int nd = out_shape(2, batched, (int64_t[]){d.n, d.c, d.h, d.w}, shape);
    gt_tensor *out = gt__op_output(tape, op, nd, shape);
    if (!out)
        return NULL;
    bool record = gt__tape_will_record(tape, in, n_in);
    bool dense = full_window(&d);
    int threads = dense ? 1 : group_threads(&d);
    gt_real *scratch = dense ? NULL : gt__tape_forward_scratch(tape,
                                          backward_scratch_bytes(&d, threads, NULL), op->name);
    conv_saved *saved = record ? gt__tape_alloc(tape, sizeof *saved, op->name) : NULL;
    if ((!dense && !scratch) || (record && !saved))
        return NULL;
    fill_zero(out->data, out->numel);
    conv_backward_kernel(&d, threads, scratch, NULL, w->data, x->data, out->data, NULL, NULL, 0);
    for (int64_t i = 0; b && i < d.n; i++)
        add_channel_bias(d.c, d.h * d.w, b->data, out->data + i * d.c * d.h * d.w);
    gt_node *node;
    gt_tensor *inputs[3] = {x, w, b};
    out = gt__op_finish(tape, op, out, inputs, b ? 3 : 2, args, &node);
    if (node) {
        *saved = (conv_saved){d, threads};
        node->saved = saved;
        node->scratch_bytes = dense ? 0 : transposed_scratch_bytes(&d, threads);
    }
    return out;
}

// gy[N,C_out,OH,OW] -> grad_x += conv(gy, w), grad_w += the weight gradient of that conv
// with x its output gradient, grad_b += sum of gy over N, OH, OW
static gt_status conv_transpose2d_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
    const conv_saved *saved = node->saved;
    const conv_dims *d = &saved->dims;
    const gt_real *gy = node->out->grad;
    if (x->grad && (full_window(d) || node->scratch))
        conv_forward_kernel(d, saved->threads, node->scratch, gy, w->data, NULL, x->grad, true);
    if (w->grad)
        conv_backward_kernel(d, saved->threads, node->scratch, gy, w->data, x->data, NULL,
                             w->grad, NULL, 0);
    int64_t plane = d->h * d->w;
    for (int64_t i = 0; b && b->grad && i < d->n * d->c; i++) {
        gt_real sum = 0;
        for (int64_t k = 0; k < plane; k++)
            sum += gy[i * plane + k];
        b->grad[i % d->c] += sum;
    }
    return GT_OK;
}

/* ---- conv2d_weight: a conv's weight gradient as an op of its own --------------------------- */

/* torch.nn.grad.conv2d_weight's arguments: the conv's first (so that the conv attributes'
 * offsets serve here too), then the weight's size. */
typedef struct conv_weight_args {
    gt_conv_args conv;
    gt_ints weight_size;
} conv_weight_args;

/* The conv of input x with a weight of a->weight_size, checked as conv2d checks it, and its
 * output's shape against the gradient g given for it. */
static gt_status conv_weight_check(const gt_op_def *op, const conv_weight_args *a,
                                   const gt_tensor *x, const gt_tensor *g, conv_dims *d) {
    const gt_ints *ws = &a->weight_size;
    if (ws->n != 4)
        return gt_set_error(GT_ERR_ARG, "%s: weight_size must give 4 sizes [O, C/groups, KH, "
                            "KW], got %d", op->name, ws->n);
    gt_tensor w = {.ndim = 4}; /* its shape alone, what conv_check reads (no numel: the
                                  sizes are a caller's numbers, their product may overflow) */
    for (int i = 0; i < 4; i++)
        w.shape[i] = ws->v[i];
    if (x->ndim != 4)
        return gt_set_error(GT_ERR_SHAPE, "%s: Expected 4-dimensional input for 4-dimensional "
                            "weight %s, but got %d-dimensional input of size %s instead",
                            op->name, gt__shape_of(&w), x->ndim, gt__shape_of(x));
    conv_geom geom;
    bool batched; /* always, the input being 4-D */
    gt_status status = conv_check(op, &a->conv, x, &w, NULL, false, &batched, &geom);
    if (status != GT_OK)
        return status;
    *d = dims_make(x->shape[0], x->shape[1], x->shape[2], x->shape[3], ws->v[0], ws->v[2],
                   ws->v[3], &geom);
    if (taps_weight_grad(d))
        set_group(d, 1); /* no patches: chunks of single images share the work evenly */
    int64_t shape[4] = {d->n, d->o, d->oh, d->ow};
    if (!gt_shape_equal(g->ndim, g->shape, 4, shape)) {
        char want[160];
        gt_shape_str(4, shape, want, sizeof want);
        return gt_set_error(GT_ERR_SHAPE, "%s: grad_output of size %s, expected %s: the output "
                            "of input %s under a weight of size %s", op->name, gt__shape_of(g),
                            want, gt__shape_of(x), gt__shape_of(&w));
    }
    return GT_OK;
}

// x[N,C,H,W], g[N,O,OH,OW] -> grad_w[O,C/G,KH,KW] = the weight gradient of the conv of x
// whose output gradient is g (conv2d's backward kernel, its weight part alone)
static gt_tensor *conv_weight_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                      int n_in, const void *args_ptr) {
    const conv_weight_args *a = args_ptr;
    gt_tensor *x = in[0], *g = in[1];
    conv_dims d;
    if (gt__check_inputs(op->name, tape, in, n_in, 2) != GT_OK ||
        conv_weight_check(op, a, x, g, &d) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, 4, a->weight_size.v);
    if (!out)
        return NULL;
    bool record = gt__tape_will_record(tape, in, n_in);
    bool dense = full_window(&d);
    int threads = dense ? 1 : group_threads(&d);
    size_t bytes = dense ? 0 : transposed_scratch_bytes(&d, threads); /* the backward's too */
    gt_real *scratch = dense ? NULL : gt__tape_forward_scratch(tape, bytes, op->name);
    conv_saved *saved = record ? gt__tape_alloc(tape, sizeof *saved, op->name) : NULL;
    if ((!dense && !scratch) || (record && !saved))
        return NULL;
    fill_zero(out->data, out->numel); /* an empty batch adds nothing to it */
    conv_backward_kernel(&d, threads, scratch, x->data, NULL, g->data, NULL, out->data, NULL, 0);
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 2, args_ptr, &node);
    if (node) {
        *saved = (conv_saved){d, threads};
        node->saved = saved;
        node->scratch_bytes = bytes;
    }
    return out;
}

// gw[O,C/G,KH,KW] -> grad_x += the input gradient of the conv with weight gw and output
// gradient g; grad_g += the conv of x with weight gw (the weight gradient is bilinear)
static gt_status conv_weight_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *g = node->in[1];
    const conv_saved *saved = node->saved;
    const conv_dims *d = &saved->dims;
    const gt_real *gw = node->out->grad;
    if (x->grad)
        conv_backward_kernel(d, saved->threads, node->scratch, x->data, gw, g->data, x->grad,
                             NULL, NULL, 0);
    if (g->grad && (full_window(d) || node->scratch))
        conv_forward_kernel(d, saved->threads, node->scratch, x->data, gw, NULL, g->grad, true);
    return GT_OK;
}

/* ---- gradients written with ops (second derivatives) -------------------------------------- */

/* t as 4-D [N,C,H,W]: a conv1d's tensors get H = 1, an unbatched one N = 1. */
static gt_tensor *as4(gt_tape *tape, gt_tensor *t, bool batched, int rank) {
    int64_t shape[4];
    dims4(t, batched, rank, shape);
    return t->ndim == 4 ? t : gt_reshape(tape, t, 4, shape);
}

/* The conv args of a grad graph's conv: per-axis lists from H and W values. */
static gt_conv_args conv_args_of(const int64_t s[2], const int64_t lo[2],
                                 const int64_t extra[2], const int64_t dil[2], int64_t groups) {
    return (gt_conv_args){.stride = GT_INTS(s[0], s[1]), .padding = GT_INTS(lo[0], lo[1]),
                          .dilation = GT_INTS(dil[0], dil[1]), .groups = groups,
                          .output_padding = GT_INTS(0, 0), .extra = {extra[0], extra[1]}};
}

/* The conv args of the conv d itself: its stride, padding, dilation and groups. */
static gt_conv_args conv_args_of_dims(const conv_dims *d) {
    int64_t lo[2] = {d->pt, d->pl}, extra[2] = {d->pb - d->pt, d->pr - d->pl};
    return conv_args_of((int64_t[]){d->sh, d->sw}, lo, extra, (int64_t[]){d->dh, d->dw},
                        d->groups);
}

// The weight gradient of the conv d of x[N,C,H,W] whose output gradient is g[N,O,OH,OW]:
// conv2d_weight, whose own backward and gradient graph are convs again
static gt_tensor *weight_grad_graph(gt_tape *tape, const conv_dims *d, gt_tensor *x,
                                    gt_tensor *g) {
    conv_weight_args a = {conv_args_of_dims(d),
                          GT_INTS(d->o, d->c / d->groups, d->kh, d->kw)};
    return gt_op_call(tape, &gt_op_conv2d_weight, (gt_tensor *[]){x, g}, 2, &a);
}

// the bias gradient: g[N,O,OH,OW] summed over N, OH, OW -> [O]
static gt_tensor *bias_grad_graph(gt_tape *tape, gt_tensor *g) {
    gt_tensor *s = gt_sum(tape, g, 0);
    return s ? gt_sum(tape, gt_reshape(tape, s, 2, (int64_t[]){s->shape[0], -1}), 1) : NULL;
}

/* The conv_transpose2d that gives the conv d's input gradient: d's arguments, and as output
 * padding what the conv's last stride left unread. */
static gt_conv_args input_grad_args(const conv_dims *d) {
    gt_conv_args a = conv_args_of_dims(d);
    a.output_padding = GT_INTS((d->h + d->pt + d->pb - d->dh * (d->kh - 1) - 1) % d->sh,
                               (d->w + d->pl + d->pr - d->dw * (d->kw - 1) - 1) % d->sw);
    return a;
}

// conv2d_weight: grad_x = conv_transpose2d(g, gw), grad_g = conv2d(x, gw), both with the
// conv's arguments
static gt_status conv_weight_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *gw,
                                        gt_tensor **grad_in) {
    const conv_dims *d = &((const conv_saved *)node->saved)->dims;
    gt_tensor *x = node->in[0], *g = node->in[1];
    gt_conv_args a = input_grad_args(d);
    if (gt__needs_grad(node, 0) && !(grad_in[0] = gt_conv_transpose2d(tape, g, gw, NULL, &a)))
        return gt_last_status();
    a = conv_args_of_dims(d);
    if (gt__needs_grad(node, 1) && !(grad_in[1] = gt_conv2d_ex(tape, x, gw, NULL, &a)))
        return gt_last_status();
    return GT_OK;
}

/* Sets *grad to t reshaped to like's shape; false (an error set) when t is NULL. */
static bool reshaped(gt_tape *tape, gt_tensor *t, const gt_tensor *like, gt_tensor **grad) {
    *grad = t ? gt_reshape(tape, t, like->ndim, like->shape) : NULL;
    return *grad != NULL;
}

// conv1d, conv2d: grad_x = conv_transpose2d(g, w) with the output padding that gives x's
// size; grad_w = weight_grad_graph; grad_b = sum of g
static gt_status conv_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                 gt_tensor **grad_in) {
    const conv_dims *d = &((const conv_saved *)node->saved)->dims;
    int rank = rank_of((const gt_op_def *)node->op);
    gt_tensor *x = node->in[0], *w = node->in[1];
    bool batched = x->ndim == rank + 2;
    gt_tensor *x4 = as4(tape, x, batched, rank), *w4 = as4(tape, w, true, rank);
    gt_tensor *g4 = as4(tape, g, batched, rank);
    if (!x4 || !w4 || !g4)
        return gt_last_status();
    if (gt__needs_grad(node, 0)) {
        gt_conv_args a = input_grad_args(d);
        if (!reshaped(tape, gt_conv_transpose2d(tape, g4, w4, NULL, &a), x, &grad_in[0]))
            return gt_last_status();
    }
    if (gt__needs_grad(node, 1) &&
        !reshaped(tape, weight_grad_graph(tape, d, x4, g4), w, &grad_in[1]))
        return gt_last_status();
    if (gt__needs_grad(node, 2) && !(grad_in[2] = bias_grad_graph(tape, g4)))
        return gt_last_status();
    return GT_OK;
}

// conv_transpose2d: grad_x = the conv y -> x of gy; grad_w = that conv's weight gradient
// with x its output gradient; grad_b = sum of gy
static gt_status conv_transpose2d_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                             gt_tensor **grad_in) {
    const conv_dims *d = &((const conv_saved *)node->saved)->dims;
    gt_tensor *x = node->in[0], *w = node->in[1];
    bool batched = x->ndim == 4;
    gt_tensor *x4 = as4(tape, x, batched, 2), *g4 = as4(tape, g, batched, 2);
    if (!x4 || !g4)
        return gt_last_status();
    if (gt__needs_grad(node, 0)) {
        gt_conv_args a = conv_args_of_dims(d);
        if (!reshaped(tape, gt_conv2d_ex(tape, g4, w, NULL, &a), x, &grad_in[0]))
            return gt_last_status();
    }
    if (gt__needs_grad(node, 1) &&
        !reshaped(tape, weight_grad_graph(tape, d, g4, x4), w, &grad_in[1]))
        return gt_last_status();
    if (gt__needs_grad(node, 2) && !(grad_in[2] = bias_grad_graph(tape, g4)))
        return gt_last_status();
    return GT_OK;
}

/* ---- the entries ---------------------------------------------------------------------------- */

#define CONV_INTS(attr_name, field, dflt_value, minimum, rank)                               \
    {attr_name, GT_ATTR_INTS, offsetof(gt_conv_args, field), .dflt_ints = {1, {dflt_value}},   \
     .flags = GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX | GT_ATTR_ZERO_DEFAULT, .min = minimum,       \
     .max = 1 << 20, .max_len = rank}
#define CONV_PADDING(rank)                                                                   \
    {"padding", GT_ATTR_INTS, offsetof(gt_conv_args, padding), .dflt_ints = {1, {0}},         \
     .flags = GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX | GT_ATTR_ZERO_DEFAULT, .min = 0,             \
     .max = 1 << 20, .max_len = rank, .choices = "valid|same",                                \
     .choice_offset = offsetof(gt_conv_args, padding_mode)}
#define CONV_GROUPS                                                                          \
    {"groups", GT_ATTR_INT, offsetof(gt_conv_args, groups), .dflt = 1,                       \
     .flags = GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX | GT_ATTR_ZERO_DEFAULT, .min = 1, .max = 1 << 20}

static const gt_attr_def conv2d_attrs[] = {
    CONV_INTS("stride", stride, 1, 1, 2), CONV_PADDING(2), CONV_INTS("dilation", dilation, 1, 1, 2),
    CONV_GROUPS,
};
static const gt_attr_def conv1d_attrs[] = {
    CONV_INTS("stride", stride, 1, 1, 1), CONV_PADDING(1), CONV_INTS("dilation", dilation, 1, 1, 1),
    CONV_GROUPS,
};
static const gt_attr_def conv_transpose2d_attrs[] = {
    CONV_INTS("stride", stride, 1, 1, 2), CONV_INTS("padding", padding, 0, 0, 2),
    CONV_INTS("output_padding", output_padding, 0, 0, 2), CONV_GROUPS,
    CONV_INTS("dilation", dilation, 1, 1, 2),
};

const gt_op_def gt_op_conv2d = {
    .name = "conv2d",
    .doc = "2-D cross-correlation with zero padding, as torch.nn.functional.conv2d; padding "
           "\"same\" puts an odd total's extra one at the end",
    .shapes = "input[N,C,H,W] (or [C,H,W]), weight[O,C/groups,KH,KW], bias[O] -> "
              "[N,O,(H+2*padding-dilation*(KH-1)-1)/stride+1,(likewise W)]",
    .inputs = {{"input", .alias = "x"}, {"weight", .alias = "w"},
               {"bias", .optional = true, .alias = "b"}},
    GT__ATTRS(conv2d_attrs),
    .args_size = sizeof(gt_conv_args),
    .forward = conv_forward,
    .backward = conv_backward,
    .grad_graph = conv_grad_graph,
    GT__CASES("1x1x5x5 2x1x3x3 2", "2x3x7x6 4x3x3x3 4; stride=2, padding=1",
              "2x2x5x4 3x2x2x3; padding=1", "1x1x6x6 2x1x5x5 2; padding=2",
              "20x2x3x3 2x2x2x2 2", "3x4x5x5 6x4x5x5 6",
              "2x2x7x6 3x2x3x2 3; stride=[2, 1], padding=[1, 0]",
              "1x2x7x8 2x2x3x3; dilation=[2, 3], padding=[2, 1]",
              "2x4x5x5 6x2x3x3 6; groups=2, padding=1",
              "1x6x5x4 6x1x2x2; groups=6, stride=2",
              "1x2x6x5 2x2x4x3 2; padding=\"same\"",
              "1x1x5x7 2x1x2x3; padding=\"same\", dilation=[1, 2]",
              "2x2x6x5 3x2x3x2; padding=\"valid\", stride=[1, 2]",
              "6x5x5 4x3x3x3 4; groups=2, padding=1",
              "1x1x1x5 2x1x1x3 2; padding=[0, 1]",
              "1x1x2x2 1x1x1x1 1; padding=3",
              "1x2x3x3 2x2x2x2; padding=2, stride=3, dilation=2", "0x2x5x5 3x2x3x3 3",
              "1x3x5x5 2x2x3x3 => conv2d: Given groups=1, weight of size [2, 2, 3, 3], "
              "expected input[1, 3, 5, 5] to have 2 channels, but got 3 channels instead",
              "1x1x5x5 1x1x3x3; stride=0 => conv2d: stride must be >= 1, got 0",
              "1x1x5x5 1x1x3x3; padding=-1 => conv2d: padding must be >= 0, got -1",
              "1x1x5x5 1x1x3x3; dilation=0 => conv2d: dilation must be >= 1, got 0",
              "1x1x5x5 1x1x3x3; groups=0 => conv2d: groups must be >= 1, got 0",
              "1x1x2x2 1x1x3x3 => conv2d: Calculated padded input size per channel: (2 x 2). "
              "Kernel size: (3 x 3). Kernel size can't be greater than actual input size",
              "1x1x4x4 1x1x3x3; dilation=2 => conv2d: Calculated padded input size per channel: "
              "(4 x 4). Kernel size: (5 x 5)",
              "1x1x5x5 2x1x3x3 3 => conv2d: Given weight of size [2, 1, 3, 3], expected bias to "
              "be 1-dimensional with 2 elements, but got bias of size [3] instead",
              "1x1x5x5 1x1x3x3; padding=\"same\", stride=2 => conv2d: padding='same' is not "
              "supported for strided convolutions",
              "1x1x5x5 1x1x3x3; padding=\"full\" => conv2d: padding must be an integer, a list "
              "of integers or one of \"valid|same\", got \"full\"",
              "1x4x5x5 3x2x3x3; groups=2 => conv2d: Given groups=2, expected weight to be "
              "divisible by 2 at dimension 0, but got weight of size [3, 2, 3, 3] instead",
              "1x3x5x5 2x1x3x3; groups=2 => conv2d: Given groups=2, weight of size [2, 1, 3, 3], "
              "expected input[1, 3, 5, 5] to have 2 channels, but got 3 channels instead",
              "5x5 2x1x3x3 => conv2d: Expected 3D (unbatched) or 4D (batched) input to conv2d, "
              "but got input of size: [5, 5]",
              "1x1x5x5 1x1x3x3; stride=[1, 2, 3] => conv2d: stride takes 1 to 2 integers, got 3",
              "1x1x5x5 0x1x3x3 => conv2d: Given groups=1, expected weight to be at least 1 at "
              "dimension 0, but got weight of size [0, 1, 3, 3] instead"),
};

const gt_op_def gt_op_conv1d = {
    .name = "conv1d",
    .doc = "1-D cross-correlation with zero padding, as torch.nn.functional.conv1d (conv2d's "
           "kernels with H = 1)",
    .shapes = "input[N,C,L] (or [C,L]), weight[O,C/groups,K], bias[O] -> "
              "[N,O,(L+2*padding-dilation*(K-1)-1)/stride+1]",
    .inputs = {{"input"}, {"weight"}, {"bias", .optional = true}},
    GT__ATTRS(conv1d_attrs),
    .args_size = sizeof(gt_conv_args),
    .forward = conv_forward,
    .backward = conv_backward,
    .grad_graph = conv_grad_graph,
    GT__CASES("2x3x9 4x3x3 4", "1x2x10 3x2x4; stride=3, padding=2",
              "2x4x8 4x2x3 4; groups=2, dilation=2", "3x7 2x3x2; padding=\"same\"",
              "1x2x7 4x1x3 4; padding=\"same\", dilation=2, groups=2",
              "1x1x4 2x1x4 2; padding=\"valid\"", "1x1x1 1x1x1; padding=4",
              "2x2x6 3x2x1; stride=[2]",
              "1x3x5 2x2x3 => conv1d: Given groups=1, weight of size [2, 2, 3], expected "
              "input[1, 3, 5] to have 2 channels, but got 3 channels instead",
              "1x1x5x5 2x1x3 => conv1d: Expected 2D (unbatched) or 3D (batched) input to conv1d, "
              "but got input of size: [1, 1, 5, 5]",
              "1x1x2 1x1x3 => conv1d: Calculated padded input size per channel: (2). Kernel "
              "size: (3)",
              "1x1x5 1x1x3; stride=[1, 2] => conv1d: stride takes one integer, got a list of 2",
              "1x1x5 1x1x3; stride=2, padding=\"same\" => conv1d: padding='same' is not "
              "supported for strided convolutions"),
};

const gt_op_def gt_op_conv_transpose2d = {
    .name = "conv_transpose2d",
    .doc = "the transposed 2-D convolution (conv2d's gradient with respect to its input), as "
           "torch.nn.functional.conv_transpose2d",
    .shapes = "input[N,C_in,H,W] (or [C_in,H,W]), weight[C_in,C_out/groups,KH,KW], "
              "bias[C_out] -> [N,C_out,(H-1)*stride-2*padding+dilation*(KH-1)+"
              "output_padding+1,(likewise W)]",
    .inputs = {{"input"}, {"weight"}, {"bias", .optional = true}},
    GT__ATTRS(conv_transpose2d_attrs),
    .args_size = sizeof(gt_conv_args),
    .forward = conv_transpose2d_forward,
    .backward = conv_transpose2d_backward,
    .grad_graph = conv_transpose2d_grad_graph,
    GT__CASES("2x3x4x4 3x2x3x3 2", "1x2x3x4 2x3x3x2 3; stride=2, padding=1, output_padding=1",
              "2x4x3x3 4x1x2x2 2; groups=2, stride=[2, 1]",
              "1x2x3x3 2x2x3x3; dilation=2, output_padding=1",
              "1x2x3x4 2x1x3x2; stride=[3, 2], padding=[1, 0], output_padding=[2, 1]",
              "2x3x3 2x3x2x2 3", "1x1x1x1 1x2x1x1 2", "1x1x3x3 1x1x3x3; padding=2",
              "1x2x5x5 2x2x1x1; stride=2", "20x2x3x3 2x2x3x3 2", "0x2x3x3 2x1x3x3 1",
              "1x3x3x3 2x1x3x3 => conv_transpose2d: Given transposed=1, weight of size "
              "[2, 1, 3, 3], expected input[1, 3, 3, 3] to have 2 channels, but got 3 channels "
              "instead",
              "1x3x3x3 3x1x3x3; groups=2 => conv_transpose2d: Given groups=2, expected weight "
              "to be divisible by 2 at dimension 0, but got weight of size [3, 1, 3, 3] instead",
              "1x2x3x3 2x1x3x3 2 => conv_transpose2d: Given transposed=1, weight of size "
              "[2, 1, 3, 3], expected bias to be 1-dimensional with 1 elements, but got bias of "
              "size [2] instead",
              "1x2x3x3 2x1x3x3; stride=2, output_padding=2 => conv_transpose2d: output padding "
              "must be smaller than either stride or dilation, but got output_padding_height: 2",
              "1x1x1x1 1x1x1x1; padding=1 => conv_transpose2d: Given input size per channel: "
              "(1 x 1). Calculated output size per channel: (-1 x -1). Output size is too small",
              "1x1x3x3 1x1x3x3; output_padding=-1 => conv_transpose2d: output_padding must be "
              ">= 0, got -1",
              "1x1x3x3 1x1x3x3; padding=\"same\" => conv_transpose2d: padding must be an "
              "integer or a list of integers"),
};

static const gt_attr_def conv2d_weight_attrs[] = {
    {"weight_size", GT_ATTR_INTS, offsetof(conv_weight_args, weight_size),
     .flags = GT_ATTR_REQUIRED | GT_ATTR_HAS_MIN, .min = 0, .max_len = 4, .after_input = 1},
    CONV_INTS("stride", stride, 1, 1, 2), CONV_INTS("padding", padding, 0, 0, 2),
    CONV_INTS("dilation", dilation, 1, 1, 2), CONV_GROUPS,
};

const gt_op_def gt_op_conv2d_weight = {
    .name = "conv2d_weight",
    .doc = "the gradient of conv2d with respect to its weight, as torch.nn.grad.conv2d_weight "
           "(what conv2d's gradient graph records: second derivatives of convs run on conv "
           "kernels)",
    .shapes = "input[N,C,H,W], grad_output[N,O,OH,OW] -> "
              "[O,C/groups,KH,KW] (weight_size)",
    .inputs = {{"input"}, {"grad_output"}},
    GT__ATTRS(conv2d_weight_attrs),
    .args_size = sizeof(conv_weight_args),
    .forward = conv_weight_forward,
    .backward = conv_weight_backward,
    .grad_graph = conv_weight_grad_graph,
    GT__CASES("2x3x6x5 2x4x4x3; weight_size=[4, 3, 3, 3]",
              "1x4x7x7 1x6x4x4; weight_size=[6, 2, 3, 3], stride=2, padding=1, groups=2",
              "1x2x8x8 1x3x4x4; weight_size=[3, 2, 3, 3], dilation=2",
              "2x2x5x6 2x3x3x3; weight_size=[3, 2, 3, 3], stride=[1, 2], padding=[0, 1]",
              "3x2x4x4 3x5x1x1; weight_size=[5, 2, 4, 4]",
              "0x2x5x5 0x3x3x3; weight_size=[3, 2, 3, 3]",
              "2x3x6x5 2x4x4x4; weight_size=[4, 3, 3, 3] => conv2d_weight: grad_output of size "
              "[2, 4, 4, 4], expected [2, 4, 4, 3]: the output of input [2, 3, 6, 5] under a "
              "weight of size [4, 3, 3, 3]",
              "2x3x6x5 2x4x4x3; weight_size=[4, 3, 3] => conv2d_weight: weight_size must give 4 "
              "sizes [O, C/groups, KH, KW], got 3",
              "2x3x6x5 2x4x4x3; weight_size=[4, 2, 3, 3] => conv2d_weight: Given groups=1, "
              "weight of size [4, 2, 3, 3], expected input[2, 3, 6, 5] to have 2 channels, but "
              "got 3 channels instead",
              "2x3x6x5 2x4x4x3 => conv2d_weight: missing argument weight_size",
              "3x6x5 4x4x3; weight_size=[4, 3, 3, 3] => conv2d_weight: Expected 4-dimensional "
              "input for 4-dimensional weight [4, 3, 3, 3], but got 3-dimensional input of size "
              "[3, 6, 5] instead"),
};

gt_tensor *gt_conv2d_weight(gt_tape *tape, gt_tensor *input, const int64_t weight_size[4],
                            gt_tensor *grad_output, const gt_conv_args *args) {
    conv_weight_args a = {.weight_size = GT_INTS(weight_size[0], weight_size[1], weight_size[2],
                                                  weight_size[3])};
    if (args)
        a.conv = *args;
    return gt__op_call_typed(tape, &gt_op_conv2d_weight, (gt_tensor *[]){input, grad_output}, 2,
                             &a);
}

static gt_tensor *conv_call(const gt_op_def *op, gt_tape *tape, gt_tensor *x, gt_tensor *w,
                            gt_tensor *b, const gt_conv_args *args) {
    return gt__op_call_typed(tape, op, (gt_tensor *[]){x, w, b}, b ? 3 : 2, args);
}

gt_tensor *gt_conv2d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b, int stride,
                     int padding) {
    gt_conv_args args = {.stride = GT_INTS(stride), .padding = GT_INTS(padding), .groups = 1,
                         .dilation = GT_INTS(1), .output_padding = GT_INTS(0)};
    return gt_op_call(tape, &gt_op_conv2d, (gt_tensor *[]){x, w, b}, b ? 3 : 2, &args);
}

gt_tensor *gt_conv2d_ex(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b,
                        const gt_conv_args *args) {
    return conv_call(&gt_op_conv2d, tape, x, w, b, args);
}

gt_tensor *gt_conv1d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b,
                     const gt_conv_args *args) {
    return conv_call(&gt_op_conv1d, tape, x, w, b, args);
}

gt_tensor *gt_conv_transpose2d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b,
                               const gt_conv_args *args) {
    return conv_call(&gt_op_conv_transpose2d, tape, x, w, b, args);
}
