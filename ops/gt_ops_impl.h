/* gt_ops_impl.h - helpers shared by the op families; not installed. */
#ifndef GT_OPS_IMPL_H
#define GT_OPS_IMPL_H

#include "../autograd/gt_tape_impl.h"
#include "gt_ops.h"

/* Checks every input of `op` (NULL, released, other tape); n may count NULL optionals
 * only when `optional_from` <= index. */
gt_status gt__check_inputs(const char *op, gt_tape *tape, gt_tensor *const *in, int n,
                           int optional_from);
/* The output tensor of an op, uninitialised, in the arena. */
gt_tensor *gt__op_output(gt_tape *tape, const gt_op_def *op, int ndim, const int64_t *shape);
/* Records the op's node (its name and backward) with a copy of its args struct for the
 * backward (node->attrs) and, in anomaly mode, checks the output. Returns `out`, or NULL on
 * failure. *node is NULL when nothing was recorded. */
gt_tensor *gt__op_finish(gt_tape *tape, const gt_op_def *op, gt_tensor *out,
                         gt_tensor *const *in, int n_in, const void *args, gt_node **node);
/* gt_op_call for the typed C functions: user_args (NULL: every default) with each
 * GT_ATTR_ZERO_DEFAULT attribute left at 0 replaced by its default. */
gt_tensor *gt__op_call_typed(gt_tape *tape, const gt_op_def *op, gt_tensor *const *in,
                             int n_in, const void *user_args);
/* The variant of the op that recorded node (gt_op_def.variant). */
static inline int gt__node_variant(const gt_node *node) {
    return ((const gt_op_def *)node->op)->variant;
}
/* ---- for backwards written with ops (gt_op_def.grad_graph) ---- */
/* g (of a broadcast result's shape) summed down to like's shape: the gradient of an input
 * that was broadcast. */
gt_tensor *gt__sum_to(gt_tape *tape, gt_tensor *g, const gt_tensor *like);
/* A tensor of like's shape on the tape, filled with value, taking no gradient. */
gt_tensor *gt__const_like(gt_tape *tape, const gt_tensor *like, gt_real value);
/* A constant of x's shape: slope where x <= 0, 1 where x > 0 (relu's gradient: slope 0;
 * activation.c). */
gt_tensor *gt__slope_mask(gt_tape *tape, const gt_tensor *x, gt_real slope);
/* True when input i of node takes a gradient. */
static inline bool gt__needs_grad(const gt_node *node, int i) {
    return i < node->n_in && node->in[i] && (node->in[i]->flags & GT__REQUIRES_GRAD);
}
/* A gt_op_def's attrs and n_attrs from a static array. */
#define GT__ATTRS(array) .attrs = (array), .n_attrs = (int)(sizeof(array) / sizeof((array)[0]))
/* A gt_op_def's cases from a list of strings. */
#define GT__CASES(...) .cases = (const char *const[]){__VA_ARGS__, NULL}
/* The profiler's flop counts of one application of op (flops.c); 0 where not known. */
double gt__op_flops(const gt_op_def *op, gt_tensor *const *in, int n_in, const gt_tensor *out,
                    double *backward);
/* "[2, 3]" for messages; uses one of a few rotating thread-local buffers. */
const char *gt__shape_of(const gt_tensor *t);
/* Sets a GT_ERR_SHAPE message "op: what: [a] vs [b]" and returns NULL. */
gt_tensor *gt__shape_error2(const char *op, const char *what, const gt_tensor *a,
                            const gt_tensor *b);

/* A copy between two strided layouts of one region: for every index i of `shape`,
 * dst[dst_off + sum i_d * dst_stride_d] (+)= src[src_off + sum i_d * src_stride_d]. A stride
 * of 0 repeats an element (expand's forward; its backward adds every repeat into one). The
 * strided ops (permute, expand, narrow, cat, stack, pad) are each one or a few of these. */
typedef struct gt__region {
    int ndim;
    int64_t shape[GT_MAX_DIMS];
    int64_t src_stride[GT_MAX_DIMS], dst_stride[GT_MAX_DIMS];
    int64_t src_off, dst_off;
} gt__region;
void gt__region_copy(const gt__region *r, const gt_real *src, gt_real *dst, bool add);
/* The same region read the other way (src and dst swapped): a copy's backward. */
gt__region gt__region_reversed(const gt__region *r);
/* The row-major strides of a contiguous tensor of `shape`. */
void gt__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
/* dim (negative counts from the end) as an index in 0..rank-1, or -1 (and an error
 * "op: dim D is out of range for shape S") when it is outside -rank..rank-1. A 0-d tensor
 * has rank 1 here, as in PyTorch. */
