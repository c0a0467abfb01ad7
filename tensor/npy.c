/* npy.c - reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 * Assumes a little-endian host; element bytes are copied with memcpy, never cast. */
#define _POSIX_C_SOURCE 200809L
#include "gt_tensor_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

static const char NPY_MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

enum {
    NPY_MAX_HEADER = 1 << 20, /* refuse header dicts longer than 1 MiB */
    NPY_ALIGN = 64,           /* the preamble written is a multiple of this */
    NPY_CHUNK = 8192,         /* bytes converted per read */
    NPY_SAVE_PREAMBLE = 256   /* room for the preamble gt_npy_save writes (rank <= 8) */
};

typedef enum npy_kind { NPY_FLOAT, NPY_INT, NPY_UINT, NPY_BOOL } npy_kind;

typedef struct npy_dtype {
    const char *code; /* the descr without its byte-order character */
    npy_kind kind;
    size_t size;
} npy_dtype;

static const npy_dtype NPY_DTYPES[] = {
    {"f4", NPY_FLOAT, 4}, {"f8", NPY_FLOAT, 8}, {"i1", NPY_INT, 1},  {"i2", NPY_INT, 2},
    {"i4", NPY_INT, 4},   {"i8", NPY_INT, 8},   {"u1", NPY_UINT, 1}, {"u2", NPY_UINT, 2},
    {"u4", NPY_UINT, 4},  {"u8", NPY_UINT, 8},  {"b1", NPY_BOOL, 1},
};

/* What the header dict says. */
typedef struct npy_header {
    char descr[32];
    bool has_descr, has_fortran, has_shape;
    bool fortran_order;
    int ndim;
    int64_t shape[GT_MAX_DIMS];
} npy_header;

/* A cursor over the header text [p, end); `path` names the file in errors. */
typedef struct npy_parser {
    const char *p, *end;
    const char *path;
} npy_parser;

/* ---- header dict parsing --------------------------------------------------------------- */

static gt_status malformed(const npy_parser *ps, const char *what) {
    return gt_set_error(GT_ERR_FORMAT, "npy_load: '%s': malformed header: %s", ps->path,
                        what);
}

static void skip_space(npy_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
                               *ps->p == '\r'))
        ps->p++;
}

