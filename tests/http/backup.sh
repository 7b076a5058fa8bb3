#!/usr/bin/env bash
# keepword backup while the server takes writes, and keepword restore: every
# ticket acknowledged before the backup began is in the copy, every chain in
# it verifies, a tampered copy is refused, and nothing is overwritten.
# usage: tests/http/backup.sh PATH/TO/keepword
set -u
KW=${1:?usage: backup.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
CTYPE=

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start
ADMIN=$(login admin@localhost correct-horse)
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ORG=$(jq -r .id "$TMP/body")

# one client creating tickets one after another; each id is written down
# once its 201 (sent after the commit) has arrived
: >"$TMP/acked"
(
    while [ ! -f "$TMP/stop" ]; do
        curl -s -X POST "$B/api/v1/tickets" -H "Authorization: Bearer $ADMIN" \
            -H "Content-Type: application/json" \
            -d "{\"org_id\":$ORG,\"title\":\"under load\",\"level\":\"L2\"}" | jq -r '.id // empty' >>"$TMP/acked"
    done
) &
LOAD=$!
EXTRA_PIDS+=("$LOAD")
for _ in $(seq 1 100); do [ "$(wc -l <"$TMP/acked")" -ge 20 ] && break; sleep 0.1; done
before=$(wc -l <"$TMP/acked")
"$KW" backup --db "$TMP/kw.db" --to "$TMP/copy.db" >"$TMP/out" 2>"$TMP/err"
check "backup while the server writes" $? "$(cat "$TMP/err")"
sleep 0.5
touch "$TMP/stop"
wait "$LOAD"
after=$(wc -l <"$TMP/acked")
[ "$after" -gt "$before" ]
check "the server kept taking writes during the backup ($before before, $after after)" $?
grep -Eq '^.*copy\.db: backup: [0-9]+ tickets, [0-9]+ events: every chain is intact$' "$TMP/out"
check "the backup says what it holds" $? "$(cat "$TMP/out")"

"$KW" restore --from "$TMP/copy.db" --db "$TMP/restored.db" >"$TMP/out" 2>"$TMP/err"
check "restore" $? "$(cat "$TMP/err")"
grep -q 'restored.db: restored: .* every chain is intact' "$TMP/out"
check "the restored chains verify" $? "$(cat "$TMP/out")"
# shellcheck disable=SC2046
"$KW" verify --db "$TMP/restored.db" $(head -n "$before" "$TMP/acked") >"$TMP/out" 2>"$TMP/err"
check "every ticket acknowledged before the backup is there" $? "$(cat "$TMP/err")"
grep -q ": $before tickets" "$TMP/out"
check "all $before of them" $? "$(cat "$TMP/out")"
[ ! -e "$TMP/copy.db-wal" ] && [ ! -e "$TMP/copy.db-shm" ]
check "restore leaves the backup as it was (no files beside it)" $?

# --- nothing is overwritten, bad input is named ---
"$KW" backup --db "$TMP/kw.db" --to "$TMP/copy.db" 2>"$TMP/err"
check "a backup onto an existing file is refused" $((! $?))
grep -q 'copy.db: already exists' "$TMP/err"
check "and says so" $? "$(cat "$TMP/err")"
"$KW" restore --from "$TMP/copy.db" --db "$TMP/kw.db" 2>"$TMP/err"
check "a restore onto an existing database is refused" $((! $?))
echo "not a database" >"$TMP/junk"
"$KW" restore --from "$TMP/junk" --db "$TMP/new.db" 2>"$TMP/err"
check "a file that is no database is refused" $((! $?))
grep -q 'not a database' "$TMP/err"
check "and named" $? "$(cat "$TMP/err")"
[ ! -e "$TMP/new.db" ]
check "and leaves nothing behind" $?
"$KW" backup --db "$TMP/kw.db" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q -- '--to FILE is required' "$TMP/err"
check "backup without --to is a usage error" $?

# --- a tampered copy does not become a database ---
cp "$TMP/copy.db" "$TMP/tampered.db"
sqlite3 "$TMP/tampered.db" "DROP TRIGGER events_no_update; UPDATE events SET body = replace(body, 'under load', 'rewritten') WHERE ticket_id = (SELECT min(ticket_id) FROM events);"
check "(tampering with a copy)" $?
"$KW" restore --from "$TMP/tampered.db" --db "$TMP/bad.db" >"$TMP/out" 2>"$TMP/err"
check "a tampered copy is refused" $((! $?))
grep -q 'does not match its hash' "$TMP/err" && grep -q 'removed again' "$TMP/err"
check "naming the event, and the new database is removed" $? "$(cat "$TMP/err")"
[ ! -e "$TMP/bad.db" ]
check "bad.db is gone" $?
serve_stop
finish
