// SPDX-License-Identifier: MIT
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kw_code kw_cli_read_file(const char *path, size_t max, char **data, size_t *len,
                              struct kw_err *err)
{
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    enum kw_code rc = KW_OK;

    if (!f)
        return kw_err_set(err, KW_IO, NULL, "%s: %s", path, strerror(errno));
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                rc = kw_err_set(err, KW_TOO_BIG, NULL, "%s: larger than %zu bytes", path, max);
                goto out;
            }
            cap = cap ? cap * 2 : 65536;
            char *p = realloc(buf, cap + 1);
            if (!p) {
                rc = kw_err_set(err, KW_NOMEM, NULL, "%s: no memory to read it", path);
                goto out;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = kw_err_set(err, KW_IO, NULL, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (n > max) {
        rc = kw_err_set(err, KW_TOO_BIG, NULL, "%s: larger than %zu bytes", path, max);
        goto out;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    if (!std)
        fclose(f);
    return rc;
}

enum kw_code kw_cli_write_file(const char *path, const char *data, size_t len, struct kw_err *err)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return kw_err_set(err, KW_IO, NULL, "stdout: %s", strerror(errno));
        return KW_OK;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return kw_err_set(err, KW_INVALID, NULL, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return kw_err_set(err, KW_IO, NULL, "%s: %s", tmp, strerror(errno));
    bool ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved = errno;
        remove(tmp);
        return kw_err_set(err, KW_IO, NULL, "%s: %s", path, strerror(saved));
    }
    return KW_OK;
}

int kw_cli_fail(const char *what, const struct kw_err *err)
{
    if (what)
        fprintf(stderr, "keepword: %s: %s\n", what, err->msg);
    else
        fprintf(stderr, "keepword: %s\n", err->msg);
    return KW_EXIT_INPUT;
}

int kw_cli_usage(const char *usage, const char *fmt, ...)
{
    va_list ap;
    fputs("keepword: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    return KW_EXIT_USAGE;
}

bool kw_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

int kw_cli_dispatch(int argc, char **argv, const char *usage, const char *what,
                    const struct kw_cli_cmd *cmds, size_t n)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? KW_EXIT_USAGE : KW_EXIT_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].run(argc - 1, argv + 1);
    return kw_cli_usage(usage, "unknown %s command \"%s\"", what, argv[1]);
}
