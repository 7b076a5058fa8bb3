#!/usr/bin/env bash
# The closed loop through the API with a fake clock, clocks checked at each
# step (business hours across a holiday and a weekend, a pause, a level
# change, a rejected resolution, sign-off, reopening inside and outside the
# window), service nodes, chain verification; then the admin routes
# (teams, calendars with .ics, commitments and the letter, API tokens), and
# the authorisation matrix: every route x every role x own/other organisation.
# usage: tests/http/loop.sh PATH/TO/keepword
set -u
KW=${1:?usage: loop.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
at() { # move the server's clock (write, then rename: never half a file)
    echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"
}

at 2026-04-30T17:00:00+08:00
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
# Sessions last 12 hours of the server's clock: log in again after a jump.
relogin() {
    ADMIN=$(login admin@localhost correct-horse)
    MIA=$(login mia@provider.example password-manager)
    ANN=$(login ann@provider.example password-agent)
    ALICE=$(login alice@acme.example password-customer)
    BOB=$(login bob@globex.example password-customer)
}

ADMIN=$(login admin@localhost correct-horse)
req POST /api/v1/orgs '{"name":"Acme","tier":"vip","region":"domestic"}' "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Globex","tier":"standard"}' "$ADMIN"
GLOBEX=$(jq -r .id "$TMP/body")
req POST /api/v1/teams '{"name":"Desk"}' "$ADMIN"
is "create a team" 201 '.name == "Desk" and .lead_id == null'
DESK=$(jq -r .id "$TMP/body")
mkuser() { # EMAIL ROLE [ORG] -> id
    local org=${3:+,\"org_id\":$3}
    req POST /api/v1/users "{\"email\":\"$1\",\"name\":\"$1\",\"role\":\"$2\",\"password\":\"password-$2\"$org}" "$ADMIN"
    jq -r .id "$TMP/body"
}
req POST /api/v1/users '{"email":"sam@provider.example","name":"Sam","role":"agent","skills":["network","zh","network"]}' "$ADMIN"
is "a skill listed twice" 400 '.pointer == "/skills/2"'
req POST /api/v1/users '{"email":"sam@provider.example","name":"Sam","role":"agent","skills":["network","数据库"]}' "$ADMIN"
is "an agent with skills" 201 '.skills == ["network","数据库"]'
mkuser mia@provider.example manager >/dev/null
ANN_ID=$(mkuser ann@provider.example agent)
ALICE_ID=$(mkuser alice@acme.example customer "$ACME")
mkuser bob@globex.example customer "$GLOBEX" >/dev/null
relogin

# The commitment: office hours 09-18 in Shanghai with 1 May off; L2 answers
# in 2 working hours and resolves in 8 (paused while waiting for the
# customer); L1 runs round the clock. Custom service nodes, a 3-day window.
OFFICE='{"tz":"Asia/Shanghai","week":{"mon":[["09:00","18:00"]],"tue":[["09:00","18:00"]],"wed":[["09:00","18:00"]],"thu":[["09:00","18:00"]],"fri":[["09:00","18:00"]],"sat":[],"sun":[]},"holidays":["2026-05-01"]}'
POLICY='{"name":"Loop","version":"1","effective_from":"2026-01-01T00:00:00+08:00",
 "calendars":{"office":'$OFFICE',"24x7":{"tz":"UTC","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}},
 "levels":["L1","L2"],"categories":["technical","billing"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"],"warn_at":[50,80]},
            {"id":"resolution","start":"created","stop":["resolved"],"pause_when":["waiting_customer"],"warn_at":[75]}],
 "targets":[{"id":"L1","when":{"level":"L1"},"calendar":"24x7","response":"15m","resolution":"4h"},
            {"id":"L2","when":{"level":"L2"},"calendar":"office","response":"2h","resolution":"8h"}],
 "reopen_window":"3d",
 "service_nodes":[{"id":"in","label":{"zh":"受理","en":"Received"},"at":"created"},
                  {"id":"work","label":{"zh":"处理","en":"Working"},"at":"handling"},
                  {"id":"done","label":{"zh":"解决","en":"Solved"},"at":"resolved"},
                  {"id":"ok","label":{"zh":"确认","en":"Signed off"},"at":"customer_confirmed"}]}'
req POST /api/v1/commitments "$POLICY" "$MIA"
is "a manager publishes the commitment" 201 '.version == "1"'
COMMIT=$(jq -r .id "$TMP/body")

# --- one ticket around the loop ---
req POST /api/v1/tickets '{"title":"Invoices do not print","level":"L2","category":"technical"}' "$ALICE"
is "Thursday 17:00: the customer reports; tier and region come from the contract" 201 \
    ".commitment_id == $COMMIT and .due_at == \"2026-05-04T02:00:00Z\" and .breached == false
     and .tier == \"vip\" and .region == \"domestic\""
T=$(jq -r .id "$TMP/body")
req GET "/api/v1/tickets/$T/sla" "" "$ALICE"
is "response due Monday 10:00, resolution Monday 16:00 (holiday and weekend skipped)" 200 \
    '(.clocks[] | select(.metric == "response") | .deadline == "2026-05-04T02:00:00Z" and .status == "running")
     and (.clocks[] | select(.metric == "resolution") | .deadline == "2026-05-04T08:00:00Z")'
req POST /api/v1/tickets '{"title":"x","level":"L2","tier":"strategic"}' "$ALICE"
is "a customer cannot claim a better tier" 403 '.pointer == "/tier"'
req POST /api/v1/tickets '{"title":"x","level":"L9"}' "$ALICE"
is "a level the commitment does not know" 400 '.pointer == "/level"'
req POST /api/v1/tickets '{"title":"x","level":"L2","category":"hardware"}' "$ALICE"
is "a category the commitment does not know" 400 '.pointer == "/category"'

at 2026-05-04T09:30:00+08:00
relogin
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"analysing"}' "$ANN"
is "Monday 09:30: analysing" 201 '.state == "analysing"'
req POST "/api/v1/tickets/$T/events" '{"type":"milestone","milestone":"first_response"}' "$ANN"
is "first response: the next due is the resolution" 201 '.due_at == "2026-05-04T08:00:00Z"'
req GET "/api/v1/tickets/$T/sla" "" "$ANN"
is "the response clock is met after 1.5 working hours" 200 \
    '.clocks[] | select(.metric == "response") | .status == "met" and .elapsed == 5400'
req PATCH "/api/v1/tickets/$T" "{\"assignee_id\":$ANN_ID,\"team_id\":$DESK}" "$ANN"
is "assigned to Ann at the desk" 200 ".assignee_id == $ANN_ID and .team_id == $DESK"
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"handling"}' "$ANN"
is "handling" 201 '.state == "handling"'
at 2026-05-04T10:00:00+08:00
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"waiting_customer"}' "$ANN"
is "10:00 waiting for the customer: the resolution clock pauses" 201 '.due_at == null'
req GET "/api/v1/tickets/$T/sla" "" "$ANN"
is "paused after 2 working hours" 200 \
    '.clocks[] | select(.metric == "resolution") | .status == "paused" and .elapsed == 7200'
