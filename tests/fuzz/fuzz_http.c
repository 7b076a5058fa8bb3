// SPDX-License-Identifier: MIT
/* libFuzzer: HTTP requests end to end. The whole server (writer, compiled
 * commitments, engine, HTTP) runs once on a database with the demo loaded
 * (in /dev/shm when there is one); each input becomes one request that is
 * handed to the server over an in-process socket pair (MHD_add_connection:
 * no network), through libmicrohttpd's parsing, the route table, the
 * authentication, every handler's decoding and validation, and the store.
 *
 * Input: the first byte picks the caller (nobody, the demo's admin-level
 * manager, an agent, a customer: an API token each); then a line
 * "METHOD TARGET", header lines "Name: value" up to an empty line, and the
 * body. The request is made well-formed around them (HTTP/1.1, Host,
 * Connection: close, Content-Length, and Content-Type: application/json
 * unless a header gives one).
 *
 * Properties: every request gets an HTTP answer; none is a 500 (a handler's
 * or the store's failure) or a 502-504; a JSON answer parses; a problem's
 * "status" is the answer's status.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "clocks.h"
#include "demo.h"
#include "engine.h"
#include "http.h"
#include "internal.h"
#include "kw_buf.h"
#include "store.h"
#include "writer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fuzzer makes endpoints with any URL, and the engine delivers to
 * them: not even a name server may be asked about one. Only addresses
 * written as numbers resolve in this program (the server's own listening
 * address is one); a delivery to a name fails as if the name were not
 * there. */
int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
    static int (*real)(const char *restrict, const char *restrict, const struct addrinfo *restrict,
                       struct addrinfo **restrict);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    struct addrinfo numeric = {0};
    if (hints)
        numeric = *hints;
    numeric.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
    return real ? real(node, service, &numeric, res) : EAI_FAIL;
}

/* 2026-03-02T09:00:00+08:00: the demo is told relative to it */
#define NOW 1772413200

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return NOW;
}

static struct {
    struct kw_clocks *clocks;
    struct kw_writer *w;
    struct kw_engine *engine;
    struct kw_http *http;
    char token[3][KW_TOKEN_BUF]; /* manager, agent, customer */
} S;

static void die(const char *what, const struct kw_err *err)
{
    fprintf(stderr, "fuzz_http: %s: %s\n", what, err ? err->msg : strerror(errno));
    abort();
}

static void token_for(struct kw_store *st, const char *email, char *token)
{
    struct kw_err err = {0};
    int64_t uid = 0;
    char hash[KW_PASSWORD_HASH_BUF];
    if (kw_store_user_password(st, email, &uid, hash, &err) != KW_OK ||
        kw_auth_token_issue(st, uid, "api", "fuzz", NOW, KW_STORE_NO_TIME, token, NULL, &err) !=
            KW_OK)
        die(email, &err);
}

/* The desk's directory, removed with its files when the fuzzer exits
 * (libFuzzer ends its runs with exit()), so that no run leaves it behind. */
static char dir[64];

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char path[sizeof(dir) + 256 + 2];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char db[96];
    snprintf(dir, sizeof(dir), "%s",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm/kwfuzz.XXXXXX" : "/tmp/kwfuzz.XXXXXX");
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    atexit(remove_dir);
    snprintf(db, sizeof(db), "%s/kw.db", dir);
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(db, &err);
    bool loaded = false;
    if (!st || kw_demo_load(st, NOW, &loaded, &err) != KW_OK)
        die("the demo", &err);
    token_for(st, "manager@keepword.demo", S.token[0]);
    token_for(st, "li.na@keepword.demo", S.token[1]);
    token_for(st, "it@huaxin.demo", S.token[2]);
    kw_store_close(st);
    struct kw_now clock = {fixed_now, NULL};
    S.clocks = kw_clocks_new(&err);
    S.w = S.clocks ? kw_writer_start(db, &err) : NULL;
    S.engine = S.w ? kw_engine_start(db, S.w, S.clocks, clock, NULL, NULL, NULL, &err) : NULL;
    struct kw_http_deps deps = {
        .db = db, .w = S.w, .clocks = S.clocks, .engine = S.engine, .clock = clock};
    S.http = S.engine ? kw_http_start("127.0.0.1:0", &deps, &err) : NULL;
    if (!S.http)
        die("the server", &err);
    return 0;
}

/* Copy s[0..n) into b without CR, LF or NUL (they would end the line). */
static void add_line_text(struct kw_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\r' && s[i] != '\n' && s[i] != '\0')
            kw_buf_add(b, &s[i], 1);
}

