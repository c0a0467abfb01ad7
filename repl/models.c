/* models.c - models as session values: mlp(), lenet(), sequential(spec), load_model(), called
 * as m(x) on the session tape, with parameters(), train(), eval(), summary(), save_model().
 * Each is the library's gt_model (gt_nn.h): its layers, initialisation, summary and
 * checkpoints are the ones gradtape-train uses. A model's parameters are its own tensors:
 * the values parameters() gives keep the model alive (value_owned_tensor), and so does a
 * graph recorded through it (the model's box is pinned until the tape resets). */
#include "builtins.h"

#include <string.h>

static void model_free(repl *r, void *self) {
    (void)r;
    gt_model_free(self);
}

static void model_describe(repl *r, const void *self, FILE *out) {
    (void)r;
    char buf[256];
    fprintf(out, "%s%s", gt_model_describe(self, buf, sizeof buf),
            gt_model_is_training(self) ? "" : " (eval mode)");
}

/* m(x): logits of x[N, sample...], recorded on the session tape. */
static bool model_call(repl *r, obj *box, const call_args *a, value *out) {
    gt_tensor *x = NULL;
    if (!arity(r, a, 1, 1) || !arg_tensor(r, a, 0, &x))
        return false;
    if (!value_pin(r, box)) /* the tape's nodes point at the model's parameters */
        return repl_fail_lib(r, a->call->col);
    gt_tensor *y = gt_model_forward(r->eval_tape, box->self, x);
    if (!y)
        return repl_fail(r, a->call->col, "%s(x): %s", a->call->text, gt_last_error());
    return value_tensor(r, y, r->eval_tape, out);
}

static const repl_class model_class = {"model", "a model", model_free, model_describe, model_call,
                                       NULL, NULL, NULL};

gt_model *value_model(value v) {
    return v.kind == V_OBJ && v.box->cls == &model_class ? v.box->self : NULL;
}

/* A new model (NULL: the library's error) as a value. `saved` is the session's generator
 * before the model's seed was drawn: a call that fails leaves it as it was. */
static bool model_value(repl *r, const call_args *a, const gt_rng *saved, gt_model *model,
                        value *out) {
    if (model && value_object(r, &model_class, model, out))
        return true;
    r->rng = *saved;
    return model ? false : repl_fail(r, a->call->col, "%s: %s", a->call->text, gt_last_error());
}

static bool arg_model(repl *r, const call_args *a, int i, gt_model **model) {
    if (!(*model = value_model(a->vals[i])))
        return repl_fail(r, a->cols[i], "%s: expected a model (mlp, lenet, sequential, "
                         "load_model), got %s", a->call->text, value_kind_phrase(a->vals[i]));
    return true;
}

/* act="relu" | "sigmoid" | "tanh", argument i (or the default when i < 0). */
static bool arg_act(repl *r, const call_args *a, int i, gt_activation *act) {
    const char *name = NULL;
    if (i < 0)
        return true;
    if (!arg_string(r, a, i, &name))
        return false;
    if (gt_activation_parse(name, act) != GT_OK)
        return repl_fail(r, a->cols[i], "%s: act: %s", a->call->text, gt_last_error());
    return true;
}

/* mlp(784, 100, 10, act="relu"): the sizes of its layers, input first. */
static bool b_mlp(repl *r, const call_args *a, value *out) {
    int sizes[GT_MLP_MAX_SIZES], n = 0, act_at = -1;
    gt_activation act = GT_ACT_RELU;
    for (int i = 0; i < a->n; i++) {
        if (a->kw[i] && !strcmp(a->kw[i], "act")) {
            act_at = i;
            continue;
        }
        if (a->kw[i])
            return repl_fail(r, a->call->kwcols[i], "mlp: no argument named %s; usage: "
                             "mlp(784, 100, 10, act=\"relu\")", a->kw[i]);
        double d = 0;
        if (!arg_number(r, a, i, &d))
            return false;
        if (n == GT_MLP_MAX_SIZES)
            return repl_fail(r, a->cols[i], "mlp: at most %d sizes (input, %d hidden, output)",
                             GT_MLP_MAX_SIZES, GT_MLP_MAX_SIZES - 2);
        if (d != (int)d || d < 1)
            return repl_fail(r, a->cols[i], "mlp: a size must be a whole number >= 1, not %g",
                             d);
        sizes[n++] = (int)d;
    }
    if (n < 2)
        return repl_fail(r, a->call->col, "mlp: needs at least the input and output sizes: "
                         "mlp(784, 100, 10)");
    gt_rng saved = r->rng;
    return arg_act(r, a, act_at, &act) &&
           model_value(r, a, &saved, gt_mlp_new(sizes, n, act, gt_rng_next(&r->rng)), out);
}

/* lenet(act="tanh", classes=10): LeNet-5 on [N, 1, 28, 28], gradtape-train's defaults. */
static bool b_lenet(repl *r, const call_args *a, value *out) {
    static const char *const names[] = {"act", "classes"};
    int idx[2];
    gt_activation act = GT_ACT_TANH;
    double classes = 10;
    if (!match_args(r, a, "lenet(act=\"tanh\", classes=10)", names, 2, 0, idx) ||
        !arg_act(r, a, idx[0], &act) || (idx[1] >= 0 && !arg_number(r, a, idx[1], &classes)))
        return false;
    if (classes != (int)classes || classes < 1)
        return repl_fail(r, a->cols[idx[1]], "lenet: classes must be a whole number >= 1, not "
                         "%g", classes);
    gt_rng saved = r->rng;
    return model_value(r, a, &saved, gt_lenet_new(act, (int)classes, gt_rng_next(&r->rng)),
                       out);
}

