#!/usr/bin/env bash
# The live engine on a fake clock, through the real server and a local
# webhook receiver: warnings and the breach fire at their instants across a
# holiday and a weekend, a pause holds them and a resume reschedules them;
# every notification arrives once, signed; a failing receiver gets retries
# with backoff, then a dead letter that can be retried; kill -9 with timers
# due and notifications pending, restart, and each arrives once.
# usage: tests/http/engine.sh PATH/TO/keepword PATH/TO/whsink PATH/TO/smtpsink
set -u
KW=${1:?usage: engine.sh PATH/TO/keepword PATH/TO/whsink PATH/TO/smtpsink}
SINK=${2:?usage: engine.sh PATH/TO/keepword PATH/TO/whsink PATH/TO/smtpsink}
SMTP=${3:?usage: engine.sh PATH/TO/keepword PATH/TO/whsink PATH/TO/smtpsink}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }
got() { [ -f "$TMP/hooks" ] && wc -l <"$TMP/hooks" || echo 0; }
# wait_hooks N: until the receiver has N requests (5 s at most)
wait_hooks() {
    for _ in $(seq 1 50); do
        [ "$(got)" -ge "$1" ] && return
        sleep 0.1
    done
}
# hook N JQ: the Nth request (1-based) satisfies the filter
hook() { sed -n "${1}p" "$TMP/hooks" | jq -e "$2" >/dev/null 2>&1; }

at 2026-04-30T17:00:00+08:00
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now" --allow-destination 127.0.0.1
"$SINK" --out "$TMP/hooks" --secret s3cret --fail-if "$TMP/fail" >"$TMP/sink.port" &
EXTRA_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q listening "$TMP/sink.port" && break; sleep 0.1; done
HOOK=http://127.0.0.1:$(awk '{print $2}' "$TMP/sink.port")/hooks
# the clock jumps days: a personal API token does not expire like a session
req POST /api/v1/tokens '{"label":"engine test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme","tier":"vip"}' "$ADMIN"
ORG=$(jq -r .id "$TMP/body")
OFFICE='{"tz":"Asia/Shanghai","week":{"mon":[["09:00","18:00"]],"tue":[["09:00","18:00"]],"wed":[["09:00","18:00"]],"thu":[["09:00","18:00"]],"fri":[["09:00","18:00"]],"sat":[],"sun":[]},"holidays":["2026-05-01"]}'
req POST /api/v1/commitments '{"name":"Engine","version":"1","effective_from":"2026-01-01T00:00:00+08:00",
 "calendars":{"office":'"$OFFICE"'},"levels":["L2"],
 "metrics":[{"id":"response","label":{"zh":"首次响应","en":"first response"},"start":"created","stop":["first_response"],"warn_at":[50,80]},
            {"id":"resolution","start":"created","stop":["resolved"],"pause_when":["waiting_customer"],"warn_at":[75]}],
 "targets":[{"calendar":"office","response":"2h","resolution":"8h"}]}' "$ADMIN"
is "a commitment" 201

req POST /api/v1/endpoints "{\"name\":\"ops hook\",\"url\":\"$HOOK\",\"secret\":\"s3cret\",\"events\":[\"sla_warning\",\"sla_breach\"]}" "$ADMIN"
is "a webhook endpoint" 201 '.kind == "webhook" and .signed == true and .events == ["sla_warning","sla_breach"]'
req POST /api/v1/endpoints '{"name":"x","url":"ftp://example.org/"}' "$ADMIN"
is "only http(s) URLs" 400 '.pointer == "/url"'
req POST /api/v1/endpoints "{\"name\":\"x\",\"url\":\"$HOOK\",\"events\":[\"ticket_eaten\"]}" "$ADMIN"
is "unknown event kinds" 400 '.pointer == "/events/0"'
req GET /api/v1/endpoints "" "$ADMIN"
is "endpoints are listed without their secret" 200 '(.endpoints | length) == 1 and (.endpoints[0] | has("secret") | not)'

# --- a ticket at Thursday 17:00, office hours 09-18, Friday 1 May off ---
req POST /api/v1/tickets "{\"title\":\"Printer on fire\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
T=$(jq -r .id "$TMP/body")
at 2026-04-30T17:59:59+08:00
sleep 0.6
check "17:59:59: nothing is due yet" "$([ "$(got)" = 0 ]; echo $?)" "($(got) requests)"
at 2026-04-30T18:00:00+08:00
sleep 0.6
check "18:00:00: the warning's second is not over: a stop now would still count" "$([ "$(got)" = 0 ]; echo $?)" "($(got) requests)"
at 2026-04-30T18:00:01+08:00
wait_hooks 1
check "18:00: half the response time is used: one warning" "$([ "$(got)" = 1 ]; echo $?)" "($(got))"
hook 1 '.event == "sla_warning" and .signature_ok and .status == 200 and (.body | fromjson |
    .event.metric == "response" and .event.percent == 50 and .event.colour == "blue"
    and .event.reached_at == "2026-04-30T10:00:00Z" and .event.due_at == "2026-04-30T10:00:00Z" and .ticket.id == '"$T"')'
check "the warning is signed and says what, when and how much" $? "($(sed -n 1p "$TMP/hooks"))"
at 2026-05-01T12:00:00+08:00
sleep 0.6
check "the holiday counts nothing" "$([ "$(got)" = 1 ]; echo $?)" "($(got))"
at 2026-05-03T12:00:00+08:00
sleep 0.6
check "nor the weekend" "$([ "$(got)" = 1 ]; echo $?)" "($(got))"
at 2026-05-04T09:36:01+08:00
wait_hooks 2
hook 2 '.event == "sla_warning" and (.body | fromjson | .event.percent == 80 and .event.colour == "yellow")'
check "Monday 09:36: 80 % of the response time" $? "($(sed -n 2p "$TMP/hooks"))"
at 2026-05-04T10:00:01+08:00
wait_hooks 3
hook 3 '.event == "sla_breach" and (.body | fromjson | .event.metric == "response" and .event.deadline == "2026-05-04T02:00:00Z")'
check "Monday 10:00: the response target is breached" $? "($(sed -n 3p "$TMP/hooks"))"

