/* test_repl_alloc_fail.c - the REPL out of memory at every allocation of a script.
 *
 * A line whose Nth allocation fails must report an out-of-memory error and leave the session
 * as it was: every name, value, parameter and gradient; running the line again then works,
 * and the rest of the script gives what a run without failures gives. A whole session (start,
 * script, end) with its Nth allocation failing reports the failure as its first error and
 * frees everything. */
#define _POSIX_C_SOURCE 200809L

#include "gt_test.h"
#include "gt_test_alloc.h"
#include "eval.h"
#include "script.h"
#include "session.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRATCH GT_BINARY_DIR "/repl_alloc_fail"

static gt_test_alloc alloc;

/* An IDX file: big-endian magic and sizes, then bytes i * 37 % 256 (labels: i % 10). */
static void write_idx(const char *path, uint32_t magic, const uint32_t *dims, int ndim) {
    FILE *f = fopen(path, "wb");
    uint32_t n = 1;
    CHECK(f != NULL);
    for (int i = -1; i < ndim; i++) {
        uint32_t v = i < 0 ? magic : dims[i];
        unsigned char be[4] = {v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255};
        fwrite(be, 1, 4, f);
        n *= i < 0 ? 1 : v;
    }
    for (uint32_t i = 0; i < n; i++)
        fputc(ndim == 1 ? (int)(i % 10) : (int)(i * 37 % 256), f);
    fclose(f);
}

/* The MNIST-format folder fashion_mnist(path=SCRATCH) reads: 4 training images of 4x4. */
static void make_data(void) {
    mkdir(SCRATCH, 0755);
    write_idx(SCRATCH "/train-images-idx3-ubyte", 0x803, (const uint32_t[]){4, 4, 4}, 3);
    write_idx(SCRATCH "/train-labels-idx1-ubyte", 0x801, (const uint32_t[]){4}, 1);
}

/* Every kind of value and statement: literals, names holding graphs, parameters, backward,
 * an optimizer and its step, gradcheck, files, commands; blocks (several lines in one
 * entry), functions, lists, f-strings, booleans; models, optimizers, schedules, data sets
 * and batches. A block that fails keeps what its
 * completed statements did (as in Python), so the blocks here give the same end when run
 * again. */
static const char *const script[] = {
    "seed(1)",
    "x = [[1, 2, 3], [4, 5, 6]]",
    "w = param(randn(3, 2))",
    "b = param(zeros(2))",
    "label = \"a string\"",
    "n = 2.5",
    "h = relu(x @ w + b)",
    ":profile on",
    "loss = mse(h, ones(2, 2)) + sum(w * w) * n",
    ":graph loss",
    ":graph loss " SCRATCH "/loss.dot",
    "x = -x",
    "backward(loss)",
    "g = grad(w)",
    "img = reshape(x, 1, 1, 2, 3)",
    "c = sum(maxpool2d(conv2d(img, ones(2, 1, 2, 2), [1, -1], padding=1), 2))",
    "c = mean(conv2d(img, reshape(w, 1, 1, 2, 3), stride=1)) + sum(b)",
    "opt = sgd(lr=0.1, momentum=0.9)",
    "y = sum(softmax(x @ w) * [[1, 0], [0, 1]])",
    "step(opt)",
    "zero_grad(b)",
    "backward(cross_entropy(x @ w + b, [1, 0]))",
    "save(w, \"" SCRATCH "/w.npy\")",
    "v = load(\"" SCRATCH "/w.npy\") * [2, 3]",
    "gradcheck(sum(tanh(w) * w) + mean(b * b), w, b)",
    "gw = grad(sum(tanh(x @ w)), w, create_graph=True)",
    "both = grad(sum(exp(b) * b), b, w)",
    "gradgradcheck(sum(exp(b) * b * b), b)",
    "shape(img)",
    ":vars",
    ":profile show",
    ":profile off",
    "label = \"another\"",
    "sum(x, 1) / n",
    "def net(v, gain=2):\n    h = tanh(v @ w) * gain\n    return sum(h)",
    "def energy(p):\n    return sum(p * p)",
    "gradcheck(energy, w)", /* the first call: the locals' stack is made inside gradcheck */
    "acc = 0\nfor i in range(3):\n    if i == 1:\n        continue\n    acc += i",
    "losses = []\nfor k in range(2):\n    losses.append(item(net(x)))\n    losses[0] = k",
    "count = 0\nwhile count < 3:\n    count = count + 1\nelse_ = count > 2 and not False",
    "msg = f\"loss {item(net(x, gain=3)):.3f} {len(losses)} {losses[-1]:>8.2f} {None}\"",
    "gradcheck(energy, w)",
    "words = [\"a\", count, None, w]\nwords[1] = format(2.5, \".1f\")",
    "if count > 5:\n    big = True\nelif count > 2:\n    big = str(count)\nelse:\n    big = False",
    /* models, optimizers, schedules, data (a 4-image MNIST-format folder made below) */
    "m = sequential(\"Linear(3) ReLU Linear(2)\", input=[3])",
    "ps = parameters(m)",
    "mopt = adam(ps, lr=0.01, betas=[0.8, 0.9])",
    "sopt = sgd(ps, lr=0.1, momentum=0.9, nesterov=True)",
    "sched = cosine(mopt, 5)",
    "every = step_lr(sopt, 2)",
    "warm = linear_lr(sopt, 0.5, total_iters=2)",
    "out = m(x)",
    "backward(sum(out))\nstep(mopt)\nzero_grad(m)\nstep(sched)\nstep(warm)\nzero_grad(sopt)",
    "eval(m)\ntrain(m)",
    "summary(m)",
    "save_model(m, \"" SCRATCH "/m.gtc\")",
    "m2 = load_model(\"" SCRATCH "/m.gtc\")",
    "small = mlp(16, 2, act=\"tanh\")",
    "ln = lenet()",
    "data = fashion_mnist(limit=3, path=\"" SCRATCH "\")",
    "seed(5)\nk = 0\nfor xb, yb in batches(data[0], data[1], 2):\n    k = k + item(sum(small(xb)))",
    "z = zeros(2, 3)\nz[0] = 1\nz[:, 1:3] = [5, 6]",
    "z[..., [2, 0]] = x[:, 0:2] * 2",
    "r = sum(w[1:, ::2] * w[0, :] + w[[0, 1]][..., 0:1]) + sum(z[None, -1] > 2)",
    "m = (x > 2) == (x >= 3)",
    "for row in x:\n    last = item(sum(row[::2]))",
    "plot(losses, width=10, height=3)",
    "plot(x[0], x[1], title=\"t\")",
};
enum { SCRIPT_LINES = sizeof script / sizeof script[0] };

