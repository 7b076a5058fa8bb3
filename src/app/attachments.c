// SPDX-License-Identifier: MIT
/* Files on tickets (attachments.h): the name rule, the per-ticket total,
 * who may attach, and the `attachment` event with the file's SHA-256. */
#include "attachments.h"

#include <stdio.h>
#include <string.h>

#include "event.h"
#include "kw_crypto.h"
#include "links.h"
#include "tickets.h"

_Static_assert(KW_SHA256_LEN == KW_SHA256_BYTES, "one SHA-256 size");

/* The length of the UTF-8 sequence s starts with and its code point, or 0
 * for an invalid one (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xc2 && s[0] <= 0xdf   ? 2
               : s[0] >= 0xe0 && s[0] <= 0xef ? 3
               : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                              : 0;
    if (!n)
        return 0;
    uint32_t c = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

enum kw_code kw_attachment_name_check(const char *name, const char *field, struct kw_err *err)
{
    const char *f = field + (*field == '/');
    if (!name || !*name)
        return kw_err_set(err, KW_INVALID, field, "%s: missing (the file's name)", f);
    size_t len = strlen(name);
    if (len > KW_ATTACHMENT_NAME_MAX)
        return kw_err_set(err, KW_INVALID, field, "%s: longer than %d bytes", f,
                          KW_ATTACHMENT_NAME_MAX);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return kw_err_set(err, KW_INVALID, field, "%s: \"%s\" is not a file name", f, name);
    for (const unsigned char *p = (const unsigned char *)name; *p;) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (!n)
            return kw_err_set(err, KW_INVALID, field, "%s: not valid UTF-8 (at byte %zu)", f,
                              (size_t)(p - (const unsigned char *)name));
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            return kw_err_set(err, KW_INVALID, field, "%s: holds a control character (U+%04X)", f,
                              (unsigned)cp);
        /* the bidirectional controls (ALM, LRM, RLM, the embeddings and
         * overrides, the isolates): "\u202Egnp.exe" is shown as "exe.png" */
        if (cp == 0x61c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
            return kw_err_set(err, KW_INVALID, field,
                              "%s: holds a bidirectional control character (U+%04X), which can "
                              "show the name other than it is",
                              f, (unsigned)cp);
        if (cp == '/' || cp == '\\')
            return kw_err_set(err, KW_INVALID, field,
                              "%s: holds a path separator ('%c'); give the file's name only", f,
                              (char)cp);
        p += n;
    }
    if (kw_app_blank(name))
        return kw_err_set(err, KW_INVALID, field, "%s: only spaces", f);
    return KW_OK;
}

enum kw_code kw_attachment_prepare(struct kw_attachment_in *in, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (kw_attachment_name_check(in->name, "/name", err) != KW_OK)
        return err->code;
    kw_sha256(in->size ? in->data : "", in->size, in->sha256);
    for (size_t i = 0; i < sizeof(in->sha256); i++)
        snprintf(in->sha256_hex + 2 * i, 3, "%02x", in->sha256[i]);
    in->prepared = true;
    return KW_OK;
}

bool kw_attachment_visible(const struct kw_actor *who, int64_t org,
                           const struct kw_attachment_row *a)
{
    return kw_app_visible(who, org) && !(kw_actor_customer(who) && a->internal);
}

/* The comment event seq of ticket, as who may see it: *internal gets
 * whether it is an internal note. */
struct comment_find {
    int64_t seq;
    bool found, internal;
    enum kw_code rc;
    struct kw_err *err;
};

static bool comment_of(const struct kw_stored_event *ev, void *ctx)
{
    struct comment_find *c = ctx;
    if (ev->seq != c->seq)
        return true;
    struct kw_event_rec r;
    json_t *hold = NULL;
    if (kw_event_decode(ev->type, ev->body, &r, &hold, NULL) == KW_OK &&
        r.kind == KW_EVENT_COMMENT) {
        c->found = true;
        c->internal = r.internal;
    }
    json_decref(hold);
    return false;
}

enum kw_code kw_ticket_attach(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                              const struct kw_attachment_in *in, int64_t *id, bool *internal,
                              struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    if (!in->prepared)
        return kw_err_set(err, KW_INVALID, "/name", "the file was not prepared");
    struct kw_ticket_row t;
    enum kw_code rc = kw_store_ticket_get(u->st, ticket, &t, err);
    if (rc == KW_NOT_FOUND || (rc == KW_OK && !kw_app_visible(who, t.org_id)))
        return kw_err_set(err, KW_NOT_FOUND, "", "no such ticket");
    if (rc != KW_OK)
        return rc;
    if (who->role == KW_ROLE_SYSTEM)
        return kw_err_set(err, KW_FORBIDDEN, "", "the system attaches no files");
    if (in->internal == 1 && kw_actor_customer(who))
        return kw_err_set(err, KW_FORBIDDEN, "/internal", "customers cannot attach internal files");
    /* a merged duplicate's files live on its original, as its comments do */
    if ((rc = kw_ticket_refuse_merged(u->st, ticket, t.state && strcmp(t.state, "archived") == 0,
                                      "attach the file to", "files", err)) != KW_OK)
        return rc;
    bool hidden = in->internal == 1;
    if (in->comment_seq) {
        struct comment_find c = {.seq = in->comment_seq};
        if ((rc = kw_store_events(u->st, ticket, comment_of, &c, err)) != KW_OK)
            return rc;
        if (!c.found || (c.internal && kw_actor_customer(who)))
            return kw_err_set(err, KW_NOT_FOUND, "/comment",
                              "comment: ticket %lld has no comment %lld", (long long)ticket,
                              (long long)in->comment_seq);
        if (c.internal && in->internal == 0)
            return kw_err_set(err, KW_CONFLICT, "/internal",
                              "internal: a file of an internal note is internal too");
        hidden = hidden || c.internal;
    }
    int64_t count, bytes;
    if ((rc = kw_store_attachment_total(u->st, ticket, &count, &bytes, err)) != KW_OK)
        return rc;
    if (bytes + (int64_t)in->size > in->ticket_max)
        return kw_err_set(err, KW_TOO_BIG, "",
                          "ticket %lld holds %lld bytes of files already; this one (%zu bytes) "
                          "would pass the limit of %lld bytes per ticket",
                          (long long)ticket, (long long)bytes, in->size, (long long)in->ticket_max);
    struct kw_attachment_new a = {.ticket = ticket,
                                  .created_by = who->id,
                                  .at = u->now,
                                  .comment_seq = in->comment_seq,
                                  .name = in->name,
                                  .content_type = in->content_type,
                                  .declared_type = in->declared_type,
                                  .internal = hidden,
                                  .data = in->data,
                                  .size = in->size};
    memcpy(a.sha256, in->sha256, sizeof(a.sha256));
    if ((rc = kw_store_attachment_add(u->st, &a, id, err)) != KW_OK)
        return rc;
    struct kw_event_rec r = {.kind = KW_EVENT_ATTACHMENT,
                             .attachment = *id,
                             .name = in->name,
                             .content_type = in->content_type,
                             .size = (int64_t)in->size,
                             .sha256 = in->sha256_hex,
                             .internal = hidden,
                             .comment_seq = in->comment_seq};
    if ((rc = kw_app_append(u->st, ticket, &r, who->id, u->now, NULL, err)) != KW_OK)
        return rc;
    if (internal)
        *internal = hidden;
    rc = kw_clocks_project(u->clocks, u->st, u->sla, ticket, u->now, NULL, err);
    return rc == KW_OK ? kw_store_fire_at(u->st, ticket, &u->fire_at, err) : rc;
}
