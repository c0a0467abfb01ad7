/* gt_data.h - floor 4: MNIST-format IDX data sets and minibatches.
 *
 * Images stay in memory as bytes (60,000 28x28 images are 47 MB) and are scaled to [0,1]
 * per batch. Any folder holding the four standard MNIST file names (raw or .gz) works:
 * Fashion-MNIST from Debian's dataset-fashion-mnist, or digit MNIST.
 *
 *     gt_dataset train;
 *     if (gt_mnist_load(GT_DEFAULT_DATA_DIR, GT_SPLIT_TRAIN, &train) != GT_OK) {
 *         fprintf(stderr, "%s\n", gt_last_error());  // names the file and the problem
 *         return 1;
 *     }
 *     gt_loader loader;
 *     gt_loader_init(&loader, &train, 64, true, 42, 0);  // batch 64, shuffled, seed 42
 *     gt_loader_augment(&loader, 2, true, 43);           // optional: random crop and flip
 *     gt_batch batch;
 *     gt_loader_start_epoch(&loader);
 *     while (gt_loader_next(&loader, &batch)) { ... batch.x [B,1,28,28], batch.y [B] ... }
 *     gt_loader_free(&loader);
 *     gt_dataset_free(&train);
 */
#ifndef GT_DATA_H
#define GT_DATA_H

#include "gt_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

typedef enum gt_split { GT_SPLIT_TRAIN, GT_SPLIT_TEST } gt_split;

typedef struct gt_dataset {
    int64_t count;   /* images */
    int64_t rows;    /* 28 */
    int64_t cols;    /* 28 */
    int64_t classes; /* 1 + the largest label */
    uint8_t *images; /* count * rows * cols bytes, row-major */
    uint8_t *labels; /* count bytes */
    double mean, std; /* a batch's x = (pixel / 255 - mean) / std (gt_dataset_normalize);
                         0 and 0: pixel / 255 */
} gt_dataset;

/* Reads an IDX file (magic 0x00000801 labels or 0x00000803 images; gzip or raw) into a
 * byte buffer (*bytes, freed with gt_free). The dimensions are checked before anything is
 * allocated: none may be 0, at most 100,000,000 items, rows and cols at most 4096; a raw
 * file must hold exactly header + data bytes, a gzip file must decompress to exactly that
 * (else "truncated: expected N bytes of data, got M" or "trailing data"). *dims receives
 * the sizes (room for 3), *ndim their number. On failure *bytes is NULL and the message
 * names the file: GT_ERR_IO when it cannot be opened or read, GT_ERR_FORMAT otherwise. */
gt_status gt_idx_load(const char *path, uint8_t **bytes, int64_t *dims, int *ndim);

/* Loads <dir>/train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (or t10k-*;
 * the raw name is preferred when both exist), checking the magic of each (images must be
 * 3-D, labels 1-D) and that the counts agree. classes = 1 + the largest label (<= 256).
 * On failure *out is zeroed (gt_dataset_free on it is harmless). */
gt_status gt_mnist_load(const char *dir, gt_split split, gt_dataset *out);
void gt_dataset_free(gt_dataset *data);
/* The mean and the (biased) standard deviation of every pixel / 255 of the first `limit`
 * images (0: all), as torchvision's Normalize is usually given them. */
void gt_dataset_stats(const gt_dataset *data, int64_t limit, double *mean, double *std);
/* From now on loaders give (pixel / 255 - mean) / std (std > 0), torchvision's
 * Normalize((mean,), (std,)) after ToTensor(). GT_ERR_ARG for a bad mean or std. */
gt_status gt_dataset_normalize(gt_dataset *data, double mean, double std);

typedef struct gt_batch {
    gt_tensor *x;        /* [B,1,rows,cols], pixels / 255 */
    gt_tensor *y;        /* [B] class indices */
    int64_t size;        /* B: this shard's rows (0 is possible when sharded) */
    int64_t global_size; /* the whole batch over every shard (= size unsharded): the last
                            batch of an epoch may be smaller than batch_size */
} gt_batch;

typedef struct gt_loader {
    const gt_dataset *data;
    int64_t batch_size;
    int64_t limit;  /* images used per epoch (<= count) */
    bool shuffle;
    int shard, shards; /* this loader's share of every batch (0 of 1: the whole batch) */
    gt_rng rng;
    int64_t *order;             /* permutation of 0..limit-1 */
    int64_t next;               /* position in order */
    gt_real *x_data, *y_data;   /* the memory a batch is scaled into: the shard's most rows */
    gt_tensor *x_full, *y_full; /* views of it: the shard's rows of a full batch */
    gt_tensor *x_tail, *y_tail; /* ... of a smaller last batch (NULL when there is none) */
    gt_real values[256];        /* a pixel byte's value in a batch */
    int crop_padding;           /* gt_loader_augment */
    bool hflip;
    gt_rng augment_rng;
} gt_loader;

/* Uses the first `limit` images (0 or more than the data set: all of them); batch_size is
 * clamped to limit. Allocates everything the loader needs here: gt_loader_next never
 * allocates. The data set must outlive the loader. On failure the loader is zeroed. */
gt_status gt_loader_init(gt_loader *loader, const gt_dataset *data, int64_t batch_size,
                         bool shuffle, uint64_t seed, int64_t limit);
/* Call before every epoch, the first included (until then gt_loader_next returns false).
 * With shuffle, a Fisher-Yates shuffle of 0..limit-1 from the generator seeded once at
 * init, so epoch e has the same order in every run with that seed; without, the file order.
 */
void gt_loader_start_epoch(gt_loader *loader);
/* Fills the next batch (tensors owned by the loader, overwritten by the next call); false
 * at the end of the epoch. Only the last batch may have size < batch_size. */
bool gt_loader_next(gt_loader *loader, gt_batch *batch);
/* Data parallelism: from now on gt_loader_next yields only rows
 * [shard * G / shards, (shard + 1) * G / shards) of each batch of G images (G =
 * batch_size, or less for the last batch), scaling only those bytes; batch.global_size
 * is G. `shards` loaders with one seed and shards 0..shards-1 split every batch between
 * them, so together they see exactly the images, in the order, that one unsharded loader
 * sees. A shard's share may be empty (batch.size 0: G < shards, or the last batch); the
 * call still returns true for it, with tensors of 0 rows. Allocates the shard's batch
 * memory (gt_loader_next still never allocates); on failure the loader is unchanged.
 * GT_ERR_ARG unless 0 <= shard < shards. */
gt_status gt_loader_shard(gt_loader *loader, int shard, int shards);
/* Data augmentation for training, as torchvision's RandomCrop(size, padding=crop_padding)
 * then RandomHorizontalFlip(): each image of a batch is shifted by up to crop_padding pixels
 * each way (what leaves the image is dropped, what enters is 0, normalised like a pixel 0)
 * and mirrored left to right with probability 1/2. The draws come from a generator of their
 * own seeded with `seed`, one set per image of each batch (shards draw the whole batch's), so
 * they leave the data order alone. crop_padding 0 and no hflip: off. GT_ERR_ARG unless
 * 0 <= crop_padding < the image's smaller side. */
gt_status gt_loader_augment(gt_loader *loader, int crop_padding, bool hflip, uint64_t seed);
void gt_loader_free(gt_loader *loader);

#ifdef __cplusplus
}
#endif

#endif
