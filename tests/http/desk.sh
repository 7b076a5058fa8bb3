#!/usr/bin/env bash
# What a new user hits in the first hour, over HTTP against `keepword serve
# --demo`: titles of only spaces, ratings (the requester's organisation,
# once per resolution), Idempotency-Key bound to its request, query
# parameters a route does not take; and the demo itself (organisations,
# people, a mix of clock states).
# usage: tests/http/desk.sh PATH/TO/keepword
set -u
KW=${1:?usage: desk.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --demo
ADMIN=$(login admin@localhost correct-horse)
MGR=$(login manager@keepword.demo keepword-demo)
AGENT=$(login li.na@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
OTHER=$(login ops@dongfang.demo keepword-demo)
count() { req GET "/api/v1/tickets?limit=500" "" "$MGR"; jq '.tickets | length' "$TMP/body"; }

# --- the demo reads like a real desk ---
grep -q '^keepword: demo loaded' "$TMP/log" && grep -q '^keepword: demo logins (password keepword-demo):' "$TMP/log"
check "the demo is loaded and its logins printed" $? "($(head -c 300 "$TMP/log"))"
for e in manager@keepword.demo li.na@keepword.demo tom@keepword.demo it@huaxin.demo ops@dongfang.demo it@pacific.demo; do
    grep -q "^  $e " "$TMP/log"
    check "the logins name $e" $?
done
req GET "/api/v1/orgs" "" "$MGR"
is "six organisations, four with Chinese names, two international with English ones" 200 \
    '(.orgs | length) == 6 and ([.orgs[] | select(.name | test("[\\x{4e00}-\\x{9fff}]"))] | length) == 4
     and ([.orgs[] | select(.region == "international") | .name | test("^[A-Za-z .]+$")] | all and length == 2)
     and ([.orgs[].tier] | unique) == ["standard","strategic","vip"] and all(.orgs[]; .account_manager_id > 0)'
req GET "/api/v1/users?limit=500" "" "$ADMIN"
is "people have names, not roles or departments" 200 \
    '[.users[] | select(.role != "admin") | .name] | length == 12 and
     all(.[]; test("\\b(manager|agent|customer|desk|service|IT|operations|team)\\b|经理|客服|服务台|部"; "i") | not)'
is "the domestic desk and the customers at home have Chinese names" 200 \
    '[.users[] | select(.email | test("keepword.demo|huaxin|dongfang|ruifeng|jiangnan")) | select(.email | test("tom|priya|emma") | not)
      | .name | test("^[\\x{4e00}-\\x{9fff}]{2,3}$")] | all and length == 7'
req GET "/api/v1/teams" "" "$MGR"
is "two desks, each with a lead" 200 '(.teams | length) == 2 and all(.teams[]; .lead_id > 0)'
req GET "/api/v1/commitments" "" "$MGR"
CID=$(jq -r '.commitments[0].id' "$TMP/body")
req GET "/api/v1/commitments/$CID" "" "$MGR"
is "the commitment has escalation chains" 200 '[.escalations[].id] == ["response-at-risk","resolution-breached"]'
req GET "/api/v1/tickets?limit=500&include=clocks" "" "$MGR"
is "varied titles: no two alike, in both languages" 200 \
    '(.tickets | length) >= 20 and ([.tickets[].title] | unique | length) == (.tickets | length)
     and any(.tickets[]; .title | test("[\\x{4e00}-\\x{9fff}]")) and any(.tickets[]; .title | test("^[A-Za-z]"))'
is "a believable mix right after the demo is made: at risk, breached, paused, met on time and late" 200 \
    '[.tickets[].clocks[]]
     | ([.[] | select(.status == "running" and (.colour == "yellow" or .colour == "red"))] | length) >= 2
     and ([.[] | select(.status == "breached")] | length) >= 2
     and ([.[] | select(.status == "paused")] | length) >= 1
     and ([.[] | select(.status == "met")] | length) >= 10
     and ([.[] | select(.status == "met_late")] | length) >= 2'
is "every state of the loop is there" 200 \
    '[.tickets[].state] | unique == ["analysing","archived","feedback","handling","registered","waiting_customer"]'
is "every ticket is routed to a desk" 200 'all(.tickets[]; .team_id > 0)'
eventually "/api/v1/tickets/9/events" "$MGR" 'any(.events[]; .type == "escalated")'
is "the chains run: the lead of the breached #9 is told" 200 \
    'any(.events[]; .type == "escalated" and .body.chain == "resolution-breached" and .body.user_id > 0)'
req GET "/api/v1/tickets/9/events" "" "$CUST"
is "a customer cannot see another organisation's ticket" 404
serve_stop
serve_start --demo
! grep -q '^keepword: demo loaded' "$TMP/log" && grep -q '^  it@huaxin.demo ' "$TMP/log"
check "on the next start the demo is not loaded again, and its logins are printed again" $? "($(head -c 300 "$TMP/log"))"
req GET "/api/v1/orgs" "" "$MGR"
is "still six organisations" 200 '(.orgs | length) == 6'

# --- titles that say nothing ---
N0=$(count)
for t in '   ' '\t\n' '\u3000\u3000' '\u00a0' '\u200b\ufeff' '\u2002 \u2003'; do
    req POST /api/v1/tickets "{\"title\":\"$t\",\"level\":\"L3\"}" "$CUST"
    # (tabs and line breaks: a title is one line, refused as control characters)
    is "a title of only spaces (\"$t\") is refused at /title" 400 '.pointer == "/title" and (.detail | startswith("title: only spaces") or startswith("title: control characters"))'
done
req POST /api/v1/tickets '{"title":"","level":"L3"}' "$CUST"
is "an empty title is refused at /title" 400 '.pointer == "/title"'
check "a refused title creates nothing" "$([ "$(count)" = "$N0" ]; echo $?)"
req POST /api/v1/tickets '{"title":"\u3000打印机卡纸","level":"L3"}' "$CUST"
is "a title with words after an ideographic space is fine" 201

# --- Idempotency-Key: the same request answers the first ticket, another is 422 ---
idem() { # KEY BODY TOKEN
    read -r CODE CTYPE < <(curl -s -o "$TMP/body" -w '%{http_code} %{content_type}' -X POST "$B/api/v1/tickets" \
        -H "Authorization: Bearer $3" -H "Idempotency-Key: $1" -H 'Content-Type: application/json' --data-binary "$2")
}
idem k-1 '{"title":"Phones down","level":"L2","category":"technical"}' "$CUST"
is "a new key creates the ticket" 201
FIRST=$(jq .id "$TMP/body")
N1=$(count)
idem k-1 '{"title":"Phones down","level":"L3","category":"technical"}' "$CUST"
is "the same key with another level is 422" 422 ".status == 422 and (.detail | contains(\"Idempotency-Key: already used for a different request (ticket $FIRST)\"))"
idem k-1 '{"title":"Phones down!","level":"L2","category":"technical"}' "$CUST"
is "the same key with another title is 422" 422
idem k-1 '{"title":"Phones down","level":"L2"}' "$CUST"
is "the same key without a member it had is 422" 422
idem k-1 '{"title":"Phones down","level":"L2","category":"technical","channel":"api"}' "$CUST"
is "the same key with a member added is 422" 422
check "a refused repeat creates nothing" "$([ "$(count)" = "$N1" ]; echo $?)"
idem k-1 '{ "category" : "technical", "level":"L2",  "title":"Phones \u0064own" }' "$CUST"
is "the same request in another order, spacing and escaping answers the first ticket" 200 ".id == $FIRST"
idem k-1 '{"title":"Phones down","level":"L2","category":"technical","org_id":1}' "$CUST"
is "a customer naming their own organisation is the same request" 200 ".id == $FIRST"
idem k-1 '{"title":"Phones down","level":"L2","category":"technical","org_id":1}' "$MGR"
is "another user's same key is their own" 201 ".id != $FIRST"
check "only that one was created" "$([ "$(count)" = "$((N1 + 1))" ]; echo $?)"

# --- ratings: the requester's organisation, once per resolution ---
req POST /api/v1/tickets '{"title":"Mail bounces","level":"L3"}' "$CUST"
T=$(jq .id "$TMP/body")
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"handling"}' "$AGENT"
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"feedback"}' "$AGENT"
is "the agent proposes a resolution" 201 '.state == "feedback"'
for who in "agent:$AGENT" "manager:$MGR" "admin:$ADMIN"; do
    req POST "/api/v1/tickets/$T/events" '{"type":"rating","satisfaction":5}' "${who#*:}"
    is "staff (${who%%:*}) cannot rate: 403 with the reason" 403 '.pointer == "/type" and (.detail | contains("rated by the customer who asked for it"))'
