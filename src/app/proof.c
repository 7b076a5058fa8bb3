// SPDX-License-Identifier: MIT
#include "proof.h"

#include <stdlib.h>
#include <string.h>

#include "merkle.h"

/* Open checkpoint note under s and parse it. */
static enum kw_code open_cp(const struct kw_signer *s, const struct kw_log_checkpoint *cp,
                            struct kw_checkpoint *out, struct kw_err *err)
{
    size_t tl;
    if (kw_note_open(cp->note, strlen(cp->note), &s->key, &tl, err) != KW_OK)
        return err->code;
    return kw_checkpoint_parse(cp->note, tl, out, err);
}

enum kw_code kw_proof_check_key(struct kw_store *st, const struct kw_signer *s, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    struct kw_log_checkpoint cp;
    enum kw_code rc = kw_store_log_checkpoint_last(st, &cp, err);
    if (rc == KW_NOT_FOUND)
        return *err = (struct kw_err){0}, KW_OK;
    if (rc != KW_OK)
        return rc;
    struct kw_checkpoint c;
    struct kw_err why = {0};
    rc = open_cp(s, &cp, &c, &why);
    if (rc == KW_OK && strcmp(c.origin, s->key.name) != 0)
        rc = kw_err_set(&why, KW_INVALID, "", "its origin is '%s'", c.origin);
    free(cp.note);
    if (rc != KW_OK)
        return kw_err_set(err, KW_CONFLICT, "",
                          "the log's checkpoints were not signed by key %s+%08x (%s): "
                          "a second server key is refused; use the key that signed them",
                          s->key.name, (unsigned)s->key.id, why.msg);
    return KW_OK;
}

enum kw_code kw_proof_sign_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct kw_proof_sign *ps = ctx;
    const struct kw_signer *s = ps->signer;
    uint64_t size;
    ps->signed_now = false;
    /* several nodes: no two sign at once, and the size and last checkpoint
     * read next stay true until this unit commits */
    if (kw_store_log_lock(st, err) != KW_OK || kw_store_log_size(st, &size, err) != KW_OK)
        return err->code;
    struct kw_log_checkpoint last = {0};
    struct kw_checkpoint prev = {0};
    enum kw_code rc = kw_store_log_checkpoint_last(st, &last, err);
    if (rc == KW_NOT_FOUND) {
        rc = KW_OK;
        *err = (struct kw_err){0};
    } else if (rc == KW_OK) {
        rc = open_cp(s, &last, &prev, err);
        free(last.note);
    }
    if (rc != KW_OK)
        return rc;
    ps->size = prev.size;
    if (size == 0 || size <= prev.size)
        return KW_OK;
    struct kw_checkpoint cp = {.size = size};
    memcpy(cp.origin, s->key.name, sizeof(cp.origin));
    if (kw_store_log_root(st, size, cp.root, err) != KW_OK)
        return err->code;
    if (prev.size > 0) {
        unsigned char path[KW_MERKLE_MAX_PROOF][KW_MERKLE_HASH];
        size_t n;
        if (kw_store_log_consistency(st, prev.size, size, path, &n, err) != KW_OK)
            return err->code;
        if (!kw_merkle_verify_consistency(prev.size, size, prev.root, cp.root, path, n))
            return kw_err_set(err, KW_CONFLICT, "",
                              "the log of %llu leaves is not consistent with its checkpoint of "
                              "%llu: refusing to sign (the log was rewritten)",
                              (unsigned long long)size, (unsigned long long)prev.size);
    }
    struct kw_buf text = {0}, note = {0};
    kw_checkpoint_text(&text, &cp);
    rc = text.failed ? kw_err_set(err, KW_NOMEM, "", "no memory for a checkpoint")
                     : kw_note_sign(&note, text.p, text.len, &s->key, s->sec, err);
    if (rc == KW_OK && note.failed)
        rc = kw_err_set(err, KW_NOMEM, "", "no memory for a checkpoint");
    if (rc == KW_OK)
        rc = kw_store_log_checkpoint_add(st, size, ps->now, note.p, err);
    if (rc == KW_OK) {
        ps->size = size;
        ps->signed_now = true;
    }
    kw_buf_release(&text);
    kw_buf_release(&note);
    return rc;
}
