#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg_engine.sh - bench_engine on PostgreSQL: the engine's timers, rebuild
# and firing lateness with BENCH_TICKETS open tickets (default 1,000,000)
# in a throw-away local cluster (tests/pg/cluster.sh) instead of a SQLite
# file. The BENCH_* variables are bench_engine's. With PG_STATEMENTS=1 the
# cluster loads pg_stat_statements and the statements that took the most
# server time are printed after the run. Prints numbers; asserts nothing.
# usage: bench/pg_engine.sh PATH/TO/bench_engine
set -euo pipefail

bench=$(realpath "${1:?usage: pg_engine.sh PATH/TO/bench_engine}")
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/kw-pg-XXXXXX") # the cluster's owner must reach it
rmdir "$dir"
"$here/../tests/pg/cluster.sh" start "$dir"
trap '"$here/../tests/pg/cluster.sh" stop "$dir"' EXIT
conn=$(cat "$dir/conninfo")
if [ "${PG_STATEMENTS:-}" = 1 ]; then
    owner=postgres
    id postgres >/dev/null 2>&1 || owner=nobody
    psql -X -q "$conn" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    # shellcheck disable=SC2012 # version directories: plain names
    bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups -- \
            "$bin/pg_ctl" -D "$dir/data" -w restart >/dev/null
    else
        "$bin/pg_ctl" -D "$dir/data" -w restart >/dev/null
    fi
    head -n 1 "$dir/data/postmaster.pid" >"$dir/pid"
    psql -X -q "$conn" -c "CREATE EXTENSION pg_stat_statements" \
        -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" -c "SELECT pg_reload_conf()"
fi
echo "engine on PostgreSQL $(psql -X -At "$conn" -c 'SHOW server_version' | cut -d' ' -f1)"
BENCH_DB=$conn "$bench"
if [ "${PG_STATEMENTS:-}" = 1 ]; then
    psql -X "$conn" -c "SELECT calls, round(total_exec_time::numeric) AS total_ms, round(total_plan_time::numeric) AS plan_ms,
        round((total_exec_time / calls)::numeric, 3) AS ms_each,
        left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
        FROM pg_stat_statements WHERE calls > 0 ORDER BY ${PG_ORDER:-total_exec_time + total_plan_time} DESC LIMIT ${PG_ROWS:-15}"
fi
