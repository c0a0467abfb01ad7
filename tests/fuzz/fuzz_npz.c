/* fuzz_npz.c - gt_npz_load on any bytes, and gt_model_import_npz of what loads. A success
 * must be tensors whose shapes and data agree under unique keys, and that save and load back
 * bit for bit; a failure must name the file; an import that fails must change no parameter. */
#include "fuzz_support.h"

/* Members are checked against the archive's size (and inflated ones against their declared
 * size) before they are allocated; the budget only stops a regression from exhausting memory. */
#define FUZZ_NPZ_MAX_LIVE_BYTES ((size_t)64 << 20)

static void check_round_trip(const gt_npz *npz) {
    char path[512];
    snprintf(path, sizeof path, "%s/round_trip.npz", fuzz_scratch());
    int n = gt_npz_count(npz);
    const char **keys = calloc((size_t)n + 1, sizeof *keys);
    const gt_tensor **tensors = calloc((size_t)n + 1, sizeof *tensors);
    FUZZ_ASSERT(keys && tensors);
    for (int i = 0; i < n; i++) {
        keys[i] = gt_npz_key(npz, i);
        tensors[i] = gt_npz_tensor(npz, i);
    }
    if (gt_npz_save(path, keys, tensors, n) != GT_OK) {
        FUZZ_ASSERT(gt_last_status() == GT_ERR_NOMEM || gt_last_status() == GT_ERR_IO ||
                    gt_last_status() == GT_ERR_ARG); /* a key with '/' cannot be written */
    } else {
        gt_npz *back = gt_npz_load(path);
        FUZZ_ASSERT(back || gt_last_status() == GT_ERR_NOMEM);
        for (int i = 0; back && i < n; i++) {
            const gt_tensor *a = tensors[i], *b = gt_npz_find(back, keys[i]);
            FUZZ_ASSERT(b && gt_shape_equal(gt_tensor_ndim(a), gt_tensor_shape(a),
                                            gt_tensor_ndim(b), gt_tensor_shape(b)));
            FUZZ_ASSERT(!memcmp(gt_tensor_cdata(a), gt_tensor_cdata(b),
                                (size_t)gt_tensor_numel(a) * sizeof(gt_real)));
        }
        gt_npz_free(back);
    }
    free(keys);
    free(tensors);
}

/* The seeds hold "fc.weight" [2, 3] and "fc.bias" [2]: a model with those names may take
 * them; whatever fails leaves its parameters as they were. */
static void check_import(const char *path) {
    gt_module *root = gt_nn_sequential();
    if (!root)
        return;
    if (gt_module_add_child(root, "fc", gt_nn_linear(2, true)) != GT_OK)
        return;
    gt_model *m = gt_model_from_module(root, 1, (int64_t[]){3}, 1);
    if (!m)
        return;
    gt_real before[8];
    memcpy(before, gt_model_data(m), 8 * sizeof(gt_real));
    if (gt_model_import_npz(m, path) != GT_OK)
        FUZZ_ASSERT(!memcmp(before, gt_model_data(m), 8 * sizeof(gt_real)));
    gt_model_free(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_scratch();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_test_alloc alloc;
    fuzz_alloc_begin(&alloc, FUZZ_NPZ_MAX_LIVE_BYTES, 0);
    const char *path = fuzz_file(data, size);
    gt_npz *npz = gt_npz_load(path);
    if (!npz) {
        gt_status status = gt_last_status();
        FUZZ_ASSERT(status == GT_ERR_FORMAT || status == GT_ERR_UNSUPPORTED ||
                    status == GT_ERR_IO || status == GT_ERR_NOMEM);
        FUZZ_ASSERT(status == GT_ERR_NOMEM || strstr(gt_last_error(), path) != NULL);
    } else {
        for (int i = 0; i < gt_npz_count(npz); i++) {
            const gt_tensor *t = gt_npz_tensor(npz, i);
            FUZZ_ASSERT(gt_npz_find(npz, gt_npz_key(npz, i)) == t); /* keys are unique */
            FUZZ_ASSERT(gt_shape_numel(gt_tensor_ndim(t), gt_tensor_shape(t)) ==
                        gt_tensor_numel(t));
            double sum = 0; /* reads every element: a short buffer is an ASan report */
            for (int64_t k = 0; k < gt_tensor_numel(t); k++)
                sum += gt_tensor_cdata(t)[k];
            (void)sum;
        }
        check_round_trip(npz);
        gt_npz_free(npz);
        check_import(path);
    }
    fuzz_alloc_end(&alloc);
    return 0;
}
