/* hash.h - uthash wired to gradtape's allocator; running out of memory is an error, not exit. */
#ifndef GT_REPL_HASH_H
#define GT_REPL_HASH_H

#include "gradtape.h"

/* Set when uthash could not allocate; the caller reports it and the table stays usable. */
extern bool repl_hash_oom;

#define HASH_NONFATAL_OOM 1
#define uthash_malloc(size) gt_malloc((size), "repl: hash table")
#define uthash_free(ptr, size) gt_free(ptr)
#define uthash_nonfatal_oom(obj) (repl_hash_oom = true)
#define uthash_fatal(msg) (repl_hash_oom = true)

#include <uthash.h>

#endif
