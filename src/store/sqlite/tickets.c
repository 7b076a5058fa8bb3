// SPDX-License-Identifier: MIT
/* Tickets and their clock projection: create (with the created event),
 * read, list, patch, the projected clocks and the engine's schedule. */
#include "sqlite_int.h"

#include "chain.h"
#include "chain_check.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns read_ticket() reads, in its order. */
#define TICKET_COLS                                                                                \
    "id, org_id, coalesce(created_by, 0), created_at, updated_at, last_seq, title, state, level,"  \
    " tier, category, region, channel, head_hash, coalesce(commitment_id, 0),"                     \
    " coalesce(assignee_id, 0), coalesce(team_id, 0), next_due, breached_at,"                      \
    " coalesce(requester_id, 0)"
/* The filters of struct kw_ticket_filter; ?7: 0 any, 1 breached, 2 not
 * breached as of ?8 (a running clock past its deadline counts). */
#define DUE_KEY "coalesce(next_due, 9223372036854775807)"
#define TICKET_FILTER                                                                              \
    "(?2 = 0 OR org_id = ?2) AND (?3 IS NULL OR state = ?3 OR (?3 = 'open' AND state <> "          \
    "'archived')) AND (?4 IS NULL OR level = ?4)"                                                  \
    " AND (?6 = 0 OR assignee_id = ?6) AND (?11 = 0 OR team_id = ?11)"                             \
    " AND (?7 = 0 OR (?7 = 1) = (breached_at IS NOT NULL OR " DUE_KEY " <= ?8))"                   \
    " AND (?9 IS NULL OR next_due < ?9) AND (?12 IS NULL OR category = ?12)"                       \
    " AND (?13 = 0 OR assignee_id IS NULL)"
/* Search (store.h, kw_ticket_filter.q): the newest ?16 matching texts of
 * the tickets TICKET_FILTER lets through (?15: internal notes too), ranked
 * by ticket: title first, then how many texts match, then the newest; only
 * the page's tickets are read then (a ticket's row is a page of its own to
 * read, hundreds per search at 1,000,000 tickets).
 * ?14 is an FTS5 query (each term as its covering trigrams, word_query,
 * or one of them, rare_query; ?26 .. ?31 the terms checked in the text
 * then, RECHECK_TERMS); the short form scans
 * the texts with id > ?17 for ?18 .. ?23 (lower-cased; NULL: no term),
 * since trigrams cannot find fewer than three characters. The texts the
 * FTS5 index has not read yet (id past search_upto, migration 033) are
 * scanned for the terms too (SEARCH_TAIL). ?1: offset. */
#define SEARCH_RANKED(hits)                                                                        \
    "SELECT " TICKET_COLS ", (SELECT text FROM search_text WHERE id = newest)"                     \
    " FROM (SELECT ticket AS hit, max(kind = 'title') AS in_title, count(*) AS n,"                 \
    " max(r) AS newest FROM (" hits " ORDER BY r DESC LIMIT ?16) GROUP BY ticket"                  \
    " ORDER BY in_title DESC, n DESC, newest DESC LIMIT ?5 OFFSET ?1)"                             \
    " JOIN tickets ON tickets.id = hit WHERE (?2 = 0 OR org_id = ?2)"                              \
    " ORDER BY in_title DESC, n DESC, newest DESC"
/* The matching texts of table (FTS: through the FTS5 index; search_text:
 * a scan) with where, r their id. SEARCH_BARE: when TICKET_FILTER has
 * nothing to do but the organisation, which the FTS5 query's scope already
 * holds to (a text's scope is its ticket's organisation, which never
 * changes; the ranked tickets are checked again), without reading each
 * text's ticket. */
#define SEARCH_HITS(table, r, where)                                                               \
    "SELECT search.ticket AS ticket, search.kind AS kind, " r " AS r FROM " table                  \
    " JOIN tickets ON tickets.id = search.ticket WHERE " where                                     \
    " AND (?15 OR search.kind <> 'note') AND " TICKET_FILTER
#define SEARCH_BARE(table, r, where)                                                               \
    "SELECT search.ticket AS ticket, search.kind AS kind, " r " AS r FROM " table " WHERE " where  \
    " AND (?15 OR search.kind <> 'note')"
/* The FTS5 index's matches (f), each text read from search_text itself: an
 * external content table's columns are read through a statement of FTS5's
 * own, run for each matching row, which cost as much as the match at
 * 1,000,000 tickets (a staff search for 打印机: 11.5 ms of CPU, 8.1 ms this
 * way). Ordered by f.rowid, which FTS5 delivers newest first. */
#define FTS "search AS f JOIN search_text AS search ON search.id = f.rowid"
#define FTS_MATCH "f.search MATCH ?14"
#define SEARCH_TERMS                                                                               \
    SHORT_TERM(18, 33)                                                                             \
    SHORT_TERM(19, 34) SHORT_TERM(20, 35) SHORT_TERM(21, 36) SHORT_TERM(22, 37) SHORT_TERM(23, 38)
/* ?26 .. ?31: the terms FTS5 is asked for by some of their trigrams only
 * (word_query, rare_query: checked), checked in the text. */
#define RECHECK_TERMS                                                                              \
    SHORT_TERM(26, 33)                                                                             \
    SHORT_TERM(27, 34) SHORT_TERM(28, 35) SHORT_TERM(29, 36) SHORT_TERM(30, 37) SHORT_TERM(31, 38)
#define SEARCH_TAIL                                                                                \
    " UNION ALL " SEARCH_HITS("search_text AS search", "search.rowid",                             \
                              "search.rowid > (SELECT id FROM search_upto)" SEARCH_TERMS)
/* The short search within one organisation: its texts after ?17. */
#define SCOPE_SCAN "search_text AS search INDEXED BY search_text_by_scope"
#define SCOPE_WHERE "search.scope = ?32 AND search.id > ?17"
/* kw_ticket_filter.order: ?24 is its index in KW_TICKET_ORDERS. */
#define ORDER_KEY                                                                                  \
    "CASE ?24 WHEN 1 THEN title WHEN 2 THEN state WHEN 3 THEN level WHEN 4 THEN " DUE_KEY          \
    " WHEN 5 THEN updated_at WHEN 6 THEN created_at ELSE id END"
/* Term ?n in the text; ?c: whether it has an ASCII letter. lower() copies
 * each text it reads, which a term in Chinese need not pay for, even beside
 * one in English (the terms without letters come first: kw_store_tickets). */
#define SHORT_TERM(n, c)                                                                           \
    " AND (?" #n " IS NULL OR instr(CASE WHEN ?" #c                                                \
    " THEN lower(search.text) ELSE search.text END, ?" #n ") > 0)"

enum stmt {
    S_ORG_EXISTS,
    S_TICKET_BY_KEY,
    S_TICKET_NEXT,
    S_TICKET_INSERT,
    S_TICKET_STATE,
    S_TICKET_GET,
    S_TICKETS,
    S_TICKETS_DUE,
    S_TICKETS_ASC,
    S_TICKETS_DESC,
    S_TICKETS_SEARCH,
    S_TICKETS_SCAN,
    S_TICKETS_SCAN_ORG,
    S_TICKETS_SEARCH_BARE,
    S_TICKETS_SCAN_BARE,
    S_TICKETS_SCAN_ORG_BARE,
    S_SEARCH_TOP,
    S_SEARCH_TOP_ORG,
    S_TICKET_SET,
    S_CLOCK_PUT,
    S_CLOCK_SET,
    S_CLOCK_ADD,
    S_CLOCK_ADD3,
    S_CLOCK_CLEAR,
    S_CLOCKS_STORED,
    S_TICKET_DUE,
    S_TICKET_DUE_STORED,
    S_TICKET_FIRE_AT,
    S_TICKET_PROJECTED,
    S_CLOCKS_OF,
    S_STALE,
    S_UNSTOPPED,
    S_RESTALE,
    S_FIRE_ALL,
    S_FIRE_ONE,
    S_DUE_CLAIM,
    S_CLAIM_END,
    S_CENSUS,
    S_CLOCK_RUNS,
    S_COUNT
};

