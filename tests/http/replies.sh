#!/usr/bin/env bash
# What replies mean, through the real server on a fake clock: the first
# public staff reply records first_response (once; an internal note does
# not; a commitment may name other milestones or none), and a customer's
# reply to a ticket waiting for them moves it back to the state before
# waiting, unless the commitment says otherwise. Then what fell due while
# the server was down: each warning and breach says when it fell due and
# when it was fired, and the customer sees neither staff-side warnings
# nor the call-back clock.
# usage: tests/http/replies.sh PATH/TO/keepword
set -u
KW=${1:?usage: replies.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

at 2026-03-02T09:00:00+08:00
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
req POST /api/v1/tokens '{"label":"replies test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme","tier":"vip"}' "$ADMIN"
ORG=$(jq -r .id "$TMP/body")
req POST /api/v1/users "{\"email\":\"ann@p.example\",\"name\":\"Ann\",\"role\":\"agent\",\"password\":\"password-agent\"}" "$ADMIN"
req POST /api/v1/users "{\"email\":\"cy@acme.example\",\"name\":\"Cy\",\"role\":\"customer\",\"password\":\"password-customer\",\"org_id\":$ORG}" "$ADMIN"
is "a customer" 201
req POST /api/v1/tokens '{"label":"agent"}' "$(login ann@p.example password-agent)"
ANN=$(jq -r .token "$TMP/body")
req POST /api/v1/tokens '{"label":"customer"}' "$(login cy@acme.example password-customer)"
CY=$(jq -r .token "$TMP/body")

# commitment VERSION EFFECTIVE EXTRA: office hours 09-18, response 2 h,
# resolution 8 h (paused while waiting for the customer), call-back 24 h
commitment() {
    req POST /api/v1/commitments '{"name":"Replies","version":"'"$1"'","effective_from":"'"$2"'",
 "calendars":{"office":{"tz":"Asia/Shanghai","week":{"mon":[["09:00","18:00"]],"tue":[["09:00","18:00"]],
   "wed":[["09:00","18:00"]],"thu":[["09:00","18:00"]],"fri":[["09:00","18:00"]],"sat":[],"sun":[]}},
   "24x7":{"tz":"Asia/Shanghai","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],
   "thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}},
 "levels":["L2"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"],"warn_at":[50,80]},
            {"id":"resolution","start":"created","stop":["resolved"],"pause_when":["waiting_customer"],"warn_at":[75]},
            {"id":"callback","start":"closed","stop":["callback_done"],"warn_at":[50]}],
 "targets":[{"calendar":"office","response":"2h","resolution":"8h"},{"calendar":"24x7","callback":"24h"}]'"$3"'}' "$ADMIN"
}
commitment 1 2026-01-01T00:00:00+08:00 ""
is "a commitment with the defaults" 201
commitment x 2026-01-01T00:00:00+08:00 ',"public_reply_implies":["first_response","hello"]'
is "an unknown milestone is refused, located" 400 \
    '.pointer == "/public_reply_implies/1" and (.detail | contains("unknown milestone \"hello\""))'
commitment x 2026-01-01T00:00:00+08:00 ',"customer_reply_resumes":"yes"'
is "customer_reply_resumes is true or false" 400 '.pointer == "/customer_reply_resumes"'

ev() { req POST "/api/v1/tickets/$1/events" "$2" "$3"; }
types() { req GET "/api/v1/tickets/$1/events" "" "$ADMIN"; jq -c '[.events[] | .body.milestone // .type]' "$TMP/body"; }

# --- the first public staff reply is the response ---
req POST /api/v1/tickets "{\"title\":\"VPN down\",\"level\":\"L2\",\"org_id\":$ORG}" "$CY"
T1=$(jq -r .id "$TMP/body")
at 2026-03-02T09:10:00+08:00
ev "$T1" '{"type":"comment","text":"looking at the logs","internal":true}' "$ANN"
req GET "/api/v1/tickets/$T1/sla" "" "$ADMIN"
is "an internal note is no response" 200 '.clocks[] | select(.metric == "response") | .status == "running"'
at 2026-03-02T09:20:00+08:00
ev "$T1" '{"type":"comment","text":"We are on it: the gateway restarts."}' "$ANN"
is "a public reply" 201
req GET "/api/v1/tickets/$T1/sla" "" "$ADMIN"
is "stops the response clock at the reply" 200 \
    '.clocks[] | select(.metric == "response") | .status == "met" and .met_at == "2026-03-02T01:20:00Z" and .stopped_by == "first_response"'
at 2026-03-02T09:30:00+08:00
ev "$T1" '{"type":"comment","text":"Still restarting."}' "$ANN"
check "recorded once, by the first public reply" \
    "$([ "$(types "$T1")" = '["created","comment","comment","first_response","comment"]' ]; echo $?)" "($(types "$T1"))"
ev "$T1" '{"type":"comment","text":"thanks"}' "$CY"
check "a customer's comment implies nothing" \
    "$([ "$(types "$T1")" = '["created","comment","comment","first_response","comment","comment"]' ]; echo $?)" "($(types "$T1"))"

# --- a customer's reply while the ticket waits for them ---
ev "$T1" '{"type":"transition","to":"analysing"}' "$ANN"
at 2026-03-02T10:00:00+08:00
ev "$T1" '{"type":"transition","to":"waiting_customer"}' "$ANN"
req GET "/api/v1/tickets/$T1/sla" "" "$ADMIN"
is "waiting for the customer pauses the resolution clock" 200 '.clocks[] | select(.metric == "resolution") | .status == "paused"'
at 2026-03-02T11:00:00+08:00
ev "$T1" '{"type":"comment","text":"Here is the log you asked for."}' "$CY"
is "the customer replies" 201 '.state == "analysing"'
req GET "/api/v1/tickets/$T1/events" "" "$ADMIN"
is "back to the state before waiting, as the customer's doing" 200 \
    '.events[-1] | .type == "state" and .body.state == "analysing" and .body.from == "waiting_customer"
     and .body.reason == "customer_reply" and .at == "2026-03-02T03:00:00Z"'
req GET "/api/v1/tickets/$T1/sla" "" "$ADMIN"
is "the resolution clock runs again, the wait left out" 200 \
    '.clocks[] | select(.metric == "resolution") | .status == "running" and .elapsed == 3600 and .paused == 3600'
ev "$T1" '{"type":"comment","text":"and one more thing"}' "$CY"
req GET "/api/v1/tickets/$T1" "" "$ADMIN"
is "a reply while not waiting moves nothing" 200 '.state == "analysing"'
ev "$T1" '{"type":"transition","to":"feedback"}' "$ANN"
at 2026-03-02T11:30:00+08:00
ev "$T1" '{"type":"transition","to":"archived"}' "$CY"
is "the customer confirms: closed, the call-back clock starts" 201
req GET "/api/v1/tickets/$T1/sla" "" "$ADMIN"
is "staff see the call-back clock" 200 '[.clocks[].metric] == ["response","resolution","callback"]'
req GET "/api/v1/tickets/$T1" "" "$ADMIN"
is "staff see the call-back's deadline as the ticket's" 200 '.due_at != null'
req GET "/api/v1/tickets/$T1" "" "$CY"
is "the customer does not: nothing of theirs is due" 200 '.due_at == null and .breached == false'

# --- a commitment that says otherwise (version 2, from Tuesday) ---
commitment 2 2026-03-03T00:00:00+08:00 ',"public_reply_implies":["acknowledged"],"customer_reply_resumes":false'
is "a commitment naming acknowledged, and no resume" 201
at 2026-03-03T09:00:00+08:00
req POST /api/v1/tickets "{\"title\":\"Printer jam\",\"level\":\"L2\",\"org_id\":$ORG}" "$CY"
T2=$(jq -r .id "$TMP/body")
ev "$T2" '{"type":"comment","text":"On my way."}' "$ANN"
check "the reply records what the commitment names" \
    "$([ "$(types "$T2")" = '["created","comment","acknowledged"]' ]; echo $?)" "($(types "$T2"))"
req GET "/api/v1/tickets/$T2/sla" "" "$ADMIN"
is "and not first_response" 200 '.clocks[] | select(.metric == "response") | .status == "running"'
ev "$T2" '{"type":"transition","to":"waiting_customer"}' "$ANN"
ev "$T2" '{"type":"comment","text":"It works again."}' "$CY"
req GET "/api/v1/tickets/$T2" "" "$ADMIN"
is "the customer's reply leaves it waiting" 200 '.state == "waiting_customer"'
commitment 3 2026-03-03T12:00:00+08:00 ',"public_reply_implies":[]'
is "a commitment with replies implying nothing" 201
at 2026-03-03T12:00:00+08:00
req POST /api/v1/tickets "{\"title\":\"Mail slow\",\"level\":\"L2\",\"org_id\":$ORG}" "$CY"
T3=$(jq -r .id "$TMP/body")
ev "$T3" '{"type":"comment","text":"Checking."}' "$ANN"
check "[] switches it off" "$([ "$(types "$T3")" = '["created","comment"]' ]; echo $?)" "($(types "$T3"))"

# --- what fell due while the server was down ---
# T3 (Tuesday 12:00): response 50 % at 13:00, 80 % at 13:36, breach 14:00;
# resolution 75 % at 18:00, the end of the day
at 2026-03-03T12:30:00+08:00
serve_stop
at 2026-03-04T10:00:00+08:00
serve_start --fake-clock "$TMP/now"
eventually "/api/v1/tickets/$T3/events" "$ADMIN" '[.events[] | select(.type | startswith("sla_"))] | length == 4'
is "at the restart, each fires with the instant it fell due" 200 \
    '[.events[] | select(.type | startswith("sla_")) | [.type, .body.metric, .body.percent // 100, .body.due_at, .at]]
     == [["sla_warning","response",50,"2026-03-03T05:00:00Z","2026-03-04T02:00:00Z"],
         ["sla_warning","response",80,"2026-03-03T05:36:00Z","2026-03-04T02:00:00Z"],
         ["sla_breach","response",100,"2026-03-03T06:00:00Z","2026-03-04T02:00:00Z"],
         ["sla_warning","resolution",75,"2026-03-03T10:00:00Z","2026-03-04T02:00:00Z"]]'
req GET "/api/v1/overruns?ticket_id=$T3" "" "$ADMIN"
is "the overrun says when the deadline was, not when the server came back" 200 \
    '.overruns[0].deadline == "2026-03-03T06:00:00Z"'
req GET "/api/v1/tickets/$T3/events" "" "$CY"
is "the customer sees the breach, not the staff-side warnings" 200 \
    '[.events[] | select(.type | startswith("sla_")) | .type] == ["sla_breach"]'
req GET "/api/v1/tickets/$T1/events" "" "$ADMIN"
is "the call-back breached (24 h after closing)" 200 \
    '[.events[] | select(.type == "sla_breach") | .body.metric] == ["callback"]'
req GET "/api/v1/tickets/$T1/events" "" "$CY"
is "the customer sees nothing of the call-back clock" 200 '[.events[] | select(.type | startswith("sla_"))] == []'
req GET "/api/v1/tickets/$T1/sla" "" "$CY"
is "nor among the clocks" 200 '[.clocks[].metric] == ["response","resolution"]'
req GET "/api/v1/tickets/$T1" "" "$CY"
is "nor on the ticket" 200 '[.clocks[].metric] | index("callback") == null and length == 2'
is "and the ticket is not breached for them, for staff it is" 200 '.breached == false and .breached_at == null'
req GET "/api/v1/tickets/$T1" "" "$ADMIN"
is "(staff: breached by the call-back)" 200 '.breached == true and .breached_at != null'
req GET "/api/v1/tickets?include=clocks" "" "$CY"
is "nor in the list" 200 '[.tickets[].clocks[].metric] | index("callback") == null'
# what a customer sees is numbered and counted without the events they do
# not see (the internal note, the call-back's breach): no gaps to count them
req GET "/api/v1/tickets?breached=true" "" "$CY"
is "a customer's breached=true leaves out a ticket breached only by a staff-only clock" 200 \
    "[.tickets[].id] | index($T1) == null"
req GET "/api/v1/tickets?breached=false&limit=500" "" "$CY"
is "and their breached=false has it" 200 "[.tickets[].id] | index($T1) != null"
req GET "/api/v1/tickets?breached=true" "" "$ADMIN"
is "(staff: breached=true has it)" 200 "[.tickets[].id] | index($T1) != null"
req GET "/api/v1/tickets/$T1/events" "" "$CY"
is "a customer's events are numbered 1, 2, ... without gaps" 200 \
    '[.events[].seq] == [range(1; (.events | length) + 1)]'
N=$(jq '.events | length' "$TMP/body")
H=$(jq -r '.events[-1].hash' "$TMP/body")
req GET "/api/v1/tickets/$T1" "" "$CY"
is "the ticket counts the events they see, and its head is the last of them" 200 \
    ".events == $N and .chain_head == \"$H\""
req GET /api/v1/tickets "" "$CY"
is "so does their list (without clocks unless asked)" 200 \
    "[.tickets[] | select(.id == $T1)][0] | .events == $N and has(\"clocks\") == false"
req GET "/api/v1/tickets/$T1/verify" "" "$CY"
is "and the record's integrity check" 200 ".valid == true and .events == $N and .chain_head == \"$H\""
req GET "/api/v1/tickets/$T1" "" "$ADMIN"
is "(staff count every event)" 200 ".events > $N"

finish
