/* test_alloc_fail.c - out of memory at every allocation: for each N, the Nth allocation of a
 * call fails. The call must then report GT_ERR_NOMEM with a message, free whatever it had
 * allocated (live blocks return to the baseline), leave what the caller held as it was, and
 * leave the library usable: the same call without the failure gives the right answer. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"
#include "gt_test_alloc.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Files of the float and double test programs must not collide when ctest runs both. */
#define SCRATCH GT_BINARY_DIR "/alloc_fail_" GT_REAL_NAME

static gt_test_alloc alloc;

static bool same_values(const gt_tensor *a, const gt_tensor *b) {
    return gt_tensor_numel(a) == gt_tensor_numel(b) &&
           memcmp(gt_tensor_cdata(a), gt_tensor_cdata(b),
                  (size_t)gt_tensor_numel(a) * sizeof(gt_real)) == 0;
}

static bool same_grad(gt_tensor *t, const gt_real *expected) {
    return memcmp(gt_tensor_grad(t), expected, (size_t)gt_tensor_numel(t) * sizeof(gt_real)) ==
           0;
}

/* ---- a small LeNet-like network: conv, relu, max-pool, flatten, linear, cross-entropy ---- */

enum { NET_PARAMS = 4 };

typedef struct net {
    gt_tensor *x, *labels;
    gt_tensor *params[NET_PARAMS]; /* conv w [6,1,5,5], conv b [6], fc w [10,864], fc b [10] */
} net;

static net net_new(void) {
    gt_rng rng;
    gt_rng_seed(&rng, 7);
    net n = {
        .x = gt_rand(GT_SHAPE(8, 1, 28, 28), 0, 1, &rng),
        .labels = gt_from_array(GT_SHAPE(8), (const gt_real[]){3, 0, 9, 5, 1, 1, 8, 2}),
        .params = {gt_randn(GT_SHAPE(6, 1, 5, 5), 0, 0.2, &rng),
                   gt_randn(GT_SHAPE(6), 0, 0.1, &rng),
                   gt_randn(GT_SHAPE(10, 864), 0, 0.05, &rng),
                   gt_randn(GT_SHAPE(10), 0, 0.1, &rng)},
    };
    for (int i = 0; i < NET_PARAMS; i++)
        gt_tensor_set_requires_grad(n.params[i], true);
    return n;
}

static void net_free(net *n) {
    gt_tensor_free(n->x);
    gt_tensor_free(n->labels);
    for (int i = 0; i < NET_PARAMS; i++)
        gt_tensor_free(n->params[i]);
}

// x[8,1,28,28] -> conv 5x5 [8,6,24,24] -> relu -> maxpool 2 [8,6,12,12] -> [8,864] -> [8,10]
static gt_tensor *net_loss(gt_tape *tape, const net *n) {
    gt_tensor *h = gt_relu(tape, gt_conv2d(tape, n->x, n->params[0], n->params[1], 1, 0));
    gt_tensor *flat = gt_flatten(tape, gt_maxpool2d(tape, h, 2, 0), 1);
    gt_tensor *logits = gt_linear(tape, flat, n->params[2], n->params[3]);
    return gt_cross_entropy(tape, logits, n->labels);
}

static void net_zero_grad(net *n) {
    for (int i = 0; i < NET_PARAMS; i++)
        gt_tensor_zero_grad(n->params[i]);
}

/* The loss and every parameter's gradient of a run without failures. */
typedef struct reference {
    double loss;
    gt_real *grads[NET_PARAMS];
} reference;

static reference net_reference(net *n) {
    reference ref = {0};
    gt_tape *tape = gt_tape_new();
    gt_tensor *loss = net_loss(tape, n);
    CHECK(loss && gt_backward(tape, loss) == GT_OK);
    ref.loss = gt_tensor_item(loss, 0);
    for (int i = 0; i < NET_PARAMS; i++) {
        size_t bytes = (size_t)gt_tensor_numel(n->params[i]) * sizeof(gt_real);
        ref.grads[i] = malloc(bytes);
        memcpy(ref.grads[i], gt_tensor_grad(n->params[i]), bytes);
    }
    net_zero_grad(n);
    gt_tape_free(tape);
    return ref;
}