_Static_assert(S_TICKETS_SCAN_ORG_BARE - S_TICKETS_SCAN_ORG ==
                       S_TICKETS_SEARCH_BARE - S_TICKETS_SEARCH &&
                   S_TICKETS_SCAN_BARE - S_TICKETS_SCAN == S_TICKETS_SEARCH_BARE - S_TICKETS_SEARCH,
               "each search statement's bare form is as far from it");

static const char *const sql[S_COUNT] = {
    [S_ORG_EXISTS] = "SELECT 1 FROM orgs WHERE id = ?1",
    [S_TICKET_BY_KEY] =
        "SELECT id, request_digest FROM tickets WHERE created_by = ?1 AND idempotency_key = ?2",
    /* the id SQLite gives a row without one (tickets has no AUTOINCREMENT) */
    [S_TICKET_NEXT] = "SELECT coalesce(max(id), 0) + 1 FROM tickets",
    /* ?13: the id (NULL: SQLite's), ?14 the head after the created event
     * (NULL: none yet, last_seq 0; kws_append_first); ?15 .. ?17 the
     * projection's due columns and ?18 1 when they are given (projected
     * then: S_TICKET_DUE's projected_seq = last_seq), else NULL and 0;
     * ?19 1: the commitment is ?20 as the caller read it in this
     * transaction (kw_ticket_new.commitment_read: the look-up's answer) */
    [S_TICKET_INSERT] =
        "INSERT INTO tickets(id, org_id, title, state, level, tier, category, region, channel,"
        " created_by, idempotency_key, created_at, updated_at, last_seq, head_hash, commitment_id,"
        " request_digest, requester_id, next_due, breached_at, fire_at, projected_seq)"
        " VALUES (?13, ?1, ?2, 'registered', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10,"
        " ?14 IS NOT NULL, coalesce(?14, zeroblob(32)),"
        " CASE WHEN ?19 THEN nullif(?20, 0) ELSE (SELECT id FROM commitments WHERE"
        " effective_from <= ?10 ORDER BY effective_from DESC, id DESC LIMIT 1) END, ?11,"
        " nullif(?12, 0), ?15, ?16, ?17,"
        " ?18 * (?14 IS NOT NULL))",
    [S_TICKET_STATE] = "SELECT state FROM tickets WHERE id = ?1",
    [S_TICKET_GET] = "SELECT " TICKET_COLS " FROM tickets WHERE id = ?1",
    [S_TICKETS] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER
                  " AND id > ?1 ORDER BY id LIMIT ?5",
    [S_TICKETS_DUE] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER " AND (" DUE_KEY
                      ", id) > (?10, ?1) ORDER BY " DUE_KEY ", id LIMIT ?5",
    [S_TICKETS_ASC] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER
                      " ORDER BY " ORDER_KEY ", id LIMIT ?5 OFFSET ?1",
    [S_TICKETS_DESC] = "SELECT " TICKET_COLS " FROM tickets WHERE " TICKET_FILTER
                       " ORDER BY " ORDER_KEY " DESC, id DESC LIMIT ?5 OFFSET ?1",
    [S_TICKETS_SEARCH] =
        SEARCH_RANKED(SEARCH_HITS(FTS, "f.rowid", FTS_MATCH RECHECK_TERMS) SEARCH_TAIL),
    [S_TICKETS_SCAN] = SEARCH_RANKED(
        SEARCH_HITS("search_text AS search", "search.rowid", "search.rowid > ?17" SEARCH_TERMS)),
    /* one organisation's texts (scope ?32), indexed or waiting, newest
     * first: search_text_by_scope holds them together (migration 035) */
    [S_TICKETS_SCAN_ORG] =
        SEARCH_RANKED(SEARCH_HITS(SCOPE_SCAN, "search.rowid", SCOPE_WHERE SEARCH_TERMS)),
    [S_TICKETS_SEARCH_BARE] =
        SEARCH_RANKED(SEARCH_BARE(FTS, "f.rowid", FTS_MATCH RECHECK_TERMS) SEARCH_TAIL),
    [S_TICKETS_SCAN_BARE] = SEARCH_RANKED(
        SEARCH_BARE("search_text AS search", "search.rowid", "search.rowid > ?17" SEARCH_TERMS)),
    [S_TICKETS_SCAN_ORG_BARE] =
        SEARCH_RANKED(SEARCH_BARE(SCOPE_SCAN, "search.rowid", SCOPE_WHERE SEARCH_TERMS)),
    [S_SEARCH_TOP] = "SELECT coalesce(max(id), 0) FROM search_text",
    /* where the newest ?2 indexed texts of a scope (?1) begin; also how
     * recent the ?2-th newest text with a trigram is (rare_query) */
    [S_SEARCH_TOP_ORG] =
        "SELECT rowid - 1 FROM search WHERE search MATCH ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
    [S_TICKET_SET] = "UPDATE tickets SET level = coalesce(?2, level),"
                     " category = coalesce(?3, category),"
                     " assignee_id = CASE WHEN ?4 < 0 THEN NULL WHEN ?4 > 0 THEN ?4"
                     " ELSE assignee_id END,"
                     " team_id = CASE WHEN ?5 < 0 THEN NULL WHEN ?5 > 0 THEN ?5 ELSE team_id END,"
                     " title = coalesce(?6, title), region = coalesce(?7, region),"
                     " requester_id = CASE WHEN ?8 > 0 THEN ?8 ELSE requester_id END"
                     " WHERE id = ?1",
    [S_CLOCK_PUT] = "INSERT OR REPLACE INTO clocks(ticket_id, metric, status, deadline, next_due,"
                    " next_pct) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* a stored row: changed in place, without the delete and the insert of
     * a replace */
    [S_CLOCK_SET] = "UPDATE clocks SET status = ?3, deadline = ?4, next_due = ?5, next_pct = ?6"
                    " WHERE ticket_id = ?1 AND metric = ?2",
    /* a new ticket's: it has no rows to replace (#20) */
    [S_CLOCK_ADD] = "INSERT INTO clocks(ticket_id, metric, status, deadline, next_due, next_pct)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* three at once (a commitment's usual response, resolution and one
     * more): one statement's start and end instead of three; OR FAIL, as
     * the held runs (kpi.c): a statement of several rows that could abort
     * would copy each page it changes into the statement journal first,
     * and a failure fails the unit anyway (migration 044 took the foreign
     * key, the other reason to abort) */
    [S_CLOCK_ADD3] =
        "INSERT OR FAIL INTO clocks(ticket_id, metric, status, deadline, next_due, next_pct)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6), (?1, ?7, ?8, ?9, ?10, ?11),"
        " (?1, ?12, ?13, ?14, ?15, ?16)",
    [S_CLOCK_CLEAR] = "DELETE FROM clocks WHERE ticket_id = ?1",
    /* what kw_store_clocks_put compares with: on the primary key, unsorted */
    [S_CLOCKS_STORED] = "SELECT metric, status, deadline, next_due, next_pct FROM clocks"
                        " WHERE ticket_id = ?1",
    [S_TICKET_DUE] = "UPDATE tickets SET next_due = ?2, breached_at = ?3, fire_at = ?4,"
                     " projected_seq = last_seq WHERE id = ?1",
    /* what kw_store_clocks_put compares with, and what it writes when only
     * the schedule moved (a firing) or nothing did (a comment): a column
     * set is an index entry deleted and inserted again, even with its
     * value unchanged (three indexes: tickets_by_due, tickets_fire,
     * tickets_breached) */
    [S_TICKET_DUE_STORED] = "SELECT next_due, breached_at, fire_at FROM tickets WHERE id = ?1",
    [S_TICKET_FIRE_AT] = "UPDATE tickets SET fire_at = ?2, projected_seq = last_seq WHERE id = ?1",
    [S_TICKET_PROJECTED] = "UPDATE tickets SET projected_seq = last_seq WHERE id = ?1",
    /* a new schedule ends a claim on the old one (kw_store_due_claim) */
    [S_CLAIM_END] = "DELETE FROM claims WHERE ticket = ?1",
    [S_CENSUS] = "SELECT 'tickets', state, count(*) FROM tickets GROUP BY state UNION ALL"
                 " SELECT 'outbox', state, count(*) FROM outbox GROUP BY state",
    [S_CLOCKS_OF] =
        "SELECT metric, status, deadline, next_due, coalesce(next_pct, 0) FROM clocks"
        " WHERE ticket_id = ?1 ORDER BY coalesce(deadline, 9223372036854775807), metric",
    [S_STALE] = "SELECT id FROM tickets WHERE projected_seq <> last_seq AND id > ?1"
                " ORDER BY id LIMIT ?2",
    [S_UNSTOPPED] = "SELECT count(*) FROM tickets t WHERE commitment_id = ?1 AND EXISTS"
                    " (SELECT 1 FROM clocks c WHERE c.ticket_id = t.id AND c.status IN"
                    " ('pending', 'running', 'paused', 'breached'))",
    [S_RESTALE] = "UPDATE tickets SET projected_seq = -1 WHERE commitment_id = ?1 AND EXISTS"
                  " (SELECT 1 FROM clocks c WHERE c.ticket_id = tickets.id AND c.status IN"
                  " ('pending', 'running', 'paused', 'breached'))",
    [S_FIRE_ALL] = "SELECT id, fire_at FROM tickets WHERE fire_at IS NOT NULL",
