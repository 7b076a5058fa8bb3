// SPDX-License-Identifier: MIT
#include "kw_net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static bool addr_parse(const char *s, size_t len, struct kw_net *a)
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

enum kw_code kw_nets_parse(const char *list, struct kw_nets *out, struct kw_err *err)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ", ");
        if (len) {
            int shown = (int)(len > 60 ? 60 : len);
            const char *slash = memchr(p, '/', len);
            struct kw_net n;
            if (!addr_parse(p, slash ? (size_t)(slash - p) : len, &n))
                return kw_err_set(err, KW_INVALID, "", "\"%.*s\" is not an IP address", shown, p);
            if (slash) {
                char *end = NULL;
                long bits = strtol(slash + 1, &end, 10);
                if (end != p + len || end == slash + 1 || bits < 0 || bits > (long)n.bits)
                    return kw_err_set(err, KW_INVALID, "",
                                      "\"%.*s\": the prefix length must be 0 to %u", shown, p,
                                      n.bits);
                n.bits = (unsigned)bits;
            }
            if (out->n == KW_NETS_MAX)
                return kw_err_set(err, KW_TOO_BIG, "", "at most %d networks", KW_NETS_MAX);
            out->net[out->n++] = n;
        }
        p += len;
        p += strspn(p, ", ");
    }
    return KW_OK;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address. */
static void unmap(struct kw_net *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == AF_INET6 && memcmp(a->addr, mapped, 12) == 0) {
        memmove(a->addr, a->addr + 12, 4);
        memset(a->addr + 4, 0, 12);
        a->family = AF_INET;
        a->bits = 32;
    }
}

/* sa as a network of one address; an IPv4-mapped IPv6 address as IPv4. */
static bool addr_of(const struct sockaddr *sa, struct kw_net *a)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        memcpy(a->addr, &in->sin_addr, 4);
        a->family = AF_INET;
        a->bits = 32;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(a->addr, in6->sin6_addr.s6_addr, 16);
        a->family = AF_INET6;
        a->bits = 128;
        unmap(a);
        return true;
    }
    return false;
}

static bool net_has(const struct kw_net *n, const struct kw_net *a)
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

static bool nets_have(const struct kw_nets *nets, const struct kw_net *a)
{
    for (size_t i = 0; nets && i < nets->n; i++)
        if (net_has(&nets->net[i], a))
            return true;
    return false;
}

bool kw_nets_has(const struct kw_nets *nets, const struct sockaddr *sa)
{
    struct kw_net a;
    return addr_of(sa, &a) && nets_have(nets, &a);
}

bool kw_nets_has_text(const struct kw_nets *nets, const char *addr)
{
    struct kw_net a;
    if (!addr_parse(addr, strlen(addr), &a))
        return false;
    unmap(&a);
    return nets_have(nets, &a);
}

/* The special-purpose ranges (RFC 6890 and its IPv6 registry) that a
 * delivery must not reach unless the operator allows them. */
static const struct {
    const char *net, *kind;
} special[] = {
    {"0.0.0.0/8", "unspecified"}, {"10.0.0.0/8", "private"},        {"100.64.0.0/10", "shared"},
    {"127.0.0.0/8", "loopback"},  {"169.254.0.0/16", "link-local"}, {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "reserved"}, {"192.168.0.0/16", "private"},    {"198.18.0.0/15", "reserved"},
    {"224.0.0.0/4", "multicast"}, {"240.0.0.0/4", "reserved"},      {"::/128", "unspecified"},
    {"::1/128", "loopback"},      {"64:ff9b:1::/48", "private"},    {"fc00::/7", "private"},
    {"fe80::/10", "link-local"},  {"fec0::/10", "private"},         {"ff00::/8", "multicast"},
};

const char *kw_addr_special(const struct sockaddr *sa)
{
    struct kw_net a;
    if (!addr_of(sa, &a))
        return "reserved";
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        struct kw_nets one = {0};
        if (kw_nets_parse(special[i].net, &one, NULL) == KW_OK && net_has(&one.net[0], &a))
            return special[i].kind;
    }
    return NULL;
}

void kw_addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
    struct kw_net a;
    buf[0] = '\0';
    if (addr_of(sa, &a))
        inet_ntop(a.family, a.addr, buf, (socklen_t)cap);
}
