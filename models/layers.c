/* layers.c - the layers of torch.nn that the op table has ops for, the containers, and the
 * registry a spec names them from. Each layer calls its op in one place (its forward). */
#include "gt_module_impl.h"

#include <math.h>
#include <string.h>

#define LAYER_MAX_SIZE ((int64_t)1 << 24) /* features or channels of one layer */
#define LAYER_MAX_KERNEL 4096

static gt_status want_rank(const gt_sample_shape *in, int ndim, const char *what) {
    if (in->ndim == ndim)
        return GT_OK;
    return gt_set_error(GT_ERR_SHAPE, "expects samples of %s (rank %d), got rank %d", what, ndim,
                        in->ndim);
}

/* ---- Linear: x[N, in] -> x w^T + b [N, out] --------------------------------------------- */

typedef struct linear_state {
    int64_t out_features;
    bool bias;
    int64_t in_features;
} linear_state;

static gt_status linear_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    linear_state *s = gt_module_state(m);
    if (in->ndim != 1)
        return gt_set_error(GT_ERR_SHAPE, "expects samples of [in_features] (put Flatten "
                            "before it), got rank %d", in->ndim);
    s->in_features = in->dims[0];
    if (gt_module_add_param(m, "weight", 2, (int64_t[]){s->out_features, s->in_features},
                            GT_INIT_KAIMING_UNIFORM, 0) < 0 ||
        (s->bias && gt_module_add_param(m, "bias", 1, &s->out_features, GT_INIT_FAN_IN_UNIFORM,
                                        s->in_features) < 0))
        return gt_last_status();
    gt_module_set_flops(m, s->in_features * s->out_features);
    *out = (gt_sample_shape){1, {s->out_features}};
    return GT_OK;
}

static gt_tensor *linear_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    return gt_linear(tape, x, gt_module_param(m, 0), gt_module_param(m, 1));
}

static void linear_describe(const gt_module *m, char *buf, size_t size) {
    const linear_state *s = gt_module_cstate(m);
    snprintf(buf, size, "in_features=%lld, out_features=%lld, bias=%s",
             (long long)s->in_features, (long long)s->out_features, s->bias ? "True" : "False");
}

static const gt_module_class linear_class = {"Linear", linear_build, linear_forward,
                                             linear_describe};

gt_module *gt_nn_linear(int64_t out_features, bool bias) {
    if (out_features < 1 || out_features > LAYER_MAX_SIZE) {
        gt_set_error(GT_ERR_ARG, "Linear: out_features must be in 1..%lld, got %lld",
                     (long long)LAYER_MAX_SIZE, (long long)out_features);
        return NULL;
    }
    linear_state s = {out_features, bias, 0};
    return gt_module_new(&linear_class, &s, sizeof s);
}

/* ---- Conv2d: x[N,C,H,W] -> [N,O,(H+2p-k)/s+1,(W+2p-k)/s+1] ------------------------------- */

typedef struct conv2d_state {
    int64_t out_channels, in_channels;
    int kernel, stride, padding;
    bool bias;
} conv2d_state;

/* (size + 2 padding - kernel) / stride + 1, or 0 when the window does not fit. */
static int64_t window_count(int64_t size, int kernel, int stride, int padding) {
    int64_t span = size + 2 * (int64_t)padding - kernel;
    return span < 0 ? 0 : span / stride + 1;
}

static gt_status conv2d_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    conv2d_state *s = gt_module_state(m);
    if (want_rank(in, 3, "[C, H, W]") != GT_OK)
        return gt_last_status();
    int64_t oh = window_count(in->dims[1], s->kernel, s->stride, s->padding);
    int64_t ow = window_count(in->dims[2], s->kernel, s->stride, s->padding);
    if (oh < 1 || ow < 1)
        return gt_set_error(GT_ERR_SHAPE, "a %dx%d kernel with padding %d does not fit in "
                            "%lldx%lld", s->kernel, s->kernel, s->padding,
                            (long long)in->dims[1], (long long)in->dims[2]);
    s->in_channels = in->dims[0];
    int64_t fan_in = s->in_channels * s->kernel * s->kernel;
    if (gt_module_add_param(m, "weight", 4,
                            (int64_t[]){s->out_channels, s->in_channels, s->kernel, s->kernel},
                            GT_INIT_KAIMING_UNIFORM, 0) < 0 ||
        (s->bias &&
         gt_module_add_param(m, "bias", 1, &s->out_channels, GT_INIT_FAN_IN_UNIFORM, fan_in) < 0))
        return gt_last_status();
    gt_module_set_flops(m, s->out_channels * fan_in * oh * ow);
    *out = (gt_sample_shape){3, {s->out_channels, oh, ow}};
    return GT_OK;
}

