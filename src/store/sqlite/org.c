// SPDX-License-Identifier: MIT
/* Organisations, teams, calendars and commitments (policy versions). */
#include "sqlite_int.h"

#include <stdlib.h>
#include <string.h>

enum stmt {
    S_ORG_INSERT,
    S_ORGS,
    S_ORG_GET,
    S_TEAM_INSERT,
    S_TEAMS,
    S_TEAM_GET,
    S_CALENDAR_PUT,
    S_CALENDARS,
    S_CALENDAR_GET,
    S_CALENDAR_LATEST,
    S_CALENDAR_VERSION_ADD,
    S_CALENDAR_VERSIONS,
    S_COMMITMENT_INSERT,
    S_COMMITMENT_DOC,
    S_COMMITMENTS,
    S_COMMITMENT_AT,
    S_COMMITMENT_USED,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_ORG_INSERT] = "INSERT INTO orgs(name, tier, region, calendar, contract_value_cents,"
                     " created_at, account_manager_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                     " nullif(?7, 0))",
    [S_ORGS] = "SELECT id, name, tier, region, calendar, contract_value_cents,"
               " coalesce(account_manager_id, 0), deactivated_at FROM orgs"
               " WHERE id > ?1 AND (?2 = 0 OR id = ?2) ORDER BY id LIMIT ?3",
    [S_ORG_GET] = "SELECT id, name, tier, region, calendar, contract_value_cents,"
                  " coalesce(account_manager_id, 0), deactivated_at FROM orgs WHERE id = ?1",
    [S_TEAM_INSERT] = "INSERT INTO teams(name, lead_id, created_at) VALUES (?1, nullif(?2, 0), ?3)",
    [S_TEAMS] = "SELECT id, name, coalesce(lead_id, 0) FROM teams ORDER BY id",
    [S_TEAM_GET] = "SELECT id, name, coalesce(lead_id, 0) FROM teams WHERE id = ?1",
    [S_CALENDAR_PUT] = "INSERT INTO calendars(name, spec, created_at) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT(name) DO UPDATE SET spec = excluded.spec",
    [S_CALENDARS] = "SELECT id, name, spec, (SELECT max(version) FROM calendar_versions v"
                    " WHERE v.calendar_id = c.id) FROM calendars c ORDER BY name",
    [S_CALENDAR_GET] = "SELECT id, name, spec, (SELECT max(version) FROM calendar_versions v"
                       " WHERE v.calendar_id = c.id) FROM calendars c WHERE name = ?1",
    [S_CALENDAR_LATEST] = "SELECT c.id, v.version, v.spec, v.saved_at FROM calendars c"
                          " LEFT JOIN calendar_versions v ON v.calendar_id = c.id"
                          " WHERE c.name = ?1 ORDER BY v.version DESC LIMIT 1",
    [S_CALENDAR_VERSION_ADD] = "INSERT INTO calendar_versions(calendar_id, version, spec, saved_at)"
                               " VALUES (?1, ?2, ?3, ?4)",
    [S_CALENDAR_VERSIONS] = "SELECT c.id, c.name, v.version, v.spec, v.saved_at"
                            " FROM calendars c JOIN calendar_versions v ON v.calendar_id = c.id"
                            " WHERE c.name = ?1 ORDER BY v.version",
    [S_COMMITMENT_INSERT] = "INSERT INTO commitments(name, version, effective_from, doc,"
                            " created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_COMMITMENT_DOC] = "SELECT doc FROM commitments WHERE id = ?1",
    [S_COMMITMENTS] = "SELECT id, name, version, effective_from, created_at FROM commitments"
                      " ORDER BY effective_from, id",
    [S_COMMITMENT_AT] = "SELECT id FROM commitments WHERE effective_from <= ?1"
                        " ORDER BY effective_from DESC, id DESC LIMIT 1",
    [S_COMMITMENT_USED] = "SELECT EXISTS(SELECT 1 FROM tickets WHERE org_id = ?1"
                          " AND commitment_id = ?2)",
};

const struct kws_catalogue kws_org_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_ORG, (int)s);
}

static void read_commitment(sqlite3_stmt *x, struct kw_commitment_row *out)
{
    *out = (struct kw_commitment_row){
        .id = sqlite3_column_int64(x, 0),
        .name = (const char *)sqlite3_column_text(x, 1),
        .version = (const char *)sqlite3_column_text(x, 2),
        .effective_from = sqlite3_column_int64(x, 3),
        .created_at = sqlite3_column_int64(x, 4),
    };
}
KWS_ROW_MAPPER(read_commitment, struct kw_commitment_row)

