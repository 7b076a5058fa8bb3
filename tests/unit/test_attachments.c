// SPDX-License-Identifier: MIT
/* app/attachments: which file names are kept (each row a sentence of the
 * rule), and the SHA-256 a file is known by (FIPS 180-4 test vectors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "attachments.h"

static void test_names(void **state)
{
    (void)state;
    char long_ok[256], long_bad[257];
    memset(long_ok, 'a', 255);
    long_ok[255] = '\0';
    memset(long_bad, 'a', 256);
    long_bad[256] = '\0';
    static const struct {
        const char *name, *file;
        bool ok;
    } cases[] = {
        {"a plain name", "report.pdf", true},
        {"Chinese characters", "故障截图 2026-03-02.png", true},
        {"spaces and quotes inside", "my \"best\" file.txt", true},
        {"an emoji (4 bytes)", "\xf0\x9f\x93\x8e clip.txt", true},
        {"a leading dot", ".env", true},
        {"empty", "", false},
        {"a slash", "a/b.txt", false},
        {"a backslash", "..\\win.ini", false},
        {"dot", ".", false},
        {"dot dot", "..", false},
        {"a newline", "a\nb", false},
        {"a tab", "a\tb", false},
        {"DEL", "a\x7f", false},
        {"a C1 control (U+0085)", "\xc2\x85x", false},
        {"not UTF-8", "\xff\xfe.txt", false},
        {"an overlong slash", "\xc0\xaf.txt", false},
        {"a surrogate", "\xed\xa0\x80.txt", false},
        {"past U+10FFFF", "\xf4\x90\x80\x80", false},
        {"a cut-off sequence", "abc\xe6\x88", false},
        {"only spaces", "   ", false},
        {"only an ideographic space", "\xe3\x80\x80", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kw_err err = {0};
        enum kw_code rc = kw_attachment_name_check(cases[i].file, "/name", &err);
        if ((rc == KW_OK) != cases[i].ok)
            fail_msg("%s: got %d (%s)", cases[i].name, rc, err.msg);
        if (!cases[i].ok && (rc != KW_INVALID || strcmp(err.field, "/name") != 0))
            fail_msg("%s: want KW_INVALID at /name, got %d at %s", cases[i].name, rc, err.field);
    }
    struct kw_err err = {0};
    assert_int_equal(kw_attachment_name_check(long_ok, "/name", &err), KW_OK);
    assert_int_equal(kw_attachment_name_check(long_bad, "/name", &err), KW_INVALID);
    assert_non_null(strstr(err.msg, "255"));
    assert_int_equal(kw_attachment_name_check(NULL, "/name", &err), KW_INVALID);
}

static void test_prepare_hashes(void **state)
{
    (void)state;
    static const struct {
        const char *data, *want;
    } cases[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kw_attachment_in in = {
            .name = "f.txt", .data = cases[i].data, .size = strlen(cases[i].data)};
        struct kw_err err = {0};
        assert_int_equal(kw_attachment_prepare(&in, &err), KW_OK);
        assert_true(in.prepared);
        assert_string_equal(in.sha256_hex, cases[i].want);
    }
    struct kw_attachment_in bad = {.name = "a/b", .data = "x", .size = 1};
    struct kw_err err = {0};
    assert_int_equal(kw_attachment_prepare(&bad, &err), KW_INVALID);
    assert_false(bad.prepared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_prepare_hashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
