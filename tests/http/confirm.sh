#!/usr/bin/env bash
# Closing the loop on time, through the real server on a fake clock: a
# proposed resolution waits 3 working days for the customer (office hours
# 09:00-12:00 and 13:30-18:00 Asia/Shanghai, Tuesday 2026-03-10 a holiday);
# the reminder falls due at half that working time and the timeout at the
# exact working instant, each fired once its second is over, and after a
# restart with the instant they fell due. A rejection before the deadline
# stops the wait. Then the call-back desk: the list, calls that do not
# reach the customer (at most callback_attempts), a call that does, the
# rating with its source and the follow-up task for the team lead.
# usage: tests/http/confirm.sh PATH/TO/keepword
set -u
KW=${1:?usage: confirm.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

at 2026-03-06T09:00:00+08:00
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
req POST /api/v1/tokens '{"label":"loop test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme","tier":"vip"}' "$ADMIN"
ORG=$(jq -r .id "$TMP/body")
req POST /api/v1/users '{"email":"ann@p.example","name":"Ann","role":"agent","password":"password-agent"}' "$ADMIN"
ANN_ID=$(jq -r .id "$TMP/body")
req POST /api/v1/users '{"email":"lee@p.example","name":"Lee","role":"manager","password":"password-lead"}' "$ADMIN"
LEE_ID=$(jq -r .id "$TMP/body")
req POST /api/v1/users "{\"email\":\"cy@acme.example\",\"name\":\"Cy\",\"role\":\"customer\",\"password\":\"password-customer\",\"org_id\":$ORG}" "$ADMIN"
req POST /api/v1/tokens '{"label":"agent"}' "$(login ann@p.example password-agent)"
ANN=$(jq -r .token "$TMP/body")
req POST /api/v1/tokens '{"label":"customer"}' "$(login cy@acme.example password-customer)"
CY=$(jq -r .token "$TMP/body")
req POST /api/v1/teams "{\"name\":\"Network\",\"lead_id\":$LEE_ID}" "$ADMIN"
is "a team with a lead" 201
TEAM=$(jq -r .id "$TMP/body")

ev() { req POST "/api/v1/tickets/$1/events" "$2" "$3"; }

# commitment VERSION EXTRA
commitment() {
    req POST /api/v1/commitments '{"name":"Loop","version":"'"$1"'","effective_from":"2026-01-01T00:00:00+08:00",
 "calendars":{"office":{"tz":"Asia/Shanghai","week":{"mon":[["09:00","12:00"],["13:30","18:00"]],
   "tue":[["09:00","12:00"],["13:30","18:00"]],"wed":[["09:00","12:00"],["13:30","18:00"]],
   "thu":[["09:00","12:00"],["13:30","18:00"]],"fri":[["09:00","12:00"],["13:30","18:00"]],"sat":[],"sun":[]},
   "holidays":["2026-03-10"]},
   "24x7":{"tz":"Asia/Shanghai","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],
   "thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}},
 "levels":["L2"],
 "metrics":[{"id":"resolution","start":"created","stop":["resolved"]},
            {"id":"callback","start":"closed","stop":["callback_done"]}],
 "targets":[{"calendar":"office","resolution":"80h"},{"calendar":"24x7","callback":"24h"}]'"$2"'}' "$ADMIN"
}
commitment x ',"confirm_within":{"working_days":0}'
is "working_days is 1 to 365, located" 400 '.pointer == "/confirm_within/working_days"'
commitment x ',"confirm_within":{"working_days":3,"target":"4h"}'
is "working days or a target, not both" 400 '.pointer == "/confirm_within/target"'
commitment x ',"confirm_within":{"calendar":"moon"}'
is "an unknown calendar is refused" 400 '.pointer == "/confirm_within/calendar"'
commitment x ',"confirm_within":{"remind_at":100}'
is "remind_at is 1-99" 400 '.pointer == "/confirm_within/remind_at"'
commitment x ',"confirm_within":{"working_days":3,"soon":true}'
is "an unknown member is refused" 400 '.pointer == "/confirm_within/soon"'
commitment x ',"callback_attempts":0'
is "callback_attempts is 1-20" 400 '.pointer == "/callback_attempts"'
commitment 1 ',"callback_attempts":2'
is "a commitment with the default wait (3 working days on the first calendar, reminder at half)" 201

ticket() {
    req POST /api/v1/tickets "{\"title\":\"$1\",\"level\":\"L2\",\"org_id\":$ORG}" "$CY"
    jq -r .id "$TMP/body"
}
T1=$(ticket "VPN down")
T2=$(ticket "Printer jam")
T3=$(ticket "Mail slow")
for t in "$T1" "$T2" "$T3"; do
    req PATCH "/api/v1/tickets/$t" "{\"team_id\":$TEAM}" "$ADMIN"
    ev "$t" '{"type":"transition","to":"handling"}' "$ANN"
done

# the notifications go to an endpoint (nobody listens there: they stay queued)
req POST /api/v1/endpoints '{"name":"desk hook","url":"http://127.0.0.1:9/hook","events":["confirm_reminder","confirm_timeout","task_opened"]}' "$ADMIN"
is "an endpoint for the loop's notifications" 201

# Friday 15:00: resolutions proposed. Three working days: Monday,
# (Tuesday a holiday), Wednesday, Thursday 15:00 = 07:00Z; 22.5 working
# hours, half of them by Wednesday 09:45.
at 2026-03-06T15:00:00+08:00
for t in "$T1" "$T2" "$T3"; do ev "$t" '{"type":"transition","to":"feedback"}' "$ANN"; done
is "the resolution is proposed" 201 '.state == "feedback"'
n_of() { req GET "/api/v1/tickets/$1/events" "" "$ADMIN"; jq "[.events[] | select(.type == \"$2\")] | length" "$TMP/body"; }

at 2026-03-09T18:00:00+08:00
sleep 0.6
check "no reminder over the weekend and Monday" "$([ "$(n_of "$T1" confirm_reminder)" = 0 ]; echo $?)"
at 2026-03-11T09:45:00+08:00
sleep 0.6
check "nor at the reminder's own second (the holiday skipped)" "$([ "$(n_of "$T1" confirm_reminder)" = 0 ]; echo $?)"
at 2026-03-11T09:45:01+08:00
eventually "/api/v1/tickets/$T1/events" "$ADMIN" '[.events[] | select(.type == "confirm_reminder")] | length == 1'
is "the reminder fires once its second is over, at half the working time" 200 \
    '[.events[] | select(.type == "confirm_reminder") | [.body.due_at, .body.deadline, .actor]]
     == [["2026-03-11T01:45:00Z", "2026-03-12T07:00:00Z", 0]]'
req GET "/api/v1/tickets/$T1/events" "" "$CY"
is "the customer sees the reminder on their ticket" 200 '[.events[] | select(.type == "confirm_reminder")] | length == 1'
req GET "/api/v1/outbox?ticket_id=$T1" "" "$ADMIN"
is "and is told (a confirm_reminder notification)" 200 '[.notifications[] | select(.kind == "confirm_reminder")] | length == 1'

# T2: the customer rejects before the deadline: the wait ends there
at 2026-03-12T10:00:00+08:00
ev "$T2" '{"type":"transition","to":"handling","reason":"still broken"}' "$CY"
is "the customer rejects the resolution" 201 '.state == "handling"'

# T3: the customer confirms; the call-back clock starts
ev "$T3" '{"type":"transition","to":"archived"}' "$CY"
is "the customer confirms" 201

# the server is down at the deadline (Thursday 15:00) and starts on Friday
serve_stop
at 2026-03-13T10:00:00+08:00
serve_start --fake-clock "$TMP/now"
eventually "/api/v1/tickets/$T1" "$ADMIN" '.state == "archived"'
is "after the restart the timeout archives the ticket" 200 '.state == "archived"'
req GET "/api/v1/tickets/$T1/events" "" "$ADMIN"
is "with the instant it fell due, fired at the start" 200 \
    '[.events[] | select(.type == "confirm_timeout") | [.body.due_at, .at]] == [["2026-03-12T07:00:00Z", "2026-03-13T02:00:00Z"]]'
is "its own milestone, then closed; never the customer's confirmation" 200 \
    '[.events[] | select(.type == "milestone") | .body.milestone] == ["resolved", "confirmed_by_timeout", "closed"]
     and ([.events[] | select(.type == "state")][-1].body.reason == "confirmed by timeout")'
is "the reminder was not sent twice" 200 '[.events[] | select(.type == "confirm_reminder")] | length == 1'
req GET "/api/v1/tickets/$T2/events" "" "$ADMIN"
is "the rejected one did not time out" 200 '[.events[] | select(.type == "confirm_timeout" or .type == "confirm_reminder")] | length == 1'
req GET "/api/v1/tickets/$T1/nodes?lang=en" "" "$CY"
is "the customer's nodes say closed without confirmation" 200 \
    '.confirmation == "timeout" and ([.nodes[] | select(.id == "closed_unconfirmed")][0] | .reached and .label == "Closed without confirmation")
     and ([.nodes[].id] | index("confirmed") == null)'
req GET "/api/v1/tickets/$T1/nodes?lang=zh" "" "$CY"
is "(in Chinese too)" 200 '[.nodes[] | select(.id == "closed_unconfirmed")][0].label == "未经确认关闭"'
req GET "/api/v1/tickets/$T1/events" "" "$CY"
is "the customer is told on their ticket" 200 '[.events[] | select(.type == "confirm_timeout")] | length == 1'
req GET "/api/v1/outbox?ticket_id=$T1" "" "$ADMIN"
is "and by a confirm_timeout notification" 200 '[.notifications[] | select(.kind == "confirm_timeout")] | length == 1'
req POST "/api/v1/tickets/$T1/events" '{"type":"milestone","milestone":"confirmed_by_timeout"}' "$ANN"
is "staff cannot record confirmed_by_timeout by hand" 400 '.pointer == "/milestone"'

req GET "/api/v1/tickets/$T3/nodes?lang=en" "" "$CY"
is "a customer's own confirmation shows as confirmed" 200 \
    '.confirmation == "customer" and ([.nodes[] | select(.id == "confirmed")][0].reached)'

# --- the call-back desk ---
req GET /api/v1/callbacks "" "$ANN"
is "the desk lists both, earliest deadline first" 200 \
    "[.callbacks[] | .ticket] == [$T3, $T1] and (.callbacks[1] | .status == \"running\" and .left == 86400 and .attempts == 0
     and .attempts_left == 2 and .org_name == \"Acme\" and .team_id == $TEAM) and .callbacks[0].left == 0"
req GET "/api/v1/callbacks?team_id=999" "" "$ANN"
is "per team" 200 '.callbacks == []'
req GET "/api/v1/callbacks?team_id=0" "" "$ANN"
is "a bad team_id is refused" 400
req GET /api/v1/callbacks "" "$CY"
is "customers have no desk" 403
# a customer's list is ordered and filtered by the due they see: the
# call-back's deadline (staff-only) neither orders it nor shows in a cursor
req GET "/api/v1/tickets?state=closed&sort=due" "" "$ANN"
is "(staff: the running call-back is the closed ticket's due)" 200 \
    "[.tickets[] | select(.id == $T1)][0].due_at != null"
STAFF_EPOCH=$(date -u -d "$(jq -r "[.tickets[] | select(.id == $T1)][0].due_at" "$TMP/body")" +%s)
req GET "/api/v1/tickets?state=closed&sort=due&limit=500" "" "$CY"
is "a customer's sort=due: the ticket is due on nothing they see" 200 \
    "([.tickets[] | select(.id == $T1)][0].due_at == null) and .next == null"
ALL=$(jq -c '[.tickets[].id]' "$TMP/body")
PAGED='[]' NEXT='' CURSORS=''
for _ in 1 2 3 4 5 6 7 8 9 10; do
    req GET "/api/v1/tickets?state=closed&sort=due&limit=1${NEXT:+&after=$NEXT}" "" "$CY"
    PAGED=$(jq -c --argjson p "$PAGED" '$p + [.tickets[].id]' "$TMP/body")
    NEXT=$(jq -r '.next // empty' "$TMP/body")
    CURSORS="$CURSORS $NEXT"
    [ -n "$NEXT" ] || break
done
check "their pages one at a time come in the same order" "$([ "$PAGED" = "$ALL" ]; echo $?)" "($PAGED vs $ALL)"
check "and no cursor carries the call-back's deadline" \
    "$(case "$CURSORS" in *"$STAFF_EPOCH"*) echo 1 ;; *) echo 0 ;; esac)" "($CURSORS)"
req GET "/api/v1/tickets?state=closed&sort=-due&limit=500" "" "$CY"
is "-due is the same order reversed" 200 "[.tickets[].id] == ($ALL | reverse)"
req GET "/api/v1/tickets?state=closed&due_before=2099-01-01T00:00:00Z" "" "$CY"
is "their due_before leaves out a ticket due only on a staff-only clock" 200 "[.tickets[].id] | index($T1) == null"
req GET "/api/v1/tickets?state=closed&due_before=2099-01-01T00:00:00Z" "" "$ANN"
is "(staff: due_before has it)" 200 "[.tickets[].id] | index($T1) != null"
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":false}' "$CY"
is "nor record calls" 403
req POST "/api/v1/tickets/$T2/callbacks" '{"reached":false}' "$ANN"
is "a ticket whose call-back clock does not run" 409
req POST "/api/v1/tickets/$T1/callbacks" '{"satisfaction":4}' "$ANN"
is "reached is required" 400 '.pointer == "/reached"'
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":true,"satisfaction":7}' "$ANN"
is "satisfaction 1-5" 400 '.pointer == "/satisfaction"'
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":true}' "$ANN"
is "a reached customer gives a satisfaction" 400 '.pointer == "/satisfaction"'
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":true,"satisfaction":4,"nps":11}' "$ANN"
is "nps 0-10" 400 '.pointer == "/nps"'
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":false,"satisfaction":3}' "$ANN"
is "an unreached customer gives no rating" 400 '.pointer == "/satisfaction"'
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":false,"mood":"x"}' "$ANN"
is "an unknown member" 400 '.pointer == "/mood"'
req POST "/api/v1/tickets/99999/callbacks" '{"reached":false}' "$ANN"
is "no such ticket" 404
at 2026-03-13T11:00:00+08:00
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":false,"note":"no answer"}' "$ANN"
is "a first call that does not reach the customer" 201 '.attempt == 1 and .reached == false and .task == null'
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":false}' "$ANN"
is "a second" 201 '.attempt == 2'
req POST "/api/v1/tickets/$T1/callbacks" '{"reached":false}' "$ANN"
is "a third is more than callback_attempts allows" 409 '.detail | contains("tried 2 times")'
req GET /api/v1/callbacks "" "$ANN"
is "tried as often as allowed: off the desk" 200 "[.callbacks[] | .ticket] == [$T3]"
req POST "/api/v1/tickets/$T3/callbacks" '{"reached":true,"satisfaction":2,"nps":5,"note":"slow fix","follow_up":"call about the mail quota"}' "$ANN"
is "a dissatisfied call-back" 201 '.attempt == 1 and .reached and .task == 1'
req GET "/api/v1/tickets/$T3/events" "" "$ADMIN"
is "records callback_done and the rating with its source" 200 \
    '([.events[] | select(.type == "milestone") | .body.milestone] | index("callback_done") != null)
     and ([.events[] | select(.type == "rating")][0].body | .source == "callback" and .satisfaction == 2 and .nps == 5)'
req GET "/api/v1/tickets/$T3/sla" "" "$ADMIN"
is "the call-back clock stopped (an hour late)" 200 '.clocks[] | select(.metric == "callback") | .status == "met_late"'
req POST "/api/v1/tickets/$T3/callbacks" '{"reached":true,"satisfaction":5}' "$ANN"
is "a call-back is done once" 409
req GET "/api/v1/tickets/$T3/tasks" "" "$ANN"
is "a follow-up task for the team lead" 200 \
    ".tasks == [.tasks[0]] and (.tasks[0] | .task == 1 and .kind == \"callback_followup\" and .assignee_id == $LEE_ID
     and .note == \"call about the mail quota\" and .done == false and .opened_by == $ANN_ID)"
req GET "/api/v1/outbox?ticket_id=$T3" "" "$ADMIN"
is "the team is told of the task" 200 '[.notifications[] | select(.kind == "task_opened")] | length == 1'
req GET "/api/v1/tickets/$T3/tasks" "" "$CY"
is "customers do not see tasks" 403
req GET "/api/v1/tickets/$T3/events" "" "$CY"
is "nor the call, the task or what staff noted" 200 \
    '[.events[] | select(.type == "callback" or .type == "task_opened" or .type == "rating")] == []'
ev "$T3" '{"type":"rating","satisfaction":4}' "$CY"
is "the customer may still rate it themselves" 201
req POST "/api/v1/tickets/$T3/tasks/done" '{"task":2}' "$ANN"
is "no such task" 404
req POST "/api/v1/tickets/$T3/tasks/done" '{"task":"one"}' "$ANN"
is "a task is a number" 400 '.pointer == "/task"'
req POST "/api/v1/tickets/$T3/tasks/done" '{}' "$ANN"
is "the task is required" 400 '.pointer == "/task"'
req POST "/api/v1/tickets/$T3/tasks/done" '{"task":1}' "$CY"
is "a customer cannot finish one" 403
req POST "/api/v1/tickets/$T3/tasks/done" '{"task":1,"note":"called back, quota raised"}' "$ANN"
is "the task is done" 200 ".tasks[0] | .done and .done_by == $ANN_ID and .done_note == \"called back, quota raised\""
req POST "/api/v1/tickets/$T3/tasks/done" '{"task":1}' "$ANN"
is "done once" 409
req GET "/api/v1/callbacks" "" "$ANN"
is "the desk is empty" 200 '.callbacks == []'

# a customer who rejects within the reopen window still reopens it
ev "$T1" '{"type":"reopen","reason":"it is not fixed"}' "$CY"
is "the timed-out ticket is reopened by the customer" 201 '.state == "handling"'
req GET "/api/v1/tickets/$T1/nodes?lang=en" "" "$CY"
is "and no longer shows as closed" 200 '.confirmation == null and ([.nodes[].id] | index("closed_unconfirmed") == null)'
finish
