/* custom.c - ops defined in user code: a node whose backward calls the user's callback. */
#include "tape_internal.h"

#include <string.h>

struct gt_custom_ctx {
    const gt_custom_op *op;
    gt_tape *tape;
    gt_tensor *in[GT_CUSTOM_MAX_INPUTS];
    int n_in;
    gt_tensor *out;
    bool recording;  /* a node will be recorded: the backward can be asked for */
    bool in_forward; /* save calls are for the forward only */
    gt_tensor *saved[GT_CUSTOM_MAX_SAVED];
    int n_saved;
    void *bytes;
    size_t n_bytes;
    size_t scratch_bytes;
    gt_node *node;
    /* The gradients the backward reads and writes, as tensors over the walk's buffers: set
     * up here by the forward so that the backward allocates nothing. */
    gt_tensor grad_out_view;
    gt_tensor grad_in_view[GT_CUSTOM_MAX_INPUTS];
};

static gt_status custom_backward(gt_node *node);

const gt_custom_op *gt__node_custom_op(const gt_node *node) {
    return node && node->backward == custom_backward ? ((const gt_custom_ctx *)node->saved)->op
                                                     : NULL;
}

/* The tensor a gradient buffer is seen through: t's shape over `grad`. */
static void view_grad(gt_tensor *view, const gt_tensor *t, gt_real *grad) {
    *view = (gt_tensor){.ndim = t->ndim,
                        .numel = t->numel,
                        .flags = GT__ON_TAPE,
                        .data = grad,
                        .tape = t->tape,
                        .epoch = t->epoch};
    memcpy(view->shape, t->shape, sizeof view->shape);
}

/* Prefixes the error a callback set with "name: what: " (unless it names the op already);
 * `said` is false when the callback failed without setting one. */
static gt_status fail_naming(const char *name, const char *what, gt_status status, bool said) {
    if (!said)
        return gt_set_error(status == GT_OK ? GT_ERR_ARG : status,
                            "%s: %s without setting an error", name, what);
    char message[GT__ERROR_SIZE];
    snprintf(message, sizeof message, "%s", gt_last_error());
    if (status == GT_OK)
        status = gt_last_status();
    size_t len = strlen(name);
    if (strncmp(message, name, len) == 0 && message[len] == ':')
        return gt_set_error(status, "%s", message);
    return gt_set_error(status, "%s: %s: %s", name, what, message);
}

static gt_status custom_backward(gt_node *node) {
    gt_custom_ctx *ctx = node->saved;
    gt_tensor *grad_in[GT_CUSTOM_MAX_INPUTS] = {0};
    view_grad(&ctx->grad_out_view, ctx->out, ctx->out->grad);
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i]->grad) {
            view_grad(&ctx->grad_in_view[i], ctx->in[i], ctx->in[i]->grad);
            grad_in[i] = &ctx->grad_in_view[i];
        }
    bool was = gt_tape_set_grad_enabled(ctx->tape, false);
    gt__note_success(); /* so that an error the callback sets can be told apart */
    gt_status status = ctx->op->backward(ctx, &ctx->grad_out_view, grad_in);
    gt_tape_set_grad_enabled(ctx->tape, was);
    return status == GT_OK
               ? GT_OK
               : fail_naming(ctx->op->name, "backward failed", status, gt__failed_since_success());
}

/* gt_grad through a custom op: without create_graph its backward runs into fresh zero
 * gradients (tensors of the tape). With create_graph the gradient would have to be
 * differentiable again, which a backward written in C is not: refused naming the op, as
 * PyTorch refuses a double backward through a @once_differentiable Function. */
