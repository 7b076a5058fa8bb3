#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kpi_answers.sh - GET /kpis answers of one binary on a desk, saved to
# compare byte for byte with another binary's (the figures may not change):
# a month by level and team, a year by month, a week by assignee, a month
# of days in UTC by category, region and channel, a customer's month by
# level and week (the customer cus@acme.org of organisation 1 is made on the
# first run), a customer's forbidden grouping and the month's breaches;
# each line gives the GET's wall time, the server's CPU ticks and RSS.
# usage: bench/kpi_answers.sh KEEPWORD DESK OUTDIR (DESK: a copy of a
# bench_kpi desk initialised with `KEEPWORD_ADMIN_PASSWORD=bench-password
# keepword init` and its timers cleared, as bench/kpi.sh does; it is written
# to), then `cmp OUT1/NAME.json OUT2/NAME.json`
set -euo pipefail
kw=$1 db=$2 out=$3
mkdir -p "$out"
echo 2026-01-01T00:00:00Z >"$out/now"
"$kw" serve --db "$db" --listen 127.0.0.1:0 --fake-clock "$out/now" 2>"$out/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
port=
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*serving http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$out/log")
    [ -n "$port" ] && break
    sleep 0.1
done
base=http://127.0.0.1:$port
tok=$(curl -s -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"admin@localhost","password":"bench-password"}' | jq -r .token)
curl -s -o /dev/null -X POST "$base/api/v1/users" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
    -d '{"email":"cus@acme.org","name":"Cus","role":"customer","password":"cus-secret-1","org_id":1}' || true
ctok=$(curl -s -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"cus@acme.org","password":"cus-secret-1"}' | jq -r .token)
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
get() { # name token query
    local c0 t
    c0=$(cpu)
    t=$(curl -s -o "$out/$1.json" -w '%{time_total}' -H "Authorization: Bearer $2" "$base$3")
    echo "$1: wall ${t}s, process CPU $(( $(cpu) - c0 )) ticks, RSS $(grep VmRSS /proc/$pid/status | awk '{print $2}') kB, load $(cut -d' ' -f1 /proc/loadavg)"
}
M='from=2025-06-01T00:00:00%2B08:00&to=2025-07-01T00:00:00%2B08:00&tz=Asia/Shanghai'
Y='from=2025-01-01T00:00:00%2B08:00&to=2026-01-01T00:00:00%2B08:00&tz=Asia/Shanghai'
echo "RSS at start $(grep VmRSS /proc/$pid/status | awk '{print $2}') kB"
get month "$tok" "/api/v1/kpis?$M&group_by=level,team"
get month2 "$tok" "/api/v1/kpis?$M&group_by=level,team"
get year "$tok" "/api/v1/kpis?$Y&bucket=month"
get week_assignee "$tok" "/api/v1/kpis?from=2025-03-03T00:00:00%2B08:00&to=2025-03-10T00:00:00%2B08:00&tz=Asia/Shanghai&group_by=assignee"
get days_utc "$tok" "/api/v1/kpis?from=2025-11-01T00:00:00Z&to=2025-12-01T00:00:00Z&bucket=day&metric=response&group_by=category,region,channel"
get customer "$ctok" "/api/v1/kpis?$M&group_by=level&bucket=week"
get customer_err "$ctok" "/api/v1/kpis?$M&group_by=assignee"
get breaches "$tok" "/api/v1/kpis/breaches?$M"
