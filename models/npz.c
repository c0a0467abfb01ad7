/* npz.c - .npz archives: a zip (PKWARE APPNOTE 6.3) whose members are .npy files. Reading
 * goes by the central directory (the end record, then one header per member, zip64 extra
 * fields for sizes and offsets of 0xFFFFFFFF), checks each local header, inflates deflated
 * members with zlib and checks every CRC-32 before the .npy bytes are parsed. Writing stores
 * members uncompressed, with no zip64 (an archive of at most 4 GiB). */
#define _POSIX_C_SOURCE 200809L

#include "gt_npz.h"
#include "gt_tensor_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define NPZ_MAX_BYTES ((int64_t)1 << 31) /* a whole archive, as a checkpoint */
#define NPZ_MAX_MEMBERS 65536
#define NPZ_MAX_KEY 250
#define NPZ_EOCD_SIZE 22
#define NPZ_CENTRAL_SIZE 46
#define NPZ_LOCAL_SIZE 30
#define NPZ_SIG_LOCAL 0x04034b50u
#define NPZ_SIG_CENTRAL 0x02014b50u
#define NPZ_SIG_END 0x06054b50u
#define NPZ_STORED 0
#define NPZ_DEFLATED 8

struct gt_npz {
    int count;
    char **keys;
    gt_tensor **tensors;
};

