/* train.h - gradtape-train, the executable people train with: the pieces it is made of.
 *
 *   messages.c  error messages: one line naming the option, the value or the file
 *   options.c   the command line: parsing, checking, defaults, --help
 *   resume.c    what a checkpoint carries besides the model (epoch, the recipe) and the
 *               temporary files an interrupted save leaves behind
 *   progress.c  the live progress bar on a terminal, plain lines elsewhere, the clock
 *   report.c    the per-epoch history: CSV file and gnuplot plot
 *   distributed.c  --distributed: data-parallel training over MPI (trivial without it)
 *   train.c     main: data, model, optimizer, the training loop, evaluation
 *
 * Only the library's public API is used (gradtape.h). Errors are printed, never aborted
 * on: exit status 0 on success, 1 when something fails at run time (a file, the data, a
 * non-finite loss), 2 for a bad command line.
 */
#ifndef GT_TRAIN_H
#define GT_TRAIN_H

#include <gradtape.h>

#include <stdio.h>

#define TRAIN_NAME "gradtape-train"
#define EXIT_USAGE 2

/* Images per batch when evaluating: fixed, so that a model evaluates to the same numbers
 * whatever --batch it was trained with. */
#define TRAIN_EVAL_BATCH 100

/* ---- messages.c ---------------------------------------------------------------------- */

#if defined(__GNUC__)
#define TRAIN_PRINTF __attribute__((format(printf, 1, 2)))
#else
#define TRAIN_PRINTF
#endif

/* "gradtape-train: <message>" and a newline, on standard error. */
void complain(const char *fmt, ...) TRAIN_PRINTF;
/* The same for a bad command line, ending with " (see gradtape-train --help)". */
void complain_usage(const char *fmt, ...) TRAIN_PRINTF;
/* From now on both say which process of a distributed run speaks:
 * "gradtape-train: rank 1 of 2: <message>". */
void complain_as_rank(int rank, int size);

/* ---- options.c ------------------------------------------------------------------------ */

/* Bits of train_options.given: which options the command line set. On resume, the ones it
 * did not set come from the checkpoint, then from the defaults. */
enum {
    GIVEN_MODEL = 1u << 0,
    GIVEN_ACT = 1u << 1,
    GIVEN_EPOCHS = 1u << 2,
    GIVEN_BATCH = 1u << 3,
    GIVEN_LR = 1u << 4,
    GIVEN_MOMENTUM = 1u << 5,
    GIVEN_NESTEROV = 1u << 6,
    GIVEN_WEIGHT_DECAY = 1u << 7,
    GIVEN_OPTIMIZER = 1u << 8,
    GIVEN_SEED = 1u << 9,
    GIVEN_LIMIT = 1u << 10,
    GIVEN_DISTRIBUTED = 1u << 11,
    GIVEN_SCHEDULE = 1u << 12,
    GIVEN_CLIP = 1u << 13,
    GIVEN_WARMUP = 1u << 14,
    GIVEN_CROP_PADDING = 1u << 15,
    GIVEN_HFLIP = 1u << 16,
    GIVEN_NORMALIZE = 1u << 17,
};

/* How the learning rate moves over a run: constant, or from --lr down to 0 along half a
 * cosine over every step of every epoch (lr_t = lr * (1 + cos(pi * t / T)) / 2). With
 * --warmup-epochs W it first rises linearly over the steps of W epochs, lr * (t + 1) / W_t,
 * and the schedule then runs over the steps that remain. */
typedef enum lr_schedule { SCHEDULE_CONSTANT, SCHEDULE_COSINE } lr_schedule;

#define TRAIN_MAX_CROP_PADDING 64 /* --crop-padding N: N at most this */

typedef struct train_options {
    unsigned given; /* GIVEN_* */
    gt_model_kind model;
    const char *spec; /* --model SPEC (GT_MODEL_SPEC): the layers, as gt_spec_parse reads them */
    gt_activation act;
    const char *data_dir;
    int epochs; /* the last epoch to train: a resumed run continues up to it */
    int64_t batch;
    double lr, momentum, weight_decay;
    lr_schedule schedule;
    int warmup_epochs;     /* 0: none */
    double clip_grad_norm; /* 0: no clipping */
    bool nesterov;
    gt_optimizer_kind optimizer;
    int threads; /* 0: all cores */
    uint64_t seed;
    int64_t limit;      /* first N training images; 0: all */
    int64_t test_limit; /* first N test images; 0: all */
    const char *save_path, *load_path, *csv_path, *plot_path;
    bool eval_only, detect_anomaly;
    int64_t profile_steps; /* --profile N: steps 2..N+1 are profiled; 0: none */
    const char *graph_path; /* --graph FILE: the first step's graph as DOT */
    bool summary; /* --summary: the per-layer table before training */
    bool normalize;   /* --normalize: inputs by the training set's mean and std */
    int crop_padding; /* --crop-padding: random shifts of up to N pixels (0: none; at most
                         TRAIN_MAX_CROP_PADDING) */
    bool hflip;       /* --hflip: random left-right mirroring */
    bool distributed; /* --distributed: one of the processes mpirun started */
} train_options;

typedef enum parse_result { PARSE_OK, PARSE_HELP, PARSE_USAGE } parse_result;

/* Reads argv into *o (values and `given` bits only; nothing is defaulted yet). On
 * PARSE_USAGE one line naming the option and the value has been printed on stderr. */
parse_result options_parse(int argc, char **argv, train_options *o);
/* Fills every option neither the command line nor a checkpoint set with its default. */
void options_fill_defaults(train_options *o);
/* Checks the combination (e.g. --nesterov needs momentum); prints one line and returns
 * false when it does not hold. */
