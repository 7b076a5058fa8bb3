# shellcheck shell=bash
# What the HTTP test scripts share; source it after setting KW (the
# keepword binary). Gives: TMP (removed at exit), check, serve_start
# (sets PID, PORT, B), serve_stop, req/is (one request and its checks),
# login, finish (which also fails on a sanitizer report in a server log).
TMP=$(mktemp -d)
# The database the scripts use: a SQLite file in TMP, or KW_TEST_DB (a
# PostgreSQL connection string: tests/pg/http.sh); DB_ARGS are the --db
# arguments for keepword's commands (PostgreSQL needs a --log-key file).
if [ -n "${KW_TEST_DB:-}" ]; then
    DB=$KW_TEST_DB
    DB_ARGS=(--db "$DB" --log-key "$TMP/kw.log-key")
else
    DB=$TMP/kw.db
    DB_ARGS=(--db "$DB")
fi
# sql QUERY: run QUERY on DB behind the server's back (sqlite3, or psql
# on PostgreSQL), printing rows as a|b|c
sql() {
    if [ -n "${KW_TEST_DB:-}" ]; then
        psql "$DB" -X -A -t -q -F '|' -v ON_ERROR_STOP=1 -c "$1"
    else
        sqlite3 -cmd ".timeout 10000" "$DB" "$1"
    fi
}
PID=
EXTRA_PIDS=()
cleanup() {
    for p in "${EXTRA_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    if [ -n "${KEEP_TMP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
pass=0
fail=0
check() { # NAME CONDITION-EXIT-STATUS [DETAIL]
    if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1 ${3:-}"; fi
}

# port_of LOG: the port a starting server says it serves on (waits up to 10 s)
port_of() {
    local port=
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*serving http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$1")
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "FAIL: server did not start" >&2; cat "$1" >&2; exit 1; }
    echo "$port"
}

# serve_start [SERVE-ARGS...]: keepword serve on DB, any free port
# (the log starts empty: the last server's is checked for sanitizer reports)
serve_start() {
    sanitizer_check "$TMP/log"
    : >"$TMP/log"
    # glibc's own fatal messages (a double free, ...) to stderr, not the tty
    LIBC_FATAL_STDERR_=1 "$KW" serve "${DB_ARGS[@]}" --listen 127.0.0.1:0 "$@" 2>>"$TMP/log" &
    PID=$!
    PORT=$(port_of "$TMP/log") || exit 1
    B=http://127.0.0.1:$PORT
}

# serve_stop: SIGTERM, and check that it exits cleanly
serve_stop() {
    kill -TERM "$PID"
    wait "$PID"
    check "SIGTERM exits cleanly" $? "($(grep -v "event=http.request" "$TMP/log" | tail -8))"
    PID=
}

# req METHOD PATH [BODY] [TOKEN] [CONTENT-TYPE]: sets CODE, CTYPE (body in $TMP/body)
req() {
    local args=(-s -o "$TMP/body" -w '%{http_code} %{content_type}' -X "$1" "$B$2")
    [ -n "${3:-}" ] && args+=(--data-binary "$3" -H "Content-Type: ${5:-application/json}")
    [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
    read -r CODE CTYPE < <(curl "${args[@]}")
}
is() { # NAME WANT_CODE [JQ-FILTER that must be true]
    local ok=0
    [ "$CODE" = "$2" ] || ok=1
    if [ -n "${3:-}" ] && [ $ok -eq 0 ]; then jq -e "$3" "$TMP/body" >/dev/null 2>&1 || ok=1; fi
    check "$1" $ok "(got $CODE $CTYPE: $(head -c 400 "$TMP/body"))"
}
# eventually PATH TOKEN JQ: GET until the filter holds (the engine runs on
# its own thread), for up to 3 s; leaves the last answer for `is`
eventually() {
    for _ in $(seq 1 30); do
        req GET "$1" "" "$2"
        jq -e "$3" "$TMP/body" >/dev/null 2>&1 && return
        sleep 0.1
    done
}
# login EMAIL PASSWORD: a bearer token on stdout; a refused login says why on
# stderr (the suite's later failures follow from it)
login() {
    local r
    r=$(curl -s -w '\n%{http_code}' -X POST "$B/api/v1/auth/login" -H "Content-Type: application/json" \
        -d "{\"email\":\"$1\",\"password\":\"$2\"}")
    [ "${r##*$'\n'}" = 200 ] || echo "login $1: ${r//$'\n'/ }" >&2
    printf '%s' "${r%$'\n'*}" | jq -r .token
}

# sanitizer_check LOG...: a sanitizer report in a server's log (its stderr)
# fails the suite: the TSan build (make test-tsan) prints data races there,
# ASan/UBSan their errors.
sanitizer_check() {
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        if grep -q "WARNING: ThreadSanitizer\|ERROR: AddressSanitizer\|runtime error" "$f"; then
            fail=$((fail + 1))
            echo "FAIL: a sanitizer report in ${f##*/}:"
            grep -A40 "WARNING: ThreadSanitizer\|ERROR: AddressSanitizer\|runtime error" "$f" | head -80
        fi
    done
}

finish() {
    sanitizer_check "$TMP"/log "$TMP"/*.log
    # a failing suite shows what its server logged last (a refused write,
    # a stuck unit), which the replies alone do not say
    if [ "$fail" -ne 0 ] && [ -s "$TMP/log" ]; then
        echo "--- the server's log, last 30 lines:"
        tail -n 30 "$TMP/log"
    fi
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
