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

/* ---- Linear: x[N, ..., in] -> x w^T + b [N, ..., out] over the last axis ---------------- */

typedef struct linear_state {
    int64_t out_features;
    bool bias;
    int64_t in_features;
} linear_state;

static gt_status linear_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    linear_state *s = gt_module_state(m);
    if (in->ndim < 1)
        return gt_set_error(GT_ERR_SHAPE, "expects samples of [..., in_features], got rank 0");
    s->in_features = in->dims[in->ndim - 1];
    if (gt_module_add_param(m, "weight", 2, (int64_t[]){s->out_features, s->in_features},
                            GT_INIT_KAIMING_UNIFORM, 0) < 0 ||
        (s->bias && gt_module_add_param(m, "bias", 1, &s->out_features, GT_INIT_FAN_IN_UNIFORM,
                                        s->in_features) < 0))
        return gt_last_status();
    int64_t rows = 1; /* the sample's leading dims: one product of the weight each */
    for (int d = 0; d < in->ndim - 1; d++)
        rows *= in->dims[d];
    gt_module_set_flops(m, rows * s->in_features * s->out_features);
    *out = *in;
    out->dims[out->ndim - 1] = s->out_features;
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

/* ---- Conv1d, Conv2d, ConvTranspose2d: square kernels, one stride, padding, dilation ---- */

typedef struct conv_state {
    gt_nn_conv_opts o;
    int64_t out_channels, in_channels;
    int kernel;
    const gt_op_def *op; /* gt_op_conv1d, gt_op_conv2d or gt_op_conv_transpose2d */
} conv_state;

static bool conv_transposed(const conv_state *s) { return s->op == &gt_op_conv_transpose2d; }
static int conv_rank(const conv_state *s) { return s->op == &gt_op_conv1d ? 1 : 2; }

/* The output size along one axis (0 when the window does not fit), as the op computes it. */
static int64_t conv_out_size(const conv_state *s, int64_t size) {
    const gt_nn_conv_opts *o = &s->o;
    int64_t reach = (int64_t)o->dilation * (s->kernel - 1) + 1;
    if (conv_transposed(s)) {
        int64_t out = (size - 1) * o->stride - 2 * (int64_t)o->padding + reach + o->output_padding;
        return out < 1 ? 0 : out;
    }
    if (o->padding_mode == GT_CONV_PADDING_SAME)
        return size;
    int64_t pad = o->padding_mode == GT_CONV_PADDING_VALID ? 0 : o->padding;
    int64_t span = size + 2 * pad - reach;
    return span < 0 ? 0 : span / o->stride + 1;
}

/* The op's arguments, per axis from the layer's one value. */
static gt_conv_args conv_args(const conv_state *s) {
    const gt_nn_conv_opts *o = &s->o;
    return (gt_conv_args){.stride = GT_INTS(o->stride), .padding = GT_INTS(o->padding),
                          .padding_mode = o->padding_mode, .dilation = GT_INTS(o->dilation),
                          .groups = o->groups, .output_padding = GT_INTS(o->output_padding)};
}

