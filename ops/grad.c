/* grad.c - gradients as tensors (gt_grad, torch.autograd.grad) and second-derivative checks
 * (gt_gradgradcheck). The walk is gt_backward's (the nodes in reverse), but each node's
 * gradient is computed by its grad_graph, the backward written with ops, so that with
 * create_graph the gradients are recorded on the tape and can be differentiated again. */
#include "gt_ops_impl.h"

#include <string.h>

/* Tensor -> its gradient so far, open addressing over pointers, in the arena. */
typedef struct grad_map {
    const gt_tensor **key;
    gt_tensor **grad;
    size_t capacity; /* a power of two */
} grad_map;

static size_t slot_of(const grad_map *m, const gt_tensor *t) {
    size_t h = ((uintptr_t)t >> 4) * 0x9e3779b97f4a7c15ull;
    size_t i = h & (m->capacity - 1);
    while (m->key[i] && m->key[i] != t)
        i = (i + 1) & (m->capacity - 1);
    return i;
}

static gt_tensor *grad_of(const grad_map *m, const gt_tensor *t) {
    size_t i = slot_of(m, t);
    return m->key[i] ? m->grad[i] : NULL;
}

/* Adds g into t's gradient (a recorded add when one is there already). */
static gt_status accumulate(gt_tape *tape, grad_map *m, const gt_tensor *t, gt_tensor *g) {
    size_t i = slot_of(m, t);
    if (!m->key[i]) {
        m->key[i] = t;
        m->grad[i] = g;
        return GT_OK;
    }
    gt_tensor *sum = gt_add(tape, m->grad[i], g);
    if (!sum)
        return gt_last_status();
    m->grad[i] = sum;
    return GT_OK;
}

static gt_status map_init(gt_tape *tape, grad_map *m, size_t entries) {
    size_t capacity = 16;
    while (capacity < 2 * entries + 2)
        capacity *= 2;
    m->capacity = capacity;
    m->key = gt__tape_alloc(tape, capacity * sizeof *m->key, "grad");
    m->grad = m->key ? gt__tape_alloc(tape, capacity * sizeof *m->grad, "grad") : NULL;
    if (!m->grad)
        return GT_ERR_NOMEM;
    memset(m->key, 0, capacity * sizeof *m->key);
    return GT_OK;
}

/* A tape tensor of t's shape filled with `value`, taking no gradient. */
static gt_tensor *filled_like(gt_tape *tape, const gt_tensor *t, gt_real value) {
    gt_tensor *out = gt_tape_tensor(tape, t->ndim, t->shape);
    for (int64_t i = 0; out && i < out->numel; i++)
        out->data[i] = value;
    return out;
}

static gt_status walk(gt_tape *tape, gt_node *last, gt_tensor *const *outputs, int n_out,
                      gt_tensor *const *inputs, int n_in, gt_tensor *const *grad_outputs,
                      gt_tensor **grads) {
    size_t nodes = 0;
    for (gt_node *n = last; n; n = n->prev)
        nodes += (size_t)n->n_in + 1;
    grad_map map;
    gt_status status = map_init(tape, &map, nodes + (size_t)n_out + (size_t)n_in);
    for (int i = 0; status == GT_OK && i < n_out; i++) {
        gt_tensor *seed = grad_outputs ? grad_outputs[i] : NULL;
        if (seed && !gt_shape_equal(seed->ndim, seed->shape, outputs[i]->ndim, outputs[i]->shape))
            return gt_set_error(GT_ERR_SHAPE, "grad: grad_outputs[%d] has shape %s, output %d "
                                "has another", i, gt_shape_str(seed->ndim, seed->shape,
                                                               (char[160]){0}, 160), i);
        if (!seed && outputs[i]->numel != 1)
            return gt_set_error(GT_ERR_SHAPE, "grad: output %d has %lld elements: give its "
                                "grad_outputs", i, (long long)outputs[i]->numel);
        if (!seed && !(seed = filled_like(tape, outputs[i], 1)))
            return gt_last_status();
        status = accumulate(tape, &map, outputs[i], seed);
    }
    for (gt_node *n = last; status == GT_OK && n; n = n->prev) {
        gt_tensor *g = grad_of(&map, n->out);
        if (!g)
            continue; /* the outputs do not depend on this node */
        if (!n->grad_graph)
            return gt_set_error(GT_ERR_UNSUPPORTED, "grad: %s has no backward written with ops "
                                "(no gradients of its gradient yet)", n->name);
        gt_tensor *inline_grads[GT_NODE_MAX_INPUTS] = {0}, **grad_in = inline_grads;
        if (n->n_in > GT_NODE_MAX_INPUTS) { /* cat, stack: one per input */
            if (!(grad_in = gt__tape_alloc(tape, (size_t)n->n_in * sizeof *grad_in, "grad")))
                return GT_ERR_NOMEM;
            memset(grad_in, 0, (size_t)n->n_in * sizeof *grad_in);
        }
        size_t failures = gt__tape_arena_failures(tape);
        status = n->grad_graph(tape, n, g, grad_in);
        if (status != GT_OK && gt__tape_arena_failures(tape) != failures)
            status = gt__tape_arena_error(tape); /* the cause, not a NULL it left behind */
        for (int k = 0; status == GT_OK && k < n->n_in; k++)
            if (grad_in[k])
                status = accumulate(tape, &map, n->in[k], grad_in[k]);
    }
    for (int j = 0; status == GT_OK && j < n_in; j++) {
        gt_tensor *g = grad_of(&map, inputs[j]);
        if (!g && !(g = filled_like(tape, inputs[j], 0)))
            return gt_last_status();
        grads[j] = g;
    }
    return status;
}

