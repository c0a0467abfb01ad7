/* fuzz_npy.c - gt_npy_load on any bytes. A success must be a tensor whose shape and data
 * agree, and that saves and loads back bit for bit; a failure must name the file. */
#define FUZZ_SCRATCH_INITIALIZE /* LLVMFuzzerInitialize makes the scratch folder */
#include "fuzz_support.h"

/* A .npy file is checked against its size before the tensor is allocated, so a claim never
 * exceeds a few times the input; the budget only stops a regression from exhausting memory. */
#define FUZZ_NPY_MAX_LIVE_BYTES ((size_t)64 << 20)

static void check_round_trip(const gt_tensor *t) {
    char path[512];
    snprintf(path, sizeof path, "%s/round_trip.npy", fuzz_scratch());
    if (gt_npy_save(path, t) != GT_OK) {
        FUZZ_ASSERT(gt_last_status() == GT_ERR_NOMEM || gt_last_status() == GT_ERR_IO);
        return;
    }
    gt_tensor *back = gt_npy_load(path);
    if (!back) {
        FUZZ_ASSERT(gt_last_status() == GT_ERR_NOMEM);
        return;
    }
    FUZZ_ASSERT(gt_shape_equal(gt_tensor_ndim(t), gt_tensor_shape(t), gt_tensor_ndim(back),
                               gt_tensor_shape(back)));
    FUZZ_ASSERT(memcmp(gt_tensor_cdata(t), gt_tensor_cdata(back),
                       (size_t)gt_tensor_numel(t) * sizeof(gt_real)) == 0);
    gt_tensor_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_test_alloc alloc;
    fuzz_alloc_begin(&alloc, FUZZ_NPY_MAX_LIVE_BYTES, 0);
    const char *path = fuzz_file(data, size);
    gt_tensor *t = gt_npy_load(path);
    if (!t) {
        gt_status status = gt_last_status();
        FUZZ_ASSERT(status == GT_ERR_FORMAT || status == GT_ERR_UNSUPPORTED ||
                    status == GT_ERR_IO || status == GT_ERR_NOMEM);
        FUZZ_ASSERT(strstr(gt_last_error(), path) != NULL);
    } else {
        int ndim = gt_tensor_ndim(t);
        FUZZ_ASSERT(ndim >= 0 && ndim <= GT_MAX_DIMS);
        FUZZ_ASSERT(gt_shape_numel(ndim, gt_tensor_shape(t)) == gt_tensor_numel(t));
        FUZZ_ASSERT(!gt_tensor_requires_grad(t) && !gt_tensor_grad(t));
        double sum = 0; /* reads every element: a short buffer is an ASan report */
        for (int64_t i = 0; i < gt_tensor_numel(t); i++)
            sum += gt_tensor_cdata(t)[i];
        (void)sum;
        check_round_trip(t);
        gt_tensor_free(t);
    }
    fuzz_alloc_end(&alloc);
    return 0;
}
