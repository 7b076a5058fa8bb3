#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# report.sh - the service report benchmark: builds a desk of REPORT_TICKETS
# tickets (default 20,000; the issue's target is 1,000,000) with three
# metrics over 2025 (bench_kpi), then times `keepword report monthly` for
# June 2025 in Asia/Shanghai as PDF (target <= 2 s at 1,000,000 tickets),
# XLSX, CSV and HTML, and the weekly PDF, each the best and the worst of
# RUNS (default 3), wall and CPU (user + system, /usr/bin/time), with the
# file's size. The report reads and folds on two threads (the runs, and the
# ticket facts then the headlines: src/app/reports.c), so on two free cores
# its wall time is some 55-60 % of its CPU time; on a loaded machine compare
# CPU. Prints numbers; asserts nothing about speed.
# KPI_DB=PATH uses a desk bench_kpi built before (`bench_kpi PATH 1000000`)
# instead of building one.
# usage: bench/report.sh PATH/TO/keepword PATH/TO/bench_kpi
set -euo pipefail
kw=${1:?usage: report.sh PATH/TO/keepword PATH/TO/bench_kpi}
gen=${2:?usage: report.sh PATH/TO/keepword PATH/TO/bench_kpi}
n=${REPORT_TICKETS:-20000}
runs=${RUNS:-3}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ -n "${KPI_DB:-}" ]; then
    # a desk bench_kpi built and closed before (KPI_DB=PATH): copied, not built again
    cp "$KPI_DB" "$tmp/kw.db"
    n=$(sqlite3 "$tmp/kw.db" 'SELECT count(*) FROM tickets')
else
    "$gen" "$tmp/kw.db" "$n" >/dev/null
fi
KEEPWORD_ADMIN_PASSWORD=bench-password "$kw" init --db "$tmp/kw.db" >/dev/null

# time_report NAME KIND PERIOD FORMAT: best and worst of $runs (wall, and
# CPU: user + system, which a loaded machine disturbs less), and the size
time_report() {
    local name=$1 ms=() cpu=()
    for _ in $(seq 1 "$runs"); do
        local t0 t1
        t0=$(date +%s%N)
        /usr/bin/time -f '%U %S' -o "$tmp/cpu" \
            "$kw" report "$2" --db "$tmp/kw.db" --period "$3" --format "$4" --tz Asia/Shanghai \
            --lang zh --at 2026-01-01T00:00:00Z -o "$tmp/out.$4"
        t1=$(date +%s%N)
        ms+=("$(((t1 - t0) / 1000000))")
        cpu+=("$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$tmp/cpu")")
    done
    paste <(printf '%s\n' "${ms[@]}" | sort -n) <(printf '%s\n' "${cpu[@]}" | sort -n) |
        awk -v name="$name" -v n="$runs" -v bytes="$(wc -c <"$tmp/out.$4")" -v tickets="$n" '
        { v[NR] = $1; c[NR] = $2 }
        END { printf "report.sh: %s (%d tickets): best %d ms, worst %d ms (%d runs); CPU best %d ms, worst %d ms; %d bytes\n",
                     name, tickets, v[1], v[n], n, c[1], c[n], bytes }'
}
time_report "monthly pdf" monthly 2025-06 pdf
time_report "monthly xlsx" monthly 2025-06 xlsx
time_report "monthly csv" monthly 2025-06 csv
time_report "monthly html" monthly 2025-06 html
time_report "weekly pdf" weekly 2025-W24 pdf