enum kw_code kw_store_org_insert(struct kw_store *st, const struct kw_org *org, int64_t now,
                                 int64_t *id, struct kw_err *err)
{
    if (!org->name || !*org->name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (kws_text_ok(org->name, "/name", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_ORG_INSERT);
    bind_text(x, 1, org->name);
    bind_text(x, 2, org->tier);
    bind_text(x, 3, org->region);
    bind_text(x, 4, org->calendar);
    sqlite3_bind_int64(x, 5, org->contract_value_cents);
    sqlite3_bind_int64(x, 6, now);
    sqlite3_bind_int64(x, 7, org->account_manager_id);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return kw_err_set(err, KW_NOT_FOUND, "/account_manager_id",
                          "account_manager_id: no user %lld", (long long)org->account_manager_id);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_CONFLICT, "/name", "an organisation named \"%.60s\" exists",
                          org->name);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "insert organisation");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

static void read_org(sqlite3_stmt *x, struct kw_org *o)
{
    *o = (struct kw_org){
        .id = sqlite3_column_int64(x, 0),
        .name = (const char *)sqlite3_column_text(x, 1),
        .tier = (const char *)sqlite3_column_text(x, 2),
        .region = (const char *)sqlite3_column_text(x, 3),
        .calendar = (const char *)sqlite3_column_text(x, 4),
        .contract_value_cents = sqlite3_column_int64(x, 5),
        .account_manager_id = sqlite3_column_int64(x, 6),
        .deactivated_at = column_instant(x, 7),
    };
}
KWS_ROW_MAPPER(read_org, struct kw_org)

enum kw_code kw_store_orgs(struct kw_store *st, int64_t only, int64_t after, size_t limit,
                           bool (*fn)(const struct kw_org *o, void *ctx), void *ctx,
                           struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ORGS);
    sqlite3_bind_int64(x, 1, after);
    sqlite3_bind_int64(x, 2, only);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)limit);
    return EACH_ROW(st, x, read_org, fn, ctx, "list organisations", err);
}

enum kw_code kw_store_org_get(struct kw_store *st, int64_t id, struct kw_org *out,
                              struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_ORG_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        read_org(x, out); /* strings live until the next call resets x */
        return KW_OK;
    }
    sqlite3_reset(x);
    return rc == SQLITE_DONE
               ? kw_err_set(err, KW_NOT_FOUND, "", "no organisation %lld", (long long)id)
               : kws_fail(st, err, "read organisation");
}

enum kw_code kw_store_team_insert(struct kw_store *st, const char *name, int64_t lead_id,
                                  int64_t now, int64_t *id, struct kw_err *err)
{
    if (!name || !*name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    if (kws_text_ok(name, "/name", err) != KW_OK)
        return err->code;
    sqlite3_stmt *x = prep(st, S_TEAM_INSERT);
    bind_text(x, 1, name);
    sqlite3_bind_int64(x, 2, lead_id);
    sqlite3_bind_int64(x, 3, now);
    int rc = sqlite3_step(x);
    int ext = sqlite3_extended_errcode(st->db);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_UNIQUE)
        return kw_err_set(err, KW_CONFLICT, "/name", "a team named \"%.60s\" exists", name);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_NOT_FOUND, "/lead_id", "lead_id: no user %lld",
                          (long long)lead_id);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "insert team");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

/* id, name, and a text (calendars) or a reference (teams). */
static void read_named(sqlite3_stmt *x, struct kw_named_row *out)
{
    *out = (struct kw_named_row){
        .id = sqlite3_column_int64(x, 0),
        .name = (const char *)sqlite3_column_text(x, 1),
    };
    if (sqlite3_column_type(x, 2) == SQLITE_TEXT)
        out->text = (const char *)sqlite3_column_text(x, 2);
    else
        out->ref = sqlite3_column_int64(x, 2);
    if (sqlite3_column_count(x) > 3) /* calendars: the latest version */
        out->ref = sqlite3_column_int64(x, 3);
}
KWS_ROW_MAPPER(read_named, struct kw_named_row)

enum kw_code kw_store_teams(struct kw_store *st, int64_t only,
                            bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, only ? S_TEAM_GET : S_TEAMS);
    if (only)
        sqlite3_bind_int64(x, 1, only);
    return EACH_ROW(st, x, read_named, fn, ctx, "list teams", err);
}

enum kw_code kw_store_calendar_put(struct kw_store *st, const char *name, const char *spec,
                                   int64_t now, int64_t *id, struct kw_err *err)
{
    struct kw_calendar_saved saved;
    enum kw_code rc = kw_store_calendar_save(st, name, spec, now, &saved, err);
    *id = saved.id;
    return rc;
}

