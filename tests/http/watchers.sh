#!/usr/bin/env bash
# Watchers over HTTP against `keepword serve --demo`: staff and the
# customers of a ticket's organisation follow and unfollow it (staff also
# add and remove others); watchers get in-app notifications of comments
# (customers only public ones) and state changes, staff watchers also the
# warnings, breaches and customer replies the assignee gets; a customer's
# list holds only their organisation's tickets; every refusal.
# usage: tests/http/watchers.sh PATH/TO/keepword
set -u
KW=${1:?usage: watchers.sh PATH/TO/keepword}
. "$(dirname "$0")/lib.sh"

KEEPWORD_ADMIN_PASSWORD=correct-horse "$KW" init --db "$TMP/kw.db" >/dev/null || exit 1
serve_start --demo
ADMIN=$(login admin@localhost correct-horse)
MGR=$(login manager@keepword.demo keepword-demo)
ZHANG=$(login zhang.wei@keepword.demo keepword-demo)
TOM=$(login tom@keepword.demo keepword-demo)
CUST=$(login it@huaxin.demo keepword-demo)
OTHER=$(login ops@dongfang.demo keepword-demo)
me() { curl -s "$B/api/v1/me" -H "Authorization: Bearer $1" | jq "$2"; }
TOM_ID=$(me "$TOM" .id)
ZHANG_ID=$(me "$ZHANG" .id)
CUST_ID=$(me "$CUST" .id)
CUST_ORG=$(me "$CUST" .org_id)
req POST /api/v1/users "{\"email\":\"wu@huaxin.demo\",\"name\":\"吴敏\",\"role\":\"customer\",\"org_id\":$CUST_ORG,\"password\":\"password-wu\"}" "$ADMIN"
is "a second contact of the customer's organisation" 201
WU_ID=$(jq .id "$TMP/body")
WU=$(login wu@huaxin.demo password-wu)
unread_all() { curl -s -o /dev/null -X POST "$B/api/v1/notifications/read" -H "Authorization: Bearer $1" \
    -H "Content-Type: application/json" -d '{"all":true}'; }
for t in "$TOM" "$ZHANG" "$CUST" "$WU"; do unread_all "$t"; done

req POST /api/v1/tickets '{"title":"打印机卡纸 in finance","level":"L3"}' "$CUST"
is "the customer opens a ticket" 201
T=$(jq .id "$TMP/body")
req GET "/api/v1/tickets/$T/watchers" "" "$CUST"
is "nobody watches a new ticket" 200 '.watchers == [] and .watching == false and .max == 50'

# --- following and unfollowing ---
req POST "/api/v1/tickets/$T/watchers" "" "$TOM"
is "an agent follows it (no body: themselves)" 201 \
    ".watching == true and .watchers[0].user_id == $TOM_ID and .watchers[0].name == \"Tom Becker\"
     and .watchers[0].role == \"agent\" and .watchers[0].added_by == $TOM_ID and (.watchers[0].at | type) == \"string\""
req POST "/api/v1/tickets/$T/watchers" "{}" "$TOM"
is "following again changes nothing" 200 '(.watchers | length) == 1'
req POST "/api/v1/tickets/$T/watchers" "{\"user_id\":$CUST_ID}" "$CUST"
is "the customer follows their own ticket" 201 ".watching == true and (.watchers | length) == 2"
req POST "/api/v1/tickets/$T/watchers" "{\"user_id\":$WU_ID}" "$ZHANG"
is "an agent adds the organisation's other contact" 201 \
    "[.watchers[].user_id] == [$TOM_ID, $CUST_ID, $WU_ID] and .watchers[2].added_by == $ZHANG_ID and .watching == false"
req GET "/api/v1/tickets/$T/watchers" "" "$WU"
is "who sees the list, and that they watch" 200 ".watching == true and (.watchers | length) == 3"
req GET "/api/v1/tickets/$T" "" "$CUST"
is "the ticket itself is unchanged (following is no event)" 200 '.events == 1'

