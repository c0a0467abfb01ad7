/* gt_module.h - floor 4: layers that compose, as torch.nn's modules do.
 *
 * A module is a layer (Linear, Conv2d, ReLU, ...) or a container of modules (Sequential,
 * Residual, or one a user writes). It owns named parameters and buffers, knows train vs eval
 * mode, and records its forward pass on a tape. Modules are built in two steps:
 *
 *   1. construction: gt_nn_linear(128, true), gt_nn_sequential(), gt_module_add_child(...),
 *      or gt_spec_parse("Conv2d(32, 5, padding=2) ReLU MaxPool2d(2) Flatten Linear(10)").
 *      Only the sizes the user chose are known: out features, kernels, strides.
 *   2. gt_model_from_module(root, input shape, seed) (gt_nn.h): every module is told the
 *      shape of one sample it receives (without the batch dimension) and declares its
 *      parameters, whose in-sizes follow from it (as torch.nn.LazyLinear does at its first
 *      forward, but before any optimizer is made from them). The model then puts every
 *      parameter in one contiguous block and every gradient in another (buffers, which take
 *      no gradient, in a third), so that zero-grad, an optimizer step, a checksum and a save
 *      stay single loops, and initialises them in declaration order from one seeded
 *      generator, with PyTorch's default for the layer.
 *
 * Names are PyTorch's state_dict names: a child of a container is called by its index
 * ("0", "1", ...) unless it was given a name, and its tensors are "<child>.<tensor>"
 * ("0.weight", "3.bias", "block.1.running_mean").
 *
 * A module of one's own (an attention block, say) is a gt_module_class: a build callback
 * that declares the module's own parameters and builds its children, and a forward
 * callback that calls theirs. See docs/modules.md for a complete example.
 *
 *     static gt_status twice_build(gt_module *m, const gt_sample_shape *in,
 *                                  gt_sample_shape *out) {
 *         gt_sample_shape mid;
 *         if (gt_module_build(gt_module_child(m, 0), in, &mid) != GT_OK) return gt_last_status();
 *         return gt_module_build(gt_module_child(m, 1), &mid, out);
 *     }
 *     static gt_tensor *twice_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
 *         return gt_module_forward(gt_module_child(m, 1), tape,
 *                                  gt_module_forward(gt_module_child(m, 0), tape, x));
 *     }
 *     static const gt_module_class twice = {"Twice", twice_build, twice_forward, NULL};
 *     gt_module *m = gt_module_new(&twice, NULL, 0);
 *     gt_module_add_child(m, "first", gt_nn_linear(16, true));
 *     gt_module_add_child(m, "second", gt_nn_linear(16, true));
 */
#ifndef GT_MODULE_H
#define GT_MODULE_H

#include "gt_ops.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shape of one sample, without the batch dimension: [784], [1, 28, 28]. */
typedef struct gt_sample_shape {
    int ndim;
    int64_t dims[GT_MAX_DIMS - 1];
} gt_sample_shape;

/* How a parameter or buffer starts, drawn in declaration order from the model's generator:
 *   KAIMING_UNIFORM  kaiming_uniform_(a = sqrt(5)) over fan_in = numel / dim 0: U(-b, b),
 *                    b = 1 / sqrt(fan_in) (nn.Linear's and nn.Conv2d's weight)
 *   FAN_IN_UNIFORM   U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)) with the given fan_in (biases)
 *   ZEROS, ONES      constants (batch norm's shift and scale, running statistics)
 *   NORMAL           N(0, 1) (nn.Embedding's weight) */
typedef enum gt_init {
    GT_INIT_KAIMING_UNIFORM,
    GT_INIT_FAN_IN_UNIFORM,
    GT_INIT_ZEROS,
    GT_INIT_ONES,
    GT_INIT_NORMAL
} gt_init;

typedef struct gt_module gt_module;

