// SPDX-License-Identifier: MIT
/* keepword migrate, init and verify: the database, its first admin, and
 * the integrity of what it holds. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "auth.h"
#include "cli.h"
#include "logkey.h"
#include "proof.h"
#include "store.h"

static const char usage_migrate[] =
    "usage: keepword migrate --db PATH\n"
    "\n"
    "Create the database at PATH if it does not exist and apply every schema\n"
    "migration it lacks (keepword serve does the same at start). Prints the\n"
    "schema version.\n";

static const char usage_init[] =
    "usage: keepword init --db PATH|POSTGRES [--email ADDRESS] [--log-key FILE]\n"
    "\n"
    "POSTGRES is a postgres:// URL or a libpq connection string (\"host=...\n"
    "dbname=...\"); --log-key FILE is then required (docs/operations.md).\n"
    "Create the database and its first admin account (default e-mail\n"
    "admin@localhost). The password is taken from the environment variable\n"
    "KEEPWORD_ADMIN_PASSWORD (8 bytes at least), or made up and printed once.\n"
    "Also makes the signed log's Ed25519 key (docs/receipts.md) in FILE\n"
    "(default: PATH.log-key, mode 0600) and the key that seals mailbox\n"
    "passwords (docs/channels.md) beside it (FILE with .log-key replaced by\n"
    ".mail-key, mode 0600), each unless it exists. Refuses a database that\n"
    "already has an admin.\n";

static const char usage_verify[] =
    "usage: keepword verify --db PATH|POSTGRES [--log-key FILE] [--list] [TICKET...]\n"
    "\n"
    "POSTGRES is a postgres:// URL or a libpq connection string.\n"
    "Recompute the hash chain of every ticket (or of the tickets named) from\n"
    "its stored events and compare it with what is stored: an event changed,\n"
    "removed or reordered after it was written is reported with its number.\n"
    "Without TICKET, also the credit ledger's chain of every organisation,\n"
    "the audit trail's chain (docs/policy.md), and the signed Merkle log\n"
    "(docs/receipts.md): each leaf against the event, ledger entry or audit\n"
    "entry it names, each of those with exactly one leaf, every stored node\n"
    "against the tree built again from the leaves, and each checkpoint's\n"
    "root against the log's at its size, its size within the log and sizes\n"
    "growing with time. Checkpoints' signatures are checked with the log's\n"
    "key, FILE (default: PATH.log-key, as `keepword log` finds it); when\n"
    "there is no key file there (a PostgreSQL desk without --log-key), only\n"
    "their roots are checked, and the summary says so.\n"
    "--list prints one line per ticket: id, events, chain head (hex). Exit\n"
    "status 0 when every chain and the log are intact, 1 otherwise; each\n"
    "thing found wrong is one line on stderr.\n";

/* Parse --db PATH (and, for init, --email ADDRESS), then open the store,
 * which creates and migrates it. Prints the error itself. */
static int open_db(int argc, char **argv, const char *usage, const char **db, const char **email,
                   const char **keyfile, struct kw_store **st)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            *db = argv[++i];
        else if (email && strcmp(argv[i], "--email") == 0 && i + 1 < argc)
            *email = argv[++i];
        else if (keyfile && strcmp(argv[i], "--log-key") == 0 && i + 1 < argc)
            *keyfile = argv[++i];
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
    int rc = open_db(argc, argv, usage_migrate, &db, NULL, NULL, &st);
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
    const char *db = NULL, *email = "admin@localhost", *keyfile = NULL;
    struct kw_store *st = NULL;
    int rc = open_db(argc, argv, usage_init, &db, &email, &keyfile, &st);
    if (rc != KW_EXIT_OK)
        return rc;
    struct kw_err err = {0};
    if (!keyfile && kw_store_location_is_pg(db)) {
        /* no database file to keep PATH.log-key beside */
        kw_store_close(st);
        kw_err_set(&err, KW_INVALID, "", "--log-key FILE is required with a PostgreSQL --db");
        return kw_cli_fail(NULL, &err);
    }
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
        if (kw_auth_user_create(st, &u, given ? given : made, (int64_t)time(NULL), &id, &err) !=
            KW_OK) {
            rc = kw_cli_fail(given ? "KEEPWORD_ADMIN_PASSWORD" : NULL, &err);
        } else {
            printf("%s: schema version %d, admin %s created\n", db, kw_store_schema_version(st),
                   email);
            if (!given)
                printf("password (shown once): %s\n", made);
            char path[1024];
            struct kw_signer s;
            bool key_made;
            kw_cli_log_key_path(db, keyfile, path, sizeof(path));
            if (kw_cli_log_key(path, true, &s, &key_made, &err) != KW_OK) {
                rc = kw_cli_fail(NULL, &err);
            } else {
                struct kw_buf b = {0};
                kw_note_verifier(&b, &s.key);
                printf("log key %s %s: %s\n", path, key_made ? "made" : "kept", b.p);
                kw_buf_release(&b);
                kw_wipe(s.sec, sizeof(s.sec));
                char mailpath[1040];
                unsigned char key[KW_SEAL_KEY_BYTES];
                kw_cli_mail_key_path(path, mailpath, sizeof(mailpath));
                if (kw_cli_mail_key(mailpath, true, key, &key_made, &err) != KW_OK)
                    rc = kw_cli_fail(NULL, &err);
                else
                    printf("mail key %s %s\n", mailpath, key_made ? "made" : "kept");
                kw_wipe(key, sizeof(key));
            }
        }
    }
    kw_store_close(st);
    return rc;
}

