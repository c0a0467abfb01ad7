/* value.h - the REPL's values: numbers, booleans, None, strings, tensors, lists, optimizers
 * and functions, reference-counted, and the rule that keeps names valid across tape resets.
 *
 * Reading a value (for a builtin or an op's attribute):
 *   V_NONE    None (also what a builtin without a result gives)
 *   V_NUM     v.num, a double (whole numbers are integers)
 *   V_BOOL    v.num, 1 for True and 0 for False; value_as_number() takes both kinds
 *   V_STR     v.box->str, NUL-terminated
 *   V_TENSOR  v.box->tensor (value_to_tensor() also turns a number into a 0-d tensor)
 *   V_LIST    v.box->list->items[0 .. n-1]: numbers, booleans, None, strings, tensors,
 *             optimizers (never lists or functions, so lists have no cycles);
 *             a literal of numbers only, [2, 2], is a 1-D tensor: value_int_list() reads
 *             either as a list of whole numbers
 *   V_OPT     v.box->opt
 *   V_FUNC    v.box->func, a def
 *   V_OBJ     v.box->self, an object of class v.box->cls: a model, a batch iterator, a
 *             learning-rate schedule (models.c, data.c, optim.c); the class frees and
 *             describes it, and may make it callable (m(x)) or iterable (for b in it:)
 * A tensor box with an owner (a model's parameter) does not own its tensor: it keeps a
 * reference to the owner's box instead, which frees the tensor with itself. */
#ifndef GT_REPL_VALUE_H
#define GT_REPL_VALUE_H

#include "gradtape.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum value_kind {
    V_NONE, V_NUM, V_BOOL, V_STR, V_TENSOR, V_LIST, V_OPT, V_FUNC, V_OBJ
} value_kind;

typedef struct repl_opt repl_opt;
typedef struct repl_func repl_func;
typedef struct repl_list repl_list;
struct repl;
struct call_args;
struct value;
struct obj;

/* What an object (V_OBJ) is and does. free and describe are required; call and the
 * iteration functions are NULL for an object that cannot be called or iterated. */
typedef struct repl_class {
    const char *name;   /* "model": value_kind_name's answer */
    const char *phrase; /* "a model": the name with its article, for messages */
    void (*free)(struct repl *r, void *self);
    void (*describe)(struct repl *r, const void *self, FILE *out);
    /* self(args...), for `m(x)`: box is the object's own box */
    bool (*call)(struct repl *r, struct obj *box, const struct call_args *a, struct value *out);
    /* for v in self: iter_start makes the loop's state, iter_next gives the next item (false
     * with r->err set on failure, *end true after the last), iter_end frees the state */
    bool (*iter_start)(struct repl *r, void *self, int col, void **state);
    bool (*iter_next)(struct repl *r, void *self, void *state, int col, struct value *item,
                      bool *end);
    void (*iter_end)(void *state);
} repl_class;

/* A reference-counted box shared by every name and temporary holding the same thing. */
typedef struct obj {
    int refs;
    value_kind kind;
    gt_tensor *tensor; /* V_TENSOR: NULL only if lost by a failed copy */
    gt_tensor *copy;   /* V_TENSOR on the session tape: its heap copy, made ahead of a reset */
    gt_tape *tape;     /* V_TENSOR: the tape that owns it, NULL for a heap tensor */
    struct obj *prev, *next; /* boxes of the session tape, for detaching on reset */
    char *str;         /* V_STR */
    repl_opt *opt;     /* V_OPT */
    repl_list *list;   /* V_LIST */
    repl_func *func;   /* V_FUNC */
    const repl_class *cls; /* V_OBJ */
    void *self;            /* V_OBJ */
    struct obj *owner;     /* V_TENSOR: the box that owns the tensor (a model), or NULL */
} obj;

typedef struct value {
    value_kind kind;
    double num; /* V_NUM, V_BOOL */
    obj *box;   /* V_STR, V_TENSOR, V_LIST, V_OPT, V_FUNC */
} value;

struct repl_list {
    int n, cap;
    value *items;
};

#define REPL_MAX_LIST (1 << 24) /* elements of one list */

value value_num(double x);
value value_bool(bool b);
value value_none(void);
value value_ref(value v);
void value_release(struct repl *r, value v);
/* New boxes own what they are given (tensor on `tape` or on the heap, string, optimizer). */
bool value_tensor(struct repl *r, gt_tensor *t, gt_tape *tape, value *out);
bool value_string(struct repl *r, const char *s, size_t len, value *out);
bool value_opt(struct repl *r, repl_opt *opt, value *out);
bool value_func(struct repl *r, repl_func *fn, value *out);
/* An object of class cls, which it owns (freed by cls->free on failure too). */
bool value_object(struct repl *r, const repl_class *cls, void *self, value *out);
/* A tensor that `owner` owns (a model's parameter): the box keeps owner alive. */
bool value_owned_tensor(struct repl *r, gt_tensor *t, obj *owner, value *out);
/* An empty list with room for `cap` items. */
bool value_list(struct repl *r, int cap, value *out);
/* Appends (takes a reference to) item; refuses lists and functions. */
bool list_append(struct repl *r, repl_list *l, value item, int col);
/* A number from V_NUM or V_BOOL. */
bool value_as_number(value v, double *x);
/* Whole numbers from a list of numbers or a 1-D tensor ([2, 2]); at most `max`. */
bool value_int_list(struct repl *r, value v, int col, int64_t *out, int max, int *n);
/* Python's truth: 0, False, None, "", [] are false; a tensor of one element by its value. */
bool value_truth(struct repl *r, value v, int col, bool *out);
/* Copies the tensor of a session-tape box to the heap (values kept, graph dropped). */
bool value_detach(struct repl *r, obj *box);
/* Detaches every box of the session tape, then resets the tape; a value that cannot be
 * copied for lack of memory is lost (its box says so when used). */
void repl_reset_tape(struct repl *r);
/* The same in two steps, for a builtin that must change nothing when memory runs out:
 * prepare copies every box of the session tape to the heap, all or nothing (false, with
 * r->err set and nothing changed); commit swaps the copies in and resets the tape; cancel
 * frees the copies when the work between the two failed. */
bool repl_reset_tape_prepare(struct repl *r);
void repl_reset_tape_commit(struct repl *r);
void repl_reset_tape_cancel(struct repl *r);
/* Resets the tape when no name holds a tensor on it (nothing reachable is lost). */
void repl_reset_tape_if_unused(struct repl *r);
/* Keeps a heap tensor's box alive until the next tape reset. */
bool value_pin(struct repl *r, obj *box);
const char *value_kind_name(value v);
/* The kind with its article, for messages: "a tensor", "an optimizer", "None". */
const char *value_kind_phrase(value v);

#endif
