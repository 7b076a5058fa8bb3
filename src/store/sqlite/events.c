// SPDX-License-Identifier: MIT
/* The event log: append (hash-chained), list, verify; and the change log
 * (one row per ticket and unit of work, in commit order) that live feeds in
 * any process read. The canonical JSON and the chain hash are core's
 * (core/chain.h), so that every backend stores and hashes the same bytes. */
#include "sqlite_int.h"

#include "chain.h"
#include "chain_check.h"
#include "kw_buf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum stmt {
    S_TICKET_HEAD,
    S_TICKET_ADVANCE,
    S_EVENT_INSERT,
    S_EVENTS,
    S_CHANGE_ADD,
    S_CHANGES_SINCE,
    S_CHANGES_FIRST,
    S_CHANGES_HEAD,
    S_CHANGES_PRUNE,
    S_SEARCH_PUT,
    S_SEARCH_PUT_4,
    S_SEARCH_PUT_16,
    S_SEARCH_WAITING,
    S_SEARCH_INDEX,
    S_SEARCH_UPTO,
    S_KPI_STATE,
    S_KPI_RESOLVED,
    S_NOTIFY_STATE,
    S_NOTIFY_COMMENT,
    S_NOTIFY_REPLY,
    S_NOTIFY_CLOCK,
    S_NOTIFY_ASSIGNED,
    S_COUNT
};

#define SEARCH_PUT "INSERT OR FAIL INTO search_text(text, scope, ticket, kind) VALUES "
#define SEARCH_ROW "(?, coalesce(?, (SELECT " KWS_SEARCH_SCOPE " FROM tickets WHERE id = ?)), ?, ?)"
#define SEARCH_ROW4 SEARCH_ROW ", " SEARCH_ROW ", " SEARCH_ROW ", " SEARCH_ROW
#define SEARCH_PARAMS 5 /* a row's */

