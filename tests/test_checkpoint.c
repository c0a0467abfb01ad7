/* test_checkpoint.c - checkpoint files: layout, round trip, atomic saves, every refusal. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"
#include "gt_test_files.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Files of the float and double test programs must not collide when ctest runs both. */
#define SCRATCH GT_BINARY_DIR "/ckpt_" GT_REAL_NAME

/* ---- a hand-written file, byte by byte as docs/checkpoint.md describes it ---------- */

typedef struct bytes {
    unsigned char data[1024];
    size_t len;
} bytes;

static void b_uint(bytes *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++)
        b->data[b->len++] = (unsigned char)(v >> (8 * i));
}

static void b_string(bytes *b, const char *s) {
    b_uint(b, strlen(s), 2);
    memcpy(b->data + b->len, s, strlen(s));
    b->len += strlen(s);
}

static void b_f32(bytes *b, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    b_uint(b, bits, 4);
}

static void b_f64(bytes *b, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    b_uint(b, bits, 8);
}

static void b_crc(bytes *b) {
    b_uint(b, crc32(crc32(0L, Z_NULL, 0), b->data, (uInt)b->len), 4);
}

/* kind "mlp", config hidden=3, tensor "w" [2] with `dtype` holding 1.5, -2. */
static bytes hand_written(uint32_t dtype) {
    bytes b = {.len = 0};
    memcpy(b.data, "GTCKPT\0\0", 8);
    b.len = 8;
    b_uint(&b, 1, 4);                               /* version */
    b_uint(&b, 2 + 3 + 4 + (2 + 6 + 8) + 4, 4);     /* header bytes */
    b_string(&b, "mlp");
    b_uint(&b, 1, 4);
    b_string(&b, "hidden");
    b_uint(&b, 3, 8);
    b_uint(&b, 1, 4);                               /* tensor count */
    b_string(&b, "w");
    b_uint(&b, 1, 4);
    b_uint(&b, 2, 8);
    b_uint(&b, dtype, 4);
    if (dtype == 2) {
        b_f64(&b, 1.5);
        b_f64(&b, -2.0);
    } else {
        b_f32(&b, 1.5f);
        b_f32(&b, -2.0f);
    }
    b_crc(&b);
    return b;
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    if (f)
        fclose(f);
}

/* Reads at most `max` bytes; returns how many. */
static size_t read_file(const char *path, unsigned char *data, size_t max) {
    FILE *f = fopen(path, "rb");
    size_t len = f ? fread(data, 1, max, f) : 0;
    if (f)
        fclose(f);
    return len;
}

static bool exists(const char *path) {
    struct stat info;
    return stat(path, &info) == 0;
}

static const char *temp_name(const char *path) {
    static char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    return tmp;
}

/* ---- a small model: fc1.weight [3,4], fc1.bias [3] ------------------------------- */

typedef struct model {
    gt_tensor *w, *b;
} model;

static model model_filled(double base) {
    model m = {gt_empty(GT_SHAPE(3, 4)), gt_empty(GT_SHAPE(3))};
    for (int i = 0; i < 12; i++)
        gt_tensor_data(m.w)[i] = (gt_real)(base + 0.1 * i);
    for (int i = 0; i < 3; i++)
        gt_tensor_data(m.b)[i] = (gt_real)(base - i);
    return m;
}

static void model_free(model m) {
    gt_tensor_free(m.w);
    gt_tensor_free(m.b);
}

static const gt_ckpt_config config[] = {{"hidden", 3}, {"layers", 2}};

static gt_status save_model(const char *path, model m) {
    gt_ckpt_entry entries[] = {{"fc1.weight", m.w}, {"fc1.bias", m.b}};
    return gt_checkpoint_save(path, "mlp", config, 2, entries, 2);
}

static gt_status load_model(const char *path, model m) {
    gt_ckpt_entry entries[] = {{"fc1.bias", m.b}, {"fc1.weight", m.w}};
    return gt_checkpoint_load(path, "mlp", config, 2, entries, 2);
}

/* Every value of m equals model_filled(base). */
static bool model_is(model m, double base) {
    model expected = model_filled(base);
    bool same = memcmp(gt_tensor_data(m.w), gt_tensor_data(expected.w),
                       12 * sizeof(gt_real)) == 0 &&
                memcmp(gt_tensor_data(m.b), gt_tensor_data(expected.b),
                       3 * sizeof(gt_real)) == 0;
    model_free(expected);
    return same;
}

