/* error.c - the thread-local last error and the internal assert. */
#include "gt_tensor_impl.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_message[1024];
static _Thread_local gt_status last_status;

const char *gt_last_error(void) { return last_message; }

gt_status gt_last_status(void) { return last_status; }

void gt_clear_error(void) {
    last_message[0] = '\0';
    last_status = GT_OK;
}

gt_status gt_set_error(gt_status status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, args);
    va_end(args);
    last_status = status;
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
