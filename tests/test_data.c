/* test_data.c - IDX reading (raw and gzip), MNIST folders and the minibatch loader. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"

#include <sys/stat.h>
#include <zlib.h>

/* Files of the float and double test programs must not collide when ctest runs both. */
#define SCRATCH GT_BINARY_DIR "/data_" GT_REAL_NAME

static void put_be32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)(v >> 24);
    b[1] = (unsigned char)(v >> 16);
    b[2] = (unsigned char)(v >> 8);
    b[3] = (unsigned char)v;
}

/* Writes magic, dims and `data_len` bytes of data (value i % 251 at i, or `data` if not
 * NULL), raw or gzip. */
static void write_idx(const char *path, bool gz, uint32_t magic, const uint32_t *dims,
                      int ndim, const uint8_t *data, size_t data_len) {
    size_t len = 4 + 4 * (size_t)ndim + data_len;
    unsigned char *buf = malloc(len);
    put_be32(buf, magic);
    for (int i = 0; i < ndim; i++)
        put_be32(buf + 4 + 4 * i, dims[i]);
    for (size_t i = 0; i < data_len; i++)
        buf[4 + 4 * ndim + i] = data ? data[i] : (unsigned char)(i % 251);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        CHECK(f && gzwrite(f, buf, (unsigned)len) == (int)len);
        if (f)
            gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(buf, 1, len, f) == len);
        if (f)
            fclose(f);
    }
    free(buf);
}

static void write_images(const char *path, bool gz, uint32_t count, uint32_t rows,
                         uint32_t cols, size_t data_len) {
    write_idx(path, gz, 0x803, (uint32_t[]){count, rows, cols}, 3, NULL, data_len);
}

static void write_labels(const char *path, bool gz, uint32_t count, const uint8_t *labels) {
    write_idx(path, gz, 0x801, (uint32_t[]){count}, 1, labels, count);
}

/* An allocator that refuses anything above 1 MB, to prove a check ran before allocating. */
static void *small_alloc(size_t size, void *ctx) {
    (void)ctx;
    return size > (1u << 20) ? NULL : malloc(size);
}

static void plain_free(void *ptr, void *ctx) {
    (void)ctx;
    free(ptr);
}

static long n_allocs;
static void *counting_alloc(size_t size, void *ctx) {
    (void)ctx;
    n_allocs++;
    return malloc(size);
}

static void round_trip(bool gz) {
    const char *path = gz ? SCRATCH "_rt.gz" : SCRATCH "_rt";
    write_images(path, gz, 3, 2, 4, 24);
    uint8_t *bytes = NULL;
    int64_t dims[3] = {0};
    int ndim = 0;
    CHECK(gt_idx_load(path, &bytes, dims, &ndim) == GT_OK);
    CHECK(ndim == 3 && dims[0] == 3 && dims[1] == 2 && dims[2] == 4);
    for (int i = 0; bytes && i < 24; i++)
        CHECK(bytes[i] == i % 251);
    gt_free(bytes);
}

GT_TEST(idx_raw_round_trip) { round_trip(false); }

GT_TEST(idx_gzip_round_trip) { round_trip(true); }

GT_TEST(idx_labels_are_one_dimensional) {
    write_labels(SCRATCH "_labels", false, 5, (const uint8_t[]){4, 3, 2, 1, 0});
    uint8_t *bytes = NULL;
    int64_t dims[3] = {0};
    int ndim = 0;
    CHECK(gt_idx_load(SCRATCH "_labels", &bytes, dims, &ndim) == GT_OK);
    CHECK(ndim == 1 && dims[0] == 5 && bytes && bytes[0] == 4 && bytes[4] == 0);
    gt_free(bytes);
}

