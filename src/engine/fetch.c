// SPDX-License-Identifier: MIT
/* Fetching the mailboxes over IMAP with libcurl (fetch.h). */
#include "fetch.h"

#include <curl/curl.h>
#include <magic.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "kw_buf.h"
#include "kw_crypto.h"
#include "kw_log.h"
#include "kw_text.h"
#include "mail.h"
#include "mailin.h"
#include "sla.h"
#include "store.h"

#define PER_PASS 50 /* mails of one mailbox per pass: the others wait for the next */
#define MAX_BOXES 64

struct watcher;

struct kw_mailin_poller {
    char db[512];
    struct kw_writer *w;
    struct kw_clocks *clocks;
    struct kw_engine *engine;
    struct kw_now clock;
    const struct kw_log *log;
    const struct kw_nets *allow;
    unsigned char key[KW_SEAL_KEY_BYTES]; /* opens the sealed passwords */
    bool has_key;
    struct kw_sla sla; /* the units' scratch (they run on the writer, one at a time) */
    magic_t magic;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kick; /* kick: a watcher saw new mail, do not wait */
    struct due {
        int64_t id, next; /* when mailbox id is polled next (UTC seconds); under mu */
    } due[MAX_BOXES];
    struct watcher *watch[MAX_BOXES]; /* IDLE connections; the poller thread's own */
};

/* ---- the network: the same guard as deliveries (deliver.c) ---- */

struct guard {
    const struct kw_nets *allow;
    char refused[96];
};

static curl_socket_t open_guarded(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct guard *g = ctx;
    (void)purpose;
    const char *kind = kw_addr_special(&a->addr);
    if (kind && !kw_nets_has(g->allow, &a->addr)) {
        char text[64];
        kw_addr_text(&a->addr, text, sizeof(text));
        snprintf(g->refused, sizeof(g->refused), "%s (%s)", text, kind);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    struct kw_buf *b = ctx;
    kw_buf_add(b, p, size * n);
    return b->failed ? 0 : size * n; /* past the buffer's max: stop the transfer */
}

/* One IMAP command on url/folder (path: "INBOX", "INBOX;UID=5"), custom
 * request cmd (NULL: a FETCH of the path), the answer into out (at most
 * out->max bytes). KW_IO with why. */
static enum kw_code imap_code(const char *url, const char *user, const char *password,
                              const char *path, const char *cmd, const struct kw_nets *allow,
                              struct kw_buf *out, long timeout_s, CURLcode *code, bool *refused_out,
                              struct kw_err *err)
{
    CURL *c = curl_easy_init();
    if (!c)
        return kw_err_set(err, KW_NOMEM, "", "cannot start a transfer");
    char *folder = curl_easy_escape(c, path, 0);
    char full[1024];
    if (folder) { /* keep ";UID=" readable to libcurl */
        char *semi = strstr(folder, "%3BUID%3D");
        if (semi) {
            memcpy(semi, ";UID=", 5);
            memmove(semi + 5, semi + 9, strlen(semi + 9) + 1);
        }
    }
    snprintf(full, sizeof(full), "%s%s%s", url, url[strlen(url) - 1] == '/' ? "" : "/",
             folder ? folder : "");
    curl_free(folder);
    struct guard g = {.allow = allow};
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_USERNAME, user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, password);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &g);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (cmd)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cmd);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (code)
        *code = rc;
    if (refused_out)
        *refused_out = g.refused[0] != '\0';
    if (rc == CURLE_WRITE_ERROR && out->failed)
        return KW_TOO_BIG;
    if (rc == CURLE_OK)
        return KW_OK;
    if (g.refused[0])
        return kw_err_set(err, KW_IO, "",
                          "refused to connect to %s: loopback, private, link-local and "
                          "multicast addresses need serve --allow-destination",
                          g.refused);
    return kw_err_set(err, KW_IO, "", "%s: %s", url, curl_easy_strerror(rc));
}

static enum kw_code imap(const char *url, const char *user, const char *password, const char *path,
                         const char *cmd, const struct kw_nets *allow, struct kw_buf *out,
                         struct kw_err *err)
{
    return imap_code(url, user, password, path, cmd, allow, out, 120, NULL, NULL, err);
}

