/* gt_ops_impl.h - helpers shared by the op families; not installed. */
#ifndef GT_OPS_IMPL_H
#define GT_OPS_IMPL_H

#include "../autograd/gt_tape_impl.h"
#include "gt_ops.h"

/* Checks every input of `op` (NULL, released, other tape); n may count NULL optionals
 * only when `optional_from` <= index. */
gt_status gt__check_inputs(const char *op, gt_tape *tape, gt_tensor *const *in, int n,
                           int optional_from);
/* The output tensor of an op, uninitialised, in the arena. */
gt_tensor *gt__op_output(gt_tape *tape, gt_op op, int ndim, const int64_t *shape);
/* Records the op's node (from the table's name and backward) and, in anomaly mode, checks
 * the output. Returns `out`, or NULL on failure. *node is NULL when nothing was recorded. */
gt_tensor *gt__op_finish(gt_tape *tape, gt_op op, gt_tensor *out, gt_tensor *const *in,
                         int n_in, gt_node **node);
/* The profiler's flop counts of one application of op (flops.c); 0 where not known. */
double gt__op_flops(gt_op op, gt_tensor *const *in, int n_in, const gt_tensor *out,
                    double *backward);
/* "[2, 3]" for messages; uses one of a few rotating thread-local buffers. */
const char *gt__shape_of(const gt_tensor *t);
/* Sets a GT_ERR_SHAPE message "op: what: [a] vs [b]" and returns NULL. */
gt_tensor *gt__shape_error2(const char *op, const char *what, const gt_tensor *a,
                            const gt_tensor *b);

/* The single GEMM entry point: C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C, with
 * op(X) = X or X^T; row-major, leading dimensions in elements. */
void gt__gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, gt_real alpha,
              const gt_real *A, int64_t lda, const gt_real *B, int64_t ldb, gt_real beta,
              gt_real *C, int64_t ldc);

/* The threads work of this many flops gets: 1 below the GEMM's parallel threshold or
 * inside a parallel region, else gt_get_threads(). Ops that split their own work over
 * threads (conv2d's image groups) ask here, so one rule decides for the whole library. */
int gt__threads_for_flops(double flops);

/* A memory-bound pass over one element (an activation, a pool window, a scatter) costs
 * about what this many flops of GEMM do: the unit that such passes give the rule above. */
#define GT__FLOPS_PER_ELEMENT 32.0

/* Runs fn(ctx, from, to) over [0, n) cut into contiguous ranges that start at multiples of
 * align, one per thread when work of `flops` gets several (gt__threads_for_flops), else
 * once over the whole range on this thread. For work whose items are independent, so the
 * result does not depend on the thread count. */
void gt__parallel_ranges(int64_t n, int64_t align, double flops,
                         void (*fn)(void *ctx, int64_t from, int64_t to), void *ctx);

/* Forward and backward of every op, named after the family files that define them. */
#define GT__OP_FNS(name)                                                                  \
    gt_tensor *gt__##name##_forward(gt_tape *tape, gt_tensor *const *in, int n_in,        \
                                    const gt_op_args *args);                              \
    gt_status gt__##name##_backward(gt_node *node);
GT__OP_FNS(matmul)
GT__OP_FNS(linear)
GT__OP_FNS(add)
GT__OP_FNS(sub)
GT__OP_FNS(mul)
GT__OP_FNS(div)
GT__OP_FNS(neg)
GT__OP_FNS(scale)
GT__OP_FNS(relu)
GT__OP_FNS(sigmoid)
GT__OP_FNS(tanh)
GT__OP_FNS(exp)
GT__OP_FNS(log)
GT__OP_FNS(softmax)
GT__OP_FNS(log_softmax)
GT__OP_FNS(sum)
GT__OP_FNS(mean)
GT__OP_FNS(reshape)
GT__OP_FNS(flatten)
GT__OP_FNS(transpose)
GT__OP_FNS(conv2d)
GT__OP_FNS(maxpool2d)
GT__OP_FNS(avgpool2d)
GT__OP_FNS(cross_entropy)
GT__OP_FNS(mse_loss)
#undef GT__OP_FNS

#endif
