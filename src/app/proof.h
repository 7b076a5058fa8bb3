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

#endif
