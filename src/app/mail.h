// SPDX-License-Identifier: MIT
/*
 * mail.h - one e-mail message read for the desk (RFC 5322 / MIME, parsed by
 * GMime, never by hand): who sent it, what it answers, its text and files,
 * and whether a machine sent it.
 *
 * Text is UTF-8: each part is decoded from its declared charset (GB2312 and
 * GBK are read as GB18030, their superset, since mailers label GBK text as
 * GB2312), headers' encoded words (RFC 2047) too. Of a multipart/alternative
 * the text/plain part is taken; a message with HTML only gets its HTML
 * turned into text (tags dropped, script and style skipped, entities
 * decoded, block ends as line breaks). Every other part with a file name or
 * a Content-Disposition of attachment is an attachment. No I/O.
 */
#ifndef KW_APP_MAIL_H
#define KW_APP_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kw_err.h"

#define KW_MAIL_MAX_ATTACHMENTS 32

struct kw_mail_file {
    char *name, *type; /* UTF-8 file name, media type */
    unsigned char *data;
    size_t size;
};

/* Each string is owned (kw_mail_release frees it) and may be NULL. */
struct kw_mail {
    char *message_id;  /* without the angle brackets */
    char *in_reply_to; /* the same */
    char *references;  /* the message ids, space separated, without brackets */
    char *from;        /* the sender's address, lower case */
    char *from_name;   /* the display name, decoded */
    char *subject;     /* decoded */
    char *text;        /* the body as text */
    int64_t tag;       /* the ticket of a "[KW#123]" in the subject, or 0 */
    /* sent by a machine: Auto-Submitted other than "no" (RFC 3834),
     * Precedence bulk, junk or list, X-Loop, X-Autoreply,
     * X-Auto-Response-Suppress, or from mailer-daemon or postmaster, or
     * no sender: *why says which (static text), else NULL */
    const char *automatic;
    struct kw_mail_file files[KW_MAIL_MAX_ATTACHMENTS];
    size_t n_files;
};

/* Parse the n bytes of raw into out (release it even on failure).
 * KW_INVALID when raw is not a message (no headers, no From). Thread-safe. */
enum kw_code kw_mail_parse(const void *raw, size_t n, struct kw_mail *out, struct kw_err *err);
void kw_mail_release(struct kw_mail *m);

/* The text of n bytes of HTML (caller frees with free()). */
char *kw_mail_html_text(const char *html, size_t n);

/* The ticket id of the first "[KW#N]" in subject, or 0. */
int64_t kw_mail_tag(const char *subject);

#endif
