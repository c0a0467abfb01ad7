/* test_parallel.c - the library's worker pool (ops/parallel.c) and the floating-point mode
 * its kernels run in (tensor/fpmode.c): every part of a job runs once, whatever thread
 * turns up for it; a worker thread flushes subnormals like the caller does during a call;
 * the caller's own mode comes back when the call returns; and SGD's momentum, which decays
 * geometrically when the gradient stays zero, never holds a subnormal number while the
 * library flushes them (and does when it keeps them, so the check can fail). */
#include "gt_test.h"

#include "gt_nn_impl.h"
#include "gt_ops_impl.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>

#ifdef GT_REAL_DOUBLE
#define REAL_MIN DBL_MIN
#else
#define REAL_MIN FLT_MIN
#endif

#define PARTS 1000

typedef struct count_job {
    _Atomic int runs[PARTS];
} count_job;

static void count_part(const void *ctx, int64_t part, int tid) {
    count_job *job = (count_job *)ctx;
    (void)tid;
    atomic_fetch_add(&job->runs[part], 1);
}

GT_TEST(every_part_of_a_job_runs_exactly_once) {
    int before = gt_get_threads();
    for (int threads = 1; threads <= 3; threads++) {
        gt_set_threads(threads);
        for (int round = 0; round < 20; round++) {
            static count_job job;
            for (int i = 0; i < PARTS; i++)
                atomic_store(&job.runs[i], 0);
            gt__parallel_parts(PARTS, threads, count_part, &job);
            int wrong = 0;
            for (int i = 0; i < PARTS; i++)
                wrong += atomic_load(&job.runs[i]) != 1;
            CHECK(wrong == 0);
        }
    }
    gt_set_threads(before);
}

/* Part 0, when it runs in a real job (not the serial fallback), waits for part 1 to be
 * done, so part 1 runs on another member than part 0: a worker ran one of them. */
typedef struct mode_job {
    _Atomic bool part1_done;
    bool flushes[2];
    int tid[2];
} mode_job;

static void record_mode(const void *ctx, int64_t part, int tid) {
    mode_job *job = (mode_job *)ctx;
    bool in_a_job = gt__threads_for_flops(1e18) == 1; /* 1 on a member of a running job */
    while (part == 0 && in_a_job && !atomic_load(&job->part1_done))
        ;
    job->flushes[part] = gt__fp_thread_flushes();
    job->tid[part] = tid;
    if (part == 1)
        atomic_store(&job->part1_done, true);
}

GT_TEST(a_worker_thread_flushes_subnormals_and_the_caller_gets_its_mode_back) {
    if (!gt_set_flush_denormal(true)) {
        printf("  (skipped: this CPU has no flush-to-zero mode known to gradtape)\n");
        return;
    }
    int before = gt_get_threads();
    if (gt_set_threads(2) < 2) {
        printf("  (skipped: this build has no worker threads)\n");
        return;
    }
    CHECK(!gt__fp_thread_flushes()); /* a program's default: IEEE gradual underflow */
    mode_job job = {false, {false, false}, {-1, -1}};
    gt__parallel_parts(2, 2, record_mode, &job);
    CHECK(job.flushes[0] && job.flushes[1]);
    CHECK(job.tid[0] != job.tid[1]);
    CHECK(!gt__fp_thread_flushes());
    gt_set_flush_denormal(false); /* and a worker follows the setting back */
    mode_job kept = {false, {true, true}, {-1, -1}};
    gt__parallel_parts(2, 2, record_mode, &kept);
    CHECK(!kept.flushes[0] && !kept.flushes[1]);
    gt_set_flush_denormal(true);
    gt_set_threads(before);
}

/* SGD with momentum 0.9 over a parameter whose gradient is 64 * the smallest normal number
 * once and zero after: the momentum is 0.9^t of it, below the normal range from t = 40. */
static int subnormals_in_momentum_after_steps(int steps) {
    gt_tensor *p = gt_zeros(GT_SHAPE(64));
    gt_tensor_set_requires_grad(p, true);
    gt_optimizer *opt = gt_sgd_new(&p, 1, &(gt_sgd_config){.lr = 0.1, .momentum = 0.9});
    for (int i = 0; i < 64; i++)
        gt_tensor_grad(p)[i] = (gt_real)(64 * REAL_MIN);
    int subnormal = 0;
    for (int t = 0; t < steps; t++) {
        CHECK(gt_optimizer_step(opt) == GT_OK);
        gt_tensor_zero_grad(p);
    }
    gt_ckpt_entry entry;
    char name[1][GT__STATE_NAME_SIZE];
    CHECK(gt__optimizer_state_entries(opt, &entry, name, 1) == 1);
    const gt_real *momentum = gt_tensor_data(entry.tensor);
    for (int i = 0; i < 64; i++)
        subnormal += fpclassify(momentum[i]) == FP_SUBNORMAL;
    for (int i = 0; i < 64; i++)
        subnormal += fpclassify(gt_tensor_data(p)[i]) == FP_SUBNORMAL;
    gt_optimizer_free(opt);
    gt_tensor_free(p);
    return subnormal;
}

GT_TEST(momentum_that_decays_holds_no_subnormal_number_while_the_library_flushes) {
    if (!gt_set_flush_denormal(true)) {
        printf("  (skipped: this CPU has no flush-to-zero mode known to gradtape)\n");
        return;
    }
    CHECK(subnormals_in_momentum_after_steps(60) == 0);
    gt_set_flush_denormal(false);
    CHECK(subnormals_in_momentum_after_steps(60) == 64); /* the check can fail */
    gt_set_flush_denormal(true);
}

GT_TEST_MAIN()
