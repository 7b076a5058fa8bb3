// SPDX-License-Identifier: MIT
/*
 * make bench: mail in without the network. The corpus is the mail fixtures
 * of tests/unit/mail (Chinese in GBK with an attachment, English
 * multipart/alternative, HTML only), each sent BENCH_MAILS / 3 times
 * (default 6,000 in all) with its own Message-ID and sender, so each opens
 * a ticket (an unknown sender, the mailbox's triage organisation, files
 * into the ticket's attachments). Times parsing alone (kw_mail_parse), then
 * parsing and storing as the fetcher does (kw_mailin_apply in a writer
 * unit, one mail at a time) into a database under TMPDIR. Prints mails/s;
 * asserts nothing. Run from the source tree (it reads the fixtures).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "bench_util.h"
#include "clocks.h"
#include "kw_buf.h"
#include "mail.h"
#include "mailin.h"
#include "store.h"
#include "writer.h"

static const char policy_json[] =
    "{\"name\":\"bench\",\"version\":\"1\",\"effective_from\":\"2000-01-01T00:00:00Z\","
    "\"calendars\":{\"24x7\":{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"00:00\",\"24:00\"]],"
    "\"tue\":[[\"00:00\",\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\","
    "\"24:00\"]],\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"
    "\"sun\":[[\"00:00\",\"24:00\"]]}}},\"levels\":[\"L3\"],"
    "\"metrics\":[{\"id\":\"response\",\"start\":\"created\",\"stop\":[\"first_response\"],"
    "\"warn_at\":[50,75,90]}],\"targets\":[{\"calendar\":\"24x7\",\"response\":\"2h\"}]}";

static const char *const fixtures[] = {"tests/unit/mail/gbk-attachment.eml",
                                       "tests/unit/mail/alternative-reply.eml",
                                       "tests/unit/mail/html-only.eml"};
#define N_FIX (sizeof(fixtures) / sizeof(fixtures[0]))

/* The file's bytes without its From, Message-ID, In-Reply-To and
 * References lines (each mail of the run gets its own), or NULL. */
static char *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct kw_buf b = {0};
    char line[4096];
    bool head = true;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '\r' || line[0] == '\n')
            head = false;
        if (head &&
            (strncasecmp(line, "From:", 5) == 0 || strncasecmp(line, "Message-ID:", 11) == 0 ||
             strncasecmp(line, "In-Reply-To:", 12) == 0 ||
             strncasecmp(line, "References:", 11) == 0))
            continue;
        kw_buf_adds(&b, line);
    }
    fclose(f);
    *len = b.len;
    return b.failed ? NULL : b.p;
}

struct take {
    struct kw_clocks *clocks;
    struct kw_sla *sla;
    const struct kw_mailin *box;
    const struct kw_mail *mail;
    size_t bytes;
    int64_t uid;
    struct kw_mailin_out out;
};

static enum kw_code take_unit(struct kw_store *st, void *ctx, struct kw_err *err)
{
    struct take *t = ctx;
    struct kw_unit u = {.st = st,
                        .clocks = t->clocks,
                        .sla = t->sla,
                        .now = (int64_t)time(NULL),
                        .fire_at = KW_STORE_NO_TIME};
    return kw_mailin_apply(&u, t->box, t->mail, t->bytes, t->uid, NULL, &t->out, err);
}