# --- the breach opened an overrun record (超时处理) ---
req GET "/api/v1/overruns?ticket_id=$T" "" "$ADMIN"
is "the breach is an open overrun" 200 \
    '(.overruns | length) == 1 and .overruns[0].state == "open" and .overruns[0].metric == "response"
     and .overruns[0].deadline == "2026-05-04T02:00:00Z" and .overruns[0].stopped_at == null'
OV=$(jq -r '.overruns[0].id' "$TMP/body")
at 2026-05-04T10:20:00+08:00
req POST "/api/v1/tickets/$T/events" '{"type":"milestone","milestone":"first_response"}' "$ADMIN"
req GET "/api/v1/overruns/$OV" "" "$ADMIN"
is "answered at 10:20: 20 minutes late, and that is final" 200 \
    '.stopped_at == "2026-05-04T02:20:00Z" and .late_by_seconds == 1200'
req PATCH "/api/v1/overruns/$OV" '{"reason":"weather","note":"x"}' "$ADMIN"
is "an unknown reason" 400 '.pointer == "/reason"'
req PATCH "/api/v1/overruns/$OV" '{"reason":"third_party","note":"The carrier line to the site was cut."}' "$ADMIN"
is "the reason recorded" 200 '.state == "explained" and .reason == "third_party"'
req GET "/api/v1/tickets/$T/events" "" "$ADMIN"
is "the customer is told on the ticket, in Chinese and English" 200 \
    '[.events[] | select(.type == "overrun_explained")][0].body.notice
     | (.zh | contains("第三方原因")) and (.en | contains("a third party")) and (.en | contains("carrier"))'
req GET "/api/v1/tickets/$T/events" "" "$ADMIN"
is "the notice names the metric by its label and the deadline in the calendar's local time" 200 \
    '[.events[] | select(.type == "overrun_explained")][0].body.notice
     | (.zh | contains("工单 #'"$T"' 的首次响应未能在承诺时限（2026-05-04 10:00，Asia/Shanghai，UTC+08:00）内完成"))
       and (.en | contains("missed its first response commitment (due 2026-05-04 10:00, Asia/Shanghai, UTC+08:00)"))
       and ([.zh, .en] | any(contains("T02:00:00Z")) | not)'
req PATCH "/api/v1/overruns/$OV" '{"followup":{"rca":"single carrier","action":"second line","owner_id":1,"due":"2026-06-01T00:00:00Z"}}' "$ADMIN"
is "a follow-up with an owner and a due date" 200 \
    '.followup.rca == "single carrier" and .followup.owner_id == 1 and .followup.due == "2026-06-01T00:00:00Z" and .state == "explained"'
req PATCH "/api/v1/overruns/$OV" '{"followup":{"due":"soon"}}' "$ADMIN"
is "a bad due date" 400 '.pointer == "/followup/due"'
# the body as kwh_decode reads it: members located inside followup too
xs() { head -c "$1" /dev/zero | tr '\0' x; }
ovp() { req PATCH "/api/v1/overruns/$OV" "$1" "$ADMIN"; }
ovp '{"colour":"red"}'
is "an unknown member" 400 '.pointer == "/colour" and .detail == "colour: not a field of this request"'
ovp '{"followup":{"colour":"red"}}'
is "an unknown member of followup" 400 '.pointer == "/followup/colour" and .detail == "followup.colour: not a field of this request"'
ovp '{"followup":["rca"]}'
is "followup is an object" 400 '.pointer == "/followup" and .detail == "followup: expected an object"'
ovp '{"followup":{"rca":5}}'
is "rca is a string" 400 '.pointer == "/followup/rca" and .detail == "followup.rca: expected a string of 1 to 4000 bytes"'
ovp "{\"followup\":{\"action\":\"$(xs 4001)\"}}"
is "an action over 4000 bytes" 400 '.pointer == "/followup/action"'
ovp '{"followup":{"owner_id":0}}'
is "owner_id is an id" 400 '.pointer == "/followup/owner_id" and .detail == "followup.owner_id: expected an id"'
ovp '{"followup":{"due":20260601}}'
is "due is a string" 400 '.pointer == "/followup/due"'
ovp '{"followup":{"done":"yes"}}'
is "done is true or false" 400 '.pointer == "/followup/done" and .detail == "followup.done: expected true or false"'
ovp "{\"note\":\"$(xs 4001)\"}"
is "a note over 4000 bytes" 400 '.pointer == "/note" and (.detail | contains("1 to 4000"))'
ovp '{"reason":["third_party"]}'
is "reason is a string" 400 '.pointer == "/reason" and .detail == "reason: expected a string of 1 to 32 bytes"'
req PATCH "/api/v1/overruns/$OV" '{"followup":{"done":true}}' "$ADMIN"
is "tracked to done" 200 '.state == "done" and .followup.done_at != null and .followup.action == "second line"'
req GET "/api/v1/overruns?state=open" "" "$ADMIN"
is "filters by state" 200 '[.overruns[].id] | index('"$OV"') == null'