/* What a failed transfer means to a manager: curl's code in words. */
static const char *outcome_of(CURLcode rc, bool refused)
{
    if (refused)
        return "refused";
    switch (rc) {
    case CURLE_LOGIN_DENIED:
        return "login_failed";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return "tls_error";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return "connect_failed";
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    default:
        return "error";
    }
}

enum kw_code kw_mailin_probe(const char *url, const char *user, const char *password,
                             const char *folder, const struct kw_nets *allow,
                             struct kw_mailin_probe_out *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *out = (struct kw_mailin_probe_out){.outcome = "error"};
    struct kw_buf b = {.max = 65536};
    char cmd[300];
    CURLcode code = CURLE_OK;
    bool refused = false;
    snprintf(cmd, sizeof(cmd), "EXAMINE \"%s\"", folder);
    /* a manager waits for the answer: 20 s, not a fetch's 120 */
    enum kw_code rc = imap_code(url, user, password, "", cmd, allow, &b, 20, &code, &refused, err);
    if (rc == KW_OK && (!b.p || !strstr(b.p, "UIDVALIDITY")))
        rc = kw_err_set(err, KW_IO, "", "%s: no folder \"%s\" there", url, folder);
    if (rc != KW_OK) {
        /* a command the server answered NO: after the login, so the folder */
        out->outcome = code == CURLE_OK || code == CURLE_QUOTE_ERROR ? "folder_missing"
                                                                     : outcome_of(code, refused);
        if (code == CURLE_QUOTE_ERROR)
            kw_err_set(err, KW_IO, "", "%s: no folder \"%s\" there", url, folder);
        kw_buf_release(&b);
        return rc;
    }
    const char *e = strstr(b.p, " EXISTS");
    const char *star = e;
    while (star && star > b.p && star[-1] != '*')
        star--;
    out->messages = star && star > b.p ? strtoll(star, NULL, 10) : 0;
    out->outcome = "ok";
    b.len = 0;
    struct kw_err e2 = {0};
    if (imap(url, user, password, "", "CAPABILITY", allow, &b, &e2) == KW_OK && b.p)
        out->idle = strstr(b.p, " IDLE") != NULL;
    kw_buf_release(&b);
    return KW_OK;
}

/* ---- one mailbox ---- */

/* A mailbox copied out of the reader's row. */
struct box {
    struct kw_mailbox m;
    char name[128], url[512], user[256], password[256], folder[256], category[48], level[48],
        unknown[16], sealed[256]; /* sealed: the password as stored */
};

static bool copy_box(const struct kw_mailbox *m, void *ctx)
{
    struct box **list = ctx;
    size_t n = 0;
    while ((*list)[n].m.id)
        n++;
    if (n >= MAX_BOXES - 1)
        return false;
    struct box *b = &(*list)[n];
    b->m = *m;
    snprintf(b->name, sizeof(b->name), "%s", m->name);
    snprintf(b->url, sizeof(b->url), "%s", m->url);
    snprintf(b->user, sizeof(b->user), "%s", m->username);
    snprintf(b->password, sizeof(b->password), "%s", m->password);
    snprintf(b->sealed, sizeof(b->sealed), "%s", m->password);
    snprintf(b->folder, sizeof(b->folder), "%s", m->folder);
    snprintf(b->category, sizeof(b->category), "%s", m->category ? m->category : "");
    snprintf(b->level, sizeof(b->level), "%s", m->level);
    snprintf(b->unknown, sizeof(b->unknown), "%s", m->unknown);
    return true;
}

struct take_unit {
    struct kw_mailin_poller *p;
    const struct box *b;
    const struct kw_mail *mail;
    size_t raw_bytes;
    int64_t uid, uidvalidity, now;
    const char *const *types;
    struct kw_mailin_out out;
};

static enum kw_code take_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct take_unit *t = ctx;
    struct kw_unit u = {.st = st,
                        .clocks = t->p->clocks,
                        .sla = &t->p->sla,
                        .now = t->now,
                        .fire_at = KW_STORE_NO_TIME};
    struct kw_mailin in = {
        .id = t->b->m.id,
        .acting_user = t->b->m.acting_user,
        .org_id = t->b->m.org_id,
        .team_id = t->b->m.team_id,
        .max_bytes = t->b->m.max_bytes,
        .per_sender_hour = t->b->m.per_sender_hour,
        .name = t->b->name,
        .category = t->b->category[0] ? t->b->category : NULL,
        .level = t->b->level,
        .refuse_unknown = strcmp(t->b->unknown, "refuse") == 0,
    };
    enum kw_code rc =
        kw_mailin_apply(&u, &in, t->mail, t->raw_bytes, t->uid, t->types, &t->out, err);
    if (rc == KW_OK)
        rc = kw_store_mailbox_cursor(st, in.id, t->uidvalidity, t->uid, NULL, err);
    return rc;
}