int gt__dim_index(const char *op, int64_t dim, int rank, const gt_tensor *x);

/* The single GEMM entry point: C[M,N] = alpha * op(A)[M,K] @ op(B)[K,N] + beta * C, with
 * op(X) = X or X^T; row-major, leading dimensions in elements. */
void gt__gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, gt_real alpha,
              const gt_real *A, int64_t lda, const gt_real *B, int64_t ldb, gt_real beta,
              gt_real *C, int64_t ldc);
/* A stride-1 convolution's product with its taps read in place instead of copied into
 * patches (conv.c): for each output row r < rows, C[:, r*width + j] = A[M,K] @ B_r (+ C when
 * add), B_r[k, j] = b[off[k] + r*ldr + j], j < width; C's rows ldc apart, its columns
 * contiguous. The same register tiles as gt__gemm(false, false, ...) on B_r copied out, so
 * the same bits; on this thread. False, computing nothing, on a path without such tiles
 * (GT_CPU=blas). */
bool gt__gemm_taps(int64_t M, int64_t rows, int64_t width, int64_t K, const gt_real *A,
                   int64_t lda, const gt_real *b, const int64_t *off, int64_t ldr, bool add,
                   gt_real *C, int64_t ldc);
/* A stride-1 convolution whose output rows are as wide as its image (conv.c), its taps
 * read in place from an image without padding: C[:, p] = A[M,K] @ B[:, p] (+ C when add)
 * for p < N, A given transposed (A[i, k] at At[k*lda + i]), B[k, p] = b[off[k] + p] where
 * masks[(p / vlen)*taps + slot[k]] (the table of gt__gemm_tap_masks) sets p's lane, 0
 * where it does not (a tap in the padding: that memory is never read). The same register
 * tiles and sums as gt__gemm_taps over a padded copy, so the same bits; on this thread.
 * False, computing nothing, on a path without such tiles (portable, blas). */
bool gt__gemm_taps_masked(int64_t M, int64_t N, int64_t K, const gt_real *At, int64_t lda,
                          const gt_real *b, const int64_t *off, const int32_t *slot,
                          const void *masks, int64_t taps, bool add, gt_real *C, int64_t ldc);
#define GT__TAP_MASKS_MAX_SIDE 64 /* the largest kh and kw of gt__gemm_tap_masks */
/* The masks of gt__gemm_taps_masked for a plane of rows x width outputs and kh x kw taps,
 * tap (i, j) at row shift dy[i] and column shift dx[j] in an image in_rows x width, into
 * `masks` (gt__gemm_tap_masks_bytes(rows*width, kh*kw) bytes, 32-byte aligned). False,
 * writing nothing, on a path without masked taps (where the bytes are 0) or when kh or kw
 * is past GT__TAP_MASKS_MAX_SIDE. */
int64_t gt__gemm_tap_masks_bytes(int64_t outputs, int64_t taps);
bool gt__gemm_tap_masks(int64_t rows, int64_t width, int64_t in_rows, int64_t kh,
                        const int64_t *dy, int64_t kw, const int64_t *dx, void *masks);
/* A stride-1 convolution's weight gradient without patches (conv.c): C[M,N] (+)= the sum
 * over output rows r < rows of A_r[M, width] @ B_r[N, width]^T, A_r's rows at A + i*lda +
 * r*ldra (the image's rows under M taps), B_r's at B + j*ldb + r*ldrb (the output gradient's
 * rows): the GEMM's dot tiles, each element summed over its rows in order; on this thread.
 * False, computing nothing, on a path without dot tiles (portable, blas), which
 * gt__gemm_has_rows_dot tells beforehand. */
bool gt__gemm_rows_dot(int64_t M, int64_t N, int64_t rows, int64_t width, const gt_real *A,
                       int64_t lda, int64_t ldra, const gt_real *B, int64_t ldb, int64_t ldrb,
                       bool add, gt_real *C, int64_t ldc);
