/* gt_npz.h - floor 4: NumPy .npz files (numpy.savez, numpy.load), a zip archive of .npy
 * files, and a model's parameters and buffers in one, keyed by PyTorch's state_dict names,
 * so that weights move both ways between gradtape and PyTorch:
 *
 *     # PyTorch: np.savez("w.npz", **{k: v.numpy() for k, v in net.state_dict().items()})
 *     gt_model *net = gt_model_from_spec("Conv2d(6, 5) ReLU Flatten Linear(10)", 3,
 *                                        (int64_t[]){1, 28, 28}, 0);
 *     gt_model_import_npz(net, "w.npz");   // every tensor checked before any is copied
 *     gt_model_export_npz(net, "back.npz"); // np.load("back.npz") in Python
 *
 * Reading takes members stored (numpy.savez) or deflated (numpy.savez_compressed), zip64
 * extra fields included, and checks each member's CRC-32; writing stores them uncompressed.
 * Values are converted to the library's real type as gt_npy_load does.
 */
#ifndef GT_NPZ_H
#define GT_NPZ_H

#include "gt_tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gt_npz gt_npz;

/* Every member "<key>.npy" of the archive as a tensor. NULL with a message naming the file
 * and the member on any problem: not a zip, truncated, a CRC mismatch, an unsupported
 * compression, encryption, a member that is no .npy or a bad .npy, a repeated key. */
gt_npz *gt_npz_load(const char *path);
void gt_npz_free(gt_npz *npz);
int gt_npz_count(const gt_npz *npz);
/* The i-th key (the member's name without ".npy") and tensor, in the archive's order. */
const char *gt_npz_key(const gt_npz *npz, int i);
gt_tensor *gt_npz_tensor(const gt_npz *npz, int i);
/* The tensor of that key, or NULL. */
gt_tensor *gt_npz_find(const gt_npz *npz, const char *key);

/* Writes tensors[i] as member "<keys[i]>.npy" (keys unique, 1..250 bytes, no '/'),
 * uncompressed, to a temporary file renamed over path once complete. */
gt_status gt_npz_save(const char *path, const char *const *keys, const gt_tensor *const *tensors,
                      int n);

#ifdef __cplusplus
}
#endif

#endif
