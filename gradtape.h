/* gradtape.h - the one header a user includes.
 *
 * Floors, each with its own header, each using only the ones below it:
 *   gt_tensor.h   tensors, errors, allocator, random numbers, printing, .npy files
 *   gt_autograd.h the tape, backward, no-grad scope, gradient checking
 *   gt_ops.h      the ops and their table
 *   gt_data.h     MNIST-format data sets and minibatches
 *   gt_checkpoint.h  saving and loading models
 *   gt_module.h   modules: layers that compose, the layer registry, model specs
 *   gt_npz.h      NumPy .npz archives
 *   gt_nn.h       models (MLP, LeNet-5, any spec), optimizers, saving them
 */
#ifndef GRADTAPE_H
#define GRADTAPE_H

#include "gt_tensor.h"
#include "gt_autograd.h"
#include "gt_ops.h"
#include "gt_data.h"
#include "gt_checkpoint.h"
#include "gt_module.h"
#include "gt_npz.h"
#include "gt_nn.h"

#endif
