#!/bin/bash
# copy.sh KEEPWORD - `keepword copy`: a SQLite desk with rows in every table
# (the demo, writes over HTTP, a signed checkpoint, and for the tables the
# demo and those writes leave empty a row written with sqlite3) is copied
# into an empty PostgreSQL database; verify passes on the copy, every
# table has as many rows, every event and audit entry the same hash, every
# attachment the same bytes; the copy serves (a ticket reads as on SQLite,
# a new ticket gets the next id); a second copy onto it is refused, as is a
# target that is not PostgreSQL. Run under tests/pg/cluster.sh run.
set -u
KW=$1
[ -n "${KW_PG_CONNINFO:-}" ] || { echo "copy.sh: run under tests/pg/cluster.sh run" >&2; exit 1; }
# shellcheck source=tests/http/lib.sh
. "$(dirname "$0")/../http/lib.sh"
SRC=$TMP/src.db
PG=$KW_PG_CONNINFO
# shellcheck disable=SC2012 # version directories: plain names
PSQL=$(command -v psql || echo "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql")
psql_q() { "$PSQL" "$PG" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }

# ---- the source: the demo and writes over HTTP
KEEPWORD_ADMIN_PASSWORD=copy-admin-pw "$KW" init --db "$SRC" >/dev/null 2>&1
check "init the SQLite source" $?
DB_ARGS=(--db "$SRC")
serve_start --demo
ADMIN=$(login admin@localhost copy-admin-pw)
LINA=$(login li.na@keepword.demo keepword-demo)
req POST /api/v1/endpoints '{"name":"copy hook","url":"http://127.0.0.1:9/hook","events":["sla_breach"]}' "$ADMIN"
is "an endpoint" 201
EP=$(jq -r .id "$TMP/body")
req POST /api/v1/subscriptions "{\"endpoint_id\":$EP,\"events\":[\"sla_breach\"],\"lang\":\"zh\"}" "$LINA"
is "a subscription" 201
req POST /api/v1/views '{"name":"我的 L1","filters":{"view":"mine","level":"L1"},"columns":["id","title","due"],"sort":"-due"}' "$LINA"
is "a saved view" 201
req POST /api/v1/tickets '{"title":"打印机卡纸 copy-probe","level":"L2","org_id":1,"description":"三楼的打印机"}' "$LINA"
is "a ticket" 201
T=$(jq -r .id "$TMP/body")
req POST "/api/v1/tickets/$T/watchers" '{}' "$LINA"
WATCH_CODE=$CODE
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"内部备注 copy-note","internal":true}' "$LINA"
is "an internal note" 201
# bytes with NULs and every byte value: bytea must carry them as they are
head -c 4096 /dev/urandom >"$TMP/blob.bin"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' | cat - "$TMP/blob.bin" >"$TMP/up.png"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST \
    "$B/api/v1/tickets/$T/attachments?name=scan.png" -H "Authorization: Bearer $LINA" \
    -H "Content-Type: image/png" --data-binary "@$TMP/up.png")
check "an attachment" "$([ "$CODE" = 201 ] && echo 0 || echo 1)" "($CODE $(head -c 200 "$TMP/body"))"
req GET "/api/v1/tickets/$T" "" "$LINA"
cp "$TMP/body" "$TMP/ticket.sqlite.json"
serve_stop
"$KW" log checkpoint --db "$SRC" >/dev/null 2>&1
check "a signed checkpoint" $?

# ---- rows the demo and the writes above leave out, written directly
[ "$WATCH_CODE" = 201 ] || [ "$WATCH_CODE" = 200 ] ||
    sqlite3 "$SRC" "INSERT INTO watchers VALUES ($T, 3, 3, 1764547200)"
sqlite3 "$SRC" <<SQL
INSERT INTO claims SELECT $T, 42, 1764547200 WHERE NOT EXISTS (SELECT 1 FROM claims);
INSERT INTO outbox(endpoint_id, kind, ticket_id, payload, idem_key, next_at, created_at)
    SELECT $EP, 'sla_breach', $T, '{"probe":1}', 'copy-probe', 1764547200, 1764547200
    WHERE NOT EXISTS (SELECT 1 FROM outbox);
INSERT INTO team_costs SELECT 1, 12000, 'CNY', 1764547200, 1 WHERE NOT EXISTS (SELECT 1 FROM team_costs);
INSERT INTO intake_sources(name, kind, key_digest, acting_user, org_id, level, created_at, active)
    VALUES ('copy am', 'alertmanager', randomblob(32), 1, 1, 'L2', 1764547200, 0);
INSERT INTO alerts VALUES (last_insert_rowid(), 'fp-1', $T, 1, 2, 1764547200);
INSERT INTO mailboxes(name, url, username, password, acting_user, org_id, level, reply_from,
                      max_bytes, per_sender_hour, poll_s, created_at, active, ack)
    VALUES ('copy box', 'imaps://127.0.0.1:9/', 'desk', 'sealed:x', 1, 1, 'L2', 'desk@x.example',
            1000000, 20, 60, 1764547200, 0, 1);
