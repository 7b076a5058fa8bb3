// SPDX-License-Identifier: MIT
/*
 * policy_json.h - the JSON form of a policy (docs/policy.md).
 *
 * Decoding checks everything a policy may get wrong and locates each error:
 * a JSON pointer ("/targets/2/when/level/0") and a message naming the field
 * ("targets[2].when.level[0]: unknown level \"L9\""). The policy copies the
 * strings it keeps, so the document may be freed afterwards. Pure: no I/O.
 */
#ifndef KW_POLICY_JSON_H
#define KW_POLICY_JSON_H

#include <jansson.h>

#include "policy.h"

/* Largest policy text kw_policy_parse() accepts. */
#define KW_POLICY_JSON_MAX_BYTES (64u << 20)

/* Decode and validate the policy document doc (not modified, not kept). On
 * failure returns NULL and fills err (KW_INVALID, located; KW_NOMEM). Free
 * with kw_policy_free(). */
struct kw_policy *kw_policy_from_json(json_t *doc, struct kw_err *err);

#endif