GT_TEST(idx_bad_magic_names_file_and_magic) {
    write_idx(SCRATCH "_magic", false, 0x12345678, (uint32_t[]){1}, 1, NULL, 1);
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    CHECK(gt_idx_load(SCRATCH "_magic", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK(bytes == NULL);
    CHECK_ERROR_HAS("data_" GT_REAL_NAME "_magic: bad magic 0x12345678");
}

GT_TEST(idx_truncated_raw_file_fails) {
    write_images(SCRATCH "_trunc", false, 3, 2, 4, 20);
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    CHECK(gt_idx_load(SCRATCH "_trunc", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK(bytes == NULL);
    CHECK_ERROR_HAS("_trunc: truncated");
}

GT_TEST(idx_truncated_gzip_data_fails_with_counts) {
    write_images(SCRATCH "_trunc.gz", true, 3, 2, 4, 16);
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    CHECK(gt_idx_load(SCRATCH "_trunc.gz", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK(bytes == NULL);
    CHECK_ERROR_HAS("_trunc.gz: truncated: expected 24 bytes of data, got 16");
}

GT_TEST(idx_cut_gzip_stream_fails) {
    write_images(SCRATCH "_cut.gz", true, 40, 10, 10, 4000);
    FILE *f = fopen(SCRATCH "_cut.gz", "rb");
    unsigned char buf[8192];
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    f = fopen(SCRATCH "_cut.gz", "wb");
    CHECK(f && len > 40 && fwrite(buf, 1, len / 2, f) == len / 2);
    if (f)
        fclose(f);
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    CHECK(gt_idx_load(SCRATCH "_cut.gz", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK(bytes == NULL);
    CHECK_ERROR_HAS("truncated: expected 4000 bytes of data");
}

/* Rewrites a gzip file keeping its first `keep` bytes, or (keep < 0) flipping its last byte. */
static size_t cut_gzip(const char *path, long keep) {
    unsigned char buf[8192];
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    if (keep < 0)
        buf[len - 1] ^= 0xff;
    size_t out = keep < 0 ? len : (size_t)keep;
    f = fopen(path, "wb");
    CHECK(f && fwrite(buf, 1, out, f) == out);
    if (f)
        fclose(f);
    return len;
}

GT_TEST(idx_gzip_without_its_trailer_fails) {
    write_images(SCRATCH "_notrailer.gz", true, 2, 3, 4, 24);
    size_t len = cut_gzip(SCRATCH "_notrailer.gz", -1);
    for (size_t cut = 1; cut <= 8; cut++) { /* the trailer: CRC-32 and length, 8 bytes */
        write_images(SCRATCH "_notrailer.gz", true, 2, 3, 4, 24);
        cut_gzip(SCRATCH "_notrailer.gz", (long)(len - cut));
        uint8_t *bytes = (uint8_t *)"untouched";
        int64_t dims[3];
        int ndim;
        gt_status status = gt_idx_load(SCRATCH "_notrailer.gz", &bytes, dims, &ndim);
        CHECK(status == GT_ERR_FORMAT && bytes == NULL);
        if (status == GT_OK)
            gt_free(bytes);
        CHECK_ERROR_HAS("_notrailer.gz: truncated: the gzip stream ends before its trailer");
    }
}

GT_TEST(idx_gzip_with_a_wrong_length_in_its_trailer_fails) {
    write_images(SCRATCH "_badtrailer.gz", true, 2, 3, 4, 24);
    cut_gzip(SCRATCH "_badtrailer.gz", -1); /* the last byte: the length's top byte */
    uint8_t *bytes = (uint8_t *)"untouched";
    int64_t dims[3];
    int ndim;
    CHECK(gt_idx_load(SCRATCH "_badtrailer.gz", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK(bytes == NULL);
    CHECK_ERROR_HAS("incorrect length check");
}

GT_TEST(idx_dims_claiming_more_than_raw_file_fail_before_allocating) {
    write_images(SCRATCH "_claim", false, 100000000, 28, 28, 100);
    gt_set_allocator(&(gt_allocator){small_alloc, plain_free, NULL});
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    CHECK(gt_idx_load(SCRATCH "_claim", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    gt_set_allocator(NULL);
    CHECK_ERROR_HAS("claim 78400000000 bytes of data, the file holds 100");
}

GT_TEST(idx_dims_claiming_more_than_gzip_file_fail_before_allocating) {
    write_images(SCRATCH "_claim.gz", true, 1000000, 28, 28, 100);
    gt_set_allocator(&(gt_allocator){small_alloc, plain_free, NULL});
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    CHECK(gt_idx_load(SCRATCH "_claim.gz", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    gt_set_allocator(NULL);
    CHECK_ERROR_HAS("more than a");
}

GT_TEST(idx_zero_or_absurd_dims_are_refused) {
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    write_images(SCRATCH "_zero", false, 2, 0, 4, 0);
    CHECK(gt_idx_load(SCRATCH "_zero", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("image rows 0 is outside 1..4096");
    write_images(SCRATCH "_wide", false, 1, 1, 5000, 5000);
    CHECK(gt_idx_load(SCRATCH "_wide", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("image cols 5000 is outside 1..4096");
    write_idx(SCRATCH "_many", false, 0x801, (uint32_t[]){0xFFFFFFFFu}, 1, NULL, 4);
    CHECK(gt_idx_load(SCRATCH "_many", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("4294967295 labels is outside");
    CHECK(bytes == NULL);
}

GT_TEST(idx_trailing_data_is_refused) {
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    write_images(SCRATCH "_tail", false, 1, 2, 2, 5);
    CHECK(gt_idx_load(SCRATCH "_tail", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("trailing data");
    write_images(SCRATCH "_tail.gz", true, 1, 2, 2, 5);
    CHECK(gt_idx_load(SCRATCH "_tail.gz", &bytes, dims, &ndim) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("trailing data");
    CHECK(bytes == NULL);
}

GT_TEST(idx_missing_file_is_an_io_error_naming_it) {
    uint8_t *bytes = NULL;
    int64_t dims[3];
    int ndim;
    CHECK(gt_idx_load(SCRATCH "_absent", &bytes, dims, &ndim) == GT_ERR_IO);
    CHECK_ERROR_HAS("_absent: cannot open");
}

/* A folder with the standard train-* names: images raw, labels gzip. */
static const char *make_mnist_dir(const char *name, uint32_t n_images, uint32_t n_labels) {
    static char dir[512];
    snprintf(dir, sizeof dir, "%s_%s", SCRATCH, name);
    mkdir(dir, 0755);
    char path[600];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    write_images(path, false, n_images, 3, 2, (size_t)n_images * 6);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
    uint8_t labels[16] = {0, 1, 2, 6, 3, 1, 0, 2, 4, 1, 0, 0, 2, 3, 1, 5};
    write_labels(path, true, n_labels, labels);
    return dir;
}

GT_TEST(mnist_load_finds_raw_and_gzip_files_and_counts_classes) {
    const char *dir = make_mnist_dir("ok", 5, 5);
    gt_dataset d;
    CHECK(gt_mnist_load(dir, GT_SPLIT_TRAIN, &d) == GT_OK);
    CHECK(d.count == 5 && d.rows == 3 && d.cols == 2);
    CHECK(d.classes == 7);
    CHECK(d.labels && d.labels[3] == 6 && d.images && d.images[7] == 7);
    gt_dataset_free(&d);
    CHECK(d.images == NULL && d.labels == NULL);
}

GT_TEST(mnist_count_mismatch_names_both_files) {
    const char *dir = make_mnist_dir("mismatch", 5, 4);
    gt_dataset d;
    CHECK(gt_mnist_load(dir, GT_SPLIT_TRAIN, &d) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("train-images-idx3-ubyte holds 5 images but ");
    CHECK_ERROR_HAS("train-labels-idx1-ubyte.gz holds 4 labels");
    CHECK(d.images == NULL && d.labels == NULL);
}

GT_TEST(mnist_images_file_holding_labels_is_refused) {
    const char *dir = make_mnist_dir("swapped", 3, 3);
    char path[600];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    write_labels(path, false, 3, (const uint8_t[]){1, 2, 3});
    gt_dataset d;
    CHECK(gt_mnist_load(dir, GT_SPLIT_TRAIN, &d) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("bad magic 0x00000801 (expected 0x00000803 for images)");
}

GT_TEST(mnist_missing_split_names_folder_and_files) {
    const char *dir = make_mnist_dir("notest", 3, 3);
    gt_dataset d;
    CHECK(gt_mnist_load(dir, GT_SPLIT_TEST, &d) == GT_ERR_IO);
    CHECK_ERROR_HAS("no t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz");
}

/* An in-memory data set of n 2x3 images; image i has label i and pixels i, i+1, ... */
static gt_dataset make_dataset(int64_t n) {
    gt_dataset d = {.count = n, .rows = 2, .cols = 3, .classes = n};
    d.images = gt_malloc((size_t)n * 6, "test");
    d.labels = gt_malloc((size_t)n, "test");
    for (int64_t i = 0; i < n; i++) {
        d.labels[i] = (uint8_t)i;
        for (int p = 0; p < 6; p++)
            d.images[i * 6 + p] = (uint8_t)(i + p);
    }
    return d;
}

/* The labels of one epoch, in order; returns how many. */
static int epoch_order(gt_loader *loader, int *out, int max) {
    gt_batch batch;
    int n = 0;
    gt_loader_start_epoch(loader);
    while (gt_loader_next(loader, &batch))
        for (int64_t b = 0; b < batch.size && n < max; b++)
            out[n++] = (int)gt_tensor_item(batch.y, b);
    return n;
}

GT_TEST(loader_batches_have_nchw_shape_and_last_is_partial) {
    gt_dataset d = make_dataset(10);
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 4, true, 1, 0) == GT_OK);
    gt_loader_start_epoch(&loader);
    gt_batch batch;
    int64_t sizes[4] = {0}, n = 0;
    while (n < 4 && gt_loader_next(&loader, &batch)) {
        sizes[n++] = batch.size;
        CHECK(gt_shape_equal(gt_tensor_ndim(batch.x), gt_tensor_shape(batch.x),
                             GT_SHAPE(batch.size, 1, 2, 3)));
        CHECK(gt_shape_equal(gt_tensor_ndim(batch.y), gt_tensor_shape(batch.y),
                             GT_SHAPE(batch.size)));
    }
    CHECK(n == 3 && sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2);
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

GT_TEST(loader_scales_pixels_to_unit_range_in_file_order) {
    gt_dataset d = make_dataset(3);
    d.images[0] = 0;
    d.images[1] = 255;
    d.images[2] = 51;
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 3, false, 1, 0) == GT_OK);
    gt_loader_start_epoch(&loader);
    gt_batch batch;
    CHECK(gt_loader_next(&loader, &batch) && batch.size == 3);
    CHECK_CLOSE(gt_tensor_item(batch.x, 0), 0.0, 0);
    CHECK_CLOSE(gt_tensor_item(batch.x, 1), 1.0, 0);
    CHECK_CLOSE(gt_tensor_item(batch.x, 2), 0.2, GT_TEST_TOL);
    CHECK_CLOSE(gt_tensor_item(batch.x, 6 + 5), (1 + 5) / 255.0, GT_TEST_TOL);
    for (int i = 0; i < 3; i++)
        CHECK_CLOSE(gt_tensor_item(batch.y, i), i, 0);
    CHECK(!gt_loader_next(&loader, &batch));
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

GT_TEST(dataset_stats_and_normalize_give_torchvision_normalize) {
    gt_dataset d = make_dataset(2); /* pixels 0..5 and 1..6 */
    double mean, std;
    gt_dataset_stats(&d, 0, &mean, &std);
    double want_mean = 36 / 12.0 / 255, sq = 0; /* (0 + ... + 5) + (1 + ... + 6) = 36 */
    for (int i = 0; i < 12; i++)
        sq += pow(d.images[i] / 255.0 - want_mean, 2);
    CHECK_CLOSE(mean, want_mean, 1e-12);
    CHECK_CLOSE(std, sqrt(sq / 12), 1e-12);
    gt_dataset_stats(&d, 1, &mean, &std); /* the first image only: pixels 0..5 */
    CHECK_CLOSE(mean, 2.5 / 255, 1e-12);
    CHECK(gt_dataset_normalize(&d, 0.5, 0) == GT_ERR_ARG);
    CHECK_ERROR_HAS("dataset_normalize: needs a finite mean and std > 0, got 0.5 and 0");
    CHECK(gt_dataset_normalize(&d, 0.01, 0.02) == GT_OK);
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 2, false, 1, 0) == GT_OK);
    gt_loader_start_epoch(&loader);
    gt_batch batch;
    CHECK(gt_loader_next(&loader, &batch));
    for (int i = 0; i < 12; i++)
        CHECK_CLOSE(gt_tensor_item(batch.x, i), (d.images[i] / 255.0 - 0.01) / 0.02, 1e-4);
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

/* Which shift (dy, dx in -pad..pad) and flip of image[rows,cols] x is, or false. */
static bool find_shift(const gt_dataset *d, const uint8_t *image, const gt_tensor *x,
                       int64_t at, int pad, int *found_dy, bool *found_flip) {
    for (int flip = 0; flip < 2; flip++)
        for (int dy = -pad; dy <= pad; dy++)
            for (int dx = -pad; dx <= pad; dx++) {
                bool same = true;
                for (int64_t r = 0; same && r < d->rows; r++)
                    for (int64_t c = 0; same && c < d->cols; c++) {
                        int64_t sr = r + dy, sc = (flip ? d->cols - 1 - c : c) + dx;
                        double want = sr >= 0 && sr < d->rows && sc >= 0 && sc < d->cols
                                          ? image[sr * d->cols + sc] / 255.0
                                          : 0;
                        same = fabs(gt_tensor_item(x, at + r * d->cols + c) - want) < 1e-6;
                    }
                if (same) {
                    *found_dy = dy;
                    *found_flip = flip;
                    return true;
                }
            }
    return false;
}

GT_TEST(loader_augment_shifts_and_flips_each_image_and_keeps_the_order) {
    gt_dataset d = make_dataset(40);
    for (int64_t i = 0; i < 40 * 6; i++) /* no image equal to a shift or flip of another */
        d.images[i] = (uint8_t)(1 + (i * 37) % 250);
    gt_loader plain, aug, again;
    CHECK(gt_loader_init(&plain, &d, 8, true, 5, 0) == GT_OK &&
          gt_loader_init(&aug, &d, 8, true, 5, 0) == GT_OK &&
          gt_loader_init(&again, &d, 8, true, 5, 0) == GT_OK);
    CHECK(gt_loader_augment(&aug, 1, true, 9) == GT_OK &&
          gt_loader_augment(&again, 1, true, 9) == GT_OK);
    CHECK(gt_loader_augment(&aug, 2, true, 9) == GT_ERR_ARG);
    CHECK_ERROR_HAS("loader_augment: crop_padding 2 must be in 0..1 (less than the images' 2x3)");
    gt_batch p, a, b;
    int flips = 0, shifts = 0, all_found = 1, same_again = 1, same_order = 1;
    gt_loader_start_epoch(&plain);
    gt_loader_start_epoch(&aug);
    gt_loader_start_epoch(&again);
    while (gt_loader_next(&plain, &p) && gt_loader_next(&aug, &a) && gt_loader_next(&again, &b)) {
        for (int64_t k = 0; k < a.size; k++) {
            int label = (int)gt_tensor_item(a.y, k), dy = 0;
            bool flip = false;
            same_order &= label == (int)gt_tensor_item(p.y, k);
            all_found &= find_shift(&d, d.images + label * 6, a.x, k * 6, 1, &dy, &flip);
            flips += flip;
            shifts += dy != 0;
        }
        for (int64_t i = 0; i < gt_tensor_numel(a.x); i++)
            same_again &= gt_tensor_item(a.x, i) == gt_tensor_item(b.x, i);
    }
    CHECK(all_found && same_order && same_again);
    CHECK(flips > 5 && flips < 35 && shifts > 5);
    gt_loader_free(&plain);
    gt_loader_free(&aug);
    gt_loader_free(&again);
    gt_dataset_free(&d);
}

GT_TEST(loader_same_seed_gives_same_epochs) {
    gt_dataset d = make_dataset(50);
    gt_loader a, b;
    CHECK(gt_loader_init(&a, &d, 8, true, 42, 0) == GT_OK);
    CHECK(gt_loader_init(&b, &d, 8, true, 42, 0) == GT_OK);
    int oa[50], ob[50];
    for (int epoch = 0; epoch < 3; epoch++) {
        CHECK(epoch_order(&a, oa, 50) == 50 && epoch_order(&b, ob, 50) == 50);
        CHECK(memcmp(oa, ob, sizeof oa) == 0);
    }
    gt_loader_free(&a);
    gt_loader_free(&b);
    gt_dataset_free(&d);
}

GT_TEST(loader_epochs_are_different_permutations) {
    gt_dataset d = make_dataset(50);
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 8, true, 42, 0) == GT_OK);
    int first[50], second[50], seen[50] = {0};
    CHECK(epoch_order(&loader, first, 50) == 50);
    CHECK(epoch_order(&loader, second, 50) == 50);
    CHECK(memcmp(first, second, sizeof first) != 0);
    for (int i = 0; i < 50; i++)
        seen[second[i]]++;
    for (int i = 0; i < 50; i++)
        CHECK(seen[i] == 1);
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

GT_TEST(loader_different_seeds_give_different_orders) {
    gt_dataset d = make_dataset(50);
    gt_loader a, b;
    CHECK(gt_loader_init(&a, &d, 8, true, 1, 0) == GT_OK);
    CHECK(gt_loader_init(&b, &d, 8, true, 2, 0) == GT_OK);
    int oa[50], ob[50];
    CHECK(epoch_order(&a, oa, 50) == 50 && epoch_order(&b, ob, 50) == 50);
    CHECK(memcmp(oa, ob, sizeof oa) != 0);
    gt_loader_free(&a);
    gt_loader_free(&b);
    gt_dataset_free(&d);
}

GT_TEST(loader_limit_uses_only_the_first_images) {
    gt_dataset d = make_dataset(50);
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 4, true, 3, 7) == GT_OK);
    int order[50];
    CHECK(epoch_order(&loader, order, 50) == 7);
    for (int i = 0; i < 7; i++)
        CHECK(order[i] < 7);
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

GT_TEST(loader_next_does_not_allocate) {
    gt_dataset d = make_dataset(10);
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 3, true, 5, 0) == GT_OK);
    int order[10];
    for (int sharded = 0; sharded < 2; sharded++) {
        /* sharded: rows 1-2 of each batch of 3 and row 0 of the last one, 7 images */
        int expect = sharded ? 7 : 10;
        CHECK(!sharded || gt_loader_shard(&loader, 1, 2) == GT_OK);
        n_allocs = 0;
        gt_set_allocator(&(gt_allocator){counting_alloc, plain_free, NULL});
        CHECK(epoch_order(&loader, order, 10) == expect);
        CHECK(epoch_order(&loader, order, 10) == expect);
        gt_set_allocator(NULL);
        CHECK(n_allocs == 0);
    }
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

/* Every batch of `shards` loaders (one seed, shards 0..shards-1) put side by side equals
 * the batch of one unsharded loader: pixels, labels and the global size. */
static void check_shards_make_the_whole_batch(int64_t n, int64_t batch_size, int shards) {
    gt_dataset d = make_dataset(n);
    gt_loader whole, part[5];
    CHECK(shards <= 5);
    CHECK(gt_loader_init(&whole, &d, batch_size, true, 9, 0) == GT_OK);
    for (int s = 0; s < shards; s++) {
        CHECK(gt_loader_init(&part[s], &d, batch_size, true, 9, 0) == GT_OK);
        CHECK(gt_loader_shard(&part[s], s, shards) == GT_OK);
    }
    for (int epoch = 0; epoch < 2; epoch++) {
        gt_loader_start_epoch(&whole);
        for (int s = 0; s < shards; s++)
            gt_loader_start_epoch(&part[s]);
        gt_batch all, one;
        while (gt_loader_next(&whole, &all)) {
            CHECK(all.global_size == all.size);
            int64_t row = 0;
            for (int s = 0; s < shards; s++) {
                CHECK(gt_loader_next(&part[s], &one));
                CHECK(one.global_size == all.size);
                CHECK(one.size == (s + 1) * all.size / shards - s * all.size / shards);
                CHECK(gt_tensor_dim(one.x, 0) == one.size && gt_tensor_dim(one.y, 0) == one.size);
                for (int64_t b = 0; b < one.size; b++, row++) {
                    CHECK(gt_tensor_item(one.y, b) == gt_tensor_item(all.y, row));
                    for (int p = 0; p < 6; p++)
                        CHECK(gt_tensor_item(one.x, b * 6 + p) ==
                              gt_tensor_item(all.x, row * 6 + p));
                }
            }
            CHECK(row == all.size);
        }
        for (int s = 0; s < shards; s++)
            CHECK(!gt_loader_next(&part[s], &one));
    }
    for (int s = 0; s < shards; s++)
        gt_loader_free(&part[s]);
    gt_loader_free(&whole);
    gt_dataset_free(&d);
}

GT_TEST(loader_shards_together_see_exactly_the_unsharded_batches) {
    check_shards_make_the_whole_batch(10, 4, 1);
    check_shards_make_the_whole_batch(10, 4, 2); /* a last batch of 2: one row each */
    check_shards_make_the_whole_batch(11, 4, 3); /* 1, 1, 2 rows; the last batch 0, 1, 2 */
    check_shards_make_the_whole_batch(11, 3, 5); /* shard 0 of a batch of 3 is empty */
    check_shards_make_the_whole_batch(9, 9, 2);  /* one batch, no last one */
}

GT_TEST(loader_empty_share_still_counts_as_a_batch) {
    gt_dataset d = make_dataset(5);
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 2, false, 0, 0) == GT_OK);
    CHECK(gt_loader_shard(&loader, 0, 2) == GT_OK);
    gt_loader_start_epoch(&loader);
    gt_batch batch;
    int64_t sizes[4], n = 0;
    while (n < 4 && gt_loader_next(&loader, &batch))
        sizes[n++] = batch.size;
    /* batches of 2, 2 and 1: shard 0 of 2 gets rows [0,1), [0,1) and [0,0) */
    CHECK(n == 3 && sizes[0] == 1 && sizes[1] == 1 && sizes[2] == 0);
    CHECK(batch.global_size == 1 && gt_tensor_dim(batch.x, 0) == 0);
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

GT_TEST(loader_shard_rejects_bad_shards_and_changes_nothing) {
    gt_dataset d = make_dataset(6);
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 4, false, 0, 0) == GT_OK);
    CHECK(gt_loader_shard(&loader, 2, 2) == GT_ERR_ARG);
    CHECK_ERROR_HAS("shard 2 of 2");
    CHECK(gt_loader_shard(&loader, 0, 0) == GT_ERR_ARG);
    CHECK(gt_loader_shard(&loader, -1, 3) == GT_ERR_ARG);
    CHECK(gt_loader_shard(NULL, 0, 1) == GT_ERR_ARG);
    int order[6];
    CHECK(loader.shard == 0 && loader.shards == 1 && epoch_order(&loader, order, 6) == 6);
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

GT_TEST(loader_yields_nothing_before_start_epoch) {
    gt_dataset d = make_dataset(4);
    gt_loader loader;
    gt_batch batch;
    CHECK(gt_loader_init(&loader, &d, 2, false, 0, 0) == GT_OK);
    CHECK(!gt_loader_next(&loader, &batch));
    gt_loader_free(&loader);
    gt_dataset_free(&d);
}

GT_TEST(loader_rejects_zero_batch_size) {
    gt_dataset d = make_dataset(4);
    gt_loader loader;
    CHECK(gt_loader_init(&loader, &d, 0, false, 0, 0) == GT_ERR_ARG);
    CHECK_ERROR_HAS("batch size 0");
    CHECK(loader.order == NULL);
    gt_dataset_free(&d);
}

GT_TEST(fashion_mnist_loads_when_installed) {
    struct stat info;
    if (stat(GT_DEFAULT_DATA_DIR, &info) != 0) {
        printf("skipped: fashion-mnist not installed\n");
        return;
    }
    gt_dataset train, test;
    CHECK(gt_mnist_load(GT_DEFAULT_DATA_DIR, GT_SPLIT_TRAIN, &train) == GT_OK);
    CHECK(train.count == 60000 && train.rows == 28 && train.cols == 28);
    CHECK(train.classes == 10);
    CHECK(gt_mnist_load(GT_DEFAULT_DATA_DIR, GT_SPLIT_TEST, &test) == GT_OK);
    CHECK(test.count == 10000 && test.rows == 28 && test.cols == 28);
    CHECK(test.classes == 10);
    gt_dataset_free(&train);
    gt_dataset_free(&test);
}

GT_TEST_MAIN()
