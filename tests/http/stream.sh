#!/usr/bin/env bash
# The live stream (GET /api/v1/stream) as a security boundary: a customer's
# stream says nothing at all about other organisations' changes, and a
# stream ends when its session ends (logout), sending nothing after it.
# usage: tests/http/stream.sh PATH/TO/keepword
set -u
KW=${1:?usage: stream.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
CTYPE=

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start
ADMIN=$(login admin@localhost correct-horse)
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Globex"}' "$ADMIN"
GLOBEX=$(jq -r .id "$TMP/body")
req POST /api/v1/users "{\"email\":\"c@acme.example\",\"name\":\"C\",\"role\":\"customer\",\"password\":\"password-c\",\"org_id\":$ACME}" "$ADMIN"
req POST /api/v1/tickets "{\"org_id\":$ACME,\"title\":\"acme\",\"level\":\"L2\"}" "$ADMIN"
T_ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/tickets "{\"org_id\":$GLOBEX,\"title\":\"globex\",\"level\":\"L2\"}" "$ADMIN"
T_GLOBEX=$(jq -r .id "$TMP/body")

CUST=$(login c@acme.example password-c)
curl -s -N --max-time 4 -H "Authorization: Bearer $CUST" "$B/api/v1/stream" >"$TMP/sse-c" &
SSE=$!
curl -s -N --max-time 4 -H "Authorization: Bearer $ADMIN" "$B/api/v1/stream" >"$TMP/sse-a" &
SSE2=$!
sleep 0.7
for i in 1 2 3; do
    req POST "/api/v1/tickets/$T_GLOBEX/events" "{\"type\":\"comment\",\"text\":\"globex $i\"}" "$ADMIN"
done
sleep 0.5
wait $SSE $SSE2
[ "$(grep -c '^data: ' "$TMP/sse-c")" = 1 ] && ! grep -q '^:' "$TMP/sse-c"
check "a customer's stream carries nothing, not even a comment, for another organisation's changes" $? \
    "($(cat "$TMP/sse-c"))"
grep '^data: ' "$TMP/sse-a" | sed 's/^data: //' | jq -se "any(.[]; .id == $T_GLOBEX)" >/dev/null
check "while staff see them" $?

# --- a stream ends with its session ---
curl -s -N --max-time 8 -H "Authorization: Bearer $CUST" "$B/api/v1/stream" >"$TMP/sse-out" &
SSE=$!
sleep 0.7
req POST "/api/v1/tickets/$T_ACME/events" '{"type":"comment","text":"before logout"}' "$ADMIN"
sleep 0.5
req POST /api/v1/auth/logout "" "$CUST"
is "the customer logs out" 204
req POST "/api/v1/tickets/$T_ACME/events" '{"type":"comment","text":"after logout"}' "$ADMIN"
start=$(date +%s)
wait $SSE
took=$(($(date +%s) - start))
grep '^data: ' "$TMP/sse-out" | sed 's/^data: //' | jq -se "any(.[]; .id == $T_ACME)" >/dev/null
check "the stream carried the change before the logout" $? "($(cat "$TMP/sse-out"))"
[ "$took" -lt 5 ]
check "and ended at the next send after it, not at its time limit (${took} s)" $?
req GET "/api/v1/tickets/$T_ACME" "" "$ADMIN"
final=$(jq -r .events "$TMP/body")
grep '^data: ' "$TMP/sse-out" | sed 's/^data: //' | jq -se "all(.[]; (.events // 0) < $final)" >/dev/null
check "the change after the logout did not go out" $? "($(cat "$TMP/sse-out"))"

# --- with no stream open the feeder reads nothing; the next stream starts at the log's head ---
sleep 0.5 # the streams above have ended
for i in 1 2 3; do
    req POST /api/v1/tickets "{\"org_id\":$GLOBEX,\"title\":\"unwatched $i\",\"level\":\"L2\"}" "$ADMIN"
done
curl -s -N --max-time 3 -H "Authorization: Bearer $ADMIN" "$B/api/v1/stream" >"$TMP/sse-late" &
SSE=$!
sleep 0.7
req POST "/api/v1/tickets/$T_ACME/events" '{"type":"comment","text":"after the quiet"}' "$ADMIN"
wait $SSE
grep '^data: ' "$TMP/sse-late" | sed 's/^data: //' | jq -se "map(select(.id)) | length == 1 and .[0].id == $T_ACME" >/dev/null
check "a stream opened after writes nobody watched carries the change after it, and none of those" $? \
    "($(cat "$TMP/sse-late"))"
serve_stop
finish
