/* parallel.c - the library's own worker threads, the one rule for when work goes parallel
 * (gt__threads_for_flops), and the helpers that split work over them.
 *
 * Why not OpenMP: libgomp's waiting threads spin for up to ~300,000 iterations, so on a
 * machine whose cores are busy with other programs a team member that waits for a core
 * stalls every product it shares (2 threads ran 70x slower than 1 with two busy processes
 * on a 2-core Xeon), and its wait policy is fixed when libgomp loads, before the library
 * could set it. Here a job is cut into parts that any member claims (atomic counters: its
 * own contiguous block of them first, then the others'), the caller included: a worker
 * that is not running when the job comes simply claims nothing, and the caller does its
 * parts, so a job never waits for a thread that has not started it. The caller only waits
 * for parts already being computed. An idle worker spins for a short while (GT_SPIN_US,
 * default SPIN_US_DEFAULT), yielding its core to anything else that wants it, for the next
 * job, then sleeps on a condition variable; the caller wakes it only when one sleeps. A
 * caller kept waiting by a member that lost its core runs the next jobs alone for a while
 * (note_job).
 *
 * Results never depend on which thread ran a part: parts are fixed by the job (not by the
 * threads that turn up), and every user of parts writes disjoint outputs or sums in a fixed
 * order afterwards. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "gemm_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef GT_THREADS
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif
#include <stdatomic.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__) && defined(__GNUC__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* A product goes parallel only above this many flops (2*M*N*K): below it, waking and
 * joining the second thread costs about what it saves. Two threads' time over one
 * thread's on the 2-core Zen 4 machine (bench_gemm --threads, best of 200, threads warm /
 * after 1 ms idle): 0.24 MFLOP 0.84-1.13 / 0.90-1.29, 0.48 MFLOP 0.84 / 0.77-1.06,
 * 1.3 MFLOP 0.67 / 0.65, 1.9 MFLOP 0.52 / 0.52, >= 3.8 MFLOP 0.50-0.56. */
#define PARALLEL_MIN_FLOPS (1 << 20)
#define MAX_THREADS 256
/* How long an idle worker spins for the next job before it sleeps: the gaps between the
 * parallel products of one training step are a few to tens of microseconds. */
#define SPIN_US_DEFAULT 100
/* ... after this many pauses, giving its core away (sched_yield) at each look: on an idle
 * core that returns at once, and on a busy one the waiting worker stops taking time from
 * the caller or another program (2 busy processes on 2 cores, LeNet-5 at batch 64 with 2
 * threads: 0.98-1.12x of 1 thread's speed yielding, 0.89-1.04x spinning). */
#define YIELD_AFTER 64

static _Atomic int threads_set;        /* 0: never set, the default */
static _Atomic int64_t parallel_min_flops = PARALLEL_MIN_FLOPS;
static _Thread_local bool in_team;     /* a worker, or a caller running a job */

#ifdef GT_THREADS
static void forget_stalls(void);
#endif

/* ---- thread count ----------------------------------------------------------------- */

/* n within what this build can run: 1 to MAX_THREADS, or 1 without worker threads. */
static int capped(long n) {
#ifdef GT_THREADS
    return n < 1 ? 1 : n < MAX_THREADS ? (int)n : MAX_THREADS;
#else
    (void)n;
    return 1;
#endif
}

static int cores_available(void) {
#if defined(GT_THREADS) && defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return capped(CPU_COUNT(&set));
#endif
#ifdef GT_THREADS
    return capped(sysconf(_SC_NPROCESSORS_ONLN));
#else
    return 1;
#endif
}

/* GT_NUM_THREADS, else OMP_NUM_THREADS (its first number), else every core we may run on. */
static int default_threads(void) {
    const char *names[] = {"GT_NUM_THREADS", "OMP_NUM_THREADS"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        long n = v ? strtol(v, NULL, 10) : 0;
        if (n >= 1)
            return capped(n);
    }
    return cores_available();
}

int gt_set_threads(int n) {
    if (n < 0) {
        gt_set_error(GT_ERR_ARG, "set_threads: expects 0 (every core) or a count >= 1, got %d", n);
        return -1;
    }
    atomic_store(&threads_set, n == 0 ? cores_available() : capped(n));
#ifdef GT_THREADS
    forget_stalls();
#endif
    return gt_get_threads();
}