/* What a kind of module does. `type` is torch.nn's class name ("Linear"). */
typedef struct gt_module_class {
    const char *type;
    /* Given the shape of one input sample, sets the shape of one output sample, declares
     * the module's own parameters and buffers (gt_module_add_param/_buffer) and builds its
     * children (gt_module_build). Returns GT_OK, or a status with gt_last_error saying
     * what does not fit (the model adds the module's name). Called once. */
    gt_status (*build)(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out);
    /* The output for a batch x[N, in...], recorded on the tape; NULL with the error set. */
    gt_tensor *(*forward)(gt_module *m, gt_tape *tape, gt_tensor *x);
    /* torch.nn's way of printing the arguments into buf ("32, kernel_size=5, padding=2"),
     * or NULL for none. */
    void (*describe)(const gt_module *m, char *buf, size_t size);
} gt_module_class;

/* A module of this class with a copy of `state` (state_size bytes, may be 0), which the
 * callbacks reach through gt_module_state. NULL with the error set when out of memory. */
gt_module *gt_module_new(const gt_module_class *cls, const void *state, size_t state_size);
/* Frees m and its children. A module given to a model or to a parent belongs to it. */
void gt_module_free(gt_module *m);

/* Appends a child, which m then owns (it is freed with m, also when this fails, unless it
 * belongs to another parent already, which is refused: a module has one parent). `name`
 * (letters, digits and '_', at most 31 bytes, unique among m's children) or NULL for its
 * index, as nn.Sequential numbers its children. */
gt_status gt_module_add_child(gt_module *m, const char *name, gt_module *child);
int gt_module_child_count(const gt_module *m);
gt_module *gt_module_child(const gt_module *m, int i);
const char *gt_module_name(const gt_module *m);     /* its name in its parent, "" at the root */
const char *gt_module_type(const gt_module *m);     /* "Linear" */
void *gt_module_state(gt_module *m);
const void *gt_module_cstate(const gt_module *m);

/* ---- inside build ---------------------------------------------------------------------- */

/* Builds a child (or any module m holds) for inputs of shape in; its output shape in out. */
gt_status gt_module_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out);
/* Declares a parameter "name" of this shape; returns its slot (0, 1, ... in the order of
 * declaration among m's parameters), or -1 with the error set. fan_in is used by
 * GT_INIT_FAN_IN_UNIFORM only. */
int gt_module_add_param(gt_module *m, const char *name, int ndim, const int64_t *shape,
                        gt_init init, int64_t fan_in);
/* Declares a buffer (state without a gradient: running statistics); its slot. */
int gt_module_add_buffer(gt_module *m, const char *name, int ndim, const int64_t *shape,
                         gt_init init);
/* Multiply-adds of one sample's forward pass through m itself (not its children). */
void gt_module_set_flops(gt_module *m, int64_t flops);

/* ---- inside forward --------------------------------------------------------------------- */

/* The child's output for x. A NULL x returns NULL, keeping the error that made it. */
gt_tensor *gt_module_forward(gt_module *m, gt_tape *tape, gt_tensor *x);
/* The tensors declared in build, by slot, once the model exists. */
gt_tensor *gt_module_param(const gt_module *m, int slot);
gt_tensor *gt_module_buffer(const gt_module *m, int slot);
/* True in train mode (the default), false in eval mode (gt_model_train in gt_nn.h). */
bool gt_module_training(const gt_module *m);
/* The model's generator for what a forward pass draws (dropout's masks): one stream per
 * model, seeded from its seed after the initialisation, shared by its modules in the order
 * they run. NULL before the model exists. */
gt_rng *gt_module_rng(const gt_module *m);

/* ---- after build -------------------------------------------------------------------------- */

/* The output shape of one sample and the multiply-adds recorded by build. */
const gt_sample_shape *gt_module_out_shape(const gt_module *m);
int64_t gt_module_flops(const gt_module *m);
/* Parameters (numel) declared by m and its children. */
int64_t gt_module_param_numel(const gt_module *m);
/* "Conv2d(32, kernel_size=5, padding=2)", torch's print of the module. */
const char *gt_module_describe(const gt_module *m, char *buf, size_t size);

