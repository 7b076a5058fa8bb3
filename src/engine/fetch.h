// SPDX-License-Identifier: MIT
/*
 * fetch.h - fetching the mailboxes (docs/channels.md): one thread polls
 * each active mailbox every poll_s seconds over IMAP or IMAPS (libcurl):
 * the folder's UIDVALIDITY, the UIDs after the last one taken, each mail
 * fetched, read (app/mail.h) and applied (app/mailin.h) in one unit with
 * the new cursor, so a restart resumes after the last mail stored and a
 * mail is taken once; then flagged \Seen on the server. Connections go
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

/* Log in to url (imap:// or imaps://) and open folder: KW_OK, or KW_IO
 * with what the server or the network said (a mailbox's "test"). */
enum kw_code kw_mailin_check(const char *url, const char *user, const char *password,
                             const char *folder, const struct kw_nets *allow, struct kw_err *err);

#endif
