// SPDX-License-Identifier: MIT
/* app/auth on a real store: the rules of a new user's role and password,
 * logging in (one answer, one argon2id verification, for every refusal),
 * tokens as shown once and resolved by digest, revoking; and the bytes
 * util/kw_crypto.h must keep so that existing databases still sign in. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth.h"
#include "testutil.h"

struct fx {
    char dir[64], path[128];
    struct kw_store *st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct kw_err err = {0};
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/kw-auth-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/kw.db", f->dir);
    f->st = kw_store_open(f->path, &err);
    if (!f->st)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[160];
    kw_store_close(f->st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

static void expect(const char *name, enum kw_code got, enum kw_code want, const struct kw_err *err,
                   const char *field)
{
    if (got != want)
        fail_msg("%s: got code %d, want %d (%s)", name, got, want, err->msg);
    if (field && strcmp(err->field, field) != 0)
        fail_msg("%s: got field \"%s\", want \"%s\"", name, err->field, field);
}

static void test_user_check(void **state)
{
    (void)state;
    char long_pw[1026];
    memset(long_pw, 'x', sizeof(long_pw) - 1);
    long_pw[1025] = '\0';
    const struct {
        const char *name, *role, *password;
        size_t password_len; /* 0: as given */
        enum kw_code want;
        const char *field, *msg;
    } rows[] = {
        {"an admin with a password", "admin", "correct horse", 0, KW_OK, NULL, NULL},
        {"a customer without a password", "customer", NULL, 0, KW_OK, NULL, NULL},
        {"a password of 8 bytes is enough", "agent", "12345678", 0, KW_OK, NULL, NULL},
        {"a password of 1024 bytes is allowed", "agent", long_pw, 1024, KW_OK, NULL, NULL},
        {"a password of 7 bytes is too short", "agent", "1234567", 0, KW_INVALID, "/password",
         "password: expected 8 to 1024 bytes"},
        {"an empty password is too short", "agent", "", 0, KW_INVALID, "/password", NULL},
        {"a password of 1025 bytes is too long", "agent", long_pw, 1025, KW_INVALID, "/password",
         NULL},
        {"a role that is not one", "root", NULL, 0, KW_INVALID, "/role",
         "role: expected admin, manager, agent or customer"},
        {"the system role is never stored", "system", NULL, 0, KW_INVALID, "/role", NULL},
        {"no role", NULL, NULL, 0, KW_INVALID, "/role", NULL},
        {"the role is checked first", "root", "short", 0, KW_INVALID, "/role", NULL},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        struct kw_err err = {0};
        struct kw_user u = {.email = "x@example.com", .name = "X", .role = rows[i].role};
        if (rows[i].password_len)
            long_pw[rows[i].password_len] = '\0';
        expect(rows[i].name, kw_auth_user_check(&u, rows[i].password, &err), rows[i].want, &err,
               rows[i].field);
        if (rows[i].msg)
            assert_string_equal(err.msg, rows[i].msg);
        memset(long_pw, 'x', sizeof(long_pw) - 1);
    }
}

