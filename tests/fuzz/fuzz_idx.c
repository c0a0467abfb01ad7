/* fuzz_idx.c - gt_idx_load on any bytes, as a raw file and gzip-compressed (so that the
 * decompressed path sees arbitrary contents too). A success must describe a buffer the size
 * its dimensions claim; a failure must leave *bytes NULL and name the file. The bytes are
 * also the images file of an MNIST folder whose labels file agrees with the count they
 * claim: what gt_mnist_load accepts then goes through a shuffled loader for one epoch. */
#define FUZZ_SCRATCH_INITIALIZE /* LLVMFuzzerInitialize makes the scratch folder */
#include "fuzz_support.h"

#include <zlib.h>

/* Refuses more than this in live allocations: a gzip file may claim up to 1032 times its
 * size, and a claim that does not fit must fail cleanly, not exhaust the fuzzer. */
#define FUZZ_IDX_MAX_LIVE_BYTES ((size_t)64 << 20)

static void load_and_check(const char *path) {
    uint8_t *bytes = (uint8_t *)"not written";
    int64_t dims[3] = {-1, -1, -1};
    int ndim = -1;
    gt_status status = gt_idx_load(path, &bytes, dims, &ndim);
    if (status != GT_OK) {
        FUZZ_ASSERT(bytes == NULL);
        FUZZ_ASSERT(gt_last_status() == status);
        FUZZ_ASSERT(status == GT_ERR_FORMAT || status == GT_ERR_IO || status == GT_ERR_NOMEM);
        FUZZ_ASSERT(strncmp(gt_last_error(), path, strlen(path)) == 0);
        return;
    }
    FUZZ_ASSERT(ndim == 1 || ndim == 3);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        FUZZ_ASSERT(dims[i] >= 1 && (i == 0 ? dims[i] <= 100000000 : dims[i] <= 4096));
        numel *= dims[i];
    }
    unsigned sum = 0; /* reads every byte: a buffer shorter than claimed is an ASan report */
    for (int64_t i = 0; i < numel; i++)
        sum += bytes[i];
    (void)sum;
    gt_free(bytes);
}

/* data as a gzip stream, in a malloc'd buffer. */
static uint8_t *gzip(const uint8_t *data, size_t size, size_t *out_size) {
    z_stream z = {0};
    FUZZ_ASSERT(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                             Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&z, (uLong)size) + 32;
    uint8_t *out = malloc(cap);
    FUZZ_ASSERT(out != NULL);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    FUZZ_ASSERT(deflate(&z, Z_FINISH) == Z_STREAM_END);
    *out_size = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void write_file(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    FUZZ_ASSERT(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
}

/* Every batch of one epoch: shapes as the data set says, pixels in [0, 1], labels known. */
static void check_loader(const gt_dataset *data, int64_t batch_size) {
    gt_loader loader;
    if (gt_loader_init(&loader, data, batch_size, true, 7, 0) != GT_OK) {
        FUZZ_ASSERT(gt_last_status() == GT_ERR_NOMEM && loader.order == NULL);
        return;
    }
    gt_loader_start_epoch(&loader);
    gt_batch batch;
    int64_t seen = 0;
    while (gt_loader_next(&loader, &batch)) {
        FUZZ_ASSERT(batch.size >= 1 && batch.size <= loader.batch_size);
        FUZZ_ASSERT(gt_tensor_dim(batch.x, 0) == batch.size && gt_tensor_ndim(batch.x) == 4);
        FUZZ_ASSERT(gt_tensor_dim(batch.x, 2) == data->rows);
        FUZZ_ASSERT(gt_tensor_dim(batch.x, 3) == data->cols);
        for (int64_t i = 0; i < gt_tensor_numel(batch.x); i++)
            FUZZ_ASSERT(gt_tensor_data(batch.x)[i] >= 0 && gt_tensor_data(batch.x)[i] <= 1);
        for (int64_t i = 0; i < batch.size; i++)
            FUZZ_ASSERT(gt_tensor_data(batch.y)[i] < (gt_real)data->classes);
        seen += batch.size;
    }
    FUZZ_ASSERT(seen == data->count);
    gt_loader_free(&loader);
}

/* The input as <scratch>/train-images-idx3-ubyte beside a labels file of the count it
 * claims (at most 4096: a bigger claim gets a mismatch). */
static void check_mnist(const uint8_t *data, size_t size) {
    char path[512];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", fuzz_scratch());
    write_file(path, data, size);
    uint32_t claimed = size >= 8 ? (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 |
                                       (uint32_t)data[6] << 8 | data[7]
                                 : 0;
    uint32_t count = claimed > 4096 ? 4096 : claimed;
    uint8_t labels[8 + 4096] = {0, 0, 8, 1, (uint8_t)(count >> 24), (uint8_t)(count >> 16),
                                (uint8_t)(count >> 8), (uint8_t)count};
    for (uint32_t i = 0; i < count; i++)
        labels[8 + i] = (uint8_t)(size > 8 ? data[8 + i % (size - 8)] % 10 : i % 10);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", fuzz_scratch());
    write_file(path, labels, 8 + count);
    gt_dataset set;
    if (gt_mnist_load(fuzz_scratch(), GT_SPLIT_TRAIN, &set) != GT_OK) {
        FUZZ_ASSERT(set.images == NULL && set.labels == NULL && set.count == 0);
        return;
    }
    FUZZ_ASSERT(set.count == claimed && set.classes >= 1 && set.classes <= 10);
    check_loader(&set, 1 + claimed % 5);
    gt_dataset_free(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_test_alloc alloc;
    fuzz_alloc_begin(&alloc, FUZZ_IDX_MAX_LIVE_BYTES, 0);
    load_and_check(fuzz_file(data, size));
    size_t gz_size;
    uint8_t *gz = gzip(data, size, &gz_size);
    load_and_check(fuzz_file(gz, gz_size));
    free(gz);
    check_mnist(data, size);
    fuzz_alloc_end(&alloc);
    return 0;
}
