// SPDX-License-Identifier: MIT
/*
 * kw_text.h - checks on text that leaves the server in a protocol line:
 * e-mail addresses (SMTP's MAIL FROM / RCPT TO, RFC 5321) and URLs (an
 * HTTP request line), control characters in people's text, and cutting
 * UTF-8 text at a character boundary. Nothing here allocates.
 */
#ifndef KW_TEXT_H
#define KW_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..len) is a mailbox as RFC 5321 writes it unquoted:
 * Dot-string "@" Domain. The local part is 1-64 bytes of atext (letters,
 * digits, !#$%&'*+-/=?^_`{|}~ and UTF-8 beyond ASCII, RFC 6531) in
 * dot-separated non-empty atoms; the domain 1-253 bytes of labels of 1-63
 * letters, digits, hyphens (not first or last) or UTF-8, separated by single
 * dots. No spaces, controls, quotes, brackets or commas anywhere, so the
 * address cannot end or add an SMTP command. */
bool kw_email_ok(const char *s, size_t len);

/* Whether url is printable ASCII without spaces (0x21-0x7E only): a
 * URL with CR, LF, other controls, spaces or raw UTF-8 is refused rather
 * than sent (percent-encode them). */
bool kw_url_clean(const char *url);

/* Whether s[0..len) (UTF-8) holds a control character: C0 (but tab, line
 * feed and carriage return when lines is true), DEL or C1 (U+0080-U+009F,
 * UTF-8 C2 80-C2 9F). A NUL counts: len is the text's length. */
bool kw_text_has_control(const char *s, size_t len, bool lines);

/* Make NUL-terminated UTF-8 text s one line in place: each run of control
 * characters (as kw_text_has_control with lines false: tabs and line
 * breaks too) becomes one space. Returns s. For a title taken from
 * elsewhere (a mail's subject, an alert's summary). */
char *kw_text_one_line(char *s);

/* The largest n <= max such that s[0..n) does not end inside a UTF-8
 * character (s is len bytes; returns len when len <= max). */
size_t kw_utf8_cut(const char *s, size_t len, size_t max);

#endif
