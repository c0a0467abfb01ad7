/* gt_nn.h - floor 4: layers, the MLP and LeNet-5, optimizers, and saving them.
 *
 * A model keeps all its parameters in one contiguous block and all their gradients in
 * another, so zero-grad, an optimizer step, a checksum, an all-reduce and a save are single
 * loops over memory; each parameter is a leaf tensor pointing into those blocks. Models are
 * built only from the public ops of gt_ops.h. Initialisation is PyTorch's default for
 * nn.Linear and nn.Conv2d, drawn from the seeded generator in layer order (weight, then
 * bias), so one seed gives one model on every machine.
 *
 *     gt_model *net = gt_lenet_new(GT_ACT_TANH, 10, 42);
 *     gt_optimizer *opt = gt_sgd_new(gt_model_params(net), gt_model_param_count(net),
 *                                    &(gt_sgd_config){.lr = 0.01, .momentum = 0.9});
 *     gt_tape *tape = gt_tape_new();
 *     while (gt_loader_next(&loader, &batch)) {
 *         gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, net, batch.x),
 *                                            batch.y);
 *         if (!loss || gt_backward(tape, loss) != GT_OK || gt_optimizer_step(opt) != GT_OK)
 *             { fprintf(stderr, "%s\n", gt_last_error()); break; }
 *         gt_model_zero_grad(net);
 *         gt_tape_reset(tape);  // every intermediate of the step goes at once
 *     }
 *     gt_model_save(net, opt, NULL, 0, "lenet.gtc");  // atomic: never a half-written file
 */
#ifndef GT_NN_H
#define GT_NN_H

#include "gt_checkpoint.h"
#include "gt_data.h"
#include "gt_module.h"
#include "gt_npz.h"
#include "gt_ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- activations ---------------------------------------------------------------------- */

typedef enum gt_activation { GT_ACT_RELU, GT_ACT_SIGMOID, GT_ACT_TANH, GT_ACT_COUNT } gt_activation;

/* "relu", "sigmoid", "tanh" ("?" out of range). */
const char *gt_activation_name(gt_activation act);
/* The activation with that name; GT_ERR_ARG naming the choices otherwise. */
gt_status gt_activation_parse(const char *name, gt_activation *act);
/* relu, sigmoid or tanh of x, recorded like the op itself. */
gt_tensor *gt_activate(gt_tape *tape, gt_tensor *x, gt_activation act);

/* ---- initialisation: PyTorch's defaults for nn.Linear and nn.Conv2d -------------------- */

/* w[OUT, ...] gets U(-bound, bound) with fan_in = numel / OUT and
 * bound = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)) (kaiming_uniform_; PyTorch's
 * layers use a = sqrt(5), which makes bound = 1 / sqrt(fan_in)). */
gt_status gt_init_kaiming_uniform(gt_tensor *w, double a, gt_rng *rng);
/* b gets U(-1 / sqrt(fan_in), 1 / sqrt(fan_in)). */
gt_status gt_init_bias_uniform(gt_tensor *b, int64_t fan_in, gt_rng *rng);

/* ---- models --------------------------------------------------------------------------- */

/* MLP and LeNet-5 are specs with names of their own (and checkpoints as before); any other
 * model, made from a spec or from modules, is GT_MODEL_SPEC. */
typedef enum gt_model_kind { GT_MODEL_MLP, GT_MODEL_LENET, GT_MODEL_SPEC } gt_model_kind;

/* `--model cnn` (gt_spec_parse("cnn")): a modern CNN for 28x28 images, batch norm after each
 * convolution and dropout before each linear layer (gradtape-train gives it its recipe:
 * SGD with Nesterov momentum, weight decay, normalised and augmented inputs). */
#define GT_MODEL_CNN_SPEC                                                                      \
    "Conv2d(32, 3, padding=1) BatchNorm2d ReLU Conv2d(32, 3, padding=1) BatchNorm2d ReLU "     \
    "MaxPool2d(2) Conv2d(64, 3, padding=1) BatchNorm2d ReLU Conv2d(64, 3, padding=1) "          \
    "BatchNorm2d ReLU MaxPool2d(2) Flatten Dropout(0.25) Linear(128) ReLU Dropout(0.5) "        \
    "Linear(10)"

