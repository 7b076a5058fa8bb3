#!/usr/bin/env bash
# Stored calendars are versioned objects that commitments name: an edit
# applies from the instant it is saved to every commitment naming the
# calendar. On a fake clock: the dry run says what an edit reaches, a
# holiday saved ahead of running deadlines moves them (and the engine's
# schedule) while what was measured before the save and a stopped clock
# stay; each clock says which versions it used; the demo's calendars have
# names, take .ics imports and are named by its commitment.
# usage: tests/http/calendars.sh PATH/TO/keepword
set -u
KW=${1:?usage: calendars.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

at 2026-03-02T09:00:00+08:00 # a Monday
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
req POST /api/v1/tokens '{"label":"calendar test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme","tier":"vip"}' "$ADMIN"
ORG=$(jq -r .id "$TMP/body")
WEEK='"week":{"mon":[["09:00","18:00"]],"tue":[["09:00","18:00"]],"wed":[["09:00","18:00"]],"thu":[["09:00","18:00"]],"fri":[["09:00","18:00"]]}'
req POST /api/v1/calendars '{"name":"office","tz":"Asia/Shanghai",'"$WEEK"'}' "$ADMIN"
is "a stored calendar starts at version 1" 201 '.version == 1 and .changed and .saved_at == "2026-03-02T01:00:00Z"'

POLICY='{"name":"Named","version":"1","effective_from":"2026-01-01T00:00:00+08:00",
 "calendars":{"office":"office"},"levels":["L2"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"]},
            {"id":"resolution","start":"created","stop":["resolved"]}],
 "targets":[{"calendar":"office","response":"2h","resolution":"16h"}]}'
req POST /api/v1/commitments "${POLICY/\"office\":\"office\"/\"office\":\"nowhere\"}" "$ADMIN"
is "a commitment naming no stored calendar is refused at the calendar" 400 \
    '.pointer == "/calendars/office" and (.detail | test("no stored calendar \"nowhere\""))'
req POST /api/v1/commitments "${POLICY/\"office\":\"office\"/\"office\":\"\"}" "$ADMIN"
is "an empty calendar name is refused" 400 '.pointer == "/calendars/office"'
req POST /api/v1/commitments "$POLICY" "$ADMIN"
is "a commitment naming the stored calendar" 201
COMMITMENT=$(jq -r .id "$TMP/body")
req GET "/api/v1/commitments/$COMMITMENT/letter?lang=en" "" "$ADMIN"
grep -q "09:00" "$TMP/body"
check "the letter shows the stored calendar's hours" $? "($(head -c 300 "$TMP/body"))"

# A: Monday 09:00, response due 11:00, resolution 16 h: Tuesday 16:00
req POST /api/v1/tickets "{\"title\":\"Printer on fire\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
A=$(jq -r .id "$TMP/body")
at 2026-03-02T09:30:00+08:00
req POST "/api/v1/tickets/$A/events" '{"type":"milestone","milestone":"first_response"}' "$ADMIN"
is "A answered at 09:30" 201
# C: Monday 17:00, response due Tuesday 10:00
at 2026-03-02T17:00:00+08:00
req POST /api/v1/tickets "{\"title\":\"Scanner jammed\",\"level\":\"L2\",\"org_id\":$ORG}" "$ADMIN"
C=$(jq -r .id "$TMP/body")
req GET "/api/v1/tickets/$C/sla" "" "$ADMIN"
is "C's response is due Tuesday 10:00" 200 \
    '(.clocks[] | select(.metric == "response") | .deadline) == "2026-03-03T02:00:00Z"'

at 2026-03-02T17:30:00+08:00
TUE_OFF='{"name":"office","tz":"Asia/Shanghai",'"$WEEK"',"holidays":["2026-03-03"]}'
req POST /api/v1/calendars/office/impact "$TUE_OFF" "$ADMIN"
is "the dry run names the commitment and its open tickets" 200 \
    '.exists and .version == 1 and .changed and .open_tickets == 2 and
     .commitments == [{"id": '"$COMMITMENT"', "name": "Named", "version": "1", "open_tickets": 2}]'
req POST /api/v1/calendars/office/impact '{"name":"other","tz":"UTC",'"$WEEK"'}' "$ADMIN"
is "the dry run is about the calendar in the path" 400 '.pointer == "/name"'
req POST /api/v1/calendars/office/impact '{"tz":"Asia/Shanghai","week":{"mon":[["09:00","25:00"]]}}' "$ADMIN"
is "the dry run checks the calendar as a save would" 400 '.pointer == "/week/mon/0/1"'
req GET "/api/v1/calendars/office/versions" "" "$ADMIN"
is "still one version: the dry run wrote nothing" 200 '.versions | length == 1'

