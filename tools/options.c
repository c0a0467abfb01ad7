/* options.c - gradtape-train's command line: every value is checked where it is read, and
 * a bad one gets one line naming the option and the value (exit status 2). */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The defaults: the PyTorch comparison benchmark's recipe (SGD, momentum 0.9, batch 64)
 * with a cosine schedule, whose last epochs at a small learning rate settle the weights.
 * Measured on Fashion-MNIST (README, Training): LeNet-5, tanh, 10 epochs at a constant
 * 0.01 reached 0.9029; cosine from 0.02 reaches 0.9076 in 10 epochs and 0.9097 in 15,
 * about half a minute on this project's 2-core machine (35,000 images/s on one core). */
#define DEFAULT_BATCH 64
#define DEFAULT_MLP_SGD_LR 0.01
#define DEFAULT_LENET_SGD_LR 0.02
#define DEFAULT_ADAM_LR 0.001
#define DEFAULT_MOMENTUM 0.9
#define DEFAULT_SEED 1
#define DEFAULT_SCHEDULE SCHEDULE_COSINE
#define DEFAULT_MLP_EPOCHS 10
#define DEFAULT_LENET_EPOCHS 15
/* --model cnn's recipe (GT_MODEL_CNN_SPEC): the issue's, PyTorch's usual one for such a CNN,
 * on normalised inputs, without augmentation: within 15 epochs torchvision's
 * RandomCrop(28, padding=2) cost accuracy (0.9304 against 0.9338), flips as well cost more
 * (0.9246) (README, "A modern CNN"). */
#define DEFAULT_CNN_SGD_LR 0.05
#define DEFAULT_CNN_WEIGHT_DECAY 5e-4
#define DEFAULT_CNN_EPOCHS 15

#define MAX_EPOCHS 100000
#define MAX_BATCH 65536
#define MAX_THREADS 1024
#define MAX_IMAGES 100000000 /* the IDX reader's own limit */

typedef enum option_id {
    OPT_MODEL,
    OPT_ACT,
    OPT_DATA,
    OPT_EPOCHS,
    OPT_BATCH,
    OPT_LR,
    OPT_SCHEDULE,
    OPT_WARMUP,
    OPT_CLIP,
    OPT_MOMENTUM,
    OPT_NESTEROV,
    OPT_WEIGHT_DECAY,
    OPT_OPTIMIZER,
    OPT_THREADS,
    OPT_SEED,
    OPT_LIMIT,
    OPT_TEST_LIMIT,
    OPT_SAVE,
    OPT_LOAD,
    OPT_EVAL,
    OPT_CSV,
    OPT_PLOT,
    OPT_DETECT_ANOMALY,
    OPT_PROFILE,
    OPT_GRAPH,
    OPT_SUMMARY,
    OPT_CROP_PADDING,
    OPT_HFLIP,
    OPT_NORMALIZE,
    OPT_DISTRIBUTED,
    OPT_HELP,
} option_id;

typedef struct option_spec {
    option_id id;
    const char *name;  /* without the leading "--" */
    const char *value; /* NULL for a flag */
} option_spec;

