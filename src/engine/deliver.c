// SPDX-License-Identifier: MIT
/* Sending notifications; see deliver.h. */
#include "deliver.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void kw_webhook_signature(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
}

/* The answer's body is not needed: drop it. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

bool kw_deliver(const struct kw_delivery *d, char *why, size_t cap)
{
    if (strcmp(d->channel, "webhook") != 0) {
        snprintf(why, cap, "channel %s is not supported yet", d->channel);
        return false;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, cap, "no memory for the request");
        return false;
    }
    char event[96], delivery[160], sig[100];
    snprintf(event, sizeof(event), "X-Keepword-Event: %s", d->kind);
    snprintf(delivery, sizeof(delivery), "X-Keepword-Delivery: %s", d->key);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "User-Agent: keepword");
    h = curl_slist_append(h, event);
    h = curl_slist_append(h, delivery);
    if (d->secret && *d->secret) {
        char mac[72];
        kw_webhook_signature(d->secret, d->payload, strlen(d->payload), mac);
        snprintf(sig, sizeof(sig), "X-Keepword-Signature: %s", mac);
        h = curl_slist_append(h, sig);
    }
    curl_easy_setopt(c, CURLOPT_URL, d->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)KW_DELIVER_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->payload);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(d->payload));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(why, cap, "%s", curl_easy_strerror(rc));
        return false;
    }
    if (status < 200 || status > 299) {
        snprintf(why, cap, "the endpoint answered %ld", status);
        return false;
    }
    return true;
}
