// SPDX-License-Identifier: MIT
/* util/kw_net: networks as an operator writes them, and which addresses a
 * delivery must not reach without the operator's leave (SSRF). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "kw_net.h"
#include "testutil.h"

/* text as a socket address (IPv4 or IPv6) into ss */
static const struct sockaddr *sa_of(const char *text, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1)
        in->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1)
        in6->sin6_family = AF_INET6;
    else
        fail_msg("bad test address %s", text);
    return (const struct sockaddr *)ss;
}

static void test_special(void **state)
{
    (void)state;
    static const struct {
        const char *name, *addr, *kind; /* kind NULL: public */
    } rows[] = {
        {"IPv4 loopback", "127.0.0.1", "loopback"},
        {"anywhere in 127/8", "127.255.0.9", "loopback"},
        {"IPv6 loopback", "::1", "loopback"},
        {"IPv4-mapped loopback", "::ffff:127.0.0.1", "loopback"},
        {"10/8", "10.1.2.3", "private"},
        {"172.16/12", "172.31.255.255", "private"},
        {"just past 172.16/12", "172.32.0.1", NULL},
        {"192.168/16", "192.168.0.1", "private"},
        {"unique local IPv6", "fd00::1", "private"},
        {"the cloud metadata address", "169.254.169.254", "link-local"},
        {"IPv6 link-local", "fe80::1", "link-local"},
        {"carrier-grade NAT", "100.64.0.1", "shared"},
        {"multicast", "224.0.0.1", "multicast"},
        {"IPv6 multicast", "ff02::1", "multicast"},
        {"0.0.0.0", "0.0.0.0", "unspecified"},
        {"::", "::", "unspecified"},
        {"broadcast", "255.255.255.255", "reserved"},
        {"a public address", "8.8.8.8", NULL},
        {"a public IPv6 address", "2001:4860:4860::8888", NULL},
        {"IPv4-mapped public", "::ffff:8.8.8.8", NULL},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        struct sockaddr_storage ss;
        const char *got = kw_addr_special(sa_of(rows[i].addr, &ss));
        if ((got == NULL) != (rows[i].kind == NULL) || (got && strcmp(got, rows[i].kind) != 0))
            fail_msg("%s: %s is %s, want %s", rows[i].name, rows[i].addr, got ? got : "public",
                     rows[i].kind ? rows[i].kind : "public");
    }
}

static void test_nets(void **state)
{
    (void)state;
    struct kw_nets nets = {0};
    struct kw_err err = {0};
    assert_int_equal(kw_nets_parse("127.0.0.1, 10.1.0.0/16,::1", &nets, &err), KW_OK);
    assert_int_equal(nets.n, 3);
    static const struct {
        const char *name, *addr;
        bool in;
    } rows[] = {
        {"the one address", "127.0.0.1", true}, {"another loopback address", "127.0.0.2", false},
        {"inside the /16", "10.1.200.3", true}, {"outside the /16", "10.2.0.1", false},
        {"IPv6 loopback", "::1", true},         {"IPv4-mapped, inside", "::ffff:10.1.0.1", true},
    };
    for (size_t i = 0; i < N_ELEMS(rows); i++) {
        struct sockaddr_storage ss;
        if (kw_nets_has(&nets, sa_of(rows[i].addr, &ss)) != rows[i].in)
            fail_msg("%s: %s", rows[i].name, rows[i].addr);
        if (kw_nets_has_text(&nets, rows[i].addr) != rows[i].in)
            fail_msg("%s as text: %s", rows[i].name, rows[i].addr);
    }
    assert_false(kw_nets_has_text(&nets, "127.0.0.1 "));
    assert_false(kw_nets_has_text(&nets, ""));
    assert_false(kw_nets_has_text(NULL, "127.0.0.1"));
    struct sockaddr_storage ss;
    assert_false(kw_nets_has(NULL, sa_of("127.0.0.1", &ss)));
    static const char *const bad[] = {"10.0.0.0/33", "localhost", "10.0.0.0/", "::1/129", "1.2.3"};
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        struct kw_nets n = {0};
        if (kw_nets_parse(bad[i], &n, &err) != KW_INVALID)
            fail_msg("\"%s\" should be refused", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special),
        cmocka_unit_test(test_nets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
