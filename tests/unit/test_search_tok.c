// SPDX-License-Identifier: MIT
/* kw_trigram (src/store/sqlite/search_tok.c), the search index's tokenizer,
 * against what it gave before its own loop: SQLite's trigram tokenizer run
 * on each stretch of text between spaces (ASCII space, tab, U+3000). The
 * same tokens, in the same order, with the same offsets, so that an index
 * written by either finds what the other's queries ask for. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "testutil.h"

/* The tokenizer's registration (sqlite_int.h is the store's own). */
int kws_search_tokenizer(sqlite3 *db);

static sqlite3 *db;
static fts5_api *api;

/* The tokens a tokenizer gave, one "start-end:hex bytes;" each. */
struct out {
    char s[1 << 16];
    size_t n;
    int stop_after; /* >0: answer SQLITE_ABORT to that token */
    int count;
};

static int collect(void *ctx, int flags, const char *p, int n, int start, int end)
{
    static const char hex[] = "0123456789abcdef";
    struct out *o = ctx;
    assert_int_equal(flags, 0);
    assert_true(n >= 0 && n < 64 && o->n + 32 + 2 * (size_t)n < sizeof(o->s));
    o->n += (size_t)snprintf(o->s + o->n, sizeof(o->s) - o->n, "%d-%d:", start, end);
    for (int i = 0; i < n; i++) {
        o->s[o->n++] = hex[(unsigned char)p[i] >> 4];
        o->s[o->n++] = hex[(unsigned char)p[i] & 15];
    }
    o->s[o->n++] = ';';
    o->s[o->n] = 0;
    return ++o->count == o->stop_after ? SQLITE_ABORT : SQLITE_OK;
}

/* What kw_trigram was: SQLite's trigram on each run between spaces. */
struct shift {
    struct out *o;
    int at;
};

static int shifted(void *ctx, int flags, const char *p, int n, int start, int end)
{
    struct shift *sh = ctx;
    return collect(sh->o, flags, p, n, sh->at + start, sh->at + end);
}

