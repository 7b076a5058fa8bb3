// SPDX-License-Identifier: MIT
/* SQLite's allocator (#20): the system's malloc behind a small cache per
 * thread. Debian's SQLite is built without lookaside (OMIT_LOOKASIDE), so
 * each statement's cursors, records and strings are a malloc and a free
 * (about 120 pairs a create, 5 % of the writer's instructions, much of it
 * glibc's free). Blocks up to MAX_SMALL bytes are rounded up to a class of
 * 16 bytes and, when freed, kept on the freeing thread's list of that class
 * (at most CACHE_BYTES a thread), to be handed out again without a call;
 * larger ones go to malloc. Every block keeps its usable size in the 8
 * bytes before it, as SQLite's own allocator does (mem1.c), so it is 8-byte
 * aligned and xSize needs no look-up. A thread's list is freed when it ends. */
#include "sqlite_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Under the sanitizers SQLite keeps its own allocator (kws_mem_install), so
 * they see each of its blocks. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#endif

#ifndef SANITIZED

#define GRAIN 16
#define MAX_SMALL 1024 /* bytes a block of the largest class holds */
#define CLASSES (MAX_SMALL / GRAIN)
#define CACHE_BYTES (64 << 10) /* kept by one thread at most */
#define HEAD 8                 /* the size before each block */

struct cache {
    void *list[CLASSES]; /* class c: blocks of (c + 1) * GRAIN bytes, linked by their first word */
    size_t bytes;
    bool keyed; /* the thread's destructor is set */
};

static _Thread_local struct cache tc;
static pthread_key_t key;
static bool have_key;

static size_t usable(const void *p)
{
    uint64_t n;
    memcpy(&n, (const char *)p - HEAD, sizeof(n));
    return (size_t)n;
}

static void *block(void *raw, size_t n)
{
    uint64_t v = n;
    memcpy(raw, &v, sizeof(v));
    return (char *)raw + HEAD;
}

static size_t round_up(size_t n)
{
    return n <= MAX_SMALL ? (n + GRAIN - 1) / GRAIN * GRAIN : (n + 7) & ~(size_t)7;
}

static void *mem_malloc(int n)
{
    if (n <= 0)
        return NULL;
    size_t size = round_up((size_t)n);
    if (size <= MAX_SMALL) {
        size_t c = size / GRAIN - 1;
        void *p = tc.list[c];
        if (p) {
            memcpy(&tc.list[c], p, sizeof(void *));
            tc.bytes -= size;
            return p; /* its size is still before it */
        }
    }
    void *raw = malloc(size + HEAD);
    return raw ? block(raw, size) : NULL;
}

/* Free every block this thread keeps (its end, or the cache's). */
static void drain(struct cache *c)
{
    for (size_t i = 0; i < CLASSES; i++)
        while (c->list[i]) {
            void *p = c->list[i];
            memcpy(&c->list[i], p, sizeof(void *));
            free((char *)p - HEAD);
        }
    c->bytes = 0;
}

static void thread_end(void *arg)
{
    struct cache *c = arg;
    drain(c);
    c->keyed = false; /* a later free sets it again, and POSIX calls this once more */
}

static void mem_free(void *p)
{
    if (!p)
        return;
    size_t size = usable(p);
    if (size > MAX_SMALL || tc.bytes + size > CACHE_BYTES) {
        free((char *)p - HEAD);
        return;
    }
    if (!tc.keyed) { /* freed at the thread's end; without a key, nothing is kept */
        if (!have_key || pthread_setspecific(key, &tc) != 0) {
            free((char *)p - HEAD);
            return;
        }
        tc.keyed = true;
    }
    size_t c = size / GRAIN - 1;
    memcpy(p, &tc.list[c], sizeof(void *));
    tc.list[c] = p;
    tc.bytes += size;
}

static int mem_size(void *p)
{
    return p ? (int)usable(p) : 0;
}

static void *mem_realloc(void *p, int n)
{
    if (n <= 0)
        return NULL;
    size_t have = usable(p), size = round_up((size_t)n);
    if (size <= MAX_SMALL && size <= have && have <= MAX_SMALL)
        return p; /* fits its class or a larger one: kept */
    if (size > MAX_SMALL && have > MAX_SMALL) {
        void *raw = realloc((char *)p - HEAD, size + HEAD);
        return raw ? block(raw, size) : NULL;
    }
    void *q = mem_malloc(n);
    if (q) {
        memcpy(q, p, have < size ? have : size);
        mem_free(p);
    }
    return q;
}

static int mem_roundup(int n)
{
    return n > 0 ? (int)round_up((size_t)n) : n;
}

static int mem_init(void *data)
{
    (void)data;
    if (!have_key) /* once: SQLite calls this again after a shutdown */
        have_key = pthread_key_create(&key, thread_end) == 0;
    return SQLITE_OK;
}

static void mem_shutdown(void *data)
{
    (void)data;
    drain(&tc);
}

void kws_mem_install(void)
{
    static const sqlite3_mem_methods methods = {
        mem_malloc, mem_free, mem_realloc, mem_size, mem_roundup, mem_init, mem_shutdown, NULL,
    };
    sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
}

#else

void kws_mem_install(void)
{
}

#endif