done
req POST "/api/v1/tickets/$T/events" '{"type":"rating","satisfaction":5}' "$OTHER"
is "another organisation's customer cannot rate (the ticket is not theirs to see)" 404
req POST "/api/v1/tickets/$T/events" '{"type":"rating","satisfaction":4,"nps":8}' "$CUST"
is "the requester rates the resolution" 201
req POST "/api/v1/tickets/$T/events" '{"type":"rating","satisfaction":1}' "$CUST"
is "a second rating of the same resolution is 409" 409 '.detail | contains("rated already")'
req POST "/api/v1/tickets/$T/events" '{"type":"reopen","reason":"bounces again"}' "$CUST"
is "the customer reopens" 201 '.state == "handling"'
req POST "/api/v1/tickets/$T/events" '{"type":"rating","satisfaction":1}' "$CUST"
is "no rating while it is worked on again" 409 '.detail | contains("once a resolution is proposed")'
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"feedback"}' "$AGENT"
req POST "/api/v1/tickets/$T/events" '{"type":"rating","satisfaction":2}' "$CUST"
is "the new resolution is rated again" 201
req GET "/api/v1/tickets/$T/events" "" "$MGR"
is "two ratings, one per resolution" 200 '[.events[] | select(.type == "rating") | .body.satisfaction] == [4, 2]'