GT_TEST(checkpoint_round_trip_restores_every_value_exactly) {
    model saved = model_filled(1.25), loaded = model_filled(0);
    CHECK(save_model(SCRATCH "_rt.gtc", saved) == GT_OK);
    CHECK(load_model(SCRATCH "_rt.gtc", loaded) == GT_OK);
    CHECK(model_is(loaded, 1.25));
    CHECK(!exists(temp_name(SCRATCH "_rt.gtc")));
    model_free(saved);
    model_free(loaded);
}

GT_TEST(checkpoint_saved_bytes_match_the_documented_layout) {
    gt_tensor *w = gt_from_array(GT_SHAPE(2), (const gt_real[]){1.5, -2});
    gt_ckpt_entry entries[] = {{"w", w}};
    CHECK(gt_checkpoint_save(SCRATCH "_layout.gtc", "mlp", (gt_ckpt_config[]){{"hidden", 3}},
                             1, entries, 1) == GT_OK);
    bytes expected = hand_written(sizeof(gt_real) == 8 ? 2 : 1);
    unsigned char got[1024];
    size_t len = read_file(SCRATCH "_layout.gtc", got, sizeof got);
    CHECK(len == expected.len && memcmp(got, expected.data, expected.len) == 0);
    gt_tensor_free(w);
}

static void load_hand_written(uint32_t dtype) {
    bytes file = hand_written(dtype);
    write_file(SCRATCH "_hand.gtc", file.data, file.len);
    gt_tensor *w = gt_zeros(GT_SHAPE(2));
    gt_ckpt_entry entries[] = {{"w", w}};
    CHECK(gt_checkpoint_load(SCRATCH "_hand.gtc", "mlp", (gt_ckpt_config[]){{"hidden", 3}}, 1,
                             entries, 1) == GT_OK);
    CHECK_CLOSE(gt_tensor_item(w, 0), 1.5, 0);
    CHECK_CLOSE(gt_tensor_item(w, 1), -2.0, 0);
    gt_tensor_free(w);
}

GT_TEST(checkpoint_loads_f32_data_into_either_real_type) { load_hand_written(1); }

GT_TEST(checkpoint_loads_f64_data_into_either_real_type) { load_hand_written(2); }

