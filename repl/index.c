/* index.c - indexing, slicing and assigning into tensors with PyTorch's rules: x[0], x[-1],
 * x[:, 1:3], x[::2], x[..., 0], x[None], x[idx] (idx a tensor of whole numbers) and
 * x[0, 1:3] = t. A read is recorded as the op table's ops (narrow, squeeze, index_select,
 * unsqueeze, reshape), so it is differentiable; it gives a new tensor where PyTorch gives a
 * view. An assignment writes into a tensor no live graph uses. */
#include "builtins.h"
#include "eval_impl.h"

#include <math.h>
#include <string.h>

#define MAX_SUBS (2 * GT_MAX_DIMS + 1) /* subscripts of one x[...] */

typedef enum sub_kind { SUB_INT, SUB_SLICE, SUB_NEW, SUB_TENSOR } sub_kind;

/* What one subscript does to x, resolved against x's shape. */
typedef struct sub {
    sub_kind kind;
    int src_dim;                /* the dim of x it reads (not SUB_NEW) */
    int64_t start, step, count; /* SUB_INT: start; SUB_SLICE: count entries from start by step */
    int64_t *index;             /* SUB_TENSOR: count entries, each in [0, size) */
    int index_ndim;
    int64_t index_shape[GT_MAX_DIMS];
} sub;

typedef struct plan {
    int n;
    sub subs[MAX_SUBS + GT_MAX_DIMS];
    int out_ndim;
    int64_t out_shape[GT_MAX_DIMS];
    int col; /* of the x[...] */
} plan;

/* A subscript as evaluated: a value, a slice's three values (None where left out) or ... */
typedef struct raw_sub {
    const node *at;
    bool ellipsis, slice;
    value v[3];
} raw_sub;

static void plan_free(plan *p) {
    for (int i = 0; i < p->n; i++)
        gt_free(p->subs[i].index);
}

static bool eval_raw(repl *r, const node *s, raw_sub *raw) {
    raw->at = s;
    if (s->kind == N_ELLIPSIS) {
        raw->ellipsis = true;
        return true;
    }
    if (s->kind != N_SLICE)
        return eval(r, s, &raw->v[0]);
    raw->slice = true;
    for (int k = 0; k < 3; k++)
        if (!eval(r, s->kids[k], &raw->v[k]))
            return false;
    return true;
}

/* A slice bound or step: None (*given false) or a whole number, clamped to +-4e18. */
static bool slice_number(repl *r, value v, int col, bool *given, int64_t *out) {
    double x = 0;
    *given = v.kind != V_NONE;
    if (*given && !value_to_index(r, v, col, "a slice's start, stop and step", &x))
        return false;
    *out = (int64_t)fmax(-REPL_MAX_SIZE, fmin(REPL_MAX_SIZE, x));
    return true;
}

/* Python's slice.indices for a positive step. */
static int64_t clamp_bound(int64_t b, int64_t size) {
    if (b < 0)
        b += size;
    return b < 0 ? 0 : b > size ? size : b;
}

static bool add_out_dim(repl *r, plan *p, int64_t size, int col) {
    if (p->out_ndim == GT_MAX_DIMS)
        return repl_fail(r, col, "indexing would give a tensor of more than %d dims",
                         GT_MAX_DIMS);
    p->out_shape[p->out_ndim++] = size;
    return true;
}

static bool add_slice(repl *r, plan *p, const raw_sub *raw, int dim, int64_t size) {
    sub *s = &p->subs[p->n++];
    *s = (sub){.kind = SUB_SLICE, .src_dim = dim, .start = 0, .step = 1, .count = size};
    if (raw && raw->slice) {
        int col = raw->at->col;
        bool has_start, has_stop, has_step;
        int64_t start, stop, step;
        if (!slice_number(r, raw->v[0], raw->at->kids[0]->col, &has_start, &start) ||
            !slice_number(r, raw->v[1], raw->at->kids[1]->col, &has_stop, &stop) ||
            !slice_number(r, raw->v[2], raw->at->kids[2]->col, &has_step, &step))
            return false;
        if (has_step && step == 0)
            return repl_fail(r, col, "slice step cannot be zero");
        if (has_step && step < 0)
            return repl_fail(r, col, "step must be greater than zero (a negative step, as in "
                             "PyTorch, is not supported: flip(x, [%d]) reverses)", dim);
        s->step = has_step ? step : 1;
        s->start = has_start ? clamp_bound(start, size) : 0;
        int64_t end = has_stop ? clamp_bound(stop, size) : size;
        s->count = end > s->start ? (end - s->start + s->step - 1) / s->step : 0;
    }
    return add_out_dim(r, p, s->count, raw ? raw->at->col : p->col);
}

