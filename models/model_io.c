/* model_io.c - models (and their optimizer's state) in checkpoints: kind "mlp" or "lenet"
 * (the configuration as integer entries), or "module" (the spec as the text entry "spec",
 * input.ndim and input.<d>, the shape of one sample); parameters and buffers by their
 * state_dict names. The file format and its
 * guarantees are those of gt_checkpoint_save/load (docs/checkpoint.md):
 *   mlp:   act, layers (number of sizes), size0 .. size<layers-1>
 *   lenet: act, classes
 *   with an optimizer: optimizer (1 sgd, 2 adam, 3 adamw), optimizer.steps, and the tensors
 *   optimizer.momentum_buffer.<i> (sgd with momentum) or optimizer.exp_avg.<i> and
 *   optimizer.exp_avg_sq.<i> (adam, adamw), i counting the optimizer's parameters. */
#include "gt_module.h"
#include "gt_nn_impl.h"
#include "gt_npz.h"

#include <limits.h>
#include <string.h>

#define IO_KEY_SIZE 24
#define IO_MAX_MODEL_CONFIG (2 + GT_MLP_MAX_SIZES)

typedef struct model_entries {
    int n_config;
    gt_ckpt_config config[IO_MAX_MODEL_CONFIG];
    char keys[IO_MAX_MODEL_CONFIG][IO_KEY_SIZE];
} model_entries;

static void describe_config(const gt_model_config *c, model_entries *e) {
    int n = 0;
    e->config[n++] = (gt_ckpt_config){"act", c->act};
    if (c->kind == GT_MODEL_LENET) {
        e->config[n++] = (gt_ckpt_config){"classes", c->classes};
    } else {
        e->config[n++] = (gt_ckpt_config){"layers", c->n_sizes};
        for (int i = 0; i < c->n_sizes; i++, n++) {
            snprintf(e->keys[n], IO_KEY_SIZE, "size%d", i);
            e->config[n] = (gt_ckpt_config){e->keys[n], c->sizes[i]};
        }
    }
    e->n_config = n;
}

static void param_entries(const gt_model *model, gt_ckpt_entry *entries) {
    gt_tensor *const *params = gt_model_params((gt_model *)model);
    for (int i = 0; i < gt_model_param_count(model); i++)
        entries[i] = (gt_ckpt_entry){gt_model_param_name(model, i), params[i]};
}

/* Room for every optimizer state tensor: no optimizer keeps more than 4 per parameter. */
#define IO_STATE_PER_PARAM 4
#define IO_MAX_SPEC 65536 /* bytes of a spec (the checkpoint's limit for a text) */
#define IO_MAX_INPUT_DIMS (GT_MAX_DIMS - 1)

/* A spec model's configuration: input.ndim and input.<d> for each dimension of a sample. */
static int describe_input(const gt_model *model, model_entries *e) {
    const gt_sample_shape *in = gt_model_input_shape(model);
    int n = 0;
    e->config[n++] = (gt_ckpt_config){"input.ndim", in->ndim};
    for (int d = 0; d < in->ndim; d++, n++) {
        snprintf(e->keys[n], IO_KEY_SIZE, "input.%d", d);
        e->config[n] = (gt_ckpt_config){e->keys[n], in->dims[d]};
    }
    return e->n_config = n;
}

/* Parameters then buffers, by state_dict name; returns their number. */
static int state_entries(const gt_model *model, gt_ckpt_entry *entries) {
    gt_model *m = (gt_model *)model;
    int n = gt_model_param_count(model);
    param_entries(model, entries);
    for (int i = 0; i < gt_model_buffer_count(model); i++)
        entries[n + i] = (gt_ckpt_entry){gt_model_buffer_name(model, i), gt_model_buffers(m)[i]};
    return n + gt_model_buffer_count(model);
}