enum kw_code kw_store_calendar_save(struct kw_store *st, const char *name, const char *spec,
                                    int64_t now, struct kw_calendar_saved *out, struct kw_err *err)
{
    *out = (struct kw_calendar_saved){0};
    if (!name || !*name)
        return kw_err_set(err, KW_INVALID, "/name", "name: missing");
    /* the latest version: a save that changes nothing adds none */
    sqlite3_stmt *x = prep(st, S_CALENDAR_LATEST);
    bind_text(x, 1, name);
    int rc = sqlite3_step(x);
    int64_t last_at = INT64_MIN;
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(x, 0);
        out->version = sqlite3_column_int64(x, 1);
        last_at = sqlite3_column_type(x, 3) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(x, 3);
        const char *was = (const char *)sqlite3_column_text(x, 2);
        if (was && strcmp(was, spec) == 0) {
            out->saved_at = last_at;
            sqlite3_reset(x);
            return KW_OK;
        }
    }
    sqlite3_reset(x);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kws_fail(st, err, "read calendar");
    x = prep(st, S_CALENDAR_PUT);
    bind_text(x, 1, name);
    bind_text(x, 2, spec);
    sqlite3_bind_int64(x, 3, now);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "store calendar");
    if (!out->id) {
        x = prep(st, S_CALENDAR_GET);
        bind_text(x, 1, name);
        rc = sqlite3_step(x);
        out->id = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
        sqlite3_reset(x);
        if (rc != SQLITE_ROW)
            return kws_fail(st, err, "read calendar");
    }
    /* versions apply in the order they were saved, even when the clock
     * stepped back in between */
    out->saved_at = now > last_at ? now : last_at;
    out->version++;
    out->added = true;
    x = prep(st, S_CALENDAR_VERSION_ADD);
    sqlite3_bind_int64(x, 1, out->id);
    sqlite3_bind_int64(x, 2, out->version);
    bind_text(x, 3, spec);
    sqlite3_bind_int64(x, 4, out->saved_at);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "store calendar version");
}

static void read_version(sqlite3_stmt *x, struct kw_calendar_version *out)
{
    *out = (struct kw_calendar_version){
        .calendar_id = sqlite3_column_int64(x, 0),
        .name = (const char *)sqlite3_column_text(x, 1),
        .version = sqlite3_column_int64(x, 2),
        .spec = (const char *)sqlite3_column_text(x, 3),
        .saved_at = sqlite3_column_int64(x, 4),
    };
}
KWS_ROW_MAPPER(read_version, struct kw_calendar_version)

enum kw_code kw_store_calendar_versions(struct kw_store *st, const char *name,
                                        bool (*fn)(const struct kw_calendar_version *v, void *ctx),
                                        void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CALENDAR_VERSIONS);
    bind_text(x, 1, name);
    return EACH_ROW(st, x, read_version, fn, ctx, "list calendar versions", err);
}

enum kw_code kw_store_calendars(struct kw_store *st, const char *only,
                                bool (*fn)(const struct kw_named_row *r, void *ctx), void *ctx,
                                struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, only ? S_CALENDAR_GET : S_CALENDARS);
    if (only)
        bind_text(x, 1, only);
    return EACH_ROW(st, x, read_named, fn, ctx, "list calendars", err);
}

enum kw_code kw_store_commitment_insert(struct kw_store *st, const char *name, const char *version,
                                        int64_t effective_from, const char *doc, int64_t now,
                                        int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENT_INSERT);
    bind_text(x, 1, name);
    bind_text(x, 2, version);
    sqlite3_bind_int64(x, 3, effective_from);
    bind_text(x, 4, doc);
    sqlite3_bind_int64(x, 5, now);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT)
        return kw_err_set(err, KW_CONFLICT, "/version",
                          "version %.40s of \"%.60s\" exists; give the new one its own version",
                          version, name);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "insert commitment");
    *id = sqlite3_last_insert_rowid(st->db);
    return KW_OK;
}

enum kw_code kw_store_commitment_doc(struct kw_store *st, int64_t id, char **doc,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENT_DOC);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW) {
        *doc = strdup((const char *)sqlite3_column_text(x, 0));
        sqlite3_reset(x);
        return *doc ? KW_OK : kw_err_set(err, KW_NOMEM, "", "no memory");
    }
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no commitment %lld", (long long)id);
    return kws_fail(st, err, "read commitment");
}

enum kw_code kw_store_commitments(struct kw_store *st,
                                  bool (*fn)(const struct kw_commitment_row *c, void *ctx),
                                  void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENTS);
    return EACH_ROW(st, x, read_commitment, fn, ctx, "list commitments", err);
}

enum kw_code kw_store_commitment_at(struct kw_store *st, int64_t t, int64_t *id, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENT_AT);
    sqlite3_bind_int64(x, 1, t);
    int rc = sqlite3_step(x);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read commitments");
}

enum kw_code kw_store_commitment_used(struct kw_store *st, int64_t id, int64_t org_id, bool *used,
                                      struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_COMMITMENT_USED);
    sqlite3_bind_int64(x, 1, org_id);
    sqlite3_bind_int64(x, 2, id);
    int rc = sqlite3_step(x);
    *used = rc == SQLITE_ROW && sqlite3_column_int(x, 0) != 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read commitment use");
}