#define GT_MLP_MAX_SIZES 17 /* input, up to 15 hidden layers, output */

typedef struct gt_model_config {
    gt_model_kind kind;
    gt_activation act; /* hidden activations; LeNet's F6 is tanh whatever this says */
    int n_sizes;       /* MLP: 2..GT_MLP_MAX_SIZES */
    int sizes[GT_MLP_MAX_SIZES]; /* MLP: input features, hidden sizes, classes */
    int classes;       /* LeNet: outputs (10); for an MLP, sizes[n_sizes - 1]; for a spec
                          whose samples come out as [K], K (else 0) */
} gt_model_config;

typedef struct gt_model gt_model;

/* An MLP: linear layers sizes[0] -> sizes[1] -> ... -> sizes[n-1], `act` after every one
 * but the last. Its input is x[N, sizes[0]] or any x[N, ...] with sizes[0] values per
 * sample (images are flattened). gradtape-train's --model mlp is {784, 100, 10} with ReLU. */
gt_model *gt_mlp_new(const int *sizes, int n_sizes, gt_activation act, uint64_t seed);
/* LeNet-5 (with max-pooling) on x[N,1,28,28] zero-padded by 2 (the paper's 32x32):
 *   C1 conv 6@5x5 -> [N,6,28,28]   S2 max-pool 2x2/2 -> [N,6,14,14]
 *   C3 conv 16@5x5 -> [N,16,10,10] S4 max-pool 2x2/2 -> [N,16,5,5]
 *   C5 conv 120@5x5 -> [N,120,1,1] F6 linear 84, tanh   output linear `classes`
 * with `act` after C1, C3 and C5. The activation is applied after the pool: max-pooling
 * commutes with these monotonic functions, so the values and gradients are those of
 * conv -> act -> pool at a quarter of the cost. 416,520 multiply-adds per image forward. */
gt_model *gt_lenet_new(gt_activation act, int classes, uint64_t seed);
/* Either of the above from a configuration. */
gt_model *gt_model_new(const gt_model_config *config, uint64_t seed);
/* A model of any module tree (gt_module.h), which it takes (freed on failure too), for
 * input samples of shape in_shape[in_ndim] (without the batch dimension: {1, 28, 28}): the
 * modules are built for that shape, their parameters and buffers laid out in the blocks and
 * initialised from `seed` in state_dict order. NULL with a message naming the layer when a
 * layer does not fit the shape it gets, e.g. "layer 3 Linear (input [6, 14, 14]): expects
 * samples of [in_features] (put Flatten before it), got rank 3". */
gt_model *gt_model_from_module(gt_module *root, int in_ndim, const int64_t *in_shape,
                               uint64_t seed);
/* The model of a spec (gt_spec_parse), which it keeps for checkpoints:
 *     gt_model_from_spec("Conv2d(32, 5, padding=2) ReLU MaxPool2d(2) Flatten Linear(10)",
 *                        3, (int64_t[]){1, 28, 28}, seed) */
gt_model *gt_model_from_spec(const char *spec, int in_ndim, const int64_t *in_shape,
                             uint64_t seed);
void gt_model_free(gt_model *model);
/* Its spec (NULL for a model built from modules in C), root module and input sample shape. */
const char *gt_model_spec(const gt_model *model);
gt_module *gt_model_module(gt_model *model);
const gt_sample_shape *gt_model_input_shape(const gt_model *model);
/* Train mode (the default) or eval mode, for every module (nn.Module.train / .eval);
 * gt_model_evaluate switches to eval mode and back. */
void gt_model_train(gt_model *model, bool training);
bool gt_model_is_training(const gt_model *model);
/* Prints one row per layer (name, layer, output shape, parameters, multiply-adds of one
 * sample) and the totals. */
gt_status gt_model_summary(const gt_model *model, FILE *out);

const gt_model_config *gt_model_get_config(const gt_model *model);
/* "mlp", "lenet" or "module" (the checkpoint's kind). */
const char *gt_model_kind_name(gt_model_kind kind);
/* A one-line description, e.g. "lenet(act=tanh, classes=10): 61706 parameters". */
const char *gt_model_describe(const gt_model *model, char *buf, size_t size);

