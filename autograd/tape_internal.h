/* tape_internal.h - the tape's layout, shared by the files of autograd/ only (ops see the
 * tape through gt_tape_impl.h). */
#ifndef GT_TAPE_INTERNAL_H
#define GT_TAPE_INTERNAL_H

#include "gt_tape_impl.h"

#define GT_ARENA_ALIGN GT__ALIGN
#define GT_ARENA_FIRST_CHUNK (256u * 1024u)

typedef struct gt_chunk {
    struct gt_chunk *next;
    size_t capacity;
    size_t used;
    unsigned char *mem; /* GT_ARENA_ALIGN-aligned start inside the allocation */
} gt_chunk;

/* What a caller attached to a tensor through the tape: a name for the graph, or a hook. */
typedef enum gt__note_kind { GT__NOTE_NAME, GT__NOTE_GRAD_HOOK, GT__NOTE_POST_HOOK } gt__note_kind;

#define GT__NOTE_NAME_SIZE 48

typedef struct gt__tape_note {
    gt__note_kind kind;
    const gt_tensor *tensor;
    gt_hook_id id;                          /* hooks: what gt_tape_remove_hook takes */
    gt_grad_hook_fn grad_hook;              /* GT__NOTE_GRAD_HOOK */
    gt_post_accumulate_hook_fn post_hook;   /* GT__NOTE_POST_HOOK */
    void *user;
    char name[GT__NOTE_NAME_SIZE];          /* GT__NOTE_NAME */
} gt__tape_note;

typedef struct gt__profile gt__profile;

struct gt_tape {
    gt__tape_head head; /* first: ops read it through gt_tape_impl.h */
    gt_chunk *first;
    gt_chunk *current;
    gt_node *last;
    size_t n_nodes;
    size_t chunk_allocs;
    size_t arena_failures;         /* times the arena could not grow, and the last one's error */
    gt__error_state arena_error;
    uint64_t epoch;
    bool grad_enabled;
    bool detect_anomaly;
    gt__tape_note *notes;       /* names and hooks, in the order they were given */
    size_t n_notes, cap_notes;
    size_t n_hooks;             /* notes that are hooks: the walk looks for them only then */
    gt_hook_id last_hook_id;
    const gt_node *anomaly_node; /* the node whose gradient failed the anomaly check */
    gt__profile *profile;
    gt_chunk *forward_scratch;  /* gt__tape_forward_scratch: an op's temporaries */
    gt_chunk *backward_scratch; /* the nodes' scratch during gt_backward, one after another */
};

/* Drops the notes on tensors of the step being released (gt_tape_reset). */
void gt__tape_notes_reset(gt_tape *tape);
/* Frees the notes and the profile (gt_tape_free). */
void gt__tape_notes_free(gt_tape *tape);
void gt__profile_free(gt_tape *tape);
/* Ends the timing of a backward step begun with gt__profile_begin. */
void gt__profile_backward_end(gt_tape *tape, int64_t start, const gt_node *node);
/* The name given to t with gt_tape_set_name, or NULL. */
const char *gt__tape_name_of(const gt_tape *tape, const gt_tensor *t);

/* The backward walk's hooks (hooks.c). Before any gradient is touched, hooks_prepare takes
 * from the arena what the hooks of this walk need; hooks_start then sends the contributions
 * to each hooked leaf into a buffer of their own, so that its hooks see this backward's
 * gradient alone. */
typedef struct gt__walk_hooks gt__walk_hooks;
gt_status gt__hooks_prepare(gt_tape *tape, gt__walk_hooks **hooks);
void gt__hooks_start(gt__walk_hooks *hooks);
/* Runs the gradient hooks of n's output, before n's backward. */
gt_status gt__hooks_before_node(gt__walk_hooks *hooks, gt_node *n);
/* After n's backward: the leaves n was the last to add into get their hooks run, their
 * gradient added into .grad, and then their post-accumulate hooks. */
gt_status gt__hooks_after_node(gt__walk_hooks *hooks, gt_node *n);
/* Puts every leaf's gradient buffer back after a failed walk (contributions are dropped). */
void gt__hooks_abandon(gt__walk_hooks *hooks);

#endif