struct verified {
    struct kw_store *st;
    bool list;
    int64_t tickets, events, broken, last;
};

static void verify_one(struct verified *v, int64_t id)
{
    unsigned char head[KW_HASH_BYTES];
    struct kw_err err = {0};
    struct kw_ticket_row t;
    if (kw_store_verify(v->st, id, head, &err) != KW_OK) {
        fprintf(stderr, "keepword: %s\n", err.msg);
        v->broken++;
        return;
    }
    if (kw_store_ticket_get(v->st, id, &t, &err) != KW_OK) {
        fprintf(stderr, "keepword: %s\n", err.msg);
        v->broken++;
        return;
    }
    v->tickets++;
    v->events += t.last_seq;
    if (v->list) {
        printf("%lld %lld ", (long long)id, (long long)t.last_seq);
        for (int i = 0; i < KW_HASH_BYTES; i++)
            printf("%02x", head[i]);
        putchar('\n');
    }
}

static bool collect_id(const struct kw_ticket_row *t, void *ctx)
{
    int64_t *ids = ctx;
    ids[++ids[0]] = t->id;
    return true;
}

/* Verify every ticket of v->st, a page of ids at a time. */
static enum kw_code verify_all(struct verified *v, struct kw_err *err)
{
    int64_t page[501];
    struct kw_ticket_filter f = {.limit = 500, .due_before = KW_STORE_NO_TIME};
    for (bool more = true; more;) {
        page[0] = 0;
        if (kw_store_tickets(v->st, &f, collect_id, page, err) != KW_OK)
            return err->code;
        kw_store_end_read(v->st);
        for (int64_t k = 1; k <= page[0]; k++)
            verify_one(v, page[k]);
        more = page[0] == 500;
        f.after = page[0] ? page[page[0]] : f.after;
    }
    return KW_OK;
}

static void log_fault(const char *line, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "keepword: log: %s\n", line);
}

/* The log's check (kw_proof_check_log) under the key at keyfile, or the
 * default key file beside db; roots only when there is none. Prints its
 * summary (on out) or its faults; whether the log is intact. */
static bool verify_log(struct kw_store *st, const char *db, const char *keyfile, FILE *out)
{
    char path[1024];
    kw_cli_log_key_path(db, keyfile, path, sizeof(path));
    struct kw_signer s;
    struct kw_err err = {0};
    bool made, keyed = false;
    struct stat sb;
    /* a key named, or one beside the database, must be read; none there:
     * roots only */
    if (keyfile || (!kw_store_location_is_pg(db) && stat(path, &sb) == 0)) {
        if (kw_cli_log_key(path, false, &s, &made, &err) != KW_OK) {
            fprintf(stderr, "keepword: log: %s\n", err.msg);
            return false;
        }
        kw_wipe(s.sec, sizeof(s.sec)); /* only the public key is used */
        keyed = true;
    }
    struct kw_log_check c = {.key = keyed ? &s.key : NULL, .fault = log_fault};
    err = (struct kw_err){0};
    if (kw_proof_check_log(st, &c, &err) != KW_OK) {
        fprintf(stderr, "keepword: log: %s\n", err.msg);
        return false;
    }
    if (c.faults) {
        if (c.faults > KW_PROOF_FAULTS_SHOWN)
            fprintf(stderr, "keepword: log: %llu more faults not shown\n",
                    (unsigned long long)(c.faults - KW_PROOF_FAULTS_SHOWN));
        fprintf(stderr, "keepword: log: %llu leaves, %llu checkpoints: %llu faults\n",
                (unsigned long long)c.leaves, (unsigned long long)c.checkpoints,
                (unsigned long long)c.faults);
        return false;
    }
    fprintf(out, "log: %llu leaves, %llu checkpoints: intact%s\n", (unsigned long long)c.leaves,
            (unsigned long long)c.checkpoints,
            keyed ? "" : " (roots only: no log key, signatures not checked)");
    return true;
}

