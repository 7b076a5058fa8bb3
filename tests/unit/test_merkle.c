// SPDX-License-Identifier: MIT
/* The Merkle log's arithmetic against RFC 6962's test vectors (the roots
 * of the certificate-transparency reference tree of eight leaves, and its
 * proofs), every inclusion and consistency proof of trees up to 70 leaves
 * with one changed byte refused, and signed notes against the Go reference
 * implementation's published example (golang.org/x/mod/sumdb/note).
 * SHA-256 itself (OpenSSL's) against FIPS 180-2's vectors and libsodium's
 * portable implementation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "merkle.h"
#include "note.h"
#include "testutil.h"

#define HB KW_MERKLE_HASH
#define MAXN 70

/* An in-memory node store: nodes[level][index]. */
struct mem {
    unsigned char nodes[8][MAXN][HB];
    bool have[8][MAXN];
    int gets;
};

static enum kw_code mem_get(void *ctx, unsigned level, uint64_t index, unsigned char out[HB],
                            struct kw_err *err)
{
    struct mem *m = ctx;
    m->gets++;
    if (level >= 8 || index >= MAXN || !m->have[level][index])
        return kw_err_set(err, KW_NOT_FOUND, "", "no node (%u, %llu)", level,
                          (unsigned long long)index);
    memcpy(out, m->nodes[level][index], HB);
    return KW_OK;
}

static enum kw_code mem_put(void *ctx, unsigned level, uint64_t index, const unsigned char h[HB],
                            struct kw_err *err)
{
    struct mem *m = ctx;
    (void)err;
    assert_true(level < 8 && index < MAXN);
    assert_false(m->have[level][index]); /* a node is written once */
    memcpy(m->nodes[level][index], h, HB);
    m->have[level][index] = true;
    return KW_OK;
}