static gt_status conv_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    conv_state *s = gt_module_state(m);
    int rank = conv_rank(s);
    if (want_rank(in, rank + 1, rank == 1 ? "[C, L]" : "[C, H, W]") != GT_OK)
        return gt_last_status();
    int64_t c = in->dims[0], groups = s->o.groups;
    if (c % groups || s->out_channels % groups)
        return gt_set_error(GT_ERR_SHAPE, "groups=%lld must divide the in channels (%lld) and "
                            "the out channels (%lld)", (long long)groups, (long long)c,
                            (long long)s->out_channels);
    int64_t o[2] = {1, 1};
    bool fits = true;
    for (int i = 0; i < rank; i++)
        fits = (o[i] = conv_out_size(s, in->dims[1 + i])) >= 1 && fits;
    if (!fits && rank == 1)
        return gt_set_error(GT_ERR_SHAPE, "a kernel of %d with padding %d and dilation %d does "
                            "not fit in %lld", s->kernel, s->o.padding, s->o.dilation,
                            (long long)in->dims[1]);
    if (!fits)
        return gt_set_error(GT_ERR_SHAPE, "a %dx%d kernel with padding %d%s does not fit in "
                            "%lldx%lld", s->kernel, s->kernel, s->o.padding,
                            s->o.dilation > 1 ? " and that dilation" : "",
                            (long long)in->dims[1], (long long)in->dims[2]);
    s->in_channels = c;
    int64_t shape[4] = {s->out_channels, c / groups, s->kernel, s->kernel};
    if (conv_transposed(s))
        shape[0] = c, shape[1] = s->out_channels / groups;
    if (rank == 1)
        shape[2] = s->kernel;
    int64_t fan_in = shape[1] * s->kernel * (rank == 2 ? s->kernel : 1); /* torch's, of w */
    if (gt_module_add_param(m, "weight", rank + 2, shape, GT_INIT_KAIMING_UNIFORM, 0) < 0 ||
        (s->o.bias && gt_module_add_param(m, "bias", 1, &s->out_channels,
                                          GT_INIT_FAN_IN_UNIFORM, fan_in) < 0))
        return gt_last_status();
    /* multiply-adds: every output (every input, transposed) times a weight row */
    int64_t positions = conv_transposed(s) ? in->dims[1] * in->dims[2] : o[0] * o[1];
    int64_t channels = conv_transposed(s) ? c : s->out_channels;
    gt_module_set_flops(m, channels * positions * fan_in);
    *out = rank == 1 ? (gt_sample_shape){2, {s->out_channels, o[0]}}
                     : (gt_sample_shape){3, {s->out_channels, o[0], o[1]}};
    return GT_OK;
}

static gt_tensor *conv_layer_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const conv_state *s = gt_module_cstate(m);
    gt_conv_args args = conv_args(s);
    return gt_op_call(tape, s->op, (gt_tensor *[]){x, gt_module_param(m, 0), gt_module_param(m, 1)},
                      s->o.bias ? 3 : 2, &args);
}

/* Appends ", name=(v, v)" ("(v,)" for one axis; name=word when word) to buf at *used. */
static void conv_field(char *buf, size_t size, size_t *used, const char *name, int rank, int v,
                       const char *word) {
    int n = *used >= size ? 0
            : word        ? snprintf(buf + *used, size - *used, ", %s=%s", name, word)
            : rank == 1   ? snprintf(buf + *used, size - *used, ", %s=(%d,)", name, v)
                          : snprintf(buf + *used, size - *used, ", %s=(%d, %d)", name, v, v);
    *used += n > 0 ? (size_t)n : 0;
}

/* torch's extra_repr: padding, dilation, output_padding, groups, bias, each when not the
 * default. */
static void conv_describe(const gt_module *m, char *buf, size_t size) {
    const conv_state *s = gt_module_cstate(m);
    const gt_nn_conv_opts *o = &s->o;
    int rank = conv_rank(s);
    int n = snprintf(buf, size, "%lld, %lld", (long long)s->in_channels,
                     (long long)s->out_channels);
    size_t used = n > 0 ? (size_t)n : 0;
    conv_field(buf, size, &used, "kernel_size", rank, s->kernel, NULL);
    conv_field(buf, size, &used, "stride", rank, o->stride, NULL);
    if (o->padding_mode != GT_CONV_PADDING_LIST || o->padding)
        conv_field(buf, size, &used, "padding", rank, o->padding,
                   o->padding_mode == GT_CONV_PADDING_SAME    ? "same"
                   : o->padding_mode == GT_CONV_PADDING_VALID ? "valid"
                                                              : NULL);
    if (o->dilation != 1)
        conv_field(buf, size, &used, "dilation", rank, o->dilation, NULL);
    if (o->output_padding)
        conv_field(buf, size, &used, "output_padding", rank, o->output_padding, NULL);
    if (o->groups != 1 && used < size)
        used += (size_t)snprintf(buf + used, size - used, ", groups=%d", o->groups);
    if (!o->bias && used < size)
        snprintf(buf + used, size - used, ", bias=False");
}

static const gt_module_class conv1d_class = {"Conv1d", conv_build, conv_layer_forward,
                                             conv_describe};
static const gt_module_class conv2d_class = {"Conv2d", conv_build, conv_layer_forward,
                                             conv_describe};
