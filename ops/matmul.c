/* matmul.c - matrix products: matmul (torch.matmul's rules: 1-D operands, batched N-D with
 * broadcast batch dims) and linear (x @ w^T + b). */
#include "gt_ops_impl.h"

#include <string.h>

/* A matmul as torch.matmul sees it: out[batch..., M, N] = a[batch_a..., M, K] @
 * b[batch_b..., K, N], the batch dims broadcast (NumPy's rules), a 1-D a a row [1, K] and a
 * 1-D b a column [K, 1] whose size-1 dim the output drops. The data of a 1-D operand is
 * already that row or column, so every product is one GEMM per output batch. */
typedef struct matmul_dims {
    int64_t batch, m, k, n;
    int batch_ndim;
    int64_t batch_shape[GT_MAX_DIMS];
    int64_t a_stride[GT_MAX_DIMS], b_stride[GT_MAX_DIMS]; /* per batch dim, 0 when broadcast */
    bool a_broadcast, b_broadcast; /* an operand's matrix is used by several output batches */
    int out_ndim;
    int64_t out_shape[GT_MAX_DIMS];
} matmul_dims;

static gt_status matmul_dims_of(const gt_tensor *a, const gt_tensor *b, matmul_dims *d) {
    if (a->ndim == 0 || b->ndim == 0)
        return gt_set_error(GT_ERR_SHAPE, "matmul: both inputs need at least 1 dim: %s @ %s",
                            gt__shape_of(a), gt__shape_of(b));
    *d = (matmul_dims){0};
    d->m = a->ndim >= 2 ? a->shape[a->ndim - 2] : 1;
    d->k = a->shape[a->ndim - 1];
    d->n = b->ndim >= 2 ? b->shape[b->ndim - 1] : 1;
    if (b->shape[b->ndim >= 2 ? b->ndim - 2 : 0] != d->k)
        return gt_set_error(GT_ERR_SHAPE, "matmul: inner dimensions differ: %s @ %s",
                            gt__shape_of(a), gt__shape_of(b));
    int a_nb = a->ndim > 2 ? a->ndim - 2 : 0, b_nb = b->ndim > 2 ? b->ndim - 2 : 0;
    d->batch_ndim = a_nb > b_nb ? a_nb : b_nb;
    if (d->batch_ndim + (a->ndim >= 2) + (b->ndim >= 2) > GT_MAX_DIMS)
        return gt_set_error(GT_ERR_SHAPE, "matmul: %s @ %s has more than %d dims",
                            gt__shape_of(a), gt__shape_of(b), GT_MAX_DIMS);
    int64_t a_step = d->m * d->k, b_step = d->k * d->n;
    d->batch = 1;
    for (int i = d->batch_ndim - 1; i >= 0; i--) { /* i counts batch dims from the right */
        int ai = i - (d->batch_ndim - a_nb), bi = i - (d->batch_ndim - b_nb);
        int64_t as = ai >= 0 ? a->shape[ai] : 1, bs = bi >= 0 ? b->shape[bi] : 1;
        if (as != bs && as != 1 && bs != 1)
            return gt_set_error(GT_ERR_SHAPE, "matmul: batch dims do not broadcast: %s @ %s",
                                gt__shape_of(a), gt__shape_of(b));
        int64_t size = as > bs ? as : bs;
        if (as == 0 || bs == 0)
            size = 0;
        d->batch_shape[i] = size;
        d->a_stride[i] = as == size ? a_step : 0;
        d->b_stride[i] = bs == size ? b_step : 0;
        d->a_broadcast = d->a_broadcast || (as != size && size > 1);
        d->b_broadcast = d->b_broadcast || (bs != size && size > 1);
        a_step *= as;
        b_step *= bs;
        d->batch *= size;
    }
    for (int i = 0; i < d->batch_ndim; i++)
        d->out_shape[d->out_ndim++] = d->batch_shape[i];
    if (a->ndim >= 2)
        d->out_shape[d->out_ndim++] = d->m;
    if (b->ndim >= 2)
        d->out_shape[d->out_ndim++] = d->n;
    return GT_OK;
}

