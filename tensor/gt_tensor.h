/* gt_tensor.h - floor 1 of gradtape: tensors, errors, allocation, random numbers, I/O.
 *
 * A gt_tensor is an n-dimensional (rank 0..GT_MAX_DIMS), contiguous, row-major array of
 * gt_real (float by default, double when built with GT_REAL_DOUBLE). Tensors made here
 * live on the heap and belong to the caller (free them with gt_tensor_free); tensors made
 * by ops live in a tape's arena (see gt_autograd.h) and are released by gt_tape_reset.
 *
 * Errors: a fallible call returns NULL or a gt_status other than GT_OK and leaves a
 * message naming what was wrong, readable with gt_last_error() (one per thread).
 *
 *     gt_rng rng;
 *     gt_rng_seed(&rng, 42);
 *     gt_tensor *w = gt_randn(GT_SHAPE(3, 4), 0, 1, &rng);  // [3,4], N(0,1)
 *     if (!w) { fprintf(stderr, "%s\n", gt_last_error()); return 1; }
 *     gt_tensor_set_requires_grad(w, true);                  // a leaf with a grad buffer
 *     gt_tensor_print(stdout, w, 4);
 *     gt_tensor_free(w);
 */
#ifndef GT_TENSOR_H
#define GT_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef GT_REAL_DOUBLE
typedef double gt_real;
#define GT_REAL_NAME "double"
#else
typedef float gt_real;
#define GT_REAL_NAME "float"
#endif

#define GT_MAX_DIMS 8

/* GT_SHAPE(3, 4) expands to the (ndim, shape) argument pair: 2, (const int64_t[]){3, 4}. */
#define GT_SHAPE(...)                                                                     \
    (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)),                     \
        (const int64_t[]) { __VA_ARGS__ }

/* ---- errors ------------------------------------------------------------------------ */

typedef enum gt_status {
    GT_OK = 0,
    GT_ERR_SHAPE,       /* shapes do not fit the operation */
    GT_ERR_ARG,         /* a bad argument value (negative size, NULL tensor, bad axis) */
    GT_ERR_NOMEM,       /* an allocation failed or a size overflows */
    GT_ERR_IO,          /* a file could not be opened, read or written */
    GT_ERR_FORMAT,      /* a file is not what it claims to be (magic, dtype, truncated) */
    GT_ERR_UNSUPPORTED, /* valid input this build cannot handle */
    GT_ERR_STATE,       /* the call is out of order (backward over a released tape) */
    GT_ERR_NUMERIC      /* a non-finite value where a finite one was required */
} gt_status;