static const char *const sql[S_COUNT] = {
    [S_TICKET_HEAD] = "SELECT last_seq, head_hash, updated_at FROM tickets WHERE id = ?1",
    [S_TICKET_ADVANCE] = "UPDATE tickets SET last_seq = ?2, head_hash = ?3, updated_at = ?4,"
                         " state = coalesce(?5, state) WHERE id = ?1",
    [S_EVENT_INSERT] = "INSERT INTO events(ticket_id, seq, at, type, actor_id, body, hash)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_EVENTS] =
        "SELECT seq, at, type, actor_id, body, hash, ticket_id FROM events WHERE ticket_id = ?1"
        " ORDER BY seq",
    [S_CHANGE_ADD] = "INSERT INTO changes(ticket, at) VALUES (?1, ?2)",
    [S_CHANGES_SINCE] = "SELECT seq, ticket, at FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [S_CHANGES_FIRST] = "SELECT min(seq) FROM changes",
    [S_CHANGES_HEAD] = "SELECT coalesce(max(seq), 0) FROM changes",
    [S_CHANGES_PRUNE] = "DELETE FROM changes WHERE seq <= ?1",
    /* the searchable texts (migrations 019, 033), put at the commit
     * (kws_search_flush) 1, 4 and 16 a statement: a row's parameters are
     * its text, its scope (NULL: read with the ticket's organisation), its
     * ticket twice and its kind; OR FAIL, since a failure
     * fails the commit anyway (a statement of many rows that could abort
     * would copy each page it changes into the statement journal first) */
    [S_SEARCH_PUT] = SEARCH_PUT SEARCH_ROW,
    [S_SEARCH_PUT_4] = SEARCH_PUT SEARCH_ROW4,
    [S_SEARCH_PUT_16] = SEARCH_PUT SEARCH_ROW4 ", " SEARCH_ROW4 ", " SEARCH_ROW4 ", " SEARCH_ROW4,
    /* how many texts the FTS5 index has not read yet */
    [S_SEARCH_WAITING] =
        "SELECT coalesce(max(id), 0) - (SELECT id FROM search_upto) FROM search_text",
    [S_SEARCH_INDEX] = "INSERT INTO search(rowid, text, scope, ticket, kind)"
                       " SELECT id, text, scope, ticket, kind FROM search_text"
                       " WHERE id > (SELECT id FROM search_upto) ORDER BY id",
    [S_SEARCH_UPTO] = "UPDATE search_upto SET id = (SELECT coalesce(max(id), 0) FROM search_text)",
    /* What an event derives, written after its row (derive() below; until
     * migration 040 these were the AFTER INSERT triggers of 025 and 038):
     * ?1 ticket, ?2 seq, ?3 at, ?4 type, ?5 actor, ?6 body. A ticket's
     * state after each state and reopened event (038). */
    [S_KPI_STATE] = "INSERT INTO kpi_states(ticket_id, seq, at, state) VALUES (?1, ?2, ?3,"
                    " CASE WHEN ?4 = 'reopened' THEN coalesce(json_extract(?6, '$.state'),"
                    " 'handling') ELSE json_extract(?6, '$.state') END)",
    /* each "resolved" milestone (038) */
    [S_KPI_RESOLVED] = "INSERT INTO kpi_resolved(at, ticket_id, seq) SELECT ?3, ?1, ?2"
                       " WHERE json_extract(?6, '$.milestone') = 'resolved'",
    /* a state change (a move or a reopen) for the watchers but the one who made it */
    [S_NOTIFY_STATE] =
        "INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)"
        " SELECT w.user_id, ?1, ?2, 'state', ?5, ?3, json_extract(?6, '$.state')"
        " FROM watchers w JOIN users u ON u.id = w.user_id JOIN tickets t ON t.id = w.ticket_id"
        " WHERE w.ticket_id = ?1 AND w.user_id <> ?5 AND u.deactivated_at IS NULL"
        " AND (u.role <> 'customer' OR u.org_id = t.org_id)",
    /* any other comment for the watchers (not its author): customers of the
     * ticket's organisation only public ones; staff every one but a
     * customer's public comment, which S_NOTIFY_REPLY tells them of */
    [S_NOTIFY_COMMENT] =
        "INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)"
        " SELECT w.user_id, ?1, ?2, 'comment', ?5, ?3, substr(json_extract(?6, '$.text'), 1, 200)"
        " FROM watchers w JOIN users u ON u.id = w.user_id JOIN tickets t ON t.id = w.ticket_id"
        " WHERE w.ticket_id = ?1 AND w.user_id <> ?5 AND u.deactivated_at IS NULL"
        " AND CASE WHEN u.role = 'customer'"
        " THEN u.org_id = t.org_id AND NOT coalesce(json_extract(?6, '$.internal'), 0)"
        " ELSE coalesce(json_extract(?6, '$.internal'), 0)"
        " OR coalesce((SELECT role FROM users WHERE id = ?5), '') <> 'customer' END",
    /* a customer's public comment: the assignee and the staff who watch.
     * Each once, by id, as a UNION gave them, but without its temporary
     * B-tree (one opened, filled and cleared for every comment, #20): the
     * assignee is left out of the watchers' arm (a watcher is listed once
     * a ticket, the table's key), and ORDER BY merges the two arms, each
     * in order already (one row; the watchers' key). */
    [S_NOTIFY_REPLY] =
        "INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)"
        " SELECT who, ?1, ?2, 'customer_reply', ?5, ?3, substr(json_extract(?6, '$.text'), 1, 200)"
        " FROM (SELECT assignee_id AS who FROM tickets WHERE id = ?1 AND assignee_id IS NOT NULL"
        " UNION ALL SELECT w.user_id FROM watchers w JOIN users u ON u.id = w.user_id"
        " WHERE w.ticket_id = ?1 AND u.role <> 'customer' AND u.deactivated_at IS NULL"
        " AND w.user_id IS NOT (SELECT assignee_id FROM tickets WHERE id = ?1) ORDER BY 1)"
        " WHERE NOT coalesce(json_extract(?6, '$.internal'), 0)"
        " AND (SELECT role FROM users WHERE id = ?5) = 'customer'",
    /* a warning or breach: the assignee and the staff who watch the ticket
     * (once each, by id, as S_NOTIFY_REPLY finds them; clocks are the
     * provider's business, not told to customers) */
    [S_NOTIFY_CLOCK] =
        "INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at, detail)"
        " SELECT who, ?1, ?2, ?4, ?5, ?3, json_extract(?6, '$.metric')"
        " FROM (SELECT assignee_id AS who FROM tickets WHERE id = ?1 AND assignee_id IS NOT NULL"
        " UNION ALL SELECT w.user_id FROM watchers w JOIN users u ON u.id = w.user_id"
        " WHERE w.ticket_id = ?1 AND u.role <> 'customer' AND u.deactivated_at IS NULL"
        " AND w.user_id IS NOT (SELECT assignee_id FROM tickets WHERE id = ?1) ORDER BY 1)",
    /* the assignee when someone else assigns them */
    [S_NOTIFY_ASSIGNED] = "INSERT INTO notifications(user_id, ticket_id, seq, kind, actor_id, at)"
                          " SELECT id, ?1, ?2, 'assigned', ?5, ?3 FROM users"
                          " WHERE json_extract(?6, '$.assignee_id') IS NOT NULL"
                          " AND json_extract(?6, '$.assignee_id') <> ?5"
                          " AND id = json_extract(?6, '$.assignee_id') AND role <> 'customer'",
};

