/* nn.c - activations, PyTorch's initialisation, models (a module tree over one parameter
 * block; the MLP and LeNet-5 are two specs), the per-layer summary, accuracy and evaluation.
 * Built only from the public ops of gt_ops.h. */
#include "gt_module_impl.h"
#include "gt_nn_impl.h"
#include "gt_tensor_impl.h" /* gt__calloc_aligned: the blocks start on a cache line */

#include <math.h>
#include <string.h>

/* ---- activations ------------------------------------------------------------------------ */

static const char *const activation_names[GT_ACT_COUNT] = {"relu", "sigmoid", "tanh"};

const char *gt_activation_name(gt_activation act) {
    return (unsigned)act < GT_ACT_COUNT ? activation_names[act] : "?";
}

gt_status gt_activation_parse(const char *name, gt_activation *act) {
    for (int i = 0; name && i < GT_ACT_COUNT; i++)
        if (!strcmp(name, activation_names[i])) {
            *act = (gt_activation)i;
            return GT_OK;
        }
    return gt_set_error(GT_ERR_ARG, "unknown activation \"%s\": choose relu, sigmoid or tanh",
                        name ? name : "(null)");
}

gt_tensor *gt_activate(gt_tape *tape, gt_tensor *x, gt_activation act) {
    switch (act) {
    case GT_ACT_RELU: return gt_relu(tape, x);
    case GT_ACT_SIGMOID: return gt_sigmoid(tape, x);
    case GT_ACT_TANH: return gt_tanh(tape, x);
    default: break;
    }
    gt_set_error(GT_ERR_ARG, "activate: no activation number %d", (int)act);
    return NULL;
}

/* ---- initialisation ---------------------------------------------------------------------- */

static void fill_uniform(gt_tensor *t, double bound, gt_rng *rng) {
    gt_real *data = gt_tensor_data(t);
    for (int64_t i = 0; i < gt_tensor_numel(t); i++)
        data[i] = (gt_real)((2 * gt_rng_uniform(rng) - 1) * bound);
}

gt_status gt_init_kaiming_uniform(gt_tensor *w, double a, gt_rng *rng) {
    if (!w || !rng || gt_tensor_ndim(w) < 1 || gt_tensor_numel(w) < 1)
        return gt_set_error(GT_ERR_ARG, "init_kaiming_uniform: needs a non-empty tensor of "
                                        "rank >= 1 and a generator");
    double fan_in = (double)gt_tensor_numel(w) / (double)gt_tensor_dim(w, 0);
    double gain = sqrt(2.0 / (1.0 + a * a));
    fill_uniform(w, gain * sqrt(3.0 / fan_in), rng);
    return GT_OK;
}

gt_status gt_init_bias_uniform(gt_tensor *b, int64_t fan_in, gt_rng *rng) {
    if (!b || !rng || fan_in < 1)
        return gt_set_error(GT_ERR_ARG, "init_bias_uniform: needs a tensor, fan_in >= 1 (got "
                                        "%lld) and a generator", (long long)fan_in);
    fill_uniform(b, 1.0 / sqrt((double)fan_in), rng);
    return GT_OK;
}

/* ---- models: a module tree over one parameter block ---------------------------------------- */

#define MODEL_MAX_SIZE (1 << 24) /* features of one layer */
#define MODEL_NAME_SIZE 256      /* a dotted state_dict name (the checkpoint's limit + 1) */

typedef char model_name[MODEL_NAME_SIZE];

struct gt_model {
    gt_model_config config;
    const char *label; /* "mlp", "lenet" or "model": the start of its messages */
    char *spec;        /* the spec it was made from, or NULL (modules built in C) */
    gt_module *root;
    gt_sample_shape input; /* one sample */
    bool first_flattens;   /* takes any x[N, ...] with as many values per sample */
    bool training;
    gt_rng rng; /* what forward passes draw (gt_module_rng) */
    int n_params, n_buffers;
    gt_tensor **params, **buffers;
    model_name *param_names, *buffer_names;
    int64_t numel, buffer_numel;
    gt_real *data;        /* every parameter, in state_dict order */
    gt_real *grad;        /* their gradients, in the same order */
    gt_real *buffer_data; /* every buffer */
    int64_t flops;
};

