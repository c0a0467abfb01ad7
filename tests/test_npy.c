/* test_npy.c - gt_npy_load and gt_npy_save: round trips, every dtype, NumPy's own files,
 * and every refusal with its message. */
#define _POSIX_C_SOURCE 200809L
#include "gt_test.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* A per-flavour, per-process file name in the build directory. */
static const char *temp_path(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/npy_%s_%ld_%s", GT_BINARY_DIR, GT_REAL_NAME,
             (long)getpid(), name);
    return buf;
}

static void write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(bytes, 1, n, f) == n);
    fclose(f);
}

/* Writes a .npy file of format `major`.0 with the given dict (padded to 64) and data. */
static void write_npy(const char *path, int major, const char *dict, const void *data,
                      size_t data_bytes) {
    unsigned char file[1024];
    size_t len_bytes = major == 1 ? 2 : 4, pre = 8 + len_bytes;
    size_t total = (pre + strlen(dict) + 1 + 63) / 64 * 64, header_len = total - pre;
    CHECK(total + data_bytes <= sizeof file);
    memcpy(file, "\x93NUMPY", 6);
    file[6] = (unsigned char)major;
    file[7] = 0;
    for (size_t i = 0; i < len_bytes; i++)
        file[8 + i] = (unsigned char)(header_len >> (8 * i));
    memset(file + pre, ' ', header_len);
    memcpy(file + pre, dict, strlen(dict));
    file[total - 1] = '\n';
    memcpy(file + total, data, data_bytes);
    write_bytes(path, file, total + data_bytes);
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void check_round_trip(int ndim, const int64_t *shape) {
    int64_t numel = gt_shape_numel(ndim, shape);
    gt_tensor *t = gt_empty(ndim, shape);
    CHECK(t != NULL);
    for (int64_t i = 0; i < numel; i++)
        gt_tensor_data(t)[i] = (gt_real)(0.37 * (double)i - 4.0);
    const char *path = temp_path("round.npy");
    CHECK(gt_npy_save(path, t) == GT_OK);
    gt_tensor *back = gt_npy_load(path);
    CHECK(back != NULL);
    if (back) {
        CHECK(gt_shape_equal(gt_tensor_ndim(back), gt_tensor_shape(back), ndim, shape));
        for (int64_t i = 0; i < numel; i++)
            CHECK(gt_tensor_item(back, i) == gt_tensor_item(t, i));
    }
    remove(path);
    gt_tensor_free(back);
    gt_tensor_free(t);
}

GT_TEST(round_trip_keeps_values_and_shapes) {
    check_round_trip(GT_SHAPE(2, 3));
    check_round_trip(0, NULL);
    check_round_trip(GT_SHAPE(7));
    check_round_trip(GT_SHAPE(2, 3, 1, 4));
    check_round_trip(GT_SHAPE(3, 0));
}

GT_TEST(save_writes_numpy_v1_preamble_padded_to_64) {
    gt_tensor *t = gt_zeros(GT_SHAPE(5));
    const char *path = temp_path("preamble.npy");
    CHECK(gt_npy_save(path, t) == GT_OK);
    unsigned char buf[256] = {0};
    FILE *f = fopen(path, "rb");
    CHECK(f && fread(buf, 1, sizeof buf, f) == 128 + 5 * sizeof(gt_real));
    if (f)
        fclose(f);
    size_t header_len = (size_t)buf[8] | (size_t)buf[9] << 8;
    CHECK(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0);
    CHECK(header_len == 118);
    CHECK(buf[127] == '\n');
    const char *expected = sizeof(gt_real) == 4
                               ? "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"
                               : "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }";
    CHECK(memcmp(buf + 10, expected, strlen(expected)) == 0);
    remove(path);
    gt_tensor_free(t);
}

GT_TEST(save_failure_names_path_and_leaves_no_temporary) {
    gt_tensor *t = gt_zeros(GT_SHAPE(2));
    CHECK(gt_npy_save(GT_BINARY_DIR "/no/such/dir/x.npy", t) == GT_ERR_IO);
    CHECK_ERROR_HAS("no/such/dir/x.npy");
    /* Renaming a file over a directory fails after the temporary was written. */
    const char *dir = temp_path("a_directory");
    CHECK(mkdir(dir, 0700) == 0);
    CHECK(gt_npy_save(dir, t) == GT_ERR_IO);
    CHECK_ERROR_HAS(dir);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid());
    CHECK(!file_exists(tmp));
    rmdir(dir);
    CHECK(gt_npy_save(NULL, t) == GT_ERR_ARG);
    gt_tensor_free(t);
}

typedef struct dtype_case {
    const char *descr;
    size_t itemsize;
    unsigned char bytes[24]; /* three little-endian values */
    double expected[3];
} dtype_case;

