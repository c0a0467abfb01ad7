/* resume.c - what a checkpoint of gradtape-train holds besides the model and its optimizer
 * state (gt_model_save), so that `--load FILE` continues a run where it stopped:
 *   epoch                  epochs done
 *   train.epochs           the last epoch the run was asked for
 *   train.seed             the seed (initial weights and data order), as 64 bits
 *   train.batch            images per step
 *   train.limit            training images used (0: all)
 *   train.lr_bits, train.momentum_bits, train.weight_decay_bits
 *                          the doubles' IEEE-754 bits (checkpoint entries are integers)
 *   train.nesterov         0 or 1
 *   train.schedule         0 constant, 1 cosine
 *   train.warmup_epochs    epochs of linear warm-up (0: none)
 *   train.clip_bits        the gradient norm clipped to, as bits (0: no clipping)
 *   train.normalize        0 or 1: inputs normalised by the training set's mean and std
 *   train.crop_padding     random crop's padding (0: none)
 *   train.hflip            0 or 1: random horizontal flips
 * A checkpoint written by another program may lack them: the defaults apply then. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t real_bits(double value) {
    int64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static double bits_real(int64_t bits) {
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

gt_status resume_save(const char *path, const gt_model *model, const gt_optimizer *opt,
                      const train_options *o, int epochs_done) {
    int64_t seed;
    memcpy(&seed, &o->seed, sizeof seed);
    const gt_ckpt_config extra[] = {
        {"epoch", epochs_done},
        {"train.epochs", o->epochs},
        {"train.seed", seed},
        {"train.batch", o->batch},
        {"train.limit", o->limit},
        {"train.lr_bits", real_bits(o->lr)},
        {"train.momentum_bits", real_bits(o->momentum)},
        {"train.weight_decay_bits", real_bits(o->weight_decay)},
        {"train.nesterov", o->nesterov},
        {"train.schedule", o->schedule},
        {"train.warmup_epochs", o->warmup_epochs},
        {"train.clip_bits", real_bits(o->clip_grad_norm)},
        {"train.normalize", o->normalize},
        {"train.crop_padding", o->crop_padding},
        {"train.hflip", o->hflip},
    };
    return gt_model_save(model, opt, extra, (int)(sizeof extra / sizeof extra[0]), path);
}

typedef struct entries {
    const char *path;
    gt_ckpt_config *config;
    int count;
} entries;

static bool lookup(const entries *e, const char *key, int64_t *value) {
    for (int i = 0; i < e->count; i++)
        if (!strcmp(e->config[i].key, key)) {
            *value = e->config[i].value;
            return true;
        }
    return false;
}

static gt_status bad_entry(const entries *e, const char *key, const char *expected) {
    return gt_set_error(GT_ERR_FORMAT, "%s: the entry \"%s\" is out of range (expected %s)",
                        e->path, key, expected);
}

/* An integer entry in [low, high] into *out, unless the command line gave that option. */
static gt_status read_int(const entries *e, const char *key, int64_t low, int64_t high, bool given,
                          int64_t *out) {
    int64_t value;
    if (given || !lookup(e, key, &value))
        return GT_OK;
    if (value < low || value > high) {
        char expected[64];
        snprintf(expected, sizeof expected, "%lld..%lld", (long long)low, (long long)high);
        return bad_entry(e, key, expected);
    }
    *out = value;
    return GT_OK;
}

/* A double stored as its bits, finite and in [low, high) (or [low, inf) when high is 0). */
static gt_status read_real(const entries *e, const char *key, double low, double high, bool given,
                           double *out) {
    int64_t bits;
    if (given || !lookup(e, key, &bits))
        return GT_OK;
    double value = bits_real(bits);
    if (!isfinite(value) || value < low || (high > 0 && value >= high))
        return bad_entry(e, key, "a finite number in the options' range");
    *out = value;
    return GT_OK;
}