static gt_status check_config(const gt_model_config *c) {
    if ((unsigned)c->act >= GT_ACT_COUNT)
        return gt_set_error(GT_ERR_ARG, "model: no activation number %d", (int)c->act);
    if (c->kind == GT_MODEL_LENET) {
        if (c->classes < 1 || c->classes > MODEL_MAX_SIZE)
            return gt_set_error(GT_ERR_ARG, "lenet: classes must be in 1..%d, got %d",
                                MODEL_MAX_SIZE, c->classes);
        return GT_OK;
    }
    if (c->kind != GT_MODEL_MLP)
        return gt_set_error(GT_ERR_ARG, "model: no model kind number %d", (int)c->kind);
    if (c->n_sizes < 2 || c->n_sizes > GT_MLP_MAX_SIZES)
        return gt_set_error(GT_ERR_ARG, "mlp: needs 2..%d layer sizes (input ... output), got "
                            "%d", GT_MLP_MAX_SIZES, c->n_sizes);
    for (int i = 0; i < c->n_sizes; i++)
        if (c->sizes[i] < 1 || c->sizes[i] > MODEL_MAX_SIZE)
            return gt_set_error(GT_ERR_ARG, "mlp: layer size %d is %d; sizes must be in 1..%d",
                                i, c->sizes[i], MODEL_MAX_SIZE);
    return GT_OK;
}

static const char *const activation_layers[GT_ACT_COUNT] = {"ReLU", "Sigmoid", "Tanh"};

/* The MLP and LeNet-5 as specs. LeNet's C1 and C3 apply the activation after the pool:
 * max-pooling commutes with these monotonic functions, so the values and gradients are
 * those of conv -> act -> pool at a quarter of the cost; the names keep the checkpoints'. */
void gt__model_config_spec(const gt_model_config *c, char *buf, size_t size) {
    const char *act = activation_layers[c->act];
    if (c->kind == GT_MODEL_LENET) {
        snprintf(buf, size,
                 "c1=Conv2d(6, 5, padding=2) MaxPool2d(2) %s c3=Conv2d(16, 5) MaxPool2d(2) %s "
                 "c5=Conv2d(120, 5) %s Flatten f6=Linear(84) Tanh out=Linear(%d)",
                 act, act, act, c->classes);
        return;
    }
    size_t used = (size_t)snprintf(buf, size, "Flatten");
    for (int i = 1; i < c->n_sizes && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, " fc%d=Linear(%d)%s%s", i,
                                 c->sizes[i], i + 1 < c->n_sizes ? " " : "",
                                 i + 1 < c->n_sizes ? act : "");
}

bool gt__model_alias_spec(const char *spec, char *buf, size_t size) {
    gt_model_config c = {.kind = GT_MODEL_MLP, .act = GT_ACT_RELU, .n_sizes = 3,
                         .sizes = {784, 100, 10}, .classes = 10};
    if (!strcmp(spec, "cnn")) {
        snprintf(buf, size, "%s", GT_MODEL_CNN_SPEC);
        return true;
    }
    if (!strcmp(spec, "lenet"))
        c = (gt_model_config){.kind = GT_MODEL_LENET, .act = GT_ACT_TANH, .classes = 10};
    else if (strcmp(spec, "mlp"))
        return false;
    gt__model_config_spec(&c, buf, size);
    return true;
}

/* Counts (first pass) or lays out and initialises (second pass) every tensor. */
typedef struct layout {
    gt_model *m;
    bool place;
    int64_t offset, buffer_offset;
    gt_rng rng;
} layout;

