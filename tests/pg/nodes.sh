#!/usr/bin/env bash
# nodes.sh KEEPWORD WHSINK - several `keepword serve` nodes on one PostgreSQL
# database (docs/operations.md, "Several nodes"), run under
# tests/pg/cluster.sh run (KW_PG_CONNINFO). Three nodes on a fake clock and
# a local webhook receiver:
# - creates and reads spread over the nodes;
# - the live feed crosses nodes: a stream on node A shows a write made on
#   node B within 1 s, and again after A's listening connection was cut;
# - singletons: one node signs checkpoints (one holder of the lock at a
#   time); kill -9 of it and another takes over within seconds;
# - 1,000 tickets falling due in the same second fire their warning once
#   each (counted in the database), and each warning arrives once;
# - kill -9 of a node while their 80 % warnings are due and deliveries
#   are pending (the receiver failing): each fires once and arrives once,
#   nothing acknowledged is lost, and `keepword verify` passes.
# (Breaches are not fired here: a breach records an overrun, which
# PostgreSQL does not store yet.)
set -u
KW=${1:?usage: nodes.sh PATH/TO/keepword PATH/TO/whsink}
SINK=${2:?usage: nodes.sh PATH/TO/keepword PATH/TO/whsink}
[ -n "${KW_PG_CONNINFO:-}" ] || { echo "nodes.sh: run under tests/pg/cluster.sh run" >&2; exit 1; }
KW_TEST_DB=$KW_PG_CONNINFO
. "$(dirname "$0")/../http/lib.sh"
# shellcheck disable=SC2012 # version directories: plain names
PSQL=$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
sql() { "$PSQL" -X -q -t -A -d "$DB" -c "$1"; }
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }
ms() { local us=${EPOCHREALTIME/./}; echo $((us / 1000)); }

# node N: start node N (1-3) on DB; sets NPID[N], NB[N] (its base URL)
declare -a NPID NB
node() {
    : >"$TMP/node$1.log"
    LIBC_FATAL_STDERR_=1 "$KW" serve "${DB_ARGS[@]}" --listen 127.0.0.1:0 \
        --fake-clock "$TMP/now" --allow-destination 127.0.0.1 --checkpoint-every 1 \
        2>>"$TMP/node$1.log" &
    NPID[$1]=$!
    EXTRA_PIDS+=("$!")
    NB[$1]=http://127.0.0.1:$(port_of "$TMP/node$1.log") || exit 1
}
# on N METHOD PATH [BODY]: req against node N with the admin token
on() {
    B=${NB[$1]}
    req "$2" "$3" "${4:-}" "${ADMIN:-}"
}

at 2026-06-01T09:00:00Z
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
for n in 1 2 3; do node "$n"; done
B=${NB[1]}
req POST /api/v1/tokens '{"label":"nodes test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
"$SINK" --out "$TMP/hooks" --fail-if "$TMP/fail" >"$TMP/sink.port" &
EXTRA_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q listening "$TMP/sink.port" && break; sleep 0.1; done
HOOK=http://127.0.0.1:$(awk '{print $2}' "$TMP/sink.port")/hooks

# --- creates and reads spread over the nodes ---
on 2 POST /api/v1/orgs '{"name":"Acme"}'
is "an organisation made on node 2" 201
ORG=$(jq -r .id "$TMP/body")
ALWAYS='{"tz":"UTC","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}'
on 3 POST /api/v1/commitments '{"name":"Nodes","version":"1","effective_from":"2026-01-01T00:00:00Z",
 "calendars":{"always":'"$ALWAYS"'},"levels":["L2"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"],"warn_at":[50,80]}],
 "targets":[{"calendar":"always","response":"1h"}]}'
is "a commitment made on node 3" 201
on 1 POST /api/v1/endpoints "{\"name\":\"hook\",\"url\":\"$HOOK\",\"events\":[\"sla_warning\",\"sla_breach\"]}"
is "an endpoint made on node 1" 201
ids=()
for i in $(seq 1 9); do
    on $((i % 3 + 1)) POST /api/v1/tickets "{\"title\":\"spread $i\",\"level\":\"L2\",\"org_id\":$ORG}"
    ids+=("$(jq -r .id "$TMP/body")")
done
ok=0
for i in $(seq 1 9); do
    on $(((i + 1) % 3 + 1)) GET "/api/v1/tickets/${ids[$((i - 1))]}"
    [ "$CODE" = 200 ] && [ "$(jq -r .title "$TMP/body")" = "spread $i" ] && ok=$((ok + 1))
done
check "nine tickets made round the nodes, each read on another node" "$([ "$ok" = 9 ]; echo $?)" "($ok of 9)"
on 3 GET "/api/v1/tickets?limit=100"
is "node 3 lists all nine" 200 '[.tickets[] | select(.title | startswith("spread "))] | length == 9'

