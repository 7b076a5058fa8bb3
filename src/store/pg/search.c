// SPDX-License-Identifier: MIT
/*
 * search.c - ticket search on PostgreSQL (kw_ticket_filter.q), with the
 * SQLite backend's meaning (store.h): the table `search` holds one row per
 * title, description, comment and internal note (migration 5, written by
 * a trigger in the event's transaction; id: the order written). A text
 * matches when it contains every term, case-insensitively (ILIKE, which
 * pg_trgm's GIN index serves for terms of three or more characters); a
 * term of one or two characters makes the search scan only the newest
 * KW_SEARCH_SCAN texts, as on SQLite. The newest KW_SEARCH_RANKED matching
 * texts of the tickets the filter lets through are ranked by ticket: title
 * first, then how many texts match, then the newest.
 */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $1 offset, $2..$13 the filter (TICKET_FILTER), $14..$19 the terms as
 * ILIKE patterns (NULL: none), $20 notes too, $21 how many texts are
 * ranked, $22 the texts scanned are those with a greater id ($10, a
 * list's position by due time, is not used). */
static const char search_sql[] =
    "SELECT " TICKET_COLS ", (SELECT text FROM search WHERE id = newest)"
    " FROM tickets JOIN (SELECT ticket AS hit, bool_or(kind = 'title') AS in_title,"
    " count(*) AS n, max(r) AS newest FROM ("
    "SELECT s.ticket, s.kind, s.id AS r FROM search s JOIN tickets ON tickets.id = s.ticket"
    " WHERE s.id > $22 AND s.text ILIKE $14 AND ($10::bigint IS NULL OR true)"
    " AND ($15::text IS NULL OR s.text ILIKE $15) AND ($16::text IS NULL OR s.text ILIKE $16)"
    " AND ($17::text IS NULL OR s.text ILIKE $17) AND ($18::text IS NULL OR s.text ILIKE $18)"
    " AND ($19::text IS NULL OR s.text ILIKE $19)"
    " AND ($20 OR s.kind <> 'note') AND " TICKET_FILTER " ORDER BY s.id DESC LIMIT $21) h"
    " GROUP BY ticket) ranked ON hit = tickets.id"
    " ORDER BY in_title DESC, n DESC, newest DESC LIMIT $5 OFFSET $1";

/* The length of the space at p (ASCII space, tab, or U+3000), or 0. */
static size_t space_at(const char *p)
{
    if (*p == ' ' || *p == '\t')
        return 1;
    return (unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x80
               ? 3
               : 0;
}

/* q split into ILIKE patterns ("%term%", with %, _ and \ escaped). */
struct patterns {
    int n;
    bool short_one; /* a term of fewer than three characters */
    char pat[KW_SEARCH_TERMS][2 * KW_SEARCH_TERM_MAX + 3];
};

static enum kw_code split(const char *q, struct patterns *t, struct kw_err *err)
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
        size_t len = (size_t)(p - start), chars = 0, m = 0;
        if (t->n == KW_SEARCH_TERMS)
            return kw_err_set(err, KW_INVALID, "/q", "q: more than %d words", KW_SEARCH_TERMS);
        if (len > KW_SEARCH_TERM_MAX)
            return kw_err_set(err, KW_INVALID, "/q", "q: a word longer than %d bytes",
                              KW_SEARCH_TERM_MAX);
        char *w = t->pat[t->n++];
        w[m++] = '%';
        for (size_t i = 0; i < len; i++) {
            char c = start[i];
            chars += ((unsigned char)c & 0xC0) != 0x80;
            if (c == '%' || c == '_' || c == '\\')
                w[m++] = '\\';
            w[m++] = c;
        }
        w[m++] = '%';
        w[m] = 0;
        t->short_one |= chars < 3;
    }
    if (!t->n)
        return kw_err_set(err, KW_INVALID, "/q", "q: no word to search for");
    return KW_OK;
}

enum kw_code kwp_search(struct kw_store *st, const struct kw_ticket_filter *f,
                        bool (*fn)(const struct kw_ticket_row *t, void *ctx), void *ctx,
                        struct kw_err *err)
{
    struct patterns *t = malloc(sizeof(*t));
    if (!t)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the search");
    enum kw_code rc = split(f->q, t, err);
    int64_t floor = 0;
    if (rc == KW_OK && t->short_one) {
        kwp_flush(st);
        PGresult *top = PQexec(st->conn, "SELECT coalesce(max(id), 0) FROM search");
        if (top && PQresultStatus(top) == PGRES_TUPLES_OK)
            floor = kwp_col_int(top, 0, 0) - KW_SEARCH_SCAN;
        else
            rc = kw_err_set(err, KW_STORE, "", "%s: read the search index: %s", st->where,
                            PQerrorMessage(st->conn));
        PQclear(top);
    }
    if (rc != KW_OK) {
        free(t);
        return rc;
    }
    struct kwp_params p = {0};
    kwp_int(&p, f->offset);
    kwp_int(&p, f->org_id);
    kwp_text(&p, f->state);
    kwp_text(&p, f->level);
    kwp_int(&p, (int64_t)(f->limit ? f->limit : 50));
    kwp_int(&p, f->assignee_id);
    kwp_int(&p, f->breached);
    kwp_int(&p, f->now);
    kwp_instant(&p, f->due_before);
    kwp_int(&p, f->after_due);
    kwp_int(&p, f->team_id);
    kwp_text(&p, f->category);
    kwp_int(&p, f->unassigned);
    for (int i = 0; i < KW_SEARCH_TERMS; i++)
        kwp_text(&p, i < t->n ? t->pat[i] : NULL);
    kwp_text(&p, f->notes ? "true" : "false");
    kwp_int(&p, KW_SEARCH_RANKED);
    kwp_int(&p, floor);
    kwp_flush(st); /* not one of the catalogue's statements */
    PGresult *res = PQexecParams(st->conn, search_sql, p.n, NULL, p.v, p.len, p.fmt, 0);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        rc = kw_err_set(err, KW_STORE, "", "%s: search tickets: %s", st->where,
                        m ? m : PQerrorMessage(st->conn));
    }
    for (int r = 0; rc == KW_OK && r < PQntuples(res); r++) {
        struct kw_ticket_row row;
        kwp_read_ticket(res, r, &row);
        row.match = kwp_col_text(res, r, 20);
        if (!fn(&row, ctx))
            break;
    }
    PQclear(res);
    free(t);
    return rc;
}
