// SPDX-License-Identifier: MIT
/* Stored calendars: saving a version and what it reaches; see calendars.h. */
#include "calendars.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"

#define NAMING_MAX 1024 /* commitment versions naming one calendar */

struct ids {
    int64_t id[NAMING_MAX];
    size_t n;
};

static bool add_id(const struct kw_commitment_row *c, void *ctx)
{
    struct ids *x = ctx;
    if (x->n < NAMING_MAX)
        x->id[x->n++] = c->id;
    return true;
}

enum kw_code kw_app_calendar_save(struct kw_unit *u, const char *name, const char *spec,
                                  struct kw_calendar_saved *out, int64_t *marked,
                                  struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *marked = 0;
    enum kw_code rc = kw_store_calendar_save(u->st, name, spec, u->now, out, err);
    if (rc != KW_OK || !out->added)
        return rc;
    if ((rc = kw_clocks_calendar_saved(u->clocks, u->st, name, out->version, err)) != KW_OK)
        return rc;
    struct ids *x = calloc(1, sizeof(*x));
    if (!x)
        return kw_err_set(err, KW_NOMEM, "", "no memory");
    rc = kw_clocks_naming(u->st, name, add_id, x, err);
    for (size_t i = 0; rc == KW_OK && i < x->n; i++) {
        int64_t n = 0;
        rc = kw_store_clocks_restale(u->st, x->id[i], &n, err);
        *marked += n;
    }
    free(x);
    return rc;
}

struct impact {
    struct kw_commitment_row row[64];
    char text[64][2][KW_POLICY_ID_MAX * 4];
    size_t n;
};

static bool keep_row(const struct kw_commitment_row *c, void *ctx)
{
    struct impact *x = ctx;
    if (x->n == 64)
        return false;
    x->row[x->n] = *c;
    snprintf(x->text[x->n][0], sizeof(x->text[0][0]), "%s", c->name);
    snprintf(x->text[x->n][1], sizeof(x->text[0][1]), "%s", c->version);
    x->row[x->n].name = x->text[x->n][0];
    x->row[x->n].version = x->text[x->n][1];
    x->n++;
    return true;
}

enum kw_code kw_app_calendar_impact(struct kw_store *st, const char *name,
                                    bool (*fn)(const struct kw_commitment_row *c, int64_t open,
                                               void *ctx),
                                    void *ctx, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct impact *x = calloc(1, sizeof(*x));
    if (!x)
        return kw_err_set(err, KW_NOMEM, "", "no memory");
    enum kw_code rc = kw_clocks_naming(st, name, keep_row, x, err);
    for (size_t i = 0; rc == KW_OK && i < x->n; i++) {
        int64_t open = 0;
        if ((rc = kw_store_clocks_unstopped(st, x->row[i].id, &open, err)) == KW_OK &&
            !fn(&x->row[i], open, ctx))
            break;
    }
    free(x);
    return rc;
}
