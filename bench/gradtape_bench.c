/* gradtape_bench.c - gradtape-bench: how fast the MLP, LeNet-5 and the modern CNN (--model
 * cnn: GT_MODEL_CNN_SPEC, batch norm and dropout, in train mode) run, and how far from the
 * machine's peak. For each model and batch size it times a forward pass without recording
 * (gt_tape_set_grad_enabled(tape, false)) and a whole training step (forward,
 * cross-entropy, backward, SGD with momentum 0.9, zero-grad, tape reset) on seeded random
 * data of the model's shapes, a Hessian-vector product of the loss over every parameter
 * (the hvp cell: gt_grad with create_graph, then the gradient of <grad, v>), reports
 * medians over repetitions within a time budget per
 * cell, images/s, GFLOP/s against the machine's peak, and the peak resident memory.
 * `--epoch` instead trains one epoch of real Fashion-MNIST and reports images/s and peak
 * memory. Only the public API is used: this is what a user of the library can get.
 *
 *     gradtape-bench                       human table, all models, batches 1, 64, 256
 *     gradtape-bench --json                one JSON object per line (bench/compare_pytorch.py)
 *     gradtape-bench --quick               a smoke run of a few seconds
 *     gradtape-bench --epoch --model lenet one epoch of Fashion-MNIST at batch 64
 *     gradtape-bench --model ops           one row per op family: forward, forward+backward
 *
 * FLOP convention: a forward pass costs 2 x the model's multiply-adds per image (LeNet-5
 * 416,520, MLP 784-100-10 79,400, CNN 18,767,104: gt_model_flops); a training step counts 3 x forward
 * (the backward pass does two GEMMs for each one of the forward). The peak is measured at
 * start-up with a loop of independent vector FMAs on one core (in CPU time, so that a busy
 * machine does not lower it), times the cores, unless --peak-gflops gives it. */
#define _GNU_SOURCE /* sysconf(_SC_NPROCESSORS_ONLN), getrusage */

#include <gradtape.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

#define MAX_BATCHES 16
#define TRAIN_FLOP_FACTOR 3
/* A Hessian-vector product: the forward (1), the recorded backward (2), and the backward
 * of both (the backward's two products per GEMM, 4, and the forward's, 2): 9 x forward. */
#define HVP_FLOP_FACTOR 9

enum { CELL_FORWARD = 1, CELL_TRAIN = 2, CELL_INFERENCE = 4, CELL_HVP = 8, CELL_ALL = 15 };

/* The models timed: the two classic ones and the modern CNN, trained with its recipe's
 * optimizer (SGD, Nesterov momentum 0.9, weight decay 5e-4, as gradtape-train --model cnn). */
typedef enum bench_model { BENCH_MLP, BENCH_LENET, BENCH_CNN, BENCH_MODELS } bench_model;
static const char *const model_names[BENCH_MODELS] = {"mlp", "lenet", "cnn"};

typedef struct options {
    int models[3]; /* bench_model values */
    int n_models;
    int64_t batches[MAX_BATCHES];
    int n_batches;
    int64_t inference_batch; /* 0: no inference cell */
    int cells;
    double budget;  /* seconds of timed repetitions per cell */
    int warmup;     /* untimed iterations before the timed ones */
    int min_reps;   /* timed repetitions even past the budget */
    int max_reps;
    int threads;    /* --threads: 0 = all cores */
    double peak_gflops; /* 0: measure */
    uint64_t seed;
    bool json, quick, epoch, batches_given, model_given;
    bool ops; /* --model ops: the op rows instead of the models */
    const char *op; /* --op NAME: only the rows of that op (implies --model ops) */
    const char *data_dir;
    int64_t limit; /* --epoch: images (0: the whole training set) */
} options;

/* ---- small helpers ---------------------------------------------------------------------- */

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU time of this thread: what the peak loop measures, so that other users of the machine
 * taking turns on this core do not lower the peak. */
static double thread_cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long peak_rss_kib(void) {
    struct rusage usage;
    return getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss : -1; /* KiB on Linux */
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The value at quantile q (0..1) of sorted[n], interpolated. */
static double quantile(const double *sorted, int n, double q) {
    double pos = q * (n - 1);
    int lo = (int)pos;
    return lo + 1 < n ? sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

static void fail(const char *what) {
    fprintf(stderr, "gradtape-bench: %s: %s\n", what, gt_last_error());
    exit(1);
}

static void usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gradtape-bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(gradtape-bench --help lists the options)\n");
    va_end(ap);
    exit(2);
}

/* The CPU from /proc/cpuinfo: "model name (family F, model M)", or "unknown". Tuning
 * depends on the core, and a model name alone ("AMD EPYC" under some hypervisors) may not
 * say which. */
static void cpu_model(char *buf, size_t size) {
    char name[256] = "unknown", family[32] = "", model[32] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f) && !(*family && *model && strcmp(name, "unknown"))) {
            char *colon = strchr(line, ':');
            if (!colon)
                continue;
            char *value = colon + 1 + (colon[1] == ' ');
            value[strcspn(value, "\n")] = 0;
            if (!strncmp(line, "model name", 10))
                snprintf(name, sizeof name, "%s", value);
            else if (!strncmp(line, "cpu family", 10))
                snprintf(family, sizeof family, "%s", value);
            else if (!strncmp(line, "model\t", 6))
                snprintf(model, sizeof model, "%s", value);
        }
        fclose(f);
    }
    if (*family)
        snprintf(buf, size, "%s (family %s, model %s)", name, family, *model ? model : "?");
    else
        snprintf(buf, size, "%s", name);
}

/* Writes s as a JSON string (quotes and escapes). */
static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* A finite number, or null (JSON has no NaN). */
static void json_number(FILE *out, double v) {
    if (isfinite(v))
        fprintf(out, "%.6g", v);
    else
        fputs("null", out);
}

/* ---- threads ------------------------------------------------------------------------------ */

/* Asks the library for n threads (0: all cores); returns the threads it will use, or -1
 * when the count is refused. */
