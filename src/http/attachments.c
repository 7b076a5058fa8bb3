// SPDX-License-Identifier: MIT
/*
 * attachments.c - files on tickets over HTTP (app/attachments.h).
 *
 * POST /api/v1/tickets/{id}/attachments?name=NAME[&comment=SEQ][&internal=true]
 * takes the file's bytes as the body (not a form), with its Content-Type;
 * the daemon lets this route's body grow to the attachment limit and
 * refuses a declared length past it before reading (daemon.c). The type
 * kept and served is the one libmagic finds in the bytes, not the one
 * sent. GET /api/v1/attachments/{id} serves the bytes as a download
 * (Content-Disposition: attachment with the RFC 6266 / RFC 8187 filename*,
 * X-Content-Type-Options: nosniff, a sandboxing CSP), to whoever may see
 * the ticket, and never a customer an internal file.
 */
#include <magic.h>
#include <stdlib.h>
#include <string.h>

#include "attachments.h"
#include "internal.h"

/* ---- sniffing ---- */

/* libmagic's handle is not thread-safe: each worker (one request at a
 * time) keeps its own, opened on first use. */
static magic_t worker_magic(struct kwh_worker *wk)
{
    if (!wk->magic) {
        magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
        if (m && magic_load(m, NULL) != 0) {
            magic_close(m);
            m = NULL;
        }
        wk->magic = m;
    }
    return wk->magic;
}

void kwh_worker_magic_close(struct kwh_worker *wk)
{
    if (wk->magic)
        magic_close(wk->magic);
    wk->magic = NULL;
}

/* The media type of the bytes, as libmagic sees the first MiB of them,
 * into buf; application/octet-stream when it cannot tell. */
static void sniff(struct kwh_worker *wk, const void *p, size_t n, char *buf, size_t cap)
{
    magic_t m = n ? worker_magic(wk) : NULL;
    const char *t = m ? magic_buffer(m, p, n < ((size_t)1 << 20) ? n : (size_t)1 << 20) : NULL;
    if (!t || !strchr(t, '/') || strlen(t) >= cap || strcmp(t, "application/x-empty") == 0)
        t = "application/octet-stream";
    snprintf(buf, cap, "%s", t);
}

/* ---- JSON ---- */

static json_t *attachment_json(const struct kw_attachment_row *a)
{
    char sha[2 * KW_SHA256_BYTES + 1], url[64];
    kwh_hex(a->sha256, KW_SHA256_BYTES, sha);
    snprintf(url, sizeof(url), "/api/v1/attachments/%lld", (long long)a->id);
    return json_pack(
        "{s:I, s:I, s:s, s:s, s:o, s:I, s:s, s:b, s:o, s:I, s:o, s:s}", "id", (json_int_t)a->id,
        "ticket_id", (json_int_t)a->ticket_id, "name", a->name, "content_type", a->content_type,
        "declared_type", kwh_nullable(a->declared_type), "size", (json_int_t)a->size, "sha256", sha,
        "internal", a->internal, "comment", kwh_id_or_null(a->comment_seq), "created_by",
        (json_int_t)a->created_by, "created_at", kwh_instant_json(a->created_at), "url", url);
}

/* ---- upload ---- */

struct attach_unit {
    struct kw_http *h;
    struct kw_actor who;
    int64_t ticket, now, id, fire_at;
    struct kw_attachment_in *in;
    bool internal;
};

static enum kw_code attach_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct attach_unit *a = ctx;
    struct kw_unit u = {.st = st,
                        .clocks = a->h->clocks,
                        .sla = &a->h->wsla,
                        .now = a->now,
                        .fire_at = KW_STORE_NO_TIME};
    enum kw_code rc = kw_ticket_attach(&u, &a->who, a->ticket, a->in, &a->id, &a->internal, err);
    a->fire_at = u.fire_at;
    return rc;
}

/* A Content-Type as sent: printable ASCII with a '/', at most 127 bytes
 * (kept as the declared type, never served). */
static bool media_type_ok(const char *ct)
{
    size_t n = strlen(ct);
    if (n == 0 || n > 127 || !strchr(ct, '/'))
        return false;
    for (const char *p = ct; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return false;
    return true;
}

struct kwh_reply kwh_attachment_post(struct kwh_call *x)
{
    struct kwh_reply out;
    long long comment = 0;
    if (!kwh_query_int(x, "comment", 1, INT64_MAX, &comment, &out))
        return out;
    const char *name = kwh_query(x, "name");
    if (!name)
        return kwh_problem_of(KW_INVALID, "/name",
                              "name: missing (give the file's name as ?name=..., percent-encoded "
                              "UTF-8)");
    const char *iv = kwh_query(x, "internal");
    int internal = -1;
    if (iv && (strcmp(iv, "true") == 0 || strcmp(iv, "false") == 0))
        internal = strcmp(iv, "true") == 0;
    else if (iv)
        return kwh_problem_of(KW_INVALID, "/internal", "internal: expected true or false");
    const char *ct = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "Content-Type");
    if (ct && strncmp(ct, "multipart/form-data", 19) == 0)
        return kwh_problem_of(KW_MEDIA_TYPE, "",
                              "send the file's bytes as the body with its own Content-Type, "
                              "not a form (curl --data-binary @FILE)");
    if (ct && !media_type_ok(ct))
        return kwh_problem_of(KW_INVALID, "",
                              "Content-Type: expected a media type such as image/png");
    struct kw_attachment_in in = {.name = name,
                                  .declared_type = ct,
                                  .data = x->r->body.p,
                                  .size = x->r->body.len,
                                  .comment_seq = comment,
                                  .internal = internal,
                                  .ticket_max = x->h->max_ticket_attachments};
    struct kw_err err = {0};
    if (kw_attachment_prepare(&in, &err) != KW_OK) /* the name; the hash off the writer */
        return kwh_problem(&err);
    char type[128];
    sniff(x->wk, in.data, in.size, type, sizeof(type));
    in.content_type = type;
    struct attach_unit a = {
        .h = x->h, .who = kwh_actor(x), .ticket = x->arg.id, .now = x->now, .in = &in};
    if (!kwh_write_unit(x, attach_unit, &a, &out))
        return out;
    kw_engine_schedule(x->h->engine, a.ticket, a.fire_at);
    kwh_log_event(x->h, "mod=tickets event=attachment.added ticket=%lld attachment=%lld bytes=%zu",
                  (long long)a.ticket, (long long)a.id, in.size);
    struct kw_attachment_row row = {.id = a.id,
                                    .ticket_id = a.ticket,
                                    .comment_seq = comment,
                                    .size = (int64_t)in.size,
                                    .created_by = x->me.id,
                                    .created_at = x->now,
                                    .name = name,
                                    .content_type = type,
                                    .declared_type = ct,
                                    .internal = a.internal};
    memcpy(row.sha256, in.sha256, sizeof(row.sha256));
    return kwh_ok(201, attachment_json(&row));
}

