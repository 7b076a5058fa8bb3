// SPDX-License-Identifier: MIT
/* What the test receivers share: their listening socket (127.0.0.1, any
 * free port, printed as "listening PORT" on stdout) and JSON strings. */
#ifndef KW_TEST_LOOPBACK_H
#define KW_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static inline int listen_loopback(const char *who)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 64) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
        perror(who);
        return -1;
    }
    printf("listening %u\n", ntohs(a.sin_port));
    fflush(stdout);
    return s;
}

/* s (n bytes) as a JSON string. */
static inline void json_string(FILE *f, const char *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A record line built in memory (record_open, then fputs and json_string
 * into its FILE) and added to a file with one write (record_append), so
 * that a test reading the file while a receiver adds to it (deliveries go
 * out several at once) does not find half a line. */
struct record {
    FILE *f;
    char *buf;
    size_t len;
};

static inline FILE *record_open(struct record *r)
{
    r->buf = NULL;
    r->len = 0;
    r->f = open_memstream(&r->buf, &r->len);
    return r->f;
}

static inline void record_append(struct record *r, const char *path)
{
    if (fclose(r->f) == 0) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
        if (fd >= 0) {
            if (write(fd, r->buf, r->len) != (ssize_t)r->len)
                perror(path);
            close(fd);
        }
    }
    free(r->buf);
}

#endif
