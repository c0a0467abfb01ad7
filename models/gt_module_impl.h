/* gt_module_impl.h - a module's insides, for the model that lays out its tensors (nn.c) and
 * the spec parser; not installed. */
#ifndef GT_MODULE_IMPL_H
#define GT_MODULE_IMPL_H

#include "gt_module.h"

#define GT__MODULE_NAME_SIZE 32
#define GT__MODULE_MAX_TENSORS 8 /* parameters, and buffers, of one module itself */

/* A parameter or buffer as build declares it; `tensor` is set when the model lays it out. */
typedef struct gt__module_tensor {
    char name[GT__MODULE_NAME_SIZE];
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    gt_init init;
    int64_t fan_in;
    gt_tensor *tensor;
} gt__module_tensor;

struct gt_module {
    const gt_module_class *cls;
    char name[GT__MODULE_NAME_SIZE];
    void *state;
    gt_module **children;
    int n_children, children_capacity;
    gt__module_tensor params[GT__MODULE_MAX_TENSORS];
    gt__module_tensor buffers[GT__MODULE_MAX_TENSORS];
    int n_params, n_buffers;
    gt_sample_shape out;
    int64_t flops;
    bool built, training;
    bool has_parent; /* a child of another module: freed with it, never added twice */
    gt_rng *rng;     /* the model's, for the forward pass (gt_module_rng) */
};

/* Visits m's own parameters, then its buffers, then its children's (recursively), as
 * PyTorch's state_dict orders them, calling visit with the dotted name. Stops at the first
 * status other than GT_OK and returns it. */
typedef gt_status (*gt__tensor_visitor)(void *ctx, const char *name, gt__module_tensor *t,
                                        bool is_param);
gt_status gt__module_visit(gt_module *m, const char *prefix, gt__tensor_visitor visit,
                           void *ctx);
/* Sets train (true) or eval mode on m and every descendant. */
void gt__module_set_training(gt_module *m, bool training);
/* Gives m and every descendant the model's generator. */
void gt__module_set_rng(gt_module *m, gt_rng *rng);
/* True for a BatchNorm1d or BatchNorm2d (layers_norm.c). */
bool gt__module_is_batchnorm(const gt_module *m);
/* The forward of m, a batch norm, followed by relu, as one op (gt__batch_norm_relu): what a
 * Sequential runs for a BatchNorm then a ReLU. In anomaly mode the two ops, so that a
 * non-finite output of the norm is caught and named (relu would make it 0). */
gt_tensor *gt__batchnorm_relu_forward(gt_module *m, gt_tape *tape, gt_tensor *x);
/* "[1, 28, 28]" */
const char *gt__sample_shape_str(const gt_sample_shape *s, char *buf, size_t size);

#endif
