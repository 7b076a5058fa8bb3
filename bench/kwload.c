// SPDX-License-Identifier: MIT
/*
 * kwload - load generator and test driver for `keepword serve` on loopback.
 *
 *   kwload --port N --token T [--mode create|read|mixed|events] [--clients C]
 *          [--duration S | --requests N] [--org ID] [--read-ids FIRST-LAST]
 *          [--events K] [--ids FILE] [--keys PREFIX] [--source ADDR]
 *   kwload --port N --mode hold --clients C --duration S [--source ADDR]
 *          [--path PATH [--token T]]
 *   kwload --port N --mode slowloris --duration S [--source ADDR]
 *
 * Each client is a thread with one keep-alive HTTP/1.1 connection to
 * 127.0.0.1:PORT, one request at a time. create: POST /api/v1/tickets;
 * read: GET /api/v1/tickets/{id} over FIRST-LAST; mixed: a create and then K
 * comments on the new ticket. --ids FILE gets "ID ACKNOWLEDGED-EVENTS" for
 * every ticket created (one write(2) per line, so lines survive a kill of the
 * server and never interleave). --keys sends Idempotency-Key PREFIX-N. At the
 * end one JSON line: requests, ok, errors, rps and latency percentiles.
 * Exit 0 when every request got its expected status, 1 otherwise.
 * --source binds the clients' sockets to ADDR (any of 127.0.0.0/8 on Linux),
 * so tests can be many clients' addresses on one machine.
 * hold (for the limits tests): open C connections one after another, with
 * PATH sent on each as a GET (a stream), hold them S seconds, then print
 * how many the server left open and, with PATH, the statuses answered.
 * slowloris: send a request's headers one line a second for up to S seconds;
 * print when the server cut the connection (cut_ms, -1: never).
 * events: POST /api/v1/intake/events triggers with routing_key T (an events
 * source's key) over K dedup keys (--events K): the first of each key opens
 * a ticket, every other is a repeat on it; 202 is success.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum mode { M_CREATE, M_READ, M_MIXED, M_HOLD, M_SLOWLORIS, M_EVENTS };

struct config {
    unsigned port;
    const char *token, *keys;
    enum mode mode;
    int clients, events;
    double duration;
    long requests, org, first, last;
    int ids_fd;
    const char *source, *path;
};

struct shared {
    const struct config *cf;
    atomic_long units;   /* units started */
    atomic_bool stop;    /* a client gave up, or time is up */
    struct timespec end; /* with --duration */
};

struct client {
    struct shared *sh;
    int id, fd;
    long ok, errors, other;
    double *lat; /* ms per request */
    size_t n, cap;
    char buf[65536];
    size_t have; /* bytes in buf */
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A TCP socket to the server, bound to --source if given; -1 on failure. */
static int dial(const struct config *cf)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cf->port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (cf->source) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, cf->source, &src.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
            close(fd);
            return -1;
        }
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool connect_to(struct client *c)
{
    for (int tries = 0; tries < 50; tries++) {
        c->fd = dial(c->sh->cf);
        if (c->fd >= 0) {
            c->have = 0;
            return true;
        }
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    return false;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Read one response: its status and body (NUL-terminated in c->buf at
 * *body). false when the connection failed. */
static bool read_response(struct client *c, int *status, char **body, bool *closing)
{
    size_t head_end = 0;
    for (;;) {
        c->buf[c->have] = '\0';
        char *e = strstr(c->buf, "\r\n\r\n");
        if (e) {
            head_end = (size_t)(e - c->buf) + 4;
            break;
        }
        if (c->have >= sizeof(c->buf) - 1)
            return false;
        ssize_t r = recv(c->fd, c->buf + c->have, sizeof(c->buf) - 1 - c->have, 0);
        if (r <= 0)
            return false;
        c->have += (size_t)r;
    }
    if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1)
        return false;
    size_t len = 0;
    *closing = false;
    for (char *line = strstr(c->buf, "\r\n") + 2; line < c->buf + head_end - 2;
         line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            len = strtoul(line + 15, NULL, 10);
        else if (strncasecmp(line, "Connection: close", 17) == 0)
            *closing = true;
    }
    if (head_end + len >= sizeof(c->buf))
        return false;
    while (c->have < head_end + len) {
        ssize_t r = recv(c->fd, c->buf + c->have, sizeof(c->buf) - 1 - c->have, 0);
        if (r <= 0)
            return false;
        c->have += (size_t)r;
    }
    /* the body moves to the front; bytes past it (none without pipelining)
     * are dropped */
    memmove(c->buf, c->buf + head_end, len);
    c->buf[len] = '\0';
    c->have = 0;
    *body = c->buf;
    return true;
}

/* One request; the status, or 0 when the connection failed twice. */
static int request(struct client *c, const char *method, const char *path, const char *body,
                   const char *key, char **reply)
{
    char head[1024];
    const struct config *cf = c->sh->cf;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && !connect_to(c))
            return 0;
        int n = snprintf(head, sizeof(head),
                         "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                         "%s%s%s"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                         method, path, cf->token, key ? "Idempotency-Key: " : "", key ? key : "",
                         key ? "\r\n" : "", body ? strlen(body) : 0);
        double t0 = now_ms();
        int status;
        bool closing;
        if (send_all(c->fd, head, (size_t)n) && (!body || send_all(c->fd, body, strlen(body))) &&
            read_response(c, &status, reply, &closing)) {
            if (c->n == c->cap) {
                c->cap = c->cap ? c->cap * 2 : 4096;
                c->lat = realloc(c->lat, c->cap * sizeof(*c->lat));
            }
            c->lat[c->n++] = now_ms() - t0;
            if (closing) {
                close(c->fd);
                c->fd = -1;
            }
            return status;
        }
        close(c->fd);
        c->fd = -1;
        /* a create must not be sent twice without a key: the first may
         * have been committed */
        if (strcmp(method, "POST") == 0 && !key)
            return 0;
    }
    return 0;
}