gt_status gt_model_save(const gt_model *model, const gt_optimizer *opt,
                        const gt_ckpt_config *extra, int n_extra, const char *path) {
    if (!model || !path || n_extra < 0 || (n_extra && !extra))
        return gt_set_error(GT_ERR_ARG, "model_save: needs a model, a path and, with n_extra "
                            "> 0, the extra entries");
    const gt_model_config *c = gt_model_get_config(model);
    int n_params = gt_model_param_count(model);
    if (opt && !gt__optimizer_is_over(opt, gt_model_params((gt_model *)model), n_params))
        return gt_set_error(GT_ERR_ARG, "%s: the optimizer is not over this model's "
                            "parameters", path);
    model_entries me;
    if (c->kind == GT_MODEL_SPEC)
        describe_input(model, &me);
    else
        describe_config(c, &me);
    int n_config = me.n_config + (opt ? 2 : 0) + n_extra;
    int max_state = IO_STATE_PER_PARAM * n_params;
    int max_entries = n_params + gt_model_buffer_count(model) + max_state;
    gt_ckpt_config *config = gt_calloc((size_t)n_config, sizeof *config, "model_save");
    gt_ckpt_entry *entries = gt_calloc((size_t)max_entries + 1, sizeof *entries, "model_save");
    char(*state_names)[GT__STATE_NAME_SIZE] =
        gt_calloc((size_t)max_state + 1, sizeof *state_names, "model_save");
    gt_status st = GT_OK;
    if (!config || !entries || !state_names)
        st = gt_last_status();
    int k = me.n_config, n_entries = 0;
    if (st == GT_OK) {
        memcpy(config, me.config, (size_t)me.n_config * sizeof *config);
        n_entries = state_entries(model, entries);
    }
    if (st == GT_OK && opt) {
        config[k++] = (gt_ckpt_config){"optimizer", gt_optimizer_get_kind(opt)};
        config[k++] = (gt_ckpt_config){"optimizer.steps", gt_optimizer_steps(opt)};
        int n_state = gt__optimizer_state_entries(opt, entries + n_entries, state_names,
                                                  max_state);
        if (n_state < 0)
            st = gt_set_error(GT_ERR_ARG, "%s: the optimizer has more state than %d tensors "
                              "per parameter", path, IO_STATE_PER_PARAM);
        else
            n_entries += n_state;
    }
    if (st == GT_OK) {
        if (n_extra)
            memcpy(config + k, extra, (size_t)n_extra * sizeof *config);
        const char *spec = gt_model_spec(model);
        gt_ckpt_text text = {"spec", spec};
        st = gt_checkpoint_save_texts(path, gt_model_kind_name(c->kind), config, n_config, &text,
                                      c->kind == GT_MODEL_SPEC && spec ? 1 : 0, entries,
                                      n_entries);
    }
    gt_free(config);
    gt_free(entries);
    gt_free(state_names);
    return st;
}

/* What a checkpoint says of itself: its kind and every config entry. */
typedef struct peeked {
    char kind[256];
    gt_ckpt_config *config;
    int n;
    char *storage; /* the keys */
} peeked;

static void peeked_free(peeked *p) {
    gt_free(p->config);
    gt_free(p->storage);
    p->config = NULL;
    p->storage = NULL;
}

static gt_status peek_all(const char *path, peeked *p) {
    memset(p, 0, sizeof *p);
    gt_status st = gt_checkpoint_peek(path, p->kind, sizeof p->kind, NULL, 0, &p->n, NULL, 0);
    if (st != GT_OK)
        return st;
    size_t storage_size = (size_t)p->n * 256 + 1; /* keys are at most 255 bytes */
    p->config = gt_calloc((size_t)p->n + 1, sizeof *p->config, "checkpoint");
    p->storage = gt_malloc(storage_size, "checkpoint");
    if (p->config && p->storage)
        st = gt_checkpoint_peek(path, p->kind, sizeof p->kind, p->config, p->n, &p->n,
                                p->storage, storage_size);
    else
        st = GT_ERR_NOMEM;
    if (st != GT_OK)
        peeked_free(p);
    return st;
}

static bool find_key(const gt_ckpt_config *config, int n, const char *key, int64_t *value) {
    for (int i = 0; i < n; i++)
        if (!strcmp(config[i].key, key)) {
            *value = config[i].value;
            return true;
        }
    return false;
}

