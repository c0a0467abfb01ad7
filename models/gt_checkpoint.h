/* gt_checkpoint.h - floor 4: saving and loading named tensors with a model's description.
 *
 * Format (little-endian, version 1), documented in docs/checkpoint.md:
 *   magic "GTCKPT\0\0" | u32 version | u32 header bytes | header | tensors | u32 CRC32
 *   header: kind (u16 length + bytes), u32 config count, config entries (u16 key length,
 *           key, i64 value), u32 tensor count
 *   each tensor: u16 name length, name, u32 ndim, i64 dims[ndim], u32 dtype (1 = f32,
 *                2 = f64), data
 *   CRC32 (zlib's) of every byte before it.
 * Saving writes a temporary file in the same folder, flushes and fsyncs it, and renames it
 * over the old file: an interrupted save never destroys the previous checkpoint. Loading
 * checks magic, version, sizes, CRC, kind, names and shapes before it writes anything into
 * the caller's tensors.
 *
 *     gt_ckpt_entry entries[] = {{"fc1.weight", w1}, {"fc1.bias", b1}};
 *     gt_ckpt_config config[] = {{"hidden", 100}};
 *     gt_checkpoint_save("mlp.gtc", "mlp", config, 1, entries, 2);
 *     gt_checkpoint_load("mlp.gtc", "mlp", config, 1, entries, 2);  // fills w1, b1
 */
#ifndef GT_CHECKPOINT_H
#define GT_CHECKPOINT_H

#include "gt_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gt_ckpt_entry {
    const char *name;
    gt_tensor *tensor;
} gt_ckpt_entry;

typedef struct gt_ckpt_config {
    const char *key;
    int64_t value;
} gt_ckpt_config;

gt_status gt_checkpoint_save(const char *path, const char *kind, const gt_ckpt_config *config,
                             int n_config, const gt_ckpt_entry *entries, int n_entries);

/* Checks that the file holds `kind` with exactly these config values (a mismatch names the
 * key and both values) and a tensor of the right shape for every entry, then copies the
 * data in. Tensors of the other real type are converted. */
gt_status gt_checkpoint_load(const char *path, const char *kind, const gt_ckpt_config *config,
                             int n_config, const gt_ckpt_entry *entries, int n_entries);

/* Reads only the kind and the configuration (to rebuild a model before loading it).
 * *config receives up to max_config entries; keys point into `storage` (size bytes). */
gt_status gt_checkpoint_peek(const char *path, char *kind, size_t kind_size,
                             gt_ckpt_config *config, int max_config, int *n_config,
                             char *storage, size_t storage_size);

#ifdef __cplusplus
}
#endif

#endif