static const option_spec specs[] = {
    {OPT_MODEL, "model", "mlp|lenet|cnn|SPEC"},
    {OPT_ACT, "act", "relu|sigmoid|tanh"},
    {OPT_DATA, "data", "DIR"},
    {OPT_EPOCHS, "epochs", "N"},
    {OPT_BATCH, "batch", "N"},
    {OPT_LR, "lr", "F"},
    {OPT_SCHEDULE, "schedule", "constant|cosine"},
    {OPT_WARMUP, "warmup-epochs", "N"},
    {OPT_CLIP, "clip-grad-norm", "F"},
    {OPT_MOMENTUM, "momentum", "F"},
    {OPT_NESTEROV, "nesterov", NULL},
    {OPT_WEIGHT_DECAY, "weight-decay", "F"},
    {OPT_OPTIMIZER, "optimizer", "sgd|adam"},
    {OPT_THREADS, "threads", "N"},
    {OPT_SEED, "seed", "N"},
    {OPT_LIMIT, "limit", "N"},
    {OPT_TEST_LIMIT, "test-limit", "N"},
    {OPT_SAVE, "save", "FILE"},
    {OPT_LOAD, "load", "FILE"},
    {OPT_EVAL, "eval", NULL},
    {OPT_CSV, "csv", "FILE"},
    {OPT_PLOT, "plot", "FILE.png"},
    {OPT_DETECT_ANOMALY, "detect-anomaly", NULL},
    {OPT_PROFILE, "profile", "N"},
    {OPT_GRAPH, "graph", "FILE.dot"},
    {OPT_SUMMARY, "summary", NULL},
    {OPT_CROP_PADDING, "crop-padding", "N"},
    {OPT_HFLIP, "hflip", "on|off"},
    {OPT_NORMALIZE, "normalize", "on|off"},
    {OPT_DISTRIBUTED, "distributed", NULL},
    {OPT_HELP, "help", NULL},
};

int options_default_epochs(gt_model_kind model) {
    return model == GT_MODEL_LENET ? DEFAULT_LENET_EPOCHS : DEFAULT_MLP_EPOCHS;
}

gt_activation options_default_act(gt_model_kind model) {
    return model == GT_MODEL_LENET ? GT_ACT_TANH : GT_ACT_RELU;
}

double options_default_lr(gt_model_kind model, gt_optimizer_kind optimizer) {
    if (optimizer == GT_OPTIM_ADAM)
        return DEFAULT_ADAM_LR;
    return model == GT_MODEL_LENET ? DEFAULT_LENET_SGD_LR : DEFAULT_MLP_SGD_LR;
}