static int space_len(const char *p, const char *end)
{
    if (*p == ' ' || *p == '\t')
        return 1;
    return end - p >= 3 && (unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 &&
                   (unsigned char)p[2] == 0x80
               ? 3
               : 0;
}

/* A tokenizer's methods and an instance of it with argv. */
struct inst {
    fts5_tokenizer m;
    Fts5Tokenizer *t;
};

static struct inst inst_new(const char *name, const char **argv, int argc)
{
    void *ud = NULL;
    struct inst i = {0};
    assert_int_equal(api->xFindTokenizer(api, name, &ud, &i.m), SQLITE_OK);
    assert_int_equal(i.m.xCreate(ud, argv, argc, &i.t), SQLITE_OK);
    return i;
}

static struct inst ref0, ours0; /* without arguments, made once (setup) */

static int reference(const char **argv, int argc, const char *text, int n, struct out *o)
{
    struct inst i = argc ? inst_new("trigram", argv, argc) : ref0;
    fts5_tokenizer m = i.m;
    Fts5Tokenizer *t = i.t;
    int rc = SQLITE_OK;
    const char *end = text + n;
    for (const char *q = text; q < end && rc == SQLITE_OK;) {
        int sp = space_len(q, end);
        if (sp) {
            q += sp;
            continue;
        }
        const char *run = q;
        while (q < end && !space_len(q, end))
            q++;
        if (q - run < 3)
            continue;
        struct shift sh = {o, (int)(run - text)};
        rc = m.xTokenize(t, &sh, FTS5_TOKENIZE_DOCUMENT, run, (int)(q - run), shifted);
    }
    if (argc)
        m.xDelete(t);
    return rc;
}

static int ours(const char **argv, int argc, const char *text, int n, struct out *o)
{
    struct inst i = argc ? inst_new("kw_trigram", argv, argc) : ours0;
    int rc = i.m.xTokenize(i.t, o, FTS5_TOKENIZE_DOCUMENT, text, n, collect);
    if (argc)
        i.m.xDelete(i.t);
    return rc;
}

static struct out a, b; /* large: not on the stack */

/* Both tokenizers on text[0..n): the same tokens, or fail naming it. */
static void same(const char *name, const char **argv, int argc, const char *text, int n)
{
    a.n = b.n = 0, a.count = b.count = 0, a.stop_after = b.stop_after = 0;
    a.s[0] = b.s[0] = 0;
    int ra = reference(argv, argc, text, n, &a), rb = ours(argv, argc, text, n, &b);
    if (ra != rb || strcmp(a.s, b.s) != 0)
        fail_msg("%s: trigram %d \"%s\", kw_trigram %d \"%s\"", name, ra, a.s, rb, b.s);
}

static int setup(void **state)
{
    (void)state;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || kws_search_tokenizer(db) != SQLITE_OK)
        return -1;
    sqlite3_stmt *x = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &x, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_pointer(x, 1, &api, "fts5_api_ptr", NULL);
    sqlite3_step(x);
    sqlite3_finalize(x);
    if (!api)
        return -1;
    ref0 = inst_new("trigram", NULL, 0);
    ours0 = inst_new("kw_trigram", NULL, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ref0.m.xDelete(ref0.t);
    ours0.m.xDelete(ours0.t);
    sqlite3_close(db);
    return 0;
}

static void test_cases(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
        int n; /* 0: strlen */
    } cases[] = {
        {"empty", "", 0},
        {"one and two characters", "a ab 网 网络", 0},
        {"an ASCII word", "printer", 0},
        {"ASCII words, A-Z folded", "Printer CANNOT connect to the LAN", 0},
        {"digits and punctuation", "error#5003: \"timeout\" (x2) @10:30!", 0},
        {"Chinese", "打印机无法连接网络", 0},
        {"Chinese words between spaces", "打印机 网络 服务器 timeout", 0},
        {"mixed in one run", "VPN连接失败Error码E42，请重启", 0},
        {"tabs and runs of spaces", "\t a  bcd\t\tEFGH \t", 0},
        {"U+3000 between words", "打印机　网络　ABC　xyz", 0},
        {"U+3000 twice and at the ends", "　　打印机　　", 0},
        {"CJK punctuation and quotes", "「打印机」、《手册》。“OK”‘x’…—", 0},
        {"fullwidth punctuation and lower case", "你好，世界！（ａｂｃ）？：；", 0},
        {"fullwidth capitals (SQLite folds them)", "ＡＢＣ打印ＸＹＺ", 0},
        {"kana and Hangul", "プリンターがつながらない 프린터연결", 0},
        {"Latin-1 capitals (folded by SQLite)", "École ÜBER Straße ÀÉÎÕÜ", 0},
        {"Latin-1 lower case", "café crème déjà", 0},
        {"Greek and Cyrillic", "ΣΊΣΥΦΟΣ Привет МИР", 0},
        {"Latin Extended Additional", "Ạ Ḁḁ Ỹỹ TIẾNG VIỆT", 0},
        {"letterlike symbols (Kelvin, Ohm)", "K Ω Å №™ℓ", 0},
        {"roman numerals and circled letters", "ⅠⅡⅢ ⒶⒷⒸ ⓐⓑⓒ", 0},
        {"emoji and a CJK extension B character", "好😀😀👍🏽𠀀𠀁abc", 0},
        {"an organisation's scope (Private Use Area)", "\xEE\x80\x81\xEE\x80\x80\xEE\x80\x80", 0},
        {"Deseret capitals (folded by SQLite)", "𐐀𐐁𐐂 𐐨𐐩𐐪", 0},
        {"a NUL inside a run", "abc\0def ghi", 11},
        {"a NUL inside Chinese", "打印\0机网络", 16},
        {"a lone continuation byte",
         "ab\x80"
         "cd",
         0},
        {"a continuation byte after a CJK character", "打\x80印机", 0},
        {"a truncated CJK character at the end", "打印机\xE6\x89", 0},
        {"a truncated CJK character inside", "打\xE6\x89印机", 0},
        {"a lead byte alone before a space", "abc\xE6 def", 0},
        {"U+3000 cut short at the end", "abc\xE3\x80", 0},
        {"U+3000 with a stray continuation byte", "abc\xE3\x80\x80\x80xyz", 0},
        {"an overlong encoding",
         "a\xE0\x80\x80"
         "bc\xC0\xAF"
         "de",
         0},
        {"an encoded surrogate",
         "ab\xED\xA0\x80"
         "cd",
         0},
        {"U+FFFE and U+FFFF",
         "ab\xEF\xBF\xBE\xEF\xBF\xBF"
         "cd",
         0},
        {"U+FFFD",
         "ab\xEF\xBF\xBD"
         "cd",
         0},
        {"beyond U+10FFFF",
         "ab\xF4\x90\x80\x80\xF7\xBF\xBF\xBF"
         "cd",
         0},
        {"bytes 0xF8 to 0xFF",
         "ab\xF8\xFF\xFE"
         "cdef",
         0},
        {"2-byte lead then 3-byte character", "\xC3打印机", 0},
        {"a 4-byte character cut short",
         "ab\xF0\x9F\x98"
         "cd",
         0},
        {"a space byte inside a sequence", "打\xE6 \x89印机", 0},
        {"control characters",
         "a\x01\x02\x1f\x7f"
         "b",
         0},
        {"a long run",
         "打印机无法连接网络服务器超时重启硬盘内存交换机防火墙证书过期客户端页面显示错误缓慢"
         "PRINTERcannotCONNECTnetworkSERVERtimeout",
         0},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        int n = cases[i].n ? cases[i].n : (int)strlen(cases[i].text);
        same(cases[i].name, NULL, 0, cases[i].text, n);
    }
    /* and what it gives for a few, spelled out */
    memset(&b, 0, sizeof(b));
    assert_int_equal(ours(NULL, 0, "Ab网络 xyZ", 12, &b), SQLITE_OK);
    assert_string_equal(b.s, "0-5:6162e7bd91;1-8:62e7bd91e7bb9c;9-12:78797a;");
    memset(&b, 0, sizeof(b));
    assert_int_equal(ours(NULL, 0, "ÉCOLE", 6, &b), SQLITE_OK);
    assert_string_equal(b.s, "0-4:c3a9636f;2-5:636f6c;3-6:6f6c65;");
}