/* The FTS5 index reads the texts (search_text) this many at a time: it
 * writes a segment of its own at every commit that changed it, about twice
 * a text's cost when each group commit of 64 creates did (migration 033);
 * the texts not yet indexed are scanned by each search (tickets.c). */
#define SEARCH_BATCH 2048

const struct kws_catalogue kws_events_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_EVENTS, (int)s);
}

/* For a statement whose parameters are all bound before each step. */
static sqlite3_stmt *bound(struct kw_store *st, enum stmt s)
{
    return kws_prep_bound(st, KWS_EVENTS, (int)s);
}

/* The rows an event derives in its transaction: the KPI facts and the
 * notifications, in the order the triggers they replace fired (the newest
 * first), so notifications get their ids as before. An event of any other
 * type (a creation, a clock's start) derives nothing and costs nothing
 * here; the seven triggers cost every event about 25,000 instructions. */
static enum kw_code derive(struct kw_store *st, int64_t ticket, int64_t seq, int64_t at,
                           const char *type, int64_t actor, const char *body, struct kw_err *err)
{
    enum stmt todo[2];
    size_t n = 0;
    if (strcmp(type, "state") == 0 || strcmp(type, "reopened") == 0) {
        todo[n++] = S_KPI_STATE;
        todo[n++] = S_NOTIFY_STATE;
    } else if (strcmp(type, "milestone") == 0) {
        todo[n++] = S_KPI_RESOLVED;
    } else if (strcmp(type, "comment") == 0) {
        todo[n++] = S_NOTIFY_COMMENT;
        todo[n++] = S_NOTIFY_REPLY;
    } else if (strcmp(type, "sla_warning") == 0 || strcmp(type, "sla_breach") == 0) {
        todo[n++] = S_NOTIFY_CLOCK;
    } else if (strcmp(type, "assigned") == 0) {
        todo[n++] = S_NOTIFY_ASSIGNED;
    }
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *x = prep(st, todo[i]);
        sqlite3_bind_int64(x, 1, ticket);
        sqlite3_bind_int64(x, 2, seq);
        sqlite3_bind_int64(x, 3, at);
        sqlite3_bind_text(x, 4, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(x, 5, actor);
        sqlite3_bind_text(x, 6, body, -1, SQLITE_STATIC);
        int rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "write the event's facts and notifications");
    }
    return KW_OK;
}

