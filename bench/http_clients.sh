#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# http_clients.sh - durable creates/s and reads/s (GET /api/v1/tickets/{id})
# at 16, 256 and 1,000 keep-alive clients on 127.0.0.1, measured with kwload
# (one thread and one connection per client, one request at a time).
# A fresh database in a temporary directory. All clients come from one
# address, so a server with per-address limits is started with them raised
# (--max-per-address); a build without the flag (before issue 14) runs as is,
# which lets the same script measure both: run it with an older keepword and
# this kwload. The clients run at nice 10: they share the machine with the
# server, and a thousand client threads would otherwise take the CPU from a
# server with few threads (an event-driven one) far more than from one with a
# thread per connection, which is the scheduler's doing, not the server's.
# Prints numbers; asserts nothing about speed.
# usage: bench/http_clients.sh PATH/TO/keepword PATH/TO/kwload
set -euo pipefail

kw=${1:?usage: http_clients.sh PATH/TO/keepword PATH/TO/kwload}
load=${2:?usage: http_clients.sh PATH/TO/keepword PATH/TO/kwload}
secs=${HTTP_BENCH_SECONDS:-5}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

args=()
help=$("$kw" serve --help)
if [[ $help == *--max-per-address* ]]; then
    args=(--max-per-address 4096 --max-connections 4096)
fi
KEEPWORD_ADMIN_PASSWORD=bench-password "$kw" init --db "$tmp/kw.db" >/dev/null
bench_serve "$kw" "$tmp/kw.db" "$tmp/log" "${args[@]}"
b=http://127.0.0.1:$port
token=$(curl -s -X POST "$b/api/v1/auth/login" -H "Content-Type: application/json" -d '{"email":"admin@localhost","password":"bench-password"}' | jq -r .token)
org=$(curl -s -X POST "$b/api/v1/orgs" -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d '{"name":"Bench"}' | jq -r .id)

count=0
for clients in 16 256 1000; do
    r=$(nice -n 10 "$load" --port "$port" --token "$token" --mode create --clients "$clients" \
        --duration "$secs" --org "$org" || true)
    count=$((count + $(jq -r .ok <<<"$r")))
    printf 'http: creates, %4d clients   %s\n' "$clients" \
        "$(jq -r '"\(.rps)/s   p50 \(.p50_ms) ms  p99 \(.p99_ms) ms  (\(.requests) requests, \(.errors + .status_other) failed)"' <<<"$r")"
    r=$(nice -n 10 "$load" --port "$port" --token "$token" --mode read --clients "$clients" \
        --duration "$secs" --read-ids "1-$count" || true)
    printf 'http: reads,   %4d clients   %s\n' "$clients" \
        "$(jq -r '"\(.rps)/s   p50 \(.p50_ms) ms  p99 \(.p99_ms) ms  (\(.requests) requests, \(.errors + .status_other) failed)"' <<<"$r")"
done
kill -TERM "$pid"
wait "$pid" || true
pid=
