// SPDX-License-Identifier: MIT
/*
 * fetch.h - fetching the mailboxes (docs/channels.md): one thread polls
 * each active mailbox every poll_s seconds over IMAP or IMAPS (libcurl):
 * the folder's UIDVALIDITY, the UIDs after the last one taken, each mail
 * fetched, read (app/mail.h) and applied (app/mailin.h) in one unit with
 * the new cursor, so a restart resumes after the last mail stored and a
 * mail is taken once; then flagged \Seen on the server. Where the server
 * offers IDLE (RFC 2177) a connection of its own per mailbox waits for new
 * mail and has the mailbox polled at once; polling every poll_s goes on
 * beside it, and a lost IDLE connection is opened again 30 s later. Connections go
 * only where delivery may (serve --allow-destination for private
 * addresses).
 */
#ifndef KW_ENGINE_FETCH_H
#define KW_ENGINE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct kw_mailin_poller;

/* Start polling the mailboxes of db. Everything borrowed, and must outlive
 * the poller, except key (KW_SEAL_KEY_BYTES, copied; NULL: none), which
 * opens the sealed passwords. NULL with err when the thread cannot start. */
struct kw_mailin_poller *kw_mailin_start(const char *db, struct kw_writer *w,
                                         struct kw_clocks *clocks, struct kw_engine *engine,
                                         struct kw_now clock, const struct kw_log *log,
                                         const struct kw_nets *allow, const unsigned char *key,
                                         struct kw_err *err);
void kw_mailin_stop(struct kw_mailin_poller *p); /* NULL is fine */

/* Log in to url (imap:// or imaps://) and open folder (a mailbox's "test"):
 * KW_OK with the folder's message count and whether the server offers IDLE,
 * or KW_IO with what the server or the network said. out->outcome names
 * what happened: "ok", "login_failed", "folder_missing", "tls_error",
 * "connect_failed", "timeout", "refused" (an address that needs serve
 * --allow-destination) or "error" (anything else; err says what). */
struct kw_mailin_probe_out {
    const char *outcome; /* static */
    int64_t messages;
    bool idle;
};
enum kw_code kw_mailin_probe(const char *url, const char *user, const char *password,
                             const char *folder, const struct kw_nets *allow,
                             struct kw_mailin_probe_out *out, struct kw_err *err);

#endif