/* Whether the desk refused this mail (kept from blocking the mails after
 * it): not for a failure that passes (storage, memory), nor for a mailbox
 * whose manager may no longer act (KW_FORBIDDEN: no mail could be taken),
 * which hold the mailbox's mail until the next poll. */
static bool refused(enum kw_code rc)
{
    return rc == KW_INVALID || rc == KW_NOT_FOUND || rc == KW_CONFLICT || rc == KW_TOO_BIG;
}

/* A refused mail: recorded ("failed: why", listed with the mailbox as its
 * failed mail), the cursor past it. */
struct fail_unit {
    const struct box *b;
    const struct kw_mail *mail;
    int64_t uid, uidvalidity, now;
    const char *why;
    char outcome[96];
};

static enum kw_code fail_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct fail_unit *f = ctx;
    char idbuf[64];
    const char *mid = f->mail->message_id;
    if (!mid) { /* as kw_mailin_apply names it */
        snprintf(idbuf, sizeof(idbuf), "uid:%lld@mailbox-%lld", (long long)f->uid,
                 (long long)f->b->m.id);
        mid = idbuf;
    }
    size_t n = kw_utf8_cut(f->why, strlen(f->why), sizeof(f->outcome) - 9);
    snprintf(f->outcome, sizeof(f->outcome), "failed: %.*s", (int)n, f->why);
    enum kw_code rc =
        kw_store_mail_put(st, f->b->m.id, mid, f->uid, f->mail->from, 0, f->outcome, f->now, err);
    if (rc == KW_OK)
        rc = kw_store_mailbox_cursor(st, f->b->m.id, f->uidvalidity, f->uid, NULL, err);
    return rc;
}

struct cursor_unit {
    int64_t id, uidvalidity, last_uid;
    const char *error;
    int64_t fetched_at; /* KW_STORE_NO_TIME: the server was not asked */
};

static enum kw_code cursor_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct cursor_unit *c = ctx;
    enum kw_code rc =
        kw_store_mailbox_cursor(st, c->id, c->uidvalidity, c->last_uid, c->error, err);
    if (rc == KW_OK && c->fetched_at != KW_STORE_NO_TIME)
        rc = kw_store_mailbox_fetched(st, c->id, c->fetched_at, err);
    return rc;
}