static bool add_int(repl *r, plan *p, const raw_sub *raw, int dim, int64_t size) {
    double x;
    if (!value_to_index(r, raw->v[0], raw->at->col, "an index", &x))
        return false;
    double at = x < 0 ? x + (double)size : x;
    if (at < 0 || at >= (double)size)
        return repl_fail(r, raw->at->col, "index %.15g is out of bounds for dimension %d with "
                         "size %lld", x, dim, (long long)size);
    p->subs[p->n++] = (sub){.kind = SUB_INT, .src_dim = dim, .start = (int64_t)at};
    return true;
}

static bool add_tensor(repl *r, plan *p, const raw_sub *raw, int dim, int64_t size) {
    const gt_tensor *t = raw->v[0].box->tensor;
    int col = raw->at->col;
    if (!t)
        return repl_fail(r, col, "this value was lost when the tape was reset (out of memory)");
    sub *s = &p->subs[p->n];
    *s = (sub){.kind = SUB_TENSOR, .src_dim = dim, .count = gt_tensor_numel(t),
               .index_ndim = gt_tensor_ndim(t)};
    memcpy(s->index_shape, gt_tensor_shape(t), (size_t)s->index_ndim * sizeof *s->index_shape);
    if (!(s->index = gt_malloc((size_t)(s->count ? s->count : 1) * sizeof *s->index,
                               "repl: index")))
        return repl_fail_lib(r, col);
    p->n++; /* plan_free frees the index from here on */
    const gt_real *data = gt_tensor_cdata(t);
    for (int64_t i = 0; i < s->count; i++) {
        double x = data[i];
        if (x != floor(x))
            return repl_fail(r, col, "tensors used as indices must hold whole numbers, item "
                             "%lld is %g", (long long)i, x);
        double at = x < 0 ? x + (double)size : x;
        if (at < 0 || at >= (double)size)
            return repl_fail(r, col, "index %.15g is out of bounds for dimension %d with size "
                             "%lld", x, dim, (long long)size);
        s->index[i] = (int64_t)at;
    }
    for (int k = 0; k < s->index_ndim; k++)
        if (!add_out_dim(r, p, s->index_shape[k], col))
            return false;
    return true;
}

