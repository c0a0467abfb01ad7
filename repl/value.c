/* value.c - reference-counted values and the rule that keeps names valid across tape resets. */
#include "value.h"
#include "builtins.h"
#include "eval.h"
#include "session.h"

#include <math.h>
#include <string.h>

value value_num(double x) { return (value){.kind = V_NUM, .num = x}; }

value value_bool(bool b) { return (value){.kind = V_BOOL, .num = b}; }

value value_none(void) { return (value){.kind = V_NONE}; }

value value_ref(value v) {
    if (v.box)
        v.box->refs++;
    return v;
}

static void unlink_live(repl *r, obj *box) {
    if (box->prev)
        box->prev->next = box->next;
    else if (r->live == box)
        r->live = box->next;
    if (box->next)
        box->next->prev = box->prev;
    box->prev = box->next = NULL;
}

void value_release(repl *r, value v) {
    obj *box = v.box;
    if (!box || --box->refs > 0)
        return;
    if (box->kind == V_TENSOR) {
        if (box->tape == r->tape)
            unlink_live(r, box);
        gt_tensor_free(box->copy);
        if (!box->tape && !box->owner)
            gt_tensor_free(box->tensor);
    }
    if (box->owner)
        value_release(r, (value){.kind = box->owner->kind, .box = box->owner});
    if (box->cls)
        box->cls->free(r, box->self);
    gt_free(box->str);
    if (box->opt)
        optim_free(r, box->opt);
    if (box->list) { /* its items are never lists: no deep recursion, no cycles */
        for (int i = 0; i < box->list->n; i++)
            value_release(r, box->list->items[i]);
        gt_free(box->list->items);
        gt_free(box->list);
    }
    if (box->func)
        func_free(r, box->func);
    gt_free(box);
}

static obj *new_box(repl *r, value_kind kind) {
    obj *box = gt_calloc(1, sizeof *box, "repl: value");
    if (!box) {
        repl_fail_lib(r, 0);
        return NULL;
    }
    box->refs = 1;
    box->kind = kind;
    return box;
}

bool value_tensor(repl *r, gt_tensor *t, gt_tape *tape, value *out) {
    obj *box = new_box(r, V_TENSOR);
    if (!box) {
        if (!tape)
            gt_tensor_free(t);
        return false;
    }
    box->tensor = t;
    box->tape = tape;
    if (tape && tape == r->tape) {
        box->next = r->live;
        if (r->live)
            r->live->prev = box;
        r->live = box;
    }
    *out = (value){.kind = V_TENSOR, .box = box};
    return true;
}

bool value_string(repl *r, const char *s, size_t len, value *out) {
    obj *box = new_box(r, V_STR);
    char *copy = box ? gt_malloc(len + 1, "repl: string") : NULL;
    if (!copy) {
        gt_free(box);
        return box ? repl_fail_lib(r, 0) : false;
    }
    memcpy(copy, s, len);
    copy[len] = 0;
    box->str = copy;
    *out = (value){.kind = V_STR, .box = box};
    return true;
}

bool value_opt(repl *r, repl_opt *opt, value *out) {
    obj *box = new_box(r, V_OPT);
    if (!box) {
        optim_free(r, opt);
        return false;
    }
    box->opt = opt;
    *out = (value){.kind = V_OPT, .box = box};
    return true;
}

bool value_func(repl *r, repl_func *fn, value *out) {
    obj *box = new_box(r, V_FUNC);
    if (!box) {
        func_free(r, fn);
        return false;
    }
    box->func = fn;
    *out = (value){.kind = V_FUNC, .box = box};
    return true;
}

bool value_object(repl *r, const repl_class *cls, void *self, value *out) {
    obj *box = new_box(r, V_OBJ);
    if (!box) {
        cls->free(r, self);
        return false;
    }
    box->cls = cls;
    box->self = self;
    *out = (value){.kind = V_OBJ, .box = box};
    return true;
}

