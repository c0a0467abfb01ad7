/* gradtape.h - the one header a user includes.
 *
 * Floors, each with its own header, each using only the ones below it:
 *   gt_tensor.h   tensors, errors, allocator, random numbers, printing, .npy files
 *   gt_autograd.h the tape, backward, no-grad scope, gradient checking
 *   gt_ops.h      the ops and their table
 */
#ifndef GRADTAPE_H
#define GRADTAPE_H

#include "gt_tensor.h"
#include "gt_autograd.h"
#include "gt_ops.h"

#endif
