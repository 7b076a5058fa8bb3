// SPDX-License-Identifier: MIT
/* /api/v1/log and /api/v1/tickets/{id}/receipt: the Merkle log's public
 * key, its signed checkpoints, inclusion and consistency proofs, and a
 * ticket's service receipt (docs/receipts.md). */
#include "internal.h"

#include <sodium.h>

#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "merkle.h"
#include "proof.h"

#include <qrencode.h>

static json_t *hex_path(unsigned char path[][KW_MERKLE_HASH], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char h[2 * KW_MERKLE_HASH + 1];
        kwh_hex(path[i], KW_MERKLE_HASH, h);
        json_array_append_new(a, json_string(h));
    }
    return a;
}

static struct kwh_reply no_signer(void)
{
    return kwh_problem_of(KW_NOT_FOUND, "", "this server keeps no signed log (no log key)");
}

struct kwh_reply kwh_log_key(struct kwh_call *x)
{
    const struct kw_signer *s = x->h->signer;
    if (!s)
        return no_signer();
    struct kw_buf b = {0};
    kw_note_verifier(&b, &s->key);
    json_t *j = json_pack("{s:s, s:s, s:s}", "origin", s->key.name, "algorithm", "ed25519", "key",
                          b.p ? b.p : "");
    kw_buf_release(&b);
    return kwh_ok(200, j);
}

/* The latest checkpoint covering at least `need` leaves into *cp, signing
 * one first (a unit on the writer) when there is none. */
static enum kw_code checkpoint_for(struct kwh_call *x, uint64_t need, struct kw_log_checkpoint *cp,
                                   struct kw_err *err)
{
    enum kw_code rc = kw_store_log_checkpoint_covering(x->wk->st, need, cp, err);
    if (rc != KW_NOT_FOUND)
        return rc;
    struct kw_proof_sign ps = {.signer = x->h->signer, .now = x->now};
    /* alone: it holds the log's lock from its start (cmd_serve.c) */
    if (kw_writer_run_alone(x->h->w, kw_proof_sign_unit, &ps, err) != KW_OK)
        return err->code;
    kw_store_end_read(x->wk->st);
    return kw_store_log_checkpoint_covering(x->wk->st, need, cp, err);
}

struct kwh_reply kwh_log_checkpoint(struct kwh_call *x)
{
    if (!x->h->signer)
        return no_signer();
    struct kw_err err = {0};
    struct kw_log_checkpoint cp;
    uint64_t size;
    if (kw_store_log_size(x->wk->st, &size, &err) != KW_OK)
        return kwh_problem(&err);
    if (size == 0)
        return kwh_problem_of(KW_NOT_FOUND, "", "the log is empty: nothing to sign yet");
    if (kw_store_log_checkpoint_last(x->wk->st, &cp, &err) == KW_NOT_FOUND) {
        if (checkpoint_for(x, 1, &cp, &err) != KW_OK)
            return kwh_problem(&err);
    } else if (err.code != KW_OK) {
        return kwh_problem(&err);
    }
    return kwh_ok_text("text/plain; charset=utf-8", cp.note);
}

static bool size_param(struct kwh_call *x, const char *name, uint64_t dflt, uint64_t *out,
                       struct kwh_reply *fail)
{
    long long v = (long long)dflt;
    if (!kwh_query_int(x, name, 0, INT64_MAX, &v, fail))
        return false;
    *out = (uint64_t)v;
    return true;
}

