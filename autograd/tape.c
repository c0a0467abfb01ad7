/* tape.c - the tape: a chunked arena that grows and is reused, and the list of nodes. */
#include "tape_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static gt_chunk *chunk_new(size_t capacity) {
    if (capacity > SIZE_MAX - sizeof(gt_chunk) - GT_ARENA_ALIGN) {
        gt_set_error(GT_ERR_NOMEM, "tape: arena chunk of %zu bytes is too large", capacity);
        return NULL;
    }
    gt_chunk *chunk = gt_malloc(sizeof(gt_chunk) + GT_ARENA_ALIGN + capacity, "tape arena");
    if (!chunk)
        return NULL;
    uintptr_t start = (uintptr_t)(chunk + 1);
    start = (start + GT_ARENA_ALIGN - 1) & ~(uintptr_t)(GT_ARENA_ALIGN - 1);
    chunk->mem = (unsigned char *)start;
    chunk->next = NULL;
    chunk->capacity = capacity;
    chunk->used = 0;
    return chunk;
}

gt_tape *gt_tape_new(void) {
    gt_tape *tape = gt_calloc(1, sizeof *tape, "tape");
    if (!tape)
        return NULL;
    tape->grad_enabled = true;
    tape->epoch = 1;
    return tape;
}

static void free_chunks(gt_chunk *chunk) {
    while (chunk) {
        gt_chunk *next = chunk->next;
        gt_free(chunk);
        chunk = next;
    }
}

/* Counts a failure to grow the arena (or its scratch) and keeps its error, just set, for
 * gt__tape_arena_error. NULL, for the caller to return. */
static void *arena_failed(gt_tape *tape) {
    tape->arena_failures++;
    gt__error_save(&tape->arena_error);
    return NULL;
}

/* *scratch with room for `bytes` at least: grown (contents dropped) when smaller. The old
 * buffer goes first, so that the two are never held at once. A failure counts as the
 * arena's (gt__tape_arena_failures), whose memory it is part of. */
static void *scratch_of(gt_tape *tape, gt_chunk **scratch, size_t bytes, const char *what) {
    if (*scratch && (*scratch)->capacity >= bytes)
        return (*scratch)->mem;
    gt_free(*scratch);
    if (!(*scratch = chunk_new(bytes))) {
        gt_set_error(GT_ERR_NOMEM, "%s: cannot grow the tape's arena (its scratch, to %zu "
                     "bytes)", what, bytes);
        return arena_failed(tape);
    }
    return (*scratch)->mem;
}

void *gt__tape_forward_scratch(gt_tape *tape, size_t bytes, const char *what) {
    return scratch_of(tape, &tape->forward_scratch, bytes, what);
}

void gt_tape_free(gt_tape *tape) {
    if (!tape)
        return;
    free_chunks(tape->first);
    gt_free(tape->forward_scratch);
    gt_free(tape->backward_scratch);
    gt__tape_notes_free(tape);
    gt__profile_free(tape);
    gt_free(tape);
}

void gt_tape_reset(gt_tape *tape) {
    if (!tape)
        return;
    size_t total = 0, used_chunks = 0;
    for (gt_chunk *c = tape->first; c; c = c->next) {
        total += c->capacity;
        used_chunks += c->used > 0;
    }
    /* A step that spilled over several chunks gets one chunk holding all of them, so the
     * next steps bump-allocate from a single block. The old chunks go first, so that the
     * arena is never held twice (the peak memory of a run is one arena, not two). If the
     * new chunk cannot be had, the arena starts empty and grows again as the next step
     * asks. */
    if (used_chunks > 1) {
        gt__error_state before;
        gt__error_save(&before);
        free_chunks(tape->first);
        tape->first = chunk_new(total);
        if (tape->first)
            tape->chunk_allocs++;
        else
            gt__error_restore(&before); /* nothing failed that the caller should hear of */
    }
    for (gt_chunk *c = tape->first; c; c = c->next)
        c->used = 0;
    tape->current = tape->first;
    tape->last = NULL;
    tape->n_nodes = 0;
    tape->anomaly_node = NULL;
    gt__tape_notes_reset(tape);
    tape->epoch++;
}

bool gt_tape_set_grad_enabled(gt_tape *tape, bool enabled) {
    if (!tape)
        return false;
    bool was = tape->grad_enabled;
    tape->grad_enabled = enabled;
    return was;
}

bool gt_tape_grad_enabled(const gt_tape *tape) { return tape && tape->grad_enabled; }

