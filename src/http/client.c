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
#include <strings.h>

#include "internal.h"

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
    if (!h->proxies.n || !kw_nets_has_text(&h->proxies, buf))
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
        char one[INET6_ADDRSTRLEN + 1];
        unsigned char bin[16];
        if (z - a >= sizeof(one))
            return;
        memcpy(one, xff + a, z - a);
        one[z - a] = '\0';
        if (inet_pton(AF_INET, one, bin) != 1 && inet_pton(AF_INET6, one, bin) != 1)
            return;
        snprintf(buf, cap, "%s", one);
        if (!kw_nets_has_text(&h->proxies, buf))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

bool kwh_over_tls(const struct kwh_call *x)
{
    if (x->h->secure_cookies)
        return true;
    char peer[INET6_ADDRSTRLEN + 1];
    peer_of(x->c, peer, sizeof(peer));
    if (!x->h->proxies.n || !kw_nets_has_text(&x->h->proxies, peer))
        return false;
    const char *proto = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "X-Forwarded-Proto");
    return proto && strcasecmp(proto, "https") == 0;
}
