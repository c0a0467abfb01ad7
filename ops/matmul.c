/* matmul.c - matrix products: matmul (2-D and batched 3-D) and linear (x @ w^T + b). */
#include "gt_ops_impl.h"

#include <string.h>

/* Batched view of a matmul: y[b] = a[b] @ w[b or shared]. */
typedef struct matmul_dims {
    int64_t batch, m, k, n;
    bool shared_b; /* b is 2-D and used by every batch */
} matmul_dims;

static gt_status matmul_dims_of(const gt_tensor *a, const gt_tensor *b, matmul_dims *d) {
    bool ok = (a->ndim == 2 && b->ndim == 2) || (a->ndim == 3 && (b->ndim == 2 || b->ndim == 3));
    if (!ok)
        return gt_set_error(GT_ERR_SHAPE, "matmul: expects 2-D or 3-D inputs: %s @ %s",
                            gt__shape_of(a), gt__shape_of(b));
    d->batch = a->ndim == 3 ? a->shape[0] : 1;
    d->m = a->shape[a->ndim - 2];
    d->k = a->shape[a->ndim - 1];
    d->n = b->shape[b->ndim - 1];
    d->shared_b = b->ndim == 2;
    if (b->shape[b->ndim - 2] != d->k)
        return gt_set_error(GT_ERR_SHAPE, "matmul: inner dimensions differ: %s @ %s",
                            gt__shape_of(a), gt__shape_of(b));
    if (b->ndim == 3 && b->shape[0] != d->batch)
        return gt_set_error(GT_ERR_SHAPE, "matmul: batch sizes differ: %s @ %s",
                            gt__shape_of(a), gt__shape_of(b));
    return GT_OK;
}

// a[B,M,K] @ b[B,K,N] (or b[K,N]) -> y[B,M,N]; 2-D is B = 1
static gt_tensor *matmul_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                 int n_in, const void *args) {
    (void)n_in;
    (void)args;
    matmul_dims d;
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK ||
        matmul_dims_of(in[0], in[1], &d) != GT_OK)
        return NULL;
    int64_t shape[3] = {d.batch, d.m, d.n};
    bool batched = in[0]->ndim == 3;
    gt_tensor *out = gt__op_output(tape, op, batched ? 3 : 2, batched ? shape : shape + 1);
    if (!out)
        return NULL;
    for (int64_t s = 0; s < d.batch; s++)
        gt__gemm(false, false, d.m, d.n, d.k, 1, in[0]->data + s * d.m * d.k, d.k,
                 in[1]->data + (d.shared_b ? 0 : s * d.k * d.n), d.n, 0,
                 out->data + s * d.m * d.n, d.n);
    return gt__op_finish(tape, op, out, in, 2, NULL, NULL);
}

// grad_a[M,K] += g[M,N] @ b^T; grad_b[K,N] += a^T @ g (summed over batches when shared)
static gt_status matmul_backward(gt_node *node) {
    gt_tensor *a = node->in[0], *b = node->in[1];
    matmul_dims d;
    gt_status status = matmul_dims_of(a, b, &d);
    if (status != GT_OK)
        return status;
    const gt_real *g = node->out->grad;
    for (int64_t s = 0; s < d.batch; s++) {
        const gt_real *gs = g + s * d.m * d.n;
        const gt_real *bs = b->data + (d.shared_b ? 0 : s * d.k * d.n);
        if (a->grad)
            gt__gemm(false, true, d.m, d.k, d.n, 1, gs, d.n, bs, d.n, 1,
                     a->grad + s * d.m * d.k, d.k);
        if (b->grad)
            gt__gemm(true, false, d.k, d.n, d.m, 1, a->data + s * d.m * d.k, d.k, gs, d.n, 1,
                     b->grad + (d.shared_b ? 0 : s * d.k * d.n), d.n);
    }
    return GT_OK;
}

// x[N,IN] @ w[OUT,IN]^T + b[OUT] -> y[N,OUT]
static gt_tensor *linear_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                 int n_in, const void *args) {
    (void)args;
    gt_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    if (gt__check_inputs(op->name, tape, in, n_in, 2) != GT_OK)
        return NULL;
    if (x->ndim != 2 || w->ndim != 2 || x->shape[1] != w->shape[1])
        return gt__shape_error2("linear", "x[N,IN] and w[OUT,IN] do not fit", x, w);
    int64_t n = x->shape[0], in_features = x->shape[1], out_features = w->shape[0];
    if (b && (b->ndim != 1 || b->shape[0] != out_features))
        return gt__shape_error2("linear", "bias must be [OUT] for w[OUT,IN]", b, w);
    gt_tensor *out = gt__op_output(tape, op, 2, (int64_t[]){n, out_features});
    if (!out)
        return NULL;
    gt__gemm(false, true, n, out_features, in_features, 1, x->data, in_features, w->data,
             in_features, 0, out->data, out_features);
    if (b)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < out_features; j++)
                out->data[i * out_features + j] += b->data[j];
    gt_tensor *inputs[3] = {x, w, b};
    gt_node *node;
    out = gt__op_finish(tape, op, out, inputs, b ? 3 : 2, NULL, &node);
    if (node)
        node->overwrites = 6u; /* w and b: their gradients are written whole when stale */
    return out;
}

