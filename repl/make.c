/* make.c - builtins that make, inspect, draw and exchange tensors, and the REPL's own table. */
#include "builtins.h"
#include "eval.h"

#include <math.h>
#include <string.h>

bool arg_number(repl *r, const call_args *a, int i, double *x) {
    if (!value_as_number(a->vals[i], x))
        return repl_fail(r, a->cols[i], "%s: expected a number, got %s", a->call->text,
                         value_kind_phrase(a->vals[i]));
    return true;
}

bool arg_tensor(repl *r, const call_args *a, int i, gt_tensor **t) {
    if (a->vals[i].kind != V_TENSOR)
        return repl_fail(r, a->cols[i], "%s: expected a tensor, got %s", a->call->text,
                         value_kind_phrase(a->vals[i]));
    return value_to_tensor(r, a->vals[i], a->cols[i], t);
}

/* Checks the count of positional arguments and that no keyword is used. */
bool arity(repl *r, const call_args *a, int lo, int hi) {
    for (int i = 0; i < a->n; i++)
        if (a->kw[i])
            return repl_fail(r, a->cols[i], "%s: takes no keyword arguments", a->call->text);
    if (a->n < lo || a->n > hi) {
        if (lo == hi)
            return repl_fail(r, a->call->col, "%s: takes %d argument%s, got %d", a->call->text,
                             lo, lo == 1 ? "" : "s", a->n);
        return repl_fail(r, a->call->col, "%s: takes %d to %d arguments, got %d",
                         a->call->text, lo, hi, a->n);
    }
    return true;
}

bool arg_dims(repl *r, const call_args *a, int from, int *ndim, int64_t *shape) {
    if (!arity(r, a, from, from + GT_MAX_DIMS))
        return false;
    *ndim = a->n - from;
    for (int i = from; i < a->n; i++) {
        double d = 0;
        if (!arg_number(r, a, i, &d))
            return false;
        if (d != floor(d) || d < 0)
            return repl_fail(r, a->cols[i], "%s: a size must be a whole number >= 0, not %g",
                             a->call->text, d);
        if (d > REPL_MAX_SIZE) /* beyond it a double does not even convert to int64 */
            return repl_fail(r, a->cols[i], "%s: size %g is too large (at most %g)",
                             a->call->text, d, REPL_MAX_SIZE);
        shape[i - from] = (int64_t)d;
    }
    return true;
}

static bool heap_result(repl *r, const call_args *a, gt_tensor *t, value *out) {
    if (!t)
        return repl_fail_lib(r, a->call->col);
    return value_tensor(r, t, NULL, out);
}

static bool b_zeros(repl *r, const call_args *a, value *out) {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    return arg_dims(r, a, 0, &ndim, shape) && heap_result(r, a, gt_zeros(ndim, shape), out);
}

static bool b_ones(repl *r, const call_args *a, value *out) {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    return arg_dims(r, a, 0, &ndim, shape) && heap_result(r, a, gt_ones(ndim, shape), out);
}

static bool b_full(repl *r, const call_args *a, value *out) {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    double fill = 0;
    return arity(r, a, 1, 1 + GT_MAX_DIMS) && arg_number(r, a, 0, &fill) &&
           arg_dims(r, a, 1, &ndim, shape) &&
           heap_result(r, a, gt_full(ndim, shape, (gt_real)fill), out);
}

static bool b_randn(repl *r, const call_args *a, value *out) {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    return arg_dims(r, a, 0, &ndim, shape) &&
           heap_result(r, a, gt_randn(ndim, shape, 0, 1, &r->rng), out);
}

static bool b_rand(repl *r, const call_args *a, value *out) {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    return arg_dims(r, a, 0, &ndim, shape) &&
           heap_result(r, a, gt_rand(ndim, shape, 0, 1, &r->rng), out);
}

static bool b_seed(repl *r, const call_args *a, value *out) {
    double s = 0;
    (void)out;
    if (!arity(r, a, 1, 1) || !arg_number(r, a, 0, &s))
        return false;
    if (s != floor(s) || s < 0 || s > 9e15)
        return repl_fail(r, a->cols[0], "seed: expected a whole number >= 0, not %g", s);
    gt_rng_seed(&r->rng, (uint64_t)s);
    gt_manual_seed((uint64_t)s); /* dropout's generator too */
    return true;
}

static bool b_shape(repl *r, const call_args *a, value *out) {
    gt_tensor *t = NULL;
    char buf[200] = "[]";
    if (!arity(r, a, 1, 1))
        return false;
    if (a->vals[0].kind == V_NUM)
        return value_string(r, buf, strlen(buf), out);
    if (!arg_tensor(r, a, 0, &t))
        return false;
    gt_shape_str(gt_tensor_ndim(t), gt_tensor_shape(t), buf, sizeof buf);
    return value_string(r, buf, strlen(buf), out);
}

static bool b_load(repl *r, const call_args *a, value *out) {
    if (!arity(r, a, 1, 1))
        return false;
    if (a->vals[0].kind != V_STR)
        return repl_fail(r, a->cols[0], "load: expected a file name in double quotes");
    gt_tensor *t = gt_npy_load(a->vals[0].box->str);
    if (!t)
        return repl_fail_lib(r, a->cols[0]);
    return value_tensor(r, t, NULL, out);
}