int main(void)
{
    long mails = getenv("BENCH_MAILS") ? atol(getenv("BENCH_MAILS")) : 6000;
    if (mails < (long)N_FIX) {
        fprintf(stderr, "bench_mail: BENCH_MAILS >= %zu\n", N_FIX);
        return 2;
    }
    char *body[N_FIX];
    size_t len[N_FIX];
    for (size_t i = 0; i < N_FIX; i++)
        if (!(body[i] = load(fixtures[i], &len[i]))) {
            fprintf(stderr, "bench_mail: cannot read %s (run from the source tree)\n", fixtures[i]);
            return 1;
        }
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[256], path[300], cmd[320];
    snprintf(dir, sizeof(dir), "%s/kw-bench-mail-XXXXXX", tmp);
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/kw.db", dir);
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err);
    struct kw_org org = {.name = "triage"};
    struct kw_user mgr = {.email = "manager@bench.example", .name = "manager", .role = "manager"};
    int64_t org_id = 0, cid = 0, mgr_id = 0, box_id = 0;
    if (!st || kw_store_org_insert(st, &org, 0, &org_id, &err) != KW_OK ||
        kw_store_commitment_insert(st, "bench", "1", 946684800, policy_json, 0, &cid, &err) !=
            KW_OK ||
        kw_store_user_insert(st, &mgr, NULL, 0, &mgr_id, &err) != KW_OK) {
        fprintf(stderr, "bench_mail: %s\n", err.msg);
        return 1;
    }
    struct kw_mailbox m = {.name = "bench",
                           .url = "imap://127.0.0.1",
                           .username = "u",
                           .password = "p",
                           .folder = "INBOX",
                           .acting_user = mgr_id,
                           .org_id = org_id,
                           .level = "L3",
                           .reply_from = "support@bench.example",
                           .unknown = "triage",
                           .max_bytes = 10485760,
                           .per_sender_hour = 20,
                           .poll_s = 60};
    if (kw_store_mailbox_insert(st, &m, &box_id, &err) != KW_OK) {
        fprintf(stderr, "bench_mail: %s\n", err.msg);
        return 1;
    }
    kw_store_close(st);
    struct kw_clocks *clocks = kw_clocks_new(&err);
    struct kw_writer *w = clocks ? kw_writer_start(path, &err) : NULL;
    if (!w) {
        fprintf(stderr, "bench_mail: %s\n", err.msg);
        return 1;
    }
    struct kw_sla sla;
    kw_sla_init(&sla);
    struct kw_mailin box = {.id = box_id,
                            .acting_user = mgr_id,
                            .org_id = org_id,
                            .max_bytes = m.max_bytes,
                            .per_sender_hour = m.per_sender_hour,
                            .name = m.name,
                            .level = m.level};
    struct kw_buf raw = {0};
    long failed = 0, created = 0;
    size_t bytes = 0;
    for (int pass = 0; pass < 2; pass++) { /* 0: parse only; 1: parse and store */
        double t0 = now_s();
        for (long n = 0; n < mails; n++) {
            size_t f = (size_t)n % N_FIX;
            raw.len = 0;
            kw_buf_printf(&raw,
                          "From: sender-%ld@bench%ld.example\r\nMessage-ID: <%ld.%d@bench>\r\n", n,
                          n % 97, n, pass);
            kw_buf_add(&raw, body[f], len[f]);
            struct kw_mail mail = {0};
            struct kw_err e = {0};
            if (raw.failed || kw_mail_parse(raw.p, raw.len, &mail, &e) != KW_OK) {
                failed++;
            } else if (pass == 1) {
                struct take t = {.clocks = clocks,
                                 .sla = &sla,
                                 .box = &box,
                                 .mail = &mail,
                                 .bytes = raw.len,
                                 .uid = n + 1};
                if (kw_writer_run(w, take_unit, &t, &e) != KW_OK) {
                    if (failed++ == 0)
                        fprintf(stderr, "bench_mail: %s\n", e.msg);
                } else if (strcmp(t.out.outcome, "created") == 0) {
                    created++;
                }
            } else {
                bytes += raw.len;
            }
            kw_mail_release(&mail);
        }
        double secs = now_s() - t0;
        if (pass == 0)
            printf("mail: parsed %ld mails (%.1f KiB each, 1 in 3 Chinese in GBK with an "
                   "attachment) in %.2f s: %.0f/s\n",
                   mails, (double)bytes / (double)mails / 1024.0, secs, (double)mails / secs);
        else
            printf("mail: parsed and stored %ld mails (%ld tickets opened, %ld failed) in %.2f s: "
                   "%.0f/s\n",
                   mails, created, failed, secs, (double)mails / secs);
    }
    kw_buf_release(&raw);
    kw_writer_stop(w);
    kw_sla_release(&sla);
    kw_clocks_free(clocks);
    for (size_t i = 0; i < N_FIX; i++)
        free(body[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