gt_status gt_checkpoint_get(const char *path, const char *key, int64_t *value) {
    if (!path || !key || !value)
        return gt_set_error(GT_ERR_ARG, "checkpoint_get: needs a path, a key and a value");
    peeked p;
    gt_status st = peek_all(path, &p);
    if (st == GT_OK && !find_key(p.config, p.n, key, value))
        st = gt_set_error(GT_ERR_FORMAT, "%s: this %s checkpoint has no \"%s\" entry", path,
                          p.kind, key);
    peeked_free(&p);
    return st;
}

/* An entry of a model's configuration that must exist and fit in [low, high]. */
static gt_status config_int(const char *path, const char *kind, const gt_ckpt_config *config,
                            int n, const char *key, int64_t low, int64_t high, int *out) {
    int64_t value;
    if (!find_key(config, n, key, &value))
        return gt_set_error(GT_ERR_FORMAT, "%s: this %s checkpoint has no \"%s\" entry", path,
                            kind, key);
    if (value < low || value > high)
        return gt_set_error(GT_ERR_FORMAT, "%s: \"%s\" is %lld, expected %lld..%lld", path, key,
                            (long long)value, (long long)low, (long long)high);
    *out = (int)value;
    return GT_OK;
}

static gt_status read_model_config(const char *path, const char *kind,
                                   const gt_ckpt_config *config, int n, gt_model_config *c) {
    memset(c, 0, sizeof *c);
    int act = 0;
    gt_status st;
    if (!strcmp(kind, "lenet"))
        c->kind = GT_MODEL_LENET;
    else if (!strcmp(kind, "mlp"))
        c->kind = GT_MODEL_MLP;
    else
        return gt_set_error(GT_ERR_FORMAT, "%s: holds a \"%s\", not a model this build knows "
                            "(mlp, lenet, module)", path, kind);
    if ((st = config_int(path, kind, config, n, "act", 0, GT_ACT_COUNT - 1, &act)) != GT_OK)
        return st;
    c->act = (gt_activation)act;
    if (c->kind == GT_MODEL_LENET)
        return config_int(path, kind, config, n, "classes", 1, INT_MAX, &c->classes);
    if ((st = config_int(path, kind, config, n, "layers", 2, GT_MLP_MAX_SIZES, &c->n_sizes)) !=
        GT_OK)
        return st;
    for (int i = 0; i < c->n_sizes; i++) {
        char key[IO_KEY_SIZE];
        snprintf(key, sizeof key, "size%d", i);
        if ((st = config_int(path, kind, config, n, key, 1, INT_MAX, &c->sizes[i])) != GT_OK)
            return st;
    }
    return GT_OK;
}

/* Every parameter and buffer of model from the file (kind, config checked as given). */
static gt_status load_state(gt_model *model, const char *path, const char *kind,
                            const gt_ckpt_config *config, int n_config) {
    int n = gt_model_param_count(model) + gt_model_buffer_count(model);
    gt_ckpt_entry *entries = gt_calloc((size_t)n + 1, sizeof *entries, "model_load");
    if (!entries)
        return gt_last_status();
    state_entries(model, entries);
    gt_status st = gt_checkpoint_load(path, kind, config, n_config, entries, n);
    gt_free(entries);
    return st;
}

/* A "module" checkpoint: the model of its spec for its input shape, then its tensors. */
static gt_model *load_spec_model(const char *path, const peeked *p) {
    gt_sample_shape in = {0};
    if (config_int(path, p->kind, p->config, p->n, "input.ndim", 0, IO_MAX_INPUT_DIMS,
                   &in.ndim) != GT_OK)
        return NULL;
    for (int d = 0; d < in.ndim; d++) {
        char key[IO_KEY_SIZE];
        int size = 0;
        snprintf(key, sizeof key, "input.%d", d);
        if (config_int(path, p->kind, p->config, p->n, key, 1, INT_MAX, &size) != GT_OK)
            return NULL;
        in.dims[d] = size;
    }
    char *spec = gt_malloc(IO_MAX_SPEC + 1, "model_load");
    if (!spec)
        return NULL;
    gt_model *model = NULL;
    gt_status st = gt_checkpoint_get_text(path, "spec", spec, IO_MAX_SPEC + 1);
    if (st == GT_ERR_FORMAT)
        gt_set_error(st, "%s: holds a model built from modules in C, without a spec: build it "
                     "and load its tensors with gt_model_load_into", path);
    else if (st == GT_OK && !(model = gt_model_from_spec(spec, in.ndim, in.dims, 0)) &&
             gt_last_status() != GT_ERR_NOMEM)
        gt_set_error(gt_last_status(), "%s: %.400s", path, gt_last_error());
    gt_free(spec);
    return model;
}

