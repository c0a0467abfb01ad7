/* conv.c - conv2d as im2col + GEMM: each image's patches become the columns of a matrix
 * that the weights multiply. Cross-correlation with zero padding, as PyTorch's conv2d. */
#include "gt_ops_impl.h"

#include <string.h>

typedef struct conv_dims {
    int64_t n, c, h, w;       /* input */
    int64_t o, kh, kw;        /* weight */
    int64_t oh, ow;           /* output */
    int64_t stride, padding;
} conv_dims;

static gt_status conv_dims_of(const gt_tensor *x, const gt_tensor *w, const gt_tensor *b,
                              double stride, double padding, conv_dims *d) {
    if (x->ndim != 4 || w->ndim != 4)
        return gt_set_error(GT_ERR_SHAPE, "conv2d: expects x[N,C,H,W] and w[O,C,KH,KW], got %s "
                            "and %s", gt__shape_of(x), gt__shape_of(w));
    if (x->shape[1] != w->shape[1])
        return gt_set_error(GT_ERR_SHAPE, "conv2d: input channels differ: x %s has %lld, w %s "
                            "has %lld", gt__shape_of(x), (long long)x->shape[1],
                            gt__shape_of(w), (long long)w->shape[1]);
    if (stride < 1 || stride > 1e6 || stride != (int64_t)stride || padding < 0 ||
        padding > 1e6 || padding != (int64_t)padding)
        return gt_set_error(GT_ERR_ARG, "conv2d: stride must be an integer >= 1 and padding "
                            ">= 0, got stride=%g padding=%g", stride, padding);
    *d = (conv_dims){x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0],
                     w->shape[2], w->shape[3], 0, 0, (int64_t)stride, (int64_t)padding};
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
    return GT_OK;
}

// x[C,H,W] -> col[C*KH*KW, OH*OW], zero outside the image
static void im2col(const conv_dims *d, const gt_real *x, gt_real *col) {
    int64_t p = d->oh * d->ow;
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++) {
                gt_real *row = col + ((c * d->kh + i) * d->kw + j) * p;
                for (int64_t oy = 0; oy < d->oh; oy++) {
                    int64_t y = oy * d->stride - d->padding + i;
                    for (int64_t ox = 0; ox < d->ow; ox++) {
                        int64_t xx = ox * d->stride - d->padding + j;
                        bool inside = y >= 0 && y < d->h && xx >= 0 && xx < d->w;
                        row[oy * d->ow + ox] = inside ? x[(c * d->h + y) * d->w + xx] : 0;
                    }
                }
            }
}

// col[C*KH*KW, OH*OW] -> x[C,H,W] +=, accumulating where patches overlap
static void col2im_add(const conv_dims *d, const gt_real *col, gt_real *x) {
    int64_t p = d->oh * d->ow;
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t i = 0; i < d->kh; i++)
            for (int64_t j = 0; j < d->kw; j++) {
                const gt_real *row = col + ((c * d->kh + i) * d->kw + j) * p;
                for (int64_t oy = 0; oy < d->oh; oy++) {
                    int64_t y = oy * d->stride - d->padding + i;
                    if (y < 0 || y >= d->h)
                        continue;
                    for (int64_t ox = 0; ox < d->ow; ox++) {
                        int64_t xx = ox * d->stride - d->padding + j;
                        if (xx >= 0 && xx < d->w)
                            x[(c * d->h + y) * d->w + xx] += row[oy * d->ow + ox];
                    }
                }
            }
}

// x[N,C,H,W] * w[O,C,KH,KW] + b[O] -> y[N,O,OH,OW]
gt_tensor *gt__conv2d_forward(gt_tape *tape, gt_tensor *const *in, int n_in,
                              const gt_op_args *args) {
    gt_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    conv_dims d;
    if (gt__check_inputs("conv2d", tape, in, n_in, 2) != GT_OK ||
        conv_dims_of(x, w, b, args->v[0], args->v[1], &d) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, GT_OP_CONV2D, 4, (int64_t[]){d.n, d.o, d.oh, d.ow});
    int64_t p = d.oh * d.ow, ckk = d.c * d.kh * d.kw;
    gt_real *col = out ? gt__tape_alloc(tape, gt__real_bytes(ckk * p), "conv2d") : NULL;
    if (!col)
        return NULL;
    for (int64_t s = 0; s < d.n; s++) {
        gt_real *y = out->data + s * d.o * p;
        im2col(&d, x->data + s * d.c * d.h * d.w, col);
        gt__gemm(false, false, d.o, p, ckk, 1, w->data, ckk, col, p, 0, y, p);
        if (b)
            for (int64_t o = 0; o < d.o; o++)
                for (int64_t i = 0; i < p; i++)
                    y[o * p + i] += b->data[o];
    }
    gt_node *node;
    gt_tensor *inputs[3] = {x, w, b};
    out = gt__op_finish(tape, GT_OP_CONV2D, out, inputs, b ? 3 : 2, &node);
    if (node) {
        node->args[0] = (double)d.stride;
        node->args[1] = (double)d.padding;
        node->scratch_bytes = gt__real_bytes(ckk * p); /* col again, for the backward */
    }
    return out;
}

// g[N,O,OH,OW] -> grad_w += g_n @ col^T; grad_x += col2im(w^T @ g_n); grad_b += sum g
gt_status gt__conv2d_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
    conv_dims d;
    gt_status status = conv_dims_of(x, w, b, node->args[0], node->args[1], &d);
    if (status != GT_OK)
        return status;
    int64_t p = d.oh * d.ow, ckk = d.c * d.kh * d.kw;
    gt_real *col = node->scratch; /* col[C*KH*KW, OH*OW], taken by gt_backward */
    for (int64_t s = 0; s < d.n; s++) {
        const gt_real *g = node->out->grad + s * d.o * p;
        if (w->grad) {
            im2col(&d, x->data + s * d.c * d.h * d.w, col);
            gt__gemm(false, true, d.o, ckk, p, 1, g, p, col, p, 1, w->grad, ckk);
        }
        if (x->grad) {
            gt__gemm(true, false, ckk, p, d.o, 1, w->data, ckk, g, p, 0, col, p);
            col2im_add(&d, col, x->grad + s * d.c * d.h * d.w);
        }
        if (b && b->grad)
            for (int64_t o = 0; o < d.o; o++)
                for (int64_t i = 0; i < p; i++)
                    b->grad[o] += g[o * p + i];
    }
    return GT_OK;
}

gt_tensor *gt_conv2d(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b, int stride,
                     int padding) {
    return gt_op_apply(tape, GT_OP_CONV2D, (gt_tensor *[]){x, w, b}, b ? 3 : 2,
                       &(gt_op_args){2, {stride, padding}});
}