/* Every code point (surrogates, U+FFFE/U+FFFF and beyond U+10FFFF as
 * SQLite reads them too), alone and next to ASCII and a CJK character. */
static void test_every_code_point(void **state)
{
    (void)state;
    for (uint32_t c = 1; c < 0x140000; c++) {
        char u[4];
        int k;
        if (c < 0x80) {
            u[0] = (char)c, k = 1;
        } else if (c < 0x800) {
            u[0] = (char)(0xC0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3F)), k = 2;
        } else if (c < 0x10000) {
            u[0] = (char)(0xE0 | c >> 12), u[1] = (char)(0x80 | (c >> 6 & 0x3F));
            u[2] = (char)(0x80 | (c & 0x3F)), k = 3;
        } else {
            u[0] = (char)(0xF0 | c >> 18), u[1] = (char)(0x80 | (c >> 12 & 0x3F));
            u[2] = (char)(0x80 | (c >> 6 & 0x3F)), u[3] = (char)(0x80 | (c & 0x3F)), k = 4;
        }
        char s[32];
        int n = 0;
        memcpy(s + n, u, (size_t)k), n += k;
        memcpy(s + n, "aZ", 2), n += 2;
        memcpy(s + n, u, (size_t)k), n += k;
        memcpy(s + n, u, (size_t)k), n += k;
        memcpy(s + n, "网", 3), n += 3;
        char name[32];
        snprintf(name, sizeof(name), "U+%04X", (unsigned)c);
        same(name, NULL, 0, s, n);
        if (c >= 0x10000)
            continue;
        /* and its overlong form of 4 bytes (and of 3 below U+0800) */
        n = 0;
        s[n++] = 'x';
        s[n++] = (char)0xF0, s[n++] = (char)(0x80 | (c >> 12 & 0x3F));
        s[n++] = (char)(0x80 | (c >> 6 & 0x3F)), s[n++] = (char)(0x80 | (c & 0x3F));
        if (c < 0x800) {
            s[n++] = (char)0xE0, s[n++] = (char)(0x80 | (c >> 6 & 0x3F));
            s[n++] = (char)(0x80 | (c & 0x3F));
        }
        memcpy(s + n, "网y", 4), n += 4;
        snprintf(name, sizeof(name), "U+%04X overlong", (unsigned)c);
        same(name, NULL, 0, s, n);
    }
}