static uint64_t le(const unsigned char *b, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

void gt_npz_free(gt_npz *npz) {
    if (!npz)
        return;
    for (int i = 0; i < npz->count; i++) {
        gt_free(npz->keys[i]);
        gt_tensor_free(npz->tensors[i]);
    }
    gt_free(npz->keys);
    gt_free(npz->tensors);
    gt_free(npz);
}

int gt_npz_count(const gt_npz *npz) { return npz ? npz->count : 0; }

const char *gt_npz_key(const gt_npz *npz, int i) {
    return npz && i >= 0 && i < npz->count ? npz->keys[i] : NULL;
}

gt_tensor *gt_npz_tensor(const gt_npz *npz, int i) {
    return npz && i >= 0 && i < npz->count ? npz->tensors[i] : NULL;
}

gt_tensor *gt_npz_find(const gt_npz *npz, const char *key) {
    for (int i = 0; npz && key && i < npz->count; i++)
        if (!strcmp(npz->keys[i], key))
            return npz->tensors[i];
    return NULL;
}

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct npz_member {
    char key[NPZ_MAX_KEY + 1];
    uint32_t method, flags, crc;
    uint64_t packed, size, offset;
} npz_member;

static gt_status bad(const char *path, const char *what) {
    return gt_set_error(GT_ERR_FORMAT, "npz_load: '%s': %s", path, what);
}

static gt_status read_all(const char *path, unsigned char **bytes, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return gt_set_error(GT_ERR_IO, "npz_load: cannot open '%s': %s", path, strerror(errno));
    struct stat info;
    gt_status st = GT_OK;
    *bytes = NULL;
    if (fstat(fileno(f), &info) != 0 || !S_ISREG(info.st_mode))
        st = gt_set_error(GT_ERR_IO, "npz_load: '%s' is not a readable regular file", path);
    else if ((int64_t)info.st_size > NPZ_MAX_BYTES)
        st = bad(path, "larger than 2 GiB");
    else if (!(*bytes = gt_malloc((size_t)info.st_size + 1, "npz_load")))
        st = gt_last_status();
    else if (fread(*bytes, 1, (size_t)info.st_size, f) != (size_t)info.st_size)
        st = gt_set_error(GT_ERR_IO, "npz_load: '%s': read failed", path);
    fclose(f);
    if (st != GT_OK) {
        gt_free(*bytes);
        *bytes = NULL;
    } else {
        *size = (size_t)info.st_size;
    }
    return st;
}

/* The end-of-central-directory record: the last signature within the final 64 KiB + 22. */
static gt_status find_end(const char *path, const unsigned char *b, size_t size,
                          uint64_t *count, uint64_t *cd_size, uint64_t *cd_offset) {
    if (size < NPZ_EOCD_SIZE)
        return bad(path, size >= 4 && le(b, 4) == NPZ_SIG_LOCAL ? "truncated zip archive"
                                                                : "not a zip archive (.npz)");
    size_t lowest = size > NPZ_EOCD_SIZE + 65535 ? size - NPZ_EOCD_SIZE - 65535 : 0;
    for (size_t at = size - NPZ_EOCD_SIZE + 1; at-- > lowest;) {
        if (le(b + at, 4) != NPZ_SIG_END)
            continue;
        if (le(b + at + 4, 2) != 0 || le(b + at + 6, 2) != 0)
            return bad(path, "a zip archive split over several disks");
        *count = le(b + at + 10, 2);
        *cd_size = le(b + at + 12, 4);
        *cd_offset = le(b + at + 16, 4);
        if (*count == 0xFFFF || *cd_offset == 0xFFFFFFFFu || *cd_size == 0xFFFFFFFFu)
            return bad(path, "a zip64 archive (more than 65535 members or 4 GiB): not supported");
        if (*cd_offset > at || *cd_size > at - *cd_offset)
            return bad(path, "the central directory lies outside the file (truncated?)");
        return GT_OK;
    }
    return bad(path, size >= 4 && le(b, 4) == NPZ_SIG_LOCAL ? "truncated zip archive (no end "
               "record)" : "not a zip archive (.npz)");
}

/* Sizes and offset of 0xFFFFFFFF are in the zip64 extra field (id 1), in this order. */
static bool read_zip64(const unsigned char *extra, size_t len, npz_member *m) {
    for (size_t at = 0; at + 4 <= len;) {
        uint64_t id = le(extra + at, 2), n = le(extra + at + 2, 2);
        if (n > len - at - 4)
            return false;
        if (id == 1) {
            const unsigned char *v = extra + at + 4;
            size_t used = 0;
            uint64_t *fields[3] = {&m->size, &m->packed, &m->offset};
            for (int i = 0; i < 3; i++) {
                if (*fields[i] != 0xFFFFFFFFu)
                    continue;
                if (used + 8 > n)
                    return false;
                *fields[i] = le(v + used, 8);
                used += 8;
            }
            return true;
        }
        at += 4 + n;
    }
    return m->size != 0xFFFFFFFFu && m->packed != 0xFFFFFFFFu && m->offset != 0xFFFFFFFFu;
}

/* One central directory header at *at; advances past it. */
static gt_status read_central(const char *path, const unsigned char *b, size_t end, size_t *at,
                              npz_member *m) {
    if (end - *at < NPZ_CENTRAL_SIZE || le(b + *at, 4) != NPZ_SIG_CENTRAL)
        return bad(path, "a broken central directory");
    const unsigned char *h = b + *at;
    m->flags = (uint32_t)le(h + 8, 2);
    m->method = (uint32_t)le(h + 10, 2);
    m->crc = (uint32_t)le(h + 16, 4);
    m->packed = le(h + 20, 4);
    m->size = le(h + 24, 4);
    size_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
    m->offset = le(h + 42, 4);
    if (end - *at - NPZ_CENTRAL_SIZE < name_len + extra_len + comment_len)
        return bad(path, "a broken central directory");
    const char *name = (const char *)h + NPZ_CENTRAL_SIZE;
    if (name_len < 5 || name_len - 4 > NPZ_MAX_KEY || memcmp(name + name_len - 4, ".npy", 4) ||
        memchr(name, 0, name_len)) {
        char msg[NPZ_MAX_KEY + 100];
        snprintf(msg, sizeof msg, "member '%.*s' is not a <key>.npy of at most %d bytes",
                 (int)(name_len > 80 ? 80 : name_len), name, NPZ_MAX_KEY);
        return bad(path, msg);
    }
    memcpy(m->key, name, name_len - 4);
    m->key[name_len - 4] = '\0';
    if (!read_zip64(h + NPZ_CENTRAL_SIZE + name_len, extra_len, m))
        return bad(path, "a broken zip64 extra field");
    *at += NPZ_CENTRAL_SIZE + name_len + extra_len + comment_len;
    return GT_OK;
}

/* Inflates a raw deflate stream into out[size]. */
static bool inflate_member(const unsigned char *in, uint64_t packed, unsigned char *out,
                           uint64_t size) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return false;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)packed;
    z.next_out = out;
    z.avail_out = (uInt)size;
    int r = inflate(&z, Z_FINISH);
    bool ok = r == Z_STREAM_END && z.total_out == size;
    inflateEnd(&z);
    return ok;
}