# --- a pause holds the resolution clock; resuming reschedules it ---
at 2026-05-04T10:30:00+08:00
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"waiting_customer"}' "$ADMIN"
is "10:30 waiting for the customer" 201
at 2026-05-04T16:00:00+08:00
sleep 0.6
check "paused: no resolution warning at 16:00" "$([ "$(got)" = 3 ]; echo $?)" "($(got))"
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"handling"}' "$ADMIN"
is "16:00 handling again" 201
at 2026-05-05T10:29:59+08:00
sleep 0.6
check "75 % of 8 h falls at Tuesday 10:30, not before" "$([ "$(got)" = 3 ]; echo $?)" "($(got))"
at 2026-05-05T10:30:01+08:00
wait_hooks 4
hook 4 '.event == "sla_warning" and (.body | fromjson | .event.metric == "resolution" and .event.percent == 75)'
check "Tuesday 10:30: the resolution warning, rescheduled by the pause" $? "($(sed -n 4p "$TMP/hooks"))"
req GET "/api/v1/tickets/$T/events" "" "$ADMIN"
is "each firing is an event on the ticket" 200 \
    '[.events[] | select(.type | startswith("sla_")) | .type] == ["sla_warning","sla_warning","sla_breach","sla_warning"]'
dups=$(jq -r .delivery "$TMP/hooks" | sort | uniq -d | wc -l)
check "every notification arrived once" "$([ "$dups" = 0 ]; echo $?)" "($dups repeated)"

# --- a receiver that fails: retries with backoff, then a dead letter ---
touch "$TMP/fail"
req GET /api/v1/endpoints "" "$ADMIN"
EP=$(jq -r '.endpoints[0].id' "$TMP/body")
req POST "/api/v1/endpoints/$EP/test" "" "$ADMIN"
is "a test that fails says so, with the attempt's error" 200 \
    '.delivered == false and .state == "pending" and .error == "the endpoint answered 500"'
KEY=$(jq -r .key "$TMP/body")
wait_hooks 5
# an attempt is recorded after its batch was sent: its hook may come first
WAITS='.notifications[0].attempts == 1 and .notifications[0].next_at == "2026-05-05T02:30:11Z"
     and .notifications[0].last_error == "the endpoint answered 500"'
eventually "/api/v1/outbox?state=pending" "$ADMIN" "$WAITS"
is "after a failure it waits 10 s" 200 "$WAITS"
n=5
for step in 10 30 70 150 310; do # 10, 20, 40, 80, 160 s apart
    at "$(date -u -d "2026-05-05T02:30:01Z + $step seconds" +%Y-%m-%dT%H:%M:%SZ)"
    n=$((n + 1))
    wait_hooks "$n"
done
check "six attempts with the same delivery key" \
    "$([ "$(grep -c "\"delivery\":\"$KEY\"" "$TMP/hooks")" = 6 ]; echo $?)" "($(got) requests)"
eventually "/api/v1/outbox?state=dead" "$ADMIN" '.notifications | length > 0'
is "then it is dead, and says why" 200 '.notifications[0].attempts == 6 and .notifications[0].kind == "test"'
DEAD=$(jq -r '.notifications[0].id' "$TMP/body")
rm "$TMP/fail"
req POST "/api/v1/outbox/$DEAD/retry" "" "$ADMIN"
is "a dead letter can be sent again" 202
wait_hooks 12
hook 12 '.status == 200 and .event == "test"'
check "and arrives" $? "($(sed -n 12p "$TMP/hooks"))"
req POST "/api/v1/outbox/$DEAD/retry" "" "$ADMIN"
is "only dead letters are retried" 404

# --- kill -9 with timers due and notifications pending ---
for i in 1 2 3; do
    req POST /api/v1/tickets "{\"title\":\"t$i\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
done
touch "$TMP/fail"
at 2026-05-05T11:40:00+08:00 # half of the three responses (due 11:35:10): they fail
wait_hooks 15
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
before=$(got)
rm "$TMP/fail"
# while down: their 80 % (12:11:10) and breach (12:35:10) fall due, and the
# first ticket's resolution breach (12:30)
at 2026-05-05T12:40:00+08:00
serve_start --fake-clock "$TMP/now" --allow-destination 127.0.0.1
sla_ok() { jq -r 'select(.status == 200 and (.event | startswith("sla_"))) | .delivery' "$TMP/hooks" | sort; }
for _ in $(seq 1 50); do
    [ "$(sla_ok | sort -u | wc -l)" -ge 14 ] && break
    sleep 0.1
done
check "after the restart: the failed warnings, 80 % and breach of three tickets and one more breach arrived" \
    "$([ "$(sla_ok | sort -u | wc -l)" = 14 ]; echo $?)" "($(sla_ok | sort -u | wc -l) keys, $before requests before the kill)"
check "and none twice" "$([ -z "$(sla_ok | uniq -d)" ]; echo $?)" "($(sla_ok | uniq -d))"
req GET "/api/v1/tickets/$((T + 1))/events" "" "$ADMIN"
is "in order of their due time" 200 \
    '[.events[] | select(.type | startswith("sla_")) | [.type, .body.percent // 100]] == [["sla_warning",50],["sla_warning",80],["sla_breach",100]]'

