/* commands.c - the colon commands: :help, :vars, :digits, :time, :anomaly, :graph,
 * :profile, :reset, :quit. */
#define _POSIX_C_SOURCE 200809L

#include "builtins.h"
#include "eval.h"
#include "script.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
    const char *name, *usage, *doc;
} commands[] = {
    {"help", ":help [NAME]", "this text, or what builtin or command NAME does"},
    {"vars", ":vars", "every name with its shape and whether it holds a gradient"},
    {"digits", ":digits N", "significant digits shown, 1 to 17"},
    {"time", ":time on|off", "print the time each line takes"},
    {"anomaly", ":anomaly on|off",
     "stop at the first NaN or infinity an op or backward() makes, naming the op"},
    {"graph", ":graph NAME [FILE]",
     "NAME's graph as Graphviz DOT, or into FILE (.png, .svg: drawn by dot)"},
    {"profile", ":profile on|off|show", "time every op, forward and backward; show the table"},
    {"reset", ":reset", "forget every name, parameter and graph; seed 0 again"},
    {"quit", ":quit", "leave (Ctrl-D too)"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void help_all(repl *r) {
    printf("Python's syntax; # starts a comment. :help if (for, while, def, ...) tells more.\n"
           "  name = expr    binds a name (x += 1 too); a bare expression prints its value\n"
           "  expressions    1.5  \"text\"  f\"{x:.4f}\"  True False None  [1, 2] (a tensor)\n"
           "                 [] [w, \"a\"] (lists)  l[i]  name  f(a, key=value)  l.append(x)\n"
           "                 a + b  a - b  a * b  a / b  (broadcasting)  a @ b  -a  (a)\n"
           "                 a // b  a %% b  a ** b  == != < <= > >=  and or not\n"
           "  indexing       x[0]  x[-1]  x[:, 1:3]  x[::2]  x[..., 0]  x[None]  x[idx]\n"
           "                 x[0, 1:3] = v; on tensors x > 0, a == b give masks (0 and 1)\n"
           "  blocks         if/elif/else, for NAME in range(n)/list, while, def f(a, b=1):\n"
           "                 with break, continue, return, pass; indented below a line\n"
           "                 ending in ':'; at the prompt an empty line ends the block\n"
           "Builtins (:help NAME tells more):\n");
    int width = 0;
    for (const builtin *b = builtin_first(r); b; b = builtin_next(b)) {
        int len = (int)strlen(builtin_name(b));
        if (width > 0 && width + len + 1 > 80) {
            printf("\n");
            width = 0;
        }
        printf("%s%s", width ? " " : "  ", builtin_name(b));
        width += len + (width ? 1 : 2);
    }
    printf("\nCommands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        printf("  %-21s%s\n", commands[i].usage, commands[i].doc);
}

/* The language's keywords, for :help NAME. */
static const struct {
    const char *name, *usage, *doc;
} keywords[] = {
    {"if", "if cond:  /  elif cond:  /  else:",
     "runs the indented block below the first true condition (0, False, None, \"\" and [] "
     "are false)"},
    {"elif", "elif cond:", "another condition of an if"},
    {"else", "else:", "the block of an if that runs when no condition was true"},
    {"for", "for i in range(n):  /  for x in list:",
     "runs the block for each number or item (a tensor's numbers, or rows x[i] when it has "
     "several dims); range() counts without making a list"},
    {"while", "while cond:", "runs the block while cond is true; Ctrl-C stops it"},
    {"break", "break", "leaves the innermost loop"},
    {"continue", "continue", "goes on with the next turn of the innermost loop"},
    {"def", "def name(a, b=1):",
     "defines a function; names assigned in it are local; at most 1000 calls inside each "
     "other"},
    {"return", "return [expr]", "leaves the function with the value (None without one)"},
    {"pass", "pass", "does nothing (a block that must hold a statement)"},
    {"True", "True, False", "the booleans; they count as 1 and 0 in arithmetic"},
    {"False", "True, False", "the booleans; they count as 1 and 0 in arithmetic"},
    {"None", "None", "no value; a bare None prints nothing"},
    {"and", "a and b, a or b, not a",
     "Python's: and/or give the operand that decides, not gives True or False"},
    {"or", "a and b, a or b, not a",
     "Python's: and/or give the operand that decides, not gives True or False"},
    {"not", "not a", "True when a is false"},
    {"indexing", "x[0]  x[-1]  x[:, 1:3]  x[::2]  x[..., 0]  x[None]  x[idx]  x[0, 1:3] = v",
     "PyTorch's rules: a whole number picks one entry of a dim (and drops it), start:stop:step "
     "a range of it (step > 0), ... the dims not named, None a new dim of size 1, a tensor of "
     "whole numbers the entries it lists; differentiable (recorded as narrow, squeeze, "
     "index_select, unsqueeze, reshape), a new tensor where PyTorch gives a view. x[...] = v "
     "writes v (a number or a tensor, broadcast) into x, refused when x requires grad or a "
     "live graph uses it"},
    {"comparisons", "a == b  a != b  a < b  a <= b  a > b  a >= b",
     "on numbers and strings True or False; on tensors the mask ops eq ne lt le gt ge "
     "(tensors of 0 and 1, broadcast); and/or/not and if on a tensor of several elements "
     "are an error, as in PyTorch"},
    {"f-string", "f\"text {expr} {expr:.4f}\"",
     "a string with the values of expressions, formatted with Python's specs"},
};
#define N_KEYWORDS ((int)(sizeof keywords / sizeof keywords[0]))

static bool help_one(repl *r, const char *name, int col) {
    const char *bare = name[0] == ':' ? name + 1 : name;
    for (int i = 0; i < N_KEYWORDS; i++)
        if (strcmp(keywords[i].name, name) == 0) {
            printf("%s\n  %s\n", keywords[i].usage, keywords[i].doc);
            return true;
        }
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, bare) == 0) {
            printf("%s\n  %s\n", commands[i].usage, commands[i].doc);
            return true;
        }
    const builtin *b = builtin_find(r, name);
    if (!b)
        return repl_fail(r, col, "no builtin or command named '%s'", name);
    printf("%s\n  %s\n", builtin_signature(b), builtin_doc(b));
    return true;
}

static int by_name(const void *a, const void *b) {
    return strcmp(repl_var_name(*(repl_var *const *)a), repl_var_name(*(repl_var *const *)b));
}

static void describe_var(repl *r, repl_var *var) {
    value v = *repl_var_value(var);
    printf("  %-10s %s", repl_var_name(var), value_kind_name(v));
    if (v.kind == V_NUM) {
        printf(" %.*g", r->digits, v.num);
    } else if (v.kind == V_STR) {
        printf(" \"%s\"", v.box->str);
    } else if (v.kind == V_BOOL) {
        printf(" %s", v.num != 0 ? "True" : "False");
    } else if (v.kind == V_LIST) {
        printf(" of %d item%s", v.box->list->n, v.box->list->n == 1 ? "" : "s");
    } else if (v.kind == V_FUNC) {
        const node *def = v.box->func->def;
        printf(" %s(", def->text);
        for (int i = 0; i < def->def->n_params; i++)
            printf("%s%s", i ? ", " : "", def->def->locals[i]);
        printf(")");
    } else if (v.kind == V_OPT) {
        putchar(' ');
        optim_describe(v.box->opt, stdout);
    } else if (v.kind == V_OBJ) {
        putchar(' ');
        v.box->cls->describe(r, v.box->self, stdout);
    } else if (v.kind == V_TENSOR && v.box->tensor) {
        gt_tensor *t = v.box->tensor;
        char buf[200];
        printf(" %s", gt_shape_str(gt_tensor_ndim(t), gt_tensor_shape(t), buf, sizeof buf));
        if (v.box->tape) {
            printf(", holds a graph: backward() possible");
        } else if (gt_tensor_requires_grad(t)) {
            const gt_real *g = gt_tensor_grad(t);
            bool any = false;
            for (int64_t i = 0; g && i < gt_tensor_numel(t); i++)
                any = any || g[i] != 0;
            printf(", parameter, grad %s", any ? "nonzero" : "zero");
        }
    }
    printf("\n");
}

static bool vars(repl *r) {
    int n = 0;
    for (repl_var *v = repl_first_var(r); v; v = repl_next_var(v))
        n++;
    if (n == 0) {
        printf("(no names yet)\n");
        return true;
    }
    repl_var **sorted = gt_malloc((size_t)n * sizeof *sorted, "repl: vars");
    if (!sorted)
        return repl_fail_lib(r, 1);
    n = 0;
    for (repl_var *v = repl_first_var(r); v; v = repl_next_var(v))
        sorted[n++] = v;
    qsort(sorted, (size_t)n, sizeof *sorted, by_name);
    for (int i = 0; i < n; i++)
        describe_var(r, sorted[i]);
    gt_free(sorted);
    return true;
}

/* Gives every name that holds a tensor to the graph (set) or takes the names back. */
static void name_tensors(repl *r, bool set) {
    for (repl_var *var = repl_first_var(r); var; var = repl_next_var(var)) {
        value v = *repl_var_value(var);
        if (v.kind != V_TENSOR || !v.box->tensor || (v.box->tape && v.box->tape != r->tape))
            continue;
        /* a failure (out of memory) leaves that tensor unnamed in the picture */
        (void)gt_tape_set_name(r->tape, v.box->tensor, set ? repl_var_name(var) : NULL);
    }
}

/* True when `program` is an executable file in a directory of PATH. */
static bool on_path(const char *program) {
    const char *path = getenv("PATH");
    char candidate[4096];
    while (path && *path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && len + strlen(program) + 2 <= sizeof candidate) {
            snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, path, program);
            if (access(candidate, X_OK) == 0)
                return true;
        }
        path += len + (path[len] == ':');
    }
    return false;
}

