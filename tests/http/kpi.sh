#!/usr/bin/env bash
# KPIs over HTTP on a fake clock (docs/kpi.md): a scripted week of five
# tickets on a 24x7 UTC calendar, every figure computed by hand below;
# grouping, buckets in a time zone, the breaches behind the figures, what a
# customer sees, bad input, and `keepword kpi rebuild` giving the same.
# usage: tests/http/kpi.sh PATH/TO/keepword
set -u
KW=${1:?usage: kpi.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kpi_week.sh"
WEEK='from=2026-03-02T00:00:00Z&to=2026-03-09T00:00:00Z'
req GET "/api/v1/kpis?$WEEK" "" "$ADMIN"
is "one group for the week" 200 '.from == "2026-03-02T00:00:00Z" and .tz == "UTC" and .bucket == null
    and (.groups | length) == 1 and .groups[0].key == {} and .groups[0].bucket == null
    and .metrics == ["response","resolution"]'
cp "$TMP/body" "$TMP/week.json"
# response: A met 1800, B met_late 2700 (900 over), E met 1200, C breached
# open 3 h; D stopped before the week
is "response: met, late, open, rate" 200 '.groups[0].metrics.response |
    .met == 2 and .met_late == 1 and .breached_open == 1 and .on_time_rate == 50'
is "response elapsed and wall: mean, median, p90" 200 '.groups[0].metrics.response |
    .elapsed == {"mean":1900,"median":1800,"p90":2700} and .wall == {"mean":1900,"median":1800,"p90":2700}'
is "response SRI: 50, 66.7, 150" 200 '.groups[0].metrics.response.sri == {"mean":88.9,"median":66.7,"p90":150}'
is "response overrun: B 15 min, C 3 h to the end" 200 '.groups[0].metrics.response.overrun ==
    {"count":2,"mean_wall":5850,"mean_working":5850}'
# resolution: D met_late 40 h (36 h over), A met 2.5 h (paused 30 min), B run
# 0 met_late 3 h (1 h over), B run 1 met 1 h, E breached open (118 h over)
is "resolution: two runs of B (restart), rate" 200 '.groups[0].metrics.resolution |
    .met == 2 and .met_late == 2 and .breached_open == 1 and .on_time_rate == 40'
is "resolution elapsed: median of an even count" 200 '.groups[0].metrics.resolution |
    .elapsed == {"mean":41850,"median":9900,"p90":144000} and .wall == .elapsed'
is "resolution SRI" 200 '.groups[0].metrics.resolution.sri == {"mean":315.6,"median":106.3,"p90":1000}'
is "resolution overrun" 200 '.groups[0].metrics.resolution.overrun == {"count":3,"mean_wall":186000,"mean_working":186000}'
is "tickets: created, resolved, reopened, backlog by age" 200 '.groups[0].tickets ==
    {"created":4,"resolved":3,"reopened":1,"backlog":{"total":2,"under_1d":1,"1d_to_3d":0,"3d_to_7d":1,"over_7d":0}}'
is "CSAT and NPS" 200 '.groups[0].csat == {"count":2,"mean":3.5,"satisfied_pct":50} and .groups[0].nps == {"count":1,"score":100}'

req GET "/api/v1/kpis?$WEEK&group_by=level&metric=resolution" "" "$ADMIN"
is "by level at the stop (E was raised to L1)" 200 '.metrics == ["resolution"] and (.groups | length) == 2
    and (.groups[0] | .key == {"level":"L1"} and .metrics.resolution.on_time_rate == 33.3
         and .metrics.resolution.met_late == 1 and .metrics.resolution.breached_open == 1 and (.metrics | keys) == ["resolution"])
    and (.groups[1] | .key == {"level":"L2"} and .metrics.resolution.on_time_rate == 50)'
req GET "/api/v1/kpis?$WEEK&group_by=team,level&metric=response" "" "$ADMIN"
is "by team and level" 200 '[.groups[] | {k: "\(.key.team)/\(.key.level)", r: .metrics.response.on_time_rate}] ==
    [{"k":"desk/L2","r":50},{"k":"field/L1","r":50}]'
req GET "/api/v1/kpis?$WEEK&group_by=assignee&metric=response" "" "$ADMIN"
is "by assignee: Ann, and nobody" 200 '[.groups[] | .key.assignee] == [null, "Ann"]
    and (.groups[1].metrics.response | .met == 1 and .breached_open == 0)'
req GET "/api/v1/kpis?$WEEK&bucket=day&metric=response" "" "$ADMIN"
is "days in UTC: all seven, empty ones null" 200 '(.groups | length) == 7 and .groups[0].bucket == "2026-03-02"
    and .groups[1].metrics.response.on_time_rate == 0 and .groups[3].metrics.response.on_time_rate == null
    and .groups[6].metrics.response.breached_open == 1'
req GET "/api/v1/kpis?$WEEK&bucket=week&tz=Asia/Shanghai&metric=response" "" "$ADMIN"
is "ISO weeks in Shanghai: C breached in week 11 there, 3 h over by the end" 200 '.tz == "Asia/Shanghai"
    and [.groups[] | .bucket] == ["2026-W10","2026-W11"]
    and .groups[0].metrics.response.on_time_rate == 66.7
    and (.groups[1].metrics.response | .breached_open == 1 and .overrun.mean_wall == 10800)'
req GET "/api/v1/kpis?from=2026-03-09T00:00:00Z&to=2026-03-16T00:00:00Z" "" "$ADMIN"
is "the week not over: no response runs is null, not 100; C's resolution 6 h over by now" 200 '
    .groups[0].metrics.response.on_time_rate == null and .groups[0].metrics.response.elapsed.mean == null
    and (.groups[0].metrics.resolution | .breached_open == 1 and .overrun.mean_wall == 21600 and .on_time_rate == 0)
    and .groups[0].csat.mean == null and .groups[0].nps.score == null'
req GET "/api/v1/kpis?from=2026-02-28T00:00:00Z&to=2026-03-01T00:00:00Z" "" "$ADMIN"
is "Saturday: D breached and stopped only on Monday: open then, 10 h over at midnight" 200 '
    (.groups[0].metrics.resolution | .breached_open == 1 and .met_late == 0 and .elapsed.mean == null
        and .overrun == {"count":1,"mean_wall":36000,"mean_working":36000})
    and (.groups[0].metrics.response | .met == 1 and .elapsed.mean == 600)'
req GET "/api/v1/kpis?from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z" "" "$ADMIN"
is "no runs at all" 200 '.groups[0].metrics.resolution.on_time_rate == null and .groups[0].tickets.created == 0'

# --- the breaches behind the figures ---
req GET "/api/v1/kpis/breaches?$WEEK" "" "$ADMIN"
is "five breaches with their overruns" 200 '(.breaches | length) == 5 and .truncated == false
    and ([.breaches[] | select(.class == "met_late")] | length) == 3
    and (.breaches[] | select(.ticket_id == '"$TE"' and .metric == "resolution") |
         .class == "breached_open" and .overrun.wall == 424800 and .level == "L1" and .team == "field")
    and (.breaches[] | select(.ticket_id == '"$TD"' and .metric == "resolution") |
         .class == "met_late" and .overrun.wall == 129600 and .assignee == "Ann" and .record.state == "open")'

# --- a customer: their organisation only, never per agent ---
req GET "/api/v1/kpis?$WEEK&metric=response" "" "$CUS"
is "a customer sees Acme only (no C)" 200 '.groups[0].metrics.response |
    .met == 2 and .met_late == 1 and .breached_open == 0 and .on_time_rate == 66.7'
req GET "/api/v1/kpis?$WEEK&group_by=team,assignee" "" "$CUS"
is "a customer cannot group by agent" 403 '.pointer == "/group_by" and .parameter == "group_by"'
req GET "/api/v1/kpis/breaches?$WEEK" "" "$CUS"
is "a customer's breaches: Acme's, without the assignee" 200 '(.breaches | length) == 4
    and all(.breaches[]; has("assignee") | not) and all(.breaches[]; .record == null or (.record | has("followup") | not))'
req GET "/api/v1/kpis?$WEEK"
is "no token" 401

# --- bad input ---
bad() { # NAME QUERY POINTER
    req GET "/api/v1/kpis?$2" "" "$ADMIN"
    is "$1" 400 ".pointer == \"$3\" and .parameter == \"${3#/}\""
}
bad "from is required" "to=2026-03-09T00:00:00Z" /from
bad "from must be an instant" "from=monday&to=2026-03-09T00:00:00Z" /from
bad "to after from" "from=2026-03-09T00:00:00Z&to=2026-03-09T00:00:00Z" /to
bad "a year at most" "from=2025-01-01T00:00:00Z&to=2026-03-09T00:00:00Z" /to
bad "unknown metric" "$WEEK&metric=response,speed" /metric
bad "unknown dimension" "$WEEK&group_by=level,colour" /group_by
bad "a dimension twice" "$WEEK&group_by=level,level" /group_by
bad "unknown bucket" "$WEEK&bucket=fortnight" /bucket
bad "unknown zone" "$WEEK&tz=Mars/Olympus" /tz
req GET "/api/v1/kpis?$WEEK&colour=red" "" "$ADMIN"
is "a parameter the route does not take" 400 '.parameter == "colour"'

# --- rebuilt from the events: the same figures ---
"$KW" kpi rebuild --db "$DB" --at 2026-03-09T06:00:00Z >"$TMP/rebuild.out" 2>&1
check "kpi rebuild" $? "$(cat "$TMP/rebuild.out")"
grep -q "KPI facts rebuilt: 5 tickets, 11 runs" "$TMP/rebuild.out"
check "kpi rebuild counts tickets and runs" $? "$(cat "$TMP/rebuild.out")"
req GET "/api/v1/kpis?$WEEK" "" "$ADMIN"
jq -S . "$TMP/body" >"$TMP/a.json"
jq -S . "$TMP/week.json" >"$TMP/b.json"
cmp -s "$TMP/a.json" "$TMP/b.json"
check "the week's figures after a rebuild are the same" $? "$(diff "$TMP/a.json" "$TMP/b.json" | head -20)"

# --- the runs in memory follow writes: write, GET, write, GET is a fresh server's answer ---
NEXT='from=2026-03-09T00:00:00Z&to=2026-03-16T00:00:00Z&group_by=level,team&bucket=day'
req GET "/api/v1/kpis?$NEXT" "" "$ADMIN"
is "the next week before F" 200 '(.groups | length) > 0'
cp "$TMP/body" "$TMP/next0.json"
at 2026-03-10T08:00:00Z
ticket "$OTHER" L1 "$FIELD"
TF=$T
at 2026-03-10T09:00:00Z
req GET "/api/v1/kpis?$NEXT" "" "$ADMIN"
is "F open and breached (30 min): a new group" 200 '[.groups[] | select(.key.team == "field" and .bucket == "2026-03-10")
    | .metrics.response.breached_open] == [1]'
