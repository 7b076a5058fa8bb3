// SPDX-License-Identifier: MIT
/* keepword migrate and keepword init: the database and its first admin. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "store.h"

static const char usage_migrate[] =
    "usage: keepword migrate --db PATH\n"
    "\n"
    "Create the database at PATH if it does not exist and apply every schema\n"
    "migration it lacks (keepword serve does the same at start). Prints the\n"
    "schema version.\n";

static const char usage_init[] =
    "usage: keepword init --db PATH [--email ADDRESS]\n"
    "\n"
    "Create the database and its first admin account (default e-mail\n"
    "admin@localhost). The password is taken from the environment variable\n"
    "KEEPWORD_ADMIN_PASSWORD (8 bytes at least), or made up and printed once.\n"
    "Refuses a database that already has an admin.\n";

/* Parse --db PATH (and, for init, --email ADDRESS), then open the store,
 * which creates and migrates it. Prints the error itself. */
static int open_db(int argc, char **argv, const char *usage, const char **db, const char **email,
                   struct kw_store **st)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            *db = argv[++i];
        else if (email && strcmp(argv[i], "--email") == 0 && i + 1 < argc)
            *email = argv[++i];
        else
            return kw_cli_usage(usage, "unexpected argument \"%s\"", argv[i]);
    }
    if (!*db)
        return kw_cli_usage(usage, "--db PATH is required");
    struct kw_err err = {0};
    *st = kw_store_open(*db, &err);
    return *st ? KW_EXIT_OK : kw_cli_fail(NULL, &err);
}

int kw_cmd_migrate(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_migrate, stdout), KW_EXIT_OK;
    const char *db = NULL;
    struct kw_store *st = NULL;
    int rc = open_db(argc, argv, usage_migrate, &db, NULL, &st);
    if (rc != KW_EXIT_OK)
        return rc;
    printf("%s: schema version %d\n", db, kw_store_schema_version(st));
    kw_store_close(st);
    return KW_EXIT_OK;
}

int kw_cmd_init(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_init, stdout), KW_EXIT_OK;
    const char *db = NULL, *email = "admin@localhost";
    struct kw_store *st = NULL;
    int rc = open_db(argc, argv, usage_init, &db, &email, &st);
    if (rc != KW_EXIT_OK)
        return rc;
    struct kw_err err = {0};
    int64_t admins = 0, id = 0;
    const char *given = getenv("KEEPWORD_ADMIN_PASSWORD");
    char made[32];
    if (kw_store_user_count(st, "admin", &admins, &err) != KW_OK) {
        rc = kw_cli_fail(NULL, &err);
    } else if (admins > 0) {
        kw_err_set(&err, KW_CONFLICT, "", "%s already has an admin account", db);
        rc = kw_cli_fail(NULL, &err);
    } else {
        if (!given) {
            unsigned char raw[15];
            randombytes_buf(raw, sizeof(raw));
            sodium_bin2base64(made, sizeof(made), raw, sizeof(raw),
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        }
        struct kw_user u = {.email = email, .name = "Administrator", .role = "admin"};
        if (kw_store_user_insert(st, &u, given ? given : made, (int64_t)time(NULL), &id, &err) !=
            KW_OK) {
            rc = kw_cli_fail(given ? "KEEPWORD_ADMIN_PASSWORD" : NULL, &err);
        } else {
            printf("%s: schema version %d, admin %s created\n", db, kw_store_schema_version(st),
                   email);
            if (!given)
                printf("password (shown once): %s\n", made);
        }
    }
    kw_store_close(st);
    return rc;
}
