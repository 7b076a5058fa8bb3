// SPDX-License-Identifier: MIT
/* One e-mail message read with GMime 3 (mail.h). GMime is initialised once
 * per process (pthread_once); each parse has its own parser and streams. */
#include "mail.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw_buf.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    g_mime_init();
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

void kw_mail_release(struct kw_mail *m)
{
    free(m->message_id);
    free(m->in_reply_to);
    free(m->references);
    free(m->from);
    free(m->from_name);
    free(m->subject);
    free(m->text);
    for (size_t i = 0; i < m->n_files; i++) {
        free(m->files[i].name);
        free(m->files[i].type);
        free(m->files[i].data);
    }
    *m = (struct kw_mail){0};
}

int64_t kw_mail_tag(const char *subject)
{
    for (const char *p = subject ? strstr(subject, "[KW#") : NULL; p; p = strstr(p + 1, "[KW#")) {
        int64_t id = 0;
        const char *d = p + 4;
        while (*d >= '0' && *d <= '9' && id < 100000000000000LL)
            id = id * 10 + (*d++ - '0');
        if (*d == ']' && d > p + 4 && id > 0)
            return id;
    }
    return 0;
}

/* ---- HTML to text ---- */

static const struct {
    const char *name, *text;
} entities[] = {
    {"amp", "&"},    {"lt", "<"},    {"gt", ">"},    {"quot", "\""}, {"apos", "'"},
    {"nbsp", " "},   {"copy", "©"},  {"reg", "®"},   {"mdash", "—"}, {"ndash", "–"},
    {"hellip", "…"}, {"ldquo", "“"}, {"rdquo", "”"}, {"lsquo", "‘"}, {"rsquo", "’"},
};

/* Append code point c as UTF-8 (a bad one as U+FFFD). */
static void add_utf8(struct kw_buf *b, unsigned long c)
{
    char o[4];
    if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        c = 0xFFFD;
    if (c < 0x80) {
        o[0] = (char)c;
        kw_buf_add(b, o, 1);
    } else if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        kw_buf_add(b, o, 2);
    } else if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        kw_buf_add(b, o, 3);
    } else {
        o[0] = (char)(0xF0 | (c >> 18));
        o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[3] = (char)(0x80 | (c & 0x3F));
        kw_buf_add(b, o, 4);
    }
}

/* The entity at s (after '&'), appended; returns the bytes it took (0: not one). */
static size_t entity(struct kw_buf *b, const char *s, size_t n)
{
    size_t end = 0;
    while (end < n && end < 12 && s[end] != ';')
        end++;
    if (end == n || s[end] != ';' || end == 0)
        return 0;
    if (s[0] == '#') {
        char *stop;
        char num[16];
        memcpy(num, s + 1, end - 1);
        num[end - 1] = '\0';
        unsigned long c = (num[0] == 'x' || num[0] == 'X') ? strtoul(num + 1, &stop, 16)
                                                           : strtoul(num, &stop, 10);
        if (*stop || stop == num)
            return 0;
        add_utf8(b, c);
        return end + 1;
    }
    for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
        if (strlen(entities[i].name) == end && strncmp(s, entities[i].name, end) == 0) {
            kw_buf_adds(b, entities[i].text);
            return end + 1;
        }
    return 0;
}

/* Whether the tag name at s (n bytes) is one of list (space separated). */
static bool tag_in(const char *s, size_t n, const char *list)
{
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(s, p, n) == 0)
            return true;
        p += len + (e ? 1 : 0);
    }
    return false;
}