at 2026-03-10T10:00:00Z
reply "$TF"
move "$TF" handling
move "$TF" feedback
at 2026-03-10T11:00:00Z
req GET "/api/v1/kpis?$NEXT" "" "$ADMIN"
is "F replied and resolved late: met_late, not open" 200 '[.groups[] | select(.key.team == "field" and .bucket == "2026-03-10")
    | .metrics.response | [.met_late, .breached_open]] == [[1, 0]]'
# the dated facts kept in memory follow too: time spent, a reopening, a
# rating (of G, created, resolved and rated at once)
at 2026-03-10T11:30:00Z
ev "$TF" '{"type":"comment","text":"more","time_spent":{"minutes":45}}'
ev "$TF" '{"type":"reopen","reason":"not yet"}'
ticket "$ACME" L1 "$FIELD"
TG=$T
reply "$TG"
move "$TG" handling
move "$TG" feedback
ev "$TG" '{"type":"rating","satisfaction":4,"nps":8}' "$CUS"
at 2026-03-10T12:00:00Z
req GET "/api/v1/kpis?$NEXT" "" "$ADMIN"
is "F's time and reopening, G's rating counted at once" 200 '([.groups[] | select(.key.team == "field" and .bucket == "2026-03-10")
    | [.time_spent_s, .tickets.reopened]] == [[2700, 1]]) and ([.groups[] | select(.bucket == "2026-03-10")
    | .csat.count] | add) == 1'
