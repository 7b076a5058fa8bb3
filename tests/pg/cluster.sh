#!/bin/sh
# cluster.sh - a throw-away PostgreSQL cluster for the tests.
#
#   cluster.sh start DIR   make a cluster in DIR (which must not exist),
#                          start it on 127.0.0.1 at a free port, and write
#                          DIR/conninfo (a libpq connection string to its
#                          database "kw") and DIR/postmaster.pid's PID
#   cluster.sh stop DIR    stop it by that PID and remove DIR
#   cluster.sh run CMD...  start one in a temporary directory, run CMD with
#                          KW_PG_CONNINFO and KW_PG_DATA set, stop it; CMD's
#                          status
#
# PostgreSQL refuses to run as root: as root the cluster runs as the user
# `postgres` if there is one, else `nobody`. The server's binaries come from
# PG_BIN, else pg_config --bindir, else the newest /usr/lib/postgresql/*/bin;
# scripts/deps.sh installs Debian's postgresql. Ports are tried from
# KW_PG_PORT_FROM (default 18600) upwards, 100 of them.
set -eu

die() {
    echo "cluster.sh: $*" >&2
    exit 1
}

bindir() {
    if [ -n "${PG_BIN:-}" ]; then
        echo "$PG_BIN"
    elif [ -x "$(command -v pg_config 2>/dev/null || true)" ] &&
        [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
    else
        # shellcheck disable=SC2012 # version directories: plain names
        d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        [ -n "$d" ] || die "no PostgreSQL server found (install it: scripts/deps.sh)"
        echo "$d"
    fi
}

# Run a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid="$OWNER" --regid="$(id -g "$OWNER")" --clear-groups -- "$@"
    else
        "$@"
    fi
}

start() {
    dir=$1
    [ ! -e "$dir" ] || die "$dir exists"
    bin=$(bindir)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$OWNER" "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U kw --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    port=${KW_PG_PORT_FROM:-18600}
    last=$((port + 99))
    while [ "$port" -le "$last" ]; do
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=200" \
            start >/dev/null 2>&1; then
            pid=$(head -n 1 "$dir/data/postmaster.pid")
            echo "$pid" >"$dir/pid"
            echo "host=127.0.0.1 port=$port user=kw dbname=kw" >"$dir/conninfo"
            as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U kw kw ||
                { stop "$dir"; die "createdb failed"; }
            return 0
        fi
        port=$((port + 1))
    done
    cat "$dir/server.log" >&2 || true
    die "no free port from ${KW_PG_PORT_FROM:-18600} to $last"
}

stop() {
    dir=$1
    if [ -f "$dir/pid" ]; then
        pid=$(cat "$dir/pid")
        # fast shutdown by the postmaster's PID; wait up to 30 s for it to go
        kill -INT "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 300 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
}

if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then OWNER=postgres; else OWNER=nobody; fi
fi

cmd=${1:-}
[ $# -ge 1 ] && shift
case "$cmd" in
start) [ $# -eq 1 ] || die "usage: cluster.sh start DIR"; start "$1" ;;
stop) [ $# -eq 1 ] || die "usage: cluster.sh stop DIR"; stop "$1" ;;
run)
    [ $# -ge 1 ] || die "usage: cluster.sh run CMD..."
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kw-pg-XXXXXX")
    rmdir "$dir"
    trap 'stop "$dir"' EXIT
    trap 'exit 130' INT TERM
    start "$dir"
    KW_PG_CONNINFO=$(cat "$dir/conninfo")
    KW_PG_DATA=$dir/data
    export KW_PG_CONNINFO KW_PG_DATA
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
*) die "usage: cluster.sh start DIR | stop DIR | run CMD..." ;;
esac
