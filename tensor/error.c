/* error.c - the thread-local last error and the internal assert. */
#include "gt_tensor_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[GT__ERROR_SIZE];
static _Thread_local gt_status last_status;
/* A failure was recorded and no op has succeeded since: a NULL input is probably its result. */
static _Thread_local bool failed_since_success;

const char *gt_last_error(void) { return last_message; }

gt_status gt_last_status(void) { return last_status; }

void gt_clear_error(void) {
    last_message[0] = '\0';
    last_status = GT_OK;
    failed_since_success = false;
}

bool gt__failed_since_success(void) { return failed_since_success && last_status != GT_OK; }

void gt__note_success(void) { failed_since_success = false; }

void gt__error_save(gt__error_state *state) {
    memcpy(state->message, last_message, sizeof last_message);
    state->status = last_status;
    state->failed_since_success = failed_since_success;
}

void gt__error_restore(const gt__error_state *state) {
    memcpy(last_message, state->message, sizeof last_message);
    last_status = state->status;
    failed_since_success = state->failed_since_success;
}

gt_status gt_set_error(gt_status status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, args);
    va_end(args);
    last_status = status;
    failed_since_success = true;
    return status;
}

const char *gt_status_name(gt_status status) {
    switch (status) {
    case GT_OK: return "ok";
    case GT_ERR_SHAPE: return "shape error";
    case GT_ERR_ARG: return "bad argument";
    case GT_ERR_NOMEM: return "out of memory";
    case GT_ERR_IO: return "i/o error";
    case GT_ERR_FORMAT: return "bad file format";
    case GT_ERR_UNSUPPORTED: return "unsupported";
    case GT_ERR_STATE: return "bad state";
    case GT_ERR_NUMERIC: return "non-finite value";
    }
    return "unknown status";
}

void gt__assert_fail(const char *cond, const char *file, int line) {
    fprintf(stderr, "gradtape: internal error: %s (%s:%d)\n", cond, file, line);
    abort();
}