/* The request for this input; false when there is none to make. */
static bool build(const uint8_t *data, size_t size, struct kw_buf *req)
{
    if (size < 2)
        return false;
    unsigned who = data[0] % 4;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
        eol = end;
    const char *sp = memchr(p, ' ', (size_t)(eol - p));
    if (!sp || sp == p || sp - p > 16)
        return false;
    for (const char *c = p; c < sp; c++) /* a method is a token: letters here */
        if (*c < 'A' || *c > 'Z')
            return false;
    kw_buf_add(req, p, (size_t)(sp - p));
    kw_buf_adds(req, " ");
    const char *target = sp + 1;
    if (target == eol || *target != '/')
        kw_buf_adds(req, "/");
    for (const char *c = target; c < eol; c++) /* printable ASCII, the rest encoded */
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            kw_buf_printf(req, "%%%02X", (unsigned char)*c);
        else
            kw_buf_add(req, c, 1);
    kw_buf_adds(req, " HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n");
    if (who)
        kw_buf_printf(req, "Authorization: Bearer %s\r\n", S.token[who - 1]);
    bool typed = false;
    p = eol < end ? eol + 1 : end;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if (eol == p) { /* the empty line: the body follows */
            p++;
            break;
        }
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        for (const char *c = p; colon && c < colon; c++) /* a header's name is a token */
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || *c == '-'))
                colon = NULL;
        bool length = (size_t)(eol - p) >= 14 && strncasecmp(p, "content-length", 14) == 0;
        bool framing = (size_t)(eol - p) >= 17 && strncasecmp(p, "transfer-encoding", 17) == 0;
        if (colon && colon > p && !length && !framing) {
            typed = typed || ((size_t)(eol - p) >= 12 && strncasecmp(p, "content-type", 12) == 0);
            add_line_text(req, p, (size_t)(eol - p));
            kw_buf_adds(req, "\r\n");
        }
        p = eol < end ? eol + 1 : end;
    }
    if (!typed)
        kw_buf_adds(req, "Content-Type: application/json\r\n");
    kw_buf_printf(req, "Content-Length: %zu\r\n\r\n", (size_t)(end - p));
    kw_buf_add(req, p, (size_t)(end - p));
    return !req->failed;
}

/* Send req on a new connection to the server; the whole answer into ans. */
static void exchange(const struct kw_buf *req, struct kw_buf *ans)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair", NULL);
    /* a loopback client, as far as the server can tell */
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (MHD_add_connection(S.http->d, sv[1], (const struct sockaddr *)&peer, sizeof(peer)) !=
        MHD_YES)
        die("MHD_add_connection", NULL);
    size_t off = 0;
    while (off < req->len) {
        ssize_t n = send(sv[0], req->p + off, req->len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server closed early: what it said is still read */
        off += (size_t)n;
    }
    shutdown(sv[0], SHUT_WR);
    char buf[16384];
    for (;;) {
        struct pollfd pf = {.fd = sv[0], .events = POLLIN};
        /* a minute: on a machine loaded to the hilt a commit's fsync has
         * taken over 10 s, and no answer at all is what this looks for */
        if (poll(&pf, 1, 60000) <= 0)
            break;
        ssize_t n = recv(sv[0], buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        kw_buf_add(ans, buf, (size_t)n);
        if (ans->p && strstr(ans->p, "text/event-stream"))
            break; /* a live stream does not end: its head is the answer */
    }
    close(sv[0]);
}

/* The number of query parameters of the target (libmicrohttpd answers
 * none past its memory for them: docs/operations.md). */
static size_t params(const struct kw_buf *req)
{
    size_t n = 0;
    for (size_t i = 0; i < req->len && req->p[i] != '\r'; i++)
        n += req->p[i] == '&' || req->p[i] == '?';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kw_buf req = {.max = 1 << 20}, ans = {.max = 8 << 20};
    if (!build(data, size, &req)) {
        kw_buf_release(&req);
        return 0;
    }
    exchange(&req, &ans);
    unsigned status = 0;
    if (!ans.p || sscanf(ans.p, "HTTP/1.1 %u ", &status) != 1) {
        if (params(&req) < 400) {
            fprintf(stderr, "no answer to:\n%.*s\n", (int)(req.len > 2000 ? 2000 : req.len), req.p);
            abort();
        }
    } else if (status == 500 || (status >= 502 && status <= 504)) {
        fprintf(stderr, "%u for:\n%.*s\nanswer:\n%.*s\n", status,
                (int)(req.len > 2000 ? 2000 : req.len), req.p,
                (int)(ans.len > 2000 ? 2000 : ans.len), ans.p);
        abort();
    } else {
        const char *body = strstr(ans.p, "\r\n\r\n");
        bool json = strstr(ans.p, "Content-Type: application/json") ||
                    strstr(ans.p, "Content-Type: application/problem+json");
        bool chunked = strstr(ans.p, "Transfer-Encoding: chunked") != NULL;
        if (body && json && !chunked && body[4]) {
            json_t *j = json_loads(body + 4, 0, NULL);
            json_t *st = json_object_get(j, "status");
            if (!j || (strstr(ans.p, "problem+json") && st &&
                       json_integer_value(st) != (json_int_t)status)) {
                fprintf(stderr, "a bad JSON answer:\n%.*s\n",
                        (int)(ans.len > 2000 ? 2000 : ans.len), ans.p);
                abort();
            }
            json_decref(j);
        }
    }
    kw_buf_release(&req);
    kw_buf_release(&ans);
    return 0;
}
