// SPDX-License-Identifier: MIT
/*
 * smtpsink - an SMTP receiver for tests, on 127.0.0.1 only.
 *
 *   smtpsink --out FILE
 *
 * Prints "listening PORT", then speaks just enough SMTP (EHLO/HELO, MAIL,
 * RCPT, DATA, RSET, NOOP, QUIT) to accept messages, appending one JSON line
 * per message to FILE: {"from", "to": [...], "data"}. One session at a
 * time. Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"

#define MAX_DATA (8 << 20) /* a report with its PDF attached fits */

struct session {
    int fd;
    char in[8192];
    size_t have;
};

static void say(int fd, const char *line)
{
    if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0)
        perror("smtpsink: send");
}

/* One line (CRLF stripped) into out; 0 at the end of the connection. */
static int get_line(struct session *s, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(s->in, '\n', s->have);
        if (nl) {
            size_t n = (size_t)(nl - s->in) + 1, len = n - 1;
            if (len && s->in[len - 1] == '\r')
                len--;
            if (len >= cap)
                len = cap - 1;
            memcpy(out, s->in, len);
            out[len] = '\0';
            memmove(s->in, s->in + n, s->have - n);
            s->have -= n;
            return 1;
        }
        if (s->have == sizeof(s->in))
            s->have = 0; /* an overlong line: drop it */
        ssize_t r = recv(s->fd, s->in + s->have, sizeof(s->in) - s->have, 0);
        if (r <= 0)
            return 0;
        s->have += (size_t)r;
    }
}

static void session(int fd, const char *out)
{
    struct session s = {.fd = fd};
    char line[8192], from[512] = "", to[4096] = "";
    char *data = malloc(MAX_DATA);
    size_t dlen = 0;
    say(fd, "220 smtpsink ready\r\n");
    while (data && get_line(&s, line, sizeof(line))) {
        if (strncasecmp(line, "EHLO", 4) == 0)
            say(fd, "250-smtpsink\r\n250 8BITMIME\r\n");
        else if (strncasecmp(line, "HELO", 4) == 0 || strncasecmp(line, "NOOP", 4) == 0)
            say(fd, "250 ok\r\n");
        else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            snprintf(from, sizeof(from), "%.500s", line + 10);
            to[0] = '\0';
            say(fd, "250 ok\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            size_t n = strlen(to);
            if (n < sizeof(to) - 512)
                snprintf(to + n, sizeof(to) - n, "%s%.500s", n ? "," : "", line + 8);
            say(fd, "250 ok\r\n");
        } else if (strncasecmp(line, "RSET", 4) == 0) {
            from[0] = to[0] = '\0';
            say(fd, "250 ok\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            say(fd, "354 end with .\r\n");
            dlen = 0;
            while (get_line(&s, line, sizeof(line)) && strcmp(line, ".") != 0) {
                const char *l = line[0] == '.' ? line + 1 : line; /* dot-stuffing */
                size_t n = strlen(l);
                if (dlen + n + 2 < MAX_DATA) {
                    memcpy(data + dlen, l, n);
                    memcpy(data + dlen + n, "\r\n", 2);
                    dlen += n + 2;
                }
            }
            struct record r;
            FILE *f = record_open(&r);
            if (f) {
                fputs("{\"from\":", f);
                json_string(f, from, strlen(from));
                fputs(",\"to\":", f);
                json_string(f, to, strlen(to));
                fputs(",\"data\":", f);
                json_string(f, data, dlen);
                fputs("}\n", f);
                record_append(&r, out);
            }
            say(fd, "250 queued\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            say(fd, "221 bye\r\n");
            break;
        } else {
            say(fd, "502 not here\r\n");
        }
    }
    free(data);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--out") != 0) {
        fputs("usage: smtpsink --out FILE\n", stderr);
        return 2;
    }
    int s = listen_loopback("smtpsink");
    if (s < 0)
        return 1;
    for (;;) {
        int fd = accept(s, NULL, NULL);
        if (fd >= 0)
            session(fd, argv[2]);
    }
}