int gt_get_threads(void) {
    int n = atomic_load(&threads_set);
    if (n == 0) {
        n = default_threads();
        atomic_store(&threads_set, n);
    }
    return n;
}

int64_t gt__gemm_set_parallel_min_flops(int64_t flops) {
    return atomic_exchange(&parallel_min_flops, flops < 0 ? PARALLEL_MIN_FLOPS : flops);
}

/* The threads work of this many flops gets: 1 when it is small or already runs on a
 * thread of a job. */
int gt__threads_for_flops(double flops) {
    if (in_team || flops < (double)atomic_load(&parallel_min_flops))
        return 1;
    return gt_get_threads();
}

/* ---- the pool ---------------------------------------------------------------------- */

#ifdef GT_THREADS
/* A job is published by storing a new generation in the high half of `ticket`. Its parts
 * are dealt into one contiguous block per member, and member t claims from block t first
 * (the caller the first block, worker 1 the second, ...), then from the others' (whatever
 * they have not started). A block's counter holds (gen, next part): a member claims part
 * i by moving it from (gen, i) to (gen, i + 1), which fails once the job is over (the
 * generation moved on), so a late worker never touches a finished job. fn, ctx, threads
 * and the blocks are written before the ticket (release) and read only after a successful
 * claim, when the job cannot end before this part is done.
 *
 * Why blocks: successive jobs split alike (a conv's images, then the pool over their
 * planes, then the activation over the same halves) give each member the same data job
 * after job, still in its own caches; taking parts in one shared order dealt them
 * alternately, and on LeNet-5 at batch 64 the pools and activations ran no faster on 2
 * threads than on 1, their halves in the other core's cache. */
typedef struct pool_block {
    _Atomic uint64_t next; /* (gen, next part) */
    _Atomic int64_t end;   /* one past the block's last part */
    char pad[64 - 2 * sizeof(int64_t)]; /* a cache line each */
} pool_block;

typedef struct pool {
    _Atomic uint64_t ticket;
    _Atomic int64_t done; /* parts finished in this job */
    gt__part_fn *fn;
    const void *ctx;
    _Atomic int threads;  /* the job's tids: workers 1..threads-1 take part */
    _Atomic int sleepers; /* workers asleep (or about to be) on `wake` */
    _Atomic bool stop;
    atomic_flag busy;     /* a caller is running a job: another caller runs serially */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    _Atomic int started;  /* members running, the caller counted (changed under lock) */
    _Atomic int serial_left; /* jobs to run on the caller alone after a stall */
    _Atomic int backoff;     /* what serial_left is set to at the next stall */
    pthread_t workers[MAX_THREADS];
    uint32_t first_gen[MAX_THREADS]; /* per worker: the generation when it was created */
    int64_t spin_ns;
    pool_block blocks[MAX_THREADS];  /* the job's parts, a block per member */
} pool;

static pool the_pool = {.busy = ATOMIC_FLAG_INIT,
                        .lock = PTHREAD_MUTEX_INITIALIZER,
                        .wake = PTHREAD_COND_INITIALIZER};

static uint32_t generation_of(uint64_t ticket) { return (uint32_t)(ticket >> 32); }

/* Claims the next part of block b of job `gen`, or returns -1 when none is left there. A
 * new job stores a block's counter before its end (release), so a member of the job before
 * that reads the new end only when the counter has moved on too, and its claim fails. */
