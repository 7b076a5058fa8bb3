#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg_profile.sh - what one durable create costs on PostgreSQL: 16 clients
# create tickets for HTTP_BENCH_SECONDS (default 10) on one `keepword serve`
# over a throw-away cluster with pg_stat_statements; prints the statements
# per create (calls and server time), the transactions and WAL flushes per
# create, WAL records, bytes and full-page images per create, rows written
# per create by table (HOT updates among them), and the node's system calls
# (strace -c, when PROFILE_STRACE=1). PROFILE_ORDER=calls lists the
# statements by calls instead of server time (triggers' statements included,
# top = f). Also the cluster's CPU by process: the node's writer connection
# (the busiest) against the rest, as ms per create and the share of one core
# it was busy: the writer's transactions are one after another, so when that
# share nears 100 % one node cannot create faster whatever the cores.
# PROFILE_SQL: SQL run on the new desk before the load (an experiment, such
# as dropping a trigger to see what it costs; never on a desk in use).
# Prints numbers; asserts nothing.
# usage: bench/pg_profile.sh PATH/TO/keepword PATH/TO/kwload
set -euo pipefail

kw=$(realpath "${1:?usage: pg_profile.sh PATH/TO/keepword PATH/TO/kwload}")
load=$(realpath "${2:?usage: pg_profile.sh PATH/TO/keepword PATH/TO/kwload}")
secs=${HTTP_BENCH_SECONDS:-10}
clients=${HTTP_BENCH_CLIENTS:-16}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/kw-pg-XXXXXX") # the cluster's owner must reach it
rmdir "$pgdir"
"$here/../tests/pg/cluster.sh" start "$pgdir"
# the server and the cluster stopped at exit, whatever failed (errexit holds
# in a trap too: nothing in it may fail before the cluster's stop)
stop_all() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    head -n 1 "$pgdir/data/postmaster.pid" >"$pgdir/pid" 2>/dev/null || true # after a restart
    "$here/../tests/pg/cluster.sh" stop "$pgdir" || true
    bench_cleanup || true
}
trap stop_all EXIT
conn=$(cat "$pgdir/conninfo")
owner=postgres
id postgres >/dev/null 2>&1 || owner=nobody
as_owner() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid="$owner" --regid="$(id -g "$owner")" --clear-groups -- "$@"; else "$@"; fi; }
psql_() { psql -X -q -v ON_ERROR_STOP=1 "$conn" "$@"; }
psql_ -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"

# shellcheck disable=SC2012 # version directories: plain names
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
as_owner "$bin/pg_ctl" -D "$pgdir/data" -w restart >/dev/null
head -n 1 "$pgdir/data/postmaster.pid" >"$pgdir/pid"
psql_ -c "CREATE EXTENSION pg_stat_statements"
# statements run by triggers and functions too (toplevel false), so that a
# trigger's work shows as its own rows (known once the library is loaded)
psql_ -c "ALTER SYSTEM SET pg_stat_statements.track = 'all'" -c "SELECT pg_reload_conf()" >/dev/null

KEEPWORD_ADMIN_PASSWORD=bench-password "$kw" init --db "$conn" --log-key "$tmp/k" >/dev/null
if [ -n "${PROFILE_SQL:-}" ]; then psql_ -c "$PROFILE_SQL" >/dev/null; fi
bench_serve "$kw" "$conn" "$tmp/log" --log-key "$tmp/k"
b=http://127.0.0.1:$port
token=$(curl -s -X POST "$b/api/v1/auth/login" -H "Content-Type: application/json" \
    -d '{"email":"admin@localhost","password":"bench-password"}' | jq -r .token)
org=$(curl -s -X POST "$b/api/v1/orgs" -H "Authorization: Bearer $token" \
    -H "Content-Type: application/json" -d '{"name":"Bench"}' | jq -r .id)
