// SPDX-License-Identifier: MIT
#include "proof.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* ---- the log's check (kw_proof_check_log) ---- */

#define LEAF_PAGE 4096
#define NODE_PAGE 1024
#define CP_PAGE 256

/* The stored nodes of one level, a page of indexes [from, from + n). */
struct level_page {
    uint64_t from, n;
    unsigned char (*hash)[KW_MERKLE_HASH];
    bool *have;
};

struct check {
    struct kw_store *st;
    struct kw_log_check *c;
    uint64_t size;              /* the log's size at the check's start */
    unsigned lowest;            /* the lowest level kept as rows */
    struct kw_merkle_stream ms; /* the tree built again */
    struct level_page lv[64];
    bool node_bad;     /* a node was reported: the ones above it are not */
    uint64_t bad_from; /* the first leaf of the last node reported */
    uint64_t next;     /* the next leaf expected */
    bool stop;         /* a leaf is missing: the tree is not built past it */
    struct kw_err *err;
    /* the checkpoints, a page at a time in size order */
    struct kw_log_checkpoint cp[CP_PAGE];
    size_t ncp, at_cp;
    uint64_t cp_from;
    bool cp_more, nomem;
    int64_t last_at;
    bool have_last;
};

static void fault(struct check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fault(struct check *k, const char *fmt, ...)
{
    if (k->c->faults++ >= KW_PROOF_FAULTS_SHOWN || !k->c->fault)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    k->c->fault(line, k->c->ctx);
}

static bool node_seen(uint64_t idx, const unsigned char hash[KW_MERKLE_HASH], void *ctx)
{
    struct level_page *p = ctx;
    if (idx >= p->from && idx - p->from < p->n) {
        memcpy(p->hash[idx - p->from], hash, KW_MERKLE_HASH);
        p->have[idx - p->from] = true;
    }
    return true;
}

/* The put of the tree built again: node (level, index) against the stored
 * one, read a page of its level at a time. */
static enum kw_code node_check(void *ctx, unsigned level, uint64_t index,
                               const unsigned char hash[KW_MERKLE_HASH], struct kw_err *err)
{
    struct check *k = ctx;
    /* a level not kept is computed from the leaves as here: nothing to
     * compare (SQLite's leaves, 046) */
    if (level < k->lowest)
        return KW_OK;
    struct level_page *p = &k->lv[level];
    if (!p->hash || index < p->from || index - p->from >= p->n) {
        if (!p->hash) {
            p->hash = malloc(NODE_PAGE * sizeof(*p->hash));
            p->have = malloc(NODE_PAGE * sizeof(*p->have));
            if (!p->hash || !p->have)
                return kw_err_set(err, KW_NOMEM, "", "no memory for the log's nodes");
        }
        uint64_t total = k->size >> level; /* the complete nodes of this level */
        p->from = index;
        p->n = total - index < NODE_PAGE ? total - index : NODE_PAGE;
        memset(p->have, 0, NODE_PAGE * sizeof(*p->have));
        if (kw_store_log_nodes(k->st, level, p->from, p->n, node_seen, p, err) != KW_OK)
            return err->code;
    }
    uint64_t first = index << level;
    bool under_bad = k->node_bad && k->bad_from >= first; /* a node below it was reported */
    if (!p->have[index - p->from]) {
        fault(k, "the log lacks node (%u, %llu): damaged", level, (unsigned long long)index);
    } else if (memcmp(p->hash[index - p->from], hash, KW_MERKLE_HASH) != 0) {
        if (!under_bad)
            fault(k, "node (%u, %llu) is not the hash of its leaves %llu to %llu: damaged", level,
                  (unsigned long long)index, (unsigned long long)first,
                  (unsigned long long)(((index + 1) << level) - 1));
    } else {
        return KW_OK;
    }
    k->node_bad = true;
    k->bad_from = first;
    return KW_OK;
}

static bool cp_copy(const struct kw_log_checkpoint *cp, void *ctx)
{
    struct check *k = ctx;
    struct kw_log_checkpoint *to = &k->cp[k->ncp];
    *to = *cp;
    if (!(to->note = strdup(cp->note)))
        return k->nomem = true, false;
    k->ncp++;
    return true;
}

static void cp_release(struct check *k)
{
    for (size_t i = 0; i < k->ncp; i++)
        free(k->cp[i].note);
    k->ncp = k->at_cp = 0;
}

/* The next checkpoint in size order into *out (borrowed, NULL when there
 * is none), reading the next page when this one is used up; not taken. */
static enum kw_code cp_peek(struct check *k, const struct kw_log_checkpoint **out)
{
    *out = NULL;
    if (k->at_cp == k->ncp) {
        if (!k->cp_more)
            return KW_OK;
        cp_release(k);
        if (kw_store_log_checkpoints(k->st, k->cp_from, CP_PAGE, cp_copy, k, k->err) != KW_OK)
            return k->err->code;
        if (k->nomem)
            return kw_err_set(k->err, KW_NOMEM, "", "no memory for a checkpoint");
        k->cp_more = k->ncp == CP_PAGE;
        if (!k->ncp)
            return KW_OK;
        k->cp_from = k->cp[k->ncp - 1].size + 1;
    }
    *out = &k->cp[k->at_cp];
    return KW_OK;
}

/* When checkpoint cp was signed (UTC), for the messages. */
static void cp_when(int64_t at, char out[32])
{
    time_t t = (time_t)at;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(out, 32, "%lld", (long long)at);
}

/* Checkpoints come in size order: each signed no earlier than the one
 * before it (a log grows with time). */
static void cp_order(struct check *k, const struct kw_log_checkpoint *cp, const char *when)
{
    if (k->have_last && cp->at < k->last_at)
        fault(k,
              "checkpoint of size %llu signed at %s is older than a smaller one: sizes "
              "must grow with time",
              (unsigned long long)cp->size, when);
    k->last_at = cp->at;
    k->have_last = true;
}

/* Checkpoint cp against the tree built again at its size (k->ms). */
static void cp_check(struct check *k, const struct kw_log_checkpoint *cp)
{
    char when[32];
    cp_when(cp->at, when);
    k->c->checkpoints++;
    cp_order(k, cp, when);
    size_t len = strlen(cp->note), tl = 0;
    struct kw_err why = {0};
    struct kw_checkpoint c = {0};
    enum kw_code rc;
    if (k->c->key) {
        rc = kw_note_open(cp->note, len, k->c->key, &tl, &why);
    } else { /* the signed text ends at the blank line before the signatures */
        const char *blank = strstr(cp->note, "\n\n");
        rc = blank ? KW_OK : kw_err_set(&why, KW_INVALID, "", "not a signed note");
        tl = blank ? (size_t)(blank - cp->note) + 1 : 0;
    }
    if (rc == KW_OK)
        rc = kw_checkpoint_parse(cp->note, tl, &c, &why);
    if (rc != KW_OK) {
        fault(k, "checkpoint of size %llu signed at %s: %s", (unsigned long long)cp->size, when,
              why.msg);
        return;
    }
    if (k->c->key && strcmp(c.origin, k->c->key->name) != 0)
        fault(k, "checkpoint of size %llu signed at %s: its origin is '%s', not '%s'",
              (unsigned long long)cp->size, when, c.origin, k->c->key->name);
    if (c.size != cp->size) {
        fault(k, "checkpoint of size %llu signed at %s says size %llu",
              (unsigned long long)cp->size, when, (unsigned long long)c.size);
        return;
    }
    unsigned char root[KW_MERKLE_HASH];
    kw_merkle_stream_root(&k->ms, root);
    if (memcmp(root, c.root, KW_MERKLE_HASH) != 0)
        fault(k,
              "checkpoint of size %llu signed at %s: its root is not the root of the log's "
              "first %llu leaves",
              (unsigned long long)cp->size, when, (unsigned long long)cp->size);
}

/* How messages name the record of kind (a leaf's), ticket and seq:
 * "event 12/3", "ledger entry 4/7", "audit entry 9". */
static void record_name(const char *kind, int64_t ticket, int64_t seq, char out[80])
{
    if (strcmp(kind, "audit") == 0)
        snprintf(out, 80, "audit entry %lld", (long long)seq);
    else
        snprintf(out, 80, "%s %lld/%lld", strcmp(kind, "ledger") == 0 ? "ledger entry" : kind,
                 (long long)ticket, (long long)seq);
}

/* Leaf r against the record it names, then into the tree built again, and
 * the checkpoint of the size it makes. */
static bool leaf_seen(const struct kw_log_leaf_record *r, void *ctx)
{
    struct check *k = ctx;
    const struct kw_log_leaf *l = &r->leaf;
    if (l->idx != k->next) {
        fault(k, "the log lacks leaf %llu: damaged (not checked past it)",
              (unsigned long long)k->next);
        k->stop = true; /* the tree cannot be built again past a missing leaf */
        return false;
    }
    bool known = strcmp(l->kind, "event") == 0 || strcmp(l->kind, "ledger") == 0 ||
                 strcmp(l->kind, "audit") == 0;
    bool same =
        r->found && l->data_len == KW_HASH_BYTES && memcmp(l->data, r->hash, KW_HASH_BYTES) == 0;
    if (!known || !same) { /* named only when wrong: a million leaves' names cost */
        char what[80];
        record_name(l->kind, l->ticket, l->seq, what);
        if (!known)
            fault(k, "leaf %llu is of kind '%s', which the log does not hold",
                  (unsigned long long)l->idx, l->kind);
        else if (!r->found)
            fault(k, "leaf %llu names %s, which is not stored", (unsigned long long)l->idx, what);
        else
            fault(k, "leaf %llu is not the hash of %s: damaged", (unsigned long long)l->idx, what);
    }
    unsigned char leaf[KW_MERKLE_HASH];
    kw_merkle_leaf(l->data, l->data_len, leaf);
    if (kw_merkle_stream_add(&k->ms, leaf, node_check, k, k->err) != KW_OK)
        return false;
    k->next++;
    k->c->leaves++;
    /* the checkpoint of this size, if one was signed */
    const struct kw_log_checkpoint *cp;
    if (cp_peek(k, &cp) != KW_OK)
        return false;
    if (cp && cp->size == k->ms.size) {
        k->at_cp++;
        cp_check(k, cp);
    }
    return true;
}

static bool unlogged_seen(const char *kind, int64_t ticket, int64_t seq, int64_t leaves, void *ctx)
{
    struct check *k = ctx;
    char what[80];
    record_name(kind, ticket, seq, what);
    if (leaves == 0)
        fault(k, "%s has no leaf in the log", what);
    else
        fault(k, "%s has %lld leaves in the log, not one", what, (long long)leaves);
    return true;
}

static unsigned popcount64(uint64_t n)
{
    unsigned c = 0;
    for (; n; n &= n - 1)
        c++;
    return c;
}

enum kw_code kw_proof_check_log(struct kw_store *st, struct kw_log_check *c, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    c->leaves = c->checkpoints = c->faults = 0;
    struct check *k = calloc(1, sizeof(*k));
    if (!k)
        return kw_err_set(err, KW_NOMEM, "", "no memory for the log's check");
    *k = (struct check){.st = st, .c = c, .err = err, .cp_more = true};
    uint64_t nodes = 0;
    enum kw_code rc = kw_store_log_census(st, &k->size, &nodes, &k->lowest, err);
    if (rc == KW_OK)
        rc = kw_store_log_unlogged(st, KW_PROOF_FAULTS_SHOWN, unlogged_seen, k, err);
    /* a checkpoint of size 0, before the leaves */
    const struct kw_log_checkpoint *cp = NULL;
    if (rc == KW_OK)
        rc = cp_peek(k, &cp);
    if (rc == KW_OK && cp && cp->size == 0) {
        k->at_cp++;
        cp_check(k, cp);
    }
    for (uint64_t from = 0; rc == KW_OK && !k->stop && from < k->size; from += LEAF_PAGE) {
        uint64_t n = k->size - from < LEAF_PAGE ? k->size - from : LEAF_PAGE;
        rc = kw_store_log_leaves(st, from, n, leaf_seen, k, err);
        if (rc == KW_OK && !k->stop && k->next < from + n) {
            if (err->code != KW_OK)
                rc = err->code; /* the callback's failure */
            else {              /* the page's last leaves are not there */
                fault(k, "the log lacks leaf %llu: damaged (not checked past it)",
                      (unsigned long long)k->next);
                k->stop = true;
            }
        }
        kw_store_end_read(st);
    }
    if (rc == KW_OK && k->next == k->size) {
        /* nodes kept beyond the tree of size leaves (above level 0) */
        uint64_t want = k->size - popcount64(k->size);
        if (nodes > want)
            fault(k,
                  "the log keeps %llu nodes above its leaves, not %llu: %llu beyond the tree "
                  "of its %llu leaves",
                  (unsigned long long)nodes, (unsigned long long)want,
                  (unsigned long long)(nodes - want), (unsigned long long)k->size);
    }
    /* checkpoints past the leaves checked: larger than the log, unless the
     * log grew since the check began */
    uint64_t now_size = k->size;
    bool recounted = false;
    while (rc == KW_OK && !k->stop) {
        rc = cp_peek(k, &cp);
        if (rc != KW_OK || !cp)
            break;
        k->at_cp++;
        if (!recounted) {
            uint64_t ignored;
            unsigned lowest;
            rc = kw_store_log_census(st, &now_size, &ignored, &lowest, err);
            recounted = true;
        }
        char when[32];
        cp_when(cp->at, when);
        cp_order(k, cp, when);
        if (rc == KW_OK && cp->size > now_size)
            fault(k,
                  "checkpoint of size %llu signed at %s covers more than the log's %llu "
                  "leaves",
                  (unsigned long long)cp->size, when, (unsigned long long)now_size);
    }
    kw_store_end_read(st);
    cp_release(k);
    for (int l = 0; l < 64; l++) {
        free(k->lv[l].hash);
        free(k->lv[l].have);
    }
    free(k);
    return rc;
}