static uint64_t next(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Random strings of bytes that make up spaces, ASCII, CJK, other letters,
 * emoji and every kind of malformed UTF-8. */
static void test_random(void **state)
{
    (void)state;
    static const unsigned char alphabet[] = {
        'a',  'Z',  'q',  '5',  ' ',  '\t', 0,    0x80, 0x8C, 0xBF, 0xC3, 0x89, 0xA9,
        0xCE, 0xA3, 0xE3, 0x80, 0xE4, 0xB8, 0xAD, 0xE6, 0x89, 0x93, 0xEF, 0xBC, 0xA1,
        0x8C, 0xBD, 0xED, 0xA0, 0xF0, 0x9F, 0x98, 0x90, 0xF4, 0x8F, 0xF8, 0xFF, 0xE2,
        0x84, 0xAA, 0xE1, 0xBA, 0xA0, 0xEA, 0x99, 0x80, 0xE0, 0xF1, 0xF3, 0xA0};
    uint64_t rng = 13;
    for (int i = 0; i < 300000; i++) {
        char s[40];
        int n = (int)(next(&rng) % sizeof(s));
        for (int j = 0; j < n; j++)
            s[j] = (char)alphabet[next(&rng) % sizeof(alphabet)];
        char name[32];
        snprintf(name, sizeof(name), "random string %d", i);
        same(name, NULL, 0, s, n);
    }
}

/* With arguments (case_sensitive 1) SQLite's tokenizer decides; a token's
 * refusal stops the tokenizing and is returned. */
static void test_arguments_and_refusal(void **state)
{
    (void)state;
    const char *cs[] = {"case_sensitive", "1"};
    same("case_sensitive 1", cs, 2, "Printer ÉCOLE 打印机", (int)strlen("Printer ÉCOLE 打印机"));
    const char *ci[] = {"case_sensitive", "0"};
    same("case_sensitive 0", ci, 2, "Printer ÉCOLE 打印机", (int)strlen("Printer ÉCOLE 打印机"));
    for (int stop = 1; stop <= 6; stop++) {
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        a.stop_after = b.stop_after = stop;
        const char *t = "ABCD 打印机网络 École";
        int ra = reference(NULL, 0, t, (int)strlen(t), &a);
        int rb = ours(NULL, 0, t, (int)strlen(t), &b);
        assert_int_equal(ra, rb);
        assert_string_equal(a.s, b.s);
    }
}

/* An FTS5 table with the tokenizer finds words of any case of A-Z. */
static void test_table(void **state)
{
    (void)state;
    char *msg = NULL;
    int rc = sqlite3_exec(db,
                          "CREATE VIRTUAL TABLE t USING fts5(x, "
                          "tokenize = 'kw_trigram');"
                          "INSERT INTO t VALUES ('Printer 打印机无法连接'), ('network 网络');",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s", msg);
    static const struct {
        const char *q;
        int rowid;
    } cases[] = {{"PRINT", 1},    {"rinter", 1},  {"打印机", 1},
                 {"无法连接", 1}, {"NETwork", 2}, {"xyz", 0}};
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        sqlite3_stmt *x = NULL;
        assert_int_equal(
            sqlite3_prepare_v2(db, "SELECT coalesce(max(rowid), 0) FROM t(?1)", -1, &x, NULL),
            SQLITE_OK);
        char q[64];
        snprintf(q, sizeof(q), "\"%s\"", cases[i].q);
        sqlite3_bind_text(x, 1, q, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(x), SQLITE_ROW);
        if (sqlite3_column_int(x, 0) != cases[i].rowid)
            fail_msg("%s: row %d, expected %d", cases[i].q, sqlite3_column_int(x, 0),
                     cases[i].rowid);
        sqlite3_finalize(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),  cmocka_unit_test(test_every_code_point),
        cmocka_unit_test(test_random), cmocka_unit_test(test_arguments_and_refusal),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
