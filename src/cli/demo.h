// SPDX-License-Identifier: MIT
/* demo.h - the demo data `keepword serve --demo` loads into an empty database. */
#ifndef KW_DEMO_H
#define KW_DEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Load the demo unless the database already has its first organisation;
 * *loaded says whether it did. Every demo login's password is keepword-demo. */
enum kw_code kw_demo_load(struct kw_store *st, int64_t now, bool *loaded, struct kw_err *err);

#endif