int kw_cmd_verify(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_verify, stdout), KW_EXIT_OK;
    struct verified v = {0};
    const char *db = NULL, *keyfile = NULL;
    int first = argc;
    for (int i = 1; i < argc && first == argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--log-key") == 0 && i + 1 < argc)
            keyfile = argv[++i];
        else if (strcmp(argv[i], "--list") == 0)
            v.list = true;
        else if (argv[i][0] >= '1' && argv[i][0] <= '9')
            first = i;
        else
            return kw_cli_usage(usage_verify, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db)
        return kw_cli_usage(usage_verify, "--db PATH is required");
    struct kw_err err = {0};
    v.st = kw_store_open(db, &err);
    if (!v.st)
        return kw_cli_fail(NULL, &err);
    for (int i = first; i < argc; i++) {
        char *end = NULL;
        long long id = strtoll(argv[i], &end, 10);
        if (*end || id <= 0) {
            kw_store_close(v.st);
            return kw_cli_usage(usage_verify, "\"%s\" is not a ticket id", argv[i]);
        }
        verify_one(&v, id);
    }
    if (first == argc && verify_all(&v, &err) != KW_OK) {
        kw_store_close(v.st);
        return kw_cli_fail(NULL, &err);
    }
    int64_t audited = -1, other = 0; /* other: the ledger or the audit trail broken */
    bool log_ok = true;
    if (first == argc) {
        if (kw_store_ledger_verify(v.st, 0, NULL, &err) != KW_OK) {
            fprintf(stderr, "keepword: %s\n", err.msg);
            other++;
        }
        if (kw_store_audit_verify(v.st, &audited, &err) != KW_OK) {
            fprintf(stderr, "keepword: %s\n", err.msg);
            other++;
        }
        log_ok = verify_log(v.st, db, keyfile, v.list ? stderr : stdout);
    }
    kw_store_close(v.st);
    if (other && !v.broken) {
        fprintf(stderr, "keepword: the credit ledger or the audit trail failed verification\n");
        return KW_EXIT_INPUT;
    }
    if (v.broken) {
        fprintf(stderr, "keepword: %lld of %lld tickets failed verification\n", (long long)v.broken,
                (long long)(v.broken + v.tickets));
        return KW_EXIT_INPUT;
    }
    if (!log_ok)
        return KW_EXIT_INPUT;
    if (audited >= 0)
        fprintf(v.list ? stderr : stdout,
                "%s: %lld tickets, %lld events, the credit ledger and %lld audit entries: every "
                "chain is intact\n",
                db, (long long)v.tickets, (long long)v.events, (long long)audited);
    else
        fprintf(v.list ? stderr : stdout, "%s: %lld tickets, %lld events: every chain is intact\n",
                db, (long long)v.tickets, (long long)v.events);
    return KW_EXIT_OK;
}

static const char usage_backup[] =
    "usage: keepword backup --db PATH --to FILE [--log-key KEYFILE]\n"
    "\n"
    "Copy the database at PATH, as it is at one instant, to FILE (which must\n"
    "not exist), while a server may go on writing to PATH: what it commits\n"
    "after that instant is not in the copy. Then checks the copy's hash\n"
    "chains and prints what it holds. The mail key that seals the mailboxes'\n"
    "passwords (beside the log key: PATH.mail-key, or KEYFILE with .log-key\n"
    "replaced by .mail-key, as serve finds it) is copied to FILE.mail-key\n"
    "(mode 0600), which `keepword restore` puts back: keep it as safe as the\n"
    "passwords. Exit status 0 when the copy is whole, 2 on a usage error, 1\n"
    "when the copy could not be made or a chain in it does not verify. PATH is\n"
    "a SQLite database: back up a PostgreSQL one with pg_dump\n"
    "(docs/operations.md \"Backups\").\n";

static const char usage_restore[] =
    "usage: keepword restore --from FILE --db PATH [--log-key KEYFILE]\n"
    "\n"
    "Make the database PATH (which must not exist: move the old one away, and\n"
    "stop the server that used it) from FILE, a copy made by `keepword\n"
    "backup`. FILE is only read. The new database is migrated to this\n"
    "version's schema and every hash chain is checked; if one does not\n"
    "verify, PATH is removed again and the exit status is 1. The backup's\n"
    "mail key (FILE.mail-key) is put where serve reads it (PATH.mail-key, or\n"
    "beside KEYFILE), so the restored mailboxes' passwords open on this\n"
    "machine; a different mail key already there is refused (exit 1).\n";

