// SPDX-License-Identifier: MIT
/* The writer's VFS (#20): the default one, except that a WAL file gathers
 * the frames SQLite writes one after the other (each frame is two writes,
 * its header and its page) and writes them in one call at the next sync.
 * A commit of 16 creates wrote about 50 frames in 100 pwrite calls; now
 * three (96 KiB each), then the sync. Durability is the sync's, as before: everything
 * gathered is written before the sync returns, and the WAL index that
 * makes frames visible to readers is updated after it (synchronous=FULL).
 * Before any other use of the file (a read, its size, a truncation, a
 * write elsewhere, closing it) what is gathered is written first, so the
 * file reads as if each write had been made at once. Other files are the
 * default VFS's own. */
#include "sqlite_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WALBUF_CAP (1024 * 1024) /* gathered at most; a commit larger is written in parts */
#define WALBUF_PART (96 * 1024)  /* bytes a write call */

struct wb_file {
    sqlite3_file base;
    sqlite3_file *real; /* the default VFS's, just after this struct */
    unsigned char *buf; /* WALBUF_CAP bytes, or NULL: not allocated yet */
    size_t len;         /* gathered, to be written at off */
    sqlite3_int64 off;
};

static sqlite3_vfs wb_vfs;
static sqlite3_vfs *wb_real;

static int flush(struct wb_file *f)
{
    size_t done = 0;
    int rc = SQLITE_OK;
    /* in parts below 128 KiB: the default VFS writes at most 0x1ffff bytes
     * a call (it masks the count), and says the disk is full when a call
     * it makes to finish a longer write was masked to nothing */
    while (rc == SQLITE_OK && done < f->len) {
        size_t part = f->len - done < WALBUF_PART ? f->len - done : WALBUF_PART;
        rc = f->real->pMethods->xWrite(f->real, f->buf + done, (int)part,
                                       f->off + (sqlite3_int64)done);
        if (rc == SQLITE_OK)
            done += part;
    }
    /* on failure what is left stays gathered, and the sync or read fails */
    if (done) {
        memmove(f->buf, f->buf + done, f->len - done);
        f->len -= done;
        f->off += (sqlite3_int64)done;
    }
    return rc;
}

static int wb_close(sqlite3_file *p)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *p, void *out, int amt, sqlite3_int64 off)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amt, off);
}

static int wb_write(sqlite3_file *p, const void *data, int amt, sqlite3_int64 off)
{
    struct wb_file *f = (struct wb_file *)p;
    size_t n = (size_t)amt;
    if (f->len && (off != f->off + (sqlite3_int64)f->len || f->len + n > WALBUF_CAP)) {
        int rc = flush(f); /* not the next bytes, or no room: what came before goes first */
        if (rc != SQLITE_OK)
            return rc;
    }
    if (!f->buf && n <= WALBUF_CAP)
        f->buf = malloc(WALBUF_CAP);
    if (!f->buf || n > WALBUF_CAP) /* no room at all: written as it comes */
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    if (!f->len)
        f->off = off;
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *p, int flags)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_size(sqlite3_file *p, sqlite3_int64 *size)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wb_lock(sqlite3_file *p, int lock)
{
    struct wb_file *f = (struct wb_file *)p;
    return f->real->pMethods->xLock(f->real, lock);
}

static int wb_unlock(sqlite3_file *p, int lock)
{
    struct wb_file *f = (struct wb_file *)p;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int wb_reserved(sqlite3_file *p, int *out)
{
    struct wb_file *f = (struct wb_file *)p;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wb_control(sqlite3_file *p, int op, void *arg)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = flush(f); /* a size hint, a chunk size: on the file as written */
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector(sqlite3_file *p)
{
    struct wb_file *f = (struct wb_file *)p;
    return f->real->pMethods->xSectorSize(f->real);
}

static int wb_caps(sqlite3_file *p)
{
    struct wb_file *f = (struct wb_file *)p;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* A WAL file has no shared memory and is not mapped: the version 1 methods. */
static const sqlite3_io_methods wb_methods = {
    .iVersion = 1,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_reserved,
    .xFileControl = wb_control,
    .xSectorSize = wb_sector,
    .xDeviceCharacteristics = wb_caps,
};

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags, int *out_flags)
{
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL)) /* the default VFS's file, in the room it asked for */
        return wb_real->xOpen(wb_real, name, p, flags, out_flags);
    struct wb_file *f = (struct wb_file *)p;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    int rc = wb_real->xOpen(wb_real, name, f->real, flags, out_flags);
    if (rc == SQLITE_OK || f->real->pMethods) /* SQLite closes a file that has methods */
        f->base.pMethods = &wb_methods;
    return rc;
}

static void wb_register(void)
{
    wb_real = sqlite3_vfs_find(NULL);
    if (!wb_real)
        return;
    wb_vfs = *wb_real;
    wb_vfs.zName = "kw-walbuf";
    wb_vfs.pNext = NULL;
    wb_vfs.szOsFile = (int)sizeof(struct wb_file) + wb_real->szOsFile;
    wb_vfs.xOpen = wb_open;
    if (sqlite3_vfs_register(&wb_vfs, 0) != SQLITE_OK)
        wb_real = NULL;
}

const char *kws_walbuf_vfs(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, wb_register);
    return wb_real ? wb_vfs.zName : NULL;
}