static gt_tensor *conv2d_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const conv2d_state *s = gt_module_cstate(m);
    return gt_conv2d(tape, x, gt_module_param(m, 0), gt_module_param(m, 1), s->stride,
                     s->padding);
}

static void conv2d_describe(const gt_module *m, char *buf, size_t size) {
    const conv2d_state *s = gt_module_cstate(m);
    int n = snprintf(buf, size, "%lld, %lld, kernel_size=(%d, %d), stride=(%d, %d)",
                     (long long)s->in_channels, (long long)s->out_channels, s->kernel,
                     s->kernel, s->stride, s->stride);
    if (s->padding && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, ", padding=(%d, %d)", s->padding, s->padding);
    if (!s->bias && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, ", bias=False");
}

static const gt_module_class conv2d_class = {"Conv2d", conv2d_build, conv2d_forward,
                                             conv2d_describe};

gt_module *gt_nn_conv2d(int64_t out_channels, int kernel_size, int stride, int padding,
                        bool bias) {
    if (out_channels < 1 || out_channels > LAYER_MAX_SIZE || kernel_size < 1 ||
        kernel_size > LAYER_MAX_KERNEL || stride < 1 || stride > LAYER_MAX_KERNEL ||
        padding < 0 || padding > LAYER_MAX_KERNEL) {
        gt_set_error(GT_ERR_ARG, "Conv2d: needs out_channels in 1..%lld, kernel_size and "
                     "stride in 1..%d, padding in 0..%d; got %lld, %d, %d, %d",
                     (long long)LAYER_MAX_SIZE, LAYER_MAX_KERNEL, LAYER_MAX_KERNEL,
                     (long long)out_channels, kernel_size, stride, padding);
        return NULL;
    }
    conv2d_state s = {out_channels, 0, kernel_size, stride, padding, bias};
    return gt_module_new(&conv2d_class, &s, sizeof s);
}

/* ---- MaxPool2d, AvgPool2d: x[N,C,H,W] -> [N,C,(H-k)/s+1,(W-k)/s+1] ------------------------ */

typedef struct pool_state {
    int kernel, stride;
} pool_state;

static gt_status pool_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    const pool_state *s = gt_module_cstate(m);
    if (want_rank(in, 3, "[C, H, W]") != GT_OK)
        return gt_last_status();
    int64_t oh = window_count(in->dims[1], s->kernel, s->stride, 0);
    int64_t ow = window_count(in->dims[2], s->kernel, s->stride, 0);
    if (oh < 1 || ow < 1)
        return gt_set_error(GT_ERR_SHAPE, "a %dx%d window does not fit in %lldx%lld",
                            s->kernel, s->kernel, (long long)in->dims[1],
                            (long long)in->dims[2]);
    *out = (gt_sample_shape){3, {in->dims[0], oh, ow}};
    return GT_OK;
}

static gt_tensor *maxpool2d_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const pool_state *s = gt_module_cstate(m);
    return gt_maxpool2d(tape, x, s->kernel, s->stride);
}

static gt_tensor *avgpool2d_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const pool_state *s = gt_module_cstate(m);
    return gt_avgpool2d(tape, x, s->kernel, s->stride);
}

static void pool_describe(const gt_module *m, char *buf, size_t size) {
    const pool_state *s = gt_module_cstate(m);
    snprintf(buf, size, "kernel_size=%d, stride=%d", s->kernel, s->stride);
}

static const gt_module_class maxpool2d_class = {"MaxPool2d", pool_build, maxpool2d_forward,
                                                pool_describe};
