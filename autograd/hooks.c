/* hooks.c - what callers attach to tensors through the tape (names, gradient hooks), and
 * how the backward walk runs the hooks. */
#include "tape_internal.h"

#include <string.h>

/* ---- the notes ------------------------------------------------------------------------ */

static gt__tape_note *note_add(gt_tape *tape, gt__note_kind kind, const gt_tensor *t,
                               const char *what) {
    if (tape->n_notes == tape->cap_notes) {
        size_t cap = tape->cap_notes ? 2 * tape->cap_notes : 8;
        gt__tape_note *notes = gt_malloc(cap * sizeof *notes, what);
        if (!notes)
            return NULL;
        if (tape->n_notes)
            memcpy(notes, tape->notes, tape->n_notes * sizeof *notes);
        gt_free(tape->notes);
        tape->notes = notes;
        tape->cap_notes = cap;
    }
    gt__tape_note *note = &tape->notes[tape->n_notes++];
    memset(note, 0, sizeof *note);
    note->kind = kind;
    note->tensor = t;
    if (kind != GT__NOTE_NAME) {
        note->id = ++tape->last_hook_id;
        tape->n_hooks++;
    }
    return note;
}

static void note_remove(gt_tape *tape, size_t i) {
    if (tape->notes[i].kind != GT__NOTE_NAME)
        tape->n_hooks--;
    memmove(&tape->notes[i], &tape->notes[i + 1], (tape->n_notes - i - 1) * sizeof *tape->notes);
    tape->n_notes--;
}

void gt__tape_notes_reset(gt_tape *tape) {
    for (size_t i = tape->n_notes; i-- > 0;)
        if (tape->notes[i].tensor->flags & GT__ON_TAPE)
            note_remove(tape, i);
}

void gt__tape_notes_free(gt_tape *tape) {
    gt_free(tape->notes);
    tape->notes = NULL;
    tape->n_notes = tape->cap_notes = tape->n_hooks = 0;
}

static gt_status check_hook_args(const char *call, gt_tape *tape, const gt_tensor *t, bool has_fn) {
    if (!tape)
        return gt_set_error(GT_ERR_ARG, "%s: tape is NULL", call);
    if (!has_fn)
        return gt_set_error(GT_ERR_ARG, "%s: the hook function is NULL", call);
    gt_status status = gt__check_input(call, tape, t);
    if (status != GT_OK)
        return status;
    if (!(t->flags & GT__REQUIRES_GRAD))
        return gt_set_error(GT_ERR_STATE,
                            "%s: the tensor does not require a gradient, so no gradient "
                            "will reach a hook",
                            call);
    return GT_OK;
}

gt_hook_id gt_tape_register_hook(gt_tape *tape, gt_tensor *t, gt_grad_hook_fn fn, void *user) {
    if (check_hook_args("register_hook", tape, t, fn) != GT_OK)
        return 0;
    gt__tape_note *note = note_add(tape, GT__NOTE_GRAD_HOOK, t, "register_hook");
    if (!note)
        return 0;
    note->grad_hook = fn;
    note->user = user;
    return note->id;
}

gt_hook_id gt_tape_register_post_accumulate_hook(gt_tape *tape, gt_tensor *leaf,
                                                 gt_post_accumulate_hook_fn fn, void *user) {
    const char *call = "register_post_accumulate_hook";
    if (check_hook_args(call, tape, leaf, fn) != GT_OK)
        return 0;
    if (leaf->flags & GT__ON_TAPE) {
        gt_set_error(GT_ERR_ARG,
                     "%s: the tensor is made by an op; a gradient accumulates "
                     "only into a leaf (a tensor made outside the tape)",
                     call);
        return 0;
    }
    gt__tape_note *note = note_add(tape, GT__NOTE_POST_HOOK, leaf, call);
    if (!note)
        return 0;
    note->post_hook = fn;
    note->user = user;
    return note->id;
}