static void reference_free(reference *ref) {
    for (int i = 0; i < NET_PARAMS; i++)
        free(ref->grads[i]);
}

/* A fresh tape gives the reference loss and gradients. */
static void check_full_step_matches(net *n, const reference *ref) {
    net_zero_grad(n);
    gt_tape *tape = gt_tape_new();
    gt_tensor *loss = net_loss(tape, n);
    CHECK(loss && gt_backward(tape, loss) == GT_OK);
    CHECK(gt_tensor_item(loss, 0) == ref->loss);
    for (int i = 0; i < NET_PARAMS; i++)
        CHECK(same_grad(n->params[i], ref->grads[i]));
    net_zero_grad(n);
    gt_tape_free(tape);
}

GT_TEST(forward_pass_fails_cleanly_at_every_allocation) {
    gt_test_alloc_install(&alloc);
    net n = net_new();
    reference ref = net_reference(&n);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_test_alloc_fail_nth(&alloc, at);
        gt_tape *tape = gt_tape_new();
        gt_tensor *loss = tape ? net_loss(tape, &n) : NULL;
        bool injected = gt_test_alloc_disarm(&alloc);
        if (!injected) {
            CHECK(loss && gt_tensor_item(loss, 0) == ref.loss);
            gt_tape_free(tape);
            break;
        }
        points++;
        CHECK(!loss);
        CHECK_NOMEM();
        if (tape) { /* the tape that ran out is still usable */
            gt_tape_reset(tape);
            loss = net_loss(tape, &n);
            CHECK(loss && gt_tensor_item(loss, 0) == ref.loss);
            CHECK(loss && gt_backward(tape, loss) == GT_OK);
            for (int i = 0; i < NET_PARAMS; i++)
                CHECK(same_grad(n.params[i], ref.grads[i]));
            net_zero_grad(&n);
        }
        gt_tape_free(tape);
        CHECK(alloc.live == baseline);
    }
    CHECK(points >= 3); /* the tape, and an arena that has to grow */
    reference_free(&ref);
    net_free(&n);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* ---- every case of the op table ------------------------------------------------------ */

/* True when t has no gradient or an all-zero one. */
static bool grad_is_zero(gt_tensor *t) {
    if (!t || !gt_tensor_requires_grad(t))
        return true;
    const gt_real *g = gt_tensor_grad(t);
    for (int64_t i = 0; g && i < gt_tensor_numel(t); i++)
        if (g[i] != 0)
            return false;
    return true;
}

/* One case, forward and backward (of the sum of its output, when it requires a gradient),
 * with each allocation failing in turn: a clean out-of-memory report, nothing leaked, the
 * inputs' gradients untouched; returns the number of allocations walked. */
static int64_t walk_op_case(const gt_op_def *op, const char *text, uint64_t seed) {
    gt_test_op_case c;
    bool made = gt_test_op_case_make(op, text, seed, &c);
    CHECK(made);
    int64_t baseline = alloc.live, at = 1;
    for (; made; at++) {
        gt_test_alloc_fail_nth(&alloc, at);
        gt_tape *tape = gt_tape_new();
        gt_tensor *y = tape ? gt_test_op_case_run(tape, &c, c.in) : NULL;
        gt_tensor *root = y && gt_tensor_requires_grad(y) ? gt_sum(tape, y, GT_ALL_AXES) : NULL;
        gt_status status = root ? gt_backward(tape, root) : GT_OK;
        bool injected = gt_test_alloc_disarm(&alloc);
        bool failed = !y || (gt_tensor_requires_grad(y) && (!root || status != GT_OK));
        if (!injected) {
            if (failed)
                printf("  %s \"%s\": %s\n", op->name, text, gt_last_error());
            CHECK(!failed);
        } else {
            CHECK(failed);
            CHECK_NOMEM();
            for (int k = 0; k < c.n_in; k++)
                CHECK(grad_is_zero(c.in[k]));
        }
        gt_tape_free(tape);
        CHECK(alloc.live == baseline);
        for (int k = 0; k < c.n_in; k++)
            if (c.in[k] && gt_tensor_requires_grad(c.in[k]))
                gt_tensor_zero_grad(c.in[k]);
        if (!injected)
            break;
    }
    gt_test_op_case_free(&c);
    return at - 1;
}

