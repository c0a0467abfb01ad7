/* gt_broadcast_impl.h - NumPy broadcasting of two or three operands, shared by the
 * elementwise families (elementwise.c, compare.c); not installed. */
#ifndef GT_BROADCAST_IMPL_H
#define GT_BROADCAST_IMPL_H

#include "gt_ops_impl.h"

#define GT__BROADCAST_MAX 3

/* Where each output element reads its operands: stride[k] is operand k's stride along
 * each output dim, 0 along a dim it is broadcast over. The loop_* fields walk the same
 * elements in the same order with the output's size-1 dims dropped and neighbouring dims
 * merged where every operand's strides allow ([64,32,28,28] + [32,1,1] walks [64,32,784]);
 * the last loop dim is the run the visiting macros below loop over without an odometer,
 * and along it every operand's stride is 0 or 1. */
typedef struct gt__broadcast {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    int64_t stride[GT__BROADCAST_MAX][GT_MAX_DIMS];
    bool same_shape; /* every operand has the output's shape */
    int loop_ndim;   /* >= 1 */
    int64_t loop_shape[GT_MAX_DIMS];
    int64_t loop_stride[GT__BROADCAST_MAX][GT_MAX_DIMS];
} gt__broadcast;

/* The broadcast shape of n (2 or 3) operands; GT_ERR_SHAPE naming op and every shape when
 * they do not broadcast ("add: shapes [2, 3] and [4] cannot be broadcast"). */
gt_status gt__broadcast_shapes(const char *op, int n, const gt_tensor *const *t,
                               gt__broadcast *bc);

/* Where output element `from` lies in bc's loop: the index over every loop dim but the last
 * (index) and each operand's offset at the start of that run (at); returns the element's
 * place along the run. */
static inline int64_t gt__broadcast_seek(const gt__broadcast *bc, int64_t from, int64_t *index,
                                         int64_t *at) {
    int last = bc->loop_ndim - 1;
    int64_t len = bc->loop_shape[last], run = len ? from / len : 0;
    for (int k = 0; k < GT__BROADCAST_MAX; k++)
        at[k] = 0;
    for (int d = last - 1; d >= 0; d--) {
        index[d] = run % bc->loop_shape[d];
        run /= bc->loop_shape[d];
        for (int k = 0; k < GT__BROADCAST_MAX; k++)
            at[k] += index[d] * bc->loop_stride[k][d];
    }
    return len ? from % len : 0;
}

/* Visits the runs of output elements [from, to): for each, the body sees i, ia, ib, ic
 * (where the run starts in the output and in each operand), run_len (its elements: a whole
 * loop run, or part of one at either end of the range) and run_sa, run_sb, run_sc (each
 * operand's stride along it: 0 or 1). Runs come in the output's order. */
#define GT__FOR_EACH_BROADCAST_RUN_IN(bc, from, to, ...)                                   \
    do {                                                                                  \
        const gt__broadcast *bc_ = (bc);                                                  \
        const int last_ = bc_->loop_ndim - 1;                                             \
        const int64_t full_ = bc_->loop_shape[last_];                                     \
        const int64_t run_sa = bc_->loop_stride[0][last_];                                \
        const int64_t run_sb = bc_->loop_stride[1][last_];                                \
        const int64_t run_sc = bc_->loop_stride[2][last_];                                \
        int64_t index_[GT_MAX_DIMS], at_[GT__BROADCAST_MAX];                              \
        int64_t i0_ = (from), end_ = (to);                                                \
        int64_t off_ = gt__broadcast_seek(bc_, i0_, index_, at_);                         \
        while (i0_ < end_) {                                                              \
            int64_t run_len = full_ - off_ < end_ - i0_ ? full_ - off_ : end_ - i0_;      \
            int64_t i = i0_, ia = at_[0] + off_ * run_sa, ib = at_[1] + off_ * run_sb;    \
            int64_t ic = at_[2] + off_ * run_sc;                                          \
            __VA_ARGS__;                                                                  \
            (void)i, (void)ia, (void)ib, (void)ic;                                        \
            i0_ += run_len;                                                               \
            off_ = 0;                                                                     \
            for (int d_ = last_ - 1; d_ >= 0; d_--) {                                     \
                for (int k_ = 0; k_ < GT__BROADCAST_MAX; k_++)                            \
                    at_[k_] += bc_->loop_stride[k_][d_];                                  \
                if (++index_[d_] < bc_->loop_shape[d_])                                   \
                    break;                                                                \
                for (int k_ = 0; k_ < GT__BROADCAST_MAX; k_++)                            \
                    at_[k_] -= bc_->loop_stride[k_][d_] * bc_->loop_shape[d_];            \
                index_[d_] = 0;                                                           \
            }                                                                             \
        }                                                                                 \
        (void)run_sa, (void)run_sb, (void)run_sc;                                         \
    } while (0)

/* Every run of the output's n elements. */
#define GT__FOR_EACH_BROADCAST_RUN(bc, n, ...) GT__FOR_EACH_BROADCAST_RUN_IN(bc, 0, n, __VA_ARGS__)

/* The elements of one run (inside GT__FOR_EACH_BROADCAST_RUN), the first two operands'
 * strides given as constants where they are known, so that the loop vectorises. */
#define GT__BROADCAST_RUN_ELEMENTS(sa, sb, ...)                                           \
    for (int64_t j_ = 0; j_ < run_len; j_++, i++, ia += (sa), ib += (sb), ic += run_sc) { \
        __VA_ARGS__;                                                                      \
    }

/* Visits output elements [from, to) with the offsets ia, ib, ic of their operands, in the
 * output's order; offsets a body does not read cost nothing. */
#define GT__FOR_EACH_BROADCAST_IN(bc, from, to, ...)                                       \
    GT__FOR_EACH_BROADCAST_RUN_IN(bc, from, to, {                                         \
        if (run_sa == 1 && run_sb == 1)                                                   \
            GT__BROADCAST_RUN_ELEMENTS(1, 1, __VA_ARGS__)                                 \
        else if (run_sa == 1 && run_sb == 0)                                              \
            GT__BROADCAST_RUN_ELEMENTS(1, 0, __VA_ARGS__)                                 \
        else if (run_sa == 0 && run_sb == 1)                                              \
            GT__BROADCAST_RUN_ELEMENTS(0, 1, __VA_ARGS__)                                 \
        else                                                                              \
            GT__BROADCAST_RUN_ELEMENTS(run_sa, run_sb, __VA_ARGS__)                       \
    })

/* Every output element of n. */
#define GT__FOR_EACH_BROADCAST(bc, n, ...) GT__FOR_EACH_BROADCAST_IN(bc, 0, n, __VA_ARGS__)

#endif
