/* module.c - the module tree: children, declared parameters and buffers, build, forward,
 * train/eval mode, and the visit in state_dict order the model lays tensors out by. */
#include "gt_module_impl.h"

#include <ctype.h>
#include <string.h>

gt_module *gt_module_new(const gt_module_class *cls, const void *state, size_t state_size) {
    if (!cls || !cls->type || !cls->build || !cls->forward) {
        gt_set_error(GT_ERR_ARG, "module_new: needs a class with a type, build and forward");
        return NULL;
    }
    gt_module *m = gt_calloc(1, sizeof *m, "module");
    if (!m)
        return NULL;
    m->cls = cls;
    m->training = true;
    if (state_size) {
        m->state = gt_malloc(state_size, "module state");
        if (!m->state) {
            gt_free(m);
            return NULL;
        }
        if (state)
            memcpy(m->state, state, state_size);
        else
            memset(m->state, 0, state_size);
    }
    return m;
}

void gt_module_free(gt_module *m) {
    if (!m)
        return;
    for (int i = 0; i < m->n_children; i++)
        gt_module_free(m->children[i]);
    gt_free(m->children);
    gt_free(m->state);
    gt_free(m);
}

static bool valid_name(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len >= GT__MODULE_NAME_SIZE)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return false;
    return true;
}

gt_status gt_module_add_child(gt_module *m, const char *name, gt_module *child) {
    gt_status st = GT_OK;
    if (!m || !child)
        st = gt_set_error(GT_ERR_ARG, "module_add_child: %s is NULL", m ? "the child" : "the "
                          "parent");
    else if (m->built)
        st = gt_set_error(GT_ERR_ARG, "module_add_child: %s is already built", m->cls->type);
    else if (child->has_parent || child == m)
        st = gt_set_error(GT_ERR_ARG, "module_add_child: this %s belongs to a parent already "
                          "(a module has one parent: make another)", child->cls->type);
    else if (name && !valid_name(name))
        st = gt_set_error(GT_ERR_ARG, "module_add_child: the name '%.40s' must have 1..%d "
                          "letters, digits or '_'", name, GT__MODULE_NAME_SIZE - 1);
    char index[GT__MODULE_NAME_SIZE];
    if (st == GT_OK) {
        snprintf(index, sizeof index, "%d", m->n_children);
        if (!name)
            name = index;
        for (int i = 0; i < m->n_children; i++)
            if (!strcmp(m->children[i]->name, name))
                st = gt_set_error(GT_ERR_ARG, "module_add_child: %s already has a child "
                                  "called '%s'", m->cls->type, name);
    }
    if (st == GT_OK && m->n_children == m->children_capacity) {
        int capacity = m->children_capacity ? 2 * m->children_capacity : 4;
        gt_module **grown = gt_calloc((size_t)capacity, sizeof *grown, "module children");
        if (!grown)
            st = gt_last_status();
        else {
            if (m->n_children)
                memcpy(grown, m->children, (size_t)m->n_children * sizeof *grown);
            gt_free(m->children);
            m->children = grown;
            m->children_capacity = capacity;
        }
    }
    if (st != GT_OK) {
        if (child && m != child && !child->has_parent)
            gt_module_free(child);
        return st;
    }
    child->has_parent = true;
    snprintf(child->name, sizeof child->name, "%s", name);
    m->children[m->n_children++] = child;
    return GT_OK;
}

int gt_module_child_count(const gt_module *m) { return m ? m->n_children : 0; }

gt_module *gt_module_child(const gt_module *m, int i) {
    return m && i >= 0 && i < m->n_children ? m->children[i] : NULL;
}

const char *gt_module_name(const gt_module *m) { return m ? m->name : ""; }
const char *gt_module_type(const gt_module *m) { return m ? m->cls->type : "?"; }
void *gt_module_state(gt_module *m) { return m ? m->state : NULL; }
const void *gt_module_cstate(const gt_module *m) { return m ? m->state : NULL; }

/* ---- build ----------------------------------------------------------------------------- */

const char *gt__sample_shape_str(const gt_sample_shape *s, char *buf, size_t size) {
    return gt_shape_str(s->ndim, s->dims, buf, size);
}

gt_status gt_module_build(gt_module *m, const gt_sample_shape *in, gt_sample_shape *out) {
    if (!m || !in || !out)
        return gt_set_error(GT_ERR_ARG, "module_build: %s is NULL",
                            !m ? "the module" : !in ? "the input shape" : "the output shape");
    if (m->built)
        return gt_set_error(GT_ERR_ARG, "%s: a module is built once (is it in the model "
                            "twice?)", m->cls->type);
    if (in->ndim < 0 || in->ndim > GT_MAX_DIMS - 1)
        return gt_set_error(GT_ERR_SHAPE, "%s: an input sample of rank %d (at most %d)",
                            m->cls->type, in->ndim, GT_MAX_DIMS - 1);
    m->built = true;
    m->out = (gt_sample_shape){0};
    gt_status st = m->cls->build(m, in, &m->out);
    if (st != GT_OK) {
        char shape[96], why[512];
        snprintf(why, sizeof why, "%s", gt_last_error());
        /* A child's failure names the child: its path grows by this module's name. */
        if (strncmp(why, "layer ", 6) == 0)
            return m->name[0] ? gt_set_error(st, "layer %s.%s", m->name, why + 6)
                              : gt_set_error(st, "%s", why);
        return gt_set_error(st, "layer %s%s%s (input %s): %s", m->name[0] ? m->name : "",
                            m->name[0] ? " " : "", m->cls->type,
                            gt__sample_shape_str(in, shape, sizeof shape), why);
    }
    *out = m->out;
    return GT_OK;
}