GT_TEST(every_op_of_the_table_fails_cleanly_at_every_allocation) {
    gt_test_alloc_install(&alloc);
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    uint64_t seed = 5000;
    for (int i = 0; i < count; i++) {
        int64_t points = 0;
        for (const char *const *text = ops[i]->cases; text && *text; text++, seed++)
            if (!strstr(*text, "=>"))
                points += walk_op_case(ops[i], *text, seed);
        if (points < 2) /* at least the tape and its arena */
            printf("  %s: only %lld allocations walked\n", ops[i]->name, (long long)points);
        CHECK(points >= 2);
    }
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(failed_backward_leaves_gradients_as_they_were) {
    gt_test_alloc_install(&alloc);
    net n = net_new();
    reference ref = net_reference(&n);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        /* Gradients from an earlier step are already there: a failed backward keeps them. */
        for (int i = 0; i < NET_PARAMS; i++)
            memcpy(gt_tensor_grad(n.params[i]), ref.grads[i],
                   (size_t)gt_tensor_numel(n.params[i]) * sizeof(gt_real));
        gt_tape *tape = gt_tape_new();
        gt_tensor *loss = net_loss(tape, &n);
        CHECK(loss != NULL);
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_backward(tape, loss);
        if (!gt_test_alloc_disarm(&alloc)) {
            CHECK(status == GT_OK);
            gt_tape_free(tape);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        for (int i = 0; i < NET_PARAMS; i++)
            CHECK(same_grad(n.params[i], ref.grads[i]));
        /* Zero the gradients, reset the tape: a whole step gives the reference again. */
        net_zero_grad(&n);
        gt_tape_reset(tape);
        loss = net_loss(tape, &n);
        CHECK(loss && gt_backward(tape, loss) == GT_OK);
        for (int i = 0; i < NET_PARAMS; i++)
            CHECK(same_grad(n.params[i], ref.grads[i]));
        gt_tape_free(tape);
        CHECK(alloc.live == baseline);
        check_full_step_matches(&n, &ref);
    }
    CHECK(points >= 1); /* the gradients need more arena than the forward pass left */
    reference_free(&ref);
    net_free(&n);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(failed_tape_reset_merge_keeps_the_last_error) {
    gt_test_alloc_install(&alloc);
    net n = net_new();
    gt_tape *tape = gt_tape_new();
    /* forward passes until the arena has more than one chunk (one may fit a pass) */
    for (int pass = 0; pass < 8 && gt_tape_get_stats(tape).chunk_allocs <= 1; pass++)
        CHECK(net_loss(tape, &n) != NULL);
    CHECK(gt_tape_get_stats(tape).chunk_allocs > 1); /* the reset will merge chunks */
    CHECK(!gt_matmul(tape, n.x, n.labels)); /* [8,1,28,28] @ [8]: inner sizes differ */
    char message[256];
    snprintf(message, sizeof message, "%s", gt_last_error());
    gt_test_alloc_fail_nth(&alloc, 1);
    gt_tape_reset(tape);
    CHECK(gt_test_alloc_disarm(&alloc));
    CHECK(strcmp(gt_last_error(), message) == 0 && gt_last_status() == GT_ERR_SHAPE);
    CHECK(net_loss(tape, &n) != NULL); /* the old chunks stayed and still serve */
    gt_tape_free(tape);
    net_free(&n);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* ---- files --------------------------------------------------------------------------- */

static void make_scratch(void) { mkdir(SCRATCH, 0755); }

/* No temporary file (NAME.tmp.PID) is left in the scratch folder. */
static bool no_temporary_files(void) {
    DIR *dir = opendir(SCRATCH);
    bool clean = dir != NULL;
    for (struct dirent *e; dir && (e = readdir(dir));)
        clean = clean && !strstr(e->d_name, ".tmp.");
    if (dir)
        closedir(dir);
    return clean;
}

static gt_tensor *filled(int ndim, const int64_t *shape, gt_real first) {
    gt_tensor *t = gt_empty(ndim, shape);
    for (int64_t i = 0; i < gt_tensor_numel(t); i++)
        gt_tensor_data(t)[i] = first + (gt_real)i / 4;
    return t;
}

#define CKPT_PATH SCRATCH "/model.gtc"

static gt_status save_model(gt_tensor *w, gt_tensor *b, int64_t hidden) {
    gt_ckpt_entry entries[] = {{"fc.weight", w}, {"fc.bias", b}};
    gt_ckpt_config config[] = {{"hidden", hidden}, {"layers", 2}};
    return gt_checkpoint_save(CKPT_PATH, "mlp", config, 2, entries, 2);
}

static gt_status load_model(gt_tensor *w, gt_tensor *b, int64_t hidden) {
    gt_ckpt_entry entries[] = {{"fc.weight", w}, {"fc.bias", b}};
    gt_ckpt_config config[] = {{"hidden", hidden}, {"layers", 2}};
    return gt_checkpoint_load(CKPT_PATH, "mlp", config, 2, entries, 2);
}

GT_TEST(checkpoint_save_failing_keeps_the_previous_file) {
    make_scratch();
    gt_test_alloc_install(&alloc);
    gt_tensor *old_w = filled(GT_SHAPE(3, 4), 1), *old_b = filled(GT_SHAPE(3), -1);
    gt_tensor *new_w = filled(GT_SHAPE(3, 4), 100), *new_b = filled(GT_SHAPE(3), 50);
    gt_tensor *w = gt_zeros(GT_SHAPE(3, 4)), *b = gt_zeros(GT_SHAPE(3));
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        CHECK(save_model(old_w, old_b, 3) == GT_OK);
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = save_model(new_w, new_b, 3);
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline && no_temporary_files());
        CHECK(load_model(w, b, 3) == GT_OK);
        if (!injected) {
            CHECK(status == GT_OK && same_values(w, new_w) && same_values(b, new_b));
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK_ERROR_HAS(CKPT_PATH);
        CHECK(same_values(w, old_w) && same_values(b, old_b));
    }
    CHECK(points >= 1);
    gt_tensor *all[] = {old_w, old_b, new_w, new_b, w, b};
    for (int i = 0; i < 6; i++)
        gt_tensor_free(all[i]);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(checkpoint_load_failing_leaves_the_tensors_unchanged) {
    make_scratch();
    gt_test_alloc_install(&alloc);
    gt_tensor *saved_w = filled(GT_SHAPE(3, 4), 1), *saved_b = filled(GT_SHAPE(3), -1);
    CHECK(save_model(saved_w, saved_b, 3) == GT_OK);
    gt_tensor *w = filled(GT_SHAPE(3, 4), 7), *b = filled(GT_SHAPE(3), 7);
    gt_tensor *w_before = gt_tensor_clone(w), *b_before = gt_tensor_clone(b);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = load_model(w, b, 3);
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline);
        if (!injected) {
            CHECK(status == GT_OK && same_values(w, saved_w) && same_values(b, saved_b));
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK_ERROR_HAS(CKPT_PATH);
        CHECK(same_values(w, w_before) && same_values(b, b_before));
    }
    CHECK(points >= 1);
    gt_tensor *all[] = {saved_w, saved_b, w, b, w_before, b_before};
    for (int i = 0; i < 6; i++)
        gt_tensor_free(all[i]);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(checkpoint_peek_failing_writes_nothing) {
    make_scratch();
    gt_test_alloc_install(&alloc);
    gt_tensor *w = filled(GT_SHAPE(3, 4), 1), *b = filled(GT_SHAPE(3), -1);
    CHECK(save_model(w, b, 3) == GT_OK);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        char kind[16] = "untouched", storage[64];
        gt_ckpt_config config[4];
        int n_config = -1;
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_checkpoint_peek(CKPT_PATH, kind, sizeof kind, config, 4,
                                               &n_config, storage, sizeof storage);
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline);
        if (!injected) {
            CHECK(status == GT_OK && !strcmp(kind, "mlp") && n_config == 2);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK(!strcmp(kind, "untouched") && n_config == -1);
    }
    CHECK(points >= 1);
    gt_tensor_free(w);
    gt_tensor_free(b);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

#define NPY_PATH SCRATCH "/x.npy"

GT_TEST(atomic_file_fails_cleanly_at_every_allocation) {
    make_scratch();
    gt_test_alloc_install(&alloc);
    const char *path = SCRATCH "/atomic.txt";
    FILE *f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_test_alloc_fail_nth(&alloc, at);
        gt_atomic_file af;
        gt_status status = gt_atomic_file_open(&af, path, "atomic");
        if (status == GT_OK) {
            fputs("new", af.file);
            status = gt_atomic_file_commit(&af);
        }
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline && no_temporary_files());
        char text[8] = {0};
        f = fopen(path, "r");
        CHECK(f && fread(text, 1, sizeof text - 1, f) == 3);
        fclose(f);
        if (!injected) {
            CHECK(status == GT_OK && !strcmp(text, "new"));
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM && !strcmp(text, "old"));
        CHECK_NOMEM();
        CHECK_ERROR_HAS(path);
    }
    CHECK(points >= 1); /* the temporary file's name */
    remove(path);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(npy_save_and_load_fail_cleanly_at_every_allocation) {
    make_scratch();
    gt_test_alloc_install(&alloc);
    gt_tensor *old_x = filled(GT_SHAPE(2, 3, 5), 0), *new_x = filled(GT_SHAPE(4), 9);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) { /* save: the previous file stays */
        CHECK(gt_npy_save(NPY_PATH, old_x) == GT_OK);
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_npy_save(NPY_PATH, new_x);
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline && no_temporary_files());
        gt_tensor *back = gt_npy_load(NPY_PATH);
        CHECK(back && same_values(back, injected ? old_x : new_x));
        gt_tensor_free(back);
        if (!injected) {
            CHECK(status == GT_OK);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK_ERROR_HAS(NPY_PATH);
    }
    CHECK(gt_npy_save(NPY_PATH, old_x) == GT_OK);
    for (int64_t at = 1;; at++) { /* load */
        gt_test_alloc_fail_nth(&alloc, at);
        gt_tensor *t = gt_npy_load(NPY_PATH);
        bool injected = gt_test_alloc_disarm(&alloc);
        if (!injected) {
            CHECK(t && same_values(t, old_x) && gt_tensor_ndim(t) == 3);
            gt_tensor_free(t);
            break;
        }
        points++;
        CHECK(!t);
        CHECK_NOMEM();
        CHECK_ERROR_HAS(NPY_PATH);
        CHECK(alloc.live == baseline);
    }
    CHECK(points >= 3); /* save's temporary name; load's header and tensor */
    gt_tensor_free(old_x);
    gt_tensor_free(new_x);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* ---- IDX files, MNIST folders and the loader ------------------------------------------- */

static void put_be32(unsigned char *b, uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (24 - 8 * i));
}

/* count images of 3x4 pixels (value i % 256 at i) or count labels (i % 10), raw or gzip. */
static void write_idx(const char *path, bool images, uint32_t count, bool gz) {
    unsigned char buf[512];
    size_t len = 0;
    put_be32(buf, images ? 0x803 : 0x801);
    put_be32(buf + 4, count);
    len = 8;
    if (images) {
        put_be32(buf + 8, 3);
        put_be32(buf + 12, 4);
        len = 16;
    }
    size_t data = images ? count * 12 : count;
    for (size_t i = 0; i < data && len < sizeof buf; i++)
        buf[len++] = (unsigned char)(images ? i % 256 : i % 10);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        CHECK(f && gzwrite(f, buf, (unsigned)len) == (int)len);
        if (f)
            gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(buf, 1, len, f) == len);
        if (f)
            fclose(f);
    }
}

