// SPDX-License-Identifier: MIT
/* A mail into the desk (mailin.h). The rules for machines follow RFC 3834
 * and what RT and Zammad do (mail.h); the hourly limit per sender is
 * Znuny's loop protection. */
#include "mailin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachments.h"
#include "kw_buf.h"
#include "kw_text.h"
#include "links.h"
#include "mailout.h"
#include "tickets.h"

#define TITLE_MAX 500
#define TEXT_MAX 60000 /* bytes of a comment or description made of a mail */

/* The known, active user with e-mail addr, as an actor; false for none. */
static bool sender_of(struct kw_unit *u, const char *addr, struct kw_actor *who)
{
    int64_t id;
    char hash[KW_PASSWORD_HASH_BUF];
    struct kw_err ignored = {0};
    struct kw_user_row r;
    if (!addr || kw_store_user_password(u->st, addr, &id, hash, &ignored) != KW_OK ||
        kw_store_user_get(u->st, id, &r, &ignored) != KW_OK || !r.active)
        return false;
    enum kw_role role;
    if (!kw_role_parse(r.role, &role))
        return false;
    *who = (struct kw_actor){.id = r.id, .org_id = r.org_id, .team_id = r.team_id, .role = role};
    return true;
}

/* The mailbox's manager as the actor. */
static enum kw_code manager_of(struct kw_unit *u, const struct kw_mailin *b, struct kw_actor *who,
                               struct kw_err *err)
{
    struct kw_user_row r;
    enum kw_role role;
    if (kw_store_user_get(u->st, b->acting_user, &r, err) != KW_OK || !r.active ||
        !kw_role_parse(r.role, &role) || (role != KW_ROLE_ADMIN && role != KW_ROLE_MANAGER))
        return kw_err_set(err, KW_FORBIDDEN, "",
                          "mailbox %s acts for user %lld, who is no longer an active manager",
                          b->name, (long long)b->acting_user);
    *who = (struct kw_actor){.id = r.id, .team_id = r.team_id, .role = role};
    return KW_OK;
}

/* The ticket m answers, or 0: by our message ids, then by its tag. */
static enum kw_code thread_of(struct kw_unit *u, const struct kw_mail *m, int64_t *ticket,
                              bool *by_tag, struct kw_err *err)
{
    *ticket = 0;
    *by_tag = false;
    enum kw_code rc = KW_OK;
    if (m->in_reply_to)
        rc = kw_store_mail_ticket(u->st, m->in_reply_to, ticket, err);
    if (rc == KW_OK && !*ticket && m->references) { /* the newest reference first */
        char *refs = strdup(m->references);
        if (!refs)
            return kw_err_set(err, KW_NOMEM, "", "out of memory");
        for (char *sp; rc == KW_OK && !*ticket && *refs;) {
            sp = strrchr(refs, ' ');
            rc = kw_store_mail_ticket(u->st, sp ? sp + 1 : refs, ticket, err);
            if (!sp)
                break;
            *sp = '\0';
        }
        free(refs);
    }
    if (rc == KW_OK && !*ticket && m->tag) {
        struct kw_ticket_row t;
        struct kw_err ignored = {0};
        if (kw_store_ticket_get(u->st, m->tag, &t, &ignored) == KW_OK) {
            *ticket = m->tag;
            *by_tag = true;
        }
    }
    return rc;
}

static char *body_text(const struct kw_mail *m, bool with_sender)
{
    struct kw_buf b = {.max = 4 * TEXT_MAX};
    if (with_sender)
        kw_buf_printf(&b, "From: %s%s<%s>\n\n", m->from_name ? m->from_name : "",
                      m->from_name ? " " : "", m->from ? m->from : "");
    kw_buf_adds(&b, m->text && *m->text ? m->text : "(no text)");
    if (!b.p)
        return NULL;
    b.p[kw_utf8_cut(b.p, b.len, TEXT_MAX)] = '\0';
    return b.p;
}

