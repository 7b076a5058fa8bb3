// SPDX-License-Identifier: MIT
/*
 * whsink - a webhook receiver for tests, on 127.0.0.1 only.
 *
 *   whsink --out FILE [--secret S] [--fail-if FILE] [--answer FILE] [--hang-if FILE]
 *
 * Prints "listening PORT" on stdout, then for every request appends one JSON
 * line to FILE: {"path", "event", "delivery", "signature_ok", "status", "body"}
 * (signature_ok: the X-Keepword-Signature is the HMAC-SHA256 of the body
 * under S; false without --secret or without the header). Answers 200, or
 * 500 while the file named by --fail-if exists; the 200's body is what a
 * chat robot says when all is well, or what the --answer file holds (up to
 * 3 KiB). While the --hang-if file exists a request is read and left
 * unanswered (up to 20 s), then recorded and answered as usual (a slow or
 * stuck receiver). One request a connection.
 * Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

#include "deliver.h"

#define MAX_REQUEST (1 << 20)

/* The value of header name in the head (NUL-terminated copy into out). */
static void header(const char *head, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    out[0] = '\0';
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, n) == 0 && l[2 + n] == ':') {
            const char *v = l + 3 + n, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return;
        }
    }
}

static const char *answer_file; /* --answer */
static const char *hang_if;     /* --hang-if */

static void serve_one(int fd, const char *out, const char *secret, const char *fail_if)
{
    char *buf = malloc(MAX_REQUEST + 1);
    size_t have = 0, head_end = 0, len = 0;
    char value[256], event[128], delivery[256], sig[128];
    for (;;) {
        ssize_t r = recv(fd, buf + have, MAX_REQUEST - have, 0);
        if (r <= 0)
            goto done;
        have += (size_t)r;
        buf[have] = '\0';
        char *e = strstr(buf, "\r\n\r\n");
        if (!head_end && e) {
            head_end = (size_t)(e - buf) + 4;
            header(buf, "Content-Length", value, sizeof(value));
            len = strtoul(value, NULL, 10);
        }
        if (head_end && have >= head_end + len)
            break;
        if (have == MAX_REQUEST)
            goto done;
    }
    for (int i = 0; hang_if && i < 200 && access(hang_if, F_OK) == 0; i++)
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    char path[1024] = "";
    sscanf(buf, "%*s %1023s", path);
    header(buf, "X-Keepword-Event", event, sizeof(event));
    header(buf, "X-Keepword-Delivery", delivery, sizeof(delivery));
    header(buf, "X-Keepword-Signature", sig, sizeof(sig));
    bool sig_ok = false;
    if (secret && sig[0]) {
        char want[72];
        kw_webhook_signature(secret, buf + head_end, len, want);
        sig_ok = strcmp(want, sig) == 0;
    }
    int status = fail_if && access(fail_if, F_OK) == 0 ? 500 : 200;
    struct record rec;
    FILE *f = record_open(&rec);
    if (f) {
        fputs("{\"path\":", f);
        json_string(f, path, strlen(path));
        fputs(",\"event\":", f);
        json_string(f, event, strlen(event));
        fputs(",\"delivery\":", f);
        json_string(f, delivery, strlen(delivery));
        fprintf(f, ",\"signature_ok\":%s,\"status\":%d,\"body\":", sig_ok ? "true" : "false",
                status);
        json_string(f, buf + head_end, len);
        fputs("}\n", f);
        record_append(&rec, out);
    }
    /* chat robots want {"errcode":0} (DingTalk, WeCom) or {"code":0} (Feishu) */
    const char *answer = status == 200 ? "{\"errcode\":0,\"code\":0}" : "";
    char told[3072];
    FILE *af = status == 200 && answer_file ? fopen(answer_file, "r") : NULL;
    if (af) {
        told[fread(told, 1, sizeof(told) - 1, af)] = '\0';
        fclose(af);
        answer = told;
    }
    char reply[4096];
    int n =
        snprintf(reply, sizeof(reply),
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: "
                 "%zu\r\nConnection: close\r\n\r\n%s",
                 status, status == 200 ? "OK" : "Internal Server Error", strlen(answer), answer);
    if (send(fd, reply, (size_t)n, MSG_NOSIGNAL) != n)
        perror("whsink: send");
done:
    free(buf);
    close(fd);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *secret = NULL, *fail_if = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
        else if (strcmp(argv[i], "--secret") == 0)
            secret = argv[i + 1];
        else if (strcmp(argv[i], "--fail-if") == 0)
            fail_if = argv[i + 1];
        else if (strcmp(argv[i], "--answer") == 0)
            answer_file = argv[i + 1];
        else if (strcmp(argv[i], "--hang-if") == 0)
            hang_if = argv[i + 1];
    }
    if (!out || sodium_init() < 0) {
        fputs("usage: whsink --out FILE [--secret S] [--fail-if FILE] [--answer FILE] "
              "[--hang-if FILE]\n",
              stderr);
        return 2;
    }
    int s = listen_loopback("whsink");
    if (s < 0)
        return 1;
    for (;;) {
        int fd = accept(s, NULL, NULL);
        if (fd >= 0)
            serve_one(fd, out, secret, fail_if);
    }
}