struct kwh_reply kwh_log_inclusion(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_err err = {0};
    uint64_t have, leaf, size;
    if (kw_store_log_size(x->wk->st, &have, &err) != KW_OK)
        return kwh_problem(&err);
    if (!kwh_query(x, "leaf"))
        return kwh_problem_of(KW_INVALID, "/leaf", "leaf (the leaf's index) is required");
    if (!size_param(x, "leaf", 0, &leaf, &fail) || !size_param(x, "size", have, &size, &fail))
        return fail;
    unsigned char path[KW_MERKLE_MAX_PROOF][KW_MERKLE_HASH], h[KW_MERKLE_HASH];
    size_t n;
    struct kw_log_leaf lf;
    if (kw_store_log_inclusion(x->wk->st, leaf, size, path, &n, &err) != KW_OK ||
        kw_store_log_leaf(x->wk->st, leaf, &lf, &err) != KW_OK)
        return kwh_problem(&err);
    kw_merkle_leaf(lf.data, lf.data_len, h);
    char hx[2 * KW_MERKLE_HASH + 1];
    kwh_hex(h, KW_MERKLE_HASH, hx);
    return kwh_ok(200, json_pack("{s:I, s:I, s:s, s:o}", "leaf", (json_int_t)leaf, "size",
                                 (json_int_t)size, "leaf_hash", hx, "path", hex_path(path, n)));
}

struct kwh_reply kwh_log_consistency(struct kwh_call *x)
{
    struct kwh_reply fail;
    struct kw_err err = {0};
    uint64_t have, from, to;
    if (kw_store_log_size(x->wk->st, &have, &err) != KW_OK)
        return kwh_problem(&err);
    if (!kwh_query(x, "from"))
        return kwh_problem_of(KW_INVALID, "/from", "from (the older tree's size) is required");
    if (!size_param(x, "from", 0, &from, &fail) || !size_param(x, "to", have, &to, &fail))
        return fail;
    unsigned char path[KW_MERKLE_MAX_PROOF][KW_MERKLE_HASH];
    size_t n;
    if (kw_store_log_consistency(x->wk->st, from, to, path, &n, &err) != KW_OK)
        return kwh_problem(&err);
    return kwh_ok(200, json_pack("{s:I, s:I, s:o}", "from", (json_int_t)from, "to", (json_int_t)to,
                                 "path", hex_path(path, n)));
}

/* ---- receipts ---- */

struct kept_event {
    int64_t seq, at, actor;
    char *type, *body;
    unsigned char hash[KW_HASH_BYTES];
};
struct stored {
    size_t n, cap;
    struct kept_event *ev;
};

static bool keep_event(const struct kw_stored_event *ev, void *ctx)
{
    struct stored *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        struct kept_event *p = realloc(s->ev, cap * sizeof(*p));
        if (!p)
            return false;
        s->ev = p;
        s->cap = cap;
    }
    struct kept_event *e = &s->ev[s->n];
    e->seq = ev->seq;
    e->at = ev->at;
    e->actor = ev->actor;
    memcpy(e->hash, ev->hash, KW_HASH_BYTES);
    e->type = strdup(ev->type);
    e->body = strdup(ev->body);
    if (!e->type || !e->body) {
        free(e->type);
        free(e->body);
        return false;
    }
    s->n++;
    return true;
}

static void stored_release(struct stored *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->ev[i].type);
        free(s->ev[i].body);
    }
    free(s->ev);
}

/* The receipt of the events of ticket x->arg.id listed in visible (the
 * timeline's, as the caller may see them) up to chain seq upto (0: all),
 * against the first checkpoint covering the last of them (signed now when
 * there is none); since > 0 adds the consistency proof from that size. */
