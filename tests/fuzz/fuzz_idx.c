/* fuzz_idx.c - gt_idx_load on any bytes, as a raw file and gzip-compressed (so that the
 * decompressed path sees arbitrary contents too). A success must describe a buffer the size
 * its dimensions claim; a failure must leave *bytes NULL and name the file. */
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

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_test_alloc alloc;
    fuzz_alloc_begin(&alloc, FUZZ_IDX_MAX_LIVE_BYTES, 0);
    load_and_check(fuzz_file(data, size));
    size_t gz_size;
    uint8_t *gz = gzip(data, size, &gz_size);
    load_and_check(fuzz_file(gz, gz_size));
    free(gz);
    fuzz_alloc_end(&alloc);
    return 0;
}