static bool b_save(repl *r, const call_args *a, value *out) {
    gt_tensor *t = NULL;
    (void)out;
    if (!arity(r, a, 2, 2) || !arg_tensor(r, a, 0, &t))
        return false;
    if (a->vals[1].kind != V_STR)
        return repl_fail(r, a->cols[1], "save: expected a file name in double quotes");
    if (gt_npy_save(a->vals[1].box->str, t) != GT_OK)
        return repl_fail_lib(r, a->cols[1]);
    return true;
}

/* Draws a 2-D tensor (leading sizes of 1 dropped) with ten shades from its min to its max. */
static bool b_show(repl *r, const call_args *a, value *out) {
    static const char shades[] = " .:-=+*#%@";
    gt_tensor *t = NULL;
    (void)out;
    if (!arity(r, a, 1, 1) || !arg_tensor(r, a, 0, &t))
        return false;
    int ndim = gt_tensor_ndim(t), lead = 0;
    while (ndim - lead > 2 && gt_tensor_dim(t, lead) == 1)
        lead++;
    if (ndim - lead > 2 || ndim == 0)
        return repl_fail(r, a->cols[0], "show: draws a 1-D or 2-D tensor (leading sizes of 1 "
                         "are dropped), not %d-D", ndim);
    int64_t rows = ndim - lead == 2 ? gt_tensor_dim(t, -2) : 1, cols = gt_tensor_dim(t, -1);
    if (cols > 200 || rows > 500)
        return repl_fail(r, a->cols[0], "show: at most 500 rows of 200 columns");
    const gt_real *x = gt_tensor_cdata(t);
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < rows * cols; i++)
        if (isfinite(x[i])) {
            lo = fmin(lo, x[i]);
            hi = fmax(hi, x[i]);
        }
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++) {
            double v = x[i * cols + j];
            int shade = !isfinite(v) ? -1 : hi > lo ? (int)((v - lo) / (hi - lo) * 9.999) : 5;
            char c = shade < 0 ? '?' : shades[shade];
            putchar(c);
            putchar(c);
        }
        putchar('\n');
    }
    printf("min %.*g, max %.*g\n", r->digits, lo, r->digits, hi);
    return true;
}

static const struct builtin_info own[] = {
    {"zeros", b_zeros, "zeros(d0, d1, ...)", "a tensor of zeros; no sizes gives shape []", 0},
    {"ones", b_ones, "ones(d0, d1, ...)", "a tensor of ones", 0},
    {"full", b_full, "full(value, d0, d1, ...)", "a tensor filled with value", 0},
    {"randn", b_randn, "randn(d0, d1, ...)",
     "standard normal samples from the session's generator (see seed)", B_IMPURE},
    {"rand", b_rand, "rand(d0, d1, ...)", "uniform samples in [0, 1) (see seed)", B_IMPURE},
    {"seed", b_seed, "seed(n)",
     "restarts the random generators (randn, rand, dropout) at seed n (0 at start)", B_IMPURE},
    {"param", b_param, "param(x)",
     "a copy of x that requires a gradient: a parameter that sgd() will train", B_IMPURE},
    {"load", b_load, "load(\"file.npy\")",
     "a tensor from a NumPy .npy file; integer files load as class indices", 0},
    {"save", b_save, "save(x, \"file.npy\")", "writes x as a .npy file NumPy and PyTorch read",
     B_IMPURE},
    {"backward", b_backward, "backward(y, grad?)",
     "adds dy/dp into grad(p) of every parameter p; y has one element or grad has its shape; "
     "frees the graph as PyTorch does", B_IMPURE},
    {"grad", b_grad, "grad(p) or grad(y, x1, ..., create_graph=False)",
     "grad(p): the gradient collected by parameter p, as a tensor; grad(y, x, ...): "
     "torch.autograd.grad, dy/dx as new tensors (a list for several x), .grad untouched; "
     "with create_graph=True the gradient can itself be differentiated", 0},
    {"zero_grad", b_zero_grad, "zero_grad(p...), zero_grad(opt) or zero_grad(m)",
     "sets the gradient of the given parameters, or of every parameter, to zero; of an "
     "optimizer's or a model's parameters", B_IMPURE},
    {"gradcheck", gradcheck_builtin, "gradcheck(expr, p1, p2, ...) or gradcheck(f, p1, ...)",
     "re-evaluates the scalar expr (or calls the function f(p1, p2, ...)) with each element of "
     "p1, p2, ... nudged and compares the central differences with backward: prints the "
     "worst errors and PASS or FAIL",
     B_IMPURE | B_LAZY_FIRST},
    {"gradgradcheck", gradgradcheck_builtin, "gradgradcheck(expr, p1, p2, ...)",
     "checks second derivatives of the scalar expr as gradcheck checks first ones: the "
     "gradient of <d expr / d p, u> for random directions u against central differences; "
     "prints the worst errors and PASS or FAIL",
     B_IMPURE | B_LAZY_FIRST},
    {"shape", b_shape, "shape(x)", "the sizes of x, as text", 0},
    {"show", b_show, "show(x)",
     "draws a 2-D tensor (e.g. a 28x28 image) with ten shades from its min to its max",
     B_IMPURE},
};

const struct builtin_info *repl_builtin_table(int *count) {
    *count = (int)(sizeof own / sizeof own[0]);
    return own;
}
