/* gt_checkpoint.h - floor 4: saving and loading named tensors with a model's description.
 *
 * Format (little-endian, version 2), documented in docs/checkpoint.md:
 *   magic "GTCKPT\0\0" | u32 version | u32 header bytes | header | tensors | u32 CRC32
 *   header: kind (u16 length + bytes), u32 config count, config entries (u16 key length,
 *           key, i64 value), [version 2: u32 text count, text entries (u16 key length,
 *           key, u32 text length, text)], u32 tensor count
 *   A file without text entries is written as version 1 (what older builds read).
 *   each tensor: u16 name length, name, u32 ndim, i64 dims[ndim], u32 dtype (1 = f32,
 *                2 = f64), data
 *   CRC32 (zlib's) of every byte before it.
 *   Kind, keys and names have 1..255 bytes; at most 4096 config entries, 65536 tensors and
 *   2 GiB per file. Data is written in this build's real type.
 * Saving writes a temporary file in the same folder, flushes and fsyncs it, and renames it
 * over the old file: an interrupted save never destroys the previous checkpoint. Loading
 * checks magic, version, sizes, CRC, kind, names and shapes before it writes anything into
 * the caller's tensors. Every message starts with the path. Statuses: GT_ERR_IO (cannot
 * open, read, write or rename), GT_ERR_FORMAT (not a checkpoint, truncated, corrupted,
 * another kind, a config value or a tensor that differs or is missing), GT_ERR_UNSUPPORTED
 * (a newer version), GT_ERR_SHAPE (a tensor of another shape), GT_ERR_ARG (bad arguments).
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

/* A text entry (a model's spec): a key and a string of at most 65536 bytes. */
typedef struct gt_ckpt_text {
    const char *key;
    const char *text;
} gt_ckpt_text;

/* Kind, config keys and tensor names must be unique and 1..255 bytes long. On failure the
 * temporary file is removed and an existing file at `path` is untouched. */
gt_status gt_checkpoint_save(const char *path, const char *kind, const gt_ckpt_config *config,
                             int n_config, const gt_ckpt_entry *entries, int n_entries);

/* The same with text entries (at most 64, keys unique): a version 2 file. */
gt_status gt_checkpoint_save_texts(const char *path, const char *kind,
                                   const gt_ckpt_config *config, int n_config,
                                   const gt_ckpt_text *texts, int n_texts,
                                   const gt_ckpt_entry *entries, int n_entries);
/* Copies the text entry `key` of a verified file into text[size] (NUL-terminated).
 * GT_ERR_FORMAT naming the key when the file has none (every version 1 file); GT_ERR_ARG
 * when it does not fit. */
gt_status gt_checkpoint_get_text(const char *path, const char *key, char *text, size_t size);

/* Checks that the file holds `kind` with exactly these config values (a mismatch names the
 * key and both values) and a tensor of the right shape for every entry, then copies the
 * data in. Tensors of the other real type are converted. Config keys and tensors in the
 * file that the caller does not ask for are ignored (a file may carry more, e.g. an epoch
 * counter). On any failure no tensor has been changed. */
gt_status gt_checkpoint_load(const char *path, const char *kind, const gt_ckpt_config *config,
                             int n_config, const gt_ckpt_entry *entries, int n_entries);

/* Reads the kind and the configuration (to rebuild a model before loading it); the whole
 * file is verified (magic, version, CRC) as by gt_checkpoint_load. kind receives the
 * NUL-terminated kind, *n_config the number of config entries in the file. With config
 * NULL only the count is returned; otherwise config[0..*n_config) receives the entries, with
 * NUL-terminated keys pointing into `storage` (storage_size bytes). Fails with GT_ERR_ARG,
 * writing nothing, when kind_size, max_config or storage_size is too small. */
gt_status gt_checkpoint_peek(const char *path, char *kind, size_t kind_size,
                             gt_ckpt_config *config, int max_config, int *n_config,
                             char *storage, size_t storage_size);

#ifdef __cplusplus
}
#endif

#endif