# --- the live feed crosses nodes ---
# The stream's lines, each after the millisecond it arrived at (stamped as
# read, so the test's own polling adds nothing). seen ID: the milliseconds
# from the last write's acknowledgement ($ACK) to the stream's first event
# for ticket ID since that write was sent ($SENT; 0 if it came before the
# acknowledgement), waiting up to 5 s
stamp() { while IFS= read -r line; do echo "$(ms) $line"; done; }
seen() {
    local at=
    for _ in $(seq 1 100); do
        at=$(awk -v a="$SENT" -v id="\"id\":$1[,}]" '$1 >= a && $0 ~ id { print $1; exit }' "$TMP/sse")
        [ -n "$at" ] && break
        sleep 0.05
    done
    if [ -z "$at" ]; then echo 99999; elif [ "$at" -le "$ACK" ]; then echo 0; else echo $((at - ACK)); fi
}
# write N METHOD PATH [BODY]: on N; SENT and ACK the instants it was sent
# and answered
write() {
    SENT=$(ms)
    on "$@"
    ACK=$(ms)
}
curl -s -N --max-time 30 -H "Authorization: Bearer $ADMIN" "${NB[1]}/api/v1/stream" | stamp >"$TMP/sse" &
SSE=$!
for _ in $(seq 1 50); do grep -q "event: hello" "$TMP/sse" && break; sleep 0.1; done
write 2 POST /api/v1/tickets "{\"title\":\"live from node 2\",\"level\":\"L2\",\"org_id\":$ORG}"
T=$(jq -r .id "$TMP/body")
took=$(seen "$T")
check "a ticket made on node 2 is on node 1's live stream within 1 s" \
    "$([ "$took" -le 1000 ]; echo $?)" "(${took} ms after the 201: $(head -c 300 "$TMP/sse"))"
write 3 POST "/api/v1/tickets/$T/events" '{"type":"milestone","milestone":"first_response"}'
took=$(seen "$T")
check "a milestone recorded on node 3 is on it within 1 s too" "$([ "$took" -le 1000 ]; echo $?)" "(${took} ms)"
# cut node 1's listening connection: it reconnects, and what was written
# meanwhile is read from the change log (its cursor), not lost
cut=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = 'LISTEN kw_changes'")
check "each node listens on a connection of its own" "$([ "$cut" = 3 ]; echo $?)" "($cut listening)"
write 2 POST /api/v1/tickets "{\"title\":\"while cut\",\"level\":\"L2\",\"org_id\":$ORG}"
T2=$(jq -r .id "$TMP/body")
took=$(seen "$T2")
check "a write while node 1's listener was cut still reaches its stream" \
    "$([ "$took" -le 3000 ]; echo $?)" "(${took} ms)"
for _ in $(seq 1 30); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query = 'LISTEN kw_changes'")" = 3 ] && break
    sleep 0.1
done
write 3 POST /api/v1/tickets "{\"title\":\"after the cut\",\"level\":\"L2\",\"org_id\":$ORG}"
T3=$(jq -r .id "$TMP/body")
took=$(seen "$T3")
check "listening again: a write on node 3 is on node 1's stream within 1 s" \
    "$([ "$took" -le 1000 ]; echo $?)" "(${took} ms)"
kill "$SSE" 2>/dev/null
wait "$SSE" 2>/dev/null

# --- singletons: the checkpoint signer ---
holders() {
    sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1 AND granted"
}
signer_node() {
    local n
    for n in 1 2 3; do
        [ -n "${NPID[$n]}" ] && grep "event=signer" "$TMP/node$n.log" | tail -n 1 | grep -q "signer.taken" &&
            echo "$n"
    done
}
for _ in $(seq 1 30); do [ -n "$(signer_node)" ] && break; sleep 0.1; done
S=$(signer_node)
check "one node signs the checkpoints" "$([ "$(echo "$S" | wc -w)" = 1 ]; echo $?)" "(nodes: $S)"
check "one holder of the signer's lock" "$([ "$(holders 7238101)" = 1 ]; echo $?)" "($(holders 7238101))"
check "one holder of the reports' lock" "$([ "$(holders 7238102)" = 1 ]; echo $?)" "($(holders 7238102))"
kill -9 "${NPID[$S]}"
wait "${NPID[$S]}" 2>/dev/null
NPID[S]=
t0=$(ms)
for _ in $(seq 1 100); do [ -n "$(signer_node)" ] && break; sleep 0.1; done
took=$(($(ms) - t0))
S2=$(signer_node)
check "kill -9 of the signer: another node signs within seconds" \
    "$([ "$(echo "$S2" | wc -w)" = 1 ] && [ "$S2" != "$S" ] && [ "$took" -le 5000 ]; echo $?)" \
    "(was $S, now '$S2' after ${took} ms)"