at 2026-05-04T14:00:00+08:00
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"Printer model is HL-2270"}' "$ALICE"
is "14:00 the customer answers: back to handling, 6 working hours left, due Tuesday 11:00" 201 \
    '.state == "handling" and .due_at == "2026-05-05T03:00:00Z"'
req GET "/api/v1/tickets?assignee_id=$ANN_ID&sort=due" "" "$ANN"
is "Ann's queue, by time to breach" 200 "[.tickets[].id] == [$T]"
req GET "/api/v1/tickets/$T/nodes?lang=fr" "" "$ALICE"
is "nodes in an unknown language" 400
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"registered"}' "$ANN"
is "nothing goes back to registered" 400 '.pointer == "/to"'
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"archived"}' "$ANN"
is "a move the loop does not allow" 409 '.pointer == "/to" and (.detail | startswith("cannot go from handling to archived"))'
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"x","colour":"red"}' "$ANN"
is "events refuse unknown fields" 400 '.pointer == "/colour"'
req GET "/api/v1/tickets/$T/nodes?lang=en" "" "$ALICE"
is "the customer sees two nodes reached, Solved next" 200 \
    '[.nodes[] | .reached] == [true, true, false, false] and .next == "done" and .nodes[1].label == "Working"'
at 2026-05-04T15:00:00+08:00
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"feedback"}' "$ANN"
is "15:00 resolution proposed: nothing is due" 201 '.state == "feedback" and .due_at == null and .breached == false'
req GET "/api/v1/tickets/$T/sla" "" "$ALICE"
is "the resolution clock is met" 200 '.clocks[] | select(.metric == "resolution") | .status == "met"'
at 2026-05-04T15:30:00+08:00
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"handling","reason":"still fails"}' "$ALICE"
is "15:30 the customer rejects: the clock resumes" 201 '.state == "handling" and .due_at == "2026-05-05T03:30:00Z"'
req GET "/api/v1/tickets/$T/nodes?lang=zh" "" "$ALICE"
is "a rejected resolution takes back Solved" 200 '[.nodes[] | .reached] == [true, true, false, false] and .nodes[2].label == "解决"'
at 2026-05-04T16:00:00+08:00
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"feedback"}' "$ANN"
is "16:00 proposed again" 201 '.state == "feedback"'
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"archived"}' "$BOB"
is "another organisation cannot sign off" 404
at 2026-05-04T16:30:00+08:00
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"archived"}' "$ALICE"
is "16:30 the customer signs off (双签)" 201 '.state == "archived"'
req GET "/api/v1/tickets/$T/nodes" "" "$ALICE"
is "every node reached" 200 '[.nodes[] | .reached] == [true, true, true, true] and .next == null'
at 2026-05-08T16:31:00+08:00
relogin
req POST "/api/v1/tickets/$T/events" '{"type":"reopen","reason":"it is back"}' "$ALICE"
is "reopening after the 3-day window is refused" 409 '.detail | test("window|ago|days"; "i")'
at 2026-05-06T10:00:00+08:00
relogin
req POST "/api/v1/tickets/$T/events" '{"type":"reopen","reason":"it is back"}' "$ALICE"
is "reopening within the window: 4.5 working hours left" 201 \
    '.state == "handling" and .due_at == "2026-05-06T06:30:00Z"'
