#!/usr/bin/env bash
# Nobody locks everyone out by holding connections (issue 14, finding 1):
#  - 1000 idle TCP connections from one address: at most --max-per-address
#    of them are kept, and /healthz answers another address at once;
#  - behind a --trusted-proxy the proxy's own connections are not limited
#    per address (its clients vary), and the stream limits count the
#    X-Forwarded-For address;
#  - a client trickling its request headers (slowloris) is cut at
#    --request-timeout; one that stops sending its body, at --idle-timeout;
#  - live streams: refused past --max-streams-per-user, per address and in
#    all with a problem+json 429 saying which limit and a Retry-After; a
#    stream whose client went away stops counting within about a second;
#  - 300 open streams hold no thread: /healthz and writes still answer.
# Client addresses are simulated on loopback: the tool binds its sockets to
# 127.0.0.x (all of 127.0.0.0/8 is this host on Linux) and curl uses
# --interface; the proxy case sends X-Forwarded-For from a trusted 127.0.0.1.
# usage: tests/http/limits.sh PATH/TO/keepword PATH/TO/kwload
set -u
KW=${1:?usage: limits.sh PATH/TO/keepword PATH/TO/kwload}
LOAD=${2:?usage: limits.sh PATH/TO/keepword PATH/TO/kwload}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1

# healthz_from ADDR: the seconds /healthz took from source address ADDR (or "fail")
healthz_from() {
    curl -s -o "$TMP/hz" -w "%{time_total}" --interface "$1" -m 3 "$B/healthz" 2>/dev/null &&
        jq -e '.status == "ok"' "$TMP/hz" >/dev/null || echo fail
}

"$KW" serve --db "$TMP/kw.db" --listen 127.0.0.1:0 --max-streams 0 2>"$TMP/err.txt"
[ $? = 2 ] && grep -q 'keepword: --max-streams: "0" is not a whole number from 1 to 1000000' "$TMP/err.txt"
check "a limit of 0 is refused with a usage error" $? "($(head -1 "$TMP/err.txt"))"
"$KW" serve --db "$TMP/kw.db" --listen 127.0.0.1:0 --request-timeout 1m 2>"$TMP/err.txt"
[ $? = 2 ] && grep -q 'keepword: --request-timeout: "1m" is not a whole number from 1 to 86400 (seconds)' "$TMP/err.txt"
check "a timeout is whole seconds" $? "($(head -1 "$TMP/err.txt"))"

# --- 1000 idle connections from one address ---
serve_start --max-per-address 40 --request-timeout 30
"$LOAD" --port "$PORT" --mode hold --clients 1000 --duration 4 --source 127.0.0.2 >"$TMP/hold.json" &
HOLD=$!
sleep 2.5
took=$(healthz_from 127.0.0.3)
[ "$took" != fail ] && awk -v t="$took" 'BEGIN { exit !(t < 2) }'
check "with 1000 idle connections open from 127.0.0.2, /healthz answers 127.0.0.3 within 2 s (the thread-per-connection server refused it)" $? "($took s)"
wait $HOLD
held=$(jq -r .held "$TMP/hold.json")
[ "$held" -ge 30 ] && [ "$held" -le 48 ]
check "of the 1000, about --max-per-address (40) were kept, the rest closed at once" $? "($(cat "$TMP/hold.json"))"
grep -q 'event=http.limit limit=connections_per_address addr=127.0.0.2' "$TMP/log"
check "the refusal is logged (a warning, at most a line a second)" $?
took=$(healthz_from 127.0.0.2)
[ "$took" != fail ]
check "once they are gone, that address is served again" $? "($took)"
serve_stop

# --- slow clients ---
serve_start --request-timeout 2 --idle-timeout 2
"$LOAD" --port "$PORT" --mode slowloris --duration 8 --source 127.0.0.4 >"$TMP/slow.json"
cut=$(jq -r .cut_ms "$TMP/slow.json")
[ "$cut" != -1 ] && [ "${cut%.*}" -ge 1500 ] && [ "${cut%.*}" -le 4500 ]
check "a client sending a header line a second (slowloris) is cut at --request-timeout 2 s" $? \
    "($(cat "$TMP/slow.json"))"
grep -q 'event=http.limit limit=request_timeout addr=127.0.0.4' "$TMP/log"
check "and that is logged" $?
start=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ti' >&3
timeout 8 cat <&3 >/dev/null
exec 3<&-
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -ge 1500 ] && [ "$ms" -le 4500 ]
check "a request whose body stops coming is closed at --idle-timeout 2 s" $? "(${ms} ms)"
took=$(healthz_from 127.0.0.4)
[ "$took" != fail ]
check "and a well-behaved request from that address is answered" $? "($took)"
serve_stop

# --- streams: per user, per address (behind a trusted proxy), in all ---
serve_start --trusted-proxy 127.0.0.1 --max-per-address 5 --max-streams-per-user 2 \
    --max-streams-per-address 3 --max-streams 5
ADMIN=$(login admin@localhost correct-horse)
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ACME=$(jq -r .id "$TMP/body")
for u in a b c d; do
    req POST /api/v1/users "{\"email\":\"$u@acme.example\",\"name\":\"$u\",\"role\":\"customer\",\"password\":\"password-$u\",\"org_id\":$ACME}" "$ADMIN"