static void unhex(const char *hex, unsigned char *out)
{
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

static void assert_hash(const unsigned char h[HB], const char *hex)
{
    unsigned char want[HB];
    unhex(hex, want);
    assert_memory_equal(h, want, HB);
}

/* The reference tree's leaves (certificate-transparency's test data). */
static const char *const ct_leaves[] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const ct_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void ct_tree(struct mem *m)
{
    memset(m, 0, sizeof(*m));
    for (uint64_t i = 0; i < 8; i++) {
        unsigned char data[16], leaf[HB];
        size_t n = strlen(ct_leaves[i]) / 2;
        unhex(ct_leaves[i], data);
        kw_merkle_leaf(data, n, leaf);
        assert_int_equal(kw_merkle_append(mem_get, mem_put, m, i, leaf, NULL), KW_OK);
    }
}

static void test_reference_roots(void **state)
{
    (void)state;
    static struct mem m;
    ct_tree(&m);
    for (uint64_t size = 0; size <= 8; size++) {
        unsigned char root[HB];
        assert_int_equal(kw_merkle_root(mem_get, &m, size, root, NULL), KW_OK);
        assert_hash(root, ct_roots[size]);
    }
    /* eight leaves keep 8 + 4 + 2 + 1 nodes */
    int kept = 0;
    for (int l = 0; l < 8; l++)
        for (int i = 0; i < MAXN; i++)
            kept += m.have[l][i];
    assert_int_equal(kept, 15);
}

static void test_reference_proofs(void **state)
{
    (void)state;
    static struct mem m;
    unsigned char path[KW_MERKLE_MAX_PROOF][HB];
    size_t n;
    ct_tree(&m);

    assert_int_equal(kw_merkle_inclusion(mem_get, &m, 0, 8, path, &n, NULL), KW_OK);
    assert_int_equal(n, 3);
    assert_hash(path[0], "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
    assert_hash(path[1], "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e");
    assert_hash(path[2], "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");

    assert_int_equal(kw_merkle_inclusion(mem_get, &m, 5, 7, path, &n, NULL), KW_OK);
    assert_int_equal(n, 3);
    assert_hash(path[0], "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
    assert_hash(path[1], "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f");
    assert_hash(path[2], "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");

    assert_int_equal(kw_merkle_consistency(mem_get, &m, 3, 7, path, &n, NULL), KW_OK);
    assert_int_equal(n, 4);
    assert_hash(path[0], "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7");
    assert_hash(path[1], "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7");
    assert_hash(path[2], "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
    assert_hash(path[3], "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e");

    assert_int_equal(kw_merkle_consistency(mem_get, &m, 4, 8, path, &n, NULL), KW_OK);
    assert_int_equal(n, 1);
    assert_hash(path[0], "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");

    /* out of range */
    struct kw_err err = {0};
    assert_int_equal(kw_merkle_inclusion(mem_get, &m, 8, 8, path, &n, &err), KW_INVALID);
    assert_int_equal(kw_merkle_consistency(mem_get, &m, 0, 8, path, &n, &err), KW_INVALID);
    assert_int_equal(kw_merkle_consistency(mem_get, &m, 5, 4, path, &n, &err), KW_INVALID);
    /* a node the store lacks is the store's error */
    assert_int_equal(kw_merkle_root(mem_get, &m, 9, path[0], &err), KW_NOT_FOUND);
}

static void leaf_of(uint64_t i, unsigned char out[HB])
{
    char data[32];
    int n = snprintf(data, sizeof(data), "leaf-%llu", (unsigned long long)i);
    kw_merkle_leaf(data, (size_t)n, out);
}

/* Every leaf of every tree up to MAXN leaves is proved; a changed byte in
 * any step of the path, the wrong leaf or index, a leaf outside the tree,
 * or a path one step short or long is refused. */
static void test_every_inclusion(void **state)
{
    (void)state;
    static struct mem m;
    memset(&m, 0, sizeof(m));
    unsigned char roots[MAXN + 1][HB];
    for (uint64_t i = 0; i < MAXN; i++) {
        unsigned char leaf[HB];
        leaf_of(i, leaf);
        assert_int_equal(kw_merkle_append(mem_get, mem_put, &m, i, leaf, NULL), KW_OK);
        assert_int_equal(kw_merkle_root(mem_get, &m, i + 1, roots[i + 1], NULL), KW_OK);
    }
    for (uint64_t size = 1; size <= MAXN; size++)
        for (uint64_t leaf = 0; leaf < size; leaf++) {
            unsigned char path[KW_MERKLE_MAX_PROOF + 1][HB], h[HB], other[HB];
            size_t n;
            m.gets = 0;
            assert_int_equal(kw_merkle_inclusion(mem_get, &m, leaf, size, path, &n, NULL), KW_OK);
            assert_true(m.gets <= 14); /* at most about 2 log2(size) reads */
            leaf_of(leaf, h);
            assert_true(kw_merkle_verify_inclusion(leaf, size, h, path, n, roots[size]));
            leaf_of(leaf + 1, other);
            assert_false(kw_merkle_verify_inclusion(leaf, size, other, path, n, roots[size]));
            if (size > 1) {
                assert_false(
                    kw_merkle_verify_inclusion((leaf + 1) % size, size, h, path, n, roots[size]));
                assert_false(kw_merkle_verify_inclusion(leaf, size, h, path, n - 1, roots[size]));
            }
            /* (a size whose path has the same shape proves the same root:
             * the root, not the size, is what a path is checked against) */
            assert_false(kw_merkle_verify_inclusion(leaf, leaf, h, path, n, roots[size]));
            memset(path[n], 0x5a, HB);
            assert_false(kw_merkle_verify_inclusion(leaf, size, h, path, n + 1, roots[size]));
            for (size_t k = 0; k < n; k++) {
                path[k][k % HB] ^= 0x01;
                assert_false(kw_merkle_verify_inclusion(leaf, size, h, path, n, roots[size]));
                path[k][k % HB] ^= 0x01;
            }
        }
}

/* The tree built again from its leaves in order (kw_merkle_stream) puts
 * the nodes kw_merkle_append keeps, each once, in the order appends write
 * them, and has the root kw_merkle_root gives at every size 0 to MAXN. */
static void test_stream(void **state)
{
    (void)state;
    static struct mem m, s;
    memset(&m, 0, sizeof(m));
    memset(&s, 0, sizeof(s));
    struct kw_merkle_stream ms = {0};
    unsigned char root[HB], want[HB];
    kw_merkle_stream_root(&ms, root);
    assert_int_equal(kw_merkle_root(mem_get, &m, 0, want, NULL), KW_OK);
    assert_memory_equal(root, want, HB);
    for (uint64_t i = 0; i < MAXN; i++) {
        unsigned char leaf[HB];
        leaf_of(i, leaf);
        assert_int_equal(kw_merkle_append(mem_get, mem_put, &m, i, leaf, NULL), KW_OK);
        assert_int_equal(kw_merkle_stream_add(&ms, leaf, mem_put, &s, NULL), KW_OK);
        assert_int_equal(ms.size, i + 1);
        assert_int_equal(kw_merkle_root(mem_get, &m, i + 1, want, NULL), KW_OK);
        kw_merkle_stream_root(&ms, root);
        assert_memory_equal(root, want, HB);
    }
    for (int l = 0; l < 8; l++)
        for (int i = 0; i < MAXN; i++) {
            assert_int_equal(s.have[l][i], m.have[l][i]);
            if (m.have[l][i])
                assert_memory_equal(s.nodes[l][i], m.nodes[l][i], HB);
        }
}

/* Every pair of sizes 1 <= from <= to <= MAXN is proved consistent; a
 * changed byte or a wrong root is refused. */
static void test_every_consistency(void **state)
{
    (void)state;
    static struct mem m;
    memset(&m, 0, sizeof(m));
    unsigned char roots[MAXN + 1][HB];
    for (uint64_t i = 0; i < MAXN; i++) {
        unsigned char leaf[HB];
        leaf_of(i, leaf);
        assert_int_equal(kw_merkle_append(mem_get, mem_put, &m, i, leaf, NULL), KW_OK);
        assert_int_equal(kw_merkle_root(mem_get, &m, i + 1, roots[i + 1], NULL), KW_OK);
    }
    for (uint64_t to = 1; to <= MAXN; to++)
        for (uint64_t from = 1; from <= to; from++) {
            unsigned char path[KW_MERKLE_MAX_PROOF][HB];
            size_t n;
            assert_int_equal(kw_merkle_consistency(mem_get, &m, from, to, path, &n, NULL), KW_OK);
            assert_true(kw_merkle_verify_consistency(from, to, roots[from], roots[to], path, n));
            if (from > 1)
                assert_false(
                    kw_merkle_verify_consistency(from, to, roots[from - 1], roots[to], path, n));
            if (from < to) {
                assert_false(
                    kw_merkle_verify_consistency(from, to, roots[from], roots[to - 1], path, n));
            }
            for (size_t k = 0; k < n; k++) {
                path[k][0] ^= 0x80;
                assert_false(
                    kw_merkle_verify_consistency(from, to, roots[from], roots[to], path, n));
                path[k][0] ^= 0x80;
            }
        }
    unsigned char none[1][HB];
    assert_false(kw_merkle_verify_consistency(0, 5, roots[1], roots[5], none, 0));
    assert_false(kw_merkle_verify_consistency(3, 5, roots[3], roots[5], none, 0));
}

/* The Go reference implementation's example key and note, byte for byte. */
static const char peter_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char peter_seed[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"; /* 0x01 ‖ seed */
static const char peter_text[] = "If you think cryptography is the answer to your problem,\n"
                                 "then you don't know what your problem is.\n";
static const char peter_note[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

static void test_note_reference(void **state)
{
    (void)state;
    struct kw_note_key key, parsed;
    unsigned char raw[33], pub[KW_ED25519_PUBLIC], sec[KW_ED25519_SECRET];
    assert_int_equal(kw_b64_decode(peter_seed, strlen(peter_seed), raw, sizeof(raw)), 33);
    kw_ed25519_seed_keypair(raw + 1, pub, sec);
    assert_int_equal(kw_note_key_make(&key, "PeterNeumann", pub, NULL), KW_OK);
    assert_int_equal(key.id, 0xc74f20a3u);

    struct kw_buf b = {0};
    kw_note_verifier(&b, &key);
    assert_string_equal(b.p, peter_vkey);
    kw_buf_release(&b);
    assert_int_equal(kw_note_verifier_parse(peter_vkey, &parsed, NULL), KW_OK);
    assert_memory_equal(parsed.pub, pub, sizeof(pub));

    /* Ed25519 is deterministic: our note is the published one */
    assert_int_equal(kw_note_sign(&b, peter_text, strlen(peter_text), &key, sec, NULL), KW_OK);
    assert_string_equal(b.p, peter_note);
    kw_buf_release(&b);

    size_t tl = 0;
    assert_int_equal(kw_note_open(peter_note, strlen(peter_note), &parsed, &tl, NULL), KW_OK);
    assert_int_equal(tl, strlen(peter_text));

    /* one changed byte anywhere in the text or signature is refused */
    char bad[sizeof(peter_note)];
    for (size_t i = 0; i < strlen(peter_note); i++) {
        if (i == strlen(peter_text) || peter_note[i] == '\n')
            continue; /* the layout's own newlines: checked below */
        memcpy(bad, peter_note, sizeof(bad));
        bad[i] ^= 0x01;
        struct kw_err err = {0};
        assert_int_not_equal(kw_note_open(bad, strlen(bad), &parsed, &tl, &err), KW_OK);
        assert_true(err.msg[0] != '\0');
    }
    struct kw_err err = {0};
    assert_int_equal(kw_note_open(peter_text, strlen(peter_text), &parsed, &tl, &err), KW_INVALID);
    assert_non_null(strstr(err.msg, "not a signed note"));

    /* mangled verifier keys are refused */
    char k[sizeof(peter_vkey)];
    for (size_t i = 0; i < strlen(peter_vkey); i++) {
        memcpy(k, peter_vkey, sizeof(k));
        k[i] = (char)(k[i] == 'A' ? 'B' : 'A');
        if (strcmp(k, peter_vkey) != 0)
            assert_int_not_equal(kw_note_verifier_parse(k, &parsed, NULL), KW_OK);
    }
    /* the signer key file round-trips to the same key and the same note */
    struct kw_buf sk = {0};
    unsigned char sec2[KW_ED25519_SECRET];
    kw_note_signer_text(&sk, &key, raw + 1);
    assert_string_equal(sk.p, "PRIVATE+KEY+PeterNeumann+c74f20a3+"
                              "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n");
    assert_int_equal(kw_note_signer_parse(sk.p, &parsed, sec2, NULL), KW_OK);
    assert_int_equal(parsed.id, key.id);
    assert_memory_equal(sec2, sec, sizeof(sec));
    sk.p[sk.len - 3] ^= 0x01; /* another seed: the id no longer matches */
    assert_int_equal(kw_note_signer_parse(sk.p, &parsed, sec2, NULL), KW_INVALID);
    assert_int_equal(kw_note_signer_parse("PRIVATE+KEY+x", &parsed, sec2, NULL), KW_INVALID);
    kw_buf_release(&sk);
    kw_wipe(sec, sizeof(sec));
}

static void test_checkpoint(void **state)
{
    (void)state;
    unsigned char pub[KW_ED25519_PUBLIC], sec[KW_ED25519_SECRET], pub2[KW_ED25519_PUBLIC],
        sec2[KW_ED25519_SECRET];
    assert_int_equal(kw_ed25519_keypair(pub, sec, NULL), KW_OK);
    assert_int_equal(kw_ed25519_keypair(pub2, sec2, NULL), KW_OK);
    struct kw_note_key key, other;
    assert_int_equal(kw_note_key_make(&key, "keepword.example/log", pub, NULL), KW_OK);
    assert_int_equal(kw_note_key_make(&other, "keepword.example/log", pub2, NULL), KW_OK);

    struct kw_checkpoint cp = {.origin = "keepword.example/log", .size = 1234567};
    unhex(ct_roots[8], cp.root);
    struct kw_buf text = {0}, note = {0};
    kw_checkpoint_text(&text, &cp);
    assert_string_equal(text.p, "keepword.example/log\n1234567\n"
                                "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
    assert_int_equal(kw_note_sign(&note, text.p, text.len, &key, sec, NULL), KW_OK);

    size_t tl;
    struct kw_err err = {0};
    assert_int_equal(kw_note_open(note.p, note.len, &key, &tl, &err), KW_OK);
    struct kw_checkpoint back;
    assert_int_equal(kw_checkpoint_parse(note.p, tl, &back, NULL), KW_OK);
    assert_string_equal(back.origin, cp.origin);
    assert_int_equal(back.size, cp.size);
    assert_memory_equal(back.root, cp.root, HB);

    /* a second key with the same name signs nothing this key vouches for */
    assert_int_equal(kw_note_open(note.p, note.len, &other, &tl, &err), KW_INVALID);
    assert_non_null(strstr(err.msg, "no signature by key"));

    static const char *const bad[] = {
        "origin\n12\n",                                                /* no root */
        "origin\n012\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", /* leading zero */
        "origin\n-1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n99999999999999999999\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n12\nXcnaeacGWamtVZy3Ad7Zoqudgjqtd0lgz+Nw7/RgQ==\n", /* short root */
        "has space\n12\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++)
        assert_int_equal(kw_checkpoint_parse(bad[i], strlen(bad[i]), &back, NULL), KW_INVALID);
    /* a text with a blank line cannot be signed */
    assert_int_equal(kw_note_sign(&note, "a\n\nb\n", 5, &key, sec, NULL), KW_INVALID);
    assert_int_equal(kw_note_sign(&note, "no newline", 10, &key, sec, NULL), KW_INVALID);
    kw_buf_release(&text);
    kw_buf_release(&note);
}

static void hex32(const unsigned char h[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* kw_sha256 and its two-part and tagged forms give FIPS 180-2's digests,
 * and the same bytes as libsodium's SHA-256 (what they were until #20) for
 * every length up to three blocks and every split of the input. */
static void test_sha256(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
        size_t repeat;
        const char *want;
    } cases[] = {
        {"the empty string", "", 1,
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"two blocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"a million a's", "a", 1000000,
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        size_t len = strlen(cases[i].text), n = len * cases[i].repeat;
        char *in = malloc(n + 1);
        assert_non_null(in);
        for (size_t r = 0; r < cases[i].repeat; r++)
            memcpy(in + r * len, cases[i].text, len);
        unsigned char h[32];
        char got[65];
        kw_sha256(in, n, h);
        hex32(h, got);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got %s, want %s", cases[i].name, got, cases[i].want);
        for (size_t cut = 0; cut <= n; cut += n > 200 ? 99991 : 1) {
            kw_sha256_2(in, cut, in + cut, n - cut, h);
            hex32(h, got);
            if (strcmp(got, cases[i].want) != 0)
                fail_msg("%s, in two parts at %zu: got %s", cases[i].name, cut, got);
        }
        free(in);
    }
    unsigned char in[200], a[32], b[32];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof(in) - 1; n++) {
        crypto_hash_sha256(b, in, n);
        kw_sha256(in, n, a);
        if (memcmp(a, b, 32) != 0)
            fail_msg("%zu bytes: not libsodium's digest", n);
        for (size_t cut = 0; cut < n; cut += 7) {
            kw_sha256_2(in, cut, in + cut, n - cut, a);
            if (memcmp(a, b, 32) != 0)
                fail_msg("%zu bytes in two parts at %zu: not the one-shot digest", n, cut);
        }
        if (n == 0)
            continue;
        /* tagged: the first byte as the tag, the rest split in two */
        kw_sha256_tagged(in[0], in + 1, (n - 1) / 2, in + 1 + (n - 1) / 2, n - 1 - (n - 1) / 2, a);
        if (memcmp(a, b, 32) != 0)
            fail_msg("%zu bytes tagged: not the one-shot digest", n);
        kw_sha256_tagged(in[0], in + 1, n - 1, NULL, 0, a);
        if (memcmp(a, b, 32) != 0)
            fail_msg("%zu bytes tagged, one part: not the one-shot digest", n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_roots), cmocka_unit_test(test_reference_proofs),
        cmocka_unit_test(test_every_inclusion), cmocka_unit_test(test_every_consistency),
        cmocka_unit_test(test_note_reference),  cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_sha256),          cmocka_unit_test(test_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