gt_status gt_tape_remove_hook(gt_tape *tape, gt_hook_id id) {
    if (!tape)
        return gt_set_error(GT_ERR_ARG, "remove_hook: tape is NULL");
    for (size_t i = 0; id > 0 && i < tape->n_notes; i++)
        if (tape->notes[i].id == id) {
            note_remove(tape, i);
            return GT_OK;
        }
    return gt_set_error(GT_ERR_ARG,
                        "remove_hook: no hook %lld on this tape (removed already, or its "
                        "tensor was released by gt_tape_reset)",
                        (long long)id);
}

gt_status gt_tape_set_name(gt_tape *tape, const gt_tensor *t, const char *name) {
    if (!tape)
        return gt_set_error(GT_ERR_ARG, "set_name: tape is NULL");
    gt_status status = gt__check_input("set_name", tape, t);
    if (status != GT_OK)
        return status;
    gt__tape_note *note = NULL;
    for (size_t i = 0; i < tape->n_notes && !note; i++)
        if (tape->notes[i].kind == GT__NOTE_NAME && tape->notes[i].tensor == t)
            note = &tape->notes[i];
    if (!name) {
        if (note)
            note_remove(tape, (size_t)(note - tape->notes));
        return GT_OK;
    }
    if (!note && !(note = note_add(tape, GT__NOTE_NAME, t, "set_name")))
        return GT_ERR_NOMEM;
    snprintf(note->name, sizeof note->name, "%s", name);
    return GT_OK;
}

const char *gt__tape_name_of(const gt_tape *tape, const gt_tensor *t) {
    for (size_t i = 0; i < tape->n_notes; i++)
        if (tape->notes[i].kind == GT__NOTE_NAME && tape->notes[i].tensor == t)
            return tape->notes[i].name;
    return NULL;
}

/* ---- the walk's hooks ----------------------------------------------------------------- */

/* A hooked tensor that this backward reaches. */
typedef struct hook_target {
    gt_tensor *t;
    gt_node *producer;      /* an intermediate: the node that made it */
    gt_node *last_consumer; /* a leaf: the last node of the walk to add into its gradient */
    bool has_grad_hooks;
    gt_real *leaf_grad; /* a leaf with gradient hooks: its .grad, while this backward's */
    gt_real *buffer;    /* contributions go to `buffer` */
    gt_tensor view;     /* the gradient the hooks see */
} hook_target;

struct gt__walk_hooks {
    gt_tape *tape;
    hook_target *targets;
    int n_targets;
};

static bool reached(const gt_node *n) { return n->out->grad != NULL; }

/* Where t's hooks run in this walk; false when no gradient reaches t. */
static bool place_target(gt_tape *tape, hook_target *target) {
    gt_tensor *t = target->t;
    for (gt_node *n = tape->last; n; n = n->prev) {
        if (!reached(n))
            continue;
        if (n->out == t)
            target->producer = n;
        for (int i = 0; i < n->n_in && !(t->flags & GT__ON_TAPE); i++)
            if (n->in[i] == t && t->grad)
                target->last_consumer = n;
    }
    return target->producer || target->last_consumer;
}

gt_status gt__hooks_prepare(gt_tape *tape, gt__walk_hooks **hooks) {
    *hooks = NULL;
    if (!tape->n_hooks)
        return GT_OK;
    gt__walk_hooks *h = gt__tape_alloc(tape, sizeof *h, "backward");
    hook_target *targets =
        h ? gt__tape_alloc(tape, tape->n_hooks * sizeof *targets, "backward") : NULL;
    if (!targets)
        return GT_ERR_NOMEM;
    *h = (gt__walk_hooks){tape, targets, 0};
    for (size_t i = 0; i < tape->n_notes; i++) {
        const gt__tape_note *note = &tape->notes[i];
        if (note->kind == GT__NOTE_NAME)
            continue;
        hook_target *target = NULL;
        for (int j = 0; j < h->n_targets && !target; j++)
            if (targets[j].t == note->tensor)
                target = &targets[j];
        if (!target) {
            target = &targets[h->n_targets];
            *target = (hook_target){.t = (gt_tensor *)note->tensor};
            if (!place_target(tape, target))
                continue;
            h->n_targets++;
        }
        target->has_grad_hooks |= note->kind == GT__NOTE_GRAD_HOOK;
    }
    for (int j = 0; j < h->n_targets; j++) {
        hook_target *target = &targets[j];
        if (target->last_consumer && target->has_grad_hooks &&
            !(target->buffer = gt__tape_alloc(tape, gt__real_bytes(target->t->numel), "backward")))
            return GT_ERR_NOMEM;
    }
    *hooks = h;
    return GT_OK;
}