/* The message of the last failure on this thread ("" when none). */
const char *gt_last_error(void);
/* The status of the last failure on this thread (GT_OK when none). */
gt_status gt_last_status(void);
/* Forget the last failure. */
void gt_clear_error(void);
/* Record a failure (used by every floor of the library and by tools); returns status. */
gt_status gt_set_error(gt_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A short name of a status, e.g. "shape error". */
const char *gt_status_name(gt_status status);

/* ---- subnormal numbers ------------------------------------------------------------ */
/* The library's kernels run with subnormal (denormal) numbers flushed to zero, inputs and
 * results alike (x86: MXCSR FTZ + DAZ; aarch64: FPCR FZ), because arithmetic on them takes
 * a slow path on many CPUs: SGD's momentum for a weight whose gradient stays zero decays
 * into that range, and a batch-1 MLP step ran 5.6x slower on an Intel Xeon for it. Values
 * below FLT_MIN (DBL_MIN in the double build) become 0; the result is the same run after
 * run. Each thread that runs a kernel is set for it, and the calling thread gets its own
 * mode back when the call returns. GT_DENORMALS=keep in the environment, or
 * gt_set_flush_denormal(false), keeps subnormals (IEEE gradual underflow, as PyTorch's
 * default). gt_set_flush_denormal returns false when this CPU has no such mode (nothing
 * changes), as torch.set_flush_denormal does. Call it between steps.
 *
 *     gt_set_flush_denormal(false);  // bit-exact IEEE arithmetic, slow on subnormals
 */
bool gt_set_flush_denormal(bool flush);
bool gt_get_flush_denormal(void);

/* ---- allocation -------------------------------------------------------------------- */

/* Every byte gradtape allocates goes through this hook. alloc returns NULL on failure;
 * free accepts NULL.
 *
 * A process-wide setting: one hook serves every thread and tape. It may be changed at any
 * time, from any thread, while others allocate: each allocation uses the hook current when
 * it starts, and every block goes back to the hook that allocated it, so a hook's ctx must
 * stay valid while blocks it allocated live. Passing NULL restores malloc. A process may
 * install up to 64 different hooks (alloc, free, ctx); installing one again reuses it.
 * GT_ERR_ARG beyond that, the current hook kept. */
typedef struct gt_allocator {
    void *(*alloc)(size_t size, void *ctx);
    void (*free)(void *ptr, void *ctx);
    void *ctx;
} gt_allocator;

gt_status gt_set_allocator(const gt_allocator *allocator);
/* Allocate through the hook; on failure sets a GT_ERR_NOMEM message naming `what`. */
void *gt_malloc(size_t size, const char *what);
void *gt_calloc(size_t count, size_t size, const char *what);
void gt_free(void *ptr);

/* ---- tensors ----------------------------------------------------------------------- */

typedef struct gt_tensor gt_tensor;

/* Heap tensors, owned by the caller. Each returns NULL and sets the error on bad shapes
 * (negative sizes, rank > GT_MAX_DIMS, byte counts that overflow) or on allocation failure. */
gt_tensor *gt_empty(int ndim, const int64_t *shape);
gt_tensor *gt_zeros(int ndim, const int64_t *shape);
gt_tensor *gt_ones(int ndim, const int64_t *shape);
gt_tensor *gt_full(int ndim, const int64_t *shape, gt_real value);
/* Copies numel(shape) values from `values`. */
gt_tensor *gt_from_array(int ndim, const int64_t *shape, const gt_real *values);
/* A deep copy of data (not of grad); the copy does not require a gradient. */
gt_tensor *gt_tensor_clone(const gt_tensor *t);
/* A tensor over memory the caller owns and keeps alive (data: numel values; grad: NULL or
 * numel values). Models use it to point parameters into one contiguous block. */
gt_tensor *gt_tensor_wrap(int ndim, const int64_t *shape, gt_real *data, gt_real *grad);
/* Gives a heap tensor another shape of as many elements, in place and without a copy (its
 * data and gradient keep their row-major order); one size may be -1, the one that fits.
 * GT_ERR_SHAPE naming both shapes when they do not fit; tape tensors take gt_reshape. */
gt_status gt_tensor_reshape(gt_tensor *t, int ndim, const int64_t *shape);
/* A new heap tensor y[N,M] = x[M,N]^T (a copy; no gradient). */
gt_tensor *gt_tensor_transposed(const gt_tensor *t);
/* Frees a heap tensor and what it owns; NULL is fine. Tape tensors are not freed here. */
void gt_tensor_free(gt_tensor *t);

/* Accessors; a NULL tensor reads as rank 0, no elements and NULL data. */
int gt_tensor_ndim(const gt_tensor *t);
/* Size of dimension `dim`; negative dims count from the end. */
int64_t gt_tensor_dim(const gt_tensor *t, int dim);
const int64_t *gt_tensor_shape(const gt_tensor *t);
int64_t gt_tensor_numel(const gt_tensor *t);
gt_real *gt_tensor_data(gt_tensor *t);
const gt_real *gt_tensor_cdata(const gt_tensor *t);
/* The gradient buffer (numel values) or NULL when there is none yet. */
gt_real *gt_tensor_grad(gt_tensor *t);
bool gt_tensor_requires_grad(const gt_tensor *t);
/* Marks a heap tensor as a leaf that collects a gradient, allocating a zeroed grad
 * buffer if it has none. Fails on tape tensors (their gradient comes from the tape). */
gt_status gt_tensor_set_requires_grad(gt_tensor *t, bool requires_grad);
/* Sets every element of the gradient to zero (no-op when there is no grad buffer). On a
 * leaf this costs no pass over memory (PyTorch's zero_grad(set_to_none=True), with the
 * buffer kept): the gradient reads as zeros until a backward writes it. */
void gt_tensor_zero_grad(gt_tensor *t);
/* Value of element i (flat, row-major), or NAN when i is out of range or t is NULL. */
gt_real gt_tensor_item(const gt_tensor *t, int64_t i);

/* Shape helpers. */
bool gt_shape_equal(int ndim_a, const int64_t *a, int ndim_b, const int64_t *b);
/* Writes "[2, 3]" into buf (always NUL-terminated); returns buf. */
char *gt_shape_str(int ndim, const int64_t *shape, char *buf, size_t size);
/* Product of sizes, or -1 when a size is negative or the product overflows (no error is
 * set: the caller names what it was doing). */
int64_t gt_shape_numel(int ndim, const int64_t *shape);
/* Checks ndim and sizes: names `op` in the error. */
gt_status gt_shape_check(const char *op, int ndim, const int64_t *shape);

/* ---- random numbers ---------------------------------------------------------------- */

/* xoshiro256** seeded through splitmix64: the same seed gives the same stream on every
 * machine. Normals use Box-Muller in double precision. */
typedef struct gt_rng {
    uint64_t s[4];
} gt_rng;

void gt_rng_seed(gt_rng *rng, uint64_t seed);
uint64_t gt_rng_next(gt_rng *rng);
/* Uniform in [0, 1), 53 random bits. */
double gt_rng_uniform(gt_rng *rng);
/* Standard normal. */
double gt_rng_normal(gt_rng *rng);
/* Uniform integer in [0, n). */
uint64_t gt_rng_below(gt_rng *rng, uint64_t n);

/* Uniform in [low, high). */
gt_tensor *gt_rand(int ndim, const int64_t *shape, gt_real low, gt_real high, gt_rng *rng);
/* Normal with the given mean and standard deviation. */
gt_tensor *gt_randn(int ndim, const int64_t *shape, gt_real mean, gt_real stddev,
                    gt_rng *rng);

/* ---- printing ---------------------------------------------------------------------- */

/* Writes a tensor as NumPy does, with `digits` significant digits:
 *     tensor([[1, 2],
 *             [3, 4]], shape=[2, 2], requires_grad)
 * the innermost dimension on one line, outer ones aligned under their brackets; beyond
 * 1000 elements every dimension longer than 6 shows 3 entries at each edge around "...".
 * Returns the number of characters written, or -1 with the error set. */
int gt_tensor_print(FILE *out, const gt_tensor *t, int digits);

/* ---- replacing a file atomically --------------------------------------------------- */

/* Replaces `path` so that it always holds either the complete old file or the complete new
 * one, whatever happens in between (a full disk, a crash, a kill -9): the new contents go
 * to a temporary file "<path>.tmp.<pid>" in the same folder; commit flushes and fsyncs it,
 * renames it over `path` and fsyncs the folder. On any failure the temporary file is
 * removed and `path` is untouched. Checkpoints, .npy saves and gradtape-train's CSV and
 * plot are all written this way.
 *
 *     gt_atomic_file af;
 *     if (gt_atomic_file_open(&af, "run.csv", "history") != GT_OK)
 *         return gt_last_status();           // nothing was created
 *     fprintf(af.file, "epoch,loss\n1,0.25\n");
 *     return gt_atomic_file_commit(&af);      // or gt_atomic_file_discard(&af)
 *
 * A program that writes the file by name (a plotter) writes to `tmp_path` and commits as
 * well. Two threads of one process must not replace the same path at once (they would
 * share the temporary name). */
typedef struct gt_atomic_file {
    FILE *file;         /* the temporary file, open for writing (binary) */
    char *tmp_path;     /* its name, "<path>.tmp.<pid>" */
    const char *path;   /* the caller's string: it must live until commit or discard */
    const char *what;   /* the caller's name for the operation, which starts each message */
} gt_atomic_file;

/* Creates the temporary file. GT_ERR_IO ("<what>: cannot write '<path>': <reason>"),
 * GT_ERR_NOMEM or GT_ERR_ARG (NULL or empty path), with nothing left behind. */
gt_status gt_atomic_file_open(gt_atomic_file *af, const char *path, const char *what);
/* Puts the new file in place; always closes it. On failure GT_ERR_IO, the temporary file
 * removed, and "<what>: cannot write '<path>': <step> failed: <reason> (the previous file,
 * if any, is unchanged)", the step being "a write" (any earlier write to af->file),
 * "fflush", "fsync", "fclose" or "renaming the temporary file over it". */
gt_status gt_atomic_file_commit(gt_atomic_file *af);
/* Gives up: closes and removes the temporary file; `path` is untouched. */
void gt_atomic_file_discard(gt_atomic_file *af);

/* ---- NumPy .npy files -------------------------------------------------------------- */

/* Reads a .npy file (versions 1-3; little-endian float32, float64, int8..int64,
 * uint8..uint64, bool; C order) into a heap tensor of gt_real. NULL with a message naming
 * the file and the problem on big-endian data, Fortran order, an unsupported dtype or a
 * truncated file. */
gt_tensor *gt_npy_load(const char *path);
/* Writes t as a .npy file of the library's real type (<f4 or <f8), atomically (through
 * gt_atomic_file: `path` keeps its old contents if anything fails). */
gt_status gt_npy_save(const char *path, const gt_tensor *t);

#ifdef __cplusplus
}
#endif

#endif