char *kw_mail_html_text(const char *html, size_t n)
{
    struct kw_buf b = {0};
    bool space = false; /* a pending space (HTML collapses white space) */
    for (size_t i = 0; i < n;) {
        char c = html[i];
        if (c == '<') {
            if (n - i >= 4 && strncmp(html + i, "<!--", 4) == 0) { /* a comment */
                const char *e = strstr(html + i + 4, "-->");
                i = e && (size_t)(e - html) < n ? (size_t)(e - html) + 3 : n;
                continue;
            }
            size_t j = i + 1;
            bool closing = j < n && html[j] == '/';
            if (closing)
                j++;
            size_t name = j;
            while (j < n && (isalnum((unsigned char)html[j])))
                j++;
            size_t name_len = j - name;
            while (j < n && html[j] != '>') { /* skip attributes, quoted '>' included */
                if (html[j] == '"' || html[j] == '\'') {
                    char q = html[j++];
                    while (j < n && html[j] != q)
                        j++;
                }
                if (j < n)
                    j++;
            }
            i = j < n ? j + 1 : n;
            if (!closing && tag_in(html + name, name_len, "script style head title")) {
                /* skip to the matching end tag */
                char endtag[16];
                snprintf(endtag, sizeof(endtag), "</%.*s", (int)name_len, html + name);
                size_t k = i;
                while (k < n && strncasecmp(html + k, endtag, strlen(endtag)) != 0)
                    k++;
                i = k;
                continue;
            }
            if (tag_in(html + name, name_len,
                       "br p div li tr h1 h2 h3 h4 h5 h6 blockquote pre table ul ol hr")) {
                if (b.len && b.p[b.len - 1] != '\n')
                    kw_buf_adds(&b, "\n");
                if (!closing && tag_in(html + name, name_len, "li"))
                    kw_buf_adds(&b, "- ");
                space = false;
            } else if (tag_in(html + name, name_len, "td th"))
                space = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = b.len && b.p[b.len - 1] != '\n';
            i++;
            continue;
        }
        if (space) {
            kw_buf_adds(&b, " ");
            space = false;
        }
        size_t took = c == '&' ? entity(&b, html + i + 1, n - i - 1) : 0;
        if (took) {
            i += took + 1;
            continue;
        }
        kw_buf_add(&b, &c, 1);
        i++;
    }
    while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == ' '))
        b.p[--b.len] = '\0';
    if (!b.p) {
        kw_buf_adds(&b, "");
    }
    return b.p;
}

/* ---- decoding ---- */

/* iconv converters to UTF-8, kept per thread: g_convert opens (and loads
 * the tables of) a converter on every call, which costs more than the
 * conversion of a mail's body. Each thread keeps the last CACHED charsets
 * it converted from (a small list, least recently used out); they are
 * closed when the thread ends. */
#define CACHED 8

struct conv_cache {
    struct {
        char cs[40];
        GIConv cd;
    } e[CACHED];
    size_t n;
};

static pthread_key_t conv_key;
static pthread_once_t conv_once = PTHREAD_ONCE_INIT;

static void conv_free(void *p)
{
    struct conv_cache *c = p;
    for (size_t i = 0; i < c->n; i++)
        g_iconv_close(c->e[i].cd);
    free(c);
}

static void conv_init(void)
{
    pthread_key_create(&conv_key, conv_free);
}

/* The calling thread's converter from cs to UTF-8, reset to its initial
 * state, or (GIConv)-1 when iconv does not know cs. Owned by the cache. */
static GIConv converter(const char *cs)
{
    pthread_once(&conv_once, conv_init);
    struct conv_cache *c = pthread_getspecific(conv_key);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c || pthread_setspecific(conv_key, c) != 0) {
            free(c);
            return (GIConv)-1;
        }
    }
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->e[i].cs, cs) == 0) {
            GIConv cd = c->e[i].cd;
            if (i) { /* to the front: most recently used */
                char name[sizeof(c->e[0].cs)];
                memcpy(name, c->e[i].cs, sizeof(name));
                memmove(&c->e[1], &c->e[0], i * sizeof(c->e[0]));
                memcpy(c->e[0].cs, name, sizeof(name));
                c->e[0].cd = cd;
            }
            g_iconv(cd, NULL, NULL, NULL, NULL); /* a failed conversion may leave a shift state */
            return cd;
        }
    if (strlen(cs) >= sizeof(c->e[0].cs))
        return (GIConv)-1; /* no charset has a name this long */
    GIConv cd = g_iconv_open("UTF-8", cs);
    if (cd == (GIConv)-1)
        return cd;
    if (c->n == CACHED)
        g_iconv_close(c->e[--c->n].cd);
    memmove(&c->e[1], &c->e[0], c->n * sizeof(c->e[0]));
    snprintf(c->e[0].cs, sizeof(c->e[0].cs), "%s", cs);
    c->e[0].cd = cd;
    c->n++;
    return cd;
}

