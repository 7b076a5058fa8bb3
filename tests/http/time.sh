#!/usr/bin/env bash
# Time accounting and cost per ticket over HTTP on a fake clock (docs/kpi.md
# "Time spent and cost", its worked example): time recorded with a reply and
# on its own, a correction, teams' hourly costs set by a manager, the KPI
# fields, what agents and customers may do and see, bad input, and MTTA and
# MTTR in GET /kpis by the metrics' kpi markers.
# usage: tests/http/time.sh PATH/TO/keepword
set -u
KW=${1:?usage: time.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

at 2026-03-02T08:00:00Z
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
req POST /api/v1/tokens '{"label":"time test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Other"}' "$ADMIN"
OTHER=$(jq -r .id "$TMP/body")
req POST /api/v1/teams '{"name":"desk"}' "$ADMIN"
DESK=$(jq -r .id "$TMP/body")
req POST /api/v1/teams '{"name":"field"}' "$ADMIN"
FIELD=$(jq -r .id "$TMP/body")
req POST /api/v1/teams '{"name":"night"}' "$ADMIN"
NIGHT=$(jq -r .id "$TMP/body")
req POST /api/v1/users "{\"email\":\"ann@x.org\",\"name\":\"Ann\",\"role\":\"agent\",\"password\":\"ann-secret\",\"team_id\":$DESK}" "$ADMIN"
req POST /api/v1/tokens '{"label":"t"}' "$(login ann@x.org ann-secret)"
AGENT=$(jq -r .token "$TMP/body")
req POST /api/v1/users "{\"email\":\"cus@acme.org\",\"name\":\"Cus\",\"role\":\"customer\",\"password\":\"cus-secret\",\"org_id\":$ACME}" "$ADMIN"
req POST /api/v1/tokens '{"label":"t"}' "$(login cus@acme.org cus-secret)"
CUS=$(jq -r .token "$TMP/body")
ALL='{"tz":"UTC","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}'
req POST /api/v1/commitments '{"name":"T","version":"1","effective_from":"2026-01-01T00:00:00Z",
 "calendars":{"all":'"$ALL"'},"levels":["L1"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"]},
            {"id":"resolution","start":"created","stop":["resolved"]}],
 "targets":[{"when":{"level":"L1"},"calendar":"all","response":"1h","resolution":"8h"}]}' "$ADMIN"
is "a commitment" 201

ticket() { # ORG TEAM: sets T
    req POST /api/v1/tickets "{\"title\":\"t\",\"level\":\"L1\",\"org_id\":$1}" "$ADMIN"
    T=$(jq -r .id "$TMP/body")
    req PATCH "/api/v1/tickets/$T" "{\"team_id\":$2}" "$ADMIN"
}
ev() { req POST "/api/v1/tickets/$1/events" "$2" "${3:-$ADMIN}"; is "event $2 on $1" "${4:-201}"; }
resolve() {
    ev "$1" '{"type":"transition","to":"handling"}'
    ev "$1" '{"type":"transition","to":"feedback"}'
}

# the teams' hourly costs: desk 120.00 CNY, field 300.00 CNY, night none
req PUT "/api/v1/teams/$DESK/cost" '{"minor":12000,"currency":"CNY"}' "$ADMIN"
is "a manager sets desk's hourly cost" 200 ".team == \"desk\" and .hourly_cost.minor == 12000 and .hourly_cost.currency == \"CNY\""
req PUT "/api/v1/teams/$FIELD/cost" '{"minor":30000,"currency":"CNY"}' "$ADMIN"
is "and field's" 200 '.hourly_cost.minor == 30000'
req PUT "/api/v1/teams/$NIGHT/cost" '{"minor":100,"currency":"CNY"}' "$ADMIN"
req DELETE "/api/v1/teams/$NIGHT/cost" "" "$ADMIN"
is "a cost cleared" 200 '.hourly_cost == null'
req PUT "/api/v1/teams/$DESK/cost" '{"minor":100,"currency":"CNY"}' "$AGENT"
is "an agent may not set a cost" 403
req GET /api/v1/teams/costs "" "$AGENT"
is "nor read them" 403
req PUT "/api/v1/teams/$DESK/cost" '{"minor":100,"currency":"cny"}' "$ADMIN"
is "a currency is three capital letters" 400 '.pointer == "/currency"'
req PUT "/api/v1/teams/$DESK/cost" '{"minor":-1,"currency":"CNY"}' "$ADMIN"
is "a cost is not negative" 400 '.pointer == "/minor"'
req PUT "/api/v1/teams/$DESK/cost" '{"currency":"CNY"}' "$ADMIN"
is "a cost needs its amount" 400 '.pointer == "/minor"'
req PUT /api/v1/teams/999/cost '{"minor":1,"currency":"CNY"}' "$ADMIN"
is "an unknown team" 404
req GET /api/v1/teams/costs "" "$ADMIN"
is "the costs, by team" 200 '[.teams[] | [.team, .hourly_cost.minor]] == [["desk",12000],["field",30000],["night",null]]'

