/* nn.c - activations, PyTorch's initialisation, the MLP and LeNet-5 over one parameter
 * block, accuracy and evaluation. Built only from the public ops of gt_ops.h. */
#include "gt_nn.h"
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

/* ---- models ------------------------------------------------------------------------------ */

#define MODEL_MAX_PARAMS (2 * (GT_MLP_MAX_SIZES - 1))
#define MODEL_MAX_SIZE (1 << 24) /* features of one layer */
#define MODEL_NAME_SIZE 24

/* What a parameter is before the block exists. */
typedef struct param_spec {
    char name[MODEL_NAME_SIZE];
    int ndim;
    int64_t shape[4];
} param_spec;

struct gt_model {
    gt_model_config config;
    int n_params;
    gt_tensor *params[MODEL_MAX_PARAMS];
    char names[MODEL_MAX_PARAMS][MODEL_NAME_SIZE];
    int64_t numel;
    gt_real *data; /* every parameter, in layer order */
    gt_real *grad; /* their gradients, in the same order */
    int64_t flops;
};

/* A layer's weight and bias: "<layer>.weight" [out, in...] and "<layer>.bias" [out]. */
static void add_layer(param_spec *specs, int *n, const char *layer, int ndim,
                      const int64_t *shape) {
    param_spec *w = &specs[(*n)++], *b = &specs[(*n)++];
    snprintf(w->name, sizeof w->name, "%s.weight", layer);
    snprintf(b->name, sizeof b->name, "%s.bias", layer);
    w->ndim = ndim;
    memcpy(w->shape, shape, (size_t)ndim * sizeof *shape);
    b->ndim = 1;
    b->shape[0] = shape[0];
}

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

static int model_specs(const gt_model_config *c, param_spec *specs, int64_t *flops) {
    int n = 0;
    if (c->kind == GT_MODEL_LENET) {
        add_layer(specs, &n, "c1", 4, (int64_t[]){6, 1, 5, 5});
        add_layer(specs, &n, "c3", 4, (int64_t[]){16, 6, 5, 5});
        add_layer(specs, &n, "c5", 4, (int64_t[]){120, 16, 5, 5});
        add_layer(specs, &n, "f6", 2, (int64_t[]){84, 120});
        add_layer(specs, &n, "out", 2, (int64_t[]){c->classes, 84});
        *flops = 6 * 25 * 28 * 28 + 16 * 150 * 10 * 10 + 120 * 400 + 84 * 120 +
                 (int64_t)c->classes * 84;
        return n;
    }
    *flops = 0;
    for (int i = 0; i + 1 < c->n_sizes; i++) {
        char layer[16];
        snprintf(layer, sizeof layer, "fc%d", i + 1);
        add_layer(specs, &n, layer, 2, (int64_t[]){c->sizes[i + 1], c->sizes[i]});
        *flops += (int64_t)c->sizes[i] * c->sizes[i + 1];
    }
    return n;
}

gt_model *gt_model_new(const gt_model_config *config, uint64_t seed) {
    if (!config) {
        gt_set_error(GT_ERR_ARG, "model: config is NULL");
        return NULL;
    }
    if (check_config(config) != GT_OK)
        return NULL;
    gt_model *m = gt_calloc(1, sizeof *m, "model");
    if (!m)
        return NULL;
    m->config = *config;
    if (config->kind == GT_MODEL_MLP)
        m->config.classes = config->sizes[config->n_sizes - 1];
    param_spec specs[MODEL_MAX_PARAMS];
    m->n_params = model_specs(&m->config, specs, &m->flops);
    for (int i = 0; i < m->n_params; i++)
        m->numel += gt_shape_numel(specs[i].ndim, specs[i].shape); /* < 2^53: sizes <= 2^24 */
    m->data = gt__calloc_aligned((size_t)m->numel, sizeof(gt_real), "model parameters");
    m->grad = gt__calloc_aligned((size_t)m->numel, sizeof(gt_real), "model gradients");
    if (!m->data || !m->grad) {
        gt_model_free(m);
        return NULL;
    }
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    int64_t offset = 0;
    for (int i = 0; i < m->n_params; i++) {
        param_spec *s = &specs[i];
        m->params[i] = gt_tensor_wrap(s->ndim, s->shape, m->data + offset, m->grad + offset);
        if (!m->params[i]) {
            m->n_params = i;
            gt_model_free(m);
            return NULL;
        }
        memcpy(m->names[i], s->name, sizeof s->name);
        offset += gt_tensor_numel(m->params[i]);
        /* weight then bias: the bias's fan-in is its weight's */
        if (i % 2 == 0)
            gt_init_kaiming_uniform(m->params[i], sqrt(5.0), &rng);
        else
            gt_init_bias_uniform(m->params[i],
                                 gt_tensor_numel(m->params[i - 1]) / gt_tensor_dim(m->params[i], 0),
                                 &rng);
    }
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
    for (int i = 0; i < model->n_params; i++)
        gt_tensor_free(model->params[i]);
    gt__free_aligned(model->data);
    gt__free_aligned(model->grad);
    gt_free(model);
}