# --- what watchers are told ---
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"我们已安排工程师上门。"}' "$ZHANG"
is "an agent replies" 201
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"need a new roller","internal":true}' "$ZHANG"
is "and writes an internal note" 201
req GET /api/v1/notifications "" "$CUST"
is "a customer watcher gets the public reply, not the note" 200 \
    ".unread == 1 and .notifications[0].kind == \"comment\" and .notifications[0].ticket_id == $T
     and .notifications[0].detail == \"我们已安排工程师上门。\" and .notifications[0].actor_name == \"张伟\""
req GET /api/v1/notifications "" "$TOM"
is "a staff watcher gets both" 200 \
    "[.notifications[] | select(.ticket_id == $T) | [.kind, .detail]]
     == [[\"comment\",\"need a new roller\"],[\"comment\",\"我们已安排工程师上门。\"]]"
req GET /api/v1/notifications "" "$ZHANG"
is "the author is not told of their own comment" 200 "all(.notifications[]; .ticket_id != $T)"
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"Thanks, we will be in the office."}' "$CUST"
req GET "/api/v1/notifications?unread=true" "" "$TOM"
is "a customer's reply reaches a staff watcher once, as a customer reply" 200 \
    "[.notifications[] | select(.ticket_id == $T) | .kind] == [\"customer_reply\",\"comment\",\"comment\"]"
req GET "/api/v1/notifications?unread=true" "" "$WU"
is "and the other customer watcher as a comment" 200 \
    '[.notifications[].kind] == ["comment","comment"] and .notifications[0].detail == "Thanks, we will be in the office."'
req GET "/api/v1/notifications?unread=true" "" "$CUST"
is "but not its author" 200 '.unread == 1'
req POST "/api/v1/tickets/$T/events" '{"type":"transition","to":"analysing"}' "$ZHANG"
is "the agent moves it" 201
req GET "/api/v1/notifications?limit=1" "" "$WU"
is "watchers are told of the move" 200 '.notifications[0].kind == "state" and .notifications[0].detail == "analysing"'
req PATCH "/api/v1/tickets/$T" "{\"assignee_id\":$ZHANG_ID}" "$ZHANG"
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"checking"}' "$CUST"
req GET "/api/v1/notifications" "" "$TOM"
is "a staff watcher gets the customer reply" 200 \
    "[.notifications[] | select(.ticket_id == $T)][0] | .kind == \"customer_reply\" and .detail == \"checking\""
req GET "/api/v1/notifications" "" "$ZHANG"
is "and the assignee too" 200 \
    "[.notifications[] | select(.ticket_id == $T)][0] | .kind == \"customer_reply\" and .detail == \"checking\""
req POST "/api/v1/tickets/$T/watchers" "" "$ZHANG"
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"again"}' "$CUST"
req GET /api/v1/notifications "" "$ZHANG"
is "an assignee who watches gets one notification per reply" 200 \
    "[.notifications[] | select(.ticket_id == $T and .detail == \"again\")] | length == 1"

# --- unfollowing ---
req DELETE "/api/v1/tickets/$T/watchers" "" "$CUST"
is "the customer unfollows" 200 ".watching == false and ([.watchers[].user_id] | index($CUST_ID)) == null"
req DELETE "/api/v1/tickets/$T/watchers" "" "$CUST"
is "unfollowing again changes nothing" 200 '.watching == false'
req POST "/api/v1/tickets/$T/events" '{"type":"comment","text":"no longer for the customer"}' "$ZHANG"
req GET /api/v1/notifications "" "$CUST"
is "and hears no more" 200 'all(.notifications[]; .detail != "no longer for the customer")'
req DELETE "/api/v1/tickets/$T/watchers?user_id=$WU_ID" "" "$MGR"
is "a manager removes a customer watcher" 200 "([.watchers[].user_id] | index($WU_ID)) == null"

# --- another organisation ---
OT=$(curl -s -X POST "$B/api/v1/tickets" -H "Authorization: Bearer $OTHER" -H "Content-Type: application/json" \
    -d '{"title":"VPN drops every hour","level":"L3"}' | jq .id)