/* stdout of the REPL goes nowhere while a walk runs; the test's own report still shows. */
static int saved_stdout = -1;

static void quiet(bool on) {
    fflush(stdout);
    if (on) {
        saved_stdout = dup(STDOUT_FILENO);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        close(null);
    } else {
        dup2(saved_stdout, STDOUT_FILENO);
        close(saved_stdout);
    }
}

/* What the session holds, as text: every name and value (17 digits), every parameter with
 * its gradient. gt_free it. */
static char *describe(repl *r) {
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    int digits = r->digits;
    r->digits = 17;
    for (repl_var *v = repl_first_var(r); v; v = repl_next_var(v)) {
        fprintf(out, "%s: ", repl_var_name(v));
        print_value(r, out, *repl_var_value(v));
    }
    for (int i = 0; i < r->n_params; i++) {
        gt_tensor *p = r->params[i]->tensor;
        gt_tensor_print(out, p, 17);
        gt_tensor *g = gt_tensor_wrap(gt_tensor_ndim(p), gt_tensor_shape(p),
                                      gt_tensor_grad(p), NULL);
        fprintf(out, "\ngrad ");
        gt_tensor_print(out, g, 17);
        fprintf(out, "\n");
        gt_tensor_free(g);
    }
    r->digits = digits;
    fclose(out);
    return text;
}

static bool is_out_of_memory(const char *msg) {
    return strstr(msg, "cannot allocate") || strstr(msg, "cannot grow the tape's arena") ||
           strstr(msg, "out of memory");
}

/* A session that has run the first `lines` lines of the script. */
static void start(repl *r, int lines) {
    CHECK(repl_init(r));
    for (int i = 0; i < lines; i++)
        if (!run_statement(r, script[i], i + 1)) {
            fprintf(stderr, "  line %d (%s): %s\n", i + 1, script[i], r->err.msg);
            CHECK(0);
        }
}

/* What the whole script leaves, without failures. */
static char *reference_end(void) {
    repl r;
    start(&r, SCRIPT_LINES);
    char *end = describe(&r);
    repl_free(&r);
    return end;
}