GT_TEST(checkpoint_unknown_dtype_is_refused) {
    bytes file = hand_written(3);
    write_file(SCRATCH "_dtype.gtc", file.data, file.len);
    gt_tensor *w = gt_zeros(GT_SHAPE(2));
    gt_ckpt_entry entries[] = {{"w", w}};
    CHECK(gt_checkpoint_load(SCRATCH "_dtype.gtc", "mlp", NULL, 0, entries, 1) ==
          GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_dtype.gtc: malformed: tensor 'w' has an unknown dtype");
    gt_tensor_free(w);
}

/* kind "mlp", config k1 = 1 (k1_len bytes, which may hold a NUL) and k2 = 2, no tensors. */
static bytes two_keys(const char *k1, size_t k1_len, const char *k2) {
    bytes b = {.len = 8};
    memcpy(b.data, "GTCKPT\0\0", 8);
    b_uint(&b, 1, 4);
    b_uint(&b, (2 + 3) + 4 + (2 + k1_len + 8) + (2 + strlen(k2) + 8) + 4, 4);
    b_string(&b, "mlp");
    b_uint(&b, 2, 4);
    b_uint(&b, k1_len, 2);
    memcpy(b.data + b.len, k1, k1_len);
    b.len += k1_len;
    b_uint(&b, 1, 8);
    b_string(&b, k2);
    b_uint(&b, 2, 8);
    b_uint(&b, 0, 4);
    b_crc(&b);
    return b;
}

GT_TEST(checkpoint_with_a_nul_byte_in_a_name_is_malformed) {
    bytes file = two_keys("lay\0ers", 7, "hidden");
    write_file(SCRATCH "_nul.gtc", file.data, file.len);
    char kind[8];
    int n_config = -1;
    CHECK(gt_checkpoint_peek(SCRATCH "_nul.gtc", kind, sizeof kind, NULL, 0, &n_config, NULL,
                             0) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_nul.gtc: malformed: a config key 'lay...' holds a NUL byte");
    CHECK(n_config == -1);
}

GT_TEST(checkpoint_with_a_repeated_config_key_is_malformed) {
    bytes file = two_keys("hidden", 6, "hidden");
    write_file(SCRATCH "_twice.gtc", file.data, file.len);
    gt_ckpt_config hidden[] = {{"hidden", 2}};
    CHECK(gt_checkpoint_load(SCRATCH "_twice.gtc", "mlp", hidden, 1, NULL, 0) ==
          GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_twice.gtc: malformed: config key 'hidden' appears twice");
}

GT_TEST(checkpoint_save_over_existing_file_replaces_it) {
    model first = model_filled(1), second = model_filled(2), loaded = model_filled(0);
    CHECK(save_model(SCRATCH "_over.gtc", first) == GT_OK);
    CHECK(save_model(SCRATCH "_over.gtc", second) == GT_OK);
    CHECK(load_model(SCRATCH "_over.gtc", loaded) == GT_OK);
    CHECK(model_is(loaded, 2));
    CHECK(!exists(temp_name(SCRATCH "_over.gtc")));
    model_free(first);
    model_free(second);
    model_free(loaded);
}

GT_TEST(checkpoint_failed_save_keeps_the_previous_file) {
    model good = model_filled(3), loaded = model_filled(0);
    CHECK(save_model(SCRATCH "_full.gtc", good) == GT_OK);
    gt_tensor *big = gt_zeros(GT_SHAPE(100000));
    gt_ckpt_entry entries[] = {{"big", big}};
    gt_test_file_limit limit = gt_test_limit_file_size(4096); /* a full disk */
    CHECK(limit.set);
    gt_status st = gt_checkpoint_save(SCRATCH "_full.gtc", "mlp", config, 2, entries, 1);
    gt_test_unlimit_file_size(&limit);
    CHECK(st == GT_ERR_IO);
    CHECK_ERROR_HAS("_full.gtc': a write failed");
    CHECK_ERROR_HAS("File too large");
    CHECK(!exists(temp_name(SCRATCH "_full.gtc")));
    CHECK(load_model(SCRATCH "_full.gtc", loaded) == GT_OK);
    CHECK(model_is(loaded, 3));
    gt_tensor_free(big);
    model_free(good);
    model_free(loaded);
}

GT_TEST(checkpoint_corrupted_byte_fails_crc_and_changes_nothing) {
    model saved = model_filled(1), loaded = model_filled(7);
    CHECK(save_model(SCRATCH "_crc.gtc", saved) == GT_OK);
    unsigned char file[1024];
    size_t len = read_file(SCRATCH "_crc.gtc", file, sizeof file);
    CHECK(len > 40);
    file[len - 10] ^= 0x10; /* inside the last tensor's data */
    write_file(SCRATCH "_crc.gtc", file, len);
    CHECK(load_model(SCRATCH "_crc.gtc", loaded) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_crc.gtc: corrupted: CRC mismatch");
    CHECK(model_is(loaded, 7));
    model_free(saved);
    model_free(loaded);
}

GT_TEST(checkpoint_truncated_at_every_length_fails_and_changes_nothing) {
    model saved = model_filled(1), loaded = model_filled(7);
    CHECK(save_model(SCRATCH "_cut.gtc", saved) == GT_OK);
    unsigned char file[1024];
    size_t len = read_file(SCRATCH "_cut.gtc", file, sizeof file);
    CHECK(len > 40);
    for (size_t cut = 0; cut < len; cut++) {
        write_file(SCRATCH "_cut.gtc", file, cut);
        gt_clear_error();
        CHECK(load_model(SCRATCH "_cut.gtc", loaded) == GT_ERR_FORMAT);
        CHECK_ERROR_HAS("_cut.gtc: truncated");
    }
    CHECK(model_is(loaded, 7));
    model_free(saved);
    model_free(loaded);
}

GT_TEST(checkpoint_of_another_kind_is_refused) {
    model m = model_filled(1);
    CHECK(save_model(SCRATCH "_kind.gtc", m) == GT_OK);
    gt_ckpt_entry entries[] = {{"fc1.bias", m.b}};
    CHECK(gt_checkpoint_load(SCRATCH "_kind.gtc", "lenet", NULL, 0, entries, 1) ==
          GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_kind.gtc: holds a 'mlp' model, expected 'lenet'");
    model_free(m);
}

GT_TEST(checkpoint_with_other_config_value_names_key_and_both_values) {
    model m = model_filled(1);
    CHECK(save_model(SCRATCH "_config.gtc", m) == GT_OK);
    gt_ckpt_entry entries[] = {{"fc1.bias", m.b}};
    CHECK(gt_checkpoint_load(SCRATCH "_config.gtc", "mlp", (gt_ckpt_config[]){{"hidden", 50}},
                             1, entries, 1) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_config.gtc: config 'hidden' is 3 in the file, 50 expected");
    model_free(m);
}

GT_TEST(checkpoint_without_an_expected_config_key_is_refused) {
    model m = model_filled(1);
    CHECK(save_model(SCRATCH "_nokey.gtc", m) == GT_OK);
    CHECK(gt_checkpoint_load(SCRATCH "_nokey.gtc", "mlp", (gt_ckpt_config[]){{"act", 1}}, 1,
                             NULL, 0) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_nokey.gtc: config 'act' is missing from the file");
    model_free(m);
}

GT_TEST(checkpoint_with_other_shape_names_both_shapes_and_changes_nothing) {
    model m = model_filled(1), loaded = model_filled(7);
    CHECK(save_model(SCRATCH "_shape.gtc", m) == GT_OK);
    gt_tensor *w = gt_zeros(GT_SHAPE(4, 3));
    gt_ckpt_entry entries[] = {{"fc1.bias", loaded.b}, {"fc1.weight", w}};
    CHECK(gt_checkpoint_load(SCRATCH "_shape.gtc", "mlp", config, 2, entries, 2) ==
          GT_ERR_SHAPE);
    CHECK_ERROR_HAS("_shape.gtc: tensor 'fc1.weight' has shape [3, 4] in the file, [4, 3] "
                    "expected");
    CHECK(model_is(loaded, 7));
    gt_tensor_free(w);
    model_free(m);
    model_free(loaded);
}

GT_TEST(checkpoint_missing_tensor_is_named) {
    model m = model_filled(1);
    CHECK(save_model(SCRATCH "_missing.gtc", m) == GT_OK);
    gt_ckpt_entry entries[] = {{"fc2.weight", m.w}};
    CHECK(gt_checkpoint_load(SCRATCH "_missing.gtc", "mlp", config, 2, entries, 1) ==
          GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_missing.gtc: no tensor 'fc2.weight' in the file");
    model_free(m);
}

GT_TEST(checkpoint_load_ignores_tensors_not_asked_for) {
    model m = model_filled(1);
    gt_tensor *b = gt_zeros(GT_SHAPE(3));
    CHECK(save_model(SCRATCH "_subset.gtc", m) == GT_OK);
    gt_ckpt_entry entries[] = {{"fc1.bias", b}};
    CHECK(gt_checkpoint_load(SCRATCH "_subset.gtc", "mlp", NULL, 0, entries, 1) == GT_OK);
    CHECK_CLOSE(gt_tensor_item(b, 2), -1.0, 0);
    gt_tensor_free(b);
    model_free(m);
}

GT_TEST(checkpoint_missing_file_is_an_io_error_naming_it) {
    model m = model_filled(1);
    CHECK(load_model(SCRATCH "_absent.gtc", m) == GT_ERR_IO);
    CHECK_ERROR_HAS("_absent.gtc: cannot open");
    model_free(m);
}

GT_TEST(checkpoint_other_file_is_not_a_checkpoint) {
    write_file(SCRATCH "_text.gtc", "hello, world\n", 13);
    model m = model_filled(1);
    CHECK(load_model(SCRATCH "_text.gtc", m) == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("_text.gtc: not a gradtape checkpoint");
    model_free(m);
}

GT_TEST(checkpoint_of_newer_version_is_refused) {
    bytes file = hand_written(1);
    file.data[8] = 7;
    write_file(SCRATCH "_v7.gtc", file.data, file.len);
    gt_tensor *w = gt_zeros(GT_SHAPE(2));
    gt_ckpt_entry entries[] = {{"w", w}};
    CHECK(gt_checkpoint_load(SCRATCH "_v7.gtc", "mlp", NULL, 0, entries, 1) ==
          GT_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("_v7.gtc: version 7 is newer than this build (2)");
    gt_tensor_free(w);
}

GT_TEST(checkpoint_save_into_missing_folder_fails_and_leaves_nothing) {
    const char *path = SCRATCH "_no_such_dir/model.gtc";
    model m = model_filled(1);
    CHECK(save_model(path, m) == GT_ERR_IO);
    CHECK_ERROR_HAS(path);
    CHECK(!exists(SCRATCH "_no_such_dir"));
    model_free(m);
}

GT_TEST(checkpoint_peek_returns_kind_and_config) {
    model m = model_filled(1);
    CHECK(save_model(SCRATCH "_peek.gtc", m) == GT_OK);
    char kind[16], storage[64];
    gt_ckpt_config got[4];
    int n = -1;
    CHECK(gt_checkpoint_peek(SCRATCH "_peek.gtc", kind, sizeof kind, got, 4, &n, storage,
                             sizeof storage) == GT_OK);
    CHECK(strcmp(kind, "mlp") == 0 && n == 2);
    CHECK(n == 2 && strcmp(got[0].key, "hidden") == 0 && got[0].value == 3);
    CHECK(n == 2 && strcmp(got[1].key, "layers") == 0 && got[1].value == 2);
    model_free(m);
}

GT_TEST(checkpoint_peek_without_room_for_config_fails) {
    model m = model_filled(1);
    CHECK(save_model(SCRATCH "_peek1.gtc", m) == GT_OK);
    char kind[16], storage[64];
    gt_ckpt_config got[1];
    int n = -1;
    CHECK(gt_checkpoint_peek(SCRATCH "_peek1.gtc", kind, sizeof kind, got, 1, &n, storage,
                             sizeof storage) == GT_ERR_ARG);
    CHECK_ERROR_HAS("2 config entries, room for 1");
    CHECK(gt_checkpoint_peek(SCRATCH "_peek1.gtc", kind, sizeof kind, NULL, 0, &n, NULL, 0) ==
          GT_OK);
    CHECK(n == 2);
    model_free(m);
}

GT_TEST(checkpoint_text_entries_make_a_version_2_file) {
    gt_tensor *w = gt_from_array(GT_SHAPE(2), (const gt_real[]){1.5, -2});
    gt_ckpt_entry entries[] = {{"w", w}};
    gt_ckpt_text texts[] = {{"spec", "Flatten Linear(10)"}, {"empty", ""}};
    CHECK(gt_checkpoint_save_texts(SCRATCH "_texts.gtc", "module", NULL, 0, texts, 2, entries,
                                   1) == GT_OK);
    unsigned char head[12];
    CHECK(read_file(SCRATCH "_texts.gtc", head, sizeof head) == 12 && head[8] == 2);
    char text[64];
    CHECK(gt_checkpoint_get_text(SCRATCH "_texts.gtc", "spec", text, sizeof text) == GT_OK &&
          !strcmp(text, "Flatten Linear(10)"));
    CHECK(gt_checkpoint_get_text(SCRATCH "_texts.gtc", "empty", text, sizeof text) == GT_OK &&
          !strcmp(text, ""));
    CHECK(gt_checkpoint_get_text(SCRATCH "_texts.gtc", "spec", text, 5) == GT_ERR_ARG);
    CHECK_ERROR_HAS("text 'spec' needs 19 bytes, 5 given");
    CHECK(gt_checkpoint_get_text(SCRATCH "_texts.gtc", "other", text, sizeof text) ==
          GT_ERR_FORMAT);
    CHECK_ERROR_HAS("has no text 'other'");
    gt_tensor *back = gt_zeros(GT_SHAPE(2));
    gt_ckpt_entry back_entries[] = {{"w", back}};
    CHECK(gt_checkpoint_load(SCRATCH "_texts.gtc", "module", NULL, 0, back_entries, 1) == GT_OK);
    CHECK(gt_tensor_item(back, 1) == -2);
    gt_ckpt_text twice[] = {{"a", "x"}, {"a", "y"}};
    CHECK(gt_checkpoint_save_texts(SCRATCH "_texts2.gtc", "module", NULL, 0, twice, 2, entries,
                                   1) == GT_ERR_ARG);
    CHECK_ERROR_HAS("text key 'a' appears twice");
    /* a version 1 file has no texts */
    CHECK(gt_checkpoint_save(SCRATCH "_notext.gtc", "mlp", NULL, 0, entries, 1) == GT_OK);
    CHECK(gt_checkpoint_get_text(SCRATCH "_notext.gtc", "spec", text, sizeof text) ==
          GT_ERR_FORMAT);
    gt_tensor_free(w);
    gt_tensor_free(back);
}

GT_TEST_MAIN()