static struct kwh_reply receipt(struct kwh_call *x, json_t *visible, int64_t upto, uint64_t since)
{
    struct kw_err err = {0};
    struct kwh_reply fail;
    struct stored all = {0};
    struct kw_log_checkpoint cp = {0};
    struct kw_checkpoint c;
    json_t *events = json_array();
    unsigned char path[KW_MERKLE_MAX_PROOF][KW_MERKLE_HASH];
    size_t n;
    uint64_t last_leaf = 0;
    if (kw_store_events(x->wk->st, x->arg.id, keep_event, &all, &err) != KW_OK)
        goto out_err;
    if (all.n == 0) {
        kw_err_set(&err, KW_NOT_FOUND, "", "ticket %lld has no events", (long long)x->arg.id);
        goto out_err;
    }
    if (upto <= 0 || upto > (int64_t)all.n)
        upto = all.ev[all.n - 1].seq;
    if (kw_store_log_event_leaf(x->wk->st, x->arg.id, upto, &last_leaf, &err) != KW_OK ||
        checkpoint_for(x, last_leaf + 1, &cp, &err) != KW_OK)
        goto out_err;
    size_t tl;
    if (kw_note_open(cp.note, strlen(cp.note), &x->h->signer->key, &tl, &err) != KW_OK ||
        kw_checkpoint_parse(cp.note, tl, &c, &err) != KW_OK)
        goto out_err;
    if (since > c.size) {
        kw_err_set(&err, KW_RANGE, "/since", "since %llu is past the checkpoint's %llu leaves",
                   (unsigned long long)since, (unsigned long long)c.size);
        goto out_err;
    }
    /* the receipt's hash: SHA-256 of the checkpoint note, then each listed
     * event's chain hash, in order */
    crypto_hash_sha256_state rh;
    crypto_hash_sha256_init(&rh);
    crypto_hash_sha256_update(&rh, (const unsigned char *)cp.note, strlen(cp.note));
    size_t i, k = 0;
    json_t *v;
    json_array_foreach(visible, i, v)
    {
        /* found by its hash: a customer's timeline numbers what they see
         * 1, 2, ... (tickets.c); the receipt gives each event's own seq,
         * which its hash covers */
        const char *want = json_string_value(json_object_get(v, "hash"));
        char kh[2 * KW_HASH_BYTES + 1] = "";
        for (; want && k < all.n; k++) {
            kwh_hex(all.ev[k].hash, KW_HASH_BYTES, kh);
            if (strcmp(kh, want) == 0)
                break;
        }
        if (want && k < all.n && all.ev[k].seq > upto)
            break; /* after the event the receipt ends at */
        if (!want || k == all.n || all.ev[k].seq != (int64_t)k + 1) {
            kw_err_set(&err, KW_STORE, "", "event %lld of ticket %lld is missing",
                       (long long)json_integer_value(json_object_get(v, "seq")),
                       (long long)x->arg.id);
            goto out_err;
        }
        int64_t seq = all.ev[k].seq;
        const struct kept_event *e = &all.ev[seq - 1];
        static const unsigned char zero[KW_HASH_BYTES];
        const unsigned char *prev = seq > 1 ? all.ev[seq - 2].hash : zero;
        uint64_t leaf;
        if (kw_store_log_event_leaf(x->wk->st, x->arg.id, seq, &leaf, &err) != KW_OK ||
            kw_store_log_inclusion(x->wk->st, leaf, c.size, path, &n, &err) != KW_OK)
            goto out_err;
        char ph[2 * KW_HASH_BYTES + 1], hh[2 * KW_HASH_BYTES + 1], at[32];
        kwh_hex(prev, KW_HASH_BYTES, ph);
        kwh_hex(e->hash, KW_HASH_BYTES, hh);
        kw_instant_format_utc(e->at, at);
        crypto_hash_sha256_update(&rh, e->hash, KW_HASH_BYTES);
        json_array_append_new(events,
                              json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:o}", "seq",
                                        (json_int_t)seq, "at", at, "type", e->type, "actor",
                                        (json_int_t)e->actor, "body", e->body, "prev", ph, "hash",
                                        hh, "leaf", (json_int_t)leaf, "proof", hex_path(path, n)));
    }
    unsigned char digest[32];
    char dh[65], rooth[65], issued[32];
    crypto_hash_sha256_final(&rh, digest);
    kwh_hex(digest, 32, dh);
    kwh_hex(c.root, 32, rooth);
    kw_instant_format_utc(x->now, issued);
    struct kw_buf key = {0};
    kw_note_verifier(&key, &x->h->signer->key);
    json_t *j =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:s}", "format",
                  "keepword-receipt/1", "ticket", (json_int_t)x->arg.id, "issued_at", issued,
                  "origin", c.origin, "key", key.p ? key.p : "", "tree_size", (json_int_t)c.size,
                  "root", rooth, "checkpoint", cp.note, "events", events, "receipt_hash", dh);
    events = NULL;
    kw_buf_release(&key);
    if (since > 0) {
        if (kw_store_log_consistency(x->wk->st, since, c.size, path, &n, &err) != KW_OK) {
            json_decref(j);
            goto out_err;
        }
        json_object_set_new(
            j, "consistency",
            json_pack("{s:I, s:o}", "from", (json_int_t)since, "path", hex_path(path, n)));
    }
    stored_release(&all);
    free(cp.note);
    return kwh_ok(200, j);
