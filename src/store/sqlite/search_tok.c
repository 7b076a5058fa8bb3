// SPDX-License-Identifier: MIT
/* kw_trigram, the FTS5 tokenizer of the search index (migration 039):
 * SQLite's trigram tokenizer (same arguments, same case folding) less the
 * trigrams that hold a space (ASCII space, tab or U+3000). A search term
 * never holds one (they separate the terms: store.h, kw_ticket_filter.q),
 * so no query asks for such a trigram, and a text of words has one in
 * three of its trigrams with a space and most of its distinct ones: what
 * FTS5 writes and merges for them was a third or more of the index's cost
 * for a create. The positions of the trigrams kept are not the text's
 * (the index keeps none: detail=column), so a word of four characters or
 * more is checked in the text (tickets.c). */
#include "sqlite_int.h"

#include <stdlib.h>

struct tok {
    fts5_tokenizer trigram; /* the built-in tokenizer's methods */
    Fts5Tokenizer *inner;   /* its instance, with our arguments */
};

struct pass {
    void *ctx;
    int (*token)(void *ctx, int flags, const char *p, int n, int start, int end);
};

/* Whether the n bytes at p hold a space, a tab or U+3000. */
static bool has_space(const char *p, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ' ' || c == '\t' ||
            (c == 0xE3 && i + 2 < n && (unsigned char)p[i + 1] == 0x80 &&
             (unsigned char)p[i + 2] == 0x80))
            return true;
    }
    return false;
}

static int keep(void *ctx, int flags, const char *p, int n, int start, int end)
{
    struct pass *ps = ctx;
    return has_space(p, n) ? SQLITE_OK : ps->token(ps->ctx, flags, p, n, start, end);
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

static int tok_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                        int (*token)(void *, int, const char *, int, int, int))
{
    struct tok *t = (struct tok *)p;
    struct pass ps = {ctx, token};
    return t->trigram.xTokenize(t->inner, &ps, flags, text, n, keep);
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
