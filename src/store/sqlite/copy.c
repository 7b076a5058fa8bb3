// SPDX-License-Identifier: MIT
/* Moving a desk (kw_store_copy_from) goes from SQLite to PostgreSQL only:
 * a SQLite database is copied with kw_store_backup. */
#include "sqlite_int.h"

enum kw_code kw_store_copy_from(struct kw_store *st, const char *from, struct kw_store_copied *out,
                                struct kw_err *err)
{
    (void)st;
    (void)from;
    if (out)
        *out = (struct kw_store_copied){0};
    return kw_err_set(err, KW_INVALID, "",
                      "the target of a copy must be a PostgreSQL database (to copy a SQLite "
                      "database to a file, use keepword backup)");
}