req POST /api/v1/calendars "$TUE_OFF" "$ADMIN"
is "saving makes version 2 and projects the open tickets again" 201 \
    '.version == 2 and .changed and .saved_at == "2026-03-02T09:30:00Z" and .reprojected == 2'
req GET "/api/v1/tickets/$C/sla" "" "$ADMIN"
is "C's response deadline moves past the new holiday" 200 \
    '(.clocks[] | select(.metric == "response") | .deadline) == "2026-03-04T02:00:00Z"'
is "C's clock says it used both versions, split at the save" 200 \
    '(.clocks[] | select(.metric == "response") | .calendar_versions) ==
     [{"calendar":"office","version":1,"from":null,"until":"2026-03-02T09:30:00Z"},
      {"calendar":"office","version":2,"from":"2026-03-02T09:30:00Z","until":null}]'
req GET "/api/v1/tickets/$A/sla" "" "$ADMIN"
is "A's running resolution clock moves a day; nothing before the save changes" 200 \
    '(.clocks[] | select(.metric == "resolution") | .deadline == "2026-03-04T08:00:00Z"
       and .elapsed == 30600)'
is "A's stopped response clock keeps its result and its version" 200 \
    '(.clocks[] | select(.metric == "response") | .status == "met" and .met_at == "2026-03-02T01:30:00Z"
       and .elapsed == 1800 and .calendar_versions == [{"calendar":"office","version":1,"from":null,"until":"2026-03-02T09:30:00Z"}])'
req GET "/api/v1/tickets/$C" "" "$ADMIN"
is "the projection (lists, the board) has the new deadline" 200 '.due_at == "2026-03-04T02:00:00Z"'

req POST /api/v1/calendars "$TUE_OFF" "$ADMIN"
is "saving the same calendar again adds no version" 201 '.version == 2 and (.changed | not) and .reprojected == 0'
req GET "/api/v1/calendars/office/versions" "" "$ADMIN"
is "both versions are kept, with when each was saved" 200 \
    '[.versions[] | .version, .saved_at] == [1, "2026-03-02T01:00:00Z", 2, "2026-03-02T09:30:00Z"]
     and .versions[1].spec.holidays == ["2026-03-03"]'
req GET /api/v1/calendars/nowhere/versions "" "$ADMIN"
is "no versions of an unknown calendar" 404
req GET /api/v1/calendars/office "" "$ADMIN"
is "a calendar says its version" 200 '.version == 2'

# the engine follows: nothing on the new holiday, the breach at the new deadline
at 2026-03-03T10:00:05+08:00
sleep 1
req GET "/api/v1/tickets/$C/events" "" "$ADMIN"
is "no breach at the old deadline" 200 '[.events[] | select(.type == "sla_breach")] | length == 0'
at 2026-03-04T10:00:01+08:00 # a threshold fires in the second after it (docs/architecture.md)
eventually "/api/v1/tickets/$C/events" "$ADMIN" '[.events[] | select(.type == "sla_breach")] | length == 1'
is "the breach fires at the new deadline" 200 \
    '[.events[] | select(.type == "sla_breach")][0].body.deadline == "2026-03-04T02:00:00Z"'

# a restart compiles the same versions: the same deadlines
serve_stop
serve_start --fake-clock "$TMP/now"
req GET "/api/v1/tickets/$A/sla" "" "$ADMIN"
is "after a restart, the same deadline" 200 \
    '(.clocks[] | select(.metric == "resolution") | .deadline) == "2026-03-04T08:00:00Z"'
serve_stop

# --- the demo: named calendars, named by its commitment, .ics import works ---
rm -f "$TMP"/kw.db*
at 2026-03-02T09:00:00+08:00
serve_start --fake-clock "$TMP/now" --demo
M=$(login manager@keepword.demo keepword-demo)
req GET /api/v1/calendars "" "$M"
is "the demo's calendars carry their names" 200 \
    '(.calendars | length) >= 2 and all(.calendars[]; .spec.name == .name)'
req GET /api/v1/commitments/1 "" "$M"
is "the demo's commitment names its stored calendars" 200 '.calendars == {"office":"office","24x7":"24x7"}'
ICS=$'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\nDTSTART;VALUE=DATE:20271001\r\nDTEND;VALUE=DATE:20271002\r\nSUMMARY:国庆节 休\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'
req POST "/api/v1/calendars/office/ics?as=holidays" "$ICS" "$M" text/calendar
is "an .ics import into the demo's office calendar" 201 '.name == "office" and .imported.added == 1 and .version == 2'
serve_stop
finish
