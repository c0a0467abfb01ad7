/* flops.c - the profiler's floating-point operation counts of an op, where known. */
#include "gt_ops_impl.h"

/* Forward flops of `op` making out from in (a multiply-add is 2), and in *backward those of
 * its backward; 0 for ops whose cost is not arithmetic worth counting (copies, reductions,
 * transcendental functions: PyTorch's profiler counts the same set). */
double gt__op_flops(gt_op op, gt_tensor *const *in, int n_in, const gt_tensor *out,
                    double *backward) {
    double forward = 0, outputs = out ? (double)out->numel : 0;
    *backward = 0;
    if (!out)
        return 0;
    switch (op) {
    case GT_OP_MATMUL: // a[.., M, K] @ b[.., K, N]: 2 M N K per matrix, twice that backward
        forward = 2 * outputs * (double)in[0]->shape[in[0]->ndim - 1];
        *backward = 2 * forward;
        break;
    case GT_OP_LINEAR: // x[N, IN] w[OUT, IN] -> [N, OUT]
        forward = 2 * outputs * (double)in[1]->shape[1] + (n_in > 2 && in[2] ? outputs : 0);
        *backward = 2 * forward;
        break;
    case GT_OP_CONV2D: // x[N,C,H,W] w[O,C,KH,KW] -> [N,O,H',W']: 2 C KH KW per output
        forward = 2 * outputs * (double)(in[1]->numel / in[1]->shape[0]) +
                  (n_in > 2 && in[2] ? outputs : 0);
        *backward = 2 * forward;
        break;
    case GT_OP_ADD:
    case GT_OP_SUB:
    case GT_OP_MUL:
    case GT_OP_DIV:
    case GT_OP_NEG:
    case GT_OP_SCALE:
        forward = outputs;
        *backward = op == GT_OP_MUL || op == GT_OP_DIV ? 2 * outputs : outputs;
        break;
    default: break;
    }
    return forward;
}