static int apply_threads(int n) { return gt_set_threads(n); }

/* ---- the machine's peak: independent vector FMAs ----------------------------------------- */

#ifdef BENCH_X86
#define FMA_CHAINS 12 /* more independent chains than FMA latency x FMA pipes */

__attribute__((target("avx512f"))) static double fma_avx512(int64_t iters) {
    __m512 acc[FMA_CHAINS];
    for (int i = 0; i < FMA_CHAINS; i++)
        acc[i] = _mm512_set1_ps((float)i);
    const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
    for (int64_t it = 0; it < iters; it++) {
        acc[0] = _mm512_fmadd_ps(acc[0], m, c);
        acc[1] = _mm512_fmadd_ps(acc[1], m, c);
        acc[2] = _mm512_fmadd_ps(acc[2], m, c);
        acc[3] = _mm512_fmadd_ps(acc[3], m, c);
        acc[4] = _mm512_fmadd_ps(acc[4], m, c);
        acc[5] = _mm512_fmadd_ps(acc[5], m, c);
        acc[6] = _mm512_fmadd_ps(acc[6], m, c);
        acc[7] = _mm512_fmadd_ps(acc[7], m, c);
        acc[8] = _mm512_fmadd_ps(acc[8], m, c);
        acc[9] = _mm512_fmadd_ps(acc[9], m, c);
        acc[10] = _mm512_fmadd_ps(acc[10], m, c);
        acc[11] = _mm512_fmadd_ps(acc[11], m, c);
    }
    __m512 sum = acc[0];
    for (int i = 1; i < FMA_CHAINS; i++)
        sum = _mm512_add_ps(sum, acc[i]);
    return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static double fma_avx2(int64_t iters) {
    __m256 acc[FMA_CHAINS];
    for (int i = 0; i < FMA_CHAINS; i++)
        acc[i] = _mm256_set1_ps((float)i);
    const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
    for (int64_t it = 0; it < iters; it++) {
        acc[0] = _mm256_fmadd_ps(acc[0], m, c);
        acc[1] = _mm256_fmadd_ps(acc[1], m, c);
        acc[2] = _mm256_fmadd_ps(acc[2], m, c);
        acc[3] = _mm256_fmadd_ps(acc[3], m, c);
        acc[4] = _mm256_fmadd_ps(acc[4], m, c);
        acc[5] = _mm256_fmadd_ps(acc[5], m, c);
        acc[6] = _mm256_fmadd_ps(acc[6], m, c);
        acc[7] = _mm256_fmadd_ps(acc[7], m, c);
        acc[8] = _mm256_fmadd_ps(acc[8], m, c);
        acc[9] = _mm256_fmadd_ps(acc[9], m, c);
        acc[10] = _mm256_fmadd_ps(acc[10], m, c);
        acc[11] = _mm256_fmadd_ps(acc[11], m, c);
    }
    __m256 sum = acc[0];
    for (int i = 1; i < FMA_CHAINS; i++)
        sum = _mm256_add_ps(sum, acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    return lanes[0];
}
#endif

typedef struct peak_info {
    double per_core;  /* GFLOP/s of one core, float FMA */
    double machine;   /* what percentages are of */
    int cores;
    const char *isa;  /* "AVX-512", "AVX2", or "" when not measured */
    const char *source; /* "measured" or "--peak-gflops" */
} peak_info;

static volatile double peak_sink;

/* The best of a few short runs of one core's FMA loop, in GFLOP/s of CPU time; 0 when this
 * CPU has no vector FMA this program knows. The widest the library's kernels use: AVX2's
 * when GT_CPU=avx2 makes them run as on a CPU without AVX-512. */
static double measure_core_peak(bool quick, const char **isa) {
    *isa = "";
#ifdef BENCH_X86
    __builtin_cpu_init();
    double (*kernel)(int64_t) = NULL;
    int lanes = 0;
    const char *forced = getenv("GT_CPU");
    if (__builtin_cpu_supports("avx512f") && !(forced && strcmp(forced, "avx2") == 0)) {
        kernel = fma_avx512, lanes = 16, *isa = "AVX-512";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        kernel = fma_avx2, lanes = 8, *isa = "AVX2";
    }
    if (!kernel)
        return 0;
    int64_t iters = 1 << 16;
    double best = 0, target = quick ? 0.005 : 0.02; /* seconds per trial */
    for (int trial = 0; trial < (quick ? 3 : 7); trial++) {
        double t = thread_cpu_seconds();
        peak_sink = kernel(iters);
        t = thread_cpu_seconds() - t;
        double flops = (double)iters * FMA_CHAINS * lanes * 2;
        if (t > 0 && flops / t * 1e-9 > best)
            best = flops / t * 1e-9;
        if (t < target / 2 && iters < ((int64_t)1 << 40))
            iters *= 2; /* the first trials also warm the clock up */
    }
    return best;
#else
    (void)quick;
    return 0;
#endif
}

static peak_info find_peak(const options *opt) {
    peak_info p = {.isa = ""};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p.cores = cores > 0 ? (int)cores : 1;
    if (opt->peak_gflops > 0) { /* given: nothing to measure (and nothing in a profile) */
        p.machine = opt->peak_gflops;
        p.source = "--peak-gflops";
    } else {
        p.per_core = measure_core_peak(opt->quick, &p.isa);
        p.machine = p.per_core * p.cores;
        p.source = "measured";
    }
    return p;
}

/* ---- the cells ----------------------------------------------------------------------------- */

typedef struct timing {
    double median, min, q1, q3; /* seconds */
    int reps;
    /* The median of the last tenth of the repetitions, in the order they ran, over the
     * first tenth's (NAN under DRIFT_MIN_REPS): a cell that slows down as it runs (SGD's
     * momentum decaying into subnormal numbers, on a CPU that takes an assist for them, when
     * GT_DENORMALS=keep) shows a drift well above 1. */
    double drift;
} timing;

#define DRIFT_MIN_REPS 100

/* The median of n samples (sorted in place). */
static double median_of(double *samples, int n) {
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    return quantile(samples, n, 0.5);
}

/* timing.drift of samples[n] in the order they ran (sorts its tenths in place). */
static double drift_of(double *samples, int n) {
    if (n < DRIFT_MIN_REPS)
        return NAN;
    int tenth = n / 10;
    double first = median_of(samples, tenth);
    return median_of(samples + n - tenth, tenth) / first;
}

typedef struct bench_ctx {
    gt_model *model;
    gt_optimizer *opt;
    gt_tape *tape;
    gt_tensor *x, *y;
    gt_tensor **v; /* hvp: one direction per parameter */
} bench_ctx;

static void forward_once(void *ctx) {
    bench_ctx *c = ctx;
    gt_tape_set_grad_enabled(c->tape, false);
    gt_tensor *logits = gt_model_forward(c->tape, c->model, c->x);
    if (!logits)
        fail("forward");
    gt_tape_reset(c->tape);
    gt_tape_set_grad_enabled(c->tape, true);
}

static void train_step(void *ctx) {
    bench_ctx *c = ctx;
    gt_tensor *loss = gt_cross_entropy(c->tape, gt_model_forward(c->tape, c->model, c->x), c->y);
    if (!loss || gt_backward(c->tape, loss) != GT_OK || gt_optimizer_step(c->opt) != GT_OK)
        fail("training step");
    gt_model_zero_grad(c->model);
    gt_tape_reset(c->tape);
}

/* H v for the loss's Hessian over every parameter, v one random direction per parameter:
 * gt_grad with create_graph, <grad, v>, and its gradient by gt_backward (as
 * torch.autograd.grad(create_graph=True) then backward of the dot product). */
static gt_status hvp_try(bench_ctx *c) {
    int n = gt_model_param_count(c->model);
    gt_tensor *const *params = gt_model_params(c->model);
    gt_tensor *grads[64];
    if (n > 64)
        return gt_set_error(GT_ERR_ARG, "hvp: more than 64 parameters");
    gt_tensor *loss = gt_cross_entropy(c->tape, gt_model_forward(c->tape, c->model, c->x), c->y);
    gt_status status = loss ? gt_grad(c->tape, &loss, 1, params, n, NULL, true, grads)
                            : gt_last_status();
    gt_tensor *dot = NULL;
    for (int k = 0; status == GT_OK && k < n; k++) {
        gt_tensor *term = gt_sum(c->tape, gt_mul(c->tape, grads[k], c->v[k]), GT_ALL_AXES);
        dot = dot ? gt_add(c->tape, dot, term) : term;
    }
    if (status == GT_OK)
        status = dot ? gt_backward(c->tape, dot) : gt_last_status();
    gt_model_zero_grad(c->model);
    gt_tape_reset(c->tape);
    return status;
}

static void hvp_step(void *ctx) {
    if (hvp_try(ctx) != GT_OK)
        fail("hvp");
}

/* Warm-up, then repetitions until the budget is spent (at least min_reps, at most
 * max_reps); a rep longer than the budget cuts the warm-up to one iteration. */
static timing time_cell(void *c, void (*fn)(void *), const options *opt) {
    double t0 = now_seconds();
    fn(c);
    double first = now_seconds() - t0;
    int warmup = first > opt->budget ? 0 : opt->warmup - 1;
    for (int i = 0; i < warmup; i++)
        fn(c);
    int cap = opt->max_reps;
    double *samples = malloc((size_t)cap * sizeof *samples);
    if (!samples) {
        fprintf(stderr, "gradtape-bench: out of memory for %d samples\n", cap);
        exit(1);
    }
    int n = 0;
    double start = now_seconds();
    while (n < cap && (n < opt->min_reps || now_seconds() - start < opt->budget)) {
        double t = now_seconds();
        fn(c);
        samples[n++] = now_seconds() - t;
    }
    double drift = drift_of(samples, n);
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    timing r = {quantile(samples, n, 0.5), samples[0], quantile(samples, n, 0.25),
                quantile(samples, n, 0.75), n, drift};
    free(samples);
    return r;
}

static const char *cell_name(int cell) {
    return cell == CELL_FORWARD ? "forward" : cell == CELL_TRAIN ? "train_step"
           : cell == CELL_HVP   ? "hvp"
                                : "inference";
}

static void report_cell(const options *opt, const peak_info *peak, const char *model, int cell,
                        int64_t batch, int64_t macs, const timing *t) {
    double images_per_s = (double)batch / t->median;
    double flops = 2.0 * (double)macs * (double)batch;
    if (cell == CELL_TRAIN)
        flops *= TRAIN_FLOP_FACTOR;
    if (cell == CELL_HVP)
        flops *= HVP_FLOP_FACTOR;
    double gflops = flops / t->median * 1e-9;
    double pct = peak->machine > 0 ? 100 * gflops / peak->machine : NAN;
    if (opt->json) {
        printf("{\"type\":\"%s\",\"model\":\"%s\",\"batch\":%lld,\"median_us\":", cell_name(cell),
               model, (long long)batch);
        json_number(stdout, t->median * 1e6);
        printf(",\"min_us\":");
        json_number(stdout, t->min * 1e6);
        printf(",\"q1_us\":");
        json_number(stdout, t->q1 * 1e6);
        printf(",\"q3_us\":");
        json_number(stdout, t->q3 * 1e6);
        printf(",\"reps\":%d,\"images_per_s\":", t->reps);
        json_number(stdout, images_per_s);
        printf(",\"gflops\":");
        json_number(stdout, gflops);
        printf(",\"pct_of_peak\":");
        json_number(stdout, pct);
        printf(",\"drift\":");
        json_number(stdout, t->drift);
        printf("}\n");
    } else {
        char pct_text[32] = "n/a";
        if (isfinite(pct))
            snprintf(pct_text, sizeof pct_text, "%.2f%%", pct);
        char drift_text[32] = "-";
        if (isfinite(t->drift))
            snprintf(drift_text, sizeof drift_text, "%.2f", t->drift);
        printf("%-6s %-11s %6lld %12.1f %12.1f %6d %12.0f %9.2f %8s %6s\n", model,
               cell_name(cell), (long long)batch, t->median * 1e6, t->min * 1e6, t->reps,
               images_per_s, gflops, pct_text, drift_text);
    }
    fflush(stdout);
}

static gt_model *make_model(bench_model kind, uint64_t seed) {
    gt_model *m = kind == BENCH_LENET ? gt_lenet_new(GT_ACT_TANH, 10, seed)
                  : kind == BENCH_CNN
                      ? gt_model_from_spec(GT_MODEL_CNN_SPEC, 3, (int64_t[]){1, 28, 28}, seed)
                      : gt_mlp_new((int[]){784, 100, 10}, 3, GT_ACT_RELU, seed);
    if (!m)
        fail("model");
    return m;
}

static gt_optimizer *make_sgd(bench_model kind, gt_model *m) {
    gt_sgd_config c = {.lr = 0.01, .momentum = 0.9};
    if (kind == BENCH_CNN)
        c = (gt_sgd_config){.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true};
    gt_optimizer *opt = gt_sgd_new(gt_model_params(m), gt_model_param_count(m), &c);
    if (!opt)
        fail("optimizer");
    return opt;
}

/* Random images in [0,1) of the model's input shape and random class indices. */
static void make_batch(bench_model kind, int64_t batch, uint64_t seed, gt_tensor **x,
                       gt_tensor **y) {
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    *x = kind != BENCH_MLP ? gt_rand(GT_SHAPE(batch, 1, 28, 28), 0, 1, &rng)
                           : gt_rand(GT_SHAPE(batch, 784), 0, 1, &rng);
    *y = gt_zeros(GT_SHAPE(batch));
    if (!*x || !*y)
        fail("batch");
    for (int64_t i = 0; i < batch; i++)
        gt_tensor_data(*y)[i] = (gt_real)gt_rng_below(&rng, 10);
}

static void bench_batch(const options *opt, const peak_info *peak, bench_model kind,
                        int64_t batch, int cells) {
    bench_ctx c = {make_model(kind, opt->seed), NULL, gt_tape_new(), NULL, NULL, NULL};
    if (!c.tape)
        fail("tape");
    c.opt = make_sgd(kind, c.model);
    make_batch(kind, batch, opt->seed + (uint64_t)batch, &c.x, &c.y);
    const char *name = model_names[kind];
    int64_t macs = gt_model_flops(c.model);
    if (cells & (CELL_FORWARD | CELL_INFERENCE)) {
        timing t = time_cell(&c, forward_once, opt);
        report_cell(opt, peak, name, cells & CELL_FORWARD ? CELL_FORWARD : CELL_INFERENCE, batch,
                    macs, &t);
    }
    if (cells & CELL_TRAIN) {
        timing t = time_cell(&c, train_step, opt);
        report_cell(opt, peak, name, CELL_TRAIN, batch, macs, &t);
    }
    int n_params = gt_model_param_count(c.model);
    if ((cells & CELL_HVP) && !(c.v = calloc((size_t)n_params, sizeof *c.v)))
        fail("hvp directions");
    gt_rng rng;
    gt_rng_seed(&rng, opt->seed ^ 0x4e55);
    for (int k = 0; c.v && k < n_params; k++) {
        gt_tensor *p = gt_model_params(c.model)[k];
        if (!(c.v[k] = gt_randn(gt_tensor_ndim(p), gt_tensor_shape(p), 0, 1, &rng)))
            fail("hvp directions");
    }
    if (c.v && hvp_try(&c) != GT_OK) { /* an op of the model without a grad_graph */
        if (!opt->json)
            printf("%-6s %-11s %6lld   skipped: %s\n", name, "hvp", (long long)batch,
                   gt_last_error());
    } else if (c.v) {
        timing t = time_cell(&c, hvp_step, opt);
        report_cell(opt, peak, name, CELL_HVP, batch, macs, &t);
    }
    for (int k = 0; c.v && k < n_params; k++)
        gt_tensor_free(c.v[k]);
    free(c.v);
    gt_tensor_free(c.x);
    gt_tensor_free(c.y);
    gt_optimizer_free(c.opt);
    gt_tape_free(c.tape);
    gt_model_free(c.model);
}

/* ---- op rows: one op family at a realistic shape -------------------------------------------- */

/* One row per op family: the op's table name and a case in the form of the table's cases
 * ("SHAPES[; ATTRIBUTES]", see gt_op_def.cases; `_` for an absent optional input), run
 * through gt_op_call. bench/compare_pytorch.py --ops runs the same rows (it reads them
 * from this program's JSON) as the PyTorch function of the op's name, as the oracle does.
 * Adding a row is one line here. */
static const struct op_row {
    const char *op, *text;
} op_rows[] = {
    {"batch_norm", "64x32x28x28 32 32 32 32; training=True"},
    {"layer_norm", "32x64x128 128 128; normalized_shape=128"},
    {"matmul", "32x4x64x32 32x4x32x64"}, /* attention scores, Q @ K^T */
    {"softmax", "32x4x64x64; dim=-1"},
    {"gelu", "64x4096"},
    {"cross_entropy", "256x10 256"},
    {"cross_entropy", "2048x96 2048"}, /* a character model's tokens over its vocabulary */
    {"conv2d", "64x32x28x28 64x8x3x3; padding=1, groups=4"},    /* grouped */
    {"conv2d", "64x16x28x28 32x16x3x3; padding=2, dilation=2"}, /* dilated */
    {"conv1d", "64x32x256 64x32x5; padding=2"},
    {"max_pool2d", "64x32x28x28; kernel_size=3, stride=2, padding=1"},
    {"max_pool2d", "64x6x28x28; kernel_size=2"}, /* LeNet-5's S2 */
    {"avg_pool2d", "64x32x28x28; kernel_size=3, stride=2, padding=1"},
    {"adaptive_avg_pool2d", "64x64x7x7; output_size=1"},
    {"add", "64x32x28x28 32x1x1"}, /* a per-channel shift, broadcast */
    {"mul", "256x512 512"},        /* a per-feature scale, broadcast */
};

#define MAX_ROW_INPUTS 8

typedef struct op_ctx {
    const gt_op_def *op;
    gt_tape *tape;
    gt_tensor *in[MAX_ROW_INPUTS], *upstream; /* upstream: the gradient fed to backward */
    int n_in;
    _Alignas(16) unsigned char args[GT_OP_ARGS_MAX];
} op_ctx;

static const char *const domain_names[] = {"normal", "positive", "spread", "classes", "probs",
                                           "mask", "index"};

/* Values of one input from its domain (gt_domain): what the test suites draw, up to the
 * shuffling (timings do not depend on it). */
static void draw_domain(gt_tensor *t, gt_domain domain, int64_t bound, gt_rng *rng) {
    gt_real *x = gt_tensor_data(t);
    int ndim = gt_tensor_ndim(t);
    int64_t n = gt_tensor_numel(t), k = ndim ? gt_tensor_shape(t)[ndim - 1] : 1;
    for (int64_t i = 0; i < n; i++) {
        switch (domain) {
        case GT_DOMAIN_POSITIVE: x[i] = (gt_real)(0.5 + 1.5 * gt_rng_uniform(rng)); break;
        case GT_DOMAIN_CLASSES:
        case GT_DOMAIN_INDEX:
            x[i] = (gt_real)gt_rng_below(rng, (uint64_t)(bound > 0 ? bound : 1));
            break;
        case GT_DOMAIN_PROBS: x[i] = (gt_real)(1.0 / (double)(k ? k : 1)); break;
        case GT_DOMAIN_MASK: x[i] = (gt_real)(i % 2); break;
        default: x[i] = (gt_real)gt_rng_normal(rng); break;
        }
    }
}

/* The case's inputs, drawn, into c->in; each input's "SHAPE:DOMAIN:GRAD" (as gradtape-ops
 * --cases prints them, for compare_pytorch.py) into specs. */
static void make_row_inputs(const struct op_row *row, op_ctx *c, uint64_t seed, char *specs,
                            size_t size) {
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    const char *semi = strchr(row->text, ';'), *p = row->text;
    const char *end = semi ? semi : row->text + strlen(row->text);
    size_t used = 0;
    specs[0] = 0;
    for (c->n_in = 0; p < end; c->n_in++) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ;");
        if (!len)
            break;
        if (c->n_in == MAX_ROW_INPUTS)
            usage_error("op row %s \"%s\": more than %d inputs", row->op, row->text,
                        MAX_ROW_INPUTS);
        used += (size_t)snprintf(specs + used, size - used, "%s", c->n_in ? "," : "");
        if (len == 1 && *p == '_') {
            c->in[c->n_in] = NULL;
            used += (size_t)snprintf(specs + used, size - used, "\"_\"");
            p += len;
            continue;
        }
        int64_t shape[GT_MAX_DIMS];
        int ndim = 0;
        for (const char *q = p; q < p + len;) {
            char *next;
            if (ndim == GT_MAX_DIMS || (shape[ndim++] = strtoll(q, &next, 10)) < 1 || next == q)
                usage_error("op row %s \"%s\": bad shape", row->op, row->text);
            q = next + (*next == 'x');
        }
        const gt_input_def *def = gt_op_input(c->op, c->n_in);
        gt_domain domain = def ? def->domain : GT_DOMAIN_NORMAL;
        gt_tensor *t = gt_zeros(ndim, shape);
        if (!t)
            fail("op row input");
        int64_t bound = 1;
        if (domain == GT_DOMAIN_CLASSES && c->in[0])
            bound = gt_tensor_shape(c->in[0])[gt_tensor_ndim(c->in[0]) >= 2 ? 1 : 0];
        else if (domain == GT_DOMAIN_INDEX && def && c->in[def->bound_input])
            bound = gt_op_index_bound(c->op, gt_tensor_ndim(c->in[def->bound_input]),
                                      gt_tensor_shape(c->in[def->bound_input]), c->args);
        draw_domain(t, domain, bound, &rng);
        bool grad = c->op->backward && domain != GT_DOMAIN_CLASSES &&
                    domain != GT_DOMAIN_PROBS && domain != GT_DOMAIN_INDEX &&
                    domain != GT_DOMAIN_MASK && !(def && def->no_grad);
        if (grad && gt_tensor_set_requires_grad(t, true) != GT_OK)
            fail("op row input");
        c->in[c->n_in] = t;
        used += (size_t)snprintf(specs + used, size - used, "\"%.*s:%s", (int)len, p,
                                 domain_names[domain]);
        if (domain == GT_DOMAIN_INDEX)
            used += (size_t)snprintf(specs + used, size - used, "%lld", (long long)bound);
        used += (size_t)snprintf(specs + used, size - used, ":%d\"", grad);
        p += len;
    }
    if (used >= size)
        usage_error("op row %s \"%s\": too long", row->op, row->text);
}

// in -> op(in), not recorded
static void op_forward(void *ctx) {
    op_ctx *c = ctx;
    gt_tape_set_grad_enabled(c->tape, false);
    if (!gt_op_call(c->tape, c->op, c->in, c->n_in, c->args))
        fail(c->op->name);
    gt_tape_reset(c->tape);
    gt_tape_set_grad_enabled(c->tape, true);
}

// in -> op(in), recorded, then backward from upstream: the inputs' gradients accumulate over
// the repetitions, as PyTorch's .grad do without zero_grad (compare_pytorch.py does the same)
static void op_forward_backward(void *ctx) {
    op_ctx *c = ctx;
    gt_tensor *y = gt_op_call(c->tape, c->op, c->in, c->n_in, c->args);
    if (!y || gt_backward_with(c->tape, y, c->upstream) != GT_OK)
        fail(c->op->name);
    gt_tape_reset(c->tape);
}

static void report_op_cell(const options *opt, const struct op_row *row, const char *cell,
                           const char *specs, const timing *t) {
    if (opt->json) {
        printf("{\"type\":\"op\",\"op\":\"%s\",\"case\":", row->op);
        json_string(stdout, row->text);
        const char *semi = strchr(row->text, ';');
        printf(",\"attrs\":");
        json_string(stdout, semi ? semi + 1 + strspn(semi + 1, " ") : "");
        printf(",\"inputs\":[%s],\"cell\":\"%s\",\"median_us\":", specs, cell);
        json_number(stdout, t->median * 1e6);
        printf(",\"min_us\":");
        json_number(stdout, t->min * 1e6);
        printf(",\"reps\":%d}\n", t->reps);
    } else {
        printf("%-19s %-48s %-16s %12.1f %12.1f %6d\n", row->op, row->text, cell,
               t->median * 1e6, t->min * 1e6, t->reps);
    }
    fflush(stdout);
}

static void bench_op_row(const options *opt, const struct op_row *row) {
    op_ctx c = {.op = gt_op_find(row->op), .tape = gt_tape_new()};
    if (!c.op)
        usage_error("op row: no op \"%s\" in the table", row->op);
    if (!c.tape)
        fail("tape");
    const char *semi = strchr(row->text, ';');
    if (gt_op_args_parse(c.op, semi ? semi + 1 : "", c.args) != GT_OK)
        fail(row->op);
    char specs[512];
    make_row_inputs(row, &c, opt->seed, specs, sizeof specs);
    timing t = time_cell(&c, op_forward, opt);
    report_op_cell(opt, row, "forward", specs, &t);
    gt_tensor *y = c.op->backward ? gt_op_call(c.tape, c.op, c.in, c.n_in, c.args) : NULL;
    if (y) { /* the upstream gradient: of the output's shape */
        gt_rng rng;
        gt_rng_seed(&rng, opt->seed + 1);
        c.upstream = gt_randn(gt_tensor_ndim(y), gt_tensor_shape(y), 0, 1, &rng);
        gt_tape_reset(c.tape);
        if (!c.upstream)
            fail("upstream gradient");
        t = time_cell(&c, op_forward_backward, opt);
        report_op_cell(opt, row, "forward_backward", specs, &t);
    }
    gt_tensor_free(c.upstream);
    for (int i = 0; i < c.n_in; i++)
        gt_tensor_free(c.in[i]);
    gt_tape_free(c.tape);
}

static void bench_op_rows(const options *opt) {
    if (!opt->json)
        printf("\n%-19s %-48s %-16s %12s %12s %6s\n", "op", "case", "cell", "median us",
               "min us", "reps");
    for (size_t i = 0; i < sizeof op_rows / sizeof op_rows[0]; i++)
        if (!opt->op || !strcmp(opt->op, op_rows[i].op))
            bench_op_row(opt, &op_rows[i]);
}

/* ---- one epoch of Fashion-MNIST ----------------------------------------------------------- */

static void run_epoch(const options *opt, int threads) {
    bench_model kind = (bench_model)opt->models[0];
    int64_t batch = opt->batches[0];
    double t0 = now_seconds();
    gt_dataset train;
    if (gt_mnist_load(opt->data_dir, GT_SPLIT_TRAIN, &train) != GT_OK)
        fail("data");
    double load_s = now_seconds() - t0;
    gt_loader loader;
    if (gt_loader_init(&loader, &train, batch, true, opt->seed, opt->limit) != GT_OK)
        fail("loader");
    gt_model *model = make_model(kind, opt->seed);
    gt_optimizer *sgd = make_sgd(kind, model);
    gt_tape *tape = gt_tape_new();
    if (!tape)
        fail("optimizer or tape");
    double loss_sum = 0;
    int64_t images = 0;
    gt_batch b;
    t0 = now_seconds();
    gt_loader_start_epoch(&loader);
    while (gt_loader_next(&loader, &b)) {
        gt_tensor *x = b.x;
        gt_tensor *loss = gt_cross_entropy(tape, gt_model_forward(tape, model, x), b.y);
        if (!loss || gt_backward(tape, loss) != GT_OK || gt_optimizer_step(sgd) != GT_OK)
            fail("training step");
        loss_sum += gt_tensor_item(loss, 0) * (double)b.size;
        images += b.size;
        gt_model_zero_grad(model);
        gt_tape_reset(tape);
    }
    double seconds = now_seconds() - t0;
    double rate = images / seconds, mean_loss = images ? loss_sum / images : NAN;
    long rss = peak_rss_kib();
    if (opt->json) {
        printf("{\"type\":\"epoch\",\"model\":\"%s\",\"batch\":%lld,\"images\":%lld,\"threads\":%d,"
               "\"seconds\":",
               model_names[kind], (long long)batch, (long long)images, threads);
        json_number(stdout, seconds);
        printf(",\"load_seconds\":");
        json_number(stdout, load_s);
        printf(",\"images_per_s\":");
        json_number(stdout, rate);
        printf(",\"mean_loss\":");
        json_number(stdout, mean_loss);
        printf(",\"peak_rss_kib\":%ld,\"data\":", rss);
        json_string(stdout, opt->data_dir);
        printf("}\n");
    } else {
        printf("epoch: %s, batch %lld, %lld Fashion-MNIST images from %s in %.2f s (data loaded "
               "in %.2f s)\n",
               model_names[kind], (long long)batch, (long long)images, opt->data_dir,
               seconds, load_s);
        printf("  %.0f images/s, mean training loss %.4f\n", rate, mean_loss);
        printf("  peak resident memory %.1f MiB (ru_maxrss of this process, data included)\n",
               rss / 1024.0);
    }
    gt_tape_free(tape);
    gt_optimizer_free(sgd);
    gt_model_free(model);
    gt_loader_free(&loader);
    gt_dataset_free(&train);
}

/* ---- options ------------------------------------------------------------------------------ */

static void print_help(void) {
    printf(
        "usage: gradtape-bench [options]\n"
        "Times the MLP 784-100-10 (relu), LeNet-5 (tanh) and the modern CNN (gradtape-train\n"
        "--model cnn, in train mode): forward without recording and a training step (forward,\n"
        "cross-entropy, backward, SGD momentum 0.9 (cnn: Nesterov, weight decay 5e-4),\n"
        "zero-grad, tape reset) at each batch size, a Hessian-vector product of the loss\n"
        "(hvp), inference at a large batch; medians of repetitions.\n"
        "\n"
        "  --model mlp|lenet|cnn|all|ops  models to time (default all); ops: one row per op\n"
        "                            family instead, forward and forward+backward at a\n"
        "                            realistic shape (the op_rows of gradtape_bench.c)\n"
        "  --op NAME                 only the op rows of op NAME (implies --model ops)\n"
        "  --batches N[,N...]        batch sizes (default 1,64,256)\n"
        "  --inference-batch N       batch of the inference cell (default 1000; 0: none)\n"
        "  --cells LIST              forward,train,inference,hvp (default all four; hvp: a\n"
        "                            Hessian-vector product of the loss, where every op of\n"
        "                            the model has a backward written with ops)\n"
        "  --budget SECONDS          timed repetitions per cell (default 1)\n"
        "  --warmup N                untimed iterations first (default 3)\n"
        "  --min-reps N              repetitions even past the budget (default 5)\n"
        "  --threads N               threads for the library, 0 = all cores (default 0)\n"
        "  --peak-gflops X           the machine's peak, for the %% column (default: measured)\n"
        "  --seed N                  seed of the models and the random data (default 42)\n"
        "  --json                    one JSON object per line instead of the table\n"
        "  --quick                   a smoke run: batches 1,8, inference at 64, short budgets\n"
        "  --epoch                   train one epoch of Fashion-MNIST instead (model lenet and\n"
        "                            batch 64 unless given) and report images/s and peak memory\n"
        "  --data DIR                the data set for --epoch (default %s)\n"
        "  --limit N                 --epoch: use the first N images (default 0: all)\n"
        "  --help                    this text\n"
        "\n"
        "FLOP convention: forward = 2 x multiply-adds per image (LeNet-5 416,520, MLP 79,400,\n"
        "CNN 18,767,104);\n"
        "a training step counts 3 x forward.\n",
        GT_DEFAULT_DATA_DIR);
}

/* A whole-string integer in [lo, hi]. */
static long long parse_int(const char *opt, const char *text, long long lo, long long hi) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < lo || v > hi)
        usage_error("%s expects an integer in [%lld, %lld], got \"%s\"", opt, lo, hi, text);
    return v;
}

