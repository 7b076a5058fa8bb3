// SPDX-License-Identifier: MIT
/*
 * merkle.h - the deployment-wide Merkle log's arithmetic (RFC 6962 section
 * 2.1, RFC 9162 section 2.1): leaf and node hashes, the root of a tree of
 * any size, inclusion and consistency proofs and their verification.
 *
 *   leaf = SHA-256(0x00 ‖ data)      node = SHA-256(0x01 ‖ left ‖ right)
 *   the root of the empty tree = SHA-256("")
 *
 * The log is kept as its complete subtrees: node (level, index) is the
 * hash of leaves [index·2^level, (index+1)·2^level). Appending leaf i
 * completes node (0, i) and, while i's low bits are ones, the nodes above
 * it, so a log of n leaves keeps under 2n nodes and each proof needs at
 * most about 2·log2(n) of them. Where the nodes live is the caller's: the
 * functions here read them through kw_merkle_get and hand new ones to
 * kw_merkle_put. Pure: no I/O, no clock, no globals, no allocation.
 */
#ifndef KW_MERKLE_H
#define KW_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_crypto.h"
#include "kw_err.h"

#define KW_MERKLE_HASH KW_SHA256_BYTES
/* The longest proof: one hash per level of a tree of up to 2^63 leaves. */
#define KW_MERKLE_MAX_PROOF 64

/* The stored hash of complete subtree (level, index) into out; on failure
 * a code with err filled, which the functions here pass on. */
typedef enum kw_code (*kw_merkle_get)(void *ctx, unsigned level, uint64_t index,
                                      unsigned char out[KW_MERKLE_HASH], struct kw_err *err);
/* Keep complete subtree (level, index); on failure a code with err filled. */
typedef enum kw_code (*kw_merkle_put)(void *ctx, unsigned level, uint64_t index,
                                      const unsigned char hash[KW_MERKLE_HASH], struct kw_err *err);

void kw_merkle_leaf(const void *data, size_t n, unsigned char out[KW_MERKLE_HASH]);
void kw_merkle_node(const unsigned char left[KW_MERKLE_HASH],
                    const unsigned char right[KW_MERKLE_HASH], unsigned char out[KW_MERKLE_HASH]);

/* Append the leaf whose hash is leaf_hash as leaf number index (the log's
 * size before it): puts node (0, index) and every node it completes, reading
 * their left siblings. */
enum kw_code kw_merkle_append(kw_merkle_get get, kw_merkle_put put, void *ctx, uint64_t index,
                              const unsigned char leaf_hash[KW_MERKLE_HASH], struct kw_err *err);

/* The root of the first size leaves. */
enum kw_code kw_merkle_root(kw_merkle_get get, void *ctx, uint64_t size,
                            unsigned char out[KW_MERKLE_HASH], struct kw_err *err);

/* The audit path of leaf `leaf` in the tree of the first size leaves, from
 * the leaf's sibling up: *n hashes into path. KW_INVALID when leaf >= size. */
enum kw_code kw_merkle_inclusion(kw_merkle_get get, void *ctx, uint64_t leaf, uint64_t size,
                                 unsigned char path[][KW_MERKLE_HASH], size_t *n,
                                 struct kw_err *err);

/* The consistency proof between the trees of the first `from` and `to`
 * leaves (RFC 6962 PROOF(m, D[n])); empty when from == to. KW_INVALID
 * unless 0 < from <= to. */
enum kw_code kw_merkle_consistency(kw_merkle_get get, void *ctx, uint64_t from, uint64_t to,
                                   unsigned char path[][KW_MERKLE_HASH], size_t *n,
                                   struct kw_err *err);

/* Whether path proves that leaf_hash is leaf `leaf` of the tree of size
 * `size` whose root is root (RFC 9162 section 2.1.3.2). */
bool kw_merkle_verify_inclusion(uint64_t leaf, uint64_t size,
                                const unsigned char leaf_hash[KW_MERKLE_HASH],
                                const unsigned char path[][KW_MERKLE_HASH], size_t n,
                                const unsigned char root[KW_MERKLE_HASH]);

/* Whether path proves that the tree of size `from` with root from_root is a
 * prefix of the tree of size `to` with root to_root (RFC 9162 section
 * 2.1.4.2). from == to holds with an empty path and equal roots. */
bool kw_merkle_verify_consistency(uint64_t from, uint64_t to,
                                  const unsigned char from_root[KW_MERKLE_HASH],
                                  const unsigned char to_root[KW_MERKLE_HASH],
                                  const unsigned char path[][KW_MERKLE_HASH], size_t n);

/* The tree built again from its leaves in order, in O(log n) memory (a
 * check of a stored log: `keepword verify`): the log's size and, for each
 * level l whose bit of size is 1, node (l, (size >> l) - 1), the frontier. */
struct kw_merkle_stream {
    uint64_t size;
    unsigned char frontier[64][KW_MERKLE_HASH];
};

/* Add the leaf whose hash is leaf_hash as leaf s->size: put gets node
 * (0, size) and each node it completes, level by level (the nodes
 * kw_merkle_append keeps); put's failure is returned and s is unchanged. */
enum kw_code kw_merkle_stream_add(struct kw_merkle_stream *s,
                                  const unsigned char leaf_hash[KW_MERKLE_HASH], kw_merkle_put put,
                                  void *ctx, struct kw_err *err);
/* The root of the s->size leaves added (kw_merkle_root's). */
void kw_merkle_stream_root(const struct kw_merkle_stream *s, unsigned char out[KW_MERKLE_HASH]);

#endif
