// SPDX-License-Identifier: MIT
/* keepword serve: the HTTP API on a database, until SIGTERM or SIGINT. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "cli.h"
#include "demo.h"
#include "engine.h"
#include "fetch.h"
#include "http.h"
#include "kw_crypto.h"
#include "kw_log.h"
#include "logkey.h"
#include "proof.h"
#include "store.h"
#include "tickets.h"
#include "writer.h"

/* The help is this, the server's routes (from its table), then the rest. */
static const char usage_serve[] =
    "usage: keepword serve --db PATH [--listen 127.0.0.1:8080] [--demo]\n"
    "                      [--log-level debug|info|warn|error]\n"
    "                      [--trusted-proxy ADDR[/BITS][,...]]\n"
    "                      [--metrics loopback|token|off] [--secure-cookies]\n"
    "                      [--allow-destination ADDR[/BITS][,...]]\n"
    "                      [--log-key FILE] [--checkpoint-every SECONDS]\n"
    "                      [--max-connections N] [--max-per-address N]\n"
    "                      [--max-streams N] [--max-streams-per-user N]\n"
    "                      [--max-streams-per-address N] [--idle-timeout S]\n"
    "                      [--request-timeout S]\n"
    "                      [--max-attachment SIZE] [--max-ticket-attachments SIZE]\n"
    "                      [--fake-clock FILE]\n"
    "\n"
    "Serve the web UI (at /) and the HTTP API on the database at PATH (created\n"
    "and migrated if needed; create the first admin with `keepword init`).\n"
    "The UI's pages are built in; browsers sign in with a session cookie and a\n"
    "CSRF token. Routes (docs/api.md, and GET /api/v1/openapi.json;\n"
    "/api/v1/stream sends changed tickets as Server-Sent Events):\n";
static const char usage_serve_rest[] =
    "A few I/O threads serve every connection; a write waits for its commit off\n"
    "them (writes are committed in batches by one writer and answered after the\n"
    "commit), and live streams hold no thread. Limits (docs/operations.md):\n"
    "--max-connections (default 4096) open connections in all; --max-per-address\n"
    "(256) from one address (a --trusted-proxy is exempt); --max-streams (1024)\n"
    "live streams in all, --max-streams-per-user (8) and\n"
    "--max-streams-per-address (64; the X-Forwarded-For address behind a trusted\n"
    "proxy): past them a stream is refused with 429. A connection that sends and\n"
    "reads nothing for --idle-timeout seconds (30) is closed, and one whose\n"
    "request line and headers have not all arrived --request-timeout seconds\n"
    "(15) after it opened or after its last reply is cut. The engine fires SLA\n"
    "warnings, breaches and escalation steps at their instants (what fell due\n"
    "while the server was down fires at start) and delivers notifications\n"
    "(webhook, DingTalk, Feishu, WeCom, e-mail).\n"
    "JSON bodies must be sent with Content-Type: application/json (415 if not).\n"
    "Failed logins are throttled per e-mail and client address (5 free, then\n"
    "a wait of 10 s doubling up to 15 min) and per address (100 free, then one\n"
    "a second). --trusted-proxy names the reverse proxies (addresses or networks,\n"
    "comma-separated, repeatable) whose X-Forwarded-For gives the client's\n"
    "address; without it the connection's address is the client's.\n"
    "Session cookies are marked Secure when such a proxy says\n"
    "X-Forwarded-Proto: https, or always with --secure-cookies.\n"
    "Notifications are never sent to loopback, private, link-local, multicast\n"
    "or other special addresses (checked after DNS resolution, on every\n"
    "attempt) unless --allow-destination names them (addresses or networks,\n"
    "comma-separated, repeatable), e.g. --allow-destination 10.1.2.3 for an\n"
    "internal mail relay.\n"
    "GET /metrics serves Prometheus metrics to loopback clients (--metrics\n"
    "loopback, the default), to an admin's token (token), or to nobody (off).\n"
    "The signed Merkle log (docs/receipts.md): --log-key FILE is its private\n"
    "key (default PATH.log-key, made here if missing, mode 0600); a database\n"
    "whose checkpoints another key signed is refused. A checkpoint is signed\n"
    "every --checkpoint-every seconds (default 10) while the log grows, and\n"
    "when a receipt needs one. On PostgreSQL one node of a desk signs on\n"
    "schedule and queues the weekly and monthly reports (an advisory lock;\n"
    "another node takes over within --checkpoint-every seconds, or 5 s for\n"
    "the reports, when it stops or dies).\n"
    "Mailbox passwords are kept sealed (docs/channels.md) under the mail key\n"
    "beside the log key (its path with .log-key replaced by .mail-key, made\n"
    "here if missing, mode 0600); passwords still stored as given are sealed\n"
    "at start. Without that file the mailboxes cannot log in.\n"
    "--max-attachment SIZE caps one uploaded file (default 20MiB) and\n"
    "--max-ticket-attachments SIZE all of a ticket's files (default 200MiB);\n"
    "SIZE is bytes, or a number with KiB, MiB or GiB (1 to 1GiB).\n"
    "--fake-clock FILE (for tests) reads \"now\" from FILE, an instant like\n"
    "2026-03-02T09:00:00+08:00, on every use instead of the system clock.\n"
    "Logs one logfmt line per request, per ticket state change, per firing and\n"
    "per delivery attempt on stderr (failures at level=error); --log-level\n"
    "drops the lines below a level (default info).\n"
    "--demo first loads a demo into a database without it: the L1-L4\n"
    "commitment with escalation chains, six customer organisations (four\n"
    "Chinese, two international), a domestic and an international desk with\n"
    "their leads and rotas, its calendars, and 22 tickets told relative to\n"
    "now (clocks met, at risk, paused and breached); on every start it prints\n"
    "the demo's logins (manager@keepword.demo, li.na@keepword.demo,\n"
    "it@huaxin.demo, ...; password keepword-demo).\n"
    "SIGTERM or SIGINT finishes the requests in flight and exits.\n";