gt_status gt_grad(gt_tape *tape, gt_tensor *const *outputs, int n_out, gt_tensor *const *inputs,
                  int n_in, gt_tensor *const *grad_outputs, bool create_graph,
                  gt_tensor **grads) {
    if (!tape || !outputs || !inputs || !grads || n_out < 1 || n_in < 1)
        return gt_set_error(GT_ERR_ARG, "grad: tape, outputs, inputs and grads must be given "
                            "(at least one output and one input)");
    for (int i = 0; i < n_out; i++) {
        gt_status status = gt__check_input("grad", tape, outputs[i]);
        if (status != GT_OK)
            return status;
    }
    for (int j = 0; j < n_in; j++) {
        gt_status status = gt__check_input("grad", tape, inputs[j]);
        if (status != GT_OK)
            return status;
        grads[j] = NULL;
    }
    bool was = gt_tape_set_grad_enabled(tape, create_graph);
    gt_status status = walk(tape, gt__tape_last(tape), outputs, n_out, inputs, n_in,
                            grad_outputs, grads);
    gt_tape_set_grad_enabled(tape, was);
    if (status != GT_OK)
        for (int j = 0; j < n_in; j++)
            grads[j] = NULL;
    return status;
}

/* ---- gradgradcheck ------------------------------------------------------------------ */

typedef struct gradgrad_ctx {
    gt_gradcheck_fn f;
    void *ctx;
    int n;
    gt_tensor *const *directions; /* u_k, or NULL where input k takes no gradient */
} gradgrad_ctx;

/* h(inputs) = sum_k sum(df/dinput_k * u_k), with df/dinput recorded. */
static gt_tensor *first_derivatives_along(gt_tape *tape, gt_tensor *const *inputs, void *data) {
    const gradgrad_ctx *c = data;
    gt_tensor *y = c->f(tape, inputs, c->ctx);
    if (!y)
        return NULL;
    gt_tensor *wrt[64] = {0};
    int index[64] = {0}, m = 0;
    for (int k = 0; k < c->n && m < 64; k++)
        if (c->directions[k])
            wrt[m] = inputs[k], index[m++] = k;
    gt_tensor *grads[64] = {0};
    if (m == 0) {
        gt_set_error(GT_ERR_ARG, "gradgradcheck: no input requires a gradient");
        return NULL;
    }
    if (gt_grad(tape, &y, 1, wrt, m, NULL, true, grads) != GT_OK)
        return NULL;
    gt_tensor *total = NULL;
    for (int j = 0; j < m; j++) {
        gt_tensor *term = gt_sum(tape, gt_mul(tape, grads[j], c->directions[index[j]]), GT_ALL_AXES);
        total = total ? gt_add(tape, total, term) : term;
    }
    return total;
}

gt_status gt_gradgradcheck(gt_gradcheck_fn f, void *ctx, gt_tensor *const *inputs,
                           int n_inputs, const gt_gradcheck_opts *opts, uint64_t seed,
                           gt_gradcheck_result *result) {
    if (!f || !result || n_inputs < 1 || n_inputs > 64 || !inputs)
        return gt_set_error(GT_ERR_ARG, "gradgradcheck: f, 1 to 64 inputs and result must be "
                            "given");
    gt_tensor *directions[64] = {0};
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    gt_status status = GT_OK;
    for (int k = 0; k < n_inputs && status == GT_OK; k++) {
        gt_tensor *x = inputs[k];
        if (!x || !(x->flags & GT__REQUIRES_GRAD))
            continue;
        directions[k] = gt_randn(x->ndim, x->shape, 0, 1, &rng);
        if (!directions[k])
            status = gt_last_status();
    }
    gradgrad_ctx c = {f, ctx, n_inputs, directions};
    if (status == GT_OK)
        status = gt_gradcheck(first_derivatives_along, &c, inputs, n_inputs, opts, result);
    for (int k = 0; k < n_inputs; k++)
        gt_tensor_free(directions[k]);
    return status;
}
