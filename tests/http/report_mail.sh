#!/usr/bin/env bash
# The weekly and monthly service reports mailed to who subscribed
# (docs/kpi.md "Scheduled delivery"), on a fake clock: Monday 09:00 and the
# 1st at 09:00 in the person's zone (Asia/Shanghai here, UTC+8), in the
# subscription's language, the PDF attached; exactly once per period, also
# across a restart; nothing for a subscription that does not name them.
# usage: tests/http/report_mail.sh PATH/TO/keepword PATH/TO/smtpsink
set -u
KW=${1:?usage: report_mail.sh PATH/TO/keepword PATH/TO/smtpsink}
SMTP=${2:?usage: report_mail.sh PATH/TO/keepword PATH/TO/smtpsink}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

# Sunday 2026-03-08 23:00 UTC = Monday 07:00 in Shanghai
at 2026-03-08T23:00:00Z
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now" --allow-destination 127.0.0.1
req POST /api/v1/tokens '{"label":"t"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/users '{"email":"wang@desk.example","name":"王芳","role":"manager","password":"manager-secret"}' "$ADMIN"
WANG=$(jq -r .id "$TMP/body")
req PATCH "/api/v1/users/$WANG" '{"tz":"Asia/Shanghai","lang":"en"}' "$ADMIN"
is "a manager in Shanghai" 200
req POST /api/v1/users '{"email":"tom@desk.example","name":"Tom","role":"manager","password":"manager-secret"}' "$ADMIN"
TOM=$(jq -r .id "$TMP/body")
ALL='{"tz":"UTC","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}'
req POST /api/v1/commitments '{"name":"K","version":"1","effective_from":"2026-01-01T00:00:00Z",
 "calendars":{"all":'"$ALL"'},"levels":["L1"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"]}],
 "targets":[{"when":{"level":"L1"},"calendar":"all","response":"1h"}]}' "$ADMIN"
is "a commitment" 201
req POST /api/v1/tickets "{\"title\":\"t\",\"level\":\"L1\",\"org_id\":$ACME}" "$ADMIN"

"$SMTP" --out "$TMP/mail" >"$TMP/smtp.port" &
EXTRA_PIDS+=("$!")
for _ in $(seq 1 50); do grep -q listening "$TMP/smtp.port" && break; sleep 0.1; done
SMTPURL="smtp://127.0.0.1:$(awk '{print $2}' "$TMP/smtp.port")/?from=keepword@desk.example&to=ops@desk.example"
req POST /api/v1/endpoints "{\"name\":\"mail\",\"kind\":\"email\",\"url\":\"$SMTPURL\",\"events\":[\"test\"]}" "$ADMIN"
MAIL=$(jq -r .id "$TMP/body")
req POST /api/v1/subscriptions "{\"user_id\":$WANG,\"endpoint_id\":$MAIL,\"events\":[\"report_weekly\",\"report_monthly\"],\"lang\":\"zh\"}" "$ADMIN"
is "王芳 subscribes to both reports, in Chinese" 201
req POST /api/v1/subscriptions "{\"user_id\":$TOM,\"endpoint_id\":$MAIL,\"events\":[]}" "$ADMIN"
is "Tom subscribes to every notification, which names no report" 201
at 2026-03-08T23:01:00Z # the engine looks for due reports once a minute

# mails SUBJECT-PATTERN: how many mails to 王芳 have that subject
mails() { [ -f "$TMP/mail" ] || { echo 0; return; }; jq -r 'select(.to == "<wang@desk.example>") | .data' "$TMP/mail" | grep -c "$1"; }
subject() { printf '%s' "$1" | base64 -w0; }
# wait_for N PATTERN: until N mails match (up to 30 s: a PDF renders slowly
# under the sanitizers on a busy machine)
wait_for() { for _ in $(seq 1 300); do [ "$(mails "$2")" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }

# At 07:00 Monday the month of February is long due (1 March 09:00): it goes
# out now; the week 2026-W10 is not due before 09:00.
MONTHLY="Subject: =?UTF-8?B?$(subject '【服务月报】2026-02')"
WEEKLY="Subject: =?UTF-8?B?$(subject '【服务周报】2026-W10')"
wait_for 1 "X-Keepword-Event: report_monthly"
check "February's report went out when the engine first looked" $? "($(head -c 300 "$TMP/mail" 2>/dev/null))"
sleep 1.5
check "the week's not yet at 07:00 Shanghai" "$([ "$(mails 'X-Keepword-Event: report_weekly')" = 0 ]; echo $?)"
at 2026-03-09T00:59:00Z
sleep 1.5
check "nor at 08:59" "$([ "$(mails 'X-Keepword-Event: report_weekly')" = 0 ]; echo $?)"
at 2026-03-09T01:00:00Z
wait_for 1 "X-Keepword-Event: report_weekly"
check "the week's report at Monday 09:00 Shanghai" $?
jq -r 'select(.to == "<wang@desk.example>") | .data' "$TMP/mail" >"$TMP/wang.txt"
grep -q "^${WEEKLY%%=*}" "$TMP/wang.txt" && grep -q 'multipart/mixed' "$TMP/wang.txt" &&
    grep -q 'filename="keepword-weekly-2026-W10-zh.pdf"' "$TMP/wang.txt" && grep -q '准时率' "$TMP/wang.txt"
check "in Chinese (the subscription's language), the PDF attached" $? "($(head -c 600 "$TMP/wang.txt"))"
# the attachment is a whole PDF: decode the last part
tr -d '\r' <"$TMP/wang.txt" |
    awk '/filename="keepword-weekly-2026-W10-zh.pdf"/{h=1; next} h && /^$/{h=0; p=1; next}
         p && /^--=_keepword_part_=--/{p=0} p' | base64 -d >"$TMP/w10.pdf" 2>/dev/null
pdftotext "$TMP/w10.pdf" - 2>/dev/null | grep -q '服务周报 2026-W10'
check "the attached PDF is the week's report" $?
check "Tom's subscription to every notification gets no report" \
    "$(jq -r 'select(.to == "<tom@desk.example>") | .data' "$TMP/mail" | grep -c report_ | grep -qx 0; echo $?)"
req GET "/api/v1/outbox?state=delivered" "" "$ADMIN"
is "the outbox lists the reports without the PDF's bytes" 200 '[.notifications[] | select(.kind == "report_weekly")] |
    length == 1 and (.[0].payload.attachment | has("base64") | not) and .[0].payload.attachment.bytes > 1000'

# a restart later that hour: nothing again
serve_stop
at 2026-03-09T01:30:00Z
serve_start --fake-clock "$TMP/now" --allow-destination 127.0.0.1
sleep 2
check "after a restart the week and the month are not sent again" \
    "$([ "$(mails 'X-Keepword-Event: report_')" = 2 ]; echo $?)" "($(mails 'X-Keepword-Event: report_'))"
# the next Monday, 09:00 Shanghai: the next week
at 2026-03-16T01:00:00Z
wait_for 3 "X-Keepword-Event: report_"
check "the next week's report the next Monday" "$(mails 'X-Keepword-Event: report_weekly' | grep -qx 2; echo $?)"
grep -q "^${MONTHLY%%=*}" "$TMP/wang.txt"
check "the month's subject" $?

serve_stop
finish
