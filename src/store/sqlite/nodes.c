// SPDX-License-Identifier: MIT
/* Several nodes on one database (store.h): a SQLite database is served by
 * one process, so its singletons are always held and its log is locked by
 * the writer's transaction; commits are not announced (readers look at the
 * change log now and then). */
#include "sqlite_int.h"

enum kw_code kw_store_changes_wait(struct kw_store *st, int timeout_ms, int64_t *seq,
                                   struct kw_err *err)
{
    (void)st;
    (void)timeout_ms;
    *seq = 0;
    return kw_err_set(err, KW_STORE, "",
                      "SQLite announces no commits: read the change log now and then instead");
}

enum kw_code kw_store_singleton(struct kw_store *st, int64_t key, bool *held, struct kw_err *err)
{
    (void)st;
    (void)key;
    (void)err;
    *held = true;
    return KW_OK;
}

enum kw_code kw_store_log_lock(struct kw_store *st, struct kw_err *err)
{
    (void)st;
    (void)err;
    return KW_OK;
}
