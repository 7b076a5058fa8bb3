#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg_http.sh - durable creates/s and reads/s at 16 keep-alive clients on
# one `keepword serve`, on SQLite and on PostgreSQL (a throw-away local
# cluster: tests/pg/cluster.sh), measured with kwload as http_clients.sh
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
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
}

one sqlite "$tmp/kw.db"
one postgresql "$KW_PG_CONNINFO" --log-key "$tmp/pg.log-key"