# Monday 09:00: ticket 1 (desk): 30 min with the reply, 45 min on its own
at 2026-03-02T09:00:00Z
ticket "$ACME" "$DESK"
T1=$T
ev "$T1" '{"type":"comment","text":"on it","time_spent":{"minutes":30}}' "$AGENT"
is "the reply is there" 201
req GET "/api/v1/tickets/$T1/events" "" "$ADMIN"
is "the time is an event naming the reply" 200 "[.events[] | select(.type == \"time_spent\")] | length == 1 and .[0].body.seconds == 1800 and .[0].body.team_id == $DESK and .[0].body.comment == ([.[0].seq] | .[0] - 1)"
ev "$T1" '{"type":"time","seconds":2700,"note":"remote session"}' "$AGENT"
resolve "$T1"
# ticket 2 (field): 2 h, corrected to 1 h
at 2026-03-02T10:00:00Z
ticket "$ACME" "$FIELD"
T2=$T
ev "$T2" '{"type":"time","minutes":120}'
req GET "/api/v1/tickets/$T2/events" "" "$ADMIN"
E2=$(jq '[.events[] | select(.type == "time_spent")][0].seq' "$TMP/body")
ev "$T2" "{\"type\":\"time\",\"corrects\":$E2,\"minutes\":60,\"note\":\"was 1 h, not 2\"}"
req GET "/api/v1/tickets/$T2/events" "" "$ADMIN"
is "a correction is a new event; the entry stays as written" 200 "[.events[] | select(.type == \"time_spent\") | .body.seconds] == [7200, 3600]"
LAST=$(jq '.events[-1].seq' "$TMP/body")
ev "$T2" "{\"type\":\"time\",\"corrects\":$LAST,\"seconds\":60}" "$ADMIN" 400
is "a correction is not corrected (name the entry)" 400 '.pointer == "/corrects"'
ev "$T2" '{"type":"time","corrects":1,"seconds":60}' "$ADMIN" 404
is "only a time entry is corrected" 404 '.pointer == "/corrects"'
ev "$T2" '{"type":"time","seconds":0}' "$ADMIN" 400
is "a new entry is at least a second" 400 '.pointer == "/seconds"'
ev "$T2" '{"type":"time","seconds":86401}' "$ADMIN" 400
is "and at most 24 h" 400 '.pointer == "/seconds"'
ev "$T2" '{"type":"time","minutes":1441}' "$ADMIN" 400
is "in minutes too, named as given" 400 '.pointer == "/minutes" and (.detail | startswith("minutes: 1441"))'
ev "$T2" '{"type":"comment","text":"x","time_spent":{"minutes":100000}}' "$ADMIN" 400
is "a reply's time as well" 400 '.pointer == "/time_spent/minutes"'
ev "$T2" '{"type":"time","seconds":60,"minutes":1}' "$ADMIN" 400
is "seconds or minutes, not both" 400 '.pointer == "/seconds"'
ev "$T2" '{"type":"time"}' "$ADMIN" 400
is "nor neither" 400 '.pointer == "/seconds"'
ev "$T2" '{"type":"comment","text":"x","time_spent":{"hours":1}}' "$ADMIN" 400
is "time_spent takes seconds or minutes" 400 '.pointer == "/time_spent/hours"'
req GET "/api/v1/tickets/$T2/events" "" "$ADMIN"
is "a refused reply with time wrote nothing" 200 "[.events[] | select(.type == \"comment\")] | length == 0"
resolve "$T2"
# ticket 3 (night, no cost): 20 min; then moved to desk: the time stays night's
ticket "$ACME" "$NIGHT"
T3=$T
ev "$T3" '{"type":"time","minutes":20}' "$AGENT"
req PATCH "/api/v1/tickets/$T3" "{\"team_id\":$DESK}" "$ADMIN"
resolve "$T3"
# ticket 4, another organisation, desk: an entry withdrawn (corrected to 0)
ticket "$OTHER" "$DESK"
T4=$T
ev "$T4" '{"type":"time","minutes":10}'
req GET "/api/v1/tickets/$T4/events" "" "$ADMIN"
E4=$(jq '[.events[] | select(.type == "time_spent")][0].seq' "$TMP/body")
ev "$T4" "{\"type\":\"time\",\"corrects\":$E4,\"seconds\":0}"

# customers neither record nor see time
ev "$T1" '{"type":"time","minutes":5}' "$CUS" 403
is "a customer does not record time" 403
ev "$T1" '{"type":"comment","text":"thanks","time_spent":{"minutes":5}}' "$CUS" 403
is "not with a reply either" 403 '.pointer == "/time_spent"'
req GET "/api/v1/tickets/$T1/events" "" "$CUS"
is "a customer sees no time entries" 200 '[.events[] | select(.type == "time_spent")] | length == 0'

