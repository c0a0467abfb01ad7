/* print.c - gt_tensor_print: a NumPy/PyTorch-style text rendering of a tensor.
 *
 * Layout rule (deterministic, NumPy's):
 *   - rank 0 prints the bare value: tensor(3.5, shape=[]);
 *   - a tensor without elements prints [] whatever its shape, as NumPy and PyTorch do:
 *     tensor([], shape=[100000, 0]) (not 100000 pairs of brackets);
 *   - the innermost dimension is always on one line, values separated by ", ";
 *   - an outer dimension `dim` puts its sub-blocks on separate lines: "," then
 *     (ndim - 1 - dim) newlines (so a blank line separates the matrices of a 3-d tensor),
 *     then spaces aligning the next '[' under the previous one;
 *   - values are not padded to a common width;
 *   - when numel > 1000, every dimension longer than 6 shows its first 3 and last 3
 *     entries with "..." in between, the "..." taking the place of one entry.
 *
 *   tensor([[1, 2, 3],
 *           [4, 5, 6]], shape=[2, 3], requires_grad)
 */
#include "gt_tensor_impl.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

enum {
    ELIDE_THRESHOLD = 1000, /* more elements than this: elide */
    ELIDE_EDGE = 3          /* entries kept at each end of an elided dimension */
};

static const char PREFIX[] = "tensor(";

/* Output sink: counts what was written and remembers the first failure. */
typedef struct writer {
    FILE *out;
    long count;
    bool failed;
} writer;

static void put_text(writer *w, const char *text) {
    if (w->failed)
        return;
    if (fputs(text, w->out) < 0)
        w->failed = true;
    else
        w->count += (long)strlen(text);
}

static void put_spaces(writer *w, int n) {
    for (int i = 0; i < n; i++)
        put_text(w, " ");
}

static void put_value(writer *w, gt_real value, int digits) {
    if (isnan(value)) {
        put_text(w, "nan");
    } else if (isinf(value)) {
        put_text(w, value < 0 ? "-inf" : "inf");
    } else {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*g", digits, (double)value);
        put_text(w, buf);
    }
}

/* What goes between two entries of dimension `dim`. */
static void put_separator(writer *w, const gt_tensor *t, int dim) {
    if (dim == t->ndim - 1) {
        put_text(w, ", ");
        return;
    }
    put_text(w, ",");
    for (int i = dim; i < t->ndim - 1; i++)
        put_text(w, "\n");
    put_spaces(w, (int)strlen(PREFIX) + dim + 1);
}

static int64_t stride_of(const gt_tensor *t, int dim) {
    int64_t stride = 1;
    for (int i = dim + 1; i < t->ndim; i++)
        stride *= t->shape[i];
    return stride;
}

/* Prints the block of dimension `dim` whose first element is data[offset]. */
static void put_block(writer *w, const gt_tensor *t, int dim, int64_t offset, bool elide,
                      int digits) {
    int64_t size = t->shape[dim], stride = stride_of(t, dim);
    bool skip_middle = elide && size > 2 * ELIDE_EDGE;
    put_text(w, "[");
    for (int64_t i = 0; i < size; i++) {
        if (i > 0)
            put_separator(w, t, dim);
        if (skip_middle && i == ELIDE_EDGE) {
            put_text(w, "...");
            i = size - ELIDE_EDGE - 1;
            continue;
        }
        if (dim == t->ndim - 1)
            put_value(w, t->data[offset + i], digits);
        else
            put_block(w, t, dim + 1, offset + i * stride, elide, digits);
    }
    put_text(w, "]");
}

static void put_shape(writer *w, const gt_tensor *t) {
    char buf[32];
    put_text(w, "shape=[");
    for (int i = 0; i < t->ndim; i++) {
        snprintf(buf, sizeof buf, "%s%" PRId64, i ? ", " : "", t->shape[i]);
        put_text(w, buf);
    }
    put_text(w, "]");
}

int gt_tensor_print(FILE *out, const gt_tensor *t, int digits) {
    if (!t || !out) {
        gt_set_error(GT_ERR_ARG, "print: %s is NULL", t ? "output stream" : "tensor");
        return -1;
    }
    digits = digits < 1 ? 1 : digits > 17 ? 17 : digits;
    writer w = {out, 0, false};
    put_text(&w, PREFIX);
    if (t->ndim == 0)
        put_value(&w, t->data[0], digits);
    else if (t->numel == 0)
        put_text(&w, "[]");
    else
        put_block(&w, t, 0, 0, t->numel > ELIDE_THRESHOLD, digits);
    put_text(&w, ", ");
    put_shape(&w, t);
    if (gt_tensor_requires_grad(t))
        put_text(&w, ", requires_grad");
    put_text(&w, ")");
    if (w.failed) {
        gt_set_error(GT_ERR_IO, "print: write failed");
        return -1;
    }
    return (int)w.count; /* elision keeps even rank-8 output far below INT_MAX */
}