/* Builds the three values' bytes from a typed array of the case's type. */
#define DTYPE_CASE(descr, type, a, b, c)                                                   \
    {                                                                                      \
        dtype_case dc = {descr, sizeof(type), {0}, {(double)(a), (double)(b), (double)(c)}}; \
        type values[3] = {a, b, c};                                                         \
        memcpy(dc.bytes, values, sizeof values);                                           \
        check_dtype(&dc);                                                                  \
    }

static void check_dtype(const dtype_case *dc) {
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (3,), }",
             dc->descr);
    const char *path = temp_path("dtype.npy");
    write_npy(path, 1, dict, dc->bytes, 3 * dc->itemsize);
    gt_tensor *t = gt_npy_load(path);
    CHECK(t != NULL);
    if (!t)
        fprintf(stderr, "  dtype %s failed\n", dc->descr);
    for (int i = 0; t && i < 3; i++)
        CHECK_CLOSE(gt_tensor_item(t, i), dc->expected[i], 1e-6 * fabs(dc->expected[i]));
    gt_tensor_free(t);
    remove(path);
}

GT_TEST(load_converts_every_supported_dtype) {
    DTYPE_CASE("<f4", float, 0.5f, -1.25f, 1e20f);
    DTYPE_CASE("<f8", double, 0.5, -1.25, 1e30);
    DTYPE_CASE("<i1", int8_t, -128, 0, 127);
    DTYPE_CASE("|i1", int8_t, -5, 1, 2);
    DTYPE_CASE("<i2", int16_t, -32768, 7, 32767);
    DTYPE_CASE("<i4", int32_t, -2147483647 - 1, 9, 2147483647);
    DTYPE_CASE("<i8", int64_t, -(INT64_C(1) << 40), 3, INT64_C(1) << 50);
    DTYPE_CASE("|u1", uint8_t, 0, 128, 255);
    DTYPE_CASE("<u1", uint8_t, 3, 4, 5);
    DTYPE_CASE("<u2", uint16_t, 0, 1000, 65535);
    DTYPE_CASE("<u4", uint32_t, 0, 7, 4294967295u);
    DTYPE_CASE("<u8", uint64_t, 0, 11, UINT64_C(1) << 63);
    DTYPE_CASE("|b1", uint8_t, 1, 0, 1);
    DTYPE_CASE("=f8", double, 2.0, -3.0, 4.0);
}