/* Resolves the evaluated subscripts against x's shape. */
static bool make_plan(repl *r, const gt_tensor *x, const raw_sub *raw, int n_raw, int col,
                      plan *p) {
    int ndim = gt_tensor_ndim(x);
    const int64_t *shape = gt_tensor_shape(x);
    int consumers = 0, ellipses = 0, tensors = 0;
    for (int i = 0; i < n_raw; i++) {
        ellipses += raw[i].ellipsis;
        consumers += !raw[i].ellipsis && (raw[i].slice || raw[i].v[0].kind != V_NONE);
        tensors += !raw[i].ellipsis && !raw[i].slice && raw[i].v[0].kind == V_TENSOR;
    }
    if (ellipses > 1)
        return repl_fail(r, col, "an index can only have a single ellipsis ('...')");
    /* PyTorch broadcasts several index tensors together (x[i, j] picks pairs); that is not
     * here, and picking the product instead would be silently different */
    if (tensors > 1)
        return repl_fail(r, col, "one index tensor per subscript: x[i, j] with two tensors "
                         "(PyTorch's pairs) is not supported; index one dim at a time, "
                         "x[i][:, j] takes the product");
    if (ndim == 0 && consumers > 0)
        return repl_fail(r, col, "invalid index of a 0-dim tensor: item(t) gives its number");
    if (consumers > ndim)
        return repl_fail(r, col, "too many indices for tensor of dimension %d", ndim);
    int dim = 0;
    for (int i = 0; i < n_raw; i++) {
        const raw_sub *s = &raw[i];
        value v = s->v[0];
        bool ok = true;
        if (s->ellipsis) {
            for (int k = consumers; ok && k < ndim; k++, dim++)
                ok = add_slice(r, p, NULL, dim, shape[dim]);
        } else if (s->slice) {
            ok = add_slice(r, p, s, dim, shape[dim]);
            dim++;
        } else if (v.kind == V_NONE) {
            p->subs[p->n++] = (sub){.kind = SUB_NEW};
            ok = add_out_dim(r, p, 1, s->at->col);
        } else if (v.kind == V_NUM) {
            ok = add_int(r, p, s, dim, shape[dim]);
            dim++;
        } else if (v.kind == V_TENSOR) {
            ok = add_tensor(r, p, s, dim, shape[dim]);
            dim++;
        } else {
            ok = repl_fail(r, s->at->col, "only integers, slices (:), ellipsis (...), None and "
                           "tensors of whole numbers are valid indices (got %s)",
                           value_kind_phrase(v));
        }
        if (!ok)
            return false;
    }
    for (; dim < ndim; dim++)
        if (!add_slice(r, p, NULL, dim, shape[dim]))
            return false;
    return true;
}

/* Evaluates the subscripts kids[1 .. end-1] of n and resolves them against x. */
static bool subscripts_plan(repl *r, const node *n, int end, const gt_tensor *x, plan *p) {
    int n_raw = end - 1;
    if (n_raw > MAX_SUBS)
        return repl_fail(r, n->col, "too many indices (%d) for a tensor of at most %d dims",
                         n_raw, GT_MAX_DIMS);
    raw_sub raw[MAX_SUBS];
    memset(raw, 0, sizeof raw);
    memset(p, 0, sizeof *p);
    bool ok = true;
    for (int i = 0; ok && i < n_raw; i++)
        ok = eval_raw(r, n->kids[i + 1], &raw[i]);
    p->col = n->col;
    ok = ok && make_plan(r, x, raw, n_raw, n->col, p);
    for (int i = 0; i < n_raw; i++)
        for (int k = 0; k < 3; k++)
            value_release(r, raw[i].v[k]);
    if (!ok)
        plan_free(p);
    return ok;
}

/* A 1-D index tensor of `count` entries on the evaluation tape (the op keeps a pointer to
 * it until the tape resets): index[i], or start + i * step when index is NULL. */
static gt_tensor *tape_index(repl *r, const int64_t *index, int64_t count, int64_t start,
                             int64_t step) {
    gt_tensor *t = gt_tape_tensor(r->eval_tape, 1, (int64_t[]){count});
    if (t)
        for (int64_t i = 0; i < count; i++)
            gt_tensor_data(t)[i] = (gt_real)(index ? index[i] : start + i * step);
    return t;
}

/* x[plan] as the table's ops on the evaluation tape. */
static gt_tensor *apply_plan(repl *r, gt_tensor *x, const plan *p) {
    gt_tape *tape = r->eval_tape;
    gt_tensor *t = x;
    int d = 0; /* the dim of t the next subscript works on */
    for (int i = 0; t && i < p->n; i++) {
        const sub *s = &p->subs[i];
        int64_t size = s->kind == SUB_NEW ? 1 : gt_tensor_shape(x)[s->src_dim];
        if (s->kind == SUB_INT) {
            t = gt_narrow(tape, t, d, s->start, 1);
            t = t ? gt_squeeze(tape, t, GT_INTS(d)) : NULL;
        } else if (s->kind == SUB_NEW) {
            t = gt_unsqueeze(tape, t, d++);
        } else if (s->kind == SUB_SLICE && s->step == 1) {
            if (s->start != 0 || s->count != size)
                t = gt_narrow(tape, t, d, s->start, s->count);
            d++;
        } else { /* a slice with a step, or an index tensor */
            gt_tensor *index = s->kind == SUB_SLICE
                                   ? tape_index(r, NULL, s->count, s->start, s->step)
                                   : tape_index(r, s->index, s->count, 0, 0);
            t = index ? gt_index_select(tape, t, d, index) : NULL;
            if (t && s->kind == SUB_TENSOR && s->index_ndim != 1) { /* dim d -> index's dims */
                int64_t shape[2 * GT_MAX_DIMS];
                int nd = gt_tensor_ndim(t), k = 0;
                for (int j = 0; j < d; j++)
                    shape[k++] = gt_tensor_shape(t)[j];
                for (int j = 0; j < s->index_ndim; j++)
                    shape[k++] = s->index_shape[j];
                for (int j = d + 1; j < nd; j++)
                    shape[k++] = gt_tensor_shape(t)[j];
                t = gt_reshape(tape, t, k, shape);
            }
            d += s->kind == SUB_SLICE ? 1 : s->index_ndim;
        }
    }
    if (t == x) /* x[:] or x[...]: a new tensor all the same, recorded */
        t = gt_reshape(tape, x, gt_tensor_ndim(x), gt_tensor_shape(x));
    return t;
}