/* The routes, one path a line with its methods: "  GET|POST  /api/v1/orgs". */
static void print_routes(FILE *f)
{
    const char *method, *path, *query, *next_method, *next_path;
    int n, next_n;
    char methods[64] = "";
    for (size_t i = 0; kw_http_route(i, &method, &path, &n, &query); i++) {
        snprintf(methods + strlen(methods), sizeof(methods) - strlen(methods), "%s%s",
                 *methods ? "|" : "", method);
        if (kw_http_route(i + 1, &next_method, &next_path, &next_n, &query) && next_n == n &&
            strncmp(next_path, path, (size_t)n) == 0)
            continue;
        fprintf(f, "  %-12s %.*s\n", methods, n, path);
        methods[0] = '\0';
    }
}

static void serve_help(FILE *f)
{
    fputs(usage_serve, f);
    print_routes(f);
    fputs(usage_serve_rest, f);
}

int kw_cmd_routes(int argc, char **argv)
{
    /* --query: one line per query parameter, "METHOD PATH NAME" */
    bool query = argc > 1 && strcmp(argv[1], "--query") == 0;
    const char *method, *path, *names;
    int n;
    for (size_t i = 0; kw_http_route(i, &method, &path, &n, &names); i++) {
        if (!query)
            printf("%s %.*s\n", method, n, path);
        for (const char *s = names; query && *s && *s != '}';) {
            int len = (int)strcspn(s, ",}");
            printf("%s %.*s %.*s\n", method, n, path, len, s);
            s += len + (s[len] == ',');
        }
    }
    return KW_EXIT_OK;
}

/* The system clock's second, read from CLOCK_REALTIME, not time(NULL):
 * time() reads the kernel's coarse clock, which says the second before
 * for up to a tick (4 ms here) after a second turns, so the engine, woken
 * at the instant a ticket fell due, saw nothing due and slept again: every
 * second's firings began 6-7 ms late instead of under 1 ms (#20). */
