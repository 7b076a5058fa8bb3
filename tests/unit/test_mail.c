// SPDX-License-Identifier: MIT
/* app/mail: real messages (the .eml files of tests/unit/mail) read with GMime: Chinese
 * in GB2312/GBK/GB18030 and encoded words, an attachment, plain text
 * preferred in multipart/alternative, HTML turned into text, reply
 * headers, the ticket tag, and the signs of a machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail.h"

static char *slurp(const char *name, size_t *n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/unit/mail/%s", KW_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[65536];
    *n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    char *out = malloc(*n + 1);
    memcpy(out, buf, *n);
    out[*n] = '\0';
    return out;
}

static void parse(const char *name, struct kw_mail *m)
{
    size_t n;
    char *raw = slurp(name, &n);
    struct kw_err err = {0};
    if (kw_mail_parse(raw, n, m, &err) != KW_OK)
        fail_msg("%s: %s", name, err.msg);
    free(raw);
}

static void test_gbk_with_attachment(void **state)
{
    (void)state;
    struct kw_mail m;
    parse("gbk-attachment.eml", &m);
    assert_string_equal(m.from, "zhang.wei@huaxin.example.cn"); /* lower case */
    assert_string_equal(m.from_name, "张伟");
    assert_string_equal(m.subject, "打印机故障");
    assert_string_equal(m.message_id, "20261130.1@huaxin.example.cn");
    assert_non_null(m.text);
    /* 镕 is in GBK, not GB2312: read as GB18030 all the same */
    assert_non_null(strstr(m.text, "朱镕基路的办公室无法打印"));
    assert_null(m.automatic);
    assert_int_equal(m.tag, 0);
    assert_int_equal(m.n_files, 1);
    assert_string_equal(m.files[0].name, "故障截图.png");
    assert_string_equal(m.files[0].type, "image/png");
    size_t n;
    char *png = slurp("gbk-attachment.png.bin", &n);
    assert_int_equal(m.files[0].size, n);
    assert_memory_equal(m.files[0].data, png, n);
    free(png);
    kw_mail_release(&m);
}

static void test_alternative_reply(void **state)
{
    (void)state;
    struct kw_mail m;
    parse("alternative-reply.eml", &m);
    assert_string_equal(m.text, "Still down — tried twice.");
    assert_string_equal(m.in_reply_to, "kw.42.7.abc@desk.example.cn");
    assert_string_equal(m.references, "first@dongfang.example.cn kw.42.7.abc@desk.example.cn");
    assert_int_equal(m.tag, 42);
    assert_int_equal(m.n_files, 0);
    kw_mail_release(&m);
}

static void test_html_only(void **state)
{
    (void)state;
    struct kw_mail m;
    parse("html-only.eml", &m);
    assert_string_equal(m.subject, "服务器");
    assert_string_equal(m.text, "服务器 宕机&无法访问\n- 一\n- 二\n三<end>");
    kw_mail_release(&m);
}

static void test_machines(void **state)
{
    (void)state;
    static const struct {
        const char *file, *why;
    } cases[] = {
        {"auto-reply.eml", "Auto-Submitted"},
        {"bounce.eml", "mailer-daemon"},
        {"list.eml", "Precedence"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kw_mail m;
        parse(cases[i].file, &m);
        if (!m.automatic || strcmp(m.automatic, cases[i].why) != 0)
            fail_msg("%s: want %s, got %s", cases[i].file, cases[i].why,
                     m.automatic ? m.automatic : "a person");
        kw_mail_release(&m);
    }
}

static void test_headers_inline(void **state)
{
    (void)state;
    static const struct {
        const char *name, *raw, *automatic;
    } cases[] = {
        {"Auto-Submitted: no is a person", "From: a@b.cn\r\nAuto-Submitted: no\r\n\r\nhi\r\n",
         NULL},
        {"Auto-Submitted: auto-generated",
         "From: a@b.cn\r\nAuto-Submitted: auto-generated\r\n\r\nhi\r\n", "Auto-Submitted"},
        {"Precedence: list", "From: a@b.cn\r\nPrecedence: list\r\n\r\nhi\r\n", "Precedence"},
        {"Precedence: junk", "From: a@b.cn\r\nPrecedence: junk\r\n\r\nhi\r\n", "Precedence"},
        {"postmaster", "From: postmaster@b.cn\r\n\r\nhi\r\n", "mailer-daemon"},
        {"X-Loop", "From: a@b.cn\r\nX-Loop: desk\r\n\r\nhi\r\n", "X-Loop"},
        {"Exchange's suppress header",
         "From: a@b.cn\r\nX-Auto-Response-Suppress: All\r\n\r\nhi\r\n", "X-Auto-Response-Suppress"},
        {"no sender", "Subject: x\r\n\r\nhi\r\n", "no sender"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kw_mail m;
        struct kw_err err = {0};
        enum kw_code rc = kw_mail_parse(cases[i].raw, strlen(cases[i].raw), &m, &err);
        if (rc != KW_OK)
            fail_msg("%s: %s", cases[i].name, err.msg);
        bool ok = cases[i].automatic ? m.automatic && strcmp(m.automatic, cases[i].automatic) == 0
                                     : m.automatic == NULL;
        if (!ok)
            fail_msg("%s: got %s", cases[i].name, m.automatic ? m.automatic : "a person");
        kw_mail_release(&m);
    }
}

static void test_tags(void **state)
{
    (void)state;
    static const struct {
        const char *subject;
        long long tag;
    } cases[] = {
        {"Re: [KW#123] printer", 123},
        {"[KW#7]", 7},
        {"Re: [KW#] x", 0},
        {"[KW#12a] x", 0},
        {"[kw#5] lower case", 0},
        {"a [KW#x] then [KW#9]", 9},
        {"no tag", 0},
        {NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (kw_mail_tag(cases[i].subject) != cases[i].tag)
            fail_msg("%s: want %lld", cases[i].subject ? cases[i].subject : "(null)", cases[i].tag);
}

static void test_html(void **state)
{
    (void)state;
    static const struct {
        const char *name, *html, *text;
    } cases[] = {
        {"tags dropped", "<b>bold</b> <i>it</i>", "bold it"},
        {"script skipped", "a<script>alert(1)</script>b", "ab"},
        {"style skipped", "<style>x{}</style>text", "text"},
        {"a comment", "a<!-- <p>hidden</p> -->b", "ab"},
        {"a quoted >", "<a href=\"x>y\">link</a>", "link"},
        {"line breaks", "one<br>two<p>three</p>", "one\ntwo\nthree"},
        {"entities", "&lt;&amp;&gt;&quot;&#65;&#x42;", "<&>\"AB"},
        {"an unknown entity stays", "&bogus; &", "&bogus; &"},
        {"a bad code point", "&#xD800;", "\xef\xbf\xbd"},
        {"white space collapses", "a \n\t  b", "a b"},
        {"an unclosed tag", "a<b", "a"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = kw_mail_html_text(cases[i].html, strlen(cases[i].html));
        if (strcmp(t, cases[i].text) != 0)
            fail_msg("%s: got \"%s\"", cases[i].name, t);
        free(t);
    }
}

static void test_not_mail(void **state)
{
    (void)state;
    struct kw_mail m;
    struct kw_err err = {0};
    assert_int_equal(kw_mail_parse("", 0, &m, &err), KW_INVALID);
    kw_mail_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gbk_with_attachment),
        cmocka_unit_test(test_alternative_reply),
        cmocka_unit_test(test_html_only),
        cmocka_unit_test(test_machines),
        cmocka_unit_test(test_headers_inline),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_not_mail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