static const gt_module_class avgpool2d_class = {"AvgPool2d", pool_build, avgpool2d_forward,
                                                pool_describe};

static gt_module *pool_new(const gt_module_class *cls, int kernel, int stride) {
    if (kernel < 1 || kernel > LAYER_MAX_KERNEL || stride < 0 || stride > LAYER_MAX_KERNEL) {
        gt_set_error(GT_ERR_ARG, "%s: needs kernel_size in 1..%d and stride in 0..%d (0: the "
                     "kernel size); got %d, %d", cls->type, LAYER_MAX_KERNEL, LAYER_MAX_KERNEL,
                     kernel, stride);
        return NULL;
    }
    pool_state s = {kernel, stride ? stride : kernel};
    return gt_module_new(cls, &s, sizeof s);
}

gt_module *gt_nn_maxpool2d(int kernel_size, int stride) {
    return pool_new(&maxpool2d_class, kernel_size, stride);
}

gt_module *gt_nn_avgpool2d(int kernel_size, int stride) {
    return pool_new(&avgpool2d_class, kernel_size, stride);
}

/* ---- Flatten: x[N, d1, d2, ...] -> [N, d1 * d2 * ...] ------------------------------------ */

static gt_status flatten_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    (void)m;
    *out = (gt_sample_shape){1, {gt_shape_numel(in->ndim, in->dims)}};
    return GT_OK;
}

static gt_tensor *flatten_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    (void)m;
    return gt_tensor_ndim(x) == 2 ? x : gt_flatten(tape, x, 1); /* [N, d] is flat already */
}

static const gt_module_class flatten_class = {"Flatten", flatten_build, flatten_forward, NULL};

gt_module *gt_nn_flatten(void) { return gt_module_new(&flatten_class, NULL, 0); }

/* ---- activations: one op of the table, same shape out ------------------------------------- */

/* The op and its attributes in torch.nn's order (LeakyReLU's negative_slope, Softplus's beta
 * and threshold, ...; GELU's approximate as 0 "none" or 1 "tanh"). */
typedef struct activation_state {
    const gt_op_def *op;
    double a, b;
} activation_state;

static gt_status activation_build(gt_module *m, const gt_sample_shape *in,
                                  gt_sample_shape *out) {
    (void)m;
    *out = *in;
    return GT_OK;
}

/* Softmax and log_softmax work over the last axis (dim -1). */
static gt_tensor *activation_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const activation_state *s = gt_module_cstate(m);
    if (s->op == &gt_op_leaky_relu)
        return gt_leaky_relu(tape, x, s->a);
    if (s->op == &gt_op_elu)
        return gt_elu(tape, x, s->a);
    if (s->op == &gt_op_gelu)
        return gt_gelu(tape, x, s->a != 0 ? GT_GELU_TANH : GT_GELU_NONE);
    if (s->op == &gt_op_softplus)
        return gt_softplus(tape, x, s->a, s->b);
    if (s->op == &gt_op_hardtanh)
        return gt_hardtanh(tape, x, s->a, s->b);
    return gt_op_call(tape, s->op, &x, 1, NULL); /* no attributes, or dim -1 */
}

static void activation_describe(const gt_module *m, char *buf, size_t size) {
    const activation_state *s = gt_module_cstate(m);
    if (s->op == &gt_op_leaky_relu)
        snprintf(buf, size, "negative_slope=%g", s->a);
    else if (s->op == &gt_op_elu)
        snprintf(buf, size, "alpha=%g", s->a);
    else if (s->op == &gt_op_gelu)
        snprintf(buf, size, "approximate='%s'", s->a != 0 ? "tanh" : "none");
    else if (s->op == &gt_op_softplus)
        snprintf(buf, size, "beta=%g, threshold=%g", s->a, s->b);
    else if (s->op == &gt_op_hardtanh)
        snprintf(buf, size, "min_val=%g, max_val=%g", s->a, s->b);
    else if (s->op == &gt_op_softmax || s->op == &gt_op_log_softmax)
        snprintf(buf, size, "dim=-1");
    else if (size)
        buf[0] = '\0';
}