static int64_t number_after(const char *s, const char *key)
{
    const char *p = s ? strstr(s, key) : NULL;
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* Take one mail: fetch, read, apply with the cursor, flag it. false: stop
 * this mailbox for this pass (the error is stored). */
static bool take_one(struct kw_mailin_poller *p, const struct box *b, int64_t uid,
                     int64_t uidvalidity, struct kw_err *err)
{
    struct kw_buf raw = {.max = (size_t)b->m.max_bytes + 1};
    char path[300];
    snprintf(path, sizeof(path), "%s;UID=%lld", b->folder, (long long)uid);
    enum kw_code rc = imap(b->url, b->user, b->password, path, NULL, p->allow, &raw, err);
    if (rc != KW_OK && rc != KW_TOO_BIG) {
        kw_buf_release(&raw);
        return false;
    }
    struct kw_mail mail = {0};
    size_t bytes = raw.len;
    if (rc == KW_TOO_BIG) /* too big: recorded by its headers only */
        bytes = (size_t)b->m.max_bytes + 1;
    struct kw_err perr = {0};
    if (kw_mail_parse(raw.p ? raw.p : "", raw.len, &mail, &perr) != KW_OK) {
        kw_mail_release(&mail);
        mail = (struct kw_mail){.automatic = "not a message"}; /* recorded, opens nothing */
    }
    const char *types[KW_MAIL_MAX_ATTACHMENTS] = {0};
    for (size_t i = 0; i < mail.n_files && p->magic; i++)
        types[i] = magic_buffer(p->magic, mail.files[i].data, mail.files[i].size);
    struct take_unit t = {.p = p,
                          .b = b,
                          .mail = &mail,
                          .raw_bytes = bytes,
                          .uid = uid,
                          .uidvalidity = uidvalidity,
                          .now = p->clock.now(p->clock.ctx),
                          .types = types};
    rc = kw_writer_run(p->w, take_unit, &t, err);
    const char *flags = "\\Seen";
    if (refused(rc)) {
        /* the desk will not take this mail as it is (a level or category
         * the commitment does not know, ...): recorded as failed, flagged
         * on the server, and the mails after it go on */
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        struct fail_unit f = {b, &mail, uid, uidvalidity, t.now, why, {0}};
        rc = kw_writer_run(p->w, fail_unit, &f, err);
        t.out = (struct kw_mailin_out){.ticket = 0};
        snprintf(t.out.outcome, sizeof(t.out.outcome), "%s", f.outcome);
        flags = "\\Seen \\Flagged";
    }
    kw_mail_release(&mail);
    kw_buf_release(&raw);
    if (rc != KW_OK)
        return false;
    if (t.out.ticket)
        kw_engine_schedule(p->engine, t.out.ticket, t.out.fire_at);
    KW_LOG(p->log, KW_LOG_INFO,
           "mod=mailin event=mail.taken mailbox=%lld uid=%lld outcome=%s ticket=%lld",
           (long long)b->m.id, (long long)uid, KW_LOG_Q(t.out.outcome), (long long)t.out.ticket);
    char cmd[64];
    struct kw_buf ignored = {.max = 4096};
    struct kw_err e = {0};
    snprintf(cmd, sizeof(cmd), "UID STORE %lld +FLAGS (%s)", (long long)uid, flags);
    imap(b->url, b->user, b->password, b->folder, cmd, p->allow, &ignored, &e);
    kw_buf_release(&ignored);
    return true;
}

/* One pass over mailbox b; true when the server answered (the IDLE watcher
 * may start). Where fetching stands is stored with when it was done. */
static bool poll_box(struct kw_mailin_poller *p, const struct box *b)
{
    int64_t started = p->clock.now(p->clock.ctx);
    struct kw_err err = {0};
    struct kw_buf ans = {.max = 1 << 20};
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "EXAMINE \"%s\"", b->folder);
    int64_t validity = -1, last = b->m.last_uid;
    if (imap(b->url, b->user, b->password, "", cmd, p->allow, &ans, &err) == KW_OK)
        validity = number_after(ans.p, "[UIDVALIDITY ");
    if (validity >= 0 && b->m.uidvalidity && validity != b->m.uidvalidity)
        last = 0; /* the folder was rebuilt: UIDs start again (Message-IDs keep mail once) */
    ans.len = 0;
    snprintf(cmd, sizeof(cmd), "UID SEARCH UID %lld:*", (long long)last + 1);
    if (validity < 0 ||
        imap(b->url, b->user, b->password, b->folder, cmd, p->allow, &ans, &err) != KW_OK) {
        if (validity < 0 && err.code == KW_OK)
            kw_err_set(&err, KW_IO, "", "%s: no folder \"%s\" there", b->url, b->folder);
        kw_buf_release(&ans);
        struct cursor_unit c = {b->m.id, b->m.uidvalidity, b->m.last_uid, err.msg, started};
        struct kw_err e2 = {0};
        kw_writer_run(p->w, cursor_unit, &c, &e2);
        KW_LOG(p->log, KW_LOG_WARN, "mod=mailin event=mailbox.failed mailbox=%lld why=%s",
               (long long)b->m.id, KW_LOG_Q(err.msg));
        return false;
    }
    int64_t uids[PER_PASS];
    size_t n = 0;
    const char *s = ans.p ? strstr(ans.p, "* SEARCH") : NULL;
    for (s = s ? s + 8 : NULL; s && *s && n < PER_PASS;) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s)
            break;
        if (v > last) /* "N:*" names the last UID even when it is below N */
            uids[n++] = v;
        s = end;
    }
    kw_buf_release(&ans);
    int64_t done = last; /* each mail's unit stored the cursor with it */
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++)
        if ((ok = take_one(p, b, uids[i], validity, &err)))
            done = uids[i];
    if (!ok)
        KW_LOG(p->log, KW_LOG_WARN, "mod=mailin event=mailbox.failed mailbox=%lld why=%s",
               (long long)b->m.id, KW_LOG_Q(err.msg));
    /* each mail's unit stored the cursor with the mail; the pass's outcome
     * and when it was done are stored here */
    struct cursor_unit c = {b->m.id, validity, done, ok ? NULL : err.msg, started};
    struct kw_err e2 = {0};
    kw_writer_run(p->w, cursor_unit, &c, &e2);
    return ok;
}

