#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# intake_events.sh - alert events per second through POST /api/v1/intake/events
# with dedup (docs/channels.md), measured with kwload on 127.0.0.1.
#
# A fresh database (`keepword serve --demo`), one events source with the
# largest rate limit (60,000 a minute, as a burst), then INTAKE_SECONDS
# (default 5) of triggers from 16 clients over INTAKE_KEYS dedup keys
# (default 100): the first of each key opens a ticket, every other is a
# repeat noted on it. Prints events/s, p50/p99 and the ratio to the target
# (>= 5,000/s at 16 clients), and the server's CPU time per event (from
# /proc/PID/stat, independent of the load); asserts nothing about speed.
# usage: bench/intake_events.sh PATH/TO/keepword PATH/TO/kwload
set -euo pipefail

kw=${1:?usage: intake_events.sh PATH/TO/keepword PATH/TO/kwload}
load=${2:?usage: intake_events.sh PATH/TO/keepword PATH/TO/kwload}
secs=${INTAKE_SECONDS:-5}
keys=${INTAKE_KEYS:-100}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=bench-password "$kw" init --db "$tmp/kw.db" >/dev/null
bench_serve "$kw" "$tmp/kw.db" "$tmp/log" --demo
b=http://127.0.0.1:$port
token=$(curl -s -X POST "$b/api/v1/auth/login" -H "Content-Type: application/json" -d '{"email":"manager@keepword.demo","password":"keepword-demo"}' | jq -r .token)
org=$(curl -s "$b/api/v1/orgs" -H "Authorization: Bearer $token" | jq -r '.orgs[0].id')
key=$(curl -s -X POST "$b/api/v1/intake/sources" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"name":"bench","kind":"events","org_id":'"$org"',"level":"L3","category":"technical","per_minute":60000}' | jq -r .key)
if [ -z "$key" ] || [ "$key" = null ]; then
    echo "intake_events: no source made" >&2
    exit 1
fi

# the server's CPU time (utime + stime, clock ticks) over the run: per event
# it does not depend on the machine's load, unlike events/s
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
c0=$(cpu)
r=$("$load" --port "$port" --token "$key" --mode events --clients 16 --duration "$secs" --events "$keys")
c1=$(cpu)
rps=$(jq -r .rps <<<"$r")
printf 'intake: events/s at 16 clients over %s dedup keys %8s/s   p50 %s ms  p99 %s ms  (%s ok, %s other)   (target >= 5000/s: ratio %s)\n' \
    "$keys" "$rps" "$(jq -r .p50_ms <<<"$r")" "$(jq -r .p99_ms <<<"$r")" "$(jq -r .ok <<<"$r")" \
    "$(jq -r .status_other <<<"$r")" "$(awk -v a="$rps" 'BEGIN { printf "%.2f", a / 5000 }')"
printf 'intake: server CPU per event %s us (%s ticks of %s/s over %s events; load average %s)\n' \
    "$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$(jq -r .ok <<<"$r")" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')" \
    $((c1 - c0)) "$(getconf CLK_TCK)" "$(jq -r .ok <<<"$r")" "$(cut -d' ' -f1 /proc/loadavg)"
tickets=$(curl -s "$b/api/v1/tickets?limit=500" -H "Authorization: Bearer $token" | jq '[.tickets[] | select(.channel == "monitoring")] | length')
printf 'intake: tickets opened: %s (one per dedup key)\n' "$tickets"