#define NOT_HELD                                                                                   \
    " AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.ticket = t.id AND c.until > ?1"               \
    " AND c.node <> ?2)"
    /* the hinted tickets ?5 (a JSON array) first, on the primary key, then
     * the oldest due, through the partial index tickets_fire (fire_at <= ?1
     * implies fire_at IS NOT NULL) */
    [S_DUE_CLAIM] = "INSERT OR REPLACE INTO claims(ticket, node, until) SELECT id, ?2, ?3 FROM"
                    " (SELECT 0 AS k, fire_at, id FROM tickets t WHERE id IN (SELECT value FROM"
                    " json_each(?5)) AND fire_at <= ?1" NOT_HELD " UNION ALL SELECT * FROM"
                    " (SELECT 1, fire_at, id FROM tickets t WHERE fire_at <= ?1" NOT_HELD
                    " AND id NOT IN (SELECT value FROM json_each(?5)) ORDER BY fire_at, id"
                    " LIMIT ?4)) ORDER BY k, fire_at, id LIMIT ?4 RETURNING ticket",
#undef NOT_HELD
    [S_FIRE_ONE] = "SELECT fire_at FROM tickets WHERE id = ?1",
    [S_CLOCK_RUNS] = "SELECT c.metric, c.status, c.deadline, c.next_due, coalesce(c.next_pct, 0),"
                     " c.ticket_id FROM clocks c JOIN tickets t ON t.id = c.ticket_id"
                     " WHERE c.metric = ?1 AND c.status IN ('running', 'breached')"
                     " AND (?2 = 0 OR t.team_id = ?2)"
                     " ORDER BY coalesce(c.deadline, 9223372036854775807), c.ticket_id LIMIT ?3",
};

const struct kws_catalogue kws_tickets_sql = {sql, S_COUNT};

static sqlite3_stmt *prep(struct kw_store *st, enum stmt s)
{
    return kws_prep(st, KWS_TICKETS, (int)s);
}

/* For a statement whose parameters are all bound before each step. */
static sqlite3_stmt *bound(struct kw_store *st, enum stmt s)
{
    return kws_prep_bound(st, KWS_TICKETS, (int)s);
}

/* The node as stored with a claim: a 31-bit FNV-1a hash of its name. Two
 * node names with the same hash would share their claims; the thresholds
 * still fire once (they are read back from the events in the firing
 * transaction). */
static int64_t node_key(const char *node)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)(node ? node : ""); *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int64_t)(h & 0x7fffffff);
}

static void read_clock(sqlite3_stmt *x, struct kw_clock_row *out)
{
    *out = (struct kw_clock_row){
        .metric = (const char *)sqlite3_column_text(x, 0),
        .status = (const char *)sqlite3_column_text(x, 1),
        .deadline = sqlite3_column_type(x, 2) == SQLITE_NULL ? KW_STORE_NO_TIME
                                                             : sqlite3_column_int64(x, 2),
        .next_due = sqlite3_column_type(x, 3) == SQLITE_NULL ? KW_STORE_NO_TIME
                                                             : sqlite3_column_int64(x, 3),
        .next_pct = sqlite3_column_int(x, 4),
    };
}
KWS_ROW_MAPPER(read_clock, struct kw_clock_row)

/* The id the next new ticket gets, when the open write transaction
 * inserted one before: a group commit's creates read max(id) once, not
 * each (#20). A rollback, to a savepoint too, moves tx_seq and so forgets
 * it, with the rows it undid. */
static bool next_known(const struct kw_store *st, int64_t *next)
{
    if (!st->next_ticket.id || st->next_ticket.seq != st->tx_seq || sqlite3_get_autocommit(st->db))
        return false;
    *next = st->next_ticket.id;
    return true;
}