bool gt__gemm_has_rows_dot(void);
/* The reals a vector of the GEMM path in use holds (16 with AVX-512 in float; the portable
 * path's row of 32), or 0 on a path without gt__gemm_taps. */
int gt__gemm_vector_reals(void);
/* The rows of a full register tile of gt__gemm_taps on the path in use (14 with AVX-512), or
 * 0 where gt__gemm_vector_reals is 0. */
int gt__gemm_tile_rows(void);
/* Whether the GEMM's path in use is AVX-512 (GT_CPU and gt__gemm_set_path choose it as
 * for the GEMM): the other families' AVX-512 kernels follow it. */
bool gt__simd_avx512(void);
/* One spatial axis of a pool (pool.c): input and output sizes and, for a window pool,
 * kernel, stride, padding and dilation (k = 0: adaptive windows). */
typedef struct gt__pool_axis {
    int64_t in, out, k, s, p, d;
} gt__pool_axis;
/* The window of output o along an axis: its first position inside the input, the number of
 * its taps inside the input (step d), and, for the average's count_include_pad, its size
 * counting the padding (PyTorch: min(start + k, in + p) - start). */
static inline int64_t gt__pool_window(const gt__pool_axis *a, int64_t o, int64_t *first,
                                      int64_t *padded) {
    if (!a->k) {
        int64_t lo = o * a->in / a->out, hi = ((o + 1) * a->in + a->out - 1) / a->out;
        *first = lo, *padded = hi - lo;
        return hi - lo;
    }
    int64_t start = o * a->s - a->p, t0, t1;
    if (a->d == 1) { /* no division on the usual path */
        t0 = start < 0 ? -start : 0;
        t1 = a->in - start;
    } else {
        t0 = start < 0 ? (-start + a->d - 1) / a->d : 0;
        t1 = (a->in - start + a->d - 1) / a->d;
    }
    if (t1 > a->k)
        t1 = a->k;
    *first = start + t0 * a->d;
    *padded = (start + a->k < a->in + a->p ? start + a->k : a->in + a->p) - start;
    return t1 > t0 ? t1 - t0 : 0;
}

/* Of the n outputs from c0 along a window axis, those whose tap j lies inside the input:
 * [*lo, *hi) counted from c0 (none when *hi <= *lo). Returns tap j's position for output
 * c0 (in the padding when negative); output c0 + k's is that + k * stride. */
static inline int64_t gt__pool_tap_span(const gt__pool_axis *a, int64_t c0, int64_t n,
                                        int64_t j, int64_t *lo, int64_t *hi) {
    const int64_t shift = j * a->d - a->p, first = c0 * a->s + shift, last = a->in - 1 - shift;
    *lo = first < 0 ? (-shift + a->s - 1) / a->s - c0 : 0;
    *hi = first + (n - 1) * a->s < a->in ? n : (last < 0 ? -1 : last / a->s) + 1 - c0;
    return first;
}

/* The max pool of any window with AVX-512 (pool_avx512.c), on planes x[planes, H, W] ->
 * y[planes, OH, OW] with argmax (base + each maximum's place in x: the first maximum in
 * row-major order; a NaN wins; taps in the padding never do), the axes as pool.c describes
 * them. False, computing nothing, for a plane of 2^31 elements or more (it keeps places in
 * 32 bits), for a window more than 64 taps wide, and in a build without the kernel (no
 * AVX-512 compiler support, or gt_real double). */
bool gt__maxpool_avx512(const gt__pool_axis *h, const gt__pool_axis *w, int64_t planes,
                        const gt_real *x, gt_real *y, int64_t *argmax, int64_t base);
/* The 2x2 max pool with AVX-512 (pool_avx512.c), over `rows` output rows of W/2 from pairs
 * of input rows W wide (even W): forward y and window codes (the maximum's place, 0..3
 * row-major), and the backward that writes a stale gradient whole (its window codes read 16
 * bytes at a time: 16 bytes of slack after them). False, computing nothing, in a build
 * without them (no AVX-512 compiler support, or gt_real double). */
bool gt__maxpool_2x2_avx512(int64_t rows, int64_t w, const gt_real *x, gt_real *y,
                            uint8_t *window);
bool gt__maxpool_2x2_grad_avx512(int64_t rows, int64_t w, const gt_real *g,
                                 const uint8_t *window, gt_real *gx);
