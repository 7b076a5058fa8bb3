#!/usr/bin/env bash
# Concurrency and durability of `keepword serve` on 127.0.0.1:
#  - a create retried concurrently with one Idempotency-Key makes one ticket;
#  - creates whose clients go away before the commit are stored once;
#  - 32 parallel clients creating and commenting lose and duplicate nothing,
#    and every hash chain is intact;
#  - kill -9 during a write load: after a restart every ticket that got a 201
#    is there, with at least the events that were acknowledged, and every
#    chain verifies.
# usage: tests/http/concurrency.sh PATH/TO/keepword PATH/TO/kwload
set -u
KW=${1:?usage: concurrency.sh PATH/TO/keepword PATH/TO/kwload}
LOAD=${2:?usage: concurrency.sh PATH/TO/keepword PATH/TO/kwload}
. "$(dirname "$0")/lib.sh"
api() { # METHOD PATH [BODY] [TOKEN]: prints the body
    curl -s -X "$1" "$B$2" ${3:+--data-binary "$3" -H "Content-Type: application/json"} ${4:+-H "Authorization: Bearer $4"}
}

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start
ADMIN=$(api POST /api/v1/auth/login '{"email":"admin@localhost","password":"correct-horse"}' | jq -r .token)
ORG=$(api POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN" | jq -r .id)
api POST /api/v1/users '{"email":"ann@x.example","name":"Ann","role":"agent","password":"password-ann"}' "$ADMIN" >/dev/null
ANN=$(api POST /api/v1/auth/login '{"email":"ann@x.example","password":"password-ann"}' | jq -r .token)

# --- one create, retried 24 times at once with the same key ---
pids=()
for i in $(seq 1 24); do
    curl -s -o "$TMP/idem.$i" -w '%{http_code}\n' -X POST "$B/api/v1/tickets" \
        -H "Authorization: Bearer $ANN" -H 'Idempotency-Key: retry-me' \
        -H "Content-Type: application/json" -d "{\"org_id\":$ORG,\"title\":\"retried\",\"level\":\"L2\"}" >"$TMP/idem.code.$i" &
    pids+=($!)
done
wait "${pids[@]}"
created=$(cat "$TMP"/idem.code.* | grep -c '^201$')
replayed=$(cat "$TMP"/idem.code.* | grep -c '^200$')
ids=$(cat "$TMP"/idem.[0-9]* | jq -r .id | sort -u | wc -l)
check "concurrent retries: one 201, the rest 200" "$([ "$created" = 1 ] && [ "$replayed" = 23 ]; echo $?)" \
    "($created created, $replayed replayed)"
check "concurrent retries: one ticket id" "$([ "$ids" = 1 ]; echo $?)" "($ids ids)"
n=$(api GET "/api/v1/tickets?limit=500" "" "$ANN" | jq '[.tickets[] | select(.title == "retried")] | length')
check "concurrent retries: one ticket stored" "$([ "$n" = 1 ]; echo $?)" "($n)"

# --- creates whose clients go away before the commit: a create runs on its
# I/O thread and its connection waits suspended for the writer; one closed
# meanwhile still has its ticket stored, once, and the server goes on ---
pids=()
for i in $(seq 1 40); do
    curl -s -o /dev/null --max-time 0.005 -X POST "$B/api/v1/tickets" \
        -H "Authorization: Bearer $ANN" -H "Idempotency-Key: gone-$i" \
        -H "Content-Type: application/json" -d "{\"org_id\":$ORG,\"title\":\"gone\",\"level\":\"L2\"}" &
    pids+=($!)
done
wait "${pids[@]}"
for i in $(seq 1 40); do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "$B/api/v1/tickets" \
        -H "Authorization: Bearer $ANN" -H "Idempotency-Key: gone-$i" \
        -H "Content-Type: application/json" -d "{\"org_id\":$ORG,\"title\":\"gone\",\"level\":\"L2\"}"
done >"$TMP/gone.codes"
bad=$(grep -Evc '^20[01]$' "$TMP/gone.codes")
check "clients gone before the commit: the server answers their retries (200 or 201)" \
    "$([ "$bad" = 0 ]; echo $?)" "($(sort "$TMP/gone.codes" | uniq -c | tr -s ' \n' ' '))"
n=$(api GET "/api/v1/tickets?limit=500" "" "$ANN" | jq '[.tickets[] | select(.title == "gone")] | length')
check "clients gone before the commit: one ticket each" "$([ "$n" = 40 ]; echo $?)" "($n)"

# --- 32 clients, each creating tickets and commenting on them ---
"$LOAD" --port "$PORT" --token "$ANN" --mode mixed --clients 32 --requests 640 --events 3 \
    --org "$ORG" --ids "$TMP/ids" >"$TMP/load.json"
check "32 clients: every request answered as expected" $? "($(cat "$TMP/load.json"))"
"$KW" verify --db "$TMP/kw.db" --list >"$TMP/list" 2>"$TMP/verify"
check "32 clients: every chain verifies" $? "($(cat "$TMP/verify"))"
lines=$(wc -l <"$TMP/ids")
unique=$(cut -d' ' -f1 "$TMP/ids" | sort -u | wc -l)
check "32 clients: 640 tickets, none twice" "$([ "$lines" = 640 ] && [ "$unique" = 640 ]; echo $?)" \
    "($lines lines, $unique ids)"
# every created ticket has its created event and its three comments, and the
# first_response its first public reply implies, no more
bad=$(awk 'NR == FNR { events[$1] = $2; next } { if (events[$1] != 1 + $2 + ($2 > 0)) print $1 }' \
    "$TMP/list" "$TMP/ids" | wc -l)
check "32 clients: no event lost or duplicated" "$([ "$bad" = 0 ]; echo $?)" "($bad tickets differ)"
total=$(wc -l <"$TMP/list")
check "32 clients: nothing else was created" "$([ "$total" = 681 ]; echo $?)" "($total tickets)"

# --- kill -9 in the middle of a write load ---
"$LOAD" --port "$PORT" --token "$ANN" --mode mixed --clients 32 --duration 30 --events 3 \
    --org "$ORG" --ids "$TMP/ids2" >"$TMP/load2.json" 2>&1 &
LPID=$!
EXTRA_PIDS+=("$LPID")
# kill once the load is under way: 2 s, or longer for a slow (TSan) build
sleep 2
for _ in $(seq 1 200); do
    [ -f "$TMP/ids2" ] && [ "$(wc -l <"$TMP/ids2")" -gt 60 ] && break
    sleep 0.1
done
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
wait "$LPID"
acked=$(wc -l <"$TMP/ids2")
check "kill -9: the load was under way" "$([ "$acked" -gt 50 ]; echo $?)" "($acked tickets acknowledged)"
echo "kill -9 after $acked acknowledged tickets"
serve_start
"$KW" verify --db "$TMP/kw.db" --list >"$TMP/list2" 2>"$TMP/verify2"
check "kill -9: after a restart every chain verifies" $? "($(cat "$TMP/verify2"))"
missing=$(awk 'NR == FNR { events[$1] = $2; next } { if (!($1 in events) || events[$1] < 1 + $2) print $1 }' \
    "$TMP/list2" "$TMP/ids2" | wc -l)
check "kill -9: every acknowledged ticket and event is there" "$([ "$missing" = 0 ]; echo $?)" \
    "($missing of $acked tickets missing or short)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/api/v1/tickets/$(tail -1 "$TMP/ids2" | cut -d' ' -f1)" \
    -H "Authorization: Bearer $ANN")
check "kill -9: sessions survive the restart" "$([ "$code" = 200 ]; echo $?)" "($code)"

serve_stop
finish
