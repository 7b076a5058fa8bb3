// SPDX-License-Identifier: MIT
/*
 * ledger.h - contracts per organisation and the credit ledger
 * (docs/policy.md "Contracts" and "The credit ledger"): who may write a
 * contract and what it may hold, credits accrued when a late clock stops
 * (core/credit.h within the caps of the billing period), adjusted when an
 * overrun's reason changes, manual adjustments (two different managers
 * above the contract's dual_above: 双签), the customer's claim and
 * settlement against an invoice or the deposit. Amounts are minor units.
 * Every write is one ledger entry in the unit's transaction.
 */
#ifndef KW_LEDGER_H
#define KW_LEDGER_H

#include "app.h"

/* Save contract c (c->id 0: a new one; *id gets its id): admins and
 * managers only. Refused (with the member's pointer): an unknown
 * organisation or commitment, a value not above 0, a currency that is not
 * three capital letters, an end not after the start, billing other than
 * monthly or annual, a deposit required as both or neither of percent
 * (1-100) and amount (>= 0), a negative deposit held or dual_above. */
enum kw_code kw_contract_save(struct kw_unit *u, const struct kw_actor *who,
                              const struct kw_contract *c, int64_t *id, struct kw_err *err);

/* The billing period of contract c holding t: [*from, *to), monthly
 * periods counted in calendar months (UTC) from period_start, annual in
 * years, the last one cut at period_end. */
void kw_contract_period(const struct kw_contract *c, int64_t t, int64_t *from, int64_t *to);
/* months whole calendar months (UTC) after base (before it when
 * negative): the instant of the same day and time, the day cut to the
 * month's last. */
int64_t kw_months_after(int64_t base, int64_t months);
/* The deposit c requires, in minor units (a percent rounded half up). */
int64_t kw_contract_deposit_required(const struct kw_contract *c);

/* Accrue what the late runs of ticket that stopped owe (called by the
 * clock projection, in its transaction): once per overrun record, under
 * the contract of the ticket's organisation in force at the stop, as an
 * entry at the stop. Nothing without a contract. */
enum kw_code kw_ledger_accrue(struct kw_store *st, int64_t ticket, const struct kw_compiled *k,
                              const struct kw_sla *s, struct kw_err *err);
/* Overrun id's reason changed: compute its credit again with the new
 * reason and append the difference as an adjustment (nothing when equal). */
enum kw_code kw_ledger_reason_changed(struct kw_unit *u, const struct kw_actor *who,
                                      int64_t overrun, struct kw_err *err);

/* A manager's adjustment of contract (amount != 0, either sign) with a
 * reason, optionally on a ticket. At most the contract's dual_above in
 * size it is an entry at once (*entry); above it, a request (*request)
 * that another manager approves. */
enum kw_code kw_ledger_adjust(struct kw_unit *u, const struct kw_actor *who, int64_t contract,
                              int64_t amount, const char *reason, int64_t ticket, int64_t *entry,
                              int64_t *request, struct kw_err *err);
/* Approve (or refuse) a pending request: a manager other than the one who
 * asked (KW_FORBIDDEN for the same one). Approving appends the entry. */
enum kw_code kw_ledger_decide(struct kw_unit *u, const struct kw_actor *who, int64_t request,
                              bool approve, int64_t *entry, struct kw_err *err);
/* The customer's claim of amount (> 0, at most what is owed and not yet
 * claimed) under contract, with a note; customers of its organisation and
 * managers. */
enum kw_code kw_ledger_claim(struct kw_unit *u, const struct kw_actor *who, int64_t contract,
                             int64_t amount, const char *note, int64_t *entry, struct kw_err *err);
/* Settle amount (> 0, at most what is owed and not yet settled) against
 * "invoice" (ref: its number) or "deposit" (at most what is held less what
 * was settled from it): managers. */
enum kw_code kw_ledger_settle(struct kw_unit *u, const struct kw_actor *who, int64_t contract,
                              int64_t amount, const char *against, const char *ref, int64_t *entry,
                              struct kw_err *err);

/* Close the billing periods holding day (days since 1970-01-01, UTC) of
 * every contract: each overrun of the contract's organisation still open
 * (its clock not stopped) with a deadline before the period's end accrues
 * what it owes measured to that end, less what it accrued at earlier
 * closes (an entry marked period_close, at the period's end). Its stop
 * later accrues the rest. A contract whose period has not ended by u->now
 * is left for another time (KW_INVALID when that is every contract in
 * force that day); *entries and *contracts count what was written and
 * closed. */
enum kw_code kw_ledger_close(struct kw_unit *u, int64_t day, int64_t *entries, int64_t *contracts,
                             struct kw_err *err);
/* Close, as kw_ledger_close does, each billing period of every contract
 * that ended by u->now and was not closed yet (none recorded after it),
 * oldest first, at most limit periods: each is recorded (by: who closed
 * it) before it is closed, under the store's unique key, so a period is
 * closed once however many engines run. *periods and *entries count what
 * was closed and written. */
enum kw_code kw_ledger_close_due(struct kw_unit *u, const char *by, size_t limit, int64_t *periods,
                                 int64_t *entries, struct kw_err *err);

/* An entry's note as a statement in lang prints it (zh: Chinese, else
 * English): a note the desk writes itself (the engine's adjustment when an
 * overrun's reason changed: KW_LEDGER_NOTE_REASON_CHANGED, kept in English
 * in the hashed entry) in lang; any other note (a manager's reason, a
 * customer's claim) as typed. NULL when note is NULL; static or borrowed. */
#define KW_LEDGER_NOTE_REASON_CHANGED "the overrun's reason changed"
const char *kw_ledger_note_text(const char *note, bool zh);

#endif