gt_model *gt_model_load(const char *path) {
    if (!path) {
        gt_set_error(GT_ERR_ARG, "model_load: path is NULL");
        return NULL;
    }
    peeked p;
    if (peek_all(path, &p) != GT_OK)
        return NULL;
    gt_model *model = NULL;
    model_entries me = {0};
    if (!strcmp(p.kind, gt_model_kind_name(GT_MODEL_SPEC))) {
        model = load_spec_model(path, &p);
        if (model)
            describe_input(model, &me);
    } else {
        gt_model_config c;
        if (read_model_config(path, p.kind, p.config, p.n, &c) == GT_OK) {
            model = gt_model_new(&c, 0);
            if (!model && gt_last_status() != GT_ERR_NOMEM)
                gt_set_error(gt_last_status(), "%s: %.400s", path, gt_last_error());
            describe_config(&c, &me);
        }
    }
    if (model && load_state(model, path, p.kind, me.config, me.n_config) != GT_OK) {
        gt_model_free(model);
        model = NULL;
    }
    peeked_free(&p);
    return model;
}

gt_status gt_model_load_into(gt_model *model, const char *path) {
    if (!model || !path)
        return gt_set_error(GT_ERR_ARG, "model_load_into: needs a model and a path");
    char kind[256];
    int n = 0;
    gt_status st = gt_checkpoint_peek(path, kind, sizeof kind, NULL, 0, &n, NULL, 0);
    return st == GT_OK ? load_state(model, path, kind, NULL, 0) : st;
}

gt_status gt_optimizer_load(gt_optimizer *opt, const char *path) {
    if (!opt || !path)
        return gt_set_error(GT_ERR_ARG, "optimizer_load: needs an optimizer and a path");
    peeked p;
    gt_status st = peek_all(path, &p);
    if (st != GT_OK)
        return st;
    int64_t saved_kind = 0, steps = 0;
    gt_optimizer_kind want = gt_optimizer_get_kind(opt);
    if (!find_key(p.config, p.n, "optimizer", &saved_kind) ||
        !find_key(p.config, p.n, "optimizer.steps", &steps))
        st = gt_set_error(GT_ERR_FORMAT, "%s: holds no optimizer state (saved without one)",
                          path);
    else if (saved_kind != want)
        st = gt_set_error(GT_ERR_FORMAT, "%s: holds the state of %s, not of %s", path,
                          gt_optimizer_kind_name((gt_optimizer_kind)saved_kind),
                          gt_optimizer_kind_name(want));
    else if (steps < 0)
        st = gt_set_error(GT_ERR_FORMAT, "%s: optimizer.steps is %lld", path, (long long)steps);
    peeked_free(&p);
    if (st != GT_OK)
        return st;
    /* Room for its state tensors, doubled until they fit (a checkpoint holds at most 65536). */
    gt_ckpt_entry *entries = NULL;
    char(*names)[GT__STATE_NAME_SIZE] = NULL;
    int n_state = -1;
    for (int max = 64; n_state == -1 && max <= 65536; max *= 2) {
        gt_free(entries);
        gt_free(names);
        entries = gt_calloc((size_t)max, sizeof *entries, "optimizer_load");
        names = gt_calloc((size_t)max, sizeof *names, "optimizer_load");
        if (!entries || !names) {
            n_state = -2;
            break;
        }
        n_state = gt__optimizer_state_entries(opt, entries, names, max);
    }
    gt_ckpt_config expect = {"optimizer", want};
    if (n_state == -2)
        st = gt_last_status();
    else if (n_state < 0)
        st = gt_set_error(GT_ERR_ARG, "%s: the optimizer has more state than a checkpoint "
                          "holds", path);
    else
        st = gt_checkpoint_load(path, p.kind, &expect, 1, entries, n_state);
    gt_free(entries);
    gt_free(names);
    if (st == GT_OK)
        gt__optimizer_set_steps(opt, steps);
    return st;
}

