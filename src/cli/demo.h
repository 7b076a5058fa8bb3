// SPDX-License-Identifier: MIT
/* demo.h - the demo data `keepword serve --demo` loads into an empty database. */
#ifndef KW_DEMO_H
#define KW_DEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* Load the demo unless the database has it already (its service manager's
 * login exists); *loaded says whether it did. The tickets' stories happen
 * relative to now. Every demo login's password is keepword-demo. */
enum kw_code kw_demo_load(struct kw_store *st, int64_t now, bool *loaded, struct kw_err *err);
/* Whether the database has the demo (loaded now or by an earlier start). */
bool kw_demo_present(struct kw_store *st);
/* The demo's logins, one a line with name, role and organisation or desk. */
void kw_demo_logins(FILE *f);

#endif