static long id_of(const char *json)
{
    const char *p = strstr(json, "{\"id\":");
    if (!p)
        p = strstr(json, ",\"id\":");
    return p ? strtol(p + 6, NULL, 10) : 0;
}

static void record(struct client *c, long id, int acked)
{
    if (c->sh->cf->ids_fd < 0)
        return;
    char line[64];
    int n = snprintf(line, sizeof(line), "%ld %d\n", id, acked);
    if (write(c->sh->cf->ids_fd, line, (size_t)n) != n)
        perror("kwload: --ids");
}

static bool more(struct shared *sh, long *unit)
{
    if (atomic_load(&sh->stop))
        return false;
    if (sh->cf->duration > 0) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec > sh->end.tv_sec ||
            (t.tv_sec == sh->end.tv_sec && t.tv_nsec >= sh->end.tv_nsec))
            return false;
        *unit = atomic_fetch_add(&sh->units, 1);
        return true;
    }
    *unit = atomic_fetch_add(&sh->units, 1);
    return *unit < sh->cf->requests;
}

/* Count a status: want is what success looks like. */
static bool tally(struct client *c, int status, int want)
{
    if (status == want || (want == 201 && status == 200 && c->sh->cf->keys))
        c->ok++;
    else if (status == 0)
        c->errors++;
    else
        c->other++;
    if (status == 0)
        atomic_store(&c->sh->stop, true);
    return status == want || (want == 201 && status == 200 && c->sh->cf->keys);
}

