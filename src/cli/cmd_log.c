// SPDX-License-Identifier: MIT
/* The Merkle log's key file, `keepword log` and `keepword receipt verify`
 * (docs/receipts.md). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "civil.h"
#include "cli.h"
#include "logkey.h"
#include "merkle.h"
#include "proof.h"
#include "store.h"

void kw_cli_log_key_path(const char *db, const char *given, char *out, size_t cap)
{
    if (given)
        snprintf(out, cap, "%s", given);
    else
        snprintf(out, cap, "%s.log-key", db);
}

enum kw_code kw_cli_log_key(const char *path, bool make, struct kw_signer *s, bool *made,
                            struct kw_err *err)
{
    *made = false;
    char *text = NULL;
    size_t len;
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (sb.st_mode & 077)
            return kw_err_set(err, KW_IO, "", "log key %s may be read by others: chmod 600 %s",
                              path, path);
        if (kw_cli_read_file(path, 4096, &text, &len, err) != KW_OK)
            return err->code;
        enum kw_code rc = kw_note_signer_parse(text, &s->key, s->sec, err);
        kw_wipe(text, len);
        free(text);
        return rc == KW_OK ? KW_OK : kw_err_locate(err, NULL, path);
    }
    if (errno != ENOENT || !make)
        return kw_err_set(err, KW_IO, "", "log key %s: %s", path, strerror(errno));
    unsigned char pub[KW_ED25519_PUBLIC], rnd[KW_SHA256_BYTES];
    if (kw_ed25519_keypair(pub, s->sec, err) != KW_OK)
        return err->code;
    /* the origin names this log uniquely: keepword/ and 12 hex digits */
    char origin[32];
    kw_sha256(pub, sizeof(pub), rnd); /* 6 bytes of the key's hash: unique to it */
    snprintf(origin, sizeof(origin), "keepword/%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3], rnd[4], rnd[5]);
    if (kw_note_key_make(&s->key, origin, pub, err) != KW_OK)
        return err->code;
    struct kw_buf b = {0};
    kw_note_signer_text(&b, &s->key, s->sec); /* libsodium's secret key starts with the seed */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    enum kw_code rc = KW_OK;
    if (fd < 0 || b.failed || write(fd, b.p, b.len) != (ssize_t)b.len || fsync(fd) != 0)
        rc = kw_err_set(err, KW_IO, "", "log key %s: %s", path,
                        b.failed ? "no memory" : strerror(errno));
    if (fd >= 0)
        close(fd);
    if (b.p)
        kw_wipe(b.p, b.len);
    kw_buf_release(&b);
    *made = rc == KW_OK;
    return rc;
}

/* ---- keepword log ---- */

void kw_cli_mail_key_path(const char *log_key_path, char *out, size_t cap)
{
    size_t n = strlen(log_key_path);
    if (n > 8 && strcmp(log_key_path + n - 8, ".log-key") == 0)
        snprintf(out, cap, "%.*s.mail-key", (int)(n - 8), log_key_path);
    else
        snprintf(out, cap, "%s.mail-key", log_key_path);
}

enum kw_code kw_cli_mail_key(const char *path, bool make, unsigned char key[KW_SEAL_KEY_BYTES],
                             bool *made, struct kw_err *err)
{
    *made = false;
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (sb.st_mode & 077)
            return kw_err_set(err, KW_IO, "", "mail key %s may be read by others: chmod 600 %s",
                              path, path);
        char *text = NULL;
        size_t len;
        if (kw_cli_read_file(path, 4096, &text, &len, err) != KW_OK)
            return err->code;
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            len--;
        long n = kw_b64_decode(text, len, key, KW_SEAL_KEY_BYTES);
        kw_wipe(text, len);
        free(text);
        if (n != KW_SEAL_KEY_BYTES)
            return kw_err_set(err, KW_IO, "",
                              "mail key %s: not a key (expected 32 bytes in base64 on one line)",
                              path);
        return KW_OK;
    }
    if (errno != ENOENT || !make)
        return kw_err_set(err, KW_IO, "", "mail key %s: %s", path, strerror(errno));
    if (kw_crypto_init(err) != KW_OK)
        return err->code;
    randombytes_buf(key, KW_SEAL_KEY_BYTES);
    char text[64];
    kw_b64_encode(key, KW_SEAL_KEY_BYTES, text);
    size_t n = strlen(text);
    text[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    enum kw_code rc = KW_OK;
    if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) != 0)
        rc = kw_err_set(err, KW_IO, "", "mail key %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    kw_wipe(text, sizeof(text));
    *made = rc == KW_OK;
    return rc;
}

