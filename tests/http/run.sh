#!/usr/bin/env bash
# Drives `keepword serve` over HTTP on 127.0.0.1 with curl: auth, errors as
# problem+json, limits, and a clean stop on SIGTERM.
# usage: tests/http/run.sh PATH/TO/keepword
set -u
KW=${1:?usage: run.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start

req GET /healthz
is "healthz" 200 '.status == "ok" and .schema == ((env.KW_TEST_SCHEMA // "48") | tonumber)'
req POST /api/v1/auth/login '{"email":"admin@localhost","password":"correct-horse"}'
is "login" 200 '.token_type == "Bearer" and (.token | startswith("kw_")) and .expires_in > 0'
TOKEN=$(jq -r .token "$TMP/body")
req GET /api/v1/me "" "$TOKEN"
is "me" 200 '.email == "admin@localhost" and .role == "admin"'
req POST /api/v1/auth/login '{"email":"admin@localhost","password":"wrong-horse"}'
is "wrong password" 401 '.status == 401 and .detail == "wrong e-mail or password"'
check "problem+json" "$([ "$CTYPE" = application/problem+json ]; echo $?)" "($CTYPE)"
req POST /api/v1/auth/login '{"email":"nobody@localhost","password":"correct-horse"}'
is "unknown e-mail says the same" 401 '.detail == "wrong e-mail or password"'
req POST /api/v1/auth/login '{"email":"admin@localhost",'
is "bad JSON" 400 '.detail | startswith("not valid JSON")'
req POST /api/v1/auth/login '{"email":42,"password":"x"}'
is "wrong type names the field" 400 '.pointer == "/email"'
req POST /api/v1/auth/login '{"email":"a@b","password":"x","remember":true}'
is "login refuses unknown fields" 400 '.pointer == "/remember"'
xs() { head -c "$1" /dev/zero | tr '\0' x; }
req POST /api/v1/auth/login '{"email":"admin@localhost"}'
is "login needs a password" 400 '.pointer == "/password" and .detail == "password: missing"'
req POST /api/v1/auth/login '{"email":"","password":"x"}'
is "an empty e-mail" 400 '.pointer == "/email" and .detail == "email: expected a string of 1 to 254 bytes"'
req POST /api/v1/auth/login "{\"email\":\"$(xs 255)\",\"password\":\"x\"}"
is "an e-mail over 254 bytes" 400 '.pointer == "/email"'
req POST /api/v1/auth/login "{\"email\":\"admin@localhost\",\"password\":\"$(xs 1025)\"}"
is "a password over 1024 bytes" 400 '.pointer == "/password" and (.detail | contains("1 to 1024"))'
req POST /api/v1/auth/login '{"email":"admin@localhost","password":"correct-horse","cookie":null}'
is "cookie is true or false, not null" 400 '.pointer == "/cookie"'
req POST /healthz
is "a wrong method on /healthz" 405
req POST /api/v1/auth/login '[1,2]'
is "not an object" 400 '.detail == "the body must be a JSON object"'
req POST /api/v1/auth/login '{"email":"a","email":"b"}'
is "duplicate keys" 400 '.detail | contains("duplicate")'
req POST /api/v1/auth/login "$(printf '{"email":"%s"}' "$(printf '[%.0s' $(seq 40))")"
is "deep nesting inside a string is fine" 400 '.pointer == "/password"'
req POST /api/v1/auth/login "{\"email\":$(printf '[%.0s' $(seq 40))$(printf ']%.0s' $(seq 40))}"
is "deep nesting is refused" 400 '.detail | contains("deeper than 32")'
printf '{"email":"\xff\xfe@x","password":"p"}' >"$TMP/latin"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" -H "Content-Type: application/json" --data-binary @"$TMP/latin")
is "invalid UTF-8 is refused" 400 '.detail | startswith("not valid JSON")'
head -c 1100000 /dev/zero | tr '\0' 'a' >"$TMP/big"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" -H "Content-Type: application/json" --data-binary @"$TMP/big")
is "body over 1 MiB" 413 '.status == 413'
req GET /api/v1/me
is "no token" 401 '.detail | contains("Bearer")'
req GET /api/v1/me "" "kw_forged"
is "forged token" 401
req GET /api/v1/nothing-here
is "unknown route" 404 '.status == 404'
req DELETE /api/v1/me "" "$TOKEN"
is "wrong method" 405
allow() { curl -s -o /dev/null -D - -X "$1" "$B$2" | tr -d '\r' | sed -n 's/^Allow: //p'; }
[ "$(allow DELETE /api/v1/me)" = "GET, HEAD, PATCH" ]
check "a 405 names the path's methods in Allow" $? "($(allow DELETE /api/v1/me))"
[ "$(allow PUT /api/v1/tickets/1)" = "GET, HEAD, PATCH" ]
check "Allow gathers a pattern's methods" $? "($(allow PUT /api/v1/tickets/1))"
[ "$(allow PUT /api/v1/tickets/1/events)" = "GET, HEAD, POST" ]
check "Allow for a sub-path" $? "($(allow PUT /api/v1/tickets/1/events))"
[ -z "$(allow GET /api/v1/me)" ]
check "no Allow without a 405" $?
for bad in 0 01 +1 -1 %201 1x 9223372036854775808 99999999999999999999; do
    req GET "/api/v1/orgs/$bad" "" "$TOKEN"
    is "id \"$bad\" is not an id" 404 '.detail == "no such organisation"'
done
req GET /api/v1/orgs/9223372036854775807 "" "$TOKEN"
is "the largest id parses (and is absent)" 404
req GET /api/v1/orgs/1/extra "" "$TOKEN"
is "an unknown sub-path" 404 '.detail == "no such resource"'
req POST /api/v1/orgs/1 '{}' "$TOKEN"
is "a wrong method on an item" 405

# every route is in docs/openapi.json, and every path there is a route
DOC=$(dirname "$0")/../../docs/openapi.json
"$KW" routes | sort >"$TMP/routes"
jq -r '.paths | to_entries[] | .key as $p | .value | keys[]
       | select(. != "parameters") | ascii_upcase + " " + $p' "$DOC" | sort >"$TMP/documented"
diff "$TMP/routes" "$TMP/documented" >"$TMP/routes.diff"
check "the route table and openapi.json list the same routes" $? "($(cat "$TMP/routes.diff"))"
"$KW" serve --help >"$TMP/help"
while read -r method path; do grep -q "^  [A-Z|]*${method}[A-Z|]* *${path}\$" "$TMP/help" || echo "$method $path"; done <"$TMP/routes" >"$TMP/unlisted"
[ ! -s "$TMP/unlisted" ]
check "serve --help lists every route" $? "($(cat "$TMP/unlisted"))"
req POST /api/v1/auth/logout "" "$TOKEN"
is "logout" 204
req GET /api/v1/me "" "$TOKEN"
is "token dead after logout" 401

# --- organisations, users, tickets through the closed loop ---
ADMIN=$(curl -s -X POST "$B/api/v1/auth/login" -H "Content-Type: application/json" -d '{"email":"admin@localhost","password":"correct-horse"}' | jq -r .token)
req POST /api/v1/orgs '{"name":"Acme","tier":"vip","region":"domestic","contract_value_cents":10000000}' "$ADMIN"
is "create an organisation" 201 '.name == "Acme" and .tier == "vip"'
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Globex"}' "$ADMIN"
is "create another" 201
GLOBEX=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
is "organisation names are unique" 409 '.pointer == "/name"'
req POST /api/v1/orgs '{"name":"X","contract_value_cents":-1}' "$ADMIN"
is "negative contract value" 400 '.pointer == "/contract_value_cents"'
mkuser() { # EMAIL ROLE [ORG]
    local org=${3:+,\"org_id\":$3} name=${1%%@*}
    req POST /api/v1/users "{\"email\":\"$1\",\"name\":\"${name^}\",\"role\":\"$2\",\"password\":\"password-$2\"$org}" "$ADMIN"
}
mkuser alice@acme.example customer "$ACME"
is "create a customer" 201 ".org_id == $ACME"
mkuser bob@globex.example customer "$GLOBEX"
is "create another customer" 201
mkuser ann@provider.example agent
is "create an agent" 201 '.role == "agent"'
mkuser eve@acme.example customer
is "a customer needs an organisation" 400 '.pointer == "/org_id"'
mkuser mallory@x.example root
is "unknown role" 400 '.pointer == "/role"'
ALICE=$(login alice@acme.example password-customer)
BOB=$(login bob@globex.example password-customer)
ANN=$(login ann@provider.example password-agent)
ANN_ID=$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $ANN" | jq -r .id)
ALICE_ID=$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $ALICE" | jq -r .id)
req POST /api/v1/users '{"email":"x@y.example","name":"x","role":"admin","password":"password-x"}' "$ANN"
is "only admins manage users" 403
req POST /api/v1/orgs '{"name":"Initech"}' "$ALICE"
is "customers cannot create organisations" 403

CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets" -H "Authorization: Bearer $ALICE" \
    -H 'Idempotency-Key: k-1' -H 'Content-Type: application/json' -d '{"title":"VPN down","level":"L1","category":"technical"}')
is "a customer opens a ticket" 201 ".org_id == $ACME and .state == \"registered\" and .events == 1 and (.chain_head | length) == 64"
T1=$(jq -r .id "$TMP/body")
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets" -H "Authorization: Bearer $ALICE" \
    -H 'Idempotency-Key: k-1' -H 'Content-Type: application/json' -d '{"title":"VPN down","level":"L1","category":"technical"}')
is "a retried create returns the same ticket" 200 ".id == $T1"
req POST /api/v1/tickets "{\"title\":\"x\",\"level\":\"L1\",\"org_id\":$GLOBEX}" "$ALICE"
is "customers open tickets only for their organisation" 403 '.pointer == "/org_id"'
req POST /api/v1/tickets '{"level":"L1"}' "$ALICE"
is "a ticket needs a title" 400 '.pointer == "/title"'
req POST /api/v1/tickets "{\"title\":\"$(head -c 501 /dev/zero | tr '\0' 'x')\",\"level\":\"L1\"}" "$ALICE"
is "a title over 500 bytes" 400 '.pointer == "/title" and (.detail | contains("1 to 500"))'
req POST /api/v1/tickets '{"title":"x","level":"L1","colour":"red"}' "$ALICE"
is "an unknown field" 400 '.pointer == "/colour"'
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/tickets" -H "Authorization: Bearer $ALICE" \
    -H "Idempotency-Key: $(head -c 201 /dev/zero | tr '\0' 'k')" -H 'Content-Type: application/json' -d '{"title":"x","level":"L1"}')
is "an idempotency key over 200 bytes" 400 '.detail | startswith("Idempotency-Key")'
req POST /api/v1/tickets '{"title":"x","level":"L1"}' "$ANN"
is "an agent names the organisation" 400 '.pointer == "/org_id"'
req POST /api/v1/tickets '{"title":"x","level":"L1","org_id":999}' "$ANN"
is "an unknown organisation" 404 '.pointer == "/org_id"'
req POST /api/v1/tickets '{"title":5,"level":"L1"}' "$ALICE"
is "a title is a string" 400 '.pointer == "/title" and .detail == "title: expected a string of 1 to 500 bytes"'
req POST /api/v1/tickets '{"title":"x","level":"L1","org_id":"1"}' "$ANN"
is "org_id is an id" 400 '.pointer == "/org_id" and .detail == "org_id: expected an id"'
req POST /api/v1/tickets "{\"title\":\"x\",\"level\":\"$(xs 48)\"}" "$ALICE"
is "a level over 47 bytes" 400 '.pointer == "/level" and (.detail | contains("1 to 47"))'
req POST /api/v1/tickets "{\"title\":\"x\",\"level\":\"L1\",\"channel\":\"$(xs 48)\"}" "$ALICE"
is "a channel over 47 bytes" 400 '.pointer == "/channel"'
req POST /api/v1/tickets '{"title":"x","level":"L1","tier":""}' "$ALICE"
is "an empty tier" 400 '.pointer == "/tier"'
tp() { req PATCH "/api/v1/tickets/$T1" "$1" "$ANN"; }
tp '{"colour":"red"}'
is "PATCH refuses an unknown member" 400 '.pointer == "/colour" and .detail == "colour: not a field of this request"'
tp '{"assignee_id":"7"}'
is "assignee_id is an id or null" 400 '.pointer == "/assignee_id" and .detail == "assignee_id: expected an id or null"'
tp '{"team_id":0}'
is "team_id is an id or null" 400 '.pointer == "/team_id" and .detail == "team_id: expected an id or null"'
tp "{\"level\":\"$(xs 48)\"}"
is "a PATCH level over 47 bytes" 400 '.pointer == "/level"'
tp '{"category":""}'
is "an empty category" 400 '.pointer == "/category"'
tp "{\"level\":\"L1\",\"reason\":\"$(xs 2001)\"}"
is "a PATCH reason over 2000 bytes" 400 '.pointer == "/reason" and (.detail | contains("1 to 2000"))'
req GET "/api/v1/tickets/$T1" "" "$BOB"
is "another organisation's ticket does not exist" 404 '.detail == "no such ticket"'
req GET "/api/v1/tickets/$T1/events" "" "$BOB"
is "nor do its events" 404
req POST "/api/v1/tickets/$T1/events" '{"type":"comment","text":"hi"}' "$BOB"
is "nor can it be written to" 404
req GET /api/v1/tickets/99999 "" "$ANN"
is "an unknown ticket" 404
req GET /api/v1/tickets/abc "" "$ANN"
is "a bad id" 404

ev() { req POST "/api/v1/tickets/$T1/events" "$1" "$2"; }
ev '{"type":"transition","to":"analysing"}' "$ANN"
is "registered -> analysing" 201 '.state == "analysing"'
ev '{"type":"milestone","milestone":"first_response"}' "$ANN"
is "first response" 201
ev '{"type":"milestone","milestone":"lunch"}' "$ANN"
is "unknown milestone" 400 '.pointer == "/milestone"'
ev '{"type":"comment","text":"root cause: expired cert","internal":true}' "$ANN"
is "internal note" 201
ev '{"type":"comment","text":"sneaky","internal":true}' "$ALICE"
is "customers write no internal notes" 403
ev '{"type":"transition","to":"archived"}' "$ANN"
is "refused transition" 409 '.detail == "cannot go from analysing to archived (allowed: handling, feedback, waiting_customer)"'
ev '{"type":"transition","to":"handling"}' "$ALICE"
is "customers do not move work along" 403
ev '{"type":"transition","to":"sleeping"}' "$ANN"
is "unknown state" 400 '.pointer == "/to"'
ev '{"type":"transition","to":"handling"}' "$ANN"
is "analysing -> handling" 201 '.state == "handling"'
ev '{"type":"transition","to":"feedback"}' "$ANN"
is "handling -> feedback (resolution proposed)" 201 '.state == "feedback"'
ev '{"type":"transition","to":"handling"}' "$ALICE"
is "the customer rejects the resolution" 201 '.state == "handling"'
ev '{"type":"transition","to":"feedback"}' "$ANN"
is "proposed again" 201
ev '{"type":"comment","text":"works now, thanks"}' "$ALICE"
is "customer comment" 201
ev '{"type":"transition","to":"archived"}' "$ALICE"
is "the customer signs off (双签)" 201 '.state == "archived"'
ev '{"type":"frobnicate"}' "$ANN"
is "unknown event type" 400 '.pointer == "/type"'
ev '{"type":"comment","text":"x","colour":"red"}' "$ANN"
is "an event refuses an unknown member" 400 '.pointer == "/colour"'
ev '{"text":"x"}' "$ANN"
is "an event needs a type" 400 '.pointer == "/type" and (.detail | startswith("type: missing"))'
ev '{"type":["comment"]}' "$ANN"
is "type is a string" 400 '.pointer == "/type"'
ev '{"type":"comment","text":"x","internal":"yes"}' "$ANN"
is "internal is true or false" 400 '.pointer == "/internal" and .detail == "internal: expected true or false"'
ev '{"type":"comment","text":""}' "$ANN"
is "an empty comment" 400 '.pointer == "/text"'
ev "{\"type\":\"comment\",\"text\":\"$(xs 65537)\"}" "$ANN"
is "a comment over 65536 bytes" 400 '.pointer == "/text" and (.detail | contains("1 to 65536"))'
ev "{\"type\":\"rating\",\"satisfaction\":4,\"text\":\"$(xs 2001)\"}" "$ALICE"
is "a rating's text over 2000 bytes" 400 '.pointer == "/text" and .detail == "text: expected a string of 1 to 2000 bytes"'
ev '{"type":"rating"}' "$ALICE"
is "a rating needs satisfaction" 400 '.pointer == "/satisfaction" and .detail == "satisfaction: expected 1 to 5"'
ev '{"type":"rating","satisfaction":"5"}' "$ALICE"
is "satisfaction is a number" 400 '.pointer == "/satisfaction" and .detail == "satisfaction: expected 1 to 5"'
ev '{"type":"rating","satisfaction":4,"nps":"9"}' "$ALICE"
is "nps is a number or null" 400 '.pointer == "/nps" and .detail == "nps: expected 0 to 10 (or null)"'
ev '{"type":"transition","to":5}' "$ANN"
is "to is a string" 400 '.pointer == "/to"'
ev "{\"type\":\"milestone\",\"milestone\":\"$(xs 48)\"}" "$ANN"
is "a milestone over 47 bytes" 400 '.pointer == "/milestone" and (.detail | contains("1 to 47"))'
ev "{\"type\":\"reopen\",\"reason\":\"$(xs 2001)\"}" "$ALICE"
is "a reopen reason over 2000 bytes" 400 '.pointer == "/reason" and (.detail | contains("1 to 2000"))'
req GET "/api/v1/tickets/$T1/events" "" "$ANN"
is "the agent sees every event" 200 '[.events[].type] == ["created","state","milestone","comment","state","state","milestone","reopened","state","milestone","comment","state","milestone","milestone"]'
is "milestones implied by the loop" 200 '[.events[] | select(.type=="milestone") | .body.milestone] == ["first_response","resolved","resolved","customer_confirmed","closed"]'
req GET "/api/v1/tickets/$T1/events" "" "$ALICE"
is "the customer does not see internal notes" 200 '([.events[] | select(.type=="comment")] | length) == 1'
is "the customer reads the names of the staff who acted, never an e-mail" 200 \
    "([.events[] | select(.actor == $ANN_ID) | .actor_name] | unique) == [\"Ann\"]
     and ([.events[] | select(.actor == $ALICE_ID) | .actor_name] | unique) == [\"Alice\"]
     and ([.. | strings | select(contains(\"@\"))] | length) == 0"
req GET "/api/v1/tickets/$T1" "" "$ALICE"
is "the ticket, counting the 13 events the customer sees (14 with the internal note)" 200 ".state == \"archived\" and .events == 13"

# --- commitments and the clocks they put on tickets ---
req GET "/api/v1/tickets/$T1/sla" "" "$ANN"
is "a ticket opened before any commitment has no clocks" 200 '.commitment == null and .clocks == []'
POLICY=$(cat examples/policies/acme.json)
req POST /api/v1/commitments "$POLICY" "$ANN"
is "agents cannot change commitments" 403
req POST /api/v1/commitments '{"name":"x","version":"1","effective_from":"2026-01-01T00:00:00Z","calendars":{"c":{"tz":"UTC","week":{"mon":[["09:00","25:00"]]}}}}' "$ADMIN"
is "an invalid commitment names the field" 400 '.pointer == "/calendars/c/week/mon/0/1"'
req POST /api/v1/commitments "$POLICY" "$ADMIN"
is "upload a commitment" 201 '.version == "2026.1" and .effective_from == "2025-12-31T16:00:00Z"'
C1=$(jq -r .id "$TMP/body")
req POST /api/v1/commitments "$POLICY" "$ADMIN"
is "the same version twice" 409 '.pointer == "/version"'
req POST /api/v1/tickets '{"title":"core switch down","level":"L1","tier":"vip"}' "$ALICE"
is "a ticket follows the version in force" 201 ".commitment_id == $C1"
T2=$(jq -r .id "$TMP/body")
req GET "/api/v1/tickets/$T2/sla" "" "$ANN"
is "its clocks run" 200 '([.clocks[] | select(.metric=="response")][0] | .status == "running" and .target == 900 and .calendar == "24x7" and has("sri")) and ([.clocks[] | select(.metric=="callback")][0].status == "pending")'
req GET "/api/v1/tickets/$T2/sla" "" "$ALICE"
is "the customer sees their clocks without the SRI or the provider's own call-back clock" 200 \
    '([.clocks[] | select(.metric=="response")][0] | .status == "running" and .target == 900 and (has("sri") | not))
     and ([.clocks[] | select(.metric=="callback")] | length) == 0 and ([.clocks[] | has("sri")] | any | not)'
req GET "/api/v1/tickets/$T2" "" "$ALICE"
is "nor in the ticket's clocks" 200 '[.clocks[].metric] | index("callback") == null'
req GET "/api/v1/tickets?include=clocks" "" "$ALICE"
is "nor in their list" 200 '[.tickets[].clocks[].metric] | index("callback") == null'
req GET "/api/v1/tickets/$T2" "" "$ANN"
is "staff see the call-back clock" 200 '[.clocks[].metric] | index("callback") != null'
req GET "/api/v1/tickets/$T2/sla" "" "$ADMIN"
is "the call-back clock is for staff" 200 '[.clocks[] | select(.metric=="callback")][0].status == "pending"'
req POST "/api/v1/tickets/$T2/events" '{"type":"milestone","milestone":"first_response"}' "$ANN"
is "first response recorded" 201
req GET "/api/v1/tickets/$T2/sla" "" "$ANN"
is "the response clock is met" 200 '[.clocks[] | select(.metric=="response")][0] | .status == "met" and .stopped_by == "first_response"'
req GET "/api/v1/tickets/$T2/sla" "" "$BOB"
is "nor another organisation's clocks" 404

# --- failed logins are rate-limited per account ---
mkuser carol@acme.example customer "$ACME"
for i in 1 2 3 4 5; do
    req POST /api/v1/auth/login '{"email":"carol@acme.example","password":"guess-'$i'"}'
done
is "fifth wrong password" 401
req POST /api/v1/auth/login '{"email":"carol@acme.example","password":"password-customer"}'
is "then even the right one waits" 429 '.detail | startswith("too many failed logins; try again in")'
req POST /api/v1/auth/login '{"email":"ann@provider.example","password":"password-agent"}'
is "other accounts are not affected" 200

# --- listing tickets ---
for i in 1 2 3; do
    req POST /api/v1/tickets "{\"title\":\"globex $i\",\"level\":\"L3\",\"org_id\":$GLOBEX}" "$ANN"
done
req GET "/api/v1/tickets" "" "$ANN"
is "staff list every ticket" 200 '(.tickets | length) == 5 and .next == null'
req GET "/api/v1/tickets?limit=2" "" "$ANN"
is "a page of two" 200 '(.tickets | length) == 2 and .next != null'
NEXT=$(jq -r .next "$TMP/body")
req GET "/api/v1/tickets?limit=2&after=$NEXT" "" "$ANN"
is "the next page" 200 "(.tickets | length) == 2 and (.tickets[0].id > $NEXT)"
req GET "/api/v1/tickets?state=archived" "" "$ANN"
is "filter by state" 200 "(.tickets | length) == 1 and .tickets[0].id == $T1"
req GET "/api/v1/tickets?level=L3&org_id=$GLOBEX" "" "$ANN"
is "filter by level and organisation" 200 '(.tickets | length) == 3'
req GET "/api/v1/tickets" "" "$ALICE"
is "a customer lists only their own" 200 "(.tickets | length) == 2 and ([.tickets[].org_id] | unique) == [$ACME]"
req GET "/api/v1/tickets?org_id=$GLOBEX" "" "$ALICE"
is "and may not ask for another's" 403
req GET "/api/v1/tickets?state=shut" "" "$ANN"
is "an unknown state" 400 '.detail | startswith("state: expected")'
req GET "/api/v1/tickets?limit=0" "" "$ANN"
is "a bad limit" 400 '.detail == "limit: expected a whole number from 1 to 500"'
req GET "/api/v1/tickets?after=x" "" "$ANN"
is "a bad cursor" 400

# --- serve --demo: the demo goes into an empty database once ---
"$KW" serve --db "$TMP/demo.db" --listen 127.0.0.1:0 --demo 2>"$TMP/demo.log" &
DPID=$!
EXTRA_PIDS+=("$DPID")
DPORT=$(port_of "$TMP/demo.log")
MGR=$(curl -s -X POST "http://127.0.0.1:$DPORT/api/v1/auth/login" -H "Content-Type: application/json" -d '{"email":"manager@keepword.demo","password":"keepword-demo"}' | jq -r .token)
N=$(curl -s "http://127.0.0.1:$DPORT/api/v1/tickets?limit=100" -H "Authorization: Bearer $MGR" | jq '.tickets | length')
check "the demo has its tickets" "$([ "$N" = 22 ]; echo $?)" "($N)"
N=$(curl -s "http://127.0.0.1:$DPORT/api/v1/tickets?limit=100&breached=true" -H "Authorization: Bearer $MGR" | jq '.tickets | length')
check "some demo tickets are breached, some not" "$([ "$N" -gt 0 ] && [ "$N" -lt 22 ]; echo $?)" "($N)"
N=$(curl -s "http://127.0.0.1:$DPORT/api/v1/teams" -H "Authorization: Bearer $MGR" | jq '.teams | length')
check "the demo has two desks" "$([ "$N" = 2 ]; echo $?)" "($N)"
STATUSES=$(for i in $(seq 1 22); do curl -s "http://127.0.0.1:$DPORT/api/v1/tickets/$i/sla" -H "Authorization: Bearer $MGR" | jq -r '.clocks[].status'; done | sort -u | tr '\n' ' ')
check "demo clocks are met, running, paused, breached, met late and pending" \
    "$([ "$STATUSES" = "breached met met_late paused pending running " ]; echo $?)" "($STATUSES)"
kill -TERM "$DPID"
wait "$DPID"
"$KW" serve --db "$TMP/demo.db" --listen 127.0.0.1:0 --demo 2>"$TMP/demo2.log" &
DPID=$!
sleep 1
kill -TERM "$DPID"
wait "$DPID"
! grep -q "demo loaded" "$TMP/demo2.log"
check "the demo is not loaded twice" $?

# --- the API describes itself, and every route it serves is described ---
req GET /api/v1/openapi.json
is "openapi.json" 200 '.openapi == "3.1.0" and (.paths | length) >= 11'
for path in /healthz /api/v1/auth/login /api/v1/auth/logout /api/v1/me /api/v1/tokens \
    '/api/v1/tokens/{id}' /api/v1/orgs '/api/v1/orgs/{id}' /api/v1/users /api/v1/teams \
    /api/v1/calendars '/api/v1/calendars/{name}' '/api/v1/calendars/{name}/ics' \
    '/api/v1/calendars/{name}/deadline' /api/v1/commitments '/api/v1/commitments/{id}' \
    '/api/v1/commitments/{id}/letter' /api/v1/tickets '/api/v1/tickets/{id}' \
    '/api/v1/tickets/{id}/events' '/api/v1/tickets/{id}/sla' '/api/v1/tickets/{id}/nodes' \
    '/api/v1/tickets/{id}/verify' /api/v1/endpoints '/api/v1/endpoints/{id}' '/api/v1/endpoints/{id}/test' \
    /api/v1/outbox '/api/v1/outbox/{id}/retry' /api/v1/oncall /api/v1/oncall/who \
    '/api/v1/oncall/{id}/who' '/api/v1/oncall/{id}/shifts' /api/v1/overruns '/api/v1/overruns/{id}' \
    /api/v1/subscriptions '/api/v1/subscriptions/{id}' /api/v1/stream; do
    jq -e --arg p "$path" '.paths | has($p)' "$TMP/body" >/dev/null
    check "openapi describes $path" $?
done
grep -q 'event=http.request method=GET path="/healthz" status=200' "$TMP/log"
check "one log line per request" $?
# a create's own line is held and written with its request's, just before it
awk '/event=ticket.created / { held = 1; next }
     held && /event=http.request method=POST path="\/api\/v1\/tickets" status=201 / { ok++ }
     { held = 0 }
     END { exit !ok }' "$TMP/log"
check "a create logs ticket.created, then its request" $?
grep -c 'event=ticket.created ' "$TMP/log" | grep -qx "$(grep -c 'event=http.request method=POST path="/api/v1/tickets" status=201 ' "$TMP/log")"
check "as many ticket.created lines as creates answered 201" $?

serve_stop
grep -q "SIGTERM received, stopping" "$TMP/log"
check "says it stops" $?
finish
