#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# eval_throughput.sh - `keepword calendar eval` lines per second, end to end.
#
# Generates EVAL_LINES (default 1,000,000) deterministic query lines over three
# inline calendars (Shanghai office hours with holidays and make-up Saturdays,
# New York split shifts, 24x7 UTC), half deadline and half elapsed, checks a
# sample answers without errors, then times one run with output to /dev/null.
# Prints numbers and the ratio to the target; asserts nothing about speed.
# usage: bench/eval_throughput.sh PATH/TO/keepword
set -euo pipefail

kw=${1:?usage: eval_throughput.sh PATH/TO/keepword}
lines=${EVAL_LINES:-1000000}
target=500000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now_ns() {
    date +%s%N
}

# A Park-Miller generator: products stay below 2^53, so any awk gives the
# same lines.
awk -v n="$lines" '
function rnd(k) { seed = (seed * 16807) % 2147483647; return seed % k }
function week(iv, days,    s, i, d) {
    split("mon tue wed thu fri sat sun", d, " ")
    s = ""
    for (i = 1; i <= days; i++)
        s = s (i > 1 ? "," : "") "\"" d[i] "\":" iv
    return "{" s "}"
}
function instant(y, m, d, hh, mm, zone) {
    return sprintf("%04d-%02d-%02dT%02d:%02d:00%s", y, m, d, hh, mm, zone)
}
BEGIN {
    seed = 20260101
    cal[0] = "{\"name\":\"cn-office\",\"tz\":\"Asia/Shanghai\",\"week\":" \
        week("[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]]", 5) \
        ",\"holidays\":[\"2026-01-01\",\"2026-02-16\",\"2026-02-17\",\"2026-02-18\"," \
        "\"2026-02-19\",\"2026-04-06\",\"2026-05-01\",\"2026-06-19\",\"2026-10-01\"," \
        "\"2026-10-02\"],\"extra_workdays\":{\"2026-02-14\":[[\"09:00\",\"18:00\"]]," \
        "\"2026-04-25\":[[\"09:00\",\"18:00\"]],\"2026-09-26\":[[\"09:00\",\"18:00\"]]}}"
    cal[1] = "{\"name\":\"us-split\",\"tz\":\"America/New_York\",\"week\":" \
        week("[[\"08:00\",\"12:00\"],[\"13:00\",\"17:00\"],[\"18:00\",\"21:00\"]]", 5) "}"
    cal[2] = "{\"name\":\"24x7\",\"tz\":\"UTC\",\"week\":" week("[[\"00:00\",\"24:00\"]]", 7) "}"
    zone[0] = "+08:00"; zone[1] = "-05:00"; zone[2] = "Z"
    dayw[0] = 7.5 * 3600; dayw[1] = 11 * 3600; dayw[2] = 24 * 3600
    for (i = 0; i < n; i++) {
        c = i % 3
        y = 2025 + rnd(3); m = 1 + rnd(12); d = 1 + rnd(28)
        start = instant(y, m, d, rnd(24), rnd(60), zone[c])
        if (rnd(2)) {
            w = rnd(30 * dayw[c] + 1) # 0 to 30 working days
            secs = rnd(5) ? w : "\"" int(w / 3600) "h" int(w % 3600 / 60) "m\""
            printf "{\"id\":\"q%d\",\"calendar\":%s,\"op\":\"deadline\",\"start\":\"%s\",\"seconds\":%s}\n", i, cal[c], start, secs
        } else {
            t = (m - 1) * 28 + d - 1 + rnd(45) # 28-day months are enough here
            y2 = y + int(t / 336); t %= 336
            end = instant(y2, 1 + int(t / 28), 1 + t % 28, rnd(24), rnd(60), zone[c])
            printf "{\"id\":\"q%d\",\"calendar\":%s,\"op\":\"elapsed\",\"start\":\"%s\",\"end\":\"%s\"}\n", i, cal[c], start, end
        }
    }
}' >"$tmp/queries.jsonl"

# Every answer of a sample must be a result, one per query.
head -n 3000 "$tmp/queries.jsonl" >"$tmp/sample.jsonl"
"$kw" calendar eval "$tmp/sample.jsonl" >"$tmp/sample.out"
sample_in=$(wc -l <"$tmp/sample.jsonl")
sample_out=$(wc -l <"$tmp/sample.out")
if [ "$sample_in" -ne "$sample_out" ] || grep -q '"error"' "$tmp/sample.out" ||
    [ "$(grep -c '"result"' "$tmp/sample.out")" -ne "$sample_in" ]; then
    echo "eval_throughput: the sample is not answered cleanly ($sample_in queries," \
        "$sample_out answers); first errors:" >&2
    grep '"error"' "$tmp/sample.out" | head -n 3 >&2
    exit 1
fi

# Fixed cost of a run: process start, three zone tables, three compiles.
head -n 3 "$tmp/queries.jsonl" >"$tmp/three.jsonl"
t0=$(now_ns)
"$kw" calendar eval "$tmp/three.jsonl" >/dev/null
t1=$(now_ns)
"$kw" calendar eval "$tmp/queries.jsonl" >/dev/null
t2=$(now_ns)

bytes=$(wc -c <"$tmp/queries.jsonl")
awk -v n="$lines" -v b="$bytes" -v fixed="$((t1 - t0))" -v run="$((t2 - t1))" \
    -v target="$target" '
function row(name, v, unit, tail) { printf "%-44s %12s %-8s %s\n", name, v, unit, tail }
BEGIN {
    s = run / 1e9; f = fixed / 1e9
    rate = n / s
    row("eval queries", n, "lines", sprintf("(%.0f bytes/line, 3 calendars)", b / n))
    row("eval wall time", sprintf("%.3f", s), "s", "(no target)")
    row("eval lines/s", sprintf("%.0f", rate), "lines/s",
        sprintf("(target >= %d lines/s, ratio %.3f, %s)", target, rate / target,
                rate >= target ? "met" : "NOT MET"))
    row("eval MB/s", sprintf("%.1f", b / s / 1e6), "MB/s", "(no target)")
    row("eval fixed cost (start, zones, compiles)", sprintf("%.1f", f * 1e3), "ms", "(no target)")
    if (s > f)
        row("eval lines/s without fixed cost", sprintf("%.0f", n / (s - f)), "lines/s",
            "(no target)")
}'