/* The offsets of output batch s's matrices in a and b. */
static void matmul_batch_offsets(const matmul_dims *d, int64_t s, int64_t *a_off,
                                 int64_t *b_off) {
    *a_off = *b_off = 0;
    for (int i = d->batch_ndim - 1; i >= 0; i--) {
        int64_t idx = s % d->batch_shape[i];
        s /= d->batch_shape[i];
        *a_off += idx * d->a_stride[i];
        *b_off += idx * d->b_stride[i];
    }
}

/* One pass of the batched products over output batches [from, to). */
typedef struct matmul_pass {
    const matmul_dims *d;
    const gt_real *a, *b, *g;
    gt_real *out, *grad_a, *grad_b;
    gt_real beta_a, beta_b; /* 0 to write a stale gradient whole, 1 to add */
} matmul_pass;

// out[s] = a[s] @ b[s]: a[M,K] b[K,N] out[M,N]
static void matmul_forward_range(void *ctx, int64_t from, int64_t to) {
    const matmul_pass *p = ctx;
    const matmul_dims *d = p->d;
    for (int64_t s = from; s < to; s++) {
        int64_t ao, bo;
        matmul_batch_offsets(d, s, &ao, &bo);
        gt__gemm(false, false, d->m, d->n, d->k, 1, p->a + ao, d->k, p->b + bo, d->n, 0,
                 p->out + s * d->m * d->n, d->n);
    }
}

// grad_a[s] (= or +=) g[s] @ b[s]^T (when grad_a); grad_b[s] (= or +=) a[s]^T @ g[s] (when
// grad_b), by the pass's betas
static void matmul_backward_range(void *ctx, int64_t from, int64_t to) {
    const matmul_pass *p = ctx;
    const matmul_dims *d = p->d;
    for (int64_t s = from; s < to; s++) {
        int64_t ao, bo;
        matmul_batch_offsets(d, s, &ao, &bo);
        const gt_real *gs = p->g + s * d->m * d->n;
        if (p->grad_a)
            gt__gemm(false, true, d->m, d->k, d->n, 1, gs, d->n, p->b + bo, d->n, p->beta_a,
                     p->grad_a + ao, d->k);
        if (p->grad_b)
            gt__gemm(true, false, d->k, d->n, d->m, 1, p->a + ao, d->k, gs, d->n, p->beta_b,
                     p->grad_b + bo, d->n);
    }
}

static double matmul_flops(const matmul_dims *d) {
    return 2.0 * (double)d->batch * (double)d->m * (double)d->k * (double)d->n;
}

// a[..., M, K] @ b[..., K, N] -> [broadcast batch..., M, N] (1-D operands: see matmul_dims)
static gt_tensor *matmul_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                 int n_in, const void *args) {
    (void)n_in;
    (void)args;
    matmul_dims d;
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK ||
        matmul_dims_of(in[0], in[1], &d) != GT_OK)
        return NULL;
    gt_tensor *out = gt__op_output(tape, op, d.out_ndim, d.out_shape);
    if (!out)
        return NULL;
    matmul_pass pass = {&d, in[0]->data, in[1]->data, NULL, out->data, NULL, NULL, 0, 0};
    if (d.k == 0)
        memset(out->data, 0, gt__real_bytes(out->numel));
    else if (d.batch == 1 || in[1]->ndim <= 2) /* one product, or a shared right side */
        matmul_forward_range(&pass, 0, d.batch);
    else /* batches in parallel, each product on one thread */
        gt__parallel_ranges(d.batch, 1, matmul_flops(&d), matmul_forward_range, &pass);
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 2, NULL, &node);
    /* an operand's gradient that no two batches share (nor the other operand) is written
     * whole by one GEMM per batch, when there are batches: a stale one with beta 0
     * (gt__grad_mark_stale) */
    if (node && in[0] != in[1] && d.batch > 0)
        node->overwrites = (d.a_broadcast ? 0u : 1u) | (d.b_broadcast ? 0u : 2u);
    return out;
}

