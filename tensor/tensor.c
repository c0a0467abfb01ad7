/* tensor.c - heap tensors: creation, shape queries, gradients of leaves. */
#include "gt_tensor_impl.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

int64_t gt_shape_numel(int ndim, const int64_t *shape) {
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return -1;
        if (shape[i] != 0 && numel > INT64_MAX / shape[i])
            return -1;
        numel *= shape[i];
    }
    return numel;
}

char *gt_shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? ", " : "",
                                 shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

size_t gt__real_bytes(int64_t numel) {
    if (numel < 0 || (uint64_t)numel > (SIZE_MAX - 64) / sizeof(gt_real))
        return SIZE_MAX;
    return (size_t)numel * sizeof(gt_real);
}

gt_status gt_shape_check(const char *op, int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > GT_MAX_DIMS)
        return gt_set_error(GT_ERR_SHAPE, "%s: rank %d is outside 0..%d", op, ndim,
                            GT_MAX_DIMS);
    if (ndim > 0 && !shape)
        return gt_set_error(GT_ERR_ARG, "%s: shape is NULL", op);
    char buf[160];
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return gt_set_error(GT_ERR_SHAPE, "%s: negative size in shape %s", op,
                                gt_shape_str(ndim, shape, buf, sizeof buf));
    int64_t numel = gt_shape_numel(ndim, shape);
    if (numel < 0 || gt__real_bytes(numel) == SIZE_MAX)
        return gt_set_error(GT_ERR_NOMEM, "%s: shape %s has too many elements to store",
                            op, gt_shape_str(ndim, shape, buf, sizeof buf));
    return GT_OK;
}

void gt__tensor_init_shape(gt_tensor *t, int ndim, const int64_t *shape) {
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    for (int i = ndim; i < GT_MAX_DIMS; i++)
        t->shape[i] = 1;
    t->numel = gt_shape_numel(ndim, shape);
}

bool gt_shape_equal(int ndim_a, const int64_t *a, int ndim_b, const int64_t *b) {
    if (ndim_a != ndim_b)
        return false;
    for (int i = 0; i < ndim_a; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

gt_tensor *gt_empty(int ndim, const int64_t *shape) {
    if (gt_shape_check("tensor", ndim, shape) != GT_OK)
        return NULL;
    int64_t numel = gt_shape_numel(ndim, shape);
    size_t header = (sizeof(gt_tensor) + 63) & ~(size_t)63;
    size_t bytes = gt__real_bytes(numel);
    if (bytes > SIZE_MAX - header) {
        gt_set_error(GT_ERR_NOMEM, "tensor: too large");
        return NULL;
    }
    gt_tensor *t = gt__malloc_aligned(header + bytes, "tensor");
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    gt__tensor_init_shape(t, ndim, shape);
    t->data = (gt_real *)((char *)t + header);
    t->flags = GT__OWNS_DATA;
    return t;
}

gt_tensor *gt_full(int ndim, const int64_t *shape, gt_real value) {
    gt_tensor *t = gt_empty(ndim, shape);
    if (t)
        for (int64_t i = 0; i < t->numel; i++)
            t->data[i] = value;
    return t;
}

gt_tensor *gt_zeros(int ndim, const int64_t *shape) { return gt_full(ndim, shape, 0); }

gt_tensor *gt_ones(int ndim, const int64_t *shape) { return gt_full(ndim, shape, 1); }

gt_tensor *gt_from_array(int ndim, const int64_t *shape, const gt_real *values) {
    if (!values && gt_shape_numel(ndim, shape) > 0) {
        gt_set_error(GT_ERR_ARG, "from_array: values is NULL");
        return NULL;
    }
    gt_tensor *t = gt_empty(ndim, shape);
    if (t && t->numel)
        memcpy(t->data, values, (size_t)t->numel * sizeof(gt_real));
    return t;
}

gt_status gt__shape_resolve(const char *op, int from_ndim, const int64_t *from, int ndim,
                            int64_t *shape) {
    int64_t numel = gt_shape_numel(from_ndim, from), known = 1;
    int inferred = -1;
    char a[160], b[160];
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < -1 || (shape[d] == -1 && inferred >= 0))
            return gt_set_error(GT_ERR_SHAPE, "%s: bad size %lld in dimension %d (sizes are >= 0, "
                                "one may be -1)", op, (long long)shape[d], d);
        if (shape[d] == -1)
            inferred = d;
        else if (shape[d] != 0 && known > INT64_MAX / shape[d])
            known = -1;
        else if (known >= 0)
            known *= shape[d];
    }
    bool fits = inferred >= 0 ? known > 0 && numel % known == 0 : known == numel;
    if (known < 0 || !fits)
        return gt_set_error(GT_ERR_SHAPE, "%s: cannot view %s (%lld elements) as %s", op,
                            gt_shape_str(from_ndim, from, a, sizeof a), (long long)numel,
                            gt_shape_str(ndim, shape, b, sizeof b));
    if (inferred >= 0)
        shape[inferred] = numel / known;
    return GT_OK;
}

gt_status gt_tensor_reshape(gt_tensor *t, int ndim, const int64_t *shape) {
    if (!t || !shape)
        return gt_set_error(GT_ERR_ARG, "tensor_reshape: %s is NULL", t ? "shape" : "tensor");
    if (t->flags & GT__ON_TAPE)
        return gt_set_error(GT_ERR_STATE, "tensor_reshape: a tape's tensor is part of a "
                            "recorded graph: view it with gt_reshape instead");
    if (ndim < 0 || ndim > GT_MAX_DIMS)
        return gt_set_error(GT_ERR_SHAPE, "tensor_reshape: rank %d is outside 0..%d", ndim,
                            GT_MAX_DIMS);
    int64_t sizes[GT_MAX_DIMS];
    memcpy(sizes, shape, (size_t)ndim * sizeof *sizes);
    gt_status status = gt__shape_resolve("tensor_reshape", t->ndim, t->shape, ndim, sizes);
    if (status == GT_OK)
        gt__tensor_init_shape(t, ndim, sizes);
    return status;
}

