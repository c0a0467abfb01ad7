/* fuzz_checkpoint.c - gt_checkpoint_peek and gt_checkpoint_load on any bytes, once as given
 * and once with a correct CRC (so that what lies behind the CRC check is reached too).
 * Peek must never write past the buffers it is given; a load that fails must leave the
 * target tensors untouched; a file peek accepts must load with the kind and configuration
 * peek reported; what loads must save and load back the same. A file peek accepts is also
 * given to gt_model_load and gt_optimizer_load (gt_nn.h). */
#define FUZZ_SCRATCH_INITIALIZE /* LLVMFuzzerInitialize makes the scratch folder */
#include "fuzz_support.h"

#include <zlib.h>

#define FUZZ_CKPT_MAX_LIVE_BYTES ((size_t)64 << 20)
#define MAX_CONFIG 4096 /* the format's limit */
#define SENTINEL ((gt_real)7.25)

static char kind[256];
static gt_ckpt_config config[MAX_CONFIG];
static char storage[MAX_CONFIG * 256];

/* The tensors the seed files hold, "fc.weight" [2, 3] and "fc.bias" [2]. */
typedef struct targets {
    gt_tensor *weight, *bias;
    gt_ckpt_entry entries[2];
} targets;

static targets targets_new(void) {
    targets t = {gt_full(GT_SHAPE(2, 3), SENTINEL), gt_full(GT_SHAPE(2), SENTINEL), {{0}}};
    t.entries[0] = (gt_ckpt_entry){"fc.weight", t.weight};
    t.entries[1] = (gt_ckpt_entry){"fc.bias", t.bias};
    return t;
}

static bool untouched(const gt_tensor *t) {
    for (int64_t i = 0; i < gt_tensor_numel(t); i++) {
        gt_real v = gt_tensor_cdata(t)[i];
        if (memcmp(&v, &(gt_real){SENTINEL}, sizeof v) != 0)
            return false;
    }
    return true;
}

/* Peek with buffers just big enough for a little: never a write beyond them. */
static void peek_small(const char *path, gt_status full_status) {
    char *small_kind = malloc(4), *small_storage = malloc(16);
    gt_ckpt_config *small_config = malloc(2 * sizeof *small_config);
    int n = -1;
    gt_status status = gt_checkpoint_peek(path, small_kind, 4, small_config, 2, &n,
                                          small_storage, 16);
    if (full_status == GT_OK)
        FUZZ_ASSERT(status == GT_OK || status == GT_ERR_ARG);
    else
        FUZZ_ASSERT(status == full_status);
    if (status != GT_OK)
        FUZZ_ASSERT(n == -1);
    free(small_kind);
    free(small_storage);
    free(small_config);
}

/* Keys and kind as peek returned them can be given back only without NUL bytes or repeats. */
static bool peeked_names_are_plain(int n_config) {
    for (int i = 0; i < n_config; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(config[i].key, config[j].key))
                return false;
    return true;
}

static void save_and_load_back(const targets *t, int n_config) {
    char path[512];
    snprintf(path, sizeof path, "%s/round_trip.gtc", fuzz_scratch());
    gt_status status = gt_checkpoint_save(path, kind, config, n_config, t->entries, 2);
    if (status != GT_OK) {
        FUZZ_ASSERT(status == GT_ERR_ARG || status == GT_ERR_IO || status == GT_ERR_NOMEM);
        return;
    }
    targets back = targets_new();
    FUZZ_ASSERT(gt_checkpoint_load(path, kind, config, n_config, back.entries, 2) == GT_OK);
    FUZZ_ASSERT(!memcmp(gt_tensor_cdata(back.weight), gt_tensor_cdata(t->weight),
                        6 * sizeof(gt_real)));
    FUZZ_ASSERT(!memcmp(gt_tensor_cdata(back.bias), gt_tensor_cdata(t->bias),
                        2 * sizeof(gt_real)));
    gt_tensor_free(back.weight);
    gt_tensor_free(back.bias);
}

/* As a model checkpoint (gt_nn.h): rebuilt whole or not at all, and its optimizer state
 * restored into an optimizer of either kind or refused with that optimizer unchanged. */