void options_print_help(FILE *out) {
    /* the text as it prints */
    // clang-format off
    fprintf(out,
"Usage: " TRAIN_NAME " [OPTION]...\n"
"Trains an MLP or LeNet-5 on an MNIST-format data set (Fashion-MNIST by default) and\n"
"prints the test accuracy. The last line of standard output is key=value pairs:\n"
"test_accuracy= test_loss= train_accuracy= train_loss= epochs= train_images_per_s= seconds=\n"
"\n"
"Model\n"
"  --model mlp|lenet|cnn|SPEC\n"
"                         mlp: 784-100-10; lenet: LeNet-5; cnn: four 3x3 convolutions\n"
"                         with batch norm, dropout (default mlp); or a spec,\n"
"                         torch.nn's layers with their arguments, in-sizes inferred:\n"
"                         \"Conv2d(32, 5, padding=2) ReLU MaxPool2d(2) Flatten\n"
"                         Linear(128) ReLU Linear(10)\" (docs/modules.md)\n"
"  --act relu|sigmoid|tanh\n"
"                         hidden activation (default relu for mlp, tanh for lenet)\n"
"  --summary              print each layer's output shape, parameters and\n"
"                         multiply-adds before training\n"
"Data\n"
"  --data DIR             folder with the four MNIST files, raw or .gz\n"
"                         (default " GT_DEFAULT_DATA_DIR ",\n"
"                         Debian package dataset-fashion-mnist)\n"
"  --limit N              train on the first N training images (default all)\n"
"  --test-limit N         evaluate on the first N test images (default all)\n"
"  --normalize on|off     inputs (pixel / 255 - mean) / std, the training set's mean\n"
"                         and std (default on for cnn, off otherwise)\n"
"  --crop-padding N       augmentation: shift each training image by up to N pixels\n"
"                         each way, zeros entering (RandomCrop with padding N;\n"
"                         default 0 = off)\n"
"  --hflip on|off         augmentation: mirror each training image left to right with\n"
"                         probability 1/2 (default off)\n");
    fprintf(out,
"Training\n"
"  --epochs N             train up to epoch N (default %d for mlp, %d for lenet\n"
"                         and cnn)\n"
"  --batch N              images per step (default %d)\n"
"  --optimizer sgd|adam   (default sgd)\n"
"  --lr F                 learning rate (default with sgd %g for mlp, %g for lenet,\n"
"                         %g for cnn;\n"
"                         %g with adam)\n"
"  --schedule constant|cosine\n"
"                         the learning rate: constant, or from --lr down to 0 along\n"
"                         half a cosine over every step of the run (default cosine)\n"
"  --warmup-epochs N      the learning rate rises linearly from lr/steps to lr over\n"
"                         the first N epochs, then follows --schedule (default 0)\n"
"  --clip-grad-norm F     scale the gradients down to a total 2-norm of F when above\n"
"                         it (torch.nn.utils.clip_grad_norm_; default off)\n"
"  --momentum F           sgd momentum, 0 <= F < 1 (default %g)\n"
"  --nesterov             Nesterov momentum (sgd; on by default for cnn)\n"
"  --weight-decay F       L2 penalty added to the gradient (default %g for cnn, else 0)\n"
"  --seed N               initial weights and data order (default %d)\n"
"  --threads N            worker threads, 0 = all cores (default 0)\n"
"  --detect-anomaly       stop at the first non-finite value of a forward or backward\n"
"                         pass, naming the op that made it\n"
"  --profile N            time steps 2 to N+1 op by op (forward and backward) and print\n"
"                         a table by op name, then train on\n"
"  --graph FILE.dot       the graph of the first training step as Graphviz DOT, its\n"
"                         parameters named (dot -Tpng FILE.dot -o FILE.png draws it)\n"
"  --distributed          data-parallel training over MPI, as one of the processes of\n"
"                         mpirun -np P " TRAIN_NAME " --distributed ...: each computes\n"
"                         the gradient of 1/P of every batch (--batch stays the whole\n"
"                         batch); rank 0 prints, evaluates and saves. --threads 0 means\n"
"                         the machine's cores shared among its ranks\n"
"Checkpoints and reports\n"
"  --save FILE            save model, optimizer state and epoch after every epoch\n"
"                         (atomically: an interrupted save keeps the previous file)\n"
"  --load FILE            start from a checkpoint: resumes at its epoch with its recipe\n"
"                         (options given on the command line override the recipe)\n"
"  --eval                 only evaluate the model of --load on the test set\n"
"  --csv FILE             one row per epoch: losses, accuracies, images/s, seconds\n"
"  --plot FILE.png        loss and accuracy curves, drawn with gnuplot\n"
"  --help                 this text\n"
"\n"
"The same seed and thread count give the same numbers on every run. To resume an\n"
"interrupted run, give its checkpoint: " TRAIN_NAME " --load FILE --save FILE\n"
"Exit status: 0 done, 1 failed (a file, the data, a non-finite loss), 2 bad usage.\n",
            DEFAULT_MLP_EPOCHS, DEFAULT_LENET_EPOCHS, DEFAULT_BATCH,
            DEFAULT_MLP_SGD_LR, DEFAULT_LENET_SGD_LR, DEFAULT_CNN_SGD_LR, DEFAULT_ADAM_LR,
            DEFAULT_MOMENTUM, DEFAULT_CNN_WEIGHT_DECAY, DEFAULT_SEED);
    // clang-format on
}

/* "--OPTION VALUE: what is wrong with it" */
static void usage_error(const char *option, const char *value, const char *problem) {
    complain_usage("--%s %s: %s", option, value, problem);
}

