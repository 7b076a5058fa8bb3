#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kpi.sh - the KPI benchmark: builds a desk of KPI_TICKETS tickets (default
# 20,000; the issue's target is 1,000,000) with three metrics over 2025
# (bench_kpi, which also prints what keeping the facts costs a create), then
# waits for the server to load the clock runs into memory (how long, how
# many bytes, the server's RSS), times over HTTP a month's KPIs grouped by
# level and team (targets: p99 <= 100 ms at 1,000,000 tickets), a year by
# month (<= 300 ms), the month's
# breaches (with the HTTP workers' CPU per GET, the figure to compare on a
# loaded machine), and `keepword kpi rebuild` (<= 60 s). Prints numbers; asserts
# nothing about speed.
# KPI_DB=PATH uses a desk bench_kpi built before (`bench_kpi PATH 1000000`)
# instead of building one, with its timers cleared (nothing fires).
# KPI_REBUILD=0 leaves out the rebuild (comparing two builds' GETs).
# usage: bench/kpi.sh PATH/TO/keepword PATH/TO/bench_kpi
set -euo pipefail
kw=${1:?usage: kpi.sh PATH/TO/keepword PATH/TO/bench_kpi}
gen=${2:?usage: kpi.sh PATH/TO/keepword PATH/TO/bench_kpi}
n=${KPI_TICKETS:-20000}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ -n "${KPI_DB:-}" ]; then
    # a desk bench_kpi built and closed before (KPI_DB=PATH): copied, not built again
    cp "$KPI_DB" "$tmp/kw.db"
    # a desk initialised before has its keys beside it: they go with it
    for k in log-key mail-key; do
        [ ! -e "$KPI_DB.$k" ] || cp "$KPI_DB.$k" "$tmp/kw.db.$k"
    done
    n=$(sqlite3 "$tmp/kw.db" 'SELECT count(*) FROM tickets')
    # its timers have long been due: on 1,000,000 tickets the engine would
    # fire a year of them for ~35 min, during the timing and changing the
    # answers between runs; the figures are of the reads, on a still desk
    sqlite3 "$tmp/kw.db" 'UPDATE tickets SET fire_at = NULL WHERE fire_at IS NOT NULL'
else
    "$gen" "$tmp/kw.db" "$n"
fi
# (a KPI_DB desk initialised before, with this password, is used as it is)
KEEPWORD_ADMIN_PASSWORD=bench-password "$kw" init --db "$tmp/kw.db" >/dev/null 2>"$tmp/init.err" ||
    grep -q 'already has an admin account' "$tmp/init.err" || { cat "$tmp/init.err" >&2; exit 1; }
echo 2026-01-01T00:00:00Z >"$tmp/now"
"$kw" serve --db "$tmp/kw.db" --listen 127.0.0.1:0 --fake-clock "$tmp/now" 2>"$tmp/log" &
pid=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*serving http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "kpi.sh: the server did not start" >&2; cat "$tmp/log" >&2; exit 1; }
base=http://127.0.0.1:$port
# the engine first fires what fell due over the generated year: wait until
# the log has been still for 2 s (at most 5 min), so it is not timed too
last=-1
for _ in $(seq 1 300); do
    size=$(wc -c <"$tmp/log")
    [ "$size" = "$last" ] && break
    last=$size
    sleep 2
done
# the clock runs kept in memory (app/kpi_cache.c) are loaded in the
# background at start: wait for them (at most 10 min), print their size and
# the server's resident memory then, so the load is not timed with a GET
for _ in $(seq 1 600); do
    grep -q 'event=kpi\.cache\.' "$tmp/log" && break
    sleep 1
done
sed -n 's/.*event=kpi\.cache\.\([a-z]*\) */kpi.sh: runs in memory \1: /p' "$tmp/log"
# (RssAnon: the heap, without the database file's pages SQLite maps)
echo "kpi.sh:   server RSS $(awk '/VmRSS/ {print $2, $3}' /proc/"$pid"/status), of which anonymous $(awk '/RssAnon/ {print $2, $3}' /proc/"$pid"/status), load $(cut -d' ' -f1 /proc/loadavg)"
token=$(curl -s -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"admin@localhost","password":"bench-password"}' | jq -r .token)

# worker_cpu: the CPU seconds (user + system, in clock ticks) the server's
# HTTP worker threads have used, the engine's left out: on a loaded machine
# the figure to compare, wall time being mostly waiting for a core
worker_cpu() {
    local t sum=0
    for t in /proc/"$pid"/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = MHD-worker ] || continue
        sum=$((sum + $(awk '{print $14 + $15}' "$t/stat")))
    done
    echo "$sum"
}

# proc_cpu: the whole server's CPU ticks, threads that have ended included
# (GET /kpis starts a second reader for a period's many runs, and its time
# is the process's once it has ended, in no MHD-worker's)
proc_cpu() { awk '{print $14 + $15}' /proc/"$pid"/stat; }

# time_get NAME RUNS QUERY: milliseconds of each GET, then p50, p99 (nearest
# rank) and the largest, and the workers' mean CPU per GET
time_get() {
    local name=$1 runs=$2 query=$3 ms=() cpu0 pcpu0
    cpu0=$(worker_cpu)
    pcpu0=$(proc_cpu)
    for _ in $(seq 1 "$runs"); do
        ms+=("$(curl -s -o "$tmp/body" -w '%{time_total}' -H "Authorization: Bearer $token" \
            "$base$query" | awk '{printf "%.1f", $1 * 1000}')")
    done
    jq -e '.groups or .breaches' "$tmp/body" >/dev/null || { echo "kpi.sh: $name: $(head -c 300 "$tmp/body")" >&2; exit 1; }
    printf '%s\n' "${ms[@]}" | sort -n | awk -v name="$name" -v n="$runs" '
        { v[NR] = $1 }
        END { p50 = v[int((n + 1) / 2)]; p99 = v[int(n * 0.99 + 0.99)];
              printf "kpi.sh: %s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d runs)\n", name, p50, p99, v[n], n }'
    awk -v t="$(($(worker_cpu) - cpu0))" -v p="$(($(proc_cpu) - pcpu0))" -v hz="$(getconf CLK_TCK)" -v n="$runs" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
        'BEGIN { printf "kpi.sh:   worker CPU %.2f s per GET, process CPU %.2f s (load %s)\n", t / hz / n, p / hz / n, load }'
}
month='from=2025-06-01T00:00:00%2B08:00&to=2025-07-01T00:00:00%2B08:00&tz=Asia/Shanghai'
time_get "a month by level and team" 20 "/api/v1/kpis?$month&group_by=level,team"
jq -r '"kpi.sh:   \(.groups | length) groups; L1 response on time \([.groups[] | select(.key.level == "L1") | .metrics.response.on_time_rate] | join(", ")) %"' "$tmp/body"
time_get "a year by month" 5 "/api/v1/kpis?from=2025-01-01T00:00:00%2B08:00&to=2026-01-01T00:00:00%2B08:00&tz=Asia/Shanghai&bucket=month"
time_get "a month's breaches (first 500)" 5 "/api/v1/kpis/breaches?$month"
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
[ "${KPI_REBUILD:-1}" != 0 ] || exit 0
t0=$(date +%s%N)
"$kw" kpi rebuild --db "$tmp/kw.db" --at 2026-01-01T00:00:00Z
t1=$(date +%s%N)
echo "kpi.sh: kpi rebuild of $n tickets: $(((t1 - t0) / 1000000)) ms"