void gt_tape_set_detect_anomaly(gt_tape *tape, bool on) {
    if (tape)
        tape->detect_anomaly = on;
}

bool gt__tape_detect_anomaly(const gt_tape *tape) { return tape && tape->detect_anomaly; }

gt_tape_stats gt_tape_get_stats(const gt_tape *tape) {
    gt_tape_stats stats = {0};
    if (!tape)
        return stats;
    stats.nodes = tape->n_nodes;
    stats.chunk_allocs = tape->chunk_allocs;
    stats.scratch_bytes = (tape->forward_scratch ? tape->forward_scratch->capacity : 0) +
                          (tape->backward_scratch ? tape->backward_scratch->capacity : 0);
    for (gt_chunk *c = tape->first; c; c = c->next) {
        stats.bytes_used += c->used;
        stats.bytes_reserved += c->capacity;
    }
    return stats;
}

void *gt__tape_alloc(gt_tape *tape, size_t bytes, const char *what) {
    if (bytes > SIZE_MAX / 2) {
        gt_set_error(GT_ERR_NOMEM, "%s: %zu bytes is too large", what, bytes);
        return NULL;
    }
    bytes = (bytes + GT_ARENA_ALIGN - 1) & ~(size_t)(GT_ARENA_ALIGN - 1);
    gt_chunk *chunk = tape->current;
    if (chunk && chunk->capacity - chunk->used >= bytes) {
        void *ptr = chunk->mem + chunk->used;
        chunk->used += bytes;
        return ptr;
    }
    /* Move on to the next kept chunk if it is empty and large enough. */
    if (chunk && chunk->next && chunk->next->used == 0 && chunk->next->capacity >= bytes) {
        tape->current = chunk->next;
        return gt__tape_alloc(tape, bytes, what);
    }
    if (!chunk && tape->first && tape->first->capacity >= bytes) {
        tape->current = tape->first;
        return gt__tape_alloc(tape, bytes, what);
    }
    size_t reserved = 0;
    for (gt_chunk *c = tape->first; c; c = c->next)
        reserved += c->capacity;
    size_t capacity = reserved > GT_ARENA_FIRST_CHUNK ? reserved : GT_ARENA_FIRST_CHUNK;
    if (capacity < bytes)
        capacity = bytes;
    gt_chunk *fresh = chunk_new(capacity);
    if (!fresh) {
        gt_set_error(GT_ERR_NOMEM, "%s: cannot grow the tape's arena by %zu bytes", what,
                     capacity);
        return arena_failed(tape);
    }
    tape->chunk_allocs++;
    if (chunk) {
        fresh->next = chunk->next;
        chunk->next = fresh;
    } else {
        fresh->next = tape->first;
        tape->first = fresh;
    }
    tape->current = fresh;
    fresh->used = bytes;
    return fresh->mem;
}

size_t gt__tape_arena_failures(const gt_tape *tape) { return tape->arena_failures; }

gt_status gt__tape_arena_error(const gt_tape *tape) {
    gt__error_restore(&tape->arena_error);
    return tape->arena_error.status;
}

gt_status gt__check_input(const char *op, gt_tape *tape, const gt_tensor *t) {
    if (!t) /* most often an earlier op failed: its message, naming the cause, stays */
        return gt__failed_since_success()
                   ? gt_last_status()
                   : gt_set_error(GT_ERR_ARG, "%s: an input tensor is NULL", op);
    if (t->flags & GT__ON_TAPE) {
        if (t->tape != tape)
            return gt_set_error(GT_ERR_STATE, "%s: an input belongs to another tape", op);
        if (t->epoch != tape->epoch)
            return gt_set_error(GT_ERR_STATE,
                                "%s: an input was released by gt_tape_reset; make it again",
                                op);
    }
    return GT_OK;
}

static gt_tensor *tape_tensor_struct(gt_tape *tape, const char *op, int ndim,
                                     const int64_t *shape) {
    if (gt_shape_check(op, ndim, shape) != GT_OK)
        return NULL;
    gt_tensor *t = gt__tape_alloc(tape, sizeof *t, op);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    gt__tensor_init_shape(t, ndim, shape);
    t->flags = GT__ON_TAPE;
    t->tape = tape;
    t->epoch = tape->epoch;
    return t;
}

gt_tensor *gt__tape_new_tensor(gt_tape *tape, const char *op, int ndim, const int64_t *shape) {
    gt_tensor *t = tape_tensor_struct(tape, op, ndim, shape);
    if (!t)
        return NULL;
    t->data = gt__tape_alloc(tape, gt__real_bytes(t->numel), op);
    return t->data ? t : NULL;
}

