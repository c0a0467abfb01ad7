/* fuzz_spec.c - gt_spec_parse on any text, and the model of what parses. A bad spec must be
 * refused with a message that starts "model spec" (or an allocation failure); a spec that
 * parses is built for samples of [1, 8, 8], and a model that builds must run a batch to the
 * output shape its summary gives, and save and load back with the same spec and values.
 * spec.dict, the layers' names and keywords, helps libFuzzer write specs that parse. */
#include "fuzz_support.h"

#define FUZZ_SPEC_MAX_LIVE_BYTES ((size_t)64 << 20)
#define FUZZ_SPEC_MAX_BYTES 4096     /* longer texts only repeat what shorter ones reach */
#define FUZZ_SPEC_MAX_FLOPS 2000000 /* a forward pass worth running for every input */

static void check_model(gt_model *m, const char *spec) {
    const gt_sample_shape *out = gt_module_out_shape(gt_model_module(m));
    if (gt_model_flops(m) <= FUZZ_SPEC_MAX_FLOPS) {
        gt_tape *tape = gt_tape_new();
        gt_tensor *x = gt_zeros(GT_SHAPE(2, 1, 8, 8));
        gt_tensor *y = tape && x ? gt_model_forward(tape, m, x) : NULL;
        if (y) {
            FUZZ_ASSERT(gt_tensor_ndim(y) == out->ndim + 1 && gt_tensor_dim(y, 0) == 2);
            for (int d = 0; d < out->ndim; d++)
                FUZZ_ASSERT(gt_tensor_dim(y, d + 1) == out->dims[d]);
        } else {
            /* or an Embedding given what its previous layer made: not whole numbers in range */
            FUZZ_ASSERT(gt_last_status() == GT_ERR_NOMEM ||
                        (gt_last_status() == GT_ERR_ARG &&
                         !strncmp(gt_last_error(), "embedding: index", 16)));
        }
        gt_tensor_free(x);
        gt_tape_free(tape);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/spec.gtc", fuzz_scratch());
    if (gt_model_save(m, NULL, NULL, 0, path) != GT_OK) {
        FUZZ_ASSERT(gt_last_status() == GT_ERR_NOMEM || gt_last_status() == GT_ERR_IO ||
                    gt_last_status() == GT_ERR_ARG); /* e.g. a name past 255 bytes */
        return;
    }
    gt_model *back = gt_model_load(path);
    if (!back) {
        FUZZ_ASSERT(gt_last_status() == GT_ERR_NOMEM);
        return;
    }
    FUZZ_ASSERT(!strcmp(gt_model_spec(back), spec));
    FUZZ_ASSERT(gt_model_numel(back) == gt_model_numel(m));
    FUZZ_ASSERT(!memcmp(gt_model_data(back), gt_model_data(m),
                        (size_t)gt_model_numel(m) * sizeof(gt_real)));
    gt_model_free(back);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_scratch();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > FUZZ_SPEC_MAX_BYTES)
        return 0;
    char *spec = malloc(size + 1);
    FUZZ_ASSERT(spec);
    memcpy(spec, data, size);
    spec[size] = '\0';
    gt_test_alloc alloc;
    fuzz_alloc_begin(&alloc, FUZZ_SPEC_MAX_LIVE_BYTES, 0);
    gt_module *parsed = gt_spec_parse(spec);
    if (!parsed) {
        gt_status status = gt_last_status();
        FUZZ_ASSERT(status == GT_ERR_ARG || status == GT_ERR_NOMEM);
        FUZZ_ASSERT(status == GT_ERR_NOMEM || !strncmp(gt_last_error(), "model spec", 10));
    } else {
        gt_module_free(parsed);
        gt_model *m = gt_model_from_spec(spec, 3, (int64_t[]){1, 8, 8}, 1);
        if (m)
            check_model(m, spec);
        else
            FUZZ_ASSERT(gt_last_status() == GT_ERR_SHAPE || gt_last_status() == GT_ERR_ARG ||
                        gt_last_status() == GT_ERR_NOMEM);
        gt_model_free(m);
    }
    fuzz_alloc_end(&alloc);
    free(spec);
    return 0;
}
