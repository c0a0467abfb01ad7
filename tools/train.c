/* train.c - gradtape-train: trains an MLP or LeNet-5 on an MNIST-format data set, prints a
 * summary per epoch and, as the last line of standard output, key=value pairs:
 *     test_accuracy=0.8512 test_loss=0.412345 ... train_images_per_s=2345.6 seconds=61.2
 * One step: the loader scales a batch of bytes into its own tensors, the model records
 * its ops on the tape, backward leaves the gradients in the model's gradient block, (with
 * --distributed, they are averaged over the ranks,) the optimizer updates the parameter
 * block, and gt_tape_reset releases every intermediate at once: after the first step the
 * loop allocates nothing. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "gt_gnuplot.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Everything a run holds, freed by run_free whatever state it got to. */
typedef struct run {
    train_options o;
    gt_model *model;
    gt_optimizer *opt;
    gt_tape *tape;
    gt_dataset train, test;
    gt_loader loader;
    history history;
    progress progress;
    distributed dist; /* --distributed: this rank and its peers; else a run of one */
    int epochs_done; /* before this run: from --load */
    int saved_epoch; /* the epoch the file of --save holds, 0: none yet */
    int threads;     /* in use by the library */
    bool has_optimizer_state;
    int64_t steps_taken;    /* in this run, over every epoch */
    int64_t steps_profiled; /* --profile: steps timed so far */
    char description[160]; /* the model, e.g. "lenet(act=tanh, classes=10): ..." */
    char recipe[224];      /* the optimizer and its settings, batch and seed */
} run;

/* The one place the thread count reaches the library; the count in use. --threads 0 means
 * every core, shared among the ranks of a distributed run on this machine. */
static int apply_threads(const run *r) {
    int n = r->o.threads;
    if (n == 0 && r->dist.local_size > 1) {
        n = gt_set_threads(0) / r->dist.local_size;
        n = n > 1 ? n : 1;
    }
    return gt_set_threads(n);
}

/* SIGINT or SIGTERM: the run stops after the step (or the save) in progress, keeping the
 * checkpoint of the last finished epoch; a second one ends it at once (SA_RESETHAND). */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

static void catch_stop_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

/* Prints the library's last error after a context; returns EXIT_FAILURE. */
static int fail(const char *context) {
    if (context)
        complain("%s: %s", context, gt_last_error());
    else
        complain("%s", gt_last_error());
    return EXIT_FAILURE;
}

static const char *act_name(gt_activation act) { return gt_activation_name(act); }

/* ---- the model and where it comes from ---------------------------------------------------- */

/* --load: the model as saved; the epoch and the recipe for the options not given. */
static int load_checkpoint(run *r) {
    train_options *o = &r->o;
    r->model = gt_model_load(o->load_path);
    if (!r->model)
        return fail(NULL); /* the message starts with the file's name */
    const gt_model_config *c = gt_model_get_config(r->model);
    const char *saved_spec = gt_model_spec(r->model);
    if ((o->given & GIVEN_MODEL) && c->kind == GT_MODEL_SPEC && o->model == GT_MODEL_SPEC &&
        (!saved_spec || strcmp(saved_spec, o->spec))) {
        complain("%s: holds the model \"%s\", but --model \"%s\" was given", o->load_path,
                 saved_spec ? saved_spec : "(built in C)", o->spec);
        return EXIT_FAILURE;
    }
    if ((o->given & GIVEN_MODEL) && c->kind != o->model) {
        complain("%s: holds %s %s model, but --model %s was given", o->load_path,
                 c->kind == GT_MODEL_MLP ? "an" : "a",
                 c->kind == GT_MODEL_SPEC ? saved_spec ? saved_spec : "(built in C)"
                                          : gt_model_kind_name(c->kind),
                 o->model == GT_MODEL_SPEC ? o->spec : gt_model_kind_name(o->model));
        return EXIT_FAILURE;
    }
    if ((o->given & GIVEN_ACT) && c->act != o->act) {
        complain("%s: holds a model with %s activations, but --act %s was given", o->load_path,
                 act_name(c->act), act_name(o->act));
        return EXIT_FAILURE;
    }
    o->model = c->kind;
    o->spec = saved_spec;
    o->act = c->act;
    o->given |= GIVEN_MODEL | GIVEN_ACT;
    if (resume_read(o->load_path, o, &r->epochs_done, &r->has_optimizer_state) != GT_OK)
        return fail(NULL);
    return EXIT_SUCCESS;
}