req GET "/api/v1/tickets/$OT/watchers" "" "$CUST"
is "another organisation's ticket's watchers: not found" 404 '.detail == "no such ticket"'
req POST "/api/v1/tickets/$OT/watchers" "" "$CUST"
is "nor followed" 404
req DELETE "/api/v1/tickets/$OT/watchers" "" "$CUST"
is "nor unfollowed" 404
req POST "/api/v1/tickets/$OT/watchers" "{\"user_id\":$CUST_ID}" "$MGR"
is "staff cannot add a customer of another organisation" 400 \
    '.pointer == "/user_id" and (.detail | contains("another organisation"))'
sqlite3 -cmd ".timeout 10000" "$TMP/kw.db" "INSERT INTO watchers(ticket_id, user_id, added_by, at) VALUES ($OT, $CUST_ID, 1, 0)" ||
    check "a stray watcher row" 1
req POST "/api/v1/tickets/$OT/events" '{"type":"comment","text":"secret of dongfang"}' "$MGR"
req GET /api/v1/notifications "" "$CUST"
is "even a stray watcher row tells a customer nothing of another organisation" 200 \
    "all(.notifications[]; .ticket_id != $OT)"

# --- refusals ---
req POST "/api/v1/tickets/$T/watchers" "{\"user_id\":$TOM_ID}" "$CUST"
is "a customer adds only themselves" 403 '.pointer == "/user_id"'
req DELETE "/api/v1/tickets/$T/watchers?user_id=$TOM_ID" "" "$CUST"
is "and removes only themselves" 403 '.pointer == "/user_id"'
req POST "/api/v1/tickets/$T/watchers" '{"user_id":999999}' "$MGR"
is "an unknown person" 404 '.pointer == "/user_id"'
req POST "/api/v1/tickets/$T/watchers" '{"user_id":"tom"}' "$MGR"
is "a user_id that is no id" 400 '.pointer == "/user_id"'
req POST "/api/v1/tickets/$T/watchers" '{"user":1}' "$MGR"
is "an unknown member" 400
req POST "/api/v1/tickets/$T/watchers" '[1]' "$MGR"
is "a body that is no object" 400
req DELETE "/api/v1/tickets/$T/watchers?user_id=x" "" "$MGR"
is "a bad user_id parameter" 400
req GET "/api/v1/tickets/999999/watchers" "" "$MGR"
is "an unknown ticket" 404
req GET "/api/v1/tickets/$T/watchers" ""
is "without a login" 401
req PATCH "/api/v1/users/$WU_ID" '{"active":false}' "$ADMIN"
req POST "/api/v1/tickets/$T/watchers" "{\"user_id\":$WU_ID}" "$MGR"
is "a deactivated person" 400 '.pointer == "/user_id" and (.detail | contains("deactivated"))'
req PATCH "/api/v1/users/$WU_ID" '{"active":true}' "$ADMIN"
# the limit: 50 watchers on one ticket
for i in $(seq 1 47); do
    curl -s -o /dev/null -X POST "$B/api/v1/users" -H "Authorization: Bearer $ADMIN" -H "Content-Type: application/json" \
        -d "{\"email\":\"w$i@huaxin.demo\",\"name\":\"W$i\",\"role\":\"customer\",\"org_id\":$CUST_ORG,\"password\":\"password-w$i\"}"
done
for id in $(curl -s "$B/api/v1/users?org_id=$CUST_ORG&limit=500" -H "Authorization: Bearer $MGR" | jq '.users[] | select(.email | startswith("w")) | .id'); do
    curl -s -o /dev/null -X POST "$B/api/v1/tickets/$T/watchers" -H "Authorization: Bearer $MGR" \
        -H "Content-Type: application/json" -d "{\"user_id\":$id}"
done
req GET "/api/v1/tickets/$T/watchers" "" "$MGR"
is "fifty watchers" 200 '(.watchers | length) == 50'
req POST "/api/v1/tickets/$T/watchers" "{\"user_id\":$CUST_ID}" "$MGR"
is "the fifty-first is refused" 413 '.pointer == "/user_id" and (.detail | contains("at most 50"))'
req GET "/api/v1/tickets/$T/watchers" "" "$MGR"
is "and nothing was added" 200 '(.watchers | length) == 50'

finish
