/* profile.c - the profiler: time, calls, arena bytes and flops of every op, by op name. */
#define _POSIX_C_SOURCE 200809L

#include "tape_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROFILE_FIRST_ROWS 16
#define PROFILE_MAX_DEPTH 8 /* ops inside ops: a custom op's forward built from ops */

typedef struct profile_entry {
    char name[GT__NOTE_NAME_SIZE];
    int64_t forward_calls, backward_calls;
    int64_t forward_ns, backward_ns; /* self time */
    double forward_bytes, flops;
} profile_entry;

/* One op being timed: its start, the arena in use then, and the time of ops inside it. */
typedef struct profile_frame {
    int64_t start_ns;
    size_t start_bytes;
    int64_t child_ns;
} profile_frame;

struct gt__profile {
    profile_entry *rows;
    int n_rows, cap_rows;
    int64_t dropped; /* samples of new op names that found no room (out of memory) */
    int depth;
    profile_frame stack[PROFILE_MAX_DEPTH];
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + 1; /* never 0: 0 means off */
}

static size_t arena_used(const gt_tape *tape) {
    size_t used = 0;
    for (const gt_chunk *c = tape->first; c; c = c->next)
        used += c->used;
    return used;
}

gt_status gt_tape_set_profiling(gt_tape *tape, bool on) {
    if (!tape)
        return gt_set_error(GT_ERR_ARG, "set_profiling: tape is NULL");
    if (on) {
        profile_entry *rows = gt_malloc(PROFILE_FIRST_ROWS * sizeof *rows, "profiler");
        if (!rows)
            return GT_ERR_NOMEM;
        if (tape->profile)
            gt_free(tape->profile->rows); /* turned on again: what was collected goes */
        else if (!(tape->profile = gt_malloc(sizeof *tape->profile, "profiler"))) {
            gt_free(rows);
            return GT_ERR_NOMEM;
        }
        memset(tape->profile, 0, sizeof *tape->profile);
        tape->profile->rows = rows;
        tape->profile->cap_rows = PROFILE_FIRST_ROWS;
    }
    tape->head.profiling = on;
    return GT_OK;
}

bool gt_tape_profiling(const gt_tape *tape) { return tape && tape->head.profiling; }

void gt__profile_free(gt_tape *tape) {
    if (tape->profile)
        gt_free(tape->profile->rows);
    gt_free(tape->profile);
    tape->profile = NULL;
}

/* The row of `name`, made when new; NULL when there is no room for it. */
static profile_entry *row_for(gt__profile *p, const char *name) {
    for (int i = 0; i < p->n_rows; i++)
        if (strncmp(p->rows[i].name, name, GT__NOTE_NAME_SIZE - 1) == 0)
            return &p->rows[i];
    if (p->n_rows == p->cap_rows) {
        gt__error_state before; /* the op succeeded: a full table is not its failure */
        gt__error_save(&before);
        profile_entry *rows = gt_malloc((size_t)p->cap_rows * 2 * sizeof *rows, "profiler");
        gt__error_restore(&before);
        if (!rows) {
            p->dropped++;
            return NULL;
        }
        memcpy(rows, p->rows, (size_t)p->n_rows * sizeof *rows);
        gt_free(p->rows);
        p->rows = rows;
        p->cap_rows *= 2;
    }
    profile_entry *row = &p->rows[p->n_rows++];
    memset(row, 0, sizeof *row);
    snprintf(row->name, sizeof row->name, "%s", name);
    return row;
}

int64_t gt__profile_start(gt_tape *tape) {
    gt__profile *p = tape->profile;
    int64_t start = now_ns();
    if (p->depth < PROFILE_MAX_DEPTH)
        p->stack[p->depth] = (profile_frame){start, arena_used(tape), 0};
    p->depth++;
    return start;
}

/* Pops the frame of an op that began at `start`: its self time and the arena it took. */
static int64_t frame_end(gt_tape *tape, int64_t start, size_t *bytes) {
    gt__profile *p = tape->profile;
    int64_t elapsed = now_ns() - start, self = elapsed;
    p->depth--;
    *bytes = 0;
    if (p->depth < PROFILE_MAX_DEPTH) {
        self -= p->stack[p->depth].child_ns;
        size_t used = arena_used(tape), before = p->stack[p->depth].start_bytes;
        *bytes = used > before ? used - before : 0;
    }
    if (p->depth > 0 && p->depth <= PROFILE_MAX_DEPTH)
        p->stack[p->depth - 1].child_ns += elapsed;
    return self;
}

