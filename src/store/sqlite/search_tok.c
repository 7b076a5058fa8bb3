// SPDX-License-Identifier: MIT
/* kw_trigram, the FTS5 tokenizer of the search index (migration 039): the
 * trigrams of each stretch of text between spaces (ASCII space, tab or
 * U+3000), exactly as SQLite's trigram tokenizer (same arguments, same
 * case folding) gives them for that stretch, so the text's trigrams less
 * those that hold a space. A search term never holds one (spaces separate
 * the terms: store.h, kw_ticket_filter.q), so no query asks for such a
 * trigram, and they were half of a text's trigrams in bench_search and
 * most of the distinct ones: what FTS5 tokenized, wrote and merged for
 * nothing. The positions FTS5 gives the trigrams kept are not the text's
 * (the index keeps none: detail=column), so a word of four characters or
 * more is checked in the text (tickets.c).
 *
 * A stretch of ASCII (but NUL) and of well-formed characters that SQLite's
 * case folding leaves as they are (CJK, kana, Hangul, CJK and fullwidth
 * punctuation, emoji, the scopes' Private Use Area: caseless()) is cut into trigrams here, A-Z
 * folded, with the offsets SQLite gives (the token's bytes are the text's, so its end is its start
 * plus its length); any other stretch (Latin letters beyond ASCII, Greek, Cyrillic, malformed
 * UTF-8, NUL) goes through SQLite's tokenizer as it is, which folds through its Unicode tables per
 * character. The tokens are the same either way (tests/unit/
 * test_search_tok.c compares them), so an index written before stays
 * valid. */
#include "sqlite_int.h"

#include <stdlib.h>

struct tok {
    fts5_tokenizer trigram; /* the built-in tokenizer's methods */
    Fts5Tokenizer *inner;   /* its instance, with our arguments */
    bool fast;              /* no arguments: A-Z folded, as own() does */
};

struct pass {
    void *ctx;
    int (*token)(void *ctx, int flags, const char *p, int n, int start, int end);
    int at; /* where the run of text being tokenized begins */
};

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
    t->fast = argc == 0; /* case_sensitive 1 is SQLite's to honour */
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

/* Whether SQLite's case folding (sqlite3Fts5UnicodeFold, SQLite 3.40's
 * tables) leaves code point c, read from n bytes (3 or 4), as it is and
 * writes it back in as many: general punctuation, CJK symbols and
 * punctuation, kana, CJK ideographs, Yi, Hangul syllables, the Private Use
 * Area (an organisation's scope: tickets.c, scope_token), CJK
 * compatibility ideographs, fullwidth punctuation and lower-case letters,
 * halfwidth forms (3 bytes), and
 * everything from U+1F000 (emoji, CJK extensions; 4 bytes). Not
 * U+FFFE/U+FFFF, which SQLite reads as U+FFFD, nor an overlong form. */
static bool caseless(uint32_t c, int n)
{
    if (n == 4)
        return c >= 0x1F000 && c < 0x110000;
    return (c >= 0x2000 && c < 0x2126) || (c >= 0x3000 && c < 0xA640) ||
           (c >= 0xAC00 && c < 0xD800) || (c >= 0xE000 && c < 0xFB00) ||
           (c >= 0xFF00 && c < 0xFF21) || (c >= 0xFF3B && c < 0xFFFE);
}

/* What a byte is to scan(): a space (ASCII space or tab), ASCII of one
 * character (A-Z apart), the first byte of 3 or of 4, or anything else
 * (NUL, a continuation byte, the first byte of 2, 0xF5-0xFF), which leaves
 * the run to SQLite's tokenizer. */
enum { B_SPACE, B_ASCII, B_UPPER, B_LEAD3, B_LEAD4, B_OTHER };
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char byte_class[256] = {
    B_OTHER,      B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, /* 0x00 */
    B_ASCII,      B_SPACE, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, /* 0x08 */
    R16(B_ASCII),                                                                /* 0x10 */
    B_SPACE,      B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, /* 0x20 */
    B_ASCII,      B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, /* 0x28 */
    R16(B_ASCII),                                                                /* 0x30 */
    B_ASCII,      B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, /* 0x40 */
    B_UPPER,      B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, /* 0x48 */
    B_UPPER,      B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, B_UPPER, /* 0x50 */
    B_UPPER,      B_UPPER, B_UPPER, B_ASCII, B_ASCII, B_ASCII, B_ASCII, B_ASCII, /* 0x58 */
    R16(B_ASCII),                                                                /* 0x60 */
    R16(B_ASCII),                                                                /* 0x70 */
    R16(B_OTHER),                                                                /* 0x80 */
    R16(B_OTHER),                                                                /* 0x90 */
    R16(B_OTHER),                                                                /* 0xA0 */
    R16(B_OTHER),                                                                /* 0xB0 */
    R16(B_OTHER),                                                                /* 0xC0 */
    R16(B_OTHER),                                                                /* 0xD0 */
    R16(B_LEAD3),                                                                /* 0xE0 */
    B_LEAD4,      B_LEAD4, B_LEAD4, B_LEAD4, B_LEAD4, B_OTHER, B_OTHER, B_OTHER, /* 0xF0 */
    B_OTHER,      B_OTHER, B_OTHER, B_OTHER, B_OTHER, B_OTHER, B_OTHER, B_OTHER, /* 0xF8 */
};
#undef R16