req GET "/api/v1/tickets/$T/nodes" "" "$ALICE"
is "reopened: Solved and Signed off are ahead again" 200 '[.nodes[] | .reached] == [true, true, false, false]'
req GET "/api/v1/tickets/$T/events" "" "$ANN"
is "every step is an event with actor and time" 200 \
    '[.events[] | select(.type | startswith("sla_") | not) | .type] == ["created","state","milestone","assigned","state","state","comment","state","state","milestone","reopened","state","milestone","state","milestone","milestone","reopened"]
     and all(.events[] | select(.type | startswith("sla_") | not); .actor > 0 and (.at | length) == 20)'
is "the engine warned once: half the response time was used at Thursday 18:00" 200 \
    '[.events[] | select(.type | startswith("sla_")) | [.type, .body.metric, .body.percent, .body.colour, .at, .body.reached_at]]
     == [["sla_warning", "response", 50, "blue", "2026-05-04T01:30:00Z", "2026-04-30T10:00:00Z"]]'
req GET "/api/v1/tickets/$T/verify" "" "$ALICE"
is "the chain verifies" 200 '.valid == true and (.chain_head | length) == 64'
grep -q "event=ticket.state ticket=$T from=feedback to=archived" "$TMP/log"
check "state changes are logged" $?

# --- a level change recomputes the clocks ---
req POST /api/v1/tickets "{\"title\":\"Core switch flapping\",\"level\":\"L2\",\"org_id\":$ACME}" "$ANN"
T2=$(jq -r .id "$TMP/body")
at 2026-05-06T11:00:00+08:00
req PATCH "/api/v1/tickets/$T2" '{"level":"L1","reason":"whole site down"}' "$ANN"
is "raised to L1: round-the-clock targets from the start" 200 \
    '.level == "L1" and .due_at == "2026-05-06T06:00:00Z" and .breached == true'
req GET "/api/v1/tickets/$T2/events" "" "$ANN"
is "the level change is an event with its reason" 200 \
    'any(.events[]; .type == "level" and .body == {"level":"L1","from":"L2","reason":"whole site down"})'
eventually "/api/v1/tickets/$T2/events" "$ANN" \
    'any(.events[]; .type == "sla_breach" and .body.metric == "response" and .body.breached_at == "2026-05-06T02:15:00Z")'
is "the engine records the breach of the new 15-minute response target" 200 \
    'any(.events[]; .type == "sla_breach" and .body.metric == "response" and .body.breached_at == "2026-05-06T02:15:00Z")'