static void test_login(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t admin = 0, np = 0, who = 0;
    struct kw_user u = {.email = "boss@example.com", .name = "Boss", .role = "admin"};
    assert_int_equal(kw_auth_user_create(f->st, &u, "correct horse", 1, &admin, &err), KW_OK);
    struct kw_user nopass = {.email = "np@example.com", .name = "NP", .role = "agent"};
    assert_int_equal(kw_auth_user_create(f->st, &nopass, NULL, 1, &np, &err), KW_OK);
    /* what the store was given: an argon2id string, never the password */
    char stored[KW_PASSWORD_HASH_BUF];
    assert_int_equal(kw_store_user_password(f->st, "boss@example.com", &who, stored, &err), KW_OK);
    assert_int_equal(strncmp(stored, "$argon2id$", 10), 0);
    assert_null(strstr(stored, "correct horse"));
    /* rules the store also keeps come back through kw_auth_user_create */
    struct kw_user bad = {.email = "not an address", .name = "B", .role = "agent"};
    expect("a bad e-mail", kw_auth_user_create(f->st, &bad, "correct horse", 1, &who, &err),
           KW_INVALID, &err, "/email");
    expect("a taken e-mail", kw_auth_user_create(f->st, &u, NULL, 1, &who, &err), KW_CONFLICT, &err,
           "/email");

    char token[KW_TOKEN_BUF];
    const struct {
        const char *name, *email, *password;
    } refused[] = {
        {"a wrong password", "boss@example.com", "wrong horse"},
        {"an unknown e-mail", "nobody@example.com", "correct horse"},
        {"a user who has no password", "np@example.com", "correct horse"},
        {"a user who has no password, asked with none", "np@example.com", ""},
        {"no password at all", "boss@example.com", NULL},
        {"no e-mail at all", NULL, "correct horse"},
    };
    for (size_t i = 0; i < N_ELEMS(refused); i++) {
        err = (struct kw_err){0};
        expect(refused[i].name,
               kw_auth_login(f->st, refused[i].email, refused[i].password, 10, 3600, token, &who,
                             &err),
               KW_UNAUTHENTICATED, &err, "");
        /* the same answer, so e-mails cannot be probed */
        assert_string_equal(err.msg, "wrong e-mail or password");
    }
    assert_int_equal(kw_auth_password_check(f->st, "boss@example.com", "correct horse", &who, &err),
                     KW_OK);
    assert_int_equal(who, admin);
    who = 0;
    assert_int_equal(
        kw_auth_login(f->st, "boss@example.com", "correct horse", 10, 3600, token, &who, &err),
        KW_OK);
    assert_int_equal(who, admin);
    assert_int_equal(strncmp(token, "kw_", 3), 0);
    assert_int_equal(strlen(token), KW_TOKEN_LEN);

    const struct {
        const char *name, *token;
        int64_t now;
        enum kw_code want;
    } rows[] = {
        {"live", token, 100, KW_OK},
        {"the last second of its life", token, 3609, KW_OK},
        {"expired at login + ttl", token, 3610, KW_UNAUTHENTICATED},
        {"forged", "kw_forged", 100, KW_UNAUTHENTICATED},
        {"empty", "", 100, KW_UNAUTHENTICATED},
        {"none", NULL, 100, KW_UNAUTHENTICATED},
        {"longer than a token can be",
         "kw_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 100,
         KW_UNAUTHENTICATED},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        err = (struct kw_err){0};
        who = 0;
        expect(rows[i].name, kw_auth_token_user(f->st, rows[i].token, rows[i].now, &who, &err),
               rows[i].want, &err, NULL);
        if (rows[i].want == KW_OK)
            assert_int_equal(who, admin);
        struct kw_user_row r = {0};
        err = (struct kw_err){0};
        expect(rows[i].name, kw_auth_token_caller(f->st, rows[i].token, rows[i].now, &r, &err),
               rows[i].want, &err, NULL);
        if (rows[i].want == KW_OK) {
            assert_int_equal(r.id, admin);
            assert_string_equal(r.role, "admin");
        }
    }
    /* logout; unknown tokens are fine */
    assert_int_equal(kw_auth_token_revoke(f->st, token, 200, &err), KW_OK);
    expect("revoked", kw_auth_token_user(f->st, token, 201, &who, &err), KW_UNAUTHENTICATED, &err,
           NULL);
    assert_int_equal(kw_auth_token_revoke(f->st, token, 202, &err), KW_OK);
    assert_int_equal(kw_auth_token_revoke(f->st, "kw_never_issued", 202, &err), KW_OK);
    assert_int_equal(kw_auth_token_revoke(f->st, NULL, 202, &err), KW_OK);
}

static void test_api_token(void **state)
{
    struct fx *f = *state;
    struct kw_err err = {0};
    int64_t me = 0, who = 0, id = 0;
    struct kw_user u = {.email = "ci@example.com", .name = "CI", .role = "agent"};
    assert_int_equal(kw_auth_user_create(f->st, &u, NULL, 1, &me, &err), KW_OK);
    char a[KW_TOKEN_BUF], b[KW_TOKEN_BUF];
    assert_int_equal(kw_auth_token_issue(f->st, me, "api", "ci", 1, KW_STORE_NO_TIME, a, &id, &err),
                     KW_OK);
    assert_int_equal(kw_auth_token_issue(f->st, me, "api", NULL, 1, 50, b, NULL, &err), KW_OK);
    assert_string_not_equal(a, b);
    assert_true(id > 0);
    assert_int_equal(kw_auth_token_user(f->st, a, (int64_t)100 * 365 * 24 * H, &who, &err), KW_OK);
    assert_int_equal(who, me);
    expect("expired", kw_auth_token_user(f->st, b, 50, &who, &err), KW_UNAUTHENTICATED, &err, NULL);
    assert_int_equal(kw_store_token_revoke_id(f->st, me, id, 2, &err), KW_OK);
    expect("revoked by id", kw_auth_token_user(f->st, a, 3, &who, &err), KW_UNAUTHENTICATED, &err,
           NULL);
}

