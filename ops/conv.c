/* conv.c - conv2d as im2col + GEMM, cross-correlation with zero padding as PyTorch's.
 *
 * Images go in groups of G (a few hundred KB of patches, at most 16 images): a group's
 * patches become the columns of one matrix col[C*KH*KW, G*OH*OW] that the weights multiply
 * in one GEMM, so even C5 (one output pixel per image) is a matrix product and not a
 * matrix-vector one. Groups run in parallel; each group's weight and bias gradients go to
 * a buffer of its own, summed in group order afterwards, so the result does not depend on
 * the number of threads. The backward computes a group's patches again rather than keeping
 * the forward's: megabytes of patches kept for a whole batch fall out of the caches, while
 * a group's, made again, stay in L2 (faster, and less memory).
 *
 * Stride 1 (LeNet's every conv) reads a zero-padded copy of each image, xpad[C, H+2p, W+2p]:
 * a patch row is then a plain copy of OW values per output row, done in whole vectors of
 * VEC values that may run past the row (the next copy overwrites them; rows of col have
 * VEC values of slack). The input gradient can run the same way backwards: with the output
 * gradient laid out W+2p wide (zeros past OW), w^T @ g gives rows that are added into a
 * padded gradient image as one contiguous run each, no bounds checked (when the wider GEMM
 * costs less than the scattered adds it saves). */
#include "gt_ops_impl.h"

#include <stddef.h>
#include <string.h>

#define CONV_GROUP_BYTES (512 * 1024) /* patches of one group: about an L2 cache */
#define CONV_GROUP_MAX 16
#define VEC 16 /* values copied at once by the stride-1 path; the slack of its buffers */

typedef struct conv_dims {
    int64_t n, c, h, w;       /* input */
    int64_t o, kh, kw;        /* weight */
    int64_t oh, ow;           /* output */
    int64_t stride, padding;
    int64_t p, ckk;           /* output pixels, patch length */
    int64_t group, n_groups;  /* images per group */
    int64_t hp, wp;           /* the padded image (stride 1) */
} conv_dims;

/* The arguments of conv2d (ranges checked by gt_op_call). */
typedef struct conv2d_args {
    int64_t stride, padding;
} conv2d_args;

static gt_status conv_dims_of(const gt_tensor *x, const gt_tensor *w, const gt_tensor *b,
                              int64_t stride, int64_t padding, conv_dims *d) {
    if (x->ndim != 4 || w->ndim != 4)
        return gt_set_error(GT_ERR_SHAPE, "conv2d: expects x[N,C,H,W] and w[O,C,KH,KW], got %s "
                            "and %s", gt__shape_of(x), gt__shape_of(w));
    if (x->shape[1] != w->shape[1])
        return gt_set_error(GT_ERR_SHAPE, "conv2d: input channels differ: x %s has %lld, w %s "
                            "has %lld", gt__shape_of(x), (long long)x->shape[1],
                            gt__shape_of(w), (long long)w->shape[1]);
    *d = (conv_dims){x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0],
                     w->shape[2], w->shape[3], 0, 0, stride, padding,
                     0, 0, 0, 0, 0, 0};
    int64_t ph = d->h + 2 * d->padding, pw = d->w + 2 * d->padding;
    if (d->kh < 1 || d->kw < 1 || ph < d->kh || pw < d->kw)
        return gt_set_error(GT_ERR_SHAPE, "conv2d: kernel %s does not fit input %s with "
                            "padding %lld", gt__shape_of(w), gt__shape_of(x),
                            (long long)d->padding);
    d->oh = (ph - d->kh) / d->stride + 1;
    d->ow = (pw - d->kw) / d->stride + 1;
    if (b && (b->ndim != 1 || b->shape[0] != d->o))
        return gt_set_error(GT_ERR_SHAPE, "conv2d: bias must be [%lld] for w %s, got %s",
                            (long long)d->o, gt__shape_of(w), gt__shape_of(b));
    d->p = d->oh * d->ow;
    d->ckk = d->c * d->kh * d->kw;
    int64_t per_image = d->ckk * d->p * (int64_t)sizeof(gt_real);
    d->group = per_image > 0 ? CONV_GROUP_BYTES / per_image : CONV_GROUP_MAX;
    d->group = d->group < 1 ? 1 : d->group > CONV_GROUP_MAX ? CONV_GROUP_MAX : d->group;
    d->group = d->group > d->n ? d->n : d->group;
    d->n_groups = d->group ? (d->n + d->group - 1) / d->group : 0;
    d->hp = ph;
    d->wp = pw;
    return GT_OK;
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

