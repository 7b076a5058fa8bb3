#!/usr/bin/env bash
# Monitoring alerts through a real Alertmanager (Debian's
# prometheus-alertmanager, started here on loopback with a throw-away
# storage directory and no cluster listener, stopped by its PID): its
# webhook receiver points at `keepword serve --demo`'s
# /api/v1/intake/alertmanager with the source's key as a Bearer token.
# Alerts posted to Alertmanager's own API reach Keepword through its
# grouping and repeat logic: firing opens one ticket, Alertmanager's repeats
# add to it (no duplicate), the resolve records the restored milestone, and
# firing again after the resolve opens a new ticket.
# usage: tests/http/alertmanager.sh PATH/TO/keepword
set -u
KW=${1:?usage: alertmanager.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
AM=$(command -v prometheus-alertmanager || echo /usr/bin/prometheus-alertmanager)
[ -x "$AM" ] || { echo "FAIL: prometheus-alertmanager is not installed (scripts/deps.sh installs it)"; exit 1; }

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --demo
MGR=$(login manager@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
ORG=$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $CUST" | jq .org_id)
req POST /api/v1/intake/sources '{"name":"prometheus","kind":"alertmanager","org_id":'"$ORG"',"level":"L3","category":"technical","rules":[{"match":{"severity":"critical"},"level":"L1"}]}' "$MGR"
is "a manager creates an Alertmanager source" 201
KEY=$(jq -r .key "$TMP/body")

# Alertmanager: a group per alertname, sent 1 s after its first alert, again
# every 2 s when it changed, and repeated every 3 s while it fires
AM_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/am"
cat >"$TMP/am/alertmanager.yml" <<YML
route:
  receiver: keepword
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 3s
receivers:
  - name: keepword
    webhook_configs:
      - url: $B/api/v1/intake/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: $KEY
YML
"$AM" --config.file="$TMP/am/alertmanager.yml" --storage.path="$TMP/am/data" \
    --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
    --log.level=warn 2>"$TMP/am.out" &
AM_PID=$!
EXTRA_PIDS+=("$AM_PID")
AMB=http://127.0.0.1:$AM_PORT
for _ in $(seq 1 100); do
    curl -sf "$AMB/-/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "$AMB/-/ready" >/dev/null
check "Alertmanager is ready on loopback" $? "($(tail -5 "$TMP/am.out"))"

# am_post ENDS: post the DiskFull alert to Alertmanager's API (ENDS: its
# endsAt, in the future while it fires, now to resolve it)
STARTS=$(date -u +%Y-%m-%dT%H:%M:%SZ)
am_post() {
    curl -s -o "$TMP/am.body" -w '%{http_code}' -X POST "$AMB/api/v2/alerts" -H 'Content-Type: application/json' \
        -d '[{"labels":{"alertname":"DiskFull","severity":"critical","instance":"db1:9100"},
              "annotations":{"summary":"磁盘将满 on db1"},
              "startsAt":"'"$STARTS"'","endsAt":"'"$1"'",
              "generatorURL":"http://prometheus:9090/graph"}]'
}
tickets() { # the monitoring tickets titled DiskFull, as JSON ids
    curl -s "$B/api/v1/tickets?limit=500" -H "Authorization: Bearer $MGR" |
        jq -c '[.tickets[] | select(.channel == "monitoring" and (.title | startswith("DiskFull"))) | .id]'
}
notes() { # the "fired again" notes on ticket $1
    curl -s "$B/api/v1/tickets/$1/events" -H "Authorization: Bearer $MGR" |
        jq '[.events[] | select(.type == "comment" and .body.internal and (.body.text | contains("fired again")))] | length'
}
# until N TEST...: retry TEST every 0.25 s for up to N seconds
until_s() {
    local n=$1
    shift
    for _ in $(seq 1 $((n * 4))); do
        "$@" && return 0
        sleep 0.25
    done
    "$@"
}

FUTURE=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
[ "$(am_post "$FUTURE")" = 200 ]
check "Alertmanager takes the firing alert" $? "($(cat "$TMP/am.body"))"
one_ticket() { [ "$(tickets | jq length)" -eq 1 ]; }
until_s 15 one_ticket
check "its notification opens one ticket" $? "($(tickets); $(tail -3 "$TMP/am.out"))"
T=$(tickets | jq '.[0]')
req GET "/api/v1/tickets/$T" "" "$MGR"
is "mapped: critical is L1, channel monitoring, the summary in the title" 200 \
    '.level == "L1" and .channel == "monitoring" and (.title | contains("磁盘将满"))'

# Alertmanager repeats the firing group every 3 s; posting the same alert
# again changes nothing there
[ "$(am_post "$FUTURE")" = 200 ]
check "the same alert posted again" $?
repeated() { [ "$(notes "$T")" -ge 1 ]; }
until_s 20 repeated
check "Alertmanager's repeat adds a note to the open ticket" $? "($(notes "$T") notes)"
[ "$(tickets | jq length)" -eq 1 ]
check "and no second ticket" $? "($(tickets))"

# resolve: endsAt now; Alertmanager sends the resolved group
[ "$(am_post "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" = 200 ]
check "the alert resolved at Alertmanager" $?
restored() {
    curl -s "$B/api/v1/tickets/$T/events" -H "Authorization: Bearer $MGR" |
        jq -e '[.events[] | select(.type == "milestone") | .body.milestone] | index("restored") != null' >/dev/null
}
until_s 20 restored
check "the resolve records the restored milestone" $?

# firing again (a new startsAt: a new instance of the alert to Alertmanager)
STARTS=$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)
sleep 1
[ "$(am_post "$FUTURE")" = 200 ]
check "the alert fires again" $?
two_tickets() { [ "$(tickets | jq length)" -eq 2 ]; }
until_s 20 two_tickets
check "firing after the resolve opens a new ticket" $? "($(tickets))"

req GET "/api/v1/tickets/$T" "" "$CUST"
is "the organisation's customer sees the monitoring ticket" 200 '.channel == "monitoring"'

kill "$AM_PID" 2>/dev/null
wait "$AM_PID" 2>/dev/null
serve_stop
finish
