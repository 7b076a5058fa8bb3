#!/usr/bin/env bash
# Look before you save: the .ics import of a calendar (dry run, the marker
# rule, holidays and make-up days by marker, bad feeds) and the on-call rota
# (the next 14 days as a changed rota would give them, people checked).
# usage: tests/http/previews.sh PATH/TO/keepword
set -u
KW=${1:?usage: previews.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
echo 2026-05-04T02:00:00Z >"$TMP/now" # Monday 10:00 in Shanghai
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
ADMIN=$(login admin@localhost correct-horse)
mkuser() { # EMAIL ROLE [TEAM] -> id
    local team=${3:+,\"team_id\":$3}
    req POST /api/v1/users "{\"email\":\"$1\",\"name\":\"$1\",\"role\":\"$2\",\"password\":\"password-$2\"$team}" "$ADMIN"
    jq -r .id "$TMP/body"
}
mkuser mia@p.example manager >/dev/null
MIA=$(login mia@p.example password-manager)

# --- .ics import ---
req POST /api/v1/calendars '{"name":"office","tz":"Asia/Shanghai","week":{"mon":[["09:00","12:00"],["13:30","18:00"]],"tue":[["09:00","18:00"]],"wed":[["09:00","18:00"]],"thu":[["09:00","18:00"]],"fri":[["09:00","18:00"]]},"holidays":["2026-05-01"]}' "$MIA"
is "a calendar to import into" 201
ev() { printf 'BEGIN:VEVENT\r\nUID:%s@t\r\nDTSTART;VALUE=DATE:%s\r\nDTEND;VALUE=DATE:%s\r\nSUMMARY:%s\r\nEND:VEVENT\r\n' "$1" "$2" "$3" "$4"; }
# The shapes Chinese holiday feeds use: "名称 休", "名称调休 班", "名称（休）",
# and an event whose name merely ends in 休.
FEED=$(printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n'
    ev 1 20261001 20261008 '国庆节 休'
    ev 2 20260927 20260928 '国庆节调休 班'
    ev 3 20261010 20261011 '国庆节调休 班'
    ev 4 20260101 20260104 '元旦（休）'
    ev 5 20261009 20261010 '国庆节调休'
    printf 'BEGIN:VEVENT\r\nUID:6@t\r\nDTSTART:20261012T020000Z\r\nSUMMARY:团建 休\r\nEND:VEVENT\r\n'
    printf 'END:VCALENDAR\r\n')
ICS=/api/v1/calendars/office/ics

req POST "$ICS?as=holidays&match=%E4%BC%91&dry_run=true" "$FEED" "$MIA" text/calendar
is "dry run: 休 takes the days off, not 调休 or 班 days" 200 \
    '.dry_run == true and .imported.added == 10 and .imported.events == 2
     and ([.dates[].date] | index("2026-09-27") == null and index("2026-10-09") == null and index("2026-10-10") == null)
     and (.dates[0] == {"date":"2026-01-01","kind":"holiday","summary":"元旦（休）","marker":"休","status":"new"})
     and (.dates | map(select(.date == "2026-10-01"))[0].summary == "国庆节 休")'
is "dry run: what was left out, and why" 200 \
    '[.skipped_events[] | [.summary, .reason]] == [["国庆节调休 班","no_marker"],["国庆节调休 班","no_marker"],["国庆节调休","no_marker"],["团建 休","timed"]]'
req GET /api/v1/calendars/office "" "$MIA"
is "a dry run changes nothing" 200 '.spec.holidays == ["2026-05-01"]'

req POST "$ICS?as=both&dry_run=true" "$FEED" "$MIA" text/calendar
is "dry run by marker: 休 days off and 班 make-up days, with the hours they get" 200 \
    '.imported.added == 12 and ([.dates[] | select(.kind == "workday") | .date] == ["2026-09-27","2026-10-10"])
     and (.dates[] | select(.date == "2026-09-27") | .marker == "班" and .summary == "国庆节调休 班"
          and .hours == [["09:00","12:00"],["13:30","18:00"]])
     and ([.skipped_events[].reason] == ["no_marker","timed"])'
req POST "$ICS?as=both" "$FEED" "$MIA" text/calendar
is "import by marker" 201 \
    '.dry_run == false and .imported.added == 12 and (.spec.holidays | length) == 11
     and (.spec.extra_workdays | keys) == ["2026-09-27","2026-10-10"] and (.dates | length) == 12'
req POST "$ICS?as=both&dry_run=true" "$FEED" "$MIA" text/calendar
is "again: every date is there already" 200 '.imported.added == 0 and .imported.present == 12 and ([.dates[].status] | unique) == ["present"]'
req GET "/api/v1/calendars/office/deadline?from=2026-09-30T17:00:00%2B08:00&duration=4h" "" "$MIA"
is "the deadline skips the imported week off" 200 '.deadline == "2026-10-08T04:00:00Z"'
req POST "$ICS?as=holidays" "$FEED" "$MIA" text/calendar
is "every event as a holiday: 班 days are make-up days already" 409 \
    '.detail | contains("2026-09-27 from the feed is an extra workday in the calendar already (event \"国庆节调休 班\")")'
req POST "$ICS?as=holidays&match=Weihnachten" "$FEED" "$MIA" text/calendar
is "a marker nobody carries" 400 '.detail | contains("no all-day events whose summary carries the marker \"Weihnachten\"")'
req POST "$ICS?as=holidays&match=Weihnachten&dry_run=true" "$FEED" "$MIA" text/calendar
is "... previews as nothing, with every event left out" 200 '.imported.added == 0 and (.dates | length) == 0 and (.skipped_events | length) == 6'

# bad input
req POST "$ICS?as=holidays&dry_run=true" "this is not a calendar" "$MIA" text/calendar
is "not a calendar file" 400 '.detail | contains("not an iCalendar file")'
req POST "$ICS?as=vacation" "$FEED" "$MIA" text/calendar
is "an unknown marker mode" 400 '.detail == "as: \"vacation\" is not holidays, workdays or both (by marker)"'
req POST "$ICS" "$FEED" "$MIA" text/calendar
is "no mode" 400 '.detail | startswith("as: missing")'
req POST "$ICS?as=holidays&match=%E5%9B%BD%E5%BA%86%20%E4%BC%91" "$FEED" "$MIA" text/calendar
is "a marker with a space in it" 400 '.detail | startswith("match: \"国庆 休\" has a space")'
req POST "$ICS?as=both&match=%E4%BC%91" "$FEED" "$MIA" text/calendar
is "match with as=both" 400 '.detail | startswith("match: only with as=holidays or as=workdays")'
req POST "$ICS?as=both&holiday=X&workday=X" "$FEED" "$MIA" text/calendar
is "the same marker twice" 400 '.detail | startswith("workday: the same marker")'
req POST "$ICS?as=holidays&workday=%E7%8F%AD" "$FEED" "$MIA" text/calendar
is "workday= without as=both" 400 '.detail | startswith("workday: only with as=both")'
req POST "$ICS?as=both&dry_run=maybe" "$FEED" "$MIA" text/calendar
is "a bad dry_run" 400 '.detail | startswith("dry_run: expected true or false")'
head -c 1100000 /dev/zero | tr '\0' 'x' >"$TMP/big.ics"
read -r CODE CTYPE < <(curl -s -o "$TMP/body" -w '%{http_code} %{content_type}' -X POST "$B$ICS?as=holidays&dry_run=true" \
    -H "Authorization: Bearer $MIA" -H "Content-Type: text/calendar" --data-binary @"$TMP/big.ics")
is "an oversized file" 413 '.detail | contains("larger than")'
req POST "/api/v1/calendars/nosuch/ics?as=both&dry_run=true" "$FEED" "$MIA" text/calendar
is "an unknown calendar" 404
TWICE=$(printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n'
    ev 1 20261101 20261102 '某日 休'
    ev 2 20261101 20261102 '某日 班'
    printf 'END:VCALENDAR\r\n')
req POST "$ICS?as=both&dry_run=true" "$TWICE" "$MIA" text/calendar
is "a date the feed gives as both kinds" 409 '.detail | startswith("2026-11-01 is a holiday in the feed")'

# --- on-call rota: the preview ---
req POST /api/v1/teams '{"name":"Desk"}' "$ADMIN"
TEAM=$(jq -r .id "$TMP/body")
ANN=$(mkuser ann@p.example agent "$TEAM")
BOB=$(mkuser bob@p.example agent "$TEAM")
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
req POST /api/v1/users "{\"email\":\"cus@c.example\",\"name\":\"Cus\",\"role\":\"customer\",\"org_id\":$(jq -r .id "$TMP/body")}" "$ADMIN"
CUS=$(jq -r .id "$TMP/body")
rota() { # PEOPLE -> a weekly rota from Monday 2026-05-04 09:00
    echo "{\"team_id\":$TEAM,\"level\":1,\"schedule\":{\"name\":\"Desk L1\",\"tz\":\"Asia/Shanghai\",\"layers\":[{\"name\":\"weekly\",\"rotation\":\"weekly\",\"start\":\"2026-05-04\",\"handoff\":\"09:00\",\"people\":[$1]}]}}"
}
req POST "/api/v1/oncall?dry_run=true" "$(rota "$ANN,$BOB")" "$MIA"
is "preview of a new rota: 14 days from now, a new rota" 200 \
    ".dry_run == true and .replaces == null and .from == \"2026-05-04T02:00:00Z\" and .to == \"2026-05-18T02:00:00Z\"
     and [.shifts[] | [.from, .user_id]] == [[\"2026-05-04T02:00:00Z\",$ANN],[\"2026-05-11T01:00:00Z\",$BOB],[\"2026-05-18T01:00:00Z\",$ANN]]"
req GET /api/v1/oncall "" "$MIA"
is "a preview stores nothing" 200 '.rotas == []'
req POST /api/v1/oncall "$(rota "$ANN,$BOB")" "$MIA"
is "save" 201
RID=$(jq -r .id "$TMP/body")
req POST "/api/v1/oncall?dry_run=true&days=3" "$(rota "$BOB,$ANN")" "$MIA"
is "preview of a change: it replaces the stored rota, Bob first" 200 \
    ".replaces == $RID and .to == \"2026-05-07T02:00:00Z\" and [.shifts[].user_id] == [$BOB]"
req GET "/api/v1/oncall/$RID/who" "" "$MIA"
is "... and the stored rota is unchanged" 200 ".user_id == $ANN"
req POST "/api/v1/oncall?dry_run=true" "$(rota "$ANN,99999")" "$MIA"
is "an unknown person is named by place" 400 '.pointer == "/schedule/layers/0/people/1" and (.detail | contains("no user 99999"))'
req POST /api/v1/oncall "$(rota "$CUS")" "$MIA"
is "a customer does not go on call" 400 '.pointer == "/schedule/layers/0/people/0" and (.detail | contains("is a customer"))'
req POST "/api/v1/oncall?dry_run=true" "{\"team_id\":$TEAM,\"schedule\":{\"name\":\"x\",\"tz\":\"Asia/Shanghai\",\"layers\":[{\"rotation\":\"hourly\"}]}}" "$MIA"
is "a bad schedule in a preview names the field" 400 '.pointer == "/schedule/layers/0/rotation"'
req POST "/api/v1/oncall?dry_run=yes" "$(rota "$ANN")" "$MIA"
is "a bad dry_run" 400
req POST "/api/v1/oncall?dry_run=true&days=99" "$(rota "$ANN")" "$MIA"
is "too many days" 400
ANNT=$(login ann@p.example password-agent)
req POST "/api/v1/oncall?dry_run=true" "$(rota "$ANN")" "$ANNT"
is "agents do not preview rota changes" 403

serve_stop
finish
