/* gt_tensor_impl.h - the tensor's layout, shared by the library's floors; not installed.
 * Users see gt_tensor as an opaque handle. */
#ifndef GT_TENSOR_IMPL_H
#define GT_TENSOR_IMPL_H

#include "gt_tensor.h"

#include <math.h>
#include <stdlib.h>

enum {
    GT__REQUIRES_GRAD = 1u << 0, /* a gradient flows into this tensor */
    GT__OWNS_DATA = 1u << 1,     /* data was allocated with the struct or by gt_malloc */
    GT__OWNS_GRAD = 1u << 2,     /* grad was allocated by gt_malloc for this tensor */
    GT__ON_TAPE = 1u << 3,       /* struct and data live in a tape's arena */
    GT__GRAD_STALE = 1u << 4     /* grad holds zeros by contract, not yet in memory */
};

struct gt_tensor {
    int ndim;
    unsigned flags;
    int64_t numel;
    int64_t shape[GT_MAX_DIMS];
    gt_real *data;
    gt_real *grad;
    void *tape;     /* the tape whose arena holds this tensor (NULL on the heap) */
    uint64_t epoch; /* the tape's epoch when this tensor was made */
};

/* Compiles a function (a loop that vectorises) for AVX-512, AVX2 and the baseline ISA, the
 * version picked at load time by the CPU (GCC and Clang on x86-64 ELF; elsewhere one
 * portable version). */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__ELF__) && !defined(GT_NO_MULTIVERSION)
#define GT__MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GT__MULTIVERSION
#endif

/* Square root of a gt_real (vectorises: the library is built with -fno-math-errno). */
#ifdef GT_REAL_DOUBLE
#define gt__sqrt sqrt
#else
#define gt__sqrt sqrtf
#endif

/* Natural log of a gt_real (float: logf, a fraction of log's time on a row's total). */
#ifdef GT_REAL_DOUBLE
#define gt__log log
#else
#define gt__log logf
#endif

/* Internal invariants; compiled out with NDEBUG. Never used for a caller's mistake. */
#ifdef NDEBUG
#define GT_ASSERT(cond) ((void)0)
#else
#define GT_ASSERT(cond)                                                                   \
    ((cond) ? (void)0 : gt__assert_fail(#cond, __FILE__, __LINE__))
#endif
void gt__assert_fail(const char *cond, const char *file, int line);

/* The thread's last error, beyond what gt_tensor.h offers. */
#define GT__ERROR_SIZE 1024
typedef struct gt__error_state {
    gt_status status;
    bool failed_since_success;
    char message[GT__ERROR_SIZE];
} gt__error_state;
/* True when a failure was recorded and no op has succeeded since (gt__note_success): a NULL
 * input to an op is then most likely that failure's result, and its error is kept. */
bool gt__failed_since_success(void);
void gt__note_success(void);
/* For a step that may fail harmlessly (and set the error) without the caller's knowing. */
void gt__error_save(gt__error_state *state);
void gt__error_restore(const gt__error_state *state);

/* Fills shape/ndim/numel of a struct; the caller has checked the shape. */
void gt__tensor_init_shape(gt_tensor *t, int ndim, const int64_t *shape);
/* shape[ndim] for `numel` elements with one size that may be -1, made the size that fits:
 * GT_ERR_SHAPE naming op, `from` (the shape being viewed) and the asked sizes when none
 * does. One rule for gt_reshape (the op) and gt_tensor_reshape (heap tensors). */
gt_status gt__shape_resolve(const char *op, int from_ndim, const int64_t *from, int ndim,
                            int64_t *shape);
/* Memory that starts on a cache line (GT__ALIGN bytes), through the allocator hook, for the
 * arrays kernels stream: tensors' storage and gradients, models' blocks (an unaligned 64-byte
 * vector load straddles two lines: SGD's update over the MLP ran 17% slower). Freed only by
 * gt__free_aligned. */
#define GT__ALIGN 64
void *gt__malloc_aligned(size_t size, const char *what);
void *gt__calloc_aligned(size_t count, size_t size, const char *what);
void gt__free_aligned(void *ptr);
/* Stale gradients: zeroing a gradient without a pass over memory (PyTorch's
 * zero_grad(set_to_none=True), keeping the buffer). This is the one description of the
 * mechanism; the places that take part point here.
 *  - gt_tensor_zero_grad (and gt_model_zero_grad, gt_optimizer_zero_grad) on a leaf only
 *    sets GT__GRAD_STALE (gt__grad_mark_stale): the gradient is zero by contract, whatever
 *    its buffer holds. A tensor on a tape is zeroed at once instead.
 *  - gt_backward (autograd/tape.c) allocates the gradients of the tensors on the tape stale
 *    too (no pass over memory), and zeroes a node's output gradient before its backward if
 *    no consumer wrote it.
 *  - gt_backward (autograd/tape.c), before each node's backward, zeroes the stale
 *    gradients of the inputs that backward adds into (gt__grad_fresh), and leaves stale
 *    those the node overwrites whole (bit i of gt_node.overwrites).
 *  - A backward that overwrites (linear's, ops/matmul.c: the input's and the weight's
 *    gradients by a GEMM with beta 0, the bias's zeroed before its sum; the views' and
 *    permute's copies, ops/shape.c; masked_fill's, ops/compare.c) calls gt__grad_take_stale, which
 *    clears the flag, and writes instead of adding when it was set.
 *  - Every other reader gets the buffer through gt__grad_fresh, which zeroes a stale one
 *    first: gt_tensor_grad, gt_model_grad, the optimizers (through gt_tensor_grad),
 *    gradcheck.
 * Training with it gives the parameters of eager zeroing bit for bit (tests/test_nn.c). */
void gt__grad_mark_stale(gt_tensor *t);
/* t's gradient, zeroed first if it was stale. */
gt_real *gt__grad_fresh(gt_tensor *t);
/* For a kernel that overwrites the whole gradient: whether it was stale (and now is not). */
bool gt__grad_take_stale(gt_tensor *t);
/* Bytes for numel reals, or SIZE_MAX when it overflows. */
size_t gt__real_bytes(int64_t numel);

/* The floating-point mode of the library's kernels (fpmode.c): a kernel driver calls
 * gt__fp_enter before its loops, which flushes subnormals on this thread when the library
 * does (gt_get_flush_denormal), and gt__fp_leave with what it returned, which puts the
 * caller's mode back if it was changed. Cost: a read of the control register, plus two
 * writes when the caller's mode differs. */
typedef struct gt__fp_scope {
    unsigned saved;
    bool changed;
} gt__fp_scope;
gt__fp_scope gt__fp_enter(void);
void gt__fp_leave(gt__fp_scope scope);
/* Whether this thread now flushes subnormals (for tests). */
bool gt__fp_thread_flushes(void);
/* .npy in pieces, for the .npz files of models/: a tensor from the `size` bytes of a .npy
 * file that f reads (messages name `name`), and the preamble gt_npy_save writes before the
 * data (its length, at most GT__NPY_PREAMBLE_MAX). */
#define GT__NPY_PREAMBLE_MAX 256
gt_tensor *gt__npy_read(FILE *f, const char *name, int64_t size);
size_t gt__npy_preamble(const gt_tensor *t, char out[GT__NPY_PREAMBLE_MAX]);

#endif