const gt_model_config *gt_model_get_config(const gt_model *model) {
    return model ? &model->config : NULL;
}

const char *gt_model_kind_name(gt_model_kind kind) {
    return kind == GT_MODEL_MLP ? "mlp" : kind == GT_MODEL_LENET ? "lenet" : "?";
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
    } else {
        used = snprintf(buf, size, "mlp(");
        for (int i = 0; i < c->n_sizes && used >= 0 && (size_t)used < size; i++)
            used += snprintf(buf + used, size - (size_t)used, "%s%d", i ? "-" : "", c->sizes[i]);
        if (used >= 0 && (size_t)used < size)
            used += snprintf(buf + used, size - (size_t)used, ", act=%s)",
                             gt_activation_name(c->act));
    }
    if (used >= 0 && (size_t)used < size)
        snprintf(buf + used, size - (size_t)used, ": %lld parameters", (long long)model->numel);
    return buf;
}

static gt_tensor *mlp_forward(gt_tape *tape, gt_model *m, gt_tensor *x) {
    const gt_model_config *c = &m->config;
    char shape[96];
    if (gt_tensor_ndim(x) < 2 || gt_tensor_dim(x, 0) < 1 ||
        gt_tensor_numel(x) / gt_tensor_dim(x, 0) != c->sizes[0]) {
        gt_set_error(GT_ERR_SHAPE, "mlp: expects x[N, %d] (or N samples of %d values), got %s",
                     c->sizes[0], c->sizes[0],
                     gt_shape_str(gt_tensor_ndim(x), gt_tensor_shape(x), shape, sizeof shape));
        return NULL;
    }
    gt_tensor *h = gt_tensor_ndim(x) == 2 ? x : gt_flatten(tape, x, 1);
    for (int layer = 0; layer + 1 < c->n_sizes; layer++) {
        h = gt_linear(tape, h, m->params[2 * layer], m->params[2 * layer + 1]);
        if (layer + 2 < c->n_sizes)
            h = gt_activate(tape, h, c->act);
    }
    return h;
}

static gt_tensor *lenet_forward(gt_tape *tape, gt_model *m, gt_tensor *x) {
    gt_activation act = m->config.act;
    gt_tensor *const *p = m->params;
    char shape[96];
    if (gt_tensor_ndim(x) != 4 || gt_tensor_dim(x, 0) < 1 || gt_tensor_dim(x, 1) != 1 ||
        gt_tensor_dim(x, 2) != 28 || gt_tensor_dim(x, 3) != 28) {
        gt_set_error(GT_ERR_SHAPE, "lenet: expects x[N,1,28,28], got %s",
                     gt_shape_str(gt_tensor_ndim(x), gt_tensor_shape(x), shape, sizeof shape));
        return NULL;
    }
    gt_tensor *h = gt_conv2d(tape, x, p[0], p[1], 1, 2);            /* C1 [N,6,28,28] */
    h = gt_activate(tape, gt_maxpool2d(tape, h, 2, 2), act);         /* S2 [N,6,14,14] */
    h = gt_conv2d(tape, h, p[2], p[3], 1, 0);                        /* C3 [N,16,10,10] */
    h = gt_activate(tape, gt_maxpool2d(tape, h, 2, 2), act);         /* S4 [N,16,5,5] */
    h = gt_activate(tape, gt_conv2d(tape, h, p[4], p[5], 1, 0), act); /* C5 [N,120,1,1] */
    h = gt_tanh(tape, gt_linear(tape, gt_flatten(tape, h, 1), p[6], p[7])); /* F6 [N,84] */
    return gt_linear(tape, h, p[8], p[9]);                          /* [N,classes] */
}

gt_tensor *gt_model_forward(gt_tape *tape, gt_model *model, gt_tensor *x) {
    if (!x && gt_last_status() != GT_OK)
        return NULL; /* an earlier op failed: its message, naming the cause, stays */
    if (!model || !tape || !x) {
        gt_set_error(GT_ERR_ARG, "model_forward: %s is NULL",
                     !model ? "the model" : !tape ? "the tape" : "the input");
        return NULL;
    }
    return model->config.kind == GT_MODEL_LENET ? lenet_forward(tape, model, x)
                                                : mlp_forward(tape, model, x);
}

int gt_model_param_count(const gt_model *model) { return model ? model->n_params : 0; }

gt_tensor *const *gt_model_params(gt_model *model) { return model ? model->params : NULL; }

const char *gt_model_param_name(const gt_model *model, int i) {
    return model && i >= 0 && i < model->n_params ? model->names[i] : NULL;
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
    gt_loader_free(&loader);
    if (status == GT_OK && result->count > 0) {
        result->loss = loss_sum / (double)result->count;
        result->accuracy = (double)correct / (double)result->count;
    }
    return status;
}