static gt_status custom_grad_graph(gt_tape *tape, gt_node *node, gt_tensor *grad_out,
                                   gt_tensor **grad_in) {
    gt_custom_ctx *ctx = node->saved;
    const char *name = ctx->op->name;
    if (gt_tape_grad_enabled(tape))
        return ctx->op->once_differentiable
                   ? gt_set_error(GT_ERR_UNSUPPORTED, "grad: %s is once_differentiable: its "
                                  "backward has no gradient (create_graph)", name)
                   : gt_set_error(GT_ERR_UNSUPPORTED, "grad: %s is a custom op: its backward, "
                                  "written in C, has no gradient (create_graph)", name);
    if (node->scratch_bytes &&
        !(node->scratch = gt__tape_alloc(tape, node->scratch_bytes, name)))
        return gt_last_status();
    for (int i = 0; i < ctx->n_in; i++)
        if ((ctx->in[i]->flags & GT__REQUIRES_GRAD) &&
            !(grad_in[i] = gt_tape_tensor(tape, ctx->in[i]->ndim, ctx->in[i]->shape)))
            return gt_last_status();
    gt__note_success(); /* so that an error the callback sets can be told apart */
    gt_status status = ctx->op->backward(ctx, grad_out, grad_in);
    return status == GT_OK ? GT_OK
                           : fail_naming(name, "backward failed", status,
                                         gt__failed_since_success());
}

static gt_status check_op(const gt_tape *tape, const gt_custom_op *op, gt_tensor *const *in,
                          int n_in) {
    if (!op || !op->name || !op->name[0])
        return gt_set_error(GT_ERR_ARG, "custom_apply: the op or its name is NULL");
    if (!op->forward || !op->backward)
        return gt_set_error(GT_ERR_ARG, "%s: a custom op needs a forward and a backward", op->name);
    if (!tape)
        return gt_set_error(GT_ERR_ARG, "%s: tape is NULL", op->name);
    if (n_in < 1 || n_in > GT_CUSTOM_MAX_INPUTS || !in)
        return gt_set_error(GT_ERR_ARG, "%s: takes 1 to %d tensor inputs, got %d", op->name,
                            GT_CUSTOM_MAX_INPUTS, n_in);
    return GT_OK;
}

/* The forward's result must be a tensor it made on this tape during the call. */
static gt_status check_output(gt_custom_ctx *ctx, gt_tensor *out) {
    const char *name = ctx->op->name;
    if (!out)
        return fail_naming(name, "forward failed", GT_OK, gt__failed_since_success());
    bool is_input = false;
    for (int i = 0; i < ctx->n_in; i++)
        is_input = is_input || out == ctx->in[i];
    if (is_input || !(out->flags & GT__ON_TAPE) || out->tape != ctx->tape ||
        out->epoch != ctx->tape->epoch || (out->flags & GT__REQUIRES_GRAD))
        return gt_set_error(GT_ERR_ARG,
                            "%s: the forward must return a new tensor of the op's tape (from "
                            "gt_custom_new_output or ops on gt_custom_tape), not an input or "
                            "a tensor made elsewhere",
                            name);
    return GT_OK;
}