static const char usage_log[] =
    "usage: keepword log key --db PATH [--log-key FILE]\n"
    "       keepword log checkpoint --db PATH [--log-key FILE]\n"
    "\n"
    "The deployment-wide Merkle log (docs/receipts.md).\n"
    "  key         print the log's public verifier key (NAME+KEYID+KEY), the\n"
    "              text `keepword receipt verify --key` takes\n"
    "  checkpoint  sign a checkpoint of the log now if it grew since the last\n"
    "              one, and print the latest signed checkpoint\n"
    "--log-key FILE is the private key file (default: the database's path\n"
    "followed by .log-key); `keepword init` makes it.\n";

static int log_cmd(int argc, char **argv, bool checkpoint)
{
    const char *db = NULL, *keyfile = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--log-key") == 0 && i + 1 < argc)
            keyfile = argv[++i];
        else
            return kw_cli_usage(usage_log, "unexpected argument \"%s\"", argv[i]);
    }
    if (!db)
        return kw_cli_usage(usage_log, "--db PATH is required");
    char path[1024];
    kw_cli_log_key_path(db, keyfile, path, sizeof(path));
    struct kw_signer s;
    struct kw_err err = {0};
    bool made;
    if (kw_cli_log_key(path, false, &s, &made, &err) != KW_OK)
        return kw_cli_fail(NULL, &err);
    int rc = KW_EXIT_OK;
    if (!checkpoint) {
        struct kw_buf b = {0};
        kw_note_verifier(&b, &s.key);
        printf("%s\n", b.p);
        kw_buf_release(&b);
    } else {
        struct kw_store *st = kw_store_open(db, &err);
        struct kw_proof_sign ps = {.signer = &s, .now = (int64_t)time(NULL)};
        struct kw_log_checkpoint cp;
        if (!st || kw_proof_check_key(st, &s, &err) != KW_OK ||
            kw_proof_sign_unit(st, &ps, &err) != KW_OK ||
            kw_store_log_checkpoint_last(st, &cp, &err) != KW_OK) {
            rc = kw_cli_fail(NULL, &err);
        } else {
            fputs(cp.note, stdout);
            free(cp.note);
        }
        kw_store_close(st);
    }
    kw_wipe(s.sec, sizeof(s.sec));
    return rc;
}

static int log_key(int argc, char **argv)
{
    return log_cmd(argc, argv, false);
}

static int log_checkpoint(int argc, char **argv)
{
    return log_cmd(argc, argv, true);
}

int kw_cmd_log(int argc, char **argv)
{
    static const struct kw_cli_cmd cmds[] = {{"key", log_key}, {"checkpoint", log_checkpoint}};
    return kw_cli_dispatch(argc, argv, usage_log, "log", cmds, sizeof(cmds) / sizeof(cmds[0]));
}

/* ---- keepword receipt verify ---- */

static const char usage_receipt[] =
    "usage: keepword receipt verify RECEIPT --key KEY [--since CHECKPOINT]\n"
    "\n"
    "Check a service receipt (GET /api/v1/tickets/{id}/receipt) offline,\n"
    "without the server: the checkpoint's signature by KEY (the verifier key\n"
    "text NAME+KEYID+KEY, or a file holding it), each event's hash from its\n"
    "contents, the chain between consecutive events, each event's inclusion\n"
    "in the signed tree, and the receipt's hash. With --since, a checkpoint\n"
    "kept from earlier (a file) must be signed by KEY and the receipt's\n"
    "consistency proof (asked for with ?since=SIZE) must show the log grew\n"
    "from it without a change. Exit status 0 when all holds; otherwise 1 and\n"
    "one line naming the first thing that failed.\n";

static bool unhex(const char *s, unsigned char *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (unsigned char)v;
    }
    return true;
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("keepword: receipt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return KW_EXIT_INPUT;
}