static bool cont(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

/* Whether a space (ASCII space, tab or U+3000) begins at p, before end. */
static bool at_space(const unsigned char *p, const unsigned char *end)
{
    return *p == ' ' || *p == '\t' ||
           (end - p >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80);
}

/* The run of text from p (not a space) to the next space or end, in
 * *run_end; true when own() can cut it: every byte ASCII but NUL, or a
 * well-formed character of 3 or 4 bytes that caseless() accepts and no
 * further continuation byte after it (SQLite's reader would take that in
 * too). On false the run is found byte by byte, as SQLite's tokenizer was
 * always given it. *upper says whether the run holds any of A-Z. */
static bool scan(const unsigned char *p, const unsigned char *end, const unsigned char **run_end,
                 bool *upper)
{
    bool up = false, ok = true;
    while (p < end) {
        int k = byte_class[*p];
        if (k == B_ASCII) {
            p++;
            continue;
        }
        if (k == B_UPPER) {
            up = true;
            p++;
            continue;
        }
        if (k == B_SPACE)
            break;
        int n = k == B_LEAD3 ? 3 : 4;
        if (k != B_OTHER && end - p >= n && cont(p[1]) && cont(p[2]) && (n == 3 || cont(p[3]))) {
            uint32_t c = n == 3 ? (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 |
                                      (uint32_t)(p[2] & 0x3F)
                                : (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
                                      (uint32_t)(p[2] & 0x3F) << 6 | (uint32_t)(p[3] & 0x3F);
            if (c == 0x3000 && n == 3)
                break;
            if ((p + n == end || !cont(p[n])) && caseless(c, n)) {
                p += n;
                continue;
            }
        }
        ok = false; /* SQLite's: the run ends at the next space, byte by byte */
        while (p < end && !at_space(p, end))
            p++;
        break;
    }
    *run_end = p;
    *upper = up;
    return ok;
}

/* The length of the character at p in a run scan() accepted. */
static int char_len(unsigned char b)
{
    return b < 0x80 ? 1 : b < 0xF0 ? 3 : 4;
}

/* The trigrams of a run scan() accepted, as SQLite's tokenizer gives them:
 * each three characters in turn, A-Z folded, offsets in the text. */
static int own(const char *text, const char *run, const char *end, bool upper,
               int (*token)(void *, int, const char *, int, int, int), void *ctx)
{
    const unsigned char *p = (const unsigned char *)run, *e = (const unsigned char *)end;
    const unsigned char *c1, *c2, *c3;
    if (p >= e)
        return SQLITE_OK;
    c1 = p + char_len(*p);
    if (c1 >= e)
        return SQLITE_OK;
    c2 = c1 + char_len(*c1);
    for (; c2 < e; p = c1, c1 = c2, c2 = c3) {
        c3 = c2 + char_len(*c2);
        int n = (int)(c3 - p), start = (int)((const char *)p - text);
        const char *tok = (const char *)p;
        char buf[12];
        if (upper) {
            for (int i = 0; i < n; i++)
                buf[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + ('a' - 'A') : p[i]);
            tok = buf;
        }
        int rc = token(ctx, 0, tok, n, start, start + n);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* Each run of text between spaces cut into trigrams (own()) or through
 * SQLite's trigram tokenizer: what it gives is the text's trigrams less
 * those that hold a space, without reading (and folding) those. */
static int tok_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
                        int (*token)(void *, int, const char *, int, int, int))
{
    struct tok *t = (struct tok *)p;
    struct pass ps = {ctx, token, 0};
    const unsigned char *end = (const unsigned char *)text + n;
    for (const unsigned char *q = (const unsigned char *)text; q < end;) {
        if (byte_class[*q] == B_SPACE) {
            q++;
            continue;
        }
        if (at_space(q, end)) { /* U+3000 */
            q += 3;
            continue;
        }
        const unsigned char *run = q;
        bool upper;
        bool ok = scan(run, end, &q, &upper) && t->fast;
        if (q - run < 3) /* fewer than three characters: no trigram */
            continue;
        int rc;
        if (ok) {
            rc = own(text, (const char *)run, (const char *)q, upper, token, ctx);
        } else {
            ps.at = (int)((const char *)run - text);
            rc = t->trigram.xTokenize(t->inner, &ps, flags, (const char *)run, (int)(q - run),
                                      pass_on);
        }
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
