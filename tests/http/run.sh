#!/usr/bin/env bash
# Drives `keepword serve` over HTTP on 127.0.0.1 with curl: auth, errors as
# problem+json, limits, and a clean stop on SIGTERM.
# usage: tests/http/run.sh PATH/TO/keepword
set -u
KW=${1:?usage: run.sh PATH/TO/keepword}
TMP=$(mktemp -d)
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
pass=0
fail=0
check() { # NAME CONDITION-EXIT-STATUS [DETAIL]
    if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1 ${3:-}"; fi
}

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
"$KW" serve --db "$TMP/kw.db" --listen 127.0.0.1:0 2>"$TMP/log" &
PID=$!
PORT=
for _ in $(seq 1 50); do
    PORT=$(sed -n 's/.*serving http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/log")
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "FAIL: server did not start"; cat "$TMP/log"; exit 1; }
B=http://127.0.0.1:$PORT

# req METHOD PATH [BODY] [TOKEN]: sets CODE, CTYPE, BODY (file $TMP/body)
req() {
    local args=(-s -o "$TMP/body" -w '%{http_code} %{content_type}' -X "$1" "$B$2")
    [ -n "${3:-}" ] && args+=(--data-binary "$3" -H 'Content-Type: application/json')
    [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
    read -r CODE CTYPE < <(curl "${args[@]}")
}
is() { # NAME WANT_CODE [JQ-FILTER that must be true]
    local ok=0
    [ "$CODE" = "$2" ] || ok=1
    if [ -n "${3:-}" ] && [ $ok -eq 0 ]; then jq -e "$3" "$TMP/body" >/dev/null 2>&1 || ok=1; fi
    check "$1" $ok "(got $CODE $CTYPE: $(head -c 300 "$TMP/body"))"
}

req GET /healthz
is "healthz" 200 '.status == "ok" and .schema == 2'
req POST /api/v1/auth/login '{"email":"admin@localhost","password":"correct-horse"}'
is "login" 200 '.token_type == "Bearer" and (.token | startswith("kw_")) and .expires_in > 0'
TOKEN=$(jq -r .token "$TMP/body")
req GET /api/v1/me "" "$TOKEN"
is "me" 200 '.email == "admin@localhost" and .role == "admin"'
req POST /api/v1/auth/login '{"email":"admin@localhost","password":"wrong-horse"}'
is "wrong password" 401 '.status == 401 and .detail == "wrong e-mail or password"'
check "problem+json" "$([ "$CTYPE" = application/problem+json ]; echo $?)" "($CTYPE)"
req POST /api/v1/auth/login '{"email":"nobody@localhost","password":"correct-horse"}'
is "unknown e-mail says the same" 401 '.detail == "wrong e-mail or password"'
req POST /api/v1/auth/login '{"email":"admin@localhost",'
is "bad JSON" 400 '.detail | startswith("not valid JSON")'
req POST /api/v1/auth/login '{"email":42,"password":"x"}'
is "wrong type names the field" 400 '.pointer == "/email"'
req POST /api/v1/auth/login '[1,2]'
is "not an object" 400 '.detail == "the body must be a JSON object"'
req POST /api/v1/auth/login '{"email":"a","email":"b"}'
is "duplicate keys" 400 '.detail | contains("duplicate")'
head -c 1100000 /dev/zero | tr '\0' 'a' >"$TMP/big"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "$B/api/v1/auth/login" --data-binary @"$TMP/big")
is "body over 1 MiB" 413 '.status == 413'
req GET /api/v1/me
is "no token" 401 '.detail | contains("Bearer")'
req GET /api/v1/me "" "kw_forged"
is "forged token" 401
req GET /api/v1/nothing-here
is "unknown route" 404 '.status == 404'
req DELETE /api/v1/me "" "$TOKEN"
is "wrong method" 405
req POST /api/v1/auth/logout "" "$TOKEN"
is "logout" 204
req GET /api/v1/me "" "$TOKEN"
is "token dead after logout" 401
grep -q 'event=http.request method=GET path="/healthz" status=200' "$TMP/log"
check "one log line per request" $?

kill -TERM "$PID"
wait "$PID"
check "SIGTERM exits cleanly" $?
PID=
grep -q "SIGTERM received, stopping" "$TMP/log"
check "says it stops" $?

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
