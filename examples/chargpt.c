/* chargpt.c - a character-level transformer trained on Debian's fortunes.
 *
 *     chargpt [--layers 4] [--heads 4] [--dim 128] [--context 64] [--batch 32]
 *             [--steps 2000] [--lr 1e-3] [--seed 1] [--threads 0] [--eval-every 500]
 *             [--eval-batches 16] [--sample 300] [--data /usr/share/games/fortunes]
 *             [--profile]
 *
 * Reads the corpus (the regular files without an extension directly in --data,
 * concatenated in sorted name order; the vocabulary is its distinct bytes; the last 10% is
 * validation), trains the model of chargpt_model.c with AdamW (PyTorch's defaults) and a
 * cosine decay of the learning rate from --lr to 0 over the steps, prints the validation
 * loss every --eval-every steps, a sample of text at the end, and a last line of key=value
 * pairs (--profile: and, on stderr, the time of each op over the steps before the first
 * validation).
 * examples/chargpt.py is its twin in PyTorch: the same model, initialisation, data,
 * batches (the same splitmix64 stream picks them) and recipe, and the same last line.
 * Exits 77 when the corpus is absent (the tests skip), 2 on a bad option, 1 on an error. */
#define _DEFAULT_SOURCE /* lstat, d_type-free readdir */
#include "chargpt_model.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- options ----------------------------------------------------------------------------- */

typedef struct options {
    int64_t layers, heads, dim, context, batch, steps, seed, threads;
    int64_t eval_every, eval_batches, sample;
    double lr;
    bool profile;
    const char *data;
} options;

static int usage(const char *msg) {
    fprintf(stderr, "chargpt: %s\n"
            "usage: chargpt [--layers N] [--heads N] [--dim N] [--context N] [--batch N]\n"
            "               [--steps N] [--lr F] [--seed N] [--threads N] [--eval-every N]\n"
            "               [--eval-batches N] [--sample N] [--data DIR] [--profile]\n", msg);
    return 2;
}

/* Fills o from argv; 0, or the exit status of a bad option after printing why. */
static int parse_options(int argc, char **argv, options *o) {
    *o = (options){.layers = 4, .heads = 4, .dim = 128, .context = 64, .batch = 32,
                   .steps = 2000, .seed = 1, .threads = 0, .eval_every = 500,
                   .eval_batches = 16, .sample = 300, .lr = 1e-3,
                   .data = "/usr/share/games/fortunes"};
    struct { const char *name; int64_t *value, min; } ints[] = {
        {"--layers", &o->layers, 0}, {"--heads", &o->heads, 1}, {"--dim", &o->dim, 1},
        {"--context", &o->context, 1}, {"--batch", &o->batch, 1}, {"--steps", &o->steps, 1},
        {"--seed", &o->seed, 0}, {"--threads", &o->threads, 0},
        {"--eval-every", &o->eval_every, 1}, {"--eval-batches", &o->eval_batches, 1},
        {"--sample", &o->sample, 0}};
    char msg[160];
    for (int i = 1; i < argc; i += 2) {
        const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(name, "--help") || !strcmp(name, "-h"))
            return usage("a character-level transformer on Debian's fortunes");
        if (!strcmp(name, "--profile")) { /* a flag: the next argument is an option */
            o->profile = true;
            i--;
            continue;
        }
        if (!value) {
            snprintf(msg, sizeof msg, "%s needs a value", name);
            return usage(msg);
        }
        char *end;
        if (!strcmp(name, "--data")) {
            o->data = value;
            continue;
        }
        if (!strcmp(name, "--lr")) {
            o->lr = strtod(value, &end);
            if (*end || !(o->lr > 0) || !isfinite(o->lr)) {
                snprintf(msg, sizeof msg, "--lr must be a number > 0, got '%s'", value);
                return usage(msg);
            }
            continue;
        }
        size_t k = 0;
        while (k < sizeof ints / sizeof *ints && strcmp(name, ints[k].name))
            k++;
        if (k == sizeof ints / sizeof *ints) {
            snprintf(msg, sizeof msg, "unknown option '%s'", name);
            return usage(msg);
        }
        long long v = strtoll(value, &end, 10);
        if (*end || end == value || v < ints[k].min || v > (1 << 24)) {
            snprintf(msg, sizeof msg, "%s must be an integer in %lld..%d, got '%s'", name,
                     (long long)ints[k].min, 1 << 24, value);
            return usage(msg);
        }
        *ints[k].value = v;
    }
    if (o->dim % o->heads) {
        snprintf(msg, sizeof msg, "--dim (%lld) must be a multiple of --heads (%lld)",
                 (long long)o->dim, (long long)o->heads);
        return usage(msg);
    }
    return 0;
}