INSERT INTO mails VALUES (last_insert_rowid(), '<m1@x.example>', 7, 'a@x.example', $T, 'ticket', 1764547200);
INSERT INTO mail_ids VALUES ('<m1@x.example>', $T);
INSERT INTO ledger_requests(contract_id, amount, reason, ticket_id, requested_by, requested_at)
    SELECT min(id), 500, 'copy probe', $T, 1, 1764547200 FROM contracts
    WHERE NOT EXISTS (SELECT 1 FROM ledger_requests);
INSERT INTO watch_flags(org_id, flagged_at, ticket_id, overruns, window_from)
    SELECT 2, 1764547200, $T, 3, 1733011200 WHERE NOT EXISTS (SELECT 1 FROM watch_flags);
INSERT INTO period_closes(contract_id, period_end, closed_at, closed_by, entries)
    SELECT id, period_start, period_start, 'test', 0 FROM contracts
    WHERE NOT EXISTS (SELECT 1 FROM period_closes) LIMIT 1;
INSERT INTO ticket_links(from_id, to_id, kind, created_by, at)
    SELECT min(id), $T, 'related', 1, 1764547200 FROM tickets WHERE id < $T
    AND NOT EXISTS (SELECT 1 FROM ticket_links);
INSERT INTO canned_replies(team_id, name, body_zh, body_en, created_by, created_at, updated_at)
    SELECT 1, 'copy probe', '您好 {{requester.name}}', 'Hello {{requester.name}}', 1, 1764547200, 1764547200
    WHERE NOT EXISTS (SELECT 1 FROM canned_replies);
