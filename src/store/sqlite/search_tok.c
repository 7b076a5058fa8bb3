// SPDX-License-Identifier: MIT
/* kw_trigram, the FTS5 tokenizer of the search index (migration 039):
 * SQLite's trigram tokenizer (same arguments, same case folding) run on
 * each stretch of text between spaces (ASCII space, tab or U+3000), so
 * that it gives the text's trigrams less those that hold a space. A
 * search term never holds one (spaces separate the terms: store.h,
 * kw_ticket_filter.q), so no query asks for such a trigram, and they were
 * half of a text's trigrams in bench_search and most of the distinct ones:
 * what FTS5 tokenized, wrote and merged for nothing. The positions FTS5
 * gives the trigrams kept are not the text's (the index keeps none:
 * detail=column), so a word of four characters or more is checked in the
 * text (tickets.c). */
#include "sqlite_int.h"

#include <stdlib.h>

struct tok {
    fts5_tokenizer trigram; /* the built-in tokenizer's methods */
    Fts5Tokenizer *inner;   /* its instance, with our arguments */
};

struct pass {
    void *ctx;
    int (*token)(void *ctx, int flags, const char *p, int n, int start, int end);
    int at; /* where the run of text being tokenized begins */
};

/* The length of the space at p (ASCII space, tab, or U+3000), or 0; p is
 * before end. */
static int space_len(const char *p, const char *end)
{
    if (*p == ' ' || *p == '\t')
        return 1;
    return end - p >= 3 && (unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 &&
                   (unsigned char)p[2] == 0x80
               ? 3
               : 0;
}

/* A trigram of a run: its offsets made the text's. */
static int pass_on(void *ctx, int flags, const char *p, int n, int start, int end)
{
    struct pass *ps = ctx;
    return ps->token(ps->ctx, flags, p, n, ps->at + start, ps->at + end);
}

static int tok_create(void *api_v, const char **argv, int argc, Fts5Tokenizer **out)
{
    fts5_api *api = api_v;
    void *ud = NULL;
    struct tok *t = calloc(1, sizeof(*t));
    if (!t)
        return SQLITE_NOMEM;
    int rc = api->xFindTokenizer(api, "trigram", &ud, &t->trigram);
    if (rc == SQLITE_OK)
        rc = t->trigram.xCreate(ud, argv, argc, &t->inner);
    if (rc != SQLITE_OK) {
        free(t);
        return rc;
    }
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *p)
{
    struct tok *t = (struct tok *)p;
    if (t) {
        t->trigram.xDelete(t->inner);
        free(t);
    }
}

/* Each run of text between spaces through the trigram tokenizer: what it
 * gives is the text's trigrams less those that hold a space, without
 * reading (and folding) those. */
static int tok_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                        int (*token)(void *, int, const char *, int, int, int))
{
    struct tok *t = (struct tok *)p;
    struct pass ps = {ctx, token, 0};
    const char *end = text + n;
    for (const char *q = text; q < end;) {
        int sp = space_len(q, end);
        if (sp) {
            q += sp;
            continue;
        }
        const char *run = q;
        while (q < end && !space_len(q, end))
            q++;
        if (q - run < 3) /* fewer than three characters: no trigram */
            continue;
        ps.at = (int)(run - text);
        int rc = t->trigram.xTokenize(t->inner, &ps, flags, run, (int)(q - run), pass_on);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

int kws_search_tokenizer(sqlite3 *db)
{
    static fts5_tokenizer methods = {tok_create, tok_delete, tok_tokenize};
    fts5_api *api = NULL;
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &x, NULL) == SQLITE_OK) {
        sqlite3_bind_pointer(x, 1, &api, "fts5_api_ptr", NULL);
        sqlite3_step(x);
    }
    sqlite3_finalize(x);
    if (!api || api->iVersion < 2)
        return SQLITE_ERROR;
    return api->xCreateTokenizer(api, "kw_trigram", api, &methods, NULL);
}