enum kw_code kw_store_ticket_create(struct kw_store *st, const struct kw_ticket_new *t, int64_t *id,
                                    bool *existed, struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    *existed = false;
    if (!t->title || !*t->title)
        return kw_err_set(err, KW_INVALID, "/title", "title: missing");
    if (!t->level || !*t->level)
        return kw_err_set(err, KW_INVALID, "/level", "level: missing");
    if (kws_text_ok(t->title, "/title", err) != KW_OK ||
        kws_text_ok(t->idempotency_key, "/idempotency_key", err) != KW_OK)
        return err->code;
    bool outer;
    if (kws_tx_begin(st, &outer, err) != KW_OK)
        return err->code;
    sqlite3_stmt *x;
    if (t->idempotency_key) {
        x = prep(st, S_TICKET_BY_KEY);
        sqlite3_bind_int64(x, 1, t->created_by);
        bind_text(x, 2, t->idempotency_key);
        if (sqlite3_step(x) == SQLITE_ROW) {
            *id = sqlite3_column_int64(x, 0);
            /* the key answers the request it was first used with; a row
             * from before digests were kept (NULL) answers any */
            bool other = t->request_digest && sqlite3_column_type(x, 1) == SQLITE_BLOB &&
                         (sqlite3_column_bytes(x, 1) != KW_HASH_BYTES ||
                          memcmp(sqlite3_column_blob(x, 1), t->request_digest, KW_HASH_BYTES) != 0);
            *existed = !other;
            sqlite3_reset(x);
            if (other)
                rc = kw_err_set(err, KW_UNPROCESSABLE, "",
                                "Idempotency-Key: already used for a different request (ticket "
                                "%lld); use a new key for a new ticket",
                                (long long)*id);
            return kws_tx_finish(st, outer, rc, err);
        }
        sqlite3_reset(x);
    }
    /* unless the caller read the organisation in this transaction (#20) */
    int found = SQLITE_ROW;
    if (!t->org_read) {
        x = prep(st, S_ORG_EXISTS);
        sqlite3_bind_int64(x, 1, t->org_id);
        found = sqlite3_step(x);
        sqlite3_reset(x);
    }
    if (found != SQLITE_ROW) {
        rc = found == SQLITE_DONE ? kw_err_set(err, KW_NOT_FOUND, "/org_id",
                                               "org_id: no organisation %lld", (long long)t->org_id)
                                  : kws_fail(st, err, "read organisation");
        return kws_tx_finish(st, outer, rc, err);
    }
    /* the created event's body, as every backend writes it (chain_check.c) */
    char *text = kw_created_body(t, err);
    if (!text)
        return kws_tx_finish(st, outer, err->code, err);
    /* With the text at hand, the row is inserted with its id and the
     * created event's chain head, so that the append neither reads the head
     * nor writes the row again (#20): the same row in the end. */
    unsigned char head[KW_HASH_BYTES];
    int64_t next;
    if (!next_known(st, &next)) {
        x = prep(st, S_TICKET_NEXT);
        int got = sqlite3_step(x);
        next = got == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
        sqlite3_reset(x);
        if (got != SQLITE_ROW) {
            free(text);
            return kws_tx_finish(st, outer, kws_fail(st, err, "read the next ticket id"), err);
        }
    }
    static const unsigned char zero[KW_HASH_BYTES];
    kw_event_hash(zero, next, 1, t->at, "created", t->created_by, text, head);
    x = bound(st, S_TICKET_INSERT);
    sqlite3_bind_int64(x, 1, t->org_id);
    bind_text(x, 2, t->title);
    bind_text(x, 3, t->level);
    bind_text(x, 4, t->tier);
    bind_text(x, 5, t->category);
    bind_text(x, 6, t->region);
    bind_text(x, 7, t->channel);
    sqlite3_bind_int64(x, 8, t->created_by);
    bind_text(x, 9, t->idempotency_key);
    sqlite3_bind_int64(x, 10, t->at);
    if (t->idempotency_key && t->request_digest)
        sqlite3_bind_blob(x, 11, t->request_digest, KW_HASH_BYTES, SQLITE_STATIC);
    else
        sqlite3_bind_null(x, 11);
    sqlite3_bind_int64(x, 12, t->requester_id);
    sqlite3_bind_int64(x, 13, next);
    sqlite3_bind_blob(x, 14, head, KW_HASH_BYTES, SQLITE_STATIC);
    /* with the created event's text at hand (last_seq 1), the projection
     * the caller computed is written with the row: the row and its due
     * indexes (tickets_by_due, tickets_fire) once, not inserted and then
     * moved by kw_store_clocks_put (#20) */
    bool due = t->due_known;
    if (due) {
        bind_instant(x, 15, t->next_due);
        bind_instant(x, 16, t->breached_at);
        bind_instant(x, 17, t->fire_at);
    } else {
        sqlite3_bind_null(x, 15);
        sqlite3_bind_null(x, 16);
        sqlite3_bind_null(x, 17);
    }
    sqlite3_bind_int(x, 18, due);
    sqlite3_bind_int(x, 19, t->commitment_read);
    sqlite3_bind_int64(x, 20, t->commitment_id);
    st->fresh_due.ticket = 0;
    st->fresh_row.ticket = 0;
    int step = sqlite3_step(x);
    sqlite3_reset(x);
    if (step != SQLITE_DONE) {
        free(text);
        return kws_tx_finish(st, outer, kws_fail(st, err, "insert ticket"), err);
    }
    *id = sqlite3_last_insert_rowid(st->db);
    st->next_ticket = (struct kws_next_ticket){st->tx_seq, *id + 1};
    /* the row's organisation and commitment, for its runs (kw_store_runs_put) */
    if (t->commitment_read)
        st->fresh_row = (struct kws_fresh_row){*id, t->org_id, t->commitment_id};
    if (due)
        st->fresh_due = (struct kws_fresh_due){*id, t->next_due, t->breached_at, t->fire_at};
    /* the search index takes the title and description as they are */
    const char *const texts[2] = {t->title, t->description};
    rc = kws_append_first(st, *id, t->org_id, "created", text, texts, t->created_by, t->at, head,
                          err);
    free(text);
    if (rc == KW_OK && t->head)
        memcpy(t->head, head, KW_HASH_BYTES);
    return kws_tx_finish(st, outer, rc, err);
}

/* The columns id .. commitment_id of S_TICKET_GET / S_TICKETS into a row. */
static void read_ticket(sqlite3_stmt *x, struct kw_ticket_row *out)
{
    *out = (struct kw_ticket_row){
        .id = sqlite3_column_int64(x, 0),
        .org_id = sqlite3_column_int64(x, 1),
        .created_by = sqlite3_column_int64(x, 2),
        .created_at = sqlite3_column_int64(x, 3),
        .updated_at = sqlite3_column_int64(x, 4),
        .last_seq = sqlite3_column_int64(x, 5),
        .title = (const char *)sqlite3_column_text(x, 6),
        .state = (const char *)sqlite3_column_text(x, 7),
        .level = (const char *)sqlite3_column_text(x, 8),
        .tier = (const char *)sqlite3_column_text(x, 9),
        .category = (const char *)sqlite3_column_text(x, 10),
        .region = (const char *)sqlite3_column_text(x, 11),
        .channel = (const char *)sqlite3_column_text(x, 12),
    };
    if (sqlite3_column_bytes(x, 13) == KW_HASH_BYTES)
        memcpy(out->head, sqlite3_column_blob(x, 13), KW_HASH_BYTES);
    out->commitment_id = sqlite3_column_int64(x, 14);
    out->assignee_id = sqlite3_column_int64(x, 15);
    out->team_id = sqlite3_column_int64(x, 16);
    out->next_due = column_instant(x, 17);
    out->breached_at = column_instant(x, 18);
    out->requester_id = sqlite3_column_int64(x, 19);
    if (sqlite3_column_count(x) > 20) /* a search's: the newest matching text */
        out->match = (const char *)sqlite3_column_text(x, 20);
}
KWS_ROW_MAPPER(read_ticket, struct kw_ticket_row)

enum kw_code kw_store_ticket_get(struct kw_store *st, int64_t id, struct kw_ticket_row *out,
                                 struct kw_err *err)
{
    /* The row stays current until the next call resets the statement. */
    sqlite3_stmt *x = prep(st, S_TICKET_GET);
    sqlite3_bind_int64(x, 1, id);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)id);
    if (rc != SQLITE_ROW)
        return kws_fail(st, err, "read ticket");
    read_ticket(x, out);
    return KW_OK;
}

/* Bind the filter's ?1 .. ?13 and run x. */
static enum kw_code bind_filter(struct kw_store *st, sqlite3_stmt *x,
                                const struct kw_ticket_filter *f,
                                bool (*fn)(const struct kw_ticket_row *t, void *ctx), void *ctx,
                                struct kw_err *err)
{
    sqlite3_bind_int64(x, 1, f->q || f->order ? (sqlite3_int64)f->offset : f->after);
    sqlite3_bind_int64(x, 2, f->org_id);
    bind_text(x, 3, f->state);
    bind_text(x, 4, f->level);
    sqlite3_bind_int64(x, 5, (sqlite3_int64)(f->limit ? f->limit : 50));
    sqlite3_bind_int64(x, 6, f->assignee_id);
    sqlite3_bind_int(x, 7, f->breached);
    sqlite3_bind_int64(x, 8, f->now);
    bind_instant(x, 9, f->due_before);
    sqlite3_bind_int64(x, 10, f->after_due);
    sqlite3_bind_int64(x, 11, f->team_id);
    bind_text(x, 12, f->category);
    sqlite3_bind_int(x, 13, f->unassigned);
    return EACH_ROW(st, x, read_ticket, fn, ctx, f->q ? "search tickets" : "list tickets", err);
}