GT_TEST(load_reads_bool_nonzero_as_one) {
    unsigned char bytes[3] = {0, 2, 255};
    const char *path = temp_path("bool.npy");
    write_npy(path, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", bytes, 3);
    gt_tensor *t = gt_npy_load(path);
    CHECK(t && gt_tensor_item(t, 0) == 0 && gt_tensor_item(t, 1) == 1 &&
          gt_tensor_item(t, 2) == 1);
    gt_tensor_free(t);
    remove(path);
}

GT_TEST(load_accepts_v2_and_v3_headers_and_any_key_order) {
    float values[4] = {1, 2, 3, 4};
    const char *path = temp_path("v2.npy");
    for (int major = 2; major <= 3; major++) {
        write_npy(path, major, "{ \"shape\" : ( 2 , 2 ) ,'fortran_order':False,'descr':'<f4'}",
                  values, sizeof values);
        gt_tensor *t = gt_npy_load(path);
        CHECK(t && gt_tensor_ndim(t) == 2 && gt_tensor_dim(t, 0) == 2 &&
              gt_tensor_dim(t, 1) == 2 && gt_tensor_item(t, 3) == 4);
        gt_tensor_free(t);
    }
    remove(path);
}

GT_TEST(load_reads_files_written_by_numpy) {
    gt_tensor *t = gt_npy_load(GT_TEST_DATA_DIR "/npy/f32_2x3.npy");
    CHECK(t && gt_shape_equal(gt_tensor_ndim(t), gt_tensor_shape(t), GT_SHAPE(2, 3)));
    const double f32_expected[6] = {0.5, -1.25, 2.0, 3.0, 4.5, -6.75};
    for (int i = 0; t && i < 6; i++)
        CHECK(gt_tensor_item(t, i) == f32_expected[i]);
    gt_tensor_free(t);

    t = gt_npy_load(GT_TEST_DATA_DIR "/npy/f64_scalar.npy");
    CHECK(t && gt_tensor_ndim(t) == 0 && gt_tensor_numel(t) == 1 &&
          gt_tensor_item(t, 0) == 3.25);
    gt_tensor_free(t);

    t = gt_npy_load(GT_TEST_DATA_DIR "/npy/i64_4.npy");
    CHECK(t && gt_tensor_ndim(t) == 1 && gt_tensor_dim(t, 0) == 4);
    CHECK(t && gt_tensor_item(t, 0) == -3 && gt_tensor_item(t, 3) == (gt_real)(INT64_C(1) << 40));
    gt_tensor_free(t);

    t = gt_npy_load(GT_TEST_DATA_DIR "/npy/u8_2x2.npy");
    CHECK(t && gt_tensor_item(t, 2) == 128 && gt_tensor_item(t, 3) == 255);
    gt_tensor_free(t);

    t = gt_npy_load(GT_TEST_DATA_DIR "/npy/bool_3.npy");
    CHECK(t && gt_tensor_item(t, 0) == 1 && gt_tensor_item(t, 1) == 0 &&
          gt_tensor_item(t, 2) == 1);
    gt_tensor_free(t);
}

GT_TEST(load_refuses_numpy_big_endian_and_fortran_files) {
    CHECK(gt_npy_load(GT_TEST_DATA_DIR "/npy/f4_big_endian.npy") == NULL);
    CHECK(gt_last_status() == GT_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("big-endian data ('>f4') is not supported");
    CHECK_ERROR_HAS("f4_big_endian.npy");
    CHECK(gt_npy_load(GT_TEST_DATA_DIR "/npy/f8_fortran.npy") == NULL);
    CHECK(gt_last_status() == GT_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("Fortran");
    CHECK_ERROR_HAS("f8_fortran.npy");
}

/* Writes a file with `dict` and `data_bytes` zero bytes; loading must fail. */
static void check_refused(const char *dict, size_t data_bytes, gt_status status,
                          const char *message) {
    unsigned char zeros[64] = {0};
    const char *path = temp_path("bad.npy");
    write_npy(path, 1, dict, zeros, data_bytes);
    CHECK(gt_npy_load(path) == NULL);
    CHECK(gt_last_status() == status);
    CHECK_ERROR_HAS(message);
    CHECK_ERROR_HAS(path);
    remove(path);
}

GT_TEST(load_refuses_bad_headers_with_clear_messages) {
    check_refused("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16,
                  GT_ERR_UNSUPPORTED, "dtype '<c8' is not supported");
    check_refused("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16,
                  GT_ERR_UNSUPPORTED, "Fortran");
    check_refused("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", 8,
                  GT_ERR_UNSUPPORTED, "big-endian data ('>i4')");
    check_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8,
                  GT_ERR_FORMAT, "truncated: expected 12 data bytes, found 8");
    check_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }", 0,
                  GT_ERR_FORMAT, "negative size");
    check_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }",
                  4, GT_ERR_FORMAT, "rank exceeds 8");
    check_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                  0, GT_ERR_FORMAT, "overflows");
    check_refused("{'descr': '<u1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                  0, GT_ERR_FORMAT, "overflows");
    check_refused("{'descr': '<f4', 'shape': (2,), }", 8, GT_ERR_FORMAT, "missing");
    check_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", 8, GT_ERR_FORMAT,
                  "malformed header");
    check_refused("{'descr': '<f4', 'fortran_order': Nope, 'shape': (2,), }", 8,
                  GT_ERR_FORMAT, "malformed header");
    check_refused("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
                  GT_ERR_UNSUPPORTED, "structured");
}

GT_TEST(load_refuses_bad_magic_and_truncated_header) {
    const char *path = temp_path("raw.npy");
    write_bytes(path, "\x93NUMPX\x01\x00\x10\x00{}", 12);
    CHECK(gt_npy_load(path) == NULL);
    CHECK(gt_last_status() == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("bad magic");
    write_bytes(path, "\x93NUM", 4);
    CHECK(gt_npy_load(path) == NULL);
    CHECK_ERROR_HAS("truncated header");
    write_bytes(path, "\x93NUMPY\x01\x00\x76\x00{'descr'", 17);
    CHECK(gt_npy_load(path) == NULL);
    CHECK(gt_last_status() == GT_ERR_FORMAT);
    CHECK_ERROR_HAS("truncated header: expected 118 bytes of header dict, found 7");
    write_bytes(path, "\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
    CHECK(gt_npy_load(path) == NULL);
    CHECK_ERROR_HAS("exceeds the limit");
    write_bytes(path, "\x93NUMPY\x09\x00\x10\x00", 10);
    CHECK(gt_npy_load(path) == NULL);
    CHECK(gt_last_status() == GT_ERR_UNSUPPORTED);
    CHECK_ERROR_HAS("version 9.0");
    remove(path);
}

GT_TEST(load_reports_missing_file_with_strerror) {
    CHECK(gt_npy_load(GT_BINARY_DIR "/does-not-exist.npy") == NULL);
    CHECK(gt_last_status() == GT_ERR_IO);
    CHECK_ERROR_HAS("does-not-exist.npy");
    CHECK_ERROR_HAS("No such file or directory");
    CHECK(gt_npy_load(GT_BINARY_DIR) == NULL);
    CHECK(gt_last_status() == GT_ERR_IO);
    CHECK(gt_npy_load(NULL) == NULL);
    CHECK(gt_last_status() == GT_ERR_ARG);
}

GT_TEST_MAIN()
