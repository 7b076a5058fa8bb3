#!/bin/sh
# cli.sh KEEPWORD - keepword's commands on PostgreSQL, as far as they go:
# init (and its refusals), verify, and serve starting and stopping. Run
# under tests/pg/cluster.sh run (KW_PG_CONNINFO).
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
grep -q "0 tickets, 0 events, the credit ledger and 0 audit entries: every chain is intact" "$tmp/out" ||
    fail "verify said: $(cat "$tmp/out")"

# serve runs on it: it says where it serves, answers /healthz with the
# PostgreSQL schema's version, and stops cleanly on SIGTERM
"$kw" serve --db "$db" --listen 127.0.0.1:0 --log-key "$tmp/key" >"$tmp/out" 2>"$tmp/err" &
pid=$!
port=
i=0
while [ -z "$port" ] && [ "$i" -lt 100 ]; do
    port=$(sed -n 's/.*serving http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/err")
    [ -n "$port" ] || sleep 0.1
    i=$((i + 1))
done
if [ -z "$port" ]; then
    fail "serve did not start: $(cat "$tmp/err")"
    kill "$pid" 2>/dev/null || true
else
    schema=$(find "$(dirname "$0")/../../src/store/pg/migrations" -name '[0-9]*.sql' | wc -l)
    curl -s "http://127.0.0.1:$port/healthz" >"$tmp/health" || fail "healthz did not answer"
    grep -q "\"schema\":$schema" "$tmp/health" || fail "healthz said: $(cat "$tmp/health")"
    kill -TERM "$pid"
    wait "$pid" || fail "serve did not stop cleanly: $(cat "$tmp/err")"
fi
if grep -q "is not implemented on PostgreSQL yet" "$tmp/err"; then
    fail "serve met a store call PostgreSQL lacks: $(grep 'not implemented' "$tmp/err" | head -3)"
fi

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
