/* gt_nn_impl.h - what model checkpoints need from the optimizers; not installed. */
#ifndef GT_NN_IMPL_H
#define GT_NN_IMPL_H

#include "gt_nn.h"

#define GT__STATE_NAME_SIZE 48

/* Entries "optimizer.<state>.<i>" for every state tensor of opt, names written into
 * names[]; returns their number, or -1 when it exceeds max. */
int gt__optimizer_state_entries(const gt_optimizer *opt, gt_ckpt_entry *entries,
                                char (*names)[GT__STATE_NAME_SIZE], int max);
/* True when opt updates exactly these parameters, in this order. */
bool gt__optimizer_is_over(const gt_optimizer *opt, gt_tensor *const *params, int n);
/* Sets the step count (restoring a checkpoint). */
void gt__optimizer_set_steps(gt_optimizer *opt, int64_t steps);

/* The spec of an MLP or LeNet-5 configuration (names as their checkpoints have them). */
void gt__model_config_spec(const gt_model_config *c, char *buf, size_t size);
/* "mlp", "lenet" or "cnn" alone: their spec into buf, true; otherwise false. */
bool gt__model_alias_spec(const char *spec, char *buf, size_t size);

#endif