/* Copy the mail key at from to to (which must not exist, or hold the same
 * key), mode 0600. KW_NOT_FOUND when there is no key at from. */
static enum kw_code key_copy(const char *from, const char *to, struct kw_err *err)
{
    unsigned char key[KW_SEAL_KEY_BYTES], there[KW_SEAL_KEY_BYTES];
    bool made = false;
    struct stat sb;
    if (stat(from, &sb) != 0)
        return kw_err_set(err, KW_NOT_FOUND, "", "mail key %s: %s", from, strerror(errno));
    if (kw_cli_mail_key(from, false, key, &made, err) != KW_OK)
        return err->code;
    enum kw_code rc = KW_OK;
    if (stat(to, &sb) == 0) {
        if (kw_cli_mail_key(to, false, there, &made, err) != KW_OK)
            rc = err->code;
        else if (sodium_memcmp(key, there, sizeof(key)) != 0)
            rc = kw_err_set(err, KW_CONFLICT, "",
                            "mail key %s: a different key is there (the mailboxes' passwords "
                            "of the backup open only with %s): move it away first",
                            to, from);
        sodium_memzero(there, sizeof(there));
        sodium_memzero(key, sizeof(key));
        return rc;
    }
    char text[64];
    sodium_bin2base64(text, sizeof(text), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
    size_t n = strlen(text);
    text[n++] = '\n';
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) != 0)
        rc = kw_err_set(err, KW_IO, "", "mail key %s: %s", to, strerror(errno));
    if (fd >= 0)
        close(fd);
    sodium_memzero(text, sizeof(text));
    sodium_memzero(key, sizeof(key));
    return rc;
}

/* Check the chains of the database at path (shown: how messages name it);
 * prints what it holds. */
static int verify_shown(const char *path, const char *shown, const char *what)
{
    struct kw_err err = {0};
    struct verified v = {0};
    v.st = kw_store_open(path, &err);
    if (!v.st)
        return kw_cli_fail(NULL, &err);
    enum kw_code rc = verify_all(&v, &err);
    kw_store_close(v.st);
    if (rc != KW_OK)
        return kw_cli_fail(NULL, &err);
    if (v.broken) {
        fprintf(stderr, "keepword: %s: %lld of %lld tickets failed verification\n", shown,
                (long long)v.broken, (long long)(v.broken + v.tickets));
        return KW_EXIT_INPUT;
    }
    printf("%s: %s: %lld tickets, %lld events: every chain is intact\n", shown, what,
           (long long)v.tickets, (long long)v.events);
    return KW_EXIT_OK;
}

static int verify_copy(const char *path, const char *what)
{
    return verify_shown(path, path, what);
}

int kw_cmd_backup(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_backup, stdout), KW_EXIT_OK;
    const char *db = NULL, *to = NULL, *keyfile = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strcmp(argv[i], "--log-key") == 0 && i + 1 < argc)
            keyfile = argv[++i];
        else
            return kw_cli_usage(usage_backup, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db || !to)
        return kw_cli_usage(usage_backup, "%s is required", db ? "--to FILE" : "--db PATH");
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(db, &err);
    if (!st)
        return kw_cli_fail(NULL, &err);
    enum kw_code rc = kw_store_backup(st, to, &err);
    kw_store_close(st);
    if (rc != KW_OK)
        return kw_cli_fail("--to", &err);
    int out = verify_copy(to, "backup");
    if (out != KW_EXIT_OK)
        return out;
    char logpath[1024], mailpath[1040], copy[4096];
    kw_cli_log_key_path(db, keyfile, logpath, sizeof(logpath));
    kw_cli_mail_key_path(logpath, mailpath, sizeof(mailpath));
    snprintf(copy, sizeof(copy), "%s.mail-key", to);
    rc = key_copy(mailpath, copy, &err);
    if (rc == KW_NOT_FOUND) { /* a desk that never made one has no passwords sealed */
        printf("%s: no mail key (%s): no mailbox passwords are sealed\n", to, mailpath);
        return KW_EXIT_OK;
    }
    if (rc != KW_OK)
        return kw_cli_fail(NULL, &err);
    printf("%s: the mail key is in %s\n", to, copy);
    return KW_EXIT_OK;
}