# --- query parameters a route does not take ---
req GET "/api/v1/tickets?limt=5" "" "$MGR"
is "an unknown query parameter is 400 naming it" 400 '.parameter == "limt" and (.detail | startswith("limt: not a query parameter of this route (it takes state,level,"))'
req GET "/api/v1/tickets?limit=5&limit=6" "" "$MGR"
is "a parameter given twice is 400" 400 '.parameter == "limit" and .detail == "limit: given more than once"'
req GET "/api/v1/me?verbose=1" "" "$MGR"
is "a route without a query refuses any" 400 '.parameter == "verbose" and (.detail | contains("it takes none"))'
req GET "/api/v1/tickets/$T?include=clocks" "" "$MGR"
is "a list's parameter on an item is refused" 400 '.parameter == "include"'
req GET "/api/v1/orgs?after=0&limit=5&foo" "" "$MGR"
is "a bare unknown name is refused too" 400 '.parameter == "foo"'
req GET "/api/v1/me?verbose=1"
is "without a login it is 401 first" 401
req GET "/api/v1/tickets?%ff%fe=1" "" "$MGR"
is "a name that is not UTF-8 is named in printable characters" 400 '.parameter == "??" and (.detail | startswith("??: not a query parameter"))'
req GET "/api/v1/tickets?$(head -c 300 /dev/zero | tr '\0' q)=1" "" "$MGR"
is "a long name is cut to 40 characters" 400 '(.parameter | length) == 40'
req POST "/api/v1/tickets/$T/events?dry_run=1" '{"type":"comment","text":"x"}' "$MGR"
is "a write with an unknown parameter is refused and writes nothing" 400 '.parameter == "dry_run"'
req GET "/api/v1/stream?since=0" "" "$MGR"
is "the stream refuses unknown parameters too" 400 '.parameter == "since"'
req GET "/healthz?probe=1"
is "so does /healthz" 400
req GET "/api/v1/tickets?state=open&sort=due&include=clocks&limit=5" "" "$MGR"
is "the route's own parameters still work" 200 '(.tickets | length) == 5'
req GET "/api/v1/tickets/$T/nodes?lang=en" "" "$MGR"
is "an item route's own parameter works" 200 '.lang == "en"'
req GET "/api/v1/oncall/who?team_id=1&level=1" "" "$MGR"
is "as on the rota routes" 200
# the table's query templates are openapi.json's query parameters
DOC=$(dirname "$0")/../../docs/openapi.json
"$KW" routes --query | sort >"$TMP/q-routes"
jq -r '.paths | to_entries[] | .key as $p | .value as $v | $v | to_entries[]
       | select(.key != "parameters") | .key as $m
       | ((.value.parameters // []) + ($v.parameters // []))[] | select(.in == "query")
       | ($m | ascii_upcase) + " " + $p + " " + .name' "$DOC" | sort >"$TMP/q-doc"
diff "$TMP/q-routes" "$TMP/q-doc" >"$TMP/q.diff"
check "the route table takes the query parameters openapi.json documents" $? "($(cat "$TMP/q.diff"))"
[ "$(wc -l <"$TMP/q-routes")" -gt 30 ]
check "and there are some" $?
serve_stop
finish