/* Runs `dot -T<format> -o file` with the DOT text of root on its standard input. */
static bool render(repl *r, gt_tensor *root, const char *format, const char *file, int col) {
    if (!on_path("dot"))
        return repl_fail(r, col,
                         ":graph: drawing a .%s needs Graphviz's dot (Debian: apt-get "
                         "install graphviz); FILE.dot writes the DOT text",
                         format);
    int fds[2];
    if (pipe(fds) != 0)
        return repl_fail(r, col, ":graph: %s", strerror(errno));
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char type[16];
        snprintf(type, sizeof type, "-T%s", format);
        close(fds[1]);
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        execlp("dot", "dot", type, "-o", file, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    if (child < 0) {
        close(fds[1]);
        return repl_fail(r, col, ":graph: %s", strerror(errno));
    }
    FILE *to_dot = fdopen(fds[1], "w");
    gt_status status = to_dot ? gt_tape_write_dot(r->tape, root, to_dot) : GT_ERR_IO;
    if (to_dot)
        fclose(to_dot);
    else
        close(fds[1]);
    int wstatus = 0;
    waitpid(child, &wstatus, 0);
    if (status != GT_OK)
        return repl_fail_lib(r, col);
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
        return repl_fail(r, col, ":graph: dot could not draw %s", file);
    return true;
}

/* :graph NAME [FILE] */
static bool graph(repl *r, const char *name, const char *file, int name_col, int file_col) {
    if (!name[0])
        return repl_fail(r, name_col, ":graph takes a name: :graph NAME [FILE]");
    repl_var *var = repl_lookup(r, name);
    value *v = var ? repl_var_value(var) : NULL;
    if (!v || v->kind != V_TENSOR || !v->box->tensor)
        return repl_fail(r, name_col, ":graph: '%s' is not a name that holds a tensor", name);
    gt_tensor *root = v->box->tensor;
    if (v->box->tape != r->tape)
        return repl_fail(r, name_col,
                         ":graph: '%s' holds no graph (no op on a parameter made "
                         "it since the last reset)",
                         name);
    const char *dot = file[0] ? strrchr(file, '.') : NULL;
    const char *format = dot && (!strcmp(dot, ".png") || !strcmp(dot, ".svg")) ? dot + 1 : NULL;
    name_tensors(r, true);
    bool ok;
    if (format) {
        ok = render(r, root, format, file, file_col);
    } else {
        FILE *out = file[0] ? fopen(file, "w") : stdout;
        if (!out) {
            ok = repl_fail(r, file_col, ":graph: cannot write %s: %s", file, strerror(errno));
        } else {
            ok = gt_tape_write_dot(r->tape, root, out) == GT_OK || repl_fail_lib(r, name_col);
            if (out != stdout && fclose(out) != 0 && ok)
                ok = repl_fail(r, file_col, ":graph: cannot write %s", file);
        }
    }
    name_tensors(r, false);
    return ok;
}

/* :profile on|off|show */
static bool profile(repl *r, const char *word, int col) {
    if (!strcmp(word, "on") || !strcmp(word, "off")) {
        if (gt_tape_set_profiling(r->tape, !strcmp(word, "on")) != GT_OK)
            return repl_fail_lib(r, col);
        return true;
    }
    if (!strcmp(word, "show")) {
        gt_tape_profile_print(r->tape, stdout);
        return true;
    }
    return repl_fail(r, col, ":profile takes on, off or show");
}

/* Splits ":name arg" into name and argument (both pointing into a copy in buf). */
bool run_command(repl *r, const char *line) {
    r->err.col = 0;
    r->err.msg[0] = 0;
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    int name_col = (int)(p - line) + 1;
    p++;
    size_t name_len = strcspn(p, " \t\r\n#");
    const char *arg = p + name_len;
    while (*arg == ' ' || *arg == '\t')
        arg++;
    int arg_col = (int)(arg - line) + 1;
    size_t arg_len = strcspn(arg, " \t\r\n#");
    const char *rest = arg + arg_len;
    while (*rest == ' ' || *rest == '\t' || *rest == '\r' || *rest == '\n')
        rest++;
    /* :graph takes a second word, the file */
    bool two_words = name_len == 5 && !strncmp(p, "graph", 5);
    const char *second = rest;
    int second_col = (int)(second - line) + 1;
    size_t second_len = two_words && *rest != '#' ? strcspn(second, " \t\r\n#") : 0;
    if (second_len) {
        rest = second + second_len;
        while (*rest == ' ' || *rest == '\t' || *rest == '\r' || *rest == '\n')
            rest++;
    }
    if (*rest && *rest != '#')
        return repl_fail(r, (int)(rest - line) + 1, "unexpected text after the command");
    char name[32], word[64], file[1024];
    if (name_len >= sizeof name || arg_len >= sizeof word || second_len >= sizeof file)
        return repl_fail(r,
                         name_len >= sizeof name  ? name_col
                         : arg_len >= sizeof word ? arg_col
                                                  : second_col,
                         "too long");
    memcpy(file, second, second_len);
    file[second_len] = 0;
    memcpy(name, p, name_len);
    name[name_len] = 0;
    memcpy(word, arg, arg_len);
    word[arg_len] = 0;
    bool has_arg = arg_len > 0;
    bool takes_arg = !strcmp(name, "help") || !strcmp(name, "digits") || !strcmp(name, "time") ||
                     !strcmp(name, "anomaly") || !strcmp(name, "graph") || !strcmp(name, "profile");
    if (has_arg && !takes_arg)
        return repl_fail(r, arg_col, ":%s takes no argument", name);
    if (!strcmp(name, "help"))
        return has_arg ? help_one(r, word, arg_col) : (help_all(r), true);
    if (!strcmp(name, "vars"))
        return vars(r);
    if (!strcmp(name, "digits")) {
        char *end;
        long n = has_arg ? strtol(word, &end, 10) : 0;
        if (!has_arg || *end || n < 1 || n > 17)
            return repl_fail(r, has_arg ? arg_col : name_col, ":digits takes a number from 1 "
                             "to 17 (now %d)", r->digits);
        r->digits = (int)n;
        return true;
    }
    if (!strcmp(name, "time")) {
        if (!strcmp(word, "on") || !strcmp(word, "off")) {
            r->time_lines = !strcmp(word, "on");
            return true;
        }
        return repl_fail(r, has_arg ? arg_col : name_col, ":time takes on or off");
    }
    if (!strcmp(name, "anomaly")) { /* the session tape's anomaly mode; :reset keeps it */
        if (!strcmp(word, "on") || !strcmp(word, "off")) {
            gt_tape_set_detect_anomaly(r->tape, !strcmp(word, "on"));
            return true;
        }
        return repl_fail(r, has_arg ? arg_col : name_col, ":anomaly takes on or off");
    }
    if (!strcmp(name, "graph"))
        return graph(r, word, file, has_arg ? arg_col : name_col, second_col);
    if (!strcmp(name, "profile"))
        return profile(r, word, has_arg ? arg_col : name_col);
    if (!strcmp(name, "reset")) {
        repl_clear(r);
        return true;
    }
    if (!strcmp(name, "quit") || !strcmp(name, "q")) {
        r->quit = true;
        return true;
    }
    return repl_fail(r, name_col, "unknown command ':%s' (:help lists them)", name);
}