out_err:
    fail = kwh_problem(&err);
    json_decref(events);
    stored_release(&all);
    free(cp.note);
    return fail;
}

/* ---- the printable receipt ---- */

/* The QR code of text as an inline SVG, one unit per module, with the
 * standard four-module quiet zone. false when it cannot be made. */
static bool qr_svg(struct kw_buf *b, const char *text)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return false;
    int w = q->width, all = w + 8;
    kw_buf_printf(b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
                  "height=\"%d\" role=\"img\" aria-label=\"QR\" shape-rendering=\"crispEdges\">"
                  "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                  all, all, all * 4, all * 4, all, all);
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++)
            if (q->data[y * w + x] & 1)
                kw_buf_printf(b, "M%d %dh1v1h-1z", x + 4, y + 4);
    kw_buf_adds(b, "\"/></svg>");
    QRcode_free(q);
    return true;
}

static struct kwh_reply receipt_html(json_t *r, bool zh)
{
    struct kw_buf b = {0};
#define L(en, cn) (zh ? (cn) : (en))
    const char *hash = json_string_value(json_object_get(r, "receipt_hash"));
    kw_buf_printf(&b,
                  "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width\">"
                  "<link rel=\"stylesheet\" href=\"/assets/app.css\"><title>",
                  zh ? "zh-CN" : "en");
    kw_buf_printf(&b, "%s #%lld</title></head><body class=\"receipt\"><main><h1>%s #%lld</h1>",
                  L("Service receipt", "电子服务凭证"),
                  (long long)json_integer_value(json_object_get(r, "ticket")),
                  L("Service receipt for ticket", "电子服务凭证：工单"),
                  (long long)json_integer_value(json_object_get(r, "ticket")));
    kw_buf_adds(&b, "<figure class=\"qr\">");
    if (!qr_svg(&b, hash))
        kw_buf_adds(&b, "(QR)");
    kw_buf_printf(&b, "<figcaption>%s<br><code>",
                  L("Receipt hash (SHA-256)", "凭证哈希（SHA-256）"));
    kw_buf_html(&b, hash);
    kw_buf_adds(&b, "</code></figcaption></figure><dl>");
    static const struct {
        const char *key, *en, *cn;
    } rows[] = {
        {"issued_at", "Issued at", "出具时间"},  {"origin", "Log", "存证日志"},
        {"tree_size", "Log size", "日志条目数"}, {"root", "Log root (SHA-256)", "日志根哈希"},
        {"key", "Verifier key", "验证公钥"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *v = json_object_get(r, rows[i].key);
        kw_buf_printf(&b, "<dt>%s</dt><dd><code>", L(rows[i].en, rows[i].cn));
        if (json_is_integer(v))
            kw_buf_printf(&b, "%lld", (long long)json_integer_value(v));
        else
            kw_buf_html(&b, json_string_value(v));
        kw_buf_adds(&b, "</code></dd>");
    }
    kw_buf_printf(&b,
                  "</dl><h2>%s</h2><table><thead><tr><th>#</th><th>%s</th><th>%s</th>"
                  "<th>%s</th><th>%s</th></tr></thead><tbody>",
                  L("Events", "记录"), L("At (UTC)", "时间（UTC）"), L("Type", "类型"),
                  L("Content", "内容"), L("Hash", "哈希"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "events"), i, e)
    {
        kw_buf_printf(&b, "<tr><td>%lld</td><td>",
                      (long long)json_integer_value(json_object_get(e, "seq")));
        kw_buf_html(&b, json_string_value(json_object_get(e, "at")));
        kw_buf_adds(&b, "</td><td>");
        kw_buf_html(&b, json_string_value(json_object_get(e, "type")));
        kw_buf_adds(&b, "</td><td><code>");
        kw_buf_html(&b, json_string_value(json_object_get(e, "body")));
        kw_buf_adds(&b, "</code></td><td><code>");
        char h12[13];
        snprintf(h12, sizeof(h12), "%s", json_string_value(json_object_get(e, "hash")));
        kw_buf_html(&b, h12);
        kw_buf_adds(&b, "…</code></td></tr>");
    }
    kw_buf_printf(&b, "</tbody></table><h2>%s</h2><pre>", L("Signed checkpoint", "签名检查点"));
    kw_buf_html(&b, json_string_value(json_object_get(r, "checkpoint")));
    kw_buf_printf(
        &b, "</pre><p>%s</p><pre>keepword receipt verify receipt.json --key '",
        L("Anyone can check this receipt without our server: save its JSON "
          "(the same address without format=html) and run",
          "任何人无需本服务器即可核验本凭证：保存其 JSON（同一地址去掉 format=html）并运行"));
    kw_buf_html(&b, json_string_value(json_object_get(r, "key")));
    kw_buf_adds(&b, "'</pre></main></body></html>\n");
#undef L
    if (b.failed) {
        kw_buf_release(&b);
        return kwh_problem_of(KW_NOMEM, "", "no memory for the receipt");
    }
    return kwh_ok_text("text/html; charset=utf-8", b.p);
}

struct kwh_reply kwh_ticket_receipt(struct kwh_call *x)
{
    if (!x->h->signer)
        return no_signer();
    const char *format = kwh_query(x, "format"), *lang = kwh_query(x, "lang");
    if (format && strcmp(format, "json") != 0 && strcmp(format, "html") != 0)
        return kwh_problemf(KW_INVALID, "/format", "format is json or html, not '%.40s'", format);
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kwh_problemf(KW_INVALID, "/lang", "lang is zh or en, not '%.40s'", lang);
    /* the events the caller may see, by the timeline's own rules (after the
     * checks above, which would otherwise return without freeing them) */
    struct kwh_reply seen = kwh_ticket_events(x);
    if (seen.status != 200)
        return seen;
    uint64_t since = 0;
    struct kwh_reply fail;
    if (!size_param(x, "since", 0, &since, &fail)) {
        json_decref(seen.json);
        return fail;
    }
    struct kwh_reply rep = receipt(x, json_object_get(seen.json, "events"), 0, since);
    json_decref(seen.json);
    if (rep.status == 200 && format && strcmp(format, "html") == 0) {
        struct kwh_reply page = receipt_html(rep.json, !lang || strcmp(lang, "zh") == 0);
        json_decref(rep.json);
        return page;
    }
    return rep;
}

/* ---- receipts issued at closure ---- */

static void reply_drop(struct kwh_reply *r)
{
    json_decref(r->json);
    free(r->text);
    free(r->disposition);
}

struct keep_receipt {
    const struct kw_receipt_row *r;
    const char *body;
};

static enum kw_code keep_receipt_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct keep_receipt *k = ctx;
    return kw_store_receipt_issue(st, k->r, k->body, err);
}