static double parse_real(const char *opt, const char *text, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !(v >= lo && v <= hi))
        usage_error("%s expects a number in [%g, %g], got \"%s\"", opt, lo, hi, text);
    return v;
}

static void parse_batches(options *o, const char *text) {
    char buf[256];
    if (strlen(text) >= sizeof buf)
        usage_error("--batches: list too long");
    strcpy(buf, text);
    o->n_batches = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (o->n_batches == MAX_BATCHES)
            usage_error("--batches takes at most %d sizes", MAX_BATCHES);
        o->batches[o->n_batches++] = parse_int("--batches", tok, 1, 1 << 20);
    }
    if (!o->n_batches)
        usage_error("--batches needs at least one size, e.g. --batches 1,64,256");
}

static int parse_cells(const char *text) {
    char buf[128];
    if (strlen(text) >= sizeof buf)
        usage_error("--cells: list too long");
    strcpy(buf, text);
    int cells = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "forward"))
            cells |= CELL_FORWARD;
        else if (!strcmp(tok, "train"))
            cells |= CELL_TRAIN;
        else if (!strcmp(tok, "inference"))
            cells |= CELL_INFERENCE;
        else if (!strcmp(tok, "hvp"))
            cells |= CELL_HVP;
        else
            usage_error("--cells: unknown cell \"%s\": choose forward, train, inference, hvp", tok);
    }
    if (!cells)
        usage_error("--cells needs at least one of forward, train, inference, hvp");
    return cells;
}