/* The bytes of a term as FTS5 strings (word_query): at most a third of
 * its characters plus one, each of at most three characters (in bytes at
 * most the term's plus the last three's), each quoted, a quote inside
 * doubled, a space after each. */
#define WORD_QUERY_MAX (2 * (KW_SEARCH_TERM_MAX + 12) + 3 * (KW_SEARCH_TERM_MAX / 3 + 2))

/* A search split into its terms (store.h): as FTS5 strings in match
 * (word_query), and lower-cased (ASCII) into term[] for the scans and the
 * checks in the text. */
struct terms {
    size_t n;
    bool short_one;              /* a term of fewer than three characters */
    bool ascii[KW_SEARCH_TERMS]; /* the term has an ASCII letter (lower-case the text) */
    char term[KW_SEARCH_TERMS][KW_SEARCH_TERM_MAX + 1];
    char match[KW_SEARCH_TERMS * WORD_QUERY_MAX + 1];
    char query[KW_SEARCH_TERMS * WORD_QUERY_MAX + 48]; /* in columns, scoped */
};

/* The length of the space at p (ASCII space, tab, or U+3000), or 0. */
static size_t space_at(const char *p)
{
    if (*p == ' ' || *p == '\t')
        return 1;
    /* byte by byte: the text may end within three bytes */
    return (unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x80
               ? 3
               : 0;
}

static void word_query(char *out, size_t *m, const char *w);

static enum kw_code split_terms(const char *q, struct terms *t, struct kw_err *err)
{
    t->n = 0;
    t->short_one = false;
    for (const char *p = q; *p;) {
        size_t sp = space_at(p);
        if (sp) {
            p += sp;
            continue;
        }
        const char *start = p;
        while (*p && !space_at(p))
            p++;
        size_t len = (size_t)(p - start), chars = 0;
        if (t->n == KW_SEARCH_TERMS)
            return kw_err_set(err, KW_INVALID, "/q", "q: more than %d words", KW_SEARCH_TERMS);
        if (len > KW_SEARCH_TERM_MAX)
            return kw_err_set(err, KW_INVALID, "/q", "q: a word longer than %d bytes",
                              KW_SEARCH_TERM_MAX);
        char *w = t->term[t->n++];
        t->ascii[t->n - 1] = false;
        for (size_t i = 0; i < len; i++) {
            char c = start[i];
            chars += ((unsigned char)c & 0xC0) != 0x80;
            w[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            t->ascii[t->n - 1] |= w[i] >= 'a' && w[i] <= 'z';
        }
        w[len] = 0;
        t->short_one |= chars < 3;
    }
    if (!t->n)
        return kw_err_set(err, KW_INVALID, "/q", "q: no word to search for");
    size_t m = 0;
    for (size_t i = 0; i < t->n && !t->short_one; i++)
        word_query(t->match, &m, t->term[i]);
    t->match[m ? m - 1 : 0] = 0;
    return KW_OK;
}

/* Append the len bytes at s to out (at *m) as an FTS5 string: quoted, a
 * quote inside doubled. */
static void fts_string(char *out, size_t *m, const char *s, size_t len)
{
    out[(*m)++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            out[(*m)++] = '"';
        out[(*m)++] = s[i];
    }
    out[(*m)++] = '"';
}

/* Whether instr() on the text finds exactly what the trigram index finds
 * for w: ASCII (lower-cased on both sides) and characters without case
 * (U+3000 .. U+FEFF: CJK, kana, hangul); else w stays a phrase. */
static bool recheckable(const char *w)
{
    for (const unsigned char *p = (const unsigned char *)w; *p;) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        unsigned cp =
            (*p & 0xF0) == 0xE0 && p[1] && p[2]
                ? (unsigned)(*p & 0x0F) << 12 | (unsigned)(p[1] & 0x3F) << 6 | (p[2] & 0x3F)
                : 0;
        if (cp < 0x3000 || cp >= 0xFF00)
            return false;
        p += 3;
    }
    return true;
}

/* Append word w (three characters or more) to out (at *m) as FTS5
 * strings, each followed by a space: the index (migration 039,
 * detail=column) keeps no positions, so FTS5 refuses a phrase (a word of
 * four characters or more is one of trigrams) and a word is asked for by
 * the trigrams that cover it (at characters 0, 3, 6, ... and the last
 * three), the word then checked in the text (checked). */
static void word_query(char *out, size_t *m, const char *w)
{
    size_t off[KW_SEARCH_TERM_MAX + 1], chars = 0, len = strlen(w);
    for (size_t b = 0; b < len; b++)
        if (((unsigned char)w[b] & 0xC0) != 0x80)
            off[chars++] = b;
    off[chars] = len;
    for (size_t k = 0; k < chars; k += 3) {
        size_t at = k + 3 <= chars ? k : chars - 3;
        fts_string(out, m, w + off[at], off[at + 3] - off[at]);
        out[(*m)++] = ' ';
        if (at + 3 == chars)
            break;
    }
}

/* Whether a term of three characters or more is checked in each text the
 * index finds: a word of four characters or more (its trigrams are found
 * in any order), and any with a letter instr cannot fold as the index does
 * (so that every search folds the case of ASCII letters only, as the scans
 * do: store.h). */
static bool checked(const char *w)
{
    size_t chars = 0;
    for (const char *p = w; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    return chars > 3 || !recheckable(w);
}

/* The probes of rare_query: at most this many trigrams looked up per
 * search, each reading at most RARE_PROBE of its newest texts. */
#define RARE_PROBES 24
#define RARE_PROBE 256

/* How far back (in ids, below top) the RARE_PROBE-th newest text of an
 * FTS5 query q (one trigram, or a scope) is, or -1 when fewer have it.
 * Out: *back. */
static enum kw_code probe(struct kw_store *st, const char *q, size_t n, int64_t top, int64_t *back,
                          struct kw_err *err)
{
    sqlite3_stmt *y = prep(st, S_SEARCH_TOP_ORG);
    sqlite3_bind_text(y, 1, q, (int)n, SQLITE_STATIC);
    sqlite3_bind_int(y, 2, RARE_PROBE - 1);
    int rc = sqlite3_step(y);
    *back = rc == SQLITE_ROW ? top - sqlite3_column_int64(y, 0) : -1;
    sqlite3_reset(y);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kws_fail(st, err, "read the search index");
    return KW_OK;
}

/* How many of the texts up to top an FTS5 query (a trigram or a scope)
 * matches, from how far back its RARE_PROBE-th newest is (probe). */
static double share(int64_t back, int64_t top)
{
    return back < 0 ? RARE_PROBE : (double)RARE_PROBE * (double)top / (double)(back ? back : 1);
}

/* The FTS5 query of a search within one organisation (scope tok): every
 * term of four characters or more by its rarest trigram only (one that
 * instr cannot check as the index finds it by its trigrams, word_query),
 * checked in the text by instr (recheck[i]: the term when checked, else
 * NULL). A word of several
 * trigrams, ANDed with the organisation's doclist, makes FTS5 step every
 * trigram's doclist to each of the organisation's texts, reading all of a
 * frequent trigram's ("ter": a quarter of the texts), where the rarest
 * alone leaves a few hundred texts to check at 1,000,000 tickets. Rarest:
 * whose RARE_PROBE-th newest text is the oldest. Out: *entries, about how
 * many doclist entries FTS5 steps for the terms (each term's rarest
 * trigram's texts of the top), or -1 when a term is one that instr cannot
 * check as the index does (see scan_all). */
static enum kw_code rare_query(struct kw_store *st, struct terms *t, const char *tok, int64_t top,
                               const char *recheck[KW_SEARCH_TERMS], double *entries,
                               struct kw_err *err)
{
    size_t m = (size_t)snprintf(t->query, sizeof(t->query), "scope : \"%s\" AND text : (", tok);
    int probes = 0;
    *entries = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *w = t->term[i];
        size_t off[KW_SEARCH_TERM_MAX + 1], chars = 0, len = strlen(w);
        for (size_t b = 0; b < len; b++)
            if (((unsigned char)w[b] & 0xC0) != 0x80)
                off[chars++] = b;
        off[chars] = len;
        size_t best = 0;
        bool probed = chars >= 3 && recheckable(w) && probes + (int)(chars - 2) <= RARE_PROBES;
        recheck[i] = checked(w) ? w : NULL;
        if (probed) {
            int64_t rarest = INT64_MAX;
            for (size_t k = 0; k + 3 <= chars; k++, probes++) {
                char q[64];
                size_t n = (size_t)snprintf(q, sizeof(q), "text : ");
                fts_string(q, &n, w + off[k], off[k + 3] - off[k]);
                q[n] = 0;
                int64_t back;
                enum kw_code c = probe(st, q, n, top, &back, err);
                if (c != KW_OK)
                    return c;
                int64_t v = back < 0 ? -1 : top - back; /* the oldest is the rarest */
                if (v < rarest) {
                    rarest = v;
                    best = k;
                }
            }
            if (*entries >= 0)
                *entries += share(rarest < 0 ? -1 : top - rarest, top);
            fts_string(t->query, &m, w + off[best], off[best + 3] - off[best]);
            t->query[m++] = ' ';
        } else {
            *entries = -1;
            word_query(t->query, &m, w);
        }
    }
    t->query[m - 1] = ')';
    t->query[m] = 0;
    return KW_OK;
}

/* A text read by the scan of an organisation's texts costs about what this
 * many doclist entries stepped by FTS5 do (1,000,000 tickets: 40,000 texts
 * scanned for 网络 in 17 ms of CPU, 1,400,000 entries for 服务器 timeout in
 * 27 ms). */
#define SCAN_COST 20

/* Whether a search within one organisation reads all of its texts
 * (search_text_by_scope, S_TICKETS_SCAN_ORG with ?17 = 0) instead of the
 * FTS5 index: when FTS5 would step more doclist entries than SCAN_COST
 * times the organisation's texts (estimated from its RARE_PROBE-th newest,
 * at most KW_SEARCH_SCAN), so for words each in many texts (服务器 timeout:
 * two in a sixth of the texts each), and every term is checked by instr as
 * the index finds it (recheckable: the scan has no trigrams). The tickets
 * found are the same: the scan reads every text of the organisation,
 * newest first, and ranks the newest KW_SEARCH_RANKED matches as the
 * index's search does. */
static enum kw_code scan_all(struct kw_store *st, const char *tok, int64_t top, double entries,
                             bool *all, struct kw_err *err)
{
    *all = false;
    if (entries <= (double)SCAN_COST * RARE_PROBE)
        return KW_OK; /* fewer than any organisation's scan would cost */
    char q[32];
    size_t n = (size_t)snprintf(q, sizeof(q), "scope : \"%s\"", tok);
    int64_t back;
    enum kw_code c = probe(st, q, n, top, &back, err);
    if (c != KW_OK)
        return c;
    double texts = share(back, top);
    *all = texts <= KW_SEARCH_SCAN && entries > SCAN_COST * texts;
    return KW_OK;
}

enum kw_code kw_store_tickets(struct kw_store *st, const struct kw_ticket_filter *f,
                              bool (*fn)(const struct kw_ticket_row *t, void *ctx), void *ctx,
                              struct kw_err *err)
{
    struct terms *t = NULL;
    enum stmt s = f->by_due ? S_TICKETS_DUE : S_TICKETS;
    char tok[10];                               /* the organisation's scope */
    const char *recheck[KW_SEARCH_TERMS] = {0}; /* rare_query's */
    bool all = false;                           /* scan_all's */
    if (f->q) {
        t = malloc(sizeof(*t));
        if (!t)
            return kw_err_set(err, KW_NOMEM, "", "no memory for the search");
        if (split_terms(f->q, t, err) != KW_OK) {
            free(t);
            return err->code;
        }
        s = !t->short_one ? S_TICKETS_SEARCH : f->org_id ? S_TICKETS_SCAN_ORG : S_TICKETS_SCAN;
        for (size_t i = 0; i < t->n && !t->short_one; i++) /* word_query's words */
            recheck[i] = checked(t->term[i]) ? t->term[i] : NULL;
        if (f->org_id && !t->short_one) {
            /* within one organisation: the FTS5 query by each term's
             * rarest trigram, or all of its texts read (scan_all) */
            kws_scope_token(f->org_id, tok);
            int64_t top = 0;
            double entries = -1;
            sqlite3_stmt *y = prep(st, S_SEARCH_TOP);
            int yr = sqlite3_step(y);
            if (yr == SQLITE_ROW)
                top = sqlite3_column_int64(y, 0);
            sqlite3_reset(y);
            enum kw_code c = yr != SQLITE_ROW ? kws_fail(st, err, "read the search index")
                                              : rare_query(st, t, tok, top, recheck, &entries, err);
            if (c == KW_OK && entries >= 0)
                c = scan_all(st, tok, top, entries, &all, err);
            if (c != KW_OK) {
                free(t);
                return c;
            }
            if (all)
                s = S_TICKETS_SCAN_ORG;
        }
        /* nothing but the organisation (or nothing) to filter the tickets by */
        if (!f->state && !f->level && !f->category && !f->assignee_id && !f->team_id &&
            !f->breached && f->due_before == KW_STORE_NO_TIME && !f->unassigned)
            s = (enum stmt)(s + (S_TICKETS_SEARCH_BARE - S_TICKETS_SEARCH));
    }
    int key = 0;
    bool desc = false;
    if (!f->q && f->order) {
        static const char *const keys[] = {"id",  "title",   "state",  "level",
                                           "due", "updated", "created"};
        const char *o = f->order + (desc = f->order[0] == '-');
        key = -1;
        for (int i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++)
            if (strcmp(o, keys[i]) == 0)
                key = i;
        if (key < 0)
            return kw_err_set(err, KW_INVALID, "/sort",
                              "sort: expected one of %s, - first for "
                              "descending",
                              KW_TICKET_ORDERS);
        s = desc ? S_TICKETS_DESC : S_TICKETS_ASC;
    }
    sqlite3_stmt *x = prep(st, s);
    enum kw_code rc = KW_OK;
    if (s == S_TICKETS_ASC || s == S_TICKETS_DESC)
        sqlite3_bind_int(x, 24, key);
    if (t) {
        /* every term in the text column; with an organisation, its scope
         * too, so that FTS5 reads only its texts */
        kws_scope_token(f->org_id, tok);
        if (f->org_id && !t->short_one) {
        } else {
            int n = f->org_id ? snprintf(t->query, sizeof(t->query), "scope : \"%s\"", tok) : 0;
            if (!t->short_one)
                snprintf(t->query + n, sizeof(t->query) - (size_t)n, "%stext : (%s)",
                         n ? " AND " : "", t->match);
        }
    }
    if (t) {
        /* the terms: for the texts not indexed yet, the scans and the
         * checks of rare_query, those without an ASCII letter first (no
         * lower-cased copy of a text the first term already refused) */
        int k = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < t->n; i++)
                if (t->ascii[i] == (pass == 1)) {
                    bind_text(x, 18 + k, t->term[i]);
                    bind_text(x, 26 + k, recheck[i]);
                    sqlite3_bind_int(x, 33 + k++, t->ascii[i]);
                }
    }
    if (t && t->short_one) {
        /* the newest KW_SEARCH_SCAN texts (of the organisation) */
        int64_t top = 0;
        sqlite3_stmt *y = prep(st, f->org_id ? S_SEARCH_TOP_ORG : S_SEARCH_TOP);
        if (f->org_id) {
            bind_text(y, 1, t->query);
            sqlite3_bind_int(y, 2, KW_SEARCH_SCAN - 1);
        }
        int yr = sqlite3_step(y);
        if (yr == SQLITE_ROW)
            top = sqlite3_column_int64(y, 0) - (f->org_id ? 0 : KW_SEARCH_SCAN);
        else if (yr != SQLITE_DONE || !f->org_id)
            rc = kws_fail(st, err, "read the search index");
        sqlite3_reset(y);
        sqlite3_bind_int64(x, 17, top);
    }
    if (t && (f->org_id || !t->short_one))
        bind_text(x, 14, t->query);
    if (t && f->org_id && (t->short_one || all))
        sqlite3_bind_text(x, 32, tok, -1, SQLITE_TRANSIENT);
    if (all) /* from the oldest */
        sqlite3_bind_int64(x, 17, 0);
    if (t) {
        sqlite3_bind_int(x, 15, f->notes);
        sqlite3_bind_int(x, 16, KW_SEARCH_RANKED);
    }
    if (rc == KW_OK)
        rc = bind_filter(st, x, f, fn, ctx, err);
    free(t);
    return rc;
}