/* What databases written before app/auth hold must keep working: a token's
 * digest is the unkeyed BLAKE2b-256 of its text, and passwords are argon2id
 * with libsodium's interactive limits (the cost of kw_crypto.c's dummy hash,
 * whose parameters are the ones pinned here). */
static void test_stored_bytes(void **state)
{
    (void)state;
    unsigned char d[KW_HASH_BYTES];
    char hex[2 * KW_HASH_BYTES + 1];
    kw_token_digest("kw_test", d);
    for (size_t i = 0; i < KW_HASH_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(hex, "e9786b0d8e70ada5251c1bbdf4d8f85a854b2bc6594e75853947fd35eee696c6");
    struct kw_err err = {0};
    char hash[KW_PASSWORD_HASH_BUF];
    assert_int_equal(kw_password_hash("correct horse", hash, &err), KW_OK);
    assert_int_equal(strncmp(hash, "$argon2id$v=19$m=65536,t=2,p=1$", 31), 0);
    assert_true(kw_password_verify(hash, "correct horse"));
    assert_false(kw_password_verify(hash, "wrong horse"));
    assert_false(kw_password_verify(hash, NULL));
    /* no hash: checked against the dummy, never true, even for its password */
    assert_false(kw_password_verify(NULL, "not a password"));
    assert_false(kw_password_verify("", "not a password"));
    char t[KW_TOKEN_BUF];
    assert_int_equal(kw_token_mint(t, &err), KW_OK);
    assert_int_equal(strlen(t), KW_TOKEN_LEN);
    assert_int_equal(
        strspn(t + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        KW_TOKEN_LEN - 3);
}

/* Sealed secrets (mailbox passwords at rest): each row a sentence. */
static void test_seal(void **state)
{
    (void)state;
    unsigned char key[KW_SEAL_KEY_BYTES], other[KW_SEAL_KEY_BYTES];
    memset(key, 7, sizeof(key));
    memset(other, 8, sizeof(other));
    static const char *const secrets[] = {"imap-secret", "", "密码 with spaces: and colons", "x"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        struct kw_err err = {0};
        char sealed[KW_SEAL_BUF(255)], again[KW_SEAL_BUF(255)], plain[256];
        assert_int_equal(kw_seal(key, secrets[i], sealed, sizeof(sealed), &err), KW_OK);
        assert_true(kw_sealed(sealed));
        if (strlen(secrets[i]) > 4) /* not in the text (a short one may occur by chance) */
            assert_null(strstr(sealed + 4, secrets[i]));
        assert_int_equal(kw_seal(key, secrets[i], again, sizeof(again), &err), KW_OK);
        assert_string_not_equal(sealed, again); /* a new nonce each time */
        assert_int_equal(kw_unseal(key, sealed, plain, sizeof(plain), &err), KW_OK);
        assert_string_equal(plain, secrets[i]);
        /* another key, or one character changed: refused */
        assert_int_equal(kw_unseal(other, sealed, plain, sizeof(plain), &err), KW_INVALID);
        assert_non_null(strstr(err.msg, "another key"));
        sealed[10] = sealed[10] == 'A' ? 'B' : 'A';
        assert_int_equal(kw_unseal(key, sealed, plain, sizeof(plain), &err), KW_INVALID);
    }
    struct kw_err err = {0};
    char plain[256], small[8];
    assert_false(kw_sealed("imap-secret"));
    assert_int_equal(kw_unseal(key, "imap-secret", plain, sizeof(plain), &err), KW_INVALID);
    assert_int_equal(kw_unseal(key, "sb1:not base64!", plain, sizeof(plain), &err), KW_INVALID);
    assert_int_equal(kw_seal(key, "imap-secret", small, sizeof(small), &err), KW_INVALID);
    char sealed[KW_SEAL_BUF(255)];
    assert_int_equal(kw_seal(key, "a longer secret", sealed, sizeof(sealed), &err), KW_OK);
    assert_int_equal(kw_unseal(key, sealed, small, sizeof(small), &err), KW_INVALID);
    char long_secret[300];
    memset(long_secret, 'a', sizeof(long_secret) - 1);
    long_secret[sizeof(long_secret) - 1] = '\0';
    assert_int_equal(kw_seal(key, long_secret, sealed, sizeof(sealed), &err), KW_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_check),
        cmocka_unit_test_setup_teardown(test_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_token, setup, teardown),
        cmocka_unit_test(test_stored_bytes),
        cmocka_unit_test(test_seal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