static void init_tensor(gt_tensor *t, const gt__module_tensor *d, gt_rng *rng) {
    switch (d->init) {
    case GT_INIT_KAIMING_UNIFORM: gt_init_kaiming_uniform(t, sqrt(5.0), rng); break;
    case GT_INIT_FAN_IN_UNIFORM: gt_init_bias_uniform(t, d->fan_in, rng); break;
    case GT_INIT_ONES:
        for (int64_t i = 0; i < gt_tensor_numel(t); i++)
            gt_tensor_data(t)[i] = 1;
        break;
    case GT_INIT_ZEROS: break; /* the blocks start zeroed */
    case GT_INIT_NORMAL:
        for (int64_t i = 0; i < gt_tensor_numel(t); i++)
            gt_tensor_data(t)[i] = (gt_real)gt_rng_normal(rng);
        break;
    }
}

static gt_status layout_tensor(void *ctx, const char *name, gt__module_tensor *d,
                               bool is_param) {
    layout *l = ctx;
    gt_model *m = l->m;
    int64_t numel = gt_shape_numel(d->ndim, d->shape);
    if (strlen(name) >= MODEL_NAME_SIZE)
        return gt_set_error(GT_ERR_ARG, "model: the name '%.60s...' is longer than %d bytes",
                            name, MODEL_NAME_SIZE - 1);
    if (!l->place) {
        if (is_param) {
            m->n_params++;
            m->numel += numel;
        } else {
            m->n_buffers++;
            m->buffer_numel += numel;
        }
        return m->numel + m->buffer_numel > ((int64_t)1 << 40)
                   ? gt_set_error(GT_ERR_ARG, "model: more than 2^40 parameters")
                   : GT_OK;
    }
    gt_tensor *t;
    if (is_param) {
        t = gt_tensor_wrap(d->ndim, d->shape, m->data + l->offset, m->grad + l->offset);
        if (!t)
            return gt_last_status();
        snprintf(m->param_names[m->n_params], MODEL_NAME_SIZE, "%s", name);
        m->params[m->n_params++] = t;
        l->offset += numel;
    } else {
        t = gt_tensor_wrap(d->ndim, d->shape, m->buffer_data + l->buffer_offset, NULL);
        if (!t)
            return gt_last_status();
        snprintf(m->buffer_names[m->n_buffers], MODEL_NAME_SIZE, "%s", name);
        m->buffers[m->n_buffers++] = t;
        l->buffer_offset += numel;
    }
    d->tensor = t;
    init_tensor(t, d, &l->rng);
    return GT_OK;
}

static int64_t tree_flops(const gt_module *m) {
    int64_t flops = gt_module_flops(m);
    for (int i = 0; i < gt_module_child_count(m); i++)
        flops += tree_flops(gt_module_child(m, i));
    return flops;
}

static bool starts_with_flatten(const gt_module *m) {
    while (m && !strcmp(gt_module_type(m), "Sequential"))
        m = gt_module_child(m, 0);
    return m && !strcmp(gt_module_type(m), "Flatten");
}