enum kw_code kw_store_ticket_set(struct kw_store *st, int64_t id, const struct kw_ticket_patch *p,
                                 struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TICKET_SET);
    sqlite3_bind_int64(x, 1, id);
    bind_text(x, 2, p->level);
    bind_text(x, 3, p->category);
    sqlite3_bind_int64(x, 4, p->assignee_id);
    sqlite3_bind_int64(x, 5, p->team_id);
    bind_text(x, 6, p->title);
    bind_text(x, 7, p->region);
    sqlite3_bind_int64(x, 8, p->requester_id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc == SQLITE_CONSTRAINT)
        return kws_missing(st,
                           (const struct kws_ref[]){{KWS_USERS, p->assignee_id, "/assignee_id"},
                                                    {KWS_TEAMS, p->team_id, "/team_id"},
                                                    {KWS_USERS, p->requester_id, "/requester_id"}},
                           3, "no such user or team", err);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "update ticket");
    return sqlite3_changes(st->db)
               ? KW_OK
               : kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)id);
}

/* Whether stored row x (S_CLOCKS_STORED) is r as kw_store_clocks_put writes it. */
static bool clock_same(sqlite3_stmt *x, const struct kw_clock_row *r)
{
    const char *status = column_text(x, 1);
    return status && strcmp(status, r->status) == 0 && column_instant(x, 2) == r->deadline &&
           column_instant(x, 3) == r->next_due &&
           (r->next_due == KW_STORE_NO_TIME ? sqlite3_column_type(x, 4) == SQLITE_NULL
                                            : sqlite3_column_type(x, 4) != SQLITE_NULL &&
                                                  sqlite3_column_int(x, 4) == r->next_pct);
}

