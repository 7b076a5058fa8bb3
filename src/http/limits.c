// SPDX-License-Identifier: MIT
/*
 * limits.c - what one client may hold: connections per peer address (trusted
 * proxies exempt, since their clients vary), all of them against
 * max_connections (libmicrohttpd's own cap), and a deadline for each request
 * head. libmicrohttpd's idle timeout cuts a connection that sends and reads
 * nothing; a client that trickles its headers a byte at a time (slowloris)
 * is not idle, so the sweeper cuts a connection whose request line and
 * headers have not all arrived request_timeout_s after it opened or after
 * its last reply. Streams are limited in web.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

#define SWEEP_MS 250

int64_t kwh_mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void kwh_log_refused(struct kw_http *h, const char *what, const char *addr)
{
    /* under attack this would be a line per connection: one a second per kind */
    size_t kind = strcmp(what, "connections_per_address") == 0 ? 0
                  : strncmp(what, "streams", 7) == 0           ? 1
                                                               : 2;
    int64_t s = kwh_mono_ms() / 1000, last = atomic_load(&h->refused_logged_s[kind]);
    if (s == last || !atomic_compare_exchange_strong(&h->refused_logged_s[kind], &last, s))
        return;
    KW_LOG(&h->log, KW_LOG_WARN, "mod=http event=http.limit limit=%s addr=%s", what, addr);
}

static void addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)cap);
}

/* Refuse a connection past its address's limit. The count is taken here
 * and the connection joins it when libmicrohttpd reports it started, so
 * I/O threads accepting at the same instant may each let one more in. */
enum MHD_Result kwh_conn_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    struct kw_http *h = cls;
    char a[46];
    addr_text(addr, a, sizeof(a));
    if (h->proxies.n && kw_nets_has_text(&h->proxies, a))
        return MHD_YES;
    size_t n = 0;
    pthread_mutex_lock(&h->conns_mu);
    for (const struct kwh_conn *k = h->conns; k; k = k->next)
        n += k->counted && strcmp(k->addr, a) == 0;
    pthread_mutex_unlock(&h->conns_mu);
    if (n < h->limits.max_per_address)
        return MHD_YES;
    kwh_log_refused(h, "connections_per_address", a);
    return MHD_NO;
}

void kwh_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    struct kw_http *h = cls;
    struct kwh_conn *k = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        k = calloc(1, sizeof(*k));
        if (!k)
            return; /* untracked: not counted, not swept */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr)
            addr_text(ci->client_addr, k->addr, sizeof(k->addr));
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        k->fd = ci ? ci->connect_fd : -1;
        k->counted = !h->proxies.n || !kw_nets_has_text(&h->proxies, k->addr);
        atomic_store(&k->head_by_ms, kwh_mono_ms() + (int64_t)h->limits.request_timeout_s * 1000);
        pthread_mutex_lock(&h->conns_mu);
        k->next = h->conns;
        if (h->conns)
            h->conns->prev = k;
        h->conns = k;
        h->n_conns++;
        pthread_mutex_unlock(&h->conns_mu);
        *socket_context = k;
        return;
    }
    if (!k)
        return;
    /* libmicrohttpd closes the socket after this returns: the sweeper, which
     * shuts sockets down under conns_mu, never touches a closed one */
    pthread_mutex_lock(&h->conns_mu);
    if (k->prev)
        k->prev->next = k->next;
    else
        h->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    h->n_conns--;
    pthread_mutex_unlock(&h->conns_mu);
    free(k);
    *socket_context = NULL;
}

void kwh_conn_busy(struct kw_http *h, struct MHD_Connection *c, bool busy)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct kwh_conn *k = ci ? ci->socket_context : NULL;
    if (k)
        atomic_store(&k->head_by_ms,
                     busy ? 0 : kwh_mono_ms() + (int64_t)h->limits.request_timeout_s * 1000);
}

static void *sweeper(void *arg)
{
    struct kw_http *h = arg;
    pthread_mutex_lock(&h->conns_mu);
    while (!h->sweep_stop) {
        int64_t now = kwh_mono_ms();
        for (struct kwh_conn *k = h->conns; k; k = k->next) {
            int64_t by = atomic_load(&k->head_by_ms);
            if (!by || now < by || k->fd < 0)
                continue;
            /* libmicrohttpd sees the end of the stream and closes it */
            atomic_store(&k->head_by_ms, 0);
            shutdown(k->fd, SHUT_RDWR);
            kwh_log_refused(h, "request_timeout", k->addr);
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += SWEEP_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&h->sweep_cv, &h->conns_mu, &until);
    }
    pthread_mutex_unlock(&h->conns_mu);
    return NULL;
}

bool kwh_conns_start(struct kw_http *h)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&h->sweep_cv, &a);
    pthread_condattr_destroy(&a);
    h->sweeping = pthread_create(&h->sweeper, NULL, sweeper, h) == 0;
    return h->sweeping;
}

void kwh_conns_stop(struct kw_http *h)
{
    if (!h->sweeping)
        return;
    pthread_mutex_lock(&h->conns_mu);
    h->sweep_stop = true;
    pthread_cond_broadcast(&h->sweep_cv);
    pthread_mutex_unlock(&h->conns_mu);
    pthread_join(h->sweeper, NULL);
    pthread_cond_destroy(&h->sweep_cv);
    h->sweeping = false;
}
