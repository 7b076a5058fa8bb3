// SPDX-License-Identifier: MIT
/*
 * kw_net.h - IP networks as an operator writes them ("10.0.0.0/8,::1") and
 * what kind of address a socket address is (loopback, private, ...), for
 * refusing outgoing requests to the server's own network (SSRF) and for
 * trusting proxies.
 */
#ifndef KW_NET_H
#define KW_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "kw_err.h"

struct sockaddr;

#define KW_NETS_MAX 32

/* One network: family AF_INET or AF_INET6, the first `bits` of addr. */
struct kw_net {
    int family;
    unsigned bits;
    unsigned char addr[16];
};
struct kw_nets {
    size_t n;
    struct kw_net net[KW_NETS_MAX];
};

/* Append the comma- or space-separated ADDR[/BITS] of list to out.
 * KW_INVALID for what is not an address or a prefix length, KW_TOO_BIG past
 * KW_NETS_MAX networks. */
enum kw_code kw_nets_parse(const char *list, struct kw_nets *out, struct kw_err *err);

/* Whether sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * its IPv4 address) is inside one of the networks; nets may be NULL. */
bool kw_nets_has(const struct kw_nets *nets, const struct sockaddr *sa);
/* The same for an address as text ("10.1.2.3", "::1"); false for what is
 * not an address. */
bool kw_nets_has_text(const struct kw_nets *nets, const char *addr);

/* What kind of non-public address sa is: "loopback", "private",
 * "link-local", "multicast", "unspecified", "shared" (100.64.0.0/10),
 * "reserved"; NULL for any other (a public address). */
const char *kw_addr_special(const struct sockaddr *sa);

/* sa's address as text into buf (at least 46 bytes). */
void kw_addr_text(const struct sockaddr *sa, char *buf, size_t cap);

#endif