req PATCH "/api/v1/tickets/$T2" '{"level":"L7"}' "$ANN"
is "an unknown level" 400 '.pointer == "/level"'
req PATCH "/api/v1/tickets/$T2" "{\"assignee_id\":$ALICE_ID}" "$ANN"
is "customers are not assignees" 400 '.pointer == "/assignee_id"'
req PATCH "/api/v1/tickets/$T2" '{"team_id":999}' "$ANN"
is "an unknown team" 404 '.pointer == "/team_id"'
req PATCH "/api/v1/tickets/$T2" '{"priority":"high"}' "$ANN"
is "an unknown field" 400 '.pointer == "/priority"'
req GET "/api/v1/tickets?breached=true" "" "$ANN"
is "breached filter" 200 "[.tickets[].id] == [$T2]"
req GET "/api/v1/tickets?breached=false" "" "$ANN"
is "not breached" 200 "[.tickets[].id] == [$T]"
req GET "/api/v1/tickets?due_before=2026-05-06T06:15:00Z" "" "$ANN"
is "due before" 200 "[.tickets[].id] == [$T2]"
req GET "/api/v1/tickets?due_before=yesterday" "" "$ANN"
is "a bad instant" 400 '.detail | startswith("due_before")'
req GET "/api/v1/tickets?breached=maybe" "" "$ANN"
is "a bad breached" 400
req GET "/api/v1/tickets?sort=priority" "" "$ANN"
is "a bad sort" 400
req GET "/api/v1/tickets?sort=due&limit=1" "" "$ANN"
is "sorted by time to breach, first page" 200 "[.tickets[].id] == [$T2] and (.next | type) == \"string\""
req GET "/api/v1/tickets?sort=due&limit=1&after=$(jq -r .next "$TMP/body")" "" "$ANN"
is "second page" 200 "[.tickets[].id] == [$T] and .next == null"

# --- calendars, commitments, the letter, tokens ---
req POST /api/v1/calendars "{\"name\":\"office\",${OFFICE:1}" "$MIA"
is "store a calendar" 201 '.name == "office" and .spec.holidays == ["2026-05-01"]'
ICS=$'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\nDTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261004\r\nSUMMARY:国庆节 休\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'
req POST "/api/v1/calendars/office/ics?as=holidays" "$ICS" "$MIA" text/calendar
is "import holidays from .ics" 201 '.imported.added == 3 and (.spec.holidays | length) == 4'
req POST "/api/v1/calendars/office/ics?as=holidays" "not a calendar" "$MIA" text/calendar
is "a bad .ics" 400
req POST "/api/v1/calendars/nosuch/ics?as=holidays" "$ICS" "$MIA" text/calendar
is "an unknown calendar" 404
req GET "/api/v1/calendars/office/deadline?from=2026-09-30T17:00:00%2B08:00&duration=4h" "" "$ALICE"
is "deadline preview skips the imported holidays" 200 '.deadline == "2026-10-05T04:00:00Z"'
req GET "/api/v1/calendars/office/deadline?duration=soon" "" "$ALICE"
is "a bad duration" 400
req POST /api/v1/calendars '{"name":"bad","tz":"Mars/Olympus","week":{}}' "$MIA"
is "an unknown zone" 400
req GET /api/v1/commitments "" "$ALICE"
is "customers read the commitments" 200 ".commitments[0].version == \"1\" and .in_force == $COMMIT"
req GET "/api/v1/commitments/$COMMIT/letter?lang=zh" "" "$ALICE"
check "the letter in Chinese" "$([ "$CODE" = 200 ] && grep -q "Loop" "$TMP/body" && [[ $CTYPE == text/markdown* ]]; echo $?)" "($CODE $CTYPE)"
req GET "/api/v1/commitments/$COMMIT/letter?lang=en&format=html" "" "$ALICE"
check "the letter in English as HTML" "$([ "$CODE" = 200 ] && [[ $CTYPE == text/html* ]]; echo $?)" "($CODE $CTYPE)"
req GET "/api/v1/commitments/$COMMIT/letter?lang=fr" "" "$ALICE"
is "an unknown language" 400
req GET "/api/v1/commitments/999" "" "$ALICE"
is "an unknown commitment" 404
req POST /api/v1/tokens '{"label":"CI","expires_in_days":30}' "$ANN"
is "a personal API token" 201 '.label == "CI" and (.token | startswith("kw_")) and .expires_at != null'
APITOK=$(jq -r .token "$TMP/body")
APIID=$(jq -r .id "$TMP/body")
req GET /api/v1/me "" "$APITOK"
is "the API token works" 200 '.email == "ann@provider.example"'
req GET /api/v1/tokens "" "$ANN"
is "tokens are listed without their secret" 200 '(.tokens | length) == 1 and (.tokens[0] | has("token") | not)'
req DELETE "/api/v1/tokens/$APIID" "" "$BOB"
is "another user cannot revoke it" 404
req DELETE "/api/v1/tokens/$APIID" "" "$ANN"
is "revoke it" 204
req GET /api/v1/me "" "$APITOK"
is "a revoked token is dead" 401
req POST /api/v1/tokens '{"label":"x","expires_in_days":0}' "$ANN"
is "a bad expiry" 400 '.pointer == "/expires_in_days"'