// x[C,H,W] -> col[C*KH*KW rows, OH*OW columns at col, row stride ld], zero outside the image
GT__MULTIVERSION
static void im2col(const conv_dims *dims, const gt_real *restrict x, gt_real *restrict col,
                   int64_t ld) {
    const conv_dims local = *dims, *d = &local; /* stores cannot alias a local: loops vectorise */
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++) {
                gt_real *row = col + ((c * d->kh + i) * d->kw + j) * ld;
                int64_t lo, hi, offset = j - d->padding;
                inside_range(d->ow, d->stride, offset, d->w, &lo, &hi);
                for (int64_t oy = 0; oy < d->oh; oy++) {
                    gt_real *out = row + oy * d->ow;
                    int64_t y = oy * d->stride - d->padding + i;
                    if (y < 0 || y >= d->h) {
                        fill_zero(out, d->ow);
                        continue;
                    }
                    const gt_real *in = x + (c * d->h + y) * d->w;
                    fill_zero(out, lo);
                    if (d->stride == 1)
                        for (int64_t ox = lo; ox < hi; ox++)
                            out[ox] = in[ox + offset];
                    else
                        for (int64_t ox = lo; ox < hi; ox++)
                            out[ox] = in[ox * d->stride + offset];
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
                int64_t lo, hi, offset = j - d->padding;
                inside_range(d->ow, d->stride, offset, d->w, &lo, &hi);
                for (int64_t oy = 0; oy < d->oh; oy++) {
                    int64_t y = oy * d->stride - d->padding + i;
                    if (y < 0 || y >= d->h)
                        continue;
                    const gt_real *from = row + oy * d->ow;
                    gt_real *out = x + (c * d->h + y) * d->w;
                    if (d->stride == 1)
                        for (int64_t ox = lo; ox < hi; ox++)
                            out[ox + offset] += from[ox];
                    else
                        for (int64_t ox = lo; ox < hi; ox++)
                            out[ox * d->stride + offset] += from[ox];
                }
            }
}

// x[C,H,W] -> xpad[C, H+2p, W+2p], zero around the image and in VEC + KW values of slack
GT__MULTIVERSION
static void pad_image(const conv_dims *dims, const gt_real *restrict x, gt_real *restrict xpad) {
    const conv_dims local = *dims, *d = &local;
    int64_t plane = d->hp * d->wp;
    fill_zero(xpad, d->c * plane + VEC + d->kw);
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t y = 0; y < d->h; y++) {
            gt_real *to = xpad + c * plane + (y + d->padding) * d->wp + d->padding;
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
                const gt_real *from = xpad + c * plane + i * d->wp + j;
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

// dcol[C*KH*KW rows, OH*Wp columns at dcol, row stride ld] -> gx[C,H,W] +=, stride 1: each
// row added into a padded gradient image as one run (its columns past OW hold zeros, so a
// run crossing into the next padded row adds nothing there), then the image's inside
GT__MULTIVERSION
static void col2im_padded_add(const conv_dims *dims, const gt_real *restrict dcol, int64_t ld,
                              gt_real *restrict dxpad, gt_real *restrict gx) {
    const conv_dims local = *dims, *d = &local;
    int64_t plane = d->hp * d->wp, run = d->oh * d->wp;
    fill_zero(dxpad, d->c * plane + d->kw);
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++) {
                gt_real *to = dxpad + c * plane + i * d->wp + j;
                const gt_real *from = dcol + ((c * d->kh + i) * d->kw + j) * ld;
                for (int64_t t = 0; t < run; t++)
                    to[t] += from[t];
            }
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t y = 0; y < d->h; y++) {
            gt_real *to = gx + (c * d->h + y) * d->w;
            const gt_real *from = dxpad + c * plane + (y + d->padding) * d->wp + d->padding;
            for (int64_t i = 0; i < d->w; i++)
                to[i] += from[i];
        }
}

