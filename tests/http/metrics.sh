#!/usr/bin/env bash
# GET /metrics: the Prometheus text format, what it counts, and who may read it.
# usage: tests/http/metrics.sh PATH/TO/keepword
set -u
KW=${1:?usage: metrics.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
CTYPE=

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
"$KW" serve --db "$TMP/kw.db" --listen 127.0.0.1:0 --metrics everyone 2>"$TMP/bad.err"
check "an unknown --metrics setting stops the server" $((! $?))
grep -q -- '--metrics: "everyone" is not loopback, token or off' "$TMP/bad.err"
check "and says why" $? "$(cat "$TMP/bad.err")"

serve_start --trusted-proxy 127.0.0.1
ADMIN=$(login admin@localhost correct-horse)
req POST /api/v1/orgs '{"name":"Acme"}' "$ADMIN"
ORG=$(jq -r .id "$TMP/body")
for i in 1 2 3; do
    req POST /api/v1/tickets "{\"org_id\":$ORG,\"title\":\"metric $i\",\"level\":\"L2\"}" "$ADMIN"
done
req GET /api/v1/tickets/999999 "" "$ADMIN"
curl -s -o "$TMP/m" -D "$TMP/h" "$B/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/h"
check "a loopback client reads the metrics as Prometheus text" $? "$(cat "$TMP/h")"
# every line a comment or `name{labels} value`
bad=$(grep -Ev '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+)$' "$TMP/m" | head -3)
[ -z "$bad" ]
check "every line is well formed" $? "($bad)"
grep -q '^keepword_http_requests_total{method="POST",route="/api/v1/tickets",status="201"} 3$' "$TMP/m"
check "requests are counted by route pattern and status" $? "$(grep requests_total "$TMP/m")"
grep -q '^keepword_http_requests_total{method="GET",route="/api/v1/tickets/{id}",status="404"} 1$' "$TMP/m"
check "ids do not make new series" $?
grep -q '^keepword_http_request_duration_seconds_count{method="POST",route="/api/v1/tickets"} 3$' "$TMP/m"
check "with a latency histogram" $?
grep -q '^keepword_tickets{state="registered"} 3$' "$TMP/m"
check "tickets by state" $? "$(grep keepword_tickets "$TMP/m")"
units=$(sed -n 's/^keepword_writer_units_total \([0-9]*\)$/\1/p' "$TMP/m")
[ "${units:-0}" -ge 5 ]
check "the writer's units" $? "($units)"
grep -q '^keepword_writer_commit_seconds_bucket{le="+Inf"} [1-9]' "$TMP/m" &&
    grep -q '^keepword_engine_timers ' "$TMP/m" &&
    grep -q '^keepword_engine_lateness_seconds{quantile="0.99"} ' "$TMP/m" &&
    grep -q '^keepword_deliveries_total{outcome="failed"} 0$' "$TMP/m" &&
    grep -q '^keepword_streams 0$' "$TMP/m"
check "commit times, engine timers and lateness, deliveries, streams" $?
curl -s -N --max-time 3 -H "Authorization: Bearer $ADMIN" "$B/api/v1/stream" >/dev/null &
SSE=$!
sleep 1
curl -s "$B/metrics" | grep -q '^keepword_streams 1$'
check "an open stream is counted" $?
wait "$SSE"
# the server notices a closed stream at its next write (a keep-alive at the latest)
gone=1
for _ in $(seq 1 200); do
    curl -s "$B/metrics" | grep -q '^keepword_streams 0$' && { gone=0; break; }
    sleep 0.1
done
check "and uncounted when it ends" $gone
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "X-Forwarded-For: 203.0.113.5" "$B/metrics")
is "a client behind the proxy is not loopback" 403 '.detail | contains("loopback")'
serve_stop

serve_start --metrics token
ADMIN=$(login admin@localhost correct-horse)
req POST /api/v1/users '{"email":"ann@x.example","name":"Ann","role":"agent","password":"password-agent"}' "$ADMIN"
AGENT=$(login ann@x.example password-agent)
req GET /metrics
is "--metrics token: none, none" 401
req GET /metrics "" "$AGENT"
is "an agent's token is not enough" 403
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$B/metrics")
[ "$CODE" = 200 ] && grep -q '^keepword_writer_units_total' "$TMP/body"
check "an admin's token reads them" $?
serve_stop

serve_start --metrics off
req GET /metrics
is "--metrics off: not there" 404
serve_stop
finish
