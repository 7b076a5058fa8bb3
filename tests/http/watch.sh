#!/usr/bin/env bash
# The watch list (服务黑名单), accident levels and the audit trail over
# HTTP, on a fake clock: the third overrun of an organisation within the
# window flags it once (in-app notifications for its account manager and
# the managers, the outbox's watch_list for a subscribed endpoint), staff
# see the flag on the organisation and its tickets, customers never; only a
# manager's decision with a reason clears it, and the overruns counted
# start again from then; the settings and their refusals; a loss recorded
# on an overrun gives its accident level; every decision is in the audit
# trail, each a leaf of the Merkle log.
# usage: tests/http/watch.sh PATH/TO/keepword
set -u
KW=${1:?usage: watch.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

at 2026-03-02T09:00:00Z
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now" --allow-destination 127.0.0.1
req POST /api/v1/tokens '{"label":"watch test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
mkuser() { # EMAIL ROLE [ORG]
    local org=${3:+,\"org_id\":$3}
    req POST /api/v1/users "{\"email\":\"$1\",\"name\":\"${1%%@*}\",\"role\":\"$2\",\"password\":\"password-$2\"$org}" "$ADMIN"
    [ "$CODE" = 201 ] || echo "mkuser $1: $CODE $(cat "$TMP/body")" >&2
    req POST /api/v1/tokens '{"label":"t"}' "$(login "$1" "password-$2")"
    jq -r .token "$TMP/body"
}
MGR=$(mkuser mia@desk.example manager)
AGENT=$(mkuser al@desk.example agent)
AM=$(mkuser amy@desk.example agent)
req GET /api/v1/me "" "$AM"
AM_ID=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs "{\"name\":\"Acme\",\"account_manager_id\":$AM_ID}" "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Globex"}' "$ADMIN"
GLOBEX=$(jq -r .id "$TMP/body")
CUST=$(mkuser cy@acme.example customer "$ACME")
req POST /api/v1/endpoints '{"name":"account desk","url":"http://127.0.0.1:9/hook","events":["watch_list"]}' "$ADMIN"
is "an endpoint subscribes to watch_list" 201

req POST /api/v1/commitments '{"name":"Watch","version":"1","effective_from":"2026-01-01T00:00:00Z",
 "calendars":{"always":{"tz":"UTC","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}},
 "levels":["L1"],
 "metrics":[{"id":"resolution","start":"created","stop":["resolved"]}],
 "targets":[{"calendar":"always","resolution":"1h"}]}' "$ADMIN"
is "a commitment" 201

req GET /api/v1/watch-list/settings "" "$AGENT"
is "the defaults: 3 overruns in 12 months, 重大事故 from 500,000.00" 200 \
    '.overruns == 3 and .window_months == 12 and .accident == {"major":50000000,"serious":0,"general":1}'

ticket() { # ORG -> id
    req POST /api/v1/tickets "{\"title\":\"Down $RANDOM\",\"level\":\"L1\",\"org_id\":$1}" "$ADMIN"
    jq -r .id "$TMP/body"
}
overrun() { # TICKET: waits for its overrun record
    eventually "/api/v1/overruns?ticket_id=$1" "$ADMIN" '(.overruns | length) == 1'
}
T1=$(ticket "$ACME")
TG=$(ticket "$GLOBEX")
at 2026-03-02T10:00:01Z
overrun "$T1"
overrun "$TG"
at 2026-03-03T09:00:00Z
T2=$(ticket "$ACME")
at 2026-03-03T10:00:01Z
overrun "$T2"
req GET "/api/v1/orgs/$ACME" "" "$MGR"
is "two overruns do not flag" 200 '.watch_list == null'

# an overrun whose reason is the customer's side does not count
at 2026-03-04T09:00:00Z
T3=$(ticket "$ACME")
at 2026-03-04T10:00:01Z
overrun "$T3"
OV3=$(jq -r '.overruns[0].id' "$TMP/body")
req GET "/api/v1/orgs/$ACME" "" "$MGR"
is "the third overrun flags the organisation" 200 \
    ".watch_list.overruns == 3 and .watch_list.ticket_id == $T3 and .watch_list.flagged_at == \"2026-03-04T10:00:01Z\"
     and .watch_list.counted_from == \"2025-03-04T10:00:01Z\" and .watch_list.cleared_at == null"
req GET "/api/v1/orgs/$GLOBEX" "" "$MGR"
is "another organisation is not" 200 '.watch_list == null'
req GET "/api/v1/orgs" "" "$AGENT"
is "the list of organisations shows it" 200 "[.orgs[] | select(.watch_list != null) | .id] == [$ACME]"
req GET "/api/v1/tickets/$T1" "" "$AGENT"
is "so do the organisation's tickets, for staff" 200 ".watch_list.org_id == $ACME"
req GET "/api/v1/tickets/$TG" "" "$AGENT"
is "not another organisation's" 200 '.watch_list == null'
req GET "/api/v1/tickets/$T1" "" "$CUST"
is "a customer never sees the flag on a ticket" 200 'has("watch_list") | not'
req GET "/api/v1/orgs/$ACME" "" "$CUST"
is "nor on their organisation" 200 'has("watch_list") | not'
req GET /api/v1/watch-list "" "$CUST"
is "nor the list" 403
req GET /api/v1/watch-list "" "$AGENT"
is "staff read the list" 200 ".flags | length == 1 and .[0].org_id == $ACME and .[0].org_name == \"Acme\""
req GET /api/v1/notifications "" "$MGR"
is "the manager is told in the app" 200 \
    "[.notifications[] | select(.kind == \"watch_list\")] | length == 1 and .[0].ticket_id == $T3 and .[0].detail == \"Acme\""
req GET /api/v1/notifications "" "$AM"
is "so is the account manager" 200 "[.notifications[] | select(.kind == \"watch_list\")] | length == 1"
req GET /api/v1/notifications "" "$AGENT"
is "other agents are not" 200 '[.notifications[] | select(.kind == "watch_list")] == []'
req GET "/api/v1/outbox?ticket_id=$T3" "" "$ADMIN"
is "the outbox carries it to the subscribed endpoint" 200 \
    '[.notifications[] | select(.kind == "watch_list")] | length == 1'

# a fourth overrun while flagged: no second flag
at 2026-03-05T09:00:00Z
req POST /api/v1/tickets "{\"title\":\"Down again\",\"level\":\"L1\",\"org_id\":$ACME}" "$ADMIN"
is "a new ticket's answer shows staff the flag (read by its write unit)" 201 \
    ".watch_list.org_id == $ACME and .watch_list.overruns == 3 and .requester_name == null"
T4=$(jq -r .id "$TMP/body")
at 2026-03-05T10:00:01Z
overrun "$T4"
req GET "/api/v1/watch-list?all=true" "" "$MGR"
is "flagged once while the flag is open" 200 '.flags | length == 1'

# --- the decision ---
req POST "/api/v1/orgs/$ACME/watch-list/clear" '{"reason":"x"}' "$AGENT"
is "agents do not clear the flag" 403
req POST "/api/v1/orgs/$ACME/watch-list/clear" '{}' "$MGR"
is "the decision needs a reason" 400 '.pointer == "/reason"'
req POST "/api/v1/orgs/$ACME/watch-list/clear" '{"reason":"   "}' "$MGR"
is "a blank reason is no reason" 400 '.pointer == "/reason"'
req POST "/api/v1/orgs/$GLOBEX/watch-list/clear" '{"reason":"x"}' "$MGR"
is "an organisation not on the list" 404
req GET /api/v1/log/checkpoint "" "$MGR"
req POST "/api/v1/orgs/$ACME/watch-list/clear" '{"reason":"root causes fixed; reviewed with the customer"}' "$MGR"
is "a manager clears it with a reason" 200 \
    '.cleared_at == "2026-03-05T10:00:01Z" and .cleared_by != null and .reason == "root causes fixed; reviewed with the customer"'
req GET "/api/v1/orgs/$ACME" "" "$MGR"
is "the organisation is off the list" 200 '.watch_list == null'
req POST "/api/v1/orgs/$ACME/watch-list/clear" '{"reason":"again"}' "$MGR"
is "cleared once" 404

at 2026-03-06T09:00:00Z
T5=$(ticket "$ACME")
at 2026-03-06T10:00:01Z
overrun "$T5"
req GET "/api/v1/orgs/$ACME" "" "$MGR"
is "overruns before the decision no longer count" 200 '.watch_list == null'

# --- the settings ---
req PUT /api/v1/watch-list/settings '{"overruns":2}' "$AGENT"
is "agents do not change the settings" 403
req PUT /api/v1/watch-list/settings '{"overruns":0}' "$MGR"
is "refused: 0 overruns" 400 '.pointer == "/overruns"'
req PUT /api/v1/watch-list/settings '{"window_months":121}' "$MGR"
is "refused: a window over 120 months" 400 '.pointer == "/window_months"'
req PUT /api/v1/watch-list/settings '{"accident":{"serious":60000000}}' "$MGR"
is "refused: serious above major" 400 '.pointer == "/accident/major"'
req PUT /api/v1/watch-list/settings '{"accident":{"general":-1}}' "$MGR"
is "refused: a negative threshold" 400 '.pointer == "/accident/general"'
req PUT /api/v1/watch-list/settings '{"colour":1}' "$MGR"
is "refused: an unknown member" 400 '.pointer == "/colour"'
req PUT /api/v1/watch-list/settings '{"overruns":2,"accident":{"serious":10000000}}' "$MGR"
is "a manager changes them; the rest are kept" 200 \
    '.overruns == 2 and .window_months == 12 and .accident == {"major":50000000,"serious":10000000,"general":1}'
at 2026-03-07T09:00:00Z
T6=$(ticket "$ACME")
at 2026-03-07T10:00:01Z
overrun "$T6"
req GET "/api/v1/orgs/$ACME" "" "$MGR"
is "two overruns since the decision now flag it" 200 ".watch_list.overruns == 2 and .watch_list.ticket_id == $T6"

# --- accident levels by recorded loss ---
req PATCH "/api/v1/overruns/$OV3" '{"loss":60000000}' "$AGENT"
is "agents do not record a loss" 403 '.pointer == "/loss"'
req PATCH "/api/v1/overruns/$OV3" '{"loss":-5}' "$MGR"
is "refused: a negative loss" 400 '.pointer == "/loss"'
req PATCH "/api/v1/overruns/$OV3" '{"loss":1.5}' "$MGR"
is "refused: a fraction of a minor unit" 400 '.pointer == "/loss"'
req PATCH "/api/v1/overruns/$OV3" '{"loss":50000000}' "$MGR"
is "500,000.00 is a major accident (重大事故)" 200 '.loss == 50000000 and .accident == "major"'
req PATCH "/api/v1/overruns/$OV3" '{"loss":49999999}' "$MGR"
is "one fen less is serious under the new threshold" 200 '.accident == "serious"'
req PATCH "/api/v1/overruns/$OV3" '{"loss":100}' "$MGR"
is "a small loss is general" 200 '.accident == "general"'
req PATCH "/api/v1/overruns/$OV3" '{"loss":null}' "$MGR"
is "null removes it" 200 '.loss == null and .accident == null'
req PATCH "/api/v1/overruns/$OV3" '{"loss":70000000,"reason":"technology","note":"a flood in the data centre"}' "$MGR"
is "a loss with a reason at once" 200 '.accident == "major" and .reason == "technology"'
req GET "/api/v1/overruns?org_id=$ACME" "" "$CUST"
is "the customer sees the level on their overruns" 200 "[.overruns[] | select(.id == $OV3) | .accident] == [\"major\"]"

req GET "/api/v1/kpis/breaches?from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z" "" "$MGR"
is "the breach list shows the record's level" 200 "[.breaches[] | select(.ticket_id == $T3) | .record.accident] == [\"major\"]"

# --- the audit trail ---
req GET /api/v1/audit "" "$AGENT"
is "agents do not read the audit trail" 403
req GET "/api/v1/audit?kind=watch_list" "" "$MGR"
is "the flags and the decision are audited, newest first" 200 \
    '[.changes[].action] == ["flag","clear","flag"] and .changes[1].before.watched == true
     and .changes[1].after.reason == "root causes fixed; reviewed with the customer" and .changes[2].actor == null
     and (.changes[0].hash | length) == 64'
req GET "/api/v1/audit?kind=settings" "" "$MGR"
is "a settings change has its before and after" 200 \
    '.changes | length == 1 and .[0].before.overruns == 3 and .[0].after.overruns == 2'
req GET "/api/v1/audit?kind=overrun" "" "$MGR"
is "each loss change is audited with its level" 200 \
    ".changes | length == 5 and .[0].object == $OV3 and .[0].after.accident == \"major\" and .[0].before.loss == null"
req GET /api/v1/me "" "$MGR"
MGR_ID=$(jq -r .id "$TMP/body")
req GET "/api/v1/audit?actor=$MGR_ID&limit=2" "" "$MGR"
is "by actor, a page at a time" 200 '(.changes | length) == 2 and .next != null'
NEXT=$(jq -r .next "$TMP/body")
req GET "/api/v1/audit?actor=$MGR_ID&before=$NEXT" "" "$MGR"
is "the next page goes on" 200 "(.changes | length) > 0 and all(.changes[]; .id < $NEXT)"
req GET "/api/v1/audit?from=2026-03-07T00:00:00Z&to=2026-03-08T00:00:00Z&kind=watch_list" "" "$MGR"
is "by time" 200 '[.changes[].action] == ["flag"]'
req GET "/api/v1/audit?from=yesterday" "" "$MGR"
is "refused: a bad instant" 400 '.detail | test("from")'
req GET "/api/v1/audit?from=2026-03-08T00:00:00Z&to=2026-03-07T00:00:00Z" "" "$MGR"
is "refused: to before from" 400 '.pointer == "/to"'
# --- every administrative change is audited, with its before and after ---
audited() { # NAME KIND JQ-ON-THE-NEWEST-CHANGE
    req GET "/api/v1/audit?kind=$2&limit=1" "" "$MGR"
    is "audited: $1" 200 ".changes[0] | $3"
}
req GET "/api/v1/audit?kind=organisation" "" "$MGR"
is "audited: the organisations created, by the admin" 200 \
    '[.changes[] | select(.action == "create") | .after.name] == ["Globex","Acme"] and all(.changes[]; .actor == 1 and .before == null)'
req PATCH "/api/v1/orgs/$GLOBEX" '{"region":"north"}' "$MGR"
audited "an organisation edited" organisation ".action == \"update\" and .object == $GLOBEX and .before.region == null and .after.region == \"north\" and .actor == $MGR_ID"
audited "people created, without their password" user '.action == "create" and .after.email == "cy@acme.example" and (.after | has("password_hash") | not)'
req GET /api/v1/me "" "$CUST"
CUST_ID=$(jq -r .id "$TMP/body")
req PATCH "/api/v1/users/$CUST_ID" '{"name":"Cy Young"}' "$ADMIN"
audited "a person edited" user ".object == $CUST_ID and .before.name == \"cy\" and .after.name == \"Cy Young\""
audited "a commitment added" commitment '.action == "create" and .after.name == "Watch" and .after.doc.levels == ["L1"]'
req POST /api/v1/calendars '{"name":"office","tz":"Asia/Shanghai","week":{"mon":[["09:00","18:00"]]}}' "$MGR"
is "a calendar" 201
audited "a calendar added" calendar '.action == "create" and .after.name == "office" and .before == null'
req POST /api/v1/calendars '{"name":"office","tz":"Asia/Shanghai","week":{"mon":[["09:00","17:00"]]}}' "$MGR"
audited "a calendar changed" calendar '.action == "update" and .before.spec.week.mon == [["09:00","18:00"]] and .after.spec.week.mon == [["09:00","17:00"]]'
req POST /api/v1/teams '{"name":"Night desk"}' "$MGR"
TEAM=$(jq -r .id "$TMP/body")
audited "a team added" team ".object == $TEAM"
req POST /api/v1/oncall "{\"team_id\":$TEAM,\"schedule\":{\"name\":\"Nights\",\"tz\":\"UTC\",\"layers\":[{\"name\":\"n\",\"rotation\":\"daily\",\"start\":\"2026-03-01\",\"handoff\":\"09:00\",\"people\":[$AM_ID]}]}}" "$MGR"
is "a rota" 201
audited "a rota set" rota '.action == "create" and .after.name == "Nights"'
req POST /api/v1/oncall "{\"team_id\":$TEAM,\"schedule\":{\"name\":\"Nights 2\",\"tz\":\"UTC\",\"layers\":[{\"name\":\"n\",\"rotation\":\"daily\",\"start\":\"2026-03-01\",\"handoff\":\"10:00\",\"people\":[$AM_ID]}]}}" "$MGR"
audited "a rota replaced" rota '.action == "update" and .before.name == "Nights" and .after.name == "Nights 2"'
req GET /api/v1/endpoints "" "$MGR"
EP=$(jq -r '.endpoints[0].id' "$TMP/body")
audited "an endpoint added" endpoint ".action == \"create\" and .object == $EP"
req PATCH "/api/v1/endpoints/$EP" '{"name":"account desk 2"}' "$MGR"
audited "an endpoint changed" endpoint '.action == "update" and .before.name == "account desk" and .after.name == "account desk 2"'
req DELETE "/api/v1/endpoints/$EP" "" "$MGR"
audited "an endpoint deleted" endpoint '.action == "delete" and .before.deleted_at == null and .after.deleted_at != null'
req POST /api/v1/contracts '{"org_id":'"$ACME"',"value":1000000,"currency":"CNY","period_start":"2026-01-01T00:00:00Z","period_end":"2027-01-01T00:00:00Z","billing":"monthly","deposit_required":{"percent":10},"deposit_held":150000}' "$MGR"
K=$(jq -r .id "$TMP/body")
audited "a contract added" contract ".action == \"create\" and .object == $K and .after.value == 1000000"
req PATCH "/api/v1/contracts/$K" '{"deposit_held":200000}' "$MGR"
audited "a contract changed" contract '.action == "update" and .before.deposit_held == 150000 and .after.deposit_held == 200000'
req POST "/api/v1/contracts/$K/adjustments" '{"amount":500,"reason":"goodwill"}' "$MGR"
audited "a credit adjusted" credit ".action == \"adjust\" and .object == $K and .after.amount == 500 and .after.reason == \"goodwill\" and .after.entry_id != null"
req POST "/api/v1/contracts/$K/adjustments" '{"amount":200000,"reason":"outage"}' "$MGR"
RQ=$(jq -r .request_id "$TMP/body")
req POST "/api/v1/adjustments/$RQ/decision" '{"approve":false}' "$ADMIN"
audited "a decision on an adjustment" credit ".action == \"decide\" and .after.request_id == $RQ and .after.approved == false and .actor == 1"
req POST "/api/v1/contracts/$K/claims" '{"amount":500}' "$CUST"
audited "the customer's claim" credit ".action == \"claim\" and .actor == $CUST_ID"
req POST "/api/v1/contracts/$K/settlements" '{"amount":500,"against":"invoice","invoice":"INV-1"}' "$MGR"
audited "a settlement" credit '.action == "settle" and .after.invoice == "INV-1"'

N=$(sql "SELECT count(*) FROM log_leaves WHERE kind = 'audit'")
M=$(sql "SELECT count(*) FROM audit")
check "every audit entry is a leaf of the Merkle log" "$([ "$N" = "$M" ] && [ "$N" -gt 0 ]; echo $?)" "($N leaves, $M entries)"
sql "UPDATE audit SET action = 'x'" 2>"$TMP/err"
grep -q "append-only" "$TMP/err"
check "the audit trail is append-only" $? "($(cat "$TMP/err"))"

# --- keepword verify: the audit trail's chain and the credit ledger's ---
"$KW" verify --db "$DB" >"$TMP/out" 2>&1
check "keepword verify: intact" $? "$(cat "$TMP/out")"
grep -Eq 'the credit ledger and [0-9]+ audit entries: every chain is intact$' "$TMP/out"
check "it names the audit trail and the ledger" $? "$(cat "$TMP/out")"
if [ -n "${KW_TEST_DB:-}" ]; then # the database itself: the suite ends here
    serve_stop
    TAMPERED=$DB
    sql "ALTER TABLE audit DISABLE TRIGGER audit_no_update; UPDATE audit SET body = replace(body, 'goodwill', 'badwill') WHERE action = 'adjust'"
else
    TAMPERED=$TMP/tampered.db
    sqlite3 "$DB" ".backup '$TAMPERED'"
    sqlite3 "$TAMPERED" "DROP TRIGGER audit_no_update; UPDATE audit SET body = replace(body, 'goodwill', 'badwill') WHERE action = 'adjust'"
fi
RQ_ENTRY=$(DB=$TAMPERED sql "SELECT id FROM audit WHERE action = 'adjust' ORDER BY id LIMIT 1")
"$KW" verify --db "$TAMPERED" >"$TMP/out" 2>&1
RC=$?
check "a rewritten audit entry fails verification" "$([ "$RC" = 1 ]; echo $?)" "(exit $RC)"
grep -q "audit trail: entry $RQ_ENTRY does not match its hash chain" "$TMP/out"
check "naming the entry" $? "$(cat "$TMP/out")"

finish