/* Every this many changes, the writer deletes the changes older than the
 * newest KW_STORE_CHANGES_KEPT in the same transaction: about one row
 * deleted per row added, and never a write from another handle, which would
 * make the writer wait for the lock (docs/architecture.md). */
#define PRUNE_EVERY 1024

/* Record in the change log that ticket changed, once per ticket and unit of
 * work: st->changed_ticket remembers the ticket noted in the open unit (the
 * unit boundaries in db.c forget it, so a unit rolled back never leaves
 * a change unwritten). */
static enum kw_code note_change(struct kw_store *st, int64_t ticket, int64_t at, struct kw_err *err)
{
    if (st->changed_ticket == ticket)
        return KW_OK;
    sqlite3_stmt *x = bound(st, S_CHANGE_ADD);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, at);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "record a change");
    st->changed_ticket = ticket;
    int64_t seq = sqlite3_last_insert_rowid(st->db);
    if (seq % PRUNE_EVERY)
        return KW_OK;
    x = prep(st, S_CHANGES_PRUNE);
    sqlite3_bind_int64(x, 1, seq - KW_STORE_CHANGES_KEPT);
    rc = sqlite3_step(x);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "prune changes");
}

enum kw_code kws_change_note(struct kw_store *st, int64_t ticket, int64_t at, struct kw_err *err)
{
    return note_change(st, ticket, at, err);
}

static enum kw_code search_add(struct kw_store *st, int64_t ticket, const char *type,
                               const char *canon, struct kw_err *err);
static enum kw_code text_put(struct kw_store *st, int64_t ticket, int64_t org, const char *kind,
                             const char *s, struct kw_err *err);

enum kw_code kws_append(struct kw_store *st, int64_t ticket, const char *type, const char *body,
                        int64_t actor, int64_t at, const char *state, int64_t *seq,
                        struct kw_err *err)
{
    char *canon = kw_chain_canonical(body, err);
    if (!canon)
        return err ? err->code : KW_INVALID;
    enum kw_code rc =
        kws_append_canonical(st, ticket, type, canon, NULL, actor, at, state, seq, err);
    free(canon);
    return rc;
}

/* What an append writes once the event's number n and hash are known: the
 * event's row and what it derives, its search texts, its log leaf, the
 * ticket's new head (unless the ticket row already holds it: advance
 * false) and the change. */
static enum kw_code append_known(struct kw_store *st, int64_t ticket, int64_t org, int64_t n,
                                 int64_t at, const char *type, int64_t actor, const char *canon,
                                 const char *const texts[2],
                                 const unsigned char hash[KW_HASH_BYTES], bool advance,
                                 const char *state, struct kw_err *err)
{
    sqlite3_stmt *x = bound(st, S_EVENT_INSERT);
    sqlite3_bind_int64(x, 1, ticket);
    sqlite3_bind_int64(x, 2, n);
    sqlite3_bind_int64(x, 3, at);
    bind_text(x, 4, type);
    sqlite3_bind_int64(x, 5, actor);
    bind_text(x, 6, canon);
    sqlite3_bind_blob(x, 7, hash, KW_HASH_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "insert event");
    if (derive(st, ticket, n, at, type, actor, canon, err) != KW_OK)
        return err->code;
    /* the search index changes in the event's transaction (store.h) */
    enum kw_code code = KW_OK;
    if (texts && strcmp(type, "created") == 0) {
        /* given by the create: parsing canon again was 30,000 instructions (#20) */
        code = text_put(st, ticket, org, "title", texts[0], err);
        if (code == KW_OK)
            code = text_put(st, ticket, org, "comment", texts[1], err);
    } else if (strcmp(type, "created") == 0 || strcmp(type, "comment") == 0 ||
               strcmp(type, "edited") == 0) {
        code = search_add(st, ticket, type, canon, err);
    }
    if (code != KW_OK)
        return code;
    if (kws_log_append(st, "event", ticket, n, hash, KW_HASH_BYTES, err) != KW_OK)
        return err->code;
    if (advance) {
        x = prep(st, S_TICKET_ADVANCE);
        sqlite3_bind_int64(x, 1, ticket);
        sqlite3_bind_int64(x, 2, n);
        sqlite3_bind_blob(x, 3, hash, KW_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(x, 4, at);
        bind_text(x, 5, state);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "advance ticket");
    }
    if (note_change(st, ticket, at, err) != KW_OK)
        return err->code;
    /* whatever path closes a ticket, its receipt is due (docs/receipts.md) */
    if (state && strcmp(state, "archived") == 0 &&
        kws_receipt_open(st, ticket, n, at, err) != KW_OK)
        return err->code;
    return KW_OK;
}