# --- chat robots: DingTalk, Feishu / Lark, WeCom ---
SINKB=${HOOK%/hooks}
req POST /api/v1/endpoints "{\"name\":\"ding\",\"kind\":\"dingtalk\",\"url\":\"$SINKB/robot/send?access_token=T0K\",\"secret\":\"SECding\",\"events\":[\"test\"]}" "$ADMIN"
is "a DingTalk robot" 201 '.kind == "dingtalk"'
DING=$(jq -r .id "$TMP/body")
req POST /api/v1/endpoints "{\"name\":\"lark\",\"kind\":\"feishu\",\"url\":\"$SINKB/open-apis/bot/v2/hook/abc\",\"secret\":\"SEClark\",\"events\":[\"test\"]}" "$ADMIN"
LARK=$(jq -r .id "$TMP/body")
req POST /api/v1/endpoints "{\"name\":\"wecom\",\"kind\":\"wecom\",\"url\":\"$SINKB/cgi-bin/webhook/send?key=K3Y\",\"events\":[\"test\"]}" "$ADMIN"
WECOM=$(jq -r .id "$TMP/body")
req POST /api/v1/endpoints "{\"name\":\"mail\",\"kind\":\"pigeon\",\"url\":\"$SINKB/x\"}" "$ADMIN"
is "an unknown channel" 400 '.pointer == "/kind"'
for ep in "$DING" "$LARK" "$WECOM"; do
    req POST "/api/v1/endpoints/$ep/test" "" "$ADMIN"
done
for _ in $(seq 1 50); do
    [ "$(grep -c '"event":"test","delivery":"test-' "$TMP/hooks")" -ge 4 ] && break
    sleep 0.1
done
ding=$(grep '"path":"/robot/send' "$TMP/hooks" | tail -1)
[ -n "$ding" ] || ding=null
check "each robot got exactly one message" \
    "$([ "$(grep -c '"path":"/robot/send' "$TMP/hooks")" = 1 ] && [ "$(grep -c '"path":"/open-apis' "$TMP/hooks")" = 1 ] && [ "$(grep -c '"path":"/cgi-bin' "$TMP/hooks")" = 1 ]; echo $?)"
echo "$ding" | jq -e '(.path | test("^/robot/send\\?access_token=T0K&timestamp=[0-9]{13}&sign=[A-Za-z0-9%]+$"))
    and (.body | fromjson | .msgtype == "text" and (.text.content | contains("test notification")))' >/dev/null
check "DingTalk: a text message, signed with timestamp and sign on the URL" $? "($ding)"
ts=$(echo "$ding" | jq -r '.path | capture("timestamp=(?<t>[0-9]+)").t')
sign=$(echo "$ding" | jq -r '.path | capture("sign=(?<s>[^&]+)").s' | sed 's/%2B/+/g; s/%2F/\//g; s/%3D/=/g')
want=$(printf '%s\n%s' "$ts" SECding | openssl dgst -sha256 -hmac SECding -binary | base64)
check "DingTalk: the signature is HMAC-SHA256 of timestamp\\nsecret" "$([ "$sign" = "$want" ]; echo $?)" "($sign vs $want)"
lark=$(grep '"path":"/open-apis/bot/v2/hook/abc"' "$TMP/hooks" | tail -1 | jq -r .body)
[ -n "$lark" ] || lark=null
echo "$lark" | jq -e '.msg_type == "text" and (.content.text | contains("测试")) and (.timestamp | test("^[0-9]{10}$"))' >/dev/null
check "Feishu: msg_type text with timestamp and sign in the body" $? "($lark)"
lts=$(echo "$lark" | jq -r .timestamp)
want=$(printf '' | openssl dgst -sha256 -hmac "$(printf '%s\nSEClark' "$lts")" -binary | base64)
check "Feishu: sign is HMAC-SHA256 keyed with timestamp\\nsecret over nothing" \
    "$([ "$(echo "$lark" | jq -r .sign)" = "$want" ]; echo $?)" "($(echo "$lark" | jq -r .sign) vs $want)"
wecom=$(grep '"path":"/cgi-bin/webhook/send?key=K3Y"' "$TMP/hooks" | tail -1 | jq -r .body)
[ -n "$wecom" ] || wecom=null
echo "$wecom" | jq -e '.msgtype == "text" and (.text.content | length) > 0' >/dev/null
check "WeCom: a text message to the robot key" $? "($wecom)"
ROBOTS='[.notifications[] | select(.kind == "test")] | length >= 4'
eventually "/api/v1/outbox?state=delivered" "$ADMIN" "$ROBOTS"
is "the robots' answers count as delivered" 200 "$ROBOTS"

# --- on-call rotas (值班) ---
req POST /api/v1/teams '{"name":"Night desk"}' "$ADMIN"
TEAM=$(jq -r .id "$TMP/body")
ids=()
for who in ann bob cai; do
    req POST /api/v1/users "{\"email\":\"$who@p.example\",\"name\":\"$who\",\"role\":\"agent\",\"team_id\":$TEAM}" "$ADMIN"
    ids+=("$(jq -r .id "$TMP/body")")
done
ROTA='{"name":"Night desk L1","tz":"Asia/Shanghai","layers":[
  {"name":"weekly","rotation":"weekly","start":"2026-05-04","handoff":"09:00","people":['"${ids[0]}"','"${ids[1]}"']},
  {"name":"nights","rotation":"daily","start":"2026-05-04","handoff":"18:00","people":['"${ids[2]}"'],
   "restrictions":[{"days":["mon","tue","wed","thu","fri"],"from":"18:00","to":"09:00"}]}],
 "overrides":[{"user":'"${ids[1]}"',"from":"2026-05-06T18:00:00+08:00","to":"2026-05-07T09:00:00+08:00"}]}'