gt_tensor *gt__tape_view(gt_tape *tape, const char *op, gt_tensor *src, int ndim,
                         const int64_t *shape) {
    gt_tensor *t = tape_tensor_struct(tape, op, ndim, shape);
    if (!t)
        return NULL;
    GT_ASSERT(t->numel == src->numel);
    t->data = src->data;
    return t;
}

gt_tensor *gt_tape_tensor(gt_tape *tape, int ndim, const int64_t *shape) {
    if (!tape) {
        gt_set_error(GT_ERR_ARG, "tape_tensor: tape is NULL");
        return NULL;
    }
    gt_tensor *t = gt__tape_new_tensor(tape, "tape_tensor", ndim, shape);
    if (t && t->numel)
        memset(t->data, 0, (size_t)t->numel * sizeof(gt_real));
    return t;
}

bool gt__tape_will_record(const gt_tape *tape, gt_tensor *const *in, int n_in) {
    if (!tape->grad_enabled)
        return false;
    for (int i = 0; i < n_in; i++)
        if (in[i] && (in[i]->flags & GT__REQUIRES_GRAD))
            return true;
    return false;
}

gt_status gt__tape_record(gt_tape *tape, const char *name, gt_backward_fn backward,
                          gt_tensor *out, gt_tensor *const *in, int n_in, gt_node **node) {
    *node = NULL;
    if (!gt__tape_will_record(tape, in, n_in))
        return GT_OK;
    gt_tensor **inputs = NULL; /* more inputs than a node holds: an array beside it */
    if (n_in > GT_NODE_MAX_INPUTS &&
        !(inputs = gt__tape_alloc(tape, (size_t)n_in * sizeof *inputs, name)))
        return GT_ERR_NOMEM;
    gt_node *n = gt__tape_alloc(tape, sizeof *n, name);
    if (!n)
        return GT_ERR_NOMEM;
    memset(n, 0, sizeof *n);
    n->in = inputs ? inputs : n->in_inline;
    n->name = name;
    n->backward = backward;
    n->out = out;
    n->n_in = n_in;
    for (int i = 0; i < n_in; i++)
        n->in[i] = in[i];
    n->prev = tape->last;
    tape->last = n;
    tape->n_nodes++;
    out->flags |= GT__REQUIRES_GRAD;
    *node = n;
    return GT_OK;
}

gt_status gt__check_finite(const char *op, const char *what, const gt_real *values,
                           int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(values[i]))
            return gt_set_error(GT_ERR_NUMERIC,
                                "anomaly: %s produced a non-finite %s: element %lld is %g",
                                op, what, (long long)i, (double)values[i]);
    return GT_OK;
}

gt_node *gt__tape_last(const gt_tape *tape) { return tape ? tape->last : NULL; }

/* The backward walk lives here too, since it is the only other reader of the node list.
 * A gradient buffer for t, stale (zero by contract) until a backward writes or zeroes it. */
static gt_status ensure_grad(gt_tape *tape, gt_tensor *t) {
    if (t->grad || !(t->flags & GT__REQUIRES_GRAD))
        return GT_OK;
    GT_ASSERT(t->flags & GT__ON_TAPE);
    t->grad = gt__tape_alloc(tape, gt__real_bytes(t->numel), "backward");
    if (!t->grad)
        return GT_ERR_NOMEM;
    t->flags |= GT__GRAD_STALE; /* zero by contract: see gt__grad_mark_stale */
    return GT_OK;
}

/* Anomaly mode can stop the walk after some backward steps have added into the leaves'
 * gradients: it copies them first (into the arena) so that a stop puts them back. */
typedef struct leaf_grads {
    gt_tensor **leaf;
    gt_real **saved;
    int64_t count;
} leaf_grads;

static gt_status save_leaf_grads(gt_tape *tape, leaf_grads *lg) {
    int64_t inputs = 0;
    for (gt_node *n = tape->last; n; n = n->prev)
        inputs += n->n_in;
    lg->count = 0;
    lg->leaf = gt__tape_alloc(tape, (size_t)(inputs ? inputs : 1) * sizeof *lg->leaf,
                              "backward");
    lg->saved = lg->leaf ? gt__tape_alloc(tape, (size_t)(inputs ? inputs : 1) *
                                                    sizeof *lg->saved, "backward")
                         : NULL;
    if (!lg->saved)
        return GT_ERR_NOMEM;
    for (gt_node *n = tape->last; n; n = n->prev)
        for (int i = 0; i < n->n_in; i++) {
            gt_tensor *t = n->in[i];
            bool seen = (t->flags & GT__ON_TAPE) || !t->grad;
            for (int64_t j = 0; j < lg->count && !seen; j++)
                seen = lg->leaf[j] == t;
            if (seen)
                continue;
            gt_real *copy = gt__tape_alloc(tape, gt__real_bytes(t->numel), "backward");
            if (!copy)
                return GT_ERR_NOMEM;
            memcpy(copy, gt__grad_fresh(t), gt__real_bytes(t->numel));
            lg->leaf[lg->count] = t;
            lg->saved[lg->count++] = copy;
        }
    return GT_OK;
}