enum kw_code kws_append_canonical(struct kw_store *st, int64_t ticket, const char *type,
                                  const char *canon, const char *const texts[2], int64_t actor,
                                  int64_t at, const char *state, int64_t *seq, struct kw_err *err)
{
    unsigned char prev[KW_HASH_BYTES], hash[KW_HASH_BYTES];
    sqlite3_stmt *x = prep(st, S_TICKET_HEAD);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(x);
        return rc == SQLITE_DONE
                   ? kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket)
                   : kws_fail(st, err, "read ticket");
    }
    int64_t n = sqlite3_column_int64(x, 0) + 1;
    if (sqlite3_column_bytes(x, 1) != KW_HASH_BYTES) {
        sqlite3_reset(x);
        return kw_err_set(err, KW_STORE, "", "ticket %lld has a damaged chain head",
                          (long long)ticket);
    }
    memcpy(prev, sqlite3_column_blob(x, 1), KW_HASH_BYTES);
    /* a ticket's events are in time order even if the clock steps back */
    if (at < sqlite3_column_int64(x, 2))
        at = sqlite3_column_int64(x, 2);
    sqlite3_reset(x);
    kw_event_hash(prev, ticket, n, at, type, actor, canon, hash);
    if (append_known(st, ticket, 0, n, at, type, actor, canon, texts, hash, true, state, err) !=
        KW_OK)
        return err->code;
    if (seq)
        *seq = n;
    return KW_OK;
}

enum kw_code kws_append_first(struct kw_store *st, int64_t ticket, int64_t org, const char *type,
                              const char *canon, const char *const texts[2], int64_t actor,
                              int64_t at, const unsigned char hash[KW_HASH_BYTES],
                              struct kw_err *err)
{
    return append_known(st, ticket, org, 1, at, type, actor, canon, texts, hash, false, NULL, err);
}

void kws_search_drop(struct kw_store *st, size_t n)
{
    while (st->n_texts > n)
        free(st->texts[--st->n_texts].text);
}

/* Hold s (NULL: nothing) as a text of kind for the index at the commit;
 * org, the ticket's organisation, gives its scope (0: the flush reads it
 * with the ticket). */
static enum kw_code text_put(struct kw_store *st, int64_t ticket, int64_t org, const char *kind,
                             const char *s, struct kw_err *err)
{
    if (!s)
        return KW_OK;
    if (!kw_grow((void **)&st->texts, &st->cap_texts, st->n_texts + 1, sizeof(*st->texts)))
        return kw_err_set(err, KW_NOMEM, "", "no memory for the search index");
    char *text = strdup(s);
    if (!text)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the search index");
    struct kws_text *t = &st->texts[st->n_texts++];
    *t = (struct kws_text){.ticket = ticket, .kind = kind, .text = text};
    if (org > 0 && org < KWS_SCOPE_ORGS)
        kws_scope_token(org, t->scope);
    return KW_OK;
}

static enum kw_code text_add(struct kw_store *st, int64_t ticket, const char *kind, json_t *v,
                             struct kw_err *err)
{
    return text_put(st, ticket, 0, kind, json_is_string(v) ? json_string_value(v) : NULL, err);
}

