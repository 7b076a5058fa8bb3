#!/usr/bin/env bash
# What the web UI relies on, over HTTP with curl against `keepword serve
# --demo`: the pages and their headers, browser sessions (cookie + CSRF
# token), the live feed (SSE), tickets with their clocks, ratings.
# usage: tests/http/web.sh PATH/TO/keepword
set -u
KW=${1:?usage: web.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
# A fixed weekday afternoon in Shanghai, so that the demo's clocks (which
# run on office hours) are the same whenever the suite runs.
echo 2026-03-04T07:00:00Z >"$TMP/now"
serve_start --demo --fake-clock "$TMP/now"

# --- the pages ---
curl -s -D "$TMP/h" -o "$TMP/page" "$B/"
grep -qi '^content-type: text/html' "$TMP/h" && grep -q '/assets/app.js' "$TMP/page"
check "/ is the page" $?
grep -qi "^content-security-policy: default-src 'self'; script-src 'self'" "$TMP/h" && grep -qi '^x-frame-options: DENY' "$TMP/h"
check "the page comes with a strict CSP and no framing" $?
for a in app.js:text/javascript app.css:text/css; do
    curl -s -D "$TMP/h" -o "$TMP/asset" "$B/assets/${a%%:*}"
    grep -qi "^content-type: ${a#*:}" "$TMP/h" && [ -s "$TMP/asset" ]
    check "/assets/${a%%:*} is served as ${a#*:}" $?
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$B/")" = 200 ]
check "HEAD / answers" $?
req GET /assets/nothing.js
is "an unknown asset is 404 problem+json" 404 '.status == 404'
req POST / '{}'
is "the page is not for POST" 404

# --- browser sessions: a cookie and a CSRF token ---
curl -s -c "$TMP/jar" -o "$TMP/body" -X POST "$B/api/v1/auth/login" \
    -H 'Content-Type: application/json' -d '{"email":"it@huaxin.demo","password":"keepword-demo","cookie":true}'
jq -e '.token_type == "cookie" and (.csrf_token | test("^[0-9a-f]{32}$")) and (has("token") | not)' "$TMP/body" >/dev/null
check "a cookie login answers a CSRF token and no bearer token" $?
CSRF=$(jq -r .csrf_token "$TMP/body")
grep -q '#HttpOnly_127.0.0.1.*kw_session' "$TMP/jar"
check "the session is an HttpOnly cookie" $?
curl -s -D "$TMP/h" -o /dev/null -X POST "$B/api/v1/auth/login" \
    -H 'Content-Type: application/json' -d '{"email":"it@huaxin.demo","password":"keepword-demo","cookie":true}'
