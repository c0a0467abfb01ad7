/* gt_broadcast_impl.h - NumPy broadcasting of two or three operands, shared by the
 * elementwise families (elementwise.c, compare.c); not installed. */
#ifndef GT_BROADCAST_IMPL_H
#define GT_BROADCAST_IMPL_H

#include "gt_ops_impl.h"

#define GT__BROADCAST_MAX 3

/* Where each output element reads its operands: stride[k] is operand k's stride along
 * each output dim, 0 along a dim it is broadcast over. */
typedef struct gt__broadcast {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    int64_t stride[GT__BROADCAST_MAX][GT_MAX_DIMS];
    bool same_shape; /* every operand has the output's shape */
} gt__broadcast;

/* The broadcast shape of n (2 or 3) operands; GT_ERR_SHAPE naming op and every shape when
 * they do not broadcast ("add: shapes [2, 3] and [4] cannot be broadcast"). */
gt_status gt__broadcast_shapes(const char *op, int n, const gt_tensor *const *t,
                               gt__broadcast *bc);

/* Visits every output element i with the offsets ia, ib, ic of its operands (an odometer
 * over the output's index); offsets a body does not read cost nothing. */
#define GT__FOR_EACH_BROADCAST(bc, n, ...)                                                 \
    do {                                                                                  \
        int64_t index_[GT_MAX_DIMS] = {0};                                                \
        int64_t ia = 0, ib = 0, ic = 0;                                                   \
        for (int64_t i = 0; i < (n); i++) {                                               \
            __VA_ARGS__;                                                                  \
            for (int d_ = (bc)->ndim - 1; d_ >= 0; d_--) {                                \
                ia += (bc)->stride[0][d_];                                                \
                ib += (bc)->stride[1][d_];                                                \
                ic += (bc)->stride[2][d_];                                                \
                if (++index_[d_] < (bc)->shape[d_])                                       \
                    break;                                                                \
                ia -= (bc)->stride[0][d_] * (bc)->shape[d_];                              \
                ib -= (bc)->stride[1][d_] * (bc)->shape[d_];                              \
                ic -= (bc)->stride[2][d_] * (bc)->shape[d_];                              \
                index_[d_] = 0;                                                           \
            }                                                                             \
        }                                                                                 \
        (void)ia, (void)ib, (void)ic;                                                     \
    } while (0)

#endif