static int64_t wall_now(void *ctx)
{
    (void)ctx;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec;
}

/* A clock read from a file (tests move it by rewriting the file). */
struct file_clock {
    const char *path;
    _Atomic int64_t last; /* the last instant read, for a file caught mid-write */
};

/* The instant written in the file; the last one read when the file cannot
 * be read or parsed right now, the system clock before any was read. */
static int64_t file_now(void *ctx)
{
    struct file_clock *fc = ctx;
    char buf[64];
    int64_t t;
    FILE *f = fopen(fc->path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    if (n > 0 && kw_instant_parse(buf, n, &t, NULL) == KW_OK) {
        fc->last = t;
        return t;
    }
    return fc->last ? fc->last : wall_now(NULL);
}

/* The limit a flag sets (--max-streams: limits->max_streams), or NULL. */
static unsigned *limit_flag(struct kw_http_limits *l, const char *flag)
{
    static const struct {
        const char *flag;
        size_t offset;
    } flags[] = {
        {"--max-connections", offsetof(struct kw_http_limits, max_connections)},
        {"--max-per-address", offsetof(struct kw_http_limits, max_per_address)},
        {"--max-streams", offsetof(struct kw_http_limits, max_streams)},
        {"--max-streams-per-user", offsetof(struct kw_http_limits, max_streams_per_user)},
        {"--max-streams-per-address", offsetof(struct kw_http_limits, max_streams_per_address)},
        {"--idle-timeout", offsetof(struct kw_http_limits, idle_timeout_s)},
        {"--request-timeout", offsetof(struct kw_http_limits, request_timeout_s)},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strcmp(flag, flags[i].flag) == 0)
            return (unsigned *)(void *)((char *)l + flags[i].offset);
    return NULL;
}

/* A limit's value: a whole number from 1 to 1,000,000 (the timeouts: to 86,400 s). */
static bool limit_parse(const char *flag, const char *v, unsigned *out)
{
    bool secs = strstr(flag, "timeout") != NULL;
    unsigned long max = secs ? 86400 : 1000000;
    char *end = NULL;
    errno = 0;
    unsigned long n = *v >= '0' && *v <= '9' ? strtoul(v, &end, 10) : 0;
    if (!end || *end || errno || n < 1 || n > max) {
        kw_cli_usage("", "%s: \"%s\" is not a whole number from 1 to %lu%s", flag, v, max,
                     secs ? " (seconds)" : "");
        return false;
    }
    *out = (unsigned)n;
    return true;
}

/* ---- the composition root ---- */

/* Everything `keepword serve` runs, wired here and nowhere below: the
 * writer (store), the compiled commitments (app), the engine and the HTTP
 * server, which each get what they use and own none of the others. */
struct serving {
    struct kw_clocks *clocks;
    struct kw_writer *w;
    /* PostgreSQL: the engine's writer, a connection of its own, so that its
     * firing units run beside the requests' instead of queued behind them
     * (the log's lock is held only for a transaction's final step); NULL
     * on SQLite, where one connection writes at a time anyway */
    struct kw_writer *engine_w;
    /* PostgreSQL: the engine's further writers, so that several of its
     * firing units run at once (kw_engine_fire_on); stopped after it */
    struct kw_writer *fire_w[KW_ENGINE_PG_WRITERS];
    struct kw_engine *engine;
    struct kw_mailin_poller *mailin; /* fetching the mailboxes */
    struct kw_http *http;
    struct kw_sla sla;                         /* scratch of the start-up projection's units */
    struct kw_signer signer;                   /* the log's key */
    unsigned char mail_key[KW_SEAL_KEY_BYTES]; /* seals mailbox passwords */
    int checkpoint_every;                      /* seconds between checkpoints while the log grows */
    struct kw_now clock;
    const struct kw_log *log;
    pthread_t signer_thread;
    bool signing;
    struct kw_store *singles; /* PostgreSQL: the signer's singleton lock, or NULL */
    bool signer_held;         /* this node signs the checkpoints (logged when it changes) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

/* Sign a checkpoint every checkpoint_every seconds while the log grows. */
static void *signer_run(void *arg)
{
    struct serving *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->checkpoint_every;
        pthread_cond_timedwait(&s->cv, &s->mu, &until);
        if (s->stopping)
            break;
        struct kw_http *http = s->http;
        pthread_mutex_unlock(&s->mu);
        struct kw_proof_sign ps = {.signer = &s->signer, .now = s->clock.now(s->clock.ctx)};
        struct kw_err err = {0};
        /* several nodes: only the singleton's holder signs on schedule (a
         * receipt that needs a checkpoint still signs one on any node, under
         * the log's lock, kw_proof_sign_unit) */
        bool held = true;
        if (s->singles &&
            kw_store_singleton(s->singles, KW_STORE_SINGLETON_SIGNER, &held, &err) != KW_OK)
            KW_LOG(s->log, KW_LOG_ERROR, "mod=log event=signer.unlocked msg=\"%s\"", err.msg);
        if (held != s->signer_held && s->singles)
            KW_LOG(s->log, KW_LOG_INFO, "mod=log event=%s", held ? "signer.taken" : "signer.lost");
        s->signer_held = held;
        /* alone: its transaction holds the log's lock from its start, so no
         * other unit of its batch may wait for a row there (a transaction
         * at its final step, kwp_log_settle, may hold that row and wait
         * for the lock) */
        if (held && kw_writer_run_alone(s->w, kw_proof_sign_unit, &ps, &err) != KW_OK)
            KW_LOG(s->log, KW_LOG_ERROR, "mod=log event=checkpoint.failed msg=\"%s\"", err.msg);
        else if (held && ps.signed_now)
            KW_LOG(s->log, KW_LOG_DEBUG, "mod=log event=checkpoint.signed size=%llu",
                   (unsigned long long)ps.size);
        /* the receipts due at closure, against the checkpoint just signed
         * (docs/receipts.md) */
        size_t issued = 0;
        if (held && kw_http_issue_receipts(http, ps.now, &issued, &err) != KW_OK)
            KW_LOG(s->log, KW_LOG_ERROR, "mod=log event=receipt.failed msg=\"%s\"", err.msg);
        else if (issued)
            KW_LOG(s->log, KW_LOG_INFO, "mod=log event=receipt.issued count=%zu", issued);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void serving_stop(struct serving *s)
{
    if (s->signing) { /* first: it issues receipts through the server */
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->signer_thread, NULL);
        s->signing = false;
    }
    kw_http_stop(s->http);      /* no more requests */
    kw_store_close(s->singles); /* the singleton is free for another node */
    s->singles = NULL;
    kw_mailin_stop(s->mailin);
    kw_engine_stop(s->engine);
    for (size_t i = 0; i < KW_ENGINE_PG_WRITERS; i++)
        kw_writer_stop(s->fire_w[i]);
    kw_writer_stop(s->engine_w);
    kw_writer_stop(s->w); /* what is queued commits */
    kw_clocks_free(s->clocks);
    kw_sla_release(&s->sla);
}

/* Project the clocks of every ticket whose projection is older than its
 * last event (a database written by an older build or an importer). */
static enum kw_code catch_up(struct serving *s, const char *db, int64_t now,
                             const struct kw_log *log, struct kw_err *err)
{
    struct kw_store *reader = kw_store_open(db, err);
    if (!reader)
        return err->code;
    size_t projected = 0;
    enum kw_code rc = kw_app_catch_up(s->w, s->clocks, &s->sla, reader, now, &projected, err);
    kw_store_close(reader);
    if (rc == KW_OK && projected)
        KW_LOG(log, KW_LOG_INFO, "mod=tickets event=tickets.projected count=%zu", projected);
    return rc;
}

/* A size: bytes, or a number with KiB, MiB or GiB, from 1 to 1 GiB. */
static bool size_of(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!end || end == s || v < 1)
        return false;
    int shift = strcmp(end, "") == 0      ? 0
                : strcmp(end, "KiB") == 0 ? 10
                : strcmp(end, "MiB") == 0 ? 20
                : strcmp(end, "GiB") == 0 ? 30
                                          : -1;
    if (shift < 0 || v > (1LL << 30) >> shift)
        return false;
    *out = (int64_t)v << shift;
    return true;
}

/* The limits on attachments (0: the defaults). */
struct upload_limits {
    int64_t file, ticket;
};

/* Mailboxes whose passwords are still stored as given (before the
 * server sealed them: docs/channels.md). */
struct plain_rows {
    int64_t id[64];
    size_t n;
};

static bool plain_row(const struct kw_mailbox *m, void *ctx)
{
    struct plain_rows *r = ctx;
    if (!kw_sealed(m->password) && r->n < 64)
        r->id[r->n++] = m->id;
    return true;
}

struct seal_row {
    const unsigned char *key;
    int64_t id;
    bool found;
    char sealed[KW_SEAL_BUF(255)];
    struct kw_err err;
};

static bool seal_row(const struct kw_mailbox *m, void *ctx)
{
    struct seal_row *r = ctx;
    if (m->id != r->id)
        return true;
    r->found = !kw_sealed(m->password) &&
               kw_seal(r->key, m->password, r->sealed, sizeof(r->sealed), &r->err) == KW_OK;
    return false;
}

/* At start: seal every mailbox password still stored as given, each in
 * its own write, before anything reads them. */
static enum kw_code seal_passwords(struct kw_store *st, const unsigned char *key,
                                   struct kw_err *err)
{
    struct plain_rows rows = {.n = 0};
    enum kw_code rc;
    do {
        rows.n = 0;
        rc = kw_store_mailboxes(st, false, plain_row, &rows, err);
        for (size_t i = 0; rc == KW_OK && i < rows.n; i++) {
            struct seal_row r = {.key = key, .id = rows.id[i]};
            rc = kw_store_mailboxes(st, false, seal_row, &r, err);
            if (rc == KW_OK && r.err.code != KW_OK)
                rc =
                    kw_err_set(err, r.err.code, "", "mailbox %lld: %s", (long long)r.id, r.err.msg);
            if (rc == KW_OK && r.found)
                rc = kw_store_mailbox_password(st, r.id, r.sealed, err);
            kw_wipe(r.sealed, sizeof(r.sealed));
        }
        kw_store_end_read(st);
    } while (rc == KW_OK && rows.n == 64);
    return rc;
}

static enum kw_code serving_start(struct serving *s, const char *listen, const char *db,
                                  const char *proxies, const char *metrics, bool secure,
                                  const struct kw_http_limits *limits, const struct kw_nets *allow,
                                  const struct upload_limits *lim, struct kw_now clock,
                                  const struct kw_log *log, struct kw_err *err)
{
    kw_sla_init(&s->sla);
    s->clocks = kw_clocks_new(err);
    s->w = s->clocks ? kw_writer_start(db, err) : NULL;
    if (!s->w || catch_up(s, db, clock.now(clock.ctx), log, err) != KW_OK)
        return err->code;
    if (kw_store_location_is_pg(db) && !(s->engine_w = kw_writer_start(db, err)))
        return err->code;
    s->engine = kw_engine_start(db, s->engine_w ? s->engine_w : s->w, s->clocks, clock, log, allow,
                                s->mail_key, err);
    if (!s->engine)
        return err->code;
    for (size_t i = 1; s->engine_w && i < KW_ENGINE_PG_WRITERS; i++)
        if (!(s->fire_w[i] = kw_writer_start(db, err)) ||
            kw_engine_fire_on(s->engine, s->fire_w[i], err) != KW_OK)
            return err->code;
    s->mailin =
        kw_mailin_start(db, s->w, s->clocks, s->engine, clock, log, allow, s->mail_key, err);
    if (!s->mailin)
        return err->code;
    s->clock = clock;
    s->log = log;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (kw_store_location_is_pg(db) && !(s->singles = kw_store_open(db, err)))
        return err->code;
    if (pthread_create(&s->signer_thread, NULL, signer_run, s) != 0)
        return kw_err_set(err, KW_NOMEM, "", "cannot start the log's signer");
    s->signing = true;
    struct kw_http_deps deps = {.db = db,
                                .w = s->w,
                                .clocks = s->clocks,
                                .engine = s->engine,
                                .clock = clock,
                                .log = log,
                                .trusted_proxies = proxies,
                                .metrics = metrics,
                                .secure_cookies = secure,
                                .signer = &s->signer,
                                .allow = allow,
                                .mail_key = s->mail_key,
                                .limits = *limits,
                                .max_attachment = (size_t)lim->file,
                                .max_ticket_attachments = lim->ticket};
    struct kw_http *h = kw_http_start(listen, &deps, err);
    pthread_mutex_lock(&s->mu); /* the signer issues receipts through it */
    s->http = h;
    pthread_mutex_unlock(&s->mu);
    return h ? KW_OK : err->code;
}

int kw_cmd_serve(int argc, char **argv)
{
    if (kw_cli_wants_help(argc, argv))
        return serve_help(stdout), KW_EXIT_OK;
    const char *db = NULL, *listen = "127.0.0.1:8080";
    const char *fake = NULL;
    char proxies[1024] = "";
    const char *metrics = NULL;
    bool secure = false;
    bool demo = false;
    struct kw_nets allow = {0};
    const char *keyfile = NULL;
    long every = 10;
    struct upload_limits lim = {0};
    struct kw_log log = {stderr, KW_LOG_INFO};
    struct kw_http_limits limits = KW_HTTP_LIMITS_DEFAULT;
    for (int i = 1; i < argc; i++) {
        unsigned *limit = limit_flag(&limits, argv[i]);
        if (limit && i + 1 < argc) {
            if (!limit_parse(argv[i], argv[i + 1], limit)) {
                serve_help(stderr);
                return KW_EXIT_USAGE;
            }
            i++;
        } else if (strcmp(argv[i], "--demo") == 0)
            demo = true;
        else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            db = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--fake-clock") == 0 && i + 1 < argc)
            fake = argv[++i];
        else if (strcmp(argv[i], "--secure-cookies") == 0)
            secure = true;
        else if (strcmp(argv[i], "--metrics") == 0 && i + 1 < argc)
            metrics = argv[++i];
        else if (strcmp(argv[i], "--log-key") == 0 && i + 1 < argc)
            keyfile = argv[++i];
        else if (strcmp(argv[i], "--checkpoint-every") == 0 && i + 1 < argc) {
            char *end;
            every = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || every < 1 || every > 86400) {
                kw_cli_usage("", "--checkpoint-every: \"%s\" is not 1 to 86400 seconds", argv[i]);
                return KW_EXIT_USAGE;
            }
        } else if ((strcmp(argv[i], "--max-attachment") == 0 ||
                    strcmp(argv[i], "--max-ticket-attachments") == 0) &&
                   i + 1 < argc) {
            bool file = strcmp(argv[i], "--max-attachment") == 0;
            if (!size_of(argv[i + 1], file ? &lim.file : &lim.ticket)) {
                kw_cli_usage("", "%s: \"%s\" is not a size (bytes, or like 20MiB; 1 to 1GiB)",
                             argv[i], argv[i + 1]);
                return KW_EXIT_USAGE;
            }
            i++;
        } else if (strcmp(argv[i], "--trusted-proxy") == 0 && i + 1 < argc) {
            size_t used = strlen(proxies);
            if (used + strlen(argv[i + 1]) + 2 > sizeof(proxies)) {
                kw_cli_usage("", "--trusted-proxy: too many (at most %zu characters in all)",
                             sizeof(proxies) - 2);
                return KW_EXIT_USAGE;
            }
            snprintf(proxies + used, sizeof(proxies) - used, "%s%s", used ? "," : "", argv[++i]);
        } else if (strcmp(argv[i], "--allow-destination") == 0 && i + 1 < argc) {
            struct kw_err aerr = {0};
            if (kw_nets_parse(argv[++i], &allow, &aerr) != KW_OK) {
                kw_cli_usage("", "--allow-destination: %s", aerr.msg);
                return KW_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
            if (!kw_log_level_parse(argv[++i], &log.min)) {
                kw_cli_usage("", "--log-level: \"%s\" is not debug, info, warn or error", argv[i]);
                serve_help(stderr);
                return KW_EXIT_USAGE;
            }
        } else {
            kw_cli_usage("", "unexpected argument \"%s\"", argv[i]);
            serve_help(stderr);
            return KW_EXIT_USAGE;
        }
    }
    if (!db) {
        kw_cli_usage("", "--db PATH is required");
        serve_help(stderr);
        return KW_EXIT_USAGE;
    }
    /* handler threads, I/O threads: without a cap glibc gives each its own
     * malloc arena, and memory freed in one is not reused by another */
    mallopt(M_ARENA_MAX, 4);
    /* Block the stop signals before the server thread starts, so that it
     * inherits the mask and only sigwait below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(db, &err);
    if (!st)
        return kw_cli_fail(NULL, &err);
    struct kw_now clock = {wall_now, NULL};
    struct file_clock fc = {fake, 0};
    if (fake)
        clock = (struct kw_now){file_now, &fc};
    bool loaded = false;
    if (demo && kw_demo_load(st, clock.now(clock.ctx), &loaded, &err) != KW_OK) {
        kw_store_close(st);
        return kw_cli_fail("--demo", &err);
    }
    if (loaded)
        fprintf(stderr, "keepword: demo loaded\n");
    if (demo && kw_demo_present(st)) /* on every start, not only the first */
        kw_demo_logins(stderr);
    int schema = kw_store_schema_version(st);
    struct serving sv = {0};
    char keypath[1024];
    bool key_made = false;
    kw_cli_log_key_path(db, keyfile, keypath, sizeof(keypath));
    if (kw_cli_log_key(keypath, true, &sv.signer, &key_made, &err) != KW_OK ||
        kw_proof_check_key(st, &sv.signer, &err) != KW_OK) {
        kw_store_close(st);
        return kw_cli_fail(NULL, &err);
    }
    if (key_made)
        fprintf(stderr, "keepword: log key made: %s\n", keypath);
    char mailpath[1040];
    kw_cli_mail_key_path(keypath, mailpath, sizeof(mailpath));
    if (kw_cli_mail_key(mailpath, true, sv.mail_key, &key_made, &err) != KW_OK ||
        seal_passwords(st, sv.mail_key, &err) != KW_OK) {
        kw_store_close(st);
        return kw_cli_fail(NULL, &err);
    }
    if (key_made)
        fprintf(stderr, "keepword: mail key made: %s\n", mailpath);
    sv.checkpoint_every = (int)every;
    kw_store_close(st); /* the server opens its own handles */
    if (serving_start(&sv, listen, db, proxies, metrics, secure, &limits, &allow, &lim, clock, &log,
                      &err) != KW_OK) {
        serving_stop(&sv);
        return kw_cli_fail(NULL, &err);
    }
    char host[64];
    snprintf(host, sizeof(host), "%.*s", (int)(strrchr(listen, ':') - listen), listen);
    fprintf(stderr, "keepword: serving http://%s:%u on %s (schema %d)\n", host,
            kw_http_port(sv.http), db, schema);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "keepword: %s received, stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    struct kw_writer_stats ws;
    kw_writer_stats(sv.w, &ws);
    serving_stop(&sv);
    fprintf(stderr,
            "keepword: stopped (%llu writes in %llu commits, largest %llu; writer busy %.3f s "
            "running writes, %.3f s committing)\n",
            (unsigned long long)ws.units, (unsigned long long)ws.batches,
            (unsigned long long)ws.largest, (double)ws.work_ns / 1e9, (double)ws.commit_ns / 1e9);
    return KW_EXIT_OK;
}
