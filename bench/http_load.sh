#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http_load.sh - `keepword serve` under load on 127.0.0.1, measured with kwload.
#
# A fresh database in a temporary directory; the server logs to a file.
# Measures: idle RSS; durable ticket creates per second (each acknowledged
# after its group commit) at 1, 16 and 64 clients with p50/p99 latency;
# GET /api/v1/tickets/{id} per second at 16 clients; then fills the database
# up to HTTP_BENCH_TICKETS tickets (default 1,000,000) and reports RSS and the
# database size per ticket, and the writer's batches. Prints numbers and the
# ratio to each target; asserts nothing about speed.
# usage: bench/http_load.sh PATH/TO/keepword PATH/TO/kwload
set -euo pipefail

kw=${1:?usage: http_load.sh PATH/TO/keepword PATH/TO/kwload}
load=${2:?usage: http_load.sh PATH/TO/keepword PATH/TO/kwload}
fill=${HTTP_BENCH_TICKETS:-1000000}
secs=${HTTP_BENCH_SECONDS:-5}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=bench-password "$kw" init --db "$tmp/kw.db" >/dev/null
bench_serve "$kw" "$tmp/kw.db" "$tmp/log"
b=http://127.0.0.1:$port
token=$(curl -s -X POST "$b/api/v1/auth/login" -H "Content-Type: application/json" -d '{"email":"admin@localhost","password":"bench-password"}' | jq -r .token)
org=$(curl -s -X POST "$b/api/v1/orgs" -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d '{"name":"Bench"}' | jq -r .id)
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

sleep 0.5
idle=$(rss_kib)
printf 'http: RSS idle                         %8.1f MiB   (target <= 20 MiB: ratio %s)\n' \
    "$(awk -v k="$idle" 'BEGIN { print k / 1024 }')" "$(ratio "$((20 * 1024))" "$idle")"

count=0
for clients in 1 16 64; do
    r=$("$load" --port "$port" --token "$token" --mode create --clients "$clients" \
        --duration "$secs" --org "$org")
    count=$((count + $(jq -r .ok <<<"$r")))
    rps=$(jq -r .rps <<<"$r")
    line=$(jq -r '"\(.rps) creates/s   p50 \(.p50_ms) ms  p99 \(.p99_ms) ms  max \(.max_ms) ms  (\(.requests) requests, \(.errors + .status_other) failed)"' <<<"$r")
    extra=""
    [ "$clients" = 16 ] && extra="   (target >= 10000/s: ratio $(ratio "$rps" 10000); p99 <= 20 ms: ratio $(ratio 20 "$(jq -r .p99_ms <<<"$r")"))"
    printf 'http: durable creates, %2d clients     %s%s\n' "$clients" "$line" "$extra"
done

r=$("$load" --port "$port" --token "$token" --mode read --clients 16 --duration "$secs" \
    --read-ids "1-$count")
printf 'http: GET /tickets/{id}, 16 clients    %s   (target >= 30000/s: ratio %s)\n' \
    "$(jq -r '"\(.rps) reads/s   p50 \(.p50_ms) ms  p99 \(.p99_ms) ms"' <<<"$r")" \
    "$(ratio "$(jq -r .rps <<<"$r")" 30000)"

# writes while live streams are open: each change is encoded once and
# copied to every stream (target: >= 80 % of the rate without streams)
base_rps=
for streams in 0 100 300; do
    spids=()
    for _ in $(seq 1 "$streams"); do
        curl -s -N -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/stream" &
        spids+=($!)
    done
    sleep 1
    r=$("$load" --port "$port" --token "$token" --mode create --clients 16 --duration "$secs" --org "$org")
    count=$((count + $(jq -r .ok <<<"$r")))
    rps=$(jq -r .rps <<<"$r")
    [ -z "$base_rps" ] && base_rps=$rps
    if [ "$streams" -gt 0 ]; then
        kill "${spids[@]}" 2>/dev/null
        wait "${spids[@]}" 2>/dev/null || true
    fi
    printf 'http: creates, 16 clients, %3d streams %s creates/s   p99 %s ms   (target >= 80 %% of none: ratio %s)\n' \
        "$streams" "$rps" "$(jq -r .p99_ms <<<"$r")" "$(ratio "$rps" "$(awk -v b="$base_rps" 'BEGIN { print b * 0.8 }')")"
done

have=$count # ids are 1..count in this fresh database
if [ "$fill" -gt "$have" ]; then
    t0=$(date +%s)
    "$load" --port "$port" --token "$token" --mode create --clients 64 \
        --requests "$((fill - have))" --org "$org" >"$tmp/fill.json" || cat "$tmp/fill.json" >&2
    t1=$(date +%s)
    have=$((have + $(jq -r .ok "$tmp/fill.json")))
    printf 'http: filled to %d tickets in %d s   (%s creates/s at 64 clients)\n' "$fill" \
        "$((t1 - t0))" "$(jq -r .rps "$tmp/fill.json")"
fi
sleep 1
full=$(rss_kib)
cp "$tmp/kw.db" "$tmp/kw.db-wal" "${HTTP_BENCH_KEEP:-/dev/null}" 2>/dev/null || true
printf 'http: RSS with %d tickets          %8.1f MiB\n' "$fill" "$(awk -v k="$full" 'BEGIN { print k / 1024 }')"
kill -TERM "$pid"
wait "$pid" || true
pid=
bytes=$(($(stat -c %s "$tmp/kw.db") + $(stat -c %s "$tmp/kw.db-wal" 2>/dev/null || echo 0)))
n=$("$kw" verify --db "$tmp/kw.db" | sed -n 's/.*: \([0-9]*\) tickets.*/\1/p')
printf 'http: database %.1f MiB for %d tickets: %d bytes per ticket (%d creates acknowledged)\n' \
    "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$n" "$((bytes / n))" "$have"
grep -a 'stopped (' "$tmp/log" | sed 's/^keepword: /http: writer /'
