// SPDX-License-Identifier: MIT
#include "note.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DASH "\xe2\x80\x94" /* U+2014 EM DASH, which starts a signature line */
#define ALG_ED25519 0x01

bool kw_note_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > KW_NOTE_NAME_MAX || kw_utf8_valid_prefix(name, n) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c == 0x7f || c == '+')
            return false;
    }
    return true;
}

static uint32_t key_id(const char *name, const unsigned char pub[KW_ED25519_PUBLIC])
{
    unsigned char tail[2 + KW_ED25519_PUBLIC], h[KW_SHA256_BYTES];
    tail[0] = '\n';
    tail[1] = ALG_ED25519;
    memcpy(tail + 2, pub, KW_ED25519_PUBLIC);
    kw_sha256_2(name, strlen(name), tail, sizeof(tail), h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

enum kw_code kw_note_key_make(struct kw_note_key *key, const char *name,
                              const unsigned char pub[KW_ED25519_PUBLIC], struct kw_err *err)
{
    if (!kw_note_name_ok(name))
        return kw_err_set(err, KW_INVALID, "/name",
                          "a key name is 1-%d bytes of UTF-8 without spaces or '+'",
                          KW_NOTE_NAME_MAX);
    memset(key, 0, sizeof(*key));
    memcpy(key->name, name, strlen(name));
    memcpy(key->pub, pub, KW_ED25519_PUBLIC);
    key->id = key_id(name, pub);
    return KW_OK;
}

void kw_note_verifier(struct kw_buf *out, const struct kw_note_key *key)
{
    unsigned char raw[1 + KW_ED25519_PUBLIC];
    char b64[64];
    raw[0] = ALG_ED25519;
    memcpy(raw + 1, key->pub, KW_ED25519_PUBLIC);
    kw_b64_encode(raw, sizeof(raw), b64);
    kw_buf_printf(out, "%s+%08" PRIx32 "+%s", key->name, key->id, b64);
}

enum kw_code kw_note_verifier_parse(const char *text, struct kw_note_key *key, struct kw_err *err)
{
    const char *p1 = strchr(text, '+');
    const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
    if (!p1 || !p2) /* (the key's base64 may hold '+' too) */
        return kw_err_set(err, KW_INVALID, "", "a verifier key is NAME+KEYID+KEY");
    size_t nlen = (size_t)(p1 - text);
    char name[KW_NOTE_NAME_MAX + 1];
    if (nlen == 0 || nlen > KW_NOTE_NAME_MAX)
        return kw_err_set(err, KW_INVALID, "", "the verifier key's name is empty or too long");
    memcpy(name, text, nlen);
    name[nlen] = '\0';
    if (p2 - p1 - 1 != 8)
        return kw_err_set(err, KW_INVALID, "", "the verifier key's id is not 8 hex digits");
    uint32_t id = 0;
    for (const char *c = p1 + 1; c < p2; c++) {
        unsigned d;
        if (*c >= '0' && *c <= '9')
            d = (unsigned)(*c - '0');
        else if (*c >= 'a' && *c <= 'f')
            d = (unsigned)(*c - 'a' + 10);
        else
            return kw_err_set(err, KW_INVALID, "", "the verifier key's id is not 8 hex digits");
        id = id << 4 | d;
    }
    unsigned char raw[1 + KW_ED25519_PUBLIC + 1];
    long n = kw_b64_decode(p2 + 1, strlen(p2 + 1), raw, sizeof(raw));
    if (n != 1 + KW_ED25519_PUBLIC || raw[0] != ALG_ED25519)
        return kw_err_set(err, KW_INVALID, "", "the verifier key is not an Ed25519 key");
    enum kw_code rc = kw_note_key_make(key, name, raw + 1, err);
    if (rc != KW_OK)
        return rc;
    if (key->id != id)
        return kw_err_set(err, KW_INVALID, "", "the verifier key's id does not match its key");
    return KW_OK;
}

void kw_note_signer_text(struct kw_buf *out, const struct kw_note_key *key,
                         const unsigned char seed[32])
{
    unsigned char raw[33];
    char b64[64];
    raw[0] = ALG_ED25519;
    memcpy(raw + 1, seed, 32);
    kw_b64_encode(raw, sizeof(raw), b64);
    kw_wipe(raw, sizeof(raw));
    kw_buf_printf(out, "PRIVATE+KEY+%s+%08" PRIx32 "+%s\n", key->name, key->id, b64);
    kw_wipe(b64, sizeof(b64));
}

enum kw_code kw_note_signer_parse(const char *text, struct kw_note_key *key,
                                  unsigned char sec[KW_ED25519_SECRET], struct kw_err *err)
{
    static const char prefix[] = "PRIVATE+KEY+";
    char buf[KW_NOTE_NAME_MAX + 80];
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    if (n < sizeof(prefix) || n >= sizeof(buf) || memcmp(text, prefix, sizeof(prefix) - 1) != 0)
        return kw_err_set(err, KW_INVALID, "", "not a signer key (PRIVATE+KEY+NAME+KEYID+KEY)");
    memcpy(buf, text + sizeof(prefix) - 1, n - (sizeof(prefix) - 1));
    buf[n - (sizeof(prefix) - 1)] = '\0';
    /* the same three fields as a verifier key, with the seed for the key */
    char *p1 = strchr(buf, '+'), *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
    if (!p1 || !p2)
        return kw_err_set(err, KW_INVALID, "", "not a signer key (PRIVATE+KEY+NAME+KEYID+KEY)");
    unsigned char raw[34], pub[KW_ED25519_PUBLIC];
    long got = kw_b64_decode(p2 + 1, strlen(p2 + 1), raw, sizeof(raw));
    if (got != 33 || raw[0] != ALG_ED25519) {
        kw_wipe(buf, sizeof(buf));
        return kw_err_set(err, KW_INVALID, "", "the signer key is not an Ed25519 seed");
    }
    kw_ed25519_seed_keypair(raw + 1, pub, sec);
    kw_wipe(raw, sizeof(raw));
    *p1 = '\0';
    enum kw_code rc = kw_note_key_make(key, buf, pub, err);
    unsigned long id = strtoul(p1 + 1, NULL, 16);
    if (rc == KW_OK && (p2 - p1 - 1 != 8 || id != key->id))
        rc = kw_err_set(err, KW_INVALID, "", "the signer key's id does not match its key");
    kw_wipe(buf, sizeof(buf));
    return rc;
}

/* Whether text[0..len) is a note text: valid UTF-8 ending in "\n", with no
 * blank line and no control characters but newlines. */
static bool text_ok(const char *text, size_t len)
{
    if (len == 0 || text[len - 1] != '\n' || kw_utf8_valid_prefix(text, len) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return false;
        if (c == '\n' && (i == 0 || text[i - 1] == '\n'))
            return false;
    }
    return true;
}

enum kw_code kw_note_sign(struct kw_buf *out, const char *text, size_t len,
                          const struct kw_note_key *key, const unsigned char sec[KW_ED25519_SECRET],
                          struct kw_err *err)
{
    if (!text_ok(text, len))
        return kw_err_set(err, KW_INVALID, "",
                          "a note's text is UTF-8 lines, each ending in a newline, none blank");
    unsigned char sig[4 + KW_ED25519_SIG];
    char b64[128];
    sig[0] = (unsigned char)(key->id >> 24);
    sig[1] = (unsigned char)(key->id >> 16);
    sig[2] = (unsigned char)(key->id >> 8);
    sig[3] = (unsigned char)key->id;
    kw_ed25519_sign(sec, text, len, sig + 4);
    kw_b64_encode(sig, sizeof(sig), b64);
    kw_buf_add(out, text, len);
    kw_buf_printf(out, "\n" DASH " %s %s\n", key->name, b64);
    return KW_OK;
}

enum kw_code kw_note_open(const char *note, size_t len, const struct kw_note_key *key,
                          size_t *text_len, struct kw_err *err)
{
    /* the text ends at the last blank line */
    size_t split = 0;
    for (size_t i = len; i-- > 1;)
        if (note[i] == '\n' && note[i - 1] == '\n') {
            split = i;
            break;
        }
    if (split == 0 || !text_ok(note, split) || len == split + 1 || note[len - 1] != '\n')
        return kw_err_set(err, KW_INVALID, "",
                          "not a signed note (a text, a blank line, signature lines)");
    size_t sl = strlen(key->name);
    for (size_t p = split + 1; p < len;) {
        const char *line = note + p;
        const char *nl = memchr(line, '\n', len - p);
        size_t ll = (size_t)(nl - line);
        p += ll + 1;
        if (ll < 4 || memcmp(line, DASH " ", 4) != 0)
            return kw_err_set(err, KW_INVALID, "", "a signature line does not start with '— '");
        if (ll < 4 + sl + 1 || memcmp(line + 4, key->name, sl) != 0 || line[4 + sl] != ' ')
            continue; /* another signer */
        unsigned char sig[4 + KW_ED25519_SIG + 1];
        long n = kw_b64_decode(line + 5 + sl, ll - 5 - sl, sig, sizeof(sig));
        if (n != 4 + KW_ED25519_SIG)
            continue;
        uint32_t id =
            (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3];
        if (id != key->id)
            continue;
        if (!kw_ed25519_verify(key->pub, note, split, sig + 4))
            return kw_err_set(err, KW_INVALID, "",
                              "the signature by '%s' does not match the note's text", key->name);
        *text_len = split;
        return KW_OK;
    }
    return kw_err_set(err, KW_INVALID, "", "the note carries no signature by key '%s' (%08x)",
                      key->name, (unsigned)key->id);
}

void kw_checkpoint_text(struct kw_buf *out, const struct kw_checkpoint *cp)
{
    char b64[64];
    kw_b64_encode(cp->root, KW_MERKLE_HASH, b64);
    kw_buf_printf(out, "%s\n%" PRIu64 "\n%s\n", cp->origin, cp->size, b64);
}

enum kw_code kw_checkpoint_parse(const char *text, size_t len, struct kw_checkpoint *cp,
                                 struct kw_err *err)
{
    const char *l[3];
    size_t ll[3], p = 0;
    for (int i = 0; i < 3; i++) {
        const char *nl = p < len ? memchr(text + p, '\n', len - p) : NULL;
        if (!nl)
            return kw_err_set(err, KW_INVALID, "",
                              "a checkpoint has three lines, line %d is missing", i + 1);
        l[i] = text + p;
        ll[i] = (size_t)(nl - l[i]);
        p += ll[i] + 1;
    }
    memset(cp, 0, sizeof(*cp));
    if (ll[0] == 0 || ll[0] > KW_NOTE_NAME_MAX)
        return kw_err_set(err, KW_INVALID, "",
                          "the checkpoint's origin (line 1) is empty or too long");
    memcpy(cp->origin, l[0], ll[0]);
    if (!kw_note_name_ok(cp->origin))
        return kw_err_set(err, KW_INVALID, "", "the checkpoint's origin (line 1) is not a name");
    if (ll[1] == 0 || ll[1] > 20 || (ll[1] > 1 && l[1][0] == '0'))
        return kw_err_set(err, KW_INVALID, "", "the checkpoint's size (line 2) is not a number");
    uint64_t size = 0;
    for (size_t i = 0; i < ll[1]; i++) {
        if (l[1][i] < '0' || l[1][i] > '9' || size > (UINT64_MAX - 9) / 10)
            return kw_err_set(err, KW_INVALID, "",
                              "the checkpoint's size (line 2) is not a number");
        size = size * 10 + (uint64_t)(l[1][i] - '0');
    }
    cp->size = size;
    unsigned char root[KW_MERKLE_HASH + 1];
    if (kw_b64_decode(l[2], ll[2], root, sizeof(root)) != KW_MERKLE_HASH)
        return kw_err_set(err, KW_INVALID, "",
                          "the checkpoint's root (line 3) is not a base64 SHA-256 hash");
    memcpy(cp->root, root, KW_MERKLE_HASH);
    return KW_OK;
}
