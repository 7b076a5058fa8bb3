// SPDX-License-Identifier: MIT
/*
 * client.c - who is at the other end: the client's address, from the
 * connection or, when the connection comes from a trusted proxy, from
 * X-Forwarded-For (docs/operations.md). Login throttling keys on it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One address of text (IPv4 or IPv6) into a; false if it is neither. */
static bool addr_parse(const char *s, size_t len, struct kwh_net *a)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, buf, a->addr) == 1) {
        a->family = AF_INET;
        a->bits = 32;
        return true;
    }
    if (inet_pton(AF_INET6, buf, a->addr) == 1) {
        a->family = AF_INET6;
        a->bits = 128;
        return true;
    }
    return false;
}

static bool net_has(const struct kwh_net *n, const struct kwh_net *a)
{
    if (n->family != a->family)
        return false;
    unsigned full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, a->addr, full) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (n->addr[full] & mask) == (a->addr[full] & mask);
}

enum kw_code kwh_proxies_parse(const char *list, struct kwh_proxies *out, struct kw_err *err)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ", ");
        if (len) {
            const char *slash = memchr(p, '/', len);
            struct kwh_net n;
            size_t alen = slash ? (size_t)(slash - p) : len;
            if (!addr_parse(p, alen, &n))
                return kw_err_set(err, KW_INVALID, "", "\"%.*s\" is not an IP address",
                                  (int)(len > 60 ? 60 : len), p);
            if (slash) {
                char *end = NULL;
                long bits = strtol(slash + 1, &end, 10);
                if (end != p + len || end == slash + 1 || bits < 0 || bits > n.bits)
                    return kw_err_set(err, KW_INVALID, "",
                                      "\"%.*s\": the prefix length must be 0 to %u",
                                      (int)(len > 60 ? 60 : len), p, n.bits);
                n.bits = (unsigned)bits;
            }
            if (out->n == KWH_MAX_PROXIES)
                return kw_err_set(err, KW_TOO_BIG, "", "at most %d trusted proxies",
                                  KWH_MAX_PROXIES);
            out->net[out->n++] = n;
        }
        p += len;
        p += strspn(p, ", ");
    }
    return KW_OK;
}

bool kwh_proxies_trust(const struct kwh_proxies *px, const char *addr)
{
    struct kwh_net a;
    if (!addr_parse(addr, strlen(addr), &a))
        return false;
    for (size_t i = 0; i < px->n; i++)
        if (net_has(&px->net[i], &a))
            return true;
    return false;
}

/* The peer of connection c as text ("" when unknown). */
static void peer_of(struct MHD_Connection *c, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)cap);
}

void kwh_client_address(const struct kw_http *h, struct MHD_Connection *c, char *buf, size_t cap)
{
    peer_of(c, buf, cap);
    if (!h->proxies.n || !kwh_proxies_trust(&h->proxies, buf))
        return;
    const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (!xff)
        return;
    /* From the right: each trusted proxy appended the address it got the
     * request from; the first address no trusted proxy vouches for is the
     * client. An entry that is not an address ends the walk. */
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, z = end;
        while (a < z && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (z > a && (xff[z - 1] == ' ' || xff[z - 1] == '\t'))
            z--;
        struct kwh_net n;
        if (!addr_parse(xff + a, z - a, &n))
            return;
        snprintf(buf, cap, "%.*s", (int)(z - a), xff + a);
        if (!kwh_proxies_trust(&h->proxies, buf))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}