/* Open b's sealed password in place; false (the error stored with the
 * mailbox) when it cannot be opened. A password not sealed (a server
 * started without its mail key) is used as it is. */
static bool unseal_box(struct kw_mailin_poller *p, struct box *b)
{
    if (!kw_sealed(b->password))
        return true;
    char plain[256];
    struct kw_err err = {0};
    if (!p->has_key) {
        kw_err_set(&err, KW_INVALID, "", "the password is sealed and the server has no mail key");
    } else if (kw_unseal(p->key, b->password, plain, sizeof(plain), &err) == KW_OK) {
        memcpy(b->password, plain, sizeof(plain));
        kw_wipe(plain, sizeof(plain));
        return true;
    }
    struct cursor_unit c = {b->m.id, b->m.uidvalidity, b->m.last_uid, err.msg,
                            p->clock.now(p->clock.ctx)};
    struct kw_err e2 = {0};
    kw_writer_run(p->w, cursor_unit, &c, &e2); /* shown with the mailbox */
    KW_LOG(p->log, KW_LOG_WARN, "mod=mailin event=mailbox.failed mailbox=%lld why=%s",
           (long long)b->m.id, KW_LOG_Q(err.msg));
    return false;
}

/* ---- IMAP IDLE (RFC 2177): new mail taken as it arrives ----
 *
 * libcurl has no IDLE, so each mailbox whose server offers it gets a
 * connection of its own made by libcurl with CONNECT_ONLY (which connects,
 * starts TLS and logs in, and stops there) on a thread of its own, which
 * then speaks the few commands itself with curl_easy_send/recv: CAPABILITY
 * (no IDLE: the thread ends and polling alone goes on), EXAMINE the folder,
 * then IDLE, renewed every IDLE_RENEW_S. An untagged EXISTS or RECENT has
 * the poller take the mailbox's mail at once. When the connection is lost
 * (the server closes it, the network fails) it is opened again
 * IDLE_RETRY_S later; meanwhile polling every poll_s goes on. */

#define IDLE_RENEW_S (25 * 60) /* servers may end an IDLE after 30 minutes */
#define IDLE_RETRY_S 30
#define IDLE_LINE 8192

struct watcher {
    struct kw_mailin_poller *p;
    int64_t id;
    /* the settings it was started with (password: as stored, sealed) */
    char url[512], user[256], sealed[256], folder[256];
    char password[256]; /* plain; wiped when the watcher ends */
    pthread_t thread;
    atomic_bool stop;
};

/* Have the poller take mailbox id's mail now. */
static void wake(struct kw_mailin_poller *p, int64_t id)
{
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < MAX_BOXES; i++)
        if (p->due[i].id == id)
            p->due[i].next = 0;
    p->kick = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Sleep up to s seconds, or less when the watcher is stopped. */
static void nap(struct watcher *w, int s)
{
    for (int i = 0; i < s * 10 && !atomic_load(&w->stop); i++)
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
}

struct conn {
    CURL *c;
    curl_socket_t fd;
    char buf[IDLE_LINE];
    size_t len;
};

static bool say(struct watcher *w, struct conn *k, const char *line)
{
    size_t n = strlen(line), off = 0;
    while (off < n && !atomic_load(&w->stop)) {
        size_t sent = 0;
        CURLcode rc = curl_easy_send(k->c, line + off, n - off, &sent);
        if (rc == CURLE_AGAIN) {
            struct pollfd pf = {.fd = k->fd, .events = POLLOUT};
            poll(&pf, 1, 1000);
            continue;
        }
        if (rc != CURLE_OK)
            return false;
        off += sent;
    }
    return off == n;
}

