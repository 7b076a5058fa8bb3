#!/usr/bin/env bash
# The dashboard's API over HTTP against `keepword serve --demo` on a fixed
# clock: GET /api/v1/kpis/tickets gives, for every figure of every cell of
# GET /api/v1/kpis, exactly the runs, tickets or ratings it counts; a
# customer's figures are their organisation's cell of the staff's, with no
# agent and no other organisation anywhere; bad input is problem+json; the
# charting library is served from the binary.
# usage: tests/http/dash.sh PATH/TO/keepword
set -u
KW=${1:?usage: dash.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
echo 2026-03-04T07:00:00Z >"$TMP/now"
serve_start --demo --fake-clock "$TMP/now"
STAFF=$(login manager@keepword.demo keepword-demo)
CUS=$(login it@huaxin.demo keepword-demo)
[ -n "$STAFF" ] && [ "$STAFF" != null ] && [ -n "$CUS" ] && [ "$CUS" != null ]
check "the demo's manager and a customer log in" $?
P="from=2026-02-02T00:00:00%2B08:00&to=2026-03-05T00:00:00%2B08:00&tz=Asia/Shanghai"

# --- the charting library, from the binary ---
curl -s -D "$TMP/h" -o "$TMP/echarts.js" "$B/assets/echarts.min.js"
grep -qi '^content-type: text/javascript' "$TMP/h" && grep -qi '^cache-control: public, max-age=86400' "$TMP/h" && grep -q 'echarts' "$TMP/echarts.js" &&
    [ "$(stat -c %s "$TMP/echarts.js")" -gt 500000 ]
check "/assets/echarts.min.js is Apache ECharts, served by the binary" $?
want=$(jq -r '.packages["node_modules/echarts"].version' "$(dirname "$0")/../../web/package-lock.json")
grep -q "version=\"$want\"\|\"$want\"" "$TMP/echarts.js"
check "it is the version of web/package-lock.json ($want)" $?

# drill TOKEN QUERY: GET /kpis/tickets?P&QUERY into $TMP/body
drill() { req GET "/api/v1/kpis/tickets?$P&$2" "" "$1"; }

# every figure of every group (FIGURE JQ-EXPRESSION over a group), by DIM
FIGS=(
    "runs|[.metrics[] | .met + .met_late + .breached_open] | add"
    "met|[.metrics[].met] | add"
    "met_late|[.metrics[].met_late] | add"
    "breached_open|[.metrics[].breached_open] | add"
    "breaches|[.metrics[] | .met_late + .breached_open] | add"
    "stopped|[.metrics[] | .met + .met_late] | add"
    "created|.tickets.created"
    "resolved|.tickets.resolved"
    "reopened|.tickets.reopened"
    "backlog|.tickets.backlog.total"
    "rated|.csat.count"
    "nps|.nps.count"
)
# consistent TOKEN DIM [WEEK]: each figure of each group of GET /kpis
# grouped by DIM (in the ISO week WEEK, e.g. 2026-W09) equals the count GET
# /kpis/tickets gives for its cell
consistent() {
    local tok=$1 dim=$2 extra="" n i g key val f expr want bad=0 seen=0
    if [ -n "${3:-}" ]; then
        extra="&bucket=week&at=$3"
        req GET "/api/v1/kpis?$P&group_by=$dim&bucket=week" "" "$tok"
        jq --arg w "$3" '.groups |= map(select(.bucket == $w))' "$TMP/body" >"$TMP/groups.json"
    else
        req GET "/api/v1/kpis?$P&group_by=$dim" "" "$tok"
        cp "$TMP/body" "$TMP/groups.json"
    fi
    n=$(jq '.groups | length' "$TMP/groups.json")
    for ((i = 0; i < n; i++)); do
        g=$(jq -c ".groups[$i]" "$TMP/groups.json")
        val=$(jq -r ".key.$dim // \"\"" <<<"$g")
        key="$dim=$(jq -rn --arg v "$val" '$v | @uri')"
        for f in "${FIGS[@]}"; do
            # QUICK: the run, ticket and rating figures one each (sanitizer builds are slow)
            [ -n "$QUICK" ] && [[ ! "$f" =~ ^(breaches|backlog|rated)\| ]] && continue
            expr=${f#*|}
            want=$(jq "$expr // 0" <<<"$g")
            drill "$tok" "figure=${f%%|*}&$key$extra"
            if [ "$CODE" != 200 ] || [ "$(jq .count "$TMP/body")" != "$want" ]; then
                bad=$((bad + 1))
                echo "  $dim=$val ${f%%|*}: /kpis says $want, /kpis/tickets $(head -c 300 "$TMP/body")"
            fi
            seen=$((seen + want))
        done
        for f in mtta:response mttr:resolution; do
            # MTTA/MTTR: the mean elapsed of the runs behind them
            drill "$tok" "figure=${f%%:*}&$key$extra"
            [ "$(jq ".count > 0" "$TMP/body")" = "$(jq ".${f%%:*} != null" <<<"$g")" ] || {
                bad=$((bad + 1))
                echo "  $dim=$val ${f%%:*}: $(jq ".${f%%:*}" <<<"$g") but $(jq .count "$TMP/body") runs"
            }
        done
    done
    [ "$bad" -eq 0 ] && [ "$n" -gt 0 ] && [ "$seen" -gt 0 ]
}
QUICK=
for dim in level assignee organisation; do
    consistent "$STAFF" "$dim"
    check "staff: every figure by $dim drills down to exactly what it counts" $?
done
QUICK=1
for dim in team category channel region; do
    consistent "$STAFF" "$dim"
    check "staff: breaches, backlog and ratings by $dim drill down to exactly what they count" $?
done
QUICK=
consistent "$STAFF" level 2026-W09
check "staff: a week's cell (bucket=week&at=2026-W09) too" $?

# the drill-down's tickets are those its runs name, each once, by id
drill "$STAFF" "figure=breaches"
is "the breaches of the period" 200 '.count > 0 and (.runs | all(.class == "met_late" or .class == "breached_open"))
    and ([.runs[].ticket_id] | unique) == [.tickets[].id] and .ticket_count == (.tickets | length)'
drill "$STAFF" "figure=created&limit=2"
is "limit keeps the first tickets and says so" 200 '(.tickets | length) == 2 and .truncated and .count > 2'
drill "$STAFF" "figure=met&level="
is "an empty value is a cell with the dimension not set" 200 '.cell == {"level": null} and .count == 0'

# --- what a customer sees: their organisation's cell, nothing else ---
req GET /api/v1/me "" "$CUS"
ORG=$(jq -r .org_id "$TMP/body")
req GET "/api/v1/orgs/$ORG" "" "$STAFF"
ORGNAME=$(jq -r .name "$TMP/body")
req GET "/api/v1/kpis?$P&group_by=organisation" "" "$CUS"
is "a customer's figures by organisation are one group: theirs" 200 \
    "(.groups | length) == 1 and .groups[0].key.organisation == \"$ORGNAME\" and (.groups[0] | has(\"time_spent_s\") | not)"
jq -S '.groups[0] | del(.key)' "$TMP/body" >"$TMP/cus.json"
req GET "/api/v1/kpis?$P&group_by=organisation" "" "$STAFF"
jq -S --arg o "$ORGNAME" '.groups[] | select(.key.organisation == $o) | del(.key, .time_spent_s, .uncosted_s, .cost_per_ticket)' "$TMP/body" >"$TMP/staff.json"
cmp -s "$TMP/cus.json" "$TMP/staff.json"
check "they equal the staff's figures of that organisation" $? "($(diff "$TMP/cus.json" "$TMP/staff.json" | head -5))"
consistent "$CUS" level
check "customer: every figure by level drills down to exactly what it counts" $?
for f in runs breaches created backlog rated; do
    drill "$CUS" "figure=$f"
    jq -e --arg o "$ORGNAME" 'all(.tickets[]; .organisation == $o)' "$TMP/body" >/dev/null
    c=$?
    cus=$(jq .count "$TMP/body")
    drill "$STAFF" "figure=$f&organisation=$(jq -rn --arg v "$ORGNAME" '$v | @uri')"
    [ $c -eq 0 ] && [ "$(jq .count "$TMP/body")" = "$cus" ]
    check "customer: $f drills down to their organisation's tickets only ($cus)" $?
done
req GET "/api/v1/kpis/tickets?$P&figure=created&organisation=%E4%B8%9C%E6%96%B9%E9%9B%B6%E5%94%AE%E9%9B%86%E5%9B%A2" "" "$CUS"
is "customer: another organisation's cell is empty" 200 '.count == 0 and .tickets == []'
req GET "/api/v1/kpis/tickets?$P&figure=runs&assignee=Tom%20Becker" "" "$CUS"
is "customer: no agent's cell" 403 '.pointer == "/assignee" or .field == "/assignee" or (.detail | test("assignee"))'
req GET "/api/v1/kpis?$P&group_by=assignee" "" "$CUS"
is "customer: no figures by agent" 403
drill "$CUS" "figure=runs"
is "customer: no assignee in any field" 200 '[.. | objects | has("assignee")] | any | not'

# --- bad input ---
drill "$STAFF" ""
is "figure is required" 400 '.detail | test("figure: missing")'
drill "$STAFF" "figure=speed"
is "an unknown figure is named" 400 '.detail | test("\"speed\" is not a figure")'
drill "$STAFF" "figure=runs&bucket=week"
is "a bucket needs at" 400 '.detail | test("at: missing")'
drill "$STAFF" "figure=runs&bucket=week&at=2025-W01"
is "at must be a bucket of the period" 400 '.detail | test("not a bucket of the period")'
drill "$STAFF" "figure=runs&at=2026-W09"
is "at needs a bucket" 400 '.detail | test("give bucket")'
drill "$STAFF" "figure=runs&limit=0"
is "limit is 1-1000" 400
req GET "/api/v1/kpis/tickets?figure=runs" "" "$STAFF"
is "from is required" 400 '.detail | test("from: missing")'
req GET "/api/v1/kpis/tickets?$P&figure=runs&shoe=1" "" "$STAFF"
is "an unknown parameter is refused" 400
req GET "/api/v1/kpis/tickets?$P&figure=runs"
is "no credentials: 401" 401

serve_stop
finish