// grad_x[N,IN] += g[N,OUT] @ w; grad_w[OUT,IN] += g^T @ x; grad_b[OUT] += sum_n g
static gt_status linear_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
    int64_t n = x->shape[0], in_features = x->shape[1], out_features = w->shape[0];
    const gt_real *g = node->out->grad;
    if (x->grad)
        gt__gemm(false, false, n, in_features, out_features, 1, g, out_features, w->data,
                 in_features, 1, x->grad, in_features);
    if (w->grad) /* beta 0 on a stale gradient: written, not added (zero_grad cost nothing) */
        gt__gemm(true, false, out_features, in_features, n, 1, g, out_features, x->data,
                 in_features, gt__grad_take_stale(w) ? 0 : 1, w->grad, in_features);
    if (b && b->grad && gt__grad_take_stale(b))
        memset(b->grad, 0, gt__real_bytes(out_features));
    if (b && b->grad)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < out_features; j++)
                b->grad[j] += g[i * out_features + j];
    return GT_OK;
}

// grad_a = g @ b^T; grad_b = a^T @ g, summed over the batch when b is shared
static gt_status matmul_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                   gt_tensor **grad_in) {
    gt_tensor *a = node->in[0], *b = node->in[1];
    int last_a = a->ndim - 1, last_b = b->ndim - 1;
    if (gt__needs_grad(node, 0) &&
        !(grad_in[0] = gt_matmul(tape, g, gt_transpose(tape, b, last_b - 1, last_b))))
        return gt_last_status();
    if (!gt__needs_grad(node, 1))
        return GT_OK;
    if (b->ndim == 2 && a->ndim == 3) { /* shared b: [B*M,K]^T @ [B*M,N] */
        int64_t rows = a->shape[0] * a->shape[1];
        gt_tensor *a2 = gt_reshape(tape, a, 2, (int64_t[]){rows, a->shape[2]});
        gt_tensor *g2 = gt_reshape(tape, g, 2, (int64_t[]){rows, g->shape[2]});
        grad_in[1] = gt_matmul(tape, gt_transpose(tape, a2, 0, 1), g2);
    } else {
        grad_in[1] = gt_matmul(tape, gt_transpose(tape, a, last_a - 1, last_a), g);
    }
    return grad_in[1] ? GT_OK : gt_last_status();
}

// grad_x = g @ w; grad_w = g^T @ x; grad_b = sum_n g
static gt_status linear_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                   gt_tensor **grad_in) {
    gt_tensor *x = node->in[0], *w = node->in[1];
    if (gt__needs_grad(node, 0) && !(grad_in[0] = gt_matmul(tape, g, w)))
        return gt_last_status();
    if (gt__needs_grad(node, 1) &&
        !(grad_in[1] = gt_matmul(tape, gt_transpose(tape, g, 0, 1), x)))
        return gt_last_status();
    if (gt__needs_grad(node, 2) && !(grad_in[2] = gt_sum(tape, g, 0)))
        return gt_last_status();
    return GT_OK;
}

const gt_op_def gt_op_matmul = {
    .name = "matmul",
    .doc = "matrix product; 3-D inputs are batched",
    .shapes = "input[M,K] @ other[K,N] -> [M,N]; input[B,M,K] @ other[B,K,N] or [K,N] -> [B,M,N]",
    .inputs = {{"input"}, {"other"}},
    .forward = matmul_forward,
    .backward = matmul_backward,
    .grad_graph = matmul_grad_graph,
    GT__CASES("3x5 5x4", "1x1 1x7", "2x3x4 2x4x5", "2x3x4 4x2",
              "2x3 4x5 => matmul: inner dimensions differ: [2, 3] @ [4, 5]",
              "3 3 => matmul: expects 2-D or 3-D inputs: [3] @ [3]",
              "2x2x3 3x3x4 => matmul: batch sizes differ: [2, 2, 3] @ [3, 3, 4]"),
};

const gt_op_def gt_op_linear = {
    .name = "linear",
    .doc = "input @ weight^T + bias, as torch.nn.functional.linear",
    .shapes = "input[N,IN], weight[OUT,IN], bias[OUT] -> [N,OUT]",
    .inputs = {{"input", .alias = "x"}, {"weight", .alias = "w"},
               {"bias", .optional = true, .alias = "b"}},
    .forward = linear_forward,
    .backward = linear_backward,
    .grad_graph = linear_grad_graph,
    GT__CASES("4x5 3x5 3", "1x7 2x7",
              "4x5 3x6 => linear: x[N,IN] and w[OUT,IN] do not fit: [4, 5] vs [3, 6]",
              "4x5 3x5 4 => linear: bias must be [OUT] for w[OUT,IN]: [4] vs [3, 5]"),
};

gt_tensor *gt_matmul(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_matmul, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_linear(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_linear, (gt_tensor *[]){x, w, b}, b ? 3 : 2, NULL);
}