grep -qi '^set-cookie: kw_session=kw_[^;]*; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200' "$TMP/h"
check "SameSite=Strict, the session's lifetime" $? "($(grep -i set-cookie "$TMP/h"))"
ck() { curl -s -b "$TMP/jar" -c "$TMP/jar" -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
CODE=$(ck "$B/api/v1/me")
is "the cookie signs in; /me gives the CSRF token again" 200 ".role == \"customer\" and .csrf_token == \"$CSRF\""
CODE=$(ck -X POST "$B/api/v1/tickets" -d '{"title":"forged","level":"L3"}')
is "a write by cookie without the CSRF token is refused" 403 '.detail | contains("X-CSRF-Token")'
CODE=$(ck -X POST "$B/api/v1/tickets" -H "X-CSRF-Token: 0123456789abcdef0123456789abcdef" -d '{"title":"forged","level":"L3"}')
is "a wrong CSRF token is refused" 403
CODE=$(ck -X POST "$B/api/v1/tickets" -H "X-CSRF-Token: $CSRF" -d '{"title":"Printer jam <b>now</b>","level":"L3"}')
is "with the token it goes through, clocks included" 201 '.org_id == 1 and (.clocks | length) >= 2 and (.clocks[0] | has("colour"))'
TICKET=$(jq -r .id "$TMP/body")
req POST /api/v1/auth/login '{"email":"it@huaxin.demo","password":"keepword-demo","cookie":"yes"}'
is "cookie must be true or false" 400 '.pointer == "/cookie"'

# --- tickets with their clocks ---
req POST /api/v1/auth/login '{"email":"manager@keepword.demo","password":"keepword-demo"}'
MGR=$(jq -r .token "$TMP/body")
req GET "/api/v1/tickets?state=open&sort=due&include=clocks&limit=500" "" "$MGR"
is "state=open lists all but archived, with clocks" 200 \
    '(.tickets | length) > 0 and all(.tickets[]; .state != "archived" and (.clocks | type) == "array")'
OPEN=$(jq '.tickets | length' "$TMP/body")
req GET "/api/v1/tickets?limit=500" "" "$MGR"
ALL=$(jq '.tickets | length' "$TMP/body")
req GET "/api/v1/tickets?state=archived&limit=500" "" "$MGR"
check "open + archived = all" "$([ $((OPEN + $(jq '.tickets | length' "$TMP/body"))) = "$ALL" ]; echo $?)" "($OPEN + ? != $ALL)"
req GET "/api/v1/tickets?include=everything" "" "$MGR"
is "include takes clocks only" 400 '.detail | contains("include")'
req GET "/api/v1/tickets?state=shut" "" "$MGR"
is "a bad state names the choices" 400 '.detail | contains("open (any but archived)")'
# --- the catalogue: names and moves come from the server, not from copies in the page ---
req GET /api/v1/catalogue
is "the catalogue needs no token and names every state in both languages" 200 \
    '(.states | map(.id)) == ["registered","analysing","handling","feedback","archived","waiting_customer"] and all(.states[]; .label.zh != "" and .label.en != "")'
is "the catalogue has the workflow's moves" 200 \
    '(.states[] | select(.id == "feedback") | .moves) == ["handling","archived"] and (.states[] | select(.id == "archived") | .moves) == []'
is "the catalogue's milestones say which are recorded by hand" 200 \
    '(.milestones | map(select(.manual | not) | .id)) == ["customer_confirmed","closed","confirmed_by_timeout"] and (.events | map(.type) | index("sla_breach")) != null'
req GET "/api/v1/tickets/$TICKET" "" "$MGR"
is "a ticket tells the manager the moves they may make" 200 '.allowed_moves == ["analysing","handling","waiting_customer"]'
CODE=$(ck "$B/api/v1/tickets/$TICKET")
is "and the customer none while it is not in feedback" 200 '.allowed_moves == []'
req GET "/api/v1/tickets/9" "" "$MGR"
is "a breached clock shows as breached" 200 'any(.clocks[]; .colour == "breached")'
req GET "/api/v1/tickets?state=open&include=clocks&limit=500" "" "$MGR"
jq -e '[.tickets[].clocks[] | select(.status == "running" and .warned_pct > 0)] | length > 0 and
       all(.[]; .colour == (if .warned_pct < 75 then "blue" elif .warned_pct < 90 then "yellow" else "red" end))' \
    "$TMP/body" >/dev/null
check "a warned clock's colour follows the warning reached" $?

# --- the live feed ---
req GET /api/v1/stream
is "the stream needs a login" 401
curl -s -N --max-time 4 -H "Authorization: Bearer $MGR" "$B/api/v1/stream" >"$TMP/sse" &
SSE=$!
curl -s -N --max-time 4 -b "$TMP/jar" "$B/api/v1/stream" >"$TMP/sse-customer" &
SSE2=$!
sleep 0.7
req POST "/api/v1/tickets/$TICKET/events" '{"type":"comment","text":"on it"}' "$MGR"
req POST "/api/v1/tickets/9/events" '{"type":"comment","text":"Pacific Freight only"}' "$MGR"
wait $SSE $SSE2
grep -q '^event: hello' "$TMP/sse" && grep -q '^retry: 2000' "$TMP/sse"
check "the stream says hello" $?
grep '^data: ' "$TMP/sse" | sed 's/^data: //' | jq -se "map(select(.id == $TICKET))[0] | .events == 3 and (.clocks | length) >= 2" >/dev/null # created, the reply and the first_response it implies
check "a changed ticket comes down the stream, clocks included" $? "($(head -c 300 "$TMP/sse"))"
grep '^data: ' "$TMP/sse-customer" | sed 's/^data: //' | jq -se "any(.[]; .id == $TICKET) and all(.[] | select(has(\"org_id\")); .org_id == 1)" >/dev/null
check "a customer's stream carries their own organisation's tickets only" $? "($(head -c 300 "$TMP/sse-customer"))"

# --- rating the service ---
CODE=$(ck -X POST "$B/api/v1/tickets/$TICKET/events" -H "X-CSRF-Token: $CSRF" -d '{"type":"rating","satisfaction":5}')
is "no rating before a resolution is proposed" 409 '.detail | contains("feedback")'
req POST "/api/v1/tickets/$TICKET/events" '{"type":"transition","to":"handling"}' "$MGR"
req POST "/api/v1/tickets/$TICKET/events" '{"type":"transition","to":"feedback"}' "$MGR"
is "the agent proposes a resolution" 201 '.state == "feedback"'
CODE=$(ck -X POST "$B/api/v1/tickets/$TICKET/events" -H "X-CSRF-Token: $CSRF" -d '{"type":"rating","satisfaction":6}')
is "satisfaction is 1 to 5" 400 '.pointer == "/satisfaction"'
CODE=$(ck -X POST "$B/api/v1/tickets/$TICKET/events" -H "X-CSRF-Token: $CSRF" -d '{"type":"rating","satisfaction":4,"nps":11}')
is "NPS is 0 to 10" 400 '.pointer == "/nps"'
CODE=$(ck -X POST "$B/api/v1/tickets/$TICKET/events" -H "X-CSRF-Token: $CSRF" -d '{"type":"rating","satisfaction":4,"nps":9,"text":"quick"}')
is "the customer rates the service" 201
req GET "/api/v1/tickets/$TICKET/events" "" "$MGR"
is "the rating is an event on the ticket" 200 \
    'any(.events[]; .type == "rating" and .body == {"satisfaction":4,"nps":9,"comment":"quick"})'

# --- logout clears the cookie ---
curl -s -b "$TMP/jar" -D "$TMP/h" -o /dev/null -X POST -H "X-CSRF-Token: $CSRF" "$B/api/v1/auth/logout"
grep -qi '^set-cookie: kw_session=; .*Max-Age=0' "$TMP/h"
check "logout clears the cookie" $?
CODE=$(curl -s -b "$TMP/jar" -o "$TMP/body" -w '%{http_code}' "$B/api/v1/me")
is "and the session is gone" 401

serve_stop

# --- a batch too big for the stream's buffer becomes a reset ---
# KEEPWORD_STREAM_BATCH_MAX (bytes, for tests) makes one ticket too big
export KEEPWORD_STREAM_BATCH_MAX=64
serve_start --fake-clock "$TMP/now"
unset KEEPWORD_STREAM_BATCH_MAX
curl -s -N --max-time 3 -H "Authorization: Bearer $MGR" "$B/api/v1/stream" >"$TMP/sse-small" &
SSE=$!
sleep 0.7
req POST "/api/v1/tickets/9/events" '{"type":"comment","text":"more than the batch holds"}' "$MGR"
wait $SSE
grep -q '^event: reset' "$TMP/sse-small" && ! grep -q '^event: ticket' "$TMP/sse-small"
check "a batch that overflows the stream's buffer is sent as event: reset" $? "($(head -c 300 "$TMP/sse-small"))"
serve_stop
finish