int kw_cmd_restore(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_restore, stdout), KW_EXIT_OK;
    const char *from = NULL, *db = NULL, *keyfile = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--log-key") == 0 && i + 1 < argc)
            keyfile = argv[++i];
        else
            return kw_cli_usage(usage_restore, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db || !from)
        return kw_cli_usage(usage_restore, "%s is required", db ? "--from FILE" : "--db PATH");
    struct kw_err err = {0};
    if (kw_store_restore(from, db, &err) != KW_OK)
        return kw_cli_fail(err.code == KW_CONFLICT ? "--db" : "--from", &err);
    int rc = verify_copy(db, "restored");
    if (rc != KW_EXIT_OK) {
        /* a database that does not verify is not left where a server would use it */
        char side[4096];
        unlink(db);
        snprintf(side, sizeof(side), "%s-wal", db);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", db);
        unlink(side);
        fprintf(stderr, "keepword: %s removed again\n", db);
        return rc;
    }
    char logpath[1024], mailpath[1040], saved[4096];
    kw_cli_log_key_path(db, keyfile, logpath, sizeof(logpath));
    kw_cli_mail_key_path(logpath, mailpath, sizeof(mailpath));
    snprintf(saved, sizeof(saved), "%s.mail-key", from);
    enum kw_code kc = key_copy(saved, mailpath, &err);
    if (kc == KW_NOT_FOUND) {
        printf("%s: no mail key beside the backup (%s): mailbox passwords must be entered "
               "again\n",
               db, saved);
        return KW_EXIT_OK;
    }
    if (kc != KW_OK)
        return kw_cli_fail(NULL, &err);
    printf("%s: the mail key is in %s\n", db, mailpath);
    return KW_EXIT_OK;
}

static const char usage_copy[] =
    "usage: keepword copy --from PATH --to POSTGRES\n"
    "\n"
    "Move a desk to PostgreSQL: copy every row of the SQLite database PATH\n"
    "(tickets with their hash chains, people, organisations, teams, tokens,\n"
    "calendars, commitments, rotas, endpoints, the outbox, attachments,\n"
    "contracts and the credit ledger, the audit trail, the Merkle log and its\n"
    "checkpoints, everything) into POSTGRES (a postgres:// URL or a libpq\n"
    "connection string), keeping every id and hash. POSTGRES must hold no\n"
    "desk: an empty database (createdb), on which `keepword init` has not run.\n"
    "PATH is first brought to this version's schema (as `keepword migrate`),\n"
    "then only read, in one read transaction: a server may go on writing to\n"
    "it, and what it commits after that instant is not in the copy (stop it\n"
    "before the copy to move everything). The rows are written in one\n"
    "transaction (multi-row INSERTs of 500 rows): a copy that fails leaves\n"
    "POSTGRES as it was. Then each id sequence is set past the largest id, and\n"
    "every ticket's chain in the copy is checked. The signed log's key file\n"
    "(PATH.log-key) is not in the database: give it to `serve --log-key`.\n"
    "Exit status 0 when the copy is whole, 2 on a usage error, 1 when the copy\n"
    "could not be made or a chain in it does not verify.\n";

int kw_cmd_copy(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_copy, stdout), KW_EXIT_OK;
    const char *from = NULL, *to = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else
            return kw_cli_usage(usage_copy, "unexpected argument \"%s\"", argv[i]);
    }
    if (!from || !to)
        return kw_cli_usage(usage_copy, "%s is required", from ? "--to POSTGRES" : "--from PATH");
    if (kw_store_location_is_pg(from))
        return kw_cli_usage(usage_copy, "--from: copy reads a SQLite database file, not %s",
                            "a PostgreSQL one");
    if (!kw_store_location_is_pg(to))
        return kw_cli_usage(usage_copy,
                            "--to: \"%s\" is not a PostgreSQL database (expected postgres://... "
                            "or a libpq connection string)",
                            to);
    struct kw_err err = {0};
    struct stat sb;
    if (stat(from, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "keepword: --from: %s: no such database file\n", from);
        return KW_EXIT_INPUT;
    }
    /* bring the source to this version's schema (and its log complete) */
    struct kw_store *src = kw_store_open(from, &err);
    if (!src)
        return kw_cli_fail("--from", &err);
    kw_store_close(src);
    struct kw_store *st = kw_store_open(to, &err);
    if (!st)
        return kw_cli_fail("--to", &err);
    struct kw_store_copied n = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum kw_code rc = kw_store_copy_from(st, from, &n, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    kw_store_close(st);
    if (rc != KW_OK)
        return kw_cli_fail(strcmp(err.field, "/from") == 0 ? "--from" : "--to", &err);
    printf("copied %lld rows of %lld tables from %s in %.1f s\n", (long long)n.rows,
           (long long)n.tables, from,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return verify_shown(to, "PostgreSQL", "the copy");
}