jq -S . "$TMP/body" >"$TMP/kept.json"
serve_stop
serve_start --fake-clock "$TMP/now"
req GET "/api/v1/kpis?$NEXT" "" "$ADMIN"
jq -S . "$TMP/body" >"$TMP/fresh.json"
cmp -s "$TMP/kept.json" "$TMP/fresh.json"
check "the figures kept current in memory are a fresh server's" $? "$(diff "$TMP/kept.json" "$TMP/fresh.json" | head -20)"

# --- the runs read by two threads (app/kpi_cache.c, from one record on):
# the same answers byte for byte ---
SPLIT_Q=("/api/v1/kpis?$NEXT" "/api/v1/kpis?$WEEK" "/api/v1/kpis?$WEEK&group_by=level,team&bucket=day"
    "/api/v1/kpis?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z&bucket=month&tz=Asia/Shanghai")
for i in "${!SPLIT_Q[@]}"; do
    req GET "${SPLIT_Q[$i]}" "" "$ADMIN"
    cp "$TMP/body" "$TMP/one$i.json"
done
serve_stop
KEEPWORD_KPI_SPLIT_MIN=1 serve_start --fake-clock "$TMP/now"
for i in "${!SPLIT_Q[@]}"; do
    req GET "${SPLIT_Q[$i]}" "" "$ADMIN"
    cmp -s "$TMP/one$i.json" "$TMP/body"
    check "two readers give one reader's answer ($i)" $? "$(diff "$TMP/one$i.json" "$TMP/body" | head -5)"
done

serve_stop
finish