/* sequential("Conv2d(8, 5) ReLU ...", input=[1, 28, 28]) */
static bool b_sequential(repl *r, const call_args *a, value *out) {
    static const char *const names[] = {"spec", "input"};
    int idx[2], ndim = 3;
    int64_t shape[GT_MAX_DIMS] = {1, 28, 28};
    const char *spec = NULL;
    if (!match_args(r, a, "sequential(\"spec\", input=[1, 28, 28])", names, 2, 0, idx))
        return false;
    if (idx[0] < 0)
        return repl_fail(r, a->call->col, "sequential: needs a spec: sequential(\"Flatten "
                         "Linear(100) ReLU Linear(10)\")");
    if (!arg_string(r, a, idx[0], &spec))
        return false;
    if (idx[1] >= 0 &&
        !value_int_list(r, a->vals[idx[1]], a->cols[idx[1]], shape, GT_MAX_DIMS - 1, &ndim))
        return false;
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 1)
            return repl_fail(r, a->cols[idx[1]], "sequential: input sizes must be >= 1, "
                             "got %lld", (long long)shape[i]);
    gt_rng saved = r->rng;
    return model_value(r, a, &saved,
                       gt_model_from_spec(spec, ndim, shape, gt_rng_next(&r->rng)), out);
}

/* parameters(m): its parameter tensors, in state_dict order. */
static bool b_parameters(repl *r, const call_args *a, value *out) {
    gt_model *model = NULL;
    if (!arity(r, a, 1, 1) || !arg_model(r, a, 0, &model))
        return false;
    int n = gt_model_param_count(model);
    gt_tensor *const *params = gt_model_params(model);
    value list;
    if (!value_list(r, n, &list))
        return false;
    for (int i = 0; i < n; i++) {
        value p;
        if (!value_owned_tensor(r, params[i], a->vals[0].box, &p)) {
            value_release(r, list);
            return repl_fail_lib(r, a->call->col);
        }
        bool ok = list_append(r, list.box->list, p, a->call->col);
        value_release(r, p);
        if (!ok) {
            value_release(r, list);
            return false;
        }
    }
    *out = list;
    return true;
}

static bool set_mode(repl *r, const call_args *a, bool training) {
    gt_model *model = NULL;
    if (!arity(r, a, 1, 1) || !arg_model(r, a, 0, &model))
        return false;
    gt_model_train(model, training);
    return true;
}

static bool b_train(repl *r, const call_args *a, value *out) {
    (void)out;
    return set_mode(r, a, true);
}

static bool b_eval(repl *r, const call_args *a, value *out) {
    (void)out;
    return set_mode(r, a, false);
}

static bool b_summary(repl *r, const call_args *a, value *out) {
    (void)out;
    gt_model *model = NULL;
    if (!arity(r, a, 1, 1) || !arg_model(r, a, 0, &model))
        return false;
    fflush(stdout);
    if (gt_model_summary(model, stdout) != GT_OK)
        return repl_fail_lib(r, a->call->col);
    return true;
}

static bool b_save_model(repl *r, const call_args *a, value *out) {
    (void)out;
    gt_model *model = NULL;
    const char *path = NULL;
    if (!arity(r, a, 2, 2) || !arg_model(r, a, 0, &model) || !arg_string(r, a, 1, &path))
        return false;
    if (gt_model_save(model, NULL, NULL, 0, path) != GT_OK)
        return repl_fail_lib(r, a->cols[1]);
    return true;
}

static bool b_load_model(repl *r, const call_args *a, value *out) {
    const char *path = NULL;
    if (!arity(r, a, 1, 1) || !arg_string(r, a, 0, &path))
        return false;
    gt_model *model = gt_model_load(path);
    if (!model)
        return repl_fail_lib(r, a->cols[0]);
    return value_object(r, &model_class, model, out);
}

static const struct builtin_info rows[] = {
    {"mlp", b_mlp, "mlp(784, 100, 10, act=\"relu\")",
     "a multilayer perceptron: linear layers of these sizes (input first), act (relu, "
     "sigmoid, tanh) between them; initialised as PyTorch does from the session's generator "
     "(see seed); call it as m(x)", B_IMPURE},
    {"lenet", b_lenet, "lenet(act=\"tanh\", classes=10)",
     "LeNet-5 on images [N, 1, 28, 28], as gradtape-train --model lenet", B_IMPURE},
    {"sequential", b_sequential, "sequential(\"spec\", input=[1, 28, 28])",
     "a model from a spec of torch.nn layers (docs/modules.md), e.g. \"Conv2d(8, 5) ReLU "
     "MaxPool2d(2) Flatten Linear(10)\"; input is the shape of one sample (without the batch "
     "dimension), from which every in-size follows at once, so parameters(m) exist for an "
     "optimizer before the first call", B_IMPURE},
    {"parameters", b_parameters, "parameters(m)",
     "the model's parameter tensors, a list in state_dict order (for sgd, adam, grad, "
     "gradcheck)", 0},
    {"train", b_train, "train(m)", "puts the model in train mode (the default): dropout "
     "drops, batch norm uses batch statistics", B_IMPURE},
    {"eval", b_eval, "eval(m)", "puts the model in eval mode (model.eval() in PyTorch)",
     B_IMPURE},
    {"summary", b_summary, "summary(m)",
     "prints the model's layers, output shapes, parameters and multiply-adds", B_IMPURE},
    {"save_model", b_save_model, "save_model(m, \"file.gtc\")",
     "writes the model as a checkpoint gradtape-train reads (--resume, --eval)", B_IMPURE},
    {"load_model", b_load_model, "load_model(\"file.gtc\")",
     "the model of a checkpoint written by save_model or gradtape-train", B_IMPURE},
};

const struct builtin_info *models_builtin_table(int *count) {
    *count = (int)(sizeof rows / sizeof rows[0]);
    return rows;
}
