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
} gt_dataset;

/* Reads an IDX file (magic 0x00000801 labels or 0x00000803 images; gzip or raw) into a
 * byte buffer. The dimensions are checked against the file's size before anything is
 * allocated. *dims receives the sizes (at most 3), *ndim their number. */
gt_status gt_idx_load(const char *path, uint8_t **bytes, int64_t *dims, int *ndim);

/* Loads <dir>/train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (or t10k-*),
 * checking that the counts agree and that every label fits. */
gt_status gt_mnist_load(const char *dir, gt_split split, gt_dataset *out);
void gt_dataset_free(gt_dataset *data);

typedef struct gt_batch {
    gt_tensor *x; /* [B,1,rows,cols], pixels / 255 */
    gt_tensor *y; /* [B] class indices */
    int64_t size; /* B: the last batch of an epoch may be smaller */
} gt_batch;

typedef struct gt_loader {
    const gt_dataset *data;
    int64_t batch_size;
    int64_t limit;  /* images used per epoch (<= count) */
    bool shuffle;
    gt_rng rng;
    int64_t *order; /* permutation of 0..limit-1 */
    int64_t next;   /* position in order */
    gt_tensor *x_full, *y_full; /* full-size batch buffers */
    gt_tensor *x_tail, *y_tail; /* views for a smaller last batch */
} gt_loader;

/* limit 0 means all images; shuffle draws a new permutation from the seeded generator at
 * each gt_loader_start_epoch, so epoch e has the same order in every run with that seed. */
gt_status gt_loader_init(gt_loader *loader, const gt_dataset *data, int64_t batch_size,
                         bool shuffle, uint64_t seed, int64_t limit);
void gt_loader_start_epoch(gt_loader *loader);
/* Fills the next batch (tensors owned by the loader, valid until the next call); false at
 * the end of the epoch. */
bool gt_loader_next(gt_loader *loader, gt_batch *batch);
void gt_loader_free(gt_loader *loader);

#ifdef __cplusplus
}
#endif

#endif