GT_TEST(idx_load_fails_cleanly_at_every_allocation) {
    make_scratch();
    const char *paths[] = {SCRATCH "/images.idx", SCRATCH "/labels.idx.gz"};
    write_idx(paths[0], true, 5, false);
    write_idx(paths[1], false, 7, true);
    gt_test_alloc_install(&alloc);
    int64_t points = 0;
    for (int f = 0; f < 2; f++)
        for (int64_t at = 1;; at++) {
            uint8_t *bytes = (uint8_t *)"untouched";
            int64_t dims[3] = {-1, -1, -1};
            int ndim = -1;
            gt_test_alloc_fail_nth(&alloc, at);
            gt_status status = gt_idx_load(paths[f], &bytes, dims, &ndim);
            bool injected = gt_test_alloc_disarm(&alloc);
            if (!injected) {
                CHECK(status == GT_OK && dims[0] == (f ? 7 : 5) && ndim == (f ? 1 : 3));
                CHECK(bytes && bytes[f ? 6 : 59] == (f ? 6 : 59));
                gt_free(bytes);
                break;
            }
            points++;
            CHECK(status == GT_ERR_NOMEM && bytes == NULL);
            CHECK_NOMEM();
            CHECK_ERROR_HAS(paths[f]);
            CHECK(alloc.live == 0);
        }
    CHECK(points >= 2);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(mnist_load_and_loader_init_fail_cleanly_at_every_allocation) {
    make_scratch();
    write_idx(SCRATCH "/t10k-images-idx3-ubyte", true, 9, false);
    write_idx(SCRATCH "/t10k-labels-idx1-ubyte.gz", false, 9, true);
    gt_test_alloc_install(&alloc);
    int64_t points = 0;
    gt_dataset data;
    for (int64_t at = 1;; at++) {
        memset(&data, 0xab, sizeof data);
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_mnist_load(SCRATCH, GT_SPLIT_TEST, &data);
        if (!gt_test_alloc_disarm(&alloc)) {
            CHECK(status == GT_OK && data.count == 9 && data.classes == 9);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK(data.images == NULL && data.labels == NULL && data.count == 0);
        CHECK(alloc.live == 0);
    }
    int64_t baseline = alloc.live;
    for (int64_t at = 1;; at++) {
        gt_loader loader;
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_loader_init(&loader, &data, 4, true, 1, 0);
        bool injected = gt_test_alloc_disarm(&alloc);
        if (!injected) {
            gt_batch batch;
            gt_loader_start_epoch(&loader);
            int batches = 0;
            while (gt_loader_next(&loader, &batch))
                batches++;
            CHECK(status == GT_OK && batches == 3);
            gt_loader_free(&loader);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK(loader.order == NULL && loader.x_full == NULL && loader.x_tail == NULL);
        CHECK(alloc.live == baseline);
    }
    CHECK(points >= 6); /* images, labels; order, x, y, and the two tail views */
    gt_loader sharded;
    CHECK(gt_loader_init(&sharded, &data, 4, true, 1, 0) == GT_OK);
    baseline = alloc.live;
    for (int64_t at = 1;; at++) { /* a failed gt_loader_shard leaves the loader whole */
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_loader_shard(&sharded, 1, 3);
        if (!gt_test_alloc_disarm(&alloc)) {
            CHECK(status == GT_OK && sharded.shard == 1 && alloc.live == baseline);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
        CHECK(sharded.shard == 0 && sharded.shards == 1 && alloc.live == baseline);
    }
    gt_loader_free(&sharded);
    gt_dataset_free(&data);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* ---- gradient checking ------------------------------------------------------------------ */

static gt_tensor *sum_of_squares(gt_tape *tape, gt_tensor *const *inputs, void *ctx) {
    (void)ctx;
    return gt_sum(tape, gt_mul(tape, inputs[0], inputs[0]), GT_ALL_AXES);
}

/* Every valid case of the op table, forward and backward on a fresh tape, with the Nth
 * allocation failing for every N: an out-of-memory report, nothing leaked, and the run
 * without a failure succeeds. Covers each op's allocation paths (outputs, the backward's
 * copy of its args, a node with more inputs than it holds in itself) from the table. */
GT_TEST(every_op_case_fails_cleanly_at_every_allocation) {
    gt_test_alloc_install(&alloc);
    int count;
    const gt_op_def *const *ops = gt_op_list(&count);
    int64_t points = 0, cases = 0;
    for (int i = 0; i < count; i++)
        for (const char *const *text = ops[i]->cases; text && *text; text++) {
            if (strstr(*text, "=>"))
                continue;
            gt_test_op_case c;
            CHECK(gt_test_op_case_make(ops[i], *text, 11, &c));
            cases++;
            int64_t baseline = alloc.live;
            for (int64_t at = 1;; at++) {
                gt_test_alloc_fail_nth(&alloc, at);
                gt_tape *tape = gt_tape_new();
                gt_tensor *y = tape ? gt_test_op_case_run(tape, &c, c.in) : NULL;
                gt_tensor *loss = y ? gt_sum(tape, y, GT_ALL_AXES) : NULL;
                gt_status status = !loss ? gt_last_status()
                                   : gt_tensor_requires_grad(loss) ? gt_backward(tape, loss)
                                                                   : GT_OK; /* eq, argmax */
                bool injected = gt_test_alloc_disarm(&alloc);
                gt_tape_free(tape);
                for (int k = 0; k < c.n_in; k++)
                    if (c.in[k])
                        gt_tensor_zero_grad(c.in[k]);
                if (!injected) {
                    if (status != GT_OK)
                        printf("  %s \"%s\": %s\n", ops[i]->name, *text, gt_last_error());
                    CHECK(status == GT_OK);
                    break;
                }
                points++;
                CHECK(status == GT_ERR_NOMEM);
                CHECK(alloc.live == baseline);
            }
            gt_test_op_case_free(&c);
        }
    printf("  %lld cases, %lld failure points\n", (long long)cases, (long long)points);
    CHECK(points >= 2 * cases); /* at least the tape and its arena, in every case */
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST(gradcheck_failing_restores_inputs) {
    gt_test_alloc_install(&alloc);
    gt_tensor *w = filled(GT_SHAPE(3), 1), *before = gt_tensor_clone(w);
    gt_tensor_set_requires_grad(w, true);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_gradcheck_result result;
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_gradcheck(sum_of_squares, NULL, &w, 1, NULL, &result);
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline && same_values(w, before) && gt_tensor_grad(w)[0] == 0);
        if (!injected) {
            CHECK(status == GT_OK && result.passed);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
    }
    CHECK(points >= 2); /* the tape and its arena */
    gt_tensor_free(w);
    gt_tensor_free(before);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

/* gt_grad with create_graph (its map in the arena, the ops it records) and gt_gradgradcheck
 * (its random directions on the heap) under every failure. */
GT_TEST(gradgradcheck_failing_restores_inputs_and_frees_its_directions) {
    gt_test_alloc_install(&alloc);
    gt_tensor *w = filled(GT_SHAPE(3), 1), *before = gt_tensor_clone(w);
    gt_tensor_set_requires_grad(w, true);
    int64_t baseline = alloc.live, points = 0;
    for (int64_t at = 1;; at++) {
        gt_gradcheck_result result;
        gt_test_alloc_fail_nth(&alloc, at);
        gt_status status = gt_gradgradcheck(sum_of_squares, NULL, &w, 1, NULL, 9, &result);
        bool injected = gt_test_alloc_disarm(&alloc);
        CHECK(alloc.live == baseline && same_values(w, before) && gt_tensor_grad(w)[0] == 0);
        if (!injected) {
            CHECK(status == GT_OK && result.passed);
            break;
        }
        points++;
        CHECK(status == GT_ERR_NOMEM);
        CHECK_NOMEM();
    }
    CHECK(points >= 3); /* a direction, the tape and its arena */
    gt_tensor_free(w);
    gt_tensor_free(before);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
}

GT_TEST_MAIN()