SQL
check "the extra rows" $?
tables=$(sqlite3 "$SRC" "SELECT name FROM sqlite_master WHERE type = 'table'
    AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'search_%'
    AND name NOT IN ('schema_migrations', 'log_meta', 'search') ORDER BY name")
empty=""
for t in $tables; do
    [ "$(sqlite3 "$SRC" "SELECT count(*) FROM $t")" -gt 0 ] || empty="$empty $t"
done
check "the source has rows in every table" "$([ -z "$empty" ] && echo 0 || echo 1)" "(empty:$empty)"

# ---- refusals
"$KW" copy --from "$SRC" --to "$TMP/other.db" >"$TMP/out" 2>"$TMP/err"
check "a SQLite target is a usage error" "$([ $? = 2 ] && echo 0 || echo 1)" "($(cat "$TMP/err"))"
grep -q "is not a PostgreSQL database" "$TMP/err"
check "and says so" $? "($(head -1 "$TMP/err"))"
"$KW" copy --from "$TMP/nothing.db" --to "$PG" >"$TMP/out" 2>"$TMP/err"
check "a missing source is refused" "$([ $? = 1 ] && echo 0 || echo 1)"
grep -q "no such database file" "$TMP/err"
check "naming it" $? "($(cat "$TMP/err"))"
[ ! -e "$TMP/nothing.db" ]
check "and not made" $?

# ---- the copy
"$KW" copy --from "$SRC" --to "$PG" >"$TMP/out" 2>"$TMP/err"
check "copy" $? "($(cat "$TMP/err"))"
grep -q "^copied [0-9]* rows of [0-9]* tables" "$TMP/out"
check "copy says what it copied" $? "($(cat "$TMP/out"))"
grep -q "the copy: [0-9]* tickets, [0-9]* events: every chain is intact" "$TMP/out"
check "and that the copy's chains verify" $? "($(cat "$TMP/out"))"
"$KW" verify --db "$PG" >"$TMP/out" 2>"$TMP/err"
check "keepword verify on the copy" $? "($(cat "$TMP/err"))"

for t in $tables; do
    a=$(sqlite3 "$SRC" "SELECT count(*) FROM $t")
    # SQLite keeps no leaf's own node (its migration 046); the copy adds one a leaf
    [ "$t" = log_nodes ] && a=$(sqlite3 "$SRC" "SELECT count(*) + (SELECT count(*) FROM log_leaves) FROM log_nodes")
    b=$(psql_q "SELECT count(*) FROM $t")
    check "rows of $t ($a)" "$([ "$a" = "$b" ] && echo 0 || echo 1)" "(PostgreSQL: $b)"
done
a=$(sqlite3 "$SRC" "SELECT count(*) FROM search_text") # the index's content (SQLite 039)
b=$(psql_q "SELECT count(*) FROM search")
check "search rows ($a)" "$([ "$a" = "$b" ] && echo 0 || echo 1)" "(PostgreSQL: $b)"
sqlite3 "$SRC" "SELECT ticket_id, seq, lower(hex(hash)) FROM events ORDER BY 1, 2" >"$TMP/ev.sq"
psql_q "SELECT ticket_id, seq, encode(hash, 'hex') FROM events ORDER BY 1, 2" >"$TMP/ev.pg"
cmp -s "$TMP/ev.sq" "$TMP/ev.pg"
check "every event's hash" $? "($(diff "$TMP/ev.sq" "$TMP/ev.pg" | head -3))"
sqlite3 "$SRC" "SELECT id, lower(hex(hash)) FROM audit ORDER BY 1" >"$TMP/au.sq"
psql_q "SELECT id, encode(hash, 'hex') FROM audit ORDER BY 1" >"$TMP/au.pg"
cmp -s "$TMP/au.sq" "$TMP/au.pg"
check "every audit entry's hash" $? "($(diff "$TMP/au.sq" "$TMP/au.pg" | head -3))"
sqlite3 "$SRC" "SELECT idx, lower(hex(data)) FROM log_leaves ORDER BY 1" | md5sum >"$TMP/lv.sq"
psql_q "SELECT idx, encode(data, 'hex') FROM log_leaves ORDER BY 1" | md5sum >"$TMP/lv.pg"
cmp -s "$TMP/lv.sq" "$TMP/lv.pg"
check "the Merkle log's leaves" $?
sqlite3 "$SRC" "SELECT level, idx, lower(hex(hash)) FROM log_nodes ORDER BY 1, 2" | md5sum >"$TMP/nd.sq"
psql_q "SELECT level, idx, encode(hash, 'hex') FROM log_nodes WHERE level > 0 ORDER BY 1, 2" |
    md5sum >"$TMP/nd.pg"
cmp -s "$TMP/nd.sq" "$TMP/nd.pg"
check "the Merkle log's nodes above the leaves" $?
n=$(psql_q "SELECT count(*) FROM log_nodes n JOIN log_leaves l ON l.idx = n.idx
    WHERE n.level = 0 AND n.hash = sha256('\\x00'::bytea || l.data)")
m=$(sqlite3 "$SRC" "SELECT count(*) FROM log_leaves")
check "each leaf's node computed by the copy ($m)" "$([ "$n" = "$m" ] && echo 0 || echo 1)" "($n)"
sqlite3 "$SRC" "SELECT attachment_id, lower(hex(data)) FROM attachment_blobs ORDER BY 1" |
    md5sum >"$TMP/bl.sq"
psql_q "SELECT attachment_id, encode(data, 'hex') FROM attachment_blobs ORDER BY 1" |
    md5sum >"$TMP/bl.pg"
cmp -s "$TMP/bl.sq" "$TMP/bl.pg"
check "every attachment's bytes" $?
n=$(psql_q "SELECT count(*) FROM notifications")
m=$(sqlite3 "$SRC" "SELECT count(*) FROM notifications")
check "no notification written twice by the events' trigger" \
    "$([ "$n" = "$m" ] && echo 0 || echo 1)" "($n against $m)"

# a second copy onto it: refused in one line, nothing added
before=$(psql_q "SELECT count(*) FROM events")
"$KW" copy --from "$SRC" --to "$PG" >"$TMP/out" 2>"$TMP/err"
check "a copy onto a desk is refused" "$([ $? = 1 ] && echo 0 || echo 1)"
grep -q "not empty (table teams has rows)" "$TMP/err"
check "saying the target is not empty" $? "($(cat "$TMP/err"))"
check "in one line" "$([ "$(wc -l <"$TMP/err")" = 1 ] && echo 0 || echo 1)"
check "adding nothing" "$([ "$(psql_q "SELECT count(*) FROM events")" = "$before" ] && echo 0 || echo 1)"

# ---- the copy serves: the same ticket, logins work, new ids follow on
DB=$PG
DB_ARGS=(--db "$PG" --log-key "$SRC.log-key")
serve_start
LINA=$(login li.na@keepword.demo keepword-demo)
check "a demo login works on the copy" "$([ -n "$LINA" ] && [ "$LINA" != null ] && echo 0 || echo 1)"
req GET "/api/v1/tickets/$T" "" "$LINA"
is "the ticket reads on the copy" 200
jq -S 'del(.clocks, .sla, .now)' "$TMP/body" >"$TMP/t.pg"
jq -S 'del(.clocks, .sla, .now)' "$TMP/ticket.sqlite.json" >"$TMP/t.sq"
cmp -s "$TMP/t.sq" "$TMP/t.pg"
check "as it read on SQLite" $? "($(diff "$TMP/t.sq" "$TMP/t.pg" | head -5))"
req GET "/api/v1/tickets/$T/verify" "" "$LINA"
is "its chain verifies over HTTP" 200
max=$(sqlite3 "$SRC" "SELECT max(id) FROM tickets")
req POST /api/v1/tickets '{"title":"after the move","level":"L3","org_id":1}' "$LINA"
is "a new ticket on the copy" 201 ".id == $((max + 1))"
serve_stop
finish
