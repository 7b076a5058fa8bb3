# shellcheck shell=bash
# What the benchmark scripts share; source it. Sourcing it makes tmp, a
# temporary directory removed at exit, and at exit also stops the server
# whose PID is in pid (bench_serve sets it).

tmp=$(mktemp -d)
pid=
bench_cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap bench_cleanup EXIT

# bench_serve KEEPWORD DB LOG [SERVE-ARGS...]: `keepword serve` on a free
# loopback port, its stderr in LOG; sets pid and port (waits up to 10 s).
bench_serve() {
    local kw=$1 db=$2 log=$3
    shift 3
    "$kw" serve --db "$db" --listen 127.0.0.1:0 "$@" 2>"$log" &
    # shellcheck disable=SC2034 # pid and port are the results, read by the caller
    pid=$!
    port=
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*serving http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "the server did not start" >&2; cat "$log" >&2; exit 1; }
}