static int declare(gt_module *m, gt__module_tensor *list, int *count, const char *what,
                   const char *name, int ndim, const int64_t *shape, gt_init init,
                   int64_t fan_in) {
    if (!m || !name || !valid_name(name) || ndim < 0 || ndim > GT_MAX_DIMS ||
        (ndim && !shape)) {
        gt_set_error(GT_ERR_ARG, "module_add_%s: needs a module, a name of 1..%d letters, "
                     "digits or '_', and a rank 0..%d", what, GT__MODULE_NAME_SIZE - 1,
                     GT_MAX_DIMS);
        return -1;
    }
    if (*count == GT__MODULE_MAX_TENSORS) {
        gt_set_error(GT_ERR_ARG, "module_add_%s: %s declares more than %d (give it children)",
                     what, m->cls->type, GT__MODULE_MAX_TENSORS);
        return -1;
    }
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 1 || shape[d] > ((int64_t)1 << 31)) {
            gt_set_error(GT_ERR_SHAPE, "module_add_%s: '%s' would have size %lld in dim %d",
                         what, name, (long long)shape[d], d);
            return -1;
        }
    gt__module_tensor *t = &list[*count];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    if (ndim)
        memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->init = init;
    t->fan_in = fan_in;
    return (*count)++;
}

int gt_module_add_param(gt_module *m, const char *name, int ndim, const int64_t *shape,
                        gt_init init, int64_t fan_in) {
    return declare(m, m ? m->params : NULL, m ? &m->n_params : NULL, "param", name, ndim, shape,
                   init, fan_in);
}

int gt_module_add_buffer(gt_module *m, const char *name, int ndim, const int64_t *shape,
                         gt_init init) {
    return declare(m, m ? m->buffers : NULL, m ? &m->n_buffers : NULL, "buffer", name, ndim,
                   shape, init, 0);
}

void gt_module_set_flops(gt_module *m, int64_t flops) {
    if (m)
        m->flops = flops;
}

/* ---- forward and mode ------------------------------------------------------------------- */

gt_tensor *gt_module_forward(gt_module *m, gt_tape *tape, gt_tensor *x) {
    if (!x && gt_last_status() != GT_OK)
        return NULL; /* an earlier op failed: its message stays */
    if (!m || !tape || !x || !m->built) {
        gt_set_error(GT_ERR_ARG, "module_forward: %s",
                     !m ? "the module is NULL" : !tape ? "the tape is NULL"
                     : !x ? "the input is NULL" : "the module is not built (make a model of it)");
        return NULL;
    }
    return m->cls->forward(m, tape, x);
}

gt_tensor *gt_module_param(const gt_module *m, int slot) {
    return m && slot >= 0 && slot < m->n_params ? m->params[slot].tensor : NULL;
}

gt_tensor *gt_module_buffer(const gt_module *m, int slot) {
    return m && slot >= 0 && slot < m->n_buffers ? m->buffers[slot].tensor : NULL;
}

bool gt_module_training(const gt_module *m) { return m && m->training; }

gt_rng *gt_module_rng(const gt_module *m) { return m ? m->rng : NULL; }

void gt__module_set_rng(gt_module *m, gt_rng *rng) {
    m->rng = rng;
    for (int i = 0; i < m->n_children; i++)
        gt__module_set_rng(m->children[i], rng);
}

void gt__module_set_training(gt_module *m, bool training) {
    m->training = training;
    for (int i = 0; i < m->n_children; i++)
        gt__module_set_training(m->children[i], training);
}

/* ---- after build --------------------------------------------------------------------------- */

const gt_sample_shape *gt_module_out_shape(const gt_module *m) { return m ? &m->out : NULL; }

int64_t gt_module_flops(const gt_module *m) { return m ? m->flops : 0; }

int64_t gt_module_param_numel(const gt_module *m) {
    if (!m)
        return 0;
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++)
        n += gt_shape_numel(m->params[i].ndim, m->params[i].shape);
    for (int i = 0; i < m->n_children; i++)
        n += gt_module_param_numel(m->children[i]);
    return n;
}

const char *gt_module_describe(const gt_module *m, char *buf, size_t size) {
    if (!buf || !size)
        return buf;
    if (!m) {
        snprintf(buf, size, "(no module)");
        return buf;
    }
    char args[160] = "";
    if (m->cls->describe)
        m->cls->describe(m, args, sizeof args);
    snprintf(buf, size, "%s(%s)", m->cls->type, args);
    return buf;
}

gt_status gt__module_visit(gt_module *m, const char *prefix, gt__tensor_visitor visit,
                           void *ctx) {
    char name[512];
    gt_status st = GT_OK;
    for (int i = 0; st == GT_OK && i < m->n_params; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, m->params[i].name);
        st = visit(ctx, name, &m->params[i], true);
    }
    for (int i = 0; st == GT_OK && i < m->n_buffers; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, m->buffers[i].name);
        st = visit(ctx, name, &m->buffers[i], false);
    }
    for (int i = 0; st == GT_OK && i < m->n_children; i++) {
        snprintf(name, sizeof name, "%s%s.", prefix, m->children[i]->name);
        st = gt__module_visit(m->children[i], name, visit, ctx);
    }
    return st;
}
