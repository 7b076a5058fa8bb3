#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg_engine.sh - bench_engine on PostgreSQL: the engine's timers, rebuild
# and firing lateness with BENCH_TICKETS open tickets (default 1,000,000)
# in a throw-away local cluster (tests/pg/cluster.sh) instead of a SQLite
# file. The BENCH_* variables are bench_engine's. With PG_STATEMENTS=1 the
# cluster loads pg_stat_statements and the statements that took the most
# server time in the run (after the fill), the rows each table had
# written, the WAL, and the database's commits, rollbacks and deadlocks
# are printed after it. PG_CONF="NAME=VALUE ..." sets the server's
# settings for the run (e.g. shared_buffers=2GB; the cluster otherwise has
# PostgreSQL's defaults). Prints numbers; asserts nothing.
# usage: bench/pg_engine.sh PATH/TO/bench_engine
set -euo pipefail

bench=$(realpath "${1:?usage: pg_engine.sh PATH/TO/bench_engine}")
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/kw-pg-XXXXXX") # the cluster's owner must reach it
rmdir "$dir"
"$here/../tests/pg/cluster.sh" start "$dir"
trap '"$here/../tests/pg/cluster.sh" stop "$dir"' EXIT
conn=$(cat "$dir/conninfo")
if [ "${PG_STATEMENTS:-}" = 1 ] || [ -n "${PG_CONF:-}" ]; then
    owner=postgres
    id postgres >/dev/null 2>&1 || owner=nobody
    if [ "${PG_STATEMENTS:-}" = 1 ]; then
        psql -X -q "$conn" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    fi
    for set in ${PG_CONF:-}; do # NAME=VALUE ...: the server's settings for the run
        psql -X -q "$conn" -c "ALTER SYSTEM SET ${set%%=*} = '${set#*=}'"
    done
    # shellcheck disable=SC2012 # version directories: plain names
    bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups -- \
            "$bin/pg_ctl" -D "$dir/data" -w restart >/dev/null
    else
        "$bin/pg_ctl" -D "$dir/data" -w restart >/dev/null
    fi
    head -n 1 "$dir/data/postmaster.pid" >"$dir/pid"
fi
if [ "${PG_STATEMENTS:-}" = 1 ]; then
    psql -X -q "$conn" -c "CREATE EXTENSION pg_stat_statements" \
        -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" -c "SELECT pg_reload_conf()"
fi
echo "engine on PostgreSQL $(psql -X -At "$conn" -c 'SHOW server_version' | cut -d' ' -f1)"
if [ "${PG_STATEMENTS:-}" = 1 ]; then
    # the figures are the run's: the statistics are reset when the fill
    # ends (its line is printed), so its creates and projections are not in
    # them (they were most of the calls at 30,000 tickets)
    BENCH_DB=$conn stdbuf -oL "$bench" | while IFS= read -r line; do
        printf '%s\n' "$line"
        case $line in
        *"created and projected"*)
            psql -X -q -At "$conn" -c "SELECT pg_stat_statements_reset()" \
                -c "SELECT pg_stat_reset()" -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
            ;;
        esac
    done
else
    BENCH_DB=$conn "$bench"
fi
if [ "${PG_STATEMENTS:-}" = 1 ]; then
    psql -X "$conn" -c "SELECT calls, round(total_exec_time::numeric) AS total_ms, round(total_plan_time::numeric) AS plan_ms,
        round((total_exec_time / calls)::numeric, 3) AS ms_each,
        left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
        FROM pg_stat_statements WHERE calls > 0 ORDER BY ${PG_ORDER:-total_exec_time + total_plan_time} DESC LIMIT ${PG_ROWS:-15}"
    # rows written and how (an update that is not HOT writes an entry into
    # each of its table's indexes), and the WAL, over the run
    psql -X "$conn" -c "SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot,
        n_tup_del AS del, n_dead_tup AS dead, autovacuum_count AS autovac, idx_scan
        FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0
        ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC" \
        -c "SELECT wal_records, wal_fpi, wal_bytes, wal_buffers_full, wal_write, wal_sync FROM pg_stat_wal" \
        -c "SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database WHERE datname = current_database()"
fi
