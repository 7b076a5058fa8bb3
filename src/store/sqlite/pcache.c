// SPDX-License-Identifier: MIT
/* The page cache (#20): SQLite's own, except for one page number. When a
 * B-tree's balance puts new sibling pages in order it swaps two pages'
 * numbers through the lock page's number (btree.c, balance_nonroot: the
 * page of PENDING_BYTE, 262,145 with 4 KiB pages), which no page of a
 * database below 1 GiB comes near. SQLite's cache then remembers that number
 * as the largest it has held, and at the next commit, to drop the pages past
 * the database's end, it walks every slot of its hash table (pcache1.c,
 * pcache1TruncateUnsafe): up to 32,768 for the writer's 64 MiB, at each
 * commit after such a balance (7 % of a busy engine's samples at 100,000
 * tickets). Here that number is held as 0, which no page has and which
 * raises nothing; every other call is SQLite's. */
#include "sqlite_int.h"

#include <stdlib.h>

/* SQLite's lock page lies at this byte of the file (sqlite3PendingByte). */
#define LOCK_BYTE 0x40000000u

struct cache {
    sqlite3_pcache *real;
    unsigned lock_page; /* the lock page's number at this page size */
};

static sqlite3_pcache_methods2 real;

static unsigned lock_page_of(int page_size)
{
    return page_size > 0 ? LOCK_BYTE / (unsigned)page_size + 1 : 0;
}

/* The key page pgno is held under. */
static unsigned held(unsigned pgno, unsigned lock_page)
{
    return pgno == lock_page ? 0 : pgno;
}

unsigned kws_pcache_key(unsigned pgno, int page_size)
{
    return held(pgno, lock_page_of(page_size));
}

static sqlite3_pcache *create(int page_size, int extra, int purgeable)
{
    struct cache *c = malloc(sizeof(*c));
    if (!c)
        return NULL;
    c->real = real.xCreate(page_size, extra, purgeable);
    if (!c->real) {
        free(c);
        return NULL;
    }
    c->lock_page = lock_page_of(page_size);
    return (sqlite3_pcache *)c;
}

static void cachesize(sqlite3_pcache *p, int n)
{
    real.xCachesize(((struct cache *)p)->real, n);
}

static int pagecount(sqlite3_pcache *p)
{
    return real.xPagecount(((struct cache *)p)->real);
}

static sqlite3_pcache_page *fetch(sqlite3_pcache *p, unsigned pgno, int create_flag)
{
    struct cache *c = (struct cache *)p;
    return real.xFetch(c->real, held(pgno, c->lock_page), create_flag);
}

static void unpin(sqlite3_pcache *p, sqlite3_pcache_page *page, int discard)
{
    real.xUnpin(((struct cache *)p)->real, page, discard);
}

static void rekey(sqlite3_pcache *p, sqlite3_pcache_page *page, unsigned from, unsigned to)
{
    struct cache *c = (struct cache *)p;
    real.xRekey(c->real, page, held(from, c->lock_page), held(to, c->lock_page));
}

static void truncate_from(sqlite3_pcache *p, unsigned limit)
{
    real.xTruncate(((struct cache *)p)->real, limit);
}

static void destroy(sqlite3_pcache *p)
{
    struct cache *c = (struct cache *)p;
    real.xDestroy(c->real);
    free(c);
}

static void shrink(sqlite3_pcache *p)
{
    real.xShrink(((struct cache *)p)->real);
}

void kws_pcache_install(void)
{
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &real) != SQLITE_OK || !real.xCreate)
        return;
    sqlite3_pcache_methods2 ours = real;
    ours.xCreate = create;
    ours.xCachesize = cachesize;
    ours.xPagecount = pagecount;
    ours.xFetch = fetch;
    ours.xUnpin = unpin;
    ours.xRekey = rekey;
    ours.xTruncate = truncate_from;
    ours.xDestroy = destroy;
    ours.xShrink = ours.xShrink ? shrink : NULL;
    sqlite3_config(SQLITE_CONFIG_PCACHE2, &ours);
}