req POST /api/v1/oncall "{\"team_id\":$TEAM,\"schedule\":$ROTA}" "$ADMIN"
is "a rota for the team's first line" 201 ".team_id == $TEAM and .level == 1"
RID=$(jq -r .id "$TMP/body")
req POST /api/v1/oncall "{\"team_id\":$TEAM,\"schedule\":{\"name\":\"x\",\"tz\":\"Asia/Shanghai\",\"layers\":[{\"rotation\":\"hourly\"}]}}" "$ADMIN"
is "a bad schedule names the field" 400 '.pointer == "/schedule/layers/0/rotation"'
req POST /api/v1/oncall "{\"team_id\":$TEAM,\"schedule\":{\"name\":\"x\",\"tz\":\"Mars/Olympus\",\"layers\":[{\"rotation\":\"daily\",\"start\":\"2026-01-01\",\"handoff\":\"09:00\",\"people\":[1]}]}}" "$ADMIN"
is "an unknown zone" 400 '.pointer == "/schedule/tz"'
req GET "/api/v1/oncall/who?team_id=$TEAM&at=2026-05-05T10:00:00%2B08:00" "" "$ADMIN"
is "Tuesday 10:00: the weekly layer's first person" 200 ".user_id == ${ids[0]} and .source == \"weekly\" and .user.name == \"ann\""
req GET "/api/v1/oncall/who?team_id=$TEAM&at=2026-05-05T20:00:00%2B08:00" "" "$ADMIN"
is "Tuesday 20:00: the night layer" 200 ".user_id == ${ids[2]} and .source == \"nights\""
req GET "/api/v1/oncall/who?team_id=$TEAM&at=2026-05-06T20:00:00%2B08:00" "" "$ADMIN"
is "Wednesday night: the override" 200 ".user_id == ${ids[1]} and .source == \"override\""
req GET "/api/v1/oncall/who?team_id=$TEAM&at=2026-05-11T10:00:00%2B08:00" "" "$ADMIN"
is "the next week: the second person" 200 ".user_id == ${ids[1]}"
req GET "/api/v1/oncall/who?team_id=$TEAM&level=2" "" "$ADMIN"
is "no second-line rota" 404
req GET "/api/v1/oncall/$RID/shifts?from=2026-05-05T00:00:00%2B08:00&days=14" "" "$ADMIN"
is "the 14 days ahead as shifts" 200 \
    '.shifts[0].source == "nights" and .shifts[1].source == "weekly" and .shifts[1].from == "2026-05-05T01:00:00Z"
     and (.shifts | length) > 20 and .shifts[-1].to == "2026-05-18T16:00:00Z"'
out=$("$KW" oncall who "Night desk" --db "$TMP/kw.db" --at 2026-05-06T20:00:00+08:00)
check "keepword oncall who TEAM --at" "$([ "$out" = "${ids[1]} bob <bob@p.example> (override)" ]; echo $?)" "($out)"
"$KW" oncall who "No such desk" --db "$TMP/kw.db" 2>/dev/null
check "an unknown team is exit 1" "$([ $? = 1 ]; echo $?)"
n=$("$KW" oncall shifts "$TEAM" --db "$TMP/kw.db" --from 2026-05-05T00:00:00+08:00 --days 2 | wc -l)
check "keepword oncall shifts" "$([ "$n" = 5 ]; echo $?)" "($n lines)"

# --- e-mail over SMTP ---
"$SMTP" --out "$TMP/mail" >"$TMP/smtp.port" &
EXTRA_PIDS+=("$!")
# the complete mails so far, one JSON a line: the sink may be writing the
# next one while it is read (a reader can see a write half done)
mails() { jq -cR 'fromjson? // empty' "$TMP/mail"; }
# mails_eventually FILTER: within 5 s, FILTER (a select of some mails, then a
# test of each) gives at least one answer and every answer is true. All the
# mails go to one jq (-s): jq 1.6's -e answers for the last input alone, so a
# later mail to someone else failed the check (one run in five, by the order
# in which the engine's deliveries reached the sink).
mails_eventually() {
    for _ in $(seq 1 50); do
        jq -se "[.[] | $1] | length > 0 and all" < <(mails) >/dev/null && return 0
        sleep 0.1
    done
    return 1
}
for _ in $(seq 1 50); do grep -q listening "$TMP/smtp.port" && break; sleep 0.1; done
SMTPURL="smtp://127.0.0.1:$(awk '{print $2}' "$TMP/smtp.port")/?from=keepword@desk.example&to=ops@desk.example"
req POST /api/v1/endpoints "{\"name\":\"mail\",\"kind\":\"email\",\"url\":\"$SMTPURL\",\"events\":[\"escalation\",\"test\"]}" "$ADMIN"
is "an e-mail endpoint" 201 '.kind == "email"'
MAIL=$(jq -r .id "$TMP/body")
req POST /api/v1/endpoints '{"name":"m","kind":"email","url":"smtp://127.0.0.1:25/"}' "$ADMIN"
is "an e-mail endpoint needs a sender" 400 '.pointer == "/url"'
req POST "/api/v1/endpoints/$MAIL/test" "" "$ADMIN"
for _ in $(seq 1 50); do [ -n "$(mails)" ] && break; sleep 0.1; done
mails_eventually 'select(.to == "<ops@desk.example>") | .from == "<keepword@desk.example>"
    and (.data | contains("Subject: =?UTF-8?B?")) and (.data | contains("X-Keepword-Delivery: test-"))
    and (.data | contains("Keepword 测试消息")) and (.data | contains("Keepword test notification"))'
check "a test e-mail arrives over SMTP, UTF-8 with an encoded subject, in Chinese then English" $? "($(head -c 400 "$TMP/mail"))"
req POST /api/v1/endpoints "{\"name\":\"m\",\"kind\":\"email\",\"url\":\"$SMTPURL&lang=fr\"}" "$ADMIN"
is "an e-mail endpoint's language is zh or en" 400 '.pointer == "/url" and (.detail | contains("lang=zh|en"))'
req POST /api/v1/endpoints "{\"name\":\"mail-en\",\"kind\":\"email\",\"url\":\"${SMTPURL/ops@/intl@}&lang=en\",\"events\":[\"test\"]}" "$ADMIN"
MAILEN=$(jq -r .id "$TMP/body")
req POST "/api/v1/endpoints/$MAILEN/test" "" "$ADMIN"
for _ in $(seq 1 50); do mails | grep -q 'intl@' && break; sleep 0.1; done
mails | grep 'intl@' | jq -e '(.data | contains("Keepword test notification")) and (.data | contains("测试") | not)
    and (.data | contains("Keepword service desk"))' >/dev/null
