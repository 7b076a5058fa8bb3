# shellcheck shell=bash
# The scripted week that tests/http/kpi.sh and report.sh measure: five
# tickets (A to E) on a 24x7 UTC calendar, served on a fake clock, every
# figure computed by hand in those scripts. Sourced after lib.sh; sets ADMIN,
# CUS, ACME, OTHER, DESK, FIELD, ANN, TA, TB, TD, TE (C is the last one
# made, T) and the helpers at, ticket, ev, reply and move.
at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }

at 2026-02-28T09:00:00Z
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --fake-clock "$TMP/now"
req POST /api/v1/tokens '{"label":"kpi test"}' "$(login admin@localhost correct-horse)"
ADMIN=$(jq -r .token "$TMP/body")
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
req POST /api/v1/orgs '{"name":"Other"}' "$ADMIN"
OTHER=$(jq -r .id "$TMP/body")
req POST /api/v1/teams '{"name":"desk"}' "$ADMIN"
DESK=$(jq -r .id "$TMP/body")
req POST /api/v1/teams '{"name":"field"}' "$ADMIN"
FIELD=$(jq -r .id "$TMP/body")
req POST /api/v1/users "{\"email\":\"ann@x.org\",\"name\":\"Ann\",\"role\":\"agent\",\"password\":\"ann-secret\",\"team_id\":$DESK}" "$ADMIN"
ANN=$(jq -r .id "$TMP/body")
req POST /api/v1/users "{\"email\":\"cus@acme.org\",\"name\":\"Cus\",\"role\":\"customer\",\"password\":\"cus-secret\",\"org_id\":$ACME}" "$ADMIN"
is "a customer of Acme" 201
req POST /api/v1/tokens '{"label":"kpi test"}' "$(login cus@acme.org cus-secret)"
CUS=$(jq -r .token "$TMP/body")
ALL='{"tz":"UTC","week":{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}}'
req POST /api/v1/commitments '{"name":"KPI","version":"1","effective_from":"2026-01-01T00:00:00Z","on_reopen":"restart",
 "calendars":{"all":'"$ALL"'},"levels":["L1","L2"],
 "metrics":[{"id":"response","start":"created","stop":["first_response"]},
            {"id":"resolution","start":"created","stop":["resolved"],"pause_when":["waiting_customer"]}],
 "targets":[{"when":{"level":"L1"},"calendar":"all","response":"30m","resolution":"2h"},
            {"when":{"level":"L2"},"calendar":"all","response":"1h","resolution":"4h"}]}' "$ADMIN"
is "a commitment" 201

# ticket ORG LEVEL TEAM [ASSIGNEE]: created now; sets T
ticket() {
    req POST /api/v1/tickets "{\"title\":\"t\",\"level\":\"$2\",\"org_id\":$1}" "$ADMIN"
    T=$(jq -r .id "$TMP/body")
    req PATCH "/api/v1/tickets/$T" "{\"team_id\":$3${4:+,\"assignee_id\":$4}}" "$ADMIN"
}
ev() { req POST "/api/v1/tickets/$1/events" "$2" "${3:-$ADMIN}"; is "event $2 on $1" 201; }
reply() { ev "$1" '{"type":"comment","text":"on it"}'; }
move() { ev "$1" "{\"type\":\"transition\",\"to\":\"$2\"}"; }

# D: L2, desk, Ann; Saturday 10:00; replied 10:10 (before the week);
# resolved Monday 02:00: 40 h, breached Saturday 14:00 (36 h over)
at 2026-02-28T10:00:00Z
ticket "$ACME" L2 "$DESK" "$ANN"
TD=$T
at 2026-02-28T10:10:00Z
reply "$TD"
move "$TD" handling
# A: L2, desk, Ann; Monday 01:00; replied 01:30 (30 min); waiting 02:00-02:30;
# resolved 04:00 (2.5 h); rated 5, NPS 10
at 2026-03-02T01:00:00Z
ticket "$ACME" L2 "$DESK" "$ANN"
TA=$T
at 2026-03-02T01:30:00Z
reply "$TA"
move "$TA" handling
at 2026-03-02T02:00:00Z
move "$TD" feedback
move "$TA" waiting_customer
at 2026-03-02T02:30:00Z
move "$TA" handling
at 2026-03-02T04:00:00Z
move "$TA" feedback
at 2026-03-02T04:30:00Z
ev "$TA" '{"type":"rating","satisfaction":5,"nps":10}' "$CUS"
# B: L1, field; Tuesday 00:00; replied 00:45 (45 min of 30); resolved 03:00
# (3 h of 2); rated 2; reopened 05:00 (restart); resolved again 06:00 (1 h)
at 2026-03-03T00:00:00Z
ticket "$ACME" L1 "$FIELD"
TB=$T
at 2026-03-03T00:45:00Z
reply "$TB"
move "$TB" handling
at 2026-03-03T03:00:00Z
move "$TB" feedback
at 2026-03-03T03:30:00Z
ev "$TB" '{"type":"rating","satisfaction":2}' "$CUS"
at 2026-03-03T05:00:00Z
ev "$TB" '{"type":"reopen","reason":"still broken"}' "$CUS"
at 2026-03-03T06:00:00Z
move "$TB" feedback
# E: L2, field; Wednesday 00:00; raised to L1 00:10; replied 00:20 (20 min of
# 30); never resolved: breached Wednesday 02:00
at 2026-03-04T00:00:00Z
ticket "$ACME" L2 "$FIELD"
TE=$T
at 2026-03-04T00:10:00Z
req PATCH "/api/v1/tickets/$TE" '{"level":"L1"}' "$ADMIN"
at 2026-03-04T00:20:00Z
reply "$TE"
# C: L2, desk, Other; Sunday 20:00; no reply: breached 21:00; resolution
# breaches Monday 00:00, the end of the week (so in the next one)
at 2026-03-08T20:00:00Z
ticket "$OTHER" L2 "$DESK"
at 2026-03-09T06:00:00Z

