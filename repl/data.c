/* data.c - data sets and minibatches: fashion_mnist() reads an MNIST-format folder with the
 * library's reader (models/data.c: gt_mnist_load, scaled by its loader exactly as
 * gradtape-train scales a batch), and batches(x, y, size) iterates in a for loop over
 * minibatches [xb, yb], shuffled each loop from the session's generator (see seed). */
#include "builtins.h"

#include <string.h>

/* fashion_mnist(split="train", limit=0, path=None): [images [N,1,28,28] in [0,1], labels [N]] */
static bool b_fashion_mnist(repl *r, const call_args *a, value *out) {
    static const char *const names[] = {"split", "limit", "path"};
    int idx[3];
    const char *split = "train", *path = GT_DEFAULT_DATA_DIR;
    double limit = 0;
    if (!match_args(r, a, "fashion_mnist(split=\"train\", limit=N, path=None)", names, 3, 0,
                    idx) ||
        (idx[0] >= 0 && !arg_string(r, a, idx[0], &split)) ||
        (idx[1] >= 0 && a->vals[idx[1]].kind != V_NONE && !arg_number(r, a, idx[1], &limit)) ||
        (idx[2] >= 0 && a->vals[idx[2]].kind != V_NONE && !arg_string(r, a, idx[2], &path)))
        return false;
    if (strcmp(split, "train") && strcmp(split, "test"))
        return repl_fail(r, a->cols[idx[0]], "fashion_mnist: split must be \"train\" or "
                         "\"test\", not \"%s\"", split);
    if (!(limit >= 0 && limit == (int64_t)limit))
        return repl_fail(r, a->cols[idx[1]], "fashion_mnist: limit must be a whole number >= 0 "
                         "(0: every image), not %g", limit);
    gt_dataset data;
    if (gt_mnist_load(path, strcmp(split, "train") ? GT_SPLIT_TEST : GT_SPLIT_TRAIN, &data) !=
        GT_OK)
        return repl_fail(r, idx[2] >= 0 ? a->cols[idx[2]] : a->call->col, "fashion_mnist: %s",
                         gt_last_error());
    int64_t n = limit == 0 || limit > data.count ? data.count : (int64_t)limit;
    gt_loader loader;
    gt_batch batch;
    gt_tensor *x = NULL, *y = NULL;
    value list = value_none(), vx = value_none(), vy = value_none();
    bool ok = gt_loader_init(&loader, &data, n, false, 0, n) == GT_OK;
    if (ok) {
        gt_loader_start_epoch(&loader);
        ok = gt_loader_next(&loader, &batch) && (x = gt_tensor_clone(batch.x)) &&
             (y = gt_tensor_clone(batch.y));
        gt_loader_free(&loader);
    }
    gt_dataset_free(&data);
    if (!ok) {
        gt_tensor_free(x);
        gt_tensor_free(y);
        return repl_fail_lib(r, a->call->col);
    }
    if (!value_tensor(r, x, NULL, &vx) || !value_tensor(r, y, NULL, &vy) ||
        !value_list(r, 2, &list) || !list_append(r, list.box->list, vx, a->call->col) ||
        !list_append(r, list.box->list, vy, a->call->col)) {
        if (vx.kind == V_NONE)
            gt_tensor_free(y); /* value_tensor freed x */
        value_release(r, vx);
        value_release(r, vy);
        value_release(r, list);
        return false;
    }
    value_release(r, vx);
    value_release(r, vy);
    *out = list;
    return true;
}

/* ---- batches ------------------------------------------------------------------------------ */

typedef struct batcher {
    obj *x, *y; /* the tensors' boxes, referenced (read at each batch: a box may be detached) */
    int64_t size;
    bool shuffle;
} batcher;

typedef struct batch_state {
    int64_t n, next;
    int64_t order[]; /* n sample indices */
} batch_state;

