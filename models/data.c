/* data.c - MNIST-format IDX files (raw or gzip) and shuffled minibatches of them. */
#define _POSIX_C_SOURCE 200809L

#include "gt_data.h"
#include "gt_tensor_impl.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_MAGIC_LABELS 0x00000801u /* unsigned bytes, 1 dimension */
#define IDX_MAGIC_IMAGES 0x00000803u /* unsigned bytes, 3 dimensions */
#define IDX_MAX_COUNT 100000000      /* images or labels in one file */
#define IDX_MAX_SIDE 4096            /* rows or columns of an image */
#define IDX_GZIP_MAX_RATIO 1032      /* deflate never expands more than this */
#define IDX_READ_CHUNK (1u << 30)    /* gzread takes an unsigned count */

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static const char *idx_kind(int ndim) { return ndim == 3 ? "images" : "labels"; }

static gt_status idx_check_magic(const char *path, uint32_t magic, int expect_ndim,
                                 int *ndim) {
    if (magic == IDX_MAGIC_LABELS)
        *ndim = 1;
    else if (magic == IDX_MAGIC_IMAGES)
        *ndim = 3;
    else
        *ndim = 0;
    if (*ndim && (!expect_ndim || *ndim == expect_ndim))
        return GT_OK;
    if (expect_ndim)
        return gt_set_error(GT_ERR_FORMAT, "%s: bad magic 0x%08x (expected 0x%08x for %s)",
                            path, (unsigned)magic,
                            expect_ndim == 3 ? IDX_MAGIC_IMAGES : IDX_MAGIC_LABELS,
                            idx_kind(expect_ndim));
    return gt_set_error(GT_ERR_FORMAT,
                        "%s: bad magic 0x%08x (expected 0x%08x for labels or 0x%08x for "
                        "images)", path, (unsigned)magic, IDX_MAGIC_LABELS, IDX_MAGIC_IMAGES);
}

/* Refuses zero and absurd sizes; *data_bytes receives their product. */
static gt_status idx_check_dims(const char *path, const int64_t *dims, int ndim,
                                int64_t *data_bytes) {
    if (dims[0] < 1 || dims[0] > IDX_MAX_COUNT)
        return gt_set_error(GT_ERR_FORMAT, "%s: %lld %s is outside 1..%d", path,
                            (long long)dims[0], idx_kind(ndim), IDX_MAX_COUNT);
    for (int i = 1; i < ndim; i++)
        if (dims[i] < 1 || dims[i] > IDX_MAX_SIDE)
            return gt_set_error(GT_ERR_FORMAT, "%s: image %s %lld is outside 1..%d", path,
                                i == 1 ? "rows" : "cols", (long long)dims[i], IDX_MAX_SIDE);
    int64_t bytes = gt_shape_numel(ndim, dims); /* <= 1e8 * 4096 * 4096: no overflow */
    if ((uint64_t)bytes > SIZE_MAX / 2)
        return gt_set_error(GT_ERR_NOMEM, "%s: %lld bytes of data do not fit in memory",
                            path, (long long)bytes);
    *data_bytes = bytes;
    return GT_OK;
}

/* Reads up to `want` bytes; *got receives how many arrived. Fails on a gzip error other
 * than a stream that ends early (the caller reports that as truncation). */
static gt_status idx_read(const char *path, gzFile gz, uint8_t *buf, int64_t want,
                          int64_t *got) {
    *got = 0;
    while (*got < want) {
        int64_t left = want - *got;
        unsigned chunk = left > IDX_READ_CHUNK ? IDX_READ_CHUNK : (unsigned)left;
        int n = gzread(gz, buf + *got, chunk);
        if (n > 0) {
            *got += n;
            continue;
        }
        int err = Z_OK;
        const char *msg = gzerror(gz, &err);
        if (n == 0 || err == Z_BUF_ERROR)
            return GT_OK;
        return gt_set_error(err == Z_ERRNO ? GT_ERR_IO : GT_ERR_FORMAT, "%s: cannot read: %s",
                            path, err == Z_ERRNO ? strerror(errno) : msg);
    }
    return GT_OK;
}

