// SPDX-License-Identifier: MIT
/*
 * attachments.h - files on tickets: who may attach what, and what is kept.
 *
 * A file is attached to a ticket, or to one of its comments (then it is
 * shown with that comment, and a file of an internal note is internal).
 * Anyone who may comment on the ticket may attach: a customer only to their
 * own organisation's tickets and never as internal. The bytes and their
 * SHA-256 go to the store and an `attachment` event records the same digest
 * in the ticket's hash chain, in one unit. Sizes are capped per file (the
 * caller's limit, checked before the bytes are read whole) and per ticket
 * (here, inside the writer's transaction, so two uploads cannot both pass).
 */
#ifndef KW_APP_ATTACHMENTS_H
#define KW_APP_ATTACHMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"

#define KW_ATTACHMENT_NAME_MAX 255                 /* bytes of a file name */
#define KW_ATTACHMENT_MAX_DEFAULT (20 << 20)       /* bytes of one file: 20 MiB */
#define KW_ATTACHMENT_TICKET_DEFAULT (200LL << 20) /* bytes of a ticket's files: 200 MiB */

/* Whether name is a file name Keepword keeps: 1 to KW_ATTACHMENT_NAME_MAX
 * bytes of valid UTF-8 (no overlong forms or surrogates), no control
 * characters (C0, DEL, C1), no path separator ('/' or '\'), not "." or
 * "..", not only spaces. KW_INVALID at field otherwise. */
enum kw_code kw_attachment_name_check(const char *name, const char *field, struct kw_err *err);

/* A file to attach. Strings and bytes borrowed. */
struct kw_attachment_in {
    const char *name;          /* checked by kw_attachment_name_check */
    const char *content_type;  /* sniffed from the bytes by the caller */
    const char *declared_type; /* the Content-Type sent, or NULL */
    const void *data;
    size_t size;
    int64_t comment_seq; /* the comment it belongs to, or 0 */
    int internal;        /* 1: internal, 0: public, -1: as its comment (public without one) */
    int64_t ticket_max;  /* bytes all of the ticket's files may come to */
    /* filled by kw_attachment_prepare: */
    unsigned char sha256[32];
    char sha256_hex[65];
    bool prepared;
};

/* Check the name and hash the bytes: slow for large files, so call it on
 * the request's thread, before the unit. KW_INVALID at "/name". */
enum kw_code kw_attachment_prepare(struct kw_attachment_in *in, struct kw_err *err);

/* Attach the prepared file to ticket (inside a unit): KW_NOT_FOUND for a
 * ticket who may not see (or a comment that is not there for them, at
 * "/comment"), KW_FORBIDDEN at "/internal" for a customer's internal file,
 * KW_TOO_BIG when the ticket's files would pass in->ticket_max. *id gets
 * the attachment's id, *internal whether it is internal. */
enum kw_code kw_ticket_attach(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                              const struct kw_attachment_in *in, int64_t *id, bool *internal,
                              struct kw_err *err);

/* Whether who may read attachment a of a ticket of organisation org: as
 * the ticket, and never an internal one for a customer. */
bool kw_attachment_visible(const struct kw_actor *who, int64_t org,
                           const struct kw_attachment_row *a);

#endif
