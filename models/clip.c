/* clip.c - gradient clipping by the total norm (torch.nn.utils.clip_grad_norm_). */
#include "gt_nn.h"

#include <math.h>

// grads of params[n] -> their joint 2-norm; scaled by max_norm / (norm + 1e-6) when above it
gt_status gt_clip_grad_norm(gt_tensor *const *params, int n, double max_norm,
                            double *total_norm) {
    if ((n && !params) || n < 0 || !(max_norm > 0) || !isfinite(max_norm))
        return gt_set_error(GT_ERR_ARG, "clip_grad_norm: needs n >= 0 parameters and a finite "
                            "max_norm > 0 (got %g)", max_norm);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        const gt_real *g = params[i] ? gt_tensor_grad(params[i]) : NULL;
        for (int64_t k = 0; g && k < gt_tensor_numel(params[i]); k++)
            sum += (double)g[k] * (double)g[k];
    }
    double norm = sqrt(sum);
    if (total_norm)
        *total_norm = norm;
    if (!(norm > max_norm)) /* also a NaN norm: the caller decides (it is returned) */
        return GT_OK;
    gt_real scale = (gt_real)(max_norm / (norm + 1e-6));
    for (int i = 0; i < n; i++) {
        gt_real *g = params[i] ? gt_tensor_grad(params[i]) : NULL;
        for (int64_t k = 0; g && k < gt_tensor_numel(params[i]); k++)
            g[k] *= scale;
    }
    return GT_OK;
}