GT_TEST(a_line_out_of_memory_keeps_the_session_as_it_was) {
    make_data();
    quiet(true);
    gt_test_alloc_install(&alloc);
    char *expected_end = reference_end();
    int64_t points = 0;
    for (int line = 0; line < SCRIPT_LINES; line++) {
        for (int64_t at = 1;; at++) {
            repl r;
            start(&r, line);
            char *before = describe(&r);
            gt_test_alloc_fail_nth(&alloc, at);
            bool ok = run_statement(&r, script[line], line + 1);
            bool injected = gt_test_alloc_disarm(&alloc);
            if (injected && !ok) {
                points++;
                char *after = describe(&r);
                bool block = strchr(script[line], '\n') != NULL; /* keeps what it did */
                if (!is_out_of_memory(r.err.msg) || (!block && strcmp(before, after) != 0)) {
                    fprintf(stderr, "  line %d (%s), allocation %lld: %s\n", line + 1,
                            script[line], (long long)at, r.err.msg);
                    CHECK(is_out_of_memory(r.err.msg));
                    CHECK(block || strcmp(before, after) == 0);
                }
                free(after);
                ok = run_statement(&r, script[line], line + 1); /* the same line again, memory back */
            }
            CHECK(ok);
            for (int i = line + 1; i < SCRIPT_LINES; i++)
                CHECK(run_statement(&r, script[i], i + 1));
            char *end = describe(&r);
            if (strcmp(end, expected_end) != 0) {
                fprintf(stderr, "  line %d (%s), allocation %lld: the script ends elsewhere\n",
                        line + 1, script[line], (long long)at);
                CHECK(0);
            }
            free(end);
            free(before);
            repl_free(&r);
            CHECK(alloc.live == 0);
            if (!injected)
                break;
        }
    }
    CHECK(points >= 2 * SCRIPT_LINES); /* lines allocate: trees, values, tensors */
    free(expected_end);
    gt_test_alloc_uninstall(&alloc);
    quiet(false);
}

/* A line that fails changes nothing, so each line can be retried on the same session with
 * its 1st, 2nd, ... allocation failing until it succeeds. With a thousand names the hash
 * table must grow several times: its growing fails too, and uthash must neither exit nor
 * lose a name (repl/hash.h routes it through the allocator hook, without uthash_fatal). */
GT_TEST(binding_a_thousand_names_survives_the_hash_table_failing_to_grow) {
    quiet(true);
    gt_test_alloc_install(&alloc);
    repl r;
    CHECK(repl_init(&r));
    int hash_failures = 0;
    for (int i = 0; i < 1000; i++) {
        char line[64], name[16];
        snprintf(name, sizeof name, "v%d", i);
        snprintf(line, sizeof line, "%s = %d", name, i);
        for (int64_t at = 1;; at++) {
            gt_test_alloc_fail_nth(&alloc, at);
            bool ok = run_statement(&r, line, 1);
            if (!gt_test_alloc_disarm(&alloc)) {
                CHECK(ok);
                break;
            }
            if (ok)
                continue; /* the failed allocation was not needed */
            CHECK(is_out_of_memory(r.err.msg));
            CHECK(repl_lookup(&r, name) == NULL);
            hash_failures += strstr(r.err.msg, "binding") != NULL;
        }
    }
    for (int i = 0; i < 1000; i++) {
        char name[16];
        snprintf(name, sizeof name, "v%d", i);
        repl_var *v = repl_lookup(&r, name);
        CHECK(v && repl_var_value(v)->kind == V_NUM && repl_var_value(v)->num == i);
    }
    CHECK(hash_failures >= 4); /* the first table (two blocks) and expansions */
    repl_free(&r);
    CHECK(alloc.live == 0);
    gt_test_alloc_uninstall(&alloc);
    quiet(false);
}

/* The script as one text. */
static char *script_text(size_t *size) {
    char *text = NULL;
    FILE *out = open_memstream(&text, size);
    for (int i = 0; i < SCRIPT_LINES; i++)
        fprintf(out, "%s\n", script[i]);
    fclose(out);
    return text;
}

GT_TEST(a_session_out_of_memory_reports_it_first_and_frees_everything) {
    make_data();
    quiet(true);
    gt_test_alloc_install(&alloc);
    size_t size;
    char *text = script_text(&size);
    int64_t points = 0;
    for (int64_t at = 1;; at++) {
        char *errors = NULL;
        size_t errors_size = 0;
        FILE *err = open_memstream(&errors, &errors_size);
        repl r;
        gt_test_alloc_fail_nth(&alloc, at);
        bool started = repl_init(&r);
        int status = started ? repl_run_text(&r, text, size, "script", true, err) : 1;
        if (started)
            repl_free(&r);
        bool injected = gt_test_alloc_disarm(&alloc);
        fclose(err);
        CHECK(alloc.live == 0);
        if (!injected) {
            CHECK(status == 0 && errors_size == 0);
            free(errors);
            break;
        }
        points++;
        const char *first = started ? errors : gt_last_error();
        if (first[0] && !is_out_of_memory(first)) { /* a failure may also pass unnoticed */
            fprintf(stderr, "  allocation %lld: first error: %s\n", (long long)at, first);
            CHECK(0);
        }
        free(errors);
    }
    CHECK(points >= 100);
    free(text);
    gt_test_alloc_uninstall(&alloc);
    quiet(false);
}

GT_TEST_MAIN()