/* ---- the corpus ---------------------------------------------------------------------------- */

typedef struct corpus {
    unsigned char *text; /* every file, in sorted name order */
    int64_t size, n_train; /* text[0, n_train) trains, the rest validates */
    int vocab;
    unsigned char byte_of[256]; /* token -> byte */
    int token_of[256];          /* byte -> token */
} corpus;

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the regular files without an extension directly in dir. 0, 77 when dir or its
 * files are absent, 1 on another error. */
static int corpus_read(const char *dir, corpus *c) {
    memset(c, 0, sizeof *c);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "chargpt: no corpus at %s (apt-get install fortunes)\n", dir);
        return 77;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    char path[4096];
    struct stat st;
    while ((e = readdir(d))) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strchr(e->d_name, '.') || lstat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        if (n == cap && !(names = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names)))
            return closedir(d), fprintf(stderr, "chargpt: out of memory\n"), 1;
        if (!(names[n++] = strdup(e->d_name)))
            return closedir(d), fprintf(stderr, "chargpt: out of memory\n"), 1;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    int status = 0;
    for (size_t i = 0; i < n && !status; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f || stat(path, &st)) {
            fprintf(stderr, "chargpt: cannot read %s\n", path);
            status = 1;
        } else {
            unsigned char *grown = realloc(c->text, (size_t)(c->size + st.st_size) + 1);
            if (!grown || fread(grown + c->size, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
                fprintf(stderr, "chargpt: cannot read %s\n", path), status = 1;
            if (grown)
                c->text = grown, c->size += st.st_size;
        }
        if (f)
            fclose(f);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!status && c->size < 1000) {
        fprintf(stderr, "chargpt: %s holds %lld bytes of text: too few to train on\n", dir,
                (long long)c->size);
        status = 77;
    }
    if (status)
        return free(c->text), c->text = NULL, status;
    bool seen[256] = {false};
    for (int64_t i = 0; i < c->size; i++)
        seen[c->text[i]] = true;
    for (int b = 0; b < 256; b++) {
        c->token_of[b] = seen[b] ? c->vocab : -1;
        if (seen[b])
            c->byte_of[c->vocab++] = (unsigned char)b;
    }
    c->n_train = c->size - c->size / 10;
    return 0;
}

/* ---- batches: splitmix64 picks the windows (chargpt.py draws the same) --------------------- */

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Row r of idx[B, T] and targets[B, T]: the tokens text[start, start + T) and the next ones. */
static void fill_row(const corpus *c, int64_t start, int64_t r, gt_tensor *idx, gt_tensor *targets) {
    int64_t t = gt_tensor_dim(idx, 1);
    gt_real *x = gt_tensor_data(idx) + r * t, *y = gt_tensor_data(targets) + r * t;
    for (int64_t j = 0; j < t; j++) {
        x[j] = (gt_real)c->token_of[c->text[start + j]];
        y[j] = (gt_real)c->token_of[c->text[start + j + 1]];
    }
}

/* A training batch: each row at a start uniform below n_train - T (splitmix64 % that). */
static void train_batch(const corpus *c, uint64_t *rng, gt_tensor *idx, gt_tensor *targets) {
    int64_t t = gt_tensor_dim(idx, 1);
    for (int64_t r = 0; r < gt_tensor_dim(idx, 0); r++)
        fill_row(c, (int64_t)(splitmix64(rng) % (uint64_t)(c->n_train - t)), r, idx, targets);
}

/* The validation loss: the mean over eval_batches batches of windows at evenly spaced
 * starts across the validation text, window w of W at n_train + w * (n_val - T - 1) / (W - 1). */
static double validation_loss(const corpus *c, gt_model *model, gt_tape *tape, int64_t batches,
                              gt_tensor *idx, gt_tensor *targets) {
    int64_t b = gt_tensor_dim(idx, 0), t = gt_tensor_dim(idx, 1);
    int64_t windows = batches * b, span = c->size - c->n_train - t - 1;
    bool was = gt_tape_set_grad_enabled(tape, false);
    double sum = 0;
    for (int64_t k = 0; k < batches; k++) {
        for (int64_t r = 0; r < b; r++) {
            int64_t w = k * b + r;
            fill_row(c, c->n_train + (windows > 1 ? w * span / (windows - 1) : 0), r, idx,
                     targets);
        }
        gt_tensor *loss = chargpt_loss(tape, model, idx, targets);
        sum = loss ? sum + gt_tensor_item(loss, 0) : NAN;
        gt_tape_reset(tape);
    }
    gt_tape_set_grad_enabled(tape, was);
    return sum / (double)batches;
}