/* bytes in charset as UTF-8 (caller frees), or NULL. GB2312 and GBK are read
 * as GB18030 (a superset: mail labelled GB2312 often holds GBK characters). */
static char *to_utf8(const char *data, size_t n, const char *charset)
{
    const char *cs = charset;
    if (cs && (strcasecmp(cs, "gb2312") == 0 || strcasecmp(cs, "gbk") == 0 ||
               strcasecmp(cs, "x-gbk") == 0 || strcasecmp(cs, "cp936") == 0 ||
               strcasecmp(cs, "euc-cn") == 0))
        cs = "GB18030";
    if (!cs || strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "utf-8") == 0 ||
        strcasecmp(cs, "utf8") == 0) {
        if (g_utf8_validate(data, (gssize)n, NULL)) {
            char *s = malloc(n + 1);
            if (s) {
                memcpy(s, data, n);
                s[n] = '\0';
            }
            return s;
        }
        cs = "GB18030"; /* undeclared 8-bit text: most often Chinese */
    }
    gsize out_n = 0;
    gchar *u = NULL;
    GIConv cd = converter(cs);
    if (cd != (GIConv)-1)
        u = g_convert_with_iconv(data, (gssize)n, cd, NULL, &out_n, NULL);
    if (!u) /* a charset iconv does not know, or bytes not in it */
        u = g_convert_with_fallback(data, (gssize)n, "UTF-8", "ISO-8859-1", "?", NULL, &out_n,
                                    NULL);
    if (!u)
        return NULL;
    char *s = strdup(u);
    g_free(u);
    return s;
}

/* The decoded content of part (transfer encoding undone) into a byte array
 * (caller frees with g_byte_array_unref), or NULL. */
static GByteArray *content_of(GMimePart *part)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (!w)
        return NULL;
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(w, mem);
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE); /* the array is ours */
    g_object_unref(mem);
    return ba;
}

/* Line ends as \n, no trailing white space at the end. */
static void tidy(char *t)
{
    if (!t)
        return;
    char *o = t;
    for (const char *p = t; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n'))
            *o++ = *p;
    while (o > t && (o[-1] == '\n' || o[-1] == ' ' || o[-1] == '\t' || o[-1] == '\r'))
        o--;
    *o = '\0';
}

struct walk {
    struct kw_mail *m;
    char *html;
};

static void take_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
    (void)parent;
    struct walk *w = data;
    if (!GMIME_IS_PART(obj))
        return;
    GMimePart *part = GMIME_PART(obj);
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *disp = g_mime_object_get_disposition(obj);
    const char *fname = g_mime_part_get_filename(part);
    bool attachment = (disp && strcasecmp(disp, "attachment") == 0) || (fname && *fname);
    bool plain = g_mime_content_type_is_type(ct, "text", "plain");
    bool html = g_mime_content_type_is_type(ct, "text", "html");
    GByteArray *ba = content_of(part);
    if (!ba)
        return;
    if (!attachment && (plain || html)) {
        const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
        char *t = to_utf8((const char *)ba->data, ba->len, cs);
        if (plain && !w->m->text)
            w->m->text = t;
        else if (html && !w->html)
            w->html = t;
        else
            free(t);
    } else if (attachment && w->m->n_files < KW_MAIL_MAX_ATTACHMENTS) {
        struct kw_mail_file *f = &w->m->files[w->m->n_files];
        char *type = g_mime_content_type_get_mime_type(ct);
        f->type = dup_or_null(type);
        g_free(type);
        f->name = dup_or_null(fname ? fname : "attachment");
        f->size = ba->len;
        f->data = malloc(ba->len ? ba->len : 1);
        if (f->data && f->name) {
            memcpy(f->data, ba->data, ba->len);
            w->m->n_files++;
        } else {
            free(f->data);
            free(f->name);
            free(f->type);
            *f = (struct kw_mail_file){0};
        }
    }
    g_byte_array_unref(ba);
}