psql_ -c "SELECT pg_stat_statements_reset(), pg_stat_reset()" >/dev/null
psql_ -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
wal0=$(psql_ -At -c "SELECT wal_sync FROM pg_stat_wal" 2>/dev/null || echo 0)
# CPU ticks (utime + stime) of the node and of the cluster's processes
ticks() {
    local pm t=0 p
    pm=$(cat "$pgdir/pid")
    for p in "$pm" $(pgrep -P "$pm"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$(awk '{print $14 + $15}' "/proc/$pid/stat") $t"
}
# each of the cluster's processes: pid, CPU ticks, title
per_process() {
    local p
    for p in $(pgrep -P "$(cat "$pgdir/pid")"); do
        awk -v p="$p" '{print p, $14 + $15}' "/proc/$p/stat" 2>/dev/null || true
    done
}
per_process >"$tmp/cpu0"
read -r node0 pg0 < <(ticks)
if [ "${PROFILE_PERF:-}" = 1 ]; then # where the cluster's CPU goes (software clock)
    perf record -q -e cpu-clock -F 999 -o "$tmp/perf.data" \
        -p "$(pgrep -d, -P "$(cat "$pgdir/pid")")" 2>/dev/null &
    pf=$!
fi
if [ "${PROFILE_STRACE:-}" = 1 ]; then
    strace -c -f -p "$pid" -o "$tmp/strace" &
    st=$!
    sleep 0.5
fi
r=$(nice -n 10 "$load" --port "$port" --token "$token" --mode create --clients "$clients" \
    --duration "$secs" --org "$org" || true)
read -r node1 pg1 < <(ticks)
per_process >"$tmp/cpu1"
if [ "${PROFILE_PERF:-}" = 1 ]; then
    kill -INT "$pf"
    wait "$pf" || true
    perf report -q -i "$tmp/perf.data" --no-children --sort dso,symbol 2>/dev/null | head -40
fi
[ "${PROFILE_STRACE:-}" = 1 ] && { kill -INT "$st"; wait "$st" || true; }
n=$(jq -r .ok <<<"$r")
hz=$(getconf CLK_TCK)
echo "CPU per create: node $(echo "scale=3; ($node1 - $node0) * 1000 / $hz / $n" | bc) ms, PostgreSQL $(echo "scale=3; ($pg1 - $pg0) * 1000 / $hz / $n" | bc) ms (load average $(cut -d' ' -f1 /proc/loadavg))"
# the busiest process over the load (the writer's connection) and the rest
read -r wpid wticks < <(awk 'NR == FNR {t0[$1] = $2; next} {print $1, $2 - t0[$1]}' \
    "$tmp/cpu0" "$tmp/cpu1" | sort -k2 -nr | head -n 1)
wtitle=$(tr '\0' ' ' <"/proc/$wpid/cmdline" 2>/dev/null | cut -c 1-50 | sed 's/ *$//' || true)
echo "busiest process ($wtitle): $(echo "scale=3; $wticks * 1000 / $hz / $n" | bc) ms per create, busy $(echo "scale=0; $wticks * 100 / $hz / $secs" | bc) % of one core; the other processes $(echo "scale=3; ($pg1 - $pg0 - $wticks) * 1000 / $hz / $n" | bc) ms per create"
echo "creates: $(jq -r '"\(.ok) in \(.duration_s // "?") s, \(.rps)/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms"' <<<"$r")"
# the node's connections end first: a backend reports its counters (commits,
# rows, WAL) when it exits, and otherwise only every few seconds
kill -TERM "$pid"
wait "$pid" || true
pid=
sleep 1
wal1=$(psql_ -At -c "SELECT wal_sync FROM pg_stat_wal" 2>/dev/null || echo 0)
psql_ -At -c "SELECT 'commits per create: ' || round(xact_commit::numeric / $n, 2) FROM pg_stat_database WHERE datname = current_database()"
echo "WAL syncs per create: $(echo "scale=2; ($wal1 - $wal0) / $n" | bc)"
psql_ -At -c "SELECT 'WAL per create: ' || round(wal_records::numeric / $n, 2) || ' records, ' || round(wal_bytes / $n) || ' bytes, ' || round(wal_fpi::numeric / $n, 3) || ' full-page images' FROM pg_stat_wal" 2>/dev/null || true
# rows written per create by table: inserted, updated (of them HOT), deleted
psql_ -c "SELECT relname AS table, round(n_tup_ins::numeric / $n, 2) AS ins, round(n_tup_upd::numeric / $n, 2) AS upd, round(n_tup_hot_upd::numeric / $n, 2) AS hot, round(n_tup_del::numeric / $n, 2) AS del, (SELECT count(*) FROM pg_index i WHERE i.indrelid = s.relid) AS indexes FROM pg_stat_user_tables s WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC"
# top: false for a statement a trigger or function ran
psql_ -c "SELECT round(calls::numeric / $n, 2) AS per_create, round(total_exec_time::numeric / $n, 3) AS ms_per_create, round(wal_bytes / $n) AS wal_b, round((shared_blks_hit + shared_blks_read)::numeric / $n, 1) AS bufs, toplevel AS top, left(regexp_replace(query, '\s+', ' ', 'g'), 80) AS statement FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY ${PROFILE_ORDER:-total_exec_time} DESC LIMIT 40"
psql_ -At -c "SELECT 'statements per create: ' || round(sum(calls)::numeric / $n, 2) || ', server ms per create: ' || round(sum(total_exec_time)::numeric / $n, 3) FROM pg_stat_statements WHERE toplevel AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
[ "${PROFILE_STRACE:-}" = 1 ] && { echo "node's system calls per create:"; awk -v n="$n" 'NR>2 && $NF!="total" && $4+0>0 {printf "  %-16s %6.2f\n", $NF, $4/n}' "$tmp/strace" | sort -k2 -nr | head -12; }