/* ---- sampling ----------------------------------------------------------------------------- */

/* n bytes drawn one at a time from the model's softmax over the last position's logits,
 * each given the last `context` tokens before it, from a newline. */
static gt_status sample_text(const corpus *c, gt_model *model, gt_tape *tape, int64_t context,
                             int64_t n, uint64_t *rng, FILE *out) {
    int64_t *tokens = calloc((size_t)(n + 1), sizeof *tokens);
    if (!tokens)
        return gt_set_error(GT_ERR_NOMEM, "chargpt: no memory for the sample");
    tokens[0] = c->token_of['\n'] >= 0 ? c->token_of['\n'] : 0;
    bool was = gt_tape_set_grad_enabled(tape, false);
    gt_status st = GT_OK;
    for (int64_t i = 1; i <= n && st == GT_OK; i++) {
        int64_t t = i < context ? i : context;
        gt_tensor *idx = gt_tape_tensor(tape, GT_SHAPE(1, t));
        if (idx)
            for (int64_t j = 0; j < t; j++)
                gt_tensor_data(idx)[j] = (gt_real)tokens[i - t + j];
        gt_tensor *logits = chargpt_forward(tape, model, idx); /* [1, t, V] */
        gt_tensor *p = gt_softmax(tape, gt_narrow(tape, logits, 1, t - 1, 1), -1);
        if (!p) {
            st = gt_last_status();
            break;
        }
        double u = (double)(splitmix64(rng) >> 11) * 0x1.0p-53, sum = 0;
        int64_t next = c->vocab - 1;
        for (int64_t k = 0; k < c->vocab; k++)
            if ((sum += gt_tensor_data(p)[k]) > u) {
                next = k;
                break;
            }
        tokens[i] = next;
        fputc(c->byte_of[next], out);
        gt_tape_reset(tape);
    }
    gt_tape_set_grad_enabled(tape, was);
    free(tokens);
    return st;
}

/* ---- progress ----------------------------------------------------------------------------- */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A bar redrawn in place on stderr when it is a terminal, at most 10 times a second:
 *     step 420/2000 [=====>        ]  21%  loss 2.1034  41230 tok/s  ETA 0:41 */
static void progress(int64_t step, int64_t steps, double loss, double tokens_per_s,
                     double eta_seconds, double *last_drawn) {
    double now = now_seconds();
    if (!isatty(STDERR_FILENO) || (now - *last_drawn < 0.1 && step < steps))
        return;
    *last_drawn = now;
    char bar[31];
    int filled = (int)(30 * step / steps);
    for (int i = 0; i < 30; i++)
        bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
    bar[30] = 0;
    long eta = (long)(eta_seconds + 0.5);
    fprintf(stderr, "\r\033[Kstep %lld/%lld [%s] %3d%%  loss %.4f  %.0f tok/s  ETA %ld:%02ld",
            (long long)step, (long long)steps, bar, (int)(100 * step / steps), loss, tokens_per_s,
            eta / 60, eta % 60);
    fflush(stderr);
}

static void progress_clear(void) {
    if (isatty(STDERR_FILENO))
        fputs("\r\033[K", stderr);
}

/* ---- training ------------------------------------------------------------------------------ */

/* The run: o.steps steps of AdamW on batches of idx[B, T] and targets[B, T], validation every
 * o.eval_every steps and after the last, then the sample and the last line. 0 or 1. */
