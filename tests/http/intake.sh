#!/usr/bin/env bash
# Monitoring alerts over HTTP against `keepword serve --demo`: managers set
# up alert sources (each with its own key, mapping rules, rate); real
# Alertmanager (webhook version 4), Grafana and PagerDuty-v2-shaped payloads
# (tests/http/intake/*.json) open tickets with channel monitoring; repeats
# add to the open ticket, resolve records restored, a trigger after the
# resolve opens a new ticket; every refusal: keys, kinds, roles, bad
# payloads, size and rate limits, other organisations.
# usage: tests/http/intake.sh PATH/TO/keepword
set -u
KW=${1:?usage: intake.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"
DIR=$(dirname "$0")/intake

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --demo
MGR=$(login manager@keepword.demo keepword-demo)
AGENT=$(login li.na@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
OTHER=$(login ops@dongfang.demo keepword-demo)
ORG=$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $CUST" | jq .org_id)
TEAMS=$(curl -s "$B/api/v1/teams" -H "Authorization: Bearer $MGR")
TEAM1=$(jq '.teams[0].id' <<<"$TEAMS")
TEAM2=$(jq '.teams[1].id' <<<"$TEAMS")
# post KIND FILE-OR-JSON KEY: one payload to /api/v1/intake/KIND
post() {
    local body=$2
    [ -f "$body" ] && body=$(cat "$body")
    req POST "/api/v1/intake/$1" "$body" "$3"
}
monitoring() { # how many tickets came from monitoring
    curl -s "$B/api/v1/tickets?limit=500" -H "Authorization: Bearer $MGR" |
        jq '[.tickets[] | select(.channel == "monitoring")] | length'
}
events_of() { curl -s "$B/api/v1/tickets/$1/events" -H "Authorization: Bearer $MGR"; }

# --- sources: who may, what is checked ---
AM_SRC='{"name":"prometheus","kind":"alertmanager","org_id":'"$ORG"',"team_id":'"$TEAM1"',"level":"L3","category":"technical",
 "rules":[{"match":{"severity":"critical"},"level":"L1"},{"match":{"team":"dba"},"team_id":'"$TEAM2"'}]}'
req POST /api/v1/intake/sources "$AM_SRC" "$AGENT"
is "an agent may not create an alert source" 403
req POST /api/v1/intake/sources "$AM_SRC" "$CUST"
is "nor a customer" 403
req POST /api/v1/intake/sources "$AM_SRC" "$MGR"
is "a manager creates an Alertmanager source; its key is shown once" 201 \
    '.kind == "alertmanager" and (.key | length) > 20 and .on_resolve == "restored" and .per_minute == 600 and .url_path == "/api/v1/intake/alertmanager"'
AM_KEY=$(jq -r .key "$TMP/body")
AM_ID=$(jq -r .id "$TMP/body")
req POST /api/v1/intake/sources "$AM_SRC" "$MGR"
is "a second source of the same name" 409 '.pointer == "/name"'
req POST /api/v1/intake/sources '{"name":"x","kind":"nagios","org_id":'"$ORG"',"level":"L3"}' "$MGR"
is "an unknown kind" 400 '.pointer == "/kind" and (.detail | contains("alertmanager, grafana or events"))'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":'"$ORG"'}' "$MGR"
is "a source needs a default level" 400 '.pointer == "/level"'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":999999,"level":"L3"}' "$MGR"
is "an unknown organisation" 400 '.detail | contains("no organisation 999999")'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":'"$ORG"',"level":"L3","rules":[{"match":{},"level":"L1"}]}' "$MGR"
is "a rule that matches nothing" 400 '.pointer == "/rules/0" and (.detail | contains("match"))'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":'"$ORG"',"level":"L3","rules":[{"match":{"a":"b"}},{"match":{"a":"b"},"priority":"P1"}]}' "$MGR"
is "a rule that sets nothing" 400 '.pointer == "/rules/0" and (.detail | contains("sets nothing"))'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":'"$ORG"',"level":"L3","rules":[{"match":{"a":"b"},"team_id":424242}]}' "$MGR"
is "a rule naming an unknown team" 400 '.detail | contains("rules[0].team_id: no team 424242")'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":'"$ORG"',"level":"L3","rules":[{"match":{"a":"b"},"level":"L1"},{"match":{"a":"b"},"level":"L2"},{"match":{"severity":"critical","team":""},"level":"L1"}]}' "$MGR"
is "a rule label without a value (typed without =) is refused, naming the rule's match" 400 \
    '.pointer == "/rules/2/match" and (.detail | contains("label \"team\" has no value"))'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":'"$ORG"',"level":"L3","rules":[{"match":{"":"critical"},"level":"L1"}]}' "$MGR"
is "a rule label without a name" 400 '.pointer == "/rules/0/match" and (.detail | contains("has no name"))'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":'"$ORG"',"level":"L3","on_resolve":"close"}' "$MGR"
is "an unknown on_resolve" 400 '.pointer == "/on_resolve"'
req POST /api/v1/intake/sources '{"name":"x","kind":"events","org_id":'"$ORG"',"level":"L3","category":"hardware"}' "$MGR"
is "created (values are checked against the commitment when an alert arrives)" 201
X_KEY=$(jq -r .key "$TMP/body")
post events '{"routing_key":"'"$X_KEY"'","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}' ""
is "a category the commitment does not know: 400 naming it, nothing stored" 400 '.pointer == "/category" and (.detail | contains("hardware"))'
req DELETE "/api/v1/intake/sources/$(jq -r .id <<<"$(curl -s "$B/api/v1/intake/sources" -H "Authorization: Bearer $MGR" | jq '.sources[] | select(.name == "x")')")" "" "$MGR"
is "stopped" 204
req POST /api/v1/intake/sources '{"name":"grafana","kind":"grafana","org_id":'"$ORG"',"level":"L2","on_resolve":"comment"}' "$MGR"
is "a Grafana source that only notes a resolve" 201 '.on_resolve == "comment"'
GF_KEY=$(jq -r .key "$TMP/body")
req POST /api/v1/intake/sources '{"name":"zabbix","kind":"events","org_id":'"$ORG"',"level":"L3","rules":[{"match":{"severity":"critical"},"level":"L1"},{"match":{"region":"shanghai"},"category":"emergency"}]}' "$MGR"
is "an events source" 201
EV_KEY=$(jq -r .key "$TMP/body")
req GET /api/v1/intake/sources "" "$MGR"
is "the list shows the sources and never a key" 200 '(.sources | length) == 4 and all(.sources[]; has("key") | not)'
req GET /api/v1/intake/sources "" "$AGENT"
is "agents do not read the sources" 403

# --- keys ---
post alertmanager "$DIR/alertmanager-firing.json" ""
is "no key" 401 '.detail | contains("Bearer")'
post alertmanager "$DIR/alertmanager-firing.json" "not-a-key"
is "a wrong key" 401
post alertmanager "$DIR/alertmanager-firing.json" "$EV_KEY"
is "another kind's key names the right path" 400 '.detail | contains("/api/v1/intake/events")'
post alertmanager "$DIR/alertmanager-firing.json" "$MGR"
is "a session token is not an intake key" 401

# --- Alertmanager: firing, repeat, resolved, firing again ---
BEFORE=$(monitoring)
post alertmanager "$DIR/alertmanager-firing.json" "$AM_KEY"
is "two firing alerts open two tickets" 202 \
    '[.results[].outcome] == ["created", "created"] and all(.results[]; .ticket_id > 0)'
DISK=$(jq '.results[0].ticket_id' "$TMP/body")
LAT=$(jq '.results[1].ticket_id' "$TMP/body")
req GET "/api/v1/tickets/$DISK" "" "$MGR"
is "mapped: critical is L1, team dba goes to the second team, channel monitoring" 200 \
    '.level == "L1" and .team_id == '"$TEAM2"' and .channel == "monitoring" and .category == "technical" and (.title | startswith("DiskFull: 磁盘"))'
req GET "/api/v1/tickets/$LAT" "" "$MGR"
is "unmatched: the source's defaults" 200 '.level == "L3" and .team_id == '"$TEAM1"
events_of "$DISK" >"$TMP/body"
jq -e '.events[0].body.description | contains("instance=db1:9100") and contains("generatorURL: http://prometheus:9090")' "$TMP/body" >/dev/null
check "the description keeps labels, annotations and the link" $?
post alertmanager "$DIR/alertmanager-firing.json" "$AM_KEY"
is "Alertmanager's repeat adds to the open tickets" 202 \
    '[.results[].outcome] == ["updated", "updated"] and .results[0].ticket_id == '"$DISK"
[ "$(monitoring)" -eq $((BEFORE + 2)) ]
check "no duplicate tickets" $?
events_of "$DISK" | jq -e '[.events[] | select(.type == "comment" and .body.internal and (.body.text | contains("fired again")))] | length == 1' >/dev/null
check "the repeat is an internal note" $?
for _ in 1 2 3; do post alertmanager "$DIR/alertmanager-firing.json" "$AM_KEY"; done
is "more repeats still update" 202 '[.results[].outcome] == ["updated", "updated"]'
events_of "$DISK" | jq -e '[.events[] | select(.type == "comment" and .body.internal and (.body.text | contains("fired again"))) | .body.text | capture("repeat (?<n>[0-9]+)").n] == ["1", "2", "4"]' >/dev/null
check "four repeats: notes at the 1st, 2nd and 4th only (every repeat counted)" $?
RESOLVED=$(jq '.status = "resolved" | .alerts = [.alerts[0] | .status = "resolved" | .endsAt = "2026-11-30T13:30:00Z"]' "$DIR/alertmanager-firing.json")
post alertmanager "$RESOLVED" "$AM_KEY"
is "resolved" 202 '.results[0].outcome == "resolved" and .results[0].ticket_id == '"$DISK"
events_of "$DISK" | jq -e '[.events[] | select(.type == "milestone") | .body.milestone] | index("restored") != null' >/dev/null
check "resolved records the restored milestone" $?
post alertmanager "$RESOLVED" "$AM_KEY"
is "a second resolved changes nothing" 202 '.results[0].outcome == "ignored"'
post alertmanager "$DIR/alertmanager-firing.json" "$AM_KEY"
is "firing after the resolve opens a new ticket; the other alert still adds" 202 \
    '.results[0].outcome == "created" and .results[0].ticket_id != '"$DISK"' and .results[1].outcome == "updated"'
NOFP=$(jq 'del(.alerts[].fingerprint) | .alerts |= [.[1]]' "$DIR/alertmanager-firing.json")
post alertmanager "$NOFP" "$AM_KEY"
is "without fingerprints the labels identify the alert" 202 '.results[0].outcome == "created"'
post alertmanager "$NOFP" "$AM_KEY"
is "and repeat the same way" 202 '.results[0].outcome == "updated"'

# --- who sees monitoring tickets ---
req GET "/api/v1/tickets/$DISK" "" "$CUST"
is "the organisation's customer sees its monitoring ticket" 200
req GET "/api/v1/tickets/$DISK" "" "$OTHER"
is "another organisation's does not" 404
events_of "$DISK" >/dev/null
req GET "/api/v1/tickets/$DISK/events" "" "$CUST"
is "and not the internal notes" 200 'all(.events[]; .type != "comment" or (.body.internal | not))'

# --- bad Alertmanager payloads ---
post alertmanager '{"version":"4","status":"firing"}' "$AM_KEY"
is "no alerts" 400 '.pointer == "/alerts"'
post alertmanager '{"version":"3","alerts":[]}' "$AM_KEY"
is "another webhook version" 400 '.pointer == "/version"'
post alertmanager '{"version":"4","alerts":[{"status":"pending","labels":{}}]}' "$AM_KEY"
is "an unknown status" 400 '.pointer == "/alerts/0" and (.detail | contains("firing or resolved"))'
post alertmanager '{"version":"4","alerts":[{"status":"firing","labels":{"a":1}}]}' "$AM_KEY"
is "labels that are not strings" 400 '.pointer == "/alerts/0"'
post alertmanager '{"version":"4","alerts":[' "$AM_KEY"
is "broken JSON" 400
post alertmanager "$(jq -c '.alerts[0].fingerprint = ("x" * 300)' "$DIR/alertmanager-firing.json")" "$AM_KEY"
is "a fingerprint over 255 bytes" 400 '.detail | contains("fingerprint")'
head -c 600000 /dev/zero | tr '\0' 'a' | jq -Rc '{version:"4",alerts:[],pad:.}' >"$TMP/big.json"
read -r CODE _ < <(curl -s -o "$TMP/body" -w '%{http_code} %{content_type}' -X POST "$B/api/v1/intake/alertmanager" -H "Authorization: Bearer $AM_KEY" -H "Content-Type: application/json" --data-binary @"$TMP/big.json")
is "a payload over 512 KiB" 413
jq -c '.alerts = [range(1001) | {status:"firing",labels:{alertname:"x"}}]' "$DIR/alertmanager-firing.json" >"$TMP/many.json"
read -r CODE _ < <(curl -s -o "$TMP/body" -w '%{http_code} %{content_type}' -X POST "$B/api/v1/intake/alertmanager" -H "Authorization: Bearer $AM_KEY" -H "Content-Type: application/json" --data-binary @"$TMP/many.json")
is "more than 1,000 alerts" 413

# --- Grafana ---
post grafana "$DIR/grafana-firing.json" "$GF_KEY"
is "Grafana's alert opens a ticket" 202 '.results[0].outcome == "created"'
GF=$(jq '.results[0].ticket_id' "$TMP/body")
events_of "$GF" | jq -e '.events[0].body.description | startswith("Grafana alert firing") and contains("dashboardURL: http://grafana:3000/d/abc") and contains("valueString")' >/dev/null
check "with its dashboard, panel and values" $?
post grafana "$(jq '.alerts[0].status = "resolved"' "$DIR/grafana-firing.json")" "$GF_KEY"
is "resolved" 202 '.results[0].outcome == "resolved"'
events_of "$GF" | jq -e '([.events[] | select(.type == "milestone")] | length) == 0 and ([.events[] | select(.type == "comment")] | length) == 1' >/dev/null
check "on_resolve comment: a note and no milestone" $?

# --- the events API (PagerDuty Events v2 shape) ---
TRIG=$(jq --arg k "$EV_KEY" '.routing_key = $k' "$DIR/events-trigger.json")
post events "$TRIG" ""
is "routing_key is the key" 202 '.status == "success" and .dedup_key == "srv01/HTTP" and .results[0].outcome == "created"'
EV=$(jq '.results[0].ticket_id' "$TMP/body")
req GET "/api/v1/tickets/$EV" "" "$MGR"
is "custom_details are labels for the rules" 200 '.category == "emergency" and .level == "L3" and .title == "HTTP check on srv01 failing: 503"'
post events "$TRIG" ""
is "the same dedup_key adds to the ticket" 202 '.results[0].outcome == "updated" and .results[0].ticket_id == '"$EV"
post events "$(jq -c '{routing_key, event_action: "acknowledge", dedup_key}' <<<"$TRIG")" ""
is "acknowledge" 202 '.results[0].outcome == "acknowledged"'
post events "$(jq -c '{routing_key, event_action: "resolve", dedup_key}' <<<"$TRIG")" ""
is "resolve" 202 '.results[0].outcome == "resolved" and .results[0].ticket_id == '"$EV"
post events "$(jq -c '{routing_key, event_action: "acknowledge", dedup_key}' <<<"$TRIG")" ""
is "an acknowledge after the resolve is dropped" 202 '.results[0].outcome == "ignored" and .results[0].ticket_id == null'
post events "$(jq -c '{routing_key, event_action: "resolve", dedup_key: "never-seen"}' <<<"$TRIG")" ""
is "a resolve of an unknown key is dropped" 202 '.results[0].outcome == "ignored"'
post events "$TRIG" ""
is "a trigger after the resolve opens a new ticket" 202 '.results[0].outcome == "created" and .results[0].ticket_id != '"$EV"
NOKEY=$(jq -c 'del(.dedup_key) | .payload.severity = "critical"' <<<"$TRIG")
post events "$NOKEY" ""
is "a trigger without dedup_key gets one made" 202 '.results[0].outcome == "created" and (.dedup_key | length) > 10'
K1=$(jq -r .dedup_key "$TMP/body")
T1=$(jq '.results[0].ticket_id' "$TMP/body")
post events "$NOKEY" ""
is "and always opens a new one" 202 '.results[0].outcome == "created" and .dedup_key != "'"$K1"'"'
req GET "/api/v1/tickets/$T1" "" "$MGR"
is "severity critical maps to L1" 200 '.level == "L1"'
post events "$(jq -c '.event_action = "escalate"' <<<"$TRIG")" ""
is "an unknown event_action" 400 '.pointer == "/event_action"'
post events "$(jq -c 'del(.payload.summary)' <<<"$TRIG")" ""
is "a trigger without a summary" 400 '.pointer == "/payload/summary"'
post events "$(jq -c '.payload.severity = "fatal"' <<<"$TRIG")" ""
is "an unknown severity" 400 '.pointer == "/payload/severity" and (.detail | contains("critical, error, warning or info"))'
post events "$(jq -c 'del(.payload.source)' <<<"$TRIG")" ""
is "a trigger without a source" 400 '.pointer == "/payload/source"'
post events "$(jq -c '{routing_key, event_action: "resolve"}' <<<"$TRIG")" ""
is "a resolve without dedup_key" 400 '.pointer == "/dedup_key"'
post events "$(jq -c '.dedup_key = ("k" * 256)' <<<"$TRIG")" ""
is "a dedup_key over 255 bytes" 400 '.pointer == "/dedup_key"'
post events "$(jq -c 'del(.routing_key)' <<<"$TRIG")" ""
is "no routing_key" 401 '.pointer == "/routing_key"'

# --- the rate of a source ---
req POST /api/v1/intake/sources '{"name":"chatty","kind":"events","org_id":'"$ORG"',"level":"L3","per_minute":2}' "$MGR"
is "a source allowed 2 payloads a minute" 201
CH_KEY=$(jq -r .key "$TMP/body")
ACK='{"routing_key":"'$CH_KEY'","event_action":"acknowledge","dedup_key":"none"}'
post events "$ACK" ""
is "first" 202
post events "$ACK" ""
is "second" 202
read -r CODE _ < <(curl -s -o "$TMP/body" -D "$TMP/head" -w '%{http_code} %{content_type}' -X POST "$B/api/v1/intake/events" -H "Content-Type: application/json" --data-binary "$ACK")
is "the third is refused" 429 '.detail | contains("2 payloads a minute")'
grep -qi '^Retry-After: [1-9]' "$TMP/head"
check "with Retry-After" $?
post events "$TRIG" ""
is "other sources are not slowed" 202

# --- changing a source's mapping rules (PATCH) ---
EV_ID=$(curl -s "$B/api/v1/intake/sources" -H "Authorization: Bearer $MGR" | jq '.sources[] | select(.name == "zabbix") | .id')
req PATCH "/api/v1/intake/sources/$EV_ID" '{"level":"L2"}' "$AGENT"
is "agents do not change sources" 403
req PATCH "/api/v1/intake/sources/$EV_ID" '{"kind":"grafana"}' "$MGR"
is "the kind stays (its key works on one path)" 400 '.pointer == "/kind"'
req PATCH "/api/v1/intake/sources/$EV_ID" '{"rules":[{"match":{"source":"db01"}}]}' "$MGR"
is "a rule that sets nothing" 400 '.pointer == "/rules/0"'
req PATCH "/api/v1/intake/sources/$EV_ID" '{"rules":[{"match":{"source":"db01"},"team_id":424242}]}' "$MGR"
is "a rule naming a team that does not exist" 400 '.detail | contains("rules[0].team_id: no team 424242")'
req PATCH "/api/v1/intake/sources/$EV_ID" '{"rules":[{"match":{"source":"db01"},"level":"L1"},{"match":{"severity":""},"level":"L1"}]}' "$MGR"
is "PATCH: a rule label without a value" 400 '.pointer == "/rules/1/match" and (.detail | contains("severity"))'
req PATCH "/api/v1/intake/sources/$EV_ID" '{"on_resolve":"close"}' "$MGR"
is "on_resolve: restored or comment" 400 '.pointer == "/on_resolve"'
req PATCH "/api/v1/intake/sources/$EV_ID" '{"name":"grafana"}' "$MGR"
is "a name another source has" 409 '.pointer == "/name"'
req PATCH /api/v1/intake/sources/999999 '{"level":"L2"}' "$MGR"
is "an unknown source" 404
req PATCH "/api/v1/intake/sources/$EV_ID" '{"rules":[{"match":{"source":"db01.example.cn","severity":"critical"},"level":"L1","team_id":'"$TEAM2"'}],"category":null}' "$MGR"
is "a manager replaces the rules; the key is not shown again" 200 \
    '(.rules | length) == 1 and .rules[0].team_id == '"$TEAM2"' and .category == null and .kind == "events" and (has("key") | not)'
req GET /api/v1/intake/sources "" "$MGR"
is "the list shows the new rules" 200 '.sources[] | select(.id == '"$EV_ID"') | .rules[0].match.source == "db01.example.cn"'
DB01=$(jq -c --arg k "$EV_KEY" '.routing_key = $k | .dedup_key = "db01/disk" | .payload.source = "db01.example.cn" | .payload.severity = "critical" | .payload.summary = "db01 disk full"' "$DIR/events-trigger.json")
post events "$DB01" ""
is "the same key still works" 202 '.results[0].outcome == "created"'
req GET "/api/v1/tickets/$(jq '.results[0].ticket_id' "$TMP/body")" "" "$MGR"
is "the new rule decides level and team" 200 '.level == "L1" and .team_id == '"$TEAM2"
req PATCH "/api/v1/intake/sources/$EV_ID" '{"rules":null}' "$MGR"
is "rules: null removes every rule" 200 '.rules == []'

# --- sixteen triggers of a new key at once (the intake's units are handed
# to the writer from the I/O threads): one ticket, every repeat counted ---
RACE='{"routing_key":"'"$EV_KEY"'","event_action":"trigger","dedup_key":"race-1","payload":{"summary":"at once","source":"race","severity":"warning"}}'
RACERS=()
for i in $(seq 1 16); do
    curl -s -o "$TMP/race-$i" -w '%{http_code}\n' -X POST "$B/api/v1/intake/events" \
        -H "Content-Type: application/json" -d "$RACE" >"$TMP/race-code-$i" &
    RACERS+=($!)
done
wait "${RACERS[@]}" # not the server, also a child of this shell
cat "$TMP"/race-code-* | sort | uniq -c | grep -qx ' *16 202'
check "sixteen triggers at once: all 202" $?
jq -s -e '([.[].results[0].outcome] | sort) == (["created"] + [range(15) | "updated"]) and
    ([.[].results[0].ticket_id] | unique | length) == 1' "$TMP"/race-[0-9]* >/dev/null
check "one opened the ticket, fifteen were repeats on it" $?
RACE_T=$(jq -s '.[0].results[0].ticket_id' "$TMP"/race-[0-9]*)
events_of "$RACE_T" | jq -e '[.events[] | select(.type == "comment" and (.body.text | contains("fired again"))) | .body.text | capture("repeat (?<n>[0-9]+)").n] == ["1", "2", "4", "8"]' >/dev/null
check "and its notes are at the 1st, 2nd, 4th and 8th repeat" $?

# --- a new key for a source (a leaked key is replaced; the source keeps its alerts) ---
req POST "/api/v1/intake/sources/$EV_ID/key" "" "$AGENT"
is "agents do not re-issue keys" 403
req POST /api/v1/intake/sources/999999/key "" "$MGR"
is "a new key for an unknown source" 404
req POST "/api/v1/intake/sources/$EV_ID/key" "" "$MGR"
is "a manager re-issues the key; the new one is shown once" 200 \
    '.id == '"$EV_ID"' and .kind == "events" and (.key | length) > 20 and .key != "'"$EV_KEY"'"'
NEW_EV_KEY=$(jq -r .key "$TMP/body")
post events "$DB01" ""
is "the old key is refused at once" 401
post events "$(jq -c --arg k "$NEW_EV_KEY" '.routing_key = $k' <<<"$DB01")" ""
is "the new key works, and the source's open alert is still deduplicated" 202 \
    '.results[0].outcome != "created"'
req GET /api/v1/intake/sources "" "$MGR"
is "the list still never shows a key" 200 'all(.sources[]; has("key") | not)'

# --- stopping a source ---
req DELETE "/api/v1/intake/sources/$AM_ID" "" "$AGENT"
is "agents do not stop sources" 403
req DELETE "/api/v1/intake/sources/$AM_ID" "" "$MGR"
is "a manager stops a source" 204
post alertmanager "$DIR/alertmanager-firing.json" "$AM_KEY"
is "its key is refused from then on" 401
req DELETE /api/v1/intake/sources/999999 "" "$MGR"
is "an unknown source" 404
req POST "/api/v1/intake/sources/$AM_ID/key" "" "$MGR"
is "a stopped source gets no new key" 409 '.detail | contains("stopped")'
req GET "/api/v1/tickets/$DISK/verify" "" "$MGR"
is "the monitoring ticket's chain verifies" 200 '.valid == true'

# --- the audit trail: each change of a source, never its key ---
MGR_ID=$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $MGR" | jq .id)
req GET "/api/v1/audit?kind=intake_source&limit=500" "" "$MGR"
is "creating and stopping a source are audit entries by the manager" 200 \
    '([.changes[] | select(.object == '"$AM_ID"') | .action] | sort) == ["create","deactivate"] and
     all(.changes[]; .actor == '"$MGR_ID"' and .kind == "intake_source")'
is "a new key is an audit entry: (set) before, (changed) after, nothing else changed" 200 \
    '[.changes[] | select(.object == '"$EV_ID"' and .action == "rekey")] | length == 1 and
     .[0].before.key == "(set)" and .[0].after.key == "(changed)" and
     (.[0].before | del(.key)) == (.[0].after | del(.key))'
is "stopping: active before, not after" 200 \
    '.changes[] | select(.object == '"$AM_ID"' and .action == "deactivate") | .before.active == true and .after.active == false and .after.key == "(set)"'
is "a new source: no before, its rules as JSON after" 200 \
    '.changes[] | select(.object == '"$AM_ID"' and .action == "create") | .before == null and .after.rules[0].match.severity == "critical" and .after.kind == "alertmanager"'
is "editing the rules: the rules before and after" 200 \
    '[.changes[] | select(.object == '"$EV_ID"' and .action == "update" and (.before.rules | length) == 1 and .after.rules == [])] | length == 1'
jq -r '.changes[] | [.before, .after] | tostring' "$TMP/body" >"$TMP/audit.txt"
KEYS_FOUND=0
for k in "$AM_KEY" "$EV_KEY" "$NEW_EV_KEY"; do grep -qF "$k" "$TMP/audit.txt" && KEYS_FOUND=1; done
! grep -q digest "$TMP/audit.txt" && [ "$KEYS_FOUND" -eq 0 ]
check "no intake key (nor its digest) is in the audit trail" $?
N_AUDIT=$(jq '.changes | length' "$TMP/body")
req PATCH "/api/v1/intake/sources/$EV_ID" '{"rules":[]}' "$MGR"
is "an edit that changes nothing" 200
req GET "/api/v1/audit?kind=intake_source&limit=500" "" "$MGR"
is "writes no audit entry" 200 '(.changes | length) == '"$N_AUDIT"

# a title is one line: an alert's summary with line breaks, tabs or other
# controls becomes one line (its description keeps them)
ML=$(jq -c --arg k "$NEW_EV_KEY" '.routing_key = $k | .dedup_key = "multi/line" | .payload.summary = "disk full\n\ton db01\u0007now"' "$DIR/events-trigger.json")
post events "$ML" ""
is "a summary of several lines opens a ticket" 202 '.results[0].outcome == "created"'
ML_ID=$(jq '.results[0].ticket_id' "$TMP/body")
req GET "/api/v1/tickets/$ML_ID" "" "$MGR"
is "its title is one line" 200 '.title == "disk full on db01 now"'
events_of "$ML_ID" | jq -e '.events[0].body.description | startswith("disk full\n\ton db01")' >/dev/null
check "its description keeps the lines" $?

serve_stop
finish
