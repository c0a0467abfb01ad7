/* driver.c - runs a fuzz harness without libFuzzer: every file of the folders given (its
 * corpus and its regressions) once, in name order, so that every input that ever crashed
 * stays a test of the normal and sanitizer builds. Fails when no input was found at all. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The whole file, or NULL; *size receives its length. */
static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t cap = 0;
    *size = 0;
    for (;;) {
        if (*size == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        size_t n = fread(data + *size, 1, cap - *size, f);
        *size += n;
        if (n == 0)
            break;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(data);
        return NULL;
    }
    return data;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every file of `dir` whose name does not start with '.'; returns how many, -1 when a
 * file cannot be read. */
static int run_folder(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    int ran = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t size;
        uint8_t *data = read_file(path, &size);
        if (!data) {
            fprintf(stderr, "driver: cannot read %s\n", path);
            ran = -1;
            break;
        }
        fprintf(stderr, "running %s (%zu bytes)\n", path, size);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        ran++;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ran;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FOLDER...\n", argv[0]);
        return 2;
    }
    /* Absolute names first: a harness may change the working directory when it starts. */
    char **folders = calloc((size_t)argc, sizeof *folders);
    for (int i = 1; i < argc; i++)
        folders[i] = realpath(argv[i], NULL);
    LLVMFuzzerInitialize(&argc, &argv);
    int total = 0;
    for (int i = 1; i < argc && total >= 0; i++) {
        int ran = folders[i] ? run_folder(folders[i]) : 0;
        total = ran < 0 ? -1 : total + ran;
        free(folders[i]);
    }
    free(folders);
    fprintf(stderr, "%d inputs ran without a crash\n", total);
    return total > 0 ? 0 : 1;
}
