#!/usr/bin/env bash
# Staff's in-app notifications over HTTP against `keepword serve --demo`:
# a ticket assigned to someone (not when they take it themselves), a
# customer's public comment on their ticket (not an internal note, not a
# colleague's comment), a warning and a breach of a clock on their ticket
# (written by the engine); each person sees only their own, newest first,
# paged; marking some or all read; every refusal.
# usage: tests/http/inbox.sh PATH/TO/keepword
set -u
KW=${1:?usage: inbox.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

at() { echo "$1" >"$TMP/now.new" && mv "$TMP/now.new" "$TMP/now"; }
at "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init "${DB_ARGS[@]}" >/dev/null || exit 1
serve_start --demo --fake-clock "$TMP/now"
MGR=$(login manager@keepword.demo keepword-demo)
ZHANG=$(login zhang.wei@keepword.demo keepword-demo)
TOM=$(login tom@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
uid() { curl -s "$B/api/v1/me" -H "Authorization: Bearer $1" | jq .id; }
TOM_ID=$(uid "$TOM")
ZHANG_ID=$(uid "$ZHANG")
CUST_ORG=$(curl -s "$B/api/v1/me" -H "Authorization: Bearer $CUST" | jq .org_id)

# Tom starts with nothing unread
curl -s -o /dev/null -X POST "$B/api/v1/notifications/read" -H "Authorization: Bearer $TOM" \
    -H "Content-Type: application/json" -d '{"all":true}'
req GET "/api/v1/notifications?unread=true" "" "$TOM"
is "nothing unread to begin with" 200 '.unread == 0 and .notifications == []'

# --- assigned to me ---
req POST /api/v1/tickets "{\"title\":\"Scanner offline in the Shanghai branch\",\"level\":\"L3\",\"org_id\":$CUST_ORG}" "$MGR"
T=$(jq .id "$TMP/body")
req PATCH "/api/v1/tickets/$T" "{\"assignee_id\":$TOM_ID}" "$MGR"
req GET /api/v1/notifications "" "$TOM"
is "a ticket assigned to me" 200 \
    ".unread == 1 and .notifications[0].kind == \"assigned\" and .notifications[0].ticket_id == $T
     and .notifications[0].title == \"Scanner offline in the Shanghai branch\" and .notifications[0].read == false
     and .notifications[0].actor_name == \"王芳\" and .notifications[0].detail == null"
N_ASSIGNED=$(jq '.notifications[0].id' "$TMP/body")
req GET /api/v1/notifications "" "$ZHANG"
is "is not someone else's" 200 "all(.notifications[]; .ticket_id != $T)"
req PATCH "/api/v1/tickets/$T" "{\"assignee_id\":$ZHANG_ID}" "$ZHANG"
req GET /api/v1/notifications "" "$ZHANG"
is "taking a ticket oneself notifies nobody" 200 "all(.notifications[]; .ticket_id != $T)"
req PATCH "/api/v1/tickets/$T" "{\"assignee_id\":$TOM_ID}" "$ZHANG"

# --- a customer replied ---
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"It shows a red light since this morning."}' "$CUST"
is "the customer comments" 201
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"checked the cable","internal":true}' "$ZHANG"
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"We are on it."}' "$ZHANG"
req GET /api/v1/notifications "" "$TOM"
is "a customer's comment notifies the assignee; a colleague's comment and note do not" 200 \
    '.unread == 3 and [.notifications[] | select(.read | not) | .kind] == ["customer_reply","assigned","assigned"]
     and .notifications[0].detail == "It shows a red light since this morning."'
N_REPLY=$(jq '.notifications[0].id' "$TMP/body")

# --- warnings and breaches, written by the engine ---
req POST /api/v1/tickets "{\"title\":\"Core switch down\",\"level\":\"L1\",\"org_id\":$CUST_ORG}" "$MGR"
OPEN=$(jq .id "$TMP/body")
req PATCH "/api/v1/tickets/$OPEN" "{\"assignee_id\":$TOM_ID}" "$MGR"
at "$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)" # past its response target: warnings, then the breach
eventually "/api/v1/notifications?unread=true" "$TOM" \
    "any(.notifications[]; .ticket_id == $OPEN and (.kind == \"sla_warning\" or .kind == \"sla_breach\"))"
is "a warning or breach on my ticket" 200 \
    "any(.notifications[]; .ticket_id == $OPEN and (.kind | test(\"^sla_\")) and .actor_id == null and (.detail | type) == \"string\")"

# --- paging and marking read ---
req GET "/api/v1/notifications?limit=1" "" "$TOM"
is "newest first, a page of one" 200 '(.notifications | length) == 1 and (.next | type) == "number"'
NEXT=$(jq .next "$TMP/body")
FIRST=$(jq '.notifications[0].id' "$TMP/body")
req GET "/api/v1/notifications?limit=1&after=$NEXT" "" "$TOM"
is "the next page is older" 200 ".notifications[0].id < $FIRST"
req POST /api/v1/notifications/read "{\"ids\":[$N_REPLY,$N_ASSIGNED]}" "$TOM"
is "marking two read" 200 '.marked == 2'
UNREAD=$(jq .unread "$TMP/body")
req GET "/api/v1/notifications?unread=true" "" "$TOM"
is "they are no longer unread" 200 \
    ".unread == $UNREAD and all(.notifications[]; .id != $N_REPLY and .id != $N_ASSIGNED)"
req GET /api/v1/notifications "" "$TOM"
is "but still listed, with when they were read" 200 \
    ".notifications[] | select(.id == $N_REPLY) | .read == true and (.read_at | type) == \"string\""
req POST /api/v1/notifications/read "{\"ids\":[$N_REPLY]}" "$TOM"
is "marking one again changes nothing" 200 '.marked == 0'
req POST /api/v1/notifications/read "{\"ids\":[$N_REPLY]}" "$ZHANG"
is "someone else's notification is left alone" 200 '.marked == 0'
req POST /api/v1/notifications/read '{"all":true}' "$TOM"
is "marking all read" 200 '.unread == 0'

# --- refusals ---
req GET /api/v1/notifications "" "$CUST"
is "a customer who watches nothing has none (watchers.sh: what watchers get)" 200 \
    '.notifications == [] and .unread == 0'
req POST /api/v1/notifications/read '{"all":true}' "$CUST"
is "and marks their own" 200 '.marked == 0'
req GET /api/v1/notifications ""
is "without a login" 401
req GET "/api/v1/notifications?unread=yes" "" "$TOM"
is "unread: true or false" 400
req GET "/api/v1/notifications?limit=201" "" "$TOM"
is "limit: at most 200" 400
req GET "/api/v1/notifications?after=0" "" "$TOM"
is "after: an id" 400
req POST /api/v1/notifications/read '{}' "$TOM"
is "neither ids nor all" 400 '.pointer == "/ids"'
req POST /api/v1/notifications/read '{"ids":[1],"all":true}' "$TOM"
is "both ids and all" 400 '.pointer == "/all"'
req POST /api/v1/notifications/read '{"ids":[]}' "$TOM"
is "no ids" 400 '.pointer == "/ids"'
req POST /api/v1/notifications/read '{"ids":[1,"x"]}' "$TOM"
is "an id that is no id" 400 '.pointer == "/ids/1"'
req POST /api/v1/notifications/read "{\"ids\":[$(seq -s, 1 501)]}" "$TOM"
is "more than 500 ids" 413 '.pointer == "/ids"'
req POST /api/v1/notifications/read '{"all":"yes"}' "$TOM"
is "all is a boolean" 400 '.pointer == "/all"'

finish