check "still one holder" "$([ "$(holders 7238101)" = 1 ]; echo $?)" "($(holders 7238101))"
on "$S2" POST /api/v1/tickets "{\"title\":\"signed by the new signer\",\"level\":\"L2\",\"org_id\":$ORG}"
size=$(sql "SELECT count(*) FROM log_leaves")
for _ in $(seq 1 50); do
    [ "$(sql "SELECT coalesce(max(size), 0) FROM log_checkpoints")" -ge "$size" ] && break
    sleep 0.1
done
check "the new signer signs the grown log" \
    "$([ "$(sql "SELECT coalesce(max(size), 0) FROM log_checkpoints")" -ge "$size" ]; echo $?)"
node "$S" # back to three nodes

# the tickets so far are answered: nothing of theirs falls due below
for t in $(sql "SELECT id FROM tickets"); do
    on 1 POST "/api/v1/tickets/$t/events" '{"type":"milestone","milestone":"first_response"}'
done

# --- 1,000 tickets falling due in the same second ---
at 2026-06-01T10:00:00Z
# (one curl, eight requests at once, request i to node i % 3 + 1, each
# with an Idempotency-Key: a request whose connection failed under load is
# sent again, and makes no second ticket)
creates() {
    local i b first=1
    for i in "$@"; do
        case $((i % 3)) in 0) b=${NB[1]} ;; 1) b=${NB[2]} ;; *) b=${NB[3]} ;; esac
        [ "$first" = 1 ] || echo next
        first=0
        printf 'url = "%s/api/v1/tickets"\nrequest = "POST"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\nheader = "Idempotency-Key: due-%d"\nwrite-out = "%%{http_code} %d\\n"\ndata-binary = "{\\"title\\":\\"due %d\\",\\"level\\":\\"L2\\",\\"org_id\\":%s}"\noutput = "/dev/null"\n' \
            "$b" "$ADMIN" "$i" "$i" "$i" "$ORG"
    done >"$TMP/creates"
    curl -s -Z --parallel-max 8 -K "$TMP/creates" 2>/dev/null
}
todo=$(seq 1 1000)
: >"$TMP/codes"
for _ in 1 2 3; do
    [ -n "$todo" ] || break
    # shellcheck disable=SC2086 # a list of numbers
    creates $todo >"$TMP/pass"
    cat "$TMP/pass" >>"$TMP/codes"
    todo=$(awk '$1 != 201 && $1 != 200 { print $2 }' "$TMP/pass")
done
created=$(sql "SELECT count(*) FROM tickets WHERE title LIKE 'due %'")
check "1,000 tickets made over three nodes in the same second" \
    "$([ "$created" = 1000 ] && [ -z "$todo" ]; echo $?)" \
    "($created in the database; answers: $(awk '{print $1}' "$TMP/codes" | sort | uniq -c | tr '\n' ' '))"
DUE="SELECT id FROM tickets WHERE title LIKE 'due %'"
at 2026-06-01T10:30:01Z # half of their hour: 1,000 warnings due at 10:30:00
for _ in $(seq 1 300); do
    [ "$(sql "SELECT count(*) FROM events WHERE type = 'sla_warning' AND ticket_id IN ($DUE)")" -ge 1000 ] && break
    sleep 0.1
done
w=$(sql "SELECT count(*) FROM events WHERE type = 'sla_warning' AND ticket_id IN ($DUE)")
twice=$(sql "SELECT count(*) FROM (SELECT ticket_id FROM events WHERE type = 'sla_warning' GROUP BY ticket_id HAVING count(*) > 1) x")
check "each of the 1,000 fired its warning exactly once" \
    "$([ "$w" = 1000 ] && [ "$twice" = 0 ]; echo $?)" "($w warnings, $twice tickets twice)"
fired_by=$(for n in 1 2 3; do grep -c "event=fired " "$TMP/node$n.log"; done | tr '\n' ' ')
out=$(sql "SELECT count(*) FROM outbox WHERE kind = 'sla_warning' AND ticket_id IN ($DUE)")
check "one notification each in the outbox" "$([ "$out" = 1000 ]; echo $?)" "($out; fired by node: $fired_by)"
warned() {
    jq -r 'select(.status == 200 and .event == "sla_warning" and (.body | fromjson | .event.percent == 50
        and (.ticket.title | startswith("due ")))) | .delivery' "$TMP/hooks" 2>/dev/null | sort
}
for _ in $(seq 1 300); do [ "$(warned | wc -l)" -ge 1000 ] && break; sleep 0.1; done
check "and each arrives once" "$([ "$(warned | sort -u | wc -l)" = 1000 ] && [ -z "$(warned | uniq -d)" ]; echo $?)" \
    "($(warned | sort -u | wc -l) delivered, $(warned | uniq -d | wc -l) twice)"