static options parse_options(int argc, char **argv) {
    options o = {.models = {BENCH_MLP, BENCH_LENET, BENCH_CNN}, .n_models = 3,
                 .batches = {1, 64, 256}, .n_batches = 3, .inference_batch = 1000,
                 .cells = CELL_ALL, .budget = 1.0, .warmup = 3, .min_reps = 5,
                 .max_reps = 100000, .seed = 42, .data_dir = GT_DEFAULT_DATA_DIR};
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--quick")) { /* defaults first, so later options override */
            o.quick = true;
            o.batches[1] = 8;
            o.n_batches = 2;
            o.inference_batch = 64;
            o.budget = 0.02;
            o.warmup = 1;
            o.min_reps = 2;
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
#define VALUE() (has_value ? argv[++i] : (usage_error("%s needs a value", a), ""))
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_help();
            exit(0);
        } else if (!strcmp(a, "--json")) {
            o.json = true;
        } else if (!strcmp(a, "--quick")) {
            continue;
        } else if (!strcmp(a, "--epoch")) {
            o.epoch = true;
        } else if (!strcmp(a, "--model")) {
            const char *v = VALUE();
            o.model_given = true;
            o.n_models = 0;
            for (int k = 0; k < BENCH_MODELS; k++)
                if (!strcmp(v, model_names[k]) || !strcmp(v, "all"))
                    o.models[o.n_models++] = k;
            if (!o.n_models && strcmp(v, "ops"))
                usage_error("--model: unknown model \"%s\": choose mlp, lenet, cnn, all or ops", v);
            o.ops = !o.n_models;
        } else if (!strcmp(a, "--op")) {
            o.op = VALUE();
            o.n_models = 0, o.ops = true, o.model_given = true;
        } else if (!strcmp(a, "--batches") || !strcmp(a, "--batch")) {
            parse_batches(&o, VALUE());
            o.batches_given = true;
        } else if (!strcmp(a, "--inference-batch")) {
            o.inference_batch = parse_int(a, VALUE(), 0, 1 << 20);
        } else if (!strcmp(a, "--cells")) {
            o.cells = parse_cells(VALUE());
        } else if (!strcmp(a, "--budget")) {
            o.budget = parse_real(a, VALUE(), 0, 3600);
        } else if (!strcmp(a, "--warmup")) {
            o.warmup = (int)parse_int(a, VALUE(), 0, 1000000);
        } else if (!strcmp(a, "--min-reps")) {
            o.min_reps = (int)parse_int(a, VALUE(), 1, 100000);
        } else if (!strcmp(a, "--threads")) {
            o.threads = (int)parse_int(a, VALUE(), 0, 4096);
        } else if (!strcmp(a, "--peak-gflops")) {
            o.peak_gflops = parse_real(a, VALUE(), 1e-3, 1e9);
        } else if (!strcmp(a, "--seed")) {
            o.seed = (uint64_t)parse_int(a, VALUE(), 0, LLONG_MAX);
        } else if (!strcmp(a, "--data")) {
            o.data_dir = VALUE();
        } else if (!strcmp(a, "--limit")) {
            o.limit = parse_int(a, VALUE(), 0, LLONG_MAX);
        } else {
            usage_error("unknown option \"%s\"", a);
        }