/* Skips whitespace, then consumes `c` if it is next. */
static bool accept(npy_parser *ps, char c) {
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

/* Skips whitespace; true when `c` is next (it is not consumed). */
static bool peek(npy_parser *ps, char c) {
    skip_space(ps);
    return ps->p < ps->end && *ps->p == c;
}

/* A quoted Python string ('...' or "...") without escapes, copied into out. */
static gt_status parse_string(npy_parser *ps, char *out, size_t size) {
    skip_space(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return malformed(ps, "expected a quoted string");
    char quote = *ps->p++;
    size_t len = 0;
    while (ps->p < ps->end && *ps->p != quote) {
        if (len + 1 < size)
            out[len++] = *ps->p;
        ps->p++;
    }
    out[len] = '\0';
    if (ps->p >= ps->end)
        return malformed(ps, "unterminated string");
    ps->p++;
    return GT_OK;
}

static gt_status parse_bool(npy_parser *ps, bool *out) {
    skip_space(ps);
    size_t left = (size_t)(ps->end - ps->p);
    if (left >= 4 && memcmp(ps->p, "True", 4) == 0) {
        *out = true;
        ps->p += 4;
    } else if (left >= 5 && memcmp(ps->p, "False", 5) == 0) {
        *out = false;
        ps->p += 5;
    } else {
        return malformed(ps, "fortran_order is neither True nor False");
    }
    return GT_OK;
}

/* A non-negative decimal integer (an old 'L' suffix is allowed). */
static gt_status parse_size(npy_parser *ps, int64_t *out) {
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '-')
        return gt_set_error(GT_ERR_FORMAT, "npy_load: '%s': negative size in shape",
                            ps->path);
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
        return malformed(ps, "expected an integer in shape");
    int64_t value = 0;
    for (; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; ps->p++) {
        int digit = *ps->p - '0';
        if (value > (INT64_MAX - digit) / 10)
            return gt_set_error(GT_ERR_FORMAT, "npy_load: '%s': size in shape overflows",
                                ps->path);
        value = value * 10 + digit;
    }
    if (ps->p < ps->end && *ps->p == 'L')
        ps->p++;
    *out = value;
    return GT_OK;
}

/* A tuple of sizes: (), (5,), (3, 4) or (3, 4,). */
static gt_status parse_shape(npy_parser *ps, npy_header *h) {
    if (!accept(ps, '('))
        return malformed(ps, "shape is not a tuple");
    h->ndim = 0;
    while (!accept(ps, ')')) {
        if (h->ndim == GT_MAX_DIMS)
            return gt_set_error(GT_ERR_FORMAT, "npy_load: '%s': rank exceeds %d",
                                ps->path, GT_MAX_DIMS);
        gt_status status = parse_size(ps, &h->shape[h->ndim++]);
        if (status != GT_OK)
            return status;
        if (!accept(ps, ',') && !peek(ps, ')'))
            return malformed(ps, "expected ',' or ')' in shape");
    }
    return GT_OK;
}

static gt_status parse_entry(npy_parser *ps, npy_header *h) {
    char key[32];
    gt_status status = parse_string(ps, key, sizeof key);
    if (status != GT_OK)
        return status;
    if (!accept(ps, ':'))
        return malformed(ps, "expected ':' after a key");
    bool *seen = strcmp(key, "descr") == 0           ? &h->has_descr
                 : strcmp(key, "fortran_order") == 0 ? &h->has_fortran
                 : strcmp(key, "shape") == 0         ? &h->has_shape
                                                     : NULL;
    if (!seen || *seen)
        return malformed(ps, seen ? "duplicate key" : "unknown key");
    *seen = true;
    if (seen == &h->has_fortran)
        return parse_bool(ps, &h->fortran_order);
    if (seen == &h->has_shape)
        return parse_shape(ps, h);
    if (accept(ps, '['))
        return gt_set_error(GT_ERR_UNSUPPORTED,
                            "npy_load: '%s': structured dtypes are not supported", ps->path);
    return parse_string(ps, h->descr, sizeof h->descr);
}

/* The whole dict: {'key': value, ...} in any key order, then only whitespace. */
static gt_status parse_header(npy_parser *ps, npy_header *h) {
    if (!accept(ps, '{'))
        return malformed(ps, "expected '{'");
    while (!accept(ps, '}')) {
        gt_status status = parse_entry(ps, h);
        if (status != GT_OK)
            return status;
        if (!accept(ps, ',') && !peek(ps, '}'))
            return malformed(ps, "expected ',' or '}'");
    }
    skip_space(ps);
    if (ps->p != ps->end)
        return malformed(ps, "text after the dict");
    if (!h->has_descr || !h->has_fortran || !h->has_shape)
        return malformed(ps, "missing 'descr', 'fortran_order' or 'shape'");
    return GT_OK;
}

/* ---- dtypes and data ------------------------------------------------------------------- */

static gt_status find_dtype(const char *path, const char *descr, const npy_dtype **out) {
    char order = descr[0];
    bool known_order = order != '\0' && strchr("<|=>", order);
    for (size_t i = 0; known_order && i < sizeof NPY_DTYPES / sizeof NPY_DTYPES[0]; i++) {
        if (strcmp(descr + 1, NPY_DTYPES[i].code) != 0)
            continue;
        if (order == '>' && NPY_DTYPES[i].size > 1)
            return gt_set_error(GT_ERR_UNSUPPORTED,
                                "npy_load: '%s': big-endian data ('%s') is not supported",
                                path, descr);
        *out = &NPY_DTYPES[i];
        return GT_OK;
    }
    return gt_set_error(GT_ERR_UNSUPPORTED, "npy_load: '%s': dtype '%s' is not supported",
                        path, descr);
}

static gt_real convert(const unsigned char *bytes, const npy_dtype *d) {
    union {
        float f4;
        double f8;
        int8_t i1;
        int16_t i2;
        int32_t i4;
        int64_t i8;
        uint8_t u1;
        uint16_t u2;
        uint32_t u4;
        uint64_t u8;
    } v;
    memcpy(&v, bytes, d->size);
    switch (d->kind) {
    case NPY_FLOAT: return d->size == 4 ? (gt_real)v.f4 : (gt_real)v.f8;
    case NPY_BOOL: return v.u1 != 0;
    case NPY_INT:
        return d->size == 1   ? (gt_real)v.i1
               : d->size == 2 ? (gt_real)v.i2
               : d->size == 4 ? (gt_real)v.i4
                              : (gt_real)v.i8;
    case NPY_UINT:
        return d->size == 1   ? (gt_real)v.u1
               : d->size == 2 ? (gt_real)v.u2
               : d->size == 4 ? (gt_real)v.u4
                              : (gt_real)v.u8;
    }
    return 0;
}

static gt_status read_data(FILE *f, const char *path, const npy_dtype *d, gt_tensor *t) {
    unsigned char chunk[NPY_CHUNK];
    size_t per_chunk = NPY_CHUNK / d->size;
    for (int64_t done = 0; done < t->numel;) {
        size_t n = (size_t)(t->numel - done) < per_chunk ? (size_t)(t->numel - done)
                                                         : per_chunk;
        if (fread(chunk, d->size, n, f) != n)
            return gt_set_error(GT_ERR_IO, "npy_load: '%s': read failed", path);
        for (size_t i = 0; i < n; i++)
            t->data[done + (int64_t)i] = convert(chunk + i * d->size, d);
        done += (int64_t)n;
    }
    return GT_OK;
}

/* ---- loading --------------------------------------------------------------------------- */

/* Bytes left in the file after the current position. */
static int64_t bytes_left(FILE *f, int64_t file_size) { return file_size - ftell(f); }

/* Reads n header bytes, failing with "truncated header" when the file has fewer. */
static gt_status read_exact(FILE *f, const char *path, int64_t file_size, void *buf,
                            size_t n, const char *what) {
    int64_t left = bytes_left(f, file_size);
    if (left < (int64_t)n)
        return gt_set_error(GT_ERR_FORMAT,
                            "npy_load: '%s': truncated header: expected %zu bytes of %s, "
                            "found %" PRId64, path, n, what, left < 0 ? 0 : left);
    if (fread(buf, 1, n, f) != n)
        return gt_set_error(GT_ERR_IO, "npy_load: '%s': read failed", path);
    return GT_OK;
}

/* Reads magic, version and header length; leaves f at the start of the dict. */
static gt_status read_preamble(FILE *f, const char *path, int64_t file_size,
                               size_t *header_len) {
    unsigned char pre[12];
    gt_status status = read_exact(f, path, file_size, pre, 8, "preamble");
    if (status != GT_OK)
        return status;
    if (memcmp(pre, NPY_MAGIC, sizeof NPY_MAGIC) != 0)
        return gt_set_error(GT_ERR_FORMAT, "npy_load: '%s': not a .npy file (bad magic)",
                            path);
    if (pre[6] < 1 || pre[6] > 3)
        return gt_set_error(GT_ERR_UNSUPPORTED,
                            "npy_load: '%s': format version %d.%d is not supported", path,
                            pre[6], pre[7]);
    size_t len_bytes = pre[6] == 1 ? 2 : 4;
    status = read_exact(f, path, file_size, pre + 8, len_bytes, "preamble");
    if (status != GT_OK)
        return status;
    uint32_t len = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    if (len_bytes == 4)
        len |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    if (len > NPY_MAX_HEADER)
        return gt_set_error(GT_ERR_FORMAT,
                            "npy_load: '%s': header length %" PRIu32
                            " exceeds the limit of %d bytes",
                            path, len, NPY_MAX_HEADER);
    *header_len = len;
    return GT_OK;
}

static gt_status read_header(FILE *f, const char *path, int64_t file_size, npy_header *h) {
    size_t len = 0;
    gt_status status = read_preamble(f, path, file_size, &len);
    if (status != GT_OK)
        return status;
    char *text = gt_malloc(len, "npy_load");
    if (!text)
        return gt_set_error(GT_ERR_NOMEM, "npy_load: '%s': cannot allocate %zu bytes for the "
                            "header", path, len);
    status = read_exact(f, path, file_size, text, len, "header dict");
    if (status == GT_OK) {
        npy_parser ps = {text, text + len, path};
        status = parse_header(&ps, h);
    }
    gt_free(text);
    return status;
}

/* Checks the header against the bytes the file still holds, then reads the data. */
static gt_tensor *load_body(FILE *f, const char *path, int64_t file_size,
                            const npy_header *h) {
    const npy_dtype *dtype = NULL;
    if (find_dtype(path, h->descr, &dtype) != GT_OK)
        return NULL;
    if (h->fortran_order) {
        gt_set_error(GT_ERR_UNSUPPORTED,
                     "npy_load: '%s': Fortran-ordered arrays are not supported", path);
        return NULL;
    }
    int64_t numel = gt_shape_numel(h->ndim, h->shape);
    if (numel < 0 || numel > INT64_MAX / (int64_t)dtype->size) {
        gt_set_error(GT_ERR_FORMAT, "npy_load: '%s': shape overflows", path);
        return NULL;
    }
    int64_t expected = numel * (int64_t)dtype->size, found = bytes_left(f, file_size);
    if (found < expected) {
        gt_set_error(GT_ERR_FORMAT,
                     "npy_load: '%s': truncated: expected %" PRId64
                     " data bytes, found %" PRId64, path, expected, found);
        return NULL;
    }
    gt_tensor *t = gt_empty(h->ndim, h->shape);
    if (!t) {
        char reason[512];
        snprintf(reason, sizeof reason, "%s", gt_last_error());
        gt_set_error(gt_last_status(), "npy_load: '%s': %s", path, reason);
        return NULL;
    }
    if (read_data(f, path, dtype, t) != GT_OK) {
        gt_tensor_free(t);
        return NULL;
    }
    return t;
}

gt_tensor *gt__npy_read(FILE *f, const char *name, int64_t size) {
    npy_header h = {0};
    return read_header(f, name, size, &h) == GT_OK ? load_body(f, name, size, &h) : NULL;
}

gt_tensor *gt_npy_load(const char *path) {
    if (!path) {
        gt_set_error(GT_ERR_ARG, "npy_load: path is NULL");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        gt_set_error(GT_ERR_IO, "npy_load: cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    gt_tensor *t = NULL;
    struct stat st;
    npy_header h = {0};
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        gt_set_error(GT_ERR_IO, "npy_load: '%s' is not a readable regular file", path);
    else if (read_header(f, path, (int64_t)st.st_size, &h) == GT_OK)
        t = load_body(f, path, (int64_t)st.st_size, &h);
    fclose(f);
    return t;
}

/* ---- saving ---------------------------------------------------------------------------- */

/* The v1.0 preamble (magic, version, length, dict, padding, '\n'); returns its length. */
size_t gt__npy_preamble(const gt_tensor *t, char out[GT__NPY_PREAMBLE_MAX]) {
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '<%s', 'fortran_order': False, 'shape': (",
                     sizeof(gt_real) == 4 ? "f4" : "f8");
    for (int i = 0; i < t->ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%" PRId64, i ? ", " : "",
                      t->shape[i]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", t->ndim == 1 ? "," : "");
    size_t total = (10 + (size_t)n + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    GT_ASSERT(total <= NPY_SAVE_PREAMBLE);
    size_t header_len = total - 10;
    memcpy(out, NPY_MAGIC, sizeof NPY_MAGIC);
    out[6] = 1;
    out[7] = 0;
    out[8] = (char)(header_len & 0xff);
    out[9] = (char)(header_len >> 8);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', header_len - (size_t)n - 1);
    out[total - 1] = '\n';
    return total;
}

gt_status gt_npy_save(const char *path, const gt_tensor *t) {
    if (!path || !t)
        return gt_set_error(GT_ERR_ARG, "npy_save: %s is NULL", path ? "tensor" : "path");
    char preamble[NPY_SAVE_PREAMBLE];
    size_t pre_len = gt__npy_preamble(t, preamble);
    gt_atomic_file af;
    gt_status status = gt_atomic_file_open(&af, path, "npy_save");
    if (status != GT_OK)
        return status;
    if (fwrite(preamble, 1, pre_len, af.file) == pre_len)
        fwrite(t->data, sizeof(gt_real), (size_t)t->numel, af.file);
    return gt_atomic_file_commit(&af);
}