check "an endpoint with lang=en mails in English only" $? "($(grep 'intl@' "$TMP/mail" | head -c 600))"

# --- escalation chains: not acknowledged in 15 minutes ---
req POST /api/v1/commitments '{"name":"Engine","version":"2","effective_from":"2026-05-05T12:00:00+08:00",
 "calendars":{"office":'"$OFFICE"'},"levels":["L1","L2"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"],"warn_at":[50,80]}],
 "targets":[{"calendar":"office","response":"2h"}],
 "escalations":[{"id":"unack","when":{"unacknowledged":"15m"},"steps":[
   {"after":"0m","notify":"oncall:1"},{"after":"10m","reassign":"oncall:1"},{"after":"20m","raise_level":true},
   {"after":"30m","notify":"account_manager"}]}]}' "$ADMIN"
is "a commitment with an escalation chain" 201 '.version == "2"'
req POST /api/v1/commitments '{"name":"Engine","version":"bad","effective_from":"2026-05-05T12:00:00+08:00",
 "calendars":{"office":'"$OFFICE"'},"levels":["L1"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"]}],
 "targets":[{"calendar":"office","response":"2h"}],
 "escalations":[{"id":"x","when":{"metric":"response","percent":100},"steps":[{"after":"5m","reassign":"assignee"}]}]}' "$ADMIN"
is "a chain step names its field" 400 '.pointer == "/escalations/0/steps/0/reassign"'
req POST /api/v1/orgs "{\"name\":\"Globex\",\"tier\":\"vip\",\"account_manager_id\":${ids[1]}}" "$ADMIN"
is "an organisation with its account manager" 201 ".account_manager_id == ${ids[1]}"
GLOBEX=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Initech","account_manager_id":99999}' "$ADMIN"
is "an account manager who does not exist" 404 '.pointer == "/account_manager_id"'
req POST /api/v1/tickets "{\"title\":\"nobody looks\",\"level\":\"L2\",\"org_id\":$GLOBEX}" "$ADMIN"
E1=$(jq -r .id "$TMP/body")
req PATCH "/api/v1/tickets/$E1" "{\"team_id\":$TEAM}" "$ADMIN"
req POST /api/v1/tickets "{\"title\":\"seen at once\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
E2=$(jq -r .id "$TMP/body")
req PATCH "/api/v1/tickets/$E2" "{\"team_id\":$TEAM}" "$ADMIN"
at 2026-05-05T12:50:00+08:00
req POST "/api/v1/tickets/$E2/events" '{"type":"milestone","milestone":"acknowledged"}' "$ADMIN"
at 2026-05-05T12:55:00+08:00
eventually "/api/v1/tickets/$E1/events" "$ADMIN" 'any(.events[]; .type == "escalated")'
is "12:55: not acknowledged in 15 minutes, the first line on call is told" 200 \
    '[.events[] | select(.type == "escalated") | [.body.step, .body.action, .body.user_id]] == [[0, "notify", '"${ids[0]}"']]'
for _ in $(seq 1 50); do mails | grep -q 'ann@p.example' && break; sleep 0.1; done
mails | grep 'ann@p.example' | head -1 | jq -e '.to == "<ops@desk.example>,<ann@p.example>"
    and (.data | contains("【升级】工单 #'"$E1"'「nobody looks」升级链 unack 第 1 步：通知 ann"))
    and (.data | contains("[Escalation] Ticket #'"$E1"' \"nobody looks\": chain unack, step 1: notified ann"))' >/dev/null
check "and gets an e-mail (with the desk's list)" $? "($(grep -c . "$TMP/mail") mails)"
at 2026-05-05T13:05:00+08:00
eventually "/api/v1/tickets/$E1" "$ADMIN" '.assignee_id == '"${ids[0]}"
is "13:05: the ticket is reassigned to them" 200 ".assignee_id == ${ids[0]} and .level == \"L2\""
at 2026-05-05T13:15:00+08:00
eventually "/api/v1/tickets/$E1" "$ADMIN" '.level == "L1"'
is "13:15: its level is raised" 200 '.level == "L1"'
at 2026-05-05T13:25:00+08:00
eventually "/api/v1/tickets/$E1/events" "$ADMIN" '[.events[] | select(.type == "escalated")] | length == 4'
is "13:25: the customer's account manager is told" 200 \
    '[.events[] | select(.type == "escalated")][3].body | .action == "notify" and .user_id == '"${ids[1]}"
req GET "/api/v1/tickets/$E1/events" "" "$ADMIN"
is "each step once, in order" 200 \
    '[.events[] | select(.type == "escalated") | .body.step] == [0, 1, 2, 3]
     and any(.events[]; .type == "level" and .body.reason == "escalation unack")'
req GET "/api/v1/tickets/$E2/events" "" "$ADMIN"
is "an acknowledged ticket is not escalated" 200 '[.events[] | select(.type == "escalated")] == []'

# --- people's subscriptions, with quiet hours that on-call overrides ---
langs=("" en zh)
for who in 1 2; do
    req POST /api/v1/subscriptions "{\"user_id\":${ids[$who]},\"endpoint_id\":$MAIL,\"events\":[\"escalation\"],\"lang\":\"${langs[$who]}\",\"quiet_hours\":{\"tz\":\"Asia/Shanghai\",\"from\":\"22:00\",\"to\":\"08:00\"}}" "$ADMIN"