#define CLOCKS_COMPARED 16 /* rows compared with what is stored; more are written again */

enum kw_code kw_store_clocks_put(struct kw_store *st, int64_t ticket, bool fresh,
                                 const struct kw_clock_row *rows, size_t n, int64_t next_due,
                                 int64_t breached_at, int64_t fire_at, struct kw_err *err)
{
    sqlite3_stmt *x;
    int rc = SQLITE_DONE;
    /* A firing projects the ticket again with most of its clocks as they
     * were (a threshold moves one clock's next_due): the rows that are
     * stored as they would be written are left alone; only when a stored
     * metric is no longer projected are they all cleared and written. */
    bool same[CLOCKS_COMPARED] = {0}, stored[CLOCKS_COMPARED] = {0}, clear = !fresh;
    if (!fresh && n <= CLOCKS_COMPARED) {
        x = prep(st, S_CLOCKS_STORED);
        sqlite3_bind_int64(x, 1, ticket);
        clear = false;
        while ((rc = sqlite3_step(x)) == SQLITE_ROW) {
            const char *metric = column_text(x, 0);
            size_t i = 0;
            while (i < n && !(metric && strcmp(metric, rows[i].metric) == 0))
                i++;
            if (i == n)
                clear = true; /* a metric no longer projected */
            else {
                same[i] = clock_same(x, &rows[i]);
                stored[i] = true;
            }
        }
        sqlite3_reset(x);
        if (rc != SQLITE_DONE)
            return kws_fail(st, err, "read clocks");
        if (clear)
            memset(same, 0, sizeof(same));
    }
    if (clear) {
        x = prep(st, S_CLOCK_CLEAR);
        sqlite3_bind_int64(x, 1, ticket);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    for (size_t i = 0; rc == SQLITE_DONE && i < n;) {
        if (i < CLOCKS_COMPARED && same[i]) {
            i++;
            continue;
        }
        /* a new ticket's rows in threes, in the same order */
        size_t k = fresh && n - i >= 3 ? 3 : 1;
        bool in_place = !clear && i < CLOCKS_COMPARED && stored[i];
        x = bound(st, k == 3     ? S_CLOCK_ADD3
                      : fresh    ? S_CLOCK_ADD
                      : in_place ? S_CLOCK_SET
                                 : S_CLOCK_PUT);
        sqlite3_bind_int64(x, 1, ticket);
        for (size_t j = 0; j < k; j++, i++) {
            int p = 2 + 5 * (int)j;
            bind_text(x, p, rows[i].metric);
            bind_text(x, p + 1, rows[i].status);
            bind_instant(x, p + 2, rows[i].deadline);
            bind_instant(x, p + 3, rows[i].next_due);
            if (rows[i].next_due == KW_STORE_NO_TIME)
                sqlite3_bind_null(x, p + 4);
            else
                sqlite3_bind_int(x, p + 4, rows[i].next_pct);
        }
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    /* a ticket this transaction inserted with these due columns: as stored */
    bool as_inserted = fresh && st->fresh_due.ticket == ticket &&
                       st->fresh_due.next_due == next_due &&
                       st->fresh_due.breached_at == breached_at && st->fresh_due.fire_at == fire_at;
    st->fresh_due.ticket = 0;
    /* the due columns as stored: only those that moved are written */
    bool due_same = false, breached_same = false, fire_same = false;
    if (rc == SQLITE_DONE && !as_inserted && !fresh) {
        x = prep(st, S_TICKET_DUE_STORED);
        sqlite3_bind_int64(x, 1, ticket);
        rc = sqlite3_step(x);
        if (rc == SQLITE_ROW) {
            due_same = column_instant(x, 0) == next_due;
            breached_same = column_instant(x, 1) == breached_at;
            fire_same = column_instant(x, 2) == fire_at;
            rc = SQLITE_DONE;
        }
        sqlite3_reset(x);
    }
    if (rc == SQLITE_DONE && !as_inserted) {
        enum stmt s = !due_same || !breached_same ? S_TICKET_DUE
                      : fire_same                 ? S_TICKET_PROJECTED
                                                  : S_TICKET_FIRE_AT;
        x = prep(st, s);
        sqlite3_bind_int64(x, 1, ticket);
        if (s == S_TICKET_DUE) {
            bind_instant(x, 2, next_due);
            bind_instant(x, 3, breached_at);
            bind_instant(x, 4, fire_at);
        } else if (s == S_TICKET_FIRE_AT) {
            bind_instant(x, 2, fire_at);
        }
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    /* a ticket just created has no claim: ids are not reused (tickets are
     * never deleted, and a claim rolled back with its ticket's insert) */
    if (rc == SQLITE_DONE && !fresh) {
        x = prep(st, S_CLAIM_END);
        sqlite3_bind_int64(x, 1, ticket);
        rc = sqlite3_step(x);
        sqlite3_reset(x);
    }
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "store clocks");
}

enum kw_code kw_store_ticket_state(struct kw_store *st, int64_t ticket, char *buf, size_t cap,
                                   struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_TICKET_STATE);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    if (rc == SQLITE_ROW)
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(x, 0));
    sqlite3_reset(x);
    if (rc == SQLITE_DONE)
        return kw_err_set(err, KW_NOT_FOUND, "", "no ticket %lld", (long long)ticket);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "read ticket");
}

