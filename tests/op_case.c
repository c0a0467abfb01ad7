/* op_case.c - turns one case string of an op's table entry ("2x3x7x6 4x3x3x3 4; stride=2",
 * see gt_op_def.cases) into inputs drawn from each input's domain and a filled args struct,
 * for the gradient-check, error and oracle suites. */
#include "gt_test.h"

#include <ctype.h>

static const char *const domain_names[] = {"normal", "positive", "spread", "classes", "probs",
                                             "mask", "index"};

static bool parse_shape(const char *text, size_t len, int *ndim, int64_t *shape) {
    *ndim = 0;
    if (len == 2 && strncmp(text, "()", 2) == 0)
        return true;
    const char *p = text, *end = text + len;
    while (p < end) {
        if (!isdigit((unsigned char)*p) || *ndim == GT_MAX_DIMS)
            return false;
        char *next;
        shape[(*ndim)++] = strtoll(p, &next, 10);
        p = next;
        if (p < end && *p++ != 'x')
            return false;
    }
    return *ndim > 0;
}

/* Values for one input of `shape` from `domain`; classes bound from the first input,
 * indices below `bound`. */
static gt_tensor *draw_input(int ndim, const int64_t *shape, gt_domain domain,
                             const gt_tensor *first, int64_t bound, gt_rng *rng) {
    gt_tensor *t = gt_zeros(ndim, shape);
    if (!t)
        return NULL;
    gt_real *x = gt_tensor_data(t);
    int64_t n = gt_tensor_numel(t), classes = 1;
    if (first && gt_tensor_ndim(first) >= 1)
        classes = gt_tensor_shape(first)[gt_tensor_ndim(first) >= 2 ? 1 : 0];
    for (int64_t i = 0; i < n; i++) {
        switch (domain) {
        case GT_DOMAIN_NORMAL: x[i] = (gt_real)gt_rng_normal(rng); break;
        case GT_DOMAIN_POSITIVE: x[i] = (gt_real)(0.5 + 1.5 * gt_rng_uniform(rng)); break;
        case GT_DOMAIN_SPREAD: x[i] = (gt_real)(0.05 * (double)(i - n / 2) + 0.025); break;
        case GT_DOMAIN_CLASSES:
            x[i] = (gt_real)gt_rng_below(rng, (uint64_t)(classes > 0 ? classes : 1));
            break;
        case GT_DOMAIN_PROBS: x[i] = (gt_real)gt_rng_uniform(rng); break;
        case GT_DOMAIN_MASK: x[i] = (gt_real)(i % 2); break;
        case GT_DOMAIN_INDEX:
            x[i] = (gt_real)gt_rng_below(rng, (uint64_t)(bound > 0 ? bound : 1));
            break;
        }
    }
    if (domain == GT_DOMAIN_SPREAD || domain == GT_DOMAIN_MASK) /* shuffled, so that maxima
                                                      (and a mask's ones) land anywhere */
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)gt_rng_below(rng, (uint64_t)i + 1);
            gt_real tmp = x[i];
            x[i] = x[j];
            x[j] = tmp;
        }
    if (domain == GT_DOMAIN_PROBS && ndim > 0) { /* rows of the last dim sum to one */
        int64_t k = shape[ndim - 1];
        for (int64_t r = 0; k && r < n / k; r++) {
            gt_real total = 0;
            for (int64_t j = 0; j < k; j++)
                total += x[r * k + j];
            for (int64_t j = 0; j < k; j++)
                x[r * k + j] /= total;
        }
    }
    return t;
}