static int train(const options *o, const corpus *c, gt_model *model, gt_optimizer *opt,
                 gt_tape *tape, gt_tensor *idx, gt_tensor *targets, double start) {
    if (o->profile && gt_tape_set_profiling(tape, true) != GT_OK)
        return fprintf(stderr, "chargpt: %s\n", gt_last_error()), 1;
    uint64_t rng = (uint64_t)o->seed;
    double train_seconds = 0, interval_loss = 0, train_loss = NAN, val_loss = NAN, drawn = 0;
    int64_t interval_steps = 0, tokens = o->batch * o->context;
    for (int64_t step = 0; step < o->steps; step++) {
        double t0 = now_seconds();
        /* lr from o->lr at step 0 down to 0 after the last step, along half a cosine */
        gt_optimizer_set_lr(opt, o->lr * 0.5 * (1 + cos(M_PI * (double)step / (double)o->steps)));
        train_batch(c, &rng, idx, targets);
        gt_tensor *loss = chargpt_loss(tape, model, idx, targets);
        if (!loss || gt_backward(tape, loss) != GT_OK || gt_optimizer_step(opt) != GT_OK) {
            progress_clear();
            fprintf(stderr, "chargpt: step %lld: %s\n", (long long)step + 1, gt_last_error());
            return 1;
        }
        interval_loss += gt_tensor_item(loss, 0);
        interval_steps++;
        gt_model_zero_grad(model);
        gt_tape_reset(tape);
        train_seconds += now_seconds() - t0;
        double tokens_per_s = (double)((step + 1) * tokens) / train_seconds;
        progress(step + 1, o->steps, interval_loss / (double)interval_steps, tokens_per_s,
                 train_seconds / (double)(step + 1) * (double)(o->steps - step - 1), &drawn);
        if ((step + 1) % o->eval_every && step + 1 < o->steps)
            continue;
        train_loss = interval_loss / (double)interval_steps;
        interval_loss = 0, interval_steps = 0;
        progress_clear();
        if (gt_tape_profiling(tape)) { /* the steps before the first validation */
            gt_tape_set_profiling(tape, false);
            gt_tape_profile_print(tape, stderr);
        }
        val_loss = validation_loss(c, model, tape, o->eval_batches, idx, targets);
        if (isnan(val_loss))
            return fprintf(stderr, "chargpt: validation: %s\n", gt_last_error()), 1;
        printf("step %5lld/%lld  train loss %.4f  val loss %.4f  lr %.2e  %.0f tok/s  %.1f s\n",
               (long long)step + 1, (long long)o->steps, train_loss, val_loss,
               gt_optimizer_lr(opt), tokens_per_s, now_seconds() - start);
        fflush(stdout);
    }
    if (o->sample > 0) {
        printf("sample:\n");
        if (sample_text(c, model, tape, o->context, o->sample, &rng, stdout) != GT_OK)
            return fprintf(stderr, "\nchargpt: sample: %s\n", gt_last_error()), 1;
        printf("\n");
    }
    printf("val_loss=%.4f train_loss=%.4f tokens_per_s=%.0f seconds=%.3f steps=%lld "
           "parameters=%lld threads=%d\n", val_loss, train_loss,
           (double)(o->steps * tokens) / train_seconds, now_seconds() - start,
           (long long)o->steps, (long long)gt_model_numel(model), gt_get_threads());
    return 0;
}

int main(int argc, char **argv) {
    double start = now_seconds();
    options o;
    int status = parse_options(argc, argv, &o);
    if (status)
        return status;
    corpus c;
    if ((status = corpus_read(o.data, &c)))
        return status;
    if (c.size - c.n_train < o.context + 2 || c.n_train < o.context + 2) {
        fprintf(stderr, "chargpt: %lld bytes of text are too few for --context %lld\n",
                (long long)c.size, (long long)o.context);
        return free(c.text), 2;
    }
    gt_set_threads((int)o.threads);
    chargpt_config config = {c.vocab, o.context, o.dim, o.heads, o.layers};
    gt_model *model = chargpt_new(&config, (uint64_t)o.seed);
    gt_adam_config adamw = gt_adamw_defaults(); /* betas (0.9, 0.999), eps 1e-8, decay 0.01 */
    adamw.lr = o.lr;
    gt_optimizer *opt = model ? gt_adamw_new(gt_model_params(model), gt_model_param_count(model),
                                             &adamw) : NULL;
    gt_tape *tape = gt_tape_new();
    gt_tensor *idx = gt_zeros(GT_SHAPE(o.batch, o.context));
    gt_tensor *targets = gt_zeros(GT_SHAPE(o.batch, o.context));
    if (!model || !opt || !tape || !idx || !targets) {
        fprintf(stderr, "chargpt: %s\n", gt_last_error());
        status = 1;
    } else {
        printf("chargpt: %lld layers, %lld heads, dim %lld, context %lld: %lld parameters\n",
               (long long)o.layers, (long long)o.heads, (long long)o.dim, (long long)o.context,
               (long long)gt_model_numel(model));
        printf("  data %s: %lld bytes, vocabulary %d, %lld train, %lld validation\n", o.data,
               (long long)c.size, c.vocab, (long long)c.n_train, (long long)(c.size - c.n_train));
        printf("  adamw lr=%g cosine betas=(%g, %g) eps=%g weight_decay=%g batch=%lld "
               "steps=%lld seed=%lld threads=%d\n", o.lr, adamw.beta1, adamw.beta2, adamw.eps,
               adamw.weight_decay, (long long)o.batch, (long long)o.steps, (long long)o.seed,
               gt_get_threads());
        fflush(stdout);
        status = train(&o, &c, model, opt, tape, idx, targets, start);
    }
    gt_tensor_free(idx), gt_tensor_free(targets);
    gt_tape_free(tape), gt_optimizer_free(opt), gt_model_free(model);
    free(c.text);
    return status;
}