static enum kw_code attach_all(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                               const struct kw_mail *m, const char *const *types,
                               struct kw_err *err)
{
    for (size_t i = 0; i < m->n_files; i++) {
        const struct kw_mail_file *f = &m->files[i];
        struct kw_attachment_in in = {
            .name = f->name,
            .content_type = types && types[i] ? types[i] : "application/octet-stream",
            .declared_type = f->type,
            .data = f->data,
            .size = f->size,
            .internal = 0,
            .ticket_max = INT64_MAX,
        };
        struct kw_err e = {0};
        int64_t id;
        bool internal;
        if (kw_attachment_prepare(&in, &e) != KW_OK) { /* a name we do not keep: a safe one */
            in.name = "attachment";
            if (kw_attachment_prepare(&in, err) != KW_OK)
                return err->code;
        }
        enum kw_code rc = kw_ticket_attach(u, who, ticket, &in, &id, &internal, err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

/* How many merges a reply follows to the ticket it ends on. */
#define MERGE_HOPS 8

/* text (taking it) after a line saying it was addressed to the merged
 * duplicate dup, in both languages (the comment is read by staff and
 * customer alike); NULL on no memory. */
static char *merged_note(char *text, int64_t dup)
{
    struct kw_buf b = {0};
    kw_buf_printf(
        &b,
        "[Sent to #%lld, which was merged into this ticket / 发往 #%lld（已合并到本工单）]"
        "\n\n%s",
        (long long)dup, (long long)dup, text);
    free(text);
    if (b.failed || !b.p) {
        kw_buf_release(&b);
        return NULL;
    }
    b.p[kw_utf8_cut(b.p, b.len, TEXT_MAX)] = '\0';
    return b.p;
}

enum kw_code kw_mailin_apply(struct kw_unit *u, const struct kw_mailin *b, const struct kw_mail *m,
                             size_t raw_bytes, int64_t uid, const char *const *types,
                             struct kw_mailin_out *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *out = (struct kw_mailin_out){.fire_at = KW_STORE_NO_TIME};
    u->fire_at = KW_STORE_NO_TIME;
    char idbuf[64];
    const char *mid = m->message_id;
    if (!mid) { /* no Message-ID: the mailbox's UID names it */
        snprintf(idbuf, sizeof(idbuf), "uid:%lld@mailbox-%lld", (long long)uid, (long long)b->id);
        mid = idbuf;
    }
    bool seen;
    enum kw_code rc = kw_store_mail_seen(u->st, b->id, mid, &seen, err);
    if (rc != KW_OK)
        return rc;
    if (seen) {
        snprintf(out->outcome, sizeof(out->outcome), "duplicate");
        return KW_OK;
    }
    int64_t count = 0;
    if (m->from &&
        (rc = kw_store_mail_count(u->st, b->id, m->from, u->now - 3600, &count, err)) != KW_OK)
        return rc;
    struct kw_actor who, mgr;
    int64_t ticket = 0;
    bool by_tag = false;
    if ((int64_t)raw_bytes > b->max_bytes)
        snprintf(out->outcome, sizeof(out->outcome), "refused: %zu bytes (at most %lld)", raw_bytes,
                 (long long)b->max_bytes);
    else if (m->automatic)
        snprintf(out->outcome, sizeof(out->outcome), "ignored: sent by a machine (%s)",
                 m->automatic);
    else if (count >= b->per_sender_hour)
        snprintf(out->outcome, sizeof(out->outcome), "refused: more than %lld mails an hour",
                 (long long)b->per_sender_hour);
    if (out->outcome[0]) /* recorded, nothing opened */
        return kw_store_mail_put(u->st, b->id, mid, uid, m->from, 0, out->outcome, u->now, err);
    if ((rc = manager_of(u, b, &mgr, err)) != KW_OK ||
        (rc = thread_of(u, m, &ticket, &by_tag, err)) != KW_OK)
        return rc;
    bool known = sender_of(u, m->from, &who);
    char *text = NULL;
    /* a reply to a merged duplicate goes to the ticket it was merged into
     * (and on, should that one have been merged too), saying so */
    int64_t addressed = ticket;
    for (int hop = 0; ticket && hop < MERGE_HOPS; hop++) {
        int64_t into;
        if ((rc = kw_ticket_merged_into(u->st, ticket, &into, err)) != KW_OK)
            return rc;
        if (!into)
            break;
        ticket = into;
    }
    if (ticket) {
        struct kw_ticket_row t;
        if ((rc = kw_store_ticket_get(u->st, ticket, &t, err)) != KW_OK)
            return rc;
        bool may = known && kw_app_visible(&who, t.org_id);
        if (by_tag && !may) /* a tag alone lets nobody else into a ticket */
            ticket = 0;
    }
    if (ticket) {
        struct kw_ticket_row t;
        if ((rc = kw_store_ticket_get(u->st, ticket, &t, err)) != KW_OK)
            return rc;
        bool may = known && kw_app_visible(&who, t.org_id);
        text = body_text(m, !may);
        if (text && addressed != ticket)
            text = merged_note(text, addressed);
        if (!text)
            return kw_err_set(err, KW_NOMEM, "", "out of memory");
        /* the sender's own reply; someone else's is a note for the staff */
        rc = kw_ticket_comment(u, may ? &who : &mgr, ticket, text, !may, err);
        snprintf(out->outcome, sizeof(out->outcome), may ? "comment" : "note");
        if (rc == KW_OK)
            rc = attach_all(u, may ? &who : &mgr, ticket, m, types, err);
    } else if (!known && b->refuse_unknown) {
        snprintf(out->outcome, sizeof(out->outcome), "refused: unknown sender");
        return kw_store_mail_put(u->st, b->id, mid, uid, m->from, 0, out->outcome, u->now, err);
    } else {
        bool customer = known && kw_actor_customer(&who);
        char title[TITLE_MAX + 1];
        const char *s = m->subject && !kw_app_blank(m->subject) ? m->subject : "(no subject)";
        size_t n = kw_utf8_cut(s, strlen(s), TITLE_MAX);
        memcpy(title, s, n);
        title[n] = '\0';
        kw_text_one_line(title); /* a subject may keep a folded header's tab */
        text = body_text(m, !customer);
        if (!text)
            return kw_err_set(err, KW_NOMEM, "", "out of memory");
        struct kw_ticket_in in = {
            .org_id = customer ? who.org_id : b->org_id,
            .title = title,
            .level = b->level,
            .category = b->category,
            .channel = "email",
            .via = "email",
            .description = text,
        };
        bool existed;
        rc = kw_ticket_create(u, customer ? &who : &mgr, &in, &ticket, &existed, err);
        snprintf(out->outcome, sizeof(out->outcome), "created");
        if (rc == KW_OK)
            rc = attach_all(u, customer ? &who : &mgr, ticket, m, types, err);
        if (rc == KW_OK && b->team_id > 0) { /* the mailbox's team, set by its manager */
            int64_t fire_at = u->fire_at;
            struct kw_ticket_change c = {.team_id = b->team_id, .reason = "email"};
            rc = kw_ticket_change(u, &mgr, ticket, &c, err);
            if (u->fire_at == KW_STORE_NO_TIME)
                u->fire_at = fire_at;
        }
    }
    free(text);
    if (rc == KW_OK)
        rc = kw_store_mail_id_put(u->st, mid, ticket, err);
    if (rc == KW_OK)
        rc = kw_store_mail_put(u->st, b->id, mid, uid, m->from, ticket, out->outcome, u->now, err);
    if (rc == KW_OK && strcmp(out->outcome, "created") == 0) /* when the mailbox acknowledges */
        rc = kw_mailout_ack(u, ticket, err);
    out->ticket = ticket;
    out->fire_at = u->fire_at;
    return rc;
}