static void check_model(const char *path) {
    int64_t epoch = -1;
    if (gt_checkpoint_get(path, "epoch", &epoch) != GT_OK)
        FUZZ_ASSERT(epoch == -1);
    gt_model *model = gt_model_load(path);
    if (!model) {
        gt_status status = gt_last_status();
        FUZZ_ASSERT(status == GT_ERR_FORMAT || status == GT_ERR_UNSUPPORTED ||
                    status == GT_ERR_SHAPE || status == GT_ERR_IO || status == GT_ERR_NOMEM ||
                    status == GT_ERR_ARG);
        return;
    }
    /* A spec of parameter-free modules ("Flatten ReLU") is a model too, of no parameters;
     * the model's numel is its parameters' elements, whatever their number */
    int64_t elements = 0;
    for (int i = 0; i < gt_model_param_count(model); i++)
        elements += gt_tensor_numel(gt_model_params(model)[i]);
    FUZZ_ASSERT(gt_model_param_count(model) >= 0 && gt_model_numel(model) == elements);
    double sum = 0; /* reads every parameter */
    for (int64_t i = 0; i < gt_model_numel(model); i++)
        sum += gt_model_data(model)[i];
    (void)sum;
    for (int adam = 0; adam < 2; adam++) {
        gt_tensor *const *params = gt_model_params(model);
        int n = gt_model_param_count(model);
        gt_optimizer *opt = adam ? gt_adam_new(params, n, &(gt_adam_config){1e-3, 0.9, 0.999,
                                                                              1e-8, 0})
                                 : gt_sgd_new(params, n, &(gt_sgd_config){.lr = 0.1,
                                                                          .momentum = 0.9});
        if (!opt) { /* an optimizer needs a parameter: PyTorch's "empty parameter list" */
            FUZZ_ASSERT(gt_last_status() == (n == 0 ? GT_ERR_ARG : GT_ERR_NOMEM));
            continue;
        }
        if (gt_optimizer_load(opt, path) != GT_OK)
            FUZZ_ASSERT(gt_optimizer_steps(opt) == 0);
        gt_optimizer_free(opt);
    }
    gt_model_free(model);
}

static void check_file(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    int n_config = -1;
    gt_status status = gt_checkpoint_peek(path, kind, sizeof kind, config, MAX_CONFIG,
                                          &n_config, storage, sizeof storage);
    peek_small(path, status);
    if (status != GT_OK) {
        FUZZ_ASSERT(status == GT_ERR_FORMAT || status == GT_ERR_UNSUPPORTED ||
                    status == GT_ERR_IO || status == GT_ERR_NOMEM);
        FUZZ_ASSERT(strncmp(gt_last_error(), path, strlen(path)) == 0);
        FUZZ_ASSERT(n_config == -1);
        return;
    }
    FUZZ_ASSERT(strlen(kind) <= 255 && n_config >= 0 && n_config <= MAX_CONFIG);
    check_model(path);
    if (peeked_names_are_plain(n_config))
        FUZZ_ASSERT(gt_checkpoint_load(path, kind, config, n_config, NULL, 0) == GT_OK);
    targets t = targets_new();
    status = gt_checkpoint_load(path, kind, config, n_config, t.entries, 2);
    if (status != GT_OK) {
        FUZZ_ASSERT(untouched(t.weight) && untouched(t.bias));
        FUZZ_ASSERT(strncmp(gt_last_error(), path, strlen(path)) == 0);
    } else {
        save_and_load_back(&t, n_config);
    }
    gt_tensor_free(t.weight);
    gt_tensor_free(t.bias);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_test_alloc alloc;
    fuzz_alloc_begin(&alloc, FUZZ_CKPT_MAX_LIVE_BYTES, 0);
    check_file(data, size);
    if (size >= 12) { /* the same bytes with the CRC the format asks for */
        uint8_t *fixed = malloc(size);
        memcpy(fixed, data, size);
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), fixed, (uInt)(size - 4));
        for (int i = 0; i < 4; i++)
            fixed[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
        check_file(fixed, size);
        free(fixed);
    }
    fuzz_alloc_end(&alloc);
    return 0;
}