enum kw_code kw_store_ticket_clocks(struct kw_store *st, int64_t ticket,
                                    bool (*fn)(const struct kw_clock_row *c, void *ctx), void *ctx,
                                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CLOCKS_OF);
    sqlite3_bind_int64(x, 1, ticket);
    return EACH_ROW(st, x, read_clock, fn, ctx, "read the clocks", err);
}

struct runs_cb {
    bool (*fn)(int64_t ticket, const struct kw_clock_row *c, void *ctx);
    void *ctx;
};

static bool runs_row(sqlite3_stmt *x, void *arg)
{
    const struct runs_cb *cb = arg;
    struct kw_clock_row row;
    read_clock(x, &row);
    return cb->fn(sqlite3_column_int64(x, 5), &row, cb->ctx);
}

enum kw_code
kw_store_clock_runs(struct kw_store *st, const char *metric, int64_t team_id, size_t limit,
                    bool (*fn)(int64_t ticket, const struct kw_clock_row *c, void *ctx), void *ctx,
                    struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CLOCK_RUNS);
    sqlite3_bind_text(x, 1, metric, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(x, 2, team_id);
    sqlite3_bind_int64(x, 3, (sqlite3_int64)limit);
    return kws_each_row(st, x, runs_row, &(struct runs_cb){fn, ctx}, "list running clocks", err);
}

/* Ids (column 0) into an array, as many as the statement's LIMIT. */
struct ids {
    int64_t *ids;
    size_t *n;
};

static bool add_id(sqlite3_stmt *x, void *arg)
{
    struct ids *out = arg;
    out->ids[(*out->n)++] = sqlite3_column_int64(x, 0);
    return true;
}

enum kw_code kw_store_clocks_unstopped(struct kw_store *st, int64_t commitment_id, int64_t *n,
                                       struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_UNSTOPPED);
    sqlite3_bind_int64(x, 1, commitment_id);
    int rc = sqlite3_step(x);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(x, 0) : 0;
    sqlite3_reset(x);
    return rc == SQLITE_ROW ? KW_OK : kws_fail(st, err, "count open clocks");
}

enum kw_code kw_store_clocks_restale(struct kw_store *st, int64_t commitment_id, int64_t *n,
                                     struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_RESTALE);
    sqlite3_bind_int64(x, 1, commitment_id);
    int rc = sqlite3_step(x);
    sqlite3_reset(x);
    if (rc != SQLITE_DONE)
        return kws_fail(st, err, "mark tickets for projection");
    *n = sqlite3_changes(st->db);
    return KW_OK;
}

enum kw_code kw_store_stale(struct kw_store *st, int64_t after, size_t max, int64_t *ids, size_t *n,
                            struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_STALE);
    sqlite3_bind_int64(x, 1, after);
    sqlite3_bind_int64(x, 2, (sqlite3_int64)max);
    struct ids out = {.ids = ids, .n = n};
    *n = 0;
    return kws_each_row(st, x, add_id, &out, "find stale tickets", err);
}

struct fire_cb {
    bool (*fn)(int64_t ticket, int64_t fire_at, void *ctx);
    void *ctx;
};

static bool fire_row(sqlite3_stmt *x, void *arg)
{
    const struct fire_cb *cb = arg;
    return cb->fn(sqlite3_column_int64(x, 0), sqlite3_column_int64(x, 1), cb->ctx);
}

enum kw_code kw_store_fire_all(struct kw_store *st,
                               bool (*fn)(int64_t ticket, int64_t fire_at, void *ctx), void *ctx,
                               struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_FIRE_ALL);
    struct fire_cb cb = {fn, ctx};
    return kws_each_row(st, x, fire_row, &cb, "read due tickets", err);
}

enum kw_code kw_store_fire_at(struct kw_store *st, int64_t ticket, int64_t *fire_at,
                              struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_FIRE_ONE);
    sqlite3_bind_int64(x, 1, ticket);
    int rc = sqlite3_step(x);
    *fire_at = rc == SQLITE_ROW ? column_instant(x, 0) : KW_STORE_NO_TIME;
    sqlite3_reset(x);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "read ticket");
}

/* Writes here are done when their call returns: nothing is pending. */
enum kw_code kw_store_flush(struct kw_store *st, struct kw_err *err)
{
    (void)st;
    (void)err;
    return KW_OK;
}

/* Reads here wait for no server: nothing to gain from reading ahead. */
enum kw_code kw_store_prefetch(struct kw_store *st, const int64_t *tickets, size_t n,
                               struct kw_err *err)
{
    (void)st;
    (void)tickets;
    (void)n;
    (void)err;
    return KW_OK;
}

enum kw_code kw_store_due_claim(struct kw_store *st, int64_t now, int64_t lease_s, const char *node,
                                const int64_t *hints, size_t n_hints, size_t limit,
                                int64_t *tickets, size_t *n, struct kw_err *err)
{
    char list[KW_STORE_CLAIM_HINTS * 21 + 3] = "["; /* "-9223372036854775808," each */
    size_t len = 1;
    for (size_t i = 0; i < n_hints && i < KW_STORE_CLAIM_HINTS; i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, i ? ",%lld" : "%lld",
                                (long long)hints[i]);
    snprintf(list + len, sizeof(list) - len, "]");
    sqlite3_stmt *x = prep(st, S_DUE_CLAIM);
    sqlite3_bind_int64(x, 1, now);
    sqlite3_bind_int64(x, 2, node_key(node));
    sqlite3_bind_int64(x, 3, now + lease_s);
    sqlite3_bind_int64(x, 4, (sqlite3_int64)limit);
    sqlite3_bind_text(x, 5, list, -1, SQLITE_TRANSIENT);
    struct ids out = {.ids = tickets, .n = n};
    *n = 0;
    /* every row must be stepped through for the UPDATE to finish */
    return kws_each_row(st, x, add_id, &out, "claim due tickets", err);
}

enum kw_code kw_store_census(struct kw_store *st,
                             void (*fn)(const char *table, const char *state, int64_t n, void *ctx),
                             void *ctx, struct kw_err *err)
{
    sqlite3_stmt *x = prep(st, S_CENSUS);
    int rc;
    while ((rc = sqlite3_step(x)) == SQLITE_ROW)
        fn((const char *)sqlite3_column_text(x, 0), (const char *)sqlite3_column_text(x, 1),
           sqlite3_column_int64(x, 2), ctx);
    sqlite3_reset(x);
    return rc == SQLITE_DONE ? KW_OK : kws_fail(st, err, "count tickets and outbox rows");
}