done
is "a subscription with quiet hours and a language" 201 '.quiet_hours == {"tz":"Asia/Shanghai","from":"22:00","to":"08:00"} and .events == ["escalation"] and .lang == "zh"'
req POST /api/v1/subscriptions "{\"endpoint_id\":$MAIL,\"lang\":\"fr\"}" "$ADMIN"
is "a subscription's language is zh or en" 400 '.pointer == "/lang"'
req POST /api/v1/subscriptions "{\"endpoint_id\":$MAIL,\"quiet_hours\":{\"tz\":\"Asia/Shanghai\",\"from\":\"late\",\"to\":\"08:00\"}}" "$ADMIN"
is "bad quiet hours" 400 '.pointer == "/quiet_hours/from"'
req GET "/api/v1/subscriptions?user_id=${ids[1]}" "" "$ADMIN"
is "a manager lists someone's subscriptions" 200 '(.subscriptions | length) == 1'
at 2026-05-05T22:30:00+08:00
req POST /api/v1/tickets "{\"title\":\"night call\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
E3=$(jq -r .id "$TMP/body")
req PATCH "/api/v1/tickets/$E3" "{\"team_id\":$TEAM}" "$ADMIN"
mails_to() { mails | jq -r .to | grep -cx "<$1>"; }
at 2026-05-05T22:45:00+08:00
for _ in $(seq 1 50); do [ "$(mails_to cai@p.example)" -ge 1 ] && break; sleep 0.1; done
sleep 0.5
check "22:45: the one on call hears at once, quiet hours or not" "$([ "$(mails_to cai@p.example)" = 1 ]; echo $?)" "($(mails_to cai@p.example))"
check "someone in quiet hours and not on call does not" "$([ "$(mails_to bob@p.example)" = 0 ]; echo $?)" "($(mails_to bob@p.example))"
mails_eventually 'select(.to == "<cai@p.example>") | (.data | contains("【升级】工单")) and (.data | contains("级别：")) and (.data | contains("[Escalation]") | not)'
check "cai asked for Chinese and gets Chinese only" $? "($(grep 'cai@' "$TMP/mail" | head -c 600))"
mails_eventually 'select(.to == "<cai@p.example>") | .data | contains("发生于：2026-05-05 22:45 (Asia/Shanghai)")'
check "with the times in her zone (her quiet hours' zone: she has none of her own)" $? "($(grep 'cai@' "$TMP/mail" | head -c 900))"
at 2026-05-05T23:20:00+08:00
sleep 1
req GET "/api/v1/outbox?state=pending" "" "$ADMIN"
is "their notifications wait for 08:00" 200 '[.notifications[] | select(.kind == "escalation") | .next_at] | length >= 4 and all(. == "2026-05-06T00:00:00Z")'
at 2026-05-06T08:00:00+08:00
for _ in $(seq 1 50); do [ "$(mails_to bob@p.example)" -ge 4 ] && break; sleep 0.1; done
check "08:00: the night's four escalation steps arrive" "$([ "$(mails_to bob@p.example)" = 4 ]; echo $?)" "($(mails_to bob@p.example))"
[ "$(jq -s '[.[] | select(.to == "<bob@p.example>") | select((.data | contains("[Escalation] Ticket")) and (.data | contains("升级") | not))] | length' < <(mails))" = 4 ]
check "bob asked for English and gets English only" $? "($(grep 'bob@' "$TMP/mail" | head -c 600))"
req DELETE "/api/v1/subscriptions/99999" "" "$ADMIN"
is "an unknown subscription" 404

# --- endpoints edited, disabled and deleted; a test says what became of it ---
before=$(got)
req POST "/api/v1/endpoints/$EP/test" "" "$ADMIN"
is "a test that arrives says so" 200 '.delivered == true and .state == "delivered" and .error == null'
check "and the receiver got it before the answer" "$([ "$(got)" -gt "$before" ]; echo $?)"
req PATCH "/api/v1/endpoints/$EP" '{"events":["sla_breach"],"name":"ops hook (breaches)"}' "$ADMIN"
is "an endpoint's events and name are edited; the rest stays" 200 \
    '.events == ["sla_breach"] and .name == "ops hook (breaches)" and .signed == true and .active == true'
req PATCH "/api/v1/endpoints/$EP" '{"events":["sla_breach","ticket_eaten"]}' "$ADMIN"
is "events are the catalogue's notification kinds" 400 \
    '.pointer == "/events/1" and (.detail | contains("overrun_notice"))'
req GET /api/v1/catalogue
is "the catalogue names them in both languages" 200 \
    '[.notifications[].id] == ["sla_warning","sla_breach","escalation","overrun_notice","confirm_reminder","confirm_timeout","task_opened","deposit_low","watch_list","report_weekly","report_monthly","test"] and .notifications[1].label.zh == "SLA 超时"'