static gt_status restore_leaf_grads(const leaf_grads *lg, gt_status status) {
    for (int64_t j = 0; j < lg->count; j++)
        memcpy(lg->leaf[j]->grad, lg->saved[j], gt__real_bytes(lg->leaf[j]->numel));
    return status;
}

/* One node of the walk: its output's hooks, its backward (timed when profiling), the
 * anomaly check of the gradients it made, the hooks of the leaves it finished. */
static gt_status walk_step(gt_tape *tape, gt__walk_hooks *hooks, gt_node *n) {
    gt__grad_fresh(n->out); /* zeroes when no consumer wrote it */
    gt_status status = hooks ? gt__hooks_before_node(hooks, n) : GT_OK;
    if (status != GT_OK)
        return status;
    for (int i = 0; i < n->n_in; i++) /* stale gradients: see gt__grad_mark_stale */
        if (!(n->overwrites & (1u << i)))
            gt__grad_fresh(n->in[i]);
    int64_t profile_start = gt__profile_begin(tape);
    status = n->backward(n);
    if (profile_start)
        gt__profile_backward_end(tape, profile_start, n);
    if (status != GT_OK)
        return status;
    if (tape->detect_anomaly)
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i]->grad) {
                char what[160], shape[96];
                gt_tensor *t = n->in[i];
                snprintf(what, sizeof what, "gradient for its input %d of %d (%s, %s)", i + 1,
                         n->n_in, gt_shape_str(t->ndim, t->shape, shape, sizeof shape),
                         t->flags & GT__ON_TAPE ? "an intermediate" : "a parameter");
                status = gt__check_finite(n->name, what, t->grad, t->numel);
                if (status != GT_OK) {
                    tape->anomaly_node = n;
                    return status;
                }
            }
    return hooks ? gt__hooks_after_node(hooks, n) : GT_OK;
}

/* Whether the upstream gradient can be the root's gradient during the walk as it is, read in
 * place where a copy cost a pass over memory (2 MB in softmax's bench row; PyTorch's
 * backward(gradient) does not copy either). Backwards only read their output's gradient
 * (gt_tape_impl.h), so nothing writes it but a gradient hook on the root (a hook may change
 * the gradient it is given), or a backward adding into a leaf's gradient that shares its
 * memory (gt_tensor_wrap can make such a tensor): then it is copied. */
static bool may_borrow(const gt_tape *tape, const gt_tensor *root, const gt_tensor *grad_root) {
    for (size_t i = 0; i < tape->n_notes; i++)
        if (tape->notes[i].kind == GT__NOTE_GRAD_HOOK && tape->notes[i].tensor == root)
            return false;
    uintptr_t from = (uintptr_t)grad_root->data, to = from + gt__real_bytes(grad_root->numel);
    for (const gt_node *n = tape->last; n; n = n->prev)
        for (int i = 0; i < n->n_in; i++) {
            const gt_tensor *t = n->in[i];
            uintptr_t at = (uintptr_t)t->grad;
            if (t->grad && !(t->flags & GT__ON_TAPE) && at < to &&
                from < at + gt__real_bytes(t->numel))
                return false;
        }
    return true;
}

/* The walk of gt_backward_with over a checked root whose tape's intermediate gradients
 * were cleared; root->grad is already grad_root's data when borrowed (may_borrow). */