#define ACTIVATION_CLASS(var, type) \
    static const gt_module_class var = {type, activation_build, activation_forward, \
                                        activation_describe}
ACTIVATION_CLASS(relu_class, "ReLU");
ACTIVATION_CLASS(sigmoid_class, "Sigmoid");
ACTIVATION_CLASS(tanh_class, "Tanh");
ACTIVATION_CLASS(softmax_class, "Softmax");
ACTIVATION_CLASS(log_softmax_class, "LogSoftmax");
ACTIVATION_CLASS(leaky_relu_class, "LeakyReLU");
ACTIVATION_CLASS(elu_class, "ELU");
ACTIVATION_CLASS(selu_class, "SELU");
ACTIVATION_CLASS(gelu_class, "GELU");
ACTIVATION_CLASS(silu_class, "SiLU");
ACTIVATION_CLASS(softplus_class, "Softplus");
ACTIVATION_CLASS(hardtanh_class, "Hardtanh");
ACTIVATION_CLASS(hardsigmoid_class, "Hardsigmoid");

/* Each activation op, its class and its attributes' defaults (torch.nn's). */
static const struct {
    const gt_op_def *op;
    const gt_module_class *cls;
    int n_args;
    double a, b;
} activations[] = {
    {&gt_op_relu, &relu_class, 0, 0, 0},
    {&gt_op_sigmoid, &sigmoid_class, 0, 0, 0},
    {&gt_op_tanh, &tanh_class, 0, 0, 0},
    {&gt_op_softmax, &softmax_class, 0, 0, 0},
    {&gt_op_log_softmax, &log_softmax_class, 0, 0, 0},
    {&gt_op_leaky_relu, &leaky_relu_class, 1, 0.01, 0},
    {&gt_op_elu, &elu_class, 1, 1.0, 0},
    {&gt_op_selu, &selu_class, 0, 0, 0},
    {&gt_op_gelu, &gelu_class, 1, 0, 0},
    {&gt_op_silu, &silu_class, 0, 0, 0},
    {&gt_op_softplus, &softplus_class, 2, 1.0, 20.0},
    {&gt_op_hardtanh, &hardtanh_class, 2, -1.0, 1.0},
    {&gt_op_hardsigmoid, &hardsigmoid_class, 0, 0, 0},
};

gt_module *gt_nn_activation_args(const gt_op_def *op, int n_args, const double *args) {
    int i = 0, count = (int)(sizeof activations / sizeof activations[0]);
    while (i < count && activations[i].op != op)
        i++;
    if (i == count) {
        gt_set_error(GT_ERR_ARG, "activation: %s is not an activation (relu, sigmoid, tanh, "
                     "softmax, log_softmax, leaky_relu, elu, selu, gelu, silu, softplus, "
                     "hardtanh, hardsigmoid)", op ? op->name : "NULL");
        return NULL;
    }
    if (n_args < 0 || n_args > activations[i].n_args || (n_args && !args)) {
        gt_set_error(GT_ERR_ARG, "%s: takes at most %d argument%s, got %d",
                     activations[i].cls->type, activations[i].n_args,
                     activations[i].n_args == 1 ? "" : "s", n_args);
        return NULL;
    }
    activation_state s = {op, n_args > 0 ? args[0] : activations[i].a,
                          n_args > 1 ? args[1] : activations[i].b};
    const char *bad = !isfinite(s.a) || !isfinite(s.b) ? "its arguments must be finite"
                      : op == &gt_op_gelu && s.a != 0 && s.a != 1
                          ? "approximate must be 'none' or 'tanh'"
                      : op == &gt_op_softplus && s.a == 0 ? "beta must not be 0"
                      : op == &gt_op_hardtanh && s.b < s.a ? "max_val must be >= min_val"
                                                           : NULL;
    if (bad) {
        gt_set_error(GT_ERR_ARG, "%s: %s, got %g, %g", activations[i].cls->type, bad, s.a, s.b);
        return NULL;
    }
    return gt_module_new(activations[i].cls, &s, sizeof s);
}

gt_module *gt_nn_activation(const gt_op_def *op) { return gt_nn_activation_args(op, 0, NULL); }