req PATCH "/api/v1/endpoints/$EP" '{"url":"ftp://x"}' "$ADMIN"
is "an edit is checked like a new endpoint" 400 '.pointer == "/url"'
req PATCH "/api/v1/endpoints/$EP" '{"active":"no"}' "$ADMIN"
is "active is true or false" 400 '.pointer == "/active"'
req PATCH "/api/v1/endpoints/$EP" '{"secret":null,"active":false}' "$ADMIN"
is "disabled, and its secret removed" 200 '.active == false and .signed == false'
req POST /api/v1/tickets "{\"title\":\"while disabled\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
DT=$(jq -r .id "$TMP/body")
at 2026-05-08T08:00:00+08:00
eventually "/api/v1/tickets/$DT/events" "$ADMIN" '[.events[] | select(.type == "sla_breach")] | length >= 1'
req GET "/api/v1/outbox?ticket_id=$DT" "" "$ADMIN"
is "a disabled endpoint is sent nothing new" 200 "[.notifications[] | select(.endpoint_id == $EP)] | length == 0"
req PATCH "/api/v1/endpoints/$EP" '{"active":true}' "$ADMIN"
is "and enabled again" 200 '.active == true'
req PATCH /api/v1/endpoints/99999 '{"active":true}' "$ADMIN"
is "an unknown endpoint" 404
req POST /api/v1/users '{"email":"dora@p.example","name":"Dora","role":"agent","password":"dora-password"}' "$ADMIN"
AGENT_TOKEN=$(login dora@p.example dora-password)
req DELETE "/api/v1/endpoints/$EP" "" "$AGENT_TOKEN"
is "only managers delete endpoints" 403
req DELETE "/api/v1/endpoints/$EP" "" "$ADMIN"
is "an endpoint is deleted" 204
req GET /api/v1/endpoints "" "$ADMIN"
is "and no longer listed" 200 "[.endpoints[] | select(.id == $EP)] | length == 0"
req GET "/api/v1/outbox?limit=500" "" "$ADMIN"
is "the outbox keeps what was sent through it" 200 "[.notifications[] | select(.endpoint_id == $EP)] | length > 0"
req POST "/api/v1/endpoints/$EP/test" "" "$ADMIN"
is "a deleted endpoint is not tested" 404
req DELETE "/api/v1/endpoints/$EP" "" "$ADMIN"
is "nor deleted twice" 404

# --- one receiver down or slow holds up only its own notifications ---
"$SINK" --out "$TMP/slowhooks" --fail-if "$TMP/fail" --hang-if "$TMP/hang" >"$TMP/slow.port" &
EXTRA_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q listening "$TMP/slow.port" && break; sleep 0.1; done
req POST /api/v1/endpoints "{\"name\":\"slow hook\",\"url\":\"http://127.0.0.1:$(awk '{print $2}' "$TMP/slow.port")/hooks\",\"events\":[\"test\"]}" "$ADMIN"
SLOW=$(jq -r .id "$TMP/body")
req POST /api/v1/endpoints "{\"name\":\"ops hook 2\",\"url\":\"$HOOK\",\"events\":[\"test\"]}" "$ADMIN"
EP=$(jq -r .id "$TMP/body")
touch "$TMP/fail"
at 2026-05-08T09:00:00+08:00
req POST "/api/v1/endpoints/$SLOW/test" "" "$ADMIN"
SKEY=$(jq -r .key "$TMP/body")
keys=()
for _ in 1 2 3; do
    req POST "/api/v1/endpoints/$EP/test" "" "$ADMIN"
    keys+=("$(jq -r .key "$TMP/body")")
done
is "four tests that fail, each tried once" 200 '.delivered == false and .state == "pending"'
sent() { grep -c "\"delivery\":\"$1\"" "$TMP/hooks"; }
# 09:00:10: the four retries fall due together; the first of ops hook 2's
# fails, its other two wait behind it without an attempt
at 2026-05-08T09:00:10+08:00
eventually "/api/v1/outbox?state=pending" "$ADMIN" \
    '[.notifications[] | select(.key == "'"${keys[0]}"'")][0].attempts == 2'
is "after a receiver's failure its later notifications in the pass are not tried" 200 \
    '[.notifications[] | select(.endpoint_id == '"$EP"' and .kind == "test")] | map([.attempts, .next_at])
     == [[2, "2026-05-08T01:00:30Z"], [1, "2026-05-08T01:00:30Z"], [1, "2026-05-08T01:00:30Z"]]'
check "ops hook 2 was asked once in that pass" \
    "$([ "$(sent "${keys[0]}")$(sent "${keys[1]}")$(sent "${keys[2]}")" = 211 ]; echo $?)" \
    "($(sent "${keys[0]}") $(sent "${keys[1]}") $(sent "${keys[2]}"))"
# 09:00:30: all four again; slow hook takes the request and does not answer
rm "$TMP/fail"
touch "$TMP/hang"
at 2026-05-08T09:00:30+08:00
deadline=$(($(date +%s%N) + 3000000000)) # 3 s: less than the 5 s an attempt may take
while [ "$(date +%s%N)" -lt "$deadline" ]; do
    [ "$(jq -r 'select(.status == 200 and .event == "test") | .delivery' "$TMP/hooks" | grep -cF -e "${keys[0]}" -e "${keys[1]}" -e "${keys[2]}")" -ge 3 ] && break
    sleep 0.1
done
order=$(jq -r 'select(.status == 200 and .event == "test") | .delivery' "$TMP/hooks" | grep -nF -e "${keys[0]}" -e "${keys[1]}" -e "${keys[2]}" | cut -d: -f2 | tr '\n' ' ')
check "while slow hook keeps its request unanswered, ops hook 2 gets its three, in order" \
    "$([ "$order" = "${keys[0]} ${keys[1]} ${keys[2]} " ] && [ -f "$TMP/hang" ]; echo $?)" "($order)"
rm "$TMP/hang"
eventually "/api/v1/outbox?limit=500" "$ADMIN" \
    '[.notifications[] | select(.key == "'"$SKEY"'")][0].attempts == 3'
is "and slow hook's attempt is recorded when it ends" 200 \
    '[.notifications[] | select(.key == "'"$SKEY"'")][0] | .attempts == 3 and .state != "dead"'

serve_stop
finish
