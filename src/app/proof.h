// SPDX-License-Identifier: MIT
/*
 * proof.h - the signed side of the Merkle log (docs/receipts.md): the
 * server's signing key, checkpoints signed only when consistent with the
 * last one, and the check that a database's checkpoints are this key's.
 */
#ifndef KW_PROOF_H
#define KW_PROOF_H

#include <stdint.h>

#include "kw_err.h"
#include "note.h"
#include "store.h"

/* The log's signing key: its name is the log's origin. */
struct kw_signer {
    struct kw_note_key key;
    unsigned char sec[KW_ED25519_SECRET];
};

/* Whether the checkpoints in st were signed by s: KW_OK when there are
 * none or the latest opens under s's key; KW_CONFLICT naming both keys
 * when another key signed them (a second server key is refused). */
enum kw_code kw_proof_check_key(struct kw_store *st, const struct kw_signer *s, struct kw_err *err);

/* A unit of work (kw_write_fn) that signs a checkpoint of the whole log
 * when it grew since the last one. Before signing, the new tree is proved
 * consistent with the last checkpoint; if it is not, nothing is signed
 * (KW_CONFLICT), so the log never signs two inconsistent checkpoints. */
struct kw_proof_sign {
    const struct kw_signer *signer;
    int64_t now;
    uint64_t size;   /* out: the size of the latest checkpoint (0: none) */
    bool signed_now; /* out: whether this unit signed one */
};
enum kw_code kw_proof_sign_unit(struct kw_store *st, void *ctx, struct kw_err *err);

/* The whole log checked against its records and itself (`keepword verify`,
 * docs/receipts.md "What verify checks"), reading it a page at a time in
 * O(log n) memory: each leaf against the record it names (an event's,
 * ledger entry's or audit entry's stored chain hash), each record with
 * exactly one leaf, the tree built again from the leaves against every
 * stored node, and each checkpoint: its root against the root at its size,
 * its size within the log, sizes growing with time, and, with key, its
 * signature and origin (key NULL: roots only). fault gets one line for
 * each thing wrong (the first KW_PROOF_FAULTS_SHOWN; all are counted). */
#define KW_PROOF_FAULTS_SHOWN 50
struct kw_log_check {
    const struct kw_note_key *key; /* borrowed; NULL: signatures not checked */
    void (*fault)(const char *line, void *ctx);
    void *ctx;
    uint64_t leaves, checkpoints, faults; /* out */
};
/* KW_OK when the check ran to its end (c->faults says what it found); a
 * store's failure otherwise. */
enum kw_code kw_proof_check_log(struct kw_store *st, struct kw_log_check *c, struct kw_err *err);

#endif