void gt__hooks_start(gt__walk_hooks *hooks) {
    for (int j = 0; hooks && j < hooks->n_targets; j++) {
        hook_target *target = &hooks->targets[j];
        if (!target->buffer)
            continue;
        target->leaf_grad = gt__grad_fresh(target->t);
        memset(target->buffer, 0, gt__real_bytes(target->t->numel));
        target->t->grad = target->buffer;
    }
}

static gt_status hook_failed(gt_status status, const gt_tensor *t) {
    if (gt_last_status() == status)
        return status; /* the hook said why */
    char shape[96];
    return gt_set_error(status == GT_OK ? GT_ERR_ARG : status,
                        "backward: a hook on a tensor %s returned %s without setting an error",
                        gt_shape_str(t->ndim, t->shape, shape, sizeof shape),
                        gt_status_name(status));
}

/* Runs the hooks of `kind` on target's tensor, in the order they were registered. */
static gt_status run_hooks(gt_tape *tape, hook_target *target, gt__note_kind kind, gt_real *grad) {
    gt_tensor *t = target->t;
    if (kind == GT__NOTE_GRAD_HOOK) {
        target->view = (gt_tensor){.ndim = t->ndim,
                                   .numel = t->numel,
                                   .flags = GT__ON_TAPE,
                                   .data = grad,
                                   .tape = tape,
                                   .epoch = tape->epoch};
        memcpy(target->view.shape, t->shape, sizeof t->shape);
    }
    for (size_t i = 0; i < tape->n_notes; i++) {
        const gt__tape_note *note = &tape->notes[i];
        if (note->tensor != t || note->kind != kind)
            continue;
        gt_status status = kind == GT__NOTE_GRAD_HOOK
                               ? note->grad_hook(t, &target->view, note->user)
                               : note->post_hook(t, note->user);
        if (status != GT_OK)
            return hook_failed(status, t);
    }
    return GT_OK;
}

gt_status gt__hooks_before_node(gt__walk_hooks *hooks, gt_node *n) {
    for (int j = 0; hooks && j < hooks->n_targets; j++) {
        hook_target *target = &hooks->targets[j];
        if (target->producer == n && target->has_grad_hooks) {
            gt_status status = run_hooks(hooks->tape, target, GT__NOTE_GRAD_HOOK, n->out->grad);
            if (status != GT_OK)
                return status;
        }
    }
    return GT_OK;
}

gt_status gt__hooks_after_node(gt__walk_hooks *hooks, gt_node *n) {
    for (int j = 0; hooks && j < hooks->n_targets; j++) {
        hook_target *target = &hooks->targets[j];
        if (target->last_consumer != n)
            continue;
        gt_status status = GT_OK;
        if (target->buffer) {
            status = run_hooks(hooks->tape, target, GT__NOTE_GRAD_HOOK, target->buffer);
            if (status != GT_OK)
                return status;
            target->t->grad = target->leaf_grad;
            for (int64_t i = 0; i < target->t->numel; i++)
                target->leaf_grad[i] += target->buffer[i];
            target->buffer = NULL;
        }
        status = run_hooks(hooks->tape, target, GT__NOTE_POST_HOOK, NULL);
        if (status != GT_OK)
            return status;
    }
    return GT_OK;
}

void gt__hooks_abandon(gt__walk_hooks *hooks) {
    for (int j = 0; hooks && j < hooks->n_targets; j++)
        if (hooks->targets[j].buffer && hooks->targets[j].leaf_grad)
            hooks->targets[j].t->grad = hooks->targets[j].leaf_grad;
}