/* The next line the server sends (without CRLF) into k->buf. 1: a line; 0:
 * none within wait_s seconds (or the watcher was stopped); -1: the
 * connection is gone or the line is too long. */
static int hear(struct watcher *w, struct conn *k, char *line, int wait_s)
{
    for (int waited_ms = 0;;) {
        char *nl = memchr(k->buf, '\n', k->len);
        if (nl) {
            size_t n = (size_t)(nl - k->buf);
            memcpy(line, k->buf, n);
            line[n && line[n - 1] == '\r' ? n - 1 : n] = '\0';
            memmove(k->buf, nl + 1, k->len - n - 1);
            k->len -= n + 1;
            return 1;
        }
        if (k->len == sizeof(k->buf))
            return -1;
        if (atomic_load(&w->stop) || waited_ms >= wait_s * 1000)
            return 0;
        size_t got = 0;
        CURLcode rc = curl_easy_recv(k->c, k->buf + k->len, sizeof(k->buf) - k->len, &got);
        if (rc == CURLE_AGAIN) {
            struct pollfd pf = {.fd = k->fd, .events = POLLIN};
            poll(&pf, 1, 200);
            waited_ms += 200;
            continue;
        }
        if (rc != CURLE_OK || got == 0)
            return -1;
        k->len += got;
    }
}

/* Read until the tagged answer to tag: true for OK. Untagged lines go to
 * *caps when they are a CAPABILITY (caps may be NULL). */
static bool answer(struct watcher *w, struct conn *k, const char *tag, bool *idle_cap)
{
    char line[IDLE_LINE];
    size_t tn = strlen(tag);
    for (;;) {
        if (hear(w, k, line, 30) != 1)
            return false;
        if (idle_cap && strncmp(line, "* CAPABILITY ", 13) == 0)
            *idle_cap = strstr(line, " IDLE") != NULL;
        if (strncmp(line, tag, tn) == 0 && line[tn] == ' ')
            return strncmp(line + tn + 1, "OK", 2) == 0;
    }
}

enum session { LOST, NO_IDLE, STOPPED };

