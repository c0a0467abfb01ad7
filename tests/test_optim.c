/* test_optim.c - optimizer configs against torch.optim: a config that sets only some
 * fields takes PyTorch's defaults for the rest (0 means "default", GT_OPTIM_ZERO a real 0);
 * AdamW and SGD with Nesterov momentum and weight decay take PyTorch's steps.
 *
 * The expected parameters were computed once, in float64, by
 *     /usr/bin/python3 optim_expected.py     (torch 1.13; the script is below)
 * over p0 = [1, -2, 0.5, 0] and the loss sum(0.5 a p^2 + b p), a = [1, 0.5, 2, 1],
 * b = [0.3, -0.1, 0, 0], whose gradient is a p + b (the last element's stays 0: a config
 * whose eps were 0 would divide 0 by 0 there):
 *     import torch
 *     torch.set_default_dtype(torch.float64)
 *     a = torch.tensor([1.0, 0.5, 2.0, 1.0]); b = torch.tensor([0.3, -0.1, 0.0, 0.0])
 *     def run(make):
 *         p = torch.tensor([1.0, -2.0, 0.5, 0.0], requires_grad=True)
 *         opt = make([p]); out = []
 *         for _ in range(3):
 *             opt.zero_grad(); (0.5 * a * p * p + b * p).sum().backward(); opt.step()
 *             out.append([float(x) for x in p.detach()])
 *         return out
 *     run(lambda ps: torch.optim.Adam(ps, lr=0.01))        # and the other cases below
 */
#include "gt_test.h"

#include <math.h>

static const double grad_scale[4] = {1, 0.5, 2, 1}, grad_shift[4] = {0.3, -0.1, 0, 0};

static gt_tensor *start(void) {
    gt_tensor *p = gt_zeros(GT_SHAPE(4));
    const gt_real p0[4] = {1, -2, 0.5, 0};
    memcpy(gt_tensor_data(p), p0, sizeof p0);
    CHECK(gt_tensor_set_requires_grad(p, true) == GT_OK);
    return p;
}

/* The optimizer of a case over the one parameter p. */
static gt_optimizer *adam_lr_only(gt_tensor **p) {
    return gt_adam_new(p, 1, &(gt_adam_config){.lr = 0.01});
}
static gt_optimizer *adam_beta1_zero(gt_tensor **p) {
    return gt_adam_new(p, 1, &(gt_adam_config){.lr = 0.01, .beta1 = GT_OPTIM_ZERO});
}
static gt_optimizer *adamw_nothing_set(gt_tensor **p) {
    return gt_adamw_new(p, 1, &(gt_adam_config){0});
}
static gt_optimizer *adamw_lr_and_decay(gt_tensor **p) {
    return gt_adamw_new(p, 1, &(gt_adam_config){.lr = 0.1, .weight_decay = 0.1});
}
static gt_optimizer *adamw_no_decay(gt_tensor **p) {
    return gt_adamw_new(p, 1, &(gt_adam_config){.lr = 0.1, .weight_decay = GT_OPTIM_ZERO});
}
static gt_optimizer *sgd_nesterov_decay(gt_tensor **p) {
    return gt_sgd_new(p, 1, &(gt_sgd_config){.lr = 0.1, .momentum = 0.9, .nesterov = true,
                                             .weight_decay = 0.01});
}

/* Each gradtape config beside the PyTorch optimizer that made its expected parameters,
 * after each of 3 steps. */
