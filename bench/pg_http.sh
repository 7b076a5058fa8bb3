#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg_http.sh - durable creates/s and reads/s at 16 keep-alive clients on
# one `keepword serve`, on SQLite and on PostgreSQL (a throw-away local
# cluster: tests/pg/cluster.sh), then on two nodes serving one PostgreSQL
# database (8 clients on each), measured with kwload as http_clients.sh
# does. Prints numbers; asserts nothing about speed.
# usage: bench/pg_http.sh PATH/TO/keepword PATH/TO/kwload
set -euo pipefail

kw=$(realpath "${1:?usage: pg_http.sh PATH/TO/keepword PATH/TO/kwload}")
load=$(realpath "${2:?usage: pg_http.sh PATH/TO/keepword PATH/TO/kwload}")
secs=${HTTP_BENCH_SECONDS:-10}
clients=${HTTP_BENCH_CLIENTS:-16}
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${KW_PG_CONNINFO:-}" ]; then # start a cluster, run again inside it
    exec "$here/../tests/pg/cluster.sh" run "$0" "$kw" "$load"
fi
# shellcheck source=lib.sh
. "$here/lib.sh"

one() { # NAME DB [ARGS...]: init and serve with --db DB and ARGS
    local name=$1 db=$2
    shift 2
    KEEPWORD_ADMIN_PASSWORD=bench-password "$kw" init --db "$db" "$@" >/dev/null
    bench_serve "$kw" "$db" "$tmp/log" "$@"
    local b=http://127.0.0.1:$port token org r
    token=$(curl -s -X POST "$b/api/v1/auth/login" -H "Content-Type: application/json" \
        -d '{"email":"admin@localhost","password":"bench-password"}' | jq -r .token)
    org=$(curl -s -X POST "$b/api/v1/orgs" -H "Authorization: Bearer $token" \
        -H "Content-Type: application/json" -d '{"name":"Bench"}' | jq -r .id)
    r=$(nice -n 10 "$load" --port "$port" --token "$token" --mode create --clients "$clients" \
        --duration "$secs" --org "$org" || true)
    local count
    count=$(jq -r .ok <<<"$r")
    printf '%-10s creates, %d clients   %s\n' "$name" "$clients" \
        "$(jq -r '"\(.rps)/s   p50 \(.p50_ms) ms  p99 \(.p99_ms) ms  (\(.requests) requests, \(.errors + .status_other) failed)"' <<<"$r")"
    r=$(nice -n 10 "$load" --port "$port" --token "$token" --mode read --clients "$clients" \
        --duration "$secs" --read-ids "1-$count" || true)
    printf '%-10s reads,   %d clients   %s\n' "$name" "$clients" \
        "$(jq -r '"\(.rps)/s   p50 \(.p50_ms) ms  p99 \(.p99_ms) ms  (\(.requests) requests, \(.errors + .status_other) failed)"' <<<"$r")"
    [ -n "${KEEP_SERVING:-}" ] && return 0
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
}

# two nodes on the database one() left served by its node (pid, port):
# a second node on it, then half the clients on each, at the same time
two() {
    local pid1=$pid port1=$port b=http://127.0.0.1:$port token org
    token=$(curl -s -X POST "$b/api/v1/auth/login" -H "Content-Type: application/json" \
        -d '{"email":"admin@localhost","password":"bench-password"}' | jq -r .token)
    org=$(curl -s -X POST "$b/api/v1/orgs" -H "Authorization: Bearer $token" \
        -H "Content-Type: application/json" -d '{"name":"Bench 2"}' | jq -r .id)
    node1=$pid1 # both stopped at exit, the first one too when the second fails to start
    trap 'kill "$node1" 2>/dev/null || true; bench_cleanup' EXIT
    bench_serve "$kw" "$KW_PG_CONNINFO" "$tmp/log2" --log-key "$tmp/pg.log-key"
    local pid2=$pid port2=$port half=$((clients / 2)) mode
    for mode in create read; do
        local args=(--org "$org")
        [ "$mode" = read ] && args=(--read-ids "1-1000") # the one node made more
        nice -n 10 "$load" --port "$port1" --token "$token" --mode "$mode" --clients "$half" \
            --duration "$secs" "${args[@]}" >"$tmp/r1" || true &
        local l1=$!
        nice -n 10 "$load" --port "$port2" --token "$token" --mode "$mode" --clients "$half" \
            --duration "$secs" "${args[@]}" >"$tmp/r2" || true
        wait "$l1" || true
        printf '%-10s %-7s  2 nodes x %d clients   %s/s   p99 %s / %s ms  (%s requests, %s failed)\n' \
            postgresql "${mode}s," "$half" \
            "$(jq -s '(.[0].rps + .[1].rps) | floor' "$tmp/r1" "$tmp/r2")" \
            "$(jq -r .p99_ms "$tmp/r1")" "$(jq -r .p99_ms "$tmp/r2")" \
            "$(jq -s '.[0].requests + .[1].requests' "$tmp/r1" "$tmp/r2")" \
            "$(jq -s '[.[] | .errors + .status_other] | add' "$tmp/r1" "$tmp/r2")"
    done
    kill -TERM "$pid1" "$pid2"
    wait "$pid1" "$pid2" || true
    pid=
}

one sqlite "$tmp/kw.db"
KEEP_SERVING=1 one postgresql "$KW_PG_CONNINFO" --log-key "$tmp/pg.log-key"
two
