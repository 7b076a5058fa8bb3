#!/bin/sh
# cli.sh KEEPWORD - keepword's commands on PostgreSQL, as far as they go:
# init (and its refusals), verify, and serve stopping with the store call
# it lacks named. Run under tests/pg/cluster.sh run (KW_PG_CONNINFO).
set -eu
kw=$1
[ -n "${KW_PG_CONNINFO:-}" ] || { echo "cli.sh: run under tests/pg/cluster.sh run" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kw-pgcli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$KW_PG_CONNINFO
fails=0
fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# init without --log-key: there is no database file to keep PATH.log-key beside
if "$kw" init --db "$db" >"$tmp/out" 2>"$tmp/err"; then
    fail "init without --log-key succeeded"
fi
grep -q -- "--log-key FILE is required with a PostgreSQL --db" "$tmp/err" ||
    fail "init without --log-key: $(cat "$tmp/err")"
[ ! -e "$db.log-key" ] || fail "init made a key file named after the connection string"

KEEPWORD_ADMIN_PASSWORD=correct-horse-battery "$kw" init --db "$db" --log-key "$tmp/key" \
    >"$tmp/out" 2>"$tmp/err" || fail "init: $(cat "$tmp/err")"
grep -q "admin admin@localhost created" "$tmp/out" || fail "init said: $(cat "$tmp/out")"
[ -f "$tmp/key" ] || fail "init made no log key"

# a second init refuses: there is an admin
if "$kw" init --db "$db" --log-key "$tmp/key" >"$tmp/out" 2>"$tmp/err"; then
    fail "a second init succeeded"
fi
grep -q "already has an admin account" "$tmp/err" || fail "second init: $(cat "$tmp/err")"

"$kw" verify --db "$db" >"$tmp/out" 2>"$tmp/err" || fail "verify: $(cat "$tmp/err")"
grep -q "0 tickets, 0 events: every chain is intact" "$tmp/out" ||
    fail "verify said: $(cat "$tmp/out")"

# serve cannot run yet: it stops at once, naming the call the backend lacks
if "$kw" serve --db "$db" --listen 127.0.0.1:0 --log-key "$tmp/key" >"$tmp/out" 2>"$tmp/err"; then
    fail "serve ran"
fi
grep -q "is not implemented on PostgreSQL yet" "$tmp/err" || fail "serve: $(cat "$tmp/err")"

# an unreachable database is one line naming it, without the password
if "$kw" verify --db "postgresql://kw:s3cret@127.0.0.1:1/kw?connect_timeout=2" \
    >"$tmp/out" 2>"$tmp/err"; then
    fail "verify of an unreachable database succeeded"
fi
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "not one line: $(cat "$tmp/err")"
if grep -q s3cret "$tmp/err"; then fail "the password was shown: $(cat "$tmp/err")"; fi
grep -q "127.0.0.1:1" "$tmp/err" || fail "the database is not named: $(cat "$tmp/err")"

if [ "$fails" -ne 0 ]; then
    echo "cli.sh: $fails failed" >&2
    exit 1
fi
echo "cli.sh: PostgreSQL init, verify and refusals pass"