void gt__profile_end(gt_tape *tape, int64_t start, const char *name, const gt_tensor *out,
                     double flops, double backward_flops) {
    if (!start || !tape->head.profiling || tape->profile->depth == 0)
        return; /* off, or turned on inside this op */
    size_t bytes;
    int64_t self = frame_end(tape, start, &bytes);
    profile_entry *row = row_for(tape->profile, name);
    if (row) {
        row->forward_calls++;
        row->forward_ns += self;
        row->forward_bytes += out ? (double)bytes : 0;
        row->flops += out ? flops : 0;
    }
    if (out && tape->last && tape->last->out == out)
        tape->last->backward_flops = backward_flops;
}

void gt__profile_backward_end(gt_tape *tape, int64_t start, const gt_node *node) {
    if (!start || !tape->head.profiling || tape->profile->depth == 0)
        return;
    size_t bytes;
    int64_t self = frame_end(tape, start, &bytes);
    profile_entry *row = row_for(tape->profile, node->name);
    if (row) {
        row->backward_calls++;
        row->backward_ns += self;
        row->flops += node->backward_flops;
    }
}

static int64_t row_ns(const profile_entry *row) { return row->forward_ns + row->backward_ns; }

static int by_time(const void *a, const void *b) {
    const profile_entry *x = *(profile_entry *const *)a, *y = *(profile_entry *const *)b;
    int64_t tx = row_ns(x), ty = row_ns(y);
    return tx != ty ? (tx < ty ? 1 : -1) : strcmp(x->name, y->name);
}

int gt_tape_profile_rows(const gt_tape *tape, gt_profile_row *rows, int max) {
    if (!tape || !tape->profile)
        return 0;
    const gt__profile *p = tape->profile;
    /* Sorted through an array of pointers kept on the stack in pieces: the table is small. */
    int n = p->n_rows;
    for (int k = 0; k < max && k < n; k++) {
        const profile_entry *best = NULL;
        for (int i = 0; i < n; i++) {
            const profile_entry *row = &p->rows[i];
            bool taken = false; /* already among the first k */
            for (int j = 0; j < k && !taken; j++)
                taken = rows[j].name == row->name;
            if (!taken && (!best || by_time(&row, &best) < 0))
                best = row;
        }
        rows[k] = (gt_profile_row){best->name,
                                   best->forward_calls,
                                   best->backward_calls,
                                   best->forward_ns * 1e-9,
                                   best->backward_ns * 1e-9,
                                   best->forward_bytes,
                                   best->flops};
    }
    return n;
}

void gt_tape_profile_print(const gt_tape *tape, FILE *out) {
    int n = gt_tape_profile_rows(tape, NULL, 0);
    gt_profile_row *rows = n ? gt_malloc((size_t)n * sizeof *rows, "profiler") : NULL;
    if (n && !rows) {
        fprintf(out, "profile: %s\n", gt_last_error());
        return;
    }
    gt_tape_profile_rows(tape, rows, n);
    double total = 0, total_flops = 0, total_bytes = 0;
    int64_t calls = 0;
    for (int i = 0; i < n; i++) {
        total += rows[i].forward_seconds + rows[i].backward_seconds;
        total_flops += rows[i].flops;
        total_bytes += rows[i].forward_bytes;
        calls += rows[i].forward_calls + rows[i].backward_calls;
    }
    fprintf(out, "%-16s %7s %11s %7s %11s %10s %6s %9s %9s %8s\n", "op", "calls", "forward ms",
            "calls", "backward ms", "total ms", "%", "arena MB", "MFLOP", "GFLOP/s");
    for (int i = 0; i < n; i++) {
        const gt_profile_row *r = &rows[i];
        double seconds = r->forward_seconds + r->backward_seconds;
        fprintf(out, "%-16.16s %7lld %11.3f %7lld %11.3f %10.3f %6.1f %9.3f ", r->name,
                (long long)r->forward_calls, r->forward_seconds * 1e3, (long long)r->backward_calls,
                r->backward_seconds * 1e3, seconds * 1e3, total > 0 ? 100 * seconds / total : 0,
                r->forward_bytes / 1e6);
        if (r->flops > 0)
            fprintf(out, "%9.4g %8.2f\n", r->flops / 1e6,
                    seconds > 0 ? r->flops / seconds / 1e9 : 0);
        else
            fprintf(out, "%9s %8s\n", "-", "-");
    }
    fprintf(out, "%-16s %7lld %11s %7s %11s %10.3f %6.1f %9.3f %9.4g %8.2f\n", "total",
            (long long)calls, "", "", "", total * 1e3, n ? 100.0 : 0, total_bytes / 1e6,
            total_flops / 1e6, total > 0 ? total_flops / total / 1e9 : 0);
    if (tape && tape->profile && tape->profile->dropped)
        fprintf(out, "(%lld samples of ops without room in the table were dropped)\n",
                (long long)tape->profile->dropped);
    gt_free(rows);
}