done
CA=$(login a@acme.example password-a)
CB=$(login b@acme.example password-b)
CC=$(login c@acme.example password-c)
CD=$(login d@acme.example password-d)

# stream TOKEN FORWARDED-FOR NAME: a stream in the background, its output in $TMP/NAME
stream() {
    curl -s -N --max-time 90 -H "Authorization: Bearer $1" -H "X-Forwarded-For: $2" \
        "$B/api/v1/stream" >"$TMP/$3" &
    EXTRA_PIDS+=($!)
}
# stream_code TOKEN FORWARDED-FOR: a stream's status (the body in $TMP/body, headers in $TMP/head)
stream_code() {
    CODE=$(curl -s -N --max-time 1 -D "$TMP/head" -o "$TMP/body" -w '%{http_code}' \
        -H "Authorization: Bearer $1" -H "X-Forwarded-For: $2" "$B/api/v1/stream")
}
# started NAME: wait (up to 5 s) until the stream in $TMP/NAME said hello
started() {
    for _ in $(seq 1 50); do
        grep -q '^event: hello' "$TMP/$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
stream "$CA" 10.0.0.1 a1
stream "$CA" 10.0.0.1 a2
started a1
started a2
stream_code "$CA" 10.0.0.1
[ "$CODE" = 429 ] && jq -e '.status == 429 and (.detail | test("2 live streams open, the limit per user"))' "$TMP/body" >/dev/null &&
    grep -qi '^Content-Type: application/problem+json' "$TMP/head" && grep -qi '^Retry-After: [0-9]' "$TMP/head"
check "a user's third stream is refused: 429 problem+json naming the per-user limit, with Retry-After" $? \
    "($CODE $(cat "$TMP/body"))"
started a1 && started a2
check "while the first two stream" $?
stream "$CB" 10.0.0.1 b1
started b1
stream_code "$CC" 10.0.0.1
[ "$CODE" = 429 ] && jq -e '.detail | test("your address has 3 live streams open")' "$TMP/body" >/dev/null
check "the address behind the proxy (X-Forwarded-For 10.0.0.1) is refused its fourth stream" $? \
    "($CODE $(cat "$TMP/body"))"
stream "$CC" 10.0.0.2 c1
started c1
check "another address behind the same proxy is not" $?
stream "$CD" 10.0.0.3 d1
started d1
stream_code "$CD" 10.0.0.4
[ "$CODE" = 429 ] && jq -e '.detail | test("the server has 5 live streams open")' "$TMP/body" >/dev/null
check "past --max-streams (5) every new stream is refused" $? "($CODE $(cat "$TMP/body"))"
jq -e '.status == "ok"' <(curl -s -m 2 "$B/healthz") >/dev/null
check "/healthz answers meanwhile" $?
"$LOAD" --port "$PORT" --mode hold --clients 20 --duration 1 >"$TMP/proxy.json"
[ "$(jq -r .held "$TMP/proxy.json")" = 20 ]
check "the trusted proxy's own connections are not held to --max-per-address (5)" $? \
    "($(cat "$TMP/proxy.json"))"
# a client that goes away stops counting: its stream is suspended, so the
# server looks at its socket (about once a second)
kill "${EXTRA_PIDS[0]}"
for _ in $(seq 1 10); do
    sleep 0.5
    stream_code "$CA" 10.0.0.1
    [ "$CODE" = 200 ] && break
done
[ "$CODE" = 200 ]
check "a user whose stream was closed may open another soon after (the server looks about once a second)" $? "($CODE $(cat "$TMP/body"))"
req POST /api/v1/tickets "{\"org_id\":$ACME,\"title\":\"seen live\",\"level\":\"L2\"}" "$ADMIN"
is "a write while streams are open" 201
T=$(jq -r .id "$TMP/body")
for _ in $(seq 1 30); do
    grep '^data: ' "$TMP/a2" | sed 's/^data: //' | jq -se "any(.[]; .id == $T)" >/dev/null && break
    sleep 0.1
done
grep '^data: ' "$TMP/a2" | sed 's/^data: //' | jq -se "any(.[]; .id == $T)" >/dev/null
check "reaches the open streams" $? "($(cat "$TMP/a2"))"
for p in "${EXTRA_PIDS[@]}"; do kill "$p" 2>/dev/null; done
wait "${EXTRA_PIDS[@]}" 2>/dev/null
EXTRA_PIDS=()
serve_stop

# --- 300 open streams hold no thread ---
serve_start --max-streams-per-user 400 --max-streams-per-address 400 --max-per-address 400
ADMIN=$(login admin@localhost correct-horse)
"$LOAD" --port "$PORT" --mode hold --clients 300 --duration 5 --path /api/v1/stream --token "$ADMIN" \
    >"$TMP/streams.json" &
HOLD=$!
sleep 3
took=$(healthz_from 127.0.0.5)
[ "$took" != fail ] && awk -v t="$took" 'BEGIN { exit !(t < 2) }'
check "with 300 streams open /healthz answers within 2 s" $? "($took s)"
req POST /api/v1/orgs '{"name":"Busy"}' "$ADMIN"
is "and a write is acknowledged" 201
wait $HOLD
jq -e '.status_200 == 300 and .held == 300' "$TMP/streams.json" >/dev/null
check "all 300 streams were open and held" $? "($(cat "$TMP/streams.json"))"
serve_stop
finish
