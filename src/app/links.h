// SPDX-License-Identifier: MIT
/*
 * links.h - links between tickets and merging a duplicate into its
 * original (docs/policy.md "Links and merges").
 *
 *   action              staff (admin, manager, agent)          customer
 *   link / unlink       any two tickets, also of two           no (they see a link
 *                       organisations                          only between two of
 *                                                              their own tickets)
 *   merge               a duplicate into its original, both    no
 *                       of one organisation
 *
 * A link is "duplicate_of" (directed: this ticket duplicates the other),
 * "duplicated_by" (the other way round) or "related" (symmetric); one link
 * per pair. Linking and unlinking append a `linked` / `unlinked` event on
 * both tickets. Merging moves the duplicate's comments and files onto the
 * original as events there, adds its watchers and requester to the
 * original's watchers, links the two as merged and closes the duplicate,
 * all in the caller's unit.
 */
#ifndef KW_APP_LINKS_H
#define KW_APP_LINKS_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"

/* Link ticket to other as link ("duplicate_of", "duplicated_by",
 * "related"); reason may be NULL. KW_FORBIDDEN for a customer,
 * KW_INVALID at "/ticket" for the ticket itself, at "/link" for another
 * word, KW_NOT_FOUND at "/ticket" for an unknown other, KW_CONFLICT at
 * "/ticket" when the two are linked already. */
enum kw_code kw_link_add(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                         int64_t other, const char *link, const char *reason, struct kw_err *err);
/* Remove the link between ticket and other; KW_NOT_FOUND at "/ticket"
 * when there is none, KW_CONFLICT for a merge (never undone). */
enum kw_code kw_link_remove(struct kw_unit *u, const struct kw_actor *who, int64_t ticket,
                            int64_t other, const char *reason, struct kw_err *err);

/* What a merge moved. */
struct kw_merged {
    int comments, files, watchers;
};
/* Merge ticket dup into ticket into; reason may be NULL; max_bytes: the
 * cap on a ticket's files (the original's with the duplicate's must fit,
 * else KW_TOO_BIG at "/into"). Refused: a customer (KW_FORBIDDEN); into
 * itself (KW_INVALID "/into"); an unknown original (KW_NOT_FOUND "/into");
 * a duplicate that is merged already or archived, an original that is
 * archived or of another organisation (KW_CONFLICT). u->fire_at: the
 * duplicate's. */
enum kw_code kw_ticket_merge(struct kw_unit *u, const struct kw_actor *who, int64_t dup,
                             int64_t into, const char *reason, int64_t max_bytes,
                             struct kw_merged *out, struct kw_err *err);

/* The ticket a merged duplicate was merged into: *into the original when
 * ticket is archived and has a `merged` event of its own (the state a
 * merge leaves it in), else 0 (never merged, or open again: reopened). A merged duplicate takes no
 * comments from any channel (kw_ticket_comment refuses them, KW_CONFLICT);
 * mail addressed to it goes to the original (mailin.h). */
enum kw_code kw_ticket_merged_into(struct kw_store *st, int64_t ticket, int64_t *into,
                                   struct kw_err *err);

/* KW_CONFLICT when ticket (archived: its state is archived) is a merged
 * duplicate, saying "#D was merged into #A: <instead> #A (a merged duplicate
 * takes no <what>)"; KW_OK otherwise. What every channel's comment and
 * file go through (docs/policy.md "Links and merges"). */
enum kw_code kw_ticket_refuse_merged(struct kw_store *st, int64_t ticket, bool archived,
                                     const char *instead, const char *what, struct kw_err *err);

#endif