/* ---- the layers ---------------------------------------------------------------------------- */
/* Each returns a new module (NULL with the error set on a bad argument or no memory). The
 * in-sizes come from the shape the model gives at build time. */

/* y = x w^T + b over the last axis: weight [out, in], bias [out]; x[N, ..., in] ->
 * [N, ..., out]. */
gt_module *gt_nn_linear(int64_t out_features, bool bias);
/* x[N,C,H,W] -> [N,out,(H+2p-k)/s+1,(W+2p-k)/s+1]: weight [out, C, k, k], bias [out]. */
gt_module *gt_nn_conv2d(int64_t out_channels, int kernel_size, int stride, int padding,
                        bool bias);
/* nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d's arguments after the channels and the kernel
 * (square kernels: one value for every axis; padding_mode is 'zeros'). */
typedef struct gt_nn_conv_opts {
    int stride, padding;
    int padding_mode;   /* GT_CONV_PADDING_LIST (padding), _VALID, _SAME (not transposed) */
    int dilation, groups;
    int output_padding; /* ConvTranspose2d only */
    bool bias;
} gt_nn_conv_opts;
/* stride 1, padding 0, dilation 1, groups 1, bias. */
gt_nn_conv_opts gt_nn_conv_default_opts(void);
/* The layer of op &gt_op_conv1d (x[N,C,L], weight [out, C/groups, k]), &gt_op_conv2d
 * (weight [out, C/groups, k, k]) or &gt_op_conv_transpose2d (weight [C, out/groups, k, k]),
 * bias [out]; opts NULL: the defaults. PyTorch's initialisation (fan_in = weight numel /
 * its dim 0, for the transposed weight too). */
gt_module *gt_nn_conv(const gt_op_def *op, int64_t out_channels, int kernel_size,
                      const gt_nn_conv_opts *opts);
/* x[N,C,H,W] -> [N,C,(H-k)/s+1,(W-k)/s+1]; stride 0 means stride = kernel_size (PyTorch's
 * default). */
gt_module *gt_nn_maxpool2d(int kernel_size, int stride);
gt_module *gt_nn_avgpool2d(int kernel_size, int stride);
/* Any pool layer by its op (&gt_op_max_pool2d, &gt_op_avg_pool2d, &gt_op_max_pool1d,
 * &gt_op_avg_pool1d, &gt_op_adaptive_avg_pool2d, &gt_op_adaptive_max_pool2d: torch.nn's
 * MaxPool2d ... AdaptiveMaxPool2d) and its arguments in the op's keywords:
 *     gt_nn_pool(&gt_op_max_pool2d, "kernel_size=3, stride=2, padding=1, ceil_mode=True")
 *     gt_nn_pool(&gt_op_adaptive_avg_pool2d, "output_size=1")
 * Samples are [C, H, W] ([C, L] for the 1-D pools); the op checks the arguments at build. */
gt_module *gt_nn_pool(const gt_op_def *op, const char *args);
/* x[N, d1, d2, ...] -> [N, d1 * d2 * ...] (nn.Flatten(start_dim=1)). */
gt_module *gt_nn_flatten(void);
/* An elementwise activation or a softmax over the last axis, by its op-table entry, with
 * torch.nn's defaults: &gt_op_relu, sigmoid, tanh, softmax, log_softmax, leaky_relu, elu,
 * selu, gelu, silu, softplus, hardtanh, hardsigmoid (torch.nn's ReLU, ..., Softmax(dim=-1),
 * LogSoftmax(dim=-1), LeakyReLU, ELU, SELU, GELU, SiLU, Softplus, Hardtanh, Hardsigmoid). */
gt_module *gt_nn_activation(const gt_op_def *op);
/* The same with its first n_args attributes in torch.nn's order (LeakyReLU: negative_slope;
 * ELU: alpha; GELU: approximate, 0 "none" or 1 "tanh"; Softplus: beta, threshold; Hardtanh:
 * min_val, max_val); the others keep their defaults. */