/* The member's .npy bytes as a tensor. */
static gt_tensor *read_member(const char *path, const unsigned char *b, size_t size,
                              const npz_member *m) {
    char msg[NPZ_MAX_KEY + 160];
    const char *problem = NULL;
    if (m->flags & 1)
        problem = "is encrypted";
    else if (m->method != NPZ_STORED && m->method != NPZ_DEFLATED)
        problem = "is compressed with a method other than deflate";
    else if (m->offset > size || size - m->offset < NPZ_LOCAL_SIZE ||
             le(b + m->offset, 4) != NPZ_SIG_LOCAL)
        problem = "has no local header where the directory says";
    else if (m->size == 0 || m->size > (uint64_t)NPZ_MAX_BYTES ||
             (m->method == NPZ_STORED && m->packed != m->size))
        problem = "has impossible sizes";
    uint64_t data_at = 0;
    if (!problem) {
        const unsigned char *h = b + m->offset;
        data_at = m->offset + NPZ_LOCAL_SIZE + le(h + 26, 2) + le(h + 28, 2);
        if (data_at > size || size - data_at < m->packed)
            problem = "is truncated";
    }
    if (problem) {
        snprintf(msg, sizeof msg, "member '%s.npy' %s", m->key, problem);
        bad(path, msg);
        return NULL;
    }
    unsigned char *inflated = NULL;
    const unsigned char *data = b + data_at;
    if (m->method == NPZ_DEFLATED) {
        inflated = gt_malloc((size_t)m->size, "npz_load");
        if (!inflated)
            return NULL;
        if (!inflate_member(data, m->packed, inflated, m->size)) {
            gt_free(inflated);
            snprintf(msg, sizeof msg, "member '%s.npy' does not inflate to its %llu bytes",
                     m->key, (unsigned long long)m->size);
            bad(path, msg);
            return NULL;
        }
        data = inflated;
    }
    gt_tensor *t = NULL;
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)m->size);
    if (crc != m->crc) {
        snprintf(msg, sizeof msg, "member '%s.npy' is corrupted: CRC mismatch (stored 0x%08x, "
                 "computed 0x%08x)", m->key, (unsigned)m->crc, (unsigned)crc);
        bad(path, msg);
    } else {
        FILE *f = fmemopen((void *)(uintptr_t)data, (size_t)m->size, "rb");
        char name[NPZ_MAX_KEY + 600];
        snprintf(name, sizeof name, "%.500s:%s.npy", path, m->key);
        if (!f)
            gt_set_error(GT_ERR_NOMEM, "npz_load: '%s': cannot read from memory", name);
        else
            t = gt__npy_read(f, name, (int64_t)m->size);
        if (f)
            fclose(f);
    }
    gt_free(inflated);
    return t;
}

static gt_status read_members(const char *path, const unsigned char *b, size_t size,
                              gt_npz *npz) {
    uint64_t count = 0, cd_size = 0, cd_offset = 0;
    gt_status st = find_end(path, b, size, &count, &cd_size, &cd_offset);
    if (st != GT_OK)
        return st;
    npz->keys = gt_calloc((size_t)count + 1, sizeof *npz->keys, "npz_load");
    npz->tensors = gt_calloc((size_t)count + 1, sizeof *npz->tensors, "npz_load");
    if (!npz->keys || !npz->tensors)
        return gt_last_status();
    size_t at = (size_t)cd_offset, end = (size_t)(cd_offset + cd_size);
    for (uint64_t i = 0; i < count; i++) {
        npz_member m;
        if ((st = read_central(path, b, end, &at, &m)) != GT_OK)
            return st;
        if (gt_npz_find(npz, m.key)) {
            char msg[NPZ_MAX_KEY + 60];
            snprintf(msg, sizeof msg, "member '%s.npy' appears twice", m.key);
            return bad(path, msg);
        }
        size_t key_len = strlen(m.key) + 1;
        char *key = gt_malloc(key_len, "npz_load");
        if (!key)
            return gt_last_status();
        memcpy(key, m.key, key_len);
        gt_tensor *t = read_member(path, b, size, &m);
        if (!t) {
            gt_free(key);
            return gt_last_status();
        }
        npz->keys[npz->count] = key;
        npz->tensors[npz->count++] = t;
    }
    return GT_OK;
}

gt_npz *gt_npz_load(const char *path) {
    if (!path) {
        gt_set_error(GT_ERR_ARG, "npz_load: path is NULL");
        return NULL;
    }
    unsigned char *bytes = NULL;
    size_t size = 0;
    if (read_all(path, &bytes, &size) != GT_OK)
        return NULL;
    gt_npz *npz = gt_calloc(1, sizeof *npz, "npz_load");
    gt_status st = npz ? read_members(path, bytes, size, npz) : gt_last_status();
    gt_free(bytes);
    if (st != GT_OK) {
        gt_npz_free(npz);
        return NULL;
    }
    return npz;
}

/* ---- writing ------------------------------------------------------------------------------ */

typedef struct npz_writer {
    FILE *file;
    uint64_t offset;
    bool ok;
} npz_writer;

static void put(npz_writer *w, const void *bytes, size_t n) {
    if (w->ok && n && fwrite(bytes, 1, n, w->file) != n)
        w->ok = false;
    w->offset += n;
}

static void put_le(npz_writer *w, uint64_t v, int bytes) {
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, (size_t)bytes);
}