static const gt_module_class conv_transpose2d_class = {"ConvTranspose2d", conv_build,
                                                       conv_layer_forward, conv_describe};

gt_nn_conv_opts gt_nn_conv_default_opts(void) {
    return (gt_nn_conv_opts){.stride = 1, .dilation = 1, .groups = 1, .bias = true};
}

gt_module *gt_nn_conv(const gt_op_def *op, int64_t out_channels, int kernel_size,
                      const gt_nn_conv_opts *opts) {
    gt_nn_conv_opts o = opts ? *opts : gt_nn_conv_default_opts();
    const char *type = op == &gt_op_conv1d ? "Conv1d" : op == &gt_op_conv2d ? "Conv2d"
                       : op == &gt_op_conv_transpose2d ? "ConvTranspose2d" : NULL;
    if (!type) {
        gt_set_error(GT_ERR_ARG, "conv layer: op must be conv1d, conv2d or conv_transpose2d");
        return NULL;
    }
    bool transposed = op == &gt_op_conv_transpose2d;
    if (out_channels < 1 || out_channels > LAYER_MAX_SIZE || kernel_size < 1 ||
        kernel_size > LAYER_MAX_KERNEL || o.stride < 1 || o.stride > LAYER_MAX_KERNEL ||
        o.padding < 0 || o.padding > LAYER_MAX_KERNEL || o.dilation < 1 ||
        o.dilation > LAYER_MAX_KERNEL || o.groups < 1 || o.groups > LAYER_MAX_SIZE ||
        o.output_padding < 0 || o.output_padding > LAYER_MAX_KERNEL ||
        o.padding_mode < GT_CONV_PADDING_LIST || o.padding_mode > GT_CONV_PADDING_SAME) {
        gt_set_error(GT_ERR_ARG, "%s: needs out_channels in 1..%lld, kernel_size, stride and "
                     "dilation in 1..%d, padding and output_padding in 0..%d, groups >= 1; got "
                     "%lld, %d, %d, %d, %d, %d, %d", type, (long long)LAYER_MAX_SIZE,
                     LAYER_MAX_KERNEL, LAYER_MAX_KERNEL, (long long)out_channels, kernel_size,
                     o.stride, o.dilation, o.padding, o.output_padding, o.groups);
        return NULL;
    }
    if (out_channels % o.groups) {
        gt_set_error(GT_ERR_ARG, "%s: out_channels must be divisible by groups", type);
        return NULL;
    }
    if (o.padding_mode == GT_CONV_PADDING_SAME && o.stride != 1) {
        gt_set_error(GT_ERR_ARG, "%s: padding='same' is not supported for strided "
                     "convolutions", type);
        return NULL;
    }
    if (transposed && (o.padding_mode != GT_CONV_PADDING_LIST ||
                       (o.output_padding >= o.stride && o.output_padding >= o.dilation))) {
        gt_set_error(GT_ERR_ARG, "%s: padding must be a number, and output_padding smaller "
                     "than stride or dilation", type);
        return NULL;
    }
    if (!transposed && o.output_padding) {
        gt_set_error(GT_ERR_ARG, "%s: takes no output_padding", type);
        return NULL;
    }
    conv_state s = {o, out_channels, 0, kernel_size, op};
    return gt_module_new(op == &gt_op_conv1d ? &conv1d_class
                         : transposed        ? &conv_transpose2d_class
                                             : &conv2d_class,
                         &s, sizeof s);
}

gt_module *gt_nn_conv2d(int64_t out_channels, int kernel_size, int stride, int padding,
                        bool bias) {
    gt_nn_conv_opts o = gt_nn_conv_default_opts();
    o.stride = stride, o.padding = padding, o.bias = bias;
    return gt_nn_conv(&gt_op_conv2d, out_channels, kernel_size, &o);
}

/* ---- the pools: MaxPool2d, AvgPool2d, MaxPool1d, AvgPool1d, AdaptiveAvgPool2d, ----------
 * AdaptiveMaxPool2d: one op each, its arguments kept as the op's args struct. */

typedef struct pool_state {
    const gt_op_def *op;
    _Alignas(16) unsigned char args[GT_OP_ARGS_MAX];
} pool_state;