#undef VALUE
    }
    if (o.warmup < 1)
        o.warmup = 1; /* the first call always runs: it sizes the tape's arena */
    if (o.epoch) {
        if (o.ops)
            usage_error("--epoch trains a model: give --model mlp or --model lenet");
        if (!o.model_given)
            o.models[0] = BENCH_LENET, o.n_models = 1;
        if (o.n_models != 1)
            usage_error("--epoch trains one model: give --model mlp, lenet or cnn");
        if (!o.batches_given)
            o.batches[0] = 64, o.n_batches = 1;
        if (o.n_batches != 1)
            usage_error("--epoch trains at one batch size: give --batch N");
    }
    return o;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void report_header(const options *opt, const peak_info *peak, int threads) {
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    const char *convention = "forward = 2 x multiply-adds per image (lenet 416520, mlp 79400, "
                             "cnn 18767104); train_step = 3 x forward; hvp = 9 x forward";
    if (opt->json) {
        printf("{\"type\":\"env\",\"bench\":\"gradtape-bench\",\"real\":\"%s\",\"cpu\":",
               GT_REAL_NAME);
        json_string(stdout, cpu);
        printf(",\"cores\":%d,\"threads_requested\":%d,\"threads\":%d,\"threads_wired\":%s,"
               "\"peak_gflops\":",
               peak->cores, opt->threads, threads < 0 ? 1 : threads,
               threads < 0 ? "false" : "true");
        json_number(stdout, peak->machine > 0 ? peak->machine : NAN);
        printf(",\"peak_source\":\"%s\",\"peak_gflops_per_core\":", peak->source);
        json_number(stdout, peak->per_core > 0 ? peak->per_core : NAN);
        printf(",\"peak_isa\":\"%s\",\"flop_convention\":", peak->isa);
        json_string(stdout, convention);
        printf(",\"budget_s\":%g,\"warmup\":%d,\"min_reps\":%d,\"seed\":%llu,\"quick\":%s}\n",
               opt->budget, opt->warmup, opt->min_reps, (unsigned long long)opt->seed,
               opt->quick ? "true" : "false");
        return;
    }
    printf("gradtape-bench: gt_real = %s, CPU %s, %d cores\n", GT_REAL_NAME, cpu, peak->cores);
    printf("threads: %d (--threads %d)\n", threads, opt->threads);
    if (peak->per_core > 0 && !strcmp(peak->source, "measured"))
        printf("peak: %.0f GFLOP/s = %.0f per core (measured, float %s FMA) x %d cores\n",
               peak->machine, peak->per_core, peak->isa, peak->cores);
    else if (peak->machine > 0)
        printf("peak: %.0f GFLOP/s (%s)\n", peak->machine, peak->source);
    else
        printf("peak: unknown (no vector FMA measured here; give --peak-gflops)\n");
    printf("FLOP convention: %s\n", convention);
    printf("times: median (and min) of reps after %d warm-up runs, %g s budget per cell, at "
           "least %d reps; drift: the last tenth's median over the first tenth's (%d reps "
           "or more)\n\n",
           opt->warmup, opt->budget, opt->min_reps, DRIFT_MIN_REPS);
    if (opt->n_models)
        printf("%-6s %-11s %6s %12s %12s %6s %12s %9s %8s %6s\n", "model", "cell", "batch",
               "median us", "min us", "reps", "images/s", "GFLOP/s", "of peak", "drift");
}

int main(int argc, char **argv) {
    options opt = parse_options(argc, argv);
    int threads = apply_threads(opt.threads);
    if (opt.epoch) {
        run_epoch(&opt, threads < 0 ? 1 : threads);
        return 0;
    }
    peak_info peak = find_peak(&opt);
    report_header(&opt, &peak, threads);
    int batch_cells = opt.cells & (CELL_FORWARD | CELL_TRAIN | CELL_HVP);
    for (int m = 0; m < opt.n_models; m++) {
        bench_model kind = (bench_model)opt.models[m];
        for (int b = 0; b < opt.n_batches && batch_cells; b++)
            bench_batch(&opt, &peak, kind, opt.batches[b], batch_cells);
        if ((opt.cells & CELL_INFERENCE) && opt.inference_batch > 0)
            bench_batch(&opt, &peak, kind, opt.inference_batch, CELL_INFERENCE);
    }
    if (opt.ops)
        bench_op_rows(&opt);
    long rss = peak_rss_kib();
    if (opt.json)
        printf("{\"type\":\"memory\",\"peak_rss_kib\":%ld}\n", rss);
    else
        printf("\npeak resident memory: %.1f MiB (ru_maxrss of this whole process)\n",
               rss / 1024.0);
    return 0;
}