gt_model *gt_model_from_module(gt_module *root, int in_ndim, const int64_t *in_shape,
                               uint64_t seed) {
    if (!root || in_ndim < 0 || in_ndim > GT_MAX_DIMS - 1 || (in_ndim && !in_shape)) {
        gt_module_free(root);
        gt_set_error(GT_ERR_ARG, "model_from_module: needs a module and the shape of one input "
                     "sample (rank 0..%d)", GT_MAX_DIMS - 1);
        return NULL;
    }
    gt_model *m = gt_calloc(1, sizeof *m, "model");
    if (!m) {
        gt_module_free(root);
        return NULL;
    }
    m->root = root;
    m->label = "model";
    m->training = true;
    m->config.kind = GT_MODEL_SPEC;
    m->input.ndim = in_ndim;
    for (int d = 0; d < in_ndim; d++)
        m->input.dims[d] = in_shape[d];
    for (int d = 0; d < in_ndim; d++)
        if (in_shape[d] < 1) {
            gt_set_error(GT_ERR_SHAPE, "model: input size %lld in dim %d", (long long)in_shape[d],
                         d);
            gt_model_free(m);
            return NULL;
        }
    gt_sample_shape out;
    layout l = {.m = m};
    if (gt_module_build(root, &m->input, &out) != GT_OK ||
        gt__module_visit(root, "", layout_tensor, &l) != GT_OK) {
        gt_model_free(m);
        return NULL;
    }
    if (out.ndim == 1)
        m->config.classes = out.dims[0] > INT32_MAX ? INT32_MAX : (int)out.dims[0];
    int n_params = m->n_params, n_buffers = m->n_buffers;
    m->params = gt_calloc((size_t)n_params + 1, sizeof *m->params, "model parameters");
    m->param_names = gt_calloc((size_t)n_params + 1, sizeof *m->param_names, "model names");
    m->buffers = gt_calloc((size_t)n_buffers + 1, sizeof *m->buffers, "model buffers");
    m->buffer_names = gt_calloc((size_t)n_buffers + 1, sizeof *m->buffer_names, "model names");
    m->data = gt__calloc_aligned((size_t)m->numel + 1, sizeof(gt_real), "model parameters");
    m->grad = gt__calloc_aligned((size_t)m->numel + 1, sizeof(gt_real), "model gradients");
    m->buffer_data = gt__calloc_aligned((size_t)m->buffer_numel + 1, sizeof(gt_real),
                                        "model buffers");
    m->n_params = m->n_buffers = 0; /* counted again as they are laid out */
    if (!m->params || !m->param_names || !m->buffers || !m->buffer_names || !m->data ||
        !m->grad || !m->buffer_data) {
        gt_model_free(m);
        return NULL;
    }
    l.place = true;
    gt_rng_seed(&l.rng, seed);
    if (gt__module_visit(root, "", layout_tensor, &l) != GT_OK) {
        gt_model_free(m);
        return NULL;
    }
    m->rng = l.rng; /* continues after the initialisation's draws */
    gt__module_set_rng(root, &m->rng);
    m->flops = tree_flops(root);
    m->first_flattens = starts_with_flatten(root);
    return m;
}

static char *copy_text(const char *text) {
    char *copy = gt_malloc(strlen(text) + 1, "model spec");
    if (copy)
        strcpy(copy, text);
    return copy;
}

gt_model *gt_model_from_spec(const char *spec, int in_ndim, const int64_t *in_shape,
                             uint64_t seed) {
    gt_module *root = gt_spec_parse(spec);
    if (!root)
        return NULL;
    gt_model *m = gt_model_from_module(root, in_ndim, in_shape, seed);
    if (m && !(m->spec = copy_text(spec))) {
        gt_model_free(m);
        return NULL;
    }
    return m;
}

gt_model *gt_model_new(const gt_model_config *config, uint64_t seed) {
    if (!config) {
        gt_set_error(GT_ERR_ARG, "model: config is NULL");
        return NULL;
    }
    if (check_config(config) != GT_OK)
        return NULL;
    char spec[64 + GT_MLP_MAX_SIZES * 40];
    gt__model_config_spec(config, spec, sizeof spec);
    gt_model *m = config->kind == GT_MODEL_LENET
                      ? gt_model_from_spec(spec, 3, (int64_t[]){1, 28, 28}, seed)
                      : gt_model_from_spec(spec, 1, (int64_t[]){config->sizes[0]}, seed);
    if (!m)
        return NULL;
    m->config = *config;
    if (config->kind == GT_MODEL_MLP)
        m->config.classes = config->sizes[config->n_sizes - 1];
    m->label = gt_model_kind_name(config->kind);
    return m;
}

gt_model *gt_mlp_new(const int *sizes, int n_sizes, gt_activation act, uint64_t seed) {
    gt_model_config config = {.kind = GT_MODEL_MLP, .act = act, .n_sizes = n_sizes};
    if (!sizes || n_sizes < 2 || n_sizes > GT_MLP_MAX_SIZES) {
        gt_set_error(GT_ERR_ARG, "mlp: needs 2..%d layer sizes (input ... output), got %d",
                     GT_MLP_MAX_SIZES, sizes ? n_sizes : 0);
        return NULL;
    }
    memcpy(config.sizes, sizes, (size_t)n_sizes * sizeof *sizes);
    return gt_model_new(&config, seed);
}