/* Two independent streams from one seed: initial weights and data order. */
static void derive_seeds(uint64_t seed, uint64_t *model_seed, uint64_t *data_seed) {
    gt_rng rng;
    gt_rng_seed(&rng, seed);
    *model_seed = gt_rng_next(&rng);
    *data_seed = gt_rng_next(&rng);
}

static int new_model(run *r, int64_t rows, int64_t cols, int64_t classes) {
    uint64_t model_seed, data_seed;
    int64_t pixels = rows * cols;
    derive_seeds(r->o.seed, &model_seed, &data_seed);
    if (r->o.model == GT_MODEL_SPEC)
        r->model = gt_model_from_spec(r->o.spec, 3, (int64_t[]){1, rows, cols}, model_seed);
    else if (r->o.model == GT_MODEL_LENET)
        r->model = gt_lenet_new(r->o.act, (int)classes, model_seed);
    else
        r->model = gt_mlp_new((int[]){(int)pixels, 100, (int)classes}, 3, r->o.act, model_seed);
    return r->model ? EXIT_SUCCESS : fail("--model");
}

/* A spec's model takes one image [1, rows, cols] (or its values, when it flattens first) and
 * gives a score per class. */
static int check_spec_fits_data(run *r, int64_t classes, const char *what) {
    const gt_sample_shape *in = gt_model_input_shape(r->model);
    const gt_dataset *d = &r->test;
    int64_t values = 1;
    for (int i = 0; i < in->ndim; i++)
        values *= in->dims[i];
    bool image = in->ndim == 3 && in->dims[0] == 1 && in->dims[1] == d->rows &&
                 in->dims[2] == d->cols;
    char shape[96];
    if (!image && !(in->ndim == 1 && values == d->rows * d->cols)) {
        complain("--data %s: holds 1x%lldx%lld images, but %s takes %s", r->o.data_dir,
                 (long long)d->rows, (long long)d->cols, what,
                 gt_shape_str(in->ndim, in->dims, shape, sizeof shape));
        return EXIT_FAILURE;
    }
    const gt_sample_shape *out = gt_module_out_shape(gt_model_module(r->model));
    if (out->ndim != 1 || out->dims[0] < classes) {
        complain("%s gives samples of %s, but --data %s has %lld classes: end it with "
                 "Linear(%lld)", what, gt_shape_str(out->ndim, out->dims, shape, sizeof shape),
                 r->o.data_dir, (long long)classes, (long long)classes);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

/* The model must take the data's images and have an output for each of its labels. */
static int check_model_fits_data(run *r) {
    const gt_model_config *c = gt_model_get_config(r->model);
    const gt_dataset *d = &r->test;
    int64_t classes =
        r->train.count && r->train.classes > d->classes ? r->train.classes : d->classes;
    const char *what = r->o.load_path ? r->o.load_path : "the model";
    if (c->kind == GT_MODEL_SPEC)
        return check_spec_fits_data(r, classes, what);
    if (c->kind == GT_MODEL_LENET && (d->rows != 28 || d->cols != 28)) {
        complain("--data %s: holds %lldx%lld images, LeNet-5 takes 28x28", r->o.data_dir,
                 (long long)d->rows, (long long)d->cols);
        return EXIT_FAILURE;
    }
    if (c->kind == GT_MODEL_MLP && c->sizes[0] != d->rows * d->cols) {
        complain("--data %s: holds %lldx%lld images, but %s takes %d values per image",
                 r->o.data_dir, (long long)d->rows, (long long)d->cols, what, c->sizes[0]);
        return EXIT_FAILURE;
    }
    if (classes > c->classes) {
        complain("--data %s: has labels up to %lld, but %s has %d outputs", r->o.data_dir,
                 (long long)classes - 1, what, c->classes);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

static int new_optimizer(run *r) {
    const train_options *o = &r->o;
    gt_tensor *const *params = gt_model_params(r->model);
    int n = gt_model_param_count(r->model);
    if (o->optimizer == GT_OPTIM_ADAM) {
        gt_adam_config adam = gt_adam_defaults();
        adam.lr = o->lr;
        adam.weight_decay = o->weight_decay;
        r->opt = gt_adam_new(params, n, &adam);
    } else {
        r->opt = gt_sgd_new(params, n,
                            &(gt_sgd_config){.lr = o->lr,
                                             .momentum = o->momentum,
                                             .weight_decay = o->weight_decay,
                                             .nesterov = o->nesterov});
    }
    if (!r->opt)
        return fail("cannot build the optimizer");
    if (!o->load_path)
        return EXIT_SUCCESS;
    if (!r->has_optimizer_state) {
        printf("note: %s holds no optimizer state: %s starts afresh\n", o->load_path,
               gt_optimizer_kind_name(o->optimizer));
        return EXIT_SUCCESS;
    }
    return gt_optimizer_load(r->opt, o->load_path) == GT_OK ? EXIT_SUCCESS : fail(NULL);
}

/* ---- data ----------------------------------------------------------------------------------- */

static int load_split(const char *dir, gt_split split, gt_dataset *out) {
    if (gt_mnist_load(dir, split, out) == GT_OK)
        return EXIT_SUCCESS;
    complain("--data %s: %s", dir, gt_last_error());
    return EXIT_FAILURE;
}

static int load_data(run *r) {
    const char *dir = r->o.data_dir;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        complain("--data %s: no such folder%s", dir,
                 strcmp(dir, GT_DEFAULT_DATA_DIR)
                     ? ""
                     : " (install Debian's dataset-fashion-mnist, or give --data DIR)");
        return EXIT_FAILURE;
    }
    /* --normalize takes the training set's statistics, also to evaluate only */
    if ((!r->o.eval_only || r->o.normalize) &&
        load_split(dir, GT_SPLIT_TRAIN, &r->train) != EXIT_SUCCESS)
        return EXIT_FAILURE;
    if (load_split(dir, GT_SPLIT_TEST, &r->test) != EXIT_SUCCESS)
        return EXIT_FAILURE;
    if (r->o.normalize) {
        double mean, std;
        gt_dataset_stats(&r->train, r->o.limit, &mean, &std);
        if (gt_dataset_normalize(&r->train, mean, std) != GT_OK ||
            gt_dataset_normalize(&r->test, mean, std) != GT_OK) {
            complain("--normalize: %s (are the training images all one value?)",
                     gt_last_error());
            return EXIT_FAILURE;
        }
    }
    if (r->train.count && (r->train.rows != r->test.rows || r->train.cols != r->test.cols)) {
        complain("--data %s: training images are %lldx%lld, test images %lldx%lld", dir,
                 (long long)r->train.rows, (long long)r->train.cols, (long long)r->test.rows,
                 (long long)r->test.cols);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

static int64_t used(int64_t limit, int64_t count) {
    return limit > 0 && limit < count ? limit : count;
}

/* ---- training -------------------------------------------------------------------------------- */

static void describe_recipe(run *r) {
    const train_options *o = &r->o;
    int n = snprintf(r->recipe, sizeof r->recipe, "%s lr=%g%s", gt_optimizer_kind_name(o->optimizer),
                     o->lr, o->schedule == SCHEDULE_COSINE ? " cosine" : "");
    if (o->warmup_epochs && n > 0 && (size_t)n < sizeof r->recipe)
        n += snprintf(r->recipe + n, sizeof r->recipe - (size_t)n, " warmup=%d",
                      o->warmup_epochs);
    if (o->clip_grad_norm > 0 && n > 0 && (size_t)n < sizeof r->recipe)
        n += snprintf(r->recipe + n, sizeof r->recipe - (size_t)n, " clip=%g",
                      o->clip_grad_norm);
    if (o->optimizer == GT_OPTIM_SGD && n > 0 && (size_t)n < sizeof r->recipe)
        n += snprintf(r->recipe + n, sizeof r->recipe - (size_t)n, " momentum=%g%s", o->momentum,
                      o->nesterov ? " nesterov" : "");
    if (o->normalize && n > 0 && (size_t)n < sizeof r->recipe)
        n += snprintf(r->recipe + n, sizeof r->recipe - (size_t)n, " normalize");
    if (o->crop_padding && n > 0 && (size_t)n < sizeof r->recipe)
        n += snprintf(r->recipe + n, sizeof r->recipe - (size_t)n, " crop_padding=%d",
                      o->crop_padding);
    if (o->hflip && n > 0 && (size_t)n < sizeof r->recipe)
        n += snprintf(r->recipe + n, sizeof r->recipe - (size_t)n, " hflip");
    if (n > 0 && (size_t)n < sizeof r->recipe)
        snprintf(r->recipe + n, sizeof r->recipe - (size_t)n,
                 " weight_decay=%g batch=%lld "
                 "seed=%llu",
                 o->weight_decay, (long long)o->batch, (unsigned long long)o->seed);
}

static void print_header(run *r) {
    const train_options *o = &r->o;
    printf("%s: %s\n", TRAIN_NAME, r->description);
    printf("  %s threads=%d%s\n", r->recipe, r->threads,
           o->detect_anomaly ? " detect-anomaly" : "");
    printf("  data %s: %lld of %lld training images, %lld of %lld test images\n", o->data_dir,
           (long long)used(o->limit, r->train.count), (long long)r->train.count,
           (long long)used(o->test_limit, r->test.count), (long long)r->test.count);
    if (r->dist.on)
        printf("  distributed over %d ranks (%d on this machine): each takes 1/%d of every "
               "batch\n",
               r->dist.size, r->dist.local_size, r->dist.size);
    if (r->epochs_done)
        printf("  resuming %s after epoch %d of %d\n", o->load_path, r->epochs_done, o->epochs);
    if (o->save_path)
        printf("  checkpoint %s after every epoch\n", o->save_path);
    fflush(stdout);
}

static int step_failed(run *r, int epoch, int64_t step, const char *problem) {
    progress_end(&r->progress);
    char kept[320] = "";
    if (r->saved_epoch)
        snprintf(kept, sizeof kept, " (%s keeps epoch %d)", r->o.save_path, r->saved_epoch);
    complain("epoch %d, step %lld: %s; training stopped%s", epoch, (long long)step,
             problem ? problem : gt_last_error(), kept);
    return EXIT_FAILURE;
}

/* The exit status of a run stopped by a signal: 128 + its number, as a shell reports it. */
static int interrupted(run *r, int epoch) {
    progress_end(&r->progress);
    char kept[640] = "";
    if (r->saved_epoch)
        snprintf(kept, sizeof kept, "; %s keeps epoch %d: resume with --load %s", r->o.save_path,
                 r->saved_epoch, r->o.save_path);
    complain("%s in epoch %d: training stopped%s",
             stop_signal == SIGINT ? "interrupted" : "terminated", epoch, kept);
    return 128 + stop_signal;
}

/* --graph FILE: the graph of the first step, parameters and data named, as DOT. */
static int write_graph(run *r, const gt_batch *batch, const gt_tensor *loss) {
    FILE *out = fopen(r->o.graph_path, "w");
    if (!out) {
        complain("--graph %s: cannot write it: %s", r->o.graph_path, strerror(errno));
        return EXIT_FAILURE;
    }
    gt_tensor *const *params = gt_model_params(r->model);
    bool named = gt_tape_set_name(r->tape, batch->x, "images") == GT_OK &&
                 gt_tape_set_name(r->tape, batch->y, "labels") == GT_OK;
    for (int i = 0; named && i < gt_model_param_count(r->model); i++)
        named = gt_tape_set_name(r->tape, params[i], gt_model_param_name(r->model, i)) == GT_OK;
    bool written = named && gt_tape_write_dot(r->tape, loss, out) == GT_OK;
    for (int i = 0; i < gt_model_param_count(r->model); i++)
        gt_tape_set_name(r->tape, params[i], NULL);
    gt_tape_set_name(r->tape, batch->x, NULL);
    gt_tape_set_name(r->tape, batch->y, NULL);
    if (fclose(out) != 0 || !written) {
        complain("--graph %s: %s", r->o.graph_path, written ? strerror(errno) : gt_last_error());
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

/* Forward and backward over this rank's rows of a batch: the gradient lands in the model's
 * block; the loss times the rows and the rows classified right are added to the sums. */
static int learn_from(run *r, const gt_batch *batch, int epoch, int64_t step, double *loss_sum,
                      int64_t *correct) {
    gt_tensor *logits = gt_model_forward(r->tape, r->model, batch->x);
    gt_tensor *loss = logits ? gt_cross_entropy(r->tape, logits, batch->y) : NULL;
    if (!loss) /* the first failure's message: an op given NULL would replace it */
        return step_failed(r, epoch, step, NULL);
    double value = gt_tensor_item(loss, 0);
    if (!isfinite(value)) {
        char problem[320];
        snprintf(problem, sizeof problem,
                 "the training loss is %s, so the weights would turn to garbage (is --lr "
                 "%g too large? --detect-anomaly names the op that first makes a "
                 "non-finite value)",
                 isnan(value) ? "nan" : "infinite", r->o.lr);
        return step_failed(r, epoch, step, problem);
    }
    if (gt_backward(r->tape, loss) != GT_OK)
        return step_failed(r, epoch, step, NULL);
    if (r->o.graph_path && r->steps_taken == 0 && r->dist.rank == 0 &&
        write_graph(r, batch, loss) != EXIT_SUCCESS)
        return EXIT_FAILURE;
    *correct += gt_count_correct(logits, batch->y);
    *loss_sum += value * (double)batch->size;
    return EXIT_SUCCESS;
}

/* One pass over the training images; the loss and accuracy over every rank go into *rec. */
/* The learning rate of step `step` (from 1) of epoch `epoch` (from 1) under the schedule. */
static double learning_rate(const run *r, int epoch, int64_t step) {
    int64_t per_epoch = (r->loader.limit + r->loader.batch_size - 1) / r->loader.batch_size;
    double t = (double)((epoch - 1) * per_epoch + step - 1), total = (double)r->o.epochs * per_epoch;
    double warmup = (double)r->o.warmup_epochs * per_epoch;
    if (t < warmup)
        return r->o.lr * (t + 1) / warmup;
    if (r->o.schedule == SCHEDULE_CONSTANT)
        return r->o.lr;
    const double pi = 3.14159265358979323846;
    return r->o.lr * 0.5 * (1 + cos(pi * (t - warmup) / (total - warmup)));
}

/* --profile N: the first step grows the arena and warms the caches; the next N are timed
 * op by op, and rank 0 prints the table when they are done (or the epoch ends first). */
static void profile_after_step(run *r, bool epoch_done) {
    if (!r->o.profile_steps || r->steps_profiled > r->o.profile_steps)
        return;
    if (!epoch_done && r->steps_taken == 1) {
        if (gt_tape_set_profiling(r->tape, true) != GT_OK)
            complain("--profile: %s; training on without it", gt_last_error());
        return;
    }
    if (!gt_tape_profiling(r->tape))
        return;
    r->steps_profiled += !epoch_done;
    if (r->steps_profiled < r->o.profile_steps && !epoch_done)
        return;
    gt_tape_set_profiling(r->tape, false);
    if (r->dist.rank == 0) {
        printf("profile of %lld training steps (steps 2 to %lld, batch %lld):\n",
               (long long)r->steps_profiled, (long long)r->steps_profiled + 1,
               (long long)r->o.batch);
        gt_tape_profile_print(r->tape, stdout);
        fflush(stdout);
    }
    r->steps_profiled = r->o.profile_steps + 1; /* printed once */
}

static int train_epoch(run *r, int epoch, epoch_record *rec, double *seconds) {
    gt_model_train(r->model, true); /* evaluation switches to eval mode and back */
    gt_loader_start_epoch(&r->loader);
    progress_begin(&r->progress, epoch, r->o.epochs, r->loader.limit);
    double start = now_seconds(), loss_sum = 0;
    int64_t seen = 0, correct = 0, step = 0;
    gt_batch batch;
    while (gt_loader_next(&r->loader, &batch)) {
        step++;
        /* A rank's share of a batch may be empty: it still takes part in the average. */
        if (batch.size && learn_from(r, &batch, epoch, step, &loss_sum, &correct) != EXIT_SUCCESS)
            return EXIT_FAILURE;
        distributed_average_gradients(&r->dist, gt_model_grad(r->model), gt_model_numel(r->model),
                                      batch.size, batch.global_size);
        if (r->o.clip_grad_norm > 0 && /* of the whole batch's gradient: after averaging */
            gt_clip_grad_norm(gt_model_params(r->model), gt_model_param_count(r->model),
                              r->o.clip_grad_norm, NULL) != GT_OK)
            return step_failed(r, epoch, step, NULL);
        gt_optimizer_set_lr(r->opt, learning_rate(r, epoch, step));
        if (gt_optimizer_step(r->opt) != GT_OK)
            return step_failed(r, epoch, step, NULL);
        seen += batch.size;
        gt_model_zero_grad(r->model);
        gt_tape_reset(r->tape);
        r->steps_taken++;
        profile_after_step(r, false);
        if (stop_signal)
            return interrupted(r, epoch);
        progress_update(&r->progress, r->loader.next, seen ? loss_sum / (double)seen : 0);
    }
    profile_after_step(r, true);
    /* Sums over the ranks: rank 0 prints what one process would. */
    double sums[3] = {loss_sum, (double)correct, (double)seen};
    distributed_sum(&r->dist, sums, 3);
    *seconds = now_seconds() - start;
    progress_end(&r->progress);
    rec->train_loss = sums[0] / sums[2];
    rec->train_accuracy = sums[1] / sums[2];
    rec->images_per_s = *seconds > 0 ? sums[2] / *seconds : 0;
    return EXIT_SUCCESS;
}

static int evaluate(run *r, gt_eval_result *result, const char *when) {
    if (gt_model_evaluate(r->model, r->tape, &r->test, TRAIN_EVAL_BATCH, r->o.test_limit, result) !=
        GT_OK)
        return fail(when);
    if (!isfinite(result->loss)) {
        complain("%s: the test loss is %s: the weights are no longer finite%s", when,
                 isnan(result->loss) ? "nan" : "infinite",
                 r->o.eval_only ? "" : "; training stopped");
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

/* After an epoch: the summary line, the CSV, the checkpoint, the plot (in that order, so
 * that a checkpoint's epoch always has its row in the CSV). */
static int finish_epoch(run *r, const epoch_record *rec) {
    const train_options *o = &r->o;
    printf("epoch %*d/%d  train loss %.4f acc %.4f  test loss %.4f acc %.4f  %.1f images/s  "
           "%.1f s\n",
           (int)snprintf(NULL, 0, "%d", o->epochs), rec->epoch, o->epochs, rec->train_loss,
           rec->train_accuracy, rec->test_loss, rec->test_accuracy, rec->images_per_s,
           rec->seconds);
    fflush(stdout);
    if (!history_add(&r->history, rec))
        return EXIT_FAILURE;
    if (o->csv_path && !history_write_csv(&r->history, o->csv_path))
        return EXIT_FAILURE;
    if (o->save_path) {
        if (resume_save(o->save_path, r->model, r->opt, o, rec->epoch) != GT_OK)
            return fail(NULL);
        r->saved_epoch = rec->epoch;
    }
    char title[400];
    snprintf(title, sizeof title, "%s\n%s", r->description, r->recipe);
    if (o->plot_path && !history_plot(&r->history, o->plot_path, title))
        return EXIT_FAILURE;
    return EXIT_SUCCESS;
}

static int train(run *r) {
    const train_options *o = &r->o;
    uint64_t model_seed, data_seed;
    derive_seeds(o->seed, &model_seed, &data_seed);
    if (gt_loader_init(&r->loader, &r->train, o->batch, true, data_seed, o->limit) != GT_OK ||
        (r->dist.size > 1 && gt_loader_shard(&r->loader, r->dist.rank, r->dist.size) != GT_OK))
        return fail("cannot make the batches");
    /* Every rank starts from rank 0's parameters (and has read the same optimizer state). */
    distributed_broadcast(&r->dist, gt_model_data(r->model), gt_model_numel(r->model));
    /* The data order of epoch e is the e-th shuffle of one generator: a resumed run draws
     * the shuffles of the epochs already done, so it sees what an uninterrupted run sees. */
    for (int e = 0; e < r->epochs_done; e++)
        gt_loader_start_epoch(&r->loader);
    if (o->csv_path && r->epochs_done)
        history_read_csv(&r->history, o->csv_path, r->epochs_done);
    if (o->save_path && o->load_path && !strcmp(o->save_path, o->load_path))
        r->saved_epoch = r->epochs_done;
    print_header(r);
    progress_init(&r->progress);
    /* Under mpirun a rank's standard output is a pseudo-terminal whatever mpirun's own is:
     * plain lines then (and on ranks other than 0 they go to /dev/null). */
    if (r->dist.on)
        r->progress.bar = NULL;
    /* A distributed run does not stop after the step in progress: the ranks would stop at
     * different steps, with peers waiting for them. Ctrl-C ends all at once (mpirun) and
     * --save keeps the last finished epoch. */
    if (!r->dist.on)
        catch_stop_signals();
    double run_start = now_seconds(), train_seconds = 0;
    int64_t images = 0;
    epoch_record rec = {0};
    for (int epoch = r->epochs_done + 1; epoch <= o->epochs; epoch++) {
        double epoch_start = now_seconds(), seconds = 0;
        /* each epoch's dropout masks, shifts and flips from seeds of its own: a resumed run
         * draws the same */
        gt_manual_seed(model_seed ^ (0xbf58476d1ce4e5b9ull * (uint64_t)epoch));
        if ((o->crop_padding || o->hflip) &&
            gt_loader_augment(&r->loader, o->crop_padding, o->hflip,
                              data_seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)epoch)) != GT_OK)
            return fail("--crop-padding");
        char when[32];
        snprintf(when, sizeof when, "epoch %d", epoch);
        gt_eval_result test = {0};
        rec = (epoch_record){.epoch = epoch};
        int status = train_epoch(r, epoch, &rec, &seconds);
        if (status != EXIT_SUCCESS)
            return status;
        if (r->dist.rank == 0 && evaluate(r, &test, when) != EXIT_SUCCESS)
            return EXIT_FAILURE;
        train_seconds += seconds;
        images += r->loader.limit;
        rec.test_loss = test.loss;
        rec.test_accuracy = test.accuracy;
        rec.seconds = now_seconds() - epoch_start;
        if (finish_epoch(r, &rec) != EXIT_SUCCESS)
            return EXIT_FAILURE;
        if (stop_signal && epoch < o->epochs)
            return interrupted(r, epoch + 1);
    }
    printf("test_accuracy=%.4f test_loss=%.6f train_accuracy=%.4f train_loss=%.6f epochs=%d "
           "train_images_per_s=%.1f seconds=%.1f",
           rec.test_accuracy, rec.test_loss, rec.train_accuracy, rec.train_loss, o->epochs,
           train_seconds > 0 ? (double)images / train_seconds : 0, now_seconds() - run_start);
    if (r->dist.on) /* of the training seconds, those rank 0 spent averaging gradients */
        printf(" ranks=%d allreduce_seconds=%.2f", r->dist.size, r->dist.allreduce_seconds);
    printf("\n");
    return EXIT_SUCCESS;
}

static int evaluate_only(run *r) {
    double start = now_seconds();
    printf("%s: %s\n  from %s (epoch %d)\n  data %s: %lld of %lld test images\n", TRAIN_NAME,
           r->description, r->o.load_path, r->epochs_done, r->o.data_dir,
           (long long)used(r->o.test_limit, r->test.count), (long long)r->test.count);
    gt_eval_result test;
    if (evaluate(r, &test, r->o.load_path) != EXIT_SUCCESS)
        return EXIT_FAILURE;
    double seconds = now_seconds() - start;
    printf("test loss %.4f acc %.4f  %lld images  %.1f s\n", test.loss, test.accuracy,
           (long long)test.count, seconds);
    printf("test_accuracy=%.4f test_loss=%.6f test_images=%lld epochs=%d seconds=%.1f\n",
           test.accuracy, test.loss, (long long)test.count, r->epochs_done, seconds);
    return EXIT_SUCCESS;
}

/* ---- main ------------------------------------------------------------------------------------ */

static void run_free(run *r) {
    gt_loader_free(&r->loader);
    gt_dataset_free(&r->train);
    gt_dataset_free(&r->test);
    gt_tape_free(r->tape);
    gt_optimizer_free(r->opt);
    gt_model_free(r->model);
    history_free(&r->history);
}

/* A file an option writes: its folder must exist now, not after an hour of training. */
static bool folder_exists(const char *option, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return true; /* the current folder, or the root */
    char folder[4096];
    snprintf(folder, sizeof folder, "%.*s", (int)(slash - path), path);
    struct stat st;
    if (stat(folder, &st) == 0 && S_ISDIR(st.st_mode))
        return true;
    complain("--%s %s: the folder %s does not exist", option, path, folder);
    return false;
}

/* Everything up to the first step, in the order that reports a bad command line before
 * touching a file, and a bad file before loading the data. */
static int prepare(run *r) {
    train_options *o = &r->o;
    if (o->load_path && load_checkpoint(r) != EXIT_SUCCESS)
        return EXIT_FAILURE;
    options_fill_defaults(o);
    if (!options_check(o))
        return EXIT_USAGE;
    if (!o->eval_only && r->epochs_done >= o->epochs) {
        complain_usage("%s: already trained for %d epochs, and --epochs is %d: give a larger "
                       "--epochs to train on, or --eval",
                       o->load_path, r->epochs_done, o->epochs);
        return EXIT_USAGE;
    }
    if (o->save_path && !folder_exists("save", o->save_path))
        return EXIT_FAILURE;
    if (o->csv_path && !folder_exists("csv", o->csv_path))
        return EXIT_FAILURE;
    if (o->plot_path && !folder_exists("plot", o->plot_path))
        return EXIT_FAILURE;
    if (o->plot_path && !gt_gnuplot_available()) {
        complain("--plot %s: gnuplot is not installed (Debian: apt-get install gnuplot-nox), "
                 "so no plot can be drawn; install it or leave out --plot",
                 o->plot_path);
        return EXIT_FAILURE;
    }
    r->threads = apply_threads(r);
    if (load_data(r) != EXIT_SUCCESS)
        return EXIT_FAILURE;
    if (!r->model &&
        new_model(r, r->test.rows, r->test.cols,
                  r->train.classes > r->test.classes ? r->train.classes : r->test.classes) !=
            EXIT_SUCCESS)
        return EXIT_FAILURE;
    if (check_model_fits_data(r) != EXIT_SUCCESS)
        return EXIT_FAILURE;
    gt_model_describe(r->model, r->description, sizeof r->description);
    if (o->summary && gt_model_summary(r->model, stdout) != GT_OK)
        return fail("--summary");
    describe_recipe(r);
    if (!o->eval_only && new_optimizer(r) != EXIT_SUCCESS)
        return EXIT_FAILURE;
    if (!(r->tape = gt_tape_new()))
        return fail("cannot make the tape");
    gt_tape_set_detect_anomaly(r->tape, o->detect_anomaly);
    const char *outputs[] = {o->save_path, o->csv_path, o->plot_path};
    for (int i = 0; i < 3; i++)
        if (outputs[i])
            remove_stale_temp_files(outputs[i]);
    return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN); /* a gnuplot that dies is reported through its exit status */
    run r;
    memset(&r, 0, sizeof r);
    switch (options_parse(argc, argv, &r.o)) {
    case PARSE_HELP: options_print_help(stdout); return EXIT_SUCCESS;
    case PARSE_USAGE: return EXIT_USAGE;
    case PARSE_OK: break;
    }
    if (r.o.distributed) {
        int status = distributed_init(&r.dist);
        if (status != EXIT_SUCCESS)
            return status;
        if (r.dist.rank != 0) /* rank 0 alone writes files */
            r.o.save_path = r.o.csv_path = r.o.plot_path = NULL;
    }
    /* Each rank reports its own problem with start-up; then all stop, or all go on. */
    int status = distributed_agree(&r.dist, prepare(&r));
    if (status == EXIT_SUCCESS) {
        status = r.o.eval_only ? evaluate_only(&r) : train(&r);
        if (status != EXIT_SUCCESS) /* a failure of this rank alone: peers may wait for it */
            distributed_stop_all(&r.dist, status);
    }
    run_free(&r);
    distributed_finish(&r.dist);
    return status;
}
