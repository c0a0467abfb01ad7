/* checkpoint.c - named tensors with a model's kind and configuration in one CRC-checked file. */
#define _POSIX_C_SOURCE 200809L

#include "gt_checkpoint.h"
#include "gt_tensor_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static const unsigned char ckpt_magic[8] = {'G', 'T', 'C', 'K', 'P', 'T', 0, 0};
#define CKPT_VERSION 2u                 /* 2 adds text entries; files without any are 1 */
#define CKPT_MAX_TEXTS 64               /* text entries */
#define CKPT_MAX_TEXT 65536             /* bytes of one text */
#define CKPT_MAX_NAME 255               /* bytes of a kind, key or tensor name */
#define CKPT_MAX_CONFIG 4096            /* config entries */
#define CKPT_MAX_TENSORS 65536          /* tensors */
#define CKPT_MAX_BYTES ((int64_t)1 << 31) /* a whole file */
#define CKPT_WHY 200                    /* room for what is wrong with a file */
#define CKPT_DTYPE_F32 1u
#define CKPT_DTYPE_F64 2u
#ifdef GT_REAL_DOUBLE
#define CKPT_DTYPE_REAL CKPT_DTYPE_F64
#else
#define CKPT_DTYPE_REAL CKPT_DTYPE_F32
#endif

/* ---- little-endian encoding -------------------------------------------------------- */

