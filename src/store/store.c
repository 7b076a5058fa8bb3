// SPDX-License-Identifier: MIT
/* The store's backend selection: kw_store_open picks SQLite or PostgreSQL by
 * the location's form and wraps that backend's handle; every other call
 * goes through the dispatch generated from store.h (kw_dispatch.c). */
#include "store_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The backends' own versions of the calls defined here by hand (the names
 * kw_names_*.h give their kw_store_* definitions). */
struct kwsq_store *kwsq_open(const char *path, struct kw_err *err);
struct kwsq_store *kwsq_open_writer(const char *path, struct kw_err *err);
void kwsq_close(struct kwsq_store *st);
enum kw_code kwsq_restore(const char *backup, const char *db, struct kw_err *err);
int kwsq_schema_latest(void);
struct kwpg_store *kwpg_open(const char *conninfo, struct kw_err *err);
struct kwpg_store *kwpg_open_writer(const char *conninfo, struct kw_err *err);
void kwpg_close(struct kwpg_store *st);
enum kw_code kwpg_org_terms(struct kwpg_store *st, int64_t id, int64_t t, struct kw_org *out,
                            int64_t *commitment, struct kw_err *err);

bool kw_store_location_is_pg(const char *location)
{
    if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0)
        return true;
    /* libpq's "keyword = value" form: a word, then '=' (a file name with '='
     * in it can be written ./name) */
    const char *p = location;
    while (*p == ' ')
        p++;
    const char *word = p;
    while (isalpha((unsigned char)*p) || *p == '_')
        p++;
    if (p == word)
        return false;
    while (*p == ' ')
        p++;
    return *p == '=';
}

enum kw_code kw_store_missing(struct kw_err *err, const char *fn)
{
    return kw_err_set(err, KW_STORE, "", "%s is not implemented on PostgreSQL yet", fn);
}

static struct kw_store *wrap(const char *location, bool writer, struct kw_err *err)
{
    struct kw_store *st = calloc(1, sizeof(*st));
    if (!st) {
        kw_err_set(err, KW_NOMEM, "", "no memory for the store");
        return NULL;
    }
    if (kw_store_location_is_pg(location))
        st->pg = writer ? kwpg_open_writer(location, err) : kwpg_open(location, err);
    else
        st->sq = writer ? kwsq_open_writer(location, err) : kwsq_open(location, err);
    if (!st->pg && !st->sq) {
        free(st);
        return NULL;
    }
    return st;
}

struct kw_store *kw_store_open(const char *path, struct kw_err *err)
{
    return wrap(path, false, err);
}

struct kw_store *kw_store_open_writer(const char *path, struct kw_err *err)
{
    return wrap(path, true, err);
}

void kw_store_close(struct kw_store *st)
{
    if (!st)
        return;
    if (st->pg)
        kwpg_close(st->pg);
    else
        kwsq_close(st->sq);
    free(st);
}

enum kw_code kw_store_restore(const char *backup, const char *db, struct kw_err *err)
{
    if (kw_store_location_is_pg(db))
        return kw_err_set(err, KW_STORE, "",
                          "restore into PostgreSQL: use pg_restore (a backup"
                          " of a PostgreSQL desk is pg_dump's)");
    return kwsq_restore(backup, db, err);
}

int kw_store_schema_latest(void)
{
    return kwsq_schema_latest();
}

/* By hand: PostgreSQL reads both in one statement; elsewhere the two calls
 * (on SQLite each is a function call, no round trip). */
enum kw_code kw_store_org_terms(struct kw_store *st, int64_t id, int64_t t, struct kw_org *out,
                                int64_t *commitment, struct kw_err *err)
{
    if (st->pg)
        return kwpg_org_terms(st->pg, id, t, out, commitment, err);
    enum kw_code rc = kw_store_commitment_at(st, t, commitment, err);
    return rc == KW_OK ? kw_store_org_get(st, id, out, err) : rc;
}