/* An integer in [low, high]; the message says which range when it is not. */
static bool parse_int(const char *option, const char *text, int64_t low, int64_t high,
                      int64_t *out) {
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (end == text || *end) {
        usage_error(option, text, "not an integer");
        return false;
    }
    if (errno == ERANGE || value < low || value > high) {
        char range[96];
        if (high == INT64_MAX)
            snprintf(range, sizeof range, "must be an integer >= %lld", (long long)low);
        else
            snprintf(range, sizeof range, "must be an integer from %lld to %lld", (long long)low,
                     (long long)high);
        usage_error(option, text, range);
        return false;
    }
    *out = value;
    return true;
}

/* A seed: any integer from 0 to 2^64 - 1, digits only (strtoull would wrap "-1"). */
static bool parse_seed(const char *text, uint64_t *out) {
    if (!*text || text[strspn(text, "0123456789")]) {
        usage_error("seed", text, "not an integer from 0 to 2^64-1");
        return false;
    }
    errno = 0;
    unsigned long long value = strtoull(text, NULL, 10);
    if (errno == ERANGE) {
        usage_error("seed", text, "must be at most 2^64-1");
        return false;
    }
    *out = value;
    return true;
}

typedef enum { REAL_POSITIVE, REAL_NON_NEGATIVE, REAL_UNIT } real_range;

static bool parse_real(const char *option, const char *text, real_range range, double *out) {
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end) {
        usage_error(option, text, "not a number");
        return false;
    }
    static const char *const expected[] = {
        [REAL_POSITIVE] = "must be a finite number > 0",
        [REAL_NON_NEGATIVE] = "must be a finite number >= 0",
        [REAL_UNIT] = "must be a number from 0 up to (not including) 1",
    };
    bool ok = isfinite(value) && (range == REAL_POSITIVE       ? value > 0
                                  : range == REAL_NON_NEGATIVE ? value >= 0
                                                               : value >= 0 && value < 1);
    if (!ok) {
        usage_error(option, text, expected[range]);
        return false;
    }
    *out = value;
    return true;
}

static bool parse_choice(const char *option, const char *text, const char *const *names, int n,
                         const char *choices, int *out) {
    for (int i = 0; i < n; i++)
        if (!strcmp(text, names[i])) {
            *out = i;
            return true;
        }
    usage_error(option, text, choices);
    return false;
}

static bool parse_path(const char *option, const char *text, const char **out) {
    if (!*text) {
        usage_error(option, "\"\"", "needs a file name");
        return false;
    }
    *out = text;
    return true;
}

static const option_spec *find_spec(const char *name, size_t length) {
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strlen(specs[i].name) == length && !strncmp(specs[i].name, name, length))
            return &specs[i];
    return NULL;
}