/* Read a proof path (hex strings) into path; false when malformed. */
static bool read_path(json_t *a, unsigned char path[][KW_MERKLE_HASH], size_t *n)
{
    if (!json_is_array(a) || json_array_size(a) > KW_MERKLE_MAX_PROOF)
        return false;
    *n = json_array_size(a);
    for (size_t i = 0; i < *n; i++)
        if (!unhex(json_string_value(json_array_get(a, i)), path[i], KW_MERKLE_HASH))
            return false;
    return true;
}

/* Open a signed checkpoint under key. */
static int open_checkpoint(const char *note, const struct kw_note_key *key, const char *what,
                           struct kw_checkpoint *cp)
{
    size_t tl;
    struct kw_err err = {0};
    if (kw_note_open(note, strlen(note), key, &tl, &err) != KW_OK ||
        kw_checkpoint_parse(note, tl, cp, &err) != KW_OK)
        return bad("%s: %s", what, err.msg);
    return KW_EXIT_OK;
}

static int verify_receipt(json_t *r, const struct kw_note_key *key, const char *since_note)
{
    const char *note = json_string_value(json_object_get(r, "checkpoint"));
    if (!json_is_object(r) || !note)
        return bad("not a Keepword receipt (no checkpoint)");
    struct kw_checkpoint cp;
    if (open_checkpoint(note, key, "the checkpoint's signature does not verify", &cp))
        return KW_EXIT_INPUT;
    json_int_t ticket = json_integer_value(json_object_get(r, "ticket"));
    if ((uint64_t)json_integer_value(json_object_get(r, "tree_size")) != cp.size)
        return bad("tree_size: the receipt's tree_size is not the signed checkpoint's (%llu)",
                   (unsigned long long)cp.size);
    json_t *events = json_object_get(r, "events");
    if (!json_is_array(events) || json_array_size(events) == 0)
        return bad("the receipt lists no events");
    unsigned char rh_prev[KW_HASH_BYTES] = {0};
    int64_t prev_seq = 0;
    struct kw_buf digest_in = {0};
    kw_buf_adds(&digest_in, note);
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        json_int_t seq = json_integer_value(json_object_get(e, "seq"));
        const char *at_s = json_string_value(json_object_get(e, "at"));
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *body = json_string_value(json_object_get(e, "body"));
        json_int_t actor = json_integer_value(json_object_get(e, "actor"));
        json_int_t leaf = json_integer_value(json_object_get(e, "leaf"));
        unsigned char prev[KW_HASH_BYTES], hash[KW_HASH_BYTES], got[KW_HASH_BYTES],
            lh[KW_MERKLE_HASH], path[KW_MERKLE_MAX_PROOF][KW_MERKLE_HASH];
        size_t n;
        int64_t at;
        if (seq < 1 || !at_s || !type || !body || leaf < 0 ||
            kw_instant_parse(at_s, strlen(at_s), &at, NULL) != KW_OK ||
            !unhex(json_string_value(json_object_get(e, "prev")), prev, KW_HASH_BYTES) ||
            !unhex(json_string_value(json_object_get(e, "hash")), hash, KW_HASH_BYTES) ||
            !read_path(json_object_get(e, "proof"), path, &n)) {
            kw_buf_release(&digest_in);
            return bad("event %lld: a field is missing or malformed", (long long)seq);
        }
        kw_event_hash(prev, ticket, seq, at, type, actor, body, got);
        if (memcmp(got, hash, KW_HASH_BYTES) != 0) {
            kw_buf_release(&digest_in);
            return bad("event %lld: its contents do not match its hash (changed)", (long long)seq);
        }
        static const unsigned char zero[KW_HASH_BYTES];
        if ((seq == 1 && memcmp(prev, zero, KW_HASH_BYTES) != 0) ||
            (prev_seq && seq == prev_seq + 1 && memcmp(prev, rh_prev, KW_HASH_BYTES) != 0) ||
            seq <= prev_seq) {
            kw_buf_release(&digest_in);
            return bad("event %lld: does not follow the event before it in the chain",
                       (long long)seq);
        }
        kw_merkle_leaf(hash, KW_HASH_BYTES, lh);
        if (!kw_merkle_verify_inclusion((uint64_t)leaf, cp.size, lh, (const void *)path, n,
                                        cp.root)) {
            kw_buf_release(&digest_in);
            return bad("event %lld: not in the signed log (its inclusion proof fails)",
                       (long long)seq);
        }
        memcpy(rh_prev, hash, KW_HASH_BYTES);
        prev_seq = seq;
        kw_buf_add(&digest_in, hash, KW_HASH_BYTES);
    }
    unsigned char digest[KW_SHA256_BYTES], want[KW_SHA256_BYTES];
    kw_sha256(digest_in.p, digest_in.len, digest);
    kw_buf_release(&digest_in);
    if (!unhex(json_string_value(json_object_get(r, "receipt_hash")), want, sizeof(want)) ||
        memcmp(digest, want, sizeof(want)) != 0)
        return bad("receipt_hash does not match the checkpoint and events");
    if (since_note) {
        struct kw_checkpoint old;
        if (open_checkpoint(since_note, key, "the earlier checkpoint's signature does not verify",
                            &old))
            return KW_EXIT_INPUT;
        json_t *cons = json_object_get(r, "consistency");
        unsigned char path[KW_MERKLE_MAX_PROOF][KW_MERKLE_HASH];
        size_t n;
        if (!json_is_object(cons) ||
            (uint64_t)json_integer_value(json_object_get(cons, "from")) != old.size ||
            !read_path(json_object_get(cons, "path"), path, &n))
            return bad("the receipt has no consistency proof from the earlier checkpoint's size "
                       "%llu (ask with ?since=SIZE)",
                       (unsigned long long)old.size);
        if (!kw_merkle_verify_consistency(old.size, cp.size, old.root, cp.root, (const void *)path,
                                          n))
            return bad("the log was rewritten: the checkpoint of %llu leaves kept earlier is "
                       "not a prefix of the receipt's",
                       (unsigned long long)old.size);
    }
    printf("receipt verified: ticket %lld, %zu events, log of %llu leaves, signed by %s+%08x\n",
           (long long)ticket, json_array_size(events), (unsigned long long)cp.size, key->name,
           (unsigned)key->id);
    return KW_EXIT_OK;
}