/* The fields local and central headers share: version 2.0, no flags, stored, 1980-01-01. */
static void put_common(npz_writer *w, uint32_t crc, uint64_t size, size_t name_len) {
    put_le(w, 20, 2);
    put_le(w, 0, 2);
    put_le(w, NPZ_STORED, 2);
    put_le(w, 0, 2);      /* time */
    put_le(w, 0x21, 2);   /* date: 1980-01-01 */
    put_le(w, crc, 4);
    put_le(w, size, 4);   /* packed */
    put_le(w, size, 4);   /* size */
    put_le(w, name_len, 2);
    put_le(w, 0, 2);      /* extra */
}

typedef struct npz_entry {
    uint32_t crc;
    uint64_t size, offset;
} npz_entry;

static void write_archive(npz_writer *w, const char *const *keys, const gt_tensor *const *tensors,
                          int n, npz_entry *entries) {
    char name[NPZ_MAX_KEY + 5], preamble[GT__NPY_PREAMBLE_MAX];
    for (int i = 0; i < n; i++) {
        size_t pre = gt__npy_preamble(tensors[i], preamble);
        const gt_real *data = gt_tensor_cdata(tensors[i]);
        size_t bytes = (size_t)gt_tensor_numel(tensors[i]) * sizeof(gt_real);
        uLong crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)preamble, (uInt)pre);
        crc = crc32(crc, (const Bytef *)data, (uInt)bytes);
        entries[i] = (npz_entry){(uint32_t)crc, pre + bytes, w->offset};
        snprintf(name, sizeof name, "%s.npy", keys[i]);
        put_le(w, NPZ_SIG_LOCAL, 4);
        put_common(w, entries[i].crc, entries[i].size, strlen(name));
        put(w, name, strlen(name));
        put(w, preamble, pre);
        put(w, data, bytes); /* gt_real, little-endian on the machines this builds for */
    }
    uint64_t cd_offset = w->offset;
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s.npy", keys[i]);
        put_le(w, NPZ_SIG_CENTRAL, 4);
        put_le(w, 20, 2); /* made by */
        put_common(w, entries[i].crc, entries[i].size, strlen(name));
        put_le(w, 0, 2);  /* comment */
        put_le(w, 0, 2);  /* disk */
        put_le(w, 0, 2);  /* internal attributes */
        put_le(w, 0, 4);  /* external attributes */
        put_le(w, entries[i].offset, 4);
        put(w, name, strlen(name));
    }
    uint64_t cd_size = w->offset - cd_offset;
    put_le(w, NPZ_SIG_END, 4);
    put_le(w, 0, 2);
    put_le(w, 0, 2);
    put_le(w, (uint64_t)n, 2);
    put_le(w, (uint64_t)n, 2);
    put_le(w, cd_size, 4);
    put_le(w, cd_offset, 4);
    put_le(w, 0, 2);
}

static gt_status check_save(const char *path, const char *const *keys,
                            const gt_tensor *const *tensors, int n) {
    if (!path || n < 0 || n > 65535 || (n && (!keys || !tensors)))
        return gt_set_error(GT_ERR_ARG, "npz_save: needs a path and 0..65535 keys and tensors");
    uint64_t total = 22;
    for (int i = 0; i < n; i++) {
        if (!keys[i] || !tensors[i] || !keys[i][0] || strlen(keys[i]) > NPZ_MAX_KEY ||
            strchr(keys[i], '/'))
            return gt_set_error(GT_ERR_ARG, "npz_save: '%s': entry %d needs a tensor and a key "
                                "of 1..%d bytes without '/'", path, i, NPZ_MAX_KEY);
        for (int j = 0; j < i; j++)
            if (!strcmp(keys[i], keys[j]))
                return gt_set_error(GT_ERR_ARG, "npz_save: '%s': key '%s' appears twice", path,
                                    keys[i]);
        total += 2 * (46 + strlen(keys[i]) + 4) + GT__NPY_PREAMBLE_MAX +
                 (uint64_t)gt_tensor_numel(tensors[i]) * sizeof(gt_real);
    }
    if (total >= 0xFFFFFFFFu)
        return gt_set_error(GT_ERR_ARG, "npz_save: '%s': more than 4 GiB (zip64 is not written)",
                            path);
    return GT_OK;
}

gt_status gt_npz_save(const char *path, const char *const *keys, const gt_tensor *const *tensors,
                      int n) {
    gt_status st = check_save(path, keys, tensors, n);
    if (st != GT_OK)
        return st;
    npz_entry *entries = gt_calloc((size_t)n + 1, sizeof *entries, "npz_save");
    if (!entries)
        return gt_last_status();
    gt_atomic_file af; /* the old file stays whole until the new one is complete */
    st = gt_atomic_file_open(&af, path, "npz_save");
    if (st == GT_OK) {
        npz_writer w = {af.file, 0, true};
        write_archive(&w, keys, tensors, n, entries);
        st = gt_atomic_file_commit(&af); /* a failed write fails it, naming the step */
    }
    gt_free(entries);
    return st;
}