at 2026-03-03T00:00:00Z
W='from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z'
req GET "/api/v1/kpis?$W" "" "$ADMIN"
# 1800 + 2700 + 3600 + 1200 = 9300 s; 0.5 h x 12000 + 0.75 h x 12000 +
# 1 h x 30000 = 45000 over 3 resolved = 15000 (150.00 CNY)
is "time spent and cost per ticket (the worked example)" 200 '.groups[0] | .time_spent_s == 9300 and .uncosted_s == 1200 and .tickets.resolved == 3 and .cost_per_ticket == {"minor":15000,"currency":"CNY"}'
req GET "/api/v1/kpis?$W&group_by=team" "" "$ADMIN"
# time by the team it was recorded for, resolved tickets by their team now:
# ticket 3's 20 min stay night's (no cost, nothing resolved there), the
# ticket is desk's: 4500 s x 12000 / 3600 = 15000 over 2 tickets
is "by team: the team the time was recorded for" 200 '[.groups[] | {team: .key.team, s: .time_spent_s, c: .cost_per_ticket, r: .tickets.resolved}] == [{"team":"desk","s":4500,"c":{"minor":7500,"currency":"CNY"},"r":2},{"team":"field","s":3600,"c":{"minor":30000,"currency":"CNY"},"r":1},{"team":"night","s":1200,"c":null,"r":0}]'
req GET "/api/v1/kpis?$W&group_by=organisation" "" "$ADMIN"
is "a withdrawn entry counts nothing" 200 '[.groups[] | select(.key.organisation == "Other")][0].time_spent_s == 0'
req GET "/api/v1/kpis?from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z" "" "$ADMIN"
is "no tickets resolved: no cost per ticket" 200 '.groups[0].cost_per_ticket == null and .groups[0].time_spent_s == 0'
req GET "/api/v1/kpis?$W" "" "$CUS"
is "a customer gets no time or cost figures" 200 '.groups[0] | has("time_spent_s") == false and has("cost_per_ticket") == false'
"$KW" kpi rebuild "${DB_ARGS[@]}" >/dev/null 2>&1
req GET "/api/v1/kpis?$W" "" "$ADMIN"
is "the figures after a kpi rebuild are the same" 200 '.groups[0] | .time_spent_s == 9300 and .cost_per_ticket.minor == 15000'

# MTTA and MTTR follow the metrics' kpi markers (docs/kpi.md): a version
# whose "ack" is the response metric, and whose "response" is not
req POST /api/v1/commitments '{"name":"T","version":"2","effective_from":"2026-03-04T00:00:00Z",
 "calendars":{"all":'"$ALL"'},"levels":["L1"],
 "metrics":[{"id":"ack","start":"created","stop":["first_response"],"kpi":"response"},
            {"id":"response","start":"created","stop":["resolved"]},
            {"id":"fix","start":"created","stop":["resolved"],"kpi":"resolution"}],
 "targets":[{"when":{"level":"L1"},"calendar":"all","ack":"1h","response":"8h","fix":"8h"}]}' "$ADMIN"
is "a version with kpi markers" 201
req POST /api/v1/commitments '{"name":"T","version":"3","effective_from":"2026-03-05T00:00:00Z",
 "calendars":{"all":'"$ALL"'},"levels":["L1"],
 "metrics":[{"id":"a","start":"created","stop":["first_response"],"kpi":"response"},
            {"id":"b","start":"created","stop":["resolved"],"kpi":"response"}],
 "targets":[{"when":{"level":"L1"},"calendar":"all","a":"1h"}]}' "$ADMIN"
is "at most one response metric" 400 '.pointer == "/metrics/1/kpi"'
at 2026-03-04T00:00:00Z
ticket "$ACME" "$DESK"
at 2026-03-04T00:10:00Z
ev "$T" '{"type":"comment","text":"on it"}'
at 2026-03-04T01:00:00Z
resolve "$T"
at 2026-03-05T00:00:00Z
req GET "/api/v1/kpis?from=2026-03-04T00:00:00Z&to=2026-03-05T00:00:00Z" "" "$ADMIN"
is "MTTA is the marked ack metric's mean, not the metric named response" 200 '.groups[0] | .mtta == 600 and .mttr == 3600 and .metrics.response.elapsed.mean == 3600 and .metrics.ack.elapsed.mean == 600'
req GET "/api/v1/kpis?$W" "" "$ADMIN"
is "without markers the ids response and resolution stand for them" 200 '.groups[0] | .mtta == .metrics.response.elapsed.mean and .mttr == .metrics.resolution.elapsed.mean and .mttr != null'
finish