static int receipt_verify(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return fputs(usage_receipt, stdout), KW_EXIT_OK;
    const char *file = NULL, *keyarg = NULL, *since = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            keyarg = argv[++i];
        else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
            since = argv[++i];
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return kw_cli_usage(usage_receipt, "unexpected argument \"%s\"", argv[i]);
    }
    if (!file || !keyarg)
        return kw_cli_usage(usage_receipt, "a RECEIPT file and --key KEY are required");
    struct kw_err err = {0};
    struct kw_note_key key;
    char *ktext = NULL, *data = NULL, *old = NULL;
    size_t len;
    int rc = KW_EXIT_INPUT;
    /* KEY is the verifier text itself, or a file that holds it */
    if (strchr(keyarg, '+') && access(keyarg, R_OK) != 0) {
        ktext = strdup(keyarg);
    } else if (kw_cli_read_file(keyarg, 4096, &ktext, &len, &err) != KW_OK) {
        return kw_cli_fail("--key", &err);
    }
    if (ktext)
        ktext[strcspn(ktext, "\r\n")] = '\0';
    if (!ktext || kw_note_verifier_parse(ktext, &key, &err) != KW_OK) {
        rc = kw_cli_fail("--key", &err);
        goto out;
    }
    if (kw_cli_read_file(file, KW_CLI_MAX_FILE, &data, &len, &err) != KW_OK ||
        (since && kw_cli_read_file(since, 4096, &old, &len, &err) != KW_OK)) {
        rc = kw_cli_fail(NULL, &err);
        goto out;
    }
    json_error_t je;
    json_t *r = json_loads(data, 0, &je);
    if (!r) {
        fprintf(stderr, "keepword: receipt: %s is not JSON (line %d: %s)\n", file, je.line,
                je.text);
        goto out;
    }
    rc = verify_receipt(r, &key, old);
    json_decref(r);
out:
    free(ktext);
    free(data);
    free(old);
    return rc;
}

int kw_cmd_receipt(int argc, char **argv)
{
    static const struct kw_cli_cmd cmds[] = {{"verify", receipt_verify}};
    return kw_cli_dispatch(argc, argv, usage_receipt, "receipt", cmds,
                           sizeof(cmds) / sizeof(cmds[0]));
}
