/* flops.c - the profiler's floating-point operation counts of an op, where known. */
#include "gt_ops_impl.h"

/* Forward flops of `op` making out from in (a multiply-add is 2), and in *backward those of
 * its backward; 0 for ops whose cost is not arithmetic worth counting (copies, reductions,
 * transcendental functions: PyTorch's profiler counts the same set). */
double gt__op_flops(const gt_op_def *op, gt_tensor *const *in, int n_in, const gt_tensor *out,
                    double *backward) {
    double forward = 0, outputs = out ? (double)out->numel : 0;
    *backward = 0;
    if (!out)
        return 0;
    if (op == &gt_op_matmul) { // a[.., M, K] @ b[.., K, N]: 2 M N K per matrix, twice that back
        forward = 2 * outputs * (double)in[0]->shape[in[0]->ndim - 1];
        *backward = 2 * forward;
    } else if (op == &gt_op_linear) { // x[N, IN] w[OUT, IN] -> [N, OUT]
        forward = 2 * outputs * (double)in[1]->shape[1] + (n_in > 2 && in[2] ? outputs : 0);
        *backward = 2 * forward;
    } else if (op == &gt_op_conv2d || op == &gt_op_conv1d) { // w[O,C/G,KH,KW]: 2 C/G KH KW
        int64_t per_output = in[1]->shape[0] ? in[1]->numel / in[1]->shape[0] : 0; /* each */
        forward = 2 * outputs * (double)per_output +
                  (n_in > 2 && in[2] ? outputs : 0);
        *backward = 2 * forward;
    } else if (op == &gt_op_conv_transpose2d) { // x[N,C_in,H,W] w[C_in,C_out/G,KH,KW]
        int64_t per_input = in[1]->shape[0] ? in[1]->numel / in[1]->shape[0] : 0;
        forward = 2 * (double)in[0]->numel * (double)per_input +
                  (n_in > 2 && in[2] ? outputs : 0);
        *backward = 2 * forward;
    } else if (op == &gt_op_conv2d_weight) { // g[N,O,OH,OW] -> w[O,C/G,KH,KW]: 2 C/G KH KW
        int64_t per_output = out->shape[0] ? out->numel / out->shape[0] : 0; /* each of g's */
        forward = 2 * (double)in[1]->numel * (double)per_output;
        *backward = 2 * forward;
    } else if (op == &gt_op_add || op == &gt_op_sub || op == &gt_op_mul || op == &gt_op_div ||
               op == &gt_op_neg || op == &gt_op_scale) {
        forward = outputs;
        *backward = op == &gt_op_mul || op == &gt_op_div ? 2 * outputs : outputs;
    }
    return forward;
}