gt_tensor *gt_custom_apply(gt_tape *tape, const gt_custom_op *op, gt_tensor *const *in, int n_in) {
    if (check_op(tape, op, in, n_in) != GT_OK)
        return NULL;
    for (int i = 0; i < n_in; i++)
        if (gt__check_input(op->name, tape, in[i]) != GT_OK)
            return NULL;
    int64_t profile_start = gt__profile_begin(tape);
    gt_custom_ctx *ctx = gt__tape_alloc(tape, sizeof *ctx, op->name);
    if (!ctx) {
        gt__profile_end(tape, profile_start, op->name, NULL, 0, 0);
        return NULL;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->op = op;
    ctx->tape = tape;
    ctx->n_in = n_in;
    memcpy(ctx->in, in, (size_t)n_in * sizeof *in);
    ctx->recording = gt__tape_will_record(tape, in, n_in);
    ctx->in_forward = true;
    bool was = gt_tape_set_grad_enabled(tape, false);
    gt__note_success(); /* so that an error the forward sets can be told apart */
    gt_tensor *out = op->forward(ctx, ctx->in, n_in);
    gt_tape_set_grad_enabled(tape, was);
    ctx->in_forward = false;
    gt__profile_end(tape, profile_start, op->name, out, 0, 0);
    if (check_output(ctx, out) != GT_OK)
        return NULL;
    if (tape->detect_anomaly &&
        gt__check_finite(op->name, "output", out->data, out->numel) != GT_OK)
        return NULL;
    ctx->out = out;
    if (gt__tape_record(tape, op->name, custom_backward, out, ctx->in, n_in, &ctx->node) != GT_OK)
        return NULL;
    if (ctx->node) {
        ctx->node->saved = ctx;
        ctx->node->scratch_bytes = ctx->scratch_bytes;
        ctx->node->grad_graph = custom_grad_graph;
    }
    gt__note_success();
    return out;
}

/* ---- the context ---------------------------------------------------------------------- */

static gt_status forward_only(const gt_custom_ctx *ctx, const char *call) {
    if (!ctx)
        return gt_set_error(GT_ERR_ARG, "%s: the context is NULL", call);
    if (!ctx->in_forward)
        return gt_set_error(GT_ERR_STATE, "%s: %s is for the forward only", ctx->op->name, call);
    return GT_OK;
}

gt_tape *gt_custom_tape(const gt_custom_ctx *ctx) { return ctx ? ctx->tape : NULL; }

gt_tensor *gt_custom_new_output(gt_custom_ctx *ctx, int ndim, const int64_t *shape) {
    if (forward_only(ctx, "custom_new_output") != GT_OK)
        return NULL;
    return gt__tape_new_tensor(ctx->tape, ctx->op->name, ndim, shape);
}

bool gt_custom_needs_input_grad(const gt_custom_ctx *ctx, int i) {
    return ctx && ctx->recording && i >= 0 && i < ctx->n_in &&
           (ctx->in[i]->flags & GT__REQUIRES_GRAD);
}

gt_status gt_custom_save_tensors(gt_custom_ctx *ctx, gt_tensor *const *tensors, int n) {
    gt_status status = forward_only(ctx, "custom_save_tensors");
    if (status != GT_OK)
        return status;
    if (n < 0 || n > GT_CUSTOM_MAX_SAVED || (n > 0 && !tensors))
        return gt_set_error(GT_ERR_ARG, "%s: save_tensors takes 0 to %d tensors, got %d",
                            ctx->op->name, GT_CUSTOM_MAX_SAVED, n);
    for (int i = 0; i < n; i++)
        if (!tensors[i])
            return gt_set_error(GT_ERR_ARG, "%s: save_tensors: tensor %d is NULL", ctx->op->name,
                                i);
    memcpy(ctx->saved, tensors, (size_t)n * sizeof *tensors);
    ctx->n_saved = n;
    return GT_OK;
}

void *gt_custom_save_bytes(gt_custom_ctx *ctx, size_t bytes) {
    if (forward_only(ctx, "custom_save_bytes") != GT_OK)
        return NULL;
    void *memory = gt__tape_alloc(ctx->tape, bytes ? bytes : 1, ctx->op->name);
    if (!memory)
        return NULL;
    memset(memory, 0, bytes);
    ctx->bytes = memory;
    ctx->n_bytes = bytes;
    return memory;
}

void gt_custom_reserve_scratch(gt_custom_ctx *ctx, size_t bytes) {
    if (forward_only(ctx, "custom_reserve_scratch") == GT_OK)
        ctx->scratch_bytes = bytes;
}

void *gt_custom_user(const gt_custom_ctx *ctx) { return ctx ? ctx->op->user : NULL; }

const char *gt_custom_name(const gt_custom_ctx *ctx) { return ctx ? ctx->op->name : NULL; }

gt_tensor *gt_custom_input(const gt_custom_ctx *ctx, int i) {
    return ctx && i >= 0 && i < ctx->n_in ? ctx->in[i] : NULL;
}

int gt_custom_input_count(const gt_custom_ctx *ctx) { return ctx ? ctx->n_in : 0; }

gt_tensor *gt_custom_output(const gt_custom_ctx *ctx) { return ctx ? ctx->out : NULL; }

gt_tensor *gt_custom_saved_tensor(const gt_custom_ctx *ctx, int i) {
    return ctx && i >= 0 && i < ctx->n_saved ? ctx->saved[i] : NULL;
}

int gt_custom_saved_count(const gt_custom_ctx *ctx) { return ctx ? ctx->n_saved : 0; }

void *gt_custom_saved_bytes(const gt_custom_ctx *ctx, size_t *bytes) {
    if (bytes)
        *bytes = ctx ? ctx->n_bytes : 0;
    return ctx ? ctx->bytes : NULL;
}

void *gt_custom_scratch(const gt_custom_ctx *ctx) {
    return ctx && ctx->node ? ctx->node->scratch : NULL;
}