/* Stores one option's value; false (message printed) when it is bad. */
static bool set_option(train_options *o, option_id id, const char *v) {
    int64_t n = 0;
    int choice = 0;
    static const char *const models[] = {"mlp", "lenet"};
    static const char *const switches[] = {"off", "on"};
    static const char *const acts[] = {"relu", "sigmoid", "tanh"};
    static const char *const optimizers[] = {"sgd", "adam"};
    static const char *const schedules[] = {"constant", "cosine"};
    switch (id) {
    case OPT_MODEL:
        o->given |= GIVEN_MODEL;
        o->spec = NULL;
        if (!strcmp(v, models[0]) || !strcmp(v, models[1])) {
            o->model = !strcmp(v, models[1]) ? GT_MODEL_LENET : GT_MODEL_MLP;
            return true;
        }
        if (!strcmp(v, "cnn"))
            v = GT_MODEL_CNN_SPEC; /* a spec, named in checkpoints by its text */
        gt_module *net = gt_spec_parse(v); /* checked now, built once the data's size is known */
        if (!net) {
            complain_usage("--model %s: choose mlp or lenet, or give a spec of layers: %s", v,
                           gt_last_error());
            return false;
        }
        gt_module_free(net);
        o->model = GT_MODEL_SPEC;
        o->spec = v;
        return true;
    case OPT_ACT:
        if (!parse_choice("act", v, acts, 3, "choose relu, sigmoid or tanh", &choice))
            return false;
        o->act = choice == 0 ? GT_ACT_RELU : choice == 1 ? GT_ACT_SIGMOID : GT_ACT_TANH;
        o->given |= GIVEN_ACT;
        return true;
    case OPT_OPTIMIZER:
        if (!parse_choice("optimizer", v, optimizers, 2, "choose sgd or adam", &choice))
            return false;
        o->optimizer = choice ? GT_OPTIM_ADAM : GT_OPTIM_SGD;
        o->given |= GIVEN_OPTIMIZER;
        return true;
    case OPT_SCHEDULE:
        if (!parse_choice("schedule", v, schedules, 2, "choose constant or cosine", &choice))
            return false;
        o->schedule = choice ? SCHEDULE_COSINE : SCHEDULE_CONSTANT;
        o->given |= GIVEN_SCHEDULE;
        return true;
    case OPT_WARMUP:
        if (!parse_int("warmup-epochs", v, 0, MAX_EPOCHS - 1, &n))
            return false;
        o->warmup_epochs = (int)n;
        o->given |= GIVEN_WARMUP;
        return true;
    case OPT_CLIP:
        if (!parse_real("clip-grad-norm", v, REAL_POSITIVE, &o->clip_grad_norm))
            return false;
        o->given |= GIVEN_CLIP;
        return true;
    case OPT_DATA: return parse_path("data", v, &o->data_dir);
    case OPT_EPOCHS:
        if (!parse_int("epochs", v, 1, MAX_EPOCHS, &n))
            return false;
        o->epochs = (int)n;
        o->given |= GIVEN_EPOCHS;
        return true;
    case OPT_BATCH:
        if (!parse_int("batch", v, 1, MAX_BATCH, &o->batch))
            return false;
        o->given |= GIVEN_BATCH;
        return true;
    case OPT_LR:
        if (!parse_real("lr", v, REAL_POSITIVE, &o->lr))
            return false;
        o->given |= GIVEN_LR;
        return true;
    case OPT_MOMENTUM:
        if (!parse_real("momentum", v, REAL_UNIT, &o->momentum))
            return false;
        o->given |= GIVEN_MOMENTUM;
        return true;
    case OPT_WEIGHT_DECAY:
        if (!parse_real("weight-decay", v, REAL_NON_NEGATIVE, &o->weight_decay))
            return false;
        o->given |= GIVEN_WEIGHT_DECAY;
        return true;
    case OPT_THREADS:
        if (!parse_int("threads", v, 0, MAX_THREADS, &n))
            return false;
        o->threads = (int)n;
        return true;
    case OPT_SEED:
        if (!parse_seed(v, &o->seed))
            return false;
        o->given |= GIVEN_SEED;
        return true;
    case OPT_LIMIT:
        if (!parse_int("limit", v, 1, MAX_IMAGES, &o->limit))
            return false;
        o->given |= GIVEN_LIMIT;
        return true;
    case OPT_TEST_LIMIT: return parse_int("test-limit", v, 1, MAX_IMAGES, &o->test_limit);
    case OPT_SAVE: return parse_path("save", v, &o->save_path);
    case OPT_LOAD: return parse_path("load", v, &o->load_path);
    case OPT_CSV: return parse_path("csv", v, &o->csv_path);
    case OPT_PLOT: {
        size_t len = strlen(v);
        if (len < 5 || strcmp(v + len - 4, ".png")) {
            usage_error("plot", *v ? v : "\"\"", "the plot is a PNG image: name it FILE.png");
            return false;
        }
        o->plot_path = v;
        return true;
    }
    case OPT_NESTEROV:
        o->nesterov = true;
        o->given |= GIVEN_NESTEROV;
        return true;
    case OPT_EVAL: o->eval_only = true; return true;
    case OPT_DETECT_ANOMALY: o->detect_anomaly = true; return true;
    case OPT_PROFILE: return parse_int("profile", v, 1, 1000000, &o->profile_steps);
    case OPT_GRAPH: return parse_path("graph", v, &o->graph_path);
    case OPT_SUMMARY: o->summary = true; return true;
    case OPT_CROP_PADDING:
        if (!parse_int("crop-padding", v, 0, TRAIN_MAX_CROP_PADDING, &n))
            return false;
        o->crop_padding = (int)n;
        o->given |= GIVEN_CROP_PADDING;
        return true;
    case OPT_HFLIP:
        if (!parse_choice("hflip", v, switches, 2, "choose on or off", &choice))
            return false;
        o->hflip = choice == 1;
        o->given |= GIVEN_HFLIP;
        return true;
    case OPT_NORMALIZE:
        if (!parse_choice("normalize", v, switches, 2, "choose on or off", &choice))
            return false;
        o->normalize = choice == 1;
        o->given |= GIVEN_NORMALIZE;
        return true;
    case OPT_DISTRIBUTED:
        o->distributed = true;
        o->given |= GIVEN_DISTRIBUTED;
        return true;
    case OPT_HELP: return true;
    }
    return false;
}