static gt_status read_recipe(const entries *e, train_options *o, int *epochs_done) {
    int64_t value = 0;
    gt_status st = read_int(e, "epoch", 0, 100000, false, &value);
    *epochs_done = (int)value;
    value = o->optimizer;
    if (st == GT_OK)
        st = read_int(e, "optimizer", GT_OPTIM_SGD, GT_OPTIM_ADAM, o->given & GIVEN_OPTIMIZER,
                      &value);
    o->optimizer = (gt_optimizer_kind)value;
    if (st == GT_OK && lookup(e, "optimizer", &value))
        o->given |= GIVEN_OPTIMIZER;
    value = o->epochs;
    if (st == GT_OK)
        st = read_int(e, "train.epochs", 1, 100000, o->given & GIVEN_EPOCHS, &value);
    o->epochs = (int)value;
    int64_t seed = 0;
    memcpy(&seed, &o->seed, sizeof seed);
    if (st == GT_OK)
        st = read_int(e, "train.seed", INT64_MIN, INT64_MAX, o->given & GIVEN_SEED, &seed);
    memcpy(&o->seed, &seed, sizeof seed);
    if (st == GT_OK)
        st = read_int(e, "train.batch", 1, 65536, o->given & GIVEN_BATCH, &o->batch);
    if (st == GT_OK)
        st = read_int(e, "train.limit", 0, 100000000, o->given & GIVEN_LIMIT, &o->limit);
    if (st == GT_OK)
        st = read_real(e, "train.lr_bits", 1e-300, 0, o->given & GIVEN_LR, &o->lr);
    if (st == GT_OK)
        st = read_real(e, "train.weight_decay_bits", 0, 0, o->given & GIVEN_WEIGHT_DECAY,
                       &o->weight_decay);
    value = o->schedule;
    if (st == GT_OK)
        st = read_int(e, "train.schedule", SCHEDULE_CONSTANT, SCHEDULE_COSINE,
                      o->given & GIVEN_SCHEDULE, &value);
    o->schedule = (lr_schedule)value;
    value = o->warmup_epochs;
    if (st == GT_OK)
        st = read_int(e, "train.warmup_epochs", 0, 100000, o->given & GIVEN_WARMUP, &value);
    o->warmup_epochs = (int)value;
    if (st == GT_OK)
        st = read_real(e, "train.clip_bits", 0, 0, o->given & GIVEN_CLIP, &o->clip_grad_norm);
    if (o->optimizer == GT_OPTIM_SGD) { /* adam has neither */
        if (st == GT_OK)
            st = read_real(e, "train.momentum_bits", 0, 1, o->given & GIVEN_MOMENTUM, &o->momentum);
        value = o->nesterov;
        if (st == GT_OK)
            st = read_int(e, "train.nesterov", 0, 1, o->given & GIVEN_NESTEROV, &value);
        o->nesterov = value != 0;
    }
    value = o->normalize;
    if (st == GT_OK)
        st = read_int(e, "train.normalize", 0, 1, o->given & GIVEN_NORMALIZE, &value);
    o->normalize = value != 0;
    value = o->crop_padding;
    if (st == GT_OK)
        st = read_int(e, "train.crop_padding", 0, TRAIN_MAX_CROP_PADDING,
                      o->given & GIVEN_CROP_PADDING, &value);
    o->crop_padding = (int)value;
    value = o->hflip;
    if (st == GT_OK)
        st = read_int(e, "train.hflip", 0, 1, o->given & GIVEN_HFLIP, &value);
    o->hflip = value != 0;
    /* What the file held now counts as given: the defaults fill only the rest. */
    static const struct {
        const char *key;
        unsigned bit;
    } marks[] = {
        {"train.epochs", GIVEN_EPOCHS},
        {"train.seed", GIVEN_SEED},
        {"train.batch", GIVEN_BATCH},
        {"train.limit", GIVEN_LIMIT},
        {"train.lr_bits", GIVEN_LR},
        {"train.schedule", GIVEN_SCHEDULE},
        {"train.weight_decay_bits", GIVEN_WEIGHT_DECAY},
        {"train.momentum_bits", GIVEN_MOMENTUM},
        {"train.warmup_epochs", GIVEN_WARMUP},
        {"train.clip_bits", GIVEN_CLIP},
        {"train.nesterov", GIVEN_NESTEROV},
        {"train.normalize", GIVEN_NORMALIZE},
        {"train.crop_padding", GIVEN_CROP_PADDING},
        {"train.hflip", GIVEN_HFLIP},
    };
    for (size_t i = 0; st == GT_OK && i < sizeof marks / sizeof marks[0]; i++)
        if (lookup(e, marks[i].key, &value) &&
            ((marks[i].bit != GIVEN_MOMENTUM && marks[i].bit != GIVEN_NESTEROV) ||
             o->optimizer == GT_OPTIM_SGD))
            o->given |= marks[i].bit;
    return st;
}

gt_status resume_read(const char *path, train_options *o, int *epochs_done,
                      bool *has_optimizer_state) {
    char kind[256];
    int n = 0;
    int64_t value;
    *epochs_done = 0;
    *has_optimizer_state = false;
    gt_status st = gt_checkpoint_peek(path, kind, sizeof kind, NULL, 0, &n, NULL, 0);
    if (st != GT_OK)
        return st;
    size_t storage_size = (size_t)n * 256 + 1; /* keys are at most 255 bytes */
    entries e = {path, calloc((size_t)n + 1, sizeof(gt_ckpt_config)), n};
    char *storage = malloc(storage_size);
    if (!e.config || !storage)
        st = gt_set_error(GT_ERR_NOMEM, "%s: no memory for %d checkpoint entries", path, n);
    else
        st = gt_checkpoint_peek(path, kind, sizeof kind, e.config, n, &e.count, storage,
                                storage_size);
    if (st == GT_OK)
        st = read_recipe(&e, o, epochs_done);
    if (st == GT_OK)
        *has_optimizer_state = lookup(&e, "optimizer", &value);
    free(e.config);
    free(storage);
    return st;
}

/* <base>.tmp.<digits> */
static bool temp_file_pid(const char *name, const char *base, long *pid) {
    size_t length = strlen(base);
    if (strncmp(name, base, length) || strncmp(name + length, ".tmp.", 5))
        return false;
    const char *digits = name + length + 5;
    if (!*digits || digits[strspn(digits, "0123456789")] || strlen(digits) > 9)
        return false;
    *pid = strtol(digits, NULL, 10);
    return *pid > 0;
}

void remove_stale_temp_files(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *dir = slash == path ? strdup("/")
                : slash       ? strndup(path, (size_t)(slash - path))
                              : strdup(".");
    if (!dir)
        return;
    DIR *folder = opendir(dir);
    struct dirent *entry;
    while (folder && (entry = readdir(folder))) {
        long pid;
        if (!temp_file_pid(entry->d_name, base, &pid) || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its writer may still be running */
        char *stale = malloc(strlen(dir) + strlen(entry->d_name) + 2);
        if (!stale)
            break;
        sprintf(stale, "%s/%s", dir, entry->d_name);
        if (unlink(stale) == 0)
            complain("removed %s, left by an interrupted save", stale);
        free(stale);
    }
    if (folder)
        closedir(folder);
    free(dir);
}
