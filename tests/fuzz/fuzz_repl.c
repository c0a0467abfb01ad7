/* fuzz_repl.c - the REPL's lexer, parser, evaluator, builtins and commands fed whole scripts,
 * going on after errors (as gradtape -k). Every script must end without a crash, a
 * sanitizer report or a leak (everything the session allocated is freed by repl_free), and
 * every error must be a line "fuzz:LINE:COL: message" with a message.
 *
 * Budgets keep each input small and fast: allocations beyond FUZZ_REPL_MAX_LIVE_BYTES live
 * bytes or FUZZ_REPL_MAX_CALLS calls fail, so zeros(10000, 10000) is a clean out-of-memory
 * error (as it is on a machine that has not the memory) and a gradcheck over a big tensor
 * runs out of allocations (each evaluation makes values) instead of running for minutes;
 * a loop or recursion stops after FUZZ_REPL_MAX_STEPS statements and turns (while 1:).
 * Results go to /dev/null; files are saved only inside a scratch folder. A dictionary of
 * the language's words, repl.dict, helps libFuzzer write scripts that parse. */
#include "fuzz_support.h"
#include "script.h"
#include "session.h"

/* The tape's first arena chunk is 256 KiB and a merge holds old and new chunks at once. */
#define FUZZ_REPL_MAX_LIVE_BYTES ((size_t)2 << 20)
#define FUZZ_REPL_MAX_CALLS 10000
/* Statements and loop turns of one top-level statement: `while 1:` ends with a message. */
#define FUZZ_REPL_MAX_STEPS 20000


/* save(), :graph and plot(file=) write where a script says: in every line that mentions
 * save, graph or plot, '/' becomes '_', so that files land in the scratch folder (the
 * working directory) and nowhere else. Returns a malloc'd copy of the script. */
static char *confine_saves(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1);
    FUZZ_ASSERT(text != NULL);
    memcpy(text, data, size);
    for (size_t start = 0; start < size;) {
        size_t end = start;
        bool saves = false;
        for (; end < size && text[end] != '\n'; end++)
            saves = saves || (end + 4 <= size && memcmp(text + end, "save", 4) == 0) ||
                    (end + 5 <= size && memcmp(text + end, "graph", 5) == 0) ||
                    (end + 4 <= size && memcmp(text + end, "plot", 4) == 0);
        for (size_t i = start; saves && i < end; i++)
            text[i] = text[i] == '/' ? '_' : text[i];
        start = end + 1;
    }
    return text;
}

/* Every error line reads "fuzz:LINE:COL: message" with a message that says something. */
static void check_errors(const char *text, size_t size) {
    for (const char *line = text; line < text + size;) {
        const char *end = memchr(line, '\n', (size_t)(text + size - line));
        FUZZ_ASSERT(end != NULL);
        long lineno = 0;
        int col = -1, prefix = 0;
        FUZZ_ASSERT(sscanf(line, "fuzz:%ld:%d: %n", &lineno, &col, &prefix) == 2);
        FUZZ_ASSERT(lineno >= 1 && col >= 0 && prefix > 0 && line + prefix < end);
        FUZZ_ASSERT(strncmp(line + prefix, "failed (no message)", 19) != 0);
        line = end + 1;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    FUZZ_ASSERT(freopen("/dev/null", "w", stdout) != NULL);
    FUZZ_ASSERT(chdir(fuzz_scratch()) == 0);
    /* :graph NAME FILE.png would start Graphviz's dot: without it on the PATH it is the
     * clean error the REPL gives when dot is not installed. */
    FUZZ_ASSERT(setenv("PATH", "/nonexistent", 1) == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *script = confine_saves(data, size);
    gt_test_alloc alloc;
    fuzz_alloc_begin(&alloc, FUZZ_REPL_MAX_LIVE_BYTES, FUZZ_REPL_MAX_CALLS);
    char *error_text = NULL;
    size_t error_size = 0;
    FILE *errors = open_memstream(&error_text, &error_size);
    FUZZ_ASSERT(errors != NULL);
    repl r;
    if (repl_init(&r)) {
        r.step_limit = FUZZ_REPL_MAX_STEPS;
        repl_run_text(&r, script, size, "fuzz", true, errors);
        repl_free(&r);
    } else {
        FUZZ_ASSERT(gt_last_status() == GT_ERR_NOMEM);
    }
    fuzz_alloc_end(&alloc);
    fclose(errors);
    check_errors(error_text, error_size);
    free(error_text);
    fuzz_scratch_clear();
    free(script);
    return 0;
}