/* An id list ("<a@b> <c@d>") as "a@b c@d", or NULL. */
static char *ids_of(const char *header)
{
    if (!header)
        return NULL;
    GMimeReferences *refs = g_mime_references_parse(NULL, header);
    if (!refs)
        return NULL;
    struct kw_buf b = {.max = 65536};
    for (int i = 0; i < g_mime_references_length(refs); i++)
        kw_buf_printf(&b, "%s%s", b.len ? " " : "", g_mime_references_get_message_id(refs, i));
    g_mime_references_free(refs);
    return b.p;
}

static const char *header(GMimeMessage *msg, const char *name)
{
    return g_mime_object_get_header(GMIME_OBJECT(msg), name);
}

/* Whether word occurs in s, ASCII case folded. */
static bool has_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return true;
    return false;
}

/* RFC 3834 and the usual signs of a machine (RT's and Zammad's rules). */
static const char *automatic(GMimeMessage *msg, const char *from)
{
    const char *v = header(msg, "Auto-Submitted");
    if (v) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncasecmp(v, "no", 2) != 0 || (v[2] && v[2] != ' ' && v[2] != ';'))
            return "Auto-Submitted";
    }
    v = header(msg, "Precedence");
    if (v && (has_word(v, "bulk") || has_word(v, "junk") || has_word(v, "list")))
        return "Precedence";
    if (header(msg, "X-Loop"))
        return "X-Loop";
    if (header(msg, "X-Autoreply") || header(msg, "X-Autorespond"))
        return "X-Autoreply";
    v = header(msg, "X-Auto-Response-Suppress");
    if (v && (has_word(v, "all") || has_word(v, "autoreply") || has_word(v, "oof")))
        return "X-Auto-Response-Suppress";
    if (!from || !*from)
        return "no sender";
    if (strncasecmp(from, "mailer-daemon@", 14) == 0 || strncasecmp(from, "postmaster@", 11) == 0)
        return "mailer-daemon";
    return NULL;
}

enum kw_code kw_mail_parse(const void *raw, size_t n, struct kw_mail *out, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *out = (struct kw_mail){0};
    pthread_once(&once, init);
    GMimeStream *s = g_mime_stream_mem_new_with_buffer(raw, n);
    GMimeParser *p = g_mime_parser_new_with_stream(s);
    GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
    g_object_unref(p);
    g_object_unref(s);
    if (!msg)
        return kw_err_set(err, KW_INVALID, "", "not an e-mail message (no headers)");
    InternetAddressList *from = g_mime_message_get_from(msg);
    InternetAddress *ia = from && internet_address_list_length(from) > 0
                              ? internet_address_list_get_address(from, 0)
                              : NULL;
    if (ia && INTERNET_ADDRESS_IS_MAILBOX(ia)) {
        out->from = dup_or_null(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
        for (char *c = out->from; c && *c; c++)
            *c = (char)tolower((unsigned char)*c);
        out->from_name = dup_or_null(internet_address_get_name(ia));
    }
    out->message_id = dup_or_null(g_mime_message_get_message_id(msg));
    char *irt = ids_of(header(msg, "In-Reply-To"));
    if (irt) { /* the first id only */
        char *sp = strchr(irt, ' ');
        if (sp)
            *sp = '\0';
    }
    out->in_reply_to = irt;
    out->references = ids_of(header(msg, "References"));
    out->subject = dup_or_null(g_mime_message_get_subject(msg));
    out->tag = kw_mail_tag(out->subject);
    out->automatic = automatic(msg, out->from);
    struct walk w = {.m = out};
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    if (body && GMIME_IS_MULTIPART(body))
        g_mime_multipart_foreach(GMIME_MULTIPART(body), take_part, &w);
    else if (body)
        take_part(NULL, body, &w);
    if (!out->text && w.html)
        out->text = kw_mail_html_text(w.html, strlen(w.html));
    tidy(out->text);
    free(w.html);
    g_object_unref(msg);
    if (!out->from && !out->automatic)
        return kw_err_set(err, KW_INVALID, "", "the message has no From address");
    return KW_OK;
}