parse_result options_parse(int argc, char **argv, train_options *o) {
    memset(o, 0, sizeof *o);
    o->data_dir = GT_DEFAULT_DATA_DIR;
    bool help = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) || !arg[2]) {
            complain_usage("unexpected argument \"%s\": options start with --", arg);
            return PARSE_USAGE;
        }
        const char *name = arg + 2, *equals = strchr(name, '=');
        size_t length = equals ? (size_t)(equals - name) : strlen(name);
        const option_spec *spec = find_spec(name, length);
        if (!spec) {
            complain_usage("unknown option --%.*s", (int)length, name);
            return PARSE_USAGE;
        }
        const char *value = NULL;
        if (spec->value) {
            if (equals)
                value = equals + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                complain_usage("--%s needs a value: --%s %s", spec->name, spec->name, spec->value);
                return PARSE_USAGE;
            }
        } else if (equals) {
            complain_usage("--%s takes no value, got \"%s\"", spec->name, equals + 1);
            return PARSE_USAGE;
        }
        if (spec->id == OPT_HELP)
            help = true;
        if (!set_option(o, spec->id, value))
            return PARSE_USAGE;
    }
    if (help)
        return PARSE_HELP;
    /* What can be told from the command line alone. */
    if (o->model == GT_MODEL_SPEC && (o->given & GIVEN_ACT)) {
        complain_usage("--act is for --model mlp or lenet: a spec names its own activations");
        return PARSE_USAGE;
    }
    if (o->eval_only && !o->load_path) {
        complain_usage("--eval evaluates a saved model: give it with --load FILE");
        return PARSE_USAGE;
    }
    if (o->eval_only) {
        static const struct {
            unsigned bit;
            const char *name;
        } training_only[] = {
            {GIVEN_EPOCHS, "epochs"},
            {GIVEN_LR, "lr"},
            {GIVEN_SCHEDULE, "schedule"},
            {GIVEN_WARMUP, "warmup-epochs"},
            {GIVEN_CLIP, "clip-grad-norm"},
            {GIVEN_MOMENTUM, "momentum"},
            {GIVEN_NESTEROV, "nesterov"},
            {GIVEN_WEIGHT_DECAY, "weight-decay"},
            {GIVEN_OPTIMIZER, "optimizer"},
            {GIVEN_SEED, "seed"},
            {GIVEN_LIMIT, "limit"},
            {GIVEN_DISTRIBUTED, "distributed"},
            {GIVEN_CROP_PADDING, "crop-padding"},
            {GIVEN_HFLIP, "hflip"},
        };
        for (size_t k = 0; k < sizeof training_only / sizeof training_only[0]; k++)
            if (o->given & training_only[k].bit) {
                complain_usage("--%s is for training, and --eval only evaluates",
                               training_only[k].name);
                return PARSE_USAGE;
            }
        const char *output = o->save_path   ? "save"
                             : o->csv_path  ? "csv"
                             : o->plot_path ? "plot"
                                            : NULL;
        if (output) {
            complain_usage("--%s writes per-epoch results, and --eval trains no epoch", output);
            return PARSE_USAGE;
        }
        if (o->profile_steps || o->graph_path) {
            complain_usage("--%s looks at training steps, and --eval trains none",
                           o->profile_steps ? "profile" : "graph");
            return PARSE_USAGE;
        }
    }
    return PARSE_OK;
}