# --- kill -9 of a node while timers are due and deliveries are pending ---
touch "$TMP/fail"
at 2026-06-01T10:48:01Z # their 80 % falls due; its deliveries fail
W80="SELECT count(*) FROM events WHERE type = 'sla_warning' AND body LIKE '%\"percent\":80%' AND ticket_id IN ($DUE)"
# kill as soon as the firing began: waited for inside the server (a query
# every 2 ms, each on a fresh snapshot) and counted in the same call, as a
# psql a poll came too late under load (the engine fires several units at
# once) to find any of the 1,000 still to fire
before=$(sql "DO \$\$ BEGIN FOR i IN 1..2000 LOOP EXIT WHEN ($W80) >= 1;
    PERFORM pg_sleep(0.002); END LOOP; END \$\$; $W80")
kill -9 "${NPID[2]}"
wait "${NPID[2]}" 2>/dev/null
NPID[2]=
check "node 2 was killed with warnings still to fire" "$([ "$before" -lt 1000 ]; echo $?)" "($before fired before)"
for _ in $(seq 1 300); do
    [ "$(sql "$W80")" -ge 1000 ] && break
    sleep 0.1
done
w=$(sql "$W80")
twice=$(sql "SELECT count(*) FROM (SELECT ticket_id FROM events WHERE type = 'sla_warning' AND body LIKE '%\"percent\":80%' GROUP BY ticket_id HAVING count(*) > 1) x")
check "the other nodes fired the rest: each 80 % warning once" \
    "$([ "$w" = 1000 ] && [ "$twice" = 0 ]; echo $?)" "($w warnings, $twice tickets twice)"
# Leases run on the injected clock, and the jump below (7 minutes) ends
# every lease at once: a batch a live node is still sending would be taken
# and sent again by the other (at least once, as documented). So the live
# nodes first make every first attempt (failing) and hold no lease; only
# node 2's, dead with its connection, remain.
INFLIGHT="SELECT (SELECT count(*) FROM outbox WHERE state = 'pending' AND attempts = 0 AND leased_until IS NULL
       AND next_at <= $(date -u -d 2026-06-01T10:48:01Z +%s))
    + (SELECT count(*) FROM outbox WHERE leased_until IS NOT NULL
       AND leased_by IN (SELECT pid FROM pg_stat_activity))"
for _ in $(seq 1 600); do
    [ "$(sql "$INFLIGHT")" = 0 ] && break
    sleep 0.1
done
check "the live nodes tried every notification they could" "$([ "$(sql "$INFLIGHT")" = 0 ]; echo $?)" \
    "($(sql "$INFLIGHT") untried or in flight)"
rm -f "$TMP/fail"
# node 2's leased deliveries are free again when their lease (180 s) ran
# out, and the failed attempts' retries are due after their backoff
at 2026-06-01T10:55:00Z
warned80() {
    jq -r 'select(.status == 200 and .event == "sla_warning" and (.body | fromjson | .event.percent == 80
        and (.ticket.title | startswith("due ")))) | .delivery' "$TMP/hooks" 2>/dev/null | sort
}
for _ in $(seq 1 600); do [ "$(warned80 | sort -u | wc -l)" -ge 1000 ] && break; sleep 0.1; done
check "every 80 % warning arrives" "$([ "$(warned80 | sort -u | wc -l)" = 1000 ]; echo $?)" \
    "($(warned80 | sort -u | wc -l) of 1000; outbox: $(sql "SELECT state, count(*) FROM outbox GROUP BY state" | tr '\n' ' '))"
check "and none twice" "$([ -z "$(warned80 | uniq -d)" ]; echo $?)" "($(warned80 | uniq -d | wc -l) twice)"
ack=$(sql "SELECT count(*) FROM tickets WHERE title LIKE 'due %' OR title LIKE 'spread %'")
check "every acknowledged ticket is there" "$([ "$ack" = 1009 ]; echo $?)" "($ack)"
for n in 1 3; do
    kill -TERM "${NPID[$n]}"
    wait "${NPID[$n]}"
    check "node $n exits cleanly on SIGTERM" $? "($(grep -v event=http.request "$TMP/node$n.log" | tail -5))"
    NPID[n]=
done
"$KW" verify --db "$DB" >"$TMP/verify" 2>&1
check "keepword verify passes" $? "($(cat "$TMP/verify"))"
if grep -q "is not implemented on PostgreSQL yet" "$TMP"/node*.log; then
    check "no node met a store call PostgreSQL lacks" 1 "($(grep -h 'not implemented' "$TMP"/node*.log | sort -u | head -3))"
fi
finish