/* The output's shape is the op's: it runs once on a zero sample (so its checks and its
 * messages are the layer's too). */
static gt_status pool_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    const pool_state *s = gt_module_cstate(m);
    int rank = s->op == &gt_op_max_pool1d || s->op == &gt_op_avg_pool1d ? 2 : 3;
    if (want_rank(in, rank, rank == 2 ? "[C, L]" : "[C, H, W]") != GT_OK)
        return gt_last_status();
    int64_t shape[GT_MAX_DIMS] = {1};
    memcpy(shape + 1, in->dims, (size_t)in->ndim * sizeof *shape);
    gt_tensor *x = gt_zeros(in->ndim + 1, shape);
    gt_tape *tape = x ? gt_tape_new() : NULL;
    gt_tensor *y = tape ? gt_op_call(tape, s->op, &x, 1, s->args) : NULL;
    if (y) {
        *out = (gt_sample_shape){in->ndim};
        memcpy(out->dims, gt_tensor_shape(y) + 1, (size_t)in->ndim * sizeof *shape);
    }
    gt_status status = y ? GT_OK : gt_last_status();
    gt_tape_free(tape);
    gt_tensor_free(x);
    return status;
}

static gt_tensor *pool_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    const pool_state *s = gt_module_cstate(m);
    return gt_op_call(tape, s->op, &x, 1, s->args);
}

/* torch's repr: kernel_size and stride (None: the kernel size), or output_size, then every
 * other argument that is not its default. */
static void pool_describe(const gt_module *m, char *buf, size_t size) {
    const pool_state *s = gt_module_cstate(m);
    _Alignas(16) unsigned char dflt[GT_OP_ARGS_MAX];
    gt_op_args_default(s->op, dflt);
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < s->op->n_attrs && used < size; i++) {
        const gt_attr_def *a = &s->op->attrs[i];
        const unsigned char *v = s->args + a->offset;
        bool shown = !strcmp(a->name, "kernel_size") || !strcmp(a->name, "stride") ||
                     !strcmp(a->name, "output_size");
        if (a->type == GT_ATTR_BOOL) {
            if (shown || *(const bool *)v != *(const bool *)(dflt + a->offset))
                used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", used ? ", " : "",
                                         a->name, *(const bool *)v ? "True" : "False");
            continue;
        }
        gt_ints list = *(const gt_ints *)v; /* the pools' other arguments are int lists */
        if (!strcmp(a->name, "stride") && !list.n)
            list = *(const gt_ints *)(s->args + s->op->attrs[0].offset);
        if (!shown && !memcmp(&list, dflt + a->offset, sizeof list))
            continue;
        used += (size_t)snprintf(buf + used, size - used, "%s%s=", used ? ", " : "", a->name);
        for (int k = 0; k < list.n && used < size; k++)
            used += (size_t)snprintf(buf + used, size - used, "%s%lld",
                                     k            ? ", "
                                     : list.n > 1 ? "("
                                                  : "",
                                     (long long)list.v[k]);
        if (used < size)
            used += (size_t)snprintf(buf + used, size - used, "%s", list.n > 1 ? ")" : "");
    }
}

static const gt_module_class pool_classes[] = {
    {"MaxPool2d", pool_build, pool_forward, pool_describe},
    {"AvgPool2d", pool_build, pool_forward, pool_describe},
    {"MaxPool1d", pool_build, pool_forward, pool_describe},
    {"AvgPool1d", pool_build, pool_forward, pool_describe},
    {"AdaptiveAvgPool2d", pool_build, pool_forward, pool_describe},
    {"AdaptiveMaxPool2d", pool_build, pool_forward, pool_describe},
};

gt_module *gt_nn_pool(const gt_op_def *op, const char *args) {
    const gt_op_def *ops[] = {&gt_op_max_pool2d,          &gt_op_avg_pool2d,
                              &gt_op_max_pool1d,          &gt_op_avg_pool1d,
                              &gt_op_adaptive_avg_pool2d, &gt_op_adaptive_max_pool2d};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (op != ops[i])
            continue;
        pool_state s = {op};
        if (gt_op_args_parse(op, args ? args : "", s.args) != GT_OK)
            return NULL;
        return gt_module_new(&pool_classes[i], &s, sizeof s);
    }
    gt_set_error(GT_ERR_ARG, "pool layer: %s is not a pool op", op ? op->name : "NULL");
    return NULL;
}