// grad_a += g @ b^T; grad_b += a^T @ g, per output batch, summed over broadcast batches
static gt_status matmul_backward(gt_node *node) {
    gt_tensor *a = node->in[0], *b = node->in[1];
    matmul_dims d;
    gt_status status = matmul_dims_of(a, b, &d);
    if (status != GT_OK)
        return status;
    matmul_pass pass = {&d, a->data, b->data, node->out->grad, NULL, a->grad, b->grad, 1, 1};
    if (a->grad && (node->overwrites & 1u) && gt__grad_take_stale(a))
        pass.beta_a = 0;
    if (b->grad && (node->overwrites & 2u) && gt__grad_take_stale(b))
        pass.beta_b = 0;
    /* batches in parallel only when no gradient is shared by two of them */
    bool shared = (a->grad && d.a_broadcast) || (b->grad && (d.b_broadcast || b->ndim <= 2));
    if (d.batch == 1 || shared)
        matmul_backward_range(&pass, 0, d.batch);
    else
        gt__parallel_ranges(d.batch, 1, 2 * matmul_flops(&d), matmul_backward_range, &pass);
    return GT_OK;
}

/* linear as torch.nn.functional.linear: x[..., IN] (any leading dims, none for a 1-D x)
 * against w[OUT, IN] and b[OUT]. The leading dims of a contiguous x are one row count N, so
 * forward and backward are each one GEMM over x as [N, IN], with no copy. GT_OK, or the
 * error (PyTorch's wording for sizes that do not fit). */
static gt_status linear_rows_of(const gt_tensor *x, const gt_tensor *w, const gt_tensor *b,
                                int64_t *rows) {
    if (x->ndim == 0 || w->ndim != 2)
        return gt_set_error(GT_ERR_SHAPE,
                            "linear: input[..., IN] needs at least 1 dim and weight[OUT, IN] "
                            "2 dims: %s, %s",
                            gt__shape_of(x), gt__shape_of(w));
    int64_t in_features = x->shape[x->ndim - 1];
    *rows = 1;
    for (int d = 0; d < x->ndim - 1; d++)
        *rows *= x->shape[d];
    if (in_features != w->shape[1])
        return gt_set_error(GT_ERR_SHAPE,
                            "linear: mat1 and mat2 shapes cannot be multiplied (%lldx%lld and "
                            "%lldx%lld)",
                            (long long)*rows, (long long)in_features, (long long)w->shape[1],
                            (long long)w->shape[0]);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return gt_set_error(GT_ERR_SHAPE, "linear: bias must be [OUT] = [%lld] for weight %s, "
                            "got %s", (long long)w->shape[0], gt__shape_of(w), gt__shape_of(b));
    return GT_OK;
}

// x[..., IN] @ w[OUT,IN]^T + b[OUT] -> y[..., OUT]: one GEMM over x as rows [N, IN]
static gt_tensor *linear_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                 int n_in, const void *args) {
    (void)args;
    gt_tensor *x = in[0], *w = in[1], *b = n_in > 2 ? in[2] : NULL;
    int64_t n;
    if (gt__check_inputs(op->name, tape, in, n_in, 2) != GT_OK ||
        linear_rows_of(x, w, b, &n) != GT_OK)
        return NULL;
    int64_t in_features = w->shape[1], out_features = w->shape[0];
    int64_t shape[GT_MAX_DIMS];
    memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    shape[x->ndim - 1] = out_features;
    gt_tensor *out = gt__op_output(tape, op, x->ndim, shape);
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
        node->overwrites = 7u; /* x, w and b: their gradients are written whole when stale */
    return out;
}