// y[O, count*P] -> out[count, O, P] + b[O] (b may be NULL): a group's product per image
GT__MULTIVERSION
static void scatter_images(const conv_dims *dims, int64_t count, const gt_real *restrict y,
                           const gt_real *restrict b, gt_real *restrict out) {
    const conv_dims local = *dims, *d = &local;
    int64_t ld = count * d->p;
    for (int64_t k = 0; k < count; k++)
        for (int64_t o = 0; o < d->o; o++) {
            gt_real *to = out + (k * d->o + o) * d->p;
            const gt_real *from = y + o * ld + k * d->p;
            gt_real bias = b ? b[o] : 0;
            for (int64_t i = 0; i < d->p; i++)
                to[i] = from[i] + bias;
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

// a[rows, n] -> sums[rows], in 16 interleaved partial sums (a float sum is a chain the
// compiler may not reorder; 16 independent ones vectorise), added up in a fixed order
GT__MULTIVERSION
static void sum_rows(int64_t rows, int64_t n, const gt_real *restrict a, gt_real *restrict sums) {
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
        sums[r] = total;
    }
}

/* Threads for the groups of a conv2d: its GEMMs' flops decide, as for one GEMM. */
static int group_threads(const conv_dims *d) {
    return d->n_groups > 1 ? gt__threads_for_flops(2.0 * (double)(d->n * d->o * d->ckk * d->p))
                           : 1;
}

/* What a recorded conv2d keeps for its backward. */
typedef struct conv_saved {
    conv_dims dims;
    int threads; /* the forward's thread count, which sized the backward's scratch */
} conv_saved;

/* Sizes, in reals, of a group's buffers. */
typedef struct conv_sizes {
    int64_t ld;     /* row stride of a group's patches: G*OH*OW + VEC of slack */
    int64_t col;    /* a group's patches, C*KH*KW rows of ld */
    int64_t out;    /* a group's product or gathered gradient, O rows of G*OH*OW */
    int64_t padded; /* stride 1: a padded image, or a gradient and w^T @ it laid Wp wide */
    int64_t pad_out, pad_col;
} conv_sizes;

/* Whether the input gradient goes the stride-1 way, with the output gradient W+2p wide:
 * its GEMM then does (W+2p)/OW times the work, worth it up to about 1.5 (LeNet's C1 1.14,
 * C3 1.4; not C5, whose one output column would be five). */
static bool wide_input_grad(const conv_dims *d) {
    return d->stride == 1 && 2 * d->wp <= 3 * d->ow;
}

static conv_sizes sizes_of(const conv_dims *d) {
    conv_sizes z = {0};
    z.ld = d->group * d->p + VEC;
    z.col = d->ckk * z.ld;
    z.out = d->o * d->group * d->p;
    if (d->stride == 1)
        z.padded = d->c * d->hp * d->wp + VEC + d->kw;
    if (wide_input_grad(d)) {
        z.pad_out = d->o * d->group * d->oh * d->wp;
        z.pad_col = d->ckk * d->group * d->oh * d->wp;
    }
    return z;
}

/* The backward's scratch, per thread: a gathered gradient, a patch matrix (made again, or
 * w^T @ g), and for stride 1 a padded image and the gradient laid Wp wide; then (from
 * *parts_at, 64-byte aligned) per group its share of grad_w and grad_b. */
static int64_t backward_per_thread(const conv_dims *d) {
    conv_sizes z = sizes_of(d);
    return z.out + (z.col > z.pad_col ? z.col : z.pad_col) + z.padded + z.pad_out;
}

static size_t backward_scratch_bytes(const conv_dims *d, int threads, size_t *parts_at) {
    size_t per_thread = gt__real_bytes(threads * backward_per_thread(d));
    size_t at = (per_thread + 63) & ~(size_t)63;
    if (parts_at)
        *parts_at = at;
    return at + gt__real_bytes(d->n_groups * (d->o * d->ckk + d->o));
}

/* A group's patches: through a padded copy of each image for stride 1. */
static void group_patches(const conv_dims *d, const gt_real *x, int64_t count, gt_real *col,
                          int64_t ld, gt_real *padded) {
    int64_t image_in = d->c * d->h * d->w;
    for (int64_t k = 0; k < count; k++)
        if (d->stride == 1) {
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
    return d->padding == 0 && d->kh == d->h && d->kw == d->w;
}

// x[N, CKK] @ w[O, CKK]^T + b[O] -> y[N, O] (y[N,O,1,1])
static void dense_forward(const conv_dims *d, const gt_real *x, const gt_real *w,
                          const gt_real *b, gt_real *y) {
    gt__gemm(false, true, d->n, d->o, d->ckk, 1, x, d->ckk, w, d->ckk, 0, y, d->o);
    for (int64_t i = 0; b && i < d->n; i++)
        for (int64_t o = 0; o < d->o; o++)
            y[i * d->o + o] += b[o];
}

// g[N, O] -> grad_w[O, CKK] += g^T @ x, grad_x[N, CKK] += g @ w, grad_b[O] += sum over N
static void dense_backward(const conv_dims *d, gt_tensor *x, gt_tensor *w, gt_tensor *b,
                           const gt_real *g) {
    if (w->grad)
        gt__gemm(true, false, d->o, d->ckk, d->n, 1, g, d->o, x->data, d->ckk, 1, w->grad,
                 d->ckk);
    if (x->grad)
        gt__gemm(false, false, d->n, d->ckk, d->o, 1, g, d->o, w->data, d->ckk, 1, x->grad,
                 d->ckk);
    for (int64_t i = 0; b && b->grad && i < d->n; i++)
        for (int64_t o = 0; o < d->o; o++)
            b->grad[o] += g[i * d->o + o];
}

/* One group's share of a forward: its patches, one product, the images out. */
typedef struct forward_job {
    const conv_dims *d;
    const conv_sizes *z;
    const gt_real *x, *w, *b; /* b may be NULL */
    gt_real *out, *scratch;   /* scratch: per_thread reals for each thread */
    int64_t per_thread;
} forward_job;

static void forward_group(const void *job_ptr, int64_t g, int tid) {
    const forward_job *job = job_ptr;
    const conv_dims *d = job->d;
    int64_t first = g * d->group, count = d->n - first < d->group ? d->n - first : d->group;
    int64_t n = count * d->p, ld = n + VEC;
    gt_real *y = job->scratch + tid * job->per_thread, *padded = y + job->z->out;
    gt_real *col = padded + job->z->padded;
    group_patches(d, job->x + first * d->c * d->h * d->w, count, col, ld, padded);
    gt__gemm(false, false, d->o, n, d->ckk, 1, job->w, d->ckk, col, ld, 0, y, n);
    scatter_images(d, count, y, job->b, job->out + first * d->o * d->p);
}

/* Runs fn over the groups on up to `threads` threads of the library's pool. */
static void run_groups(int64_t n_groups, int threads, gt__part_fn *fn, const void *job) {
    gt__parallel_parts(n_groups, threads, fn, job);
}

// x[N,C,H,W] * w[O,C,KH,KW] + b[O] -> y[N,O,OH,OW]
static gt_tensor *conv2d_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                 int n_in, const void *args_ptr) {
    const conv2d_args *args = args_ptr;
    gt_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    conv_dims d;
    if (gt__check_inputs(op->name, tape, in, n_in, 2) != GT_OK ||
        conv_dims_of(x, w, b, args->stride, args->padding, &d) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, 4, (int64_t[]){d.n, d.o, d.oh, d.ow});
    if (!out)
        return NULL;
    bool record = gt__tape_will_record(tape, in, n_in);
    bool dense = full_window(&d);
    int threads = dense ? 1 : group_threads(&d);
    conv_sizes z = sizes_of(&d);
    int64_t per_thread = z.out + z.padded + z.col; /* a product, a padded image, patches */
    gt_real *scratch =
        dense ? NULL : gt__tape_alloc(tape, gt__real_bytes(threads * per_thread), "conv2d");
    conv_saved *saved = record ? gt__tape_alloc(tape, sizeof *saved, "conv2d") : NULL;
    if ((!dense && !scratch) || (record && !saved))
        return NULL;
    if (dense) {
        dense_forward(&d, x->data, w->data, b ? b->data : NULL, out->data);
    } else {
        forward_job job = {&d, &z, x->data, w->data, b ? b->data : NULL, out->data, scratch,
                           per_thread};
        run_groups(d.n_groups, threads, forward_group, &job);
    }
    gt_node *node;
    gt_tensor *inputs[3] = {x, w, b};
    out = gt__op_finish(tape, op, out, inputs, b ? 3 : 2, args, &node);
    if (node) {
        *saved = (conv_saved){d, threads};
        node->saved = saved;
        node->scratch_bytes = dense ? 0 : backward_scratch_bytes(&d, threads, NULL);
    }
    return out;
}

/* One group's share of a backward: its part of grad_w (or, with one group, grad_w itself)
 * and of grad_b, and its images' input gradients. */
typedef struct backward_job {
    const conv_dims *d;
    const conv_sizes *z;
    const gt_tensor *x, *w;
    const gt_real *g;      /* the output gradient */
    gt_real *grad_x, *grad_w, *grad_b; /* NULL when not needed */
    gt_real *scratch;      /* per_thread reals for each thread */
    gt_real *parts;        /* per group: O*CKK of grad_w, then O of grad_b */
    int64_t per_thread;
} backward_job;

static void backward_group(const void *job_ptr, int64_t g, int tid) {
    const backward_job *job = job_ptr;
    const conv_dims *d = job->d;
    const conv_sizes *z = job->z;
    int64_t first = g * d->group, count = d->n - first < d->group ? d->n - first : d->group;
    int64_t n = count * d->p, ld = n + VEC, image_in = d->c * d->h * d->w;
    gt_real *grad = job->scratch + tid * job->per_thread;
    gt_real *scratch = grad + z->out; /* patches, or w^T @ g */
    gt_real *padded = scratch + (z->col > z->pad_col ? z->col : z->pad_col);
    gt_real *grad_wide = padded + z->padded;
    gt_real *part_w = job->parts + g * (d->o * d->ckk + d->o), *part_b = part_w + d->o * d->ckk;
    const gt_real *g_out = job->g + first * d->o * d->p;
    gather_images(d, count, g_out, grad);
    if (job->grad_w) {
        group_patches(d, job->x->data + first * image_in, count, scratch, ld, padded);
        bool direct = d->n_groups == 1; /* one group: its product adds into grad_w itself */
        gt__gemm(false, true, d->o, d->ckk, n, 1, grad, n, scratch, ld, direct ? 1 : 0,
                 direct ? job->grad_w : part_w, d->ckk);
    }
    if (job->grad_b)
        sum_rows(d->o, n, grad, part_b);
    if (job->grad_x && wide_input_grad(d)) {
        int64_t wide = count * d->oh * d->wp;
        gather_images_padded(d, count, g_out, grad_wide);
        gt__gemm(true, false, d->ckk, wide, d->o, 1, job->w->data, d->ckk, grad_wide, wide, 0,
                 scratch, wide);
        for (int64_t k = 0; k < count; k++)
            col2im_padded_add(d, scratch + k * d->oh * d->wp, wide, padded,
                              job->grad_x + (first + k) * image_in);
    } else if (job->grad_x) {
        gt__gemm(true, false, d->ckk, n, d->o, 1, job->w->data, d->ckk, grad, n, 0, scratch, n);
        for (int64_t k = 0; k < count; k++)
            col2im_add(d, scratch + k * d->p, n, job->grad_x + (first + k) * image_in);
    }
}

// g[N,O,OH,OW] -> grad_w += g @ col^T, grad_x += col2im(w^T @ g), grad_b += sum g, by group
static gt_status conv2d_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
    const conv_saved *saved = node->saved;
    const conv_dims d = saved->dims;
    const conv_sizes z = sizes_of(&d);
    if (full_window(&d)) {
        dense_backward(&d, x, w, b, node->out->grad);
        return GT_OK;
    }
    /* node->scratch, taken by gt_backward and sized by the forward for its thread count */
    size_t parts_at;
    backward_scratch_bytes(&d, saved->threads, &parts_at);
    gt_real *scratch = node->scratch; /* NULL for an empty batch: nothing to do */
    if (!scratch)
        return GT_OK;
    backward_job job = {&d, &z, x, w, node->out->grad, x->grad, w->grad, b ? b->grad : NULL,
                        scratch, (gt_real *)((char *)scratch + parts_at),
                        backward_per_thread(&d)};
    run_groups(d.n_groups, saved->threads, backward_group, &job);
    for (int64_t g = 0; g < d.n_groups; g++) { /* in group order: independent of threads */
        const gt_real *part_w = job.parts + g * (d.o * d.ckk + d.o), *part_b = part_w + d.o * d.ckk;
        for (int64_t i = 0; w->grad && d.n_groups > 1 && i < d.o * d.ckk; i++)
            w->grad[i] += part_w[i];
        for (int64_t o = 0; job.grad_b && o < d.o; o++)
            job.grad_b[o] += part_b[o];
    }
    return GT_OK;
}