static gt_status walk(gt_tape *tape, gt_tensor *root, const gt_tensor *grad_root) {
    /* Every gradient buffer and backward scratch first, so that running out of memory changes
     * no gradient. A node is reached when its output has a gradient: its consumers come later
     * on the tape. */
    if (ensure_grad(tape, root) != GT_OK) /* written whole below, unless borrowed */
        return GT_ERR_NOMEM;
    size_t scratch_bytes = 0;
    for (gt_node *n = tape->last; n; n = n->prev) {
        if (!n->out->grad)
            continue;
        for (int i = 0; i < n->n_in; i++)
            if (ensure_grad(tape, n->in[i]) != GT_OK)
                return GT_ERR_NOMEM;
        scratch_bytes = n->scratch_bytes > scratch_bytes ? n->scratch_bytes : scratch_bytes;
    }
    void *scratch = NULL;
    if (scratch_bytes && !(scratch = scratch_of(tape, &tape->backward_scratch, scratch_bytes,
                                                "backward")))
        return GT_ERR_NOMEM;
    for (gt_node *n = tape->last; n; n = n->prev)
        n->scratch = n->scratch_bytes && n->out->grad ? scratch : NULL;
    leaf_grads kept = {0};
    if (tape->detect_anomaly && save_leaf_grads(tape, &kept) != GT_OK)
        return GT_ERR_NOMEM;
    gt__walk_hooks *hooks = NULL;
    if (gt__hooks_prepare(tape, &hooks) != GT_OK)
        return GT_ERR_NOMEM;
    tape->anomaly_node = NULL;
    gt__hooks_start(hooks);
    if (!grad_root) /* one element */
        root->grad[0] = 1;
    else if (root->numel && root->grad != grad_root->data) /* one copy, unless borrowed */
        memcpy(root->grad, grad_root->data, gt__real_bytes(root->numel));
    gt__grad_take_stale(root); /* written whole */
    for (gt_node *n = tape->last; n; n = n->prev) {
        if (!n->out->grad)
            continue; /* no gradient reaches this node */
        gt_status status = walk_step(tape, hooks, n);
        if (status != GT_OK) {
            gt__hooks_abandon(hooks);
            return restore_leaf_grads(&kept, status);
        }
    }
    return GT_OK;
}

gt_status gt_backward_with(gt_tape *tape, gt_tensor *root, const gt_tensor *grad_root) {
    if (!tape)
        return gt_set_error(GT_ERR_ARG, "backward: tape is NULL");
    if (!root)
        return gt__failed_since_success()
                   ? gt_last_status() /* the op that failed named the cause */
                   : gt_set_error(GT_ERR_ARG, "backward: the tensor is NULL (did an op fail?)");
    if (!(root->flags & GT__ON_TAPE) || root->tape != tape || root->epoch != tape->epoch)
        return gt_set_error(GT_ERR_STATE,
                            "backward: the tensor was not made on this tape since its last "
                            "reset (backward over a released tape?)");
    if (!(root->flags & GT__REQUIRES_GRAD))
        return gt_set_error(GT_ERR_STATE,
                            "backward: the tensor does not require a gradient: no input "
                            "of the ops that made it is a parameter (or recording was off)");
    char buf_a[160], buf_b[160];
    if (grad_root) {
        if (!gt_shape_equal(root->ndim, root->shape, grad_root->ndim, grad_root->shape))
            return gt_set_error(GT_ERR_SHAPE,
                                "backward: upstream gradient %s does not match tensor %s",
                                gt_shape_str(grad_root->ndim, grad_root->shape, buf_a,
                                             sizeof buf_a),
                                gt_shape_str(root->ndim, root->shape, buf_b, sizeof buf_b));
    } else if (root->numel != 1) {
        return gt_set_error(GT_ERR_SHAPE,
                            "backward: the tensor has shape %s, not one element; pass an "
                            "upstream gradient with gt_backward_with",
                            gt_shape_str(root->ndim, root->shape, buf_a, sizeof buf_a));
    }
    /* Intermediate gradients start from zero on every call. */
    for (gt_node *n = tape->last; n; n = n->prev)
        n->out->grad = NULL, n->out->flags &= ~(unsigned)GT__GRAD_STALE;
    for (gt_node *n = tape->last; n; n = n->prev)
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i]->flags & GT__ON_TAPE)
                n->in[i]->grad = NULL, n->in[i]->flags &= ~(unsigned)GT__GRAD_STALE;
    /* The upstream gradient borrowed when it may be: the root then has no gradient of its
     * own after the call (the caller holds it), as PyTorch's non-leaf .grad is None. */
    bool borrowed = grad_root && root->numel && may_borrow(tape, root, grad_root);
    if (borrowed)
        root->grad = (gt_real *)grad_root->data; /* only read, as may_borrow says */
    gt_status status = walk(tape, root, grad_root);
    if (borrowed)
        root->grad = NULL;
    return status;
}

gt_status gt_backward(gt_tape *tape, gt_tensor *root) {
    return gt_backward_with(tape, root, NULL);
}