uint64_t gt_test_case_seed(const gt_op_def *op, const char *text) {
    uint64_t h = 1469598103934665603ull;
    for (const char *parts[] = {op->name, "|", text}, **p = parts; p < parts + 3; p++)
        for (const char *c = *p; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ull;
    return h;
}

bool gt_test_op_case_make(const gt_op_def *op, const char *text, uint64_t seed,
                          gt_test_op_case *c) {
    memset(c, 0, sizeof *c);
    c->op = op;
    snprintf(c->text, sizeof c->text, "%s", text);
    const char *arrow = strstr(text, "=>");
    size_t body = arrow ? (size_t)(arrow - text) : strlen(text);
    if (arrow)
        snprintf(c->error, sizeof c->error, "%s", arrow + 2 + strspn(arrow + 2, " "));
    const char *semi = memchr(text, ';', body);
    size_t inputs_len = semi ? (size_t)(semi - text) : body;
    if (semi)
        snprintf(c->attrs, sizeof c->attrs, "%.*s", (int)(body - inputs_len - 1), semi + 1);
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    if (op->n_attrs && gt_op_args_parse(op, c->attrs, c->args) != GT_OK) {
        if (!c->error[0]) {
            fprintf(stderr, "  %s case \"%s\": %s\n", op->name, text, gt_last_error());
            return false;
        }
        c->args_failed = true; /* an error case may be about the attribute text itself */
    }
    /* the shapes first, then the values: an index input is bounded by another's size */
    int ndims[GT_TEST_MAX_INPUTS];
    int64_t shapes[GT_TEST_MAX_INPUTS][GT_MAX_DIMS];
    gt_domain domains[GT_TEST_MAX_INPUTS];
    bool present[GT_TEST_MAX_INPUTS] = {0};
    const char *p = text, *end = text + inputs_len;
    while (p < end) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ;=");
        if (p + len > end)
            len = (size_t)(end - p);
        if (!len)
            break;
        if (c->n_in == GT_TEST_MAX_INPUTS) {
            fprintf(stderr, "  %s case \"%s\": too many inputs\n", op->name, text);
            return false;
        }
        int index = c->n_in++;
        const gt_input_def *def = gt_op_input(op, index);
        gt_domain domain = def ? def->domain : GT_DOMAIN_NORMAL;
        const char *colon = memchr(p, ':', len);
        size_t shape_len = colon ? (size_t)(colon - p) : len;
        if (colon) {
            size_t name_len = len - shape_len - 1;
            bool found = false;
            for (int d = 0; d < (int)(sizeof domain_names / sizeof domain_names[0]); d++)
                if (strlen(domain_names[d]) == name_len &&
                    strncmp(domain_names[d], colon + 1, name_len) == 0)
                    domain = (gt_domain)d, found = true;
            if (!found) {
                fprintf(stderr, "  %s case \"%s\": no domain %.*s\n", op->name, text,
                        (int)name_len, colon + 1);
                return false;
            }
        }
        domains[index] = domain;
        if (!(shape_len == 1 && *p == '_')) {
            if (!parse_shape(p, shape_len, &ndims[index], shapes[index])) {
                fprintf(stderr, "  %s case \"%s\": bad shape %.*s\n", op->name, text,
                        (int)shape_len, p);
                return false;
            }
            present[index] = true;
        }
        p += len;
    }
    for (int index = 0; index < c->n_in; index++) {
        const gt_input_def *def = gt_op_input(op, index);
        int from = def ? def->bound_input : 0;
        int64_t bound = from < c->n_in && present[from]
                            ? gt_op_index_bound(op, ndims[from], shapes[from], c->args)
                            : 1;
        if (!present[index])
            continue;
        c->in[index] = draw_input(ndims[index], shapes[index], domains[index], c->in[0], bound,
                                  &rng);
        bool grad = domains[index] != GT_DOMAIN_CLASSES && domains[index] != GT_DOMAIN_PROBS &&
                    domains[index] != GT_DOMAIN_INDEX && domains[index] != GT_DOMAIN_MASK &&
                    !(def && def->no_grad);
        if (c->in[index] && grad)
            gt_tensor_set_requires_grad(c->in[index], true);
    }
    return true;
}

void gt_test_op_case_free(gt_test_op_case *c) {
    for (int i = 0; i < c->n_in; i++)
        gt_tensor_free(c->in[i]);
    memset(c, 0, sizeof *c);
}

gt_tensor *gt_test_op_case_run(gt_tape *tape, const gt_test_op_case *c,
                               gt_tensor *const *inputs) {
    return gt_op_call(tape, c->op, inputs, c->n_in, c->op->n_attrs ? c->args : NULL);
}