bool value_owned_tensor(repl *r, gt_tensor *t, obj *owner, value *out) {
    obj *box = new_box(r, V_TENSOR);
    if (!box)
        return false;
    box->tensor = t;
    box->owner = owner;
    owner->refs++;
    *out = (value){.kind = V_TENSOR, .box = box};
    return true;
}

bool value_list(repl *r, int cap, value *out) {
    obj *box = new_box(r, V_LIST);
    repl_list *l = box ? gt_calloc(1, sizeof *l, "repl: list") : NULL;
    value *items = l ? gt_malloc((size_t)(cap > 0 ? cap : 4) * sizeof *items, "repl: list")
                     : NULL;
    if (!items) {
        gt_free(l);
        gt_free(box);
        return box ? repl_fail_lib(r, 0) : false;
    }
    *l = (repl_list){.cap = cap > 0 ? cap : 4, .items = items};
    box->list = l;
    *out = (value){.kind = V_LIST, .box = box};
    return true;
}

bool list_append(repl *r, repl_list *l, value item, int col) {
    if (item.kind == V_LIST || item.kind == V_FUNC)
        return repl_fail(r, col, "a list holds numbers, booleans, None, strings, tensors, "
                         "optimizers, models, batches and schedules, not %s",
                         value_kind_phrase(item));
    if (l->n == REPL_MAX_LIST)
        return repl_fail(r, col, "a list holds at most %d items", REPL_MAX_LIST);
    if (l->n == l->cap) {
        int cap = l->cap > REPL_MAX_LIST / 2 ? REPL_MAX_LIST : 2 * l->cap;
        value *grown = gt_malloc((size_t)cap * sizeof *grown, "repl: list");
        if (!grown)
            return repl_fail_lib(r, col);
        memcpy(grown, l->items, (size_t)l->n * sizeof *grown);
        gt_free(l->items);
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->n++] = value_ref(item);
    return true;
}

bool value_as_number(value v, double *x) {
    if (v.kind != V_NUM && v.kind != V_BOOL)
        return false;
    *x = v.num;
    return true;
}

bool value_int_list(repl *r, value v, int col, int64_t *out, int max, int *n) {
    const gt_real *data = NULL;
    int64_t count = 0;
    if (v.kind == V_LIST) {
        count = v.box->list->n;
    } else if (v.kind == V_TENSOR && v.box->tensor && gt_tensor_ndim(v.box->tensor) == 1) {
        count = gt_tensor_numel(v.box->tensor);
        data = gt_tensor_cdata(v.box->tensor);
    } else {
        return repl_fail(r, col, "expected a list of whole numbers such as [2, 2], got %s",
                         value_kind_phrase(v));
    }
    if (count > max)
        return repl_fail(r, col, "expected at most %d numbers, got %lld", max, (long long)count);
    for (int64_t i = 0; i < count; i++) {
        double x = 0;
        if (data)
            x = data[i];
        else if (!value_as_number(v.box->list->items[i], &x))
            return repl_fail(r, col, "expected a list of whole numbers, item %lld is %s",
                             (long long)i, value_kind_phrase(v.box->list->items[i]));
        if (x != floor(x) || fabs(x) > REPL_MAX_SIZE)
            return repl_fail(r, col, "expected whole numbers, item %lld is %g", (long long)i, x);
        out[i] = (int64_t)x;
    }
    *n = (int)count;
    return true;
}

bool value_truth(repl *r, value v, int col, bool *out) {
    switch (v.kind) {
    case V_NUM:
    case V_BOOL:
        *out = v.num != 0;
        return true;
    case V_NONE:
        *out = false;
        return true;
    case V_STR:
        *out = v.box->str[0] != 0;
        return true;
    case V_LIST:
        *out = v.box->list->n > 0;
        return true;
    case V_TENSOR:
        if (!v.box->tensor)
            return repl_fail(r, col, "this value was lost when the tape was reset (out of "
                             "memory)");
        if (gt_tensor_numel(v.box->tensor) != 1)
            return repl_fail(r, col, "Boolean value of Tensor with %s is ambiguous "
                             "(as in PyTorch; %lld elements): use item(t), sum(t) or amax(t)",
                             gt_tensor_numel(v.box->tensor) ? "more than one value" : "no values",
                             (long long)gt_tensor_numel(v.box->tensor));
        *out = gt_tensor_cdata(v.box->tensor)[0] != 0;
        return true;
    default:
        *out = true;
        return true;
    }
}