gt_model *gt_lenet_new(gt_activation act, int classes, uint64_t seed) {
    return gt_model_new(&(gt_model_config){.kind = GT_MODEL_LENET, .act = act, .classes = classes},
                        seed);
}

void gt_model_free(gt_model *model) {
    if (!model)
        return;
    /* a model whose build failed may have counted tensors it never got arrays for */
    for (int i = 0; model->params && i < model->n_params; i++)
        gt_tensor_free(model->params[i]);
    for (int i = 0; model->buffers && i < model->n_buffers; i++)
        gt_tensor_free(model->buffers[i]);
    gt_free(model->params);
    gt_free(model->param_names);
    gt_free(model->buffers);
    gt_free(model->buffer_names);
    gt__free_aligned(model->data);
    gt__free_aligned(model->grad);
    gt__free_aligned(model->buffer_data);
    gt_module_free(model->root);
    gt_free(model->spec);
    gt_free(model);
}

const gt_model_config *gt_model_get_config(const gt_model *model) {
    return model ? &model->config : NULL;
}

const char *gt_model_kind_name(gt_model_kind kind) {
    return kind == GT_MODEL_MLP     ? "mlp"
           : kind == GT_MODEL_LENET ? "lenet"
           : kind == GT_MODEL_SPEC  ? "module"
                                    : "?";
}

const char *gt_model_spec(const gt_model *model) { return model ? model->spec : NULL; }

gt_module *gt_model_module(gt_model *model) { return model ? model->root : NULL; }

const gt_sample_shape *gt_model_input_shape(const gt_model *model) {
    return model ? &model->input : NULL;
}

const char *gt_model_describe(const gt_model *model, char *buf, size_t size) {
    if (!buf || !size)
        return buf;
    if (!model) {
        snprintf(buf, size, "(no model)");
        return buf;
    }
    const gt_model_config *c = &model->config;
    int used;
    if (c->kind == GT_MODEL_LENET) {
        used = snprintf(buf, size, "lenet(act=%s, classes=%d)", gt_activation_name(c->act),
                        c->classes);
    } else if (c->kind == GT_MODEL_MLP) {
        used = snprintf(buf, size, "mlp(");
        for (int i = 0; i < c->n_sizes && used >= 0 && (size_t)used < size; i++)
            used += snprintf(buf + used, size - (size_t)used, "%s%d", i ? "-" : "", c->sizes[i]);
        if (used >= 0 && (size_t)used < size)
            used += snprintf(buf + used, size - (size_t)used, ", act=%s)",
                             gt_activation_name(c->act));
    } else {
        used = snprintf(buf, size, "%s", model->spec ? model->spec : gt_module_type(model->root));
        if (used >= 0 && (size_t)used >= size && size > 4) /* "...": too long to show whole */
            used = (int)(size - 4) + snprintf(buf + size - 4, 4, "...");
    }
    if (used >= 0 && (size_t)used < size)
        snprintf(buf + used, size - (size_t)used, ": %lld parameters", (long long)model->numel);
    return buf;
}

/* x must be [N, input...], or N samples of as many values when the first layer flattens. */
static bool input_fits(const gt_model *m, const gt_tensor *x) {
    int ndim = gt_tensor_ndim(x);
    if (ndim < 1 || gt_tensor_dim(x, 0) < 1)
        return false;
    if (m->first_flattens)
        return ndim >= 2 &&
               gt_tensor_numel(x) / gt_tensor_dim(x, 0) == gt_shape_numel(m->input.ndim,
                                                                          m->input.dims);
    return gt_shape_equal(ndim - 1, gt_tensor_shape(x) + 1, m->input.ndim, m->input.dims);
}