/* Make receipt r (pending) of the ticket's events up to the closing one as
 * its customer may see them, keep it, and read back the bytes kept (the
 * first issuer's, should two race) into *body (the caller frees it). */
static enum kw_code issue(struct kwh_call *x, const struct kw_receipt_row *r, char **body,
                          struct kw_err *err)
{
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(x->wk->st, r->ticket_id, &t, err);
    if (rc != KW_OK)
        return rc;
    struct kwh_call y = *x;
    y.arg.id = r->ticket_id;
    y.authed = true;
    y.me = (struct kwh_caller){.role = R_CUSTOMER, .customer = true, .org_id = t.org_id};
    struct kwh_reply seen = kwh_ticket_events(&y);
    if (seen.status != 200) {
        reply_drop(&seen);
        return kw_err_set(err, KW_STORE, "", "ticket %lld: its timeline cannot be read",
                          (long long)r->ticket_id);
    }
    struct kwh_reply rep = receipt(&y, json_object_get(seen.json, "events"), r->seq, 0);
    json_decref(seen.json);
    if (rep.status != 200) {
        json_t *d = rep.json ? json_object_get(rep.json, "detail") : NULL;
        kw_err_set(err, KW_STORE, "", "ticket %lld: no receipt: %s", (long long)r->ticket_id,
                   d ? json_string_value(d) : "?");
        reply_drop(&rep);
        return KW_STORE;
    }
    struct kw_receipt_row made = *r;
    made.issued_at = x->now;
    made.tree_size = json_integer_value(json_object_get(rep.json, "tree_size"));
    snprintf(made.receipt_hash, sizeof(made.receipt_hash), "%s",
             json_string_value(json_object_get(rep.json, "receipt_hash")));
    char *text = json_dumps(rep.json, JSON_INDENT(2));
    json_decref(rep.json);
    if (!text)
        return kw_err_set(err, KW_NOMEM, "", "no memory for a receipt");
    struct keep_receipt k = {&made, text};
    rc = kw_writer_run(x->h->w, keep_receipt_unit, &k, err);
    free(text);
    if (rc != KW_OK)
        return rc;
    kw_store_end_read(x->wk->st);
    struct kw_receipt_row back;
    rc = kw_store_receipt_get(x->wk->st, r->ticket_id, r->seq, &back, body, err);
    if (rc == KW_OK && !*body)
        rc = kw_err_set(err, KW_STORE, "", "ticket %lld: its receipt was not kept",
                        (long long)r->ticket_id);
    return rc;
}

