// SPDX-License-Identifier: MIT
/*
 * mailout.h - mail out (docs/channels.md "Mail out"): a ticket whose mail
 * came through a mailbox that sends (smtp_url) is answered by mail.
 *
 * Each message is one outbox row through the mailbox's own endpoint,
 * queued in the transaction of what causes it (so exactly once, retried
 * like any notification), one per reader (kw_store_mail_readers), in the
 * reader's language (theirs, else Chinese when the ticket's title has
 * Chinese, else English) with times in the reader's zone (theirs, else the
 * zone of the commitment's response calendar, else UTC). Each has a
 * Message-ID of ours, recorded as the ticket's so that an answer to it
 * threads back, and In-Reply-To / References naming the newest mail taken
 * onto the ticket, so the reader's client threads it too.
 */
#ifndef KW_APP_MAILOUT_H
#define KW_APP_MAILOUT_H

#include "app.h"

/* A public staff comment of user author with text on ticket:
 * mailed to its readers, subject "Re: [KW#N] title". Nothing when the
 * ticket has no mail through a sending mailbox. */
enum kw_code kw_mailout_reply(struct kw_unit *u, int64_t ticket, int64_t author, const char *text,
                              struct kw_err *err);

/* The acknowledgement of ticket, just opened by mail through a mailbox
 * with ack on: "we will respond within 15 minutes (by ...)", the target and
 * deadline of the commitment's response clock (the metric stopped by
 * first_response) for that ticket; without one, only the ticket number.
 * Auto-Submitted: auto-replied (RFC 3834), so that auto-responders do not
 * answer it. */
enum kw_code kw_mailout_ack(struct kw_unit *u, int64_t ticket, struct kw_err *err);

#endif