static void batcher_free(repl *r, void *self) {
    batcher *b = self;
    value_release(r, (value){.kind = V_TENSOR, .box = b->x});
    value_release(r, (value){.kind = V_TENSOR, .box = b->y});
    gt_free(b);
}

static void batcher_describe(repl *r, const void *self, FILE *out) {
    (void)r;
    const batcher *b = self;
    int64_t n = b->x->tensor ? gt_tensor_dim(b->x->tensor, 0) : 0;
    fprintf(out, "batches(%lld samples, size %lld, shuffle=%s): %lld batches", (long long)n,
            (long long)b->size, b->shuffle ? "True" : "False",
            (long long)((n + b->size - 1) / b->size));
}

/* The tensors of both boxes, checked again at each loop (a name may have been reassigned
 * but the boxes are ours; only a lost copy can fail). */
static bool batcher_tensors(repl *r, const batcher *b, int col, gt_tensor **x, gt_tensor **y) {
    *x = b->x->tensor;
    *y = b->y->tensor;
    if (!*x || !*y)
        return repl_fail(r, col, "batches: a tensor was lost when the tape was reset (out of "
                         "memory)");
    return true;
}

static bool batcher_start(repl *r, void *self, int col, void **state) {
    batcher *b = self;
    gt_tensor *x, *y;
    if (!batcher_tensors(r, b, col, &x, &y))
        return false;
    int64_t n = gt_tensor_dim(x, 0);
    batch_state *s = gt_malloc(sizeof *s + (size_t)n * sizeof s->order[0], "batches");
    if (!s)
        return repl_fail_lib(r, col);
    s->n = n;
    s->next = 0;
    for (int64_t i = 0; i < n; i++)
        s->order[i] = i;
    for (int64_t i = n - 1; b->shuffle && i > 0; i--) { /* Fisher-Yates */
        int64_t j = (int64_t)gt_rng_below(&r->rng, (uint64_t)i + 1), t = s->order[i];
        s->order[i] = s->order[j];
        s->order[j] = t;
    }
    *state = s;
    return true;
}

/* Rows order[from .. from+count) of t[N, ...] as a new tensor [count, ...]. */
static gt_tensor *gather_rows(const gt_tensor *t, const int64_t *order, int64_t count) {
    int64_t shape[GT_MAX_DIMS];
    int ndim = gt_tensor_ndim(t);
    memcpy(shape, gt_tensor_shape(t), (size_t)ndim * sizeof shape[0]);
    int64_t row = shape[0] ? gt_tensor_numel(t) / shape[0] : 0;
    shape[0] = count;
    gt_tensor *out = gt_zeros(ndim, shape);
    if (!out)
        return NULL;
    const gt_real *src = gt_tensor_cdata(t);
    gt_real *dst = gt_tensor_data(out);
    for (int64_t i = 0; i < count; i++)
        memcpy(dst + i * row, src + order[i] * row, (size_t)row * sizeof *dst);
    return out;
}

static bool batcher_next(repl *r, void *self, void *state, int col, value *item, bool *end) {
    batcher *b = self;
    batch_state *s = state;
    gt_tensor *x, *y;
    if (s->next >= s->n) {
        *end = true;
        return true;
    }
    if (!batcher_tensors(r, b, col, &x, &y))
        return false;
    if (gt_tensor_dim(x, 0) != s->n || gt_tensor_dim(y, 0) != s->n)
        return repl_fail(r, col, "batches: the tensors changed size during the loop");
    int64_t count = s->n - s->next < b->size ? s->n - s->next : b->size;
    gt_tensor *xb = gather_rows(x, s->order + s->next, count);
    gt_tensor *yb = xb ? gather_rows(y, s->order + s->next, count) : NULL;
    if (!yb) {
        gt_tensor_free(xb);
        return repl_fail_lib(r, col);
    }
    value vx = value_none(), vy = value_none(), list = value_none();
    /* value_tensor frees the tensor it cannot box */
    if (!value_tensor(r, xb, NULL, &vx)) {
        gt_tensor_free(yb);
        return false;
    }
    if (!value_tensor(r, yb, NULL, &vy) || !value_list(r, 2, &list) ||
        !list_append(r, list.box->list, vx, col) || !list_append(r, list.box->list, vy, col)) {
        value_release(r, vx);
        value_release(r, vy);
        value_release(r, list);
        return false;
    }
    value_release(r, vx);
    value_release(r, vy);
    s->next += count;
    *item = list;
    return true;
}

