// SPDX-License-Identifier: MIT
/*
 * mailin.h - a mail taken from a mailbox into the desk (docs/channels.md).
 *
 * In the writer's unit, once per mailbox and Message-ID: a mail that is too
 * big, sent by a machine (mail.h), or past the sender's hourly limit is
 * recorded and opens nothing; a reply (In-Reply-To, then References, naming
 * a message id of a ticket, then a [KW#N] tag of a ticket the sender may
 * see) becomes a comment on that ticket (on the original, headed so, when
 * that ticket is a merged duplicate: links.h); anything else becomes a ticket for
 * the sender's organisation (a known customer), or for the mailbox's
 * organisation acting as its manager (an unknown sender, unless the
 * mailbox refuses them), and to the mailbox's team when it names one.
 * Files go into the ticket's attachments.
 */
#ifndef KW_APP_MAILIN_H
#define KW_APP_MAILIN_H

#include "app.h"
#include "mail.h"

/* A mailbox as the unit applies it (strings borrowed). */
struct kw_mailin {
    int64_t id, acting_user, org_id, max_bytes, per_sender_hour;
    int64_t team_id; /* new tickets go to this team (0: none), set by the manager */
    const char *name, *category, *level;
    bool refuse_unknown;
};
/* What a mail did: "created", "comment", "note" (an unknown sender's reply,
 * kept as an internal note), "duplicate", or "refused: ..." / "ignored:
 * ..." saying why; the ticket, or 0. */
struct kw_mailin_out {
    char outcome[96];
    int64_t ticket, fire_at;
};
/* Apply mail m (raw_bytes long, at IMAP UID uid) of mailbox b. types[i]:
 * the media type found in file i's bytes (the caller sniffs them; NULL:
 * application/octet-stream). */
enum kw_code kw_mailin_apply(struct kw_unit *u, const struct kw_mailin *b, const struct kw_mail *m,
                             size_t raw_bytes, int64_t uid, const char *const *types,
                             struct kw_mailin_out *out, struct kw_err *err);

#endif