static int64_t claim_in(pool_block *b, uint32_t gen) {
    uint64_t t = atomic_load_explicit(&b->next, memory_order_acquire);
    for (;;) {
        int64_t next = (int64_t)(uint32_t)t;
        if (generation_of(t) != gen || next >= atomic_load_explicit(&b->end, memory_order_acquire))
            return -1;
        if (atomic_compare_exchange_weak_explicit(&b->next, &t, t + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return next;
    }
}

/* Runs parts of job `gen` until none is left, its own block's first; returns how many it
 * ran. */
static int64_t run_parts(pool *p, uint32_t gen, int tid) {
    int threads = atomic_load_explicit(&p->threads, memory_order_relaxed);
    int64_t ran = 0;
    for (int k = 0; k < threads; k++) {
        pool_block *b = &p->blocks[(tid + k) % threads];
        for (int64_t part; (part = claim_in(b, gen)) >= 0; ran++) {
            p->fn(p->ctx, part, tid);
            atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
        }
    }
    return ran;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits until the generation differs from `seen`: spins for spin_ns, then sleeps. */
static uint64_t wait_for_job(pool *p, uint32_t seen) {
    uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    int64_t until = 0;
    for (int i = 0; generation_of(t) == seen && !atomic_load(&p->stop); i++) {
        if ((i & 31) == 31) {
            int64_t now = now_ns();
            until = until ? until : now + p->spin_ns;
            if (now >= until)
                break;
        }
        if (i < YIELD_AFTER)
            cpu_relax();
        else
            sched_yield();
        t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    }
    if (generation_of(t) != seen)
        return t;
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1); /* seq_cst: a caller publishing now sees it */
    while (generation_of(t = atomic_load(&p->ticket)) == seen && !atomic_load(&p->stop))
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    return t;
}

static void *worker_main(void *arg) {
    pool *p = &the_pool;
    int tid = (int)(intptr_t)arg;
    in_team = true;
    uint32_t seen = p->first_gen[tid]; /* a job published before this thread ran is its first */
    for (;;) {
        uint64_t t = wait_for_job(p, seen);
        if (atomic_load(&p->stop))
            return NULL;
        seen = generation_of(t);
        if (tid < atomic_load_explicit(&p->threads, memory_order_relaxed)) {
            gt__fp_enter(); /* this thread's mode is the library's own: nothing to restore */
            run_parts(p, seen, tid);
        }
    }
}

static void stop_workers(void) {
    pool *p = &the_pool;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    int started = p->started;
    p->started = 0;
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < started; i++)
        pthread_join(p->workers[i], NULL);
}

/* A forked child has only the thread that forked: it starts workers of its own. */
static void forget_workers(void) {
    pthread_mutex_t fresh_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_wake = PTHREAD_COND_INITIALIZER;
    the_pool.lock = fresh_lock;
    the_pool.wake = fresh_wake;
    the_pool.started = 0;
    atomic_store(&the_pool.sleepers, 0);
    atomic_flag_clear(&the_pool.busy);
}

static int64_t spin_ns_from_env(void) {
    const char *v = getenv("GT_SPIN_US");
    char *end;
    long us = v ? strtol(v, &end, 10) : -1;
    return v && *v && !*end && us >= 0 ? (int64_t)us * 1000 : (int64_t)SPIN_US_DEFAULT * 1000;
}

/* Starts workers up to tids threads-1; returns how many members a job can have. */
static int ensure_workers(pool *p, int threads) {
    if (atomic_load_explicit(&p->started, memory_order_acquire) >= threads)
        return threads;
    pthread_mutex_lock(&p->lock);
    if (p->started == 0) {
        static bool registered;
        if (!registered) {
            registered = atexit(stop_workers) == 0 && pthread_atfork(NULL, NULL, forget_workers) == 0;
            p->spin_ns = spin_ns_from_env();
        }
        if (!registered) { /* no clean way to stop them at exit: stay serial */
            pthread_mutex_unlock(&p->lock);
            return 1;
        }
        p->started = 1; /* tid 0 is the caller */
    }
    for (int at = p->started; at < threads; at++) {
        p->first_gen[at] = generation_of(atomic_load(&p->ticket)); /* we hold busy: no job */
        if (pthread_create(&p->workers[at], NULL, worker_main, (void *)(intptr_t)at) != 0)
            break;
        atomic_store(&p->started, at + 1);
    }
    int members = p->started;
    pthread_mutex_unlock(&p->lock);
    return members < threads ? members : threads;
}

/* The caller waits for parts other members are computing: spins, then gives its core
 * away (a member computing a part may be waiting for one). Returns the nanoseconds it
 * waited (0 when it did not). */
static int64_t wait_done(pool *p, int64_t parts) {
    if (atomic_load_explicit(&p->done, memory_order_acquire) >= parts)
        return 0;
    int64_t start = now_ns();
    for (int i = 0; atomic_load_explicit(&p->done, memory_order_acquire) < parts; i++) {
        if (i < 4096)
            cpu_relax();
        else
            sched_yield();
    }
    return now_ns() - start;
}

/* A stall: the caller waited for another member's part longer than two of its own parts
 * took, plus STALL_SLACK_NS. A member that merely started late costs at most one part; this
 * is a member that lost its core in the middle of a part (another program wants the
 * cores), which costs a scheduler time slice, milliseconds. After a stall the next
 * `backoff` jobs run on the caller alone (BACKOFF_FIRST, doubling at each stall up to
 * BACKOFF_MAX); each job that runs in parallel without one halves it. The same parts run
 * either way, so the results do not change. */
#define STALL_SLACK_NS 20000
#define BACKOFF_FIRST 4
#define BACKOFF_MAX 4096

static bool stalled(int64_t waited_ns, int64_t own_ns, int64_t own_parts) {
    return waited_ns > STALL_SLACK_NS + 2 * own_ns / (own_parts > 0 ? own_parts : 1);
}

static void note_job(pool *p, bool stall) {
    int backoff = atomic_load_explicit(&p->backoff, memory_order_relaxed);
    if (stall) {
        backoff = backoff < BACKOFF_FIRST ? BACKOFF_FIRST
                : backoff < BACKOFF_MAX  ? 2 * backoff
                                         : BACKOFF_MAX;
        atomic_store_explicit(&p->serial_left, backoff, memory_order_relaxed);
    } else {
        backoff /= 2;
    }
    atomic_store_explicit(&p->backoff, backoff, memory_order_relaxed);
}

/* A new thread count starts without the backoff of earlier stalls. */
static void forget_stalls(void) {
    atomic_store(&the_pool.serial_left, 0);
    atomic_store(&the_pool.backoff, 0);
}

/* Whether this job runs on the caller alone, counting it. */
static bool serial_after_stall(pool *p) {
    int left = atomic_load_explicit(&p->serial_left, memory_order_relaxed);
    if (left <= 0)
        return false;
    atomic_store_explicit(&p->serial_left, left - 1, memory_order_relaxed);
    return true;
}

static void run_job(pool *p, int64_t parts, int threads, gt__part_fn *fn, const void *ctx) {
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->threads, threads, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    uint32_t gen = generation_of(atomic_load(&p->ticket)) + 1;
    for (int b = 0; b < threads; b++) { /* parts [b*parts/threads, (b+1)*parts/threads) */
        int64_t first, count;
        gt__split_even(parts, threads, b, &first, &count);
        atomic_store_explicit(&p->blocks[b].next, (uint64_t)gen << 32 | (uint64_t)first,
                              memory_order_relaxed);
        atomic_store_explicit(&p->blocks[b].end, first + count, memory_order_release);
    }
    atomic_store(&p->ticket, (uint64_t)gen << 32); /* seq_cst: before reading sleepers */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    int64_t start = now_ns();
    int64_t own_parts = run_parts(p, gen, 0);
    int64_t own_ns = now_ns() - start;
    note_job(p, stalled(wait_done(p, parts), own_ns, own_parts));
}
#endif

void gt__parallel_parts(int64_t parts, int threads, gt__part_fn *fn, const void *ctx) {
    gt__fp_scope fp = gt__fp_enter();
#ifdef GT_THREADS
    pool *p = &the_pool;
    threads = parts < threads ? (int)parts : threads;
    if (threads > 1 && !in_team && parts <= UINT32_MAX && !atomic_flag_test_and_set(&p->busy)) {
        int members = serial_after_stall(p) ? 1 : ensure_workers(p, threads);
        if (members > 1) {
            in_team = true;
            run_job(p, parts, members, fn, ctx);
            in_team = false;
            atomic_flag_clear(&p->busy);
            gt__fp_leave(fp);
            return;
        }
        atomic_flag_clear(&p->busy);
    }
#else
    (void)threads;
#endif
    for (int64_t part = 0; part < parts; part++)
        fn(ctx, part, 0);
    gt__fp_leave(fp);
}

/* ---- ranges ------------------------------------------------------------------------ */

typedef struct ranges_job {
    int64_t n, align, units, parts;
    void (*fn)(void *ctx, int64_t from, int64_t to);
    void *ctx;
} ranges_job;

static void run_range(const void *job_ptr, int64_t part, int tid) {
    const ranges_job *job = job_ptr;
    (void)tid;
    int64_t from = job->units * part / job->parts * job->align;
    int64_t to = job->units * (part + 1) / job->parts * job->align;
    if (from < job->n)
        job->fn(job->ctx, from, to < job->n ? to : job->n);
}

void gt__parallel_ranges(int64_t n, int64_t align, double flops,
                         void (*fn)(void *ctx, int64_t from, int64_t to), void *ctx) {
    int parts = n > align ? gt__threads_for_flops(flops) : 1;
    ranges_job job = {n, align, (n + align - 1) / align, parts, fn, ctx};
    gt__parallel_parts(parts, parts, run_range, &job);
}