/* ---- Sequential and Residual ------------------------------------------------------------------ */

static gt_status sequential_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    gt_sample_shape shape = *in;
    for (int i = 0; i < gt_module_child_count(m); i++)
        if (gt_module_build(gt_module_child(m, i), &shape, &shape) != GT_OK)
            return gt_last_status();
    *out = shape;
    return GT_OK;
}

static gt_tensor *sequential_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    for (int i = 0; i < m->n_children && x; i++)
        x = m->children[i]->cls->forward(m->children[i], tape, x);
    return x;
}

static const gt_module_class sequential_class = {"Sequential", sequential_build,
                                                 sequential_forward, NULL};

gt_module *gt_nn_sequential(void) { return gt_module_new(&sequential_class, NULL, 0); }

static gt_status residual_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    if (sequential_build(m, in, out) != GT_OK)
        return gt_last_status();
    if (!gt_shape_equal(in->ndim, in->dims, out->ndim, out->dims)) {
        char a[96], b[96];
        return gt_set_error(GT_ERR_SHAPE, "its layers map %s to %s, but x + f(x) needs the "
                            "shape kept", gt__sample_shape_str(in, a, sizeof a),
                            gt__sample_shape_str(out, b, sizeof b));
    }
    return GT_OK;
}

static gt_tensor *residual_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    return gt_add(tape, x, sequential_forward(m, tape, x));
}

static const gt_module_class residual_class = {"Residual", residual_build, residual_forward,
                                               NULL};

/* f's layers become the residual's children, so that their names are "<residual>.<i>" as
 * in a Sequential; a module f that is itself no Sequential is the one child "0". */
gt_module *gt_nn_residual(gt_module *f) {
    gt_module *r = gt_module_new(&residual_class, NULL, 0);
    if (!r || !f) {
        gt_module_free(f);
        if (r && !f)
            gt_set_error(GT_ERR_ARG, "Residual: f is NULL");
        gt_module_free(r);
        return NULL;
    }
    return gt_module_add_child(r, NULL, f) == GT_OK ? r : (gt_module_free(r), NULL);
}

/* ---- the registry ----------------------------------------------------------------------------- */

/* args[i] as an integer in [low, high], or an error naming the layer and the argument. */
static bool int_arg(const gt_layer_info *info, const double *args, int i, int64_t low,
                    int64_t high, int64_t *out) {
    double v = args[i];
    if (v == floor(v) && v >= (double)low && v <= (double)high) {
        *out = (int64_t)v;
        return true;
    }
    /* the i-th name of info->args */
    const char *name = info->args;
    for (int k = 0; k < i && name; k++)
        name = strchr(name, ' ') ? strchr(name, ' ') + 1 : NULL;
    int len = name ? (int)strcspn(name, " =?") : 1;
    gt_set_error(GT_ERR_ARG, "%s: %.*s must be an integer in %lld..%lld, got %g", info->type,
                 len, name ? name : "?", (long long)low, (long long)high, v);
    return false;
}

static gt_module *make_linear(const double *args, const gt_layer_info *info) {
    int64_t out, bias;
    if (!int_arg(info, args, 0, 1, LAYER_MAX_SIZE, &out) || !int_arg(info, args, 1, 0, 1, &bias))
        return NULL;
    return gt_nn_linear(out, bias != 0);
}

static gt_module *make_conv2d(const double *args, const gt_layer_info *info) {
    int64_t out, kernel, stride, padding, bias;
    if (!int_arg(info, args, 0, 1, LAYER_MAX_SIZE, &out) ||
        !int_arg(info, args, 1, 1, LAYER_MAX_KERNEL, &kernel) ||
        !int_arg(info, args, 2, 1, LAYER_MAX_KERNEL, &stride) ||
        !int_arg(info, args, 3, 0, LAYER_MAX_KERNEL, &padding) ||
        !int_arg(info, args, 4, 0, 1, &bias))
        return NULL;
    return gt_nn_conv2d(out, (int)kernel, (int)stride, (int)padding, bias != 0);
}