bool tensor_index(repl *r, const node *n, value x, value *out) {
    gt_tensor *t;
    plan p;
    if (!value_to_tensor(r, x, n->kids[0]->col, &t) || !subscripts_plan(r, n, n->n_kids, t, &p))
        return false;
    gt_tensor *y = apply_plan(r, t, &p);
    plan_free(&p);
    if (!y)
        return repl_fail_lib(r, n->col);
    return value_tensor(r, y, r->eval_tape, out);
}

/* ---- x[...] = v ------------------------------------------------------------------------ */

/* x was used as an op's input while a graph is alive (conservative: any value on the
 * session tape that requires grad). */
static bool is_pinned(const repl *r, const obj *box) {
    bool graph = false;
    for (const obj *b = r->live; b && !graph; b = b->next)
        graph = b->tensor && gt_tensor_requires_grad(b->tensor);
    for (int i = 0; graph && i < r->n_pins; i++)
        if (r->pins[i] == box)
            return true;
    return false;
}

/* The tensor x may be written: not part of a live graph. */
static bool writable(repl *r, const node *n, value x) {
    int col = n->kids[0]->col;
    if (x.kind != V_TENSOR)
        return repl_fail(r, col, "%s cannot be assigned into (lists and tensors can: l[0] = "
                         "x, t[0, 1:3] = v)", value_kind_phrase(x));
    if (!x.box->tensor)
        return repl_fail(r, col, "this value was lost when the tape was reset (out of memory)");
    if (n->kids[0]->kind == N_INDEX && x.box->tape)
        return repl_fail(r, col, "x[i][j] = v would assign into a new tensor (indexing copies): "
                         "write x[i, j] = v");
    if (gt_tensor_requires_grad(x.box->tensor))
        return repl_fail(r, col, x.box->tape ? "this tensor is part of a live graph (it "
                         "requires grad): assigning into it would change what backward "
                         "computes" : "a leaf tensor that requires grad (a parameter) is "
                         "being used in an in-place operation, as PyTorch refuses");
    if (is_pinned(r, x.box))
        return repl_fail(r, col, "this tensor is an input of a graph still alive (backward "
                         "not called yet): assigning into it would change its gradients");
    if (x.box->tape && !value_detach(r, x.box)) /* a result on a tape: to the heap */
        return repl_fail_lib(r, col);
    return true;
}