static void *run(void *arg)
{
    struct client *c = arg;
    const struct config *cf = c->sh->cf;
    long unit;
    char body[256], path[96], key[160];
    char *reply;
    long span = cf->last - cf->first + 1, next = c->id * 7919L;
    while (more(c->sh, &unit)) {
        if (cf->mode == M_READ) {
            snprintf(path, sizeof(path), "/api/v1/tickets/%ld", cf->first + (next++ % span));
            tally(c, request(c, "GET", path, NULL, NULL, &reply), 200);
            continue;
        }
        if (cf->mode == M_EVENTS) { /* alert triggers over --events K dedup keys */
            snprintf(body, sizeof(body),
                     "{\"routing_key\":\"%s\",\"event_action\":\"trigger\",\"dedup_key\":"
                     "\"load-%ld\",\"payload\":{\"summary\":\"load c%d n%ld\",\"source\":"
                     "\"kwload\",\"severity\":\"warning\"}}",
                     cf->token ? cf->token : "", unit % (cf->events > 0 ? cf->events : 1), c->id,
                     unit);
            tally(c, request(c, "POST", "/api/v1/intake/events", body, NULL, &reply), 202);
            continue;
        }
        snprintf(body, sizeof(body),
                 "{\"org_id\":%ld,\"title\":\"load c%d n%ld\",\"level\":\"L3\"}", cf->org, c->id,
                 unit);
        if (cf->keys)
            snprintf(key, sizeof(key), "%s-%ld", cf->keys, unit);
        int status = request(c, "POST", "/api/v1/tickets", body, cf->keys ? key : NULL, &reply);
        if (!tally(c, status, 201))
            continue;
        long id = id_of(reply);
        int acked = 0;
        for (int k = 0; cf->mode == M_MIXED && k < cf->events; k++) {
            snprintf(path, sizeof(path), "/api/v1/tickets/%ld/events", id);
            snprintf(body, sizeof(body), "{\"type\":\"comment\",\"text\":\"c%d n%ld e%d\"}", c->id,
                     unit, k);
            if (!tally(c, request(c, "POST", path, body, NULL, &reply), 201))
                break;
            acked++;
        }
        record(c, id, acked);
    }
    if (c->fd >= 0)
        close(c->fd);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char usage[] =
    "usage: kwload --port N --token T [--mode create|read|mixed|events] [--clients C]\n"
    "              [--duration S | --requests N] [--org ID] [--read-ids FIRST-LAST]\n"
    "              [--events K] [--ids FILE] [--keys PREFIX] [--source ADDR]\n"
    "       kwload --port N --mode hold --clients C --duration S [--source ADDR]\n"
    "              [--path PATH [--token T]]\n"
    "       kwload --port N --mode slowloris --duration S [--source ADDR]\n";

static bool parse(int argc, char **argv, struct config *cf)
{
    *cf = (struct config){.mode = M_CREATE,
                          .clients = 1,
                          .events = 3,
                          .requests = 1000,
                          .org = 1,
                          .first = 1,
                          .last = 1,
                          .ids_fd = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return false;
        i++;
        if (strcmp(a, "--port") == 0)
            cf->port = (unsigned)atoi(v);
        else if (strcmp(a, "--token") == 0)
            cf->token = v;
        else if (strcmp(a, "--mode") == 0)
            cf->mode = strcmp(v, "read") == 0        ? M_READ
                       : strcmp(v, "mixed") == 0     ? M_MIXED
                       : strcmp(v, "hold") == 0      ? M_HOLD
                       : strcmp(v, "slowloris") == 0 ? M_SLOWLORIS
                       : strcmp(v, "events") == 0    ? M_EVENTS
                                                     : M_CREATE;
        else if (strcmp(a, "--clients") == 0)
            cf->clients = atoi(v);
        else if (strcmp(a, "--duration") == 0)
            cf->duration = atof(v);
        else if (strcmp(a, "--requests") == 0)
            cf->requests = atol(v);
        else if (strcmp(a, "--org") == 0)
            cf->org = atol(v);
        else if (strcmp(a, "--events") == 0)
            cf->events = atoi(v);
        else if (strcmp(a, "--keys") == 0)
            cf->keys = v;
        else if (strcmp(a, "--source") == 0)
            cf->source = v;
        else if (strcmp(a, "--path") == 0)
            cf->path = v;
        else if (strcmp(a, "--read-ids") == 0) {
            if (sscanf(v, "%ld-%ld", &cf->first, &cf->last) != 2 || cf->last < cf->first)
                return false;
        } else if (strcmp(a, "--ids") == 0) {
            cf->ids_fd = open(v, O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (cf->ids_fd < 0)
                return false;
        } else
            return false;
    }
    if (cf->mode == M_HOLD || cf->mode == M_SLOWLORIS)
        return cf->port > 0 && cf->clients >= 1 && cf->clients <= 10000 && cf->duration > 0 &&
               (!cf->path || cf->path[0] == '/');
    return cf->port > 0 && cf->token && cf->clients >= 1 && cf->clients <= 4096;
}

/* --mode hold: see the header. */
static int hold(const struct config *cf)
{
    int *fd = calloc((size_t)cf->clients, sizeof(*fd));
    int opened = 0, failed = 0, st200 = 0, st429 = 0, st_other = 0, no_answer = 0;
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s\r\n",
                     cf->path ? cf->path : "/", cf->token ? "Authorization: Bearer " : "",
                     cf->token ? cf->token : "", cf->token ? "\r\n" : "");
    double t0 = now_ms();
    for (int i = 0; i < cf->clients; i++) {
        fd[i] = dial(cf);
        if (fd[i] < 0) {
            failed++;
            continue;
        }
        opened++;
        if (!cf->path)
            continue;
        /* the status line of the answer (a stream's head comes at once) */
        char head[512];
        ssize_t r = -1;
        struct timeval tv = {2, 0};
        setsockopt(fd[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (send_all(fd[i], req, (size_t)n))
            r = recv(fd[i], head, sizeof(head) - 1, 0);
        int status = 0;
        if (r > 0) {
            head[r] = '\0';
            sscanf(head, "HTTP/1.%*d %d", &status);
        }
        st200 += status == 200;
        st429 += status == 429;
        st_other += status != 200 && status != 429 && status != 0;
        no_answer += status == 0;
    }
    while (now_ms() - t0 < cf->duration * 1e3)
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    /* which of them the server has closed by now (refused or timed out) */
    int held = 0;
    for (int i = 0; i < cf->clients; i++) {
        if (fd[i] < 0)
            continue;
        char b[4096];
        ssize_t r;
        bool open = true;
        while ((r = recv(fd[i], b, sizeof(b), MSG_DONTWAIT)) > 0)
            ; /* what a stream sent meanwhile */
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            open = false;
        held += open;
        close(fd[i]);
    }
    free(fd);
    printf("{\"mode\":\"hold\",\"clients\":%d,\"opened\":%d,\"failed\":%d,\"held\":%d,"
           "\"status_200\":%d,\"status_429\":%d,\"status_other\":%d,\"no_answer\":%d}\n",
           cf->clients, opened, failed, held, st200, st429, st_other, no_answer);
    return 0;
}

/* --mode slowloris: see the header. */
static int slowloris(const struct config *cf)
{
    int fd = dial(cf);
    if (fd < 0) {
        printf("{\"mode\":\"slowloris\",\"connected\":false}\n");
        return 1;
    }
    double t0 = now_ms(), cut = -1;
    int lines = 0;
    const char *first = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    bool alive = send_all(fd, first, strlen(first));
    while (alive && now_ms() - t0 < cf->duration * 1e3) {
        /* a second between lines, watching for the server closing */
        for (int t = 0; t < 20 && alive; t++) {
            char b[256];
            ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                alive = false;
            else
                nanosleep(&(struct timespec){0, 50000000}, NULL);
        }
        char line[64];
        int n = snprintf(line, sizeof(line), "X-Slow-%d: still coming\r\n", lines++);
        alive = alive && send_all(fd, line, (size_t)n);
        if (!alive)
            cut = now_ms() - t0;
    }
    close(fd);
    printf("{\"mode\":\"slowloris\",\"connected\":true,\"lines\":%d,\"cut_ms\":%.0f}\n", lines,
           cut);
    return 0;
}

int main(int argc, char **argv)
{
    struct config cf;
    if (argc == 2 && strcmp(argv[1], "--help") == 0)
        return fputs(usage, stdout), 0;
    if (!parse(argc, argv, &cf)) {
        fprintf(stderr, "kwload: bad arguments\n%s", usage);
        return 2;
    }
    if (cf.mode == M_HOLD)
        return hold(&cf);
    if (cf.mode == M_SLOWLORIS)
        return slowloris(&cf);
    struct shared sh = {.cf = &cf};
    clock_gettime(CLOCK_MONOTONIC, &sh.end);
    sh.end.tv_sec += (time_t)cf.duration;
    sh.end.tv_nsec += (long)((cf.duration - (double)(time_t)cf.duration) * 1e9);
    if (sh.end.tv_nsec >= 1000000000L) {
        sh.end.tv_sec++;
        sh.end.tv_nsec -= 1000000000L;
    }
    struct client *c = calloc((size_t)cf.clients, sizeof(*c));
    pthread_t *th = calloc((size_t)cf.clients, sizeof(*th));
    double t0 = now_ms();
    pthread_attr_t attr; /* a thousand clients: small stacks */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    for (int i = 0; i < cf.clients; i++) {
        c[i] = (struct client){.sh = &sh, .id = i, .fd = -1};
        pthread_create(&th[i], &attr, run, &c[i]);
    }
    pthread_attr_destroy(&attr);
    long ok = 0, errors = 0, other = 0;
    size_t n = 0;
    for (int i = 0; i < cf.clients; i++) {
        pthread_join(th[i], NULL);
        ok += c[i].ok;
        errors += c[i].errors;
        other += c[i].other;
        n += c[i].n;
    }
    double secs = (now_ms() - t0) / 1e3;
    double *all = malloc((n ? n : 1) * sizeof(*all));
    for (int i = 0, k = 0; i < cf.clients; i++) {
        memcpy(all + k, c[i].lat, c[i].n * sizeof(*all));
        k += (int)c[i].n;
        free(c[i].lat);
    }
    qsort(all, n, sizeof(*all), by_value);
#define PCT(p) (n ? all[(size_t)((double)(n - 1) * (p))] : 0.0)
    static const char *const names[] = {"create", "read", "mixed", "hold", "slowloris", "events"};
    printf("{\"mode\":\"%s\",\"clients\":%d,\"requests\":%zu,\"ok\":%ld,\"errors\":%ld,"
           "\"status_other\":%ld,\"seconds\":%.3f,\"rps\":%.0f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
           "\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
           names[cf.mode], cf.clients, n, ok, errors, other, secs, (double)n / secs, PCT(0.5),
           PCT(0.9), PCT(0.99), n ? all[n - 1] : 0.0);
    free(all);
    free(c);
    free(th);
    if (cf.ids_fd >= 0)
        close(cf.ids_fd);
    return errors + other == 0 ? 0 : 1;
}