static void le_put(unsigned char *b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t le_get(const unsigned char *b, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static double decode_value(const unsigned char *b, uint32_t dtype) {
    if (dtype == CKPT_DTYPE_F32) {
        uint32_t bits = (uint32_t)le_get(b, 4);
        float v;
        memcpy(&v, &bits, sizeof v);
        return v;
    }
    uint64_t bits = le_get(b, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* ---- saving ------------------------------------------------------------------------ */

typedef struct ckpt_writer {
    FILE *file;
    uLong crc;
    bool ok;
} ckpt_writer;

static void put_bytes(ckpt_writer *w, const void *bytes, size_t n) {
    if (!w->ok || n == 0)
        return;
    if (fwrite(bytes, 1, n, w->file) != n) {
        w->ok = false;
        return;
    }
    w->crc = crc32(w->crc, bytes, (uInt)n);
}

static void put_uint(ckpt_writer *w, uint64_t v, int bytes) {
    unsigned char b[8];
    le_put(b, v, bytes);
    put_bytes(w, b, (size_t)bytes);
}

static void put_string(ckpt_writer *w, const char *s) {
    put_uint(w, strlen(s), 2);
    put_bytes(w, s, strlen(s));
}

// t[numel] of gt_real -> numel little-endian f32 or f64, in chunks of 4 KiB
static void put_data(ckpt_writer *w, const gt_tensor *t) {
    unsigned char chunk[4096];
    size_t used = 0;
    const gt_real *data = gt_tensor_cdata(t);
    for (int64_t i = 0; i < gt_tensor_numel(t); i++) {
#ifdef GT_REAL_DOUBLE
        uint64_t bits;
#else
        uint32_t bits;
#endif
        memcpy(&bits, &data[i], sizeof bits);
        le_put(chunk + used, bits, (int)sizeof bits);
        used += sizeof bits;
        if (used == sizeof chunk) {
            put_bytes(w, chunk, used);
            used = 0;
        }
    }
    put_bytes(w, chunk, used);
}

static gt_status check_name(const char *path, const char *what, const char *name) {
    if (!name)
        return gt_set_error(GT_ERR_ARG, "%s: %s is NULL", path, what);
    size_t len = strlen(name);
    if (len == 0 || len > CKPT_MAX_NAME)
        return gt_set_error(GT_ERR_ARG, "%s: %s '%.40s' must have 1..%d bytes", path, what,
                            name, CKPT_MAX_NAME);
    return GT_OK;
}

static gt_status check_texts(const char *path, const gt_ckpt_text *texts, int n_texts) {
    if (n_texts < 0 || n_texts > CKPT_MAX_TEXTS || (n_texts && !texts))
        return gt_set_error(GT_ERR_ARG, "%s: %d text entries (at most %d, texts not NULL)",
                            path, n_texts, CKPT_MAX_TEXTS);
    gt_status st = GT_OK;
    for (int i = 0; st == GT_OK && i < n_texts; i++) {
        st = check_name(path, "text key", texts[i].key);
        if (st == GT_OK && (!texts[i].text || strlen(texts[i].text) > CKPT_MAX_TEXT))
            st = gt_set_error(GT_ERR_ARG, "%s: text '%s' must be a string of at most %d bytes",
                              path, texts[i].key, CKPT_MAX_TEXT);
        for (int j = 0; st == GT_OK && j < i; j++)
            if (strcmp(texts[i].key, texts[j].key) == 0)
                st = gt_set_error(GT_ERR_ARG, "%s: text key '%s' appears twice", path,
                                  texts[i].key);
    }
    return st;
}

static gt_status check_save_args(const char *path, const char *kind,
                                 const gt_ckpt_config *config, int n_config,
                                 const gt_ckpt_entry *entries, int n_entries) {
    if (n_config < 0 || n_config > CKPT_MAX_CONFIG || (n_config && !config))
        return gt_set_error(GT_ERR_ARG, "%s: %d config entries (at most %d, config not NULL)",
                            path, n_config, CKPT_MAX_CONFIG);
    if (n_entries < 0 || n_entries > CKPT_MAX_TENSORS || (n_entries && !entries))
        return gt_set_error(GT_ERR_ARG, "%s: %d tensors (at most %d, entries not NULL)", path,
                            n_entries, CKPT_MAX_TENSORS);
    gt_status st = check_name(path, "kind", kind);
    for (int i = 0; st == GT_OK && i < n_config; i++) {
        st = check_name(path, "config key", config[i].key);
        for (int j = 0; st == GT_OK && j < i; j++)
            if (strcmp(config[i].key, config[j].key) == 0)
                st = gt_set_error(GT_ERR_ARG, "%s: config key '%s' appears twice", path,
                                  config[i].key);
    }
    for (int i = 0; st == GT_OK && i < n_entries; i++) {
        st = check_name(path, "tensor name", entries[i].name);
        if (st == GT_OK && !entries[i].tensor)
            st = gt_set_error(GT_ERR_ARG, "%s: tensor '%s' is NULL", path, entries[i].name);
        for (int j = 0; st == GT_OK && j < i; j++)
            if (strcmp(entries[i].name, entries[j].name) == 0)
                st = gt_set_error(GT_ERR_ARG, "%s: tensor name '%s' appears twice", path,
                                  entries[i].name);
    }
    return st;
}

static uint32_t header_bytes(const char *kind, const gt_ckpt_config *config, int n_config,
                             const gt_ckpt_text *texts, int n_texts) {
    size_t bytes = 2 + strlen(kind) + 4 + 4;
    for (int i = 0; i < n_config; i++)
        bytes += 2 + strlen(config[i].key) + 8;
    if (n_texts)
        bytes += 4;
    for (int i = 0; i < n_texts; i++)
        bytes += 2 + strlen(texts[i].key) + 4 + strlen(texts[i].text);
    return (uint32_t)bytes; /* <= 2 + 255 + 8 + 4096 * 265 + 4 + 64 * (261 + 65536) */
}

/* Version 1 when there are no texts: the bytes an older build writes and reads. */
static void write_checkpoint(ckpt_writer *w, const char *kind, const gt_ckpt_config *config,
                             int n_config, const gt_ckpt_text *texts, int n_texts,
                             const gt_ckpt_entry *entries, int n_entries) {
    put_bytes(w, ckpt_magic, sizeof ckpt_magic);
    put_uint(w, n_texts ? 2 : 1, 4);
    put_uint(w, header_bytes(kind, config, n_config, texts, n_texts), 4);
    put_string(w, kind);
    put_uint(w, (uint32_t)n_config, 4);
    for (int i = 0; i < n_config; i++) {
        put_string(w, config[i].key);
        put_uint(w, (uint64_t)config[i].value, 8);
    }
    if (n_texts)
        put_uint(w, (uint32_t)n_texts, 4);
    for (int i = 0; i < n_texts; i++) {
        put_string(w, texts[i].key);
        put_uint(w, strlen(texts[i].text), 4);
        put_bytes(w, texts[i].text, strlen(texts[i].text));
    }
    put_uint(w, (uint32_t)n_entries, 4);
    for (int i = 0; i < n_entries; i++) {
        const gt_tensor *t = entries[i].tensor;
        put_string(w, entries[i].name);
        put_uint(w, (uint32_t)gt_tensor_ndim(t), 4);
        for (int d = 0; d < gt_tensor_ndim(t); d++)
            put_uint(w, (uint64_t)gt_tensor_shape(t)[d], 8);
        put_uint(w, CKPT_DTYPE_REAL, 4);
        put_data(w, t);
    }
    unsigned char crc[4];
    le_put(crc, w->crc, 4);
    if (w->ok && fwrite(crc, 1, sizeof crc, w->file) != sizeof crc)
        w->ok = false;
}

/* Written through gt_atomic_file (tensor/atomic_file.c): the checkpoint at `path` is
 * either the old one or the new one, never half of either. */
gt_status gt_checkpoint_save(const char *path, const char *kind, const gt_ckpt_config *config,
                             int n_config, const gt_ckpt_entry *entries, int n_entries) {
    return gt_checkpoint_save_texts(path, kind, config, n_config, NULL, 0, entries, n_entries);
}

gt_status gt_checkpoint_save_texts(const char *path, const char *kind,
                                   const gt_ckpt_config *config, int n_config,
                                   const gt_ckpt_text *texts, int n_texts,
                                   const gt_ckpt_entry *entries, int n_entries) {
    if (!path)
        return gt_set_error(GT_ERR_ARG, "checkpoint_save: path is NULL");
    gt_status st = check_save_args(path, kind, config, n_config, entries, n_entries);
    if (st == GT_OK)
        st = check_texts(path, texts, n_texts);
    if (st != GT_OK)
        return st;
    gt_atomic_file af;
    st = gt_atomic_file_open(&af, path, "checkpoint_save");
    if (st != GT_OK)
        return st;
    ckpt_writer w = {af.file, crc32(0L, Z_NULL, 0), true};
    write_checkpoint(&w, kind, config, n_config, texts, n_texts, entries, n_entries);
    return gt_atomic_file_commit(&af);
}

/* ---- reading and verifying --------------------------------------------------------- */

typedef struct ckpt_cursor {
    const unsigned char *bytes;
    size_t pos, end;
} ckpt_cursor;

static const unsigned char *take(ckpt_cursor *c, size_t n) {
    if (c->end - c->pos < n)
        return NULL;
    c->pos += n;
    return c->bytes + c->pos - n;
}

static bool take_uint(ckpt_cursor *c, int bytes, uint64_t *v) {
    const unsigned char *b = take(c, (size_t)bytes);
    if (b)
        *v = le_get(b, bytes);
    return b != NULL;
}

typedef struct ckpt_string {
    const char *text; /* not NUL-terminated */
    int len;
} ckpt_string;

typedef struct ckpt_tensor {
    ckpt_string name;
    int ndim;
    int64_t dims[GT_MAX_DIMS];
    int64_t numel;
    uint32_t dtype;
    const unsigned char *data;
} ckpt_tensor;

typedef struct ckpt_file {
    const char *path;
    unsigned char *bytes;
    size_t size;
    uint32_t version;
    ckpt_string kind;
    uint32_t n_config, n_texts, n_tensors;
    size_t config_at, texts_at, tensors_at; /* offsets of the first entry of each list */
} ckpt_file;

typedef enum { PARSE_OK, PARSE_SHORT, PARSE_BAD } parse_result;

static parse_result take_string(ckpt_cursor *c, ckpt_string *s, char *why, size_t size,
                                const char *what) {
    uint64_t len;
    if (!take_uint(c, 2, &len))
        return PARSE_SHORT;
    if (len == 0 || len > CKPT_MAX_NAME) {
        snprintf(why, size, "%s of %d bytes (1..%d allowed)", what, (int)len, CKPT_MAX_NAME);
        return PARSE_BAD;
    }
    const unsigned char *text = take(c, (size_t)len);
    if (!text)
        return PARSE_SHORT;
    *s = (ckpt_string){(const char *)text, (int)len};
    /* Names are C strings in the API: one with a NUL byte could be neither asked for nor
     * written by gt_checkpoint_save. */
    if (memchr(text, 0, (size_t)len)) {
        snprintf(why, size, "%s '%.*s...' holds a NUL byte", what, s->len, s->text);
        return PARSE_BAD;
    }
    return PARSE_OK;
}

static parse_result take_config(ckpt_cursor *c, ckpt_string *key, int64_t *value, char *why,
                                size_t size) {
    parse_result r = take_string(c, key, why, size, "a config key");
    uint64_t bits;
    if (r == PARSE_OK && !take_uint(c, 8, &bits))
        r = PARSE_SHORT;
    if (r == PARSE_OK)
        *value = (int64_t)bits;
    return r;
}

static parse_result take_tensor(ckpt_cursor *c, ckpt_tensor *t, char *why, size_t size) {
    parse_result r = take_string(c, &t->name, why, size, "a tensor name");
    uint64_t ndim, dim, dtype;
    if (r != PARSE_OK)
        return r;
    if (!take_uint(c, 4, &ndim))
        return PARSE_SHORT;
    if (ndim > GT_MAX_DIMS) {
        snprintf(why, size, "tensor '%.*s' has rank %llu (at most %d)", t->name.len,
                 t->name.text, (unsigned long long)ndim, GT_MAX_DIMS);
        return PARSE_BAD;
    }
    t->ndim = (int)ndim;
    for (int d = 0; d < t->ndim; d++) {
        if (!take_uint(c, 8, &dim))
            return PARSE_SHORT;
        t->dims[d] = (int64_t)dim;
    }
    t->numel = gt_shape_numel(t->ndim, t->dims);
    if (!take_uint(c, 4, &dtype))
        return PARSE_SHORT;
    t->dtype = (uint32_t)dtype;
    if (t->numel < 0 || dtype < CKPT_DTYPE_F32 || dtype > CKPT_DTYPE_F64) {
        snprintf(why, size, "tensor '%.*s' has %s", t->name.len, t->name.text,
                 t->numel < 0 ? "an impossible shape" : "an unknown dtype (1 or 2 allowed)");
        return PARSE_BAD;
    }
    uint64_t width = dtype == CKPT_DTYPE_F32 ? 4 : 8;
    if ((uint64_t)t->numel > (c->end - c->pos) / width)
        return PARSE_SHORT;
    t->data = take(c, (size_t)t->numel * width);
    return PARSE_OK;
}

/* A text entry: u16 key length, key, u32 text length, text (no NUL byte). */
static parse_result take_text(ckpt_cursor *c, ckpt_string *key, ckpt_string *text, char *why,
                              size_t size) {
    parse_result r = take_string(c, key, why, size, "a text key");
    uint64_t len;
    if (r != PARSE_OK)
        return r;
    if (!take_uint(c, 4, &len))
        return PARSE_SHORT;
    if (len > CKPT_MAX_TEXT) {
        snprintf(why, size, "text '%.*s' of %llu bytes (at most %d)", key->len, key->text,
                 (unsigned long long)len, CKPT_MAX_TEXT);
        return PARSE_BAD;
    }
    const unsigned char *bytes = take(c, (size_t)len);
    if (!bytes)
        return PARSE_SHORT;
    *text = (ckpt_string){(const char *)bytes, (int)len};
    if (memchr(bytes, 0, (size_t)len)) {
        snprintf(why, size, "text '%.*s' holds a NUL byte", key->len, key->text);
        return PARSE_BAD;
    }
    return PARSE_OK;
}

static bool string_is(ckpt_string s, const char *text) {
    return strlen(text) == (size_t)s.len && memcmp(s.text, text, (size_t)s.len) == 0;
}

static bool same_string(ckpt_string a, ckpt_string b) {
    return a.len == b.len && memcmp(a.text, b.text, (size_t)a.len) == 0;
}

/* Config keys are unique (a repeated one would be ambiguous); the entries at config_at were
 * walked already. Quadratic, over at most CKPT_MAX_CONFIG keys. */
static parse_result check_unique_keys(const ckpt_file *f, size_t end, char *why, size_t size) {
    ckpt_cursor outer = {f->bytes, f->config_at, end};
    for (uint32_t i = 0; i < f->n_config; i++) {
        ckpt_string key, earlier;
        int64_t value;
        take_config(&outer, &key, &value, why, size);
        ckpt_cursor inner = {f->bytes, f->config_at, end};
        for (uint32_t j = 0; j < i; j++) {
            take_config(&inner, &earlier, &value, why, size);
            if (same_string(key, earlier)) {
                snprintf(why, size, "config key '%.*s' appears twice", key.len, key.text);
                return PARSE_BAD;
            }
        }
    }
    return PARSE_OK;
}

/* A u32 count of at most max entries of `what`. */
static parse_result take_count(ckpt_cursor *c, uint64_t max, const char *what, uint32_t *count,
                               char *why, size_t size) {
    uint64_t n;
    if (!take_uint(c, 4, &n))
        return PARSE_SHORT;
    if (n > max) {
        snprintf(why, size, "%llu %s (at most %llu)", (unsigned long long)n, what,
                 (unsigned long long)max);
        return PARSE_BAD;
    }
    *count = (uint32_t)n;
    return PARSE_OK;
}

/* Walks the header and every tensor descriptor within bytes [0, end). */
static parse_result ckpt_walk(ckpt_file *f, size_t end, char *why, size_t size) {
    ckpt_cursor c = {f->bytes, sizeof ckpt_magic + 4, end};
    uint64_t declared, count, header_start;
    if (!take_uint(&c, 4, &declared))
        return PARSE_SHORT;
    header_start = c.pos;
    parse_result r = take_string(&c, &f->kind, why, size, "a model kind");
    if (r != PARSE_OK)
        return r;
    if ((r = take_count(&c, CKPT_MAX_CONFIG, "config entries", &f->n_config, why, size)) !=
        PARSE_OK)
        return r;
    f->config_at = c.pos;
    for (uint32_t i = 0; i < f->n_config; i++) {
        ckpt_string key;
        int64_t value;
        if ((r = take_config(&c, &key, &value, why, size)) != PARSE_OK)
            return r;
    }
    if (f->version >= 2) {
        if ((r = take_count(&c, CKPT_MAX_TEXTS, "text entries", &f->n_texts, why, size)) !=
            PARSE_OK)
            return r;
        f->texts_at = c.pos;
        for (uint32_t i = 0; i < f->n_texts; i++) {
            ckpt_string key, text, earlier, ignored;
            if ((r = take_text(&c, &key, &text, why, size)) != PARSE_OK)
                return r;
            ckpt_cursor inner = {f->bytes, f->texts_at, end};
            for (uint32_t j = 0; j < i; j++) {
                take_text(&inner, &earlier, &ignored, why, size);
                if (same_string(key, earlier)) {
                    snprintf(why, size, "text key '%.*s' appears twice", key.len, key.text);
                    return PARSE_BAD;
                }
            }
        }
    }
    if (!take_uint(&c, 4, &count))
        return PARSE_SHORT;
    if (c.pos - header_start != declared) {
        snprintf(why, size, "the header declares %llu bytes but holds %zu",
                 (unsigned long long)declared, c.pos - (size_t)header_start);
        return PARSE_BAD;
    }
    if ((r = check_unique_keys(f, end, why, size)) != PARSE_OK)
        return r;
    if (count > CKPT_MAX_TENSORS) {
        snprintf(why, size, "%llu tensors (at most %d)", (unsigned long long)count,
                 CKPT_MAX_TENSORS);
        return PARSE_BAD;
    }
    f->n_tensors = (uint32_t)count;
    f->tensors_at = c.pos;
    for (uint32_t i = 0; i < f->n_tensors; i++) {
        ckpt_tensor t;
        if ((r = take_tensor(&c, &t, why, size)) != PARSE_OK)
            return r;
    }
    if (c.pos != end) {
        snprintf(why, size, "%zu unexpected bytes after the last tensor", end - c.pos);
        return PARSE_BAD;
    }
    return PARSE_OK;
}

static gt_status read_whole_file(const char *path, unsigned char **bytes, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file)
        return gt_set_error(GT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat info;
    gt_status st = GT_OK;
    if (fstat(fileno(file), &info) != 0 || !S_ISREG(info.st_mode))
        st = gt_set_error(GT_ERR_IO, "%s: not a regular file", path);
    else if ((int64_t)info.st_size > CKPT_MAX_BYTES)
        st = gt_set_error(GT_ERR_FORMAT, "%s: %lld bytes, more than a checkpoint may hold "
                          "(%lld)", path, (long long)info.st_size, (long long)CKPT_MAX_BYTES);
    else if (!(*bytes = gt_malloc((size_t)info.st_size, path)))
        st = GT_ERR_NOMEM;
    else if (fread(*bytes, 1, (size_t)info.st_size, file) != (size_t)info.st_size ||
             ferror(file))
        st = gt_set_error(GT_ERR_IO, "%s: cannot read %lld bytes", path,
                          (long long)info.st_size);
    fclose(file);
    if (st != GT_OK) {
        gt_free(*bytes);
        *bytes = NULL;
        return st;
    }
    *size = (size_t)info.st_size;
    return GT_OK;
}

/* Magic, version, structure (every length bounded by the file) and CRC. */
static gt_status ckpt_verify(ckpt_file *f) {
    const char *path = f->path;
    size_t magic_len = sizeof ckpt_magic;
    if (memcmp(f->bytes, ckpt_magic, f->size < magic_len ? f->size : magic_len) != 0)
        return gt_set_error(GT_ERR_FORMAT, "%s: not a gradtape checkpoint (bad magic)", path);
    if (f->size < magic_len + 4)
        return gt_set_error(GT_ERR_FORMAT, "%s: truncated: %zu bytes", path, f->size);
    uint32_t version = (uint32_t)le_get(f->bytes + magic_len, 4);
    if (version > CKPT_VERSION)
        return gt_set_error(GT_ERR_UNSUPPORTED, "%s: version %u is newer than this build (%u)",
                            path, (unsigned)version, CKPT_VERSION);
    if (version == 0)
        return gt_set_error(GT_ERR_FORMAT, "%s: version 0 is not a valid version", path);
    f->version = version;
    char why[CKPT_WHY] = "";
    size_t end = f->size >= magic_len + 8 ? f->size - 4 : magic_len + 4;
    parse_result r = ckpt_walk(f, end, why, sizeof why);
    if (r == PARSE_SHORT || f->size < magic_len + 8)
        return gt_set_error(GT_ERR_FORMAT, "%s: truncated: %zu bytes, less than its header "
                            "and tensors describe", path, f->size);
    uint32_t stored = (uint32_t)le_get(f->bytes + end, 4);
    uint32_t computed = (uint32_t)crc32(crc32(0L, Z_NULL, 0), f->bytes, (uInt)end);
    if (stored != computed)
        return gt_set_error(GT_ERR_FORMAT, "%s: corrupted: CRC mismatch (stored 0x%08x, "
                            "computed 0x%08x)", path, (unsigned)stored, (unsigned)computed);
    if (r == PARSE_BAD)
        return gt_set_error(GT_ERR_FORMAT, "%s: malformed: %s", path, why);
    return GT_OK;
}

static gt_status ckpt_open(const char *path, ckpt_file *f) {
    memset(f, 0, sizeof *f);
    f->path = path;
    gt_status st = read_whole_file(path, &f->bytes, &f->size);
    if (st == GT_OK && (st = ckpt_verify(f)) != GT_OK) {
        gt_free(f->bytes);
        f->bytes = NULL;
    }
    return st;
}

/* The next config entry of a verified file (ckpt_verify walked the same bytes). */
static void next_config(ckpt_cursor *c, ckpt_string *key, int64_t *value) {
    char why[CKPT_WHY];
    *key = (ckpt_string){"", 0};
    *value = 0;
    parse_result r = take_config(c, key, value, why, sizeof why);
    GT_ASSERT(r == PARSE_OK);
    (void)r;
}


/* The file's value of `key`; false when the file has no such key. */
static bool find_config(const ckpt_file *f, const char *key, int64_t *value) {
    ckpt_cursor c = {f->bytes, f->config_at, f->size - 4};
    for (uint32_t i = 0; i < f->n_config; i++) {
        ckpt_string k;
        int64_t v;
        next_config(&c, &k, &v);
        if (string_is(k, key)) {
            *value = v;
            return true;
        }
    }
    return false;
}

/* How many tensors are called `name`; *found receives the first. */
static int find_tensor(const ckpt_file *f, const char *name, ckpt_tensor *found) {
    ckpt_cursor c = {f->bytes, f->tensors_at, f->size - 4};
    char why[CKPT_WHY];
    int matches = 0;
    for (uint32_t i = 0; i < f->n_tensors; i++) {
        ckpt_tensor t;
        if (take_tensor(&c, &t, why, sizeof why) != PARSE_OK)
            break;
        if (string_is(t.name, name) && matches++ == 0)
            *found = t;
    }
    return matches;
}

static gt_status check_kind_and_config(const ckpt_file *f, const char *kind,
                                       const gt_ckpt_config *config, int n_config) {
    if (!string_is(f->kind, kind))
        return gt_set_error(GT_ERR_FORMAT, "%s: holds a '%.*s' model, expected '%s'", f->path,
                            f->kind.len, f->kind.text, kind);
    for (int i = 0; i < n_config; i++) {
        int64_t value;
        if (!find_config(f, config[i].key, &value))
            return gt_set_error(GT_ERR_FORMAT, "%s: config '%s' is missing from the file",
                                f->path, config[i].key);
        if (value != config[i].value)
            return gt_set_error(GT_ERR_FORMAT, "%s: config '%s' is %lld in the file, %lld "
                                "expected", f->path, config[i].key, (long long)value,
                                (long long)config[i].value);
    }
    return GT_OK;
}

static gt_status check_tensor(const ckpt_file *f, const gt_ckpt_entry *entry,
                              ckpt_tensor *found) {
    int matches = find_tensor(f, entry->name, found);
    if (matches == 0)
        return gt_set_error(GT_ERR_FORMAT, "%s: no tensor '%s' in the file", f->path,
                            entry->name);
    if (matches > 1)
        return gt_set_error(GT_ERR_FORMAT, "%s: tensor '%s' appears %d times in the file",
                            f->path, entry->name, matches);
    const gt_tensor *t = entry->tensor;
    if (!gt_shape_equal(found->ndim, found->dims, gt_tensor_ndim(t), gt_tensor_shape(t))) {
        char in_file[160], expected[160];
        return gt_set_error(GT_ERR_SHAPE, "%s: tensor '%s' has shape %s in the file, %s "
                            "expected", f->path, entry->name,
                            gt_shape_str(found->ndim, found->dims, in_file, sizeof in_file),
                            gt_shape_str(gt_tensor_ndim(t), gt_tensor_shape(t), expected,
                                         sizeof expected));
    }
    return GT_OK;
}

static gt_status check_load_args(const char *path, const char *kind,
                                 const gt_ckpt_config *config, int n_config,
                                 const gt_ckpt_entry *entries, int n_entries) {
    if (!kind || n_config < 0 || (n_config && !config) || n_entries < 0 ||
        (n_entries && !entries))
        return gt_set_error(GT_ERR_ARG, "%s: load needs a kind and non-NULL config and "
                            "entries for non-zero counts", path);
    for (int i = 0; i < n_config; i++)
        if (!config[i].key)
            return gt_set_error(GT_ERR_ARG, "%s: config key %d is NULL", path, i);
    for (int i = 0; i < n_entries; i++)
        if (!entries[i].name || !entries[i].tensor)
            return gt_set_error(GT_ERR_ARG, "%s: entry %d has a NULL name or tensor", path, i);
    return GT_OK;
}

gt_status gt_checkpoint_load(const char *path, const char *kind, const gt_ckpt_config *config,
                             int n_config, const gt_ckpt_entry *entries, int n_entries) {
    if (!path)
        return gt_set_error(GT_ERR_ARG, "checkpoint_load: path is NULL");
    gt_status st = check_load_args(path, kind, config, n_config, entries, n_entries);
    ckpt_file f;
    if (st != GT_OK || (st = ckpt_open(path, &f)) != GT_OK)
        return st;
    st = check_kind_and_config(&f, kind, config, n_config);
    ckpt_tensor found;
    for (int i = 0; st == GT_OK && i < n_entries; i++)
        st = check_tensor(&f, &entries[i], &found);
    /* Everything is verified: only now touch the caller's tensors. */
    for (int i = 0; st == GT_OK && i < n_entries; i++) {
        find_tensor(&f, entries[i].name, &found);
        gt_real *data = gt_tensor_data(entries[i].tensor);
        size_t width = found.dtype == CKPT_DTYPE_F32 ? 4 : 8;
        for (int64_t k = 0; k < found.numel; k++)
            data[k] = (gt_real)decode_value(found.data + (size_t)k * width, found.dtype);
    }
    gt_free(f.bytes);
    return st;
}

gt_status gt_checkpoint_peek(const char *path, char *kind, size_t kind_size,
                             gt_ckpt_config *config, int max_config, int *n_config,
                             char *storage, size_t storage_size) {
    if (!path)
        return gt_set_error(GT_ERR_ARG, "checkpoint_peek: path is NULL");
    if (!kind || !n_config || max_config < 0 || (config && max_config && !storage))
        return gt_set_error(GT_ERR_ARG, "%s: peek needs kind, n_config and, with config, "
                            "storage", path);
    ckpt_file f;
    gt_status st = ckpt_open(path, &f);
    if (st != GT_OK)
        return st;
    size_t keys_bytes = 0;
    ckpt_cursor c = {f.bytes, f.config_at, f.size - 4};
    for (uint32_t i = 0; i < f.n_config; i++) {
        ckpt_string key;
        int64_t value;
        next_config(&c, &key, &value);
        keys_bytes += (size_t)key.len + 1;
    }
    if ((size_t)f.kind.len >= kind_size)
        st = gt_set_error(GT_ERR_ARG, "%s: kind '%.*s' needs %d bytes, kind_size is %zu",
                          path, f.kind.len, f.kind.text, f.kind.len + 1, kind_size);
    else if (config && f.n_config > (uint32_t)max_config)
        st = gt_set_error(GT_ERR_ARG, "%s: %u config entries, room for %d", path,
                          (unsigned)f.n_config, max_config);
    else if (config && keys_bytes > storage_size)
        st = gt_set_error(GT_ERR_ARG, "%s: config keys need %zu bytes of storage, %zu given",
                          path, keys_bytes, storage_size);
    if (st == GT_OK) {
        memcpy(kind, f.kind.text, (size_t)f.kind.len);
        kind[f.kind.len] = '\0';
        *n_config = (int)f.n_config;
        c.pos = f.config_at;
        for (uint32_t i = 0; config && i < f.n_config; i++) {
            ckpt_string key;
            next_config(&c, &key, &config[i].value);
            memcpy(storage, key.text, (size_t)key.len);
            storage[key.len] = '\0';
            config[i].key = storage;
            storage += key.len + 1;
        }
    }
    gt_free(f.bytes);
    return st;
}

gt_status gt_checkpoint_get_text(const char *path, const char *key, char *text, size_t size) {
    if (!path || !key || !text || !size)
        return gt_set_error(GT_ERR_ARG, "checkpoint_get_text: needs a path, a key and room for "
                            "the text");
    ckpt_file f;
    gt_status st = ckpt_open(path, &f);
    if (st != GT_OK)
        return st;
    ckpt_cursor c = {f.bytes, f.texts_at, f.size - 4};
    char why[CKPT_WHY];
    bool found = false;
    for (uint32_t i = 0; i < f.n_texts && !found; i++) {
        ckpt_string k, t;
        if (take_text(&c, &k, &t, why, sizeof why) != PARSE_OK)
            break;
        if (!string_is(k, key))
            continue;
        found = true;
        if ((size_t)t.len >= size)
            st = gt_set_error(GT_ERR_ARG, "%s: text '%s' needs %d bytes, %zu given", path, key,
                              t.len + 1, size);
        else {
            memcpy(text, t.text, (size_t)t.len);
            text[t.len] = '\0';
        }
    }
    if (!found)
        st = gt_set_error(GT_ERR_FORMAT, "%s: has no text '%s'", path, key);
    gt_free(f.bytes);
    return st;
}