gt_module *gt_nn_maxpool2d(int kernel_size, int stride) {
    char args[64];
    snprintf(args, sizeof args, "kernel_size=%d, stride=%d", kernel_size,
             stride ? stride : kernel_size);
    return gt_nn_pool(&gt_op_max_pool2d, args);
}

gt_module *gt_nn_avgpool2d(int kernel_size, int stride) {
    char args[64];
    snprintf(args, sizeof args, "kernel_size=%d, stride=%d", kernel_size,
             stride ? stride : kernel_size);
    return gt_nn_pool(&gt_op_avg_pool2d, args);
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

/* A BatchNorm followed by a plain ReLU runs as one op, batch_norm_relu (the same numbers,
 * neither the norm's output nor its gradient on the tape); both stay children, as in the
 * spec. Nothing else sees the norm's output: a module has no forward hooks. */
static gt_tensor *sequential_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    for (int i = 0; i < m->n_children && x; i++) {
        gt_module *child = m->children[i];
        if (i + 1 < m->n_children && m->children[i + 1]->cls == &relu_class &&
            gt__module_is_batchnorm(child))
            x = gt__batchnorm_relu_forward(child, tape, x), i++;
        else
            x = child->cls->forward(child, tape, x);
    }
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

/* padding: a number, or 'valid' / 'same' (GT_LAYER_WORD 0, 1; the spec refuses those for
 * ConvTranspose2d); padding_mode only 'zeros', which the spec checks. */
static bool padding_arg(const gt_layer_info *info, const double *args, int i,
                        gt_nn_conv_opts *o) {
    int64_t padding = 0;
    if (args[i] == GT_LAYER_WORD(0) || args[i] == GT_LAYER_WORD(1)) {
        o->padding_mode = args[i] == GT_LAYER_WORD(0) ? GT_CONV_PADDING_VALID
                                                      : GT_CONV_PADDING_SAME;
        return true;
    }
    if (!int_arg(info, args, i, 0, LAYER_MAX_KERNEL, &padding))
        return false;
    o->padding = (int)padding;
    return true;
}

/* Conv1d, Conv2d: out_channels kernel_size stride padding dilation groups bias padding_mode;
 * ConvTranspose2d: out_channels kernel_size stride padding output_padding groups bias
 * dilation padding_mode (torch.nn's orders). */
static gt_module *make_conv(const double *args, const gt_layer_info *info) {
    bool transposed = info->op == &gt_op_conv_transpose2d;
    int64_t out, kernel, stride, dilation, groups, bias, output_padding = 0;
    gt_nn_conv_opts o = gt_nn_conv_default_opts();
    if (!int_arg(info, args, 0, 1, LAYER_MAX_SIZE, &out) ||
        !int_arg(info, args, 1, 1, LAYER_MAX_KERNEL, &kernel) ||
        !int_arg(info, args, 2, 1, LAYER_MAX_KERNEL, &stride) ||
        !padding_arg(info, args, 3, &o) ||
        (transposed && !int_arg(info, args, 4, 0, LAYER_MAX_KERNEL, &output_padding)) ||
        !int_arg(info, args, transposed ? 7 : 4, 1, LAYER_MAX_KERNEL, &dilation) ||
        !int_arg(info, args, 5, 1, LAYER_MAX_SIZE, &groups) ||
        !int_arg(info, args, 6, 0, 1, &bias))
        return NULL;
    if (args[transposed ? 8 : 7] != GT_LAYER_WORD(0)) {
        gt_set_error(GT_ERR_ARG, "%s: padding_mode must be 'zeros' (the only one here)",
                     info->type);
        return NULL;
    }
    o.stride = (int)stride, o.dilation = (int)dilation, o.groups = (int)groups;
    o.output_padding = (int)output_padding, o.bias = bias != 0;
    return gt_nn_conv(info->op, out, (int)kernel, &o);
}

/* A pool layer: its arguments are its op's attributes, by the same names (None: NAN). */
static gt_module *make_pool(const double *args, const gt_layer_info *info) {
    pool_state s = {info->op};
    gt_op_args_default(info->op, s.args);
    const char *name = info->args;
    for (int i = 0; name && *name; i++) {
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)strcspn(name, " =?"), name);
        int index = gt_op_attr_index(info->op, word);
        gt_attr_value v = {isnan(args[i]) ? GT_VALUE_NONE : GT_VALUE_NUMBER, args[i]};
        if (index < 0 || gt_op_args_set(info->op, s.args, index, &v) != GT_OK)
            return NULL;
        name = strchr(name, ' ') ? strchr(name, ' ') + 1 : NULL;
    }
    for (size_t i = 0; i < sizeof pool_classes / sizeof pool_classes[0]; i++)
        if (!strcmp(pool_classes[i].type, info->type))
            return gt_module_new(&pool_classes[i], &s, sizeof s);
    gt_set_error(GT_ERR_ARG, "%s: not a pool layer", info->type);
    return NULL;
}