/* stride=None in torch.nn: NAN here, meaning the kernel size. */
static gt_module *make_pool(const double *args, const gt_layer_info *info) {
    int64_t kernel, stride = 0;
    if (!int_arg(info, args, 0, 1, LAYER_MAX_KERNEL, &kernel) ||
        (!isnan(args[1]) && !int_arg(info, args, 1, 1, LAYER_MAX_KERNEL, &stride)))
        return NULL;
    return info->op == &gt_op_max_pool2d ? gt_nn_maxpool2d((int)kernel, (int)stride)
                                       : gt_nn_avgpool2d((int)kernel, (int)stride);
}

static gt_module *make_flatten(const double *args, const gt_layer_info *info) {
    int64_t start, end;
    if (!int_arg(info, args, 0, 1, 1, &start) || !int_arg(info, args, 1, -1, -1, &end))
        return NULL;
    return gt_nn_flatten();
}

/* An activation's attributes as its row lists them (none for ReLU). */
static gt_module *make_activation(const double *args, const gt_layer_info *info) {
    int n = 0;
    while (n < GT_LAYER_MAX_ARGS && !isnan(args[n]))
        n++;
    return gt_nn_activation_args(info->op, n, args);
}

/* Softmax and LogSoftmax work over the last axis: dim=-1 (torch's dim=None is deprecated). */
static gt_module *make_softmax(const double *args, const gt_layer_info *info) {
    int64_t dim;
    if (!int_arg(info, args, 0, -1, -1, &dim))
        return NULL;
    return gt_nn_activation(info->op);
}

/* num_features=None (NAN): inferred from the input, as torch.nn.LazyBatchNorm2d. */
static gt_module *make_batchnorm(const double *args, const gt_layer_info *info) {
    int64_t features = 0, affine, track;
    if ((!isnan(args[0]) && !int_arg(info, args, 0, 1, LAYER_MAX_SIZE, &features)) ||
        !int_arg(info, args, 3, 0, 1, &affine) || !int_arg(info, args, 4, 0, 1, &track))
        return NULL;
    return gt_nn_batchnorm(info->type[9] == '2' ? 2 : 1, features, args[1], args[2], affine != 0,
                           track != 0);
}

static gt_module *make_layernorm(const double *args, const gt_layer_info *info) {
    int64_t size, affine;
    if (!int_arg(info, args, 0, 1, LAYER_MAX_SIZE, &size) || !int_arg(info, args, 2, 0, 1, &affine))
        return NULL;
    return gt_nn_layernorm(1, &size, args[1], affine != 0);
}

static gt_module *make_groupnorm(const double *args, const gt_layer_info *info) {
    int64_t groups, channels = 0, affine;
    if (!int_arg(info, args, 0, 1, LAYER_MAX_SIZE, &groups) ||
        (!isnan(args[1]) && !int_arg(info, args, 1, 1, LAYER_MAX_SIZE, &channels)) ||
        !int_arg(info, args, 3, 0, 1, &affine))
        return NULL;
    return gt_nn_groupnorm(groups, channels, args[2], affine != 0);
}

static gt_module *make_dropout(const double *args, const gt_layer_info *info) {
    (void)info;
    return gt_nn_dropout(args[0]);
}

static gt_module *make_embedding(const double *args, const gt_layer_info *info) {
    int64_t count, dim;
    if (!int_arg(info, args, 0, 1, LAYER_MAX_SIZE, &count) ||
        !int_arg(info, args, 1, 1, LAYER_MAX_SIZE, &dim))
        return NULL;
    return gt_nn_embedding(count, dim);
}

static gt_module *make_sequential(const double *args, const gt_layer_info *info) {
    (void)args;
    (void)info;
    return gt_nn_sequential();
}

static gt_module *make_residual(const double *args, const gt_layer_info *info) {
    (void)args;
    (void)info;
    return gt_module_new(&residual_class, NULL, 0);
}