static void input_error(const gt_model *m, const gt_tensor *x) {
    char got[96], want[96] = "";
    gt_shape_str(gt_tensor_ndim(x), gt_tensor_shape(x), got, sizeof got);
    int64_t values = gt_shape_numel(m->input.ndim, m->input.dims);
    if (m->first_flattens) {
        gt_set_error(GT_ERR_SHAPE, "%s: expects x[N, %lld] (or N samples of %lld values), got %s",
                     m->label, (long long)values, (long long)values, got);
        return;
    }
    for (int d = 0; d < m->input.ndim; d++)
        snprintf(want + strlen(want), sizeof want - strlen(want), ",%lld",
                 (long long)m->input.dims[d]);
    gt_set_error(GT_ERR_SHAPE, "%s: expects x[N%s], got %s", m->label, want, got);
}

gt_tensor *gt_model_forward(gt_tape *tape, gt_model *model, gt_tensor *x) {
    if (!x && gt_last_status() != GT_OK)
        return NULL; /* an earlier op failed: its message, naming the cause, stays */
    if (!model || !tape || !x) {
        gt_set_error(GT_ERR_ARG, "model_forward: %s is NULL",
                     !model ? "the model" : !tape ? "the tape" : "the input");
        return NULL;
    }
    if (!input_fits(model, x)) {
        input_error(model, x);
        return NULL;
    }
    return gt_module_forward(model->root, tape, x);
}

void gt_model_train(gt_model *model, bool training) {
    if (model) {
        model->training = training;
        gt__module_set_training(model->root, training);
    }
}

bool gt_model_is_training(const gt_model *model) { return model && model->training; }

int gt_model_param_count(const gt_model *model) { return model ? model->n_params : 0; }

gt_tensor *const *gt_model_params(gt_model *model) { return model ? model->params : NULL; }

const char *gt_model_param_name(const gt_model *model, int i) {
    return model && i >= 0 && i < model->n_params ? model->param_names[i] : NULL;
}

int gt_model_buffer_count(const gt_model *model) { return model ? model->n_buffers : 0; }

gt_tensor *const *gt_model_buffers(gt_model *model) { return model ? model->buffers : NULL; }

const char *gt_model_buffer_name(const gt_model *model, int i) {
    return model && i >= 0 && i < model->n_buffers ? model->buffer_names[i] : NULL;
}

int64_t gt_model_numel(const gt_model *model) { return model ? model->numel : 0; }

gt_real *gt_model_data(gt_model *model) { return model ? model->data : NULL; }

gt_real *gt_model_grad(gt_model *model) {
    for (int i = 0; model && i < model->n_params; i++)
        gt__grad_fresh(model->params[i]); /* a zero_grad's stale gradients, as zeros */
    return model ? model->grad : NULL;
}

void gt_model_zero_grad(gt_model *model) {
    for (int i = 0; model && i < model->n_params; i++)
        gt_tensor_zero_grad(model->params[i]);
}

int64_t gt_model_flops(const gt_model *model) { return model ? model->flops : 0; }

/* ---- the per-layer summary -------------------------------------------------------------------- */

static void summary_rows(FILE *out, const gt_module *m, const char *prefix, int depth) {
    for (int i = 0; i < gt_module_child_count(m); i++) {
        const gt_module *c = gt_module_child(m, i);
        char name[128], layer[200], shape[96], full[160];
        snprintf(name, sizeof name, "%.90s%.31s", prefix, gt_module_name(c));
        snprintf(full, sizeof full, "[N, ");
        gt__sample_shape_str(gt_module_out_shape(c), shape, sizeof shape);
        snprintf(full + 4, sizeof full - 4, "%s", shape + 1); /* "[N, " + "6, 28, 28]" */
        gt_module_describe(c, layer, sizeof layer);
        bool container = gt_module_child_count(c) > 0;
        fprintf(out, "%*s%-*s %-64.64s %-20s %12lld %14lld\n", 2 * depth, "", 12 - 2 * depth,
                name, layer, full, container ? 0LL : (long long)gt_module_param_numel(c),
                container ? 0LL : (long long)gt_module_flops(c));
        if (container) {
            char inner[128];
            snprintf(inner, sizeof inner, "%.120s.", name);
            summary_rows(out, c, inner, depth + 1);
        }
    }
}