struct pending {
    struct kw_receipt_row r[16];
    size_t n;
};

static bool take_pending(const struct kw_receipt_row *r, void *ctx)
{
    struct pending *p = ctx;
    p->r[p->n++] = *r;
    return p->n < sizeof(p->r) / sizeof(p->r[0]);
}

enum kw_code kw_http_issue_receipts(struct kw_http *h, int64_t now, size_t *issued,
                                    struct kw_err *err)
{
    *issued = 0;
    if (!h || !h->signer)
        return KW_OK;
    struct kwh_worker *wk = kwh_worker_take(h, err);
    if (!wk)
        return err->code;
    struct kwh_call x = {.h = h, .wk = wk, .now = now, .method = "GET", .authed = true};
    struct pending p = {0};
    enum kw_code rc =
        kw_store_receipts(wk->st, 0, sizeof(p.r) / sizeof(p.r[0]), take_pending, &p, err);
    /* one that fails (said in err) does not hold up the others behind it */
    struct kw_err one = {0};
    for (size_t i = 0; rc == KW_OK && i < p.n; i++) {
        char *body = NULL;
        if (issue(&x, &p.r[i], &body, &one) == KW_OK)
            (*issued)++;
        else if (err && err->code == KW_OK)
            *err = one;
        free(body);
    }
    if (rc == KW_OK && err && err->code != KW_OK)
        rc = err->code;
    kw_store_end_read(wk->st);
    kwh_worker_give(h, wk);
    return rc;
}