static gt_module *make_flatten(const double *args, const gt_layer_info *info) {
    int64_t start, end;
    if (!int_arg(info, args, 0, 1, 1, &start) || !int_arg(info, args, 1, -1, -1, &end))
        return NULL;
    return gt_nn_flatten();
}

/* An activation's attributes as its row lists them (none for ReLU). */
static gt_module *make_activation(const double *args, const gt_layer_info *info) {
    double values[GT_LAYER_MAX_ARGS];
    int n = 0;
    for (; n < GT_LAYER_MAX_ARGS && !isnan(args[n]); n++)
        values[n] = args[n];
    if (info->op == &gt_op_gelu && n) { /* 'none' or 'tanh' (GT_LAYER_WORD 0, 1) as 0 or 1 */
        if (args[0] != GT_LAYER_WORD(0) && args[0] != GT_LAYER_WORD(1)) {
            gt_set_error(GT_ERR_ARG, "GELU: approximate must be 'none' or 'tanh', got %g",
                         args[0]);
            return NULL;
        }
        values[0] = args[0] == GT_LAYER_WORD(1);
    }
    return gt_nn_activation_args(info->op, n, values);
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
    {"Conv1d", "out_channels kernel_size stride=1 padding=0|valid|same dilation=1 groups=1 "
     "bias=True padding_mode=zeros|zeros", "1-D cross-correlation of NCL sequences", make_conv,
     &gt_op_conv1d},
    {"Conv2d", "out_channels kernel_size stride=1 padding=0|valid|same dilation=1 groups=1 "
     "bias=True padding_mode=zeros|zeros", "2-D cross-correlation of NCHW images", make_conv,
     &gt_op_conv2d},
    {"ConvTranspose2d", "out_channels kernel_size stride=1 padding=0 output_padding=0 "
     "groups=1 bias=True dilation=1 padding_mode=zeros|zeros",
     "the transposed 2-D convolution (conv2d's input gradient) of NCHW images", make_conv,
     &gt_op_conv_transpose2d},
    {"MaxPool2d", "kernel_size stride? padding=0 dilation=1 ceil_mode=False",
     "the largest value of each window", make_pool, &gt_op_max_pool2d},
    {"AvgPool2d",
     "kernel_size stride? padding=0 ceil_mode=False count_include_pad=True divisor_override?",
     "the mean of each window", make_pool, &gt_op_avg_pool2d},
    {"MaxPool1d", "kernel_size stride? padding=0 dilation=1 ceil_mode=False",
     "the largest value of each window of [C, L] samples", make_pool, &gt_op_max_pool1d},
    {"AvgPool1d", "kernel_size stride? padding=0 ceil_mode=False count_include_pad=True",
     "the mean of each window of [C, L] samples", make_pool, &gt_op_avg_pool1d},
    {"AdaptiveAvgPool2d", "output_size", "the mean of output_size windows covering the input",
     make_pool, &gt_op_adaptive_avg_pool2d},
    {"AdaptiveMaxPool2d", "output_size",
     "the largest value of output_size windows covering "
     "the input",
     make_pool, &gt_op_adaptive_max_pool2d},
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
    {"GELU", "approximate=none|none|tanh", "x * Phi(x), or its tanh approximation",
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
