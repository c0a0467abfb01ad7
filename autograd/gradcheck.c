/* gradcheck.c - analytic gradients against central differences. */
#include "tape_internal.h"

#include <math.h>
#include <string.h>

gt_gradcheck_opts gt_gradcheck_default_opts(void) {
#ifdef GT_REAL_DOUBLE
    return (gt_gradcheck_opts){.eps = 1e-6, .atol = 1e-5, .rtol = 1e-3};
#else
    return (gt_gradcheck_opts){.eps = 1e-3, .atol = 1e-2, .rtol = 1e-2};
#endif
}

/* f(inputs) as a double; the tape is reset before and after. */
static gt_status eval_scalar(gt_gradcheck_fn f, void *ctx, gt_tape *tape,
                             gt_tensor *const *inputs, double *value) {
    gt_tape_reset(tape);
    gt_tensor *y = f(tape, inputs, ctx);
    if (!y)
        return gt_last_status() != GT_OK ? gt_last_status()
                                         : gt_set_error(GT_ERR_ARG, "gradcheck: f returned NULL");
    if (y->numel != 1) {
        char buf[160];
        return gt_set_error(GT_ERR_SHAPE, "gradcheck: f must return one element, not %s",
                            gt_shape_str(y->ndim, y->shape, buf, sizeof buf));
    }
    *value = (double)y->data[0];
    gt_tape_reset(tape);
    return GT_OK;
}

/* The names of the ops f recorded, each once, in the order they ran; custom ops marked
 * (a wrong backward is most often theirs). */
static void list_ops(const gt_tape *tape, char *buf, size_t size) {
    const gt_node *nodes[64];
    int n = 0;
    for (const gt_node *node = tape->last; node && n < 64; node = node->prev)
        nodes[n++] = node;
    size_t len = 0;
    buf[0] = 0;
    for (int i = n; i-- > 0;) {
        bool seen = false;
        for (int j = n - 1; j > i && !seen; j--)
            seen = strcmp(nodes[j]->name, nodes[i]->name) == 0;
        if (seen || len >= size)
            continue;
        int wrote = snprintf(buf + len, size - len, "%s%s%s", len ? ", " : "", nodes[i]->name,
                             gt__node_custom_op(nodes[i]) ? " (custom)" : "");
        len += wrote > 0 ? (size_t)wrote : 0;
    }
}

gt_status gt_gradcheck(gt_gradcheck_fn f, void *ctx, gt_tensor *const *inputs, int n_inputs,
                       const gt_gradcheck_opts *opts, gt_gradcheck_result *result) {
    if (!f || !result || (n_inputs > 0 && !inputs))
        return gt_set_error(GT_ERR_ARG, "gradcheck: f, inputs and result must not be NULL");
    gt_gradcheck_opts o = opts ? *opts : gt_gradcheck_default_opts();
    memset(result, 0, sizeof *result);
    result->worst_input = -1;
    for (int k = 0; k < n_inputs; k++) {
        if (!inputs[k])
            continue; /* an absent optional input of f */
        if (inputs[k]->flags & GT__ON_TAPE)
            return gt_set_error(GT_ERR_ARG, "gradcheck: input %d must be a heap tensor", k);
        gt_tensor_zero_grad(inputs[k]);
    }
    gt_tape *tape = gt_tape_new();
    if (!tape)
        return GT_ERR_NOMEM;
    gt_status status = GT_OK;
    /* Analytic gradients. */
    gt_tensor *y = f(tape, inputs, ctx);
    if (!y) {
        status = gt_last_status() != GT_OK ? gt_last_status()
                                           : gt_set_error(GT_ERR_ARG, "gradcheck: f returned NULL");
        goto done;
    }
    status = gt_backward(tape, y);
    if (status != GT_OK)
        goto done;
    char ops[160];
    list_ops(tape, ops, sizeof ops);
    double worst_ratio = -1;
    bool any_zero_input = false;
    int zero_input = -1;
    for (int k = 0; k < n_inputs && status == GT_OK; k++) {
        gt_tensor *x = inputs[k];
        if (!x || !(x->flags & GT__REQUIRES_GRAD))
            continue;
        double grad_norm = 0;
        for (int64_t i = 0; i < x->numel; i++)
            grad_norm += fabs((double)gt__grad_fresh(x)[i]);
        if (grad_norm == 0 && x->numel > 0 && !o.allow_zero_grad) {
            any_zero_input = true;
            zero_input = k;
        }
        int64_t count = x->numel;
        if (o.max_per_input > 0 && o.max_per_input < count)
            count = o.max_per_input;
        for (int64_t j = 0; j < count; j++) {
            /* every element, or `count` of them from the first to the last */
            int64_t i = count == x->numel ? j : count == 1 ? 0 : j * (x->numel - 1) / (count - 1);
            gt_real saved = x->data[i];
            double plus, minus;
            x->data[i] = (gt_real)(saved + o.eps);
            double step_up = (double)x->data[i] - (double)saved;
            status = eval_scalar(f, ctx, tape, inputs, &plus);
            x->data[i] = (gt_real)(saved - o.eps);
            double step_down = (double)saved - (double)x->data[i];
            if (status == GT_OK)
                status = eval_scalar(f, ctx, tape, inputs, &minus);
            x->data[i] = saved;
            if (status != GT_OK)
                break;
            double numeric = (plus - minus) / (step_up + step_down);
            double analytic = (double)gt__grad_fresh(x)[i];
            double err = fabs(analytic - numeric);
            double rel = err / fmax(fabs(numeric), 1e-12);
            double ratio = err / (o.atol + o.rtol * fabs(numeric));
            if (!(err == err))
                ratio = INFINITY; /* NaN never passes */
            result->max_abs_err = fmax(result->max_abs_err, err);
            result->max_rel_err = fmax(result->max_rel_err, rel);
            result->checked++;
            if (ratio > worst_ratio) {
                worst_ratio = ratio;
                result->worst_input = k;
                result->worst_index = i;
                result->worst_analytic = analytic;
                result->worst_numeric = numeric;
            }
        }
    }
    if (status != GT_OK)
        goto done;
    if (result->checked == 0) {
        snprintf(result->message, sizeof result->message,
                 "FAIL: no input requires a gradient, nothing was checked");
    } else if (any_zero_input) {
        snprintf(result->message, sizeof result->message,
                 "FAIL: the analytic gradient of input %d is all zero (a vacuous check)",
                 zero_input);
    } else {
        result->passed = worst_ratio <= 1.0;
        int len = snprintf(result->message, sizeof result->message,
                           "%s: max abs err %.3g, max rel err %.3g; worst: input %d element %lld "
                           "analytic %.9g numeric %.9g%s%s",
                           result->passed ? "PASS" : "FAIL", result->max_abs_err,
                           result->max_rel_err, result->worst_input, (long long)result->worst_index,
                           result->worst_analytic, result->worst_numeric,
                           result->passed ? "" : "; ops of f: ", result->passed ? "" : ops);
        /* A long list of ops does not fit beside the figures: the cut shows as "..." */
        if (len >= (int)sizeof result->message)
            memcpy(result->message + sizeof result->message - 4, "...", 4);
    }
done:
    for (int k = 0; k < n_inputs; k++)
        if (inputs[k])
            gt_tensor_zero_grad(inputs[k]);
    gt_tape_free(tape);
    return status;
}