/* The bytes of the level-1 data cache and the level-2 cache of a core, as the C library
 * reports them (sysconf), or the given default when it does not. */
int64_t gt__cache_bytes(int level, int64_t dflt);

/* Forces conv2d's forward to read its taps in place (1) or through patches (0) wherever
 * it can, or lets the cost model choose (-1, the default); returns the previous setting.
 * For the tests that compare the two (the same bits) and benchmarks. Not thread-safe. */
int gt__conv_set_taps(int mode);

/* The threads work of this many flops gets: 1 below the GEMM's parallel threshold or on a
 * thread already running a job of the pool (ops/parallel.c), else gt_get_threads(). Ops
 * that split their own work over threads (conv2d's image groups) ask here, so one rule
 * decides for the whole library. */
int gt__threads_for_flops(double flops);

/* A memory-bound pass over one element (an activation, a pool window, a scatter) costs
 * about what this many flops of GEMM do: the unit that such passes give the rule above. */
#define GT__FLOPS_PER_ELEMENT 32.0

/* Runs fn(ctx, from, to) over [0, n) cut into contiguous ranges that start at multiples of
 * align, one per thread when work of `flops` gets several (gt__threads_for_flops), else
 * once over the whole range on this thread. For work whose items are independent, so the
 * result does not depend on the thread count. */
void gt__parallel_ranges(int64_t n, int64_t align, double flops,
                         void (*fn)(void *ctx, int64_t from, int64_t to), void *ctx);

/* Part p of n items cut into `parts` nearly equal contiguous pieces (the first n % parts
 * one longer): its first item and length. */
static inline void gt__split_even(int64_t n, int64_t parts, int64_t p, int64_t *start,
                                  int64_t *len) {
    int64_t base = n / parts, extra = n % parts;
    *start = p * base + (p < extra ? p : extra);
    *len = base + (p < extra);
}

/* Rows of `len` values to take at once in a kernel that runs each step over a block of rows
 * before the next (so that the rows' dependency chains overlap): as many as keep the block
 * within 2048 values (8 KB of floats: the block is read again from L1, not L2), from 1 to
 * max_rows. Long rows go one at a time. */
static inline int64_t gt__rows_per_block(int64_t len, int64_t max_rows) {
    int64_t rows = len > 0 ? 2048 / len : max_rows;
    return rows < 1 ? 1 : rows > max_rows ? max_rows : rows;
}

/* One part of a job; tid < the job's threads names the member running it (0 is the
 * caller), for per-thread scratch. Which member runs which part varies from run to run. */
typedef void gt__part_fn(const void *ctx, int64_t part, int tid);
/* Runs fn over parts 0..parts-1 (parts < 2^32) on up to `threads` members of the library's
 * pool, the calling thread one of them, each part once; returns when all are done. Every
 * part runs with the library's floating-point mode (gt__fp_enter). One thread, a call from
 * inside a job, or a call while another thread runs a job: the parts in order, here. */
void gt__parallel_parts(int64_t parts, int threads, gt__part_fn *fn, const void *ctx);

/* log(sum(exp(x[0..k)))) of a contiguous row (k >= 1), max-shifted and vectorised: the
 * softmax family's (ops/activation.c), shared with cross_entropy's fused log-softmax. */
double gt__row_logsumexp(const gt_real *x, int64_t k);
/* The same of n <= GT__LANES short contiguous rows x[n][k] (1 <= k < GT__LANES) at once,
 * one row a lane, into lse[n]: cross_entropy's over 10 classes. */
void gt__short_rows_logsumexp(const gt_real *x, int64_t k, int n, double *lse);

/* relu(batch_norm(...)) recorded as one node `batch_norm_relu` (ops/norm.c; not in the op
 * table, PyTorch has no such function): gt_batch_norm's inputs, arguments, checks and
 * running-statistics update; its output, and the gradients of input, weight and bias, equal
 * gt_relu(gt_batch_norm(...))'s bit for bit, without batch_norm's output and its gradient
 * on the tape. The BatchNorm layers use it when a ReLU follows (models/layers.c). */
extern const gt_op_def gt__op_batch_norm_relu;
gt_tensor *gt__batch_norm_relu(gt_tape *tape, gt_tensor *input, gt_tensor *running_mean,
                               gt_tensor *running_var, gt_tensor *weight, gt_tensor *bias,
                               bool training, double momentum, double eps);

#endif