static json_t *receipt_entry(const struct kw_receipt_row *r)
{
    char closed[32], issued[32], url[96];
    kw_instant_format_utc(r->closed_at, closed);
    snprintf(url, sizeof(url), "/api/v1/tickets/%lld/receipts?seq=%lld", (long long)r->ticket_id,
             (long long)r->seq);
    bool done = r->issued_at != KW_STORE_NO_TIME;
    if (done)
        kw_instant_format_utc(r->issued_at, issued);
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:s}", "seq", (json_int_t)r->seq, "closed_at",
                     closed, "status", done ? "issued" : "pending", "issued_at",
                     done ? json_string(issued) : json_null(), "tree_size",
                     done ? json_integer(r->tree_size) : json_null(), "receipt_hash",
                     done ? json_string(r->receipt_hash) : json_null(), "url", url);
}

static bool list_receipt(const struct kw_receipt_row *r, void *ctx)
{
    json_array_append_new(ctx, receipt_entry(r));
    return true;
}

struct kwh_reply kwh_ticket_receipts(struct kwh_call *x)
{
    if (!x->h->signer)
        return no_signer();
    struct kwh_reply fail;
    struct kw_ticket_row t;
    if (!kwh_authenticate(x, &fail) || !kwh_visible_ticket(x, x->arg.id, &t, &fail))
        return fail;
    const char *format = kwh_query(x, "format"), *lang = kwh_query(x, "lang");
    if (format && strcmp(format, "json") != 0 && strcmp(format, "html") != 0)
        return kwh_problemf(KW_INVALID, "/format", "format is json or html, not '%.40s'", format);
    if (lang && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0)
        return kwh_problemf(KW_INVALID, "/lang", "lang is zh or en, not '%.40s'", lang);
    struct kw_err err = {0};
    if (!kwh_query(x, "seq")) {
        if (format)
            return kwh_problem_of(KW_INVALID, "/format",
                                  "format is for one receipt: give seq (the closing event's)");
        json_t *list = json_array();
        if (kw_store_receipts(x->wk->st, x->arg.id, SIZE_MAX, list_receipt, list, &err) != KW_OK) {
            json_decref(list);
            return kwh_problem(&err);
        }
        return kwh_ok(200,
                      json_pack("{s:I, s:o}", "ticket", (json_int_t)x->arg.id, "receipts", list));
    }
    long long seq = 0;
    if (!kwh_query_int(x, "seq", 1, INT64_MAX, &seq, &fail))
        return fail;
    struct kw_receipt_row r;
    char *body = NULL;
    if (kw_store_receipt_get(x->wk->st, x->arg.id, seq, &r, &body, &err) != KW_OK) {
        if (err.code == KW_NOT_FOUND)
            return kwh_problemf(KW_NOT_FOUND, "/seq",
                                "ticket %lld was not closed at event %lld: no receipt issued there "
                                "(GET /api/v1/tickets/%lld/receipts lists them)",
                                (long long)x->arg.id, seq, (long long)x->arg.id);
        return kwh_problem(&err);
    }
    /* still pending (the periodic signer has not reached it): issued now,
     * against a checkpoint signed now if none covers the closing event */
    if (!body && issue(x, &r, &body, &err) != KW_OK)
        return kwh_problem(&err);
    if (format && strcmp(format, "html") == 0) {
        json_t *j = json_loads(body, 0, NULL);
        free(body);
        if (!j)
            return kwh_problem_of(KW_STORE, "", "the kept receipt is not JSON");
        struct kwh_reply page = receipt_html(j, !lang || strcmp(lang, "zh") == 0);
        json_decref(j);
        return page;
    }
    struct kwh_reply rep = kwh_ok_text("application/json", body);
    char disp[96];
    snprintf(disp, sizeof(disp), "attachment; filename=\"receipt-%lld-%lld.json\"",
             (long long)x->arg.id, seq);
    rep.disposition = strdup(disp);
    if (rep.disposition)
        snprintf(rep.file_type, sizeof(rep.file_type), "application/json");
    return rep;
}
