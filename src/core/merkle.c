// SPDX-License-Identifier: MIT
#include "merkle.h"

#include <string.h>

#define HB KW_MERKLE_HASH

void kw_merkle_leaf(const void *data, size_t n, unsigned char out[HB])
{
    kw_sha256_tagged(0x00, data, n, NULL, 0, out);
}

void kw_merkle_node(const unsigned char left[HB], const unsigned char right[HB],
                    unsigned char out[HB])
{
    kw_sha256_tagged(0x01, left, HB, right, HB, out);
}

/* The largest power of two below n (n >= 2). */
static uint64_t split(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

static bool pow2(uint64_t n)
{
    return n && !(n & (n - 1));
}

static unsigned log2u(uint64_t n)
{
    unsigned l = 0;
    while (n >>= 1)
        l++;
    return l;
}

/* The hash of leaves [a, a+n), n >= 1, a range of the RFC's tree: a is a
 * multiple of the largest power of two not above n, so the range is made
 * of the complete subtrees of n's binary digits, largest first. */
static enum kw_code range(kw_merkle_get get, void *ctx, uint64_t a, uint64_t n,
                          unsigned char out[HB], struct kw_err *err)
{
    if (pow2(n)) {
        unsigned l = log2u(n);
        return get(ctx, l, a >> l, out, err);
    }
    uint64_t k = split(n);
    unsigned char left[HB], right[HB];
    enum kw_code rc = range(get, ctx, a, k, left, err);
    if (rc == KW_OK)
        rc = range(get, ctx, a + k, n - k, right, err);
    if (rc == KW_OK)
        kw_merkle_node(left, right, out);
    return rc;
}

enum kw_code kw_merkle_append(kw_merkle_get get, kw_merkle_put put, void *ctx, uint64_t index,
                              const unsigned char leaf_hash[HB], struct kw_err *err)
{
    unsigned char h[HB], left[HB];
    memcpy(h, leaf_hash, HB);
    enum kw_code rc = put(ctx, 0, index, h, err);
    for (unsigned level = 0; rc == KW_OK && (index & 1); level++, index >>= 1) {
        rc = get(ctx, level, index - 1, left, err);
        if (rc != KW_OK)
            break;
        kw_merkle_node(left, h, h);
        rc = put(ctx, level + 1, index >> 1, h, err);
    }
    return rc;
}

enum kw_code kw_merkle_root(kw_merkle_get get, void *ctx, uint64_t size, unsigned char out[HB],
                            struct kw_err *err)
{
    if (size == 0) {
        kw_sha256("", 0, out);
        return KW_OK;
    }
    return range(get, ctx, 0, size, out, err);
}

/* PATH(m, D[a:a+n]) of RFC 6962 2.1.1, appended to path at *k. */
static enum kw_code audit(kw_merkle_get get, void *ctx, uint64_t m, uint64_t a, uint64_t n,
                          unsigned char path[][HB], size_t *k, struct kw_err *err)
{
    if (n <= 1)
        return KW_OK;
    uint64_t s = split(n);
    enum kw_code rc;
    if (m < s) {
        rc = audit(get, ctx, m, a, s, path, k, err);
        if (rc == KW_OK)
            rc = range(get, ctx, a + s, n - s, path[*k], err);
    } else {
        rc = audit(get, ctx, m - s, a + s, n - s, path, k, err);
        if (rc == KW_OK)
            rc = range(get, ctx, a, s, path[*k], err);
    }
    if (rc == KW_OK)
        ++*k;
    return rc;
}

enum kw_code kw_merkle_inclusion(kw_merkle_get get, void *ctx, uint64_t leaf, uint64_t size,
                                 unsigned char path[][HB], size_t *n, struct kw_err *err)
{
    *n = 0;
    if (leaf >= size)
        return kw_err_set(err, KW_INVALID, "/leaf", "leaf %llu is not in a tree of %llu leaves",
                          (unsigned long long)leaf, (unsigned long long)size);
    return audit(get, ctx, leaf, 0, size, path, n, err);
}

/* SUBPROOF(m, D[a:a+n], b) of RFC 6962 2.1.2, appended to path at *k. */
static enum kw_code subproof(kw_merkle_get get, void *ctx, uint64_t m, uint64_t a, uint64_t n,
                             bool whole, unsigned char path[][HB], size_t *k, struct kw_err *err)
{
    enum kw_code rc;
    if (m == n) {
        if (whole)
            return KW_OK;
        rc = range(get, ctx, a, n, path[*k], err);
    } else {
        uint64_t s = split(n);
        if (m <= s) {
            rc = subproof(get, ctx, m, a, s, whole, path, k, err);
            if (rc == KW_OK)
                rc = range(get, ctx, a + s, n - s, path[*k], err);
        } else {
            rc = subproof(get, ctx, m - s, a + s, n - s, false, path, k, err);
            if (rc == KW_OK)
                rc = range(get, ctx, a, s, path[*k], err);
        }
    }
    if (rc == KW_OK)
        ++*k;
    return rc;
}

enum kw_code kw_merkle_consistency(kw_merkle_get get, void *ctx, uint64_t from, uint64_t to,
                                   unsigned char path[][HB], size_t *n, struct kw_err *err)
{
    *n = 0;
    if (from == 0 || from > to)
        return kw_err_set(err, KW_INVALID, "/from",
                          "a consistency proof needs 0 < from <= to (from %llu, to %llu)",
                          (unsigned long long)from, (unsigned long long)to);
    if (from == to)
        return KW_OK;
    return subproof(get, ctx, from, 0, to, true, path, n, err);
}

bool kw_merkle_verify_inclusion(uint64_t leaf, uint64_t size, const unsigned char leaf_hash[HB],
                                const unsigned char path[][HB], size_t n,
                                const unsigned char root[HB])
{
    if (leaf >= size || n > KW_MERKLE_MAX_PROOF)
        return false;
    uint64_t fn = leaf, sn = size - 1;
    unsigned char r[HB];
    memcpy(r, leaf_hash, HB);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            kw_merkle_node(path[i], r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            kw_merkle_node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, HB) == 0;
}

bool kw_merkle_verify_consistency(uint64_t from, uint64_t to, const unsigned char from_root[HB],
                                  const unsigned char to_root[HB], const unsigned char path[][HB],
                                  size_t n)
{
    if (from == 0 || from > to || n > KW_MERKLE_MAX_PROOF)
        return false;
    if (from == to)
        return n == 0 && memcmp(from_root, to_root, HB) == 0;
    if (n == 0)
        return false;
    /* When from is a power of two its root is the first step, not sent. */
    size_t i = 0;
    const unsigned char *first = from_root;
    if (!pow2(from))
        first = path[i++];
    uint64_t fn = from - 1, sn = to - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    unsigned char fr[HB], sr[HB];
    memcpy(fr, first, HB);
    memcpy(sr, first, HB);
    for (; i < n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            kw_merkle_node(path[i], fr, fr);
            kw_merkle_node(path[i], sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            kw_merkle_node(sr, path[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, from_root, HB) == 0 && memcmp(sr, to_root, HB) == 0;
}

enum kw_code kw_merkle_stream_add(struct kw_merkle_stream *s, const unsigned char leaf_hash[HB],
                                  kw_merkle_put put, void *ctx, struct kw_err *err)
{
    uint64_t index = s->size;
    unsigned char h[HB];
    memcpy(h, leaf_hash, HB);
    enum kw_code rc = put(ctx, 0, index, h, err);
    unsigned level = 0;
    /* the frontier's node at each level whose bit of the size is 1 is the
     * left sibling of the path up from the new leaf, as in kw_merkle_append */
    for (; rc == KW_OK && (index >> level & 1); level++) {
        kw_merkle_node(s->frontier[level], h, h);
        rc = put(ctx, level + 1, index >> (level + 1), h, err);
    }
    if (rc != KW_OK)
        return rc;
    memcpy(s->frontier[level], h, HB);
    s->size = index + 1;
    return KW_OK;
}

void kw_merkle_stream_root(const struct kw_merkle_stream *s, unsigned char out[HB])
{
    if (s->size == 0) {
        kw_sha256("", 0, out);
        return;
    }
    /* the complete subtrees of size's binary digits, largest first, folded
     * from the right: range() of the whole tree */
    bool have = false;
    for (unsigned l = 0; l < 64; l++) {
        if (!(s->size >> l & 1))
            continue;
        if (have)
            kw_merkle_node(s->frontier[l], out, out);
        else
            memcpy(out, s->frontier[l], HB);
        have = true;
    }
}