// grad_x[N,IN] += g[N,OUT] @ w; grad_w[OUT,IN] += g^T @ x; grad_b[OUT] += sum_n g
// (x[..., IN] and g[..., OUT] as N rows)
static gt_status linear_backward(gt_node *node) {
    gt_tensor *x = node->in[0], *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
    int64_t n;
    gt_status status = linear_rows_of(x, w, b, &n);
    if (status != GT_OK)
        return status;
    int64_t in_features = w->shape[1], out_features = w->shape[0];
    const gt_real *g = node->out->grad;
    if (x->grad) /* beta 0 on a stale gradient: written, not added (gt__grad_mark_stale) */
        gt__gemm(false, false, n, in_features, out_features, 1, g, out_features, w->data,
                 in_features, gt__grad_take_stale(x) ? 0 : 1, x->grad, in_features);
    if (w->grad) /* the same for w (zero_grad cost nothing) */
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
    /* 1-D operands as matrices: a [K] as [1,K], b [K] as [K,1]; g gets their dims back */
    int64_t shape[GT_MAX_DIMS + 2];
    gt_tensor *a2 = a->ndim == 1 ? gt_reshape(tape, a, 2, (int64_t[]){1, a->shape[0]}) : a;
    gt_tensor *b2 = b->ndim == 1 ? gt_reshape(tape, b, 2, (int64_t[]){b->shape[0], 1}) : b;
    int nd = 0;
    for (int d = 0; d < g->ndim - (b->ndim == 1 ? 0 : 1); d++)
        shape[nd++] = g->shape[d];
    if (a->ndim == 1)
        shape[nd++] = 1;
    shape[nd++] = b->ndim == 1 ? 1 : g->shape[g->ndim - 1];
    if (a->ndim == 1 && b->ndim == 1)
        nd = 2, shape[0] = shape[1] = 1;
    gt_tensor *g2 = gt_reshape(tape, g, nd, shape);
    if (!a2 || !b2 || !g2)
        return gt_last_status();
    if (gt__needs_grad(node, 0)) { /* g @ b^T, summed over a's broadcast batch dims */
        gt_tensor *ga = gt_matmul(tape, g2, gt_transpose(tape, b2, b2->ndim - 2, b2->ndim - 1));
        ga = gt__sum_to(tape, ga, a2);
        if (!(grad_in[0] = ga ? gt_reshape(tape, ga, a->ndim, a->shape) : NULL))
            return gt_last_status();
    }
    if (gt__needs_grad(node, 1)) { /* a^T @ g, summed over b's broadcast batch dims */
        gt_tensor *gb = gt_matmul(tape, gt_transpose(tape, a2, a2->ndim - 2, a2->ndim - 1), g2);
        gb = gt__sum_to(tape, gb, b2);
        if (!(grad_in[1] = gb ? gt_reshape(tape, gb, b->ndim, b->shape) : NULL))
            return gt_last_status();
    }
    return GT_OK;
}

// grad_x = g @ w; grad_w = g^T @ x; grad_b = sum_n g, over x[..., IN] and g[..., OUT] as
// rows [N, IN] and [N, OUT]
static gt_status linear_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                   gt_tensor **grad_in) {
    gt_tensor *x = node->in[0], *w = node->in[1];
    if (gt__needs_grad(node, 0) && !(grad_in[0] = gt_matmul(tape, g, w)))
        return gt_last_status();
    if (!gt__needs_grad(node, 1) && !gt__needs_grad(node, 2))
        return GT_OK;
    gt_tensor *g2 = g, *x2 = x; /* views as rows, when x is not already [N, IN] */
    if (x->ndim != 2) {
        g2 = gt_reshape(tape, g, 2, (int64_t[]){-1, w->shape[0]});
        x2 = gt_reshape(tape, x, 2, (int64_t[]){-1, w->shape[1]});
        if (!g2 || !x2)
            return gt_last_status();
    }
    if (gt__needs_grad(node, 1) &&
        !(grad_in[1] = gt_matmul(tape, gt_transpose(tape, g2, 0, 1), x2)))
        return gt_last_status();
    if (gt__needs_grad(node, 2) && !(grad_in[2] = gt_sum(tape, g2, 0)))
        return gt_last_status();
    return GT_OK;
}