bool value_detach(repl *r, obj *box) {
    if (box->kind != V_TENSOR || !box->tape)
        return true;
    gt_tensor *copy = box->tensor ? gt_tensor_clone(box->tensor) : NULL;
    if (box->tape == r->tape)
        unlink_live(r, box);
    box->tensor = copy;
    box->tape = NULL;
    return copy != NULL;
}

static void release_pins(repl *r) {
    obj **pins = r->pins;
    int n = r->n_pins;
    r->pins = NULL;
    r->n_pins = r->cap_pins = 0;
    for (int i = 0; i < n; i++)
        value_release(r, (value){.kind = V_TENSOR, .box = pins[i]});
    gt_free(pins);
}

/* Copies every box of the session tape that has no copy yet; false at the first failure. */
static bool copy_live(repl *r) {
    for (obj *box = r->live; box; box = box->next)
        if (!box->copy && box->tensor && !(box->copy = gt_tensor_clone(box->tensor)))
            return false;
    return true;
}

void repl_reset_tape_cancel(repl *r) {
    for (obj *box = r->live; box; box = box->next) {
        gt_tensor_free(box->copy);
        box->copy = NULL;
    }
}

bool repl_reset_tape_prepare(repl *r) {
    if (copy_live(r))
        return true;
    repl_reset_tape_cancel(r);
    return repl_fail_lib(r, 0);
}

void repl_reset_tape_commit(repl *r) {
    while (r->live) {
        obj *box = r->live;
        unlink_live(r, box);
        box->tensor = box->copy;
        box->copy = NULL;
        box->tape = NULL;
    }
    if (r->tape)
        gt_tape_reset(r->tape);
    release_pins(r);
}

void repl_reset_tape(repl *r) {
    copy_live(r);
    repl_reset_tape_commit(r);
}

void repl_reset_tape_if_unused(repl *r) {
    if (!r->live)
        repl_reset_tape(r);
}

/* A tape node points at its inputs until the tape resets, so a heap tensor used as an input
 * must outlive its box's names: `y = sum(w * x)`, then `x = 5`, then `backward(y)`. */
bool value_pin(repl *r, obj *box) {
    if (r->n_pins && r->pins[r->n_pins - 1] == box)
        return true;
    if (r->n_pins == r->cap_pins) {
        int cap = r->cap_pins ? 2 * r->cap_pins : 16;
        obj **grown = gt_malloc((size_t)cap * sizeof *grown, "repl: pins");
        if (!grown)
            return false;
        if (r->n_pins)
            memcpy(grown, r->pins, (size_t)r->n_pins * sizeof *grown);
        gt_free(r->pins);
        r->pins = grown;
        r->cap_pins = cap;
    }
    box->refs++;
    r->pins[r->n_pins++] = box;
    return true;
}

const char *value_kind_phrase(value v) {
    switch (v.kind) {
    case V_NUM:
        return "a number";
    case V_BOOL:
        return "a bool";
    case V_STR:
        return "a string";
    case V_TENSOR:
        return "a tensor";
    case V_LIST:
        return "a list";
    case V_OPT:
        return "an optimizer";
    case V_FUNC:
        return "a function";
    case V_OBJ:
        return v.box->cls->phrase;
    default:
        return "None";
    }
}

/* The phrase without its article ("optimizer"); an object's own name ("batches"). */
const char *value_kind_name(value v) {
    if (v.kind == V_OBJ)
        return v.box->cls->name;
    const char *p = value_kind_phrase(v);
    return !strncmp(p, "a ", 2) ? p + 2 : !strncmp(p, "an ", 3) ? p + 3 : p;
}
