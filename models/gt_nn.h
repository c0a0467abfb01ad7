/* gt_nn.h - floor 4: layers, MLP, LeNet-5 and optimizers (being written). */
#ifndef GT_NN_H
#define GT_NN_H

#include "gt_ops.h"

#endif