const gt_op_def gt_op_matmul = {
    .name = "matmul",
    .doc = "matrix product as torch.matmul: a 1-D input is a vector (dot, matrix-vector, "
           "vector-matrix); dims before the last two are batch dims and broadcast",
    .shapes = "input[M,K] @ other[K,N] -> [M,N]; input[B...,M,K] @ other[C...,K,N] -> "
              "[broadcast(B, C)...,M,N]; [K] @ [K] -> []; [M,K] @ [K] -> [M]; [K] @ [K,N] -> [N]",
    .inputs = {{"input"}, {"other"}},
    .forward = matmul_forward,
    .backward = matmul_backward,
    .grad_graph = matmul_grad_graph,
    GT__CASES("3x5 5x4", "1x1 1x7", "2x3x4 2x4x5", "2x3x4 4x2", "4 4", "3x4 4", "4 4x3",
              "2x3x4 4", "4 2x4x3", "2x3x3x4 2x3x4x2", "2x1x3x4 3x4x2", "2x1x3x4 1x5x4x2",
              "3x4 2x4x5", "1x3x4 2x4x5", "0x3 3x2", "2x0 0x3", "0x2x3 3x4",
              "2x3 4x5 => matmul: inner dimensions differ: [2, 3] @ [4, 5]",
              "3 4 => matmul: inner dimensions differ: [3] @ [4]",
              "() 3 => matmul: both inputs need at least 1 dim: [] @ [3]",
              "2x2x3 3x3x4 => matmul: batch dims do not broadcast: [2, 2, 3] @ [3, 3, 4]"),
};

const gt_op_def gt_op_linear = {
    .name = "linear",
    .doc = "input @ weight^T + bias over input's last dim, as torch.nn.functional.linear "
           "(any leading dims; one GEMM over them, no copy)",
    .shapes = "input[...,IN], weight[OUT,IN], bias[OUT] -> [...,OUT]; input[IN] -> [OUT]",
    .inputs = {{"input", .alias = "x"}, {"weight", .alias = "w"},
               {"bias", .optional = true, .alias = "b"}},
    .forward = linear_forward,
    .backward = linear_backward,
    .grad_graph = linear_grad_graph,
    GT__CASES("4x5 3x5 3", "1x7 2x7", "5 3x5 3", "5 3x5", "2x3x5 4x5 4", "2x3x5 4x5",
              "2x2x3x4 3x4 3", "0x5 3x5 3", "2x0x5 3x5", "4x0 3x0 3",
              "4x5 3x6 => linear: mat1 and mat2 shapes cannot be multiplied (4x5 and 6x3)",
              "5 3x6 => linear: mat1 and mat2 shapes cannot be multiplied (1x5 and 6x3)",
              "2x3x5 3x6 => linear: mat1 and mat2 shapes cannot be multiplied (6x5 and 6x3)",
              "2x0x5 3x6 => linear: mat1 and mat2 shapes cannot be multiplied (0x5 and 6x3)",
              "4x5 3x5 4 => linear: bias must be [OUT] = [3] for weight [3, 5], got [4]",
              "2x3x5 3x5 3x1 => linear: bias must be [OUT] = [3] for weight [3, 5], got [3, 1]",
              "() 3x5 => linear: input[..., IN] needs at least 1 dim and weight[OUT, IN] 2 dims: "
              "[], [3, 5]",
              "3x5 5 => linear: input[..., IN] needs at least 1 dim and weight[OUT, IN] 2 dims: "
              "[3, 5], [5]"),
};

gt_tensor *gt_matmul(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_matmul, (gt_tensor *[]){a, b}, 2, NULL);
}

gt_tensor *gt_linear(gt_tape *tape, gt_tensor *x, gt_tensor *w, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_linear, (gt_tensor *[]){x, w, b}, b ? 3 : 2, NULL);
}