/* One row per layer kind: a new layer whose op exists costs one row and its module class. */
static const gt_layer_info layer_table[] = {
    {"Linear", "out_features bias=True", "x w^T + b over the last axis", make_linear, NULL},
    {"Conv2d", "out_channels kernel_size stride=1 padding=0 bias=True",
     "2-D cross-correlation of NCHW images", make_conv2d, NULL},
    {"MaxPool2d", "kernel_size stride?", "the largest value of each window", make_pool,
     &gt_op_max_pool2d},
    {"AvgPool2d", "kernel_size stride?", "the mean of each window", make_pool,
     &gt_op_avg_pool2d},
    {"Flatten", "start_dim=1 end_dim=-1", "every dimension after the batch merged into one",
     make_flatten, NULL},
    {"ReLU", "", "max(x, 0)", make_activation, &gt_op_relu},
    {"Sigmoid", "", "1 / (1 + exp(-x))", make_activation, &gt_op_sigmoid},
    {"Tanh", "", "tanh(x)", make_activation, &gt_op_tanh},
    {"Softmax", "dim=-1", "softmax over the last axis", make_softmax, &gt_op_softmax},
    {"LogSoftmax", "dim=-1", "log of the softmax over the last axis", make_softmax,
     &gt_op_log_softmax},
    {"LeakyReLU", "negative_slope=0.01", "x where x > 0, else negative_slope * x",
     make_activation, &gt_op_leaky_relu},
    {"ELU", "alpha=1.0", "x where x > 0, else alpha * (exp(x) - 1)", make_activation,
     &gt_op_elu},
    {"SELU", "", "scale * elu(x, alpha) with the self-normalising constants", make_activation,
     &gt_op_selu},
    {"GELU", "approximate='none'|'tanh'", "x * Phi(x), or its tanh approximation",
     make_activation, &gt_op_gelu},
    {"SiLU", "", "x * sigmoid(x)", make_activation, &gt_op_silu},
    {"Softplus", "beta=1.0 threshold=20.0", "log(1 + exp(beta x)) / beta", make_activation,
     &gt_op_softplus},
    {"Hardtanh", "min_val=-1.0 max_val=1.0", "x clamped to [min_val, max_val]",
     make_activation, &gt_op_hardtanh},
    {"Hardsigmoid", "", "0 below -3, 1 above 3, x / 6 + 1/2 between", make_activation,
     &gt_op_hardsigmoid},
    {"BatchNorm1d", "num_features? eps=1e-05 momentum=0.1 affine=True track_running_stats=True",
     "x[N,C] or x[N,C,L] normalised per channel by the batch's statistics (train) or the "
     "running ones (eval)", make_batchnorm, &gt_op_batch_norm},
    {"BatchNorm2d", "num_features? eps=1e-05 momentum=0.1 affine=True track_running_stats=True",
     "x[N,C,H,W] normalised per channel by the batch's statistics (train) or the running ones "
     "(eval)", make_batchnorm, &gt_op_batch_norm},
    {"LayerNorm", "normalized_shape eps=1e-05 elementwise_affine=True",
     "each sample normalised over its last dim (of size normalized_shape)", make_layernorm,
     &gt_op_layer_norm},
    {"GroupNorm", "num_groups num_channels? eps=1e-05 affine=True",
     "x[N,C,*] normalised over each group of C/num_groups channels", make_groupnorm,
     &gt_op_group_norm},
    {"Dropout", "p=0.5", "each element zeroed with probability p, the rest scaled by 1/(1-p), "
     "in train mode only", make_dropout, &gt_op_dropout},
    {"Embedding", "num_embeddings embedding_dim", "the rows of weight[V,E] its indices list",
     make_embedding, &gt_op_embedding},
    {"Sequential", "", "its layers, one after another: Sequential(<spec>)", make_sequential,
     NULL},
    {"Residual", "", "x + f(x), f the layers inside: Residual(<spec>)", make_residual, NULL},
};

int gt_layer_count(void) { return (int)(sizeof layer_table / sizeof layer_table[0]); }

const gt_layer_info *gt_layer_get(int i) {
    return i >= 0 && i < gt_layer_count() ? &layer_table[i] : NULL;
}

const gt_layer_info *gt_layer_find(const char *type) {
    for (int i = 0; type && i < gt_layer_count(); i++)
        if (!strcmp(layer_table[i].type, type))
            return &layer_table[i];
    return NULL;
}