static void shape_text(int ndim, const int64_t *shape, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "",
                                 (long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* x's element offsets of the indexing result's elements, in order, into off[]. */
static void plan_offsets(const plan *p, const gt_tensor *x, int64_t *off, int64_t numel) {
    int64_t stride[GT_MAX_DIMS];
    int ndim = gt_tensor_ndim(x);
    int64_t size = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        stride[d] = size;
        size *= gt_tensor_shape(x)[d];
    }
    int64_t c[GT_MAX_DIMS] = {0}; /* the result's coordinates */
    for (int64_t e = 0; e < numel; e++) {
        int64_t o = 0;
        int od = 0;
        for (int i = 0; i < p->n; i++) {
            const sub *s = &p->subs[i];
            if (s->kind == SUB_INT) {
                o += s->start * stride[s->src_dim];
            } else if (s->kind == SUB_SLICE) {
                o += (s->start + s->step * c[od++]) * stride[s->src_dim];
            } else if (s->kind == SUB_NEW) {
                od++;
            } else {
                int64_t flat = 0;
                for (int k = 0; k < s->index_ndim; k++, od++)
                    flat = flat * s->index_shape[k] + c[od];
                o += s->index[flat] * stride[s->src_dim];
            }
        }
        off[e] = o;
        for (int d = p->out_ndim - 1; d >= 0 && ++c[d] == p->out_shape[d]; d--)
            c[d] = 0;
    }
}

bool tensor_setitem(repl *r, const node *n, value x, value v) {
    if (!writable(r, n, x))
        return false;
    const node *vn = n->kids[n->n_kids - 1];
    const gt_tensor *src = NULL;
    double number = 0;
    if (v.kind == V_TENSOR && !(src = v.box->tensor))
        return repl_fail(r, vn->col, "this value was lost when the tape was reset (out of "
                         "memory)");
    if (src && gt_tensor_requires_grad(src))
        return repl_fail(r, vn->col, "the value requires grad: assignment copies its numbers "
                         "and no gradient would flow through it; build the tensor with cat, "
                         "stack or where instead");
    if (v.kind != V_TENSOR && !value_as_number(v, &number))
        return repl_fail(r, vn->col, "a tensor's items take a number or a tensor, not %s",
                         value_kind_phrase(v));
    gt_tensor *t = x.box->tensor;
    plan p;
    if (!subscripts_plan(r, n, n->n_kids - 1, t, &p))
        return false;
    int64_t numel = gt_shape_numel(p.out_ndim, p.out_shape);
    int sn = src ? gt_tensor_ndim(src) : 0;
    const int64_t *ss = src ? gt_tensor_shape(src) : NULL;
    /* the value broadcasts to the result's shape (extra leading dims of size 1 allowed) */
    bool fits = true;
    int64_t vstride[GT_MAX_DIMS] = {0}; /* per result dim, 0 where v repeats */
    int64_t size = 1;
    for (int i = sn - 1, d = p.out_ndim - 1; fits && i >= 0; i--, d--) {
        fits = d < 0 ? ss[i] == 1 : ss[i] == 1 || ss[i] == p.out_shape[d];
        if (fits && d >= 0)
            vstride[d] = ss[i] == 1 ? 0 : size;
        size *= ss[i];
    }
    if (!fits) {
        char a[128], b[128];
        shape_text(sn, ss, a, sizeof a);
        shape_text(p.out_ndim, p.out_shape, b, sizeof b);
        plan_free(&p);
        return repl_fail(r, vn->col, "shape mismatch: value tensor of shape %s cannot be "
                         "broadcast to indexing result of shape %s", a, b);
    }
    int64_t *off = gt_malloc((size_t)(numel ? numel : 1) * sizeof *off, "repl: assignment");
    gt_real *vals = src ? gt_malloc((size_t)(gt_tensor_numel(src) ? gt_tensor_numel(src) : 1) *
                                        sizeof *vals, "repl: assignment")
                        : NULL;
    bool ok = off && (!src || vals);
    if (ok) {
        plan_offsets(&p, t, off, numel);
        if (src) /* a copy first: v may share x's data */
            memcpy(vals, gt_tensor_cdata(src), (size_t)gt_tensor_numel(src) * sizeof *vals);
        gt_real *data = gt_tensor_data(t);
        int64_t c[GT_MAX_DIMS] = {0};
        for (int64_t e = 0; e < numel; e++) {
            int64_t vo = 0;
            for (int d = 0; d < p.out_ndim; d++)
                vo += c[d] * vstride[d];
            data[off[e]] = src ? vals[vo] : (gt_real)number;
            for (int d = p.out_ndim - 1; d >= 0 && ++c[d] == p.out_shape[d]; d--)
                c[d] = 0;
        }
    }
    gt_free(off);
    gt_free(vals);
    plan_free(&p);
    return ok || repl_fail_lib(r, n->col);
}