gt_tensor *gt_tensor_transposed(const gt_tensor *t) {
    char buf[160];
    if (!t || t->ndim != 2) {
        gt_set_error(!t ? GT_ERR_ARG : GT_ERR_SHAPE, "tensor_transposed: expects a 2-D tensor, "
                     "got %s", !t ? "NULL" : gt_shape_str(t->ndim, t->shape, buf, sizeof buf));
        return NULL;
    }
    int64_t m = t->shape[0], n = t->shape[1];
    gt_tensor *out = gt_empty(2, (int64_t[]){n, m});
    if (!out)
        return NULL;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            out->data[j * m + i] = t->data[i * n + j];
    return out;
}

gt_tensor *gt_tensor_clone(const gt_tensor *t) {
    if (!t) {
        gt_set_error(GT_ERR_ARG, "clone: tensor is NULL");
        return NULL;
    }
    return gt_from_array(t->ndim, t->shape, t->data);
}

gt_tensor *gt_tensor_wrap(int ndim, const int64_t *shape, gt_real *data, gt_real *grad) {
    if (gt_shape_check("wrap", ndim, shape) != GT_OK)
        return NULL;
    if (!data) {
        gt_set_error(GT_ERR_ARG, "wrap: data is NULL");
        return NULL;
    }
    gt_tensor *t = gt__calloc_aligned(1, sizeof *t, "wrap");
    if (!t)
        return NULL;
    gt__tensor_init_shape(t, ndim, shape);
    t->data = data;
    t->grad = grad;
    if (grad)
        t->flags |= GT__REQUIRES_GRAD;
    return t;
}

void gt_tensor_free(gt_tensor *t) {
    if (!t || (t->flags & GT__ON_TAPE))
        return;
    if (t->flags & GT__OWNS_GRAD)
        gt__free_aligned(t->grad);
    gt__free_aligned(t); /* owned data shares the struct's allocation */
}

int gt_tensor_ndim(const gt_tensor *t) { return t ? t->ndim : 0; }

int64_t gt_tensor_dim(const gt_tensor *t, int dim) {
    if (!t)
        return 0;
    if (dim < 0)
        dim += t->ndim;
    return dim >= 0 && dim < t->ndim ? t->shape[dim] : 1;
}

const int64_t *gt_tensor_shape(const gt_tensor *t) { return t ? t->shape : NULL; }

int64_t gt_tensor_numel(const gt_tensor *t) { return t ? t->numel : 0; }

gt_real *gt_tensor_data(gt_tensor *t) { return t ? t->data : NULL; }

const gt_real *gt_tensor_cdata(const gt_tensor *t) { return t ? t->data : NULL; }

void gt__grad_mark_stale(gt_tensor *t) {
    if (t && t->grad && !(t->flags & GT__ON_TAPE))
        t->flags |= GT__GRAD_STALE;
}

bool gt__grad_take_stale(gt_tensor *t) {
    if (!(t->flags & GT__GRAD_STALE))
        return false;
    t->flags &= ~(unsigned)GT__GRAD_STALE;
    return true;
}

gt_real *gt__grad_fresh(gt_tensor *t) {
    if (t && gt__grad_take_stale(t))
        memset(t->grad, 0, gt__real_bytes(t->numel));
    return t ? t->grad : NULL;
}

gt_real *gt_tensor_grad(gt_tensor *t) { return gt__grad_fresh(t); }

bool gt_tensor_requires_grad(const gt_tensor *t) {
    return t && (t->flags & GT__REQUIRES_GRAD);
}

gt_status gt_tensor_set_requires_grad(gt_tensor *t, bool requires_grad) {
    if (!t)
        return gt_set_error(GT_ERR_ARG, "set_requires_grad: tensor is NULL");
    if (t->flags & GT__ON_TAPE)
        return gt_set_error(GT_ERR_STATE,
                            "set_requires_grad: a tensor made by an op gets its gradient "
                            "from the tape; mark its leaf inputs instead");
    if (!requires_grad) {
        /* Invariant every backward kernel relies on: a grad buffer means a gradient flows. */
        if (t->flags & GT__OWNS_GRAD)
            gt__free_aligned(t->grad);
        t->grad = NULL;
        t->flags &= ~(unsigned)(GT__REQUIRES_GRAD | GT__OWNS_GRAD);
        return GT_OK;
    }
    if (!t->grad) {
        t->grad = gt__calloc_aligned((size_t)(t->numel ? t->numel : 1), sizeof(gt_real), "grad");
        if (!t->grad)
            return GT_ERR_NOMEM;
        t->flags |= GT__OWNS_GRAD;
    }
    t->flags |= GT__REQUIRES_GRAD;
    return GT_OK;
}

void gt_tensor_zero_grad(gt_tensor *t) {
    if (!t || !t->grad)
        return;
    if (t->flags & GT__ON_TAPE)
        memset(t->grad, 0, gt__real_bytes(t->numel));
    else
        gt__grad_mark_stale(t); /* no pass over memory: see gt__grad_mark_stale */
}

gt_real gt_tensor_item(const gt_tensor *t, int64_t i) {
    return t && i >= 0 && i < t->numel ? t->data[i] : (gt_real)NAN;
}