static gt_status idx_read_header(const char *path, gzFile gz, int expect_ndim,
                                 int64_t *dims, int *ndim) {
    unsigned char head[16];
    int64_t got;
    gt_status st = idx_read(path, gz, head, 4, &got);
    if (st != GT_OK)
        return st;
    if (got < 4)
        return gt_set_error(GT_ERR_FORMAT, "%s: truncated: %lld bytes, too short for an "
                            "IDX header", path, (long long)got);
    if ((st = idx_check_magic(path, be32(head), expect_ndim, ndim)) != GT_OK)
        return st;
    if ((st = idx_read(path, gz, head + 4, 4 * *ndim, &got)) != GT_OK)
        return st;
    if (got < 4 * *ndim)
        return gt_set_error(GT_ERR_FORMAT, "%s: truncated: the header needs %d bytes, the "
                            "file has %lld", path, 4 + 4 * *ndim, (long long)(4 + got));
    for (int i = 0; i < *ndim; i++)
        dims[i] = be32(head + 4 + 4 * i);
    return GT_OK;
}

/* Before allocating: a raw file must hold exactly header + data bytes; a gzip file cannot
 * expand beyond IDX_GZIP_MAX_RATIO times its size. */
static gt_status idx_check_size(const char *path, bool raw, int64_t file_size,
                                int64_t header_bytes, int64_t data_bytes) {
    if (raw) {
        int64_t have = file_size - header_bytes;
        if (have < data_bytes)
            return gt_set_error(GT_ERR_FORMAT, "%s: truncated: the dimensions claim %lld "
                                "bytes of data, the file holds %lld", path,
                                (long long)data_bytes, (long long)have);
        if (have > data_bytes)
            return gt_set_error(GT_ERR_FORMAT, "%s: %lld bytes of trailing data after the "
                                "%lld the dimensions claim", path,
                                (long long)(have - data_bytes), (long long)data_bytes);
        return GT_OK;
    }
    if (data_bytes / IDX_GZIP_MAX_RATIO > file_size)
        return gt_set_error(GT_ERR_FORMAT, "%s: truncated: the dimensions claim %lld bytes "
                            "of data, more than a %lld-byte gzip file can hold", path,
                            (long long)data_bytes, (long long)file_size);
    return GT_OK;
}

static gt_status idx_read_data(const char *path, gzFile gz, uint8_t *data,
                               int64_t data_bytes) {
    int64_t got;
    gt_status st = idx_read(path, gz, data, data_bytes, &got);
    if (st != GT_OK)
        return st;
    if (got < data_bytes)
        return gt_set_error(GT_ERR_FORMAT, "%s: truncated: expected %lld bytes of data, "
                            "got %lld", path, (long long)data_bytes, (long long)got);
    unsigned char extra;
    int n = gzread(gz, &extra, 1); /* also reaches the gzip trailer and checks its CRC */
    if (n > 0)
        return gt_set_error(GT_ERR_FORMAT, "%s: trailing data after the %lld bytes the "
                            "dimensions claim", path, (long long)data_bytes);
    int err = Z_OK;
    const char *msg = gzerror(gz, &err);
    if (n < 0)
        return gt_set_error(err == Z_ERRNO ? GT_ERR_IO : GT_ERR_FORMAT,
                            "%s: bad gzip stream after the data: %s", path,
                            err == Z_ERRNO ? strerror(errno) : msg);
    /* gzread returns 0, not an error, when the stream stops short of its trailer: the data
     * arrived but its CRC and length were never checked. */
    if (err == Z_BUF_ERROR)
        return gt_set_error(GT_ERR_FORMAT, "%s: truncated: the gzip stream ends before its "
                            "trailer (the CRC that checks the data is missing)", path);
    return GT_OK;
}

