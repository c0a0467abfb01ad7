/* loss.c - cross-entropy (fused log-softmax) and mean squared error; both batch means. */
#include "gt_ops_impl.h"

#include <math.h>
#include <string.h>

/* What cross_entropy's backward needs: softmax of the logits and the target. */
typedef struct ce_saved {
    gt_real *probs;  /* [N,K] */
    gt_tensor *target;
    bool indices;    /* target is [N] class indices */
} ce_saved;

static gt_status check_targets(const gt_tensor *logits, const gt_tensor *target,
                               bool *indices) {
    int64_t n = logits->shape[0], k = logits->shape[1];
    *indices = target->ndim == 1;
    if (*indices ? target->shape[0] != n
                 : !gt_shape_equal(target->ndim, target->shape, logits->ndim, logits->shape))
        return gt_set_error(GT_ERR_SHAPE, "cross_entropy: target must be [N] class indices or "
                            "[N,K] probabilities for logits %s, got %s",
                            gt__shape_of(logits), gt__shape_of(target));
    for (int64_t i = 0; *indices && i < n; i++) {
        gt_real c = target->data[i];
        if (!(c >= 0 && c < (gt_real)k && c == floor(c)))
            return gt_set_error(GT_ERR_ARG, "cross_entropy: target[%lld] = %g is not a class "
                                "index in 0..%lld", (long long)i, (double)c, (long long)(k - 1));
    }
    return GT_OK;
}

// logits[N,K], target[N] or [N,K] -> loss[] = mean_n (logsumexp(x_n) - sum_k t_nk x_nk)
static gt_tensor *cross_entropy_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                        int n_in, const void *args) {
    (void)n_in;
    (void)args;
    gt_tensor *logits = in[0], *target = in[1];
    bool indices;
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK)
        return NULL;
    if (logits->ndim != 2 || logits->shape[0] < 1 || logits->shape[1] < 1) {
        gt_set_error(GT_ERR_SHAPE, "cross_entropy: logits must be [N,K] with N, K >= 1, got %s",
                     gt__shape_of(logits));
        return NULL;
    }
    if (check_targets(logits, target, &indices) != GT_OK)
        return NULL;
    int64_t n = logits->shape[0], k = logits->shape[1];
    gt_tensor *out = gt__op_output(tape, op, 0, NULL);
    gt_real *probs = out ? gt__tape_alloc(tape, gt__real_bytes(n * k), "cross_entropy") : NULL;
    ce_saved *saved = probs ? gt__tape_alloc(tape, sizeof *saved, "cross_entropy") : NULL;
    if (!saved)
        return NULL;
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        const gt_real *x = logits->data + i * k;
        gt_real max = x[0];
        for (int64_t j = 1; j < k; j++)
            max = x[j] > max ? x[j] : max;
        double sum = 0;
        for (int64_t j = 0; j < k; j++)
            sum += exp((double)(x[j] - max));
        double lse = (double)max + log(sum);
        for (int64_t j = 0; j < k; j++)
            probs[i * k + j] = (gt_real)exp((double)x[j] - lse);
        if (indices) {
            total += lse - (double)x[(int64_t)target->data[i]];
        } else {
            for (int64_t j = 0; j < k; j++)
                total += (double)target->data[i * k + j] * (lse - (double)x[j]);
        }
    }
    out->data[0] = (gt_real)(total / (double)n);
    *saved = (ce_saved){probs, target, indices};
    gt_node *node;
    out = gt__op_finish(tape, op, out, in, 1, NULL, &node); /* no grad to target */
    if (node)
        node->saved = saved;
    return out;
}

// g[] -> grad_logits[N,K] += g * (softmax - target) / N
static gt_status cross_entropy_backward(gt_node *node) {
    const ce_saved *s = node->saved;
    gt_tensor *logits = node->in[0];
    int64_t n = logits->shape[0], k = logits->shape[1];
    gt_real scale = node->out->grad[0] / (gt_real)n;
    for (int64_t i = 0; i < n; i++) {
        gt_real *gx = logits->grad + i * k;
        const gt_real *p = s->probs + i * k;
        if (s->indices) {
            for (int64_t j = 0; j < k; j++)
                gx[j] += scale * p[j];
            gx[(int64_t)s->target->data[i]] -= scale;
        } else {
            const gt_real *t = s->target->data + i * k;
            double mass = 0; /* probabilities need not sum to one */
            for (int64_t j = 0; j < k; j++)
                mass += t[j];
            for (int64_t j = 0; j < k; j++)
                gx[j] += scale * (p[j] * (gt_real)mass - t[j]);
        }
    }
    return GT_OK;
}

// a[...], b[...] (same shape) -> loss[] = mean((a - b)^2)
static gt_tensor *mse_loss_forward(const gt_op_def *op, gt_tape *tape, gt_tensor *const *in,
                                   int n_in, const void *args) {
    (void)n_in;
    (void)args;
    gt_tensor *a = in[0], *b = in[1];
    if (gt__check_inputs(op->name, tape, in, 2, 2) != GT_OK)
        return NULL;
    if (!gt_shape_equal(a->ndim, a->shape, b->ndim, b->shape))
        return gt__shape_error2("mse_loss", "shapes differ", a, b);
    if (a->numel == 0) {
        gt_set_error(GT_ERR_SHAPE, "mse_loss: inputs are empty: %s", gt__shape_of(a));
        return NULL;
    }
    gt_tensor *out = gt__op_output(tape, op, 0, NULL);
    if (!out)
        return NULL;
    double total = 0;
    for (int64_t i = 0; i < a->numel; i++) {
        double diff = (double)a->data[i] - (double)b->data[i];
        total += diff * diff;
    }
    out->data[0] = (gt_real)(total / (double)a->numel);
    return gt__op_finish(tape, op, out, in, 2, NULL, NULL);
}