/* logits[N, classes] of x, recorded on the tape (or not, under the no-grad scope). */
gt_tensor *gt_model_forward(gt_tape *tape, gt_model *model, gt_tensor *x);

/* The parameters, in layer order, each a leaf that requires a gradient. */
int gt_model_param_count(const gt_model *model);
gt_tensor *const *gt_model_params(gt_model *model);
/* PyTorch's state_dict names: "0.weight", "3.bias"; the MLP's "fc1.weight", LeNet's
 * "c1.weight", ... */
const char *gt_model_param_name(const gt_model *model, int i);
/* Buffers (state without a gradient, e.g. running statistics), in their own block. */
int gt_model_buffer_count(const gt_model *model);
gt_tensor *const *gt_model_buffers(gt_model *model);
const char *gt_model_buffer_name(const gt_model *model, int i);
/* The contiguous blocks: numel values each, parameters in layer order. */
int64_t gt_model_numel(const gt_model *model);
gt_real *gt_model_data(gt_model *model);
gt_real *gt_model_grad(gt_model *model);
/* Zeroes every gradient as gt_tensor_zero_grad does, without a pass over memory. */
void gt_model_zero_grad(gt_model *model);
/* Multiply-adds of one sample's forward pass (LeNet-5: 416,520; MLP 784-100-10: 79,400). */
int64_t gt_model_flops(const gt_model *model);

/* Rows of logits[N,K] whose largest entry (the first on ties) is at labels[N]. */
int64_t gt_count_correct(const gt_tensor *logits, const gt_tensor *labels);

typedef struct gt_eval_result {
    double loss;     /* mean cross-entropy */
    double accuracy; /* fraction of images classified right */
    int64_t count;   /* images evaluated */
} gt_eval_result;

/* Loss and accuracy over the first `limit` images of data (0: all), in batches, with
 * recording off. The tape is reset after each batch. */
gt_status gt_model_evaluate(gt_model *model, gt_tape *tape, const gt_dataset *data,
                            int64_t batch_size, int64_t limit, gt_eval_result *result);

/* ---- optimizers ----------------------------------------------------------------------- */

/* torch.optim.SGD. For each parameter p with gradient g, at step t (from 0):
 *     g = g + weight_decay * p                      (the L2 term lambda/2 |W|^2's gradient)
 *     if momentum != 0:
 *         buf = t == 0 ? g : momentum * buf + (1 - dampening) * g
 *         g = nesterov ? g + momentum * buf : buf
 *     p = p - lr * g
 * nesterov needs momentum > 0 and dampening 0. Every field's zero is PyTorch's default
 * (momentum, dampening and weight_decay 0, nesterov off); lr, which PyTorch requires, has
 * none: set it. */
typedef struct gt_sgd_config {
    double lr, momentum, dampening, weight_decay;
    bool nesterov;
} gt_sgd_config;

/* torch.optim.Adam (amsgrad off). At step t (from 1):
 *     g = g + weight_decay * p
 *     m = beta1 * m + (1 - beta1) * g          v = beta2 * v + (1 - beta2) * g^2
 *     p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * torch.optim.AdamW (gt_adamw_new) takes the same config, its weight decay decoupled from
 * the gradient: p = p * (1 - lr * weight_decay) first, then the update above without the
 * first line.
 *
 * A field left 0 takes PyTorch's default, so that &(gt_adam_config){.lr = 0.01} is Adam
 * with betas (0.9, 0.999) and eps 1e-8, not sign descent dividing by zero: lr 1e-3, beta1
 * 0.9, beta2 0.999, eps 1e-8, weight_decay 0 (Adam) or 1e-2 (AdamW). For a real 0, which
 * a beta, eps or AdamW's weight_decay may be, write GT_OPTIM_ZERO:
 *     &(gt_adam_config){.lr = 0.01, .beta1 = GT_OPTIM_ZERO}   // RMSprop-like, no momentum
 * Any other negative value is refused. */
typedef struct gt_adam_config {
    double lr, beta1, beta2, eps, weight_decay;
} gt_adam_config;

/* Stands for 0 in an optimizer config field whose own 0 means "PyTorch's default". */
#define GT_OPTIM_ZERO (-1.0)

/* PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0. */
gt_adam_config gt_adam_defaults(void);
/* AdamW's: the same, with weight_decay 1e-2. */
gt_adam_config gt_adamw_defaults(void);

typedef enum gt_optimizer_kind {
    GT_OPTIM_SGD = 1,
    GT_OPTIM_ADAM = 2,
    GT_OPTIM_ADAMW = 3
} gt_optimizer_kind;

typedef struct gt_optimizer gt_optimizer;

/* Over n parameters (leaves that require a gradient; the optimizer keeps the pointers, the
 * caller keeps the tensors alive). NULL with the error set on a bad configuration, naming
 * the value. */
gt_optimizer *gt_sgd_new(gt_tensor *const *params, int n_params, const gt_sgd_config *config);
gt_optimizer *gt_adam_new(gt_tensor *const *params, int n_params,
                          const gt_adam_config *config);
gt_optimizer *gt_adamw_new(gt_tensor *const *params, int n_params,
                           const gt_adam_config *config);
void gt_optimizer_free(gt_optimizer *opt);

/* One update of every parameter from its gradient (parameters without a gradient buffer
 * are skipped). Gradients are left as they are: zero them before the next backward. */
gt_status gt_optimizer_step(gt_optimizer *opt);
/* Zeroes the gradients of the optimizer's parameters. */
void gt_optimizer_zero_grad(gt_optimizer *opt);
gt_optimizer_kind gt_optimizer_get_kind(const gt_optimizer *opt);
/* "sgd", "adam" or "adamw". */
const char *gt_optimizer_kind_name(gt_optimizer_kind kind);
int64_t gt_optimizer_steps(const gt_optimizer *opt);
double gt_optimizer_lr(const gt_optimizer *opt);
void gt_optimizer_set_lr(gt_optimizer *opt, double lr);

/* torch.nn.utils.clip_grad_norm_(max_norm, norm_type=2): the 2-norm of all the gradients of
 * params[n] together into *total_norm (may be NULL); when it exceeds max_norm, every
 * gradient is multiplied by max_norm / (total_norm + 1e-6). A non-finite norm is returned
 * and the gradients are left alone. */
gt_status gt_clip_grad_norm(gt_tensor *const *params, int n, double max_norm,
                            double *total_norm);

/* ---- checkpoints of models ------------------------------------------------------------- */

/* Saves the model (kind "mlp" or "lenet" with its configuration, or "module" with its spec
 * and input shape; then every parameter and buffer by name) and, when opt
 * is not NULL, the optimizer's kind, step count and state (momentum buffers, Adam's
 * moments), so that training resumes where it stopped; `extra` adds the caller's integer
 * entries (e.g. {"epoch", 3}). Atomic, as gt_checkpoint_save. */
gt_status gt_model_save(const gt_model *model, const gt_optimizer *opt,
                        const gt_ckpt_config *extra, int n_extra, const char *path);
/* Rebuilds a model from a checkpoint: its configuration from the file, then every
 * parameter, all checked before anything is used. NULL with a message naming the file. */
gt_model *gt_model_load(const char *path);
/* Loads every parameter and buffer of a checkpoint into a model with the same names and
 * shapes (one built in C from modules, whose file holds no spec); nothing changes on failure. */
gt_status gt_model_load_into(gt_model *model, const char *path);
/* A model's parameters and buffers as a .npz keyed by state_dict names ("0.weight",
 * "1.running_mean"), for numpy.load and torch's load_state_dict (gt_npz.h). */
gt_status gt_model_export_npz(const gt_model *model, const char *path);
/* The reverse, as load_state_dict(strict=True): the file must hold every parameter and
 * buffer of the model with its shape, and nothing else; nothing changes on failure. */
gt_status gt_model_import_npz(gt_model *model, const char *path);
/* Restores the optimizer state saved with a model into opt, which must be of the same kind
 * and over that model's parameters. Fails, changing nothing, when the file holds no
 * optimizer state or another kind. */
gt_status gt_optimizer_load(gt_optimizer *opt, const char *path);
/* The value of an integer entry of a checkpoint's configuration (e.g. "epoch"), or
 * GT_ERR_FORMAT naming the file and the key when it has none. */
gt_status gt_checkpoint_get(const char *path, const char *key, int64_t *value);

#ifdef __cplusplus
}
#endif

#endif