/* ---- .npz: parameters and buffers by state_dict name ------------------------------------- */

gt_status gt_model_export_npz(const gt_model *model, const char *path) {
    if (!model || !path)
        return gt_set_error(GT_ERR_ARG, "model_export_npz: needs a model and a path");
    int n = gt_model_param_count(model) + gt_model_buffer_count(model);
    gt_ckpt_entry *entries = gt_calloc((size_t)n + 1, sizeof *entries, "model_export_npz");
    const char **keys = gt_calloc((size_t)n + 1, sizeof *keys, "model_export_npz");
    const gt_tensor **tensors = gt_calloc((size_t)n + 1, sizeof *tensors, "model_export_npz");
    gt_status st = entries && keys && tensors ? GT_OK : gt_last_status();
    if (st == GT_OK) {
        state_entries(model, entries);
        for (int i = 0; i < n; i++) {
            keys[i] = entries[i].name;
            tensors[i] = entries[i].tensor;
        }
        st = gt_npz_save(path, keys, tensors, n);
    }
    gt_free(entries);
    gt_free(keys);
    gt_free(tensors);
    return st;
}

/* Like torch's load_state_dict(strict=True): the file holds exactly the model's keys. */
static gt_status check_npz(const gt_model *model, const gt_ckpt_entry *entries, int n,
                           const gt_npz *npz, const char *path) {
    for (int i = 0; i < n; i++) {
        const gt_tensor *t = gt_npz_find(npz, entries[i].name), *want = entries[i].tensor;
        char a[96], b[96];
        if (!t)
            return gt_set_error(GT_ERR_FORMAT, "%s: no '%s' for the model's %s", path,
                                entries[i].name,
                                gt_shape_str(gt_tensor_ndim(want), gt_tensor_shape(want), a,
                                             sizeof a));
        if (!gt_shape_equal(gt_tensor_ndim(t), gt_tensor_shape(t), gt_tensor_ndim(want),
                            gt_tensor_shape(want)))
            return gt_set_error(GT_ERR_SHAPE, "%s: '%s' has shape %s in the file, %s expected",
                                path, entries[i].name,
                                gt_shape_str(gt_tensor_ndim(t), gt_tensor_shape(t), a, sizeof a),
                                gt_shape_str(gt_tensor_ndim(want), gt_tensor_shape(want), b,
                                             sizeof b));
    }
    for (int i = 0; i < gt_npz_count(npz); i++) {
        bool known = false;
        for (int k = 0; k < n && !known; k++)
            known = !strcmp(gt_npz_key(npz, i), entries[k].name);
        if (!known)
            return gt_set_error(GT_ERR_FORMAT, "%s: '%s' is no parameter or buffer of the model "
                                "(%s)", path, gt_npz_key(npz, i),
                                gt_model_spec(model) ? gt_model_spec(model) : "built in C");
    }
    return GT_OK;
}

gt_status gt_model_import_npz(gt_model *model, const char *path) {
    if (!model || !path)
        return gt_set_error(GT_ERR_ARG, "model_import_npz: needs a model and a path");
    int n = gt_model_param_count(model) + gt_model_buffer_count(model);
    gt_ckpt_entry *entries = gt_calloc((size_t)n + 1, sizeof *entries, "model_import_npz");
    if (!entries)
        return gt_last_status();
    state_entries(model, entries);
    gt_npz *npz = gt_npz_load(path);
    gt_status st = npz ? check_npz(model, entries, n, npz, path) : gt_last_status();
    for (int i = 0; st == GT_OK && i < n; i++) /* all checked: only now copy */
        memcpy(gt_tensor_data(entries[i].tensor), gt_tensor_cdata(gt_npz_find(npz, entries[i].name)),
               (size_t)gt_tensor_numel(entries[i].tensor) * sizeof(gt_real));
    gt_npz_free(npz);
    gt_free(entries);
    return st;
}
