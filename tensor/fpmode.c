/* fpmode.c - the floating-point mode the library's kernels run in: subnormal numbers
 * flushed to zero (x86 MXCSR FTZ + DAZ, aarch64 FPCR FZ) unless GT_DENORMALS=keep or
 * gt_set_flush_denormal(false). A subnormal operand or result costs a microcode assist of
 * about a hundred cycles on many cores (Intel's above all), and SGD's momentum buffers decay
 * geometrically into that range for every weight whose gradient stays zero. The kernel
 * drivers (GEMM, the parallel ranges, the worker threads) enter the mode per call and give
 * the calling thread its own mode back when they return. */
#include "gt_tensor_impl.h"

#include <stdlib.h>
#include <string.h>

#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define FP_ATOMIC _Atomic
#else
#define FP_ATOMIC volatile
#endif

#if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE__))
#include <xmmintrin.h>
#define FP_FLUSH_BITS 0x8040u /* MXCSR: FTZ (bit 15) and DAZ (bit 6) */
static unsigned fp_read(void) { return _mm_getcsr(); }
static void fp_write(unsigned mode) { _mm_setcsr(mode); }
#elif defined(__aarch64__) && defined(__GNUC__)
#define FP_FLUSH_BITS (1u << 24) /* FPCR: FZ, for inputs and results alike */
static unsigned fp_read(void) {
    uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    return (unsigned)fpcr;
}
static void fp_write(unsigned mode) {
    uint64_t fpcr = mode;
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
}
#else
#define FP_FLUSH_BITS 0u /* no such mode known here: gt_set_flush_denormal reports false */
static unsigned fp_read(void) { return 0; }
static void fp_write(unsigned mode) { (void)mode; }
#endif

enum { FLUSH_UNSET = -1 };
static FP_ATOMIC int flush_setting = FLUSH_UNSET;

static bool env_keeps_denormals(void) {
    const char *v = getenv("GT_DENORMALS");
    return v && strcmp(v, "keep") == 0;
}

bool gt_get_flush_denormal(void) {
    int flush = flush_setting;
    if (flush == FLUSH_UNSET) {
        flush = FP_FLUSH_BITS != 0 && !env_keeps_denormals();
        flush_setting = flush;
    }
    return flush != 0;
}

bool gt_set_flush_denormal(bool flush) {
    flush_setting = flush && FP_FLUSH_BITS != 0;
    return !flush || FP_FLUSH_BITS != 0;
}

gt__fp_scope gt__fp_enter(void) {
    if (FP_FLUSH_BITS == 0)
        return (gt__fp_scope){0, false};
    unsigned mode = fp_read();
    unsigned wanted = gt_get_flush_denormal() ? mode | FP_FLUSH_BITS : mode & ~FP_FLUSH_BITS;
    if (wanted == mode)
        return (gt__fp_scope){mode, false};
    fp_write(wanted);
    return (gt__fp_scope){mode, true};
}

void gt__fp_leave(gt__fp_scope scope) {
    if (scope.changed)
        fp_write(scope.saved);
}

bool gt__fp_thread_flushes(void) {
    return FP_FLUSH_BITS != 0 && (fp_read() & FP_FLUSH_BITS) == FP_FLUSH_BITS;
}