bool options_is_cnn(const train_options *o) {
    return o->model == GT_MODEL_SPEC && o->spec && !strcmp(o->spec, GT_MODEL_CNN_SPEC);
}

void options_fill_defaults(train_options *o) {
    if (!(o->given & GIVEN_MODEL))
        o->model = GT_MODEL_MLP;
    bool cnn = options_is_cnn(o);
    if (!(o->given & GIVEN_ACT))
        o->act = options_default_act(o->model);
    if (!(o->given & GIVEN_OPTIMIZER))
        o->optimizer = GT_OPTIM_SGD;
    if (!(o->given & GIVEN_EPOCHS))
        o->epochs = cnn ? DEFAULT_CNN_EPOCHS : options_default_epochs(o->model);
    if (!(o->given & GIVEN_BATCH))
        o->batch = DEFAULT_BATCH;
    if (!(o->given & GIVEN_LR))
        o->lr = cnn && o->optimizer == GT_OPTIM_SGD ? DEFAULT_CNN_SGD_LR
                                                    : options_default_lr(o->model, o->optimizer);
    if (!(o->given & GIVEN_MOMENTUM))
        o->momentum = o->optimizer == GT_OPTIM_SGD ? DEFAULT_MOMENTUM : 0;
    if (!(o->given & GIVEN_SEED))
        o->seed = DEFAULT_SEED;
    if (!(o->given & GIVEN_SCHEDULE))
        o->schedule = DEFAULT_SCHEDULE;
    if (!(o->given & GIVEN_NESTEROV))
        o->nesterov = cnn && o->optimizer == GT_OPTIM_SGD && o->momentum > 0;
    if (!(o->given & GIVEN_WEIGHT_DECAY))
        o->weight_decay = cnn ? DEFAULT_CNN_WEIGHT_DECAY : 0;
    if (!(o->given & GIVEN_CROP_PADDING))
        o->crop_padding = 0; /* cnn: 0.9338 without, 0.9304 with crop 2 (README) */
    if (!(o->given & GIVEN_HFLIP))
        o->hflip = false; /* cnn: 0.9246 with flips and crop 2 */
    if (!(o->given & GIVEN_NORMALIZE))
        o->normalize = cnn;
    o->given |= GIVEN_MODEL | GIVEN_ACT | GIVEN_OPTIMIZER | GIVEN_EPOCHS | GIVEN_BATCH | GIVEN_LR |
                GIVEN_MOMENTUM | GIVEN_SEED | GIVEN_SCHEDULE;
}

bool options_check(const train_options *o) {
    if (o->optimizer == GT_OPTIM_ADAM && o->momentum != 0)
        complain_usage("--momentum %g is for --optimizer sgd (adam keeps its own moments)",
                       o->momentum);
    else if (o->optimizer == GT_OPTIM_ADAM && o->nesterov)
        complain_usage("--nesterov is for --optimizer sgd, not adam");
    else if (o->warmup_epochs >= o->epochs)
        complain_usage("--warmup-epochs %d must be less than --epochs %d", o->warmup_epochs,
                       o->epochs);
    else if (o->nesterov && o->momentum == 0)
        complain_usage("--nesterov needs a momentum > 0, and --momentum is 0");
    else
        return true;
    return false;
}