/* ---- reading ---- */

static bool attachment_add(const struct kw_attachment_row *a, void *ctx)
{
    return json_array_append_new(ctx, attachment_json(a)) == 0;
}

/* "created_by_name" on each row: the uploader's display name when the
 * caller may know it (as the events' actor_name: staff know everyone, a
 * customer the provider's staff and their own organisation's people). */
static void uploader_names(struct kwh_call *x, json_t *list)
{
    json_t *row;
    size_t i;
    json_array_foreach(list, i, row)
    {
        json_int_t by = json_integer_value(json_object_get(row, "created_by"));
        struct kw_user_row u;
        struct kw_err err = {0};
        bool known = by > 0 && kw_store_user_get(x->wk->st, by, &u, &err) == KW_OK;
        bool may = known &&
                   (!x->me.customer || strcmp(u.role, "customer") != 0 || u.org_id == x->me.org_id);
        json_object_set_new(row, "created_by_name",
                            may && u.name ? json_string(u.name) : json_null());
    }
}

struct kwh_reply kwh_attachments_list(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kw_ticket_row t;
    struct kwh_reply fail;
    if (!kwh_visible_ticket(x, x->arg.id, &t, &fail))
        return fail;
    json_t *list = json_array();
    if (kw_store_attachments(x->wk->st, x->arg.id, !x->me.customer, attachment_add, list, &err) !=
        KW_OK) {
        json_decref(list);
        return kwh_problem(&err);
    }
    uploader_names(x, list);
    return kwh_ok(200, json_pack("{s:o}", "attachments", list));
}

/* Content-Disposition for name (RFC 6266): an ASCII fallback in
 * filename="..." (other characters, quotes and backslashes as '_') and the name
 * itself in filename* as UTF-8, percent-encoded (RFC 8187). */
static char *disposition_of(const char *name)
{
    size_t n = strlen(name);
    char *d = malloc(40 + n + 3 * n + 1);
    if (!d)
        return NULL;
    char *p = d;
    p += sprintf(p, "attachment; filename=\"");
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if ((*s & 0xc0) != 0x80) /* one '_' per character, not per byte */
            *p++ = *s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\' ? (char)*s : '_';
    p += sprintf(p, "\"; filename*=UTF-8''");
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
        /* attr-char of RFC 8187 stays, the rest is %XX */
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
            strchr("!#$&+-.^_`|~", *s)) {
            *p++ = (char)*s;
        } else {
            *p++ = '%';
            *p++ = hex[*s >> 4];
            *p++ = hex[*s & 15];
        }
    }
    *p = '\0';
    return d;
}

struct kwh_reply kwh_attachment_get(struct kwh_call *x)
{
    struct kw_err err = {0};
    struct kw_attachment_row a;
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_attachment_get(x->wk->st, x->arg.id, &a, &err);
    if (rc != KW_OK)
        return rc == KW_NOT_FOUND ? kwh_problem_of(KW_NOT_FOUND, "", "no such attachment")
                                  : kwh_problem(&err);
    /* copy what the reply needs before the next read reuses the row */
    char type[128], *disp = disposition_of(a.name);
    snprintf(type, sizeof(type), "%s", a.content_type);
    bool internal = a.internal;
    int64_t ticket = a.ticket_id, id = a.id;
    rc = kw_store_ticket_get(x->wk->st, ticket, &t, &err);
    struct kw_actor who = kwh_actor(x);
    struct kw_attachment_row seen = {.internal = internal};
    if (rc != KW_OK || !kw_attachment_visible(&who, t.org_id, &seen)) {
        free(disp);
        return rc == KW_OK || rc == KW_NOT_FOUND
                   ? kwh_problem_of(KW_NOT_FOUND, "", "no such attachment")
                   : kwh_problem(&err);
    }
    void *data = NULL;
    size_t size = 0;
    if (!disp || kw_store_attachment_data(x->wk->st, id, &data, &size, &err) != KW_OK) {
        free(disp);
        return disp ? kwh_problem(&err) : kwh_problem_of(KW_NOMEM, "", "no memory for the file");
    }
    struct kwh_reply rep = {.status = 200, .text = data, .text_len = size, .disposition = disp};
    snprintf(rep.file_type, sizeof(rep.file_type), "%s", type);
    if (size == 0) { /* the daemon takes "" as "no body" */
        free(data);
        rep.text = strdup("");
        rep.text_len = 0;
    }
    return rep;
}