gt_status gt_model_summary(const gt_model *model, FILE *out) {
    if (!model || !out)
        return gt_set_error(GT_ERR_ARG, "model_summary: %s is NULL", model ? "out" : "the model");
    char input[96];
    fprintf(out, "%-12s %-64s %-20s %12s %14s\n", "name", "layer", "output shape", "parameters",
            "multiply-adds");
    fprintf(out, "%-12s %-64s [N, %-16s %12s %14s\n", "", "(input)",
            gt__sample_shape_str(&model->input, input, sizeof input) + 1, "", "");
    summary_rows(out, model->root, "", 0);
    fprintf(out, "total: %lld parameters, %lld buffer values, %lld multiply-adds per sample "
            "forward\n", (long long)model->numel, (long long)model->buffer_numel,
            (long long)model->flops);
    return ferror(out) ? gt_set_error(GT_ERR_IO, "model_summary: cannot write") : GT_OK;
}

/* ---- accuracy and evaluation ---------------------------------------------------------------- */

// logits[N,K], labels[N] -> rows whose first largest logit is at the label
int64_t gt_count_correct(const gt_tensor *logits, const gt_tensor *labels) {
    if (gt_tensor_ndim(logits) != 2 || gt_tensor_ndim(labels) != 1 ||
        gt_tensor_dim(labels, 0) != gt_tensor_dim(logits, 0))
        return 0;
    int64_t n = gt_tensor_dim(logits, 0), k = gt_tensor_dim(logits, 1), correct = 0;
    const gt_real *z = gt_tensor_cdata(logits), *y = gt_tensor_cdata(labels);
    for (int64_t i = 0; i < n; i++) {
        const gt_real *row = z + i * k;
        int64_t best = 0;
        for (int64_t j = 1; j < k; j++)
            if (row[j] > row[best])
                best = j;
        correct += (gt_real)best == y[i];
    }
    return correct;
}

gt_status gt_model_evaluate(gt_model *model, gt_tape *tape, const gt_dataset *data,
                            int64_t batch_size, int64_t limit, gt_eval_result *result) {
    if (!result || !model || !tape)
        return gt_set_error(GT_ERR_ARG, "evaluate: %s is NULL",
                            !result ? "result" : !model ? "the model" : "the tape");
    *result = (gt_eval_result){0};
    gt_loader loader;
    gt_status status = gt_loader_init(&loader, data, batch_size, false, 0, limit);
    if (status != GT_OK)
        return status;
    bool was = gt_tape_set_grad_enabled(tape, false);
    bool training = gt_model_is_training(model);
    gt_model_train(model, false); /* dropout off, batch norm on its running statistics */
    double loss_sum = 0;
    int64_t correct = 0;
    gt_batch batch;
    gt_loader_start_epoch(&loader);
    while (gt_loader_next(&loader, &batch)) {
        gt_tensor *logits = gt_model_forward(tape, model, batch.x);
        gt_tensor *loss = gt_cross_entropy(tape, logits, batch.y);
        if (!loss) {
            status = gt_last_status();
            break;
        }
        loss_sum += gt_tensor_item(loss, 0) * (double)batch.size;
        correct += gt_count_correct(logits, batch.y);
        result->count += batch.size;
        gt_tape_reset(tape);
    }
    gt_tape_reset(tape);
    gt_tape_set_grad_enabled(tape, was);
    gt_model_train(model, training);
    gt_loader_free(&loader);
    if (status == GT_OK && result->count > 0) {
        result->loss = loss_sum / (double)result->count;
        result->accuracy = (double)correct / (double)result->count;
    }
    return status;
}