/* The searchable texts of a created event (its title and description), an
 * edited one (the new title or description) or a comment (a note when internal), held until the
 * commit: FTS5 writes what it holds at every statement and savepoint boundary of a transaction it
 * took part in, which cost about a fifth of a create when each unit of a group commit wrote to it.
 */
static enum kw_code search_add(struct kw_store *st, int64_t ticket, const char *type,
                               const char *canon, struct kw_err *err)
{
    json_t *b = json_loads(canon, 0, NULL);
    if (!b)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the search index");
    enum kw_code rc;
    if (strcmp(type, "created") == 0) {
        rc = text_add(st, ticket, "title", json_object_get(b, "title"), err);
        if (rc == KW_OK)
            rc = text_add(st, ticket, "comment", json_object_get(b, "description"), err);
    } else if (strcmp(type, "edited") == 0) {
        /* the new title or description; what it said before stays findable,
         * as the timeline still shows it */
        const char *field = json_string_value(json_object_get(b, "field"));
        rc = text_add(st, ticket, field && strcmp(field, "title") == 0 ? "title" : "comment",
                      json_object_get(b, "to"), err);
    } else {
        json_t *internal = json_object_get(b, "internal");
        bool note = json_is_true(internal) ||
                    (json_is_number(internal) && json_number_value(internal) != 0);
        rc = text_add(st, ticket, note ? "note" : "comment", json_object_get(b, "text"), err);
    }
    json_decref(b);
    return rc;
}

enum kw_code kws_search_flush(struct kw_store *st, struct kw_err *err)
{
    if (!st->n_texts)
        return KW_OK;
    /* in the order written: the newest texts get the highest ids (a
     * statement's rows are inserted in their order) */
    for (size_t i = 0; i < st->n_texts;) {
        size_t left = st->n_texts - i, k = left >= 16 ? 16 : left >= 4 ? 4 : 1;
        sqlite3_stmt *x = bound(st, k == 16  ? S_SEARCH_PUT_16
                                    : k == 4 ? S_SEARCH_PUT_4
                                             : S_SEARCH_PUT);
        for (size_t j = 0; j < k; j++, i++) {
            int p = SEARCH_PARAMS * (int)j;
            const struct kws_text *t = &st->texts[i];
            bind_text(x, p + 1, t->text);
            bind_text(x, p + 2, t->scope[0] ? t->scope : NULL);
            sqlite3_bind_int64(x, p + 3, t->ticket);
            sqlite3_bind_int64(x, p + 4, t->ticket);
            bind_text(x, p + 5, t->kind);
        }
        int rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "index the events for search");
    }
    kws_search_drop(st, 0);
    /* in the same transaction: the index never holds a text that is not */
    sqlite3_stmt *x = prep(st, S_SEARCH_WAITING);
    int rc = sqlite3_step(x);
    int64_t waiting = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    if (rc != SQLITE_ROW)
        return kws_fail(st, err, "read the search index");
    if (waiting < SEARCH_BATCH)
        return KW_OK;
    for (enum stmt s = S_SEARCH_INDEX; s <= S_SEARCH_UPTO; s++) {
        x = prep(st, s);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "index the texts for search");
    }
    return KW_OK;
}

