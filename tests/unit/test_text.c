// SPDX-License-Identifier: MIT
/* util/kw_text: e-mail addresses and URLs that go into protocol lines, and
 * cutting UTF-8 at a character boundary. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kw_buf.h"
#include "kw_text.h"
#include "testutil.h"

static void test_html(void **state)
{
    (void)state;
    struct kw_buf b = {.max = 1 << 10};
    kw_buf_html(&b, "<a href=\"x\">R&D</a> 服务");
    kw_buf_html(&b, NULL);
    kw_buf_html(&b, "");
    kw_buf_adds(&b, "|");
    kw_buf_html(&b, "&");
    kw_buf_add(&b, "", 1);
    assert_string_equal(b.p, "&lt;a href=&quot;x&quot;&gt;R&amp;D&lt;/a&gt; 服务|&amp;");
    kw_buf_release(&b);
}

static void test_email(void **state)
{
    (void)state;
    static const struct {
        const char *name, *s;
        bool ok;
    } cases[] = {
        {"a plain address", "li.na@acme.example", true},
        {"plus, hyphen and digits", "ops+sla-2@mail.acme-corp.example", true},
        {"atext punctuation", "a!#$%&'*/=?^_`{|}~@x.example", true},
        {"a UTF-8 local part (RFC 6531)", "李娜@acme.example", true},
        {"a one-label domain", "root@localhost", true},
        {"CR/LF ends the command", "a@x.example\r\nRCPT TO:<spy@evil.example>", false},
        {"a space", "a b@x.example", false},
        {"a tab", "a\tb@x.example", false},
        {"two @", "a@b@x.example", false},
        {"no local part", "@x.example", false},
        {"no domain", "a@", false},
        {"no @", "a.example", false},
        {"angle brackets", "<a@x.example>", false},
        {"a comma splits the recipients", "a,b@x.example", false},
        {"a quoted local part is not taken", "\"a b\"@x.example", false},
        {"a leading dot", ".a@x.example", false},
        {"a trailing dot", "a.@x.example", false},
        {"two dots", "a..b@x.example", false},
        {"a domain label starting with -", "a@-x.example", false},
        {"a domain label ending with -", "a@x-.example", false},
        {"an empty domain label", "a@x..example", false},
        {"a domain ending with a dot", "a@x.example.", false},
        {"percent in the domain", "a@x.example%0d%0a", false},
        {"a 65-byte local part",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.example", false},
        {"a 64-byte local part",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.example", true},
        {"a NUL inside", "a\0b@x.example", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strcmp(cases[i].name, "a NUL inside") == 0 ? 13 : strlen(cases[i].s);
        if (kw_email_ok(cases[i].s, len) != cases[i].ok)
            fail_msg("%s: \"%s\" should be %s", cases[i].name, cases[i].s,
                     cases[i].ok ? "taken" : "refused");
    }
}

static void test_url(void **state)
{
    (void)state;
    static const struct {
        const char *name, *s;
        bool ok;
    } cases[] = {
        {"a plain URL", "https://hooks.example/a?b=c&d=%20", true},
        {"CR/LF", "http://hooks.example/a\r\nX-Injected: 1", false},
        {"a space", "http://hooks.example/a b", false},
        {"a tab", "http://hooks.example/\ta", false},
        {"DEL", "http://hooks.example/\x7f", false},
        {"raw UTF-8", "http://hooks.example/工单", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (kw_url_clean(cases[i].s) != cases[i].ok)
            fail_msg("%s: should be %s", cases[i].name, cases[i].ok ? "taken" : "refused");
}

static void test_utf8_cut(void **state)
{
    (void)state;
    const char *s = "ab延延"; /* 2 + 3 + 3 bytes */
    static const struct {
        const char *name;
        size_t max, want;
    } cases[] = {
        {"short enough: all of it", 8, 8},
        {"more room than text", 100, 8},
        {"inside the last character: before it", 7, 5},
        {"just after the first character", 5, 5},
        {"inside the first character: before it", 3, 2},
        {"before the first character", 2, 2},
        {"nothing", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t got = kw_utf8_cut(s, strlen(s), cases[i].max);
        if (got != cases[i].want)
            fail_msg("%s: got %zu, want %zu", cases[i].name, got, cases[i].want);
    }
}

/* kw_grow: room for need elements by doubling from 64, the contents kept;
 * a size no array can have leaves it as it was. */
static void test_has_control(void **state)
{
    (void)state;
    assert_false(kw_text_has_control("打印机 prints", strlen("打印机 prints"), false));
    assert_false(kw_text_has_control("a\tb\r\nc", 6, true)); /* lines: tabs and breaks */
    assert_true(kw_text_has_control("a\tb", 3, false));      /* one line: not even a tab */
    assert_true(kw_text_has_control("a\nb", 3, false));
    assert_true(kw_text_has_control("bell \a", 6, true)); /* other C0 */
    assert_true(kw_text_has_control("esc \x1b[31m", 9, true));
    assert_true(kw_text_has_control("del \x7f", 5, true));
    assert_true(kw_text_has_control("c1 \xc2\x85", 5, true));   /* U+0085 NEL */
    assert_false(kw_text_has_control("\xc2\xa0nbsp", 6, true)); /* U+00A0: not C1 */
    assert_true(kw_text_has_control("nul\0here", 8, true));     /* a NUL within len */
    assert_false(kw_text_has_control("\xc2", 1, true));         /* cut before its second byte */
    assert_false(kw_text_has_control("", 0, false));
}

static void test_one_line(void **state)
{
    (void)state;
    char a[] = "disk full\n\ton /var\r\n", b[] = "bell\a\x1b[31mred \xc2\x85nel",
         c[] = "打印机 \xc2\xa0ok", d[] = "";
    assert_string_equal(kw_text_one_line(a), "disk full on /var ");
    assert_string_equal(kw_text_one_line(b), "bell [31mred  nel");
    assert_string_equal(kw_text_one_line(c), "打印机 \xc2\xa0ok"); /* untouched */
    assert_string_equal(kw_text_one_line(d), "");
    assert_false(kw_text_has_control(a, strlen(a), false));
    assert_false(kw_text_has_control(b, strlen(b), false));
}

static void test_grow(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0;
    assert_true(kw_grow((void **)&a, &cap, 0, sizeof(*a)));
    assert_null(a);
    assert_true(kw_grow((void **)&a, &cap, 1, sizeof(*a)));
    assert_int_equal(cap, 64);
    for (int i = 0; i < 64; i++)
        a[i] = i;
    assert_true(kw_grow((void **)&a, &cap, 65, sizeof(*a)));
    assert_int_equal(cap, 128);
    assert_true(kw_grow((void **)&a, &cap, 1000, sizeof(*a)));
    assert_int_equal(cap, 1024);
    for (int i = 0; i < 64; i++)
        assert_int_equal(a[i], i);
    int *kept = a;
    assert_false(kw_grow((void **)&a, &cap, SIZE_MAX / 2, sizeof(*a)));
    assert_ptr_equal(a, kept);
    assert_int_equal(cap, 1024);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html),     cmocka_unit_test(test_grow),
        cmocka_unit_test(test_email),    cmocka_unit_test(test_url),
        cmocka_unit_test(test_utf8_cut), cmocka_unit_test(test_has_control),
        cmocka_unit_test(test_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