static gt_status idx_load(const char *path, int expect_ndim, uint8_t **bytes, int64_t *dims,
                          int *ndim) {
    struct stat info;
    if (stat(path, &info) != 0)
        return gt_set_error(GT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(info.st_mode))
        return gt_set_error(GT_ERR_IO, "%s: not a regular file", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return gt_set_error(GT_ERR_IO, "%s: cannot open: %s", path,
                            errno ? strerror(errno) : "out of memory");
    int64_t data_bytes = 0;
    uint8_t *data = NULL;
    gt_status st = idx_read_header(path, gz, expect_ndim, dims, ndim);
    if (st == GT_OK)
        st = idx_check_dims(path, dims, *ndim, &data_bytes);
    if (st == GT_OK)
        st = idx_check_size(path, gzdirect(gz), (int64_t)info.st_size, 4 + 4 * *ndim,
                            data_bytes);
    if (st == GT_OK && !(data = gt_malloc((size_t)data_bytes, path)))
        st = GT_ERR_NOMEM;
    if (st == GT_OK)
        st = idx_read_data(path, gz, data, data_bytes);
    gzclose_r(gz);
    if (st != GT_OK) {
        gt_free(data);
        return st;
    }
    *bytes = data;
    return GT_OK;
}

gt_status gt_idx_load(const char *path, uint8_t **bytes, int64_t *dims, int *ndim) {
    if (!path || !bytes || !dims || !ndim)
        return gt_set_error(GT_ERR_ARG, "idx_load: path, bytes, dims and ndim must not be "
                            "NULL");
    *bytes = NULL;
    *ndim = 0;
    return idx_load(path, 0, bytes, dims, ndim);
}

/* Writes <dir>/<prefix>-<stem>, or the same with ".gz" when only that exists. */
static gt_status mnist_path(const char *dir, const char *prefix, const char *stem, char *path,
                            size_t size) {
    int n = snprintf(path, size, "%s/%s-%s", dir, prefix, stem);
    if (n < 0 || (size_t)n + 3 >= size)
        return gt_set_error(GT_ERR_ARG, "mnist_load: folder name too long: %s", dir);
    struct stat info;
    if (stat(path, &info) == 0)
        return GT_OK;
    strcat(path, ".gz");
    if (stat(path, &info) == 0)
        return GT_OK;
    return gt_set_error(GT_ERR_IO, "%s: no %s-%s or %s-%s.gz (Fashion-MNIST: install the "
                        "package dataset-fashion-mnist)", dir, prefix, stem, prefix, stem);
}

gt_status gt_mnist_load(const char *dir, gt_split split, gt_dataset *out) {
    if (!dir || !out)
        return gt_set_error(GT_ERR_ARG, "mnist_load: dir and out must not be NULL");
    memset(out, 0, sizeof *out);
    if (split != GT_SPLIT_TRAIN && split != GT_SPLIT_TEST)
        return gt_set_error(GT_ERR_ARG, "mnist_load: unknown split %d", (int)split);
    const char *prefix = split == GT_SPLIT_TRAIN ? "train" : "t10k";
    char image_path[PATH_MAX], label_path[PATH_MAX];
    int64_t image_dims[3], label_dims[3];
    int ndim;
    gt_dataset d = {0};
    gt_status st = mnist_path(dir, prefix, "images-idx3-ubyte", image_path, sizeof image_path);
    if (st == GT_OK)
        st = mnist_path(dir, prefix, "labels-idx1-ubyte", label_path, sizeof label_path);
    if (st == GT_OK)
        st = idx_load(image_path, 3, &d.images, image_dims, &ndim);
    if (st == GT_OK)
        st = idx_load(label_path, 1, &d.labels, label_dims, &ndim);
    if (st == GT_OK) {
        d.count = image_dims[0];
        d.rows = image_dims[1];
        d.cols = image_dims[2];
        if (label_dims[0] != d.count)
            st = gt_set_error(GT_ERR_FORMAT, "%s holds %lld images but %s holds %lld labels",
                              image_path, (long long)d.count, label_path,
                              (long long)label_dims[0]);
    }
    if (st != GT_OK) {
        gt_dataset_free(&d);
        return st;
    }
    uint8_t max_label = 0;
    for (int64_t i = 0; i < d.count; i++)
        if (d.labels[i] > max_label)
            max_label = d.labels[i];
    d.classes = 1 + (int64_t)max_label; /* labels are bytes: at most 256 classes */
    *out = d;
    return GT_OK;
}

void gt_dataset_free(gt_dataset *data) {
    if (!data)
        return;
    gt_free(data->images);
    gt_free(data->labels);
    memset(data, 0, sizeof *data);
}

void gt_dataset_stats(const gt_dataset *data, int64_t limit, double *mean, double *std) {
    *mean = *std = 0;
    if (!data || !data->images || data->count < 1)
        return;
    if (limit <= 0 || limit > data->count)
        limit = data->count;
    uint64_t histogram[256] = {0};
    int64_t pixels = limit * data->rows * data->cols;
    for (int64_t i = 0; i < pixels; i++)
        histogram[data->images[i]]++;
    double s1 = 0, s2 = 0;
    for (int v = 0; v < 256; v++) {
        s1 += (double)histogram[v] * (v / 255.0);
        s2 += (double)histogram[v] * (v / 255.0) * (v / 255.0);
    }
    *mean = s1 / (double)pixels;
    double var = s2 / (double)pixels - *mean * *mean;
    *std = var > 0 ? sqrt(var) : 0;
}

gt_status gt_dataset_normalize(gt_dataset *data, double mean, double std) {
    if (!data)
        return gt_set_error(GT_ERR_ARG, "dataset_normalize: data is NULL");
    if (!isfinite(mean) || !(std > 0) || !isfinite(std))
        return gt_set_error(GT_ERR_ARG, "dataset_normalize: needs a finite mean and std > 0, "
                            "got %g and %g", mean, std);
    data->mean = mean;
    data->std = std;
    return GT_OK;
}

/* The first row and the row count of `shard`'s share of a batch of `size` images. */
static int64_t shard_first(int64_t size, int shard, int shards) { return size * shard / shards; }

static int64_t shard_rows(int64_t size, int shard, int shards) {
    return shard_first(size, shard + 1, shards) - shard_first(size, shard, shards);
}

/* Frees the batch memory and its views, leaving NULLs. */
static void loader_free_buffers(gt_loader *loader) {
    gt_tensor_free(loader->x_full), gt_tensor_free(loader->y_full);
    gt_tensor_free(loader->x_tail), gt_tensor_free(loader->y_tail);
    gt__free_aligned(loader->x_data), gt_free(loader->y_data);
    loader->x_full = loader->y_full = loader->x_tail = loader->y_tail = NULL;
    loader->x_data = loader->y_data = NULL;
}

/* The buffers and views of loader->shard of loader->shards, which must be NULL: one block
 * for the most rows the shard gets of a full or the last batch, and views of it in the
 * shapes of those two. On failure everything made here is freed again. */
static gt_status loader_make_buffers(gt_loader *loader) {
    const gt_dataset *d = loader->data;
    int64_t tail = loader->limit % loader->batch_size;
    int64_t full_rows = shard_rows(loader->batch_size, loader->shard, loader->shards);
    int64_t tail_rows = shard_rows(tail, loader->shard, loader->shards);
    int64_t most = full_rows > tail_rows ? full_rows : tail_rows;
    size_t values = (size_t)(most > 0 ? most : 1); /* rows <= limit: no overflow */
    loader->x_data = gt__malloc_aligned(values * (size_t)(d->rows * d->cols) * sizeof(gt_real),
                                        "loader_init");
    loader->y_data = gt_malloc(values * sizeof(gt_real), "loader_init");
    if (loader->x_data && loader->y_data) {
        loader->x_full =
            gt_tensor_wrap(GT_SHAPE(full_rows, 1, d->rows, d->cols), loader->x_data, NULL);
        loader->y_full = gt_tensor_wrap(GT_SHAPE(full_rows), loader->y_data, NULL);
    }
    if (loader->x_full && loader->y_full && tail) {
        loader->x_tail =
            gt_tensor_wrap(GT_SHAPE(tail_rows, 1, d->rows, d->cols), loader->x_data, NULL);
        loader->y_tail = gt_tensor_wrap(GT_SHAPE(tail_rows), loader->y_data, NULL);
    }
    if (loader->x_full && loader->y_full && (!tail || (loader->x_tail && loader->y_tail)))
        return GT_OK;
    gt_status st = gt_last_status();
    loader_free_buffers(loader);
    return st;
}

gt_status gt_loader_init(gt_loader *loader, const gt_dataset *data, int64_t batch_size,
                         bool shuffle, uint64_t seed, int64_t limit) {
    if (!loader)
        return gt_set_error(GT_ERR_ARG, "loader_init: loader is NULL");
    memset(loader, 0, sizeof *loader);
    if (!data || !data->images || !data->labels || data->count < 1 || data->rows < 1 ||
        data->cols < 1)
        return gt_set_error(GT_ERR_ARG, "loader_init: the data set is empty or not loaded");
    if (batch_size < 1)
        return gt_set_error(GT_ERR_ARG, "loader_init: batch size %lld must be >= 1",
                            (long long)batch_size);
    if (limit < 0)
        return gt_set_error(GT_ERR_ARG, "loader_init: limit %lld must be >= 0 (0: all "
                            "images)", (long long)limit);
    if (limit == 0 || limit > data->count)
        limit = data->count;
    if (batch_size > limit)
        batch_size = limit;
    loader->data = data;
    loader->batch_size = batch_size;
    loader->limit = limit;
    loader->shuffle = shuffle;
    loader->shard = 0;
    loader->shards = 1;
    loader->next = limit; /* no epoch started yet */
    gt_rng_seed(&loader->rng, seed);
    loader->order = gt_calloc((size_t)limit, sizeof *loader->order, "loader_init");
    if (!loader->order || loader_make_buffers(loader) != GT_OK) {
        gt_status st = gt_last_status();
        gt_loader_free(loader);
        return st;
    }
    for (int64_t i = 0; i < limit; i++)
        loader->order[i] = i;
    for (int v = 0; v < 256; v++)
        loader->values[v] = data->std > 0 ? (gt_real)((v / 255.0 - data->mean) / data->std)
                                          : (gt_real)v / (gt_real)255;
    return GT_OK;
}

gt_status gt_loader_augment(gt_loader *loader, int crop_padding, bool hflip, uint64_t seed) {
    if (!loader || !loader->order)
        return gt_set_error(GT_ERR_ARG, "loader_augment: the loader is NULL or not initialised");
    const gt_dataset *d = loader->data;
    if (crop_padding < 0 || crop_padding >= d->rows || crop_padding >= d->cols)
        return gt_set_error(GT_ERR_ARG, "loader_augment: crop_padding %d must be in 0..%lld "
                            "(less than the images' %lldx%lld)", crop_padding,
                            (long long)((d->rows < d->cols ? d->rows : d->cols) - 1),
                            (long long)d->rows, (long long)d->cols);
    loader->crop_padding = crop_padding;
    loader->hflip = hflip;
    gt_rng_seed(&loader->augment_rng, seed);
    return GT_OK;
}

// image[rows,cols] bytes -> x[rows,cols] values, shifted by (dy, dx) (x[r][c] =
// image[r + dy][c + dx], the padding value outside) and mirrored left to right when flip
static void augment_image(const gt_loader *loader, const uint8_t *image, gt_real *x, int dy,
                          int dx, bool flip) {
    int64_t rows = loader->data->rows, cols = loader->data->cols;
    gt_real pad = loader->values[0];
    for (int64_t r = 0; r < rows; r++) {
        int64_t sr = r + dy;
        gt_real *row = x + r * cols;
        for (int64_t c = 0; c < cols; c++) {
            int64_t sc = (flip ? cols - 1 - c : c) + dx;
            row[c] = sr >= 0 && sr < rows && sc >= 0 && sc < cols
                         ? loader->values[image[sr * cols + sc]]
                         : pad;
        }
    }
}

gt_status gt_loader_shard(gt_loader *loader, int shard, int shards) {
    if (!loader || !loader->order)
        return gt_set_error(GT_ERR_ARG, "loader_shard: the loader is NULL or not initialised");
    if (shards < 1 || shard < 0 || shard >= shards)
        return gt_set_error(GT_ERR_ARG,
                            "loader_shard: shard %d of %d: expected 0 <= shard < shards", shard,
                            shards);
    gt_loader old = *loader;
    loader->shard = shard;
    loader->shards = shards;
    loader->x_data = loader->y_data = NULL;
    loader->x_full = loader->y_full = loader->x_tail = loader->y_tail = NULL;
    gt_status st = loader_make_buffers(loader);
    if (st != GT_OK) {
        *loader = old;
        return st;
    }
    loader_free_buffers(&old);
    return GT_OK;
}

void gt_loader_start_epoch(gt_loader *loader) {
    if (!loader || !loader->order)
        return;
    loader->next = 0;
    if (!loader->shuffle)
        return;
    for (int64_t i = 0; i < loader->limit; i++)
        loader->order[i] = i;
    for (int64_t i = loader->limit - 1; i > 0; i--) {
        int64_t j = (int64_t)gt_rng_below(&loader->rng, (uint64_t)i + 1);
        int64_t held = loader->order[i];
        loader->order[i] = loader->order[j];
        loader->order[j] = held;
    }
}

// image[n] bytes -> x[n] = values[pixel]: a table lookup per pixel, in vector gathers where
// the CPU has them
GT__MULTIVERSION
static void pixels_to_values(int64_t n, const uint8_t *restrict image,
                             const gt_real *restrict values, gt_real *restrict x) {
    for (int64_t p = 0; p < n; p++)
        x[p] = values[image[p]];
}

// images[count,rows,cols] bytes -> x[b,1,rows,cols] = values[pixel] (pixel / 255, normalised
// when the data set says so, augmented when the loader does), y[b] = label, for the
// shard's b rows of the next batch of G images
bool gt_loader_next(gt_loader *loader, gt_batch *batch) {
    if (!loader || !batch || !loader->order || loader->next >= loader->limit)
        return false;
    int64_t global_size = loader->limit - loader->next;
    if (global_size > loader->batch_size)
        global_size = loader->batch_size;
    bool full = global_size == loader->batch_size;
    gt_tensor *x = full ? loader->x_full : loader->x_tail;
    gt_tensor *y = full ? loader->y_full : loader->y_tail;
    const int64_t *order =
        loader->order + loader->next + shard_first(global_size, loader->shard, loader->shards);
    int64_t size = shard_rows(global_size, loader->shard, loader->shards);
    const gt_dataset *d = loader->data;
    int64_t pixels = d->rows * d->cols;
    gt_real *xd = loader->x_data, *yd = loader->y_data;
    bool augment = loader->crop_padding > 0 || loader->hflip;
    int64_t first = shard_first(global_size, loader->shard, loader->shards);
    for (int64_t g = 0; augment && g < global_size; g++) {
        /* every shard draws the whole batch's shifts and flips, to use its own rows' */
        int span = 2 * loader->crop_padding + 1;
        int dy = (int)gt_rng_below(&loader->augment_rng, (uint64_t)span) - loader->crop_padding;
        int dx = (int)gt_rng_below(&loader->augment_rng, (uint64_t)span) - loader->crop_padding;
        bool flip = loader->hflip && (gt_rng_next(&loader->augment_rng) >> 63);
        int64_t b = g - first;
        if (b >= 0 && b < size)
            augment_image(loader, d->images + order[b] * pixels, xd + b * pixels, dy, dx, flip);
    }
    for (int64_t b = 0; b < size; b++) {
        if (!augment)
            pixels_to_values(pixels, d->images + order[b] * pixels, loader->values,
                             xd + b * pixels);
        yd[b] = (gt_real)d->labels[order[b]];
    }
    loader->next += global_size;
    *batch = (gt_batch){.x = x, .y = y, .size = size, .global_size = global_size};
    return true;
}

void gt_loader_free(gt_loader *loader) {
    if (!loader)
        return;
    gt_free(loader->order);
    loader_free_buffers(loader);
    memset(loader, 0, sizeof *loader);
}
