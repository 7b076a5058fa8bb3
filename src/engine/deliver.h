// SPDX-License-Identifier: MIT
/*
 * deliver.h - send one notification to one endpoint (libcurl).
 *
 * Webhook: POST the payload as JSON with
 *   X-Keepword-Event: KIND
 *   X-Keepword-Delivery: KEY            (the same on every retry: dedupe on it)
 *   X-Keepword-Signature: sha256=HEX    (HMAC-SHA256 of the body with the
 *                                        endpoint's secret, when it has one)
 * Redirects are not followed; a 2xx answer within the timeout is success.
 * Only http and https URLs are used.
 */
#ifndef KW_DELIVER_H
#define KW_DELIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "calendar.h"
#include "kw_net.h"
#include "store.h"

#define KW_DELIVER_TIMEOUT_MS 5000

/* DingTalk, Feishu / Lark and WeCom group robots get a text message built
 * from the notification (kw_notification_text), in their documented JSON
 * format: DingTalk {"msgtype":"text","text":{"content"}} with, when the
 * endpoint has a secret, &timestamp=MS&sign=base64(HMAC-SHA256(secret,
 * "MS\nsecret")) on the URL; Feishu {"msg_type":"text","content":{"text"}}
 * with "timestamp" (s) and "sign" = base64(HMAC-SHA256(key "S\nsecret",
 * empty message)) in the body; WeCom {"msgtype":"text","text":{"content"}}
 * (its key is in the URL). They answer 200 with {"errcode":0} or
 * {"code":0}; anything else is a failed attempt. */

/* The robots' text for a notification: its headline in lang ("zh" or "en"),
 * or NULL: the Chinese line, a newline and the English one. User text in it
 * (titles, notes) is whole. Caller frees; NULL when out of memory. */
char *kw_notification_text(const char *kind, const char *payload, const char *lang);

/* Send d; false with a one-line reason in why (cap bytes), which keeps no
 * more of the other side's answer than its status or a robot's short,
 * cleaned error message. Connections to loopback, private, link-local,
 * multicast and other special addresses (kw_addr_special) are refused unless
 * inside allow (may be NULL), checked on the resolved address of every
 * connection made. An e-mail's times are in zone, the reader's (NULL: UTC as
 * stored). */
bool kw_deliver(const struct kw_delivery *d, const struct kw_tzinfo *zone,
                const struct kw_nets *allow, char *why, size_t cap);

/* "sha256=" and the hex HMAC-SHA256 of body under secret into out (72 bytes). */
void kw_webhook_signature(const char *secret, const char *body, size_t len, char out[72]);

#endif