static void batcher_end(void *state) { gt_free(state); }

static const repl_class batcher_class = {"batches", "batches", batcher_free, batcher_describe, NULL,
                                         batcher_start, batcher_next, batcher_end};

/* batches(x, y, size, shuffle=True) */
static bool b_batches(repl *r, const call_args *a, value *out) {
    static const char *const names[] = {"x", "y", "size", "shuffle"};
    const char *usage = "batches(x, y, size, shuffle=True)";
    int idx[4];
    double size = 0;
    bool shuffle = true;
    if (!match_args(r, a, usage, names, 4, 0, idx))
        return false;
    if (idx[0] < 0 || idx[1] < 0 || idx[2] < 0)
        return repl_fail(r, a->call->col, "batches: needs x, y and a batch size; usage: %s",
                         usage);
    gt_tensor *x, *y;
    if (!arg_tensor(r, a, idx[0], &x) || !arg_tensor(r, a, idx[1], &y) ||
        !arg_number(r, a, idx[2], &size) || (idx[3] >= 0 && !arg_truth(r, a, idx[3], &shuffle)))
        return false;
    if (!(size >= 1 && size == (int64_t)size))
        return repl_fail(r, a->cols[idx[2]], "batches: size must be a whole number >= 1, not "
                         "%g", size);
    if (gt_tensor_ndim(x) == 0 || gt_tensor_ndim(y) == 0 ||
        gt_tensor_dim(x, 0) != gt_tensor_dim(y, 0)) {
        char sx[128], sy[128];
        return repl_fail(r, a->call->col, "batches: x and y need the same first size (one row "
                         "per sample), got x %s and y %s",
                         gt_shape_str(gt_tensor_ndim(x), gt_tensor_shape(x), sx, sizeof sx),
                         gt_shape_str(gt_tensor_ndim(y), gt_tensor_shape(y), sy, sizeof sy));
    }
    /* boxes on the tape get heap copies first, so the loop outlives a step()'s reset */
    if (!value_detach(r, a->vals[idx[0]].box) || !value_detach(r, a->vals[idx[1]].box))
        return repl_fail_lib(r, a->call->col);
    batcher *b = gt_calloc(1, sizeof *b, "batches");
    if (!b)
        return repl_fail_lib(r, a->call->col);
    *b = (batcher){.x = a->vals[idx[0]].box, .y = a->vals[idx[1]].box, .size = (int64_t)size,
                   .shuffle = shuffle};
    b->x->refs++;
    b->y->refs++;
    return value_object(r, &batcher_class, b, out);
}

static const struct builtin_info rows[] = {
    {"fashion_mnist", b_fashion_mnist, "fashion_mnist(split=\"train\", limit=N, path=None)",
     "[images, labels]: the first limit images (0 or left out: all) of Fashion-MNIST's "
     "\"train\" or \"test\" split as [N, 1, 28, 28] scaled to [0, 1] as gradtape-train does, "
     "and their class indices [N]; path: any folder of MNIST-format files (default "
     GT_DEFAULT_DATA_DIR ")", B_IMPURE},
    {"batches", b_batches, "batches(x, y, size, shuffle=True)",
     "minibatches for a for loop: for xb, yb in batches(x, y, 64): ...; each loop goes "
     "over every row of x and y once, in an order drawn from the session's generator (see "
     "seed) unless shuffle=False; the last batch may be smaller", B_IMPURE},
};

const struct builtin_info *data_builtin_table(int *count) {
    *count = (int)(sizeof rows / sizeof rows[0]);
    return rows;
}