bool options_check(const train_options *o);
void options_print_help(FILE *out);
/* --model cnn (its spec, also when a checkpoint names it): its recipe's defaults apply. */
bool options_is_cnn(const train_options *o);
/* The defaults, also used by --help. */
int options_default_epochs(gt_model_kind model);
gt_activation options_default_act(gt_model_kind model);
double options_default_lr(gt_model_kind model, gt_optimizer_kind optimizer);

/* ---- resume.c ------------------------------------------------------------------------- */

/* Saves model, optimizer state, the epochs done and the recipe (seed, batch, limit, lr,
 * momentum, nesterov, weight decay, target epochs), atomically (gt_model_save). */
gt_status resume_save(const char *path, const gt_model *model, const gt_optimizer *opt,
                      const train_options *o, int epochs_done);
/* Reads a checkpoint's epochs done (0 when it has none), whether it holds optimizer state
 * and, for every recipe option the command line did not give, the value it was trained
 * with (when the file has it). */
gt_status resume_read(const char *path, train_options *o, int *epochs_done,
                      bool *has_optimizer_state);
/* Removes <path>.tmp.<pid> files whose process is gone (an interrupted save leaves one),
 * printing a note for each. */
void remove_stale_temp_files(const char *path);

/* ---- progress.c ----------------------------------------------------------------------- */

/* Seconds on a monotonic clock. */
double now_seconds(void);

typedef struct progress {
    FILE *bar; /* a terminal to redraw a bar on, or NULL: plain lines on stdout */
    int epoch, epochs;
    int64_t total; /* images in the epoch */
    double start, last_shown;
    bool drawn; /* a bar is on the screen */
} progress;

/* Draws on stderr when it is a terminal, else on stdout when it is one, else prints a
 * plain line now and then. */
void progress_init(progress *p);
void progress_begin(progress *p, int epoch, int epochs, int64_t total);
/* `done` images of the epoch so far, with this mean loss. Cheap: redraws at most 10 times
 * a second (a plain line at most every 20 s). */
void progress_update(progress *p, int64_t done, double mean_loss);
/* Clears the bar, so that the epoch's summary line takes its place. */
void progress_end(progress *p);

/* ---- report.c ------------------------------------------------------------------------- */

typedef struct epoch_record {
    int epoch; /* from 1 */
    double train_loss, train_accuracy, test_loss, test_accuracy;
    double images_per_s, seconds;
} epoch_record;

typedef struct history {
    epoch_record *rows;
    int count, capacity;
} history;

bool history_add(history *h, const epoch_record *r);
void history_free(history *h);
/* On resume: the rows of epochs 1..epochs_done of an earlier CSV written by this tool
 * (none when there is no such file). */
void history_read_csv(history *h, const char *path, int epochs_done);
/* Writes the whole history as CSV with a header, atomically (temporary file + rename).
 * Prints a message naming the file and returns false on failure. */
bool history_write_csv(const history *h, const char *path);
/* Draws loss and accuracy per epoch into a PNG through gnuplot, atomically. Prints a
 * message naming the file and returns false on failure. */
bool history_plot(const history *h, const char *path, const char *title);

/* ---- distributed.c -------------------------------------------------------------------- */

/* Data-parallel training: every process (rank) holds the whole model and the whole data set,
 * runs the same seeded loader and computes the gradient of its rows of every global batch
 * (gt_loader_shard); the gradients are averaged over the ranks, so every rank applies the
 * same update. Rank 0 alone prints, evaluates and writes files. A single process (no
 * --distributed) is a run of one rank, for which every call below does nothing. */
typedef struct distributed {
    bool on;                  /* --distributed: MPI is initialised */
    int rank, size;           /* this process, and how many train together (0 and 1 alone) */
    int local_size;           /* ranks on this machine, which share its cores */
    double allreduce_seconds; /* spent averaging gradients (waiting for the others included) */
} distributed;

/* --distributed: initialises MPI and fills *d; ranks other than 0 send standard output to
 * /dev/null, and every rank's messages name it. EXIT_USAGE with one line when this
 * gradtape-train was built without MPI, EXIT_FAILURE when MPI cannot start. */
int distributed_init(distributed *d);
/* The one collective after start-up: every rank passes its own status (each has printed
 * its own problem) and every rank gets the largest, so all stop together or none does. */
int distributed_agree(const distributed *d, int status);
/* data[n] of rank 0 to every rank (the parameters at the start). */
void distributed_broadcast(const distributed *d, gt_real *data, int64_t n);
/* grad[n] is this rank's gradient of the mean loss over its `rows` rows of a batch of
 * `global_rows`: scales it by rows / global_rows and sums it over the ranks (MPI_Allreduce,
 * in buckets of DISTRIBUTED_BUCKET_BYTES), leaving on every rank the gradient of the mean
 * loss over the whole batch. rows may be 0 (grad is then zero): the rank must still call. */
void distributed_average_gradients(distributed *d, gt_real *grad, int64_t n, int64_t rows,
                                   int64_t global_rows);
/* values[n] summed over the ranks, on every rank (an epoch's loss sum and counts). */
void distributed_sum(const distributed *d, double *values, int n);
/* After a failure in the middle of training, which this rank has printed: with other ranks
 * (which may be waiting for this one in a collective) ends the whole job at once with this
 * status (MPI_Abort, which mpirun reports naming the rank); alone, returns. */
void distributed_stop_all(const distributed *d, int status);
/* At the end of a run that every rank reached. */
void distributed_finish(distributed *d);

#endif