static enum session idle_session(struct watcher *w, char *why, size_t why_cap)
{
    struct conn *k = calloc(1, sizeof(*k));
    enum session out = LOST;
    char line[IDLE_LINE];
    if (!k || !(k->c = curl_easy_init())) {
        snprintf(why, why_cap, "out of memory");
        goto out;
    }
    struct guard g = {.allow = w->p->allow};
    curl_easy_setopt(k->c, CURLOPT_URL, w->url);
    curl_easy_setopt(k->c, CURLOPT_USERNAME, w->user);
    curl_easy_setopt(k->c, CURLOPT_PASSWORD, w->password);
    curl_easy_setopt(k->c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
    curl_easy_setopt(k->c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(k->c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k->c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(k->c, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
    curl_easy_setopt(k->c, CURLOPT_OPENSOCKETDATA, &g);
    CURLcode rc = curl_easy_perform(k->c);
    if (rc != CURLE_OK) {
        snprintf(why, why_cap, "%s", g.refused[0] ? "refused address" : curl_easy_strerror(rc));
        goto out;
    }
    if (curl_easy_getinfo(k->c, CURLINFO_ACTIVESOCKET, &k->fd) != CURLE_OK ||
        k->fd == CURL_SOCKET_BAD) {
        snprintf(why, why_cap, "no socket");
        goto out;
    }
    bool idle = false;
    if (!say(w, k, "k1 CAPABILITY\r\n") || !answer(w, k, "k1", &idle)) {
        snprintf(why, why_cap, "no answer to CAPABILITY");
        goto out;
    }
    if (!idle) {
        out = NO_IDLE;
        goto out;
    }
    char cmd[320];
    snprintf(cmd, sizeof(cmd), "k2 EXAMINE \"%s\"\r\n", w->folder);
    if (!say(w, k, cmd) || !answer(w, k, "k2", NULL)) {
        snprintf(why, why_cap, "cannot open folder \"%.100s\"", w->folder);
        goto out;
    }
    KW_LOG(w->p->log, KW_LOG_INFO, "mod=mailin event=mailbox.idle mailbox=%lld", (long long)w->id);
    for (unsigned n = 3; !atomic_load(&w->stop); n++) {
        char tag[16];
        snprintf(tag, sizeof(tag), "k%u", n);
        snprintf(cmd, sizeof(cmd), "%s IDLE\r\n", tag);
        if (!say(w, k, cmd) || hear(w, k, line, 30) != 1 || line[0] != '+') {
            snprintf(why, why_cap, "the server did not start IDLE");
            goto out;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            int r = hear(w, k, line, 1);
            if (r < 0) {
                snprintf(why, why_cap, "the connection was closed");
                goto out;
            }
            if (r == 1 && strncmp(line, "* BYE", 5) == 0) {
                snprintf(why, why_cap, "the server said goodbye");
                goto out;
            }
            if (r == 1 && line[0] == '*' && (strstr(line, " EXISTS") || strstr(line, " RECENT")))
                wake(w->p, w->id);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (atomic_load(&w->stop) || t1.tv_sec - t0.tv_sec >= IDLE_RENEW_S)
                break;
        }
        if (!say(w, k, "DONE\r\n") || !answer(w, k, tag, NULL)) {
            snprintf(why, why_cap, "the server did not end IDLE");
            goto out;
        }
    }
    say(w, k, "k0 LOGOUT\r\n");
    out = STOPPED;
out:
    if (k && k->c)
        curl_easy_cleanup(k->c);
    free(k);
    return out;
}

static void *watch_run(void *arg)
{
    struct watcher *w = arg;
    while (!atomic_load(&w->stop)) {
        char why[160] = "";
        enum session s = idle_session(w, why, sizeof(why));
        if (s == NO_IDLE) {
            KW_LOG(w->p->log, KW_LOG_INFO,
                   "mod=mailin event=mailbox.no_idle mailbox=%lld why=\"the server does not "
                   "offer IDLE: polling only\"",
                   (long long)w->id);
            break;
        }
        if (s == STOPPED || atomic_load(&w->stop))
            break;
        KW_LOG(w->p->log, KW_LOG_WARN, "mod=mailin event=mailbox.idle_lost mailbox=%lld why=%s",
               (long long)w->id, KW_LOG_Q(why));
        nap(w, IDLE_RETRY_S);
    }
    kw_wipe(w->password, sizeof(w->password));
    return NULL;
}

static void watcher_end(struct watcher *w)
{
    atomic_store(&w->stop, true);
    pthread_join(w->thread, NULL);
    free(w);
}

/* Whether watcher w still fits mailbox b as listed (else it is ended). */
static bool watcher_fits(const struct watcher *w, const struct box *b)
{
    return strcmp(w->url, b->url) == 0 && strcmp(w->user, b->user) == 0 &&
           strcmp(w->sealed, b->sealed) == 0 && strcmp(w->folder, b->folder) == 0;
}

/* End the watchers of mailboxes that are no longer listed or whose
 * settings changed; the changed ones are polled at once. */
static void watchers_sweep(struct kw_mailin_poller *p, const struct box *list)
{
    for (size_t i = 0; i < MAX_BOXES; i++) {
        struct watcher *w = p->watch[i];
        if (!w)
            continue;
        const struct box *b = NULL;
        for (size_t j = 0; list && list[j].m.id && !b; j++)
            if (list[j].m.id == w->id)
                b = &list[j];
        if (b && watcher_fits(w, b))
            continue;
        watcher_end(w);
        p->watch[i] = NULL;
        if (b)
            wake(p, b->m.id);
    }
}

/* Start a watcher for b (its password open) unless one is there. */
static void watcher_start(struct kw_mailin_poller *p, const struct box *b)
{
    size_t free_slot = MAX_BOXES;
    for (size_t i = 0; i < MAX_BOXES; i++) {
        if (p->watch[i] && p->watch[i]->id == b->m.id)
            return;
        if (!p->watch[i] && free_slot == MAX_BOXES)
            free_slot = i;
    }
    struct watcher *w = free_slot < MAX_BOXES ? calloc(1, sizeof(*w)) : NULL;
    if (!w)
        return;
    w->p = p;
    w->id = b->m.id;
    snprintf(w->url, sizeof(w->url), "%s", b->url);
    snprintf(w->user, sizeof(w->user), "%s", b->user);
    snprintf(w->sealed, sizeof(w->sealed), "%s", b->sealed);
    snprintf(w->folder, sizeof(w->folder), "%s", b->folder);
    snprintf(w->password, sizeof(w->password), "%s", b->password);
    atomic_init(&w->stop, false);
    if (pthread_create(&w->thread, NULL, watch_run, w) != 0) {
        kw_wipe(w->password, sizeof(w->password));
        free(w);
        return;
    }
    p->watch[free_slot] = w;
}

/* Under p->mu. */
static int64_t *due_of(struct kw_mailin_poller *p, int64_t id)
{
    for (size_t i = 0; i < MAX_BOXES; i++)
        if (p->due[i].id == id)
            return &p->due[i].next;
    for (size_t i = 0; i < MAX_BOXES; i++)
        if (p->due[i].id == 0) {
            p->due[i].id = id;
            return &p->due[i].next;
        }
    return NULL;
}

/* After a failed read of the mailboxes, the poller's store handle is closed
 * and opened again this many seconds later (a lost connection, a backend
 * without mailboxes): never a connection per second. */
#define REOPEN_S 30

static void *run(void *arg)
{
    struct kw_mailin_poller *p = arg;
    struct kw_store *st = NULL; /* kept open between passes */
    time_t open_at = 0;         /* CLOCK_MONOTONIC seconds: when to open st again */
    for (;;) {
        pthread_mutex_lock(&p->mu);
        if (!p->stop && !p->kick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        }
        p->kick = false;
        bool stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        struct kw_err err = {0};
        struct timespec mono;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        if (!st && mono.tv_sec >= open_at && !(st = kw_store_open(p->db, &err)))
            open_at = mono.tv_sec + REOPEN_S;
        if (!st)
            continue;
        struct box *list = calloc(MAX_BOXES, sizeof(*list));
        if (list && kw_store_mailboxes(st, true, copy_box, &list, &err) != KW_OK) {
            kw_store_close(st);
            st = NULL;
            open_at = mono.tv_sec + REOPEN_S;
        } else {
            kw_store_end_read(st);
        }
        if (list && st)
            watchers_sweep(p, list);
        int64_t now = p->clock.now(p->clock.ctx);
        for (size_t i = 0; list && list[i].m.id; i++) {
            pthread_mutex_lock(&p->mu);
            int64_t *next = due_of(p, list[i].m.id);
            if (next && *next > now + list[i].m.poll_s) /* poll_s was made shorter */
                *next = now + list[i].m.poll_s;
            bool due = next && *next <= now;
            if (due)
                *next = now + list[i].m.poll_s;
            pthread_mutex_unlock(&p->mu);
            if (!due)
                continue;
            if (unseal_box(p, &list[i]) && poll_box(p, &list[i]))
                watcher_start(p, &list[i]);
            kw_wipe(list[i].password, sizeof(list[i].password));
        }
        free(list);
    }
    for (size_t i = 0; i < MAX_BOXES; i++)
        if (p->watch[i])
            watcher_end(p->watch[i]);
    kw_store_close(st);
    return NULL;
}

struct kw_mailin_poller *kw_mailin_start(const char *db, struct kw_writer *w,
                                         struct kw_clocks *clocks, struct kw_engine *engine,
                                         struct kw_now clock, const struct kw_log *log,
                                         const struct kw_nets *allow, const unsigned char *key,
                                         struct kw_err *err)
{
    struct kw_mailin_poller *p = calloc(1, sizeof(*p));
    if (!p) {
        kw_err_set(err, KW_NOMEM, "", "out of memory");
        return NULL;
    }
    snprintf(p->db, sizeof(p->db), "%s", db);
    p->w = w;
    p->clocks = clocks;
    p->engine = engine;
    p->clock = clock;
    p->log = log;
    p->allow = allow;
    if (key) {
        memcpy(p->key, key, KW_SEAL_KEY_BYTES);
        p->has_key = true;
    }
    kw_sla_init(&p->sla);
    p->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (p->magic && magic_load(p->magic, NULL) != 0) {
        magic_close(p->magic);
        p->magic = NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        kw_err_set(err, KW_NOMEM, "", "cannot start the mail fetcher");
        kw_sla_release(&p->sla);
        free(p);
        return NULL;
    }
    return p;
}

void kw_mailin_stop(struct kw_mailin_poller *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    if (p->magic)
        magic_close(p->magic);
    kw_wipe(p->key, sizeof(p->key));
    kw_sla_release(&p->sla);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