gt_module *gt_nn_activation_args(const gt_op_def *op, int n_args, const double *args);
/* BatchNorm1d (spatial 1: x[N,C] or x[N,C,L]) or BatchNorm2d (spatial 2: x[N,C,H,W]):
 * weight [C] (ones) and bias [C] (zeros) when affine; buffers running_mean [C] (zeros),
 * running_var [C] (ones) and num_batches_tracked [] when track_running_stats. num_features 0:
 * inferred; momentum NAN: torch's None (a cumulative average). Train mode normalises by the
 * batch and updates the buffers; eval mode by the buffers (by the batch without them). */
gt_module *gt_nn_batchnorm(int spatial, int64_t num_features, double eps, double momentum,
                           bool affine, bool track_running_stats);
/* x[N, ..., D...] normalised over its last dims D... = normalized_shape; weight and bias of
 * that shape (ones, zeros) when elementwise_affine. */
gt_module *gt_nn_layernorm(int ndim, const int64_t *normalized_shape, double eps,
                           bool elementwise_affine);
/* x[N,C,*] normalised over each group of C/num_groups channels; weight [C], bias [C] when
 * affine. num_channels 0: inferred. */
gt_module *gt_nn_groupnorm(int64_t num_groups, int64_t num_channels, double eps, bool affine);
/* Inverted dropout with probability p in train mode; the identity in eval mode. */
gt_module *gt_nn_dropout(double p);
/* Indices x[N, ...] (whole numbers in 0..num_embeddings-1) -> rows of weight
 * [num_embeddings, embedding_dim] (N(0, 1)): [N, ..., embedding_dim]. */
gt_module *gt_nn_embedding(int64_t num_embeddings, int64_t embedding_dim);
/* Children applied one after another (add them with gt_module_add_child). */
gt_module *gt_nn_sequential(void);
/* x + f(x), f (which it owns) keeping the shape. */
gt_module *gt_nn_residual(gt_module *f);

/* ---- the layer registry: torch.nn's names and arguments ------------------------------------ */

#define GT_LAYER_MAX_ARGS 10
/* An argument that also takes strings ("padding=0|valid|same" in a row's args: default 0,
 * or 'valid' or 'same' in a spec) receives string number i as GT_LAYER_WORD(i): -1 - i;
 * the spec refuses negative numbers for it. */
#define GT_LAYER_WORD(i) (-1.0 - (i))

/* One kind of layer a spec may name. `args` lists its arguments as the op table does:
 * "out_features bias=True" (a name alone is required; name=default is optional; True and
 * False are 1 and 0). make receives them in that order, defaults filled, and checks them. */
typedef struct gt_layer_info {
    const char *type;
    const char *args;
    const char *doc;
    gt_module *(*make)(const double *args, const struct gt_layer_info *info);
    const gt_op_def *op; /* for a layer that is one op (activations, pools): which; else NULL */
} gt_layer_info;

/* The table, and its rows by torch.nn's name. Containers (Sequential, Residual) are in it
 * with args "": a spec gives them their children in parentheses. */
int gt_layer_count(void);
const gt_layer_info *gt_layer_get(int i);
const gt_layer_info *gt_layer_find(const char *type);

/* ---- model specs ------------------------------------------------------------------------- */

/* Parses a spec, the layers of an nn.Sequential in torch.nn's names and arguments:
 *     "Conv2d(32, 5, padding=2) ReLU MaxPool2d(2) Flatten Linear(128) ReLU Linear(10)"
 * Out channels / features come first; in-sizes are inferred at build. A layer may be named
 * ("fc1=Linear(100)", its tensors then "fc1.weight"); Residual(...) and Sequential(...) hold
 * a spec of their own. "mlp", "lenet" and "cnn" alone are the named models (gt_nn.h). NULL on
 * a bad spec, with an error giving the column, the token and what was expected:
 *     model spec, column 9: 'Conv2d(32, x)': expected a number for kernel_size */
gt_module *gt_spec_parse(const char *spec);

#ifdef __cplusplus
}
#endif

#endif