enum kw_code kw_store_event_append(struct kw_store *st, int64_t ticket, const char *type,
                                   const char *body, int64_t actor, int64_t at, const char *state,
                                   int64_t *seq, struct kw_err *err)
{
    bool outer;
    if (kws_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    return kws_tx_finish(st, outer, kws_append(st, ticket, type, body, actor, at, state, seq, err),
                         err);
}

/* The row of S_EVENTS (ticket_id is the statement's ?1). */
static void read_event(sqlite3_stmt *x, struct kw_stored_event *out)
{
    *out = (struct kw_stored_event){
        .ticket = sqlite3_column_int64(x, 6),
        .seq = sqlite3_column_int64(x, 0),
        .at = sqlite3_column_int64(x, 1),
        .type = (const char *)sqlite3_column_text(x, 2),
        .actor = sqlite3_column_int64(x, 3),
        .body = (const char *)sqlite3_column_text(x, 4),
    };
    if (sqlite3_column_bytes(x, 5) == KW_HASH_BYTES)
        memcpy(out->hash, sqlite3_column_blob(x, 5), KW_HASH_BYTES);
}
KWS_ROW_MAPPER(read_event, struct kw_stored_event)

enum kw_code kw_store_events(struct kw_store *st, int64_t ticket,
                             bool (*fn)(const struct kw_stored_event *ev, void *ctx), void *ctx,
                             struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_EVENTS);
    sqlite3_bind_int64(x, 1, ticket);
    return EACH_ROW(st, x, read_event, fn, ctx, "read events", err);
}

enum kw_code kw_store_verify(struct kw_store *st, int64_t ticket, unsigned char *head,
                             struct kw_err *err)
{
    struct kw_chain_check v = {.expect_seq = 1};
    sqlite3_stmt *x = prep(st, S_TICKET_HEAD);
    sqlite3_bind_int64(x, 1, ticket);
    if (sqlite3_step(x) != SQLITE_ROW) {
        sqlite3_reset(x);
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    }
    int64_t last = sqlite3_column_int64(x, 0);
    unsigned char stored[KW_HASH_BYTES] = {0};
    if (sqlite3_column_bytes(x, 1) == KW_HASH_BYTES)
        memcpy(stored, sqlite3_column_blob(x, 1), KW_HASH_BYTES);
    sqlite3_reset(x);
    enum kw_code rc = kw_store_events(st, ticket, kw_chain_check_one, &v, err);
    if (rc != KW_OK)
        return rc;
    if (!v.why && v.expect_seq - 1 != last) {
        v.bad_seq = v.expect_seq;
        v.why = "is missing";
    }
    if (!v.why && memcmp(v.prev, stored, KW_HASH_BYTES) != 0) {
        v.bad_seq = last;
        v.why = "is not the ticket's recorded chain head";
    }
    if (v.why)
        return kw_err_set(err, KW_CONFLICT, "", "ticket %lld: event %lld %s", (long long)ticket,
                          (long long)v.bad_seq, v.why);
    if (head)
        memcpy(head, v.prev, KW_HASH_BYTES);
    return KW_OK;
}

/* ---- the change log ---- */

static void read_change(sqlite3_stmt *x, struct kw_change *out)
{
    *out = (struct kw_change){
        .seq = sqlite3_column_int64(x, 0),
        .ticket = sqlite3_column_int64(x, 1),
        .at = sqlite3_column_int64(x, 2),
    };
}

enum kw_code kw_store_changes_since(struct kw_store *st, int64_t after, struct kw_change *out,
                                    size_t max, size_t *n, struct kw_err *err)
{
    *n = 0;
    sqlite3_stmt *x = prep(st, S_CHANGES_SINCE);
    sqlite3_bind_int64(x, 1, after);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)max);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW)
        read_change(x, &out[(*n)++]);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "read changes");
    if (!*n || out[0].seq == after + 1)
        return KW_OK; /* nothing in between can be missing */
    /* seq may have gaps (rolled back rows, another backend's sequences):
     * changes were missed only if the oldest kept is past after + 1 */
    x = prep(st, S_CHANGES_FIRST);
    rc = sqlite3_step(x);
    int64_t first = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    if (rc != SQLITE_ROW)
        return kws_fail(st, err, "read changes");
    if (first > after + 1) {
        *n = 0;
        return kw_err_set(err, KW_RANGE, "",
                          "changes after %lld were pruned (the oldest kept is %lld)",
                          (long long)after, (long long)first);
    }
    return KW_OK;
}

enum kw_code kw_store_changes_head(struct kw_store *st, int64_t *seq, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CHANGES_HEAD);
    int rc = sqlite3_step(x);
    *seq = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read changes");
}