static const struct torch_case {
    const char *torch;
    gt_optimizer *(*make)(gt_tensor **p);
    double expected[3][4];
} torch_cases[] = {
    {"Adam(ps, lr=0.01): only lr set, PyTorch's betas and eps", adam_lr_only,
     {{0.99000000007692313, -1.990000000090909, 0.4900000001, 0},
      {0.98000208747180373, -1.980001213626263, 0.48000577586768095, 0},
      {0.97000767038961511, -1.9700044539461352, 0.47002132940566022, 0}}},
    {"Adam(ps, lr=0.01, betas=(0.0, 0.999)): GT_OPTIM_ZERO is a real 0", adam_beta1_zero,
     {{0.99000000007692313, -1.990000000090909, 0.4900000001, 0},
      {0.98003866520056426, -1.9800227937407382, 0.48010146524766162, 0},
      {0.97011613084369375, -1.9700684251293394, 0.47030536583469157, 0}}},
    {"AdamW(ps): nothing set, lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2",
     adamw_nothing_set,
     {{0.99899000000769234, -1.9989800000090909, 0.49899500001000002, 0},
      {0.99798003044978556, -1.9979600223328593, 0.49799006302073029, 0},
      {0.9969701048522408, -1.9969400750246569, 0.49698522434065778, 0}}},
    {"AdamW(ps, lr=0.1, weight_decay=0.1): decoupled decay", adamw_lr_and_decay,
     {{0.8900000007692308, -1.8800000009090909, 0.39500000099999999, 0},
      {0.78142752203488974, -1.7613853917440474, 0.29233870425507857, 0},
      {0.67452869537450089, -1.6442787629573425, 0.19341560428094734, 0}}},
    {"AdamW(ps, lr=0.1, weight_decay=0.0): GT_OPTIM_ZERO, as 0 means 1e-2", adamw_no_decay,
     {{0.90000000076923081, -1.9000000009090909, 0.40000000099999999, 0},
      {0.80028827172291672, -1.8001482374252264, 0.30118742165916679, 0},
      {0.70109478506956957, -1.7005538164435221, 0.20487125256029959, 0}}},
    {"SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)", sgd_nesterov_decay,
     {{0.75109999999999999, -1.7871999999999999, 0.30904999999999999, 0},
      {0.44385390999999996, -1.5043003199999998, 0.10961880499999996, 0},
      {0.12043185367099994, -1.1759563869919998, -0.055825547129500067, 0}}},
};

GT_TEST(optimizers_take_pytorchs_steps_with_pytorchs_defaults) {
    for (size_t k = 0; k < sizeof torch_cases / sizeof torch_cases[0]; k++) {
        const struct torch_case *c = &torch_cases[k];
        gt_tensor *p = start();
        gt_optimizer *opt = c->make(&p);
        CHECK(opt != NULL);
        int failures_before = gt_test_failures;
        for (int step = 0; opt && step < 3; step++) {
            gt_real *data = gt_tensor_data(p), *grad = gt_tensor_grad(p);
            for (int i = 0; i < 4; i++)
                grad[i] = (gt_real)(grad_scale[i] * (double)data[i] + grad_shift[i]);
            CHECK(gt_optimizer_step(opt) == GT_OK);
            for (int i = 0; i < 4; i++) {
                CHECK(isfinite((double)data[i]));
                CHECK_CLOSE(data[i], c->expected[step][i], GT_TEST_TOL);
            }
        }
        if (gt_test_failures != failures_before)
            fprintf(stderr, "  in the case of torch.optim.%s\n", c->torch);
        gt_optimizer_free(opt);
        gt_tensor_free(p);
    }
}

GT_TEST(adam_given_nothing_is_adam_with_pytorchs_defaults) {
    gt_tensor *p = start(), *q = start();
    gt_optimizer *zeros = gt_adam_new(&p, 1, &(gt_adam_config){0});
    gt_optimizer *defaults = gt_adam_new(&q, 1, &(gt_adam_config){.lr = 1e-3, .beta1 = 0.9,
                                                                  .beta2 = 0.999, .eps = 1e-8});
    CHECK(zeros && defaults && gt_optimizer_lr(zeros) == 1e-3);
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < 4; i++)
            gt_tensor_grad(p)[i] = gt_tensor_grad(q)[i] = (gt_real)grad_shift[i];
        CHECK(gt_optimizer_step(zeros) == GT_OK && gt_optimizer_step(defaults) == GT_OK);
    }
    CHECK(memcmp(gt_tensor_data(p), gt_tensor_data(q), 4 * sizeof(gt_real)) == 0);
    gt_optimizer_free(zeros);
    gt_optimizer_free(defaults);
    gt_tensor_free(p);
    gt_tensor_free(q);
}

GT_TEST(adamw_defaults_are_pytorchs) {
    gt_adam_config d = gt_adamw_defaults();
    CHECK(d.lr == 1e-3 && d.beta1 == 0.9 && d.beta2 == 0.999 && d.eps == 1e-8 &&
          d.weight_decay == 1e-2);
    CHECK(!strcmp(gt_optimizer_kind_name(GT_OPTIM_ADAMW), "adamw"));
}

GT_TEST(optimizer_fields_refuse_negatives_other_than_gt_optim_zero) {
    gt_tensor *p = start();
    CHECK(!gt_adam_new(&p, 1, &(gt_adam_config){.lr = 0.01, .eps = -1e-8}));
    CHECK_ERROR_HAS("adam: bad eps");
    CHECK(!gt_adamw_new(&p, 1, &(gt_adam_config){.beta2 = -0.5}));
    CHECK_ERROR_HAS("adamw: bad beta2");
    CHECK(!gt_adamw_new(&p, 1, NULL));
    CHECK_ERROR_HAS("adamw: config is NULL");
    gt_tensor_free(p);
}

GT_TEST_MAIN()