# --- the authorisation matrix ---
# Each line: METHOD PATH BODY, then the status for admin, manager, agent,
# a customer of the ticket's organisation and a customer of another. "-" in
# BODY means none; @N in a body is replaced by a fresh number.
n=0
matrix() {
    local method=$1 path=$2 body=$3
    shift 3
    local want=("$@") tokens=("$ADMIN" "$MIA" "$ANN" "$ALICE" "$BOB")
    local names=(admin manager agent own-customer other-customer)
    for i in 0 1 2 3 4; do
        n=$((n + 1))
        local b=${body//@N/$n}
        [ "$b" = "-" ] && b=""
        req "$method" "$path" "$b" "${tokens[$i]}"
        check "$method $path as ${names[$i]}" "$([ "$CODE" = "${want[$i]}" ]; echo $?)" \
            "(want ${want[$i]}, got $CODE: $(head -c 200 "$TMP/body"))"
    done
    local b=${body//@N/x}
    [ "$b" = "-" ] && b=""
    req "$method" "$path" "$b"
    check "$method $path without a token" "$([ "$CODE" = 401 ]; echo $?)" "(got $CODE)"
}
matrix GET /api/v1/orgs - 200 200 200 200 200
matrix GET "/api/v1/orgs/$ACME" - 200 200 200 200 404
matrix POST /api/v1/orgs '{"name":"Org @N"}' 201 201 403 403 403
matrix GET /api/v1/users - 200 200 200 200 200
matrix GET "/api/v1/users?org_id=$ACME" - 200 200 200 200 403
matrix POST /api/v1/users '{"email":"u@N@x.example","name":"u","role":"agent","password":"password-u"}' 201 403 403 403 403
matrix GET /api/v1/teams - 200 200 200 403 403
matrix POST /api/v1/teams '{"name":"Team @N"}' 201 201 403 403 403
matrix GET /api/v1/calendars - 200 200 200 200 200
matrix POST /api/v1/calendars "{\"name\":\"cal@N\",${OFFICE:1}" 201 201 403 403 403
matrix GET /api/v1/commitments - 200 200 200 200 200
matrix POST /api/v1/commitments "${POLICY/\"version\":\"1\"/\"version\":\"v@N\"}" 201 201 403 403 403
# v1 is no longer in force (the versions just published are): a customer
# reads it only when tickets of theirs follow it (the own customer's do)
matrix GET "/api/v1/commitments/$COMMIT/letter" - 200 200 200 200 404
matrix GET /api/v1/tickets - 200 200 200 200 200
matrix GET "/api/v1/tickets?org_id=$ACME" - 200 200 200 200 403
matrix POST /api/v1/tickets "{\"title\":\"t@N\",\"level\":\"L2\",\"org_id\":$ACME}" 201 201 201 201 403
matrix GET "/api/v1/tickets/$T" - 200 200 200 200 404
matrix PATCH "/api/v1/tickets/$T" '{"category":"billing"}' 200 200 200 403 404
matrix GET "/api/v1/tickets/$T/events" - 200 200 200 200 404
matrix POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"c@N"}' 201 201 201 201 404
matrix POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"n@N","internal":true}' 201 201 201 403 404
matrix POST "/api/v1/tickets/$T/events" '{"type":"milestone","milestone":"on_site"}' 201 201 201 403 404
matrix GET "/api/v1/tickets/$T/sla" - 200 200 200 200 404
matrix GET "/api/v1/tickets/$T/nodes" - 200 200 200 200 404
matrix GET "/api/v1/tickets/$T/verify" - 200 200 200 200 404
matrix GET /api/v1/tokens - 200 200 200 200 200
matrix GET /api/v1/me - 200 200 200 200 200

req GET /api/v1/orgs "" "$ALICE"
is "a customer lists only their organisation" 200 "[.orgs[].id] == [$ACME]"
req GET /api/v1/users "" "$ALICE"
is "a customer lists only their people" 200 "[.users[].org_id] | unique == [$ACME]"
req GET /api/v1/tickets "" "$BOB"
is "a customer lists only their tickets" 200 '.tickets == []'
req GET "/api/v1/tickets/$T/events" "" "$ALICE"
is "internal notes stay internal" 200 '[.events[].body | select(.internal == true)] == []'

serve_stop
finish
