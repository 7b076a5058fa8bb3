// SPDX-License-Identifier: MIT
/*
 * store_int.h - the handle store.h hands out: which backend it was opened on
 * and that backend's own handle (exactly one of sq and pg is set). Seen by
 * src/store/store.c and the dispatch generated from store.h
 * (scripts/store-dispatch.sh); the backends never see it.
 */
#ifndef KW_STORE_INT_H
#define KW_STORE_INT_H

#include <stdbool.h>

#include "store.h"

struct kwsq_store; /* src/store/sqlite/ */
struct kwpg_store; /* src/store/pg/ */

struct kw_store {
    struct kwsq_store *sq;
    struct kwpg_store *pg;
};

/* KW_STORE saying that fn has no PostgreSQL version yet (err may be NULL);
 * for the dispatch of a function src/store/pg/ does not define. */
enum kw_code kw_store_missing(struct kw_err *err, const char *fn);

#endif