static const gt_attr_def conv2d_attrs[] = {
    {"stride", GT_ATTR_INT, offsetof(conv2d_args, stride), .dflt = 1,
     .flags = GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX, .min = 1, .max = 1 << 20},
    {"padding", GT_ATTR_INT, offsetof(conv2d_args, padding), .dflt = 0,
     .flags = GT_ATTR_HAS_MIN | GT_ATTR_HAS_MAX, .min = 0, .max = 1 << 20},
};

const gt_op_def gt_op_conv2d = {
    .name = "conv2d",
    .doc = "2-D cross-correlation with zero padding, as torch.nn.functional.conv2d",
    .shapes = "input[N,C,H,W], weight[O,C,KH,KW], bias[O] -> "
              "[N,O,(H+2*padding-KH)/stride+1,(W+2*padding-KW)/stride+1]",
    .inputs = {{"input", .alias = "x"}, {"weight", .alias = "w"},
               {"bias", .optional = true, .alias = "b"}},
    GT__ATTRS(conv2d_attrs),
    .args_size = sizeof(conv2d_args),
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    GT__CASES("1x1x5x5 2x1x3x3 2", "2x3x7x6 4x3x3x3 4; stride=2, padding=1",
              "2x2x5x4 3x2x2x3; padding=1", "1x1x6x6 2x1x5x5 2; padding=2",
              "20x2x3x3 2x2x2x2 2", "3x4x5x5 6x4x5x5 6",
              "1x3x5x5 2x2x3x3 => conv2d: input channels differ",
              "1x1x5x5 1x1x3x3; stride=0 => conv2d: stride must be >= 1, got 0",
              "1x1x5x5 1x1x3x3; padding=-1 => conv2d: padding must be >= 0, got -1",
              "1x1x2x2 1x1x3x3 => conv2d: kernel [1, 1, 3, 3] does not fit input [1, 1, 2, 2]",
              "1x1x5x5 2x1x3x3 3 => conv2d: bias must be [2]"),
};

gt_tensor *gt_conv2d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b, int stride,
                     int padding) {
    return gt_op_call(tape, &gt_op_conv2d, (gt_tensor *[]){x, w, b}, b ? 3 : 2,
                      &(conv2d_args){stride, padding});
}