// g[] -> grad_a += 2 g (a - b) / numel; grad_b -= the same
static gt_status mse_loss_backward(gt_node *node) {
    gt_tensor *a = node->in[0], *b = node->in[1];
    gt_real scale = 2 * node->out->grad[0] / (gt_real)a->numel;
    for (int64_t i = 0; i < a->numel; i++) {
        gt_real g = scale * (a->data[i] - b->data[i]);
        if (a->grad)
            a->grad[i] += g;
        if (b->grad)
            b->grad[i] -= g;
    }
    return GT_OK;
}

// indices: grad_x = g * (softmax(x) - onehot(t)) / N; probabilities: g * (softmax(x) *
// sum(t) - t) / N
static gt_status cross_entropy_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                          gt_tensor **grad_in) {
    gt_tensor *x = node->in[0];
    const ce_saved *s = node->saved;
    int64_t n = x->shape[0], k = x->shape[1];
    gt_tensor *p = gt_softmax(tape, x, -1), *d;
    if (s->indices) {
        gt_tensor *onehot = gt__const_like(tape, x, 0);
        for (int64_t i = 0; onehot && i < n; i++)
            onehot->data[i * k + (int64_t)s->target->data[i]] = 1;
        d = gt_sub(tape, p, onehot);
    } else {
        gt_tensor *mass = gt__const_like(tape, x, 0);
        for (int64_t i = 0; mass && i < n; i++) {
            gt_real total = 0;
            for (int64_t j = 0; j < k; j++)
                total += s->target->data[i * k + j];
            for (int64_t j = 0; j < k; j++)
                mass->data[i * k + j] = total;
        }
        gt_tensor *target = gt__const_like(tape, x, 0);
        if (target)
            memcpy(target->data, s->target->data, gt__real_bytes(n * k));
        d = gt_sub(tape, gt_mul(tape, p, mass), target);
    }
    grad_in[0] = gt_scale(tape, gt_mul(tape, d, g), 1.0 / (double)n);
    return grad_in[0] ? GT_OK : gt_last_status();
}

// grad_a = 2 g (a - b) / numel; grad_b = -grad_a
static gt_status mse_loss_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *g,
                                     gt_tensor **grad_in) {
    gt_tensor *a = node->in[0], *b = node->in[1];
    gt_tensor *ga = gt_scale(tape, gt_mul(tape, gt_sub(tape, a, b), g), 2.0 / (double)a->numel);
    if (!ga)
        return gt_last_status();
    grad_in[0] = gt__needs_grad(node, 0) ? ga : NULL;
    if (gt__needs_grad(node, 1) && !(grad_in[1] = gt_neg(tape, ga)))
        return gt_last_status();
    return GT_OK;
}

const gt_op_def gt_op_cross_entropy = {
    .name = "cross_entropy",
    .doc = "mean softmax cross-entropy of logits; target holds class indices or probabilities",
    .shapes = "input[N,K], target[N] (indices) or [N,K] (probabilities) -> []",
    .inputs = {{"input"}, {"target", GT_DOMAIN_CLASSES, .no_grad = true}},
    .forward = cross_entropy_forward,
    .backward = cross_entropy_backward,
    .grad_graph = cross_entropy_grad_graph,
    GT__CASES("4x5 4", "1x3 1", "3x4 3x4:probs",
              "2x3 3 => cross_entropy: target must be [N] class indices or [N,K] "
              "probabilities for logits [2, 3], got [3]",
              "2x3x4 2 => cross_entropy: logits must be [N,K] with N, K >= 1, got [2, 3, 4]"),
};

const gt_op_def gt_op_mse_loss = {
    .name = "mse_loss",
    .doc = "mean of (input - target)^2",
    .shapes = "input[...], target[...] (same shape) -> []",
    .inputs = {{"input"}, {"target"}},
    .forward = mse_loss_forward,
    .backward = mse_loss_backward,
    .grad_graph = mse_loss_grad_graph,
    GT__CASES("3x4 3x4", "5 5", "2x3 3x2 => mse_loss: shapes differ: [2, 3] vs [3, 2]",
              "0 0 => mse_loss: inputs are empty: [0]"),
};

gt_tensor *gt_cross_entropy(gt_tape *tape, gt_tensor *logits, gt_tensor *target) {
    return gt_op_call(tape, &gt_op_cross_entropy, (gt_tensor *[]){logits, target}, 2, NULL);
}

gt_tensor *gt_mse_loss(gt_tape *tape, gt_tensor *a, gt_tensor *b) {
    return gt_op_call(tape, &gt_op_mse_loss, (gt_tensor *[]){a, b}, 2, NULL);
}
