#!/usr/bin/env bash
# make bench: `keepword calendar eval` lines per second over 1,000,000 queries
# on three inline calendars (deadline and elapsed mixed). Prints numbers.
set -euo pipefail
KW=${1:?usage: eval_throughput.sh PATH/TO/keepword}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
N=${EVAL_LINES:-1000000}
awk -v n="$N" 'BEGIN {
    c[0] = "{\"tz\":\"Asia/Shanghai\",\"week\":{\"mon\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]],\"tue\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]],\"wed\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]],\"thu\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]],\"fri\":[[\"09:00\",\"12:00\"],[\"13:30\",\"18:00\"]]},\"holidays\":[\"2026-02-16\",\"2026-02-17\",\"2026-02-18\"],\"extra_workdays\":{\"2026-02-14\":[[\"09:00\",\"18:00\"]]}}"
    c[1] = "{\"tz\":\"Europe/Berlin\",\"week\":{\"mon\":[[\"08:00\",\"12:00\"],[\"13:00\",\"17:00\"]],\"tue\":[[\"08:00\",\"12:00\"],[\"13:00\",\"17:00\"]],\"wed\":[[\"08:00\",\"12:00\"],[\"13:00\",\"17:00\"]],\"thu\":[[\"08:00\",\"12:00\"],[\"13:00\",\"17:00\"]],\"fri\":[[\"08:00\",\"12:00\"],[\"13:00\",\"16:00\"]]}}"
    c[2] = "{\"tz\":\"UTC\",\"week\":{\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\",\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],\"thu\":[[\"00:00\",\"24:00\"]],\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],\"sun\":[[\"00:00\",\"24:00\"]]}}"
    srand(7)
    for (i = 0; i < n; i++) {
        d = 1 + int(rand() * 28); h = int(rand() * 24); m = int(rand() * 60)
        start = sprintf("2026-%02d-%02dT%02d:%02d:00+08:00", 1 + int(rand() * 12), d, h, m)
        if (i % 2 == 0)
            printf "{\"id\":%d,\"calendar\":%s,\"op\":\"deadline\",\"start\":\"%s\",\"seconds\":%d}\n", i, c[i % 3], start, int(rand() * 200000)
        else
            printf "{\"id\":%d,\"calendar\":%s,\"op\":\"elapsed\",\"start\":\"%s\",\"end\":\"2027-01-01T00:00:00Z\"}\n", i, c[i % 3], start
    }
}' >"$TMP/q.jsonl"
head -n 1000 "$TMP/q.jsonl" | "$KW" calendar eval >"$TMP/sample.out"
if grep -q '"error"' "$TMP/sample.out"; then
    echo "eval sample has errors:" >&2
    grep '"error"' "$TMP/sample.out" | head -3 >&2
    exit 1
fi
bytes=$(wc -c <"$TMP/q.jsonl")
start=$(date +%s.%N)
"$KW" calendar eval "$TMP/q.jsonl" >/dev/null
end=$(date +%s.%N)
awk -v n="$N" -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN {
    t = e - s
    printf "calendar eval: %d lines (%.0f MB, 3 calendars) in %.2f s: %.0f lines/s (target >= 500000, ratio %.2f)\n", n, b / 1e6, t, n / t, n / t / 500000
}'
